-- livemonitor.lua: monitoring aggregates of a live state, computed as it runs.
--
--   local LM = require "churnlab.livemonitor"
--   local mon = LM.new(scorer, {threshold = 0.3, reference = train_frame})
--   for day, ev, rt in world:stream{days = 30} do
--     state:ingest(ev); state:ingest(rt, {event = "rating"})
--     local snap = mon:step()      -- risk distribution, movers, drift, calibration, as of now
--   end
--
-- Each step scores every active customer (scorer:all(), one vectorised pass) and records:
--   n, mean_risk, above (customers at or above the action threshold), expected_churners (sum of
--   risks), revenue_at_risk (sum of risk x monthly price), deciles (risk at 10%, ..., 90%);
--   movers_day / movers_week: the `top` largest risk increases since the step 1 / 7 days before;
--   drift: PSI (churnlab.measure.psi, reference quantile bins) of every numeric input column
--   against `reference` (the training frame), when given;
--   calibration: every `settle_every` days the current risks are recorded as predictions of
--   churn within `horizon` days; a cancellation settles one as 1, reaching the horizon alive as
--   0, and a cohort enters the metrics when its horizon has passed (early cancellations alone
--   would bias them); brier and a 10-bin reliability table over the last `window` settled
--   predictions; outcomes_pending and cancellations_pending count the cohorts still open.
local help = require "churnlab.help"
local check = require("churnlab.options").check
local measure = require "churnlab.measure"

local LM = {}
local Monitor = {}
Monitor.__index = Monitor

local KNOWN = {"horizon", "reference", "settle_every", "threshold", "top", "window"}

function LM.new(scorer, opts)
  opts = check(opts, 2, "livemonitor.new", KNOWN)
  local m = setmetatable({scorer = scorer, state = scorer.state,
    threshold = opts.threshold or 0.5, top = opts.top or 10, horizon = opts.horizon or 30,
    settle_every = opts.settle_every or 7, window = opts.window or 20000,
    reference = opts.reference, history = {}, by_day = {}, pending = {}, settled = {},
    last_record = nil}, Monitor)
  if not (m.threshold >= 0 and m.threshold <= 1) then
    error("livemonitor.new: threshold must be in [0, 1]", 2)
  end
  return m
end

local function quantiles(sorted, qs)
  local out, n = {}, #sorted
  for i, q in ipairs(qs) do
    out[i] = n > 0 and sorted[math.max(1, math.ceil(q * n))] or 0 / 0
  end
  return out
end

local function movers(cur, prev, top)
  if not prev then return {} end
  local list = {}
  for id, r in pairs(cur) do
    local p = prev[id]
    if p then list[#list + 1] = {user_id = id, risk = r, change = r - p} end
  end
  table.sort(list, function(a, b)
    if a.change ~= b.change then return a.change > b.change end
    return a.user_id < b.user_id
  end)
  local out = {}
  for i = 1, math.min(top, #list) do out[i] = list[i] end
  return out
end

-- One monitoring step as of the state's clock; returns the step's record (also kept in
-- mon.history).
function Monitor:step()
  local now = self.state:now()
  local F = self.scorer:frame()
  local A = self.scorer:all()
  local ids, risk = A.user_id:totable(), A.risk:totable()
  local price = F.monthly_price:totable()
  local cur, sorted = {}, {}
  local sum, above, rev = 0, 0, 0
  for i = 1, #ids do
    local r = risk[i]
    cur[ids[i]] = r
    sorted[i] = r
    sum = sum + r
    if r >= self.threshold then above = above + 1 end
    if price[i] == price[i] then rev = rev + r * price[i] end
  end
  table.sort(sorted)
  local rec = {day = now, n = #ids, mean_risk = #ids > 0 and sum / #ids or 0 / 0, above = above,
    expected_churners = sum, revenue_at_risk = rev,
    deciles = quantiles(sorted, {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9}),
    movers_day = movers(cur, self.by_day[now - 1], self.top),
    movers_week = movers(cur, self.by_day[now - 7], self.top)}
  self.by_day[now] = cur
  self.by_day[now - 8] = nil

  -- drift of every numeric input against the reference
  if self.reference then
    rec.drift = {}
    local types = self.reference:types() -- name -> "num" | "cat" | "date"
    for _, n in ipairs(F:names()) do
      if types[n] == "num" and n ~= "user_id" and n ~= "churn" then
        rec.drift[n] = measure.psi(self.reference[n], F[n])
      end
    end
  end

  -- calibration: settle pending predictions, then record new ones
  -- A cancellation settles a prediction as 1 when it arrives; a prediction enters the
  -- metrics once its whole cohort (the customers scored that day) has reached the horizon, so
  -- early cancellations cannot outweigh the stayers whose outcome is not in yet.
  local keep, arrived = {}, 0
  for _, p in ipairs(self.pending) do
    if p.y == nil and cur[p.user_id] == nil then p.y = 1 end -- no longer active: cancelled
    if now >= p.day + self.horizon then
      self.settled[#self.settled + 1] = {p = p.risk, y = p.y or 0}
    else
      if p.y then arrived = arrived + 1 end
      keep[#keep + 1] = p
    end
  end
  self.pending = keep
  rec.outcomes_pending, rec.cancellations_pending = #keep, arrived
  while #self.settled > self.window do table.remove(self.settled, 1) end
  if not self.last_record or now >= self.last_record + self.settle_every then
    for i = 1, #ids do self.pending[#self.pending + 1] = {user_id = ids[i], day = now, risk = risk[i]} end
    self.last_record = now
  end
  local s = self.settled
  if #s > 0 then
    local b, bins = 0, {}
    for k = 1, 10 do bins[k] = {n = 0, mean_p = 0, rate = 0} end
    for _, x in ipairs(s) do
      b = b + (x.p - x.y) ^ 2
      local k = math.min(10, math.floor(x.p * 10) + 1)
      bins[k].n, bins[k].mean_p, bins[k].rate = bins[k].n + 1, bins[k].mean_p + x.p, bins[k].rate + x.y
    end
    for _, bin in ipairs(bins) do
      if bin.n > 0 then bin.mean_p, bin.rate = bin.mean_p / bin.n, bin.rate / bin.n end
    end
    rec.calibration = {settled = #s, brier = b / #s, reliability = bins}
  end
  self.history[#self.history + 1] = rec
  return rec
end

function Monitor:__tostring()
  return string.format("churnlab.livemonitor (%d steps)", #self.history)
end

help.setdoc(LM.new, "livemonitor.new(scorer [, opts]) -> monitor: live aggregates of a "
  .. "churnlab.livescore scorer. opts: threshold (0.5), top (10), reference (training frame, "
  .. "for PSI drift), horizon (30 days a prediction covers), settle_every (7: days between "
  .. "recorded predictions), window (20000 settled predictions kept).")
help.setdoc(Monitor.step, "mon:step() -> {day, n, mean_risk, above, expected_churners, "
  .. "revenue_at_risk, deciles, movers_day, movers_week, drift, calibration}: one step as of "
  .. "the state's clock.")

return LM
