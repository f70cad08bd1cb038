-- Tests of churnlab.model_selection: cl.cross_validate, cl.grid_search, cl.random_search.
-- Reference values: scikit-learn's cross_validate and GridSearchCV on the same folds
-- (scripts/ref/cv_ref.py writes tests/data/cv_ref.csv and cv_ref.txt).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

local ref = {}
for line in io.lines("tests/data/cv_ref.txt") do
  if not line:match("^#") then
    local key, rest = line:match("^(%S+) %d+ (.*)$")
    local v = {}
    for x in rest:gmatch("%S+") do v[#v + 1] = tonumber(x) end
    ref[key] = v
  end
end

local df = cl.read_csv("tests/data/cv_ref.csv")
-- sklearn's folds, as the list cross_validate takes
local folds = {}
for q = 1, 5 do folds[q] = {train = {}, test = {}} end
for i = 1, df:nrow() do
  local q = df.fold:get(i) + 1
  for k = 1, 5 do
    local t = k == q and folds[k].test or folds[k].train
    t[#t + 1] = i
  end
end
local pipe = {target = "churn", positive = "Yes", drop = {"fold"}, impute = "median",
              scale = "minmax"}

-- Tolerance: both sides minimise the same convex objective (our logreg matches sklearn's to
-- 1e-8 in the coefficients, tests/lua/linear.lua) with tol = 1e-10; probabilities then agree
-- to ~1e-7 and the AUC only changes if two test rows' scores swap order, each swap moving it
-- by 1 / (pos * neg) >= 1 / (40 * 40) = 6e-4: 1e-6 admits no swap. Log loss is not ranking-
-- invariant: our pipeline hands the model float32 features (sklearn keeps float64), a 6e-8
-- relative change of every x that moves the optimum by about that times the condition number
-- of the Hessian (~1e2 with min-max scaled columns); measured 3.8e-6 relative on fold 1, so
-- 2e-5 relative (a wrong fold or C moves it by > 1e-2).
T.test("per-fold AUC and log loss equal sklearn's cross_validate on the same folds", function()
  local r = cl.cross_validate(cl.logreg, df, {params = {C = 0.5, tol = 1e-10}, folds = folds,
                                              pipeline = pipe, metrics = {"roc_auc", "log_loss"}})
  for q = 1, 5 do
    T.near(r.folds[q].roc_auc, ref.cv_auc[q], 1e-6, "fold " .. q .. " auc")
    T.near(r.folds[q].log_loss, ref.cv_logloss[q], 2e-5 * ref.cv_logloss[q], "fold " .. q .. " log loss")
  end
  local s = 0
  for q = 1, 5 do s = s + ref.cv_auc[q] end
  T.near(r.mean.roc_auc, s / 5, 1e-6)
  local text = tostring(r)
  T.ok(text:find("roc_auc", 1, true) and text:find("mean", 1, true) and text:find("sd", 1, true), text)
end)

T.test("grid search picks sklearn GridSearchCV's best C, with the same mean scores", function()
  local g = cl.grid_search(cl.logreg, df, {C = ref.grid_C}, {params = {tol = 1e-10},
                                                              folds = folds, pipeline = pipe})
  T.eq(g.best_params.C, ref.grid_best_C[1])
  for i = 1, #ref.grid_C do
    T.near(g.results.mean_roc_auc:get(i), ref.grid_mean_auc[i], 1e-6, "C = " .. ref.grid_C[i])
  end
  T.eq(g.results:nrow(), #ref.grid_C)
  -- the refitted model is the best parameters fitted on every row with a fresh pipeline
  local p = cl.prep.pipeline(pipe):fit(df)
  local X, y = p:transform(df)
  local m = cl.logreg{C = ref.grid_best_C[1], tol = 1e-10}; m:fit(X, y)
  T.eq((g.model:predict(X) - m:predict(X)):abs():max(), 0)
  T.eq(table.concat(g.pipeline:feature_names(), ","), table.concat(p:feature_names(), ","))
end)

-- Leakage: a fold's pipeline must be fitted on its training rows only. A spy pipeline
-- factory records the ids each fit saw; no test-fold id may be among them. And a
-- target-leaking statistic: 'leak' is the target on the rows of fold 1 and missing
-- elsewhere, imputed with the median; fitted on all rows, the training rows' imputed value
-- would carry fold 1's churn rate; fitted in fold, the scores equal a hand-written loop.
T.test("the pipeline is fitted inside each fold (no leakage)", function()
  local ids = {}
  for i = 1, df:nrow() do ids[i] = i end
  local d2 = df:with("id", ids)
  local seen = {}
  local function spy()
    local p = cl.prep.pipeline{target = "churn", positive = "Yes", drop = {"fold", "id"},
                               scale = "minmax"}
    return setmetatable({}, {__index = function(_, k)
      if k == "fit" or k == "fit_transform" then
        return function(self, f)
          local s = {}
          for _, v in ipairs(f.id:totable()) do s[v] = true end
          seen[#seen + 1] = s
          if k == "fit" then p:fit(f); return self end
          return p:fit_transform(f)
        end
      end
      return function(_, ...) return p[k](p, ...) end
    end})
  end
  local r = cl.cross_validate(cl.logreg, d2, {folds = folds, pipeline = spy})
  T.eq(#seen, 5)
  for q = 1, 5 do
    local n = 0
    for _ in pairs(seen[q]) do n = n + 1 end
    T.eq(n, #folds[q].train, "fold " .. q .. " fit rows")
    for _, i in ipairs(folds[q].test) do T.ok(not seen[q][i], "test row " .. i .. " in fit") end
  end
  -- the hand-written loop on the same folds gives the same AUCs, bit for bit
  for q = 1, 5 do
    local tr, te = d2:take(folds[q].train), d2:take(folds[q].test)
    local p = cl.prep.pipeline{target = "churn", positive = "Yes", drop = {"fold", "id"},
                               scale = "minmax"}:fit(tr)
    local Xtr, ytr = p:transform(tr)
    local Xte, yte = p:transform(te)
    local m = cl.logreg{}; m:fit(Xtr, ytr)
    T.eq(r.folds[q].roc_auc, cl.metrics.roc_auc(yte, m:predict(Xte)), "fold " .. q)
  end
end)

T.test("deterministic: same seed, same folds and scores; random search draws by seed", function()
  local a = cl.cross_validate(cl.logreg, df, {pipeline = pipe, folds = 4, seed = 3})
  local b = cl.cross_validate(cl.logreg{}, df, {pipeline = cl.prep.pipeline(pipe), folds = 4, seed = 3})
  for q = 1, 4 do T.eq(a.folds[q].roc_auc, b.folds[q].roc_auc) end
  local s1 = cl.random_search(cl.logreg, df, {C = {low = 1e-3, high = 10, log = true}},
                              {pipeline = pipe, n_iter = 4, seed = 1, refit = false})
  local s2 = cl.random_search(cl.logreg, df, {C = {low = 1e-3, high = 10, log = true}},
                              {pipeline = pipe, n_iter = 4, seed = 1, refit = false})
  T.eq(s1.results:nrow(), 4)
  for i = 1, 4 do
    T.eq(s1.results.C:get(i), s2.results.C:get(i))
    T.ok(s1.results.C:get(i) >= 1e-3 and s1.results.C:get(i) <= 10)
  end
  T.eq(s1.model, nil)
  local s3 = cl.random_search(cl.tree, df, {depth = {int = {1, 3}}, class_weight = {"none", "balanced"}},
                              {pipeline = pipe, n_iter = 3, seed = 2})
  for i = 1, 3 do T.ok(s3.results.depth:get(i) >= 1 and s3.results.depth:get(i) <= 3) end
  T.ok(s3.model ~= nil)
end)

T.test("bad arguments are clear errors", function()
  T.raises(function() cl.cross_validate(cl.logreg, df, {folds = folds}) end, "option 'pipeline' is required")
  T.raises(function() cl.cross_validate(42, df, {pipeline = pipe}) end, "model constructor")
  T.raises(function() cl.cross_validate(cl.logreg, df, {pipeline = pipe, metrics = {"auc"}}) end,
           "unknown metric 'auc'")
  T.raises(function() cl.cross_validate(cl.logreg, df, {pipeline = pipe, folds = 1}) end, "whole number >= 2")
  T.raises(function() cl.cross_validate(cl.logreg, df, {pipeline = pipe, fold = 3}) end, "unknown option 'fold'")
  T.raises(function() cl.grid_search(cl.logreg, df, {C = {}}, {pipeline = pipe}) end, "non-empty list")
  T.raises(function() cl.grid_search(cl.logreg, df, {C = {1}}, {pipeline = pipe, n_iter = 3}) end,
           "option of random_search")
  T.raises(function() cl.random_search(cl.logreg, df, {C = 3}, {pipeline = pipe}) end, "space entries")
  T.raises(function() cl.grid_search(cl.logreg, df, {Cx = {1}}, {pipeline = pipe}) end, "Cx")
end)

-- ---- time-ordered splits (issue 20); oracle: scripts/ref/cv_ref.py -> cv_time_ref.txt -------
local tref = {}
for line in io.lines("tests/data/cv_time_ref.txt") do
  if not line:match("^#") then
    local key, rest = line:match("^(%S+) %d+ (.*)$")
    local v = {}
    for x in rest:gmatch("%S+") do v[#v + 1] = tonumber(x) end
    tref[key] = v
  end
end
local function days(n)
  local t = {}
  for i = 1, n do t[i] = 100 + i end
  return cl.frame({day = t}, {names = {"day"}})
end

T.test("time_folds equal sklearn's TimeSeriesSplit fold boundaries", function()
  local cases = {n123_k5 = {123, {folds = 5}}, n123_k4_gap3 = {123, {folds = 4, gap = 3}},
                 n123_k3_ts20_max50 = {123, {folds = 3, test_size = 20, max_train_size = 50}},
                 n50_k6_gap2_ts5 = {50, {folds = 6, gap = 2, test_size = 5}}}
  for name, c in pairs(cases) do
    local o = c[2]
    o.time = "day"
    local f = cl.model_selection.time_folds(days(c[1]), o)
    local want = tref["ts_" .. name]
    T.eq(#f * 4, #want, name)
    for q, fold in ipairs(f) do
      local got = {fold.train[1], fold.train[#fold.train], fold.test[1], fold.test[#fold.test]}
      for k = 1, 4 do T.eq(got[k], want[(q - 1) * 4 + k], name .. " fold " .. q) end
      -- contiguous: every row between the ends
      T.eq(#fold.train, got[2] - got[1] + 1)
      T.eq(#fold.test, got[4] - got[3] + 1)
    end
  end
end)

T.test("time_split: test fraction as train_test_split(shuffle = False); cutoff and gap", function()
  local d = days(123)
  for _, pct in ipairs{20, 25, 33} do
    local tr, te = cl.time_split(d, {time = "day", test = pct / 100})
    T.eq(te:nrow(), tref["tts_" .. pct][1])
    T.eq(te.day:get(1), 100 + tref["tts_" .. pct][2])
    T.eq(tr:nrow() + te:nrow(), 123)
  end
  local tr, te = cl.time_split(d, {time = "day", test = 23, gap = 5})
  T.eq(te:nrow(), 23)
  T.eq(tr:nrow(), 123 - 23 - 5)
  T.eq(te.day:get(1) - tr.day:get(tr:nrow()), 6)
  -- cutoff on a date column, gap in days, any row order
  local dates = {}
  for i = 1, 30 do dates[i] = string.format("2024-01-%02d", 31 - i) end -- descending
  local df = cl.frame({d = dates, x = dates}, {names = {"d", "x"}})
  df = df:with("d", df.d:astype("date"))
  tr, te = cl.time_split(df, {time = "d", cutoff = "2024-01-21", gap = 3})
  T.eq(te:nrow(), 10) -- 21 .. 30
  T.eq(tr:nrow(), 17) -- 1 .. 17 (18, 19, 20 are the gap)
  for i = 1, tr:nrow() do T.ok(tr.x:get(i) < "2024-01-18", tr.x:get(i)) end
  for i = 1, te:nrow() do T.ok(te.x:get(i) >= "2024-01-21", te.x:get(i)) end
  T.eq(te.x:get(1), "2024-01-30") -- frame order kept
end)

T.test("time-series cross_validate equals sklearn's cross_validate with TimeSeriesSplit", function()
  local ids = {}
  for i = 1, df:nrow() do ids[i] = i end
  local d2 = df:with("row", ids)
  local tp = {target = "churn", positive = "Yes", drop = {"fold", "row"}, impute = "median",
              scale = "minmax"}
  local r = cl.cross_validate(cl.logreg, d2, {params = {C = 0.5, tol = 1e-10}, pipeline = tp,
                                              time = "row", folds = 4, gap = 10})
  -- the AUC tolerance of the first test (no swap of two test rows' order)
  for q = 1, 4 do T.near(r.folds[q].roc_auc, tref.ts_cv_auc[q], 1e-6, "fold " .. q) end
  -- no fold trains on a row at or after its test rows
  local f = cl.model_selection.time_folds(d2, {time = "row", folds = 4, gap = 10})
  for q = 1, 4 do
    T.eq(r.folds[q].n_train, #f[q].train)
    T.ok(f[q].train[#f[q].train] + 10 < f[q].test[1])
  end
  local g = cl.grid_search(cl.logreg, d2, {C = {0.1, 1}}, {pipeline = tp, time = "row", folds = 3,
                                                         refit = false})
  T.eq(g.results:nrow(), 2)
end)

T.test("target encoding inside cross_validate: each training fold is encoded out of fold", function()
  local tp = {target = "churn", positive = "Yes", columns = {"plan", "region"}, encode = "target",
              shuffle = false}
  local r = cl.cross_validate(cl.logreg, df, {pipeline = tp, folds = folds})
  for q = 1, 5 do
    local tr, te = df:take(folds[q].train), df:take(folds[q].test)
    local p = cl.prep.pipeline(tp)
    local Xtr, ytr = p:fit_transform(tr)
    local Xte, yte = p:transform(te)
    local m = cl.logreg{}; m:fit(Xtr, ytr)
    T.eq(r.folds[q].roc_auc, cl.metrics.roc_auc(yte, m:predict(Xte)), "fold " .. q)
  end
end)

T.test("time options: bad input is a clear error naming it", function()
  local d = days(20)
  T.raises(function() cl.time_split(d, {time = "when", test = 0.2}) end, "no column 'when'")
  T.raises(function() cl.time_split(d, {test = 0.2}) end, "option 'time' must be the name")
  T.raises(function() cl.time_split(d:sort("day", {desc = true}), {time = "day", test = 0.2}) end,
           "time column 'day' is not sorted: row 2 (119) comes after row 1 (120)")
  local gaps = cl.frame({day = {1, 2, 0 / 0, 4}}, {names = {"day"}})
  T.raises(function() cl.time_split(gaps, {time = "day", cutoff = 2}) end, "missing on row 3")
  local cat = cl.frame({day = {"a", "b"}}, {names = {"day"}})
  T.raises(function() cl.time_split(cat, {time = "day", cutoff = 2}) end, "is cat: expected a num or date column")
  T.raises(function() cl.time_split(d, {time = "day"}) end, "give one of test")
  T.raises(function() cl.time_split(d, {time = "day", test = 0.2, cutoff = 3}) end, "give one of test")
  T.raises(function() cl.time_split(d, {time = "day", test = 1.5}) end, "fraction in (0, 1)")
  T.raises(function() cl.time_split(d, {time = "day", test = 0.5, gap = 10}) end, "leave no training row")
  T.raises(function() cl.time_split(d, {time = "day", cutoff = 500}) end, "leaves no test row")
  T.raises(function() cl.time_split(d, {time = "day", cutoff = "2024-01-01"}) end, "cutoff must be a number")
  T.raises(function() cl.time_split(d, {time = "day", tst = 0.2}) end, "unknown option 'tst'")
  T.raises(function() cl.model_selection.time_folds(d, {time = "day", folds = 5, test_size = 5}) end,
           "5 folds of test_size 5 with gap 0 do not fit in 20 rows")
  T.raises(function() cl.model_selection.time_folds(d, {time = "day", folds = 30}) end, "need at least 31 rows")
  T.raises(function() cl.cross_validate(cl.logreg, df, {pipeline = pipe, time = "fold", folds = folds}) end,
           "not both")
  T.raises(function() cl.cross_validate(cl.logreg, df, {pipeline = pipe, gap = 2}) end, "needs time =")
  T.raises(function() cl.cross_validate(cl.logreg, df, {pipeline = pipe, time = "tenure"}) end,
           "time column 'tenure' is not sorted")
end)

local telco = T.shared("telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
if not telco then
  T.skip("telco: cross_validate equals a hand-written loop", "../shared/data/telco_churn not found")
else
  T.test("telco: cross_validate equals a hand-written loop with the same folds", function()
    local t = cl.read_csv(telco)
    local tp = {target = "Churn", positive = "Yes", drop = {"customerID"}, scale = "minmax"}
    local f = t:kfold{k = 5, stratify = "Churn", seed = 42}
    local r = cl.cross_validate(cl.logreg, t, {pipeline = tp, folds = 5, seed = 42})
    for q = 1, 5 do
      local tr, te = t:take(f[q].train), t:take(f[q].test)
      local p = cl.prep.pipeline(tp):fit(tr)
      local Xtr, ytr = p:transform(tr)
      local Xte, yte = p:transform(te)
      local m = cl.logreg{}; m:fit(Xtr, ytr)
      T.eq(r.folds[q].roc_auc, cl.metrics.roc_auc(yte, m:predict(Xte)), "fold " .. q)
    end
  end)
end

T.done()
