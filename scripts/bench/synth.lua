-- Benchmark of the synthetic data generator (core/synth.c).
--   churnlab scripts/bench/synth.lua           default set (50,000 customers) + 200,000 streamed
--   BENCH_SYNTH_FULL=1 churnlab scripts/bench/synth.lua   also 1,000,000 customers (~3 GB)
-- Prints "bench suite=synth ..." lines: wall time, events per second, bytes written, and the
-- peak resident memory, which stays far below the size of events.csv because events are
-- written as they are generated. No anchor: no Python library simulates this world.
local cl = require "churnlab"
local synth = require "churnlab.synth"

local now = cl.core.now or os.time

local function vm_hwm_kib()
  local f = io.open("/proc/self/status")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return tonumber(s:match("VmHWM:%s*(%d+)"))
end

local function filesize(path)
  local f = io.open(path, "rb")
  if not f then return 0 end
  local n = f:seek("end")
  f:close()
  return n
end

local FILES = {"titles.csv", "users.csv", "events.csv", "ratings.csv", "campaign.csv",
               "truth.csv", "README.md"}

local function line(case, metric, value, unit, extra)
  print(("bench suite=synth case=%s impl=churnlab metric=%s value=%.6g unit=%s%s"):format(
    case, metric, value, unit, extra and (" " .. extra) or ""))
end

local function run(case, customers)
  local dir = os.tmpname()
  os.remove(dir)
  local t0 = now()
  local w = synth.generate(dir, {customers = customers})
  local dt = now() - t0
  local info = w:info()
  local bytes = 0
  for _, f in ipairs(FILES) do bytes = bytes + filesize(dir .. "/" .. f) end
  local ev = filesize(dir .. "/events.csv")
  local t1 = now()
  local r = w:replay{policy = {discount = 20, months = 1}}
  local dr = now() - t1
  local _, cpeak = cl.core.memory()
  local extra = ("customers=%d events=%d threads=%d"):format(customers, info.events, cl.threads())
  line(case, "generate_wall", dt, "s", extra)
  line(case, "events_per_s", info.events / dt, "1/s", extra)
  line(case, "bytes_written", bytes, "B", extra)
  line(case, "replay_wall", dr, "s", extra)
  line(case, "c_peak_bytes", cpeak, "B", extra)
  local hwm = vm_hwm_kib()
  if hwm then
    line(case, "rss_peak", hwm * 1024, "B", extra)
    line(case, "rss_peak_over_events_csv", hwm * 1024 / ev, "ratio", extra)
  end
  print(("synth %s: %d customers, %d events (%.0f MB) in %.2f s; label churn %.4f; replay "
    .. "(20%% off for all) churn %.4f in %.2f s"):format(case, customers, info.events, bytes / 1e6,
    dt, info.churn_rate, r.churn_rate, dr))
  w:free()
  for _, f in ipairs(FILES) do os.remove(dir .. "/" .. f) end
  os.remove(dir)
  collectgarbage()
end

run("default_50k", 50000)
run("stream_200k", 200000)
if os.getenv("BENCH_SYNTH_FULL") == "1" then run("stream_1m", 1000000) end
