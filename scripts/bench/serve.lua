-- serve.lua: the live service under load (make bench). GET /api/customers/:id (risk, reasons,
-- recommendations, action) for random active customers at 64 connections with wrk, while the
-- world streams a day of events into the state every 250 ms; then /api/monitor and /healthz.
-- Also at churnlab serve's default pace (0.5 simulated days/s), without streaming, and
-- GET /api/recommend/:id. Prints p50/p99/max latency and requests/s per case as `bench`
-- lines, the time each streamed day's ingest takes, each case's ratios to /healthz of the
-- same run, the answer cache's size, and the environment with the load average (the machine
-- may be shared).
--   churnlab scripts/bench/serve.lua [data/synth [models/best.clm]]   (needs wrk: install-deps --bench)
local cl = require "churnlab"
local DATA = arg and arg[1] or "data/synth"
local MODEL = arg and arg[2] or "models/best.clm"
local SECONDS = tonumber(os.getenv("SERVE_BENCH_SECONDS") or "10")
local fmt = string.format

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") end
if not have("wrk") then
  print("bench suite=serve skipped: wrk not installed (sh scripts/install-deps.sh --bench)")
  return
end
local function exists(p) local f = io.open(p) if f then f:close() return true end return false end
if not exists(DATA .. "/events.csv") or not exists(MODEL) then
  print("bench suite=serve skipped: " .. DATA .. " or " .. MODEL .. " missing (make report)")
  return
end
local function sh(c) local p = io.popen(c) local s = p:read("a") p:close() return (s:gsub("%s+$", "")) end
print(fmt("bench-env suite=serve cpu=%q nproc=%s OPENBLAS_CORETYPE=%s wrk=%q", sh("grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'"),
  sh("nproc"), os.getenv("OPENBLAS_CORETYPE") or "unset", sh("wrk --version 2>&1 | head -1")))

local users, titles = cl.read_csv(DATA .. "/users.csv"), cl.read_csv(DATA .. "/titles.csv")
local events, ratings = cl.read_csv(DATA .. "/events.csv"), cl.read_csv(DATA .. "/ratings.csv")
local tmp = os.tmpname()
os.remove(tmp)
os.execute("mkdir -p " .. tmp)
local st = cl.live.new{titles = titles, max_user = users.user_id:max(), log = tmp .. "/events.db"}
local active = users:filter(users.active:eq(1))
-- the history goes in unlogged (a fresh state), then the log takes the streamed days
local base = cl.live.new{titles = titles, max_user = users.user_id:max()}
base:ingest(active, {event = "profile"}); base:ingest(events); base:ingest(ratings, {event = "rating"})
base:advance(180)
base:snapshot(tmp .. "/state.snap")
base:free()
st:free()
st = cl.live.new{titles = titles, max_user = users.user_id:max(), log = tmp .. "/events.db",
  snapshot = tmp .. "/state.snap"}
local watches = events:filter(events.event:eq("watch"))
local rec = cl.rec.als{factors = 32, iters = 10, reg = 10, alpha = 5, seed = 42}
rec:fit(cl.interactions(watches, {user = "user_id", item = "title_id", time = "day"}))
events, watches, ratings = nil, nil, nil
collectgarbage()
local srv = cl.serve.start{state = st, model = MODEL, profiles = users, rec = rec, titles = titles,
  port = 0, refresh_ms = 1000, threads = tonumber(os.getenv("SERVE_BENCH_THREADS") or "0")}
local port = srv:port()
local ids = active.user_id:totable()
local script = tmp .. "/ids.lua"
local f = io.open(script, "w")
f:write("local ids = {", table.concat(ids, ",", 1, math.min(#ids, 20000)), "}\n",
  "math.randomseed(1)\nrequest = function() return wrk.format('GET', '/api/customers/' .. ids[math.random(#ids)]) end\n")
f:close()
local rscript = tmp .. "/rec.lua"
f = io.open(rscript, "w")
f:write("local ids = {", table.concat(ids, ",", 1, math.min(#ids, 20000)), "}\n",
  "math.randomseed(2)\nrequest = function() return wrk.format('GET', '/api/recommend/' .. ids[math.random(#ids)] .. '?k=10') end\n")
f:close()
local world = cl.synth.world{customers = users:nrow(), titles = titles:nrow()}
local it, sv, ctl = world:stream{days = 200}

local function parse_ms(s)
  local v, u = s:match("([%d%.]+)(%a+)")
  v = tonumber(v)
  return u == "us" and v / 1000 or u == "s" and v * 1000 or v
end
-- streaming: simulated days per second while wrk runs (0 = as fast as the loop goes: a day,
-- then 250 ms serving script routes). Every day moves the clock, which invalidates every cached
-- answer (risk and reasons depend on the day), so the pace sets the share of recomputed answers.
-- A day's ingest lets the service's readers in every 1024 events (lua/bind/live.c): the time
-- a whole day takes is printed too (day_ingest_ms; the lock is held for slices of it).
-- the service's counters (/metrics): answers scored / reused by key, texts cached / built, and
-- each monitor refresh's longest stretch under the state's read lock (its snapshot, or one row's
-- answer: what an ingest waits for at most; before s10 the whole refresh ran under the lock)
local function counters()
  local _, m = srv:request("GET", "/metrics")
  local function c(pat) return tonumber(m:match(pat) or "") end
  return {scored = c('churnlab_answers_total{how="scored"} (%d+)'),
    reused = c('churnlab_answers_total{how="reused"} (%d+)'),
    cached = c('churnlab_customer_text_total{how="cached"} (%d+)'),
    built = c('churnlab_customer_text_total{how="built"} (%d+)'),
    rsum = tonumber(m:match("churnlab_monitor_refresh_locked_seconds_sum (%S+)") or ""),
    rcount = c("churnlab_monitor_refresh_locked_seconds_count (%d+)"),
    rmax = tonumber(m:match("\nchurnlab_monitor_refresh_locked_seconds_max (%S+)") or "")}
end
-- CPU seconds of this process (every thread: the service, the stream, the ingest)
local function cpu_s()
  local f = io.open("/proc/self/stat")
  local s = f and f:read("l") or ""
  if f then f:close() end
  local fields = {}
  for x in s:gsub("^.*%) ", ""):gmatch("%S+") do fields[#fields + 1] = x end
  return ((tonumber(fields[12]) or 0) + (tonumber(fields[13]) or 0)) / 100 -- utime + stime, USER_HZ
end
local function run(case, path, streaming, speed, lua_script)
  local out = tmp .. "/" .. case .. ".txt"
  local c0, cpu0 = counters(), cpu_s()
  local cmd = fmt("wrk -t2 -c64 -d%ds --latency %s http://127.0.0.1:%d%s > %s 2>&1 &", SECONDS,
    path and "" or ("-s " .. (lua_script or script)), port, path or "", out)
  os.execute(cmd)
  local t0, days, hold_max, hold_sum = cl.core.now(), 0, 0, 0
  local lock = {hold = 0, wait = 0, commit = 0, slices = 0} -- the ingests' write lock (maxima)
  local function note(r)
    if r.lock then
      lock.hold, lock.wait = math.max(lock.hold, r.lock.hold_max_ms), math.max(lock.wait, r.lock.wait_max_ms)
      lock.commit, lock.slices = math.max(lock.commit, r.lock.commit_ms), lock.slices + r.lock.slices
    end
  end
  while cl.core.now() - t0 < SECONDS + 1.5 do
    if streaming and (not speed or speed <= 0 or days < (cl.core.now() - t0) * speed) then
      local day, ev, rt = it(sv, ctl)
      if day then
        local h0 = cl.core.now()
        note(st:ingest(ev)); note(st:ingest(rt, {event = "rating"})); st:advance(day + 1); days = days + 1
        local h = (cl.core.now() - h0) * 1000
        hold_max, hold_sum = math.max(hold_max, h), hold_sum + h
      end
    end
    srv:poll(speed and speed > 0 and 50 or 250)
  end
  if days > 0 then
    print(fmt("bench suite=serve case=%s impl=churnlab metric=day_ingest_ms mean=%.1f max=%.1f days=%d seconds=%.1f",
      case, hold_sum / days, hold_max, days, cl.core.now() - t0))
    print(fmt("bench suite=serve case=%s impl=churnlab metric=ingest_lock_ms hold_max=%.2f wait_max=%.2f commit_max=%.2f slices=%d",
      case, lock.hold, lock.wait, lock.commit, lock.slices))
  end
  local text = io.open(out):read("a")
  local rps = tonumber(text:match("Requests/sec:%s+([%d%.]+)")) or 0
  local p50, p99 = text:match("%s50%%%s+(%S+)"), text:match("%s99%%%s+(%S+)")
  local max = text:match("Latency%s+%S+%s+%S+%s+(%S+)")
  local non2xx = tonumber(text:match("Non%-2xx or 3xx responses: (%d+)") or "0")
  if not (p50 and p99 and max) then print("bench suite=serve case=" .. case .. " failed: " .. text) return end
  for _, m in ipairs{{"p50", parse_ms(p50)}, {"p99", parse_ms(p99)}, {"max", parse_ms(max)}} do
    print(fmt("bench suite=serve case=%s impl=churnlab metric=latency_%s value=%.3f unit=ms connections=64 streaming_days=%d",
      case, m[1], m[2], days))
  end
  print(fmt("bench suite=serve case=%s impl=churnlab metric=throughput value=%.0f unit=req/s connections=64 non2xx=%d",
    case, rps, non2xx))
  local c1 = counters()
  local function d(k) return c0[k] and c1[k] and tostring(c1[k] - c0[k]) or "?" end
  print(fmt("bench suite=serve case=%s impl=churnlab metric=answers scored=%s reused=%s text_cached=%s text_built=%s cpu_s=%.2f",
    case, d("scored"), d("reused"), d("cached"), d("built"), cpu_s() - cpu0))
  local nr = c0.rcount and c1.rcount and c1.rcount - c0.rcount or 0
  print(fmt("bench suite=serve case=%s impl=churnlab metric=refresh_locked_ms refreshes=%d mean=%s max_so_far=%s",
    case, nr, nr > 0 and fmt("%.1f", (c1.rsum - c0.rsum) / nr * 1000) or "?", c1.rmax and fmt("%.1f", c1.rmax * 1000) or "?"))
  return {rps = rps, p99 = parse_ms(p99)}
end
local function load() local f = io.open("/proc/loadavg") local s = f and f:read("l") or "?" if f then f:close() end return s end
print(fmt("bench-env suite=serve loadavg_before=%q", load()))
-- SERVE_BENCH_CASES=customer,healthz runs only those (all by default); SERVE_BENCH_THREADS=n
-- sets the service's epoll threads (default: one per core)
local only = os.getenv("SERVE_BENCH_CASES")
local results = {}
local function case(name, ...)
  if only and not ("," .. only .. ","):find("," .. name .. ",", 1, true) then return end
  results[name] = run(name, ...)
end
case("customer", nil, true)
case("customer_0.5days_per_s", nil, true, 0.5)    -- churnlab serve's default --speed
case("customer_no_stream", nil, false)
case("recommend", nil, true, 0.5, rscript)
case("monitor", "/api/monitor", true)
case("healthz", "/healthz", false)
-- ratios to /healthz of the same run (the same machine load): what a shared machine changes
-- least; the lead compares these across runs
local h = results.healthz
for name, r in pairs(results) do
  if h and name ~= "healthz" and h.rps > 0 and h.p99 > 0 then
    print(fmt("bench suite=serve case=%s impl=churnlab metric=ratio_to_healthz throughput=%.3f p99=%.2f",
      name, r.rps / h.rps, r.p99 / h.p99))
  end
end
local _, mtext = srv:request("GET", "/metrics")
local used, bytes, bound = mtext:match("churnlab_answer_cache_entries (%d+)"),
  mtext:match("churnlab_answer_cache_bytes (%d+)"), mtext:match("churnlab_answer_cache_bound_bytes (%d+)")
print(fmt("bench suite=serve case=cache impl=churnlab metric=answer_cache entries=%s bytes=%s bound_bytes=%s",
  used or "?", bytes or "?", bound or "?"))
print(fmt("bench-env suite=serve loadavg_after=%q", load()))
srv:stop()
st:free()
os.execute("rm -rf " .. tmp)
