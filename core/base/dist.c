/* dist.c - MPI collectives with failure agreement, and exact float sums (see dist.h). */
#include "base/dist.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

#ifdef CL_HAVE_MPI
#include <mpi.h>
#endif

/* ---- exact float sums (no MPI needed) ---------------------------------------------------- */

#define FSUM_BIAS 172 /* float32 = m * 2^e with |m| < 2^24 and e in [-172, 104] */

void cl_dist_fsum_init(cl_fsum *s)
{
    memset(s, 0, sizeof *s);
}

void cl_dist_fsum_add(cl_fsum *s, float x)
{
    if (!isfinite(x) || x == 0)
        return;
    int E;
    float f = frexpf(x, &E);                   /* x = f * 2^E, 0.5 <= |f| < 1 */
    int64_t m = (int64_t)ldexpf(f, 24);        /* exact: 24 significant bits */
    s->a[E - 24 + FSUM_BIAS] += m;
}

double cl_dist_fsum_value(const cl_fsum *s)
{
    int64_t b[CL_FSUM_SLOTS];
    memcpy(b, s->a, sizeof b);
    /* slot k is worth 2^(k - bias): carry so every slot but the top holds one bit (the
     * binary expansion of the exact sum, a canonical form of it); a
     * negative sum is negated first (then carried again), so the digits summed below are all
     * non-negative and no borrow chain cancels in floating point */
    double sign = 1;
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k + 1 < CL_FSUM_SLOTS; k++) {
            int64_t c = b[k] >> 1; /* floor division by 2 (arithmetic shift) */
            b[k] -= 2 * c;
            b[k + 1] += c;
        }
        if (b[CL_FSUM_SLOTS - 1] >= 0)
            break;
        sign = -1;
        for (int k = 0; k < CL_FSUM_SLOTS; k++)
            b[k] = -b[k];
    }
    double v = 0;
    for (int k = CL_FSUM_SLOTS - 1; k >= 0; k--)
        if (b[k])
            v += ldexp((double)b[k], k - FSUM_BIAS);
    return sign * v;
}

int cl_dist_fsum_reduce(cl_dist *d, cl_fsum *s)
{
    return cl_dist_sum_i64(d, s->a, CL_FSUM_SLOTS);
}

/* ---- without MPI ------------------------------------------------------------------------- */

#ifndef CL_HAVE_MPI

cl_dist *cl_dist_world(void) { return NULL; }
const char *cl_dist_world_error(void) { return "churnlab was built without MPI"; }
int cl_dist_built(void) { return 0; }
void cl_dist_shutdown(int status) { (void)status; }
int cl_dist_rank(const cl_dist *d) { (void)d; return 0; }
int cl_dist_size(const cl_dist *d) { (void)d; return 1; }
void cl_dist_begin(cl_dist *d) { (void)d; }
int cl_dist_agree(cl_dist *d, int rc) { (void)d; return rc; }
int cl_dist_sum_small(cl_dist *d, int64_t *v, int k) { (void)d; (void)v; (void)k; return CL_OK; }
int cl_dist_sum_small_agree(cl_dist *d, int rc, int64_t *v, int k)
{
    (void)d; (void)v; (void)k;
    return rc;
}
int cl_dist_sum_i64_agree(cl_dist *d, int rc, int64_t *v, size_t n)
{
    (void)d; (void)v; (void)n;
    return rc;
}
int cl_dist_sum_i64(cl_dist *d, int64_t *v, size_t n) { (void)d; (void)v; (void)n; return CL_OK; }
int cl_dist_max_f64(cl_dist *d, double *v, size_t n) { (void)d; (void)v; (void)n; return CL_OK; }
int cl_dist_reduce_f64(cl_dist *d, double *v, size_t n, int op)
{
    (void)d; (void)v; (void)n; (void)op;
    return CL_OK;
}
int cl_dist_barrier(cl_dist *d) { (void)d; return CL_OK; }

int cl_dist_gather_i64(cl_dist *d, int64_t mine, int64_t *counts)
{
    (void)d;
    counts[0] = mine;
    return CL_OK;
}

int cl_dist_allgatherv(cl_dist *d, const void *mine, void *all, const int64_t *counts)
{
    (void)d;
    if (counts[0] > 0 && all != mine)
        memcpy(all, mine, (size_t)counts[0]);
    return CL_OK;
}

#else /* CL_HAVE_MPI */

struct cl_dist {
    MPI_Comm comm;
    int rank, size;
    int failed;      /* sticky agreed failure: its code, 0 when none */
    char msg[512];   /* its message */
};

static cl_dist world;
static int world_state; /* 0 untried, 1 up, -1 unavailable, 2 shut down */
static char world_err[160];

static int launched(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK",
                                       "PMI_SIZE", NULL};
    for (int i = 0; vars[i]; i++)
        if (getenv(vars[i]))
            return 1;
    return 0;
}

static void at_exit(void)
{
    cl_dist_shutdown(0);
}

cl_dist *cl_dist_world(void)
{
    if (world_state == 1)
        return &world;
    if (world_state != 0)
        return NULL;
    world_state = -1;
    if (!launched()) {
        strcpy(world_err, "not started by an MPI launcher (mpirun -np N churnlab script.lua)");
        return NULL;
    }
    int inited = 0, provided = 0;
    MPI_Initialized(&inited);
    if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        strcpy(world_err, "MPI_Init failed");
        return NULL;
    }
    /* errors come back as codes (turned into CL_EIO), never as an abort inside a call */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    world.comm = MPI_COMM_WORLD;
    MPI_Comm_rank(world.comm, &world.rank);
    MPI_Comm_size(world.comm, &world.size);
    world_state = 1;
    atexit(at_exit); /* os.exit() and other exits still finalise */
    return &world;
}

const char *cl_dist_world_error(void) { return world_err; }
int cl_dist_built(void) { return 1; }

void cl_dist_shutdown(int status)
{
    if (world_state != 1)
        return;
    world_state = 2;
    if (status != 0 && world.size > 1)
        MPI_Abort(world.comm, status); /* the others may be waiting for this rank */
    else
        MPI_Finalize();
}

int cl_dist_rank(const cl_dist *d) { return d ? d->rank : 0; }
int cl_dist_size(const cl_dist *d) { return d ? d->size : 1; }

void cl_dist_begin(cl_dist *d)
{
    if (d)
        d->failed = 0;
}

static int mpi_fail(int err, const char *what)
{
    char s[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(err, s, &len) != MPI_SUCCESS)
        strcpy(s, "unknown error");
    return cl_error(CL_EIO, "MPI %s failed: %s", what, s);
}

/* After a sum in which some rank reported a failure: agree on who speaks (the lowest failing
 * rank), hear its code and message, and make the failure sticky. */
static int heard(cl_dist *d, int rc)
{
    int me = rc != CL_OK ? d->rank : d->size, first = d->size;
    MPI_Allreduce(&me, &first, 1, MPI_INT, MPI_MIN, d->comm);
    struct {
        int code;
        char msg[500];
    } m;
    memset(&m, 0, sizeof m);
    if (d->rank == first) {
        m.code = rc;
        snprintf(m.msg, sizeof m.msg, "%s", cl_error_last());
    }
    MPI_Bcast(&m, (int)sizeof m, MPI_BYTE, first, d->comm);
    d->failed = m.code ? m.code : CL_EIO;
    snprintf(d->msg, sizeof d->msg, "rank %d: %s", first, m.msg);
    if (rc)
        return rc; /* our own message stays as it is */
    return cl_error(d->failed, "%s", d->msg);
}

/* The status exchange every collective starts with: slot 0 counts failing ranks; the rest
 * carry the caller's payload. On a failure the lowest failing rank broadcasts its code and
 * message. */
static int exchange(cl_dist *d, int rc, int64_t *v, int k)
{
    if (d->failed)
        return rc ? rc : cl_error(d->failed, "%s", d->msg);
    int64_t buf[1 + CL_DIST_SMALL + 1] = {0};
    buf[0] = rc != CL_OK;
    for (int i = 0; i < k; i++)
        buf[1 + i] = v[i];
    int e = MPI_Allreduce(MPI_IN_PLACE, buf, 1 + CL_DIST_SMALL + 1, MPI_INT64_T, MPI_SUM, d->comm);
    if (e != MPI_SUCCESS) {
        d->failed = CL_EIO;
        int r = mpi_fail(e, "allreduce");
        snprintf(d->msg, sizeof d->msg, "%s", cl_error_last());
        return r;
    }
    if (buf[0] == 0) {
        for (int i = 0; i < k; i++)
            v[i] = buf[1 + i];
        return CL_OK;
    }
    return heard(d, rc);
}

int cl_dist_sum_small_agree(cl_dist *d, int rc, int64_t *v, int k)
{
    CL_ASSERT(k >= 0 && k <= CL_DIST_SMALL);
    if (!d || d->size == 1)
        return rc;
    return exchange(d, rc, v, k);
}

static int data_fail(cl_dist *d, int e, const char *what);

int cl_dist_sum_i64_agree(cl_dist *d, int rc, int64_t *v, size_t n)
{
    if (!d || d->size == 1)
        return rc;
    if (d->failed)
        return rc ? rc : cl_error(d->failed, "%s", d->msg);
    CL_ASSERT(n >= 1 && n <= INT32_MAX);
    if (rc)
        memset(v, 0, n * sizeof *v); /* a failing rank's payload is not read */
    v[0] = rc != CL_OK;
    int e = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_INT64_T, MPI_SUM, d->comm);
    if (e != MPI_SUCCESS)
        return data_fail(d, e, "allreduce");
    return v[0] == 0 ? CL_OK : heard(d, rc);
}

int cl_dist_agree(cl_dist *d, int rc)
{
    if (!d || d->size == 1)
        return rc;
    if (d->failed)
        return rc ? rc : cl_error(d->failed, "%s", d->msg);
    return exchange(d, rc, NULL, 0);
}

int cl_dist_sum_small(cl_dist *d, int64_t *v, int k)
{
    CL_ASSERT(k >= 0 && k <= CL_DIST_SMALL);
    if (!d || d->size == 1)
        return CL_OK;
    return exchange(d, CL_OK, v, k);
}

static int data_fail(cl_dist *d, int e, const char *what)
{
    int r = mpi_fail(e, what);
    d->failed = r;
    snprintf(d->msg, sizeof d->msg, "%s", cl_error_last());
    return r;
}

int cl_dist_sum_i64(cl_dist *d, int64_t *v, size_t n)
{
    if (!d || d->size == 1 || n == 0)
        return CL_OK;
    int rc = exchange(d, CL_OK, NULL, 0);
    if (rc)
        return rc;
    /* MPI counts are int: large buffers go in pieces (the same pieces on every rank) */
    for (size_t o = 0; o < n; o += (size_t)1 << 28) {
        size_t c = n - o < ((size_t)1 << 28) ? n - o : (size_t)1 << 28;
        int e = MPI_Allreduce(MPI_IN_PLACE, v + o, (int)c, MPI_INT64_T, MPI_SUM, d->comm);
        if (e != MPI_SUCCESS)
            return data_fail(d, e, "allreduce");
    }
    return CL_OK;
}

int cl_dist_reduce_f64(cl_dist *d, double *v, size_t n, int op)
{
    if (!d || d->size == 1 || n == 0)
        return CL_OK;
    int rc = exchange(d, CL_OK, NULL, 0);
    if (rc)
        return rc;
    if (n > INT32_MAX)
        return cl_error(CL_ERANGE, "MPI allreduce: %zu values is too many for one call", n);
    MPI_Op o = op == CL_DIST_MAX ? MPI_MAX : op == CL_DIST_MIN ? MPI_MIN : MPI_SUM;
    int e = MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, o, d->comm);
    return e == MPI_SUCCESS ? CL_OK : data_fail(d, e, "allreduce");
}

int cl_dist_max_f64(cl_dist *d, double *v, size_t n)
{
    return cl_dist_reduce_f64(d, v, n, CL_DIST_MAX);
}

int cl_dist_gather_i64(cl_dist *d, int64_t mine, int64_t *counts)
{
    if (!d || d->size == 1) {
        counts[0] = mine;
        return CL_OK;
    }
    int rc = exchange(d, CL_OK, NULL, 0);
    if (rc)
        return rc;
    int e = MPI_Allgather(&mine, 1, MPI_INT64_T, counts, 1, MPI_INT64_T, d->comm);
    return e == MPI_SUCCESS ? CL_OK : data_fail(d, e, "allgather");
}

int cl_dist_allgatherv(cl_dist *d, const void *mine, void *all, const int64_t *counts)
{
    if (!d || d->size == 1) {
        if (counts[0] > 0 && all != mine)
            memcpy(all, mine, (size_t)counts[0]);
        return CL_OK;
    }
    int rc = exchange(d, CL_OK, NULL, 0);
    if (rc)
        return rc;
    int *cnt = cl_alloc(2 * (size_t)d->size * sizeof *cnt);
    if (!cnt)
        return cl_error(CL_ENOMEM, "MPI allgather: out of memory");
    int64_t off = 0;
    for (int r = 0; r < d->size; r++) {
        if (counts[r] < 0 || counts[r] > INT32_MAX || off > INT32_MAX) {
            cl_alloc_free(cnt);
            return cl_error(CL_ERANGE, "MPI allgather: rank %d sends %lld bytes (more than 2 GB "
                            "in one gather)", r, (long long)counts[r]);
        }
        cnt[r] = (int)counts[r];
        cnt[d->size + r] = (int)off;
        off += counts[r];
    }
    int e = MPI_Allgatherv(mine, cnt[d->rank], MPI_BYTE, all, cnt, cnt + d->size, MPI_BYTE,
                           d->comm);
    cl_alloc_free(cnt);
    return e == MPI_SUCCESS ? CL_OK : data_fail(d, e, "allgather");
}

int cl_dist_barrier(cl_dist *d)
{
    if (!d || d->size == 1)
        return CL_OK;
    int rc = exchange(d, CL_OK, NULL, 0);
    if (rc)
        return rc;
    int e = MPI_Barrier(d->comm);
    return e == MPI_SUCCESS ? CL_OK : data_fail(d, e, "barrier");
}

#endif /* CL_HAVE_MPI */
