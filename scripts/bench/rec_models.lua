-- rec_models.lua: EASE and BPR on MovieLens 100k beside numpy implementations in the same run
-- (scripts/bench/rec_models_numpy.py), on one split (all ratings as interactions, 20% of each
-- user held out, seed 42): fit seconds, exact precision@10 and NDCG@10 (seen items excluded).
--
--   churnlab scripts/bench/rec_models.lua [movielens_dir]
--
-- The hyperparameters are the ones chosen on a validation split cut from the training part
-- (train:split{test = 0.2, seed = 7}), never on this test split: EASE reg and BPR's settings.
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"

local dir = (arg[1] or "../shared/data/movielens_100k") .. "/"
if not io.open(dir .. "u.data") then
  io.stderr:write("rec_models: " .. dir .. "u.data not found (pass the data directory)\n")
  os.exit(2)
end
local now = cl.core.now
local function line(case, impl, metric, value, unit)
  print(string.format("bench suite=rec_models case=%s impl=%s metric=%s value=%.6g unit=%s", case,
                      impl, metric, value, unit))
  io.stdout:flush()
end
print(string.format("env churnlab=%s threads=%d", cl.version, cl.threads()))
local py = io.popen("/usr/bin/python3 -c 'import numpy, platform; print(numpy.__version__, platform.python_version())'")
print("env numpy/python=" .. (py:read("l") or "?"))
py:close()

local ease_p = {reg = 800}
local bpr_p = {factors = 64, epochs = 30, lr = 0.05, reg = 0.02}

local all = ev.read_ratings(dir .. "u.data")
local inter = cl.rec.interactions{users = all.users, items = all.items}
local train, test = inter:split{test = 0.2, seed = 42}

local function dump(m, path)
  local f = assert(io.open(path, "w"))
  for _, u in ipairs(m:users()) do
    for _, i in ipairs((m:user_items(u))) do f:write(u, " ", i, "\n") end
  end
  f:close()
end
local trp, tep = os.tmpname(), os.tmpname()
dump(train, trp)
dump(test, tep)

local function run(case, m)
  local t0 = now()
  m:fit(train)
  local fit = now() - t0
  local r = cl.rec.evaluate(m, test, {k = 10})
  line(case, "churnlab", "fit_s", fit, "s")
  line(case, "churnlab", "precision_at_10", r.precision, "")
  line(case, "churnlab", "ndcg_at_10", r.ndcg, "")
end
run("ml100k_ease", cl.rec.ease(ease_p))
for seed = 1, 3 do
  local p = {seed = seed}
  for k, v in pairs(bpr_p) do p[k] = v end
  run("ml100k_bpr_seed" .. seed, cl.rec.bpr(p))
end
local cmd = string.format("/usr/bin/python3 scripts/bench/rec_models_numpy.py %s %s %g %d %d %g %g 2>&1",
                          trp, tep, ease_p.reg, bpr_p.factors, bpr_p.epochs, bpr_p.lr, bpr_p.reg)
local p = assert(io.popen(cmd))
for l in p:lines() do print(l) end
p:close()
os.remove(trp)
os.remove(tep)
