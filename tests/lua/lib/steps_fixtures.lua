-- Shared by tests/lua/{gbdt,forest,mlp}_steps.lua: refit the models of a fixtures script into a
-- scratch folder and compare each with the committed fixture written by the binary from before
-- a fit function was split into named steps.
--
-- Same bytes is what the split must give on the machine and toolchain that wrote the fixtures
-- (the fits use no BLAS and are thread-count independent). Another compiler or another glibc
-- (whose expf/logf have FMA and non-FMA variants chosen per CPU) may round a gradient or a float
-- sum differently in the last bit, so across builds the test accepts equal predictions instead:
-- a last-bit change in a leaf value moves a probability by ~1e-7, while any real change of the
-- fit (another split, another sample, a lost weight) moves it by far more than the 1e-5 allowed.
local cl = require "churnlab"
local M = {}

local function bytes(p)
  local f = assert(io.open(p, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function max_diff(a, b, n)
  local worst = 0
  for i = 1, n do
    local x, z = a[i], b[i] -- probabilities: a vector (a n x 1 tensor gives rows)
    if type(x) ~= "number" then x, z = x[1], z[1] end
    local d = math.abs(x - z)
    if d ~= d then return math.huge end
    if d > worst then worst = d end
  end
  return worst
end

-- The weights_ref rows cut for the fixtures that validate (scripts/ref/{gbdt,mlp}_steps_fixtures):
-- rows 1..450 train (X, y and the sample weights), rows 451..600 are the validation set {Xv, yv}.
function M.train_valid(R)
  local X, y, w = cl.tensor(R.X), cl.tensor(R.y), cl.tensor(R.w)
  local tr, va = {}, {}
  for i = 1, 450 do tr[i] = i end
  for i = 451, #R.X do va[#va + 1] = i end
  return X:index_rows(tr), y:index_rows(tr), w:index_rows(tr), {X:index_rows(va), y:index_rows(va)}
end

function M.check(T, script, fixtures, names)
  local R = dofile("tests/data/weights_ref.lua")
  local X = cl.tensor(R.X)
  local dir = os.tmpname()
  os.remove(dir)
  assert(os.execute("mkdir " .. dir))
  arg = {[0] = script, dir}
  dofile(script)
  local same = 0
  for _, name in ipairs(names) do
    local a, b = dir .. "/" .. name .. ".clm", fixtures .. "/" .. name .. ".clm"
    if bytes(a) == bytes(b) then
      same = same + 1
    else
      local d = max_diff(cl.load(a):predict(X), cl.load(b):predict(X), #R.X)
      T.ok(d <= 1e-5, string.format("%s: the refitted model predicts %.3g away from the fixture", name, d))
    end
    os.remove(a)
  end
  os.remove(dir)
  if same < #names then
    print(string.format("note %d of %d models differ in bytes from the fixtures (another build?); " ..
      "their predictions agree within 1e-5", #names - same, #names))
  end
end

return M
