#!/usr/bin/python3
"""Deterministic CSV for the frame benchmark: N rows, 20 numeric and 5 categorical columns,
plus the small dimension table the join uses.

    frame_gen.py OUT.csv DIM.csv [N=1000000]

Numeric columns mix floats with up to 6 decimals, integers, and a few missing values;
categorical columns have 3, 12, 60, 1000 and 20000 distinct labels. Same output on every run
(numpy Generator seeded 42). Never committed: written under build/ or /tmp.
"""
import sys

import numpy as np

out, dim = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1_000_000
rng = np.random.default_rng(42)
cols = {}
for j in range(20):
    if j % 5 == 0:
        v = rng.integers(0, 1000, n).astype(str)
    elif j % 5 == 1:
        v = np.char.mod("%.2f", rng.gamma(2.0, 30.0, n))
    else:
        v = np.char.mod("%.6f", rng.normal(0, 1, n))
    if j % 7 == 3:
        v[rng.random(n) < 0.01] = ""
    cols[f"f{j}"] = v
cards = [3, 12, 60, 1000, 20000]
for k, c in enumerate(cards):
    labels = np.array([f"c{k}_{i:05d}" for i in range(c)])
    cols[f"c{k}"] = labels[rng.integers(0, c, n)]
names = list(cols)
with open(out, "w") as f:
    f.write(",".join(names) + "\n")
    chunk = 100_000
    for s in range(0, n, chunk):
        block = np.column_stack([cols[k][s:s + chunk] for k in names])
        f.write("\n".join(",".join(r) for r in block) + "\n")
with open(dim, "w") as f:
    f.write("c3,region,weight\n")
    for i in range(1000):
        f.write(f"c3_{i:05d},r{i % 7},{(i * 37 % 101) / 10:.1f}\n")
