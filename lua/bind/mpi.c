/* mpi.c - module churnlab.mpi: the processes of an `mpirun -np N churnlab script.lua` run.
 *
 *   local r, n = cl.mpi.rank(), cl.mpi.size()
 *   local df = cl.read_csv(path, {shard = r, of = n})    -- this rank's block of rows
 *   m:fit(X, y)                                         -- data parallel over the ranks
 *   local total = cl.mpi.allreduce(df:nrow())           -- 'sum', 'max' or 'min'
 *
 * Without MPI in the build, or outside mpirun, there is one process: rank 0 of size 1, and
 * barrier/allreduce return at once. MPI starts on the first call that needs it (never on
 * require) and ends when the process exits (core/base/dist.h).
 */
#include "support/lcl.h"

#include <string.h>

static int l_rank(lua_State *L)
{
    lua_pushinteger(L, cl_dist_rank(cl_dist_world()));
    return 1;
}

static int l_size(lua_State *L)
{
    lua_pushinteger(L, cl_dist_size(cl_dist_world()));
    return 1;
}

static int l_barrier(lua_State *L)
{
    LCL_CHECK(L, cl_dist_barrier(cl_dist_world()));
    return 0;
}

/* allreduce(x [, op]): x a number or a list of numbers (every rank the same length). */
static int l_allreduce(lua_State *L)
{
    static const char *const ops[] = {"sum", "max", "min", NULL};
    int op = luaL_checkoption(L, 2, "sum", ops);
    cl_dist *d = cl_dist_world();
    if (lua_type(L, 1) == LUA_TNUMBER) {
        int isint = lua_isinteger(L, 1);
        double v = lua_tonumber(L, 1);
        LCL_CHECK(L, cl_dist_reduce_f64(d, &v, 1, op));
        if (isint && v == (double)(lua_Integer)v)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
        return 1;
    }
    if (!lua_istable(L, 1))
        return luaL_argerror(L, 1, lua_pushfstring(L, "number or list of numbers expected, got %s",
                                                   luaL_typename(L, 1)));
    lua_Integer n = luaL_len(L, 1);
    double *v = lua_newuserdatauv(L, sizeof *v * (size_t)(n > 0 ? n : 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_geti(L, 1, i);
        if (lua_type(L, -1) != LUA_TNUMBER)
            return luaL_argerror(L, 1, lua_pushfstring(L, "entry %I is a %s, expected a number",
                                                       i, luaL_typename(L, -1)));
        v[i - 1] = lua_tonumber(L, -1);
        lua_pop(L, 1);
    }
    /* every rank must pass as many values: check the length first */
    double len[2] = {(double)n, -(double)n};
    LCL_CHECK(L, cl_dist_reduce_f64(d, len, 2, CL_DIST_MAX));
    if (len[0] != (double)n || -len[1] != (double)n)
        return luaL_error(L, "allreduce: the ranks pass lists of different lengths (%I here, "
                             "between %d and %d over the ranks)",
                          n, (int)-len[1], (int)len[0]);
    LCL_CHECK(L, cl_dist_reduce_f64(d, v, (size_t)n, op));
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg funcs[] = {{"rank", l_rank},
                                 {"size", l_size},
                                 {"barrier", l_barrier},
                                 {"allreduce", l_allreduce},
                                 {NULL, NULL}};

static const lcl_doc docs[] = {
    {"rank", "mpi.rank() -> r: this process's rank, 0 .. size() - 1 (0 without mpirun)."},
    {"size", "mpi.size() -> n: the number of processes of `mpirun -np n churnlab script.lua` "
             "(1 without mpirun or in a build without MPI). With n > 1, gbdt and logreg fits "
             "are data parallel: each rank passes its block of rows (read_csv(path, {shard = "
             "mpi.rank(), of = mpi.size()})) and every rank gets the same model, bit for bit "
             "at any number of ranks and threads (gbdt: the one a single process fits on the "
             "whole file). forest and ALS are not distributed: each rank fits its own rows."},
    {"barrier", "mpi.barrier(): waits until every rank has called it."},
    {"allreduce", "mpi.allreduce(x [, op]) -> y: x a number or a list of numbers (the same "
                  "length on every rank); op 'sum' (default), 'max' or 'min' over the ranks; "
                  "every rank gets the result. Sums of whole numbers below 2^53 are exact; "
                  "other sums are rounded in an order that depends on the number of ranks."},
    {NULL, NULL}};

int luaopen_churnlab_mpi(lua_State *L);
int luaopen_churnlab_mpi(lua_State *L)
{
    luaL_newlib(L, funcs);
    lua_pushboolean(L, cl_dist_built());
    lua_setfield(L, -2, "built");
    lcl_setdocs(L, -1, docs);
    return 1;
}
