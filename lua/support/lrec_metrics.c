/* lrec_metrics.c - ranking and rating metrics on Lua lists for churnlab.rec (and
 * churnlab.metrics): labels of any kind are coded densely, then evaluated by the core's
 * rankmetrics kernels. Split from l_rec.c to keep files small. */
#include "support/lrec_metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* ---- metrics on Lua lists -------------------------------------------------------------- */

/* Converts recommended lists and relevant lists (one user: lists of labels; several users:
 * lists of lists) to dense codes, then evaluates. Returns the mean over users with at least
 * one relevant item. which: 0 precision 1 recall 2 ap 3 ndcg 4 hit 5 rr */
static double list_metric(lua_State *L, int which)
{
    lua_settop(L, 3);
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_geti(L, 1, 1);
    int multi = lua_istable(L, -1);
    lua_pop(L, 1);
    if (!multi) {
        lua_geti(L, 2, 1);
        multi = lua_istable(L, -1);
        lua_pop(L, 1);
    }
    int nu = multi ? (int)luaL_len(L, 1) : 1;
    if (multi && (int)luaL_len(L, 2) != nu)
        luaL_error(L, "%d recommendation lists but %d relevant lists", nu, (int)luaL_len(L, 2));
    lua_newtable(L); /* label -> code */
    int codes = lua_gettop(L);
    int next = 0;
    double sum = 0;
    int users = 0;
    for (int u = 0; u < nu; u++) {
        int recl, rell;
        if (multi) {
            lua_geti(L, 1, u + 1);
            lua_geti(L, 2, u + 1);
            luaL_checktype(L, -2, LUA_TTABLE);
            luaL_checktype(L, -1, LUA_TTABLE);
            recl = lua_gettop(L) - 1;
            rell = lua_gettop(L);
        } else {
            recl = 1;
            rell = 2;
        }
        int nrec = (int)luaL_len(L, recl), nrel = (int)luaL_len(L, rell);
        int k = (int)luaL_optinteger(L, 3, nrec);
        luaL_argcheck(L, k >= 1, 3, "k must be >= 1");
        int32_t *rec = lua_newuserdatauv(L, (size_t)k * sizeof *rec + 1, 0);
        int32_t *rel = lua_newuserdatauv(L, (size_t)nrel * sizeof *rel + 1, 0);
        for (int pass = 0; pass < 2; pass++) {
            int src = pass ? recl : rell, cnt = pass ? k : nrel;
            for (int j = 0; j < cnt; j++) {
                int32_t code = -1;
                if (lua_geti(L, src, j + 1) != LUA_TNIL) {
                    lua_pushvalue(L, -1);
                    if (lua_gettable(L, codes) == LUA_TNIL) {
                        lua_pop(L, 1);
                        lua_pushvalue(L, -1);
                        lua_pushinteger(L, next);
                        lua_settable(L, codes);
                        code = next++;
                    } else {
                        code = (int32_t)lua_tointeger(L, -1);
                        lua_pop(L, 1);
                    }
                }
                lua_pop(L, 1);
                (pass ? rec : rel)[j] = code;
            }
        }
        qsort(rel, (size_t)nrel, sizeof *rel, cmp_i32);
        int nd = 0;
        for (int j = 0; j < nrel; j++)
            if (nd == 0 || rel[j] != rel[nd - 1])
                rel[nd++] = rel[j];
        if (nd > 0) {
            cl_rankmetrics_list l;
            cl_rankmetrics_list_eval(rec, k, rel, nd, &l);
            double v[6] = {l.precision, l.recall, l.ap, l.ndcg, l.hit, l.rr};
            sum += v[which];
            users++;
        }
        lua_pop(L, multi ? 4 : 2);
    }
    lua_pop(L, 1);
    return users ? sum / users : 0;
}

#define LIST_METRIC(fname, which)                                                            \
    static int fname(lua_State *L)                                                           \
    {                                                                                        \
        lua_pushnumber(L, list_metric(L, which));                                            \
        return 1;                                                                            \
    }
LIST_METRIC(m_precision, 0)
LIST_METRIC(m_recall, 1)
LIST_METRIC(m_map, 2)
LIST_METRIC(m_ndcg, 3)
LIST_METRIC(m_hit, 4)
LIST_METRIC(m_mrr, 5)

static double *numlist(lua_State *L, int idx, int64_t *n)
{
    cl_tensor *t = lcl_testtensor(L, idx);
    if (t) {
        *n = cl_tensor_numel(t);
        double *v = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *v, 0);
        for (int64_t k = 0; k < *n; k++)
            v[k] = t->ndim == 1 ? *cl_tensor_ptr(t, k, 0)
                                : *cl_tensor_ptr(t, k / t->shape[1], k % t->shape[1]);
        return v;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    *n = (int64_t)luaL_len(L, idx);
    double *v = lua_newuserdatauv(L, (size_t)(*n ? *n : 1) * sizeof *v, 0);
    for (int64_t k = 0; k < *n; k++) {
        lua_geti(L, idx, k + 1);
        int ok;
        v[k] = lua_tonumberx(L, -1, &ok);
        if (!ok)
            luaL_error(L, "element %d is not a number", (int)k + 1);
        lua_pop(L, 1);
    }
    return v;
}

static int rating_metric(lua_State *L, int mae)
{
    int64_t n1, n2;
    double *a = numlist(L, 1, &n1), *b = numlist(L, 2, &n2);
    if (n1 != n2)
        return luaL_error(L, "%s: %d predictions but %d truths", mae ? "mae" : "rmse", (int)n1,
                          (int)n2);
    double v;
    LCL_CHECK(L, (mae ? cl_rankmetrics_mae : cl_rankmetrics_rmse)(a, b, n1, &v));
    lua_pushnumber(L, v);
    return 1;
}
static int m_rmse(lua_State *L) { return rating_metric(L, 0); }
static int m_mae(lua_State *L) { return rating_metric(L, 1); }

/* coverage(lists, n_items) -> distinct recommended items / n_items */
static int m_coverage(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer ni = luaL_checkinteger(L, 2);
    luaL_argcheck(L, ni >= 1, 2, "n_items must be >= 1");
    lua_newtable(L);
    int set = lua_gettop(L), distinct = 0;
    for (int u = 1; u <= (int)luaL_len(L, 1); u++) {
        lua_geti(L, 1, u);
        luaL_checktype(L, -1, LUA_TTABLE);
        for (int j = 1; j <= (int)luaL_len(L, -1); j++) {
            lua_geti(L, -1, j);
            lua_pushvalue(L, -1);
            if (lua_gettable(L, set) == LUA_TNIL) {
                distinct++;
                lua_pushvalue(L, -2);
                lua_pushboolean(L, 1);
                lua_settable(L, set);
            }
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    }
    lua_pushnumber(L, (double)distinct / (double)ni);
    return 1;
}

/* novelty(lists, popularity, n_users): mean -log2(max(pop[item], 1) / n_users) */
static int m_novelty(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Number nu = luaL_checknumber(L, 3);
    luaL_argcheck(L, nu >= 1, 3, "n_users must be >= 1");
    double sum = 0;
    int64_t cnt = 0;
    for (int u = 1; u <= (int)luaL_len(L, 1); u++) {
        lua_geti(L, 1, u);
        luaL_checktype(L, -1, LUA_TTABLE);
        for (int j = 1; j <= (int)luaL_len(L, -1); j++) {
            lua_geti(L, -1, j);
            lua_gettable(L, 2);
            double c = lua_tonumber(L, -1);
            lua_pop(L, 1);
            sum += -log2((c > 1 ? c : 1) / nu);
            cnt++;
        }
        lua_pop(L, 1);
    }
    lua_pushnumber(L, cnt ? sum / (double)cnt : 0);
    return 1;
}

static const luaL_Reg metric_funcs[] = {
    {"precision_at_k", m_precision}, {"recall_at_k", m_recall}, {"map_at_k", m_map},
    {"ndcg_at_k", m_ndcg},           {"hit_rate_at_k", m_hit},  {"mrr", m_mrr},
    {"coverage", m_coverage},        {"novelty", m_novelty},    {"rmse", m_rmse},
    {"mae", m_mae},                  {NULL, NULL}};

static const lcl_doc metric_docs[] = {
    {"precision_at_k", "precision_at_k(recommended, relevant[, k]) -> mean hits/k over users "
                       "(lists of labels, or lists of such lists, one per user)"},
    {"recall_at_k", "recall_at_k(recommended, relevant[, k]) -> mean hits/|relevant|"},
    {"map_at_k", "map_at_k(recommended, relevant[, k]) -> mean average precision, AP "
                 "normalised by min(k, |relevant|)"},
    {"ndcg_at_k", "ndcg_at_k(recommended, relevant[, k]) -> mean NDCG with binary gains"},
    {"hit_rate_at_k", "hit_rate_at_k(recommended, relevant[, k]) -> share of users with a hit"},
    {"mrr", "mrr(recommended, relevant[, k]) -> mean reciprocal rank of the first hit"},
    {"coverage", "coverage(lists, n_items) -> distinct recommended items / n_items"},
    {"novelty", "novelty(lists, counts, n_users) -> mean -log2(count/n_users) of recommended "
                "items (counts: item -> users who interacted)"},
    {"rmse", "rmse(pred, truth) -> root mean squared error (lists or tensors)"},
    {"mae", "mae(pred, truth) -> mean absolute error (lists or tensors)"},
    {NULL, NULL}};

void lrec_push_metrics(lua_State *L)
{
    luaL_newlib(L, metric_funcs);
    lcl_setdocs(L, -1, metric_docs);
}
