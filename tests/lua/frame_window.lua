-- churnlab.frame row-order transforms against pandas (tests/data/frame_ref.lua, written by
-- scripts/ref/frame_ref.py). Sums of <= 60 small integers are exact in double; means, std and
-- medians agree to rounding of a few operations: 1e-12 relative.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local R = dofile("tests/data/frame_ref.lua")
local n = #R.u
local df = cl.frame{u = R.u, x = (function() local t = {n = n} for i = 1, n do if R.x[i] == R.x[i] then t[i] = R.x[i] end end return t end)()}
local function same(col, ref, what)
  local got = col:totable()
  for i = 1, n do
    local r, v = ref[i], got[i]
    if r ~= r then T.eq(v, nil, what .. " row " .. i .. " missing")
    else T.ok(v and math.abs(v - r) <= 1e-12 * math.max(1, math.abs(r)), what .. " row " .. i .. ": " .. tostring(v) .. " vs " .. r) end
  end
end
local g = df:groupby("u")
T.test("cumsum, shift, diff = pandas", function()
  same(df.x:cumsum(), R.cumsum, "cumsum"); same(g:cumsum("x"), R.g_cumsum, "g:cumsum")
  for _, k in ipairs{1, 2, -1} do
    same(df.x:shift(k), R["shift_" .. k], "shift " .. k); same(g:shift("x", k), R["g_shift_" .. k], "g:shift " .. k)
    same(df.x:diff(k), R["diff_" .. k], "diff " .. k); same(g:diff("x", k), R["g_diff_" .. k], "g:diff " .. k)
  end
end)
T.test("rank = pandas (every method, both directions, cat labels)", function()
  for _, m in ipairs{"average", "min", "max", "first", "dense"} do
    for _, asc in ipairs{true, false} do
      local tag = m .. "_" .. (asc and "asc" or "desc")
      same(df.x:rank{method = m, ascending = asc}, R["rank_" .. tag], "rank " .. tag)
      same(g:rank("x", {method = m, ascending = asc}), R["g_rank_" .. tag], "g:rank " .. tag)
    end
  end
  same(df.u:rank(), R.rank_cat, "rank cat")
end)
T.test("rolling = pandas", function()
  for _, fn in ipairs{"sum", "mean", "min", "max", "std", "count", "median"} do
    for _, wm in ipairs{{3, 3}, {3, 1}, {5, 2}} do
      local tag = fn .. "_" .. wm[1] .. "_" .. wm[2]
      same(df.x:rolling(wm[1], fn, {min_periods = wm[2]}), R["roll_" .. tag], "rolling " .. tag)
      same(g:rolling("x", wm[1], fn, {min_periods = wm[2]}), R["g_roll_" .. tag], "g:rolling " .. tag)
    end
  end
end)
T.test("errors and empty columns", function()
  T.raises(function() df.u:cumsum() end, "cumsum: needs a num or date column")
  T.raises(function() df.x:rolling(0, "mean") end, "window must be >= 1")
  T.raises(function() df.x:rolling(3, "avg") end, "unknown function 'avg'")
  T.raises(function() df.x:rank{method = "top"} end, "unknown method 'top'")
  T.raises(function() g:cumsum("nosuch") end, "no column 'nosuch'")
  local e = cl.frame{x = {}}
  T.eq(#e.x:cumsum(), 0); T.eq(#e.x:rolling(3, "mean"), 0); T.eq(#e.x:rank(), 0)
end)
T.done()
