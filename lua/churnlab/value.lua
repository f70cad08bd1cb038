-- churnlab.value: what customers are worth and how segments behave.
--
--   local V = require "churnlab.value"
--   V.clv{p = 0.04, margin = 9.5, horizon = 36, discount = 0.01}   -- one customer
--   V.clv_vector(p_monthly, margin, {horizon = 36, discount = 0.01}) -- tensor of CLVs
--   V.lifetime(p_monthly)                  -- expected remaining months, 1 / p
--   V.wilson(k, n, 0.95)                   -- churn rate k/n with a Wilson interval
--   V.segment_rates(labels, churned)       -- churn rate per segment with intervals
--   V.rfm(frame, {customer = "user_id", time = "day", amount = "minutes", now = 180})
--
-- CLV model: a customer who churns each month with probability p (from a churn model's
-- monthly hazard or the survival curve's slope) survives month t with probability (1-p)^t;
-- CLV = sum over t = 1..horizon of margin (1-p)^t / (1+discount)^t (geometric, closed form).
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local error = require("churnlab.core").raise
local measure = require "churnlab.measure"
local check = require("churnlab.options").check

local V = {}

-- clv{p =, margin = [, horizon = 36, discount = 0]} -> value: one customer's lifetime value,
-- sum over months t = 1..horizon of margin (1-p)^t / (1+discount)^t (closed form); p the
-- monthly churn probability in [0, 1], margin the monthly margin, discount the monthly rate.
function V.clv(o)
  o = check(o, 1, "clv", {"p", "margin", "horizon", "discount"})
  local p, m = o.p, o.margin
  if type(p) ~= "number" or p < 0 or p > 1 then error("clv: p must be a monthly churn probability in [0, 1]", 2) end
  if type(m) ~= "number" then error("clv: margin (per month) is required", 2) end
  local h, d = o.horizon or 36, o.discount or 0
  local r = (1 - p) / (1 + d)
  if r == 1 then return m * h end
  return m * r * (1 - r ^ h) / (1 - r)
end

-- lifetime(p) -> months: the expected remaining lifetime 1 / p of a customer who churns with
-- monthly probability p (math.huge when p <= 0).
function V.lifetime(p)
  if p <= 0 then return math.huge end
  return 1 / p
end

-- clv_vector(p, margin [, {horizon = 36, discount = 0}]) -> tensor: clv for every customer;
-- p a tensor, column or list of monthly churn probabilities, margin a number for all or one
-- per customer (list or tensor).
function V.clv_vector(p, margin, opts)
  opts = check(opts, 3, "clv_vector", {"horizon", "discount"})
  local tensor = require "churnlab.tensor"
  local ps = type(p) == "table" and p or p:totable()
  local out = {}
  for i = 1, #ps do
    local pi = type(ps[i]) == "table" and ps[i][1] or ps[i]
    local mi = type(margin) == "number" and margin or margin[i] or margin:get(i)
    out[i] = V.clv{p = pi, margin = mi, horizon = opts.horizon, discount = opts.discount}
  end
  return tensor(out)
end

-- Wilson score interval for a proportion k/n.
function V.wilson(k, n, conf)
  if n <= 0 then return 0 / 0, 0 / 0, 0 / 0 end
  local z = measure.norm_ppf(0.5 + (conf or 0.95) / 2)
  local p = k / n
  local denom = 1 + z * z / n
  local centre = (p + z * z / (2 * n)) / denom
  local half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
  return p, centre - half, centre + half
end

-- Churn rate per segment label with Wilson intervals, sorted by rate (highest first).
function V.segment_rates(labels, churned, conf)
  local function list(v)
    if type(v) == "table" then return v end
    local t = v:totable()
    for i = 1, #t do if type(t[i]) == "table" then t[i] = t[i][1] end end
    return t
  end
  local l, y = list(labels), list(churned)
  if #l ~= #y then error(string.format("segment_rates: %d labels for %d outcomes", #l, #y), 2) end
  local n, k, order = {}, {}, {}
  for i = 1, #l do
    local s = l[i]
    if n[s] == nil then n[s], k[s] = 0, 0; order[#order + 1] = s end
    n[s] = n[s] + 1
    -- churned as 1/0 or as booleans (a mask, a Lua list of flags); anything else is an error,
    -- not a quiet "stayed"
    local yi = y[i]
    if yi == 1 or yi == true then
      k[s] = k[s] + 1
    elseif not (yi == 0 or yi == false) then
      error(string.format("segment_rates: outcome %d must be 0, 1 or a boolean, got %s", i,
                          type(yi) == "string" and "'" .. yi .. "'" or tostring(yi)), 2)
    end
  end
  local rows = {}
  for _, s in ipairs(order) do
    local p, lo, hi = V.wilson(k[s], n[s], conf)
    rows[#rows + 1] = {segment = s, n = n[s], churned = k[s], rate = p, lo = lo, hi = hi}
  end
  table.sort(rows, function(a, b)
    if a.rate ~= b.rate then return a.rate > b.rate end
    return tostring(a.segment) < tostring(b.segment)
  end)
  return rows
end

-- RFM from an event log frame: per customer recency (days since last event, from `now`),
-- frequency (events) and monetary (sum of `amount`), each scored 1..5 by quintile (5 best:
-- recent, frequent, high). Returns a list sorted by customer with r, f, m, score = "RFM".
function V.rfm(events, o)
  check(o, 2, "rfm", {"customer", "time", "amount", "now"})
  o = o or {}
  local cust, time, amount = o.customer, o.time, o.amount
  if not (cust and time) then error("rfm: options customer and time (column names) are required", 2) end
  local c = events[cust]:totable()
  local t = events[time]:totable()
  local a = amount and events[amount]:totable() or nil
  local now = o.now
  local agg, ids = {}, {}
  for i = 1, #c do
    local id = c[i]
    local r = agg[id]
    if not r then r = {customer = id, last = -math.huge, frequency = 0, monetary = 0}; agg[id] = r; ids[#ids + 1] = id end
    if t[i] > r.last then r.last = t[i] end
    if not now or t[i] > now then now = math.max(now or -math.huge, t[i]) end
    r.frequency = r.frequency + 1
    r.monetary = r.monetary + (a and (a[i] or 0) or 0)
  end
  local rows = {}
  for _, id in ipairs(ids) do
    local r = agg[id]
    r.recency = (o.now or now) - r.last
    rows[#rows + 1] = r
  end
  local function score(field, higher_better)
    local sorted = {}
    for i, r in ipairs(rows) do sorted[i] = r end
    table.sort(sorted, function(x, y)
      if x[field] ~= y[field] then
        if higher_better then return x[field] < y[field] else return x[field] > y[field] end
      end
      return tostring(x.customer) < tostring(y.customer)
    end)
    for rank, r in ipairs(sorted) do r[field:sub(1, 1)] = math.min(5, 1 + math.floor(5 * (rank - 1) / #sorted)) end
  end
  score("recency", false)
  score("frequency", true)
  score("monetary", true)
  for _, r in ipairs(rows) do r.score = string.format("%d%d%d", r.r, r.f, r.m) end
  table.sort(rows, function(x, y) return tostring(x.customer) < tostring(y.customer) end)
  return rows
end

return V
