-- The MLP's Keras defaults, sample weights and L2 where they are deterministic, against numpy
-- (tests/data/mlp_step_ref.lua, written by scripts/ref/mlp_step_ref.py from the batch and
-- initial weights of scripts/ref/mlp_step_fixtures.lua). hidden = {} is one Dense layer
-- whose weights are read from its logits, so one full-batch step can be compared weight by
-- weight.
-- Tolerances: churnlab's forward pass and gradient run in float32 (sums of 64 terms:
-- relative ~1e-6 on a gradient of size <= 0.14), so a step of lr 0.1 moves a weight within
-- 0.1 * 0.14 * 1e-6 ~ 1.4e-8 of the reference, plus reading the weight back from float32
-- logits (half an ulp of |w + b| <= 1: 6e-8): 2e-7. Adam's first step is lr g / (|g| + e):
-- within 2e-7 as well except through x3's gradient (3e-9, where float32 sums of 64 products
-- of size 1e-7 carry ~1e-6 relative error): the two conventions differ there by 2.7e-4,
-- a thousand times the tolerance.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor
local R = dofile("tests/data/mlp_step_ref.lua")

local rows, y, w = {}, {}, {}
for line in io.lines("tests/data/mlp_step_in.csv") do
  local v = {}
  for tok in line:gmatch("[^,]+") do v[#v + 1] = tonumber(tok) end
  rows[#rows + 1] = {v[1], v[2], v[3], v[4]}
  y[#y + 1], w[#w + 1] = v[5], v[6]
end
local n = #rows
local X, Y, SW = tensor(rows), tensor(y), tensor(w)
local basis = tensor{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}}

-- weights w1..w4 and bias of a fitted hidden = {} network
local function weights(m)
  local z = m:decision(basis)
  return {z[1] - z[5], z[2] - z[5], z[3] - z[5], z[4] - z[5], z[5]}
end
local function one_step(p, opts)
  local P = {hidden = {}, epochs = 1, batch = n, seed = 7, prior_correction = false}
  for k, v in pairs(p) do P[k] = v end
  return weights(cl.mlp(P):fit(X, Y, opts))
end
local function close(got, want, tol, what)
  for k = 1, #want do
    T.ok(math.abs(got[k] - want[k]) <= tol,
      ("%s[%d]: %.9g vs %.9g (diff %.3g)"):format(what, k, got[k], want[k], got[k] - want[k]))
  end
end

T.test("init is Keras' Glorot uniform: the seed's weights, inside sqrt(6 / (in + out))", function()
  local w0 = one_step({lr = 1e-12})
  close(w0, R.w0, 1e-7, "init of seed 7")
  for k = 1, 4 do T.ok(math.abs(w0[k]) <= R.glorot_limit_4[1], "inside the Glorot bound") end
  -- 400 inputs: every weight within a = sqrt(6/401); the largest near a (400 uniform draws
  -- all below 0.95 a: probability 0.95^400 = 1e-9; He normal with the same variance would put
  -- ~8% of them beyond a)
  local a = R.glorot_limit_400[1]
  T.ok(R.w0_wide_absmax[1] <= a and R.w0_wide_absmax[1] > 0.95 * a,
    ("400 inputs: max |w| %.4g, bound %.4g"):format(R.w0_wide_absmax[1], a))
end)

T.test("one SGD step: the batch-mean cross-entropy gradient, weighted and with L2", function()
  local S = {optimizer = "sgd", momentum = 0, lr = 0.1}
  close(one_step(S), R.sgd_w, 2e-7, "sgd")
  close(one_step(S, {weights = SW}), R.sgd_weighted_w, 2e-7, "sgd, sample weights")
  local L2 = {optimizer = "sgd", momentum = 0, lr = 0.1, weight_decay = 0.1}
  close(one_step(L2), R.sgd_l2_w, 2e-7, "sgd, weight_decay 0.1 (not on the bias)")
end)

T.test("Adam's first step with eps 1e-7", function()
  local got = one_step({lr = 0.01})
  -- every weight whose gradient dwarfs eps: lr * sign(g), in either convention
  for _, k in ipairs{1, 2, 4, 5} do close({got[k]}, {R.adam_torch_w[k]}, 2e-7, "adam w" .. k) end
  local dt = math.abs(got[3] - R.adam_torch_w[3])
  local dk = math.abs(got[3] - R.adam_keras_w[3])
  T.ok(dt <= 2e-7 or dk <= 2e-7,
    ("x3 (gradient %.3g): %.9g, PyTorch's rule gives %.9g, Keras' %.9g"):format(
      R.grad[3], got[3], R.adam_torch_w[3], R.adam_keras_w[3]))
  T.ok(dt <= 2e-7, "eps sits on sqrt(v_hat) (PyTorch's placement; Keras adds it to sqrt(v))")
  -- AdamW: decoupled weight decay on the weights (not the bias), then the same step
  local aw = one_step({optimizer = "adamw", lr = 0.01, weight_decay = 0.1})
  for _, k in ipairs{1, 2, 4, 5} do close({aw[k]}, {R.adamw_w[k]}, 2e-7, "adamw w" .. k) end
end)

T.test("dropout is off at prediction (Keras' Dropout acts in training only)", function()
  -- lr 1e-12 leaves the init unchanged, so the trained net is the seed's: with dropout its
  -- predictions must be the ones without (same init stream), bit for bit
  local P = {hidden = {6}, epochs = 1, batch = n, seed = 7, lr = 1e-12}
  local a = cl.mlp(P):fit(X, Y):predict(X)
  P.dropout = 0.5
  local b = cl.mlp(P):fit(X, Y):predict(X)
  T.eq((a - b):abs():max(), 0)
end)

T.done()
