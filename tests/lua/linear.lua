-- Tests of churnlab.linear (logreg) through the binding.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local X = tensor.randn(600, 3, {seed = 4})
local yt = {}
for i = 1, 600 do
  local z = 1.5 * X:get(i, 1) - X:get(i, 2) + 0.2
  yt[i] = (math.sin(i * 12.9898) * 43758.5453 % 1 < 1 / (1 + math.exp(-z))) and 1 or 0
end
local y = tensor(yt)
local tmp = os.tmpname()

T.test("logreg fits, names coefficients and odds ratios", function()
  local m = cl.logreg{C = 1}
  T.eq(m:fit(X, y, {names = {"tenure", "charges", "noise"}}), m, "fit returns the model")
  local r = m:history()
  T.ok(r.converged); T.ok(r.iters > 0)
  local c = m:coef()
  T.ok(c.tenure > 0.8 and c.charges < -0.4, "signs and sizes of the true model")
  T.ok(math.abs(c.noise) < 0.3)
  T.near(m:odds_ratios().tenure, math.exp(c.tenure), 1e-12)
  local list = m:coef_list()
  T.eq(list[1].name, "tenure"); T.eq(list[3].name, "noise")
  T.ok(tostring(m):find("3 features l2 C=1, fitted in", 1, true), tostring(m))
  T.ok(cl.metrics.roc_auc(y, m:predict(X)) > 0.7)
end)

T.test("l1 zeroes the noise column; lambda and C agree", function()
  local m = cl.logreg{penalty = "l1", C = 0.02}
  m:fit(X, y)
  T.eq(m:coef()[3], 0)
  local a, b = cl.logreg{C = 0.5}, cl.logreg{lambda = 1 / (0.5 * 600)}
  a:fit(X, y); b:fit(X, y)
  T.near(a:coef()[1], b:coef()[1], 1e-6)
end)

T.test("not converging is a warning and converged = false", function()
  local r = cl.logreg{max_iter = 1}:fit(X, y):history()
  T.eq(r.converged, false)
  T.ok(r.warning:find("did not converge in 1 iterations", 1, true), r.warning)
end)

T.test("save and cl.load round-trip bit-identically; corrupt bytes are refused", function()
  local m = cl.logreg{class_weight = "balanced"}
  m:fit(X, y, {names = {"a", "b", "c"}})
  m:save(tmp)
  local m2 = assert(cl.load(tmp))
  T.eq(getmetatable(m2).__name, "churnlab.LogReg")
  local p1, p2 = m:predict(X), m2:predict(X)
  for i = 1, 600, 7 do T.eq(p1:get(i), p2:get(i)) end
  T.eq(m2:coef().b, m:coef().b)
  local f = assert(io.open(tmp, "rb")); local bytes = f:read("a"); f:close()
  local bad = os.tmpname()
  for i = 1, #bytes, 3 do
    local g = assert(io.open(bad, "wb"))
    g:write(bytes:sub(1, i - 1), string.char(bytes:byte(i) ~ 1), bytes:sub(i + 1)); g:close()
    local ok, err = pcall(cl.load, bad)
    if ok or not tostring(err):find(bad, 1, true) then
      T.ok(false, "byte " .. i .. " accepted, or the error does not name the file: " .. tostring(err))
    end
  end
  os.remove(bad)
end)

T.test("class_weight table and errors", function()
  T.eq(cl.logreg{class_weight = {[0] = 1, [1] = 4}}:params().pos_weight, 4)
  T.raises(function() cl.logreg{class_weight = {[0] = 1}} end, "class_weight")
  T.raises(function() cl.logreg{C = 2, lambda = 0.1} end, "not both")
  T.raises(function() cl.logreg{penalty = "l3"} end, "penalty")
  local m = cl.logreg()
  T.raises(function() m:coef() end, "not fitted")
  T.raises(function() m:fit(X, tensor{1, 2}) end, "expected 600 values")
  T.raises(function() m:fit(tensor.randn(2, 2), tensor{0, 3}) end, "row 2")
end)

local telco = T.shared("telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
if not telco or not cl.read_csv then
  T.skip("telco: model + pipeline in one file score a raw frame", "telco data or frames absent")
else
  T.test("telco: model + pipeline in one file score a raw frame", function()
    local df = assert(cl.read_csv(telco))
    local tr, te = df:split{test = 0.2, stratify = "Churn", seed = 1}
    local pipe = cl.prep.pipeline{target = "Churn", positive = "Yes", drop = {"customerID"},
                                  scale = "minmax"}
    pipe:fit(tr)
    local X, y = pipe:transform(tr)
    local Xt, yt = pipe:transform(te)
    for k, m in ipairs{cl.logreg{}, cl.mlp{epochs = 2}} do
      if k == 1 then
        m:fit(X, y, {names = pipe:feature_names()})
        T.raises(function() m:predict(te) end, "needs a pipeline")
        m:save(tmp, {pipeline = pipe})
      else -- attached at fit time instead
        m:fit(X, y, {names = pipe:feature_names(), pipeline = pipe})
        T.eq(m:pipeline(), pipe)
        m:save(tmp)
      end
      local m2 = assert(cl.load(tmp))
      T.ok(m2:pipeline() ~= nil)
      local a, b = m:predict(Xt), m2:predict(te)
      for i = 1, #a, 5 do T.eq(b:get(i), a:get(i)) end
      T.ok(cl.metrics.roc_auc(yt, b) > 0.83, "held-out AUC")
    end
  end)
end

os.remove(tmp)
T.done()
