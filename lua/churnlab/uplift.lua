-- churnlab.uplift: who is worth contacting, learned from a past randomised campaign.
--
--   local U = require "churnlab.uplift"
--   local m = U.tlearner(function() return cl.gbdt{trees = 200, depth = 4, seed = 1} end)
--   m:fit(X, churned, treated)               -- 0/1 vectors
--   local u = m:predict(Xnew)                -- reduction in churn probability if contacted
--   local q = U.qini(stayed_test, treated_test, u_test)   -- q.coefficient, q.x, q.qini
--
-- Five learners, all on any churnlab model (a constructor function returning a fresh model
-- with fit(X, y) and predict(X)):
--   tlearner: one churn model on treated customers, one on controls; uplift = p_control -
--             p_treated (positive: contact lowers churn).
--   slearner: one churn model with the treatment as a feature (optionally its interactions
--             with every column); uplift = p(x, t = 0) - p(x, t = 1).
--   transform: the class-transformation method (Jaskowski and Jaroszewicz 2012): Z = 1 when
--             (treated and stayed) or (control and churned), one classifier on Z, and
--             uplift in staying = 2 P(Z = 1 | x) - 1. The identity holds for a 50/50
--             randomisation, so fit refuses campaigns whose treated share is outside
--             45-55% (use the T-learner there).
--   xlearner, drlearner: the X-learner (Kuenzel et al. 2019) and the doubly robust
--             DR-learner (Kennedy 2020), which add a regression model and, for campaigns
--             that were not randomised, a propensity model (see below).
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local error = require("churnlab.core").raise
local measure = require "churnlab.measure"
local tensor = require "churnlab.tensor"

local U = {}

local function split_rows(X, keep)
  local idx = {}
  for i = 1, #keep do if keep[i] then idx[#idx + 1] = i end end
  if #idx == 0 then error("uplift: a group is empty (need treated and control customers)", 3) end
  if type(X) ~= "userdata" or not X.index_rows then error("uplift: X must be a tensor", 3) end
  return X:index_rows(idx), idx
end

local function vec(v, what)
  local t = {}
  if type(v) == "table" then for i = 1, #v do t[i] = v[i] end
  elseif v and v.totable then
    for i, x in ipairs(v:totable()) do t[i] = type(x) == "table" and x[1] or x end
  else error("uplift: " .. what .. " must be a vector", 3) end
  return t
end

local TL = {__name = "churnlab.TLearner"}
TL.__index = TL
function TL:__tostring()
  return "churnlab.TLearner" .. (self.fitted and string.format(" (fitted on %d treated, %d control)",
    self.n_t, self.n_c) or " (not fitted)")
end

-- tlearner(make) -> learner: the T-learner. make() must return a new unfitted model with
-- fit(X, y) and predict(X). m:fit(X, churned, treated) -> m fits one model on the treated
-- rows and one on the controls (churned, treated: 0/1 vectors); m:predict(X) -> tensor of
-- p_control - p_treated, the drop in churn probability if contacted (positive: worth it).
function U.tlearner(make)
  if type(make) ~= "function" then error("tlearner: expected a function returning a new model", 2) end
  return setmetatable({make = make}, TL)
end

-- Fits a churn model on the treated rows and one on the controls; returns self.
function TL:fit(X, churned, treated)
  local y, t = vec(churned, "churned"), vec(treated, "treated")
  local n = X:shape()
  if #y ~= n or #t ~= n then error(string.format("fit: X has %d rows, churned %d, treated %d", n, #y, #t), 2) end
  local is_t, is_c = {}, {}
  for i = 1, n do is_t[i] = t[i] == 1; is_c[i] = t[i] == 0 end
  local Xt, it = split_rows(X, is_t)
  local Xc, ic = split_rows(X, is_c)
  local yt, yc = {}, {}
  for k, i in ipairs(it) do yt[k] = y[i] end
  for k, i in ipairs(ic) do yc[k] = y[i] end
  self.treated_model, self.control_model = self.make(), self.make()
  self.treated_model:fit(Xt, tensor(yt))
  self.control_model:fit(Xc, tensor(yc))
  self.fitted, self.n_t, self.n_c = true, #it, #ic
  return self
end

-- Predicted reduction in churn probability when contacted (p_control - p_treated).
function TL:predict(X)
  if not self.fitted then error("predict: the T-learner is not fitted", 2) end
  return self.control_model:predict(X) - self.treated_model:predict(X)
end

local CT = {__name = "churnlab.ClassTransform"}
CT.__index = CT
function CT:__tostring() return "churnlab.ClassTransform" .. (self.fitted and "" or " (not fitted)") end

-- transform(make) -> learner: the class-transformation uplift model (one classifier on Z = 1
-- for treated stayers and control churners). m:fit(X, churned, treated) -> m refuses a
-- campaign whose treated share is outside 45-55% (use tlearner); m:predict(X) -> tensor of
-- 2 P(Z = 1 | x) - 1, the rise in the probability of staying if contacted.
function U.transform(make)
  if type(make) ~= "function" then error("transform: expected a function returning a new model", 2) end
  return setmetatable({make = make}, CT)
end

-- Fits one classifier on the transformed label (50/50 campaigns only); returns self.
function CT:fit(X, churned, treated)
  local y, t = vec(churned, "churned"), vec(treated, "treated")
  local n = X:shape()
  if #y ~= n or #t ~= n then error(string.format("fit: X has %d rows, churned %d, treated %d", n, #y, #t), 2) end
  local z, nt = {}, 0
  for i = 1, n do
    nt = nt + t[i]
    z[i] = ((t[i] == 1 and y[i] == 0) or (t[i] == 0 and y[i] == 1)) and 1 or 0
  end
  if nt == 0 or nt == n then error("fit: need both treated and control customers", 2) end
  if nt / n < 0.45 or nt / n > 0.55 then
    error(string.format("fit: the class transformation needs a 50/50 campaign; %.1f%% of customers "
      .. "were treated (use uplift.tlearner)", 100 * nt / n), 2)
  end
  self.treated_share = nt / n
  self.model = self.make()
  self.model:fit(X, tensor(z))
  self.fitted = true
  return self
end

-- Predicted rise in the probability of staying when contacted, 2 P(Z = 1 | x) - 1.
function CT:predict(X)
  if not self.fitted then error("predict: the model is not fitted", 2) end
  return self.model:predict(X) * 2 - 1
end

-- ---- meta-learners with a second stage: X-learner and DR-learner ---------------------------
-- Both take make (a churn classifier constructor, as above) and options {regressor = fn
-- returning a fresh regression model (e.g. gbdt{objective = "squared"}), propensity = fn
-- returning a classifier of treatment, or nil for a randomised campaign (the treated share),
-- folds = k (default 2) or a list of fold numbers 1..k per row, seed = 42 (the fold
-- shuffle)}. Effects are on the churn probability; predict returns the reduction in churn
-- if contacted (mu0 - mu1), as the T-learner does. Propensities are clipped to [0.01, 0.99].

local LEARNER_OPTIONS = {"regressor", "propensity", "folds", "seed"}
local check = require("churnlab.options").check

local function learner_opts(fname, make, opts)
  if type(make) ~= "function" then error(fname .. ": expected a function returning a new model", 3) end
  opts = check(opts, 2, fname, LEARNER_OPTIONS, 3)
  if type(opts.regressor) ~= "function" then
    error(fname .. ": option 'regressor' must be a function returning a new regression model", 3)
  end
  if opts.propensity ~= nil and type(opts.propensity) ~= "function" then
    error(fname .. ": option 'propensity' must be a function returning a new classifier (or nil: randomised)", 3)
  end
  return opts
end

-- fold number (1..k) of every row: given, or a seeded shuffle cut into k near-equal parts
local function folds_of(opt, n, seed)
  if type(opt) == "table" then
    local k = 0
    if #opt ~= n then error(string.format("fit: folds has %d entries for %d rows", #opt, n), 4) end
    for i = 1, n do
      local f = opt[i]
      if math.type(f) ~= "integer" and not (type(f) == "number" and f == math.floor(f)) or f < 1 then
        error(string.format("fit: folds[%d] must be a fold number >= 1, got %s", i, tostring(f)), 4)
      end
      k = math.max(k, math.floor(f))
    end
    if k < 2 then error("fit: folds needs at least 2 folds", 4) end
    return opt, k
  end
  local k = opt or 2
  if math.type(k) ~= "integer" and not (type(k) == "number" and k == math.floor(k)) or k < 2 then
    error("fit: option 'folds' must be a whole number >= 2 or a list of fold numbers, got " .. tostring(k), 4)
  end
  local u = vec(tensor.rand(n, 1, {seed = seed or 42}), "folds")
  local order = {}
  for i = 1, n do order[i] = i end
  table.sort(order, function(a, b) if u[a] ~= u[b] then return u[a] < u[b] end return a < b end)
  local f = {}
  for r, i in ipairs(order) do f[i] = (r - 1) % k + 1 end
  return f, math.floor(k)
end

local function read_fit_args(X, churned, treated)
  local y, t = vec(churned, "churned"), vec(treated, "treated")
  if type(X) ~= "userdata" or not X.index_rows then error("fit: X must be a tensor", 3) end
  local n = X:shape()
  if #y ~= n or #t ~= n then error(string.format("fit: X has %d rows, churned %d, treated %d", n, #y, #t), 3) end
  local nt = 0
  for i = 1, n do
    if t[i] ~= 0 and t[i] ~= 1 then error(string.format("fit: treated[%d] must be 0 or 1, got %s", i, tostring(t[i])), 3) end
    if y[i] ~= 0 and y[i] ~= 1 then error(string.format("fit: churned[%d] must be 0 or 1, got %s", i, tostring(y[i])), 3) end
    nt = nt + t[i]
  end
  if nt == 0 or nt == n then error("fit: need both treated and control customers", 3) end
  return y, t, n
end

-- a fresh model from make fitted on rows idx of X with target[idx]
local function fit_rows(make, X, idx, target)
  local yt = {}
  for k, i in ipairs(idx) do yt[k] = target[i] end
  local m = make()
  m:fit(X:index_rows(idx), tensor(yt))
  return m
end

local function predict_rows(m, X, idx) return vec(m:predict(idx and X:index_rows(idx) or X), "prediction") end

local function clip(e) return e < 0.01 and 0.01 or e > 0.99 and 0.99 or e end

-- propensity of rows `test` from a model (or the treated share) fitted on rows `train`
local function propensity(make_e, X, t, train, test)
  if make_e then
    local e = predict_rows(fit_rows(make_e, X, train, t), X, test)
    for k = 1, #e do e[k] = clip(e[k]) end
    return e, nil
  end
  local s = 0
  for _, i in ipairs(train) do s = s + t[i] end
  local e = {}
  for k = 1, #test do e[k] = clip(s / #train) end
  return e, clip(s / #train)
end

local XL = {__name = "churnlab.XLearner"}
XL.__index = XL
function XL:__tostring() return "churnlab.XLearner" .. (self.fitted and "" or " (not fitted)") end

-- xlearner(make, {regressor =, propensity =}) -> learner: the X-learner (Kuenzel et al. 2019).
-- m:fit(X, churned, treated): outcome models mu0 (controls) and mu1 (treated), imputed effects
-- D = y - mu0(x) for the treated and mu1(x) - y for the controls, regressions tau1 and tau0 on
-- them; m:predict(X) -> -(e(x) tau0(x) + (1 - e(x)) tau1(x)), the drop in churn probability
-- if contacted, e the propensity (a model, or the treated share).
function U.xlearner(make, opts)
  opts = learner_opts("xlearner", make, opts)
  return setmetatable({make = make, opts = opts}, XL)
end

-- Fits the X-learner's four models (and the propensity model if given); returns self.
function XL:fit(X, churned, treated)
  local y, t, n = read_fit_args(X, churned, treated)
  local it, ic, all = {}, {}, {}
  for i = 1, n do all[i] = i; if t[i] == 1 then it[#it + 1] = i else ic[#ic + 1] = i end end
  local mu0, mu1 = fit_rows(self.make, X, ic, y), fit_rows(self.make, X, it, y)
  local d = {}
  local p0t, p1c = predict_rows(mu0, X, it), predict_rows(mu1, X, ic)
  for k, i in ipairs(it) do d[i] = y[i] - p0t[k] end
  for k, i in ipairs(ic) do d[i] = p1c[k] - y[i] end
  self.tau1 = fit_rows(self.opts.regressor, X, it, d)
  self.tau0 = fit_rows(self.opts.regressor, X, ic, d)
  if self.opts.propensity then
    self.e_model = fit_rows(self.opts.propensity, X, all, t)
  else
    self.e_const = clip(#it / n)
  end
  self.fitted = true
  return self
end

-- Predicted reduction in churn probability when contacted.
function XL:predict(X)
  if not self.fitted then error("predict: the X-learner is not fitted", 2) end
  local t0, t1 = predict_rows(self.tau0, X), predict_rows(self.tau1, X)
  local e = self.e_model and predict_rows(self.e_model, X)
  local out = {}
  for i = 1, #t0 do
    local g = e and clip(e[i]) or self.e_const
    out[i] = -(g * t0[i] + (1 - g) * t1[i])
  end
  return tensor(out)
end

local DR = {__name = "churnlab.DRLearner"}
DR.__index = DR
function DR:__tostring() return "churnlab.DRLearner" .. (self.fitted and "" or " (not fitted)") end

-- drlearner(make, {regressor =, propensity =, folds = 2, seed = 42}) -> learner: the
-- doubly robust DR-learner (Kennedy 2020). m:fit(X, churned, treated): for each fold, mu0,
-- mu1 and the propensity e are fitted on the other folds and give the fold's pseudo-outcomes
-- phi = mu1 - mu0 + t (y - mu1) / e - (1 - t) (y - mu0) / (1 - e); one regression of phi on
-- X over all rows is the effect. m:predict(X) -> its negation, the drop in churn probability
-- if contacted. m.folds holds the fold of every row, m.pseudo the pseudo-outcomes.
function U.drlearner(make, opts)
  opts = learner_opts("drlearner", make, opts)
  return setmetatable({make = make, opts = opts}, DR)
end

-- Cross-fits the nuisance models, then regresses the pseudo-outcomes; returns self.
function DR:fit(X, churned, treated)
  local y, t, n = read_fit_args(X, churned, treated)
  local folds, k = folds_of(self.opts.folds, n, self.opts.seed)
  local phi = {}
  for f = 1, k do
    local train, test, tt, tc = {}, {}, {}, {}
    for i = 1, n do
      if folds[i] == f then test[#test + 1] = i
      else
        train[#train + 1] = i
        if t[i] == 1 then tt[#tt + 1] = i else tc[#tc + 1] = i end
      end
    end
    if #test > 0 then
      if #tt == 0 or #tc == 0 then error("fit: fold " .. f .. "'s training rows lack treated or control customers", 2) end
      local m0 = predict_rows(fit_rows(self.make, X, tc, y), X, test)
      local m1 = predict_rows(fit_rows(self.make, X, tt, y), X, test)
      local e = propensity(self.opts.propensity, X, t, train, test)
      for j, i in ipairs(test) do
        phi[i] = m1[j] - m0[j] + t[i] * (y[i] - m1[j]) / e[j] - (1 - t[i]) * (y[i] - m0[j]) / (1 - e[j])
      end
    end
  end
  local all = {}
  for i = 1, n do all[i] = i end
  self.tau = fit_rows(self.opts.regressor, X, all, phi)
  self.folds, self.pseudo, self.fitted = folds, phi, true
  return self
end

-- Predicted reduction in churn probability when contacted.
function DR:predict(X)
  if not self.fitted then error("predict: the DR-learner is not fitted", 2) end
  return self.tau:predict(X) * -1
end

-- ---- the S-learner: one model, the treatment as a feature --------------------------------

-- rows of X (a tensor) with the treatment column t (a number, or a vector per row) appended,
-- and with interactions also every column times the treatment
local function with_treatment(X, t, interactions)
  local rows = X:totable()
  if X:ndim() == 1 then for i = 1, #rows do rows[i] = {rows[i]} end end
  local d = #(rows[1] or {})
  for i, r in ipairs(rows) do
    local ti = type(t) == "table" and t[i] or t
    r[d + 1] = ti
    if interactions then for j = 1, d do r[d + 1 + j] = r[j] * ti end end
  end
  return tensor(rows)
end

local SL = {__name = "churnlab.SLearner"}
SL.__index = SL
function SL:__tostring()
  return "churnlab.SLearner" .. (self.fitted and string.format(" (fitted on %d rows%s)", self.n,
    self.opts.interactions and ", with interactions" or "") or " (not fitted)")
end

-- slearner(make [, {interactions = false}]) -> learner: the S-learner. One churn model from
-- make() is fitted on X with the treatment (0/1) appended as the last column (and, with
-- interactions = true, every column times the treatment after it: lets a linear model's
-- effect vary with x). m:fit(X, churned, treated) -> m; m:predict(X) -> tensor of
-- p(x, t = 0) - p(x, t = 1), the drop in churn probability if contacted, as the T-learner.
function U.slearner(make, opts)
  if type(make) ~= "function" then error("slearner: expected a function returning a new model", 2) end
  opts = check(opts, 2, "slearner", {"interactions"})
  if opts.interactions ~= nil and type(opts.interactions) ~= "boolean" then
    error("slearner: option 'interactions' must be true or false, got " .. tostring(opts.interactions), 2)
  end
  return setmetatable({make = make, opts = opts}, SL)
end

-- Fits the one model on X with the treatment column (and interactions); returns self.
function SL:fit(X, churned, treated)
  local y, t, n = read_fit_args(X, churned, treated)
  self.model = self.make()
  self.model:fit(with_treatment(X, t, self.opts.interactions), tensor(y))
  self.fitted, self.n = true, n
  return self
end

-- Predicted reduction in churn probability when contacted, p(x, 0) - p(x, 1).
function SL:predict(X)
  if not self.fitted then error("predict: the S-learner is not fitted", 2) end
  if type(X) ~= "userdata" or not X.index_rows then error("predict: X must be a tensor", 2) end
  local i = self.opts.interactions
  return self.model:predict(with_treatment(X, 0, i)) - self.model:predict(with_treatment(X, 1, i))
end

-- Qini curve of a ranking (see churnlab.measure.qini); `stayed` = 1 - churned.
U.qini = measure.qini

return U
