-- logreg.lua: logistic regression fit time and test AUC, churnlab (L-BFGS, L2, C = 1,
-- tol 1e-6 on the mean gradient) vs scikit-learn (lbfgs, C = 1, its defaults), both at 1 and
-- 2 threads on the same 200,000 x 105 one-hot files as mlp.lua (lib/benchdata.lua).
local cl = require "churnlab"

local NTRAIN = tonumber(os.getenv("BENCH_MLP_ROWS") or "") or 200000
local HERE, PY = "scripts/bench/", "/usr/bin/python3"
local data = dofile(HERE .. "lib/benchdata.lua")
local X, y, Xt, yt = data.load_all(NTRAIN, 40000)

local function line(impl, metric, value, unit, extra)
  print(string.format("bench suite=logreg case=onehot200k impl=%s metric=%s value=%s unit=%s%s", impl,
                      metric, value, unit, extra and (" " .. extra) or ""))
end

local best = {}
for _, threads in ipairs{1, 2} do
  cl.threads(threads)
  local m = cl.logreg{C = 1}
  local t0 = cl.core.now()
  local r = m:fit(X, y, {verbose = false}):history()
  local secs = cl.core.now() - t0
  local auc = cl.metrics.roc_auc(yt, m:predict(Xt))
  line("churnlab", "fit_s", string.format("%.4f", secs), "s",
       string.format("threads=%d iters=%d converged=%s", threads, r.iters, tostring(r.converged)))
  line("churnlab", "auc", string.format("%.5f", auc), "auc", "threads=" .. threads)
  if not best.churnlab or secs < best.churnlab.s then best.churnlab = {s = secs, auc = auc, t = threads} end
end
cl.threads(0)
for _, threads in ipairs{1, 2} do
  local env = string.format("OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d ", threads, threads)
  local p = io.popen(string.format("%s%s %slogreg_sklearn.py %s %d 2>&1", env, PY, HERE, data.DIR, threads))
  local out = p:read("a"); p:close()
  local s, auc
  for l in out:gmatch("[^\n]+") do
    if l:match("^bench ") then
      print(l)
      local v = tonumber(l:match("value=(%S+)"))
      if l:find("metric=fit_s", 1, true) then s = v else auc = v end
    end
  end
  if not s then io.stderr:write("anchor failed:\n" .. out .. "\n")
  elseif not best.sklearn or s < best.sklearn.s then best.sklearn = {s = s, auc = auc, t = threads} end
end
if best.sklearn then
  line("churnlab", "speedup_vs_sklearn", string.format("%.2f", best.sklearn.s / best.churnlab.s), "x",
       string.format("churnlab_threads=%d sklearn_threads=%d", best.churnlab.t, best.sklearn.t))
  line("churnlab", "auc_minus_sklearn", string.format("%+.5f", best.churnlab.auc - best.sklearn.auc), "auc")
end
