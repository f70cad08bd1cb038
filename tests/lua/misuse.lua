-- API misuse harness: every function of every churnlab module and every method of every
-- object kind is called with wrong types, nil, NaN, inf, empty and wrong-shaped tensors and
-- frames, negative and huge sizes, callbacks that error and freed objects. Each call must
-- either work or raise a Lua error whose message is a non-empty string; it must never crash,
-- hang or return a non-string error.
--
-- Enumeration is automatic: the modules are the tables of require "churnlab"; the methods are
-- the __index / __methods tables of the metatables of objects built by the makers below AND of
-- any object a fuzzed call happens to return, so new functions and new object kinds are covered
-- without editing this file.
--
-- Each module / object kind is fuzzed in a child process (this script with --child) whose
-- working directory is a fresh temp dir (whatever a call writes by default lands there), under
-- `timeout`, so a crash or a hang is attributed to the exact call (the child records each call
-- in a progress file before making it) and the other children still run. Lua-level loops are
-- cut by a per-call debug-hook deadline. Children run with a 4 GB address-space limit (ASan:
-- allocator_may_return_null=1, max_allocation_size_mb=3072) so an absurd size is the ENOMEM
-- error a real machine gives, quickly, instead of an OOM kill or ASan's abort.
--
-- Not called: the REPL module (it drives the terminal), figure/report show (opens viewers).
-- Known bugs found by this harness and not yet fixed are listed in KNOWN (skipped calls).

local CHILD = arg and arg[1] == "--child"

-- Calls skipped: name -> reason. Keys: "module.fn" or "kind:method" or "*:method".
local SKIP = {
  ["*:show"] = "opens a viewer / spawns gnuplot",
  ["*:browse"] = "opens a browser",
  ["synth.generate"] = "every call with a string or number writes a full 50 000-customer data "
                       .. "set (seconds each); its options are checked in tests/lua/synth.lua",
}
-- Modules not fuzzed.
local SKIP_MOD = {repl = "drives the terminal (readline); covered by tests/e2e/repl.sh"}
-- Known bugs: calls skipped until fixed (each is in the hardening report). A call is skipped
-- when its label (as printed on failure) matches the predicate.
local KNOWN_CALLS = {} -- none open (fixed: l_trees.c free/tostring type checks, plot
-- calibration_curve bin validation)

local nknown = 0
local function known_call(label)
  for _, k in ipairs(KNOWN_CALLS) do if k.match(label) then return true end end
  return false
end
local KNOWN = {}

if not CHILD then
  ---------------------------------------------------------------------------- parent
  local T = dofile("tests/lua/lib/check.lua")
  local cl = require "churnlab"
  local function sh(cmd)
    local p = assert(io.popen(cmd, "r")); local s = p:read("a"); p:close(); return s
  end
  local function shq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
  local cwd = sh("pwd"):gsub("%s+$", "")
  local exe = arg and arg[-1] or "./churnlab"
  if exe:sub(1, 1) ~= "/" then exe = cwd .. "/" .. exe end
  local script = cwd .. "/tests/lua/misuse.lua"
  local tmp = sh("mktemp -d"):gsub("%s+$", "")
  local secs = tonumber(os.getenv("MISUSE_CHILD_SECONDS") or "") or 300

  local jobs = {}
  local mods = {}
  for name, v in pairs(cl) do
    if type(v) == "table" and not SKIP_MOD[name] then mods[#mods + 1] = name end
  end
  table.sort(mods)
  for _, m in ipairs(mods) do jobs[#jobs + 1] = "mod:" .. m end
  jobs[#jobs + 1] = "mod:_top" -- the umbrella's own functions (cl.load, cl.logreg ...)
  -- Object kinds from the makers (list printed by a child so there is one source of truth).
  for kind in sh(shq(exe) .. " " .. shq(script) .. " --child --kinds"):gmatch("%S+") do
    jobs[#jobs + 1] = "obj:" .. kind
  end

  local total = {fns = 0, calls = 0, errors = 0, ok = 0}
  local asan = os.getenv("ASAN_OPTIONS")
  -- Sizes a call may really allocate are capped so "2^31 floats" fails fast with ENOMEM
  -- instead of filling 8 GB of a shared machine: ulimit -v for plain builds, ASan's
  -- max_allocation_size_mb under ASan (whose shadow memory needs the address space).
  local is_asan = sh("ldd " .. shq(exe) .. " 2>/dev/null"):find("libasan", 1, true)
  local env = "ASAN_OPTIONS=" .. shq((asan and asan ~= "" and asan .. ":" or "") ..
    "allocator_may_return_null=1:max_allocation_size_mb=3072:detect_leaks=1") ..
    " OMP_NUM_THREADS=2"
  if not is_asan then env = "ulimit -v 4000000 && " .. env end
  for i, job in ipairs(jobs) do
    T.test("misuse " .. job, function()
      local dir = tmp .. "/" .. i
      local prog = dir .. ".progress"
      local out = sh("mkdir -p " .. shq(dir) .. " && cd " .. shq(dir) .. " && " .. env ..
        " timeout " .. secs .. " " .. shq(exe) .. " " .. shq(script) .. " --child " ..
        shq(job) .. " " .. shq(dir) .. " " .. shq(prog) .. " 2>&1 </dev/null; echo \"exit=$?\"")
      local rc = tonumber(out:match("exit=(%d+)%s*$"))
      local f, c, e, o = out:match("misuse: functions=(%d+) calls=(%d+) errors=(%d+) ok=(%d+)")
      local bad = {}
      for line in out:gmatch("[^\n]+") do
        if line:match("^BAD ") then bad[#bad + 1] = line end
      end
      if not f or rc ~= 0 then
        local pf = io.open(prog, "r")
        local last = pf and pf:read("a") or "?"
        if pf then pf:close() end
        T.ok(false, ("%s: child %s (exit %s) during call: %s\n%s"):format(job,
          rc == 124 and "timed out" or "crashed", tostring(rc), last, out:sub(-3000)))
      end
      T.ok(#bad == 0, job .. ":\n" .. table.concat(bad, "\n"))
      total.fns = total.fns + (tonumber(f) or 0)
      total.calls = total.calls + (tonumber(c) or 0)
      total.errors = total.errors + (tonumber(e) or 0)
      total.ok = total.ok + (tonumber(o) or 0)
    end)
  end
  os.execute("rm -rf " .. shq(tmp))
  print(("misuse total: functions=%d calls=%d (raised %d, returned %d)"):format(
    total.fns, total.calls, total.errors, total.ok))
  T.done()
  return
end

------------------------------------------------------------------------------ child
local cl = require "churnlab"
local job, dir, progfile = arg[2], arg[3], arg[4]
local T = cl.tensor
local nan, inf = 0 / 0, math.huge

-- Object makers: one small valid object of each kind (fitted where that matters).
local function small_xy()
  local rows, ys = {}, {}
  for i = 1, 12 do rows[i] = {i % 3, (i * 7) % 5, i / 4}; ys[i] = i % 2 end
  return T.new(rows), T.new(ys)
end
local function inter()
  return cl.rec.interactions{users = {1, 1, 2, 2, 3, 3, 4}, items = {1, 2, 2, 3, 1, 3, 4}}
end
local function fitted(m, ...) m:fit(...); return m end
local makers = {
  tensor = function() return T.new{{1, 2}, {3, 4}, {5, 6}} end,
  tensor1d = function() return T.new{1, 0, 1} end,
  frame = function() return cl.frame.new{a = {1, 2, 3}, b = {"x", "y", "x"}, c = {0, 1, 0}} end,
  pipeline = function()
    local p = cl.prep.pipeline{target = "c"}
    p:fit(cl.frame.new{a = {1, 2, 3}, b = {"x", "y", "x"}, c = {0, 1, 0}})
    return p
  end,
  logreg = function() local X, y = small_xy(); return fitted(cl.logreg{}, X, y) end,
  mlp = function() local X, y = small_xy(); return fitted(cl.mlp{hidden = {2}, epochs = 1}, X, y) end,
  gbdt = function() local X, y = small_xy(); return fitted(cl.gbdt{trees = 2, depth = 2}, X, y) end,
  forest = function() local X, y = small_xy(); return fitted(cl.forest{trees = 2, depth = 2}, X, y) end,
  tree = function() local X, y = small_xy(); return fitted(cl.tree{depth = 2}, X, y) end,
  logreg_unfitted = function() return cl.logreg{} end,
  gbdt_unfitted = function() return cl.gbdt{} end,
  interactions = inter,
  popular = function() return fitted(cl.rec.popular{}, inter()) end,
  itemknn = function() return fitted(cl.rec.itemknn{k = 2}, inter()) end,
  mf = function() return fitted(cl.rec.mf{factors = 2, epochs = 1}, inter()) end,
  als = function() return fitted(cl.rec.als{factors = 2, iters = 1}, inter()) end,
  als_unfitted = function() return cl.rec.als{} end,
  content = function()
    return fitted(cl.rec.content{features = T.new{{1, 0}, {0, 1}, {1, 1}, {0, 0}},
                                 items = {1, 2, 3, 4}}, inter())
  end,
  hybrid = function()
    return fitted(cl.rec.hybrid{{cl.rec.als{factors = 2, iters = 1}, 0.5},
                                {cl.rec.popular{}, 0.5}}, inter())
  end,
  platt = function() return fitted(cl.calibrate.platt(), {0.1, 0.4, 0.6, 0.9}, {0, 1, 0, 1}) end,
  isotonic = function() return fitted(cl.calibrate.isotonic(), {0.1, 0.4, 0.6, 0.9}, {0, 1, 0, 1}) end,
  kmeans = function() local X = small_xy(); return fitted(cl.cluster.kmeans{k = 2, seed = 1}, X) end,
  report = function() return cl.report.new{title = "misuse", out = dir .. "/r.html"} end,
  figure = function() return cl.plot.line{{x = {1, 2, 3}, y = {1, 4, 9}}} end,
}

if arg[2] == "--kinds" then
  local ks = {}
  for k in pairs(makers) do ks[#ks + 1] = k end
  table.sort(ks)
  print(table.concat(ks, " "))
  return
end

-- Values passed in every argument position.
local function freed(make)
  local ok, o = pcall(make)
  if not ok then return nil end
  local mt = getmetatable(o)
  local fr = mt and (type(mt.__index) == "table" and mt.__index.free or mt.__close)
  if fr then pcall(fr, o) end
  return o
end
local function pool()
  local v = {
    {"nil", nil}, {"true", true}, {"0", 0}, {"-1", -1}, {"1", 1}, {"3", 3}, {"2^31", 2 ^ 31},
    {"2^40", 1 << 40}, {"2^62", 1 << 62}, {"maxint", math.maxinteger}, {"minint", math.mininteger},
    {"0.5", 0.5}, {"-0.5", -0.5}, {"nan", nan}, {"inf", inf}, {"-inf", -inf}, {"1e308", 1e308},
    {"denormal", 5e-324}, {"''", ""}, {"'tmp/s'", dir .. "/s"}, {"'0'", "0"},
    {"{}", {}}, {"{1,2,3}", {1, 2, 3}}, {"{{1,2},{3,4}}", {{1, 2}, {3, 4}}}, {"{nan}", {nan}},
    {"{x=nan}", {x = nan, k = -1, n = 1 << 62}}, {"{'a'}", {"a"}},
    {"fn", function() return 1 end}, {"fn-error", function() error("boom") end},
    {"coroutine", coroutine.create(function() end)},
  }
  local function add(name, make)
    local ok, o = pcall(make)
    if ok and o ~= nil then v[#v + 1] = {name, o} end
  end
  add("tensor0", function() return T.zeros(0) end)
  add("tensor0x3", function() return T.zeros(0, 3) end)
  add("tensor3", function() return T.new{1, 0, 1} end)
  add("tensor3x2", function() return T.new{{1, 2}, {3, 4}, {5, 6}} end)
  add("tensor-nan", function() return T.new{{nan, inf}, {-inf, 1e38}} end)
  add("tensor-view", function() return T.new{{1, 2}, {3, 4}}:t() end)
  add("frame0", function() return cl.frame.new{} end)
  add("frame", makers.frame)
  add("logreg", makers.logreg_unfitted)
  add("interactions", inter)
  local ft = freed(makers.tensor); if ft then v[#v + 1] = {"freed-tensor", ft} end
  local ff = freed(makers.frame); if ff then v[#v + 1] = {"freed-frame", ff} end
  local fm = freed(makers.logreg); if fm then v[#v + 1] = {"freed-logreg", fm} end
  return v
end

local P = pool()
local rng = 12345
local function rand(n) rng = (rng * 1103515245 + 12345) % 2147483648; return rng % n + 1 end

local ncalls, nerr, nok, nfns = 0, 0, 0, 0
local seen_mt = {}
local pending = {} -- objects returned by calls whose kind is not fuzzed yet
-- MISUSE_FULL=1: every pool value twice, 40 random pairs and 20 triples per function (about
-- 170 000 calls, ~9 min on 2 loaded cores); default: 12 pairs and 6 triples (the CI size).
local FULL = os.getenv("MISUSE_FULL") == "1"
local CALL_SECONDS = tonumber(os.getenv("MISUSE_CALL_SECONDS") or "") or 10
local now = cl.core.now -- wall clock: a loaded machine must not stretch the limit

local progf = io.open(progfile, "w")
local function progress(what)
  if progf then
    progf:seek("set", 0)
    progf:write(what, "\n", string.rep(" ", 120))
    progf:flush()
  end
end

local function note_result(...)
  for i = 1, select("#", ...) do
    local r = select(i, ...)
    local mt = (type(r) == "userdata" or type(r) == "table") and getmetatable(r)
    if type(mt) == "table" and not seen_mt[mt] and (type(mt.__index) == "table"
        or type(mt.__methods) == "table") then
      pending[#pending + 1] = r
      seen_mt[mt] = "pending"
    end
  end
end

local function call(label, f, ...)
  if known_call(label) then nknown = nknown + 1; return end
  ncalls = ncalls + 1
  progress(label)
  local deadline = now() + CALL_SECONDS
  debug.sethook(function()
    if now() > deadline then
      debug.sethook()
      error("misuse: call exceeded " .. CALL_SECONDS .. " s", 2)
    end
  end, "", 100000)
  local res = table.pack(pcall(f, ...))
  debug.sethook()
  if res[1] then
    nok = nok + 1
    if #pending < 50 then note_result(table.unpack(res, 2, res.n)) end
  else
    nerr = nerr + 1
    local e = res[2]
    if type(e) ~= "string" or e == "" then
      print(("BAD %s: raised a non-string error (%s)"):format(label, tostring(e)))
    elseif e:find("misuse: call exceeded", 1, true) then
      print(("BAD %s: hang (%s)"):format(label, e))
    end
  end
  -- A fit on garbage may leave big objects around: keep memory flat.
  if ncalls % 50 == 0 then collectgarbage() end
end

local function desc(args, n)
  local t = {}
  for i = 1, n do t[i] = args[i] end
  return table.concat(t, ", ")
end

-- Calls f with: nothing, each pool value, each pool value twice, random pairs and triples;
-- `self` (a function returning a fresh receiver) is prepended when given.
local function fuzz(label, f, self)
  nfns = nfns + 1
  local function go(names, ...)
    if self then
      local ok, o = pcall(self)
      if not ok then return end
      call(label .. "(<self>" .. (names ~= "" and ", " .. names or "") .. ")", f, o, ...)
    else
      call(label .. "(" .. names .. ")", f, ...)
    end
  end
  go("")
  for _, a in ipairs(P) do go(a[1], a[2]) end
  if FULL then
    for _, a in ipairs(P) do go(a[1] .. ", " .. a[1], a[2], a[2]) end
  end
  for _ = 1, FULL and 40 or 12 do
    local a, b = P[rand(#P)], P[rand(#P)]
    go(a[1] .. ", " .. b[1], a[2], b[2])
  end
  for _ = 1, FULL and 20 or 6 do
    local a, b, c = P[rand(#P)], P[rand(#P)], P[rand(#P)]
    go(desc({a[1], b[1], c[1]}, 3), a[2], b[2], c[2])
  end
  if self then -- wrong receivers: nil, a number, another kind, a freed object of this kind
    for _, a in ipairs(P) do call(label .. "(self=" .. a[1] .. ")", f, a[2]) end
    local ok, o = pcall(self)
    if ok then
      local mt = getmetatable(o)
      local fr = type(mt) == "table" and (type(mt.__index) == "table" and mt.__index.free or mt.__close)
      if fr then
        pcall(fr, o)
        call(label .. "(<freed self>)", f, o)
        for i, a in ipairs(P) do
          if FULL or i % 4 == 0 then call(label .. "(<freed self>, " .. a[1] .. ")", f, o, a[2]) end
        end
        pcall(fr, o) -- a double free is a no-op
      end
    end
  end
end

local function skipped(key, kind, m)
  return SKIP[key] or KNOWN[key] or (m and (SKIP["*:" .. m] or KNOWN["*:" .. m]))
end

-- Every method and metamethod of the kind of `make()`.
local function fuzz_methods(kind, make)
  local ok, o = pcall(make)
  if not ok or o == nil then
    print(("BAD %s: maker failed: %s"):format(kind, tostring(o)))
    return
  end
  local mt = getmetatable(o)
  if type(mt) ~= "table" then return end
  seen_mt[mt] = true
  local methods = {}
  for _, tname in ipairs{"__index", "__methods"} do
    if type(mt[tname]) == "table" then
      for k, v in pairs(mt[tname]) do
        if type(v) == "function" and type(k) == "string" then methods[k] = v end
      end
    end
  end
  local names = {}
  for k in pairs(methods) do names[#names + 1] = k end
  table.sort(names)
  for _, m in ipairs(names) do
    if not skipped(kind .. ":" .. m, kind, m) then fuzz(kind .. ":" .. m, methods[m], make) end
  end
  -- Metamethods: indexing, arithmetic, length, tostring with every pool value.
  local binops = {"__add", "__sub", "__mul", "__div", "__pow", "__eq", "__lt", "__le", "__concat",
                  "__idiv", "__mod", "__band"}
  for _, mm in ipairs(binops) do
    if mt[mm] then
      nfns = nfns + 1
      for _, a in ipairs(P) do
        call(kind .. " " .. mm .. " " .. a[1], mt[mm], make(), a[2])
        call(a[1] .. " " .. mm .. " " .. kind, mt[mm], a[2], make())
      end
    end
  end
  for _, mm in ipairs{"__len", "__tostring", "__unm", "__repl", "__call"} do
    if type(mt[mm]) == "function" then
      nfns = nfns + 1
      call(kind .. " " .. mm, mt[mm], make())
      for _, a in ipairs(P) do call(kind .. " " .. mm .. "(" .. a[1] .. ")", mt[mm], a[2]) end
    end
  end
  if type(mt.__index) == "function" then
    nfns = nfns + 1
    for _, a in ipairs(P) do call(kind .. "[" .. a[1] .. "]", mt.__index, make(), a[2]) end
  end
  if type(mt.__newindex) == "function" then
    nfns = nfns + 1
    for _, a in ipairs(P) do
      for _, b in ipairs{P[rand(#P)], P[rand(#P)], {"1", 1}, {"'a'", "a"}} do
        call(kind .. "[" .. a[1] .. "] = " .. b[1], mt.__newindex, make(), a[2], b[2])
      end
    end
  end
end

local function drain_pending()
  local i = 1
  while i <= #pending do
    local o = pending[i]
    local mt = getmetatable(o)
    if seen_mt[mt] == "pending" then
      local kind = (type(mt.__name) == "string" and mt.__name or "returned") .. "@" .. job
      fuzz_methods(kind, function() return o end)
    end
    i = i + 1
  end
end

local threads0 = cl.core.threads()
local kind, name = job:match("^(%a+):(.+)$")
if kind == "mod" then
  local mod
  if name == "_top" then
    mod = {}
    for k, v in pairs(cl) do if type(v) == "function" then mod[k] = v end end
  else
    mod = cl[name]
  end
  local fns = {}
  for k, v in pairs(mod) do
    if type(v) == "function" and type(k) == "string" then fns[#fns + 1] = k end
  end
  table.sort(fns)
  for _, fname in ipairs(fns) do
    local key = (name == "_top" and "cl" or name) .. "." .. fname
    if not skipped(key) then fuzz(key, mod[fname]) end
  end
  -- Tables of functions one level down (cl.report.Report, cl.plot.Figure ...).
  for k, v in pairs(mod) do
    if type(v) == "table" and type(k) == "string" and not k:match("^_") then
      for fk, fv in pairs(v) do
        if type(fv) == "function" and type(fk) == "string" then
          local key = name .. "." .. k .. "." .. fk
          if not skipped(key) then fuzz(key, fv) end
        end
      end
    end
  end
  drain_pending()
elseif kind == "obj" then
  fuzz_methods(name, makers[name])
else
  error("bad job " .. tostring(job))
end
cl.core.threads(threads0)
collectgarbage()
print(("misuse: functions=%d calls=%d errors=%d ok=%d known=%d"):format(nfns, ncalls, nerr,
  nok, nknown))
