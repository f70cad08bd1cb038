-- m:similar_users(user, k) -> users, similarities, because (core/rec/similar_users.c) against
-- brute force: the cosine of every pair of training rows in double, here in Lua. churnlab
-- sums the products in double and rounds the ratio to float32: agreement to 1e-6 (float32's
-- half ulp near 1 is 6e-8). The order is by similarity, ties to the lower index; `because`
-- is the (up to 3) shared items with the largest terms x_ui x_vi / (|x_u| |x_v|). Users
-- are labelled 1..30 in index order; items are not (first appearance), so tied items are
-- not compared by position.
local T = dofile("tests/lua/lib/check.lua")
local rec = require("churnlab").rec

-- 30 users x 20 items, values 1..5 at about a quarter of the cells (a small LCG: the test
-- does not depend on churnlab's generators)
local state = 99
local function rand()
  state = (state * 1103515245 + 12345) % 2147483648
  return state / 2147483648
end
local rows, us, is, vs = {}, {}, {}, {}
for u = 1, 30 do
  rows[u] = {}
  for i = 1, 20 do
    if rand() < 0.25 then
      local v = 1 + math.floor(rand() * 5)
      rows[u][i] = v
      us[#us + 1], is[#is + 1], vs[#vs + 1] = u, i, v
    end
  end
end
local inter = rec.interactions{users = us, items = is, values = vs}

local function norm(r)
  local q = 0
  for _, v in pairs(r) do q = q + v * v end
  return math.sqrt(q)
end

local function brute(u)
  local out = {}
  for v = 1, 30 do
    if v ~= u and rows[v] and next(rows[v]) and next(rows[u]) then
      local dot, shared, terms = 0, false, {}
      for i, a in pairs(rows[u]) do
        local b = rows[v][i]
        if b then
          dot, shared = dot + a * b, true
          terms[#terms + 1] = {i, a * b / (norm(rows[u]) * norm(rows[v]))}
        end
      end
      if shared then
        table.sort(terms, function(x, y)
          if x[2] ~= y[2] then return x[2] > y[2] end
          return x[1] < y[1]
        end)
        out[#out + 1] = {v, dot / (norm(rows[u]) * norm(rows[v])), terms}
      end
    end
  end
  table.sort(out, function(x, y)
    if x[2] ~= y[2] then return x[2] > y[2] end
    return x[1] < y[1]
  end)
  return out
end

T.test("similar_users = brute-force cosine of the training rows, with the shared items", function()
  local models = {rec.popular{}:fit(inter), rec.als{factors = 2, iters = 2}:fit(inter)}
  local checked = 0
  for u = 1, 30 do
    if next(rows[u]) then
      local want = brute(u)
      for _, m in ipairs(models) do -- the same answer for every kind
        local got, sims, why = m:similar_users(u, 5)
        T.eq(#got, math.min(5, #want))
        for j = 1, #got do
          -- near-ties can swap places in float32: compare the similarity at each rank, and
          -- the user where the reference's gap to its neighbours exceeds the tolerance
          T.near(sims[j], want[j][2], 1e-6)
          local gap = math.min(j > 1 and want[j - 1][2] - want[j][2] or 1,
                               want[j + 1] and want[j][2] - want[j + 1][2] or 1)
          if gap > 1e-6 then
            T.eq(got[j], want[j][1])
            local terms = want[j][3]
            T.eq(#why[j], math.min(3, #terms))
            for w = 1, #why[j] do -- tied terms go to the lower matrix index, not label
              local lo = w == 1 or terms[w - 1][2] - terms[w][2] > 1e-6
              local hi = not terms[w + 1] or terms[w][2] - terms[w + 1][2] > 1e-6
              if lo and hi then T.eq(why[j][w], terms[w][1]) end
            end
            checked = checked + 1
          end
        end
      end
    end
  end
  T.ok(checked > 100, "checked " .. checked)
end)

T.test("similar_users: errors and edge cases", function()
  local m = rec.popular{}:fit(inter)
  T.raises(function() m:similar_users(999, 3) end, "unknown user")
  T.raises(function() m:similar_users(1, 0) end, "k must be in")
  T.raises(function() rec.popular{}:similar_users(1, 3) end, "before fit")
  -- a user sharing nothing with anyone has no similar users
  local lone = rec.interactions{users = {1, 1, 2, 3}, items = {1, 2, 2, 9}}
  local got = rec.popular{}:fit(lone):similar_users(3, 5)
  T.eq(#got, 0)
  local g2, s2, w2 = rec.popular{}:fit(lone):similar_users(1, 5)
  T.eq(g2[1], 2); T.eq(#g2, 1); T.eq(w2[1][1], 2)
  T.near(s2[1], 1 / math.sqrt(2), 1e-7)
end)

T.done()
