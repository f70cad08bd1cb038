/* kmeans.c - k-means (Lloyd iterations, k-means++ seeding) and the silhouette score. */
#include "analysis/kmeans.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threads.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define BLOCK 4096 /* rows per reduction block: fixed, so sums do not depend on threads */

const cl_param_def cl_kmeans_param_defs[] = {
    {"k", CL_PARAM_INT, offsetof(cl_kmeans_params, k), 8, 1, 10000, NULL, "number of clusters"},
    {"restarts", CL_PARAM_INT, offsetof(cl_kmeans_params, restarts), 4, 1, 1000, NULL,
     "independent k-means++ starts; the lowest inertia wins"},
    {"max_iter", CL_PARAM_INT, offsetof(cl_kmeans_params, max_iter), 300, 1, 100000, NULL,
     "Lloyd iterations per start"},
    {"tol", CL_PARAM_NUM, offsetof(cl_kmeans_params, tol), 1e-6, 0, 1, NULL,
     "convergence: largest centre move relative to the data's mean squared norm"},
    {"seed", CL_PARAM_SEED, offsetof(cl_kmeans_params, seed), 42, 0, 0, NULL, "random seed"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

cl_kmeans_params cl_kmeans_params_default(void)
{
    cl_kmeans_params p;
    cl_param_defaults(cl_kmeans_param_defs, &p);
    return p;
}

void cl_kmeans_free(cl_kmeans *m)
{
    if (!m)
        return;
    cl_alloc_free(m->centers);
    cl_alloc_free(m->sizes);
    cl_alloc_free(m);
}

static double dist2(const float *x, const double *c, int d)
{
    double s = 0;
    for (int j = 0; j < d; j++) {
        double t = x[j] - c[j];
        s += t * t;
    }
    return s;
}

static int nearest(const float *x, const double *C, int k, int d, double *best)
{
    int arg = 0;
    double b = DBL_MAX;
    for (int c = 0; c < k; c++) {
        double t = dist2(x, C + (size_t)c * d, d);
        if (t < b) {
            b = t;
            arg = c;
        }
    }
    *best = b;
    return arg;
}

/* k-means++: first centre uniform, then each next one with probability proportional to the
 * squared distance to the nearest chosen centre. D2 (n) is scratch. */
static void seed_plusplus(cl_rng *r, const float *X, int64_t n, int d, int k, double *C, double *D2)
{
    int64_t first = (int64_t)cl_rng_below(r, (uint64_t)n);
    for (int j = 0; j < d; j++)
        C[j] = X[first * d + j];
    for (int64_t i = 0; i < n; i++)
        D2[i] = dist2(X + i * d, C, d);
    for (int c = 1; c < k; c++) {
        double total = 0;
        for (int64_t i = 0; i < n; i++)
            total += D2[i];
        int64_t pick = n - 1;
        if (total > 0) {
            double u = cl_rng_uniform(r) * total, acc = 0;
            for (int64_t i = 0; i < n; i++) {
                acc += D2[i];
                if (acc > u) {
                    pick = i;
                    break;
                }
            }
        } else {
            pick = (int64_t)cl_rng_below(r, (uint64_t)n); /* all points coincide */
        }
        double *cc = C + (size_t)c * d;
        for (int j = 0; j < d; j++)
            cc[j] = X[pick * d + j];
        for (int64_t i = 0; i < n; i++) {
            double t = dist2(X + i * d, cc, d);
            if (t < D2[i])
                D2[i] = t;
        }
    }
}

/* One Lloyd run from seeded centres C; returns inertia. lab (n), part (nblocks*k*(d+1)) and
 * newC (k*d) are scratch. */
static double lloyd(const float *X, int64_t n, int d, int k, double *C, int32_t *lab, double *part,
                    double *newC, double *cnt, int max_iter, double tol_abs, int *iters, int nth,
                    const cl_progress *prog, int *rc)
{
    int64_t nblocks = (n + BLOCK - 1) / BLOCK;
    size_t stride = (size_t)k * (d + 1);
    double inertia = 0;
    int it;
    for (it = 1; it <= max_iter; it++) {
        /* assignment + per-block partial sums */
#pragma omp parallel for schedule(static) num_threads(nth)
        for (int64_t b = 0; b < nblocks; b++) {
            double *pb = part + (size_t)b * stride;
            memset(pb, 0, stride * sizeof *pb);
            int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
            for (int64_t i = lo; i < hi; i++) {
                double dd;
                int c = nearest(X + i * d, C, k, d, &dd);
                lab[i] = c;
                double *s = pb + (size_t)c * (d + 1);
                s[d] += 1;
                for (int j = 0; j < d; j++)
                    s[j] += X[i * d + j];
            }
        }
        /* ordered reduction */
        memset(newC, 0, (size_t)k * d * sizeof *newC);
        memset(cnt, 0, (size_t)k * sizeof *cnt);
        for (int64_t b = 0; b < nblocks; b++) {
            const double *pb = part + (size_t)b * stride;
            for (int c = 0; c < k; c++) {
                cnt[c] += pb[(size_t)c * (d + 1) + d];
                for (int j = 0; j < d; j++)
                    newC[(size_t)c * d + j] += pb[(size_t)c * (d + 1) + j];
            }
        }
        double moved = 0;
        for (int c = 0; c < k; c++) {
            if (cnt[c] == 0)
                continue; /* an empty cluster keeps its centre */
            double m2 = 0;
            for (int j = 0; j < d; j++) {
                double v = newC[(size_t)c * d + j] / cnt[c];
                double t = v - C[(size_t)c * d + j];
                m2 += t * t;
                C[(size_t)c * d + j] = v;
            }
            if (m2 > moved)
                moved = m2;
        }
        if ((*rc = cl_progress_step(prog, "kmeans", it, max_iter, NULL)) != CL_OK)
            break;
        if (moved <= tol_abs)
            break;
    }
    *iters = it > max_iter ? max_iter : it;
    /* final assignment and inertia (block partials, ordered sum) */
#pragma omp parallel for schedule(static) num_threads(nth)
    for (int64_t b = 0; b < nblocks; b++) {
        double s = 0;
        int64_t lo = b * BLOCK, hi = lo + BLOCK < n ? lo + BLOCK : n;
        for (int64_t i = lo; i < hi; i++) {
            double dd;
            lab[i] = nearest(X + i * d, C, k, d, &dd);
            s += dd;
        }
        part[b] = s;
    }
    for (int64_t b = 0; b < nblocks; b++)
        inertia += part[b];
    return inertia;
}

int cl_kmeans_new(cl_kmeans **out, const cl_kmeans_params *p)
{
    *out = NULL;
    int rc = cl_param_validate(cl_kmeans_param_defs, p, "kmeans");
    if (rc)
        return rc;
    cl_kmeans *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->params = *p;
    m->k = p->k;
    *out = m;
    return CL_OK;
}

/* The fit builds its centres and sizes aside and moves them into m only when it succeeds, so
 * a failed fit leaves the model as it was and a refit owes nothing to the fit before. */
int cl_kmeans_fit(cl_kmeans *mo, const float *X, int64_t n, int d, int32_t *labels,
                  const cl_progress *prog)
{
    const cl_kmeans_params *p = &mo->params;
    int rc = CL_OK;
    if (d < 1)
        return cl_error(CL_EINVAL, "kmeans: X has no columns");
    if (n < p->k)
        return cl_error(CL_EINVAL, "kmeans: %lld rows cannot make %d clusters", (long long)n, p->k);
    double msq = 0;
    for (int64_t i = 0; i < n * d; i++) {
        if (!isfinite(X[i]))
            return cl_error(CL_EINVAL, "kmeans: X row %lld, column %d is %s (impute first)",
                            (long long)(i / d) + 1, (int)(i % d) + 1, isnan(X[i]) ? "NaN" : "infinite");
        msq += (double)X[i] * X[i];
    }
    msq /= (double)n;
    int k = p->k, nth = cl_threads_get();
    int64_t nblocks = (n + BLOCK - 1) / BLOCK;
    size_t stride = (size_t)k * (d + 1);
    size_t part_n = (size_t)nblocks * stride > (size_t)nblocks ? (size_t)nblocks * stride : (size_t)nblocks;
    double *C = cl_alloc((size_t)k * d * sizeof *C), *best = cl_alloc((size_t)k * d * sizeof *best);
    double *newC = cl_alloc((size_t)k * d * sizeof *newC), *cnt = cl_alloc((size_t)k * sizeof *cnt);
    double *part = cl_alloc(part_n * sizeof *part), *D2 = cl_alloc((size_t)n * sizeof *D2);
    int32_t *lab = cl_alloc((size_t)n * sizeof *lab);
    int64_t *sizes = cl_alloc_calloc((size_t)k, sizeof *sizes);
    if (!C || !best || !newC || !cnt || !part || !D2 || !lab || !sizes) {
        rc = CL_ENOMEM;
        goto done;
    }
    double best_inertia = INFINITY;
    int best_iters = 0;
    for (int r = 0; r < p->restarts && rc == CL_OK; r++) {
        cl_rng rng;
        cl_rng_split(&rng, p->seed, (uint64_t)r);
        seed_plusplus(&rng, X, n, d, k, C, D2);
        int iters;
        double inertia = lloyd(X, n, d, k, C, lab, part, newC, cnt, p->max_iter, p->tol * msq,
                               &iters, nth, prog, &rc);
        if (rc == CL_OK && inertia < best_inertia) {
            best_inertia = inertia;
            best_iters = iters;
            memcpy(best, C, (size_t)k * d * sizeof *C);
            if (labels)
                memcpy(labels, lab, (size_t)n * sizeof *lab);
        }
    }
    if (rc == CL_OK) {
        /* sizes from the best centres */
        for (int64_t i = 0; i < n; i++) {
            double dd;
            sizes[nearest(X + i * d, best, k, d, &dd)]++;
        }
        /* the old centres and sizes go out through the scratch pointers freed below */
        double *oc = mo->centers;
        int64_t *os = mo->sizes;
        mo->k = k;
        mo->d = d;
        mo->centers = best;
        mo->sizes = sizes;
        mo->inertia = best_inertia;
        mo->iters = best_iters;
        best = oc;
        sizes = os;
    }
done:
    cl_alloc_free(C);
    cl_alloc_free(best);
    cl_alloc_free(newC);
    cl_alloc_free(cnt);
    cl_alloc_free(part);
    cl_alloc_free(D2);
    cl_alloc_free(lab);
    cl_alloc_free(sizes);
    return rc;
}

int cl_kmeans_predict(const cl_kmeans *m, const float *X, int64_t n, int d, int32_t *labels)
{
    if (!m->d)
        return cl_error(CL_EINVAL, "kmeans: predict needs a fitted model (fit it first)");
    if (d != m->d)
        return cl_error(CL_EINVAL, "kmeans: model has %d columns, X has %d", m->d, d);
    for (int64_t i = 0; i < n * d; i++)
        if (!isfinite(X[i]))
            return cl_error(CL_EINVAL, "kmeans: X row %lld, column %d is not finite",
                            (long long)(i / d) + 1, (int)(i % d) + 1);
#pragma omp parallel for schedule(static) num_threads(cl_threads_get())
    for (int64_t i = 0; i < n; i++) {
        double dd;
        labels[i] = nearest(X + i * d, m->centers, m->k, d, &dd);
    }
    return CL_OK;
}

int cl_kmeans_silhouette(const float *X, int64_t n, int d, const int32_t *labels, int k, int64_t sample,
                  uint64_t seed, double *out)
{
    if (k < 2)
        return cl_error(CL_EINVAL, "silhouette: needs at least 2 clusters, got %d", k);
    for (int64_t i = 0; i < n; i++)
        if (labels[i] < 0 || labels[i] >= k)
            return cl_error(CL_EINVAL, "silhouette: row %lld has label %d outside 0..%d",
                            (long long)i + 1, labels[i], k - 1);
    int64_t m = sample > 0 && sample < n ? sample : n;
    uint32_t *rows = cl_alloc((size_t)n * sizeof *rows);
    double *score = cl_alloc((size_t)m * sizeof *score);
    int64_t *size = cl_alloc_calloc((size_t)k, sizeof *size);
    int nth = cl_threads_get();
    double *sums = cl_alloc((size_t)nth * k * sizeof *sums);
    if (!rows || !score || !size || !sums) {
        cl_alloc_free(rows);
        cl_alloc_free(score);
        cl_alloc_free(size);
        cl_alloc_free(sums);
        return CL_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++) {
        rows[i] = (uint32_t)i;
        size[labels[i]]++;
    }
    if (m < n) {
        cl_rng r;
        cl_rng_seed(&r, seed);
        cl_rng_shuffle(&r, rows, (uint64_t)n);
    }
#pragma omp parallel for schedule(dynamic, 16) num_threads(nth)
    for (int64_t s = 0; s < m; s++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        double *acc = sums + (size_t)tid * k;
        memset(acc, 0, (size_t)k * sizeof *acc);
        int64_t i = rows[s];
        for (int64_t j = 0; j < n; j++) {
            double t = 0;
            for (int c = 0; c < d; c++) {
                double u = (double)X[i * d + c] - X[j * d + c];
                t += u * u;
            }
            acc[labels[j]] += sqrt(t);
        }
        int own = labels[i];
        if (size[own] <= 1) {
            score[s] = 0; /* sklearn's convention for singleton clusters */
            continue;
        }
        double a = acc[own] / (double)(size[own] - 1), b = INFINITY;
        for (int c = 0; c < k; c++)
            if (c != own && size[c] > 0 && acc[c] / (double)size[c] < b)
                b = acc[c] / (double)size[c];
        score[s] = isfinite(b) ? (b - a) / (a > b ? a : b) : 0;
    }
    double total = 0;
    for (int64_t s = 0; s < m; s++)
        total += score[s];
    *out = total / (double)m;
    cl_alloc_free(rows);
    cl_alloc_free(score);
    cl_alloc_free(size);
    cl_alloc_free(sums);
    return CL_OK;
}

/* ---- model files ---------------------------------------------------------------------- */

int cl_kmeans_write(const cl_kmeans *m, cl_mw *w)
{
    if (!m->d) /* the reader refuses d = 0: such a file could never be loaded */
        return cl_error(CL_EINVAL, "kmeans: cannot write a model that is not fitted");
    cl_modelio_w_int(w, "k", m->k);
    cl_modelio_w_int(w, "d", m->d);
    cl_modelio_w_int(w, "seed", (int64_t)m->params.seed);
    cl_modelio_w_int(w, "restarts", m->params.restarts);
    cl_modelio_w_int(w, "max_iter", m->params.max_iter);
    cl_modelio_w_num(w, "tol", m->params.tol);
    cl_modelio_w_num(w, "inertia", m->inertia);
    cl_modelio_w_int(w, "iters", m->iters);
    cl_modelio_w_f64(w, "centers", m->centers, (size_t)m->k * (size_t)m->d);
    return cl_modelio_w_i64(w, "sizes", m->sizes, (size_t)m->k);
}

int cl_kmeans_read(cl_kmeans **out, const cl_mr *r)
{
    int64_t k, d, seed, restarts, max_iter, iters;
    size_t nc, ns;
    int rc;
    *out = NULL;
    if ((rc = cl_modelio_r_expect_kind(r, "kmeans")) || (rc = cl_modelio_r_int(r, "k", 1, 10000, &k)) ||
        (rc = cl_modelio_r_int(r, "d", 1, 1 << 24, &d)) ||
        (rc = cl_modelio_r_int(r, "seed", 0, INT64_MAX, &seed)) ||
        (rc = cl_modelio_r_int(r, "restarts", 1, 1000, &restarts)) ||
        (rc = cl_modelio_r_int(r, "max_iter", 1, 100000, &max_iter)) ||
        (rc = cl_modelio_r_int(r, "iters", 0, max_iter, &iters)) ||
        (rc = cl_modelio_r_count(r, "centers", CL_CHUNK_F64, &nc)) ||
        (rc = cl_modelio_r_count(r, "sizes", CL_CHUNK_I64, &ns)))
        return rc;
    /* k x d comes from two integers; the chunk says how many values the file really holds.
     * Checked first, so a corrupted k or d is "corrupt", not a 1 TB allocation. */
    if (nc != (size_t)k * (size_t)d || ns != (size_t)k)
        return cl_error(CL_EFORMAT, "kmeans file: k = %lld and d = %lld need %lld centre values "
                        "and %lld sizes, the file holds %zu and %zu", (long long)k, (long long)d,
                        (long long)(k * d), (long long)k, nc, ns);
    cl_kmeans *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->k = (int)k;
    m->d = (int)d;
    m->params = cl_kmeans_params_default();
    m->params.k = (int)k;
    m->params.seed = (uint64_t)seed;
    m->params.restarts = (int)restarts;
    m->params.max_iter = (int)max_iter;
    m->iters = (int)iters;
    m->centers = cl_alloc(nc * sizeof *m->centers);
    m->sizes = cl_alloc(ns * sizeof *m->sizes);
    if (!m->centers || !m->sizes)
        rc = CL_ENOMEM;
    if (!rc)
        rc = cl_modelio_r_num(r, "tol", &m->params.tol);
    if (!rc)
        rc = cl_modelio_r_num(r, "inertia", &m->inertia);
    if (!rc)
        rc = cl_modelio_r_f64(r, "centers", m->centers, nc);
    if (!rc)
        rc = cl_modelio_r_i64(r, "sizes", m->sizes, ns);
    if (!rc && cl_param_validate(cl_kmeans_param_defs, &m->params, "kmeans"))
        rc = cl_error_wrap(CL_EFORMAT, "kmeans file");
    if (!rc && !(isfinite(m->inertia) && m->inertia >= 0))
        rc = cl_error(CL_EFORMAT, "kmeans file: inertia %g, expected a finite number >= 0",
                      m->inertia);
    for (size_t i = 0; !rc && i < nc; i++)
        if (!(fabs(m->centers[i]) <= FLT_MAX)) /* squared distances stay finite too */
            rc = cl_error(CL_EFORMAT, "kmeans file: centre %zu, column %zu is %g, expected a "
                          "finite number of float32 range", i / (size_t)d + 1,
                          i % (size_t)d + 1, m->centers[i]);
    for (size_t c = 0; !rc && c < ns; c++)
        if (m->sizes[c] < 0)
            rc = cl_error(CL_EFORMAT, "kmeans file: cluster %zu has %lld rows", c + 1,
                          (long long)m->sizes[c]);
    if (rc) {
        cl_kmeans_free(m);
        return rc;
    }
    *out = m;
    return CL_OK;
}
