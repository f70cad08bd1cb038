/* lframe_lua.c - churnlab.frame operations that call Lua: c:map(fn), df:apply(fn), Lua
 * functions in g:agg{...}; and frames <-> tensors (df:to_tensor, frame.from_tensor).
 *
 * Results of Lua functions are collected into a column whose type the first non-nil result
 * sets (number or boolean: num, string: cat); nil is missing; any other type, or a mix, is an
 * error naming the row (or group). The partial columns live in boxes on the Lua stack, so an
 * error raised by the user's function frees them. */
#include "support/lframe.h"

#include "frame/frame_reshape.h"
#include "frame/frame_window.h"

typedef struct collector {
    int nbox, cbox;  /* stack indices of the num and cat column boxes */
    cl_column *num, *cat;
    int kind;        /* 0 undecided, 1 num, 2 cat */
} collector;

static void collect_begin(lua_State *L, collector *k, int64_t n)
{
    int rc = cl_frame_column_new_num(&k->num, CL_NUM, n);
    if (rc)
        lcl_raise(L, rc);
    push_column(L, k->num, NULL);
    k->nbox = lua_gettop(L);
    if ((rc = cl_frame_column_new_cat(&k->cat, n, NULL)))
        lcl_raise(L, rc);
    push_column(L, k->cat, NULL);
    k->cbox = lua_gettop(L);
    for (int64_t i = 0; i < n; i++) {
        k->num->num[i] = NAN;
        k->cat->codes[i] = -1;
    }
    k->kind = 0;
}

/* Stores the value on top of the stack (popped) as row i; what/idx name the place. */
static void collect_put(lua_State *L, collector *k, int64_t i, const char *what, int64_t idx)
{
    int t = lua_type(L, -1);
    if (t != LUA_TNIL) {
        int kind = t == LUA_TNUMBER || t == LUA_TBOOLEAN ? 1 : t == LUA_TSTRING ? 2 : -1;
        if (kind < 0)
            luaL_error(L, "%s: the function returned a %s for %s %d (expected a number, a "
                       "string, a boolean or nil)", what, luaL_typename(L, -1),
                       what[0] == 'a' && what[1] == 'g' ? "group" : "row", (int)idx);
        if (k->kind && kind != k->kind)
            luaL_error(L, "%s: the function returned a %s for %s %d after %s results", what,
                       luaL_typename(L, -1), what[0] == 'a' && what[1] == 'g' ? "group" : "row",
                       (int)idx, k->kind == 1 ? "number" : "string");
        k->kind = kind;
        if (kind == 1) {
            k->num->num[i] = t == LUA_TBOOLEAN ? lua_toboolean(L, -1) : lua_tonumber(L, -1);
        } else {
            size_t sl;
            const char *s = lua_tolstring(L, -1, &sl);
            LCL_CHECK(L, cl_frame_dict_intern(k->cat->dict, s, sl, &k->cat->codes[i]));
        }
    }
    lua_pop(L, 1);
}

/* The collected column (a new reference); all nil results give a num column. */
static cl_column *collect_end(collector *k)
{
    return cl_frame_column_retain(k->kind == 2 ? k->cat : k->num);
}

/* c:map(fn): fn(value) for every row (nil for a missing value). */
int lframe_map_fn(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    collector k;
    collect_begin(L, &k, c->n);
    for (int64_t i = 0; i < c->n; i++) {
        lua_pushvalue(L, 2);
        push_cell(L, c, i);
        lua_call(L, 1, 1);
        collect_put(L, &k, i, "map", i + 1);
    }
    return push_column(L, collect_end(&k), colname(L, 1));
}

/* df:apply(fn): fn(row) for every row, row = {name = value} (missing values absent). */
static int u_apply(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    lua_settop(L, 2);
    collector k;
    collect_begin(L, &k, f->nrow);
    for (int64_t i = 0; i < f->nrow; i++) {
        lua_pushvalue(L, 2);
        lua_createtable(L, 0, f->ncol);
        for (int j = 0; j < f->ncol; j++) {
            push_cell(L, f->cols[j], i);
            lua_setfield(L, -2, f->names[j]);
        }
        lua_call(L, 1, 1);
        collect_put(L, &k, i, "apply", i + 1);
    }
    return push_column(L, collect_end(&k), NULL);
}

/* Lua aggregates of g:agg: the GroupBy at g, the {column, fn, name} entries in the table at
 * luafns, the frame of C aggregates at out (replaced by the frame with the Lua aggregates
 * appended). Each function gets the group's values as a list in row order with n set
 * ({..., n = count}, missing values nil, as table.pack). */
void lframe_lua_aggs(lua_State *L, int g, int luafns, int out)
{
    lua_getfield(L, g, "frame");
    cl_frame *f = checkframe(L, -1);
    lua_getfield(L, g, "keys");
    int nk;
    const char **keys = checkstrlist(L, -1, &nk, "groupby");
    cl_frame *r = checkframe(L, out);
    /* output row of every row: the C group-by's first row per group, through a row-number
     * column, joined to the first-appearance group ids */
    cl_frame *tmp = NULL, *firsts = NULL;
    cl_column *rn = NULL;
    int32_t *gid = NULL, ng = 0;
    int rc = cl_frame_copy(&tmp, f);
    if (rc == CL_OK && (rc = cl_frame_column_new_num(&rn, CL_NUM, f->nrow)) == CL_OK) {
        for (int64_t i = 0; i < f->nrow; i++)
            rn->num[i] = (double)i;
        rc = cl_frame_set(tmp, "\x01row", rn);
        cl_frame_column_free(rn);
    }
    cl_agg first = {"\x01row", CL_AGG_FIRST, "\x01first"};
    if (rc == CL_OK)
        rc = cl_frame_group_by(&firsts, tmp, keys, nk, &first, 1);
    cl_frame_free(tmp);
    if (rc == CL_OK)
        rc = cl_frame_window_groups(f, keys, nk, &gid, &ng);
    if (rc == CL_OK && (firsts->nrow != ng || r->nrow != ng))
        rc = cl_error(CL_EINVAL, "agg: internal group count mismatch");
    int32_t *map = rc == CL_OK ? lua_newuserdatauv(L, sizeof *map * (size_t)(ng ? ng : 1), 0) : NULL;
    if (rc == CL_OK) {
        const cl_column *fr = firsts->cols[firsts->ncol - 1];
        for (int32_t o = 0; o < ng; o++)
            map[gid[(int64_t)fr->num[o]]] = o;
    }
    cl_frame_free(firsts);
    if (rc) {
        cl_alloc_free(gid);
        lcl_raise(L, rc);
    }
    /* gid into a userdata so a Lua error cannot leak it */
    int32_t *row_out = lua_newuserdatauv(L, sizeof *row_out * (size_t)(f->nrow ? f->nrow : 1), 0);
    for (int64_t i = 0; i < f->nrow; i++)
        row_out[i] = map[gid[i]];
    cl_alloc_free(gid);
    cl_frame *res;
    LCL_CHECK(L, cl_frame_copy(&res, r));
    push_frame(L, res);
    int resi = lua_gettop(L);
    lua_Integer nf = luaL_len(L, luafns);
    int64_t *cnt = lua_newuserdatauv(L, sizeof *cnt * (size_t)(ng ? ng : 1), 0);
    for (lua_Integer e = 1; e <= nf; e++) {
        lua_rawgeti(L, luafns, e);
        int ent = lua_gettop(L);
        lua_rawgeti(L, ent, 1);
        const char *col = lua_tostring(L, -1);
        lua_rawgeti(L, ent, 3);
        const char *name = lua_tostring(L, -1);
        int j;
        LCL_CHECK(L, cl_frame_col(f, col, &j));
        const cl_column *c = f->cols[j];
        lua_createtable(L, ng, 0);
        int lists = lua_gettop(L);
        for (int32_t o = 0; o < ng; o++) {
            lua_newtable(L);
            lua_rawseti(L, lists, o + 1);
            cnt[o] = 0;
        }
        for (int64_t i = 0; i < f->nrow; i++) {
            int32_t o = row_out[i];
            lua_rawgeti(L, lists, o + 1);
            cnt[o]++;
            if (!cl_frame_column_isna_at(c, i)) {
                push_cell(L, c, i);
                lua_rawseti(L, -2, cnt[o]);
            }
            lua_pop(L, 1);
        }
        collector k;
        collect_begin(L, &k, ng);
        for (int32_t o = 0; o < ng; o++) {
            lua_rawgeti(L, ent, 2);
            lua_rawgeti(L, lists, o + 1);
            lua_pushinteger(L, cnt[o]);
            lua_setfield(L, -2, "n");
            lua_call(L, 1, 1);
            collect_put(L, &k, o, "agg", o + 1);
        }
        cl_column *rc_col = collect_end(&k);
        if (cl_frame_find(res, name) >= 0) {
            cl_frame_column_free(rc_col);
            luaL_error(L, "agg: the output column '%s' exists already (give the entry a name: "
                          "{col, fn, name})", name);
        }
        rc = cl_frame_set(res, name, rc_col);
        cl_frame_column_free(rc_col);
        LCL_CHECK(L, rc);
        lua_settop(L, ent - 1);
    }
    lua_pushvalue(L, resi);
    lua_replace(L, out);
    lua_settop(L, out);
}

/* df:to_tensor([cols]): cols default to every num and date column. */
static int u_to_tensor(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    int n;
    const char **names;
    if (lua_isnoneornil(L, 2)) {
        names = lua_newuserdatauv(L, sizeof *names * (size_t)(f->ncol ? f->ncol : 1), 0);
        n = 0;
        for (int j = 0; j < f->ncol; j++)
            if (f->cols[j]->type != CL_CAT)
                names[n++] = f->names[j];
        if (n == 0)
            return luaL_error(L, "to_tensor: the frame has no num or date column (encode cat "
                                 "columns first, or name the columns)");
    } else {
        names = checkstrlist(L, 2, &n, "to_tensor");
    }
    cl_tensor *t;
    LCL_CHECK(L, cl_frame_reshape_to_tensor(&t, f, names, n));
    return lcl_pushtensor(L, t);
}

static int u_from_tensor(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int n = 0;
    const char **names = lua_isnoneornil(L, 2) ? NULL : checkstrlist(L, 2, &n, "from_tensor");
    cl_frame *f;
    LCL_CHECK(L, cl_frame_reshape_from_tensor(&f, t, names, n));
    return push_frame(L, f);
}

static const luaL_Reg framefns[] = {{"apply", u_apply}, {"to_tensor", u_to_tensor}, {NULL, NULL}};

static const doc docs[] = {
    {"apply", "df:apply(fn) -> column: fn(row) for every row, row = {name = value} (missing "
              "values absent), returning a number, boolean (1/0), string (a cat column) or nil "
              "(missing), as pandas' df.apply(fn, axis = 1)"},
    {"to_tensor", "df:to_tensor([{cols}]) -> rows x k float32 tensor of the named num/date "
                  "columns (default: every num and date column), missing values NaN; cat columns "
                  "must be encoded first"},
    {NULL, NULL}};

/* Registers the frame methods; module functions go in the table at the top of the stack. */
void lframe_open_lua(lua_State *L)
{
    luaL_getmetatable(L, FRAME);
    luaL_setfuncs(L, framefns, 0);
    set_docs(L, docs);
    lua_pop(L, 1);
}

void lframe_open_lua_module(lua_State *L)
{
    lua_pushcfunction(L, u_from_tensor);
    lcl_setdoc(L, -1, "from_tensor(t [, {names}]) -> frame of num columns from a 1-D or 2-D "
                      "tensor (names default to x1, x2, ...); also cl.frame_from_tensor");
    lua_setfield(L, -2, "from_tensor");
}
