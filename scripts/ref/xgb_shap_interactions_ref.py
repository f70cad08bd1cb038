#!/usr/bin/env python3
"""Reference for churnlab's SHAP interaction values (m:shap(X, {interactions = true}),
tests/lua/shap_interactions.lua).

usage: /usr/bin/python3 scripts/ref/xgb_shap_interactions_ref.py      (from the repository root)

Loads the committed XGBoost models tests/data/xgb_import_logistic.json and
xgb_import_lossguide.json (scripts/ref/xgb_import_ref.py), draws 40 seeded query rows (8% of
the values missing, so default directions are exercised) and writes to
tests/data/xgb_shap_interactions_ref.lua the rows and, per model, XGBoost's
predict(pred_interactions=True) (n x (d + 1) x (d + 1), float32 as exact hex floats) and
predict(pred_contribs=True).
"""
import numpy as np
import xgboost as xgb


def hexs(v):
    return '"%s"' % float(v).hex()


def main():
    out = ["-- written by scripts/ref/xgb_shap_interactions_ref.py with XGBoost %s"
           % xgb.__version__, "return {"]
    rng = np.random.default_rng(23)
    models = ["logistic", "lossguide"]
    b0 = xgb.Booster(model_file="tests/data/xgb_import_logistic.json")
    d = b0.num_features()
    X = rng.normal(size=(40, d)).astype(np.float32)
    X[rng.random(size=X.shape) < 0.08] = np.nan
    out.append("  d = %d," % d)
    out.append("  X = {" + ", ".join("{" + ", ".join(hexs(v) for v in r) + "}" for r in X) + "},")
    for name in models:
        b = xgb.Booster(model_file="tests/data/xgb_import_%s.json" % name)
        dm = xgb.DMatrix(X, feature_names=b.feature_names)
        inter = b.predict(dm, pred_interactions=True)
        contrib = b.predict(dm, pred_contribs=True)
        out.append("  %s = {" % name)
        out.append("    interactions = {" + ", ".join(hexs(v) for v in inter.ravel()) + "},")
        out.append("    contribs = {" + ", ".join(hexs(v) for v in contrib.ravel()) + "},")
        out.append("  },")
    out.append("}")
    with open("tests/data/xgb_shap_interactions_ref.lua", "w") as f:
        f.write("\n".join(out) + "\n")


if __name__ == "__main__":
    main()
