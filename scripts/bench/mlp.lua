-- mlp.lua: training speed of the 105-64-64-1 ReLU MLP (Adam 1e-3, BCE) at batch 32 and 256,
-- churnlab vs PyTorch (mlp_torch.py) and scikit-learn (mlp_sklearn.py) on the same files,
-- each at 1 and 2 threads (the best is compared), with the test AUC of each.
--
-- Data: 200,000 training + 40,000 test rows, 15 categorical groups of 7 levels one-hot
-- encoded (105 columns), label from per-level effects plus a group-1 x group-2 interaction.
-- Written once by lib/benchdata.lua to build/bench-data/onehot/ (format: mlp_data.py).
--   BENCH_MLP_EPOCHS (default 3), BENCH_MLP_ROWS (default 200000), BENCH_ANCHOR_TIMEOUT (s, 300)
local cl = require "churnlab"
local T = cl.tensor

local EPOCHS = tonumber(os.getenv("BENCH_MLP_EPOCHS") or "") or 3
local NTRAIN = tonumber(os.getenv("BENCH_MLP_ROWS") or "") or 200000
local NTEST = 40000
local ANCHOR_TIMEOUT = tonumber(os.getenv("BENCH_ANCHOR_TIMEOUT") or "") or 300
local HERE = "scripts/bench/"
local PY = "/usr/bin/python3"

local data = dofile(HERE .. "lib/benchdata.lua")
local DIR = data.DIR
local X, y, Xt, yt = data.load_all(NTRAIN, NTEST)

local function line(case, impl, metric, value, unit, extra)
  print(string.format("bench suite=mlp case=%s impl=%s metric=%s value=%s unit=%s%s", case, impl,
                      metric, value, unit, extra and (" " .. extra) or ""))
end

-- ---- runs ---------------------------------------------------------------------------------
local best = {} -- best[case][impl] = {sps =, auc =, threads =}
local function record(case, impl, sps, auc, threads)
  best[case] = best[case] or {}
  local b = best[case][impl]
  if not b or sps > b.sps then best[case][impl] = {sps = sps, auc = auc, threads = threads} end
end

local function anchor(script, batch, threads)
  local env = string.format("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d MKL_NUM_THREADS=%d ", threads, threads, threads)
  -- capped: on a loaded 2-core box a 2-thread anchor can spin for many minutes
  local cmd = string.format("%stimeout %d %s %s%s %s %d %d %d 2>&1", env, ANCHOR_TIMEOUT, PY, HERE,
                            script, DIR, batch, EPOCHS, threads)
  local p = io.popen(cmd)
  local out = p:read("a"); p:close()
  local sps, auc, impl
  for l in out:gmatch("[^\n]+") do
    if l:match("^bench ") then
      print(l)
      impl = l:match("impl=(%S+)")
      local v = tonumber(l:match("value=(%S+)"))
      if l:find("metric=samples_per_s", 1, true) then sps = v else auc = v end
    end
  end
  if not sps then
    io.stderr:write(string.format("anchor failed or exceeded %ds (left out): %s\n%s\n", ANCHOR_TIMEOUT, cmd, out))
    return
  end
  record("batch" .. batch, impl, sps, auc, threads)
end

for _, batch in ipairs{32, 256} do
  local case = "batch" .. batch
  for _, threads in ipairs{1, 2} do
    cl.threads(threads)
    local m = cl.mlp{hidden = {64, 64}, lr = 1e-3, batch = batch, epochs = EPOCHS, seed = 1}
    local t0 = cl.core.now()
    m:fit(X, y, {verbose = false})
    local secs = cl.core.now() - t0
    local auc = cl.metrics.roc_auc(yt, m:predict(Xt))
    local sps = NTRAIN * EPOCHS / secs
    line(case, "churnlab", "samples_per_s", string.format("%.0f", sps), "samples/s", "threads=" .. threads)
    line(case, "churnlab", "auc", string.format("%.5f", auc), "auc", "threads=" .. threads)
    record(case, "churnlab", sps, auc, threads)
  end
  cl.threads(0)
  for _, threads in ipairs{1, 2} do
    anchor("mlp_torch.py", batch, threads)
    anchor("mlp_sklearn.py", batch, threads)
  end
  local c, fastest = best[case].churnlab, nil
  for impl, b in pairs(best[case]) do
    if impl ~= "churnlab" and (not fastest or b.sps > fastest.sps) then fastest = b; fastest.impl = impl end
  end
  if fastest then
    line(case, "churnlab", "speedup_vs_fastest_anchor", string.format("%.2f", c.sps / fastest.sps), "x",
         string.format("anchor=%s anchor_threads=%d churnlab_threads=%d", fastest.impl, fastest.threads, c.threads))
    line(case, "churnlab", "auc_minus_anchor", string.format("%+.4f", c.auc - fastest.auc), "auc",
         "anchor=" .. fastest.impl)
  end
end
