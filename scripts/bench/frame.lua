-- Frame benchmark: load a generated 1,000,000-row CSV (20 numeric + 5 categorical columns),
-- group-by-mean and a join, then an outer join, a pivot table, a two-key group-by with mean,
-- 90% quantile and distinct counts, and drop_duplicates, next to pandas in the same run
-- (scripts/bench/frame_pandas.py).
-- The data comes from scripts/bench/frame_gen.py (deterministic) into build/bench-data/,
-- generated once and reused. Peak memory: VmHWM of each process after loading.
-- FRAME_BENCH_ROWS=n overrides the row count (a different file name per size).
local cl = require "churnlab"

local rows = tonumber(os.getenv("FRAME_BENCH_ROWS") or "") or 1000000
local dir = "build/bench-data"
local data = string.format("%s/frame_%d.csv", dir, rows)
local dim = dir .. "/frame_dim.csv"
local py = "/usr/bin/python3"

local function exists(p) local f = io.open(p) if f then f:close() return true end return false end

if not exists(data) or not exists(dim) then
  os.execute("mkdir -p " .. dir)
  io.stderr:write("frame bench: generating " .. data .. " (once)\n")
  local ok = os.execute(string.format("%s scripts/bench/frame_gen.py %s.tmp %s %d && mv %s.tmp %s",
                                      py, data, dim, rows, data, data))
  if not ok then error("frame bench: cannot generate the data (needs python3-numpy)") end
end

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

local now = cl.core.now or os.clock
local res = {}
local function emit(case, metric, value, unit)
  print(string.format("bench suite=frame case=%s impl=churnlab metric=%s value=%.6g unit=%s",
                      case, metric, value, unit))
  res[case .. "/" .. metric] = value
end

local t, c = now(), os.clock()
local df = assert(cl.read_csv(data))
emit("load_1m", "time", now() - t, "s")
emit("load_1m", "cpu_time", os.clock() - c, "s") -- steadier than wall time on a shared machine
emit("load_1m", "peak_rss", hwm_mib(), "MiB")
t, c = now(), os.clock()
local g = df:groupby("c2"):agg{f2 = "mean"}
emit("groupby_mean", "time", now() - t, "s")
emit("groupby_mean", "cpu_time", os.clock() - c, "s")
local d = assert(cl.read_csv(dim))
t, c = now(), os.clock()
local j = df:join(d, "c3")
emit("join", "time", now() - t, "s")
emit("join", "cpu_time", os.clock() - c, "s")
t, c = now(), os.clock()
local jo = df:join(d, "c3", {how = "outer"})
emit("join_outer", "time", now() - t, "s")
emit("join_outer", "cpu_time", os.clock() - c, "s")
jo = jo:nrow()
t, c = now(), os.clock()
local pv = df:pivot_table{index = "c2", columns = "c1", values = "f2", aggfunc = "mean"}
emit("pivot_table", "time", now() - t, "s")
emit("pivot_table", "cpu_time", os.clock() - c, "s")
t, c = now(), os.clock()
local gm = df:groupby{"c1", "c2"}:agg{f2 = {"mean", "q90"}, c3 = "nunique"}
emit("groupby_multi", "time", now() - t, "s")
emit("groupby_multi", "cpu_time", os.clock() - c, "s")
t, c = now(), os.clock()
local dd = df:drop_duplicates{subset = {"c2", "c3"}}
emit("drop_duplicates", "time", now() - t, "s")
emit("drop_duplicates", "cpu_time", os.clock() - c, "s")
emit("all", "peak_rss", hwm_mib(), "MiB")
print(string.format("check churnlab rows=%d groups=%d g0=%.10g join_rows=%d", df:nrow(), g:nrow(),
                    g:row(1).f2_mean, j:nrow()))
print(string.format("check churnlab outer_rows=%d pivot=%dx%d p0=%.10g multi_groups=%d q90_0=%.10g "
                    .. "nunique_0=%d dedup_rows=%d", jo, pv:nrow(), pv:ncol(), pv:row(1).c1_00000,
                    gm:nrow(), gm:row(1).f2_q90, gm:row(1).c3_nunique, dd:nrow()))
df, g, j, pv, gm, dd = nil, nil, nil, nil, nil, nil
collectgarbage()

-- the pandas anchor, in its own process
local p = io.popen(string.format("%s scripts/bench/frame_pandas.py %s %s", py, data, dim))
local pd = {}
for line in p:lines() do
  print(line)
  local case, metric, value = line:match("case=(%S+) impl=pandas metric=(%S+) value=(%S+)")
  if case then pd[case .. "/" .. metric] = tonumber(value) end
end
p:close()
for _, k in ipairs{"load_1m/time", "load_1m/cpu_time", "groupby_mean/time", "groupby_mean/cpu_time",
                   "join/time", "join/cpu_time", "join_outer/time", "join_outer/cpu_time",
                   "pivot_table/time", "pivot_table/cpu_time", "groupby_multi/time",
                   "groupby_multi/cpu_time", "drop_duplicates/time", "drop_duplicates/cpu_time"} do
  if pd[k] and res[k] and res[k] > 0 then
    local case, metric = k:match("^([^/]+)/(.+)$")
    print(string.format("bench suite=frame case=%s impl=churnlab metric=%s value=%.3g unit=x",
                        case, metric == "time" and "speedup_vs_pandas" or "cpu_speedup_vs_pandas",
                        pd[k] / res[k]))
  end
end
for _, k in ipairs{"load_1m/peak_rss", "all/peak_rss"} do
  if pd[k] and res[k] and pd[k] > 0 then
    print(string.format("bench suite=frame case=%s impl=churnlab metric=memory_vs_pandas value=%.3g unit=x",
                        k:match("^[^/]+"), res[k] / pd[k]))
  end
end
