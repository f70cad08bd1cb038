-- Tests of ranking against a candidate set and of explanations ("because you watched ...").
-- Both are checked by brute force on a small world: the full score vector (m:score) sorted
-- by hand, and similar_items over every item filtered to the user's history by hand.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

-- users 1..30, items 1..24 in 3 genres of 8; each user takes 6 items of one genre and one
-- other (a fixed LCG, so the world is the same on every run)
local function world()
  local rnd = 11
  local function rand(n) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n end
  local users, items = {}, {}
  for u = 1, 30 do
    local g, seen, n = (u - 1) % 3, {}, 0
    while n < 6 do
      local i = g * 8 + rand(8) + 1
      if not seen[i] then seen[i], n = true, n + 1; users[#users + 1], items[#items + 1] = u, i end
    end
    local o = ((g + 1) % 3) * 8 + rand(8) + 1
    users[#users + 1], items[#items + 1] = u, o
  end
  return rec.interactions{users = users, items = items}
end

-- The expected candidate ranking: candidates not seen by the user, by score, ties by the
-- item's index in the model (cl_rec_topk's order), the first k.
local function by_hand(m, train, user, cands, k)
  local s = m:score(user, cands)
  local index = {}
  for j, it in ipairs(train:items()) do index[it] = j end
  local rows = {}
  for j, it in ipairs(cands) do
    if not train:has(user, it) then rows[#rows + 1] = {it, s[j]} end
  end
  table.sort(rows, function(a, b)
    if a[2] ~= b[2] then return a[2] > b[2] end
    return index[a[1]] < index[b[1]]
  end)
  local out, sc = {}, {}
  for j = 1, math.min(k, #rows) do out[j], sc[j] = rows[j][1], rows[j][2] end
  return out, sc
end

T.test("candidates: only the given items are ranked, as the full scores sorted by hand", function()
  local train = world()
  local cands = {24, 3, 17, 9, 1, 12, 20, 5}
  for _, m in ipairs{rec.itemknn{k = 10}, rec.als{factors = 4, iters = 5, seed = 3},
                     rec.ease{reg = 10}, rec.popular{}} do
    m:fit(train)
    for _, user in ipairs{1, 2, 3, 17} do
      local got, gs = m:recommend(user, 5, {candidates = cands})
      local want, ws = by_hand(m, train, user, cands, 5)
      T.eq(#got, #want)
      for j = 1, #want do
        T.eq(got[j], want[j])
        T.near(gs[j], ws[j], 1e-6) -- the same float32 scores, read back as doubles
      end
      for _, it in ipairs(got) do T.ok(not train:has(user, it)) end
    end
    -- fewer candidates than k: all of them (the unseen ones)
    local few = m:recommend(1, 10, {candidates = {24, 3}, exclude_seen = false})
    T.eq(#few, 2)
    -- recommend_for takes the same option
    local hf = m:recommend_for({1, 2, 3}, 3, {candidates = {4, 5, 6, 1}})
    for _, it in ipairs(hf) do T.ok(it == 4 or it == 5 or it == 6) end
  end
end)

T.test("candidates: errors name the problem", function()
  local m = rec.itemknn{}:fit(world())
  T.raises(function() m:recommend(1, 3, {candidates = {1, 999}}) end, "candidate 2", "999",
           "not an item")
  T.raises(function() m:recommend(1, 3, {candidates = 5}) end, "candidates must be a list")
  T.raises(function() m:recommend_for({1}, 3, {candidates = {"x"}}) end, "candidate 1")
end)

T.test("explain: the user's history items most similar to the item, by hand", function()
  local train = world()
  for _, m in ipairs{rec.itemknn{k = 23}, rec.als{factors = 4, iters = 5, seed = 3},
                     rec.bpr{factors = 4, epochs = 5}} do
    m:fit(train)
    local _, ni = train:shape()
    for _, user in ipairs{1, 5, 29} do
      local target = m:recommend(user, 1)[1]
      local got, gs = m:explain(user, target, 3)
      local sim, ss = m:similar_items(target, ni - 1)
      local want, wsc = {}, {}
      for j, it in ipairs(sim) do
        if #want < 3 and train:has(user, it) then want[#want + 1], wsc[#wsc + 1] = it, ss[j] end
      end
      T.eq(#got, #want)
      for j = 1, #want do T.eq(got[j], want[j]); T.near(gs[j], wsc[j], 1e-6) end
      -- the same answer from the user's history given as a list
      local hist = train:user_items(user)
      local got2 = m:explain(hist, target, 3)
      for j = 1, #want do T.eq(got2[j], want[j]) end
    end
    local none = m:explain("nobody", 1, 3)
    T.eq(#none, 0)
  end
  T.raises(function() rec.itemknn{}:fit(train):explain(1, 999) end, "unknown item")
  T.raises(function() rec.popular{}:fit(train):explain(1, 1) end, "explain")
end)

T.done()
