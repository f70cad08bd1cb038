-- cl_gbdt_fit split into named steps changes nothing: the models of scripts/ref/
-- gbdt_steps_fixtures.lua, refitted now, are the files the binary wrote before
-- the split (tests/data/gbdt_steps/, x86-64 gcc -O2 of this tree; gbdt uses no BLAS, so the
-- bytes are exact for the same toolchain; across builds predictions are compared, see
-- tests/lua/lib/steps_fixtures.lua).
local T = dofile("tests/lua/lib/check.lua")
local S = dofile("tests/lua/lib/steps_fixtures.lua")

T.test("refitted models equal the pre-split fixtures", function()
  S.check(T, "scripts/ref/gbdt_steps_fixtures.lua", "tests/data/gbdt_steps", {"g1", "g2", "g3", "g4", "g5", "g6", "gw1", "gw2", "gw3", "gw4", "gw5", "gw6"})
end)

T.done()
