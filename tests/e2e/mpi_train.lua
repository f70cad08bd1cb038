-- mpi_train.lua - the training script of tests/e2e/mpi.sh and scripts/bench/mpi.sh.
--   churnlab tests/e2e/mpi_train.lua gen  data.csv valid.csv N      (one process: the data)
--   mpirun -np K churnlab tests/e2e/mpi_train.lua fit data.csv valid.csv out.clm [config]
-- Each rank reads its block of rows of both files, fits a gbdt data-parallel and rank 0 saves.
local cl = require "churnlab"
local mode = arg[1]

if mode == "gen" then
  local n = tonumber(arg[4])
  local function write(path, rows, seed)
    math.randomseed(seed) -- Lua's own generator: the same numbers on every machine
    local f = assert(io.open(path, "w"))
    f:write("a,b,c,d,e,f,churn\n")
    for i = 1, rows do
      local v = {}
      for j = 1, 6 do v[j] = math.sqrt(-2 * math.log(1 - math.random())) * math.cos(6.2832 * math.random()) end
      local z = 1.2 * v[1] - 0.8 * v[2] * v[3] + (v[4] > 0.3 and 0.9 or -0.4) + 0.3 * v[5]
      local u = (math.sin(i * 12.9898 + seed) * 43758.5453) % 1 -- label noise, deterministic
      local y = u < 1 / (1 + math.exp(-z)) and 1 or 0
      local cells = {}
      for j = 1, 6 do
        -- column e has missing values; column f holds a few distinct values (ties in binning)
        if j == 5 and i % 7 == 0 then cells[j] = ""
        elseif j == 6 then cells[j] = string.format("%d", math.floor(v[j] * 3))
        else cells[j] = string.format("%.6g", v[j]) end
      end
      f:write(table.concat(cells, ","), ",", y, "\n")
    end
    f:close()
  end
  write(arg[2], n, 1)
  write(arg[3], n // 10, 2)
  return
end

assert(mode == "fit", "usage: mpi_train.lua gen|fit ...")
local rank, size = cl.mpi.rank(), cl.mpi.size()
local config = arg[5] or "depthwise"
local function load(path)
  local df = cl.read_csv(path, {shard = rank, of = size})
  local p = cl.prep.pipeline{target = "churn", impute = "none", encode = "none", scale = "none"}
  p:fit(df)
  return p:transform(df)
end
local X, y = load(arg[2])
local Xv, yv = load(arg[3])
local params = {trees = 40, depth = 5, lr = 0.2, seed = 7, subsample = 0.8, colsample = 0.7}
if config == "leafwise" then
  params = {trees = 30, depth = 0, leaves = 24, lr = 0.1, seed = 3, min_child_weight = 5}
elseif config == "bench" then
  params = {trees = tonumber(os.getenv("MPI_BENCH_TREES") or "50"), depth = 6, lr = 0.1, seed = 1}
end
local m = cl.gbdt(params)
local now = require("churnlab.core").now
local t0 = now()
m:fit(X, y, {valid = {Xv, yv}, early_stop = 10, metric = config == "leafwise" and "auc" or nil,
             verbose = false})
local secs = now() - t0
local rows = cl.mpi.allreduce((X:shape()))
if rank == 0 then
  m:save(arg[4])
  local it, score = m:best_iteration()
  print(string.format("mpi_train: ranks %d threads %d rows %d fit %.3f s best %s %.6f",
                      size, cl.threads(), rows, secs, tostring(it), score or 0 / 0))
end
