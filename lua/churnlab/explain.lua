-- churnlab.explain: why customers leave, globally and per customer, for any model.
--
--   local E = require "churnlab.explain"
--   local imp = E.importance(model, X, y, {pipeline = p})      -- permutation importance
--   local pd  = E.pdp(model, X, "tenure", {pipeline = p})       -- partial dependence + ICE
--   local phi, names = E.shap(model, X, {pipeline = p, background = Xtrain})
--   local why = E.reasons(model, p, customers_frame, {top = 3})
--   print(why[1].text)  --> "Contract = Month-to-month raises churn risk by 14.2 points; ..."
--
-- With a fitted pipeline, explanations are per ORIGINAL column: the one-hot columns of
-- `Contract` are permuted, perturbed and summed together. SHAP values are on the probability
-- scale (points of churn risk) so they can be read and added up; tree models use exact
-- TreeSHAP rescaled to probabilities (the trees module documents the rescaling), linear
-- models use the exact interventional formula on the log-odds mapped the same way, and
-- other models (the MLP) use KernelSHAP against a background sample.
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local error = require("churnlab.core").raise
local xai = require "churnlab.xai"
local tensor = require "churnlab.tensor"
local check = require("churnlab.options").check

local E = {}

-- Column groups: {groups = {g per tensor column}, names = {group name}, sources = {...}}.
function E.groups(pipeline, d)
  if pipeline == nil then
    local g, names = {}, {}
    for j = 1, d do g[j] = j; names[j] = "x" .. j end
    return {groups = g, names = names}
  end
  local src = pipeline:sources()
  if d and #src ~= d then
    error(string.format("explain: the pipeline makes %d columns but X has %d", #src, d), 3)
  end
  local g, names, index = {}, {}, {}
  for j, s in ipairs(src) do
    local k = index[s.column]
    if not k then
      names[#names + 1] = s.column
      k = #names
      index[s.column] = k
    end
    g[j] = k
  end
  return {groups = g, names = names, sources = src, index = index}
end

local function cols(X)
  local _, c = X:shape()
  return c
end

local function sorted_table(names, mean, sd, key)
  local rows = {}
  for k = 1, #names do
    rows[k] = {feature = names[k], [key] = mean:get(k), sd = sd and sd:get(k) or nil}
  end
  table.sort(rows, function(a, b)
    if a[key] ~= b[key] then return a[key] > b[key] end
    return a.feature < b.feature
  end)
  return rows
end

local Table = {__name = "churnlab.ExplainTable"}
Table.__index = Table
function Table:__tostring()
  local out = {string.format("%-28s %12s %10s", "feature", self.key, "sd")}
  for _, r in ipairs(self) do
    out[#out + 1] = string.format("%-28.28s %12.5f %10s", r.feature, r[self.key],
                                  r.sd and string.format("%.5f", r.sd) or "")
  end
  return table.concat(out, "\n")
end

-- Permutation importance per original column, sorted (largest first).
-- opts: pipeline, metric ("auc"|"logloss"|"brier"|"accuracy"), repeats (5), seed.
function E.importance(model, X, y, opts)
  opts = check(opts, 4, "importance", {"pipeline", "metric", "repeats", "seed", "verbose"})
  local G = E.groups(opts.pipeline, cols(X))
  local mean, sd, base = xai.permutation(model, X, y, {groups = G.groups, metric = opts.metric,
    repeats = opts.repeats, seed = opts.seed, verbose = opts.verbose})
  local t = sorted_table(G.names, mean, sd, "importance")
  t.key, t.baseline, t.metric = "importance", base, opts.metric or "auc"
  return setmetatable(t, Table)
end

-- Partial dependence and ICE of one original column (name with a pipeline, or index).
-- Numeric columns: a grid of quantiles of the column (opts.grid = n points or a list);
-- one-hot categorical columns: one point per category. Returns {column, grid, labels, pd,
-- ice (tensor rows x grid), categorical}.
function E.pdp(model, X, column, opts)
  opts = check(opts, 4, "pdp", {"pipeline", "grid", "sample"})
  local d = cols(X)
  local G = E.groups(opts.pipeline, d)
  local g = type(column) == "number" and column or (G.index and G.index[column])
  if not g then error("pdp: unknown column '" .. tostring(column) .. "'", 2) end
  local members = {}
  for j = 1, d do if G.groups[j] == g then members[#members + 1] = j end end
  local Xs = X
  local n = X:shape()
  if opts.sample and opts.sample < n then Xs = X:rows(1, opts.sample) end
  local grid, labels, categorical = {}, {}, false
  local src = G.sources and G.sources[members[1]]
  if #members > 1 or (src and src.label) then
    categorical = true
    for k, j in ipairs(members) do
      local pt = {}
      for c = 1, #members do pt[c] = c == k and 1 or 0 end
      grid[k] = pt
      labels[k] = G.sources and (G.sources[j].label or G.sources[j].feature) or ("level " .. k)
    end
  else
    local vals = {}
    for i = 1, n do vals[i] = X:get(i, members[1]) end
    table.sort(vals)
    if type(opts.grid) == "table" then
      grid = opts.grid
    else
      local m = opts.grid or 20
      local last
      for k = 0, m - 1 do
        local v = vals[math.floor(k / math.max(1, m - 1) * (n - 1)) + 1]
        if v ~= last then grid[#grid + 1] = v; last = v end
      end
    end
    -- labels in the column's own units (months, not min-max fractions); the grid stays in
    -- the model's units, which is what ice() feeds the model
    for k, v in ipairs(grid) do
      labels[k] = opts.pipeline and opts.pipeline:unscale(members[1], v) or v
    end
  end
  local ice = xai.ice(model, Xs, g, grid, {groups = G.groups})
  local rows = ice:shape()
  local pd = {}
  for k = 1, #grid do
    local s = 0
    for i = 1, rows do s = s + ice:get(i, k) end
    pd[k] = s / rows
  end
  return {column = G.names[g], grid = grid, labels = labels, pd = pd, ice = ice,
          categorical = categorical}
end

local function logit(p) return math.log(p / (1 - p)) end
local function sigmoid(z) return 1 / (1 + math.exp(-z)) end

-- Margin-space contributions phi (n x (g + 1), last = base margin) mapped to probability
-- points: each row's contributions are scaled so they add up to p(x) - p(base) (the same
-- documented rescaling the trees module uses).
local function margin_to_probability(phi, n, g)
  for i = 1, n do
    local base, total = phi:get(i, g + 1), 0
    for k = 1, g do total = total + phi:get(i, k) end
    local dp = sigmoid(base + total) - sigmoid(base)
    local scale = total ~= 0 and dp / total or 0
    for k = 1, g do phi:set(i, k, phi:get(i, k) * scale) end
    phi:set(i, g + 1, sigmoid(base))
  end
  return phi
end

-- SHAP values per original column on the probability scale: n x (groups + 1) tensor, the
-- last column the expected value, and the group names. opts: pipeline, background (rows
-- for KernelSHAP and linear SHAP; default: up to 100 rows of X), samples, seed, method
-- ("auto"|"tree"|"linear"|"kernel").
function E.shap(model, X, opts)
  opts = check(opts, 3, "shap", {"pipeline", "background", "samples", "seed", "method", "verbose"})
  local n, d = X:shape()
  local G = E.groups(opts.pipeline, d)
  local method = opts.method or "auto"
  if method ~= "auto" and method ~= "tree" and method ~= "linear" and method ~= "kernel" then
    -- any other word would silently fall through to KernelSHAP
    error("bad argument #3 to 'shap' (option 'method' must be \"auto\", \"tree\", \"linear\" or \"kernel\", got " .. tostring(method) .. ")", 2)
  end
  local g = #G.names
  if method == "tree" or (method == "auto" and type(model) ~= "function" and model.shap) then
    local phi, names = model:shap(X, {pipeline = opts.pipeline, scale = "probability"})
    return phi, names or G.names
  end
  local bg = opts.background or X:rows(1, math.min(n, 100))
  if method == "linear" or (method == "auto" and type(model) ~= "function" and model.coef
                            and model.intercept) then
    -- interventional SHAP of a linear model in log-odds: w_j (x_j - mean_bg(x_j))
    local coef, names = model:coef(), opts.pipeline and opts.pipeline:feature_names()
    local w = {}
    for j = 1, d do
      w[j] = coef[names and names[j] or j] or coef[j]
      if w[j] == nil then error("shap: no coefficient for column " .. j, 2) end
    end
    local bn = bg:shape()
    local mean, base = {}, model:intercept()
    -- a reweighted fit predicts prior-corrected probabilities: a shift of the log-odds
    local pr = model.prior and model:prior()
    if pr and pr.corrected then base = base + pr.shift end
    for j = 1, d do
      local s = 0
      for b = 1, bn do s = s + bg:get(b, j) end
      mean[j] = s / bn
      base = base + w[j] * mean[j]
    end
    local phi = tensor.zeros(n, g + 1)
    for i = 1, n do
      for j = 1, d do
        local k = G.groups[j]
        phi:set(i, k, phi:get(i, k) + w[j] * (X:get(i, j) - mean[j]))
      end
      phi:set(i, g + 1, base)
    end
    return margin_to_probability(phi, n, g), G.names
  end
  return xai.kernelshap(model, X, bg, {groups = G.groups, samples = opts.samples or 1024,
                                       seed = opts.seed, verbose = opts.verbose}), G.names
end

-- LIME surrogate of one row (a 1 x d tensor): coefficients per original column.
function E.lime(model, x, background, opts)
  opts = check(opts, 4, "lime", {"pipeline", "samples", "width", "seed"})
  local G = E.groups(opts.pipeline, cols(x))
  local coef, intercept, r2 = xai.lime(model, x, background, {groups = G.groups,
    samples = opts.samples, width = opts.width, seed = opts.seed})
  local t = sorted_table(G.names, coef, nil, "effect")
  t.key, t.intercept, t.r2 = "effect", intercept, r2
  return setmetatable(t, Table)
end

local function fmt_value(v)
  if type(v) == "number" then
    if v == math.floor(v) and math.abs(v) < 1e15 then return string.format("%d", v) end
    return string.format("%.4g", v)
  end
  return tostring(v)
end

-- Each customer's top reasons in plain words. customers: a frame with the pipeline's input
-- columns. Returns a list (one per row) of {p = risk, base = average risk, reasons = {
-- {column, value, points, text}}, text = "..."}; points are percentage points of churn
-- probability. opts: top (3), background (tensor for KernelSHAP / linear SHAP), samples,
-- only = "raise" (default: the drivers that raise risk; "both" for either sign).
function E.reasons(model, pipeline, customers, opts)
  opts = check(opts, 4, "reasons", {"top", "background", "samples", "seed", "only"})
  local top = opts.top or 3
  if not (math.type(top) == "integer" and top >= 1) then
    error("bad argument #4 to 'reasons' (option 'top' must be a whole number >= 1, got " .. tostring(top) .. ")", 2)
  end
  if opts.only ~= nil and opts.only ~= "raise" and opts.only ~= "both" then
    error("bad argument #4 to 'reasons' (option 'only' must be \"raise\" or \"both\", got " .. tostring(opts.only) .. ")", 2)
  end
  local X = pipeline:transform(customers)
  local n = X:shape()
  local phi, names = E.shap(model, X, {pipeline = pipeline, background = opts.background,
                                       samples = opts.samples, seed = opts.seed})
  local _, w = phi:shape()
  local g = w - 1
  local p = type(model) == "function" and model(X) or model:predict(X)
  local out = {}
  for i = 1, n do
    local row = customers:row(i)
    local items = {}
    for k = 1, g do
      local v = phi:get(i, k)
      if opts.only == "both" or v > 0 then items[#items + 1] = {k = k, v = v} end
    end
    table.sort(items, function(a, b)
      if math.abs(a.v) ~= math.abs(b.v) then return math.abs(a.v) > math.abs(b.v) end
      return a.k < b.k
    end)
    local reasons, texts = {}, {}
    for r = 1, math.min(top, #items) do
      local col = names[items[r].k]
      local pts = items[r].v * 100
      local value = row[col]
      local txt = string.format("%s = %s %s churn risk by %.1f points", col,
        value == nil and "(missing)" or fmt_value(value), pts >= 0 and "raises" or "lowers",
        math.abs(pts))
      reasons[r] = {column = col, value = value, points = pts, text = txt}
      texts[r] = txt
    end
    out[i] = {p = p:get(i), base = phi:get(i, w), reasons = reasons,
              text = #texts > 0 and table.concat(texts, "; ") or "no driver raises the risk above average"}
  end
  return out
end

return E
