/* xgb_import.c - reads an XGBoost JSON model (Booster.save_model("m.json"), the 1.x and 2.x
 * layout: learner / gradient_booster / model / trees with flat per-node arrays) into a fitted
 * gbdt, so a model trained elsewhere gets churnlab's predict, TreeSHAP, reasons and files.
 * Written from XGBoost's documented JSON schema (doc/model.schema), the reader's counterpart
 * of xgb_export.c.
 *
 * What maps: objective binary:logistic (probabilities) and reg:squarederror; numeric splits
 * ("x < split_condition" goes left, missing values to default_left, as here); a leaf's value
 * is its split_condition (already times the learning rate); sum_hessian becomes the cover
 * TreeSHAP weighs by, as XGBoost's own pred_contribs does; base_score (a probability for
 * logistic) becomes the base margin. Trees are renumbered breadth first, since churnlab keeps
 * a node's children next to each other. Categorical splits (XGBoost >= 1.6, split_type 1,
 * enable_categorical): the node's categories (categories[categories_segments[k] ..] of its
 * entry k in categories_nodes) go right in XGBoost, every other code left, NaN to the default
 * side; here the node's left set is the complement within codes 0..254 (ncat 255), so every
 * code 0..254 goes where XGBoost sends it, and codes >= 255 or negative go to the default side
 * (XGBoost: left). A set naming a code above 254 is refused. XGBoost writes such a node's
 * unused split_condition as a bare NaN, which JSON has not: NaN tokens outside strings are
 * read as null first, and a null is refused wherever a number is needed. Refused with a
 * message: other objectives, several classes or targets, dart, vector leaves.
 *
 * The model is then written to an in-memory model file and read back, so an imported model
 * passes every check a loaded file does (covers that add up, margins that cannot overflow).
 *
 * The text is parsed by jansson (as core/serve does). Duplicate member names are refused, since
 * which one counts would be a guess. jansson holds a real as a double, so a float32 field is
 * that double rounded to float. That is the float strtof gives from the text unless the double
 * lands exactly halfway between two floats (double rounding). XGBoost writes a float as its
 * shortest round-trip decimal: one of 9 digits is the nearest 9-digit decimal to the float, at
 * most 5e-9 (relative) from it and so at least 2.4e-8 from the halfway points, never within a
 * double's 1.1e-16; one of 8 or fewer digits was checked for every halfway point with magnitude
 * in [2^-40, 2^40) (scripts/ref/float_double_rounding.c: none). Numbers written as strings
 * ("0.5", XGBoost 2's "[5E-1]") are read with strtod/strtof.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"
#include "trees/gbdt.h"

#define MAX_JSON_BYTES ((size_t)1 << 31) /* 2 GiB: far above any boosted model */

/* Follows object members: path(v, "a", "b", NULL) is v.a.b, or NULL. */
static const json_t *path(const json_t *v, ...)
{
    va_list ap;
    va_start(ap, v);
    const char *k;
    while (v && (k = va_arg(ap, const char *)) != NULL)
        v = json_object_get(v, k);
    va_end(ap);
    return v;
}

/* The text of a string holding a number, optionally as "[x]" (XGBoost 2 writes a one-element
 * vector so); buf holds the unbracketed copy. NULL when v is no such string. */
static const char *num_text(const json_t *v, char *buf, size_t cap)
{
    if (!json_is_string(v))
        return NULL;
    const char *s = json_string_value(v);
    size_t l = json_string_length(v);
    if (l == 0 || l >= cap)
        return NULL;
    if (s[0] == '[' && s[l - 1] == ']') {
        s++;
        l -= 2;
    }
    memcpy(buf, s, l);
    buf[l] = '\0';
    return l ? buf : NULL;
}

/* A number, or a string holding one (XGBoost writes many numeric parameters as strings). */
static int num_value(const json_t *v, double *out)
{
    if (json_is_number(v)) {
        *out = json_number_value(v);
        return 1;
    }
    char buf[64], *e;
    const char *s = num_text(v, buf, sizeof buf);
    if (!s)
        return 0;
    double x = strtod(s, &e);
    if (e == s || *e != '\0' || isinf(x))
        return 0;
    *out = x;
    return 1;
}

/* As num_value, for a float32 field: an integer or string converts to float directly (one
 * rounding); a real is jansson's double rounded to float (see the top of the file). */
static int float_value(const json_t *v, float *out)
{
    if (json_is_integer(v)) {
        *out = (float)json_integer_value(v);
        return 1;
    }
    if (json_is_real(v)) {
        double x = json_real_value(v);
        if (isinf((float)x))
            return 0;
        *out = (float)x;
        return 1;
    }
    char buf[64], *e;
    const char *s = num_text(v, buf, sizeof buf);
    if (!s)
        return 0;
    float x = strtof(s, &e);
    if (e == s || *e != '\0' || isinf(x))
        return 0;
    *out = x;
    return 1;
}

/* One per-node array of tree t: present, an array of num_nodes entries. */
static const json_t *node_array(const json_t *tree, const char *key, uint32_t nn, int t)
{
    const json_t *a = json_object_get(tree, key);
    if (!json_is_array(a) || json_array_size(a) != nn) {
        cl_error(CL_EFORMAT, "xgboost model: tree %d: '%s' must be an array of %u numbers "
                 "(num_nodes)", t + 1, key, nn);
        return NULL;
    }
    return a;
}

static int json_int(const json_t *v, long lo, long hi, long *out)
{
    double x;
    if (!num_value(v, &x) || x != floor(x) || x < (double)lo || x > (double)hi)
        return 0;
    *out = (long)x;
    return 1;
}

typedef struct xtree {
    const json_t *left, *right, *feat, *cond, *dleft, *weight, *hess, *gain, *stype;
    const json_t *cats, *cnodes, *csegs, *csizes; /* categorical splits (XGBoost >= 1.6) */
} xtree;

#define CAT_CODES 255 /* codes 0..254: ncat is a uint8 */

/* The category arrays of tree t: absent (no categorical split), or four arrays of integers
 * whose segments lie inside categories. */
static int cat_arrays(const json_t *tj, int t, xtree *x)
{
    x->cats = json_object_get(tj, "categories");
    x->cnodes = json_object_get(tj, "categories_nodes");
    x->csegs = json_object_get(tj, "categories_segments");
    x->csizes = json_object_get(tj, "categories_sizes");
    if (!x->cnodes || json_array_size(x->cnodes) == 0)
        return CL_OK;
    size_t k = json_array_size(x->cnodes);
    if (!json_is_array(x->cats) || !json_is_array(x->cnodes) || !json_is_array(x->csegs) ||
        !json_is_array(x->csizes) || json_array_size(x->csegs) != k ||
        json_array_size(x->csizes) != k)
        return cl_error(CL_EFORMAT, "xgboost model: tree %d: categories, categories_nodes, "
                        "categories_segments and categories_sizes must be arrays, the last three "
                        "of one length", t + 1);
    return CL_OK;
}

/* Left set of categorical node i (XGBoost node index): the complement of its right-going
 * categories within 0..CAT_CODES-1. */
static int cat_left_set(const xtree *x, uint32_t i, int t, uint32_t *bits)
{
    size_t k = x->cnodes ? json_array_size(x->cnodes) : 0, e = 0;
    long node = -1, seg = 0, size = 0;
    for (; e < k; e++)
        if (json_int(json_array_get(x->cnodes, e), 0, 100000000, &node) && node == (long)i)
            break;
    long ncats = (long)json_array_size(x->cats);
    if (e == k || !json_int(json_array_get(x->csegs, e), 0, ncats, &seg) ||
        !json_int(json_array_get(x->csizes, e), 0, ncats - seg, &size))
        return cl_error(CL_EFORMAT, "xgboost model: tree %d, node %u is a categorical split "
                        "without a valid entry in categories_nodes / _segments / _sizes", t + 1, i);
    for (int w = 0; w < CL_SPLIT_CAT_WORDS; w++)
        bits[w] = 0;
    for (int c = 0; c < CAT_CODES; c++)
        bits[c / 32] |= 1u << (c % 32);
    for (long q = seg; q < seg + size; q++) {
        long c;
        if (!json_int(json_array_get(x->cats, (size_t)q), 0, 1L << 30, &c))
            return cl_error(CL_EFORMAT, "xgboost model: tree %d, node %u: category %ld is not "
                            "a code >= 0", t + 1, i, q - seg + 1);
        if (c >= CAT_CODES)
            return cl_error(CL_ENOTSUP, "xgboost model: tree %d, node %u splits on category "
                            "code %ld; only codes 0..%d can be imported", t + 1, i, c,
                            CAT_CODES - 1);
        bits[c / 32] &= ~(1u << (c % 32));
    }
    return CL_OK;
}

/* Builds tree t in breadth-first order: queue[k] is the XGBoost node that becomes node k. */
static int build_tree(const json_t *tj, int t, int d, cl_tree **out, int *max_depth)
{
    *out = NULL;
    const json_t *tp = json_object_get(tj, "tree_param");
    long nn_l;
    if (!json_int(json_object_get(tp, "num_nodes"), 1, 100000000, &nn_l))
        return cl_error(CL_EFORMAT, "xgboost model: tree %d: tree_param.num_nodes is missing "
                        "or not a positive count", t + 1);
    long vec;
    if (json_int(json_object_get(tp, "size_leaf_vector"), 0, 1000000, &vec) && vec > 1)
        return cl_error(CL_ENOTSUP, "xgboost model: tree %d has vector leaves (multi-target); "
                        "only one output per leaf can be imported", t + 1);
    uint32_t nn = (uint32_t)nn_l;
    xtree x;
    if (!(x.left = node_array(tj, "left_children", nn, t)) ||
        !(x.right = node_array(tj, "right_children", nn, t)) ||
        !(x.feat = node_array(tj, "split_indices", nn, t)) ||
        !(x.cond = node_array(tj, "split_conditions", nn, t)) ||
        !(x.dleft = node_array(tj, "default_left", nn, t)) ||
        !(x.weight = node_array(tj, "base_weights", nn, t)) ||
        !(x.hess = node_array(tj, "sum_hessian", nn, t)) ||
        !(x.gain = node_array(tj, "loss_changes", nn, t)))
        return CL_EFORMAT;
    x.stype = json_object_get(tj, "split_type"); /* absent before XGBoost 1.6 */
    if (x.stype && (!json_is_array(x.stype) || json_array_size(x.stype) != nn))
        return cl_error(CL_EFORMAT, "xgboost model: tree %d: 'split_type' must be an array of "
                        "%u numbers (num_nodes)", t + 1, nn);
    int crc = cat_arrays(tj, t, &x);
    if (crc)
        return crc;
    uint32_t *queue = cl_alloc((size_t)nn * sizeof *queue);
    int *depth = cl_alloc((size_t)nn * sizeof *depth);
    uint8_t *seen = cl_alloc_calloc(nn, 1);
    cl_tree *tr = NULL;
    int rc = CL_ENOMEM;
    if (!queue || !depth || !seen || (rc = cl_tree_new(&tr)))
        goto done;
    queue[0] = 0;
    seen[0] = 1;
    depth[0] = 0;
    uint32_t tail = 1;
    for (uint32_t k = 0; k < tail; k++) {
        uint32_t i = queue[k];
        long l, r, f, dl, st = 0;
        float cond = 0, w, h, g;
        if (x.stype && !json_int(json_array_get(x.stype, i), 0, 1, &st)) {
            rc = cl_error(CL_EFORMAT, "xgboost model: tree %d, node %u: unknown split_type", t + 1,
                          i);
            goto done;
        }
        /* a categorical node's split_condition is unused (XGBoost writes NaN there) */
        if (!json_int(json_array_get(x.left, i), -1, (long)nn - 1, &l) ||
            !json_int(json_array_get(x.right, i), -1, (long)nn - 1, &r) ||
            (st != 1 && !float_value(json_array_get(x.cond, i), &cond)) ||
            !float_value(json_array_get(x.weight, i), &w) ||
            !float_value(json_array_get(x.hess, i), &h) || !float_value(json_array_get(x.gain, i), &g) ||
            !json_int(json_array_get(x.dleft, i), 0, 1, &dl)) {
            rc = cl_error(CL_EFORMAT, "xgboost model: tree %d, node %u: a child index, split "
                          "condition, weight, hessian, gain or default_left is not a valid "
                          "number", t + 1, i);
            goto done;
        }
        int at = cl_tree_add(tr, cond, h, h);
        if (at < 0) {
            rc = at;
            goto done;
        }
        if ((l < 0) != (r < 0)) {
            rc = cl_error(CL_EFORMAT, "xgboost model: tree %d, node %u has one child", t + 1, i);
            goto done;
        }
        if (l < 0) { /* a leaf: split_conditions holds its output */
            *max_depth = depth[k] > *max_depth ? depth[k] : *max_depth;
            continue;
        }
        if (!json_int(json_array_get(x.feat, i), 0, d - 1, &f)) {
            rc = cl_error(CL_EFORMAT, "xgboost model: tree %d, node %u: split index outside "
                          "[0, %d)", t + 1, i, d);
            goto done;
        }
        if (seen[l] || seen[r] || l == r) {
            rc = cl_error(CL_EFORMAT, "xgboost model: tree %d: node %ld or %ld has two parents "
                          "(the nodes must form a tree)", t + 1, l, r);
            goto done;
        }
        if (depth[k] + 1 > CL_TREE_MAX_DEPTH) {
            rc = cl_error(CL_EFORMAT, "xgboost model: tree %d is deeper than %d levels", t + 1,
                          CL_TREE_MAX_DEPTH);
            goto done;
        }
        if (st == 1) {
            uint32_t bits[CL_SPLIT_CAT_WORDS];
            if ((rc = cat_left_set(&x, i, t, bits)))
                goto done;
            int cs = cl_tree_add_cats(tr, bits);
            if (cs < 0) {
                rc = cs;
                goto done;
            }
            tr->nodes[at].is_cat = 1;
            tr->nodes[at].ncat = CAT_CODES;
            tr->nodes[at].cat = cs;
        }
        cl_tnode *nd = tr->nodes + at;
        nd->feature = (int32_t)f;
        nd->thr = cond;
        nd->value = w;
        nd->default_left = (uint8_t)dl;
        nd->gain = g;
        nd->left = (int32_t)tail; /* the children are appended next, left then right */
        seen[l] = seen[r] = 1;
        depth[tail] = depth[tail + 1] = depth[k] + 1;
        queue[tail++] = (uint32_t)l;
        queue[tail++] = (uint32_t)r;
    }
    *out = tr;
    tr = NULL;
    rc = CL_OK;
done:
    cl_tree_free(tr);
    cl_alloc_free(queue);
    cl_alloc_free(depth);
    cl_alloc_free(seen);
    return rc;
}

static int read_names(cl_gbdt *m, const json_t *learner)
{
    const json_t *fn = json_object_get(learner, "feature_names");
    if (!json_is_array(fn) || json_array_size(fn) == 0)
        return CL_OK;
    if (json_array_size(fn) != (size_t)m->d)
        return cl_error(CL_EFORMAT, "xgboost model: %zu feature_names for %d features",
                        json_array_size(fn), m->d);
    const char **nm = cl_alloc((size_t)m->d * sizeof *nm);
    if (!nm)
        return CL_ENOMEM;
    for (int j = 0; j < m->d; j++) {
        const json_t *nj = json_array_get(fn, (size_t)j);
        if (!json_is_string(nj)) {
            cl_alloc_free(nm);
            return cl_error(CL_EFORMAT, "xgboost model: feature_names[%d] is not a string", j);
        }
        nm[j] = json_string_value(nj);
    }
    int rc = cl_gbdt_set_names(m, nm, m->d);
    cl_alloc_free(nm);
    return rc;
}

/* One bin per feature: an imported model was not trained here and has no bin boundaries;
 * the model file needs the chunk, prediction and TreeSHAP never use it. */
static int placeholder_bins(cl_gbdt *m)
{
    int32_t *nb = cl_alloc((size_t)m->d * sizeof *nb);
    uint8_t *ic = cl_alloc_calloc((size_t)m->d, 1);
    int rc = CL_ENOMEM;
    if (nb && ic) {
        for (int j = 0; j < m->d; j++)
            nb[j] = 1;
        rc = cl_binning_from_arrays(&m->bins, m->d, nb, ic, NULL, 0);
    }
    cl_alloc_free(nb);
    cl_alloc_free(ic);
    return rc;
}

static int build(cl_gbdt **out, const json_t *doc)
{
    const json_t *learner = json_object_get(doc, "learner");
    if (!learner)
        return cl_error(CL_EFORMAT, "xgboost model: no 'learner' object (is this a model "
                        "written by Booster.save_model to a .json file?)");
    const json_t *obj = path(learner, "objective", "name", NULL);
    if (!json_is_string(obj))
        return cl_error(CL_EFORMAT, "xgboost model: learner.objective.name is missing");
    const char *objective = json_string_value(obj);
    cl_gbdt_params p = cl_gbdt_params_default();
    if (!strcmp(objective, "binary:logistic"))
        p.objective = CL_GBDT_LOGISTIC;
    else if (!strcmp(objective, "reg:squarederror") || !strcmp(objective, "reg:linear"))
        p.objective = CL_GBDT_SQUARED;
    else
        return cl_error(CL_ENOTSUP, "xgboost model: objective '%s' cannot be imported (only "
                        "binary:logistic and reg:squarederror)", objective);
    const json_t *lmp = json_object_get(learner, "learner_model_param");
    long d, ncls = 0, ntgt = 1;
    double bs;
    if (!json_int(json_object_get(lmp, "num_feature"), 1, 1000000, &d))
        return cl_error(CL_EFORMAT, "xgboost model: learner_model_param.num_feature is missing "
                        "or not in 1..1000000");
    if ((json_object_get(lmp, "num_class") && !json_int(json_object_get(lmp, "num_class"), 0, 1000000,
                                                    &ncls)) ||
        (json_object_get(lmp, "num_target") && !json_int(json_object_get(lmp, "num_target"), 1,
                                                     1000000, &ntgt)) ||
        ncls > 1 || ntgt > 1)
        return cl_error(CL_ENOTSUP, "xgboost model: several classes or targets; only binary "
                        "and single-target models can be imported");
    if (!num_value(json_object_get(lmp, "base_score"), &bs) || !isfinite(bs) ||
        (p.objective == CL_GBDT_LOGISTIC && !(bs > 0 && bs < 1)))
        return cl_error(CL_EFORMAT, "xgboost model: learner_model_param.base_score is missing "
                        "or not %s", p.objective == CL_GBDT_LOGISTIC ? "a probability in (0, 1)"
                                                                     : "a finite number");
    double spw;
    if (p.objective == CL_GBDT_LOGISTIC &&
        num_value(path(learner, "objective", "reg_loss_param", "scale_pos_weight",
                                 NULL), &spw) && spw >= 1e-6 && spw <= 1e6)
        p.scale_pos_weight = spw; /* recorded only: the import knows no prior rates */
    const json_t *gb = json_object_get(learner, "gradient_booster");
    const json_t *gbn = json_object_get(gb, "name");
    if (!json_is_string(gbn) || strcmp(json_string_value(gbn), "gbtree") != 0)
        return cl_error(CL_ENOTSUP, "xgboost model: booster '%s' cannot be imported (only "
                        "gbtree)", json_is_string(gbn) ? json_string_value(gbn) : "?");
    const json_t *trees = path(gb, "model", "trees", NULL);
    if (!json_is_array(trees))
        return cl_error(CL_EFORMAT, "xgboost model: gradient_booster.model.trees is missing");
    size_t ntrees = json_array_size(trees);
    if (ntrees < 1 || ntrees > 100000)
        return cl_error(CL_EFORMAT, "xgboost model: %zu trees (expected 1..100000)", ntrees);
    p.trees = (int)ntrees;
    cl_gbdt *m;
    int rc = cl_gbdt_new(&m, &p);
    if (rc)
        return rc;
    m->d = (int)d;
    m->base = p.objective == CL_GBDT_LOGISTIC ? log(bs / (1 - bs)) : bs;
    if (!(m->trees = cl_alloc_calloc(ntrees, sizeof *m->trees))) {
        rc = CL_ENOMEM;
        goto fail;
    }
    m->cap = (int)ntrees;
    int max_depth = 0;
    for (size_t t = 0; t < ntrees; t++) {
        if ((rc = build_tree(json_array_get(trees, t), (int)t, m->d, &m->trees[t], &max_depth)))
            goto fail;
        m->ntrees++;
    }
    /* the growth parameters are not in the model file: depth records the deepest tree */
    if (max_depth <= 64) {
        m->params.depth = max_depth > 0 ? max_depth : 1;
    } else {
        m->params.depth = 0;
        m->params.leaves = 65536;
    }
    if ((rc = read_names(m, learner)) || (rc = placeholder_bins(m)))
        goto fail;
    m->fitted = 1;
    *out = m;
    return CL_OK;
fail:
    cl_gbdt_free(m);
    return rc;
}

/* Through a model file in memory: the imported model meets every check of cl_gbdt_read. */
static int validated(cl_gbdt **out, const cl_gbdt *m, const char *origin)
{
    cl_mw *w = cl_modelio_w_new("gbdt");
    if (!w)
        return CL_ENOMEM;
    const void *buf;
    size_t len;
    cl_mr *r = NULL;
    int rc = cl_gbdt_write(m, w);
    if (!rc)
        rc = cl_modelio_w_finish(w, &buf, &len);
    if (!rc)
        rc = cl_modelio_r_from_buffer(&r, buf, len, origin);
    if (!rc)
        rc = cl_gbdt_read(out, r);
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
    return rc;
}

/* A copy of the text with every NaN token outside strings written as null (XGBoost writes
 * bare NaN, which is not JSON). Owned (cl_alloc_free); NULL when out of memory. */
static char *nan_as_null(const char *text, size_t len, size_t *olen)
{
    size_t extra = 0;
    int in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
        } else if (c == 'N' && i + 3 <= len && !memcmp(text + i, "NaN", 3)) {
            extra++;
            i += 2;
        }
    }
    char *o = cl_alloc(len + extra + 1);
    if (!o)
        return NULL;
    size_t k = 0;
    in_str = 0;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            o[k++] = c;
            if (c == '\\' && i + 1 < len)
                o[k++] = text[++i];
            else if (c == '"')
                in_str = 0;
        } else if (c == '"') {
            in_str = 1;
            o[k++] = c;
        } else if (c == 'N' && i + 3 <= len && !memcmp(text + i, "NaN", 3)) {
            memcpy(o + k, "null", 4);
            k += 4;
            i += 2;
        } else {
            o[k++] = c;
        }
    }
    o[k] = '\0';
    *olen = k;
    return o;
}

int cl_xgb_import_gbdt_json(cl_gbdt **out, const char *text, size_t len, const char *origin)
{
    *out = NULL;
    if (!origin)
        origin = "json";
    json_error_t je;
    size_t clen;
    char *clean = nan_as_null(text, len, &clen);
    if (!clean)
        return CL_ENOMEM;
    /* any root value, as before: a non-object root is "no 'learner' object" */
    json_t *doc = json_loadb(clean, clen, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    cl_alloc_free(clean);
    if (!doc)
        return cl_error(CL_EFORMAT, "'%s': not valid JSON at line %d, column %d: %s", origin,
                        je.line, je.column, je.text);
    cl_gbdt *m = NULL;
    int rc = build(&m, doc);
    json_decref(doc);
    if (!rc)
        rc = validated(out, m, origin);
    cl_gbdt_free(m);
    if (rc && rc != CL_ENOMEM)
        return cl_error_wrap(rc, "'%s'", origin);
    return rc;
}

int cl_xgb_import_gbdt(cl_gbdt **out, const char *path)
{
    *out = NULL;
    char *text;
    size_t len;
    int rc = cl_fileio_read(path, MAX_JSON_BYTES, &text, &len);
    if (rc)
        return rc;
    rc = cl_xgb_import_gbdt_json(out, text, len, path);
    cl_alloc_free(text);
    return rc;
}
