/* survival.c - module churnlab.survival: Kaplan-Meier curves (overall and by group), the
 * log-rank test and Cox proportional hazards. */
#include "support/lcl.h"

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

static int l_km(lua_State *L)
{
    lua_settop(L, 3); /* optional arguments keep their slots */
    double *t, *e;
    int64_t n;
    static const char *const known[] = {"conf", NULL};
    lcl_check_options(L, 3, "km", known);
    double conf = lcl_optnum(L, 3, "conf", 0.95);
    check_te(L, &t, &e, &n);
    lcl_box *b = lcl_newbox(L, KM_T);
    cl_km *km;
    LCL_CHECK(L, cl_km_fit(&km, t, e, n, conf));
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
        LCL_CHECK(L, cl_km_fit(&km, ts, es, m, conf));
        b->obj = km;
        lua_rawset(L, -3);
    }
    double chi2 = NAN, p = NAN;
    if (k >= 2)
        LCL_CHECK(L, cl_logrank(t, e, g, n, k, &chi2, &p));
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
    LCL_CHECK(L, cl_logrank(t, e, g, n, k, &chi2, &p));
    lua_pushnumber(L, chi2);
    lua_pushnumber(L, p);
    lua_pushinteger(L, k - 1);
    return 3;
}

static int km_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, KM_T);
    cl_km_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int km_at(lua_State *L)
{
    cl_km *km = checkkm(L, 1);
    lua_pushnumber(L, cl_km_at(km, luaL_checknumber(L, 2)));
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
    static const char *const known[] = {"ties", "conf", "tol", "max_iter", "names", NULL};
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
    cl_cox *m;
    LCL_CHECK(L, cl_cox_fit(&m, X, t, e, n, d, tcode, max_iter, tol, conf));
    b->obj = m;
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

static int cox_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, COX_T);
    cl_cox_free(b->obj);
    b->obj = NULL;
    return 0;
}

/* summary() -> array of {name, coef, hr, lo, hi, se, z, p} */
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

static int cox_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, COX_T);
    cl_cox *m = b->obj;
    if (!m)
        return lua_pushstring(L, COX_T " (freed)"), 1;
    lua_pushfstring(L, COX_T " %d covariates, %s ties, loglik %f (null %f)%s", m->d,
                    m->ties == CL_COX_EFRON ? "efron" : "breslow", m->loglik, m->loglik0,
                    m->converged ? "" : ", NOT converged");
    return 1;
}

/* __repl: an aligned coefficient table */
static int cox_repl(lua_State *L)
{
    cl_cox *m = checkcox(L, 1);
    luaL_Buffer B;
    luaL_buffinit(L, &B);
    cox_tostring(L);
    luaL_addvalue(&B);
    luaL_addstring(&B, "\n");
    char line[256];
    snprintf(line, sizeof line, "%-24s %9s %9s %9s %9s %9s %10s\n", "covariate", "coef", "HR",
             "HR lo", "HR hi", "z", "p");
    luaL_addstring(&B, line);
    lua_getiuservalue(L, 1, 1);
    for (int k = 0; k < m->d; k++) {
        lua_rawgeti(L, -1, k + 1);
        snprintf(line, sizeof line, "%-24.24s %9.4f %9.4f %9.4f %9.4f %9.3f %10.3g\n",
                 lua_tostring(L, -1), m->beta[k], exp(m->beta[k]), m->lo[k], m->hi[k], m->z[k],
                 m->p[k]);
        lua_pop(L, 1);
        luaL_addstring(&B, line);
    }
    lua_pop(L, 1);
    luaL_pushresult(&B);
    return 1;
}

static const luaL_Reg funcs[] = {{"km", l_km},     {"km_by", l_km_by},
                                 {"logrank", l_logrank}, {"cox", l_cox},
                                 {NULL, NULL}};
static const luaL_Reg km_methods[] = {{"at", km_at}, {"median", km_median}, {"curve", km_curve},
                                      {NULL, NULL}};
static const luaL_Reg km_meta[] = {{"__gc", km_gc}, {"__close", km_gc}, {"__tostring", km_tostring},
                                   {NULL, NULL}};
static const luaL_Reg cox_methods[] = {{"summary", cox_summary}, {"predict", cox_predict},
                                       {NULL, NULL}};
static const luaL_Reg cox_meta[] = {{"__gc", cox_gc}, {"__close", cox_gc},
                                    {"__tostring", cox_tostring}, {"__repl", cox_repl},
                                    {NULL, NULL}};

static const struct {
    const char *name, *doc;
} docs[] = {
    {"km", "km(time, event, {conf = 0.95}) -> KaplanMeier: retention curve with Greenwood "
           "standard errors and log-log confidence bands; methods at(t), median(), curve()."},
    {"km_by", "km_by(time, event, group, {conf}) -> {label = KaplanMeier}, chi2, p: one curve "
              "per group and the log-rank test of equal retention."},
    {"logrank", "logrank(time, event, group) -> chi2, p, df: log-rank test across groups."},
    {"cox", "cox(X, time, event, {names, ties = 'efron'|'breslow', conf = 0.95}) -> Cox model: "
            "hazard ratios with confidence intervals (summary()), predict(X, {type = "
            "'risk'|'lp'})."},
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
                       "x2, ...)."},
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
    lua_pop(L, 2);
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
                      "cox:predict(X); the REPL shows its coefficient table.");
    lua_pop(L, 2);
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.survival: retention curves (Kaplan-Meier), log-rank tests, Cox proportional hazards.");
    for (int i = 0; docs[i].name; i++) {
        lua_getfield(L, -1, docs[i].name);
        lcl_setdoc(L, -1, docs[i].doc);
        lua_pop(L, 1);
    }
    return 1;
}
