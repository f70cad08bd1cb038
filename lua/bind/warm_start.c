/* warm_start.c - churnlab.warm_start: more boosting rounds on a fitted gbdt.
 *
 *   m:fit_more(X, y, {trees = 50})      -- the GBDT method this module installs
 *   cl.warm_start.fit_more(m, X, y, {trees = 50})
 *
 * A separate binding so that the gbdt's own (lua/bind/trees.c) stays one generic model
 * binding; it adds one method to the churnlab.GBDT type registered there. The core is
 * cl_gbdt_fit_more (trees/gbdt.h): on the same data, fit(trees = a) then fit_more(b) is bit for
 * bit fit(trees = a + b).
 */
#include <math.h>

#include "support/lcl.h"
#include "support/lmodel.h"
#include "support/progress.h"

#define T_GBDT "churnlab.GBDT" /* registered by churnlab.trees */

static int l_fit_more(lua_State *L)
{
    cl_gbdt *m = lm_checkimpl(L, 1, T_GBDT); /* the gbdt inside the generic model box */
    cl_tensor *X = lcl_checktensor(L, 2);
    cl_tensor *y = lcl_checktensor(L, 3);
    static const char *const known[] = {"trees", "verbose", "mpi", NULL};
    int opts = lcl_check_options(L, 4, "fit_more", known);
    if (X->ndim != 2)
        return luaL_argerror(L, 2, "X must be a 2-D tensor (rows x features)");
    double k = lcl_optnum(L, opts, "trees", NAN);
    if (!(k >= 1 && k <= 100000 && k == floor(k)))
        return luaL_error(L, "fit_more: option 'trees' (how many more trees) must be a whole "
                             "number in 1..100000");
    cl_gbdt_fit_opts o = {0};
    if (lcl_optbool(L, opts, "mpi", 1)) /* under mpirun: data parallel, as fit */
        o.dist = cl_dist_world();
    cl_progress *pr = lcl_progress_new(L, opts);
    int rc = cl_gbdt_fit_more(m, X, y, (int)k, &o, pr);
    lcl_progress_end(pr);
    lua_pop(L, 1); /* progress */
    LCL_CHECK(L, rc);
    lcl_gc_check(L);
    lua_settop(L, 1);
    return 1;
}

static const char *const DOC =
    "m:fit_more(X, y, {trees = k [, verbose, mpi]}) -> m: k more boosting rounds on a fitted "
    "gbdt (warm start, XGBoost's xgb_model=): the trees and base score stay, boosting goes on "
    "from their margins on X, y; on the same data, fit with trees = a then fit_more with "
    "trees = b gives exactly the model of fit with trees = a + b. Bins are fitted anew on X "
    "with the model's categorical columns. No validation set or early stopping. Works on "
    "models from cl.load and cl.xgboost.load too.";

int luaopen_churnlab_warm_start(lua_State *L);
int luaopen_churnlab_warm_start(lua_State *L)
{
    lua_getglobal(L, "require"); /* the GBDT type first */
    lua_pushstring(L, "churnlab.trees");
    lua_call(L, 1, 0);
    luaL_newlib(L, ((const luaL_Reg[]){{"fit_more", l_fit_more}, {NULL, NULL}}));
    lua_getfield(L, -1, "fit_more");
    lcl_setdoc(L, -1, DOC);
    /* the method: churnlab.GBDT's __index table gets fit_more */
    luaL_getmetatable(L, T_GBDT);
    if (lua_getfield(L, -1, "__index") == LUA_TTABLE) {
        lua_pushvalue(L, -3);
        lua_setfield(L, -2, "fit_more");
    }
    lua_pop(L, 3);
    lcl_setdoc(L, -1, "churnlab.warm_start: more boosting rounds on a fitted gbdt "
                      "(m:fit_more).");
    return 1;
}
