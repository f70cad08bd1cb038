-- Telco churn: 5-fold stratified cross-validated ROC AUC of churnlab's gbdt and forest.
--   churnlab scripts/telco_trees.lua [path/to/WA_Fn-UseC_-Telco-Customer-Churn.csv]
-- gbdt: at most 500 trees, early stopping (50 rounds, validation log-loss) on a stratified 20%
-- validation part of each training fold, the rest trains. forest: 500 trees on the whole
-- training fold. Features: every column but customerID; categories one-hot for the forest,
-- native categorical splits for gbdt; TotalCharges blanks imputed with the median.
-- (scripts/telco_baseline.lua, owned by the models helper, is to gain these rows; this script
-- is the trees' own until then.)
local cl = require "churnlab"
local path = arg and arg[1] or "../shared/data/telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv"
local df = assert(cl.read_csv(path))
local K, SEED = 5, 42
local folds = df:kfold{k = K, stratify = "Churn", seed = SEED}

local GBDT = {trees = 500, lr = 0.05, depth = 3, subsample = 0.8, colsample = 0.8,
              min_child_weight = 5, seed = SEED}
local FOREST = {trees = 500, min_leaf = 10, seed = SEED}

local function pipe(encode)
  return cl.prep.pipeline{target = "Churn", positive = "Yes", drop = {"customerID"},
                          impute = "median", encode = encode}
end

local res = {gbdt = {}, forest = {}}
local t0 = cl.core.now()
for k, f in ipairs(folds) do
  local train, test = df:take(f.train), df:take(f.test)
  -- gbdt: inner stratified split for early stopping
  local fit_part, valid_part = train:split{test = 0.2, stratify = "Churn", seed = SEED + k}
  local p = pipe("native")
  p:fit(fit_part)
  local X, y = p:transform(fit_part)
  local Xv, yv = p:transform(valid_part)
  local Xt, yt = p:transform(test)
  local m = cl.gbdt(GBDT)
  m:fit(X, y, {valid = {Xv, yv}, early_stop = 50, pipeline = p, verbose = false})
  res.gbdt[k] = cl.metrics.roc_auc(yt, m:predict(Xt))
  -- forest: whole training fold
  local q = pipe("onehot")
  q:fit(train)
  local Xf, yf = q:transform(train)
  local Xft = q:transform(test)
  local fr = cl.forest(FOREST)
  fr:fit(Xf, yf, {pipeline = q, verbose = false})
  res.forest[k] = cl.metrics.roc_auc(yt, fr:predict(Xft))
  print(string.format("fold %d: gbdt AUC %.4f (%d trees)  forest AUC %.4f (OOB %.4f)", k,
    res.gbdt[k], m:ntrees(), res.forest[k], fr:oob_auc()))
end
for _, name in ipairs({"gbdt", "forest"}) do
  local s, s2 = 0, 0
  for k = 1, K do s = s + res[name][k]; s2 = s2 + res[name][k] ^ 2 end
  local mean = s / K
  local sd = math.sqrt(math.max(0, (s2 - K * mean * mean) / (K - 1)))
  print(string.format("telco %-6s 5-fold stratified CV ROC AUC %.4f (sd %.4f)", name, mean, sd))
end
print(string.format("(%.1f s)", cl.core.now() - t0))
