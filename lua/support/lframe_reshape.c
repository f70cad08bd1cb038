/* lframe_reshape.c - churnlab.frame: df:pivot, df:pivot_table, df:melt. */
#include "support/lframe.h"

#include "frame/frame_reshape.h"

/* A required string option. */
static const char *reqstr(lua_State *L, int o, const char *key, const char *what)
{
    const char *s = lcl_optstr(L, o, key, NULL);
    if (!s)
        luaL_error(L, "%s: option '%s' (a column name) is required", what, key);
    return s;
}

static const char **optlist(lua_State *L, int o, const char *key, const char *what, int *n,
                            int required)
{
    *n = 0;
    if (!o || lua_getfield(L, o, key) == LUA_TNIL) {
        if (required)
            luaL_error(L, "%s: option '%s' (a column name or a list of them) is required", what, key);
        return NULL;
    }
    int t = lua_gettop(L);
    return checkstrlist(L, t, n, lua_pushfstring(L, "%s: %s", what, key));
}

static int pivot_common(lua_State *L, int unique)
{
    cl_frame *f = checkframe(L, 1);
    const char *what = unique ? "pivot" : "pivot_table";
    static const char *const known_p[] = {"index", "columns", "values", NULL};
    static const char *const known_t[] = {"index", "columns", "values", "aggfunc", "fill_value", NULL};
    int o = lcl_check_options(L, 2, what, unique ? known_p : known_t);
    if (!o)
        return luaL_argerror(L, 2, "options {index, columns, values} expected");
    int ni;
    const char **idx = optlist(L, o, "index", what, &ni, 1);
    const char *cols = reqstr(L, o, "columns", what), *vals = reqstr(L, o, "values", what);
    cl_agg_fn fn = CL_AGG_MEAN;
    double q = 0;
    if (!unique)
        LCL_CHECK(L, cl_frame_group_agg_parse_q(lcl_optstr(L, o, "aggfunc", "mean"), &fn, &q));
    double fill = unique ? NAN : lcl_optnum(L, o, "fill_value", NAN);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_reshape_pivot_table(&r, f, idx, ni, cols, vals, fn, q, fill, unique));
    return push_frame(L, r);
}

static int r_pivot(lua_State *L)
{
    return pivot_common(L, 1);
}

static int r_pivot_table(lua_State *L)
{
    return pivot_common(L, 0);
}

static int r_melt(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"id_vars", "value_vars", "var_name", "value_name", NULL};
    int o = lcl_check_options(L, 2, "melt", known);
    int ni, nv;
    const char **id = optlist(L, o, "id_vars", "melt", &ni, 0);
    const char **vals = optlist(L, o, "value_vars", "melt", &nv, 0);
    if (vals && nv == 0)
        return luaL_error(L, "melt: value_vars is empty");
    const char *vn = lcl_optstr(L, o, "var_name", "variable");
    const char *valn = lcl_optstr(L, o, "value_name", "value");
    cl_frame *r;
    LCL_CHECK(L, cl_frame_reshape_melt(&r, f, id, ni, vals, nv, vn, valn));
    return push_frame(L, r);
}

static const luaL_Reg fns[] = {{"pivot", r_pivot}, {"pivot_table", r_pivot_table},
                               {"melt", r_melt}, {NULL, NULL}};

static const doc docs[] = {
    {"pivot_table", "df:pivot_table{index = col | {cols}, columns = col, values = col, aggfunc "
                    "= \"mean\", fill_value = x} -> wide frame as pandas' pivot_table: one row per "
                    "index tuple (sorted), one column per value of `columns` (sorted, named by "
                    "its label) holding aggfunc of values in that cell (count sum mean min max "
                    "std median nunique first last size q<percent>); empty cells missing or fill_value; "
                    "rows with a missing key left out, all-missing columns dropped"},
    {"pivot", "df:pivot{index, columns, values} -> the same reshaping without aggregation (pandas' "
              "pivot): two rows in one cell are an error"},
    {"melt", "df:melt{id_vars = cols, value_vars = cols, var_name = \"variable\", value_name = "
             "\"value\"} -> long frame (pandas' melt): for each value column in order, every row "
             "with the id columns, the value column's name and its value; value_vars default to "
             "every non-id column, which must share one type"},
    {NULL, NULL}};

void lframe_open_reshape(lua_State *L)
{
    luaL_getmetatable(L, FRAME);
    luaL_setfuncs(L, fns, 0);
    set_docs(L, docs);
    lua_pop(L, 1);
}
