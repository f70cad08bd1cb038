-- livefollow.lua: a CSV or JSON-lines event file as a live source, read once or followed as it
-- grows.
--
--   local LF = require "churnlab.livefollow"
--   local src = LF.new(state, "incoming/events.csv")       -- same columns as events.csv
--   local js = LF.new(state, "incoming/events.jsonl")      -- one JSON event a line (.ndjson too,
--                                                           -- or {format = "jsonl"})
--   local r = src:poll()   -- ingests the complete lines written since the last poll
--   print(r.accepted, r.rejected, r.reasons[1])            -- reasons name the file's line
--
-- A poll reads from where the previous one stopped up to the last complete line (a line still
-- being written is left for the next poll), so a writer appending to the file and a follower
-- polling it never split an event. With a logged state, each poll's events are one committed
-- batch; the file position is not durable (after a restart, make a new follower and skip what
-- the state already holds, or let the writer rotate files).
--
-- JSON lines are parsed by the service's parser (s:ingest_jsonl, the format of POST
-- /api/events), so a file and a request mean the same thing; a JSON file has no header.
local help = require "churnlab.help"
local check = require("churnlab.options").check

local LF = {}
local Follower = {}
Follower.__index = Follower

local FORMATS = {csv = true, jsonl = true}

-- The file's format: opts.format, else from the extension (.jsonl, .ndjson: JSON lines; any
-- other: CSV, as before the option existed).
local function format_of(path, format)
  if format == nil then
    local ext = path:match("%.([%w]+)$")
    ext = ext and ext:lower()
    return (ext == "jsonl" or ext == "ndjson") and "jsonl" or "csv"
  end
  if not FORMATS[format] then
    error("livefollow.new: option 'format': expected \"csv\" or \"jsonl\", got " .. tostring(format), 3)
  end
  return format
end

function LF.new(state, path, opts)
  opts = check(opts, 3, "livefollow.new", {"event", "format"})
  if type(path) ~= "string" then
    error("livefollow.new: bad argument #2 (file path expected, got " .. type(path) .. ")", 2)
  end
  local format = format_of(path, opts.format)
  if format == "jsonl" and opts.event ~= nil then
    error("livefollow.new: option 'event' is for CSV files (a JSON line names its event)", 2)
  end
  return setmetatable({state = state, path = path, event = opts.event, format = format,
    offset = 0, line = 1, header = nil, accepted = 0, rejected = 0}, Follower)
end

-- JSON lines: no header; every complete line is an event (blank ones are skipped).
local function poll_jsonl(self, chunk, lines)
  local r = self.state:ingest_jsonl(chunk, {line = self.line})
  self.line = self.line + lines
  self.accepted, self.rejected = self.accepted + r.accepted, self.rejected + r.rejected
  r.lines = lines
  return r
end

-- Ingests the complete lines appended since the last poll. Returns the state's ingest result
-- plus `lines` (complete lines read); {accepted = 0, ...} when nothing new. A missing file is
-- an error naming it; a file that shrank (rotated or truncated) too.
function Follower:poll()
  local f, err = io.open(self.path, "rb")
  if not f then error("livefollow: " .. err, 2) end
  local size = f:seek("end")
  if size < self.offset then
    f:close()
    error(string.format("livefollow: %s shrank from %d to %d bytes (rotated or truncated?)",
      self.path, self.offset, size), 2)
  end
  f:seek("set", self.offset)
  local data = f:read("a") or ""
  f:close()
  local last = data:match(".*()\n")
  if not last then return {accepted = 0, rejected = 0, reasons = {}, lines = 0} end
  local chunk = data:sub(1, last)
  self.offset = self.offset + #chunk
  local _, lines = chunk:gsub("\n", "")
  if self.format == "jsonl" then return poll_jsonl(self, chunk, lines) end
  if not self.header then
    local h = chunk:match("^([^\n]*)\n")
    self.header = h
    chunk = chunk:sub(#h + 2)
    self.line, lines = 2, lines - 1
    if chunk == "" then return {accepted = 0, rejected = 0, reasons = {}, lines = 0} end
  end
  local r = self.state:ingest(self.header .. "\n" .. chunk, {line = self.line, event = self.event})
  self.line = self.line + lines
  self.accepted, self.rejected = self.accepted + r.accepted, self.rejected + r.rejected
  r.lines = lines
  return r
end

function Follower:__tostring()
  return string.format("churnlab.livefollow %s (line %d, %d accepted, %d refused)", self.path,
    self.line, self.accepted, self.rejected)
end

help.setdoc(LF.new, "livefollow.new(state, path [, opts]) -> follower of an event file: CSV "
  .. "(a header, then events.csv's columns; opts.event for files of one kind, e.g. ratings) or "
  .. "JSON lines (one event object a line, as POST /api/events takes them; s:ingest_jsonl). "
  .. "opts.format = \"csv\" | \"jsonl\" (default: jsonl for .jsonl and .ndjson files, else csv).")
help.setdoc(Follower.poll, "src:poll() -> {accepted, rejected, reasons, seq, lines}: ingests the "
  .. "complete lines written since the last poll (reasons name the file's lines).")

return LF
