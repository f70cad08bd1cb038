-- 07_dashboard.lua: one page for the retention team (reports/07_dashboard.html).
--
--   churnlab notebooks/07_dashboard.lua [data/synth [reports]]
--
-- Who is about to leave, why, what to show them and what to do, whether our plans pay, whether
-- the recommendations really keep customers, and whether the churn model still fits the
-- customers it scores. Reads features.csv (notebook 02), plan.csv (06, optional) and
-- <reports>/strategy_check.json (06, optional): a missing optional input is said in its
-- section, not an error. Deterministic (fixed seeds, no dates); progress and timings go to
-- stderr only.
local cl = require "churnlab"
local plot, report = cl.plot, cl.report
local E = require "churnlab.explain"
local V = require "churnlab.value"
local measure = require "churnlab.measure"

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local SEED = 42
local TOP = 20           -- customers in the at-risk table
local PUSH_N = 3000      -- riskiest customers in the content-push experiment
local PUSH_K = 3         -- titles pushed to each
local fmt = string.format
local T0 = cl.core.now()
local function step(what) io.stderr:write(fmt("07_dashboard: %s (%.0f s)\n", what, cl.core.now() - T0)) end

local function read(name, optional)
  local ok, f = pcall(cl.read_csv, DATA .. "/" .. name) -- raises naming the file
  if not ok and not optional then
    error("07_dashboard: " .. tostring(f) .. " (run make data and notebooks/02_features.lua)", 0)
  end
  return ok and f or nil
end
local slurp = require("churnlab.util.files").read_all
local function nan(v) return v == nil or v ~= v end

step("reading " .. DATA)
local features, users, titles = read("features.csv"), read("users.csv"), read("titles.csv")
local plan_frame = read("plan.csv", true)
local n = features:nrow()
local ids = features.user_id:totable()
local row_of = {}
for i = 1, n do row_of[ids[i]] = i end
local price = features.monthly_price:totable()
local churn = features.churn:totable()

-- ---- the churn model: risk and reasons ----------------------------------------------------

step("fitting the churn model")
local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
                              encode = "onehot", scale = "minmax"}
pipe:fit(features)
local X, y = pipe:transform(features)
local model = cl.gbdt{trees = 250, depth = 4, lr = 0.05, seed = SEED}
model:fit(X, y, {pipeline = pipe})

-- risk: the plan's calibrated out-of-fold probabilities when 06 has run, else the same recipe
local risk, action, risk_source = {}, {}, nil
if plan_frame then
  local pu, pa, pp = plan_frame.user_id:totable(), plan_frame.action:totable(),
                     plan_frame.churn_probability:totable()
  for k = 1, #pu do
    local i = row_of[pu[k]]
    if i then risk[i], action[i] = pp[k], pa[k] end
  end
end
local covered = 0
for i = 1, n do if risk[i] then covered = covered + 1 end end
if covered == n then
  risk_source = "plan.csv (notebook 06: out-of-fold, isotonic-calibrated gradient boosting)"
else
  risk_source = "out-of-fold gradient boosting on features.csv, isotonic-calibrated (plan.csv " ..
                (plan_frame and "does not cover every active customer" or "is missing: run notebooks/06_strategy.lua") .. ")"
  local oof = cl.tensor.zeros(n)
  for _, fold in ipairs(features:kfold{k = 3, stratify = "churn", seed = SEED}) do
    local m = cl.gbdt{trees = 250, depth = 4, lr = 0.05, seed = SEED}
    m:fit(X:index_rows(fold.train), y:index_rows(fold.train))
    local p = m:predict(X:index_rows(fold.test))
    for k, i in ipairs(fold.test) do oof:set(i, p:get(k)) end
  end
  local p = cl.calibrate.isotonic():fit(oof, y):predict(oof)
  for i = 1, n do risk[i] = p:get(i) end
  if not plan_frame then action = {} end
end
local order = {}
for i = 1, n do order[i] = i end
table.sort(order, function(a, b) return risk[a] > risk[b] or (risk[a] == risk[b] and ids[a] < ids[b]) end)

local expected_churners, revenue_at_risk, auc = 0, 0, nil
for i = 1, n do
  expected_churners = expected_churners + risk[i]
  revenue_at_risk = revenue_at_risk + risk[i] * price[i]
end
do
  local t = cl.tensor(risk)
  auc = cl.metrics.roc_auc(y, t)
end

-- strategy_check.json (06), parsed by pattern: each plan is a flat object
-- "name": {"estimated": x, "lo": a, "hi": b, "true": y, ...}; other fields (Qini, interval) are
-- not plans and lack "estimated"
local check_path = OUT .. "/strategy_check.json"
local check
do
  local s = slurp(check_path)
  if s then
    check = {}
    local num = "%s*:%s*([-%d.eE+]+)"
    for name, body in s:gmatch('"([^"]+)"%s*:%s*(%b{})') do
      local est, tru = body:match('"estimated"' .. num), body:match('"true"' .. num)
      if est and tru then
        check[name] = {estimated = tonumber(est), ["true"] = tonumber(tru),
                       lo = tonumber(body:match('"lo"' .. num)), hi = tonumber(body:match('"hi"' .. num))}
      end
    end
    if not check.optimised then check = nil end
  end
end

-- ---- events: watches for the recommender, the monitoring snapshots ----------------------------

step("reading events.csv")
local events = read("events.csv")
local n_events = events:nrow()
local ev_u, ev_d, ev_e, ev_m = events.user_id:totable(), events.day:totable(),
                               events.event:totable(), events.minutes:totable()
local watches = events:filter(events.event:eq("watch"))
events = nil
local inter = cl.interactions(watches, {user = "user_id", item = "title_id", time = "day"})
watches = nil
collectgarbage()

local title_genres = {}
do
  local tid, g = titles.title_id:totable(), titles.genres:totable()
  for k = 1, #tid do title_genres[tid[k]] = g[k] end
end

-- ---- recommender ----------------------------------------------------------------------------------

local function als() return cl.rec.als{factors = 32, iters = 10, reg = 10, alpha = 5, seed = SEED} end
step("offline evaluation of the recommender")
local rec_rows = {{"recommender", "precision@10", "recall@10", "NDCG@10", "hit rate", "coverage"}}
local rec_eval = {}
do
  local train, test = inter:split{test = 0.2, seed = SEED}
  for _, spec in ipairs({{"most popular", cl.rec.popular{}}, {"ALS (32 factors)", als()}}) do
    spec[2]:fit(train)
    local e = cl.rec.evaluate(spec[2], test, {k = 10})
    rec_eval[#rec_eval + 1] = e
    rec_rows[#rec_rows + 1] = {spec[1], e.precision, e.recall, e.ndcg, e.hit_rate, e.coverage}
  end
end
collectgarbage()
step("fitting the recommender on all watches")
local rec = als():fit(inter)
local function recommend(id, k)
  local ok, list = pcall(rec.recommend, rec, id, k, {exclude_seen = true})
  return (ok and type(list) == "table") and list or {}
end

-- ---- top at-risk customers ---------------------------------------------------------------------

step("reasons for the top " .. TOP)
local top_idx = {}
for k = 1, math.min(TOP, n) do top_idx[k] = order[k] end
local why = E.reasons(model, pipe, features:take(top_idx), {top = 3})
local top_rows = {{"customer", "risk", "best action", "reason 1 (+points)", "reason 2", "reason 3"}}
local title_rows = {{"customer", "title 1", "title 2", "title 3"}}
local example_reasons = {}
for k, i in ipairs(top_idx) do
  local row = {ids[i], fmt("%.1f%%", 100 * risk[i]), action[i] or "none"}
  for q = 1, 3 do
    local x = why[k].reasons[q]
    row[3 + q] = x and fmt("%s = %s (%+.1f)", x.column, x.value == nil and "(missing)" or
      (math.type(x.value) == "float" and fmt("%.3g", x.value) or tostring(x.value)), x.points) or ""
  end
  top_rows[#top_rows + 1] = row
  local trow = {ids[i]}
  local recs = recommend(ids[i], 3)
  for q = 1, 3 do
    trow[1 + q] = recs[q] and fmt("%d %s", recs[q], (title_genres[recs[q]] or ""):gsub("|", ", ")) or ""
  end
  if #recs == 0 then trow[2] = "(no watch history)" end
  title_rows[#title_rows + 1] = trow
  if k <= 3 then example_reasons[k] = fmt("customer %d: %s", ids[i], why[k].text) end
end

-- ---- the content-push experiment in the simulated world ---------------------------------------

step("rebuilding the simulated world")
local world = cl.synth.world{customers = users:nrow(), titles = titles:nrow()}
local winfo = world:info()
local push
if winfo.events ~= n_events then
  push = {error = fmt("%s holds %d events but the default-parameter world of its size has %d: " ..
    "the data were not made by `make data` (or scripts/gen_data.lua with only customers= and " ..
    "titles= changed), so the world cannot be replayed", DATA, n_events, winfo.events)}
else
  step("replaying 30 days: none / recommended / random pushes")
  local m = math.min(PUSH_N, n)
  local targets, rec_list, rnd_list = {}, {}, {}
  local seed, ntitles = 12345, titles:nrow()
  for k = 1, m do
    local id = ids[order[k]]
    targets[k] = id
    local l = recommend(id, PUSH_K)
    if #l > 0 then rec_list[id] = l end
    local r, tries = {}, 0
    while #r < PUSH_K and tries < 1000 do
      seed = (seed * 1103515245 + 12345) % 2147483648
      local tid = seed % ntitles + 1
      tries = tries + 1
      if not inter:has(id, tid) then
        local dup = false
        for _, t in ipairs(r) do if t == tid then dup = true end end
        if not dup then r[#r + 1] = tid end
      end
    end
    rnd_list[id] = r
  end
  local function run(lists)
    local out = world:replay{days = 30, policy = lists and function(id)
      local l = lists[id]
      return l and {content = l} or "none"
    end or nil}
    local kept, rev = 0, 0
    for _, id in ipairs(targets) do kept, rev = kept + out.retained[id], rev + out.revenue[id] end
    return kept, rev
  end
  local k0, r0 = run(nil)
  local k1, r1 = run(rec_list)
  local k2, r2 = run(rnd_list)
  local with_recs = 0
  for _ in pairs(rec_list) do with_recs = with_recs + 1 end
  push = {n = m, with_recs = with_recs, none = {k0, r0}, rec = {k1, r1}, rnd = {k2, r2},
          threshold = risk[order[m]]}
end
world:free()
world = nil
collectgarbage()

-- ---- monitoring: day-150 and day-180 snapshots of the same world ----------------------------------

step("monitoring snapshots (day 150 and day 180)")
local MON = {"minutes_30", "active_days_30", "watches_30", "tickets_30", "payment_failures_30",
             "recency_days", "tenure_days"}
local signup, churn_day = users.signup_day:totable(), users.churn_day:totable()
local uid = users.user_id:totable()
local uindex = {}
for k = 1, #uid do uindex[uid[k]] = k end
local function snapshot(S)
  -- per user: sums over days S-30..S-1 and the last watch day before S
  local f = {}
  local function get(u)
    local r = f[u]
    if not r then
      r = {0, 0, 0, 0, 0, nil, days = {}}
      f[u] = r
    end
    return r
  end
  for k = 1, #ev_u do
    local d = ev_d[k]
    if d < S then
      local e = ev_e[k]
      if e == "watch" then
        local r = get(ev_u[k])
        if r[6] == nil or d > r[6] then r[6] = d end
        if d >= S - 30 then
          r[1] = r[1] + (nan(ev_m[k]) and 0 or ev_m[k])
          if not r.days[d] then r.days[d] = true; r[2] = r[2] + 1 end
          r[3] = r[3] + 1
        end
      elseif d >= S - 30 and e == "ticket" then
        local r = get(ev_u[k]); r[4] = r[4] + 1
      elseif d >= S - 30 and e == "payment_failed" then
        local r = get(ev_u[k]); r[5] = r[5] + 1
      end
    end
  end
  local snap = {ids = {}, cols = {}, label = {}}
  for j = 1, #MON do snap.cols[j] = {} end
  for k = 1, #uid do
    local id = uid[k]
    local sd, cd = signup[k], churn_day[k]
    local active = sd < S and (nan(cd) or cd >= S)
    local label
    if active then
      if S == 180 then
        local i = row_of[id]
        label = i and churn[i] or nil
      else
        label = (not nan(cd) and cd < S + 30) and 1 or 0
      end
    end
    if label then
      local r = f[id] or {0, 0, 0, 0, 0, nil}
      local start = math.max(sd, 0)
      local vals = {r[1], r[2], r[3], r[4], r[5], S - (r[6] or (start - 1)), S - sd}
      snap.ids[#snap.ids + 1] = id
      for j = 1, #MON do snap.cols[j][#snap.ids] = vals[j] end
      snap.label[#snap.ids] = label
    end
  end
  return snap
end
local s150, s180 = snapshot(150), snapshot(180)
ev_u, ev_d, ev_e, ev_m = nil, nil, nil, nil
collectgarbage()
local function tensor_of(s, rows)
  local t = {}
  for q, i in ipairs(rows) do
    local r = {}
    for j = 1, #MON do r[j] = s.cols[j][i] end
    t[q] = r
  end
  return cl.tensor(t)
end
local function all_rows(s) local r = {} for i = 1, #s.ids do r[i] = i end return r end
-- fit on a random 70% of day 150, check on the other 30% (same day) and on day 180
local fit_rows, hold_rows = {}, {}
do
  local st = 987654321
  for i = 1, #s150.ids do
    st = (st * 1103515245 + 12345) % 2147483648
    if st % 10 < 7 then fit_rows[#fit_rows + 1] = i else hold_rows[#hold_rows + 1] = i end
  end
end
local function labels(s, rows)
  local t = {}
  for q, i in ipairs(rows) do t[q] = s.label[i] end
  return cl.tensor(t)
end
local mon_model = cl.gbdt{trees = 150, depth = 3, lr = 0.05, seed = SEED}
mon_model:fit(tensor_of(s150, fit_rows), labels(s150, fit_rows))
local p150 = mon_model:predict(tensor_of(s150, hold_rows))
local y150 = labels(s150, hold_rows)
local all180 = all_rows(s180)
local p180 = mon_model:predict(tensor_of(s180, all180))
local y180 = labels(s180, all180)
local psi_rows = {{"input", "mean at day 150", "mean at day 180", "PSI", "verdict"}}
local psi_names, psi_vals = {}, {}
local function verdict(v) return v < 0.1 and "stable" or (v < 0.25 and "moderate shift" or "major shift") end
local function mean(t) local s = 0 for i = 1, #t do s = s + t[i] end return s / #t end
-- Counts that are 0 for nearly everyone (tickets, payment failures) put every decile edge at 0:
-- one bin, PSI 0 whatever happens. Those get fixed bins 0, 1, 2+ instead.
local function psi_counts(a, b)
  local function shares(t)
    local c = {0, 0, 0}
    for i = 1, #t do local k = math.min(t[i], 2) + 1; c[k] = c[k] + 1 end
    for k = 1, 3 do c[k] = math.max(c[k] / #t, 1e-4) end
    return c
  end
  local e, o, v = shares(a), shares(b), 0
  for k = 1, 3 do v = v + (o[k] - e[k]) * math.log(o[k] / e[k]) end
  return v
end
local COUNT_BINS = {tickets_30 = true, payment_failures_30 = true}
for j, name in ipairs(MON) do
  local v = COUNT_BINS[name] and psi_counts(s150.cols[j], s180.cols[j])
            or measure.psi(s150.cols[j], s180.cols[j], {bins = 10})
  psi_rows[#psi_rows + 1] = {COUNT_BINS[name] and name .. " (bins 0, 1, 2+)" or name,
                             mean(s150.cols[j]), mean(s180.cols[j]), v, verdict(v)}
  psi_names[#psi_names + 1], psi_vals[#psi_vals + 1] = name, v
end
local score150 = mon_model:predict(tensor_of(s150, all_rows(s150)))
local score_psi = measure.psi(score150:totable(), p180:totable(), {bins = 10})
psi_rows[#psi_rows + 1] = {"model score", score150:mean(), p180:mean(), score_psi, verdict(score_psi)}
psi_names[#psi_names + 1], psi_vals[#psi_vals + 1] = "model score", score_psi
local calib = {
  {"day 150 (held-out 30%)", #hold_rows, p150:mean(), y150:mean(), cl.metrics.roc_auc(y150, p150)},
  {"day 180 (all active)", #all180, p180:mean(), y180:mean(), cl.metrics.roc_auc(y180, p180)},
}

-- ---- the page ---------------------------------------------------------------------------------

step("writing the report")
os.execute("mkdir -p '" .. OUT:gsub("'", "'\\''") .. "'")
local r = report.new{title = "Retention dashboard", out = OUT .. "/07_dashboard.html",
  subtitle = "Who is about to leave, why, what to show them, what to do - and whether it works."}
r:metrics{
  {"Active customers", n},
  {"Predicted churners, next 30 days", fmt("%.0f", expected_churners), note = fmt("%.1f%% of active", 100 * expected_churners / n)},
  {"Monthly revenue at risk", fmt("%.0f", revenue_at_risk), note = "churn probability x monthly price, summed"},
  check and {"Optimised plan, net value", fmt("%.0f", check.optimised.estimated),
             note = fmt("true (simulated) %.0f, 12 months", check.optimised["true"])}
        or {"Optimised plan, net value", "-", note = "strategy_check.json missing: run 06_strategy"},
}

r:h1("Risk distribution")
r:text(fmt([[
Churn probability within the next 30 days for every active customer, from %s; ROC AUC
against the observed churn %.3f. Most customers are safe; the long right tail is where the
retention budget goes.]], risk_source, auc))
assert(r:figure(plot.hist{{values = risk, name = "customers"}, bins = 40, title = "Calibrated churn probability",
  xlabel = "probability of churning in the next 30 days", ylabel = "customers"},
  {caption = fmt("Risk of the %d active customers; the mean is the expected churn rate (%.1f%%).", n, 100 * expected_churners / n)}))

r:h1("Churn by segment")
r:text([[
Observed churn in the 30 days after the snapshot, by plan, region, payment method and number
of devices, with 95% Wilson intervals: a segment whose interval lies above the overall rate
churns more than chance explains.]])
local seg_rows = {{"segment", "customers", "churned", "churn rate", "95% interval"}}
local seg_names, seg_vals = {}, {}
for _, col in ipairs({"plan", "region", "payment_method", "devices"}) do
  local labs = features[col]:totable()
  local sorted = V.segment_rates(labs, churn)
  table.sort(sorted, function(a, b) return tostring(a.segment) < tostring(b.segment) end)
  for _, x in ipairs(sorted) do
    local name = col == "devices" and fmt("%s device%s", tostring(x.segment), x.segment == 1 and "" or "s")
                 or tostring(x.segment)
    seg_rows[#seg_rows + 1] = {col .. " = " .. tostring(x.segment), x.n, x.churned,
      fmt("%.1f%%", 100 * x.rate), fmt("[%.1f%%, %.1f%%]", 100 * x.lo, 100 * x.hi)}
    seg_names[#seg_names + 1], seg_vals[#seg_vals + 1] = name, 100 * x.rate
  end
end
assert(r:figure(plot.bar{{values = seg_vals, name = "churn rate (%)"}, labels = seg_names,
  ylabel = "churn within 30 days (%)", title = "Observed churn by segment"},
  {caption = "Plan, region, payment method and device count; the intervals are in the table below."}))
r:table(seg_rows, {caption = "Observed churn rate per segment, 95% Wilson intervals"})

r:h1(fmt("The %d customers most at risk", #top_idx))
r:text([[
**Why.** The three variables that raise each customer's risk most (TreeSHAP of a gradient
boosted model on the engineered features), each with the customer's value and the points of
churn probability it adds. **What to do.** The optimised plan's action (notebook 06: discount,
call, or none when contacting the customer does not pay). For the three riskiest, in words:]])
local bullets = {}
for k, s in ipairs(example_reasons) do bullets[k] = "- " .. s .. "." end
r:text(table.concat(bullets, "\n"))
if plan_frame then
  local counts, in_top = {}, 0
  for i = 1, n do
    local a = action[i] or "none"
    counts[a] = (counts[a] or 0) + 1
  end
  for _, i in ipairs(top_idx) do if action[i] and action[i] ~= "none" then in_top = in_top + 1 end end
  r:text(fmt([[
The plan contacts %d customers in all (%d discounts, %d calls), %d of these %d: the riskiest
are often not the ones worth contacting, because an action lowers their risk less than it
costs or because they would stay a short time anyway.]], n - (counts.none or 0), counts.discount or 0,
    counts.call or 0, in_top, #top_idx))
end
if not plan_frame then
  r:text("**plan.csv is missing** (run `churnlab notebooks/06_strategy.lua`): every action shows as none.")
end
r:table(top_rows, {caption = "Riskiest active customers first: risk, why, and the plan's action"})
r:h2("What to show them")
r:text([[
The recommender's top three unseen titles for each of them (implicit-feedback ALS on the
watch history), with the titles' genres from titles.csv.]])
r:table(title_rows, {caption = "Recommended titles (title id and genres)"})

r:h1("Strategy comparison")
if check then
  r:text([[
Net value over twelve months of the retention plans of notebook 06: what our models
estimated (with its 90% interval), and what the simulated world says really happened when it
replayed the plan. The oracle plan knows every customer's true risk and reaction: the ceiling a
plan built from data could reach.]])
  local names, srows = {}, {{"plan", "estimated net", "90% interval", "true net", "estimated / true"}}
  local est, tru = {}, {}
  for _, name in ipairs({"optimised", "oracle", "everyone", "call everyone", "riskiest fifth", "nobody"}) do
    local c = check[name]
    if c then
      srows[#srows + 1] = {name, fmt("%.0f", c.estimated),
        (c.lo and c.hi and c.hi > c.lo) and fmt("[%.0f, %.0f]", c.lo, c.hi) or "-",
        fmt("%.0f", c["true"]), c["true"] ~= 0 and fmt("%.2f", c.estimated / c["true"]) or "-"}
      names[#names + 1], est[#est + 1], tru[#tru + 1] = name, c.estimated, c["true"]
    end
  end
  r:table(srows, {caption = "From strategy_check.json, written by notebook 06 (currency units, 12 months)"})
  assert(r:figure(plot.bar{{values = est, name = "estimated"}, {values = tru, name = "true"}, labels = names,
    ylabel = "net value", title = "Estimated vs true net value"},
    {caption = "Discounting or calling everyone costs more than it saves; the optimised plan targets who it pays to keep."}))
else
  r:text("**" .. check_path .. " is missing**: run `churnlab notebooks/06_strategy.lua " .. DATA .. " " .. OUT ..
         "` to compare the retention plans.")
end

r:h1("Recommendation effectiveness")
r:text([[
**Offline.** A random 20% of each customer's watched titles is held out; the recommender
trained on the rest ranks ten unseen titles per customer, compared with recommending the
most popular titles.]])
r:table(rec_rows, {digits = 3, caption = "Per-customer holdout, top 10"})
assert(r:figure(plot.bar{{values = {rec_eval[1].precision, rec_eval[1].ndcg}, name = "most popular"},
  {values = {rec_eval[2].precision, rec_eval[2].ndcg}, name = "ALS"}, labels = {"precision@10", "NDCG@10"},
  title = "Ranking quality on held-out titles"},
  {caption = "Higher is better; both against the same held-out titles."}))
if push.error then
  r:text("**The true retention effect could not be measured:** " .. push.error .. ".")
else
  local d1, d2 = push.rec[1] - push.none[1], push.rnd[1] - push.none[1]
  r:text(fmt([[
**In the world.** The simulator knows every customer's hidden tastes, so it can say what a
content push really does. It replays the next 30 days for the %d riskiest customers (risk
%.1f%% and above) three times with the same random numbers: nothing sent; their top %d
recommended titles pushed (%d of them have a history to recommend from); %d random unseen
titles pushed. Recommended titles keep **%+d** customers (%+.2f points of the group's
retention) against no push, random titles %+d: the difference between them, %+d, is what the
recommender adds.]], push.n, 100 * push.threshold, PUSH_K, push.with_recs, PUSH_K, d1, 100 * d1 / push.n, d2, d1 - d2))
  r:table({{"push", "customers retained after 30 days", "vs no push", "revenue in 30 days", "vs no push"},
    {"none", push.none[1], 0, fmt("%.0f", push.none[2]), "0"},
    {"top-3 recommended", push.rec[1], d1, fmt("%.0f", push.rec[2]), fmt("%+.0f", push.rec[2] - push.none[2])},
    {"3 random titles", push.rnd[1], d2, fmt("%.0f", push.rnd[2]), fmt("%+.0f", push.rnd[2] - push.none[2])}},
    {caption = fmt("True outcomes of the %d riskiest customers, replayed by the simulator", push.n)})
  assert(r:figure(plot.bar{{values = {d1, d2}, name = "customers kept vs no push"},
    labels = {"top-3 recommended", "3 random titles"}, ylabel = "extra customers retained",
    title = fmt("True effect of a content push on the %d riskiest", push.n)},
    {caption = "Same customers, same random numbers: only the pushed titles differ."}))
end

r:h1("Model monitoring")
r:text(fmt([[
Does the model still fit the customers it scores? This is a **30-day-later snapshot of the same
simulated world**, not new data: seven inputs are computed straight from events.csv at day 150
(activity over days 120-149) and at day 180 (days 150-179); a small gradient-boosted model is
fitted on 70%% of the day-150 customers, labelled with churn in days 150-179, and scores both.
The population stability index compares each input's and the score's distribution over the
day-150 deciles (tickets and payment failures, zero for nearly everyone, over the bins 0, 1
and 2+; below 0.1 stable, 0.1-0.25 moderate, above 0.25 major shift). The model
score's PSI is **%.3f** (%s).]], score_psi, verdict(score_psi)))
r:table(psi_rows, {digits = 3, caption = fmt("Day 150 (%d active) against day 180 (%d active)", #s150.ids, #s180.ids)})
assert(r:figure(plot.bar{{values = psi_vals, name = "PSI"}, labels = psi_names, ylabel = "population stability index",
  title = "Drift between day 150 and day 180"},
  {caption = "Below 0.1: stable; 0.1-0.25: watch; above 0.25: refit."}))
r:h2("Calibration drift")
r:text([[
Predicted against observed churn rate at each snapshot: when the gap opens, the probabilities
that the strategy multiplies by money are off, even if the ranking (AUC) holds.]])
local crow = {{"snapshot", "customers", "mean predicted churn", "observed churn", "predicted - observed", "ROC AUC"}}
for _, c in ipairs(calib) do
  crow[#crow + 1] = {c[1], c[2], fmt("%.2f%%", 100 * c[3]), fmt("%.2f%%", 100 * c[4]), fmt("%+.2f pts", 100 * (c[3] - c[4])), c[5]}
end
r:table(crow, {digits = 3, caption = "The day-150 model on its own held-out customers and 30 days later"})
assert(r:figure(plot.calibration{{y = y150, score = p150, name = "day 150 (held out)", bins = 10},
  {y = y180, score = p180, name = "day 180", bins = 10}, title = "Reliability at both snapshots"},
  {caption = "Points on the diagonal: predicted probabilities match observed churn."}))
r:code("churnlab notebooks/07_dashboard.lua " .. DATA .. " " .. OUT)
local out = assert(r:save())

print(fmt("07_dashboard: %d active, %.0f predicted churners, revenue at risk %.0f/month, AUC %.3f",
  n, expected_churners, revenue_at_risk, auc))
for _, s in ipairs(example_reasons) do print("07_dashboard: " .. s) end
if push.error then print("07_dashboard: content push not measured: " .. push.error)
else
  print(fmt("07_dashboard: content push to %d riskiest: recommended %+d retained, random %+d (vs none %d)",
    push.n, push.rec[1] - push.none[1], push.rnd[1] - push.none[1], push.none[1]))
end
local ps = {}
for k = 1, #psi_names do ps[k] = fmt("%s %.3f", psi_names[k], psi_vals[k]) end
print("07_dashboard: PSI " .. table.concat(ps, ", "))
print(fmt("07_dashboard: calibration: day 150 predicted %.2f%% observed %.2f%%; day 180 predicted %.2f%% observed %.2f%%",
  100 * calib[1][3], 100 * calib[1][4], 100 * calib[2][3], 100 * calib[2][4]))
print(fmt("07_dashboard: wrote %s in %.0f s", out, cl.core.now() - T0))
