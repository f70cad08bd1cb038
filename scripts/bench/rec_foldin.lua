-- rec_foldin.lua: fold-in (recommend_for: a fresh history, no retraining) latency and
-- quality on MovieLens 100k, with a numpy anchor for the ALS fold-in in the same run.
--
--   churnlab scripts/bench/rec_foldin.lua        (MOVIELENS_DIR overrides the data folder)
--
-- Latency: 20 fresh interactions, k = 10, 64 factors, seen items excluded: als, itemknn,
-- content, hybrid (als + itemknn + content, popularity fallback), mf and svd++ (ratings 4).
-- Target (issues 15, 18): <= 1 ms per call for als, itemknn, content and hybrid.
-- Quality (issue 18's fold-in bug): mf (sgd, als, svd++) trained on u1.base; every u1.test
-- user's training ratings are folded in and their test ratings predicted from the folded-in
-- factors, beside the same predictions from the trained factors (a correct fold-in is close to them).
local cl = require "churnlab"
local ev = require "churnlab.rec_eval"

local now = cl.core.now
local F = 64
local dir = os.getenv("MOVIELENS_DIR") or "../shared/data/movielens_100k"
local function line(case, impl, metric, value, unit, extra)
  print(string.format("bench suite=rec_foldin case=%s impl=%s metric=%s value=%.6g unit=%s%s",
                      case, impl, metric, value, unit, extra or ""))
  io.stdout:flush()
end
local function cpu_model()
  local f = io.open("/proc/cpuinfo")
  if not f then return "unknown" end
  for l in f:lines() do
    local m = l:match("^model name%s*:%s*(.-)%s*$")
    if m then f:close() return (m:gsub("%s+", "_")) end
  end
  f:close()
  return "unknown"
end
local np = io.popen("nproc")
local nproc = np and np:read("l") or "?"
if np then np:close() end
print(string.format("bench-env suite=rec_foldin cpu=%s nproc=%s OPENBLAS_CORETYPE=%s threads=%d",
                    cpu_model(), nproc, os.getenv("OPENBLAS_CORETYPE") or "unset", cl.threads()))

local fh = io.open(dir .. "/u.data")
if not fh then
  print("bench-skip suite=rec_foldin reason=" .. dir .. "/u.data not found (MOVIELENS_DIR)")
  return
end
fh:close()

local d = ev.read_ratings(dir .. "/u.data")
local implicit = cl.rec.interactions{users = d.users, items = d.items}
local explicit = cl.rec.interactions{users = d.users, items = d.items, values = d.values}
local meta = ev.read_movielens_items(dir .. "/u.item")
local ids = implicit:items()
local hist = {}
for j = 1, 20 do hist[j] = ids[(j * 37) % #ids + 1] end
local rated = {items = hist, values = {}}
for j = 1, 20 do rated.values[j] = 4 end

local function content()
  return cl.rec.content{features = meta.features, items = meta.items}
end
local models = {
  {"als", cl.rec.als{factors = F, reg = 0.1, alpha = 5, iters = 10, seed = 42}, hist},
  {"itemknn", cl.rec.itemknn{k = 100}, hist},
  {"content", content(), hist},
  {"hybrid", cl.rec.hybrid{{cl.rec.als{factors = F, reg = 0.1, alpha = 5, iters = 10}, 0.6},
                           {cl.rec.itemknn{k = 100}, 0.3}, {content(), 0.1},
                           fallback = cl.rec.popular{}}, hist},
  {"mf", cl.rec.mf{factors = F, epochs = 20, seed = 42}, rated, explicit},
  {"svdpp", cl.rec.mf{factors = F, epochs = 20, seed = 42, implicit = true}, rated, explicit},
}
for _, spec in ipairs(models) do
  local name, m, h = spec[1], spec[2], spec[3]
  m:fit(spec[4] or implicit)
  m:recommend_for(h, 10)
  local reps = 2000
  local t0 = now()
  for _ = 1, reps do m:recommend_for(h, 10) end
  line("ml100k_" .. name, "churnlab", "ms_per_call", (now() - t0) / reps * 1000, "ms",
       string.format(" factors=%d history=20 k=10", F))
end

local p = io.popen(string.format("/usr/bin/python3 scripts/bench/rec_foldin_numpy.py %d 1682 20", F))
if p then
  for l in p:lines() do print(l) end
  p:close()
end

-- quality of the mf fold-in on u1
local base = ev.read_ratings(dir .. "/u1.base", "\t")
local test = ev.read_ratings(dir .. "/u1.test", "\t")
local train = cl.rec.interactions{users = base.users, items = base.items, values = base.values}
local mf_params = {
  sgd = {factors = 100, epochs = 50, lr = 0.005, reg = 0.08, init_std = 0.05, seed = 42},
  als = {factors = 30, epochs = 10, solver = "als", reg = 0.12, reg_bias = 0.01, seed = 42},
  svdpp = {factors = 100, epochs = 50, lr = 0.005, reg = 0.08, init_std = 0.05, seed = 42,
           implicit = true},
}
for _, solver in ipairs{"sgd", "als", "svdpp"} do
  local mf = cl.rec.mf(mf_params[solver]):fit(train)
  local by_user = {}
  for n = 1, #test.users do
    local u = test.users[n]
    local t = by_user[u]
    if not t then t = {items = {}, values = {}}; by_user[u] = t end
    t.items[#t.items + 1] = test.items[n]
    t.values[#t.values + 1] = test.values[n]
  end
  local se_t, se_f, cnt = 0, 0, 0
  local _, n_items = train:shape()
  local t0 = now()
  for u, t in pairs(by_user) do
    local its, vals = train:user_items(u)
    if its and #its > 0 then
      local all, sc = mf:recommend_for({items = its, values = vals}, n_items, {exclude_seen = false})
      local fold = {}
      for j = 1, #all do fold[all[j]] = sc[j] end
      local trained = mf:score(u, t.items)
      for j = 1, #t.items do
        local f, tr = fold[t.items[j]], trained[j]
        if f and tr then
          f = math.max(1, math.min(5, f))
          tr = math.max(1, math.min(5, tr))
          se_f = se_f + (f - t.values[j])^2
          se_t = se_t + (tr - t.values[j])^2
          cnt = cnt + 1
        end
      end
    end
  end
  line("u1_mf_" .. solver, "churnlab", "rmse_trained", math.sqrt(se_t / cnt), "rating")
  line("u1_mf_" .. solver, "churnlab", "rmse_foldin", math.sqrt(se_f / cnt), "rating",
       string.format(" ratings=%d s=%.2f", cnt, now() - t0))
end
