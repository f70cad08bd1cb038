-- Tests of churnlab.plot: every figure kind drawn to PNG, SVG and the dumb terminal; gnuplot
-- missing; gnuplot errors surfacing; hostile titles; statistics against scikit-learn/numpy
-- (tests/data/plot_ref.lua, made by scripts/ref/plot_ref.py) and brute force.
local T = dofile("tests/lua/lib/check.lua")
local plot = require "churnlab.plot"
local REF = dofile("tests/data/plot_ref.lua")

local read = require("churnlab.util.files").read_all

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir -p " .. shq(tmpdir)))
local function tmp(name) return tmpdir .. "/" .. name end

local function listdir(dir)
  local p = io.popen("ls -1A " .. shq(dir))
  local out = {}
  for l in p:lines() do out[#out + 1] = l end
  p:close()
  return out
end

local have_gnuplot = plot._private.find_gnuplot() ~= nil

-- deterministic data
local seed = 42
local function rnd()
  seed = (seed * 1103515245 + 12345) % 2147483648
  return seed / 2147483648
end
local y, s, x, s2 = {}, {}, {}, {}
for i = 1, 300 do
  y[i] = rnd() < 0.3 and 1 or 0
  s[i] = 0.35 * y[i] + rnd() * 0.65
  s2[i] = 0.15 * y[i] + rnd() * 0.85
  x[i] = i
end
local shap, feat = {}, {}
for i = 1, 120 do
  shap[i], feat[i] = {}, {}
  for j = 1, 4 do
    feat[i][j] = rnd() * j
    shap[i][j] = (feat[i][j] - j / 2) * 0.1 * j + (rnd() - 0.5) * 0.02
  end
end
local dur, ev = {}, {}
for i = 1, 150 do dur[i] = math.floor(rnd() * 72) + 1; ev[i] = rnd() < 0.4 and 1 or 0 end

local function every_kind()
  return {
    line = plot.line{{x = x, y = s, name = "a"}, {y = s2, name = "b"}, title = "line"},
    scatter = plot.scatter{{x = s, y = s2, name = "pts"}, xlabel = "s", ylabel = "s2"},
    hist = plot.hist{{values = s, name = "s"}, {values = s2, name = "s2"}, bins = 12, density = true},
    bar = plot.bar{{values = {3, 5, 2}, name = "2023"}, {values = {4, 1, 6}, name = "2024"},
      labels = {"DSL", "Fiber optic", "No"}},
    bar_stacked = plot.bar{{values = {3, 5, 2}, name = "stay"}, {values = {1, 4, 0.5}, name = "churn"},
      labels = {"a", "b", "c"}, stacked = true},
    box = plot.box{{values = s, name = "s"}, {values = s2, name = "s2"}},
    heatmap = plot.heatmap{matrix = {{1, 0.3, -0.5}, {0.3, 1, 0.1}, {-0.5, 0.1, 1}},
      xlabels = {"a", "b", "c"}, ylabels = {"a", "b", "c"}, title = "correlation"},
    roc = plot.roc{{y = y, score = s, name = "model"}, {y = y, score = s2, name = "weak"}},
    pr = plot.pr{{y = y, score = s, name = "model"}},
    calibration = plot.calibration{{y = y, score = s, name = "model"}},
    gains = plot.gains{{y = y, score = s, name = "model"}},
    lift = plot.lift{{y = y, score = s, name = "model"}},
    importance = plot.importance{names = {"tenure", "MonthlyCharges", "Contract"},
      values = {0.4, 0.2, 0.35}},
    shap = plot.shap{values = shap, features = feat, names = {"f1", "f2", "f3", "f4"}},
    shap_bar = plot.shap{values = shap, names = {"f1", "f2", "f3", "f4"}, style = "bar"},
    survival = plot.survival{{time = dur, event = ev, name = "all"}},
    history = plot.history({train = {0.7, 0.5, 0.45, 0.41}, valid = {0.72, 0.55, 0.52, 0.53}},
      {best = "min", ylabel = "log loss"}),
  }
end

local NKINDS = 0
for _ in pairs(every_kind()) do NKINDS = NKINDS + 1 end

T.test("every figure kind has a constructor and builds one plot command", function()
  T.eq(NKINDS, 17)
  for _, k in ipairs{"line", "scatter", "hist", "bar", "box", "heatmap", "roc", "pr",
    "calibration", "gains", "lift", "importance", "shap", "survival", "history"} do
    T.eq(type(plot[k]), "function", k)
  end
  for name, fig in pairs(every_kind()) do
    local sc = fig:script()
    local n = 0
    for _ in sc:gmatch("\nplot ") do n = n + 1 end
    T.eq(n, 1, name .. ": one plot command")
    T.ok(sc:find("$d1 << EOD", 1, true), name .. ": data inline")
  end
end)

if not have_gnuplot then
  T.skip("drawing tests", "gnuplot not installed (Debian package gnuplot-nox)")
else
  T.test("text plots: a faint grid, one glyph per series, a legend below saying which", function()
    local fig = plot.hist{{values = {1, 2, 2, 3, 3, 3, 4, 4, 5}, name = "stayed"},
                          {values = {2, 3, 3, 4, 4, 4, 5, 6}, name = "churned"}, title = "two"}
    local s = assert(fig:text{width = 80, height = 24})
    local g1, g2 = s:match("stayed ([^%s%w])[^%s%w]*%s*churned ([^%s%w])")
    T.ok(g1, "legend names both series with their glyphs:\n" .. s)
    T.ok(g1 ~= g2, "two series, two glyphs: " .. tostring(g1) .. " " .. tostring(g2))
    local body = s:gsub("[^\n]*stayed[^\n]*", "") -- the plot without its legend line
    T.ok(body:find(g1, 1, true) and body:find(g2, 1, true), "both glyphs are drawn:\n" .. s)
    T.ok(body:find("%.%.%.%."), "the grid is dotted:\n" .. s)
    -- the y axis of a histogram starts at zero
    T.ok(s:find("\n%s+0 %+%-"), "a zero baseline:\n" .. s)
  end)

  T.test("histogram counts start at zero; text grows with the figure", function()
    local fig = plot.hist{{values = {200, 900, 1400, 1300, 1200}}}
    T.ok(fig:script():find("set yrange [0:*]", 1, true), fig:script())
    local p = tmp("big.png")
    plot.hist{{values = {1, 2, 3}}, size = {1600, 1000}}:save(p)
    local gp = read(p:gsub("%.png$", ".gp"))
    T.ok(gp and gp:find("font 'Sans,20'", 1, true), gp)
    plot.hist{{values = {1, 2, 3}}}:save(p)
    gp = read(p:gsub("%.png$", ".gp"))
    T.ok(gp and gp:find("font 'Sans,10'", 1, true), gp)
  end)

  T.test("every kind renders to PNG and SVG, with its .gp script beside", function()
    for name, fig in pairs(every_kind()) do
      local png = tmp(name .. ".png")
      T.eq(fig:save(png), png, name)
      local data = read(png)
      T.ok(data and data:sub(1, 8) == "\137PNG\r\n\26\n", name .. ": PNG signature")
      T.ok(#data > 3000, name .. ": PNG size " .. #data)
      local svg = tmp(name .. ".svg")
      T.eq(fig:save(svg), svg, name)
      local sv = read(svg)
      T.ok(sv:match("^<%?xml[^>]*>%s*<svg[%s>]"), name .. ": SVG root element")
      T.ok(sv:find("</svg>%s*$"), name .. ": SVG complete")
      T.ok(#sv > 5000, name .. ": SVG size " .. #sv)
      local gp = read(tmp(name .. ".gp"))
      T.ok(gp and gp:find("set output '" .. name .. ".svg'", 1, true), name .. ": .gp script")
    end
    for _, f in ipairs(listdir(tmpdir)) do T.ok(not f:find("tmp"), "temporary left: " .. f) end
  end)

  T.test("every kind renders to the dumb terminal at the requested size", function()
    for name, fig in pairs(every_kind()) do
      local txt = T.ok(fig:text{width = 70, height = 20}, name)
      local lines, wmax = 0, 0
      for l in (txt:gsub("\n$", "") .. "\n"):gmatch("(.-)\n") do
        lines = lines + 1
        wmax = math.max(wmax, #l)
      end
      T.eq(lines, 20, name .. ": lines")
      T.eq(wmax, 70, name .. ": columns")
      T.ok(txt:find("[^%s]"), name .. ": not blank")
    end
  end)

  T.test("show prints the dumb drawing sized from COLUMNS/LINES", function()
    -- a child process so COLUMNS/LINES apply and stdout can be captured
    local exe = arg[-1]
    if not exe:find("^/") then exe = os.getenv("PWD") .. "/" .. exe end
    local script = tmp("show.lua")
    local f = assert(io.open(script, "w"))
    f:write('local plot = require "churnlab.plot"\n',
      'assert(plot.line{y = {1, 3, 2, 5}, name = "s"}:show())\n')
    f:close()
    local p = io.popen("env COLUMNS=50 LINES=15 " .. shq(exe) .. " " .. shq(script) .. " 2>&1")
    local out = p:read("a")
    p:close()
    local lines, wmax = 0, 0
    for l in out:gmatch("(.-)\n") do lines, wmax = lines + 1, math.max(wmax, #l) end
    T.eq(lines, 14, "LINES - 1 rows (room for the prompt)")
    T.eq(wmax, 50)
  end)

  T.test("pdf output and a redrawable .gp", function()
    local fig = plot.line{y = {1, 2, 4}, name = "x"}
    local pdf = tmp("p.pdf")
    T.eq(fig:save(pdf), pdf)
    T.eq(read(pdf):sub(1, 5), "%PDF-")
    os.remove(tmp("p.pdf"))
    -- the saved script redraws the figure by hand, from its folder
    T.ok(os.execute("cd " .. shq(tmpdir) .. " && gnuplot p.gp 2>/dev/null"))
    T.eq(read(pdf):sub(1, 5), "%PDF-", "redrawn by gnuplot p.gp")
  end)

  T.test("titles with quotes, backslashes, newlines, $ and backquotes are drawn literally", function()
    local marker = tmp("pwned")
    local title = "it's \"quoted\" \\ back\\slash $HOME @x `touch " .. marker .. "`\nsecond line"
    local fig = plot.line{y = {1, 2, 3}, name = "a 'b' \"c\"", title = title,
      xlabel = "x'\"$", ylabel = "y\\"}
    local svg = tmp("quotes.svg")
    T.eq(fig:save(svg), svg)
    local sv = read(svg)
    T.eq(read(marker), nil, "backquote command was not run")
    T.ok(sv:find("it's", 1, true), "apostrophe")
    T.ok(sv:find("\\ back\\slash $HOME @x `touch", 1, true), "backslashes, $, @, backquotes")
    T.ok(sv:find(">second line<", 1, true), "newline splits the title")
    T.ok(sv:find("quoted", 1, true))
    -- a path with a quote and a space
    local odd = tmp("it's a plot.png")
    T.eq(fig:save(odd), odd)
    T.eq(read(odd):sub(2, 4), "PNG")
  end)

  T.test("a gnuplot error raises with gnuplot's text, the figure and the file", function()
    local fig = plot.line{y = {1, 2}, title = "broken one", commands = {"set nonsense_option 3"}}
    local out = tmp("broken.png")
    T.raises(function() fig:save(out) end, "cannot write '" .. out .. "'",
      "gnuplot failed drawing line figure 'broken one'", "nonsense_option")
    T.eq(read(out), nil, "no output file on failure")
    for _, f in ipairs(listdir(tmpdir)) do T.ok(not f:find("broken"), "left behind: " .. f) end
    T.raises(function() fig:text{width = 40, height = 10} end, "nonsense_option")
  end)

  T.test("saving into a missing folder creates it, with the script beside the image", function()
    local out = tmp("new/sub dir/x.png")
    T.eq(plot.line{y = {1, 2}}:save(out), out)
    T.eq(read(out):sub(2, 4), "PNG")
    T.ok(read(tmp("new/sub dir/x.gp")), "x.gp beside it")
  end)

  T.test("an unwritable path raises naming the file, at the caller's line", function()
    local fig = plot.line{y = {1, 2}}
    local f = assert(io.open(tmp("plainfile"), "w")); f:close()
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(fig.save, fig, tmp("plainfile/x.png"))
    T.eq(ok, false)
    T.ok(err:find("^tests/lua/plot.lua:" .. line .. ": "), err)
    T.ok(err:find(tmp("plainfile"), 1, true), err)
    T.raises(function() fig:save("/proc/churnlab-no/x.svg") end, "/proc/churnlab-no")
  end)

  T.test("NaN and infinite values are skipped", function()
    local fig = plot.line{x = {1, 2, 3, 4, 5}, y = {1, 0 / 0, 3, math.huge, 5}}
    local sc = fig:script()
    local block = sc:match("%$d1 << EOD\n(.-)EOD")
    T.eq(block, "1 1\n3 3\n5 5\n")
    T.ok(fig:save(tmp("nan.svg")))
  end)
end

T.test("gnuplot missing: save and show raise naming gnuplot-nox; available() says so", function()
  local exe = arg[-1]
  if not exe:find("^/") then exe = os.getenv("PWD") .. "/" .. exe end
  local script = tmp("nognuplot.lua")
  local f = assert(io.open(script, "w"))
  f:write([[
local plot = require "churnlab.plot"
local fig = plot.line{y = {1, 2, 3}}
local ok, err = pcall(fig.save, fig, arg[1])
local ok2, err2 = pcall(fig.show, fig)
local ok3, err3 = plot.available()
io.write(tostring(ok), "|", err, "|", tostring(ok2), "|", err2, "|", tostring(ok3), "|", err3, "\n")
]])
  f:close()
  local p = io.popen("env PATH=/nonexistent CHURNLAB_GNUPLOT= " .. shq(exe) .. " " ..
    shq(script) .. " " .. shq(tmp("never.png")) .. " 2>&1")
  local out = p:read("a")
  p:close()
  T.ok(out:find("^false|[^|]*nognuplot.lua:3: gnuplot not found: install the Debian package gnuplot%-nox"), out)
  T.ok(out:find("|false|[^|]*nognuplot.lua:4: gnuplot not found"), out)
  T.ok(out:find("|nil|gnuplot not found", 1, true), out)
  T.eq(read(tmp("never.png")), nil)
end)

T.test("bad input raises errors naming the series", function()
  T.raises(function() plot.line{y = {}} end, "line series 1 has no finite points")
  T.raises(function() plot.line{{y = {0 / 0, 0 / 0}, name = "empty"}} end,
    "series 1 ('empty') has no finite points")
  T.raises(function() plot.line{y = {1, "abc"}} end, "element 2 is 'abc'")
  T.raises(function() plot.line{y = {1}, colour = "red"} end, "bad argument #1 to 'line' (unknown option 'colour'",
    "known: commands, legend, logx, logy, name, series, size, title, with, x, xlabel, ")
  T.raises(function() plot.line{y = {1}, bins = 3} end, "unknown option 'bins'")
  T.raises(function() plot.line{y = {1}}:set{density = true} end, "unknown option 'density'")
  T.raises(function() plot.roc{{y = {1, 0, 2}, score = {0.1, 0.2, 0.3}}} end,
    "element 3 is 2")
  T.raises(function() plot.roc{{y = {1, 1}, score = {0.1, 0.2}}} end, "both classes")
  T.raises(function() plot.roc{{y = {1, 0}, score = {0.1}}} end, "2 labels but score has 1")
  T.raises(function() plot.heatmap{} end, "matrix= is required")
  T.raises(function() plot.hist{values = {0 / 0}} end, "no finite values")
  T.raises(function() plot.line{y = {1, 2}}:save("x.jpeg") end, "extension must be .png, .svg or .pdf")
  T.raises(function() plot.shap{values = {{1, 2}}, names = {"a"}} end, "row 1 has 2 values for 1 names")
  T.raises(function() plot.importance{names = {"a", "b"}, values = {1}} end, "2 names but 1 values")
end)

T.test("duck-typed inputs: anything with :totable(), labels with positive=", function()
  local Col = {}
  Col.__index = Col
  function Col:totable() return self.v end
  local c = setmetatable({v = {1, 4, 9}}, Col)
  local fig = plot.line{x = setmetatable({v = {1, 2, 3}}, Col), y = c}
  T.eq(fig:script():match("%$d1 << EOD\n(.-)EOD"), "1 1\n2 4\n3 9\n")
  local r = plot.roc{{y = {"Yes", "No", "Yes"}, positive = "Yes", score = {0.9, 0.1, 0.4}}}
  T.ok(r:script():find("AUC 1.000", 1, true))
  -- an n x 1 column of rows is flattened
  T.eq(plot.line{y = {{1}, {2}}}:script():match("%$d1 << EOD\n(.-)EOD"), "1 1\n2 2\n")
end)

local ok_tensor, tensor = pcall(require, "churnlab.tensor")
local mk
if ok_tensor and type(tensor) == "table" then
  for _, f in ipairs{"new", "tensor", "from_table", "fromtable"} do
    if type(tensor[f]) == "function" then
      local ok, t = pcall(tensor[f], {1, 2, 3})
      if ok and t then mk = tensor[f] break end
    end
  end
end
if mk then
  T.test("tensor input", function()
    local fig = plot.line{y = mk({1, 2, 3})}
    T.eq(fig:script():match("%$d1 << EOD\n(.-)EOD"), "1 1\n2 2\n3 3\n")
  end)
else
  T.skip("tensor input", "churnlab.tensor has no constructor from a table in this build")
end

if mk then
  T.test("2-D tensor as a heatmap matrix, tensors as hist values", function()
    local ok, m = pcall(mk, {{1, 2}, {3, 4}})
    T.ok(ok, "2-D tensor from nested tables")
    local sc = plot.heatmap{matrix = m}:script()
    T.eq(sc:match("%$d1 << EOD\n(.-)EOD"), "1 1 0.5 0.5 1\n2 1 0.5 0.5 2\n1 2 0.5 0.5 3\n2 2 0.5 0.5 4\n")
    local d = plot.hist{values = {1, 2, 2, 3, 100}, bins = 2, binrange = {1, 3}, density = true}
    T.ok(d:script():find("$d1 << EOD\n1.5 0.25 1\n2.5 0.75 1\nEOD", 1, true), d:script())
    local h = plot.hist(mk({1, 2, 2, 3}), {bins = 2})
    T.ok(h:script():find("$d1 << EOD\n1.5 1 1\n2.5 3 1\nEOD", 1, true), h:script())
  end)
end

T.test("single-series shorthand: data and name at the top level", function()
  for _, k in ipairs{"hist", "box", "bar"} do
    local fig = plot[k]{values = {1, 2, 3}, name = "a", title = "t"}
    T.eq(#fig.series, 1, k)
    T.eq(fig.series[1].name, "a", k)
    T.ok(fig:script():find("set title 't'", 1, true), k)
    T.eq(fig.opts.values, nil, k .. ": values are data, not an option")
  end
  T.eq(plot.scatter{x = {1, 2}, y = {2, 3}, name = "q"}.series[1].name, "q")
  T.eq(plot.roc{y = {1, 0}, score = {0.8, 0.1}, name = "m"}.series[1].auc, 1)
  T.eq(#plot.line({3, 1, 2}, {title = "data, options"}).series[1].rows, 3)
end)

T.test("options: title, labels, log axes, ranges, legend, extra commands", function()
  local fig = plot.line{y = {1, 10, 100}, name = "a", title = "T", xlabel = "X", ylabel = "Y",
    logy = true, logx = true, xrange = {1, 3}, yrange = {nil, 200}, legend = "top left",
    commands = {"set key box"}}
  local sc = fig:script()
  for _, want in ipairs{"set title 'T'", "set xlabel 'X'", "set ylabel 'Y'", "set logscale x",
    "set logscale y", "set xrange [1:3]", "set yrange [*:200]", "set key top left noautotitle",
    "set key box", "title 'a'"} do
    T.ok(sc:find(want, 1, true), want)
  end
  T.raises(function() plot.line{y = {1}, legend = "top; system('x')"}:script() end, "legend")
  -- set and add chain
  local f2 = plot.line{y = {1, 2}, name = "a"}:set{title = "later"}:add{y = {2, 1}, name = "b"}
  T.eq(#f2.series, 2)
  T.ok(f2:script():find("set title 'later'", 1, true))
  T.ok(tostring(f2):find("churnlab.Figure line (2 series) 'later'", 1, true))
end)

if have_gnuplot then
  T.test("size= sets the image size in pixels", function()
    local png = tmp("size.png")
    T.ok(plot.scatter{x = {1, 2}, y = {2, 1}, size = {321, 123}}:save(png))
    local d = read(png)
    T.eq(string.unpack(">I4", d, 17), 321)
    T.eq(string.unpack(">I4", d, 21), 123)
  end)
end

T.test("roc, pr and calibration agree with scikit-learn", function()
  local fpr, tpr, auc = plot.roc_curve(REF.y, REF.score)
  T.near(auc, REF.auc, 1e-12, "AUC")
  T.eq(#fpr, REF.roc_points, "one point per distinct threshold")
  T.eq(fpr[#fpr], 1); T.eq(tpr[#tpr], 1)
  local prec, rec, ap = plot.pr_curve(REF.y, REF.score)
  T.near(ap, REF.ap, 1e-12, "average precision")
  T.eq(#prec, #REF.pr_precision, "PR points")
  local area = 0
  for i = 1, #prec do
    T.near(prec[i], REF.pr_precision[i], 1e-12, "precision " .. i)
    T.near(rec[i], REF.pr_recall[i], 1e-12, "recall " .. i)
    if i > 1 then area = area + (rec[i] - rec[i - 1]) * prec[i] end -- fsteps area
  end
  T.near(area, ap, 1e-12, "the drawn steps enclose the average precision")
  for _, st in ipairs({"uniform", "quantile"}) do
    local pred, obs = plot.calibration_curve(REF.y, REF.score, 10, st)
    local rp, ro = st == "uniform" and REF.cal_pred or REF.qcal_pred,
                   st == "uniform" and REF.cal_obs or REF.qcal_obs
    T.eq(#pred, #rp, st .. " bins")
    for i = 1, #pred do
      T.near(pred[i], rp[i], 1e-12, st .. " calibration predicted " .. i)
      T.near(obs[i], ro[i], 1e-12, st .. " calibration observed " .. i)
    end
  end
  T.raises(function() plot.calibration_curve(REF.y, REF.score, 10, "kmeans") end, "strategy")
end)

local okm, metrics = pcall(require, "churnlab.metrics")
if okm and type(metrics) == "table" and metrics.roc_auc and mk then
  T.test("roc and pr agree with churnlab.metrics; its curves plot as series", function()
    local yt, st = mk(REF.y), mk(REF.score)
    local _, _, auc = plot.roc_curve(REF.y, REF.score)
    local _, _, ap = plot.pr_curve(REF.y, REF.score)
    T.near(auc, metrics.roc_auc(yt, st), 1e-9, "AUC vs churnlab.metrics")
    T.near(ap, metrics.average_precision(yt, st), 1e-9, "AP vs churnlab.metrics")
    local fig = plot.roc{{curve = metrics.roc_curve(yt, st), auc = auc, name = "m"}}
    T.ok(fig:script():find(string.format("AUC %.3f", auc), 1, true))
    plot.pr{{curve = metrics.pr_curve(yt, st), name = "m"}}
    local cal = plot.calibration{{curve = metrics.calibration(yt, st), name = "m"}}
    T.eq(#cal.series[1].rows, #REF.cal_pred)
  end)
else
  T.skip("agreement with churnlab.metrics", "metrics or tensor module not built")
end

T.test("AUC equals the brute-force Mann-Whitney statistic (ties count one half)", function()
  local _, _, auc = plot.roc_curve(REF.y, REF.score)
  local num, den = 0, 0
  for i = 1, #REF.y do
    if REF.y[i] == 1 then
      for j = 1, #REF.y do
        if REF.y[j] == 0 then
          den = den + 1
          if REF.score[i] > REF.score[j] then num = num + 1
          elseif REF.score[i] == REF.score[j] then num = num + 0.5 end
        end
      end
    end
  end
  T.near(auc, num / den, 1e-12)
end)

T.test("histogram and quartiles agree with numpy", function()
  local edges, counts = plot.histogram(REF.score, 7)
  for i = 1, 7 do T.eq(counts[i], REF.hist_counts[i], "bin " .. i) end
  for i = 1, 8 do T.near(edges[i], REF.hist_edges[i], 1e-12, "edge " .. i) end
  local st = plot.boxstats(REF.score)
  T.near(st.q1, REF.quartiles[1], 1e-12)
  T.near(st.median, REF.quartiles[2], 1e-12)
  T.near(st.q3, REF.quartiles[3], 1e-12)
  local b = plot.boxstats({1, 2, 3, 4, 100})
  T.eq(b.hi, 4); T.eq(b.lo, 1); T.eq(#b.outliers, 1); T.eq(b.outliers[1], 100)
end)

T.test("gains curve by brute force", function()
  local yy, sc = {1, 0, 1, 0, 0, 1, 0, 0}, {0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2}
  local f, g = plot.gains_curve(yy, sc)
  T.eq(#f, 9)
  for k = 1, 8 do
    local tp = 0
    for i = 1, k do tp = tp + yy[i] end
    T.near(f[k + 1], k / 8, 1e-15)
    T.near(g[k + 1], tp / 3, 1e-15)
  end
end)

T.test("Kaplan-Meier by hand, with Greenwood log-log bands", function()
  -- times 1,2,2,3,4,5 with events 1,1,0,1,0,1
  local km = plot.kaplan_meier({2, 1, 2, 3, 4, 5}, {1, 1, 0, 1, 0, 1})
  T.eq(table.concat(km.time, ","), "0,1,2,3,5")
  T.near(km.surv[2], 5 / 6, 1e-15)
  T.near(km.surv[3], 5 / 6 * 4 / 5, 1e-15)
  T.near(km.surv[4], 4 / 6 * 2 / 3, 1e-15)
  T.eq(km.surv[5], 0)
  T.eq(table.concat(km.at_risk, ","), "6,6,5,3,1")
  -- at t=1: var sum 1/(6*5); c = log(-log S); se = sqrt(sum)/|log S|
  local S = 5 / 6
  local se = math.sqrt(1 / 30) / math.abs(math.log(S))
  local c = math.log(-math.log(S))
  T.near(km.lower[2], math.exp(-math.exp(c + 1.959963984540054 * se)), 1e-12)
  T.near(km.upper[2], math.exp(-math.exp(c - 1.959963984540054 * se)), 1e-12)
  T.ok(km.lower[2] < S and S < km.upper[2])
end)

local oks, survival = pcall(require, "churnlab.survival")
if oks and type(survival) == "table" and survival.km then
  T.test("Kaplan-Meier and its bands agree with churnlab.survival; its curves plot", function()
    local t, e = {}, {}
    for i = 1, 400 do t[i] = (i * 37) % 61 + 1; e[i] = (i * 7) % 3 == 0 and 0 or 1 end
    local mine = plot.kaplan_meier(t, e)
    local km = survival.km(t, e)
    local c = km:curve()
    local at = {}
    for k, tt in ipairs(c.time) do at[tt] = k end
    local checked = 0
    for k = 2, #mine.time do
      local j = at[mine.time[k]]
      T.ok(j, "time " .. mine.time[k])
      T.near(mine.surv[k], c.surv[j], 1e-12, "S at " .. mine.time[k])
      T.near(mine.lower[k], c.lo[j], 1e-9, "lower at " .. mine.time[k])
      T.near(mine.upper[k], c.hi[j], 1e-9, "upper at " .. mine.time[k])
      checked = checked + 1
    end
    T.ok(checked > 30)
    local fig = plot.survival{{curve = km, name = "km"}, {curve = c, name = "table"}}
    T.eq(fig.series[1].line[1][1], 0, "starts at time 0")
    T.eq(fig.series[1].line[1][2], 1, "with S = 1")
  end)
else
  T.skip("agreement with churnlab.survival", "survival module not built")
end

T.test("gnuplot strings: quotes doubled, newlines joined, nothing interpolated", function()
  T.eq(plot._private.gq("a'b"), "'a''b'")
  T.eq(plot._private.gq("x\ny"), "'x'.\"\\n\".'y'")
  T.eq(plot._private.gq("$a `b` \\c"), "'$a `b` \\c'")
end)

T.test("the same figure gives the same script and bytes twice", function()
  local a, b = every_kind(), every_kind()
  for name in pairs(a) do T.eq(a[name]:script(), b[name]:script(), name) end
  if have_gnuplot then
    a.roc:save(tmp("d1.svg")); b.roc:save(tmp("d2.svg"))
    T.eq(read(tmp("d1.svg")), read(tmp("d2.svg")))
  end
end)

os.execute("rm -rf " .. shq(tmpdir))
T.done()
