-- churnlab.model_selection: cross-validation and parameter search on frames, with the
-- preprocessing pipeline fitted inside each fold (no statistic of a test fold reaches its
-- model).
--
--   local r = cl.cross_validate(cl.logreg, df, {params = {C = 0.5}, folds = 5,
--                               pipeline = {target = "Churn", positive = "Yes",
--                                           drop = {"customerID"}, scale = "minmax"},
--                               metrics = {"roc_auc", "log_loss"}, seed = 42})
--   print(r)                   -- mean and sd per metric, one row per fold
--   local g = cl.grid_search(cl.logreg, df, {C = {0.01, 0.1, 1}}, {pipeline = ..., folds = 5})
--   g.best_params; g.model:predict(X); print(g.results)    -- results: a churnlab.Frame
--
-- A model is given as its constructor (cl.logreg, cl.gbdt, a function(params) -> model) with
-- `params`, or as an unfitted model object, whose kind and params() are reused. Folds: a
-- number k (stratified on the target by df:kfold with `seed`), or a list {{train = {i...},
-- test = {i...}}, ...} as df:kfold returns, so the same folds can be fed to another tool.
-- The pipeline: an options table, an (unfitted or fitted) churnlab.Pipeline whose options()
-- are reused, or a function() returning a fresh pipeline; it is refitted on each training
-- fold. Fits run one after another (each model uses the threads it is given), so results
-- are deterministic for any thread count.
local error = require("churnlab.core").raise
local check = require("churnlab.options").check
local metrics = require "churnlab.metrics"
local prep = require "churnlab.prep"
local frame = require "churnlab.frame"

local M = {}

-- metrics where lower is better (the search minimises these)
local LOWER = {log_loss = true, brier = true}

local function constructors()
  local list = {}
  local ok, lin = pcall(require, "churnlab.linear")
  if ok then list["churnlab.LogReg"] = lin.logreg end
  local okm, mlp = pcall(require, "churnlab.mlp")
  if okm then list["churnlab.MLP"] = mlp.mlp end
  local okt, trees = pcall(require, "churnlab.trees")
  if okt then
    list["churnlab.GBDT"] = trees.gbdt; list["churnlab.Forest"] = trees.forest
    list["churnlab.Tree"] = trees.tree
  end
  return list
end

-- (model spec, base params) -> function(params) returning a fresh unfitted model
local function model_factory(model, params, fname)
  if type(model) == "function" then
    return function(extra)
      local p = {}
      for k, v in pairs(params or {}) do p[k] = v end
      for k, v in pairs(extra or {}) do p[k] = v end
      return model(p)
    end
  end
  local mt = getmetatable(model)
  local name = type(mt) == "table" and mt.__name or nil
  local ctor = name and constructors()[name]
  if not ctor then
    error(string.format("bad argument #1 to '%s' (a model constructor such as cl.logreg or a "
                        .. "churnlab model expected, got %s)", fname, name or type(model)), 2)
  end
  local base = model:params()
  for k, v in pairs(params or {}) do base[k] = v end
  return model_factory(ctor, base, fname)
end

local function pipeline_factory(p, fname)
  if p == nil then
    error(string.format("%s: option 'pipeline' is required (its options table, a "
                        .. "churnlab.Pipeline or a function returning one): it turns the "
                        .. "frame into X, y inside each fold", fname), 3)
  end
  if type(p) == "function" then return p end
  if type(p) == "table" then return function() return prep.pipeline(p) end end
  local mt = getmetatable(p)
  if type(mt) == "table" and mt.__name == "churnlab.Pipeline" then
    local o = p:options()
    return function() return prep.pipeline(o) end
  end
  error(string.format("%s: option 'pipeline' must be an options table, a churnlab.Pipeline or "
                      .. "a function, got %s", fname, type(p)), 3)
end

local function metric_list(m, fname)
  m = m or {"roc_auc"}
  if type(m) == "string" then m = {m} end
  if type(m) ~= "table" or #m == 0 then
    error(fname .. ": option 'metrics' must be a metric name or a list of them", 3)
  end
  for _, name in ipairs(m) do
    if type(name) ~= "string" or type(metrics[name]) ~= "function" then
      error(string.format("%s: unknown metric '%s' (e.g. roc_auc, log_loss, brier, "
                          .. "average_precision, accuracy, f1)", fname, tostring(name)), 3)
    end
  end
  return m
end

local function fold_list(df, folds, target, stratify, seed, fname)
  if type(folds) == "table" then
    for q, f in ipairs(folds) do
      if type(f) ~= "table" or type(f.train) ~= "table" or type(f.test) ~= "table" then
        error(string.format("%s: folds[%d] must be {train = {rows}, test = {rows}}", fname, q), 3)
      end
    end
    if #folds < 1 then error(fname .. ": folds is an empty list", 3) end
    return folds
  end
  local k = folds or 5
  if type(k) ~= "number" or k < 2 or k ~= math.floor(k) then
    error(fname .. ": option 'folds' must be a whole number >= 2 or a list of folds", 3)
  end
  if stratify == nil then stratify = target end
  if stratify == false then stratify = nil end
  return df:kfold{k = k, stratify = stratify, seed = seed or 42}
end

local function mean_sd(v)
  local s = 0
  for _, x in ipairs(v) do s = s + x end
  local m = s / #v
  local ss = 0
  for _, x in ipairs(v) do ss = ss + (x - m) ^ 2 end
  return m, #v > 1 and math.sqrt(ss / (#v - 1)) or 0 -- sample sd across folds
end

local function fmt(x) return string.format("%.4f", x) end

local function cv_tostring(r)
  local out = {string.format("cross-validation: %d folds", #r.folds)}
  local head = {"fold", "train", "test"}
  for _, m in ipairs(r.metrics) do head[#head + 1] = m end
  local rows = {head}
  for q, f in ipairs(r.folds) do
    local row = {tostring(q), tostring(f.n_train), tostring(f.n_test)}
    for _, m in ipairs(r.metrics) do row[#row + 1] = fmt(f[m]) end
    rows[#rows + 1] = row
  end
  local mrow, srow = {"mean", "", ""}, {"sd", "", ""}
  for _, m in ipairs(r.metrics) do
    mrow[#mrow + 1] = fmt(r.mean[m]); srow[#srow + 1] = fmt(r.sd[m])
  end
  rows[#rows + 1] = mrow; rows[#rows + 1] = srow
  local w = {}
  for _, row in ipairs(rows) do
    for j, c in ipairs(row) do w[j] = math.max(w[j] or 0, #c) end
  end
  for i, row in ipairs(rows) do
    local cells = {}
    for j, c in ipairs(row) do cells[j] = string.rep(" ", w[j] - #c) .. c end
    out[#out + 1] = "  " .. table.concat(cells, "  ")
    if i == 1 or i == #rows - 2 then
      local rule = {}
      for j = 1, #w do rule[j] = string.rep("-", w[j]) end
      out[#out + 1] = "  " .. table.concat(rule, "  ")
    end
  end
  return table.concat(out, "\n")
end

local CV = {__name = "churnlab.CVResult", __tostring = cv_tostring}
CV.__repl = cv_tostring

local CV_KNOWN = {"params", "folds", "metrics", "pipeline", "stratify", "seed"}

-- One cross-validation with a factory and a pipeline factory: the result table.
local function run_cv(make_model, make_pipe, df, folds, mlist, extra)
  local r = {folds = {}, metrics = mlist, mean = {}, sd = {}}
  for q, f in ipairs(folds) do
    local tr, te = df:take(f.train), df:take(f.test)
    local p = make_pipe()
    p:fit(tr)
    local Xtr, ytr = p:transform(tr)
    local Xte, yte = p:transform(te)
    if not ytr or not yte then
      error("cross_validate: the pipeline has no target column (give pipeline.target)", 4)
    end
    local m = make_model(extra)
    m:fit(Xtr, ytr)
    local prob = m:predict(Xte)
    local row = {n_train = #f.train, n_test = #f.test}
    for _, name in ipairs(mlist) do row[name] = metrics[name](yte, prob) end
    r.folds[q] = row
  end
  for _, name in ipairs(mlist) do
    local v = {}
    for q = 1, #r.folds do v[q] = r.folds[q][name] end
    r.mean[name], r.sd[name] = mean_sd(v)
  end
  return setmetatable(r, CV)
end

-- cross_validate(model, df, {pipeline =, params =, folds = 5, metrics = {"roc_auc"},
-- stratify = target, seed = 42}) -> result: fits a fresh pipeline and model on each training
-- fold and scores its test fold. result.folds[q] = {n_train, n_test, <metric> = value},
-- result.mean / result.sd (sample sd over folds) per metric; print(result) shows the table.
-- model: a constructor (cl.logreg) with params, or an unfitted model (its kind and params).
-- folds: k (df:kfold stratified on stratify, default the pipeline's target; false: plain)
-- or a list {{train = {rows}, test = {rows}}, ...}.
function M.cross_validate(model, df, opts)
  opts = check(opts, 3, "cross_validate", CV_KNOWN)
  local make_model = model_factory(model, opts.params, "cross_validate")
  local make_pipe = pipeline_factory(opts.pipeline, "cross_validate")
  local mlist = metric_list(opts.metrics, "cross_validate")
  local target = type(opts.pipeline) == "table" and opts.pipeline.target or nil
  if target == nil and type(opts.pipeline) == "userdata" then target = opts.pipeline:options().target end
  local folds = fold_list(df, opts.folds, target, opts.stratify, opts.seed, "cross_validate")
  return run_cv(make_model, make_pipe, df, folds, mlist, nil)
end

-- every combination of grid (keys sorted, values in the given order, last key fastest)
local function expand(grid, fname)
  local keys = {}
  for k, v in pairs(grid) do
    if type(k) ~= "string" then error(fname .. ": the grid's keys must be parameter names", 3) end
    if type(v) ~= "table" or #v == 0 then
      error(string.format("%s: grid.%s must be a non-empty list of values", fname, k), 3)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local combos = {{}}
  for _, k in ipairs(keys) do
    local nxt = {}
    for _, c in ipairs(combos) do
      for _, v in ipairs(grid[k]) do
        local d = {}
        for kk, vv in pairs(c) do d[kk] = vv end
        d[k] = v
        nxt[#nxt + 1] = d
      end
    end
    combos = nxt
  end
  return combos, keys
end

local SEARCH_KNOWN = {"params", "folds", "metrics", "pipeline", "stratify", "seed", "refit",
                      "n_iter"}

-- common body of grid_search and random_search
local function search(fname, model, df, combos, keys, opts)
  local make_model = model_factory(model, opts.params, fname)
  local make_pipe = pipeline_factory(opts.pipeline, fname)
  local mlist = metric_list(opts.metrics, fname)
  local target = type(opts.pipeline) == "table" and opts.pipeline.target or nil
  if target == nil and type(opts.pipeline) == "userdata" then target = opts.pipeline:options().target end
  local folds = fold_list(df, opts.folds, target, opts.stratify, opts.seed, fname)
  local key = mlist[1]
  local sign = LOWER[key] and -1 or 1
  local runs, best = {}, nil
  for i, c in ipairs(combos) do
    runs[i] = run_cv(make_model, make_pipe, df, folds, mlist, c)
    -- strict improvement: ties keep the first combination, as sklearn's GridSearchCV
    if not best or sign * runs[i].mean[key] > sign * runs[best].mean[key] then best = i end
  end
  local cols, names = {}, {}
  for _, k in ipairs(keys) do
    local v = {}
    for i, c in ipairs(combos) do v[i] = type(c[k]) == "boolean" and tostring(c[k]) or c[k] end
    cols[k] = v; names[#names + 1] = k
  end
  for _, m in ipairs(mlist) do
    local mv, sv = {}, {}
    for i = 1, #runs do mv[i] = runs[i].mean[m]; sv[i] = runs[i].sd[m] end
    cols["mean_" .. m] = mv; cols["sd_" .. m] = sv
    names[#names + 1] = "mean_" .. m; names[#names + 1] = "sd_" .. m
  end
  -- rank 1 = best by the first metric (ties share the better rank's order of appearance)
  local order = {}
  for i = 1, #runs do order[i] = i end
  table.sort(order, function(a, b)
    local x, y = sign * runs[a].mean[key], sign * runs[b].mean[key]
    if x ~= y then return x > y end
    return a < b
  end)
  local rank = {}
  for r, i in ipairs(order) do rank[i] = r end
  cols.rank = rank; names[#names + 1] = "rank"
  local res = {results = frame.new(cols, {names = names}), best_params = combos[best],
               best_score = runs[best].mean[key], best_index = best, cv = runs}
  if opts.refit ~= false then
    local p = make_pipe()
    p:fit(df)
    local X, y = p:transform(df)
    local m = make_model(combos[best])
    m:fit(X, y)
    res.model, res.pipeline = m, p
  end
  return res
end

-- grid_search(model, df, grid, {pipeline =, params =, folds = 5, metrics = {"roc_auc", ...},
-- stratify, seed = 42, refit = true}) -> {best_params, best_score, best_index, results (a
-- frame: one row per combination, its parameters, mean_/sd_<metric>, rank), cv (the
-- cross_validate results), model, pipeline (refitted on all of df with best_params)}.
-- grid = {C = {0.1, 1, 10}, penalty = {"l1", "l2"}}: every combination, on the same folds;
-- the best is by the first metric (lower is better for log_loss and brier; ties: the first).
function M.grid_search(model, df, grid, opts)
  opts = check(opts, 4, "grid_search", SEARCH_KNOWN)
  if opts.n_iter ~= nil then error("grid_search: n_iter is an option of random_search", 2) end
  if type(grid) ~= "table" then error("bad argument #3 to 'grid_search' (grid table expected)", 2) end
  local combos, keys = expand(grid, "grid_search")
  return search("grid_search", model, df, combos, keys, opts)
end

-- splitmix64 on Lua integers: the same draws on every machine
local function rng(seed)
  local s = math.tointeger(seed) or 42
  return function()
    s = s + 0x9E3779B97F4A7C15
    local z = s
    z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
    z = (z ~ (z >> 27)) * 0x94D049BB133111EB
    z = z ~ (z >> 31)
    return (z >> 11) * (1.0 / 9007199254740992.0) -- [0, 1) from the top 53 bits
  end
end

-- random_search(model, df, space, {n_iter = 10, seed = 42, ... as grid_search}) -> as
-- grid_search, over n_iter draws: space = {C = {low = 1e-3, high = 10, log = true},
-- depth = {int = {2, 8}}, penalty = {"l1", "l2"}} (a list: one of its values; low/high: a
-- uniform number, log-uniform with log = true; int = {a, b}: a whole number in a..b).
-- The draws depend on seed only (keys in sorted order).
function M.random_search(model, df, space, opts)
  opts = check(opts, 4, "random_search", SEARCH_KNOWN)
  if type(space) ~= "table" then error("bad argument #3 to 'random_search' (space table expected)", 2) end
  local n = opts.n_iter or 10
  if type(n) ~= "number" or n < 1 or n ~= math.floor(n) then
    error("random_search: n_iter must be a whole number >= 1", 2)
  end
  local keys = {}
  for k, v in pairs(space) do
    if type(k) ~= "string" or type(v) ~= "table" then
      error("random_search: space entries must be name = {values} | {low =, high =} | {int = {a, b}}", 2)
    end
    keys[#keys + 1] = k
  end
  table.sort(keys)
  local u = rng((opts.seed or 42) * 7919 + 17)
  local combos = {}
  for i = 1, n do
    local c = {}
    for _, k in ipairs(keys) do
      local s = space[k]
      if s.int then
        local a, b = s.int[1], s.int[2]
        c[k] = a + math.floor(u() * (b - a + 1))
      elseif s.low then
        if s.log then
          if s.low <= 0 then error("random_search: " .. k .. ": log needs low > 0", 2) end
          c[k] = math.exp(math.log(s.low) + u() * (math.log(s.high) - math.log(s.low)))
        else
          c[k] = s.low + u() * (s.high - s.low)
        end
      elseif #s > 0 then
        c[k] = s[1 + math.floor(u() * #s)]
      else
        error("random_search: space." .. k .. " must be {values}, {low =, high =} or {int = {a, b}}", 2)
      end
    end
    combos[i] = c
  end
  return search("random_search", model, df, combos, keys, opts)
end

return M
