/* xgb_export.c - writes a gbdt model in XGBoost's JSON model format (the 1.7 layout:
 * learner / gradient_booster / model / trees with flat per-node arrays), so any XGBoost
 * runtime can score it. Written from XGBoost's documented JSON schema (doc/model.schema).
 * Categorical splits (fit option categorical) are written as XGBoost >= 1.6 writes them
 * (split_type 1, the categories arrays, feature type "c"; see cat_right for unseen codes). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "models/prior.h"
#include "base/error.h"
#include "base/fileio.h"
#include "trees/forest.h"
#include "trees/gbdt.h"
#include "base/strbuf.h"

/* A float as JSON: %.9g round-trips float32; never NaN/inf here (checked by the caller).
 * XGBoost's reader types integers and reals apart, so a real always carries a '.' or an
 * exponent ("3E0", as XGBoost writes it). */
static void jf(cl_strbuf *b, double v)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.9g", (double)(float)v);
    cl_strbuf_printf(b, "%s%s", buf, strpbrk(buf, ".eE") ? "" : "E0");
}

static void json_str(cl_strbuf *b, const char *s)
{
    cl_strbuf_printf(b, "\"");
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            cl_strbuf_printf(b, "\\%c", c);
        else if (c < 0x20)
            cl_strbuf_printf(b, "\\u%04x", c);
        else
            cl_strbuf_printf(b, "%c", c);
    }
    cl_strbuf_printf(b, "\"");
}

/* Does categorical node nd send code c right in XGBoost's terms? XGBoost sends the codes of
 * the node's set right and every other code left; churnlab sends its set left and codes >=
 * ncat (never seen in training) to the default side. So the XGBoost set is the complement of
 * churnlab's within 0..ncat-1, plus ncat..254 when the default side is right: then every code
 * 0..254 goes the same way in both (codes >= 255 and negative ones: XGBoost left, churnlab
 * the default side; NaN: the default side in both). */
static int cat_right(const cl_tree *t, const cl_tnode *nd, int c)
{
    if (c >= nd->ncat)
        return !nd->default_left;
    return !cl_split_cat_has(t->cats + (size_t)nd->cat * CL_SPLIT_CAT_WORDS, c);
}

#define XGB_CAT_CODES 255

/* "categories", "categories_nodes", "categories_segments", "categories_sizes" of tree t. */
static void cat_arrays(cl_strbuf *b, const cl_tree *t)
{
    cl_strbuf_printf(b, "\"categories\":[");
    int first = 1;
    for (int i = 0; i < t->n; i++) {
        const cl_tnode *nd = t->nodes + i;
        if (nd->feature < 0 || !nd->is_cat)
            continue;
        for (int c = 0; c < XGB_CAT_CODES; c++)
            if (cat_right(t, nd, c)) {
                cl_strbuf_printf(b, "%s%d", first ? "" : ",", c);
                first = 0;
            }
    }
    cl_strbuf_printf(b, "],\"categories_nodes\":[");
    first = 1;
    for (int i = 0; i < t->n; i++)
        if (t->nodes[i].feature >= 0 && t->nodes[i].is_cat) {
            cl_strbuf_printf(b, "%s%d", first ? "" : ",", i);
            first = 0;
        }
    int seg = 0;
    for (int pass = 0; pass < 2; pass++) { /* segments, then sizes */
        cl_strbuf_printf(b, pass ? "],\"categories_sizes\":[" : "],\"categories_segments\":[");
        first = 1;
        seg = 0;
        for (int i = 0; i < t->n; i++) {
            const cl_tnode *nd = t->nodes + i;
            if (nd->feature < 0 || !nd->is_cat)
                continue;
            int k = 0;
            for (int c = 0; c < XGB_CAT_CODES; c++)
                k += cat_right(t, nd, c);
            cl_strbuf_printf(b, "%s%d", first ? "" : ",", pass ? k : seg);
            seg += k;
            first = 0;
        }
    }
    cl_strbuf_printf(b, "],");
}

/* Leaf values are written times `scale` (a forest's 1 / ntrees: XGBoost sums its trees). */
static void tree_json(cl_strbuf *b, const cl_tree *t, int id, int d, double scale)
{
    int n = t->n;
    int *parent = cl_alloc((size_t)n * sizeof *parent);
    if (!parent) {
        b->err = CL_ENOMEM;
        return;
    }
    for (int i = 0; i < n; i++)
        parent[i] = 2147483647;
    for (int i = 0; i < n; i++)
        if (t->nodes[i].feature >= 0) {
            parent[t->nodes[i].left] = i;
            parent[t->nodes[i].left + 1] = i;
        }
/* One per-node array: "key":[v0,v1,...], with `fmtfn` writing node i (nd). */
#define ARR(key, fmtfn)                                                                      \
    do {                                                                                     \
        cl_strbuf_printf(b, "\"" key "\":[");                                                \
        for (int i = 0; i < n; i++) {                                                        \
            const cl_tnode *nd = t->nodes + i;                                               \
            (void)nd;                                                                        \
            if (i)                                                                           \
                cl_strbuf_printf(b, ",");                                                    \
            fmtfn;                                                                           \
        }                                                                                    \
        cl_strbuf_printf(b, "],");                                                           \
    } while (0)
    cl_strbuf_printf(b, "{");
    ARR("base_weights", jf(b, nd->feature >= 0 ? nd->value : nd->value * scale));
    cat_arrays(b, t);
    ARR("default_left", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->default_left : 0));
    cl_strbuf_printf(b, "\"id\":%d,", id);
    ARR("left_children", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->left : -1));
    ARR("loss_changes", jf(b, nd->feature >= 0 ? nd->gain : 0.0));
    ARR("parents", cl_strbuf_printf(b, "%d", parent[i]));
    ARR("right_children", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->left + 1 : -1));
    /* a categorical node's condition is unused: 0 (XGBoost writes NaN, which is not JSON) */
    ARR("split_conditions",
        jf(b, nd->feature < 0 ? nd->value * scale : nd->is_cat ? 0.0 : nd->thr));
    ARR("split_indices", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->feature : 0));
    ARR("split_type", cl_strbuf_printf(b, "%d", nd->feature >= 0 && nd->is_cat));
    ARR("sum_hessian", jf(b, nd->cover));
#undef ARR
    cl_strbuf_printf(b,
                     "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%d\","
                     "\"num_nodes\":\"%d\",\"size_leaf_vector\":\"0\"}}",
                     d, n);
    cl_alloc_free(parent);
}

/* What one export writes: the trees, their feature names and the learner's parameters. */
typedef struct xgb_doc {
    const char *what; /* "gbdt export_xgboost" */
    const cl_tree *const *trees;
    int ntrees, d, parallel; /* parallel: one round of ntrees parallel trees (a forest) */
    char *const *names;      /* d or NULL */
    double base_score, leaf_scale, scale_pos_weight;
    int logistic;
} xgb_doc;

/* Feature j has a categorical split somewhere (XGBoost's feature type "c"). */
static int is_cat_feature(const xgb_doc *x, int j)
{
    for (int t = 0; t < x->ntrees; t++)
        for (int i = 0; i < x->trees[t]->n; i++)
            if (x->trees[t]->nodes[i].feature == j && x->trees[t]->nodes[i].is_cat)
                return 1;
    return 0;
}

static int check_exportable(const xgb_doc *x)
{
    for (int t = 0; t < x->ntrees; t++)
        for (int i = 0; i < x->trees[t]->n; i++) {
            const cl_tnode *nd = x->trees[t]->nodes + i;
            if (nd->feature >= 0 && !nd->is_cat && !isfinite(nd->thr))
                return cl_error(CL_ENOTSUP, "%s: tree %d has a non-finite threshold", x->what,
                                t + 1);
        }
    return CL_OK;
}

static int write_doc(const xgb_doc *x, const char *path)
{
    int rc = check_exportable(x);
    if (rc)
        return rc;
    cl_strbuf b = {0};
    cl_strbuf_printf(&b, "{\"learner\":{\"attributes\":{},\"feature_names\":[");
    for (int j = 0; x->names && j < x->d; j++) {
        if (j)
            cl_strbuf_printf(&b, ",");
        json_str(&b, x->names[j]);
    }
    cl_strbuf_printf(&b, "],\"feature_types\":[");
    for (int j = 0; x->names && j < x->d; j++)
        cl_strbuf_printf(&b, "%s\"%s\"", j ? "," : "", is_cat_feature(x, j) ? "c" : "float");
    cl_strbuf_printf(&b,
                     "],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{"
                     "\"num_parallel_tree\":\"%d\",\"num_trees\":\"%d\","
                     "\"size_leaf_vector\":\"0\"},\"tree_info\":[",
                     x->parallel ? x->ntrees : 1, x->ntrees);
    for (int t = 0; t < x->ntrees; t++)
        cl_strbuf_printf(&b, "%s0", t ? "," : "");
    cl_strbuf_printf(&b, "],\"trees\":[");
    for (int t = 0; t < x->ntrees; t++) {
        if (t)
            cl_strbuf_printf(&b, ",");
        tree_json(&b, x->trees[t], t, x->d, x->leaf_scale);
    }
    char bs[40];
    snprintf(bs, sizeof bs, "%.9g", x->base_score);
    cl_strbuf_printf(&b,
                     "]},\"name\":\"gbtree\"},\"learner_model_param\":{\"base_score\":\"%s\","
                     "\"boost_from_average\":\"1\",\"num_class\":\"0\",\"num_feature\":\"%d\","
                     "\"num_target\":\"1\"},\"objective\":",
                     bs, x->d);
    if (x->logistic)
        cl_strbuf_printf(&b,
                         "{\"name\":\"binary:logistic\","
                         "\"reg_loss_param\":{\"scale_pos_weight\":\"%.9g\"}}",
                         x->scale_pos_weight);
    else
        cl_strbuf_printf(&b, "{\"name\":\"reg:squarederror\","
                             "\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}");
    cl_strbuf_printf(&b, "},\"version\":[1,7,4]}\n");
    rc = b.err;
    if (!rc)
        rc = cl_fileio_write_atomic(path, b.s, b.len);
    else
        rc = cl_error(rc, rc == CL_ENOMEM ? "%s: out of memory" : "%s: cannot format the model",
                      x->what);
    cl_strbuf_free(&b);
    return rc;
}

int cl_xgb_export_gbdt(const cl_gbdt *m, const char *path)
{
    if (!m->fitted)
        return cl_error(CL_ESTATE, "gbdt export_xgboost: the model is not fitted");
    int logistic = m->params.objective == CL_GBDT_LOGISTIC;
    double base = m->base;
    /* A prior-corrected model (reweighted fit, prior_correction on) is exported corrected too:
     * for the logistic objective the correction is a shift of the margin, so it folds into
     * the base score and XGBoost's predictions equal churnlab's default predict(). */
    if (logistic && cl_prior_wanted(CL_PREDICT_PROB, m->params.prior_correction,
                                    m->prior_trained, m->prior_true))
        base += log(m->prior_true / (1 - m->prior_true)) -
                log(m->prior_trained / (1 - m->prior_trained));
    xgb_doc x = {"gbdt export_xgboost", (const cl_tree *const *)m->trees, m->ntrees, m->d, 0,
                 m->names, logistic ? 1 / (1 + exp(-base)) : base, 1.0,
                 m->params.scale_pos_weight, logistic};
    return write_doc(&x, path);
}

int cl_xgb_export_forest(const cl_forest *m, const char *path)
{
    const char *what = m->kind == CL_FOREST_KIND_TREE ? "tree export_xgboost"
                                                      : "forest export_xgboost";
    if (!m->fitted)
        return cl_error(CL_ESTATE, "%s: the model is not fitted", what);
    /* P(y = 1) is the mean of the trees' leaf proportions: one round of parallel trees whose
     * leaves are scaled by 1 / ntrees, under squared error (identity link) from a base of 0 */
    xgb_doc x = {what, (const cl_tree *const *)m->trees, m->ntrees, m->d, 1, m->names, 0.0,
                 1.0 / m->ntrees, 1.0, 0};
    return write_doc(&x, path);
}
