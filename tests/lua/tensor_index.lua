-- t[i] and t[i][j] against numpy (tests/data/tensor_index_ref.lua, written by
-- scripts/ref/tensor_index_ref.py): reads, negative indices, row views, writes through the
-- view, and the indices numpy refuses. The values are float32 and written exactly, so every
-- comparison is exact (a copy of a float32, no arithmetic).
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local R = dofile("tests/data/tensor_index_ref.lua")

local function matrix(flat, r, c)
  local m = {}
  for i = 1, r do
    m[i] = {}
    for j = 1, c do m[i][j] = flat[(i - 1) * c + j] end
  end
  return cl.tensor(m)
end

T.test("t[i][j] reads what numpy's a[i-1][j-1] (and a[-1]) reads", function()
  local A = matrix(R.A, R.A_rows, R.A_cols)
  for _, r in ipairs(R.reads) do
    local i, j, want = r[1], r[2], r[3]
    T.eq(A[i][j], want, ("A[%d][%d]"):format(i, j))
    T.eq(A:get(i < 0 and R.A_rows + 1 + i or i, j < 0 and R.A_cols + 1 + j or j), want)
  end
  local row = A[2]
  T.eq(#row, R.A_cols)
  for j = 1, R.A_cols do T.eq(row[j], R.row2[j], "row view " .. j) end
  local v = cl.tensor(R.v)
  for _, r in ipairs(R.v_reads) do T.eq(v[r[1]], r[2], "v[" .. r[1] .. "]") end
end)

T.test("t[i][j] = x writes through the row view as numpy's a[i][j] = x", function()
  local A = matrix(R.A, R.A_rows, R.A_cols)
  for _, w in ipairs(R.writes) do A[w[1]][w[2]] = w[3] end
  for i = 1, R.A_rows do
    for j = 1, R.A_cols do T.eq(A[i][j], R.B[(i - 1) * R.A_cols + j], ("B[%d][%d]"):format(i, j)) end
  end
  local v = cl.tensor(R.v)
  v[3] = 0.5; v[-1] = -2
  for i = 1, #R.w do T.eq(v[i], R.w[i]) end
end)

T.test("indices numpy refuses raise, naming the index and the shape", function()
  local A = matrix(R.A, R.A_rows, R.A_cols)
  for _, b in ipairs(R.bad) do
    T.ok(b[2], "numpy refuses " .. b[1])
    T.raises(function() return A[b[1]] end, ("tensor index %d out of range for a 4x5 tensor"):format(b[1]))
  end
  T.raises(function() return A[1][6] end, "tensor index 6 out of range")
  T.raises(function() return A[1.5] end, "is not an integer")
end)

T.test("help(cl.tensor) tells how t[i] and t[i][j] index", function()
  local H = require "churnlab.help"
  local s = H.text(cl.tensor)
  T.ok(s:find("t[i][j]", 1, true) and s:find("t[i]", 1, true) and s:find("1-based", 1, true), s)
end)

T.done()
