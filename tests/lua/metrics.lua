-- Tests of churnlab.metrics through the binding, against the scikit-learn references in
-- tests/data/metrics_ref.txt (scripts/ref/metrics_ref.py).
-- Tolerances: scalars as in tests/core/eval/test_metrics.c (double sums over the same values,
-- other order: 1e-13; 1e-9 allowed, a wrong tie moves them by >= 1/n);
-- curve points and calibration bins are ratios of counts and means (1e-6 is loose); lift, a
-- ratio of counts, 1e-12.
local T = dofile("tests/lua/lib/check.lua")
local cl = require "churnlab"
local M, tensor = cl.metrics, cl.tensor

local ref = {}
for line in io.lines("tests/data/metrics_ref.txt") do
  if not line:match("^#") then
    local key, _, rest = line:match("^(%S+) (%d+) (.*)$")
    local v = {}
    for tok in rest:gmatch("%S+") do v[#v + 1] = tok == "inf" and math.huge or tonumber(tok) end
    ref[key] = v
  end
end
local function data(case) return tensor(ref[case .. ".y"]), tensor(ref[case .. ".p"]) end

for _, case in ipairs{"random", "ties", "imbalanced", "extremes"} do
  T.test(case .. ": scalar metrics match scikit-learn", function()
    local y, p = data(case)
    T.near(M.roc_auc(y, p), ref[case .. ".roc_auc"][1], 1e-9, "roc_auc")
    T.near(M.average_precision(y, p), ref[case .. ".ap"][1], 1e-9, "ap")
    T.near(M.log_loss(y, p), ref[case .. ".log_loss"][1], 1e-9, "log_loss")
    T.near(M.brier(y, p), ref[case .. ".brier"][1], 1e-9, "brier")
    T.near(M.f1(y, p), ref[case .. ".f1"][1], 1e-9, "f1")
    T.near(M.mcc(y, p), ref[case .. ".mcc"][1], 1e-9, "mcc")
    T.near(M.fbeta(y, p, 2), ref[case .. ".f2"][1], 1e-9, "f2")
    T.near(M.balanced_accuracy(y, p), ref[case .. ".balanced_accuracy"][1], 1e-9)
    local c = M.confusion(y, p)
    local rc = ref[case .. ".confusion"]
    T.eq(c.tp, math.tointeger(rc[1])); T.eq(c.fp, math.tointeger(rc[2]))
    T.eq(c.tn, math.tointeger(rc[3])); T.eq(c.fn, math.tointeger(rc[4]))
  end)
  T.test(case .. ": curves match scikit-learn", function()
    local y, p = data(case)
    local roc = M.roc_curve(y, p)
    T.eq(#roc.fpr, #ref[case .. ".roc_fpr"])
    for i, v in ipairs(ref[case .. ".roc_tpr"]) do T.near(roc.tpr[i], v, 1e-6) end
    T.eq(roc.thresholds[1], math.huge)
    local pr = M.pr_curve(y, p)
    for i, v in ipairs(ref[case .. ".pr_precision"]) do T.near(pr.precision[i], v, 1e-6) end
    local cal = M.calibration(y, p, 10)
    for i, v in ipairs(ref[case .. ".calib_true"]) do T.near(cal.fraction_positive[i], v, 1e-6) end
    if ref[case .. ".lift"] then
      local g = M.gains(y, p)
      for i, v in ipairs(ref[case .. ".lift"]) do T.near(g.lift[i], v, 1e-12) end
    end
    local t, f1 = M.best_threshold(y, p, "f1")
    T.near(f1, ref[case .. ".best_f1"][2], 1e-9)
    local _, cost = M.best_threshold(y, p, {cost_fp = 1, cost_fn = 5})
    T.near(cost, ref[case .. ".best_cost"][2], 1e-9)
    T.ok(t <= 1)
  end)
end

T.test("report holds every metric and prints aligned", function()
  local y, p = data("random")
  local r = M.report(y, p)
  T.near(r.roc_auc, ref["random.roc_auc"][1], 1e-9)
  T.near(r.top_decile_lift, ref["random.lift"][1], 1e-12)
  local s = tostring(r)
  T.ok(s:find("roc_auc", 1, true) and s:find("confusion matrix", 1, true), s)
  local widths = {}
  for line in s:gmatch("[^\n]+") do
    if line:match("^  %a[%w_]* +[%d.n/-]") then widths[#line] = true end
  end
  local k = 0
  for _ in pairs(widths) do k = k + 1 end
  T.eq(k, 1, "every metric line has the same width")
end)

T.test("one class only: AUC is an error, report leaves it out", function()
  local y, p = data("oneclass")
  T.raises(function() M.roc_auc(y, p) end, "only one class")
  T.raises(function() M.average_precision(y, p) end, "only one class")
  local r = M.report(y, p)
  T.eq(r.roc_auc, nil)
  T.ok(tostring(r):find("n/a", 1, true))
end)

T.test("bad input names the row", function()
  T.raises(function() M.roc_auc(tensor{0, 1, 2}, tensor{0.1, 0.2, 0.3}) end, "row 3")
  T.raises(function() M.brier(tensor{0, 1}, tensor{0.1, 0 / 0}) end, "row 2 is NaN")
  T.raises(function() M.log_loss(tensor{0, 1}, tensor{0.1, 1.5}) end, "0 <= p <= 1")
  T.raises(function() M.f1(tensor{0, 1}, tensor{0.1, 0.2, 0.3}) end, "expected 2 values")
  T.raises(function() M.f1({0, 1}, tensor{0.1, 0.2}) end, "churnlab.Tensor")
  T.raises(function() M.best_threshold(tensor{0, 1}, tensor{0.1, 0.2}, "best") end, "invalid option")
end)

T.done()
