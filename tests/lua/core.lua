-- Tests of the umbrella module and churnlab.core.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

T.test("umbrella loads core", function()
  T.eq(type(cl.core), "table")
  T.eq(cl.version, cl.core.version)
  T.ok(cl.version:match("^%d+%.%d+%.%d+$"), "version looks like x.y.z")
end)

T.test("require has no side effects on globals", function()
  T.eq(rawget(_G, "cl"), nil)
end)

T.test("threads get and set", function()
  local n = cl.threads()
  T.ok(n >= 1)
  T.eq(cl.threads(1), 1)
  T.eq(cl.threads(0), n)
  T.raises(function() cl.threads(-3) end, "threads", "-3")
end)

T.test("load raises for missing and foreign files, naming them", function()
  T.raises(function() cl.load("tests/does-not-exist.clm") end,
    "tests/lua/core.lua:", "'tests/does-not-exist.clm'", "No such file or directory")
  T.raises(function() cl.load("Makefile") end, "'Makefile' is not a churnlab model file")
  T.raises(function() cl.core.model_kind("Makefile") end, "'Makefile' is not a churnlab model file")
end)

T.done()
