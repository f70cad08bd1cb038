/* measure.c - module churnlab.measure: Qini/uplift curves for campaign evaluation and the
 * population stability index for model monitoring. */
#include "support/lcl.h"

#include "eval/drift.h"
#include "base/stats.h"
#include "eval/uplift.h"

static float *to_float(lua_State *L, const double *v, int64_t n)
{
    float *f = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *f, 0);
    for (int64_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    return f;
}

static void push_list(lua_State *L, const double *v, int64_t n, const char *name)
{
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, name);
}

/* qini(stayed, treated, score) -> {x, qini, uplift, coefficient} */
static int l_qini(lua_State *L)
{
    lua_settop(L, 3);
    int64_t n, nt, ns;
    double *y = lcl_checkvec(L, 1, &n), *t = lcl_checkvec(L, 2, &nt), *s = lcl_checkvec(L, 3, &ns);
    if (nt != n || ns != n)
        return luaL_error(L, "qini: outcome, treatment and score must have the same length (%d, %d, %d)",
                          (int)n, (int)nt, (int)ns);
    float *yf = to_float(L, y, n), *tf = to_float(L, t, n), *sf = to_float(L, s, n);
    cl_qini *q;
    LCL_CHECK(L, cl_uplift_qini_curve(&q, yf, tf, sf, n));
    lua_createtable(L, 0, 4);
    push_list(L, q->x, q->m, "x");
    push_list(L, q->qini, q->m, "qini");
    push_list(L, q->uplift, q->m, "uplift");
    lua_pushnumber(L, q->coefficient);
    lua_setfield(L, -2, "coefficient");
    lua_pushnumber(L, q->qini_auc);
    lua_setfield(L, -2, "qini_auc");
    lua_pushnumber(L, q->uplift_auc);
    lua_setfield(L, -2, "uplift_auc");
    lua_pushinteger(L, n);
    lua_setfield(L, -2, "n");
    cl_uplift_qini_free(q);
    return 1;
}

/* psi(reference, later, {bins = 10}) -> psi */
static int l_psi(lua_State *L)
{
    lua_settop(L, 3);
    static const char *const known[] = {"bins", NULL};
    lcl_check_options(L, 3, "psi", known);
    int bins = (int)lcl_optnum(L, 3, "bins", 10);
    int64_t ne, na;
    double *e = lcl_checkvec(L, 1, &ne), *a = lcl_checkvec(L, 2, &na);
    double psi;
    LCL_CHECK(L, cl_drift_psi(e, ne, a, na, bins, &psi));
    lua_pushnumber(L, psi);
    return 1;
}

static int l_norm_ppf(lua_State *L)
{
    lua_pushnumber(L, cl_stats_norm_ppf(luaL_checknumber(L, 1)));
    return 1;
}

static int l_chi2_sf(lua_State *L)
{
    lua_pushnumber(L, cl_stats_chi2_sf(luaL_checknumber(L, 1), luaL_checknumber(L, 2)));
    return 1;
}

static const luaL_Reg funcs[] = {{"qini", l_qini},         {"psi", l_psi},
                                 {"norm_ppf", l_norm_ppf}, {"chi2_sf", l_chi2_sf},
                                 {NULL, NULL}};

int luaopen_churnlab_measure(lua_State *L);
int luaopen_churnlab_measure(lua_State *L)
{
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.measure: Qini and uplift curves of retention campaigns, and the "
                      "population stability index for monitoring drift.");
    lua_getfield(L, -1, "qini");
    lcl_setdoc(L, -1, "qini(stayed, treated, score) -> {x, qini, uplift, coefficient, qini_auc, "
                      "uplift_auc}: customers ranked by predicted uplift; Radcliffe's Qini curve, "
                      "the area between it and random targeting (per customer), and "
                      "scikit-uplift's normalised areas (qini_auc_score, uplift_auc_score: 1 = "
                      "perfect ranking, 0 = random).");
    lua_pop(L, 1);
    lua_getfield(L, -1, "psi");
    lcl_setdoc(L, -1, "psi(reference, later, {bins = 10}) -> population stability index over the "
                      "reference's quantile bins: < 0.1 stable, 0.1-0.25 moderate, > 0.25 major "
                      "shift.");
    lua_pop(L, 1);
    lua_getfield(L, -1, "norm_ppf");
    lcl_setdoc(L, -1, "norm_ppf(p) -> z: the standard normal quantile (norm_ppf(0.975) = 1.96); "
                      "NaN unless 0 < p < 1.");
    lua_pop(L, 1);
    lua_getfield(L, -1, "chi2_sf");
    lcl_setdoc(L, -1, "chi2_sf(x, df) -> P(X > x) for a chi-square variable with df degrees of "
                      "freedom: the p-value of a chi-square statistic (chi2_sf(3.84, 1) = 0.05).");
    lua_pop(L, 1);
    return 1;
}
