-- churnlab.plot.stats: the statistics behind churnlab.plot's figures, in plain Lua.
--
-- Quantiles and Tukey box statistics, histograms, ROC / precision-recall / cumulative gains /
-- calibration curves and the Kaplan-Meier estimator. Each is checked in tests/lua/plot.lua
-- against scikit-learn and numpy (tests/data/plot_ref.lua) or brute force. Re-exported by
-- churnlab.plot (plot.roc_curve, ...). Inputs may be Lua tables, tensors or frame columns
-- (anything with :totable()).
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local error = require("churnlab.core").raise
local S = {}

local fmt, floor = string.format, math.floor
local huge = math.huge

local function finite(v) return type(v) == "number" and v == v and v ~= huge and v ~= -huge end
S.finite = finite

local function num(v) return fmt("%.10g", v) end

-- Converts a tensor/column/table to a plain Lua list. `what` names the argument in errors.
local function tolist(v, what, level)
  local t = type(v)
  if t == "table" then
    local mt = getmetatable(v)
    local f = mt and (rawget(v, "totable") == nil) and v.totable
    if type(f) == "function" then return f(v) end
    return v
  elseif t == "userdata" then
    local ok, f = pcall(function() return v.totable end)
    if ok and type(f) == "function" then return f(v) end
  end
  error(fmt("%s: expected a table, tensor or column, got %s", what, t), (level or 1) + 1)
end

-- A list of numbers (non-numbers are an error; NaN stays NaN and is skipped later). A list
-- of one-element rows (an n x 1 tensor) is flattened.
local function numbers(v, what, level)
  level = (level or 1) + 1
  local list = tolist(v, what, level)
  local out, n = {}, 0
  for k in pairs(list) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  for i = 1, n do
    local x = list[i]
    if type(x) == "table" and #x == 1 then x = x[1] end
    if x == nil then x = 0 / 0
    elseif type(x) == "boolean" then x = x and 1 or 0
    elseif type(x) ~= "number" then
      local y = tonumber(x)
      if y == nil then
        error(fmt("%s: element %d is %s, expected a number", what, i,
          type(x) == "string" and fmt("'%s'", x) or type(x)), level)
      end
      x = y
    end
    out[i] = x
  end
  return out
end

S.tolist, S.numbers = tolist, numbers

-- ---- statistics used by the figures (exported for tests and for reports) ----------------

-- Quantile p of a sorted list (linear interpolation, numpy's default "type 7").
function S.quantile(sorted, p)
  local n = #sorted
  if n == 0 then return 0 / 0 end
  local h = (n - 1) * p + 1
  local lo = floor(h)
  if lo >= n then return sorted[n] end
  return sorted[lo] + (h - lo) * (sorted[lo + 1] - sorted[lo])
end

local function finite_sorted(values)
  local s = {}
  for i = 1, #values do if finite(values[i]) then s[#s + 1] = values[i] end end
  table.sort(s)
  return s
end

-- Tukey box statistics: q1, median, q3, whiskers at the most extreme points within 1.5 IQR,
-- and the outliers beyond them.
function S.boxstats(values)
  local s = finite_sorted(numbers(values, "boxstats", 2))
  if #s == 0 then error("boxstats: no finite values", 2) end
  local q1, med, q3 = S.quantile(s, 0.25), S.quantile(s, 0.5), S.quantile(s, 0.75)
  local lof, hif = q1 - 1.5 * (q3 - q1), q3 + 1.5 * (q3 - q1)
  local lo, hi, out = huge, -huge, {}
  for _, v in ipairs(s) do
    if v < lof or v > hif then out[#out + 1] = v
    else
      if v < lo then lo = v end
      if v > hi then hi = v end
    end
  end
  return {q1 = q1, median = med, q3 = q3, lo = lo, hi = hi, outliers = out, n = #s}
end

-- Histogram of values over `bins` equal bins spanning range {lo, hi} (default: the data's
-- range). Returns edges (bins + 1) and counts; values outside the range are ignored, the last
-- bin includes its upper edge (numpy.histogram's convention).
function S.histogram(values, bins, range)
  local v = numbers(values, "histogram", 2)
  local lo, hi = huge, -huge
  if range then lo, hi = range[1], range[2]
  else
    for i = 1, #v do
      if finite(v[i]) then
        if v[i] < lo then lo = v[i] end
        if v[i] > hi then hi = v[i] end
      end
    end
  end
  if lo > hi then error("histogram: no finite values", 2) end
  if lo == hi then lo, hi = lo - 0.5, hi + 0.5 end
  bins = bins or 10
  local w = (hi - lo) / bins
  local edges, counts = {}, {}
  for b = 0, bins do edges[b + 1] = lo + b * w end
  edges[bins + 1] = hi
  for b = 1, bins do counts[b] = 0 end
  for i = 1, #v do
    local x = v[i]
    if finite(x) and x >= lo and x <= hi then
      local b = floor((x - lo) / w) + 1
      if b > bins then b = bins end
      -- guard against rounding at interior edges
      if b > 1 and x < edges[b] then b = b - 1 end
      if b < bins and x >= edges[b + 1] then b = b + 1 end
      counts[b] = counts[b] + 1
    end
  end
  return edges, counts
end

-- Pairs (label, score) with a finite score, sorted by descending score.
local function ranked(y, score)
  local idx = {}
  for i = 1, math.min(#y, #score) do
    if finite(score[i]) then idx[#idx + 1] = i end
  end
  table.sort(idx, function(a, b)
    if score[a] ~= score[b] then return score[a] > score[b] end
    return a < b
  end)
  return idx
end

-- Walks distinct thresholds from the highest score down, calling fn(tp, fp, k) after each
-- group of tied scores (k = rows taken so far). Returns P, N.
local function sweep(y, score, fn)
  local idx = ranked(y, score)
  local P, N = 0, 0
  for _, i in ipairs(idx) do if y[i] == 1 then P = P + 1 else N = N + 1 end end
  local tp, fp = 0, 0
  for k, i in ipairs(idx) do
    if y[i] == 1 then tp = tp + 1 else fp = fp + 1 end
    local nxt = idx[k + 1]
    if nxt == nil or score[nxt] ~= score[i] then fn(tp, fp, k) end
  end
  return P, N, #idx
end

-- ROC curve: false and true positive rates at every distinct threshold (from (0,0)) and the
-- area under it (trapezoids: ties count one half, as in the Mann-Whitney statistic).
function S.roc_curve(y, score)
  local fpr, tpr = {0}, {0}
  local P, N = sweep(y, score, function(tp, fp)
    fpr[#fpr + 1], tpr[#tpr + 1] = fp, tp
  end)
  if P == 0 or N == 0 then error("roc: needs both classes among the labels", 2) end
  local auc = 0
  for i = 1, #fpr do
    fpr[i], tpr[i] = fpr[i] / N, tpr[i] / P
    if i > 1 then auc = auc + (fpr[i] - fpr[i - 1]) * (tpr[i] + tpr[i - 1]) / 2 end
  end
  return fpr, tpr, auc
end

-- Precision-recall curve from recall 0 (precision 1) to the first threshold reaching full
-- recall, and the average precision sum (R_k - R_{k-1}) P_k (scikit-learn's definition; the
-- figure draws the curve as steps whose area is exactly that).
function S.pr_curve(y, score)
  local prec, rec = {1}, {0}
  local P = sweep(y, score, function(tp, fp)
    prec[#prec + 1], rec[#rec + 1] = tp / (tp + fp), tp
  end)
  -- like scikit-learn, the curve stops at the first threshold reaching full recall
  for i = 2, #rec do
    if rec[i] == P then
      for j = #rec, i + 1, -1 do rec[j], prec[j] = nil, nil end
      break
    end
  end
  if P == 0 then error("pr: needs at least one positive label", 2) end
  local ap = 0
  for i = 2, #rec do
    rec[i] = rec[i] / P
    ap = ap + (rec[i] - rec[i - 1]) * prec[i]
  end
  return prec, rec, ap
end

-- Cumulative gains: fraction of the population targeted (highest scores first) vs fraction
-- of all positives captured, from (0,0) to (1,1).
function S.gains_curve(y, score)
  local frac, gain = {0}, {0}
  local P, _, n = sweep(y, score, function(tp, _, k)
    frac[#frac + 1], gain[#gain + 1] = k, tp
  end)
  if P == 0 then error("gains: needs at least one positive label", 2) end
  for i = 2, #frac do frac[i], gain[i] = frac[i] / n, gain[i] / P end
  return frac, gain
end

-- Reliability curve: the mean prediction, the observed positive rate and the count of every
-- non-empty bin of predicted probability (scikit-learn's calibration_curve, same bin edges).
-- strategy "uniform" (default): `bins` equal-width bins on [0, 1]; "quantile": edges at the
-- predictions' quantiles (numpy's linear percentiles), so every bin holds about n / bins
-- customers and the points where few customers score stay readable. A value on an edge goes
-- to the lower bin in both.
function S.calibration_curve(y, p, bins, strategy)
  bins = bins or 10
  strategy = strategy or "uniform"
  if strategy ~= "uniform" and strategy ~= "quantile" then
    error("calibration_curve: strategy must be 'uniform' or 'quantile', got " .. tostring(strategy), 2)
  end
  if math.type(bins) ~= "integer" and not (type(bins) == "number" and bins == math.floor(bins)) then
    error("calibration_curve: bins must be a whole number, got " .. tostring(bins), 2)
  end
  if bins < 1 or bins > 10000 then
    error("calibration_curve: bins must be in [1, 10000], got " .. tostring(bins), 2)
  end
  bins = math.tointeger(bins)
  local m = math.min(#y, #p)
  for i = 1, m do
    local v = p[i]
    if finite(v) and (v < 0 or v > 1) then
      error(fmt("calibration: prediction %d is %s, expected a probability in [0, 1]", i,
        num(v)), 2)
    end
  end
  -- inner edges e[1..bins-1]; bin b (1-based) holds e[b-1] < v <= e[b]
  local e = {}
  if strategy == "uniform" then
    -- scikit-learn's edges k * (1 + 1e-8) / bins
    for k = 1, bins - 1 do e[k] = k * (1 + 1e-8) / bins end
  else
    local s = {}
    for i = 1, m do if finite(p[i]) then s[#s + 1] = p[i] end end
    table.sort(s)
    for k = 1, bins - 1 do e[k] = S.quantile(s, k / bins) end
  end
  local sp, sy, cnt = {}, {}, {}
  for b = 1, bins do sp[b], sy[b], cnt[b] = 0, 0, 0 end
  for i = 1, m do
    local v = p[i]
    if finite(v) then
      local lo, hi = 1, bins -- the first bin whose upper edge is >= v (binary search)
      while lo < hi do
        local mid = (lo + hi) // 2
        if e[mid] >= v then hi = mid else lo = mid + 1 end
      end
      sp[lo], sy[lo], cnt[lo] = sp[lo] + v, sy[lo] + y[i], cnt[lo] + 1
    end
  end
  local pred, obs, counts = {}, {}, {}
  for b = 1, bins do
    if cnt[b] > 0 then
      pred[#pred + 1], obs[#obs + 1], counts[#counts + 1] = sp[b] / cnt[b], sy[b] / cnt[b], cnt[b]
    end
  end
  if #pred == 0 then error("calibration: no finite predictions", 2) end
  return pred, obs, counts
end

-- Kaplan-Meier estimate with pointwise confidence bands from Greenwood's variance on the
-- log(-log S) scale (the default of lifelines and R's survival with conf.type="log-log").
-- time: durations; event: 1 = event observed, 0 = censored. Returns a table of step values
-- {time, surv, lower, upper, at_risk, events}, starting at time 0 with S = 1.
function S.kaplan_meier(time, event, level)
  local z = level == 0.9 and 1.6448536269514722 or level == 0.99 and 2.5758293035489004
    or 1.959963984540054
  local idx = {}
  for i = 1, #time do if finite(time[i]) and event[i] ~= nil then idx[#idx + 1] = i end end
  if #idx == 0 then error("survival: no finite durations", 2) end
  table.sort(idx, function(a, b)
    if time[a] ~= time[b] then return time[a] < time[b] end
    return a < b
  end)
  local r = {time = {0}, surv = {1}, lower = {1}, upper = {1}, at_risk = {#idx}, events = {0}}
  local n, S, gw, k = #idx, 1, 0, 1
  while k <= #idx do
    local t, d, c = time[idx[k]], 0, 0
    while k <= #idx and time[idx[k]] == t do
      if event[idx[k]] ~= 0 then d = d + 1 else c = c + 1 end
      k = k + 1
    end
    if d > 0 then
      S = S * (1 - d / n)
      local lo, hi
      if S <= 0 then lo, hi, gw = 0, 0, huge
      else
        gw = gw + d / (n * (n - d))
        local se = math.sqrt(gw) / math.abs(math.log(S))
        local cc = math.log(-math.log(S))
        lo, hi = math.exp(-math.exp(cc + z * se)), math.exp(-math.exp(cc - z * se))
      end
      local j = #r.time + 1
      r.time[j], r.surv[j], r.lower[j], r.upper[j], r.at_risk[j], r.events[j] = t, S, lo, hi, n, d
    end
    n = n - d - c
  end
  -- the curve continues flat to the last (possibly censored) time
  local tl = time[idx[#idx]]
  if tl > r.time[#r.time] then
    local j = #r.time + 1
    r.time[j], r.surv[j], r.lower[j], r.upper[j], r.at_risk[j], r.events[j] =
      tl, S, r.lower[j - 1], r.upper[j - 1], n, 0
  end
  return r
end
S.finite_sorted = finite_sorted

return S
