-- The generic classifier class (lua/support/lmodel.c, issue 14): a kind that churnlab knows
-- nothing of, registered from C with cl_model_kinds_register, is served from Lua with no other file
-- edited. The kind is tests/lua/plugins/majority.c (it predicts the training churn rate),
-- built by `make tests-build` into build/<variant>/tests/plugins/majority.so and loaded here
-- with package.loadlib; its rate is checked against the same count done in Lua.
-- The rest checks what every built-in kind now shares: fit returns the model, m:history()
-- prints readably, predict_proba, decision, contrib, save returns the model.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local H = require "churnlab.help"
local tensor = cl.tensor

local exe = arg and arg[-1] or "build/release/churnlab"
local plugin = exe:gsub("[^/]*$", "") .. "tests/plugins/majority.so"
local open, err = package.loadlib(plugin, "luaopen_majority")
assert(open, "the toy kind's plugin is missing (make tests-build builds it): " .. tostring(err))

local n, d = 50, 3
local rows, labels = {}, {}
for i = 1, n do
  rows[i] = {math.sin(i), (i % 7) / 7, (i * 37 % 11) / 11}
  labels[i] = (i % 3 == 0 or i % 5 == 0) and 1 or 0
end
local X, y = tensor(rows), tensor(labels)
local pos = 0
for i = 1, n do pos = pos + labels[i] end

T.test("a kind registered from C is unknown until registered, then listed", function()
  T.raises(function() cl.model.new("majority", {}) end, "unknown model kind 'majority'",
           "logreg, mlp, gbdt, forest, tree")
  T.eq(open(), "majority")
  local kinds = cl.model.kinds()
  T.eq(kinds[#kinds], "majority")
  T.eq(kinds[1], "logreg")
  T.raises(open, "already registered")
end)

local majority = cl.model.kind("majority")
local tmp = os.tmpname()

T.test("construct from its parameter table: defaults, validation, unknown names", function()
  T.eq(cl.model.majority, majority, "reachable as cl.model.majority")
  local m = majority{}
  T.eq(getmetatable(m).__name, "churnlab.Majority")
  T.eq(m:params().shrink, 1)
  T.eq(majority{shrink = 4}:params().shrink, 4)
  T.eq(cl.model.new("majority", {shrink = 2}):params().shrink, 2)
  T.raises(function() majority{shrink = -1} end, "shrink")
  T.raises(function() majority{shrnk = 1} end, "unknown parameter 'shrnk'")
  T.raises(function() majority("x") end, "table expected")
  T.eq(tostring(m), "churnlab.Majority (not fitted)")
  T.eq(m:fitted(), false)
  T.raises(function() m:predict(X) end, "predict: the majority model is not fitted")
  T.raises(function() m:save(tmp) end, "save: the majority model is not fitted")
end)

T.test("fit returns the model; predict, proba, decision and contrib agree with the count", function()
  local m = majority{shrink = 2}
  T.eq(m:fit(X, y, {names = {"a", "b", "c"}}), m)
  local rate = (pos + 1) / (n + 2) -- (positives + shrink/2) / (rows + shrink)
  local p = m:predict(X)
  T.eq(p:numel(), n)
  for i = 1, n, 7 do T.near(p:get(i), rate, 1e-7, "float32 of the rate") end
  local pp = m:predict_proba(X)
  local r, c = pp:shape()
  T.eq(r, n); T.eq(c, 2)
  for i = 1, n, 9 do
    T.eq(pp:get(i, 2), p:get(i))
    T.near(pp:get(i, 1), 1 - rate, 1e-7)
  end
  local z = m:decision(X)
  T.near(z:get(1), math.log(rate / (1 - rate)), 1e-6)
  T.eq(m:predict(X, {margin = true}):get(1), z:get(1))
  local phi, names = m:contrib(X)
  T.eq(table.concat(names, ","), "a,b,c,(base)")
  T.eq(phi:get(3, 1), 0); T.near(phi:get(3, 4), z:get(3), 1e-6)
  T.eq(table.concat(m:features(), ","), "a,b,c")
  T.eq(m:prior(), nil, "a kind without prior correction")
  T.eq(tostring(m), string.format("churnlab.Majority rate %.4g, 3 features", rate))
  T.raises(function() m:predict(tensor.zeros(4, 2)) end, "X has 2 features, the model takes 3")
  T.raises(function() m:fit(X, tensor{1, 0}) end, "expected 50 values")
  T.raises(function() m:fit(X, y, {valid = {X, y}}) end, "unknown option 'valid'",
           "known: names, pipeline, verbose")
  T.raises(function() m:contrib(X, {ref = X}) end, "unknown option 'ref'")
  local bad = tensor(labels); bad:set(4, 2)
  T.raises(function() m:fit(X, bad) end, "label 4 is 2")
end)

T.test("history: numbers, a series, a warning, and a readable print", function()
  local m = majority{shrink = 0}:fit(X, y)
  local h = m:history()
  T.near(h.rate, pos / n, 1e-15); T.eq(h.rows, n); T.eq(math.type(h.rows), "integer")
  -- running rate after each tenth of the rows, counted here by brute force
  T.eq(#h.running_rate, 10)
  for k = 1, 10 do
    local c = 0
    for i = 1, k * n // 10 do c = c + labels[i] end
    T.near(h.running_rate[k], c / (k * n // 10), 1e-15, "tenth " .. k)
  end
  T.eq(h.warning, nil)
  local s = tostring(h)
  T.ok(s:find("majority fit: rate " .. string.format("%.6g", pos / n) .. ", rows 50\n" ..
              "  running_rate: 10 values, ", 1, true) == 1, s)
  T.ok(s:find("min " .. string.format("%.6g", math.min(table.unpack(h.running_rate))), 1, true), s)
  T.ok(require("churnlab.repl").pretty(h):find("majority fit:", 1, true), "the REPL shows the text")
  local ones = {}
  for i = 1, n do ones[i] = 1 end
  local w = majority{}:fit(X, tensor(ones)):history()
  T.eq(w.warning, "majority: y holds one class only (1)")
  T.ok(tostring(w):find("\n  warning: majority: y holds one class only", 1, true), tostring(w))
  T.eq(tostring(majority{}:history()), "majority: no fit in this session (a new or loaded model)")
end)

T.test("save returns the model; cl.load and model.load read it back bit for bit", function()
  local m = majority{shrink = 3}:fit(X, y)
  T.eq(m:save(tmp), m)
  for _, load in ipairs({cl.load, cl.model.load}) do
    local m2 = load(tmp)
    T.eq(getmetatable(m2).__name, "churnlab.Majority")
    T.eq(m2:params().shrink, 3)
    T.eq((m2:predict(X) - m:predict(X)):abs():max(), 0)
    T.eq(tostring(m2), tostring(m))
    T.eq(next(m2:history()), nil, "a loaded model has no fit history")
  end
  T.raises(function() cl.linear.load(tmp) end, "holds a 'majority' model, not logreg")
  -- fresh processes that register the kind after (1) or before (2) the modules are opened and
  -- call cl.load straight away, no constructor having made its class: in (1) the loaders'
  -- fallback serves the file, in (2) churnlab.model made the class when it opened
  local script = os.tmpname()
  local f = assert(io.open(script, "w"))
  f:write(string.format([[
    local first = ...
    if first == "2" then assert(package.loadlib(%q, "luaopen_majority"))() end
    local cl = require "churnlab"
    if first == "1" then assert(package.loadlib(%q, "luaopen_majority"))() end
    local m = cl.load(%q)
    io.write(tostring(m), " ", m:predict(cl.tensor.zeros(2, 3)):get(2))
  ]], plugin, plugin, tmp))
  f:close()
  for _, order in ipairs({"1", "2"}) do
    local out = io.popen(string.format("%q %q %s 2>&1", exe, script, order)):read("a")
    T.eq(out, tostring(m) .. " " .. tostring(m:predict(X):get(1)), "order " .. order)
  end
  os.remove(script)
  local g = os.tmpname()
  cl.gbdt{trees = 2, depth = 2}:fit(X, y):save(g)
  T.eq(getmetatable(cl.model.load(g)).__name, "churnlab.GBDT", "model.load reads any kind")
  os.remove(g)
  m:free(); m:free()
  T.raises(function() m:predict(X) end, "attempt to use a freed churnlab.Majority")
  T.eq(tostring(m), "churnlab.Majority (freed)")
end)

T.test("help: the constructor, the object and the kind show the parameter table", function()
  local s = H.text(majority)
  T.ok(s:find("^cl.model.majority\n"), s)
  T.ok(s:find("majority parameters", 1, true), s)
  T.ok(s:find("shrink%s+number%s+1%s+0 %.%. 1000000%s+pseudo%-count pulling"), s)
  local o = H.text(majority{})
  T.ok(o:find("^churnlab.Majority\n  churnlab.Majority: a churn classifier of kind 'majority'"), o)
  T.ok(o:find("shrink", 1, true) and o:find("history", 1, true) and o:find("predict_proba", 1, true), o)
  local f = H.text(majority{}.fit)
  T.ok(f:find("^churnlab.Majority:fit\n"), f)
  T.ok(f:find("names", 1, true) and not f:find("valid =", 1, true), "only the options it takes: " .. f)
  T.ok(H.text("majority"):find("shrink", 1, true))
end)

T.test("every built-in kind: fit returns it, history prints, save returns it", function()
  local made = {
    logreg = cl.logreg{}, mlp = cl.mlp{hidden = {4}, epochs = 2, seed = 1},
    gbdt = cl.gbdt{trees = 3, depth = 2}, forest = cl.forest{trees = 3, depth = 3},
    tree = cl.tree{depth = 2},
  }
  for _, kind in ipairs({"logreg", "mlp", "gbdt", "forest", "tree"}) do
    local m = made[kind]
    T.eq(m:fit(X, y), m, kind)
    T.ok(tostring(m:history()):find("^" .. kind .. " fit: "), kind .. ": " .. tostring(m:history()))
    T.eq(m:save(tmp), m, kind)
    T.eq(getmetatable(cl.load(tmp)).__name, getmetatable(m).__name)
    local pp, p = m:predict_proba(X), m:predict(X)
    for i = 1, n, 11 do
      T.eq(pp:get(i, 2), p:get(i), kind)
      T.near(pp:get(i, 1) + pp:get(i, 2), 1, 1e-6, kind)
    end
    T.eq((m:decision(X) - m:predict(X, {margin = true})):abs():max(), 0, kind)
  end
  local h = made.mlp:history()
  T.eq(#h.loss, 2); T.eq(h.epochs, 2); T.eq(#h.val_loss, 0, "not measured without valid")
  T.ok(tostring(h):find("\n  val_loss: not measured", 1, true), tostring(h))
  T.eq(made.logreg:history().converged, true)
  T.eq(made.gbdt:history().trees, 3)
  T.eq(made.mlp.contrib, nil, "no exact contributions for a network")
  -- logreg contrib: interventional SHAP against ref, rows add up to the margin
  local mean = {}
  for j = 1, d do
    local s = 0
    for i = 1, n do s = s + rows[i][j] end
    mean[j] = s / n
  end
  local phi = made.logreg:contrib(X, {ref = tensor(mean)})
  local z = made.logreg:decision(X)
  local coef = made.logreg:coef()
  for i = 1, n, 13 do
    local sum = 0
    for j = 1, d + 1 do sum = sum + phi:get(i, j) end
    T.near(sum, z:get(i), 1e-5, "row " .. i .. " adds up")
    T.near(phi:get(i, 1), coef[1] * (rows[i][1] - mean[1]), 1e-5)
  end
  T.raises(function() made.logreg:contrib(X, {ref = tensor{1, 2}}) end, "option 'ref' must be a tensor of 3 values")
end)

os.remove(tmp)
T.done()
