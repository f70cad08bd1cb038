-- survival.lua: Cox proportional hazards (Efron ties) fit time and survival-curve prediction
-- (S(t|x) for every row at 50 times) on 100,000 rows x 10 covariates with tied times,
-- churnlab vs statsmodels' PHReg (survival_statsmodels.py, the same CSV) in the same run,
-- plus how far the two fits agree (max |coef difference|, max |S difference|).
--   churnlab scripts/bench/survival.lua        (BENCH_SURV_ROWS=n to change the size)
-- The Cox core is single-threaded (Newton on d = 10: the sweep over sorted rows dominates).
local cl = require "churnlab"
local fmt = string.format

local N = tonumber(os.getenv("BENCH_SURV_ROWS") or "") or 100000
local D, NT, PY = 10, 50, "/usr/bin/python3"
local BETA = {0.5, -0.3, 0.2, 0, 0.8, -0.6, 0.1, 0.4, -0.2, 0.3}

local function first_line(path, pat)
  local f = io.open(path)
  if not f then return nil end
  for l in f:lines() do
    local m = l:match(pat)
    if m then f:close() return m end
  end
  f:close()
end
local cpu = first_line("/proc/cpuinfo", "^model name%s*:%s*(.-)%s*$") or "unknown"
print(fmt("bench-env suite=survival cpu=%q nproc=%s OPENBLAS_CORETYPE=%s rows=%d covariates=%d",
  cpu, io.popen("nproc"):read("l") or "?", os.getenv("OPENBLAS_CORETYPE") or "unset", N, D))

local function line(impl, metric, value, unit, extra)
  print(fmt("bench suite=survival case=cox%dk impl=%s metric=%s value=%s unit=%s%s", N // 1000,
    impl, metric, value, unit, extra and (" " .. extra) or ""))
end

-- data: X ~ N(0, 1) (3 columns binary), exponential times with rate exp(x'beta), exponential
-- censoring, times rounded up to 1/50 (ties); written once to a CSV the anchor reads
local Z = cl.tensor.randn(N, D, {seed = 7})
local U = cl.tensor.rand(N, 2, {seed = 8})
local X, time, event = {}, {}, {}
for i = 1, N do
  local x, eta = {}, 0
  for k = 1, D do
    local v = Z:get(i, k)
    if k >= 8 then v = v > 0.3 and 1 or 0 end
    x[k] = v
    eta = eta + BETA[k] * v
  end
  local t = -math.log(1 - U:get(i, 1)) / math.exp(eta)
  local c = -2 * math.log(1 - U:get(i, 2))
  X[i], time[i], event[i] = x, math.ceil(math.min(t, c) * 50) / 50, t <= c and 1 or 0
end
local grid = {}
for j = 1, NT do grid[j] = j * 0.05 end
local csv = os.tmpname()
do
  local f = assert(io.open(csv, "w"))
  local parts = {}
  for i = 1, N do
    for k = 1, D do parts[k] = fmt("%.17g", X[i][k]) end
    f:write(fmt("%.17g,%d,", time[i], event[i]), table.concat(parts, ","), "\n")
  end
  f:close()
end

-- churnlab: best of 3 (the data are converted from Lua tables inside the timed call, as a
-- user's call pays it)
local best_fit, best_pred, m = math.huge, math.huge, nil
local Xt = cl.tensor(X)
for _ = 1, 3 do
  local t0 = cl.core.now()
  m = cl.survival.cox(Xt, time, event, {ties = "efron"})
  local t1 = cl.core.now()
  local S = m:survival(Xt, grid)
  local t2 = cl.core.now()
  best_fit, best_pred = math.min(best_fit, t1 - t0), math.min(best_pred, t2 - t1)
  assert(select(2, S:shape()) == NT)
end
local Sx = m:survival(Xt:rows(1, 5), grid)
line("churnlab", "fit_s", fmt("%.4f", best_fit), "s", "ties=efron threads=1")
line("churnlab", "survival_s", fmt("%.4f", best_pred), "s", fmt("times=%d", NT))
line("churnlab", "survival_rows_per_s", fmt("%.0f", N / best_pred), "rows/s", fmt("times=%d", NT))

-- the anchor: statsmodels PHReg on the same file
local p = io.popen(fmt("%s scripts/bench/survival_statsmodels.py %s %d 2>&1", PY, csv, NT))
local out = p:read("a"); p:close()
os.remove(csv)
local sm_fit, sm_pred, sm_beta, sm_S, sm_bt, sm_bh = nil, nil, {}, {}, {}, {}
for l in out:gmatch("[^\n]+") do
  if l:match("^bench ") then
    print(l)
    local v = tonumber(l:match("value=(%S+)"))
    if l:find("metric=fit_s", 1, true) then sm_fit = v end
    if l:find("metric=survival_s", 1, true) then sm_pred = v end
  elseif l:match("^coef ") then
    for v in l:gmatch("%S+") do sm_beta[#sm_beta + 1] = tonumber(v) end
  elseif l:match("^surv ") then
    for v in l:gmatch("%S+") do sm_S[#sm_S + 1] = tonumber(v) end
  elseif l:match("^bh_time ") then
    for v in l:gmatch("%S+") do sm_bt[#sm_bt + 1] = tonumber(v) end
  elseif l:match("^bh_lagged ") then
    for v in l:gmatch("%S+") do sm_bh[#sm_bh + 1] = tonumber(v) end
  end
end
if not sm_fit then
  io.stderr:write("survival bench: anchor failed (needs python3-statsmodels):\n" .. out .. "\n")
  return
end
local db, ds = 0, 0
local s = m:summary()
for k = 1, D do db = math.max(db, math.abs(s[k].coef - sm_beta[k])) end
for i = 1, 5 do for j = 1, NT do ds = math.max(ds, math.abs(Sx:get(i, j) - sm_S[(i - 1) * NT + j])) end end
line("churnlab", "speedup_fit_vs_statsmodels", fmt("%.2f", sm_fit / best_fit), "x")
line("churnlab", "speedup_survival_vs_statsmodels", fmt("%.2f", sm_pred / best_pred), "x")
line("churnlab", "max_abs_coef_diff", fmt("%.3g", db), "coef")
line("churnlab", "max_abs_surv_diff", fmt("%.3g", ds), "prob",
  "rows=5 note=efron_corrected_vs_statsmodels_lagged_breslow")
-- like for like: a Breslow fit's H0 at covariates 0, statsmodels' lag undone
local mb = cl.survival.cox(Xt, time, event, {ties = "breslow"})
local zeros = {}
for k = 1, D do zeros[k] = 0 end
local b0 = mb:baseline({x = zeros})
local dh = 0
assert(#b0.time == #sm_bt, "distinct event times differ")
for j = 2, #sm_bt do dh = math.max(dh, math.abs(b0.cumhaz[j - 1] - sm_bh[j]) / math.max(sm_bh[j], 1e-300)) end
line("churnlab", "max_rel_breslow_cumhaz0_diff", fmt("%.3g", dh), "ratio", fmt("event_times=%d", #sm_bt))
