-- 08_live.lua: a month of the world streamed live (reports/08_live.html).
--
--   churnlab notebooks/08_live.lua [data/synth [reports [models/best.clm]]]
--
-- The world is rebuilt in memory from the default parameters (customers and titles read from
-- the data), and checked against the files' labels. The live engine from the snapshot on: the event log of data/synth builds the live state
-- (the same state notebook 02 reads its features from), then the synthetic world runs forward
-- 30 days with the random numbers of its replays, day by day; each day's events go into the
-- state, every active customer is rescored with the model notebook 03 saved, and the monitor
-- records the risk distribution, top movers, drift of the inputs against the training data
-- and calibration as cancellations settle the snapshot's predictions.
local cl = require "churnlab"
local LS, LM = require "churnlab.livescore", require "churnlab.livemonitor"
local plot, report = cl.plot, cl.report

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local MODEL = arg and arg[3] or "models/best.clm"
local SNAP, DAYS, THRESHOLD = 180, 30, 0.3
local fmt = string.format

local function read(name)
  local ok, f = pcall(cl.read_csv, DATA .. "/" .. name) -- raises naming the file
  if not ok then error("08_live: " .. tostring(f) .. " (run `make data` first)", 0) end
  return f
end
local users, events = read("users.csv"), read("events.csv")
local titles, ratings = read("titles.csv"), read("ratings.csv")
local features = read("features.csv")
local active = users:filter(users.active:eq(1))

-- the world that made the data (default parameters), checked against its files
local world = cl.synth.world{customers = users:nrow(), titles = titles:nrow()}
do
  local lab, ids, y = world:labels(), active.user_id:totable(), active.churn:totable()
  for i, id in ipairs(ids) do
    if lab[id] ~= y[i] then
      error("08_live: " .. DATA .. " was not generated with the default parameters", 0)
    end
  end
end

-- the model: notebook 03's best, with its pipeline; a logistic regression when it is missing
local model = io.open(MODEL) and cl.load(MODEL)
local pipe = model and model.pipeline and model:pipeline()
local model_name = MODEL
if not pipe then
  pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
    encode = "onehot", scale = "minmax"}
  pipe:fit(features)
  local X, y = pipe:transform(features)
  model = cl.logreg{}
  model:fit(X, y)
  model_name = "a logistic regression fitted here (no " .. MODEL .. ")"
end

-- ---- the live state at the snapshot ------------------------------------------------------
local state = cl.live.new{titles = titles, max_user = users.user_id:max()}
local t0 = cl.core.now()
for _, part in ipairs{{active, {event = "profile"}}, {events}, {ratings, {event = "rating"}}} do
  local r = state:ingest(part[1], part[2])
  if r.rejected > 0 then error("08_live: refused: " .. r.reasons[1], 0) end
end
state:advance(SNAP)
local load_s = cl.core.now() - t0
local sc = LS.new(state, model, {profiles = users, pipeline = pipe})
local mon = LM.new(sc, {threshold = THRESHOLD, reference = features, settle_every = 7,
  window = 1000000})

-- ---- the recommender (notebook 05's hybrid) and the experiment ---------------------------
-- Customers who visit get a list once: the model's (its top 10 from the viewing history up to
-- the snapshot) or, in the seeded 10% holdout, the ten most watched titles so far. The world
-- reacts to what it shows (churnlab.experiment), with the random numbers of w:replay for the
-- rest of life.
local watches = events:filter(events.event:eq("watch"))
local inter = cl.interactions(watches, {user = "user_id", item = "title_id", time = "day"})
local recm = cl.rec.hybrid{{cl.rec.als{factors = 32, iters = 10, reg = 10, alpha = 5, seed = 42}, 0.5},
  {cl.rec.itemknn{k = 20, normalize = true, neighbours = "source"}, 0.5}, fallback = cl.rec.popular{}, min_interactions = 5}
recm:fit(inter)
local lists = recm:recommend_all(10)
local popular = recm -- cold start: the hybrid's popularity fallback
local function recommend(id, k)
  return lists[id] or popular:recommend(id, k)
end
local EXP = require("churnlab.experiment")
local xp = EXP.new{world = world, seed = 1, holdout = 0.1, window = 7}

-- ---- a month, day by day -----------------------------------------------------------------
local steps, cancels, streamed, exps = {mon:step()}, {0}, 0, {}
local t1 = cl.core.now()
for _ = 1, DAYS do
  local day, evtext, rttext = xp:step(recommend)
  local r1 = state:ingest(evtext)
  local r2 = state:ingest(rttext, {event = "rating"})
  if r1.rejected + r2.rejected > 0 then error("08_live: refused: " .. (r1.reasons[1] or r2.reasons[1]), 0) end
  streamed = streamed + r1.accepted + r2.accepted
  steps[#steps + 1] = mon:step()
  local nc = 0
  for _ in evtext:gmatch(",cancel,") do nc = nc + 1 end
  cancels[#cancels + 1] = cancels[#cancels] + nc
  local sx = xp:summary()
  if sx.treatment.n > 0 and sx.control.n > 0 then sx.day = day; exps[#exps + 1] = sx end
end
local month_s = cl.core.now() - t1
-- timings go to the console, not the report, so the report is the same on every run
print(fmt("08_live: state built from the log in %.1f s; %d events streamed over %d days in %.1f s "
  .. "(with daily rescoring)", load_s, streamed, DAYS, month_s))

local last = steps[#steps]
local x, mean, above, expected, observed = {}, {}, {}, {}, {}
for i, s in ipairs(steps) do
  x[i], mean[i], above[i] = s.day, 100 * s.mean_risk, s.above
  expected[i] = steps[1].expected_churners - s.expected_churners
  observed[i] = cancels[i]
end

-- ---- the report --------------------------------------------------------------------------
local r = report.new{title = "08 Live: a month of the world streamed through the live engine",
  out = OUT .. "/08_live.html",
  subtitle = "Events in; features, risk, movers, drift and calibration out, day by day."}
r:metrics{
  {"Events streamed", streamed, note = fmt("%d days after the snapshot", DAYS)},
  {"Live state", state:stats().events, note = "events in it at the end"},
  {"Cancellations", cancels[#cancels], note = "in the month"},
  {"Brier (settled)", last.calibration and fmt("%.4f", last.calibration.brier) or "-",
    note = last.calibration and fmt("%d predictions", last.calibration.settled) or nil},
}
r:h1("Risk over the month")
r:text(fmt([[
The state is the one notebook 02 reads: the whole event log fed to `churnlab.live`, clock at
the start of day %d. The world then runs on with the random numbers of `w:replay`, so what
happens is what the replays and labels say. Every day the %d-odd active customers are rescored
with %s; customers at or above a risk of %.0f%% are the ones a retention team would act on.]],
  SNAP, last.n, model_name, 100 * THRESHOLD))
assert(r:figure(plot.line{{x = x, y = mean, name = "mean risk (%)"},
  xlabel = "day", ylabel = "mean P(churn in 30 days), %", title = "Mean risk of active customers"},
  {caption = "Risk moves as viewing, tickets and payment failures arrive and windows slide."}))
assert(r:figure(plot.line{{x = x, y = observed, name = "cancellations so far"},
  xlabel = "day", ylabel = "customers", title = "Cancellations as they arrive"},
  {caption = "Each cancellation settles the prediction made for that customer."}))
r:table((function()
  local rows = {}
  for i = 1, #steps, 7 do
    local s = steps[i]
    rows[#rows + 1] = {s.day, s.n, s.above, s.expected_churners, s.revenue_at_risk}
  end
  return rows
end)(), {columns = {"day", "active", fmt("risk >= %.0f%%", 100 * THRESHOLD),
  "expected churners", "revenue at risk / month"}, digits = 1, caption = "Weekly"})

r:h1("Top movers")
local rows = {}
for _, m in ipairs(last.movers_week) do rows[#rows + 1] = {m.user_id, 100 * m.risk, 100 * m.change} end
r:table(rows, {columns = {"customer", "risk now (%)", "rise over the week (points)"}, digits = 1,
  caption = "Largest risk increases over the last 7 days"})

r:h1("Drift of the inputs")
local d = {}
for name, psi in pairs(last.drift or {}) do d[#d + 1] = {name, psi} end
table.sort(d, function(a, b) if a[2] ~= b[2] then return a[2] > b[2] end return a[1] < b[1] end)
local drows = {}
for i = 1, math.min(10, #d) do drows[i] = d[i] end
r:text("PSI of each numeric model input at the end of the month against the training data "
  .. "(features.csv): < 0.1 stable, 0.1-0.25 moderate, > 0.25 major.")
r:table(drows, {columns = {"input", "PSI"}, digits = 3, caption = "The ten largest shifts"})

r:h1("Calibration as outcomes arrive")
if last.calibration then
  local rel = {}
  for k, b in ipairs(last.calibration.reliability) do
    if b.n > 0 then rel[#rel + 1] = {fmt("%d-%d%%", 10 * (k - 1), 10 * k), b.n, 100 * b.mean_p, 100 * b.rate} end
  end
  r:text(fmt("Predictions are recorded weekly; a cancellation settles one as churned, 30 days "
    .. "alive as stayed, and a week's predictions count once all their outcomes are in: by day "
    .. "%d that is the snapshot's %d, Brier %.4f. %d later predictions are still open (%d of "
    .. "them already settled by a cancellation).", last.day, last.calibration.settled,
    last.calibration.brier, last.outcomes_pending, last.cancellations_pending))
  r:table(rel, {columns = {"predicted", "settled", "mean predicted (%)", "churned (%)"},
    digits = 1, caption = "Reliability of the settled predictions"})
end
r:h1("The recommendation experiment")
local xe = exps[#exps]
if xe then
  local ex, el, elo, ehi, et = {}, {}, {}, {}, {}
  for i, e in ipairs(exps) do
    ex[i], el[i], elo[i], ehi[i], et[i] = e.day, e.lift, e.ci[1], e.ci[2], tonumber(e.true_lift) or 0
  end
  r:text(fmt([[
Every customer who visits gets one list of 10 titles: the hybrid recommender's (treatment) or,
for the 10%% holdout chosen by a hash of the customer id and the seed, the ten most watched
titles so far (control). The simulated customers react to what they are shown: each title is
viewed from the recommendation row within 7 days with a probability set by how well its genres
match their hidden tastes and by its quality, views move their content match (so their churn
hazard), and irrelevant titles slightly tire them. The metric is %s, counted once a customer's
7 days are over; the interval is a %.0f%% normal approximation (Welch). The world knows each
customer's view probability for both lists, so its true lift is exact, not estimated.]],
    xe.metric, 100 * xe.ci_level))
  r:table({
    {"model's recommendations", xe.treatment.n, xe.treatment.rate, xe.treatment.watch_minutes, 100 * xe.treatment.churn_rate},
    {"control (most popular)", xe.control.n, xe.control.rate, xe.control.watch_minutes, 100 * xe.control.churn_rate},
  }, {columns = {"arm", "customers", "views per customer", "minutes in 7 days", "churned in 7 days (%)"},
    digits = 3, caption = fmt("By day %d: lift %.3f (%.0f%% interval %.3f to %.3f, relative %+.0f%%); "
      .. "the world's true lift %.3f", xe.day, xe.lift, 100 * xe.ci_level, xe.ci[1], xe.ci[2],
      100 * (tonumber(xe.relative_lift) or 0), tonumber(xe.true_lift) or 0)})
  assert(r:figure(plot.line{{x = ex, y = el, name = "measured lift"},
    {x = ex, y = elo, name = fmt("%.0f%% interval, low", 100 * xe.ci_level)},
    {x = ex, y = ehi, name = fmt("%.0f%% interval, high", 100 * xe.ci_level)},
    {x = ex, y = et, name = "true lift (the world's)"},
    xlabel = "day", ylabel = "extra views per customer", title = "Recommendation lift as windows close",
    legend = "below"},
    {caption = "The measured lift with its interval, day by day, next to the world's true lift."}))
else
  r:text("No customer's 7-day window closed in both arms yet.")
end
r:code("churnlab notebooks/08_live.lua")
local out = assert(r:save())
print("08_live: wrote " .. out)
