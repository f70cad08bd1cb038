-- Writes the fixtures of the XGBoost export reference (issue 20): four churnlab models
-- (gbdt, gbdt prior-corrected by scale_pos_weight, forest, tree) as model files
-- tests/data/xgb_export_<kind>.clm, their exports tests/data/xgb_export_<kind>.json and the
-- rows tests/data/xgb_export_X.csv. scripts/ref/xgb_export_ref.py then has XGBoost load each
-- JSON and writes its predictions and pred_contribs to tests/data/xgb_export_ref.lua.
-- tests/lua/xgb_export_forest.lua loads the model files, exports them again (the same bytes:
-- the export of a given model is deterministic) and compares churnlab's predictions and SHAP
-- values with XGBoost's. Run from the repository root:
--   build/release/churnlab scripts/ref/xgb_export_fixtures.lua
--   /usr/bin/python3 scripts/ref/xgb_export_ref.py
local cl = require "churnlab"
local tensor = cl.tensor

local seed = 12345
local function u() seed = (seed * 1103515245 + 12345) % 2147483648; return seed / 2147483648 end
local function data(n)
  local X, y = {}, {}
  for i = 1, n do
    local r = {u() * 4 - 2, u() * 4 - 2, u(), u()}
    if u() < 0.08 then r[3] = 0 / 0 end -- missing values: learned default directions
    X[i] = r
    local z = r[1] - 0.8 * r[2] + (r[3] ~= r[3] and 0.5 or r[3])
    y[i] = u() < 1 / (1 + math.exp(-z)) and 1 or 0
  end
  return tensor(X), tensor(y)
end
local X, y = data(1500)
local Xt = data(200)

local models = {
  gbdt = cl.gbdt{trees = 25, depth = 5}:fit(X, y),
  gbdt_spw = cl.gbdt{trees = 25, depth = 5, scale_pos_weight = 3}:fit(X, y),
  forest = cl.forest{trees = 20, depth = 6, seed = 3}:fit(X, y),
  tree = cl.tree{depth = 5}:fit(X, y),
}
for kind, m in pairs(models) do
  m:save("tests/data/xgb_export_" .. kind .. ".clm")
  m:export_xgboost("tests/data/xgb_export_" .. kind .. ".json")
end
local f = assert(io.open("tests/data/xgb_export_X.csv", "w"))
for i = 1, 200 do
  local row = {}
  for j = 1, 4 do
    local v = Xt[i][j]
    row[j] = v ~= v and "nan" or string.format("%.9g", v) -- float32: 9 digits round-trip
  end
  f:write(table.concat(row, ","), "\n")
end
f:close()
print("wrote tests/data/xgb_export_{gbdt,gbdt_spw,forest,tree}.{clm,json} and xgb_export_X.csv")
