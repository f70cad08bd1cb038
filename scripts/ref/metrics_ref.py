#!/usr/bin/python3
"""Reference values for core/metrics.c from scikit-learn (Debian python3-sklearn).

Writes tests/data/metrics_ref.txt: one line per value, `<case>.<key> <count> <values...>`,
values printed with %.17g. Scores are float32 values (the C side reads them exactly), promoted
to float64 before scikit-learn sees them. Gains/lift and best thresholds have no scikit-learn
function: they are computed here by brute force (a full confusion matrix per candidate), an
oracle independent of the C single-pass code.

Run from the repository root: /usr/bin/python3 scripts/ref/metrics_ref.py
"""
import sys
import warnings

import numpy as np
import sklearn
from sklearn import metrics as M
from sklearn.calibration import calibration_curve

warnings.filterwarnings("ignore")
rng = np.random.default_rng(20261123)


def f32(a):
    return np.asarray(a, dtype=np.float32).astype(np.float64)


cases = {}
n = 200
y = (rng.random(n) < 0.35).astype(np.float64)
p = f32(np.clip(0.35 + 0.3 * (y - 0.35) + 0.25 * rng.standard_normal(n), 0, 1))
cases["random"] = (y, p)
n = 150
y = (rng.random(n) < 0.5).astype(np.float64)
p = f32(np.round(np.clip(0.5 + 0.2 * (y - 0.5) + 0.3 * rng.standard_normal(n), 0, 1), 1))
cases["ties"] = (y, p)  # scores on a 0.1 grid: heavy ties, values on bin edges
cases["alltied"] = (np.array([0, 1, 0, 1, 1, 0, 0], float), f32([0.5] * 7))
cases["perfect"] = (np.array([0, 0, 0, 1, 1], float), f32([0.1, 0.2, 0.3, 0.8, 0.9]))
cases["extremes"] = (np.array([1, 0, 1, 0, 1, 0, 0], float),
                     f32([1.0, 0.0, 0.0, 1.0, 0.7, 0.2, 0.5]))  # log loss clipping
n = 1000
y = (rng.random(n) < 0.05).astype(np.float64)
p = f32(1 / (1 + np.exp(-(-3 + 1.5 * y + rng.standard_normal(n)))))
cases["imbalanced"] = (y, p)
cases["oneclass"] = (np.zeros(6), f32([0.1, 0.4, 0.35, 0.8, 0.2, 0.6]))


def brute_threshold(y, p, rule, cfp=1.0, cfn=5.0):
    cands = [np.inf] + sorted(set(p.tolist()), reverse=True)
    best_t, best = None, None
    P, N = y.sum(), (1 - y).sum()
    for t in cands:
        pred = p >= t
        tp = float(np.sum(pred & (y == 1)))
        fp = float(np.sum(pred & (y == 0)))
        fn = P - tp
        if rule == "f1":
            v = 2 * tp / (2 * tp + fp + fn) if 2 * tp + fp + fn > 0 else 0.0
        elif rule == "youden":
            v = tp / P - fp / N
        else:
            v = -(cfp * fp + cfn * fn)
        if best is None or v > best:
            best, best_t = v, t
    return best_t, (-best if rule == "cost" else best)


def brute_gains(y, p, g=10):
    order = sorted(range(len(p)), key=lambda i: (-p[i], i))
    n, P = len(p), y.sum()
    xs, gains, lifts, rates = [], [], [], []
    cum = 0.0
    for k in range(1, g + 1):
        a, b = (k - 1) * n // g, k * n // g
        inn = sum(y[order[i]] for i in range(a, b))
        cum += inn
        xs.append(b / n)
        gains.append(cum / P)
        lifts.append((cum / P) / (b / n))
        rates.append((inn / (b - a)) / (P / n))
    return xs, gains, lifts, rates


out = []


def put(case, key, vals):
    vals = np.atleast_1d(np.asarray(vals, dtype=np.float64))
    out.append("%s.%s %d %s" % (case, key, len(vals), " ".join("%.17g" % v for v in vals)))


for name, (y, p) in cases.items():
    put(name, "y", y)
    put(name, "p", p)
    pred = (p >= 0.5).astype(float)
    tn, fp, fn, tp = M.confusion_matrix(y, pred, labels=[0, 1]).ravel()
    put(name, "confusion", [tp, fp, tn, fn])
    put(name, "accuracy", M.accuracy_score(y, pred))
    put(name, "precision", M.precision_score(y, pred, zero_division=0))
    put(name, "recall", M.recall_score(y, pred, zero_division=0))
    put(name, "specificity", M.recall_score(1 - y, 1 - pred, zero_division=0))
    put(name, "f1", M.f1_score(y, pred, zero_division=0))
    put(name, "f2", M.fbeta_score(y, pred, beta=2, zero_division=0))
    put(name, "balanced_accuracy", M.balanced_accuracy_score(y, pred))
    put(name, "mcc", M.matthews_corrcoef(y, pred))
    put(name, "log_loss", M.log_loss(y, p, eps=1e-15, labels=[0, 1]))
    put(name, "brier", M.brier_score_loss(y, p))
    pt, pp = calibration_curve(y, p, n_bins=10, strategy="uniform")
    put(name, "calib_true", pt)
    put(name, "calib_pred", pp)
    if 0 < y.sum() < len(y):
        put(name, "roc_auc", M.roc_auc_score(y, p))
        put(name, "ap", M.average_precision_score(y, p))
        fpr, tpr, thr = M.roc_curve(y, p, drop_intermediate=False)
        put(name, "roc_fpr", fpr)
        put(name, "roc_tpr", tpr)
        put(name, "roc_thr", thr[1:])  # sklearn's first threshold is max + 1; ours is +inf
        prec, rec, thr = M.precision_recall_curve(y, p)
        put(name, "pr_precision", prec)
        put(name, "pr_recall", rec)
        put(name, "pr_thr", thr)
        for rule in ("f1", "youden"):
            put(name, "best_" + rule, brute_threshold(y, p, rule))
    put(name, "best_cost", brute_threshold(y, p, "cost"))
    if y.sum() > 0 and len(y) >= 10:
        xs, gains, lifts, rates = brute_gains(y, p)
        put(name, "gains_x", xs)
        put(name, "gains", gains)
        put(name, "lift", lifts)
        put(name, "decile_lift", rates)

with open("tests/data/metrics_ref.txt", "w") as f:
    f.write("# generated by scripts/ref/metrics_ref.py (scikit-learn %s, numpy %s)\n"
            % (sklearn.__version__, np.__version__))
    f.write("\n".join(out) + "\n")
print("wrote tests/data/metrics_ref.txt (%d lines)" % len(out), file=sys.stderr)
