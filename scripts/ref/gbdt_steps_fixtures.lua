-- Writes tests/data/gbdt_steps/*.clm: gbdt models on the weights_ref rows, unweighted and
-- weighted, under four settings. Written by the binary BEFORE cl_gbdt_fit was split into
-- named steps (gradients, grow_params); tests/lua/gbdt_steps.lua refits and compares bytes.
-- g5/gw5 and g6/gw6 (rows 1..450 to train, 451..600 to validate: early stopping on AUC, and a
-- logloss-validated subsampled fit that runs all its rounds) were added by the binary BEFORE
-- the boosting loop was split into train_one_iter / update_score / eval_and_check_stop.
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
local Xt, yt, wt, valid = dofile("tests/lua/lib/steps_fixtures.lua").train_valid(R)
local vcfgs = {
  {{trees = 200, lr = 0.3, depth = 4}, {valid = valid, early_stop = 5, metric = "auc"}},
  {{trees = 25, subsample = 0.6, seed = 9}, {valid = valid, metric = "logloss"}},
}
for k, c in ipairs(vcfgs) do
  local i, plain, weighted = #cfgs + k, {}, {weights = wt}
  for key, v in pairs(c[2]) do plain[key], weighted[key] = v, v end
  cl.gbdt(c[1]):fit(Xt, yt, plain):save(arg[1] .. "/g" .. i .. ".clm")
  cl.gbdt(c[1]):fit(Xt, yt, weighted):save(arg[1] .. "/gw" .. i .. ".clm")
end
