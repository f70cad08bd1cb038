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

T.done()
