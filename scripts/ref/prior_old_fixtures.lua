-- Writes tests/data/prior_old_<kind>.clm: reweighted models saved by a churnlab built before
-- models recorded their prior rates (run once with the binary of commit 0e3eddb:
--   git archive 0e3eddb | tar -x -C /tmp/old && make -C /tmp/old
--   /tmp/old/build/release/churnlab scripts/ref/prior_old_fixtures.lua
-- from the repository root). tests/lua/prior.lua loads them: old files must still load and
-- must never be prior-corrected (their rates are unknown).
local cl = require "churnlab"
local D = dofile("tests/lua/lib/prior_data.lua")
local X, y = D.make(cl, D.N)
local Xtr, ytr = X:rows(1, D.NTRAIN), y:rows(1, D.NTRAIN)
local pos = 0
for i = 1, D.NTRAIN do pos = pos + ytr:get(i) end
for _, e in ipairs(D.models(cl, (D.NTRAIN - pos) / pos)) do
  local m = e[2]()
  m:fit(Xtr, ytr)
  local path = "tests/data/prior_old_" .. e[1] .. ".clm"
  assert(m:save(path))
  print("wrote " .. path)
end
