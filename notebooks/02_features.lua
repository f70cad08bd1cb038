-- 02_features.lua: churn features from the event logs (reports/02_features.html and
-- data/synth/features.csv).
--
--   churnlab notebooks/02_features.lua [data/synth [reports]]
--
-- The features churn analysts build: recency, frequency and minutes over 7/30/90-day windows,
-- the trend of viewing, the share of days active, diversity, completion, ratings, tickets and
-- payment failures (recent and overall), plan changes and the price rise, joined to what we
-- know of each customer. One row per customer active at the snapshot (day 180), with the label.
local cl = require "churnlab"
local plot, report = cl.plot, cl.report

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local SNAP = 180 -- the snapshot: start of day 180 (events cover days 0..179)
local fmt = string.format

local function read(name)
  local ok, f = pcall(cl.read_csv, DATA .. "/" .. name) -- raises naming the file
  if not ok then error("02_features: " .. tostring(f) .. " (run `make data` first)", 0) end
  return f
end

local users, events = read("users.csv"), read("events.csv")
local titles, ratings = read("titles.csv"), read("ratings.csv")
local active = users:filter(users.active:eq(1))
assert(SNAP == active.tenure_days:get(1) + active.signup_day:get(1),
  "02_features: the data's snapshot is not day 180")

-- ---- the features: one definition, shared with the live engine -----------------------------
-- Every event feature is computed by churnlab.live (core/live/livestate.c), the state the live
-- engine keeps per customer: the customers' profiles, then the event log and the ratings are
-- fed to it, the clock is set to the snapshot, and the features are read back. A live run on
-- the same events gives the same numbers (tests/lua/live.lua checks both against the frame
-- operations this notebook used before).

local state = cl.live.new{titles = titles, max_user = users.user_id:max()}
local function feed(f, opts)
  local r = state:ingest(f, opts)
  if r.rejected > 0 then
    error(fmt("02_features: %d events refused, first: %s", r.rejected, r.reasons[1]), 0)
  end
end
feed(active, {event = "profile"})
feed(events)
feed(ratings, {event = "rating"})
state:advance(SNAP)
local F = active:select{"user_id", "age_band", "region", "payment_method", "devices", "channel",
  "churn"}:join(state:frame(), "user_id")

-- ---- write ----------------------------------------------------------------------------------

local order = {"user_id", "tenure_days", "age_band", "region", "plan", "monthly_price",
  "discount_pct", "payment_method", "devices", "channel", "price_rise", "plan_changes_90",
  "recency_days", "minutes_7", "minutes_30", "minutes_90", "watches_7", "watches_30",
  "watches_90", "active_days_7", "active_days_30", "active_days_90", "active_share_30",
  "active_share_90", "minutes_trend", "minutes_ratio_30_90", "titles_90", "genres_90",
  "completion_90", "rating_mean", "ratings_n", "tickets_30", "tickets_180",
  "payment_failures_30", "payment_failures_90", "payment_failures_180", "churn"}
F = F:sort("user_id"):select(order)
local path = DATA .. "/features.csv"
F:write_csv(path)
print(fmt("02_features: wrote %s (%d customers x %d columns)", path, F:nrow(), F:ncol()))

-- ---- the report -------------------------------------------------------------------------------

local desc = {
  tenure_days = "days since signup", monthly_price = "list price of the plan at the snapshot",
  discount_pct = "discount running at the snapshot", devices = "number of devices",
  price_rise = "1 if the customer's price rose on day 120",
  plan_changes_90 = "plan changes in the last 90 days",
  recency_days = "days since the last watch (181: none in the window)",
  minutes_7 = "minutes watched, last 7 days", minutes_30 = "minutes watched, last 30 days",
  minutes_90 = "minutes watched, last 90 days", watches_7 = "titles started, last 7 days",
  watches_30 = "titles started, last 30 days", watches_90 = "titles started, last 90 days",
  active_days_7 = "days with viewing, last 7", active_days_30 = "days with viewing, last 30",
  active_days_90 = "days with viewing, last 90",
  active_share_30 = "share of possible days with viewing, last 30",
  active_share_90 = "share of possible days with viewing, last 90",
  minutes_trend = "slope of daily minutes per week over the last 12 weeks",
  minutes_ratio_30_90 = "minutes in the last 30 days / (monthly average over 90 + 1)",
  titles_90 = "distinct titles, last 90 days", genres_90 = "distinct main genres, last 90 days",
  completion_90 = "mean completion, last 90 days", rating_mean = "mean rating given",
  ratings_n = "ratings given", tickets_30 = "support tickets, last 30 days",
  tickets_180 = "support tickets, whole window",
  payment_failures_30 = "payment failures, last 30 days",
  payment_failures_90 = "payment failures, last 90 days",
  payment_failures_180 = "payment failures, whole window",
}

local y = F.churn:totable()
local n = F:nrow()
local function auc_of(col)
  local v = F[col]:totable()
  local s = {}
  for i = 1, n do s[i] = v[i] or 0 end
  local _, _, auc = plot.roc_curve(y, s)
  return auc, s
end

local rows, names, aucs = {}, {}, {}
for _, c in ipairs(order) do
  if desc[c] then
    local auc, s = auc_of(c)
    local m0, m1, n0, n1 = 0, 0, 0, 0
    for i = 1, n do
      if y[i] == 1 then m1, n1 = m1 + s[i], n1 + 1 else m0, n0 = m0 + s[i], n0 + 1 end
    end
    rows[#rows + 1] = {c, desc[c], m0 / n0, m1 / n1, auc}
    names[#names + 1], aucs[#aucs + 1] = c, math.abs(auc - 0.5) + 0.5
  end
end

-- the oracle: the true churn probability the simulator used (truth.csv; never a feature)
local oracle
local truth = cl.read_csv(DATA .. "/truth.csv")
if truth then
  local tj = F:select{"user_id", "churn"}:join(truth:select{"user_id", "true_risk"}, "user_id")
  local _, _, a = plot.roc_curve(tj.churn:totable(), tj.true_risk:totable())
  oracle = a
end

local r = report.new{title = "02 Features: from event logs to one row per customer",
  out = OUT .. "/02_features.html",
  subtitle = "Recency, frequency, viewing time, trends, diversity, service and billing events."}
r:metrics{
  {"Customers", n, note = "active at the snapshot"},
  {"Features", #names + 6, note = "plus the label"},
  {"Churn rate", fmt("%.1f%%", 100 * F.churn:mean())},
  oracle and {"Oracle AUC", fmt("%.3f", oracle), note = "true hazard of the simulator"} or nil,
}
r:h1("What was built")
r:text(fmt([[
Every feature uses only what happened **before the snapshot** (start of day %d); the label is
churn in the 30 days after it. Windows end at the snapshot: `minutes_30` covers days %d-%d.
The table lists each numeric feature's mean for customers who stayed and who churned, and its
ROC AUC on its own (0.5 = no signal; below 0.5 = lower values mean more churn). The file is
`%s/features.csv` (one row per customer, sorted by `user_id`), the input of 03_models.]],
  SNAP, SNAP - 30, SNAP - 1, DATA))
r:table(rows, {columns = {"feature", "meaning", "mean (stayed)", "mean (churned)", "AUC alone"},
  digits = 3, max_rows = 60, caption = "Numeric features, one at a time"})

-- strongest first
local idx = {}
for i = 1, #names do idx[i] = i end
table.sort(idx, function(a, b) if aucs[a] ~= aucs[b] then return aucs[a] > aucs[b] end return a < b end)
local top_names, top_vals = {}, {}
for k = 1, math.min(15, #idx) do
  top_names[k], top_vals[k] = names[idx[k]], aucs[idx[k]]
end
assert(r:figure(plot.bar{{values = top_vals, name = "max(AUC, 1 - AUC)"}, labels = top_names,
  horizontal = true, xlabel = "single-feature AUC (either direction)",
  title = "The most informative features on their own"},
  {caption = "Recent viewing carries most of the signal; no feature alone comes close to the "
    .. (oracle and fmt("oracle's %.3f", oracle) or "oracle") .. "."}))

-- churn by decile of recent viewing
local m30 = F.minutes_30:totable()
local order_i = {}
for i = 1, n do order_i[i] = i end
table.sort(order_i, function(a, b) if m30[a] ~= m30[b] then return m30[a] < m30[b] end return a < b end)
local dec, rate = {}, {}
for d = 1, 10 do
  local lo, hi = math.floor((d - 1) * n / 10) + 1, math.floor(d * n / 10)
  local c = 0
  for k = lo, hi do c = c + y[order_i[k]] end
  dec[d], rate[d] = tostring(d), 100 * c / (hi - lo + 1)
end
assert(r:figure(plot.bar{{values = rate, name = "churn rate"}, labels = dec,
  xlabel = "decile of minutes watched in the last 30 days (1 = least)",
  ylabel = "churn within 30 days (%)", title = "Churn by recent viewing"},
  {caption = "The least engaged tenth of customers churns several times as often as the most "
    .. "engaged."}))

r:h2("Categorical columns")
r:text("Kept as they are (`plan`, `payment_method`, `channel`, `region`, `age_band`); the "
  .. "preprocessing pipeline of 03_models encodes them.")
r:code("churnlab notebooks/02_features.lua")
local out = assert(r:save())
print("02_features: wrote " .. out)
