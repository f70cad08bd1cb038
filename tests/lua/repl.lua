-- Tests of churnlab.repl: the pretty printer, completion candidates, ':' commands.
-- (The terminal side is tested end to end by tests/e2e/repl.sh.)
local T = dofile("tests/lua/lib/check.lua")
local repl = require "churnlab.repl"
local P = repl.pretty

T.test("scalars", function()
  T.eq(P(42), "42")
  T.eq(P(1.5), "1.5")
  T.eq(P(2^63), "9.2233720368548e+18")
  T.eq(P(nil), "nil")
  T.eq(P(true), "true")
  T.eq(P("hi"), '"hi"')
  T.eq(P(1/0), "inf")
end)

T.test("strings are quoted so that they read back", function()
  T.eq(P('a"b\\c\n\t'), [["a\"b\\c\n\t"]])
  local all = {}
  for b = 0, 255 do all[#all + 1] = string.char(b) end
  local s = table.concat(all) .. "1\0002"
  T.eq(load("return " .. repl.quote(s))(), s, "every byte round-trips")
  T.eq(repl.quote("\0" .. "7"), [["\0007"]], "escape followed by a digit stays unambiguous")
end)

T.test("long strings are cut inside tables only", function()
  local long = ("x"):rep(500)
  T.eq(P(long), '"' .. long .. '"')
  local s = P({long}, {strlen = 10, width = 200})
  T.eq(s, '{"xxxxxxxxxx"...(500 bytes)}')
end)

T.test("keys sorted: list part, then numbers, strings, booleans, others", function()
  local t = {10, 20, [5] = "five", b = 2, a = 1, [true] = "t", [-1] = "m", ["not id"] = 0}
  T.eq(P(t, {width = 200}),
       '{10, 20, [-1] = "m", [5] = "five", a = 1, b = 2, ["not id"] = 0, [true] = "t"}')
  T.eq(P({["end"] = 1}), '{["end"] = 1}', "keywords are not bare keys")
end)

T.test("depth limit", function()
  local t = {a = {b = {c = {d = {}}}}}
  T.eq(P(t, {depth = 2}), "{a = {b = {...}}}")
  T.eq(P(t, {depth = 10}), "{a = {b = {c = {d = {}}}}}", "empty tables are never cut")
end)

T.test("item limit counts what is left", function()
  local t = {}
  for i = 1, 10 do t[i] = i end
  t.x = 1
  T.eq(P(t, {items = 3}), "{1, 2, 3, ...(8 more)}")
end)

T.test("cycles marked, shared tables shown each time", function()
  local t = {}
  t.me = t
  T.eq(P(t), "{me = <cycle>}")
  local shared = {1}
  T.eq(P({a = shared, b = shared}), "{a = {1}, b = {1}}")
  local a, b = {}, {}
  a.b, b.a = b, a
  T.eq(P(a), "{b = {a = <cycle>}}")
end)

T.test("one line when it fits the width, indented lines otherwise", function()
  local t = {name = "alice", tags = {"x", "y"}, n = 3}
  T.eq(P(t), '{n = 3, name = "alice", tags = {"x", "y"}}')
  T.eq(P(t, {width = 20}), '{\n  n = 3,\n  name = "alice",\n  tags = {"x", "y"}\n}')
  local list = {}
  for i = 1, 30 do list[i] = i end
  local s = P(list, {width = 30})
  for line in s:gmatch("[^\n]+") do T.ok(#line <= 30, "line too long: " .. line) end
  T.eq(s:sub(1, 16), "{\n  1, 2, 3, 4, ")
  T.ok(load("return " .. s)()[30] == 30, "a cut-free list reads back")
end)

T.test("__repl at the top level, __tostring inside tables", function()
  local mt = {__repl = function(o, w) return "FULL VIEW w=" .. w end,
              __tostring = function() return "short" end}
  local obj = setmetatable({}, mt)
  T.eq(P(obj, {width = 77}), "FULL VIEW w=77")
  T.eq(P({obj}), "{short}")
  local bad = setmetatable({}, {__repl = function() return 42 end,
                                __tostring = function() return "ts" end})
  T.ok(P(bad):find("^ts  %(__repl failed: returned number%)"), P(bad))
  local worse = setmetatable({}, {__tostring = function() error("no") end, __name = "Thing"})
  T.ok(P(worse):find("<Thing: __tostring failed", 1, true), P(worse))
end)

T.test("userdata and functions fall back to tostring", function()
  T.ok(P(io.stdout):find("^file %("), P(io.stdout))
  T.ok(P(print):find("^builtin: ") or P(print):find("^function: "), P(print))
end)

T.test("colours only when asked, and they do not change the layout", function()
  local t = {1, "a", true}
  T.eq(P(t), '{1, "a", true}')
  local c = P(t, {color = true})
  T.ok(c:find("\27[36m1\27[0m", 1, true), c)
  T.eq(c:gsub("\27%[[%d;]*m", ""), '{1, "a", true}')
  local wide = {("y"):rep(30), ("z"):rep(30)}
  T.eq(P(wide, {width = 70, color = true}):find("\n"), nil, "escape codes take no width")
  T.eq(repl.width_of("\27[32mé\27[0m"), 1)
end)

T.test("show prints every result tab-separated", function()
  local got = {}
  local real = io.stdout
  io.stdout = {write = function(_, ...) for _, s in ipairs({...}) do got[#got + 1] = s end end}
  local ok, err = pcall(repl.show, 80, false, 1, nil, "x")
  io.stdout = real
  T.ok(ok, err)
  T.eq(table.concat(got), '1\tnil\t"x"\n')
end)

T.test("format_time picks a readable unit", function()
  T.eq(repl.format_time(0.0000123), "12 us")
  T.eq(repl.format_time(0.0123), "12.3 ms")
  T.eq(repl.format_time(1.5), "1.50 s")
  T.eq(repl.format_time(185), "3m05.0s")
end)

-- completion --------------------------------------------------------------------------------

local function env()
  local methods = {sum = function() end, shape = function() end, name = "not a method"}
  local obj = setmetatable({}, {__index = methods})
  local ud_like = setmetatable({}, {__index = function() return nil end,
                                     rows = function() end, __gc = function() end})
  return {
    cl = {tensor = {zeros = 1, ones = 2, ["bad key"] = 3}, core = {}, read_csv = print},
    t = obj, u = ud_like, print = print, pairs = pairs,
    trap = setmetatable({}, {__index = function() error("never call me") end}),
  }
end

T.test("globals and keywords", function()
  local c = repl.complete("pr", env())
  T.eq(table.concat(c, " "), "print")
  c = repl.complete("fun", env())
  T.eq(table.concat(c, " "), "function")
  T.ok(#repl.complete("", env()) > 10, "empty word lists everything")
end)

T.test("fields through tables", function()
  T.eq(table.concat(repl.complete("cl.", env()), " "), "cl.core cl.read_csv cl.tensor")
  T.eq(table.concat(repl.complete("cl.tensor.", env()), " "), "cl.tensor.ones cl.tensor.zeros")
  T.eq(table.concat(repl.complete("cl.tensor.z", env()), " "), "cl.tensor.zeros")
end)

T.test("methods after ':' through __index", function()
  T.eq(table.concat(repl.complete("t:", env()), " "), "t:shape t:sum")
  T.eq(table.concat(repl.complete("t.", env()), " "), "t.name t.shape t.sum")
  T.eq(table.concat(repl.complete("u:", env()), " "), "u:rows", "__index function: metatable fields")
end)

T.test("__methods behind an __index function, __complete for fields", function()
  local m = {head = function() end, tail = function() end}
  local f = setmetatable({}, {__methods = m, __index = function(_, k) return m[k] end,
                              __complete = function() return {"churned", "plan", "not ok"} end})
  local e = {f = f}
  T.eq(table.concat(repl.complete("f:", e), " "), "f:head f:tail")
  T.eq(table.concat(repl.complete("f.", e), " "), "f.churned f.head f.plan f.tail")
  local broken = setmetatable({}, {__complete = function() error("x") end})
  T.eq(#repl.complete("b.", {b = broken}), 0, "a failing __complete is ignored")
end)

T.test("real modules: cl.core and a string's methods", function()
  local e = {cl = require "churnlab", s = "abc"}
  local c = table.concat(repl.complete("cl.core.th", e), " ")
  T.eq(c, "cl.core.threads")
  T.eq(table.concat(repl.complete("s:upp", e), " "), "s:upper")
  T.eq(table.concat(repl.complete("io.stdout:wr"), " "), "io.stdout:write")
end)

T.test("nothing for unknown names or non-names, and no calls", function()
  T.eq(#repl.complete("nope.x", env()), 0)
  T.eq(#repl.complete("cl..x", env()), 0)
  T.eq(#repl.complete("1.5", env()), 0)
  T.eq(#repl.complete("print.x", env()), 0, "functions have no fields")
  T.eq(#repl.complete("trap.x.", env()), 0, "a raising __index is survived")
  T.eq(#repl.complete("a b", env()), 0)
end)

T.test("parameter names inside a model constructor's table", function()
  local docs, params = require("churnlab.core").docs()
  local fake = function() end
  params.fakemodel = {{name = "trees"}, {name = "depth"}, {name = "threshold"}}
  local e = {cl = {fakemodel = fake}, other = 1, tx = 2}
  local ok, err = pcall(function()
    T.eq(table.concat(repl.complete("t", e, "m = cl.fakemodel{"), " "), "threshold trees")
    T.eq(table.concat(repl.complete("d", e, "m = cl.fakemodel({trees = 3, "), " "), "depth")
    T.eq(table.concat(repl.complete("t", e, "m = cl.fakemodel{trees = "), " "), "then true tx",
         "at a value: globals")
    T.eq(table.concat(repl.complete("t", e, "x = {"), " "), "then true tx", "plain table")
    T.eq(table.concat(repl.complete("o", e, "m = cl.fakemodel{"), " "), "or other",
         "no parameter matches: globals")
  end)
  params.fakemodel = nil
  T.ok(ok, err)
  T.ok(docs, "docs table")
end)

-- commands ----------------------------------------------------------------------------------

T.test(":time, :depth, :items, :quit", function()
  local saved = {timing = repl.options.timing, depth = repl.options.depth,
                 items = repl.options.items}
  repl.command(":time on")
  T.eq(repl.options.timing, true)
  repl.command(":time off")
  T.eq(repl.options.timing, false)
  repl.command(":time")
  T.eq(repl.options.timing, true, ":time toggles")
  repl.command(":depth 2")
  T.eq(repl.options.depth, 2)
  T.eq(P({a = {b = {}}}), "{a = {b = {}}}")
  T.eq(P({a = {b = {c = 1}}}), "{a = {b = {...}}}", "the pretty printer follows :depth")
  T.eq(repl.command(":depth -1"), false, "a bad value is an error")
  T.eq(repl.options.depth, 2, "bad values are refused")
  T.eq(repl.command(":time maybe"), false)
  T.eq(repl.command(":nosuch"), false)
  repl.command(":items 7")
  T.eq(repl.options.items, 7)
  T.eq(repl.command(":quit"), "quit")
  T.eq(repl.command(":help"), true)
  for k, v in pairs(saved) do repl.options[k] = v end
end)

T.test("bind pre-binds cl and help, keeping existing globals", function()
  local e = {}
  repl.bind(e)
  T.eq(e.cl, require "churnlab")
  T.eq(e.help, require("churnlab.help").help)
  local mine = {}
  local e2 = {cl = mine}
  repl.bind(e2)
  T.eq(e2.cl, mine)
end)

T.done()
