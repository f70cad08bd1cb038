-- cl_forest_fit_weighted split into named steps changes nothing: the forest and tree models of
-- scripts/ref/forest_steps_fixtures.lua, refitted now, are the files the binary
-- wrote before the split (tests/data/forest_steps/, x86-64 gcc -O2 of this tree; the trees use
-- no BLAS and a fit is the same at any thread count, so the bytes are exact for the same
-- toolchain; across builds predictions are compared, see tests/lua/lib/steps_fixtures.lua). The files
-- hold the OOB AUC, so the out-of-bag step is compared too.
local T = dofile("tests/lua/lib/check.lua")
local S = dofile("tests/lua/lib/steps_fixtures.lua")

T.test("refitted models equal the pre-split fixtures", function()
  S.check(T, "scripts/ref/forest_steps_fixtures.lua", "tests/data/forest_steps", {"f1", "f2", "f3", "f4", "fw1", "fw2", "fw3", "fw4"})
end)

T.done()
