-- Every binding with a progress reporter ends it right after the C call returns (lcl.h
-- lcl_progress_end), not when the collector gets to the reporter: with verbose = 1 the one
-- summary line must be on stderr before the call returns, after an early stop or an error
-- too. Run in child processes so stderr can be read; the garbage collector is stopped there,
-- so a reporter left open would print only at exit.
local T = dofile("tests/lua/lib/check.lua")

local exe = arg[-1]
if not exe:find("^/") then exe = os.getenv("PWD") .. "/" .. exe end

local function child(body)
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write([[
collectgarbage("stop")
local cl = require "churnlab"
local X = cl.tensor.randn(300, 4, {seed = 1})
local y = cl.tensor.zeros(300)
for i = 1, 300 do y:set(i, X:get(i, 1) + X:get(i, 2) > 0 and 1 or 0) end
local noise = cl.tensor.rand(300, 1, {seed = 2}) -- labels of a validation set nothing can learn
local yv = cl.tensor.zeros(300)
for i = 1, 300 do yv:set(i, noise:get(i, 1) < 0.5 and 1 or 0) end
local function mark(ok, err) io.stderr:write("<returned> ", tostring(ok), " ", tostring(err), "\n") end
]] .. body)
  f:close()
  local p = io.popen("'" .. exe .. "' " .. script .. " 2>&1 >/dev/null")
  local out = p:read("a")
  p:close()
  os.remove(script)
  return out
end

-- `task` is the reporter's task name in its summary line. A loop that runs to its end closes
-- its task on the last step anyway; the cases that tell are those that stop early (early
-- stopping on noise labels, convergence, an error), the others check nothing is lost.
local cases = {
  {"gbdt fit with early stopping", "gbdt", [[
local m = cl.gbdt{trees = 200, depth = 2}
mark(pcall(m.fit, m, X, y, {verbose = 1, valid = {X, yv}, early_stop = 2}))]]},
  {"forest fit", "forest", [[
local m = cl.forest{trees = 5}
mark(pcall(m.fit, m, X, y, {verbose = 1}))]]},
  {"logreg fit (converges before max_iter)", "logreg", [[
local m = cl.logreg{}
mark(pcall(m.fit, m, X, y, {verbose = 1}))]]},
  {"mlp fit with early stopping", "mlp", [[
local m = cl.mlp{hidden = {4}, epochs = 50}
mark(pcall(m.fit, m, X, y, {verbose = 1, valid = {X, yv}, early_stop = 1}))]]},
  {"plan.simulate", "simulate", [[
local p, v = {}, {}
for i = 1, 300 do p[i] = 0.3; v[i] = 100 end
local plan = {}
for i = 1, 300 do plan[i] = i % 2 end
mark(pcall(cl.plan.simulate, {p = p, value = v}, {{contact = 1, reach = 0.5, effect = 0.2}}, plan,
           {draws = 50, verbose = 1}))]]},
  {"xai.kernelshap stopped by the model's error", "kernelshap", [[
local calls = 0
local function f(Xb)
  calls = calls + 1
  if calls == 3 then error("model broke", 0) end
  return cl.tensor.zeros((Xb:shape()))
end
mark(pcall(cl.xai.kernelshap, f, X:rows(1, 5), X:rows(1, 10), {samples = 16, verbose = 1}))]]},
}

for _, c in ipairs(cases) do
  local name, task, body = c[1], c[2], c[3]
  T.test(name .. ": the summary line comes before the call returns", function()
    local out = child(body)
    local ret = out:find("<returned>", 1, true)
    T.ok(ret, "the script ran to the mark: " .. out)
    local line = out:find(task, 1, true)
    T.ok(line and line < ret, "a '" .. task .. "' summary line before <returned>: " .. out)
  end)
end

T.done()
