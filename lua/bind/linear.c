/* linear.c - module churnlab.linear: logistic regression as a Lua object.
 *
 *   local m = cl.logreg{C = 1.0, penalty = "l2", class_weight = "balanced"}
 *   local r = m:fit(X, y, {names = names})   -- {converged = true, iters = 37, ...}
 *   m:predict(X); m:coef()["tenure"]; m:odds_ratios(); m:save("lr.clm")
 *   m:predict(X, {prior_correction = false})  -- as fitted on reweighted classes; m:prior()
 */
#include "support/lmodel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define LOGREG_T "churnlab.LogReg"

static cl_logreg *check(lua_State *L) { return lcl_checkobj(L, 1, LOGREG_T); }

static int l_new(lua_State *L)
{
    static const char *const skip[] = {"class_weight", NULL};
    static const char *const none[] = {NULL};
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    double w0, w1;
    int cw = lm_class_weight_table(L, 1, &w0, &w1);
    int t = lm_params_without(L, 1, cw ? skip : none);
    lcl_params(L, t, cl_logreg_param_defs, &p, "logreg");
    if (cw) {
        p.neg_weight *= w0;
        p.pos_weight *= w1;
    }
    lcl_box *b = lcl_newbox(L, LOGREG_T);
    LCL_CHECK(L, cl_logreg_new((cl_logreg **)&b->obj, &p));
    return 1;
}

static int m_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, LOGREG_T);
    cl_logreg_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int m_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, LOGREG_T);
    if (!b->obj) {
        lua_pushstring(L, LOGREG_T " (freed)");
        return 1;
    }
    const cl_logreg *m = b->obj;
    const cl_logreg_params *p = cl_logreg_params_of(m);
    static const char *pens[] = {"l2", "l1", "elasticnet", "none"};
    char reg[64];
    if (p->penalty == CL_PEN_NONE)
        snprintf(reg, sizeof reg, "no penalty");
    else if (p->lambda > 0)
        snprintf(reg, sizeof reg, "%s lambda=%g", pens[p->penalty], p->lambda);
    else
        snprintf(reg, sizeof reg, "%s C=%g", pens[p->penalty], p->C);
    if (!cl_logreg_fitted(m)) {
        lua_pushfstring(L, LOGREG_T " %s, not fitted", reg);
    } else {
        const cl_logreg_result *r = cl_logreg_result_of(m);
        lua_pushfstring(L, LOGREG_T " %I features %s, fitted in %d iterations%s",
                        (lua_Integer)cl_logreg_inputs(m), reg, r->iters,
                        r->converged ? "" : " (not converged)");
    }
    return 1;
}

/* fit(X, y [, {names = {...}, verbose = bool}]) -> {converged, iters, objective, gradient}.
 * Not converging is a warning on stderr plus converged = false, not an error. */
static int m_fit(lua_State *L)
{
    cl_logreg *m = check(L);
    int64_t n, d;
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    const float *y = lm_vector(L, 3, "y", n);
    int opts = lua_isnoneornil(L, 4) ? 0 : 4;
    static const char *const known[] = {"names", "verbose", "pipeline", NULL};
    lm_fit_options(L, opts, 1, known);
    const char **names = lm_names(L, opts, d);
    if (names)
        LCL_CHECK(L, cl_logreg_set_names(m, names, d));
    cl_progress *prog = lcl_progress_new(L, opts);
    cl_logreg_result r;
    int rc = cl_logreg_fit(m, X, y, n, d, &r, prog);
    lcl_progress_end(prog); /* close the bar now: after convergence, an error or Ctrl-C too */
    lua_pop(L, 1);
    if (rc)
        return lcl_raise(L, rc);
    if (!r.converged) {
        const cl_logreg_params *p = cl_logreg_params_of(m);
        fprintf(stderr,
                "churnlab: warning: logreg did not converge in %d iterations (max |gradient| "
                "%.3g > tol %.3g); raise max_iter, loosen tol or scale the features\n",
                r.iters, r.gmax, p->tol);
    }
    lua_createtable(L, 0, 4);
    lua_pushboolean(L, r.converged);
    lua_setfield(L, -2, "converged");
    lua_pushinteger(L, r.iters);
    lua_setfield(L, -2, "iters");
    lua_pushnumber(L, r.objective);
    lua_setfield(L, -2, "objective");
    lua_pushnumber(L, r.gmax);
    lua_setfield(L, -2, "gradient");
    return 1;
}

static int predict_common(lua_State *L, int prob)
{
    cl_logreg *m = check(L);
    int64_t n, d;
    int mode = prob ? lm_predict_mode(L, 3) : CL_PREDICT_MARGIN;
    lm_frame_input(L, 1, 2);
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    cl_tensor *out;
    LCL_CHECK(L, cl_tensor_new(&out, 1, n, 1));
    int rc = cl_logreg_predict_mode(m, X, n, d, cl_tensor_data(out), mode);
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    return lcl_pushtensor(L, out);
}

static int m_predict(lua_State *L) { return predict_common(L, 1); }
static int m_decision(lua_State *L) { return predict_common(L, 0); }

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

/* prior() -> {trained_rate, true_rate, corrected, shift} or nil (see lmodel.h) */
static int m_prior(lua_State *L)
{
    cl_logreg *m = check(L);
    double tr, tt;
    int on = cl_logreg_prior(m, &tr, &tt);
    if (!cl_logreg_fitted(m))
        return luaL_error(L, "logreg: not fitted yet (call m:fit(X, y) first)");
    lm_push_prior(L, tr, tt, on);
    return 1;
}

static int m_params(lua_State *L)
{
    lcl_push_params(L, cl_logreg_param_defs, cl_logreg_params_of(check(L)));
    return 1;
}

static int m_fitted(lua_State *L)
{
    lua_pushboolean(L, cl_logreg_fitted(check(L)));
    return 1;
}

static int m_save(lua_State *L)
{
    cl_logreg *m = check(L);
    const char *path = luaL_checkstring(L, 2);
    static const char *const known[] = {"pipeline", NULL}; /* before the writer exists */
    lcl_check_options(L, 3, "save", known);
    cl_mw *w = cl_mw_new("logreg");
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    int rc = cl_logreg_save(m, w);
    if (rc) {
        cl_mw_free(w);
        return lcl_raise(L, rc);
    }
    lm_save(L, w, path, lua_isnoneornil(L, 3) ? 0 : 3, 1);
    lua_settop(L, 1); /* save returns the model (DESIGN: "Models share one shape") */
    return 1;
}

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cl_mr *r;
    int rc = cl_mr_open(&r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lcl_box *b = lcl_newbox(L, LOGREG_T);
    rc = cl_logreg_load((cl_logreg **)&b->obj, r);
    if (rc == CL_OK)
        rc = lm_load_pipeline(L, r, -1);
    cl_mr_free(r);
    if (rc)
        return lcl_raise_file(L, rc, path);
    return 1;
}

static const luaL_Reg methods[] = {
    {"fit", m_fit},
    {"predict", m_predict},
    {"decision", m_decision},
    {"coef", m_coef},
    {"odds_ratios", m_odds_ratios},
    {"intercept", m_intercept},
    {"coef_list", m_coef_list},
    {"params", m_params},
    {"prior", m_prior},
    {"fitted", m_fitted},
    {"save", m_save},       {"pipeline", lm_pipeline_method},
    {"free", m_gc},
    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", m_gc}, {"__close", m_gc}, {"__tostring", m_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"logreg", l_new}, {"load", l_load}, {NULL, NULL}};

static const struct {
    const char *name, *doc;
} method_docs[] = {
    {"fit", "m:fit(X, y [, {names = {...}, pipeline = p, verbose}]) -> {converged, iters, "
            "objective, gradient}: fits by L-BFGS (OWL-QN for l1/elasticnet) on X (n x d "
            "float32 tensor) and y (0/1); names label the coefficients, pipeline is attached "
            "(see m:pipeline()). Not converging within max_iter is a warning on stderr and "
            "converged = false, not an error; gradient is the final max |gradient|."},
    {"decision", "m:decision(X) -> 1-D tensor of log-odds x'beta + intercept (the margin, never "
                 "prior-corrected; m:predict(X, {margin = true}) is the same). X may be a raw "
                 "frame when a pipeline is attached."},
    {"coef", "m:coef() -> {name = coefficient}: per feature, on the scale of X (keyed 1..d "
             "without names). An error before fit."},
    {"odds_ratios", "m:odds_ratios() -> {name = exp(coefficient)}: how many times the odds of "
                    "churn multiply per unit of the feature (per standard deviation when X is "
                    "standardised)."},
    {"intercept", "m:intercept() -> number: the fitted intercept (log-odds at X = 0)."},
    {"coef_list", "m:coef_list() -> {{name, coef, odds_ratio}, ...}: every feature sorted by "
                  "|coef|, largest first (ties in feature order): the table to print."},
    {"params", LM_DOC_PARAMS},
    {"fitted", "m:fitted() -> boolean: true once fit has succeeded (or for a loaded model)."},
    {"save", "m:save(path [, {pipeline = p}]) -> true: writes the model file atomically (with "
             "the pipeline given or attached); cl.load(path) reads it back. Raises when it "
             "cannot be written."},
    {"pipeline", LM_DOC_PIPELINE},
    {"free", LM_DOC_FREE},
    {NULL, NULL}};

int luaopen_churnlab_linear(lua_State *L);
int luaopen_churnlab_linear(lua_State *L)
{
    lcl_createmeta(L, LOGREG_T, meta, methods);
    lua_getfield(L, -1, "__index");
    for (int i = 0; method_docs[i].name; i++) {
        lua_getfield(L, -1, method_docs[i].name);
        lcl_setdoc(L, -1, method_docs[i].doc);
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "predict");
    lcl_setdoc(L, -1, "m:predict(X [, {margin = true} | {prior_correction = false|true}]) -> P(y = 1). After class weights (balanced, a table, pos_weight/neg_weight) the probabilities are mapped back to the true churn rate of the training labels (prior correction: odds times (truth/(1-truth)) / (trained/(1-trained)), see m:prior()) unless parameter prior_correction = false; the option overrides the parameter for one call. margin = true: the raw log-odds, never corrected (what m:decision(X) gives and linear SHAP adds up to).");
    lua_getfield(L, -2, "prior");
    lcl_setdoc(L, -1, "m:prior() -> {trained_rate, true_rate, corrected, shift} or nil: the positive rate of the reweighted data the model was fitted to, the true rate of its training labels, whether predict corrects, and the log-odds shift it adds to the margin (0 when it does not). nil for a model file written before the rates were recorded (never corrected).");
    lua_pop(L, 3);
    lcl_setdoc(L, -1,
               "churnlab.LogReg: logistic regression. m:fit(X, y [, {names = {...}}]) -> "
               "{converged, iters, objective, gradient}; m:predict(X) -> P(y = 1); "
               "m:coef(), m:odds_ratios() by feature name; m:intercept(); m:coef_list(); "
               "m:save(path [, {pipeline = p}]). Ctrl-C during fit leaves the model unfitted "
               "(a previous fit is discarded too): fit it again.");
    lua_pop(L, 1);
    lcl_register_params(L, "logreg", cl_logreg_param_defs);
    lcl_register_loader(L, "logreg", l_load);
    luaL_newlib(L, funcs);
    lua_getfield(L, -1, "load");
    lcl_setdoc(L, -1, "load(path) -> churnlab.LogReg | nil, msg: reads a logreg model file (and "
                      "the pipeline saved with it); cl.load(path) reads any kind.");
    lua_pop(L, 1);
    lua_getfield(L, -1, "logreg");
    lcl_setdoc(L, -1, "logreg{penalty = 'l2', C = 1, class_weight = 'none', ...} -> "
                      "churnlab.LogReg (see help('logreg') for every parameter)");
    lua_pop(L, 1);
    return 1;
}
