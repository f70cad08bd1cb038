-- Tests of churnlab.value, churnlab.uplift and churnlab.measure.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local V = require "churnlab.value"
local U = require "churnlab.uplift"
local measure = require "churnlab.measure"

T.test("clv matches the explicit sum", function()
  local p, m, h, d = 0.04, 9.5, 36, 0.01
  local s = 0
  for t = 1, h do s = s + m * (1 - p) ^ t / (1 + d) ^ t end
  T.near(V.clv{p = p, margin = m, horizon = h, discount = d}, s, 1e-12)
  T.near(V.clv{p = 0, margin = 2, horizon = 10}, 20, 1e-12)
  T.eq(V.lifetime(0.05), 20)
  local c = V.clv_vector({0.1, 0.2}, 10, {horizon = 12})
  T.near(c:get(1), V.clv{p = 0.1, margin = 10, horizon = 12}, 1e-5)
  T.raises(function() V.clv{p = 1.5, margin = 1} end, "monthly churn probability")
end)

T.test("wilson interval matches the textbook formula", function()
  -- 20 of 100, 95%: Wilson interval [0.1333, 0.2888] (Agresti and Coull 1998, truncated to
  -- four digits). To full precision, (p + z^2/2n -+ z sqrt(p(1-p)/n + z^2/4n^2)) / (1 + z^2/n)
  -- evaluated by Python with z = 1.959963984540054: a closed form in double, so 1e-10 (z's own
  -- error, 1e-12, dominates). The old constant 0.13329 was off by 8e-5 and hid under a
  -- tolerance of 1e-4.
  local p, lo, hi = V.wilson(20, 100)
  T.near(p, 0.2, 1e-12)
  T.near(lo, 0.1333669333310325, 1e-10); T.near(hi, 0.2888291655931589, 1e-10)
  T.near(measure.norm_ppf(0.975), 1.959963984540054, 1e-12)
  local rows = V.segment_rates({"a", "b", "a", "b", "b"}, {1, 0, 1, 1, 0})
  T.eq(rows[1].segment, "a"); T.eq(rows[1].rate, 1); T.eq(rows[2].n, 3)
end)

T.test("rfm scores by quintile", function()
  local ev = cl.read_csv("tests/data/rfm_events.csv")
  local r = V.rfm(ev, {customer = "user", time = "day", amount = "minutes", now = 30})
  T.eq(#r, 5)
  local by = {}
  for _, x in ipairs(r) do by[x.customer] = x end
  T.eq(by.u1.recency, 0); T.eq(by.u1.frequency, 3); T.eq(by.u1.r, 5)
  T.eq(by.u5.recency, 25); T.eq(by.u4.recency, 29); T.eq(by.u4.r, 1); T.eq(by.u5.r, 2)
  T.ok(by.u1.score:match("^%d%d%d$"))
end)

T.test("psi: identical samples 0, a shift is large", function()
  local a, b, c = {}, {}, {}
  local r = cl.tensor.randn(4000, 2, {seed = 2})
  for i = 1, 4000 do a[i] = r:get(i, 1); b[i] = r:get(i, 2); c[i] = r:get(i, 2) + 1 end
  T.eq(measure.psi(a, a), 0)
  T.ok(measure.psi(a, b) < 0.02)
  T.ok(measure.psi(a, c) > 0.25)
  T.raises(function() measure.psi(a, b, {bins = 1}) end, "bins must be in 2..1000")
end)

T.test("uplift learners find who responds to a campaign", function()
  local n = 4000
  local X = cl.tensor.randn(n, 3, {seed = 6})
  local u = cl.tensor.rand(n, 2, {seed = 7})
  local churned, treated, stayed, true_up = {}, {}, {}, {}
  for i = 1, n do
    local base = 1 / (1 + math.exp(-(X:get(i, 1))))
    local up = X:get(i, 2) > 0 and 0.3 or 0          -- only half the customers respond
    treated[i] = u:get(i, 1) < 0.5 and 1 or 0
    local p = base * (1 - (treated[i] == 1 and up or 0) / 0.5 * 0.5)
    churned[i] = u:get(i, 2) < p and 1 or 0
    stayed[i] = 1 - churned[i]
    true_up[i] = up
  end
  local make = function() return cl.gbdt{trees = 60, depth = 3, lr = 0.1, seed = 1} end
  for _, learner in ipairs({U.tlearner(make), U.transform(make)}) do
    learner:fit(X, churned, treated)
    local s = learner:predict(X)
    local q = U.qini(stayed, treated, s)
    local oracle = U.qini(stayed, treated, true_up)
    local random = U.qini(stayed, treated, cl.tensor.rand(n, 1, {seed = 8}))
    T.ok(q.coefficient > random.coefficient, tostring(learner))
    T.ok(q.coefficient > 0.3 * oracle.coefficient, tostring(learner))
  end
  local unbalanced = {}
  for i = 1, n do unbalanced[i] = i <= n * 0.8 and 1 or 0 end
  T.raises(function() U.transform(make):fit(X, churned, unbalanced) end, "needs a 50/50 campaign")
  T.raises(function() U.tlearner(make):predict(X) end, "not fitted")
end)

T.done()
