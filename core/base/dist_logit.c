/* dist_logit.c - exact logistic loss and gradient sums over the ranks (dist_logit.h). */
#include "base/dist_logit.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/round.h"

#include <math.h>
#include <omp.h>
#include <string.h>

int cl_dist_logit_counts(cl_dist *dist, const float *y, int64_t n, int64_t *n_all,
                         double *pos_all)
{
    int64_t v[2] = {n, 0};
    for (int64_t i = 0; i < n; i++)
        v[1] += y[i] == 1.0f;
    int rc = cl_dist_sum_small(dist, v, 2);
    *n_all = v[0];
    *pos_all = (double)v[1];
    return rc;
}

int cl_dist_logit_init(cl_dist_logit *c, cl_dist *dist, const float *X, const float *y,
                       int64_t n, int64_t d, int64_t n_all, double wpos, double wneg, int nt)
{
    memset(c, 0, sizeof *c);
    *c = (cl_dist_logit){.dist = dist, .X = X, .y = y, .n = n, .d = d, .wpos = wpos,
                         .wneg = wneg, .nt = nt > 0 ? nt : 1};
    c->scale = cl_alloc_calloc((size_t)d + 1, sizeof *c->scale);
    c->acc = cl_alloc_calloc((size_t)c->nt * (size_t)(d + 1), sizeof *c->acc);
    c->loss = cl_alloc_calloc((size_t)c->nt, sizeof *c->loss);
    if (!c->scale || !c->acc || !c->loss)
        return cl_dist_agree(dist, CL_ENOMEM);
    for (int64_t i = 0; i < n; i++)
        for (int64_t j = 0; j < d; j++)
            c->scale[j] = fmax(c->scale[j], fabs((double)X[i * d + j]));
    c->scale[d] = 1.0; /* the intercept's "feature" */
    int rc = cl_dist_max_f64(dist, c->scale, (size_t)d);
    if (rc)
        return rc;
    /* |w (p - y) x_j| <= wmax max|x_j|: N such terms stay below 2^62 */
    double wmax = fmax(wpos, wneg), top = ldexp(1.0, 62) / ((double)n_all * fmax(wmax, 1e-300));
    for (int64_t j = 0; j <= d; j++)
        c->scale[j] = top / (c->scale[j] > 0 ? c->scale[j] : 1.0);
    return CL_OK;
}

int cl_dist_logit_weights(cl_dist_logit *c, const float *w)
{
    int64_t with = w != NULL;
    int rc = cl_dist_sum_small(c->dist, &with, 1);
    if (rc)
        return rc;
    if (with != 0 && with != cl_dist_size(c->dist))
        return cl_error(CL_EINVAL, "logreg: sample weights on %lld of %d ranks (give every "
                        "rank the weights of its rows, or none)", (long long)with,
                        cl_dist_size(c->dist));
    if (!w)
        return CL_OK;
    double mx = 0;
    for (int64_t i = 0; i < c->n; i++)
        mx = fmax(mx, (double)w[i]);
    if ((rc = cl_dist_max_f64(c->dist, &mx, 1)))
        return rc;
    c->sw = w;
    if (mx > 0) /* |w_i (p - y) x_j| <= mx wmax max|x_j| */
        for (int64_t j = 0; j <= c->d; j++)
            c->scale[j] /= mx;
    return CL_OK;
}

void cl_dist_logit_free(cl_dist_logit *c)
{
    cl_alloc_free(c->scale);
    cl_alloc_free(c->acc);
    cl_alloc_free(c->loss);
    memset(c, 0, sizeof *c);
}

/* the same dot product as linear.c's (four running sums in a fixed order) */
static double dot(const float *restrict x, const double *restrict th, int64_t d)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) {
        s0 += (double)x[j] * th[j];
        s1 += (double)x[j + 1] * th[j + 1];
        s2 += (double)x[j + 2] * th[j + 2];
        s3 += (double)x[j + 3] * th[j + 3];
    }
    for (; j < d; j++)
        s0 += (double)x[j] * th[j];
    return (s0 + s1) + (s2 + s3);
}

/* a double as two float32 halves (hi + lo carries 48 of its bits): exact to add in a cl_fsum */
static void fsum_add_double(cl_fsum *s, double v)
{
    float hi = (float)v;
    cl_dist_fsum_add(s, hi);
    cl_dist_fsum_add(s, (float)(v - (double)hi));
}

static void row_terms(const cl_dist_logit *c, int64_t i, const double *th, int64_t *acc,
                      cl_fsum *loss)
{
    const int64_t d = c->d;
    const float *x = c->X + i * d;
    double z = th[d] + dot(x, th, d);
    double yi = c->y[i], w = yi == 1.0 ? c->wpos : c->wneg;
    if (c->sw) /* as linear.c's block sums: the class weight times the sample weight */
        w *= c->sw[i];
    double e = exp(-fabs(z));
    double p = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
    fsum_add_double(loss, w * (fmax(z, 0.0) - z * yi + log1p(e)));
    double r = w * (p - yi);
    for (int64_t j = 0; j < d; j++)
        acc[j] += cl_round_i64(r * (double)x[j] * c->scale[j]);
    acc[d] += cl_round_i64(r * c->scale[d]);
}

double cl_dist_logit_sums(cl_dist_logit *c, const double *th, double *g)
{
    const int64_t d = c->d, w = d + 1;
    memset(c->acc, 0, (size_t)c->nt * (size_t)w * sizeof *c->acc);
    for (int t = 0; t < c->nt; t++)
        cl_dist_fsum_init(&c->loss[t]);
#pragma omp parallel num_threads(c->nt) if (c->n > 8192)
    {
        int t = omp_get_thread_num();
        int64_t *acc = c->acc + (int64_t)t * w;
#pragma omp for schedule(static)
        for (int64_t i = 0; i < c->n; i++)
            row_terms(c, i, th, acc, &c->loss[t]);
    }
    for (int t = 1; t < c->nt; t++) { /* integers: any order gives the same sums */
        for (int64_t j = 0; j < w; j++)
            c->acc[j] += c->acc[(int64_t)t * w + j];
        for (int k = 0; k < CL_FSUM_SLOTS; k++)
            c->loss[0].a[k] += c->loss[t].a[k];
    }
    int rc = cl_dist_sum_i64(c->dist, c->acc, (size_t)w);
    if (!rc)
        rc = cl_dist_fsum_reduce(c->dist, &c->loss[0]);
    if (rc) {
        c->rc = c->rc ? c->rc : rc;
        return NAN;
    }
    for (int64_t j = 0; j < w; j++)
        g[j] = (double)c->acc[j] / c->scale[j];
    return cl_dist_fsum_value(&c->loss[0]);
}
