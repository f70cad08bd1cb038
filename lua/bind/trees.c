/* trees.c - module churnlab.trees: gradient boosting, random forests, single trees.
 *
 *   local trees = require "churnlab.trees"     -- cl.gbdt / cl.forest / cl.tree
 *   local m = trees.gbdt{trees = 300, depth = 6, lr = 0.05}
 *   m:fit(X, y, {valid = {Xv, yv}, early_stop = 50})   -- -> m; m:history().best_iteration
 *   local p = m:predict(Xt)                    -- P(y = 1), 1-D float32 tensor
 *   m:predict(Xt, {margin = true})             -- raw score (what TreeSHAP adds up to)
 *   m:predict(Xt, {prior_correction = false})  -- as fitted on reweighted classes
 *   local phi, names = m:shap(Xt, {pipeline = pipe, scale = "probability"})
 *
 * The lifecycle (constructors, fit and its options, predict, save, load, printing, help) is
 * the generic classifier class of support/lmodel.c over cl_gbdt_model_ops, cl_forest_model_ops
 * and cl_forest_tree_model_ops; this file adds what tree ensembles have beyond it: TreeSHAP with
 * pipeline grouping and the probability scale, split importance, the tree count, XGBoost
 * export, the best validation round, the OOB AUC and a tree's rules.
 */
#include "support/lmodel.h"

#include <math.h>
#include <string.h>

#include "frame/pipeline.h"

#define T_GBDT "churnlab.GBDT"
#define T_FOREST "churnlab.Forest"
#define T_TREE "churnlab.Tree"
#define T_PIPELINE "churnlab.Pipeline"

/* The model at idx (any of the three classes) and its trees: the one place that tells a
 * boosted ensemble from a forest. */
static const cl_model *check_trees(lua_State *L, int idx, const cl_tree *const **trees,
                                   int *ntrees)
{
    const char *tname = lcl_testbox(L, idx, T_GBDT)     ? T_GBDT
                        : lcl_testbox(L, idx, T_FOREST) ? T_FOREST
                                                        : T_TREE;
    const cl_model *m = lm_checkmodel(L, idx, tname);
    if (cl_model_ops_of(m) == &cl_gbdt_model_ops) {
        const cl_gbdt *g = cl_model_impl(m);
        *trees = (const cl_tree *const *)g->trees;
        *ntrees = g->ntrees;
    } else {
        const cl_forest *f = cl_model_impl(m);
        *trees = (const cl_tree *const *)f->trees;
        *ntrees = f->ntrees;
    }
    return m;
}

static const cl_gbdt *gbdt_of(const cl_model *m)
{
    return cl_model_ops_of(m) == &cl_gbdt_model_ops ? cl_model_impl(m) : NULL;
}

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

/* m:shap(X, {interactions = true}) -> phi, names: the SHAP interaction values on the margin
 * scale, n (d + 1) x (d + 1) (row r's matrix in rows (r - 1)(d + 1) + 1 .. r (d + 1); tensors
 * are two-dimensional). */
static int shap_interactions(lua_State *L, const cl_model *m, const cl_tree *const *trees,
                             int ntrees, const float *X, int64_t n, int64_t d, int opts)
{
    if (strcmp(lcl_optstr(L, opts, "scale", "margin"), "margin") != 0 ||
        pipeline_at(L, opts, "pipeline"))
        return luaL_error(L, "shap: interactions are on the margin scale of the model's own "
                             "columns (no scale or pipeline option with them)");
    if (cl_model_n_features(m) != d)
        return luaL_error(L, "shap: X has %I columns, the model has %I", (lua_Integer)d,
                          (lua_Integer)cl_model_n_features(m));
    const cl_gbdt *gb = gbdt_of(m);
    double base = gb ? gb->base : 0.0, scale = gb ? 1.0 : 1.0 / ntrees;
    cl_tensor *out = NULL;
    size_t rows, cells;
    int rc = cl_alloc_mul_size((size_t)n, (size_t)d + 1, &rows) &&
                     cl_alloc_mul_size(rows, (size_t)d + 1, &cells)
                 ? cl_tensor_new(&out, 2, (int64_t)rows, d + 1)
                 : CL_ERANGE;
    if (!rc)
        rc = cl_treeshap_interactions(trees, ntrees, X, (size_t)n, (int)d, base, scale,
                                      cl_tensor_data(out));
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    lcl_pushtensor(L, out);
    lm_push_features(L, m, "(expected)");
    return 2;
}

/* m:shap(X [, {pipeline, scale}]) -> phi, names: the generic contributions (TreeSHAP, on the
 * margin scale), optionally made to add up to the probability, and summed per source column of
 * a pipeline. */
static int m_shap(lua_State *L)
{
    const cl_tree *const *trees;
    int ntrees;
    const cl_model *m = check_trees(L, 1, &trees, &ntrees);
    static const char *const known[] = {"pipeline", "scale", "interactions", NULL};
    int opts = lcl_check_options(L, 3, "shap", known);
    int64_t n64, d64;
    const float *X = lm_matrix(L, 2, "X", &n64, &d64);
    lm_need_fitted(L, m, "shap");
    if (lcl_optbool(L, opts, "interactions", 0))
        return shap_interactions(L, m, trees, ntrees, X, n64, d64, opts);
    const char *scale = lcl_optstr(L, opts, "scale", "margin");
    int prob = !strcmp(scale, "probability");
    if (!prob && strcmp(scale, "margin") != 0)
        luaL_error(L, "option 'scale' must be 'margin' or 'probability', got '%s'", scale);
    void *pipe = pipeline_at(L, opts, "pipeline");
    int d = (int)d64;
    size_t n = (size_t)n64;
    cl_tensor *out = NULL;
    int rc = cl_tensor_new(&out, 2, n64, d64 + 1);
    if (!rc)
        rc = cl_model_contrib(m, X, n64, d64, NULL, cl_tensor_data(out));
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    double tr, tt;
    const cl_gbdt *gb = gbdt_of(m);
    int corrected = cl_model_ops_of(m)->prior(cl_model_impl(m), &tr, &tt);
    if (prob) { /* add up to what predict(X) returns */
        float *o = cl_tensor_data(out);
        if (gb && gb->params.objective == CL_GBDT_LOGISTIC) {
            /* a logistic margin: shift the base by the prior correction, then map each row */
            if (corrected) {
                double shift = log(tt / (1 - tt)) - log(tr / (1 - tr));
                for (size_t i = 0; i < n; i++)
                    o[i * ((size_t)d + 1) + (size_t)d] =
                        (float)(o[i * ((size_t)d + 1) + (size_t)d] + shift);
            }
            cl_treeshap_to_probability(o, n, d);
        } else if (!gb && corrected) {
            forest_shap_corrected(o, n, d, tr, tt);
        }
    }
    if (!pipe) {
        lcl_pushtensor(L, out);
        lm_push_features(L, m, "(expected)");
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

/* ---- importance, rules, misc ------------------------------------------------------- */

static int m_importance(lua_State *L)
{
    const cl_tree *const *trees;
    int ntrees;
    const cl_model *m = check_trees(L, 1, &trees, &ntrees);
    static const char *const known[] = {"table", NULL};
    int opts = lcl_check_options(L, 2, "importance", known); /* before the buffers below */
    lm_need_fitted(L, m, "importance");
    int d = (int)cl_model_n_features(m);
    double *v = lua_newuserdatauv(L, (size_t)d * 3 * sizeof *v, 0);
    memset(v, 0, (size_t)d * 3 * sizeof *v);
    cl_tree_ens_importance(trees, ntrees, v, v + d, v + 2 * d);
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
                        lm_push_feature(L, m, j);
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
        lm_push_feature(L, m, j);
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
    cl_forest *m = lm_checkimpl(L, 1, T_TREE);
    static const char *const known[] = {"label", "pipeline", NULL};
    int opts = lcl_check_options(L, 2, "rules", known);
    lm_need_fitted(L, lm_checkmodel(L, 1, T_TREE), "rules");
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
    cl_alloc_free(text);
    return 1;
}

static int m_export_xgboost(lua_State *L)
{
    cl_gbdt *m = lm_checkimpl(L, 1, T_GBDT);
    const char *path = luaL_checkstring(L, 2);
    int rc = cl_xgb_export_gbdt(m, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1);
    return 1;
}

/* forest and tree: m:export_xgboost(path) -> m */
static int m_export_xgboost_forest(lua_State *L)
{
    const char *tname = lcl_testbox(L, 1, T_FOREST) ? T_FOREST : T_TREE;
    cl_forest *m = lm_checkimpl(L, 1, tname);
    const char *path = luaL_checkstring(L, 2);
    int rc = cl_xgb_export_forest(m, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1);
    return 1;
}

static int m_ntrees(lua_State *L)
{
    const cl_tree *const *trees;
    int ntrees;
    check_trees(L, 1, &trees, &ntrees);
    lua_pushinteger(L, ntrees);
    return 1;
}

static int m_best_iteration(lua_State *L)
{
    cl_gbdt *m = lm_checkimpl(L, 1, T_GBDT);
    if (m->best_iter < 0)
        return 0;
    lua_pushinteger(L, m->best_iter + 1);
    lua_pushnumber(L, m->best_score);
    return 2;
}

static int m_oob_auc(lua_State *L)
{
    cl_forest *m = lm_checkimpl(L, 1, T_FOREST);
    if (isnan(m->oob_auc))
        return 0;
    lua_pushnumber(L, m->oob_auc);
    return 1;
}

/* ---- registration --------------------------------------------------------------------- */

#define COMMON_METHODS {"shap", m_shap}, {"importance", m_importance}, {"ntrees", m_ntrees}
static const luaL_Reg gbdt_methods[] = {COMMON_METHODS,
                                        {"export_xgboost", m_export_xgboost},
                                        {"best_iteration", m_best_iteration},
                                        {NULL, NULL}};
static const luaL_Reg forest_methods[] = {COMMON_METHODS, {"oob_auc", m_oob_auc},
                                          {"export_xgboost", m_export_xgboost_forest},
                                          {NULL, NULL}};
static const luaL_Reg tree_methods[] = {COMMON_METHODS, {"rules", m_rules},
                                        {"export_xgboost", m_export_xgboost_forest},
                                        {NULL, NULL}};

#define COMMON_DOCS                                                                            \
    {"ntrees", "m:ntrees() -> count: trees in the model (gbdt: boosting rounds kept, after "     \
               "early stopping's cut; tree: 1); 0 before fit."},                                 \
    {"shap", "m:shap(X [, {pipeline = p, scale = 'probability'}]) -> phi, names: exact "         \
             "TreeSHAP contributions, n x (d + 1) with the expected value last; rows add up to " \
             "the margin (m:predict(X, {margin = true}); never prior-corrected). pipeline sums "  \
             "one-hot columns per original column; scale = 'probability' rescales each row "     \
             "proportionally so it adds up to m:predict(X) (prior correction included: it is a " \
             "monotone map after the margin) minus the expected value (last column). "           \
             "{interactions = true}: SHAP interaction values (XGBoost's pred_interactions) on "  \
             "the margin scale, an n (d + 1) x (d + 1) tensor: rows (r - 1)(d + 1) + 1 .. "     \
             "r (d + 1) hold row r's matrix, symmetric, row i adding up to phi_i, the main "     \
             "effect on the diagonal, the expected value in the last corner."},                  \
    {"importance", "m:importance([{table = true}]) -> churnlab.Frame with columns feature, "     \
                   "gain (total split gain), splits (count), cover (hessian sum at splits), "    \
                   "sorted by gain; {table = true} gives a Lua list of rows instead."},          \
    {"fit", "Ctrl-C stops the fit with an error and leaves a valid model holding the trees "     \
            "built so far."}

static const lm_doc gbdt_docs[] = {
    COMMON_DOCS,
    {"export_xgboost", "m:export_xgboost(path) -> m: writes the gbdt as an XGBoost JSON model "
                       "(the 1.7 layout), atomically; xgboost.Booster(model_file = path) then "
                       "predicts what m:predict(X) does (prior correction included). Categorical "
                       "splits are written as XGBoost >= 1.6's (split_type 1); category codes "
                       "0..254 go the same way in XGBoost."},
    {"best_iteration", "m:best_iteration() -> k, score | nothing: after a fit with a validation "
                       "set (valid = {Xv, yv}), the 1-based round with the best validation "
                       "metric and that metric's value (early_stop keeps the trees up to k); "
                       "nothing without one."},
    {"history", "For gbdt: trees, and with a validation set best_iteration and best_score."},
    {"decision", "For gbdt: the log-odds (logistic) or the prediction (squared)."},
    {NULL, NULL}};

static const lm_doc forest_docs[] = {
    COMMON_DOCS,
    {"export_xgboost", "m:export_xgboost(path) -> m: writes the model as an XGBoost JSON "
                       "model (the 1.7 layout), atomically: one round of parallel trees with "
                       "leaves times 1 / ntrees under reg:squarederror from base score 0, so "
                       "xgboost.Booster(model_file = path).predict gives the mean leaf "
                       "proportion, m:predict(X, {prior_correction = false}). Categorical "
                       "splits are written as XGBoost >= 1.6's (split_type 1)."},
    {"oob_auc", "m:oob_auc() -> auc | nothing: the out-of-bag ROC AUC of a bootstrap forest "
                "(each row scored by the trees that never saw it): an estimate without a "
                "holdout. Nothing without bootstrap or when it is undefined (one class)."},
    {"history", "For a forest: trees, and oob_auc with bootstrap."},
    {"decision", "For a forest: the mean leaf probability (before prior correction)."},
    {NULL, NULL}};

static const lm_doc tree_docs[] = {
    COMMON_DOCS,
    {"export_xgboost", "m:export_xgboost(path) -> m: writes the model as an XGBoost JSON "
                       "model (the 1.7 layout), atomically: one round of parallel trees with "
                       "leaves times 1 / ntrees under reg:squarederror from base score 0, so "
                       "xgboost.Booster(model_file = path).predict gives the mean leaf "
                       "proportion, m:predict(X, {prior_correction = false}). Categorical "
                       "splits are written as XGBoost >= 1.6's (split_type 1)."},
    {"rules", "m:rules([{label = 'churn', pipeline = p}]) -> text: the fitted tree as one rule "
              "per leaf (\"Contract in {Month-to-month} and tenure < 5.5 -> churn 0.62 (n = "
              "812)\"); label names the output; with pipeline, one-hot features read as their "
              "column and category and thresholds are in the input's own units (the "
              "pipeline's scaling undone), else in X's. Missing values follow each split's "
              "default side."},
    {"history", "For a tree: nodes."},
    {"decision", "For a tree: the leaf probability (before prior correction)."},
    {NULL, NULL}};

static const lm_kind_spec gbdt_spec = {
    gbdt_methods, gbdt_docs,
    "churnlab.GBDT: gradient-boosted trees (histograms, XGBoost-style second-order splits, "
    "learned missing-value direction, native categorical splits).",
    "cl.gbdt{params} -> an unfitted gradient-boosted trees model; help('gbdt') lists the "
    "parameters."};
static const lm_kind_spec forest_spec = {
    forest_methods, forest_docs,
    "churnlab.Forest: random forest (bootstrap, mtry features per split, OOB AUC).",
    "cl.forest{params} -> an unfitted random forest; help('forest') lists the parameters."};
static const lm_kind_spec tree_spec = {
    tree_methods, tree_docs, "churnlab.Tree: one CART tree; m:rules() prints it as readable rules.",
    "cl.tree{params} -> an unfitted CART tree (m:rules() after fit)."};

int luaopen_churnlab_trees(lua_State *L);
int luaopen_churnlab_trees(lua_State *L)
{
    lua_createtable(L, 0, 3);
    lm_kind_push(L, &cl_gbdt_model_ops, &gbdt_spec);
    lua_setfield(L, -2, "gbdt");
    lm_kind_push(L, &cl_forest_model_ops, &forest_spec);
    lua_setfield(L, -2, "forest");
    lm_kind_push(L, &cl_forest_tree_model_ops, &tree_spec);
    lua_setfield(L, -2, "tree");
    lcl_setdoc(L, -1, "churnlab.trees: gbdt, forest and tree models on histogram trees, "
                      "with exact TreeSHAP explanations and XGBoost export.");
    return 1;
}
