#!/usr/bin/env python3
"""Reference for sample weights in churnlab's fits (tests/lua/weights.lua).

usage: /usr/bin/python3 scripts/ref/weights_ref.py      (from the repository root)

Seeded data: 600 training and 300 test rows of 3 integer-valued features in 0..7 (so every
distinct value gets its own histogram bin in churnlab and XGBoost's exact split finder sees the
same candidate partitions), labels drawn from a logistic model with an interaction, and sample
weights drawn from {0.5, 1, 2, 3} (exact in float32). Written to tests/data/weights_ref.lua:
the rows, the weights, and
  - scikit-learn LogisticRegression(C = 0.5, lbfgs, tol 1e-12).fit(X, y, sample_weight = w):
    coefficients and intercept;
  - XGBoost (tree_method exact, max_depth 3, eta 0.3, lambda 1, min_child_weight 1, 12 rounds,
    base_score = the weighted mean label, which is churnlab's base score with weights) trained
    with sample_weight = w: test probabilities;
  - scikit-learn DecisionTreeClassifier(gini, max_depth 3, min_weight_fraction_leaf = 20 / sum(w),
    which is churnlab's min_leaf = 20 in weighted rows) with sample_weight = w: test P(y = 1);
  - scikit-learn RandomForestClassifier(4 trees, bootstrap = False, max_features = None (all 3
    features, churnlab's mtry = 3), the same depth and leaf rule) with sample_weight = w: test
    P(y = 1), the mean of the trees' weighted leaf proportions.
"""
import numpy as np
import sklearn
import xgboost as xgb
from sklearn.linear_model import LogisticRegression
from sklearn.ensemble import RandomForestClassifier
from sklearn.tree import DecisionTreeClassifier


def data(rng, n):
    X = rng.integers(0, 8, size=(n, 3)).astype(np.float32)
    z = 0.5 * X[:, 0] - 0.4 * X[:, 1] + 0.08 * X[:, 0] * X[:, 2] - 1.0
    y = (rng.random(n) < 1 / (1 + np.exp(-z))).astype(np.float32)
    return X, y


def lua_list(v, fmt="%.17g"):
    return "{" + ", ".join(fmt % float(x) for x in v) + "}"


def main():
    rng = np.random.default_rng(11)
    X, y = data(rng, 600)
    Xt, _ = data(rng, 300)
    w = rng.choice(np.array([0.5, 1, 2, 3], dtype=np.float32), size=600)
    lr = LogisticRegression(C=0.5, tol=1e-12, max_iter=100000)
    lr.fit(X.astype(np.float64), y, sample_weight=w.astype(np.float64))
    base = float(np.sum(w * y) / np.sum(w))
    d = xgb.DMatrix(X, label=y, weight=w)
    params = {"objective": "binary:logistic", "tree_method": "exact", "max_depth": 3, "eta": 0.3,
              "lambda": 1.0, "min_child_weight": 1.0, "base_score": base, "nthread": 1}
    b = xgb.train(params, d, num_boost_round=12)
    pt = b.predict(xgb.DMatrix(Xt))
    dt = DecisionTreeClassifier(max_depth=3, min_weight_fraction_leaf=20 / float(np.sum(w)),
                                random_state=0)
    dt.fit(X, y, sample_weight=w)
    ptree = dt.predict_proba(Xt)[:, 1]
    rf = RandomForestClassifier(n_estimators=4, bootstrap=False, max_features=None, max_depth=3,
                                min_weight_fraction_leaf=20 / float(np.sum(w)), random_state=0)
    rf.fit(X, y, sample_weight=w)
    pforest = rf.predict_proba(Xt)[:, 1]
    out = ["-- written by scripts/ref/weights_ref.py with scikit-learn %s, XGBoost %s"
           % (sklearn.__version__, xgb.__version__), "return {"]
    out.append("  X = {" + ", ".join(lua_list(r, "%g") for r in X) + "},")
    out.append("  y = " + lua_list(y, "%g") + ",")
    out.append("  w = " + lua_list(w, "%g") + ",")
    out.append("  Xt = {" + ", ".join(lua_list(r, "%g") for r in Xt) + "},")
    out.append("  logreg_C = 0.5,")
    out.append("  logreg_coef = " + lua_list(lr.coef_[0]) + ",")
    out.append("  logreg_intercept = %.17g," % lr.intercept_[0])
    out.append("  xgb_base = %.17g," % base)
    out.append("  xgb_prob = " + lua_list(pt) + ",")
    out.append("  tree_min_leaf = 20,")
    out.append("  tree_prob = " + lua_list(ptree) + ",")
    out.append("  forest_prob = " + lua_list(pforest) + ",")
    out.append("}")
    with open("tests/data/weights_ref.lua", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
