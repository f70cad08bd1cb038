-- Errors that help a newcomer. "did you mean": an unknown model parameter or option key close to a known one names it
-- (core/base/suggest.c; its distance is checked against brute force in test_suggest.c); a key
-- close to nothing, or no string, gets the plain list; the error still points at this line.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

T.test("a mistyped model parameter names the one meant", function()
  local err = T.raises(function() cl.gbdt{tres = 10} end, "unknown parameter 'tres'",
    "did you mean 'trees'?", "known: objective, trees")
  T.ok(err:find("suggest.lua:%d+:"), "points at the script's line: " .. err)
  T.raises(function() cl.logreg{max_iters = 5} end, "did you mean 'max_iter'?")
  T.raises(function() cl.mlp{epoch = 5} end, "did you mean 'epochs'?")
end)

T.test("scikit-learn / XGBoost / Keras names point at churnlab's", function()
  T.raises(function() cl.gbdt{n_estimators = 10} end, "unknown parameter 'n_estimators' (churnlab calls it 'trees'")
  T.raises(function() cl.gbdt{learning_rate = 0.1} end, "churnlab calls it 'lr'")
  T.raises(function() cl.forest{max_depth = 3} end, "churnlab calls it 'depth'")
  T.raises(function() cl.mlp{batch_size = 32} end, "churnlab calls it 'batch'")
  -- only a name the model has: logreg has no seed
  local err = T.raises(function() cl.logreg{random_state = 1} end, "unknown parameter 'random_state' (known:")
  T.ok(not err:find("calls it", 1, true), err)
end)

T.test("a mistyped option names the one meant", function()
  T.raises(function() cl.read_csv("no/such.csv", {sepp = ","}) end,
    "unknown option 'sepp'; did you mean 'sep'? known: sep")
  T.raises(function() cl.read_csv("no/such.csv", {Header = false}) end, "did you mean 'header'?")
end)

T.test("nothing close: the list alone", function()
  local err = T.raises(function() cl.gbdt{C = 1} end, "unknown parameter 'C' (known: ")
  T.ok(not err:find("did you mean", 1, true), err)
  err = T.raises(function() cl.read_csv("no/such.csv", {[1] = 2}) end, "unknown option '1'; known:")
  T.ok(not err:find("did you mean", 1, true), err)
end)

T.test("a frame given to fit says how a frame becomes model input", function()
  local df = cl.frame{x = {1, 2, 3, 4}, churn = {0, 1, 0, 1}}
  for _, make in ipairs({cl.logreg, cl.gbdt, cl.mlp}) do
    T.raises(function() make{}:fit(df, df.churn) end, "X must be a churnlab.Tensor, got churnlab.Frame",
      "cl.prep.pipeline", "fit_transform")
  end
  -- what the hint says works
  local p = cl.prep.pipeline{target = "churn"}
  local X, y = p:fit_transform(df)
  T.eq(X:shape(), 4)
  T.eq(df:to_tensor{"x"}:shape(), 4)
  -- a tensor of the wrong kind of thing gets no frame hint
  local err = T.raises(function() cl.logreg{}:fit("x", y) end, "got string")
  T.ok(not err:find("pipeline", 1, true), err)
end)

T.done()
