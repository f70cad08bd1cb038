-- Benchmark of churnlab's gbdt and forest against XGBoost (tree_method = "hist"),
-- scikit-learn's HistGradientBoostingClassifier and RandomForestClassifier, on one machine in
-- one run: a generated 2,000,000 x 50 numeric data set and a 200,000 x 50 set with 8
-- categorical columns (6..48 levels) and missing values. Same data (rebuilt bit for bit by
-- scripts/bench/trees_anchor.py), same split, same settings: 200 trees, depth 6, lr 0.1,
-- 255 bins, 2 threads (forest: 100 trees, depth 12, sqrt features).
--
-- Every (implementation, case) runs in its own process so peak memory (VmHWM) is its own.
-- Environment: TREES_BENCH_SCALE (default 1; e.g. 0.02 for a quick run), TREES_BENCH_ONLY
-- (substrings of "<kind>-<model>-<impl>", comma-separated: any one selects a run). At full size on 2 cores the gbdt rows take about
-- 8 minutes (sklearn's HGB most of it) and scikit-learn's RandomForest on 2,000,000 rows more
-- than 16 minutes: TREES_BENCH_ONLY=gbdt or =cat for a shorter run.
local child = os.getenv("TREES_BENCH_CHILD")
local TREES, DEPTH, LR, BINS = 200, 6, 0.1, 255
local THREADS = tonumber(os.getenv("TREES_BENCH_THREADS") or "") or 2 -- results do not depend on it
local FTREES, FDEPTH = 100, 12
-- TREES_BENCH_SEED: another draw of the data (scripts/bench/trees_cat_seeds.sh runs several);
-- TREES_BENCH_VALIDATE=1: score the 20,000 rows that follow the training rows of the same draw
-- (a validation split, for choosing defaults) instead of the test set
local SEED = tonumber(os.getenv("TREES_BENCH_SEED") or "") or 20261123
local VALIDATE = os.getenv("TREES_BENCH_VALIDATE") == "1"
local NVAL = 20000

local function vmhwm_mb()
  local f = io.open("/proc/self/status")
  if not f then return 0 / 0 end
  local s = f:read("a")
  f:close()
  local kb = s:match("VmHWM:%s*(%d+)")
  return kb and tonumber(kb) / 1024 or 0 / 0
end

local function auc(p, y)
  -- rank-based ROC AUC with tie handling, in Lua (n up to a few 100k)
  local n = y:numel()
  local pv, yv = p:totable(), y:totable()
  local idx = {}
  for i = 1, n do idx[i] = i end
  table.sort(idx, function(a, b) return pv[a] < pv[b] end)
  local pos, neg, rs, i = 0, 0, 0, 1
  while i <= n do
    local j = i
    while j < n and pv[idx[j + 1]] == pv[idx[i]] do j = j + 1 end
    local r = (i + j) / 2
    for k = i, j do
      if yv[idx[k]] == 1 then pos = pos + 1; rs = rs + r else neg = neg + 1 end
    end
    i = j + 1
  end
  return (rs - pos * (pos + 1) / 2) / (pos * neg)
end

if child then
  local cl = require "churnlab"
  local kind, model, ntr, nte, d = child:match("^(%S+) (%S+) (%d+) (%d+) (%d+)$")
  ntr, nte, d = tonumber(ntr), tonumber(nte), tonumber(d)
  cl.threads(THREADS)
  local X, y, Xt, yt
  if VALIDATE then -- rows are counter-based: the first ntr are bench_data(ntr)'s
    local Xa, ya = cl.synth.bench_data(ntr + NVAL, d, kind, SEED)
    X, y, Xt, yt = Xa:rows(1, ntr), ya:rows(1, ntr), Xa:rows(ntr + 1, ntr + NVAL), ya:rows(ntr + 1, ntr + NVAL)
    nte = NVAL
  else
    X, y = cl.synth.bench_data(ntr, d, kind, SEED)
    Xt, yt = cl.synth.bench_data(nte, d, kind, SEED + 1)
  end
  local cat = kind == "cat" and {1, 2, 3, 4, 5, 6, 7, 8} or nil
  local m
  if model == "gbdt" then
    m = cl.gbdt{trees = TREES, depth = DEPTH, lr = LR, max_bins = BINS}
  else
    m = cl.forest{trees = FTREES, depth = FDEPTH, max_bins = BINS, min_leaf = 1, seed = SEED}
  end
  local t0 = cl.core.now()
  m:fit(X, y, {categorical = cat, verbose = false})
  local train_s = cl.core.now() - t0
  t0 = cl.core.now()
  local p = m:predict(Xt)
  local pred_s = cl.core.now() - t0
  local case = kind .. "-" .. model
  local extra = string.format("n_train=%d d=%d trees=%d depth=%d threads=%d", ntr, d,
    model == "gbdt" and TREES or FTREES, model == "gbdt" and DEPTH or FDEPTH, THREADS)
  local function line(metric, v, unit)
    print(string.format("bench suite=trees case=%s impl=churnlab metric=%s value=%s unit=%s %s",
      case, metric, v, unit, extra))
  end
  line("train_s", string.format("%.3f", train_s), "s")
  line("predict_rows_per_s", string.format("%.0f", nte / pred_s), "rows/s")
  line("peak_mb", string.format("%.0f", vmhwm_mb()), "MB")
  line(VALIDATE and "val_auc" or "test_auc", string.format("%.5f", auc(p, yt)), "auc")
  -- single-row latency (interactive scoring)
  if model == "gbdt" then
    local row = Xt:rows(1, 1)
    local k = 2000
    t0 = cl.core.now()
    for _ = 1, k do m:predict(row) end
    line("predict_one_us", string.format("%.2f", (cl.core.now() - t0) / k * 1e6), "us")
  end
  io.stdout:flush()
  os.exit(0)
end

-- the CPU decides the ratios (issue 21: the lead over XGBoost on one CPU was gone on another)
do
  local f, cpu = io.open("/proc/cpuinfo"), "unknown"
  if f then
    cpu = (f:read("a"):match("model name%s*:%s*([^\n]+)") or cpu):gsub("%s+", "_")
    f:close()
  end
  local np = io.popen("nproc")
  print(string.format("bench-env suite=trees cpu=%s nproc=%s threads=%d openblas_coretype=%s", cpu,
    np:read("l") or "?", THREADS, os.getenv("OPENBLAS_CORETYPE") or "unset"))
  np:close()
end
local scale = tonumber(os.getenv("TREES_BENCH_SCALE") or "1")
local only = os.getenv("TREES_BENCH_ONLY")
local exe = arg and arg[-1] or "./churnlab"
local script = arg and arg[0] or "scripts/bench/trees.lua"
local cases = {
  {kind = "numeric", ntr = math.floor(2000000 * scale), nte = math.floor(200000 * scale), d = 50},
  {kind = "cat", ntr = math.floor(200000 * scale), nte = math.floor(50000 * scale), d = 50},
}
local results = {}
local function selected(key)
  if not only then return true end
  for part in only:gmatch("[^,]+") do
    if key:find(part, 1, true) then return true end
  end
  return false
end
local function run(cmd, key)
  if not selected(key) then return end
  local p = io.popen(cmd .. " 2>&1")
  local out = p:read("a")
  p:close()
  io.write(out)
  io.stdout:flush()
  for impl, metric, v in out:gmatch("impl=(%S+) metric=(%S+) value=(%S+)") do
    results[key:match("^(%S+%-%S+)%-") .. "|" .. impl .. "|" .. metric] = tonumber(v)
  end
end
for _, c in ipairs(cases) do
  for _, model in ipairs({"gbdt", "forest"}) do
    local key = c.kind .. "-" .. model
    run(string.format("TREES_BENCH_CHILD='%s %s %d %d %d' %s %s", c.kind, model, c.ntr, c.nte,
      c.d, exe, script), key .. "-churnlab")
    local anchors = model == "gbdt" and {"xgboost", "hgb"} or {"rf"}
    for _, a in ipairs(anchors) do
      local t, dp = model == "gbdt" and TREES or FTREES, model == "gbdt" and DEPTH or FDEPTH
      run(string.format("/usr/bin/python3 scripts/bench/trees_anchor.py %s %s %d %d %d %d %d %d %d %g %d",
        a, c.kind, c.ntr, c.nte, c.d, SEED, THREADS, t, dp, LR, BINS), key .. "-" .. a)
    end
  end
end
-- ratios churnlab / anchor (time and memory: < 1 is better; rows/s: > 1 is better)
for _, c in ipairs(cases) do
  for _, pair in ipairs({{"gbdt", "xgboost"}, {"gbdt", "sklearn"}, {"forest", "sklearn"}}) do
    local case = c.kind .. "-" .. pair[1]
    for _, metric in ipairs({"train_s", "predict_rows_per_s", "peak_mb", "test_auc", "val_auc"}) do
      local a = results[case .. "|churnlab|" .. metric]
      local b = results[case .. "|" .. pair[2] .. "|" .. metric]
      if a and b and b ~= 0 then
        print(string.format("bench-ratio suite=trees case=%s metric=%s churnlab/%s=%.3f", case,
          metric, pair[2], metric:match("_auc$") and a - b + 1 or a / b))
      end
    end
  end
end
