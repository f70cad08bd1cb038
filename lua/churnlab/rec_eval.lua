-- churnlab.rec_eval: readers for MovieLens-style files and side-by-side printing of
-- recommender evaluations.
--
--   local ev = require "churnlab.rec_eval"
--   local r = ev.read_ratings("../shared/data/movielens_100k/u.data")  -- {users, items, values, times}
--   local it = ev.read_movielens_items("../shared/data/movielens_100k/u.item")
--   ev.print_table({{name = "als", ndcg = 0.4, ...}, ...}, {"precision", "ndcg"})
-- Errors point at the caller's line, not at this file: core.raise skips the frames of
-- churnlab's own modules, so no hand-counted error levels (which break under tail calls).
local error = require("churnlab.core").raise
local tensor = require "churnlab.tensor"
local check = require("churnlab.options").check

local M = {}

-- Reads "user<sep>item<sep>rating<sep>timestamp" lines (MovieLens u.data, u1.base ...).
-- Returns {users = {...}, items = {...}, values = {...}, times = {...}} of integers.
function M.read_ratings(path, sep)
  local f, err = io.open(path, "r")
  if not f then error(err) end -- io.open's message names the file
  sep = sep or "\t"
  local pat = "^(%-?%d+)" .. sep .. "(%-?%d+)" .. sep .. "([%d%.%-]+)" .. sep .. "(%d+)"
  local u, i, v, t = {}, {}, {}, {}
  local n, lineno = 0, 0
  for line in f:lines() do
    lineno = lineno + 1
    if line ~= "" then
      local a, b, c, d = line:match(pat)
      if not a then
        f:close()
        error(string.format("%s:%d: expected user%sitem%srating%stime, got '%s'", path, lineno,
                            sep, sep, sep, line:sub(1, 60)), 2)
      end
      n = n + 1
      u[n], i[n], v[n], t[n] = math.tointeger(tonumber(a)), math.tointeger(tonumber(b)),
                               tonumber(c), math.tointeger(tonumber(d))
    end
  end
  f:close()
  return {users = u, items = i, values = v, times = t}
end

M.genres = {"unknown", "Action", "Adventure", "Animation", "Children's", "Comedy", "Crime",
            "Documentary", "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery",
            "Romance", "Sci-Fi", "Thriller", "War", "Western"}

-- Reads MovieLens u.item (pipe-separated, latin-1): returns {items = {ids}, titles = {...},
-- genres = {{flags}}, years = {...}, features = Tensor n x 20 (19 genre flags + year; a
-- missing year is the mean year), names = feature names}.
function M.read_movielens_items(path)
  local f, err = io.open(path, "rb")
  if not f then error(err) end
  local out = {items = {}, titles = {}, genres = {}, years = {}}
  local rows, ysum, yn = {}, 0, 0
  for line in f:lines() do
    if line ~= "" then
      local fields = {}
      for field in (line .. "|"):gmatch("([^|]*)|") do fields[#fields + 1] = field end
      if #fields < 24 then
        f:close()
        error(string.format("%s: item line has %d fields, expected 24", path, #fields), 2)
      end
      local id = math.tointeger(tonumber(fields[1]))
      local year = tonumber((fields[3] or ""):match("(%d%d%d%d)$"))
      local flags = {}
      for g = 1, 19 do flags[g] = tonumber(fields[5 + g]) or 0 end
      local n = #out.items + 1
      out.items[n], out.titles[n], out.genres[n], out.years[n] = id, fields[2], flags, year
      if year then ysum, yn = ysum + year, yn + 1 end
    end
  end
  f:close()
  local ymean = yn > 0 and ysum / yn or 0
  for n = 1, #out.items do
    local row = {}
    for g = 1, 19 do row[g] = out.genres[n][g] end
    row[20] = out.years[n] or ymean
    rows[n] = row
  end
  out.features = tensor.new(rows)
  out.names = {}
  for g = 1, 19 do out.names[g] = M.genres[g] end
  out.names[20] = "year"
  return out
end

local default_cols = {"precision", "recall", "map", "ndcg", "hit_rate", "mrr", "coverage",
                      "novelty"}

-- Prints rows ({name = ..., <metric> = number}) side by side; `base` (a row name) adds a
-- "vs base" column of relative gains on `rel` (default precision).
function M.print_table(rows, cols, opts)
  check(opts, 3, "print_table", {"out", "base", "rel"})
  cols = cols or default_cols
  opts = opts or {}
  local out = opts.out or io.stdout
  local w = 10
  for _, r in ipairs(rows) do w = math.max(w, #tostring(r.name)) end
  local head = {string.format("%-" .. w .. "s", "model")}
  for _, c in ipairs(cols) do head[#head + 1] = string.format("%10s", c) end
  local base
  if opts.base then
    for _, r in ipairs(rows) do if r.name == opts.base then base = r end end
    for _, c in ipairs(opts.rel or {"precision"}) do
      head[#head + 1] = string.format("%12s", c:sub(1, 5) .. " vs " .. opts.base:sub(1, 3))
    end
  end
  out:write(table.concat(head, " "), "\n")
  for _, r in ipairs(rows) do
    local line = {string.format("%-" .. w .. "s", r.name)}
    for _, c in ipairs(cols) do
      local v = r[c]
      line[#line + 1] = type(v) == "number" and string.format("%10.4f", v) or string.format("%10s", "-")
    end
    if base then
      for _, c in ipairs(opts.rel or {"precision"}) do
        local g = (r[c] and base[c] and base[c] > 0) and (r[c] / base[c] - 1) * 100 or nil
        line[#line + 1] = g and string.format("%+11.1f%%", g) or string.format("%12s", "-")
      end
    end
    out:write(table.concat(line, " "), "\n")
  end
end

-- ---- search ------------------------------------------------------------------------------

-- Every point of a grid {name = {v1, v2, ...}, ...}: a list of {name = v} tables, the names
-- in sorted order and the first name varying slowest, so the order is the same every run.
local function grid_points(grid)
  local names = {}
  for k, v in pairs(grid) do
    if type(v) ~= "table" or #v == 0 then
      error(string.format("search: grid.%s must be a non-empty list of values", tostring(k)))
    end
    names[#names + 1] = k
  end
  table.sort(names)
  local points = {{}}
  for _, n in ipairs(names) do
    local nxt = {}
    for _, p in ipairs(points) do
      for _, v in ipairs(grid[n]) do
        local q = {}
        for a, b in pairs(p) do q[a] = b end
        q[n] = v
        nxt[#nxt + 1] = q
      end
    end
    points = nxt
  end
  return points
end

-- n of the points drawn without replacement by a seeded 31-bit LCG (a partial Fisher-Yates
-- shuffle): the same seed picks the same points on every machine and thread count.
local function sample_points(points, n, seed)
  local x = (seed or 1) % 2147483648
  for j = 1, math.min(n, #points) do
    x = (x * 1103515245 + 12345) % 2147483648
    local k = j + x % (#points - j + 1)
    points[j], points[k] = points[k], points[j]
  end
  for j = #points, n + 1, -1 do points[j] = nil end
  return points
end

local lower_better = {rmse = true, mae = true}

-- search{kind =, grid =, train =, test =, ...} -> best params, best score, rows. See the
-- help text in lua/bind/rec.c (cl.rec.search), which calls this.
function M.search(o)
  check(o, 1, "search", {"kind", "grid", "fixed", "train", "test", "k", "metric", "random",
                         "seed", "print", "make"})
  local rec = require "churnlab.rec"
  if type(o) ~= "table" then error("search: expected an options table") end
  -- make = function(params) -> recommender: any construction, e.g. a hybrid whose weights and
  -- component parameters are grid dimensions; else kind names a constructor
  local make = o.make or rec[o.kind or ""]
  if o.make ~= nil and type(o.make) ~= "function" then
    error("search: make must be a function(params) -> recommender, got " .. type(o.make))
  elseif o.make == nil and (type(o.kind) ~= "string" or type(make) ~= "function"
         or o.kind == "interactions" or o.kind == "evaluate" or o.kind == "load"
         or o.kind == "search") then
    error("search: kind must name a recommender (popular, itemknn, mf, als, ease, bpr, ...), got "
          .. tostring(o.kind))
  end
  if type(o.grid) ~= "table" then error("search: grid (a table of value lists) is required") end
  if not o.train or not o.test then
    error("search: train and test interactions are required (from interactions:split)")
  end
  local metric = o.metric or (o.kind == "mf" and "rmse" or "ndcg")
  local points = grid_points(o.grid)
  if o.random then
    if math.type(o.random) ~= "integer" or o.random < 1 then
      error("search: random must be a positive integer (the number of points to try)")
    end
    points = sample_points(points, o.random, o.seed)
  end
  local rows = {}
  for _, p in ipairs(points) do
    local params = {}
    for a, b in pairs(o.fixed or {}) do params[a] = b end
    for a, b in pairs(p) do params[a] = b end
    local m = make(params)
    if o.make and not (type(m) == "userdata" and pcall(m.kind, m)) then
      error("search: make returned " .. type(m) .. ", not a recommender")
    end
    m:fit(o.train)
    local r = rec.evaluate(m, o.test, {k = o.k or 10})
    if r[metric] == nil then
      error(string.format("search: metric '%s' is not reported by evaluate for %s", metric,
                          o.kind))
    end
    r.params, r.score = p, r[metric]
    rows[#rows + 1] = r
  end
  local low = lower_better[metric]
  table.sort(rows, function(a, b)
    if a.score ~= b.score then
      if low then return a.score < b.score end
      return a.score > b.score
    end
    return false
  end)
  if o.print then
    for _, r in ipairs(rows) do
      local keys, parts = {}, {}
      for a in pairs(r.params) do keys[#keys + 1] = a end
      table.sort(keys)
      for _, a in ipairs(keys) do parts[#parts + 1] = a .. " = " .. tostring(r.params[a]) end
      print(string.format("  %s %.4f  {%s}", metric, r.score, table.concat(parts, ", ")))
    end
  end
  return rows[1].params, rows[1].score, rows
end

return M
