-- Fixtures of the MLP reference (issue 20, scripts/ref/mlp_step_ref.py): a fixed batch and the
-- initial weights churnlab draws for it. With hidden = {} the network is one Dense layer
-- (logistic regression), whose weights are read exactly from its logits: decision(e_j) -
-- decision(0) is w_j + b - b. lr = 1e-12 leaves float32 weights of this size unchanged by
-- the one step of the fit (the step is below half an ulp), so the weights read are the init.
-- Writes tests/data/mlp_step_in.csv (rows: x1..x4, y, sample weight) and
-- tests/data/mlp_step_w0.csv (w1..w4, b; the init of seed 7 for 4 inputs, and of seed 7 for
-- 400 inputs on the next line, for the Glorot bound check). Run from the repository root:
--   build/release/churnlab scripts/ref/mlp_step_fixtures.lua
--   /usr/bin/python3 scripts/ref/mlp_step_ref.py
local cl = require "churnlab"
local tensor = cl.tensor

local seed = 2026
local function u() seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 end
local n = 64
local rows, y, w = {}, {}, {}
for i = 1, n do
  -- x3 is tiny (~1e-7): its gradient is comparable to Adam's epsilon, so the step shows eps
  local r = {u() * 2 - 1, u() * 2 - 1, (u() - 0.5) * 4e-7, u() < 0.4 and 1 or 0}
  rows[i] = r
  y[i] = u() < 1 / (1 + math.exp(-(r[1] - r[2] + r[4]))) and 1 or 0
  w[i] = ({0.5, 1, 2, 3})[i % 4 + 1]
end
local function init_weights(d)
  local X = {}
  for i = 1, d + 1 do
    X[i] = {}
    for j = 1, d do X[i][j] = (i == j) and 1 or 0 end
  end
  local Xb = tensor(X)
  local m = cl.mlp{hidden = {}, lr = 1e-12, epochs = 1, batch = n, seed = 7}
  local Xd = {}
  for i = 1, n do
    Xd[i] = {}
    for j = 1, d do Xd[i][j] = j <= 4 and rows[i][j] or 0 end
  end
  m:fit(tensor(Xd), tensor(y))
  local z = m:decision(Xb)
  local out = {}
  for j = 1, d do out[j] = string.format("%.9g", z[j] - z[d + 1]) end
  out[d + 1] = "0" -- the bias starts at 0 (moved by ~1e-12 only)
  return table.concat(out, ",")
end
local f = assert(io.open("tests/data/mlp_step_in.csv", "w"))
for i = 1, n do
  local r = rows[i]
  f:write(string.format("%.9g,%.9g,%.9g,%d,%d,%g\n", r[1], r[2], r[3], r[4], y[i], w[i]))
end
f:close()
f = assert(io.open("tests/data/mlp_step_w0.csv", "w"))
f:write(init_weights(4), "\n", init_weights(400), "\n")
f:close()
print("wrote tests/data/mlp_step_in.csv and tests/data/mlp_step_w0.csv")
