/* als_dist.h - implicit ALS (rec/cf.h, kind "als") data parallel over MPI ranks.
 *
 * Each rank holds the interactions of its own users: the same user and item index spaces on
 * every rank (build the shards with `base =` one catalogue so the id maps agree), with a
 * user's rows all on one rank. The user side is solved locally, as one process does (it needs
 * only Y, which every rank holds whole). The item side comes from normal equations summed over
 * the ranks: for item i, (X^T X + reg I + sum_u alpha v_ui x_u x_u^T) y_i = sum_u (1 +
 * alpha v_ui) x_u, where every sum over users is accumulated in int64 fixed point (a power-of-
 * two scale agreed over the ranks from the largest |x| and confidence and the row counts), so
 * the summed systems are the same integers whatever the number and order of the ranks; each
 * rank then solves every item from them (cg_steps of conjugate gradient warm-started from y_i
 * on the assembled system, or Cholesky for cg_steps = 0). So the factors are bit-identical at
 * any number of ranks and threads; they are not the one-process factors (that one sums in
 * double and runs CG on the implicit system), only as good (tests/e2e/mpi_als.sh).
 *
 * Memory and traffic per iteration: f * f int64 for X^T X, and per block of 256 items
 * 256 * (f (f + 1) / 2 + f) int64 (4.4 MB at f = 64), every item once.
 */
#ifndef CL_ALS_DIST_H
#define CL_ALS_DIST_H

#include "base/dist.h"
#include "rec/interactions.h"

typedef struct cl_als_dist cl_als_dist;

/* Checks that the ranks agree on the index spaces (sizes and labels) and that no user has
 * interactions on two ranks (the error names the user), and records which users this rank
 * owns (those with rows here; a user with none anywhere belongs to rank 0). Collective.
 * Owned; cl_als_dist_free. */
int cl_als_dist_new(cl_als_dist **out, cl_dist *d, const cl_interactions *m, int f);
void cl_als_dist_free(cl_als_dist *a);

/* The item side of one alternation: Y (n_items x f) from the summed normal equations of the
 * owned users' rows of X, with the ALS parameters reg, alpha and cg_steps (rec/cf.h; passed
 * one by one so this file does not include cf.h, which includes it). Collective. */
int cl_als_dist_items(cl_als_dist *a, const cl_interactions *m, double reg, double alpha,
                      int cg_steps, const float *X, float *Y);

/* Every user's row of X from the rank that owns it (an exact exchange: the others send
 * zeros), so every rank ends with the whole X. Collective. */
int cl_als_dist_users(cl_als_dist *a, float *X);

#endif
