#!/usr/bin/python3
"""scikit-learn anchor for scripts/bench/logreg.lua: LogisticRegression (lbfgs, L2, C = 1,
defaults otherwise) on the same one-hot files; prints fit seconds, iterations and test AUC.

usage: logreg_sklearn.py DATA_DIR THREADS
"""
import os
import sys
import time
import warnings

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

import mlp_data

warnings.filterwarnings("ignore")
data, threads = sys.argv[1], int(sys.argv[2])
Xtr, ytr = mlp_data.load(os.path.join(data, "train.bin"))
Xte, yte = mlp_data.load(os.path.join(data, "test.bin"))
m = LogisticRegression(C=1.0, max_iter=1000)
t0 = time.perf_counter()
m.fit(Xtr, ytr)
secs = time.perf_counter() - t0
auc = roc_auc_score(yte, m.predict_proba(Xte)[:, 1])
print("bench suite=logreg case=onehot200k impl=sklearn metric=fit_s value=%.4f unit=s threads=%d iters=%d"
      % (secs, threads, m.n_iter_[0]))
print("bench suite=logreg case=onehot200k impl=sklearn metric=auc value=%.5f unit=auc threads=%d" % (auc, threads))
