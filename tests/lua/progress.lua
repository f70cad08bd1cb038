-- Tests of the progress reporter (lcl_progress_new in lua/support/progress.c) through a binding that uses
-- it (k-means fit), run in child processes so stderr can be captured: nothing off a terminal
-- by default, one summary line with verbose = true, a line every 10% with verbose = 2, a bar
-- with percentage, rate and ETA on a pseudo-terminal (script(1)).
local T = dofile("tests/lua/lib/check.lua")

local function shq(s) return "'" .. tostring(s):gsub("'", "'\\''") .. "'" end
local exe = arg[-1]
if not exe:find("^/") then exe = os.getenv("PWD") .. "/" .. exe end

local okc, cluster = pcall(require, "churnlab.cluster")
local okt, tensor = pcall(require, "churnlab.tensor")
if not (okc and okt and type(cluster) == "table" and cluster.kmeans and tensor.randn) then
  T.skip("progress reporting", "needs the cluster and tensor modules")
  T.done()
end

local dir = os.tmpname()
os.remove(dir)
assert(os.execute("mkdir -p " .. shq(dir)))
local script = dir .. "/fit.lua"
local f = assert(io.open(script, "w"))
f:write([[
local cl = require "churnlab"
local v = arg[1]
local opts = {}
if v == "true" then opts.verbose = true elseif v == "false" then opts.verbose = false
elseif v ~= "nil" then opts.verbose = tonumber(v) end
local X = cl.tensor.randn(600, 4)
local m = cl.cluster.kmeans{k = 3, restarts = 1, max_iter = 40, tol = 0, seed = 1}
local ok, err = pcall(m.fit, m, X, opts)
if not ok then io.stderr:write("ERR ", err, "\n") end
collectgarbage() -- the reporter closes its task when collected, at the latest
io.stderr:write("<done>\n")
]])
f:close()

local function run(v)
  local p = io.popen(shq(exe) .. " " .. shq(script) .. " " .. v .. " 2>&1 >/dev/null")
  local out = p:read("a")
  p:close()
  return out
end

T.test("off a terminal: silent by default and with verbose = false or 0", function()
  T.eq(run("nil"), "<done>\n")
  T.eq(run("false"), "<done>\n")
  T.eq(run("0"), "<done>\n")
end)

T.test("verbose = true: exactly one summary line with count, time and rate", function()
  local out = run("true")
  T.ok(out:match("^kmeans: %d+/40 in %d+%.%d%ds %(%S+/s%)[^\n]*\n<done>\n$"), out)
end)

T.test("verbose = 2: progress lines then the summary", function()
  local out = run("2")
  local n = 0
  for _ in out:gmatch("kmeans +%d+%%") do n = n + 1 end
  T.ok(n >= 1, out)
  T.ok(out:find("\nkmeans: %d+/40 in"), out)
  T.ok(not out:find("\r", 1, true), "no carriage returns in logs")
end)

T.test("a bad verbose value is an error naming the option", function()
  T.ok(run("7"):find("option 'verbose' must be a boolean or 0, 1 or 2", 1, true))
end)

local has_script = os.execute("command -v script >/dev/null 2>&1")
if has_script then
  T.test("on a terminal: a bar with percentage, rate and ETA, ended by a newline", function()
    local p = io.popen("script -qec " .. shq("stty cols 80; " .. shq(exe) .. " " .. shq(script)
      .. " nil") .. " /dev/null 2>&1")
    local out = p:read("a")
    p:close()
    T.ok(out:find("kmeans [", 1, true), out)
    T.ok(out:match("kmeans %[[#.]+%] +%d+%%  %d+/40  %S+/s  %d%d:%d%d<%d%d:%d%d"), out)
    T.ok(out:find("\r", 1, true), "redrawn in place")
    -- every drawn line fits the 80 columns
    for line in out:gsub("\27%[K", ""):gmatch("[^\r\n]+") do
      T.ok(#line < 80, "line too wide: " .. line)
    end
  end)
else
  T.skip("progress bar on a terminal", "script(1) not installed (util-linux)")
end

os.execute("rm -rf " .. shq(dir))
T.done()
