#!/usr/bin/python3
"""Deterministic mixed CSV for the loader benchmark (csv.lua): N rows x 20 columns.

    csv_gen.py OUT.csv [N=1000000]

Columns: 4 integer, 4 floats with 2-6 decimals, 2 floats printed with 17 significant digits
(%.17g: the strtod slow path of most loaders), 1 scientific, 2 ISO dates, 1 date-time,
4 categorical (3 to 20000 labels), 1 quoted free text holding commas and doubled quotes,
1 integer column with 1% empty fields. Same output on every run (numpy Generator seeded 7).
Never committed: written under build/bench-data/.
"""
import sys

import numpy as np

out = sys.argv[1]
n = int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000
rng = np.random.default_rng(7)
cols = {}
for j in range(4):
    cols[f"i{j}"] = rng.integers(-10 ** (j + 2), 10 ** (j + 3), n).astype(str)
for j in range(4):
    cols[f"f{j}"] = np.char.mod(f"%.{2 + j}f", rng.normal(0, 10 ** j, n))
for j in range(2):
    cols[f"g{j}"] = np.char.mod("%.17g", rng.gamma(2.0, 3.0, n))
cols["e0"] = np.char.mod("%.6e", rng.lognormal(0, 8, n))
day0 = np.datetime64("1990-01-01")
for j in range(2):
    cols[f"d{j}"] = (day0 + rng.integers(0, 12000, n).astype("timedelta64[D]")).astype(str)
ts = np.datetime64("2020-01-01T00:00:00") + rng.integers(0, 10 ** 8, n).astype("timedelta64[s]")
cols["t0"] = np.char.replace(ts.astype(str), "T", " ")
for k, c in enumerate([3, 60, 1000, 20000]):
    labels = np.array([f"lab{k}_{i:05d}" for i in range(c)])
    cols[f"c{k}"] = labels[rng.integers(0, c, n)]
words = np.array(['"plain"', '"a, b"', '"say ""hi"""', '"x,y,z"', '"nothing odd"'])
cols["q0"] = words[rng.integers(0, len(words), n)]
m = rng.integers(0, 100000, n).astype(str)
m[rng.random(n) < 0.01] = ""
cols["m0"] = m
names = list(cols)
with open(out, "w") as f:
    f.write(",".join(names) + "\n")
    chunk = 100_000
    for s in range(0, n, chunk):
        block = np.column_stack([cols[k][s:s + chunk] for k in names])
        f.write("\n".join(",".join(r) for r in block) + "\n")
