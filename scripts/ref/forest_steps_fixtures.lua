-- Writes tests/data/forest_steps/*.clm: forest and tree models on the weights_ref rows,
-- unweighted and weighted, under four settings (bootstrap with its OOB AUC, no bootstrap with
-- mtry and balanced class weights, a single CART tree, a shallow bootstrap forest with small
-- bins). Written by the binary BEFORE cl_forest_fit_weighted was split into named steps;
-- tests/lua/forest_steps.lua refits and compares bytes.
-- usage: build/release/churnlab scripts/ref/forest_steps_fixtures.lua tests/data/forest_steps
local cl = require "churnlab"
local R = dofile("tests/data/weights_ref.lua")
local X, y, w = cl.tensor(R.X), cl.tensor(R.y), cl.tensor(R.w)
local cfgs = {
  {cl.forest, {trees = 10, seed = 5}},
  {cl.forest, {trees = 5, bootstrap = false, mtry = 2, class_weight = "balanced", min_leaf = 1}},
  {cl.tree, {depth = 5, class_weight = "balanced"}},
  {cl.forest, {trees = 9, depth = 3, max_bins = 16, seed = 11}},
}
for i, c in ipairs(cfgs) do
  c[1](c[2]):fit(X, y):save(arg[1] .. "/f" .. i .. ".clm")
  c[1](c[2]):fit(X, y, {weights = w}):save(arg[1] .. "/fw" .. i .. ".clm")
end
