/* lframe_clean.c - churnlab.frame: frame-level cleaning and sampling (df:dropna, df:fillna,
 * df:drop_duplicates, df:sample), pandas' DataFrame methods of those names. */
#include "support/lframe.h"

#include "frame/frame_clean.h"

/* The subset option (a name or a list of names; nil: every column). */
static const char **optsubset(lua_State *L, int o, const char *what, int *n)
{
    *n = 0;
    if (!o || lua_getfield(L, o, "subset") == LUA_TNIL)
        return NULL;
    int t = lua_gettop(L);
    return checkstrlist(L, t, n, lua_pushfstring(L, "%s: subset", what));
}

static int c_dropna(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"subset", "how", NULL};
    int o = lcl_check_options(L, 2, "dropna", known);
    const char *how = lcl_optstr(L, o, "how", "any");
    if (strcmp(how, "any") && strcmp(how, "all"))
        return luaL_error(L, "dropna: how must be \"any\" or \"all\", got '%s'", how);
    int n;
    const char **sub = optsubset(L, o, "dropna", &n);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_clean_dropna(&r, f, sub, n, how[1] == 'l'));
    return push_frame(L, r);
}

/* fillna(number | string) fills the columns of its type; fillna{col = value, ...} fills each
 * named column; fillna{method = "ffill"|"bfill" [, subset]} fills from the neighbours. */
static int c_fillna(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    cl_frame *r = NULL;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        LCL_CHECK(L, cl_frame_clean_fillna(&r, f, NULL, 0, lua_tonumber(L, 2), NULL));
        return push_frame(L, r);
    }
    if (lua_type(L, 2) == LUA_TSTRING) {
        LCL_CHECK(L, cl_frame_clean_fillna(&r, f, NULL, 0, NAN, lua_tostring(L, 2)));
        return push_frame(L, r);
    }
    if (!lua_istable(L, 2))
        return luaL_argerror(L, 2, "a number, a string, {col = value} or {method = \"ffill\"|"
                                   "\"bfill\"} expected");
    if (lua_getfield(L, 2, "method") != LUA_TNIL) {
        lua_pop(L, 1);
        static const char *const known[] = {"method", "subset", NULL};
        int o = lcl_check_options(L, 2, "fillna", known);
        const char *m = lcl_optstr(L, o, "method", "ffill");
        if (strcmp(m, "ffill") && strcmp(m, "bfill"))
            return luaL_error(L, "fillna: method must be \"ffill\" or \"bfill\", got '%s'", m);
        int n;
        const char **sub = optsubset(L, o, "fillna", &n);
        LCL_CHECK(L, cl_frame_clean_fill_forward(&r, f, sub, n, m[0] == 'b'));
        return push_frame(L, r);
    }
    lua_pop(L, 1);
    /* {col = value}: check every name and type before doing anything */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "fillna: expected {column = value, ...}, got a %s key",
                              luaL_typename(L, -2));
        const char *name = lua_tostring(L, -2);
        int j;
        LCL_CHECK(L, cl_frame_col(f, name, &j));
        int t = lua_type(L, -1);
        if (f->cols[j]->type == CL_CAT ? t != LUA_TSTRING : t != LUA_TNUMBER)
            return luaL_error(L, "fillna: column '%s' is %s: it needs a %s, got %s", name,
                              cl_frame_coltype_name(f->cols[j]->type),
                              f->cols[j]->type == CL_CAT ? "string" : "number", luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    LCL_CHECK(L, cl_frame_copy(&r, f));
    push_frame(L, r); /* owns r */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        const char *name = lua_tostring(L, -2);
        int j = cl_frame_find(f, name);
        cl_column *c = NULL;
        int rc = f->cols[j]->type == CL_CAT ? cl_col_fillna_str(&c, f->cols[j], lua_tostring(L, -1))
                                            : cl_col_fillna_num(&c, f->cols[j], lua_tonumber(L, -1));
        if (rc == CL_OK) {
            rc = cl_frame_set(r, name, c);
            cl_frame_column_free(c);
        }
        LCL_CHECK(L, rc);
        lua_pop(L, 1);
    }
    return 1;
}

static cl_keep optkeep(lua_State *L, int o, const char *what)
{
    cl_keep keep = CL_KEEP_FIRST;
    if (o && lua_getfield(L, o, "keep") != LUA_TNIL) {
        const char *s = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1))
            keep = CL_KEEP_NONE;
        else if (s && !strcmp(s, "first"))
            keep = CL_KEEP_FIRST;
        else if (s && !strcmp(s, "last"))
            keep = CL_KEEP_LAST;
        else
            luaL_error(L, "%s: keep must be \"first\", \"last\" or false", what);
        lua_pop(L, 1);
    }
    return keep;
}

static int c_drop_duplicates(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"subset", "keep", NULL};
    int o = lcl_check_options(L, 2, "drop_duplicates", known);
    cl_keep keep = optkeep(L, o, "drop_duplicates");
    int n;
    const char **sub = optsubset(L, o, "drop_duplicates", &n);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_clean_drop_duplicates(&r, f, sub, n, keep));
    return push_frame(L, r);
}

static int c_duplicated(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"subset", "keep", NULL};
    int o = lcl_check_options(L, 2, "duplicated", known);
    cl_keep keep = optkeep(L, o, "duplicated");
    int n;
    const char **sub = optsubset(L, o, "duplicated", &n);
    uint8_t *d;
    LCL_CHECK(L, cl_frame_clean_duplicated(f, sub, n, keep, &d));
    cl_column *m;
    int rc = cl_frame_column_new_num(&m, CL_NUM, f->nrow);
    for (int64_t i = 0; rc == CL_OK && i < f->nrow; i++)
        m->num[i] = d[i];
    cl_alloc_free(d);
    LCL_CHECK(L, rc);
    return push_column(L, m, NULL);
}

static int c_sample(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"n", "frac", "seed", "replace", NULL};
    int o = lcl_check_options(L, 2, "sample", known);
    double n = lcl_optnum(L, o, "n", NAN), frac = lcl_optnum(L, o, "frac", NAN);
    int replace = lcl_optbool(L, o, "replace", 0);
    uint64_t seed = (uint64_t)(lua_Integer)lcl_optnum(L, o, "seed", 42);
    if (!isnan(n) && !isnan(frac))
        return luaL_error(L, "sample: give n or frac, not both");
    int64_t k;
    if (!isnan(frac)) {
        if (!(frac >= 0) || (frac > 1 && !replace))
            return luaL_error(L, "sample: frac must be in [0, 1] (or > 1 with replace = true), "
                                 "got %f", frac);
        k = (int64_t)llround(frac * (double)f->nrow); /* pandas: round(frac * len) */
    } else if (!isnan(n)) {
        if (!(n >= 0) || n != floor(n))
            return luaL_error(L, "sample: n must be a whole number >= 0, got %f", n);
        k = (int64_t)n;
    } else {
        k = f->nrow ? 1 : 0; /* pandas: one row by default */
    }
    int64_t *idx;
    LCL_CHECK(L, cl_frame_clean_sample_index(f->nrow, k, replace, seed, &idx));
    cl_frame *r;
    int rc = cl_frame_take(&r, f, idx, k);
    cl_alloc_free(idx);
    LCL_CHECK(L, rc);
    return push_frame(L, r);
}

static const luaL_Reg fns[] = {{"dropna", c_dropna},
                               {"fillna", c_fillna},
                               {"drop_duplicates", c_drop_duplicates},
                               {"duplicated", c_duplicated},
                               {"sample", c_sample},
                               {NULL, NULL}};

static const doc docs[] = {
    {"dropna", "df:dropna([{subset = cols, how = \"any\"|\"all\"}]) -> the rows with no missing "
               "value (how = \"any\") or not all missing (\"all\") in the subset (every column "
               "by default), in order (pandas' dropna)"},
    {"fillna", "df:fillna(value | {col = value, ...} | {method = \"ffill\"|\"bfill\", subset}) "
               "-> missing values filled: a number fills every num and date column, a string "
               "every cat column; {col = value} fills the named columns (the value's type must "
               "fit the column); ffill takes the last value above, bfill the next one below "
               "(leading/trailing gaps stay missing), as pandas"},
    {"drop_duplicates", "df:drop_duplicates([{subset = cols, keep = \"first\"|\"last\"|false}]) "
                        "-> rows whose subset values (every column by default) did not occur "
                        "before (first), after (last), or at all elsewhere (false); missing "
                        "values equal each other, as pandas"},
    {"duplicated", "df:duplicated([{subset, keep}]) -> mask (1 = a repeat that "
                   "drop_duplicates with the same options removes), as pandas' duplicated"},
    {"sample", "df:sample{n = k | frac = f, seed = 42, replace = false} -> k (or round(f * "
               "#df); default 1) random rows in draw order, the same for the same seed on "
               "every machine (not pandas' random stream)"},
    {NULL, NULL}};

void lframe_open_clean(lua_State *L)
{
    luaL_getmetatable(L, FRAME);
    luaL_setfuncs(L, fns, 0);
    set_docs(L, docs);
    lua_pop(L, 1);
}
