-- gbdt monotone constraints (parameter monotone, XGBoost's monotone_constraints) against
-- XGBoost on the same rows (scripts/ref/xgb_monotone_ref.py wrote the rows and XGBoost's
-- test predictions and AUCs into tests/data/xgb_monotone_ref.lua).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local R = dofile("tests/data/xgb_monotone_ref.lua")
local function tens(rows)
  local t = {}
  for i, r in ipairs(rows) do
    t[i] = {}
    for j = 1, #r do t[i][j] = tonumber(r[j]) end
  end
  return tensor(t)
end
local X, Xt = tens(R.X), tens(R.Xt)
local y, yt = tensor(R.y), tensor(R.yt)
local nt = #R.yt
-- XGBoost's settings in the script: depth 3, eta 0.1, 80 rounds, lambda 1, 255 bins
local P = {trees = 80, depth = 3, lr = 0.1, lambda = 1, min_child_weight = 1, max_bins = 255}
local function model(mono)
  local p = {}
  for k, v in pairs(P) do p[k] = v end
  p.monotone = mono
  return cl.gbdt(p):fit(X, y)
end

-- Brute force: for 60 test rows, sweep feature j over a 201-point grid covering its range
-- (and beyond) with the others fixed; count the steps where the prediction moves against
-- the constraint's direction.
local function violations(m, j, dir)
  local grid = {}
  for k = 0, 200 do grid[#grid + 1] = -2.5 + 5 * k / 200 end
  local bad = 0
  for i = 1, 60 do
    local rows = {}
    for k, v in ipairs(grid) do
      local r = {}
      for q = 1, 4 do r[q] = Xt:get(i, q) end
      r[j] = v
      rows[k] = r
    end
    local p = m:predict(tensor(rows), {margin = true})
    for k = 2, #grid do
      if dir * (p:get(k) - p:get(k - 1)) < 0 then bad = bad + 1 end
    end
  end
  return bad
end

T.test("constrained predictions never move against the constraint (brute force)", function()
  local free = model(nil)
  local mono = model{1, -1, 0, 0}
  -- the check can fail: the data's wiggles make the free model break both directions
  T.ok(violations(free, 1, 1) > 0, "the free model is not monotone in x1 on this data")
  T.ok(violations(free, 2, -1) > 0, "the free model is not monotone in x2 on this data")
  T.eq(violations(mono, 1, 1), 0, "rising in x1")
  T.eq(violations(mono, 2, -1), 0, "falling in x2")
end)

local function auc(p)
  return cl.metrics.roc_auc(yt, p)
end

T.test("AUC and predictions agree with XGBoost's monotone_constraints", function()
  -- Tolerance: churnlab and XGBoost bin the features differently (XGBoost's weighted
  -- quantile sketch vs churnlab's cuts), so even unconstrained the two models differ; that
  -- gap, measured here on the free models, is the noise floor. The constrained models must
  -- agree as closely: mean |p - p_xgb| within 1.5 x the free gap + 0.005 and the AUCs within
  -- 0.01 (the free models' AUC gap is below 0.005 on these 1000 test rows).
  local function gap(m, ref)
    local p, s = m:predict(Xt), 0
    for i = 1, nt do s = s + math.abs(p:get(i) - tonumber(ref[i])) end
    return s / nt, p
  end
  local gfree, pfree = gap(model(nil), R.free.predict)
  local gmono, pmono = gap(model{1, -1, 0, 0}, R.constrained.predict)
  print(string.format("     mean |p - xgboost|: free %.4f, constrained %.4f; AUC churnlab %.5f "
    .. "vs xgboost %.5f (free %.5f vs %.5f)", gfree, gmono, auc(pmono), R.constrained.auc,
    auc(pfree), R.free.auc))
  T.ok(gmono <= 1.5 * gfree + 0.005, string.format("constrained gap %.4f vs free %.4f", gmono,
    gfree))
  T.ok(math.abs(auc(pmono) - R.constrained.auc) <= 0.01, "constrained AUC")
  T.ok(math.abs(auc(pfree) - R.free.auc) <= 0.01, "free AUC")
end)

T.test("all-free constraints are the unconstrained model; bad lists are refused", function()
  local a, b = model(nil), model{0, 0, 0, 0}
  local pa, pb = a:predict(Xt), b:predict(Xt)
  for i = 1, nt do T.eq(pa:get(i), pb:get(i)) end
  T.raises(function() model{1, 0} end, "'monotone' has 2 entries, X has 4")
  T.raises(function() cl.gbdt{monotone = {2, 0, 0, 0}} end, "monotone")
  -- the constraint survives a save and load, and continued boosting keeps it
  local m = model{1, -1, 0, 0}
  local path = os.tmpname()
  m:save(path)
  local r = cl.load(path)
  os.remove(path)
  T.eq(r:params().monotone[2], -1)
  r:fit_more(X, y, {trees = 20})
  T.eq(violations(r, 1, 1), 0, "rising in x1 after fit_more")
end)

T.done()
