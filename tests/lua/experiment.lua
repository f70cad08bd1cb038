-- Tests of churnlab.experiment: the synthetic world reacting to recommendations, the seeded
-- holdout, and the measured lift against the world's true lift.
--
-- The statistics: the interval is a Welch normal approximation at level 0.9 around the
-- difference of the arms' mean views; the true lift is the mean, over the customers measured,
-- of the world's expected views under the model's list minus those under the popularity list
-- (a sample average treatment effect, which a Welch interval covers at least at its level).
-- Expected coverage over 20 seeds is >= 18; we require >= 15 (P(<= 14 of 20) ~ 1% at 0.9).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local E = require "churnlab.experiment"

local WP = {customers = 2000, titles = 300}
local SEEDS, DAYS = 20, 17

-- the "model": the k titles of highest appeal for the customer (it knows the tastes, so the
-- lift is clearly positive), over a fixed candidate set to keep the test quick
local function recommender(w)
  local cache = {}
  return function(id, k)
    local sc = {}
    for t = 1, WP.titles do sc[t] = {t, w:appeal(id, t)} end
    table.sort(sc, function(a, b) return a[2] > b[2] or (a[2] == b[2] and a[1] < b[1]) end)
    local out = {}
    for i = 1, k do out[i] = sc[i][1] end
    cache[id] = out
    return out
  end
end

local function run(seed, react, days)
  local w = cl.synth.world{customers = WP.customers, titles = WP.titles, seed = 100 + seed}
  local x = E.new{world = w, seed = seed, react = react}
  local rec, texts = recommender(w), {}
  for i = 1, days or DAYS do
    local _, ev = x:step(rec)
    texts[i] = ev
  end
  return x:summary(), texts, w
end

local function covers(ci, v) return ci[1] <= v and v <= ci[2] end

T.test("the estimated lift's 90% interval covers the world's true lift in most of 20 seeds", function()
  local hit, lines = 0, {}
  for seed = 1, SEEDS do
    local s = run(seed, true)
    T.ok(s.treatment.n > 500 and s.control.n > 50, "both arms measured")
    T.ok(s.true_lift > 0.5, "the model's lists are more relevant than the popular titles")
    if covers(s.ci, s.true_lift) then hit = hit + 1 end
    lines[#lines + 1] = string.format("seed %2d  n %d/%d  lift %.3f [%.3f, %.3f]  true %.3f",
      seed, s.treatment.n, s.control.n, s.lift, s.ci[1], s.ci[2], s.true_lift)
  end
  print(table.concat(lines, "\n"))
  print(string.format("coverage of the true lift: %d/%d (level 0.9)", hit, SEEDS))
  T.ok(hit >= 15, "coverage " .. hit .. "/" .. SEEDS)
end)

T.test("with the reaction off: no views from the row, lift 0 inside its interval, the other arms' differences cover 0", function()
  local cm, cc = 0, 0
  for seed = 1, SEEDS do
    local s = run(seed, false)
    T.eq(s.treatment.rate, 0)
    T.eq(s.control.rate, 0)
    T.eq(s.lift, 0)
    T.ok(covers(s.ci, 0))
    T.ok(s.true_lift > 0.5, "the truth still says the lists differ; nobody reacts to them")
    if covers(s.minutes_ci, 0) then cm = cm + 1 end
    if covers(s.churn_ci, 0) then cc = cc + 1 end
  end
  print(string.format("reaction off: minutes CI covers 0 in %d/%d, churn CI in %d/%d", cm,
    SEEDS, cc, SEEDS))
  T.ok(cm >= 15 and cc >= 15)
end)

T.test("reaction off streams exactly w:stream; reaction on keeps the life draws (first day identical)", function()
  local _, off, w = run(3, false, 6)
  local _, on = run(3, true, 6)
  local i = 0
  for _, ev in w:stream{days = 6} do
    i = i + 1
    local n = 0
    for _ in off[i]:gmatch("\n") do n = n + 1 end
    T.eq(n - 1, ev:nrow(), "day " .. i .. " rows")
    local mins = 0
    for m in off[i]:gmatch("\n%d+,%d+,watch,%d+,(%d+)") do mins = mins + tonumber(m) end
    T.eq(mins, ev.minutes:fillna(0):sum(), "day " .. i .. " minutes")
  end
  T.eq(on[1], off[1], "no impression before the first day's events")
  T.ok(on[3] ~= off[3], "the shown lists change what follows")
  T.ok(on[3]:find(",rec\n", 1, true), "views from the recommendation row")
end)

T.test("reproducible: the same seeds give the same events and summary", function()
  local s1, t1 = run(7, true, 9)
  local s2, t2 = run(7, true, 9)
  for i = 1, #t1 do T.eq(t1[i], t2[i]) end
  T.eq(s1.lift, s2.lift)
  T.eq(s1.true_lift, s2.true_lift)
  T.eq(s1.treatment.n, s2.treatment.n)
end)

T.test("the holdout is seeded by customer id: about 10%, same arm in every experiment", function()
  local w = cl.synth.world{customers = 5000, titles = 100, seed = 1}
  local a, b, c = E.new{world = w, seed = 4}, E.new{world = w, seed = 4}, E.new{world = w, seed = 5}
  local nc, same, differ = 0, true, 0
  for id = 1, 5000 do
    if a:arm(id) == "control" then nc = nc + 1 end
    same = same and a:arm(id) == b:arm(id)
    if a:arm(id) ~= c:arm(id) then differ = differ + 1 end
  end
  -- binomial(5000, 0.1): sd 21; 5 sd either side
  T.ok(nc > 395 and nc < 605, "control share " .. nc)
  T.ok(same)
  T.ok(differ > 500, "another seed, another holdout")
  local h = E.new{world = w, seed = 4, holdout = 0.5}
  local n2 = 0
  for id = 1, 5000 do if h:arm(id) == "control" then n2 = n2 + 1 end end
  T.ok(n2 > 2394 and n2 < 2606, "holdout 0.5: " .. n2)
end)

T.test("bad input is a clear error", function()
  local w = cl.synth.world{customers = 200, titles = 50, seed = 1}
  T.raises(function() E.new{world = w, bogus = 1} end, "bogus")
  T.raises(function() E.new{} end, "world")
  T.raises(function() E.new{world = w, holdout = 1.5} end, "holdout")
  T.raises(function() E.new{world = w, window = 0} end, "window")
  T.raises(function() E.new{world = w, k = 100} end, "k must")
  local x = E.new{world = w}
  T.raises(function() x:arm(0) end, "out of range")
  T.raises(function() for _ = 1, 5 do x:step(function() return {999} end) end end, "title id")
  T.raises(function() for _ = 1, 5 do x:step(function() return "x" end) end end, "list of title")
  T.raises(function() E.view_prob(w, 1, 51) end, "out of range")
  x:free()
  T.raises(function() x:summary() end, "freed")
end)

T.test("a service's monitor.experiment: null until attached, then SERVE_API's shape from the last step", function()
  -- a profiles-only model (as tests/lua/options.lua): the service needs one to start
  local n, x1, g, churn, ids = 40, {}, {}, {}, {}
  for i = 1, n do
    ids[i], x1[i], g[i] = i, math.sin(i), ({"a", "b"})[i % 2 + 1]
    churn[i] = i % 3 == 0 and "Yes" or "No"
  end
  local df = cl.frame({x1 = x1, g = g, churn = churn}, {names = {"x1", "g", "churn"}})
  local pipe = cl.prep.pipeline{target = "churn", positive = "Yes"}:fit(df)
  local path = os.tmpname()
  local m = cl.gbdt{trees = 2, depth = 2}
  local PX, py = pipe:transform(df)
  m:fit(PX, py, {pipeline = pipe})
  m:save(path, {pipeline = pipe})
  local profiles = cl.frame{user_id = ids, x1 = x1, g = g, churn = churn}
  local state = cl.live.new()
  local srv = cl.serve.start{state = state, model = path, profiles = profiles, port = 0}
  os.remove(path)
  local function monitor()
    srv:refresh()
    local status, body = srv:request("GET", "/api/monitor")
    T.eq(status, 200)
    return body
  end
  T.ok(monitor():find('"experiment":null', 1, true), "null before any experiment")
  local w = cl.synth.world{customers = 2000, titles = 300, seed = 9}
  local x = E.new{world = w, seed = 2}
  x:attach(srv)
  T.ok(monitor():find('"experiment":null', 1, true), "null before the first step")
  local rec = recommender(w)
  for _ = 1, 9 do x:step(rec) end
  local s, body = x:summary(), monitor()
  local e = body:match('"experiment":(%b{})')
  T.ok(e, "an experiment object")
  T.ok(e:find('"metric":"views of recommended titles within 7 days per customer"', 1, true))
  T.ok(e:find('"ci_level":0.9', 1, true))
  for _, k in ipairs{"lift", "relative_lift", "ci", "treatment", "control", "true_lift", "arms"} do
    T.ok(e:find('"' .. k .. '":', 1, true), "key " .. k)
  end
  T.near(tonumber(e:match('"lift":([-%d.e]+)')), s.lift, 1e-12)
  T.near(tonumber(e:match('"true_lift":([-%d.e]+)')), s.true_lift, 1e-12)
  T.eq(tonumber(e:match('"treatment":{[^}]*"n":(%d+)')), s.treatment.n)
  x:free() -- detaches
  T.ok(monitor():find('"experiment":null', 1, true), "null once the experiment is freed")
  -- attach finds the service through serve.c's accessor: anything else, or a stopped
  -- service, is an argument error (not a read of whatever the box holds)
  local y = E.new{world = w, seed = 3}
  T.raises(function() y:attach(state) end, "running churnlab.Service expected")
  T.raises(function() y:attach({}) end, "running churnlab.Service expected")
  srv:stop()
  T.raises(function() y:attach(srv) end, "running churnlab.Service expected")
  y:free()
end)

T.done()
