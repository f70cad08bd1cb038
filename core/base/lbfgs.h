/* lbfgs.h - limited-memory quasi-Newton minimisation (L-BFGS) with an optional L1 term
 * handled by OWL-QN (Andrew & Gao 2007): minimises f(x) + l1 * sum_{mask_i} |x_i|, f smooth.
 *
 * A kernel: it knows nothing of models. Everything is double; results depend only on the
 * inputs (fn must be deterministic). Converged when the largest component of the
 * (pseudo-)gradient is <= tol.
 */
#ifndef CL_LBFGS_H
#define CL_LBFGS_H

#include <stdint.h>

#include "base/progress.h"

/* Returns f(x) and writes its gradient into g. Must return a finite value for finite x. */
typedef double (*cl_lbfgs_fn)(void *ud, const double *x, double *g);

typedef struct cl_lbfgs_opts {
    int memory;                 /* pairs kept (default 10) */
    int max_iter;
    double tol;
    double l1;                  /* 0: plain L-BFGS */
    const unsigned char *mask;  /* which coordinates the L1 term covers (NULL: all) */
} cl_lbfgs_opts;

typedef struct cl_lbfgs_result {
    int iters;
    int converged;
    double f;      /* objective including the L1 term */
    double gmax;   /* largest |(pseudo-)gradient| component at the end */
} cl_lbfgs_result;

/* Minimises in place from the starting point x (n values). CL_OK also when not converged
 * (see res->converged); CL_EINTR when prog aborts (x holds the last iterate); CL_ENOMEM. */
int cl_lbfgs_minimize(double *x, int64_t n, cl_lbfgs_fn fn, void *ud, const cl_lbfgs_opts *o,
                      cl_lbfgs_result *res, const cl_progress *prog, const char *task);

#endif
