/* lframe_window.c - churnlab.frame: row-order transforms (cumsum, shift, diff, rank,
 * rolling) on columns, c:cumsum(), and within groups, df:groupby(keys):cumsum(col). Results
 * are columns aligned with the frame's rows (pandas' groupby(...).transform). */
#include "support/lframe.h"

#include "frame/frame_window.h"

#define GROUPBY "churnlab.GroupBy"

/* The transform's input: a column at arg 1 (no groups), or a GroupBy at arg 1 and a column
 * name at arg 2. Returns the column and sets *next to the first argument after them;
 * allocates nothing (the caller reads its options, then calls groups_of). */
static cl_column *transform_input(lua_State *L, int *next)
{
    cl_column *c = testcol(L, 1);
    if (c) {
        *next = 2;
        return c;
    }
    int is_group = 0;
    if (lua_istable(L, 1) && lua_getmetatable(L, 1)) {
        luaL_getmetatable(L, GROUPBY);
        is_group = lua_rawequal(L, -1, -2);
        lua_pop(L, 2);
    }
    if (!is_group)
        luaL_argerror(L, 1, COLUMN " or " GROUPBY " expected");
    lua_getfield(L, 1, "frame");
    cl_frame *f = checkframe(L, -1);
    lua_pop(L, 1); /* referenced by the GroupBy table */
    const char *name = luaL_checkstring(L, 2);
    int j;
    LCL_CHECK(L, cl_frame_col(f, name, &j));
    *next = 3;
    return f->cols[j];
}

/* Group ids for a GroupBy at arg 1 (*gid NULL for a column); cl_alloc_free(*gid) after use. */
static void groups_of(lua_State *L, int32_t **gid, int32_t *ng)
{
    *gid = NULL;
    *ng = 0;
    if (testcol(L, 1))
        return;
    lua_getfield(L, 1, "frame");
    cl_frame *f = checkframe(L, -1);
    lua_getfield(L, 1, "keys");
    int nk;
    const char **keys = checkstrlist(L, -1, &nk, "groupby");
    LCL_CHECK(L, cl_frame_window_groups(f, keys, nk, gid, ng));
}

/* Pushes the result or raises, after freeing gid. */
static int finish(lua_State *L, int rc, cl_column *r, int32_t *gid)
{
    cl_alloc_free(gid);
    LCL_CHECK(L, rc);
    return push_column(L, r, NULL);
}

static int w_cumsum(lua_State *L)
{
    int32_t *gid, ng;
    int a;
    cl_column *c = transform_input(L, &a), *r = NULL;
    groups_of(L, &gid, &ng);
    int rc = cl_frame_window_col_cumsum(&r, c, gid, ng);
    return finish(L, rc, r, gid);
}

static int64_t optlag(lua_State *L, int a)
{
    int isint = 1;
    lua_Integer k = lua_isnoneornil(L, a) ? 1 : lua_tointegerx(L, a, &isint);
    if (!isint)
        luaL_argerror(L, a, "periods must be an integer");
    return (int64_t)k;
}

static int w_shift(lua_State *L)
{
    int32_t *gid, ng;
    int a;
    cl_column *c = transform_input(L, &a), *r = NULL;
    int64_t k = optlag(L, a);
    groups_of(L, &gid, &ng);
    int rc = cl_frame_window_col_shift(&r, c, k, gid, ng);
    return finish(L, rc, r, gid);
}

static int w_diff(lua_State *L)
{
    int32_t *gid, ng;
    int a;
    cl_column *c = transform_input(L, &a), *r = NULL;
    int64_t k = optlag(L, a);
    groups_of(L, &gid, &ng);
    int rc = cl_frame_window_col_diff(&r, c, k, gid, ng);
    return finish(L, rc, r, gid);
}

static int w_rank(lua_State *L)
{
    int32_t *gid, ng;
    int a;
    static const char *const known[] = {"method", "ascending", NULL};
    cl_column *c = transform_input(L, &a), *r = NULL;
    int o = lcl_check_options(L, a, "rank", known);
    const char *ms = lcl_optstr(L, o, "method", "average");
    int asc = lcl_optbool(L, o, "ascending", 1);
    cl_rank_method m;
    LCL_CHECK(L, cl_frame_window_rank_parse(ms, &m));
    groups_of(L, &gid, &ng);
    int rc = cl_frame_window_col_rank(&r, c, m, !asc, gid, ng);
    return finish(L, rc, r, gid);
}

static int w_rolling(lua_State *L)
{
    int32_t *gid, ng;
    int a;
    static const char *const known[] = {"min_periods", NULL};
    cl_column *c = transform_input(L, &a), *r = NULL;
    int isint;
    lua_Integer w = lua_tointegerx(L, a, &isint);
    const char *fs = lua_type(L, a + 1) == LUA_TSTRING ? lua_tostring(L, a + 1) : NULL;
    if (!isint || !fs) {
        return luaL_error(L, "rolling: expected (window, fn [, {min_periods}]) with an integer "
                             "window and fn one of sum, mean, min, max, std, count, median");
    }
    int o = lcl_check_options(L, a + 2, "rolling", known);
    lua_Integer mp = (lua_Integer)lcl_optnum(L, o, "min_periods", (double)w);
    cl_win_fn fn;
    LCL_CHECK(L, cl_frame_window_win_parse(fs, &fn));
    groups_of(L, &gid, &ng);
    int rc = cl_frame_window_col_rolling(&r, c, (int64_t)w, (int64_t)mp, fn, gid, ng);
    return finish(L, rc, r, gid);
}

static const luaL_Reg fns[] = {{"cumsum", w_cumsum}, {"shift", w_shift}, {"diff", w_diff},
                               {"rank", w_rank},     {"rolling", w_rolling}, {NULL, NULL}};

static const doc col_docs[] = {
    {"cumsum", "c:cumsum() -> running sum (missing values stay missing and are skipped), as "
               "pandas; within groups: df:groupby(keys):cumsum(col)"},
    {"shift", "c:shift([k=1]) -> the value k rows earlier (k < 0: later), missing where there "
              "is none; any type; within groups: df:groupby(keys):shift(col [, k])"},
    {"diff", "c:diff([k=1]) -> c[i] - c[i-k] (dates give days); within groups: "
             "df:groupby(keys):diff(col [, k])"},
    {"rank", "c:rank([{method = \"average\"|\"min\"|\"max\"|\"first\"|\"dense\", ascending = "
             "true}]) -> 1-based ranks, ties by method, missing values stay missing (pandas' "
             "defaults); cat columns rank by label; within groups: df:groupby(keys):rank(col "
             "[, opts])"},
    {"rolling", "c:rolling(window, fn [, {min_periods = window}]) -> fn over the trailing "
                "window of rows ending at each row; fn: sum mean min max std count median; "
                "missing unless the window holds min_periods non-missing values (pandas' "
                "rolling(window).fn()); within groups (the window restarts per group, rows in "
                "row order, so sort by time first): df:groupby(keys):rolling(col, window, fn "
                "[, opts])"},
    {NULL, NULL}};

static const doc group_docs[] = {
    {"cumsum", "g:cumsum(col) -> column aligned with the frame's rows: the running sum of col "
               "within each group, in row order (pandas' groupby(keys)[col].cumsum())"},
    {"shift", "g:shift(col [, k=1]) -> column: col k rows earlier within the group"},
    {"diff", "g:diff(col [, k=1]) -> column: col minus its value k rows earlier in the group"},
    {"rank", "g:rank(col [, {method, ascending}]) -> column: ranks within each group"},
    {"rolling", "g:rolling(col, window, fn [, {min_periods}]) -> column aligned with the "
                "frame's rows: the trailing window within each group (pandas' groupby(keys)"
                "[col].transform(lambda s: s.rolling(window).fn()))"},
    {NULL, NULL}};

/* Adds the transforms to the Column methods and to the GroupBy methods (both metatables
 * exist: called after lframe_open_columns and the GroupBy metatable). */
void lframe_open_window(lua_State *L)
{
    luaL_getmetatable(L, COLUMN);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, fns, 0);
    set_docs(L, col_docs);
    lua_pop(L, 2);
    luaL_getmetatable(L, GROUPBY);
    lua_getfield(L, -1, "__index");
    /* the same C functions serve both; group methods get their own closures so each
     * carries its own help text */
    for (const luaL_Reg *r = fns; r->name; r++) {
        lua_pushnil(L);
        lua_pushcclosure(L, r->func, 1);
        lua_setfield(L, -2, r->name);
    }
    set_docs(L, group_docs);
    lua_pop(L, 2);
}
