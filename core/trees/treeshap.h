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

#endif
