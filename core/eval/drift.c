/* drift.c - population stability index. */
#include "eval/drift.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* bin of v among the ascending edges e[0..m): number of edges <= v (so bins are
 * (-inf, e0), [e0, e1) ... [e_{m-1}, inf)); NaN gets bin m + 1 */
static int bin_of(const double *e, int m, double v)
{
    if (isnan(v))
        return m + 1;
    int lo = 0, hi = m;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (e[mid] <= v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int cl_drift_psi(const double *expected, int64_t ne, const double *actual, int64_t na, int bins,
           double *psi)
{
    if (ne < 1 || na < 1)
        return cl_error(CL_EINVAL, "psi: both samples need at least one value");
    if (bins < 2 || bins > 1000)
        return cl_error(CL_EINVAL, "psi: bins must be in 2..1000, got %d", bins);
    double *s = cl_alloc((size_t)ne * sizeof *s);
    double *edges = cl_alloc((size_t)bins * sizeof *edges);
    double *ce = cl_alloc_calloc((size_t)bins + 2, sizeof *ce), *ca = cl_alloc_calloc((size_t)bins + 2, sizeof *ca);
    if (!s || !edges || !ce || !ca) {
        cl_alloc_free(s), cl_alloc_free(edges), cl_alloc_free(ce), cl_alloc_free(ca);
        return CL_ENOMEM;
    }
    int64_t k = 0;
    for (int64_t i = 0; i < ne; i++)
        if (!isnan(expected[i]))
            s[k++] = expected[i];
    qsort(s, (size_t)k, sizeof *s, cmp_double);
    int m = 0; /* interior edges at the reference quantiles, duplicates merged */
    for (int b = 1; b < bins && k > 0; b++) {
        double v = s[(int64_t)((double)b / bins * (double)(k - 1) + 0.5)];
        if (m == 0 || v > edges[m - 1])
            edges[m++] = v;
    }
    for (int64_t i = 0; i < ne; i++)
        ce[bin_of(edges, m, expected[i])] += 1;
    for (int64_t i = 0; i < na; i++)
        ca[bin_of(edges, m, actual[i])] += 1;
    double total = 0;
    for (int b = 0; b <= m + 1; b++) {
        double e = ce[b] / (double)ne, a = ca[b] / (double)na;
        if (e == 0 && a == 0)
            continue;
        e = e < 1e-4 ? 1e-4 : e;
        a = a < 1e-4 ? 1e-4 : a;
        total += (a - e) * log(a / e);
    }
    *psi = total;
    cl_alloc_free(s), cl_alloc_free(edges), cl_alloc_free(ce), cl_alloc_free(ca);
    return CL_OK;
}
