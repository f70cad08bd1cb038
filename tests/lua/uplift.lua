-- Tests of the X-, DR- and S-learners (churnlab.uplift; the S-learner against scikit-learn below) against scripts/ref/uplift_ref.py, which
-- computes the same learners with numpy on the same rows, folds and base model (the mean of
-- the target within 8 equal bins of one column: simple enough to write twice; outcomes and
-- propensity binned on x2, effects on x1, so the X-learner's two effect models differ), and
-- their errors. Fixture: tests/data/uplift_learners_ref.lua.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local U = require "churnlab.uplift"
local ref = dofile("tests/data/uplift_learners_ref.lua")

-- the reference's rows (Weyl sequences: the same doubles in Lua and numpy)
local n, B = ref.n, ref.bins
local rows, treated, churned, folds = {}, {}, {}, {}
for i = 1, n do
  local x1, x2 = (i * 0.6180339887498949) % 1, (i * 0.4142135623730951) % 1
  rows[i] = {x1, x2}
  treated[i] = (i * 0.7320508075688772) % 1 < 0.3 + 0.4 * x2 and 1 or 0
  churned[i] = (i * 2.718281828459045) % 1 < 0.2 + 0.5 * x1 - treated[i] * 0.15 * x1 and 1 or 0
  folds[i] = (i - 1) % 3 + 1
end
local X = cl.tensor(rows)

-- the base model: bin means of the target over column col (overall mean for an empty bin)
local function binmean(col)
  return function()
    local m = {}
    function m:fit(Xf, y)
      local nr = Xf:shape()
      local s, c, tot = {}, {}, 0
      for k = 0, B - 1 do s[k], c[k] = 0, 0 end
      for r = 1, nr do
        local b = math.min(B - 1, math.floor(Xf:get(r, col) * B))
        local v = y:get(r)
        s[b], c[b], tot = s[b] + v, c[b] + 1, tot + v
      end
      self.means = {}
      for k = 0, B - 1 do self.means[k] = c[k] > 0 and s[k] / c[k] or tot / nr end
      return self
    end
    function m:predict(Xp)
      local out = {}
      for r = 1, Xp:shape() do out[r] = self.means[math.min(B - 1, math.floor(Xp:get(r, col) * B))] end
      return cl.tensor(out)
    end
    return m
  end
end

-- float32 tensors round every fitted target and prediction (as the reference does): one
-- float32 ulp of numbers below 4 is 2.4e-7, and sums taken in another order can move a
-- rounding by one ulp, so 1e-6 is a few ulps
local TOL = 1e-6
local function same(got, want, what)
  T.eq(got:shape(), #want, what .. " length")
  local worst = 0
  for i = 1, #want do worst = math.max(worst, math.abs(got:get(i) - want[i])) end
  T.ok(worst < TOL, string.format("%s: largest difference %.3g", what, worst))
end

T.test("X-learner equals the numpy reference (propensity model)", function()
  local m = U.xlearner(binmean(2), {regressor = binmean(1), propensity = binmean(2)}):fit(X, churned, treated)
  same(m:predict(X), ref.xlearner, "xlearner")
  T.ok(tostring(m):find("XLearner", 1, true))
end)

T.test("DR-learner equals the numpy reference (given folds, propensity model or share)", function()
  local m = U.drlearner(binmean(2), {regressor = binmean(1), propensity = binmean(2), folds = folds})
  m:fit(X, churned, treated)
  local worst = 0
  for i = 1, n do worst = math.max(worst, math.abs(m.pseudo[i] - ref.dr_pseudo[i])) end
  -- pseudo-outcomes divide float32 predictions by propensities >= 0.01: a few ulps of 100
  T.ok(worst < 1e-4, string.format("pseudo-outcomes: largest difference %.3g", worst))
  same(m:predict(X), ref.drlearner, "drlearner")
  local s = U.drlearner(binmean(2), {regressor = binmean(1), folds = folds}):fit(X, churned, treated)
  same(s:predict(X), ref.drlearner_share, "drlearner with the treated share")
end)

T.test("the DR-learner's own folds are seeded, balanced and deterministic", function()
  local a = U.drlearner(binmean(1), {regressor = binmean(1), folds = 4, seed = 9}):fit(X, churned, treated)
  local b = U.drlearner(binmean(1), {regressor = binmean(1), folds = 4, seed = 9}):fit(X, churned, treated)
  local c = U.drlearner(binmean(1), {regressor = binmean(1), folds = 4, seed = 10}):fit(X, churned, treated)
  local count, differ = {0, 0, 0, 0}, 0
  for i = 1, n do
    T.eq(a.folds[i], b.folds[i])
    count[a.folds[i]] = count[a.folds[i]] + 1
    if a.folds[i] ~= c.folds[i] then differ = differ + 1 end
  end
  for k = 1, 4 do T.eq(count[k], n // 4) end
  T.ok(differ > n / 2, "another seed, other folds")
  T.eq(a:predict(X):get(7), b:predict(X):get(7))
end)

T.test("learners with gradient-boosted models find a planted effect", function()
  -- 4000 rows: the treatment lowers churn by 0.3 when x1 > 0.5 and not at all below
  local N = 4000
  local u = cl.tensor.rand(N, 4, {seed = 5})
  local xr, tr, yr = {}, {}, {}
  for i = 1, N do
    local x1, x2 = u:get(i, 1), u:get(i, 2)
    xr[i] = {x1, x2}
    tr[i] = u:get(i, 3) < 0.5 and 1 or 0
    yr[i] = u:get(i, 4) < 0.5 - (x1 > 0.5 and 0.3 * tr[i] or 0) and 1 or 0
  end
  local XX = cl.tensor(xr)
  local clf = function() return cl.gbdt{trees = 40, depth = 2, lr = 0.1, seed = 1} end
  local reg = function() return cl.gbdt{objective = "squared", trees = 40, depth = 2, lr = 0.1, seed = 1} end
  for _, make in ipairs({U.xlearner, U.drlearner}) do
    local m = make(clf, {regressor = reg}):fit(XX, yr, tr)
    local hi, lo = m:predict(cl.tensor{{0.8, 0.5}}):get(1), m:predict(cl.tensor{{0.2, 0.5}}):get(1)
    T.ok(math.abs(hi - 0.3) < 0.1 and math.abs(lo) < 0.1, string.format("%s: %.3f and %.3f", tostring(m), hi, lo))
  end
end)

-- The S-learner against scikit-learn's LogisticRegression on the same rows (fixture
-- tests/data/uplift_slearner_ref.lua). Tolerance from the optimisers' convergence: both
-- minimise the same strongly convex objective, smallest Hessian eigenvalue mu at the
-- optimum, so each solution lies within sqrt(k) |gradient|_inf / mu of the minimiser (k
-- parameters); a prediction's log-odds then moves by at most that times the row norm
-- |(x, 1)|, a probability by a quarter of it, an uplift (two probabilities) by half; twice
-- that for the curvature's change away from the optimum, plus a few float32 ulps.
local sref = dofile("tests/data/uplift_slearner_ref.lua")
T.test("S-learner equals scikit-learn's logistic S-learner (plain and with interactions)", function()
  for _, key in ipairs({"plain", "interactions"}) do
    local r = sref[key]
    local m = U.slearner(function() return cl.logreg{C = sref.C, tol = 1e-9} end,
                         {interactions = key == "interactions"}):fit(X, churned, treated)
    local h = m.model:history()
    T.ok(h.converged, key .. ": churnlab's fit converged")
    local dtheta = math.sqrt(r.params) * (h.gradient + r.gradient) / r.mu
    local tol = 2 * 0.5 * r.row_norm * dtheta + 1e-6
    T.ok(tol < 1e-5, string.format("%s: the bound is tight enough to mean something (%.3g)", key, tol))
    local u, worst = m:predict(X), 0
    T.eq(u:shape(), n)
    for i = 1, n do worst = math.max(worst, math.abs(u:get(i) - r.uplift[i])) end
    T.ok(worst < tol, string.format("%s: largest difference %.3g, tolerance %.3g", key, worst, tol))
  end
  -- a base model that sees the treatment column: the S-learner appends it last
  local seen
  local spy = function() return {fit = function(_, Xf) seen = select(2, Xf:shape()) end,
                                 predict = function(_, Xp) return cl.tensor.zeros(Xp:shape()) end} end
  U.slearner(spy):fit(X, churned, treated)
  T.eq(seen, 3, "two features and the treatment")
  U.slearner(spy, {interactions = true}):fit(X, churned, treated)
  T.eq(seen, 5, "two features, the treatment and two interactions")
  T.ok(tostring(U.slearner(spy)):find("not fitted", 1, true))
end)

T.test("errors name the problem", function()
  local mk = binmean(1)
  T.raises(function() U.xlearner(mk) end, "xlearner", "regressor")
  T.raises(function() U.drlearner(mk, {regresor = mk}) end, "regresor")
  T.raises(function() U.drlearner("gbdt", {regressor = mk}) end, "expected a function")
  T.raises(function() U.xlearner(mk, {regressor = mk, propensity = 0.5}) end, "propensity")
  T.raises(function() U.drlearner(mk, {regressor = mk}):predict(X) end, "not fitted")
  T.raises(function() U.xlearner(mk, {regressor = mk}):predict(X) end, "not fitted")
  T.raises(function() U.slearner(mk):predict(X) end, "S-learner is not fitted")
  T.raises(function() U.slearner(mk, {interaction = true}) end, "unknown option 'interaction'")
  T.raises(function() U.slearner(mk, {interactions = 1}) end, "'interactions' must be true or false")
  T.raises(function() U.slearner(42) end, "slearner", "expected a function")
  T.raises(function() U.slearner(mk):fit(X, {1, 0}, treated) end, "X has 600 rows")
  T.raises(function() U.slearner(mk):fit({}, churned, treated) end, "X must be a tensor")
  T.raises(function() U.drlearner(mk, {regressor = mk, folds = {1, 2}}):fit(X, churned, treated) end,
           "folds has 2 entries for 600 rows")
  T.raises(function() U.drlearner(mk, {regressor = mk, folds = 1}):fit(X, churned, treated) end, "folds")
  local bad = {}
  for i = 1, n do bad[i] = churned[i] end
  bad[5] = 2
  T.raises(function() U.xlearner(mk, {regressor = mk}):fit(X, bad, treated) end, "churned[5] must be 0 or 1")
  local none = {}
  for i = 1, n do none[i] = 0 end
  T.raises(function() U.drlearner(mk, {regressor = mk}):fit(X, churned, none) end, "both treated and control")
  T.raises(function() U.xlearner(mk, {regressor = mk}):fit(X, {1, 0}, treated) end, "X has 600 rows")
end)

T.done()
