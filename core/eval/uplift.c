/* uplift.c - Qini and uplift curves, and their areas normalised by the perfect ranking. */
#include "eval/uplift.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>

typedef struct ranked { float s; int64_t i; } ranked;

static int by_score_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->s != y->s)
        return x->s > y->s ? -1 : 1;
    return x->i < y->i ? -1 : 1;
}

void cl_uplift_qini_free(cl_qini *q)
{
    if (!q)
        return;
    cl_alloc_free(q->x);
    cl_alloc_free(q);
}

/* Ranks by score (r: n scratch records) and writes the curves' points into x, qini, uplift
 * (room for n + 1 each, any may be NULL); returns the number of points. */
static int64_t curves(const float *y, const float *t, const float *score, int64_t n, ranked *r,
                      double *x, double *qini, double *uplift)
{
    for (int64_t i = 0; i < n; i++)
        r[i] = (ranked){score[i], i};
    qsort(r, (size_t)n, sizeof *r, by_score_desc);
    double YT = 0, YC = 0, NT = 0, NC = 0;
    int64_t m = 0;
    x[m] = qini[m] = uplift[m] = 0;
    m++;
    for (int64_t k = 0; k < n;) {
        int64_t j = k;
        for (; j < n && r[j].s == r[k].s; j++) {
            int64_t i = r[j].i;
            if (t[i] == 1) {
                NT += 1;
                YT += y[i];
            } else {
                NC += 1;
                YC += y[i];
            }
        }
        x[m] = (double)j;
        qini[m] = NC > 0 ? YT - YC * NT / NC : YT;
        uplift[m] = ((NT > 0 ? YT / NT : 0) - (NC > 0 ? YC / NC : 0)) * (double)j;
        m++;
        k = j;
    }
    return m;
}

/* Trapezoid area under (x, v) minus the area under the line from (0, 0) to the last point. */
static double above_line(const double *x, const double *v, int64_t m)
{
    double area = 0;
    for (int64_t a = 1; a < m; a++)
        area += (x[a] - x[a - 1]) * (v[a] + v[a - 1]) / 2;
    return area - x[m - 1] * v[m - 1] / 2;
}

int cl_uplift_qini_curve(cl_qini **out, const float *y, const float *t, const float *score, int64_t n)
{
    *out = NULL;
    if (n < 2)
        return cl_error(CL_EINVAL, "qini: need at least 2 customers");
    int64_t nt = 0;
    double cr = 0, tn = 0; /* control stayers, treated leavers */
    for (int64_t i = 0; i < n; i++) {
        if (y[i] != 0 && y[i] != 1)
            return cl_error(CL_EINVAL, "qini: row %lld: outcome must be 0 or 1, got %g",
                            (long long)i + 1, y[i]);
        if (t[i] != 0 && t[i] != 1)
            return cl_error(CL_EINVAL, "qini: row %lld: treatment must be 0 or 1, got %g",
                            (long long)i + 1, t[i]);
        if (!isfinite(score[i]))
            return cl_error(CL_EINVAL, "qini: row %lld: score is not finite", (long long)i + 1);
        nt += t[i] == 1;
        cr += y[i] == 1 && t[i] == 0;
        tn += y[i] == 0 && t[i] == 1;
    }
    if (nt == 0 || nt == n)
        return cl_error(CL_EINVAL, "qini: needs both treated and control customers");
    ranked *r = cl_alloc((size_t)n * sizeof *r);
    cl_qini *q = cl_alloc_calloc(1, sizeof *q);
    double *buf = cl_alloc((size_t)(n + 1) * 6 * sizeof *buf);
    float *perfect = cl_alloc((size_t)n * sizeof *perfect);
    if (!r || !q || !buf || !perfect) {
        cl_alloc_free(r);
        cl_alloc_free(q);
        cl_alloc_free(buf);
        cl_alloc_free(perfect);
        return CL_ENOMEM;
    }
    q->x = buf;
    q->qini = buf + n + 1;
    q->uplift = buf + 2 * (n + 1);
    double *px = buf + 3 * (n + 1), *pq = buf + 4 * (n + 1), *pu = buf + 5 * (n + 1);
    int64_t m = curves(y, t, score, n, r, q->x, q->qini, q->uplift);
    q->m = m;
    double a_qini = above_line(q->x, q->qini, m), a_up = above_line(q->x, q->uplift, m);
    /* per customer over the fraction targeted (the historical unnormalised coefficient) */
    q->coefficient = a_qini / ((double)n * (double)n);
    for (int64_t i = 0; i < n; i++)
        perfect[i] = y[i] * t[i] - y[i] * (1 - t[i]);
    int64_t pm = curves(y, t, perfect, n, r, px, pq, pu);
    double best = above_line(px, pq, pm);
    q->qini_auc = best > 0 ? a_qini / best : NAN;
    for (int64_t i = 0; i < n; i++)
        perfect[i] = 2.0f * (y[i] == t[i]) + (cr > tn ? y[i] : t[i]);
    pm = curves(y, t, perfect, n, r, px, pq, pu);
    best = above_line(px, pu, pm);
    q->uplift_auc = best > 0 ? a_up / best : NAN;
    cl_alloc_free(r);
    cl_alloc_free(perfect);
    *out = q;
    return CL_OK;
}
