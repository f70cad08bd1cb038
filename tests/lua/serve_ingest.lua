-- Ingesting into a served live state (lua/bind/live.c, LIVE_CHUNK): the write lock is let go
-- between 1024-event slices, each committed to the log first. Checked here: the state and its
-- log end the same as an unserved ingest of the same events (exact: same binary, same events),
-- every slice is a logged batch, and a reader on the service's own threads (curl on /healthz)
-- sees the event count between "before" and "after" while one large ingest runs, which a
-- whole-batch lock never lets it see.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local live = require "churnlab.live"

local tmp = os.tmpname()
os.remove(tmp)
local DATA = tmp .. "_si_world"
cl.synth.generate(DATA, {customers = 2000, titles = 300, seed = 11})
local users = assert(cl.read_csv(DATA .. "/users.csv"))
local events = assert(cl.read_csv(DATA .. "/events.csv"))
local titles = assert(cl.read_csv(DATA .. "/titles.csv"))
local active = users:filter(users.active:eq(1))
local MAXU = users.user_id:max()

-- a profiles-only model: the service needs one to start (as tests/lua/experiment.lua)
local function profiles_model(path)
  local n, x1, churn, ids = 40, {}, {}, {}
  for i = 1, n do ids[i], x1[i], churn[i] = i, math.sin(i), i % 3 == 0 and "Yes" or "No" end
  local df = cl.frame({x1 = x1, churn = churn}, {names = {"x1", "churn"}})
  local pipe = cl.prep.pipeline{target = "churn", positive = "Yes"}:fit(df)
  local m = cl.gbdt{trees = 2, depth = 2}
  local PX, py = pipe:transform(df)
  m:fit(PX, py, {pipeline = pipe})
  m:save(path, {pipeline = pipe})
  return cl.frame{user_id = ids, x1 = x1}
end

local function have(cmd) return os.execute("command -v " .. cmd .. " >/dev/null 2>&1") end

T.test("a served ingest: same state and log as unserved, slices logged, readers let in", function()
  local model = tmp .. "_si.clm"
  local profiles = profiles_model(model)
  local dbA, dbB = tmp .. "_siA.db", tmp .. "_siB.db"
  local A = live.new{titles = titles, max_user = MAXU, log = dbA}
  A:ingest(active, {event = "profile"})
  local ra = A:ingest(events)
  local B = live.new{titles = titles, max_user = MAXU, log = dbB}
  B:ingest(active, {event = "profile"})
  T.raises(function() cl.serve.start{state = B, model = model, profiles = profiles, port = 0, cache = 0} end,
    "option 'cache' must be an integer")
  T.raises(function() cl.serve.start{state = B, model = model, profiles = profiles, port = 0, threads = 1.5} end,
    "option 'threads' must be an integer")
  local srv = cl.serve.start{state = B, model = model, profiles = profiles, port = 0, cache = 64}
  local _, metrics = srv:request("GET", "/metrics")
  T.ok(metrics:find("churnlab_answer_cache_slots 64", 1, true), "the cache option sizes the pool")
  local n0 = B:stats().logged
  local probe = tmp .. "_si_probe.txt"
  local loop
  if have("curl") then
    -- polls /healthz on the service's threads until told to stop; waits for its first answer
    -- so the ingest below starts with the reader already running
    loop = tmp .. "_si_stop"
    os.execute(string.format("(while [ ! -e %s ]; do curl -s -m 2 http://127.0.0.1:%d/healthz; echo; done; touch %s.done) < /dev/null > %s 2>&1 &",
      loop, srv:port(), loop, probe))
    for _ = 1, 200 do
      local f = io.open(probe)
      local s = f and f:read("a") or ""
      if f then f:close() end
      if s:find('"events"') then break end
      os.execute("sleep 0.05")
    end
  end
  local ok, rb = pcall(B.ingest, B, events)
  if loop then io.open(loop, "w"):close() end -- the reader stops whatever happened
  assert(ok, rb)
  T.eq(rb.accepted, ra.accepted)
  -- what the readers waited through: one stretch per slice, each timed
  T.eq(rb.lock.slices, 1 + rb.accepted // 1024)
  T.ok(rb.lock.hold_max_ms > 0 and rb.lock.wait_max_ms >= 0 and rb.lock.commit_ms > 0, "lock times")
  T.eq(rb.rejected, ra.rejected)
  T.ok(rb.accepted > 5 * 1024, "enough events for several slices")
  -- every slice is one logged batch: profiles (1) + ceil(accepted / 1024) batches
  T.eq(rb.seq, 1 + math.ceil(rb.accepted / 1024))
  T.eq(ra.seq, 2)
  T.eq(B:stats().logged, n0 + rb.accepted)
  srv:stop()
  T.ok(A:image() == B:image(), "served (sliced) and unserved ingests differ")
  local img = B:image()
  B:free()
  local B2 = live.new{titles = titles, max_user = MAXU, log = dbB}
  T.ok(B2:image() == img, "the sliced log rebuilds a different state")
  B2:free()
  A:free()
  if loop then
    for _ = 1, 200 do -- until the reader has stopped (curl -m 2 bounds its last request)
      local d = io.open(loop .. ".done")
      if d then d:close() break end
      os.execute("sleep 0.05")
    end
    local f = io.open(probe)
    local text = f:read("a")
    f:close()
    local between = 0
    for ev in text:gmatch('"events":(%d+)') do
      ev = tonumber(ev)
      if ev > n0 and ev < n0 + rb.accepted then between = between + 1 end
    end
    T.ok(between > 0, "no /healthz answer saw the state between slices: " .. text:sub(1, 300))
    os.remove(probe)
    os.remove(loop)
    os.remove(loop .. ".done")
  else
    print("skip the reader check: curl is not installed")
  end
  for _, db in ipairs{dbA, dbB} do os.remove(db); os.remove(db .. "-wal"); os.remove(db .. "-shm") end
  os.remove(model)
end)

os.execute("rm -rf " .. DATA)
T.done()
