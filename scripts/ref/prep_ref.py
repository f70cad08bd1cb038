#!/usr/bin/python3
"""Reference values for core/frame/prep.c (one-hot drop, robust scaling, missing indicators,
target encoding) from scikit-learn, for tests/lua/prep.lua.

Writes tests/data/prep_ref.csv (240 rows: the first 180 are the fit frame, the last 60 the
frame transformed, with unknown categories and a missing value where the fit frame had none)
and tests/data/prep_ref.txt: `<key> <count> <values...>` lines (%.17g; names as words), each a
row-major matrix over all 240 rows unless said otherwise:
  ohe_first, ohe_if_binary  OneHotEncoder(drop="first" | "if_binary", handle_unknown="ignore")
                            on plan, partner, region (no missing values there), fit on rows 1-180
  robust                    SimpleImputer(median) then RobustScaler on tenure, charges
  robust_center, robust_scale  RobustScaler's center_ and scale_
  ind_num                   SimpleImputer(median, add_indicator=True) on tenure, charges
  ind_cat_label / ind_cat   SimpleImputer(most_frequent, add_indicator=True) on area: the
                            imputed labels and the indicator
  te_<smooth>_oof           target encoding of plan, area over rows 1-180 out of fold (cv = 5,
                            StratifiedKFold(shuffle=False)); te_<smooth>_full: rows 1-240 with
                            the encodings of rows 1-180; smooth = auto and 10; cv3: cv = 3
  te_folds                  StratifiedKFold(5, shuffle=False) fold of each of rows 1-180
names_<key> lines give churnlab's output column names ("col=label", "col=(missing)").

scikit-learn 1.2.1 (Debian 12's python3-sklearn) has no TargetEncoder (added in 1.3), so the
target encoding here is numpy written from the published formula (scikit-learn's
TargetEncoder documentation; Micci-Barreca 2001): for category c with n_c rows and mean y_c,
  smooth = m:      (n_c * y_c + m * mean(y)) / (n_c + m)
  smooth = "auto": lambda * y_c + (1 - lambda) * mean(y), lambda = n_c var(y) / (n_c var(y) +
                   var_c(y)), var_c the within-category variance (population), var(y) the
                   population variance; a category without rows (or lambda undefined) gets
                   mean(y); missing values form a category of their own; a category unseen
                   when fitting gets mean(y) of the fit rows.
fit_transform encodes each fold with the encodings fitted on the other folds (the fold's own
mean(y) for categories that fold's training part lacks), as TargetEncoder.fit_transform does.
Run from the repository root:  /usr/bin/python3 scripts/ref/prep_ref.py
"""
import numpy as np
import pandas as pd
import sklearn
from sklearn.impute import SimpleImputer
from sklearn.model_selection import StratifiedKFold
from sklearn.preprocessing import OneHotEncoder, RobustScaler

rng = np.random.default_rng(2020)
n, nfit = 240, 180
tenure = np.round(rng.uniform(0, 72, n), 1)
tenure[rng.random(n) < 0.08] = np.nan
charges = np.round(rng.uniform(18, 120, n), 2)
charges[200] = np.nan  # missing only in the transformed rows: no indicator (missing-only)
plan = rng.choice(["basic", "plus", "pro"], n).astype(object)
plan[[190, 205, 230]] = "enterprise"  # unknown when transforming
partner = rng.choice(["No", "Yes"], n).astype(object)
region = rng.choice(["e", "n", "s", "w"], n).astype(object)
region[[185, 220]] = "x"
area = rng.choice(["rural", "suburb", "urban", "centre"], n, p=[0.15, 0.3, 0.45, 0.1]).astype(object)
area[rng.random(n) < 0.1] = np.nan
logit = (-0.04 * np.nan_to_num(tenure, nan=30) + 0.02 * charges + np.where(plan == "basic", 0.8, 0)
         + np.where(area == "urban", 0.6, 0) - 0.5)
churn = np.where(rng.random(n) < 1 / (1 + np.exp(-logit)), "Yes", "No")
df = pd.DataFrame({"tenure": tenure, "charges": charges, "plan": plan, "partner": partner,
                   "region": region, "area": area, "churn": churn})
df.to_csv("tests/data/prep_ref.csv", index=False, float_format="%.17g")
fit = df.iloc[:nfit]
y = (df.churn == "Yes").to_numpy().astype(float)
out = []


def put(key, mat, names=None):
    out.append((key, np.asarray(mat, dtype=float).ravel()))
    if names is not None:
        out.append(("names_" + key, names))


cats = ["plan", "partner", "region"]
for drop in ["first", "if_binary"]:
    enc = OneHotEncoder(drop=drop, handle_unknown="ignore", sparse_output=False).fit(fit[cats])
    names = []
    for j, col in enumerate(cats):
        for k, lab in enumerate(enc.categories_[j]):
            if enc.drop_idx_ is not None and enc.drop_idx_[j] is not None and k == enc.drop_idx_[j]:
                continue
            names.append(f"{col}={lab}")
    put("ohe_" + drop, enc.transform(df[cats]), names)

nums = ["tenure", "charges"]
imp = SimpleImputer(strategy="median").fit(fit[nums])
rs = RobustScaler().fit(imp.transform(fit[nums]))
put("robust", rs.transform(imp.transform(df[nums])), nums)
put("robust_center", rs.center_)
put("robust_scale", rs.scale_)

ind = SimpleImputer(strategy="median", add_indicator=True).fit(fit[nums])
Z = ind.transform(df[nums])
# sklearn appends the indicators after every imputed column; churnlab puts each right after
# its column: reorder by name
names_out = list(ind.get_feature_names_out())
order = ["tenure", "missingindicator_tenure", "charges"]
put("ind_num", Z[:, [names_out.index(c) for c in order]], ["tenure", "tenure=(missing)", "charges"])

cimp = SimpleImputer(strategy="most_frequent", add_indicator=True).fit(fit[["area"]])
Zc = cimp.transform(df[["area"]])
out.append(("ind_cat_label", list(Zc[:, 0])))
put("ind_cat", Zc[:, 1].astype(float), ["area=(missing)"])


def te_fit(x, yy, smooth):
    """encodings {label: value} and the prior, from the published formula"""
    x = np.where(pd.isna(x), "\0missing", x.astype(str))
    mean = yy.mean()
    var = yy.var()
    enc = {}
    for lab in np.unique(x):
        yc = yy[x == lab]
        nc = len(yc)
        if smooth == "auto":
            lam = nc * var / (nc * var + yc.var()) if nc * var + yc.var() > 0 else np.nan
            enc[lab] = mean if np.isnan(lam) else lam * yc.mean() + (1 - lam) * mean
        else:
            enc[lab] = (yc.sum() + smooth * mean) / (nc + smooth)
    return enc, mean


def te_apply(x, enc, prior):
    x = np.where(pd.isna(x), "\0missing", x.astype(str))
    return np.array([enc.get(v, prior) for v in x])


yfit = y[:nfit]
for cv in [5, 3]:
    folds = np.empty(nfit, dtype=int)
    for q, (_, te) in enumerate(StratifiedKFold(cv, shuffle=False).split(np.zeros(nfit), yfit)):
        folds[te] = q
    if cv == 5:
        put("te_folds", folds)
    for smooth in (["auto", 10.0] if cv == 5 else ["auto"]):
        tag = ("auto" if smooth == "auto" else "10") + ("" if cv == 5 else "_cv3")
        oof = np.zeros((nfit, 2))
        full = np.zeros((n, 2))
        for j, col in enumerate(["plan", "area"]):
            x = df[col].to_numpy()
            for q in range(cv):
                tr = folds != q
                enc, prior = te_fit(x[:nfit][tr], yfit[tr], smooth)
                oof[~tr, j] = te_apply(x[:nfit][~tr], enc, prior)
            enc, prior = te_fit(x[:nfit], yfit, smooth)
            full[:, j] = te_apply(x, enc, prior)
        put("te_" + tag + "_oof", oof, ["plan", "area"])
        put("te_" + tag + "_full", full)

with open("tests/data/prep_ref.txt", "w") as f:
    f.write(f"# scripts/ref/prep_ref.py, scikit-learn {sklearn.__version__}, numpy {np.__version__}\n")
    for k, v in out:
        if len(v) and isinstance(v[0], str):
            f.write(k + " " + str(len(v)) + " " + " ".join(v) + "\n")
        else:
            f.write(k + " " + str(len(v)) + " " + " ".join("%.17g" % x for x in v) + "\n")
print("\n".join(line[:150] for line in open("tests/data/prep_ref.txt")))
