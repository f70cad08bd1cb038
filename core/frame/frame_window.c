/* frame_window.c - cumulative sums, shifts, differences, ranks and rolling windows, within
 * groups. See frame_window.h. */
#include "frame/frame_window.h"

#include "base/alloc.h"
#include "base/error.h"
#include "frame/frame_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cl_frame_window_groups(const cl_frame *f, const char *const *keys, int nkeys, int32_t **gid,
                    int32_t *ng)
{
    *gid = NULL;
    *ng = 0;
    if (nkeys < 1)
        return cl_error(CL_EINVAL, "groupby: no key columns given");
    int *kj = cl_alloc(sizeof *kj * (size_t)nkeys);
    int32_t *g = cl_alloc((size_t)(f->nrow ? f->nrow : 1) * sizeof *g);
    int rc = kj && g ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < nkeys; k++)
        if ((rc = cl_frame_col(f, keys[k], &kj[k])))
            rc = cl_error_wrap(rc, "groupby");
    if (rc == CL_OK)
        rc = cl_frame_group_ids(f, kj, nkeys, g, ng);
    cl_alloc_free(kj);
    if (rc) {
        cl_alloc_free(g);
        return rc;
    }
    *gid = g;
    return CL_OK;
}

/* The rows of each group in row order (CSR): rows[start[g] .. start[g + 1]). */
typedef struct groups {
    int64_t *start, *rows;
    int32_t ng;
} groups;

static int groups_make(groups *G, int64_t n, const int32_t *gid, int32_t ng)
{
    if (!gid)
        ng = 1;
    G->ng = ng;
    G->start = cl_alloc_calloc((size_t)ng + 2, sizeof *G->start);
    G->rows = cl_alloc((size_t)(n ? n : 1) * sizeof *G->rows);
    if (!G->start || !G->rows) {
        cl_alloc_free(G->start);
        cl_alloc_free(G->rows);
        return CL_ENOMEM;
    }
    if (!gid) {
        G->start[1] = n;
        for (int64_t i = 0; i < n; i++)
            G->rows[i] = i;
        return CL_OK;
    }
    for (int64_t i = 0; i < n; i++) {
        if (gid[i] < 0 || gid[i] >= ng) {
            cl_alloc_free(G->start);
            cl_alloc_free(G->rows);
            return cl_error(CL_EINVAL, "group id %d of row %lld outside 0..%d", (int)gid[i],
                            (long long)i + 1, (int)ng - 1);
        }
        G->start[gid[i] + 2]++;
    }
    for (int32_t g = 0; g < ng; g++)
        G->start[g + 2] += G->start[g + 1];
    for (int64_t i = 0; i < n; i++)
        G->rows[G->start[gid[i] + 1]++] = i;
    return CL_OK;
}

static void groups_free(groups *G)
{
    cl_alloc_free(G->start);
    cl_alloc_free(G->rows);
}

static int need_num(const cl_column *c, const char *what)
{
    if (c->type == CL_CAT)
        return cl_error(CL_EINVAL, "%s: needs a num or date column, got a cat column", what);
    return CL_OK;
}

int cl_frame_window_col_cumsum(cl_column **out, const cl_column *c, const int32_t *gid, int32_t ng)
{
    *out = NULL;
    int rc = need_num(c, "cumsum");
    groups G;
    if (rc || (rc = groups_make(&G, c->n, gid, ng)))
        return rc;
    if ((rc = cl_frame_column_new_num(out, CL_NUM, c->n)) == CL_OK)
        for (int32_t g = 0; g < G.ng; g++) {
            double s = 0;
            for (int64_t p = G.start[g]; p < G.start[g + 1]; p++) {
                int64_t i = G.rows[p];
                double x = c->num[i];
                if (isnan(x)) {
                    (*out)->num[i] = NAN;
                } else {
                    s += x;
                    (*out)->num[i] = s;
                }
            }
        }
    groups_free(&G);
    return rc;
}

int cl_frame_window_col_shift(cl_column **out, const cl_column *c, int64_t k, const int32_t *gid, int32_t ng)
{
    *out = NULL;
    groups G;
    int rc = groups_make(&G, c->n, gid, ng);
    if (rc)
        return rc;
    rc = c->type == CL_CAT ? cl_frame_column_new_cat(out, c->n, c->dict) : cl_frame_column_new_num(out, c->type, c->n);
    for (int32_t g = 0; rc == CL_OK && g < G.ng; g++) {
        int64_t s = G.start[g], m = G.start[g + 1] - s;
        for (int64_t p = 0; p < m; p++) {
            int64_t i = G.rows[s + p], q = p - k;
            int ok = q >= 0 && q < m;
            if (c->type == CL_CAT)
                (*out)->codes[i] = ok ? c->codes[G.rows[s + q]] : -1;
            else
                (*out)->num[i] = ok ? c->num[G.rows[s + q]] : NAN;
        }
    }
    groups_free(&G);
    return rc;
}

int cl_frame_window_col_diff(cl_column **out, const cl_column *c, int64_t k, const int32_t *gid, int32_t ng)
{
    *out = NULL;
    int rc = need_num(c, "diff");
    groups G;
    if (rc || (rc = groups_make(&G, c->n, gid, ng)))
        return rc;
    if ((rc = cl_frame_column_new_num(out, CL_NUM, c->n)) == CL_OK)
        for (int32_t g = 0; g < G.ng; g++) {
            int64_t s = G.start[g], m = G.start[g + 1] - s;
            for (int64_t p = 0; p < m; p++) {
                int64_t i = G.rows[s + p], q = p - k;
                (*out)->num[i] = q >= 0 && q < m ? c->num[i] - c->num[G.rows[s + q]] : NAN;
            }
        }
    groups_free(&G);
    return rc;
}

static const char *const RANK[] = {"average", "min", "max", "first", "dense"};

int cl_frame_window_rank_parse(const char *s, cl_rank_method *m)
{
    for (int k = 0; k < 5; k++)
        if (!strcmp(s, RANK[k])) {
            *m = (cl_rank_method)k;
            return CL_OK;
        }
    return cl_error(CL_EINVAL, "rank: unknown method '%s' (expected average, min, max, first "
                    "or dense)", s);
}

/* Sort keys for rank: value (double; cat labels by their bytewise rank), then row. */
typedef struct rkey {
    double v;
    int64_t row;
} rkey;

static int rkey_cmp(const void *a, const void *b)
{
    const rkey *x = a, *y = b;
    if (x->v != y->v)
        return x->v < y->v ? -1 : 1;
    return (x->row > y->row) - (x->row < y->row);
}

int cl_frame_window_col_rank(cl_column **out, const cl_column *c, cl_rank_method m, int desc,
                const int32_t *gid, int32_t ng)
{
    *out = NULL;
    groups G;
    int32_t *lrank = NULL;
    rkey *buf = NULL;
    int rc = groups_make(&G, c->n, gid, ng);
    if (rc)
        return rc;
    if (c->type == CL_CAT)
        rc = cl_frame_ops_dict_ranks(c->dict, &lrank);
    if (rc == CL_OK && !(buf = cl_alloc((size_t)(c->n ? c->n : 1) * sizeof *buf)))
        rc = CL_ENOMEM;
    if (rc == CL_OK)
        rc = cl_frame_column_new_num(out, CL_NUM, c->n);
    for (int32_t g = 0; rc == CL_OK && g < G.ng; g++) {
        int64_t k = 0;
        for (int64_t p = G.start[g]; p < G.start[g + 1]; p++) {
            int64_t i = G.rows[p];
            double v;
            if (c->type == CL_CAT)
                v = c->codes[i] < 0 ? NAN : (double)lrank[c->codes[i]];
            else
                v = c->num[i];
            if (isnan(v)) {
                (*out)->num[i] = NAN;
                continue;
            }
            buf[k].v = desc ? -v : v; /* -0.0 == 0.0: ties stay ties */
            buf[k++].row = i;
        }
        qsort(buf, (size_t)k, sizeof *buf, rkey_cmp);
        double dense = 0;
        for (int64_t a = 0; a < k;) {
            int64_t b = a + 1;
            while (b < k && buf[b].v == buf[a].v)
                b++;
            dense += 1;
            for (int64_t q = a; q < b; q++) {
                double r;
                switch (m) {
                case CL_RANK_MIN: r = (double)a + 1; break;
                case CL_RANK_MAX: r = (double)b; break;
                case CL_RANK_FIRST: r = (double)q + 1; break;
                case CL_RANK_DENSE: r = dense; break;
                default: r = ((double)a + 1 + (double)b) / 2; break;
                }
                (*out)->num[buf[q].row] = r;
            }
            a = b;
        }
    }
    if (rc && *out) {
        cl_frame_column_free(*out);
        *out = NULL;
    }
    cl_alloc_free(lrank);
    cl_alloc_free(buf);
    groups_free(&G);
    return rc;
}

static const char *const WIN[] = {"sum", "mean", "min", "max", "std", "count", "median"};

int cl_frame_window_win_parse(const char *s, cl_win_fn *fn)
{
    for (int k = 0; k < 7; k++)
        if (!strcmp(s, WIN[k])) {
            *fn = (cl_win_fn)k;
            return CL_OK;
        }
    return cl_error(CL_EINVAL, "rolling: unknown function '%s' (expected sum, mean, min, max, "
                    "std, count or median)", s);
}

static int dcmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cl_frame_window_col_rolling(cl_column **out, const cl_column *c, int64_t window, int64_t min_periods,
                   cl_win_fn fn, const int32_t *gid, int32_t ng)
{
    *out = NULL;
    if (window < 1)
        return cl_error(CL_EINVAL, "rolling: window must be >= 1, got %lld", (long long)window);
    if (min_periods < 0 || min_periods > window)
        return cl_error(CL_EINVAL, "rolling: min_periods must be in 0..window (%lld), got %lld",
                        (long long)window, (long long)min_periods);
    int rc = need_num(c, "rolling");
    if (rc)
        return rc;
    if (window > c->n)
        window = c->n ? c->n : 1; /* no window holds more rows than the column */
    groups G;
    double *w = NULL;
    if ((rc = groups_make(&G, c->n, gid, ng)))
        return rc;
    if (fn == CL_WIN_MEDIAN && !(w = cl_alloc((size_t)window * sizeof *w)))
        rc = CL_ENOMEM;
    if (rc == CL_OK)
        rc = cl_frame_column_new_num(out, CL_NUM, c->n);
    for (int32_t g = 0; rc == CL_OK && g < G.ng; g++) {
        int64_t s = G.start[g], m = G.start[g + 1] - s;
        for (int64_t p = 0; p < m; p++) {
            int64_t lo = p - window + 1 < 0 ? 0 : p - window + 1, cnt = 0;
            double sum = 0, mn = INFINITY, mx = -INFINITY;
            for (int64_t q = lo; q <= p; q++) {
                double x = c->num[G.rows[s + q]];
                if (isnan(x))
                    continue;
                if (w)
                    w[cnt] = x;
                cnt++;
                sum += x;
                mn = x < mn ? x : mn;
                mx = x > mx ? x : mx;
            }
            double r = NAN;
            if (fn == CL_WIN_COUNT ? p - lo + 1 >= min_periods : cnt >= min_periods && (cnt > 0 || fn == CL_WIN_SUM)) {
                switch (fn) {
                case CL_WIN_SUM: r = sum; break;
                case CL_WIN_MEAN: r = sum / (double)cnt; break;
                case CL_WIN_MIN: r = mn; break;
                case CL_WIN_MAX: r = mx; break;
                case CL_WIN_COUNT: r = (double)cnt; break;
                case CL_WIN_MEDIAN:
                    qsort(w, (size_t)cnt, sizeof *w, dcmp);
                    r = cnt % 2 ? w[cnt / 2] : (w[cnt / 2 - 1] + w[cnt / 2]) / 2;
                    break;
                case CL_WIN_STD: {
                    if (cnt < 2)
                        break;
                    double mean = sum / (double)cnt, ss = 0;
                    for (int64_t q = lo; q <= p; q++) {
                        double x = c->num[G.rows[s + q]];
                        if (!isnan(x))
                            ss += (x - mean) * (x - mean);
                    }
                    r = sqrt(ss / (double)(cnt - 1));
                    break;
                }
                }
            }
            (*out)->num[G.rows[s + p]] = r;
        }
    }
    if (rc && *out) {
        cl_frame_column_free(*out);
        *out = NULL;
    }
    cl_alloc_free(w);
    groups_free(&G);
    return rc;
}
