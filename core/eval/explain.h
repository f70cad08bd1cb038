/* explain.h - model-agnostic explanations: permutation importance, partial dependence and
 * ICE curves, KernelSHAP and LIME-style local surrogates.
 *
 * A model is seen as a function: cl_predict_fn fills out[0..n) with the prediction (the
 * probability of churn) for the n rows of X. Bindings wrap any model's predict in one, so
 * these work for every model kind, now and later.
 *
 * Features may be grouped (the one-hot columns of one original column are one "player"):
 * groups[j] in 0..ngroups-1 for each of the d columns, or NULL for one group per column.
 * Groups are perturbed together, so explanations speak of original columns.
 */
#ifndef CL_EXPLAIN_H
#define CL_EXPLAIN_H

#include <stdint.h>

#include "base/progress.h"
#include "tensor/tensor.h"

typedef int (*cl_predict_fn)(void *ud, const cl_tensor *X, float *out);

typedef enum {
    CL_IMP_AUC = 0,     /* importance = drop in ROC AUC */
    CL_IMP_LOGLOSS = 1, /* importance = rise in log loss */
    CL_IMP_BRIER = 2,   /* importance = rise in Brier score */
    CL_IMP_ACCURACY = 3 /* importance = drop in accuracy at 0.5 */
} cl_imp_metric;

/* Permutation importance: for each group, `repeats` random permutations of its rows (the
 * same permutation for every column of the group); mean[g] and sd[g] of the score change,
 * positive = the model needs the group. X is n x d contiguous, y in {0, 1}. */
int cl_explain_permutation(cl_predict_fn f, void *ud, const cl_tensor *X, const float *y,
                           const int32_t *groups, int ngroups, cl_imp_metric metric, int repeats,
                           uint64_t seed, double *mean, double *sd, double *baseline,
                           const cl_progress *prog);

/* ICE curves of one group: for grid point k, the group's columns are set to
 * grid[k * width .. k * width + width) in every row of X (width = columns in the group,
 * in column order), and ice[i * ngrid + k] is the prediction of row i. The partial
 * dependence is the mean over rows. */
int cl_explain_ice(cl_predict_fn f, void *ud, const cl_tensor *X, const int32_t *groups,
                   int group, const float *grid, int ngrid, double *ice, const cl_progress *prog);

/* KernelSHAP (Lundberg and Lee 2017) of one row x (d values) against a background sample
 * (B x d): phi[g] per group and phi[ngroups] = E[f(background)], with
 * sum(phi[0..ngroups)) + phi[ngroups] = f(x) exactly. Coalitions are enumerated when
 * 2^ngroups <= max(samples, 2^12) (then the values are the exact interventional Shapley
 * values), else `samples` coalitions are drawn from the Shapley kernel in complementary
 * pairs. */
int cl_explain_kernelshap(cl_predict_fn f, void *ud, const float *x, const cl_tensor *background,
                          const int32_t *groups, int ngroups, int samples, uint64_t seed,
                          double *phi);

/* LIME-style local surrogate of one row: `samples` perturbations switch each group off
 * (replaced by a random background row's values) with probability 1/2, weighted by an
 * exponential kernel on the share of groups switched off (width `kernel_width`, 0 = 0.75);
 * a weighted ridge fit on the on/off indicators gives coef[g] (the change in prediction
 * when the group keeps x's values), coef[ngroups] the intercept, and *r2 the weighted fit. */
int cl_explain_lime(cl_predict_fn f, void *ud, const float *x, const cl_tensor *background,
                    const int32_t *groups, int ngroups, int samples, double kernel_width,
                    uint64_t seed, double *coef, double *r2);

#endif
