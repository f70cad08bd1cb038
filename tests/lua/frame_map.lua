-- map/apply with Lua functions, frame <-> tensor and lists with missing values against pandas
-- (tests/data/frame_map_ref.lua, written by scripts/ref/frame_map_ref.py; false = missing).
-- Tolerances: map/apply run the same double arithmetic on the same doubles (v * 10 + 1,
-- x * 2 + y): exact. Tensors hold float32, so the reference rounds to float32 as well:
-- exact. Column means of a float32 frame: pandas may accumulate in float32 (4 values,
-- relative rounding 6e-8 each): 1e-6.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local R = dofile("tests/data/frame_map_ref.lua")

local function list(v, n)
  local t = {n = n}
  for i = 1, n do if v[i] ~= false then t[i] = v[i] end end
  return t
end
local df = cl.frame({s = list(R.s, R.n), x = list(R.x, R.n), y = list(R.y, R.n)},
                    {names = {"s", "x", "y"}})

local function same(col, want, what)
  local got = col:totable()
  T.eq(#col, #want, what .. ": rows")
  for i = 1, #want do
    if want[i] == false then T.eq(got[i], nil, what .. " row " .. i .. " missing")
    else T.eq(got[i], want[i], what .. " row " .. i) end
  end
end

T.test("map with a Lua function = pandas Series.map(f, na_action='ignore')", function()
  same(df.x:map(function(v) return v and v * 10 + 1 end), R.map_x_affine, "x * 10 + 1")
  same(df.x:map(function(v) if v ~= nil then return v > 1 end end), R.map_x_gt1, "x > 1")
  local up = df.s:map(function(v) return v and v:upper() end)
  T.eq(up:type(), "cat")
  same(up, R.map_s_upper, "upper")
  same(df.s:map(function(v) return v and #v end), R.map_s_len, "len")
end)

T.test("apply over rows = pandas DataFrame.apply(f, axis=1)", function()
  same(df:apply(function(r) return r.x and r.x * 2 + r.y end), R.apply_xy, "x * 2 + y")
  same(df:apply(function(r) return (r.s or "?") .. (r.y > 0 and "+" or "-") end),
       R.apply_label, "label")
end)

T.test("frame -> tensor = to_numpy(float32); tensor -> frame = DataFrame(arr)", function()
  local t = df:to_tensor{"x", "y"}
  local r, c = t:shape()
  T.eq(r, R.n); T.eq(c, 2)
  for i = 1, R.n do
    for j = 1, 2 do
      local want, got = R.to_tensor_xy[(i - 1) * 2 + j], t[i][j]
      if want == false then T.ok(got ~= got, "missing -> NaN at " .. i)
      else T.eq(got, want, ("to_tensor[%d][%d]"):format(i, j)) end
    end
  end
  local m = {}
  for i = 1, 4 do m[i] = {R.from_tensor_in[3 * i - 2], R.from_tensor_in[3 * i - 1], R.from_tensor_in[3 * i]} end
  local back = cl.frame_from_tensor(cl.tensor(m), {"p", "q", "r"})
  same(back.q, R.from_tensor_q, "from_tensor q")
  for k, nm in ipairs{"p", "q", "r"} do
    T.near(back[nm]:mean(), R.from_tensor_mean[k], 1e-6, "mean " .. nm)
  end
end)

T.test("lists with missing values (holes, short lists) = pandas with None", function()
  -- the Lua lists: holes inside, shorter lists padded to the longest (5: a's {.., nil, nil}
  -- needs n, or a longer sibling; here b and c are cut short and a carries n = 5)
  local h = cl.frame({a = {1.5, nil, 3, n = 5}, b = {"u", nil, "v"}, c = {nil, 2}},
                     {names = {"a", "b", "c"}})
  T.eq(#h, R.holes_n)
  for k, nm in ipairs{"a", "b", "c"} do T.eq(h[nm]:count(), R.holes_count[k], "count " .. nm) end
  same(h.a:isna(), R.holes_isna_a, "isna a")
  same(h.b:isna(), R.holes_isna_b, "isna b")
  T.eq(h.a:mean(), R.holes_mean_a)
  T.eq(h.c:sum(), R.holes_sum_c)
  T.eq(h.b:nunique(), R.holes_nunique_b)
  T.eq(#h:dropna{subset = {"a"}}, R.holes_dropna_rows)
end)

T.done()
