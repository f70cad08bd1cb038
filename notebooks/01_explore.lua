-- 01_explore.lua: the default data set at a glance (reports/01_explore.html).
--
--   churnlab notebooks/01_explore.lua [data/synth [reports]]
--
-- Sizes, distributions, churn overall and by plan, tenure band, region, devices, payment
-- method and channel, engagement over time for churners against stayers, a correlation
-- heatmap, and the past retention campaign. Deterministic: same data, same report.
local cl = require "churnlab"
local plot, report = cl.plot, cl.report

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local fmt = string.format

local function read(name)
  local ok, f = pcall(cl.read_csv, DATA .. "/" .. name) -- raises naming the file
  if not ok then error("01_explore: " .. tostring(f) .. " (run `make data` first)", 0) end
  return f
end

local users, events = read("users.csv"), read("events.csv")
local titles, ratings, campaign = read("titles.csv"), read("ratings.csv"), read("campaign.csv")
local active = users:filter(users.active:eq(1))
local n_active, churn_rate = active:nrow(), active.churn:mean()

local r = report.new{title = "01 Explore: a streaming service and its churn",
  out = OUT .. "/01_explore.html",
  subtitle = "The default synthetic data set: who the customers are, what they watch, who leaves."}

r:metrics{
  {"Customers", users:nrow()},
  {"Active at the snapshot", n_active, note = "day 180"},
  {"30-day churn", fmt("%.1f%%", 100 * churn_rate), note = "label of active customers"},
  {"Events", events:nrow()},
  {"Ratings", ratings:nrow()},
}

-- ---- the files ---------------------------------------------------------------------------

r:h1("The data")
r:text(fmt([[
The world is simulated (see `%s/README.md`, the data dictionary written by the generator):
customers sign up, watch titles picked by their hidden genre tastes and popularity, rate some,
open support tickets, fail payments, change plans, see a price rise on day 120 and may cancel
any day. The **snapshot** is the start of day 180; the label `churn` says whether an active
customer cancels within the next 30 days.]], DATA))
local sizes = {}
for _, f in ipairs{{"users.csv", users}, {"events.csv", events}, {"titles.csv", titles},
  {"ratings.csv", ratings}, {"campaign.csv", campaign}} do
  sizes[#sizes + 1] = {f[1], f[2]:nrow(), f[2]:ncol(), table.concat(f[2]:names(), ", ")}
end
r:table(sizes, {columns = {"file", "rows", "columns", "names"}, caption = "Files of the data set"})

local kinds = events:value_counts("event")
r:table(kinds, {caption = "Events by kind (observation window, days 0-179)"})

-- ---- churn by attribute ------------------------------------------------------------------

local function band(t)
  if t < 90 then return "0-3 months" elseif t < 180 then return "3-6 months"
  elseif t < 365 then return "6-12 months" elseif t < 730 then return "1-2 years" end
  return "2+ years"
end
local tenure = active.tenure_days:totable()
local bands = {}
for i, t in ipairs(tenure) do bands[i] = band(t) end
active = active:with("tenure_band", bands)
active = active:with("devices_n", active.devices:astype("cat"))

local function by(col, order)
  local g = active:groupby(col):agg{{"churn", "mean", "churn_rate"}, {"churn", "size", "customers"}}
  local rows, labels, rates = {}, {}, {}
  local idx = {}
  for i = 1, g:nrow() do local row = g:row(i); idx[tostring(row[col])] = row end
  local keys = order or {}
  if not order then for i = 1, g:nrow() do keys[i] = tostring(g:row(i)[col]) end end
  for _, k in ipairs(keys) do
    local row = idx[k]
    if row then
      rows[#rows + 1] = {k, row.customers, row.churn_rate}
      labels[#labels + 1] = k
      rates[#rates + 1] = 100 * row.churn_rate
    end
  end
  return rows, labels, rates
end

r:h1("Who churns")
r:text(fmt([[
Overall, **%.1f%%** of the %d active customers cancel within 30 days. The rates below are for
active customers only, by what the data shows about them at the snapshot.]],
  100 * churn_rate, n_active))
local attrs = {
  {"plan", {"basic", "standard", "premium"}},
  {"tenure_band", {"0-3 months", "3-6 months", "6-12 months", "1-2 years", "2+ years"}},
  {"payment_method", {"card", "debit", "paypal", "gift_card"}},
  {"devices_n", {"1", "2", "3", "4", "5"}},
  {"channel", {"organic", "search", "social", "referral", "partner"}},
  {"region", {"north", "south", "east", "west", "metro"}},
  {"age_band", {"18-24", "25-34", "35-44", "45-54", "55+"}},
}
local all_rows = {}
for _, a in ipairs(attrs) do
  local rows = by(a[1], a[2])
  for _, row in ipairs(rows) do all_rows[#all_rows + 1] = {a[1], row[1], row[2], row[3]} end
end
r:table(all_rows, {columns = {"attribute", "value", "customers", "churn rate"}, digits = 3,
  max_rows = 60, caption = "30-day churn rate by attribute (active customers)"})
for _, a in ipairs{attrs[1], attrs[2], attrs[3], attrs[4]} do
  local _, labels, rates = by(a[1], a[2])
  assert(r:figure(plot.bar{{values = rates, name = "churn rate"}, labels = labels,
    ylabel = "churn within 30 days (%)", title = "Churn by " .. a[1]:gsub("_n$", ""):gsub("_", " ")},
    {caption = fmt("30-day churn rate by %s.", a[1]:gsub("_n$", ""):gsub("_", " "))}))
end

-- ---- distributions -----------------------------------------------------------------------

r:h1("Distributions")
local watch = events:filter(events.event:eq("watch"))
local per_user = watch:groupby("user_id"):agg{{"minutes", "sum", "minutes"},
  {"minutes", "size", "watches"}, {"day", "nunique", "active_days"}}
local issues = events:filter(events.event:isin{"ticket", "payment_failed"})
local iss = issues:groupby({"user_id", "event"}):agg{{"day", "size", "n"}}
local tk_u, tk_n, pf_u, pf_n = {}, {}, {}, {}
do
  local uu, ee, nn = iss.user_id:totable(), iss.event:totable(), iss.n:totable()
  for i = 1, #uu do
    if ee[i] == "ticket" then tk_u[#tk_u + 1], tk_n[#tk_n + 1] = uu[i], nn[i]
    else pf_u[#pf_u + 1], pf_n[#pf_n + 1] = uu[i], nn[i] end
  end
end
local rat = ratings:groupby("user_id"):agg{{"rating", "mean", "rating_mean"}}
local A = active:join(per_user, "user_id", {how = "left"})
  :join(cl.frame{user_id = tk_u, tickets = tk_n}, "user_id", {how = "left"})
  :join(cl.frame{user_id = pf_u, payment_failures = pf_n}, "user_id", {how = "left"})
  :join(rat, "user_id", {how = "left"})
for _, c in ipairs{"minutes", "watches", "active_days", "tickets", "payment_failures"} do
  A = A:with(c, A[c]:fillna(0))
end
A = A:with("minutes_per_day", A.minutes / 180)

local ch = A.churn:totable()
local function split(col)
  local v, s, g = A[col]:totable(), {}, {}
  for i = 1, A:nrow() do
    if v[i] ~= nil and v[i] == v[i] then
      if ch[i] == 1 then g[#g + 1] = v[i] else s[#s + 1] = v[i] end
    end
  end
  return s, g
end
local s_min, g_min = split("minutes_per_day")
assert(r:figure(plot.hist{{values = s_min, name = "stayed"}, {values = g_min, name = "churned"},
  bins = 40, density = true, binrange = {0, 120}, xlabel = "minutes watched per day (days 0-179)",
  ylabel = "density", title = "Viewing time of stayers and churners"},
  {caption = "Churners watched less over the window, but the distributions overlap widely."}))
local s_ten, g_ten = split("tenure_days")
assert(r:figure(plot.hist{{values = s_ten, name = "stayed"}, {values = g_ten, name = "churned"},
  bins = 40, density = true, binrange = {0, 1500}, xlabel = "tenure at the snapshot (days)",
  ylabel = "density", title = "Tenure of stayers and churners"},
  {caption = "New customers are over-represented among churners."}))
r:table(A:select{"tenure_days", "monthly_price", "devices", "minutes_per_day", "watches",
  "active_days", "tickets", "payment_failures", "rating_mean"}:describe(),
  {digits = 2, caption = "Per-customer summaries (active customers)"})

-- ---- engagement over time ------------------------------------------------------------------

r:h1("Engagement over time")
local lab = active:select{"user_id", "churn"}
local wk = watch:select{"user_id", "day", "minutes"}
wk = wk:with("week", (wk.day - wk.day % 7) / 7)
local wj = wk:join(lab, "user_id")
local gw = wj:groupby({"week", "churn"}):agg{{"minutes", "sum", "minutes"}}
local n_churn = active.churn:sum()
local n_stay = n_active - n_churn
local weeks, m_stay, m_churn = {}, {}, {}
do
  local w, c, m = gw.week:totable(), gw.churn:totable(), gw.minutes:totable()
  for i = 1, #w do
    local k = w[i] + 1
    if w[i] < 25 then -- full weeks only (day 175-179 is a partial week)
      weeks[k] = w[i]
      if c[i] == 1 then m_churn[k] = m[i] / n_churn / 7 else m_stay[k] = m[i] / n_stay / 7 end
    end
  end
end
assert(r:figure(plot.line{{x = weeks, y = m_stay, name = "stayed"},
  {x = weeks, y = m_churn, name = "churned in the next 30 days"},
  xlabel = "week of the observation window", ylabel = "minutes per customer per day",
  title = "Viewing before the snapshot"},
  {caption = "Future churners' viewing fades in the weeks before the snapshot (customers active "
    .. "at the snapshot; a customer who signed up later counts as zero before signup)."}))

-- ---- correlations ----------------------------------------------------------------------------

r:h1("Correlations")
local vars = {"churn", "tenure_days", "monthly_price", "devices",
  "minutes_per_day", "active_days", "tickets", "payment_failures", "rating_mean"}
local cols = {}
for k, v in ipairs(vars) do cols[k] = A[v]:totable() end
local n = A:nrow()
local M = {}
for a = 1, #vars do
  M[a] = {}
  for b = 1, #vars do
    local sa, sb, saa, sbb, sab, m = 0, 0, 0, 0, 0, 0
    local x, y = cols[a], cols[b]
    for i = 1, n do
      local xi, yi = x[i], y[i]
      if xi ~= nil and yi ~= nil and xi == xi and yi == yi then
        m = m + 1; sa = sa + xi; sb = sb + yi
        saa = saa + xi * xi; sbb = sbb + yi * yi; sab = sab + xi * yi
      end
    end
    local cov = sab / m - (sa / m) * (sb / m)
    local va, vb = saa / m - (sa / m) ^ 2, sbb / m - (sb / m) ^ 2
    M[a][b] = (va > 0 and vb > 0) and cov / math.sqrt(va * vb) or 0 / 0
  end
end
assert(r:figure(plot.heatmap{matrix = M, xlabels = vars, ylabels = vars, digits = 2,
  title = "Pearson correlations (active customers)"},
  {caption = "Churn correlates most with viewing (minutes, active days). Tickets and payment "
    .. "failures counted over the whole window barely do: the hazard reacts to recent ones, "
    .. "which the windowed features of 02_features capture."}))

-- ---- the campaign ----------------------------------------------------------------------------

r:h1("The past retention campaign")
local cg = campaign:groupby("treated"):agg{{"churn", "mean", "churn_rate"}, {"churn", "size", "n"}}
local rate, cnt = {}, {}
for i = 1, cg:nrow() do
  local row = cg:row(i)
  rate[row.treated], cnt[row.treated] = row.churn_rate, row.n
end
local diff = rate[0] - rate[1]
local se = math.sqrt(rate[0] * (1 - rate[0]) / cnt[0] + rate[1] * (1 - rate[1]) / cnt[1])
r:text(fmt([[
On day %d a random share of active customers was enrolled; half of them, at random, got a
discount (`campaign.csv`). Because treatment was randomised, the difference in churn is the
average effect of the offer: **%.1f points** fewer cancellations within the outcome window
(95%% interval %.1f to %.1f). Who responds best is what an uplift model would learn.]],
  campaign.campaign_day:get(1), 100 * diff, 100 * (diff - 1.96 * se), 100 * (diff + 1.96 * se)))
r:table({{"control", cnt[0], rate[0]}, {"treated", cnt[1], rate[1]}},
  {columns = {"group", "customers", "churn rate"}, digits = 4, caption = "Campaign outcome"})

r:code("churnlab notebooks/01_explore.lua")
local path = assert(r:save())
print("01_explore: wrote " .. path)
