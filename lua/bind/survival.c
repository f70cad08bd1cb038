/* survival.c - module churnlab.survival: Kaplan-Meier curves (overall and by group), the
 * log-rank test, Cox proportional hazards (survival curves, lifetimes, CLV, the PH test) and
 * concordance. */
#include "support/lcl.h"

#include "analysis/cox.h"
#include "analysis/survival.h"

#include <math.h>
#include <string.h>

#define KM_T "churnlab.KaplanMeier"
#define COX_T "churnlab.Cox"

/* time and event vectors (args 1, 2), checked to have the same length; both buffers are
 * pushed on the stack (lcl_checkvec). */
static void check_te(lua_State *L, double **t, double **e, int64_t *n)
{
    int64_t ne;
    *t = lcl_checkvec(L, 1, n);
    *e = lcl_checkvec(L, 2, &ne);
    if (ne != *n)
        luaL_error(L, "time has %d values but event has %d", (int)*n, (int)ne);
}

/* Group labels (strings or numbers) at idx mapped to 0..k-1 in first-seen order; pushes the
 * table of labels (1-based) and returns the codes (cl_alloc'ed). */
static int32_t *check_groups(lua_State *L, int idx, int64_t n, int *k)
{
    cl_tensor *t = lcl_testtensor(L, idx);
    if (!t && lua_type(L, idx) != LUA_TTABLE) {
        lua_getfield(L, idx, "totable");
        if (!lua_isfunction(L, -1))
            luaL_argerror(L, idx, "group labels (table, tensor or column) expected");
        lua_pushvalue(L, idx);
        lua_call(L, 1, 1);
        lua_replace(L, idx);
    } else if (t) {
        lua_getfield(L, idx, "totable");
        lua_pushvalue(L, idx);
        lua_call(L, 1, 1);
        lua_replace(L, idx);
    }
    if (luaL_len(L, idx) != n)
        luaL_error(L, "group has %d values, time has %d", (int)luaL_len(L, idx), (int)n);
    lua_newtable(L); /* label -> code */
    int map = lua_gettop(L);
    lua_newtable(L); /* code + 1 -> label */
    int labels = lua_gettop(L);
    int32_t *g = lua_newuserdatauv(L, (size_t)(n > 0 ? n : 1) * sizeof *g, 0); /* GC-owned */
    int count = 0;
    for (int64_t i = 0; i < n; i++) {
        int tt = lua_geti(L, idx, i + 1);
        if (tt != LUA_TSTRING && tt != LUA_TNUMBER && tt != LUA_TBOOLEAN)
            luaL_error(L, "group value %d is %s (missing labels must be dropped first)",
                       (int)i + 1, lua_typename(L, tt));
        lua_pushvalue(L, -1);
        if (lua_rawget(L, map) == LUA_TNIL) {
            lua_pop(L, 1);
            lua_pushvalue(L, -1);
            lua_pushinteger(L, count);
            lua_rawset(L, map);
            lua_pushvalue(L, -1);
            lua_rawseti(L, labels, ++count);
            g[i] = count - 1;
        } else {
            g[i] = (int32_t)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    *k = count;
    lua_remove(L, map); /* stack: ... labels, userdata */
    return g;
}

static cl_km *checkkm(lua_State *L, int i) { return lcl_checkobj(L, i, KM_T); }

/* Option `weights` of the options table at opts: n case weights (tensor, list or column), or
 * NULL when absent. The doubles stay on the stack (lcl_checkvec); a missing weight (NaN) is
 * refused by the core's weight check, naming the row. */
static const double *opt_weights(lua_State *L, int opts, int64_t n, const char *fname)
{
    if (!lua_istable(L, opts) || lua_getfield(L, opts, "weights") == LUA_TNIL) {
        if (lua_istable(L, opts))
            lua_pop(L, 1);
        return NULL;
    }
    int ty = lua_type(L, -1);
    if (ty != LUA_TTABLE && ty != LUA_TUSERDATA)
        luaL_error(L, "%s: option 'weights' must be a tensor, list or column of numbers, got %s",
                   fname, luaL_typename(L, -1));
    int64_t nw;
    double *w = lcl_checkvec(L, lua_gettop(L), &nw);
    if (nw != n)
        luaL_error(L, "%s: option 'weights' has %d values but time has %d", fname, (int)nw,
                   (int)n);
    return w;
}

static int l_km(lua_State *L)
{
    lua_settop(L, 3); /* optional arguments keep their slots */
    double *t, *e;
    int64_t n;
    static const char *const known[] = {"conf", "weights", NULL};
    lcl_check_options(L, 3, "km", known);
    double conf = lcl_optnum(L, 3, "conf", 0.95);
    check_te(L, &t, &e, &n);
    const double *w = opt_weights(L, 3, n, "km");
    lcl_box *b = lcl_newbox(L, KM_T);
    cl_km *km;
    LCL_CHECK(L, cl_survival_km_estimate_w(&km, t, e, w, n, conf));
    b->obj = km;
    return 1;
}

/* km_by(time, event, group, {conf}) -> {label = KM, ...}, chi2, p */
static int l_km_by(lua_State *L)
{
    lua_settop(L, 4); /* optional arguments keep their slots */
    double *t, *e;
    int64_t n;
    static const char *const known[] = {"conf", NULL};
    lcl_check_options(L, 4, "km_by", known);
    double conf = lcl_optnum(L, 4, "conf", 0.95);
    check_te(L, &t, &e, &n);
    int k;
    int32_t *g = check_groups(L, 3, n, &k); /* pushes labels, codes userdata */
    int labels = lua_gettop(L) - 1;
    double *ts = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *ts, 0);
    double *es = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *es, 0);
    lua_newtable(L);
    for (int c = 0; c < k; c++) {
        int64_t m = 0;
        for (int64_t i = 0; i < n; i++)
            if (g[i] == c) {
                ts[m] = t[i];
                es[m++] = e[i];
            }
        lua_rawgeti(L, labels, c + 1);
        lcl_box *b = lcl_newbox(L, KM_T);
        cl_km *km;
        LCL_CHECK(L, cl_survival_km_estimate(&km, ts, es, m, conf));
        b->obj = km;
        lua_rawset(L, -3);
    }
    double chi2 = NAN, p = NAN;
    if (k >= 2)
        LCL_CHECK(L, cl_survival_logrank(t, e, g, n, k, &chi2, &p));
    lua_pushnumber(L, chi2);
    lua_pushnumber(L, p);
    return 3;
}

static int l_logrank(lua_State *L)
{
    lua_settop(L, 3); /* optional arguments keep their slots */
    double *t, *e;
    int64_t n;
    check_te(L, &t, &e, &n);
    int k;
    int32_t *g = check_groups(L, 3, n, &k);
    double chi2, p;
    LCL_CHECK(L, cl_survival_logrank(t, e, g, n, k, &chi2, &p));
    lua_pushnumber(L, chi2);
    lua_pushnumber(L, p);
    lua_pushinteger(L, k - 1);
    return 3;
}

static int km_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, KM_T);
    cl_survival_km_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int km_at(lua_State *L)
{
    cl_km *km = checkkm(L, 1);
    lua_pushnumber(L, cl_survival_km_at(km, luaL_checknumber(L, 2)));
    return 1;
}

static int km_median(lua_State *L)
{
    cl_km *km = checkkm(L, 1);
    if (isnan(km->median))
        lua_pushnil(L);
    else
        lua_pushnumber(L, km->median);
    return 1;
}

static int km_curve(lua_State *L)
{
    cl_km *km = checkkm(L, 1);
    struct {
        const char *name;
        const double *v;
    } cols[] = {{"time", km->time},     {"surv", km->surv}, {"lo", km->lo}, {"hi", km->hi},
                {"se", km->se},         {"n_risk", km->n_risk}, {"n_event", km->n_event}};
    lua_createtable(L, 0, 8);
    for (size_t c = 0; c < sizeof cols / sizeof *cols; c++) {
        lua_createtable(L, (int)km->m, 0);
        for (int64_t i = 0; i < km->m; i++) {
            lua_pushnumber(L, cols[c].v[i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, cols[c].name);
    }
    lua_pushnumber(L, km->conf);
    lua_setfield(L, -2, "conf");
    return 1;
}

static int km_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, KM_T);
    cl_km *km = b->obj;
    if (!km)
        return lua_pushstring(L, KM_T " (freed)"), 1;
    if (isnan(km->median))
        lua_pushfstring(L, KM_T " n=%d events=%d median not reached (S=%f at t=%f)", (int)km->n,
                        (int)km->events, km->surv[km->m - 1], km->time[km->m - 1]);
    else
        lua_pushfstring(L, KM_T " n=%d events=%d median=%f", (int)km->n, (int)km->events,
                        km->median);
    return 1;
}

/* ---- Cox ---------------------------------------------------------------------------- */

static int l_cox(lua_State *L)
{
    lua_settop(L, 4); /* optional arguments keep their slots */
    int64_t rows;
    int d;
    static const char *const known[] = {"ties", "conf", "tol", "max_iter", "names", "weights",
                                        NULL};
    lcl_check_options(L, 4, "cox", known);
    const char *ties = lcl_optstr(L, 4, "ties", "efron");
    double conf = lcl_optnum(L, 4, "conf", 0.95), tol = lcl_optnum(L, 4, "tol", 1e-9);
    int max_iter = (int)lcl_optnum(L, 4, "max_iter", 50);
    int tcode = strcmp(ties, "efron") == 0 ? CL_COX_EFRON
                : strcmp(ties, "breslow") == 0 ? CL_COX_BRESLOW : -1;
    if (tcode < 0)
        return luaL_error(L, "cox: ties must be 'efron' or 'breslow', got '%s'", ties);
    /* names: option or X's own (frame columns carry none; a pipeline passes them) */
    int has_names = 0;
    if (lua_istable(L, 4) && lua_getfield(L, 4, "names") == LUA_TTABLE)
        has_names = lua_gettop(L);
    else if (lua_istable(L, 4))
        lua_pop(L, 1);
    lcl_box *b = lcl_newbox(L, COX_T);
    int box = lua_gettop(L);
    /* feature names (user value) are set below, after the fit */
    double *X = lcl_checkmat(L, 1, &rows, &d);
    int64_t n, ne;
    double *t = lcl_checkvec(L, 2, &n);
    if (n != rows)
        return luaL_error(L, "cox: X has %d rows but time has %d", (int)rows, (int)n);
    double *e = lcl_checkvec(L, 3, &ne);
    if (ne != n)
        return luaL_error(L, "cox: time has %d values but event has %d", (int)n, (int)ne);
    const double *w = opt_weights(L, 4, n, "cox");
    cl_cox_params cp = cl_cox_params_default();
    cp.ties = tcode;
    cp.max_iter = max_iter;
    cp.tol = tol;
    cp.conf = conf;
    cl_cox *m;
    LCL_CHECK(L, cl_cox_new(&m, &cp));
    b->obj = m; /* the box frees it if the fit fails */
    LCL_CHECK(L, cl_cox_fit_w(m, X, t, e, w, n, d));
    /* feature names in the box's user value */
    lua_createtable(L, d, 0);
    for (int k = 0; k < d; k++) {
        if (has_names && lua_rawgeti(L, has_names, k + 1) == LUA_TSTRING) {
        } else {
            if (has_names)
                lua_pop(L, 1);
            lua_pushfstring(L, "x%d", k + 1);
        }
        lua_rawseti(L, -2, k + 1);
    }
    lua_setiuservalue(L, box, 1);
    lua_pushvalue(L, box);
    return 1;
}

static cl_cox *checkcox(lua_State *L, int i) { return lcl_checkobj(L, i, COX_T); }

/* Why column k was dropped (m->aliased[k] != 0). */
static const char *aliased_why(int code)
{
    return code == 2 ? "constant" : "collinear with the columns before it";
}

static int cox_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, COX_T);
    cl_cox_free(b->obj);
    b->obj = NULL;
    return 0;
}

/* summary() -> array of {name, coef, hr, lo, hi, se, z, p [, dropped]} */
static int cox_summary(lua_State *L)
{
    cl_cox *m = checkcox(L, 1);
    lua_getiuservalue(L, 1, 1);
    int names = lua_gettop(L);
    lua_createtable(L, m->d, 0);
    for (int k = 0; k < m->d; k++) {
        lua_createtable(L, 0, 8);
        lua_rawgeti(L, names, k + 1);
        lua_setfield(L, -2, "name");
        const struct {
            const char *f;
            double v;
        } f[] = {{"coef", m->beta[k]}, {"hr", exp(m->beta[k])}, {"lo", m->lo[k]},
                 {"hi", m->hi[k]},     {"se", m->se[k]},        {"z", m->z[k]},
                 {"p", m->p[k]}};
        for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
            lua_pushnumber(L, f[i].v);
            lua_setfield(L, -2, f[i].f);
        }
        if (m->aliased[k]) { /* dropped from the fit: coef 0, the rest NaN */
            lua_pushstring(L, aliased_why(m->aliased[k]));
            lua_setfield(L, -2, "dropped");
        }
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

/* predict(X, {type = "risk"|"lp"}) -> tensor of partial hazards exp(lp) or linear predictors */
static int cox_predict(lua_State *L)
{
    lua_settop(L, 3); /* optional arguments keep their slots */
    cl_cox *m = checkcox(L, 1);
    static const char *const known[] = {"type", NULL};
    lcl_check_options(L, 3, "predict", known);
    const char *type = lcl_optstr(L, 3, "type", "risk");
    int lp_only = strcmp(type, "lp") == 0;
    if (!lp_only && strcmp(type, "risk") != 0)
        return luaL_error(L, "predict: type must be 'risk' or 'lp', got '%s'", type);
    int64_t rows;
    int d;
    double *X = lcl_checkmat(L, 2, &rows, &d);
    if (d != m->d)
        return luaL_error(L, "predict: model has %d covariates, X has %d columns", m->d, d);
    double *lp = lua_newuserdatauv(L, (size_t)(rows ? rows : 1) * sizeof *lp, 0);
    cl_cox_predict(m, X, rows, lp);
    if (!lp_only)
        for (int64_t i = 0; i < rows; i++)
            lp[i] = exp(lp[i]);
    return lcl_pushvec(L, lp, rows);
}

/* ---- Cox predictions and diagnostics (issue 19) -------------------------------------- */

/* X at idx (2-D tensor or table of rows) with the fitted number of columns; the doubles
 * are pushed (lcl_checkmat). */
static double *check_X(lua_State *L, int idx, const cl_cox *m, const char *what, int64_t *rows)
{
    int d;
    double *X = lcl_checkmat(L, idx, rows, &d);
    if (d != m->d)
        luaL_error(L, "%s: X has %d columns, the model has %d covariates", what, d, m->d);
    return X;
}

/* Option `key` of the table at opts: a number (the same for every row) or a vector of n
 * values. Returns NULL when absent, else n doubles (a userdata pushed on the stack). */
static double *opt_rows(lua_State *L, int opts, const char *key, int64_t n, const char *what)
{
    if (!opts || lua_getfield(L, opts, key) == LUA_TNIL) {
        if (opts)
            lua_pop(L, 1);
        return NULL;
    }
    int v = lua_gettop(L);
    double *out;
    if (lua_type(L, v) == LUA_TNUMBER) {
        double x = lua_tonumber(L, v);
        out = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *out, 0);
        for (int64_t i = 0; i < n; i++)
            out[i] = x;
    } else {
        int64_t len;
        if (lua_type(L, v) == LUA_TTABLE)
            for (lua_Integer i = 1, ln = luaL_len(L, v); i <= ln; i++) {
                int tt = lua_geti(L, v, i);
                if (!lua_isnumber(L, -1))
                    luaL_error(L, "%s: option '%s', element %d is a %s, expected a number",
                               what, key, (int)i, lua_typename(L, tt));
                lua_pop(L, 1);
            }
        else if (lua_type(L, v) != LUA_TUSERDATA)
            luaL_error(L, "%s: option '%s' must be a number or a vector (one value per row), "
                          "got %s", what, key, luaL_typename(L, v));
        out = lcl_checkvec(L, v, &len);
        if (len != n)
            luaL_error(L, "%s: option '%s' has %d values, X has %d rows", what, key, (int)len,
                       (int)n);
    }
    lua_remove(L, v);
    return out;
}

/* X, time, event at args 2, 3, 4 of a method (the training data, or data like it). */
static void check_xte(lua_State *L, const cl_cox *m, const char *what, double **X, double **t,
                      double **e, int64_t *n)
{
    int64_t nt, ne;
    *X = check_X(L, 2, m, what, n);
    *t = lcl_checkvec(L, 3, &nt);
    if (nt != *n)
        luaL_error(L, "%s: X has %d rows but time has %d values", what, (int)*n, (int)nt);
    *e = lcl_checkvec(L, 4, &ne);
    if (ne != *n)
        luaL_error(L, "%s: X has %d rows but event has %d values", what, (int)*n, (int)ne);
}

/* A 2-D float32 tensor rows x cols from doubles. */
static int push_mat(lua_State *L, const double *v, int64_t rows, int64_t cols)
{
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 2, rows, cols));
    float *f = cl_tensor_data(t);
    for (int64_t i = 0; i < rows * cols; i++)
        f[i] = (float)v[i];
    return lcl_pushtensor(L, t);
}

static void push_list(lua_State *L, const double *v, int64_t n)
{
    lua_createtable(L, (int)(n < INT32_MAX ? n : 0), 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

/* survival(X, times) -> n x #times tensor of S(t|x) */
static int cox_survival(lua_State *L)
{
    lua_settop(L, 3);
    cl_cox *m = checkcox(L, 1);
    int64_t n, nt;
    double *X = check_X(L, 2, m, "survival", &n);
    double one, *times;
    if (lua_type(L, 3) == LUA_TNUMBER) {
        one = lua_tonumber(L, 3);
        times = &one;
        nt = 1;
    } else {
        times = lcl_checkvec(L, 3, &nt);
    }
    if (nt < 1 || nt > INT32_MAX)
        return luaL_error(L, "survival: times must hold at least one time, got %d", (int)nt);
    /* blocks of rows through a small double buffer straight into the float32 result: no
     * n x nt double copy (on a 100k x 50 call that copy's page faults cost more than the
     * arithmetic) */
    for (int64_t i = 0; i < n * m->d; i++) /* here, so the row number is the caller's */
        if (!isfinite(X[i]))
            return luaL_error(L, "survival: row %d, covariate %d is not a finite number",
                              (int)(i / m->d) + 1, (int)(i % m->d) + 1);
    int64_t blk = nt >= 4096 ? 1 : 4096 / nt;
    double *buf = lua_newuserdatauv(L, (size_t)(blk * nt) * sizeof *buf, 0);
    cl_tensor *res;
    LCL_CHECK(L, cl_tensor_new(&res, 2, n, nt));
    lcl_pushtensor(L, res); /* owned by Lua from here: an error below cannot leak it */
    float *f = cl_tensor_data(res);
    for (int64_t i0 = 0; i0 < n; i0 += blk) {
        int64_t nb = n - i0 < blk ? n - i0 : blk;
        LCL_CHECK(L, cl_cox_survival(m, X + i0 * m->d, nb, times, (int)nt, buf));
        for (int64_t k = 0; k < nb * nt; k++)
            f[i0 * nt + k] = (float)buf[k];
    }
    return 1;
}

/* baseline({x = row}) -> {time, cumhaz, surv} at the m distinct event times */
static int cox_baseline(lua_State *L)
{
    lua_settop(L, 2);
    cl_cox *m = checkcox(L, 1);
    static const char *const known[] = {"x", NULL};
    int opts = lcl_check_options(L, 2, "baseline", known);
    double *x0 = NULL;
    if (opts && lua_getfield(L, opts, "x") != LUA_TNIL) {
        int64_t len;
        x0 = lcl_checkvec(L, lua_gettop(L), &len);
        if (len != m->d)
            return luaL_error(L, "baseline: option 'x' has %d values, the model has %d "
                                 "covariates", (int)len, m->d);
        for (int k = 0; k < m->d; k++)
            if (!isfinite(x0[k]))
                return luaL_error(L, "baseline: option 'x', value %d is not a finite number",
                                  k + 1);
    }
    int64_t nt = m->m;
    double *h = lua_newuserdatauv(L, (size_t)(nt ? nt : 1) * 2 * sizeof *h, 0), *s = h + nt;
    for (int64_t j = 0; j < nt; j++) {
        h[j] = cl_cox_cumhaz0(m, x0, m->bh_time[j]);
        s[j] = exp(-h[j]);
    }
    lua_createtable(L, 0, 3);
    push_list(L, m->bh_time, nt);
    lua_setfield(L, -2, "time");
    push_list(L, h, nt);
    lua_setfield(L, -2, "cumhaz");
    push_list(L, s, nt);
    lua_setfield(L, -2, "surv");
    return 1;
}

/* expected_lifetime(X, {from, horizon}) -> median, rmst (1-D tensors) */
static int cox_lifetime(lua_State *L)
{
    lua_settop(L, 3);
    cl_cox *m = checkcox(L, 1);
    static const char *const known[] = {"from", "horizon", NULL};
    int opts = lcl_check_options(L, 3, "expected_lifetime", known);
    int64_t n;
    double *X = check_X(L, 2, m, "expected_lifetime", &n);
    double *from = opt_rows(L, opts, "from", n, "expected_lifetime");
    double horizon = lcl_optnum(L, opts, "horizon", m->m ? m->bh_time[m->m - 1] : 1);
    double *med = lua_newuserdatauv(L, (size_t)(n ? n : 1) * 2 * sizeof *med, 0), *rm = med + n;
    LCL_CHECK(L, cl_cox_lifetime(m, X, n, from, horizon, med, rm));
    lcl_pushvec(L, med, n);
    lcl_pushvec(L, rm, n);
    return 2;
}

/* clv(X, {margin, discount, horizon, from}) -> 1-D tensor */
static int cox_clv(lua_State *L)
{
    lua_settop(L, 3);
    cl_cox *m = checkcox(L, 1);
    static const char *const known[] = {"margin", "discount", "horizon", "from", NULL};
    int opts = lcl_check_options(L, 3, "clv", known);
    int64_t n;
    double *X = check_X(L, 2, m, "clv", &n);
    double *from = opt_rows(L, opts, "from", n, "clv");
    double *margin = opt_rows(L, opts, "margin", n, "clv");
    double h = lcl_optnum(L, opts, "horizon", 36), discount = lcl_optnum(L, opts, "discount", 0);
    if (!(h >= 1 && h <= 1e6 && h == floor(h)))
        return luaL_error(L, "clv: option 'horizon' must be a whole number of periods in "
                             "1..1000000, got %f", h);
    double *out = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *out, 0);
    LCL_CHECK(L, cl_cox_clv(m, X, n, from, margin, (int)h, discount, out));
    return lcl_pushvec(L, out, n);
}

/* schoenfeld(X, time, event) -> n x d tensor, NaN for censored rows and dropped columns */
static int cox_schoenfeld(lua_State *L)
{
    lua_settop(L, 4);
    cl_cox *m = checkcox(L, 1);
    double *X, *t, *e;
    int64_t n;
    check_xte(L, m, "schoenfeld", &X, &t, &e, &n);
    double *r = lua_newuserdatauv(L, (size_t)(n * m->d > 0 ? n * m->d : 1) * sizeof *r, 0);
    LCL_CHECK(L, cl_cox_schoenfeld(m, X, t, e, n, r));
    return push_mat(L, r, n, m->d);
}

#define PHTEST_T "churnlab.PHTest"

/* ph_test(X, time, event, {transform, alpha}) -> {{name, rho, chi2, p, violates}, ...,
 * global = {chi2, df, p}, dropped = {{name, why}}, transform, alpha, events} */
static int cox_ph_test(lua_State *L)
{
    lua_settop(L, 5);
    cl_cox *m = checkcox(L, 1);
    static const char *const known[] = {"transform", "alpha", NULL};
    int opts = lcl_check_options(L, 5, "ph_test", known);
    const char *tr = lcl_optstr(L, opts, "transform", "rank");
    double alpha = lcl_optnum(L, opts, "alpha", 0.05);
    static const char *const trs[] = {"rank", "km", "identity", "log", NULL};
    int code = -1;
    for (int i = 0; trs[i]; i++)
        if (strcmp(tr, trs[i]) == 0)
            code = i;
    if (code < 0)
        return luaL_error(L, "ph_test: option 'transform' must be 'rank', 'km', 'identity' or "
                             "'log', got '%s'", tr);
    if (!(alpha > 0 && alpha < 1))
        return luaL_error(L, "ph_test: option 'alpha' must be in (0, 1), got %f", alpha);
    double *X, *t, *e;
    int64_t n;
    check_xte(L, m, "ph_test", &X, &t, &e, &n);
    int d = m->d;
    double *w = lua_newuserdatauv(L, (size_t)d * 3 * sizeof *w, 0), *chi2 = w + d, *p = w + 2 * d;
    double gchi2, gp;
    int gdf;
    LCL_CHECK(L, cl_cox_zph_test(m, X, t, e, n, code, w, chi2, p, &gchi2, &gp, &gdf));
    int64_t events = 0;
    for (int64_t i = 0; i < n; i++)
        events += e[i] == 1;
    lua_getiuservalue(L, 1, 1);
    int names = lua_gettop(L);
    lua_createtable(L, d, 6);
    int res = lua_gettop(L);
    lua_newtable(L); /* dropped */
    int row = 0, nd = 0;
    for (int k = 0; k < d; k++) {
        lua_rawgeti(L, names, k + 1);
        if (m->aliased[k]) {
            lua_createtable(L, 0, 2);
            lua_insert(L, -2);
            lua_setfield(L, -2, "name");
            lua_pushstring(L, aliased_why(m->aliased[k]));
            lua_setfield(L, -2, "why");
            lua_rawseti(L, res + 1, ++nd);
            continue;
        }
        lua_createtable(L, 0, 5);
        lua_insert(L, -2);
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, w[k]);
        lua_setfield(L, -2, "rho");
        lua_pushnumber(L, chi2[k]);
        lua_setfield(L, -2, "chi2");
        lua_pushnumber(L, p[k]);
        lua_setfield(L, -2, "p");
        lua_pushboolean(L, p[k] < alpha);
        lua_setfield(L, -2, "violates");
        lua_rawseti(L, res, ++row);
    }
    lua_setfield(L, res, "dropped");
    lua_createtable(L, 0, 3);
    lua_pushnumber(L, gchi2);
    lua_setfield(L, -2, "chi2");
    lua_pushinteger(L, gdf);
    lua_setfield(L, -2, "df");
    lua_pushnumber(L, gp);
    lua_setfield(L, -2, "p");
    lua_pushboolean(L, gp < alpha);
    lua_setfield(L, -2, "violates");
    lua_setfield(L, res, "global");
    lua_pushstring(L, tr);
    lua_setfield(L, res, "transform");
    lua_pushnumber(L, alpha);
    lua_setfield(L, res, "alpha");
    lua_pushinteger(L, (lua_Integer)events);
    lua_setfield(L, res, "events");
    luaL_setmetatable(L, PHTEST_T);
    return 1;
}

static double fieldnum(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : NAN;
    lua_pop(L, 1);
    return v;
}

/* Field k of the table at t as a string ("?" when it is none); the string is left on the
 * stack. */
static const char *fieldstr(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    return lua_isstring(L, -1) ? lua_tostring(L, -1) : "?";
}

/* The PH test table as text: one line per covariate, flagged when p < alpha, then GLOBAL and
 * the dropped columns. Each line is pushed as a string and all are concatenated at the end. */
static int phtest_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    char line[256];
    double alpha = fieldnum(L, 1, "alpha");
    snprintf(line, sizeof line, "Proportional-hazards test (scaled Schoenfeld residuals vs %s(t)"
             ", Grambsch-Therneau), %.0f events\n%-28s %8s %10s %10s\n",
             fieldstr(L, 1, "transform"), fieldnum(L, 1, "events"), "covariate", "rho",
             "chi2 (1df)", "p");
    lua_pop(L, 1);
    lua_pushstring(L, line);
    int pieces = 1;
    lua_Integer nr = luaL_len(L, 1);
    for (lua_Integer i = 1; i <= nr; i++, pieces++) {
        luaL_checkstack(L, 4, NULL);
        lua_geti(L, 1, i);
        int r = lua_gettop(L);
        double p = fieldnum(L, r, "p");
        snprintf(line, sizeof line, "%-28.28s %8.4f %10.3f %10.3g%s\n", fieldstr(L, r, "name"),
                 fieldnum(L, r, "rho"), fieldnum(L, r, "chi2"), p,
                 p < alpha ? "  * PH violated" : "");
        lua_settop(L, r - 1);
        lua_pushstring(L, line);
    }
    if (lua_getfield(L, 1, "global") == LUA_TTABLE) {
        int g = lua_gettop(L);
        double p = fieldnum(L, g, "p");
        snprintf(line, sizeof line, "%-28s %8s %10.3f %10.3g  (%.0f df)%s\n", "GLOBAL", "",
                 fieldnum(L, g, "chi2"), p, fieldnum(L, g, "df"), p < alpha ? "  *" : "");
        lua_pop(L, 1);
        lua_pushstring(L, line);
        pieces++;
    } else {
        lua_pop(L, 1);
    }
    if (lua_getfield(L, 1, "dropped") == LUA_TTABLE) {
        int dt = lua_gettop(L);
        lua_Integer nd = luaL_len(L, dt);
        for (lua_Integer i = 1; i <= nd; i++) {
            luaL_checkstack(L, 4, NULL);
            lua_geti(L, dt, i);
            int r = lua_gettop(L);
            const char *name = fieldstr(L, r, "name");
            snprintf(line, sizeof line, "%-28.28s not tested: dropped from the fit (%s)\n",
                     name, fieldstr(L, r, "why"));
            lua_settop(L, r - 1);
            lua_pushstring(L, line);
            lua_insert(L, dt); /* keep the pieces below the dropped table */
            dt++;
            pieces++;
        }
    }
    lua_pop(L, 1);
    lua_pushfstring(L, "* p < %f: the hazard ratio changes over time", alpha);
    lua_concat(L, pieces + 1);
    return 1;
}

static const char *const conc_known[] = {"method", "tau", NULL};

/* Reads {method, tau} at opts; returns 1 for Uno. */
static int conc_opts(lua_State *L, int opts, const char *what, double *tau)
{
    const char *method = lcl_optstr(L, opts, "method", "harrell");
    *tau = lcl_optnum(L, opts, "tau", 0);
    int uno = strcmp(method, "uno") == 0;
    if (!uno && strcmp(method, "harrell") != 0)
        luaL_error(L, "%s: option 'method' must be 'harrell' or 'uno', got '%s'", what, method);
    if (isnan(*tau))
        luaL_error(L, "%s: option 'tau' is NaN", what);
    return uno;
}

static int push_conc(lua_State *L, const double *t, const double *e, const double *risk,
                     int64_t n, int uno, double tau)
{
    double h, u, P, C, T;
    LCL_CHECK(L, cl_survival_concordance(t, e, risk, n, tau, &h, &u, &P, &C, &T));
    if (uno && isnan(u))
        return luaL_error(L, "concordance: Uno's C has no comparable event before tau = %f",
                          tau);
    lua_pushnumber(L, uno ? u : h);
    lua_createtable(L, 0, 5);
    lua_pushnumber(L, h);
    lua_setfield(L, -2, "harrell");
    lua_pushnumber(L, u);
    lua_setfield(L, -2, "uno");
    lua_pushnumber(L, P);
    lua_setfield(L, -2, "pairs");
    lua_pushnumber(L, C);
    lua_setfield(L, -2, "concordant");
    lua_pushnumber(L, T);
    lua_setfield(L, -2, "tied");
    return 2;
}

/* concordance(X, time, event, {method, tau}) -> C, {harrell, uno, pairs, concordant, tied} */
static int cox_concordance(lua_State *L)
{
    lua_settop(L, 5);
    cl_cox *m = checkcox(L, 1);
    int opts = lcl_check_options(L, 5, "concordance", conc_known);
    double tau;
    int uno = conc_opts(L, opts, "concordance", &tau);
    double *X, *t, *e;
    int64_t n;
    check_xte(L, m, "concordance", &X, &t, &e, &n);
    double *lp = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *lp, 0);
    cl_cox_predict(m, X, n, lp);
    return push_conc(L, t, e, lp, n, uno, tau);
}

/* survival.concordance(time, event, risk, {method, tau}) for any risk score */
static int l_concordance(lua_State *L)
{
    lua_settop(L, 4);
    int opts = lcl_check_options(L, 4, "concordance", conc_known);
    double tau;
    int uno = conc_opts(L, opts, "concordance", &tau);
    double *t, *e;
    int64_t n, nr;
    check_te(L, &t, &e, &n);
    double *risk = lcl_checkvec(L, 3, &nr);
    if (nr != n)
        return luaL_error(L, "concordance: time has %d values but risk has %d", (int)n, (int)nr);
    return push_conc(L, t, e, risk, n, uno, tau);
}

/* Pushes the one-line summary of the Cox model at idx (built with lua_concat, so callers
 * may hold a luaL_Buffer). */
static void push_cox_line(lua_State *L, int idx, const cl_cox *m)
{
    int top = lua_gettop(L);
    lua_pushfstring(L, COX_T " %d covariates, %s ties, n=%d events=%d, loglik %f (null %f)%s",
                    m->d, m->ties == CL_COX_EFRON ? "efron" : "breslow", (int)m->n,
                    (int)m->events, m->loglik, m->loglik0, m->converged ? "" : ", NOT converged");
    if (m->naliased) {
        lua_getiuservalue(L, idx, 1);
        int names = lua_gettop(L);
        lua_pushfstring(L, ", %d dropped (", m->naliased);
        for (int k = 0, c = 0; k < m->d; k++)
            if (m->aliased[k]) {
                lua_rawgeti(L, names, k + 1);
                lua_pushfstring(L, "%s%s: %s", c++ ? "; " : "", lua_tostring(L, -1),
                                aliased_why(m->aliased[k]));
                lua_remove(L, -2);
                lua_concat(L, 2);
            }
        lua_pushliteral(L, ")");
        lua_concat(L, 2);
        lua_remove(L, names);
        lua_concat(L, 2);
    }
    (void)top;
}

static int cox_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, COX_T);
    cl_cox *m = b->obj;
    if (!m)
        return lua_pushstring(L, COX_T " (freed)"), 1;
    push_cox_line(L, 1, m);
    return 1;
}

/* __repl: an aligned coefficient table */
static int cox_repl(lua_State *L)
{
    cl_cox *m = checkcox(L, 1);
    lua_settop(L, 1);
    lua_getiuservalue(L, 1, 1);
    int names = lua_gettop(L);
    luaL_Buffer B;
    luaL_buffinit(L, &B);
    push_cox_line(L, 1, m);
    luaL_addvalue(&B);
    luaL_addstring(&B, "\n");
    char line[256];
    snprintf(line, sizeof line, "%-24s %9s %9s %9s %9s %9s %10s\n", "covariate", "coef", "HR",
             "HR lo", "HR hi", "z", "p");
    luaL_addstring(&B, line);
    for (int k = 0; k < m->d; k++) {
        lua_rawgeti(L, names, k + 1);
        if (m->aliased[k])
            snprintf(line, sizeof line, "%-24.24s dropped from the fit: %s\n",
                     lua_tostring(L, -1), aliased_why(m->aliased[k]));
        else
            snprintf(line, sizeof line, "%-24.24s %9.4f %9.4f %9.4f %9.4f %9.3f %10.3g\n",
                     lua_tostring(L, -1), m->beta[k], exp(m->beta[k]), m->lo[k], m->hi[k],
                     m->z[k], m->p[k]);
        lua_pop(L, 1);
        luaL_addstring(&B, line);
    }
    luaL_pushresult(&B);
    return 1;
}

static const luaL_Reg funcs[] = {{"km", l_km},     {"km_by", l_km_by},
                                 {"logrank", l_logrank}, {"cox", l_cox},
                                 {"concordance", l_concordance}, {NULL, NULL}};
static const luaL_Reg km_methods[] = {{"at", km_at}, {"median", km_median}, {"curve", km_curve},
                                      {NULL, NULL}};
static const luaL_Reg km_meta[] = {{"__gc", km_gc}, {"__close", km_gc}, {"__tostring", km_tostring},
                                   {NULL, NULL}};
static const luaL_Reg cox_methods[] = {
    {"summary", cox_summary},         {"predict", cox_predict},
    {"survival", cox_survival},       {"baseline", cox_baseline},
    {"expected_lifetime", cox_lifetime}, {"clv", cox_clv},
    {"schoenfeld", cox_schoenfeld},   {"ph_test", cox_ph_test},
    {"concordance", cox_concordance}, {NULL, NULL}};
static const luaL_Reg phtest_meta[] = {{"__tostring", phtest_tostring}, {"__repl", phtest_tostring},
                                       {NULL, NULL}};
static const luaL_Reg cox_meta[] = {{"__gc", cox_gc}, {"__close", cox_gc},
                                    {"__tostring", cox_tostring}, {"__repl", cox_repl},
                                    {NULL, NULL}};

static const lcl_doc docs[] = {
    {"km", "km(time, event, {conf = 0.95, weights}) -> KaplanMeier: retention curve with "
           "Greenwood standard errors and log-log confidence bands; methods at(t), median(), "
           "curve(). weights: case (frequency) weights >= 0 per row (tensor, list or column): "
           "n_risk and n_event become sums of weights (statsmodels' SurvfuncRight "
           "freq_weights; integer weights = rows repeated, se included; statsmodels' own "
           "weighted se is Tsiatis', ours Greenwood's as R's survfit)."},
    {"km_by", "km_by(time, event, group, {conf}) -> {label = KaplanMeier}, chi2, p: one curve "
              "per group and the log-rank test of equal retention."},
    {"logrank", "logrank(time, event, group) -> chi2, p, df: log-rank test across groups."},
    {"cox", "cox(X, time, event, {names, ties = 'efron'|'breslow', conf = 0.95, tol, "
            "max_iter, weights}) -> Cox model: hazard ratios with confidence intervals "
            "(summary()), predict(X), survival(X, times), baseline(), expected_lifetime(X), "
            "clv(X), ph_test(X, time, event), concordance(X, time, event). Constant columns and "
            "columns collinear with earlier ones are dropped (summary() says which). weights: "
            "case weights >= 0 per row, the weighted partial likelihood of R's "
            "coxph(weights =) (Breslow with integer weights = rows repeated; Efron ties weigh "
            "each tie term by the deaths' mean weight); se from the weighted information (not "
            "robust); ph_test and schoenfeld refuse a weighted model."},
    {"concordance", "concordance(time, event, risk [, {method = 'harrell'|'uno', tau}]) -> C, "
                    "{harrell, uno, pairs, concordant, tied}: how well any risk score (a Cox "
                    "linear predictor, a churn probability) orders customers by when they "
                    "churn; 0.5 = random, 1 = perfect. Harrell's C counts every comparable "
                    "pair (the shorter time an event); Uno's C weights pairs by the inverse "
                    "squared censoring survival, restricted to times < tau, so heavy "
                    "censoring does not bias it."},
    {NULL, NULL}};

/* Method texts for help(), per class. */
static const struct {
    const char *tname, *name, *doc;
} method_docs[] = {
    {KM_T, "at", "km:at(t) -> S(t): the estimated share still retained at time t (the step "
                 "function: 1 before the first event, constant between event times)."},
    {KM_T, "median", "km:median() -> t | nil: the median lifetime, the first time S(t) <= 0.5; "
                     "nil when the curve never falls to 0.5 (more than half never churn in the "
                     "data)."},
    {KM_T, "curve", "km:curve() -> {time, surv, lo, hi, se, n_risk, n_event, conf}: one entry "
                    "per distinct time (lists of numbers): S(t), its confidence band at level "
                    "conf, Greenwood's standard error, customers at risk and events; for "
                    "plots and tables."},
    {COX_T, "summary", "cox:summary() -> {{name, coef, hr, lo, hi, se, z, p}, ...}: one row per "
                       "covariate in X's column order: the log hazard ratio, the hazard ratio "
                       "exp(coef) with its confidence interval, the standard error, the Wald z "
                       "and its two-sided p-value. Names come from the names option (else x1, "
                       "x2, ...). A dropped column (constant, or collinear with the columns "
                       "before it) has coef 0, NaN elsewhere and dropped = the reason."},
    {COX_T, "survival", "cox:survival(X, times) -> n x #times tensor: S(t|x), each row's "
                        "probability of still being subscribed at each time (times: a number "
                        "or a vector, in the units of the fitted time), from the baseline "
                        "hazard (Breslow; Efron-corrected for an Efron fit, R's survfit.coxph "
                        "default). The step function: 1 before the first event time, constant "
                        "after the last."},
    {COX_T, "baseline", "cox:baseline([{x = row}]) -> {time, cumhaz, surv}: the baseline "
                        "cumulative hazard H0(t) and survival exp(-H0(t)) at each distinct "
                        "event time, for covariates at the training mean (default) or at x "
                        "(a row of zeros gives statsmodels' convention)."},
    {COX_T, "expected_lifetime", "cox:expected_lifetime(X [, {from = 0, horizon}]) -> median, "
                                 "rmst (1-D tensors): per row, the median lifetime (first time "
                                 "S(t|x) <= 0.5; NaN when the curve stays above 0.5) and the "
                                 "restricted mean remaining lifetime over (from, from + "
                                 "horizon] given survival to from (a number or one age per "
                                 "row). horizon defaults to the last event time."},
    {COX_T, "clv", "cox:clv(X [, {margin = 1, discount = 0, horizon = 36, from = 0}]) -> 1-D "
                   "tensor: each customer's expected discounted margin from their own survival "
                   "curve, sum over k = 1..horizon of margin S(from+k|x)/S(from|x)/(1+discount)^k "
                   "(one period per time unit; margin and from: a number or one value per row)."},
    {COX_T, "schoenfeld", "cox:schoenfeld(X, time, event) -> n x d tensor: Schoenfeld "
                          "residuals on the training data (x minus the risk-set mean at the "
                          "event time); NaN for censored rows and dropped columns."},
    {COX_T, "ph_test", "cox:ph_test(X, time, event [, {transform = 'rank'|'km'|'identity'|"
                       "'log', alpha = 0.05}]) -> table: the proportional-hazards test "
                       "(Grambsch-Therneau, scaled Schoenfeld residuals against g(t)), one row "
                       "{name, rho, chi2, p, violates} per fitted covariate, global = {chi2, "
                       "df, p}, dropped; prints as a table flagging p < alpha. Pass the "
                       "training data (the model keeps no copy)."},
    {COX_T, "concordance", "cox:concordance(X, time, event [, {method = 'harrell'|'uno', "
                           "tau}]) -> C, details: the concordance of the model's risk with "
                           "the observed times (see cl.survival.concordance)."},
    {COX_T, "predict", "cox:predict(X [, {type = 'risk'|'lp'}]) -> 1-D tensor: the partial "
                       "hazard exp(x'beta) of each row (risk, the default: 2 = twice the "
                       "hazard of a customer with all covariates 0) or the linear predictor "
                       "x'beta (lp). X must have the fitted number of columns."},
    {NULL, NULL, NULL}};

int luaopen_churnlab_survival(lua_State *L);
int luaopen_churnlab_survival(lua_State *L)
{
    lcl_createmeta(L, KM_T, km_meta, km_methods);
    lcl_createmeta(L, COX_T, cox_meta, cox_methods);
    luaL_newmetatable(L, PHTEST_T);
    luaL_setfuncs(L, phtest_meta, 0);
    lua_pop(L, 3);
    for (int i = 0; method_docs[i].name; i++) {
        luaL_getmetatable(L, method_docs[i].tname);
        lua_getfield(L, -1, "__index");
        lua_getfield(L, -1, method_docs[i].name);
        lcl_setdoc(L, -1, method_docs[i].doc);
        lua_pop(L, 3);
    }
    lua_pushstring(L, KM_T);
    lcl_setdoc(L, -1, "churnlab.KaplanMeier: a retention curve from cl.survival.km or km_by: "
                      "km:at(t), km:median(), km:curve(); cl.plot.survival{ {curve = km} } "
                      "draws it.");
    lua_pushstring(L, COX_T);
    lcl_setdoc(L, -1, "churnlab.Cox: a Cox proportional-hazards model from cl.survival.cox(X, "
                      "time, event): cox:summary() (hazard ratios, intervals, p-values), "
                      "cox:predict(X), cox:survival(X, times) (S(t|x)), cox:baseline(), "
                      "cox:expected_lifetime(X) (median, restricted mean), cox:clv(X), "
                      "cox:schoenfeld / ph_test / concordance(X, time, event); the REPL shows "
                      "its coefficient table and any dropped column.");
    lua_pushstring(L, PHTEST_T);
    lcl_setdoc(L, -1, "churnlab.PHTest: the table cox:ph_test(X, time, event) returns: one row "
                      "{name, rho, chi2, p, violates} per fitted covariate, global = {chi2, "
                      "df, p, violates}, dropped, transform, alpha, events; print() shows it "
                      "as a table with the violations flagged.");
    lua_pop(L, 3);
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.survival: retention curves (Kaplan-Meier), log-rank tests, Cox proportional hazards.");
    lcl_setdocs(L, -1, docs);
    return 1;
}
