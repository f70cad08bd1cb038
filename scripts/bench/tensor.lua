-- bench/tensor.lua - the tensor binding against the C baselines and Python anchors, in one run.
--   churnlab scripts/bench/tensor.lua [path/to/build/<variant>/bench/tensor]
-- Prints t:mm GFLOP/s at 64, 256, 1024 and element-wise add GB/s (a + b with a new result
-- each time, bytes read + written), then ratios against cblas_sgemm / memcpy / a plain C add
-- loop measured by the C bench binary, and against numpy and PyTorch (scripts/bench/tensor.py).
-- Timing rule everywhere: best of 5 batches of at least 0.1 s (cl.core.now).
local cl = require "churnlab"
local now = cl.core.now

local BATCH_S, BATCHES = 0.1, 5

local function best_rate(fn, work)
  fn()
  local best = 0
  for _ = 1, BATCHES do
    local reps, t0, t = 0, now(), nil
    repeat
      fn(); reps = reps + 1; t = now()
    until t - t0 >= BATCH_S
    best = math.max(best, work * reps / (t - t0))
  end
  return best
end

local function line(case, metric, value, unit, extra)
  print(string.format("bench suite=tensor case=%s impl=churnlab api=lua metric=%s value=%.3f unit=%s%s",
                      case, metric, value, unit, extra or ""))
end

-- The C bench binary: argument, else bench/tensor next to the executable running us.
local function exe_dir()
  local lo = 0
  while arg and arg[lo - 1] do lo = lo - 1 end
  local exe = arg and arg[lo] or ""
  return exe:match("^(.*)/[^/]*$") or "."
end
local function exists(p) local f = io.open(p, "r"); if f then f:close() end return f ~= nil end
local cbin = arg and arg[1]
if not cbin then
  for _, p in ipairs{exe_dir() .. "/bench/tensor", "build/release/bench/tensor"} do
    if exists(p) then cbin = p break end
  end
end

local function run(cmd)
  local figures = {}
  local p = io.popen(cmd)
  if not p then return figures end
  for l in p:lines() do
    print(l)
    local case, impl, value = l:match("^bench .*case=(%S+) impl=(%S+) .*value=(%S+)")
    if case then figures[impl .. ":" .. case] = tonumber(value) end
  end
  p:close()
  return figures
end

local threads = cl.threads()
local c = {}
if cbin then
  c = run(string.format("CHURNLAB_THREADS=%d %q", threads, cbin))
else
  print("bench-note C baseline binary not found (pass its path as the first argument)")
end

local mine = {}
for _, n in ipairs{64, 256, 1024} do
  local a = cl.tensor.rand(n, n, {seed = 1})
  local b = cl.tensor.rand(n, n, {seed = 2})
  local g = best_rate(function() local r <close> = a:mm(b) end, 2 * n ^ 3) * 1e-9
  mine["mm_" .. n] = g
  line("mm_" .. n, "gflops", g, "GFLOP/s", " threads=" .. threads)
end
local N = 4 << 20
local a, b = cl.tensor.rand(N, {seed = 3}), cl.tensor.rand(N, {seed = 4})
mine.add = best_rate(function() local r <close> = a + b end, 3 * 4 * N) * 1e-9
line("add", "bandwidth", mine.add, "GB/s", " bytes=" .. 4 * N .. " threads=" .. threads)

local py = run(string.format("/usr/bin/python3 scripts/bench/tensor.py %d 2>&1", threads))

local function ratio(case, vs, theirs)
  if mine[case] and theirs then
    print(string.format("bench suite=tensor case=%s impl=churnlab api=lua metric=ratio_vs_%s value=%.3f unit=x",
                        case, vs, mine[case] / theirs))
  end
end
for _, n in ipairs{64, 256, 1024} do
  local case = "mm_" .. n
  ratio(case, "cblas", c["churnlab:" .. case])
  ratio(case, "numpy", py["numpy:" .. case])
  ratio(case, "pytorch", py["pytorch:" .. case])
end
ratio("add", "memcpy", c["churnlab:memcpy"])
ratio("add", "c_loop", c["churnlab:add_loop"])
ratio("add", "numpy", py["numpy:add"])
ratio("add", "pytorch", py["pytorch:add"])
