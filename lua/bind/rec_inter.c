/* rec_inter.c - churnlab.Interactions, the user x item matrices recommenders fit on: labels,
 * columns (Lua lists, tensors, frame columns), building, splitting. Part of the module
 * churnlab.rec (lua/bind/rec.c registers it). */
#include "bind/rec_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- labels ---------------------------------------------------------------------------- */

/* Label of the value at idx (integer, integral float or string) into buf; NULL if neither. */
const char *lrec_tolabel(lua_State *L, int idx, char *buf, size_t cap)
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

const char *lrec_checklabel(lua_State *L, int idx, char *buf, size_t cap, const char *what)
{
    const char *s = lrec_tolabel(L, idx, buf, cap);
    if (!s)
        luaL_argerror(L, idx,
                      lua_pushfstring(L, "%s label must be an integer or a string, got %s", what,
                                      luaL_typename(L, idx)));
    return s;
}

void lrec_pushlabel(lua_State *L, const cl_idmap *m, int64_t i)
{
    if (m->numeric)
        lua_pushinteger(L, (lua_Integer)strtoll(m->labels[i], NULL, 10));
    else
        lua_pushstring(L, m->labels[i]);
}

/* ---- columns: a Lua sequence or a 1-D tensor ------------------------------------------- */

/* Column named by opts[key] of the frame at fidx (key absent: none, or an error when
 * required). */
static void framecolumn(lua_State *L, int fidx, int opts, const char *key, lrec_column *c,
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

static void getcolumn(lua_State *L, int tbl, const char *key, lrec_column *c, int required)
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
void lrec_colpush(lua_State *L, const lrec_column *c, int64_t k)
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

static double colnum(lua_State *L, const lrec_column *c, int64_t k)
{
    lrec_colpush(L, c, k);
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

cl_interactions *lrec_checkinter(lua_State *L, int idx)
{
    return lcl_checkobj(L, idx, INTER);
}

int lrec_pushinter(lua_State *L, cl_interactions *m)
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
static int fast_ids(const lrec_column *c, cl_idmap *m, int add, int64_t *out)
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
void lrec_getcolumns(lua_State *L, int src, int opts, lrec_column *cu, lrec_column *ci,
                     lrec_column *cv, lrec_column *ct)
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
    lrec_column cu, ci, cv, ct;
    lrec_getcolumns(L, 1, opts, &cu, &ci, &cv, &ct);
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
        lrec_colpush(L, &cu, k);
        lrec_colpush(L, &ci, k);
        const char *ul = lrec_tolabel(L, -2, b1, sizeof b1);
        const char *il = lrec_tolabel(L, -1, b2, sizeof b2);
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
    lrec_pushinter(L, m);
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
    return lrec_pushinter(L, m);
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
    const cl_interactions *m = lrec_checkinter(L, 1);
    lua_pushinteger(L, (lua_Integer)m->n_users);
    lua_pushinteger(L, (lua_Integer)m->n_items);
    return 2;
}

static int inter_nnz(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lrec_checkinter(L, 1)->nnz);
    return 1;
}

static int inter_duplicates(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lrec_checkinter(L, 1)->duplicates);
    return 1;
}

static int pushlabels(lua_State *L, const cl_idmap *m)
{
    lua_createtable(L, (int)m->n, 0);
    for (int64_t i = 0; i < m->n; i++) {
        lrec_pushlabel(L, m, i);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static int inter_users(lua_State *L) { return pushlabels(L, lrec_checkinter(L, 1)->users); }
static int inter_items(lua_State *L) { return pushlabels(L, lrec_checkinter(L, 1)->items); }

/* user_items(user) -> {item labels}, {values}, {times}|nil (ascending item index). */
static int inter_user_items(lua_State *L)
{
    const cl_interactions *m = lrec_checkinter(L, 1);
    char buf[64];
    const char *lab = lrec_checklabel(L, 2, buf, sizeof buf, "user");
    int64_t u = cl_interactions_idmap_find(m->users, lab);
    int64_t a = u >= 0 ? m->indptr[u] : 0, n = u >= 0 ? m->indptr[u + 1] - a : 0;
    lua_createtable(L, (int)n, 0);
    lua_createtable(L, (int)n, 0);
    for (int64_t k = 0; k < n; k++) {
        lrec_pushlabel(L, m->items, m->indices[a + k]);
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
    const cl_interactions *m = lrec_checkinter(L, 1);
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
    const cl_interactions *m = lrec_checkinter(L, 1);
    char b1[64], b2[64];
    int64_t u = cl_interactions_idmap_find(m->users, lrec_checklabel(L, 2, b1, sizeof b1, "user"));
    int64_t i = cl_interactions_idmap_find(m->items, lrec_checklabel(L, 3, b2, sizeof b2, "item"));
    lua_pushboolean(L, u >= 0 && i >= 0 && cl_interactions_has(m, u, (int32_t)i));
    return 1;
}


/* ---- registration (lua/bind/rec.c) ----------------------------------------------------- */

const luaL_Reg lrec_inter_funcs[] = {{"interactions", l_interactions},
                                     {"random_interactions", l_random_interactions},
                                     {NULL, NULL}};
const luaL_Reg lrec_inter_meta[] = {
    {"__gc", inter_gc}, {"__close", inter_gc}, {"__tostring", inter_tostring}, {NULL, NULL}};
const luaL_Reg lrec_inter_methods[] = {
    {"shape", inter_shape}, {"nnz", inter_nnz}, {"duplicates", inter_duplicates},
    {"users", inter_users}, {"items", inter_items}, {"user_items", inter_user_items},
    {"split", inter_split}, {"has", inter_has}, {NULL, NULL}};
