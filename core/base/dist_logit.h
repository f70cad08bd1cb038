/* dist_logit.h - the logistic-regression loss and gradient summed exactly over MPI ranks.
 *
 * Under mpirun each rank holds a block of the rows. For the fit to be the same bits at any
 * number of ranks and threads, every row's contribution is mapped, by a function of that row
 * alone, to numbers whose sum is exact: the gradient terms w (p - y) x_j to int64 fixed point
 * (scale 2^62 / (N wmax max|x_j|) agreed over the ranks, so N terms never overflow (wmax: the
 * largest class weight times the largest sample weight of any rank); the
 * rounding error of the mean gradient is below N 2^-63 of its largest term), the loss term to
 * two float32 halves added to a cl_fsum. Integer sums do not depend on their order, so the
 * rows may be cut into shards and threads anyhow.
 */
#ifndef CL_DIST_LOGIT_H
#define CL_DIST_LOGIT_H

#include "base/dist.h"

#include <stdint.h>

typedef struct cl_dist_logit {
    cl_dist *dist;
    const float *X, *y;
    const float *sw;    /* sample weights (this rank's n), NULL: all 1 */
    int64_t n, d;       /* this rank's rows, features */
    double wpos, wneg;
    double *scale;      /* d + 1 fixed-point scales: the features, then the intercept */
    int64_t *acc;       /* nt x (d + 1) per-thread gradient sums */
    cl_fsum *loss;      /* nt per-thread loss sums */
    int nt, rc;         /* rc: the first failure of a collective (the objective is NaN then) */
} cl_dist_logit;

/* Sums n and the positives over the ranks: *n_all, *pos_all (a collective). */
int cl_dist_logit_counts(cl_dist *dist, const float *y, int64_t n, int64_t *n_all,
                         double *pos_all);
/* Agrees the scales (a collective: the max |x_j| over the ranks); n_all from counts. */
int cl_dist_logit_init(cl_dist_logit *c, cl_dist *dist, const float *X, const float *y,
                       int64_t n, int64_t d, int64_t n_all, double wpos, double wneg, int nt);
/* Sample weights w (n values >= 0, borrowed for the fit; NULL: none): each row's terms count
 * w[i] times (as the one-process fit's); the scales shrink by the largest weight over the
 * ranks. A collective every rank calls after init: weights on some ranks only are an error. */
int cl_dist_logit_weights(cl_dist_logit *c, const float *w);
void cl_dist_logit_free(cl_dist_logit *c);
/* g[0..d] = the gradient sums over every rank's rows (d features, then the intercept);
 * returns the loss sum, or NaN with c->rc set when a collective failed. */
double cl_dist_logit_sums(cl_dist_logit *c, const double *th, double *g);

#endif
