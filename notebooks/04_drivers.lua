-- 04_drivers.lua: why customers leave, who they are, and what they are worth
-- (reports/04_drivers.html).
--
--   churnlab notebooks/04_drivers.lua [data/synth [reports]]
--
-- Global drivers (gain and permutation importance, SHAP summary, partial dependence), segments
-- (k-means on behaviour, churn rate per segment with Wilson intervals), retention curves
-- (Kaplan-Meier by plan, log-rank test), a Cox model of new customers (hazard ratios with the
-- proportional-hazards test, predicted curves per profile, concordance on held-out customers,
-- each customer's expected months and value from their own curve) and customer lifetime value.
local cl = require "churnlab"
local plot, report = cl.plot, cl.report
local E = require "churnlab.explain"
local V = require "churnlab.value"

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local SEED = 42
local fmt = string.format

local function read(name)
  local ok, f = pcall(cl.read_csv, DATA .. "/" .. name) -- raises naming the file
  if not ok then error("04_drivers: " .. tostring(f) .. " (run make data and 02_features)", 0) end
  return f
end
local features, users = read("features.csv"), read("users.csv")

local train, test = features:split{test = 0.2, stratify = "churn", seed = SEED}
local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
                              encode = "onehot", scale = "minmax"}
pipe:fit(train)
local X, y = pipe:transform(train)
local Xt, yt = pipe:transform(test)
local model = cl.gbdt{trees = 300, depth = 4, lr = 0.05, seed = SEED}
model:fit(X, y, {pipeline = pipe})

local r = report.new{title = "Churn drivers, segments and value", out = OUT .. "/04_drivers.html",
  subtitle = "What raises the risk, for whom, how long customers stay, and what they are worth."}

-- ---- drivers -----------------------------------------------------------------------------------

local perm = E.importance(model, Xt, yt, {pipeline = pipe, repeats = 3, seed = SEED})
local nsample = math.min(1500, (Xt:shape()))
local Xs = Xt:rows(1, nsample)
local phi, gnames = E.shap(model, Xs, {pipeline = pipe})
local _, w = phi:shape()
local g = w - 1
do -- names of the g contribution columns (tree models also name the expected value)
  local t = {}
  for k = 1, g do t[k] = gnames[k] end
  gnames = t
end
local mean_abs = {}
for k = 1, g do
  local s = 0
  for i = 1, nsample do s = s + math.abs(phi:get(i, k)) end
  mean_abs[k] = s / nsample
end

r:metrics{
  {"Customers", features:nrow()},
  {"Top driver", perm[1].feature, note = "permutation importance"},
  {"Test AUC", fmt("%.3f", perm.baseline)},
}
r:h1("What drives churn")
r:text(fmt([[
A gradient-boosted model (%d trees) on the engineered features; importance is measured on the
held-out customers by how much the ROC AUC drops when a column's values are shuffled (all
one-hot columns of a variable together), and SHAP values say how much each column moves each
customer's churn probability, in points.]], 300))
local top = {}
for k = 1, math.min(15, #perm) do top[k] = perm[k] end
local inames, ivals = {}, {}
for k, row in ipairs(top) do inames[k], ivals[k] = row.feature, row.importance end
assert(r:figure(plot.importance{names = inames, values = ivals, title = "Permutation importance (drop in AUC)"},
  {caption = "The variables the model cannot do without."}))
local shap_names, shap_vals = {}, {}
for k = 1, g do shap_names[k], shap_vals[k] = gnames[k], mean_abs[k] end
assert(r:figure(plot.importance{names = shap_names, values = shap_vals, top = 15,
  title = "Mean |SHAP| (points of churn probability)"},
  {caption = fmt("Average size of each variable's contribution over %d test customers.", nsample)}))

-- SHAP beeswarm for the top variables: colour by the variable's (scaled) value
local src = pipe:sources()
local cols_of = {}
for j, s in ipairs(src) do
  local k
  for q = 1, g do if gnames[q] == s.column then k = q end end
  if k then cols_of[k] = cols_of[k] or {}; table.insert(cols_of[k], j) end
end
local fvals = cl.tensor.zeros(nsample, g)
for k = 1, g do
  local cs = cols_of[k] or {}
  for i = 1, nsample do
    local v = 0
    if #cs == 1 then v = Xs:get(i, cs[1])
    else for q, j in ipairs(cs) do if Xs:get(i, j) > 0.5 then v = (q - 1) / math.max(1, #cs - 1) end end end
    fvals:set(i, k, v)
  end
end
local phi_g = phi:cols(1, g)
assert(r:figure(plot.shap{values = phi_g, names = gnames, features = fvals, style = "beeswarm", top = 12,
  title = "SHAP summary"}, {caption = "Each dot is a customer; red = high value of the variable."}))

r:h2("How risk moves with the top drivers")
for k = 1, math.min(3, #perm) do
  local name = perm[k].feature
  local pd = E.pdp(model, Xt, name, {pipeline = pipe, grid = 12, sample = 1500})
  local pts = {}
  for q = 1, #pd.pd do pts[q] = pd.pd[q] end
  if pd.categorical then
    assert(r:figure(plot.bar{{values = pts, name = "mean predicted churn"}, labels = pd.labels,
      title = "Partial dependence: " .. name, ylabel = "predicted churn probability"},
      {caption = "Average predicted risk if every customer had this " .. name .. "."}))
  else
    local xs = {}
    for q = 1, #pd.grid do xs[q] = pd.labels[q] end -- the column's own units
    assert(r:figure(plot.line{{x = xs, y = pts, name = "partial dependence"},
      title = "Partial dependence: " .. name, xlabel = name, ylabel = "predicted churn probability"},
      {caption = "Average predicted risk as " .. name .. " varies, other variables as they are."}))
  end
end

-- ---- segments ----------------------------------------------------------------------------------

r:h1("Segments")
local seg_cols = {"minutes_30", "active_share_30", "genres_90", "tenure_days", "monthly_price", "recency_days"}
local segX = {}
local seg_frame = features:select(seg_cols)
local colvals = {}
for c, name in ipairs(seg_cols) do colvals[c] = seg_frame[name]:fillna(0):totable() end
local nrow = features:nrow()
local mean, sd = {}, {}
for c = 1, #seg_cols do
  local s, s2 = 0, 0
  for i = 1, nrow do s = s + colvals[c][i]; s2 = s2 + colvals[c][i] ^ 2 end
  mean[c] = s / nrow
  sd[c] = math.sqrt(math.max(s2 / nrow - mean[c] ^ 2, 1e-12))
end
for i = 1, nrow do
  local row = {}
  for c = 1, #seg_cols do row[c] = (colvals[c][i] - mean[c]) / sd[c] end
  segX[i] = row
end
local SX = cl.tensor(segX)
local best_k, best_s, sils = nil, -2, {}
for k = 3, 6 do
  local km = cl.cluster.kmeans{k = k, restarts = 3, seed = SEED}
  local lab = km:fit(SX)
  local s = cl.cluster.silhouette(SX, lab, {sample = 1500, seed = SEED})
  sils[#sils + 1] = {k, s, km:info().inertia}
  if s > best_s then best_k, best_s = k, s end
end
local km = cl.cluster.kmeans{k = best_k, restarts = 3, seed = SEED}
local labels = km:fit(SX)
local lab, churn = {}, features.churn:totable()
for i = 1, nrow do lab[i] = math.floor(labels:get(i)) end
local rates = V.segment_rates(lab, churn)
local srows = {{"k", "silhouette", "inertia"}}
for _, x in ipairs(sils) do srows[#srows + 1] = x end
r:table(srows, {digits = 3, caption = "Choosing k: the highest mean silhouette wins"})
local prof = {{"segment", "customers", "churn rate", "95% interval"}}
for c = 1, #seg_cols do prof[1][#prof[1] + 1] = seg_cols[c] .. " (mean)" end
local rate_names, rate_vals = {}, {}
for _, x in ipairs(rates) do
  local row = {"segment " .. x.segment, x.n, fmt("%.1f%%", 100 * x.rate), fmt("[%.1f%%, %.1f%%]", 100 * x.lo, 100 * x.hi)}
  for c = 1, #seg_cols do
    local s, m = 0, 0
    for i = 1, nrow do if lab[i] == x.segment then s = s + colvals[c][i]; m = m + 1 end end
    row[#row + 1] = s / m
  end
  prof[#prof + 1] = row
  rate_names[#rate_names + 1] = "segment " .. x.segment
  rate_vals[#rate_vals + 1] = 100 * x.rate
end
r:table(prof, {digits = 1, caption = fmt("%d behavioural segments (k-means on standardised behaviour), riskiest first", best_k)})
assert(r:figure(plot.bar{{values = rate_vals, name = "churn rate (%)"}, labels = rate_names,
  ylabel = "churn within 30 days (%)", title = "Churn by segment"},
  {caption = "Segments differ several-fold in churn; the profiles above say how to reach each."}))

-- ---- retention curves --------------------------------------------------------------------------

r:h1("How long customers stay")
local signup, churn_day, plan = users.signup_day:totable(), users.churn_day:totable(), users.plan:totable()
local t, ev = {}, {}
for i = 1, #signup do
  if churn_day[i] == churn_day[i] and churn_day[i] ~= nil then
    t[i], ev[i] = (churn_day[i] - signup[i]) / 30, 1
  else
    t[i], ev[i] = (180 - signup[i]) / 30, 0
  end
end
local curves, chi2, pval = cl.survival.km_by(t, ev, plan)
local series = {}
for _, name in ipairs({"basic", "standard", "premium"}) do
  local c = curves[name]
  if c then
    local cu = c:curve()
    series[#series + 1] = {time = cu.time, surv = cu.surv, lower = cu.lo, upper = cu.hi, name = name}
  end
end
assert(r:figure(plot.survival(series) :set{title = "Retention by plan (Kaplan-Meier)", xlabel = "months since signup", ylabel = "share still subscribed"},
  {caption = fmt("Log-rank test of equal retention across plans: chi2 = %.1f, p = %.2g.", chi2, pval)}))
local mrows = {{"plan", "customers", "median lifetime (months)"}}
for _, name in ipairs({"basic", "standard", "premium"}) do
  local c = curves[name]
  if c then mrows[#mrows + 1] = {name, tostring(c):match("n=(%d+)"), c:median() or "not reached"} end
end
r:table(mrows, {digits = 1, caption = "Median time to cancel"})

-- ---- survival model: who stays how long ------------------------------------------------------
-- The curves above count every customer from signup, but 3 in 4 signed up before the
-- observation window and are in the data only because they were still subscribed when it
-- opened (left truncation): their early months are survivors' months. The Cox model is
-- therefore fitted on the cohort that signed up inside the window, followed from signup to
-- cancellation or the snapshot (up to 6 months), with what is known at signup as covariates.
r:h2("A survival model for new customers")
local S = cl.survival
local u_signup, u_tenure, u_active = users.signup_day:totable(), users.tenure_days:totable(), users.active:totable()
local u_pay, u_chan, u_price = users.payment_method:totable(), users.channel:totable(), users.monthly_price:totable()
local devices = users.devices:totable()
local cox_names = {"plan basic", "plan premium", "pay debit", "pay paypal", "pay gift card",
  "channel search", "channel social", "channel referral", "channel partner", "extra devices"}
local function covariates(i)
  local p, q, c = plan[i], u_pay[i], u_chan[i]
  return {p == "basic" and 1 or 0, p == "premium" and 1 or 0, q == "debit" and 1 or 0,
    q == "paypal" and 1 or 0, q == "gift_card" and 1 or 0, c == "search" and 1 or 0,
    c == "social" and 1 or 0, c == "referral" and 1 or 0, c == "partner" and 1 or 0, devices[i] - 1}
end
local fitX, fitT, fitE, hoX, hoT, hoE, coh = {}, {}, {}, {}, {}, {}, {}
for i = 1, #u_signup do
  if u_signup[i] >= 0 then
    local x, tt, e = covariates(i), u_tenure[i] / 30, 1 - u_active[i]
    coh[#coh + 1] = i
    if i % 5 == 0 then -- a fixed fifth held out for the concordance
      hoX[#hoX + 1], hoT[#hoT + 1], hoE[#hoE + 1] = x, tt, e
    else
      fitX[#fitX + 1], fitT[#fitT + 1], fitE[#fitE + 1] = x, tt, e
    end
  end
end
local cox = S.cox(fitX, fitT, fitE, {names = cox_names})
local ph = cox:ph_test(fitX, fitT, fitE, {transform = "km"})
local ph_of = {}
for _, row in ipairs(ph) do ph_of[row.name] = row end
local crow = {{"covariate", "hazard ratio", "95% interval", "p", "PH test p", "proportional?"}}
local flagged = {}
for _, s in ipairs(cox:summary()) do
  if s.dropped then
    crow[#crow + 1] = {s.name, "dropped", s.dropped, "", "", ""}
  else
    local t = ph_of[s.name]
    crow[#crow + 1] = {s.name, s.hr, fmt("[%.2f, %.2f]", s.lo, s.hi), fmt("%.2g", s.p), fmt("%.2g", t.p),
      t.violates and "**no**: effect changes over time" or "yes"}
    if t.violates then flagged[#flagged + 1] = s.name end
  end
end
crow[#crow + 1] = {"global PH test", "", "", "", fmt("%.2g", ph.global.p), ph.global.violates and "**no**" or "yes"}
local c_h, c_info = cox:concordance(hoX, hoT, hoE)
local c_u = cox:concordance(hoX, hoT, hoE, {method = "uno", tau = 5})
r:text(fmt([[
%d customers signed up inside the window; %d cancelled. The model is fitted on %d of them and
its ranking is checked on the other %d (every fifth customer): Harrell's concordance **%.3f**
(%d comparable pairs; 0.5 = a coin toss, 1 = a perfect ranking of who cancels first), Uno's
**%.3f** (censoring-weighted, up to 5 months). The proportional-hazards test (scaled
Schoenfeld residuals against the Kaplan-Meier time scale) asks whether each hazard ratio holds
over the whole lifetime; %s.]], #coh, (function() local k = 0 for _, e in ipairs(fitE) do k = k + e end for _, e in ipairs(hoE) do k = k + e end return k end)(),
  #fitX, #hoX, c_h, c_info.pairs, c_u,
  #flagged == 0 and "no covariate violates it at the 5% level"
    or ("it flags " .. table.concat(flagged, ", ") .. ": read their hazard ratio as an average over the first months, not a constant")))
r:table(crow, {digits = 3, caption = "Cox proportional hazards (Efron ties), monthly hazard of cancelling for new customers; the PH test flags p < 0.05"})

-- predicted retention curves for a few profiles
local profiles = {
  {"basic, gift card, social, 1 device", {1, 0, 0, 0, 1, 0, 1, 0, 0, 0}},
  {"standard, card, organic, 1 device", {0, 0, 0, 0, 0, 0, 0, 0, 0, 0}},
  {"premium, card, referral, 3 devices", {0, 1, 0, 0, 0, 0, 0, 1, 0, 2}},
  {"basic, card, partner, 2 devices", {1, 0, 0, 0, 0, 0, 0, 0, 1, 1}},
}
local base = cox:baseline()
local grid = {0}
for _, tt in ipairs(base.time) do grid[#grid + 1] = tt end
local PX = {}
for k, pr in ipairs(profiles) do PX[k] = pr[2] end
local Sp = cox:survival(PX, grid)
local pmed, prm = cox:expected_lifetime(PX, {horizon = 6})
local pclv = cox:clv(PX, {margin = {7.99, 12.99, 17.99, 7.99}, discount = 0.01, horizon = 6})
local series, prow = {}, {{"profile", "S(3 months)", "S(6 months)", "median (months)", "months subscribed of the first 6", "6-month value"}}
local S36 = cox:survival(PX, {3, 6})
for k, pr in ipairs(profiles) do
  local sv = {}
  for j = 1, #grid do sv[j] = Sp:get(k, j) end
  series[#series + 1] = {time = grid, surv = sv, name = pr[1]}
  local m = pmed:get(k)
  prow[#prow + 1] = {pr[1], S36:get(k, 1), S36:get(k, 2), m == m and fmt("%.1f", m) or "> 6 (not reached)", prm:get(k), pclv:get(k)}
end
assert(r:figure(plot.survival(series):set{title = "Predicted retention of new customers by profile (Cox)",
  xlabel = "months since signup", ylabel = "share still subscribed"},
  {caption = "S(t|x) = exp(-H0(t) exp(x'b)): the baseline hazard of the fitted cohort scaled by each profile's hazard ratio."}))
r:table(prow, {digits = 3, caption = "Profiles: retention, median lifetime, restricted mean (expected months subscribed in the first 6) and 6-month value (list price per month, 1%/month discount)"})

-- every new customer's own curve: expected months and value over the first 6 months
local allX, price = {}, {}
for k, i in ipairs(coh) do allX[k], price[k] = covariates(i), u_price[i] end
local _, rm_all = cox:expected_lifetime(allX, {horizon = 6})
local clv6 = cox:clv(allX, {margin = price, discount = 0.01, horizon = 6})
local rml, clvl, tot = {}, {}, 0
for k = 1, #coh do rml[k], clvl[k] = rm_all:get(k), clv6:get(k); tot = tot + clvl[k] end
assert(r:figure(plot.hist{{values = rml, name = "customers"}, bins = 30,
  title = "Expected months subscribed in the first 6 (per new customer)", xlabel = "months", ylabel = "customers"},
  {caption = "The restricted mean of each customer's own survival curve: the area under S(t|x) up to 6 months."}))
assert(r:figure(plot.hist{{values = clvl, name = "customers"}, bins = 30,
  title = "6-month value per new customer (own survival curve)", xlabel = "currency units", ylabel = "customers"},
  {caption = fmt("Sum over months k = 1..6 of price x S(k|x) / 1.01^k; %d customers, %.0f in total. The cohort is followed for 6 months only, so the curves (and values) stop there: a longer horizon would be an extrapolation.", #coh, tot)}))

-- ---- value -------------------------------------------------------------------------------------

r:h1("What customers are worth")
local p_all = model:predict((pipe:transform(features)))
local fprice = features.monthly_price:totable()
local clv, at_risk = {}, 0
for i = 1, nrow do
  clv[i] = V.clv{p = math.min(0.99, p_all:get(i)), margin = fprice[i], horizon = 24, discount = 0.01}
  at_risk = at_risk + p_all:get(i) * clv[i]
end
assert(r:figure(plot.hist{{values = clv, name = "CLV"}, bins = 40, title = "Customer lifetime value (24 months, 1%/month discount)",
  xlabel = "currency units", ylabel = "customers"}, {caption = "Expected remaining revenue from the churn model's monthly risk."}))
r:text(fmt("Expected value at risk in the next month (churn probability x CLV, summed): **%.0f** currency units.", at_risk))
r:code("churnlab notebooks/04_drivers.lua")
local out = assert(r:save())
print("04_drivers: wrote " .. out)
