-- Writes tests/data/mlp_steps/*.clm: MLP models on the weights_ref rows (rows 1..450 to train,
-- 451..600 to validate where a setting validates), unweighted and weighted, under four
-- settings that reach every branch of the training loop: Adam with validation and early
-- stopping (the best epoch's weights restored), SGD with Nesterov momentum, L2 weight decay
-- and a step schedule, AdamW with dropout, batch norm and balanced class weights, and a
-- cosine schedule with one batch per epoch. Written by the binary BEFORE cl_mlp_fit was split
-- into named steps (epoch, batch step, validation/early stop); tests/lua/mlp_steps.lua refits
-- and compares.
-- usage: build/release/churnlab scripts/ref/mlp_steps_fixtures.lua tests/data/mlp_steps
local cl = require "churnlab"
local R = dofile("tests/data/weights_ref.lua")
local Xt, yt, wt, valid = dofile("tests/lua/lib/steps_fixtures.lua").train_valid(R)
local cfgs = {
  {{hidden = {8}, epochs = 40, lr = 0.05, batch = 32, seed = 3}, {valid = valid, early_stop = 3}},
  {{hidden = {6, 4}, optimizer = "sgd", momentum = 0.9, nesterov = true, weight_decay = 1e-3,
    schedule = "step", step_size = 3, gamma = 0.5, lr = 0.05, epochs = 8, batch = 16, seed = 7}, {}},
  {{hidden = {8}, optimizer = "adamw", weight_decay = 1e-2, dropout = 0.2, batch_norm = true,
    class_weight = "balanced", epochs = 6, batch = 64, seed = 11}, {valid = valid}},
  {{hidden = {5}, activation = "tanh", schedule = "cosine", epochs = 10, batch = 1000, lr = 0.1,
    seed = 13}, {}},
}
for i, c in ipairs(cfgs) do
  local plain, weighted = {}, {weights = wt}
  for k, v in pairs(c[2]) do plain[k], weighted[k] = v, v end
  cl.mlp(c[1]):fit(Xt, yt, plain):save(arg[1] .. "/m" .. i .. ".clm")
  cl.mlp(c[1]):fit(Xt, yt, weighted):save(arg[1] .. "/mw" .. i .. ".clm")
end
