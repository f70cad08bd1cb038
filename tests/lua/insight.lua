-- Tests of churnlab.survival, churnlab.cluster and churnlab.calibrate bindings.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

-- Freireich leukaemia data: 6-MP arm ("+" = censored) and placebo arm.
local mp = {6, 6, 6, "6+", 7, "9+", 10, "10+", "11+", 13, 16, "17+", "19+", "20+", 22, 23,
            "25+", "32+", "32+", "34+", "35+"}
local placebo = {1, 1, 2, 2, 3, 4, 4, 5, 5, 8, 8, 8, 8, 11, 11, 12, 12, 15, 17, 22, 23}
local time, event, arm = {}, {}, {}
for _, a in ipairs({{"6-MP", mp}, {"placebo", placebo}}) do
  for _, v in ipairs(a[2]) do
    local s = tostring(v)
    time[#time + 1] = tonumber((s:gsub("%+", "")))
    event[#event + 1] = s:find("+", 1, true) and 0 or 1
    arm[#arm + 1] = a[1]
  end
end

T.test("kaplan-meier matches the textbook product-limit values", function()
  local t, e = {}, {}
  for i = 1, 21 do t[i], e[i] = time[i], event[i] end
  local km = cl.survival.km(t, e)
  T.near(km:at(6), 18 / 21, 1e-12)
  T.near(km:at(23), 0.448, 5e-4) -- the textbook's three digits (a product of count ratios)
  T.eq(km:median(), 23)
  local c = km:curve()
  T.eq(#c.time, #c.surv)
  for i = 1, #c.surv do T.ok(c.lo[i] <= c.surv[i] and c.surv[i] <= c.hi[i]) end
  T.ok(tostring(km):find("n=21 events=9", 1, true), tostring(km))
end)

T.test("km_by gives one curve per label and the log-rank test", function()
  local curves, chi2, p = cl.survival.km_by(time, event, arm)
  T.ok(curves["6-MP"] and curves.placebo)
  T.eq(curves.placebo:median(), 8)
  T.near(chi2, 16.7929, 5e-5 / 16.7929) -- four printed decimals (statsmodels: 16.79294099)
  T.ok(p < 1e-4)
  local c2, p2, df = cl.survival.logrank(time, event, arm)
  T.eq(c2, chi2); T.eq(p2, p); T.eq(df, 1)
end)

T.test("cox hazard ratio with a tensor and names", function()
  local X = {}
  for i = 1, #arm do X[i] = {arm[i] == "placebo" and 1 or 0} end
  local m = cl.survival.cox(X, time, event, {names = {"placebo"}})
  local s = m:summary()
  T.eq(s[1].name, "placebo")
  -- statsmodels PHReg's values (tests/data/survival_ref.h) to ten digits; both are Newton
  -- stopped by their own rules, so they agree to the stopping point (1e-7 in test_survival.c)
  -- rather than to rounding, and no BLAS is involved: 1e-6.
  T.near(s[1].coef, 1.5721251488, 1e-6)
  T.near(s[1].hr, math.exp(1.5721251488), 1e-6)
  T.ok(s[1].lo < s[1].hr and s[1].hr < s[1].hi)
  local r = m:predict({{0}, {1}})
  T.near(r:get(2) / r:get(1), s[1].hr, 1e-5)
  local b = cl.survival.cox(X, time, event, {ties = "breslow"})
  T.near(b:summary()[1].coef, 1.5091914126, 1e-6)
  T.eq(b:summary()[1].name, "x1")
end)

T.test("survival input errors name the problem", function()
  T.raises(function() cl.survival.km({1, 2}, {1}) end, "time has 2 values but event has 1")
  T.raises(function() cl.survival.km({1, -2}, {1, 1}) end, "row 2", "time must be")
  T.raises(function() cl.survival.km({1, 2}, {1, 3}) end, "event must be 0 or 1")
  T.raises(function() cl.survival.km({1, "x"}, {1, 1}) end, "element 2 is a string")
  T.raises(function() cl.survival.logrank({1, 2}, {1, 1}, {"a"}) end, "group has 1 values")
  T.raises(function() cl.survival.cox({{1}, {1}}, {1, 2}, {1, 1}) end, "singular")
  T.raises(function() cl.survival.cox({{1}}, {1}, {1}, {ties = "exact"}) end, "ties must be")
end)

local function blobs()
  local X, rng = {}, cl.tensor.randn(300, 2, {seed = 5})
  local centres = {{0, 0}, {8, 0}, {0, 8}}
  for i = 1, 300 do
    local c = centres[(i - 1) % 3 + 1]
    X[i] = {c[1] + rng:get(i, 1), c[2] + rng:get(i, 2)}
  end
  return X
end

T.test("kmeans finds separated blobs, deterministically", function()
  local X = blobs()
  local m = cl.cluster.kmeans{k = 3, seed = 7}
  T.ok(tostring(m):find("not fitted", 1, true))
  local lab = m:fit(X)
  T.eq(#lab, 300)
  for i = 4, 300 do T.eq(lab:get(i), lab:get((i - 1) % 3 + 1)) end -- same blob, same label
  local info = m:info()
  T.eq(#info.sizes, 3)
  for _, s in ipairs(info.sizes) do T.eq(s, 100) end
  T.ok(cl.cluster.silhouette(X, lab) > 0.7) -- ~ 1 - 1.77/8 for unit blobs 8 apart
  local again = cl.cluster.kmeans{k = 3, seed = 7}:fit(X)
  for i = 1, 300 do T.eq(again:get(i), lab:get(i)) end
  local path = os.tmpname()
  m:save(path)
  local m2 = cl.load(path)
  os.remove(path)
  local p1, p2 = m:predict(X), m2:predict(X)
  for i = 1, 300 do T.eq(p1:get(i), p2:get(i)) end
  T.eq(m2:info().inertia, info.inertia)
end)

T.test("kmeans errors", function()
  T.raises(function() cl.cluster.kmeans{k = 0} end, "'k' must be in [1, 10000]")
  T.raises(function() cl.cluster.kmeans{clusters = 3} end, "unknown parameter 'clusters'", "known: k")
  T.raises(function() cl.cluster.kmeans{k = 3}:predict({{1, 2}}) end, "not fitted")
  T.raises(function() cl.cluster.kmeans{k = 5}:fit({{1, 2}, {3, 4}}) end, "2 rows cannot make 5 clusters")
  T.raises(function() cl.cluster.kmeans{k = 1}:fit({{1, 2}, {3}}) end, "row 2 has 1 values")
  local m = cl.cluster.kmeans{k = 1}
  m:fit({{1}, {2}})
  T.raises(function() m:predict({{1, 2}}) end, "model has 1 columns, X has 2")
  do local c <close> = m end
  T.raises(function() m:predict({{1}}) end, "freed")
end)

T.test("calibrators fit, predict, save and load", function()
  local s, y = {}, {}
  local u = cl.tensor.rand(2000, 1, {seed = 11})
  for i = 1, 2000 do
    s[i] = (i - 1000) / 250
    y[i] = u:get(i, 1) < 1 / (1 + math.exp(-(2 * s[i] - 1))) and 1 or 0
  end
  local pl = cl.calibrate.platt():fit(s, y)
  T.near(pl:predict(0.5), 0.5, 0.08) -- the true curve crosses 0.5 at s = 0.5
  local iso = cl.calibrate.isotonic():fit(s, y)
  local prev = -1
  for x = -4, 4, 0.05 do
    local q = iso:predict(x); T.ok(q >= prev); prev = q
  end
  for _, c in ipairs({pl, iso}) do
    local path = os.tmpname()
    c:save(path)
    local c2 = cl.load(path)
    os.remove(path)
    local a, b = c:predict(s), c2:predict(s)
    for i = 1, 2000, 97 do T.eq(a:get(i), b:get(i)) end
  end
  T.near(cl.calibrate.prior_correct(0.5, 0.5, 0.2), 0.2, 1e-12)
  T.raises(function() cl.calibrate.platt():predict(0.3) end, "not fitted")
  T.raises(function() cl.calibrate.isotonic():fit({1, 2}, {0, 2}) end, "must be 0 or 1")
  T.raises(function() cl.calibrate.prior_correct(0.5, 0, 0.2) end, "rates must be in (0, 1)")
end)

T.done()
