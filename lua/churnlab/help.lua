-- churnlab.help: help() for the REPL and scripts.
--
--   help()                 overview: the modules, the shortcuts, where to start
--   help(cl.tensor)        a module: its functions, one line each
--   help(cl.tensor.zeros)  a function: its documentation
--   help(cl.gbdt)          a model constructor: its documentation and parameter table
--   help(model)            a model object: its kind, parameter table and methods
--   help("gbdt")           by name: a model kind, "tensor.zeros", "cl.read_csv" or "zeros"
--
-- The text comes from the registry the bindings fill (lcl_setdoc: docs keyed by function
-- value or metatable name; lcl_register_params: one parameter table per model kind), read
-- through require("churnlab.core").docs(). help.text(x) returns the text help(x) prints.
-- The module table is callable: cl.help(x) is help(x).
local M = {}

-- One line per module for the overview, used when the binding registered no doc for its
-- module table (lcl_setdoc on the table wins).
M.blurbs = {
  core = "version, threads, memory use, loading any model file",
  tensor = "float32 1-D/2-D tensors: creation, views, elementwise math, reductions, mm",
  frame = "columnar data frames: read_csv, select, filter, group, join",
  prep = "preprocessing pipelines: frame -> model-ready tensors",
  metrics = "AUC, log-loss, accuracy, calibration, lift",
  linear = "logistic regression",
  mlp = "multi-layer perceptrons",
  trees = "decision trees, random forests, gradient-boosted trees",
  synth = "synthetic subscription and viewing data",
  rec = "recommenders: interactions, collaborative filtering, content",
  calibrate = "probability calibration (Platt, isotonic)",
  cluster = "clustering and customer segments",
  survival = "survival analysis: time to churn",
  plot = "plots through gnuplot (png, svg, pdf, or ASCII in the terminal)",
  report = "self-contained HTML reports",
  repl = "the REPL's pretty printer (repl.pretty) and completion",
  help = "this help",
}

local function sources(src)
  if src then return src.docs or {}, src.params or {}, src.root end
  local docs, params = require("churnlab.core").docs()
  return docs, params, nil
end

local function root_of(root)
  if root then return root end
  local ok, cl = pcall(require, "churnlab")
  return ok and cl or {}
end

local function sorted_keys(t)
  local ks = {}
  for k in pairs(t) do if type(k) == "string" then ks[#ks + 1] = k end end
  table.sort(ks)
  return ks
end

-- Word-wraps text to width, each line starting with indent.
local function wrap(text, width, indent)
  indent = indent or ""
  local out = {}
  for para in (text .. "\n"):gmatch("(.-)\n") do
    local line = indent
    for word in para:gmatch("%S+") do
      if #line > #indent and #line + 1 + #word > width then
        out[#out + 1] = line
        line = indent .. word
      elseif #line > #indent then
        line = line .. " " .. word
      else
        line = line .. word
      end
    end
    out[#out + 1] = line
  end
  return table.concat(out, "\n")
end
M.wrap = wrap

-- The first line of a doc for listings: its signature ("zeros(r[, c]) -> tensor") when it
-- starts with one, else its first sentence; cut to `room` characters.
local function summary(doc, room)
  local sig = doc:match("^([%w_.:]+%b()[^:]-):%s")
  local s = sig
  if not s then -- the first sentence: a period before a space, not part of "..."
    for pos in doc:gmatch("()%.%s") do
      if doc:sub(pos - 1, pos - 1) ~= "." then
        s = doc:sub(1, pos)
        break
      end
    end
  end
  s = s or doc
  s = s:gsub("%s+", " ")
  if #s > room then s = s:sub(1, room - 3) .. "..." end
  return s
end
M.summary = summary

-- Where a value lives in the umbrella: "cl.tensor.zeros" (shortcuts first: "cl.gbdt").
local function find_name(root, v)
  for _, k in ipairs(sorted_keys(root)) do
    if rawequal(root[k], v) then return "cl." .. k end
  end
  for _, k in ipairs(sorted_keys(root)) do
    local mod = root[k]
    if type(mod) == "table" then
      for _, f in ipairs(sorted_keys(mod)) do
        if rawequal(mod[f], v) then return "cl." .. k .. "." .. f end
      end
    end
  end
  -- a method: look through the churnlab metatables in the registry ("churnlab.Frame:select"):
  -- their __index or __methods tables, or the metatable itself when __index is a function
  -- (frames). One C function may serve several classes (gbdt, forest and tree share fit):
  -- every class is named, so the heading never claims one of them alone.
  local reg = debug.getregistry()
  local names = {}
  for _, tname in ipairs(sorted_keys(reg)) do
    local mt = reg[tname]
    if type(tname) == "string" and tname:match("^churnlab%.") and type(mt) == "table" then
      local idx = rawget(mt, "__index")
      local tables = {idx, rawget(mt, "__methods"), type(idx) == "function" and mt or nil}
      for i = 1, 3 do
        local methods = tables[i]
        if type(methods) == "table" then
          for _, k in ipairs(sorted_keys(methods)) do
            if type(k) == "string" and not k:match("^__") and rawequal(methods[k], v) then
              names[#names + 1] = tname .. ":" .. k
              break
            end
          end
        end
      end
    end
  end
  return names[1] and table.concat(names, ", ") or nil
end

-- Lua's own functions: where the manual describes them.
local function stdlib_name(v)
  for _, lib in ipairs({"_G", "string", "table", "math", "io", "os", "coroutine", "utf8",
                        "debug", "package"}) do
    local t = lib == "_G" and _G or _G[lib]
    if type(t) == "table" then
      for _, k in ipairs(sorted_keys(t)) do
        if rawequal(t[k], v) then return lib == "_G" and k or lib .. "." .. k end
      end
    end
  end
  return nil
end

local function fmt_num(x)
  if x == math.huge then return "inf" end
  if x == -math.huge then return "-inf" end
  if x == math.floor(x) and math.abs(x) < 1e9 then return string.format("%d", x) end
  return string.format("%.6g", x)
end

-- The parameter table of a model kind as aligned text, docs wrapped to width (80).
function M.params_text(kind, defs, width)
  local rows = {{"name", "type", "default", "range", "doc"}}
  for _, d in ipairs(defs) do
    local range
    if d.choices then range = d.choices
    elseif d.type == "boolean" then range = "true|false"
    elseif d.min then
      range = fmt_num(d.min) .. " .. " .. fmt_num(d.max)
      if d.type == "list" then range = "{" .. range .. ", ...}" end
    else range = "any" end
    local def = d.default
    if type(def) == "number" then def = fmt_num(def) else def = tostring(def) end
    if d.type == "list" then def = "{...}" end
    rows[#rows + 1] = {d.name, d.type, def, range, d.doc or ""}
  end
  local w = {0, 0, 0, 0}
  for _, r in ipairs(rows) do
    for i = 1, 4 do w[i] = math.max(w[i], #r[i]) end
  end
  local out = {kind .. " parameters (" .. kind .. "{name = value, ...}):"}
  local doc_col = 2 + w[1] + 2 + w[2] + 2 + w[3] + 2 + w[4] + 2
  width = width or 80
  local below = width - doc_col < 30 -- too narrow: each doc on its own lines, under its row
  for i, r in ipairs(rows) do
    local doc = r[5]
    if below then
      if i == 1 then doc = "" elseif doc ~= "" then doc = "\n" .. wrap(doc, width, "      ") end
      out[#out + 1] = (string.format("  %-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] ..
                                     "s  %s", r[1], r[2], r[3], r[4]):gsub("%s+$", "")) .. doc
    else
      if #doc > width - doc_col then -- hanging indent
        doc = wrap(doc, width - doc_col):gsub("\n", "\n" .. string.rep(" ", doc_col))
      end
      out[#out + 1] = string.format("  %-" .. w[1] .. "s  %-" .. w[2] .. "s  %-" .. w[3] ..
                                    "s  %-" .. w[4] .. "s  %s", r[1], r[2], r[3], r[4], doc)
                        :gsub("%s+$", "")
    end
  end
  return table.concat(out, "\n")
end

-- The text of a Lua chunk's source ("@path"): the file, else the embedded copy of a churnlab
-- module (an installed binary has no source tree).
local source_cache = setmetatable({}, {__mode = "k"}) -- per help() call; see M.text

local function source_text(source)
  if source_cache[source] ~= nil then return source_cache[source] or nil end
  local text = nil
  if source:sub(1, 1) == "@" then
    local ok, t = pcall(function()
      local path = source:sub(2)
      local f = io.open(path, "r")
      if f then
        local r = f:read("a")
        f:close()
        return r
      end
      local get = debug.getregistry()["churnlab.embedded_source"]
      local rel = path:match("(lua/churnlab/.*)$")
      if type(get) == "function" and rel then return get(rel) end
      return nil
    end)
    if ok and type(t) == "string" then text = t end
  end
  source_cache[source] = text or false
  return text
end

-- The first paragraph of the header comment of the file that defines a Lua module's
-- functions ("-- churnlab.value: what customers are worth ..."), or nil.
function M.module_header(mod)
  if type(mod) ~= "table" then return nil end
  for _, k in ipairs(sorted_keys(mod)) do
    local f = rawget(mod, k)
    if type(f) == "function" then
      local info = debug.getinfo(f, "S")
      if info.what == "Lua" then
        local ok, text = pcall(source_text, info.source)
        if not ok or type(text) ~= "string" then return nil end
        local para = {}
        for line in (text .. "\n"):gmatch("(.-)\r?\n") do
          local c = line:match("^%-%-%s?(.*)$")
          if not c or c:match("^%s*$") then break end
          para[#para + 1] = c
        end
        local h = table.concat(para, " "):gsub("^churnlab[%w_.]*:%s*", "")
        return h ~= "" and h or nil
      end
    end
  end
  return nil
end

local function overview(docs, root, width)
  local out = {"churnlab " .. tostring(root.version or "") ..
               ": customer-churn analytics in Lua.", "", "Modules (help(cl.<name>) for each):"}
  local mods = {}
  for _, k in ipairs(sorted_keys(root)) do
    if type(root[k]) == "table" or (type(root[k]) == "userdata") then mods[#mods + 1] = k end
  end
  local w = 0
  for _, k in ipairs(mods) do w = math.max(w, #k) end
  for _, k in ipairs(mods) do
    local blurb = docs[root[k]] or M.module_header(root[k]) or M.blurbs[k]
    if blurb then blurb = blurb:gsub("^churnlab%.[%w_]+:%s*", "") end
    if not blurb then
      local n = 0
      for _, v in pairs(root[k]) do if type(v) == "function" then n = n + 1 end end
      blurb = n .. " functions"
    end
    out[#out + 1] = string.format("  cl.%-" .. w .. "s  %s", k, summary(blurb, width - w - 7))
  end
  local shortcuts = {}
  for _, k in ipairs(sorted_keys(root)) do
    if type(root[k]) == "function" then shortcuts[#shortcuts + 1] = "cl." .. k end
  end
  if #shortcuts > 0 then
    out[#out + 1] = ""
    out[#out + 1] = wrap("Shortcuts: " .. table.concat(shortcuts, ", "), width)
  end
  out[#out + 1] = ""
  out[#out + 1] = wrap("help(f) documents a function, help(cl.gbdt) or help(model) lists a " ..
                       "model's parameters, help(\"gbdt\") looks a name up. In the REPL: Tab " ..
                       "completes names (cl.tensor.<Tab>, t:<Tab>), :help lists REPL commands.",
                       width)
  return table.concat(out, "\n")
end

local function module_text(docs, name, mod, width)
  local out = {}
  local head = docs[mod] or M.module_header(mod) or M.blurbs[(name or ""):match("[%w_]+$") or ""]
  out[1] = (name or "module") .. (head and (": " .. head) or "")
  if #out[1] > width then out[1] = wrap(out[1], width) end
  local fns = {}
  for _, k in ipairs(sorted_keys(mod)) do
    if type(mod[k]) == "function" then fns[#fns + 1] = k end
  end
  local w = 0
  for _, k in ipairs(fns) do w = math.max(w, #k) end
  for _, k in ipairs(fns) do
    local doc = docs[mod[k]] or M.comment_doc(mod[k])
    out[#out + 1] = string.format("  %-" .. w .. "s  %s", k,
                                  doc and summary(doc, math.max(20, width - w - 4)) or "")
                      :gsub("%s+$", "")
  end
  local others = {}
  for _, k in ipairs(sorted_keys(mod)) do
    if type(mod[k]) ~= "function" then
      others[#others + 1] = k .. " = " .. require("churnlab.repl").pretty(mod[k], {depth = 1,
                                                                                  items = 4})
    end
  end
  if #others > 0 then out[#out + 1] = wrap("values: " .. table.concat(others, ", "), width, "  ") end
  return table.concat(out, "\n")
end

-- The kind of a model object or constructor: metatable __kind, else the __name suffix
-- ("churnlab.GBDT" -> "gbdt"), else the constructor's name.
local function kind_of_object(mt, params)
  if type(mt.__kind) == "string" and params[mt.__kind] then return mt.__kind end
  local n = type(mt.__name) == "string" and mt.__name:match("([%w_]+)$")
  if n and params[n:lower()] then return n:lower() end
  return nil
end

-- The comment block right above a Lua function's definition, joined into one paragraph
-- (the convention of churnlab's Lua modules: "-- Quantile p of a sorted list ...").
function M.comment_doc(f)
  local info = debug.getinfo(f, "S")
  if info.what ~= "Lua" or info.linedefined <= 1 then return nil end
  local ok, text = pcall(source_text, info.source)
  if not ok or type(text) ~= "string" then return nil end
  local lines = {}
  for line in (text .. "\n"):gmatch("(.-)\r?\n") do
    lines[#lines + 1] = line
    if #lines >= info.linedefined then break end
  end
  local doc = {}
  for i = info.linedefined - 1, 1, -1 do
    local c = (lines[i] or ""):match("^%s*%-%-%s?(.*)$")
    if not c or c:match("^%-%-") or c:match("^%[") then break end -- code, a "-- ----" rule, --[[
    table.insert(doc, 1, c)
  end
  local s = table.concat(doc, " "):gsub("^%s+", ""):gsub("%s+$", "")
  return s ~= "" and s or nil
end

-- Documents a value for help() (Lua modules; C bindings use lcl_setdoc): a function, a
-- module table, or a metatable name ("churnlab.Plan").
function M.setdoc(v, text)
  local docs = require("churnlab.core").docs()
  docs[v] = text
  return v
end

local function function_text(docs, params, root, f, width, name)
  name = name or find_name(root, f)
  local doc = docs[f] or M.comment_doc(f)
  local out = {}
  local info = debug.getinfo(f, "S")
  local where = info.what ~= "C" and string.format("a Lua function defined at %s:%d",
                                                 info.short_src, info.linedefined)
  if doc then
    local head = name or where or "a C function"
    if #head > width then head = wrap(head, width) end -- a method several classes share
    out[1] = head .. "\n" .. wrap(doc, width, "  ")
  elseif name then
    out[1] = name .. ": no documentation yet"
  else
    local std = stdlib_name(f)
    if std then
      out[1] = std .. ": a Lua standard function; see " ..
               "https://www.lua.org/manual/5.4/manual.html#pdf-" .. std
    else
      out[1] = where or "a C function with no documentation"
    end
  end
  local kind = name and name:match("([%w_]+)$")
  if kind and params[kind] then out[#out + 1] = M.params_text(kind, params[kind], width) end
  return table.concat(out, "\n\n")
end

local function object_text(docs, params, root, v, mt, width)
  local tname = type(mt.__name) == "string" and mt.__name or type(v)
  local out = {tname}
  local doc = docs[tname] or docs[mt]
  if doc then out[1] = tname .. "\n" .. wrap(doc, width, "  ") end
  local kind = kind_of_object(mt, params)
  if kind then out[#out + 1] = M.params_text(kind, params[kind], width) end
  local methods = {}
  local idx = mt.__index
  if type(idx) ~= "table" and type(rawget(mt, "__methods")) == "table" then
    idx = rawget(mt, "__methods") -- methods behind an __index function (frames)
  end
  if type(idx) == "table" then
    for _, k in ipairs(sorted_keys(idx)) do
      if type(idx[k]) == "function" then methods[#methods + 1] = k end
    end
  else
    for _, k in ipairs(sorted_keys(mt)) do
      if type(mt[k]) == "function" and not k:match("^__") then methods[#methods + 1] = k end
    end
  end
  local any_doc = false
  for _, k in ipairs(methods) do
    if docs[type(idx) == "table" and idx[k] or mt[k]] then any_doc = true end
  end
  if #methods > 0 and not any_doc then
    out[#out + 1] = "methods (obj:name(...)):\n" .. wrap(table.concat(methods, " "), width, "  ")
  elseif #methods > 0 then
    local lines = {"methods (obj:name(...)):"}
    local w = 0
    for _, k in ipairs(methods) do w = math.max(w, #k) end
    for _, k in ipairs(methods) do
      local f = type(idx) == "table" and idx[k] or mt[k]
      local d = docs[f]
      lines[#lines + 1] = string.format("  %-" .. w .. "s  %s", k,
                                        d and summary(d, math.max(20, width - w - 4)) or "")
                            :gsub("%s+$", "")
    end
    out[#out + 1] = table.concat(lines, "\n")
  end
  return table.concat(out, "\n\n")
end

-- Looks up a name: a model kind, a path ("tensor.zeros", "cl.read_csv"), a function name.
local function by_name(docs, params, root, s, width)
  local path = s:gsub("^cl%.", "")
  local v = root
  for part in path:gmatch("[^.]+") do
    if type(v) ~= "table" then v = nil break end
    v = v[part]
  end
  if v ~= nil and v ~= root then return M.text(v, nil, {docs = docs, params = params, root = root}, width) end
  if params[s] then return M.params_text(s, params[s], width) end
  local hits = {}
  for _, m in ipairs(sorted_keys(root)) do
    if type(root[m]) == "table" and type(root[m][s]) == "function" then
      hits[#hits + 1] = "cl." .. m .. "." .. s
    end
  end
  if #hits == 1 then
    local m = hits[1]:match("^cl%.([%w_]+)")
    return function_text(docs, params, root, root[m][s], width, hits[1])
  elseif #hits > 1 then
    return "'" .. s .. "' is in several modules: " .. table.concat(hits, ", ")
  end
  return "no help for '" .. s .. "': not a churnlab module, function or model kind " ..
         "(help() lists the modules)"
end

-- The text help(...) prints. n is select("#", ...) of the call (help() vs help(nil)); src
-- (tests) replaces the registry: {docs =, params =, root =}.
function M.text(v, n, src, width)
  for k in pairs(source_cache) do source_cache[k] = nil end -- files may have changed
  width = width or require("churnlab.repl").width or 80
  local docs, params, root = sources(src)
  root = root_of(root)
  n = n or 1
  if n == 0 then return overview(docs, root, width) end
  local tv = type(v)
  if v == nil then
    return "help(nil): the value is nil; is the name spelled right? (help() lists the modules)"
  elseif tv == "string" then
    return by_name(docs, params, root, v, width)
  elseif tv == "function" then
    return function_text(docs, params, root, v, width)
  end
  local mt = debug.getmetatable(v)
  if tv == "table" and (mt == nil or mt.__name == nil) then
    if rawequal(v, root) then return overview(docs, root, width) end
    local name = find_name(root, v)
    if name or docs[v] then return module_text(docs, name, v, width) end
    local count = 0
    for _ in pairs(v) do count = count + 1 end
    return string.format("a plain table with %d entries (print it to see them)", count)
  end
  if type(mt) == "table" then return object_text(docs, params, root, v, mt, width) end
  return string.format("a %s: %s", tv, tostring(v))
end

-- help(x): prints M.text(x) on stdout.
function M.help(...)
  io.stdout:write(M.text((...), select("#", ...)), "\n")
end

return setmetatable(M, {__call = function(_, ...) return M.help(...) end})
