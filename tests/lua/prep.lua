-- Tests of churnlab.prep: the preprocessing pipeline (frame -> X, y tensors).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

local function no_nan_in_unit(X)
  local rows, cols = X:shape()
  for i = 1, rows do
    for j = 1, cols do
      local v = X:get(i, j)
      if v ~= v or v < 0 or v > 1 then return false, string.format("X[%d,%d] = %s", i, j, v) end
    end
  end
  return true
end

local telco = T.shared("telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
if not telco then
  T.skip("telco pipeline", "../shared/data/telco_churn not found")
else
  local df = assert(cl.read_csv(telco))
  local opts = {target = "Churn", positive = "Yes", drop = {"customerID"}, impute = "median",
                encode = "onehot", scale = "minmax"}

  T.test("telco pipeline: no NaN, every column in [0, 1], 0/1 labels", function()
    local p = cl.prep.pipeline(opts)
    p:fit(df)
    local X, y = p:transform(df)
    local rows, cols = X:shape()
    T.eq(rows, 7043)
    T.eq(cols, #p:feature_names())
    T.ok(no_nan_in_unit(X))
    T.eq(y:sum(), 1869)
    T.eq(p:feature_names()[1], "gender=Female")
  end)

  T.test("a one-row frame gives the same columns", function()
    local tr = df:split{test = 0.2, stratify = "Churn", seed = 42}
    local p = cl.prep.pipeline(opts):fit(tr)
    local one = df:filter(df.customerID:eq("7590-VHVEG"))
    T.eq(one:nrow(), 1)
    local X1 = p:transform(one)
    local Xall = p:transform(df)
    local _, c1 = X1:shape()
    local _, ca = Xall:shape()
    T.eq(c1, ca)
    for j = 1, ca do T.eq(X1:get(1, j), Xall:get(1, j), p:feature_names()[j]) end
    -- the same row written and read back alone (types inferred from one row) still matches
    local tmp = os.tmpname()
    one:write_csv(tmp)
    local back = assert(cl.read_csv(tmp))
    os.remove(tmp)
    local Xb = p:transform(back)
    for j = 1, ca do T.eq(Xb:get(1, j), Xall:get(1, j), p:feature_names()[j]) end
  end)

  T.test("save and load reproduce the transform", function()
    local p = cl.prep.pipeline(opts):fit(df)
    local tmp = os.tmpname()
    p:save(tmp)
    local q = assert(cl.load(tmp))
    os.remove(tmp)
    T.eq(tostring(q), tostring(p))
    local a, b = p:transform(df:head(50)), q:transform(df:head(50))
    T.eq((a - b):abs():max(), 0)
    T.eq(table.concat(q:feature_names(), "|"), table.concat(p:feature_names(), "|"))
  end)
end

local df = cl.frame({x = {1, 2, 0 / 0, 4}, c = {"a", "b", "a", nil, n = 4}, y = {0, 1, 0, 1}},
                    {names = {"x", "c", "y"}})

T.test("impute strategies and scalers", function()
  local X = cl.prep.pipeline{target = "y", impute = "mean"}:fit(df):transform(df)
  T.near(X:get(3, 1), 7 / 3, 1e-6)
  X = cl.prep.pipeline{target = "y", impute = "median"}:fit(df):transform(df)
  T.eq(X:get(3, 1), 2)
  X = cl.prep.pipeline{target = "y", impute = "constant", fill_value = -1}:fit(df):transform(df)
  T.eq(X:get(3, 1), -1)
  X = cl.prep.pipeline{target = "y", scale = "minmax"}:fit(df):transform(df)
  T.eq(X:get(1, 1), 0)
  T.eq(X:get(4, 1), 1)
  X = cl.prep.pipeline{target = "y", scale = "standard", impute = "mean"}:fit(df):transform(df)
  T.near(X:get(1, 1) + X:get(2, 1) + X:get(3, 1) + X:get(4, 1), 0, 1e-6)
end)

T.test("one-hot: unknown categories give zeros or the other column", function()
  local p = cl.prep.pipeline{target = "y", impute = "none"}:fit(df)
  T.eq(table.concat(p:feature_names(), ","), "x,c=a,c=b")
  local new = cl.frame({x = {1}, c = {"zzz"}, y = {0}}, {names = {"x", "c", "y"}})
  local X = p:transform(new)
  T.eq(X:get(1, 2) + X:get(1, 3), 0)
  local q = cl.prep.pipeline{target = "y", unknown = "other"}:fit(df)
  T.eq(table.concat(q:feature_names(), ","), "x,c=a,c=b,c=(other)")
  T.eq(q:transform(new):get(1, 4), 1)
  local src = q:sources()
  T.eq(src[2].column, "c")
  T.eq(src[2].label, "a")
end)

T.test("native encoding reports categorical columns", function()
  local p = cl.prep.pipeline{target = "y", encode = "native"}:fit(df)
  local src = p:sources()
  T.eq(src[2].categorical, true)
  T.eq(table.concat(src[2].categories, ","), "a,b")
  local X = p:transform(df)
  T.eq(X:get(2, 2), 1)
  T.eq(X:get(4, 2), 0) -- missing -> most frequent ("a")
end)

T.test("single steps: imputer, scaler, onehot, ordinal on chosen columns", function()
  local imp = cl.prep.imputer{strategy = "most_frequent", columns = {"x", "c"}}:fit(df)
  local d = imp:transform_frame(df)
  T.eq(table.concat(d:names(), ","), "x,c,y")
  T.eq(d:types().c, "cat")
  T.eq(d.c:get(4), "a")
  T.eq(d.x:isna():sum(), 0)
  local med = cl.prep.imputer{columns = "x"}:fit(df):transform_frame(df)
  T.eq(med.x:get(3), 2)
  T.eq(med.c:get(4), nil) -- not selected: unchanged
  local sc = cl.prep.scaler{kind = "minmax", columns = "x"}:fit(df):transform_frame(df)
  T.eq(sc.x:get(1), 0)
  T.eq(sc.x:get(4), 1)
  T.eq(sc.x:get(3), nil) -- the scaler does not impute
  T.eq(sc.y:get(2), 1) -- other columns pass through
  local oh = cl.prep.onehot{columns = "c"}:fit(df):transform_frame(df)
  T.eq(table.concat(oh:names(), ","), "x,c=a,c=b,y")
  T.eq(oh["c=b"]:get(2), 1)
  T.eq(oh["c=a"]:get(4) + oh["c=b"]:get(4), 0)
  local od = cl.prep.ordinal{columns = "c"}:fit(df):transform_frame(df)
  T.eq(od.c:get(2), 1)
  T.eq(od.c:get(4), nil)
  T.raises(function() cl.prep.scaler{bogus = 1} end, "bad argument #1 to 'scaler' (unknown option 'bogus'; known: columns, kind, clip)")
  T.raises(function() imp:transform(df) end, "stays categorical")
  T.raises(function() cl.prep.scaler{columns = "nope"}:fit(df) end, "no column 'nope'")
end)

T.test("errors: target needs positive, unknown options, missing columns", function()
  T.raises(function() cl.prep.pipeline{target = "c"}:fit(df) end, "positive")
  T.raises(function() cl.prep.pipeline{bogus = 1} end, "unknown option 'bogus'")
  T.raises(function() cl.prep.pipeline{scale = "zscore"} end, "scale must be one of")
  local p = cl.prep.pipeline{target = "y"}:fit(df)
  T.raises(function() p:transform(df:drop("x")) end, "column 'x'")
  T.raises(function() cl.prep.pipeline{}:transform(df) end, "not fitted")
end)

-- ---- issue 20: one-hot drop, robust scaling, missing indicators, target encoding --------
-- Oracle: scripts/ref/prep_ref.py (scikit-learn's OneHotEncoder, RobustScaler, SimpleImputer;
-- target encoding in numpy from the published formula, as scikit-learn 1.2 has no
-- TargetEncoder) writes tests/data/prep_ref.csv and prep_ref.txt. Rows 1-180 are fitted, all
-- 240 transformed (unknown categories and a new missing value among rows 181-240).
local ref = {}
for line in io.lines("tests/data/prep_ref.txt") do
  if not line:match("^#") then
    local key, rest = line:match("^(%S+) %d+ (.*)$")
    local v = {}
    for x in rest:gmatch("%S+") do v[#v + 1] = tonumber(x) or x end
    ref[key] = v
  end
end
local rdf = cl.read_csv("tests/data/prep_ref.csv")
local rfit = rdf:head(180)

-- X (rows x cols) against a row-major reference; tol(b) the allowed |a - b|
local function same_matrix(X, want, tol, what)
  local rows, cols = X:shape()
  T.eq(rows * cols, #want, what .. ": size")
  for i = 1, rows do
    for j = 1, cols do
      local b = want[(i - 1) * cols + j]
      T.near(X:get(i, j), b, tol(b), string.format("%s [%d, %d]", what, i, j))
    end
  end
end
-- 0/1 indicators and one-hot columns are exact; a float32 output of a double computation is
-- within half an ulp of float32 (2^-24 relative) of the double result, plus the double
-- rounding differences of the two computations (~1e-15 relative): 1.2e-7 relative.
local function exact() return 0 end
local function f32(b) return 1.2e-7 * math.abs(b) + 1e-30 end

T.test("onehot_drop = first / if_binary equal sklearn's OneHotEncoder(drop, handle_unknown = ignore)", function()
  for _, drop in ipairs{"first", "if_binary"} do
    local p = cl.prep.pipeline{columns = {"plan", "partner", "region"}, impute = "none",
                               onehot_drop = drop}:fit(rfit)
    T.eq(table.concat(p:feature_names(), " "), table.concat(ref["names_ohe_" .. drop], " "), drop)
    same_matrix(p:transform(rdf), ref["ohe_" .. drop], exact, drop)
    -- the step form: cl.prep.onehot{drop = ...}
    local d = cl.prep.onehot{columns = {"plan", "partner", "region"}, drop = drop}:fit(rfit):transform_frame(rdf)
    for j, name in ipairs(ref["names_ohe_" .. drop]) do
      T.eq(d[name]:get(190), ref["ohe_" .. drop][189 * #ref["names_ohe_" .. drop] + j], name)
    end
  end
  -- a one-category column has no column left with first, keeps its one with if_binary
  local one = cl.frame({g = {"a", "a", "a"}, y = {0, 1, 0}}, {names = {"g", "y"}})
  T.eq(#cl.prep.pipeline{target = "y", onehot_drop = "first"}:fit(one):feature_names(), 0)
  T.eq(table.concat(cl.prep.pipeline{target = "y", onehot_drop = "if_binary"}:fit(one):feature_names(), ","), "g=a")
end)

T.test("a full one-hot design is collinear for Cox (aliased column); onehot_drop = first is not", function()
  local time, event = {}, {}
  for i = 1, 180 do time[i] = 1 + (i * 37) % 50; event[i] = rfit.churn:get(i) == "Yes" and 1 or 0 end
  local function n_aliased(drop)
    local p = cl.prep.pipeline{columns = {"plan", "region"}, impute = "none", onehot_drop = drop}:fit(rfit)
    local s = cl.survival.cox(p:transform(rfit), time, event, {names = p:feature_names()}):summary()
    local k = 0
    for _, r in ipairs(s) do if r.se ~= r.se then k = k + 1 end end -- aliased: se NaN
    return k, #s
  end
  local a, d = n_aliased("none")
  T.eq(d, 7)
  -- Cox has no intercept: plan's three columns sum to 1, a constant the partial likelihood
  -- cannot see, and so do region's four: one column of each group is redundant
  T.eq(a, 2)
  a, d = n_aliased("first")
  T.eq(d, 5)
  T.eq(a, 0)
end)

T.test("scale = robust equals sklearn's SimpleImputer(median) + RobustScaler", function()
  local p = cl.prep.pipeline{columns = {"tenure", "charges"}, scale = "robust"}:fit(rfit)
  same_matrix(p:transform(rdf), ref.robust, f32, "robust")
  for j = 1, 2 do
    -- unscale(j, z) = z * IQR + median, in double: center and scale to double rounding
    T.near(p:unscale(j, 0), ref.robust_center[j], 1e-12 * ref.robust_center[j], "center " .. j)
    T.near(p:unscale(j, 1) - p:unscale(j, 0), ref.robust_scale[j], 1e-12 * ref.robust_scale[j], "scale " .. j)
  end
  local s = cl.prep.scaler{kind = "robust", columns = "charges"}:fit(rfit):transform_frame(rdf)
  T.near(s.charges:get(1), ref.robust[2], f32(ref.robust[2]) + 1e-15)
  -- an IQR of 0 divides by 1 (sklearn's _handle_zeros_in_scale)
  local flat = cl.frame({x = {5, 5, 5, 5, 7}, y = {0, 1, 0, 1, 1}}, {names = {"x", "y"}})
  local X = cl.prep.pipeline{target = "y", scale = "robust"}:fit(flat):transform(flat)
  T.eq(X:get(5, 1), 2)
end)

T.test("add_indicator equals sklearn's SimpleImputer(add_indicator = True) (missing-only)", function()
  local p = cl.prep.pipeline{columns = {"tenure", "charges"}, add_indicator = true}:fit(rfit)
  T.eq(table.concat(p:feature_names(), " "), table.concat(ref.names_ind_num, " "))
  same_matrix(p:transform(rdf), ref.ind_num, f32, "indicator")
  local src = p:sources()
  T.eq(src[2].column, "tenure")
  T.eq(src[2].label, "(missing)")
  T.eq(p:unscale(2, 1), 1) -- an indicator has no units
  -- categories: the imputer step keeps labels and adds the indicator
  local d = cl.prep.imputer{strategy = "most_frequent", add_indicator = true, columns = "area"}:fit(rfit):transform_frame(rdf)
  for i = 1, 240 do
    T.eq(d.area:get(i), ref.ind_cat_label[i], "area label " .. i)
    T.eq(d["area=(missing)"]:get(i), ref.ind_cat[i], "area indicator " .. i)
  end
  -- one-hot with impute = none: missing gives zeros and a 1 in the indicator
  local q = cl.prep.pipeline{columns = {"area"}, impute = "none", add_indicator = true}:fit(rfit)
  T.eq(q:feature_names()[#q:feature_names()], "area=(missing)")
end)

T.test("encode = target equals the TargetEncoder formula: out of fold in fit_transform, full in transform", function()
  local cases = {{"auto", 5, "auto"}, {10, 5, "10"}, {"auto", 3, "auto_cv3"}}
  for _, c in ipairs(cases) do
    local p = cl.prep.pipeline{target = "churn", positive = "Yes", columns = {"plan", "area"},
                               impute = "none", encode = "target", smooth = c[1], cv = c[2],
                               shuffle = false}
    local X, y = p:fit_transform(rfit)
    T.eq(table.concat(p:feature_names(), " "), "plan area")
    T.eq(y:sum(), rfit.churn:eq("Yes"):sum())
    -- values in [0, 1]: float32 rounding of a double computation, 2^-24 absolute
    same_matrix(X, ref["te_" .. c[3] .. "_oof"], function() return 1e-7 end, c[3] .. " out of fold")
    same_matrix(p:transform(rdf), ref["te_" .. c[3] .. "_full"], function() return 1e-7 end, c[3] .. " full")
    -- fit + transform on the fit frame is the (leaky) full encoding, not the out-of-fold one
    local Xf = p:transform(rfit)
    T.ok((Xf - X):abs():max() > 1e-3, "fit_transform must differ from transform on the fit rows")
    local tmp = os.tmpname()
    p:save(tmp)
    local q = cl.load(tmp)
    os.remove(tmp)
    T.eq((q:transform(rdf) - p:transform(rdf)):abs():max(), 0)
    T.eq(q:options().smooth, c[1])
  end
  -- shuffled folds: deterministic by seed, other folds than unshuffled
  local o = {target = "churn", positive = "Yes", columns = {"plan"}, encode = "target", seed = 7}
  local a = cl.prep.pipeline(o):fit_transform(rfit)
  local b = cl.prep.pipeline(o):fit_transform(rfit)
  T.eq((a - b):abs():max(), 0)
  o.shuffle = false
  T.ok((cl.prep.pipeline(o):fit_transform(rfit) - a):abs():max() > 1e-3)
end)

T.test("issue 20 options: bad values are clear errors", function()
  T.raises(function() cl.prep.pipeline{onehot_drop = "last"} end, "onehot_drop must be one of none|first|if_binary, got 'last'")
  T.raises(function() cl.prep.onehot{drop = 1} end, "onehot_drop")
  T.raises(function() cl.prep.pipeline{drop = "first"}:fit(rfit) end, "to drop a one-hot category give onehot_drop = \"first\"")
  T.raises(function() cl.prep.pipeline{encode = "target"}:fit(rfit) end, "encode = target needs target =")
  T.raises(function() cl.prep.pipeline{encode = "target", smooth = -1} end, "smooth must be \"auto\" or a number >= 0")
  T.raises(function() cl.prep.pipeline{encode = "target", smooth = "big"} end, "smooth must be")
  T.raises(function() cl.prep.pipeline{encode = "target", cv = 1} end, "cv must be a whole number in [2,")
  T.raises(function() cl.prep.pipeline{scale = "quantile"} end, "scale must be one of none|minmax|standard|robust")
  local three = cl.frame({g = {"a", "b", "a"}, y = {0, 2, 1}}, {names = {"g", "y"}})
  T.raises(function() cl.prep.pipeline{target = "y", encode = "target"}:fit(three) end,
           "encode = target needs a 0/1 target: row 2: target 'y' is 2")
  local tiny = cl.frame({g = {"a", "b", "a"}, y = {0, 1, 1}}, {names = {"g", "y"}})
  T.raises(function() cl.prep.pipeline{target = "y", encode = "target"}:fit_transform(tiny) end,
           "5 folds of 3 rows")
end)

T.test("pipeline files written before issue 20 load and transform unchanged", function()
  for _, name in ipairs{"v1_onehot", "v1_ordinal"} do
    local p = cl.load("tests/data/prep_" .. name .. ".clm")
    local lines = io.lines("tests/data/prep_" .. name .. "_X.txt")
    lines() -- comment
    T.eq(table.concat(p:feature_names(), ","), lines())
    local X = p:transform(cl.read_csv("tests/data/cv_ref.csv"))
    local i = 0
    for line in lines do
      i = i + 1
      local j = 0
      for v in line:gmatch("%S+") do
        j = j + 1
        -- the same float32 arithmetic: %.9g identifies a float32 exactly
        T.eq(string.format("%.9g", X:get(i, j)), v, name .. string.format(" [%d, %d]", i, j))
      end
    end
    T.eq(i, 400)
    -- and they are written again in format 1, byte for byte
    local tmp = os.tmpname()
    p:save(tmp)
    local a, b = io.open(tmp, "rb"), io.open("tests/data/prep_" .. name .. ".clm", "rb")
    T.eq(a:read("a"), b:read("a"), name .. " rewritten")
    a:close(); b:close(); os.remove(tmp)
  end
end)

T.done()
