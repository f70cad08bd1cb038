/* pipeline_scale.c - a pipeline's numbers (see pipeline.h): the value imputed for missing
 * ones (mean, median, most frequent, a constant) and the scalers fitted on the fit frame
 * (minmax, standard with the population sd as sklearn's StandardScaler, robust with numpy's
 * linear quantiles as sklearn's RobustScaler). */
#include "frame/pipeline_impl.h"

#include <math.h>
#include <stdlib.h>

#include "base/alloc.h"
#include "base/error.h"
#include "frame/col.h"

int cl_pipeline_scale_fit_fill(cl_pipeline *p, pcol *pc, const cl_column *col)
{
    double v = NAN;
    int rc = CL_OK;
    switch (p->o.impute) {
    case CL_IMPUTE_MEAN: rc = cl_col_mean(col, &v); break;
    case CL_IMPUTE_MEDIAN: rc = cl_col_median(col, &v); break;
    case CL_IMPUTE_CONSTANT: v = p->o.fill_value; break;
    case CL_IMPUTE_NONE: v = NAN; break;
    case CL_IMPUTE_MOST_FREQUENT: {
        cl_frame *vc;
        rc = cl_col_value_counts(&vc, col, "v");
        if (rc == CL_OK) {
            /* highest count; ties: the smallest value */
            for (int64_t i = 0; i < vc->nrow; i++)
                if (vc->cols[1]->num[i] == vc->cols[1]->num[0] &&
                    (isnan(v) || vc->cols[0]->num[i] < v))
                    v = vc->cols[0]->num[i];
            cl_frame_free(vc);
        }
        break;
    }
    }
    if (rc)
        return rc;
    if (isnan(v) && p->o.impute != CL_IMPUTE_NONE)
        v = 0; /* a column missing everywhere in the fit frame */
    pc->fill = v;
    return CL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy's default (linear) quantile of sorted v[0..n-1], n > 0 */
static double quantile_sorted(const double *v, int64_t n, double q)
{
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    double t = pos - (double)lo;
    return v[lo] + t * (v[lo + 1] - v[lo]);
}

static int fit_robust(pcol *pc, const cl_column *col, const int32_t *map)
{
    double *v = cl_alloc(((size_t)col->n + 1) * sizeof *v);
    if (!v)
        return CL_ENOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < col->n; i++) {
        double x = cl_pipeline_encode_raw(pc, col, map, i);
        if (!isnan(x))
            v[k++] = x;
    }
    if (k > 0) {
        qsort(v, (size_t)k, sizeof *v, cmp_double);
        double iqr = quantile_sorted(v, k, 0.75) - quantile_sorted(v, k, 0.25);
        pc->shift = quantile_sorted(v, k, 0.5);
        /* sklearn's _handle_zeros_in_scale: a scale below 10 eps counts as 0 -> 1 */
        pc->mul = iqr < 10 * 2.220446049250313e-16 ? 1.0 : 1.0 / iqr;
    }
    cl_alloc_free(v);
    return CL_OK;
}

int cl_pipeline_scale_fit(cl_pipeline *p, pcol *pc, const cl_column *col, const int32_t *map)
{
    pc->shift = 0;
    pc->mul = 1;
    if (p->o.scale == CL_SCALE_NONE || (pc->is_cat && p->o.encode != CL_ENCODE_ORDINAL))
        return CL_OK;
    if (p->o.scale == CL_SCALE_ROBUST)
        return fit_robust(pc, col, map);
    double lo = INFINITY, hi = -INFINITY, s = 0, ss = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < col->n; i++) {
        double x = cl_pipeline_encode_raw(pc, col, map, i);
        if (isnan(x))
            continue;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        s += x;
        k++;
    }
    if (k == 0)
        return CL_OK;
    double mean = s / (double)k;
    for (int64_t i = 0; i < col->n; i++) {
        double x = cl_pipeline_encode_raw(pc, col, map, i);
        if (!isnan(x))
            ss += (x - mean) * (x - mean);
    }
    if (p->o.scale == CL_SCALE_MINMAX) {
        pc->shift = lo;
        pc->mul = hi > lo ? 1.0 / (hi - lo) : 1.0;
    } else {
        double sd = sqrt(ss / (double)k); /* population sd, as sklearn's StandardScaler */
        pc->shift = mean;
        pc->mul = sd > 0 ? 1.0 / sd : 1.0;
    }
    return CL_OK;
}
