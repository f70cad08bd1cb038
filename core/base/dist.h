/* dist.h - the processes of a distributed (MPI) run, as the core sees them.
 *
 *   cl_dist *d = cl_dist_world();      // NULL unless started by mpirun in an MPI build
 *   int64_t v[2] = {local_rows, local_pos};
 *   rc = cl_dist_sum_small(d, v, 2);   // every rank gets the sums
 *
 * Built without MPI (or run without a launcher) there is one process: cl_dist_world() is
 * NULL, rank 0 of size 1, and every collective below is a no-op returning CL_OK, so core code
 * calls them unconditionally. With MPI (-DCL_HAVE_MPI), MPI is initialised on the first call
 * of cl_dist_world() when the process was started by an MPI launcher (mpirun sets
 * OMPI_COMM_WORLD_SIZE / PMIX_RANK / PMI_RANK); a plain `churnlab x.lua` never touches MPI.
 * Only the thread that runs Lua calls these (MPI_THREAD_FUNNELED); OpenMP kernels never do.
 *
 * Failure agreement. A rank that fails on its own (bad input on its shard, out of memory)
 * must not leave the others waiting in a collective for ever. Every collective starts with the
 * same small exchange of a fixed 8-slot status vector, so a failing rank that calls
 * cl_dist_agree(d, rc) matches whatever collective the others are in: all of them learn that
 * rank k failed, receive its code and message ("rank 1: binning: row 5 ..."), and return it.
 * The failure is then sticky (later collectives return it without communicating) until
 * cl_dist_begin(); a routine that runs collectives calls cl_dist_begin() first and
 * cl_dist_agree(d, rc) once more at its end (so a failure after the last collective is seen
 * too). Interruptions (CL_EINTR) travel the same way.
 *
 * Determinism: integer sums are exact, so their result does not depend on how the rows were
 * cut into shards; cl_fsum adds float32 values exactly for the same reason. Gathers return
 * each rank's block in rank order: with contiguous shards in rank order that is the row
 * order of the whole data, as one process would see it.
 */
#ifndef CL_DIST_H
#define CL_DIST_H

#include <stddef.h>
#include <stdint.h>

typedef struct cl_dist cl_dist;

/* The world of an MPI run (borrowed, lives until cl_dist_shutdown), or NULL: no MPI in this
 * build, not started by a launcher, or MPI_Init failed (then cl_dist_world_error() says why). */
cl_dist *cl_dist_world(void);
const char *cl_dist_world_error(void);
/* 1 when the build has MPI. */
int cl_dist_built(void);
/* Ends MPI if it was started: MPI_Finalize for status 0, MPI_Abort(status) otherwise (a rank
 * that stops with an error must take the others down rather than leave them waiting). */
void cl_dist_shutdown(int status);

int cl_dist_rank(const cl_dist *d); /* 0 for NULL */
int cl_dist_size(const cl_dist *d); /* 1 for NULL */

/* Clears a sticky failure (start of a distributed routine; local, no communication). */
void cl_dist_begin(cl_dist *d);
/* Agrees on a status: rc when this rank failed; the failing rank's code (its message
 * prefixed with its rank) when another did; CL_OK when every rank passed CL_OK. */
int cl_dist_agree(cl_dist *d, int rc);

#define CL_DIST_SMALL 6
/* Sums k <= CL_DIST_SMALL int64 values over the ranks, in place, together with the status
 * exchange (one message). */
int cl_dist_sum_small(cl_dist *d, int64_t *v, int k);
/* cl_dist_sum_small carrying this rank's status rc as cl_dist_agree does: the sums when every
 * rank passed CL_OK, otherwise every rank returns the failure. */
int cl_dist_sum_small_agree(cl_dist *d, int rc, int64_t *v, int k);
/* Sums v[1..n) over the ranks in ONE message that also carries the status in slot v[0]
 * (overwritten): for a routine whose ranks are known to make this same call with the same n
 * (after an agreed exchange, every failure point before it), so the status exchange the other
 * collectives start with rides along. A failing rank passes its rc (its v is zeroed, and it
 * needs v to hold n values); then every rank returns the failure as cl_dist_agree does. A rank
 * must not fail between two such calls without reaching the next one. */
int cl_dist_sum_i64_agree(cl_dist *d, int rc, int64_t *v, size_t n);
/* Sums n int64 values over the ranks, in place (exact: the result is independent of the
 * ranks' order and number). */
int cl_dist_sum_i64(cl_dist *d, int64_t *v, size_t n);
/* Element-wise maximum of n doubles (NaN-free) over the ranks, in place. */
int cl_dist_max_f64(cl_dist *d, double *v, size_t n);
/* Element-wise op (CL_DIST_SUM, CL_DIST_MAX, CL_DIST_MIN) of n doubles over the ranks, in
 * place. Sums are MPI's: integers below 2^53 are exact, other values are rounded in an order
 * that depends on the number of ranks (use integers or cl_fsum where that matters). */
enum { CL_DIST_SUM = 0, CL_DIST_MAX = 1, CL_DIST_MIN = 2 };
int cl_dist_reduce_f64(cl_dist *d, double *v, size_t n, int op);
/* counts[r] = the value `mine` of rank r, for every r (counts holds cl_dist_size values). */
int cl_dist_gather_i64(cl_dist *d, int64_t mine, int64_t *counts);
/* Concatenates every rank's `bytes` bytes from `mine` into `all`, in rank order; bytes[r] of
 * rank r must be passed by every rank as counts (from cl_dist_gather_i64). */
int cl_dist_allgatherv(cl_dist *d, const void *mine, void *all, const int64_t *counts);
int cl_dist_barrier(cl_dist *d);

/* Exact sum of float32 values: each value is an integer mantissa times a power of two, and
 * the mantissas are added per exponent in int64 (exact for up to 2^39 values), so the total
 * does not depend on the order of the additions or on how they were split over ranks. */
#define CL_FSUM_SLOTS 280
typedef struct cl_fsum {
    int64_t a[CL_FSUM_SLOTS];
} cl_fsum;
void cl_dist_fsum_init(cl_fsum *s);
void cl_dist_fsum_add(cl_fsum *s, float x); /* finite x; NaN/inf are ignored */
/* Sums the accumulators of every rank (in place). */
int cl_dist_fsum_reduce(cl_dist *d, cl_fsum *s);
/* The total, rounded to double (a deterministic function of the exact sum). */
double cl_dist_fsum_value(const cl_fsum *s);

#endif
