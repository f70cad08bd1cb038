-- rec_itemknn_pre_weighting_fixture.lua: writes tests/data/rec_itemknn_pre_weighting.clm, an
-- itemknn model file from a binary before the weighting parameters existed, fitted on the
-- matrix of tests/data/rec_itemknn_ref.txt. tests/lua/rec_knn.lua loads it with today's
-- binary (weighting must read as "none", whatever today's default). Run once with the old
-- binary:  /path/to/old/churnlab scripts/ref/rec_itemknn_pre_weighting_fixture.lua
local rec = require("churnlab").rec
local us, is, vs = {}, {}, {}
for line in io.lines("tests/data/rec_itemknn_ref.txt") do
  local u, i, v = line:match("^r (%d+) (%d+) (%S+)$")
  if u then us[#us + 1], is[#is + 1], vs[#vs + 1] = tonumber(u), tonumber(i), tonumber(v) end
end
rec.itemknn{k = 4}:fit(rec.interactions{users = us, items = is, values = vs})
  :save("tests/data/rec_itemknn_pre_weighting.clm")
