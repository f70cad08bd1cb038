-- gbdt interaction constraints (parameter interactions, XGBoost's interaction_constraints)
-- against XGBoost on the same rows (scripts/ref/xgb_interaction_ref.py wrote the rows and
-- XGBoost's test probabilities into tests/data/xgb_interaction_ref.lua).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local R = dofile("tests/data/xgb_interaction_ref.lua")
local X, y, Xt = tensor(R.X), tensor(R.y), tensor(R.Xt)
local nt = #R.Xt
-- XGBoost's settings in the script: hist, depth 4, eta 0.3, 15 rounds, lambda 1, base score
-- the mean label (churnlab's), 8 values per feature so one bin per value in both
local P = {trees = 15, depth = 4, lr = 0.3, lambda = 1, min_child_weight = 1, max_bins = 255}
local function with(k, v)
  local p = {}
  for a, b in pairs(P) do p[a] = b end
  p[k] = v
  return p
end
local function gap(p, ref)
  local g = 0
  for i = 1, nt do g = math.max(g, math.abs(p:get(i) - ref[i])) end
  return g
end

T.test("constrained and free models equal XGBoost's (sets [[0,1],[1,2],[3]])", function()
  -- the same candidate partitions and gains: only float32 leaf rounding and churnlab's
  -- fixed-point sums separate the two, ~1e-7 after 15 rounds (measured 6e-8 for both)
  local c = cl.gbdt(with("interactions", R.interactions)):fit(X, y):predict(Xt)
  T.ok(gap(c, R.prob_constrained) < 1e-6, "constrained gap " .. gap(c, R.prob_constrained))
  local u = cl.gbdt(P):fit(X, y):predict(Xt)
  T.ok(gap(u, R.prob_free) < 1e-6, "free gap " .. gap(u, R.prob_free))
  T.ok(gap(c, R.prob_free) > 1e-2, "the constraints change the model")
end)

T.test("one set holding every feature is the unconstrained model; bad lists are refused", function()
  local a = cl.gbdt(with("interactions", {1, 1, 1, 1})):fit(X, y):predict(Xt)
  local b = cl.gbdt(P):fit(X, y):predict(Xt)
  for i = 1, nt do T.eq(a:get(i), b:get(i), "row " .. i) end
  -- every feature in no set: only the root may split, so every tree is a stump
  local s = cl.gbdt(with("interactions", {0, 0, 0, 0})):fit(X, y)
  local stump = cl.gbdt(with("depth", 1)):fit(X, y)
  local ps, pst = s:predict(Xt), stump:predict(Xt)
  for i = 1, nt do T.eq(ps:get(i), pst:get(i), "stumps, row " .. i) end
  T.raises(function() cl.gbdt(with("interactions", {1, 3})):fit(X, y) end, "interactions",
           "2 entries", "4 features")
  T.raises(function() cl.gbdt(with("interactions", {1, -1, 1, 1})) end, "interactions")
end)

T.test("the constraints survive save and load", function()
  local m = cl.gbdt(with("interactions", R.interactions)):fit(X, y)
  local path = os.tmpname()
  m:save(path)
  local l = cl.load(path)
  os.remove(path)
  local a, b = m:predict(Xt), l:predict(Xt)
  for i = 1, nt do T.eq(a:get(i), b:get(i)) end
  T.eq(#l:params().interactions, 4)
end)

T.done()
