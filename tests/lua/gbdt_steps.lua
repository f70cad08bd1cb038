-- cl_gbdt_fit split into named steps changes nothing: the models of scripts/ref/
-- gbdt_steps_fixtures.lua, refitted now, are byte for byte the files the binary wrote before
-- the split (tests/data/gbdt_steps/, x86-64 gcc -O2 of this tree; gbdt uses no BLAS, so the
-- bytes are exact for the same toolchain: the comparison is one of integer/IEEE work done in
-- the same order).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

local dir = os.tmpname()
os.remove(dir)
T.test("refitted models equal the pre-split fixtures byte for byte", function()
  assert(os.execute("mkdir " .. dir))
  arg = {[0] = "gbdt_steps_fixtures.lua", dir}
  dofile("scripts/ref/gbdt_steps_fixtures.lua")
  for _, name in ipairs{"g1", "g2", "g3", "g4", "gw1", "gw2", "gw3", "gw4"} do
    local function bytes(p)
      local f = assert(io.open(p, "rb"))
      local s = f:read("a")
      f:close()
      return s
    end
    local a, b = bytes(dir .. "/" .. name .. ".clm"), bytes("tests/data/gbdt_steps/" .. name .. ".clm")
    T.ok(a == b, name .. ": the refitted model differs from the fixture")
    os.remove(dir .. "/" .. name .. ".clm")
  end
  os.remove(dir)
end)

T.done()
