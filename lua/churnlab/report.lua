-- churnlab.report: self-contained HTML (and Markdown) reports.
--
--   local report = require "churnlab.report"
--   local r = report.new{title = "Churn models", out = "reports/models.html"}
--   r:h1("Data"):text("**7043** customers; see [the data](https://example.org).")
--   r:table(frame_or_rows, {digits = 3, max_rows = 20})  -- header = {...} names the columns
--   r:figure(plot.roc{...}, {caption = "ROC on the test set"})
--   r:metrics{{"AUC", 0.842}, {"Churn rate", "26.5%"}}
--   r:code("churnlab notebooks/03_models.lua")
--   r:save()                         -- reports/models.html (+ reports/models_files/)
--   report.index("reports/")         -- reports/index.html linking every report
--
-- One HTML file with inline CSS and figures inlined as SVG: no JavaScript, no network
-- requests, readable on a laptop and a phone. The PNG, SVG and gnuplot script of every
-- figure are kept in <name>_files/ beside it. Output is deterministic: the same calls give
-- byte-identical files (the date appears only when asked: date = "2024-05-01" or true).
-- Every text is HTML-escaped; links only to http(s), mailto or relative targets. Folders are
-- created as needed; a file that cannot be written raises an error naming it (io.lines'
-- contract), as does a figure gnuplot cannot draw (its note stays in the report).
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local core = require "churnlab.core"
local error = core.raise
local plot = require "churnlab.plot"
local check = require("churnlab.options").check

local M = {}
local Report = {} -- methods
local ReportMT = {__index = Report, __name = "churnlab.Report"}

local fmt, concat = string.format, table.concat

-- ---- escaping and small helpers ----------------------------------------------------------

local ESC = {["&"] = "&amp;", ["<"] = "&lt;", [">"] = "&gt;", ['"'] = "&quot;", ["'"] = "&#39;"}
local function esc(s) return (tostring(s):gsub("[&<>\"']", ESC)) end
M.escape = esc

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function finite(v) return type(v) == "number" and v == v and v ~= math.huge and v ~= -math.huge end

local function version()
  local ok, core = pcall(require, "churnlab.core")
  return ok and type(core) == "table" and core.version or nil
end

local read = require("churnlab.util.files").read_all

local function mkdir_p(dir)
  if dir ~= "" and dir ~= "." then core.mkdirs(dir) end
end

-- write_atomic's nil, msg as an error naming the file
local function write_file(path, body)
  local ok, err = plot._private.write_atomic(path, body)
  if not ok then error(fmt("cannot write '%s': %s", path, (tostring(err):gsub("^[^:]*: ", "")))) end
end

-- ---- markdown-lite -----------------------------------------------------------------------

local function safe_url(u)
  local scheme = u:match("^(%a[%w+.-]*):")
  if scheme == nil then return true end
  scheme = scheme:lower()
  return scheme == "http" or scheme == "https" or scheme == "mailto"
end

local function emphasis(s)
  s = s:gsub("%*%*(.-)%*%*", "<strong>%1</strong>")
  s = s:gsub("%*([^%*%s][^%*]-)%*", "<em>%1</em>")
  s = s:gsub("%f[%w_]_([^_]+)_%f[^%w_]", "<em>%1</em>")
  return s
end

-- Inline markup on already-escaped text (no code spans inside). Links are set aside first so
-- emphasis never reaches into a URL.
local function inline_plain(s)
  local links = {}
  s = s:gsub("%[([^%]]+)%]%(([^%s%)]+)%)", function(text, url)
    local a = emphasis(text)
    if safe_url((url:gsub("&amp;", "&"))) then a = fmt('<a href="%s">%s</a>', url, a) end
    links[#links + 1] = a
    return "\0" .. #links .. "\0"
  end)
  s = emphasis(s)
  return (s:gsub("\0(%d+)\0", function(k) return links[tonumber(k)] end))
end

-- Inline markup: `code`, **bold**, *italics* / _italics_, [text](url). Escapes HTML.
local function inline(s)
  local out, pos = {}, 1
  while true do
    local a, b, code = s:find("`([^`]+)`", pos)
    if not a then break end
    out[#out + 1] = inline_plain(esc(s:sub(pos, a - 1)))
    out[#out + 1] = "<code>" .. esc(code) .. "</code>"
    pos = b + 1
  end
  out[#out + 1] = inline_plain(esc(s:sub(pos)))
  return concat(out)
end
M.inline = inline

local function split_lines(s)
  local lines = {}
  for l in (tostring(s):gsub("\r\n?", "\n") .. "\n"):gmatch("(.-)\n") do lines[#lines + 1] = l end
  return lines
end

-- Markdown-lite to HTML: paragraphs (blank-line separated), "- "/"* " and "1. " lists,
-- "### " headings, ``` fenced code, and the inline markup above.
local function markdown(src)
  local lines = split_lines(src)
  local html, i = {}, 1
  local function flush_para(buf)
    if #buf > 0 then html[#html + 1] = "<p>" .. inline(concat(buf, " ")) .. "</p>" end
  end
  while i <= #lines do
    local l = lines[i]
    if l:match("^%s*$") then
      i = i + 1
    elseif l:match("^```") then
      local code = {}
      i = i + 1
      while i <= #lines and not lines[i]:match("^```") do code[#code + 1] = lines[i]; i = i + 1 end
      i = i + 1
      html[#html + 1] = "<pre><code>" .. esc(concat(code, "\n")) .. "</code></pre>"
    elseif l:match("^###%s") then
      html[#html + 1] = "<h3>" .. inline(l:gsub("^###%s+", "")) .. "</h3>"
      i = i + 1
    elseif l:match("^%s*[-*]%s") or l:match("^%s*%d+[.)]%s") then
      local ordered = l:match("^%s*%d+[.)]%s") ~= nil
      local tag = ordered and "ol" or "ul"
      local items = {}
      while i <= #lines and not lines[i]:match("^%s*$") do
        local li = lines[i]
        local item = ordered and li:match("^%s*%d+[.)]%s+(.*)$") or (not ordered and li:match("^%s*[-*]%s+(.*)$"))
        if item then items[#items + 1] = item
        elseif #items > 0 then items[#items] = items[#items] .. " " .. li:gsub("^%s+", "")
        else break end
        i = i + 1
      end
      local parts = {"<" .. tag .. ">"}
      for _, it in ipairs(items) do parts[#parts + 1] = "<li>" .. inline(it) .. "</li>" end
      parts[#parts + 1] = "</" .. tag .. ">"
      html[#html + 1] = concat(parts, "\n")
    else
      local buf = {}
      while i <= #lines and not lines[i]:match("^%s*$") and not lines[i]:match("^```")
        and not lines[i]:match("^%s*[-*]%s") and not lines[i]:match("^%s*%d+[.)]%s")
        and not lines[i]:match("^###%s") do
        buf[#buf + 1] = lines[i]:gsub("^%s+", "")
        i = i + 1
      end
      flush_para(buf)
    end
  end
  return concat(html, "\n")
end
M.markdown = markdown

-- ---- values and tables -------------------------------------------------------------------

local function fmtnum(v, digits)
  if not finite(v) then
    if v ~= v then return "NaN" end
    return v > 0 and "Inf" or "-Inf"
  end
  if math.type(v) == "integer" or (v == math.floor(v) and math.abs(v) < 1e15) then
    return fmt("%d", v)
  end
  local a = math.abs(v)
  if a ~= 0 and (a < 10 ^ -digits or a >= 1e12) then return fmt("%." .. digits .. "g", v) end
  return fmt("%." .. digits .. "f", v)
end

local function cell_text(v, digits)
  if v == nil then return "" end
  if type(v) == "number" then return fmtnum(v, digits) end
  if type(v) == "boolean" then return tostring(v) end
  return tostring(v)
end

local function totable(v)
  local t = type(v)
  if t == "table" and getmetatable(v) == nil then return v end
  local ok, f = pcall(function() return v.totable end)
  if ok and type(f) == "function" then return f(v) end
  if t == "table" then return v end
  return nil
end

-- A frame-like object: column names and columns with :totable(). Several spellings are
-- accepted (f:names() / f.names, f:col(n) / f:column(n) / f[n]).
local function frame_columns(f)
  local names
  local ok, n = pcall(function() return f.names end)
  if ok and type(n) == "function" then names = n(f)
  elseif ok and type(n) == "table" then names = n end
  if not names then
    local ok2, c = pcall(function() return f.columns end)
    if ok2 and type(c) == "function" then names = c(f) end
  end
  if type(names) ~= "table" then return nil end
  local cols = {}
  for j, name in ipairs(names) do
    local col
    for _, getter in ipairs{"col", "column"} do
      local okg, g = pcall(function() return f[getter] end)
      if okg and type(g) == "function" then col = g(f, name) break end
    end
    if col == nil then
      local okc, c = pcall(function() return f[name] end)
      if okc then col = c end
    end
    local list = col ~= nil and totable(col)
    if type(list) ~= "table" then
      error(fmt("report:table: cannot read column '%s' of %s", tostring(name), tostring(f)), 4)
    end
    cols[j] = list
  end
  return names, cols
end

-- Normalizes table input to {head = {...}, rows = {{...}, ...}}. Accepts a frame, a list of
-- rows (arrays, or records with opts.columns or sorted keys), or a map of columns.
local function table_data(data, opts)
  local head, rows = {}, {}
  local t = type(data)
  local isframe = (t == "userdata") or (t == "table" and getmetatable(data) ~= nil)
  if isframe then
    local names, cols = frame_columns(data)
    if not names then
      -- a tensor (or anything with :totable()): rows of numbers, columns numbered or named
      local rows_t = totable(data)
      if type(rows_t) ~= "table" or getmetatable(rows_t) then
        error("report:table: expected a frame (with names and columns), a tensor or a Lua "
          .. "table, got " .. tostring(data), 3)
      end
      for i, r in ipairs(rows_t) do rows[i] = type(r) == "table" and r or {r} end
      local p = 0
      for _, r in ipairs(rows) do p = math.max(p, #r) end
      for j = 1, p do head[j] = opts.columns and opts.columns[j] and tostring(opts.columns[j]) or tostring(j) end
      return head, rows
    end
    local n = 0
    for _, c in ipairs(cols) do n = math.max(n, #c) end
    for j, name in ipairs(names) do head[j] = tostring(name) end
    for i = 1, n do
      local r = {}
      for j = 1, #names do r[j] = cols[j][i] end
      rows[i] = r
    end
    return head, rows
  end
  if t ~= "table" then error("report:table: expected a frame or a table, got " .. t, 3) end
  if #data > 0 then
    if type(data[1]) ~= "table" then
      error("report:table: rows must be tables, row 1 is " .. type(data[1]), 3)
    end
    if #data[1] > 0 or next(data[1]) == nil then -- arrays
      local first = 1
      -- names given (columns or header = {...}): every row is data; header = false: no
      -- names at all; otherwise the first row names the columns
      if opts.columns then head = opts.columns
      elseif type(opts.header) == "table" then head = opts.header
      elseif opts.header ~= false then head, first = data[1], 2 end
      for i = first, #data do rows[#rows + 1] = data[i] end
    else -- records
      head = opts.columns
      if not head then
        local seen = {}
        head = {}
        for _, r in ipairs(data) do
          for k in pairs(r) do
            if not seen[k] then seen[k] = true; head[#head + 1] = k end
          end
        end
        table.sort(head, function(a, b) return tostring(a) < tostring(b) end)
      end
      for _, r in ipairs(data) do
        local row = {}
        for j, k in ipairs(head) do row[j] = r[k] end
        rows[#rows + 1] = row
      end
    end
  else -- map of columns
    head = opts.columns
    if not head then
      head = {}
      for k in pairs(data) do head[#head + 1] = k end
      table.sort(head, function(a, b) return tostring(a) < tostring(b) end)
    end
    local cols, n = {}, 0
    for j, k in ipairs(head) do
      local c = data[k]
      if c == nil then error(fmt("report:table: no column '%s'", tostring(k)), 3) end
      cols[j] = totable(c)
      if type(cols[j]) ~= "table" then
        error(fmt("report:table: column '%s' is not a list", tostring(k)), 3)
      end
      n = math.max(n, #cols[j])
    end
    for i = 1, n do
      local r = {}
      for j = 1, #head do r[j] = cols[j][i] end
      rows[i] = r
    end
  end
  local h = {}
  for j, k in ipairs(head) do h[j] = tostring(k) end
  return h, rows
end

-- ---- the report object -------------------------------------------------------------------

--- report.new{title=, out= [, date=, subtitle=, author=]}
function M.new(opts)
  if type(opts) ~= "table" then error("report.new: expected a table {title=, out=}", 2) end
  check(opts, 1, "new", {"title", "out", "date", "subtitle", "author", "echo"})
  if type(opts.title) ~= "string" or opts.title == "" then
    error("report.new: title= (a string) is required", 2)
  end
  local out = opts.out
  if out == nil then
    out = "reports/" .. (opts.title:lower():gsub("[^%w]+", "_"):gsub("^_+", ""):gsub("_+$", "")) .. ".html"
  end
  if type(out) ~= "string" or not (out:match("%.html?$") or out:match("%.md$")) then
    error("report.new: out= must be a file name ending in .html or .md", 2)
  end
  local date = opts.date
  if date == true then date = os.date("!%Y-%m-%d") end
  if date ~= nil and type(date) ~= "string" then
    error("report.new: date= must be a string or true", 2)
  end
  if opts.echo ~= nil and type(opts.echo) ~= "boolean" then
    error("report.new: echo= must be a boolean", 2)
  end
  local base = out:gsub("%.[%w]+$", "")
  return setmetatable({title = opts.title, out = out, date = date, subtitle = opts.subtitle,
    author = opts.author, echo = opts.echo, blocks = {}, nfig = 0, ntab = 0,
    assets = base .. "_files", assets_rel = base:match("([^/]*)$") .. "_files"}, ReportMT)
end

local function push(r, b)
  r.blocks[#r.blocks + 1] = b
  return r
end

local function text_arg(s, what)
  if s == nil then error(what .. ": expected a string", 3) end
  return tostring(s)
end

-- With echo = true a heading remembers where the script called it, so the section can show
-- the code that produced it (the script's lines from this heading to the next, or to save()).
local function heading(self, kind, s)
  local b = {kind = kind, text = text_arg(s, "report:" .. kind)}
  if self.echo then
    local info = debug.getinfo(3, "Sl")
    if info and info.source:sub(1, 1) == "@" then b.src, b.line = info.source:sub(2), info.currentline end
  end
  return push(self, b)
end
function Report:h1(s) return (heading(self, "h1", s)) end -- not a tail call: heading reads its caller
function Report:h2(s) return (heading(self, "h2", s)) end

local source_lines = {} -- path -> lines of a script, read once
local function lines_of(path)
  if source_lines[path] == nil then
    local f = io.open(path, "rb")
    local t = false
    if f then
      t = {}
      for line in (f:read("a") .. "\n"):gmatch("(.-)\r?\n") do t[#t + 1] = line end
      f:close()
    end
    source_lines[path] = t
  end
  return source_lines[path] or nil
end

-- The code of the section headed by block i: its script lines up to the next heading from
-- the same script (or the line before save(), or the end of the file); nil without echo.
local function section_code(self, i)
  local b = self.blocks[i]
  if not b.src then return nil end
  local lines = lines_of(b.src)
  if not lines then return nil end
  local stop = #lines
  if self.saved_at and self.saved_at.src == b.src and self.saved_at.line > b.line then
    stop = self.saved_at.line - 1
  end
  for k = i + 1, #self.blocks do
    local n = self.blocks[k]
    if n.src == b.src and n.line and n.line > b.line then stop = math.min(stop, n.line - 1) break end
  end
  local out = {}
  for k = b.line, stop do out[#out + 1] = lines[k] end
  while #out > 0 and out[#out]:match("^%s*$") do out[#out] = nil end
  return #out > 0 and concat(out, "\n") or nil
end
function Report:text(s) return push(self, {kind = "text", text = text_arg(s, "report:text")}) end
function Report:code(s) return push(self, {kind = "code", text = text_arg(s, "report:code")}) end

--- r:table(frame_or_table, {digits = 3, max_rows = 50, columns =, header =, caption =})
function Report:table(data, opts)
  opts = check(opts, 3, "table", {"digits", "max_rows", "caption", "columns", "header"})
  local header = opts.header
  if header ~= nil and type(header) ~= "boolean" then
    if type(header) ~= "table" or getmetatable(header) then
      error("report:table: header must be true, false or a list of column names, got "
        .. type(header), 2)
    end
    for j, name in ipairs(header) do
      if type(name) ~= "string" and type(name) ~= "number" then
        error(fmt("report:table: header[%d] must be a string, got %s", j, type(name)), 2)
      end
    end
  end
  local head, rows = table_data(data, opts)
  -- header = {...} names the shown columns whatever the input (frames, tensors, records)
  if type(header) == "table" then
    for j, k in ipairs(header) do head[j] = tostring(k) end
  end
  local digits = opts.digits or 3
  if math.type(digits) ~= "integer" or digits < 0 or digits > 17 then
    error("report:table: digits must be an integer in [0, 17]", 2)
  end
  local max_rows = opts.max_rows or 50
  local ncol = #head
  for _, r in ipairs(rows) do ncol = math.max(ncol, #r) end
  for j = #head + 1, ncol do head[j] = "" end
  -- a column is numeric when all its non-empty cells are numbers
  local numeric = {}
  for j = 1, ncol do
    local any, all = false, true
    for _, r in ipairs(rows) do
      local v = r[j]
      if v ~= nil and v ~= "" then
        if type(v) == "number" then any = true else all = false end
      end
    end
    numeric[j] = any and all
  end
  local shown = {}
  for i = 1, math.min(#rows, max_rows) do
    local r = {}
    for j = 1, ncol do r[j] = cell_text(rows[i][j], digits) end
    shown[i] = r
  end
  self.ntab = self.ntab + 1
  return push(self, {kind = "table", head = head, rows = shown, numeric = numeric,
    total = #rows, caption = opts.caption})
end

--- r:figure(fig, {caption =, name =}): draws fig to SVG (inlined) and PNG in the report's
--- folder, with its gnuplot script. Returns the report; raises when gnuplot failed or the
--- files cannot be written (the report then shows a note in the figure's place).
function Report:figure(fig, opts)
  opts = check(opts, 3, "figure", {"name", "caption"})
  if not plot.is_figure(fig) then
    error("report:figure: expected a churnlab.Figure, got " .. type(fig), 2)
  end
  self.nfig = self.nfig + 1
  local name = opts.name or fmt("fig%02d", self.nfig)
  if not name:match("^[%w_.-]+$") then
    error("report:figure: name must be letters, digits, '_', '.' or '-'", 2)
  end
  local block = {kind = "figure", caption = opts.caption, n = self.nfig, name = name}
  push(self, block)
  -- a little smaller than plot's default, so text stays legible when a phone shrinks it
  local saved_size = fig.opts.size
  if saved_size == nil then fig.opts.size = {720, 450} end
  local ok, err = pcall(function()
    mkdir_p(self.assets)
    local svgpath = self.assets .. "/" .. name .. ".svg"
    fig:save(svgpath)
    block.svg = read(svgpath)
    fig:save(self.assets .. "/" .. name .. ".png")
  end)
  fig.opts.size = saved_size
  if not ok then
    -- the note in the report says what failed; the error (already at the caller's line)
    -- goes on unchanged
    block.error = tostring(err):gsub("^[^\n]-:%d+: ", ""):gsub("^cannot write '[^']*': ", "")
    error(tostring(err), 0)
  end
  block.png = self.assets_rel .. "/" .. name .. ".png"
  return self
end

--- r:metrics{{"AUC", 0.84}, {"Churn rate", "26.5%", note = "test set"}} or {AUC = 0.84}
function Report:metrics(items, opts)
  opts = check(opts, 3, "metrics", {"digits"})
  if type(items) ~= "table" then error("report:metrics: expected a table", 2) end
  local list = {}
  if #items > 0 then
    for i, it in ipairs(items) do
      if type(it) ~= "table" or it[1] == nil then
        error(fmt("report:metrics: item %d must be {label, value}", i), 2)
      end
      list[#list + 1] = {label = tostring(it[1]), value = it[2], note = it.note or it[3]}
    end
  else
    local keys = {}
    for k in pairs(items) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    for _, k in ipairs(keys) do list[#list + 1] = {label = k, value = items[k]} end
  end
  local digits = opts.digits or 3
  for _, it in ipairs(list) do it.text = cell_text(it.value, digits) end
  return push(self, {kind = "metrics", items = list})
end

-- ---- HTML --------------------------------------------------------------------------------

local CSS = [[
:root{--fg:#1d2330;--muted:#5f6b7a;--line:#dde2e8;--bg:#ffffff;--soft:#f5f7fa;--accent:#1f77b4}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%;text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif}
main{max-width:60rem;margin:0 auto;padding:1.5rem 1rem 3rem}
details.code{margin:.25rem 0 1rem}details.code summary{cursor:pointer;color:var(--muted);font-size:.85rem}
header{border-bottom:2px solid var(--line);margin-bottom:1.5rem;padding-bottom:.5rem}
header h1{font-size:2rem;line-height:1.2;margin:.2rem 0}
.sub,.date{color:var(--muted);margin:.2rem 0}
h2{font-size:1.5rem;margin:2rem 0 .6rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}
h3{font-size:1.2rem;margin:1.5rem 0 .5rem}
h4{font-size:1.05rem;margin:1.2rem 0 .4rem}
a{color:var(--accent)}
code{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.9em;background:var(--soft);padding:.1em .3em;border-radius:3px}
pre{background:var(--soft);border:1px solid var(--line);border-radius:6px;padding:.8rem 1rem;overflow-x:auto}
pre code{background:none;padding:0}
.table-wrap{overflow-x:auto;margin:1rem 0}
table{border-collapse:collapse;font-size:.92rem;min-width:50%}
caption{caption-side:top;text-align:left;color:var(--muted);padding:.3rem 0}
th,td{padding:.35rem .7rem;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{background:var(--soft);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
tbody tr:nth-child(even){background:#fafbfc}
.more{color:var(--muted);font-size:.85rem;margin:.3rem 0 0}
figure{margin:1.5rem 0}
figure svg{display:block;width:100%;height:auto;max-width:100%}
figcaption{color:var(--muted);font-size:.92rem;margin-top:.4rem}
.missing{border:1px dashed #c0392b;color:#c0392b;padding:1rem;border-radius:6px;white-space:pre-wrap}
.metrics{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.metric{flex:1 1 9rem;background:var(--soft);border:1px solid var(--line);border-radius:8px;padding:.7rem 1rem}
.metric .label{color:var(--muted);font-size:.85rem}
.metric .value{font-size:1.6rem;font-weight:650;font-variant-numeric:tabular-nums;line-height:1.3}
.metric .note{color:var(--muted);font-size:.8rem}
ul.reports{list-style:none;padding:0}
ul.reports li{padding:.6rem 0;border-bottom:1px solid var(--line)}
footer{margin-top:3rem;color:var(--muted);font-size:.8rem;border-top:1px solid var(--line);padding-top:.6rem}
@media (max-width:600px){body{font-size:15px}main{padding:1rem .7rem 2rem}header h1{font-size:1.5rem}h2{font-size:1.25rem}.metric .value{font-size:1.3rem}th,td{padding:.3rem .45rem}}
]]

-- Makes an SVG from gnuplot fit for inlining: no XML prolog, no fixed size, ids prefixed so
-- several figures in one page do not collide, a title for screen readers.
local function inline_svg(svg, prefix, label)
  svg = svg:gsub("^%s*<%?xml.-%?>%s*", ""):gsub("<!DOCTYPE.->%s*", "")
  svg = svg:gsub("<svg(.-)>", function(attrs)
    attrs = attrs:gsub("%s+width=\"[^\"]*\"", ""):gsub("%s+height=\"[^\"]*\"", "")
    attrs = attrs:gsub("%s+", " "):gsub("%s+$", "")
    return "<svg" .. attrs .. ' role="img" aria-label="' .. esc(label) .. '">'
  end, 1)
  svg = svg:gsub("<title>Gnuplot</title>", function() return "<title>" .. esc(label) .. "</title>" end, 1)
  svg = svg:gsub("(%sid=)(['\"])", "%1%2" .. prefix)
  svg = svg:gsub("(href=)(['\"])#", "%1%2#" .. prefix)
  svg = svg:gsub("url%(#", "url(#" .. prefix)
  return (svg:gsub("%s+$", ""))
end

local function slug(s, used)
  local base = s:lower():gsub("[^%w]+", "-"):gsub("^%-+", ""):gsub("%-+$", "")
  if base == "" then base = "section" end
  local id, k = base, 1
  while used[id] do k = k + 1; id = base .. "-" .. k end
  used[id] = true
  return id
end

local function html(self)
  local out = {}
  local function w(s) out[#out + 1] = s end
  w("<!DOCTYPE html>")
  w('<html lang="en">')
  w("<head>")
  w('<meta charset="utf-8">')
  w('<meta name="viewport" content="width=device-width, initial-scale=1">')
  w(fmt('<meta name="generator" content="churnlab%s">', version() and (" " .. esc(version())) or ""))
  w(fmt('<meta name="churnlab-title" content="%s">', esc(self.title)))
  if self.date then w(fmt('<meta name="churnlab-date" content="%s">', esc(self.date))) end
  w("<title>" .. esc(self.title) .. "</title>")
  w("<style>\n" .. CSS .. "</style>")
  w("</head>")
  w("<body>")
  w("<main>")
  w("<header>")
  w("<h1>" .. esc(self.title) .. "</h1>")
  if self.subtitle then w('<p class="sub">' .. inline(self.subtitle) .. "</p>") end
  local meta = {}
  if self.author then meta[#meta + 1] = esc(self.author) end
  if self.date then meta[#meta + 1] = '<time datetime="' .. esc(self.date) .. '">' .. esc(self.date) .. "</time>" end
  if #meta > 0 then w('<p class="date">' .. concat(meta, " · ") .. "</p>") end
  w("</header>")
  local used = {}
  for bi, b in ipairs(self.blocks) do
    local code = (b.kind == "h1" or b.kind == "h2") and section_code(self, bi)
    if b.kind == "h1" then
      w(fmt('<h2 id="%s">%s</h2>', slug(b.text, used), inline(b.text)))
    elseif b.kind == "h2" then
      w(fmt('<h3 id="%s">%s</h3>', slug(b.text, used), inline(b.text)))
    end
    if code then -- folded, as Rmarkdown's code_folding: the result first, the code on a click
      w('<details class="code"><summary>Code</summary><pre><code>' .. esc(code) .. "</code></pre></details>")
    end
    if b.kind == "h1" or b.kind == "h2" then -- done above
    elseif b.kind == "text" then
      w(markdown(b.text))
    elseif b.kind == "code" then
      w("<pre><code>" .. esc(b.text) .. "</code></pre>")
    elseif b.kind == "table" then
      w('<div class="table-wrap">')
      w("<table>")
      if b.caption then w("<caption>" .. inline(b.caption) .. "</caption>") end
      local h = {}
      for j, name in ipairs(b.head) do
        h[j] = (b.numeric[j] and '<th class="num">' or "<th>") .. esc(name) .. "</th>"
      end
      w("<thead><tr>" .. concat(h) .. "</tr></thead>")
      w("<tbody>")
      for _, r in ipairs(b.rows) do
        local c = {}
        for j = 1, #b.head do
          c[j] = (b.numeric[j] and '<td class="num">' or "<td>") .. esc(r[j] or "") .. "</td>"
        end
        w("<tr>" .. concat(c) .. "</tr>")
      end
      w("</tbody>")
      w("</table>")
      w("</div>")
      if b.total > #b.rows then
        w(fmt('<p class="more">Showing %d of %d rows.</p>', #b.rows, b.total))
      end
    elseif b.kind == "figure" then
      w(fmt('<figure id="%s">', esc(b.name)))
      local label = b.caption or fmt("Figure %d", b.n)
      if b.svg then
        w(inline_svg(b.svg, b.name .. "-", label))
      else
        w('<div class="missing">Figure not drawn: ' .. esc(b.error or "unknown error") .. "</div>")
      end
      local cap = {}
      if b.caption then cap[#cap + 1] = inline(b.caption) end
      if b.png then
        cap[#cap + 1] = fmt('(<a href="%s">PNG</a>)', esc(b.png))
      end
      if #cap > 0 then w("<figcaption>" .. concat(cap, " ") .. "</figcaption>") end
      w("</figure>")
    elseif b.kind == "metrics" then
      w('<div class="metrics">')
      for _, it in ipairs(b.items) do
        w('<div class="metric"><div class="label">' .. esc(it.label) .. '</div><div class="value">'
          .. esc(it.text) .. "</div>" .. (it.note and ('<div class="note">' .. esc(it.note)
          .. "</div>") or "") .. "</div>")
      end
      w("</div>")
    end
  end
  w(fmt("<footer>Made with churnlab%s.</footer>", version() and (" " .. esc(version())) or ""))
  w("</main>")
  w("</body>")
  w("</html>")
  return concat(out, "\n") .. "\n"
end

-- ---- Markdown ----------------------------------------------------------------------------

local function md_cell(s) return (tostring(s):gsub("\\", "\\\\"):gsub("|", "\\|"):gsub("\n", " ")) end

local function fence(text)
  local longest = 2
  for run in text:gmatch("`+") do longest = math.max(longest, #run) end
  return ("`"):rep(longest + 1)
end

local function markdown_out(self)
  local out = {"# " .. self.title:gsub("\n", " "), ""}
  local function w(s) out[#out + 1] = s end
  if self.subtitle then w(self.subtitle); w("") end
  if self.date then w("_" .. self.date .. "_"); w("") end
  for bi, b in ipairs(self.blocks) do
    local code = (b.kind == "h1" or b.kind == "h2") and section_code(self, bi)
    if code then
      local f = fence(code)
      w(b.kind == "h1" and "## " .. b.text:gsub("\n", " ") or "### " .. b.text:gsub("\n", " "))
      w("")
      w("<details><summary>Code</summary>")
      w("")
      w(f .. "lua"); w(code); w(f)
      w("")
      w("</details>")
    elseif b.kind == "h1" then w("## " .. b.text:gsub("\n", " "))
    elseif b.kind == "h2" then w("### " .. b.text:gsub("\n", " "))
    elseif b.kind == "text" then w((b.text:gsub("%s+$", "")))
    elseif b.kind == "code" then
      local f = fence(b.text)
      w(f); w((b.text:gsub("%s+$", ""))); w(f)
    elseif b.kind == "table" then
      if b.caption then w("**" .. md_cell(b.caption) .. "**"); w("") end
      local h, sep = {}, {}
      for j, name in ipairs(b.head) do
        h[j] = md_cell(name)
        sep[j] = b.numeric[j] and "---:" or "---"
      end
      w("| " .. concat(h, " | ") .. " |")
      w("| " .. concat(sep, " | ") .. " |")
      for _, r in ipairs(b.rows) do
        local c = {}
        for j = 1, #b.head do c[j] = md_cell(r[j] or "") end
        w("| " .. concat(c, " | ") .. " |")
      end
      if b.total > #b.rows then w(""); w(fmt("_Showing %d of %d rows._", #b.rows, b.total)) end
    elseif b.kind == "figure" then
      local cap = b.caption or fmt("Figure %d", b.n)
      if b.png then
        w(fmt("![%s](%s)", md_cell(cap):gsub("[%[%]]", "\\%0"), b.png))
        if b.caption then w(""); w("_" .. md_cell(b.caption) .. "_") end
      else
        w("> Figure not drawn: " .. md_cell(b.error or "unknown error"))
      end
    elseif b.kind == "metrics" then
      local parts = {}
      for _, it in ipairs(b.items) do
        parts[#parts + 1] = "**" .. md_cell(it.label) .. "**: " .. md_cell(it.text)
          .. (it.note and (" (" .. md_cell(it.note) .. ")") or "")
      end
      w(concat(parts, " · "))
    end
    w("")
  end
  return concat(out, "\n")
end

--- r:save([{format = "html" | "md"}]) -> path; raises naming the file when it cannot be
--- written. The format defaults to the out file's extension; saving .md of an .html report
--- writes the same name with .md.
function Report:save(opts)
  opts = check(opts, 2, "save", {"format"})
  if self.echo and not self.saved_at then -- the last section's code ends at the first save()
    local info = debug.getinfo(2, "Sl")
    if info and info.source:sub(1, 1) == "@" then
      self.saved_at = {src = info.source:sub(2), line = info.currentline}
    end
  end
  local format = opts.format or (self.out:match("%.md$") and "md" or "html")
  local path = self.out
  if format == "md" then path = path:gsub("%.html?$", ".md")
  elseif format == "html" then path = path:gsub("%.md$", ".html")
  else error("report:save: format must be 'html' or 'md', got " .. tostring(format), 2) end
  local dir = path:match("^(.*)/[^/]*$")
  if dir then mkdir_p(dir) end
  write_file(path, format == "md" and markdown_out(self) or html(self))
  return path
end

--- The HTML text of the report (what save() writes).
function Report:html() return html(self) end
--- The Markdown text of the report.
function Report:markdown() return markdown_out(self) end

function ReportMT.__tostring(self)
  return fmt("churnlab.Report '%s' (%d blocks) -> %s", self.title, #self.blocks, self.out)
end

-- ---- index -------------------------------------------------------------------------------

local ENT = {amp = "&", lt = "<", gt = ">", quot = '"', ["#39"] = "'"}
local function unesc(s) return (s:gsub("&(#?%w+);", function(e) return ENT[e] or ("&" .. e .. ";") end)) end

--- report.index(dir [, {title =}]) -> path, n: writes dir/index.html linking every
--- churnlab report (HTML files with a churnlab-title meta tag) in dir, sorted by file name.
function M.index(dir, opts)
  opts = check(opts, 2, "index", {"title"})
  if type(dir) ~= "string" or dir == "" then error("report.index: expected a folder name", 2) end
  dir = dir:gsub("/+$", "")
  if dir == "" then dir = "/" end
  local p = io.popen("ls -1A " .. shq(dir) .. " 2>/dev/null")
  local files = {}
  if p then
    for l in p:lines() do
      if l:match("%.html?$") and l ~= "index.html" then files[#files + 1] = l end
    end
    p:close()
  end
  table.sort(files)
  local entries = {}
  for _, f in ipairs(files) do
    local fh = io.open(dir .. "/" .. f, "rb")
    if fh then
      local head = fh:read(8192) or ""
      fh:close()
      local title = head:match('<meta name="churnlab%-title" content="([^"]*)">')
      if title then
        entries[#entries + 1] = {file = f, title = unesc(title),
          date = head:match('<meta name="churnlab%-date" content="([^"]*)">')}
      end
    end
  end
  local title = opts.title or "Reports"
  local out = {}
  local function w(s) out[#out + 1] = s end
  w("<!DOCTYPE html>")
  w('<html lang="en">')
  w("<head>")
  w('<meta charset="utf-8">')
  w('<meta name="viewport" content="width=device-width, initial-scale=1">')
  w("<title>" .. esc(title) .. "</title>")
  w("<style>\n" .. CSS .. "</style>")
  w("</head>")
  w("<body>")
  w("<main>")
  w("<header><h1>" .. esc(title) .. "</h1></header>")
  if #entries == 0 then
    w("<p>No reports yet.</p>")
  else
    w('<ul class="reports">')
    for _, e in ipairs(entries) do
      local href = e.file:gsub("[^%w%-._~/]", function(c) return fmt("%%%02X", c:byte()) end)
      w(fmt('<li><a href="%s">%s</a>%s</li>', esc(href), esc(e.title),
        e.date and (' <span class="date">· <time datetime="' .. esc(unesc(e.date)) .. '">'
          .. esc(unesc(e.date)) .. "</time></span>") or ""))
    end
    w("</ul>")
  end
  w(fmt("<footer>%d report%s. Made with churnlab%s.</footer>", #entries,
    #entries == 1 and "" or "s", version() and (" " .. esc(version())) or ""))
  w("</main>")
  w("</body>")
  w("</html>")
  mkdir_p(dir)
  local path = dir .. "/index.html"
  write_file(path, concat(out, "\n") .. "\n")
  return path, #entries
end

M.Report = Report

-- ---- help() texts ------------------------------------------------------------------------

local okc, core = pcall(require, "churnlab.core")
if okc and type(core) == "table" and type(core.docs) == "function" then
  local docs = core.docs()
  docs[M] = "self-contained HTML reports (and Markdown) with inlined SVG figures"
  docs[M.new] = "new{title=, out='reports/x.html' (or .md), subtitle=, author=, date=" ..
    "'YYYY-MM-DD' or true} -> report. Deterministic: no date unless asked."
  docs[M.index] = "index(dir [, {title=}]) -> path, n: writes dir/index.html linking every " ..
    "churnlab report in dir with its title and date; creates dir if missing, raises naming " ..
    "index.html when it cannot be written."
  docs[M.markdown] = "markdown(text) -> html: the markdown-lite of report:text."
  docs[M.inline] = "inline(text) -> html: inline markup only (bold, italics, code, links)."
  docs[M.escape] = "escape(text) -> html-escaped text."
  docs["churnlab.Report"] = "a report: r:h1/h2/text/table/figure/metrics/code, then r:save()."
  docs[Report.h1] = "r:h1(text) -> r: a section heading."
  docs[Report.h2] = "r:h2(text) -> r: a subsection heading."
  docs[Report.text] = "r:text(markdown) -> r: paragraphs, **bold**, *italics*, `code`, " ..
    "- lists, 1. lists, [links](https://...), ``` code blocks; HTML is escaped."
  docs[Report.table] = "r:table(frame or rows or {col = list}, {digits=3, max_rows=50, " ..
    "columns=, header=, caption=}) -> r: numbers right-aligned."
  docs[Report.figure] = "r:figure(fig, {caption=, name=}) -> r: inlines the figure " ..
    "as SVG; PNG, SVG and .gp kept in <report>_files/. When gnuplot cannot draw it, the " ..
    "report keeps a note and the call raises; to carry on without it: pcall(r.figure, r, fig)."
  docs[Report.metrics] = "r:metrics{{label, value [, note]}, ...} or {label = value} -> r: a " ..
    "row of headline figures."
  docs[Report.code] = "r:code(text) -> r: a preformatted block."
  docs[Report.save] = "r:save([{format='html'|'md'}]) -> path: writes atomically, creating " ..
    "folders as needed; raises naming the file when it cannot (pcall(r.save, r) to branch)."
  docs[Report.html] = "r:html() -> the HTML text."
  docs[Report.markdown] = "r:markdown() -> the Markdown text."
end

return M
