-- mpi_als.lua - the training script of tests/e2e/mpi_als.sh and the ALS line of
-- scripts/bench/mpi.lua.
--   [mpirun -np K] churnlab tests/e2e/mpi_als.lua out.txt [cg|exact|bench] [overlap]
-- Every rank builds the same interactions (Lua's own generator: the same on every machine):
-- U users in 4 taste groups, each with ~15 items mostly of its group, 2 of them held out. The
-- catalogue (every user and item label) gives every rank the same indices; each rank keeps
-- its block of users and fits ALS data parallel. Each rank writes its users' scores of every
-- item as hex floats (out.txt.<rank>; the parts in rank order are every user's) and rank 0
-- prints the held-out AUC over every user (a held-out item of the user against every item the
-- user never saw). "overlap": rank 1 also holds user 1's rows.
local cl = require "churnlab"
local rank, size = cl.mpi.rank(), cl.mpi.size()
local config = arg[2] or "cg"
local bench = config == "bench"
local U = bench and tonumber(os.getenv("MPI_BENCH_USERS") or "60000") or 500
local I = bench and 2000 or 120
local per = bench and 40 or 15
math.randomseed(17)
local lo, hi = rank * U // size + 1, (rank + 1) * U // size
local cu, ci = {}, {} -- the catalogue: every label once; users U+1..U+3 have no rows at all
for k = 1, math.max(U + 3, I) do
  cu[k] = "u" .. ((k - 1) % (U + 3) + 1)
  ci[k] = "i" .. ((k - 1) % I + 1)
end
local catalogue = cl.rec.interactions({users = cu, items = ci})
local us, is, vs, held = {}, {}, {}, {}
for u = 1, U do
  local g, seen, items = u % 4, {}, {}
  while #items < per do
    local i = math.random() < 0.8 and (math.random(0, I // 4 - 1) * 4 + g) % I + 1 or math.random(I)
    if not seen[i] then seen[i] = true; items[#items + 1] = i end
  end
  held[u] = {items[1], items[2], seen = seen}
  local mine = (u >= lo and u <= hi) or (arg[3] == "overlap" and rank == 1 and u == 1)
  for k = 3, #items do
    if mine then
      us[#us + 1] = "u" .. u; is[#is + 1] = "i" .. items[k]; vs[#vs + 1] = math.random(1, 3)
    else
      math.random(1, 3) -- the same stream on every rank
    end
  end
end
local train = cl.rec.interactions({users = us, items = is, values = vs}, {base = catalogue})
local params = {factors = 8, iters = 8, reg = 1, alpha = 3, cg_steps = 3, seed = 5}
if config == "exact" then params.cg_steps = 0 end
if bench then params = {factors = 32, iters = tonumber(os.getenv("MPI_BENCH_ITERS") or "5"), reg = 1, alpha = 3, seed = 5} end
local now = require("churnlab.core").now
local t0 = now()
local r = cl.rec.als(params):fit(train)
local secs = now() - t0
local items = {}
for i = 1, I do items[i] = "i" .. i end
-- a user is scored on the rank that holds its rows (elsewhere it is cold: popularity)
local f = assert(io.open(arg[1] .. "." .. rank, "w"))
local auc, n = 0, 0
for u = lo, hi do
  if bench and (u - 1) % 97 ~= 0 then goto next end -- the same users at any rank count
  local s = r:score("u" .. u, items)
  for i = 1, I do f:write(string.format("%a\n", s[i])) end
  for _, h in ipairs({held[u][1], held[u][2]}) do
    local wins, cnt = 0, 0
    for i = 1, I do
      if not held[u].seen[i] then
        cnt = cnt + 1
        wins = wins + (s[h] > s[i] and 1 or s[h] == s[i] and 0.5 or 0)
      end
    end
    auc, n = auc + wins / cnt, n + 1
  end
  ::next::
end
f:close()
local tot = cl.mpi.allreduce({auc, n})
if rank == 0 then
  print(string.format("mpi_als: ranks %d threads %d users %d fit %.3f s heldout_auc %.4f",
                      size, cl.threads(), U, secs, tot[1] / tot[2]))
end
