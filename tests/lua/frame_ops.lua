-- churnlab.frame whole-frame operations against pandas 1.5.3 (tests/data/frame_ops_ref.lua,
-- written by scripts/ref/frame_ref.py): joins (every kind, one and two keys, duplicate and
-- missing keys, suffixes), dropna, fillna, drop_duplicates, cut, qcut, corr; sample's
-- structural and statistical properties (its random stream is churnlab's own, not numpy's).
-- Joins, cleaning and binning copy values: compared exactly. Correlations: pandas sums in
-- another order (Welford updates); 1e-12 absolute covers the rounding of 40-term sums.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local R = dofile("tests/data/frame_ops_ref.lua")

local function frame_of(spec)
  local cols = {}
  for _, nm in ipairs(spec.names) do
    local t = {n = spec.n}
    for i = 1, spec.n do if spec.cols[nm][i] ~= false then t[i] = spec.cols[nm][i] end end
    cols[nm] = t
  end
  return cl.frame(cols, {names = spec.names})
end

-- same columns in the same order, same cells (tol: absolute, for num cells)
local function same_frame(got, spec, what, tol)
  T.eq(table.concat(got:names(), ","), table.concat(spec.names, ","), what .. ": column names")
  T.eq(#got, spec.n, what .. ": rows")
  for _, nm in ipairs(spec.names) do
    local g = got[nm]:totable()
    for i = 1, spec.n do
      local r, v = spec.cols[nm][i], g[i]
      if r == false then T.eq(v, nil, what .. " " .. nm .. " row " .. i .. " missing")
      elseif type(r) == "string" then T.eq(v, r, what .. " " .. nm .. " row " .. i)
      else T.ok(v and math.abs(v - r) <= (tol or 0), what .. " " .. nm .. " row " .. i .. ": " .. tostring(v) .. " vs " .. r) end
    end
  end
end

local L, Rt, D, C = frame_of(R.L), frame_of(R.R), frame_of(R.D), frame_of(R.C)

T.test("joins = pandas merge (inner, left, right, outer; one and two keys)", function()
  for _, how in ipairs{"inner", "left", "right", "outer"} do
    for _, keys in ipairs{{"k"}, {"k", "k2"}} do
      local tag = how .. "_" .. table.concat(keys, "_")
      same_frame(L:join(Rt, keys, {how = how, suffixes = {"_x", "_y"}}), R.join[tag], "join " .. tag)
    end
  end
end)

T.test("join semantics: suffix, missing keys, empty frames, errors", function()
  -- the old one-sided suffix stays the default
  local j = L:join(Rt, "k")
  T.eq(table.concat(j:names(), ","), "k,k2,x,lid,k2_right,x_right,y,rid")
  -- a missing key never matches, not even another missing key
  local a = cl.frame{k = {"a", nil, n = 2}, v = {1, 2}}
  local b = cl.frame{k = {nil, "a", n = 2}, w = {3, 4}}
  T.eq(#a:join(b, "k"), 1)
  local o = a:join(b, "k", {how = "outer"})
  T.eq(#o, 3); T.eq(o.k:totable()[1], "a"); T.eq(o.k:totable()[2], nil); T.eq(o.v:totable()[2], 2)
  T.eq(o.w:totable()[3], 3)
  -- num keys coalesce too
  local r = cl.frame{k = {1, 2}, v = {1, 2}}:join(cl.frame{k = {2, 3}, w = {5, 6}}, "k", {how = "right"})
  T.eq(table.concat(r.k:totable(), ","), "2,3"); T.eq(r.v:totable()[2], nil)
  -- empty frames
  local e = a:head(0)
  for _, how in ipairs{"inner", "left", "right", "outer"} do
    T.eq(#e:join(b, "k", {how = how}), (how == "right" or how == "outer") and 2 or 0, how .. " with an empty left")
    T.eq(#a:join(e, "k", {how = how}), (how == "left" or how == "outer") and 2 or 0, how .. " with an empty right")
  end
  T.raises(function() a:join(b, "k", {how = "cross"}) end, "how must be \"inner\", \"left\", \"right\" or \"outer\"")
  T.raises(function() a:join(b, "nosuch") end, "no column 'nosuch'")
  T.raises(function() a:join(b, "k", {suffixes = {"_x"}}) end, "suffixes must be {left, right}")
  T.raises(function() a:join(cl.frame{k = {1}}, "k") end, "key 'k' is cat on the left and num on the right")
  local c1 = cl.frame{k = {"a"}, v = {1}, v_right = {2}}
  T.raises(function() c1:join(cl.frame{k = {"a"}, v = {3}}, "k") end, "column 'v_right' would appear twice")
end)

T.test("dropna, fillna, ffill/bfill, drop_duplicates = pandas", function()
  local C_ = R.clean
  same_frame(D:dropna(), C_.dropna_any, "dropna")
  same_frame(D:dropna{how = "all", subset = {"a", "b", "s"}}, C_.dropna_all, "dropna all")
  same_frame(D:dropna{subset = "a"}, C_.dropna_a, "dropna subset a")
  same_frame(D:dropna{subset = {"a", "s"}, how = "all"}, C_.dropna_as_all, "dropna subset all")
  same_frame(D:fillna(0), C_.fillna_0, "fillna 0 (num columns)")
  same_frame(D:fillna{a = 9, s = "z"}, C_.fillna_map, "fillna map")
  same_frame(D:fillna{method = "ffill"}, C_.ffill, "ffill")
  same_frame(D:fillna{method = "bfill"}, C_.bfill, "bfill")
  same_frame(D:fillna{method = "ffill", subset = "s"}, C_.ffill_s, "ffill subset")
  same_frame(D:drop_duplicates{subset = {"a", "s"}}, C_.dup_first, "drop_duplicates first")
  same_frame(D:drop_duplicates{subset = {"a", "s"}, keep = "last"}, C_.dup_last, "drop_duplicates last")
  same_frame(D:drop_duplicates{subset = {"a", "s"}, keep = false}, C_.dup_none, "drop_duplicates none")
  same_frame(D:drop_duplicates{subset = "a"}, C_.dup_a, "drop_duplicates a")
  -- duplicated is the mask drop_duplicates drops
  for _, keep in ipairs{"first", "last", false} do
    same_frame(D:filter(~D:duplicated{subset = {"a", "s"}, keep = keep}),
               C_[keep == "first" and "dup_first" or keep == "last" and "dup_last" or "dup_none"], "duplicated " .. tostring(keep))
  end
end)

T.test("cleaning: strings, errors, empty frames", function()
  local f = cl.frame{x = {1, nil, 3, n = 3}, s = {"a", nil, "a", n = 3}}
  T.eq(f:fillna("z").s:totable()[2], "z"); T.eq(f:fillna("z").x:totable()[2], nil)
  T.eq(#f:drop_duplicates(), 3); T.eq(#f:drop_duplicates{subset = "s"}, 2)
  T.eq(#f:drop_duplicates{subset = "s", keep = false}, 1)
  T.raises(function() f:dropna{subset = "nosuch"} end, "no column 'nosuch'")
  T.raises(function() f:dropna{how = "some"} end, "how must be \"any\" or \"all\"")
  T.raises(function() f:fillna{x = "a"} end, "column 'x' is num: it needs a number")
  T.raises(function() f:fillna{s = 1} end, "column 's' is cat: it needs a string")
  T.raises(function() f:fillna{nosuch = 1} end, "no column 'nosuch'")
  T.raises(function() f:fillna{method = "pad"} end, "method must be \"ffill\" or \"bfill\"")
  T.raises(function() f:fillna(true) end, "a number, a string")
  T.raises(function() f:drop_duplicates{keep = "middle"} end, "keep must be \"first\", \"last\" or false")
  T.raises(function() f:drop_duplicates{subset = {"x", "nosuch"}} end, "no column 'nosuch'")
  local e = cl.frame{x = {}, s = {}}
  T.eq(#e:dropna(), 0); T.eq(#e:fillna(0), 0); T.eq(#e:fillna{method = "bfill"}, 0)
  T.eq(#e:drop_duplicates(), 0); T.eq(#e:sample{n = 0}, 0)
end)

T.test("sample: structure, seeds, and uniformity", function()
  local n = 200
  local ids = {}
  for i = 1, n do ids[i] = i end
  local f = cl.frame{id = ids}
  local s = f:sample{n = 50, seed = 7}
  T.eq(#s, 50)
  local seen, ok = {}, true
  for _, v in ipairs(s.id:totable()) do ok = ok and not seen[v] and v >= 1 and v <= n; seen[v] = true end
  T.ok(ok, "without replacement: 50 distinct row ids of the frame")
  T.eq(table.concat(f:sample{n = 50, seed = 7}.id:totable(), ","), table.concat(s.id:totable(), ","), "same seed, same rows")
  T.ok(table.concat(f:sample{n = 50, seed = 8}.id:totable(), ",") ~= table.concat(s.id:totable(), ","), "another seed, other rows")
  T.eq(#f:sample{frac = 0.25}, 50); T.eq(#f:sample(), 1)
  T.eq(#f:sample{frac = 1}, n)
  local all = f:sample{frac = 1, seed = 3}.id:totable()
  table.sort(all); T.eq(table.concat(all, ","), table.concat(ids, ","), "frac = 1 is a permutation")
  -- uniformity: 4000 draws with replacement from 200 rows in 10 bins of 20 ids: chi-square
  -- with 9 degrees of freedom; 27.88 is its 0.999 quantile (a fixed seed: deterministic)
  local big = f:sample{n = 4000, replace = true, seed = 11}.id:totable()
  T.eq(#big, 4000)
  local bins = {}
  for b = 1, 10 do bins[b] = 0 end
  for _, v in ipairs(big) do local b = (v - 1) // 20 + 1; bins[b] = bins[b] + 1 end
  local chi = 0
  for b = 1, 10 do chi = chi + (bins[b] - 400) ^ 2 / 400 end
  T.ok(chi < 27.88, "chi-square " .. chi)
  -- the first row drawn without replacement is uniform over seeds too
  local first = {}
  for b = 1, 10 do first[b] = 0 end
  for seed = 1, 2000 do local v = f:sample{n = 1, seed = seed}.id:totable()[1]; local b = (v - 1) // 20 + 1; first[b] = first[b] + 1 end
  chi = 0
  for b = 1, 10 do chi = chi + (first[b] - 200) ^ 2 / 200 end
  T.ok(chi < 27.88, "chi-square over seeds " .. chi)
  T.raises(function() f:sample{n = 201} end, "cannot take 201 rows of 200 without replacement")
  T.raises(function() f:sample{n = 1, frac = 0.5} end, "give n or frac, not both")
  T.raises(function() f:sample{frac = 1.5} end, "frac must be in [0, 1]")
  T.raises(function() f:sample{n = 2.5} end, "n must be a whole number")
  T.eq(#f:sample{frac = 1.5, replace = true}, 300)
end)

T.test("cut and qcut = pandas (edges and labels)", function()
  local function col(v) local t = {n = #v} for i = 1, #v do if v[i] ~= false then t[i] = v[i] end end return cl.frame{x = t}.x end
  local xc, xi = col(R.xc), col(R.xi)
  local function same(c, ref, what)
    local g = c:totable()
    for i = 1, #ref do
      if ref[i] == false then T.eq(g[i], nil, what .. " row " .. i) else T.eq(g[i], ref[i], what .. " row " .. i) end
    end
  end
  local K = R.cut
  same(xc:cut(4), K.cut4, "cut 4"); same(xc:cut(5, {right = false}), K.cut5_left, "cut 5 left")
  same(xc:cut{-5, -1, 0, 1, 5}, K.cut_edges, "cut edges")
  same(xc:cut({-5, -1, 0, 1, 5}, {include_lowest = true}), K.cut_edges_low, "cut edges lowest")
  same(xc:cut{-5.5, -0.25, 0.5, 2.75, 6.0}, K.cut_edges_float, "cut float edges")
  same(xc:cut({-5, -1, 0, 1, 5}, {right = false}), K.cut_edges_left, "cut edges left")
  same(xi:cut(3), K.cut3_int, "cut 3 ints"); same(xi:cut(7), K.cut7_int, "cut 7 ints")
  same(xc:qcut(4), K.qcut4, "qcut 4"); same(xc:qcut(10), K.qcut10, "qcut 10"); same(xi:qcut(3), K.qcut3_int, "qcut 3 ints")
  same(xc:cut({-5, 0, 5}, {labels = {"neg", "pos"}}), K.cut_labels, "cut labels")
  same(xc:cut(4, {labels = false}), K.cut_codes, "cut codes")
  -- the dictionary holds the bins in order, so value_counts and crosstabs read naturally
  T.eq(xc:cut(4):unique()[1] ~= nil, true)
  T.raises(function() xc:cut{1, 0} end, "bin edges must increase")
  T.raises(function() xc:cut(0) end, "number of bins must be a whole number")
  T.raises(function() xc:cut({0, 1, 2}, {labels = {"a"}}) end, "1 labels given for 2 bins")
  T.raises(function() cl.frame{s = {"a"}}.s:cut(2) end, "cut: needs a num column, got cat")
  T.raises(function() cl.frame{x = {1, 1, 1, 2}}.x:qcut(4) end, "bin edges must be unique")
  T.raises(function() cl.frame{x = {nil, n = 1}}.x:qcut(2) end, "every value is missing")
  T.eq(#cl.frame{x = {}}.x:cut{0, 1}, 0)
end)

T.test("corr = pandas (pearson, spearman; pairwise complete)", function()
  same_frame(C:corr(), R.corr.pearson, "pearson", 1e-12)
  same_frame(C:corr{method = "spearman"}, R.corr.spearman, "spearman", 1e-12)
  T.raises(function() C:corr{method = "kendall"} end, "method must be \"pearson\" or \"spearman\"")
  T.eq(#cl.frame{x = {}}:corr(), 1)
end)
T.test("pivot_table, pivot, melt = pandas", function()
  local P, M, X = frame_of(R.P), frame_of(R.M), R.reshape
  -- means, medians and std are sums of <= 60 two-decimal values in another order: 1e-12
  for _, fn in ipairs{"mean", "sum", "count", "max", "median", "std"} do
    same_frame(P:pivot_table{index = "g", columns = "h", values = "v", aggfunc = fn}, X["pt_" .. fn], "pivot_table " .. fn, 1e-12)
  end
  same_frame(P:pivot_table{index = "g", columns = "h", values = "v", aggfunc = "q90"}, X.pt_q90, "pivot_table q90", 1e-12)
  same_frame(P:pivot_table{index = {"g", "u"}, columns = "h", values = "v"}, X.pt_two, "pivot_table two keys", 1e-12)
  same_frame(P:pivot_table{index = "u", columns = "g", values = "v", aggfunc = "sum", fill_value = 0}, X.pt_fill, "pivot_table fill", 1e-12)
  same_frame(P:pivot_table{index = "g", columns = "u", values = "w", aggfunc = "nunique"}, X.pt_nunique, "pivot_table nunique")
  local P2 = frame_of(R.P2)
  same_frame(P2:pivot_table{index = "g", columns = "h", values = "v"}, X.pt2_mean, "pivot_table dropna rules")
  same_frame(P2:pivot_table{index = "g", columns = "h", values = "v", aggfunc = "sum", fill_value = -1}, X.pt2_fill, "pivot_table sum fill")
  local Q = P:dropna{subset = {"g", "h"}}:drop_duplicates{subset = {"g", "h"}}
  same_frame(Q:pivot{index = "g", columns = "h", values = "v"}, X.pivot, "pivot")
  same_frame(M:melt{id_vars = {"id", "s"}, value_vars = {"a", "b"}}, X.melt, "melt")
  same_frame(M:melt{id_vars = "id", value_vars = "b", var_name = "k", value_name = "x"}, X.melt_names, "melt names")
  same_frame(M:melt{id_vars = "id", value_vars = "s"}, X.melt_cat, "melt cat")
  T.eq(#M:select{"a", "b"}:melt(), 12)
  T.raises(function() P:pivot{index = "g", columns = "h", values = "v"} end, "two rows fall in one cell")
  T.raises(function() P:pivot_table{index = "g", columns = "nosuch", values = "v"} end, "no column 'nosuch'")
  T.raises(function() P:pivot_table{index = "g", columns = "h", values = "v", aggfunc = "avg"} end, "avg")
  T.raises(function() P:pivot_table{index = "g", columns = "h", values = "w", aggfunc = "mean"} end, "cat column 'w'")
  T.raises(function() P:pivot_table{columns = "h", values = "v"} end, "option 'index'")
  T.raises(function() M:melt{id_vars = "id"} end, "value columns must share one type")
  T.raises(function() M:melt{id_vars = "nosuch"} end, "no column 'nosuch'")
  local e = P:head(0)
  T.eq(#e:pivot_table{index = "g", columns = "h", values = "v"}, 0)
  T.eq(#e:melt{id_vars = "g", value_vars = {"h", "v"}}, 0)
end)
local function listcol(v, n)
  local t = {n = n or #v}
  for i = 1, t.n do if v[i] ~= false then t[i] = v[i] end end
  return cl.frame{x = t}.x
end
local function same_list(col, ref, what)
  local g = col:totable()
  for i = 1, #ref do
    if ref[i] == false then T.eq(g[i], nil, what .. " row " .. i)
    elseif ref[i] ~= "SKIP" then T.eq(g[i], ref[i], what .. " row " .. i) end
  end
end

T.test("date parts and add_months = pandas .dt and DateOffset(months)", function()
  local Dd = R.dates
  local d = listcol(Dd.d, #Dd.year):astype("date")
  for _, part in ipairs{"year", "month", "day", "weekday", "dayofyear", "quarter", "hour"} do
    same_list(d[part](d), Dd[part], part)
  end
  for _, k in ipairs{1, -1, 13, -25, 1201} do same_list(d:add_months(k), Dd["add_" .. k], "add_months " .. k) end
  T.eq(d:add_months(1):type(), "date")
  T.raises(function() cl.frame{x = {1}}.x:year() end, "needs a date column, got num")
  T.raises(function() d:add_months(1.5) end, "whole number of months")
  T.eq(#cl.frame{x = {}}.x:astype("date"):year(), 0)
end)

T.test("string methods = pandas .str (literal patterns; ASCII case mapping)", function()
  local S = R.strs
  local s = listcol(S.s)
  same_list(s:lower(), S.lower, "lower"); same_list(s:upper(), S.upper, "upper")
  same_list(s:strip(), S.strip, "strip"); same_list(s:replace("-", "+"), S.replace, "replace")
  same_list(s:replace("b-c", ""), S.replace2, "replace to empty")
  same_list(s:str_len(), S.len, "str_len")
  same_list(s:contains("-"), S.contains, "contains"); same_list(s:startswith("a"), S.startswith, "startswith")
  same_list(s:endswith("-"), S.endswith, "endswith")
  for _, k in ipairs{0, 1, 2, -1} do same_list(s:split_part("-", k >= 0 and k + 1 or k), S["split_" .. k], "split part " .. k) end
  T.eq(s:lower():unique()[1] ~= nil, true)
  T.raises(function() cl.frame{x = {1}}.x:lower() end, "lower: needs a cat (string) column, got num")
  T.raises(function() s:split_part("", 1) end, "non-empty separator")
  T.raises(function() s:split_part("-", 0) end, "part number")
  T.raises(function() s:replace("", "x") end, "non-empty pattern")
  T.raises(function() s:contains() end, "string expected")
  local e = cl.frame{s = {"a"}}:head(0).s
  T.eq(#e:upper(), 0); T.eq(#e:contains("a"), 0); T.eq(#e:split_part("-", 1), 0)
end)
T.test("group-by quantiles, nunique and Lua aggregations = pandas", function()
  local P, G = frame_of(R.P), R.groupq
  local r = P:dropna{subset = "g"}:groupby("g"):agg{
    v = {"q50", "q90", "q2.5", function(v)
      local lo, hi
      for i = 1, v.n do local x = v[i] if x then lo = math.min(lo or x, x); hi = math.max(hi or x, x) end end
      return hi and hi - lo
    end}, w = "nunique"}
  same_list(r.g, G.g, "keys")
  -- quantiles interpolate two sorted values: 1e-12
  for _, q in ipairs{"q50", "q90", "q2.5"} do
    local got = r["v_" .. q]:totable()
    for i = 1, #G[q] do T.near(got[i], G[q][i], 1e-12, "quantile " .. q .. " group " .. i) end
  end
  local got = r.v:totable()
  for i = 1, #G.range do T.near(got[i], G.range[i], 1e-12, "range group " .. i) end
  same_list(r.w_nunique, G.nunique, "nunique")
  -- a Lua aggregation sees the group's values in row order, missing values as nil with n set
  local f = cl.frame{g = {"a", "b", "a", "a"}, x = {1, 2, nil, 4}}
  local seen = {}
  local s = f:groupby("g"):agg{{"x", function(v) seen[#seen + 1] = v.n .. ":" .. tostring(v[1]) .. "," .. tostring(v[2]) .. "," .. tostring(v[3]); return "n" .. v.n end, "lab"}}
  T.eq(table.concat(seen, ";"), "3:1,nil,4;1:2,nil,nil"); T.eq(s.lab:type(), "cat"); T.eq(s.lab:totable()[1], "n3")
  T.raises(function() f:groupby("g"):agg{x = "q101"} end, "percent in [0, 100]")
  T.raises(function() f:groupby("g"):agg{x = function() return {} end} end, "returned a table for group 1")
  T.raises(function() f:groupby("g"):agg{x = function() error("boom") end} end, "boom")
  T.raises(function() f:groupby("g"):agg{nosuch = function() return 1 end} end, "no column 'nosuch'")
  T.eq(#cl.frame{g = {"a"}, x = {1}}:head(0):groupby("g"):agg{x = function() return 1 end}, 0)
end)

T.test("map and apply with Lua functions; frame <-> tensor; lists with holes", function()
  local f = cl.frame({s = {"a", nil, "b"}, x = {1, 2, nil}}, {names = {"s", "x"}})
  local m = f.x:map(function(v) return v and v * 10 end)
  T.eq(m:type(), "num"); T.eq(m:totable()[1], 10); T.eq(m:totable()[3], nil)
  local u = f.s:map(function(v) return v and v:upper() end)
  T.eq(u:type(), "cat"); T.eq(u:totable()[3], "B"); T.eq(u:totable()[2], nil)
  T.eq(f.x:map(function(v) return v and v > 1 end):totable()[2], 1)
  local a = f:apply(function(r) return (r.s or "?") .. ":" .. (r.x or "-") end)
  T.eq(table.concat(a:totable(), ","), "a:1,?:2,b:-")
  T.raises(function() f.x:map(function(v) return v and (v > 1 and "big" or 1) end) end, "returned a string for row 2 after number results")
  T.raises(function() f:apply(function() return {} end) end, "returned a table for row 1")
  T.raises(function() f.x:map(function() error("inner") end) end, "inner")
  T.eq(#f:head(0):apply(function() return 1 end), 0)
  -- tensors: values, NaN for missing, names, errors
  local t = f:to_tensor{"x"}
  local r1, c1 = t:shape(); T.eq(r1, 3); T.eq(c1, 1)
  local back = cl.frame_from_tensor(cl.tensor.new{{1, 2}, {3, 4}, {5, 6}}, {"p", "q"})
  T.eq(table.concat(back:names(), ","), "p,q"); T.eq(table.concat(back.q:totable(), ","), "2,4,6")
  T.eq(table.concat(cl.frame_from_tensor(cl.tensor.new{{1, 2}}):names(), ","), "x1,x2")
  local rt = cl.frame_from_tensor(cl.frame{a = {1.5, 2}, b = {3, nil}}:to_tensor(), {"a", "b"})
  T.eq(rt.a:totable()[1], 1.5); T.eq(rt.b:totable()[2], nil)
  T.raises(function() f:to_tensor{"s"} end, "column 's' is cat")
  T.raises(function() f:select{"s"}:to_tensor() end, "no num or date column")
  T.raises(function() f:to_tensor{"nosuch"} end, "no column 'nosuch'")
  T.raises(function() cl.frame_from_tensor(cl.tensor.new{{1, 2}}, {"a"}) end, "1 names for 2 columns")
  -- holes and trailing nils without n = N
  local h = cl.frame{a = {1, nil, 3}, b = {"x", nil, nil}}
  T.eq(#h, 3); T.eq(h.b:totable()[3], nil); T.eq(h.a:count(), 2)
  local w = h:with("c", {nil, 5})
  T.eq(w.c:totable()[2], 5); T.eq(w.c:count(), 1)
  T.raises(function() h:with("c", {1, 2, 3, 4}) end, "column 'c' has 4 rows, the frame has 3")
end)
T.done()
