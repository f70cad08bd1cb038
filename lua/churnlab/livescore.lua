-- livescore.lua: churn risk of live customers from a saved model and its pipeline.
--
--   local LS = require "churnlab.livescore"
--   local sc = LS.new(state, cl.load("models/best.clm"), {profiles = users})
--   sc:risk(42)          -- P(churn) of customer 42 now (lazy: scored on read, cached until
--                        -- the state changes: a new event or a clock move)
--   sc:all()             -- frame user_id, risk: every active customer, in one vectorised pass
--   sc:frame()           -- the model's input frame: live features + the profile columns
--   sc:reasons(42)       -- the drivers of that risk now, in words (churnlab.explain.reasons)
--
-- The live state holds what events determine; the columns no event changes (age band, region,
-- payment method, devices, channel ...) come from `profiles`, a frame with user_id, joined in.
-- The input is built exactly as notebook 02 builds features.csv, so a customer scored live gets
-- the number the batch scoring of the same events gives (tests/lua/live.lua).
local help = require "churnlab.help"
local check = require("churnlab.options").check
local frame = require "churnlab.frame"

local LS = {}
local Scorer = {}
Scorer.__index = Scorer

function LS.new(state, model, opts)
  opts = opts or {}
  opts = check(opts, 3, "livescore.new", {"pipeline", "profiles"})
  if type(state) ~= "userdata" or not tostring(state):find("^churnlab.Live") then
    error("livescore.new: bad argument #1 (churnlab.Live expected, got " .. type(state) .. ")", 2)
  end
  local pipe = opts.pipeline or (model and model.pipeline and model:pipeline())
  if not pipe then
    error("livescore.new: the model has no pipeline attached (save it with {pipeline = p}) " ..
      "and none was given", 2)
  end
  local prof = opts.profiles
  if not prof then error("livescore.new: option 'profiles' (a frame with user_id) is required", 2) end
  if not prof:has("user_id") then error("livescore.new: profiles: no column 'user_id'", 2) end
  -- the profile columns the live state does not hold, by user id
  local live_names = {user_id = true, plan = true}
  for _, f in ipairs(require("churnlab.live").features()) do live_names[f.name] = true end
  local used = {}
  for _, src in ipairs(pipe:sources()) do used[src.column] = true end
  local keep = {"user_id"}
  for _, n in ipairs(prof:names()) do
    if not live_names[n] and used[n] then keep[#keep + 1] = n end
  end
  local row = {}
  for i, id in ipairs(prof.user_id:totable()) do row[id] = i end
  return setmetatable({state = state, model = model, pipe = pipe, profiles = prof:select(keep),
    row = row, cache = {}, key = nil}, Scorer)
end

-- The model's input for every active customer (live features joined to the profiles).
function Scorer:frame()
  return self.state:frame():join(self.profiles, "user_id")
end

-- frame user_id, risk for every active customer with a profile.
function Scorer:all()
  local F = self:frame()
  local p = self.model:predict((self.pipe:transform(F)))
  return frame.new{user_id = F.user_id:totable(), risk = p:totable()}
end

-- P(churn) of customer id now, or nil when the state does not know the customer or it has no
-- profile. Scored on read; the score is kept until the state changes.
function Scorer:risk(id)
  local key = self.state:version()
  if key ~= self.key then self.cache, self.key = {}, key end
  local v = self.cache[id]
  if v ~= nil then return v end
  local row = self:input(id)
  if not row then return nil end
  v = self.model:predict((self.pipe:transform(row))):get(1)
  self.cache[id] = v
  return v
end

-- The model's input row of customer id now (a one-row frame), or nil when unknown.
function Scorer:input(id)
  local f, i = self.state:features(id), self.row[id]
  if not f or not i then return nil end
  local t = {}
  for k, x in pairs(f) do
    if k ~= "active" then t[k] = {x} end
  end
  -- the customer's profile row keeps its column types and missing values
  return frame.new(t):join(self.profiles:take{i}, "user_id")
end

-- Why customer id's risk is what it is now: churnlab.explain.reasons on the current input
-- row ({p, base, reasons = {{column, value, points, text}}, text}); opts as there (top,
-- background for linear models, only). nil when unknown.
function Scorer:reasons(id, opts)
  local row = self:input(id)
  if not row then return nil end
  return require("churnlab.explain").reasons(self.model, self.pipe, row, opts)[1]
end

function Scorer:__tostring()
  return "churnlab.livescore (" .. tostring(self.state) .. ")"
end

help.setdoc(LS.new, "livescore.new(state, model [, {profiles = frame, pipeline = p}]) -> scorer: "
  .. "churn risk of live customers. profiles (required) gives the columns no event changes; "
  .. "the pipeline defaults to the one saved with the model.")
help.setdoc(Scorer.risk, "sc:risk(id) -> P(churn) now (scored on read, cached until the state "
  .. "changes), nil when unknown.")
help.setdoc(Scorer.input, "sc:input(id) -> one-row frame: the model's input for the customer now.")
help.setdoc(Scorer.reasons, "sc:reasons(id [, opts]) -> {p, base, reasons, text}: the top drivers "
  .. "of the customer's current risk (churnlab.explain.reasons; opts.background for linear models).")
help.setdoc(Scorer.all, "sc:all() -> frame user_id, risk for every active customer.")
help.setdoc(Scorer.frame, "sc:frame() -> the model's input frame: live features + profiles.")

return LS
