-- rec_models.lua: EASE, BPR and item-kNN on MovieLens 100k beside numpy implementations in the
-- same run (scripts/bench/rec_models_numpy.py), on one split (all ratings as interactions, 20%
-- of each user held out, seed 42): fit seconds, exact precision@10 and NDCG@10 (seen items
-- excluded). item-kNN runs at its defaults (and with the former source-neighbourhood default,
-- k = 20); the line metric=ratio_to_numpy is churnlab's p@10 over numpy's (issue 18: >= 0.95).
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
do
  local cpu = "unknown"
  for l in io.lines("/proc/cpuinfo") do
    cpu = l:match("^model name%s*:%s*(.-)%s*$") or cpu
    if cpu ~= "unknown" then break end
  end
  local np = io.popen("nproc")
  print(string.format("env cpu=%q nproc=%s OPENBLAS_CORETYPE=%s", cpu, np:read("l") or "?",
                      os.getenv("OPENBLAS_CORETYPE") or "unset"))
  np:close()
end
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

local mine = {}
local function run(case, m)
  local t0 = now()
  m:fit(train)
  local fit = now() - t0
  local r = cl.rec.evaluate(m, test, {k = 10})
  mine[case] = r.precision
  line(case, "churnlab", "fit_s", fit, "s")
  line(case, "churnlab", "precision_at_10", r.precision, "")
  line(case, "churnlab", "ndcg_at_10", r.ndcg, "")
end
run("ml100k_ease", cl.rec.ease(ease_p))
local knn = cl.rec.itemknn{} -- the defaults: tfidf, neighbours = "target", k = 400, normalize
run("ml100k_itemknn", knn)
run("ml100k_itemknn_source20", cl.rec.itemknn{neighbours = "source", k = 20})
for seed = 1, 3 do
  local p = {seed = seed}
  for k, v in pairs(bpr_p) do p[k] = v end
  run("ml100k_bpr_seed" .. seed, cl.rec.bpr(p))
end
local cmd = string.format("/usr/bin/python3 scripts/bench/rec_models_numpy.py %s %s %g %d %d %g %g %d 2>&1",
                          trp, tep, ease_p.reg, bpr_p.factors, bpr_p.epochs, bpr_p.lr, bpr_p.reg,
                          knn:params().k)
local p = assert(io.popen(cmd))
for l in p:lines() do
  print(l)
  local case, v = l:match("case=(%S+) impl=numpy metric=precision_at_10 value=(%S+)")
  if case and mine[case] and case:find("itemknn", 1, true) then
    line(case, "churnlab", "ratio_to_numpy", mine[case] / tonumber(v), "")
  end
end
p:close()
os.remove(trp)
os.remove(tep)
