#!/usr/bin/env python3
"""Reference for churnlab's gbdt monotone constraints (tests/lua/monotone.lua).

usage: /usr/bin/python3 scripts/ref/xgb_monotone_ref.py      (from the repository root)

Seeded data: 4 features, the churn log-odds rise with x1, fall with x2 (each with a wiggle
that an unconstrained model follows), x3 and x4 free; 20% of the labels flipped. XGBoost
(tree_method hist, depth 3, eta 0.1, 80 rounds) is trained with monotone_constraints
(1,-1,0,0) and without; tests/data/xgb_monotone_ref.lua gets the training and test rows (exact
hex floats) and XGBoost's test predictions and test AUC for both models.
"""
import sys

import numpy as np
import xgboost as xgb


def auc(p, y):
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    ps = p[order]
    i = 0
    while i < len(p):  # average ranks over ties
        j = i
        while j + 1 < len(p) and ps[j + 1] == ps[i]:
            j += 1
        ranks[order[i:j + 1]] = (i + j) / 2 + 1
        i = j + 1
    npos = y.sum()
    return (ranks[y == 1].sum() - npos * (npos + 1) / 2) / (npos * (len(y) - npos))


def data(rng, n):
    X = rng.uniform(-2, 2, size=(n, 4)).astype(np.float32)
    z = 1.2 * X[:, 0] + 0.6 * np.sin(4 * X[:, 0]) - 1.0 * X[:, 1] - 0.5 * np.sin(5 * X[:, 1]) \
        + 0.5 * X[:, 2] * X[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.float32)
    return X, y


def rows(X):
    return "{" + ", ".join("{" + ", ".join('"%s"' % float(v).hex() for v in r) + "}"
                           for r in X) + "}"


def main():
    rng = np.random.default_rng(7)
    X, y = data(rng, 1500)
    Xt, yt = data(rng, 1000)
    out = ["-- written by scripts/ref/xgb_monotone_ref.py with XGBoost %s" % xgb.__version__,
           "return {",
           "  X = " + rows(X) + ",",
           "  y = {" + ", ".join("%d" % v for v in y) + "},",
           "  Xt = " + rows(Xt) + ",",
           "  yt = {" + ", ".join("%d" % v for v in yt) + "},"]
    base = {"objective": "binary:logistic", "tree_method": "hist", "max_depth": 3, "eta": 0.1,
            "lambda": 1.0, "min_child_weight": 1.0, "max_bin": 255, "base_score": 0.5}
    for name, mono in (("constrained", "(1,-1,0,0)"), ("free", "(0,0,0,0)")):
        params = dict(base, monotone_constraints=mono)
        b = xgb.train(params, xgb.DMatrix(X, label=y), 80)
        p = b.predict(xgb.DMatrix(Xt))
        out.append("  %s = {auc = %r, predict = {%s}}," % (
            name, float(auc(p.astype(np.float64), yt)),
            ", ".join('"%s"' % float(v).hex() for v in p)))
        print("%s: test AUC %.5f" % (name, auc(p.astype(np.float64), yt)))
    out.append("}")
    with open("tests/data/xgb_monotone_ref.lua", "w") as f:
        f.write("\n".join(out) + "\n")
    print("wrote tests/data/xgb_monotone_ref.lua")
    return 0


if __name__ == "__main__":
    sys.exit(main())
