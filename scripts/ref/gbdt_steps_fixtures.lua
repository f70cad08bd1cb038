-- Writes tests/data/gbdt_steps/*.clm: gbdt models on the weights_ref rows, unweighted and
-- weighted, under four settings. Written by the binary BEFORE cl_gbdt_fit was split into
-- named steps (gradients, grow_params); tests/lua/gbdt_steps.lua refits and compares bytes.
-- usage: build/release/churnlab scripts/ref/gbdt_steps_fixtures.lua tests/data/gbdt_steps
local cl = require "churnlab"
local R = dofile("tests/data/weights_ref.lua")
local X, y, w = cl.tensor(R.X), cl.tensor(R.y), cl.tensor(R.w)
local cfgs = {{trees = 20}, {trees = 20, scale_pos_weight = 3, subsample = 0.7, colsample = 0.7},
  {trees = 10, objective = "squared"}, {trees = 15, leaves = 8, depth = 0, monotone = {1, -1, 0}}}
for i, c in ipairs(cfgs) do
  cl.gbdt(c):fit(X, y):save(arg[1] .. "/g" .. i .. ".clm")
  cl.gbdt(c):fit(X, y, {weights = w}):save(arg[1] .. "/gw" .. i .. ".clm")
end
