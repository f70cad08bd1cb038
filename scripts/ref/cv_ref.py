#!/usr/bin/python3
"""Reference values for lua/churnlab/model_selection.lua from scikit-learn.

Writes tests/data/cv_ref.csv (a small churn-like frame with a missing-value numeric column, two
categorical columns and a `fold` column from StratifiedKFold(5, shuffle=True, random_state=0))
and tests/data/cv_ref.txt: `<key> <count> <values...>` lines (%.17g) with the per-fold ROC AUC
and log loss of cross_validate on those folds for LogisticRegression(C) inside a Pipeline
(median imputation + MinMaxScaler on numbers, OneHotEncoder on categories, fitted per fold),
and GridSearchCV's mean test AUC per C and its best C. Run from the repository root:
    /usr/bin/python3 scripts/ref/cv_ref.py
"""
import numpy as np
import pandas as pd
import sklearn
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV, PredefinedSplit, StratifiedKFold, cross_validate
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import MinMaxScaler, OneHotEncoder

rng = np.random.default_rng(20)
n = 400
tenure = np.round(rng.uniform(0, 72, n), 1)
charges = np.round(rng.uniform(18, 120, n), 2)
plan = rng.choice(["basic", "plus", "pro"], n)
region = rng.choice(["n", "s", "e", "w"], n)
logit = -0.04 * tenure + 0.02 * charges + np.where(plan == "basic", 0.8, 0.0) - 0.5
churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
charges_obs = charges.copy()
charges_obs[rng.random(n) < 0.05] = np.nan
fold = np.empty(n, dtype=int)
for q, (_, te) in enumerate(StratifiedKFold(5, shuffle=True, random_state=0).split(tenure, churn)):
    fold[te] = q
df = pd.DataFrame({"tenure": tenure, "charges": charges_obs, "plan": plan, "region": region,
                   "churn": churn, "fold": fold})
df.to_csv("tests/data/cv_ref.csv", index=False, float_format="%.17g")

X = df[["tenure", "charges", "plan", "region"]]
y = (df.churn == "Yes").astype(int).to_numpy()
ps = PredefinedSplit(fold)


def model(C):
    pre = ColumnTransformer([
        ("num", make_pipeline(SimpleImputer(strategy="median"), MinMaxScaler()),
         ["tenure", "charges"]),
        ("cat", OneHotEncoder(handle_unknown="ignore"), ["plan", "region"])])
    return Pipeline([("pre", pre), ("lr", LogisticRegression(C=C, tol=1e-10, max_iter=10000))])


out = []
r = cross_validate(model(0.5), X, y, cv=ps, scoring=["roc_auc", "neg_log_loss"])
out.append(("cv_auc", r["test_roc_auc"]))
out.append(("cv_logloss", -r["test_neg_log_loss"]))
grid = [0.001, 0.01, 0.1, 1.0, 10.0]
g = GridSearchCV(model(1.0), {"lr__C": grid}, cv=ps, scoring="roc_auc").fit(X, y)
out.append(("grid_C", np.array(grid)))
out.append(("grid_mean_auc", g.cv_results_["mean_test_score"]))
out.append(("grid_best_C", np.array([g.best_params_["lr__C"]])))
with open("tests/data/cv_ref.txt", "w") as f:
    f.write(f"# scripts/ref/cv_ref.py, scikit-learn {sklearn.__version__}\n")
    for k, v in out:
        f.write(k + " " + str(len(v)) + " " + " ".join("%.17g" % x for x in v) + "\n")
print(open("tests/data/cv_ref.txt").read())
