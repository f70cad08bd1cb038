-- Tests of churnlab.help: the text help() prints, from the real registry (churnlab.core's
-- docs) and from a stand-in registry for model kinds (no model is built in this test).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local H = require "churnlab.help"

local function lines_fit(s, width)
  for line in s:gmatch("[^\n]+") do
    if #line > width then return false, line end
  end
  return true
end

T.test("overview lists the modules present, with blurbs and shortcuts", function()
  local s = H.text(nil, 0)
  T.ok(s:find("churnlab " .. cl.version, 1, true), s)
  T.ok(s:find("\n  cl%.core +version, threads"), s)
  T.ok(s:find("cl.repl", 1, true), s)
  local shortcuts = (s:match("Shortcuts:(.-)\n\n") or ""):gsub("%s+", " ")
  T.ok(shortcuts:find("cl.load", 1, true), s)
  T.ok(shortcuts:find("cl.threads", 1, true), s)
  T.ok(lines_fit(s, 80))
  T.eq(H.text(cl), s, "help(cl) is the overview")
end)

T.test("a documented churnlab function", function()
  local s = H.text(cl.core.threads)
  T.eq(s:match("^[^\n]+"), "cl.threads", "named by its shortcut")
  T.ok(s:find("threads([n]) -> n: sets", 1, true), s)
  T.ok(lines_fit(s, 80))
  T.ok(lines_fit(H.text(cl.core.threads, 1, nil, 40), 40), "wraps to the width asked")
end)

T.test("a module lists its functions with signatures", function()
  local s = H.text(cl.core)
  T.ok(s:find("^cl.core: version, threads"), s)
  T.ok(s:find("\n  load +load%(path%) %-> model\n"), s)
  T.ok(s:find('version = "' .. cl.version .. '"', 1, true), s)
end)

T.test("Lua's own functions point to the manual; others say where they are", function()
  T.eq(H.text(print), "print: a Lua standard function; see " ..
                      "https://www.lua.org/manual/5.4/manual.html#pdf-print")
  T.ok(H.text(string.format):find("#pdf-string.format", 1, true))
  local function mine() end
  T.ok(H.text(mine):find("^a Lua function defined at .*help%.lua:%d+"), H.text(mine))
end)

T.test("nil, plain values and unknown names", function()
  T.ok(H.text(nil, 1):find("is the name spelled right", 1, true))
  T.eq(H.text(42), "a number: 42")
  T.ok(H.text({1, 2}):find("plain table with 2 entries", 1, true))
  T.ok(H.text("no_such_thing"):find("no help for 'no_such_thing'", 1, true))
end)

T.test("names: paths, shortcuts and bare function names", function()
  T.eq(H.text("core.threads"), H.text(cl.core.threads))
  T.eq(H.text("cl.threads"), H.text(cl.core.threads))
  T.ok(H.text("model_kind"):find("^cl.core.model_kind\n"), H.text("model_kind"))
end)

-- A stand-in registry with one model kind, shaped like lcl_register_params' output.
local function fake()
  local ctor = function() end
  local fit, predict = function() end, function() end
  local params = {gbdt = {
    {name = "trees", type = "int", default = 100, min = 1, max = 100000,
     doc = "number of boosting rounds"},
    {name = "lr", type = "number", default = 0.1, min = 0, max = 1, doc = "learning rate"},
    {name = "objective", type = "choice", default = "logistic", choices = "logistic|squared",
     doc = "loss to minimise"},
    {name = "hidden", type = "list", default = 64, min = 1, max = 4096, doc = "layer sizes"},
    {name = "verbose", type = "boolean", default = false, doc = ""},
    {name = "seed", type = "seed", default = 42, doc = "random seed"},
  }}
  local docs = {[ctor] = "gbdt{params} -> model: gradient-boosted trees.",
                [fit] = "fit(X, y[, opts]) -> model: trains on a tensor.",
                ["churnlab.GBDT"] = "A gradient-boosted tree ensemble."}
  local mt = {__name = "churnlab.GBDT", __index = {fit = fit, predict = predict}}
  local root = {version = "9.9.9", gbdt = ctor, trees = {gbdt = ctor}}
  return {docs = docs, params = params, root = root}, ctor, setmetatable({}, mt)
end

local TABLE = table.concat({
  "gbdt parameters (gbdt{name = value, ...}):",
  "  name       type     default   range             doc",
  "  trees      int      100       1 .. 100000       number of boosting rounds",
  "  lr         number   0.1       0 .. 1            learning rate",
  "  objective  choice   logistic  logistic|squared  loss to minimise",
  "  hidden     list     {...}     {1 .. 4096, ...}  layer sizes",
  "  verbose    boolean  false     true|false",
  "  seed       seed     42        any               random seed"}, "\n")

T.test("a model constructor: doc and parameter table", function()
  local src, ctor = fake()
  local s = H.text(ctor, 1, src)
  T.eq(s, "cl.gbdt\n  gbdt{params} -> model: gradient-boosted trees.\n\n" .. TABLE)
end)

T.test("a model object: type, doc, parameters, methods", function()
  local src, _, obj = fake()
  local s = H.text(obj, 1, src)
  T.eq(s, "churnlab.GBDT\n  A gradient-boosted tree ensemble.\n\n" .. TABLE ..
          "\n\nmethods (obj:name(...)):\n  fit      fit(X, y[, opts]) -> model\n  predict")
end)

T.test("a model kind by name", function()
  local src = fake()
  T.eq(H.text("gbdt", 1, src), H.text(src.root.gbdt, 1, src))
  T.eq(H.params_text("gbdt", src.params.gbdt), TABLE)
end)

T.test("a narrow terminal puts each parameter's doc under its row", function()
  local src = fake()
  local s = H.params_text("gbdt", src.params.gbdt, 50)
  T.ok(lines_fit(s, 50), s)
  T.ok(s:find("\n  trees      int      100       1 .. 100000\n      number of boosting rounds\n",
              1, true), s)
  T.ok(s:find("verbose    boolean  false     true|false\n  seed", 1, true), "no empty doc line")
end)

T.test("methods behind an __index function come from __methods", function()
  local docs = {}
  local m = {head = function() end, tail = function() end}
  local obj = setmetatable({}, {__name = "churnlab.Frame", __methods = m,
                                __index = function(_, k) return m[k] end})
  local s = H.text(obj, 1, {docs = docs, params = {}, root = {}})
  T.eq(s, "churnlab.Frame\n\nmethods (obj:name(...)):\n  head tail")
end)

T.test("a method is named by its metatable in the registry", function()
  local poke = function() end
  local reg = debug.getregistry()
  reg["churnlab.TestThing"] = {__name = "churnlab.TestThing", __index = {poke = poke}}
  local s = H.text(poke, 1, {docs = {}, params = {}, root = {}})
  reg["churnlab.TestThing"] = nil
  T.eq(s, "churnlab.TestThing:poke: no documentation yet")
end)

T.test("Lua functions: the comment above the definition is the doc", function()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("-- ---- a section rule, not part of the doc ----\n",
          "-- Doubles v.\n--   (Twice.)\nlocal function dbl(v) return 2 * v end\n",
          "local x = 1\nlocal function bare() end\nreturn dbl, bare\n")
  f:close()
  local dbl, bare = dofile(path)
  local doc = H.comment_doc(dbl)
  local s = H.text(dbl, 1, {docs = {}, params = {}, root = {}})
  os.remove(path)
  T.eq(doc, "Doubles v.   (Twice.)")
  T.eq(H.comment_doc(bare), nil, "no comment, no doc (and no file now)")
  T.ok(s:find("^a Lua function defined at .*:4\n  Doubles v%. %(Twice%.%)$"), s)
  local q = H.text(require("churnlab.repl").quote)
  T.ok(q:find("^cl%.repl%.quote\n  A Lua string literal for s that reads back to s%."), q)
end)

T.test("a Lua module: its header comment and its functions' comments", function()
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write("-- churnlab.fake: a module for this test.\n-- Second line.\n--\n-- Details.\n",
          "local M = {}\n-- Adds one.\nfunction M.inc(x) return x + 1 end\n",
          "function M.bare() end\nreturn M\n")
  f:close()
  local mod = dofile(path)
  local header = H.module_header(mod)
  local s = H.text(mod, 1, {docs = {}, params = {}, root = {fake = mod}})
  os.remove(path)
  T.eq(header, "a module for this test. Second line.")
  T.eq(s, "cl.fake: a module for this test. Second line.\n  bare\n  inc   Adds one.")
end)

T.test("the embedded copy of a module is reachable (installed binaries)", function()
  local get = debug.getregistry()["churnlab.embedded_source"]
  T.eq(type(get), "function")
  T.ok(get("lua/churnlab/help.lua"):find("churnlab.help", 1, true))
  T.eq(get("lua/churnlab/nope.lua"), nil)
end)

T.test("setdoc documents a value for help()", function()
  local f = function() end
  T.eq(H.setdoc(f, "f() -> nothing: a test function."), f)
  T.ok(H.text(f):find("  f() -> nothing: a test function.", 1, true), H.text(f))
  require("churnlab.core").docs()[f] = nil
end)

T.test("summary and wrap", function()
  T.eq(H.summary("zeros(r[, c]) -> tensor: a tensor of zeros.", 80), "zeros(r[, c]) -> tensor")
  T.eq(H.summary("Loads things. Then more.", 80), "Loads things.")
  T.eq(H.summary("box{ {values=}, ... } draws boxes. More.", 80), "box{ {values=}, ... } draws boxes.")
  T.eq(H.summary(("word "):rep(30), 20), "word word word wo...")
  local w = H.wrap(("abc "):rep(40), 30, "  ")
  T.ok(lines_fit(w, 30), w)
  T.eq(select(2, w:gsub("abc", "")), 40, "no word lost")
end)

T.test("help() prints and cl.help is callable", function()
  local got = {}
  local real = io.stdout
  io.stdout = {write = function(_, ...) for _, s in ipairs({...}) do got[#got + 1] = s end end}
  local ok, err = pcall(function()
    H.help(cl.core.memory)
    cl.help()
  end)
  io.stdout = real
  T.ok(ok, err)
  local s = table.concat(got)
  T.ok(s:find("memory() -> bytes, peak", 1, true), s)
  T.ok(s:find("Modules (help(cl.<name>) for each)", 1, true), s)
end)

T.test("frame methods are found and named (help(df.filter) used to crash)", function()
  local df = cl.frame{a = {1, 2, 3}}
  local ok, s = pcall(H.text, df.filter)
  T.ok(ok, s)
  T.eq(s:match("^[^\n]+"), "churnlab.Frame:filter")
end)

T.test("a method shared by several classes names every one of them", function()
  local s = H.text(cl.gbdt{}.shap)
  T.eq(s:match("^[^\n]+"), "churnlab.Forest:shap, churnlab.GBDT:shap, churnlab.Tree:shap")
end)

T.done()
