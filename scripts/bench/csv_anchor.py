#!/usr/bin/python3
"""Anchors for the CSV loader benchmark (csv.lua): the same file read by pandas (c engine, and
pyarrow engine, polars and datatable when installed), each in its own process so peak RSS is
its own.

    csv_anchor.py FILE.csv THREADS

Prints bench lines: time (wall), cpu_time (steadier on a shared machine), rows/s, MB/s and peak RSS (ru_maxrss of the child).
"""
import os
import resource
import subprocess
import sys
import time

path, threads = sys.argv[1], int(sys.argv[2])
size = os.path.getsize(path)

READERS = {
    "pandas_c": "import pandas as pd; df = pd.read_csv(P, engine='c'); n = len(df)",
    "pandas_pyarrow": "import pandas as pd, pyarrow; df = pd.read_csv(P, engine='pyarrow'); n = len(df)",
    "polars": "import polars as pl; df = pl.read_csv(P, n_threads=T); n = df.height",
    "datatable": "import datatable as dt; df = dt.fread(P, nthreads=T); n = df.nrows",
}
CHILD = """
import resource, sys, time
P, T = sys.argv[1], int(sys.argv[2])
t, c = time.perf_counter(), time.process_time()
{code}
print(n, time.perf_counter() - t, time.process_time() - c,
      resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
"""
env = dict(os.environ, OMP_NUM_THREADS=str(threads), POLARS_MAX_THREADS=str(threads),
           ARROW_NUM_THREADS=str(threads))  # the pyarrow engine's CPU pool
for impl, code in READERS.items():
    r = subprocess.run([sys.executable, "-c", CHILD.format(code=code), path, str(threads)],
                       capture_output=True, text=True, env=env)
    if r.returncode != 0:
        if "ModuleNotFoundError" in r.stderr or "ImportError" in r.stderr:
            print(f"bench suite=csv case=mixed impl={impl} metric=skipped value=0 unit=none "
                  f"reason=not_installed threads={threads}")
            continue
        sys.stderr.write(r.stderr)
        continue
    rows, secs, cpu, rss = r.stdout.split()
    rows, secs, cpu, rss = int(rows), float(secs), float(cpu), float(rss)
    for metric, value, unit in [("time", secs, "s"), ("cpu_time", cpu, "s"), ("rows_per_s", rows / secs, "rows/s"),
                                ("mb_per_s", size / 1e6 / secs, "MB/s"), ("peak_rss", rss, "MiB")]:
        print(f"bench suite=csv case=mixed impl={impl} metric={metric} value={value:.6g} "
              f"unit={unit} threads={threads} rows={rows}")
