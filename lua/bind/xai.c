/* xai.c - module churnlab.xai: the numeric engine under churnlab.explain (permutation
 * importance, ICE/PDP, KernelSHAP, LIME) for any model: a model is anything with a
 * :predict(X) method, or a function X -> probabilities. Analysts use churnlab.explain, which
 * adds column groups from a pipeline, names and plain-language reasons. */
#include "support/lcl.h"

#include "eval/explain.h"

#include <string.h>

/* The Lua side of cl_predict_fn: calls model:predict(X) (or fn(X)) under lua_pcall, so an
 * error in a Lua predict (or Ctrl-C's "interrupted!") comes back to the core as a status and
 * the core frees its buffers; the error object waits in the slot `err` (lcl_errslot) until
 * the binding re-raises it with lcl_raise_slot, so the user sees the model's own message. */
typedef struct lua_model {
    lua_State *L;
    int idx; /* absolute stack index of the model or function */
    int err; /* absolute stack index of the error slot */
} lua_model;

typedef struct predict_call {
    const lua_model *m;
    cl_tensor *view; /* the rows, owned here until pushed */
    float *out;
    int64_t n;
    int rc; /* a bad return value (not a Lua error) */
} predict_call;

/* Runs under lua_pcall with (call, model): every step that can raise (the predict lookup
 * through __index, the tensor box, the call itself) is protected. */
static int predict_protected(lua_State *L)
{
    predict_call *c = lua_touserdata(L, 1);
    int idx = 2, nargs = 1;
    if (lua_isfunction(L, idx)) {
        lua_pushvalue(L, idx);
    } else {
        if (lua_getfield(L, idx, "predict") != LUA_TFUNCTION)
            return luaL_error(L, "explain: the model has no predict method");
        lua_pushvalue(L, idx);
        nargs = 2;
    }
    cl_tensor *view = c->view;
    c->view = NULL; /* lcl_pushtensor owns it now, and frees it if the box cannot be made */
    lcl_pushtensor(L, view);
    lua_call(L, nargs, 1);
    cl_tensor *p = lcl_testtensor(L, -1);
    if (!p || cl_tensor_numel(p) != c->n) {
        c->rc = cl_error(CL_EINVAL, "explain: predict must return a tensor of %lld values, got %s",
                         (long long)c->n, p ? "another size" : luaL_typename(L, -1));
        return 0;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < p->shape[0]; i++)
        for (int64_t j = 0; j < p->shape[1]; j++)
            c->out[k++] = *cl_tensor_ptr(p, i, j);
    return 0;
}

static int predict_cb(void *ud, const cl_tensor *X, float *out)
{
    const lua_model *m = ud;
    lua_State *L = m->L;
    predict_call c = {m, NULL, out, X->shape[0], CL_OK};
    if (!lua_checkstack(L, 3))
        return cl_error(CL_ENOMEM, "explain: Lua stack overflow");
    /* a copy, not a view: a predict that writes into its argument must not change the rows
     * the core goes on using (permuted columns are restored from them, coalitions reuse
     * the buffer) */
    int rc = cl_tensor_clone(&c.view, X);
    if (rc)
        return rc;
    int top = lua_gettop(L);
    lua_pushcfunction(L, predict_protected);
    lua_pushlightuserdata(L, &c);
    lua_pushvalue(L, m->idx);
    rc = lcl_pcall(L, 2, 0, m->err);
    cl_tensor_free(c.view); /* NULL unless the call failed before pushing it */
    lua_settop(L, top);
    return rc ? rc : c.rc;
}

static void check_model(lua_State *L, int idx)
{
    if (lua_isfunction(L, idx))
        return;
    if (lua_type(L, idx) == LUA_TUSERDATA || lua_type(L, idx) == LUA_TTABLE) {
        lua_getfield(L, idx, "predict");
        int ok = lua_isfunction(L, -1);
        lua_pop(L, 1);
        if (ok)
            return;
    }
    luaL_argerror(L, idx, "a model with a predict method (or a function) expected");
}

/* Contiguous float tensor of the argument (a tensor or a table of rows); pushed. Always a
 * copy: the model's predict is Lua code that may write into the caller's tensor while the
 * core reads it. */
static cl_tensor *check_X(lua_State *L, int idx)
{
    cl_tensor *t = lcl_testtensor(L, idx);
    cl_tensor *c;
    if (t) {
        if (t->ndim != 2)
            luaL_argerror(L, idx, "a 2-D tensor expected");
        LCL_CHECK(L, cl_tensor_clone(&c, t));
    } else {
        int64_t r;
        int d;
        double *v = lcl_checkmat(L, idx, &r, &d);
        LCL_CHECK(L, cl_tensor_new(&c, 2, r, d));
        for (int64_t i = 0; i < r * d; i++)
            cl_tensor_data(c)[i] = (float)v[i];
    }
    lcl_pushtensor(L, c);
    return c;
}

/* groups option: list of d 1-based group numbers -> 0-based array (pushed), ngroups. */
static int32_t *opt_groups(lua_State *L, int opts, int d, int *ngroups)
{
    *ngroups = d;
    if (!opts || lua_isnoneornil(L, opts) || lua_getfield(L, opts, "groups") == LUA_TNIL) {
        if (opts && !lua_isnoneornil(L, opts))
            lua_pop(L, 1);
        lua_pushnil(L);
        return NULL;
    }
    int t = lua_gettop(L);
    if (!lua_istable(L, t) || luaL_len(L, t) != d)
        luaL_error(L, "option 'groups' must list one group number per column (%d)", d);
    int32_t *g = lua_newuserdatauv(L, (size_t)(d ? d : 1) * sizeof *g, 0);
    int mx = 0;
    for (int j = 0; j < d; j++) {
        lua_geti(L, t, j + 1);
        lua_Integer v = lua_tointeger(L, -1);
        lua_pop(L, 1);
        if (v < 1 || v > d)
            luaL_error(L, "option 'groups': column %d has group %d, expected 1..%d", j + 1, (int)v, d);
        g[j] = (int32_t)v - 1;
        if (v > mx)
            mx = (int)v;
    }
    lua_remove(L, t);
    *ngroups = mx;
    return g;
}

static int l_permutation(lua_State *L)
{
    lua_settop(L, 4);
    check_model(L, 1);
    static const char *const known[] = {"metric", "repeats", "seed", "groups", "verbose", NULL};
    lcl_check_options(L, 4, "permutation", known);
    static const char *const metrics[] = {"auc", "logloss", "brier", "accuracy", NULL};
    const char *metric = lcl_optstr(L, 4, "metric", "auc");
    int mi = 0;
    while (metrics[mi] && strcmp(metrics[mi], metric))
        mi++;
    if (!metrics[mi])
        return luaL_error(L, "permutation: metric must be auc, logloss, brier or accuracy, got '%s'", metric);
    int repeats = (int)lcl_optnum(L, 4, "repeats", 5);
    double seed = lcl_optnum(L, 4, "seed", 42);
    cl_tensor *X = check_X(L, 2);
    int64_t ny;
    double *yd = lcl_checkvec(L, 3, &ny);
    if (ny != X->shape[0])
        return luaL_error(L, "permutation: X has %d rows but y has %d", (int)X->shape[0], (int)ny);
    float *y = lua_newuserdatauv(L, (size_t)(ny ? ny : 1) * sizeof *y, 0);
    for (int64_t i = 0; i < ny; i++)
        y[i] = (float)yd[i];
    int ng;
    int32_t *groups = opt_groups(L, 4, (int)X->shape[1], &ng);
    double *mean = lua_newuserdatauv(L, (size_t)ng * sizeof *mean, 0);
    double *sd = lua_newuserdatauv(L, (size_t)ng * sizeof *sd, 0);
    lua_model m = {L, 1, lcl_errslot(L)};
    cl_progress *prog = lcl_progress_new(L, 4);
    double base;
    int rc = cl_explain_permutation(predict_cb, &m, X, y, groups, ng, (cl_imp_metric)mi, repeats,
                                    (uint64_t)seed, mean, sd, &base, prog);
    lcl_progress_end(prog); /* close the bar now: after an error or Ctrl-C too */
    if (rc)
        lcl_raise_slot(L, m.err, rc);
    lcl_pushvec(L, mean, ng);
    lcl_pushvec(L, sd, ng);
    lua_pushnumber(L, base);
    return 3;
}

/* ice(model, X, group (1-based), grid, {groups}) -> n x ngrid tensor; grid is a list of
 * numbers (one-column groups) or of lists (one value per column of the group). */
static int l_ice(lua_State *L)
{
    lua_settop(L, 5);
    check_model(L, 1);
    static const char *const known[] = {"groups", NULL};
    lcl_check_options(L, 5, "ice", known);
    cl_tensor *X = check_X(L, 2);
    int group = (int)luaL_checkinteger(L, 3) - 1;
    luaL_checktype(L, 4, LUA_TTABLE);
    int ng;
    int32_t *groups = opt_groups(L, 5, (int)X->shape[1], &ng);
    int width = 0;
    for (int j = 0; j < X->shape[1]; j++)
        width += (groups ? groups[j] : j) == group;
    if (width == 0)
        return luaL_error(L, "ice: group %d has no columns", group + 1);
    int ngrid = (int)luaL_len(L, 4);
    if (ngrid < 1)
        return luaL_error(L, "ice: the grid is empty");
    float *grid = lua_newuserdatauv(L, (size_t)ngrid * width * sizeof *grid, 0);
    for (int k = 0; k < ngrid; k++) {
        int t = lua_geti(L, 4, k + 1);
        if (t == LUA_TNUMBER && width == 1) {
            grid[k] = (float)lua_tonumber(L, -1);
        } else if (t == LUA_TTABLE && luaL_len(L, -1) == width) {
            for (int c = 0; c < width; c++) {
                lua_geti(L, -1, c + 1);
                grid[k * width + c] = (float)luaL_checknumber(L, -1);
                lua_pop(L, 1);
            }
        } else {
            return luaL_error(L, "ice: grid point %d must be %s", k + 1,
                              width == 1 ? "a number" : "a list of one value per column of the group");
        }
        lua_pop(L, 1);
    }
    int64_t n = X->shape[0];
    double *ice = lua_newuserdatauv(L, (size_t)(n ? n : 1) * ngrid * sizeof *ice, 0);
    lua_model m = {L, 1, lcl_errslot(L)};
    int rc = cl_explain_ice(predict_cb, &m, X, groups, group, grid, ngrid, ice, NULL);
    if (rc)
        lcl_raise_slot(L, m.err, rc);
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 2, n, ngrid));
    for (int64_t i = 0; i < n * ngrid; i++)
        cl_tensor_data(t)[i] = (float)ice[i];
    return lcl_pushtensor(L, t);
}

/* kernelshap(model, X, background, {groups, samples = 2048, seed}) -> n x (g + 1) tensor */
static int l_kernelshap(lua_State *L)
{
    lua_settop(L, 4);
    check_model(L, 1);
    static const char *const known[] = {"groups", "samples", "seed", "verbose", NULL};
    lcl_check_options(L, 4, "kernelshap", known);
    int samples = (int)lcl_optnum(L, 4, "samples", 2048);
    double seed = lcl_optnum(L, 4, "seed", 42);
    cl_tensor *X = check_X(L, 2);
    cl_tensor *bg = check_X(L, 3);
    if (bg->shape[1] != X->shape[1])
        return luaL_error(L, "kernelshap: X has %d columns, background has %d", (int)X->shape[1], (int)bg->shape[1]);
    int ng;
    int32_t *groups = opt_groups(L, 4, (int)X->shape[1], &ng);
    int64_t n = X->shape[0];
    double *phi = lua_newuserdatauv(L, (size_t)(ng + 1) * sizeof *phi, 0);
    cl_tensor *out;
    LCL_CHECK(L, cl_tensor_new(&out, 2, n, ng + 1));
    lcl_pushtensor(L, out);
    int res = lua_gettop(L);
    lua_model m = {L, 1, lcl_errslot(L)};
    cl_progress *prog = lcl_progress_new(L, 4);
    int rc = CL_OK;
    for (int64_t i = 0; i < n && rc == CL_OK; i++) {
        rc = cl_explain_kernelshap(predict_cb, &m, cl_tensor_ptr(X, i, 0), bg, groups, ng, samples,
                                   (uint64_t)seed + (uint64_t)i, phi);
        for (int g = 0; rc == CL_OK && g <= ng; g++)
            *cl_tensor_ptr(out, i, g) = (float)phi[g];
        if (rc == CL_OK)
            rc = cl_progress_step(prog, "kernelshap", (double)(i + 1), (double)n, NULL);
    }
    lcl_progress_end(prog); /* close the bar before raising: an error or Ctrl-C mid-way */
    if (rc)
        lcl_raise_slot(L, m.err, rc);
    lua_settop(L, res); /* the output tensor */
    return 1;
}

/* lime(model, x, background, {groups, samples = 2000, width = 0.75, seed}) -> coef, r2 */
static int l_lime(lua_State *L)
{
    lua_settop(L, 4);
    check_model(L, 1);
    static const char *const known[] = {"groups", "samples", "width", "seed", NULL};
    lcl_check_options(L, 4, "lime", known);
    int samples = (int)lcl_optnum(L, 4, "samples", 2000);
    double width = lcl_optnum(L, 4, "width", 0), seed = lcl_optnum(L, 4, "seed", 42);
    cl_tensor *X = check_X(L, 2);
    cl_tensor *bg = check_X(L, 3);
    if (X->shape[0] != 1 || bg->shape[1] != X->shape[1])
        return luaL_error(L, "lime: x must be one row with the background's %d columns", (int)bg->shape[1]);
    int ng;
    int32_t *groups = opt_groups(L, 4, (int)X->shape[1], &ng);
    double *coef = lua_newuserdatauv(L, (size_t)(ng + 1) * sizeof *coef, 0);
    double r2;
    lua_model m = {L, 1, lcl_errslot(L)};
    int rc = cl_explain_lime(predict_cb, &m, cl_tensor_data(X), bg, groups, ng, samples, width,
                             (uint64_t)seed, coef, &r2);
    if (rc)
        lcl_raise_slot(L, m.err, rc);
    lcl_pushvec(L, coef, ng);
    lua_pushnumber(L, coef[ng]);
    lua_pushnumber(L, r2);
    return 3;
}

static const luaL_Reg funcs[] = {{"permutation", l_permutation}, {"ice", l_ice},
                                 {"kernelshap", l_kernelshap},   {"lime", l_lime},
                                 {NULL, NULL}};

/* A model below: anything with m:predict(X) -> tensor of P(churn), or a function X -> that. */
static const lcl_doc docs[] = {
    {"permutation", "permutation(model, X, y [, {metric = 'auc'|'logloss'|'brier'|'accuracy', "
                    "repeats = 5, seed = 42, groups, verbose}]) -> mean, sd, baseline: for each "
                    "column (or group), the mean and standard deviation over `repeats` row "
                    "shuffles of the score change (drop in AUC or accuracy, rise in log loss or "
                    "Brier: positive = the model needs it), as tensors, and the unshuffled "
                    "score. groups: one 1-based group number per column, shuffled together. "
                    "explain.importance wraps it with names."},
    {"ice", "ice(model, X, group, grid [, {groups}]) -> n x #grid tensor: row i, column k is "
            "the prediction for row i with column `group` (1-based; a group of columns with "
            "opts.groups) set to grid[k] (a number, or a list of one value per column of the "
            "group). Column means are the partial dependence; explain.pdp wraps it."},
    {"kernelshap", "kernelshap(model, X, background [, {samples = 2048, seed = 42, groups, "
                   "verbose}]) -> n x (g + 1) tensor: KernelSHAP values of each row of X per "
                   "column (or group) against the background rows, the last column "
                   "E[f(background)]; each row adds up to the row's prediction. Exact Shapley "
                   "values when 2^g <= max(samples, 4096), else `samples` kernel-weighted "
                   "coalitions."},
    {"lime", "lime(model, x, background [, {samples = 2000, width = 0.75, seed = 42, groups}]) "
             "-> coef, intercept, r2: a LIME surrogate of the 1 x d row x: `samples` copies "
             "with each column (or group) switched to a random background row's value with "
             "probability 1/2, weighted by an exponential kernel of that share (width), and a "
             "weighted ridge fit: coef[g] (tensor) is the change in prediction when g keeps "
             "x's value, r2 the surrogate's weighted fit. explain.lime wraps it."},
    {NULL, NULL}};

int luaopen_churnlab_xai(lua_State *L);
int luaopen_churnlab_xai(lua_State *L)
{
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.xai: the numeric engine under churnlab.explain (permutation "
                      "importance, ICE, KernelSHAP, LIME) for any model with :predict(X).");
    lcl_setdocs(L, -1, docs);
    return 1;
}
