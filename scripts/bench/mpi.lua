-- Benchmark of data-parallel gbdt, logreg and ALS over MPI: the same fit on the 2,000,000 x 50 numeric data of
-- scripts/bench/trees.lua (cl.synth.bench_data, same seed) as 1 rank x 2 threads and as
-- 2 ranks x 1 thread (each rank holding its contiguous half of the rows), on this machine.
-- Prints the fit time of each, the peak memory of the largest rank, and whether the two
-- saved model files are the same bytes (they must be: fixed-point histograms, core/base/dist.h).
-- Environment: MPI_BENCH_SCALE (default 1; rows = 2,000,000 x scale), MPI_BENCH_TREES
-- (default 50, depth 6, lr 0.1, 255 bins; logreg: C 1, tol 1e-6). ALS: the implicit data of
-- tests/e2e/mpi_als.lua's bench case (MPI_BENCH_USERS users, default 60,000, x 2,000 items, 40
-- each; 32 factors, MPI_BENCH_ITERS alternations, default 5), users split in rank blocks; its
-- same-bytes check compares the scores of every 97th user (hex floats) written by their ranks.
-- Skips, saying why, without mpirun or an MPI build.
local child = os.getenv("MPI_BENCH_CHILD")
local SEED, D = 20261123, 50 -- the seed and width of trees.lua's numeric case

local function vmhwm_mb()
  local f = io.open("/proc/self/status")
  if not f then return 0 / 0 end
  local s = f:read("a")
  f:close()
  local kb = s:match("VmHWM:%s*(%d+)")
  return kb and tonumber(kb) / 1024 or 0 / 0
end

if child then
  local cl = require "churnlab"
  local kind, n, trees, out = child:match("^(%S+) (%d+) (%d+) (%S+)$")
  n, trees = tonumber(n), tonumber(trees)
  local rank, size = cl.mpi.rank(), cl.mpi.size()
  -- every rank builds the whole set (the generator is sequential) and keeps its block
  local Xall, yall = cl.synth.bench_data(n, D, "numeric", SEED)
  local lo, hi = rank * n // size + 1, (rank + 1) * n // size
  local X, y = Xall:rows(lo, hi):clone(), yall:rows(lo, hi):clone()
  Xall, yall = nil, nil
  collectgarbage()
  local m = kind == "gbdt" and cl.gbdt{trees = trees, depth = 6, lr = 0.1, max_bins = 255, seed = 1}
    or cl.logreg{C = 1, tol = 1e-6, max_iter = 200}
  cl.mpi.barrier()
  local t0 = cl.core.now()
  if kind == "gbdt" then m:fit(X, y, {verbose = false}) else m:fit(X, y) end
  cl.mpi.barrier()
  local secs = cl.core.now() - t0
  local peak = cl.mpi.allreduce(vmhwm_mb(), "max")
  if rank == 0 then
    assert(m:save(out))
    print(string.format("fit_s=%.3f peak_mb=%.0f", secs, peak))
  end
  os.exit(0)
end

local function env_line()
  local cpu = "unknown"
  local f = io.open("/proc/cpuinfo")
  if f then
    cpu = (f:read("a"):match("model name%s*:%s*([^\n]+)") or cpu):gsub("%s+", "_")
    f:close()
  end
  print(string.format("bench-env suite=mpi cpu=%s nproc=%s OPENBLAS_CORETYPE=%s", cpu,
    (io.popen("nproc"):read("l") or "?"), os.getenv("OPENBLAS_CORETYPE") or "unset"))
end

local function have_mpirun()
  local p = io.popen("command -v mpirun 2>/dev/null")
  local path = p:read("l")
  p:close()
  return path
end

local cl = require "churnlab"
env_line()
if not have_mpirun() then
  print("bench-skip suite=mpi reason=mpirun_not_found")
  return
end
if not cl.mpi.built then
  print("bench-skip suite=mpi reason=built_without_MPI")
  return
end

local scale = tonumber(os.getenv("MPI_BENCH_SCALE") or "1")
local trees = tonumber(os.getenv("MPI_BENCH_TREES") or "50")
local n = math.floor(2000000 * scale)
local exe = arg and arg[-1] or "./churnlab"
local script = arg and arg[0] or "scripts/bench/mpi.lua"
local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p '" .. dir .. "'"))
-- root needs Open MPI's consent; loopback only; 2 ranks may exceed the free cores
local MPIRUN = "OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " ..
  "OMPI_MCA_btl_tcp_if_include=lo OMPI_MCA_oob_tcp_if_include=lo mpirun --oversubscribe"

local read_all = require("churnlab.util.files").read_all

local function bench(kind)
  local runs = {{ranks = 1, threads = 2}, {ranks = 2, threads = 1}}
  local fits = {}
  for i, r in ipairs(runs) do
    r.out = string.format("%s/%s.%dx%d.clm", dir, kind, r.ranks, r.threads)
    local cmd = string.format("CHURNLAB_THREADS=%d MPI_BENCH_CHILD='%s %d %d %s' %s -np %d %s %s 2>&1",
      r.threads, kind, n, trees, r.out, MPIRUN, r.ranks, exe, script)
    local p = io.popen(cmd)
    local text = p:read("a")
    p:close()
    local secs, peak = text:match("fit_s=(%S+) peak_mb=(%S+)")
    if not secs then
      io.write(text)
      print(string.format("bench-fail suite=mpi case=%s ranks=%d threads=%d", kind, r.ranks, r.threads))
      return false
    end
    fits[i] = tonumber(secs)
    local extra = string.format("ranks=%d threads=%d n_train=%d d=%d%s", r.ranks, r.threads, n, D,
      kind == "gbdt" and string.format(" trees=%d depth=6", trees) or "")
    print(string.format("bench suite=mpi case=%s-numeric impl=churnlab metric=train_s value=%s unit=s %s",
      kind, secs, extra))
    print(string.format("bench suite=mpi case=%s-numeric impl=churnlab metric=peak_mb_per_rank value=%s unit=MB %s",
      kind, peak, extra))
  end
  local a, b = read_all(runs[1].out), read_all(runs[2].out)
  local same = a ~= nil and a == b
  print(string.format("bench suite=mpi case=%s-numeric impl=churnlab metric=same_model_bytes value=%d unit=bool bytes=%d",
    kind, same and 1 or 0, a and #a or 0))
  print(string.format("bench-ratio suite=mpi case=%s-numeric metric=train_s 2x1/1x2=%.3f", kind,
    fits[2] / fits[1]))
  return same
end
-- ALS: each rank writes its users' scores (part files); the parts in rank order must be the
-- same bytes at 1 x 2 and 2 x 1
local function bench_als()
  local runs = {{ranks = 1, threads = 2}, {ranks = 2, threads = 1}, {ranks = 0, threads = 2}}
  local fits, parts = {}, {}
  for i, r in ipairs(runs) do
    local out = string.format("%s/als.%dx%d", dir, r.ranks, r.threads)
    -- ranks = 0: one process without mpirun (the one-process item side, for comparison)
    local launcher = r.ranks > 0 and string.format("%s -np %d", MPIRUN, r.ranks) or ""
    local cmd = string.format("CHURNLAB_THREADS=%d %s %s tests/e2e/mpi_als.lua %s bench 2>&1",
      r.threads, launcher, exe, out)
    local p = io.popen(cmd)
    local text = p:read("a")
    p:close()
    local users, secs, auc = text:match("users (%d+) fit (%S+) s heldout_auc (%S+)")
    if not secs then
      io.write(text)
      print(string.format("bench-fail suite=mpi case=als-implicit ranks=%d threads=%d", r.ranks, r.threads))
      return false
    end
    fits[i] = tonumber(secs)
    parts[i] = ""
    for k = 0, math.max(r.ranks, 1) - 1 do parts[i] = parts[i] .. (read_all(out .. "." .. k) or "?") end
    print(string.format("bench suite=mpi case=als-implicit impl=churnlab%s metric=train_s value=%s unit=s " ..
      "ranks=%d threads=%d users=%s items=2000 factors=32 heldout_auc=%s", r.ranks == 0 and "-no-mpi" or "",
      secs, math.max(r.ranks, 1), r.threads, users, auc))
  end
  local same = parts[1] == parts[2]
  print(string.format("bench suite=mpi case=als-implicit impl=churnlab metric=same_scores_bytes value=%d unit=bool bytes=%d",
    same and 1 or 0, #parts[1]))
  print(string.format("bench-ratio suite=mpi case=als-implicit metric=train_s 2x1/1x2=%.3f mpi_1x2/no_mpi_1x2=%.3f",
    fits[2] / fits[1], fits[1] / fits[3]))
  return same
end
local only = os.getenv("MPI_BENCH_ONLY") -- one case: gbdt, logreg or als
local ok = true
if not only or only == "gbdt" then ok = bench("gbdt") and ok end
if not only or only == "logreg" then ok = bench("logreg") and ok end
if not only or only == "als" then ok = bench_als() and ok end
os.execute("rm -rf '" .. dir .. "'")
if not ok then os.exit(1) end
