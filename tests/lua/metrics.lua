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
  T.raises(function() M.f1("01", tensor{0.1, 0.2}) end, "churnlab.Tensor, a churnlab.Column")
  T.raises(function() M.best_threshold(tensor{0, 1}, tensor{0.1, 0.2}, "best") end, "invalid option")
end)

-- Frame columns and lists (issue 20): the binding rounds their values to float32 as tensor{}
-- does, so on the same numbers every metric equals the tensor one bit for bit (same binary,
-- same float32 inputs, same code path after the copy) and so matches scikit-learn as above.
local scalar_fns = {"roc_auc", "average_precision", "log_loss", "brier", "f1", "mcc",
  "accuracy", "precision", "recall", "specificity", "balanced_accuracy"}

T.test("frame columns and lists give the tensor's metrics (= scikit-learn)", function()
  for _, case in ipairs{"random", "ties", "imbalanced"} do
    local yt, pt = data(case)
    local df = cl.frame{y = ref[case .. ".y"], p = ref[case .. ".p"]}
    for _, fn in ipairs(scalar_fns) do
      local want = M[fn](yt, pt)
      T.eq(M[fn](df.y, df.p), want, case .. " " .. fn .. " (columns)")
      T.eq(M[fn](ref[case .. ".y"], ref[case .. ".p"]), want, case .. " " .. fn .. " (lists)")
      T.eq(M[fn](df.y, pt), want, case .. " " .. fn .. " (column and tensor)")
    end
    T.near(M.roc_auc(df.y, df.p), ref[case .. ".roc_auc"][1], 1e-9, "roc_auc vs sklearn")
    T.near(M.fbeta(df.y, df.p, 2), ref[case .. ".f2"][1], 1e-9, "f2 vs sklearn")
    local roc = M.roc_curve(df.y, df.p)
    for i, v in ipairs(ref[case .. ".roc_tpr"]) do T.near(roc.tpr[i], v, 1e-6) end
    local r = M.report(df.y, df.p)
    T.near(r.roc_auc, ref[case .. ".roc_auc"][1], 1e-9, "report on columns")
    T.eq(M.gains(df.y, df.p).lift[1], M.gains(yt, pt).lift[1])
    local _, f1 = M.best_threshold(df.y, df.p, "f1")
    T.near(f1, ref[case .. ".best_f1"][2], 1e-9)
  end
end)

T.test("a cat label column is compared first; a mask column is labels", function()
  local df = cl.frame{Churn = {"Yes", "No", "No", "Yes", "No"}, p = {0.9, 0.2, 0.6, 0.7, 0.1}}
  T.raises(function() M.roc_auc(df.Churn, df.p) end, "y is a cat column, expected a num column")
  T.raises(function() M.roc_auc(df.Churn, df.p) end, 'df.Churn:eq("Yes")')
  T.eq(M.roc_auc(df.Churn:eq("Yes"), df.p), M.roc_auc(tensor{1, 0, 0, 1, 0}, df.p))
  T.eq(M.roc_auc({true, false, false, true, false}, df.p), 1.0)
end)

T.test("missing values in a column or list are an error naming the row", function()
  local df = cl.frame{y = {1, 0, 1, 0}, p = {0.9, 0.2, nil, 0.4}}
  T.raises(function() M.roc_auc(df.y, df.p) end, "p row 3 is missing; drop or fill")
  T.raises(function() M.report(df.y, df.p) end, "bad argument #2 to 'report'")
  local ok = pcall(M.roc_auc, df:dropna().y, df:dropna().p)
  T.ok(ok, "after dropna the rows agree")
  T.raises(function() M.brier({1, 0 / 0, 1}, {0.5, 0.5, 0.5}) end, "y row 2 is missing")
  T.raises(function() M.brier({1, 0, 1}, {0.5, nil, 0.5, n = 3}) end, "p row 2 is missing")
  T.raises(function() M.f1({1, "x"}, {0.5, 0.5}) end, "y element 2 is a string")
  T.raises(function() M.f1({}, {}) end, "y is empty")
  T.raises(function() M.f1({1, n = 1 << 40}, {0.5}) end, "more than 2^31 values")
end)

T.test("columns of another length are refused", function()
  local a = cl.frame{y = {1, 0, 1}}
  local b = cl.frame{p = {0.1, 0.2}}
  T.raises(function() M.roc_auc(a.y, b.p) end, "p has 2 values, expected 3 values to match y")
  T.raises(function() M.roc_auc(b.p, a.y) end, "p has 3 values, expected 2 values to match y")
end)

T.done()
