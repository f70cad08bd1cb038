-- fuzz_seeds.lua - what the seed-corpus writers (scripts/make_fuzz_seeds.lua,
-- scripts/make_fuzz_xgb_seeds.lua) share: the output folder from the command line, and the
-- 40-row, 3-feature training set the small seed models are fitted on.
--   local S = dofile(<this file>)
--   local dir = S.outdir("tests/data/fuzz-xgb")
--   local X, y, rows = S.rows(11)      -- the generator's seed: each corpus keeps its own rows
local M = {}

-- arg[1] or the default, created when missing.
function M.outdir(default)
  local dir = arg and arg[1] or default
  os.execute("mkdir -p '" .. dir .. "'")
  return dir
end

-- 40 rows: x1 informative (the label plus uniform noise), x2 noise, x3 missing on every 5th
-- row. A plain LCG, so the rows (and the seed files fitted on them) never change with the
-- library's random streams. Returns the tensors X, y and the rows as a Lua table.
function M.rows(seed)
  local T = require("churnlab").tensor
  local rows, ys, s = {}, {}, seed
  local function rnd() s = (s * 1103515245 + 12345) % 2147483648; return s / 2147483648 end
  for i = 1, 40 do
    local y = i % 2
    rows[i] = {y + rnd() - 0.5, rnd(), (i % 5 == 0) and 0 / 0 or rnd() * 3}
    ys[i] = y
  end
  return T.new(rows), T.new(ys), rows
end

return M
