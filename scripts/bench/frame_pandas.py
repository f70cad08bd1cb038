#!/usr/bin/python3
"""pandas anchor for scripts/bench/frame.lua: the same load, group-by-mean and join.

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
emit("all", "peak_rss", hwm_kib() / 1024, "MiB")
print(f"check pandas rows={len(df)} groups={len(g)} g0={g.iloc[0]:.10g} join_rows={len(j)}")
