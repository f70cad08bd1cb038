-- Tree model files of the layout before issue 14 (parameters as hand-written "params.*"
-- chunks) still load, with the same parameters, predictions and SHAP values as the binary
-- that wrote them (scripts/ref/trees_params_fixtures.lua wrote the files and the values), and
-- files of today's layout (parameters through the cl_param_def tables as "param.*") round-trip.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

local E = dofile("tests/data/trees_params_expect.lua")
local rows = {}
for i, r in ipairs(E.Q) do
  rows[i] = {}
  for j = 1, 5 do rows[i][j] = type(r[j]) == "string" and tonumber(r[j]) or r[j] end
end
local Q = tensor(rows)
local kinds = {"gbdt", "gbdt_squared", "forest", "tree"}

-- Exact comparison is valid here: the fixtures were written by this project's binary built
-- from the same sources of the tree walk, and a tree prediction is a sum of stored float leaf
-- values in a fixed order (no BLAS, no threads in the reduction), TreeSHAP likewise a fixed
-- sequence of + - * / on stored leaves and covers. What can differ between machines is libm:
-- the gbdt's sigmoid (exp) and the prior correction (log, exp), which glibc picks per CPU and
-- may round differently in the last bit. So raw scores and SHAP are compared bit for bit, and
-- probabilities that pass through libm to 2^-22 relative (at most 4 ulp of float32, where a
-- misread leaf or threshold moves them by orders of magnitude more).
local function check_model(kind, m)
  local e = E[kind]
  T.eq(m:ntrees(), e.ntrees, kind .. ": trees")
  local ps = m:params()
  for k, v in pairs(e.params) do
    local got = ps[k]
    if type(got) == "number" then
      T.eq(got, tonumber(v), kind .. ": parameter " .. k)
    else
      T.eq(tostring(got), v, kind .. ": parameter " .. k)
    end
  end
  -- parameters added after the fixtures were written load at their defaults
  local function empty(v) return type(v) == "table" and #v == 0 end
  local added = {monotone = empty, interactions = empty}
  for k, v in pairs(ps) do
    T.ok(e.params[k] ~= nil or (added[k] and added[k](v)), kind .. ": unexpected parameter " .. k)
  end
  local p = m:predict(Q)
  local raw = kind:find("gbdt") and m:predict(Q, {margin = true})
              or m:predict(Q, {prior_correction = false})
  local libm = kind == "gbdt" or (kind ~= "gbdt_squared" and m:prior() ~= nil)
  for i = 1, #rows do
    local want = tonumber(e.raw[i])
    T.eq(raw:get(i), want, string.format("%s row %d: raw score", kind, i))
    want = tonumber(e.predict[i])
    if libm then
      T.ok(math.abs(p:get(i) - want) <= 2 ^ -22 * math.abs(want),
           string.format("%s row %d: expected %.9g, got %.9g", kind, i, want, p:get(i)))
    else
      T.eq(p:get(i), want, string.format("%s row %d: prediction", kind, i))
    end
  end
  local phi = m:shap(Q)
  local _, nc = phi:shape()
  for i = 1, #rows do
    for j = 1, nc do
      T.eq(phi:get(i, j), tonumber(e.shap[(i - 1) * nc + j]),
           string.format("%s row %d: SHAP %d", kind, i, j))
    end
  end
end

T.test("old params.* files load with their parameters, predictions and SHAP", function()
  for _, kind in ipairs(kinds) do
    check_model(kind, assert(cl.load("tests/data/trees_params_" .. kind .. ".clm")))
  end
  T.eq(cl.load("tests/data/trees_params_gbdt.clm"):features()[4], "plan")
end)

T.test("re-saved in today's layout, the models load the same", function()
  for _, kind in ipairs(kinds) do
    local m = assert(cl.load("tests/data/trees_params_" .. kind .. ".clm"))
    local path = os.tmpname()
    m:save(path)
    local f = assert(io.open(path, "rb"))
    local bytes = f:read("a")
    f:close()
    T.ok(bytes:find("param.depth", 1, true), kind .. ": parameters under param.*")
    T.ok(not bytes:find("params.", 1, true), kind .. ": no params.* chunks")
    check_model(kind, assert(cl.load(path)))
    os.remove(path)
  end
end)

T.done()
