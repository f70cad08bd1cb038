#!/usr/bin/python3
"""Numpy anchor for scripts/bench/rec_foldin.lua: one implicit-ALS fold-in as numpy does it.

  rec_foldin_numpy.py FACTORS ITEMS HISTORY

A = Y^T Y + reg I + sum_h alpha y_h y_h^T, b = sum_h (1 + alpha) y_h, x = solve(A, b) (the
exact solve of Hu, Koren, Volinsky for one user with the item factors fixed), scores = Y x,
the top 10 by argpartition with the history excluded. Y^T Y is precomputed, as churnlab keeps
it with the model. Random factors: the arithmetic is the same whatever their values.
"""
import sys
import time

import numpy as np

f, n_items, n_hist = (int(a) for a in sys.argv[1:4])
rng = np.random.default_rng(1)
Y = rng.normal(0, 0.1, (n_items, f)).astype(np.float32)
G = (Y.T.astype(np.float64) @ Y.astype(np.float64)) + 0.1 * np.eye(f)
hist = (np.arange(1, n_hist + 1) * 37) % n_items
alpha = 5.0


def fold_in():
    Yh = Y[hist].astype(np.float64)
    A = G + alpha * (Yh.T @ Yh)
    b = (1 + alpha) * Yh.sum(axis=0)
    x = np.linalg.solve(A, b)
    s = Y @ x.astype(np.float32)
    s[hist] = -np.inf
    top = np.argpartition(-s, 10)[:10]
    return top[np.argsort(-s[top])]


fold_in()
reps = 2000
t0 = time.perf_counter()
for _ in range(reps):
    fold_in()
ms = (time.perf_counter() - t0) / reps * 1000
print("bench suite=rec_foldin case=ml100k_als impl=numpy metric=ms_per_call value=%.6g unit=ms "
      "factors=%d history=%d k=10" % (ms, f, n_hist))
