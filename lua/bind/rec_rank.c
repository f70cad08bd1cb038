/* rec_rank.c - queries on a fitted churnlab.Recommender: recommend (for a user, every user or a
 * fresh history), scores, similar items, explanations, rating predictions. Part of the module
 * churnlab.rec (lua/bind/rec.c registers it). */
#include "bind/rec_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Index of a user label, or -1 when unknown. */
static int64_t user_index(lua_State *L, const cl_rec *r, int idx)
{
    char buf[64];
    const char *label = lrec_checklabel(L, idx, buf, sizeof buf, "user");
    return cl_interactions_idmap_find(r->train->users, label);
}

static int64_t item_index(lua_State *L, const cl_rec *r, int idx)
{
    char buf[64];
    const char *label = lrec_checklabel(L, idx, buf, sizeof buf, "item");
    return cl_interactions_idmap_find(r->train->items, label);
}

static int checkk(lua_State *L, int idx, int def)
{
    lua_Integer k = luaL_optinteger(L, idx, def);
    luaL_argcheck(L, k >= 1 && k <= 1000000, idx, "k must be in [1, 1000000]");
    return (int)k;
}

/* Pushes ranked labels and scores, applying an optional filter(label, score) -> bool.
 * The filter is Lua code and may refit or free r (or the matrix it was fitted on), so the
 * training matrix is pinned first (a reference held by a box on the stack, dropped by the
 * GC even when the filter raises) and r is not touched again: the ranking is the one of the
 * model as it was when recommend was called. ex points into that matrix or into Lua memory
 * held by the caller. */
static int rank_and_push(lua_State *L, const cl_rec *r, const float *s, int k,
                         const int32_t *ex, int64_t nex, int filter)
{
    lcl_box *pin = lcl_newbox(L, INTER);
    const cl_interactions *train = pin->obj = cl_interactions_retain(r->train);
    r = NULL;
    int64_t ni = train->n_items;
    int kk = filter ? (int)(ni < 4 * (int64_t)k + 100 ? ni : 4 * (int64_t)k + 100) : k;
    if (kk > ni)
        kk = (int)ni;
    if (kk < 1)
        kk = 1;
    for (;;) {
        int32_t *it = lua_newuserdatauv(L, (size_t)kk * sizeof *it, 0);
        float *sc = lua_newuserdatauv(L, (size_t)kk * sizeof *sc, 0);
        int got;
        cl_rec_topk(s, ni, kk, ex, nex, it, sc, &got);
        lua_createtable(L, k, 0);
        lua_createtable(L, k, 0);
        int out = 0;
        for (int j = 0; j < got && out < k; j++) {
            if (filter) {
                lua_pushvalue(L, filter);
                lrec_pushlabel(L, train->items, it[j]);
                lua_pushnumber(L, sc[j]);
                lua_call(L, 2, 1);
                int keep = lua_toboolean(L, -1);
                lua_pop(L, 1);
                if (!keep)
                    continue;
            }
            out++;
            lrec_pushlabel(L, train->items, it[j]);
            lua_rawseti(L, -3, out);
            lua_pushnumber(L, sc[j]);
            lua_rawseti(L, -2, out);
        }
        if (out == k || !filter || kk >= ni || got < kk) {
            lua_remove(L, -3);
            lua_remove(L, -3);
            lua_remove(L, -3); /* the pin */
            return 2;
        }
        lua_pop(L, 4);
        kk = (int)ni; /* the filter rejected too many: rank everything */
    }
}

static int getfilter(lua_State *L, int opts)
{
    if (!opts)
        return 0;
    lua_getfield(L, opts, "filter");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    luaL_checktype(L, -1, LUA_TFUNCTION);
    return lua_gettop(L);
}

/* The cold-start flag returned after the lists: "popular" when popularity answered for an
 * empty history (see CL_REC_ANSWER_* in rec.h), nil when the model did. */
static void push_answer(lua_State *L, int answer)
{
    if (answer == CL_REC_ANSWER_POPULAR)
        lua_pushliteral(L, "popular");
    else
        lua_pushnil(L);
}

/* The `candidates` option (a list of item labels): only those items are ranked, every
 * other score becomes NaN (cl_rec_topk skips NaN). An item the model does not know is an
 * error naming it, so a typo is not silently dropped from the answer. */
static void apply_candidates(lua_State *L, const cl_rec *r, int opts, const char *fn, float *s)
{
    if (!opts)
        return;
    lua_getfield(L, opts, "candidates");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "%s: candidates must be a list of items, got %s", fn, luaL_typename(L, -1));
    int c = lua_gettop(L);
    int64_t ni = r->train->n_items;
    unsigned char *keep = lua_newuserdatauv(L, (size_t)(ni ? ni : 1), 0);
    memset(keep, 0, (size_t)ni);
    lua_Integer n = luaL_len(L, c);
    for (lua_Integer j = 1; j <= n; j++) {
        lua_geti(L, c, j);
        int64_t i = item_index(L, r, lua_gettop(L));
        if (i < 0)
            luaL_error(L, "%s: candidate %d (%s) is not an item of the model", fn, (int)j,
                       luaL_tolstring(L, -1, NULL));
        keep[i] = 1;
        lua_pop(L, 1);
    }
    for (int64_t i = 0; i < ni; i++)
        if (!keep[i])
            s[i] = NAN;
    lua_pop(L, 2);
}

/* m:recommend(user, k, {exclude_seen = true, filter = fn}) -> items, scores, fallback. An
 * unknown user is recommended for from an empty history: popularity (cold start). */
static int rec_recommend(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "recommend");
    int k = checkk(L, 3, 10);
    static const char *const known[] = {"exclude_seen", "filter", "candidates", NULL};
    int opts = lcl_check_options(L, 4, "recommend", known);
    int excl = lcl_optbool(L, opts, "exclude_seen", 1);
    int filter = getfilter(L, opts);
    int64_t u = user_index(L, r, 2);
    int64_t ni = r->train->n_items;
    float *s = lua_newuserdatauv(L, (size_t)ni * sizeof *s, 0);
    int answer;
    int rc = u >= 0 ? cl_rec_scores_ex(r, u, s, &answer)
                    : cl_rec_scores_history_ex(r, 0, NULL, NULL, s, &answer);
    if (rc)
        return lcl_raise(L, rc);
    apply_candidates(L, r, opts, "recommend", s);
    const cl_interactions *m = r->train;
    int64_t a = u >= 0 ? m->indptr[u] : 0, nex = u >= 0 && excl ? m->indptr[u + 1] - a : 0;
    rank_and_push(L, r, s, k, m->indices + a, nex, filter);
    push_answer(L, answer);
    return 3;
}

/* m:recommend_all(k, {exclude_seen = true}) -> {user = {items}} , {user = {scores}} */
static int rec_recommend_all(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "recommend_all");
    int k = checkk(L, 2, 10);
    static const char *const known[] = {"exclude_seen", "verbose", NULL};
    int opts = lcl_check_options(L, 3, "recommend_all", known);
    int excl = lcl_optbool(L, opts, "exclude_seen", 1);
    const cl_interactions *m = r->train;
    size_t n = (size_t)m->n_users * (size_t)k;
    int32_t *it = lua_newuserdatauv(L, n * sizeof *it + 1, 0);
    float *sc = lua_newuserdatauv(L, n * sizeof *sc + 1, 0);
    cl_progress *p = lcl_progress_new(L, opts);
    int rc = cl_rec_recommend_all(r, k, excl, it, sc, p);
    lcl_progress_end(p); /* close the bar now: after an early stop, an error or Ctrl-C too */
    lua_pop(L, 1);
    if (rc)
        return lcl_raise(L, rc);
    lua_createtable(L, 0, (int)m->n_users);
    lua_createtable(L, 0, (int)m->n_users);
    for (int64_t u = 0; u < m->n_users; u++) {
        lrec_pushlabel(L, m->users, u);
        lua_createtable(L, k, 0);
        lrec_pushlabel(L, m->users, u);
        lua_createtable(L, k, 0);
        for (int j = 0; j < k && it[u * k + j] >= 0; j++) {
            lrec_pushlabel(L, m->items, it[u * k + j]);
            lua_rawseti(L, -4, j + 1);
            lua_pushnumber(L, sc[u * k + j]);
            lua_rawseti(L, -2, j + 1);
        }
        lua_settable(L, -5);
        lua_settable(L, -4);
    }
    return 2;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* m:recommend_for(history, k, {exclude_seen = true, filter = fn}) -> items, scores, unknown */
static int rec_recommend_for(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "recommend_for");
    int k = checkk(L, 3, 10);
    static const char *const known[] = {"exclude_seen", "filter", "candidates", NULL};
    int opts = lcl_check_options(L, 4, "recommend_for", known);
    int excl = lcl_optbool(L, opts, "exclude_seen", 1);
    int filter = getfilter(L, opts);
    int32_t *items;
    float *values;
    int64_t unknown;
    int64_t n = lrec_read_history(L, r, 2, &items, &values, &unknown, "recommend_for");
    int64_t ni = r->train->n_items;
    float *s = lua_newuserdatauv(L, (size_t)ni * sizeof *s, 0);
    int answer;
    LCL_CHECK(L, cl_rec_scores_history_ex(r, n, items, values, s, &answer));
    apply_candidates(L, r, opts, "recommend_for", s);
    int32_t *ex = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *ex, 0);
    memcpy(ex, items, (size_t)n * sizeof *ex);
    qsort(ex, (size_t)n, sizeof *ex, cmp_i32);
    rank_and_push(L, r, s, k, ex, excl ? n : 0, filter);
    lua_pushinteger(L, (lua_Integer)unknown);
    push_answer(L, answer);
    return 4;
}

/* m:score(user, {items}) -> {scores} (nil for unknown items) */
static int rec_score(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "score");
    luaL_checktype(L, 3, LUA_TTABLE);
    int64_t u = user_index(L, r, 2);
    int64_t ni = r->train->n_items;
    float *s = lua_newuserdatauv(L, (size_t)ni * sizeof *s, 0);
    LCL_CHECK(L, u >= 0 ? cl_rec_scores(r, u, s) : cl_rec_scores_history(r, 0, NULL, NULL, s));
    int n = (int)luaL_len(L, 3);
    lua_createtable(L, n, 0);
    for (int k = 0; k < n; k++) {
        lua_geti(L, 3, k + 1);
        char buf[64];
        const char *lab = lrec_tolabel(L, -1, buf, sizeof buf);
        int64_t i = lab ? cl_interactions_idmap_find(r->train->items, lab) : -1;
        lua_pop(L, 1);
        if (i >= 0)
            lua_pushnumber(L, s[i]);
        else
            lua_pushnil(L);
        lua_rawseti(L, -2, k + 1);
    }
    return 1;
}

/* Pushes the lists of item labels and scores of a ranking of got items: 2 results. */
static int push_ranked(lua_State *L, const cl_rec *r, const int32_t *it, const float *sc, int got)
{
    lua_createtable(L, got, 0);
    lua_createtable(L, got, 0);
    for (int j = 0; j < got; j++) {
        lrec_pushlabel(L, r->train->items, it[j]);
        lua_rawseti(L, -3, j + 1);
        lua_pushnumber(L, sc[j]);
        lua_rawseti(L, -2, j + 1);
    }
    return 2;
}

/* m:similar_items(item, k) -> items, scores */
static int rec_similar(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "similar_items");
    int k = checkk(L, 3, 10);
    int64_t i = item_index(L, r, 2);
    if (i < 0)
        return luaL_argerror(L, 2, "unknown item");
    int32_t *it = lua_newuserdatauv(L, (size_t)k * sizeof *it, 0);
    float *sc = lua_newuserdatauv(L, (size_t)k * sizeof *sc, 0);
    int got;
    LCL_CHECK(L, cl_rec_similar(r, (int32_t)i, k, it, sc, &got));
    return push_ranked(L, r, it, sc, got);
}

/* m:explain(user or history, item[, k = 3]) -> items, similarities: "because you watched
 * ...", the k items of the user's training history (or of a given list of items) most
 * similar to item by the model's own item similarity. An unknown user has no history: empty
 * lists. */
static int rec_explain(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "explain");
    lua_settop(L, 4);
    int k = checkk(L, 4, 3);
    int64_t i = item_index(L, r, 3);
    if (i < 0)
        return luaL_argerror(L, 3, "unknown item");
    int32_t *hist = NULL;
    int64_t n = 0;
    if (lua_istable(L, 2)) {
        float *values;
        int64_t unknown;
        n = lrec_read_history(L, r, 2, &hist, &values, &unknown, "explain");
    } else {
        int64_t u = user_index(L, r, 2);
        const cl_interactions *m = r->train;
        if (u >= 0)
            hist = m->indices + m->indptr[u], n = m->indptr[u + 1] - m->indptr[u];
    }
    int32_t *it = lua_newuserdatauv(L, (size_t)k * sizeof *it, 0);
    float *sc = lua_newuserdatauv(L, (size_t)k * sizeof *sc, 0);
    int got;
    LCL_CHECK(L, cl_rec_explain(r, (int32_t)i, n, hist, k, it, sc, &got));
    return push_ranked(L, r, it, sc, got);
}

/* m:similar_users(user, k) -> users, similarities, because: the k users whose training rows
 * are most like the user's (cosine), and for each the (up to 3) shared items that make them
 * most alike ("you both watched ..."). Model-independent (rec/similar_users.h). */
static int rec_similar_users(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "similar_users");
    int k = checkk(L, 3, 10);
    int64_t u = user_index(L, r, 2);
    if (u < 0)
        return luaL_argerror(L, 2, "unknown user");
    const cl_interactions *m = r->train;
    int32_t *us = lua_newuserdatauv(L, (size_t)k * sizeof *us, 0);
    float *sc = lua_newuserdatauv(L, (size_t)k * sizeof *sc, 0);
    int got;
    LCL_CHECK(L, cl_similar_users_topk(m, u, k, us, sc, &got));
    lua_createtable(L, got, 0);
    lua_createtable(L, got, 0);
    lua_createtable(L, got, 0);
    for (int j = 0; j < got; j++) {
        lrec_pushlabel(L, m->users, us[j]);
        lua_rawseti(L, -4, j + 1);
        lua_pushnumber(L, sc[j]);
        lua_rawseti(L, -3, j + 1);
        int32_t why[3];
        float c[3];
        int nw;
        LCL_CHECK(L, cl_similar_users_explain(m, u, us[j], 3, why, c, &nw));
        lua_createtable(L, nw, 0);
        for (int w = 0; w < nw; w++) {
            lrec_pushlabel(L, m->items, why[w]);
            lua_rawseti(L, -2, w + 1);
        }
        lua_rawseti(L, -2, j + 1);
    }
    return 3;
}

/* m:predict_rating(user, item) -> rating (mf); unknown users/items fall back to biases. */
static int rec_predict_rating(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "predict_rating");
    int64_t u = user_index(L, r, 2), i = item_index(L, r, 3);
    double v;
    LCL_CHECK(L, cl_cf_mf_predict(r, u, i, &v));
    lua_pushnumber(L, v);
    return 1;
}

/* m:predict_ratings({users = ..., items = ...[, times = ...]}) or (df, {user = "col", item =
 * "col"[, time = "col"]}) -> tensor of predictions (mf; times matter with time = true). */
static int rec_predict_ratings(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "predict_ratings");
    static const char *const known[] = {"user", "item", "value", "time", NULL};
    int opts = lcl_check_options(L, 3, "predict_ratings", known);
    lrec_column cu, ci, cv, ct;
    lrec_getcolumns(L, 2, opts, &cu, &ci, &cv, &ct);
    if (cu.n != ci.n)
        return luaL_error(L, "predict_ratings: %d users but %d items", (int)cu.n, (int)ci.n);
    if (ct.idx && ct.n != cu.n)
        return luaL_error(L, "predict_ratings: %d users but %d times", (int)cu.n, (int)ct.n);
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 1, cu.n, 1));
    lcl_pushtensor(L, t);
    float *out = cl_tensor_data(t);
    for (int64_t k = 0; k < cu.n; k++) {
        char b1[64], b2[64];
        lrec_colpush(L, &cu, k);
        lrec_colpush(L, &ci, k);
        const char *ul = lrec_tolabel(L, -2, b1, sizeof b1);
        const char *il = lrec_tolabel(L, -1, b2, sizeof b2);
        int64_t u = ul ? cl_interactions_idmap_find(r->train->users, ul) : -1;
        int64_t i = il ? cl_interactions_idmap_find(r->train->items, il) : -1;
        lua_pop(L, 2);
        double v, when = NAN; /* the rating's time: used by a model fitted with time = true */
        if (ct.idx) {
            lrec_colpush(L, &ct, k);
            if (!lua_isnil(L, -1) && !lua_isnumber(L, -1))
                return luaL_error(L, "predict_ratings: time %d must be a number, got %s",
                                  (int)k + 1, luaL_typename(L, -1));
            when = lua_isnil(L, -1) ? NAN : lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
        LCL_CHECK(L, cl_cf_mf_predict_at(r, u, i, when, &v));
        out[k] = (float)v;
    }
    return 1;
}

/* ---- registration (lua/bind/rec.c) ----------------------------------------------------- */

const luaL_Reg lrec_rank_methods[] = {
    {"recommend", rec_recommend},
    {"recommend_all", rec_recommend_all},
    {"recommend_for", rec_recommend_for},
    {"score", rec_score},
    {"similar_items", rec_similar},
    {"similar_users", rec_similar_users},
    {"explain", rec_explain},
    {"predict_rating", rec_predict_rating},
    {"predict_ratings", rec_predict_ratings},
    {NULL, NULL}};
