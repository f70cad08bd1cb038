-- rec_mf_pre_time_fixture.lua: writes tests/data/rec_mf_pre_time.clm (an mf model file from a
-- binary before mf's time parameters existed) and the predictions that binary made from it,
-- tests/data/rec_mf_pre_time.txt. tests/lua/rec_time.lua loads the file with today's binary:
-- it must load (time off) and predict the same ratings. Run once with the old binary:
--   /path/to/old/churnlab scripts/ref/rec_mf_pre_time_fixture.lua
local rec = require("churnlab").rec
local us, is, vs = {}, {}, {}
for u = 1, 12 do
  for i = 1, 9 do
    if (u * 7 + i * 3) % 4 ~= 0 then
      us[#us + 1], is[#is + 1], vs[#vs + 1] = u, i, 1 + (u + 2 * i) % 5
    end
  end
end
local m = rec.mf{factors = 3, epochs = 10, seed = 4, implicit = true}:fit(
  rec.interactions{users = us, items = is, values = vs})
m:save("tests/data/rec_mf_pre_time.clm")
local f = assert(io.open("tests/data/rec_mf_pre_time.txt", "w"))
for u = 1, 12 do
  for i = 1, 9 do f:write(string.format("%d %d %.9g\n", u, i, m:predict_rating(u, i))) end
end
f:close()
