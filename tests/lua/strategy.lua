-- Tests of churnlab.strategy and churnlab.plan.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local S = require "churnlab.strategy"

local n = 2000
local u = cl.tensor.rand(n, 2, {seed = 1})
local p, v = {}, {}
for i = 1, n do p[i] = u:get(i, 1) * 0.6; v[i] = 60 + 240 * u:get(i, 2) end
local strategies = {
  {name = "call top risk", contact = 8, reach = 0.5, effect = 0.2, target = {top = 200}},
  {name = "discount", contact = 0.5, accept = 24, reach = 0.6, effect = 0.35, target = {threshold = 0.4}},
  {name = "content push", contact = 0.1, reach = 0.4, effect = 0.1, target = "all"},
}

T.test("replicates of the churn probabilities widen the intervals, not the plans", function()
  local R = 4
  local pd, vd = {}, {}
  for i = 1, n do
    pd[i], vd[i] = {}, {}
    for r = 1, R do pd[i][r] = math.min(1, p[i] * (0.5 + (r - 1) / 3)); vd[i][r] = v[i] end
  end
  local base = S.simulate{customers = {p = p, value = v}, strategies = strategies,
                          budget = 3000, draws = 400, seed = 3}
  local wide = S.simulate{customers = {p = p, value = v, p_draws = pd, value_draws = vd},
                          strategies = strategies, budget = 3000, draws = 400, seed = 3}
  for i = 2, #base do
    local a, b = base[i], wide[i]
    T.eq(b.contacted, a.contacted, a.name)
    if a.contacted > 0 then
      T.ok(b.net.hi - b.net.lo > 1.5 * (a.net.hi - a.net.lo), a.name .. ": wider")
    end
  end
  for i = 1, n do T.eq(wide.optimised.plan[i], base.optimised.plan[i]) end
  -- equal replicates give exactly the plain simulation (same binary, same draws)
  local same = {}
  for i = 1, n do same[i] = {p[i], p[i]} end
  local eq = S.simulate{customers = {p = p, value = v, p_draws = same}, strategies = strategies,
                        budget = 3000, draws = 400, seed = 3}
  T.eq(eq.optimised.net.lo, base.optimised.net.lo)
  T.eq(eq.optimised.net.hi, base.optimised.net.hi)
  T.raises(function() cl.plan.simulate({p = {0.1, 0.2}, value = {1, 1}, p_draws = {{0.1}}},
                                       {{effect = 0.1}}, {1, 1}) end, "p_draws must have one row per customer")
  T.raises(function() cl.plan.simulate({p = {0.1, 0.2}, value = {1, 1}, value_draws = {{1}, {1}}},
                                       {{effect = 0.1}}, {1, 1}) end, "value_draws must be 2 x 0")
  T.raises(function() cl.plan.simulate({p = {0.1, 0.2}, value = {1, 1}, p_draws = {{0.1}, {1.5}}},
                                       {{effect = 0.1}}, {1, 1}) end, "replicate 1, customer 2")
end)

T.test("replicates of the per-customer effects widen the intervals, not the plans", function()
  local R = 4
  local eff, ed, pd = {}, {}, {}
  for i = 1, n do
    eff[i] = 0.1 + 0.3 * u:get(i, 2)
    pd[i], ed[i] = {}, {}
    for r = 1, R do pd[i][r] = p[i]; ed[i][r] = eff[i] * (0.5 + (r - 1) / 3) end
  end
  local st = {{name = "call", contact = 2, reach = 1, effect = eff, target = "all"}}
  local cust = {p = p, value = v, p_draws = pd}
  local base = S.simulate{customers = cust, strategies = st, budget = 3000, draws = 400, seed = 3}
  local wide = S.simulate{customers = cust, strategies = {{name = "call", contact = 2, reach = 1, effect = eff,
    target = "all", effect_draws = ed}}, budget = 3000, draws = 400, seed = 3}
  T.eq(wide.call.contacted, base.call.contacted)
  T.ok(wide.call.net.hi - wide.call.net.lo > 1.5 * (base.call.net.hi - base.call.net.lo), "wider")
  for i = 1, n do T.eq(wide.optimised.plan[i], base.optimised.plan[i]) end
  -- replicates equal to the effects give exactly the plain simulation
  local same = {}
  for i = 1, n do same[i] = {eff[i], eff[i], eff[i], eff[i]} end
  local eq = S.simulate{customers = cust, strategies = {{name = "call", contact = 2, reach = 1, effect = eff,
    target = "all", effect_draws = same}}, budget = 3000, draws = 400, seed = 3}
  T.eq(eq.call.net.lo, base.call.net.lo)
  T.eq(eq.call.net.hi, base.call.net.hi)
  T.raises(function() S.simulate{customers = {p = p, value = v}, strategies = {{name = "call", effect = eff,
    effect_draws = ed}}} end, "effect_draws need customers.p_draws")
  T.raises(function() S.simulate{customers = cust, strategies = {{name = "call", effect = eff,
    effect_draws = {{0.1}}}}} end, "effect_draws must have one row per customer")
  T.raises(function() cl.plan.simulate({p = {0.1, 0.2}, value = {1, 1}, p_draws = {{0.1}, {0.2}},
    effect = {{0.1}, {0.1}}, effect_draws = {{0.1, 0.2}, {0.1, 0.2}}}, {{effect = 0.1}}, {1, 1}) end,
    "effect_draws must be 2 x 1")
end)

T.test("simulate compares strategies with intervals and an optimised plan", function()
  local res = S.simulate{customers = {p = p, value = v}, strategies = strategies,
                         budget = 3000, draws = 300, seed = 3}
  T.eq(#res, 5)
  T.eq(res[1].name, "nobody"); T.eq(res.nobody.net.mean, 0); T.eq(res.nobody.contacted, 0)
  T.eq(res["call top risk"].contacted, 200)
  for _, r in ipairs(res) do
    T.ok(r.net.lo <= r.net.mean and r.net.mean <= r.net.hi, r.name)
    T.ok(r.saved.lo >= 0, r.name)
  end
  -- every strategy stays within the budget in the worst case
  local worst = {8, 24.5, 0.1}
  for i = 1, 3 do
    local spent = 0
    for _, k in ipairs(res[i + 1].plan) do if k > 0 then spent = spent + worst[k] end end
    T.ok(spent <= 3000, res[i + 1].name .. " spends " .. spent)
  end
  local opt = res.optimised
  T.ok(opt.worst_cost <= 3000)
  local seen = 0
  for _, k in ipairs(opt.plan) do T.ok(k >= 0 and k <= 3); if k > 0 then seen = seen + 1 end end
  T.eq(seen, opt.contacted)
  for i = 2, 4 do T.ok(opt.net.mean >= res[i].net.mean, "optimised beats " .. res[i].name) end
  T.eq(res.best, "optimised")
  T.ok(tostring(res):find("optimised", 1, true))
end)

T.test("a plan chosen elsewhere is simulated on the same luck and replaces the optimiser's", function()
  local base = S.simulate{customers = {p = p, value = v}, strategies = strategies, budget = 3000, draws = 300, seed = 3}
  -- the optimiser's own plan given back: the same row, to the last bit (same draws)
  local again = S.simulate{customers = {p = p, value = v}, strategies = strategies, budget = 3000, draws = 300,
                           seed = 3, plans = {optimised = base.optimised.plan}}
  T.eq(again.optimised.net.mean, base.optimised.net.mean)
  T.eq(again.optimised.net.lo, base.optimised.net.lo)
  T.eq(again.optimised.expected, nil) -- not the optimiser's: no expectation of its own
  -- another plan under another name sits beside the optimiser's; half of the optimised plan
  -- keeps about half its customers
  local halfplan = {}
  for i = 1, n do halfplan[i] = i % 2 == 0 and base.optimised.plan[i] or 0 end
  local both = S.simulate{customers = {p = p, value = v}, strategies = strategies, budget = 3000, draws = 300,
                          seed = 3, plans = {half = halfplan}}
  T.eq(both.optimised.net.mean, base.optimised.net.mean)
  local k = 0
  for i = 1, n do if halfplan[i] > 0 then k = k + 1 end end
  T.eq(both.half.contacted, k)
  T.ok(both.half.net.mean < both.optimised.net.mean and both.half.net.mean > 0.2 * both.optimised.net.mean,
       both.half.net.mean .. " vs " .. both.optimised.net.mean)
  T.raises(function() S.simulate{customers = {p = p, value = v}, strategies = strategies, plans = {x = {1}}} end,
           "plans.x has 1 entries for 2000 customers")
  local bad = {}
  for i = 1, n do bad[i] = 0 end
  bad[7] = 4
  T.raises(function() S.simulate{customers = {p = p, value = v}, strategies = strategies, plans = {x = bad}} end,
           "plans.x[7] must be an action number in 0..3, got 4")
  T.raises(function() S.simulate{customers = {p = p, value = v}, strategies = strategies, plans = 3} end,
           "option 'plans' must be a table")
  T.raises(function() S.plan_for({customers = {p = p, value = v}, strategies = strategies, plans = {}}, 1) end,
           "plans")
end)

T.test("hazard_ratio: the cloglog fit equals statsmodels' GLM (scripts/ref/strategy_hr_ref.py)", function()
  local d = cl.read_csv("tests/data/strategy_hr.csv")
  local risk, y, g, z, w = d.risk:totable(), d.y:totable(), d.group:totable(), d.z:totable(), d.weight:totable()
  local X = {}
  for i = 1, #risk do X[i] = {g[i] == 1 and 1 or 0, g[i] == 2 and 1 or 0, g[i] == 3 and 1 or 0, z[i]} end
  local ref = {}
  for line in io.lines("tests/data/strategy_hr_ref.txt") do
    if not line:match("^#") then
      local name, rest = line:match("^(%S+) (.*)$")
      local v = {}
      for x in rest:gmatch("%S+") do v[#v + 1] = tonumber(x) end
      ref[name] = v
    end
  end
  -- Both solve the same score equations to convergence (steps below 1e-10 here, statsmodels'
  -- deviance tolerance 1e-13): theta agrees far inside 1e-7 and the log likelihood, a sum of
  -- 600 terms of size ~1, inside 1e-8 relative; the bounds leave room for summation order.
  for name, fit in pairs{unweighted = S.hazard_ratio(risk, y, X), weighted = S.hazard_ratio(risk, y, X, {weights = w})} do
    T.ok(fit.converged, name)
    for a = 1, 4 do T.near(fit.theta[a], ref[name][a], 1e-7, name .. " theta " .. a) end
    T.near(fit.loglik, ref[name][5], 1e-8 * math.abs(ref[name][5]), name .. " loglik")
  end
  -- zero weights drop rows: the same fit as without them
  local keep_r, keep_y, keep_X, keep_w = {}, {}, {}, {}
  for i = 1, #risk do
    if w[i] > 0 then keep_r[#keep_r + 1], keep_y[#keep_y + 1], keep_X[#keep_X + 1], keep_w[#keep_w + 1] = risk[i], y[i], X[i], w[i] end
  end
  local a, b = S.hazard_ratio(risk, y, X, {weights = w}), S.hazard_ratio(keep_r, keep_y, keep_X, {weights = keep_w})
  for k = 1, 4 do T.near(a.theta[k], b.theta[k], 1e-9) end
  -- a prior: the fit maximises the log posterior (every coordinate step of 1e-4 either way
  -- lowers it: a brute-force check of the maximum), a vague prior changes nothing, and a tight
  -- one holds theta at its mean
  local prior = {mean = {-0.3, -0.3, -0.3, 0}, sd = {0.1, 0.1, 0.1, 0.5}}
  local map = S.hazard_ratio(risk, y, X, {weights = w, prior = prior})
  local function logpost(th)
    local ll = 0
    for i = 1, #risk do
      local eta = 0
      for k = 1, 4 do eta = eta + X[i][k] * th[k] end
      local mu = -math.log(1 - risk[i]) * math.exp(eta)
      ll = ll + w[i] * (y[i] == 1 and math.log(1 - math.exp(-mu)) or -mu)
    end
    for k = 1, 4 do ll = ll - 0.5 * ((th[k] - prior.mean[k]) / prior.sd[k]) ^ 2 end
    return ll
  end
  local best = logpost(map.theta)
  T.near(map.loglik, best, 1e-9 * math.abs(best))
  for k = 1, 4 do
    for _, h in ipairs{-1e-4, 1e-4} do
      local th = {table.unpack(map.theta)}
      th[k] = th[k] + h
      T.ok(logpost(th) < best, "theta " .. k .. " moved by " .. h)
    end
  end
  T.ok(math.abs(map.theta[4]) < math.abs(ref.weighted[4]), "the slope shrinks toward 0")
  local vague = S.hazard_ratio(risk, y, X, {weights = w, prior = {mean = {0, 0, 0, 0}, sd = {1e6, 1e6, 1e6, 1e6}}})
  for k = 1, 4 do T.near(vague.theta[k], ref.weighted[k], 1e-6) end
  local tight = S.hazard_ratio(risk, y, X, {prior = {mean = {-0.1, -0.2, -0.3, 0.4}, sd = {1e-5, 1e-5, 1e-5, 1e-5}}})
  for k, m in ipairs{-0.1, -0.2, -0.3, 0.4} do T.near(tight.theta[k], m, 1e-4) end
  T.raises(function() S.hazard_ratio(risk, y, X, {prior = {mean = {0}, sd = {1}}}) end, "prior must be")
  T.raises(function() S.hazard_ratio({0.1, 1}, {0, 1}, {{1}, {1}}) end, "risk[2] must be in [0, 1)")
  T.raises(function() S.hazard_ratio({0.1, 0.2}, {0, 2}, {{1}, {1}}) end, "y[2] must be 0 or 1")
  T.raises(function() S.hazard_ratio({0.1, 0.2}, {0, 1}, {{1}}) end, "X must be a table of 2 rows")
  T.raises(function() S.hazard_ratio({0.1, 0.2}, {0, 1}, {{1}, {1, 2}}) end, "X row 2 must hold 1 numbers")
  T.raises(function() S.hazard_ratio({0.1, 0.2}, {0, 1}, {{1}, {1}}, {weight = 1}) end, "weight")
end)

T.test("budget = false keeps a baseline whole", function()
  local res = S.simulate{customers = {p = p, value = v}, budget = 100, draws = 20, seed = 1,
    strategies = {{name = "all", contact = 1, effect = 0.1, target = "all", budget = false},
                  {name = "cut", contact = 1, effect = 0.1, target = "all"}}}
  T.eq(res.all.contacted, n)
  T.eq(res.cut.contacted, 100)
end)

T.test("same seed, same numbers; per-customer effects accepted", function()
  local a = S.simulate{customers = {p = p, value = v}, strategies = strategies, draws = 50, seed = 9}
  local b = S.simulate{customers = {p = p, value = v}, strategies = strategies, draws = 50, seed = 9}
  for i = 1, #a do T.eq(a[i].net.mean, b[i].net.mean) end
  local per = {}
  for i = 1, n do per[i] = p[i] > 0.3 and 0.3 or 0.05 end
  local c = S.simulate{customers = {p = p, value = v}, draws = 50, seed = 9, budget = 1000,
                       strategies = {{name = "uplift-targeted", contact = 1, reach = 1, effect = per, target = "value"}}}
  T.ok(c.optimised.net.mean > 0)
end)

T.test("sensitivity: more effect never lowers the optimised net value", function()
  local rows = S.sensitivity{customers = {p = p, value = v}, strategies = strategies, budget = 3000,
                             vary = {effect = {0.5, 1, 1.5}, cost = {1}}}
  T.eq(#rows, 3)
  T.ok(rows[1].net <= rows[2].net and rows[2].net <= rows[3].net)
end)

T.test("plan.optimize exact equals greedy-or-better on a small case", function()
  local plan = require "churnlab.plan"
  local cust = {p = {0.5, 0.4, 0.3, 0.6}, value = {100, 200, 50, 80}}
  local acts = {{contact = 5, reach = 0.5, effect = 0.3}, {contact = 1, accept = 20, reach = 0.7, effect = 0.5}}
  local pe, ne, ce = plan.optimize(cust, acts, 30, {exact = true})
  local pg, ng, cg = plan.optimize(cust, acts, 30)
  T.ok(ce <= 30 and cg <= 30)
  T.ok(ne >= ng - 1e-9)
  T.eq(#pe, 4); T.eq(#pg, 4)
  local e = plan.expected(cust, acts)
  T.near(e:get(1, 1), 0.5 * (0.5 * 0.3 * 100) - 5, 1e-5)
end)

T.test("errors name the problem", function()
  T.raises(function() S.simulate{strategies = strategies} end, "'customers' is required")
  T.raises(function() S.simulate{customers = {p = p, value = v}, strategies = {}} end, "non-empty list")
  T.raises(function() S.simulate{customers = {p = {0.5}, value = {1, 2}}, strategies = strategies} end,
           "customers.value has 2 values for 1 customers")
  T.raises(function() S.simulate{customers = {p = {1.5}, value = {1}}, strategies = {{effect = 0.1}}} end,
           "churn probability 1.5")
  T.raises(function() S.simulate{customers = {p = {0.5}, value = {1}}, strategies = {{name = "x"}}} end,
           "'x' needs an effect")
  T.raises(function() S.simulate{customers = {p = {0.5}, value = {1}}, strategies = {{effect = 0.1, target = "vip"}}} end,
           "target must be")
  T.raises(function() require("churnlab.plan").optimize({p = {0.5}, value = {1}}, {{effect = 2}}, 10) end,
           "reach and effect must be in [0, 1]")
end)

T.done()
