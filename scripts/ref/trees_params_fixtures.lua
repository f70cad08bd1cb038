-- Writes tests/data/trees_params_<kind>.clm and tests/data/trees_params_expect.lua: tree models
-- (gbdt logistic and squared, forest, tree) saved in the layout before issue 14, when gbdt and
-- forest wrote their parameters by hand as "params.<name>" chunks (integers as i64). Run once
-- with the binary of the commit before the change (942d858):
--   git archive 942d858 | tar -x -C /tmp/old && make -C /tmp/old
--   /tmp/old/build/release/churnlab scripts/ref/trees_params_fixtures.lua
-- from the repository root. tests/lua/trees_params.lua loads the files with today's binary and
-- checks that parameters, predictions and SHAP values are the ones recorded here.
local cl = require "churnlab"
local tensor = cl.tensor

-- 400 rows, 5 features: two numeric, one with missing values, one categorical (codes 0..3),
-- one constant-ish; labels from a fixed hash so they never depend on a random stream.
local function data(n, off)
  local X, y = {}, {}
  for i = 1, n do
    local k = i + off
    local u = math.sin(k * 12.9898) * 43758.5453 % 1
    local v = math.sin(k * 78.233) * 12345.6789 % 1
    local a, b = 4 * u - 2, 3 * v - 1
    local c = (k % 7 == 0) and 0 / 0 or (u * v * 5 - 1)
    local cat = k % 4
    local z = 1.3 * a - 0.7 * b + (cat == 2 and 1.5 or 0) + ((c == c) and 0.4 * c or -0.5) - 1.2
    local w = math.sin(k * 3.7) * 9999.1 % 1
    X[i] = {a, b, c, cat, (k % 50 == 0) and 1 or 0}
    y[i] = w < 1 / (1 + math.exp(-z)) and 1 or 0
  end
  return tensor(X), tensor(y)
end

local X, y = data(400, 0)
local Xv, yv = data(150, 1000)
local Q = data(12, 5000)
local names = {"tenure", "charges", "usage", "plan", "flag"}

local models = {
  {"gbdt", cl.gbdt{trees = 80, depth = 3, lr = 0.2, scale_pos_weight = 2.5, subsample = 0.8,
                   colsample = 0.8, lambda = 2, alpha = 0.1, gamma = 0.05, max_bins = 64,
                   seed = 17},
   {categorical = {4}, names = names, valid = {Xv, yv}, early_stop = 10}},
  {"gbdt_squared", cl.gbdt{objective = "squared", trees = 25, depth = 0, leaves = 6, lr = 0.3,
                           min_child_weight = 2, seed = 3, prior_correction = false},
   {names = names}},
  {"forest", cl.forest{trees = 15, depth = 6, min_leaf = 5, class_weight = "balanced",
                       mtry = 2, max_bins = 32, seed = 9},
   {categorical = {4}, names = names}},
  {"tree", cl.tree{depth = 4, min_leaf = 12, class_weight = "balanced", seed = 5},
   {categorical = {4}}},
}

local function hex(x) return string.format("%a", x) end

local out = {"-- written by scripts/ref/trees_params_fixtures.lua with the churnlab of commit",
             "-- 942d858 (the hand-written params.* layout); numbers as C99 hex floats: exact",
             "return {"}
do -- the query rows, so the test needs nothing else
  local rows = {}
  for i = 1, 12 do
    local r = {}
    for j = 1, 5 do
      local v = Q:get(i, j)
      r[j] = v ~= v and "0 / 0" or string.format("%q", hex(v))
    end
    rows[i] = "{" .. table.concat(r, ", ") .. "}"
  end
  out[#out + 1] = "  Q = {" .. table.concat(rows, ", ") .. "},"
end
for _, e in ipairs(models) do
  local kind, m, fo = e[1], e[2], e[3]
  m:fit(X, y, fo)
  local path = "tests/data/trees_params_" .. kind .. ".clm"
  m:save(path)
  out[#out + 1] = string.format("  %s = {", kind)
  local ps, keys = m:params(), {}
  for k in pairs(ps) do keys[#keys + 1] = k end
  table.sort(keys)
  out[#out + 1] = "    params = {"
  for _, k in ipairs(keys) do
    local v = ps[k]
    out[#out + 1] = string.format("      %s = %s,", k,
      type(v) == "number" and string.format("%q", hex(v)) or string.format("%q", tostring(v)))
  end
  out[#out + 1] = "    },"
  local p = m:predict(Q)
  local raw = kind:find("gbdt") and m:predict(Q, {margin = true})
              or m:predict(Q, {prior_correction = false})
  local phi = m:shap(Q)
  local _, nc = phi:shape()
  local pr, rr, sh = {}, {}, {}
  for i = 1, 12 do
    pr[i] = string.format("%q", hex(p:get(i)))
    rr[i] = string.format("%q", hex(raw:get(i)))
    for j = 1, nc do sh[#sh + 1] = string.format("%q", hex(phi:get(i, j))) end
  end
  out[#out + 1] = "    predict = {" .. table.concat(pr, ", ") .. "},"
  out[#out + 1] = "    raw = {" .. table.concat(rr, ", ") .. "},"
  out[#out + 1] = "    shap = {" .. table.concat(sh, ", ") .. "},"
  out[#out + 1] = string.format("    ntrees = %d,", m:ntrees())
  out[#out + 1] = "  },"
  print("wrote " .. path)
end
out[#out + 1] = "}"
local f = assert(io.open("tests/data/trees_params_expect.lua", "w"))
f:write(table.concat(out, "\n"), "\n")
f:close()
print("wrote tests/data/trees_params_expect.lua")
