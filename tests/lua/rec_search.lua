-- Tests of cl.rec.search: every grid point evaluated exactly as a hand-written loop would
-- (same fits, same binary: equal figures), the best first, random search a seeded subset.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local rec = cl.rec

local make_world = dofile("tests/lua/lib/rec_world.lua")
local function world() return make_world(rec, 5) end

T.test("grid search = a loop over the grid by hand; best first", function()
  local train, test = world():split{test = 0.25, seed = 3}
  local grid = {k = {2, 5, 20}, shrink = {0, 10}}
  local best, score, rows = rec.search{kind = "itemknn", grid = grid, train = train, test = test,
                                       k = 5}
  T.eq(#rows, 6)
  local hand = {}
  for _, k in ipairs(grid.k) do
    for _, sh in ipairs(grid.shrink) do
      local r = rec.evaluate(rec.itemknn{k = k, shrink = sh}:fit(train), test, {k = 5})
      hand[#hand + 1] = {k = k, shrink = sh, ndcg = r.ndcg}
    end
  end
  local top = -1
  for _, h in ipairs(hand) do top = math.max(top, h.ndcg) end
  T.eq(score, top)
  for j = 2, #rows do T.ok(rows[j - 1].score >= rows[j].score) end
  for _, r in ipairs(rows) do -- each row is the hand figure of its point
    local found = false
    for _, h in ipairs(hand) do
      if h.k == r.params.k and h.shrink == r.params.shrink then
        T.eq(r.ndcg, h.ndcg); found = true
      end
    end
    T.ok(found)
  end
  T.eq(rows[1].params, best)
end)

T.test("random search: a seeded subset of the grid; mf is scored by rmse, lower first", function()
  local train, test = world():split{test = 0.25, seed = 3}
  local grid = {reg = {0.01, 0.1, 1}, factors = {2, 4}}
  local _, _, a = rec.search{kind = "mf", grid = grid, fixed = {epochs = 5}, train = train,
                             test = test, random = 3, seed = 9}
  local _, _, b = rec.search{kind = "mf", grid = grid, fixed = {epochs = 5}, train = train,
                             test = test, random = 3, seed = 9}
  T.eq(#a, 3)
  for j = 1, 3 do
    T.eq(a[j].params.reg, b[j].params.reg); T.eq(a[j].params.factors, b[j].params.factors)
    T.eq(a[j].score, a[j].rmse)
  end
  for j = 2, 3 do T.ok(a[j - 1].score <= a[j].score) end
  local r = rec.evaluate(rec.mf{reg = a[1].params.reg, factors = a[1].params.factors,
                                epochs = 5}:fit(train), test)
  T.eq(r.rmse, a[1].score)
end)

T.test("search{make = fn}: hybrid weights as a grid dimension = the same fits by hand", function()
  local train, test = world():split{test = 0.25, seed = 3}
  local function make(p)
    return rec.hybrid{{rec.itemknn{k = p.k}, p.w}, {rec.popular{}, 1 - p.w}}
  end
  local best, score, rows = rec.search{make = make, grid = {w = {0.2, 0.8}, k = {3, 10}},
                                       train = train, test = test, k = 5}
  T.eq(#rows, 4)
  for _, r in ipairs(rows) do
    local hand = rec.evaluate(make(r.params):fit(train), test, {k = 5})
    T.eq(r.ndcg, hand.ndcg)
  end
  T.eq(rows[1].params, best)
  T.eq(score, rows[1].ndcg)
  T.raises(function() rec.search{make = 3, grid = {w = {1}}, train = train, test = test} end,
           "make must be a function")
  T.raises(function() rec.search{make = function() return {} end, grid = {w = {1}},
                                 train = train, test = test} end, "not a recommender")
end)

T.test("search errors name the problem", function()
  local train, test = world():split{test = 0.25, seed = 3}
  T.raises(function() rec.search{kind = "als", grid = {reg = {1}}, train = train, test = test,
                                 bogus = 1} end, "bogus")
  T.raises(function() rec.search{kind = "nope", grid = {}, train = train, test = test} end,
           "kind must name a recommender")
  T.raises(function() rec.search{kind = "als", grid = {reg = 1}, train = train, test = test} end,
           "grid.reg")
  T.raises(function() rec.search{kind = "als", grid = {reg = {1}}, train = train} end,
           "train and test")
  T.raises(function() rec.search{kind = "als", grid = {reg = {1}}, train = train, test = test,
                                 metric = "rmse"} end, "metric 'rmse'")
  T.raises(function() rec.search{kind = "als", grid = {nope = {1}}, train = train, test = test} end,
           "nope")
end)

T.done()
