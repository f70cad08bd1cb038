-- Numerical robustness: every model kind on degenerate data (constant columns, an all-missing
-- column, a single class, perfectly separable classes, huge values, infinities, denormals).
-- Each case must either fit and give finite probabilities in [0, 1] (and a sensible one where
-- there is a right answer), or raise an error whose message names the problem. A NaN that
-- leaks silently into predictions is a failure.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor
local nan, inf = 0 / 0, math.huge

local N = 60
-- rows(f): N x 3 tensor with row i = f(i); labels: i % 2 unless given.
local function data(f, label)
  local rows, ys = {}, {}
  for i = 1, N do rows[i] = f(i); ys[i] = label and label(i) or i % 2 end
  return tensor.new(rows), tensor.new(ys)
end

local kinds = {
  logreg = function() return cl.logreg{} end,
  mlp = function() return cl.mlp{hidden = {4}, epochs = 200, seed = 1} end,
  gbdt = function() return cl.gbdt{trees = 10, depth = 2, seed = 1} end,
  forest = function() return cl.forest{trees = 5, depth = 4, seed = 1} end,
  tree = function() return cl.tree{depth = 3} end,
}
local order = {"logreg", "mlp", "gbdt", "forest", "tree"}

-- Fits, then predicts on X; returns "ok", preds or "error", msg.
local function attempt(kind, X, y)
  local m = kinds[kind]()
  local ok, err = pcall(m.fit, m, X, y)
  if not ok then return "error", err end
  local ok2, p = pcall(m.predict, m, X)
  if not ok2 then return "error", p end
  return "ok", p
end

local function check_probs(what, p)
  T.eq(p:numel(), N, what .. ": one prediction per row")
  for i = 1, p:numel() do
    local v = p:get(i)
    if v ~= v then T.ok(false, what .. ": NaN prediction at row " .. i .. " (silent NaN)") end
    T.ok(v >= 0 and v <= 1, what .. ": prediction " .. v .. " at row " .. i .. " outside [0, 1]")
  end
end

local function check_error(what, msg, ...)
  T.ok(type(msg) == "string" and #msg > 0, what .. ": an error with a message")
  local words = {...}
  if #words > 0 then
    local found = false
    for _, w in ipairs(words) do if msg:lower():find(w, 1, true) then found = true end end
    T.ok(found, what .. ": the message names the problem (" .. table.concat(words, "/") ..
      "): " .. msg)
  end
end

-- Cases: name, X/y builder, allowed error words (nil: the fit must succeed), extra check.
local cases = {
  {"constant columns", function()
     return data(function(i) return {1, 5, (i % 2) + 0.1 * (i % 3)} end)
   end, nil},
  {"all columns constant", function()
     return data(function() return {2, 2, 2} end)
   end, nil, function(p) -- nothing to learn: every row gets the same probability near the base rate
     for i = 2, N do T.near(p:get(i), p:get(1), 1e-6, "same prediction everywhere") end
     T.near(p:get(1), 0.5, 0.1, "base rate")
   end},
  {"all-missing column", function()
     return data(function(i) return {(i % 2) + 0.2 * (i % 3), nan, i % 5} end)
   end, {"nan", "missing", "finite"}},
  {"single class (all 0)", function()
     return data(function(i) return {i, i % 3, i % 7} end, function() return 0 end)
   end, {"class", "one", "single", "label", "both"}, function(p)
     for i = 1, N do T.ok(p:get(i) < 0.5, "all-zero labels predict below 0.5") end
   end},
  {"single class (all 1)", function()
     return data(function(i) return {i, i % 3, i % 7} end, function() return 1 end)
   end, {"class", "one", "single", "label", "both"}, function(p)
     for i = 1, N do T.ok(p:get(i) > 0.5, "all-one labels predict above 0.5") end
   end},
  {"perfectly separable", function()
     return data(function(i) return {(i % 2 == 1) and 10 or -10, i % 3, 0} end)
   end, nil, function(p, y)
     T.eq(cl.metrics.roc_auc(y, p), 1, "separable data ranks perfectly")
   end},
  {"huge values (3e38)", function()
     return data(function(i) return {(i % 2) * 3e38, -3e38, i} end)
   end, {"finite", "inf", "overflow", "large"}},
  {"1e308 (inf in float32)", function()
     return data(function(i) return {(i % 2 == 1) and 1e308 or 0, i % 3, i} end)
   end, {"finite", "inf"}},
  {"denormals", function()
     return data(function(i) return {(i % 2) * 1e-42, 1e-44, (i % 3) * 1e-40} end)
   end, nil},
}

for _, c in ipairs(cases) do
  local name, build, errwords, extra = c[1], c[2], c[3], c[4]
  for _, kind in ipairs(order) do
    T.test(kind .. ": " .. name, function()
      local X, y = build()
      local status, r = attempt(kind, X, y)
      if status == "ok" then
        check_probs(kind .. " " .. name, r)
        if extra then extra(r, y) end
      elseif errwords then
        check_error(kind .. " " .. name, r, table.unpack(errwords))
      else
        T.ok(false, kind .. " " .. name .. ": should fit, raised: " .. tostring(r))
      end
    end)
  end
end

-- Predicting rows the model never saw: NaN, inf and huge inputs at predict time must give
-- finite probabilities (trees: the missing branch; linear models: a clear error or a limit).
for _, kind in ipairs(order) do
  T.test(kind .. ": predict on NaN / inf / huge rows", function()
    local X, y = data(function(i) return {(i % 2) + 0.3 * (i % 3), i % 5, i / N} end)
    local m = kinds[kind]()
    m:fit(X, y)
    local bad = tensor.new{{nan, 1, 0}, {inf, 1, 0}, {-inf, 0, 1}, {3e38, -3e38, 1e-42}}
    local ok, p = pcall(m.predict, m, bad)
    if ok then
      for i = 1, p:numel() do
        local v = p:get(i)
        T.ok(v == v and v >= 0 and v <= 1, kind .. ": row " .. i .. " predicts " .. tostring(v))
      end
    else
      check_error(kind .. " predict", p, "nan", "finite", "missing", "inf")
    end
  end)
end

T.done()
