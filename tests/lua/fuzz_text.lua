-- Random-mutation fuzzing of the text formats read in Lua (no libFuzzer there): MovieLens
-- ratings and u.item files (churnlab.rec_eval), the report's markdown-lite, and CSV through
-- cl.read_csv into interactions. Deterministic (fixed seed); each input must parse or raise
-- an error whose message is a non-empty string, and parsed ratings must be well-formed.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"
local report = require "churnlab.report"

local ITER = tonumber(os.getenv("FUZZ_TEXT_ITER") or "") or 400
local seed = 20261123
local function rnd(n) seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n + 1 end
local tokens = {"|", "\t", ",", "\n", "\r\n", "\"", "0", "-1", "1e400", "nan", "", " ", "99999999999999999999",
                "\0", "\255\254", "**", "`", "#", "- ", "|", "[x](y)", "\\", "01-Jan-1995", "()"}
-- Random edits of a seed text: delete, duplicate, insert a token, flip a byte, truncate.
local function mutate(s)
  for _ = 1, rnd(4) do
    local op, at = rnd(5), rnd(#s + 1)
    if op == 1 and #s > 0 then s = s:sub(1, at - 1) .. s:sub(at + rnd(8))
    elseif op == 2 then s = s:sub(1, at) .. s:sub(at, at + rnd(20)) .. s:sub(at + 1)
    elseif op == 3 then s = s:sub(1, at - 1) .. tokens[rnd(#tokens)] .. s:sub(at)
    elseif op == 4 and #s > 0 then
      s = s:sub(1, at - 1) .. string.char(rnd(256) - 1) .. s:sub(at + 1)
    else s = s:sub(1, rnd(#s + 1)) end
  end
  return s
end

local tmp = os.tmpname()
local function write(s) local f = assert(io.open(tmp, "wb")); f:write(s); f:close() end
local function must_be_ok_or_message(what, ok, err)
  if not ok then T.ok(type(err) == "string" and #err > 0, what .. ": error without a message") end
end

local ratings = "196\t242\t3\t881250949\n186\t302\t3\t891717742\n22\t377\t1\t878887116\n"
local items = "1|Toy Story (1995)|01-Jan-1995||http://x|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n" ..
              "2|GoldenEye (1995)|01-Jan-1995||http://y|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n"
local md = "# Title\n\nSome *text* with `code` and **bold**.\n\n- a\n- b\n\n| a | b |\n|---|---|\n| 1 | 2 |\n"

T.test("MovieLens ratings: mutated files parse or fail with a message", function()
  for _ = 1, ITER do
    write(mutate(ratings))
    local ok, r = pcall(ev.read_ratings, tmp)
    must_be_ok_or_message("read_ratings", ok, r)
    if ok and r then
      T.eq(#r.users, #r.items, "users/items lengths")
      T.eq(#r.users, #r.values, "users/values lengths")
      for i = 1, #r.users do
        T.eq(math.type(r.users[i]), "integer", "user ids are integers")
        T.ok(r.values[i] == r.values[i], "rating is not NaN")
      end
      if #r.users > 0 then
        local ok2, m = pcall(cl.rec.interactions, r)
        must_be_ok_or_message("interactions", ok2, m)
      end
    end
  end
end)

T.test("MovieLens u.item: mutated files parse or fail with a message", function()
  for _ = 1, ITER do
    write(mutate(items))
    local ok, r = pcall(ev.read_movielens_items, tmp)
    must_be_ok_or_message("read_movielens_items", ok, r)
    if ok and r and r.features then
      for i = 1, r.features:numel() do
        local v = r.features:reshape(-1):get(i)
        T.ok(v == v, "feature is not NaN")
      end
    end
  end
end)

T.test("report markdown-lite and inline: mutated text renders or fails with a message", function()
  for _ = 1, ITER do
    local s = mutate(md)
    local ok, h = pcall(report.markdown, s)
    must_be_ok_or_message("markdown", ok, h)
    if ok then T.eq(type(h), "string", "markdown gives HTML text") end
    local ok2, h2 = pcall(report.inline, s)
    must_be_ok_or_message("inline", ok2, h2)
  end
end)

os.remove(tmp)
T.done()
