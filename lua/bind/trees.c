/* trees.c - module churnlab.trees: gradient boosting, random forests, single trees.
 *
 *   local trees = require "churnlab.trees"     -- cl.gbdt / cl.forest / cl.tree
 *   local m = trees.gbdt{trees = 300, depth = 6, lr = 0.05}
 *   m:fit(X, y, {valid = {Xv, yv}, early_stop = 50})
 *   local p = m:predict(Xt)                    -- P(y = 1), 1-D float32 tensor
 *   m:predict(Xt, {margin = true})             -- raw score (what TreeSHAP adds up to)
 *   m:predict(Xt, {prior_correction = false})  -- as fitted on reweighted classes
 *   m:prior()                                  -- the rates behind the correction
 *   local phi, names = m:shap(Xt, {pipeline = pipe, scale = "probability"})
 *
 * Fit options (all models): categorical = {column indices} (native categorical columns: codes
 * 0, 1, 2 ... as floats), names = {feature names}, pipeline = p (a fitted churnlab pipeline:
 * feature names, native categorical columns and labels), verbose. gbdt also: valid = {Xv, yv},
 * early_stop = k, metric = "logloss" | "auc" | "rmse".
 *
 * Prior correction (core/models/prior.h): after scale_pos_weight (gbdt) or class_weight =
 * "balanced" (forest, tree) predict maps probabilities back to the true churn rate unless the
 * parameter prior_correction is false; the predict option overrides it for one call.
 */
#include "support/lcl.h"
#include "support/lmodel.h"

#include "models/prior.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "frame/prep.h"

#define T_GBDT "churnlab.GBDT"
#define T_FOREST "churnlab.Forest"
#define T_TREE "churnlab.Tree"
#define T_PIPELINE "churnlab.Pipeline"

/* ---- shared helpers --------------------------------------------------------------------- */

typedef struct model_ref {
    cl_gbdt *g;   /* exactly one of g / f is set */
    cl_forest *f;
    const char *tname;
} model_ref;

static model_ref check_model(lua_State *L, int idx)
{
    model_ref r = {NULL, NULL, NULL};
    if (lcl_testbox(L, idx, T_GBDT)) {
        r.g = lcl_checkobj(L, idx, T_GBDT);
        r.tname = T_GBDT;
    } else if (lcl_testbox(L, idx, T_FOREST)) {
        r.f = lcl_checkobj(L, idx, T_FOREST);
        r.tname = T_FOREST;
    } else {
        r.f = lcl_checkobj(L, idx, T_TREE);
        r.tname = T_TREE;
    }
    return r;
}

static int model_d(const model_ref *r) { return r->g ? r->g->d : r->f->d; }
static int model_fitted(const model_ref *r) { return r->g ? r->g->fitted : r->f->fitted; }
static char **model_names(const model_ref *r) { return r->g ? r->g->names : r->f->names; }

static void *pipeline_at(lua_State *L, int opts, const char *key)
{
    if (!opts || lua_isnoneornil(L, opts))
        return NULL;
    void *p = NULL;
    if (lua_getfield(L, opts, key) != LUA_TNIL) {
        lcl_box *b = lcl_testbox(L, -1, T_PIPELINE);
        if (!b)
            luaL_error(L, "option '%s' must be a churnlab.Pipeline, got %s", key,
                       luaL_typename(L, -1));
        if (!b->obj)
            luaL_error(L, "option '%s' must be a fitted churnlab.Pipeline (call p:fit(frame) first)", key);
        p = b->obj;
    }
    lua_pop(L, 1);
    return p;
}

/* Reads fit options common to every model: categorical flags (d bytes, userdata kept on the
 * stack at the returned position) and feature names (set on the model). */
static uint8_t *fit_common(lua_State *L, int opts, int d, const model_ref *r)
{
    uint8_t *is_cat = lua_newuserdatauv(L, (size_t)d, 0);
    memset(is_cat, 0, (size_t)d);
    if (!opts || lua_isnoneornil(L, opts))
        return is_cat;
    luaL_checktype(L, opts, LUA_TTABLE);
    if (lua_getfield(L, opts, "categorical") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            luaL_error(L, "option 'categorical' must be a list of column indices");
        lua_Integer k = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= k; i++) {
            lua_geti(L, -1, i);
            int isnum;
            lua_Integer c = lua_tointegerx(L, -1, &isnum);
            if (!isnum || c < 1 || c > d)
                luaL_error(L, "option 'categorical': entry %d must be a column index in 1..%d",
                           (int)i, d);
            is_cat[c - 1] = 1;
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    void *pipe = pipeline_at(L, opts, "pipeline");
    if (pipe) {
        cl_pipeline *pp = pipe;
        if (cl_pipeline_n_features(pp) != d)
            luaL_error(L, "option 'pipeline': it makes %d features, X has %d",
                       cl_pipeline_n_features(pp), d);
        const char **nm = lua_newuserdatauv(L, (size_t)d * sizeof *nm, 0);
        for (int j = 0; j < d; j++) {
            int ncat;
            nm[j] = cl_pipeline_feature_name(pp, j);
            if (cl_pipeline_out_categorical(pp, j, &ncat))
                is_cat[j] = 1;
        }
        int rc = r->g ? cl_gbdt_set_names(r->g, nm, d) : cl_forest_set_names(r->f, nm, d);
        lua_pop(L, 1);
        LCL_CHECK(L, rc);
    }
    if (lua_getfield(L, opts, "names") != LUA_TNIL) {
        if (!lua_istable(L, -1) || luaL_len(L, -1) != d)
            luaL_error(L, "option 'names' must be a list of %d strings (one per column of X)", d);
        const char **nm = lua_newuserdatauv(L, (size_t)d * sizeof *nm, 0);
        for (int j = 0; j < d; j++) {
            lua_geti(L, -2, j + 1);
            if (!lua_isstring(L, -1))
                luaL_error(L, "option 'names': entry %d must be a string", j + 1);
            nm[j] = lua_tostring(L, -1);
            lua_pop(L, 1); /* strings stay referenced by the names table */
        }
        int rc = r->g ? cl_gbdt_set_names(r->g, nm, d) : cl_forest_set_names(r->f, nm, d);
        lua_pop(L, 1);
        LCL_CHECK(L, rc);
    }
    lua_pop(L, 1);
    return is_cat;
}

static int m_gc(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, T_GBDT);
    int gbdt = b != NULL;
    if (!b && !(b = lcl_testbox(L, 1, T_FOREST)) && !(b = lcl_testbox(L, 1, T_TREE)))
        return luaL_typeerror(L, 1, "gbdt, forest or tree model");
    if (b->obj) {
        if (gbdt)
            cl_gbdt_free(b->obj);
        else
            cl_forest_free(b->obj);
        b->obj = NULL;
    }
    return 0;
}

static int m_tostring(lua_State *L)
{
    if (!lcl_testbox(L, 1, T_GBDT) && !lcl_testbox(L, 1, T_FOREST) && !lcl_testbox(L, 1, T_TREE))
        return luaL_typeerror(L, 1, "gbdt, forest or tree model");
    lcl_box *b = lua_touserdata(L, 1);
    const char *tn = lcl_testbox(L, 1, T_GBDT) ? T_GBDT : lcl_testbox(L, 1, T_FOREST) ? T_FOREST : T_TREE;
    if (!b || !b->obj) {
        lua_pushfstring(L, "%s (freed)", tn);
        return 1;
    }
    model_ref r = check_model(L, 1);
    if (r.g) {
        const cl_gbdt_params *p = &r.g->params;
        if (r.g->fitted)
            lua_pushfstring(L, "%s %s %d trees %s %d, %d features", tn,
                            p->objective ? "squared" : "logistic", r.g->ntrees,
                            p->leaves ? "leaves" : "depth", p->leaves ? p->leaves : p->depth,
                            r.g->d);
        else
            lua_pushfstring(L, "%s %s (not fitted)", tn, p->objective ? "squared" : "logistic");
    } else if (r.f->kind == CL_FOREST_KIND_TREE) {
        if (r.f->fitted)
            lua_pushfstring(L, "%s %d nodes, %d features", tn, r.f->trees[0]->n, r.f->d);
        else
            lua_pushfstring(L, "%s (not fitted)", tn);
    } else {
        if (r.f->fitted) {
            char auc[32] = "";
            if (!isnan(r.f->oob_auc))
                snprintf(auc, sizeof auc, ", OOB AUC %.4f", r.f->oob_auc);
            lua_pushfstring(L, "%s %d trees, %d features%s", tn, r.f->ntrees, r.f->d, auc);
        } else {
            lua_pushfstring(L, "%s (not fitted)", tn);
        }
    }
    return 1;
}

static void need_fitted(lua_State *L, const model_ref *r, const char *what)
{
    if (!model_fitted(r))
        luaL_error(L, "%s: the model is not fitted (call fit first)", what);
}

static void check_cols(lua_State *L, const model_ref *r, const cl_tensor *X, int arg,
                       const char *what)
{
    if (X->ndim != 2)
        luaL_argerror(L, arg, "X must be a 2-D tensor (rows x features)");
    if (cl_tensor_cols(X) != model_d(r))
        luaL_error(L, "bad argument #%d to '%s' (X has %d features, the model was fitted on %d)",
                   arg, what, (int)cl_tensor_cols(X), model_d(r));
}

/* ---- constructors ------------------------------------------------------------------- */

static int l_gbdt(lua_State *L)
{
    cl_gbdt_params p = cl_gbdt_params_default();
    lcl_params(L, 1, cl_gbdt_param_defs, &p, "gbdt");
    lcl_box *b = lcl_newbox(L, T_GBDT);
    cl_gbdt *m;
    LCL_CHECK(L, cl_gbdt_new(&m, &p));
    b->obj = m;
    return 1;
}

static int new_forest(lua_State *L, int kind)
{
    cl_forest_params p = kind == CL_FOREST_KIND_TREE ? cl_cart_params_default()
                                                     : cl_forest_params_default();
    lcl_params(L, 1, kind == CL_FOREST_KIND_TREE ? cl_cart_param_defs : cl_forest_param_defs, &p,
               kind == CL_FOREST_KIND_TREE ? "tree" : "forest");
    lcl_box *b = lcl_newbox(L, kind == CL_FOREST_KIND_TREE ? T_TREE : T_FOREST);
    cl_forest *m;
    LCL_CHECK(L, cl_forest_new(&m, kind, &p));
    b->obj = m;
    return 1;
}

static int l_forest(lua_State *L) { return new_forest(L, CL_FOREST_KIND_FOREST); }
static int l_tree(lua_State *L) { return new_forest(L, CL_FOREST_KIND_TREE); }

/* ---- fit / predict ------------------------------------------------------------------ */

static int m_fit(lua_State *L)
{
    model_ref r = check_model(L, 1);
    cl_tensor *X = lcl_checktensor(L, 2);
    cl_tensor *y = lcl_checktensor(L, 3);
    static const char *const known_gbdt[] = {"categorical", "names", "pipeline", "verbose",
                                             "valid", "early_stop", "metric", "mpi", NULL};
    static const char *const known_forest[] = {"categorical", "names", "pipeline", "verbose",
                                               NULL}; /* no validation set: no early stopping */
    int opts = lcl_check_options(L, 4, "fit", r.g ? known_gbdt : known_forest);
    if (X->ndim != 2)
        luaL_argerror(L, 2, "X must be a 2-D tensor (rows x features)");
    int d = (int)cl_tensor_cols(X);
    uint8_t *is_cat = fit_common(L, opts, d, &r);
    if (opts && lua_getfield(L, opts, "pipeline") != LUA_TNIL) {
        lua_setiuservalue(L, 1, 1); /* attached: save() stores it, predict(frame) uses it */
    } else if (opts) {
        lua_pop(L, 1);
    }
    int rc;
    if (r.g) {
        cl_gbdt_fit_opts o = {0};
        o.is_cat = is_cat;
        /* under mpirun the fit is data parallel over the ranks' rows unless mpi = false */
        if (lcl_optbool(L, opts, "mpi", 1))
            o.dist = cl_dist_world();
        if (opts) {
            if (lua_getfield(L, opts, "valid") != LUA_TNIL) {
                if (!lua_istable(L, -1))
                    luaL_error(L, "option 'valid' must be a table {Xv, yv}");
                lua_geti(L, -1, 1);
                lua_geti(L, -2, 2);
                o.Xv = lcl_testtensor(L, -2);
                o.yv = lcl_testtensor(L, -1);
                if (!o.Xv || !o.yv)
                    luaL_error(L, "option 'valid' must be {Xv, yv} with two churnlab.Tensor");
                lua_pop(L, 2); /* the tensors stay referenced by the options table */
            }
            lua_pop(L, 1);
            double es = lcl_optnum(L, opts, "early_stop", 0);
            if (es < 0 || es != floor(es) || es > 1e6)
                luaL_error(L, "option 'early_stop' must be a whole number >= 0, got %f", es);
            o.early_stop = (int)es;
            const char *metric = lcl_optstr(L, opts, "metric", NULL);
            if (metric) {
                if (!strcmp(metric, "logloss"))
                    o.metric = CL_GBDT_METRIC_LOGLOSS;
                else if (!strcmp(metric, "auc"))
                    o.metric = CL_GBDT_METRIC_AUC;
                else if (!strcmp(metric, "rmse"))
                    o.metric = CL_GBDT_METRIC_RMSE;
                else
                    luaL_error(L, "option 'metric' must be logloss, auc or rmse, got '%s'",
                               metric);
            }
        }
        cl_progress *pr = lcl_progress_new(L, opts);
        rc = cl_gbdt_fit(r.g, X, y, &o, pr);
        lcl_progress_end(pr); /* close the bar now: after early stopping, an error or Ctrl-C too */
    } else {
        cl_progress *pr = lcl_progress_new(L, opts);
        rc = cl_forest_fit(r.f, X, y, is_cat, pr);
        lcl_progress_end(pr); /* close the bar now: after an error or Ctrl-C too */
    }
    lua_pop(L, 1); /* progress */
    LCL_CHECK(L, rc);
    lcl_gc_check(L);
    lua_settop(L, 1);
    return 1;
}

static int m_predict(lua_State *L)
{
    model_ref r = check_model(L, 1);
    lm_frame_input(L, 1, 2); /* a raw frame, when the model carries its pipeline */
    cl_tensor *X = lcl_checktensor(L, 2);
    int opts = lua_isnoneornil(L, 3) ? 0 : 3;
    need_fitted(L, &r, "predict");
    check_cols(L, &r, X, 2, "predict");
    int mode = lm_predict_mode(L, opts);
    cl_tensor *out;
    LCL_CHECK(L, cl_tensor_new(&out, 1, cl_tensor_rows(X), 1));
    int rc = r.g ? cl_gbdt_predict(r.g, cl_tensor_data(out), X, mode)
                 : cl_forest_predict_mode(r.f, cl_tensor_data(out), X, mode);
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    return lcl_pushtensor(L, out);
}

/* m:prior() -> {trained_rate, true_rate, corrected, shift} or nil (see lmodel.h) */
static int m_prior(lua_State *L)
{
    model_ref r = check_model(L, 1);
    need_fitted(L, &r, "prior");
    double tr, tt;
    int on = r.g ? cl_gbdt_prior(r.g, &tr, &tt) : cl_forest_prior(r.f, &tr, &tt);
    lm_push_prior(L, tr, tt, on);
    return 1;
}

/* ---- SHAP --------------------------------------------------------------------------- */

/* Forest contributions (probability units, last column the expected value) rescaled per row
 * so they add up to the prior-corrected prediction minus the corrected expected value: the
 * correction is monotone, so every contribution keeps its sign. */
static void forest_shap_corrected(float *phi, size_t n, int d, double trained, double truth)
{
    for (size_t i = 0; i < n; i++) {
        float *o = phi + i * ((size_t)d + 1);
        double e = o[d], total = e;
        for (int j = 0; j < d; j++)
            total += o[j];
        double pe = cl_prior_correct(e, trained, truth), pm = cl_prior_correct(total, trained, truth);
        double f = total != e ? (pm - pe) / (total - e) : 0.0;
        for (int j = 0; j < d; j++)
            o[j] = (float)(o[j] * f);
        o[d] = (float)pe;
    }
}

static int m_shap(lua_State *L)
{
    model_ref r = check_model(L, 1);
    cl_tensor *X = lcl_checktensor(L, 2);
    /* interactions is a known name so that asking for it says it is missing, not unknown */
    static const char *const known[] = {"pipeline", "scale", "interactions", NULL};
    int opts = lcl_check_options(L, 3, "shap", known);
    if (opts && lua_getfield(L, opts, "interactions") != LUA_TNIL && lua_toboolean(L, -1))
        return luaL_argerror(L, 3, "option 'interactions' is not supported: this build "
                                   "computes SHAP values, not SHAP interaction values");
    if (opts)
        lua_pop(L, 1);
    need_fitted(L, &r, "shap");
    check_cols(L, &r, X, 2, "shap");
    const char *scale = lcl_optstr(L, opts, "scale", "margin");
    int to_prob = 0;
    if (!strcmp(scale, "probability"))
        to_prob = r.g && r.g->params.objective == CL_GBDT_LOGISTIC;
    else if (strcmp(scale, "margin") != 0)
        luaL_error(L, "option 'scale' must be 'margin' or 'probability', got '%s'", scale);
    void *pipe = pipeline_at(L, opts, "pipeline");
    int d = model_d(&r);
    size_t n = (size_t)cl_tensor_rows(X);
    cl_tensor *Xc = NULL, *out = NULL;
    int rc = cl_tensor_contiguous(&Xc, X);
    if (!rc)
        rc = cl_tensor_new(&out, 2, (int64_t)n, d + 1);
    if (!rc) {
        if (r.g)
            rc = cl_treeshap((const cl_tree *const *)r.g->trees, r.g->ntrees, cl_tensor_data(Xc),
                             n, d, r.g->base, 1.0, cl_tensor_data(out));
        else
            rc = cl_treeshap((const cl_tree *const *)r.f->trees, r.f->ntrees, cl_tensor_data(Xc),
                             n, d, 0.0, 1.0 / r.f->ntrees, cl_tensor_data(out));
    }
    cl_tensor_free(Xc);
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    if (!strcmp(scale, "probability")) { /* add up to what predict(X) returns */
        double tr, tt;
        float *o = cl_tensor_data(out);
        if (r.g && to_prob && cl_gbdt_prior(r.g, &tr, &tt)) {
            double shift = log(tt / (1 - tt)) - log(tr / (1 - tr));
            for (size_t i = 0; i < n; i++)
                o[i * ((size_t)d + 1) + (size_t)d] = (float)(o[i * ((size_t)d + 1) + (size_t)d] + shift);
        }
        if (to_prob)
            cl_treeshap_to_probability(o, n, d);
        if (r.f && cl_forest_prior(r.f, &tr, &tt))
            forest_shap_corrected(o, n, d, tr, tt);
    }
    char **names = model_names(&r);
    if (!pipe) {
        lcl_pushtensor(L, out);
        lua_createtable(L, d + 1, 0);
        for (int j = 0; j < d; j++) {
            if (names)
                lua_pushstring(L, names[j]);
            else
                lua_pushfstring(L, "x%d", j + 1);
            lua_seti(L, -2, j + 1);
        }
        lua_pushliteral(L, "(expected)");
        lua_seti(L, -2, d + 1);
        return 2;
    }
    /* sum output columns by their source column, in first-appearance order */
    cl_pipeline *pp = pipe;
    lcl_pushtensor(L, out); /* boxed: a Lua error below (memory) cannot leak it */
    if (cl_pipeline_n_features(pp) != d) {
        return luaL_error(L, "option 'pipeline': it makes %d features, the model has %d",
                          cl_pipeline_n_features(pp), d);
    }
    int *grp = lua_newuserdatauv(L, (size_t)d * sizeof *grp, 0);
    const char **gname = lua_newuserdatauv(L, (size_t)d * sizeof *gname, 0);
    int G = 0;
    for (int j = 0; j < d; j++) {
        const char *col, *label;
        cl_pipeline_source(pp, j, &col, &label);
        int g;
        for (g = 0; g < G; g++)
            if (!strcmp(gname[g], col))
                break;
        if (g == G)
            gname[G++] = col;
        grp[j] = g;
    }
    cl_tensor *o2;
    if ((rc = cl_tensor_zeros(&o2, 2, (int64_t)n, G + 1)))
        return lcl_raise(L, rc);
    const float *src = cl_tensor_data(out);
    float *dst = cl_tensor_data(o2);
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            dst[i * (size_t)(G + 1) + (size_t)grp[j]] += src[i * (size_t)(d + 1) + (size_t)j];
        dst[i * (size_t)(G + 1) + (size_t)G] = src[i * (size_t)(d + 1) + (size_t)d];
    }
    lcl_pushtensor(L, o2);
    lua_createtable(L, G + 1, 0);
    for (int g = 0; g < G; g++) {
        lua_pushstring(L, gname[g]);
        lua_seti(L, -2, g + 1);
    }
    lua_pushliteral(L, "(expected)");
    lua_seti(L, -2, G + 1);
    return 2;
}

/* ---- importance, rules, misc -------------------------------------------------------- */

static int m_importance(lua_State *L)
{
    model_ref r = check_model(L, 1);
    static const char *const known[] = {"table", NULL};
    int opts = lcl_check_options(L, 2, "importance", known); /* before the buffers below */
    need_fitted(L, &r, "importance");
    int d = model_d(&r);
    double *v = lua_newuserdatauv(L, (size_t)d * 3 * sizeof *v, 0);
    memset(v, 0, (size_t)d * 3 * sizeof *v);
    if (r.g)
        cl_trees_importance((const cl_tree *const *)r.g->trees, r.g->ntrees, v, v + d, v + 2 * d);
    else
        cl_trees_importance((const cl_tree *const *)r.f->trees, r.f->ntrees, v, v + d, v + 2 * d);
    int *ord = lua_newuserdatauv(L, (size_t)d * sizeof *ord, 0);
    for (int j = 0; j < d; j++)
        ord[j] = j;
    for (int a = 1; a < d; a++) { /* insertion sort by gain, descending, stable */
        int k = ord[a], b = a - 1;
        while (b >= 0 && v[ord[b]] < v[k]) {
            ord[b + 1] = ord[b];
            b--;
        }
        ord[b + 1] = k;
    }
    char **names = model_names(&r);
    int as_table = lcl_optbool(L, opts, "table", 0);
    /* a churnlab.Frame {feature, gain, splits, cover} when the frame module is built */
    if (!as_table) {
        int top = lua_gettop(L);
        lua_getglobal(L, "require");
        lua_pushliteral(L, "churnlab.frame");
        if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1) &&
            lua_getfield(L, -1, "new") == LUA_TFUNCTION) {
            static const char *const cols[] = {"feature", "gain", "splits", "cover"};
            lua_createtable(L, 0, 4);
            for (int c = 0; c < 4; c++) {
                lua_createtable(L, d, 0);
                for (int q = 0; q < d; q++) {
                    int j = ord[q];
                    if (c == 0) {
                        if (names)
                            lua_pushstring(L, names[j]);
                        else
                            lua_pushfstring(L, "x%d", j + 1);
                    } else {
                        lua_pushnumber(L, v[(c - 1) * d + j]);
                    }
                    lua_seti(L, -2, q + 1);
                }
                lua_setfield(L, -2, cols[c]);
            }
            lua_createtable(L, 0, 1);
            lua_createtable(L, 4, 0);
            for (int c = 0; c < 4; c++) {
                lua_pushstring(L, cols[c]);
                lua_seti(L, -2, c + 1);
            }
            lua_setfield(L, -2, "names");
            lua_call(L, 2, 1);
            return 1;
        }
        lua_settop(L, top); /* keeps v and ord alive */
    }
    lua_createtable(L, d, 0);
    for (int q = 0; q < d; q++) {
        int j = ord[q];
        lua_createtable(L, 0, 4);
        if (names)
            lua_pushstring(L, names[j]);
        else
            lua_pushfstring(L, "x%d", j + 1);
        lua_setfield(L, -2, "feature");
        lua_pushnumber(L, v[j]);
        lua_setfield(L, -2, "gain");
        lua_pushinteger(L, (lua_Integer)v[d + j]);
        lua_setfield(L, -2, "splits");
        lua_pushnumber(L, v[2 * d + j]);
        lua_setfield(L, -2, "cover");
        lua_seti(L, -2, q + 1);
    }
    return 1;
}

static int m_rules(lua_State *L)
{
    cl_forest *m = lcl_checkobj(L, 1, T_TREE);
    static const char *const known[] = {"label", "pipeline", NULL};
    int opts = lcl_check_options(L, 2, "rules", known);
    if (!m->fitted)
        return luaL_error(L, "rules: the model is not fitted (call fit first)");
    const char *what = lcl_optstr(L, opts, "label", "churn");
    void *pipe = pipeline_at(L, opts, "pipeline");
    int d = m->d;
    cl_rules_names nm;
    memset(&nm, 0, sizeof nm);
    nm.names = (const char *const *)m->names;
    if (pipe) {
        cl_pipeline *pp = pipe;
        if (cl_pipeline_n_features(pp) != d)
            return luaL_error(L, "option 'pipeline': it makes %d features, the model has %d",
                              cl_pipeline_n_features(pp), d);
        const char **names = lua_newuserdatauv(L, (size_t)d * sizeof *names, 0);
        const char **sc = lua_newuserdatauv(L, (size_t)d * sizeof *sc, 0);
        const char **sl = lua_newuserdatauv(L, (size_t)d * sizeof *sl, 0);
        const char ***lab = lua_newuserdatauv(L, (size_t)d * sizeof *lab, 0);
        int *nlab = lua_newuserdatauv(L, (size_t)d * sizeof *nlab, 0);
        double *umul = lua_newuserdatauv(L, (size_t)d * sizeof *umul, 0);
        double *uadd = lua_newuserdatauv(L, (size_t)d * sizeof *uadd, 0);
        for (int j = 0; j < d; j++) {
            names[j] = cl_pipeline_feature_name(pp, j);
            cl_pipeline_source(pp, j, &sc[j], &sl[j]);
            cl_pipeline_unscale(pp, j, &umul[j], &uadd[j]); /* "tenure < 3.5", not "< 0.0486" */
            lab[j] = NULL;
            nlab[j] = 0;
        }
        nm.unscale_mul = umul;
        nm.unscale_add = uadd;
        /* labels: one array of pointers for all categorical columns */
        size_t total = 0;
        for (int j = 0; j < d; j++) {
            int ncat;
            if (cl_pipeline_out_categorical(pp, j, &ncat) && ncat > 0)
                total += (size_t)ncat;
        }
        const char **all = lua_newuserdatauv(L, (total ? total : 1) * sizeof *all, 0);
        size_t k = 0;
        for (int j = 0; j < d; j++) {
            int ncat;
            if (cl_pipeline_out_categorical(pp, j, &ncat) && ncat > 0) {
                lab[j] = all + k;
                nlab[j] = ncat;
                for (int c = 0; c < ncat; c++)
                    all[k++] = cl_pipeline_category(pp, j, c);
            }
        }
        nm.names = names;
        nm.src_col = sc;
        nm.src_label = sl;
        nm.labels = (const char *const *const *)lab;
        nm.nlabels = nlab;
    }
    char *text;
    LCL_CHECK(L, cl_tree_rules(m->trees[0], d, &nm, what, &text));
    lua_pushstring(L, text);
    cl_free(text);
    return 1;
}

static int m_save(lua_State *L)
{
    model_ref r = check_model(L, 1);
    const char *path = luaL_checkstring(L, 2);
    need_fitted(L, &r, "save");
    static const char *const known[] = {"pipeline", NULL}; /* checked before the writer exists */
    lcl_check_options(L, 3, "save", known);
    cl_mw *w = cl_mw_new(r.g ? "gbdt" : r.f->kind == CL_FOREST_KIND_TREE ? "tree" : "forest");
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    int rc = r.g ? cl_gbdt_write(r.g, w) : cl_forest_write(r.f, w);
    if (rc) {
        cl_mw_free(w);
        return lcl_raise(L, rc);
    }
    lm_save(L, w, path, lua_isnoneornil(L, 3) ? 0 : 3, 1); /* with its pipeline, if any */
    lua_settop(L, 1);
    return 1;
}

static int m_export_xgboost(lua_State *L)
{
    cl_gbdt *m = lcl_checkobj(L, 1, T_GBDT);
    const char *path = luaL_checkstring(L, 2);
    int rc = cl_gbdt_export_xgboost(m, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1);
    return 1;
}

static int m_params(lua_State *L)
{
    model_ref r = check_model(L, 1);
    if (r.g)
        lcl_push_params(L, cl_gbdt_param_defs, &r.g->params);
    else
        lcl_push_params(L, r.f->kind == CL_FOREST_KIND_TREE ? cl_cart_param_defs
                                                            : cl_forest_param_defs,
                        &r.f->params);
    return 1;
}

static int m_ntrees(lua_State *L)
{
    model_ref r = check_model(L, 1);
    lua_pushinteger(L, r.g ? r.g->ntrees : r.f->ntrees);
    return 1;
}

static int m_features(lua_State *L)
{
    model_ref r = check_model(L, 1);
    int d = model_d(&r);
    char **names = model_names(&r);
    lua_createtable(L, d, 0);
    for (int j = 0; j < d; j++) {
        if (names)
            lua_pushstring(L, names[j]);
        else
            lua_pushfstring(L, "x%d", j + 1);
        lua_seti(L, -2, j + 1);
    }
    return 1;
}

static int m_best_iteration(lua_State *L)
{
    cl_gbdt *m = lcl_checkobj(L, 1, T_GBDT);
    if (m->best_iter < 0)
        return 0;
    lua_pushinteger(L, m->best_iter + 1);
    lua_pushnumber(L, m->best_score);
    return 2;
}

static int m_oob_auc(lua_State *L)
{
    cl_forest *m = lcl_checkobj(L, 1, T_FOREST);
    if (isnan(m->oob_auc))
        return 0;
    lua_pushnumber(L, m->oob_auc);
    return 1;
}


/* ---- loaders ------------------------------------------------------------------------ */

static int load_gbdt(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    lcl_box *b = lcl_newbox(L, T_GBDT);
    cl_mr *rd;
    int orc = cl_mr_open(&rd, path);
    if (orc)
        return lcl_raise_file(L, orc, path);
    cl_gbdt *m;
    int rc = cl_gbdt_read(&m, rd);
    if (rc == CL_OK) {
        b->obj = m;
        rc = lm_load_pipeline(L, rd, -1);
    }
    cl_mr_free(rd);
    if (rc)
        return lcl_raise_file(L, rc, path);
    return 1;
}

static int load_forest_kind(lua_State *L, const char *tname)
{
    const char *path = luaL_checkstring(L, 1);
    lcl_box *b = lcl_newbox(L, tname);
    cl_mr *rd;
    int orc = cl_mr_open(&rd, path);
    if (orc)
        return lcl_raise_file(L, orc, path);
    cl_forest *m;
    int rc = cl_forest_read(&m, rd);
    if (rc == CL_OK) {
        b->obj = m;
        rc = lm_load_pipeline(L, rd, -1);
    }
    cl_mr_free(rd);
    if (rc)
        return lcl_raise_file(L, rc, path);
    return 1;
}

static int load_forest(lua_State *L) { return load_forest_kind(L, T_FOREST); }
static int load_tree(lua_State *L) { return load_forest_kind(L, T_TREE); }

/* ---- registration ------------------------------------------------------------------- */

static const luaL_Reg meta[] = {
    {"__gc", m_gc}, {"__close", m_gc}, {"__tostring", m_tostring}, {NULL, NULL}};

static const luaL_Reg common_methods[] = {
    {"fit", m_fit},       {"predict", m_predict},   {"shap", m_shap},
    {"importance", m_importance}, {"save", m_save}, {"params", m_params},
    {"ntrees", m_ntrees}, {"features", m_features}, {"free", m_gc}, {"prior", m_prior},
    {"pipeline", lm_pipeline_method}, {NULL, NULL}};

static const struct {
    const char *name, *doc;
} docs[] = {
    /* methods of some classes only are skipped where absent (see make_meta) */
    {"params", LM_DOC_PARAMS},
    {"ntrees", "m:ntrees() -> count: trees in the model (gbdt: boosting rounds kept, after early "
               "stopping's cut; tree: 1); 0 before fit."},
    {"features", "m:features() -> {name, ...}: one per column of X: the names given to fit "
                 "(names, or the pipeline's feature names), else x1, x2, ..."},
    {"pipeline", LM_DOC_PIPELINE},
    {"free", LM_DOC_FREE},
    {"export_xgboost", "m:export_xgboost(path) -> m: writes the gbdt as an XGBoost JSON model "
                       "(the 1.7 layout), atomically; xgboost.Booster(model_file = path) then "
                       "predicts what m:predict(X) does (prior correction included). Numeric "
                       "splits only: a model with categorical splits is an error."},
    {"best_iteration", "m:best_iteration() -> k, score | nothing: after a fit with a validation "
                       "set (valid = {Xv, yv}), the 1-based round with the best validation "
                       "metric and that metric's value (early_stop keeps the trees up to k); "
                       "nothing without one."},
    {"oob_auc", "m:oob_auc() -> auc | nothing: the out-of-bag ROC AUC of a bootstrap forest "
                "(each row scored by the trees that never saw it): an estimate without a "
                "holdout. Nothing without bootstrap or when it is undefined (one class)."},
    {"rules", "m:rules([{label = 'churn', pipeline = p}]) -> text: the fitted tree as one rule "
              "per leaf (\"Contract in {Month-to-month} and tenure < 5.5 -> churn 0.62 (n = "
              "812)\"); label names the output; with pipeline, one-hot features read as their "
              "column and category and thresholds are in the input's own units (the "
              "pipeline's scaling undone), else in X's. Missing values follow each split's "
              "default side."},
    {"fit", "m:fit(X, y [, opts]) trains on X (n x d float32, NaN = missing) and y (0/1). opts: "
            "categorical = {column indices}, names = {...}, pipeline = p, verbose; gbdt also "
            "valid = {Xv, yv}, early_stop = k (keeps the best iteration), metric = "
            "'logloss'|'auc'|'rmse', mpi (true: under mpirun with several ranks, a data-parallel "
            "fit over every rank's rows, the same model on each; false: this rank's rows alone). Ctrl-C stops the fit with an error and leaves a valid model "
            "holding the trees built so far. Returns m."},
    {"predict", "m:predict(X [, {margin = true} | {prior_correction = false|true}]) -> 1-D "
                "tensor of P(y = 1). After reweighting (gbdt scale_pos_weight, forest/tree "
                "class_weight = 'balanced') the probabilities are mapped back to the true churn "
                "rate of the training labels (prior correction: odds times (truth/(1-truth)) / "
                "(trained/(1-trained)), see m:prior()) unless parameter prior_correction = "
                "false; the option overrides the parameter for one call. margin = true: the raw "
                "score, never corrected (gbdt: log-odds; forest/tree: the mean leaf probability), "
                "which is what TreeSHAP rows add up to."},
    {"prior", "m:prior() -> {trained_rate, true_rate, corrected, shift} or nil: the positive "
              "rate of the reweighted data the model was fitted to, the true rate of its labels, "
              "whether predict corrects, and the log-odds shift it applies (0 when it does not). "
              "nil for model files written before the rates were recorded (never corrected)."},
    {"shap", "m:shap(X [, {pipeline = p, scale = 'probability'}]) -> phi, names: exact "
             "TreeSHAP contributions, n x (d + 1) with the expected value last; rows add up to "
             "the margin (m:predict(X, {margin = true}); never prior-corrected). pipeline sums "
             "one-hot columns per original column; scale = 'probability' rescales each row "
             "proportionally so it adds up to m:predict(X) (prior correction included: it is a "
             "monotone map after the margin) minus the expected value (last column)."},
    {"importance", "m:importance([{table = true}]) -> churnlab.Frame with columns feature, "
                   "gain (total split gain), splits (count), cover (hessian sum at splits), "
                   "sorted by gain; {table = true} gives a Lua list of rows instead."},
    {"save", "m:save(path [, {pipeline = p}]) -> m: writes the model file atomically, creating "
             "folders as needed; cl.load(path) reads it back. Raises naming the file when it "
             "cannot be written."},
    {NULL, NULL},
};

static void make_meta(lua_State *L, const char *tname, const luaL_Reg *extra, const char *doc)
{
    luaL_newmetatable(L, tname);
    luaL_setfuncs(L, meta, 0);
    lua_newtable(L);
    luaL_setfuncs(L, common_methods, 0);
    if (extra)
        luaL_setfuncs(L, extra, 0);
    for (int i = 0; docs[i].name; i++) {
        lua_getfield(L, -1, docs[i].name);
        if (!lua_isnil(L, -1)) /* rules: trees only; export_xgboost: gbdt only; ... */
            lcl_setdoc(L, -1, docs[i].doc);
        lua_pop(L, 1);
    }
    lua_setfield(L, -2, "__index");
    lua_pushstring(L, tname);
    lcl_setdoc(L, -1, doc);
    lua_pop(L, 2);
}

static const luaL_Reg gbdt_methods[] = {
    {"export_xgboost", m_export_xgboost}, {"best_iteration", m_best_iteration}, {NULL, NULL}};
static const luaL_Reg forest_methods[] = {{"oob_auc", m_oob_auc}, {NULL, NULL}};
static const luaL_Reg tree_methods[] = {{"rules", m_rules}, {NULL, NULL}};

static const luaL_Reg funcs[] = {
    {"gbdt", l_gbdt}, {"forest", l_forest}, {"tree", l_tree},
    {NULL, NULL}};

int luaopen_churnlab_trees(lua_State *L);
int luaopen_churnlab_trees(lua_State *L)
{
    make_meta(L, T_GBDT, gbdt_methods,
              "churnlab.GBDT: gradient-boosted trees (histograms, XGBoost-style second-order "
              "splits, learned missing-value direction, native categorical splits).");
    make_meta(L, T_FOREST, forest_methods,
              "churnlab.Forest: random forest (bootstrap, mtry features per split, OOB AUC).");
    make_meta(L, T_TREE, tree_methods,
              "churnlab.Tree: one CART tree; m:rules() prints it as readable rules.");
    lcl_register_loader(L, "gbdt", load_gbdt);
    lcl_register_loader(L, "forest", load_forest);
    lcl_register_loader(L, "tree", load_tree);
    luaL_newlib(L, funcs);
    int mod = lua_gettop(L);
    lcl_register_params(L, "gbdt", cl_gbdt_param_defs);
    lcl_register_params(L, "forest", cl_forest_param_defs);
    lcl_register_params(L, "tree", cl_cart_param_defs);
    lua_getfield(L, mod, "gbdt");
    lcl_setdoc(L, -1, "cl.gbdt{params} -> an unfitted gradient-boosted trees model; "
                      "help('gbdt') lists the parameters.");
    lua_getfield(L, mod, "forest");
    lcl_setdoc(L, -1, "cl.forest{params} -> an unfitted random forest; help('forest') lists "
                      "the parameters.");
    lua_getfield(L, mod, "tree");
    lcl_setdoc(L, -1, "cl.tree{params} -> an unfitted CART tree (m:rules() after fit).");
    lua_pop(L, 3);
    lcl_setdoc(L, mod, "churnlab.trees: gbdt, forest and tree models on histogram trees, "
                       "with exact TreeSHAP explanations and XGBoost export.");
    return 1;
}
