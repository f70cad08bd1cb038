-- Lua callbacks under C loops: a model's predict called by permutation importance, ICE,
-- KernelSHAP and LIME while the core holds C buffers. An error in the callback (the model's
-- own, or Ctrl-C's "interrupted!") must reach the caller unchanged, and every C byte the core
-- held must be freed (cl.core.memory() back to where it was).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local E = require "churnlab.explain"
local xai = require "churnlab.xai"

local n, d = 60, 3
local X = cl.tensor.randn(n, d, {seed = 11})
local y = {}
for i = 1, n do y[i] = X:get(i, 1) > 0 and 1 or 0 end
local bg = X:rows(1, 10)

local function good(Xb)
  local r = Xb:shape()
  local p = cl.tensor.zeros(r)
  for i = 1, r do p:set(i, 1 / (1 + math.exp(-Xb:get(i, 1)))) end
  return p
end

-- A predict function that raises `err` on its k-th call (and works before).
local function failing(k, err)
  local calls = 0
  return function(Xb)
    calls = calls + 1
    if calls == k then error(err, 0) end
    return good(Xb)
  end
end

local function settle()
  collectgarbage(); collectgarbage()
  return (cl.core.memory())
end

-- Every entry point, run with model `m`, and how many predict calls it makes at least.
local runs = {
  {"xai.permutation", function(m) return xai.permutation(m, X, y, {repeats = 2}) end, 2},
  {"xai.ice", function(m) return xai.ice(m, X, 1, {-1, 0, 1}) end, 2},
  {"xai.kernelshap", function(m) return xai.kernelshap(m, X:rows(1, 3), bg, {samples = 32}) end, 2},
  {"xai.lime", function(m) return xai.lime(m, X:rows(1, 1), bg, {samples = 50}) end, 1},
  {"explain.importance", function(m) return E.importance(m, X, y, {repeats = 2}) end, 2},
  {"explain.pdp", function(m) return E.pdp(m, X, 2, {grid = 4}) end, 2},
  {"explain.shap", function(m) return E.shap(m, X:rows(1, 3), {background = bg, samples = 32}) end, 2},
  {"explain.lime", function(m) return E.lime(m, X:rows(1, 1), bg, {samples = 50}) end, 1},
}

for _, r in ipairs(runs) do
  local name, run, calls = r[1], r[2], r[3]
  T.test(name .. " works with the good model (sanity)", function()
    T.ok(run(good) ~= nil)
  end)
  for k = 1, calls do
    T.test(name .. ": the model's own error on call " .. k .. ", no C memory kept", function()
      local before = settle()
      local ok, err = pcall(run, failing(k, "model exploded on call " .. k))
      T.eq(ok, false)
      T.eq(err, "model exploded on call " .. k) -- unchanged: no prefix, no position
      T.eq(settle(), before, "cl.core.memory() after the error")
    end)
  end
  T.test(name .. ": Ctrl-C's 'interrupted!' comes through as is", function()
    local before = settle()
    local ok, err = pcall(run, failing(calls, "interrupted!"))
    T.eq(ok, false)
    T.eq(err, "interrupted!")
    T.eq(settle(), before)
  end)
end

T.test("a non-string error object is re-raised as the same object", function()
  local obj = setmetatable({code = 42}, {__tostring = function() return "custom error" end})
  local before = settle()
  local ok, err = pcall(xai.permutation, failing(3, obj), X, y, {repeats = 2})
  T.eq(ok, false)
  T.ok(rawequal(err, obj), "the error object itself")
  T.eq(settle(), before)
end)

T.test("a model object whose predict raises: its message, not a wrapper's", function()
  local m = {}
  function m:predict(Xb)
    if Xb:shape() > 0 then error("predict: no such column 'tenure'", 0) end
  end
  local before = settle()
  T.eq(select(2, pcall(xai.kernelshap, m, X:rows(1, 2), bg, {samples = 32})),
       "predict: no such column 'tenure'")
  T.eq(settle(), before)
end)

T.test("an error raised while looking predict up (__index) is caught too", function()
  -- check_model looks predict up once; the k-th lookup after that raises inside the C loop
  local lookups = 0
  local m = setmetatable({}, {__index = function(_, key)
    if key ~= "predict" then return nil end
    lookups = lookups + 1
    if lookups == 3 then error("lookup failed", 0) end
    return function(_, Xb) return good(Xb) end
  end})
  local before = settle()
  T.eq(select(2, pcall(xai.permutation, m, X, y, {repeats = 2})), "lookup failed")
  T.eq(settle(), before)
end)

T.test("a bad return value is a clear error, memory freed", function()
  local before = settle()
  T.raises(function() xai.ice(function() return 1 end, X, 1, {0, 1}) end,
           "predict must return a tensor of 60 values, got number")
  T.raises(function() xai.permutation(function() return cl.tensor.zeros(3) end, X, y) end,
           "predict must return a tensor of 60 values, got another size")
  T.raises(function() xai.lime({}, X:rows(1, 1), bg) end, "a model with a predict method")
  T.eq(settle(), before)
end)

T.test("after a failed call the same inputs work again", function()
  pcall(xai.kernelshap, failing(1, "boom"), X:rows(1, 2), bg, {samples = 32})
  local phi = xai.kernelshap(good, X:rows(1, 2), bg, {samples = 32})
  local _, w = phi:shape()
  T.eq(w, d + 1)
  local s = 0
  for k = 1, w do s = s + phi:get(1, k) end
  T.near(s, good(X:rows(1, 1)):get(1), 1e-5)
end)

-- Runs a Lua chunk in a child churnlab; returns its stderr.
local function child(src)
  local exe = arg[-1]
  if not exe:find("^/") then exe = os.getenv("PWD") .. "/" .. exe end
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(src)
  f:close()
  local p = io.popen("'" .. exe .. "' " .. script .. " 2>&1 >/dev/null")
  local out = p:read("a")
  p:close()
  os.remove(script)
  return out
end

-- A real SIGINT while predict runs: the host's hook raises "interrupted!" inside the model
-- function, under the C loop; it must come out of the explain call, memory all freed.
T.test("Ctrl-C (SIGINT) inside predict: 'interrupted!' comes out, memory freed", function()
  local out = child([[
local cl = require "churnlab"
local X = cl.tensor.randn(200, 3, {seed = 1})
local y = {}
for i = 1, 200 do y[i] = i % 2 end
local pid = io.popen("echo $PPID"):read("l") -- the shell's parent: this process
collectgarbage(); collectgarbage()
local m0 = cl.core.memory()
local calls = 0
local function m(Xb)
  calls = calls + 1
  if calls == 3 then
    local p = io.popen("kill -INT " .. pid); p:close()
    for _ = 1, 1e8 do end -- the hook fires here
  end
  return cl.tensor.zeros((Xb:shape()))
end
local ok, err = pcall(cl.xai.permutation, m, X, y, {repeats = 2})
collectgarbage(); collectgarbage()
io.stderr:write("ok=", tostring(ok), " err=", tostring(err), " calls=", calls,
                " delta=", cl.core.memory() - m0, "\n")
]])
  local prefix = out:match("ok=false err=([^\n]-)interrupted! calls=3 delta=0")
  T.ok(prefix, "interrupted at call 3, nothing kept: " .. out)
  T.ok(not prefix:find("failed", 1, true), "the hook's own message, unwrapped: " .. out)
end)

-- In a child process, so stderr can be read: with verbose = 1 the reporter prints its one
-- summary line when the task ends; it must end before the error reaches the caller, not
-- when the collector gets round to it.
T.test("an error inside the callback closes the progress bar before it is raised", function()
  local out = child([[
local cl = require "churnlab"
local X = cl.tensor.randn(40, 3, {seed = 1})
local y = {}
for i = 1, 40 do y[i] = i % 2 end
local calls = 0
local function m(Xb)
  calls = calls + 1
  if calls == 3 then error("stop here", 0) end
  return cl.tensor.zeros((Xb:shape()))
end
local ok, err = pcall(cl.xai.permutation, m, X, y, {repeats = 1, verbose = 1})
io.stderr:write("<after> ", tostring(err), "\n")
collectgarbage()
]])
  local bar = out:find("permutation importance", 1, true)
  local after = out:find("<after> stop here", 1, true)
  T.ok(after, "the error came through: " .. out)
  T.ok(bar and bar < after, "summary line before the error reached the caller: " .. out)
end)

T.done()
