#!/usr/bin/env python3
"""Checks a churnlab gbdt model exported with m:export_xgboost(path) against XGBoost itself.

usage: xgb_check.py MODEL.json X.csv MARGIN.csv SHAP.csv [TOL]

X.csv holds the feature rows (comma-separated, 'nan' = missing); MARGIN.csv churnlab's margins
(one per row); SHAP.csv churnlab's contributions (d + 1 per row, expected value last). XGBoost
loads the JSON, predicts margins (output_margin=True) and pred_contribs, and every value must
agree to TOL (default 1e-5, relative to max(1, |value|)). Prints one summary line; exit status 0
when everything agrees, 1 on a mismatch, 77 when xgboost is not installed (the caller skips).
"""
import sys

try:
    import numpy as np
    import xgboost as xgb
except ImportError as e:  # the Lua test reports a skip with this reason
    print("skip: python3-xgboost or numpy not installed (%s)" % e)
    sys.exit(77)


def main():
    model, xcsv, mcsv, scsv = sys.argv[1:5]
    tol = float(sys.argv[5]) if len(sys.argv) > 5 else 1e-5
    X = np.loadtxt(xcsv, delimiter=",", ndmin=2, dtype=np.float32)
    margin = np.loadtxt(mcsv, delimiter=",", ndmin=1)
    shap = np.loadtxt(scsv, delimiter=",", ndmin=2)
    b = xgb.Booster()
    b.load_model(model)
    dm = xgb.DMatrix(X, missing=np.nan)
    xm = b.predict(dm, output_margin=True)
    xc = b.predict(dm, pred_contribs=True)
    dm_err = np.max(np.abs(xm - margin) / np.maximum(1, np.abs(margin)))
    dc_err = np.max(np.abs(xc - shap) / np.maximum(1, np.abs(shap)))
    ok = dm_err <= tol and dc_err <= tol
    print("xgboost %s: %d rows, max rel. diff margin %.3g, contributions %.3g (tol %g): %s"
          % (xgb.__version__, X.shape[0], dm_err, dc_err, tol, "ok" if ok else "MISMATCH"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
