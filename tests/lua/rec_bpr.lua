-- BPR (cl.rec.bpr): it learns the genre structure of a small world, fold-in agrees with the
-- trained factors, add_user keeps the fold-in, same seed = same model. Its p@10 against a
-- numpy BPR on MovieLens is in scripts/bench/rec_models.lua (a benchmark, not a test).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

-- users 1..60 each like one of 3 genres of 10 items (1..30) and have 6 of its items
local function world()
  local rnd = 5
  local function rand(n) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n end
  local users, items = {}, {}
  for u = 1, 60 do
    local g, seen, n = (u - 1) % 3, {}, 0
    while n < 6 do
      local i = g * 10 + rand(10) + 1
      if not seen[i] then seen[i], n = true, n + 1; users[#users + 1], items[#items + 1] = u, i end
    end
  end
  return rec.interactions{users = users, items = items}
end
local function genre(i) return (i - 1) // 10 end

T.test("bpr ranks the user's genre first", function()
  local m = world()
  local b = rec.bpr{factors = 8, epochs = 60, lr = 0.05, reg = 0.01}:fit(m)
  local hit, tot = 0, 0
  for u = 1, 60 do
    for _, i in ipairs(b:recommend(u, 4)) do
      tot = tot + 1
      if genre(i) == (u - 1) % 3 then hit = hit + 1 end
    end
  end
  -- 4 unseen items of the user's genre remain: a ranking that knows genres fills the list
  -- with them; chance is 1/3
  T.ok(hit / tot >= 0.9, string.format("in-genre share %.2f", hit / tot))
end)

T.test("bpr fold-in agrees with the trained factors; add_user keeps it; seeds", function()
  local m = world()
  local b = rec.bpr{factors = 8, epochs = 60, lr = 0.05, reg = 0.01}:fit(m)
  local overlap, n = 0, 0
  for u = 1, 60, 7 do
    local a = b:recommend(u, 4)
    local f = b:recommend_for((m:user_items(u)), 4)
    local in_a = {}
    for _, i in ipairs(a) do in_a[i] = true end
    for _, i in ipairs(f) do if in_a[i] then overlap = overlap + 1 end end
    n = n + 4
  end
  -- both rank the 4 remaining in-genre items first; their order among themselves is noise
  T.ok(overlap / n >= 0.75, string.format("top-4 overlap %.2f", overlap / n))
  local want, ws = b:recommend_for({1, 2, 3}, 5)
  b:add_user("new", {1, 2, 3})
  local got, gs = b:recommend("new", 5)
  for k = 1, 5 do T.eq(got[k], want[k]); T.eq(gs[k], ws[k]) end
  T.raises(function() b:add_item("x", {users = {1}}) end, "fit it again")
  local c1 = rec.bpr{factors = 4, epochs = 5, seed = 3}:fit(m):recommend(1, 5)
  local c2 = rec.bpr{factors = 4, epochs = 5, seed = 3}:fit(m):recommend(1, 5)
  for k = 1, 5 do T.eq(c1[k], c2[k]) end
  local _, _, fb = b:recommend("nobody", 3)
  T.eq(fb, "popular")
end)

T.done()
