-- Tests of w:stream{speed = x}: the world streamed at x simulated days per wall second. Day n
-- (0 = the first) must come no earlier than n / x seconds after the stream's start. The start
-- is read in C somewhere after w:stream is called, so n / x after a clock read taken just before
-- that call is a lower bound the sleep guarantees whatever the machine or a sanitizer costs
-- (measuring from day 0's arrival in Lua is not: day 0's frames take time to reach Lua, so day
-- 1 may come less than 1 / x after it, as it did under ASan); an upper bound with a generous slack (the machine is
-- shared) catches a stream that sleeps a whole 1 / x after each day's computation or
-- otherwise drifts. Pacing must not change what is streamed (same frames as unpaced).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

local WP = {customers = 300, titles = 200, seed = 11}
local DAYS = 6

local function collect(opts)
  local w = cl.synth.world(WP)
  local t, out = {}, {}
  t.start = cl.core.now() -- before the stream starts its clock
  for day, ev, rt in w:stream(opts) do
    t[#t + 1] = cl.core.now()
    out[#out + 1] = {day = day, nev = ev:nrow(),
      users = ev.user_id:totable(), minutes = ev.minutes:totable(), nrt = rt:nrow()}
  end
  return t, out
end

local function same_days(a, b)
  T.eq(#a, #b)
  for i = 1, #a do
    T.eq(a[i].day, b[i].day)
    T.eq(a[i].nev, b[i].nev)
    T.eq(a[i].nrt, b[i].nrt)
    for j = 1, a[i].nev do
      if a[i].users[j] ~= b[i].users[j] or not (a[i].minutes[j] == b[i].minutes[j]
          or (a[i].minutes[j] ~= a[i].minutes[j] and b[i].minutes[j] ~= b[i].minutes[j])) then
        T.ok(false, string.format("day %d row %d differs", a[i].day, j))
        return
      end
    end
  end
end

T.test("speed = x: day n no earlier than n / x s after the first; same days as unpaced", function()
  local t0 = cl.core.now()
  local tu, unpaced = collect{days = DAYS}
  local compute = cl.core.now() - t0 -- what the days cost with no pacing (world built too)
  T.eq(#unpaced, DAYS)
  for _, speed in ipairs{8, 25} do
    local t, paced = collect{days = DAYS, speed = speed}
    same_days(paced, unpaced)
    for n = 1, DAYS - 1 do
      local at = t[n + 1] - t.start
      -- 1e-9: the rounding of differences of clock readings of ~1e5 s
      T.ok(at >= n / speed - 1e-9, string.format("speed %g: day %d after %.4f s, due at %.4f s",
        speed, n, at, n / speed))
    end
    local total = t[DAYS] - t[1]
    T.ok(total <= (DAYS - 1) / speed + compute + 1.0,
      string.format("speed %g: %d days took %.3f s, want about %.3f s", speed, DAYS, total, (DAYS - 1) / speed))
    print(string.format("     speed %g: last day at %.3f s (due %.3f s; unpaced run %.3f s)", speed,
      total, (DAYS - 1) / speed, tu[DAYS] - tu[1]))
  end
end)

T.test("speed 0 is unpaced; bad speeds are errors naming the option", function()
  local t = collect{days = 3, speed = 0}
  T.eq(#t, 3)
  local w = cl.synth.world(WP)
  T.raises(function() w:stream{speed = -1} end, "speed must be")
  T.raises(function() w:stream{speed = 0 / 0} end, "speed must be")
  T.raises(function() w:stream{speed = "fast"} end, "speed")
  T.raises(function() w:stream{sped = 1} end, "unknown option 'sped' (options: days, speed)")
end)

T.done()
