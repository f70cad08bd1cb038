-- Tests of JSON lines as a live event source: s:ingest_jsonl (the service's POST /api/events
-- parser, core/serve/event_json.c) and churnlab.livefollow on .jsonl/.ndjson files, read once
-- and followed while a writer appends. The oracle is the CSV/frame path already checked
-- against batch features in tests/lua/live.lua: the same events as JSON lines must give the
-- same state bytes (exact: same binary, same events, integer and decimal-text fields).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local live = require "churnlab.live"
local LF = require "churnlab.livefollow"

local SNAP = 180
local tmp = os.tmpname()
os.remove(tmp)
local DATA = tmp .. "_lf_world"
cl.synth.generate(DATA, {customers = 1000, titles = 300, seed = 7})
local users = assert(cl.read_csv(DATA .. "/users.csv"))
local events = assert(cl.read_csv(DATA .. "/events.csv"))
local titles = assert(cl.read_csv(DATA .. "/titles.csv"))
local ratings = assert(cl.read_csv(DATA .. "/ratings.csv"))
local active = users:filter(users.active:eq(1))
local MAXU = users.user_id:max()

local function read(path) local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close(); return s end
local function write(path, s) local f = assert(io.open(path, "wb")); f:write(s); f:close() end

-- ---- CSV text -> JSON lines, keeping every number's decimal text (no float round trip) -------
local function split(l)
  local t = {}
  for v in (l .. ","):gmatch("([^,]*),") do t[#t + 1] = v end
  return t
end

-- kinds: column -> "num" | "str"; `fixed` = fields added to every line (event kind)
local function jsonl_of(csv, kinds, fixed, rename)
  local head, body = csv:match("^([^\n]*)\n(.*)$")
  local names = split(head:gsub("\r$", ""))
  local out = {}
  for l in body:gmatch("([^\n]*)\n") do
    local v = split(l)
    local f = {}
    for _, kv in ipairs(fixed or {}) do f[#f + 1] = kv end
    local ev = fixed and "" or v[3]
    for i, n in ipairs(names) do
      local x, kind = v[i], kinds[n]
      if kind and x ~= "" then
        if n == "detail" then kind = ev == "price_change" and "num" or "str" end
        f[#f + 1] = string.format("%q:%s", (rename or {})[n] or n, kind == "num" and x or string.format("%q", x))
      end
    end
    out[#out + 1] = "{" .. table.concat(f, ",") .. "}\n"
  end
  return out
end

local EVK = {user_id = "num", day = "num", event = "str", title_id = "num", minutes = "num",
  completion = "num", device = "str", detail = "str"}
local ev_lines = jsonl_of(read(DATA .. "/events.csv"), EVK)
local rt_lines = jsonl_of(read(DATA .. "/ratings.csv"), {user_id = "num", title_id = "num",
  day = "num", rating = "num"}, {'"event":"rating"'})
local act_csv = os.tmpname()
active:select{"user_id", "signup_day", "plan", "monthly_price", "discount_pct"}:write_csv(act_csv)
local pf_lines = jsonl_of(read(act_csv), {user_id = "num", signup_day = "num", plan = "str",
  monthly_price = "num", discount_pct = "num"}, {'"event":"profile"'})
os.remove(act_csv)

-- the reference: frames, as tests/lua/live.lua checks them against the batch features
local function frame_state()
  local s = live.new{titles = titles, max_user = MAXU}
  T.eq(s:ingest(active, {event = "profile"}).rejected, 0, "profiles")
  T.eq(s:ingest(events).rejected, 0, "events")
  T.eq(s:ingest(ratings, {event = "rating"}).rejected, 0, "ratings")
  s:advance(SNAP)
  return s
end
local B = frame_state()

T.test("JSON lines (profiles, events, ratings) = the same events as frames: same state bytes", function()
  local s = live.new{titles = titles, max_user = MAXU}
  for _, part in ipairs{pf_lines, ev_lines, rt_lines} do
    local r = s:ingest_jsonl(table.concat(part))
    T.eq(r.rejected, 0, r.reasons[1])
    T.eq(r.accepted, #part)
  end
  s:advance(SNAP)
  T.ok(s:image() == B:image(), "JSON-lines state differs from frame ingestion")
  print(string.format("     %d profile, %d event, %d rating lines", #pf_lines, #ev_lines, #rt_lines))
end)

-- a .jsonl file of the events with malformed lines spread through it; returns its text, the
-- file lines of the bad ones and the field (or word) each reason must name
local BAD = {
  {'{"user_id":3,"day":"x","event":"watch","title_id":1,"minutes":5,"completion":0.5}', "'day'"},
  {'{"user_id":3,"day":170,"event":"watch","title_id":1,"minutes":5,"completion":0.5', "malformed JSON"},
  {'{"user_id":3,"day":170,"event":"snooze"}', "'event'"},
  {'{"user_id":3,"day":170,"event":"ticket","colour":"red"}', "'colour'"},
  {'{"day":170,"event":"ticket"}', "'user_id'"},
  {'{"user_id":3,"day":170,"event":"watch","title_id":99999,"minutes":5,"completion":0.5}', "'title_id'"},
  {'{"user_id":3,"day":170,"event":"watch","title_id":1,"minutes":-4,"completion":0.5}', "'minutes'"},
  {'{"user_id":3,"day":170,"event":"plan_change","detail":"platinum"}', "'detail'"},
  {'[1, 2, 3]', "JSON object"},
  {'not json at all', "malformed JSON"},
}
local function with_bad_lines()
  local lines, at = {}, {}
  local step = #ev_lines // (#BAD + 1)
  local b = 1
  for i, l in ipairs(ev_lines) do
    if b <= #BAD and i == b * step then
      lines[#lines + 1] = BAD[b][1] .. "\n"
      at[b] = #lines
      b = b + 1
    end
    lines[#lines + 1] = l
    if i == 2 then lines[#lines + 1] = "   \r\n" end -- a blank line: skipped, not refused
  end
  return table.concat(lines), at
end

local function profiled()
  local s = live.new{titles = titles, max_user = MAXU}
  s:ingest(active, {event = "profile"})
  return s
end
local function finish(s)
  s:ingest(ratings, {event = "rating"})
  s:advance(SNAP)
  return s
end

local function check_reasons(reasons, at)
  T.eq(#reasons, #BAD)
  for b, want in ipairs(BAD) do
    local r = reasons[b]
    T.ok(r:find("^line " .. at[b] .. ": ") and r:find(want[2], 1, true),
      string.format("bad line %d: %q (want line %d, %s)", b, r, at[b], want[2]))
  end
end

T.test("a .jsonl file read once: malformed lines refused with line and field, counted, harmless", function()
  local text, at = with_bad_lines()
  local path = tmp .. "_lf_once.jsonl"
  write(path, text)
  local s = profiled()
  local rej0 = s:stats().rejected
  local src = LF.new(s, path)
  local r = src:poll()
  T.eq(r.accepted, #ev_lines)
  T.eq(r.rejected, #BAD)
  T.eq(r.lines, #ev_lines + #BAD + 1)
  T.eq(s:stats().rejected - rej0, #BAD, "the state counts the refusals")
  check_reasons(r.reasons, at)
  for _, x in ipairs(r.reasons) do print("     " .. x) end
  -- nothing new: a second poll reads nothing
  local again = src:poll()
  T.eq(again.accepted + again.rejected + again.lines, 0, "a second poll re-read the file")
  T.ok(finish(s):image() == B:image(), "refused lines changed the state")
  os.remove(path)
end)

T.test("a .ndjson file followed while a writer appends: partial lines wait, same state", function()
  local text, at = with_bad_lines()
  local path = tmp .. "_lf_follow.ndjson"
  local s = profiled()
  local src = LF.new(s, path)
  local fh = assert(io.open(path, "wb"))
  -- a partial line is left for the next poll: half of the first line, then the rest
  local first = ev_lines[1]
  fh:write(first:sub(1, 20)); fh:flush()
  local r = src:poll()
  T.eq(r.accepted + r.rejected + r.lines, 0, "a partial line was read")
  fh:write(first:sub(21)); fh:flush()
  r = src:poll()
  T.eq(r.accepted, 1); T.eq(r.lines, 1)
  local pos, total, reasons = #first + 1, {accepted = 1, rejected = 0}, {}
  local sizes = {1, 3, 77, 4096, 50000, 333333}
  local i = 0
  while pos <= #text do
    i = i + 1
    local n = sizes[(i - 1) % #sizes + 1]
    fh:write(text:sub(pos, pos + n - 1)) -- cuts lines anywhere, inside JSON strings too
    fh:flush()
    pos = pos + n
    r = src:poll()
    total.accepted, total.rejected = total.accepted + r.accepted, total.rejected + r.rejected
    for _, x in ipairs(r.reasons) do reasons[#reasons + 1] = x end
  end
  fh:close()
  T.ok(i > 20, "appended in many pieces")
  T.eq(total.accepted, #ev_lines)
  T.eq(total.rejected, #BAD)
  check_reasons(reasons, at)
  T.ok(tostring(src):find(#ev_lines .. " accepted", 1, true), tostring(src))
  T.ok(finish(s):image() == B:image(), "followed JSON file differs from frame ingestion")
  -- a rotated file is an error, not a silent re-read
  write(path, "")
  T.raises(function() src:poll() end, "shrank")
  os.remove(path)
  T.raises(function() src:poll() end, "livefollow")
end)

T.test("the same events as a followed CSV file and a followed JSON file: same state bytes", function()
  local cpath, jpath = tmp .. "_lf_same.csv", tmp .. "_lf_same.txt"
  write(cpath, read(DATA .. "/events.csv"))
  write(jpath, table.concat(ev_lines))
  local sc, sj = profiled(), profiled()
  local rc = LF.new(sc, cpath):poll()
  local rj = LF.new(sj, jpath, {format = "jsonl"}):poll() -- the option over the extension
  T.eq(rc.rejected, 0, rc.reasons[1]); T.eq(rj.rejected, 0, rj.reasons[1])
  T.eq(rj.accepted, rc.accepted)
  T.ok(finish(sc):image() == finish(sj):image(), "CSV and JSON sources differ")
  -- and a .jsonl name read as CSV when told so (the option wins): its lines are not CSV rows
  local jl = tmp .. "_lf_same.jsonl"
  write(jl, read(DATA .. "/events.csv"))
  T.eq(LF.new(profiled(), jl, {format = "csv"}):poll().accepted, events:nrow())
  os.remove(cpath); os.remove(jpath); os.remove(jl)
end)

T.test("ingest_jsonl with a log: one committed batch; a restart from the log has the same state", function()
  local db = tmp .. "_lf.db"
  local s = live.new{titles = titles, max_user = MAXU, log = db}
  s:ingest(active, {event = "profile"})
  local text = with_bad_lines()
  local r = s:ingest_jsonl(text, {line = 1})
  T.eq(r.rejected, #BAD)
  T.ok(r.seq == 2, "seq " .. tostring(r.seq))
  s:ingest(ratings, {event = "rating"})
  s:advance(SNAP)
  local img = s:image()
  s:free()
  local s2 = live.new{titles = titles, max_user = MAXU, log = db}
  s2:advance(SNAP)
  T.ok(s2:image() == img, "rebuilt from the log differs")
  s2:free()
  for _, ext in ipairs{"", "-wal", "-shm"} do os.remove(db .. ext) end
end)

T.test("ingest_jsonl and the follower's options: errors name the problem", function()
  local s = live.new{max_user = 10}
  local r = s:ingest_jsonl('{"user_id":1,"event":"profile","signup_day":0,"plan":"basic","monthly_price":7.99}\n'
    .. '{"user_id":1,"day":"2","event":"ticket"}', {line = 41})
  T.eq(r.accepted, 1); T.eq(r.rejected, 1)
  T.ok(r.reasons[1]:find("^line 42: field 'day'"), r.reasons[1])
  T.eq(s:ingest_jsonl("").accepted, 0)
  T.raises(function() s:ingest_jsonl("{}", {lin = 1}) end, "unknown option 'lin'")
  T.raises(function() s:ingest_jsonl("{}", {line = 0}) end, "option 'line'")
  T.raises(function() s:ingest_jsonl({}) end, "string expected")
  local p = tmp .. "_lf_opts.jsonl"
  T.raises(function() LF.new(s, p, {format = "xml"}) end, "option 'format'")
  T.raises(function() LF.new(s, p, {event = "rating"}) end, "option 'event' is for CSV")
  T.raises(function() LF.new(s, p, {fromat = "csv"}) end, "unknown option 'fromat'")
  T.raises(function() LF.new(s, p):poll() end, p)
end)

os.execute("rm -rf '" .. DATA .. "'")
T.done()
