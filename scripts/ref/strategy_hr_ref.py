"""Reference for churnlab.strategy.hazard_ratio (tests/lua/strategy.lua).

A treated customer with control risk r churned with probability 1 - (1 - r) ^ HR,
log HR = x . theta: a binomial GLM with the complementary log-log link
(mu = 1 - exp(-exp(eta))) and offset log(-log(1 - r)). statsmodels fits it by IRLS, an
independent implementation of the same maximum likelihood. Writes the data
(tests/data/strategy_hr.csv: risk, y, group 1..3, centred trait z, weight) and the fitted
theta and log likelihood, unweighted and with the integer weights as frequency weights
(tests/data/strategy_hr_ref.txt).

    /usr/bin/python3 scripts/ref/strategy_hr_ref.py
"""
import numpy as np
import statsmodels.api as sm

rng = np.random.default_rng(19)
n = 600
risk = rng.uniform(0.02, 0.4, n)
group = rng.integers(1, 4, n)
z = rng.normal(0.0, 0.15, n)
theta_true = np.array([-0.3, -0.2, -0.25, -1.5])
X = np.zeros((n, 4))
X[np.arange(n), group - 1] = 1.0
X[:, 3] = z
eta = X @ theta_true
p = 1.0 - (1.0 - risk) ** np.exp(eta)
y = (rng.uniform(size=n) < p).astype(int)
w = rng.integers(0, 4, n)  # bootstrap-like resample counts, zeros included

offset = np.log(-np.log(1.0 - risk))
fam = sm.families.Binomial(link=sm.families.links.CLogLog())
lines = []
for name, fw in (("unweighted", None), ("weighted", w.astype(float))):
    m = sm.GLM(y, X, family=fam, offset=offset, freq_weights=fw).fit(tol=1e-13, maxiter=200)
    lines.append(name + " " + " ".join("%.17g" % t for t in m.params) + " %.17g" % m.llf)

with open("tests/data/strategy_hr.csv", "w") as f:
    f.write("risk,y,group,z,weight\n")
    for i in range(n):
        f.write("%.17g,%d,%d,%.17g,%d\n" % (risk[i], y[i], group[i], z[i], w[i]))
with open("tests/data/strategy_hr_ref.txt", "w") as f:
    f.write("# scripts/ref/strategy_hr_ref.py: statsmodels %s GLM Binomial(CLogLog), offset log(-log(1 - risk))\n"
            % sm.__version__)
    f.write("# name theta_basic theta_standard theta_premium theta_z loglik\n")
    f.write("\n".join(lines) + "\n")
print("\n".join(lines))
