/* linear.c - module churnlab.linear: logistic regression.
 *
 *   local m = cl.logreg{C = 1.0, penalty = "l2", class_weight = "balanced"}
 *   m:fit(X, y, {names = names})             -- -> m; m:history().converged, .iters ...
 *   m:predict(X); m:coef()["tenure"]; m:odds_ratios(); m:save("lr.clm")
 *   m:predict(X, {prior_correction = false})  -- as fitted on reweighted classes; m:prior()
 *
 * The lifecycle (constructor, fit, predict, save, load, printing, help) is the generic
 * classifier class of support/lmodel.c over cl_logreg_model_ops; this file adds what only a
 * linear model has: its coefficients.
 */
#include "support/lmodel.h"

#include <math.h>
#include <string.h>

#define LOGREG_T "churnlab.LogReg"

static cl_logreg *check(lua_State *L) { return lm_checkimpl(L, 1, LOGREG_T); }

static const double *fitted_coef(lua_State *L, cl_logreg *m)
{
    const double *c = cl_logreg_coef(m);
    if (!c)
        luaL_error(L, "logreg: not fitted yet (call m:fit(X, y) first)");
    return c;
}

/* Pushes the key of feature j: its name, or its 1-based index. */
static void push_key(lua_State *L, cl_logreg *m, int64_t j)
{
    const char *s = cl_logreg_name(m, j);
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushinteger(L, j + 1);
}

static int by_feature(lua_State *L, int odds)
{
    cl_logreg *m = check(L);
    const double *c = fitted_coef(L, m);
    int64_t d = cl_logreg_inputs(m);
    lua_createtable(L, 0, (int)d);
    for (int64_t j = 0; j < d; j++) {
        push_key(L, m, j);
        lua_pushnumber(L, odds ? exp(c[j]) : c[j]);
        lua_settable(L, -3);
    }
    return 1;
}

/* coef() -> {name = coefficient}; features without names are keyed 1..d. */
static int m_coef(lua_State *L) { return by_feature(L, 0); }
/* odds_ratios() -> {name = exp(coefficient)}: multiplicative change in the odds per unit. */
static int m_odds_ratios(lua_State *L) { return by_feature(L, 1); }

static int m_intercept(lua_State *L)
{
    cl_logreg *m = check(L);
    fitted_coef(L, m);
    lua_pushnumber(L, cl_logreg_intercept(m));
    return 1;
}

/* coef_list() -> {{name =, coef =, odds_ratio =}, ...} sorted by |coef| descending (ties by
 * feature order): the table analysts print. */
static int m_coef_list(lua_State *L)
{
    cl_logreg *m = check(L);
    const double *c = fitted_coef(L, m);
    int64_t d = cl_logreg_inputs(m);
    int64_t *ord = lua_newuserdatauv(L, sizeof(int64_t) * (size_t)d, 0);
    for (int64_t j = 0; j < d; j++)
        ord[j] = j;
    for (int64_t i = 1; i < d; i++) { /* insertion sort: d is small, and it is stable */
        int64_t v = ord[i], k = i;
        while (k > 0 && fabs(c[ord[k - 1]]) < fabs(c[v])) {
            ord[k] = ord[k - 1];
            k--;
        }
        ord[k] = v;
    }
    lua_createtable(L, (int)d, 0);
    for (int64_t i = 0; i < d; i++) {
        int64_t j = ord[i];
        lua_createtable(L, 0, 3);
        push_key(L, m, j);
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, c[j]);
        lua_setfield(L, -2, "coef");
        lua_pushnumber(L, exp(c[j]));
        lua_setfield(L, -2, "odds_ratio");
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg methods[] = {{"coef", m_coef},
                                   {"odds_ratios", m_odds_ratios},
                                   {"intercept", m_intercept},
                                   {"coef_list", m_coef_list},
                                   {NULL, NULL}};

static const lm_doc docs[] = {
    {"fit", "logreg fits by L-BFGS (OWL-QN for l1/elasticnet); names label the coefficients. "
            "Not converging within max_iter is a warning on stderr and history().converged = "
            "false, not an error; history() also has iters, objective and gradient (the final "
            "max |gradient|). Ctrl-C leaves the model unfitted (a previous fit is discarded "
            "too): fit it again."},
    {"decision", "For logreg: the log-odds x'beta + intercept, what linear SHAP adds up to."},
    {"coef", "m:coef() -> {name = coefficient}: per feature, on the scale of X (keyed 1..d "
             "without names). An error before fit."},
    {"odds_ratios", "m:odds_ratios() -> {name = exp(coefficient)}: how many times the odds of "
                    "churn multiply per unit of the feature (per standard deviation when X is "
                    "standardised)."},
    {"intercept", "m:intercept() -> number: the fitted intercept (log-odds at X = 0)."},
    {"coef_list", "m:coef_list() -> {{name, coef, odds_ratio}, ...}: every feature sorted by "
                  "|coef|, largest first (ties in feature order): the table to print."},
    {NULL, NULL}};

static const lm_kind_spec spec = {
    methods, docs,
    "churnlab.LogReg: logistic regression. m:fit(X, y [, {names = {...}}]) -> m; m:history() "
    "-> {converged, iters, objective, gradient}; m:predict(X) -> P(y = 1); m:coef(), "
    "m:odds_ratios() by feature name; m:intercept(); m:coef_list(); m:contrib(X); "
    "m:save(path [, {pipeline = p}]) -> m.",
    "logreg{penalty = 'l2', C = 1, class_weight = 'none', ...} -> churnlab.LogReg (see "
    "help('logreg') for every parameter; class_weight also takes a table {[0] = w0, [1] = w1})"};

int luaopen_churnlab_linear(lua_State *L);
int luaopen_churnlab_linear(lua_State *L)
{
    lm_kind_module(L, &cl_logreg_model_ops, &spec);
    return 1;
}
