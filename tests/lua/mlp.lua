-- Tests of churnlab.mlp through the binding: fit history, early stopping, save/load,
-- corruption of every byte, argument errors.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local tensor = cl.tensor

-- y = xor of the signs of the first two columns: needs the hidden layer
local function xor_data(n, seed)
  local X = tensor.randn(n, 4, {seed = seed})
  local y = {}
  for i = 1, n do y[i] = ((X:get(i, 1) > 0) ~= (X:get(i, 2) > 0)) and 1 or 0 end
  return X, tensor(y)
end
local X, y = xor_data(800, 1)
local Xv, yv = xor_data(400, 2)
local tmp = os.tmpname()

T.test("mlp learns xor and reports a history per epoch", function()
  local m = cl.mlp{hidden = {16, 16}, epochs = 25, lr = 0.01, seed = 3}
  T.eq(tostring(m), "churnlab.MLP ?-16-16-1 relu adam, not fitted")
  T.eq(m:fit(X, y, {valid = {Xv, yv}}), m, "fit returns the model")
  local h = m:history()
  T.eq(#h.loss, 25); T.eq(#h.val_loss, 25); T.eq(#h.val_auc, 25)
  T.ok(h.loss[25] < h.loss[1], "training loss falls")
  T.ok(cl.metrics.roc_auc(yv, m:predict(Xv)) > 0.95, "xor solved")
  T.eq(tostring(m), "churnlab.MLP 4-16-16-1 relu adam, fitted 25 epochs")
  T.eq(m:nparams(), 4 * 16 + 16 + 16 * 16 + 16 + 16 + 1)
end)

T.test("early stopping restores the best epoch", function()
  local m = cl.mlp{hidden = {32}, epochs = 300, lr = 0.05, seed = 1}
  local h = m:fit(X, y, {valid = {Xv, yv}, early_stop = 4}):history()
  T.ok(h.stopped_early)
  T.eq(h.epochs, h.best_epoch + 4)
  T.near(cl.metrics.log_loss(yv, m:predict(Xv)), h.val_loss[h.best_epoch], 1e-5)
end)

T.test("same seed, same model; other seed, other model", function()
  local function fit(seed)
    local m = cl.mlp{hidden = {8}, epochs = 2, seed = seed}
    m:fit(X, y)
    return m:predict(Xv)
  end
  local a, b, c = fit(5), fit(5), fit(6)
  T.eq(a:get(7), b:get(7)); T.eq(a:get(99), b:get(99))
  T.ok(a:get(7) ~= c:get(7))
end)

T.test("save and cl.load give bit-identical predictions and names", function()
  local m = cl.mlp{hidden = {4}, epochs = 2, batch_norm = true, dropout = 0.1}
  m:fit(X, y, {names = {"a", "b", "c", "d"}})
  T.eq(m:save(tmp), m, "save returns the model")
  local m2 = assert(cl.load(tmp))
  T.eq(getmetatable(m2).__name, "churnlab.MLP")
  local p1, p2 = m:predict(Xv), m2:predict(Xv)
  for i = 1, 400 do if p1:get(i) ~= p2:get(i) then T.ok(false, "row " .. i .. " differs") end end
  T.eq(m2:names()[3], "c")
  T.eq(m2:params().batch_norm, true)
end)

T.test("a file with any byte flipped is refused by cl.load", function()
  local m = cl.mlp{hidden = {2}, epochs = 1}
  m:fit(X, y)
  m:save(tmp)
  local f = assert(io.open(tmp, "rb")); local bytes = f:read("a"); f:close()
  local bad = os.tmpname()
  for i = 1, #bytes do
    local c = string.char(bytes:byte(i) ~ 0x5a)
    local g = assert(io.open(bad, "wb")); g:write(bytes:sub(1, i - 1), c, bytes:sub(i + 1)); g:close()
    local ok, err = pcall(cl.load, bad)
    if ok or not tostring(err):find(bad, 1, true) then
      T.ok(false, "byte " .. i .. ": " .. tostring(err))
    end
  end
  os.remove(bad)
end)

T.test("argument errors are clear", function()
  T.raises(function() cl.mlp{hidden = {0}} end, "hidden")
  T.raises(function() cl.mlp{activation = "sigmoid"} end, "activation")
  T.raises(function() cl.mlp{epochs = 0} end, "epochs")
  T.raises(function() cl.mlp{nope = 1} end, "unknown parameter 'nope'")
  local m = cl.mlp{epochs = 1}
  T.raises(function() m:predict(X) end, "predict: the mlp model is not fitted")
  T.raises(function() m:fit(X, tensor{1, 0}) end, "expected 800 values")
  T.raises(function() m:fit({}, y) end, "churnlab.Tensor")
  T.raises(function() m:fit(X, y, {valid = {tensor.randn(5, 3), tensor{1, 0, 1, 0, 1}}}) end,
           "has 3 columns")
  local Xn = tensor.randn(10, 2); Xn:set(4, 2, 0 / 0)
  T.raises(function() m:fit(Xn, tensor{0, 1, 0, 1, 0, 1, 0, 1, 0, 1}, {names = {"u", "v"}}) end,
           "row 4, column 2 ('v') is NaN")
  T.raises(function() m:fit(X, y, {names = {"a"}}) end, "1 names but X has 4 columns")
  T.raises(function() m:fit(X, y, {vaild = {Xv, yv}}) end, "unknown option 'vaild'", "valid, valid_split, early_stop")
  T.raises(function() m:fit(X, y, {pipeline = 3}) end, "fitted churnlab.Pipeline")
end)

T.test("valid_split validates on the last rows, as Keras' validation_split", function()
  local opts = {hidden = {8}, epochs = 6, lr = 0.01, seed = 5}
  local a = cl.mlp(opts)
  local ha = a:fit(X, y, {valid_split = 0.25, early_stop = 3}):history()
  -- the same as training on rows 1..600 and validating on 601..800 by hand (bit for bit:
  -- one binary, one process, the same arithmetic on the same rows)
  local idx_tr, idx_va = {}, {}
  for i = 1, 600 do idx_tr[i] = i end
  for i = 601, 800 do idx_va[#idx_va + 1] = i end
  local b = cl.mlp(opts)
  local hb = b:fit(X:index_rows(idx_tr), y:index_rows(idx_tr),
                   {valid = {X:index_rows(idx_va), y:index_rows(idx_va)}, early_stop = 3}):history()
  T.eq(#ha.val_loss, #hb.val_loss)
  for e = 1, #ha.val_loss do T.eq(ha.val_loss[e], hb.val_loss[e], "epoch " .. e) end
  T.eq((a:predict(Xv) - b:predict(Xv)):abs():max(), 0)
  T.raises(function() cl.mlp(opts):fit(X, y, {valid_split = 1.5}) end, "fraction in [0, 1)")
  T.raises(function() cl.mlp(opts):fit(X, y, {valid_split = 0.0001}) end, "leaves 0 validation rows")
  T.raises(function() cl.mlp(opts):fit(X, y, {valid_split = 0.2, valid = {Xv, yv}}) end,
           "not both")
end)

T.test("defaults are Keras' Dense: Glorot uniform, Adam eps 1e-7", function()
  local p = cl.mlp{}:params()
  T.eq(p.init, "auto"); T.eq(p.eps, 1e-7)
  local a = cl.mlp{hidden = {8}, epochs = 2, seed = 9}; a:fit(X, y)
  local g = cl.mlp{hidden = {8}, epochs = 2, seed = 9, init = "glorot"}; g:fit(X, y)
  local h = cl.mlp{hidden = {8}, epochs = 2, seed = 9, init = "he"}; h:fit(X, y)
  T.eq((a:predict(Xv) - g:predict(Xv)):abs():max(), 0)
  T.ok((a:predict(Xv) - h:predict(Xv)):abs():max() > 1e-3, "he differs from the default")
end)

os.remove(tmp)
T.done()
