-- XGBoost JSON export of gbdt, forests and single trees (m:export_xgboost). Always: the model
-- files committed under tests/data/xgb_export_<kind>.clm export to the committed JSON byte for
-- byte (categorical splits as XGBoost >= 1.6 writes them), and churnlab's predictions and SHAP
-- values equal XGBoost's predictions and
-- pred_contribs of that JSON, committed by scripts/ref/xgb_export_ref.py. When python3-xgboost
-- is installed, also live: XGBoost loads freshly trained exports (scripts/ref/xgb_check.py).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local data = dofile("tests/lua/lib/xgb_export_data.lua")()
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

-- Committed references. Tolerances: XGBoost sums leaf values in float32 (~6e-8 relative per
-- addition): a forest's mean and a tree's leaf 1e-6, a 25-tree gbdt's margin 1e-5 (as the
-- live check), relative to max(1, |v|); probabilities of the gbdt through its sigmoid: 1e-6.
local REF = dofile("tests/data/xgb_export_ref.lua")
local function read_x(path)
  local rows = {}
  for line in io.lines(path) do
    local r = {}
    for tok in line:gmatch("[^,]+") do r[#r + 1] = tok == "nan" and 0 / 0 or tonumber(tok) end
    rows[#rows + 1] = r
  end
  return tensor(rows)
end
local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local s = f:read("a")
  f:close()
  return s
end
local function close_all(got, want, tol, what)
  T.eq(#want > 0, true, what .. ": reference present")
  local worst = 0
  for i = 1, #want do
    local e = math.abs(got(i) - want[i]) / math.max(1, math.abs(want[i]))
    if e > worst then worst = e end
  end
  T.ok(worst <= tol, ("%s: max rel. diff %.3g > %g"):format(what, worst, tol))
end

T.test("committed models export to the committed JSON and predict what XGBoost predicts of it", function()
  local Xplain, Xcat = read_x("tests/data/xgb_export_X.csv"), read_x("tests/data/xgb_export_Xcat.csv")
  -- *_cat: categorical splits (split_type 1), rows with codes the fit never saw included
  for _, kind in ipairs{"gbdt", "gbdt_spw", "forest", "tree", "gbdt_cat", "tree_cat"} do
    local Xr = kind:find("_cat") and Xcat or Xplain
    local n = Xr:shape()
    local m = cl.load("tests/data/xgb_export_" .. kind .. ".clm")
    local path = os.tmpname()
    m:export_xgboost(path)
    T.ok(slurp(path) == slurp("tests/data/xgb_export_" .. kind .. ".json"),
      kind .. ": the export of the committed model is the committed JSON")
    os.remove(path)
    local R = REF[kind]
    local sh = m:shap(Xr)
    local d1 = select(2, sh:shape())
    local function contrib(k) return sh[(k - 1) // d1 + 1][(k - 1) % d1 + 1] end
    if kind == "gbdt" or kind == "gbdt_cat" then
      local mg, p = m:predict(Xr, {margin = true}), m:predict(Xr)
      close_all(function(i) return mg[i] end, R.margin, 1e-5, kind .. " margin")
      close_all(function(i) return p[i] end, R.prob, 1e-6, kind .. " probability")
      close_all(contrib, R.contribs, 1e-5, kind .. " pred_contribs")
    elseif kind == "gbdt_spw" then -- exported prior-corrected: XGBoost's probabilities are predict()'s
      local p = m:predict(Xr)
      close_all(function(i) return p[i] end, R.prob, 1e-6, kind .. " probability")
    else
      local p = m:predict(Xr, {prior_correction = false})
      close_all(function(i) return p[i] end, R.margin, 1e-6, kind .. " value")
      close_all(function(i) return p[i] end, R.prob, 1e-6, kind .. " probability")
      close_all(contrib, R.contribs, 1e-6, kind .. " pred_contribs")
    end
    T.eq(#R.prob, n)
  end
end)

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
