#!/usr/bin/python3
"""Reference values for case weights in Kaplan-Meier and Cox (issue 20), from statsmodels.

Writes tests/data/survival_weights_ref.lua, read by tests/lua/survival_weights.lua.
Run from the repository root: /usr/bin/python3 scripts/ref/survival_weights_ref.py

Kaplan-Meier: statsmodels' SurvfuncRight(freq_weights=w) gives the weighted curve, risk sets
and event counts. Its weighted standard error is Tsiatis' formula, not Greenwood's; churnlab
keeps Greenwood on the weighted counts (R's survfit(weights=)), so se is checked on integer
weights against SurvfuncRight on the rows repeated w times (frequency weights are repeats),
and on fractional weights against Greenwood's formula evaluated here on statsmodels' counts.

Cox: statsmodels' PHReg takes no weights. Integer weights under Breslow ties equal the rows
repeated, so PHReg on the repeated rows is the oracle (coefficients and standard errors).
Efron ties and fractional weights follow R's coxph(weights=) (each of the d tie terms weighted
by the deaths' mean weight; repeats are not equivalent because they add ties): the weighted
partial log-likelihood is written here in numpy, one loop over event times, maximised by
scipy's BFGS with a central finite-difference gradient (no analytic gradient anywhere), and
the standard errors are the inverse of its finite-difference Hessian. The script asserts that
the finite-difference gradient is ~0 at the reported optimum and records its size.
"""
import numpy as np
import scipy
import statsmodels
import statsmodels.api as sm
from scipy.optimize import minimize
from statsmodels.duration.survfunc import SurvfuncRight

rng = np.random.default_rng(20261203)
n, d = 120, 2
X = rng.normal(size=(n, d))
X[:, 1] = (X[:, 1] > 0.2).astype(float)
t_true = rng.exponential(1.0 / np.exp(X @ np.array([0.6, -0.5])))
cens = rng.exponential(1.5, size=n)
time = np.ceil(np.minimum(t_true, cens) * 5) / 5  # coarsened: tied event times
event = (t_true <= cens).astype(float)
w_int = rng.integers(1, 4, size=n).astype(float)        # 1, 2 or 3
w_frac = np.round(rng.uniform(0.2, 3.0, size=n), 3)     # exact decimals, printed with %.17g

out = {}


def put(name, a):
    out[name] = [float(x) for x in np.ravel(a)]


put("X", X); put("TIME", time); put("EVENT", event); put("W_INT", w_int); put("W_FRAC", w_frac)
rep = np.repeat(np.arange(n), w_int.astype(int))  # rows repeated w times

# ---- Kaplan-Meier ------------------------------------------------------------------------
for tag, w in (("INT", w_int), ("FRAC", w_frac)):
    sf = SurvfuncRight(time, event, freq_weights=w)
    put("KM_%s_TIME" % tag, sf.surv_times)
    put("KM_%s_SURV" % tag, sf.surv_prob)
    put("KM_%s_NRISK" % tag, sf.n_risk)
    put("KM_%s_NEVENT" % tag, sf.n_events)
    nr, ne = sf.n_risk, sf.n_events
    green = np.cumsum(ne / (nr * (nr - ne)))
    put("KM_%s_SE_GREENWOOD" % tag, sf.surv_prob * np.sqrt(green))
sfr = SurvfuncRight(time[rep], event[rep])
put("KM_REP_TIME", sfr.surv_times)
put("KM_REP_SURV", sfr.surv_prob)
put("KM_REP_SE", sfr.surv_prob_se)


# ---- Cox ---------------------------------------------------------------------------------
def wll(beta, w, ties):
    """Weighted partial log-likelihood, R's coxph convention."""
    eta = X @ beta
    r = np.exp(eta)
    ll = 0.0
    for s in np.unique(time[event == 1]):
        risk = time >= s
        dead = (time == s) & (event == 1)
        nd = dead.sum()
        S0, D0 = (w * r)[risk].sum(), (w * r)[dead].sum()
        ll += (w * eta)[dead].sum()
        if ties == "efron":
            mw = w[dead].sum() / nd
            ll -= mw * sum(np.log(S0 - k / nd * D0) for k in range(nd))
        else:
            ll -= w[dead].sum() * np.log(S0)
    return ll


def fd_grad(f, b, h=1e-6):
    g = np.zeros_like(b)
    for k in range(len(b)):
        e = np.zeros_like(b); e[k] = h
        g[k] = (f(b + e) - f(b - e)) / (2 * h)
    return g


def fd_hess(f, b, h=1e-4):
    H = np.zeros((len(b), len(b)))
    for k in range(len(b)):
        e = np.zeros_like(b); e[k] = h
        H[:, k] = (fd_grad(f, b + e) - fd_grad(f, b - e)) / (2 * h)
    return (H + H.T) / 2


def wbaseline(beta, w, ties):
    """Weighted baseline cumulative hazard at covariates 0, at each event time."""
    r = np.exp(X @ beta)
    ut = np.unique(time[event == 1])
    dh = []
    for s in ut:
        risk = time >= s
        dead = (time == s) & (event == 1)
        nd, Dw = dead.sum(), w[dead].sum()
        S0, D0 = (w * r)[risk].sum(), (w * r)[dead].sum()
        if ties == "efron" and nd > 1:
            dh.append(sum(Dw / nd / (S0 - k / nd * D0) for k in range(nd)))
        else:
            dh.append(Dw / S0)
    return ut, np.cumsum(dh)


gmax = 0.0
for tag, w in (("INT", w_int), ("FRAC", w_frac)):
    for ties in ("efron", "breslow"):
        f = lambda b: -wll(b, w, ties)
        res = minimize(f, np.zeros(d), jac=lambda b: fd_grad(f, b), method="BFGS",
                       options={"gtol": 1e-9, "maxiter": 500})
        b = res.x
        g = fd_grad(f, b)
        gmax = max(gmax, np.abs(g).max())
        assert np.abs(g).max() < 1e-6, (tag, ties, g)
        V = np.linalg.inv(fd_hess(f, b))
        key = "COX_%s_%s" % (tag, ties.upper())
        put(key + "_BETA", b)
        put(key + "_SE", np.sqrt(np.diag(V)))
        out[key + "_LL"] = [float(-f(b))]
        ut, H = wbaseline(b, w, ties)
        put(key + "_BH_TIME", ut)
        put(key + "_BH_CUMHAZ0", H)

# Breslow, integer weights: PHReg on the repeated rows (an independent implementation)
r = sm.PHReg(time[rep], X[rep], status=event[rep], ties="breslow").fit()
put("PHREG_REP_BRESLOW_BETA", r.params)
put("PHREG_REP_BRESLOW_SE", r.bse)
out["PHREG_REP_BRESLOW_LL"] = [float(r.llf)]
out["FD_GRAD_MAX"] = [float(gmax)]


def lua_num(x):
    return "%.17g" % x


with open("tests/data/survival_weights_ref.lua", "w") as fh:
    fh.write("-- generated by scripts/ref/survival_weights_ref.py with statsmodels %s, scipy %s, "
             "numpy %s; do not edit\n" % (statsmodels.__version__, scipy.__version__,
                                          np.__version__))
    fh.write("-- max |finite-difference gradient| of the weighted partial log-likelihood at the "
             "reported optima: %.3g\n" % gmax)
    fh.write("return {\n")
    for k in sorted(out):
        fh.write("  %s = {%s},\n" % (k, ", ".join(lua_num(x) for x in out[k])))
    fh.write("}\n")
print("wrote tests/data/survival_weights_ref.lua; max |fd gradient| %.3g" % gmax)
