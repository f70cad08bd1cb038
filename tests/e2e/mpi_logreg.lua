-- mpi_logreg.lua - the training script of tests/e2e/mpi_logreg.sh.
--   [mpirun -np K] churnlab tests/e2e/mpi_logreg.lua out.clm [weighted]
-- Every rank builds the same 30,000 x 6 data (Lua's own generator: the same numbers on every
-- machine), keeps its contiguous block of rows, fits a logreg data parallel (rank 0 saves) and
-- prints the coefficients. "weighted": sample weights 0, 0.5, 1, ..., 3.5 by global row.
local cl = require "churnlab"
local rank, size = cl.mpi.rank(), cl.mpi.size()
local N, D = 30000, 6
math.randomseed(11)
local lo, hi = rank * N // size + 1, (rank + 1) * N // size
local xs, ys, ws = {}, {}, {}
for i = 1, N do
  local row = {}
  local z = -0.3
  for j = 1, D do
    row[j] = (math.random() * 2 - 1) * j -- columns of different scales
    z = z + row[j] * (j % 2 == 0 and 0.4 or -0.25) / j
  end
  local yi = math.random() < 1 / (1 + math.exp(-3 * z)) and 1 or 0
  if i >= lo and i <= hi then xs[#xs + 1] = row; ys[#ys + 1] = yi; ws[#ws + 1] = (i * 7 % 8) / 2 end
end
local X, y = cl.tensor.new(xs), cl.tensor.new(ys)
local m = cl.logreg{C = 0.5, class_weight = "balanced", tol = 1e-8, max_iter = 500}
m:fit(X, y, arg[2] == "weighted" and {weights = cl.tensor.new(ws)} or nil)
if rank == 0 then
  assert(m:save(arg[1]))
  local c = m:coef()
  local s = {}
  for j = 1, D do s[j] = string.format("%.10g", c[j]) end
  print("coef " .. table.concat(s, " ") .. string.format(" intercept %.10g", m:intercept()))
end
