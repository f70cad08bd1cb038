-- item-kNN weighting (cl.rec.itemknn{weighting = "tfidf"|"bm25"}, similarity = "dot") and
-- neighbourhoods per source or per target item against numpy: tests/data/rec_itemknn_ref.txt
-- holds a random matrix and the vote lists that scripts/ref/rec_itemknn_ref.py computed from
-- it in float64 for eight settings. churnlab
-- weights in float32 and sums products in double: similarities agree to a few float32 ulps
-- (relative 1e-5 leaves a margin of ~50 ulps); the lists must be the same items in the same
-- order (the reference's values are untied by construction: real-valued ratings).
local T = dofile("tests/lua/lib/check.lua")
local rec = require("churnlab").rec

local us, is, vs, cases = {}, {}, {}, {}
for line in io.lines("tests/data/rec_itemknn_ref.txt") do
  local tag = line:match("^(%a+)")
  if tag == "r" then
    local u, i, v = line:match("^r (%d+) (%d+) (%S+)$")
    us[#us + 1], is[#is + 1], vs[#vs + 1] = tonumber(u), tonumber(i), tonumber(v)
  elseif tag == "case" then
    local w, s, k, n, sh, k1, b, nb =
      line:match("^case (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+) (%S+)$")
    cases[#cases + 1] = {params = {weighting = w, similarity = s, k = tonumber(k),
                                   normalize = n == "1", shrink = tonumber(sh),
                                   bm25_k1 = tonumber(k1), bm25_b = tonumber(b),
                                   neighbours = nb}, lists = {}}
  elseif tag == "n" then
    local nums = {}
    for x in line:gmatch("%S+") do nums[#nums + 1] = x end
    local list = {item = tonumber(nums[2])}
    for j = 3, #nums, 2 do list[#list + 1] = {tonumber(nums[j]), tonumber(nums[j + 1])} end
    local c = cases[#cases]
    c.lists[#c.lists + 1] = list
  end
end
local inter = rec.interactions{users = us, items = is, values = vs}

T.test("weighted item-kNN neighbour lists = numpy's", function()
  T.eq(#cases, 8)
  local targets = 0
  for _, c in ipairs(cases) do
    local m = rec.itemknn(c.params):fit(inter)
    T.eq(m:params().neighbours, c.params.neighbours)
    for _, want in ipairs(c.lists) do
      -- per target, an item may vote for more than k candidates: ask for all 15 items
      local n = c.params.neighbours == "target" and 15 or c.params.k
      if c.params.neighbours == "target" and #want > c.params.k then targets = targets + 1 end
      local items, sims = m:similar_items(want.item, n)
      local what = string.format("%s/%s/%s item %d", c.params.weighting, c.params.similarity,
                                 c.params.neighbours, want.item)
      T.eq(#items, #want, what .. ": neighbour count")
      for j, nb in ipairs(want) do
        T.eq(items[j], nb[1], what .. ": neighbour " .. j)
        T.near(sims[j], nb[2], 1e-5 * math.abs(nb[2]) + 1e-12, what .. ": similarity " .. j)
      end
    end
  end
  T.ok(targets > 0, "some item votes for more than k candidates (the per-target cut is tested)")
end)

T.test("neighbours = \"target\": scores sum the vote lists of the history", function()
  -- a user's score of candidate t is the sum over its history items i of value * the vote
  -- of i for t, i.e. only items in t's own k nearest count (brute force from the lists)
  local m = rec.itemknn{k = 3, neighbours = "target", weighting = "none"}:fit(inter)
  local votes = {}
  for i = 1, 15 do
    local its, sims = m:similar_items(i, 15)
    votes[i] = {}
    for j = 1, #its do votes[i][its[j]] = sims[j] end
  end
  for u = 1, 5 do
    local hist, vals = inter:user_items(u)
    local want = {}
    for t = 1, 15 do
      want[t] = 0
      for h = 1, #hist do want[t] = want[t] + vals[h] * (votes[hist[h]][t] or 0) end
    end
    local its, sc = m:recommend(u, 15, {exclude_seen = false})
    T.ok(#its > 0, "user " .. u .. " gets recommendations")
    for j = 1, #its do T.near(sc[j], want[its[j]], 1e-5 * math.abs(want[its[j]]) + 1e-6) end
  end
end)

T.test("weighting: default tfidf, errors, files", function()
  T.eq(rec.itemknn{}:params().weighting, "tfidf")
  T.eq(rec.itemknn{}:params().neighbours, "target")
  T.eq(rec.itemknn{}:params().k, 300)
  T.raises(function() rec.itemknn{neighbours = "both"} end, "neighbours")
  T.raises(function() rec.itemknn{weighting = "bm26"} end, "weighting")
  T.raises(function() rec.itemknn{weighting = "bm25", similarity = "jaccard"}:fit(inter) end,
           "needs similarity = \"cosine\" or \"dot\"")
  local neg = rec.interactions{users = {1, 2}, items = {1, 1}, values = {-1, 2}}
  T.raises(function() rec.itemknn{weighting = "tfidf"}:fit(neg) end, "needs values >= 0")
  local m = rec.itemknn{weighting = "bm25", bm25_k1 = 3}:fit(inter)
  local path = os.tmpname()
  m:save(path)
  local l = rec.load(path)
  os.remove(path)
  T.eq(l:params().weighting, "bm25")
  T.eq(l:params().bm25_k1, 3)
  local a = {m:recommend(1, 5)}
  local b = {l:recommend(1, 5)}
  for j = 1, 5 do T.eq(b[1][j], a[1][j]); T.eq(b[2][j], a[2][j]) end
end)

T.test("an itemknn file from before weighting loads as weighting = \"none\"", function()
  -- written by scripts/ref/rec_itemknn_pre_weighting_fixture.lua with the binary before the
  -- option (k = 4); a refit with weighting = "none" gives the same neighbour lists
  local l = rec.load("tests/data/rec_itemknn_pre_weighting.clm")
  T.eq(l:params().weighting, "none")
  T.eq(l:params().neighbours, "source") -- a later switch is its old behaviour too
  T.eq(l:params().bm25_k1, 100)
  local m = rec.itemknn{k = 4, weighting = "none", neighbours = "source"}:fit(inter)
  for i = 1, 15 do
    local a, sa = m:similar_items(i, 4)
    local b, sb = l:similar_items(i, 4)
    T.eq(#b, #a)
    for j = 1, #a do T.eq(b[j], a[j]); T.near(sb[j], sa[j], 1e-6) end
  end
end)

T.done()
