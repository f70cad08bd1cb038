/* lframe_stats.c - churnlab.frame: c:cut, c:qcut (pandas' cut and qcut) and df:corr. */
#include "support/lframe.h"

#include "frame/frame_stats.h"

/* Options shared by cut and qcut into o; labels stay referenced by the options table. */
static void cut_options(lua_State *L, int o, cl_cut_opts *co, int nbins, const char *what)
{
    co->right = lcl_optbool(L, o, "right", co->right);
    co->include_lowest = lcl_optbool(L, o, "include_lowest", co->include_lowest);
    double p = lcl_optnum(L, o, "precision", 3);
    if (!(p >= 0 && p <= 15 && p == floor(p)))
        luaL_error(L, "%s: precision must be a whole number in 0..15, got %f", what, p);
    co->precision = (int)p;
    if (o && lua_getfield(L, o, "labels") != LUA_TNIL) {
        if (lua_type(L, -1) == LUA_TBOOLEAN && !lua_toboolean(L, -1)) {
            co->codes = 1;
        } else {
            int n, t = lua_gettop(L);
            co->labels = checkstrlist(L, t, &n, lua_pushfstring(L, "%s: labels", what));
            if (n != nbins)
                luaL_error(L, "%s: %d labels given for %d bins", what, n, nbins);
        }
    }
}

/* c:cut(bins | {edges...} [, {right, include_lowest, labels, precision}]) */
static int s_cut(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    static const char *const known[] = {"right", "include_lowest", "labels", "precision", NULL};
    int o = lcl_check_options(L, 3, "cut", known);
    cl_cut_opts co;
    cl_frame_stats_cut_opts_default(&co);
    co.right = lcl_optbool(L, o, "right", 1);
    double *edges;
    int ne;
    if (lua_type(L, 2) == LUA_TNUMBER) {
        int isint;
        lua_Integer k = lua_tointegerx(L, 2, &isint);
        if (!isint || k < 1 || k > 100000)
            return luaL_argerror(L, 2, "the number of bins must be a whole number in 1..100000");
        double *e;
        LCL_CHECK(L, cl_frame_stats_cut_edges(c, (int)k, co.right, &e));
        ne = (int)k + 1;
        edges = lua_newuserdatauv(L, sizeof *edges * (size_t)ne, 0);
        memcpy(edges, e, sizeof *edges * (size_t)ne);
        cl_alloc_free(e);
    } else if (lua_istable(L, 2)) {
        ne = (int)luaL_len(L, 2);
        if (ne > 100001)
            return luaL_argerror(L, 2, "too many bin edges");
        edges = lua_newuserdatauv(L, sizeof *edges * (size_t)(ne ? ne : 1), 0);
        co.int_edges = 1;
        for (int i = 0; i < ne; i++) {
            if (lua_geti(L, 2, i + 1) != LUA_TNUMBER)
                return luaL_error(L, "cut: bin edge %d must be a number, got %s", i + 1,
                                  luaL_typename(L, -1));
            co.int_edges &= lua_isinteger(L, -1);
            edges[i] = lua_tonumber(L, -1);
            lua_pop(L, 1);
        }
    } else {
        return luaL_argerror(L, 2, "a number of bins or a list of bin edges expected");
    }
    cut_options(L, o, &co, ne - 1, "cut");
    cl_column *r;
    LCL_CHECK(L, cl_frame_stats_col_cut(&r, c, edges, ne, &co));
    return push_column(L, r, colname(L, 1));
}

/* c:qcut(q [, {labels, precision}]) */
static int s_qcut(lua_State *L)
{
    cl_column *c = checkcol(L, 1);
    static const char *const known[] = {"labels", "precision", NULL};
    int isint;
    lua_Integer q = lua_tointegerx(L, 2, &isint);
    if (!isint || q < 1 || q > 100000)
        return luaL_argerror(L, 2, "the number of quantiles must be a whole number in 1..100000");
    int o = lcl_check_options(L, 3, "qcut", known);
    cl_cut_opts co;
    cl_frame_stats_cut_opts_default(&co);
    co.include_lowest = 1; /* as pandas' qcut */
    cut_options(L, o, &co, (int)q, "qcut");
    double *e;
    LCL_CHECK(L, cl_frame_stats_qcut_edges(c, (int)q, &e));
    cl_column *r;
    int rc = cl_frame_stats_col_cut(&r, c, e, (int)q + 1, &co);
    cl_alloc_free(e);
    LCL_CHECK(L, rc);
    return push_column(L, r, colname(L, 1));
}

static int s_corr(lua_State *L)
{
    cl_frame *f = checkframe(L, 1);
    static const char *const known[] = {"method", NULL};
    int o = lcl_check_options(L, 2, "corr", known);
    const char *m = lcl_optstr(L, o, "method", "pearson");
    if (strcmp(m, "pearson") && strcmp(m, "spearman"))
        return luaL_error(L, "corr: method must be \"pearson\" or \"spearman\", got '%s'", m);
    cl_frame *r;
    LCL_CHECK(L, cl_frame_stats_corr(&r, f, m[0] == 's'));
    return push_frame(L, r);
}

static const luaL_Reg colfns[] = {{"cut", s_cut}, {"qcut", s_qcut}, {NULL, NULL}};
static const luaL_Reg framefns[] = {{"corr", s_corr}, {NULL, NULL}};

static const doc col_docs[] = {
    {"cut", "c:cut(k | {edges}, [{right = true, include_lowest = false, labels = {...} | false, "
            "precision = 3}]) -> cat column of interval labels as pandas' cut: k equal-width bins "
            "over the range (widened by 0.1%), or the given increasing edges; (a, b] intervals "
            "(right = false: [a, b)); labels = false gives bin numbers 0..k-1; values outside "
            "every bin and missing values are missing"},
    {"qcut", "c:qcut(q [, {labels, precision = 3}]) -> cat column of q quantile bins (pandas' "
             "qcut: edges at the quantiles 0, 1/q, ..., 1, the first bin including its lowest "
             "value); equal edges are an error"},
    {NULL, NULL}};

static const doc frame_docs[] = {
    {"corr", "df:corr([{method = \"pearson\"|\"spearman\"}]) -> frame {column, <num columns>}: "
             "the correlation of every pair of num columns over the rows where both are present "
             "(pandas' pairwise-complete corr; spearman ranks within those rows); missing when "
             "fewer than 2 rows or a constant column"},
    {NULL, NULL}};

void lframe_open_stats(lua_State *L)
{
    luaL_getmetatable(L, COLUMN);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, colfns, 0);
    set_docs(L, col_docs);
    lua_pop(L, 2);
    luaL_getmetatable(L, FRAME);
    luaL_setfuncs(L, framefns, 0);
    set_docs(L, frame_docs);
    lua_pop(L, 1);
}
