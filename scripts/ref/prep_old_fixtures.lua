-- Writes pipeline files in the format churnlab wrote before one-hot drop, robust scaling,
-- missing indicators and target encoding (PREP_FORMAT 1), with the X each gives on
-- tests/data/cv_ref.csv, so later binaries are tested on loading them unchanged
-- (tests/lua/prep.lua). Run once, with the binary of commit 942d858, from the repository root:
--   build/release/churnlab scripts/ref/prep_old_fixtures.lua
local cl = require "churnlab"
local df = cl.read_csv("tests/data/cv_ref.csv")
local specs = {
  v1_onehot = {target = "churn", positive = "Yes", drop = {"fold"}, impute = "median",
               encode = "onehot", unknown = "other", scale = "minmax", max_categories = 3},
  v1_ordinal = {target = "churn", positive = "Yes", drop = {"fold"}, impute = "constant",
                fill_value = -1, encode = "ordinal", scale = "standard"},
}
for name, o in pairs(specs) do
  local p = cl.prep.pipeline(o):fit(df:head(300))
  p:save("tests/data/prep_" .. name .. ".clm")
  local X = p:transform(df)
  local rows, cols = X:shape()
  local f = assert(io.open("tests/data/prep_" .. name .. "_X.txt", "w"))
  f:write("# scripts/ref/prep_old_fixtures.lua: X of every row of cv_ref.csv, %.9g (float32 exact)\n")
  f:write(table.concat(p:feature_names(), ","), "\n")
  for i = 1, rows do
    local r = {}
    for j = 1, cols do r[j] = string.format("%.9g", X:get(i, j)) end
    f:write(table.concat(r, " "), "\n")
  end
  f:close()
end
