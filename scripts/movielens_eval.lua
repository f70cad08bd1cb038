-- movielens_eval.lua: the recommender acceptance figures on MovieLens 100k.
--
--   churnlab scripts/movielens_eval.lua [data_dir]
--
-- 1. Explicit ratings, canonical folds u1..u5: biased MF (sgd, als), SVD++ and SVD++ with
--    timeSVD++'s time-aware biases (time = true) test RMSE/MAE per fold, fit times, mean
--    (targets: mf mean RMSE <= 0.920; issue 18: best <= 0.905).
-- 2. Implicit protocol: every rating is an interaction, a random 20% of each user's
--    interactions held out, k = 10, seen items excluded: popularity, item-kNN, ALS, content
--    and hybrids side by side (target: ALS, item-kNN and hybrid >= +50% over popularity on
--    precision@10 and NDCG@10; issue 18: best p@10 >= 0.38 and NDCG@10 >= 0.45, a hybrid at
--    least as good as its best component). Every metric is exact: all items ranked.
-- 3. recommend_for (fold-in) latency with 20 fresh interactions (target < 1 ms; issue 18:
--    <= 1 ms at 64 factors).
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"

local dir = (arg[1] or "../shared/data/movielens_100k") .. "/"
local fh = io.open(dir .. "u.data")
if not fh then
  io.stderr:write("movielens_eval: " .. dir .. "u.data not found (pass the data directory)\n")
  os.exit(2)
end
fh:close()
local now = cl.core.now or os.clock
local failures = 0
local function check(ok, what)
  print(string.format("  [%s] %s", ok and "PASS" or "FAIL", what))
  if not ok then failures = failures + 1 end
end

print(string.format("churnlab %s, %d threads", cl.version, cl.threads()))

-- 1 -------------------------------------------------------------------------------------
local mf_params = {factors = 100, epochs = 50, lr = 0.005, reg = 0.08, init_std = 0.05,
                   seed = 42}
local als_mf_params = {factors = 30, epochs = 10, solver = "als", reg = 0.12, reg_bias = 0.01,
                       seed = 42}
local svdpp_params = {factors = 200, epochs = 50, lr = 0.006, reg = 0.07, init_std = 0.05,
                      seed = 42, implicit = true}
local tsvdpp_params = {}
for k, v in pairs(svdpp_params) do tsvdpp_params[k] = v end
tsvdpp_params.time = true -- the time parameters at their defaults
print("\n1. Explicit ratings: biased MF on the canonical folds u1..u5")
print(string.format("   sgd: factors %d, epochs %d, lr %g, reg %g;  als: factors %d, epochs %d, reg %g (x count)",
                    mf_params.factors, mf_params.epochs, mf_params.lr, mf_params.reg,
                    als_mf_params.factors, als_mf_params.epochs, als_mf_params.reg))
print(string.format("   svd++: factors %d, epochs %d, lr %g, reg %g", svdpp_params.factors,
                    svdpp_params.epochs, svdpp_params.lr, svdpp_params.reg))
print("   time svd++: svd++ with time = true (item bin, user drift and user-day biases)")
local fmt = "   %-5s" .. string.rep(" %10.4f %10.4f %10.2f  ", 4)
print(string.format("   %-5s" .. string.rep(" %10s %10s %10s  ", 4), "fold", "sgd rmse",
                    "sgd mae", "fit s", "als rmse", "als mae", "fit s", "svd++ rmse", "svd++ mae",
                    "fit s", "tsvd++ rmse", "tsvd++ mae", "fit s"))
local sums = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
for f = 1, 5 do
  local base = ev.read_ratings(dir .. "u" .. f .. ".base")
  local test = ev.read_ratings(dir .. "u" .. f .. ".test")
  local train = cl.rec.interactions(base)
  local row = {}
  for _, p in ipairs{mf_params, als_mf_params, svdpp_params, tsvdpp_params} do
    local m = cl.rec.mf(p):fit(train)
    -- every test pair counts; unseen users/items are predicted from the biases; the times
    -- matter to the time-aware model only
    local pred = m:predict_ratings{users = test.users, items = test.items, times = test.times}
    row[#row + 1] = cl.rec.metrics.rmse(pred, test.values)
    row[#row + 1] = cl.rec.metrics.mae(pred, test.values)
    row[#row + 1] = m:fit_time()
  end
  for k = 1, 12 do sums[k] = sums[k] + row[k] end
  print(string.format(fmt, "u" .. f, table.unpack(row)))
end
local mean = {}
for k = 1, 12 do mean[k] = sums[k] / 5 end
print(string.format(fmt, "mean", table.unpack(mean)))
print("   (Surprise reports 0.934 for SVD and 0.919 for SVD++ on this data)")
check(mean[1] <= 0.920, string.format("MF (sgd) mean test RMSE %.4f <= 0.920", mean[1]))
local best_rmse = math.min(mean[1], mean[4], mean[7], mean[10])
check(best_rmse <= 0.905, string.format("best mean test RMSE %.4f <= 0.905 (issue 18)", best_rmse))

-- 2 -------------------------------------------------------------------------------------
print("\n2. Implicit protocol: all 100k ratings as interactions, 20% per user held out, k = 10")
local all = ev.read_ratings(dir .. "u.data")
local inter = cl.rec.interactions{users = all.users, items = all.items}
local train, test = inter:split{test = 0.2, seed = 42}
local nu, ni = train:shape()
print(string.format("   train %d interactions, test %d, %d users x %d items", train:nnz(),
                    test:nnz(), nu, ni))
local items = ev.read_movielens_items(dir .. "u.item")

local models = {
  {"popular", cl.rec.popular{}},
  {"itemknn", cl.rec.itemknn{k = 20, normalize = true, neighbours = "source"}},
  {"als", cl.rec.als{factors = 32, iters = 15, reg = 10, alpha = 5, seed = 42}},
  {"content", cl.rec.content{features = items.features, items = items.items, numeric_weight = 0.5}},
  -- defaults: reg 800 (ease) and reg 0.02 (bpr) were chosen on train:split{test = 0.2, seed = 7}
  {"ease", cl.rec.ease{}},
  {"bpr", cl.rec.bpr{}},
}
models[#models + 1] = {"hybrid", cl.rec.hybrid{
  {cl.rec.als{factors = 32, iters = 15, reg = 10, alpha = 5, seed = 42}, 0.5},
  {cl.rec.itemknn{k = 20, normalize = true, neighbours = "source"}, 0.5},
  fallback = cl.rec.popular{}, min_interactions = 5}}
-- defaults (issue 18: within 5% of the tuned figures) and the strongest blend, EASE with ALS
-- at their defaults, equal weights (0.5 beat 0.7 on EASE on the validation split)
models[#models + 1] = {"als_defaults", cl.rec.als{seed = 42}}
models[#models + 1] = {"itemknn_defaults", cl.rec.itemknn{}} -- weighting = "tfidf", k = 20
-- the item-kNN variants of issue 18: unweighted (the former default), BM25, and the best
-- setting found (every co-occurring item kept: k above the catalogue size)
models[#models + 1] = {"itemknn_unweighted", cl.rec.itemknn{weighting = "none"}}
models[#models + 1] = {"itemknn_bm25", cl.rec.itemknn{weighting = "bm25"}}
models[#models + 1] = {"itemknn_tuned", cl.rec.itemknn{weighting = "tfidf", k = 100000}}
models[#models + 1] = {"hybrid_ease_als", cl.rec.hybrid{{cl.rec.ease{}, 0.5},
                                                        {cl.rec.als{seed = 42}, 0.5}}}
-- issue 18's best model, tuned by cl.rec.search on a validation split of the training part
-- (never the holdout): EASE's lambda, ALS's size and penalty, then the blend's weight
print("   tuning on a validation split of the training part (train:split{test = 0.2, seed = 7}):")
local vtrain, vtest = train:split{test = 0.2, seed = 7}
local ease_p, ease_v = cl.rec.search{kind = "ease", grid = {reg = {200, 300, 400, 600, 800}},
                                     train = vtrain, test = vtest, metric = "precision"}
local als_p, als_v = cl.rec.search{kind = "als", grid = {factors = {64, 100}, reg = {10, 30},
                                                         alpha = {3, 5}},
                                   fixed = {seed = 42}, train = vtrain, test = vtest,
                                   metric = "precision"}
als_p.seed = 42
local function ease_als(p)
  return cl.rec.hybrid{{cl.rec.ease(ease_p), p.w}, {cl.rec.als(als_p), 1 - p.w}}
end
local hyb_p, hyb_v = cl.rec.search{make = ease_als, grid = {w = {0.3, 0.4, 0.5, 0.6, 0.7}},
                                   train = vtrain, test = vtest, metric = "precision"}
print(string.format("   ease reg %g (valid p@10 %.4f); als factors %d, reg %g, alpha %g (%.4f); "
                    .. "hybrid weight on ease %.1f (%.4f)", ease_p.reg, ease_v, als_p.factors,
                    als_p.reg, als_p.alpha, als_v, hyb_p.w, hyb_v))
models[#models + 1] = {"ease_tuned", cl.rec.ease(ease_p)}
models[#models + 1] = {"als_tuned", cl.rec.als(als_p)}
models[#models + 1] = {"hybrid_tuned", ease_als(hyb_p)}
local rows = {}
for _, spec in ipairs(models) do
  local name, m = spec[1], spec[2]
  local t0 = now()
  m:fit(train)
  local fit = now() - t0
  t0 = now()
  local r = cl.rec.evaluate(m, test, {k = 10})
  r.name, r.fit_s, r.eval_s = name, fit, now() - t0
  rows[#rows + 1] = r
end
ev.print_table(rows, {"precision", "recall", "map", "ndcg", "hit_rate", "mrr", "coverage",
                      "novelty", "fit_s"}, {base = "popular", rel = {"precision", "ndcg"}})
print("   exact metrics: every item ranked for every test user (no sampled negatives; sampled")
print("   metrics, e.g. 1 held-out item among 100 random ones, disagree with exact ones and can")
print("   reorder models, Krichene & Rendle 2020)")
local pop = rows[1]
local byname = {}
for _, r in ipairs(rows) do byname[r.name] = r end
do -- issue 18: item-kNN defaults within 5% of the tuned figure and of a numpy item-kNN (0.345)
  local d, t = byname.itemknn_defaults.precision, byname.itemknn_tuned.precision
  check(d >= 0.95 * t, string.format("item-kNN defaults p@10 %.4f within 5%% of tuned %.4f", d, t))
  check(d >= 0.95 * 0.345, string.format("item-kNN defaults p@10 %.4f within 5%% of numpy's 0.345",
                                         d))
end
local best = rows[1]
for _, r in ipairs(rows) do if r.precision > best.precision then best = r end end
check(best.precision >= 0.38 and best.ndcg >= 0.45,
      string.format("best model (%s) p@10 %.4f >= 0.38 and NDCG@10 %.4f >= 0.45 (issue 18)",
                    best.name, best.precision, best.ndcg))
for _, h in ipairs{{"hybrid", "als", "itemknn"}, {"hybrid_ease_als", "ease", "als_defaults"}} do
  local r, a, b = byname[h[1]], byname[h[2]], byname[h[3]]
  local top = math.max(a.ndcg, b.ndcg)
  check(r.ndcg >= top, string.format("%s NDCG@10 %.4f >= its best component's %.4f", h[1],
                                     r.ndcg, top))
end
for _, r in ipairs(rows) do
  if r.name == "itemknn" or r.name == "als" or r.name == "hybrid" then
    check(r.precision >= 1.5 * pop.precision and r.ndcg >= 1.5 * pop.ndcg,
          string.format("%s beats popularity by >= 50%% on precision@10 (%+.0f%%) and NDCG@10 (%+.0f%%)",
                        r.name, (r.precision / pop.precision - 1) * 100,
                        (r.ndcg / pop.ndcg - 1) * 100))
  end
end

-- 3 -------------------------------------------------------------------------------------
print("\n3. recommend_for (fold-in, no retraining) with 20 fresh interactions, k = 10")
local hist = {}
local ids = train:items()
for j = 1, 20 do hist[j] = ids[(j * 37) % #ids + 1] end
local ratings_all = cl.rec.interactions(all)
for _, spec in ipairs{{"als", models[3][2]}, {"itemknn", models[2][2]},
                      {"mf", cl.rec.mf(mf_params):fit(ratings_all)},
                      {"als64", cl.rec.als{factors = 64, iters = 15, reg = 10, alpha = 5,
                                           seed = 42}:fit(train)},
                      {"mf64", cl.rec.mf{factors = 64, seed = 42}:fit(ratings_all)},
                      {"svd++64", cl.rec.mf{factors = 64, seed = 42,
                                            implicit = true}:fit(ratings_all)}} do
  local m = spec[2]
  local reps = 500
  -- mf folds in ratings (never guessed): the same items rated 4
  local h = hist
  if spec[1]:sub(1, 2) == "mf" or spec[1]:sub(1, 3) == "svd" then
    h = {items = hist, values = {}}
    for j = 1, #hist do h.values[j] = 4 end
  end
  m:recommend_for(h, 10)
  local t0 = now()
  for _ = 1, reps do m:recommend_for(h, 10) end
  local ms = (now() - t0) / reps * 1000
  print(string.format("   %-8s %.3f ms per call (factors %s)", spec[1], ms,
                      tostring(m:params().factors or "-")))
  if spec[1] == "als" then check(ms < 1, string.format("ALS recommend_for %.3f ms < 1 ms", ms)) end
  if spec[1]:find("64", 1, true) then
    check(ms <= 1, string.format("%s recommend_for %.3f ms <= 1 ms at 64 factors", spec[1], ms))
  end
end

print(string.format("\n%s", failures == 0 and "all targets met" or failures .. " target(s) missed"))
os.exit(failures == 0 and 0 or 1)
