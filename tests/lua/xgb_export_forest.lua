-- XGBoost JSON export of forests and single trees (m:export_xgboost): XGBoost itself loads the
-- file (scripts/ref/xgb_check.py) and its predictions and pred_contribs must equal churnlab's.
local T = dofile("tests/lua/lib/check.lua")
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
local Xt = data(400)

local function csv(path, t)
  local f = assert(io.open(path, "w"))
  local r, c = t:shape()
  for i = 1, r do
    local row = {}
    for j = 1, (c or 1) do
      local v = c and t:get(i, j) or t:get(i)
      row[j] = v ~= v and "nan" or string.format("%.9g", v)
    end
    f:write(table.concat(row, ","), "\n")
  end
  f:close()
end

-- XGBoost sums the scaled leaves in float32 (a forest's mean of ~100 proportions in [0, 1]):
-- ~1e-7 per value; 1e-6 relative to max(1, |v|) on predictions and contributions.
local function agrees(m)
  local dir = os.tmpname()
  os.remove(dir)
  local model, xcsv, mcsv, scsv = dir .. ".json", dir .. ".x.csv", dir .. ".m.csv", dir .. ".s.csv"
  T.eq(m:export_xgboost(model), m, "export returns the model")
  local p = m:predict(Xt, {prior_correction = false})
  csv(xcsv, Xt); csv(mcsv, p); csv(scsv, (m:shap(Xt)))
  local h = io.popen("/usr/bin/python3 scripts/ref/xgb_check.py " .. model .. " " .. xcsv .. " "
    .. mcsv .. " " .. scsv .. " 1e-6 " .. mcsv .. " 2>&1; echo status=$?")
  local out = h:read("a")
  h:close()
  for _, f in ipairs({model, xcsv, mcsv, scsv}) do os.remove(f) end
  return out
end

local has_xgb = os.execute("/usr/bin/python3 -c 'import xgboost' 2>/dev/null")
if not has_xgb then
  T.skip("forest and tree exports agree with XGBoost", "python3-xgboost is not installed")
else
  T.test("an exported forest predicts in XGBoost what it does here (values, pred_contribs)", function()
    local out = agrees(cl.forest{trees = 60, depth = 8, seed = 3}:fit(X, y))
    T.ok(out:find("status=0", 1, true), out)
  end)
  T.test("an exported tree likewise, also with balanced class weights (uncorrected)", function()
    local out = agrees(cl.tree{depth = 5}:fit(X, y))
    T.ok(out:find("status=0", 1, true), out)
    out = agrees(cl.forest{trees = 20, class_weight = "balanced"}:fit(X, y))
    T.ok(out:find("status=0", 1, true), out)
  end)
end

T.test("export refuses an unfitted model and names a bad path", function()
  T.raises(function() cl.forest{}:export_xgboost(os.tmpname()) end, "not fitted")
  local m = cl.tree{depth = 2}:fit(X, y)
  local file = os.tmpname() -- a regular file cannot be a directory
  T.raises(function() m:export_xgboost(file .. "/m.json") end, file .. "/m.json")
  os.remove(file)
end)

T.done()
