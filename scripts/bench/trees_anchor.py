#!/usr/bin/env python3
"""Anchors for scripts/bench/trees.lua: XGBoost (tree_method="hist"), scikit-learn's
HistGradientBoostingClassifier and RandomForestClassifier on the same synthetic data as
churnlab (rebuilt here bit for bit from the counter-based hash of cl.synth.bench_data (core/synth/synth_bench.c)).

usage: trees_anchor.py IMPL KIND N_TRAIN N_TEST D SEED THREADS TREES DEPTH LR BINS
  IMPL: xgboost | hgb | rf     KIND: numeric | cat
Prints `bench suite=trees case=<kind>-<model> impl=<xgboost|sklearn> metric=... value=... unit=...`
lines: train_s, predict_rows_per_s, peak_mb (VmHWM of this process), test_auc.
TREES_BENCH_VALIDATE=1 (as trees.lua): score the 20,000 rows after the training rows of the
same draw instead of the test set, and print val_auc.
"""
import os
import sys
import time

import numpy as np

M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def mix64(z):
    z = z + np.uint64(0x9E3779B97F4A7C15)
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return z ^ (z >> np.uint64(31))


def hash_u(seed, stream, i):
    with np.errstate(over="ignore"):
        base = np.uint64(seed) * np.uint64(0x100000001B3) + np.uint64(stream) * np.uint64(
            0x9E3779B97F4A7C15)
        h = mix64(base + i)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def bench_data(n, d, kind, seed):
    cat = kind == "cat"
    i = np.arange(n, dtype=np.uint64)
    X = np.empty((n, d), dtype=np.float32)
    with np.errstate(over="ignore"):
        for j in range(d):
            u = hash_u(seed, j, i)
            if cat and j < 8:
                X[:, j] = np.floor(u * (6 * (j + 1))).astype(np.float32)
            else:
                X[:, j] = (4 * u - 2).astype(np.float32)
                if cat and j % 5 == 0:
                    X[hash_u(seed, 1000 + j, i) < 0.1, j] = np.nan
    x = X.astype(np.float64)
    if cat:
        a = np.where(np.isnan(x[:, 10]), 1.0, x[:, 10])
        z = (a + 0.5 * x[:, 11] - 0.75 * x[:, 12] + x[:, 13] * x[:, 14]
             + np.where(X[:, 0].astype(np.int64) % 3 == 1, 1.0, -0.5)
             + np.where(X[:, 1].astype(np.int64) < 4, 0.8, 0.0) + 0.3 * x[:, 2] / 18.0)
    else:
        z = (x[:, 0] + 0.5 * x[:, 1] - 0.75 * x[:, 2] + x[:, 3] * x[:, 4]
             + 0.5 * x[:, 5] * x[:, 5] - 0.4 * x[:, 6] * x[:, 7] + 0.2 * x[:, 8])
    u = np.maximum(hash_u(seed, 999999, i), 1e-12)
    z = z + 0.8 * np.log(u / (1 - u))
    return X, (z > 0).astype(np.float32)


def auc(p, y):
    from sklearn.metrics import roc_auc_score
    return roc_auc_score(y, p)


def vmhwm_mb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def main():
    (impl, kind, n_train, n_test, d, seed, threads, trees, depth, lr, bins) = sys.argv[1:12]
    n_train, n_test, d, seed, threads = int(n_train), int(n_test), int(d), int(seed), int(threads)
    trees, depth, lr, bins = int(trees), int(depth), float(lr), int(bins)
    auc_name = "test_auc"
    if os.environ.get("TREES_BENCH_VALIDATE") == "1":
        # as trees.lua: the 20,000 rows after the training rows of the same draw validate
        n_test, auc_name = 20000, "val_auc"
        Xa, ya = bench_data(n_train + n_test, d, kind, seed)
        Xtr, ytr, Xte, yte = Xa[:n_train], ya[:n_train], Xa[n_train:], ya[n_train:]
    else:
        Xtr, ytr = bench_data(n_train, d, kind, seed)
        Xte, yte = bench_data(n_test, d, kind, seed + 1)
    ncat = 8 if kind == "cat" else 0
    if impl == "xgboost":
        import xgboost as xgb
        model = "gbdt"
        ft = ["c"] * ncat + ["q"] * (d - ncat) if ncat else None
        t0 = time.perf_counter()
        dtr = xgb.DMatrix(Xtr, label=ytr, missing=np.nan, nthread=threads, feature_types=ft,
                          enable_categorical=bool(ncat))
        bst = xgb.train({"tree_method": "hist", "max_depth": depth, "eta": lr, "max_bin": bins,
                         "objective": "binary:logistic", "nthread": threads,
                         "max_cat_to_onehot": 1}, dtr, trees)
        train_s = time.perf_counter() - t0
        dte = xgb.DMatrix(Xte, missing=np.nan, nthread=threads, feature_types=ft,
                          enable_categorical=bool(ncat))
        t0 = time.perf_counter()
        p = bst.predict(dte)
        pred_s = time.perf_counter() - t0
        name = "xgboost"
    elif impl == "hgb":
        from sklearn.ensemble import HistGradientBoostingClassifier
        from threadpoolctl import threadpool_limits
        model = "gbdt"
        with threadpool_limits(threads):
            clf = HistGradientBoostingClassifier(
                max_iter=trees, learning_rate=lr, max_depth=depth, max_leaf_nodes=2 ** depth,
                max_bins=bins, early_stopping=False,
                categorical_features=(list(range(ncat)) if ncat else None))
            t0 = time.perf_counter()
            clf.fit(Xtr, ytr)
            train_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            p = clf.predict_proba(Xte)[:, 1]
            pred_s = time.perf_counter() - t0
        name = "sklearn"
    elif impl == "rf":
        from sklearn.ensemble import RandomForestClassifier
        model = "forest"
        Xtr_rf = np.nan_to_num(Xtr, nan=-999.0)  # sklearn 1.2's forest has no missing values
        Xte_rf = np.nan_to_num(Xte, nan=-999.0)
        clf = RandomForestClassifier(n_estimators=trees, max_depth=depth or None,
                                     max_features="sqrt", n_jobs=threads, random_state=seed)
        t0 = time.perf_counter()
        clf.fit(Xtr_rf, ytr)
        train_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        p = clf.predict_proba(Xte_rf)[:, 1]
        pred_s = time.perf_counter() - t0
        name = "sklearn"
    else:
        sys.exit("unknown impl " + impl)
    case = "%s-%s" % (kind, model)
    extra = "n_train=%d d=%d trees=%d depth=%d threads=%d" % (n_train, d, trees, depth, threads)
    print("bench suite=trees case=%s impl=%s metric=train_s value=%.3f unit=s %s"
          % (case, name, train_s, extra))
    print("bench suite=trees case=%s impl=%s metric=predict_rows_per_s value=%.0f unit=rows/s %s"
          % (case, name, n_test / pred_s, extra))
    print("bench suite=trees case=%s impl=%s metric=peak_mb value=%.0f unit=MB %s"
          % (case, name, vmhwm_mb(), extra))
    print("bench suite=trees case=%s impl=%s metric=%s value=%.5f unit=auc %s"
          % (case, name, auc_name, auc(p, yte), extra))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
