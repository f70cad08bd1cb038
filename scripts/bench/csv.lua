-- CSV reader on hostile shapes (issue 22): one long field and many columns, each at two sizes,
-- so the lines show whether time grows linearly (x4 the size should be about x4 the time;
-- the quadratic reader took 70 s for the 4 MB field and minutes for 100k columns).
-- Files are generated into build/bench-data/ on first use.
local cl = require "churnlab"

local dir = "build/bench-data"
os.execute("mkdir -p " .. dir)
local now = cl.core.now or os.clock

local function make(path, gen)
  local f = io.open(path, "rb")
  if f then f:close() return path end
  f = assert(io.open(path, "wb"))
  gen(f)
  f:close()
  return path
end

local cases = {
  {"long_field_1mb", function(f) f:write("a,b\n\"", string.rep("x", 1 << 20), "\",1\n") end},
  {"long_field_4mb", function(f) f:write("a,b\n\"", string.rep("x", 4 << 20), "\",1\n") end},
  {"columns_25k", function(f)
    local h, v = {}, {}
    for j = 1, 25000 do h[j] = "c" .. j; v[j] = tostring(j % 97) end
    f:write(table.concat(h, ","), "\n", table.concat(v, ","), "\n")
  end},
  {"columns_100k", function(f)
    local h, v = {}, {}
    for j = 1, 100000 do h[j] = "c" .. j; v[j] = tostring(j % 97) end
    f:write(table.concat(h, ","), "\n", table.concat(v, ","), "\n")
  end},
}
local t = {}
for _, c in ipairs(cases) do
  local path = make(string.format("%s/csv_%s.csv", dir, c[1]), c[2])
  local t0, c0 = now(), os.clock()
  local df = assert(cl.read_csv(path))
  t[c[1]] = os.clock() - c0
  print(string.format("bench suite=csv case=%s impl=churnlab metric=time value=%.6g unit=s", c[1], now() - t0))
  print(string.format("bench suite=csv case=%s impl=churnlab metric=cpu_time value=%.6g unit=s", c[1], t[c[1]]))
  df = nil
  collectgarbage()
end
for _, p in ipairs{{"long_field_4mb", "long_field_1mb"}, {"columns_100k", "columns_25k"}} do
  print(string.format("bench suite=csv case=%s impl=churnlab metric=growth_x4 value=%.3g unit=x",
                      p[1], t[p[1]] / math.max(t[p[2]], 1e-6)))
end
