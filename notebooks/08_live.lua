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

-- ---- a month, day by day -----------------------------------------------------------------
local steps, cancels, streamed = {mon:step()}, {0}, 0
local t1 = cl.core.now()
for _, ev, rt in world:stream{days = DAYS} do
  streamed = streamed + ev:nrow() + rt:nrow()
  state:ingest(ev)
  state:ingest(rt, {event = "rating"})
  steps[#steps + 1] = mon:step()
  cancels[#cancels + 1] = cancels[#cancels] + ev:filter(ev.event:eq("cancel")):nrow()
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
r:h2("Not yet live")
r:text("Recommendations by fold-in and the online recommendation experiment (holdout arm, lift "
  .. "with its interval against the world's true lift) are the next part of issue 15.")
r:code("churnlab notebooks/08_live.lua")
local out = assert(r:save())
print("08_live: wrote " .. out)
