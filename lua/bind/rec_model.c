/* rec_model.c - churnlab.Recommender objects: construction of every kind (content features,
 * hybrid components), fit, growth (add_user, add_item), parameters and model files. Part of
 * the module churnlab.rec (lua/bind/rec.c registers it). */
#include "bind/rec_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- churnlab.Recommender -------------------------------------------------------------- */

cl_rec *lrec_checkrec(lua_State *L, int idx) { return lcl_checkobj(L, idx, REC); }

cl_rec *lrec_checkfitted(lua_State *L, int idx, const char *what)
{
    cl_rec *r = lrec_checkrec(L, idx);
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
    /* token dictionaries of the cat columns: a Lua table token -> feature index per lrec_column */
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
    lrec_column idc = {fidx, NULL, f->cols[ic], rows, item};
    for (int64_t k = 0; k < rows; k++) {
        char buf[64];
        lrec_colpush(L, &idc, k);
        const char *sl = lrec_tolabel(L, -1, buf, sizeof buf);
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
            const char *s = lrec_tolabel(L, -1, buf, sizeof buf);
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
    cl_rec *r = lrec_checkrec(L, 1);
    cl_interactions *m = lrec_checkinter(L, 2);
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

/* Reads a history: a list of item labels, or {items = {...}, values = {...}}. Unknown items
 * are skipped (counted in *unknown). Buffers live in userdata pushed on the stack (2). */
int64_t lrec_read_history(lua_State *L, const cl_rec *r, int idx, int32_t **items,
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
        const char *s = lrec_tolabel(L, -1, buf, sizeof buf);
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

/* m:add_user(user, history) -> m, unknown: the user joins the fitted model (fold-in kept) */
static int rec_add_user(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "add_user");
    lua_settop(L, 3);
    char buf[64];
    const char *label = lrec_checklabel(L, 2, buf, sizeof buf, "user");
    lua_pushstring(L, label); /* buf may be reused below: anchor the label */
    label = lua_tostring(L, -1);
    int32_t *items;
    float *values;
    int64_t unknown;
    int64_t n = lrec_read_history(L, r, 3, &items, &values, &unknown, "add_user");
    LCL_CHECK(L, cl_rec_add_user(r, label, n, items, values, NULL));
    lua_settop(L, 1);
    lua_pushinteger(L, (lua_Integer)unknown);
    return 2;
}

/* m:add_item(item[, {users = {...}, values = {...}, features = {...} | tensor}]) -> m, unknown */
static int rec_add_item(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "add_item");
    lua_settop(L, 3);
    char buf[64];
    const char *label = lrec_checklabel(L, 2, buf, sizeof buf, "item");
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
            const char *sl = lrec_tolabel(L, -1, b2, sizeof b2);
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

static int rec_save(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "save");
    const char *path = luaL_checkstring(L, 2);
    int rc = cl_rec_save(r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1);
    return 1;
}

int lrec_load(lua_State *L)
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
    cl_rec *r = lrec_checkrec(L, 1);
    lcl_push_params(L, r->ops->defs, r->params);
    return 1;
}

static int rec_kind(lua_State *L)
{
    lua_pushstring(L, lrec_checkrec(L, 1)->ops->name);
    return 1;
}

static int rec_fit_time(lua_State *L)
{
    lua_pushnumber(L, lrec_checkrec(L, 1)->fit_seconds);
    return 1;
}

static int rec_interactions(lua_State *L)
{
    cl_rec *r = lrec_checkfitted(L, 1, "interactions");
    return lrec_pushinter(L, cl_interactions_retain(r->train));
}


/* ---- registration (lua/bind/rec.c) ----------------------------------------------------- */

const luaL_Reg lrec_model_funcs[] = {
    {"popular", l_popular}, {"itemknn", l_itemknn}, {"mf", l_mf},         {"als", l_als},
    {"content", l_content}, {"hybrid", l_hybrid},   {"ease", l_ease},     {"bpr", l_bpr},
    {"load", lrec_load},    {NULL, NULL}};
const luaL_Reg lrec_model_meta[] = {
    {"__gc", rec_gc}, {"__close", rec_gc}, {"__tostring", rec_tostring}, {NULL, NULL}};
const luaL_Reg lrec_model_methods[] = {
    {"fit", rec_fit},           {"add_user", rec_add_user}, {"add_item", rec_add_item},
    {"save", rec_save},         {"params", rec_params},     {"kind", rec_kind},
    {"fit_time", rec_fit_time}, {"interactions", rec_interactions}, {NULL, NULL}};
