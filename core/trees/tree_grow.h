/* tree_grow.h - grows one tree on binned data from per-row gradients and hessians.
 *
 * Shared by gbdt (second-order boosting), forest and the single CART tree (squared error on
 * 0/1 labels = Gini impurity decrease, leaf value = weighted class-1 share). Kernels: hist.h
 * and split.h. Growth is depth-wise (nodes split in creation order, level by level) or
 * leaf-wise (best-first: the open leaf with the largest gain is split next, up to
 * max_leaves). With subtraction on, only the smaller child's histogram is built and the
 * sibling's is parent - smaller. Depth-wise growth on one process with subtraction and every
 * feature at every node (gbdt's usual case, CART) splits all nodes of a depth together, each
 * phase one parallel loop over the whole level (tree_grow.c: grow_levels); it grows the same
 * trees bit for bit as the node-by-node grower, which serves the other cases.
 *
 * Fixed point: per tree, gradients and hessians are rounded to int64 multiples of a power of
 * two chosen from their largest magnitude and the number of rows, so that no sum of them can
 * overflow (62 bits for the largest possible sum: a gradient of magnitude g keeps about
 * 62 - log2(rows) - log2(max|g| / |g|) bits, more than float32's 24 for all but the tiniest);
 * histograms, node sums and child sums are then exact integers (hist.h). So the thread count
 * never changes a result, and neither does the number of MPI ranks.
 *
 * Distributed (p->dist with more than one rank): each rank passes its own rows; the maxima,
 * node counts, root sums and every histogram are summed over the ranks (cl_dist), so every
 * rank sees the global histograms, finds the same splits and grows the same tree (its
 * `leaves` describe its own rows). Every rank must call with the same parameters, features and
 * rng state. A failure on one rank is agreed with the others (every rank returns it).
 */
#ifndef CL_TREE_GROW_H
#define CL_TREE_GROW_H

#include <stddef.h>
#include <stdint.h>

#include "trees/binning.h"
#include "trees/hist.h"
#include "base/dist.h"
#include "base/rng.h"
#include "trees/split.h"
#include "trees/tree.h"

typedef struct cl_tree_grow_params {
    cl_split_params sp;
    int max_depth;  /* 0 = unlimited (CL_TREE_MAX_DEPTH) */
    int max_leaves; /* 0 = depth-wise; > 0 = leaf-wise best-first with at most this many */
    int mtry;       /* features tried per node: 0 = all of the tree's features */
    double lr;      /* leaf values are lr * weight */
    int subtract;   /* histogram subtraction (needs mtry == 0) */
    int nthreads;
    cl_dist *dist;  /* NULL: this process holds every row */
    /* d entries of +1 / -1 / 0 (monotone increasing / decreasing / free), or NULL: none.
     * With constraints every node carries weight bounds (XGBoost's scheme): a split on a
     * constrained feature must order its children's weights, and their bounds meet at the
     * midpoint of the two weights, so no later split can undo the order (split.h). */
    const int8_t *mono;
    /* Interaction constraints: d bitmasks of the constraint sets holding each feature, or
     * NULL: none. A node below the root may split on feature j only when some set holds j and
     * every feature on the node's path (XGBoost's rule); each node carries the intersection of
     * its path features' masks, the sets still open to it. */
    const uint32_t *ic;
} cl_tree_grow_params;

/* Scratch reused across trees (owned; cl_tree_grow_ws_free). */
typedef struct cl_tree_grow_ws cl_tree_grow_ws;
int cl_tree_grow_ws_new(cl_tree_grow_ws **out, size_t n, int total_bins, int d);
void cl_tree_grow_ws_free(cl_tree_grow_ws *ws);

/* Leaves of the last grown tree: leaf node index and the range [start, end) of `rows` (as
 * reordered by the grower) that reached it. Borrowed from ws until the next grow. */
typedef struct cl_tree_grow_leaf {
    int node;
    size_t start, end;
} cl_tree_grow_leaf;

/* Grows a tree into `t` (empty) from rows[0..m) (reordered in place so each leaf's rows are
 * contiguous), using features feats[0..nf) (increasing). grad/hess are per row (indexed by
 * row number). bins: column-major matrix of n rows binned with `b`. rng: for mtry sampling.
 * On success *leaves / *nleaves describe the leaves. */
int cl_tree_grow(cl_tree *t, const cl_binning *b, const uint8_t *bins, size_t n,
                 const float *grad, const float *hess, uint32_t *rows, size_t m,
                 const int *feats, int nf, const cl_tree_grow_params *p, cl_rng *rng, cl_tree_grow_ws *ws,
                 const cl_tree_grow_leaf **leaves, int *nleaves);

/* Testing hook: on != 0 grows every tree node by node (grow() in tree_grow.c) also where the
 * level-wise path would serve (depth-wise, one process, subtraction, no feature sampling);
 * both give the same tree bit for bit (tests/core/trees/test_gbdt.c). */
void cl_tree_grow_force_node_wise(int on);

#endif
