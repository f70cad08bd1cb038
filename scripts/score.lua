-- score.lua: score a customer file of any size with a saved model, in chunks.
--
--   churnlab scripts/score.lua model.clm customers.csv scores.csv [--id user_id] [--chunk 100000]
--
-- The model file must carry its preprocessing pipeline (notebooks/03_models.lua saves one
-- that way), so raw customer rows go in and churn probabilities come out. Output columns:
-- id, churn_probability, risk_decile (1 = the riskiest tenth of this file). Memory stays
-- bounded whatever the file size: the input is read `chunk` rows at a time, and deciles come
-- from a fixed 2^16-bin histogram of the scores (cut points exact to 1.5e-5), so only one
-- chunk is ever held. The output is written to a temporary file and renamed into place, so
-- an interrupted run never leaves a partial scores file. A progress line goes to stderr.
--
-- At scale, one rank per shard:
--   mpirun -np N churnlab scripts/score.lua model.clm 'customers.{rank}.csv' 'scores.{rank}.csv'
-- `{rank}` in both paths becomes the rank (0 .. N-1): each rank scores its own file and writes
-- its own part (atomically, as above), and the decile histograms are summed over the ranks
-- before any decile is given, so deciles rank each customer within the whole population, not
-- within its shard (the parts concatenated are the file one process writes for the whole
-- input). A rank that fails makes every rank stop with no part written.
local cl = require "churnlab"

local function usage(msg)
  io.stderr:write((msg and ("score: " .. msg .. "\n") or "") ..
    "usage: churnlab scripts/score.lua model.clm customers.csv scores.csv [--id COLUMN] [--chunk N]\n")
  os.exit(2)
end

local args, opt = {}, {id = nil, chunk = 100000}
do
  local i = 1
  while arg and arg[i] do
    local a = arg[i]
    if a == "--id" then opt.id = arg[i + 1]; i = i + 2
    elseif a == "--chunk" then opt.chunk = tonumber(arg[i + 1]); i = i + 2
    elseif a == "-h" or a == "--help" then usage()
    else args[#args + 1] = a; i = i + 1 end
  end
end
if #args ~= 3 then usage("expected a model, an input and an output path") end
if not opt.chunk or opt.chunk < 1 then usage("--chunk must be a positive number") end
local model_path, in_path, out_path = args[1], args[2], args[3]
local rank, size = cl.mpi.rank(), cl.mpi.size()
if size > 1 and not (in_path:find("{rank}", 1, true) and out_path:find("{rank}", 1, true)) then
  usage("with " .. size .. " ranks, put {rank} in the input and output paths (one shard and one part per rank)")
end
in_path = in_path:gsub("{rank}", tostring(rank))
out_path = out_path:gsub("{rank}", tostring(rank))

-- One clean line for the person at the terminal: churnlab's errors name the file and the
-- reason; the script position in front ("scripts/score.lua:40: ") only says where we were.
local function fail(msg)
  io.stderr:write("score: ", (tostring(msg):gsub("^[^\n]-:%d+: ", "")), "\n")
  os.exit(1)
end

local loaded, model = pcall(cl.load, model_path)
if not loaded then fail(model) end
local pipe = model.pipeline and model:pipeline()
if not pipe then
  io.stderr:write("score: ", model_path, " has no preprocessing pipeline attached; save the model ",
    "with m:save(path, {pipeline = p})\n")
  os.exit(1)
end

-- Every rank learns whether some rank failed, and then all stop together: a rank that left
-- alone would leave the others waiting in the histogram reduction. (One process: fail now.)
local cleanup = {}
local function agree(ok, msg)
  if size == 1 then
    if not ok then fail(msg) end
    return
  end
  local bad = cl.mpi.allreduce(ok and 0 or rank + 1, "max")
  if bad == 0 then return end
  for _, path in ipairs(cleanup) do os.remove(path) end
  io.stderr:write("score: ", ok and string.format("rank %d failed (its message names the reason)", bad - 1)
    or string.format("rank %d: %s", rank, (tostring(msg):gsub("^[^\n]-:%d+: ", ""))), "\n")
  -- every rank has written its line before any exits: mpirun kills the others as soon as one
  -- rank exits non-zero, which cut the other ranks' lines under a slow (ASan) build
  cl.mpi.barrier()
  os.exit(1)
end

local input, ierr = io.open(in_path, "rb")
local header = input and input:read("L")
if input and not header then ierr = in_path .. " is empty" end
agree(header ~= nil, ierr)
header = header:gsub("^\239\187\191", "") -- a UTF-8 byte-order mark
local names = {}
for name in (header:gsub("[\r\n]+$", "") .. ","):gmatch('"?([^",]*)"?,') do names[#names + 1] = name end
local id_col = opt.id or names[1]

-- Column types are pinned for every chunk: a chunk that re-infers them reads a column that
-- looks numeric in one chunk and categorical in another differently, and the pipeline then
-- encodes the same customer differently (issue 22: customer 3 scored 0.712 or 0.582 depending
-- on --chunk). The model's pipeline says which inputs it encodes as categories; the first
-- chunk gives the types of the others (num or date), and an input the pipeline reads as a
-- number is read as num even when a stray token made the first chunk call it cat (those
-- tokens are scored as missing and counted). The id column is a label. Other columns keep
-- the first chunk's types.
local pipe_kind, in_file = {}, {}
for _, name in ipairs(names) do in_file[name] = true end
for _, s in ipairs(pipe:sources()) do
  if s.label or s.categorical then pipe_kind[s.column] = "cat"
  elseif not pipe_kind[s.column] then pipe_kind[s.column] = "num" end
end
local types = {}
for col, kind in pairs(pipe_kind) do
  if kind == "cat" and in_file[col] then types[col] = "cat" end
end
if in_file[id_col] then types[id_col] = "cat" end

-- Reads the next chunk of whole records (a quoted field may span lines) into a temp CSV with
-- the header; returns its path and the number of records, or nil at the end.
local tmp_chunk = os.tmpname()
local function next_chunk()
  local lines, records, open_quote = {header}, 0, false
  while records < opt.chunk do
    local line = input:read("L")
    if not line then break end
    lines[#lines + 1] = line
    local _, q = line:gsub('"', "")
    if q % 2 == 1 then open_quote = not open_quote end
    if not open_quote then records = records + 1 end
  end
  if records == 0 then return nil end
  local f = assert(io.open(tmp_chunk, "wb"))
  f:write(table.concat(lines))
  f:close()
  return tmp_chunk, records
end

local BINS = 65536
local hist = {}
for b = 0, BINS do hist[b] = 0 end
local tmp_scores = out_path .. ".scores.tmp"
local sf = assert(io.open(tmp_scores, "wb"))
local pinned, coerced, total, population, t0 = false, {}, 0, 0, cl.core.now()
cleanup[#cleanup + 1] = tmp_scores
local ok, failure = pcall(function()
  while true do
    local path, n = next_chunk()
    if not path then break end
    local df, _, info = assert(cl.read_csv(path, {types = types, warn = false}))
    if not pinned then
      local again = false
      for name, t in pairs(df:types()) do
        if types[name] == nil then
          if pipe_kind[name] == "num" and t == "cat" then again = true; t = "num" end
          types[name] = t
        end
      end
      if again then df, _, info = assert(cl.read_csv(path, {types = types, warn = false})) end
      pinned = true
    end
    for col, k in pairs(info.coerced) do -- only the model's inputs matter
      if pipe_kind[col] then coerced[col] = (coerced[col] or 0) + k end
    end
    local X = pipe:transform(df)
    local p = model:predict(X)
    local ids = df[id_col]
    if not ids then error("no id column '" .. id_col .. "' (use --id)", 0) end
    ids = ids:totable()
    local out = {}
    for i = 1, n do
      local v = p:get(i)
      hist[math.floor(v * BINS)] = hist[math.floor(v * BINS)] + 1
      local id = ids[i]
      if type(id) == "number" and id == math.floor(id) then id = string.format("%d", id) end
      out[i] = tostring(id) .. "," .. string.format("%.6f", v)
    end
    sf:write(table.concat(out, "\n"), "\n")
    total = total + n
    local dt = cl.core.now() - t0
    io.stderr:write(string.format("\rscore: %d customers (%.0f/s)", total, total / math.max(dt, 1e-9)))
  end
end)
input:close()
sf:close()
os.remove(tmp_chunk)
io.stderr:write("\n")
for col, k in pairs(coerced) do
  io.stderr:write(string.format("score: column '%s': %d values that are not %ss were scored as missing\n",
                                col, k, types[col] == "date" and "date" or "number"))
end
if not ok then os.remove(tmp_scores) end
agree(ok, failure)

-- the whole population's histogram (counts: sums of whole numbers, exact over the ranks)
if size > 1 then
  local list = {}
  for b = 0, BINS do list[b + 1] = hist[b] end
  list[BINS + 2] = total
  list = cl.mpi.allreduce(list)
  for b = 0, BINS do hist[b] = math.tointeger(list[b + 1]) end
  population = math.tointeger(list[BINS + 2])
else
  population = total
end

-- Decile cut points from the histogram: decile 1 holds the highest scores.
local cut, acc, d = {}, 0, 9
for b = BINS, 0, -1 do
  acc = acc + hist[b]
  while d >= 1 and acc >= population * (10 - d) / 10 do
    cut[d] = b
    d = d - 1
  end
end
-- cut[9] >= cut[8] >= ... >= cut[1]; a score below k of them is in decile k + 1.
local function decile(v)
  local b, below = math.floor(v * BINS), 0
  for k = 1, 9 do
    if b < cut[k] then below = below + 1 end
  end
  return 1 + below
end

local tmp_out = out_path .. ".tmp"
local of = assert(io.open(tmp_out, "wb"))
of:write(id_col, ",churn_probability,risk_decile\n")
for line in io.lines(tmp_scores) do
  local v = tonumber(line:match(",([^,]+)$"))
  of:write(line, ",", decile(v), "\n")
end
of:close()
os.remove(tmp_scores)
assert(os.rename(tmp_out, out_path))
if size > 1 then
  print(string.format("score: rank %d wrote %s (%d of %d customers)", rank, out_path, total, population))
else
  print(string.format("score: wrote %s (%d customers)", out_path, total))
end
