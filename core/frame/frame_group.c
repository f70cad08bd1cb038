/* frame_group.c - group-by aggregation, describe and cross tables (joins: frame_join.c). See
 * frame_ops.h. */
#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"
#include "frame/col.h"
#include "frame/frame_impl.h"
#include "frame/frame_ops.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const CL_FRAME_GROUP_AGG_NAMES = "count|sum|mean|min|max|std|median|nunique|first|last|size";

static const char *const AGG[] = {"count", "sum",     "mean",  "min",  "max", "std",
                                  "median", "nunique", "first", "last", "size"};

int cl_frame_group_agg_parse(const char *s, cl_agg_fn *fn)
{
    for (int k = 0; k < (int)(sizeof AGG / sizeof *AGG); k++)
        if (!strcmp(s, AGG[k])) {
            *fn = (cl_agg_fn)k;
            return CL_OK;
        }
    return cl_error(CL_EINVAL, "unknown aggregation '%s' (expected one of %s)", s, CL_FRAME_GROUP_AGG_NAMES);
}

int cl_frame_group_agg_parse_q(const char *s, cl_agg_fn *fn, double *q)
{
    *q = 0;
    if (s[0] == 'q' && s[1]) {
        char *end;
        double p = strtod(s + 1, &end);
        if (*end || !(p >= 0 && p <= 100))
            return cl_error(CL_EINVAL, "aggregation '%s': a quantile is q<percent> with the "
                            "percent in [0, 100] (q90, q2.5)", s);
        *fn = CL_AGG_QUANTILE;
        *q = p / 100;
        return CL_OK;
    }
    int rc = cl_frame_group_agg_parse(s, fn);
    if (rc)
        cl_error(rc, "unknown aggregation '%s' (expected one of %s, or q<percent> such as q90)",
                 s, CL_FRAME_GROUP_AGG_NAMES);
    return rc;
}

/* Row -> group id over several key columns, ids in order of first appearance. */
int cl_frame_group_ids(const cl_frame *f, const int *kj, int nk, int32_t *gid, int32_t *ng)
{
    int64_t n = f->nrow;
    int rc = CL_OK;
    int32_t na;
    if (nk == 1)
        return cl_frame_ops_dense_ids(f->cols[kj[0]], gid, ng, &na);
    int32_t *ids = cl_alloc((size_t)(n ? n : 1) * (size_t)nk * sizeof *ids);
    if (!ids)
        return CL_ENOMEM;
    for (int k = 0; k < nk && rc == CL_OK; k++) {
        int32_t m;
        int32_t *col = cl_alloc((size_t)(n ? n : 1) * sizeof *col);
        if (!col) {
            rc = CL_ENOMEM;
            break;
        }
        rc = cl_frame_ops_dense_ids(f->cols[kj[k]], col, &m, &na);
        for (int64_t i = 0; i < n; i++)
            ids[i * nk + k] = col[i];
        cl_alloc_free(col);
    }
    size_t ns = 16;
    while (ns < (size_t)n * 2)
        ns *= 2;
    int64_t *slots = rc == CL_OK ? cl_alloc(ns * sizeof *slots) : NULL;
    if (rc == CL_OK && !slots)
        rc = CL_ENOMEM;
    if (rc == CL_OK) {
        memset(slots, 0xff, ns * sizeof *slots);
        int32_t next = 0;
        for (int64_t i = 0; i < n; i++) {
            const int32_t *t = ids + i * nk;
            uint64_t h = 0x9e3779b97f4a7c15ULL;
            for (int k = 0; k < nk; k++)
                h = cl_mix64(h ^ (uint64_t)(uint32_t)t[k]);
            size_t s = (size_t)h & (ns - 1);
            while (slots[s] >= 0 && memcmp(ids + slots[s] * nk, t, (size_t)nk * sizeof *t))
                s = (s + 1) & (ns - 1);
            if (slots[s] < 0) {
                slots[s] = i;
                gid[i] = next++;
            } else {
                gid[i] = gid[slots[s]];
            }
        }
        *ng = next;
    }
    cl_alloc_free(slots);
    cl_alloc_free(ids);
    return rc;
}

static int agg_ok(const cl_column *c, cl_agg_fn fn)
{
    if (c->type != CL_CAT)
        return 1;
    return fn == CL_AGG_COUNT || fn == CL_AGG_NUNIQUE || fn == CL_AGG_FIRST ||
           fn == CL_AGG_LAST || fn == CL_AGG_SIZE;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Aggregates rows[start[g]..start[g+1]) of c for every group. */
static int aggregate(cl_column **out, const cl_column *c, cl_agg_fn fn, double qq,
                     const int64_t *start, const int64_t *rows, int32_t ng)
{
    int cat_out = c->type == CL_CAT && (fn == CL_AGG_FIRST || fn == CL_AGG_LAST);
    cl_coltype t = c->type == CL_DATE && (fn == CL_AGG_MIN || fn == CL_AGG_MAX || fn == CL_AGG_MEAN ||
                                          fn == CL_AGG_MEDIAN || fn == CL_AGG_FIRST || fn == CL_AGG_LAST ||
                                          fn == CL_AGG_QUANTILE)
                       ? CL_DATE : CL_NUM;
    int rc = cat_out ? cl_frame_column_new_cat(out, ng, c->dict) : cl_frame_column_new_num(out, t, ng);
    if (rc)
        return rc;
    cl_column *r = *out;
    double *buf = NULL;
    if (fn == CL_AGG_MEDIAN || fn == CL_AGG_NUNIQUE || fn == CL_AGG_QUANTILE) {
        int64_t maxg = 0;
        for (int32_t g = 0; g < ng; g++)
            if (start[g + 1] - start[g] > maxg)
                maxg = start[g + 1] - start[g];
        buf = cl_alloc((size_t)(maxg ? maxg : 1) * sizeof *buf);
        if (!buf) {
            cl_frame_column_free(r);
            *out = NULL;
            return CL_ENOMEM;
        }
    }
    for (int32_t g = 0; g < ng; g++) {
        const int64_t *rw = rows + start[g];
        int64_t m = start[g + 1] - start[g];
        if (cat_out) {
            int32_t v = -1;
            for (int64_t q = 0; q < m; q++) {
                int32_t x = c->codes[rw[fn == CL_AGG_FIRST ? q : m - 1 - q]];
                if (x >= 0) {
                    v = x;
                    break;
                }
            }
            r->codes[g] = v;
            continue;
        }
        double v = NAN;
        if (fn == CL_AGG_SIZE) {
            v = (double)m;
        } else if (fn == CL_AGG_COUNT || fn == CL_AGG_NUNIQUE) {
            int64_t k = 0;
            for (int64_t q = 0; q < m; q++)
                if (!cl_frame_column_isna_at(c, rw[q]))
                    buf ? (void)(buf[k++] = c->type == CL_CAT ? (double)c->codes[rw[q]] : c->num[rw[q]])
                        : (void)k++;
            if (fn == CL_AGG_NUNIQUE) {
                qsort(buf, (size_t)k, sizeof *buf, cmp_dbl);
                int64_t u = 0;
                for (int64_t q = 0; q < k; q++)
                    u += q == 0 || buf[q] != buf[q - 1];
                k = u;
            }
            v = (double)k;
        } else if (fn == CL_AGG_FIRST || fn == CL_AGG_LAST) {
            for (int64_t q = 0; q < m; q++) {
                double x = c->num[rw[fn == CL_AGG_FIRST ? q : m - 1 - q]];
                if (!isnan(x)) {
                    v = x;
                    break;
                }
            }
        } else if (fn == CL_AGG_MEDIAN) {
            int64_t k = 0;
            for (int64_t q = 0; q < m; q++)
                if (!isnan(c->num[rw[q]]))
                    buf[k++] = c->num[rw[q]];
            if (k) {
                qsort(buf, (size_t)k, sizeof *buf, cmp_dbl);
                v = k % 2 ? buf[k / 2] : (buf[k / 2 - 1] + buf[k / 2]) / 2;
            }
        } else if (fn == CL_AGG_QUANTILE) {
            int64_t k = 0;
            for (int64_t q = 0; q < m; q++)
                if (!isnan(c->num[rw[q]]))
                    buf[k++] = c->num[rw[q]];
            if (k) { /* linear interpolation at (k - 1) q, as numpy and pandas */
                qsort(buf, (size_t)k, sizeof *buf, cmp_dbl);
                double pos = (double)(k - 1) * qq;
                int64_t lo = (int64_t)floor(pos);
                double fr = pos - (double)lo;
                v = lo + 1 < k ? buf[lo] + (buf[lo + 1] - buf[lo]) * fr : buf[lo];
            }
        } else {
            double s = 0, lo = INFINITY, hi = -INFINITY;
            int64_t k = 0;
            for (int64_t q = 0; q < m; q++) {
                double x = c->num[rw[q]];
                if (isnan(x))
                    continue;
                s += x;
                lo = x < lo ? x : lo;
                hi = x > hi ? x : hi;
                k++;
            }
            switch (fn) {
            case CL_AGG_SUM: v = s; break;
            case CL_AGG_MEAN: v = k ? s / (double)k : NAN; break;
            case CL_AGG_MIN: v = k ? lo : NAN; break;
            case CL_AGG_MAX: v = k ? hi : NAN; break;
            case CL_AGG_STD: {
                if (k > 1) {
                    double mean = s / (double)k, ss = 0;
                    for (int64_t q = 0; q < m; q++) {
                        double x = c->num[rw[q]];
                        if (!isnan(x))
                            ss += (x - mean) * (x - mean);
                    }
                    v = sqrt(ss / (double)(k - 1));
                }
                break;
            }
            default: break;
            }
        }
        r->num[g] = v;
    }
    cl_alloc_free(buf);
    return CL_OK;
}

/* One pass over the rows in row order: count, sum, mean, min, max, std (two passes), first,
 * last and size, per group; sums run in row order, as the grouped-rows path would. */
static int aggregate_stream(cl_column **out, const cl_column *c, cl_agg_fn fn, const int32_t *gid,
                            int32_t ng)
{
    int64_t n = c->n;
    int cat = c->type == CL_CAT;
    if (cat && (fn == CL_AGG_FIRST || fn == CL_AGG_LAST)) {
        int rc = cl_frame_column_new_cat(out, ng, c->dict);
        if (rc)
            return rc;
        int32_t *v = (*out)->codes;
        for (int32_t g = 0; g < ng; g++)
            v[g] = -1;
        for (int64_t i = 0; i < n; i++)
            if (c->codes[i] >= 0 && (fn == CL_AGG_LAST || v[gid[i]] < 0))
                v[gid[i]] = c->codes[i];
        return CL_OK;
    }
    cl_coltype t = c->type == CL_DATE && fn != CL_AGG_COUNT && fn != CL_AGG_SIZE &&
                           fn != CL_AGG_SUM && fn != CL_AGG_STD
                       ? CL_DATE
                       : CL_NUM;
    int rc = cl_frame_column_new_num(out, t, ng);
    if (rc)
        return rc;
    double *v = (*out)->num;
    int64_t *k = cl_alloc_calloc((size_t)ng + 1, sizeof *k);
    double *acc = fn == CL_AGG_STD ? cl_alloc_calloc((size_t)ng + 1, sizeof *acc) : NULL;
    if (!k || (fn == CL_AGG_STD && !acc)) {
        cl_alloc_free(k);
        cl_alloc_free(acc);
        cl_frame_column_free(*out);
        *out = NULL;
        return CL_ENOMEM;
    }
    for (int32_t g = 0; g < ng; g++)
        v[g] = fn == CL_AGG_MIN || fn == CL_AGG_MAX || fn == CL_AGG_FIRST || fn == CL_AGG_LAST ? NAN : 0;
    for (int64_t i = 0; i < n; i++) {
        int32_t g = gid[i];
        if (fn == CL_AGG_SIZE) {
            k[g]++;
            continue;
        }
        if (cat) {
            k[g] += c->codes[i] >= 0;
            continue;
        }
        double x = c->num[i];
        if (isnan(x))
            continue;
        k[g]++;
        switch (fn) {
        case CL_AGG_SUM:
        case CL_AGG_MEAN:
        case CL_AGG_STD: v[g] += x; break;
        case CL_AGG_MIN: v[g] = isnan(v[g]) || x < v[g] ? x : v[g]; break;
        case CL_AGG_MAX: v[g] = isnan(v[g]) || x > v[g] ? x : v[g]; break;
        case CL_AGG_FIRST: v[g] = isnan(v[g]) ? x : v[g]; break;
        case CL_AGG_LAST: v[g] = x; break;
        default: break;
        }
    }
    if (fn == CL_AGG_COUNT || fn == CL_AGG_SIZE)
        for (int32_t g = 0; g < ng; g++)
            v[g] = (double)k[g];
    if (fn == CL_AGG_MEAN || fn == CL_AGG_STD)
        for (int32_t g = 0; g < ng; g++)
            v[g] = k[g] ? v[g] / (double)k[g] : NAN;
    if (fn == CL_AGG_STD) {
        for (int64_t i = 0; i < n; i++) {
            double x = c->num[i];
            if (!isnan(x))
                acc[gid[i]] += (x - v[gid[i]]) * (x - v[gid[i]]);
        }
        for (int32_t g = 0; g < ng; g++)
            v[g] = k[g] > 1 ? sqrt(acc[g] / (double)(k[g] - 1)) : NAN;
    }
    cl_alloc_free(k);
    cl_alloc_free(acc);
    return CL_OK;
}

int cl_frame_group_by(cl_frame **out, const cl_frame *f, const char *const *keys, int nkeys,
                     const cl_agg *aggs, int naggs)
{
    return cl_frame_group_by_q(out, f, keys, nkeys, aggs, naggs, NULL);
}

int cl_frame_group_by_q(cl_frame **out, const cl_frame *f, const char *const *keys, int nkeys,
                       const cl_agg *aggs, int naggs, const double *q)
{
    *out = NULL;
    if (nkeys < 1)
        return cl_error(CL_EINVAL, "groupby: no key columns given");
    int64_t n = f->nrow;
    int *kj = cl_alloc(sizeof *kj * (size_t)nkeys);
    int *aj = cl_alloc(sizeof *aj * (size_t)(naggs ? naggs : 1));
    int32_t *gid = cl_alloc((size_t)(n ? n : 1) * sizeof *gid);
    int64_t *start = NULL, *rows = NULL, *rep = NULL, *order = NULL;
    int32_t *inv = NULL;
    cl_frame *kf = NULL, *sorted = NULL, *r = NULL;
    int32_t ng = 0;
    int need_rows = 0;
    int rc = kj && aj && gid ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < nkeys; k++)
        if ((rc = cl_frame_col(f, keys[k], &kj[k])))
            rc = cl_error_wrap(rc, "groupby");
    for (int a = 0; rc == CL_OK && a < naggs; a++) {
        aj[a] = -1;
        need_rows |= aggs[a].fn == CL_AGG_MEDIAN || aggs[a].fn == CL_AGG_NUNIQUE ||
                     aggs[a].fn == CL_AGG_QUANTILE;
        if (aggs[a].fn == CL_AGG_QUANTILE && !(q && q[a] >= 0 && q[a] <= 1)) {
            rc = cl_error(CL_EINVAL, "agg: the quantile of '%s' must be in [0, 1]", aggs[a].column);
            break;
        }
        if (aggs[a].fn == CL_AGG_SIZE)
            continue;
        if ((rc = cl_frame_col(f, aggs[a].column, &aj[a])))
            rc = cl_error_wrap(rc, "agg");
        else if (!agg_ok(f->cols[aj[a]], aggs[a].fn))
            rc = cl_error(CL_EINVAL, "agg: '%s' of the cat column '%s' (cat columns allow count, "
                          "nunique, first, last, size)", AGG[aggs[a].fn], aggs[a].column);
    }
    if (rc == CL_OK)
        rc = cl_frame_group_ids(f, kj, nkeys, gid, &ng);
    if (rc == CL_OK) {
        rep = cl_alloc(((size_t)ng + 1) * sizeof *rep);
        inv = cl_alloc(((size_t)ng + 1) * sizeof *inv);
        if (!rep || !inv)
            rc = CL_ENOMEM;
    }
    if (rc == CL_OK) {
        /* ids are in order of first appearance: group g first shows up at rep[g] */
        int32_t next = 0;
        for (int64_t i = 0; i < n && next < ng; i++)
            if (gid[i] == next)
                rep[next++] = i;
        /* the key columns of each group's first row, then the groups in key order */
        rc = cl_frame_select(&kf, f, keys, nkeys);
    }
    if (rc == CL_OK) {
        cl_frame *t;
        rc = cl_frame_take(&t, kf, rep, ng);
        cl_frame_free(kf);
        kf = t;
    }
    if (rc == CL_OK)
        rc = cl_frame_ops_sort_index(kf, keys, NULL, nkeys, &order);
    if (rc == CL_OK)
        rc = cl_frame_take(&sorted, kf, order, ng);
    if (rc == CL_OK) {
        /* renumber the groups in key order */
        for (int32_t g = 0; g < ng; g++)
            inv[order[g]] = g;
        for (int64_t i = 0; i < n; i++)
            gid[i] = inv[gid[i]];
    }
    if (rc == CL_OK && need_rows) {
        /* rows of each group (CSR, row order within a group) for median and nunique */
        start = cl_alloc_calloc((size_t)ng + 2, sizeof *start);
        rows = cl_alloc((size_t)(n ? n : 1) * sizeof *rows);
        if (!start || !rows) {
            rc = CL_ENOMEM;
        } else {
            for (int64_t i = 0; i < n; i++)
                start[gid[i] + 2]++;
            for (int32_t g = 0; g < ng; g++)
                start[g + 2] += start[g + 1];
            for (int64_t i = 0; i < n; i++)
                rows[start[gid[i] + 1]++] = i;
        }
    }
    if (rc == CL_OK)
        rc = cl_frame_copy(&r, sorted);
    for (int a = 0; rc == CL_OK && a < naggs; a++) {
        if ((rc = cl_progress_step(NULL, "groupby", a, naggs, NULL)))
            break;
        cl_column *c;
        const cl_column *in = aj[a] >= 0 ? f->cols[aj[a]] : f->cols[kj[0]];
        cl_agg_fn fn = aggs[a].fn;
        if (fn == CL_AGG_MEDIAN || fn == CL_AGG_NUNIQUE || fn == CL_AGG_QUANTILE)
            rc = aggregate(&c, in, fn, q ? q[a] : 0, start, rows, ng);
        else
            rc = aggregate_stream(&c, in, fn, gid, ng);
        if (rc)
            break;
        char name[256];
        if (aggs[a].name)
            snprintf(name, sizeof name, "%s", aggs[a].name);
        else if (fn == CL_AGG_SIZE)
            snprintf(name, sizeof name, "size");
        else
            snprintf(name, sizeof name, "%s_%s", aggs[a].column,
                     fn == CL_AGG_QUANTILE ? "quantile" : AGG[fn]);
        if (cl_frame_find(r, name) >= 0)
            rc = cl_error(CL_EINVAL, "agg: two output columns named '%s'", name);
        else
            rc = cl_frame_set(r, name, c);
        cl_frame_column_free(c);
    }
    if (rc == CL_OK) {
        r->nrow = ng;
        *out = r;
        r = NULL;
    }
    cl_frame_free(r);
    cl_frame_free(kf);
    cl_frame_free(sorted);
    cl_alloc_free(kj);
    cl_alloc_free(aj);
    cl_alloc_free(gid);
    cl_alloc_free(start);
    cl_alloc_free(rows);
    cl_alloc_free(rep);
    cl_alloc_free(inv);
    cl_alloc_free(order);
    return rc;
}

/* ---- describe ----------------------------------------------------------------------------- */

int cl_frame_group_describe(cl_frame **out, const cl_frame *f)
{
    *out = NULL;
    static const char *const stat[] = {"count", "missing", "mean", "std", "min", "25%",
                                       "50%",   "75%",     "max",  "unique", "freq"};
    enum { NS = 11 };
    int m = f->ncol;
    cl_column *name = NULL, *type = NULL, *top = NULL, *cols[NS] = {0};
    int rc = cl_frame_column_new_cat(&name, m, NULL);
    if (rc == CL_OK)
        rc = cl_frame_column_new_cat(&type, m, NULL);
    if (rc == CL_OK)
        rc = cl_frame_column_new_cat(&top, m, NULL);
    for (int s = 0; rc == CL_OK && s < NS; s++)
        rc = cl_frame_column_new_num(&cols[s], CL_NUM, m);
    for (int j = 0; rc == CL_OK && j < m; j++) {
        const cl_column *c = f->cols[j];
        rc = cl_frame_dict_intern(name->dict, f->names[j], strlen(f->names[j]), &name->codes[j]);
        const char *tn = cl_frame_coltype_name(c->type);
        if (rc == CL_OK)
            rc = cl_frame_dict_intern(type->dict, tn, strlen(tn), &type->codes[j]);
        for (int s = 0; s < NS; s++)
            cols[s]->num[j] = NAN;
        top->codes[j] = -1;
        int64_t cnt = cl_col_count(c);
        cols[0]->num[j] = (double)cnt;
        cols[1]->num[j] = (double)(c->n - cnt);
        int64_t nu = 0;
        if (rc == CL_OK)
            rc = cl_col_nunique(c, &nu);
        cols[9]->num[j] = (double)nu;
        if (rc)
            break;
        if (c->type != CL_CAT) {
            double v;
            cl_col_mean(c, &cols[2]->num[j]);
            cl_col_std(c, &cols[3]->num[j]);
            cl_col_min(c, &cols[4]->num[j]);
            static const double qs[3] = {0.25, 0.5, 0.75};
            for (int q = 0; q < 3 && rc == CL_OK; q++)
                rc = cl_col_quantile(c, qs[q], &cols[5 + q]->num[j]);
            cl_col_max(c, &v);
            cols[8]->num[j] = v;
        } else {
            cl_frame *vc;
            rc = cl_col_value_counts(&vc, c, "v");
            if (rc == CL_OK && vc->nrow > 0) {
                const char *lab = cl_frame_column_label(vc->cols[0], 0);
                rc = cl_frame_dict_intern(top->dict, lab, strlen(lab), &top->codes[j]);
                cols[10]->num[j] = vc->cols[1]->num[0];
            }
            cl_frame_free(vc);
        }
    }
    cl_frame *r = NULL;
    if (rc == CL_OK)
        rc = cl_frame_new(&r);
    if (rc == CL_OK)
        rc = cl_frame_set(r, "column", name);
    if (rc == CL_OK)
        rc = cl_frame_set(r, "type", type);
    for (int s = 0; rc == CL_OK && s < NS; s++) {
        if (s == 10)
            rc = cl_frame_set(r, "top", top);
        if (rc == CL_OK)
            rc = cl_frame_set(r, stat[s], cols[s]);
    }
    cl_frame_column_free(name);
    cl_frame_column_free(type);
    cl_frame_column_free(top);
    for (int s = 0; s < NS; s++)
        cl_frame_column_free(cols[s]);
    if (rc) {
        cl_frame_free(r);
        return rc;
    }
    r->nrow = m;
    *out = r;
    return CL_OK;
}

/* ---- crosstab ----------------------------------------------------------------------------- */

/* Levels of a column in sorted order: level[i] per row (-1 missing), *nl levels, and a
 * column holding the sorted level values (owned). */
static int levels(const cl_column *c, int32_t *level, int32_t *nlev, cl_column **vals)
{
    int32_t nid, na;
    int rc = cl_frame_ops_dense_ids(c, level, &nid, &na);
    if (rc)
        return rc;
    int64_t *rep = cl_alloc(((size_t)nid + 1) * sizeof *rep);
    if (!rep)
        return CL_ENOMEM;
    for (int32_t k = 0; k < nid; k++)
        rep[k] = -1;
    for (int64_t i = 0; i < c->n; i++)
        if (level[i] != na && rep[level[i]] < 0)
            rep[level[i]] = i;
    /* compact out the missing id, then sort the representatives by value */
    int64_t m = 0;
    for (int32_t k = 0; k < nid; k++)
        if (k != na)
            rep[m++] = rep[k];
    cl_frame *tmp = NULL;
    cl_column *cv = NULL;
    int64_t *order = NULL;
    rc = cl_frame_column_take(&cv, c, rep, m);
    if (rc == CL_OK)
        rc = cl_frame_new(&tmp);
    if (rc == CL_OK)
        rc = cl_frame_set(tmp, "v", cv);
    static const char *const key[] = {"v"};
    if (rc == CL_OK)
        rc = cl_frame_ops_sort_index(tmp, key, NULL, 1, &order);
    if (rc == CL_OK)
        rc = cl_frame_column_take(vals, cv, order, m);
    if (rc == CL_OK) {
        /* dense id -> sorted position */
        int32_t *pos = cl_alloc(((size_t)nid + 1) * sizeof *pos);
        if (!pos) {
            rc = CL_ENOMEM;
        } else {
            int32_t *idmap = cl_alloc(((size_t)nid + 1) * sizeof *idmap);
            if (!idmap) {
                rc = CL_ENOMEM;
            } else {
                int32_t q = 0;
                for (int32_t k = 0; k < nid; k++)
                    idmap[k] = k == na ? -1 : q++; /* dense id -> compact index */
                for (int64_t s = 0; s < m; s++)
                    pos[order[s]] = (int32_t)s;    /* compact index -> sorted position */
                for (int64_t i = 0; i < c->n; i++)
                    level[i] = idmap[level[i]] < 0 ? -1 : pos[idmap[level[i]]];
                cl_alloc_free(idmap);
            }
            cl_alloc_free(pos);
        }
        *nlev = (int32_t)m;
    }
    cl_alloc_free(order);
    cl_frame_free(tmp);
    cl_frame_column_free(cv);
    cl_alloc_free(rep);
    return rc;
}

/* The key column of a crosstab with margins: a's sorted levels as labels, then "All". A
 * new dictionary, since interning "All" into a's own would change the caller's column; a
 * number's label is its %.15g text, like the count columns' names. */
static int margin_keys(cl_column **out, const cl_column *va)
{
    int rc = cl_frame_column_new_cat(out, va->n + 1, NULL);
    char buf[64];
    for (int64_t i = 0; rc == CL_OK && i <= va->n; i++) {
        const char *s = "All";
        if (i < va->n && va->type == CL_CAT) {
            s = va->dict->labels[va->codes[i]];
        } else if (i < va->n) {
            snprintf(buf, sizeof buf, "%.15g", va->num[i]);
            s = buf;
        }
        rc = cl_frame_dict_intern((*out)->dict, s, strlen(s), &(*out)->codes[i]);
    }
    if (rc) {
        cl_frame_column_free(*out);
        *out = NULL;
    }
    return rc;
}

static int crosstab(cl_frame **out, const cl_frame *f, const char *a, const char *b, int normalize,
                    int margins);

int cl_frame_group_crosstab(cl_frame **out, const cl_frame *f, const char *a, const char *b, int normalize)
{
    return crosstab(out, f, a, b, normalize, 0);
}

int cl_frame_group_crosstab_margins(cl_frame **out, const cl_frame *f, const char *a, const char *b,
                              int normalize)
{
    return crosstab(out, f, a, b, normalize, 1);
}

static int crosstab(cl_frame **out, const cl_frame *f, const char *a, const char *b, int normalize,
                    int margins)
{
    *out = NULL;
    int ja, jb;
    int rc = cl_frame_col(f, a, &ja);
    if (rc == CL_OK)
        rc = cl_frame_col(f, b, &jb);
    if (rc)
        return cl_error_wrap(rc, "crosstab");
    int64_t n = f->nrow;
    int32_t *la = cl_alloc((size_t)(n ? n : 1) * sizeof *la);
    int32_t *lb = cl_alloc((size_t)(n ? n : 1) * sizeof *lb);
    int32_t na = 0, nb = 0;
    cl_column *va = NULL, *vb = NULL;
    double *cnt = NULL, *rowsum = NULL, *colsum = NULL, total = 0;
    cl_frame *r = NULL;
    rc = la && lb ? CL_OK : CL_ENOMEM;
    if (rc == CL_OK)
        rc = cl_progress_step(NULL, "crosstab", 0, 0, NULL);
    if (rc == CL_OK)
        rc = levels(f->cols[ja], la, &na, &va);
    if (rc == CL_OK)
        rc = levels(f->cols[jb], lb, &nb, &vb);
    if (rc == CL_OK) {
        cnt = cl_alloc_calloc((size_t)na * (size_t)nb + 1, sizeof *cnt);
        if (!cnt)
            rc = CL_ENOMEM;
    }
    if (rc == CL_OK) {
        for (int64_t i = 0; i < n; i++)
            if (la[i] >= 0 && lb[i] >= 0)
                cnt[(size_t)la[i] * (size_t)nb + (size_t)lb[i]]++;
        /* margins come from the counts, before any normalisation */
        rowsum = cl_alloc_calloc((size_t)na + 1, sizeof *rowsum);
        colsum = cl_alloc_calloc((size_t)nb + 1, sizeof *colsum);
        if (!rowsum || !colsum)
            rc = CL_ENOMEM;
        for (int32_t x = 0; rc == CL_OK && x < na; x++)
            for (int32_t y = 0; y < nb; y++) {
                double v = cnt[(size_t)x * (size_t)nb + (size_t)y];
                rowsum[x] += v;
                colsum[y] += v;
                total += v;
            }
    }
    if (rc == CL_OK) {
        if (normalize == 1)
            for (int32_t x = 0; x < na; x++) {
                double s = 0;
                for (int32_t y = 0; y < nb; y++)
                    s += cnt[(size_t)x * (size_t)nb + (size_t)y];
                for (int32_t y = 0; y < nb && s > 0; y++)
                    cnt[(size_t)x * (size_t)nb + (size_t)y] /= s;
            }
        else if (normalize == 2)
            for (int32_t y = 0; y < nb; y++) {
                double s = 0;
                for (int32_t x = 0; x < na; x++)
                    s += cnt[(size_t)x * (size_t)nb + (size_t)y];
                for (int32_t x = 0; x < na && s > 0; x++)
                    cnt[(size_t)x * (size_t)nb + (size_t)y] /= s;
            }
        rc = cl_frame_new(&r);
    }
    /* margins (as pandas): an "All" row of column totals, except when rows are normalised
     * (then it holds b's overall shares) or columns are (then it would be all ones and is
     * left out); likewise an "All" column of row totals or a's overall shares */
    int mrow = margins && normalize != 2, mcol = margins && normalize != 1;
    if (rc == CL_OK && mrow) {
        cl_column *keys;
        rc = margin_keys(&keys, va);
        if (rc == CL_OK)
            rc = cl_frame_set(r, a, keys);
        cl_frame_column_free(keys);
    } else if (rc == CL_OK) {
        rc = cl_frame_set(r, a, va);
    }
    int32_t nrows = na + (mrow ? 1 : 0);
    int32_t ncols_out = nb + (mcol ? 1 : 0);
    for (int32_t y = 0; rc == CL_OK && y < ncols_out; y++) {
        /* na x nb cells and a name lookup per column: thousands of levels take seconds */
        if ((y & 63) == 0 && (rc = cl_progress_step(NULL, "crosstab", y, ncols_out, NULL)))
            break;
        char name[256];
        if (y == nb)
            snprintf(name, sizeof name, "All");
        else if (vb->type == CL_CAT)
            snprintf(name, sizeof name, "%s", vb->dict->labels[vb->codes[y]]);
        else
            snprintf(name, sizeof name, "%.15g", vb->num[y]);
        if (cl_frame_find(r, name) >= 0) /* a level named like column a */
            snprintf(name + strlen(name), sizeof name - strlen(name), "_%s", b);
        cl_column *c;
        rc = cl_frame_column_new_num(&c, CL_NUM, nrows);
        if (rc)
            break;
        for (int32_t x = 0; x < na; x++)
            c->num[x] = y < nb ? cnt[(size_t)x * (size_t)nb + (size_t)y]
                               : normalize == 2 ? rowsum[x] / total : rowsum[x];
        if (mrow)
            c->num[na] = y < nb ? (normalize == 1 ? colsum[y] / total : colsum[y]) : total;
        rc = cl_frame_set(r, name, c);
        cl_frame_column_free(c);
    }
    if (rc == CL_OK) {
        r->nrow = nrows;
        *out = r;
    } else {
        cl_frame_free(r);
    }
    cl_alloc_free(la);
    cl_alloc_free(lb);
    cl_alloc_free(cnt);
    cl_alloc_free(rowsum);
    cl_alloc_free(colsum);
    cl_frame_column_free(va);
    cl_frame_column_free(vb);
    return rc;
}
