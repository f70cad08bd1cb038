-- The file contract (issue 13): every function that reads or writes a file raises an error
-- naming the file and the reason, at the caller's line, like io.lines and dofile; none
-- returns nil, msg. Saving into a folder that does not exist creates it (mkdir -p).
-- For every loader: a missing and a corrupted input; for every saver: an unwritable path.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"
local report = require "churnlab.report"

local function shq(s) return "'" .. s:gsub("'", "'\\''") .. "'" end
local tmpdir = os.tmpname()
os.remove(tmpdir)
assert(os.execute("mkdir -p " .. shq(tmpdir)))
local function tmp(name) return tmpdir .. "/" .. name end
local read = require("churnlab.util.files").read_all
local function write(path, s)
  local f = assert(io.open(path, "wb"))
  f:write(s)
  f:close()
  return path
end
-- a regular file: a path under it can be neither read nor written nor made a folder
local blocker = write(tmp("blocker"), "not a folder\n")
local unwritable = blocker .. "/sub/out"

-- fn must raise an error positioned in this file (the closure's line is the caller's) that
-- contains every text given; never a position inside lua/churnlab/ or a build path.
local THIS = debug.getinfo(1, "S").short_src
local function raises_at(fn, ...)
  local ok, err = pcall(fn)
  if ok then T.ok(false, "expected an error") end
  err = tostring(err)
  T.ok(err:sub(1, #THIS + 1) == THIS .. ":", "error is not at the caller's line: " .. err)
  T.ok(not err:find("lua/churnlab/", 1, true) and not err:find("build/", 1, true),
       "error points into the library: " .. err)
  for _, p in ipairs({...}) do
    T.ok(err:find(p, 1, true), "error '" .. err .. "' lacks '" .. p .. "'")
  end
  return err
end

-- one small fitted object of every kind that has a file form
local X = cl.tensor.new{{0, 1}, {1, 0}, {2, 1}, {3, 0}, {4, 1}, {5, 0}, {6, 1}, {7, 0}}
local y = cl.tensor.new{0, 0, 0, 1, 0, 1, 1, 1}
local df = cl.frame.new({a = {1, 2, 3, 4, 5, 6, 7, 8}, churn = {"No", "No", "No", "Yes", "No",
                         "Yes", "Yes", "Yes"}}, {names = {"a", "churn"}})
local pipe = cl.prep.pipeline{target = "churn", positive = "Yes"}:fit(df)
local ratings = cl.interactions{users = {1, 1, 2, 2, 3, 3}, items = {1, 2, 2, 3, 1, 3}}
local objects = {
  logreg = cl.logreg{}, -- fit returns a summary: fitted below
  mlp = cl.mlp{hidden = {2}, epochs = 1, seed = 1},
  gbdt = cl.gbdt{trees = 2, depth = 2}:fit(X, y),
  forest = cl.forest{trees = 2, depth = 2}:fit(X, y),
  tree = cl.tree{depth = 2}:fit(X, y),
  pipeline = pipe,
  kmeans = cl.cluster.kmeans{k = 2, seed = 1}, -- fit returns the labels: fitted below
  calibrator = cl.calibrate.platt():fit({0.1, 0.2, 0.7, 0.9}, {0, 0, 1, 1}),
  popular = cl.rec.popular{}:fit(ratings),
}
-- each kind's own loader (cl.load reads them all)
objects.kmeans:fit(X)
objects.logreg:fit(X, y)
objects.mlp:fit(X, y)
local loaders = {
  logreg = cl.linear.load, mlp = require("churnlab.mlp").load,
  pipeline = cl.prep.load, kmeans = cl.cluster.load, calibrator = cl.calibrate.load,
  popular = cl.rec.load,
}
local kinds = {}
for k in pairs(objects) do kinds[#kinds + 1] = k end
table.sort(kinds)

T.test("every saver writes into folders it creates", function()
  for _, k in ipairs(kinds) do
    local path = tmp("made/" .. k .. "/model.clm")
    T.eq(objects[k]:save(path), objects[k], k .. ":save returns the object")
    T.ok(read(path), k .. " written")
  end
  local csv = tmp("made/csv/deeper/df.csv")
  df:write_csv(csv)
  T.eq(cl.read_csv(csv):nrow(), 8)
  objects.gbdt:export_xgboost(tmp("made/xgb/m.json"))
  T.ok(read(tmp("made/xgb/m.json")), "export_xgboost")
  local r = report.new{title = "made", out = tmp("made/reports/r.html")}
  T.eq(r:save(), tmp("made/reports/r.html"))
  T.eq(report.index(tmp("made/index")), tmp("made/index/index.html"))
end)

T.test("every saver raises naming the file (or the folder it cannot make), at the caller's line", function()
  for _, k in ipairs(kinds) do
    raises_at(function() objects[k]:save(unwritable) end, blocker)
  end
  raises_at(function() df:write_csv(unwritable) end, blocker)
  raises_at(function() objects.gbdt:export_xgboost(unwritable) end, blocker)
  raises_at(function() report.new{title = "x", out = unwritable .. ".html"}:save() end, blocker)
  raises_at(function() report.index(unwritable) end, blocker)
  raises_at(function() cl.synth.generate(unwritable, {customers = 300, titles = 300}) end, blocker)
  -- a folder that exists but takes no new files, even for root
  raises_at(function() objects.logreg:save("/proc/self/churnlab.clm") end,
    "cannot write '/proc/self/churnlab.clm'")
  raises_at(function() df:write_csv("/proc/self/churnlab.csv") end,
    "cannot write '/proc/self/churnlab.csv'")
  if cl.plot.available() then
    raises_at(function() cl.plot.line{y = {1, 2}}:save(unwritable .. ".png") end, blocker)
    raises_at(function() cl.plot.line{y = {1, 2}}:save("/proc/self/churnlab.png") end,
      "cannot write '/proc/self/churnlab.png'")
  end
end)

T.test("every loader raises for a missing file, naming it, at the caller's line", function()
  local missing = tmp("no/such.clm")
  raises_at(function() cl.load(missing) end, "'" .. missing .. "'", "No such file or directory")
  raises_at(function() cl.core.model_kind(missing) end, "'" .. missing .. "'")
  for _, k in ipairs(kinds) do
    if loaders[k] then
      raises_at(function() loaders[k](missing) end, "'" .. missing .. "'", "No such file")
    end
  end
  raises_at(function() cl.read_csv(tmp("no/such.csv")) end,
    "cannot open '" .. tmp("no/such.csv") .. "': No such file or directory")
  raises_at(function() ev.read_ratings(tmp("no/u.data")) end, tmp("no/u.data"), "No such file")
  raises_at(function() ev.read_movielens_items(tmp("no/u.item")) end, tmp("no/u.item"))
  raises_at(function() cl.load(tmpdir) end, "'" .. tmpdir .. "'") -- a folder
end)

T.test("every loader raises for a corrupted file, naming it", function()
  for _, k in ipairs(kinds) do
    local good = tmp("made/" .. k .. "/model.clm")
    local bytes = assert(read(good))
    -- a flipped byte in the middle: the CRC refuses it
    local mid = #bytes // 2
    local flipped = write(tmp(k .. "-flipped.clm"),
      bytes:sub(1, mid - 1) .. string.char(bytes:byte(mid) ~ 0x41) .. bytes:sub(mid + 1))
    raises_at(function() cl.load(flipped) end, "'" .. flipped .. "'")
    -- cut short, and not a model file at all
    local cut = write(tmp(k .. "-cut.clm"), bytes:sub(1, #bytes - 7))
    raises_at(function() cl.load(cut) end, "'" .. cut .. "'")
    local junk = write(tmp(k .. "-junk.clm"), "churn,not,a,model\n")
    raises_at(function() cl.load(junk) end, "'" .. junk .. "'", "not a churnlab model file")
    if loaders[k] then
      raises_at(function() loaders[k](flipped) end, "'" .. flipped .. "'")
      raises_at(function() loaders[k](junk) end, "'" .. junk .. "'")
    end
  end
  -- a kind's own loader given another kind's file
  local other = tmp("made/gbdt/model.clm")
  for _, k in ipairs(kinds) do
    if loaders[k] then raises_at(function() loaders[k](other) end, "'" .. other .. "'") end
  end
  local csv = write(tmp("ragged.csv"), "a,b\n1,2\n3\n")
  raises_at(function() cl.read_csv(csv) end, csv, "line 3")
  local bad = write(tmp("u.data"), "1\t2\t3\t4\nnot a rating line\n")
  raises_at(function() ev.read_ratings(bad) end, bad .. ":2:")
  local items = write(tmp("u.item"), "1|Toy Story|1995\n")
  raises_at(function() ev.read_movielens_items(items) end, items)
end)

T.test("argument and helper errors point at the caller's line, not into the library", function()
  local f = cl.frame.new{a = {1, 2, 3}}
  raises_at(function() f:sort("zz") end, "no column 'zz'")
  raises_at(function() f:head("x") end, "bad argument #1 to 'head'")
  -- a tail call straight into a library function leaves no Lua frame of ours in between
  raises_at(function() return cl.plot.line{y = {}} end, "no finite points")
  raises_at(function() return cl.plot.line{y = {1, 2}}:save(tmp("x.bmp")) end, "extension")
  raises_at(function() return require("churnlab.strategy").simulate{} end, "'customers' is required")
  -- C functions called by a module helper on the user's behalf: luaL_error, luaL_argerror
  -- and lcl_raise inside the binding all report the user's line
  local E = require "churnlab.explain"
  local gb = objects.gbdt
  raises_at(function() return E.importance(gb, X, "nope") end, "bad argument #3 to 'permutation'")
  raises_at(function() return E.importance(gb, cl.tensor.new{{1, 2}}, y) end,
    "X has 1 rows but y has 8")
  raises_at(function()
    return require("churnlab.strategy").simulate{customers = {p = {0.1}, value = {"x"}},
      strategies = {{name = "a", effect = 0.1}}}
  end, "element 1 is a string, expected a number")
end)

T.test("the position is the exact line of the call", function()
  local ok, err = pcall(cl.read_csv, tmp("none.csv")); local line = debug.getinfo(1, "l").currentline
  T.eq(ok, false)
  T.ok(err:find("^" .. THIS:gsub("%p", "%%%0") .. ":" .. line .. ": cannot open"), err)
  local f = cl.frame.new{a = {1, 2, 3}}
  ok, err = pcall(f.sort, f, "zz"); line = debug.getinfo(1, "l").currentline
  T.ok(err:find("^" .. THIS:gsub("%p", "%%%0") .. ":" .. line .. ": sort: no column 'zz'"), err)
  if cl.plot.available() then
    local fig = cl.plot.line{y = {1, 2}}
    ok, err = pcall(fig.save, fig, unwritable .. ".png"); line = debug.getinfo(1, "l").currentline
    T.eq(ok, false)
    T.ok(err:find("^" .. THIS:gsub("%p", "%%%0") .. ":" .. line .. ": "), err)
    T.ok(err:find(blocker, 1, true), err)
  end
end)

os.execute("rm -rf " .. shq(tmpdir))
T.done()
