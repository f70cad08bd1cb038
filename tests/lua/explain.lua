-- Tests of churnlab.explain and churnlab.xai with models whose truth is known.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local E = require "churnlab.explain"
local xai = require "churnlab.xai"

-- A "model" as a function: logistic in columns 1 and 2; column 3 is ignored.
local function truth(X)
  local n = X:shape()
  local p = cl.tensor.zeros(n)
  for i = 1, n do p:set(i, 1 / (1 + math.exp(-(2 * X:get(i, 1) - X:get(i, 2))))) end
  return p
end
local n = 600
local X = cl.tensor.randn(n, 3, {seed = 4})
local u = cl.tensor.rand(n, 1, {seed = 5})
local pt = truth(X)
local y = {}
for i = 1, n do y[i] = u:get(i, 1) < pt:get(i) and 1 or 0 end

T.test("permutation importance ranks the ignored column last, exactly zero", function()
  local imp = E.importance(truth, X, y, {repeats = 3})
  T.eq(#imp, 3)
  T.eq(imp[1].feature, "x1"); T.eq(imp[2].feature, "x2"); T.eq(imp[3].feature, "x3")
  T.eq(imp[3].importance, 0)
  T.ok(imp.baseline > 0.7)
  T.ok(tostring(imp):find("x1", 1, true))
end)

T.test("ICE/PDP of a column the model ignores is flat", function()
  local pd = E.pdp(truth, X, 3, {grid = 5})
  for k = 2, #pd.pd do T.near(pd.pd[k], pd.pd[1], 1e-6) end
  local pd1 = E.pdp(truth, X, 1, {grid = 5})
  for k = 2, #pd1.pd do T.ok(pd1.pd[k] > pd1.pd[k - 1]) end
  local rows = pd1.ice:shape()
  T.eq(rows, n)
end)

T.test("KernelSHAP rows add up to the prediction; the ignored column gets nothing", function()
  local phi = E.shap(truth, X:rows(1, 5), {background = X:rows(1, 40), samples = 64})
  local _, w = phi:shape()
  T.eq(w, 4)
  for i = 1, 5 do
    local s = 0
    for k = 1, 4 do s = s + phi:get(i, k) end
    T.near(s, pt:get(i), 1e-5)
    T.near(phi:get(i, 3), 0, 1e-6)
  end
end)

T.test("linear SHAP rows add up to predict(), prior correction included", function()
  local yi = {}
  for i = 1, n do yi[i] = (y[i] == 1 and i % 3 == 0) and 1 or 0 end -- rarer positives
  for _, cw in ipairs({"none", "balanced"}) do
    local m = cl.logreg{class_weight = cw ~= "none" and cw or nil}
    m:fit(X, cl.tensor.new(yi))
    if cw == "balanced" then T.ok(m:prior().corrected and math.abs(m:prior().shift) > 0.5) end
    local phi = E.shap(m, X, {method = "linear"})
    local p = m:predict(X)
    local worst = 0
    for i = 1, n do
      local s = 0
      for k = 1, 4 do s = s + phi:get(i, k) end
      worst = math.max(worst, math.abs(s - p:get(i)))
    end
    T.ok(worst < 1e-5, cw .. ": rows differ from predict() by " .. worst)
  end
end)

T.test("LIME recovers the direction of each effect", function()
  local t = E.lime(truth, X:rows(1, 1), X:rows(1, 100), {samples = 3000})
  local by = {}
  for _, r in ipairs(t) do by[r.feature] = r.effect end
  local x1, x2 = X:get(1, 1), X:get(1, 2)
  T.ok((by.x1 > 0) == (x1 > 0), "x1 effect sign")
  T.ok((by.x2 > 0) == (x2 < 0), "x2 effect sign")
  T.near(by.x3, 0, 0.02)
end)

local df = cl.read_csv("tests/data/explain_customers.csv")
T.test("reasons speak in original columns and categories", function()
  local p = cl.prep.pipeline{target = "churn", positive = "yes", drop = {"customer"}, encode = "onehot", scale = "minmax"}
  p:fit(df)
  local Xd, yd = p:transform(df)
  local m = cl.gbdt{trees = 30, depth = 3, lr = 0.3, seed = 1}
  m:fit(Xd, yd)
  local why = E.reasons(m, p, df:head(4), {top = 2})
  T.eq(#why, 4)
  for _, w in ipairs(why) do
    T.ok(w.p >= 0 and w.p <= 1)
    for _, r in ipairs(w.reasons) do
      T.ok(r.column == "plan" or r.column == "tenure" or r.column == "tickets", r.column)
      T.ok(r.text:find(r.column .. " = ", 1, true), r.text)
      T.ok(r.points > 0)
    end
  end
  -- the same through KernelSHAP on the model as a plain function
  local f = function(Z) return m:predict(Z) end
  local why2 = E.reasons(f, p, df:head(2), {top = 1, background = Xd:rows(1, 30), samples = 64})
  T.ok(why2[1].text:find("churn risk by", 1, true), why2[1].text)
  local imp = E.importance(m, Xd, yd, {pipeline = p, repeats = 2})
  T.eq(#imp, 3)
end)

T.test("errors", function()
  T.raises(function() xai.permutation({}, X, y) end, "a model with a predict method")
  T.raises(function() xai.permutation(truth, X, {1, 0}) end, "X has 600 rows but y has 2")
  T.raises(function() xai.permutation(function() return cl.tensor.zeros(2) end, X, y) end,
           "predict must return a tensor of 600 values")
  -- the model's own error, unwrapped (tests/lua/callbacks.lua has the rest)
  local err = T.raises(function() xai.permutation(function() error("boom") end, X, y) end, "boom")
  T.ok(not err:find("predict failed", 1, true), err)
  T.raises(function() xai.permutation(truth, X, y, {metric = "f1"}) end, "metric must be")
  T.raises(function() xai.ice(truth, X, 7, {1, 2}) end, "group 7 has no columns")
  T.raises(function() xai.kernelshap(truth, X:rows(1, 1), cl.tensor.zeros(3, 2)) end, "X has 3 columns, background has 2")
  T.raises(function() E.pdp(truth, X, "tenure") end, "unknown column 'tenure'")
  T.raises(function() xai.permutation(truth, X, y, {groups = {1, 2}}) end, "one group number per column")
end)

T.test("partial dependence with a pipeline labels its grid in the column's own units", function()
  local t, c = {}, {}
  for i = 1, 300 do t[i] = (i * 7) % 73; c[i] = t[i] < 10 and "Yes" or "No" end
  local df = cl.frame{tenure = t, Churn = c}
  local p = cl.prep.pipeline{target = "Churn", positive = "Yes", scale = "minmax"}
  p:fit(df)
  local Xp = p:transform(df)
  local pd = E.pdp(function(Z) return cl.tensor.zeros((Z:shape())) end, Xp, "tenure",
                   {pipeline = p, grid = 5})
  for k, v in ipairs(pd.grid) do
    T.near(pd.labels[k], v * 72, 1e-9, "label = grid value x (max - min) + min")
  end
  T.near(pd.labels[#pd.labels], 72, 1e-9, "the last grid point is the largest tenure")
  T.near(p:unscale(1, 0.5), 36, 1e-12)
  T.raises(function() p:unscale(2, 0) end, "feature index out of range 1..1")
end)

T.done()
