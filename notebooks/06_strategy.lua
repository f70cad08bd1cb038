-- 06_strategy.lua: which retention action pays, for whom, under a budget - estimated from our
-- models and the past campaign, then checked against what the simulated world says really
-- happens (reports/06_strategy.html, reports/strategy_check.json).
--
--   churnlab notebooks/06_strategy.lua [data/synth [reports [budget = 15000]]]
--
-- The chain an analyst would follow:
--   1. churn probabilities for every active customer, out-of-fold (each customer scored by a
--      model that never saw them) and calibrated (isotonic, cross-fitted over the same folds);
--   2. the effect of a discount, learned from the past randomised campaign (campaign.csv) as a
--      hazard ratio per customer from the plan and the newsletter price trace (emails.csv: the
--      visible carriers of price sensitivity), at 25% and, through the documented
--      dose-response, at 10%, and
--      of a personal outreach call, from a pilot (here: the simulator's documented hazard
--      coefficients stand in for one), larger for customers with open tickets or payment
--      failures;
--   3. the money at stake per customer: twelve months of revenue at the customer's own price,
--      along the customer's own Cox survival curve levelled by their calibrated risk;
--   4. strategies (discount or call everyone, call the riskiest fifth, nobody) simulated with
--      their costs, and the budget-constrained plan that assigns at most one action per
--      customer to maximise expected net value, cross-fitted (chosen with one half of the
--      campaign, estimated with the other) so the estimate does not reward the plan's luck;
--   5. the ground truth: the world replays the next 360 days under each plan with the same
--      random numbers, and we compare estimated with true net value, next to an oracle plan
--      that knows the true risks and effects (the world's hazard) and spends the same budget;
--   5b. where the value is lost: plans from partial truths (true risks or effects, true average
--      or observable effects), every plan judged by its expected true value (the mean over
--      independent replays, w:replay{luck}) as well as by the one replay.
-- The 90% intervals carry the customers' luck, bootstrap refits of the risk model and of its
-- calibration (with the values computed from them), the campaign bootstrap of the discount's
-- hazard ratios, a pilot-sized error of the call's effect and an assumed transport error of
-- the discounts (strategy_check.json's "interval" lists them); make strategy-coverage
-- measures how often they hold the truth over 50 seeded worlds.
local cl = require "churnlab"
local plot, report = cl.plot, cl.report
local S = require "churnlab.strategy"

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local SEED = 42
local HORIZON_MONTHS = 12          -- value horizon and replay horizon (360 days)
local DISCOUNT_PCT, CONTACT = 25, 0.5  -- one month at 25% off; 0.50 per e-mail sent
local SMALL_PCT = 10                   -- a smaller offer: one month at 10% off
local CALL = 3.0                       -- cost of one outreach call
local BUDGET = tonumber(arg and arg[3]) or 15000 -- scripts/strategy_coverage.lua scales it to small worlds
local fmt = string.format

local function read(name)
  local ok, f = pcall(cl.read_csv, DATA .. "/" .. name) -- raises naming the file
  if not ok then error("06_strategy: " .. tostring(f) .. " (run make data and 02_features)", 0) end
  return f
end
-- the world that wrote the data: its parameters from the data dictionary (README.md)
local function world_params()
  local f = io.open(DATA .. "/README.md", "rb")
  if not f then error("06_strategy: cannot read " .. DATA .. "/README.md (the world's parameters)", 0) end
  local params = {}
  for line in f:lines() do
    local k, v = line:match("^| `([%w_]+)` | (%-?[%d%.]+) |")
    if k then params[k] = math.tointeger(tonumber(v)) or tonumber(v) end
  end
  f:close()
  return params
end
-- the snapshot is the start of day `days` (the observation window's length)
local SNAP_DAY = world_params().days or error("06_strategy: " .. DATA .. "/README.md has no 'days' parameter", 0)
local features, campaign = read("features.csv"), read("campaign.csv")

-- ---- 0. price sensitivity's visible trace: the newsletter log -----------------------------
-- The discount works through price sensitivity, which nobody sees; what the service does see
-- is how customers react to prices: every fortnight's newsletter links to the plans and
-- prices, and price-sensitive customers follow the link more often (emails.csv). A customer's
-- share of opened newsletters whose price link they followed is noisy (a handful of opens),
-- so it is shrunk to its expected value: the posterior mean of the click probability under a
-- beta prior fitted to everyone (method of moments), (clicks + a) / (opens + a + b). A
-- posterior mean keeps one scale whatever the number of opens, so an effect fitted on the
-- shares before the campaign (its customers' pre-treatment trace) carries to the shares of
-- the whole window at the snapshot without the dilution a raw share would have.
local CAMPAIGN_DAY = world_params().campaign_day or error("06_strategy: " .. DATA .. "/README.md has no 'campaign_day'", 0)
local click_share, CLICK_MEAN
do
  local e = read("emails.csv")
  local u, d, o, c = e.user_id:totable(), e.day:totable(), e.opened:totable(), e.price_click:totable()
  local function counts(upto)
    local opens, clicks = {}, {}
    for k = 1, #u do
      if d[k] < upto and o[k] == 1 then
        opens[u[k]], clicks[u[k]] = (opens[u[k]] or 0) + 1, (clicks[u[k]] or 0) + c[k]
      end
    end
    return opens, clicks
  end
  local opens, clicks = counts(SNAP_DAY)
  local so, sc, nx, sx, sx2, sinv = 0, 0, 0, 0, 0, 0
  for id, k in pairs(opens) do
    so, sc = so + k, sc + clicks[id]
    local x = clicks[id] / k
    nx, sx, sx2, sinv = nx + 1, sx + x, sx2 + x * x, sinv + 1 / k
  end
  local m = so > 0 and sc / so or 0.5
  -- Var(share) = Var(q) + E[q (1 - q) / opens]: the binomial part removed leaves the spread of
  -- the click probabilities q; with too little spread to measure, a strong prior (a + b = 1000)
  local inv = nx > 0 and sinv / nx or 1
  local var_x = nx > 1 and sx2 / nx - (sx / nx) ^ 2 or 0
  local var_q = (var_x - m * (1 - m) * inv) / math.max(1e-9, 1 - inv)
  local ab = var_q > 1e-6 and math.min(1000, math.max(0.5, m * (1 - m) / var_q - 1)) or 1000
  local a, b = m * ab, (1 - m) * ab
  CLICK_MEAN = m
  local pre_o, pre_c = counts(CAMPAIGN_DAY)
  local function share(oo, cc) return function(id) return ((cc[id] or 0) + a) / ((oo[id] or 0) + a + b) end end
  click_share = {window = share(opens, clicks), pre_campaign = share(pre_o, pre_c), prior = {a = a, b = b}}
end
-- the risk model sees the trace too (price-sensitive customers churn more)
do
  local fid, z = features.user_id:totable(), {}
  for i = 1, #fid do z[i] = click_share.window(fid[i]) end
  local joined = features:join(cl.frame{user_id = fid, price_click_share = z}, "user_id", {how = "left"})
  local jid = joined.user_id:totable()
  for i = 1, #fid do assert(jid[i] == fid[i], "06_strategy: the join reordered the customers") end
  features = joined
end
local n = features:nrow()
local ids = features.user_id:totable()

-- ---- 1. out-of-fold, calibrated churn probabilities ----------------------------------------

local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
                              encode = "onehot", scale = "minmax"}
pipe:fit(features)
local X, y = pipe:transform(features)
-- out-of-fold scores; refit k > 0 fits each fold's model on a bootstrap resample of its
-- training rows with another seed (the model's own refit variance, section 1b)
local FOLDS = features:kfold{k = 3, stratify = "churn", seed = SEED}
local function oof_scores(refit)
  local out = cl.tensor.zeros(n)
  for f, fold in ipairs(FOLDS) do
    local train = fold.train
    if refit > 0 then
      local u = cl.tensor.rand(#train, 1, {seed = SEED + 100 * refit + f})
      local b = {}
      for k = 1, #train do b[k] = train[math.min(#train, math.floor(u:get(k, 1) * #train) + 1)] end
      train = b
    end
    local m = cl.gbdt{trees = 250, depth = 4, lr = 0.05, seed = SEED + refit}
    m:fit(X:index_rows(train), y:index_rows(train))
    local q = m:predict(X:index_rows(fold.test))
    for k, i in ipairs(fold.test) do out:set(i, q:get(k)) end
  end
  return out
end
-- The calibration is cross-fitted too: fold f's customers are mapped by an isotonic fit of
-- the other folds' scores and outcomes. Fitted in-sample, the step function follows each
-- customer's own outcome (a churner's step is pulled up by their own label), which makes the
-- churners look riskier than a model can know and every action aimed at them look better.
-- rows (optional): the resample whose scores and outcomes are fitted (a bootstrap replicate:
-- a list of row numbers, with repeats); each fold's fit takes the resample's rows outside it.
local function calibrated(scores, rows)
  local out = cl.tensor.zeros(n)
  for _, fold in ipairs(FOLDS) do
    local inside, train = {}, {}
    for _, i in ipairs(fold.test) do inside[i] = true end
    for _, i in ipairs(rows or fold.train) do if not inside[i] then train[#train + 1] = i end end
    local q = cl.calibrate.isotonic():fit(scores:index_rows(train), y:index_rows(train)):predict(scores:index_rows(fold.test))
    for k, i in ipairs(fold.test) do out:set(i, q:get(k)) end
  end
  return out
end
local oof = oof_scores(0)
local p = calibrated(oof)
-- the old in-sample calibration, kept only to compare its plan with this one (section 5b)
local p_insample = cl.calibrate.isotonic():fit(oof, y):predict(oof):totable()
local auc = cl.metrics.roc_auc(y, p)

-- ---- 1b. how wrong the probabilities may be: refit and bootstrap replicates ---------------
-- REFITS bootstrap refits of the gradient-boosted model give other out-of-fold scores (the
-- model's refit variance); each of the R replicates takes the scores of refit r % REFITS
-- and refits the calibration on a bootstrap resample of the customers (their scores and
-- outcomes), then re-maps every score: R equally likely sets of churn probabilities, and
-- the values that go with them (section 3). The simulation draws each of its Monte Carlo
-- runs from one replicate, so the plans' intervals carry the error of the risk model and its
-- calibration as well as the customers' luck.
local R, REFITS = 40, 4
local p_boot = {}
do
  local scores = {[0] = oof}
  for k = 1, REFITS - 1 do scores[k] = oof_scores(k) end
  local u = cl.tensor.rand(n, R, {seed = SEED + 1})
  for r = 1, R do
    local idx = {}
    for i = 1, n do idx[i] = math.min(n, math.floor(u:get(i, r) * n) + 1) end
    local sc = scores[r % REFITS]
    p_boot[r] = calibrated(sc, idx):totable()
  end
end

-- ---- 2. the discount's effect, from the randomised campaign --------------------------------

local t_rate, c_rate, nt, nc
do
  local tr, ch = campaign.treated:totable(), campaign.churn:totable()
  local kt, kc = 0, 0
  nt, nc = 0, 0
  for i = 1, #tr do
    if tr[i] == 1 then nt, kt = nt + 1, kt + ch[i] else nc, kc = nc + 1, kc + ch[i] end
  end
  t_rate, c_rate = kt / nt, kc / nc
end
local effect = 1 - t_rate / c_rate
-- delta-method standard error of 1 - rT/rC
local effect_sd = (t_rate / c_rate) * math.sqrt((1 - t_rate) / (nt * t_rate) + (1 - c_rate) / (nc * c_rate))
-- As a hazard ratio (churn is a daily hazard: survival multiplies, so S_T = S_C ^ HR), which
-- carries to a customer with monthly risk p as p' = 1 - (1 - p) ^ HR: a relative effect of
-- 1 - p'/p that is smaller for riskier customers than the campaign's average.
local hr_discount = math.log(1 - t_rate) / math.log(1 - c_rate)
-- (clipped at -1, a doubled risk: a bootstrap replicate of a small world's plan can say
-- the discount triples the hazard, and the simulation takes relative effects in [-1, 1])
local function relative(p_i, hr)
  if p_i <= 0 then return math.max(-1, 1 - hr) end
  return math.max(-1, 1 - (1 - (1 - p_i) ^ hr) / p_i)
end

-- ---- 2a. whom the discount moves: a hazard ratio per plan and price trace -----------------
-- The world's discount works through price sensitivity; the plan carries some of it (basic
-- customers are the most price-sensitive) and the newsletter trace more (section 0). The
-- campaign's pooled ratio of log survivals also assumes every customer had the same risk.
-- So: a churn model of the controls (their visible attributes and trace) gives each treated
-- customer's 60-day risk c_i without the discount, and the treated's churn is fitted by
-- maximum likelihood as 1 - (1 - c_i) ^ HR_i with log HR_i = alpha_plan + beta (z_i - zbar),
-- z_i the customer's pre-campaign click share: a T-learner on the hazard scale (a binomial
-- model with the complementary log-log link and offset log(-log(1 - c_i)), fitted by Fisher
-- scoring; with beta = 0 and one plan it is the pooled ratio). The world's own log hazard
-- ratio is linear in the sensitivity, and the click share roughly so.
-- Its sampling error comes from R_EFFECT bootstrap resamples of both arms (the control
-- model's level follows each resample's control churn rate), drawn with section 1b's
-- replicates in the simulation.
-- Cross-fitting (section 4): the campaign is split in two random halves with a model each; a
-- customer's plan is chosen with one half's model and its value estimated with the other's,
-- so the estimate is not judged by the same errors the plan was chosen on (the optimiser's
-- curse: a lucky hazard ratio both draws the plan to discounts and inflates its estimate).
local PLANS = {"basic", "standard", "premium"}
local PLAN_COL = {basic = 1, standard = 2, premium = 3}
-- The fit (churnlab.strategy.hazard_ratio, checked against statsmodels' GLM): rows
-- (campaign row numbers of the treated), c (control risks), y, x (rows of {plan index,
-- centred z}), w (weights by position in rows); returns {alpha[3], beta}.
-- A normal prior keeps a small campaign's half from chasing chance (a plan's ratio drawn to
-- its part's pooled ratio with sd ALPHA_SD on the log scale, the slope to 0 with sd BETA_SD;
-- on the default world's halves the data outweigh it: their bootstrap sd are far smaller).
-- (The world's own slope is about -0.44: its log ratio is -0.15 - 0.46 s and the shrunk
-- share moves about one for one with s; an assumption the prior does not use.)
local ALPHA_SD, BETA_SD = 0.25, 1.0
local function fit_hr(rows, c, y, x, w, log_pooled)
  local risk, yy, X, ww = {}, {}, {}, {}
  for k, i in ipairs(rows) do
    local v = {0, 0, 0, x[i][2]}
    v[x[i][1]] = 1
    risk[k], yy[k], X[k], ww[k] = math.min(c[i], 1 - 1e-9), y[i], v, w[k]
  end
  local f = S.hazard_ratio(risk, yy, X, {weights = ww, start = {log_pooled, log_pooled, log_pooled, 0},
    prior = {mean = {log_pooled, log_pooled, log_pooled, 0}, sd = {ALPHA_SD, ALPHA_SD, ALPHA_SD, BETA_SD}}})
  return {alpha = {f.theta[1], f.theta[2], f.theta[3]}, beta = f.theta[4]}
end
local R_EFFECT = R -- one effect replicate per probability replicate
local hr_models -- [0] the whole campaign, [1] and [2] its halves; each {fit, draws}
do
  local users = read("users.csv"):select{"user_id", "age_band", "region", "plan", "payment_method",
                                          "devices", "channel", "signup_day"}
  local camp = campaign:select{"user_id", "treated", "churn"}:join(users, {"user_id"})
  local cid, zc = camp.user_id:totable(), {}
  for i = 1, #cid do zc[i] = click_share.pre_campaign(cid[i]) end
  camp = camp:join(cl.frame{user_id = cid, price_click_share = zc}, "user_id", {how = "left"})
  local jid = camp.user_id:totable()
  for i = 1, #cid do assert(jid[i] == cid[i], "06_strategy: the join reordered the campaign") end
  local cp = cl.prep.pipeline{target = "churn", drop = {"user_id", "treated"}, impute = "median",
                              encode = "onehot", scale = "minmax"}
  cp:fit(camp)
  local Xc, yc = cp:transform(camp)
  local tr, yv, plans = camp.treated:totable(), yc:totable(), camp.plan:totable()
  local x = {}
  for i = 1, #tr do x[i] = {PLAN_COL[plans[i]] or 2, zc[i] - CLICK_MEAN} end
  local half = cl.tensor.rand(#tr, 1, {seed = SEED + 3})
  local function model_of(part, seed)
    local ctrl, trt = {}, {}
    for _, i in ipairs(part) do if tr[i] == 1 then trt[#trt + 1] = i else ctrl[#ctrl + 1] = i end end
    local yctl = {}
    for k, i in ipairs(ctrl) do yctl[k] = yv[i] end
    local m0 = cl.gbdt{trees = 150, depth = 3, lr = 0.05, seed = SEED}
    m0:fit(Xc:index_rows(ctrl), cl.tensor(yctl))
    local c = m0:predict(Xc):totable()
    local c_mean = 0
    for _, i in ipairs(ctrl) do c_mean = c_mean + c[i] / #ctrl end
    local ones = setmetatable({}, {__index = function() return 1 end})
    -- the part's pooled ratio (section 2's formula on its own arms) centres the prior
    local kt, kc0 = 0, 0
    for _, i in ipairs(trt) do kt = kt + yv[i] end
    for _, i in ipairs(ctrl) do kc0 = kc0 + yv[i] end
    local function pooled(rt, rc)
      return (rt > 0 and rt < 1 and rc > 0 and rc < 1) and
        math.max(-3, math.min(1, math.log(math.log(1 - rt) / math.log(1 - rc)))) or math.log(hr_discount)
    end
    local fit = fit_hr(trt, c, yv, x, ones, pooled(kt / math.max(1, #trt), kc0 / math.max(1, #ctrl)))
    -- bootstrap: weights = resample counts of every treated and control row of the part
    local u = cl.tensor.rand(#part, R_EFFECT, {seed = seed})
    local draws = {}
    for r = 1, R_EFFECT do
      local cnt = {}
      for k = 1, #part do
        local j = part[math.min(#part, math.floor(u:get(k, r) * #part) + 1)]
        cnt[j] = (cnt[j] or 0) + 1
      end
      local kc, wc = 0, 0
      for _, i in ipairs(ctrl) do kc, wc = kc + (cnt[i] or 0) * yv[i], wc + (cnt[i] or 0) end
      local level = wc > 0 and (kc / wc) / c_mean or 1 -- the resample's control churn over the model's
      local cr = {}
      for i = 1, #tr do cr[i] = math.min(1 - 1e-9, c[i] * level) end
      local w, kt_r, wt = {}, 0, 0
      for k, i in ipairs(trt) do w[k] = cnt[i] or 0; kt_r, wt = kt_r + w[k] * yv[i], wt + w[k] end
      -- the prior's centre is the resample's own pooled ratio: held at the part's, it would
      -- hide the sampling error of the discount's overall level from the intervals
      draws[r] = fit_hr(trt, cr, yv, x, w, pooled(kt_r / math.max(1, wt), wc > 0 and kc / wc or 0))
    end
    return {fit = fit, draws = draws, treated = #trt}
  end
  local all, h1, h2 = {}, {}, {}
  for i = 1, #tr do
    all[#all + 1] = i
    if half:get(i, 1) < 0.5 then h1[#h1 + 1] = i else h2[#h2 + 1] = i end
  end
  hr_models = {[0] = model_of(all, SEED + 2), model_of(h1, SEED + 4), model_of(h2, SEED + 5)}
end
-- customer i's discount hazard ratio (plan name, click share z) under model m, replicate r
local function hr_of(m, plan_name, z, r)
  local f = r and m.draws[r] or m.fit
  return math.max(0.01, math.min(5, math.exp(f.alpha[PLAN_COL[plan_name] or 2] + f.beta * (z - CLICK_MEAN))))
end
-- The same, unbiased on the ratio's scale: the fit is (nearly) unbiased for the log ratio, so
-- exp of it runs high by exp(var / 2) (var: the replicates' variance of the log ratio), and
-- the simulation averages the replicates, whose mean runs as high again; a small campaign's
-- noisy ratio would make every discount look worse than it is. Returns the corrected ratio
-- exp(log ratio - var / 2) and the replicates scaled to have it as their mean.
local function hr_unbiased(m, plan_name, z)
  local lr, s1, s2, reps = math.log(hr_of(m, plan_name, z)), 0, 0, {}
  for r = 1, #m.draws do
    reps[r] = hr_of(m, plan_name, z, r)
    local l = math.log(reps[r])
    s1, s2 = s1 + reps[r], s2 + l * l
  end
  local R0 = #m.draws
  local lm = 0
  for r = 1, R0 do lm = lm + math.log(reps[r]) / R0 end
  local var = math.max(0, s2 / R0 - lm * lm)
  local point = math.exp(lr - var / 2)
  local scale = point / (s1 / R0)
  for r = 1, R0 do reps[r] = reps[r] * scale end
  return point, reps
end
-- for the report: the whole campaign's ratio per plan at the average trace, and the trace's
-- slope, with their bootstrap sd
local hr_plan, hr_plan_sd, hr_beta, hr_beta_sd = {}, {}, hr_models[0].fit.beta, 0
do
  local m = hr_models[0]
  for _, g in ipairs(PLANS) do
    local s1, s2 = 0, 0
    for r = 1, R_EFFECT do local h = hr_of(m, g, CLICK_MEAN, r); s1, s2 = s1 + h, s2 + h * h end
    hr_plan[g], hr_plan_sd[g] = hr_of(m, g, CLICK_MEAN), math.sqrt(math.max(0, s2 / R_EFFECT - (s1 / R_EFFECT) ^ 2))
  end
  local s1, s2 = 0, 0
  for r = 1, R_EFFECT do local b = m.draws[r].beta; s1, s2 = s1 + b, s2 + b * b end
  hr_beta_sd = math.sqrt(math.max(0, s2 / R_EFFECT - (s1 / R_EFFECT) ^ 2))
end
-- ---- 2b. who responds to the discount: uplift models against risk ranking ----------------
-- The campaign's customers with their visible attributes (users.csv) and price trace, half for fitting, half
-- for judging; scored by each learner, judged by the Qini curve on the held-out half.
local U = require "churnlab.uplift"
local uplift_rows, qini_series = {}, {}
local judged -- the held-out half, for the oracle's Qini in section 5
do
  local users = read("users.csv"):select{"user_id", "age_band", "region", "plan", "monthly_price",
                                          "payment_method", "devices", "channel", "signup_day"}
  local camp = campaign:select{"user_id", "treated", "churn"}:join(users, {"user_id"})
  -- with each customer's pre-campaign price trace (section 0)
  local cid, zc = camp.user_id:totable(), {}
  for i = 1, #cid do zc[i] = click_share.pre_campaign(cid[i]) end
  camp = camp:join(cl.frame{user_id = cid, price_click_share = zc}, "user_id", {how = "left"})
  local fit_part, judge = camp:split{test = 0.5, stratify = "treated", seed = SEED}
  local up = cl.prep.pipeline{target = "churn", drop = {"user_id", "treated"}, impute = "median",
                              encode = "onehot", scale = "minmax"}
  up:fit(fit_part)
  local Xf, yf = up:transform(fit_part)
  local Xj = up:transform(judge)
  local tf = fit_part.treated:totable()
  local tj, cj = judge.treated:totable(), judge.churn:totable()
  local stayed = {}
  for i = 1, #cj do stayed[i] = 1 - cj[i] end
  judged = {ids = judge.user_id:totable(), stayed = stayed, treated = tj}
  local make = function() return cl.gbdt{trees = 150, depth = 3, lr = 0.05, seed = SEED} end
  local scores = {}
  local tl = U.tlearner(make):fit(Xf, yf, tf)
  scores[#scores + 1] = {"T-learner", tl:predict(Xj)}
  -- the S-learner: the same trees with the treatment as one more column (trees may split on
  -- it rarely when its effect is small beside the attributes')
  scores[#scores + 1] = {"S-learner", U.slearner(make):fit(Xf, yf, tf):predict(Xj)}
  -- the class transformation needs a 50/50 campaign; a small world's random half may not be
  -- one, and then the learner is left out of the table rather than stopping the notebook
  local ok, ct = pcall(function() return U.transform(make):fit(Xf, yf, tf) end)
  if ok then scores[#scores + 1] = {"class transformation", ct:predict(Xj)} end
  local reg = function() return cl.gbdt{objective = "squared", trees = 150, depth = 3, lr = 0.05, seed = SEED} end
  scores[#scores + 1] = {"X-learner", U.xlearner(make, {regressor = reg}):fit(Xf, yf, tf):predict(Xj)}
  scores[#scores + 1] = {"DR-learner", U.drlearner(make, {regressor = reg, seed = SEED}):fit(Xf, yf, tf):predict(Xj)}
  -- the hazard-ratio model of section 2a (plan and price trace), fitted on this half's treated
  -- against the T-learner's control model: its predicted drop in churn, c - (1 - (1 - c) ^ HR)
  do
    local cf, cjr = tl.control_model:predict(Xf):totable(), tl.control_model:predict(Xj):totable()
    local plf, plj = fit_part.plan:totable(), judge.plan:totable()
    local zf, zj = fit_part.price_click_share:totable(), judge.price_click_share:totable()
    local yfl = yf:totable()
    local rr, ry, rX = {}, {}, {}
    for i = 1, #tf do
      if tf[i] == 1 then
        local v = {0, 0, 0, zf[i] - CLICK_MEAN}
        v[PLAN_COL[plf[i]] or 2] = 1
        rr[#rr + 1], ry[#ry + 1], rX[#rX + 1] = math.min(cf[i], 1 - 1e-9), yfl[i], v
      end
    end
    local th = S.hazard_ratio(rr, ry, rX, {start = {math.log(hr_discount), math.log(hr_discount),
                                                   math.log(hr_discount), 0}}).theta
    local up = {}
    for i = 1, #cjr do
      local c = math.min(cjr[i], 1 - 1e-9)
      local hr = math.exp(math.max(-6, math.min(3, th[PLAN_COL[plj[i]] or 2] + th[4] * (zj[i] - CLICK_MEAN))))
      up[i] = c - (1 - (1 - c) ^ hr)
    end
    scores[#scores + 1] = {"hazard-ratio model (plan, price trace)", cl.tensor(up)}
  end
  -- plain risk ranking: the control model's churn probability (riskiest first)
  scores[#scores + 1] = {"risk ranking", tl.control_model:predict(Xj)}
  scores[#scores + 1] = {"random", cl.tensor.rand(#cj, 1, {seed = SEED})}
  for _, sc in ipairs(scores) do
    local q = U.qini(stayed, tj, sc[2])
    uplift_rows[#uplift_rows + 1] = {sc[1], fmt("%.4f", q.qini_auc), fmt("%.4f", q.uplift_auc),
                                     fmt("%.6f", q.coefficient)}
    local xs, ys = {}, {}
    for k = 1, #q.x do xs[k] = q.x[k] / q.n; ys[k] = q.qini[k] end
    qini_series[#qini_series + 1] = {x = xs, y = ys, name = sc[1]}
    uplift_rows[sc[1]] = q.qini_auc
  end
end

-- ---- 3. money at stake -----------------------------------------------------------------------

local price = features.monthly_price:totable()
-- A customer kept through month 1 pays the rest of month 1 (half of it, on average, more
-- than a churner does) and then stays each later month along their own survival curve
-- S(t | x) from a Cox model (Efron ties, monthly time), conditioned on surviving month 1 and
-- levelled by the calibrated risk (value_of below). This replaced a constant monthly risk p
-- for all twelve months: per customer kept, estimated 75.5 against the world's 69.6 with the
-- constant risk, 74.2 with the Cox curve (default world), and it uses the curve's shape.
-- The model: every customer of users.csv followed from when they enter the window (day 0,
-- or signup inside it) to cancellation or the snapshot, with what the data knows of them
-- (plan, payment, channel, devices) and their tenure at entry (log months) as covariates,
-- and applied at the snapshot with today's tenure: a landmark model that carries the
-- window's hazard forward (including the window's price rise, which need not recur). The
-- window is 6 months long, so the curve is fitted up to 6 months; months 7..12 continue at
-- each customer's own monthly hazard of months 4..6 (an extrapolation). Without the
-- levelling, the curve of static attributes valued the customers an action keeps (the
-- riskier ones) at 89.5 per customer, far above the truth.
local COX_NAMES = {"plan basic", "plan premium", "pay debit", "pay paypal", "pay gift card", "channel search",
                   "channel social", "channel referral", "channel partner", "extra devices", "log tenure months"}
local function cox_row(plan, pay, chan, devices, tenure_days)
  return {plan == "basic" and 1 or 0, plan == "premium" and 1 or 0, pay == "debit" and 1 or 0,
    pay == "paypal" and 1 or 0, pay == "gift_card" and 1 or 0, chan == "search" and 1 or 0,
    chan == "social" and 1 or 0, chan == "referral" and 1 or 0, chan == "partner" and 1 or 0,
    devices - 1, math.log(1 + tenure_days / 30)}
end
local cox, cox_logs, cox_month1, cox_fitted_months, cox_info
do
  local users = read("users.csv")
  local sd, act, cd = users.signup_day:totable(), users.active:totable(), users.churn_day:totable()
  local pln, pay, chan, dev = users.plan:totable(), users.payment_method:totable(), users.channel:totable(),
                              users.devices:totable()
  local CX, CT, CE = {}, {}, {}
  for i = 1, #sd do
    local entry = math.max(0, sd[i])
    local stop = act[i] == 1 and SNAP_DAY or cd[i]
    if stop and stop > entry then
      CX[#CX + 1] = cox_row(pln[i], pay[i], chan[i], dev[i], entry - sd[i])
      CT[#CT + 1], CE[#CE + 1] = (stop - entry) / 30, 1 - act[i]
    end
  end
  cox = cl.survival.cox(CX, CT, CE, {names = COX_NAMES})
  local ev = 0
  for k = 1, #CE do ev = ev + CE[k] end
  cox_info = {n = #CX, events = ev}
  cox_fitted_months = math.floor(SNAP_DAY / 30)
  local fpl, fpay, fch, fdev = features.plan:totable(), features.payment_method:totable(),
                               features.channel:totable(), features.devices:totable()
  local ftn = features.tenure_days:totable()
  local AX = {}
  for i = 1, n do AX[i] = cox_row(fpl[i], fpay[i], fch[i], fdev[i], ftn[i]) end
  local M = cox_fitted_months
  -- log S(1 + k | x) / S(1 | x) for k = 1..11: inside the fitted range from the curve, after
  -- it at the customer's own monthly hazard of months M-2..M (the last three fitted months)
  local times = {}
  for t = 1, M do times[t] = t end
  local Sg = cox:survival(AX, times)
  cox_logs, cox_month1 = {}, {}
  for i = 1, n do
    local s1, L = Sg:get(i, 1), {}
    for k = 1, M - 1 do L[k] = math.log(Sg:get(i, 1 + k) / s1) end
    local step = math.log(Sg:get(i, M) / Sg:get(i, M - 3)) / 3 -- log survival per month, months M-2..M
    for k = M, HORIZON_MONTHS - 1 do L[k] = L[M - 1] + (k - M + 1) * step end
    cox_logs[i], cox_month1[i] = L, math.log(s1)
  end
end
-- value_of(i, q): the revenue over 12 months of customer i kept through month 1, whose month-1
-- churn probability is q: the Cox curve's shape over the months, its level set by q (the
-- customer's hazard is theta times the curve's, theta = log(1 - q) / log S(1 | x), so the
-- curve's first month matches the calibrated risk and a riskier customer stays riskier).
local function value_of(i, q)
  local theta = cox_month1[i] < 0 and math.log(1 - math.min(q, 1 - 1e-9)) / cox_month1[i] or 1
  local v = 0.5
  for _, l in ipairs(cox_logs[i]) do v = v + math.exp(theta * l) end
  return price[i] * v
end
local value, pl = {}, {}
for i = 1, n do
  pl[i] = p:get(i)
  value[i] = value_of(i, pl[i])
end
local p_draws, value_draws = {}, {}
for i = 1, n do
  local pr, vr = {}, {}
  for r = 1, R do pr[r] = p_boot[r][i]; vr[r] = value_of(i, pr[r]) end
  p_draws[i], value_draws[i] = pr, vr
end
local customers = {p = pl, value = value, scale = price, p_draws = p_draws, value_draws = value_draws}
-- Cross-fitting (section 2a): customer i belongs to one of two random halves, h_i; its plan
-- is chosen with campaign half h_i's effect model (choose_*) and its value estimated with the
-- other half's (discount_effect, small_effect and their replicates: every estimate below).
local fplan, fz = features.plan:totable(), features.price_click_share:totable()
local half_of = {}
do
  local u = cl.tensor.rand(n, 1, {seed = SEED + 6})
  for i = 1, n do half_of[i] = u:get(i, 1) < 0.5 and 1 or 2 end
end
local eval_point, eval_reps, choose_point = {}, {}, {}
for i = 1, n do
  eval_point[i], eval_reps[i] = hr_unbiased(hr_models[3 - half_of[i]], fplan[i], fz[i])
  choose_point[i] = hr_unbiased(hr_models[half_of[i]], fplan[i], fz[i])
end
local function eval_hr(i, r) if r then return eval_reps[i][r] end return eval_point[i] end
local function choose_hr(i) return choose_point[i] end
local discount_effect, choose_discount = {}, {}
for i = 1, n do discount_effect[i], choose_discount[i] = relative(pl[i], eval_hr(i)), relative(pl[i], choose_hr(i)) end
local discount = {name = "discount", contact = CONTACT, accept = DISCOUNT_PCT / 100, reach = 1,
                  effect = discount_effect, effect_sd = effect_sd}
-- A smaller discount: the campaign tried only 25%, so its size enters through the data
-- dictionary's dose-response (a pilot's finding, as for the call): a discount of fraction d
-- acts as g(d) = (1 - exp(-d / 0.3)) / (1 - exp(-0.25 / 0.3)) of the 25% discount on the log
-- hazard (diminishing returns), so its hazard ratio is HR(25%) ^ g(d). Per cost it moves more
-- churn than the 25% offer, and more than a call for customers without open issues.
local function feel(d) return (1 - math.exp(-d / 0.3)) / (1 - math.exp(-0.25 / 0.3)) end
local G_SMALL = feel(SMALL_PCT / 100)
local small_effect, choose_small = {}, {}
for i = 1, n do
  small_effect[i], choose_small[i] = relative(pl[i], eval_hr(i) ^ G_SMALL), relative(pl[i], choose_hr(i) ^ G_SMALL)
end
local small = {name = "small discount", contact = CONTACT, accept = SMALL_PCT / 100, reach = 1,
               effect = small_effect, effect_sd = effect_sd * G_SMALL}
-- Outreach: the pilot says a call lowers the daily hazard by exp(-0.2) for 30 days, and by a
-- further exp(-0.6 * issues) for customers with open issues (recent tickets or payment
-- failures, capped at 1): a relative reduction of the month's churn risk per customer.
local coefs = {}
for _, c in ipairs(cl.synth.coefs()) do coefs[c.name] = c.value end
-- open issues as the documentation defines them: tickets and payment failures, each decayed
-- with a 30-day half-life to the snapshot (day 180), capped at 1
local SNAP = SNAP_DAY
local issues_of, issue_count = {}, {}
do
  local events = read("events.csv")
  local iss = events:filter(events.event:isin{"ticket", "payment_failed"})
  local u, d = iss.user_id:totable(), iss.day:totable()
  for k = 1, #u do
    issues_of[u[k]] = (issues_of[u[k]] or 0) + 0.5 ^ ((SNAP - d[k]) / 30)
    issue_count[u[k]] = (issue_count[u[k]] or 0) + 1
  end
end
-- During the call's 30 days the open issues keep decaying (30-day half-life) and new ones
-- arrive at the customer's own past rate (issues per day over the observed tenure), so the
-- call's hazard ratio is the month's average of exp(a + b min(1, issues at day t)).
local tenure = features.tenure_days:totable()
local call_effect, call_hr = {}, {}
for i = 1, n do
  local issues, hr = issues_of[ids[i]] or 0, 0
  local rate = (issue_count[ids[i]] or 0) / math.max(30, math.min(SNAP, tenure[i]))
  for t = 0, 29 do
    local decay = 0.5 ^ (t / 30)
    local open = issues * decay + rate * 30 / math.log(2) * (1 - decay)
    hr = hr + math.exp(coefs.action_outreach + coefs.action_outreach_issues * math.min(1, open)) / 30
  end
  call_effect[i], call_hr[i] = relative(pl[i], hr), hr
end

-- ---- 3b. how wrong the effects may be -------------------------------------------------------
-- Replicate r of every customer's effects goes with replicate r of the probabilities: the
-- discounts' from the campaign's bootstrap replicate r of the plan's hazard ratio (section
-- 2a), the call's from the replicate's probability. On top, each draw scales each action's
-- effects by one normal factor: for the discounts TRANSPORT_SD, the error of carrying a
-- three-month discount on the customers of the campaign day to a one-month discount now (an
-- assumption, not an estimate: nothing in the data measures it); for the call CALL_SD, the
-- sampling error a pilot the size of the campaign would have (the campaign's relative
-- standard error; the documented hazard ratio stands in for a pilot without one).
-- (a small world's campaign may show no benefit at all, effect <= 0: its relative error is
-- then unbounded and the call's is taken as 100%)
local TRANSPORT_SD, CALL_SD = 0.10, effect > 0 and effect_sd / effect or 1
local function draws_of(f)
  local d = {}
  for i = 1, n do
    local row = {}
    for r = 1, R do row[r] = f(i, r) end
    d[i] = row
  end
  return d
end
discount.effect_draws = draws_of(function(i, r) return relative(p_boot[r][i], eval_hr(i, r)) end)
small.effect_draws = draws_of(function(i, r) return relative(p_boot[r][i], eval_hr(i, r) ^ G_SMALL) end)
-- (sd from the mean effect's size: a small world's mean effect can be below zero)
local function mean_of(t) local m = 0 for i = 1, #t do m = m + t[i] / #t end return math.abs(m) end
discount.effect_sd = TRANSPORT_SD * mean_of(discount_effect)
small.effect_sd = TRANSPORT_SD * mean_of(small_effect)
local call = {name = "call", contact = CALL, reach = 1, effect = call_effect, effect_sd = CALL_SD * mean_of(call_effect),
              effect_draws = draws_of(function(i, r) return relative(p_boot[r][i], call_hr[i]) end)}

-- ---- 4. strategies -----------------------------------------------------------------------------

local function with(t, extra) local c = {} for k, v in pairs(t) do c[k] = v end for k, v in pairs(extra) do c[k] = v end return c end
local strategies = {
  with(discount, {name = "everyone", target = "all", budget = false}),
  with(call, {name = "call everyone", target = "all", budget = false}),
  with(call, {name = "riskiest fifth", target = {top = math.floor(n / 5)}}),
  with(small, {name = "10% off everyone", target = "all", budget = false}),
}
-- the discount's percent of each strategy (0: a call)
local PCT_OF = {DISCOUNT_PCT, 0, 0, SMALL_PCT}
-- The optimised plan, cross-fitted: each half of the customers gets its share of the budget
-- and the plan the optimiser picks with that half's choosing effects (section 3); the
-- simulation then estimates it, like every other plan, with the evaluating effects.
-- pp (optional): other churn probabilities to plan with (section 5b's comparison), with the
-- values and effects that follow from them.
local function crossfit_plan(pp)
  local acts = {}
  for k, st in ipairs(strategies) do acts[k] = {contact = st.contact, accept = st.accept or 0, reach = st.reach or 1, effect = 0} end
  local assign = {}
  for h = 1, 2 do
    local idx, hp, hv, hs, he = {}, {}, {}, {}, {}
    for i = 1, n do if half_of[i] == h then idx[#idx + 1] = i end end
    for k, i in ipairs(idx) do
      hs[k] = price[i]
      if pp then
        local q = pp[i]
        hp[k], hv[k] = q, value_of(i, q)
        he[k] = {relative(q, choose_hr(i)), relative(q, call_hr[i]), relative(q, call_hr[i]), relative(q, choose_hr(i) ^ G_SMALL)}
      else
        hp[k], hv[k] = pl[i], value[i]
        he[k] = {choose_discount[i], call_effect[i], call_effect[i], choose_small[i]}
      end
    end
    local best = require("churnlab.plan").optimize({p = hp, value = hv, scale = hs, effect = he}, acts, BUDGET * #idx / n)
    for k, i in ipairs(idx) do assign[i] = math.floor(best:get(k)) end
  end
  return assign
end
-- No action deployed whose cross-fitted estimate is negative: the customers given action k
-- are summed with the evaluating effects (the campaign half their plan was not chosen with);
-- when the sum is below zero, the action is withdrawn from all of them (their budget stays
-- unspent). A plan that the independent half says loses money is not worth its risk; on
-- small worlds the choosing half's luck can build one.
local withdrawn = {}
local function gated(assign)
  local acts = {}
  for k, st in ipairs(strategies) do acts[k] = {contact = st.contact, accept = st.accept or 0, reach = st.reach or 1, effect = 0} end
  local eff = {}
  for i = 1, n do eff[i] = {discount_effect[i], call_effect[i], call_effect[i], small_effect[i]} end
  local E = require("churnlab.plan").expected({p = pl, value = value, scale = price, effect = eff}, acts)
  local sum = {}
  for i = 1, n do local k = assign[i]; if k > 0 then sum[k] = (sum[k] or 0) + E:get(i, k) end end
  for k, v in pairs(sum) do
    if v < 0 then
      withdrawn[#withdrawn + 1] = fmt("%s (estimated %.0f)", PCT_OF[k] > 0 and PCT_OF[k] .. "% discount" or "call", v)
      for i = 1, n do if assign[i] == k then assign[i] = 0 end end
    end
  end
  return assign
end
local res = S.simulate{customers = customers, strategies = strategies, budget = BUDGET,
                       draws = 1000, seed = SEED, plans = {optimised = gated(crossfit_plan())}}
local sens = S.sensitivity{customers = customers, strategies = {discount, call, small}, budget = BUDGET,
                           vary = {effect = {0.5, 0.75, 1, 1.25, 1.5}, cost = {0.8, 1, 1.25}}}

-- ---- 5. ground truth ---------------------------------------------------------------------------

local world = assert(cl.synth.world(world_params()))
local active_index = {}
for i = 1, n do active_index[ids[i]] = i end
-- plan entries are action numbers in the strategy list: 1 discount, 2 and 3 calls; the
-- optimised plan numbers the same actions (its strategies are the list's)
local kind_of = {}
for k in ipairs(strategies) do kind_of[k] = PCT_OF[k] == DISCOUNT_PCT and "discount" or PCT_OF[k] > 0 and "small discount" or "call" end
local cost_of = {}
for k, st in ipairs(strategies) do cost_of[k] = st.contact end
local function true_net(plan)
  local action = {}
  local cost, contacted = 0, 0
  for i = 1, n do
    local k = plan[i]
    if k and k > 0 then
      action[ids[i]] = PCT_OF[k] > 0 and {discount = PCT_OF[k], months = 1} or "outreach"
      cost, contacted = cost + cost_of[k], contacted + 1
    end
  end
  local out = world:replay{days = 30 * HORIZON_MONTHS, policy = function(id) return action[id] or "none" end}
  return out, contacted, cost
end
local base = world:replay{days = 30 * HORIZON_MONTHS}
local function truth(plan)
  local out, contacted, cost = true_net(plan)
  local gain, saved = 0, 0
  for i = 1, n do
    local id = ids[i]
    gain = gain + out.revenue[id] - base.revenue[id]
    saved = saved + out.retained[id] - base.retained[id]
  end
  return gain - cost, saved, contacted
end
-- The oracle plan: what the same budget buys when the true risks and effects are known. The
-- world's own hazard gives each customer's probability of having churned by day t under no
-- action, the discount and a call (w:true_risk); a customer pays price / 30 for every day
-- alive, so the expected revenue over the horizon is the price times the area under the
-- survival curve (trapezoids between the days below; the discount costs 25% of the price
-- for the first 30 days). The oracle's per-customer gain of an action is the difference
-- from no action, less the contact cost, and the plan is the same budgeted choice.
local oracle_plan, oracle_expected
local rev, r30 -- true expected revenue over 360 days and true 30-day risk, per action kind
local oracle_rows = {{"action (offered to everyone)", "kept in month 1, estimated", "kept in month 1, true",
                      "revenue kept before costs (12 months), estimated", "revenue kept before costs (360 days), true",
                      "revenue per customer kept in month 1 (12 months), estimated",
                      "revenue per customer kept in month 1 (360 days), true"}}
do
  local grid = {0, 30, 60, 120, 180, 240, 300, 360}
  local kinds = {none = "none", discount = {discount = DISCOUNT_PCT, months = 1}, call = "outreach",
                 small = {discount = SMALL_PCT, months = 1}}
  local kind_pct = {discount = DISCOUNT_PCT, small = SMALL_PCT}
  rev = {}
  for kind, act in pairs(kinds) do
    local S = {}
    for g = 2, #grid do S[g] = world:true_risk{days = grid[g], policy = act} end
    local r = {}
    for i = 1, n do
      local id, tot, prev = ids[i], 0, 1
      for g = 2, #grid do
        local cur = 1 - S[g][id]
        local days = grid[g] - grid[g - 1]
        local pr = price[i]
        if kind_pct[kind] and grid[g] <= 30 then pr = pr * (1 - kind_pct[kind] / 100) end
        tot = tot + pr / 30 * days * (prev + cur) / 2
        prev = cur
      end
      r[i] = tot
    end
    rev[kind] = r
  end
  -- the gains as inputs to the same optimiser: p = 1, value = the largest gain, effect = the
  -- gain over that value, with the discount's accept cost added back (the optimiser takes it
  -- off again and counts it against the budget, as for the estimated plan)
  local ov, oe = {}, {}
  for i = 1, n do
    local g = {rev.discount[i] - rev.none[i] + DISCOUNT_PCT / 100 * price[i], rev.call[i] - rev.none[i],
               rev.call[i] - rev.none[i], rev.small[i] - rev.none[i] + SMALL_PCT / 100 * price[i]}
    local m = math.max(math.abs(g[1]), math.abs(g[2]), math.abs(g[4]), 1e-9)
    ov[i] = m
    oe[i] = {g[1] / m, g[2] / m, g[3] / m, g[4] / m}
  end
  -- where the estimate goes wrong: for each action offered to everyone, the customers it
  -- keeps in month 1 and the money it brings, estimated against the world's true risks
  r30 = {}
  for kind, act in pairs(kinds) do r30[kind] = world:true_risk{days = 30, policy = act} end
  for _, kind in ipairs({"discount", "call"}) do
    local es, ts, ev, tv = 0, 0, 0, 0
    local eff = kind == "discount" and discount_effect or call_effect
    for i = 1, n do
      local id = ids[i]
      es, ts = es + pl[i] * eff[i], ts + r30.none[id] - r30[kind][id]
      ev = ev + pl[i] * eff[i] * value[i]
      tv = tv + rev[kind][i] - rev.none[i] + (kind == "discount" and DISCOUNT_PCT / 100 * price[i] or 0)
    end
    oracle_rows[#oracle_rows + 1] = {kind, fmt("%.1f", es), fmt("%.1f", ts), fmt("%.0f", ev), fmt("%.0f", tv),
                                     fmt("%.1f", ev / es), fmt("%.1f", tv / ts)}
  end
  local acts = {}
  for k, st in ipairs(strategies) do acts[k] = {contact = st.contact, accept = st.accept or 0, reach = 1, effect = 0} end
  local ones = {}
  for i = 1, n do ones[i] = 1 end
  local best, exp_net = require("churnlab.plan").optimize({p = ones, value = ov, scale = price, effect = oe}, acts, BUDGET)
  oracle_plan, oracle_expected = {}, exp_net
  for i = 1, n do oracle_plan[i] = math.floor(best:get(i)) end
end
res.oracle = {plan = oracle_plan, net = {mean = oracle_expected, lo = oracle_expected, hi = oracle_expected}}

-- ---- 5b. where the value is lost: oracles that know part of the truth ----------------------
-- The oracle above knows every customer's true risk and true effects; the optimised plan knows
-- neither. Plans between the two, each chosen by the same optimiser and budget from
-- inputs that mix the truth with our estimates, say which missing knowledge costs most:
--   "true risks, estimated effects": the world's 30-day risk without action (and the value
--     curve levelled by it) with our hazard ratios (the campaign model's, the documented call);
--   "estimated risks, true effects": our probabilities and values with each customer's true
--     hazard ratio of every action (from the world's 30-day risks with and without it);
--   "true risks, true average effects": the true risk with one hazard ratio per action, the
--     true ratios' geometric mean: no knowledge of who responds more;
--   "true risks, observable effects" and "estimated risks, observable effects": the true
--     discount ratios projected (least squares on the log scale) on what the data shows (plan
--     and newsletter trace, the campaign model's form), the call's ratio as estimated: the
--     best a perfect analysis of the campaign could give, with the true or our risks.
-- Each plan is judged by its expected true value as well as the one replay: LUCKS replays
-- with independent random numbers (w:replay{luck}) of the same customers under each action
-- given to everyone and under none; customers do not interact, so a plan's true gain under
-- one luck is the sum of its customers' gains under their own action, and the mean over the
-- lucks is the plan's expected value (one replay, the world's own luck 0, is one draw of it).
local LUCKS = math.tointeger(tonumber(arg and arg[4])) or 20
if LUCKS < 1 then error("06_strategy: the number of replays (argument 4) must be >= 1", 0) end
local KIND_OF_NAME = {discount = "discount", call = "call", ["small discount"] = "small"}
local luck_gain = {} -- luck_gain[l][kind][i]: revenue under the action less under none, luck l - 1
do
  local acts = {discount = {discount = DISCOUNT_PCT, months = 1}, call = "outreach",
                small = {discount = SMALL_PCT, months = 1}}
  for l = 1, LUCKS do
    local b = world:replay{days = 30 * HORIZON_MONTHS, luck = l - 1}
    local g = {}
    for kind, act in pairs(acts) do
      local out = world:replay{days = 30 * HORIZON_MONTHS, luck = l - 1, policy = act}
      local t = {}
      for i = 1, n do t[i] = out.revenue[ids[i]] - b.revenue[ids[i]] end
      g[kind] = t
    end
    luck_gain[l] = g
  end
end
-- a plan's true net value under each luck: {mean, se, per = {...}}
local function expected_truth(plan)
  local per, m = {}, 0
  for l = 1, LUCKS do
    local s, g = 0, luck_gain[l]
    for i = 1, n do
      local k = plan[i]
      if k > 0 then s = s + g[KIND_OF_NAME[kind_of[k]]][i] - cost_of[k] end
    end
    per[l], m = s, m + s / LUCKS
  end
  local v = 0
  for l = 1, LUCKS do v = v + (per[l] - m) ^ 2 / math.max(1, LUCKS - 1) end
  return {mean = m, se = math.sqrt(v / LUCKS), per = per}
end
-- the world's true risks and hazard ratios per customer
local p_true, hr_true = {}, {discount = {}, call = {}, small = {}}
for i = 1, n do
  local id = ids[i]
  local q0 = math.min(r30.none[id], 1 - 1e-12)
  p_true[i] = q0
  for _, kind in ipairs({"discount", "call", "small"}) do
    hr_true[kind][i] = q0 > 0 and math.log(1 - math.min(r30[kind][id], 1 - 1e-12)) / math.log(1 - q0) or 1
  end
end
local function geo_mean(t) local s = 0 for i = 1, #t do s = s + math.log(t[i]) / #t end return math.exp(s) end
local hr_avg = {discount = geo_mean(hr_true.discount), call = geo_mean(hr_true.call), small = geo_mean(hr_true.small)}
-- the true discount ratios' projection on the observables: log HR ~ plan + (z - zbar)
local hr_obs = {}
do
  local XtX, Xty = {}, {}
  for a = 1, 4 do XtX[a], Xty[a] = {0, 0, 0, 0}, 0 end
  local rows = {}
  for i = 1, n do
    local v = {0, 0, 0, fz[i] - CLICK_MEAN}
    v[PLAN_COL[fplan[i]] or 2] = 1
    rows[i] = v
    local t = math.log(hr_true.discount[i])
    for a = 1, 4 do
      Xty[a] = Xty[a] + v[a] * t
      for b = 1, 4 do XtX[a][b] = XtX[a][b] + v[a] * v[b] end
    end
  end
  for a = 1, 4 do XtX[a][a] = XtX[a][a] + 1e-9 end
  -- the 4 x 4 normal equations by Gauss-Jordan (no pivoting: the plan dummies make the Gram
  -- matrix's diagonal dominant, and the centred trait is nearly orthogonal to them)
  local A = {}
  for a = 1, 4 do A[a] = {XtX[a][1], XtX[a][2], XtX[a][3], XtX[a][4], Xty[a]} end
  for c = 1, 4 do
    for r2 = 1, 4 do
      if r2 ~= c then
        local f = A[r2][c] / A[c][c]
        for k = c, 5 do A[r2][k] = A[r2][k] - f * A[c][k] end
      end
    end
  end
  local th = {A[1][5] / A[1][1], A[2][5] / A[2][2], A[3][5] / A[3][3], A[4][5] / A[4][4]}
  for i = 1, n do
    local v = rows[i]
    hr_obs[i] = math.exp(v[1] * th[1] + v[2] * th[2] + v[3] * th[3] + v[4] * th[4])
  end
  hr_obs.theta = th
end
local function plan_from(pp, hrs)
  local acts, vv, ee = {}, {}, {}
  for k, st in ipairs(strategies) do acts[k] = {contact = st.contact, accept = st.accept or 0, reach = 1, effect = 0} end
  for i = 1, n do
    vv[i] = value_of(i, pp[i])
    local hd, hc, hs = hrs(i)
    ee[i] = {relative(pp[i], hd), relative(pp[i], hc), relative(pp[i], hc), relative(pp[i], hs)}
  end
  local best = require("churnlab.plan").optimize({p = pp, value = vv, scale = price, effect = ee}, acts, BUDGET)
  local out = {}
  for i = 1, n do out[i] = math.floor(best:get(i)) end
  return out
end
local DIAG = {
  {"true risks, estimated effects", plan_from(p_true, function(i)
    return choose_hr(i), call_hr[i], choose_hr(i) ^ G_SMALL end)},
  {"estimated risks, true effects", plan_from(pl, function(i)
    return hr_true.discount[i], hr_true.call[i], hr_true.small[i] end)},
  {"true risks, true average effects", plan_from(p_true, function()
    return hr_avg.discount, hr_avg.call, hr_avg.small end)},
  {"true risks, observable effects", plan_from(p_true, function(i)
    return hr_obs[i], call_hr[i], hr_obs[i] ^ G_SMALL end)},
  {"estimated risks, observable effects", plan_from(pl, function(i)
    return hr_obs[i], call_hr[i], hr_obs[i] ^ G_SMALL end)},
  -- the planner's own value model and relative effects, fed the whole truth: what the
  -- formulation (value curve, month-1 effects) loses by itself
  {"true risks, true effects, our value model", plan_from(p_true, function(i)
    return hr_true.discount[i], hr_true.call[i], hr_true.small[i] end)},
  -- this plan before the calibration was cross-fitted (in-sample isotonic)
  {"optimised, in-sample calibration", crossfit_plan(p_insample)},
}
for _, d in ipairs(DIAG) do res[d[1]] = {plan = d[2], net = {mean = 0 / 0, lo = 0 / 0, hi = 0 / 0}} end

-- The oracle's Qini: the world knows every campaign customer's true effect (the drop in their
-- 60-day churn probability from the discount, along their expected path from the campaign
-- day); ranking the held-out half by it is the best any learner could do on these outcomes
-- (short of knowing the outcomes themselves: "perfect" = 1).
do
  local t = world:campaign_truth()
  local eff = {}
  for k, id in ipairs(judged.ids) do eff[k] = t.control[id] - t.treated[id] end
  local q = U.qini(judged.stayed, judged.treated, cl.tensor(eff))
  uplift_rows[#uplift_rows + 1] = {"oracle (true effects)", fmt("%.4f", q.qini_auc), fmt("%.4f", q.uplift_auc),
                                   fmt("%.6f", q.coefficient)}
  uplift_rows["oracle (true effects)"] = q.qini_auc
  local xs, ys = {}, {}
  for k = 1, #q.x do xs[k] = q.x[k] / q.n; ys[k] = q.qini[k] end
  qini_series[#qini_series + 1] = {x = xs, y = ys, name = "oracle (true effects)"}
end

local check, rows = {}, {{"plan", "customers contacted", "estimated net (12 months)", "estimated net (12 months), 90%",
                          "true net (360 days), one replay", "true net (360 days), expected (se)", "estimated / expected true net",
                          "true extra customers still subscribed at day 360 (one replay)"}}
local CHECKED = {"oracle", "optimised", "everyone", "call everyone", "riskiest fifth", "10% off everyone", "nobody"}
for _, name in ipairs(CHECKED) do
  local r = res[name]
  local tn, saved, contacted = truth(r.plan)
  local ex = expected_truth(r.plan)
  -- the lucks' luck 0 is this replay: customers do not interact, so the sum of their own
  -- gains must give the plan's replayed value (a check of the decomposition's premise)
  if LUCKS > 0 and math.abs(ex.per[1] - tn) > 1e-6 * (1 + math.abs(tn)) then
    error(fmt("06_strategy: plan '%s': the per-customer gains sum to %.6f, the plan's replay to %.6f", name, ex.per[1], tn), 0)
  end
  check[name] = {estimated = r.net.mean, ["true"] = tn, lo = r.net.lo, hi = r.net.hi, expected = ex.mean, expected_se = ex.se,
                 contacted = contacted}
  rows[#rows + 1] = {name, contacted, fmt("%.0f", r.net.mean),
                     name == "oracle" and "(true risks and effects)" or fmt("[%.0f, %.0f]", r.net.lo, r.net.hi),
                     fmt("%.0f", tn), fmt("%.0f (%.0f)", ex.mean, ex.se),
                     ex.mean ~= 0 and fmt("%.2f", r.net.mean / ex.mean) or "-", saved}
end
-- the decomposition: every partial oracle's plan by its expected true value (and one replay)
local diag_rows = {{"plan chosen from", "customers contacted", "25% discounts", "10% discounts", "calls",
                    "true net, one replay", fmt("true net, expected (mean of %d replays; se)", LUCKS),
                    "share of the oracle's expected", "minus the optimised plan, same replays (se)"}}
local function mix_of(plan)
  local c = {discount = 0, call = 0, ["small discount"] = 0}
  for i = 1, n do local k = plan[i]; if k > 0 then c[kind_of[k]] = c[kind_of[k]] + 1 end end
  return c
end
local diag = {}
for _, name in ipairs({"oracle", "true risks, true effects, our value model", "estimated risks, true effects",
                       "true risks, observable effects", "true risks, estimated effects",
                       "estimated risks, observable effects", "true risks, true average effects",
                       "optimised, in-sample calibration", "optimised"}) do
  local plan_d = res[name].plan
  local ex = expected_truth(plan_d)
  local tn, c = ex.per[1], mix_of(plan_d) -- luck 0 is the world's own replay
  local contacted = c.discount + c.call + c["small discount"]
  diag[#diag + 1] = {name = name, ["true"] = tn, expected = ex.mean, se = ex.se, contacted = contacted, mix = c,
                     per = ex.per}
  diag_rows[#diag_rows + 1] = {name, contacted, c.discount, c["small discount"], c.call, fmt("%.0f", tn),
    fmt("%.0f (%.0f)", ex.mean, ex.se), "-", "-"}
end
-- against the optimised plan on the same lucks (common random numbers: the difference's se
-- is far smaller than either value's)
local opt_per = diag[#diag].per
for k, d in ipairs(diag) do
  d.share = diag[1].expected ~= 0 and d.expected / diag[1].expected or 0
  local m, v = 0, 0
  for l = 1, LUCKS do m = m + (d.per[l] - opt_per[l]) / LUCKS end
  for l = 1, LUCKS do v = v + ((d.per[l] - opt_per[l]) - m) ^ 2 / math.max(1, LUCKS - 1) end
  d.vs_optimised, d.vs_optimised_se = m, math.sqrt(v / LUCKS)
  diag_rows[k + 1][8] = fmt("%.0f%%", 100 * d.share)
  diag_rows[k + 1][9] = fmt("%+.0f (%.0f)", m, d.vs_optimised_se)
end
world:free()

-- the optimised plan per customer, for the dashboard (data/synth/plan.csv)
do
  local names = {}
  for k, st in ipairs(strategies) do names[k] = kind_of[k] end
  local lines = {"user_id,action,churn_probability,expected_net"}
  local plan_opt = res.optimised.plan
  local E = require("churnlab.plan").expected({p = pl, value = value, scale = price,
    effect = (function() local m = {} for i = 1, n do m[i] = {discount_effect[i], call_effect[i], call_effect[i], small_effect[i]} end return m end)()},
    (function() local a = {} for k, st in ipairs(strategies) do
      a[k] = {contact = st.contact, accept = st.accept or 0, reach = st.reach or 1, effect = 0} end return a end)())
  for i = 1, n do
    local k = plan_opt[i]
    lines[#lines + 1] = fmt("%d,%s,%.6f,%.4f", ids[i], k > 0 and names[k] or "none", pl[i], k > 0 and E:get(i, k) or 0)
  end
  local path = DATA .. "/plan.csv"
  local f = assert(io.open(path .. ".tmp", "wb"))
  f:write(table.concat(lines, "\n"), "\n")
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

-- The intervals' coverage over seeded worlds is measured by scripts/strategy_coverage.lua (one
-- notebook run per world, minutes, so not here): when its JSON is at OUT/strategy_coverage.json
-- (make strategy-coverage: scripts/strategy_coverage.lua 50 4000 1 reports/strategy_coverage.json) it is
-- carried into strategy_check.json as written; otherwise "coverage" is null - not measured.
local function coverage_json()
  local path = OUT .. "/strategy_coverage.json"
  local f = io.open(path, "rb")
  if not f then return "null" end
  local text = f:read("a"):gsub("%s+$", "")
  f:close()
  if not (text:match("^{.*}$") and text:find('"worlds": %d+') and text:find('"covered": %d+')) then
    error("06_strategy: " .. path .. " is not the JSON scripts/strategy_coverage.lua writes", 0)
  end
  return text
end

-- reports/strategy_check.json (net values in currency units)
os.execute("mkdir -p " .. OUT)
do
  local parts = {}
  for _, name in ipairs({"oracle", "optimised", "everyone", "call everyone", "riskiest fifth", "10% off everyone", "nobody"}) do
    local c = check[name]
    parts[#parts + 1] = fmt('"%s": {"estimated": %.2f, "lo": %.2f, "hi": %.2f, "true": %.2f, "covered": %s, '
      .. '"expected_true": %.2f, "expected_true_se": %.2f}',
      name, c.estimated, c.lo, c.hi, c["true"], tostring(c["true"] >= c.lo and c["true"] <= c.hi), c.expected, c.expected_se)
  end
  local dp = {}
  for _, d in ipairs(diag) do
    dp[#dp + 1] = fmt('"%s": {"true_one_replay": %.2f, "expected_true": %.2f, "expected_true_se": %.2f, '
      .. '"share_of_oracle_expected": %.4f, "minus_optimised": %.2f, "minus_optimised_se": %.2f, "contacted": %d, '
      .. '"discounts_25": %d, "discounts_10": %d, "calls": %d}',
      d.name, d["true"], d.expected, d.se, d.share, d.vs_optimised, d.vs_optimised_se, d.contacted, d.mix.discount,
      d.mix["small discount"], d.mix.call)
  end
  parts[#parts + 1] = fmt('"decomposition": {"replays": %d, "what": "plans chosen by the same optimiser and budget from '
    .. 'inputs mixing the truth with our estimates, judged by their expected true value (mean over replays with '
    .. 'independent random numbers of the same customers) and by the one replay", %s}', LUCKS, table.concat(dp, ", "))
  parts[#parts + 1] = '"withdrawn_actions": [' .. (#withdrawn > 0 and ('"' .. table.concat(withdrawn, '", "') .. '"') or "") .. ']'
  local opt_c = check.optimised
  parts[#parts + 1] = fmt('"optimised_expected_share_of_oracle": %.4f, "optimised_estimate_error_vs_expected": %.4f',
    check.oracle.expected ~= 0 and opt_c.expected / check.oracle.expected or 0,
    opt_c.expected ~= 0 and (opt_c.estimated - opt_c.expected) / math.abs(opt_c.expected) or 0)
  local q = {}
  for _, row in ipairs(uplift_rows) do q[#q + 1] = fmt('"%s": %.6f', row[1], uplift_rows[row[1]]) end
  parts[#parts + 1] = '"uplift_qini_auc": {' .. table.concat(q, ", ") .. ', "perfect": 1}'
  parts[#parts + 1] = fmt('"oracle_qini_auc": %.6f', uplift_rows["oracle (true effects)"])
  parts[#parts + 1] = fmt('"optimised_share_of_oracle": %.4f', check.oracle["true"] ~= 0 and
    check.optimised["true"] / check.oracle["true"] or 0)
  parts[#parts + 1] = fmt('"interval": {"level": 0.9, "draws": 1000, "replicates": %d, "risk_model_refits": %d, '
    .. '"includes": ["outcome noise", "risk model refit (bootstrap refits of the gradient-boosted model)", '
    .. '"calibration bootstrap", "values from the replicates", '
    .. '"discount effect by plan and price trace: bootstrap of the campaign half each customer\'s plan was not chosen with (hazard ratio model refit per replicate)", '
    .. '"call effect: the replicate\'s probabilities, and a pilot-sized sampling error (relative sd %.3f, assumed)", '
    .. '"discount effect transport (relative sd %.2f, assumed)"], '
    .. '"excludes": ["value model error (the Cox curve fitted once)", "error of the documented call and dose-response '
    .. 'coefficients beyond the stated sd"], "coverage_check": "make strategy-coverage (scripts/strategy_coverage.lua)"}',
    R, REFITS, CALL_SD, TRANSPORT_SD)
  parts[#parts + 1] = fmt('"discount_model": {"trace": "shrunk share of opened newsletters whose price link was followed", '
    .. '"mean_share": %.6f, "hr_basic": %.6f, "hr_standard": %.6f, "hr_premium": %.6f, "log_hr_slope": %.6f, '
    .. '"log_hr_slope_sd": %.6f, "plan_choice": "cross-fitted: chosen with one campaign half, estimated with the other"}',
    CLICK_MEAN, hr_plan.basic, hr_plan.standard, hr_plan.premium, hr_beta, hr_beta_sd)
  parts[#parts + 1] = '"coverage": ' .. coverage_json()
  local path = OUT .. "/strategy_check.json"
  local f = assert(io.open(path .. ".tmp", "wb"))
  f:write("{", table.concat(parts, ", "), "}\n")
  f:close()
  assert(os.rename(path .. ".tmp", path))
end

-- ---- the report ------------------------------------------------------------------------------

local opt = check.optimised
local rel = opt["true"] ~= 0 and math.abs(opt.estimated - opt["true"]) / math.abs(opt["true"]) or math.huge
local r = report.new{title = "Retention strategy", out = OUT .. "/06_strategy.html",
  subtitle = "Who to offer a discount, within a budget - and what really happens when we do."}
r:metrics{
  {"Optimised plan, estimated", fmt("%.0f", opt.estimated), note = "expected net value over 12 months"},
  {"... true (simulated world)", fmt("%.0f", opt["true"]), note = fmt("estimate off by %.1f%%", 100 * rel)},
  {"Contact everyone, true", fmt("%.0f", check.everyone["true"])},
  {"Oracle plan, true", fmt("%.0f", check.oracle["true"]), note = fmt("optimised reaches %.0f%% of it",
    check.oracle["true"] ~= 0 and 100 * opt["true"] / check.oracle["true"] or 0)},
  {"Discount effect", fmt("%.0f%%", 100 * effect), note = "relative churn reduction, from the campaign"},
  {"Budget", fmt("%d", BUDGET)},
}

r:h1("What we know before acting")
r:text(fmt([[
**Risk.** Every one of the %d active customers is scored by a gradient-boosted model that
never saw them (3-fold cross-fitting), calibrated with isotonic regression fitted on the other
folds (so no customer's own outcome sets their probability): ROC AUC %.3f.

**Effect.** In the past randomised campaign %d customers got %d%% off and churned at
%.2f%% within 60 days, against %.2f%% for %d controls: a relative reduction of **%.1f%%**
(standard error %.1f points), which we carry over to a one-month discount now. The discount
works through price sensitivity, which we cannot see; the plan carries some of it and the
newsletter log more: price-sensitive customers follow its link to the plans and prices more
often. Each customer's hazard ratio is fitted on the campaign against a churn model of the
controls: per plan at the average click-through share (basic %.2f, standard %.2f, premium
%.2f; campaign bootstrap sd %.2f, %.2f, %.2f), times exp(%.2f x (share - %.3f)) (slope sd
%.2f), the share being the customer's shrunk share of opened newsletters whose price link
they followed (before the campaign for its customers). The plan is cross-fitted: each half
of the customers is planned with the model of one half of the campaign and valued with the
other half's. Each model leans on a normal prior (a plan's log ratio toward its part's
pooled ratio, sd %.2f; the slope toward 0, sd %.1f), and its ratios are taken unbiased on
the ratio's scale (exp of the log ratio less half its bootstrap variance). A %d%% discount acts through the documented dose-response (%.0f%% of the 25%%
discount's log hazard ratio).

**Calls.** An outreach call costs %.2f; a pilot (the simulator's documented hazard stands in
for one) says it lowers a customer's risk for the month by %.0f%%, or by %.0f%% when the
customer has open tickets or payment failures (%d customers do now).

**Money.** A kept customer pays the rest of the month and then stays along their own survival
curve over twelve months, at their own price: a Cox model of time to cancel (plan, payment,
channel, devices, tenure; %d customers followed through the window, %d cancellations) gives the
curve's shape month by month (fitted for %d months, continued at each customer's last hazard
after that), and the customer's calibrated churn probability sets its level (the hazard is
scaled so the first month's risk is p). A discount costs %d%% of that price
for the month to everyone offered it (the world does not let customers refuse money), and
each e-mail %.2f.]], n, auc, nt, DISCOUNT_PCT, 100 * t_rate, 100 * c_rate, nc, 100 * effect,
  100 * effect_sd, hr_plan.basic, hr_plan.standard, hr_plan.premium, hr_plan_sd.basic, hr_plan_sd.standard,
  hr_plan_sd.premium, hr_beta, CLICK_MEAN, hr_beta_sd, ALPHA_SD, BETA_SD, SMALL_PCT, 100 * G_SMALL, CALL, 100 * (1 - math.exp(coefs.action_outreach)),
  100 * (1 - math.exp(coefs.action_outreach + coefs.action_outreach_issues)),
  (function() local c = 0 for i = 1, n do if call_effect[i] > 0.3 then c = c + 1 end end return c end)(),
  cox_info.n, cox_info.events, cox_fitted_months, DISCOUNT_PCT, CONTACT))

r:h1("Who responds to a discount")
r:text([[
An uplift model ranks customers by how much the discount changes their churn, a risk model by
how likely they are to churn at all. Fitted on half of the past campaign's customers (their
visible attributes) and judged on the other half by the Qini curve: the extra customers kept
among the treated, over the share targeted. The normalised Qini (scikit-uplift's
qini_auc_score) is 1 for the perfect ranking of the held-out outcomes and 0 for random.
The learners: the T-learner (a churn model per group), the S-learner (one churn model with
the treatment as a feature: p(x, control) - p(x, treated)), the class transformation (one model
of "treated and stayed or control and churned"), the X-learner (Kuenzel et al. 2019: each
group's outcomes against the other group's model, then a regression of those imputed
effects) and the DR-learner (Kennedy 2020: cross-fitted doubly robust pseudo-outcomes,
regressed on the attributes), all on gradient-boosted trees; the hazard-ratio model is section 2a's
(a hazard ratio per plan and price trace, fitted on the same half against the T-learner's
control model) and ranks by its predicted drop in churn; risk ranking orders by the
control model's churn probability. The oracle ranks by each customer's true effect, which the
simulated world knows (the drop in their 60-day churn probability from the discount): the best
a ranking by effect can do on these noisy outcomes.]])
r:table({{"ranking", "normalised Qini", "normalised uplift AUC", "Qini coefficient (per customer)"},
         table.unpack(uplift_rows)}, {caption = "Held-out half of the campaign"})
assert(r:figure(plot.line{table.unpack(qini_series), xlabel = "share of customers targeted",
  ylabel = "extra customers kept (Qini)", title = "Qini curves on the held-out campaign"},
  {caption = "Above the random line: the ranking finds customers the discount keeps."}))

local INCLUDES = fmt("Each 90%% interval includes: the customers' fates (who churns, drawn from their probabilities); "
  .. "the error of the churn probabilities and of the values computed from them (each draw uses one of %d replicates: "
  .. "one of %d bootstrap refits of the gradient-boosted model, then a bootstrap refit of the calibration); the "
  .. "campaign's sampling error of the discount's hazard ratio model (the replicate's bootstrap resample of the "
  .. "campaign half each customer's plan was not chosen with); for the call, the replicate's probabilities and a sampling error of relative sd %.2f (what a pilot "
  .. "the size of the campaign would have; an assumption); for the discounts, a transport error of relative sd %.2f "
  .. "(carrying a three-month campaign discount to a one-month discount now; an assumption). It does not include the "
  .. "value model's error (the Cox curve, fitted once, carried from the window to the next twelve months and "
  .. "extrapolated after six). make strategy-coverage measures how often the intervals hold the truth.",
  R, REFITS, CALL_SD, TRANSPORT_SD)
r:h1("Strategies compared")
local srows = {{"strategy", "contacted", "kept in month 1 (mean)", "kept in month 1, 90%",
                "revenue kept (12 months)", "cost", "net value (12 months)", "net value (12 months), 90%",
                "ROI (12 months)"}}
for _, x in ipairs(res) do
  srows[#srows + 1] = {x.name, x.contacted, x.saved.mean, fmt("[%.0f, %.0f]", x.saved.lo, x.saved.hi),
    x.retained.mean, x.cost.mean, x.net.mean, fmt("[%.0f, %.0f]", x.net.lo, x.net.hi),
    x.roi == x.roi and x.roi or "-"}
end
r:table(srows, {digits = 1, caption = "Monte Carlo over 1000 draws. 'Kept in month 1' counts customers whose churn "
  .. "the action prevents in its month (not the customers still there at 12 months); their value is the revenue they then bring over 12 months. "
  .. INCLUDES})
local names, nets = {}, {}
for k, x in ipairs(res) do names[k], nets[k] = x.name, x.net.mean end
assert(r:figure(plot.bar{{values = nets, name = "expected net value"}, labels = names,
  ylabel = "net value over 12 months", title = "Expected net value by strategy"},
  {caption = "Contacting everyone loses money: most customers would have stayed anyway."}))

r:h2("How sure is the plan?")
local sr = {{"effect x", "cost x", "net value of the best plan", "customers in it"}}
for _, x in ipairs(sens) do sr[#sr + 1] = {x.effect, x.cost, fmt("%.0f", x.net), x.contacted} end
r:table(sr, {caption = "The optimised plan when the discount works better or worse, or costs more or less, than estimated"})

r:h1("Ground truth")
r:text(fmt([[
The simulator replays the next 360 days for every active customer under each plan, with the
same random numbers as when nobody is contacted, so the difference in revenue is the plan's
true effect. The optimised plan's estimate is off by **%.1f%%**; it %s contacting nobody and
%s contacting everyone (with either action) in the true outcome.]], 100 * rel,
  opt["true"] > check.nobody["true"] and "beats" or "does NOT beat",
  (opt["true"] > check.everyone["true"] and opt["true"] > check["call everyone"]["true"]) and "beats" or "does NOT beat"))
r:table(rows, {caption = "Estimated against true net value (currency units over 12 months). The oracle "
  .. "plan knows every customer's true risk and the true effect of each action (the world's hazard) and spends "
  .. "the same budget; its 'estimated' value is its expectation under the true hazard along each customer's "
  .. "expected path, its true value the replay. " .. INCLUDES})
r:text(fmt([[
**Against the oracle.** The optimised plan reaches **%.0f%%** of the oracle's true net value
(%.0f of %.0f). Where the estimate goes wrong, action by action (everyone offered it):]],
  check.oracle["true"] ~= 0 and 100 * opt["true"] / check.oracle["true"] or 0, opt["true"], check.oracle["true"]))
r:table(oracle_rows, {caption = "Estimated against the world's true 30-day risks with and without the action (kept in "
  .. "month 1) and its true expected revenue over 360 days (revenue kept, before contact costs), both along each "
  .. "customer's expected path (no new tickets or payment failures, which the replay has)"})
r:h2("Where the value is lost")
r:text(fmt([[
One replay is one draw of the world's luck: the oracle's expected net value is %.0f (mean of %d
replays with independent random numbers, se %.0f) against %.0f in the one replay, and the
optimised plan's %.0f (se %.0f) against %.0f. Plans chosen by the same optimiser and budget
from inputs that know part of the truth, judged by their expected true value, say which missing
knowledge costs what. "Observable effects" are the true discount ratios projected on what the
data shows (plan and newsletter trace): the best any analysis of the campaign could reach.]],
  check.oracle.expected, LUCKS, check.oracle.expected_se, check.oracle["true"], check.optimised.expected,
  check.optimised.expected_se, check.optimised["true"]))
r:table(diag_rows, {caption = "Partial oracles: each plan's expected true net value over 360 days, and its share of "
  .. "the full oracle's"})
do
  local by = {}
  for _, d in ipairs(diag) do by[d.name] = d end
  local function sh(name) return 100 * by[name].share end
  r:text(fmt([[
**What the numbers say.** Knowing who responds is worth almost everything here: the true risks
with one true average effect per action reach %.0f%% of the oracle, with every customer's true
effects (through our own value model) %.0f%%. But the discount's effect varies with a price
sensitivity the data shows only through the newsletter trace: projected on what is observable
(plan and trace), even the true effects give %.0f%% with the true risks and %.0f%% with our
risk model, whose plan still offers discounts our probabilities overvalue. The optimised plan
reaches **%.0f%%** (%+.0f against that plan on the same replays, se %.0f). So 90%% of an
oracle that sees the hidden sensitivity and the hidden risk is out of reach from observable
data in this world; the risk model (ROC AUC %.3f against the true risk's ceiling, see the data
dictionary) is the larger part of what remains between %.0f%% and %.0f%%, and the planner's
value model and month-1 effects the rest (fed the whole truth, they reach the share above).
Cross-fitting the calibration (each fold mapped by the other folds' isotonic fit) and
withdrawing actions whose cross-fitted estimate is negative together changed the plan's
expected value by %+.0f (se %.0f) against the plan from the in-sample calibration, ungated.%s]],
    sh("true risks, true average effects"), sh("true risks, true effects, our value model"),
    sh("true risks, observable effects"), sh("estimated risks, observable effects"), sh("optimised"),
    -by["estimated risks, observable effects"].vs_optimised, by["estimated risks, observable effects"].vs_optimised_se,
    auc, sh("estimated risks, observable effects"), sh("true risks, observable effects"),
    -by["optimised, in-sample calibration"].vs_optimised, by["optimised, in-sample calibration"].vs_optimised_se,
    #withdrawn > 0 and (" Withdrawn because their cross-fitted estimate was negative: " .. table.concat(withdrawn, ", ") .. ".")
      or " No action of the plan had a negative cross-fitted estimate, so none was withdrawn."))
end
r:text([[
**Why the estimate errs.** A call or a discount multiplies a customer's hazard for a month,
so the share of churners it keeps falls as the risk rises (13% at a 50% monthly risk, 18% at
5% for a call without open issues). The model's probabilities are calibrated on average but
less spread out than the true risks (its ROC AUC is below the true risk's), and averaging a
concave effect over the spread it misses overstates the customers kept; the same spread makes
the customers kept riskier, hence worth less, than their estimated probability says. The
discount's effect is carried from a past campaign (a three-month discount on the customers of
day 90) to a one-month discount now, which can err either way. The intervals above carry
the refit error of the probabilities and effects and an assumed transport error, not the
value model's error; the coverage check (make strategy-coverage) says how much that costs.
The discount's true effect varies with a price sensitivity the data shows only through the
newsletter trace, a noisy one, so the plan finds the oracle's discount customers only in
part. A plan chosen and judged on the same estimates would look better than it is (the
optimiser's curse: a lucky hazard ratio both draws the plan to discounts and inflates its
estimate); cross-fitting judges each customer's plan by the half of the campaign it was not
chosen with.]])
local est, tru = {}, {}
for k, name in ipairs({"oracle", "optimised", "everyone", "call everyone", "riskiest fifth", "nobody"}) do
  est[k] = (res[name] and res[name].net.mean) or 0
  tru[k] = check[name] and check[name]["true"] or 0
end
assert(r:figure(plot.bar{{values = est, name = "estimated"}, {values = tru, name = "true"},
  labels = {"oracle", "optimised", "everyone", "call everyone", "riskiest fifth", "nobody"}, ylabel = "net value",
  title = "Estimated vs true net value"}, {caption = "What we expected against what the world did."}))
r:code("churnlab notebooks/06_strategy.lua")
local out = assert(r:save())
print(fmt("06_strategy: optimised estimated %.0f [%.0f, %.0f], true %.0f (%.1f%% off); oracle true %.0f (optimised reaches %.0f%%); everyone true %.0f, call everyone true %.0f; nobody true %.0f",
  opt.estimated, opt.lo, opt.hi, opt["true"], 100 * rel, check.oracle["true"],
  check.oracle["true"] ~= 0 and 100 * opt["true"] / check.oracle["true"] or 0,
  check.everyone["true"], check["call everyone"]["true"], check.nobody["true"]))
do
  local mix = {}
  for _, name in ipairs({"oracle", "optimised"}) do
    local c = {discount = 0, call = 0, ["small discount"] = 0}
    for i = 1, n do local k = res[name].plan[i]; if k > 0 then c[kind_of[k]] = c[kind_of[k]] + 1 end end
    mix[#mix + 1] = fmt("%s %d discounts of %d%%, %d of %d%%, %d calls", name, c.discount, DISCOUNT_PCT,
                        c["small discount"], SMALL_PCT, c.call)
  end
  print("06_strategy: plans: " .. table.concat(mix, "; "))
end
do
  local q = {}
  for _, d in ipairs(diag) do q[#q + 1] = fmt("%s %.0f (se %.0f, %.0f%%)", d.name, d.expected, d.se, 100 * d.share) end
  print(fmt("06_strategy: expected true net over %d replays: ", LUCKS) .. table.concat(q, "; "))
  local o = check.optimised
  print(fmt("06_strategy: optimised estimated %.0f vs expected true %.0f (%.1f%% off)", o.estimated, o.expected,
    o.expected ~= 0 and 100 * math.abs(o.estimated - o.expected) / math.abs(o.expected) or 0))
end
do
  local q = {}
  for _, row in ipairs(uplift_rows) do q[#q + 1] = row[1] .. " " .. row[2] end
  print("06_strategy: normalised Qini on the held-out campaign: " .. table.concat(q, ", "))
end
print(fmt("06_strategy: discount hazard ratio by plan at the mean click share %.3f (campaign): basic %.3f (sd %.3f), standard %.3f (sd %.3f), premium %.3f (sd %.3f); log HR slope in the click share %.3f (sd %.3f); pooled %.3f",
  CLICK_MEAN, hr_plan.basic, hr_plan_sd.basic, hr_plan.standard, hr_plan_sd.standard, hr_plan.premium, hr_plan_sd.premium,
  hr_beta, hr_beta_sd, hr_discount))
print("06_strategy: wrote " .. out .. " and " .. OUT .. "/strategy_check.json")
