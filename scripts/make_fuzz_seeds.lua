-- make_fuzz_seeds.lua - small real model files of every kind, the seed corpus of
-- tests/fuzz/fuzz_loaders.c (and the model files tests/e2e/crash.sh re-parses); with the extra
-- variants at the end, of tests/fuzz/fuzz_modelsem.c (tests/data/fuzz-modelsem).
--   ./churnlab scripts/make_fuzz_seeds.lua [outdir]     (default tests/data/fuzz-loaders)
-- Small on purpose: libFuzzer mutates faster on short inputs (-max_len=4096 in run.sh).
local cl = require "churnlab"
local T = cl.tensor
local S = dofile(((arg and arg[0] or ""):match("^(.*)/") or ".") .. "/lib/fuzz_seeds.lua")
local dir = S.outdir("tests/data/fuzz-loaders")

local X, y, rows = S.rows(7) -- 40 rows, 3 features: x1 informative, x2 noise, x3 with missing values
local noNaN = {}
for i = 1, 40 do noNaN[i] = {rows[i][1], rows[i][2], rows[i][3] ~= rows[i][3] and 0 or rows[i][3]} end
local Xf = T.new(noNaN)
local names = {names = {"x1", "x2", "x3"}}

local function save(m, name, ...)
  if select("#", ...) > 0 then m:fit(...) end
  local p = dir .. "/" .. name; m:save(p); assert(io.open(p, "rb")):close(); print(p) end

save(cl.logreg{}, "logreg.clm", Xf, y, names)
save(cl.mlp{hidden = {3}, epochs = 2, seed = 1}, "mlp.clm", Xf, y, names)
save(cl.gbdt{trees = 3, depth = 2, seed = 1}, "gbdt.clm", X, y, names)
save(cl.forest{trees = 2, depth = 3, seed = 1}, "forest.clm", X, y, names)
save(cl.tree{depth = 3}, "tree.clm", X, y, names)

local f = cl.frame.new{plan = {"a", "b", "a", "c", "b", "a"}, tenure = {1, 5, 3, 0 / 0, 9, 2},
                       churn = {"Yes", "No", "No", "Yes", "No", "Yes"}}
local pipe = cl.prep.pipeline{target = "churn", positive = "Yes", scale = "minmax"}
pipe:fit(f)
save(pipe, "pipeline.clm")
local Xp, yp = pipe:transform(f)
local lp = cl.logreg{}
lp:fit(Xp, yp, {names = pipe:feature_names()})
assert(lp:save(dir .. "/logreg_pipeline.clm", {pipeline = pipe}))   -- a model with its pipeline in one file

local R = cl.rec
local inter = R.interactions{users = {1, 1, 2, 2, 3, 3, 4, 4, 4}, items = {1, 2, 2, 3, 1, 3, 1, 2, 4}}
local kinds = {
  popular = R.popular{}, itemknn = R.itemknn{k = 2}, mf = R.mf{factors = 2, epochs = 2},
  als = R.als{factors = 2, iters = 2},
  content = R.content{features = T.new{{1, 0}, {0, 1}, {1, 1}, {0, 0}}, items = {1, 2, 3, 4}},
}
for _, k in ipairs{"popular", "itemknn", "mf", "als", "content"} do
  save(kinds[k], "rec_" .. k .. ".clm", inter)
end
save(R.hybrid{{R.als{factors = 2, iters = 2}, 0.5}, {R.itemknn{k = 2}, 0.5},
              fallback = R.popular{}}, "rec_hybrid.clm", inter)
save(cl.calibrate.platt(), "calibrator.clm", {0.1, 0.4, 0.6, 0.9}, {0, 1, 0, 1})
save(cl.cluster.kmeans{k = 2, seed = 1}, "kmeans.clm", Xf)

-- The rest feed tests/fuzz/fuzz_modelsem.c (the structure-aware target, which edits fields
-- inside chunks): every option whose invariants a loader must check gets a file of its own.
--   ./churnlab scripts/make_fuzz_seeds.lua tests/data/fuzz-modelsem
save(cl.calibrate.isotonic(), "isotonic.clm", {0.1, 0.4, 0.35, 0.8, 0.6, 0.9}, {0, 0, 1, 1, 0, 1})
save(cl.mlp{hidden = {3, 2}, batch_norm = true, epochs = 2, seed = 1}, "mlp_bn.clm", Xf, y, names)
save(cl.gbdt{trees = 2, depth = 3, leaves = 4, seed = 1}, "gbdt_leafwise.clm", X, y, names)
local fc = cl.frame.new{plan = {"a", "b", "a", "c", "b", "a", "d", "c"},
                        tenure = {1, 5, 3, 0 / 0, 9, 2, 4, 7},
                        spend = {10, 20, 0 / 0, 40, 50, 60, 70, 80},
                        churn = {1, 0, 0, 1, 0, 1, 1, 0}}
local variants = {
  {"pipe_onehot_other.clm", {target = "churn", unknown = "other", impute = "constant",
                             fill_value = 1, fill_label = "none", scale = "standard"}},
  {"pipe_ordinal.clm", {target = "churn", encode = "ordinal", scale = "minmax", clip = true,
                        max_categories = 2}},
  {"pipe_native.clm", {target = "churn", positive = "1", encode = "native", impute = "none"}},
  {"pipe_notarget.clm", {drop = {"churn"}, impute = "most_frequent"}},
  -- format 2 (issue 20): target encodings, missing indicators, robust scaling, one-hot drop
  {"pipe_v2_target.clm", {target = "churn", encode = "target", impute = "none",
                          add_indicator = true, scale = "robust", smooth = 2, cv = 3}},
  {"pipe_v2_drop.clm", {target = "churn", onehot_drop = "first", add_indicator = true,
                        unknown = "other"}},
}
for _, v in ipairs(variants) do
  local pp = cl.prep.pipeline(v[2])
  pp:fit(fc)
  save(pp, v[1])
end
local pn = cl.prep.pipeline{target = "churn", encode = "native"}
pn:fit(fc)
local Xn, yn = pn:transform(fc)
local tn = cl.tree{depth = 2, min_leaf = 1}
tn:fit(Xn, yn, {names = pn:feature_names()})
assert(tn:save(dir .. "/tree_pipeline.clm", {pipeline = pn}))
print(dir .. "/tree_pipeline.clm")
local gp = cl.gbdt{trees = 2, depth = 2, seed = 1}
gp:fit(Xn, yn, {names = pn:feature_names()})
assert(gp:save(dir .. "/gbdt_pipeline.clm", {pipeline = pn}))
print(dir .. "/gbdt_pipeline.clm")
save(R.popular{half_life = 2}, "rec_popular_times.clm",
     R.interactions{users = {1, 1, 2, 3}, items = {1, 2, 2, 3}, times = {1, 2, 3, 4}})
save(R.itemknn{k = 3, similarity = "jaccard", normalize = true}, "rec_itemknn_jaccard.clm", inter)
