-- Cox predictions and diagnostics through the Lua bindings (issue 19): survival curves,
-- baseline hazard, lifetimes, CLV, Schoenfeld residuals, the PH test and concordance, checked
-- against tests/data/survival_ref.lua (scripts/ref/survival_ref.py: statsmodels' PHReg fit,
-- then one numpy formula per quantity) and against brute force; then the bad inputs.
--
-- Tolerances: statsmodels and churnlab stop Newton by their own rules (here tol = 1e-12, as
-- the core test), so coefficients agree to ~1e-8 and everything downstream to 1e-5 as in
-- tests/core/analysis/test_survival.c; tensors hold float32 (relative rounding 6e-8), far
-- below that. Counts (event times, pairs) and step-function times are exact.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local R = dofile("tests/data/survival_ref.lua")

local N, D = 300, 3
local X, time, event = {}, R.SYN_TIME, R.SYN_EVENT
for i = 1, N do X[i] = {R.SYN_X[(i - 1) * D + 1], R.SYN_X[(i - 1) * D + 2], R.SYN_X[(i - 1) * D + 3]} end
local rows = {}
for r, i in ipairs(R.PRED_ROWS) do rows[r] = X[i] end
local NT = #R.PRED_T
local TOL = 1e-5

local models = {}
for _, ties in ipairs({"efron", "breslow"}) do
  models[ties] = cl.survival.cox(X, time, event, {ties = ties, tol = 1e-12, names = {"a", "b", "flag"}})
end

for ties, m in pairs(models) do
  local U = ties:upper()

  T.test(ties .. ": coefficients, S(t|x) and the baseline hazard match the reference", function()
    for k, s in ipairs(m:summary()) do T.near(s.coef, R["COEF_" .. U][k], 1e-7) end
    local S = m:survival(rows, R.PRED_T)
    T.eq(select(1, S:shape()), #rows); T.eq(select(2, S:shape()), NT)
    for r = 1, #rows do
      for j = 1, NT do T.near(S:get(r, j), R["SURV_" .. U][(r - 1) * NT + j], TOL, "S row " .. r .. " t " .. j) end
    end
    -- many rows go through in blocks: every row equals its own one-row call (same arithmetic)
    local g50 = {}
    for j = 1, 50 do g50[j] = j * 0.05 end
    local Sall = m:survival(X, g50)
    for _, i in ipairs({1, 81, 82, 163, 250, 300}) do
      local Si = m:survival({X[i]}, g50)
      for j = 1, 50 do T.eq(Sall:get(i, j), Si:get(1, j)) end
    end
    -- one time as a plain number: one column
    local S1 = m:survival(rows, 0.7)
    T.eq(select(2, S1:shape()), 1)
    T.eq(S1:get(2, 1), S:get(2, 4))
    -- baseline at zeros (the reference's convention) and at the training mean (default)
    local b0 = m:baseline({x = {0, 0, 0}})
    T.eq(#b0.time, #R["BH_" .. U .. "_TIME"])
    for j = 1, #b0.time do
      T.eq(b0.time[j], R["BH_" .. U .. "_TIME"][j])
      T.near(b0.cumhaz[j], R["BH_" .. U .. "_CUMHAZ0"][j], TOL)
      T.near(b0.surv[j], math.exp(-R["BH_" .. U .. "_CUMHAZ0"][j]), TOL)
    end
    local bm = m:baseline()
    -- S(t | x = mean) read off the default baseline equals survival() at the mean row
    local mean = {0, 0, 0}
    for i = 1, N do for k = 1, D do mean[k] = mean[k] + X[i][k] / N end end
    local Sm = m:survival({mean}, bm.time)
    for j = 1, #bm.time, 7 do T.near(Sm:get(1, j), bm.surv[j], 1e-6) end
    for j = 2, #bm.time do T.ok(bm.cumhaz[j] >= bm.cumhaz[j - 1], "cumhaz nondecreasing") end
  end)

  T.test(ties .. ": median lifetime, restricted mean and CLV match the reference", function()
    local med, rmst = m:expected_lifetime(rows, {horizon = 1.5})
    for r = 1, #rows do
      local want = R["MEDIAN_" .. U][r]
      if want < 0 then T.ok(med:get(r) ~= med:get(r), "median not reached: NaN")
      else T.near(med:get(r), want, 1e-6) end -- an event time, rounded to float32
      T.near(rmst:get(r), R["RMST_" .. U][r], TOL)
    end
    local _, rf = m:expected_lifetime(rows, {from = 0.4, horizon = 1.5})
    local ages = {}
    for r = 1, #rows do ages[r] = 0.4 end
    local _, rf2 = m:expected_lifetime(rows, {from = ages, horizon = 1.5})
    for r = 1, #rows do
      T.near(rf:get(r), R["RMST_FROM_" .. U][r], TOL)
      T.eq(rf2:get(r), rf:get(r)) -- a number or one age per row: the same arithmetic
    end
    local clv = m:clv(rows, {margin = 9.5, discount = 0.01, horizon = 3, from = 0.4})
    for r = 1, #rows do T.near(clv:get(r), R["CLV_" .. U][r], TOL) end
    local margins = {}
    for r = 1, #rows do margins[r] = r end
    local c2 = m:clv(rows, {margin = margins, discount = 0.01, horizon = 3, from = ages})
    for r = 1, #rows do T.near(c2:get(r), clv:get(r) / 9.5 * r, 1e-6) end
  end)

  T.test(ties .. ": Schoenfeld residuals, PH test and concordance match the reference", function()
    local res = m:schoenfeld(X, time, event)
    for i = 1, N do
      for k = 1, D do
        local want = R["SCHOENFELD_" .. U][(i - 1) * D + k]
        local got = res:get(i, k)
        if want == 1e300 then T.ok(got ~= got, "censored row " .. i .. ": NaN")
        else T.near(got, want, TOL) end
      end
    end
    for _, tr in ipairs({"rank", "km"}) do
      local ph = m:ph_test(X, time, event, {transform = tr})
      local TR = tr:upper()
      T.eq(#ph, D)
      for k = 1, D do
        T.eq(ph[k].name, ({"a", "b", "flag"})[k])
        T.near(ph[k].chi2, R[("ZPH_%s_%s_CHI2"):format(U, TR)][k], TOL)
        T.near(ph[k].rho, R[("ZPH_%s_%s_RHO"):format(U, TR)][k], TOL)
        T.near(ph[k].p, R[("ZPH_%s_%s_P"):format(U, TR)][k], TOL)
        T.eq(ph[k].violates, ph[k].p < 0.05)
      end
      T.near(ph.global.chi2, R[("ZPH_%s_%s_GLOBAL"):format(U, TR)], TOL)
      T.near(ph.global.p, R[("ZPH_%s_%s_GLOBAL_P"):format(U, TR)], TOL)
      T.eq(ph.global.df, D)
      T.eq(ph.events, 0 + (function() local s = 0 for i = 1, N do s = s + event[i] end return s end)())
    end
    local c, info = m:concordance(X, time, event)
    T.near(c, R["CINDEX_" .. U], 1e-6) -- a rank statistic: only lp differing by 1e-6 could flip a pair
    T.eq(info.pairs, R["CINDEX_" .. U .. "_PAIRS"])
    T.eq(info.concordant, R["CINDEX_" .. U .. "_CONCORDANT"])
    T.eq(info.tied, R["CINDEX_" .. U .. "_TIED"])
    local u = m:concordance(X, time, event, {method = "uno", tau = 2})
    T.near(u, R["UNO_" .. U .. "_TAU2"], 1e-6)
    -- the module function on the model's own linear predictor gives the same numbers
    local c2, info2 = cl.survival.concordance(time, event, m:predict(X, {type = "lp"}))
    T.near(c2, c, 1e-6); T.near(info2.pairs, info.pairs, 0)
  end)
end

T.test("the PH test prints as a table and flags a covariate whose effect fades", function()
  -- x = 1 triples the hazard before t = 0.5 and cuts it to a third after (piecewise
  -- exponential by inversion of the cumulative hazard): a textbook PH violation
  local Xv, tv, ev, s = {}, {}, {}, 12345
  local function unif()
    s = (s * 1103515245 + 12345) % 2147483648
    return (s + 0.5) / 2147483648
  end
  for i = 1, 400 do
    local x, E = i % 2, -math.log(unif())
    local h1, h2 = x == 1 and 3 or 1, x == 1 and 1 / 3 or 1
    local t = E < h1 * 0.5 and E / h1 or 0.5 + (E - h1 * 0.5) / h2
    Xv[i], tv[i], ev[i] = {x, unif()}, t, (i % 5 == 0) and 0 or 1
  end
  local m = cl.survival.cox(Xv, tv, ev, {names = {"early risk", "noise"}})
  local ph = m:ph_test(Xv, tv, ev)
  T.ok(ph[1].violates, "the fading effect is flagged, p = " .. ph[1].p)
  T.ok(ph[1].rho < 0, "its hazard ratio falls with time")
  T.ok(ph.global.violates)
  local txt = tostring(ph)
  T.ok(txt:find("early risk[^\n]*%* PH violated"), txt)
  T.ok(txt:find("GLOBAL", 1, true), txt)
  local noise = txt:match("noise[^\n]*")
  T.eq(noise:find("violated", 1, true) ~= nil, ph[2].violates, txt)
end)

T.test("dropped columns are named with the reason in summary, print and the PH test", function()
  local Xa = {}
  for i = 1, N do Xa[i] = {X[i][1], 7, 2 * X[i][1] - X[i][3], X[i][3]} end
  local m = cl.survival.cox(Xa, time, event, {names = {"a", "seven", "combo", "flag"}})
  local s = m:summary()
  T.eq(s[2].dropped, "constant")
  T.eq(s[4].dropped, "collinear with the columns before it")
  T.eq(s[1].dropped, nil); T.eq(s[3].dropped, nil)
  T.eq(s[2].coef, 0); T.ok(s[2].se ~= s[2].se)
  local line = tostring(m)
  T.ok(line:find("2 dropped (seven: constant; flag: collinear with the columns before it)", 1, true), line)
  local tab = getmetatable(m).__repl(m)
  T.ok(tab:find("seven%s+dropped from the fit: constant"), tab)
  local ph = m:ph_test(Xa, time, event)
  T.eq(#ph, 2); T.eq(ph.global.df, 2)
  T.eq(ph.dropped[1].name, "seven"); T.eq(ph.dropped[2].why, "collinear with the columns before it")
  T.ok(tostring(ph):find("not tested: dropped from the fit (constant)", 1, true))
  -- predictions ignore the dropped columns: the same S(t|x) whatever they hold
  local S1 = m:survival({{0.3, 7, 0, 1}}, {0.5, 1})
  local S2 = m:survival({{0.3, 100, 0, -5}}, {0.5, 1})
  T.eq(S1:get(1, 2), S2:get(1, 2))
end)

T.test("lifetimes agree with integrating survival() on a fine grid", function()
  local m = models.efron
  local med, rmst = m:expected_lifetime(rows, {horizon = 2})
  -- event times are multiples of 0.1 (the reference coarsens them), so S is constant on
  -- every cell [k, k+1] * 1e-4 and the midpoint sum is exact up to float32 rounding of S
  -- (20000 cells * 1e-4 * 6e-8 < 2e-7)
  local grid = {}
  for k = 0, 19999 do grid[k + 1] = (k + 0.5) * 1e-4 end
  local S = m:survival(rows, grid)
  for r = 1, #rows do
    local area, first = 0, nil
    for k = 1, 20000 do
      area = area + S:get(r, k) * 1e-4
      if not first and S:get(r, k) <= 0.5 then first = grid[k] - 0.5e-4 end
    end
    T.near(rmst:get(r), area, 1e-6)
    if first then T.near(med:get(r), first, 1e-6)
    else T.ok(med:get(r) ~= med:get(r) or med:get(r) >= 2, "median beyond the grid") end
  end
end)

T.test("bad input names the argument and the problem", function()
  local m = models.efron
  T.raises(function() m:survival({{1, 2}}, {1}) end, "survival: X has 2 columns, the model has 3 covariates")
  T.raises(function() m:survival(rows, {}) end, "at least one time")
  T.raises(function() m:survival(rows, {0 / 0}) end, "time 1 is NaN")
  T.raises(function() m:survival({{1, 0 / 0, 0}}, {1}) end, "row 1, covariate 2 is not a finite number")
  do -- past the first block of rows the row number is still the caller's
    local big = {}
    for i = 1, 5000 do big[i] = {0, 0, 0} end
    big[4321][3] = 1 / 0
    T.raises(function() m:survival(big, {1, 2}) end, "row 4321, covariate 3 is not a finite number")
  end
  T.raises(function() m:survival(rows, "soon") end, "bad argument #2")
  T.raises(function() m:baseline({x = {0, 0}}) end, "option 'x' has 2 values, the model has 3")
  T.raises(function() m:expected_lifetime(rows, {horizon = 0}) end, "horizon must be a finite number > 0")
  T.raises(function() m:expected_lifetime(rows, {from = {1, 2}}) end, "option 'from' has 2 values, X has 6 rows")
  T.raises(function() m:expected_lifetime(rows, {from = -1}) end, "row 1: from must be")
  T.raises(function() m:expected_lifetime(rows, {from = "old"}) end, "option 'from' must be a number or a vector")
  T.raises(function() m:clv(rows, {horizon = 2.5}) end, "option 'horizon' must be a whole number")
  T.raises(function() m:clv(rows, {discount = -1}) end, "discount must be a finite rate > -1")
  T.raises(function() m:clv(rows, {margin = {1, 2, 3, 4, 5, "x"}}) end, "option 'margin', element 6 is a string")
  T.raises(function() m:schoenfeld(X, {1, 2}, event) end, "schoenfeld: X has 300 rows but time has 2 values")
  T.raises(function() m:ph_test(X, time, {1}) end, "ph_test: X has 300 rows but event has 1 values")
  T.raises(function() m:ph_test(X, time, event, {transform = "square"}) end, "option 'transform' must be")
  T.raises(function() m:ph_test(X, time, event, {alpha = 2}) end, "option 'alpha' must be in (0, 1)")
  T.raises(function() m:concordance(X, time, event, {method = "somers"}) end, "option 'method' must be 'harrell' or 'uno'")
  T.raises(function() cl.survival.concordance({1, 2}, {1, 1}, {1}) end, "time has 2 values but risk has 1")
  T.raises(function() cl.survival.concordance({1, 2}, {0, 0}, {1, 2}) end, "no comparable pairs")
  T.raises(function() cl.survival.concordance({1, 2}, {1, 0}, {1, 0 / 0}) end, "row 2: risk is NaN")
  T.raises(function() m:concordance(X, time, event, {method = "uno", tau = 0.01}) end, "no comparable event before tau")
  T.raises(function() m.survival(nil, rows, {1}) end, "churnlab.Cox expected")
end)

T.done()
