-- 03_models.lua: four churn models on the engineered features, compared on a held-out test
-- set (reports/03_models.html), with the best one saved with its pipeline (models/best.clm).
--
--   churnlab notebooks/03_models.lua [data/synth [reports [models]]]
--
-- Models: logistic regression, the 64-64-1 MLP, a random forest and gradient-boosted trees,
-- all through one preprocessing pipeline fitted on the training part only. The simulator
-- knows each customer's true churn probability, so the report also shows the oracle: the
-- AUC of the true risk, the ceiling that the world's own noise puts on any model.
local cl = require "churnlab"
local plot, report, metrics = cl.plot, cl.report, cl.metrics

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local MODELS = arg and arg[3] or "models"
local SEED = 42
local fmt = string.format

local features, err = cl.read_csv(DATA .. "/features.csv")
if not features then error("03_models: " .. tostring(err) .. " (run notebooks/02_features.lua first)", 0) end

-- ---- split and preprocessing ---------------------------------------------------------------

local train_all, test = features:split{test = 0.2, stratify = "churn", seed = SEED}
local train, valid = train_all:split{test = 0.15, stratify = "churn", seed = SEED + 1}
local pipe = cl.prep.pipeline{target = "churn", drop = {"user_id"}, impute = "median",
                              encode = "onehot", scale = "minmax"}
pipe:fit(train)
local X, y = pipe:transform(train)
local Xv, yv = pipe:transform(valid)
local Xt, yt = pipe:transform(test)
local Xall, yall = pipe:transform(train_all)

-- ---- the models ----------------------------------------------------------------------------

local now = cl.core.now
local results, order = {}, {}

local function evaluate(name, model, seconds, extra)
  local p = model:predict(Xt)
  local rep = metrics.report(yt, p)
  results[name] = {model = model, p = p, rep = rep, seconds = seconds, extra = extra}
  order[#order + 1] = name
  io.stderr:write(fmt("03_models: %-8s test AUC %.4f  (%.1fs)\n", name, rep.roc_auc, seconds))
end

if cl.logreg then
  local t0 = now()
  local m = cl.logreg{C = 1.0}
  m:fit(Xall, yall, {names = pipe:feature_names()})
  evaluate("logreg", m, now() - t0)
end

do
  local t0 = now()
  local m = cl.mlp{hidden = {64, 64}, epochs = 30, batch = 256, lr = 1e-3, seed = SEED}
  local history = m:fit(X, y, {valid = {Xv, yv}, early_stop = 5})
  evaluate("mlp", m, now() - t0, {history = history})
end

do
  local t0 = now()
  local m = cl.forest{trees = 200, seed = SEED}
  m:fit(Xall, yall, {pipeline = pipe})
  evaluate("forest", m, now() - t0)
end

do
  local t0 = now()
  local m = cl.gbdt{trees = 500, depth = 5, lr = 0.05, seed = SEED}
  m:fit(X, y, {valid = {Xv, yv}, early_stop = 50, pipeline = pipe})
  evaluate("gbdt", m, now() - t0)
end

-- ---- the oracle: the world's true churn risk ----------------------------------------------

-- The default data set is the simulation with default parameters: rebuild it in memory and
-- read each test customer's true probability of churning in the label window.
local oracle_auc
do
  local ok, world = pcall(cl.synth.world)
  if ok and world then
    local risk = world:true_risk()
    local ids = test.user_id:totable()
    local r = {}
    for i, id in ipairs(ids) do r[i] = risk[id] end
    oracle_auc = metrics.roc_auc(yt, cl.tensor(r))
    world:free()
  end
end

-- ---- comparison ----------------------------------------------------------------------------

local best, best_auc = nil, -1
for _, name in ipairs(order) do
  if results[name].rep.roc_auc > best_auc then best, best_auc = name, results[name].rep.roc_auc end
end

os.execute("mkdir -p " .. MODELS)
local best_path = MODELS .. "/best.clm"
assert(results[best].model:save(best_path, {pipeline = pipe}))

local r = report.new{title = "Churn models", out = OUT .. "/03_models.html",
  subtitle = "Four models, one pipeline, a held-out test set, and the simulator's own ceiling."}

r:metrics{
  {"Best model", best},
  {"Test ROC AUC", fmt("%.3f", best_auc)},
  {"Oracle AUC", oracle_auc and fmt("%.3f", oracle_auc) or "n/a", note = "true risk from the simulator"},
  {"Top-decile lift", fmt("%.2f", results[best].rep.top_decile_lift)},
  {"Test customers", (Xt:shape())},
}

r:h1("Comparison")
r:text(fmt([[
Every model sees the same %d features from the pipeline (one-hot categories, min-max scaled
numbers, medians for missing values), fitted on the **%d** training customers; the MLP and
the boosted trees stop early on a validation part of the training data. The test set holds
**%d** customers (churn rate %.1f%%). Threshold metrics use 0.5; with churn this rare, the
best-F1 threshold (last column) is the more useful operating point.]],
  #pipe:feature_names(), (Xall:shape()), (Xt:shape()), 100 * results[best].rep.positives / results[best].rep.n))

local rows = {{"model", "ROC AUC", "PR AUC", "accuracy", "precision", "recall", "F1", "log loss",
  "top-decile lift", "best F1 (threshold)"}}
for _, name in ipairs(order) do
  local m = results[name].rep
  rows[#rows + 1] = {name, m.roc_auc, m.average_precision, m.accuracy, m.precision, m.recall,
    m.f1, m.log_loss, m.top_decile_lift, fmt("%.3f (%.2f)", m.best_f1, m.best_f1_threshold)}
end
if oracle_auc then rows[#rows + 1] = {"oracle (true risk)", oracle_auc, "", "", "", "", "", "", "", ""} end
r:table(rows, {digits = 4, caption = "Test-set metrics"})

local function series(kind)
  local s = {}
  for _, name in ipairs(order) do s[#s + 1] = {y = yt, score = results[name].p, name = name} end
  return s
end
local roc = series(); roc.title = "ROC curves (test set)"
assert(r:figure(plot.roc(roc), {caption = "Receiver operating characteristic of each model."}))
local pr = series(); pr.title = "Precision-recall (test set)"
assert(r:figure(plot.pr(pr), {caption = "Precision against recall; the dashed line is the churn rate."}))
local cal = series(); cal.title = "Calibration (test set)"
assert(r:figure(plot.calibration(cal), {caption = "Predicted probability against the observed churn rate, ten bins."}))
local lift = series(); lift.title = "Lift (test set)"
assert(r:figure(plot.lift(lift), {caption = "How many times the base churn rate each model finds among the customers it ranks first."}))

if results.mlp and results.mlp.extra and results.mlp.extra.history then
  r:h1("MLP training")
  local h = results.mlp.extra.history
  assert(r:figure(plot.history({loss = h.loss, val_loss = h.val_loss}, {title = "MLP loss per epoch", best = "min"}),
    {caption = "Training and validation loss; the best validation epoch's weights are kept."}))
end

if oracle_auc then
  r:h1("How close to the ceiling")
  r:text(fmt([[
The simulator draws each customer's churn from a daily hazard with documented causes plus a
hidden per-customer frailty and day-to-day chance. Even knowing the true hazard, churn in the
next 30 days is uncertain: the **oracle AUC of %.3f** is the best any model can reach on this
test set. The best model, %s, reaches **%.3f**, %.1f%% of the way from a coin flip (0.5) to
the oracle. The gap is what the features do not capture: the hidden frailty, the exact taste
match and the randomness of each day.]], oracle_auc, best, best_auc,
    100 * (best_auc - 0.5) / (oracle_auc - 0.5)))
end

r:h1("Training time")
local trows = {{"model", "seconds"}}
for _, name in ipairs(order) do trows[#trows + 1] = {name, fmt("%.1f", results[name].seconds)} end
r:table(trows, {caption = "Wall-clock training time on this machine (the only figures that change between runs)"})

r:text(fmt("The best model (%s) is saved with its pipeline as `%s`: `cl.load` gives back a model that scores raw customer rows.", best, best_path))
r:code("churnlab notebooks/03_models.lua")
local out = assert(r:save())
print("03_models: wrote " .. out .. " and " .. best_path)
