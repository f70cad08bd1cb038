-- Sample weights (fit option weights = w) in logreg, gbdt, tree, forest and mlp, against scikit-learn and
-- XGBoost on the same rows and weights (scripts/ref/weights_ref.py wrote them and the
-- references into tests/data/weights_ref.lua), and against duplicated rows.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local R = dofile("tests/data/weights_ref.lua")
local X, y, w, Xt = tensor(R.X), tensor(R.y), tensor(R.w), tensor(R.Xt)
local n, nt = #R.y, #R.Xt

-- The rows of X repeated by integer counts (a row of count 0 dropped).
local function repeated(counts)
  local rx, ry = {}, {}
  for i = 1, n do
    for _ = 1, counts[i] do rx[#rx + 1] = R.X[i]; ry[#ry + 1] = R.y[i] end
  end
  return tensor(rx), tensor(ry)
end
local function max_gap(a, b, k)
  local g = 0
  for i = 1, k do g = math.max(g, math.abs(a:get(i) - b:get(i))) end
  return g
end
local counts = {}
for i = 1, n do counts[i] = i % 3 end -- 1, 2, 0 in turn
local wc = {}
for i = 1, n do wc[i] = counts[i] end

T.test("logreg weights equal scikit-learn's sample_weight", function()
  local m = cl.logreg{C = R.logreg_C, tol = 1e-10, max_iter = 10000}:fit(X, y, {weights = w})
  T.ok(m:history().converged)
  -- both optima are found to a gradient of ~1e-10 on a problem whose curvature is O(1) (3
  -- features in 0..7, n = 600), but scikit-learn's lbfgs stops on its own projected-gradient
  -- test: measured 5e-7 on the coefficients, 1e-7 on the intercept; 2e-6 leaves room
  for j = 1, 3 do T.near(m:coef()[j], R.logreg_coef[j], 2e-6, "coef " .. j) end
  T.near(m:intercept(), R.logreg_intercept, 2e-6, "intercept")
  local u = cl.logreg{C = R.logreg_C, tol = 1e-10, max_iter = 10000}:fit(X, y)
  T.ok(math.abs(u:coef()[1] - R.logreg_coef[1]) > 1e-3, "the weights change the fit")
end)

T.test("logreg integer weights equal repeated rows (and weight 0 a dropped row)", function()
  -- with C fixed the penalty is C times the summed loss (as scikit-learn), which repeating a
  -- row or weighting it by its count leaves the same function: optima agree to the solver tol
  local Xr, yr = repeated(counts)
  local a = cl.logreg{C = 1, tol = 1e-10, max_iter = 10000}:fit(X, y, {weights = tensor(wc)})
  local b = cl.logreg{C = 1, tol = 1e-10, max_iter = 10000}:fit(Xr, yr)
  for j = 1, 3 do T.near(a:coef()[j], b:coef()[j], 1e-6, "coef " .. j) end
  T.near(a:intercept(), b:intercept(), 1e-6)
  local ones = {}
  for i = 1, n do ones[i] = 1 end
  local c1 = cl.logreg{C = 1}:fit(X, y, {weights = tensor(ones)})
  local c0 = cl.logreg{C = 1}:fit(X, y)
  for j = 1, 3 do T.eq(c1:coef()[j], c0:coef()[j], "all-ones weights are the unweighted fit") end
end)

local GP = {trees = 12, depth = 3, lr = 0.3, lambda = 1, min_child_weight = 1, max_bins = 255}

T.test("gbdt weights equal XGBoost's sample_weight (exact split finder, integer features)", function()
  local m = cl.gbdt(GP):fit(X, y, {weights = w})
  local p = m:predict(Xt)
  -- the same partitions (each of the 8 values per feature is its own bin, XGBoost's exact
  -- finder has the same candidates); the leaf values differ only by churnlab's fixed-point
  -- gradient sums against XGBoost's float ones and XGBoost's float base score: ~1e-7 per leaf,
  -- over 12 rounds below 1e-6 on a float32 probability (measured 9e-8)
  local gap = max_gap(p, tensor(R.xgb_prob), nt)
  T.ok(gap < 1e-6, "max |p - p_xgb| = " .. gap)
  local u = cl.gbdt(GP):fit(X, y):predict(Xt)
  T.ok(max_gap(u, tensor(R.xgb_prob), nt) > 1e-3, "the weights change the fit")
end)

T.test("gbdt integer weights equal repeated rows; all-ones weights are bit-identical", function()
  local Xr, yr = repeated(counts)
  local a = cl.gbdt(GP):fit(X, y, {weights = tensor(wc)}):predict(Xt)
  local b = cl.gbdt(GP):fit(Xr, yr):predict(Xt)
  -- same bins (8 values per feature either way); the fixed-point units depend on the row count,
  -- so the sums differ by rounding of one unit (2^-30 or finer) per row: far below 1e-6
  T.ok(max_gap(a, b, nt) < 1e-6, "max gap " .. max_gap(a, b, nt))
  local ones = {}
  for i = 1, n do ones[i] = 1 end
  local c1 = cl.gbdt(GP):fit(X, y, {weights = tensor(ones)}):predict(Xt)
  local c0 = cl.gbdt(GP):fit(X, y):predict(Xt)
  T.eq(max_gap(c1, c0, nt), 0, "all-ones weights are the unweighted model")
end)

T.test("tree weights equal scikit-learn's DecisionTreeClassifier sample_weight", function()
  local p = cl.tree{depth = 3, min_leaf = R.tree_min_leaf}:fit(X, y, {weights = w}):predict(Xt)
  -- the same gini splits on the same partitions (8 values per feature, one bin each), and
  -- leaf values sum(w y) / sum(w) of exact multiples of 0.5: only float32 rounding remains
  -- (measured 3e-8)
  T.ok(max_gap(p, tensor(R.tree_prob), nt) < 1e-6, "gap " .. max_gap(p, tensor(R.tree_prob), nt))
  local u = cl.tree{depth = 3, min_leaf = R.tree_min_leaf}:fit(X, y):predict(Xt)
  T.ok(max_gap(u, tensor(R.tree_prob), nt) > 1e-2, "the weights change the fit")
end)

T.test("forest weights: without bootstrap each tree is the weighted CART; repeated rows agree", function()
  local FP = {trees = 4, mtry = 3, depth = 3, min_leaf = R.tree_min_leaf, bootstrap = false}
  local p = cl.forest(FP):fit(X, y, {weights = w}):predict(Xt)
  T.ok(max_gap(p, tensor(R.tree_prob), nt) < 1e-6, "gap " .. max_gap(p, tensor(R.tree_prob), nt))
  -- scikit-learn's RandomForestClassifier(bootstrap = False, max_features = None) with
  -- sample_weight: the same four weighted trees, their mean in float32 (a mean of 4 values:
  -- 2 roundings of 6e-8 more than the tree's)
  T.ok(max_gap(p, tensor(R.forest_prob), nt) < 1e-6,
    "vs RandomForestClassifier: gap " .. max_gap(p, tensor(R.forest_prob), nt))
  local Xr, yr = repeated(counts)
  local a = cl.forest(FP):fit(X, y, {weights = tensor(wc)}):predict(Xt)
  local b = cl.forest(FP):fit(Xr, yr):predict(Xt)
  T.ok(max_gap(a, b, nt) < 1e-6, "repeated rows: gap " .. max_gap(a, b, nt))
  -- with bootstrap, all-ones weights multiply the counts by exactly 1: the same model
  local ones = {}
  for i = 1, n do ones[i] = 1 end
  local c1 = cl.forest{trees = 20, seed = 3}:fit(X, y, {weights = tensor(ones)}):predict(Xt)
  local c0 = cl.forest{trees = 20, seed = 3}:fit(X, y):predict(Xt)
  T.eq(max_gap(c1, c0, nt), 0, "all-ones weights are the unweighted forest")
end)

T.test("mlp weights: full-batch training with integer weights equals repeated rows", function()
  -- counts 1, 2, 0 in turn add up to n (600), so with one batch of all rows the weighted mean
  -- loss sum(w l) / n is the repeated rows' mean loss: the same gradients up to float
  -- summation order, the same Adam steps from the same seeded init (it depends on d alone);
  -- after 30 steps the probabilities agree to float rounding (measured 1.8e-7)
  local Xr, yr = repeated(counts)
  T.eq(#wc, n); local tot = 0
  for i = 1, n do tot = tot + wc[i] end
  T.eq(tot, n)
  local P = {hidden = {8}, batch = n, epochs = 30, lr = 0.01, seed = 5}
  local a = cl.mlp(P):fit(X, y, {weights = tensor(wc)}):predict(Xt)
  local b = cl.mlp(P):fit(Xr, yr):predict(Xt)
  T.ok(max_gap(a, b, nt) < 1e-5, "gap " .. max_gap(a, b, nt))
  local c = cl.mlp(P):fit(X, y):predict(Xt)
  T.ok(max_gap(a, c, nt) > 1e-2, "the weights change the fit")
  local ones = {}
  for i = 1, n do ones[i] = 1 end
  local P2 = {hidden = {8}, epochs = 3, seed = 5}
  local c1 = cl.mlp(P2):fit(X, y, {weights = tensor(ones)}):predict(Xt)
  local c0 = cl.mlp(P2):fit(X, y):predict(Xt)
  T.eq(max_gap(c1, c0, nt), 0, "all-ones weights are the unweighted fit")
end)

T.test("weighted fits are bit-identical at 1 and 2 threads", function()
  local n0 = cl.threads()
  local out = {}
  for _, t in ipairs{1, 2} do
    cl.threads(t)
    out[t] = {cl.gbdt(GP):fit(X, y, {weights = w}):predict(Xt),
              cl.forest{trees = 8, seed = 2}:fit(X, y, {weights = w}):predict(Xt),
              cl.logreg{C = 1}:fit(X, y, {weights = w}):predict(Xt)}
  end
  cl.threads(n0)
  for k = 1, 3 do T.eq(max_gap(out[1][k], out[2][k], nt), 0, "model " .. k) end
end)

T.test("bad weights are refused with the row named", function()
  local bad = {}
  for i = 1, n do bad[i] = 1 end
  bad[5] = -1
  T.raises(function() cl.logreg{}:fit(X, y, {weights = tensor(bad)}) end, "row 5", ">= 0")
  bad[5] = 0 / 0
  T.raises(function() cl.gbdt{trees = 2}:fit(X, y, {weights = tensor(bad)}) end, "row 5")
  local zero = {}
  for i = 1, n do zero[i] = 0 end
  T.raises(function() cl.gbdt{trees = 2}:fit(X, y, {weights = tensor(zero)}) end, "every sample weight is 0")
  T.raises(function() cl.logreg{}:fit(X, y, {weights = tensor({1, 2})}) end, "weights", "600")
  T.raises(function() cl.mlp{}:fit(X, y, {weights = tensor(bad)}) end, "row 5")
end)

T.done()
