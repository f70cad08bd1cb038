/* survival_impl.h - internals shared by survival.c (Kaplan-Meier, log-rank, concordance) and
 * cox.c; not part of the public API. */
#ifndef CL_SURVIVAL_IMPL_H
#define CL_SURVIVAL_IMPL_H

#include <stdint.h>

/* CL_OK, or CL_EINVAL naming `what` and the row: n > 0, finite times >= 0, events 0 or 1. */
int cl_survival_check(const double *time, const double *event, int64_t n, const char *what);
/* Row indices 0..n-1 ordered by key (ascending, or descending when desc), ties by row: a
 * total order, so runs are reproducible. Owned (cl_alloc_free); NULL when out of memory. Not
 * reentrant (qsort with a file-static key): call from one thread. */
int64_t *cl_survival_order(const double *key, int64_t n, int desc);
/* Cholesky solve of the symmetric positive definite A (d x d, overwritten) for each of the
 * nrhs columns of B (d x nrhs, row-major, overwritten with the solution); CL_EINVAL when A
 * is not positive definite. */
int cl_survival_chol(double *A, int d, double *B, int nrhs);

#endif
