#!/usr/bin/python3
"""pandas anchor for scripts/bench/frame.lua: the same load, group-by-mean, join, outer join,
pivot table, two-key group-by (mean, 90% quantile, distinct counts) and drop_duplicates.

    frame_pandas.py DATA.csv DIM.csv

Prints "bench ..." lines (impl=pandas). Peak memory is this process's VmHWM after loading.
"""
import sys
import time

import pandas as pd


def hwm_kib():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1


def emit(case, metric, value, unit):
    print(f"bench suite=frame case={case} impl=pandas metric={metric} value={value:.6g} unit={unit}")


data, dim = sys.argv[1], sys.argv[2]
t, c = time.perf_counter(), time.process_time()
df = pd.read_csv(data)
emit("load_1m", "time", time.perf_counter() - t, "s")
emit("load_1m", "cpu_time", time.process_time() - c, "s")
emit("load_1m", "peak_rss", hwm_kib() / 1024, "MiB")
t, c = time.perf_counter(), time.process_time()
g = df.groupby("c2")["f2"].mean()
emit("groupby_mean", "time", time.perf_counter() - t, "s")
emit("groupby_mean", "cpu_time", time.process_time() - c, "s")
d = pd.read_csv(dim)
t, c = time.perf_counter(), time.process_time()
j = df.merge(d, on="c3", how="inner")
emit("join", "time", time.perf_counter() - t, "s")
emit("join", "cpu_time", time.process_time() - c, "s")
t, c = time.perf_counter(), time.process_time()
jo = len(df.merge(d, on="c3", how="outer"))
emit("join_outer", "time", time.perf_counter() - t, "s")
emit("join_outer", "cpu_time", time.process_time() - c, "s")
t, c = time.perf_counter(), time.process_time()
pv = df.pivot_table(index="c2", columns="c1", values="f2", aggfunc="mean")
emit("pivot_table", "time", time.perf_counter() - t, "s")
emit("pivot_table", "cpu_time", time.process_time() - c, "s")
t, c = time.perf_counter(), time.process_time()
gg = df.groupby(["c1", "c2"])
gm = pd.DataFrame({"f2_mean": gg["f2"].mean(), "f2_q90": gg["f2"].quantile(0.9),
                   "c3_nunique": gg["c3"].nunique()})
emit("groupby_multi", "time", time.perf_counter() - t, "s")
emit("groupby_multi", "cpu_time", time.process_time() - c, "s")
t, c = time.perf_counter(), time.process_time()
dd = df.drop_duplicates(subset=["c2", "c3"])
emit("drop_duplicates", "time", time.perf_counter() - t, "s")
emit("drop_duplicates", "cpu_time", time.process_time() - c, "s")
emit("all", "peak_rss", hwm_kib() / 1024, "MiB")
print(f"check pandas rows={len(df)} groups={len(g)} g0={g.iloc[0]:.10g} join_rows={len(j)}")
print(f"check pandas outer_rows={jo} pivot={pv.shape[0]}x{pv.shape[1] + 1} p0={pv.iloc[0, 0]:.10g} "
      f"multi_groups={len(gm)} q90_0={gm.f2_q90.iloc[0]:.10g} nunique_0={gm.c3_nunique.iloc[0]} "
      f"dedup_rows={len(dd)}")
