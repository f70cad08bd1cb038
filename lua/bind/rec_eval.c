/* rec_eval.c - cl.rec.evaluate: exact ranking metrics of a recommender on held-out
 * interactions (and RMSE/MAE for mf), printed as a table on request. Part of the module
 * churnlab.rec (lua/bind/rec.c registers it); split out to keep that file under 1500 lines.
 */
#include "support/lcl.h"
#include "support/lrec_metrics.h"

#include <math.h>
#include <string.h>

static void setnum(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

/* evaluate(model, test, {k = 10, exclude_seen = true}) -> {precision, recall, map, ndcg,
 * hit_rate, mrr, coverage, novelty, users, k[, rmse, mae]} */
int lrec_evaluate(lua_State *L)
{
    cl_rec *r = lcl_checkobj(L, 1, "churnlab.Recommender");
    if (!r->state)
        return luaL_error(L, "%s: evaluate before fit", r->ops->name);
    cl_interactions *test = lcl_checkobj(L, 2, "churnlab.Interactions");
    static const char *const known[] = {"k", "exclude_seen", "verbose", "print", NULL};
    int opts = lcl_check_options(L, 3, "evaluate", known);
    int k = (int)lcl_optnum(L, opts, "k", 10);
    int excl = lcl_optbool(L, opts, "exclude_seen", 1);
    const cl_interactions *tr = r->train;
    /* the model's items may extend the test's: a content fit appends featured items without
     * interactions after the matrix's own (same labels first, in order) */
    int items_ok = test->items == tr->items;
    if (!items_ok && tr->items->n >= test->items->n) {
        items_ok = 1;
        for (int64_t j = 0; j < test->items->n && items_ok; j++)
            items_ok = strcmp(test->items->labels[j], tr->items->labels[j]) == 0;
    }
    if (test->users != tr->users || !items_ok)
        return luaL_error(L, "evaluate: the test interactions must share the model's id maps "
                             "(make them with split, or interactions(..., {base = train}))");
    if (k < 1 || k > 100000)
        return luaL_error(L, "evaluate: k must be in [1, 100000], got %d", k);
    size_t n = (size_t)tr->n_users * (size_t)k;
    int32_t *it = lua_newuserdatauv(L, n * sizeof *it + 1, 0);
    cl_progress *p = lcl_progress_new(L, opts);
    int rc = cl_rec_recommend_all(r, k, excl, it, NULL, p);
    lcl_progress_end(p); /* close the bar now: after an early stop, an error or Ctrl-C too */
    lua_pop(L, 1);
    if (rc)
        return lcl_raise(L, rc);
    /* test matrices from interactions(..., {base = train}) may have fewer rows than train
     * when ids were added later; split matrices always match. */
    cl_rankmetrics_report rep;
    LCL_CHECK(L, cl_rankmetrics_evaluate(it, k, test, tr, &rep));
    lua_newtable(L);
    setnum(L, "precision", rep.precision);
    setnum(L, "recall", rep.recall);
    setnum(L, "map", rep.map);
    setnum(L, "ndcg", rep.ndcg);
    setnum(L, "hit_rate", rep.hit_rate);
    setnum(L, "mrr", rep.mrr);
    setnum(L, "coverage", rep.coverage);
    setnum(L, "novelty", rep.novelty);
    lua_pushinteger(L, rep.users);
    lua_setfield(L, -2, "users");
    lua_pushinteger(L, k);
    lua_setfield(L, -2, "k");
    if (r->kind == CL_REC_MF && test->nnz > 0) {
        double *pr = lua_newuserdatauv(L, (size_t)test->nnz * 2 * sizeof *pr, 0);
        double *tv = pr + test->nnz;
        for (int64_t u = 0; u < test->n_users; u++)
            for (int64_t q = test->indptr[u]; q < test->indptr[u + 1]; q++) {
                LCL_CHECK(L, cl_cf_mf_predict_at(r, u, test->indices[q],
                                                 test->times ? test->times[q] : NAN, &pr[q]));
                tv[q] = test->values[q];
            }
        double rmse, mae;
        LCL_CHECK(L, cl_rankmetrics_rmse(pr, tv, test->nnz, &rmse));
        LCL_CHECK(L, cl_rankmetrics_mae(pr, tv, test->nnz, &mae));
        lua_pop(L, 1);
        setnum(L, "rmse", rmse);
        setnum(L, "mae", mae);
    }
    lua_pushstring(L, r->ops->name);
    lua_setfield(L, -2, "name");
    if (lcl_optbool(L, opts, "print", 0)) { /* churnlab.rec_eval.print_table{result} */
        int res = lua_gettop(L);
        lua_getglobal(L, "require");
        lua_pushstring(L, "churnlab.rec_eval");
        lua_call(L, 1, 1);
        lua_getfield(L, -1, "print_table");
        lua_createtable(L, 1, 0);
        lua_pushvalue(L, res);
        lua_rawseti(L, -2, 1);
        if (r->kind == CL_REC_MF && test->nnz > 0) {
            lua_createtable(L, 8, 0);
            static const char *const cols[] = {"precision", "recall", "map", "ndcg",
                                               "hit_rate", "coverage", "rmse", "mae"};
            for (int i = 0; i < 8; i++) {
                lua_pushstring(L, cols[i]);
                lua_rawseti(L, -2, i + 1);
            }
            lua_call(L, 2, 0);
        } else {
            lua_call(L, 1, 0);
        }
        lua_settop(L, res);
    }
    return 1;
}

