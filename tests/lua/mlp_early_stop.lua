-- The MLP's early stopping against PyTorch trajectories and Keras' EarlyStopping rule
-- (tests/data/mlp_early_stop_ref.lua, written by scripts/ref/mlp_early_stop_ref.py): a
-- hidden = {} network (one Dense layer, weights read from its logits as in mlp_step.lua)
-- trained full-batch from seed 7's initial weights, with a validation set on which the loss
-- falls and then rises. churnlab must stop at the same epoch, keep the same best epoch, report
-- the same validation losses and restore that epoch's weights.
-- Tolerances: churnlab trains in float32. A full-batch gradient is a sum of 48 products of
-- size <= 1 (relative error <= 48 * 2^-24 ~ 3e-6 of its magnitude <= 0.5); SGD with lr 2 moves
-- a weight within 2 * 0.5 * 3e-6 = 3e-6 of the float64 step per epoch, and gradient descent on a
-- logistic loss with lr below 2/L does not amplify earlier errors, so after <= 12 epochs the
-- weights are within 12 * 3e-6 ~ 4e-5; Adam's normalised step (lr 0.3) carries the same
-- relative error (0.3 * 3e-6 per epoch): 4e-5 for both. A validation loss then differs by at
-- most max|x| * sum|dw| <= 5 * 4e-5 = 2e-4, below half of the smallest decision margin the
-- reference states (the test checks that too), so the stop decisions must be identical.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor
local R = dofile("tests/data/mlp_early_stop_ref.lua")

local sets = {[0] = {rows = {}, y = {}}, [1] = {rows = {}, y = {}}}
for line in io.lines("tests/data/mlp_early_stop_in.csv") do
  local v = {}
  for tok in line:gmatch("[^,]+") do v[#v + 1] = tonumber(tok) end
  local s = sets[v[1]]
  s.rows[#s.rows + 1] = {v[2], v[3], v[4], v[5]}
  s.y[#s.y + 1] = v[6]
end
local X, Y = tensor(sets[0].rows), tensor(sets[0].y)
local Xv, Yv = tensor(sets[1].rows), tensor(sets[1].y)
local basis = tensor{{1, 0, 0, 0}, {0, 1, 0, 0}, {0, 0, 1, 0}, {0, 0, 0, 1}, {0, 0, 0, 0}}
local W_TOL, LOSS_TOL = 4e-5, 2e-4

local function weights(m)
  local z = m:decision(basis)
  return {z[1] - z[5], z[2] - z[5], z[3] - z[5], z[4] - z[5], z[5]}
end

local function check(name, params)
  local ref = R[name]
  T.ok(LOSS_TOL < ref.margin / 2,
    ("%s: the loss tolerance %.3g is below half the decision margin %.3g"):format(
      name, LOSS_TOL, ref.margin))
  local P = {hidden = {}, epochs = ref.epochs, batch = #sets[0].y, seed = 7,
             prior_correction = false}
  for k, v in pairs(params) do P[k] = v end
  local m = cl.mlp(P)
  local h = m:fit(X, Y, {valid = {Xv, Yv}, early_stop = ref.patience}):history()
  T.ok(h.stopped_early, name .. ": stopped early")
  T.eq(h.best_epoch, ref.best_epoch, name .. ": best epoch")
  T.eq(h.epochs, ref.epochs_run, name .. ": epochs run")
  for e = 1, ref.epochs_run do
    T.ok(math.abs(h.val_loss[e] - ref.val_loss[e]) <= LOSS_TOL,
      ("%s: val_loss[%d] %.9g vs torch %.9g"):format(name, e, h.val_loss[e], ref.val_loss[e]))
  end
  local w = weights(m)
  for k = 1, 5 do
    T.ok(math.abs(w[k] - ref.best_w[k]) <= W_TOL,
      ("%s: restored w%d %.9g vs torch's epoch-%d weight %.9g (diff %.3g)"):format(
        name, k, w[k], ref.best_epoch, ref.best_w[k], w[k] - ref.best_w[k]))
  end
end

T.test("full-batch SGD: same stop, best epoch, losses and restored weights as torch + Keras",
  function() check("sgd", {optimizer = "sgd", momentum = 0, lr = 2}) end)

T.test("Adam (eps 1e-7): same stop, best epoch, losses and restored weights as torch + Keras",
  function()
    check("adam", {optimizer = "adam", lr = 0.3, beta1 = 0.9, beta2 = 0.999, eps = 1e-7})
  end)

T.done()
