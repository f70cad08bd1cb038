-- Warm start (m:fit_more, churnlab.warm_start): more boosting rounds on a fitted gbdt.
-- The definition checked here is XGBoost's (training with xgb_model= continues from the
-- model's margins): on the same data, fit(trees = a) then fit_more(b) must be the model of
-- fit(trees = a + b). Same binary, same data, and the continued fit replays the very double
-- margins and per-round random streams of the one-shot fit, so the comparison is exact.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local function data(n, seed)
  local X = tensor.randn(n, 5, {seed = seed})
  local rows, y = {}, {}
  for i = 1, n do
    local r = {}
    for j = 1, 5 do r[j] = X:get(i, j) end
    if i % 9 == 0 then r[2] = 0 / 0 end
    r[5] = (i * 7) % 4 -- category codes
    rows[i] = r
    local z = r[1] - 0.7 * (r[3] or 0) + (r[5] == 2 and 1 or 0) + 0.5 * math.sin(i)
    y[i] = z > 0.3 and 1 or 0
  end
  return tensor(rows), tensor(y)
end

local X, y = data(800, 3)
local Q = data(100, 4)
local P = {depth = 4, lr = 0.2, subsample = 0.7, colsample = 0.8, lambda = 2, seed = 11,
           scale_pos_weight = 1.5}

local function params(extra)
  local t = {}
  for k, v in pairs(P) do t[k] = v end
  for k, v in pairs(extra) do t[k] = v end
  return t
end

local function same(a, b, what)
  local pa, pb = a:predict(Q, {margin = true}), b:predict(Q, {margin = true})
  for i = 1, 100 do T.eq(pa:get(i), pb:get(i), what .. ": margin row " .. i) end
  local sa, sb = a:shap(Q:rows(1, 10)), b:shap(Q:rows(1, 10))
  for i = 1, 10 do
    for j = 1, 6 do T.eq(sa:get(i, j), sb:get(i, j), what .. ": shap") end
  end
end

T.test("fit(trees = a) then fit_more(b) is fit(trees = a + b), bit for bit", function()
  local once = cl.gbdt(params{trees = 30}):fit(X, y, {categorical = {5}})
  local warm = cl.gbdt(params{trees = 12}):fit(X, y, {categorical = {5}})
  T.eq(warm:fit_more(X, y, {trees = 18}), warm) -- returns the model
  T.eq(warm:ntrees(), 30)
  T.eq(warm:params().trees, 30)
  same(once, warm, "12 + 18")
  -- twice more, and through the module function
  local w2 = cl.gbdt(params{trees = 5}):fit(X, y, {categorical = {5}})
  cl.warm_start.fit_more(w2, X, y, {trees = 10})
  w2:fit_more(X, y, {trees = 15})
  same(once, w2, "5 + 10 + 15")
  -- leaf-wise growth and the squared objective continue the same way
  local a = cl.gbdt(params{objective = "squared", leaves = 8, depth = 0, trees = 20}):fit(X, y)
  local b = cl.gbdt(params{objective = "squared", leaves = 8, depth = 0, trees = 7}):fit(X, y)
  b:fit_more(X, y, {trees = 13})
  same(a, b, "squared, leaf-wise")
end)

T.test("a saved and reloaded model continues as the one in memory", function()
  local m = cl.gbdt(params{trees = 10}):fit(X, y, {categorical = {5}})
  local path = os.tmpname()
  m:save(path)
  local r = cl.load(path)
  os.remove(path)
  m:fit_more(X, y, {trees = 6})
  r:fit_more(X, y, {trees = 6})
  same(m, r, "reloaded")
end)

T.test("more rounds on new data lower the loss there; an XGBoost model continues too", function()
  local X2, y2 = data(800, 9)
  local m = cl.gbdt(params{trees = 5}):fit(X, y, {categorical = {5}})
  local function logloss(model, A, b)
    local p, s = model:predict(A, {prior_correction = false}), 0
    local n = A:shape()
    for i = 1, n do
      local q = math.min(math.max(p:get(i), 1e-12), 1 - 1e-12)
      s = s - (b:get(i) * math.log(q) + (1 - b:get(i)) * math.log(1 - q))
    end
    return s / n
  end
  local before = logloss(m, X2, y2)
  m:fit_more(X2, y2, {trees = 20})
  T.ok(logloss(m, X2, y2) < before, "log-loss on the new data went down")
  local x = cl.xgboost.load("tests/data/xgb_import_logistic.json")
  local E = dofile("tests/data/xgb_import_expect.lua")
  local rows = {}
  for i, r in ipairs(E.Q) do
    rows[i] = {}
    for j = 1, #r do rows[i][j] = type(r[j]) == "string" and tonumber(r[j]) or r[j] end
  end
  local XQ = tensor(rows)
  local yq = {}
  for i = 1, #rows do yq[i] = (tonumber(E.logistic.predict[i]) > 0.5) and 1 or 0 end
  local yqt = tensor(yq)
  local b0 = logloss(x, XQ, yqt)
  x:fit_more(XQ, yqt, {trees = 5})
  T.eq(x:ntrees(), 35)
  T.ok(logloss(x, XQ, yqt) < b0, "the imported model improves on the rows it is boosted on")
end)

T.test("fit_more refuses what it cannot do, and leaves the model as it was", function()
  local m = cl.gbdt(params{trees = 4}):fit(X, y)
  T.raises(function() cl.gbdt{}:fit_more(X, y, {trees = 2}) end, "not fitted")
  T.raises(function() m:fit_more(X, y) end, "option 'trees'")
  T.raises(function() m:fit_more(X, y, {trees = 0}) end, "option 'trees'")
  T.raises(function() m:fit_more(X, y, {trees = 2, bogus = 1}) end, "bogus")
  T.raises(function() m:fit_more(X:cols(1, 3), y, {trees = 2}) end, "X has 3 features")
  T.raises(function() m:fit_more(X, tensor{1, 0}, {trees = 2}) end, "one label per row")
  T.eq(m:ntrees(), 4)
  T.eq(m:params().trees, 4)
  local p = m:predict(Q)
  T.ok(p:get(1) == p:get(1))
end)

-- Against XGBoost (tests/data/xgb_warm_start_ref.lua, scripts/ref/xgb_warm_start_ref.py): a
-- model XGBoost trained for 4 rounds, imported and boosted 6 more rounds here, must give the
-- margins of xgb.train(params, d, 6, xgb_model=base) (which the script asserts equal 10
-- rounds in one go). The features take a few values each, so both search the same
-- thresholds and grow the same trees; XGBoost sums leaf values in float32 (~6e-8 relative
-- per addition, 10 trees, margins below 3): 1e-6.
T.test("fit_more on an imported XGBoost model = XGBoost's xgb.train(..., xgb_model=)", function()
  local R = dofile("tests/data/xgb_warm_start_ref.lua")
  local rows = {}
  for i = 1, R.n do
    rows[i] = {}
    for j = 1, R.d do rows[i][j] = R.X[(i - 1) * R.d + j] end
  end
  local XR, yR = tensor(rows), tensor(R.y)
  local m = cl.xgboost.load("tests/data/xgb_warm_start_base.json")
  local function worst(want)
    local mg, w = m:predict(XR, {margin = true}), 0
    for i = 1, R.n do w = math.max(w, math.abs(mg[i] - want[i])) end
    return w
  end
  T.ok(worst(R.margin_base) <= 1e-6, "the base model imports")
  m:fit_more(XR, yR, {trees = 6})
  T.eq(m:ntrees(), 10)
  local w = worst(R.margin_continued)
  T.ok(w <= 1e-6, ("continued margins: max abs diff %.3g"):format(w))
end)

T.done()
