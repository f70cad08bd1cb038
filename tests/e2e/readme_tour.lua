-- readme_tour.lua: runs every ```lua block of README.md, in order, as ONE script (run by
-- tests/e2e/readme_tour.sh from a temporary folder, so models/ and reports/ land there).
--
--   churnlab tests/e2e/readme_tour.lua README.md SYNTH_DIR SHARED_DIR [WORLD_PARAMS] [only-shared]
--
-- The README is the product's front page, so it must be true: the script keeps the README's
-- line numbers (text outside the blocks becomes blank lines; the chunk is named README.md), so
-- an error reads "README.md:123: ..." at the line to fix. Rewrites, and nothing else:
--   "data/synth/..." and "../shared/data/..."  -> SYNTH_DIR/... and SHARED_DIR/...
--   cl.synth.world()                            -> cl.synth.world{WORLD_PARAMS} when the data
--                                                  was generated smaller than the default
--   print(...)  --> text                        -> prints, then checks the line printed
--   (or "--> text" on the line after the print)    against text: <name> stands for any text,
--                                                  "..." for any rest, everything else literal
-- A block reading ../shared/data is skipped, with the reason, when the file is absent; a
-- block drawing with cl.plot when gnuplot is missing. Ends "N passed, M failed, K skipped".
local readme, synth, shared, world_params, mode = arg[1], arg[2], arg[3], arg[4], arg[5]
assert(readme and synth and shared,
  "usage: readme_tour.lua README.md SYNTH SHARED [WORLD] [only-shared]")
if world_params == "" then world_params = nil end
local only_shared = mode == "only-shared"

local lines = {}
for l in io.lines(readme) do lines[#lines + 1] = l end

-- the blocks, with their first line, the bold title before them and their needs
local blocks, title = {}, nil
local i = 1
while i <= #lines do
  local bold = lines[i]:match("^%*%*(.-)%*%*")
  if bold then title = bold:gsub("%.$", "") end
  if lines[i] == "```lua" then
    local b = {first = i + 1, title = title or "?"}
    i = i + 1
    while i <= #lines and lines[i] ~= "```" do i = i + 1 end
    b.last = i - 1
    b.close = i
    blocks[#blocks + 1] = b
  end
  i = i + 1
end

local function lua_string(s) return string.format("%q", s) end

-- "-->" text to a Lua pattern
local function expect_pattern(text)
  local out, pos = {"^"}, 1
  while pos <= #text do
    local a, b = text:find("<[%w_ ]+>", pos)
    local c = text:find("...", pos, true)
    if c and (not a or c < a) then
      out[#out + 1] = text:sub(pos, c - 1):gsub("%p", "%%%0") .. ".*"
      pos = c + 3
    elseif a then
      out[#out + 1] = text:sub(pos, a - 1):gsub("%p", "%%%0") .. ".+"
      pos = b + 1
    else
      out[#out + 1] = text:sub(pos):gsub("%p", "%%%0")
      pos = #text + 1
    end
  end
  out[#out + 1] = "$"
  return table.concat(out)
end

local has_gnuplot = require("churnlab.plot").available()
local code = {}
for k = 1, #lines do code[k] = "" end
for n, b in ipairs(blocks) do
  local text = table.concat(lines, "\n", b.first, b.last)
  local why
  for rel in text:gmatch('"%.%./shared/data/([^"]+)"') do
    local f = io.open(shared .. "/" .. rel, "rb")
    if f then f:close() else why = why or ("needs " .. shared .. "/" .. rel .. ", not found") end
  end
  local needs_shared = text:find('"../shared/data/', 1, true) ~= nil
  if not why and text:find("cl%.plot%.") and not has_gnuplot then
    why = "needs gnuplot (Debian package gnuplot-nox)"
  end
  if only_shared and not needs_shared then why = why or "not a shared-data block (only-shared)" end
  b.n = n
  if why then
    code[b.first] = ("__tour.skip(%d, %s)"):format(n, lua_string(why))
  else
    for k = b.first, b.last do
      local l = lines[k]
      l = l:gsub('"data/synth/', function() return '"' .. synth .. "/" end)
      l = l:gsub('"%.%./shared/data/', function() return '"' .. shared .. "/" end)
      if world_params then
        l = l:gsub("cl%.synth%.world%(%)", function() return "cl.synth.world{" .. world_params .. "}" end)
      end
      local indent, args, want = l:match("^(%s*)print(%b())%s*%-%->%s?(.-)%s*$")
      if not args and k < b.last then -- the expectation on the next line: "--> text"
        want = lines[k + 1]:match("^%s*%-%->%s?(.-)%s*$")
        if want then indent, args = l:match("^(%s*)print(%b())%s*$") end
      end
      if args then
        l = ("%s__tour.print(%d, %s, %s)"):format(indent, k, lua_string(want), args:sub(2, -2))
      end
      code[k] = l
    end
    code[b.first] = ("__tour.start(%d) "):format(n) .. code[b.first]
    code[b.close] = ("__tour.done(%d)"):format(n)
  end
end

local T = {passed = 0, failed = 0, skipped = 0, current = nil}
local function label(n) return ("README block %d (line %d, %s)"):format(n, blocks[n].first, blocks[n].title) end
__tour = {
  start = function(n) T.current = n; T.mismatch = nil end,
  done = function(n)
    T.current = nil
    if T.mismatch then
      T.failed = T.failed + 1
      print("FAIL " .. label(n) .. "\n     " .. T.mismatch)
    else
      T.passed = T.passed + 1
      print("ok   " .. label(n))
    end
  end,
  skip = function(n, why)
    T.skipped = T.skipped + 1
    print("skip " .. label(n) .. ": " .. why)
  end,
  print = function(line, want, ...)
    local parts = table.pack(...)
    for k = 1, parts.n do parts[k] = tostring(parts[k]) end
    local got = table.concat(parts, "\t", 1, parts.n)
    print(got)
    if not got:find(expect_pattern(want)) then
      T.mismatch = T.mismatch or ("README.md:%d prints '%s', the README says '%s'"):format(line, got, want)
    end
  end,
}

local chunk, err = load(table.concat(code, "\n"), "@README.md", "t")
if not chunk then
  print("FAIL the README's Lua blocks do not compile: " .. err)
  T.failed = T.failed + 1
else
  local ok, e = xpcall(chunk, debug.traceback)
  if not ok then
    T.failed = T.failed + 1
    print("FAIL " .. (T.current and label(T.current) or "README tour") .. "\n     " .. tostring(e))
    for n = (T.current or #blocks) + 1, #blocks do print("FAIL " .. label(n) .. ": not run") end
    T.failed = T.failed + #blocks - (T.current or #blocks)
  end
end
print(("%d passed, %d failed, %d skipped"):format(T.passed, T.failed, T.skipped))
os.exit(T.failed == 0 and 0 or 1)
