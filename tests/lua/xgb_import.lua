-- XGBoost JSON import (cl.xgboost.load): models trained by XGBoost in Python
-- (scripts/ref/xgb_import_ref.py wrote tests/data/xgb_import_*.json and XGBoost's own outputs
-- in tests/data/xgb_import_expect.lua) predict XGBoost's probabilities and give its
-- pred_contribs through churnlab's TreeSHAP; bad files get clear errors.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local E = dofile("tests/data/xgb_import_expect.lua")
local rows = {}
for i, r in ipairs(E.Q) do
  rows[i] = {}
  for j = 1, #r do rows[i][j] = type(r[j]) == "string" and tonumber(r[j]) or r[j] end
end
local Q = tensor(rows)
local d = #rows[1]

-- Tolerances. XGBoost sums the leaves in float32 (one rounding per tree); churnlab in double
-- and rounds once, so margins differ by at most about ntrees * 2^-24 * (largest partial sum)
-- = 30 * 6e-8 * 4 = 7e-6 in the worst case, typically far less (random-walk rounding); a
-- probability moves by at most a quarter of that. The issue asks 1e-6 for probabilities: we
-- hold both to 1e-6 absolute (margins relative to max(1, |m|)). TreeSHAP likewise
-- accumulates per tree in float32 in XGBoost: 1e-6 relative to max(1, |phi|). A misread split
-- (a wrong side, feature or default direction) moves these by 1e-2 or more.
local TOL = 1e-6

T.test("XGBoost JSON models predict XGBoost's probabilities and margins", function()
  for _, name in ipairs{"logistic", "lossguide", "squared"} do
    local e = E[name]
    local m = cl.xgboost.load("tests/data/xgb_import_" .. name .. ".json")
    T.eq(m:ntrees(), e.ntrees, name .. ": trees")
    local p = m:predict(Q)
    local mg = m:predict(Q, {margin = true})
    local worst_p, worst_m = 0, 0
    for i = 1, #rows do
      worst_p = math.max(worst_p, math.abs(p:get(i) - tonumber(e.predict[i])))
      local em = tonumber(e.margin[i])
      worst_m = math.max(worst_m, math.abs(mg:get(i) - em) / math.max(1, math.abs(em)))
    end
    print(string.format("     %s: max |p - xgboost| %.3g, margin %.3g", name, worst_p, worst_m))
    T.ok(worst_p <= TOL, string.format("%s: predictions differ by %.3g", name, worst_p))
    T.ok(worst_m <= TOL, string.format("%s: margins differ by %.3g", name, worst_m))
  end
end)

T.test("TreeSHAP on an imported model equals XGBoost's pred_contribs", function()
  for _, name in ipairs{"logistic", "lossguide", "squared"} do
    local e = E[name]
    local m = cl.xgboost.load("tests/data/xgb_import_" .. name .. ".json")
    local phi = m:shap(Q)
    local nr, nc = phi:shape()
    T.eq(nr, #rows)
    T.eq(nc, d + 1)
    local worst = 0
    for i = 1, nr do
      for j = 1, nc do
        local want = tonumber(e.shap[(i - 1) * nc + j])
        worst = math.max(worst, math.abs(phi:get(i, j) - want) / math.max(1, math.abs(want)))
      end
    end
    print(string.format("     %s: max SHAP difference %.3g", name, worst))
    T.ok(worst <= TOL, string.format("%s: SHAP differs by %.3g", name, worst))
  end
end)

T.test("an imported model carries XGBoost's names and objective, saves and reloads", function()
  local m = cl.xgboost.load("tests/data/xgb_import_logistic.json")
  T.eq(m:features()[2], "charges")
  T.eq(m:params().objective, "logistic")
  T.eq(m:params().depth, 4)
  T.eq(cl.xgboost.load("tests/data/xgb_import_squared.json"):params().objective, "squared")
  local path = os.tmpname()
  m:save(path)
  local m2 = cl.load(path)
  os.remove(path)
  local a, b = m:predict(Q), m2:predict(Q)
  for i = 1, #rows do T.eq(a:get(i), b:get(i)) end
end)

T.test("a churnlab gbdt exported to XGBoost JSON imports back with its predictions", function()
  local X = tensor.randn(300, 4, {seed = 4})
  local y = {}
  for i = 1, 300 do y[i] = (X:get(i, 1) + 0.5 * X:get(i, 2) > 0) and 1 or 0 end
  local g = cl.gbdt{trees = 20, depth = 3}:fit(X, tensor(y))
  local path = os.tmpname()
  g:export_xgboost(path)
  local back = cl.xgboost.load(path)
  os.remove(path)
  -- the export writes every float with 9 significant digits (exact for float32); the base
  -- score goes through sigmoid and back (double, then %.9g): 1e-6 covers that.
  local a, b = g:predict(X), back:predict(X)
  for i = 1, 300 do T.near(b:get(i), a:get(i), 1e-6) end
  T.eq(back:ntrees(), 20)
end)

local function with_json(text, fn)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
  local ok, err = pcall(fn, path)
  os.remove(path)
  if not ok then error(err, 0) end
end

T.test("bad XGBoost files get errors that say what is wrong", function()
  T.raises(function() cl.xgboost.load("tests/data/no_such_model.json") end, "no_such_model")
  with_json('{"learner": [1, 2', function(p)
    T.raises(function() cl.xgboost.load(p) end, "not valid JSON at line 1")
  end)
  with_json('{"a": 1}', function(p)
    T.raises(function() cl.xgboost.load(p) end, "no 'learner' object")
  end)
  local src = assert(io.open("tests/data/xgb_import_logistic.json")):read("a")
  with_json((src:gsub('"binary:logistic"', '"multi:softprob"')), function(p)
    T.raises(function() cl.xgboost.load(p) end, "objective 'multi:softprob' cannot be imported")
  end)
  -- a split on a feature the model does not have
  with_json((src:gsub('("learner_model_param":{[^}]-"num_feature":")5"', '%11"')), function(p)
    T.raises(function() cl.xgboost.load(p) end, "split index outside")
  end)
  -- a node that is its own child would make a cycle
  with_json((src:gsub('"left_children":%[1,', '"left_children":[0,', 1)), function(p)
    T.raises(function() cl.xgboost.load(p) end, "two parents")
  end)
  with_json((src:gsub('"split_type":%[0,', '"split_type":[1,', 1)), function(p)
    T.raises(function() cl.xgboost.load(p) end, "categorical split")
  end)
  T.raises(function() cl.xgboost.load(42, {}) end, "one argument")
end)

-- Categorical splits (XGBoost >= 1.6, enable_categorical; scripts/ref/xgb_categorical_ref.py
-- wrote the model and XGBoost's outputs on rows with every category and missing values).
-- XGBoost's predictions are float32 (sigmoid of a float32 sum of 15 leaves) and churnlab
-- sums leaves in double then rounds: 1e-6 on probabilities, margins and contributions.
T.test("categorical splits import: predictions and pred_contribs = XGBoost's", function()
  local R = dofile("tests/data/xgb_categorical_ref.lua")
  local rows = {}
  for i = 1, R.n do rows[i] = {R.Q[3 * i - 2], R.Q[3 * i - 1], R.Q[3 * i]} end
  local Xq = tensor(rows)
  local m = cl.xgboost.load("tests/data/xgb_import_categorical.json")
  T.eq(table.concat(m:features(), ","), "usage,plan,tenure")
  local p, mg, sh = m:predict(Xq), m:predict(Xq, {margin = true}), m:shap(Xq)
  local worst = {0, 0, 0}
  for i = 1, R.n do
    worst[1] = math.max(worst[1], math.abs(p[i] - R.predict[i]))
    worst[2] = math.max(worst[2], math.abs(mg[i] - R.margin[i]))
    for j = 1, 4 do worst[3] = math.max(worst[3], math.abs(sh[i][j] - R.contribs[(i - 1) * 4 + j])) end
  end
  T.ok(worst[1] <= 1e-6 and worst[2] <= 1e-6 and worst[3] <= 1e-6,
    ("max abs diff: predict %.3g, margin %.3g, contribs %.3g"):format(worst[1], worst[2], worst[3]))
  -- saved and loaded as a churnlab model file, the categorical splits stay
  local path = os.tmpname()
  m:save(path)
  local m2 = cl.load(path)
  os.remove(path)
  T.eq((m2:predict(Xq) - p):abs():max(), 0)
end)

T.test("categorical imports refuse what they cannot represent", function()
  local src = assert(io.open("tests/data/xgb_import_categorical.json")):read("a")
  with_json((src:gsub('"categories":%[1,', '"categories":[300,', 1)), function(p)
    T.raises(function() cl.xgboost.load(p) end, "category code 300; only codes 0..254")
  end)
  with_json((src:gsub('"categories":%[1,', '"categories":[-1,', 1)), function(p)
    T.raises(function() cl.xgboost.load(p) end, "category 1 is not a code >= 0")
  end)
  with_json((src:gsub('"categories_sizes":%[', '"categories_sizes":[0,', 1)), function(p)
    T.raises(function() cl.xgboost.load(p) end, "the last three of one length")
  end)
  with_json((src:gsub('"categories_nodes":%[3,', '"categories_nodes":[2,', 1)), function(p)
    T.raises(function() cl.xgboost.load(p) end, "without a valid entry in categories_nodes")
  end)
  -- a NaN where a number is needed (a numeric split's condition) is refused
  with_json((src:gsub('"split_conditions":%[([^,%]]+),', '"split_conditions":[NaN,', 1)), function(p)
    local ok, err = pcall(cl.xgboost.load, p)
    T.ok(not ok and (tostring(err):find("not a valid number", 1, true)), tostring(err))
  end)
  -- NaN inside a string is text, not a number
  with_json((src:gsub('"usage"', '"NaN usage"', 1)), function(p)
    T.eq(cl.xgboost.load(p):features()[1], "NaN usage")
  end)
  -- an escaped quote does not end the string: the NaN after it stays text
  with_json((src:gsub('"usage"', '"u\\"NaN\\\\"', 1)), function(p)
    T.eq(cl.xgboost.load(p):features()[1], 'u"NaN\\')
  end)
end)

T.done()
