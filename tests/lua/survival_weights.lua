-- Case weights in cl.survival.km and cl.survival.cox (issue 20), against
-- tests/data/survival_weights_ref.lua (scripts/ref/survival_weights_ref.py: statsmodels'
-- SurvfuncRight(freq_weights), PHReg on the rows repeated, and the weighted partial
-- likelihood in numpy maximised with finite-difference gradients).
--
-- Tolerances, derived:
-- * KM survival, risk sets and events: the same products and sums of the same doubles in
--   another order (statsmodels sums logs): ~20 roundings of 1e-16 relative; 1e-12.
-- * KM se on integer weights vs the repeated rows: the same Greenwood sum of the same integer
--   counts; 1e-12. Fractional: the formula on the same counts; 1e-12.
-- * Cox coefficients vs the numpy optimum: its finite-difference gradient is at most
--   FD_GRAD_MAX (4e-7) there, so its beta is off by about se^2 * 4e-7 < 1e-7; churnlab's
--   Newton stops at tol 1e-12; 1e-6. PHReg on the repeated rows (Newton, analytic): 1e-7.
-- * Cox se vs the inverse finite-difference Hessian (step 1e-4 over gradients of step 1e-6:
--   ~1e-7 / 2e-4 absolute noise on entries ~80, ~1e-5 relative): 1e-4 relative. Against
--   PHReg's analytic se on the repeated rows: 1e-7 relative (coefficients agree to 1e-8).
-- * Baseline cumulative hazard: from the reference beta, off by < 1e-7 in beta; 1e-6.
-- * Exact (bit for bit): all-one weights vs no weights (same binary, the weighted code
--   multiplies by 1.0 and divides nd by nd).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local S = cl.survival
local R = dofile("tests/data/survival_weights_ref.lua")

local N, D = #R.TIME, 2
local X = {}
for i = 1, N do X[i] = {R.X[2 * i - 1], R.X[2 * i]} end
local time, event = R.TIME, R.EVENT

local function rel(a, b, tol, what)
  T.ok(math.abs(a - b) <= tol * math.abs(b), ("%s: %.17g vs %.17g"):format(what, a, b))
end

-- the curve at the event times only (statsmodels keeps only those; churnlab keeps every time)
local function at_events(km)
  local c, out = km:curve(), {time = {}, surv = {}, se = {}, n_risk = {}, n_event = {}}
  for j = 1, #c.time do
    if c.n_event[j] > 0 then
      for k in pairs(out) do out[k][#out[k] + 1] = c[k][j] end
    end
  end
  return out
end

T.test("km: weighted curve = statsmodels freq_weights; se = Greenwood (repeats for integers)", function()
  for _, tag in ipairs{"INT", "FRAC"} do
    local c = at_events(S.km(time, event, {weights = R["W_" .. tag]}))
    T.eq(#c.time, #R["KM_" .. tag .. "_TIME"])
    for j = 1, #c.time do
      T.eq(c.time[j], R["KM_" .. tag .. "_TIME"][j])
      T.near(c.surv[j], R["KM_" .. tag .. "_SURV"][j], 1e-12, tag .. " surv " .. j)
      T.near(c.n_risk[j], R["KM_" .. tag .. "_NRISK"][j], 1e-12, tag .. " n_risk " .. j)
      T.near(c.n_event[j], R["KM_" .. tag .. "_NEVENT"][j], 1e-12, tag .. " n_event " .. j)
      T.near(c.se[j], R["KM_" .. tag .. "_SE_GREENWOOD"][j], 1e-12, tag .. " se " .. j)
    end
  end
  local c = at_events(S.km(time, event, {weights = R.W_INT}))
  for j = 1, #c.time do
    T.eq(c.time[j], R.KM_REP_TIME[j])
    T.near(c.surv[j], R.KM_REP_SURV[j], 1e-12)
    T.near(c.se[j], R.KM_REP_SE[j], 1e-12, "se vs the rows repeated " .. j)
  end
end)

T.test("km: weights of 1 are the unweighted fit bit for bit; tensors and columns work", function()
  local ones = {}
  for i = 1, N do ones[i] = 1 end
  local a, b = S.km(time, event):curve(), S.km(time, event, {weights = ones}):curve()
  for _, k in ipairs{"time", "surv", "se", "lo", "hi", "n_risk", "n_event"} do
    for j = 1, #a[k] do T.eq(b[k][j], a[k][j], k .. " " .. j) end
  end
  local df = cl.frame{w = R.W_FRAC}
  local c1 = S.km(time, event, {weights = df.w}):curve()
  local c2 = S.km(time, event, {weights = cl.tensor(R.W_FRAC)}):curve()
  local c3 = S.km(time, event, {weights = R.W_FRAC}):curve()
  for j = 1, #c1.surv do T.eq(c1.surv[j], c3.surv[j]) end
  -- a tensor holds float32 weights: other numbers, same curve to float32 rounding (6e-8)
  for j = 1, #c2.surv do T.near(c2.surv[j], c3.surv[j], 1e-6) end
end)

local function fit(ties, w, extra)
  local o = {ties = ties, tol = 1e-12, weights = w}
  for k, v in pairs(extra or {}) do o[k] = v end
  return S.cox(X, time, event, o)
end

T.test("cox: weighted fit = the weighted partial likelihood's optimum (R's convention)", function()
  for _, tag in ipairs{"INT", "FRAC"} do
    for _, ties in ipairs{"efron", "breslow"} do
      local key = ("COX_%s_%s"):format(tag, ties:upper())
      local m = fit(ties, R["W_" .. tag])
      for k, s in ipairs(m:summary()) do
        T.near(s.coef, R[key .. "_BETA"][k], 1e-6, key .. " coef " .. k)
        rel(s.se, R[key .. "_SE"][k], 1e-4, key .. " se " .. k)
      end
      local b0 = m:baseline({x = {0, 0}})
      T.eq(#b0.time, #R[key .. "_BH_TIME"])
      for j = 1, #b0.time do
        T.eq(b0.time[j], R[key .. "_BH_TIME"][j])
        T.near(b0.cumhaz[j], R[key .. "_BH_CUMHAZ0"][j], 1e-6, key .. " baseline " .. j)
      end
      local ll = tonumber(tostring(m):match("loglik (%-?[%d.]+)"))
      T.near(ll, R[key .. "_LL"][1], 1e-5, key .. " loglik (printed with 6 decimals)")
    end
  end
end)

T.test("cox: Breslow with integer weights = PHReg and churnlab on the rows repeated", function()
  local m = fit("breslow", R.W_INT)
  local Xr, tr, er = {}, {}, {}
  for i = 1, N do
    for _ = 1, R.W_INT[i] do
      Xr[#Xr + 1], tr[#tr + 1], er[#er + 1] = X[i], time[i], event[i]
    end
  end
  local mr = S.cox(Xr, tr, er, {ties = "breslow", tol = 1e-12})
  local sr = mr:summary()
  for k, s in ipairs(m:summary()) do
    T.near(s.coef, R.PHREG_REP_BRESLOW_BETA[k], 1e-7, "coef vs PHReg " .. k)
    rel(s.se, R.PHREG_REP_BRESLOW_SE[k], 1e-7, "se vs PHReg " .. k)
    T.near(s.coef, sr[k].coef, 1e-9, "coef vs repeated rows " .. k)
    rel(s.se, sr[k].se, 1e-9, "se vs repeated rows " .. k)
  end
  -- Efron is not the repeated fit: repeating a death adds ties (R's coxph behaves the same)
  local e, er2 = fit("efron", R.W_INT):summary(), S.cox(Xr, tr, er, {tol = 1e-12}):summary()
  T.ok(math.abs(e[1].coef - er2[1].coef) > 1e-4, "efron weighted differs from efron repeated")
end)

T.test("cox: weights of 1 are the unweighted fit bit for bit", function()
  local ones = {}
  for i = 1, N do ones[i] = 1 end
  for _, ties in ipairs{"efron", "breslow"} do
    local a, b = fit(ties, nil):summary(), fit(ties, ones):summary()
    for k = 1, D do
      T.eq(b[k].coef, a[k].coef); T.eq(b[k].se, a[k].se)
    end
    local ba, bb = fit(ties, nil):baseline(), fit(ties, ones):baseline()
    for j = 1, #ba.cumhaz do T.eq(bb.cumhaz[j], ba.cumhaz[j]) end
  end
end)

T.test("bad weights are errors naming the row or the option", function()
  local w = {}
  for i = 1, N do w[i] = 1 end
  w[7] = -1
  T.raises(function() S.km(time, event, {weights = w}) end, "row 7: weight must be a finite number >= 0")
  T.raises(function() S.cox(X, time, event, {weights = w}) end, "cox: row 7: weight must be")
  w[7] = 0 / 0
  T.raises(function() S.km(time, event, {weights = w}) end, "row 7: weight must be a finite number")
  T.raises(function() S.km(time, event, {weights = {1, 2}}) end, "option 'weights' has 2 values but time has " .. N)
  T.raises(function() S.cox(X, time, event, {weights = {1, 2}}) end, "option 'weights' has 2 values")
  local z = {}
  for i = 1, N do z[i] = 0 end
  T.raises(function() S.km(time, event, {weights = z}) end, "the weights sum to 0")
  for i = 1, N do z[i] = event[i] == 1 and 0 or 1 end
  T.raises(function() S.cox(X, time, event, {weights = z}) end, "every event has weight 0")
  T.raises(function() S.km(time, event, {weights = "w"}) end,
    "km: option 'weights' must be a tensor, list or column of numbers, got string")
  T.raises(function() S.cox(X, time, event, {weights = 3}) end, "cox: option 'weights' must be")
  local m = fit("efron", R.W_FRAC)
  T.raises(function() m:ph_test(X, time, event) end, "not available for a Cox model fitted with weights")
  T.raises(function() m:schoenfeld(X, time, event) end, "not available for a Cox model fitted with weights")
end)

T.done()
