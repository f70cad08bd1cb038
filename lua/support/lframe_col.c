/* lframe_col.c - churnlab.Column: vectorised column operations for churnlab.frame.
 *
 * Arithmetic uses Lua operators (+ - * / % ^, unary -). Lua turns the result of < <= > >= ==
 * into one boolean, so comparisons are methods (:lt :le :gt :ge :eq :ne :isin) returning
 * masks (num columns of 0/1), which combine with & | ~ (__band/__bor/__bnot) or :and_ :or_
 * :not_. Using < or <= on a column raises an error saying so.
 */
#include "support/lframe.h"

/* ---- columns -------------------------------------------------------------------------------- */

static int c_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, COLUMN);
    if (!b->obj) {
        lua_pushstring(L, COLUMN " (freed)");
        return 1;
    }
    cl_column *c = b->obj;
    const char *name = colname(L, 1);
    if (name)
        lua_pushfstring(L, COLUMN " '%s' %s %d", name, cl_frame_coltype_name(c->type), (int)c->n);
    else
        lua_pushfstring(L, COLUMN " %s %d", cl_frame_coltype_name(c->type), (int)c->n);
    return 1;
}

static int c_repl(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    int width = (int)luaL_optinteger(L, 2, 100);
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    const char *name = colname(L, 1);
    char buf[128];
    snprintf(buf, sizeof buf, "%s <%s> %lld rows: ", name ? name : "column",
             cl_frame_coltype_name(c->type), (long long)c->n);
    luaL_addstring(&b, buf);
    int used = (int)strlen(buf);
    for (int64_t i = 0; i < c->n; i++) {
        cell_text(c, i, buf, sizeof buf);
        clip_text(buf);
        int l = (int)strlen(buf) + (i ? 2 : 0);
        if (used + l > width - 5) {
            luaL_addstring(&b, ", ...");
            break;
        }
        if (i)
            luaL_addstring(&b, ", ");
        luaL_addstring(&b, buf);
        used += l;
    }
    luaL_pushresult(&b);
    return 1;
}

static int c_len(lua_State *L)
{
    lua_pushinteger(L, checkcol(L, 1)->n);
    return 1;
}

static int c_type(lua_State *L)
{
    lua_pushstring(L, cl_frame_coltype_name(checkcol(L, 1)->type));
    return 1;
}

static int c_name(lua_State *L)
{
    checkcol(L, 1);
    const char *n = colname(L, 1);
    if (n)
        lua_pushstring(L, n);
    else
        lua_pushnil(L);
    return 1;
}

static int c_get(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    push_cell(L, c, checkrowidx(L, 2, c->n));
    return 1;
}

static int c_totable(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    lua_createtable(L, (int)c->n, 0);
    for (int64_t i = 0; i < c->n; i++) {
        push_cell(L, c, i);
        lua_rawseti(L, -2, i + 1); /* missing values leave holes (nil) */
    }
    return 1;
}

typedef int (*reducer)(const cl_column *, double *);

static int reduce(lua_State *L, reducer fn)
{
    double v;
    LCL_CHECK(L, fn(checkcol(L, 1), &v));
    lua_pushnumber(L, v);
    return 1;
}

/* Sum, min and max of a column of whole numbers (counts, isna() flags, codes) are Lua
 * integers, so they print as 3, not 3.0, as in pandas' int columns. */
static int reduce_int(lua_State *L, reducer fn)
{
    cl_column *c = checkcol(L, 1);
    double v;
    LCL_CHECK(L, fn(c, &v));
    int whole = c->type == CL_NUM && v == floor(v) && fabs(v) < 9007199254740992.0;
    for (int64_t i = 0; whole && i < c->n; i++)
        whole = isnan(c->num[i]) || c->num[i] == floor(c->num[i]);
    if (whole)
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
    return 1;
}

static int c_sum(lua_State *L) { return reduce_int(L, cl_col_sum); }
static int c_mean(lua_State *L) { return reduce(L, cl_col_mean); }
static int c_std(lua_State *L) { return reduce(L, cl_col_std); }
static int c_min(lua_State *L) { return reduce_int(L, cl_col_min); }
static int c_max(lua_State *L) { return reduce_int(L, cl_col_max); }
static int c_median(lua_State *L) { return reduce(L, cl_col_median); }

static int c_quantile(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    if (lua_istable(L, 2)) {
        lua_Integer n = luaL_len(L, 2);
        lua_createtable(L, (int)n, 0);
        for (lua_Integer i = 1; i <= n; i++) {
            lua_geti(L, 2, i);
            double q = luaL_checknumber(L, -1), v;
            lua_pop(L, 1);
            LCL_CHECK(L, cl_col_quantile(c, q, &v));
            lua_pushnumber(L, v);
            lua_rawseti(L, -2, i);
        }
        return 1;
    }
    double v;
    LCL_CHECK(L, cl_col_quantile(c, luaL_checknumber(L, 2), &v));
    lua_pushnumber(L, v);
    return 1;
}

static int c_count(lua_State *L)
{
    lua_pushinteger(L, cl_col_count(checkcol(L, 1)));
    return 1;
}

static int c_nunique(lua_State *L)
{
    int64_t n;
    LCL_CHECK(L, cl_col_nunique(checkcol(L, 1), &n));
    lua_pushinteger(L, n);
    return 1;
}

static int c_unique(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    int32_t *codes;
    double *vals;
    int64_t n;
    LCL_CHECK(L, cl_col_unique(c, &codes, &vals, &n));
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        if (codes) {
            lua_pushstring(L, c->dict->labels[codes[i]]);
        } else if (c->type == CL_DATE) {
            char buf[40];
            cl_textnum_format_date(vals[i], buf, sizeof buf);
            lua_pushstring(L, buf);
        } else {
            lua_pushnumber(L, vals[i]);
        }
        lua_rawseti(L, -2, i + 1);
    }
    cl_alloc_free(codes);
    cl_alloc_free(vals);
    return 1;
}

static int c_value_counts(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    const char *name = colname(L, 1);
    static const char *const known[] = {"normalize", NULL};
    int o = lcl_check_options(L, 2, "value_counts", known);
    cl_frame *r;
    if (lcl_optbool(L, o, "normalize", 0))
        LCL_CHECK(L, cl_col_value_shares(&r, c, name ? name : "value"));
    else
        LCL_CHECK(L, cl_col_value_counts(&r, c, name ? name : "value"));
    return push_frame(L, r);
}

static int c_isna(lua_State *L)
{
    cl_column *r;
    LCL_CHECK(L, cl_col_isna(&r, checkcol(L, 1)));
    return push_column(L, r, NULL);
}

static int c_fillna(lua_State *L)
{
    cl_column *c = checkcol(L, 1), *r;
    if (lua_type(L, 2) == LUA_TSTRING && c->type == CL_DATE) {
        double d;
        const char *s = lua_tostring(L, 2);
        if (!cl_textnum_parse_date(s, strlen(s), &d))
            return luaL_argerror(L, 2, "a date (YYYY-MM-DD) expected");
        LCL_CHECK(L, cl_col_fillna_num(&r, c, d));
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        LCL_CHECK(L, cl_col_fillna_str(&r, c, lua_tostring(L, 2)));
    } else {
        LCL_CHECK(L, cl_col_fillna_num(&r, c, luaL_checknumber(L, 2)));
    }
    return push_column(L, r, colname(L, 1));
}

static int c_astype(lua_State *L)
{
    cl_column *c = checkcol(L, 1), *r;
    cl_coltype t;
    LCL_CHECK(L, cl_frame_coltype_parse(luaL_checkstring(L, 2), &t));
    LCL_CHECK(L, cl_col_astype(&r, c, t));
    return push_column(L, r, colname(L, 1));
}

static int c_map(lua_State *L)
{
    cl_column *c = checkcol(L, 1), *r;
    if (lua_isfunction(L, 2))
        return lframe_map_fn(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = 0, nstr = 0, nnum = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return luaL_error(L, "map: keys must be labels (strings)");
        nstr += lua_type(L, -1) == LUA_TSTRING;
        nnum += lua_type(L, -1) == LUA_TNUMBER || lua_type(L, -1) == LUA_TBOOLEAN;
        n++;
        lua_pop(L, 1);
    }
    if (nstr && nnum)
        return luaL_error(L, "map: the new values must be all strings or all numbers");
    const char **from = lua_newuserdatauv(L, sizeof *from * (size_t)(n ? n : 1), 0);
    const char **to_s = lua_newuserdatauv(L, sizeof *to_s * (size_t)(n ? n : 1), 0);
    double *to_n = lua_newuserdatauv(L, sizeof *to_n * (size_t)(n ? n : 1), 0);
    int i = 0;
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        from[i] = lua_tostring(L, -2);
        if (nstr)
            to_s[i] = lua_tostring(L, -1);
        else
            to_n[i] = lua_isboolean(L, -1) ? lua_toboolean(L, -1) : lua_tonumber(L, -1);
        i++;
        lua_pop(L, 1);
    }
    LCL_CHECK(L, cl_col_map(&r, c, from, nstr ? to_s : NULL, nstr ? NULL : to_n, n));
    return push_column(L, r, colname(L, 1));
}

/* An operand: a column (borrowed) or a number. */
static cl_column *operand(lua_State *L, int idx, double *v, int *isnum)
{
    cl_column *c = testcol(L, idx);
    *isnum = 0;
    if (c)
        return c;
    if (lua_type(L, idx) == LUA_TNUMBER) {
        *v = lua_tonumber(L, idx);
        *isnum = 1;
        return NULL;
    }
    luaL_error(L, "attempt to do arithmetic on a column and a %s", luaL_typename(L, idx));
    return NULL;
}

static int arith_op(lua_State *L, cl_arith op)
{
    double va, vb;
    int na, nb;
    cl_column *a = operand(L, 1, &va, &na), *b = operand(L, 2, &vb, &nb), *r;
    if (a && b)
        LCL_CHECK(L, cl_col_arith(&r, op, a, b));
    else if (a)
        LCL_CHECK(L, cl_col_arith_scalar(&r, op, a, vb, 0));
    else
        LCL_CHECK(L, cl_col_arith_scalar(&r, op, b, va, 1));
    return push_column(L, r, NULL);
}

static int c_add(lua_State *L) { return arith_op(L, CL_ARITH_ADD); }
static int c_sub(lua_State *L) { return arith_op(L, CL_ARITH_SUB); }
static int c_mul(lua_State *L) { return arith_op(L, CL_ARITH_MUL); }
static int c_div(lua_State *L) { return arith_op(L, CL_ARITH_DIV); }
static int c_pow(lua_State *L) { return arith_op(L, CL_ARITH_POW); }
static int c_mod(lua_State *L) { return arith_op(L, CL_ARITH_MOD); }

static int c_unm(lua_State *L)
{
    cl_column *r;
    LCL_CHECK(L, cl_col_arith_scalar(&r, CL_ARITH_SUB, checkcol(L, 1), 0, 1));
    return push_column(L, r, NULL);
}

static int compare(lua_State *L, cl_cmp op)
{
    cl_column *a = checkcol(L, 1), *r;
    cl_column *b = testcol(L, 2);
    if (b)
        LCL_CHECK(L, cl_col_cmp(&r, op, a, b));
    else if (lua_type(L, 2) == LUA_TSTRING)
        LCL_CHECK(L, cl_col_cmp_str(&r, op, a, lua_tostring(L, 2)));
    else
        LCL_CHECK(L, cl_col_cmp_scalar(&r, op, a, luaL_checknumber(L, 2)));
    return push_column(L, r, NULL);
}

static int c_lt(lua_State *L) { return compare(L, CL_CMP_LT); }
static int c_le(lua_State *L) { return compare(L, CL_CMP_LE); }
static int c_gt(lua_State *L) { return compare(L, CL_CMP_GT); }
static int c_ge(lua_State *L) { return compare(L, CL_CMP_GE); }
static int c_eq(lua_State *L) { return compare(L, CL_CMP_EQ); }
static int c_ne(lua_State *L) { return compare(L, CL_CMP_NE); }

static int c_no_order(lua_State *L)
{
    return luaL_error(L, "columns cannot be compared with < <= > >= (Lua turns the result into "
                         "a single boolean): use :lt :le :gt :ge, e.g. df.tenure:gt(24)");
}

static int c_isin(lua_State *L)
{
    cl_column *c = checkcol(L, 1), *r;
    luaL_checktype(L, 2, LUA_TTABLE);
    int n = (int)luaL_len(L, 2);
    if (c->type == CL_CAT) {
        const char **s = checkstrlist(L, 2, &n, "isin");
        LCL_CHECK(L, cl_col_isin_str(&r, c, s, n));
    } else {
        double *v = lua_newuserdatauv(L, sizeof *v * (size_t)(n ? n : 1), 0);
        for (int i = 0; i < n; i++) {
            lua_geti(L, 2, i + 1);
            if (c->type == CL_DATE && lua_type(L, -1) == LUA_TSTRING) {
                const char *s = lua_tostring(L, -1);
                if (!cl_textnum_parse_date(s, strlen(s), &v[i]))
                    return luaL_error(L, "isin: '%s' is not a date", s);
            } else {
                int ok;
                v[i] = lua_tonumberx(L, -1, &ok);
                if (!ok)
                    return luaL_error(L, "isin: entry %d must be a number", i + 1);
            }
            lua_pop(L, 1);
        }
        LCL_CHECK(L, cl_col_isin_num(&r, c, v, n));
    }
    return push_column(L, r, NULL);
}

static int c_and(lua_State *L)
{
    cl_column *r;
    LCL_CHECK(L, cl_col_mask_and(&r, checkcol(L, 1), checkcol(L, 2)));
    return push_column(L, r, NULL);
}

static int c_or(lua_State *L)
{
    cl_column *r;
    LCL_CHECK(L, cl_col_mask_or(&r, checkcol(L, 1), checkcol(L, 2)));
    return push_column(L, r, NULL);
}

static int c_not(lua_State *L)
{
    cl_column *r;
    LCL_CHECK(L, cl_col_mask_not(&r, checkcol(L, 1)));
    return push_column(L, r, NULL);
}

static const luaL_Reg col_methods[] = {
    {"type", c_type},       {"name", c_name},       {"get", c_get},
    {"totable", c_totable}, {"sum", c_sum},         {"mean", c_mean},
    {"std", c_std},         {"min", c_min},         {"max", c_max},
    {"median", c_median},   {"quantile", c_quantile}, {"count", c_count},
    {"nunique", c_nunique}, {"unique", c_unique},   {"value_counts", c_value_counts},
    {"isna", c_isna},       {"fillna", c_fillna},   {"astype", c_astype},
    {"map", c_map},         {"lt", c_lt},           {"le", c_le},
    {"gt", c_gt},           {"ge", c_ge},           {"eq", c_eq},
    {"ne", c_ne},           {"isin", c_isin},       {"and_", c_and},
    {"or_", c_or},          {"not_", c_not},        {"len", c_len},
    {NULL, NULL}};

static const luaL_Reg col_meta[] = {
    {"__add", c_add},   {"__sub", c_sub},   {"__mul", c_mul},   {"__div", c_div},
    {"__pow", c_pow},   {"__mod", c_mod},   {"__unm", c_unm},   {"__band", c_and},
    {"__bor", c_or},    {"__bnot", c_not},  {"__lt", c_no_order}, {"__le", c_no_order},
    {"__len", c_len},   {"__tostring", c_tostring}, {"__repl", c_repl},
    {"__gc", box_gc},   {"__close", box_gc}, {NULL, NULL}};

#define COLUMN_DOC                                                                             \
    "A typed column (num, cat or date). Arithmetic with + - * / % ^ and unary -; comparisons "   \
    "are methods returning masks (Lua turns < <= > >= into a single boolean): :lt :le :gt :ge "  \
    ":eq :ne :isin; masks combine with & | ~ or :and_ :or_ :not_. Reductions skip missing values."

static const doc col_docs[] = {
    {"type", "c:type() -> \"num\"|\"cat\"|\"date\""},
    {"name", "c:name() -> the column's name in its frame (or nil)"},
    {"get", "c:get(i) -> value of row i (nil when missing)"},
    {"totable", "c:totable() -> {v, ...} (missing values are holes)"},
    {"sum", "c:sum() -> sum of non-missing values"},
    {"mean", "c:mean() -> mean of non-missing values"},
    {"std", "c:std() -> sample standard deviation (n - 1)"},
    {"min", "c:min() -> smallest value"},
    {"max", "c:max() -> largest value"},
    {"median", "c:median() -> median"},
    {"quantile", "c:quantile(q | {qs}) -> linear-interpolation quantile(s), q in [0, 1]"},
    {"count", "c:count() -> non-missing values"},
    {"nunique", "c:nunique() -> distinct non-missing values"},
    {"unique", "c:unique() -> {v, ...} distinct values in order of first appearance"},
    {"value_counts", "c:value_counts([{normalize = true}]) -> frame {value, count}, most "
                     "frequent first; normalize gives {value, share}"},
    {"isna", "c:isna() -> mask of missing values"},
    {"fillna", "c:fillna(v) -> missing values replaced by v"},
    {"astype", "c:astype(\"num\"|\"cat\"|\"date\") -> converted column"},
    {"map", "c:map{label = new, ...} -> recoded cat column (strings) or num column (numbers); "
            "unmapped labels become missing; c:map(fn) -> fn(value) for every row (nil for a "
            "missing value) returning a number, boolean, string or nil (pandas' Series.map)"},
    {"lt", "c:lt(x) -> mask c < x (x: number, string for cat/date, or column)"},
    {"le", "c:le(x) -> mask c <= x"},
    {"gt", "c:gt(x) -> mask c > x"},
    {"ge", "c:ge(x) -> mask c >= x"},
    {"eq", "c:eq(x) -> mask c == x (e.g. df.Contract:eq(\"Two year\"))"},
    {"ne", "c:ne(x) -> mask c ~= x (missing values give false)"},
    {"isin", "c:isin{v, ...} -> mask of membership"},
    {"and_", "m:and_(m2) -> mask m & m2"},
    {"or_", "m:or_(m2) -> mask m | m2"},
    {"not_", "m:not_() -> mask ~m"},
    {"len", "c:len() -> rows (also #c)"},
    {NULL, NULL}};

void lframe_open_columns(lua_State *L)
{
    lcl_createmeta(L, COLUMN, col_meta, col_methods);
    lua_getfield(L, -1, "__index");
    set_docs(L, col_docs);
    lua_pop(L, 1);
    lcl_setdoc(L, -1, COLUMN_DOC);
    lua_pop(L, 1);
}
