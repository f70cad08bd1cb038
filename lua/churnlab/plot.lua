-- churnlab.plot: figures drawn by gnuplot.
--
--   local plot = require "churnlab.plot"
--   local fig = plot.roc{ {y = labels, score = p, name = "gbdt"}, title = "Test set" }
--   fig:add{y = labels, score = p2, name = "logreg"}
--   fig:save("reports/roc.png")              -- also writes reports/roc.gp
--   fig:show()                               -- ASCII plot in the terminal (dumb)
--   print(fig:script())                      -- the gnuplot commands
--
-- Ergonomics after torch's gnuplot package, without its flaws: gnuplot is looked for on the
-- first save/show (never on require); one gnuplot process per drawing, fed a script with the
-- data inline (datablocks) and every series in one `plot` command; titles, labels and paths
-- are quoted so quotes, backslashes, backquotes, `$` and newlines are drawn literally; gnuplot's
-- own error text is returned with the figure that failed; outputs are written to a temporary
-- name and renamed, into folders created as needed. save/show/text raise an error when gnuplot
-- is missing or fails (its message included) or the file cannot be written, naming the file,
-- like io.lines; plot.available() probes for gnuplot without raising. Bad arguments (empty
-- data, unknown options) raise errors naming the series.
--
-- Series data may be Lua tables, churnlab.Tensor or churnlab.Column (anything with :totable()).
-- NaN and infinite values are skipped; a series left without points is an error.
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local core = require "churnlab.core"
local error = core.raise
local M = {}

local Figure = {} -- methods
local FigureMT = {__index = Figure, __name = "churnlab.Figure"}

-- ---- small helpers ---------------------------------------------------------------------

local fmt, concat, floor = string.format, table.concat, math.floor
local huge = math.huge

local function finite(v) return type(v) == "number" and v == v and v ~= huge and v ~= -huge end

-- A number as gnuplot data: integers exactly, floats with 10 significant digits (plenty for
-- drawing, and the same bytes on every run).
local function num(v)
  if math.type(v) == "integer" then return tostring(v) end
  if v == floor(v) and math.abs(v) < 1e15 then return fmt("%d", v) end
  return fmt("%.10g", v)
end

-- gnuplot string expression for arbitrary text: single-quoted pieces (no escape processing
-- and no backquote substitution inside single quotes; a quote is doubled) joined by "\n".
local function gq(s)
  s = tostring(s):gsub("\r\n?", "\n"):gsub("[\0-\8\11-\31\127]", " ")
  local parts = {}
  for piece in (s .. "\n"):gmatch("(.-)\n") do
    parts[#parts + 1] = "'" .. piece:gsub("'", "''") .. "'"
  end
  return concat(parts, '."\\n".')
end
-- A single-quoted literal without newlines (tic labels take literals, not expressions).
local function gq1(s)
  s = tostring(s):gsub("[\0-\31\127]", " ")
  return "'" .. s:gsub("'", "''") .. "'"
end

-- POSIX shell quoting.
local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end

local function describe(fig)
  local t = fig.opts.title
  if t then return fmt("%s figure '%s'", fig.kind, (tostring(t):gsub("\n", " "))) end
  return fig.kind .. " figure"
end

local S = require "churnlab.plot.stats"
local check = require("churnlab.options").check
local tolist, numbers, finite_sorted = S.tolist, S.numbers, S.finite_sorted
-- statistics behind the figures, exported for tests and reports
for _, k in ipairs{"quantile", "boxstats", "histogram", "roc_curve", "pr_curve", "gains_curve",
  "calibration_curve", "kaplan_meier"} do M[k] = S[k] end

-- A matrix (list of rows) from nested tables or a 2-D tensor.
local function matrix(v, what, level)
  level = (level or 1) + 1
  local rows = tolist(v, what, level)
  local out = {}
  for i = 1, #rows do
    if type(rows[i]) ~= "table" then
      error(fmt("%s: row %d is %s, expected a table of numbers", what, i, type(rows[i])), level)
    end
    out[i] = numbers(rows[i], fmt("%s row %d", what, i), level)
  end
  return out
end

-- 'Yes' for strings, 3 for numbers: how label values appear in messages.
local function quote_value(x) return type(x) == "string" and "'" .. x .. "'" or tostring(x) end

-- Binary labels: 1/0, true/false, or `positive` (e.g. "Yes") vs one other value: a third
-- ("Maybe") is an error, not a quiet 0.
local function labels(v, what, positive, level)
  level = (level or 1) + 1
  local list = tolist(v, what, level)
  local out = {}
  local negative
  for i = 1, #list do
    local x = list[i]
    if type(x) == "table" and #x == 1 then x = x[1] end
    if positive ~= nil and x == positive then out[i] = 1
    elseif positive ~= nil then
      if negative == nil then negative = x
      elseif x ~= negative then
        error(fmt("%s: element %d is %s, neither the positive label %s nor the other label %s",
          what, i, quote_value(x), quote_value(positive), quote_value(negative)), level)
      end
      out[i] = 0
    elseif x == true or x == 1 then out[i] = 1
    elseif x == false or x == 0 then out[i] = 0
    else
      error(fmt("%s: element %d is %s, expected 0/1 or a boolean (or pass positive=)", what, i,
        tostring(x)), level)
    end
  end
  return out
end

local function strings(v, what, level)
  local list = tolist(v, what, (level or 1) + 1)
  local out = {}
  for i = 1, #list do out[i] = tostring(list[i]) end
  return out
end

local function series_name(s, i)
  return s.name and fmt("series %d ('%s')", i, s.name) or fmt("series %d", i)
end

-- ---- script building -------------------------------------------------------------------

local PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2",
  "#7f7f7f", "#bcbd22", "#17becf"}

local function builder(term)
  return {sets = {}, blocks = {}, plots = {}, term = term}
end
local function set(b, line) b.sets[#b.sets + 1] = line end
-- Adds a datablock of rows (lists of numbers; a `false` row is a blank line) and returns its
-- name.
local function block(b, rows)
  local name = "$d" .. (#b.blocks + 1)
  local out = {name .. " << EOD"}
  for _, r in ipairs(rows) do
    if r == false then out[#out + 1] = ""
    else
      local cells = {}
      for i = 1, #r do cells[i] = num(r[i]) end
      out[#out + 1] = concat(cells, " ")
    end
  end
  out[#out + 1] = "EOD"
  b.blocks[#b.blocks + 1] = concat(out, "\n")
  return name
end
local function add(b, spec, title)
  b.plots[#b.plots + 1] = spec .. (title and (" title " .. gq(title)) or " notitle")
end
local function lt(i) return fmt("lt %d", (i - 1) % #PALETTE + 1) end

-- Points (x[i], y[i]) with both finite, as rows.
local function xy_rows(x, y, what)
  local rows = {}
  for i = 1, math.max(#x, #y) do
    local a, c = x[i], y[i]
    if finite(a) and finite(c) then rows[#rows + 1] = {a, c} end
  end
  if #rows == 0 then error(what .. " has no finite points", 4) end
  return rows
end

-- Tic labels: `set xtics ('a' 1, 'b' 2)`.
local function tics(axis, names, positions, extra)
  local parts = {}
  for i, s in ipairs(names) do parts[#parts + 1] = gq1(s) .. " " .. num(positions[i]) end
  return fmt("set %stics %s(%s)", axis, extra or "", concat(parts, ", "))
end

-- ---- figure kinds ----------------------------------------------------------------------
-- Each kind has: norm(series, i) -> normalized series (raises on bad input) and
-- draw(fig, b) filling the builder. `defaults` are options set before the user's.

local kinds = {}

local function xy_norm(kind)
  return function(s, i)
    local y = s.y or s[2] or s[1]
    local x = s.y and s.x or (s[2] and s[1]) or nil
    if y == nil then error(kind .. ": " .. series_name(s, i) .. " needs y", 4) end
    y = numbers(y, kind .. " " .. series_name(s, i) .. " y", 4)
    if x then x = numbers(x, kind .. " " .. series_name(s, i) .. " x", 4)
    else
      x = {}
      for k = 1, #y do x[k] = k end
    end
    return {name = s.name, x = x, y = y, with = s.with, rows = xy_rows(x, y, kind .. " " ..
      series_name(s, i))}
  end
end

kinds.line = {
  norm = xy_norm("line"),
  draw = function(fig, b)
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with %s %s", block(b, s.rows), s.with or "lines", lt(i)), s.name)
    end
  end,
}

kinds.scatter = {
  norm = xy_norm("scatter"),
  draw = function(fig, b)
    local ps = fig.opts.pointsize or 0.6
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with points %s pt 7 ps %s", block(b, s.rows), lt(i), num(ps)),
        s.name)
    end
  end,
}

local function values_norm(kind)
  return function(s, i)
    local v = s.values or s.x or s.y or s[1]
    if type(s) ~= "table" or getmetatable(s) then v, s = s, {} end
    if v == nil then error(kind .. ": " .. series_name(s, i) .. " needs values", 4) end
    v = numbers(v, kind .. " " .. series_name(s, i), 4)
    local f = finite_sorted(v)
    if #f == 0 then error(kind .. " " .. series_name(s, i) .. " has no finite values", 4) end
    return {name = s.name, values = v, sorted = f}
  end
end

kinds.hist = {
  legend = "below reverse Left", -- the sample before its name: "[#] model  [#] random"
  norm = values_norm("hist"),
  defaults = {ylabel = "count"},
  draw = function(fig, b)
    local o = fig.opts
    local lo, hi = huge, -huge
    for _, s in ipairs(fig.series) do
      lo, hi = math.min(lo, s.sorted[1]), math.max(hi, s.sorted[#s.sorted])
    end
    local range = o.binrange or {lo, hi}
    local bins = o.bins
    if bins == nil then -- Sturges on the largest series
      local n = 0
      for _, s in ipairs(fig.series) do n = math.max(n, #s.sorted) end
      bins = math.max(1, math.ceil(math.log(n, 2)) + 1)
    end
    if math.type(bins) ~= "integer" or bins < 1 then
      error("hist: bins must be a positive integer, got " .. tostring(bins), 3)
    end
    if not o.xrange then set(b, "set autoscale xfix") end -- the axis ends with the bins
    -- counts and densities are bar heights: the axis starts at zero, or short bars look tall
    if not o.yrange then set(b, "set yrange [0:*]") end
    local alpha = #fig.series > 1 and 0.45 or 0.85
    set(b, fmt("set style fill transparent solid %s border lc rgb '#ffffff'", num(alpha)))
    for i, s in ipairs(fig.series) do
      local edges, counts = M.histogram(s.values, bins, range)
      local rows, total = {}, 0
      for k = 1, bins do total = total + counts[k] end
      for k = 1, bins do
        local h = counts[k]
        -- density as numpy: the bars' area is 1 over the values inside the bins
        if o.density then h = total > 0 and h / (total * (edges[k + 1] - edges[k])) or 0 end
        rows[k] = {(edges[k] + edges[k + 1]) / 2, h, edges[k + 1] - edges[k]}
      end
      add(b, fmt("%s using 1:2:3 with boxes %s", block(b, rows), lt(i)), s.name)
    end
  end,
}

-- Bars: opts.labels (categories); series {values=, name=}; grouped (default) or stacked;
-- horizontal with opts.horizontal. Drawn as boxxyerror rectangles with explicit geometry.
local function bars(fig, b, labs, series, stacked, horizontal)
  local ncat = #labs
  local k = #series
  local width = fig.opts.barwidth or 0.8
  local pos, neg = {}, {}
  for c = 1, ncat do pos[c], neg[c] = 0, 0 end
  local anyrow = false
  for i, s in ipairs(series) do
    local rows = {}
    for c = 1, ncat do
      local v = s.values[c]
      if finite(v) then
        local x0, x1, y0, y1
        if stacked then
          x0, x1 = c - width / 2, c + width / 2
          if v >= 0 then y0, y1 = pos[c], pos[c] + v; pos[c] = y1
          else y0, y1 = neg[c] + v, neg[c]; neg[c] = y0 end
        else
          x0 = c - width / 2 + (i - 1) * width / k
          x1 = x0 + width / k
          y0, y1 = math.min(0, v), math.max(0, v)
        end
        if horizontal then x0, x1, y0, y1 = y0, y1, x0, x1 end
        rows[#rows + 1] = {(x0 + x1) / 2, (y0 + y1) / 2, x0, x1, y0, y1}
      end
    end
    if #rows > 0 then
      anyrow = true
      add(b, fmt("%s using 1:2:3:4:5:6 with boxxyerror fs solid 0.85 noborder %s",
        block(b, rows), lt(i)), s.name)
    end
  end
  if not anyrow then error(fig.kind .. ": no finite bar values", 4) end
  local positions = {}
  for c = 1, ncat do positions[c] = c end
  local axis = horizontal and "y" or "x"
  local long = 0
  for _, s in ipairs(labs) do long = math.max(long, #s) end
  local rot = (not horizontal and (ncat > 8 or long * ncat > 60)) and "rotate by -35 " or ""
  set(b, tics(axis, labs, positions, "scale 0 " .. rot))
  set(b, fmt("set %srange [0.4:%s]", axis, num(ncat + 0.6)))
  set(b, fmt("set grid %s", horizontal and "noytics xtics" or "noxtics ytics"))
end

local function bar_norm(s, i)
  local v = s.values or s.y or s[1]
  if type(s) ~= "table" or getmetatable(s) then v, s = s, {} end
  if v == nil then error("bar: " .. series_name(s, i) .. " needs values", 4) end
  return {name = s.name, values = numbers(v, "bar " .. series_name(s, i), 4)}
end

kinds.bar = {
  legend = "below reverse Left", -- the sample before its name: "[#] model  [#] random"
  norm = bar_norm,
  draw = function(fig, b)
    local o = fig.opts
    local n = 0
    for _, s in ipairs(fig.series) do n = math.max(n, #s.values) end
    local labs = o.labels and strings(o.labels, "bar labels", 4) or {}
    for c = #labs + 1, n do labs[c] = tostring(c) end
    if #labs == 0 then error("bar: no values", 3) end
    local stacked = o.stacked or o.mode == "stacked"
    bars(fig, b, labs, fig.series, stacked, o.horizontal)
  end,
}

kinds.box = {
  norm = values_norm("box"),
  draw = function(fig, b)
    local boxes, outl, names = {}, {}, {}
    for i, s in ipairs(fig.series) do
      local st = M.boxstats(s.sorted)
      boxes[i] = {i, st.q1, st.lo, st.hi, st.q3, st.median}
      for _, v in ipairs(st.outliers) do outl[#outl + 1] = {i, v} end
      names[i] = s.name or tostring(i)
    end
    local d = block(b, boxes)
    set(b, "set boxwidth 0.5")
    set(b, tics("x", names, (function() local p = {} for i = 1, #names do p[i] = i end return p end)(),
      "scale 0 "))
    set(b, fmt("set xrange [0.4:%s]", num(#names + 0.6)))
    set(b, "set grid noxtics ytics")
    add(b, fmt("%s using 1:2:3:4:5 with candlesticks whiskerbars 0.5 fs solid 0.35 lt 1", d))
    add(b, fmt("%s using 1:6:6:6:6 with candlesticks lw 2 lc rgb '#08306b'", d))
    if #outl > 0 then
      add(b, fmt("%s using 1:2 with points pt 6 ps 0.6 lc rgb '#555555'", block(b, outl)))
    end
    set(b, "unset key")
  end,
}

-- Heatmap: opts.matrix (rows), opts.xlabels/ylabels, opts.values (print cell values),
-- opts.digits, opts.cbrange, opts.palette = "diverging" | "sequential".
kinds.heatmap = {
  norm = function() error("heatmap: pass matrix= (rows of numbers), not series", 4) end,
  draw = function(fig, b)
    local o = fig.opts
    local m = fig.matrix
    local nr, nc = #m, 0
    for _, r in ipairs(m) do nc = math.max(nc, #r) end
    local rows, lo, hi = {}, huge, -huge
    for i, r in ipairs(m) do
      for j = 1, nc do
        local v = r[j]
        if finite(v) then
          rows[#rows + 1] = {j, i, 0.5, 0.5, v}
          lo, hi = math.min(lo, v), math.max(hi, v)
        end
      end
    end
    if #rows == 0 then error("heatmap: the matrix has no finite values", 3) end
    local pal = o.palette or ((lo < 0 and hi > 0) and "diverging" or "sequential")
    if pal == "diverging" then
      local a = math.max(math.abs(lo), math.abs(hi))
      set(b, "set palette defined (0 '#2166ac', 0.5 '#f7f7f7', 1 '#b2182b')")
      set(b, fmt("set cbrange [%s:%s]", num(-a), num(a)))
    else
      set(b, "set palette defined (0 '#f7fbff', 0.5 '#6baed6', 1 '#08306b')")
    end
    if o.cbrange then set(b, fmt("set cbrange [%s:%s]", num(o.cbrange[1]), num(o.cbrange[2]))) end
    local d = block(b, rows)
    add(b, d .. " using 1:2:3:4:5 with boxxyerror fs solid 1.0 noborder fc palette")
    local show = o.values
    if show == nil then show = nr * nc <= 225 end
    if show then
      add(b, fmt("%s using 1:2:(sprintf('%%.%df', $5)) with labels font ',9'", d, o.digits or 2))
    end
    local xl = o.xlabels and strings(o.xlabels, "heatmap xlabels", 4)
    local yl = o.ylabels and strings(o.ylabels, "heatmap ylabels", 4)
    local px, py = {}, {}
    for j = 1, nc do px[j] = j end
    for i = 1, nr do py[i] = i end
    if xl then set(b, tics("x", xl, px, "scale 0 " .. (nc > 6 and "rotate by -45 " or ""))) end
    if yl then set(b, tics("y", yl, py, "scale 0 ")) end
    set(b, fmt("set xrange [0.5:%s]", num(nc + 0.5)))
    set(b, fmt("set yrange [%s:0.5]", num(nr + 0.5))) -- row 1 at the top
    set(b, "unset grid")
    set(b, "set border 0")
    set(b, "unset key")
  end,
}

-- Scored series: {y = labels, score = scores, name=, positive=}.
local function scored_norm(kind)
  return function(s, i)
    local what = kind .. " " .. series_name(s, i)
    if s.y == nil or s.score == nil then error(what .. " needs y (labels) and score", 4) end
    local y = labels(s.y, what .. " y", s.positive, 4)
    local sc = numbers(s.score, what .. " score", 4)
    if #y ~= #sc then
      error(fmt("%s: y has %d labels but score has %d values", what, #y, #sc), 4)
    end
    return {name = s.name, y = y, score = sc}
  end
end

-- A series given as curve = <table from churnlab.metrics> (roc_curve, pr_curve, calibration):
-- copies the curve's fields under the names the figure reads.
local function from_curve(s, fields)
  if s.curve == nil then return s end
  if type(s.curve) ~= "table" then error("curve= must be a table from churnlab.metrics", 5) end
  local t = {}
  for k, v in pairs(s) do t[k] = v end
  for mine, theirs in pairs(fields) do
    if t[mine] == nil then t[mine] = s.curve[theirs] end
  end
  return t
end

local function diagonal(b)
  add(b, "x with lines dt 2 lc rgb '#999999'")
end

kinds.roc = {
  defaults = {xlabel = "false positive rate", ylabel = "true positive rate",
    xrange = {0, 1}, yrange = {0, 1}, legend = "bottom right"},
  norm = function(s, i)
    s = from_curve(s, {fpr = "fpr", tpr = "tpr"})
    if s.fpr and s.tpr then
      local what = "roc " .. series_name(s, i)
      local x, y = numbers(s.fpr, what .. " fpr", 4), numbers(s.tpr, what .. " tpr", 4)
      return {name = s.name, rows = xy_rows(x, y, what), auc = s.auc}
    end
    local r = scored_norm("roc")(s, i)
    local fpr, tpr, auc = M.roc_curve(r.y, r.score)
    return {name = s.name, rows = xy_rows(fpr, tpr, "roc"), auc = auc}
  end,
  draw = function(fig, b)
    if b.term ~= "dumb" then set(b, "set size ratio -1") end
    for i, s in ipairs(fig.series) do
      local t = s.name
      if s.auc then t = fmt("%s (AUC %.3f)", t or "model", s.auc) end
      add(b, fmt("%s using 1:2 with lines %s", block(b, s.rows), lt(i)), t)
    end
    diagonal(b)
  end,
}

kinds.pr = {
  defaults = {xlabel = "recall", ylabel = "precision", xrange = {0, 1}, yrange = {0, 1.02},
    legend = "top right"},
  norm = function(s, i)
    s = from_curve(s, {precision = "precision", recall = "recall"})
    if s.precision and s.recall then
      local what = "pr " .. series_name(s, i)
      local p, r = numbers(s.precision, what .. " precision", 4), numbers(s.recall, what .. " recall", 4)
      return {name = s.name, rows = xy_rows(r, p, what), ap = s.ap}
    end
    local r = scored_norm("pr")(s, i)
    local prec, rec, ap = M.pr_curve(r.y, r.score)
    local pos = 0
    for _, v in ipairs(r.y) do pos = pos + v end
    return {name = s.name, rows = xy_rows(rec, prec, "pr"), ap = ap, base = pos / #r.y}
  end,
  draw = function(fig, b)
    for i, s in ipairs(fig.series) do
      local t = s.name
      if s.ap then t = fmt("%s (AP %.3f)", t or "model", s.ap) end
      add(b, fmt("%s using 1:2 with fsteps %s", block(b, s.rows), lt(i)), t)
    end
    local base = fig.series[1].base
    if base then add(b, fmt("%s with lines dt 2 lc rgb '#999999'", num(base)), "base rate") end
  end,
}

kinds.calibration = {
  defaults = {xlabel = "mean predicted probability", ylabel = "observed churn rate",
    xrange = {0, 1}, yrange = {0, 1}, legend = "top left"},
  norm = function(s, i)
    s = from_curve(s, {predicted = "mean_predicted", observed = "fraction_positive"})
    if s.predicted and s.observed then
      local what = "calibration " .. series_name(s, i)
      local p, o = numbers(s.predicted, what .. " predicted", 4), numbers(s.observed, what .. " observed", 4)
      return {name = s.name, rows = xy_rows(p, o, what)}
    end
    local r = scored_norm("calibration")(s, i)
    local pred, obs = M.calibration_curve(r.y, r.score, s.bins, s.strategy)
    return {name = s.name, rows = xy_rows(pred, obs, "calibration")}
  end,
  draw = function(fig, b)
    if b.term ~= "dumb" then set(b, "set size ratio -1") end
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with linespoints %s pt 7 ps 0.8", block(b, s.rows), lt(i)), s.name)
    end
    diagonal(b)
  end,
}

kinds.gains = {
  defaults = {xlabel = "fraction of customers targeted", ylabel = "fraction of churners reached",
    xrange = {0, 1}, yrange = {0, 1}, legend = "bottom right"},
  norm = function(s, i)
    local r = scored_norm("gains")(s, i)
    local f, g = M.gains_curve(r.y, r.score)
    return {name = s.name, rows = xy_rows(f, g, "gains")}
  end,
  draw = function(fig, b)
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with lines %s", block(b, s.rows), lt(i)), s.name)
    end
    add(b, "x with lines dt 2 lc rgb '#999999'", "random")
  end,
}

kinds.lift = {
  defaults = {xlabel = "fraction of customers targeted", ylabel = "lift", xrange = {0, 1},
    legend = "top right"},
  norm = function(s, i)
    local r = scored_norm("lift")(s, i)
    local f, g = M.gains_curve(r.y, r.score)
    local x, y = {}, {}
    for k = 2, #f do x[#x + 1], y[#y + 1] = f[k], g[k] / f[k] end
    return {name = s.name, rows = xy_rows(x, y, "lift")}
  end,
  draw = function(fig, b)
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with lines %s", block(b, s.rows), lt(i)), s.name)
    end
    add(b, "1 with lines dt 2 lc rgb '#999999'", "random")
  end,
}

-- Importance: opts.names, opts.values (or a {name = value} map), opts.top (default 20);
-- horizontal bars, largest at the top.
local function ranked_bars(fig, b, names, values, top)
  local idx = {}
  for i = 1, #names do if finite(values[i]) then idx[#idx + 1] = i end end
  if #idx == 0 then error(fig.kind .. ": no finite values", 4) end
  table.sort(idx, function(a, c)
    if values[a] ~= values[c] then return values[a] > values[c] end
    return names[a] < names[c]
  end)
  local n = math.min(#idx, top or 20)
  local labs, vals = {}, {}
  for r = 1, n do -- row n (bottom) .. 1 (top): largest last so it is drawn at the top
    labs[n - r + 1], vals[n - r + 1] = names[idx[r]], values[idx[r]]
  end
  bars(fig, b, labs, {{values = vals}}, false, true)
  set(b, "unset key")
end

local function named_values(o, what)
  local names, values
  if o.names then
    names = strings(o.names, what .. " names", 5)
    values = numbers(o.values, what .. " values", 5)
  elseif type(o.values) == "table" and not getmetatable(o.values) and #o.values == 0 then
    names, values = {}, {}
    for k in pairs(o.values) do names[#names + 1] = tostring(k) end
    table.sort(names)
    for i, k in ipairs(names) do values[i] = o.values[k] end
  else
    error(what .. ": pass names= and values=, or values={name = value}", 5)
  end
  if #names ~= #values then
    error(fmt("%s: %d names but %d values", what, #names, #values), 5)
  end
  if #names == 0 then error(what .. ": no values", 5) end
  return names, values
end

kinds.importance = {
  defaults = {xlabel = "importance"},
  norm = function() error("importance: pass names= and values=, not series", 4) end,
  draw = function(fig, b)
    ranked_bars(fig, b, fig.names, fig.values, fig.opts.top)
  end,
}

-- SHAP summary: opts.values (n x p SHAP matrix), opts.names (p), opts.features (n x p feature
-- values, colours the beeswarm), opts.style = "beeswarm" (default) | "bar", opts.top.
kinds.shap = {
  norm = function() error("shap: pass values= (n x p), names= and features=, not series", 4) end,
  draw = function(fig, b)
    local o = fig.opts
    local V, names = fig.shap, fig.names
    local p = #names
    local mean = {}
    for j = 1, p do
      local s, c = 0, 0
      for i = 1, #V do
        local v = V[i][j]
        if finite(v) then s, c = s + math.abs(v), c + 1 end
      end
      mean[j] = c > 0 and s / c or 0 / 0
    end
    if (o.style or "beeswarm") == "bar" then
      if not o.xlabel then set(b, "set xlabel 'mean |SHAP value|'") end
      return ranked_bars(fig, b, names, mean, o.top)
    elseif o.style ~= nil and o.style ~= "beeswarm" then
      error("shap: style must be 'beeswarm' or 'bar', got " .. tostring(o.style), 3)
    end
    if not o.xlabel then set(b, "set xlabel 'SHAP value (impact on prediction)'") end
    local order = {}
    for j = 1, p do if finite(mean[j]) then order[#order + 1] = j end end
    if #order == 0 then error("shap: no finite SHAP values", 3) end
    table.sort(order, function(a, c)
      if mean[a] ~= mean[c] then return mean[a] > mean[c] end
      return names[a] < names[c]
    end)
    local n = math.min(#order, o.top or 20)
    local F = fig.features
    local rows, labs, pos = {}, {}, {}
    local xlo, xhi = huge, -huge
    for i = 1, #V do
      for r = 1, n do
        local v = V[i][order[r]]
        if finite(v) then xlo, xhi = math.min(xlo, v), math.max(xhi, v) end
      end
    end
    -- many rows: a deterministic, evenly spaced sample (max_rows=, default 2000) keeps the
    -- script small; the ordering above used every row
    local stride = math.max(1, math.ceil(#V / (o.max_rows or 2000)))
    local nbin = 80
    local w = (xhi > xlo) and (xhi - xlo) / nbin or 1
    for r = 1, n do
      local j = order[r]
      local y0 = n - r + 1
      labs[r], pos[r] = names[j], y0
      -- colour: feature value scaled to [0, 1] between its 5th and 95th percentiles
      local lo, hi
      if F then
        local col = {}
        for i = 1, #F do col[#col + 1] = F[i][j] end
        local s = finite_sorted(col)
        if #s > 0 then lo, hi = M.quantile(s, 0.05), M.quantile(s, 0.95) end
        if lo and hi <= lo then lo, hi = s[1], s[#s] end
      end
      -- deterministic swarm: points in the same x bin stack outwards alternately
      local fill, maxc = {}, 1
      for i = 1, #V, stride do
        local v = V[i][j]
        if finite(v) then
          local k = floor((v - xlo) / w)
          fill[k] = (fill[k] or 0) + 1
          if fill[k] > maxc then maxc = fill[k] end
        end
      end
      local step = math.min(0.04, 0.4 / maxc * 2)
      local seen = {}
      for i = 1, #V, stride do
        local v = V[i][j]
        if finite(v) then
          local k = floor((v - xlo) / w)
          local m = seen[k] or 0
          seen[k] = m + 1
          local off = (m % 2 == 0 and 1 or -1) * math.ceil(m / 2) * step
          local c = 0.5
          if F and lo then
            local fv = F[i][j]
            if finite(fv) then
              c = hi > lo and math.max(0, math.min(1, (fv - lo) / (hi - lo))) or 0.5
            else c = -1 end
          end
          rows[#rows + 1] = {v, y0 + off, c}
        end
      end
    end
    set(b, tics("y", labs, pos, "scale 0 "))
    set(b, fmt("set yrange [0.4:%s]", num(n + 0.6)))
    set(b, "set grid noytics xtics")
    set(b, "set xzeroaxis lt 1 lc rgb '#999999'")
    if F then
      set(b, "set palette defined (0 '#1e88e5', 1 '#ff0d57')")
      set(b, "set cbrange [0:1]")
      set(b, "set cbtics ('low' 0, 'high' 1) scale 0")
      set(b, "set cblabel 'feature value'")
      add(b, block(b, rows) .. " using 1:2:3 with points pt 7 ps 0.45 lc palette")
    else
      add(b, block(b, rows) .. " using 1:2 with points pt 7 ps 0.45 lt 1")
    end
    set(b, "unset key")
  end,
}

-- Survival: series {time=, event=, name=} (Kaplan-Meier with bands) or precomputed
-- {time=, surv=, lower=, upper=, name=}. Step curves with shaded confidence bands.
kinds.survival = {
  defaults = {xlabel = "time", ylabel = "survival probability", yrange = {0, 1.02},
    legend = "bottom left"},
  norm = function(s, i)
    local what = "survival " .. series_name(s, i)
    if s.curve ~= nil then -- a churnlab.survival KM object or its :curve() table
      local c = s.curve
      if type(c) ~= "table" then
        local ok, r = pcall(function() return c:curve() end)
        if not ok or type(r) ~= "table" then
          error(what .. ": curve= must be a churnlab.survival KM or its :curve() table", 4)
        end
        c = r
      end
      local t = {}
      for k, v in pairs(s) do t[k] = v end
      local T, S, Lo, Hi = tolist(c.time, what .. " time", 4), tolist(c.surv, what .. " surv", 4),
        c.lo or c.lower, c.hi or c.upper
      if #T > 0 and T[1] > 0 then -- the estimate starts at S(0) = 1
        local function lead(list, v)
          if list == nil then return nil end
          local r = {v}
          for k, x in ipairs(tolist(list, what, 5)) do r[k + 1] = x end
          return r
        end
        T, S, Lo, Hi = lead(T, 0), lead(S, 1), lead(Lo, 1), lead(Hi, 1)
      end
      t.time, t.surv, t.lower, t.upper, t.curve = T, S, Lo, Hi, nil
      s = t
    end
    if s.time == nil then error(what .. " needs time (and event, or surv)", 4) end
    local t = numbers(s.time, what .. " time", 4)
    local km
    if s.surv then
      km = {time = t, surv = numbers(s.surv, what .. " surv", 4),
        lower = s.lower and numbers(s.lower, what .. " lower", 4),
        upper = s.upper and numbers(s.upper, what .. " upper", 4)}
    else
      if s.event == nil then error(what .. " needs event (1 = churned, 0 = censored)", 4) end
      km = M.kaplan_meier(t, labels(s.event, what .. " event", s.positive, 4), s.level)
    end
    local line, band = {}, {}
    local T, S, L, U = km.time, km.surv, km.lower, km.upper
    for k = 1, #T do
      if finite(T[k]) and finite(S[k]) then
        if #line > 0 then -- horizontal then vertical: a right-continuous step
          local prev = line[#line]
          line[#line + 1] = {T[k], prev[2]}
          if L and U then band[#band + 1] = {T[k], band[#band][2], band[#band][3]} end
        end
        line[#line + 1] = {T[k], S[k]}
        if L and U and finite(L[k]) and finite(U[k]) then band[#band + 1] = {T[k], L[k], U[k]} end
      end
    end
    if #line == 0 then error(what .. " has no finite points", 4) end
    return {name = s.name, line = line, band = (#band > 1) and band or nil}
  end,
  draw = function(fig, b)
    for i, s in ipairs(fig.series) do
      if s.band then
        add(b, fmt("%s using 1:2:3 with filledcurves fs transparent solid 0.18 noborder %s",
          block(b, s.band), lt(i)))
      end
    end
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with lines %s", block(b, s.line), lt(i)), s.name)
    end
  end,
}

-- History: training curves. h is a map name -> list (one series per name, sorted) or a list
-- of records ({iter=, train_loss=, valid_loss=}); opts.best = "min" | "max" marks the best
-- point of every series.
kinds.history = {
  defaults = {xlabel = "iteration", legend = "top right"},
  norm = xy_norm("history"),
  draw = function(fig, b)
    for i, s in ipairs(fig.series) do
      add(b, fmt("%s using 1:2 with lines %s", block(b, s.rows), lt(i)), s.name)
    end
    local best = fig.opts.best
    if best then
      local pts = {}
      for _, s in ipairs(fig.series) do
        local bi = 1
        for k, r in ipairs(s.rows) do
          local v, bv = r[2], s.rows[bi][2]
          if (best == "max" and v > bv) or (best ~= "max" and v < bv) then bi = k end
        end
        pts[#pts + 1] = s.rows[bi]
      end
      add(b, block(b, pts) .. " using 1:2 with points pt 7 ps 1 lc rgb '#000000'", "best")
    end
  end,
}

-- ---- figure objects --------------------------------------------------------------------

-- Options every kind takes, then each kind's own (series fields at the top level make one
-- series).
local COMMON_OPTS = "title xlabel ylabel logx logy xrange yrange size legend series commands"
local KIND_OPTS = {
  line = "x y name with", scatter = "x y name pointsize",
  hist = "values name bins density binrange",
  bar = "values name labels stacked mode horizontal barwidth", box = "values name",
  heatmap = "matrix xlabels ylabels values digits cbrange palette",
  roc = "y score name positive fpr tpr auc curve",
  pr = "y score name positive precision recall ap curve",
  calibration = "y score name positive predicted observed curve bins strategy",
  gains = "y score name positive", lift = "y score name positive",
  importance = "names values top barwidth",
  shap = "values names features style top max_rows barwidth",
  survival = "time event name positive surv lower upper level curve",
  history = "values best",
}
local OPTS = {}
for kind, list in pairs(KIND_OPTS) do
  OPTS[kind] = {}
  for k in (COMMON_OPTS .. " " .. list):gmatch("%S+") do OPTS[kind][k] = true end
end
-- keys that describe the single series given at the top level
local SERIES_KEYS = {"x", "y", "name", "score", "positive", "fpr", "tpr", "auc", "precision",
  "recall", "ap", "predicted", "observed", "time", "event", "surv", "lower", "upper", "level",
  "with", "curve"}

local OPT_LISTS = {} -- kind -> sorted list of its options, for the shared checker
for kind, set in pairs(OPTS) do
  local names = {}
  for n in pairs(set) do names[#names + 1] = n end
  table.sort(names)
  OPT_LISTS[kind] = names
end
-- Fields of one series, per kind: a misspelt one (nmae =) would silently be dropped.
local SERIES_FIELDS = {}
for kind, list in pairs({
  line = "x y name with", scatter = "x y name", hist = "values x y name",
  bar = "values x y name", box = "values x y name",
  roc = "y score name positive fpr tpr auc curve",
  pr = "y score name positive precision recall ap curve",
  calibration = "y score name positive predicted observed curve bins strategy",
  gains = "y score name positive", lift = "y score name positive",
  survival = "time event name positive surv lower upper level curve",
  history = "x y name",
}) do
  local names = {}
  for k in list:gmatch("%S+") do names[#names + 1] = k end
  SERIES_FIELDS[kind] = names
end

local add_series, history_series -- below

local function new(kind, opts, level, extra)
  level = level + 1
  local K = kinds[kind]
  if opts == nil then opts = {} end
  -- plot.line(tensor_or_list [, opts]) shorthand
  if type(opts) ~= "table" or getmetatable(opts) or type(opts[1]) == "number" then
    local data = opts
    opts = {}
    for k, v in pairs(extra or {}) do opts[k] = v end
    if kind == "hist" or kind == "box" or kind == "bar" then opts.values = data
    else opts.series = {{y = data}} end
  elseif extra then
    error(fmt("plot.%s: options go in the first table (or pass data, options)", kind), level)
  end
  -- the shared checker (churnlab.options); the array part holds the series
  local named = {}
  for k, v in pairs(opts) do if math.type(k) ~= "integer" then named[k] = v end end
  check(named, 1, kind, OPT_LISTS[kind], level - 1)
  local fig = setmetatable({kind = kind, opts = {}, series = {}}, FigureMT)
  for k, v in pairs(K.defaults or {}) do fig.opts[k] = v end
  for k, v in pairs(opts) do
    if type(k) == "string" and k ~= "series" then fig.opts[k] = v end
  end
  -- series: opts.series, the array part of opts, or the single-series shorthand keys
  local list = {}
  if opts.series then for _, s in ipairs(opts.series) do list[#list + 1] = s end end
  for _, s in ipairs(opts) do list[#list + 1] = s end
  if kind == "history" and opts.values then
    list = history_series(opts.values, level)
    fig.opts.values = nil
  else
    local one
    for _, k in ipairs(SERIES_KEYS) do
      if opts[k] ~= nil then
        one = one or {}
        one[k] = opts[k]
        fig.opts[k] = nil
      end
    end
    -- values= is the data of hist, box and bar (elsewhere it means something else)
    if (kind == "hist" or kind == "box" or kind == "bar") and opts.values ~= nil then
      one = one or {}
      one.values = opts.values
      fig.opts.values = nil
    end
    if kind == "calibration" and one and opts.bins then one.bins = opts.bins end
    if kind == "calibration" and one and opts.strategy then one.strategy = opts.strategy end
    if one then list[#list + 1] = one end
  end
  if kind == "heatmap" then
    if opts.matrix == nil then error("plot.heatmap: matrix= is required", level) end
    fig.matrix = matrix(opts.matrix, "heatmap matrix", level)
    if #fig.matrix == 0 then error("plot.heatmap: the matrix is empty", level) end
  elseif kind == "importance" then
    fig.names, fig.values = named_values(opts, "plot.importance")
  elseif kind == "shap" then
    if opts.values == nil or opts.names == nil then
      error("plot.shap: values= (n x p SHAP matrix) and names= are required", level)
    end
    fig.shap = matrix(opts.values, "shap values", level)
    fig.names = strings(opts.names, "shap names", level)
    if #fig.shap == 0 then error("plot.shap: no rows", level) end
    for i, r in ipairs(fig.shap) do
      if #r ~= #fig.names then
        error(fmt("plot.shap: row %d has %d values for %d names", i, #r, #fig.names), level)
      end
    end
    if opts.features then
      fig.features = matrix(opts.features, "shap features", level)
      if #fig.features ~= #fig.shap then
        error(fmt("plot.shap: features has %d rows but values has %d", #fig.features,
          #fig.shap), level)
      end
    end
  else
    for _, s in ipairs(list) do add_series(fig, s, level + 1) end
    if #fig.series == 0 then error(fmt("plot.%s: no data (pass series)", kind), level) end
  end
  return fig
end

history_series = function(h, level)
  local t = tolist(h, "history", level)
  local list = {}
  if #t > 0 and type(t[1]) == "table" and not getmetatable(t[1]) and #t[1] == 0 then
    -- records
    local keys, x = {}, {}
    for k, v in pairs(t[1]) do
      if type(v) == "number" and k ~= "iter" and k ~= "epoch" and k ~= "iteration" then
        keys[#keys + 1] = k
      end
    end
    table.sort(keys)
    for i, r in ipairs(t) do x[i] = r.iter or r.epoch or r.iteration or i end
    for _, k in ipairs(keys) do
      local y = {}
      for i, r in ipairs(t) do y[i] = r[k] == nil and 0 / 0 or r[k] end
      list[#list + 1] = {x = x, y = y, name = k}
    end
  else
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do list[#list + 1] = {y = t[k], name = tostring(k)} end
  end
  if #list == 0 then error("plot.history: no numeric series in the history", level + 1) end
  return list
end

function add_series(fig, s, level, arg, fname)
  local K = kinds[fig.kind]
  if type(s) ~= "table" and type(s) ~= "userdata" then
    error(fmt("plot.%s: a series must be a table, got %s", fig.kind, type(s)), level)
  end
  if type(s) == "table" and not getmetatable(s) and SERIES_FIELDS[fig.kind] then
    local named = {}
    for k, v in pairs(s) do if math.type(k) ~= "integer" then named[k] = v end end
    check(named, arg or 1, fname or fig.kind, SERIES_FIELDS[fig.kind], level - 1,
          series_name(s, #fig.series + 1))
  end
  fig.series[#fig.series + 1] = K.norm(s, #fig.series + 1)
  return fig
end

--- Adds a series (a table of the kind's series fields); returns the figure.
function Figure:add(s)
  if self.kind == "heatmap" or self.kind == "importance" or self.kind == "shap" then
    error(fmt("figure:add: a %s figure takes its data in plot.%s{...}", self.kind, self.kind), 2)
  end
  local fig = add_series(self, s, 3, 2, "add") -- no tail call: error levels count this frame
  return fig
end

--- Sets options (title=, xlabel=, ...); returns the figure.
function Figure:set(opts)
  check(opts, 2, "set", OPT_LISTS[self.kind])
  for k, v in pairs(opts) do
    self.opts[k] = v
  end
  return self
end

local function range(r)
  local function e(v) return v == nil and "*" or num(v) end
  return fmt("[%s:%s]", e(r[1]), e(r[2]))
end

-- The drawing commands (everything after the terminal and output lines).
local function body_of(self, term)
  local o, b = self.opts, builder(term)
  -- In text (dumb) a grid drawn like a line takes the first series' glyph ('*'): there it is
  -- dotted (lt 0: '.' and ':'), and the key goes below the plot, where it covers no data.
  local L = {"set encoding utf8", "set border 3 lc rgb '#444444'", "set tics nomirror out",
    term == "dumb" and "set grid back lt 0" or "set grid back lc rgb '#e6e6e6' lt 1"}
  for i, c in ipairs(PALETTE) do
    L[#L + 1] = fmt("set linetype %d lc rgb '%s' lw %s pt 7 ps 0.6", i, c,
      term == "dumb" and "1" or "2")
  end
  if o.title then L[#L + 1] = "set title " .. gq(o.title) end
  if o.xlabel then L[#L + 1] = "set xlabel " .. gq(o.xlabel) end
  if o.ylabel then L[#L + 1] = "set ylabel " .. gq(o.ylabel) end
  if o.logx then L[#L + 1] = "set logscale x" end
  if o.logy then L[#L + 1] = "set logscale y" end
  if o.xrange then L[#L + 1] = "set xrange " .. range(o.xrange) end
  if o.yrange then L[#L + 1] = "set yrange " .. range(o.yrange) end
  local named = false
  for _, s in ipairs(self.series) do if s.name then named = true end end
  if o.legend == false then L[#L + 1] = "unset key"
  else
    -- bars fill the top of the plot, so their key goes below it rather than on a bar
    local pos = type(o.legend) == "string" and o.legend or term == "dumb" and "below width 3"
      or kinds[self.kind].legend or "top right"
    if type(o.legend) == "string" and not pos:match("^[%a ]+$") then
      error("legend: expected words like 'top left', got " .. pos, 3)
    end
    L[#L + 1] = fmt("set key %s noautotitle", pos)
  end
  if not named and o.legend == nil then L[#L + 1] = "unset key" end
  kinds[self.kind].draw(self, b)
  for _, s in ipairs(b.sets) do L[#L + 1] = s end
  if o.commands then
    for _, c in ipairs(type(o.commands) == "table" and o.commands or {o.commands}) do
      L[#L + 1] = tostring(c)
    end
  end
  for _, d in ipairs(b.blocks) do L[#L + 1] = d end
  L[#L + 1] = "plot " .. concat(b.plots, ", \\\n     ")
  return concat(L, "\n") .. "\n"
end

local TERMS = {png = "pngcairo", svg = "svg", pdf = "pdfcairo"}

local function size_of(fig, term)
  local s = fig.opts.size or {}
  local w, h = s[1] or s.width, s[2] or s.height
  if term == "dumb" then return w or 80, h or 24 end
  return w or 800, h or 500
end

local function terminal(fig, term, w, h)
  -- Text grows with the figure (10 pt at the default 800 x 500), so a big figure shown
  -- smaller on a page keeps readable labels; by the smaller ratio, so labels still fit.
  local scale = math.max(1, math.min(w / 800, h / 500))
  local function pt(base) return math.floor(base * scale + 0.5) end
  if term == "pngcairo" then
    return fmt("set terminal pngcairo size %d,%d noenhanced font 'Sans,%d' background '#ffffff'",
      w, h, pt(10))
  elseif term == "svg" then
    return fmt("set terminal svg size %d,%d noenhanced font 'sans-serif,%d' background '#ffffff'",
      w, h, pt(13))
  elseif term == "pdfcairo" then
    return fmt("set terminal pdfcairo size %gin,%gin noenhanced font 'Sans,%d'", w / 100, h / 100,
      pt(10))
  elseif term == "dumb" then
    return fmt("set terminal dumb size %d,%d noenhanced", w, h)
  end
  error("unknown terminal " .. tostring(term) .. " for " .. describe(fig))
end

--- The gnuplot script. With a path, the full script that save(path) runs; without, the
--- drawing commands only (no terminal or output).
function Figure:script(path)
  if path == nil then return body_of(self, "svg") end
  local ext = tostring(path):match("%.(%w+)$")
  local term = TERMS[ext and ext:lower() or ""]
  if not term then
    error(fmt("figure:script: '%s': extension must be .png, .svg or .pdf", path), 2)
  end
  return terminal(self, term, size_of(self, term)) .. "\nset output " .. gq(path) .. "\n"
    .. body_of(self, term) .. "unset output\n"
end

-- ---- running gnuplot -------------------------------------------------------------------

local gnuplot_path -- found on first use

local function find_gnuplot()
  if gnuplot_path then return gnuplot_path end
  local env = os.getenv("CHURNLAB_GNUPLOT")
  local cands = {}
  if env and env ~= "" then cands[1] = env
  else
    for dir in (os.getenv("PATH") or ""):gmatch("[^:]+") do
      cands[#cands + 1] = dir .. "/gnuplot"
    end
  end
  for _, p in ipairs(cands) do
    local f = io.open(p, "rb")
    if f then
      f:close()
      gnuplot_path = p
      return p
    end
  end
  return nil, "gnuplot not found: install the Debian package gnuplot-nox"
    .. " (apt-get install gnuplot-nox) or set CHURNLAB_GNUPLOT"
end
--- Forgets the gnuplot found earlier (it is looked for again on the next drawing).
function M.reset() gnuplot_path = nil end

--- True when gnuplot can be found, else nil, msg (how to install it): the one probing
--- function, for scripts that draw only when they can. Drawing itself raises.
function M.available()
  local exe, err = find_gnuplot()
  if not exe then return nil, err end
  return true
end

local function gnuplot_or_raise()
  local exe, err = find_gnuplot()
  if not exe then error(err) end
  return exe
end

local read_all = require("churnlab.util.files").read_all

local tmp_counter = 0
local function tmp_beside(path)
  tmp_counter = tmp_counter + 1
  local dir, base = tostring(path):match("^(.-)([^/]*)$")
  local tag = tostring({}):match("0x(%x+)") or tostring(os.time())
  return fmt("%s.%s.%s-%d.tmp", dir, base, tag, tmp_counter)
end

local function write_atomic(path, data)
  local tmp = tmp_beside(path)
  local f, err = io.open(tmp, "wb")
  if not f then return nil, err end
  local ok, werr = f:write(data)
  local cok, cerr = f:close()
  if not ok or not cok then os.remove(tmp) return nil, tostring(werr or cerr) end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp) return nil, rerr end
  return true
end

-- Runs a full script; returns true or nil, msg with gnuplot's stderr.
local function run(fig, script)
  local exe = gnuplot_or_raise()
  local sfile = os.tmpname()
  local ok, werr = write_atomic(sfile, script)
  if not ok then
    os.remove(sfile)
    return nil, "cannot write a temporary gnuplot script: " .. tostring(werr)
  end
  local p, perr = io.popen(shq(exe) .. " " .. shq(sfile) .. " 2>&1", "r")
  if not p then
    os.remove(sfile)
    return nil, "cannot start gnuplot: " .. tostring(perr)
  end
  local out = p:read("a") or ""
  local cok, how, code = p:close()
  os.remove(sfile)
  out = out:gsub("%s+$", "")
  if not cok then
    local status = how == "signal" and ("killed by signal " .. tostring(code))
      or ("exit status " .. tostring(code))
    return nil, fmt("gnuplot failed drawing %s (%s):\n%s", describe(fig), status,
      out ~= "" and out or "(no message)")
  end
  fig.warnings = out ~= "" and out or nil
  return true
end

--- Saves the figure; the terminal follows the extension (.png pngcairo, .svg svg, .pdf
--- pdfcairo). Also writes the script that drew it next to the image (x.gp) unless
--- opts.script == false. Creates missing folders. Returns path; raises naming the file when
--- it cannot be written or gnuplot is missing or fails.
function Figure:save(path, opts)
  check(opts, 3, "save", {"script"})
  if type(path) ~= "string" or path == "" then
    error("figure:save: expected a file name ending in .png, .svg or .pdf", 2)
  end
  local ext = path:match("%.(%w+)$")
  local term = TERMS[ext and ext:lower() or ""]
  if not term then
    error(fmt("figure:save: '%s': extension must be .png, .svg or .pdf", path), 2)
  end
  if path:find("[\n\r]") then error("figure:save: file name contains a newline", 2) end
  local w, h = size_of(self, term)
  local body = body_of(self, term)
  gnuplot_or_raise() -- before any folder is made
  local dir = path:match("^(.*)/[^/]*$")
  if dir and dir ~= "" then core.mkdirs(dir) end
  local tmp = tmp_beside(path)
  local probe, perr = io.open(tmp, "wb") -- a clear message for a read-only folder
  if not probe then error(fmt("cannot write '%s': %s", path, (perr:gsub("^[^:]*: ", "")))) end
  probe:close()
  local ok, err = run(self, terminal(self, term, w, h) .. "\nset output " .. gq(tmp) .. "\n"
    .. body .. "unset output\n")
  if not ok then os.remove(tmp) error(fmt("cannot write '%s': %s", path, err)) end
  local size = read_all(tmp)
  if not size or #size == 0 then
    os.remove(tmp)
    error(fmt("cannot write '%s': gnuplot wrote nothing for %s", path, describe(self)))
  end
  local rok, rerr = os.rename(tmp, path)
  if not rok then os.remove(tmp) error(fmt("cannot write '%s': %s", path, rerr)) end
  if not (opts and opts.script == false) then
    local gp = path:gsub("%.%w+$", "") .. ".gp"
    local base = path:match("([^/]*)$")
    local sok, serr = write_atomic(gp, fmt("# churnlab figure: %s\n# redraw: gnuplot %s "
      .. "(from this folder)\n", describe(self):gsub("\n", " "), gp:match("([^/]*)$"))
      .. terminal(self, term, w, h) .. "\nset output " .. gq(base) .. "\n" .. body
      .. "unset output\n")
    if not sok then error(fmt("cannot write '%s': %s", gp, tostring(serr))) end
  end
  return path
end

local function term_size()
  local c, l = tonumber(os.getenv("COLUMNS") or ""), tonumber(os.getenv("LINES") or "")
  if not (c and l) then
    local p = io.popen("stty size 2>/dev/null </dev/tty", "r")
    if p then
      local s = p:read("a") or ""
      p:close()
      local r, k = s:match("(%d+)%s+(%d+)")
      l, c = l or tonumber(r), c or tonumber(k)
    end
  end
  if not c or c < 20 then c = 80 end
  if not l or l < 8 then l = 24 end
  return c, l
end

--- The figure drawn as text by gnuplot's dumb terminal: width x height characters
--- (default: the terminal window). Returns the text; raises when gnuplot is missing or fails.
function Figure:text(opts)
  opts = check(opts, 2, "text", {"width", "height"})
  gnuplot_or_raise()
  local c, l
  if not (opts.width and opts.height) then c, l = term_size(); l = l - 1 end
  local w, h = opts.width or c, opts.height or l
  if math.type(w) ~= "integer" or math.type(h) ~= "integer" or w < 10 or h < 5 then
    error("figure:text: width and height must be integers >= 10 and >= 5", 2)
  end
  local tmp = os.tmpname()
  local ok, err = run(self, terminal(self, "dumb", w, h) .. "\nset output " .. gq(tmp) .. "\n"
    .. body_of(self, "dumb") .. "unset output\n")
  local s = read_all(tmp)
  os.remove(tmp)
  if not ok then error(err) end
  s = (s or ""):gsub("^\f", "")
  return s
end

--- Draws the figure in the terminal (gnuplot's dumb terminal sized to the window).
--- Returns the figure; raises like text().
function Figure:show(opts)
  check(opts, 2, "show", {"width", "height"})
  local s = self:text(opts)
  io.stdout:write(s)
  io.stdout:flush()
  return self
end

function FigureMT.__tostring(self)
  return fmt("churnlab.Figure %s (%d series)%s", self.kind, #self.series,
    self.opts.title and (" '" .. tostring(self.opts.title):gsub("\n", " ") .. "'") or "")
end

-- ---- constructors ----------------------------------------------------------------------

-- no tail calls into new: its error levels count the constructor's frame, so errors point
-- at the user's line
for kind in pairs(kinds) do
  M[kind] = function(opts, extra) local fig = new(kind, opts, 2, extra) return fig end
end
-- plot.history(h [, opts]) or plot.history{values = h, ...}
M.history = function(h, extra)
  if extra ~= nil or (type(h) == "table" and not getmetatable(h) and h.values == nil) then
    local o = {}
    for k, v in pairs(extra or {}) do o[k] = v end
    o.values = h
    local fig = new("history", o, 2)
    return fig
  end
  local fig = new("history", h, 2)
  return fig
end
M.Figure = Figure
-- internals shared with churnlab.report and the tests
M._private = {gq = gq, find_gnuplot = find_gnuplot, write_atomic = write_atomic}
--- True when v is a figure made by churnlab.plot.
function M.is_figure(v) return getmetatable(v) == FigureMT end
M.kinds = {}
for kind in pairs(kinds) do M.kinds[#M.kinds + 1] = kind end
table.sort(M.kinds)

-- ---- help() texts (churnlab.help reads them from the docs registry) ----------------------

local COMMON = " Options: title=, xlabel=, ylabel=, logx=, logy=, xrange={lo, hi}, " ..
  "yrange=, size={w, h} (pixels; characters for text), legend='top left' or false, " ..
  "commands={extra gnuplot lines}. Data: Lua tables, tensors or frame columns; NaN skipped."
local DOCS = {
  [M] = "plots through gnuplot (png, svg, pdf, or ASCII in the terminal)",
  line = "line{ {x=, y=, name=}, ... } or line(y [, opts]) -> figure: lines, one per series" ..
    " (x defaults to 1..n; with='linespoints'|'steps' per series).",
  scatter = "scatter{ {x=, y=, name=}, ..., pointsize= } -> figure: points.",
  hist = "hist{ {values=, name=}, ..., bins=, density=, binrange={lo, hi} } -> figure: " ..
    "histograms over common bins (Sturges by default), overlaid when several.",
  bar = "bar{ {values=, name=}, ..., labels={...}, stacked=, horizontal= } -> figure: grouped " ..
    "or stacked bars, one group per label.",
  box = "box{ {values=, name=}, ... } -> figure: Tukey box plots (whiskers at 1.5 IQR, " ..
    "outliers as points).",
  heatmap = "heatmap{matrix=rows or 2-D tensor, xlabels=, ylabels=, values=, digits=, " ..
    "palette='diverging'|'sequential', cbrange=} -> figure: e.g. a correlation matrix or cohort table.",
  roc = "roc{ {y=labels, score=, name=, positive=}, ... } -> figure: ROC curves with AUC in " ..
    "the legend; or series {fpr=, tpr=} / {curve = metrics.roc_curve(y, p)}.",
  pr = "pr{ {y=, score=, name=}, ... } -> figure: precision-recall curves with average " ..
    "precision and the base rate; or {precision=, recall=} / {curve = metrics.pr_curve(...)}.",
  calibration = "calibration{ {y=, score=, bins=10, strategy='uniform'|'quantile', name=}, ... } " ..
    "-> figure: reliability curves against the diagonal; or {predicted=, observed=} / " ..
    "{curve = metrics.calibration(...)}. Quantile bins hold equal numbers of customers.",
  gains = "gains{ {y=, score=, name=}, ... } -> figure: cumulative gains (share of churners " ..
    "reached vs share of customers targeted).",
  lift = "lift{ {y=, score=, name=}, ... } -> figure: lift curves (gains / share targeted).",
  importance = "importance{names=, values=, top=20} or importance{values={name = v}} -> " ..
    "figure: horizontal bars, largest at the top.",
  shap = "shap{values=n x p SHAP values, names=, features=n x p feature values, " ..
    "style='beeswarm'|'bar', top=20, max_rows=2000 (rows drawn; evenly spaced)} -> figure: " ..
    "SHAP summary, features ordered by mean |SHAP| over all rows.",
  survival = "survival{ {time=, event=, name=, level=0.95}, ... } -> figure: Kaplan-Meier " ..
    "step curves with Greenwood log-log bands; or {time=, surv=, lower=, upper=}, or " ..
    "{curve = survival.km(time, event)}.",
  history = "history(h [, opts]) -> figure: training curves; h maps names to lists, or is a " ..
    "list of records {iter=, train_loss=, ...}; best='min'|'max' marks the best points.",
  quantile = "quantile(sorted, p) -> value: linear interpolation (numpy's default).",
  boxstats = "boxstats(values) -> {q1, median, q3, lo, hi, outliers, n}.",
  histogram = "histogram(values [, bins [, {lo, hi}]]) -> edges, counts (numpy's bins).",
  roc_curve = "roc_curve(y, score) -> fpr, tpr, auc.",
  pr_curve = "pr_curve(y, score) -> precision, recall, average_precision.",
  gains_curve = "gains_curve(y, score) -> share targeted, share of positives reached.",
  calibration_curve = "calibration_curve(y, p [, bins [, strategy]]) -> mean predicted, " ..
    "observed rate, counts per non-empty bin (scikit-learn's bins: strategy 'uniform', the " ..
    "default, or 'quantile' for bins of equal counts).",
  kaplan_meier = "kaplan_meier(time, event [, level]) -> {time, surv, lower, upper, at_risk, " ..
    "events}: Kaplan-Meier with Greenwood log-log confidence bands.",
  is_figure = "is_figure(v) -> boolean.",
  reset = "reset(): forget where gnuplot was found (looked up again on the next drawing).",
  available = "available() -> true | nil, msg: whether gnuplot can be found (msg says how to " ..
    "install it). The one probe; drawing raises: if plot.available() then fig:save(p) end.",
}
local FIG_DOCS = {
  ["churnlab.Figure"] = "a gnuplot figure: fig:save('x.png'|'x.svg'|'x.pdf'), fig:show(), " ..
    "fig:text{width=, height=}, fig:script(), fig:add{...}, fig:set{...}.",
  add = "fig:add{series fields} -> fig: adds a series.",
  set = "fig:set{title=, xlabel=, ...} -> fig: changes options.",
  script = "fig:script([path]) -> text: the gnuplot commands (with a path: the full script " ..
    "that save(path) runs).",
  save = "fig:save(path [, {script = false}]) -> path: draws to .png (pngcairo), " ..
    ".svg or .pdf (pdfcairo), atomically, into folders created as needed, and writes the " ..
    "script beside it (x.gp) so the figure can be redrawn by hand. Raises an error naming the " ..
    "file when it cannot be written or gnuplot is missing or fails (its message included); " ..
    "to carry on without the figure: local ok, err = pcall(fig.save, fig, path).",
  show = "fig:show([{width=, height=}]) -> fig: draws in the terminal with " ..
    "gnuplot's dumb terminal, sized to the window (COLUMNS/LINES or stty); raises when " ..
    "gnuplot is missing or fails.",
  text = "fig:text{width=, height=} -> text: the dumb-terminal drawing as a string (raises " ..
    "like show).",
}
local okc, core = pcall(require, "churnlab.core")
if okc and type(core) == "table" and type(core.docs) == "function" then
  local docs = core.docs()
  for k, d in pairs(DOCS) do
    local f = k == M and M or M[k]
    if f then
      docs[f] = (type(k) == "string" and kinds[k]) and (d .. COMMON) or d
    end
  end
  for k, d in pairs(FIG_DOCS) do docs[k:find("%.") and k or Figure[k]] = d end
end

return M
