#!/usr/bin/python3
"""scikit-learn anchor for scripts/bench/mlp.lua: MLPClassifier((64, 64), relu, adam 1e-3,
alpha 0, shuffled mini-batches) for exactly EPOCHS epochs on the same files. Threads are
OpenBLAS's, set through the environment before numpy loads (the Lua driver sets
OPENBLAS_NUM_THREADS and OMP_NUM_THREADS).

usage: mlp_sklearn.py DATA_DIR BATCH EPOCHS THREADS
"""
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import numpy as np
from sklearn.metrics import roc_auc_score
from sklearn.neural_network import MLPClassifier

import mlp_data

warnings.filterwarnings("ignore")
data, batch, epochs, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
Xtr, ytr = mlp_data.load(os.path.join(data, "train.bin"))
Xte, yte = mlp_data.load(os.path.join(data, "test.bin"))
m = MLPClassifier(hidden_layer_sizes=(64, 64), activation="relu", solver="adam",
                  learning_rate_init=1e-3, alpha=0.0, batch_size=batch, max_iter=epochs,
                  shuffle=True, tol=0.0, n_iter_no_change=10 ** 9, random_state=1)
t0 = time.perf_counter()
m.fit(Xtr, ytr)
secs = time.perf_counter() - t0
auc = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
case = "batch%d" % batch
print("bench suite=mlp case=%s impl=sklearn metric=samples_per_s value=%.0f unit=samples/s threads=%d"
      % (case, len(ytr) * epochs / secs, threads))
print("bench suite=mlp case=%s impl=sklearn metric=auc value=%.5f unit=auc threads=%d" % (case, auc, threads))
