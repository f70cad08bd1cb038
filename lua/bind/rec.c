/* rec.c - module churnlab.rec: interaction matrices, recommenders, ranking metrics.
 *
 *   local inter = cl.rec.interactions{users = {...}, items = {...}, values = {...}}
 *   local train, test = inter:split{test = 0.2, seed = 1}
 *   local m = cl.rec.als{factors = 64}:fit(train)
 *   local items, scores = m:recommend(user, 10)
 *   print(cl.rec.evaluate(m, test, {k = 10}).ndcg)
 *
 * Labels: users and items keep the labels they were given (integers or strings); results
 * use the same labels. Two types: churnlab.Interactions and churnlab.Recommender (every
 * kind). The ranking metrics are also installed into churnlab.metrics when it exists.
 */
#include "support/lcl.h"
#include "support/lrec_metrics.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INTER "churnlab.Interactions"
#define REC "churnlab.Recommender"

/* ---- labels ---------------------------------------------------------------------------- */

/* Label of the value at idx (integer, integral float or string) into buf; NULL if neither. */
static const char *tolabel(lua_State *L, int idx, char *buf, size_t cap)
{
    int t = lua_type(L, idx);
    if (t == LUA_TNUMBER) {
        if (lua_isinteger(L, idx)) {
            snprintf(buf, cap, "%lld", (long long)lua_tointeger(L, idx));
            return buf;
        }
        double v = lua_tonumber(L, idx);
        if (v == floor(v) && fabs(v) < 9e15) {
            snprintf(buf, cap, "%lld", (long long)v);
            return buf;
        }
        return NULL;
    }
    if (t == LUA_TSTRING)
        return lua_tostring(L, idx);
    return NULL;
}

static const char *checklabel(lua_State *L, int idx, char *buf, size_t cap, const char *what)
{
    const char *s = tolabel(L, idx, buf, cap);
    if (!s)
        luaL_argerror(L, idx,
                      lua_pushfstring(L, "%s label must be an integer or a string, got %s", what,
                                      luaL_typename(L, idx)));
    return s;
}

static void pushlabel(lua_State *L, const cl_idmap *m, int64_t i)
{
    if (m->numeric)
        lua_pushinteger(L, (lua_Integer)strtoll(m->labels[i], NULL, 10));
    else
        lua_pushstring(L, m->labels[i]);
}

/* ---- columns: a Lua sequence or a 1-D tensor ------------------------------------------- */

#define FRAME "churnlab.Frame"

typedef struct column {
    int idx;          /* stack index, 0 = absent */
    cl_tensor *t;     /* when a tensor */
    const cl_column *fc; /* when a frame column (borrowed from the frame at idx) */
    int64_t n;
    const char *name;
} column;

/* Column named by opts[key] of the frame at fidx (key absent: none, or an error when
 * required). */
static void framecolumn(lua_State *L, int fidx, int opts, const char *key, column *c,
                        int required)
{
    c->idx = 0, c->t = NULL, c->fc = NULL, c->n = 0, c->name = key;
    const cl_frame *f = lcl_checkobj(L, fidx, FRAME);
    const char *name = lcl_optstr(L, opts, key, NULL);
    if (!name) {
        if (required)
            luaL_error(L, "interactions: option '%s' must name the frame's %s column", key, key);
        return;
    }
    int ci;
    if (cl_frame_col(f, name, &ci))
        lcl_raise(L, CL_EINVAL);
    c->fc = f->cols[ci];
    c->n = f->nrow;
    c->idx = fidx;
    c->name = name;
}

static void getcolumn(lua_State *L, int tbl, const char *key, column *c, int required)
{
    c->idx = 0;
    c->t = NULL;
    c->fc = NULL;
    c->n = 0;
    c->name = key;
    int ty = lua_getfield(L, tbl, key);
    if (ty == LUA_TNIL) {
        lua_pop(L, 1);
        if (required)
            luaL_error(L, "interactions: field '%s' is required", key);
        return;
    }
    c->idx = lua_gettop(L);
    if (ty == LUA_TTABLE) {
        c->n = (int64_t)luaL_len(L, c->idx);
    } else if ((c->t = lcl_testtensor(L, c->idx)) != NULL) {
        c->n = cl_tensor_numel(c->t);
    } else {
        luaL_error(L, "interactions: field '%s' must be a list or a tensor, got %s", key,
                   luaL_typename(L, c->idx));
    }
}

/* Pushes element k (0-based) of the column. */
static void colpush(lua_State *L, const column *c, int64_t k)
{
    if (c->fc) {
        if (cl_frame_column_isna_at(c->fc, k))
            lua_pushnil(L);
        else if (c->fc->type == CL_CAT)
            lua_pushstring(L, cl_frame_column_label(c->fc, k));
        else
            lua_pushnumber(L, c->fc->num[k]);
    } else if (c->t) {
        float v;
        cl_tensor_get(c->t, c->t->ndim == 1 || c->t->shape[1] == 1 ? k : k / c->t->shape[1],
                      c->t->ndim == 1 || c->t->shape[1] == 1 ? 0 : k % c->t->shape[1], &v);
        lua_pushnumber(L, v);
    } else {
        lua_geti(L, c->idx, k + 1);
    }
}

static double colnum(lua_State *L, const column *c, int64_t k)
{
    colpush(L, c, k);
    int ok;
    double v = lua_tonumberx(L, -1, &ok);
    if (!ok && c->fc)
        luaL_error(L, "interactions: column '%s', row %d: expected a number, got %s", c->name,
                   (int)(k + 1), lua_isnil(L, -1) ? "a missing value" : "a category");
    if (!ok)
        luaL_error(L, "interactions: '%s'[%d] must be a number, got %s", c->name, (int)(k + 1),
                   luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

/* ---- churnlab.Interactions ------------------------------------------------------------- */

static cl_interactions *checkinter(lua_State *L, int idx)
{
    return lcl_checkobj(L, idx, INTER);
}

static int pushinter(lua_State *L, cl_interactions *m)
{
    lcl_box *b = lcl_newbox(L, INTER);
    b->obj = m;
    lcl_gc_check(L);
    return 1;
}

static int idmap_guard_gc(lua_State *L)
{
    cl_idmap **g = lua_touserdata(L, 1);
    cl_interactions_idmap_free(g[0]);
    cl_interactions_idmap_free(g[1]);
    g[0] = g[1] = NULL;
    return 0;
}

/* Ids of a frame column without the Lua stack: cat codes and small non-negative integer ids
 * are looked up once each (a code or value cache), so millions of rows map quickly. out[k]
 * is the index, or -1 when `add` is 0 and the label is unknown. */
static int fast_ids(const column *c, cl_idmap *m, int add, int64_t *out)
{
    const cl_column *fc = c->fc;
    int64_t n = c->n, ncache = 0;
    int rc = CL_OK;
    if (fc->type == CL_CAT) {
        ncache = fc->dict->n;
    } else {
        double lo = INFINITY, hi = -INFINITY;
        for (int64_t k = 0; k < n; k++) {
            double v = fc->num[k];
            if (isnan(v))
                return cl_error(CL_EINVAL, "interactions: column '%s', row %lld: missing id",
                                c->name, (long long)k + 1);
            if (v != floor(v) || fabs(v) > 9e15)
                return cl_error(CL_EINVAL, "interactions: column '%s', row %lld: id %g is not "
                                           "an integer",
                                c->name, (long long)k + 1, v);
            lo = v < lo ? v : lo;
            hi = v > hi ? v : hi;
        }
        if (n > 0 && lo >= 0 && hi < (double)(1 << 26))
            ncache = (int64_t)hi + 1;
    }
    int64_t *cache = ncache ? cl_alloc((size_t)ncache * sizeof *cache) : NULL;
    if (ncache && !cache)
        return CL_ENOMEM;
    for (int64_t k = 0; k < ncache; k++)
        cache[k] = -2;
    char buf[64];
    for (int64_t k = 0; k < n && rc == CL_OK; k++) {
        int64_t key = -1;
        const char *lab;
        if (fc->type == CL_CAT) {
            key = fc->codes[k];
            if (key < 0) {
                rc = cl_error(CL_EINVAL, "interactions: column '%s', row %lld: missing id",
                              c->name, (long long)k + 1);
                break;
            }
            lab = fc->dict->labels[key];
        } else {
            if (cache)
                key = (int64_t)fc->num[k];
            snprintf(buf, sizeof buf, "%lld", (long long)fc->num[k]);
            lab = buf;
        }
        if (key >= 0 && cache && cache[key] != -2) {
            out[k] = cache[key];
            continue;
        }
        if (add)
            rc = cl_interactions_idmap_add(m, lab, &out[k]);
        else
            out[k] = cl_interactions_idmap_find(m, lab);
        if (key >= 0 && cache)
            cache[key] = out[k];
    }
    cl_alloc_free(cache);
    return rc;
}

/* Reads the four columns from a table of lists/tensors or from a frame (opts user=, item=,
 * value=, time= name its columns). */
static void getcolumns(lua_State *L, int src, int opts, column *cu, column *ci, column *cv,
                       column *ct)
{
    if (lcl_testbox(L, src, FRAME)) {
        framecolumn(L, src, opts, "user", cu, 1);
        framecolumn(L, src, opts, "item", ci, 1);
        framecolumn(L, src, opts, "value", cv, 0);
        framecolumn(L, src, opts, "time", ct, 0);
        return;
    }
    if (!lua_istable(L, src))
        luaL_argerror(L, src, lua_pushfstring(L, "churnlab.Frame or table expected, got %s",
                                              luaL_typename(L, src)));
    getcolumn(L, src, "users", cu, 1);
    getcolumn(L, src, "items", ci, 1);
    getcolumn(L, src, "values", cv, 0);
    getcolumn(L, src, "times", ct, 0);
}

/* interactions(src, opts): src is {users=, items=, values=, times=} (lists or tensors) or a
 * frame with opts user=, item=, value=, time= naming its columns; opts: dup = "sum"|"last",
 * base = interactions whose id maps are reused (entries with unknown users or items are
 * dropped and counted: second result). */
static int l_interactions(lua_State *L)
{
    static const char *const known[] = {"user", "item", "value", "time", "dup", "base", NULL};
    int opts = lcl_check_options(L, 2, "interactions", known);
    const char *dups = lcl_optstr(L, opts, "dup", "sum");
    cl_dup_mode dup;
    if (strcmp(dups, "sum") == 0)
        dup = CL_DUP_SUM;
    else if (strcmp(dups, "last") == 0)
        dup = CL_DUP_LAST;
    else
        return luaL_error(L, "interactions: option 'dup' must be \"sum\" or \"last\", got \"%s\"",
                          dups);
    cl_interactions *base = NULL;
    if (opts) {
        lua_getfield(L, opts, "base");
        if (!lua_isnil(L, -1))
            base = lcl_checkobj(L, lua_gettop(L), INTER);
        lua_pop(L, 1);
    }
    column cu, ci, cv, ct;
    getcolumns(L, 1, opts, &cu, &ci, &cv, &ct);
    int64_t n = cu.n;
    if (ci.n != n || (cv.idx && cv.n != n) || (ct.idx && ct.n != n))
        return luaL_error(L, "interactions: users, items, values and times must have the same "
                             "length (got %d users, %d items)",
                          (int)cu.n, (int)ci.n);
    /* Temporaries live in one userdata so a Lua error frees them. */
    size_t per = 2 * sizeof(int64_t) + sizeof(float) + sizeof(double);
    char *tmp = lua_newuserdatauv(L, (size_t)(n ? n : 1) * per, 0);
    int64_t *u = (int64_t *)tmp, *it = u + (n ? n : 1);
    double *tm = (double *)(it + (n ? n : 1));
    float *vals = (float *)(tm + (n ? n : 1));
    /* The id maps live in a guard userdata: a Lua error raised while reading the columns
     * (a bad value) then frees them with the guard. */
    cl_idmap **guard = lua_newuserdatauv(L, 2 * sizeof *guard, 0);
    guard[0] = guard[1] = NULL;
    if (luaL_newmetatable(L, "churnlab.IdmapGuard")) {
        lua_pushcfunction(L, idmap_guard_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    if (base) {
        guard[0] = cl_interactions_idmap_retain(base->users);
        guard[1] = cl_interactions_idmap_retain(base->items);
    } else if (cl_interactions_idmap_new(&guard[0]) || cl_interactions_idmap_new(&guard[1])) {
        return lcl_raise(L, CL_ENOMEM);
    }
    cl_idmap *um = guard[0], *im = guard[1];
    int64_t w = 0, dropped = 0;
    int rc = CL_OK;
    char b1[64], b2[64];
    if (cu.fc && ci.fc) { /* frames: no Lua stack per row */
        rc = fast_ids(&cu, um, !base, u);
        if (rc == CL_OK)
            rc = fast_ids(&ci, im, !base, it);
        for (int64_t k = 0; k < n && rc == CL_OK; k++) {
            if (u[k] < 0 || it[k] < 0) {
                dropped++;
                continue;
            }
            u[w] = u[k], it[w] = it[k];
            if (cv.idx) {
                double v = cv.fc->type == CL_CAT ? NAN : cv.fc->num[k];
                if (!isfinite(v))
                    rc = cl_error(CL_EINVAL, "interactions: column '%s', row %lld: value is "
                                             "%s",
                                  cv.name, (long long)k + 1,
                                  cv.fc->type == CL_CAT ? "a category" : "missing or infinite");
                vals[w] = (float)v;
            }
            if (ct.idx) {
                tm[w] = ct.fc->type == CL_CAT ? NAN : ct.fc->num[k];
                if (isnan(tm[w]))
                    rc = cl_error(CL_EINVAL, "interactions: column '%s', row %lld: time is "
                                             "missing or a category",
                                  ct.name, (long long)k + 1);
            }
            w++;
        }
        n = 0; /* skip the generic loop */
    }
    for (int64_t k = 0; k < n && rc == CL_OK; k++) {
        colpush(L, &cu, k);
        colpush(L, &ci, k);
        const char *ul = tolabel(L, -2, b1, sizeof b1), *il = tolabel(L, -1, b2, sizeof b2);
        if (!ul || !il) {
            rc = cl_error(CL_EINVAL, "interactions: %s %lld: %s label must be an integer or "
                                     "a string, got %s",
                          cu.fc ? "row" : "entry", (long long)k + 1, !ul ? "user" : "item",
                          lua_isnil(L, !ul ? -2 : -1) ? "a missing value"
                                                      : luaL_typename(L, !ul ? -2 : -1));
            lua_pop(L, 2);
            break;
        }
        if (base) {
            u[w] = cl_interactions_idmap_find(um, ul);
            it[w] = cl_interactions_idmap_find(im, il);
            lua_pop(L, 2);
            if (u[w] < 0 || it[w] < 0) {
                dropped++;
                continue;
            }
        } else {
            rc = cl_interactions_idmap_add(um, ul, &u[w]);
            if (rc == CL_OK)
                rc = cl_interactions_idmap_add(im, il, &it[w]);
            lua_pop(L, 2);
        }
        if (rc == CL_OK && cv.idx) {
            double v = colnum(L, &cv, k);
            if (!isfinite(v))
                rc = cl_error(CL_EINVAL, "interactions: entry %lld: value is not finite",
                              (long long)k + 1);
            vals[w] = (float)v;
        }
        if (rc == CL_OK && ct.idx)
            tm[w] = colnum(L, &ct, k);
        w++;
    }
    cl_interactions *m = NULL;
    if (rc == CL_OK)
        rc = cl_interactions_build(&m, um, im, w, u, it, cv.idx ? vals : NULL,
                                   ct.idx ? tm : NULL, dup);
    if (rc)
        return lcl_raise(L, rc);
    pushinter(L, m);
    lua_pushinteger(L, (lua_Integer)dropped);
    return 2;
}

/* random_interactions{users =, items =, nnz =, skew = 2, seed = 42} (benchmarks, tests) */
static int l_random_interactions(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const known[] = {"users", "items", "nnz", "skew", "seed", NULL};
    lcl_check_options(L, 1, "random_interactions", known);
    double nu = lcl_optnum(L, 1, "users", 0), ni = lcl_optnum(L, 1, "items", 0);
    double nnz = lcl_optnum(L, 1, "nnz", 0), skew = lcl_optnum(L, 1, "skew", 2);
    double seed = lcl_optnum(L, 1, "seed", 42);
    if (!(nu >= 1 && ni >= 1 && nnz >= 1 && nu < 2e9 && ni < 2e9 && nnz < 1e12 && seed >= 0))
        return luaL_error(L, "random_interactions: users, items and nnz must be >= 1");
    cl_interactions *m;
    LCL_CHECK(L, cl_interactions_random(&m, (int64_t)nu, (int64_t)ni, (int64_t)nnz, skew,
                                        (uint64_t)seed));
    return pushinter(L, m);
}

static int inter_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, INTER);
    cl_interactions_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int inter_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, INTER);
    const cl_interactions *m = b->obj;
    if (!m)
        lua_pushstring(L, INTER " (freed)");
    else
        lua_pushfstring(L, INTER " %I users x %I items, %I interactions%s", (lua_Integer)m->n_users,
                        (lua_Integer)m->n_items, (lua_Integer)m->nnz, m->times ? ", timed" : "");
    return 1;
}

static int inter_shape(lua_State *L)
{
    const cl_interactions *m = checkinter(L, 1);
    lua_pushinteger(L, (lua_Integer)m->n_users);
    lua_pushinteger(L, (lua_Integer)m->n_items);
    return 2;
}

static int inter_nnz(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkinter(L, 1)->nnz);
    return 1;
}

static int inter_duplicates(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)checkinter(L, 1)->duplicates);
    return 1;
}

static int pushlabels(lua_State *L, const cl_idmap *m)
{
    lua_createtable(L, (int)m->n, 0);
    for (int64_t i = 0; i < m->n; i++) {
        pushlabel(L, m, i);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int inter_users(lua_State *L) { return pushlabels(L, checkinter(L, 1)->users); }
static int inter_items(lua_State *L) { return pushlabels(L, checkinter(L, 1)->items); }

/* user_items(user) -> {item labels}, {values}, {times}|nil (ascending item index). */
static int inter_user_items(lua_State *L)
{
    const cl_interactions *m = checkinter(L, 1);
    char buf[64];
    const char *lab = checklabel(L, 2, buf, sizeof buf, "user");
    int64_t u = cl_interactions_idmap_find(m->users, lab);
    int64_t a = u >= 0 ? m->indptr[u] : 0, n = u >= 0 ? m->indptr[u + 1] - a : 0;
    lua_createtable(L, (int)n, 0);
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        pushlabel(L, m->items, m->indices[a + k]);
        lua_rawseti(L, -3, k + 1);
        lua_pushnumber(L, m->values[a + k]);
        lua_rawseti(L, -2, k + 1);
    }
    if (!m->times)
        return 2;
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        lua_pushnumber(L, m->times[a + k]);
        lua_rawseti(L, -2, k + 1);
    }
    return 3;
}

/* split{test = 0.2, seed = 1} (random per-user holdout) or split{last = 1} (by time). */
static int inter_split(lua_State *L)
{
    const cl_interactions *m = checkinter(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    static const char *const known[] = {"last", "test", "seed", NULL};
    lcl_check_options(L, 2, "split", known);
    cl_interactions *tr = NULL, *te = NULL;
    int rc;
    lua_getfield(L, 2, "last");
    int has_last = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (has_last) {
        double last = lcl_optnum(L, 2, "last", 1);
        if (last != floor(last) || last < 1 || last > 1e9)
            return luaL_error(L, "split: 'last' must be a positive integer, got %g", last);
        rc = cl_interactions_split_last(&tr, &te, m, (int)last);
    } else {
        double frac = lcl_optnum(L, 2, "test", 0.2);
        double seed = lcl_optnum(L, 2, "seed", 42);
        if (seed < 0 || seed != floor(seed))
            return luaL_error(L, "split: 'seed' must be a non-negative integer, got %g", seed);
        rc = cl_interactions_split_holdout(&tr, &te, m, frac, (uint64_t)seed);
    }
    if (rc)
        return lcl_raise(L, rc);
    lcl_box *b1 = lcl_newbox(L, INTER);
    b1->obj = tr;
    lcl_box *b2 = lcl_newbox(L, INTER);
    b2->obj = te;
    lcl_gc_check(L);
    return 2;
}

static int inter_has(lua_State *L)
{
    const cl_interactions *m = checkinter(L, 1);
    char b1[64], b2[64];
    int64_t u = cl_interactions_idmap_find(m->users, checklabel(L, 2, b1, sizeof b1, "user"));
    int64_t i = cl_interactions_idmap_find(m->items, checklabel(L, 3, b2, sizeof b2, "item"));
    lua_pushboolean(L, u >= 0 && i >= 0 && cl_interactions_has(m, u, (int32_t)i));
    return 1;
}

/* ---- churnlab.Recommender -------------------------------------------------------------- */

static cl_rec *checkrec(lua_State *L, int idx) { return lcl_checkobj(L, idx, REC); }

static cl_rec *checkfitted(lua_State *L, int idx, const char *what)
{
    cl_rec *r = checkrec(L, idx);
    if (!r->state)
        luaL_error(L, "%s: %s before fit", r->ops->name, what);
    return r;
}

static int rec_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, REC);
    cl_rec_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int rec_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, REC);
    const cl_rec *r = b->obj;
    if (!r)
        lua_pushstring(L, REC " (freed)");
    else if (!r->state)
        lua_pushfstring(L, REC " %s (not fitted)", r->ops->name);
    else
        lua_pushfstring(L, REC " %s fitted on %I users x %I items", r->ops->name,
                        (lua_Integer)r->train->n_users, (lua_Integer)r->train->n_items);
    return 1;
}

static int pushrec(lua_State *L, cl_rec *r)
{
    lcl_box *b = lcl_newbox(L, REC);
    b->obj = r;
    return 1;
}

/* Constructor shared by every kind: params from the table at 1, minus keys handled by the
 * caller (skip: NULL-terminated list). */
static cl_rec *newrec(lua_State *L, cl_rec_kind kind, const char *const *skip)
{
    lcl_box *b = lcl_newbox(L, REC);
    cl_rec *r;
    int rc = cl_rec_new(&r, kind);
    if (rc)
        lcl_raise(L, rc);
    b->obj = r;
    if (lua_isnoneornil(L, 1))
        return r;
    luaL_checktype(L, 1, LUA_TTABLE);
    /* copy the named keys except the skipped ones into a params table */
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        int skipit = lua_type(L, -2) == LUA_TNUMBER;
        for (int k = 0; skip && skip[k] && !skipit; k++)
            skipit = lua_type(L, -2) == LUA_TSTRING && strcmp(lua_tostring(L, -2), skip[k]) == 0;
        if (skipit) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    lcl_params(L, lua_gettop(L), r->ops->defs, r->params, r->ops->name);
    lua_pop(L, 1);
    return r;
}

static int l_popular(lua_State *L)
{
    newrec(L, CL_REC_POPULAR, NULL);
    return 1;
}
static int l_itemknn(lua_State *L)
{
    newrec(L, CL_REC_ITEMKNN, NULL);
    return 1;
}
static int l_mf(lua_State *L)
{
    newrec(L, CL_REC_MF, NULL);
    return 1;
}
static int l_bpr(lua_State *L)
{
    newrec(L, CL_REC_BPR, NULL);
    return 1;
}
static int l_ease(lua_State *L)
{
    newrec(L, CL_REC_EASE, NULL);
    return 1;
}
static int l_als(lua_State *L)
{
    newrec(L, CL_REC_ALS, NULL);
    return 1;
}

/* Dense features from a frame: the item column (opts key "item") gives the labels; every
 * other column (or those listed in "columns") becomes features: num/date columns as they are
 * (missing = column mean), cat columns as multi-hot tokens (a label "Drama|Comedy" sets both).
 * Pushes the label anchor table and the X userdata; returns X and the column count. */
static float *frame_features(lua_State *L, int fidx, int idx, int64_t *rows_out, int *cols_out,
                             const char ***lab_out)
{
    const cl_frame *f = lcl_checkobj(L, fidx, FRAME);
    const char *item = lcl_optstr(L, idx, "item", NULL);
    if (!item)
        luaL_error(L, "content: with a frame of features, 'item' must name the item id column");
    int ic;
    if (cl_frame_col(f, item, &ic))
        lcl_raise(L, CL_EINVAL);
    int use[256], nuse = 0;
    if (lua_getfield(L, idx, "columns") == LUA_TTABLE) {
        for (int k = 1; k <= (int)luaL_len(L, -1) && nuse < 256; k++) {
            lua_geti(L, -1, k);
            int c;
            if (!lua_isstring(L, -1) || cl_frame_col(f, lua_tostring(L, -1), &c))
                luaL_error(L, "content: columns[%d]: %s", k,
                           lua_isstring(L, -1) ? cl_error_last() : "expected a column name");
            use[nuse++] = c;
            lua_pop(L, 1);
        }
    } else {
        for (int c = 0; c < f->ncol && nuse < 256; c++)
            if (c != ic)
                use[nuse++] = c;
    }
    lua_pop(L, 1);
    int64_t rows = f->nrow;
    /* token dictionaries of the cat columns: a Lua table token -> feature index per column */
    lua_newtable(L);
    int tokens = lua_gettop(L);
    int ncols = 0;
    int base[256];
    for (int q = 0; q < nuse; q++) {
        const cl_column *c = f->cols[use[q]];
        base[q] = ncols;
        if (c->type != CL_CAT) {
            ncols++;
            continue;
        }
        lua_newtable(L);
        int n = 0;
        for (int32_t code = 0; code < c->dict->n; code++) {
            const char *s = c->dict->labels[code];
            while (*s) {
                const char *e = strchr(s, '|');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                lua_pushlstring(L, s, len);
                if (lua_rawget(L, -2) == LUA_TNIL) {
                    lua_pop(L, 1);
                    lua_pushlstring(L, s, len);
                    lua_pushinteger(L, n++);
                    lua_rawset(L, -3);
                } else {
                    lua_pop(L, 1);
                }
                s += len + (e != NULL);
            }
        }
        lua_rawseti(L, tokens, q + 1);
        ncols += n;
    }
    if (ncols < 1)
        luaL_error(L, "content: the frame has no feature columns besides '%s'", item);
    lua_createtable(L, (int)rows, 0);
    int anchor = lua_gettop(L);
    const char **lab = lua_newuserdatauv(L, (size_t)rows * sizeof *lab + 1, 0);
    float *X = lua_newuserdatauv(L, (size_t)rows * (size_t)ncols * sizeof *X + 1, 0);
    memset(X, 0, (size_t)rows * (size_t)ncols * sizeof *X);
    column idc = {fidx, NULL, f->cols[ic], rows, item};
    for (int64_t k = 0; k < rows; k++) {
        char buf[64];
        colpush(L, &idc, k);
        const char *sl = tolabel(L, -1, buf, sizeof buf);
        if (!sl)
            luaL_error(L, "content: column '%s', row %d: missing or non-integer item id", item,
                       (int)k + 1);
        lua_pushstring(L, sl);
        lua_rawseti(L, anchor, k + 1);
        lua_pop(L, 1);
        lua_rawgeti(L, anchor, k + 1);
        lab[k] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    for (int q = 0; q < nuse; q++) {
        const cl_column *c = f->cols[use[q]];
        if (c->type != CL_CAT) {
            double sum = 0;
            int64_t cnt = 0;
            for (int64_t k = 0; k < rows; k++)
                if (!isnan(c->num[k]))
                    sum += c->num[k], cnt++;
            double mean = cnt ? sum / (double)cnt : 0;
            for (int64_t k = 0; k < rows; k++)
                X[k * ncols + base[q]] = (float)(isnan(c->num[k]) ? mean : c->num[k]);
            continue;
        }
        lua_rawgeti(L, tokens, q + 1);
        for (int64_t k = 0; k < rows; k++) {
            const char *s = cl_frame_column_label(c, k);
            while (s && *s) {
                const char *e = strchr(s, '|');
                size_t len = e ? (size_t)(e - s) : strlen(s);
                lua_pushlstring(L, s, len);
                lua_rawget(L, -2);
                X[k * ncols + base[q] + (int)lua_tointeger(L, -1)] = 1.0f;
                lua_pop(L, 1);
                s += len + (e != NULL);
            }
        }
        lua_pop(L, 1);
    }
    *rows_out = rows;
    *cols_out = ncols;
    *lab_out = lab;
    return X;
}

/* Sets content features from the table at idx: {features = tensor, items = labels} or
 * {features = frame, item = "id column"[, columns = {...}]}. */
static void set_features(lua_State *L, cl_rec *r, int idx)
{
    int top = lua_gettop(L);
    lua_getfield(L, idx, "features");
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    int64_t rows;
    int cols;
    const char **lab;
    float *X;
    if (lcl_testbox(L, -1, FRAME)) {
        X = frame_features(L, lua_gettop(L), idx, &rows, &cols, &lab);
    } else {
        cl_tensor *t = lcl_testtensor(L, -1);
        if (!t || t->ndim != 2)
            luaL_error(L, "content: 'features' must be a frame or a 2-D tensor (one row per item)");
        rows = cl_tensor_rows(t);
        int64_t c64 = cl_tensor_cols(t);
        cols = (int)c64;
        if (lua_getfield(L, idx, "items") != LUA_TTABLE)
            luaL_error(L, "content: 'items' must list the item label of each feature row");
        int items = lua_gettop(L);
        if ((int64_t)luaL_len(L, items) != rows)
            luaL_error(L, "content: %d item labels for %d feature rows", (int)luaL_len(L, items),
                       (int)rows);
        /* label strings anchored in a table on the stack; pointers and values in userdata,
         * so an error frees everything */
        lua_createtable(L, (int)rows, 0);
        int anchor = lua_gettop(L);
        lab = lua_newuserdatauv(L, (size_t)rows * sizeof *lab + 1, 0);
        X = lua_newuserdatauv(L, (size_t)(rows * c64) * sizeof *X + 1, 0);
        for (int64_t k = 0; k < rows; k++) {
            char buf[64];
            lua_geti(L, items, k + 1);
            const char *s = tolabel(L, -1, buf, sizeof buf);
            if (!s)
                luaL_error(L, "content: items[%d] must be an integer or a string", (int)k + 1);
            lua_pushstring(L, s);
            lua_rawseti(L, anchor, k + 1);
            lua_pop(L, 1);
            lua_rawgeti(L, anchor, k + 1);
            lab[k] = lua_tostring(L, -1);
            lua_pop(L, 1);
            for (int64_t j = 0; j < c64; j++)
                X[k * c64 + j] = *cl_tensor_ptr(t, k, j);
        }
    }
    int rc = cl_content_set_features(r, X, rows, cols, lab);
    if (rc)
        lcl_raise(L, rc);
    lua_settop(L, top);
}

static int l_content(lua_State *L)
{
    static const char *const skip[] = {"features", "items", "item", "columns", NULL};
    cl_rec *r = newrec(L, CL_REC_CONTENT, skip);
    if (lua_istable(L, 1))
        set_features(L, r, 1);
    return 1;
}

/* hybrid{{model, weight}, ..., fallback = model, min_interactions = 5} */
static int l_hybrid(lua_State *L)
{
    static const char *const skip[] = {"fallback", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    cl_rec *r = newrec(L, CL_REC_HYBRID, skip);
    int n = (int)luaL_len(L, 1);
    if (n < 1 || n > CL_HYBRID_MAX)
        return luaL_error(L, "hybrid: needs 1 to %d {model, weight} pairs, got %d", CL_HYBRID_MAX,
                          n);
    cl_rec *comp[CL_HYBRID_MAX];
    double w[CL_HYBRID_MAX];
    for (int k = 0; k < n; k++) {
        if (lua_geti(L, 1, k + 1) != LUA_TTABLE)
            return luaL_error(L, "hybrid: component %d must be {model, weight}", k + 1);
        lua_geti(L, -1, 1);
        lcl_box *b = lcl_testbox(L, -1, REC);
        if (!b || !b->obj)
            return luaL_error(L, "hybrid: component %d: first element must be a recommender",
                              k + 1);
        comp[k] = b->obj;
        lua_geti(L, -2, 2);
        w[k] = lua_isnil(L, -1) ? 1.0 : luaL_checknumber(L, -1);
        lua_pop(L, 3);
    }
    cl_rec *fb = NULL;
    lua_getfield(L, 1, "fallback");
    if (!lua_isnil(L, -1)) {
        lcl_box *b = lcl_testbox(L, -1, REC);
        if (!b || !b->obj)
            return luaL_error(L, "hybrid: 'fallback' must be a recommender");
        fb = b->obj;
    }
    lua_pop(L, 1);
    LCL_CHECK(L, cl_hybrid_set(r, n, comp, w, fb));
    return 1;
}

/* m:fit(interactions, {verbose = ..., features = ..., items = ...}) -> m */
static int rec_fit(lua_State *L)
{
    cl_rec *r = checkrec(L, 1);
    cl_interactions *m = checkinter(L, 2);
    static const char *const known[] = {"verbose", NULL};
    static const char *const known_content[] = {"verbose", "features", "items", "item",
                                                "columns", NULL};
    /* m:fit(rec.interactions(df)) passes interactions' second result (the dropped count)
     * here: only a table is options */
    int opts = lua_istable(L, 3) ? lcl_check_options(L, 3, "fit", r->kind == CL_REC_CONTENT
                                                                  ? known_content : known)
                                 : 0;
    if (opts && r->kind == CL_REC_CONTENT)
        set_features(L, r, opts);
    cl_progress *p = lcl_progress_new(L, opts);
    int rc = cl_rec_fit(r, m, p);
    lcl_progress_end(p); /* close the bar now: after an early stop, an error or Ctrl-C too */
    lua_pop(L, 1);
    if (rc) {
        if (rc == CL_EINTR)
            cl_progress_interrupt_clear();
        return lcl_raise(L, rc);
    }
    lcl_gc_check(L);
    lua_settop(L, 1);
    return 1;
}

/* Index of a user label, or -1 when unknown. */
static int64_t user_index(lua_State *L, const cl_rec *r, int idx)
{
    char buf[64];
    return cl_interactions_idmap_find(r->train->users, checklabel(L, idx, buf, sizeof buf, "user"));
}

static int64_t item_index(lua_State *L, const cl_rec *r, int idx)
{
    char buf[64];
    return cl_interactions_idmap_find(r->train->items, checklabel(L, idx, buf, sizeof buf, "item"));
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
                pushlabel(L, train->items, it[j]);
                lua_pushnumber(L, sc[j]);
                lua_call(L, 2, 1);
                int keep = lua_toboolean(L, -1);
                lua_pop(L, 1);
                if (!keep)
                    continue;
            }
            out++;
            pushlabel(L, train->items, it[j]);
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
    cl_rec *r = checkfitted(L, 1, "recommend");
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
    cl_rec *r = checkfitted(L, 1, "recommend_all");
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
        pushlabel(L, m->users, u);
        lua_createtable(L, k, 0);
        pushlabel(L, m->users, u);
        lua_createtable(L, k, 0);
        for (int j = 0; j < k && it[u * k + j] >= 0; j++) {
            pushlabel(L, m->items, it[u * k + j]);
            lua_rawseti(L, -4, j + 1);
            lua_pushnumber(L, sc[u * k + j]);
            lua_rawseti(L, -2, j + 1);
        }
        lua_settable(L, -5);
        lua_settable(L, -4);
    }
    return 2;
}

/* Reads a history: a list of item labels, or {items = {...}, values = {...}}. Unknown items
 * are skipped (counted in *unknown). Buffers live in userdata pushed on the stack (2). */
static int64_t read_history(lua_State *L, const cl_rec *r, int idx, int32_t **items,
                            float **values, int64_t *unknown, const char *what)
{
    luaL_checktype(L, idx, LUA_TTABLE);
    int list = idx, vals = 0;
    if (lua_getfield(L, idx, "items") == LUA_TTABLE) {
        list = lua_gettop(L);
        if (lua_getfield(L, idx, "values") != LUA_TNIL)
            vals = lua_gettop(L);
        else
            lua_pop(L, 1);
    } else {
        lua_pop(L, 1);
    }
    int64_t n = (int64_t)luaL_len(L, list);
    if (vals && (int64_t)luaL_len(L, vals) != n)
        luaL_error(L, "%s: %d items but %d values", what, (int)n, (int)luaL_len(L, vals));
    *items = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof **items, 0);
    *values = vals ? lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof **values, 0) : NULL;
    if (!vals)
        lua_pushnil(L);
    int64_t w = 0;
    *unknown = 0;
    for (int64_t k = 0; k < n; k++) {
        char buf[64];
        lua_geti(L, list, k + 1);
        const char *s = tolabel(L, -1, buf, sizeof buf);
        if (!s)
            luaL_error(L, "%s: history item %d must be an integer or a string label", what,
                       (int)k + 1);
        int64_t i = cl_interactions_idmap_find(r->train->items, s);
        lua_pop(L, 1);
        if (i < 0) {
            (*unknown)++;
            continue;
        }
        if (vals) {
            lua_geti(L, vals, k + 1);
            int ok;
            (*values)[w] = (float)lua_tonumberx(L, -1, &ok);
            if (!ok)
                luaL_error(L, "%s: value %d must be a number", what, (int)k + 1);
            lua_pop(L, 1);
        }
        (*items)[w++] = (int32_t)i;
    }
    return w;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* m:recommend_for(history, k, {exclude_seen = true, filter = fn}) -> items, scores, unknown */
static int rec_recommend_for(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "recommend_for");
    int k = checkk(L, 3, 10);
    static const char *const known[] = {"exclude_seen", "filter", "candidates", NULL};
    int opts = lcl_check_options(L, 4, "recommend_for", known);
    int excl = lcl_optbool(L, opts, "exclude_seen", 1);
    int filter = getfilter(L, opts);
    int32_t *items;
    float *values;
    int64_t unknown;
    int64_t n = read_history(L, r, 2, &items, &values, &unknown, "recommend_for");
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

/* m:add_user(user, history) -> m, unknown: the user joins the fitted model (fold-in kept) */
static int rec_add_user(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "add_user");
    lua_settop(L, 3);
    char buf[64];
    const char *label = checklabel(L, 2, buf, sizeof buf, "user");
    lua_pushstring(L, label); /* buf may be reused below: anchor the label */
    label = lua_tostring(L, -1);
    int32_t *items;
    float *values;
    int64_t unknown;
    int64_t n = read_history(L, r, 3, &items, &values, &unknown, "add_user");
    LCL_CHECK(L, cl_rec_add_user(r, label, n, items, values, NULL));
    lua_settop(L, 1);
    lua_pushinteger(L, (lua_Integer)unknown);
    return 2;
}

/* m:add_item(item[, {users = {...}, values = {...}, features = {...} | tensor}]) -> m, unknown */
static int rec_add_item(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "add_item");
    lua_settop(L, 3);
    char buf[64];
    const char *label = checklabel(L, 2, buf, sizeof buf, "item");
    lua_pushstring(L, label);
    label = lua_tostring(L, -1);
    static const char *const known[] = {"users", "values", "features", NULL};
    int opts = lcl_check_options(L, 3, "add_item", known);
    int64_t n = 0, unknown = 0;
    int32_t *users = NULL;
    float *values = NULL, *feat = NULL;
    int nf = 0;
    if (opts && lua_getfield(L, opts, "users") != LUA_TNIL) {
        luaL_argcheck(L, lua_istable(L, -1), 3, "'users' must be a list of user labels");
        int list = lua_gettop(L), vals = 0;
        if (lua_getfield(L, opts, "values") != LUA_TNIL) {
            luaL_argcheck(L, lua_istable(L, -1), 3, "'values' must be a list of numbers");
            vals = lua_gettop(L);
            if (luaL_len(L, vals) != luaL_len(L, list))
                return luaL_error(L, "add_item: %d users but %d values", (int)luaL_len(L, list),
                                  (int)luaL_len(L, vals));
        }
        int64_t len = (int64_t)luaL_len(L, list);
        users = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *users, 0);
        if (vals)
            values = lua_newuserdatauv(L, (size_t)(len ? len : 1) * sizeof *values, 0);
        for (int64_t k = 0; k < len; k++) {
            char b2[64];
            lua_geti(L, list, k + 1);
            const char *sl = tolabel(L, -1, b2, sizeof b2);
            if (!sl)
                return luaL_error(L, "add_item: users[%d] must be an integer or a string label",
                                  (int)k + 1);
            int64_t u = cl_interactions_idmap_find(r->train->users, sl);
            lua_pop(L, 1);
            if (u < 0) {
                unknown++;
                continue;
            }
            if (vals) {
                lua_geti(L, vals, k + 1);
                int ok;
                values[n] = (float)lua_tonumberx(L, -1, &ok);
                if (!ok)
                    return luaL_error(L, "add_item: values[%d] must be a number", (int)k + 1);
                lua_pop(L, 1);
            }
            users[n++] = (int32_t)u;
        }
    } else if (opts && lua_getfield(L, opts, "values") != LUA_TNIL) {
        return luaL_error(L, "add_item: 'values' needs 'users'");
    }
    if (opts && lua_getfield(L, opts, "features") != LUA_TNIL) {
        cl_tensor *t = lcl_testtensor(L, -1);
        if (t) {
            if (t->ndim != 1 && !(t->ndim == 2 && cl_tensor_rows(t) == 1))
                return luaL_error(L, "add_item: 'features' must be one row (a 1-D tensor or a "
                                     "list of numbers)");
            int64_t c = t->ndim == 1 ? cl_tensor_numel(t) : cl_tensor_cols(t);
            feat = lua_newuserdatauv(L, (size_t)(c ? c : 1) * sizeof *feat, 0);
            for (int64_t j = 0; j < c; j++)
                feat[j] = t->ndim == 1 ? *cl_tensor_ptr(t, j, 0) : *cl_tensor_ptr(t, 0, j);
            nf = (int)c;
        } else if (lua_istable(L, -1)) {
            int ft = lua_gettop(L);
            nf = (int)luaL_len(L, ft);
            feat = lua_newuserdatauv(L, (size_t)(nf ? nf : 1) * sizeof *feat, 0);
            for (int j = 0; j < nf; j++) {
                lua_geti(L, ft, j + 1);
                int ok;
                feat[j] = (float)lua_tonumberx(L, -1, &ok);
                if (!ok)
                    return luaL_error(L, "add_item: features[%d] must be a number", j + 1);
                lua_pop(L, 1);
            }
        } else {
            return luaL_error(L, "add_item: 'features' must be a list of numbers or a tensor");
        }
    }
    LCL_CHECK(L, cl_rec_add_item(r, label, n, users, values, feat, nf, NULL));
    lua_settop(L, 1);
    lua_pushinteger(L, (lua_Integer)unknown);
    return 2;
}

/* m:score(user, {items}) -> {scores} (nil for unknown items) */
static int rec_score(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "score");
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
        const char *lab = tolabel(L, -1, buf, sizeof buf);
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
        pushlabel(L, r->train->items, it[j]);
        lua_rawseti(L, -3, j + 1);
        lua_pushnumber(L, sc[j]);
        lua_rawseti(L, -2, j + 1);
    }
    return 2;
}

/* m:similar_items(item, k) -> items, scores */
static int rec_similar(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "similar_items");
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
    cl_rec *r = checkfitted(L, 1, "explain");
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
        n = read_history(L, r, 2, &hist, &values, &unknown, "explain");
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

/* m:predict_rating(user, item) -> rating (mf); unknown users/items fall back to biases. */
static int rec_predict_rating(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "predict_rating");
    int64_t u = user_index(L, r, 2), i = item_index(L, r, 3);
    double v;
    LCL_CHECK(L, cl_cf_mf_predict(r, u, i, &v));
    lua_pushnumber(L, v);
    return 1;
}

/* m:predict_ratings({users = ..., items = ...}) or (df, {user = "col", item = "col"}) ->
 * tensor of predictions (mf). */
static int rec_predict_ratings(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "predict_ratings");
    static const char *const known[] = {"user", "item", "value", "time", NULL};
    int opts = lcl_check_options(L, 3, "predict_ratings", known);
    column cu, ci, cv, ct;
    getcolumns(L, 2, opts, &cu, &ci, &cv, &ct);
    if (cu.n != ci.n)
        return luaL_error(L, "predict_ratings: %d users but %d items", (int)cu.n, (int)ci.n);
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 1, cu.n, 1));
    lcl_pushtensor(L, t);
    float *out = cl_tensor_data(t);
    for (int64_t k = 0; k < cu.n; k++) {
        char b1[64], b2[64];
        colpush(L, &cu, k);
        colpush(L, &ci, k);
        const char *ul = tolabel(L, -2, b1, sizeof b1), *il = tolabel(L, -1, b2, sizeof b2);
        int64_t u = ul ? cl_interactions_idmap_find(r->train->users, ul) : -1;
        int64_t i = il ? cl_interactions_idmap_find(r->train->items, il) : -1;
        lua_pop(L, 2);
        double v;
        LCL_CHECK(L, cl_cf_mf_predict(r, u, i, &v));
        out[k] = (float)v;
    }
    return 1;
}

static int rec_save(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "save");
    const char *path = luaL_checkstring(L, 2);
    int rc = cl_rec_save(r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1);
    return 1;
}

static int rec_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cl_rec *r;
    int rc = cl_rec_load(&r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    pushrec(L, r);
    lcl_gc_check(L);
    return 1;
}

static int rec_params(lua_State *L)
{
    cl_rec *r = checkrec(L, 1);
    lcl_push_params(L, r->ops->defs, r->params);
    return 1;
}

static int rec_kind(lua_State *L)
{
    lua_pushstring(L, checkrec(L, 1)->ops->name);
    return 1;
}

static int rec_fit_time(lua_State *L)
{
    lua_pushnumber(L, checkrec(L, 1)->fit_seconds);
    return 1;
}

static int rec_interactions(lua_State *L)
{
    cl_rec *r = checkfitted(L, 1, "interactions");
    return pushinter(L, cl_interactions_retain(r->train));
}

/* ---- evaluation ------------------------------------------------------------------------ */

/* ---- registration ---------------------------------------------------------------------- */

static const luaL_Reg inter_meta[] = {
    {"__gc", inter_gc}, {"__close", inter_gc}, {"__tostring", inter_tostring}, {NULL, NULL}};
static const luaL_Reg inter_methods[] = {
    {"shape", inter_shape}, {"nnz", inter_nnz}, {"duplicates", inter_duplicates},
    {"users", inter_users}, {"items", inter_items}, {"user_items", inter_user_items},
    {"split", inter_split}, {"has", inter_has}, {NULL, NULL}};

static const luaL_Reg rec_meta[] = {
    {"__gc", rec_gc}, {"__close", rec_gc}, {"__tostring", rec_tostring}, {NULL, NULL}};
static const luaL_Reg rec_methods[] = {
    {"fit", rec_fit},
    {"recommend", rec_recommend},
    {"recommend_all", rec_recommend_all},
    {"recommend_for", rec_recommend_for},
    {"score", rec_score},
    {"similar_items", rec_similar},
    {"explain", rec_explain},
    {"predict_rating", rec_predict_rating},
    {"add_user", rec_add_user},
    {"add_item", rec_add_item},
    {"predict_ratings", rec_predict_ratings},
    {"save", rec_save},
    {"params", rec_params},
    {"kind", rec_kind},
    {"fit_time", rec_fit_time},
    {"interactions", rec_interactions},
    {NULL, NULL}};

/* cl.rec.search{...}: written in Lua (churnlab.rec_eval.search), loaded when first called so
 * that loading this module does not load that one. */
static int l_search(lua_State *L)
{
    lua_settop(L, 1);
    lua_getglobal(L, "require");
    lua_pushstring(L, "churnlab.rec_eval");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "search");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
}

static const luaL_Reg funcs[] = {
    {"interactions", l_interactions}, {"random_interactions", l_random_interactions},
    {"popular", l_popular}, {"itemknn", l_itemknn},
    {"mf", l_mf},                     {"als", l_als},         {"content", l_content},
    {"hybrid", l_hybrid},             {"ease", l_ease}, {"bpr", l_bpr},             {"evaluate", lrec_evaluate}, {"load", rec_load},
    {"search", l_search},
    {NULL, NULL}};

static const lcl_doc docs[] = {
    {"interactions", "interactions{users = ..., items = ..., values = ..., times = ...}[, {dup = "
                     "\"sum\"|\"last\", base = train}] -> interactions, dropped: a user x item "
                     "matrix from parallel lists or tensors of labels (integers or strings). "
                     "With base, ids are those of base and unknown ones are dropped (counted)."},
    {"random_interactions", "random_interactions{users =, items =, nnz =, skew = 2, seed = 42} "
                            "-> interactions: users uniform, items long-tailed (floor(items * "
                            "U^skew)), ratings 1..5; duplicates merged. For benchmarks."},
    {"popular", "popular{half_life = 0} -> recommender: most-interacted items (time-decayed "
                "with half_life)."},
    {"itemknn", "itemknn{k = 20, shrink = 0, similarity = \"cosine\", normalize = true} -> "
                "recommender: item-item neighbourhood."},
    {"mf", "mf{factors = 64, epochs = 40, lr = 0.007, reg = 0.08, biased = true, solver = "
           "\"sgd\", implicit = false} -> recommender: explicit-rating matrix factorisation "
           "with biases (implicit = true: SVD++); predict_rating / predict_ratings."},
    {"als", "als{factors = 64, iters = 15, reg = 30, alpha = 3, cg_steps = 3} -> "
            "recommender: implicit-feedback ALS (Hu, Koren, Volinsky) with conjugate gradient."},
    {"content", "content{features = tensor, items = labels, idf = true} -> recommender: "
                "content-based (TF-IDF genres, standardised numbers), profile = weighted mean."},
    {"hybrid", "hybrid{{model, weight}, ..., fallback = model, min_interactions = 5} -> "
               "recommender: weighted blend of normalised scores, fallback for cold users."},
    {"evaluate", "evaluate(model, test, {k = 10, exclude_seen = true, print = false}) -> "
                 "{precision, recall, map, ndcg, hit_rate, mrr, coverage, novelty, users, "
                 "name[, rmse, mae]}; print = true also prints them as a table."},
    {"ease", "ease{reg = 800, binary = true} -> recommender: EASE (Steck 2019), closed-form "
             "item-item weights B = -P/diag(P), P = (X^T X + reg I)^-1; dense items x items."},
    {"bpr", "bpr{factors = 64, epochs = 30, lr = 0.05, reg = 0.02} -> recommender: BPR-MF "
            "(Rendle 2009), pairwise ranking by SGD with sampled negatives (implicit)."},
    {"load", "load(path) -> recommender: raises naming the file when it is missing or corrupt"},
    {"search", "search{kind = \"als\", grid = {reg = {1, 10}, alpha = {2, 5}}, train =, test "
               "=[, fixed = {params}, k = 10, metric = \"ndcg\" (mf: \"rmse\"), random = n, "
               "seed = 1, print = false]} -> best params, best score, rows: fits kind on train "
               "at every grid point (or n points drawn by seed) and evaluates on test (an "
               "existing split: cut a validation part from the training data, not the final "
               "test); rows best first, each evaluate's result with params and score."},
    {NULL, NULL}};

static const lcl_doc method_docs[] = {
    {"fit", "m:fit(interactions[, {verbose =, features =, items =}]) -> m: trains; content "
            "models take their item features here or at construction. Ctrl-C interrupts: the "
            "model is then unfitted (an earlier fit is dropped when a refit starts)."},
    {"recommend", "m:recommend(user, k[, {exclude_seen = true, filter = fn(item, score), "
                  "candidates = {items}}]) -> items, scores, fallback: best first (only the "
                  "candidates ranked when given; an unknown candidate is an error); fallback "
                  "is \"popular\" when popularity answered (an unknown user or one without "
                  "interactions: cold start), else nil (mf answers those with its bias "
                  "baseline)."},
    {"recommend_all", "m:recommend_all(k[, {exclude_seen = true}]) -> {user = {items}}, "
                      "{user = {scores}}: every user, in parallel."},
    {"recommend_for", "m:recommend_for(history, k[, opts]) -> items, scores, unknown, "
                      "fallback: from a fresh list of item labels (or {items =, values =}; mf "
                      "needs the values, als refuses negative ones) without retraining (ALS/MF: "
                      "one small solve); unknown counts labels the model does not know; "
                      "fallback is \"popular\" when no known item was left (cold start). "
                      "Options as recommend (exclude_seen, filter, candidates)."},
    {"score", "m:score(user, {items}) -> {scores} (nil for unknown items)."},
    {"add_user", "m:add_user(user, history) -> m, unknown: adds a new user to the fitted model "
                 "without refitting (history as for recommend_for: labels or {items =, values ="
                 "}; mf needs values). mf/als keep the fold-in factors; other users' results "
                 "are unchanged. unknown = history items not in the model (skipped)."},
    {"add_item", "m:add_item(item[, {users = {...}, values = {...}, features = {...}}]) -> m, "
                 "unknown: adds a new item: mf/als fold its factors in from the users' values "
                 "(mf needs values), popular counts them, content needs features (in the "
                 "fitted column order), hybrid grows every component; itemknn refuses (refit). "
                 "unknown = users not in the model (skipped)."},
    {"similar_items", "m:similar_items(item, k) -> items, similarities."},
    {"explain", "m:explain(user or {items}, item[, k = 3]) -> items, similarities: \"because "
                "you watched ...\": the k items of the user's training history (or of the "
                "given items) most similar to item by the model's own item similarity (as "
                "similar_items); empty for an unknown user."},
    {"predict_rating", "m:predict_rating(user, item) -> rating (mf; unknown ids fall back to "
                       "the biases)."},
    {"predict_ratings", "m:predict_ratings({users =, items =} | frame, {user =, item =}) -> "
                        "tensor of ratings (mf)."},
    {"save", "m:save(path) -> m: the model and its training interactions (cl.load reads it)."},
    {"params", "m:params() -> {name = value}"},
    {"kind", "m:kind() -> name: the recommender's kind ('popular', 'itemknn', 'mf', 'als', "
             "'content' or 'hybrid'; help(cl.rec.<kind>) lists its parameters)."},
    {"fit_time", "m:fit_time() -> seconds: wall time of the last fit (0 before fit)."},
    {"interactions", "m:interactions() -> interactions: the training matrix the model was "
                     "fitted on (shared, not copied; saved with the model). An error before "
                     "fit."},
    {NULL, NULL}};

static const lcl_doc inter_docs[] = {
    {"shape", "x:shape() -> users, items: the matrix's dimensions (distinct labels)."},
    {"nnz", "x:nnz() -> count: the stored (user, item) pairs, after merging duplicates."},
    {"duplicates", "x:duplicates() -> count: repeated (user, item) pairs merged while building "
                   "(by the dup rule: summed, or the last kept)."},
    {"users", "x:users() -> {labels}: user labels in index order (label i is row i of the "
              "matrix)."},
    {"items", "x:items() -> {labels}: item labels in index order."},
    {"user_items", "x:user_items(user) -> items, values [, times]: one user's item labels and "
                   "values in item index order, plus their times when the matrix has them; "
                   "empty lists for an unknown user."},
    {"split", "x:split{test = 0.2, seed = 42} or x:split{last = n} -> train, test: a per-user "
              "random holdout of round(test * n_u) of each user's interactions, or each user's "
              "n latest (needs times); every user keeps at least one training interaction and "
              "both parts keep the full user and item labels."},
    {"has", "x:has(user, item) -> boolean: whether the pair is stored (false for unknown "
            "labels)."},
    {NULL, NULL}};

int luaopen_churnlab_rec(lua_State *L);
int luaopen_churnlab_rec(lua_State *L)
{
    lcl_createmeta(L, INTER, inter_meta, inter_methods);
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, inter_docs);
    lua_pop(L, 1); /* __index */
    lcl_setdoc(L, -1, "churnlab.Interactions: a sparse user x item matrix from "
                      "cl.rec.interactions{...}, what recommenders fit on: x:shape(), x:nnz(), "
                      "x:users(), x:items(), x:user_items(user), x:has(user, item), "
                      "x:split{...}.");
    lua_pop(L, 1);
    lcl_createmeta(L, REC, rec_meta, rec_methods);
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, method_docs);
    lua_pop(L, 1);
    lcl_setdoc(L, -1, "churnlab.Recommender: fit(interactions), recommend(user, k, {exclude_seen, "
                      "filter}), recommend_all(k), recommend_for(history, k), score(user, items), "
                      "similar_items(item, k), predict_rating(user, item) (mf), save(path).");
    lua_pop(L, 1);
    static const char *const kinds[] = {"rec.popular", "rec.itemknn", "rec.mf", "rec.als",
                                        "rec.content", "rec.hybrid", "rec.ease", "rec.bpr", NULL};
    for (int k = 0; kinds[k]; k++)
        lcl_register_loader(L, kinds[k], rec_load);
    static const cl_rec_ops *const ops[] = {&cl_cf_popular_ops, &cl_cf_itemknn_ops,
                                            &cl_cf_mf_ops,      &cl_cf_als_ops,
                                            &cl_content_rec_ops, &cl_hybrid_rec_ops,
                                            &cl_ease_rec_ops,    &cl_bpr_rec_ops};
    for (int k = 0; k < CL_REC_NKINDS; k++) /* help(cl.rec.als) lists the parameters */
        lcl_register_params(L, ops[k]->name, ops[k]->defs);
    luaL_newlib(L, funcs);
    lcl_setdocs(L, -1, docs);
    /* metrics: always under rec.metrics; also into churnlab.metrics when that module exists */
    lrec_push_metrics(L);
    lua_setfield(L, -2, "metrics");
    lua_getglobal(L, "require");
    lua_pushstring(L, "churnlab.metrics");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
        lua_getfield(L, -2, "metrics");
        lua_pushnil(L);
        while (lua_next(L, -2)) { /* stack: rec, cl.metrics, rec.metrics, name, fn */
            lua_pushvalue(L, -2);
            if (lua_rawget(L, -5) == LUA_TNIL) { /* never replace the owner's own */
                lua_pop(L, 1);
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -5);
            } else {
                lua_pop(L, 2);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 1;
}
