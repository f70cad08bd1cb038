-- Data and models shared by tests/lua/prior.lua and scripts/ref/prior_old_fixtures.lua (which
-- wrote tests/data/prior_old_*.clm with the churnlab of commit 0e3eddb, before models
-- recorded their prior rates): a logistic world with about 15% positives and one reweighted
-- model of each kind. Everything is seeded, so a fit today equals the fixture's fit: bit for
-- bit on the machine and build that wrote it, to rounding elsewhere (the MLP's BLAS kernel and
-- libm differ between CPUs; prior.lua derives the tolerances).
local D = {}

-- X: n x 4 standard normal (seed 11); y: Bernoulli(sigmoid(1.2 x1 - 0.8 x2 + 0.4 x3 - 2.3))
-- from a fixed hash-uniform, so the labels never depend on a random stream.
function D.make(cl, n)
  local X = cl.tensor.randn(n, 4, {seed = 11})
  local y, pos = {}, 0
  for i = 1, n do
    local z = 1.2 * X:get(i, 1) - 0.8 * X:get(i, 2) + 0.4 * X:get(i, 3) - 2.3
    local u = math.sin(i * 12.9898) * 43758.5453 % 1
    y[i] = u < 1 / (1 + math.exp(-z)) and 1 or 0
    pos = pos + y[i]
  end
  return X, cl.tensor(y), pos / n
end

-- One reweighted model per kind; extra parameters (prior_correction = false) are merged in.
-- spw: scale_pos_weight for the gbdt (negatives / positives: the usual "balance" setting).
function D.models(cl, spw, extra)
  local function p(t)
    for k, v in pairs(extra or {}) do t[k] = v end
    return t
  end
  return {
    {"logreg", function() return cl.logreg(p{class_weight = "balanced"}) end},
    {"logreg_table", function() return cl.logreg(p{class_weight = {[0] = 1, [1] = 4}}) end},
    -- init and eps pinned to the defaults before issue 20 (Keras' Glorot and 1e-7 since),
    -- with which tests/data/prior_old_mlp.clm was fitted
    {"mlp", function() return cl.mlp(p{class_weight = "balanced", hidden = {16}, epochs = 8,
                                         batch = 64, seed = 3, init = "he", eps = 1e-8}) end},
    {"gbdt", function() return cl.gbdt(p{scale_pos_weight = spw, trees = 60, depth = 3,
                                           lr = 0.1, seed = 5}) end},
    {"forest", function() return cl.forest(p{class_weight = "balanced", trees = 12, depth = 5,
                                             min_leaf = 10, seed = 7}) end},
    {"tree", function() return cl.tree(p{class_weight = "balanced", depth = 4}) end},
  }
end

D.N, D.NTRAIN = 8000, 5000

return D
