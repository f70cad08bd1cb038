#!/usr/bin/python3
"""treeshap_xgb.py MODEL.json X.f32 N D PHI.f32 - the XGBoost anchor of bench/treeshap.c.

Loads the churnlab model exported to XGBoost's JSON format and the same rows (float32, N x D
row-major), times Booster.predict(pred_contribs=True) at nthread=1 (best of 5, after one warm-up)
and prints it as a bench line; also the largest difference between XGBoost's contributions and
churnlab's (PHI.f32, N x (D + 1) float32): both are exact TreeSHAP of the same trees, so they
agree to float32 rounding.
"""
import sys
import time

import numpy as np

try:
    import xgboost as xgb
except ImportError:  # the anchor is optional: say so in the machine-readable output
    print("bench suite=treeshap case=gbdt300d6 impl=xgboost skipped=xgboost_not_installed")
    sys.exit(0)


def main():
    model, xpath, n, d, phipath = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
    X = np.fromfile(xpath, dtype=np.float32).reshape(n, d)
    ours = np.fromfile(phipath, dtype=np.float32).reshape(n, d + 1)
    b = xgb.Booster(params={"nthread": 1})
    b.load_model(model)
    dm = xgb.DMatrix(X, missing=np.nan)
    phi = b.predict(dm, pred_contribs=True)
    best = float("inf")
    for _ in range(5):
        t0 = time.perf_counter()
        b.predict(dm, pred_contribs=True)
        best = min(best, time.perf_counter() - t0)
    diff = float(np.max(np.abs(phi - ours)))
    print(f"bench suite=treeshap case=gbdt300d6 impl=xgboost-{xgb.__version__} threads=1 "
          f"metric=us_per_row value={best / n * 1e6:.2f} unit=us max_abs_diff_vs_churnlab={diff:.3g}")


if __name__ == "__main__":
    main()
