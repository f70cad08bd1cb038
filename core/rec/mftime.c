/* mftime.c - the time-aware biases of mf (see mftime.h). */
#include "rec/mftime.h"

#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cl_mftime_free(cl_mftime *T)
{
    if (!T)
        return;
    cl_alloc_free(T->bin_bias), cl_alloc_free(T->alpha), cl_alloc_free(T->mean_day);
    cl_alloc_free(T->dptr), cl_alloc_free(T->day), cl_alloc_free(T->day_bias);
    cl_alloc_free(T->r_bin), cl_alloc_free(T->r_slot), cl_alloc_free(T->r_dev);
    cl_alloc_free(T);
}

static int bin_of(const cl_mftime *T, double t)
{
    if (!(T->t1 > T->t0))
        return 0;
    double b = floor((t - T->t0) / (T->t1 - T->t0) * T->nbins);
    return b < 0 ? 0 : b >= T->nbins ? T->nbins - 1 : (int)b;
}

static float dev_of(double day, double mean_day)
{
    double d = day - mean_day;
    return (float)(d < 0 ? -pow(-d, CL_MFTIME_BETA) : pow(d, CL_MFTIME_BETA));
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Slot of day d among user u's days, -1 when the user did not rate that day. */
static int64_t find_slot(const cl_mftime *T, int64_t u, int64_t d)
{
    int64_t lo = T->dptr[u], hi = T->dptr[u + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (T->day[mid] < d)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < T->dptr[u + 1] && T->day[lo] == d ? lo : -1;
}

static int64_t day_of(const cl_mftime *T, double t) { return (int64_t)floor(t / T->unit); }

/* Each user's distinct days (sorted) into T->day / T->dptr, and their mean days. */
static int build_days(cl_mftime *T, const cl_interactions *m)
{
    int64_t nu = m->n_users;
    int64_t *tmp = cl_alloc((size_t)(m->nnz ? m->nnz : 1) * sizeof *tmp);
    T->dptr = cl_alloc_calloc((size_t)nu + 1, sizeof *T->dptr);
    T->mean_day = cl_alloc_calloc((size_t)(nu ? nu : 1), sizeof *T->mean_day);
    if (!tmp || !T->dptr || !T->mean_day) {
        cl_alloc_free(tmp);
        return CL_ENOMEM;
    }
    int64_t nd = 0;
    for (int64_t u = 0; u < nu; u++) { /* distinct days of u, packed at tmp[nd ..] */
        int64_t a = m->indptr[u], n = m->indptr[u + 1] - a;
        double sum = 0;
        for (int64_t k = 0; k < n; k++) {
            tmp[nd + k] = day_of(T, m->times[a + k]);
            sum += m->times[a + k] / T->unit;
        }
        T->mean_day[u] = n ? sum / (double)n : 0;
        qsort(tmp + nd, (size_t)n, sizeof *tmp, cmp_i64);
        int64_t w = 0;
        for (int64_t k = 0; k < n; k++)
            if (w == 0 || tmp[nd + k] != tmp[nd + w - 1])
                tmp[nd + w++] = tmp[nd + k];
        nd += w;
        T->dptr[u + 1] = nd;
    }
    T->n_days = nd;
    T->day = cl_alloc_realloc(tmp, (size_t)(nd ? nd : 1) * sizeof *tmp);
    if (!T->day) {
        cl_alloc_free(tmp);
        return CL_ENOMEM;
    }
    return CL_OK;
}

/* The per-rating bin, slot and drift of every training rating. */
static int build_ratings(cl_mftime *T, const cl_interactions *m)
{
    size_t n = (size_t)(m->nnz ? m->nnz : 1);
    T->r_bin = cl_alloc(n * sizeof *T->r_bin);
    T->r_slot = cl_alloc(n * sizeof *T->r_slot);
    T->r_dev = cl_alloc(n * sizeof *T->r_dev);
    if (!T->r_bin || !T->r_slot || !T->r_dev)
        return CL_ENOMEM;
    if (T->n_days > INT32_MAX)
        return cl_error(CL_ERANGE, "mf: more than 2^31 (user, day) pairs");
    for (int64_t u = 0; u < m->n_users; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            double t = m->times[k];
            T->r_bin[k] = bin_of(T, t);
            T->r_slot[k] = (int32_t)find_slot(T, u, day_of(T, t));
            T->r_dev[k] = dev_of(t / T->unit, T->mean_day[u]);
        }
    return CL_OK;
}

/* The structure of m with the given bin edges; values 0. */
static int build(cl_mftime **out, const cl_interactions *m, int nbins, double t0, double t1,
                 double unit)
{
    cl_mftime *T = cl_alloc_calloc(1, sizeof *T);
    if (!T)
        return CL_ENOMEM;
    T->nbins = nbins, T->t0 = t0, T->t1 = t1, T->unit = unit;
    T->n_users = m->n_users, T->n_items = m->n_items;
    int rc = build_days(T, m);
    if (rc == CL_OK)
        rc = build_ratings(T, m);
    if (rc == CL_OK) {
        T->bin_bias = cl_alloc_calloc((size_t)(m->n_items ? m->n_items : 1) * (size_t)nbins,
                                      sizeof *T->bin_bias);
        T->alpha = cl_alloc_calloc((size_t)(m->n_users ? m->n_users : 1), sizeof *T->alpha);
        T->day_bias = cl_alloc_calloc((size_t)(T->n_days ? T->n_days : 1), sizeof *T->day_bias);
        if (!T->bin_bias || !T->alpha || !T->day_bias)
            rc = CL_ENOMEM;
    }
    if (rc) {
        cl_mftime_free(T);
        return rc;
    }
    *out = T;
    return CL_OK;
}

int cl_mftime_new(cl_mftime **out, const cl_interactions *m, int nbins, double unit,
                  const char *who)
{
    *out = NULL;
    if (!m->times)
        return cl_error(CL_EINVAL, "%s: time = true needs interaction times (build the "
                        "interactions with times = ...)", who);
    if (!(unit > 0) || nbins < 1)
        return cl_error(CL_EINVAL, "%s: time_unit must be > 0 and time_bins >= 1", who);
    double t0 = INFINITY, t1 = -INFINITY;
    for (int64_t k = 0; k < m->nnz; k++) {
        if (!isfinite(m->times[k]))
            return cl_error(CL_EINVAL, "%s: interaction %lld has no finite time", who,
                            (long long)k + 1);
        t0 = m->times[k] < t0 ? m->times[k] : t0;
        t1 = m->times[k] > t1 ? m->times[k] : t1;
    }
    return build(out, m, nbins, t0, t1, unit);
}

void cl_mftime_step(cl_mftime *T, int64_t u, int32_t i, int64_t k, float err,
                    const cl_mftime_rates *q)
{
    /* gradient of (err^2 + reg theta^2) / 2 for each bias theta: d pred / d theta is 1 for
     * the bin and day biases and dev_u(t) for alpha_u */
    float *bb = T->bin_bias + (int64_t)i * T->nbins + T->r_bin[k];
    float *db = T->day_bias + T->r_slot[k];
    float *al = T->alpha + u;
    *bb += q->lr * (err - q->reg_bin * *bb);
    *db += q->lr * (err - q->reg * *db);
    *al += q->lr_drift * (err * T->r_dev[k] - q->reg_drift * *al);
}

double cl_mftime_bias_at(const cl_mftime *T, int64_t u, int64_t i, double t)
{
    double v = 0;
    int known_t = isfinite(t);
    if (i >= 0 && i < T->n_items)
        v += T->bin_bias[i * T->nbins + (known_t ? bin_of(T, t) : T->nbins - 1)];
    if (u >= 0 && u < T->n_users && known_t && T->dptr[u + 1] > T->dptr[u]) {
        v += (double)T->alpha[u] * dev_of(t / T->unit, T->mean_day[u]);
        int64_t s = find_slot(T, u, day_of(T, t));
        if (s >= 0)
            v += T->day_bias[s];
    }
    return v;
}

int cl_mftime_grow(cl_mftime **T, const cl_interactions *grown)
{
    cl_mftime *o = *T, *n;
    /* the old bin edges: a grown matrix's new entries carry the latest time anyway */
    int rc = build(&n, grown, o->nbins, o->t0, o->t1, o->unit);
    if (rc)
        return rc;
    for (int64_t i = 0; i < o->n_items; i++)
        memcpy(n->bin_bias + i * n->nbins, o->bin_bias + i * o->nbins,
               (size_t)o->nbins * sizeof *n->bin_bias);
    for (int64_t u = 0; u < o->n_users; u++) {
        n->alpha[u] = o->alpha[u];
        for (int64_t s = n->dptr[u]; s < n->dptr[u + 1]; s++) {
            int64_t os = find_slot(o, u, n->day[s]);
            n->day_bias[s] = os >= 0 ? o->day_bias[os] : 0;
        }
    }
    cl_mftime_free(o);
    *T = n;
    return CL_OK;
}

int cl_mftime_write(const cl_mftime *T, cl_mw *w)
{
    cl_modelio_w_f32(w, "time.bin_bias", T->bin_bias, (size_t)T->n_items * (size_t)T->nbins);
    cl_modelio_w_f32(w, "time.alpha", T->alpha, (size_t)T->n_users);
    return cl_modelio_w_f32(w, "time.day_bias", T->day_bias, (size_t)T->n_days);
}

static int read_values(cl_mr *mr, const char *name, float *dst, size_t want)
{
    size_t n;
    int rc = cl_modelio_r_count(mr, name, CL_CHUNK_F32, &n);
    if (rc)
        return rc;
    if (n != want)
        return cl_error(CL_EFORMAT, "model file: '%s' holds %zu values, the training times "
                        "need %zu", name, n, want);
    if ((rc = cl_modelio_r_f32(mr, name, dst, n)))
        return rc;
    for (size_t k = 0; k < n; k++)
        if (!(fabsf(dst[k]) <= 1e15f)) /* biases within +-1e15 keep every rating finite */
            return cl_error(CL_EFORMAT, "model file: '%s' value %zu is %g, expected a finite "
                            "number within +-1e15", name, k + 1, (double)dst[k]);
    return CL_OK;
}

int cl_mftime_read(cl_mftime *T, cl_mr *mr)
{
    int rc = read_values(mr, "time.bin_bias", T->bin_bias,
                         (size_t)T->n_items * (size_t)T->nbins);
    if (rc == CL_OK)
        rc = read_values(mr, "time.alpha", T->alpha, (size_t)T->n_users);
    if (rc == CL_OK)
        rc = read_values(mr, "time.day_bias", T->day_bias, (size_t)T->n_days);
    return rc;
}
