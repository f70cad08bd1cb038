-- gen_data.lua: generates the default synthetic data set (what `make data` runs).
--
--   churnlab scripts/gen_data.lua data/synth                 -- the default set (seed 42)
--   churnlab scripts/gen_data.lua /tmp/big customers=1000000 -- any parameter as key=value
--
-- Writes titles.csv, users.csv, events.csv, ratings.csv, campaign.csv, emails.csv, truth.csv and the
-- README.md data dictionary into the directory (see data/README.md for the recipe). Same
-- parameters, same bytes, whatever the thread count.
local synth = require "churnlab.synth"

local dir = arg and arg[1]
if not dir or dir:match("^%-") then
  io.stderr:write("usage: churnlab scripts/gen_data.lua <dir> [param=value ...]\n")
  os.exit(2)
end

local params = {}
for i = 2, #arg do
  local k, v = arg[i]:match("^([%a_][%w_]*)=(.+)$")
  if not k then
    io.stderr:write(("gen_data: expected param=value, got '%s'\n"):format(arg[i]))
    os.exit(2)
  end
  params[k] = tonumber(v) or v
end

local clock0 = os.clock()
local w = synth.generate(dir, params, {verbose = 1})
local info = w:info()
print(("gen_data: %s: %d customers (%d active at the snapshot), %d events, %d ratings; "
  .. "label churn rate %.4f; %.1f s CPU"):format(dir, info.customers, info.active, info.events,
  info.ratings, info.churn_rate, os.clock() - clock0))
w:free()
