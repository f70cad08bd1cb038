-- Tests of growing recommenders from Lua: titles known only by their features are
-- recommendable (content, hybrid); m:add_user / m:add_item on fitted models.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

-- users 1..30 each like one of 3 genres of 8 items (items 1..24), as tests/lua/rec.lua
local function world()
  local rnd = 11
  local function rand(n) rnd = (rnd * 1103515245 + 12345) % 2147483648; return rnd % n end
  local users, items, values = {}, {}, {}
  for u = 1, 30 do
    local g = (u - 1) % 3
    local seen = {}
    for _ = 1, 6 do
      local i = g * 8 + rand(8) + 1
      if not seen[i] then
        seen[i] = true
        users[#users + 1], items[#items + 1], values[#values + 1] = u, i, 3 + rand(3)
      end
    end
  end
  return rec.interactions{users = users, items = items, values = values}
end
local function genre(i) return (i - 1) // 8 end

-- features of items 1..24 plus title 99: genre 2 and nobody has seen it
local function content()
  local rows, labels = {}, {}
  for i = 1, 24 do
    rows[i] = {genre(i) == 0 and 1 or 0, genre(i) == 1 and 1 or 0, genre(i) == 2 and 1 or 0, 0}
    labels[i] = i
  end
  rows[25], labels[25] = {0, 0, 1, 1}, 99
  return rec.content{features = cl.tensor.new(rows), items = labels}
end

local function same(a, b)
  if #a ~= #b then return false end
  for k = 1, #a do if a[k] ~= b[k] then return false end end
  return true
end

T.test("a title with features and no interactions is recommended by content and hybrid", function()
  local m = world()
  local c = content():fit(m)
  local _, ni = c:interactions():shape()
  T.eq(ni, select(2, m:shape()) + 1)
  local items = c:recommend_for({17, 18, 19}, 6) -- genre 2: 99 shares it
  local found = false
  for _, i in ipairs(items) do found = found or i == 99 end
  T.ok(found, "title 99 is among content's recommendations")
  local h = rec.hybrid{{rec.als{factors = 4, iters = 5}, 0.3}, {content(), 1},
                       min_interactions = 0}:fit(m)
  local hi = h:recommend_for({17, 18, 19}, 10)
  found = false
  for _, i in ipairs(hi) do found = found or i == 99 end
  T.ok(found, "title 99 is among the hybrid's recommendations")
  -- evaluation against a split of the rated items still works (99 is never relevant)
  local train, test = m:split{test = 0.2, seed = 3}
  local r = rec.evaluate(content():fit(train), test, {k = 5})
  T.ok(r.precision >= 0 and r.precision <= 1)
end)

T.test("add_user: the new user is scored as fold-in predicts, others unchanged", function()
  local m = world()
  local hist = {items = {17, 18, 20}, values = {5, 4, 5}}
  for _, make in ipairs{function() return rec.als{factors = 4, iters = 8, reg = 0.1, alpha = 5} end,
                        function() return rec.mf{factors = 4, epochs = 20} end,
                        function() return rec.itemknn{k = 10} end, content} do
    local r = make():fit(m)
    local want, wscores = r:recommend_for(hist, 5)
    local before = r:recommend(1, 5)
    local _, unknown = r:add_user("newbie", {items = {17, 18, 20, 12345}, values = {5, 4, 5, 1}})
    T.eq(unknown, 1) -- item 12345 is not in the model
    local got, gscores = r:recommend("newbie", 5)
    T.ok(same(got, want), r:kind() .. ": added user's list = fold-in's list")
    T.ok(same(gscores, wscores), r:kind() .. ": and the same scores")
    T.ok(same(r:recommend(1, 5), before), r:kind() .. ": user 1 unchanged")
    T.raises(function() r:add_user("newbie", {17}) end, "already known")
  end
  T.raises(function() rec.mf{factors = 2, epochs = 2}:fit(m):add_user("x", {17, 18}) end,
           "ratings")
  T.raises(function() rec.als{}:add_user("x", {17}) end, "before fit")
end)

T.test("add_item: mf and als fold the item in; content from features; itemknn refuses", function()
  local m = world()
  -- a copy of item 17 (same users, same values): mf-als ends with the item-side solve, so
  -- the copy predicts what item 17 does (float rounding of the same sums: 1e-5)
  local us, vs = {}, {}
  for _, u in ipairs(m:users()) do
    local items, values = m:user_items(u)
    for k, i in ipairs(items) do
      if i == 17 then us[#us + 1], vs[#vs + 1] = u, values[k] end
    end
  end
  local mf = rec.mf{factors = 4, epochs = 20, solver = "als"}:fit(m)
  local _, unknown = mf:add_item("copy17", {users = us, values = vs})
  T.eq(unknown, 0)
  for _, u in ipairs{1, 3, 10} do
    T.near(mf:predict_rating(u, "copy17"), mf:predict_rating(u, 17), 1e-5)
  end
  local c = content():fit(m)
  c:add_item("fresh", {features = {0, 0, 1, 1}}) -- as title 99
  local s = c:score(2, {99, "fresh"})
  T.eq(s[1], s[2])
  T.raises(function() c:add_item("bad", {features = {1, 0}}) end, "columns")
  T.raises(function() rec.itemknn{}:fit(m):add_item("x") end, "cannot")
  T.raises(function() mf:add_item("y", {users = {1}}) end, "ratings")
  T.raises(function() mf:add_item("z", {values = {1}}) end, "needs 'users'")
  T.raises(function() mf:add_item("w", {users = {1}, values = {0 / 0}}) end, "finite")
end)

T.done()
