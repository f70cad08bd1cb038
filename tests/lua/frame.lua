-- Tests of churnlab.frame: read_csv, frames, columns, group-by, joins, splits, printing.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"

local tmp = os.tmpname()

local function write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

-- ---- the telco checks (done-when of issue 3) ---------------------------------------------
local telco = T.shared("telco_churn/WA_Fn-UseC_-Telco-Customer-Churn.csv")
if not telco then
  T.skip("telco checks", "../shared/data/telco_churn not found")
else
  local df = assert(cl.read_csv(telco))

  T.test("telco loads as 7043 x 21", function()
    T.eq(df:nrow(), 7043)
    T.eq(df:ncol(), 21)
    T.eq(#df, 7043)
    T.ok(tostring(df):find("\n%[7043 rows x 21 columns, some not shown%]$"), tostring(df))
  end)

  T.test("TotalCharges is num with 11 missing (single spaces)", function()
    T.eq(df:types().TotalCharges, "num")
    T.eq(df.TotalCharges:isna():sum(), 11)
    T.eq(df.TotalCharges:count(), 7032)
    T.eq(df:types().customerID, "cat")
    T.eq(df:types().tenure, "num")
  end)

  T.test("mean MonthlyCharges is 64.7617", function()
    T.eq(string.format("%.4f", df.MonthlyCharges:mean()), "64.7617")
  end)

  T.test("churn rate by Contract", function()
    local g = df:with("churn", df.Churn:eq("Yes")):groupby("Contract"):agg{churn = "mean"}
    T.eq(g:nrow(), 3)
    local want = {["Month-to-month"] = "0.4271", ["One year"] = "0.1127", ["Two year"] = "0.0283"}
    for i = 1, 3 do
      local r = g:row(i)
      T.eq(string.format("%.4f", r.churn_mean), want[r.Contract], r.Contract)
    end
    -- the same through crosstab with row shares
    local ct = df:crosstab("Contract", "Churn", {normalize = "index"})
    T.eq(string.format("%.4f", ct:row(1).Yes), "0.4271")
  end)

  T.test("stratified 80/20 split keeps the churn rate within 0.5 points", function()
    local tr, te = df:split{test = 0.2, stratify = "Churn", seed = 42}
    T.eq(tr:nrow() + te:nrow(), 7043)
    T.eq(te:nrow(), 1409)
    local rate = 1869 / 7043
    T.ok(math.abs(tr.Churn:eq("Yes"):mean() - rate) < 0.005)
    T.ok(math.abs(te.Churn:eq("Yes"):mean() - rate) < 0.005)
    -- same seed, same split; another seed, another split
    local _, te2 = df:split{test = 0.2, stratify = "Churn", seed = 42}
    T.eq(te2.customerID:get(1), te.customerID:get(1))
    local _, te3 = df:split{test = 0.2, stratify = "Churn", seed = 7}
    T.ok(te3.customerID:get(1) ~= te.customerID:get(1) or te3.customerID:get(2) ~= te.customerID:get(2))
  end)

  T.test("REPL printing: aligned, truncated to the width", function()
    local s = getmetatable(df).__repl(df, 80)
    local lines = {}
    for l in s:gmatch("[^\n]+") do lines[#lines + 1] = l end
    T.ok(lines[1]:find("customerID", 1, true))
    T.ok(lines[2]:find("<cat>", 1, true))
    T.ok(s:find("[7043 rows x 21 columns", 1, true))
    for _, l in ipairs(lines) do T.ok(#l <= 80, "line longer than 80: " .. l) end
    T.eq(#lines, 2 + 10 + 1 + 1)
  end)
end

local udata = T.shared("movielens_100k/u.data")
if not udata then
  T.skip("MovieLens u.data", "../shared/data/movielens_100k not found")
else
  T.test("headerless tab-separated MovieLens u.data", function()
    local df = assert(cl.read_csv(udata, {sep = "\t", header = false,
                                          names = {"user", "item", "rating", "ts"}}))
    T.eq(df:nrow(), 100000)
    T.eq(df:ncol(), 4)
    T.eq(df.rating:min(), 1)
    T.eq(df.rating:max(), 5)
    T.eq(df.user:nunique(), 943)
    T.eq(df.item:nunique(), 1682)
    -- integers print with every digit
    T.ok(getmetatable(df).__repl(df:head(1), 80):find("881250949", 1, true))
  end)
end

-- ---- parsing ---------------------------------------------------------------------------------
T.test("quotes, embedded separators, newlines, CRLF and a BOM", function()
  local p = write(tmp, '\239\187\191id,name,x\r\n1,"a, b",1.5\r\n2,"say ""hi""",2\r\n3,"two\nlines",\r\n')
  local df = assert(cl.read_csv(p))
  T.eq(df:names()[1], "id")
  T.eq(df:nrow(), 3)
  T.eq(df.name:get(1), "a, b")
  T.eq(df.name:get(2), 'say "hi"')
  T.eq(df.name:get(3), "two\nlines")
  T.eq(df.x:get(3), nil)
  T.eq(df:types().x, "num")
end)

T.test("options: sep, header = false with names, na, types, nrows, skip", function()
  local p = write(tmp, "# comment\n1\t10\tx\n2\t-\ty\n3\t30\tz\n")
  local df = assert(cl.read_csv(p, {sep = "\t", header = false, names = {"u", "v", "w"},
                                     na = {"-"}, skip = 1, nrows = 2, types = {u = "cat"}}))
  T.eq(df:nrow(), 2)
  T.eq(df:types().u, "cat")
  T.eq(df:types().v, "num")
  T.eq(df.v:get(2), nil)
  T.eq(df.u:get(1), "1")
  local d2 = assert(cl.read_csv(p, {sep = "\t", header = false, skip = 1}))
  T.eq(d2:names()[1], "V1")
end)

T.test("dates are inferred; text after numbers falls back to cat with exact spelling", function()
  local p = write(tmp, "d,code\n2024-01-31,007\n2024-02-29 12:00:00,12\n,abc\n")
  local df = assert(cl.read_csv(p))
  T.eq(df:types().d, "date")
  T.eq(df.d:get(1), "2024-01-31")
  T.eq(df.d:get(2), "2024-02-29 12:00:00")
  T.eq(df:types().code, "cat")
  T.eq(df.code:get(1), "007")
  T.eq(df.code:get(2), "12")
  T.eq(df.code:get(3), "abc")
end)

T.test("errors name file, line and column", function()
  T.raises(function() assert(cl.read_csv(write(tmp, "a,b\n1,2\n3\n"))) end, tmp, "line 3", "expected 2 fields, got 1")
  T.raises(function() assert(cl.read_csv(write(tmp, "a,b\n1,\"x\n"))) end, "line 2", "unterminated")
  T.raises(function() assert(cl.read_csv(write(tmp, "a,b\n1,x\0y\n"))) end,
           "line 2", "column 'b'", "a NUL byte")
  T.raises(function() assert(cl.read_csv(write(tmp, "a,b\n1,xxxxxxxxxxxx\n"), {max_record = 8})) end,
           "line 2", "a record longer than 8 bytes")
  T.raises(function() assert(cl.read_csv(write(tmp, "a,a\n1,2\n"))) end, "duplicate column name 'a'")
  T.raises(function() assert(cl.read_csv(write(tmp, "a,,c\n1,2,3\n"))) end, "column 2 has an empty name")
  T.raises(function() assert(cl.read_csv(write(tmp, ""))) end, "empty file")
  T.raises(function() cl.read_csv(tmp, {bogus = 1}) end, "unknown option 'bogus'")
  T.raises(function() cl.read_csv("tests/data/does-not-exist.csv") end,
    "cannot open 'tests/data/does-not-exist.csv': No such file or directory")
end)

T.test("on_bad_line = skip skips and counts", function()
  local df, bad = cl.read_csv(write(tmp, "a,b\n1,2\n3\n4,5,6\n7,8\n"), {on_bad_line = "skip"})
  T.eq(df:nrow(), 2)
  T.eq(bad, 2)
  T.eq(df.a:get(2), 7)
end)

T.test("type inference says what it did; types = num reads stray tokens as missing", function()
  local rows = {"a,b"}
  for i = 1, 100 do rows[#rows + 1] = i .. ",x" end
  rows[#rows + 1] = "abc,y"
  write(tmp, table.concat(rows, "\n") .. "\n")
  local df, bad, info = assert(cl.read_csv(tmp, {warn = false}))
  T.eq(df:types().a, "cat")
  T.eq(bad, 0)
  T.eq(#info.warnings, 1)
  T.ok(info.warnings[1]:find("column 'a' read as cat: 1 of 101 values are not numbers (first: 'abc' on line 102)", 1, true),
       info.warnings[1])
  T.ok(info.warnings[1]:find('types = {a = "num"}', 1, true))
  local d2, _, i2 = assert(cl.read_csv(tmp, {types = {a = "num"}, warn = false}))
  T.eq(d2:types().a, "num")
  T.eq(d2.a:isna():sum(), 1)
  T.eq(d2.a:get(100), 100)
  T.eq(i2.coerced.a, 1)
  T.ok(i2.warnings[1]:find("1 of 101 values are not numbers and were read as missing", 1, true))
  local _, _, i3 = assert(cl.read_csv(write(tmp, "a\n1\n2\n"), {warn = false}))
  T.eq(#i3.warnings, 0)
  T.eq(i3.lines, 3)
end)

T.test("na markers after the first number and under types; nrows = 0", function()
  write(tmp, "x,y\n1,-999\n-999,2\n")
  local df = assert(cl.read_csv(tmp, {na = {"-999"}}))
  T.eq(df.x:isna():sum(), 1)
  T.eq(df.y:isna():sum(), 1)
  df = assert(cl.read_csv(tmp, {na = {"-999"}, types = {x = "num", y = "num"}}))
  T.eq(df.x:isna():sum() + df.y:isna():sum(), 2)
  df = assert(cl.read_csv(tmp, {nrows = 0}))
  T.eq(df:nrow(), 0)
  T.eq(df:ncol(), 2)
end)

T.test("write_csv -> read_csv keeps inf, -inf and labels spelled like missing markers", function()
  local labels = {"", "NA", "null", "N/A", "NaN", " ", "x"}
  local df = cl.frame({v = {1 / 0, -1 / 0, 1.5, 0 / 0, 2, 3, 4}, s = labels}, {names = {"v", "s"}})
  df:write_csv(tmp)
  local back = assert(cl.read_csv(tmp))
  T.eq(back:types().v, "num")
  T.eq(back.v:get(1), 1 / 0)
  T.eq(back.v:get(2), -1 / 0)
  T.eq(back.v:isna():sum(), 1)
  T.eq(back:types().s, "cat")
  for i, l in ipairs(labels) do T.eq(back.s:get(i), l) end
end)

T.test("write_csv round-trips exactly", function()
  local df = cl.frame({x = {0.1, 1 / 3, 1e-300, -2.5, 0 / 0, 123456789012345678}, s = {"a", "b,c", 'q"', " sp", "", "z"}},
                      {names = {"x", "s"}})
  df:write_csv(tmp)
  local back = assert(cl.read_csv(tmp))
  T.eq(back:nrow(), 6)
  for i = 1, 6 do
    T.eq(back.x:get(i), df.x:get(i))
  end
  T.eq(back.s:get(2), "b,c")
  T.eq(back.s:get(3), 'q"')
  T.eq(back.s:get(4), " sp")
end)

-- ---- columns -------------------------------------------------------------------------------
local small = cl.frame({a = {1, 2, 3, 4, 0 / 0}, b = {10, 20, 30, 40, 50}, g = {"x", "y", "x", nil, "y", n = 5}})

T.test("column arithmetic and reductions", function()
  local c = small.b * 2 + small.a
  T.eq(c:get(1), 21)
  T.eq(c:get(5), nil)
  T.eq((-small.b):get(2), -20)
  T.eq((small.b / 10):sum(), 15)
  T.eq(small.a:mean(), 2.5)
  T.near(small.a:std(), math.sqrt(5 / 3))
  T.eq(small.a:median(), 2.5)
  T.eq(small.b:quantile(0.25), 20)
  T.eq(small.a:min(), 1)
  T.eq(small.b:max(), 50)
  T.eq(small.g:nunique(), 2)
  T.eq(table.concat(small.g:unique(), ","), "x,y")
end)

T.test("comparisons are methods; masks combine with & | ~", function()
  T.eq(small.b:gt(20):sum(), 3)
  T.eq(small.g:eq("x"):sum(), 2)
  T.eq(small.g:ne("x"):sum(), 2)
  T.eq(small.g:isin{"x", "y"}:sum(), 4)
  T.eq((small.b:gt(20) & small.g:eq("y")):sum(), 1)
  T.eq((small.b:le(10) | small.g:eq("y")):sum(), 3)
  T.eq((~small.b:gt(20)):sum(), 2)
  T.eq(small.b:gt(20):and_(small.g:eq("y")):sum(), 1)
  T.raises(function() return small.b > 20 end, ":gt")
  T.eq(small:filter(small.b:ge(30)):nrow(), 3)
end)

T.test("isna, fillna, astype, map", function()
  T.eq(small.a:isna():sum(), 1)
  T.eq(small.a:fillna(0):sum(), 10)
  T.eq(small.g:fillna("z"):get(4), "z")
  T.eq(small.b:astype("cat"):get(1), "10")
  T.eq(small.b:astype("cat"):astype("num"):get(2), 20)
  T.eq(small.g:map{x = 1, y = 0}:sum(), 2)
  T.eq(small.g:map{x = "X"}:get(1), "X")
  T.eq(small.g:map{x = "X"}:get(2), nil)
end)

-- ---- frames --------------------------------------------------------------------------------
T.test("select, drop, rename, with, head, tail, row, sort", function()
  T.eq(table.concat(small:select{"g", "a"}:names(), ","), "g,a")
  T.eq(table.concat(small:drop("g"):names(), ","), "a,b")
  T.eq(small:rename{a = "A"}:names()[1], "A")
  T.eq(small:with("c", small.b * 0):ncol(), 4)
  T.eq(small:head(2):nrow(), 2)
  T.eq(small:tail(2).b:get(1), 40)
  T.eq(small:row(2).g, "y")
  local s = small:sort({"g", "b"}, {desc = {false, true}})
  T.eq(table.concat(s.b:totable(), ","), "30,10,50,20,40")
  T.raises(function() small:select{"nope"} end, "no column 'nope'")
end)

T.test("groupby agg, join, concat, value_counts, kfold", function()
  local g = small:groupby("g"):agg{{"b", "sum"}, {"b", "size", "n"}}
  T.eq(g:nrow(), 3) -- x, y and missing (last)
  T.eq(g:row(1).b_sum, 40)
  T.eq(g:row(2).b_sum, 70)
  T.eq(g:row(3).n, 1)
  local right = cl.frame({g = {"x", "y", "y"}, w = {1, 2, 3}})
  local j = small:join(right, "g")
  T.eq(j:nrow(), 2 + 2 * 2)
  local lj = small:join(right, "g", {how = "left"})
  T.eq(lj:nrow(), 7)
  T.eq(small:concat(small):nrow(), 10)
  local vc = small:value_counts("g")
  T.eq(vc:row(1).count, 2)
  local folds = small:kfold{k = 5, seed = 1}
  T.eq(#folds, 5)
  local seen = {}
  for _, f in ipairs(folds) do
    T.eq(#f.test, 1)
    T.eq(#f.train, 4)
    seen[f.test[1]] = true
  end
  for i = 1, 5 do T.ok(seen[i]) end
end)

T.test("column printing and summaries", function()
  T.eq(tostring(small.b), "churnlab.Column 'b' num 5")
  T.eq(tostring(small.b * 2), "churnlab.Column num 5")
  local s = getmetatable(small.g).__repl(small.g, 40)
  T.ok(s:find("g <cat> 5 rows", 1, true), s)
  T.ok(#s <= 40, s)
  T.eq(#small.b, 5)
  T.eq(small.b:name(), "b")
  T.eq(small.b:type(), "num")
end)

T.test("argument errors read like Lua's", function()
  T.raises(function() small:filter(42) end, "bad argument #1 to 'filter'")
  T.raises(function() small.b:eq({}) end, "number expected")
  T.raises(function() small:join(small, "nope") end, "no column 'nope'")
  T.raises(function() small:groupby("g"):agg{b = "avg"} end, "unknown aggregation 'avg'")
  T.raises(function() small:split{test = 2} end, "test must be a share in (0, 1)")
  T.raises(function() return small.nope end, "no column 'nope'")
  T.raises(function() small.b:astype("text") end, "unknown column type 'text'")
end)

T.test("frames print as tables: whole up to 60 rows, head and tail beyond, rows on request", function()
  local v = {}
  for i = 1, 100 do v[i] = i * 10 end
  local df = cl.frame{x = v}
  local function rows_in(s)
    local n = 0
    for line in s:gmatch("[^\n]+") do if line:match("^%s*%d+%s+%d+$") then n = n + 1 end end
    return n
  end
  local s21 = tostring(df:head(21))
  T.eq(rows_in(s21), 21, "a 21-row frame prints whole:\n" .. s21)
  T.ok(s21:find("[21 rows x 1 columns]", 1, true), s21)
  local s100 = tostring(df)
  T.eq(rows_in(s100), 10, "100 rows: first and last five")
  T.ok(s100:find("\n%.%.%.\n") and s100:find("\n100%s+1000\n"), s100)
  -- df:print goes to C's stdout: check it through a child process instead
  local cmd = string.format("%q", arg and arg[-1] or "churnlab")
  local p = io.popen(cmd .. [[ -e 'local cl = require "churnlab"; local v = {}; for i = 1, 100 do v[i] = i end; cl.frame{x = v}:print(250); cl.frame{x = v}:show{rows = 3}']])
  local text = p:read("a")
  p:close()
  local n = 0
  for line in text:gmatch("[^\n]+") do if line:match("^%s*%d+%s+%d+$") then n = n + 1 end end
  T.eq(n, 103, "print(250) shows all 100 rows, show{rows = 3} three:\n" .. text)
  T.raises(function() df:show{rows = 3, colour = true} end, "unknown option 'colour'")
end)

T.test("sum, min and max of whole-number columns are integers (isna():sum() prints 1)", function()
  local df = cl.frame{a = {1, 0 / 0, 3}, b = {1.5, 2, 3}}
  T.eq(math.type(df.a:isna():sum()), "integer")
  T.eq(df.a:isna():sum(), 1)
  T.eq(math.type(df.a:max()), "integer")
  T.eq(math.type(df.b:sum()), "float")
  T.eq(df.b:sum(), 6.5)
end)

os.remove(tmp)
T.done()
