-- Strict options (issue 13): every exported function that takes an options table rejects an
-- unknown key with an error naming it; options that are documented do what they say.
--
-- How the coverage is kept honest: the test walks every module of `require "churnlab"` and
-- every method table it can reach (the C types' metatables in the registry, the Lua objects'
-- metatables), and every function it finds must be listed either in TAKES (with a call that
-- passes valid leading arguments and the options table {bogus_option_xyz = 1}) or in NONE
-- (functions without an options table). A new function in neither list fails the test, and
-- so does any TAKES entry whose call does not raise an error naming 'bogus_option_xyz'.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local BOGUS = "bogus_option_xyz"
local scratch = os.tmpname() -- for the savers (they raise before writing)
local function bogus() return {[BOGUS] = 1} end

-- ---- fixtures: small, deterministic, fitted objects of every kind -------------------------
local n, d = 40, 3
local rows, labels = {}, {}
for i = 1, n do
  rows[i] = {math.sin(i), (i % 7) / 7, (i * 37 % 11) / 11}
  labels[i] = (i % 3 == 0) and 1 or 0
end
local X = tensor(rows)
local y = tensor(labels)
local df = cl.frame{x1 = {}, g = {}} -- replaced below
do
  local x1, g, h, churn = {}, {}, {}, {}
  for i = 1, n do
    x1[i] = rows[i][1]; g[i] = ({"a", "b", "c"})[i % 3 + 1]; h[i] = ({"u", "v"})[i % 2 + 1]
    churn[i] = labels[i] == 1 and "Yes" or "No"
  end
  df = cl.frame({x1 = x1, g = g, h = h, churn = churn}, {names = {"x1", "g", "h", "churn"}})
end
local pipe = cl.prep.pipeline{target = "churn", positive = "Yes"}:fit(df)
local PX = pipe:transform(df)

local logreg = cl.logreg{}
logreg:fit(X, y) -- fit returns the model; its history is logreg:history()
local mlp = cl.mlp{hidden = {4}, epochs = 2, seed = 1}
mlp:fit(X, y)
local gbdt = cl.gbdt{trees = 3, depth = 2}:fit(X, y)
local forest = cl.forest{trees = 3, depth = 3}:fit(X, y)
local tree = cl.tree{depth = 2}:fit(X, y)
-- a C live scorer over a profiles-only pipeline (no live feature needed for the options walk)
local scorer_path = os.tmpname()
local live_state = cl.live.new()
local profiles = cl.frame({user_id = (function() local u = {} for i = 1, n do u[i] = i end return u end)(),
  x1 = df.x1:totable(), g = df.g:totable(), h = df.h:totable(), churn = df.churn:totable()})
do
  local g2, Xp, yp = cl.gbdt{trees = 2, depth = 2}, pipe:transform(df)
  g2:fit(Xp, yp, {pipeline = pipe})
  g2:save(scorer_path, {pipeline = pipe})
end
local scorer_obj = require("churnlab.scorer").new(live_state, scorer_path, {profiles = profiles})
-- the service over the same (empty) state and model, on any free loopback port
local service = cl.serve.start{state = live_state, model = scorer_path, profiles = profiles, port = 0}
os.remove(scorer_path)
local km = cl.cluster.kmeans{k = 2, seed = 1}
local km_labels = km:fit(X)
local cox_t, cox_e = {}, {}
for i = 1, n do cox_t[i] = i % 13 + 1; cox_e[i] = i % 2 end
local cox = cl.survival.cox(X, cox_t, cox_e)
local kmcurve = cl.survival.km(cox_t, cox_e)

local users, items = {}, {}
for i = 1, 60 do users[i] = "u" .. (i % 8); items[i] = "i" .. (i * 7 % 10) end
local inter = cl.rec.interactions{users = users, items = items}
local pop = cl.rec.popular{}:fit(inter)
local itemknn = cl.rec.itemknn{}:fit(inter)
local mf = cl.rec.mf{factors = 2, epochs = 2, seed = 1}:fit(inter)
local als = cl.rec.als{factors = 2, iters = 1, seed = 1}:fit(inter)
local feats, fitems = {}, {}
for k = 0, 9 do feats[#feats + 1] = {k % 2, k % 3}; fitems[#fitems + 1] = "i" .. k end
local content = cl.rec.content{features = tensor(feats), items = fitems}:fit(inter)
local hybrid = cl.rec.hybrid{{pop, 1}, {itemknn, 1}}:fit(inter)
local world = cl.synth.world{customers = 200, titles = 50, seed = 1}
local fig = cl.plot.line{y = {1, 2, 3}}
local tmpdir = os.tmpname()
os.remove(tmpdir)
local rep = cl.report.new{title = "t", out = tmpdir .. "/r.html"}
local strategies = {{name = "call", contact = 1, effect = 0.2}}
local customers = {p = {0.5, 0.2, 0.9}, value = {10, 20, 30}}
local actions = {{contact = 1, effect = 0.2}}
local tl = cl.uplift.tlearner(function() return cl.logreg{} end)
local ct = cl.uplift.transform(function() return cl.logreg{} end)
local mk_reg = function() return cl.gbdt{objective = "squared", trees = 2} end
local xl = cl.uplift.xlearner(function() return cl.logreg{} end, {regressor = mk_reg})
local drl = cl.uplift.drlearner(function() return cl.logreg{} end, {regressor = mk_reg})
local sl = cl.uplift.slearner(function() return cl.logreg{} end)

-- ---- functions that take an options table: name -> call passing it ------------------------
local TAKES = {
  -- the live engine (its own key checks in lua/bind/live.c and the live*.lua modules)
  ["live.new"] = function(o) return cl.live.new(o) end,
  ["Live:ingest"] = function(o) return cl.live.new():ingest({}, o) end,
  ["Live:ingest_jsonl"] = function(o) return cl.live.new():ingest_jsonl("", o) end,
  ["SynthWorld:stream"] = function(o) return world:stream(o) end,
  ["livefollow.new"] = function(o) return require("churnlab.livefollow").new(cl.live.new(), scratch, o) end,
  ["livemonitor.new"] = function(o) return require("churnlab.livemonitor").new({}, o) end,
  ["livescore.new"] = function(o) return require("churnlab.livescore").new(cl.live.new(), nil, o) end,
  ["experiment.new"] = function(o) o.world = cl.synth.world{customers = 100, titles = 300}; return require("churnlab.experiment").new(o) end,
  ["scorer.new"] = function(o) return require("churnlab.scorer").new(live_state, "/nonexistent.clm", o) end,
  ["Scorer:reasons"] = function(o) return scorer_obj:reasons(1, o) end,
  ["serve.start"] = function(o) return cl.serve.start(o) end,
  ["Service:run"] = function(o) return service:run(o) end,
  ["Service:request"] = function(o) return service:request("GET", "/healthz", o) end,
  -- frames
  ["frame.read_csv"] = function(o)
    local p = os.tmpname(); local f = io.open(p, "w"); f:write("a\n1\n"); f:close()
    local ok, err = pcall(cl.read_csv, p, o); os.remove(p); if not ok then error(err, 0) end
  end,
  ["frame.new"] = function(o) return cl.frame({a = {1}}, o) end,
  ["Frame:split"] = function(o) return df:split(o) end,
  ["Frame:kfold"] = function(o) return df:kfold(o) end,
  ["Frame:write_csv"] = function(o) return df:write_csv(scratch, o) end,
  ["Frame:sort"] = function(o) return df:sort("x1", o) end,
  ["Frame:value_counts"] = function(o) return df:value_counts("g", o) end,
  ["Frame:join"] = function(o) return df:join(df, "g", o) end,
  ["Frame:dropna"] = function(o) return df:dropna(o) end,
  ["Frame:fillna"] = function(o) o.method = "ffill"; return df:fillna(o) end,
  ["Frame:drop_duplicates"] = function(o) return df:drop_duplicates(o) end,
  ["Frame:duplicated"] = function(o) return df:duplicated(o) end,
  ["Frame:sample"] = function(o) return df:sample(o) end,
  ["Frame:corr"] = function(o) return df:corr(o) end,
  ["Frame:pivot"] = function(o) o.index = "g"; o.columns = "h"; o.values = "x1"; return df:pivot(o) end,
  ["Frame:pivot_table"] = function(o) o.index = "g"; o.columns = "h"; o.values = "x1"; return df:pivot_table(o) end,
  ["Frame:melt"] = function(o) return df:melt(o) end,
  ["Column:cut"] = function(o) return df.x1:cut(2, o) end,
  ["Column:qcut"] = function(o) return df.x1:qcut(2, o) end,
  ["Frame:crosstab"] = function(o) return df:crosstab("g", "h", o) end,
  ["Column:value_counts"] = function(o) return df.g:value_counts(o) end,
  ["Column:rank"] = function(o) return cl.frame{x = {1, 2}}.x:rank(o) end,
  ["Column:rolling"] = function(o) return cl.frame{x = {1, 2}}.x:rolling(2, "mean", o) end,
  ["GroupBy:rank"] = function(o) return cl.frame{g = {"a", "b"}, x = {1, 2}}:groupby("g"):rank("x", o) end,
  ["GroupBy:rolling"] = function(o)
    return cl.frame{g = {"a", "b"}, x = {1, 2}}:groupby("g"):rolling("x", 2, "mean", o)
  end,
  ["Frame:print"] = function(o) return df:print(o) end, -- also takes a row count
  ["Frame:show"] = function(o) return df:show(o) end,
  -- preprocessing
  ["prep.pipeline"] = function(o) return cl.prep.pipeline(o) end,
  ["prep.imputer"] = function(o) return cl.prep.imputer(o) end,
  ["prep.scaler"] = function(o) return cl.prep.scaler(o) end,
  ["prep.onehot"] = function(o) return cl.prep.onehot(o) end,
  ["prep.ordinal"] = function(o) return cl.prep.ordinal(o) end,
  -- models: parameters, fit, predict, shap, importance, rules, save
  ["linear.logreg"] = function(o) return cl.logreg(o) end,
  -- uplift meta-learners with a second stage: {regressor, propensity, folds, seed}
  ["uplift.xlearner"] = function(o) return cl.uplift.xlearner(function() return cl.logreg{} end, o) end,
  ["uplift.drlearner"] = function(o) return cl.uplift.drlearner(function() return cl.logreg{} end, o) end,
  ["uplift.slearner"] = function(o) return cl.uplift.slearner(function() return cl.logreg{} end, o) end, -- {interactions}
  ["mlp.mlp"] = function(o) return cl.mlp(o) end,
  ["trees.gbdt"] = function(o) return cl.gbdt(o) end,
  ["trees.forest"] = function(o) return cl.forest(o) end,
  ["trees.tree"] = function(o) return cl.tree(o) end,
  ["LogReg:fit"] = function(o) return cl.logreg{}:fit(X, y, o) end,
  ["LogReg:predict"] = function(o) return logreg:predict(X, o) end,
  ["LogReg:save"] = function(o) return logreg:save(scratch, o) end,
  ["LogReg:predict_proba"] = function(o) return logreg:predict_proba(X, o) end,
  ["LogReg:contrib"] = function(o) return logreg:contrib(X, o) end,
  ["MLP:predict_proba"] = function(o) return mlp:predict_proba(X, o) end,
  ["GBDT:predict_proba"] = function(o) return gbdt:predict_proba(X, o) end,
  ["GBDT:contrib"] = function(o) return gbdt:contrib(X, o) end,
  ["Forest:predict_proba"] = function(o) return forest:predict_proba(X, o) end,
  ["Forest:contrib"] = function(o) return forest:contrib(X, o) end,
  ["Tree:predict_proba"] = function(o) return tree:predict_proba(X, o) end,
  ["Tree:contrib"] = function(o) return tree:contrib(X, o) end,
  ["model.new"] = function(o) return cl.model.new("gbdt", o) end,
  ["MLP:fit"] = function(o) return cl.mlp{epochs = 1}:fit(X, y, o) end,
  ["MLP:predict"] = function(o) return mlp:predict(X, o) end,
  ["MLP:save"] = function(o) return mlp:save(scratch, o) end,
  ["GBDT:fit"] = function(o) return cl.gbdt{trees = 1}:fit(X, y, o) end,
  ["GBDT:predict"] = function(o) return gbdt:predict(X, o) end,
  ["GBDT:shap"] = function(o) return gbdt:shap(X, o) end,
  ["GBDT:importance"] = function(o) return gbdt:importance(o) end,
  ["GBDT:save"] = function(o) return gbdt:save(scratch, o) end,
  ["GBDT:fit_more"] = function(o) return gbdt:fit_more(X, y, o) end,
  ["warm_start.fit_more"] = function(o) return cl.warm_start.fit_more(gbdt, X, y, o) end,
  ["Forest:fit"] = function(o) return cl.forest{trees = 1}:fit(X, y, o) end,
  ["Forest:predict"] = function(o) return forest:predict(X, o) end,
  ["Forest:shap"] = function(o) return forest:shap(X, o) end,
  ["Forest:importance"] = function(o) return forest:importance(o) end,
  ["Forest:save"] = function(o) return forest:save(scratch, o) end,
  ["Tree:fit"] = function(o) return cl.tree{}:fit(X, y, o) end,
  ["Tree:predict"] = function(o) return tree:predict(X, o) end,
  ["Tree:shap"] = function(o) return tree:shap(X, o) end,
  ["Tree:importance"] = function(o) return tree:importance(o) end,
  ["Tree:rules"] = function(o) return tree:rules(o) end,
  ["Tree:save"] = function(o) return tree:save(scratch, o) end,
  ["cluster.kmeans"] = function(o) return cl.cluster.kmeans(o) end,
  ["KMeans:fit"] = function(o) return cl.cluster.kmeans{k = 2}:fit(X, o) end,
  ["cluster.silhouette"] = function(o) return cl.cluster.silhouette(X, km_labels, o) end,
  ["survival.km"] = function(o) return cl.survival.km(cox_t, cox_e, o) end,
  ["survival.km_by"] = function(o) return cl.survival.km_by(cox_t, cox_e, labels, o) end,
  ["survival.cox"] = function(o) return cl.survival.cox(X, cox_t, cox_e, o) end,
  ["Cox:predict"] = function(o) return cox:predict(X, o) end,
  ["Cox:baseline"] = function(o) return cox:baseline(o) end,
  ["Cox:expected_lifetime"] = function(o) return cox:expected_lifetime(X, o) end,
  ["Cox:clv"] = function(o) return cox:clv(X, o) end,
  ["Cox:ph_test"] = function(o) return cox:ph_test(X, cox_t, cox_e, o) end,
  ["Cox:concordance"] = function(o) return cox:concordance(X, cox_t, cox_e, o) end,
  ["survival.concordance"] = function(o) return cl.survival.concordance(cox_t, cox_e, cox_t, o) end,
  -- evaluation and explanation
  ["metrics.best_threshold"] = function(o)
    o.cost_fp, o.cost_fn = 1, 5 -- a valid cost table plus the unknown key
    return cl.metrics.best_threshold(y, logreg:predict(X), o)
  end,
  ["measure.psi"] = function(o) return cl.measure.psi({1, 2, 3, 4}, {1, 2, 3, 5}, o) end,
  ["xai.permutation"] = function(o) return cl.xai.permutation(logreg, X, y, o) end,
  ["xai.ice"] = function(o) return cl.xai.ice(logreg, X, 1, {0, 1}, o) end,
  ["xai.kernelshap"] = function(o) return cl.xai.kernelshap(logreg, X:rows(1, 2), X, o) end,
  ["xai.lime"] = function(o) return cl.xai.lime(logreg, X:rows(1, 1), X, o) end,
  ["explain.importance"] = function(o) return cl.explain.importance(logreg, X, y, o) end,
  ["explain.pdp"] = function(o) return cl.explain.pdp(logreg, X, 1, o) end,
  ["explain.shap"] = function(o) return cl.explain.shap(gbdt, X, o) end,
  ["explain.lime"] = function(o) return cl.explain.lime(logreg, X:rows(1, 1), X, o) end,
  ["explain.reasons"] = function(o)
    return cl.explain.reasons(cl.gbdt{trees = 2}:fit(PX, y), pipe, df:head(2), o)
  end,
  -- tensors
  ["tensor.rand"] = function(o) return tensor.rand(3, o) end,
  ["tensor.randn"] = function(o) return tensor.randn(3, o) end,
  -- strategy and its engine
  ["strategy.simulate"] = function(o)
    o.customers, o.strategies = customers, strategies
    return cl.strategy.simulate(o)
  end,
  ["strategy.plan_for"] = function(o)
    o.customers, o.strategies = customers, strategies
    return cl.strategy.plan_for(o, 1)
  end,
  ["strategy.sensitivity"] = function(o)
    o.customers, o.strategies = customers, strategies
    return cl.strategy.sensitivity(o)
  end,
  ["strategy.hazard_ratio"] = function(o) return cl.strategy.hazard_ratio({0.1, 0.2}, {0, 1}, {{1}, {1}}, o) end,
  ["plan.optimize"] = function(o) return cl.plan.optimize(customers, actions, 10, o) end,
  ["plan.simulate"] = function(o) return cl.plan.simulate(customers, actions, {1, 0, 1}, o) end,
  -- model selection
  ["model_selection.cross_validate"] = function(o) return cl.model_selection.cross_validate(cl.logreg, df, o) end,
  ["model_selection.grid_search"] = function(o)
    return cl.model_selection.grid_search(cl.logreg, df, {C = {1}}, o)
  end,
  ["model_selection.random_search"] = function(o)
    return cl.model_selection.random_search(cl.logreg, df, {C = {1}}, o)
  end,
  ["model_selection.time_split"] = function(o) o.time, o.test = "x1", 0.2; return cl.model_selection.time_split(df, o) end,
  ["model_selection.time_folds"] = function(o) o.time = "x1"; return cl.model_selection.time_folds(df, o) end,
  -- value
  ["value.clv"] = function(o) o.p, o.margin = 0.1, 10; return cl.value.clv(o) end,
  ["value.clv_vector"] = function(o) return cl.value.clv_vector({0.1}, 10, o) end,
  ["value.rfm"] = function(o)
    o.customer, o.time = "g", "x1"
    return cl.value.rfm(df, o)
  end,
  -- recommenders
  ["rec.interactions"] = function(o) return cl.rec.interactions({users = {"a"}, items = {"b"}}, o) end,
  ["rec.random_interactions"] = function(o)
    o.users, o.items, o.nnz = 5, 5, 5
    return cl.rec.random_interactions(o)
  end,
  ["rec.popular"] = function(o) return cl.rec.popular(o) end,
  ["rec.itemknn"] = function(o) return cl.rec.itemknn(o) end,
  ["rec.mf"] = function(o) return cl.rec.mf(o) end,
  ["rec.als"] = function(o) return cl.rec.als(o) end,
  ["rec.ease"] = function(o) return cl.rec.ease(o) end,
  ["rec.bpr"] = function(o) return cl.rec.bpr(o) end,
  ["rec.content"] = function(o) return cl.rec.content(o) end,
  ["rec.hybrid"] = function(o) o[1] = {pop, 1}; return cl.rec.hybrid(o) end,
  ["rec.evaluate"] = function(o) return cl.rec.evaluate(pop, inter, o) end,
  ["Interactions:split"] = function(o) return inter:split(o) end,
  ["Recommender:fit"] = function(o) return cl.rec.popular{}:fit(inter, o) end,
  ["Recommender:recommend"] = function(o) return pop:recommend("u1", 3, o) end,
  ["Recommender:recommend_all"] = function(o) return pop:recommend_all(3, o) end,
  ["Recommender:recommend_for"] = function(o) return pop:recommend_for({"i1"}, 3, o) end,
  ["Recommender:add_item"] = function(o)
    return cl.rec.popular{}:fit(inter):add_item("i_new", o)
  end,
  ["Recommender:predict_ratings"] = function(o)
    return mf:predict_ratings({users = {"u1"}, items = {"i1"}}, o)
  end,
  ["rec_eval.print_table"] = function(o) return cl.rec_eval.print_table({}, nil, o) end,
  ["rec.search"] = function(o) return cl.rec.search(o) end,
  ["rec_eval.search"] = function(o) return cl.rec_eval.search(o) end,
  -- the simulated service
  ["synth.world"] = function(o) return cl.synth.world({customers = 50, titles = 50}, o) end,
  ["synth.generate"] = function(o) return cl.synth.generate(tmpdir .. "/synth", {customers = 50, titles = 50}, o) end,
  ["SynthWorld:replay"] = function(o) return world:replay(o) end,
  ["SynthWorld:true_risk"] = function(o) return world:true_risk(o) end,
  -- plots and reports (unknown keys fail before gnuplot is looked for)
  ["plot.line"] = function(o) o.y = {1, 2}; return cl.plot.line(o) end,
  ["plot.scatter"] = function(o) o.x, o.y = {1, 2}, {1, 2}; return cl.plot.scatter(o) end,
  ["plot.hist"] = function(o) o.values = {1, 2}; return cl.plot.hist(o) end,
  ["plot.bar"] = function(o) o.values = {1, 2}; return cl.plot.bar(o) end,
  ["plot.box"] = function(o) o.values = {1, 2}; return cl.plot.box(o) end,
  ["plot.heatmap"] = function(o) o.matrix = {{1}}; return cl.plot.heatmap(o) end,
  ["plot.roc"] = function(o) o.y, o.score = {0, 1}, {0.1, 0.9}; return cl.plot.roc(o) end,
  ["plot.pr"] = function(o) o.y, o.score = {0, 1}, {0.1, 0.9}; return cl.plot.pr(o) end,
  ["plot.calibration"] = function(o) o.y, o.score = {0, 1}, {0.1, 0.9}; return cl.plot.calibration(o) end,
  ["plot.gains"] = function(o) o.y, o.score = {0, 1}, {0.1, 0.9}; return cl.plot.gains(o) end,
  ["plot.lift"] = function(o) o.y, o.score = {0, 1}, {0.1, 0.9}; return cl.plot.lift(o) end,
  ["plot.importance"] = function(o) o.names, o.values = {"a"}, {1}; return cl.plot.importance(o) end,
  ["plot.shap"] = function(o) o.names, o.values = {"a"}, {{1}}; return cl.plot.shap(o) end,
  ["plot.survival"] = function(o) o.time, o.event = {1, 2}, {1, 0}; return cl.plot.survival(o) end,
  ["plot.history"] = function(o) return cl.plot.history({loss = {1, 2}}, o) end,
  ["Figure:add"] = function(o) o.y = {1}; return cl.plot.line{y = {1}}:add(o) end,
  ["Figure:set"] = function(o) return cl.plot.line{y = {1}}:set(o) end,
  ["Figure:save"] = function(o) return fig:save(tmpdir .. "/f.png", o) end,
  ["Figure:text"] = function(o) return fig:text(o) end,
  ["Figure:show"] = function(o) return fig:show(o) end,
  ["report.new"] = function(o) o.title = "t"; return cl.report.new(o) end,
  ["report.index"] = function(o) return cl.report.index(tmpdir, o) end,
  ["Report:table"] = function(o) return rep:table({{1, 2}}, o) end,
  ["Report:figure"] = function(o) return rep:figure(fig, o) end,
  ["Report:metrics"] = function(o) return rep:metrics({auc = 0.5}, o) end,
  ["Report:save"] = function(o) return rep:save(o) end,
  ["repl.pretty"] = function(o) return cl.repl.pretty({1}, o) end,
  ["options.check"] = function(o) return cl.options.check(o, 1, "f", {"a"}) end,
}

-- Option tables inside arguments: each must reject an unknown key too.
local NESTED = {
  ["strategy.simulate: a strategy"] = function(o)
    o.name, o.contact, o.effect = "s", 1, 0.2
    return cl.strategy.simulate{customers = customers, strategies = {o}}
  end,
  ["strategy.simulate: a strategy's target"] = function(o)
    return cl.strategy.simulate{customers = customers, strategies = {{contact = 1, effect = 0.2, target = o}}}
  end,
  ["strategy.simulate: customers"] = function(o)
    o.p, o.value = customers.p, customers.value
    return cl.strategy.simulate{customers = o, strategies = strategies}
  end,
  ["strategy.sensitivity: vary"] = function(o)
    return cl.strategy.sensitivity{customers = customers, strategies = strategies, vary = o}
  end,
  ["plan.expected: customers"] = function(o)
    o.p, o.value = customers.p, customers.value
    return cl.plan.expected(o, actions)
  end,
  ["plan.expected: an action"] = function(o) o.contact = 1; return cl.plan.expected(customers, {o}) end,
  ["SynthWorld:replay: an action"] = function(o) o.outreach = true; return world:replay{policy = o} end,
  ["plot.line: a series"] = function(o) o.y = {1, 2}; return cl.plot.line{o} end,
}

-- ---- functions without an options table (coverage made visible) ---------------------------
local NONE = {
  "Experiment:arm", "Experiment:attach", "Experiment:free", "Experiment:step", "Experiment:summary",
  "experiment.view_prob",
  -- the live state's plain accessors, the feature table, core helpers and the gnuplot probe
  "Live:advance", "Live:features", "Live:frame", "Live:free", "Live:image", "Live:now",
  "Scorer:free", "Scorer:risk", "Scorer:risks",
  -- the service's plain accessors; serve_cli.main takes the command line's argument list
  "Service:poll", "Service:port", "Service:refresh", "Service:stop", "Service:url",
  "serve_cli.main",
  "Live:snapshot", "Live:stats", "Live:version", "live.features", "core.mkdirs", "core.raise",
  "plot.available",
  -- the MPI processes: plain arguments (allreduce takes a value and an op name)
  "mpi.allreduce", "mpi.barrier", "mpi.rank", "mpi.size",
  -- core: plain arguments
  "core.docs", "core.interrupted", "core.load", "core.memory", "core.model_kind", "core.now",
  "core.threads",
  -- loaders take a path
  "linear.load", "mlp.load", "prep.load", "cluster.load", "calibrate.load", "rec.load",
  "xgboost.load",
  -- calibrators are built empty and fitted on (scores, y)
  "calibrate.isotonic", "calibrate.platt", "calibrate.prior_correct",
  "Calibrator:fit", "Calibrator:predict", "Calibrator:save",
  -- explain.groups(pipeline, d) maps columns to groups
  "explain.groups",
  -- help and the REPL: text in, text out
  "help.comment_doc", "help.help", "help.module_header", "help.params_text", "help.setdoc",
  "help.summary", "help.text", "help.wrap",
  "repl.bind", "repl.command", "repl.complete", "repl.format_time", "repl.quote", "repl.show",
  "repl.width_of", "repl.globalize", "repl.loadfile",
  -- measures and metrics take vectors and numbers (thresholds, bins, k)
  "measure.chi2_sf", "measure.norm_ppf", "measure.qini",
  "metrics.accuracy", "metrics.average_precision", "metrics.balanced_accuracy", "metrics.brier",
  "metrics.calibration", "metrics.confusion", "metrics.coverage", "metrics.f1", "metrics.fbeta",
  "metrics.gains", "metrics.hit_rate_at_k", "metrics.log_loss", "metrics.mae", "metrics.map_at_k",
  "metrics.mcc", "metrics.mrr", "metrics.ndcg_at_k", "metrics.novelty", "metrics.pr_curve",
  "metrics.precision", "metrics.precision_at_k", "metrics.recall", "metrics.recall_at_k",
  "metrics.report", "metrics.rmse", "metrics.roc_auc", "metrics.roc_curve", "metrics.specificity",
  -- plan.expected(customers, actions): its tables are checked in NESTED
  "plan.expected",
  -- plot helpers computing curves from vectors
  "plot.boxstats", "plot.calibration_curve", "plot.gains_curve", "plot.histogram",
  "plot.is_figure", "plot.kaplan_meier", "plot.pr_curve", "plot.quantile", "plot.reset",
  "plot.roc_curve", "Figure:script",
  -- report text blocks and renderers
  "report.escape", "report.inline", "report.markdown", "Report:h1", "Report:h2", "Report:text",
  "Report:code", "Report:html", "Report:markdown",
  -- rec data helpers
  "rec_eval.read_movielens_items", "rec_eval.read_ratings",
  -- survival: logrank(time, event, group)
  "survival.logrank", "Cox:summary", "KaplanMeier:at", "KaplanMeier:curve", "KaplanMeier:median",
  -- Cox: survival(X, times), schoenfeld(X, time, event)
  "Cox:survival", "Cox:schoenfeld",
  -- synth tables; bench_data(n, d, kind, seed) is positional
  "synth.coefs", "synth.genres", "synth.bench_data",
  "SynthWorld:appeal", "SynthWorld:churn_day", "SynthWorld:free", "SynthWorld:genres",
  "SynthWorld:info", "SynthWorld:labels", "SynthWorld:params", "SynthWorld:tastes",
  "SynthWorld:title_genres", "SynthWorld:campaign_truth",
  -- tensor constructors take shapes and values
  "tensor.arange", "tensor.eye", "tensor.full", "tensor.is_tensor", "tensor.linspace",
  "tensor.new", "tensor.ones", "tensor.zeros",
  -- uplift learners wrap a model constructor; fit(X, churned, treated), predict(X)
  "uplift.qini", "uplift.tlearner", "uplift.transform",
  "TLearner:fit", "TLearner:predict", "ClassTransform:fit", "ClassTransform:predict",
  "XLearner:fit", "XLearner:predict", "DRLearner:fit", "DRLearner:predict",
  "SLearner:fit", "SLearner:predict",
  -- value helpers with positional arguments
  "value.lifetime", "value.segment_rates", "value.wilson",
  -- frame methods with positional arguments only
  "Frame:nrow", "Frame:ncol", "Frame:shape", "Frame:names", "Frame:types", "Frame:col",
  "Frame:has", "Frame:row", "Frame:head", "Frame:tail", "Frame:select", "Frame:drop",
  "Frame:rename", "Frame:filter", "Frame:take", "Frame:with", "Frame:concat", "Frame:totable",
  "Frame:columns", "Frame:groupby", "Frame:describe", "GroupBy:agg",
  -- column methods
  "Frame:apply", "Frame:to_tensor", "frame.from_tensor",
  "Column:year", "Column:month", "Column:day", "Column:weekday", "Column:dayofyear",
  "Column:quarter", "Column:hour", "Column:add_months", "Column:lower", "Column:upper",
  "Column:strip", "Column:replace", "Column:split_part", "Column:str_len", "Column:contains",
  "Column:startswith", "Column:endswith",
  "Column:cumsum", "Column:diff", "Column:shift", "GroupBy:cumsum", "GroupBy:diff", "GroupBy:shift",
  "Column:and_", "Column:astype", "Column:count", "Column:eq", "Column:fillna", "Column:ge",
  "Column:get", "Column:gt", "Column:isin", "Column:isna", "Column:le", "Column:len", "Column:lt",
  "Column:map", "Column:max", "Column:mean", "Column:median", "Column:min", "Column:name",
  "Column:ne", "Column:not_", "Column:nunique", "Column:or_", "Column:quantile", "Column:std",
  "Column:sum", "Column:totable", "Column:type", "Column:unique",
  -- model accessors
  "LogReg:coef", "LogReg:coef_list", "LogReg:decision", "LogReg:fitted", "LogReg:free",
  "LogReg:intercept", "LogReg:odds_ratios", "LogReg:params", "LogReg:pipeline", "LogReg:prior",
  "LogReg:features", "LogReg:history",
  "MLP:decision", "MLP:fitted", "MLP:free", "MLP:names", "MLP:nparams", "MLP:params",
  "MLP:pipeline", "MLP:prior", "MLP:features", "MLP:history",
  "GBDT:best_iteration", "GBDT:export_xgboost", "GBDT:features", "GBDT:free", "GBDT:ntrees",
  "GBDT:params", "GBDT:pipeline", "GBDT:prior", "GBDT:decision", "GBDT:fitted", "GBDT:history",
  "Forest:features", "Forest:free", "Forest:ntrees", "Forest:oob_auc", "Forest:params",
  "Forest:pipeline", "Forest:prior", "Forest:decision", "Forest:fitted", "Forest:history",
  "Forest:export_xgboost", "Tree:export_xgboost",
  "Tree:features", "Tree:free", "Tree:ntrees", "Tree:params", "Tree:pipeline", "Tree:prior",
  "Tree:decision", "Tree:fitted", "Tree:history",
  -- the classifier kinds by name: a kind name, a path
  "model.kind", "model.kinds", "model.load",
  "KMeans:centers", "KMeans:info", "KMeans:predict", "KMeans:save",
  -- pipelines take their options when built (prep.pipeline{...})
  "Pipeline:feature_names", "Pipeline:fit", "Pipeline:fit_transform", "Pipeline:fitted",
  "Pipeline:options", "Pipeline:save", "Pipeline:sources", "Pipeline:transform",
  "Pipeline:transform_frame", "Pipeline:unscale",
  -- interactions and recommenders
  "Interactions:duplicates", "Interactions:has", "Interactions:items", "Interactions:nnz",
  "Interactions:shape", "Interactions:user_items", "Interactions:users",
  "Recommender:add_user", "Recommender:fit_time", "Recommender:interactions", "Recommender:kind", "Recommender:params",
  "Recommender:predict_rating", "Recommender:save", "Recommender:score",
  "Recommender:similar_items", "Recommender:explain",
  "Recommender:similar_users",
  -- tensors: every method takes tensors, numbers or shapes
  "Tensor:*",
}

-- ---- discovery ----------------------------------------------------------------------------
local found = {} -- display name -> true (methods shared by types count once per type)
local function add(name, f)
  if type(f) == "function" then found[name] = true end
end
local mods = {}
for k, v in pairs(cl) do if type(v) == "table" then mods[#mods + 1] = k end end
table.sort(mods)
for _, m in ipairs(mods) do
  local keys = {}
  for k in pairs(cl[m]) do keys[#keys + 1] = k end
  table.sort(keys)
  for _, k in ipairs(keys) do add(m .. "." .. k, cl[m][k]) end
  if m == "rec" then -- rec.metrics.* are metrics.* under another name
    for k, f in pairs(cl.rec.metrics) do if cl.metrics[k] ~= f then add("rec.metrics." .. k, f) end end
  end
end
local function methods(tname, t)
  local keys = {}
  for k, f in pairs(t) do
    if type(k) == "string" and not k:match("^__") and type(f) == "function" then keys[#keys + 1] = k end
  end
  table.sort(keys)
  for _, k in ipairs(keys) do add(tname .. ":" .. k, t[k]) end
end
local reg = debug.getregistry()
for name, mt in pairs(reg) do
  if type(name) == "string" and name:match("^churnlab%.%u") and type(mt) == "table" then
    local short = name:match("^churnlab%.(.*)$")
    local idx = rawget(mt, "__index")
    methods(short, type(idx) == "table" and idx or mt) -- Frame keeps its methods in the metatable
  end
end
methods("Figure", cl.plot.Figure)
methods("Report", cl.report.Report)
methods("TLearner", getmetatable(tl))
methods("ClassTransform", getmetatable(ct))
methods("XLearner", getmetatable(xl))
methods("DRLearner", getmetatable(drl))
methods("SLearner", getmetatable(sl))

-- ---- the checks -----------------------------------------------------------------------------
T.test("every exported function is classified (takes options, or listed as taking none)", function()
  local none = {}
  for _, nm in ipairs(NONE) do none[nm] = true end
  local missing = {}
  for nm in pairs(found) do
    local star = nm:match("^(%a+):") and nm:match("^(%a+):") .. ":*"
    if not TAKES[nm] and not none[nm] and not (star and none[star]) then missing[#missing + 1] = nm end
  end
  table.sort(missing)
  T.eq(#missing, 0, "unclassified (add to TAKES or NONE): " .. table.concat(missing, ", "))
  for nm in pairs(TAKES) do
    T.ok(found[nm], "TAKES lists '" .. nm .. "', which no module or method table exports")
  end
end)

local function names_bogus(label, call)
  local ok, err = pcall(call, bogus())
  if ok then
    error(label .. ": accepted {" .. BOGUS .. " = 1} silently", 0)
  end
  err = tostring(err)
  if not err:find(BOGUS, 1, true) then
    error(label .. ": raised without naming the key: " .. err, 0)
  end
  return err
end

T.test("every options table rejects an unknown key, naming it", function()
  local names = {}
  for nm in pairs(TAKES) do names[#names + 1] = nm end
  table.sort(names)
  local bad = {}
  for _, nm in ipairs(names) do
    local ok, err = pcall(names_bogus, nm, TAKES[nm])
    if not ok then bad[#bad + 1] = err end
  end
  T.eq(#bad, 0, table.concat(bad, "\n     "))
end)

T.test("option tables inside arguments reject unknown keys too", function()
  local names = {}
  for nm in pairs(NESTED) do names[#names + 1] = nm end
  table.sort(names)
  local bad = {}
  for _, nm in ipairs(names) do
    local ok, err = pcall(names_bogus, nm, NESTED[nm])
    if not ok then bad[#bad + 1] = err end
  end
  T.eq(#bad, 0, table.concat(bad, "\n     "))
end)

T.test("the message is shaped like Lua's and lists the known options", function()
  local err = T.raises(function() df:split{tset = 0.3} end,
    "bad argument #1 to 'split' (unknown option 'tset'; did you mean 'test'? known: test, stratify, seed)")
  T.ok(err:find("options.lua:%d+:"), "points at the caller's line: " .. err)
  T.raises(function() cl.strategy.simulate{customers = customers, strategies = strategies, bugdet = 1} end,
    "bad argument #1 to 'simulate' (unknown option 'bugdet'; did you mean 'budget'? known: customers, strategies, budget")
  T.raises(function() df:split("test") end, "bad argument #1 to 'split' (table expected, got string)")
  -- the checker itself, as the Lua modules use it
  local function f(opts) return cl.options.check(opts, 1, "f", {"a", "b"}) end
  T.eq(next(f(nil)), nil)
  T.eq(f({a = 1}).a, 1)
  T.raises(function() f({c = 1}) end, "bad argument #1 to 'f' (unknown option 'c'; known: a, b)")
  T.raises(function() f({[1] = 2}) end, "unknown option '1'")
end)

-- ---- documented options do what they say ----------------------------------------------------
T.test("value_counts{normalize = true}: shares of the non-missing rows", function()
  local f = cl.frame{g = {"a", "b", "a", "a", nil, n = 5}}
  local vc = f:value_counts("g", {normalize = true})
  T.eq(table.concat(vc:names(), ","), "g,share")
  T.eq(vc.g:get(1), "a"); T.eq(vc.share:get(1), 0.75) -- 3 of the 4 non-missing rows
  T.eq(vc.g:get(2), "b"); T.eq(vc.share:get(2), 0.25)
  local vc2 = f.g:value_counts{normalize = true}
  T.eq(vc2.share:get(1), 0.75)
  T.eq(f:value_counts("g", {normalize = false}).count:get(1), 3)
  T.raises(function() f:value_counts("g", {normalize = "yes"}) end, "option 'normalize' must be a boolean")
end)

T.test("crosstab{margins = true}: an All row and column (pandas' layout)", function()
  -- g x h counts: a/1 = 2, a/2 = 1, b/2 = 1; the row with g missing is left out
  local f = cl.frame{g = {"a", "b", "a", "a", nil, n = 5}, h = {1, 2, 2, 1, 1}}
  local ct = f:crosstab("g", "h", {margins = true})
  T.eq(table.concat(ct:names(), ","), "g,1,2,All")
  T.eq(ct:nrow(), 3)
  T.eq(ct.g:get(3), "All")
  local t = ct:totable()
  T.eq(t[1]["1"], 2); T.eq(t[1]["2"], 1); T.eq(t[1].All, 3)
  T.eq(t[2]["1"], 0); T.eq(t[2]["2"], 1); T.eq(t[2].All, 1)
  T.eq(t[3]["1"], 2); T.eq(t[3]["2"], 2); T.eq(t[3].All, 4)
  -- row shares: the All row holds h's overall shares; no All column (all ones)
  local ci = f:crosstab("g", "h", {margins = true, normalize = "index"}):totable()
  T.near(ci[1]["1"], 2 / 3); T.near(ci[3]["1"], 0.5); T.near(ci[3]["2"], 0.5)
  T.eq(ci[1].All, nil)
  -- column shares: the All column holds g's overall shares; no All row
  local cc = f:crosstab("g", "h", {margins = true, normalize = "columns"})
  T.eq(cc:nrow(), 2)
  local c = cc:totable()
  T.near(c[1]["1"], 1); T.near(c[1]["2"], 0.5); T.near(c[1].All, 0.75); T.near(c[2].All, 0.25)
  -- a numeric key column gets its levels as text, then All
  local cn = f:crosstab("h", "g", {margins = true})
  T.eq(cn.h:type(), "cat"); T.eq(cn.h:get(1), "1"); T.eq(cn.h:get(3), "All")
  T.eq(cn.All:get(3), 4)
end)

T.test("shap{interactions = true} gives the interaction matrices (tests/lua/shap_interactions.lua)", function()
  local _, d = X:shape()
  T.eq(gbdt:shap(X, {interactions = true}):shape(), n * d + n) -- n (d + 1) rows
  T.eq(gbdt:shap(X, {interactions = false}):shape(), n) -- plain SHAP when not asked for
end)

T.test("strategy: misspelt or bad strategy fields are errors, not free actions", function()
  T.raises(function()
    cl.strategy.simulate{customers = customers, strategies = {{name = "call", cost = 5, effect = 0.2}}}
  end, "strategy 'call': unknown key 'cost'", "known: name, contact")
  T.raises(function()
    cl.strategy.simulate{customers = customers, strategies = {{contact = 1, effect = 0.2, target = {top = -1}}}}
  end, "target.top must be a whole number >= 0, got -1")
  T.raises(function()
    cl.strategy.simulate{customers = customers, strategies = strategies, budget = "100"}
  end, "bad argument #1 to 'simulate' (option 'budget' must be a number >= 0, got string)")
  T.raises(function()
    cl.strategy.simulate{customers = customers, strategies = {{contact = -1, effect = 0.2}}}
  end, "'contact' must be a number >= 0")
  T.raises(function()
    cl.strategy.simulate{customers = customers, strategies = strategies, draws = 0}
  end, "option 'draws' must be a whole number >= 1")
end)

T.test("labels: a value that is neither positive nor a known negative is an error", function()
  local f = cl.frame{x = {1, 2, 3, 4}, y = {"Yes", "No", "No", "Yes"}}
  local p = cl.prep.pipeline{target = "y", positive = "Yes"}:fit(f)
  local maybe = cl.frame{x = {1, 2, 3}, y = {"Yes", "No", "Maybe"}}
  T.raises(function() p:transform(maybe) end,
    "row 3: target 'y' is 'Maybe', neither the positive label 'Yes' nor a negative ('No')")
  -- fitting on three labels needs to be told which mean 0
  T.raises(function() cl.prep.pipeline{target = "y", positive = "Yes"}:fit(maybe) end,
    "holds 'No' and 'Maybe' besides the positive label 'Yes'", "negative =")
  local p2 = cl.prep.pipeline{target = "y", positive = "Yes", negative = {"No", "Maybe"}}:fit(maybe)
  local _, y2 = p2:transform(maybe)
  T.eq(table.concat(y2:totable(), ","), "1.0,0.0,0.0")
  T.raises(function() p2:transform(cl.frame{x = {1}, y = {"Perhaps"}}) end, "'Perhaps'")
  T.raises(function()
    cl.prep.pipeline{target = "y", positive = "Yes", negative = {"No"}}:fit(maybe)
  end, "row 3", "'Maybe'")
  -- numbers: positive = 2 with 1 the other value seen
  local pn = cl.prep.pipeline{target = "y", positive = 2}:fit(cl.frame{x = {1, 2}, y = {2, 1}})
  T.raises(function() pn:transform(cl.frame{x = {1}, y = {3}}) end, "is '3', neither the positive label '2'")
  -- the negatives travel with the saved pipeline
  local path = os.tmpname()
  p:save(path)
  local q = cl.prep.load(path)
  os.remove(path)
  T.raises(function() q:transform(maybe) end, "'Maybe'")
  -- plots: positive plus one other label
  T.raises(function()
    cl.plot.roc{{y = {"Yes", "No", "Maybe"}, score = {0.1, 0.2, 0.3}, positive = "Yes"}}
  end, "element 3 is 'Maybe', neither the positive label 'Yes' nor the other label 'No'")
end)

T.test("segment_rates counts booleans as churners and refuses other outcomes", function()
  local r = cl.value.segment_rates({"a", "a", "b", "b"}, {true, false, true, true})
  local by = {}
  for _, row in ipairs(r) do by[row.segment] = row end
  T.eq(by.a.churned, 1); T.eq(by.b.churned, 2)
  T.eq(by.b.rate, 1)
  T.eq(cl.value.segment_rates({"a", "a"}, {1, 0})[1].churned, 1)
  T.raises(function() cl.value.segment_rates({"a", "a"}, {"Yes", "No"}) end,
    "outcome 1 must be 0, 1 or a boolean, got 'Yes'")
end)

os.execute("rm -rf '" .. tmpdir .. "'")
os.remove(scratch)
do -- the coverage, for the log
  local nf, nt = 0, 0
  for _ in pairs(found) do nf = nf + 1 end
  for _ in pairs(TAKES) do nt = nt + 1 end
  print(string.format("%d exported functions and methods: %d take options (all checked), "
    .. "%d nested option tables checked", nf, nt, (function() local k = 0 for _ in pairs(NESTED) do k = k + 1 end return k end)()))
end
T.done()
