-- make_fuzz_xgb_seeds.lua - small XGBoost JSON models, the seed corpus of tests/fuzz/fuzz_xgb.c.
--   ./churnlab scripts/make_fuzz_xgb_seeds.lua [outdir]     (default tests/data/fuzz-xgb)
-- churnlab's own export writes XGBoost's layout (xgb_export.c); small on purpose, since
-- run.sh gives the non-CSV targets -max_len=4096 and libFuzzer cuts longer seeds.
local cl = require "churnlab"
local T = cl.tensor
local dir = arg and arg[1] or "tests/data/fuzz-xgb"
os.execute("mkdir -p '" .. dir .. "'")

-- 40 rows, 3 features: x1 informative, x2 noise, x3 with missing values.
local rows, ys = {}, {}
local s = 11
local function rnd() s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 end
for i = 1, 40 do
  local y = i % 2
  rows[i] = {y + rnd() - 0.5, rnd(), (i % 5 == 0) and 0 / 0 or rnd() * 3}
  ys[i] = y
end
local X, y = T.new(rows), T.new(ys)

local function seed(name, params)
  local path = dir .. "/" .. name .. ".json"
  cl.gbdt(params):fit(X, y):export_xgboost(path)
  local f = assert(io.open(path))
  local n = #f:read("a")
  f:close()
  print(path, n .. " bytes")
end
seed("logistic_d1", {trees = 1, depth = 1, min_child_weight = 1})
seed("logistic_d2", {trees = 2, depth = 2, min_child_weight = 1})
seed("squared_d2", {trees = 2, depth = 2, min_child_weight = 1, objective = "squared"})
