-- churnlab.uplift: who is worth contacting, learned from a past randomised campaign.
--
--   local U = require "churnlab.uplift"
--   local m = U.tlearner(function() return cl.gbdt{trees = 200, depth = 4, seed = 1} end)
--   m:fit(X, churned, treated)               -- 0/1 vectors
--   local u = m:predict(Xnew)                -- reduction in churn probability if contacted
--   local q = U.qini(stayed_test, treated_test, u_test)   -- q.coefficient, q.x, q.qini
--
-- Two learners, both on any churnlab model (a constructor function returning a fresh model
-- with fit(X, y) and predict(X)):
--   tlearner: one churn model on treated customers, one on controls; uplift = p_control -
--             p_treated (positive: contact lowers churn).
--   transform: the class-transformation method (Jaskowski and Jaroszewicz 2012): Z = 1 when
--             (treated and stayed) or (control and churned), one classifier on Z, and
--             uplift in staying = 2 P(Z = 1 | x) - 1. The identity holds for a 50/50
--             randomisation, so fit refuses campaigns whose treated share is outside
--             45-55% (use the T-learner there).
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

-- Qini curve of a ranking (see churnlab.measure.qini); `stayed` = 1 - churned.
U.qini = measure.qini

return U
