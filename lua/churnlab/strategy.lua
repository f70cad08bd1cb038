-- churnlab.strategy: retention strategies with their costs, simulated and optimised.
--
--   local S = require "churnlab.strategy"
--   local res = S.simulate{
--     customers = {p = p_churn, value = clv},      -- vectors (tensor, table or frame column),
--                                                 -- or a frame with opts p = "col", value = "col"
--     strategies = {
--       {name = "call top risk", contact = 8, reach = 0.5, effect = 0.2, target = {top = 500}},
--       {name = "20% discount", contact = 0.5, accept = 24, reach = 0.6, effect = 0.35,
--        effect_sd = 0.1, target = {threshold = 0.4}},
--       {name = "content push", contact = 0.1, reach = 0.4, effect = 0.1, target = "all"},
--     },
--     budget = 20000, draws = 2000, seed = 42,
--   }
--   print(res)            -- one row per strategy, plus "optimised" and "nobody"
--
-- customers.scale (optional, one number per customer) multiplies every action's accept cost:
-- a discount of 25% of each customer's own monthly price is accept = 0.25, scale = price.
-- customers.p_draws (optional, n x R tensor or rows) holds R other equally likely churn
-- probabilities per customer (bootstrap or refit replicates of the risk model and its
-- calibration) and customers.value_draws the values that go with them: simulation draw d
-- takes its fates from replicate d % R, so the intervals include the probabilities' error;
-- the plans are chosen on p and value.
-- A strategy: name; contact (cost per customer offered the action); accept (cost per customer
-- who takes it, e.g. the discount paid over its duration); fixed (cost of running it at all);
-- reach (probability a targeted customer takes it); effect (relative reduction of a taker's
-- churn probability: a number, or a vector with one value per customer from an uplift
-- model); effect_sd (uncertainty of the effect, drawn per simulation draw); effect_draws
-- (with a per-customer effect and customers.p_draws: n rows of R replicate effects, refits of
-- the effect model that go with the probability replicates; draw d uses replicate d % R and
-- effect_sd still applies on top); target: "all",
-- {top = k} (highest risk first), {threshold = t} (risk >= t), or "value" (every customer
-- whose expected net value p * effect * value * reach - costs is positive).
-- With a budget, each strategy is cut to the budget in its own priority order (unless it says
-- budget = false: a baseline such as "contact everyone" at any cost), and the
-- "optimised" row assigns at most one action per customer across all strategies to maximise
-- expected net value within the budget (worst-case costs: no outcome overspends).
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local error = require("churnlab.core").raise
local plan = require "churnlab.plan"
local check = require("churnlab.options").check

local M = {}

-- Every key each table may hold: a misspelt key (cost = instead of contact =) would
-- otherwise become a default, here a free action that wins.
local OPTIONS = {"customers", "strategies", "budget", "draws", "seed", "verbose", "p", "value",
                 "scale"}
local SIMULATE_OPTIONS = {"customers", "strategies", "budget", "draws", "seed", "verbose", "p",
                          "value", "scale", "plans"}
local SENSITIVITY_OPTIONS = {"customers", "strategies", "budget", "p", "value", "scale", "vary"}
local CUSTOMER_KEYS = {"p", "value", "scale", "p_draws", "value_draws"}
local STRATEGY_KEYS = {"name", "contact", "accept", "reach", "effect", "effect_sd", "fixed",
                       "target", "budget", "effect_draws"}
local TARGET_KEYS = {"top", "threshold"}

-- Raises "bad argument #1 to 'fname' (msg)" at the line that called the public function
-- (level 1 is the function calling bad, 2 the public function, 3 its caller).
local function bad(fname, msg)
  error(string.format("bad argument #1 to '%s' (%s)", fname, msg), 4)
end

local function is_int(x) return math.type(x) == "integer" or (type(x) == "number" and x == math.floor(x) and x == x) end

-- Checks the keys and the values a wrong one of which would silently do something wrong;
-- called directly by each public function (the levels count on it).
local function validate(opts, fname, known)
  check(opts, 1, fname, known, 2)
  if type(opts) ~= "table" then bad(fname, "table expected, got " .. type(opts)) end
  local c = opts.customers
  if type(c) == "table" then check(c, 1, fname, CUSTOMER_KEYS, 2, "customers") end
  if opts.budget ~= nil and not (type(opts.budget) == "number" and opts.budget >= 0) then
    bad(fname, "option 'budget' must be a number >= 0, got " ..
               (type(opts.budget) == "number" and tostring(opts.budget) or type(opts.budget)))
  end
  if opts.draws ~= nil and not (is_int(opts.draws) and opts.draws >= 1) then
    bad(fname, "option 'draws' must be a whole number >= 1, got " .. tostring(opts.draws))
  end
  if opts.seed ~= nil and not (is_int(opts.seed) and opts.seed >= 0) then
    bad(fname, "option 'seed' must be a whole number >= 0, got " .. tostring(opts.seed))
  end
  for _, k in ipairs({"p", "value", "scale"}) do
    if opts[k] ~= nil and type(opts[k]) ~= "string" then
      bad(fname, "option '" .. k .. "' must name a column of the customers frame, got " .. type(opts[k]))
    end
  end
  if type(opts.strategies) ~= "table" then return end
  for i, s in ipairs(opts.strategies) do
    if type(s) == "table" then
      local what = "strategy " .. (type(s.name) == "string" and "'" .. s.name .. "'" or i)
      check(s, 1, fname, STRATEGY_KEYS, 2, what)
      for _, k in ipairs({"contact", "accept", "fixed", "effect_sd"}) do
        local v = s[k]
        if v ~= nil and not (type(v) == "number" and v >= 0) then
          bad(fname, string.format("%s: '%s' must be a number >= 0, got %s", what, k,
                                   type(v) == "number" and tostring(v) or type(v)))
        end
      end
      if s.reach ~= nil and not (type(s.reach) == "number" and s.reach >= 0 and s.reach <= 1) then
        bad(fname, string.format("%s: 'reach' must be a probability in [0, 1], got %s", what, tostring(s.reach)))
      end
      if s.budget ~= nil and s.budget ~= false then
        bad(fname, what .. ": 'budget' can only be false (spend beyond the budget)")
      end
      local t = s.target
      if type(t) == "table" then
        check(t, 1, fname, TARGET_KEYS, 2, what .. " target")
        if t.top ~= nil and not (is_int(t.top) and t.top >= 0) then
          bad(fname, string.format("%s: target.top must be a whole number >= 0, got %s", what, tostring(t.top)))
        end
        if t.threshold ~= nil and type(t.threshold) ~= "number" then
          bad(fname, string.format("%s: target.threshold must be a number, got %s", what, type(t.threshold)))
        end
        if t.top == nil and t.threshold == nil then
          bad(fname, what .. ": target needs top = k or threshold = t")
        end
      end
    end
  end
  if fname == "sensitivity" and opts.vary ~= nil then
    check(opts.vary, 1, fname, {"effect", "cost"}, 2, "vary")
  end
end

local function vec(v, n, what)
  if type(v) == "number" then
    local t = {}
    for i = 1, n do t[i] = v end
    return t
  end
  local t = {}
  if type(v) == "table" then
    for i = 1, #v do t[i] = v[i] end
  elseif type(v) == "userdata" and v.totable then
    local raw = v:totable()
    for i = 1, #raw do t[i] = type(raw[i]) == "table" and raw[i][1] or raw[i] end
  else
    error(what .. ": expected a number, a table, a tensor or a column, got " .. type(v), 3)
  end
  if n and #t ~= n then
    error(string.format("%s has %d values for %d customers", what, #t, n), 3)
  end
  return t
end

-- Solves A x = b (k x k, Gaussian elimination with partial pivoting); A and b are copied.
local function solve(A0, b0)
  local k, A = #b0, {}
  for r = 1, k do
    A[r] = {}
    for c = 1, k do A[r][c] = A0[r][c] end
    A[r][k + 1] = b0[r]
  end
  for col = 1, k do
    local piv = col
    for r = col + 1, k do if math.abs(A[r][col]) > math.abs(A[piv][col]) then piv = r end end
    A[col], A[piv] = A[piv], A[col]
    for r = col + 1, k do
      local f = A[r][col] / A[col][col]
      for c = col, k + 1 do A[r][c] = A[r][c] - f * A[col][c] end
    end
  end
  local x = {}
  for r = k, 1, -1 do
    local s = A[r][k + 1]
    for c = r + 1, k do s = s - A[r][c] * x[c] end
    x[r] = s / A[r][r]
  end
  return x
end

-- customers -> {p = {...}, value = {...}, n = n}
local function customers_of(opts)
  local c = opts.customers
  if c == nil then error("strategy: 'customers' is required", 3) end
  local pcol, vcol = opts.p or "p", opts.value or "value"
  local p, v
  if type(c) == "userdata" then -- a frame: columns by name
    p, v = c[pcol], c[vcol]
    if p == nil then error("strategy: the customers frame has no column '" .. pcol .. "'", 3) end
    if v == nil then error("strategy: the customers frame has no column '" .. vcol .. "'", 3) end
  else
    p, v = c.p, c.value
    if p == nil or v == nil then error("strategy: customers needs p and value", 3) end
  end
  p = vec(p, nil, "customers.p")
  local sc = type(c) == "userdata" and (opts.scale and c[opts.scale]) or (type(c) == "table" and c.scale)
  return {p = p, value = vec(v, #p, "customers.value"), n = #p,
          scale = sc and vec(sc, #p, "customers.scale") or nil,
          p_draws = type(c) == "table" and c.p_draws or nil,
          value_draws = type(c) == "table" and c.value_draws or nil}
end

local function action_of(s, i, n)
  if type(s) ~= "table" then error("strategy " .. i .. " is not a table", 4) end
  local a = {contact = s.contact or 0, accept = s.accept or 0, reach = s.reach or 1,
             effect = 0, effect_sd = s.effect_sd or 0, fixed = s.fixed or 0}
  local per
  if type(s.effect) == "number" then
    a.effect = s.effect
  elseif s.effect ~= nil then
    per = vec(s.effect, n, "strategy '" .. (s.name or i) .. "' effect")
    local sum = 0
    for k = 1, n do sum = sum + per[k] end
    a.effect = n > 0 and math.max(0, math.min(1, sum / n)) or 0
  else
    error("strategy '" .. (s.name or i) .. "' needs an effect", 4)
  end
  return a, per
end

-- Order in which a strategy spends its budget, and who it targets at all.
local function targets(s, cust, a, per)
  local t = s.target or "all"
  local idx = {}
  local function ev(i)
    local e = per and per[i] or a.effect
    return a.reach * (cust.p[i] * e * cust.value[i] - a.accept * (cust.scale and cust.scale[i] or 1)) - a.contact
  end
  for i = 1, cust.n do
    local keep = true
    if type(t) == "table" and t.threshold then keep = cust.p[i] >= t.threshold
    elseif t == "value" then keep = ev(i) > 0 end
    if keep then idx[#idx + 1] = i end
  end
  if t == "value" then
    table.sort(idx, function(x, y) local a1, b1 = ev(x), ev(y); if a1 ~= b1 then return a1 > b1 end return x < y end)
  else
    table.sort(idx, function(x, y) if cust.p[x] ~= cust.p[y] then return cust.p[x] > cust.p[y] end return x < y end)
  end
  if type(t) == "table" and t.top then
    for i = #idx, t.top + 1, -1 do idx[i] = nil end
  elseif not (t == "all" or t == "value" or (type(t) == "table" and t.threshold)) then
    error("strategy '" .. (s.name or "?") .. "': target must be 'all', 'value', {top = k} or {threshold = t}", 4)
  end
  return idx
end

local fmt_money = function(x)
  if x ~= x then return "-" end
  local s = string.format("%.0f", x)
  local neg = s:sub(1, 1) == "-"
  if neg then s = s:sub(2) end
  s = s:reverse():gsub("(%d%d%d)", "%1,"):reverse():gsub("^,", "")
  return (neg and "-" or "") .. s
end

local Results = {}
Results.__index = Results
Results.__name = "churnlab.StrategyResults"

function Results:__tostring()
  local head = string.format("%-22s %9s %9s %18s %12s %12s %22s %7s",
    "strategy", "contacted", "saved", "saved 90%", "retained", "cost", "net value (90%)", "ROI")
  local out = {head, string.rep("-", #head)}
  for _, r in ipairs(self) do
    out[#out + 1] = string.format("%-22.22s %9d %9.1f %18s %12s %12s %22s %7s",
      r.name, r.contacted, r.saved.mean,
      string.format("[%.0f, %.0f]", r.saved.lo, r.saved.hi),
      fmt_money(r.retained.mean), fmt_money(r.cost.mean),
      string.format("%s [%s, %s]", fmt_money(r.net.mean), fmt_money(r.net.lo), fmt_money(r.net.hi)),
      r.roi == r.roi and string.format("%.2f", r.roi) or "-")
  end
  if self.best then out[#out + 1] = "best: " .. self.best end
  return table.concat(out, "\n")
end

-- Replicates of the per-customer effects (strategy.effect_draws, n x R rows, R as in
-- customers.p_draws) as the n x (R * actions) matrix churnlab.plan takes: replicate r of
-- action k in column (r - 1) * actions + k; actions without draws repeat their effects.
local function effect_draws_of(strategies, cust, actions, pers)
  local any = false
  for _, s in ipairs(strategies) do any = any or s.effect_draws ~= nil end
  if not any then return nil end
  local pd = cust.p_draws
  local R = type(pd) == "table" and type(pd[1]) == "table" and #pd[1] or nil
  if not R then error("strategy: effect_draws need customers.p_draws (the replicates they go with)", 4) end
  local draws = {}
  for k, s in ipairs(strategies) do
    local d = s.effect_draws
    if d ~= nil then
      if type(d) ~= "table" or #d ~= cust.n then
        error(string.format("strategy '%s': effect_draws must have one row per customer (%d)", s.name or k, cust.n), 4)
      end
      for i = 1, cust.n do
        if type(d[i]) ~= "table" or #d[i] ~= R then
          error(string.format("strategy '%s': effect_draws row %d must hold %d replicates like customers.p_draws",
                              s.name or k, i, R), 4)
        end
      end
    end
    draws[k] = d
  end
  local na, out = #actions, {}
  for i = 1, cust.n do
    local row = {}
    for r = 1, R do
      for k = 1, na do
        row[(r - 1) * na + k] = draws[k] and draws[k][i][r] or (pers[k] and pers[k][i] or actions[k].effect)
      end
    end
    out[i] = row
  end
  return out
end

-- Builds the per-action inputs once; returns cust, actions, per-customer effect matrix or nil
-- and the effects' replicates or nil.
local function prepare(opts)
  local cust = customers_of(opts)
  local strategies = opts.strategies
  if type(strategies) ~= "table" or #strategies == 0 then
    error("strategy: 'strategies' must be a non-empty list", 3)
  end
  local actions, pers, any_per = {}, {}, false
  for i, s in ipairs(strategies) do
    actions[i], pers[i] = action_of(s, i, cust.n)
    any_per = any_per or pers[i] ~= nil
  end
  local eff
  if any_per then
    eff = {}
    for r = 1, cust.n do
      local row = {}
      for k = 1, #actions do row[k] = pers[k] and pers[k][r] or actions[k].effect end
      eff[r] = row
    end
  end
  return cust, actions, pers, eff, effect_draws_of(strategies, cust, actions, pers)
end

-- The plan of one strategy alone (cut to the budget in its own priority order).
local function strategy_plan(opts, i)
  local cust, actions, pers = prepare(opts)
  local s, a = opts.strategies[i], actions[i]
  local assign = {}
  for r = 1, cust.n do assign[r] = 0 end
  local spent = a.fixed
  for _, r in ipairs(targets(s, cust, a, pers[i])) do
    local c = a.contact + a.accept * (cust.scale and cust.scale[r] or 1)
    if opts.budget and s.budget ~= false and spent + c > opts.budget then break end
    assign[r] = i
    spent = spent + c
  end
  return assign
end

-- plan_for(opts, i) -> plan: strategy i's plan alone (one action number per customer, 0 for
-- none), cut to the budget in its own priority order; opts as for simulate.
function M.plan_for(opts, i)
  validate(opts, "plan_for", OPTIONS)
  return strategy_plan(opts, i)
end

-- A given plan (simulate's plans = {name = plan}): one action number per customer, 0 for none.
local function plan_of(p, name, n, na)
  if type(p) ~= "table" then bad("simulate", "plans." .. name .. " must be a table of action numbers") end
  if #p ~= n then bad("simulate", string.format("plans.%s has %d entries for %d customers", name, #p, n)) end
  local out = {}
  for i = 1, n do
    local k = p[i]
    if not (is_int(k) and k >= 0 and k <= na) then
      bad("simulate", string.format("plans.%s[%d] must be an action number in 0..%d, got %s", name, i, na, tostring(k)))
    end
    out[i] = math.tointeger(k)
  end
  return out
end

-- simulate{customers =, strategies =, budget =, draws = 2000, seed = 42, verbose, plans} -> results:
-- customers = {p =, value = [, scale =, p_draws =, value_draws =]} (vectors: churn risk,
-- value if retained, accept-cost multiplier; n x R replicates of risk and value) or a frame with opts p, value, scale naming its columns; strategies = a list of
-- {name, contact, accept, fixed, reach, effect (number or one per customer), effect_sd,
-- target = "all" | "value" | {top = k} | {threshold = t}, budget = false (ignores the
-- budget)}. Each strategy is cut to the budget in its own priority order; "nobody" (no
-- action) and, with a budget and no fixed costs, "optimised" (at most one action per
-- customer maximising expected net value, worst-case cost within budget) are added. Monte
-- Carlo over draws with common random numbers: strategies are compared on the same luck.
-- results[i] and results[name] = {name, contacted, saved, retained, cost, net (each {mean,
-- lo, hi}: 90% interval), roi, plan}; plans = {name = {action number per customer}} adds
-- plans chosen elsewhere as rows (one named "optimised" replaces the optimiser's);
-- results.best names the best mean net value;
-- print(results) shows the table.
function M.simulate(opts)
  validate(opts, "simulate", SIMULATE_OPTIONS)
  if opts.plans ~= nil and type(opts.plans) ~= "table" then
    bad("simulate", "option 'plans' must be a table {name = {action number per customer}}")
  end
  local cust, actions, pers, eff, eff_draws = prepare(opts)
  local input = {p = cust.p, value = cust.value, effect = eff, scale = cust.scale,
                 p_draws = cust.p_draws, value_draws = cust.value_draws, effect_draws = eff_draws}
  local sim = {draws = opts.draws or 2000, seed = opts.seed or 42, verbose = opts.verbose}
  local res = setmetatable({}, Results)
  local function run(name, assign, extra)
    local r = plan.simulate(input, actions, assign, sim)
    r.name = name
    for k, v in pairs(extra or {}) do r[k] = v end
    res[#res + 1] = r
    res[name] = r
    return r
  end
  local none = {}
  for r = 1, cust.n do none[r] = 0 end
  run("nobody", none, {plan = none})
  for i, s in ipairs(opts.strategies) do
    local assign = strategy_plan(opts, i)
    run(s.name or ("strategy " .. i), assign, {plan = assign})
  end
  -- plans chosen elsewhere (e.g. cross-fitted: chosen on other estimates than the ones they
  -- are judged by), simulated on the same luck; one named "optimised" replaces the optimiser's
  local given = {}
  for name in pairs(opts.plans or {}) do given[#given + 1] = name end
  table.sort(given)
  for _, name in ipairs(given) do
    local assign = plan_of(opts.plans[name], name, cust.n, #actions)
    run(name, assign, {plan = assign})
  end
  if opts.budget and not (opts.plans and opts.plans.optimised) then
    local fixed = false
    for _, a in ipairs(actions) do fixed = fixed or a.fixed > 0 end
    if not fixed then
      local best, exp_net, cost = plan.optimize(input, actions, opts.budget)
      local assign = {}
      for r = 1, cust.n do assign[r] = math.floor(best:get(r)) end
      run("optimised", assign, {plan = assign, expected = exp_net, worst_cost = cost})
    end
  end
  local top, topv = nil, -math.huge
  for _, r in ipairs(res) do
    if r.net.mean > topv then top, topv = r.name, r.net.mean end
  end
  res.best = top
  return res
end

local HR_OPTIONS = {"weights", "start", "iterations", "prior"}

-- hazard_ratio(risk, y, X [, {weights =, start =, iterations = 100, prior =}]) -> {theta =,
-- loglik =, iterations =, converged =}: how an action multiplies the hazard, per customer, from a randomised
-- campaign's treated customers. Customer i, whose risk over the outcome window without the
-- action is risk[i] (a control model's), churned (y[i] = 1) with probability
-- 1 - (1 - risk[i]) ^ HR_i under it, log HR_i = X[i] . theta (X: rows of covariates, e.g.
-- group indicators and a centred trait). theta maximises the (weighted) likelihood: a
-- binomial model with the complementary log-log link and offset log(-log(1 - risk)), fitted
-- by Fisher scoring (damped to steps of at most 1; start = the first theta, default 0).
-- prior = {mean = {...}, sd = {...}} (one per covariate; sd = math.huge for none) maximises
-- the posterior under independent normal priors instead (a ridge toward the means): small
-- campaigns then lean on the prior rather than on chance.
function M.hazard_ratio(risk, y, X, opts)
  opts = opts or {}
  check(opts, 4, "hazard_ratio", HR_OPTIONS)
  risk = vec(risk, nil, "hazard_ratio: risk")
  local n = #risk
  y = vec(y, n, "hazard_ratio: y")
  if type(X) ~= "table" or #X ~= n then
    bad("hazard_ratio", "X must be a table of " .. n .. " rows (one per customer)")
  end
  local k = type(X[1]) == "table" and #X[1] or 0
  if k < 1 then bad("hazard_ratio", "X's rows must hold at least one covariate") end
  local w = opts.weights and vec(opts.weights, n, "hazard_ratio: weights") or nil
  for i = 1, n do
    if type(X[i]) ~= "table" or #X[i] ~= k then bad("hazard_ratio", string.format("X row %d must hold %d numbers", i, k)) end
    if not (risk[i] >= 0 and risk[i] < 1) then bad("hazard_ratio", string.format("risk[%d] must be in [0, 1), got %s", i, tostring(risk[i]))) end
    if y[i] ~= 0 and y[i] ~= 1 then bad("hazard_ratio", string.format("y[%d] must be 0 or 1, got %s", i, tostring(y[i]))) end
    if w and not (w[i] >= 0) then bad("hazard_ratio", string.format("weights[%d] must be >= 0", i)) end
  end
  local pm, pp = {}, {} -- prior means and precisions (0: no prior)
  for a = 1, k do pm[a], pp[a] = 0, 0 end
  if opts.prior ~= nil then
    local pr = opts.prior
    if type(pr) ~= "table" or type(pr.mean) ~= "table" or type(pr.sd) ~= "table" or #pr.mean ~= k or #pr.sd ~= k then
      bad("hazard_ratio", "prior must be {mean = {" .. k .. " numbers}, sd = {" .. k .. " numbers}}")
    end
    for a = 1, k do
      if not (type(pr.sd[a]) == "number" and pr.sd[a] > 0) then bad("hazard_ratio", "prior.sd[" .. a .. "] must be > 0") end
      pm[a], pp[a] = pr.mean[a], 1 / (pr.sd[a] * pr.sd[a])
    end
  end
  local theta = {}
  for a = 1, k do theta[a] = opts.start and (type(opts.start) == "table" and opts.start[a] or opts.start) or 0 end
  local iters, done = 0, false
  local function pass(want_step)
    local H, g, ll = {}, {}, 0
    for a = 1, k do H[a], g[a] = {}, 0; for b = 1, k do H[a][b] = 0 end end
    for i = 1, n do
      local wi = w and w[i] or 1
      if wi > 0 and risk[i] > 0 then
        local eta = 0
        for a = 1, k do eta = eta + X[i][a] * theta[a] end
        local mu = -math.log(1 - risk[i]) * math.exp(math.min(30, eta)) -- the cumulative hazard
        local q = mu < 1e-5 and mu * (1 - mu / 2) or 1 - math.exp(-mu) -- P(churn), accurate for tiny mu
        ll = ll + wi * (y[i] == 1 and math.log(math.max(q, 1e-300)) or -mu)
        if want_step then
          local score = wi * mu * (y[i] / math.max(q, 1e-300) - 1)
          local info = wi * mu * mu * math.exp(-mu) / math.max(q, 1e-300)
          for a = 1, k do
            g[a] = g[a] + score * X[i][a]
            for b = 1, k do H[a][b] = H[a][b] + info * X[i][a] * X[i][b] end
          end
        end
      end
    end
    for a = 1, k do
      ll = ll - 0.5 * pp[a] * (theta[a] - pm[a]) ^ 2
      g[a] = g[a] - pp[a] * (theta[a] - pm[a])
      H[a][a] = H[a][a] + pp[a]
    end
    return ll, H, g
  end
  local ll
  for it = 1, opts.iterations or 100 do
    local H, g
    ll, H, g = pass(true)
    for a = 1, k do H[a][a] = H[a][a] + 1e-9 * (1 + H[a][a]) end -- a covariate no row carries stays put
    local d = solve(H, g)
    local step = 0
    for a = 1, k do
      d[a] = math.max(-1, math.min(1, d[a]))
      theta[a] = theta[a] + d[a]
      step = math.max(step, math.abs(d[a]))
    end
    iters = it
    if step < 1e-10 then done = true; break end
  end
  ll = pass(false)
  return {theta = theta, loglik = ll, iterations = iters, converged = done}
end

-- Net value of the optimised plan when the effect and the costs are off by the given
-- factors: {effect = {0.5, 1, 1.5}, cost = {0.8, 1, 1.2}} -> rows {effect, cost, net, plan size}.
function M.sensitivity(opts)
  validate(opts, "sensitivity", SENSITIVITY_OPTIONS)
  local vary = opts.vary or {effect = {0.5, 0.75, 1, 1.25, 1.5}, cost = {0.8, 1, 1.2}}
  local rows = {}
  for _, fe in ipairs(vary.effect or {1}) do
    for _, fc in ipairs(vary.cost or {1}) do
      local scaled = {}
      for i, s in ipairs(opts.strategies) do
        local c = {}
        for k, v in pairs(s) do c[k] = v end
        if type(s.effect) == "number" then
          c.effect = math.min(1, s.effect * fe)
        else
          local e = vec(s.effect, nil, "effect")
          for k = 1, #e do e[k] = math.max(-1, math.min(1, e[k] * fe)) end
          c.effect = e
        end
        c.contact, c.accept, c.fixed = (s.contact or 0) * fc, (s.accept or 0) * fc, (s.fixed or 0) * fc
        scaled[i] = c
      end
      local o = {}
      for k, v in pairs(opts) do o[k] = v end
      o.strategies = scaled
      local cust, actions, _, eff = prepare(o)
      local best, exp_net = plan.optimize({p = cust.p, value = cust.value, effect = eff, scale = cust.scale}, actions,
                                          opts.budget or math.huge)
      local size = 0
      for r = 1, cust.n do if best:get(r) > 0 then size = size + 1 end end
      rows[#rows + 1] = {effect = fe, cost = fc, net = exp_net, contacted = size}
    end
  end
  return rows
end

return M
