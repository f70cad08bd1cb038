-- benchdata.lua: the one-hot benchmark data set shared by scripts/bench/mlp.lua and
-- logreg.lua and by their Python anchors (scripts/bench/mlp_data.py reads the same files).
-- 15 categorical groups of 7 levels one-hot encoded (105 columns); the label comes from
-- per-level effects plus a group-1 x group-2 interaction (so a hidden layer helps).
-- Rows of 16 bytes: the 15 active column indices (0-based) and the label. Written once.
local M = {}
local cl = require "churnlab"
local T = cl.tensor
local GROUPS, LEVELS = 15, 7
M.DIR = "build/bench-data/onehot"

local function exists(p) local f = io.open(p, "rb"); if f then f:close() end; return f ~= nil end

-- ---- data ---------------------------------------------------------------------------------
local function generate(NTRAIN, NTEST)
  local DIR = M.DIR
  os.execute("mkdir -p " .. DIR)
  math.randomseed(20261123)
  local function normal() return math.sqrt(-2 * math.log(1 - math.random())) * math.cos(2 * math.pi * math.random()) end
  local effect, inter = {}, {}
  for g = 1, GROUPS do
    effect[g] = {}
    for l = 1, LEVELS do effect[g][l] = 0.5 * normal() end
  end
  for a = 1, LEVELS do inter[a] = {}; for b = 1, LEVELS do inter[a][b] = 1.2 * normal() end end
  local function write(path, n)
    local f = assert(io.open(path, "wb"))
    local buf = {}
    for i = 1, n do
      local lv, z = {}, -1.0
      for g = 1, GROUPS do
        local l = math.random(LEVELS)
        lv[g] = (g - 1) * LEVELS + l - 1
        z = z + effect[g][l]
      end
      z = z + inter[lv[1] + 1][lv[2] - LEVELS + 1]
      lv[GROUPS + 1] = math.random() < 1 / (1 + math.exp(-z)) and 1 or 0
      buf[#buf + 1] = string.char(table.unpack(lv))
      if #buf == 4096 then f:write(table.concat(buf)); buf = {} end
    end
    f:write(table.concat(buf))
    f:close()
  end
  write(DIR .. "/train.bin", NTRAIN)
  write(DIR .. "/test.bin", NTEST)
  local s = assert(io.open(DIR .. "/stamp", "w")); s:write(NTRAIN, " v1\n"); s:close()
end

local function load(path)
  local f = assert(io.open(path, "rb")); local s = f:read("a"); f:close()
  local n = #s // (GROUPS + 1)
  local X, y = T.zeros(n, GROUPS * LEVELS), {}
  for i = 1, n do
    local o = (i - 1) * (GROUPS + 1)
    for g = 1, GROUPS do X:set(i, s:byte(o + g) + 1, 1) end
    y[i] = s:byte(o + GROUPS + 1)
  end
  return X, T(y)
end

-- X, y (training) and Xt, yt (test) as tensors; the files are (re)written when absent or
-- made for another size.
function M.load_all(NTRAIN, NTEST)
  local DIR = M.DIR
  local stamp = io.open(DIR .. "/stamp")
  local st = stamp and stamp:read("l")
  if stamp then stamp:close() end
  if st ~= NTRAIN .. " v1" or not exists(DIR .. "/train.bin") then generate(NTRAIN, NTEST) end
  local X, y = load(DIR .. "/train.bin")
  local Xt, yt = load(DIR .. "/test.bin")
  return X, y, Xt, yt
end

return M

