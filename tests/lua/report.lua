-- Tests of churnlab.report: HTML structure, escaping, tables, inlined figures, metrics,
-- Markdown output, the index page, determinism and atomic writes.
local T = dofile("tests/lua/lib/check.lua")
local report = require "churnlab.report"
local plot = require "churnlab.plot"

local read = require("churnlab.util.files").read_all
local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local function count(s, pat)
  local n = 0
  for _ in s:gmatch(pat) do n = n + 1 end
  return n
end

local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir -p " .. shq(tmpdir)))
local have_gnuplot = plot._private.find_gnuplot() ~= nil

T.test("new validates its options", function()
  T.raises(function() report.new{} end, "title= (a string) is required")
  T.raises(function() report.new{title = "x", colour = 1} end, "bad argument #1 to 'new' (unknown option 'colour'; known: title, out")
  T.raises(function() report.new{title = "x", out = "a.txt"} end, "ending in .html or .md")
  T.eq(report.new{title = "Churn models!"}.out, "reports/churn_models.html")
end)

T.test("markdown-lite: paragraphs, emphasis, code, lists, links; HTML escaped", function()
  local h = report.markdown("One *two* **three** `a<b>` _it_ snake_case\ncontinued\n\n"
    .. "- item [link](https://example.org/a_b_c?x=1&y=2)\n- <script>\n\n1. first\n2. second\n\n"
    .. "[bad](javascript:alert) ok")
  T.ok(h:find("<p>One <em>two</em> <strong>three</strong> <code>a&lt;b&gt;</code> <em>it</em> "
    .. "snake_case continued</p>", 1, true), h)
  T.ok(h:find('<li>item <a href="https://example.org/a_b_c?x=1&amp;y=2">link</a></li>', 1, true), h)
  T.ok(h:find("<li>&lt;script&gt;</li>", 1, true), h)
  T.ok(h:find("<ol>\n<li>first</li>\n<li>second</li>\n</ol>", 1, true), h)
  T.ok(not h:find("javascript", 1, true), "unsafe link scheme dropped")
  T.ok(not h:find("<script", 1, true))
  T.eq(report.inline("a & b \"q\" 'r'"), "a &amp; b &quot;q&quot; &#39;r&#39;")
end)

local function build(out, opts)
  opts = opts or {}
  local r = report.new{title = "Churn <models> & \"friends\"", out = out, date = opts.date,
    subtitle = "A *test* report"}
  r:metrics{{"AUC", 0.84213, note = "test set"}, {"Customers", 7043}, {"Churn rate", "26.5%"}}
  r:h1("Data <raw>")
  r:text("Numbers come **first**.")
  r:table({{"name", "n", "rate"}, {"a<b", 10, 0.123456}, {"c", 2000, 0 / 0}, {"d", 3, 1.5}},
    {digits = 2, max_rows = 2, caption = "Counts"})
  r:table({x = {1, 2, 3}, label = {"p", "q", "r"}})
  r:code("print('<hello>')")
  if have_gnuplot and not opts.nofig then
    assert(r:figure(plot.roc{{y = {1, 0, 1, 0, 1}, score = {0.9, 0.3, 0.6, 0.65, 0.2}, name = "m"}},
      {caption = "ROC <test>"}))
    assert(r:figure(plot.line{y = {1, 2, 3}, name = "a"}, {caption = "Line"}))
  end
  return r
end

T.test("HTML: one self-contained page, escaped, with metadata for the index", function()
  local out = tmpdir .. "/r1.html"
  local r = build(out, {date = "2024-05-01"})
  T.eq(r:save(), out)
  local h = read(out)
  T.ok(h:match("^<!DOCTYPE html>\n<html lang=\"en\">"))
  T.ok(h:find('<meta name="viewport" content="width=device-width, initial-scale=1">', 1, true))
  T.ok(h:find('<meta name="churnlab-title" content="Churn &lt;models&gt; &amp; &quot;friends&quot;">', 1, true))
  T.ok(h:find('<meta name="churnlab-date" content="2024-05-01">', 1, true))
  T.ok(h:find("<h1>Churn &lt;models&gt; &amp; &quot;friends&quot;</h1>", 1, true))
  T.ok(h:find('<h2 id="data-raw">Data &lt;raw&gt;</h2>', 1, true))
  T.ok(h:find("<pre><code>print(&#39;&lt;hello&gt;&#39;)</code></pre>", 1, true))
  T.ok(h:find("<style>", 1, true))
  T.eq(count(h, "<script"), 0, "no JavaScript")
  T.eq(count(h, "<link"), 0, "no external stylesheets")
  T.ok(not h:find('src="http', 1, true), "no network requests")
  T.ok(h:find('<div class="value">0.842</div><div class="note">test set</div>', 1, true), "metrics")
  T.ok(h:find('<div class="value">7043</div>', 1, true))
end)

T.test("tables: numbers right-aligned and formatted, rows capped, maps of columns", function()
  local r = build(tmpdir .. "/t.html", {nofig = true})
  local h = r:html()
  T.ok(h:find('<thead><tr><th>name</th><th class="num">n</th><th class="num">rate</th></tr></thead>', 1, true), h)
  T.ok(h:find('<tr><td>a&lt;b</td><td class="num">10</td><td class="num">0.12</td></tr>', 1, true))
  T.ok(h:find('<tr><td>c</td><td class="num">2000</td><td class="num">NaN</td></tr>', 1, true))
  T.ok(not h:find("<td>d</td>", 1, true), "max_rows = 2")
  T.ok(h:find("Showing 2 of 3 rows.", 1, true))
  -- map of columns: sorted names
  T.ok(h:find('<th>label</th><th class="num">x</th>', 1, true))
  T.raises(function() r:table({{"a"}, {1}}, {digits = -1}) end, "digits must be an integer")
  T.raises(function() r:table(42) end, "expected a frame or a table")
end)

T.test("tables: header = {...} names the columns and every row stays data (issue 22)", function()
  local r = report.new{title = "h", out = tmpdir .. "/h.html"}
  r:table({{1, "one", 0.5}, {2, "two", 1.5}}, {header = {"i", "name", "x"}})
  local h = r:html()
  T.ok(h:find('<thead><tr><th class="num">i</th><th>name</th><th class="num">x</th></tr></thead>',
    1, true), h)
  T.ok(h:find('<tr><td class="num">1</td><td>one</td><td class="num">0.500</td></tr>', 1, true), h)
  T.ok(not h:find("<th>one</th>", 1, true), "the first row is not the header")
  -- header = false: no header row in the data, columns numbered by nothing
  r = report.new{title = "h", out = tmpdir .. "/h2.html"}
  r:table({{1, "one"}, {2, "two"}}, {header = false})
  T.ok(r:html():find('<tr><td class="num">1</td><td>one</td></tr>', 1, true))
  -- names a column map's columns too
  r = report.new{title = "h", out = tmpdir .. "/h3.html"}
  r:table({a = {1}, b = {2}}, {header = {"A", "B"}})
  T.ok(r:html():find('<th class="num">A</th><th class="num">B</th>', 1, true), r:html())
  T.raises(function() r:table({{1}}, {header = "i"}) end,
    "header must be true, false or a list of column names, got string")
  T.raises(function() r:table({{1}}, {header = {{}}}) end, "header[1] must be a string, got table")
end)

T.test("tables from frame-like objects (names + columns with :totable())", function()
  local Col = {__index = {totable = function(self) return self.v end}}
  local Frame = {__index = {
    names = function(self) return self.n end,
    col = function(self, name) return self.c[name] end}}
  local f = setmetatable({n = {"tenure", "Churn"},
    c = {tenure = setmetatable({v = {1, 34}}, Col), Churn = setmetatable({v = {"No", "Yes"}}, Col)}},
    Frame)
  local r = report.new{title = "f", out = tmpdir .. "/f.html"}
  r:table(f)
  local h = r:html()
  T.ok(h:find('<th class="num">tenure</th><th>Churn</th>', 1, true), h)
  T.ok(h:find('<tr><td class="num">34</td><td>Yes</td></tr>', 1, true))
  T.raises(function() r:table(setmetatable({}, {})) end, "expected a frame")
  local okt, tensor = pcall(require, "churnlab.tensor")
  if okt and type(tensor) == "table" and tensor.new then
    r:table(tensor.new({{1, 2.5}, {3, 4}}), {columns = {"a", "b"}, digits = 1})
    local h2 = r:html()
    T.ok(h2:find('<th class="num">a</th><th class="num">b</th>', 1, true), h2)
    T.ok(h2:find('<tr><td class="num">1</td><td class="num">2.5</td></tr>', 1, true), h2)
  end
end)

local okf, frame = pcall(require, "churnlab.frame")
if okf and type(frame) == "table" and frame.read_csv then
  T.test("tables from a churnlab.Frame read by read_csv", function()
    local csv = tmpdir .. "/small.csv"
    local f = assert(io.open(csv, "w"))
    f:write("id,tenure,Churn\nA-1,1,Yes\nB-2,34,No\nC<3,,No\n")
    f:close()
    local r = report.new{title = "frame", out = tmpdir .. "/frame.html"}
    r:table(frame.read_csv(csv), {max_rows = 2})
    local h = r:html()
    T.ok(h:find('<th>id</th><th class="num">tenure</th><th>Churn</th>', 1, true), h)
    T.ok(h:find('<tr><td>A-1</td><td class="num">1</td><td>Yes</td></tr>', 1, true), h)
    T.ok(h:find("Showing 2 of 3 rows.", 1, true))
  end)
else
  T.skip("tables from a churnlab.Frame", "frame module not built")
end

if have_gnuplot then
  T.test("figures: SVG inlined with prefixed ids; PNG, SVG and .gp kept beside", function()
    local out = tmpdir .. "/figs.html"
    local r = build(out)
    T.eq(r:save(), out)
    local h = read(out)
    T.eq(count(h, "<svg "), 2)
    T.ok(not h:find("<?xml", 1, true), "no XML prolog inside HTML")
    T.ok(h:find('id="fig01-gnuplot_canvas"', 1, true))
    T.ok(h:find('id="fig02-gnuplot_canvas"', 1, true))
    T.ok(not h:find("href='#gp", 1, true), "references prefixed too")
    T.ok(h:find('<title>ROC &lt;test&gt;</title>', 1, true), "caption as the SVG title")
    T.ok(h:find('<figcaption>ROC &lt;test&gt; (<a href="figs_files/fig01.png">PNG</a>)</figcaption>', 1, true))
    for _, f in ipairs{"fig01.png", "fig01.svg", "fig01.gp", "fig02.png"} do
      T.ok(read(tmpdir .. "/figs_files/" .. f), f)
    end
    T.eq(read(tmpdir .. "/figs_files/fig01.png"):sub(2, 4), "PNG")
  end)

  T.test("a figure gnuplot cannot draw raises at the caller's line and leaves a visible note", function()
    local r = report.new{title = "broken", out = tmpdir .. "/broken.html"}
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(r.figure, r, plot.line{y = {1, 2}, commands = "set bogus_thing"})
    T.eq(ok, false)
    T.ok(err:find("bogus_thing", 1, true), err)
    T.ok(err:find("^tests/lua/report.lua:" .. line .. ": cannot write '"), err)
    local h = r:html()
    T.ok(h:find('<div class="missing">Figure not drawn: gnuplot failed drawing', 1, true))
  end)
else
  T.skip("figures in reports", "gnuplot not installed (Debian package gnuplot-nox)")
end

T.test("deterministic: the same report twice is byte-identical; date only when asked", function()
  local out = tmpdir .. "/det.html"
  build(out):save()
  local a = read(out)
  build(out):save()
  T.eq(read(out), a)
  T.ok(not a:find("churnlab-date", 1, true))
  T.ok(not a:find("<time", 1, true))
  local left = io.popen("ls -1A " .. shq(tmpdir) .. " | grep -c tmp"):read("a")
  T.eq(tonumber(left), 0, "no temporary files left")
end)

T.test("Markdown output of the same report", function()
  local out = tmpdir .. "/md.html"
  local r = build(out, {date = "2024-05-01"})
  T.eq(r:save{format = "md"}, tmpdir .. "/md.md")
  local m = read(tmpdir .. "/md.md")
  T.ok(m:match("^# Churn <models> & \"friends\"\n"), m)
  T.ok(m:find("_2024-05-01_", 1, true))
  T.ok(m:find("| name | n | rate |\n| --- | ---: | ---: |\n| a<b | 10 | 0.12 |", 1, true), m)
  T.ok(m:find("**AUC**: 0.842 (test set) · **Customers**: 7043", 1, true))
  T.ok(m:find("```\nprint('<hello>')\n```", 1, true))
  if have_gnuplot then T.ok(m:find("![ROC <test>](md_files/fig01.png)", 1, true), m) end
  -- an .md out writes Markdown by default
  local r2 = report.new{title = "only md", out = tmpdir .. "/only.md"}
  r2:text("hi")
  T.eq(r2:save(), tmpdir .. "/only.md")
  T.eq(read(tmpdir .. "/only.md"), "# only md\n\nhi\n")
end)

T.test("index links every report with its title and date", function()
  local dir = tmpdir .. "/idx"
  local a = report.new{title = "B report", out = dir .. "/b.html", date = "2024-01-02"}
  a:text("x")
  a:save()
  local b = report.new{title = "A <report>", out = dir .. "/a.html"}
  b:save()
  local f = io.open(dir .. "/other.html", "w")
  f:write("<html>not ours</html>")
  f:close()
  local path, n = report.index(dir .. "/")
  T.eq(path, dir .. "/index.html")
  T.eq(n, 2)
  local h = read(path)
  local ia = h:find('<a href="a.html">A &lt;report&gt;</a>', 1, true)
  local ib = h:find('<a href="b.html">B report</a> <span class="date">· <time datetime="2024-01-02">2024-01-02</time></span>', 1, true)
  T.ok(ia and ib and ia < ib, h)
  T.ok(not h:find("other.html", 1, true))
  -- indexing again gives the same bytes (index.html itself is not listed)
  report.index(dir)
  T.eq(read(path), h)
end)

T.test("echo = true shows each section's code, folded, from its heading to the next", function()
  local r = report.new{title = "Echo", out = tmpdir .. "/echo.html", echo = true}
  r:h1("First section")
  local echo_marker_one = 1 + 1
  r:text("value " .. echo_marker_one)
  r:h1("Second section")
  local echo_marker_two = 3
  r:metrics{{"n", echo_marker_two}}
  local html = r:html()
  local first = html:match('First section</h2>%s*<details class="code"><summary>Code</summary><pre><code>(.-)</code>')
  T.ok(first and first:find("echo_marker_one = 1 + 1", 1, true), html)
  T.ok(first and not first:find("echo_marker_two", 1, true), "the first section stops at the second")
  local second = html:match('Second section</h2>%s*<details class="code">.-<code>(.-)</code>')
  T.ok(second and second:find("echo_marker_two = 3", 1, true), html)
  local plain = report.new{title = "Plain", out = tmpdir .. "/plain.html"}
  plain:h1("x")
  T.ok(not plain:html():find("<details", 1, true), "no code without echo")
  T.raises(function() report.new{title = "Bad", echo = "yes"} end, "echo= must be a boolean")
end)

os.execute("rm -rf " .. shq(tmpdir))
T.done()
