-- Time-aware mf (cl.rec.mf{time = true}: timeSVD++'s item bin, user drift and user-day
-- biases, core/rec/mftime.c). The sgd step is checked against finite differences of its
-- objective in tests/core/rec/test_mftime.c; here: the model finds a day effect plain mf
-- cannot, predictions use the given times, files round-trip, growth, errors. The MovieLens
-- u1-u5 figures are in scripts/movielens_eval.lua (not a test).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

local DAY = 86400
-- 60 users x 40 items; each user rates on 3 days, and on each day the user's ratings are
-- shifted by a mood of +-1 (drawn per user and day): rating = clamp(3 + item effect + mood).
-- Every rating's day is also in training (a per-user random holdout), as in MovieLens u1-u5.
local function world()
  local state = 12345
  local function rand() -- a small LCG: the test does not depend on churnlab's own generator
    state = (state * 1103515245 + 12345) % 2147483648
    return state / 2147483648
  end
  local us, is, vs, ts = {}, {}, {}, {}
  local item_eff = {}
  for i = 1, 40 do item_eff[i] = (i % 5) * 0.4 - 0.8 end
  for u = 1, 60 do
    local moods = {}
    for d = 1, 3 do moods[d] = rand() < 0.5 and -1 or 1 end
    for i = 1, 40 do
      if rand() < 0.6 then
        local d = 1 + math.floor(rand() * 3)
        local v = 3 + item_eff[i] + moods[d]
        us[#us + 1], is[#is + 1] = u, i
        vs[#vs + 1] = math.max(1, math.min(5, v))
        ts[#ts + 1] = (100 + 7 * d) * DAY + math.floor(rand() * 3600)
      end
    end
  end
  return rec.interactions{users = us, items = is, values = vs, times = ts}
end

local function test_pairs(test)
  local us, is, vs, ts = {}, {}, {}, {}
  for _, u in ipairs(test:users()) do
    local items, values, times = test:user_items(u)
    for j = 1, #items do
      us[#us + 1], is[#is + 1], vs[#vs + 1], ts[#ts + 1] = u, items[j], values[j], times[j]
    end
  end
  return us, is, vs, ts
end

local function rmse(m, us, is, vs, ts)
  local p = m:predict_ratings{users = us, items = is, times = ts}
  return rec.metrics.rmse(p, vs)
end

local function values(t)
  local out = {}
  for j = 1, t:numel() do out[j] = t:get(j) end
  return out
end

T.test("time = true finds the per-day moods that plain mf cannot", function()
  local train, test = world():split{test = 0.2, seed = 1}
  local us, is, vs, ts = test_pairs(test)
  T.ok(#us > 200)
  local p = {factors = 4, epochs = 60, seed = 3}
  local plain = rec.mf(p):fit(train)
  p.time = true
  local timed = rec.mf(p):fit(train)
  local a, b = rmse(plain, us, is, vs, ts), rmse(timed, us, is, vs, ts)
  -- the moods are +-1 on every rating: plain mf's error keeps most of them (about 0.8 here),
  -- the day biases remove them (0.25 here); a broken day bias leaves b near a
  T.ok(b < 0.75 * a, string.format("time-aware RMSE %.3f vs plain %.3f", b, a))
  if os.getenv("VERBOSE") then print(string.format("     plain %.3f, time-aware %.3f", a, b)) end
  -- without times the time-aware model predicts the item's latest bin only: close to plain
  local nt = rec.metrics.rmse(timed:predict_ratings{users = us, items = is}, vs)
  T.ok(nt > b, string.format("without times %.3f, with times %.3f", nt, b))
  -- evaluate uses the test matrix's own times
  T.near(rec.evaluate(timed, test).rmse, b, 1e-6)
end)

T.test("time = true: files round-trip, same seed = same model, growth", function()
  local train, test = world():split{test = 0.2, seed = 2}
  local us, is, vs, ts = test_pairs(test)
  local p = {factors = 3, epochs = 20, seed = 5, time = true, implicit = true}
  local m = rec.mf(p):fit(train)
  local pm = values(m:predict_ratings{users = us, items = is, times = ts})
  local again = values(rec.mf(p):fit(train):predict_ratings{users = us, items = is, times = ts})
  for j = 1, #pm do T.eq(again[j], pm[j]) end
  local path = os.tmpname()
  m:save(path)
  local l = rec.load(path)
  os.remove(path)
  T.eq(l:params().time, true)
  T.eq(l:params().reg_bin, 50)
  local pl = values(l:predict_ratings{users = us, items = is, times = ts})
  for j = 1, #pm do T.eq(pl[j], pm[j]) end
  -- growth keeps every earlier prediction (a new user, then a new item)
  l:add_user("new", {items = {1, 2, 3}, values = {5, 4, 3}})
  l:add_item(999, {users = {1, 2}, values = {4, 4}})
  local pg = values(l:predict_ratings{users = us, items = is, times = ts})
  local same = 0
  for j = 1, #pm do if pg[j] == pm[j] then same = same + 1 end end
  -- users 1 and 2 rated the new item at the latest time: their mean day moves (as on reload)
  T.ok(same >= #pm - 2 * 40, string.format("%d of %d unchanged", same, #pm))
  T.eq(#l:recommend("new", 3), 3)
  local path2 = os.tmpname()
  l:save(path2)
  local l2 = rec.load(path2)
  os.remove(path2)
  local pg2 = values(l2:predict_ratings{users = us, items = is, times = ts})
  for j = 1, #pg do T.eq(pg2[j], pg[j]) end
end)

T.test("time = true: errors", function()
  local notimes = rec.interactions{users = {1, 1, 2}, items = {1, 2, 1}, values = {4, 3, 5}}
  T.raises(function() rec.mf{time = true}:fit(notimes) end, "needs interaction times")
  T.raises(function() rec.mf{time = true, solver = "als"}:fit(world()) end,
           "time = true needs solver")
  T.raises(function() rec.mf{time_bins = 0} end, "time_bins")
  local m = rec.mf{time = true, epochs = 2}:fit(world())
  T.raises(function() m:predict_ratings{users = {1}, items = {1}, times = {"x"}} end,
           "time 1 must be a number")
  T.raises(function() m:predict_ratings{users = {1, 2}, items = {1, 2}, times = {1}} end,
           "2 users but 1 times")
end)

T.test("an mf file from before the time parameters loads, time off, same predictions", function()
  -- written by scripts/ref/rec_mf_pre_time_fixture.lua with the binary before time = true;
  -- predictions are float32 dot products of the stored factors plus biases, so the same
  -- arithmetic on any x86-64 CPU: agreement to 1e-6 (the file's 9 significant digits)
  local m = rec.load("tests/data/rec_mf_pre_time.clm")
  T.eq(m:params().time, false)
  T.eq(m:params().time_bins, 30) -- the defaults fill what the file predates
  local n = 0
  for line in io.lines("tests/data/rec_mf_pre_time.txt") do
    local u, i, v = line:match("^(%d+) (%d+) (%S+)$")
    T.near(m:predict_rating(tonumber(u), tonumber(i)), tonumber(v), 1e-6)
    n = n + 1
  end
  T.eq(n, 108)
end)

T.done()
