-- make_fuzz_xgb_seeds.lua - small XGBoost JSON models, the seed corpus of tests/fuzz/fuzz_xgb.c.
--   ./churnlab scripts/make_fuzz_xgb_seeds.lua [outdir]     (default tests/data/fuzz-xgb)
-- churnlab's own export writes XGBoost's layout (xgb_export.c); small on purpose, since
-- run.sh gives the non-CSV targets -max_len=4096 and libFuzzer cuts longer seeds.
local cl = require "churnlab"
local S = dofile(((arg and arg[0] or ""):match("^(.*)/") or ".") .. "/lib/fuzz_seeds.lua")
local dir = S.outdir("tests/data/fuzz-xgb")

local X, y = S.rows(11) -- 40 rows, 3 features: x1 informative, x2 noise, x3 with missing values

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
