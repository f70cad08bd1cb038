-- telco_baseline.lua: the first two churn models on the IBM Telco data set, 5-fold stratified
-- cross-validation, pipeline = one-hot categories + min-max numbers (median imputation for
-- the 11 blank TotalCharges), logistic regression and the 64-64-1 MLP (Adam 1e-3), then the
-- tree models: gbdt (at most 500 trees, lr 0.05, depth 3, early stopping after 50 rounds on
-- a stratified 20% validation part of each training fold) and a 500-tree random forest.
--
--   churnlab scripts/telco_baseline.lua [path/to/WA_Fn-UseC_-Telco-Customer-Churn.csv]
--
-- Prints per model: mean (and sd) ROC AUC over the folds, then accuracy, precision, recall,
-- F1 and the confusion matrix of the pooled out-of-fold predictions at threshold 0.5.
local cl = require "churnlab"

local path = arg and arg[1] or "../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv"
local K, SEED = 5, 20261123
local df = assert(cl.read_csv(path))
local folds = df:kfold{k = K, stratify = "Churn", seed = SEED}

local models = {
  {name = "logreg", make = function() return cl.logreg{C = 1.0} end},
  {name = "mlp 64-64-1",
   make = function() return cl.mlp{hidden = {64, 64}, epochs = 10, lr = 1e-3, batch = 32, seed = SEED} end},
  {name = "gbdt",
   make = function()
     return cl.gbdt{trees = 500, lr = 0.05, depth = 3, subsample = 0.8, colsample = 0.8,
                    min_child_weight = 5, seed = SEED}
   end,
   -- early stopping on a validation part of the training fold, never on the test fold
   fit = function(m, train, pipe, q)
     local fit_part, valid_part = train:split{test = 0.2, stratify = "Churn", seed = SEED + q}
     local X1, y1 = pipe:transform(fit_part)
     local Xv, yv = pipe:transform(valid_part)
     m:fit(X1, y1, {valid = {Xv, yv}, early_stop = 50, pipeline = pipe, verbose = false})
   end},
  {name = "forest", make = function() return cl.forest{trees = 500, min_leaf = 10, seed = SEED} end},
}

local function mean_sd(v)
  local s, s2 = 0, 0
  for _, x in ipairs(v) do s = s + x end
  local m = s / #v
  for _, x in ipairs(v) do s2 = s2 + (x - m) ^ 2 end
  return m, math.sqrt(s2 / (#v - 1))
end

local results = {}
for _, spec in ipairs(models) do
  local aucs, ys, ps = {}, {}, {}
  local t0 = os.clock()
  for q, f in ipairs(folds) do
    local train, test = df:take(f.train), df:take(f.test)
    local pipe = cl.prep.pipeline{target = "Churn", positive = "Yes", drop = {"customerID"},
                                  impute = "median", encode = "onehot", scale = "minmax"}
    pipe:fit(train)
    local Xtr, ytr = pipe:transform(train)
    local Xte, yte = pipe:transform(test)
    local m = spec.make()
    if spec.fit then
      spec.fit(m, train, pipe, q)
    else
      m:fit(Xtr, ytr, {names = pipe:feature_names(), verbose = false})
    end
    local p = m:predict(Xte)
    aucs[q] = cl.metrics.roc_auc(yte, p)
    for i = 1, #yte do ys[#ys + 1] = yte:get(i); ps[#ps + 1] = p:get(i) end
  end
  local y, p = cl.tensor(ys), cl.tensor(ps)
  local auc, sd = mean_sd(aucs)
  results[#results + 1] = {name = spec.name, auc = auc, sd = sd, report = cl.metrics.report(y, p),
                           secs = os.clock() - t0, folds = aucs}
end

print(string.format("Telco churn: %d customers, %d-fold stratified CV (seed %d)", df:nrow(), K, SEED))
for _, r in ipairs(results) do
  local rep = r.report
  local c = rep.confusion
  print(string.format("\n== %s: mean ROC AUC %.4f (sd %.4f over folds; %s)  [%.1fs CPU]", r.name,
                      r.auc, r.sd, table.concat((function()
                        local t = {}
                        for i, a in ipairs(r.folds) do t[i] = string.format("%.4f", a) end
                        return t
                      end)(), " "), r.secs))
  print(string.format("   accuracy %.4f  precision %.4f  recall %.4f  F1 %.4f  (threshold 0.5, pooled out-of-fold)",
                      rep.accuracy, rep.precision, rep.recall, rep.f1))
  print("   confusion matrix      pred 0   pred 1")
  print(string.format("     actual 0         %6d   %6d", c.tn, c.fp))
  print(string.format("     actual 1         %6d   %6d", c.fn, c.tp))
end
print(string.format("\nbaseline logreg_auc=%.4f mlp_auc=%.4f gbdt_auc=%.4f forest_auc=%.4f",
                    results[1].auc, results[2].auc, results[3].auc, results[4].auc))
