/* treeshap.h - exact SHAP values of tree ensembles (path-dependent TreeSHAP, Lundberg, Erion
 * et al. 2018, "Consistent individualized feature attribution for tree ensembles", Alg. 2).
 *
 * The value function is the path-dependent conditional expectation: E[f(x) | x_S] follows x
 * at splits on features in S and averages both children weighted by their training cover
 * (hessian sums) at the other splits. phi_j are the exact Shapley values of that game; with
 * phi_d = E[f] (the cover-weighted mean leaf value plus the base margin) every row sums to the
 * model's margin. This is what XGBoost's pred_contribs computes.
 */
#ifndef CL_TREESHAP_H
#define CL_TREESHAP_H

#include <stddef.h>

#include "trees/tree.h"

/* out: n x (d + 1) row-major; row i holds phi_0..phi_{d-1} and phi_d = base + scale * sum_t
 * E[tree_t] for X (n x d row-major). Trees' values are multiplied by scale (forest: 1/ntrees).
 * Parallel over fixed row blocks (deterministic). */
int cl_treeshap(const cl_tree *const *trees, int ntrees, const float *X, size_t n, int d,
                double base, double scale, float *out);

/* SHAP interaction values (XGBoost's pred_interactions): out is n x (d + 1) x (d + 1)
 * row-major. For i != j < d, out[r][i][j] = (phi_j given i present - phi_j given i absent) / 2
 * (TreeSHAP conditioned on feature i, Lundberg et al. 2018 section 4.2); the diagonal holds the
 * main effects phi_i - sum_{j != i} out[r][i][j], so row i adds up to phi_i of cl_treeshap;
 * the last row and column are 0 but out[r][d][d] = the expected value. 2d + 1 TreeSHAP passes
 * per row. Parallel over rows (each row's arithmetic fixed: deterministic). */
int cl_treeshap_interactions(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                             int d, double base, double scale, float *out);

/* Cover-weighted mean leaf value of one tree (its expected value). */
double cl_treeshap_expected(const cl_tree *t);

/* Rescales SHAP rows (n x (d+1), margins on the logit scale) to probability contributions:
 * each row's phi_j are multiplied by (sigmoid(margin) - sigmoid(E)) / (margin - E) so they
 * add up to the predicted probability minus the base rate sigmoid(E), which becomes the last
 * column (rows with margin == E get zeros). Proportional rescaling: signs and ranks of the
 * contributions within a row are kept. */
void cl_treeshap_to_probability(float *phi, size_t n, int d);

/* Algorithm 2 alone (no plan), whatever n: the reference the fast path is tested against. */
int cl_treeshap_reference(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                          int d, double base, double scale, float *out);

/* Fast exact TreeSHAP (treeshap_plan.c). A plan precomputes, per tree and per leaf, a table
 * over the subsets of the leaf's path features (2^m doubles for m distinct features on the
 * path), after which one row costs O(nodes + leaves * depth) per tree instead of Algorithm
 * 2's O(leaves * depth^2); the idea of Fast TreeSHAP v2 (Yang 2021, arXiv 2109.09847), with
 * its own derivation (see treeshap_plan.c). Trees whose paths carry more than
 * CL_TREESHAP_FAST_MAX_FEATURES distinct features, or past the plan's memory budget
 * CL_TREESHAP_FAST_MAX_BYTES, are explained by Algorithm 2 inside the same plan.
 * Memory: per leaf 2^m doubles + 8 bytes per path split + 12 bytes per distinct feature +
 * 48; 1 byte per node; at most CL_TREESHAP_FAST_MAX_BYTES of tables in all (300 trees of
 * depth 6: 6.4 MB). Per thread while running: 4 bytes per node of the largest tree, 64 rows
 * of d + 1 doubles, and Algorithm 2's path buffer.
 * The plan borrows the trees: they must outlive it and not change. It is read-only once
 * built, so build it before concurrent use (at fit / load) and share it between threads.
 * cl_treeshap() builds one per call when n >= 8 rows; one-row callers (serving) should own
 * a plan. Output layout as cl_treeshap(). */
#define CL_TREESHAP_FAST_MAX_FEATURES 12
#define CL_TREESHAP_FAST_MAX_BYTES ((size_t)64 << 20)
typedef struct cl_treeshap_plan cl_treeshap_plan;
int cl_treeshap_plan_new(cl_treeshap_plan **out, const cl_tree *const *trees, int ntrees,
                         double base, double scale);
void cl_treeshap_plan_free(cl_treeshap_plan *p);
int cl_treeshap_plan_run(const cl_treeshap_plan *p, const float *X, size_t n, int d, float *out);
/* Bytes the plan holds; number of trees it explains by Algorithm 2 (too deep / over budget). */
size_t cl_treeshap_plan_bytes(const cl_treeshap_plan *p);
int cl_treeshap_plan_fallbacks(const cl_treeshap_plan *p);
/* One row in double (phi: d + 1 values, accumulated; phi[d] untouched): for tests. */
void cl_treeshap_plan_row(const cl_treeshap_plan *p, const float *x, void *work, double *phi);
size_t cl_treeshap_plan_work_bytes(const cl_treeshap_plan *p);

/* Internals shared with treeshap_plan.c: Algorithm 2 for one tree and one row, adding into
 * phi, with a path buffer of cl_treeshap_path_bytes(depth) bytes; the deepest tree's depth
 * and the ensemble's expected value. */
size_t cl_treeshap_path_bytes(int depth);
void cl_treeshap_tree_row(const cl_tree *t, const float *x, double scale, void *path,
                          double *phi);
int cl_treeshap_ensemble_ev(const cl_tree *const *trees, int ntrees, double base, double scale,
                            int *md_out, double *ev_out);

/* The parallel loop every entry point runs (Algorithm 2, the plan, the interactions): rows
 * 0..n-1 in fixed blocks of `block` rows spread statically over cl_threads_get() threads
 * (so the result never depends on the thread count), in parallel only when n > par_min.
 * Each thread owns `work_bytes` of scratch and `buf_doubles` doubles; fn(ctx, i0, i1, work,
 * buf) explains rows i0..i1-1 and returns nonzero when it saw Ctrl-C (it may poll inside a
 * block); the loop also polls before every block. Returns CL_ENOMEM or CL_EINTR with a
 * message, else CL_OK. */
typedef int (*cl_treeshap_block_fn)(const void *ctx, size_t i0, size_t i1, void *work,
                                    double *buf);
int cl_treeshap_run_blocks(size_t n, size_t block, size_t par_min, size_t work_bytes,
                           size_t buf_doubles, cl_treeshap_block_fn fn, const void *ctx);

#endif
