#!/usr/bin/env python3
"""Anchor for scripts/bench/survival.lua: statsmodels' PHReg (Efron ties) on the same CSV
(time, event, x1..xd per line), then S(t|x) for every row at NT times 0.05, 0.10, ...

usage: survival_statsmodels.py CSV NT
Prints `bench suite=survival case=cox<n>k impl=statsmodels metric=fit_s|survival_s ...`, best
of 3, and the coefficients ("coef ...") and S of the first 5 rows ("surv ...") so the caller
can report how far the two agree; then a Breslow fit's baseline cumulative hazard at
covariates 0 ("bh_time", "bh_lagged"): statsmodels' is lagged by one event time (its value at
event time i leaves out that time's increment, see scripts/ref/survival_ref.py), so the caller
compares it with churnlab's H0 one event time earlier. The timed S uses statsmodels' baseline
as a user would; it is Breslow-type and lagged, so it differs from churnlab's Efron-corrected
S(t|x) by more than rounding on tied data (reported, not hidden).
"""
import os
import sys
import time

import numpy as np
import statsmodels
import statsmodels.api as sm

path, nt = sys.argv[1], int(sys.argv[2])
A = np.loadtxt(path, delimiter=",")
t, e, X = A[:, 0], A[:, 1], A[:, 2:]
n = len(t)
grid = np.arange(1, nt + 1) * 0.05
best_fit = best_pred = float("inf")
for _ in range(3):
    t0 = time.perf_counter()
    r = sm.PHReg(t, X, status=e, ties="efron").fit()
    t1 = time.perf_counter()
    H0 = r.baseline_cumulative_hazard_function[0]  # at covariates 0
    S = np.exp(-np.outer(np.exp(X @ r.params), H0(grid)))
    t2 = time.perf_counter()
    best_fit, best_pred = min(best_fit, t1 - t0), min(best_pred, t2 - t1)
case = "cox%dk" % (n // 1000)
env = "statsmodels=%s numpy=%s OMP_NUM_THREADS=%s" % (statsmodels.__version__, np.__version__,
                                                     os.environ.get("OMP_NUM_THREADS", "unset"))
print("bench suite=survival case=%s impl=statsmodels metric=fit_s value=%.4f unit=s ties=efron %s"
      % (case, best_fit, env))
print("bench suite=survival case=%s impl=statsmodels metric=survival_s value=%.4f unit=s times=%d"
      % (case, best_pred, nt))
print("coef " + " ".join("%.17g" % b for b in r.params))
print("surv " + " ".join("%.17g" % s for s in S[:5].ravel()))
rb = sm.PHReg(t, X, status=e, ties="breslow").fit()
bt, bh, _ = rb.baseline_cumulative_hazard[0]
print("bh_time " + " ".join("%.17g" % v for v in bt))
print("bh_lagged " + " ".join("%.17g" % v for v in bh))
