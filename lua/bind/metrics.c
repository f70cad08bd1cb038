/* metrics.c - module churnlab.metrics: classifier metrics on (y, p) tensors.
 *
 *   local M = cl.metrics
 *   M.roc_auc(y, p); M.f1(y, p, 0.4); M.gains(y, p).lift[1]   -- top-decile lift
 *   print(M.report(y, p))
 *
 * y: labels 0/1, p: scores (probabilities for log_loss, brier, calibration), of the same
 * length, each a tensor, a num frame column (df.churn) or a list; a missing value is an error
 * naming the row. Threshold metrics predict positive when p >= threshold (default 0.5).
 */
#include "support/lframe.h"
#include "support/lmodel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

typedef struct yp {
    const float *y, *p;
    int64_t n;
} yp;

/* A float32 copy of a frame column or a Lua list, owned by a userdata pushed on the stack
 * (collected with it, so raising later leaks nothing). Missing values (NaN in a num column, a
 * hole or NaN in a list) are an error naming the row: a metric over the rows that happen to be
 * present would silently score another sample than the caller thinks. Values are rounded to
 * float32 as tensor{...} rounds them, so a column and the tensor of the same numbers give the
 * same metric. */
static float *missing(lua_State *L, int idx, const char *what, int64_t i)
{
    luaL_argerror(L, idx, lua_pushfstring(L, "%s row %I is missing; drop or fill missing rows "
                                             "first (df:dropna{subset = {...}})",
                                          what, (lua_Integer)i + 1));
    return NULL;
}

static const float *column_values(lua_State *L, int idx, const char *what, int64_t *n)
{
    cl_column *c = testcol(L, idx);
    if (c->type != CL_NUM) {
        const char *hint = c->type == CL_CAT ? "; compare it first, e.g. df.Churn:eq(\"Yes\")" : "";
        luaL_argerror(L, idx, lua_pushfstring(L, "%s is a %s column, expected a num column%s",
                                              what, cl_frame_coltype_name(c->type), hint));
    }
    *n = c->n;
    if (c->n < 1)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s is empty (0 rows)", what));
    float *v = lua_newuserdatauv(L, sizeof(float) * (size_t)c->n, 0);
    for (int64_t i = 0; i < c->n; i++) {
        if (isnan(c->num[i]))
            return missing(L, idx, what, i);
        v[i] = (float)c->num[i];
    }
    return v;
}

static const float *list_values(lua_State *L, int idx, const char *what, int64_t *n)
{
    /* {..., n = N} keeps trailing and inner holes countable, as table.pack does */
    *n = lua_getfield(L, idx, "n") == LUA_TNUMBER && lua_isinteger(L, -1)
             ? (int64_t)lua_tointeger(L, -1)
             : (int64_t)luaL_len(L, idx);
    lua_pop(L, 1);
    if (*n < 1)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s is empty (0 values)", what));
    if (*n > ((int64_t)1 << 31)) /* before allocating for it */
        luaL_argerror(L, idx, lua_pushfstring(L, "%s has n = %I, more than 2^31 values", what,
                                              (lua_Integer)*n));
    float *v = lua_newuserdatauv(L, sizeof(float) * (size_t)*n, 0);
    for (int64_t i = 0; i < *n; i++) {
        int ty = lua_geti(L, idx, (lua_Integer)i + 1);
        if (ty == LUA_TBOOLEAN)
            v[i] = (float)lua_toboolean(L, -1);
        else if (ty == LUA_TNUMBER && !isnan(lua_tonumber(L, -1)))
            v[i] = (float)lua_tonumber(L, -1);
        else if (ty == LUA_TNIL || ty == LUA_TNUMBER)
            return missing(L, idx, what, i);
        else
            luaL_argerror(L, idx, lua_pushfstring(L, "%s element %I is a %s, expected a number",
                                                  what, (lua_Integer)i + 1, luaL_typename(L, -1)));
        lua_pop(L, 1);
    }
    return v;
}

/* y or p: a churnlab.Tensor (1-D or one row/column), a churnlab.Column or a list. n < 0: this
 * argument sets the length; else it must have n values. */
static const float *values(lua_State *L, int idx, const char *what, int64_t *n)
{
    int64_t k, d;
    const float *v;
    if (lcl_testtensor(L, idx)) {
        if (*n >= 0)
            return lm_vector(L, idx, what, *n);
        v = lm_matrix(L, idx, what, &k, &d);
        *n = k * d;
        return lm_vector(L, idx, what, *n);
    }
    if (lcl_testbox(L, idx, COLUMN))
        v = column_values(L, idx, what, &k);
    else if (lua_istable(L, idx))
        v = list_values(L, idx, what, &k);
    else {
        const char *got = luaL_typename(L, idx);
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
            got = lua_tostring(L, -1);
        luaL_argerror(L, idx, lua_pushfstring(L, "%s must be a churnlab.Tensor, a churnlab.Column "
                                                 "or a list of numbers, got %s", what, got));
        return NULL;
    }
    if (*n >= 0 && k != *n)
        luaL_argerror(L, idx, lua_pushfstring(L, "%s has %I values, expected %I values to match y",
                                              what, (lua_Integer)k, (lua_Integer)*n));
    *n = k;
    return v;
}

/* y, p (args 1, 2); the copies are pushed above the arguments, so the optional ones (3, 4:
 * threshold, beta, eps, bins...) first get their slots. */
static yp args(lua_State *L)
{
    yp a;
    if (lua_gettop(L) < 4)
        lua_settop(L, 4);
    a.n = -1;
    a.y = values(L, 1, "y", &a.n);
    a.p = values(L, 2, "p", &a.n);
    return a;
}

static double threshold_arg(lua_State *L, int idx)
{
    double t = luaL_optnumber(L, idx, 0.5);
    if (isnan(t))
        luaL_argerror(L, idx, "threshold is NaN");
    return t;
}

static cl_confusion confusion(lua_State *L, yp a, int idx)
{
    cl_confusion c;
    int rc = cl_metrics_confusion(&c, a.y, a.p, a.n, threshold_arg(L, idx));
    if (rc)
        lcl_raise(L, rc);
    return c;
}

static int l_confusion(lua_State *L)
{
    cl_confusion c = confusion(L, args(L), 3);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, c.tp);
    lua_setfield(L, -2, "tp");
    lua_pushinteger(L, c.fp);
    lua_setfield(L, -2, "fp");
    lua_pushinteger(L, c.tn);
    lua_setfield(L, -2, "tn");
    lua_pushinteger(L, c.fn);
    lua_setfield(L, -2, "fn");
    return 1;
}

#define THRESHOLD_METRIC(name)                                                               \
    static int l_##name(lua_State *L)                                                        \
    {                                                                                        \
        cl_confusion c = confusion(L, args(L), 3);                                           \
        cl_threshold_metrics m;                                                              \
        cl_metrics_from_confusion(&m, &c);                                                   \
        lua_pushnumber(L, m.name);                                                           \
        return 1;                                                                            \
    }
THRESHOLD_METRIC(accuracy)
THRESHOLD_METRIC(precision)
THRESHOLD_METRIC(recall)
THRESHOLD_METRIC(specificity)
THRESHOLD_METRIC(f1)
THRESHOLD_METRIC(balanced_accuracy)
THRESHOLD_METRIC(mcc)

static int l_fbeta(lua_State *L)
{
    yp a = args(L);
    double beta = luaL_checknumber(L, 3);
    if (!(beta > 0) || !isfinite(beta))
        return luaL_argerror(L, 3, "beta must be a positive number");
    cl_confusion c = confusion(L, a, 4);
    lua_pushnumber(L, cl_metrics_fbeta(&c, beta));
    return 1;
}

static int l_roc_auc(lua_State *L)
{
    yp a = args(L);
    double v;
    LCL_CHECK(L, cl_metrics_roc_auc(&v, a.y, a.p, a.n));
    lua_pushnumber(L, v);
    return 1;
}

static int l_average_precision(lua_State *L)
{
    yp a = args(L);
    double v;
    LCL_CHECK(L, cl_metrics_average_precision(&v, a.y, a.p, a.n));
    lua_pushnumber(L, v);
    return 1;
}

static int l_log_loss(lua_State *L)
{
    yp a = args(L);
    double v;
    LCL_CHECK(L, cl_metrics_log_loss(&v, a.y, a.p, a.n, luaL_optnumber(L, 3, 1e-15)));
    lua_pushnumber(L, v);
    return 1;
}

static int l_brier(lua_State *L)
{
    yp a = args(L);
    double v;
    LCL_CHECK(L, cl_metrics_brier(&v, a.y, a.p, a.n));
    lua_pushnumber(L, v);
    return 1;
}

/* Pushes {kx = {...}, ky = {...}, kt = {...}} and frees the curve. */
static int push_curve(lua_State *L, cl_curve *c, const char *kx, const char *ky, const char *kt)
{
    lua_createtable(L, 0, 3);
    lm_push_numbers(L, c->x, c->n);
    lua_setfield(L, -2, kx);
    lm_push_numbers(L, c->y, c->n);
    lua_setfield(L, -2, ky);
    lm_push_numbers(L, c->t, c->n);
    lua_setfield(L, -2, kt);
    cl_metrics_curve_free(c);
    return 1;
}

static int l_roc_curve(lua_State *L)
{
    yp a = args(L);
    cl_curve c;
    LCL_CHECK(L, cl_metrics_roc_curve(&c, a.y, a.p, a.n));
    return push_curve(L, &c, "fpr", "tpr", "thresholds");
}

static int l_pr_curve(lua_State *L)
{
    yp a = args(L);
    cl_curve c;
    LCL_CHECK(L, cl_metrics_pr_curve(&c, a.y, a.p, a.n));
    return push_curve(L, &c, "recall", "precision", "thresholds");
}

static int l_calibration(lua_State *L)
{
    yp a = args(L);
    lua_Integer bins = luaL_optinteger(L, 3, 10);
    if (bins < 1 || bins > 100000)
        return luaL_argerror(L, 3, "bins must be in [1, 100000]");
    cl_curve c;
    LCL_CHECK(L, cl_metrics_calibration(&c, a.y, a.p, a.n, (int)bins));
    return push_curve(L, &c, "mean_predicted", "fraction_positive", "count");
}

static int l_gains(lua_State *L)
{
    yp a = args(L);
    lua_Integer g = luaL_optinteger(L, 3, 10);
    if (g < 1 || g > 1000)
        return luaL_argerror(L, 3, "groups must be in [1, 1000]");
    double rate[1000];
    cl_curve c;
    LCL_CHECK(L, cl_metrics_gains(&c, rate, a.y, a.p, a.n, (int)g));
    push_curve(L, &c, "fraction", "gain", "lift");
    lm_push_numbers(L, rate, g);
    lua_setfield(L, -2, "group_lift");
    return 1;
}

/* best_threshold(y, p, "f1" | "youden" | {cost_fp = a, cost_fn = b}) -> threshold, value */
static int l_best_threshold(lua_State *L)
{
    yp a = args(L);
    cl_thresh_rule rule;
    double cfp = 0, cfn = 0;
    if (lua_istable(L, 3)) {
        static const char *const known[] = {"cost_fp", "cost_fn", NULL};
        lcl_check_options(L, 3, "best_threshold", known);
        rule = CL_THRESH_COST;
        cfp = lcl_optnum(L, 3, "cost_fp", NAN);
        cfn = lcl_optnum(L, 3, "cost_fn", NAN);
        if (isnan(cfp) || isnan(cfn))
            return luaL_argerror(L, 3, "cost table needs cost_fp and cost_fn");
    } else {
        static const char *const rules[] = {"f1", "youden", NULL};
        rule = (cl_thresh_rule)luaL_checkoption(L, 3, "f1", rules);
    }
    double t, v;
    LCL_CHECK(L, cl_metrics_best_threshold(&t, &v, a.y, a.p, a.n, rule, cfp, cfn));
    lua_pushnumber(L, t);
    lua_pushnumber(L, v);
    return 2;
}

/* ---- report ----------------------------------------------------------------------------- */

static const char *const REPORT_KEYS[] = {
    "n", "positives", "threshold", "accuracy", "precision", "recall", "specificity", "f1",
    "balanced_accuracy", "mcc", "roc_auc", "average_precision", "log_loss", "brier",
    "top_decile_lift", "best_f1_threshold", "best_f1", NULL};

static int report_tostring(lua_State *L)
{
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "churnlab metrics report\n");
    for (int i = 0; REPORT_KEYS[i]; i++) {
        char line[96];
        int ty = lua_getfield(L, 1, REPORT_KEYS[i]);
        if (ty == LUA_TNUMBER) {
            if (lua_isinteger(L, -1))
                snprintf(line, sizeof line, "  %-19s %12lld\n", REPORT_KEYS[i],
                         (long long)lua_tointeger(L, -1));
            else
                snprintf(line, sizeof line, "  %-19s %12.4f\n", REPORT_KEYS[i],
                         lua_tonumber(L, -1));
        } else {
            snprintf(line, sizeof line, "  %-19s %12s\n", REPORT_KEYS[i], "n/a");
        }
        lua_pop(L, 1);
        luaL_addstring(&b, line);
    }
    if (lua_getfield(L, 1, "confusion") == LUA_TTABLE) {
        lua_Integer v[4];
        static const char *k[] = {"tp", "fp", "tn", "fn"};
        for (int i = 0; i < 4; i++) {
            lua_getfield(L, -1, k[i]);
            v[i] = lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        char blk[320];
        snprintf(blk, sizeof blk,
                 "  confusion matrix      pred 0     pred 1\n"
                 "    actual 0      %10lld %10lld\n"
                 "    actual 1      %10lld %10lld\n",
                 (long long)v[2], (long long)v[1], (long long)v[3], (long long)v[0]);
        luaL_addstring(&b, blk);
    }
    lua_pop(L, 1);
    luaL_pushresult(&b);
    return 1;
}

static void setnum(lua_State *L, const char *k, double v)
{
    if (isnan(v))
        return;
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* report(y, p [, threshold]) -> table of every metric; prints as an aligned block. Ranking
 * metrics are absent (n/a) when y has one class only. */
static int l_report(lua_State *L)
{
    yp a = args(L);
    double thr = threshold_arg(L, 3);
    cl_confusion c = confusion(L, a, 3);
    cl_threshold_metrics m;
    cl_metrics_from_confusion(&m, &c);
    lua_createtable(L, 0, 20);
    lua_pushinteger(L, a.n);
    lua_setfield(L, -2, "n");
    lua_pushinteger(L, c.tp + c.fn);
    lua_setfield(L, -2, "positives");
    setnum(L, "threshold", thr);
    setnum(L, "accuracy", m.accuracy);
    setnum(L, "precision", m.precision);
    setnum(L, "recall", m.recall);
    setnum(L, "specificity", m.specificity);
    setnum(L, "f1", m.f1);
    setnum(L, "balanced_accuracy", m.balanced_accuracy);
    setnum(L, "mcc", m.mcc);
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, c.tp);
    lua_setfield(L, -2, "tp");
    lua_pushinteger(L, c.fp);
    lua_setfield(L, -2, "fp");
    lua_pushinteger(L, c.tn);
    lua_setfield(L, -2, "tn");
    lua_pushinteger(L, c.fn);
    lua_setfield(L, -2, "fn");
    lua_setfield(L, -2, "confusion");
    double v, t;
    int both = c.tp + c.fn > 0 && c.tn + c.fp > 0;
    int probs = cl_metrics_check(a.y, a.p, a.n, 1) == CL_OK;
    cl_error_clear();
    if (both) {
        if (cl_metrics_roc_auc(&v, a.y, a.p, a.n) == CL_OK)
            setnum(L, "roc_auc", v);
        if (cl_metrics_average_precision(&v, a.y, a.p, a.n) == CL_OK)
            setnum(L, "average_precision", v);
        if (cl_metrics_best_threshold(&t, &v, a.y, a.p, a.n, CL_THRESH_F1, 0, 0) == CL_OK) {
            setnum(L, "best_f1_threshold", t);
            setnum(L, "best_f1", v);
        }
    }
    if (probs) {
        if (cl_metrics_log_loss(&v, a.y, a.p, a.n, 1e-15) == CL_OK)
            setnum(L, "log_loss", v);
        if (cl_metrics_brier(&v, a.y, a.p, a.n) == CL_OK)
            setnum(L, "brier", v);
    }
    cl_curve g;
    if (c.tp + c.fn > 0 && a.n >= 10 && cl_metrics_gains(&g, NULL, a.y, a.p, a.n, 10) == CL_OK) {
        setnum(L, "top_decile_lift", g.t[0]);
        cl_metrics_curve_free(&g);
    }
    cl_error_clear();
    luaL_setmetatable(L, "churnlab.MetricsReport");
    return 1;
}

static const luaL_Reg funcs[] = {
    {"confusion", l_confusion},
    {"accuracy", l_accuracy},
    {"precision", l_precision},
    {"recall", l_recall},
    {"specificity", l_specificity},
    {"f1", l_f1},
    {"fbeta", l_fbeta},
    {"balanced_accuracy", l_balanced_accuracy},
    {"mcc", l_mcc},
    {"roc_auc", l_roc_auc},
    {"average_precision", l_average_precision},
    {"log_loss", l_log_loss},
    {"brier", l_brier},
    {"roc_curve", l_roc_curve},
    {"pr_curve", l_pr_curve},
    {"calibration", l_calibration},
    {"gains", l_gains},
    {"best_threshold", l_best_threshold},
    {"report", l_report},
    {NULL, NULL}};

static const lcl_doc docs[] = {
    {"confusion", "confusion(y, p [, threshold = 0.5]) -> {tp, fp, tn, fn} (positive when p >= "
                  "threshold)"},
    {"accuracy", "accuracy(y, p [, threshold = 0.5]) -> (tp + tn) / n: the share of rows "
                 "classified right, positive when p >= threshold"},
    {"precision", "precision(y, p [, threshold = 0.5]) -> tp / (tp + fp): the share of predicted "
                  "churners who churn; 0 when nobody is predicted positive"},
    {"recall", "recall(y, p [, threshold = 0.5]) -> tp / (tp + fn): the share of churners caught "
               "(sensitivity, TPR); 0 when y has no positives"},
    {"specificity", "specificity(y, p [, threshold = 0.5]) -> tn / (tn + fp): the share of "
                    "stayers left alone (TNR); 0 when y has no negatives"},
    {"f1", "f1(y, p [, threshold = 0.5]) -> 2 tp / (2 tp + fp + fn): harmonic mean of precision "
           "and recall; 0 when there is no positive in y or in the predictions"},
    {"fbeta", "fbeta(y, p, beta [, threshold = 0.5]) -> F-beta score, (1 + b^2) tp / ((1 + b^2) tp "
              "+ b^2 fn + fp): beta > 1 weighs recall more (beta = 2: missing a churner costs "
              "more than a needless offer); beta must be a positive number"},
    {"balanced_accuracy", "balanced_accuracy(y, p [, threshold = 0.5]) -> (recall + "
                          "specificity) / 2, the mean recall of the classes present in y (as "
                          "scikit-learn)"},
    {"mcc", "mcc(y, p [, threshold = 0.5]) -> Matthews correlation coefficient in -1..1 "
            "(0 = no better than chance; 0 when a row or column of the confusion matrix is "
            "empty)"},
    {"brier", "brier(y, p) -> mean (p - y)^2: the Brier score of probabilities (lower is better; "
              "p must lie in [0, 1])"},
    {"roc_auc", "roc_auc(y, p) -> area under the ROC curve (ties count half, as scikit-learn); "
                "an error when y has one class only"},
    {"average_precision", "average_precision(y, p) -> PR AUC as scikit-learn's "
                          "average_precision_score"},
    {"log_loss", "log_loss(y, p [, eps = 1e-15]) -> mean cross-entropy, p clipped to [eps, 1-eps]"},
    {"roc_curve", "roc_curve(y, p) -> {fpr = {...}, tpr = {...}, thresholds = {...}}"},
    {"pr_curve", "pr_curve(y, p) -> {recall = {...}, precision = {...}, thresholds = {...}}"},
    {"calibration", "calibration(y, p [, bins = 10]) -> {mean_predicted, fraction_positive, "
                    "count} per non-empty bin"},
    {"gains", "gains(y, p [, groups = 10]) -> {fraction, gain, lift, group_lift}: cumulative "
              "gains and lift by decile; lift[1] is the top-decile lift"},
    {"best_threshold", "best_threshold(y, p, 'f1' | 'youden' | {cost_fp = a, cost_fn = b}) -> "
                       "threshold, value"},
    {"report", "report(y, p [, threshold]) -> table of every metric; print(...) shows an "
               "aligned block"},
    {NULL, NULL}};

int luaopen_churnlab_metrics(lua_State *L);
int luaopen_churnlab_metrics(lua_State *L)
{
    luaL_newmetatable(L, "churnlab.MetricsReport");
    lua_pushcfunction(L, report_tostring);
    lua_setfield(L, -2, "__tostring");
    lcl_setdoc(L, -1, "churnlab.MetricsReport: the table cl.metrics.report(y, p) returns, every "
                      "metric by name (r.roc_auc, r.f1, r.confusion.tp, ...; n/a ones absent); "
                      "print(r) shows it as an aligned block.");
    lua_pop(L, 1);
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.metrics: classifier metrics f(y, p, ...). y (labels 0/1) and p "
                      "(scores) each are a tensor, a num frame column (df.churn, "
                      "df.Churn:eq(\"Yes\")) or a list of numbers (booleans count 1/0; {..., n = N} for a list with holes), of the "
                      "same length; values are rounded to float32 as tensors hold them. A "
                      "missing value (NaN, or a hole in a list) is an error naming the row: drop "
                      "or fill those rows first (df:dropna{subset = {...}}). A cat column is an "
                      "error: compare it to the positive label.");
    lcl_setdocs(L, -1, docs);
    return 1;
}
