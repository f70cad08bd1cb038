/* lframe_text.c - churnlab.frame: date parts and month arithmetic on date columns
 * (c:year() ... c:add_months(k), pandas' .dt), string methods on cat columns (c:lower() ...,
 * pandas' .str). */
#include "support/lframe.h"

#include "frame/frame_text.h"

static int push_result(lua_State *L, int rc, cl_column *r)
{
    LCL_CHECK(L, rc);
    return push_column(L, r, colname(L, 1));
}

#define DT(fname, part)                                                                        \
    static int fname(lua_State *L)                                                             \
    {                                                                                          \
        cl_column *r = NULL;                                                                   \
        int rc = cl_frame_text_col_dt_part(&r, checkcol(L, 1), part);                                     \
        return push_result(L, rc, r);                                                          \
    }
DT(t_year, CL_DT_YEAR)
DT(t_month, CL_DT_MONTH)
DT(t_day, CL_DT_DAY)
DT(t_weekday, CL_DT_WEEKDAY)
DT(t_dayofyear, CL_DT_DAYOFYEAR)
DT(t_quarter, CL_DT_QUARTER)
DT(t_hour, CL_DT_HOUR)

static int t_add_months(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    int isint;
    lua_Integer k = lua_tointegerx(L, 2, &isint);
    if (!isint || k < -120000 || k > 120000)
        return luaL_argerror(L, 2, "a whole number of months expected");
    cl_column *r = NULL;
    int rc = cl_frame_text_col_add_months(&r, c, (int)k);
    return push_result(L, rc, r);
}

static int str_op(lua_State *L, cl_str_op op, int nstr, int has_k)
{
    cl_column *c = checkcol(L, 1);
    const char *a = nstr >= 1 ? luaL_checkstring(L, 2) : NULL;
    const char *b = nstr >= 2 ? luaL_checkstring(L, 3) : NULL;
    int k = 0;
    if (has_k) {
        int isint;
        lua_Integer v = lua_isnoneornil(L, 3) ? 1 : lua_tointegerx(L, 3, &isint);
        if (!lua_isnoneornil(L, 3) && (!isint || v == 0 || v > 1000000 || v < -1000000))
            return luaL_argerror(L, 3, "part number: a whole number, 1 = first, -1 = last");
        k = (int)v;
    }
    cl_column *r = NULL;
    int rc = cl_frame_text_col_str(&r, c, op, a, b, k);
    return push_result(L, rc, r);
}

static int t_lower(lua_State *L) { return str_op(L, CL_STR_LOWER, 0, 0); }
static int t_upper(lua_State *L) { return str_op(L, CL_STR_UPPER, 0, 0); }
static int t_strip(lua_State *L) { return str_op(L, CL_STR_STRIP, 0, 0); }
static int t_replace(lua_State *L) { return str_op(L, CL_STR_REPLACE, 2, 0); }
static int t_split_part(lua_State *L) { return str_op(L, CL_STR_SPLIT, 1, 1); }
static int t_str_len(lua_State *L) { return str_op(L, CL_STR_LEN, 0, 0); }
static int t_contains(lua_State *L) { return str_op(L, CL_STR_CONTAINS, 1, 0); }
static int t_startswith(lua_State *L) { return str_op(L, CL_STR_STARTSWITH, 1, 0); }
static int t_endswith(lua_State *L) { return str_op(L, CL_STR_ENDSWITH, 1, 0); }

static const luaL_Reg fns[] = {
    {"year", t_year},       {"month", t_month},         {"day", t_day},
    {"weekday", t_weekday}, {"dayofyear", t_dayofyear}, {"quarter", t_quarter},
    {"hour", t_hour},       {"add_months", t_add_months}, {"lower", t_lower},
    {"upper", t_upper},     {"strip", t_strip},         {"replace", t_replace},
    {"split_part", t_split_part}, {"str_len", t_str_len}, {"contains", t_contains},
    {"startswith", t_startswith}, {"endswith", t_endswith}, {NULL, NULL}};

static const doc docs[] = {
    {"year", "c:year() -> num column: the year of each date (pandas' .dt.year)"},
    {"month", "c:month() -> num column: 1..12"},
    {"day", "c:day() -> num column: day of the month, 1..31"},
    {"weekday", "c:weekday() -> num column: 0 = Monday .. 6 = Sunday (pandas' .dt.weekday)"},
    {"dayofyear", "c:dayofyear() -> num column: 1..366"},
    {"quarter", "c:quarter() -> num column: 1..4"},
    {"hour", "c:hour() -> num column: hour of the day of a date-time, 0..23"},
    {"add_months", "c:add_months(k) -> date column k calendar months later (k < 0: earlier), "
                   "the day clamped to the month's last day (Jan 31 + 1 = Feb 28/29), as pandas' "
                   "date + DateOffset(months = k)"},
    {"lower", "c:lower() -> cat column with ASCII letters lower-cased (other characters kept; "
              "pandas also maps non-ASCII letters)"},
    {"upper", "c:upper() -> cat column with ASCII letters upper-cased"},
    {"strip", "c:strip() -> cat column without leading and trailing ASCII whitespace"},
    {"replace", "c:replace(old, new) -> cat column with every occurrence of the literal old "
                "replaced by new (pandas' str.replace(old, new, regex = False))"},
    {"split_part", "c:split_part(sep [, k = 1]) -> cat column: part k of each label split on "
                   "the literal sep (1 = first, -1 = last; missing when there is no such "
                   "part), pandas' str.split(sep).str[k - 1]"},
    {"str_len", "c:str_len() -> num column: characters (UTF-8 code points) per label"},
    {"contains", "c:contains(s) -> mask: the label holds the literal s (pandas' str.contains(s, "
                 "regex = False)); missing labels give 0"},
    {"startswith", "c:startswith(s) -> mask: the label starts with s"},
    {"endswith", "c:endswith(s) -> mask: the label ends with s"},
    {NULL, NULL}};

void lframe_open_text(lua_State *L)
{
    luaL_getmetatable(L, COLUMN);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, fns, 0);
    set_docs(L, docs);
    lua_pop(L, 2);
}
