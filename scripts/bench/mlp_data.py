"""Shared reader of the MLP/logreg benchmark data written by scripts/bench/mlp.lua.

Binary rows of 16 bytes: 15 active one-hot column indices (uint8, one per group of 7
columns, 105 columns in all) and the 0/1 label. Returns dense float32 X and float32 y.
"""
import numpy as np

GROUPS, LEVELS = 15, 7


def load(path):
    raw = np.fromfile(path, dtype=np.uint8).reshape(-1, GROUPS + 1)
    n = raw.shape[0]
    X = np.zeros((n, GROUPS * LEVELS), dtype=np.float32)
    X[np.repeat(np.arange(n), GROUPS), raw[:, :GROUPS].astype(np.int64).ravel()] = 1.0
    return X, raw[:, GROUPS].astype(np.float32)
