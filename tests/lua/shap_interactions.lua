-- SHAP interaction values (m:shap(X, {interactions = true})) against XGBoost's
-- pred_interactions on committed XGBoost models (scripts/ref/xgb_shap_interactions_ref.py
-- wrote the query rows and XGBoost's values into tests/data/xgb_shap_interactions_ref.lua),
-- plus the identities that hold by construction on churnlab's own gbdt and forest.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local R = dofile("tests/data/xgb_shap_interactions_ref.lua")
local function num(s) if s == "nan" then return 0 / 0 end return tonumber(s) end
local rows = {}
for i, r in ipairs(R.X) do
  rows[i] = {}
  for j = 1, #r do rows[i][j] = num(r[j]) end
end
local X = tensor(rows)
local n, d = #rows, R.d
local w = d + 1

-- XGBoost sums its conditioned TreeSHAP passes in float32 per tree, churnlab in double:
-- the values (|phi| up to ~1) agree to a few float32 ulps, 1e-6 relative to max(1, |v|)
-- (the tolerance of the pred_contribs test in xgb_import.lua).
T.test("interaction values equal XGBoost's pred_interactions", function()
  for _, name in ipairs{"logistic", "lossguide"} do
    local m = cl.xgboost.load("tests/data/xgb_import_" .. name .. ".json")
    local phi, names = m:shap(X, {interactions = true})
    local r, c = phi:shape()
    T.eq(r, n * w); T.eq(c, w)
    T.eq(names[w], "(expected)")
    local worst = 0
    for k = 1, n * w * w do
      local got = phi:get(math.floor((k - 1) / w) + 1, (k - 1) % w + 1)
      local want = num(R[name].interactions[k])
      worst = math.max(worst, math.abs(got - want) / math.max(1, math.abs(want)))
    end
    print(name .. ": worst relative gap " .. worst)
    T.ok(worst < 1e-6, name .. ": worst relative gap " .. worst)
  end
end)

-- row i of each matrix adds up to phi_i, and the matrices are symmetric
local function identities(m, Xq, nq, dq)
  local wq = dq + 1
  local phi = m:shap(Xq)
  local I = m:shap(Xq, {interactions = true})
  local worst_sum, worst_sym = 0, 0
  for r = 1, nq do
    for i = 1, wq do
      local s = 0
      for j = 1, wq do
        local v = I:get((r - 1) * wq + i, j)
        s = s + v
        worst_sym = math.max(worst_sym, math.abs(v - I:get((r - 1) * wq + j, i)))
      end
      worst_sum = math.max(worst_sum, math.abs(s - phi:get(r, i)))
    end
  end
  return worst_sum, worst_sym
end

T.test("rows add up to the SHAP values; the matrices are symmetric", function()
  local m = cl.xgboost.load("tests/data/xgb_import_logistic.json")
  local s, y = identities(m, X, n, d)
  -- the diagonal is phi_i minus the row's other entries (double, then float32): float32
  -- rounding of d + 1 terms of size ~1
  T.ok(s < 1e-5, "row sums: " .. s); T.ok(y < 1e-5, "symmetry: " .. y)
  -- churnlab's own models, boosted and averaged
  local Xs, ys = {}, {}
  local rng = 7
  local function u() rng = (rng * 1103515245 + 12345) % 2147483648; return rng / 2147483648 end
  for i = 1, 300 do
    Xs[i] = {u(), u(), u(), u()}
    ys[i] = (Xs[i][1] * Xs[i][2] + 0.3 * Xs[i][3] + 0.2 * u() > 0.55) and 1 or 0
  end
  local Xt, yt = tensor(Xs), tensor(ys)
  local g = cl.gbdt{trees = 20, depth = 4}:fit(Xt, yt)
  s, y = identities(g, Xt, 50, 4)
  T.ok(s < 1e-5 and y < 1e-5, "gbdt: " .. s .. " " .. y)
  local f = cl.forest{trees = 10, depth = 5}:fit(Xt, yt)
  s, y = identities(f, Xt, 50, 4)
  T.ok(s < 1e-5 and y < 1e-5, "forest: " .. s .. " " .. y)
  -- the interaction of x1 and x2 (the product term) outweighs that of x3 and x4 (none)
  local I = g:shap(Xt, {interactions = true})
  local a12, a34 = 0, 0
  for r = 1, 300 do
    a12 = a12 + math.abs(I:get((r - 1) * 5 + 1, 2))
    a34 = a34 + math.abs(I:get((r - 1) * 5 + 3, 4))
  end
  T.ok(a12 > 5 * a34, "x1 x2: " .. a12 .. ", x3 x4: " .. a34)
end)

T.test("interactions refuse a probability scale or a pipeline", function()
  local m = cl.xgboost.load("tests/data/xgb_import_logistic.json")
  T.raises(function() m:shap(X, {interactions = true, scale = "probability"}) end, "margin scale")
end)

T.done()
