-- modelfile.lua: edits one value inside a chunk of a churnlab model file and recomputes the
-- CRC, so a test can hand the loader a file that passes every container check and is wrong
-- only in its meaning (layout: core/base/modelio.h).
--   local MF = dofile("tests/lua/lib/modelfile.lua")
--   MF.edit("in.clm", "out.clm", {["k"] = 10000, ["pipeline.has_positive"] = 0})
--   MF.edit("in.clm", "out.clm", {["logreg.coef"] = {2, 1e300}})   -- element 2 of an array
local M = {}

local crc_table = {}
for i = 0, 255 do
  local c = i
  for _ = 1, 8 do c = (c & 1) ~= 0 and (0xEDB88320 ~ (c >> 1)) or (c >> 1) end
  crc_table[i] = c
end

local function crc32(s)
  local c = 0xFFFFFFFF
  for i = 1, #s do c = crc_table[(c ~ s:byte(i)) & 0xFF] ~ (c >> 8) end
  return c ~ 0xFFFFFFFF
end

local FMT = {[1] = "B", [2] = "<i4", [3] = "<i8", [4] = "<f", [5] = "<d"}
local SIZE = {[1] = 1, [2] = 4, [3] = 8, [4] = 4, [5] = 8}

-- The chunk table: name -> {type, n, off (1-based payload start)}.
function M.chunks(s)
  local klen = string.unpack("<I4", s, 13)
  local pos = 17 + klen
  local count = string.unpack("<I4", s, pos)
  pos = pos + 4
  local out = {}
  for _ = 1, count do
    local nlen = string.unpack("<I2", s, pos)
    local name = s:sub(pos + 2, pos + 1 + nlen)
    pos = pos + 2 + nlen
    local ty = s:byte(pos)
    local n = string.unpack("<I8", s, pos + 1)
    local off = pos + 9
    pos = off
    if ty == 6 then
      for _ = 1, n do pos = pos + 4 + string.unpack("<I4", s, pos) end
    else
      pos = pos + n * SIZE[ty]
    end
    out[name] = {type = ty, n = n, off = off}
  end
  return out
end

local function fix_crc(s)
  local body = s:sub(1, #s - 4)
  return body .. string.pack("<I4", crc32(body))
end

function M.edit(src, dst, edits)
  local f = assert(io.open(src, "rb"))
  local s = f:read("a")
  f:close()
  local ch = M.chunks(s)
  for name, v in pairs(edits) do
    local c = assert(ch[name], "no chunk " .. name)
    local idx, val = 1, v
    if type(v) == "table" then idx, val = v[1], v[2] end
    assert(FMT[c.type], "chunk " .. name .. " is not numeric")
    assert(idx >= 1 and idx <= c.n, "chunk " .. name .. " has no element " .. idx)
    local at = c.off + (idx - 1) * SIZE[c.type]
    if c.type <= 3 then val = math.tointeger(val) end
    s = s:sub(1, at - 1) .. string.pack(FMT[c.type], val) .. s:sub(at + SIZE[c.type])
  end
  f = assert(io.open(dst, "wb"))
  f:write(fix_crc(s))
  f:close()
  return dst
end

return M
