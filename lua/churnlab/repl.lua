-- churnlab.repl: the REPL's pretty printer, completion and ':' commands (the terminal, signals
--
--   local repl = require "churnlab.repl"
--   print(repl.pretty({1, 2, x = {y = "z"}}))     --> {1, 2, x = {y = "z"}}
--   repl.pretty(t, {depth = 2, items = 10, width = 60, color = false})
--
-- pretty() lays a value out the way an analyst wants to read it: tables with sorted keys,
-- limited in depth and in items per table, cycles marked, strings quoted, one line when it
-- fits the width and indented lines otherwise. A userdata or table whose metatable has
-- __repl(obj, width) (tensors, frames) is shown through it at the top level (a multi-line
-- string); elsewhere __tostring is used. The REPL also asks this module for completion
-- candidates (complete) and to run its ':' commands (command). Requiring it has no side
-- effects; bind(env) is what the REPL calls to pre-bind `cl` and `help`.
local check = require("churnlab.options").check

local M = {}

-- Settings the REPL reads before each statement (changed by ':' commands).
M.options = {timing = false, depth = 4, items = 40, strlen = 120}
-- The terminal's width, set by the REPL before each statement (nil outside it); help()
-- wraps to it.
M.width = nil

local getmt = debug and debug.getmetatable or getmetatable

local KEYWORDS = {}
for w in ([[and break do else elseif end false for function goto if in local nil not or
            repeat return then true until while]]):gmatch("%a+") do KEYWORDS[w] = true end

local function is_ident(s)
  return type(s) == "string" and s:match("^[%a_][%w_]*$") ~= nil and not KEYWORDS[s]
end

-- ---- colours --------------------------------------------------------------------------

local SGR = {string = "32", number = "36", boolean = "35", ["nil"] = "35",
             ["function"] = "33", userdata = "33", thread = "33", dim = "90", err = "31"}

local function paint(o, kind, s)
  if not o.color then return s end
  return "\27[" .. SGR[kind] .. "m" .. s .. "\27[0m"
end

-- Printed width of s (ANSI colour codes take no room; UTF-8 continuation bytes neither).
local function width_of(s)
  s = s:gsub("\27%[[%d;]*m", "")
  local _, cont = s:gsub("[\128-\191]", "")
  return #s - cont
end
M.width_of = width_of

-- ---- scalars --------------------------------------------------------------------------

local ESC = {["\n"] = "\\n", ["\t"] = "\\t", ["\r"] = "\\r", ['"'] = '\\"', ["\\"] = "\\\\",
             ["\a"] = "\\a", ["\b"] = "\\b", ["\f"] = "\\f", ["\v"] = "\\v"}

-- A Lua string literal for s that reads back to s. maxlen (optional) cuts long strings,
-- saying how long they were.
function M.quote(s, maxlen)
  local n, cut = #s, false
  if maxlen and n > maxlen then s, cut = s:sub(1, maxlen), true end
  s = s:gsub('([%c"\\])(%d?)', function(c, digit)
    -- a numeric escape is as short as possible unless a digit follows ("\0" then "\0007")
    return (ESC[c] or string.format(digit == "" and "\\%d" or "\\%03d", c:byte())) .. digit
  end)
  s = '"' .. s .. '"'
  if cut then s = s .. string.format("...(%d bytes)", n) end
  return s
end

local function safe_tostring(v)
  local ok, s = pcall(tostring, v)
  if ok and type(s) == "string" then return s end
  local mt = getmt(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return string.format("<%s: __tostring failed: %s>", type(name) == "string" and name or type(v),
                       tostring(s))
end

-- ---- tables ---------------------------------------------------------------------------

local TYPE_RANK = {number = 1, string = 2, boolean = 3}

local function key_less(a, b)
  local ta, tb = type(a), type(b)
  if ta ~= tb then return (TYPE_RANK[ta] or 4) < (TYPE_RANK[tb] or 4) end
  if ta == "number" or ta == "string" then return a < b end
  if ta == "boolean" then return (not a) and b end
  return tostring(a) < tostring(b)
end

local MAX_SORT = 100000 -- beyond this many keys, show them in traversal order

local fmt -- forward

local function fmt_table(t, o, indent, used, depth, path)
  if next(t) == nil then return "{}" end
  if path[t] then return paint(o, "dim", "<cycle>") end
  if depth > o.depth then return paint(o, "dim", "{...}") end
  path[t] = true
  local parts, shown, limit = {}, 0, o.items
  local n = 0
  while rawget(t, n + 1) ~= nil do n = n + 1 end
  local keys, total = {}, n
  for k in next, t do
    if not (math.type(k) == "integer" and k >= 1 and k <= n) then
      total = total + 1
      keys[#keys + 1] = k
    end
  end
  if #keys <= MAX_SORT then table.sort(keys, key_less) end
  local child = indent + 2
  for i = 1, n do
    if shown >= limit then break end
    parts[#parts + 1] = fmt(rawget(t, i), o, child, child, depth + 1, path)
    shown = shown + 1
  end
  for _, k in ipairs(keys) do
    if shown >= limit then break end
    local prefix
    if is_ident(k) then prefix = k .. " = "
    else prefix = "[" .. fmt(k, o, child, child, depth + 1, path) .. "] = " end
    parts[#parts + 1] = prefix .. fmt(rawget(t, k), o, child, child + width_of(prefix),
                                      depth + 1, path)
    shown = shown + 1
  end
  path[t] = nil
  if total > shown then
    parts[#parts + 1] = paint(o, "dim", string.format("...(%d more)", total - shown))
  end
  local line = "{" .. table.concat(parts, ", ") .. "}"
  if not line:find("\n", 1, true) and used + width_of(line) <= o.width then return line end
  local pad = string.rep(" ", child)
  if #keys == 0 and not line:find("\n", 1, true) then
    -- a plain list of short values: fill lines rather than one value per line
    local lines, cur = {}, nil
    for _, p in ipairs(parts) do
      if cur and child + width_of(cur) + 2 + width_of(p) > o.width then
        lines[#lines + 1] = cur
        cur = nil
      end
      cur = cur and (cur .. ", " .. p) or p
    end
    lines[#lines + 1] = cur
    parts = lines
  end
  return "{\n" .. pad .. table.concat(parts, ",\n" .. pad) .. "\n" .. string.rep(" ", indent) .. "}"
end

function fmt(v, o, indent, used, depth, path)
  local tv = type(v)
  if tv == "string" then
    return paint(o, "string", M.quote(v, depth > 1 and o.strlen or nil))
  elseif tv == "number" or tv == "boolean" or tv == "nil" then
    return paint(o, tv, tostring(v))
  end
  local mt = getmt(v)
  if type(mt) == "table" then
    if depth == 1 and rawget(mt, "__repl") ~= nil then
      local ok, s = pcall(mt.__repl, v, o.width)
      if ok and type(s) == "string" then return s end
      return safe_tostring(v) .. paint(o, "dim", "  (__repl failed: " ..
                                         (ok and "returned " .. type(s) or tostring(s)) .. ")")
    end
    if rawget(mt, "__tostring") ~= nil then
      return tv == "table" and safe_tostring(v) or paint(o, tv, safe_tostring(v))
    end
  end
  if tv == "table" then return fmt_table(v, o, indent, used, depth, path) end
  return paint(o, tv, safe_tostring(v))
end

-- Options for pretty(): width (80), color (false), depth (M.options.depth), items
-- (M.options.items per table), strlen (longest string shown inside a table).
local function fill(opts)
  opts = opts or {}
  return {width = opts.width or 80, color = opts.color or false,
          depth = opts.depth or M.options.depth, items = opts.items or M.options.items,
          strlen = opts.strlen or M.options.strlen}
end

-- pretty(v [, {width = 80, color = false, depth, items, strlen}]) -> string: v laid out for
-- reading (the REPL's display): sorted keys, at most depth levels and items entries per
-- table, cycles marked, strings quoted and cut at strlen, one line when it fits the width;
-- __repl(obj, width) at the top level, __tostring below it.
function M.pretty(v, opts)
  check(opts, 2, "pretty", {"width", "color", "depth", "items", "strlen"})
  return fmt(v, fill(opts), 0, 0, 1, {})
end

-- The REPL's auto-print: every result of a statement, tab-separated, on stdout.
function M.show(width, color, ...)
  local o = fill({width = width, color = color})
  local n = select("#", ...)
  local out = {}
  for i = 1, n do out[i] = fmt((select(i, ...)), o, 0, 0, 1, {}) end
  io.stdout:write(table.concat(out, "\t"), "\n")
end

-- "12.3 ms": a wall time for ':time on'.
function M.format_time(s)
  if s < 1e-3 then return string.format("%.0f us", s * 1e6) end
  if s < 1 then return string.format("%.1f ms", s * 1e3) end
  if s < 120 then return string.format("%.2f s", s) end
  return string.format("%dm%04.1fs", math.floor(s / 60), s % 60)
end

-- ---- completion -----------------------------------------------------------------------

local function index(obj, k)
  local ok, v = pcall(function() return obj[k] end)
  if ok then return v end
  return nil
end

-- The value a dotted name refers to ("cl.tensor"), or nil. Only plain names are followed:
-- completion never calls functions.
local function resolve(env, path)
  local v = env
  for name in path:gmatch("[^.]+") do
    if not is_ident(name) and not KEYWORDS[name] then return nil end
    local t = type(v)
    if t ~= "table" and t ~= "userdata" and t ~= "string" then return nil end
    v = index(v, name)
    if v == nil then return nil end
  end
  return v
end

-- Adds to `out` the identifier keys reachable from obj: its own keys (tables) and those of
-- its __index chain (tables; for an __index function, the metatable's __methods table and
-- its own public functions), plus the names a __complete(obj) metafield lists.
local function collect(obj, out, methods_only)
  local seen = {}
  local function add_table(t)
    if seen[t] then return end
    seen[t] = true
    for k, v in next, t do
      if is_ident(k) and (not methods_only or type(v) == "function"
                          or (type(v) == "table" and getmt(v) and getmt(v).__call)) then
        out[k] = true
      end
    end
  end
  local v = obj
  for _ = 1, 16 do -- __index chains are short; a cycle must not hang the REPL
    if type(v) == "table" then add_table(v) end
    local mt = getmt(v)
    if type(mt) ~= "table" then break end
    local idx = rawget(mt, "__index")
    local extra = rawget(mt, "__complete")
    if type(extra) == "function" and not methods_only then
      -- __complete(obj) -> list of field names (a frame's columns)
      local ok, names = pcall(extra, obj)
      if ok and type(names) == "table" then
        for _, k in ipairs(names) do if is_ident(k) then out[k] = true end end
      end
    end
    if type(idx) == "function" then
      -- methods behind an __index function: the metatable's __methods table (frames), or
      -- the metatable's own public functions
      local methods = rawget(mt, "__methods")
      if type(methods) == "table" then add_table(methods) end
      for k, f in next, mt do
        if is_ident(k) and not k:match("^__") and type(f) == "function" then out[k] = true end
      end
      break
    end
    if type(idx) ~= "table" or seen[idx] then break end
    v = idx
  end
end

-- Parameter names when the cursor is at a key of the table given to a model constructor:
-- before = "m = cl.gbdt{trees = 10, " -> the names of gbdt's parameters.
local function param_names(env, before)
  local name, inside = before:match("([%a_][%w_.]*)%s*%(?%s*{([^{}]*)$")
  if not name or not inside:match("([^,;]*)$"):match("^%s*$") then
    return nil -- not a constructor's table, or at a value rather than a key
  end
  if type(resolve(env, name)) ~= "function" then return nil end
  local ok, _, params = pcall(function() return require("churnlab.core").docs() end)
  local defs = ok and type(params) == "table" and params[name:match("([%w_]+)$")]
  if type(defs) ~= "table" then return nil end
  local out = {}
  for _, d in ipairs(defs) do
    if type(d) == "table" and is_ident(d.name) then out[d.name] = true end
  end
  return out
end

-- Completion candidates for the word `text` under the cursor ("cl.tensor.ze", "t:su",
-- "pri"), each the whole word, sorted. Globals and keywords for a plain name (a model's
-- parameter names first when `before`, the line up to the word, ends inside the constructor's
-- table: "cl.gbdt{tr"); fields through tables and __index metatables after '.'; functions
-- only after ':'.
function M.complete(text, env, before)
  env = env or _G
  local base, sep, partial = text:match("^(.*)([.:])([%w_]*)$")
  local names = {}
  if base then
    if not base:match("^[%a_][%w_]*[%w_.]*$") or base:find("..", 1, true)
       or base:sub(-1) == "." then
      return {}
    end
    local obj = resolve(env, base)
    if obj == nil then return {} end
    collect(obj, names, sep == ":")
    base = base .. sep
  else
    if not text:match("^[%a_]?[%w_]*$") then return {} end
    partial, base = text, ""
    local params = before and param_names(env, before)
    if params then
      local hits = {}
      for k in pairs(params) do
        if k:sub(1, #partial) == partial then hits[#hits + 1] = k end
      end
      if #hits > 0 then
        table.sort(hits)
        return hits
      end
    end
    collect(env, names, false)
    for k in pairs(KEYWORDS) do names[k] = true end
  end
  local out = {}
  for k in pairs(names) do
    if k:sub(1, #partial) == partial then out[#out + 1] = base .. k end
  end
  table.sort(out)
  return out
end

-- ---- ':' commands ---------------------------------------------------------------------

local COMMANDS_HELP = [[
REPL commands (type them at the prompt; everything else is Lua):
  :time [on|off]   print the wall time of each statement after it runs
  :depth N         how deep the pretty printer descends into tables (now %d)
  :items N         how many items of a table it shows (now %d)
  :load FILE       run a Lua file here; its top-level locals stay defined afterwards
  :help            this list; help() shows churnlab's documentation
  :quit            leave (as does Ctrl-D)
Keys: Tab completes names (cl.tensor.<Tab>, t:<Tab>), a model's parameters (cl.gbdt{<Tab>)
and file names inside quotes; Ctrl-C interrupts a running statement or clears the line;
Up/Down and Ctrl-R search the history.
A top-level `local` typed here (or in a file run with :load or `churnlab -i file`) stays
defined for the statements after it; `_` holds the value of the last expression.]]

-- ---- locals that outlive their statement ------------------------------------------------
-- Each statement typed at the prompt is a chunk of its own, so a top-level `local` would die
-- with it. M.globalize rewrites the chunk's top-level local declarations into assignments of
-- globals before it runs (as trepl does): `local y = 5` -> `y = 5`, `local a, b` ->
-- `a, b = nil`, `local function f` -> `function f`. Only depth 0 is touched (not locals inside
-- functions, loops or blocks); a declaration with a <close> attribute is left alone (its
-- to-be-closed meaning needs a local). Returns the new text, or nil when there is nothing to
-- change. The lexer below knows strings, long brackets and comments, so a 'local' in them is
-- never touched.
local OPEN = {["function"] = true, ["do"] = true, ["if"] = true, ["repeat"] = true}
local CLOSE = {["end"] = true, ["until"] = true}

local function tokens(src)
  local out, i, n = {}, 1, #src
  while i <= n do
    local c = src:sub(i, i)
    if c:match("%s") then
      i = i + 1
    elseif src:match("^%-%-", i) then -- comments (long or to the end of the line)
      local eq = src:match("^%-%-%[(=*)%[", i)
      if eq then
        local _, e = src:find("]" .. eq .. "]", i, true)
        i = (e or n) + 1
      else
        local e = src:find("\n", i, true)
        i = (e or n) + 1
      end
    elseif c == "[" and src:match("^%[=*%[", i) then -- long strings
      local eq = src:match("^%[(=*)%[", i)
      local _, e = src:find("]" .. eq .. "]", i, true)
      out[#out + 1] = {s = i, e = e or n, t = "str"}
      i = (e or n) + 1
    elseif c == '"' or c == "'" then
      local j = i + 1
      while j <= n do
        local d = src:sub(j, j)
        if d == "\\" then j = j + 2
        elseif d == c or d == "\n" then break
        else j = j + 1 end
      end
      out[#out + 1] = {s = i, e = j, t = "str"}
      i = j + 1
    elseif c:match("[%a_]") then
      local e = select(2, src:find("^[%w_]*", i + 1))
      out[#out + 1] = {s = i, e = e, t = "name", v = src:sub(i, e)}
      i = e + 1
    elseif c:match("%d") or (c == "." and src:match("^%.%d", i)) then
      local e = select(2, src:find("^[%w_%.]*", i)) -- exponents' signs: [eEpP][+-]
      while src:match("^[eEpP][+-]", e) do e = select(2, src:find("^[%w_%.]*", e + 2)) end
      out[#out + 1] = {s = i, e = e, t = "num"}
      i = e + 1
    else
      out[#out + 1] = {s = i, e = i, t = "op", v = c}
      i = i + 1
    end
  end
  return out
end

-- globalize(src) -> src' | nil: src with its top-level locals turned into globals (local
-- y = 5 -> y = 5), so a statement typed at the prompt keeps them; nil when nothing changes.
-- Internal: used by the REPL, :load and churnlab -i.
function M.globalize(src)
  local tk = tokens(src)
  local depth, edits = 0, {}
  local k = 1
  while k <= #tk do
    local t = tk[k]
    local v = t.t == "name" and t.v or t.t == "op" and t.v or nil
    if depth == 0 and v == "local" then
      local nx = tk[k + 1]
      if nx and nx.v == "function" then
        edits[#edits + 1] = {t.s, nx.s - 1, ""} -- drop 'local '
      elseif nx and nx.t == "name" then
        -- name [<attrib>] {, name [<attrib>]}
        local j, ok, last, attribs = k + 1, true, nil, {}
        while true do
          local nm = tk[j]
          if not nm or nm.t ~= "name" then ok = false break end
          last = nm
          j = j + 1
          if tk[j] and tk[j].v == "<" then
            local a, close = tk[j + 1], tk[j + 2]
            if not a or a.v == "close" or not close or close.v ~= ">" then ok = false break end
            attribs[#attribs + 1] = {tk[j].s, close.e}
            last = close
            j = j + 3
          end
          if tk[j] and tk[j].v == "," then j = j + 1 else break end
        end
        if ok then
          edits[#edits + 1] = {t.s, tk[k + 1].s - 1, ""}
          for _, a in ipairs(attribs) do edits[#edits + 1] = {a[1], a[2], ""} end
          if not (tk[j] and tk[j].v == "=" and not (tk[j + 1] and tk[j + 1].v == "=")) then
            edits[#edits + 1] = {last.e + 1, last.e, " = nil"}
          end
          k = j - 1
        end
      end
    elseif v and OPEN[v] then
      depth = depth + 1
    elseif v and CLOSE[v] then
      depth = depth - 1
    elseif v == "(" or v == "{" or v == "[" then
      depth = depth + 1
    elseif v == ")" or v == "}" or v == "]" then
      depth = depth - 1
    end
    k = k + 1
  end
  if #edits == 0 then return nil end
  table.sort(edits, function(a, b) return a[1] > b[1] end)
  for _, e in ipairs(edits) do src = src:sub(1, e[1] - 1) .. e[3] .. src:sub(e[2] + 1) end
  return src
end

-- The chunk of a script file with its top-level locals kept as globals (M.globalize), for
-- `churnlab -i script.lua` and `:load`. Returns the function, or nil and a message naming the
-- file (like loadfile).
function M.loadfile(path)
  local f, err = io.open(path, "rb")
  if not f then return nil, "cannot open " .. tostring(err) end
  local src = f:read("a")
  f:close()
  if src:sub(1, 1) == "#" then src = src:gsub("^[^\n]*", "", 1) end -- a '#!' line, as loadfile
  local chunk = "@" .. path
  local fn, lerr = load(src, chunk, "t")
  if not fn then return nil, lerr end
  local g = M.globalize(src)
  if g then
    local gfn = load(g, chunk, "t")
    if gfn then return gfn end
  end
  return fn
end

-- Runs a ':' command line. Returns "quit" to leave, true when done, false after an error
-- (reported on stderr; a piped session then exits non-zero).
function M.command(line)
  local name, rest = line:match("^:(%a+)%s*(.-)%s*$")
  if not name then
    io.stderr:write("unknown REPL command '", line, "' (try :help)\n")
    return false
  end
  if name == "time" then
    if rest == "on" or rest == "" and not M.options.timing then M.options.timing = true
    elseif rest == "off" or rest == "" then M.options.timing = false
    else
      io.stderr:write(":time takes on or off, not '", rest, "'\n")
      return false
    end
    print("timing " .. (M.options.timing and "on" or "off"))
  elseif name == "depth" or name == "items" then
    local n = tonumber(rest)
    if not n or n < 1 or n ~= math.floor(n) then
      io.stderr:write(":", name, " takes a positive integer (now ", M.options[name], ")\n")
      return false
    end
    M.options[name] = math.tointeger(n)
  elseif name == "help" or name == "h" then
    print(string.format(COMMANDS_HELP, M.options.depth, M.options.items))
  elseif name == "load" or name == "l" then
    if rest == "" then
      io.stderr:write(":load takes a file name\n")
      return false
    end
    local fn, err = M.loadfile(rest)
    if not fn then
      io.stderr:write(err, "\n")
      return false
    end
    local ok, rerr = xpcall(fn, debug.traceback)
    if not ok then
      io.stderr:write(tostring(rerr), "\n")
      return false
    end
  elseif name == "quit" or name == "q" or name == "exit" then
    return "quit"
  else
    io.stderr:write("unknown REPL command ':", name, "' (try :help)\n")
    return false
  end
  return true
end

-- Pre-binds the REPL globals: cl (the umbrella module) and help. Existing globals of those
-- names are kept.
function M.bind(env)
  env = env or _G
  if rawget(env, "cl") == nil then env.cl = require "churnlab" end
  if rawget(env, "help") == nil then env.help = require("churnlab.help").help end
end

return M
