/* als_dist.c - the item side of implicit ALS from normal equations summed exactly over MPI
 * ranks (see als_dist.h). */
#include "rec/als_dist.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/round.h"
#include "base/threads.h"
#include "rec/rec.h"

#define ITEM_BLOCK 256
#define USER_CHUNK 65536

struct cl_als_dist {
    cl_dist *d;
    int f;
    int64_t n_users, n_items, nnz; /* nnz: over every rank */
    uint8_t *mine;                 /* n_users: 1 when this rank owns the user */
    int64_t *buf;                  /* the largest exchange: ITEM_BLOCK systems, or f * f */
    size_t buflen;
    double *Gd;                    /* f * f: X^T X + reg I of the current X */
};

void cl_als_dist_free(cl_als_dist *a)
{
    if (!a)
        return;
    cl_alloc_free(a->mine);
    cl_alloc_free(a->buf);
    cl_alloc_free(a->Gd);
    cl_alloc_free(a);
}

/* 31 bits of FNV-1a over the labels of a map, to compare id maps across ranks cheaply. */
static int64_t labels_hash(const cl_idmap *m)
{
    uint64_t h = 1469598103934665603ull;
    for (int64_t i = 0; m && i < m->n; i++) {
        for (const unsigned char *c = (const unsigned char *)m->labels[i]; *c; c++)
            h = (h ^ *c) * 1099511628211ull;
        h = (h ^ 0xff) * 1099511628211ull; /* a separator: "ab","c" differs from "a","bc" */
    }
    return (int64_t)(h >> 33);
}

static int check_spaces(cl_als_dist *a, const cl_interactions *m)
{
    int nr = cl_dist_size(a->d);
    int64_t mine[5] = {m->n_users, m->n_items, labels_hash(m->users), labels_hash(m->items),
                       m->nnz};
    int64_t v[5];
    memcpy(v, mine, sizeof v);
    int rc = cl_dist_sum_small(a->d, v, 5);
    if (rc)
        return rc;
    for (int k = 0; k < 4; k++)
        if (v[k] != mine[k] * nr)
            return cl_error(CL_EINVAL, "als (mpi): the ranks' interactions have different %s "
                            "(rank %d: %lld users x %lld items); build every rank's shard with "
                            "base = the same catalogue so users and items have the same indices",
                            k < 2 ? "sizes" : "user or item labels", cl_dist_rank(a->d),
                            (long long)m->n_users, (long long)m->n_items);
    a->n_users = m->n_users;
    a->n_items = m->n_items;
    a->nnz = v[4];
    return CL_OK;
}

/* Owner of each user: the one rank with rows of it (count in the low 32 bits, rank + 1 in the
 * high ones, summed over the ranks: exact). */
static int find_owners(cl_als_dist *a, const cl_interactions *m)
{
    int me = cl_dist_rank(a->d);
    for (int64_t u0 = 0; u0 < a->n_users; u0 += USER_CHUNK) {
        int64_t k = a->n_users - u0 < USER_CHUNK ? a->n_users - u0 : USER_CHUNK;
        for (int64_t q = 0; q < k; q++)
            a->buf[q] = m->indptr[u0 + q + 1] > m->indptr[u0 + q]
                            ? 1 + ((int64_t)(me + 1) << 32) : 0;
        int rc = cl_dist_sum_i64(a->d, a->buf, (size_t)k);
        if (rc)
            return rc;
        for (int64_t q = 0; q < k; q++) {
            int64_t cnt = a->buf[q] & 0xffffffff;
            if (cnt > 1)
                return cl_error(CL_EINVAL, "als (mpi): user '%s' has interactions on %lld ranks "
                                "(give each rank all the rows of its users)",
                                m->users && m->users->labels ? m->users->labels[u0 + q] : "?",
                                (long long)cnt);
            a->mine[u0 + q] = cnt ? (a->buf[q] >> 32) - 1 == me : me == 0;
        }
    }
    return CL_OK;
}

int cl_als_dist_new(cl_als_dist **out, cl_dist *d, const cl_interactions *m, int f)
{
    *out = NULL;
    cl_als_dist *a = cl_alloc_calloc(1, sizeof *a);
    if (!a)
        return CL_ENOMEM;
    a->d = d;
    a->f = f;
    size_t tri = (size_t)f * ((size_t)f + 1) / 2 + (size_t)f;
    a->buflen = ITEM_BLOCK * tri;
    if (a->buflen < (size_t)f * (size_t)f)
        a->buflen = (size_t)f * (size_t)f;
    if (a->buflen < USER_CHUNK * (size_t)f)
        a->buflen = USER_CHUNK * (size_t)f;
    a->buf = cl_alloc(a->buflen * sizeof *a->buf);
    a->mine = cl_alloc(((size_t)m->n_users + 1) * sizeof *a->mine);
    a->Gd = cl_alloc((size_t)f * (size_t)f * sizeof *a->Gd);
    int rc = !a->buf || !a->mine || !a->Gd ? CL_ENOMEM : CL_OK;
    rc = cl_dist_agree(d, rc);
    if (!rc && !(rc = check_spaces(a, m)))
        rc = find_owners(a, m);
    if (rc) {
        cl_als_dist_free(a);
        return rc;
    }
    *out = a;
    return CL_OK;
}

/* 2^s with bound * 2^s < 2^62: sums of terms each rounded to an integer of these units, up to
 * the bound in magnitude, stay inside int64 (the roundings add < 1 unit per term). */
static double unit_scale(double bound)
{
    if (!(bound > 0) || !isfinite(bound))
        return 1.0;
    int e;
    frexp(bound * (1 + 1e-9), &e); /* bound < 2^e */
    int s = 62 - e;
    s = s > 1000 ? 1000 : s < -1000 ? -1000 : s;
    return ldexp(1.0, s);
}

/* X^T X over the owned users, in fixed point (units 1 / sG), summed over the ranks, into
 * a->Gd as doubles with reg on the diagonal. */
static int gram_owned(cl_als_dist *a, const float *X, double sG, double reg)
{
    int f = a->f;
    int64_t *G = a->buf;
    const int64_t nu = a->n_users;
    const uint8_t *mine = a->mine;
#pragma omp parallel for schedule(dynamic, 1) num_threads(cl_threads_get())
    for (int i = 0; i < f; i++) {
        int64_t *Gi = G + (size_t)i * f;
        memset(Gi, 0, (size_t)f * sizeof *Gi);
        for (int64_t u = 0; u < nu; u++) {
            if (!mine[u])
                continue;
            const float *x = X + u * f;
            double xi = (double)x[i] * sG; /* exact: a power of two */
            for (int j = i; j < f; j++)
                Gi[j] += cl_round_i64(xi * x[j]);
        }
    }
    int rc = cl_dist_sum_i64(a->d, G, (size_t)f * (size_t)f);
    if (rc)
        return rc;
    for (int i = 0; i < f; i++)
        for (int j = i; j < f; j++) {
            double g = (double)G[(size_t)i * f + j] / sG;
            a->Gd[(size_t)i * f + j] = a->Gd[(size_t)j * f + i] = g + (i == j ? reg : 0);
        }
    return CL_OK;
}

/* The fixed-point sums of the owned users' terms of items [i0, i0 + k): per item the upper
 * triangle of sum c1 x x^T (units 1 / sA), then sum (1 + c1) x (units 1 / sb). */
static void item_sums(const cl_als_dist *a, const cl_interactions *m, double alpha,
                      const float *X, int64_t i0, int64_t k, double sA, double sb)
{
    int f = a->f;
    size_t tri = (size_t)f * ((size_t)f + 1) / 2, per = tri + (size_t)f;
    int64_t *buf = a->buf;
#pragma omp parallel for schedule(dynamic, 4) num_threads(cl_threads_get())
    for (int64_t q = 0; q < k; q++) {
        int64_t *S = buf + (size_t)q * per, *B = S + tri;
        memset(S, 0, per * sizeof *S);
        for (int64_t e = m->cindptr[i0 + q]; e < m->cindptr[i0 + q + 1]; e++) {
            const float *x = X + (int64_t)m->cindices[e] * f;
            double c1 = alpha * m->cvalues[e];
            size_t t = 0;
            for (int r = 0; r < f; r++) {
                double cr = c1 * x[r] * sA;
                for (int c = r; c < f; c++)
                    S[t++] += cl_round_i64(cr * x[c]);
                B[r] += cl_round_i64((1 + c1) * x[r] * sb);
            }
        }
    }
}

/* One item's system A y = b from the summed integers, solved into y (cg_steps of CG from y,
 * or Cholesky). w: f * f + 5 f doubles. */
static int item_solve(const cl_als_dist *a, const int64_t *S, double sA, double sb, int steps,
                      float *y, double *w)
{
    int f = a->f;
    double *A = w, *b = A + (size_t)f * f, *x = b + f, *r = x + f, *p = r + f, *Ap = p + f;
    size_t t = 0;
    for (int i = 0; i < f; i++)
        for (int j = i; j < f; j++, t++)
            A[(size_t)i * f + j] = A[(size_t)j * f + i] =
                a->Gd[(size_t)i * f + j] + (double)S[t] / sA;
    for (int i = 0; i < f; i++)
        b[i] = (double)S[t + (size_t)i] / sb;
    if (steps == 0) {
        int rc = cl_rec_cholesky_solve(A, b, f);
        if (rc == CL_OK)
            for (int i = 0; i < f; i++)
                y[i] = (float)b[i];
        return rc;
    }
    double rs = 0;
    for (int i = 0; i < f; i++) {
        x[i] = y[i];
        double s = b[i];
        for (int j = 0; j < f; j++)
            s -= A[(size_t)i * f + j] * y[j];
        r[i] = p[i] = s;
        rs += s * s;
    }
    for (int it = 0; it < steps && rs > 1e-20; it++) {
        double pAp = 0;
        for (int i = 0; i < f; i++) {
            double s = 0;
            for (int j = 0; j < f; j++)
                s += A[(size_t)i * f + j] * p[j];
            Ap[i] = s;
            pAp += p[i] * s;
        }
        if (!(pAp > 0))
            break;
        double al = rs / pAp, rsn = 0;
        for (int i = 0; i < f; i++) {
            x[i] += al * p[i];
            r[i] -= al * Ap[i];
            rsn += r[i] * r[i];
        }
        for (int i = 0; i < f; i++)
            p[i] = r[i] + (rsn / rs) * p[i];
        rs = rsn;
    }
    for (int i = 0; i < f; i++)
        y[i] = (float)x[i];
    return CL_OK;
}

static int solve_block(const cl_als_dist *a, int64_t i0, int64_t k, double sA, double sb,
                       int steps, float *Y)
{
    int f = a->f, fail = CL_OK;
    size_t per = (size_t)f * ((size_t)f + 1) / 2 + (size_t)f;
#pragma omp parallel num_threads(cl_threads_get())
    {
        double *w = cl_alloc(((size_t)f * f + 5 * (size_t)f) * sizeof *w);
#pragma omp for schedule(dynamic, 4)
        for (int64_t q = 0; q < k; q++) {
            int e = w ? item_solve(a, a->buf + (size_t)q * per, sA, sb, steps,
                                   Y + (i0 + q) * f, w) : CL_ENOMEM;
            if (e) {
#pragma omp atomic write
                fail = e;
            }
        }
        cl_alloc_free(w);
    }
    if (fail == CL_EINVAL)
        return cl_error(CL_EINVAL, "als (mpi): an item's system is not positive definite "
                        "(raise reg)");
    return fail;
}

int cl_als_dist_items(cl_als_dist *a, const cl_interactions *m, double reg, double alpha,
                      int cg_steps, const float *X, float *Y)
{
    int f = a->f;
    /* the scales: largest |x| of the owned users and largest confidence, over the ranks */
    double mx[2] = {0, 0};
    for (int64_t u = 0; u < a->n_users; u++)
        if (a->mine[u])
            for (int j = 0; j < f; j++) {
                double v = fabs((double)X[u * f + j]);
                mx[0] = v > mx[0] ? v : mx[0];
            }
    for (int64_t e = 0; e < m->nnz; e++)
        mx[1] = m->values[e] > mx[1] ? m->values[e] : mx[1];
    int rc = cl_dist_max_f64(a->d, mx, 2);
    if (rc)
        return rc;
    double xm = mx[0], cm = alpha * mx[1], nnz = (double)a->nnz;
    double sG = unit_scale((double)a->n_users * xm * xm);
    double sA = unit_scale(nnz * cm * xm * xm), sb = unit_scale(nnz * (1 + cm) * xm);
    if ((rc = gram_owned(a, X, sG, reg)))
        return rc;
    size_t per = (size_t)f * ((size_t)f + 1) / 2 + (size_t)f;
    for (int64_t i0 = 0; i0 < a->n_items; i0 += ITEM_BLOCK) {
        int64_t k = a->n_items - i0 < ITEM_BLOCK ? a->n_items - i0 : ITEM_BLOCK;
        item_sums(a, m, alpha, X, i0, k, sA, sb);
        if ((rc = cl_dist_sum_i64(a->d, a->buf, (size_t)k * per)))
            return rc;
        /* a local failure (no memory) is agreed before the next exchange */
        rc = cl_dist_agree(a->d, solve_block(a, i0, k, sA, sb, cg_steps, Y));
        if (rc)
            return rc;
    }
    return CL_OK;
}

int cl_als_dist_users(cl_als_dist *a, float *X)
{
    int f = a->f;
    for (int64_t u0 = 0; u0 < a->n_users; u0 += USER_CHUNK) {
        int64_t k = a->n_users - u0 < USER_CHUNK ? a->n_users - u0 : USER_CHUNK;
        for (int64_t q = 0; q < k; q++)
            for (int j = 0; j < f; j++) {
                uint32_t bits;
                memcpy(&bits, X + (u0 + q) * f + j, sizeof bits);
                a->buf[q * f + j] = a->mine[u0 + q] ? (int64_t)bits : 0;
            }
        int rc = cl_dist_sum_i64(a->d, a->buf, (size_t)k * (size_t)f);
        if (rc)
            return rc;
        for (int64_t q = 0; q < k; q++)
            for (int j = 0; j < f; j++) {
                uint32_t bits = (uint32_t)a->buf[q * f + j];
                memcpy(X + (u0 + q) * f + j, &bits, sizeof bits);
            }
    }
    return CL_OK;
}
