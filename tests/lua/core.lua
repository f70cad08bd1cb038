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

T.test("load reports missing and foreign files as nil, msg", function()
  local m, err = cl.load("tests/does-not-exist.clm")
  T.eq(m, nil)
  T.ok(err:find("does-not-exist", 1, true), err)
  local m2, err2 = cl.load("Makefile")
  T.eq(m2, nil)
  T.ok(err2:find("not a churnlab model file", 1, true), err2)
end)

T.done()
