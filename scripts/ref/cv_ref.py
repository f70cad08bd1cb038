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

# ---- time-ordered splits (issue 20): tests/data/cv_time_ref.txt -------------------------------
# ts_<name> lines: for each fold, "train_first train_last test_first test_last" (1-based rows)
# of TimeSeriesSplit on n rows; tts_<pct> the test rows of train_test_split(shuffle=False);
# ts_cv_auc: cross_validate's per-fold AUC of model(0.5) on cv_ref.csv's rows in file order
# with TimeSeriesSplit(4, gap=10) (the rows taken as sorted by a time column = row number).
from sklearn.model_selection import TimeSeriesSplit, train_test_split  # noqa: E402

tout = []
configs = {"n123_k5": (123, dict(n_splits=5)),
           "n123_k4_gap3": (123, dict(n_splits=4, gap=3)),
           "n123_k3_ts20_max50": (123, dict(n_splits=3, test_size=20, max_train_size=50)),
           "n50_k6_gap2_ts5": (50, dict(n_splits=6, gap=2, test_size=5))}
for name, (nn, kw) in configs.items():
    v = []
    for tr, te in TimeSeriesSplit(**kw).split(np.zeros(nn)):
        v += [tr[0] + 1, tr[-1] + 1, te[0] + 1, te[-1] + 1]
    tout.append(("ts_" + name, np.array(v)))
for pct in [0.2, 0.25, 0.33]:
    _, te = train_test_split(np.arange(123), test_size=pct, shuffle=False)
    tout.append(("tts_%d" % round(pct * 100), np.array([len(te), te[0] + 1])))
r = cross_validate(model(0.5), X, y, cv=TimeSeriesSplit(4, gap=10), scoring=["roc_auc"])
tout.append(("ts_cv_auc", r["test_roc_auc"]))
with open("tests/data/cv_time_ref.txt", "w") as f:
    f.write(f"# scripts/ref/cv_ref.py, scikit-learn {sklearn.__version__}\n")
    for k, v in tout:
        f.write(k + " " + str(len(v)) + " " + " ".join("%.17g" % x for x in v) + "\n")
print(open("tests/data/cv_time_ref.txt").read())
