#!/usr/bin/env python3
"""Reference models for churnlab's XGBoost JSON import (cl.xgboost.load, tests/lua/xgb_import.lua).

usage: /usr/bin/python3 scripts/ref/xgb_import_ref.py      (from the repository root)

Trains three small XGBoost models on seeded synthetic data (missing values included) and
writes, for each NAME, tests/data/xgb_import_NAME.json (Booster.save_model) plus one Lua file
tests/data/xgb_import_expect.lua with the query rows and XGBoost's own outputs on them:
predict (probabilities, or values for squared error), predict(output_margin=True) and
predict(pred_contribs=True) (d + 1 per row, the bias last), all float32 as exact hex floats.
The Lua test imports the JSON and compares churnlab's predict and shap with these values.
"""
import sys

import numpy as np
import xgboost as xgb


def data(rng, n, d):
    X = rng.normal(size=(n, d)).astype(np.float32)
    X[rng.random(size=(n, d)) < 0.08] = np.nan  # missing values: learned default directions
    z = np.nan_to_num(X[:, 0]) - 0.8 * np.nan_to_num(X[:, 1]) * np.nan_to_num(X[:, 2]) \
        + 0.5 * np.isnan(X[:, 3]) + 0.3 * rng.normal(size=n)
    return X, z


def hexs(v):
    return '"%s"' % float(v).hex()


def main():
    rng = np.random.default_rng(20)
    d = 5
    X, z = data(rng, 600, d)
    Q, _ = data(rng, 25, d)
    ybin = (z > 0.2).astype(np.float32)
    names = ["tenure", "charges", "usage", "calls", "plan_age"]
    models = [
        ("logistic", {"objective": "binary:logistic", "max_depth": 4, "eta": 0.3,
                      "lambda": 1.5, "min_child_weight": 2, "seed": 1}, ybin, 30, names),
        ("lossguide", {"objective": "binary:logistic", "grow_policy": "lossguide",
                       "max_leaves": 9, "max_depth": 0, "tree_method": "hist", "eta": 0.2,
                       "base_score": 0.3, "scale_pos_weight": 2.0, "subsample": 0.8,
                       "colsample_bytree": 0.8, "seed": 3}, ybin, 25, None),
        ("squared", {"objective": "reg:squarederror", "max_depth": 3, "eta": 0.25,
                     "base_score": float(np.mean(z)), "seed": 2}, z.astype(np.float32), 20,
         names),
    ]
    out = ["-- written by scripts/ref/xgb_import_ref.py with XGBoost %s: exact float32 values"
           % xgb.__version__, "return {"]
    rows = []
    for r in Q:
        rows.append("{" + ", ".join("0 / 0" if np.isnan(v) else hexs(v) for v in r) + "}")
    out.append("  Q = {" + ", ".join(rows) + "},")
    for name, params, y, rounds, fn in models:
        dm = xgb.DMatrix(X, label=y, missing=np.nan, feature_names=fn)
        b = xgb.train(params, dm, rounds)
        path = "tests/data/xgb_import_%s.json" % name
        b.save_model(path)
        dq = xgb.DMatrix(Q, missing=np.nan, feature_names=fn)
        pred = b.predict(dq)
        margin = b.predict(dq, output_margin=True)
        contrib = b.predict(dq, pred_contribs=True)
        out.append("  %s = {" % name)
        out.append("    ntrees = %d," % rounds)
        out.append("    predict = {" + ", ".join(hexs(v) for v in pred) + "},")
        out.append("    margin = {" + ", ".join(hexs(v) for v in margin) + "},")
        out.append("    shap = {" + ", ".join(hexs(v) for v in contrib.reshape(-1)) + "},")
        out.append("  },")
        print("wrote " + path)
    out.append("}")
    with open("tests/data/xgb_import_expect.lua", "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote tests/data/xgb_import_expect.lua")
    return 0


if __name__ == "__main__":
    sys.exit(main())
