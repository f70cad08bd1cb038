/* xgb_export.c - writes a gbdt model in XGBoost's JSON model format (the 1.7 layout:
 * learner / gradient_booster / model / trees with flat per-node arrays), so any XGBoost
 * runtime can score it. Written from XGBoost's documented JSON schema (doc/model.schema). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "models/prior.h"
#include "base/error.h"
#include "base/fileio.h"
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

static void tree_json(cl_strbuf *b, const cl_tree *t, int id, int d)
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
    ARR("base_weights", jf(b, nd->value));
    cl_strbuf_printf(b, "\"categories\":[],\"categories_nodes\":[],\"categories_segments\":[],"
                     "\"categories_sizes\":[],");
    ARR("default_left", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->default_left : 0));
    cl_strbuf_printf(b, "\"id\":%d,", id);
    ARR("left_children", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->left : -1));
    ARR("loss_changes", jf(b, nd->feature >= 0 ? nd->gain : 0.0));
    ARR("parents", cl_strbuf_printf(b, "%d", parent[i]));
    ARR("right_children", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->left + 1 : -1));
    ARR("split_conditions", jf(b, nd->feature >= 0 ? nd->thr : nd->value));
    ARR("split_indices", cl_strbuf_printf(b, "%d", nd->feature >= 0 ? nd->feature : 0));
    ARR("split_type", cl_strbuf_printf(b, "0"));
    ARR("sum_hessian", jf(b, nd->cover));
#undef ARR
    cl_strbuf_printf(b,
                     "\"tree_param\":{\"num_deleted\":\"0\",\"num_feature\":\"%d\","
                     "\"num_nodes\":\"%d\",\"size_leaf_vector\":\"0\"}}",
                     d, n);
    cl_free(parent);
}

int cl_gbdt_export_xgboost(const cl_gbdt *m, const char *path)
{
    if (!m->fitted)
        return cl_error(CL_ESTATE, "gbdt export_xgboost: the model is not fitted");
    for (int t = 0; t < m->ntrees; t++)
        for (int i = 0; i < m->trees[t]->n; i++) {
            const cl_tnode *nd = m->trees[t]->nodes + i;
            if (nd->feature >= 0 && nd->is_cat)
                return cl_error(CL_ENOTSUP,
                                "gbdt export_xgboost: tree %d splits on categorical feature %d; "
                                "only numeric splits can be exported (fit with one-hot "
                                "encoding instead of native categories)",
                                t + 1, nd->feature + 1);
            if (nd->feature >= 0 && !isfinite(nd->thr))
                return cl_error(CL_ENOTSUP, "gbdt export_xgboost: tree %d has a non-finite "
                                            "threshold", t + 1);
        }
    int logistic = m->params.objective == CL_GBDT_LOGISTIC;
    double base = m->base;
    /* A prior-corrected model (reweighted fit, prior_correction on) is exported corrected too:
     * for the logistic objective the correction is a shift of the margin, so it folds into
     * the base score and XGBoost's predictions equal churnlab's default predict(). */
    if (logistic && cl_prior_wanted(CL_PREDICT_PROB, m->params.prior_correction,
                                    m->prior_trained, m->prior_true))
        base += log(m->prior_true / (1 - m->prior_true)) -
                log(m->prior_trained / (1 - m->prior_trained));
    double base_score = logistic ? 1 / (1 + exp(-base)) : base;
    cl_strbuf b = {0};
    cl_strbuf_printf(&b, "{\"learner\":{\"attributes\":{},\"feature_names\":[");
    for (int j = 0; m->names && j < m->d; j++) {
        if (j)
            cl_strbuf_printf(&b, ",");
        json_str(&b, m->names[j]);
    }
    cl_strbuf_printf(&b, "],\"feature_types\":[");
    for (int j = 0; m->names && j < m->d; j++)
        cl_strbuf_printf(&b, "%s\"float\"", j ? "," : "");
    cl_strbuf_printf(&b,
                     "],\"gradient_booster\":{\"model\":{\"gbtree_model_param\":{"
                     "\"num_parallel_tree\":\"1\",\"num_trees\":\"%d\",\"size_leaf_vector\":\"0\"},"
                     "\"tree_info\":[",
                     m->ntrees);
    for (int t = 0; t < m->ntrees; t++)
        cl_strbuf_printf(&b, "%s0", t ? "," : "");
    cl_strbuf_printf(&b, "],\"trees\":[");
    for (int t = 0; t < m->ntrees; t++) {
        if (t)
            cl_strbuf_printf(&b, ",");
        tree_json(&b, m->trees[t], t, m->d);
    }
    char bs[40];
    snprintf(bs, sizeof bs, "%.9g", base_score);
    cl_strbuf_printf(&b,
                     "]},\"name\":\"gbtree\"},\"learner_model_param\":{\"base_score\":\"%s\","
                     "\"boost_from_average\":\"1\",\"num_class\":\"0\",\"num_feature\":\"%d\","
                     "\"num_target\":\"1\"},\"objective\":",
                     bs, m->d);
    if (logistic)
        cl_strbuf_printf(&b,
                         "{\"name\":\"binary:logistic\","
                         "\"reg_loss_param\":{\"scale_pos_weight\":\"%.9g\"}}",
                         m->params.scale_pos_weight);
    else
        cl_strbuf_printf(&b, "{\"name\":\"reg:squarederror\","
                             "\"reg_loss_param\":{\"scale_pos_weight\":\"1\"}}");
    cl_strbuf_printf(&b, "},\"version\":[1,7,4]}\n");
    int rc = b.err;
    if (!rc)
        rc = cl_file_write_atomic(path, b.s, b.len);
    else
        rc = cl_error(rc, rc == CL_ENOMEM ? "gbdt export_xgboost: out of memory"
                                          : "gbdt export_xgboost: cannot format the model");
    cl_strbuf_free(&b);
    return rc;
}
