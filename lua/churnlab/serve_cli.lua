-- serve_cli.lua: `churnlab serve [options]`, the live retention service on the default world.
--
--   churnlab serve                      # data/synth streamed live, models/best.clm, port 8080
--   churnlab serve --port 9000 --speed 2 --token s3cret
--   churnlab serve --events incoming.csv   # follow a CSV event file instead of the world
--
-- What it does, in order: reads the data set (data/synth: users, titles, events, ratings,
-- features), opens the durable live state under --state (an SQLite event log and a snapshot:
-- the first start builds the state from the event files and snapshots it, later starts resume
-- from snapshot + log, so events acknowledged before a kill -9 are there), fits the hybrid
-- recommender of notebook 05 on the viewing history, starts the service (core/serve) and then
-- streams the synthetic world forward from its snapshot, --speed simulated days per second, or
-- follows --events. SIGTERM or Ctrl-C stops it cleanly.
local M = {}
local cl -- require "churnlab" at run time: a submodule must not require it while it loads

local USAGE = [[
usage: churnlab serve [options]
  --port N         TCP port (default 8080; 0 = any free port, printed)
  --bind ADDR      listening address (default 127.0.0.1; another address needs --token)
  --model PATH     model file saved with its pipeline (default models/best.clm)
  --data DIR       the data set (default data/synth)
  --state DIR      durable live state: event log + snapshot (default var/serve)
  --world          stream the synthetic world forward (the default)
  --events FILE    follow a CSV event file (columns of events.csv) instead of the world
  --speed X        simulated days per second for --world (default 0.5)
  --days N         days the world runs before it stops streaming (default 60)
  --token T        token for POST /api/events and /api/reload (Authorization: Bearer T);
                   also read from $CHURNLAB_TOKEN
  --no-rec         serve without a recommender (faster start)
  --quiet          no progress lines
  -h, --help       this text
Open http://127.0.0.1:PORT/ for the dashboard; the JSON API is under /api (README.md).]]

local function fail(msg)
  error("churnlab serve: " .. msg, 0)
end

local function parse(args)
  local o = {port = 8080, bind = "127.0.0.1", model = "models/best.clm", data = "data/synth",
             state = "var/serve", speed = 0.5, days = 60, token = os.getenv("CHURNLAB_TOKEN")}
  local flags = {["--world"] = "world", ["--no-rec"] = "no_rec", ["--quiet"] = "quiet"}
  local values = {["--port"] = "port", ["--bind"] = "bind", ["--model"] = "model",
                  ["--data"] = "data", ["--state"] = "state", ["--events"] = "events",
                  ["--speed"] = "speed", ["--days"] = "days", ["--token"] = "token"}
  local i = 1
  while args[i] do
    local a = args[i]
    if a == "-h" or a == "--help" then
      print(USAGE)
      return nil
    elseif flags[a] then
      o[flags[a]] = true
    elseif values[a] then
      local v = args[i + 1]
      if not v then fail(a .. " needs a value\n" .. USAGE) end
      o[values[a]] = v
      i = i + 1
    else
      fail("unknown option '" .. a .. "'\n" .. USAGE)
    end
    i = i + 1
  end
  for _, k in ipairs{"port", "speed", "days"} do
    local n = tonumber(o[k])
    if not n then fail("--" .. k .. " must be a number, got '" .. tostring(o[k]) .. "'") end
    o[k] = n
  end
  if o.port < 0 or o.port > 65535 or o.port % 1 ~= 0 then fail("--port must be in 0..65535") end
  if not (o.speed > 0 and o.speed <= 1000) then fail("--speed must be in (0, 1000]") end
  if o.days < 0 or o.days % 1 ~= 0 then fail("--days must be a whole number >= 0") end
  if o.world and o.events then fail("--world and --events exclude each other") end
  return o
end

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() return true end
  return false
end

-- The recommender's recipe; a change here must change the cache name.
local REC_RECIPE = "hybrid{als{factors=32,iters=10,reg=10,alpha=5,seed=42},0.5;"
  .. "itemknn{k=20,normalize=true,neighbours=source},0.5;fallback=popular;min_interactions=5};watch;v1"

-- sha256 of the events file and the recipe (sha256sum is in coreutils), 16 hex digits.
local function rec_key(events_path)
  local q = "'" .. events_path:gsub("'", "'\\''") .. "'"
  local p = io.popen("sha256sum " .. q .. " 2>/dev/null")
  local h = p and p:read("l") or ""
  if p then p:close() end
  h = h:match("^(%x+)")
  if not h then fail("cannot hash " .. events_path .. " (sha256sum missing or the file unreadable)") end
  local p2 = io.popen("printf '%s' '" .. h .. REC_RECIPE .. "' | sha256sum")
  local k = p2:read("l"):match("^(%x+)")
  p2:close()
  return k:sub(1, 16)
end

function M.main(args)
  cl = require "churnlab"
  if args ~= nil and type(args) ~= "table" then
    error("serve_cli.main: bad argument #1 (list of command-line arguments expected, got "
          .. type(args) .. ")", 2)
  end
  local o = parse(args or {})
  if not o then return end
  local say = o.quiet and function() end or function(fmt, ...)
    io.stderr:write("serve: ", string.format(fmt, ...), "\n")
  end
  if not exists(o.model) then
    fail(o.model .. " does not exist: run `make serve` (it trains the model first) or "
         .. "`churnlab notebooks/03_models.lua`")
  end
  local function read(name)
    local path = o.data .. "/" .. name
    if not exists(path) then fail(path .. " does not exist: run `make data` first") end
    return cl.read_csv(path)
  end
  local t0 = cl.core.now()
  local users, titles, features = read("users.csv"), read("titles.csv"), read("features.csv")
  local active = users:filter(users.active:eq(1))
  local SNAP = 180
  -- the synthetic catalogue has no names: "Series 12 (2014)" reads better than "Title 12"
  if not titles:has("name") and titles:has("type") and titles:has("year") then
    local ty, yr, id, names = titles.type:totable(), titles.year:totable(), titles.title_id:totable(), {}
    for i = 1, #id do
      local t = tostring(ty[i] or "title")
      names[i] = string.format("%s%s %d (%d)", t:sub(1, 1):upper(), t:sub(2), id[i], yr[i] or 0)
    end
    titles = titles:with("name", names)
  end

  -- the durable live state: snapshot + log, built from the event files on the first start
  os.execute("mkdir -p '" .. o.state:gsub("'", "'\\''") .. "'")
  local log, snap = o.state .. "/events.db", o.state .. "/state.snap"
  local max_user = users.user_id:max()
  if not exists(snap) then
    say("first start: building the live state from %s (a minute at most)", o.data)
    local fresh = cl.live.new{titles = titles, max_user = max_user}
    local events, ratings = read("events.csv"), read("ratings.csv")
    for _, part in ipairs{{active, {event = "profile"}}, {events}, {ratings, {event = "rating"}}} do
      local r = fresh:ingest(part[1], part[2])
      if r.rejected > 0 then fail("the data set's events were refused: " .. r.reasons[1]) end
    end
    fresh:advance(SNAP)
    fresh:snapshot(snap)
    fresh:free()
    events, ratings = nil, nil
    collectgarbage()
  end
  local state = cl.live.new{titles = titles, max_user = max_user, log = log, snapshot = snap}
  local st = state:stats()
  say("live state: %d events, day %s, %d customers active (%.1f s)", st.events,
      tostring(state:now()), st.active, cl.core.now() - t0)

  -- the recommender of notebook 05, on the viewing history
  local rec
  if not o.no_rec then
    local t1 = cl.core.now()
    -- the fitted recommender is kept under the state folder, named by what it depends on (the
    -- viewing file's bytes and this recipe): a second start loads it instead of fitting
    local cache = o.state .. "/rec-" .. rec_key(o.data .. "/events.csv") .. ".clm"
    local ok, loaded = pcall(cl.rec.load, cache)
    if exists(cache) and ok then
      rec = loaded
      say("recommender: hybrid ALS + item-kNN loaded from %s (%.1f s)", cache, cl.core.now() - t1)
    else
      if exists(cache) then say("recommender cache %s unreadable (%s): fitting again", cache, tostring(loaded)) end
      local ev = read("events.csv")
      local watches = ev:filter(ev.event:eq("watch"))
      local inter = cl.interactions(watches, {user = "user_id", item = "title_id", time = "day"})
      rec = cl.rec.hybrid{{cl.rec.als{factors = 32, iters = 10, reg = 10, alpha = 5, seed = 42}, 0.5},
                          {cl.rec.itemknn{k = 20, normalize = true, neighbours = "source"}, 0.5},
                          fallback = cl.rec.popular{}, min_interactions = 5}
      rec:fit(inter)
      ev, watches = nil, nil
      collectgarbage()
      rec:save(cache)
      say("recommender: hybrid ALS + item-kNN fitted (%.1f s), kept in %s", cl.core.now() - t1, cache)
    end
  end

  local srv = cl.serve.start{state = state, model = o.model, profiles = users,
    reference = features, rec = rec, titles = titles, port = o.port, bind = o.bind,
    token = o.token, history = o.state .. "/history.db"}
  print(string.format("churnlab serve: dashboard at http://%s:%d/ (API under /api; "
    .. "Ctrl-C or SIGTERM stops)", o.bind == "0.0.0.0" and "127.0.0.1" or o.bind, srv:port()))
  io.stdout:flush()

  -- the event source
  local tick, tick_ms
  if o.events then
    local LF = require "churnlab.livefollow"
    local src = LF.new(state, o.events)
    tick_ms = 1000
    tick = function()
      local r = src:poll()
      if r.accepted > 0 or r.rejected > 0 then
        say("%s: %d events accepted, %d refused%s", o.events, r.accepted, r.rejected,
            r.rejected > 0 and (" (" .. r.reasons[1] .. ")") or "")
      end
    end
  else
    local world = cl.synth.world{customers = users:nrow(), titles = titles:nrow()}
    local now = state:now() or SNAP
    local it, sv, ctl = world:stream{days = math.max(0, now - SNAP) + o.days}
    -- days the state already holds (a restart): the world replays them without ingesting
    for _ = SNAP, now - 1 do
      if not it(sv, ctl) then break end
    end
    -- the recommendation experiment (churnlab.experiment) on a fresh world: customers who
    -- visit are shown this service's /api/recommend answer (or, in the 10% holdout, the most
    -- watched titles) and react to it; monitor.experiment reports it
    if rec and now == SNAP then
      local x = require("churnlab.experiment").new{world = world}
      x:attach(srv)
      local function recommend(id, k)
        local status, body = srv:request("GET", "/api/recommend/" .. id, {query = {k = tostring(k)}})
        local t = {}
        if status == 200 then for tid in body:gmatch('"title":(%d+)') do t[#t + 1] = tonumber(tid) end end
        return t
      end
      local left = o.days
      it = function()
        if left <= 0 then return nil end
        left = left - 1
        local day, ev, rt = x:step(recommend)
        return day, ev, rt
      end
    end
    tick_ms = 1000 / o.speed
    local done = false
    tick = function()
      if done then return end
      local day, ev, rt = it(sv, ctl)
      if not day then
        done = true
        say("the world has run its %d days; still serving", o.days)
        return
      end
      local r1 = state:ingest(ev)
      local r2 = state:ingest(rt, {event = "rating"})
      state:advance(day + 1)
      say("day %d: %d events, %d ratings", day, r1.accepted, r2.accepted)
    end
  end
  local why = srv:run{tick = tick, tick_ms = tick_ms}
  say("stopping (%s)", why)
  srv:stop()
  state:free()
end

require("churnlab.help").setdoc(M.main, "serve_cli.main(args) -> nothing: `churnlab serve "
  .. "[options]` with the argument list args ({\"--port\", \"9000\", ...}; --help lists "
  .. "them): the default world streamed live behind the dashboard and JSON API, until SIGTERM "
  .. "or Ctrl-C. Bad usage raises an error naming the option.")

return M
