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
-- fold (p:fit_transform, so target encodings of the training fold are out of fold). Fits run
-- one after another (each model uses the threads it is given), so results are deterministic
-- for any thread count.
--
-- Time-ordered data: cl.time_split(df, {time = "day", test = 0.2 | cutoff = "2024-06-01",
-- gap = ...}) -> train, test; cl.cross_validate(..., {time = "day", folds = 5, gap = 0,
-- test_size =, max_train_size =}) uses scikit-learn's TimeSeriesSplit folds (each test fold
-- after its training rows; cl.model_selection.time_folds returns them).
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

local CV_KNOWN = {"params", "folds", "metrics", "pipeline", "stratify", "seed", "time", "gap",
                  "test_size", "max_train_size"}

local function is_frame(df)
  local mt = getmetatable(df)
  return type(mt) == "table" and mt.__name == "churnlab.Frame"
end

-- The time column's values as numbers (dates as days since 1970-01-01), n of them; checks
-- that it exists, is num or date and has no missing value.
local function time_values(df, col, fname)
  if type(col) ~= "string" then
    error(string.format("%s: option 'time' must be the name of the time column, got %s", fname,
                        type(col)), 4)
  end
  local kind = df:types()[col]
  if not kind then
    error(string.format("%s: no column '%s' (option 'time'; columns: %s)", fname, col,
                        table.concat(df:names(), ", ")), 4)
  end
  if kind ~= "num" and kind ~= "date" then
    error(string.format("%s: time column '%s' is %s: expected a num or date column (convert "
                        .. "it: df:with(\"%s\", df:col(\"%s\"):astype(\"date\")))", fname, col,
                        kind, col, col), 4)
  end
  local v = df:col(col):astype("num"):totable()
  for i = 1, df:nrow() do
    if v[i] == nil or v[i] ~= v[i] then
      error(string.format("%s: time column '%s' is missing on row %d", fname, col, i), 4)
    end
  end
  return v, kind
end

local function check_sorted(df, col, v, fname)
  local c = df:col(col)
  for i = 2, df:nrow() do
    if v[i] < v[i - 1] then
      error(string.format("%s: time column '%s' is not sorted: row %d (%s) comes after row %d "
                          .. "(%s); sort the frame first: df:sort(\"%s\")", fname, col, i,
                          tostring(c:get(i)), i - 1, tostring(c:get(i - 1)), col), 4)
    end
  end
end

local function whole(x) return type(x) == "number" and x == math.floor(x) end

-- TimeSeriesSplit's folds over rows 1..n in frame order (see time_folds).
local function ts_folds(df, o, fname)
  local v = time_values(df, o.time, fname)
  check_sorted(df, o.time, v, fname)
  local n, k = df:nrow(), o.folds or 5
  local gap = o.gap or 0
  if not whole(k) or k < 2 then
    error(fname .. ": option 'folds' must be a whole number >= 2 with time =", 4)
  end
  if not whole(gap) or gap < 0 then
    error(fname .. ": option 'gap' must be a whole number of rows >= 0 with time = (folds)", 4)
  end
  if k + 1 > n then
    error(string.format("%s: %d folds need at least %d rows, the frame has %d", fname, k, k + 1, n), 4)
  end
  local ts = o.test_size or n // (k + 1)
  if not whole(ts) or ts < 1 then error(fname .. ": option 'test_size' must be a whole number >= 1", 4) end
  local mx = o.max_train_size
  if mx ~= nil and (not whole(mx) or mx < 1) then
    error(fname .. ": option 'max_train_size' must be a whole number >= 1", 4)
  end
  if n - gap - ts * k <= 0 then
    error(string.format("%s: %d folds of test_size %d with gap %d do not fit in %d rows", fname,
                        k, ts, gap, n), 4)
  end
  local folds = {}
  for q = 0, k - 1 do
    local start = n - k * ts + q * ts -- 0-based first test row
    local tr_end = start - gap      -- training rows are [tr0, tr_end), 0-based
    local tr0 = (mx and mx < tr_end) and tr_end - mx or 0
    local f = {train = {}, test = {}}
    for i = tr0 + 1, tr_end do f.train[#f.train + 1] = i end
    for i = start + 1, start + ts do f.test[#f.test + 1] = i end
    folds[q + 1] = f
  end
  return folds
end

local TF_KNOWN = {"time", "folds", "gap", "test_size", "max_train_size"}

-- time_folds(df, {time = col, folds = 5, gap = 0, test_size = n // (folds + 1),
-- max_train_size}) -> {{train = {rows}, test = {rows}}, ...}: scikit-learn's TimeSeriesSplit
-- on the frame's rows, which must be sorted by the time column (a num or date column without
-- missing values; unsorted is an error naming the first row out of order). Fold q tests the
-- test_size rows that follow the first n - folds * test_size + (q - 1) * test_size rows and
-- trains on every row before them but the last gap (at most max_train_size, the latest).
-- Rows sharing a timestamp can fall on both sides of a boundary (sklearn's positions).
function M.time_folds(df, opts)
  opts = check(opts, 2, "time_folds", TF_KNOWN)
  if not is_frame(df) then error("bad argument #1 to 'time_folds' (churnlab.Frame expected)", 2) end
  return ts_folds(df, opts, "time_folds")
end

local TS_KNOWN = {"time", "test", "cutoff", "gap"}

-- time_split(df, {time = col, test = 0.2 | cutoff = value, gap = 0}) -> train, test: a split
-- in time, no row of train later than a row of test. test = a fraction (ceil(test * n) rows,
-- as sklearn's train_test_split(shuffle = False)) or a row count: the frame must be sorted by
-- time, the last rows are the test rows, and gap rows before them are left out. cutoff = a
-- number, or a date "YYYY-MM-DD" for a date column: test = rows with time >= cutoff, train =
-- rows with time < cutoff - gap (gap in the column's units: days for dates), in frame order
-- (no sorting needed). The time column: num or date, no missing values.
function M.time_split(df, opts)
  opts = check(opts, 2, "time_split", TS_KNOWN)
  if not is_frame(df) then error("bad argument #1 to 'time_split' (churnlab.Frame expected)", 2) end
  local v, kind = time_values(df, opts.time, "time_split")
  local n, gap = df:nrow(), opts.gap or 0
  if (opts.test == nil) == (opts.cutoff == nil) then
    error("time_split: give one of test = <fraction or row count> and cutoff = <time>", 2)
  end
  if type(gap) ~= "number" or gap < 0 then error("time_split: gap must be a number >= 0", 2) end
  local tr, te = {}, {}
  if opts.test ~= nil then
    local t = opts.test
    if type(t) ~= "number" or t <= 0 or (t >= 1 and not whole(t)) then
      error("time_split: test must be a fraction in (0, 1) or a whole number of rows", 2)
    end
    if not whole(gap) then error("time_split: gap must be a whole number of rows with test =", 2) end
    check_sorted(df, opts.time, v, "time_split")
    local ntest = t < 1 and math.ceil(t * n) or t
    local ntrain = n - ntest
    if ntrain - gap < 1 then
      error(string.format("time_split: %d rows leave no training row with test = %s and gap = %d",
                          n, tostring(t), gap), 2)
    end
    for i = 1, ntrain - gap do tr[#tr + 1] = i end
    for i = ntrain + 1, n do te[#te + 1] = i end
  else
    local c = opts.cutoff
    if type(c) == "string" and kind == "date" then
      local ok, d = pcall(function() return frame.new({c = {c}}):col("c"):astype("date"):astype("num"):get(1) end)
      if not ok or type(d) ~= "number" then
        error(string.format("time_split: cutoff '%s' is not a date (YYYY-MM-DD)", c), 2)
      end
      c = d
    elseif type(c) ~= "number" then
      error(string.format("time_split: cutoff must be a number%s, got %s", kind == "date"
                          and " or a date (YYYY-MM-DD)" or "", type(c)), 2)
    end
    for i = 1, n do
      if v[i] >= c then te[#te + 1] = i elseif v[i] < c - gap then tr[#tr + 1] = i end
    end
    if #tr == 0 or #te == 0 then
      local lo, hi = 1, 1
      for i = 1, n do
        if v[i] < v[lo] then lo = i end
        if v[i] > v[hi] then hi = i end
      end
      local c = df:col(opts.time)
      error(string.format("time_split: cutoff %s (gap %s) leaves no %s row: column '%s' spans "
                          .. "%s .. %s", tostring(opts.cutoff), tostring(gap),
                          #tr == 0 and "training" or "test", opts.time,
                          tostring(c:get(lo)), tostring(c:get(hi))), 2)
    end
  end
  return df:take(tr), df:take(te)
end

-- The folds of cross_validate / the searches: time-series folds with time =, else fold_list.
local function folds_of(df, opts, target, fname)
  if opts.time ~= nil then
    if type(opts.folds) == "table" then
      error(fname .. ": give time = (time-series folds) or a list of folds, not both", 3)
    end
    if opts.stratify ~= nil and opts.stratify ~= false then
      error(fname .. ": stratify does not apply to time-series folds (time =)", 3)
    end
    return ts_folds(df, opts, fname)
  end
  for _, k in ipairs{"gap", "test_size", "max_train_size"} do
    if opts[k] ~= nil then error(string.format("%s: option '%s' needs time = <column>", fname, k), 3) end
  end
  return fold_list(df, opts.folds, target, opts.stratify, opts.seed, fname)
end

-- fit on the training rows and transform them (out-of-fold target encodings)
local function fit_transform(p, tr)
  if p.fit_transform then return p:fit_transform(tr) end
  p:fit(tr)
  return p:transform(tr)
end

-- One cross-validation with a factory and a pipeline factory: the result table.
local function run_cv(make_model, make_pipe, df, folds, mlist, extra)
  local r = {folds = {}, metrics = mlist, mean = {}, sd = {}}
  for q, f in ipairs(folds) do
    local tr, te = df:take(f.train), df:take(f.test)
    local p = make_pipe()
    local Xtr, ytr = fit_transform(p, tr)
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
-- or a list {{train = {rows}, test = {rows}}, ...}. time = col: the folds are scikit-learn's
-- TimeSeriesSplit(folds, gap, test_size, max_train_size) on the frame sorted by col (see
-- time_folds): each model is scored on the rows after the ones it was fitted on.
function M.cross_validate(model, df, opts)
  opts = check(opts, 3, "cross_validate", CV_KNOWN)
  local make_model = model_factory(model, opts.params, "cross_validate")
  local make_pipe = pipeline_factory(opts.pipeline, "cross_validate")
  local mlist = metric_list(opts.metrics, "cross_validate")
  local target = type(opts.pipeline) == "table" and opts.pipeline.target or nil
  if target == nil and type(opts.pipeline) == "userdata" then target = opts.pipeline:options().target end
  local folds = folds_of(df, opts, target, "cross_validate")
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
                      "n_iter", "time", "gap", "test_size", "max_train_size"}

-- common body of grid_search and random_search
local function search(fname, model, df, combos, keys, opts)
  local make_model = model_factory(model, opts.params, fname)
  local make_pipe = pipeline_factory(opts.pipeline, fname)
  local mlist = metric_list(opts.metrics, fname)
  local target = type(opts.pipeline) == "table" and opts.pipeline.target or nil
  if target == nil and type(opts.pipeline) == "userdata" then target = opts.pipeline:options().target end
  local folds = folds_of(df, opts, target, fname)
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
    local X, y = fit_transform(p, df)
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
-- The draws depend on seed only (keys in sorted order). As scikit-learn's ParameterSampler, a
-- space of lists only is sampled without replacement: min(n_iter, grid size) distinct points.
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
  -- Every entry a list: draw grid points without replacement, at most the whole grid once
  -- (scikit-learn's ParameterSampler); with any distribution, n_iter draws with replacement.
  local lists = true
  for _, k in ipairs(keys) do
    local s = space[k]
    if s.int or s.low or #s == 0 then lists = false end
  end
  if lists then
    local size = 1
    for _, k in ipairs(keys) do size = size * #space[k] end
    local function point(idx) -- grid point idx (0-based), the last key varying fastest
      local c = {}
      for q = #keys, 1, -1 do
        local vals = space[keys[q]]
        c[keys[q]] = vals[idx % #vals + 1]
        idx = idx // #vals
      end
      return c
    end
    local picks = {}
    if n >= size then -- the whole grid once, in a shuffled order (Fisher-Yates)
      for i = 1, size do picks[i] = i - 1 end
      for i = size, 2, -1 do
        local j = 1 + math.floor(u() * i)
        picks[i], picks[j] = picks[j], picks[i]
      end
    else -- n distinct points: redraw a point already taken (a large grid is never built)
      local seen = {}
      while #picks < n do
        local idx = math.floor(u() * size)
        if not seen[idx] then seen[idx] = true; picks[#picks + 1] = idx end
      end
    end
    for i, idx in ipairs(picks) do combos[i] = point(idx) end
    return search("random_search", model, df, combos, keys, opts)
  end
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
