/* kmeans.h - k-means segmentation (k-means++ seeding, restarts) and silhouette scores.
 *
 * Deterministic: restart r draws from the stream cl_rng_split(seed, r); centre sums are
 * accumulated over fixed blocks of rows and reduced in block order, so the result is
 * bit-identical whatever the thread count.
 */
#ifndef CL_CLUSTER_H
#define CL_CLUSTER_H

#include <stdint.h>

#include "base/modelio.h"
#include "base/param.h"
#include "base/progress.h"

typedef struct cl_kmeans_params {
    int k;
    int restarts;
    int max_iter;
    double tol;     /* stop when no centre moves more than tol (relative to the data scale) */
    uint64_t seed;
} cl_kmeans_params;

extern const cl_param_def cl_kmeans_param_defs[];
cl_kmeans_params cl_kmeans_params_default(void);

/* A model: its parameters, and once fitted its centres. Owned; cl_kmeans_free. */
typedef struct cl_kmeans {
    cl_kmeans_params params;
    int k, d;          /* d = 0: not fitted yet (centers and sizes NULL) */
    double *centers;   /* k x d */
    double inertia;    /* sum of squared distances to the nearest centre (best restart) */
    int iters;         /* Lloyd iterations of the best restart */
    int64_t *sizes;    /* [k] training rows per cluster */
} cl_kmeans;

/* An unfitted model with parameters p (validated against cl_kmeans_param_defs; copied).
 * *out is owned (cl_kmeans_free). */
int cl_kmeans_new(cl_kmeans **out, const cl_kmeans_params *p);
/* Fits m on X: n x d row-major float32 (no NaN: impute first), replacing what an earlier fit
 * left (a refit equals a fit of a new model on the same data). labels (may be NULL) gets n
 * cluster indices 0..k-1 of the training rows. On failure (bad X, out of memory, the progress
 * callback stopping it) m is left as it was; labels then hold nothing meaningful. */
int cl_kmeans_fit(cl_kmeans *m, const float *X, int64_t n, int d, int32_t *labels,
                  const cl_progress *prog);
int cl_kmeans_predict(const cl_kmeans *m, const float *X, int64_t n, int d, int32_t *labels);
void cl_kmeans_free(cl_kmeans *m);

/* Model files of kind "kmeans". Reading checks every size against the stored chunk before
 * anything is allocated, and every value's meaning: parameters in their table's ranges,
 * iters <= max_iter, centres finite float32-range numbers (they are means of float32 rows),
 * sizes >= 0, inertia finite >= 0. *out is owned (cl_kmeans_free). */
int cl_kmeans_write(const cl_kmeans *m, cl_mw *w);
int cl_kmeans_read(cl_kmeans **out, const cl_mr *r);

/* Mean silhouette coefficient over rows (exact, O(n^2 d)); `sample` > 0 restricts the rows
 * scored to a seeded random sample of that size (distances still use every row). */
int cl_kmeans_silhouette(const float *X, int64_t n, int d, const int32_t *labels, int k, int64_t sample,
                  uint64_t seed, double *out);

#endif
