/* frame_clean.c - dropna, fillna, ffill/bfill, drop_duplicates, sample. See frame_clean.h. */
#include "frame/frame_clean.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"
#include "frame/col.h"
#include "frame/frame_impl.h"

#include <math.h>
#include <string.h>

/* Column indices of the subset (every column when n == 0); *cols is cl_alloc'ed. */
static int subset_cols(const cl_frame *f, const char *const *subset, int n, const char *what,
                       int **cols, int *k)
{
    *cols = NULL;
    int m = n > 0 ? n : f->ncol;
    int *c = cl_alloc(sizeof *c * (size_t)(m ? m : 1));
    if (!c)
        return CL_ENOMEM;
    for (int j = 0; j < m; j++) {
        if (n <= 0) {
            c[j] = j;
            continue;
        }
        int rc = cl_frame_col(f, subset[j], &c[j]);
        if (rc) {
            cl_alloc_free(c);
            return cl_error_wrap(rc, "%s: subset", what);
        }
    }
    *cols = c;
    *k = m;
    return CL_OK;
}

int cl_frame_clean_dropna(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                    int how_all)
{
    *out = NULL;
    int *cols, k;
    int rc = subset_cols(f, subset, n, "dropna", &cols, &k);
    if (rc)
        return rc;
    int64_t *keep = cl_alloc(sizeof *keep * (size_t)(f->nrow ? f->nrow : 1)), nk = 0;
    if (!keep) {
        cl_alloc_free(cols);
        return CL_ENOMEM;
    }
    for (int64_t i = 0; i < f->nrow; i++) {
        int nna = 0;
        for (int j = 0; j < k; j++)
            nna += cl_frame_column_isna_at(f->cols[cols[j]], i);
        int drop = how_all ? k > 0 && nna == k : nna > 0;
        if (!drop)
            keep[nk++] = i;
    }
    rc = nk == f->nrow ? cl_frame_copy(out, f) : cl_frame_take(out, f, keep, nk);
    cl_alloc_free(keep);
    cl_alloc_free(cols);
    return rc;
}

int cl_frame_clean_fillna(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                    double num, const char *str)
{
    *out = NULL;
    int *cols, k;
    int rc = subset_cols(f, subset, n, "fillna", &cols, &k);
    if (rc)
        return rc;
    cl_frame *r = NULL;
    rc = cl_frame_copy(&r, f);
    for (int j = 0; rc == CL_OK && j < k; j++) {
        const cl_column *c = f->cols[cols[j]];
        cl_column *d = NULL;
        if (c->type == CL_CAT ? !str : isnan(num))
            continue;
        if (cl_col_count(c) == c->n)
            continue; /* nothing missing: share the column */
        rc = c->type == CL_CAT ? cl_col_fillna_str(&d, c, str) : cl_col_fillna_num(&d, c, num);
        if (rc == CL_OK) {
            rc = cl_frame_set(r, f->names[cols[j]], d);
            cl_frame_column_free(d);
        }
    }
    cl_alloc_free(cols);
    if (rc)
        cl_frame_free(r);
    else
        *out = r;
    return rc;
}

int cl_frame_clean_col_fill_forward(cl_column **out, const cl_column *c, int backward)
{
    *out = NULL;
    int rc = c->type == CL_CAT ? cl_frame_column_new_cat(out, c->n, c->dict)
                               : cl_frame_column_new_num(out, c->type, c->n);
    if (rc)
        return rc;
    int64_t last = -1;
    for (int64_t s = 0; s < c->n; s++) {
        int64_t i = backward ? c->n - 1 - s : s;
        if (!cl_frame_column_isna_at(c, i))
            last = i;
        if (c->type == CL_CAT)
            (*out)->codes[i] = last < 0 ? -1 : c->codes[last];
        else
            (*out)->num[i] = last < 0 ? NAN : c->num[last];
    }
    return CL_OK;
}

int cl_frame_clean_fill_forward(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                          int backward)
{
    *out = NULL;
    int *cols, k;
    int rc = subset_cols(f, subset, n, backward ? "bfill" : "ffill", &cols, &k);
    if (rc)
        return rc;
    cl_frame *r = NULL;
    rc = cl_frame_copy(&r, f);
    for (int j = 0; rc == CL_OK && j < k; j++) {
        const cl_column *c = f->cols[cols[j]];
        if (cl_col_count(c) == c->n)
            continue;
        cl_column *d;
        if ((rc = cl_frame_clean_col_fill_forward(&d, c, backward)) == CL_OK) {
            rc = cl_frame_set(r, f->names[cols[j]], d);
            cl_frame_column_free(d);
        }
    }
    cl_alloc_free(cols);
    if (rc)
        cl_frame_free(r);
    else
        *out = r;
    return rc;
}

int cl_frame_clean_duplicated(const cl_frame *f, const char *const *subset, int n, cl_keep keep,
                        uint8_t **dup)
{
    *dup = NULL;
    if ((unsigned)keep > CL_KEEP_NONE)
        return cl_error(CL_EINVAL, "drop_duplicates: keep must be first, last or none");
    int *cols, k;
    int rc = subset_cols(f, subset, n, "drop_duplicates", &cols, &k);
    if (rc)
        return rc;
    int64_t nr = f->nrow;
    int32_t *gid = cl_alloc(sizeof *gid * (size_t)(nr ? nr : 1)), ng = 0;
    uint8_t *d = cl_alloc_calloc((size_t)(nr ? nr : 1), 1);
    int64_t *cnt = NULL;
    rc = gid && d ? CL_OK : CL_ENOMEM;
    if (rc == CL_OK && k == 0) { /* no columns: every row is the same empty tuple */
        for (int64_t i = 0; i < nr; i++)
            gid[i] = 0;
        ng = nr > 0;
    } else if (rc == CL_OK) {
        rc = cl_frame_group_ids(f, cols, k, gid, &ng);
    }
    if (rc == CL_OK && !(cnt = cl_alloc_calloc((size_t)(ng ? ng : 1), sizeof *cnt)))
        rc = CL_ENOMEM;
    if (rc == CL_OK) {
        for (int64_t i = 0; i < nr; i++)
            cnt[gid[i]]++;
        if (keep == CL_KEEP_NONE) {
            for (int64_t i = 0; i < nr; i++)
                d[i] = cnt[gid[i]] > 1;
        } else {
            /* cnt now counts the occurrences still to come (first) or seen (last) */
            memset(cnt, 0, sizeof *cnt * (size_t)(ng ? ng : 1));
            for (int64_t s = 0; s < nr; s++) {
                int64_t i = keep == CL_KEEP_LAST ? nr - 1 - s : s;
                d[i] = cnt[gid[i]]++ > 0;
            }
        }
    }
    cl_alloc_free(cnt);
    cl_alloc_free(gid);
    cl_alloc_free(cols);
    if (rc)
        cl_alloc_free(d);
    else
        *dup = d;
    return rc;
}

int cl_frame_clean_drop_duplicates(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                             cl_keep keep)
{
    *out = NULL;
    uint8_t *d;
    int rc = cl_frame_clean_duplicated(f, subset, n, keep, &d);
    if (rc)
        return rc;
    int64_t *idx = cl_alloc(sizeof *idx * (size_t)(f->nrow ? f->nrow : 1)), k = 0;
    if (!idx) {
        cl_alloc_free(d);
        return CL_ENOMEM;
    }
    for (int64_t i = 0; i < f->nrow; i++)
        if (!d[i])
            idx[k++] = i;
    rc = k == f->nrow ? cl_frame_copy(out, f) : cl_frame_take(out, f, idx, k);
    cl_alloc_free(idx);
    cl_alloc_free(d);
    return rc;
}

int cl_frame_clean_sample_index(int64_t nrow, int64_t k, int replace, uint64_t seed, int64_t **idx)
{
    *idx = NULL;
    if (k < 0)
        return cl_error(CL_EINVAL, "sample: n must be >= 0, got %lld", (long long)k);
    if (!replace && k > nrow)
        return cl_error(CL_EINVAL, "sample: cannot take %lld rows of %lld without replacement "
                        "(replace = true draws with it)", (long long)k, (long long)nrow);
    if (replace && k > 0 && nrow == 0)
        return cl_error(CL_EINVAL, "sample: cannot draw rows from an empty frame");
    cl_rng g;
    cl_rng_seed(&g, seed);
    int64_t *v = cl_alloc(sizeof *v * (size_t)(replace ? (k ? k : 1) : (nrow ? nrow : 1)));
    if (!v)
        return CL_ENOMEM;
    if (replace) {
        for (int64_t i = 0; i < k; i++)
            v[i] = (int64_t)cl_rng_below(&g, (uint64_t)nrow);
    } else {
        for (int64_t i = 0; i < nrow; i++)
            v[i] = i;
        for (int64_t i = 0; i < k; i++) { /* partial Fisher-Yates: v[0..k) is the draw */
            int64_t j = i + (int64_t)cl_rng_below(&g, (uint64_t)(nrow - i));
            int64_t t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
    }
    *idx = v;
    return CL_OK;
}
