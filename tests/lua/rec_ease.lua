-- EASE (cl.rec.ease) against numpy: tests/data/rec_ease_ref.txt from scripts/ref/rec_ease_ref.py.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

local function read_cases(path)
  local cases, cur = {}, nil
  for line in io.lines(path) do
    local w = {}
    for x in line:gmatch("%S+") do w[#w + 1] = x end
    if w[1] == "case" then
      cur = {name = w[2], reg = tonumber(w[3]), binary = w[4] == "1", diagonal = w[8],
             dropout = tonumber(w[9]), users = {}, items = {}, values = {}, scores = {}}
      cases[#cases + 1] = cur
    elseif w[1] == "t" then
      local n = #cur.users + 1
      cur.users[n], cur.items[n], cur.values[n] = tonumber(w[2]), tonumber(w[3]), tonumber(w[4])
    elseif w[1] == "s" then
      local s = {}
      for k = 3, #w do s[k - 2] = tonumber(w[k]) end
      cur.scores[tonumber(w[2])] = s
    end
  end
  return cases
end

local cases = read_cases("tests/data/rec_ease_ref.txt")

T.test("ease scores equal numpy's closed form (EASE, EDLAE, DLAE)", function()
  T.eq(#cases, 4)
  for _, c in ipairs(cases) do
    local inter = rec.interactions{users = c.users, items = c.items, values = c.values}
    local m = rec.ease{reg = c.reg, binary = c.binary, diagonal = c.diagonal,
                       dropout = c.dropout}:fit(inter)
    local labels = {}
    for i = 1, #c.scores[1] do labels[i] = i end
    local worst, scale = 0, 0
    for u, want in pairs(c.scores) do
      local got = m:score(u, labels)
      for i = 1, #want do
        worst = math.max(worst, math.abs(got[i] - want[i]))
        scale = math.max(scale, math.abs(want[i]))
      end
    end
    -- B is stored in float32 (relative rounding 6e-8) and a score sums at most 15 of them;
    -- the two inverses (Cholesky here, LU in numpy) agree to ~1e-13 at this conditioning
    -- (reg >= 5 on 15 items): 1e-6 of the largest score is far above both, and far below
    -- any wrong formula (a missing diagonal constraint moves scores by O(1)). DLAE's dropout
    -- penalty (p / (1 - p) = 1.5 times the counts) only improves the conditioning.
    T.ok(worst <= 1e-6 * scale, string.format("%s: max |C - numpy| %.3g, scale %.3g", c.name,
                                              worst, scale))
  end
end)

T.test("ease: fold-in = the user's own scores; seen items excluded; file round trip", function()
  local c = cases[1]
  local inter = rec.interactions{users = c.users, items = c.items, values = c.values}
  local m = rec.ease{reg = c.reg}:fit(inter)
  local hist = inter:user_items(3)
  local a, sa = m:recommend(3, 5)
  local b, sb = m:recommend_for(hist, 5)
  for k = 1, 5 do T.eq(a[k], b[k]); T.eq(sa[k], sb[k]) end
  for _, i in ipairs(a) do T.ok(not inter:has(3, i)) end
  local path = os.tmpname()
  m:save(path)
  local m2 = cl.load(path)
  os.remove(path)
  T.eq(m2:kind(), "ease")
  local c2, s2 = m2:recommend(3, 5)
  for k = 1, 5 do T.eq(c2[k], a[k]); T.eq(s2[k], sa[k]) end
  -- cold start: popularity, flagged
  local _, _, fb = m:recommend("nobody", 3)
  T.eq(fb, "popular")
  T.raises(function() rec.ease{reg = 0} end, "reg")
  T.raises(function() rec.ease{lambda = 3} end, "lambda")
  T.raises(function() rec.ease{dropout = 1} end, "dropout")
  T.raises(function() rec.ease{diagonal = "one"} end, "diagonal")
end)

T.test("dlae: a free diagonal survives a file; the defaults are EASE's", function()
  local c = cases[4]
  local inter = rec.interactions{users = c.users, items = c.items, values = c.values}
  local m = rec.ease{reg = c.reg, diagonal = "free", dropout = c.dropout}:fit(inter)
  local path = os.tmpname()
  m:save(path)
  local m2 = cl.load(path)
  os.remove(path)
  T.eq(m2:params().diagonal, "free")
  T.eq(m2:params().dropout, c.dropout)
  local labels = {}
  for i = 1, #c.scores[1] do labels[i] = i end
  local a, b = m:score(2, labels), m2:score(2, labels)
  for i = 1, #labels do T.eq(b[i], a[i]) end
  T.eq(rec.ease{}:params().diagonal, "zero")
  T.eq(rec.ease{}:params().dropout, 0)
end)

T.done()
