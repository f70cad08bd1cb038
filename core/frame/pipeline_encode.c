/* pipeline_encode.c - a pipeline's categories (see pipeline.h): which labels a column keeps
 * (most frequent first up to max_categories, sorted by label), the fill category, the one-hot
 * column onehot_drop leaves out, the codes of a frame's dictionary, and the target encodings
 * (sklearn's TargetEncoder, binary target). */
#include "frame/pipeline_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find_cat(const pcol *c, const char *s)
{
    char *const *hit = bsearch(&s, c->cats, (size_t)c->ncat, sizeof *c->cats, cmp_str);
    return hit ? (int)(hit - c->cats) : -1;
}

typedef struct labcount {
    const char *label;
    int64_t count;
} labcount;

static int cmp_labcount(const void *a, const void *b)
{
    const labcount *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->label, y->label);
}

int cl_pipeline_encode_fit_cat(cl_pipeline *p, pcol *pc, const cl_column *col)
{
    const cl_dict *d = col->dict;
    labcount *lc = cl_alloc_calloc((size_t)d->n + 1, sizeof *lc);
    if (!lc)
        return CL_ENOMEM;
    for (int32_t k = 0; k < d->n; k++)
        lc[k].label = d->labels[k];
    for (int64_t i = 0; i < col->n; i++)
        if (col->codes[i] >= 0)
            lc[col->codes[i]].count++;
    qsort(lc, (size_t)d->n, sizeof *lc, cmp_labcount); /* most frequent first, ties by label */
    int nseen = 0;
    while (nseen < d->n && lc[nseen].count > 0)
        nseen++;
    int keep = nseen;
    if (p->o.max_categories > 0 && keep > p->o.max_categories)
        keep = p->o.max_categories;
    int add_fill = p->o.impute == CL_IMPUTE_CONSTANT;
    pc->cats = cl_alloc_calloc((size_t)keep + 1, sizeof *pc->cats);
    int rc = pc->cats ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < keep; k++, pc->ncat++)
        if (!(pc->cats[k] = cl_alloc_strdup(lc[k].label)))
            rc = CL_ENOMEM;
    if (rc == CL_OK && add_fill) {
        int have = 0;
        for (int k = 0; k < keep; k++)
            have |= !strcmp(pc->cats[k], p->fill_label);
        if (!have) {
            if (!(pc->cats[pc->ncat] = cl_alloc_strdup(p->fill_label)))
                rc = CL_ENOMEM;
            else
                pc->ncat++;
        }
    }
    const char *mode = nseen > 0 ? lc[0].label : NULL;
    if (rc == CL_OK) {
        qsort(pc->cats, (size_t)pc->ncat, sizeof *pc->cats, cmp_str);
        pc->other = p->o.unknown == CL_UNKNOWN_OTHER;
        pc->fill_cat = -1;
        if (p->o.impute == CL_IMPUTE_CONSTANT)
            pc->fill_cat = find_cat(pc, p->fill_label);
        else if (p->o.impute != CL_IMPUTE_NONE && mode)
            pc->fill_cat = find_cat(pc, mode);
        pc->dropcat = expected_drop(p, pc);
    }
    cl_alloc_free(lc);
    return rc;
}

/* Value of input column pc on row i of a (converted) column, before scaling. */
double cl_pipeline_encode_raw(const pcol *pc, const cl_column *col, const int32_t *map, int64_t i)
{
    if (!pc->is_cat) {
        double x = col->num[i];
        return isnan(x) ? pc->fill : x;
    }
    int32_t c = col->codes[i];
    int k = c < 0 ? pc->fill_cat : map[c] >= 0 ? map[c] : pc->other ? pc->ncat : -1;
    return k >= 0 ? (double)k : NAN;
}

/* encode = target: the encoding slot of row i (a kept category 0..ncat-1, ncat the other
 * slot when there is one, te_nslot - 1 a missing value left missing), -1: unknown. */
int cl_pipeline_encode_te_slot(const pcol *pc, const cl_column *col, const int32_t *map, int64_t i)
{
    int32_t c = col->codes[i];
    if (c < 0)
        return pc->fill_cat >= 0 ? pc->fill_cat : te_nslot(pc) - 1;
    return map[c] >= 0 ? map[c] : pc->other ? pc->ncat : -1;
}

/* The target encodings (prep.h) of column pc fitted on the rows i with fold[i] != q (every
 * row when fold is NULL): enc[te_nslot], *prior = the mean of y over those rows. */
int cl_pipeline_encode_te_fit(const cl_pipeline *p, const pcol *pc, const cl_column *col, const int32_t *map,
                  const float *y, const int32_t *fold, int q, double *enc, double *prior)
{
    int ns = te_nslot(pc);
    double *sum = cl_alloc_calloc((size_t)ns * 3, sizeof *sum);
    if (!sum)
        return CL_ENOMEM;
    double *cnt = sum + ns, *ss = cnt + ns;
    double ys = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < col->n; i++) {
        if (fold && fold[i] == q)
            continue;
        ys += y[i];
        n++;
        int s = cl_pipeline_encode_te_slot(pc, col, map, i);
        if (s >= 0) {
            sum[s] += y[i];
            cnt[s] += 1;
        }
    }
    double mean = n > 0 ? ys / (double)n : 0, var = 0;
    for (int64_t i = 0; i < col->n; i++)
        if (!fold || fold[i] != q)
            var += ((double)y[i] - mean) * ((double)y[i] - mean);
    var = n > 0 ? var / (double)n : 0; /* population variance, as numpy's var */
    int autos = p->o.smooth < 0;
    if (autos)
        for (int64_t i = 0; i < col->n; i++) {
            int s = (fold && fold[i] == q) ? -1 : cl_pipeline_encode_te_slot(pc, col, map, i);
            if (s >= 0) {
                double d = (double)y[i] - sum[s] / cnt[s];
                ss[s] += d * d;
            }
        }
    for (int s = 0; s < ns; s++) {
        if (autos) {
            /* NaN when the category has no rows, or var(y) = 0 and its ss = 0 */
            double lam = var * cnt[s] / (var * cnt[s] + ss[s] / cnt[s]);
            enc[s] = isnan(lam) ? mean : lam * (sum[s] / cnt[s]) + (1 - lam) * mean;
        } else {
            double c = cnt[s] + p->o.smooth;
            enc[s] = c == 0 ? mean : (sum[s] + p->o.smooth * mean) / c;
        }
    }
    *prior = mean;
    cl_alloc_free(sum);
    return CL_OK;
}

/* Frame dictionary code -> kept category index (-1: unknown). */
int cl_pipeline_encode_cat_map(const pcol *pc, const cl_column *col, int32_t **map)
{
    *map = cl_alloc(((size_t)col->dict->n + 1) * sizeof **map);
    if (!*map)
        return CL_ENOMEM;
    for (int32_t k = 0; k < col->dict->n; k++)
        (*map)[k] = find_cat(pc, col->dict->labels[k]);
    return CL_OK;
}
