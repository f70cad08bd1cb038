-- strategy_coverage.lua: do notebook 06's 90% intervals hold the truth 90% of the time?
--
--   churnlab scripts/strategy_coverage.lua [worlds = 12 [customers = 4000 [first seed = 1 [out.json]]]]
--
-- For each seed, a small world is generated (scripts/gen_data.lua with that seed), its
-- features built (notebook 02) and notebook 06 run on it with a budget of 0.5 per active
-- customer (the default world's 15,000 for 30,225), exactly as `make report` runs them;
-- strategy_check.json then says for every plan whether the replayed true net value fell
-- inside the plan's 90% interval. Counted: the optimised plan, discount everyone, call
-- everyone, call the riskiest fifth and 10% off everyone (the oracle knows the truth and
-- "nobody" is exactly 0).
-- Prints one line per world and the coverage with its count (and writes them to out.json when
-- given); each world takes some 20-30 s.
-- Measured (seeds 1..50, 4000 customers, three runs over seeds 1-17, 18-34 and 35-50 side by
-- side and merged, shared machine, commit aeb1ba4): 227/250 intervals held the truth (90.8%):
-- optimised 46/50, discount everyone 42/50, call everyone 50/50, riskiest fifth 48/50, 10% off
-- everyone 41/50. The optimised plan (cross-fitted since aeb1ba4's parents) summed estimated
-- 1,989 against a true -7,525 (oracle 13,606): still high, by 190 a world, where the plan
-- chosen and judged on the same estimates ran 25,352 against -10,595 (718 a world).
--   churnlab scripts/strategy_coverage.lua merge out.json part1.json part2.json ...
-- sums the counts of runs over disjoint seed ranges (e.g. two halves run side by side).
if arg and arg[1] == "merge" then
  local out, total = arg[2], {worlds = 0, covered = 0, plans = 0, optimised_true_sum = 0,
                              optimised_estimated_sum = 0, oracle_true_sum = 0}
  local by, order, customers, first = {}, {}, nil, math.huge
  for i = 3, #arg do
    local f = io.open(arg[i], "rb") or error("strategy_coverage: cannot read " .. arg[i], 0)
    local text = f:read("a")
    f:close()
    for k in pairs(total) do
      total[k] = total[k] + (tonumber(text:match('"' .. k .. '": ([-%d.]+)')) or
                             error("strategy_coverage: " .. arg[i] .. " has no " .. k, 0))
    end
    local c = tonumber(text:match('"customers": (%d+)'))
    if customers and c ~= customers then error("strategy_coverage: " .. arg[i] .. " has other world sizes", 0) end
    customers, first = c, math.min(first, tonumber(text:match('"first_seed": (%d+)')))
    for name, a, b in text:match('"by_plan": (%b{})'):gmatch('"([^"]+)": %[(%d+), (%d+)%]') do
      if not by[name] then by[name] = {0, 0}; order[#order + 1] = name end
      by[name][1], by[name][2] = by[name][1] + tonumber(a), by[name][2] + tonumber(b)
    end
  end
  local parts = {}
  for _, name in ipairs(order) do parts[#parts + 1] = string.format('"%s": [%d, %d]', name, by[name][1], by[name][2]) end
  local f = io.open(out .. ".tmp", "wb") or error("strategy_coverage: cannot write " .. out, 0)
  f:write(string.format('{"worlds": %d, "customers": %d, "first_seed": %d, "level": 0.9, "covered": %d, "plans": %d, '
    .. '"by_plan": {%s}, "optimised_true_sum": %.2f, "optimised_estimated_sum": %.2f, "oracle_true_sum": %.2f, "merged_runs": %d}\n',
    total.worlds, customers, first, total.covered, total.plans, table.concat(parts, ", "), total.optimised_true_sum,
    total.optimised_estimated_sum, total.oracle_true_sum, #arg - 2))
  f:close()
  assert(os.rename(out .. ".tmp", out))
  print(string.format("strategy_coverage: merged %d runs: %d worlds, %d/%d intervals held the truth (%.1f%%)",
    #arg - 2, total.worlds, total.covered, total.plans, 100 * total.covered / total.plans))
  return
end
local worlds = tonumber(arg and arg[1]) or 12
local customers = tonumber(arg and arg[2]) or 4000
local first = tonumber(arg and arg[3]) or 1
local exe = os.getenv("CHURNLAB") or "build/release/churnlab"
local tmp = os.tmpname()
os.remove(tmp)
local fmt = string.format
local PLANS = {"optimised", "everyone", "call everyone", "riskiest fifth", "10% off everyone"}

local function run(cmd)
  local ok = os.execute(cmd .. " >" .. tmp .. ".log 2>&1")
  if not ok then
    local f = io.open(tmp .. ".log")
    local log = f and f:read("a") or ""
    if f then f:close() end
    error("strategy_coverage: failed: " .. cmd .. "\n" .. log, 0)
  end
end

local function read_check(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("a")
  f:close()
  local out = {}
  for name, body in text:gmatch('"([%w %%]+)": (%b{})') do
    local est, lo, hi, tru, cov = body:match('"estimated": (%S+), "lo": (%S+), "hi": (%S+), "true": (%S+), "covered": (%a+)')
    if est then
      out[name] = {estimated = tonumber(est), lo = tonumber(lo), hi = tonumber(hi), ["true"] = tonumber(tru),
                   covered = cov == "true"}
    end
  end
  return out
end

if arg and arg[4] then -- fail before the first world, not after it, when the output cannot be written
  local f, err = io.open(arg[4] .. ".tmp", "wb")
  if not f then error("strategy_coverage: cannot write " .. arg[4] .. ": " .. tostring(err), 0) end
  f:close()
  os.remove(arg[4] .. ".tmp")
end
print(fmt("strategy_coverage: %d worlds of %d customers, seeds %d..%d, %s", worlds, customers, first,
  first + worlds - 1, exe))
local hit, total, per = 0, 0, {}
for _, name in ipairs(PLANS) do per[name] = {0, 0} end
local opt_sum, oracle_sum, opt_est_sum = 0, 0, 0
-- the JSON so far (rewritten after every world, so a run cut short still says what it measured)
local function write_json(path, done)
  local parts = {}
  for _, name in ipairs(PLANS) do parts[#parts + 1] = fmt('"%s": [%d, %d]', name, per[name][1], per[name][2]) end
  local f, err = io.open(path .. ".tmp", "wb")
  if not f then error("strategy_coverage: cannot write " .. path .. ": " .. tostring(err), 0) end
  f:write(fmt('{"worlds": %d, "customers": %d, "first_seed": %d, "level": 0.9, "covered": %d, "plans": %d, '
    .. '"by_plan": {%s}, "optimised_true_sum": %.2f, "optimised_estimated_sum": %.2f, "oracle_true_sum": %.2f}\n',
    done, customers, first, hit, total, table.concat(parts, ", "), opt_sum, opt_est_sum, oracle_sum))
  f:close()
  local ok, rerr = os.rename(path .. ".tmp", path)
  if not ok then error("strategy_coverage: cannot write " .. path .. ": " .. tostring(rerr), 0) end
end
for s = first, first + worlds - 1 do
  local dir = fmt("%s.w%d", tmp, s)
  run(fmt("%s scripts/gen_data.lua %s/data customers=%d titles=400 seed=%d", exe, dir, customers, s))
  run(fmt("%s notebooks/02_features.lua %s/data %s/reports", exe, dir, dir))
  local nact = 0
  for _ in io.lines(dir .. "/data/features.csv") do nact = nact + 1 end
  nact = nact - 1
  run(fmt("%s notebooks/06_strategy.lua %s/data %s/reports %d", exe, dir, dir, math.floor(0.5 * nact)))
  local c = read_check(dir .. "/reports/strategy_check.json")
  local line = {}
  for _, name in ipairs(PLANS) do
    local x = assert(c[name], "strategy_coverage: strategy_check.json lacks " .. name)
    total, per[name][2] = total + 1, per[name][2] + 1
    if x.covered then hit, per[name][1] = hit + 1, per[name][1] + 1 end
    line[#line + 1] = fmt("%s %.0f [%.0f, %.0f] true %.0f%s", name, x.estimated, x.lo, x.hi, x["true"],
                          x.covered and "" or " MISSED")
  end
  if c.oracle then opt_sum, oracle_sum = opt_sum + c.optimised["true"], oracle_sum + c.oracle["true"] end
  opt_est_sum = opt_est_sum + c.optimised.estimated
  print(fmt("seed %d (%d active): %s; oracle true %.0f", s, nact, table.concat(line, "; "),
            c.oracle and c.oracle["true"] or 0 / 0))
  os.execute("rm -rf " .. dir)
  if arg and arg[4] then write_json(arg[4], s - first + 1) end
end
os.remove(tmp .. ".log")
for _, name in ipairs(PLANS) do print(fmt("coverage %-15s %d/%d", name, per[name][1], per[name][2])) end
print(fmt("strategy_coverage: the 90%% intervals hold the true net value in %d/%d plans (%.1f%%)",
  hit, total, 100 * hit / total))
print(fmt("strategy_coverage: net value summed over the worlds: optimised estimated %.0f, true %.0f, oracle true %.0f",
  opt_est_sum, opt_sum, oracle_sum))
