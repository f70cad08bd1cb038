-- Writes the fixtures of the XGBoost export reference (issue 20): churnlab models (gbdt, gbdt
-- prior-corrected by scale_pos_weight, forest, tree; and gbdt and tree with a categorical
-- feature, whose rows xgb_export_Xcat.csv include codes the fit never saw) as model files
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

local data, u = dofile("tests/lua/lib/xgb_export_data.lua")()
local X, y = data(1500)
local Xt = data(200)

local models = {
  gbdt = cl.gbdt{trees = 25, depth = 5}:fit(X, y),
  gbdt_spw = cl.gbdt{trees = 25, depth = 5, scale_pos_weight = 3}:fit(X, y),
  forest = cl.forest{trees = 20, depth = 6, seed = 3}:fit(X, y),
  tree = cl.tree{depth = 5}:fit(X, y),
}
-- a categorical feature (codes 0..5, missing values; the query rows also hold codes 6..8)
local eff = {0.9, -0.4, 0.0, 1.3, -1.1, 0.4}
local function cat_data(n, unseen)
  local Xc, yc = {}, {}
  for i = 1, n do
    local c = math.floor(u() * 6)
    if unseen and i % 10 == 0 then c = 6 + i % 3 end
    local r = {u() * 4 - 2, c, u()}
    if u() < 0.07 then r[2] = 0 / 0 end
    Xc[i] = r
    local z = r[1] + ((r[2] == r[2] and r[2] < 6) and eff[r[2] + 1] or 0.3) - 0.2
    yc[i] = u() < 1 / (1 + math.exp(-z)) and 1 or 0
  end
  return tensor(Xc), tensor(yc)
end
local Xc, yc = cat_data(1500)
local Xct = cat_data(200, true)
models.gbdt_cat = cl.gbdt{trees = 20, depth = 4}:fit(Xc, yc, {categorical = {2}})
models.tree_cat = cl.tree{depth = 4}:fit(Xc, yc, {categorical = {2}})
for kind, m in pairs(models) do
  m:save("tests/data/xgb_export_" .. kind .. ".clm")
  m:export_xgboost("tests/data/xgb_export_" .. kind .. ".json")
end
local function write_rows(path, R, d)
  local f = assert(io.open(path, "w"))
  local n = R:shape()
  for i = 1, n do
    local row = {}
    for j = 1, d do
      local v = R[i][j]
      row[j] = v ~= v and "nan" or string.format("%.9g", v) -- float32: 9 digits round-trip
    end
    f:write(table.concat(row, ","), "\n")
  end
  f:close()
end
write_rows("tests/data/xgb_export_X.csv", Xt, 4)
write_rows("tests/data/xgb_export_Xcat.csv", Xct, 3)
print("wrote tests/data/xgb_export_<kind>.{clm,json}, xgb_export_X.csv and xgb_export_Xcat.csv")
