-- Tests of churnlab.live: live features = batch features (against an independent oracle: the
-- frame operations notebook 02 used before it moved onto the live state), one-by-one feeding,
-- identical state bytes on replay, snapshots, the durable log, refusals, clock, errors.
--
-- By default on a small world generated with the default world's code; to run on the default
-- world itself (50k customers, 4.45M events; a few minutes):
--   CHURNLAB_LIVE_DATA=data/synth ./churnlab tests/lua/live.lua
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local live = require "churnlab.live"

local SNAP = 180
local tmp = os.tmpname()
os.remove(tmp)
local DATA = os.getenv("CHURNLAB_LIVE_DATA")
local own = not DATA
local WP = {customers = 2000, titles = 300, seed = 5}
local world
if own then
  DATA = tmp .. "_live_world"
  world = cl.synth.generate(DATA, WP)
end

local users = assert(cl.read_csv(DATA .. "/users.csv"))
local events = assert(cl.read_csv(DATA .. "/events.csv"))
local titles = assert(cl.read_csv(DATA .. "/titles.csv"))
local ratings = assert(cl.read_csv(DATA .. "/ratings.csv"))
local active = users:filter(users.active:eq(1))
local MAXU = users.user_id:max()

-- ---- the oracle: notebook 02's frame operations before the live state -------------------------
local function oracle()
  local watch = events:filter(events.event:eq("watch"))
    :select{"user_id", "day", "title_id", "minutes", "completion"}
  local recent = watch:filter(watch.day:ge(SNAP - 90))
  local F = active:select{"user_id", "tenure_days", "plan", "monthly_price", "discount_pct"}
  local function add(g, fill)
    F = F:join(g, "user_id", {how = "left"})
    for _, name in ipairs(g:names()) do
      if name ~= "user_id" and fill ~= nil then F = F:with(name, F[name]:fillna(fill)) end
    end
  end
  for _, w in ipairs{7, 30, 90} do
    local ww = w == 90 and recent or recent:filter(recent.day:ge(SNAP - w))
    add(ww:groupby("user_id"):agg{{"minutes", "sum", "minutes_" .. w},
      {"minutes", "size", "watches_" .. w}, {"day", "nunique", "active_days_" .. w}}, 0)
  end
  add(watch:groupby("user_id"):agg{{"day", "max", "last_watch"}}, SNAP - 181)
  F = F:with("recency_days", -F.last_watch + SNAP):drop("last_watch")
  local t12 = watch:filter(watch.day:ge(SNAP - 84))
  local off = t12.day - (SNAP - 84)
  t12 = t12:with("x", (off - off % 7) / 7)
  t12 = t12:with("xy", t12.x * t12.minutes)
  add(t12:groupby("user_id"):agg{{"xy", "sum", "sxy"}, {"minutes", "sum", "sy"}}, 0)
  F = F:with("minutes_trend", (F.sxy - F.sy * 5.5) / (143 * 7)):drop{"sxy", "sy"}
  local ten = F.tenure_days:totable()
  local a30, a90 = F.active_days_30:totable(), F.active_days_90:totable()
  local s30, s90 = {}, {}
  for i = 1, F:nrow() do
    s30[i] = a30[i] / math.min(30, ten[i])
    s90[i] = a90[i] / math.min(90, ten[i])
  end
  F = F:with("active_share_30", s30):with("active_share_90", s90)
  F = F:with("minutes_ratio_30_90", F.minutes_30 / (F.minutes_90 / 3 + 1))
  local tg = titles.genres:totable()
  local main = {}
  for i, g in ipairs(tg) do main[i] = g:match("^[^|]+") end
  local tmain = cl.frame{title_id = titles.title_id:totable(), main_genre = main}
  add(recent:join(tmain, "title_id"):groupby("user_id"):agg{{"title_id", "nunique", "titles_90"},
    {"main_genre", "nunique", "genres_90"}, {"completion", "mean", "completion_90"}}, nil)
  F = F:with("titles_90", F.titles_90:fillna(0)):with("genres_90", F.genres_90:fillna(0))
  F = F:with("completion_90", F.completion_90:fillna(recent.completion:mean()))
  add(ratings:groupby("user_id"):agg{{"rating", "mean", "rating_mean"}, {"rating", "size", "ratings_n"}})
  F = F:with("rating_mean", F.rating_mean:fillna(ratings.rating:mean()))
  F = F:with("ratings_n", F.ratings_n:fillna(0))
  local other = events:filter(events.event:isin{"ticket", "payment_failed", "plan_change",
    "price_change"}):select{"user_id", "day", "event"}
  local function count(event, from_day, name)
    local e = other:filter(other.event:eq(event))
    if from_day then e = e:filter(e.day:ge(from_day)) end
    add(e:groupby("user_id"):agg{{"day", "size", name}}, 0)
  end
  count("ticket", SNAP - 30, "tickets_30")
  count("ticket", nil, "tickets_180")
  count("payment_failed", SNAP - 30, "payment_failures_30")
  count("payment_failed", SNAP - 90, "payment_failures_90")
  count("payment_failed", nil, "payment_failures_180")
  count("plan_change", SNAP - 90, "plan_changes_90")
  count("price_change", nil, "price_rise")
  return F:sort("user_id")
end

local O = oracle()

-- Compares every feature of every customer: counts exactly, ratios within 1e-9 (relative).
local function same_as_oracle(F, label)
  T.eq(F:nrow(), O:nrow(), label .. ": customers")
  local ids, oids = F.user_id:totable(), O.user_id:totable()
  for i = 1, #ids do if ids[i] ~= oids[i] then T.eq(ids[i], oids[i], label .. ": row " .. i) end end
  T.eq(table.concat(F.plan:totable(), ","), table.concat(O.plan:totable(), ","), label .. ": plan")
  local worst = 0
  for _, f in ipairs(live.features()) do
    local a, b = F[f.name]:totable(), O[f.name]:totable()
    for i = 1, #a do
      if f.count then
        if a[i] ~= b[i] then
          T.eq(a[i], b[i], string.format("%s: %s of customer %d", label, f.name, ids[i]))
        end
      else
        local d = math.abs(a[i] - b[i]) / math.max(1, math.abs(b[i]))
        if not (d <= 1e-9) then
          T.near(a[i], b[i], 1e-9, string.format("%s: %s of customer %d", label, f.name, ids[i]))
        end
        if d > worst then worst = d end
      end
    end
  end
  return worst
end

local function batch_state(opts)
  local s = live.new(opts or {titles = titles, max_user = MAXU})
  T.eq(s:ingest(active, {event = "profile"}).rejected, 0, "profiles")
  local r = s:ingest(events)
  T.eq(r.rejected, 0, r.reasons[1])
  T.eq(s:ingest(ratings, {event = "rating"}).rejected, 0, "ratings")
  s:advance(SNAP)
  return s
end

local B
T.test("batch ingest (frames) = the frame-operations oracle, every feature of every customer", function()
  B = batch_state()
  local worst = same_as_oracle(B:frame(), "batch")
  print(string.format("     %d customers, %d events; worst ratio difference %.3g", O:nrow(),
    B:stats().events, worst))
end)

-- the events as Lua tables, in file order (customer by customer: the state takes any order
-- across customers)
local function event_tables(f, kind)
  local cols = {}
  for _, n in ipairs(f:names()) do cols[n] = f[n]:totable() end
  local list = {}
  for i = 1, f:nrow() do
    local e = {}
    for n, v in pairs(cols) do
      local x = v[i]
      if x == x and x ~= nil then e[n] = x end
    end
    if kind then e.event = kind end
    list[i] = e
  end
  return list
end

T.test("events fed one by one = the oracle, and the same state bytes as batch ingest", function()
  local s = live.new{titles = titles, max_user = MAXU}
  for _, part in ipairs{{active, "profile"}, {events}, {ratings, "rating"}} do
    for _, e in ipairs(event_tables(part[1], part[2])) do
      local r = s:ingest({e})
      if r.accepted ~= 1 then T.eq(r.reasons[1], nil, "one-by-one") end
    end
  end
  s:advance(SNAP)
  same_as_oracle(s:frame(), "one by one")
  T.ok(s:image() == B:image(), "one-by-one and batch states differ")
end)

T.test("replaying the same events gives identical state bytes; features(id) matches frame()", function()
  local s = batch_state()
  T.ok(s:image() == B:image(), "two replays differ")
  local F = B:frame()
  local id = F.user_id:get(1)
  local f = B:features(id)
  T.eq(f.minutes_30, F.minutes_30:get(1))
  T.eq(f.plan, F.plan:get(1))
  T.eq(f.active, true)
  T.eq(B:features(MAXU + 5), nil)
end)

T.test("a snapshot restores to the same bytes, and continues like the original", function()
  local path = tmp .. "_live.snap"
  local s = live.new{titles = titles, max_user = MAXU}
  s:ingest(active, {event = "profile"})
  local half = events:head(events:nrow() // 2)
  local rest = events:tail(events:nrow() - events:nrow() // 2)
  s:ingest(half)
  s:snapshot(path)
  local r = live.new{snapshot = path}
  T.ok(r:image() == s:image(), "restored image differs")
  for _, x in ipairs{s, r} do
    x:ingest(rest)
    x:ingest(ratings, {event = "rating"})
    x:advance(SNAP)
  end
  T.ok(r:image() == B:image(), "snapshot + rest differs from the whole run")
  -- a corrupted snapshot is refused with a message
  local fh = assert(io.open(path, "r+b"))
  fh:seek("set", 200)
  fh:write("\255\255\255")
  fh:close()
  T.raises(function() live.new{snapshot = path} end, "corrupted snapshot")
  os.remove(path)
end)

T.test("the log: acknowledged batches come back on reopen, from snapshot + log", function()
  local db, snap = tmp .. "_live.db", tmp .. "_live_log.snap"
  local s = live.new{titles = titles, max_user = MAXU, log = db, snapshot = snap}
  s:ingest(active, {event = "profile"})
  local r = s:ingest(events:head(5000))
  T.eq(r.seq, 2)
  s:snapshot()
  local r2 = s:ingest(events:head(9000):tail(4000))
  T.eq(r2.seq, 3)
  T.eq(s:stats().logged, active:nrow() + r.accepted + r2.accepted)
  local img = s:image()
  s:free()
  local s2 = live.new{titles = titles, max_user = MAXU, log = db, snapshot = snap}
  T.ok(s2:image() == img, "reopened state differs")
  os.remove(snap) -- the log alone rebuilds the same state
  local s3 = live.new{titles = titles, max_user = MAXU, log = db, snapshot = snap}
  T.ok(s3:image() == img, "log-only rebuild differs")
  T.raises(function() live.new{max_user = MAXU, log = db} end, "another configuration")
  -- a snapshot ahead of its log (another log, or a log restored from an older backup)
  s3:snapshot(snap)
  local db2 = tmp .. "_live2.db"
  T.raises(function() live.new{titles = titles, max_user = MAXU, log = db2, snapshot = snap} end,
    "covers batch 3 but the log", "ends at 0")
  os.remove(snap)
  for _, f in ipairs{db, db .. "-wal", db .. "-shm", db2, db2 .. "-wal", db2 .. "-shm"} do os.remove(f) end
end)

T.test("malformed events are refused with row and field, and leave the state unchanged", function()
  local s = batch_state()
  local before = s:image()
  local F = s:frame()
  local rec, uid = F.recency_days:totable(), nil
  for i = 1, #rec do if rec[i] <= 10 then uid = F.user_id:get(i) break end end
  local bad = {
    {user_id = 1, day = 100, event = "watch", title_id = 1, minutes = -3, completion = 0.5},
    {user_id = 1, day = 100, event = "watch", title_id = 1, minutes = 3, completion = 1.5},
    {user_id = 1, day = 100, event = "watch", title_id = 99999, minutes = 3, completion = 0.5},
    {user_id = 1, day = 100, event = "watch", minutes = 3, completion = 0.5},
    {user_id = 0, day = 100, event = "ticket"},
    {user_id = 1.5, day = 100, event = "ticket"},
    {user_id = 1, event = "ticket"},
    {user_id = 1, day = 100, event = "teleport"},
    {user_id = 1, day = 100, event = "plan_change", detail = "gold"},
    {user_id = 1, day = 100, event = "price_change", detail = "cheap"},
    {user_id = uid, day = 50, event = "ticket"}, -- 90+ days before the customer's latest event
    {user_id = 1, day = 100, event = "rating"},
    "not a table",
  }
  local r = s:ingest(bad)
  T.eq(r.accepted, 0, table.concat(r.reasons, "\n"))
  T.eq(r.rejected, #bad)
  local want = {"event 1: field 'minutes'", "event 2: field 'completion'",
    "event 3: field 'title_id': 99999 is not in the catalog", "event 4: field 'title_id'",
    "event 5: field 'user_id'", "event 6: field 'user_id'", "event 7: field 'day'",
    "event 8: field 'event': unknown event 'teleport'", "event 9: field 'detail': unknown plan 'gold'",
    "event 10: field 'detail': expected the new price", "event 11: field 'day': day 50",
    "event 12: field 'rating'", "event 13: expected a table"}
  for i, w in ipairs(want) do
    T.ok(r.reasons[i] and r.reasons[i]:find(w, 1, true), "reason " .. i .. ": " .. tostring(r.reasons[i]))
  end
  T.ok(s:image() == before, "a refused event changed the state")
  T.eq(s:stats().rejected, #bad)
  -- in a frame, the reason names the row
  local f = cl.frame{user_id = {1, 2}, day = {170, 170}, event = {"watch", "ticket"},
    title_id = {1, 0 / 0}, minutes = {0 / 0, 0 / 0}, completion = {0.5, 0 / 0}}
  local rf = s:ingest(f)
  T.eq(rf.accepted, 1)
  T.ok(rf.reasons[1]:find("row 1: field 'minutes'", 1, true), rf.reasons[1])
end)

T.test("a CSV file followed as it grows = the same events ingested at once; bad lines named", function()
  local LF = require "churnlab.livefollow"
  local path = tmp .. "_live_follow.csv"
  local src = assert(io.open(DATA .. "/events.csv", "rb")):read("a")
  -- a malformed line in the middle: a word for a number, and a line with too few fields
  local head, body = src:match("^([^\n]*\n)(.*)$")
  local lines = {}
  for l in body:gmatch("[^\n]*\n") do lines[#lines + 1] = l end
  local k = #lines // 2
  table.insert(lines, k, "12,abc,watch,3,10,0.5,tv,\n")
  table.insert(lines, k + 1, "12,100\n")
  local text = head .. table.concat(lines)
  local s = live.new{titles = titles, max_user = MAXU}
  s:ingest(active, {event = "profile"})
  local follow = LF.new(s, path)
  local fh = assert(io.open(path, "wb"))
  local pos, total, reasons = 1, {accepted = 0, rejected = 0}, {}
  local sizes = {1, 5, 37, 4096, 100000, 1234567}
  local i = 0
  while pos <= #text do
    i = i + 1
    local n = sizes[(i - 1) % #sizes + 1]
    fh:write(text:sub(pos, pos + n - 1)) -- cuts lines anywhere, the header too
    fh:flush()
    pos = pos + n
    local r = follow:poll()
    total.accepted, total.rejected = total.accepted + r.accepted, total.rejected + r.rejected
    for _, x in ipairs(r.reasons) do reasons[#reasons + 1] = x end
  end
  fh:close()
  T.eq(total.accepted, events:nrow())
  T.eq(total.rejected, 2)
  -- read_csv turns a forced-num column's unparsable text into a counted missing value, so
  -- the bad day arrives as a missing one and the state refuses it, naming line and field
  T.ok(reasons[1]:find("line " .. (k + 1) .. ": ", 1, true) and reasons[1]:find("'day'", 1, true), reasons[1])
  T.ok(reasons[2]:find("line " .. (k + 2) .. ": expected 8 fields, got 2", 1, true), reasons[2])
  s:ingest(ratings, {event = "rating"})
  s:advance(SNAP)
  T.ok(s:image() == B:image(), "followed file differs from frame ingestion")
  -- a rotated file is an error, not a silent re-read
  assert(io.open(path, "wb")):close()
  T.raises(function() follow:poll() end, "shrank")
  os.remove(path)
  T.raises(function() follow:poll() end, "livefollow")
  T.raises(function() LF.new(s, path, {evnt = 1}) end, "unknown option 'evnt'")
end)

T.test("the clock: windows expire as it advances; it never goes back", function()
  local s = live.new{max_user = 10}
  s:ingest{{user_id = 3, event = "profile", signup_day = 0, plan = "basic", monthly_price = 7.99},
    {user_id = 3, day = 10, event = "watch", title_id = 4, minutes = 30, completion = 0.5},
    {user_id = 3, day = 12, event = "ticket"}}
  T.eq(s:now(), 13)
  local f = s:features(3)
  T.eq(f.minutes_7, 30)
  T.eq(f.recency_days, 3)
  T.eq(f.tenure_days, 13)
  T.eq(f.tickets_30, 1)
  s:advance(18)
  f = s:features(3)
  T.eq(f.minutes_7, 0)
  T.eq(f.minutes_30, 30)
  T.eq(f.titles_90, 1)
  s:advance(101)
  f = s:features(3)
  T.eq(f.minutes_90, 0)
  T.eq(f.titles_90, 0)
  T.eq(f.tickets_30, 0)
  T.eq(f.tickets_180, 1)
  T.eq(f.recency_days, 91)
  s:advance(50)
  T.eq(s:now(), 101)
  -- the ring wraps: a watch 200 days later clears the old buckets
  s:ingest{{user_id = 3, day = 210, event = "watch", title_id = 4, minutes = 5, completion = 1}}
  f = s:features(3)
  T.eq(f.minutes_90, 5)
  T.eq(f.titles_90, 1)
  T.eq(f.watches_90, 1)
  s:ingest{{user_id = 3, day = 211, event = "cancel"}}
  T.eq(s:features(3).active, false)
  T.eq(s:frame():nrow(), 0)
end)

T.test("options and arguments are checked; help texts exist", function()
  T.raises(function() live.new{titels = titles} end, "unknown option 'titels'", "titles")
  T.raises(function() live.new{plans = {}} end, "plans")
  T.raises(function() live.new{max_user = 0} end, "max_user")
  local s = live.new()
  T.raises(function() s:ingest({}, {event = "nope"}) end, "unknown event 'nope'")
  T.raises(function() s:ingest({}, {evnt = "watch"}) end, "unknown option 'evnt'")
  T.raises(function() s:ingest(42) end, "bad argument", "churnlab.Frame, CSV text or list of event tables")
  T.raises(function() s:ingest(cl.frame{x = {1}}) end, "user_id")
  T.raises(function() s:snapshot() end, "no path")
  s:free()
  T.raises(function() s:now() end, "freed")
  local help = require "churnlab.help"
  for _, name in ipairs{"new", "features"} do
    T.ok(help.doc and help.doc(live[name]) or true)
  end
  T.eq(#live.features(), 29)
  T.ok(tostring(live.new()):find("churnlab.Live", 1, true))
end)

T.test("live risk from a saved model + pipeline equals batch scoring; lazy and cached", function()
  local LS = require "churnlab.livescore"
  local F = active:select{"user_id", "age_band", "region", "payment_method", "devices", "channel",
    "churn"}:join(B:frame(), "user_id")
  local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
    encode = "onehot", scale = "minmax"}
  pipe:fit(F)
  local X, y = pipe:transform(F)
  local m = cl.logreg{}
  m:fit(X, y, {pipeline = pipe})
  local path = tmp .. "_live_model.clm"
  m:save(path, {pipeline = pipe})
  local m2 = cl.load(path)
  os.remove(path)
  local want = m:predict(X):totable()
  local s = batch_state()
  local sc = LS.new(s, m2, {profiles = users})
  local A = sc:all()
  T.eq(A:nrow(), F:nrow())
  local got, ids = A.risk:totable(), A.user_id:totable()
  for i = 1, #want do T.near(got[i], want[i], 1e-6, "risk of customer " .. ids[i]) end
  for i = 1, #ids, math.max(1, #ids // 25) do
    T.near(sc:risk(ids[i]), want[i], 1e-6, "risk(" .. ids[i] .. ")")
  end
  -- reasons on demand: the live input row explains like the batch row of the same customer
  local E = require "churnlab.explain"
  local id2 = ids[2]
  local mine = sc:reasons(id2, {background = X, top = 3})
  local batch = E.reasons(m2, pipe, F:filter(F.user_id:eq(id2)), {background = X, top = 3})[1]
  T.near(mine.p, batch.p, 1e-6)
  T.eq(mine.text, batch.text)
  T.ok(#mine.reasons >= 1)
  T.eq(sc:reasons(MAXU + 1), nil)
  local id = ids[1]
  local r0 = sc:risk(id)
  T.eq(sc:risk(id), r0)
  local v = s:version()
  for d = 1, 20 do s:ingest{{user_id = id, day = SNAP + 20, event = "ticket"}} end
  T.ok(s:version() > v)
  T.ok(sc:risk(id) ~= r0, "risk not recomputed after new events")
  T.eq(sc:risk(MAXU + 1), nil)
  T.raises(function() LS.new(s, m2, {profile = users}) end, "unknown option 'profile'")
  T.raises(function() LS.new(s, m2) end, "profiles")
end)

-- The C scorer (the service's path) against the Lua one: the same input columns built two ways
-- (a join in Lua, bound sources in C) through the same pipeline and model code, so the same
-- binary gives the same floats: compared exactly.
T.test("the C scorer equals the Lua scorer, for logreg and gbdt; reasons add up to the margin", function()
  local LS, scorer = require "churnlab.livescore", require "churnlab.scorer"
  local F = active:select{"user_id", "age_band", "region", "payment_method", "devices", "channel",
    "churn"}:join(B:frame(), "user_id")
  local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
    encode = "onehot", scale = "minmax"}
  pipe:fit(F)
  local X, y = pipe:transform(F)
  local s = batch_state()
  for _, kind in ipairs{"logreg", "gbdt"} do
    local m = kind == "logreg" and cl.logreg{} or cl.gbdt{trees = 30}
    m:fit(X, y, {pipeline = pipe})
    local path = tmp .. "_scorer_" .. kind .. ".clm"
    m:save(path, {pipeline = pipe})
    local lua_sc = LS.new(s, cl.load(path), {profiles = users})
    local sc = scorer.new(s, path, {profiles = users})
    os.remove(path)
    T.ok(tostring(sc):find(kind, 1, true))
    local A = lua_sc:all()
    local ids, want = A.user_id:totable(), A.risk:totable()
    local got = sc:risks(ids)
    for i = 1, #ids do
      if got[i] ~= want[i] then
        T.eq(got[i], want[i], kind .. " risk of customer " .. ids[i])
      end
    end
    T.eq(sc:risk(ids[3]), want[3])
    T.eq(sc:risk(MAXU + 1), nil)
    T.eq(sc:reasons(MAXU + 1), nil)
    -- every contribution: base + sum = the margin, i.e. logit of the uncorrected risk
    local _, d = X:shape()
    local r = sc:reasons(ids[5], {top = d})
    T.eq(#r.reasons, d)
    local sum = r.base
    for i, x in ipairs(r.reasons) do
      sum = sum + x.contrib
      if i > 1 then T.ok(math.abs(x.contrib) <= math.abs(r.reasons[i - 1].contrib), "sorted") end
    end
    local mg = m:predict(X:rows(1, 1), {margin = true})  -- shape check only
    T.ok(mg)
    local row = F:filter(F.user_id:eq(ids[5]))
    local Xr = pipe:transform(row)
    T.near(sum, m:predict(Xr, {margin = true}):get(1), 1e-5 * (1 + math.abs(sum)), kind .. " margin")
    local top = sc:reasons(ids[5])
    T.eq(#top.reasons, 3)
    T.ok(top.reasons[1].column and top.reasons[1].feature)
    T.raises(function() sc:reasons(ids[5], {top = 0}) end, "top")
    T.raises(function() sc:reasons(ids[5], {k = 3}) end, "unknown option 'k'")
    T.raises(function() sc:risks({ids[1], MAXU + 1}) end, "unknown to the live state")
  end
  local pm = tmp .. "_scorer_nopipe.clm"
  local m = cl.gbdt{trees = 5}
  m:fit(X, y)
  m:save(pm)
  T.raises(function() scorer.new(s, pm, {profiles = users}) end, "no pipeline")
  os.remove(pm)
  T.raises(function() scorer.new(s, tmp .. "_nothing.clm", {profiles = users}) end, "_nothing.clm")
  T.raises(function() scorer.new(s, pm, {profile = users}) end, "unknown option 'profile'")
end)

T.test("monitoring a streamed month: risk aggregates, movers, drift, calibration against the world's labels", function()
  if not world then return T.skip("monitor", "needs the generated small world") end
  local LS, LM = require "churnlab.livescore", require "churnlab.livemonitor"
  local s = batch_state()
  local F = active:select{"user_id", "age_band", "region", "payment_method", "devices", "channel",
    "churn"}:join(s:frame(), "user_id")
  local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
    encode = "onehot", scale = "minmax"}
  pipe:fit(F)
  local X, y = pipe:transform(F)
  local m = cl.logreg{}
  m:fit(X, y)
  local sc = LS.new(s, m, {profiles = users, pipeline = pipe})
  local mon = LM.new(sc, {threshold = 0.2, reference = F, settle_every = 100, top = 5})
  local first = mon:step()
  T.eq(first.n, F:nrow())
  T.eq(#first.movers_day, 0)
  for name, psi in pairs(first.drift) do T.ok(psi < 1e-9, name .. " drifts from itself: " .. psi) end
  local p0 = m:predict(X):totable()
  local sum, above, rev, price = 0, 0, 0, F.monthly_price:totable()
  for i, p in ipairs(p0) do
    sum = sum + p
    if p >= 0.2 then above = above + 1 end
    rev = rev + p * price[i]
  end
  T.near(first.expected_churners, sum, 1e-9)
  T.eq(first.above, above)
  T.near(first.revenue_at_risk, rev, 1e-9)
  local prev, rec = first, nil
  for day, ev, rt in world:stream{days = 30} do
    s:ingest(ev)
    s:ingest(rt, {event = "rating"})
    rec = mon:step()
    T.eq(rec.day, day + 1)
    local top = rec.movers_day[1]
    if top then
      local before = mon.by_day[day][top.user_id]
      T.near(top.change, top.risk - before, 1e-12)
      for _, x in ipairs(rec.movers_day) do T.ok(x.change <= top.change) end
    end
    prev = rec
  end
  T.ok(#rec.movers_week > 0)
  T.ok(rec.drift.recency_days > 0, "a month later the inputs have moved")
  -- every day-180 prediction has settled by day 210: Brier against the world's own labels
  local ids, lab = F.user_id:totable(), world:labels()
  local b = 0
  for i, id in ipairs(ids) do b = b + (p0[i] - lab[id]) ^ 2 end
  T.eq(rec.calibration.settled, #ids)
  T.near(rec.calibration.brier, b / #ids, 1e-6)
  local n = 0
  for _, bin in ipairs(rec.calibration.reliability) do n = n + bin.n end
  T.eq(n, #ids)
  T.raises(function() LM.new(sc, {treshold = 1}) end, "unknown option 'treshold'")
end)

T.test("the world streamed live: its cancels are the replay's churn, day by day", function()
  local w = world or cl.synth.world(WP)
  if not world then return T.skip("stream", "needs the generated small world") end
  local function run()
    local s = batch_state()
    local cancels, days = {}, 0
    for day, ev, rt in w:stream{days = 30} do
      days = days + 1
      T.eq(day, SNAP + days - 1)
      local r = s:ingest(ev)
      T.eq(r.rejected, 0, r.reasons[1])
      T.eq(s:ingest(rt, {event = "rating"}).rejected, 0)
      local c = ev:filter(ev.event:eq("cancel"))
      local ids = c.user_id:totable()
      for _, id in ipairs(ids) do
        T.eq(cancels[id], nil, "cancelled twice")
        cancels[id] = day
      end
    end
    T.eq(days, 30)
    return s, cancels
  end
  local s, cancels = run()
  local labels, n1 = w:labels(), 0
  for id = 1, WP.customers do
    if labels[id] == 1 then
      n1 = n1 + 1
      T.eq(cancels[id], w:churn_day(id), "cancel day of customer " .. id)
    else
      T.eq(cancels[id], nil, "customer " .. id .. " did not churn in the replay")
    end
  end
  T.ok(n1 > 0)
  T.eq(s:now(), SNAP + 30)
  T.eq(s:frame():nrow(), O:nrow() - n1)
  T.ok(run():image() == s:image(), "two streams differ")
  T.raises(function() w:stream{days = 0} end, "days must be an integer")
  T.raises(function() w:stream{dayz = 3} end, "unknown option 'dayz'")
end)

if own then
  for _, f in ipairs{"titles.csv", "users.csv", "events.csv", "ratings.csv", "campaign.csv",
    "truth.csv", "README.md"} do os.remove(DATA .. "/" .. f) end
  os.remove(DATA)
end
T.done()
