/* predict.h - batch scoring of tree ensembles (kernel; knows no model).
 *
 * Trees no deeper than CL_PREDICT_DENSE_DEPTH are repacked into perfect binary trees of
 * their own depth D (a leaf above the last level is copied into every slot below it), in
 * flat arrays: node i's children are 2i+1 and 2i+2, so a row takes exactly D steps, each a
 * compare whose result is the index (no branch to mispredict). The code word of a node is
 * feature * 2 + default_left; a numeric node sends x left when x < thr, or when x is NaN and
 * default_left. Rows go in blocks (sized so a block of X stays in L2), one tree at a time and
 * one level at a time over the block's rows, which are independent: the CPU overlaps their
 * loads, and the AVX2 / AVX-512 paths (isa.h) turn the level loop into vector gathers.
 * Deeper trees walk their cl_tnode arrays as tree.h does. Trees with categorical splits use
 * the same layout with a per-node category test.
 *
 * Every row's margin is base + scale * (sum over trees in order, in double, of the float leaf
 * values): exactly what cl_tree_ens_predict (tree.c) computes, so the output is bit-identical
 * to it, and to itself at any thread count (blocks do not depend on it) and on every path.
 */
#ifndef CL_PREDICT_H
#define CL_PREDICT_H

#include <stddef.h>

#include "trees/tree.h"

#define CL_PREDICT_DENSE_DEPTH 10

/* out[i] = base + scale * sum_t trees[t](X[i]) for X n x d row-major, as
 * cl_tree_ens_predict; multi-threaded over row blocks (cl_threads_get()). Small batches and
 * allocation failures take cl_tree_ens_predict itself. */
void cl_predict_ensemble(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                         int d, double base, double scale, float *out);

/* An ensemble packed once for repeated scoring (a model builds it when fitted or read, and
 * frees it with itself). Borrows the trees: they must stay unchanged while the pack lives.
 * Read-only once built, so any number of threads may score with it at the same time. */
typedef struct cl_predict_pack cl_predict_pack;

/* CL_OK and an owned pack (cl_predict_pack_free), or CL_ENOMEM and NULL. */
int cl_predict_pack_new(cl_predict_pack **out, const cl_tree *const *trees, int ntrees);
void cl_predict_pack_free(cl_predict_pack *p);

/* cl_predict_ensemble on a pack (bit-identical to it): no packing and no allocation. A few
 * rows (fewer than 64: a rescored customer) walk each tree's D levels on the packed arrays
 * one row at a time; more go through the block kernel. */
void cl_predict_pack_run(const cl_predict_pack *p, const float *X, size_t n, int d, double base,
                         double scale, float *out);

#endif
