/* tree.h - decision trees as flat node arrays: prediction, storage, rules, importance.
 *
 * A tree is an array of nodes; node 0 is the root, and the children of an internal node are
 * nodes left and left + 1 (always after their parent, so a walk always terminates). A split
 * sends x to the left when x[feature] < thr (numeric) or when the category code x[feature]
 * is in the node's category set (categorical); a missing value (NaN; for categorical also a
 * negative code, or one the training data never had) goes to the default side.
 *
 * Ensembles are arrays of cl_tree *; their margin is base + scale * sum of the trees' leaf
 * values (gbdt: scale 1; forest: scale 1 / ntrees).
 */
#ifndef CL_TREE_H
#define CL_TREE_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "base/modelio.h"
#include "trees/split.h"
#include "tensor/tensor.h"

#define CL_TREE_LEAF (-1)

/* Deepest tree the library grows, loads or explains. TreeSHAP keeps a path of O(depth^2)
 * elements per thread and recurses once per level, and rules recurse likewise, so the depth
 * must be bounded by something other than the file: "unlimited" depth at fit time means this
 * many levels, and a model file with a deeper tree is refused. */
#define CL_TREE_MAX_DEPTH 1024

/* Largest |base| + scale * sum over trees of max |leaf value| a loaded ensemble may have:
 * beyond it float32 margins (and SHAP sums) overflow to inf on every input. */
#define CL_TREES_MAX_MARGIN 1e37

typedef struct cl_tnode {
    int32_t feature;      /* CL_TREE_LEAF for a leaf */
    int32_t left;         /* left child; the right child is left + 1 */
    float thr;            /* numeric split: left if x < thr */
    float value;          /* leaf: output; internal: the node's own weight (for export) */
    uint8_t default_left; /* missing values go left */
    uint8_t is_cat;
    uint8_t bin;          /* numeric split on bins (training only): left if bin <= this */
    uint8_t ncat;         /* categorical: number of categories at training (codes >= are missing) */
    int32_t cat;          /* categorical: index of the category set (CL_SPLIT_CAT_WORDS words) */
    double cover;         /* hessian (weight) sum of the training rows reaching the node */
    double count;         /* training rows reaching the node */
    double gain;          /* split gain (internal nodes) */
} cl_tnode;

typedef struct cl_tree {
    int n, cap;
    cl_tnode *nodes;
    int ncatsets, catcap;
    uint32_t *cats; /* ncatsets * CL_SPLIT_CAT_WORDS words */
} cl_tree;

int cl_tree_new(cl_tree **out);
void cl_tree_free(cl_tree *t);
/* Appends a node (a leaf with value v); returns its index or a negative status. */
int cl_tree_add(cl_tree *t, float v, double cover, double count);
/* Appends a category set; returns its index or a negative status. */
int cl_tree_add_cats(cl_tree *t, const uint32_t *bits);

static inline int cl_tree_go_left(const cl_tree *t, const cl_tnode *nd, float x)
{
    if (nd->is_cat) {
        if (!(x >= 0) || x >= (float)nd->ncat)
            return nd->default_left;
        int c = (int)x;
        return cl_split_cat_has(t->cats + (size_t)nd->cat * CL_SPLIT_CAT_WORDS, c);
    }
    if (isnan(x))
        return nd->default_left;
    return x < nd->thr;
}

/* Index of the leaf reached by row x (d floats). */
static inline int cl_tree_leaf(const cl_tree *t, const float *x)
{
    const cl_tnode *nodes = t->nodes;
    int i = 0;
    while (nodes[i].feature >= 0) {
        const cl_tnode *nd = nodes + i;
        i = nd->left + !cl_tree_go_left(t, nd, x[nd->feature]);
    }
    return i;
}

/* Leaf reached by row `row` of a column-major bin matrix (training time; `missing[j]` is
 * feature j's missing bin). */
int cl_tree_leaf_binned(const cl_tree *t, const uint8_t *bins, size_t n, size_t row,
                        const int *missing);

/* out[i] = base + scale * sum_t trees[t](X[i]) for X n x d row-major (float32 result, double
 * accumulation in tree order). Parallel over fixed row blocks: thread-count independent. */
void cl_tree_ens_predict(const cl_tree *const *trees, int ntrees, const float *X, size_t n, int d,
                      double base, double scale, float *out);

/* Stores / loads an ensemble under chunk names "<prefix>..." of a model file. Loading
 * validates every index (children after parents and in range, features < d, category sets
 * in range), proves the nodes form a tree (every node but the root has exactly one parent,
 * so it is reachable; depth <= CL_TREE_MAX_DEPTH), and checks every value's meaning: flags
 * 0/1, thresholds not NaN, leaf values finite, covers and counts finite, >= 0 and equal to
 * the sum of their children's (to rounding), gains finite. Errors name the tree and the
 * node. The loaded array and trees are owned (cl_tree_ens_free). */
int cl_tree_ens_write(cl_mw *w, const char *prefix, const cl_tree *const *trees, int ntrees);
int cl_tree_ens_read(const cl_mr *r, const char *prefix, int d, cl_tree ***trees, int *ntrees);
void cl_tree_ens_free(cl_tree **trees, int ntrees);

/* Depth of a tree (a single leaf: 0), iteratively (no recursion whose depth comes from the
 * data). CL_ENOMEM, or CL_EINVAL when it exceeds CL_TREE_MAX_DEPTH. */
int cl_tree_depth(const cl_tree *t, int *depth);

/* Checks an ensemble's margins stay finite: |base| + scale * sum_t max |leaf value of t|
 * <= CL_TREES_MAX_MARGIN; CL_EFORMAT naming `what` otherwise. */
int cl_tree_ens_check_margin(const cl_tree *const *trees, int ntrees, double base, double scale,
                          const char *what);

/* Adds each split's gain, count (1) and cover to gain[f], splits[f], cover[f] (d each). */
void cl_tree_ens_importance(const cl_tree *const *trees, int ntrees, double *gain, double *splits,
                         double *cover);

/* Names for readable rules. Every pointer may be NULL. names[j] names feature j ("x<j+1>"
 * otherwise); labels[j] (nlabels[j] of them) are the category labels of a categorical
 * feature j; src_col[j] / src_label[j] mark a one-hot column (the original column and the
 * category it stands for), so "Contract=Two year < 0.5" reads "Contract != Two year". */
typedef struct cl_rules_names {
    const char *const *names;
    const char *const *const *labels;
    const int *nlabels;
    const char *const *src_col;
    const char *const *src_label;
    /* Thresholds in original units: a feature's threshold t is printed as t * unscale_mul[j]
     * + unscale_add[j] (a pipeline's inverse scaling); NULL prints the model's own units. */
    const double *unscale_mul, *unscale_add;
} cl_rules_names;

/* Readable rules, one line per leaf ("Contract in {Month-to-month} and tenure < 5.5 ->
 * churn 0.62 (n = 812)"); `what` names the output ("churn"). *out is cl_alloc'ed text, owned
 * by the caller. Missing values follow each split's default side (not spelled out). */
int cl_tree_rules(const cl_tree *t, int d, const cl_rules_names *nm, const char *what,
                  char **out);

/* Validates X (2-D, d columns) and y (n labels; 0/1 when binary). Shared with forest. */
int cl_tree_ens_check_xy(const cl_tensor *X, const cl_tensor *y, int binary, const char *what);


#endif
