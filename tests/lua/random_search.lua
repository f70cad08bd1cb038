-- cl.random_search's candidates against scikit-learn's ParameterSampler semantics
-- (tests/data/random_search_ref.lua, written by scripts/ref/random_search_ref.py): the same
-- number of candidates, distinct grid points without replacement for a space of lists (the
-- whole grid once when n_iter exceeds it), draws within bounds otherwise. The random streams
-- differ (churnlab's splitmix64, numpy's Mersenne Twister), so which points a partial draw
-- picks is not compared; counts and coverage are exact.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local R = dofile("tests/data/random_search_ref.lua")

local df = cl.read_csv("tests/data/cv_ref.csv")
local pipe = {target = "churn", positive = "Yes", drop = {"fold"}, impute = "median",
              scale = "minmax"}
local grid = {class_weight = {"none", "balanced"}, depth = {1, 2, 3}}
local function combos(res, keys)
  local seen, list = {}, {}
  for i = 1, res.results:nrow() do
    local parts = {}
    for q, k in ipairs(keys) do parts[q] = tostring(res.results[k]:get(i)) end
    local s = table.concat(parts, "/")
    if not seen[s] then seen[s] = true; list[#list + 1] = s end
  end
  table.sort(list)
  return list
end
local function search(space, n_iter, seed, model)
  return cl.random_search(model or cl.tree, df, space,
    {pipeline = pipe, n_iter = n_iter, seed = seed, folds = 2, refit = false})
end

T.test("a space of lists: distinct points, at most the grid once (as ParameterSampler)", function()
  for _, case in ipairs{"grid_part", "grid_over", "grid_exact"} do
    local ref = R[case]
    for _, seed in ipairs{1, 2, 3} do
      local r = search(grid, ref.n_iter, seed)
      T.eq(r.results:nrow(), ref.count, case .. ": candidates")
      local got = combos(r, {"class_weight", "depth"})
      T.eq(#got, ref.distinct, case .. ": distinct candidates")
      if ref.n_iter >= R.grid_over.count then -- the grid size: every point, once
        T.eq(table.concat(got, ","), table.concat(ref.grid, ","), case .. ": the whole grid")
      end
    end
  end
end)

T.test("with a distribution: n_iter draws with replacement, within bounds", function()
  local r = search({class_weight = {"none", "balanced"}, depth = {int = {1, 3}}}, R.mixed.n_iter, 4)
  T.eq(r.results:nrow(), R.mixed.count)
  for i = 1, r.results:nrow() do
    local d = r.results.depth:get(i)
    T.ok(d >= 1 and d <= 3 and d == math.floor(d), "depth in 1..3")
  end
  local c = search({C = {low = 1e-3, high = 10, log = true}}, R.loguniform.n_iter, 5, cl.logreg)
  T.eq(c.results:nrow(), R.loguniform.count)
  for i = 1, c.results:nrow() do
    local v = c.results.C:get(i)
    T.ok(v >= 1e-3 and v <= 10, "C in [1e-3, 10]")
  end
end)

T.test("a large grid is sampled without being built; same seed, same draws", function()
  local big = {}
  for q = 1, 12 do big["p" .. q] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10} end -- 1e12 points
  local ok, err = pcall(search, big, 2, 1)
  -- the model refuses the unknown parameters: the draw itself returned quickly
  T.ok(not ok and tostring(err):find("unknown parameter 'p%d+'"), tostring(err))
  local a, b = search(grid, 4, 9), search(grid, 4, 9)
  for i = 1, 4 do T.eq(a.results.depth:get(i), b.results.depth:get(i)) end
end)

T.done()
