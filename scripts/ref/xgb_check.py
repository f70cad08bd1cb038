#!/usr/bin/env python3
"""Checks a churnlab gbdt model exported with m:export_xgboost(path) against XGBoost itself.

usage: xgb_check.py MODEL.json X.csv MARGIN.csv SHAP.csv [TOL [PROB.csv]]

X.csv holds the feature rows (comma-separated, 'nan' = missing); MARGIN.csv churnlab's margins
(one per row); SHAP.csv churnlab's contributions (d + 1 per row, expected value last); PROB.csv
churnlab's predict() probabilities. MARGIN.csv or SHAP.csv may be '-' (not checked: a
prior-corrected model is exported with the correction folded into its base score, so its
XGBoost margins are churnlab's margins plus the shift). XGBoost loads the JSON, predicts
margins (output_margin=True), pred_contribs and probabilities, and every value given must
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
    pcsv = sys.argv[6] if len(sys.argv) > 6 else "-"
    X = np.loadtxt(xcsv, delimiter=",", ndmin=2, dtype=np.float32)
    b = xgb.Booster()
    b.load_model(model)
    dm = xgb.DMatrix(X, missing=np.nan)

    def rel(ours, theirs):
        return float(np.max(np.abs(theirs - ours) / np.maximum(1, np.abs(ours))))

    errs = []
    if mcsv != "-":
        errs.append(("margin", rel(np.loadtxt(mcsv, delimiter=",", ndmin=1),
                                   b.predict(dm, output_margin=True))))
    if scsv != "-":
        errs.append(("contributions", rel(np.loadtxt(scsv, delimiter=",", ndmin=2),
                                          b.predict(dm, pred_contribs=True))))
    if pcsv != "-":
        errs.append(("probability", rel(np.loadtxt(pcsv, delimiter=",", ndmin=1),
                                        b.predict(dm))))
    ok = bool(errs) and all(e <= tol for _, e in errs)
    print("xgboost %s: %d rows, max rel. diff %s (tol %g): %s"
          % (xgb.__version__, X.shape[0], ", ".join("%s %.3g" % e for e in errs), tol,
             "ok" if ok else "MISMATCH"))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
