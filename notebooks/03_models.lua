-- 03_models.lua: four churn models on the engineered features, compared on a held-out test
-- set (reports/03_models.html), with the best one saved with its pipeline (models/best.clm).
--
--   churnlab notebooks/03_models.lua [data/synth [reports [models]]]
--
-- Models: logistic regression, the 64-64-1 MLP, a random forest and gradient-boosted trees,
-- all through one preprocessing pipeline fitted on the training part only. A calibration
-- section fits Platt scaling and isotonic regression on a held-out part of the training data
-- and compares them with the raw boosted model on the test set (reliability figure, Brier,
-- log loss, ECE; also reports/03_calibration.csv). The simulator
-- knows each customer's true churn probability, so the report also shows the oracle: the
-- AUC of the true risk, the ceiling that the world's own noise puts on any model.
local cl = require "churnlab"
local plot, report, metrics = cl.plot, cl.report, cl.metrics

local DATA = arg and arg[1] or "data/synth"
local OUT = arg and arg[2] or "reports"
local MODELS = arg and arg[3] or "models"
local SEED = 42
local fmt = string.format

local ok, features = pcall(cl.read_csv, DATA .. "/features.csv") -- raises naming the file
if not ok then error("03_models: " .. tostring(features) .. " (run notebooks/02_features.lua first)", 0) end

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
  local history = m:fit(X, y, {valid = {Xv, yv}, early_stop = 5}):history()
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

-- ---- calibration on a held-out split --------------------------------------------------------

-- Platt scaling and isotonic regression are fitted on customers that neither trained the model
-- nor belong to the test set: the training part is split once more (75% to fit a boosted
-- model with the comparison's settings and its early-stopped number of trees, 25% held out to
-- fit the calibrators), and every number below is measured on the untouched test set.
local calib
do
  local ntrees = results.gbdt.model:best_iteration() or 500
  local fit_part, cal_part = train_all:split{test = 0.25, stratify = "churn", seed = SEED + 2}
  local Xf, yf = pipe:transform(fit_part)
  local Xc, yc = pipe:transform(cal_part)
  local m = cl.gbdt{trees = ntrees, depth = 5, lr = 0.05, seed = SEED}
  m:fit(Xf, yf, {pipeline = pipe})
  -- Platt on the margin (a logistic map of log-odds, as Platt 1999); isotonic on probabilities
  local platt = cl.calibrate.platt():fit(m:predict(Xc, {margin = true}), yc)
  local iso = cl.calibrate.isotonic():fit(m:predict(Xc), yc)
  local raw = m:predict(Xt)
  local curves = {
    {name = "uncalibrated", p = raw},
    {name = "Platt", p = platt:predict(m:predict(Xt, {margin = true}))},
    {name = "isotonic", p = iso:predict(raw)},
  }
  -- expected calibration error: ten equal-width bins, |mean predicted - observed| weighted by
  -- the bin's share of customers
  local function ece(yv, pv, bins)
    local n, cnt, sp, sy = yv:shape(), {}, {}, {}
    for b = 1, bins do cnt[b], sp[b], sy[b] = 0, 0, 0 end
    for i = 1, n do
      local q = pv:get(i)
      local b = math.min(bins, math.floor(q * bins) + 1)
      cnt[b], sp[b], sy[b] = cnt[b] + 1, sp[b] + q, sy[b] + yv:get(i)
    end
    local e = 0
    for b = 1, bins do
      if cnt[b] > 0 then e = e + cnt[b] / n * math.abs(sp[b] / cnt[b] - sy[b] / cnt[b]) end
    end
    return e
  end
  local rows = {}
  for _, c in ipairs(curves) do
    local mean = 0
    for i = 1, (c.p:shape()) do mean = mean + c.p:get(i) end
    rows[#rows + 1] = {method = c.name, brier = metrics.brier(yt, c.p),
      log_loss = metrics.log_loss(yt, c.p), ece = ece(yt, c.p, 10),
      mean_p = mean / (c.p:shape()), roc_auc = metrics.roc_auc(yt, c.p)}
  end
  local zeros = 0
  for i = 1, (curves[3].p:shape()) do
    if curves[3].p:get(i) == 0 then zeros = zeros + 1 end
  end
  -- the same model trained with scale_pos_weight = negatives / positives (the usual
  -- "balanced" setting): predict corrects its probabilities back to the real churn rate by
  -- default; {prior_correction = false} shows what it would say without
  local nf, pos = (yf:shape()), 0
  for i = 1, nf do pos = pos + yf:get(i) end
  local mw = cl.gbdt{trees = ntrees, depth = 5, lr = 0.05, seed = SEED,
                     scale_pos_weight = (nf - pos) / pos}
  mw:fit(Xf, yf, {pipeline = pipe})
  local weighted = {}
  for _, c in ipairs{{"balanced, uncorrected", mw:predict(Xt, {prior_correction = false})},
                     {"balanced, prior-corrected (default)", mw:predict(Xt)}} do
    local mean = 0
    for i = 1, (c[2]:shape()) do mean = mean + c[2]:get(i) end
    weighted[#weighted + 1] = {method = c[1], brier = metrics.brier(yt, c[2]),
      log_loss = metrics.log_loss(yt, c[2]), ece = ece(yt, c[2], 10),
      mean_p = mean / (c[2]:shape()), roc_auc = metrics.roc_auc(yt, c[2]), p = c[2]}
  end
  calib = {curves = curves, rows = rows, ntrees = ntrees, nfit = (Xf:shape()), ncal = (Xc:shape()),
           zeros = zeros, weighted = weighted, prior = mw:prior(), spw = (nf - pos) / pos}
end

r:h1("Calibration")
r:text(fmt([[
A score ranks customers; money needs probabilities. The boosted model (%d trees, as early
stopping chose above) is refitted on **%d** training customers, and two calibrators are fitted
on **%d** other training customers it never saw: **Platt scaling** (a logistic map of the
model's log-odds) and **isotonic regression** (a monotone step map). The test set stays
untouched for the comparison: Brier score and log loss (lower is better), the expected
calibration error (ECE: the customer-weighted gap between predicted and observed churn over ten
probability bins) and the mean predicted probability against the test churn rate of **%.2f%%**.
Calibration is monotone, so ROC AUC barely moves (isotonic ties a few scores). Notebook 06
multiplies isotonic-calibrated probabilities by money when it chooses whom to contact.]],
  calib.ntrees, calib.nfit, calib.ncal, 100 * results[best].rep.positives / results[best].rep.n))
-- a table of probability scores per method, and their reliability curves (equal-count bins)
local function calib_table(rows, caption)
  local t = {{"probabilities", "Brier", "log loss", "ECE", "mean predicted", "ROC AUC"}}
  for _, c in ipairs(rows) do t[#t + 1] = {c.method, c.brier, c.log_loss, c.ece, c.mean_p, c.roc_auc} end
  r:table(t, {digits = 4, caption = caption})
end
local function reliability(series, title, caption)
  local fig = {title = title}
  for _, c in ipairs(series) do
    fig[#fig + 1] = {y = yt, score = c.p, name = c.name or c.method, bins = 10, strategy = "quantile"}
  end
  assert(r:figure(plot.calibration(fig), {caption = caption}))
end
calib_table(calib.rows, "Calibration on the test set (calibrators fitted on a held-out part of the training data)")
reliability(calib.curves, "Reliability before and after calibration (test set)", "Mean predicted probability against the observed churn rate in ten bins of equal size (a tenth of the test customers each, by predicted probability), for the raw boosted model and its Platt and isotonic calibrations; the dashed diagonal is perfect calibration. Equal-count bins keep every point resting on the same number of customers; few customers score high, so the last bin spans a wide range of probabilities.")
r:text(fmt([[
Isotonic regression has the smallest calibration error but can map the lowest scores to a
probability of exactly 0 (%d test customers here), which log loss punishes hard; Platt
scaling cannot, and is the safer choice when probabilities are multiplied by money.]], calib.zeros))

r:h2("Class weights and prior correction")
r:text(fmt([[
Reweighting the classes (here `scale_pos_weight = %.2f`, negatives over positives) makes the
model fit a world where %.0f%% of customers churn instead of %.2f%%, and every boosting
library then reports inflated probabilities. churnlab records both rates at fit time and, by
default, maps the probabilities back with the prior correction: odds times
(%.4f / %.4f) / (%.2f / %.2f), a shift of %.3f in log-odds. The correction leaves the
ranking alone (ROC AUC %.3f either way; the unweighted model reaches %.3f%s) and makes the probabilities usable again. `prior_correction = false` (a
parameter, or a predict option for one call) gives the uncorrected numbers.]], calib.spw,
  100 * calib.prior.trained_rate, 100 * calib.prior.true_rate, calib.prior.true_rate,
  1 - calib.prior.true_rate, calib.prior.trained_rate, 1 - calib.prior.trained_rate,
  calib.prior.shift, calib.weighted[2].roc_auc, calib.rows[1].roc_auc,
  calib.weighted[2].roc_auc <= calib.rows[1].roc_auc and ", so the weights bought no ranking here" or ""))
calib_table(calib.weighted, "A class-weighted boosted model on the test set, with and without prior correction")
reliability(calib.weighted, "Reliability of a class-weighted model (test set)", "The class-weighted model before and after the prior correction, ten equal-count bins: uncorrected, every bin predicts several times the churn it sees; corrected, the points return to the diagonal. The ranking, and so the order of the points, is the same.")

do -- the tables as CSV, for diffs between runs
  local f = assert(io.open(OUT .. "/03_calibration.csv", "w"))
  f:write("method,brier,log_loss,ece,mean_predicted,roc_auc\n")
  for _, c in ipairs(calib.weighted) do calib.rows[#calib.rows + 1] = c end
  for _, c in ipairs(calib.rows) do
    f:write(fmt("\"%s\",%.17g,%.17g,%.17g,%.17g,%.17g\n", c.method, c.brier, c.log_loss, c.ece, c.mean_p, c.roc_auc))
  end
  f:close()
end
for _, c in ipairs(calib.rows) do
  io.stderr:write(fmt("03_models: calibration %-12s Brier %.4f  log loss %.4f  ECE %.4f  mean p %.4f\n",
    c.method, c.brier, c.log_loss, c.ece, c.mean_p))
end

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
