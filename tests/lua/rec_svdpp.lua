-- SVD++ (cl.rec.mf{implicit = true}). Its fold-in is checked against the trained factors in
-- tests/core/rec/test_cf.c (foldin_matches_trained); here: the bias path equals plain mf
-- exactly when the factors cannot move, a file round trip, growth, determinism, errors.
-- The ML-100k figures are in scripts/movielens_eval.lua (not a test).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

local make_world = dofile("tests/lua/lib/rec_world.lua")
local function world() return make_world(rec, 17) end

local function preds(m, us, is)
  local p = m:predict_ratings{users = us, items = is}
  local out = {}
  for j = 1, p:numel() do out[j] = p:get(j) end
  return out
end

local us, is = {}, {}
for u = 1, 40, 3 do for i = 1, 30, 4 do us[#us + 1], is[#is + 1] = u, i end end

T.test("svd++ with zero initial factors = plain mf, bit for bit (the bias path)", function()
  -- factors start at 0 and their gradients are then 0, so only the biases move; without
  -- shuffling both visit the ratings in user, item order, so the updates are the same ones
  local m = world()
  local p = {factors = 3, epochs = 5, init_std = 0, shuffle = false}
  local a = rec.mf(p):fit(m)
  p.implicit = true
  local b = rec.mf(p):fit(m)
  local pa, pb = preds(a, us, is), preds(b, us, is)
  for j = 1, #pa do T.eq(pb[j], pa[j]) end
end)

T.test("svd++ learns, files round-trip, grows, same seed = same model", function()
  local train, test = world():split{test = 0.2, seed = 1}
  local p = {factors = 4, epochs = 60, implicit = true, seed = 3}
  local m = rec.mf(p):fit(train)
  local base = rec.mf{factors = 4, epochs = 0}:fit(train) -- global mean only
  T.ok(rec.evaluate(m, test).rmse < rec.evaluate(base, test).rmse)
  local again = rec.mf(p):fit(train)
  local pm, pa = preds(m, us, is), preds(again, us, is)
  for j = 1, #pm do T.eq(pa[j], pm[j]) end
  local path = os.tmpname()
  m:save(path)
  local l = rec.load(path)
  os.remove(path)
  T.eq(l:params().implicit, true)
  local pl = preds(l, us, is)
  for j = 1, #pm do T.eq(pl[j], pm[j]) end
  local h = {items = {1, 2, 3, 11}, values = {5, 5, 4, 1}}
  local r1, s1 = m:recommend_for(h, 5)
  local r2, s2 = l:recommend_for(h, 5)
  for j = 1, 5 do T.eq(r2[j], r1[j]); T.eq(s2[j], s1[j]) end
  -- a new item (its implicit factors start at 0), then a history that includes it
  m:add_item(99, {users = {1, 4, 7}, values = {5, 4, 5}})
  local r3 = m:recommend_for({items = {99, 1}, values = {5, 5}}, 5)
  T.eq(#r3, 5)
  m:add_user("new", {items = {99, 2}, values = {4, 4}})
  T.eq(#m:recommend("new", 3), 3)
end)

T.test("svd++ errors", function()
  T.raises(function() rec.mf{implicit = true, solver = "als"}:fit(world()) end,
           "implicit", "sgd")
  T.raises(function() rec.mf{implicit = true}:fit(world()):recommend_for({1, 2}, 3) end,
           "needs its ratings")
end)

T.done()
