-- item-kNN's defaults on MovieLens 100k (issue 18): all ratings as interactions, 20% of each
-- user held out (seed 42, the split of scripts/bench/rec_models.lua), exact p@10 with seen
-- items excluded. The defaults must reach 95% of the numpy item-kNN anchor's 0.345 (the
-- issue's figure; rec_models_numpy.py computes the same algorithm densely and gets 0.3476)
-- and be within 5% of the best k of a small grid. Needs ../shared/data/movielens_100k.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"

local path = T.shared("movielens_100k/u.data")
if not path then
  T.skip("item-kNN defaults on MovieLens 100k", "../shared/data/movielens_100k not found")
  T.done()
end

T.test("item-kNN defaults: >= 95% of the numpy anchor, within 5% of the best k", function()
  local all = ev.read_ratings(path)
  local inter = cl.rec.interactions{users = all.users, items = all.items}
  local train, test = inter:split{test = 0.2, seed = 42}
  local function p10(m) return cl.rec.evaluate(m:fit(train), test, {k = 10}).precision end
  local d = p10(cl.rec.itemknn{})
  T.ok(d >= 0.95 * 0.345, string.format("default p@10 %.4f >= 0.3278", d))
  local best = d
  for _, k in ipairs{20, 100, 600} do best = math.max(best, p10(cl.rec.itemknn{k = k})) end
  best = math.max(best, p10(cl.rec.itemknn{neighbours = "source", k = 20}))
  T.ok(d >= 0.95 * best, string.format("default p@10 %.4f within 5%% of the best %.4f", d, best))
end)

T.done()
