-- CSV reader on hostile shapes (issue 22): one long field and many columns, each at two sizes,
-- so the lines show whether time grows linearly (x4 the size should be about x4 the time;
-- the quadratic reader took 70 s for the 4 MB field and minutes for 100k columns).
-- Files are generated into build/bench-data/ on first use.
--
-- First the ordinary case (issue 21): a generated mixed file (scripts/bench/csv_gen.py: 1M rows x
-- 20 columns of ints, floats, 17-digit floats, dates, date-times, labels, quoted text with
-- commas; ~206 MB), read by churnlab and, in the same run, by pandas (c engine; the pyarrow
-- engine, polars and datatable when installed) at 1 and 2 threads (scripts/bench/csv_anchor.py).
-- Figures: wall time, rows/s, MB/s, peak RSS (VmHWM; this case runs first so the hostile cases
-- below do not inflate it). CSV_BENCH_ROWS=n changes the size (another file per size).
-- churnlab runs at 1 and 2 threads (cl.core.threads); the float parser's check against strtod
-- is scripts/bench/csv_float_check.sh.
local cl = require "churnlab"

local dir = "build/bench-data"
os.execute("mkdir -p " .. dir)
local now = cl.core.now or os.clock
local py = "/usr/bin/python3"

local function hwm_mib()
  local f = io.open("/proc/self/status")
  if not f then return -1 end
  for line in f:lines() do
    local kb = line:match("^VmHWM:%s+(%d+)")
    if kb then f:close() return tonumber(kb) / 1024 end
  end
  f:close()
  return -1
end

local function cpu_model()
  local f = io.open("/proc/cpuinfo")
  if not f then return "unknown" end
  for line in f:lines() do
    local m = line:match("^model name%s*:%s*(.-)%s*$")
    if m then f:close() return (m:gsub("%s+", "_")) end
  end
  f:close()
  return "unknown"
end

do
  local rows = tonumber(os.getenv("CSV_BENCH_ROWS") or "") or 1000000
  local path = string.format("%s/csv_mixed_%d.csv", dir, rows)
  local f = io.open(path, "rb")
  if f then
    f:close()
  else
    io.stderr:write("csv bench: generating " .. path .. " (once)\n")
    assert(os.execute(string.format("%s scripts/bench/csv_gen.py %s.tmp %d && mv %s.tmp %s", py,
                                    path, rows, path, path)),
           "csv bench: cannot generate the data (needs python3-numpy)")
  end
  f = assert(io.open(path, "rb"))
  local size = f:seek("end")
  f:close()
  -- the 1-minute load average: on a shared machine it says how much the figures are worth
  local lf = io.open("/proc/loadavg")
  local load = lf and lf:read("n") or -1
  if lf then lf:close() end
  print(string.format("bench-env suite=csv cpu=%s nproc=%s OPENBLAS_CORETYPE=%s loadavg=%.2f",
                      cpu_model(), io.popen("nproc"):read("l") or "?",
                      os.getenv("OPENBLAS_CORETYPE") or "unset", load))
  -- churnlab at 1 and 2 threads (cl.threads: blocks are tokenized and columns committed on them; the
  -- frame is identical); peak RSS is the process high-water mark, so it is printed for the
  -- first read only (threads=1), beside the frame's own size (C memory it holds after the read)
  local res, nrow = {}, 0
  local prev = cl.core.threads()
  for _, th in ipairs{1, 2} do
    cl.core.threads(th)
    collectgarbage()
    local m0 = cl.core.memory()
    local t0, c0 = now(), os.clock()
    local df = assert(cl.read_csv(path))
    local secs, cpu = now() - t0, os.clock() - c0
    local frame_mib = (cl.core.memory() - m0) / 1048576
    nrow = df:nrow()
    res[th] = {secs = secs, cpu = cpu}
    local ms = {{"time", secs, "s"}, {"cpu_time", cpu, "s"}, {"rows_per_s", nrow / secs, "rows/s"},
                {"mb_per_s", size / 1e6 / secs, "MB/s"}, {"frame_size", frame_mib, "MiB"}}
    if th == 1 then
      local hwm = hwm_mib()
      ms[#ms + 1] = {"peak_rss", hwm, "MiB"}
      ms[#ms + 1] = {"peak_rss_over_frame", hwm / frame_mib, "x"}
    end
    for _, m in ipairs(ms) do
      print(string.format("bench suite=csv case=mixed impl=churnlab metric=%s value=%.6g unit=%s " ..
                          "threads=%d rows=%d", m[1], m[2], m[3], th, nrow))
    end
    df = nil
    collectgarbage()
  end
  cl.core.threads(prev)
  -- A control for the threads=2 figure: the same 1-thread read in one process, then in two
  -- processes at once (no thread of one waits for the other; nothing is shared but the
  -- machine). If each of the two takes more CPU time than the one alone, the two cores slow
  -- each other down (shared physical core, clock or memory) and a 2-thread read cannot
  -- scale better than that whatever its code does: two_procs_cpu_ratio near 1 means they
  -- do not. (Quiet machine, 16:24 UTC: 1 thread 0.578 s CPU, 2 threads 0.837 s CPU.)
  local exe = arg and arg[-1] or "build/release/churnlab"
  local function solo(k)
    local code = string.format("local cl = require 'churnlab' cl.core.threads(1) " ..
                               "local c = os.clock() local df = assert(cl.read_csv(%q)) " ..
                               "io.write(os.clock() - c)", path)
    local ps, cpu = {}, {}
    local cmd = string.format("%s -e \"%s\"", exe, (code:gsub('"', '\\"')))
    for i = 1, k do ps[i] = io.popen(cmd) end -- started at once: they run together
    for i = 1, k do
      cpu[i] = tonumber(ps[i]:read("a"))
      ps[i]:close()
    end
    return cpu
  end
  local one, two = solo(1), solo(2)
  if one[1] and two[1] and two[2] then
    local mean2 = (two[1] + two[2]) / 2
    print(string.format("bench suite=csv case=mixed impl=churnlab metric=solo_cpu value=%.6g " ..
                        "unit=s procs=1", one[1]))
    print(string.format("bench suite=csv case=mixed impl=churnlab metric=solo_cpu value=%.6g " ..
                        "unit=s procs=2", mean2))
    print(string.format("bench suite=csv case=mixed impl=churnlab metric=two_procs_cpu_ratio " ..
                        "value=%.3g unit=x", mean2 / one[1]))
  end
  local anchor = {}
  for _, th in ipairs{1, 2} do
    local p = io.popen(string.format("%s scripts/bench/csv_anchor.py %s %d", py, path, th))
    for line in p:lines() do
      print(line)
      local m, v = line:match("impl=pandas_c metric=(%S+) value=(%S+)")
      if m == "time" or m == "cpu_time" then anchor[m .. "/" .. th] = tonumber(v) end
    end
    p:close()
  end
  for _, th in ipairs{1, 2} do
    local v = anchor["time/" .. th]
    if v then
      print(string.format("bench suite=csv case=mixed impl=pandas_c metric=mb_per_s value=%.6g " ..
                          "unit=MB/s threads=%d", size / 1e6 / v, th))
      print(string.format("bench suite=csv case=mixed impl=churnlab metric=speedup_vs_pandas_c " ..
                          "value=%.3g unit=x threads=%d", v / res[th].secs, th))
    end
    v = anchor["cpu_time/" .. th]
    if v then
      print(string.format("bench suite=csv case=mixed impl=churnlab metric=cpu_speedup_vs_pandas_c " ..
                          "value=%.3g unit=x threads=%d", v / res[th].cpu, th))
    end
  end
end

local function make(path, gen)
  local f = io.open(path, "rb")
  if f then f:close() return path end
  f = assert(io.open(path, "wb"))
  gen(f)
  f:close()
  return path
end

local cases = {
  {"long_field_1mb", function(f) f:write("a,b\n\"", string.rep("x", 1 << 20), "\",1\n") end},
  {"long_field_4mb", function(f) f:write("a,b\n\"", string.rep("x", 4 << 20), "\",1\n") end},
  {"columns_25k", function(f)
    local h, v = {}, {}
    for j = 1, 25000 do h[j] = "c" .. j; v[j] = tostring(j % 97) end
    f:write(table.concat(h, ","), "\n", table.concat(v, ","), "\n")
  end},
  {"columns_100k", function(f)
    local h, v = {}, {}
    for j = 1, 100000 do h[j] = "c" .. j; v[j] = tostring(j % 97) end
    f:write(table.concat(h, ","), "\n", table.concat(v, ","), "\n")
  end},
}
local t = {}
for _, c in ipairs(cases) do
  local path = make(string.format("%s/csv_%s.csv", dir, c[1]), c[2])
  local t0, c0 = now(), os.clock()
  local df = assert(cl.read_csv(path))
  t[c[1]] = os.clock() - c0
  print(string.format("bench suite=csv case=%s impl=churnlab metric=time value=%.6g unit=s", c[1], now() - t0))
  print(string.format("bench suite=csv case=%s impl=churnlab metric=cpu_time value=%.6g unit=s", c[1], t[c[1]]))
  df = nil
  collectgarbage()
end
for _, p in ipairs{{"long_field_4mb", "long_field_1mb"}, {"columns_100k", "columns_25k"}} do
  print(string.format("bench suite=csv case=%s impl=churnlab metric=growth_x4 value=%.3g unit=x",
                      p[1], t[p[1]] / math.max(t[p[2]], 1e-6)))
end
