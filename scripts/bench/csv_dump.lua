-- Writes every cell of a CSV file as read by this binary's cl.read_csv, exactly, to OUT:
-- per column its name, type and, for num/date, each value's 8 bytes (string.pack "<d": bits,
-- not text, so a last-bit difference shows); for cat, the labels in code order (unique() is
-- first-seen order, i.e. the dictionary) and each row's label. csv_same.sh compares two
-- binaries' dumps byte for byte: "identical frames to today's loader".
--   churnlab scripts/bench/csv_dump.lua IN.csv OUT THREADS
local cl = require "churnlab"
local inp, out, th = arg[1], arg[2], tonumber(arg[3] or "1")
cl.core.threads(th)
local f = assert(io.open(out, "wb"))
local ok, df = pcall(cl.read_csv, inp, {warn = false})
if not ok then
  -- an error is part of the behaviour: its message must match too
  f:write("error\n", tostring(df), "\n")
  f:close()
  return
end
for j, name in ipairs(df:names()) do
  local c = df:col(name)
  local ty = c:type()
  f:write(string.format("col %d %s %s %d\n", j, name, ty, df:nrow()))
  -- a date column's cells print as text (to the second): its days, bits and all, are what
  -- num gives; without this every file with a date column failed here in both binaries, and
  -- two failures compared equal
  local t = (ty == "date" and c:astype("num") or c):totable()
  local parts = {}
  if ty == "cat" then
    for _, u in ipairs(c:unique()) do parts[#parts + 1] = tostring(u) end
    f:write("dict ", table.concat(parts, "\1"), "\n")
    parts = {}
    for i = 1, df:nrow() do parts[i] = t[i] == nil and "\2" or tostring(t[i]) end
    f:write(table.concat(parts, "\1"), "\n")
  else
    for i = 1, df:nrow() do
      local v = t[i]
      parts[i] = v == nil and "nil_____" or string.pack("<d", v)
    end
    f:write(table.concat(parts), "\n")
  end
end
f:close()
