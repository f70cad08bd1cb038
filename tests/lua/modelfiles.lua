-- Model files that pass the CRC but not the semantics (issue 22): one value edited inside its
-- chunk and the CRC recomputed (tests/lua/lib/modelfile.lua). Each must be refused by cl.load
-- with a message saying what is wrong, never loaded into a crash, an inf or a NaN.
local T = dofile("tests/lua/lib/check.lua")
local MF = dofile("tests/lua/lib/modelfile.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local dir = os.getenv("TMPDIR") or "/tmp"
local base = string.format("%s/cl_modelfiles_%d_%d", dir, os.time(), math.random(1 << 30))
local made = {}
local function tmp(name) local p = base .. "_" .. name; made[#made + 1] = p; return p end

-- Refused either way a loader reports it (raising, or nil plus a message).
local function refused(path, pattern)
  local ok, v, msg = pcall(cl.load, path)
  T.ok(not ok or v == nil, "loaded " .. path)
  local err = ok and msg or v
  T.ok(tostring(err):find(pattern), "message '" .. tostring(err) .. "' lacks '" .. pattern .. "'")
  T.ok(not tostring(err):find("out of memory"), "'" .. tostring(err) .. "' blames memory")
end

local rows, ys = {}, {}
for i = 1, 40 do rows[i] = {i % 7, (i * 3) % 5, i / 40}; ys[i] = (i % 7 > 3) and 1 or 0 end
local X, y = tensor.new(rows), tensor.new(ys)

T.test("k-means asking for 1.3 TB of centres is corrupt, not out of memory", function()
  local p = tmp("km.clm")
  local km = cl.cluster.kmeans{k = 2, seed = 1}
  km:fit(X)
  km:save(p)
  T.ok(cl.load(p))
  -- k x d = 10000 x 2^24 doubles: 1.3 TB from a file of a few hundred bytes
  refused(MF.edit(p, tmp("km_huge.clm"), {k = 10000, d = 1 << 24}), "need")
  refused(MF.edit(p, tmp("km_nan.clm"), {centers = {2, 0 / 0}}), "centre 1, column 2")
  refused(MF.edit(p, tmp("km_iters.clm"), {iters = 100000}), "iters")
  refused(MF.edit(p, tmp("km_size.clm"), {sizes = {1, -5}}), "cluster 1 has %-5 rows")
end)

T.test("a cat-target pipeline without its positive label is refused (transform crashed)", function()
  local f = cl.frame.new{plan = {"a", "b", "a", "c", "b", "a"}, tenure = {1, 5, 3, 2, 9, 2},
                         churn = {"Yes", "No", "No", "Yes", "No", "Yes"}}
  local pipe = cl.prep.pipeline{target = "churn", positive = "Yes"}
  pipe:fit(f)
  local p = tmp("pipe.clm")
  pipe:save(p)
  refused(MF.edit(p, tmp("pipe_flag.clm"), {["pipeline.has_positive"] = 0}), "no positive label")
  -- the same flag inside a model file: m:predict(frame) dereferenced NULL
  local Xp, yp = pipe:transform(f)
  local m = cl.logreg{}
  m:fit(Xp, yp, {names = pipe:feature_names()})
  local mp = tmp("logreg_pipe.clm")
  m:save(mp, {pipeline = pipe})
  T.ok(cl.load(mp):predict(f))
  refused(MF.edit(mp, tmp("logreg_pipe_flag.clm"), {["pipeline.has_positive"] = 0}),
          "no positive label")
end)

T.test("finite but extreme coefficients are refused (inf margins)", function()
  local p = tmp("lr.clm")
  local m = cl.logreg{}
  m:fit(X, y)
  m:save(p)
  refused(MF.edit(p, tmp("lr_big.clm"), {["logreg.coef"] = {2, 1e300}}), "exceeds")
  refused(MF.edit(p, tmp("lr_inf.clm"), {["logreg.intercept"] = math.huge}), "not finite")
  local q = tmp("mlp.clm")
  local mlp = cl.mlp{hidden = {3}, epochs = 2, seed = 1}
  mlp:fit(X, y)
  mlp:save(q)
  refused(MF.edit(q, tmp("mlp_big.clm"), {["mlp.theta"] = {1, 3e38}}), "weight 1 is")
  -- batch norm: a running mean of 3e38 is finite, but x - mean overflowed (NaN through GELU)
  local b = tmp("mlp_bn.clm")
  local bn = cl.mlp{hidden = {3, 2}, batch_norm = true, activation = "gelu", epochs = 2, seed = 1}
  bn:fit(X, y)
  bn:save(b)
  T.ok(cl.load(b))
  refused(MF.edit(b, tmp("mlp_bn_mean.clm"), {["mlp.stats"] = {7, 3e38}}), "running mean 1")
  refused(MF.edit(b, tmp("mlp_bn_var.clm"), {["mlp.stats"] = {4, -1}}), "running variance 1")
end)

T.test("calibrators with coefficients or maps that are not probabilities are refused", function()
  local sc, lab = {0.1, 0.4, 0.35, 0.8, 0.6, 0.9}, {0, 0, 1, 1, 0, 1}
  local p = tmp("platt.clm")
  cl.calibrate.platt():fit(sc, lab):save(p)
  T.ok(cl.load(p))
  refused(MF.edit(p, tmp("platt_nan.clm"), {a = 0 / 0}), "must be finite")
  refused(MF.edit(p, tmp("platt_n.clm"), {n_fit = 1}), "n_fit")
  local q = tmp("iso.clm")
  cl.calibrate.isotonic():fit(sc, lab):save(q)
  T.ok(cl.load(q))
  refused(MF.edit(q, tmp("iso_v.clm"), {v = {1, 2}}), "not in %[0, 1%]")
end)

T.test("tree files with corrupt covers or non-probability leaves are refused", function()
  local p = tmp("tree.clm")
  cl.tree{depth = 3}:fit(X, y):save(p)
  T.ok(cl.load(p))
  refused(MF.edit(p, tmp("tree_cover.clm"), {["trees.stats"] = {4, -1}}), "tree 1, node 1")
  refused(MF.edit(p, tmp("tree_nan.clm"), {["trees.stats"] = {1, 0 / 0}}), "node 1")
  local g = tmp("gbdt.clm")
  cl.gbdt{trees = 3, depth = 2, seed = 1}:fit(X, y):save(g)
  refused(MF.edit(g, tmp("gbdt_base.clm"), {base = 1e300}), "margins would overflow")
end)

T.test("recommender files with scores that overflow or break their invariants are refused", function()
  local R = cl.rec
  local inter = R.interactions{users = {1, 1, 2, 2, 3, 3, 4, 4, 4}, items = {1, 2, 2, 3, 1, 3, 1, 2, 4}}
  local function saved(name, m)
    local p = tmp(name .. ".clm")
    m:fit(inter)
    m:save(p)
    T.ok(cl.load(p))
    return p
  end
  local p = saved("pop", R.popular{})
  refused(MF.edit(p, tmp("pop_neg.clm"), {["pop.score"] = {1, -3}}), "popularity %-3")
  p = saved("mf", R.mf{factors = 2, epochs = 2})
  refused(MF.edit(p, tmp("mf_big.clm"), {["fac.Y"] = {3, 1e30}}), "fac.Y' value 3")
  refused(MF.edit(p, tmp("mf_range.clm"), {["fac.rmin"] = 9, ["fac.rmax"] = 1}), "min <= max")
  p = saved("als", R.als{factors = 2, iters = 2})
  refused(MF.edit(p, tmp("als_nan.clm"), {["fac.X"] = {1, 0 / 0}}), "fac.X' value 1")
  p = saved("knn", R.itemknn{k = 2})
  refused(MF.edit(p, tmp("knn_self.clm"), {["knn.nbr"] = {1, 0}}), "not the item itself")
  p = saved("content", R.content{features = tensor.new{{1, 0}, {0, 1}, {1, 1}, {0, 0}},
                                 items = {1, 2, 3, 4}})
  refused(MF.edit(p, tmp("content_norm.clm"), {["content.F"] = {1, 1e30}}), "length")
  p = saved("hybrid", R.hybrid{{R.als{factors = 2, iters = 2}, 0.5}, {R.itemknn{k = 2}, 0.5}})
  refused(MF.edit(p, tmp("hyb_w.clm"), {["hyb.weights"] = {1, 1e300}}), "weight 1e%+300")
end)

for _, p in ipairs(made) do os.remove(p) end
T.done()
