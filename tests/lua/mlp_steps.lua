-- cl_mlp_fit split into named steps (epoch, batch step, validation/early stop) changes nothing:
-- the models of scripts/ref/mlp_steps_fixtures.lua, refitted now, are the files the binary
-- wrote before the split (tests/data/mlp_steps/, x86-64 gcc -O2 of this tree under OpenBLAS'
-- Haswell kernel). The MLP's products go through OpenBLAS, whose kernel differs per CPU
-- (README: across machines results agree to rounding), so the bytes are compared first and,
-- when they differ, the predictions within the 1e-5 of tests/lua/lib/steps_fixtures.lua: these
-- small nets (at most 40 epochs) moved by 1.2e-7 at most when refitted under the SkylakeX
-- kernel, while a real change of the fit (another shuffle, a lost weight decay, the wrong best
-- epoch restored) moves a probability by 1e-3 or more.
local T = dofile("tests/lua/lib/check.lua")
local S = dofile("tests/lua/lib/steps_fixtures.lua")

T.test("refitted models equal the pre-split fixtures", function()
  S.check(T, "scripts/ref/mlp_steps_fixtures.lua", "tests/data/mlp_steps",
          {"m1", "m2", "m3", "m4", "mw1", "mw2", "mw3", "mw4"})
end)

T.done()
