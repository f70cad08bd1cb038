-- rec.lua: recommender benchmarks with numpy anchors run in the same process tree.
--   ALS seconds per iteration and MF (SGD) seconds per epoch on MovieLens 100k and on a
--   generated 100,000 users x 20,000 items x 10M interactions matrix; recommend_for latency.
--   REC_BENCH_BIG=0 skips the big case: about 11 minutes on the loaded 2-core box, 6 of them
--   the numpy ALS iteration (one run, 2026-11-23: churnlab 20.8 s/iter, numpy 364 s/iter).
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"

local now = cl.core.now
local F = 64
local function line(case, impl, metric, value, unit, extra)
  print(string.format("bench suite=rec case=%s impl=%s metric=%s value=%.6g unit=%s%s", case,
                      impl, metric, value, unit, extra or ""))
  io.stdout:flush()
end
local results = {}
local function numpy(args)
  local p = assert(io.popen("/usr/bin/python3 scripts/bench/rec_numpy.py " .. args .. " 2>&1"))
  for l in p:lines() do
    print(l)
    local case, metric, value = l:match("case=(%S+) impl=numpy metric=(%S+) value=(%S+)")
    if case then results[case .. "/" .. metric .. "/numpy"] = tonumber(value) end
  end
  p:close()
end
local function ratio(case, metric)
  local a, b = results[case .. "/" .. metric .. "/churnlab"], results[case .. "/" .. metric .. "/numpy"]
  if a and b and a > 0 then
    line(case, "churnlab", "speedup_vs_numpy_" .. metric, b / a, "x")
  end
end
local function record(case, metric, value, unit, extra)
  results[case .. "/" .. metric .. "/churnlab"] = value
  line(case, "churnlab", metric, value, unit, extra)
end

-- the same algorithms and settings as rec_numpy.py
local als_p = {factors = F, reg = 0.1, alpha = 5, cg_steps = 3, seed = 42}
local mf_p = {factors = F, lr = 0.007, reg = 0.08, init_std = 0.05, seed = 42}

-- Wall time per unit, and CPU time (all threads) per unit: under a loaded machine the CPU
-- figure is the steadier one.
local function bench_case(case, implicit, explicit, als_iters, mf_epochs)
  als_p.iters = als_iters
  local c0 = os.clock()
  local als = cl.rec.als(als_p):fit(implicit)
  record(case .. "_als", "s_per_iter", als:fit_time() / als_iters, "s", " factors=" .. F)
  record(case .. "_als", "cpu_s_per_iter", (os.clock() - c0) / als_iters, "s", " factors=" .. F)
  mf_p.epochs = mf_epochs
  c0 = os.clock()
  local mf = cl.rec.mf(mf_p):fit(explicit)
  record(case .. "_mf", "s_per_epoch", mf:fit_time() / mf_epochs, "s", " factors=" .. F)
  record(case .. "_mf", "cpu_s_per_epoch", (os.clock() - c0) / mf_epochs, "s", " factors=" .. F)
  return als
end

local function cpu_model()
  local f = io.open("/proc/cpuinfo")
  if not f then return "unknown" end
  for l in f:lines() do
    local m = l:match("^model name%s*:%s*(.-)%s*$")
    if m then f:close() return m end
  end
  f:close()
  return "unknown"
end
local np = io.popen("nproc")
print(string.format("bench-env suite=rec cpu=%q nproc=%s OPENBLAS_CORETYPE=%s", cpu_model(),
                    np and np:read("l") or "?", os.getenv("OPENBLAS_CORETYPE") or "unset"))
if np then np:close() end
print(string.format("bench-note suite=rec threads=%d (the machine is shared: absolute times are noisy)",
                    cl.threads()))
local dir = "../shared/data/movielens_100k"
local fh = io.open(dir .. "/u.data")
if fh then
  fh:close()
  local d = ev.read_ratings(dir .. "/u.data")
  local implicit = cl.rec.interactions{users = d.users, items = d.items}
  local explicit = cl.rec.interactions{users = d.users, items = d.items, values = d.values}
  local als = bench_case("ml100k", implicit, explicit, 5, 5)
  -- recommend_for: 20 fresh interactions, k = 10, ALS fold-in (one f x f solve)
  local ids = implicit:items()
  local hist = {}
  for j = 1, 20 do hist[j] = ids[(j * 37) % #ids + 1] end
  als:recommend_for(hist, 10)
  local reps = 1000
  local t0 = now()
  for _ = 1, reps do als:recommend_for(hist, 10) end
  record("ml100k_recommend_for", "ms_per_call", (now() - t0) / reps * 1000, "ms", " factors=" .. F)
  numpy(string.format("ml100k %s %d 2 1", dir, F))
  ratio("ml100k_als", "s_per_iter")
  ratio("ml100k_als", "cpu_s_per_iter")
  ratio("ml100k_mf", "s_per_epoch")
  ratio("ml100k_mf", "cpu_s_per_epoch")
  ratio("ml100k_recommend_for", "ms_per_call")
else
  print("bench-skip suite=rec case=ml100k reason=../shared/data/movielens_100k not found")
end

if os.getenv("REC_BENCH_BIG") ~= "0" then
  local NU, NI, NNZ = 100000, 20000, 10000000
  local t0 = now()
  local big = cl.rec.random_interactions{users = NU, items = NI, nnz = NNZ, skew = 2, seed = 7}
  local gen = now() - t0
  local nu, ni = big:shape()
  print(string.format("bench-note suite=rec case=synth users=%d items=%d nnz=%d build_s=%.2f c_memory_mb=%.0f",
                      nu, ni, big:nnz(), gen, cl.core.memory() / 2^20))
  bench_case("synth", big, big, 2, 1)
  print(string.format("bench-note suite=rec case=synth c_memory_peak_mb=%.0f",
                      select(2, cl.core.memory()) / 2^20))
  big = nil
  collectgarbage()
  numpy(string.format("synth %d %d %d %d 1 300000 7", NU, NI, NNZ, F))
  ratio("synth_als", "s_per_iter")
  ratio("synth_als", "cpu_s_per_iter")
  ratio("synth_mf", "s_per_epoch")
  ratio("synth_mf", "cpu_s_per_epoch")
end
