/* uplift.c - Qini and uplift curves. */
#include "eval/uplift.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>

static const float *key;

static int by_score_desc(const void *a, const void *b)
{
    float x = key[*(const int64_t *)a], y = key[*(const int64_t *)b];
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int64_t *)a < *(const int64_t *)b ? -1 : 1;
}

void cl_qini_free(cl_qini *q)
{
    if (!q)
        return;
    cl_free(q->x);
    cl_free(q);
}

int cl_qini_curve(cl_qini **out, const float *y, const float *t, const float *score, int64_t n)
{
    *out = NULL;
    if (n < 2)
        return cl_error(CL_EINVAL, "qini: need at least 2 customers");
    int64_t nt = 0;
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
    }
    if (nt == 0 || nt == n)
        return cl_error(CL_EINVAL, "qini: needs both treated and control customers");
    int64_t *idx = cl_alloc((size_t)n * sizeof *idx);
    cl_qini *q = cl_calloc(1, sizeof *q);
    double *buf = cl_alloc((size_t)(n + 1) * 3 * sizeof *buf);
    if (!idx || !q || !buf) {
        cl_free(idx);
        cl_free(q);
        cl_free(buf);
        return CL_ENOMEM;
    }
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    key = score;
    qsort(idx, (size_t)n, sizeof *idx, by_score_desc);
    q->x = buf;
    q->qini = buf + n + 1;
    q->uplift = buf + 2 * (n + 1);
    double YT = 0, YC = 0, NT = 0, NC = 0;
    int64_t m = 0;
    q->x[m] = q->qini[m] = q->uplift[m] = 0;
    m++;
    for (int64_t k = 0; k < n;) {
        int64_t j = k;
        for (; j < n && score[idx[j]] == score[idx[k]]; j++) {
            int64_t i = idx[j];
            if (t[i] == 1) {
                NT += 1;
                YT += y[i];
            } else {
                NC += 1;
                YC += y[i];
            }
        }
        q->x[m] = (double)j;
        q->qini[m] = NC > 0 ? YT - YC * NT / NC : YT;
        q->uplift[m] = NT > 0 && NC > 0 ? (YT / NT - YC / NC) * (double)j : 0;
        m++;
        k = j;
    }
    q->m = m;
    /* trapezoid area over the fraction targeted, minus the random line's area */
    double area = 0, final = q->qini[m - 1];
    for (int64_t a = 1; a < m; a++)
        area += (q->x[a] - q->x[a - 1]) / (double)n * (q->qini[a] + q->qini[a - 1]) / 2;
    q->coefficient = (area - final / 2) / (double)n;
    cl_free(idx);
    *out = q;
    return CL_OK;
}
