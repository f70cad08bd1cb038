-- cl_forest_fit_weighted split into named steps changes nothing: the forest and tree models of
-- scripts/ref/forest_steps_fixtures.lua, refitted now, are byte for byte the files the binary
-- wrote before the split (tests/data/forest_steps/, x86-64 gcc -O2 of this tree; the trees use
-- no BLAS and a fit is the same at any thread count, so the bytes are exact for the same
-- toolchain: the comparison is one of integer/IEEE work done in the same order). The files
-- hold the OOB AUC, so the out-of-bag step is compared too.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

local dir = os.tmpname()
os.remove(dir)
T.test("refitted models equal the pre-split fixtures byte for byte", function()
  assert(os.execute("mkdir " .. dir))
  arg = {[0] = "forest_steps_fixtures.lua", dir}
  dofile("scripts/ref/forest_steps_fixtures.lua")
  for _, name in ipairs{"f1", "f2", "f3", "f4", "fw1", "fw2", "fw3", "fw4"} do
    local function bytes(p)
      local f = assert(io.open(p, "rb"))
      local s = f:read("a")
      f:close()
      return s
    end
    local a, b = bytes(dir .. "/" .. name .. ".clm"), bytes("tests/data/forest_steps/" .. name .. ".clm")
    T.ok(a == b, name .. ": the refitted model differs from the fixture")
    os.remove(dir .. "/" .. name .. ".clm")
  end
  os.remove(dir)
end)

T.done()
