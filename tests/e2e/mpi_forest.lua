-- mpi_forest.lua - the training script of tests/e2e/mpi_forest.sh.
--   [mpirun -np K] churnlab tests/e2e/mpi_forest.lua out.clm forest|weighted|tree
-- Every rank builds the same 12,000 x 7 data (Lua's own generator: the same numbers on every
-- machine; column 5 has missing values, column 7 is categorical), keeps its contiguous block of
-- rows, fits data parallel (rank 0 saves) and prints the model's summary.
local cl = require "churnlab"
local rank, size = cl.mpi.rank(), cl.mpi.size()
local N, D = 12000, 7
local config = arg[2] or "forest"
math.randomseed(5)
local lo, hi = rank * N // size + 1, (rank + 1) * N // size
local xs, ys, ws = {}, {}, {}
for i = 1, N do
  local row = {}
  for j = 1, D - 1 do row[j] = math.random() * 2 - 1 end
  row[D] = math.random(0, 3) -- a category code
  local z = 1.5 * row[1] - row[2] * row[3] + (row[D] == 2 and 0.8 or -0.2) + 0.5 * row[4]
  local yi = math.random() < 1 / (1 + math.exp(-2 * z - 1)) and 1 or 0
  if i % 9 == 0 then row[5] = 0 / 0 end
  local wi = 0.5 + math.random(0, 3) * 0.25
  if i >= lo and i <= hi then xs[#xs + 1] = row; ys[#ys + 1] = yi; ws[#ws + 1] = wi end
end
local X, y = cl.tensor.new(xs), cl.tensor.new(ys)
local m, opts
if config == "tree" then
  m, opts = cl.tree{depth = 6, min_leaf = 5, class_weight = "balanced"}, {}
elseif config == "weighted" then
  m = cl.forest{trees = 24, depth = 8, mtry = 3, min_leaf = 2, class_weight = "balanced", seed = 9}
  opts = {weights = cl.tensor.new(ws), categorical = {D}}
else
  m, opts = cl.forest{trees = 30, depth = 0, min_leaf = 3, seed = 4}, {categorical = {D}}
end
opts.verbose = false
m:fit(X, y, opts)
if rank == 0 then
  m:save(arg[1])
  print("model " .. tostring(m))
end
