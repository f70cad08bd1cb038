/* frame_reshape.c - pivot, pivot_table, melt. See frame_reshape.h. Built on group-by: the
 * cells are one group-by over (index..., columns), the rows one over index, the output
 * columns one over columns, all sorted the same way, so a merge walk places every cell. */
#include "frame/frame_reshape.h"

#include "base/alloc.h"
#include "base/error.h"
#include "frame/frame_clean.h"
#include "frame/col.h"
#include "frame/frame_impl.h"
#include "frame/textnum.h"
#include "tensor/tensor.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int same_cell(const cl_column *a, int64_t i, const cl_column *b, int64_t j)
{
    if (a->type == CL_CAT) {
        const char *x = cl_frame_column_label(a, i), *y = cl_frame_column_label(b, j);
        return (!x && !y) || (x && y && !strcmp(x, y));
    }
    double u = a->num[i], v = b->num[j];
    return (isnan(u) && isnan(v)) || u == v;
}

/* The name of an output column for value i of a key column. */
static void level_name(const cl_column *c, int64_t i, char *buf, size_t cap)
{
    if (c->type == CL_CAT)
        snprintf(buf, cap, "%s", cl_frame_column_label(c, i));
    else if (c->type == CL_DATE)
        cl_textnum_format_date(c->num[i], buf, cap);
    else if (c->num[i] == floor(c->num[i]) && fabs(c->num[i]) < 1e15)
        snprintf(buf, cap, "%.0f", c->num[i]);
    else
        cl_textnum_format_num(c->num[i], buf, cap);
}

/* Level (output column) of row i of the cells' columns key: through the code map for cat
 * keys, by binary search in the sorted levels otherwise (no missing values there). */
static int level_of(const cl_column *lc, const int32_t *lmap, const cl_column *cc, int64_t i,
                    int nlev)
{
    if (cc->type == CL_CAT)
        return lmap[cc->codes[i]];
    int lo = 0, hi = nlev - 1;
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (lc->num[mid] < cc->num[i])
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int cl_frame_reshape_pivot_table(cl_frame **out, const cl_frame *f, const char *const *index, int nidx,
                         const char *columns, const char *values, cl_agg_fn fn, double q,
                         double fill, int unique)
{
    *out = NULL;
    const char *what = unique ? "pivot" : "pivot_table";
    if (nidx < 1)
        return cl_error(CL_EINVAL, "%s: no index columns given", what);
    int j, rc;
    for (int k = 0; k < nidx; k++) {
        if ((rc = cl_frame_col(f, index[k], &j)))
            return cl_error_wrap(rc, "%s: index", what);
        if (!strcmp(index[k], columns))
            return cl_error(CL_EINVAL, "%s: '%s' is both an index and the columns key", what, columns);
    }
    if ((rc = cl_frame_col(f, columns, &j)))
        return cl_error_wrap(rc, "%s: columns", what);
    if ((rc = cl_frame_col(f, values, &j)))
        return cl_error_wrap(rc, "%s: values", what);
    const char **keys = cl_alloc(sizeof *keys * (size_t)(nidx + 1));
    if (!keys)
        return CL_ENOMEM;
    for (int k = 0; k < nidx; k++)
        keys[k] = index[k];
    keys[nidx] = columns;
    cl_frame *fk = NULL, *cells = NULL, *rows = NULL, *levels = NULL, *r = NULL;
    uint8_t *dup = NULL;
    cl_column **outc = NULL;
    int nlev = 0;
    /* rows with a missing key are left out (pandas' group-by drops them) */
    rc = cl_frame_clean_dropna(&fk, f, keys, nidx + 1, 0);
    if (rc == CL_OK && unique && (rc = cl_frame_clean_duplicated(fk, keys, nidx + 1, CL_KEEP_FIRST, &dup)) == CL_OK) {
        for (int64_t i = 0; i < fk->nrow; i++)
            if (dup[i]) {
                rc = cl_error(CL_EINVAL, "pivot: two rows fall in one cell (the %lld-th row "
                              "with a key repeats an earlier one's index and columns values): "
                              "use pivot_table with an aggregation", (long long)i + 1);
                break;
            }
    }
    cl_agg cell = {values, unique ? CL_AGG_FIRST : fn, "__value"};
    cl_agg size = {columns, CL_AGG_SIZE, "__size"};
    if (rc == CL_OK && (rc = cl_frame_group_by_q(&cells, fk, keys, nidx + 1, &cell, 1, &q)))
        rc = cl_error_wrap(rc, "%s", what);
    if (rc == CL_OK)
        rc = cl_frame_group_by(&rows, fk, keys, nidx, &size, 1);
    if (rc == CL_OK)
        rc = cl_frame_group_by(&levels, fk, keys + nidx, 1, &size, 1);
    if (rc == CL_OK) {
        nlev = (int)levels->nrow;
        if (levels->nrow > 100000)
            rc = cl_error(CL_EINVAL, "%s: '%s' has %lld distinct values: too many columns", what,
                          columns, (long long)levels->nrow);
    }
    const cl_column *cv = rc == CL_OK ? cells->cols[nidx + 1] : NULL;
    if (rc == CL_OK && !(outc = cl_alloc_calloc((size_t)(nlev ? nlev : 1), sizeof *outc)))
        rc = CL_ENOMEM;
    for (int l = 0; rc == CL_OK && l < nlev; l++) {
        rc = cv->type == CL_CAT ? cl_frame_column_new_cat(&outc[l], rows->nrow, cv->dict)
                                : cl_frame_column_new_num(&outc[l], cv->type, rows->nrow);
        for (int64_t i = 0; rc == CL_OK && i < rows->nrow; i++) {
            if (cv->type == CL_CAT)
                outc[l]->codes[i] = -1;
            else
                outc[l]->num[i] = NAN;
        }
    }
    int32_t *lmap = NULL; /* cat columns key: code -> level */
    if (rc == CL_OK && levels->cols[0]->type == CL_CAT) {
        const cl_column *lc = levels->cols[0], *cc = cells->cols[nidx];
        if (!(lmap = cl_alloc(sizeof *lmap * (size_t)(cc->dict->n + 1))))
            rc = CL_ENOMEM;
        for (int32_t c = 0; rc == CL_OK && c < cc->dict->n; c++)
            lmap[c] = -1;
        for (int l = 0; rc == CL_OK && l < nlev; l++) {
            int32_t code = lc->codes[l];
            int32_t c = cl_frame_dict_find(cc->dict, lc->dict->labels[code], lc->dict->lens[code]);
            if (c >= 0)
                lmap[c] = l;
        }
    }
    int64_t *rowcnt = NULL, *levcnt = NULL, *keeprows = NULL;
    if (rc == CL_OK) {
        size_t nr = (size_t)(rows->nrow ? rows->nrow : 1);
        rowcnt = cl_alloc_calloc(nr, sizeof *rowcnt);
        keeprows = cl_alloc(nr * sizeof *keeprows);
        levcnt = cl_alloc_calloc((size_t)(nlev ? nlev : 1), sizeof *levcnt);
        if (!rowcnt || !levcnt || !keeprows)
            rc = CL_ENOMEM;
    }
    if (rc == CL_OK) {
        /* cells, rows and levels are sorted alike: walk them together */
        int64_t row = 0;
        const cl_column *lc = levels->cols[0], *cc = cells->cols[nidx];
        for (int64_t i = 0; i < cells->nrow; i++) {
            int same = 1;
            for (int k = 0; k < nidx && same; k++)
                same = same_cell(cells->cols[k], i, rows->cols[k], row);
            if (!same)
                row++;
            int lo = level_of(lc, lmap, cc, i, nlev);
            CL_ASSERT(row < rows->nrow && lo >= 0 && lo < nlev);
            if (cl_frame_column_isna_at(cv, i))
                continue;
            if (cv->type == CL_CAT)
                outc[lo]->codes[row] = cv->codes[i];
            else
                outc[lo]->num[row] = cv->num[i];
            rowcnt[row]++;
            levcnt[lo]++;
        }
    }
    /* pandas drops the missing cells before spreading them (dropna=True), so a row or a
     * column without any value goes; then fill_value fills the empty cells */
    int64_t nkeep = 0;
    for (int64_t i = 0; rc == CL_OK && i < rows->nrow; i++)
        if (rowcnt[i])
            keeprows[nkeep++] = i;
    if (rc == CL_OK) {
        const char **keep = cl_alloc(sizeof *keep * (size_t)nidx);
        rc = keep ? CL_OK : CL_ENOMEM;
        for (int k = 0; rc == CL_OK && k < nidx; k++)
            keep[k] = index[k];
        cl_frame *sel = NULL;
        if (rc == CL_OK)
            rc = cl_frame_select(&sel, rows, keep, nidx);
        if (rc == CL_OK)
            rc = cl_frame_take(&r, sel, keeprows, nkeep);
        cl_frame_free(sel);
        cl_alloc_free(keep);
    }
    for (int l = 0; rc == CL_OK && l < nlev; l++) {
        if (levcnt[l] == 0)
            continue;
        char name[256];
        level_name(levels->cols[0], l, name, sizeof name);
        cl_column *c;
        if (cl_frame_find(r, name) >= 0) {
            rc = cl_error(CL_EINVAL, "%s: the value '%s' of '%s' clashes with an index column's "
                          "name", what, name, columns);
        } else if ((rc = cl_frame_column_take(&c, outc[l], keeprows, nkeep)) == CL_OK) {
            if (c->type == CL_NUM && !isnan(fill))
                for (int64_t i = 0; i < c->n; i++)
                    if (isnan(c->num[i]))
                        c->num[i] = fill;
            rc = cl_frame_set(r, name, c);
            cl_frame_column_free(c);
        }
    }
    if (rc == CL_OK)
        *out = r;
    else
        cl_frame_free(r);
    for (int l = 0; outc && l < nlev; l++)
        cl_frame_column_free(outc[l]);
    cl_alloc_free(outc);
    cl_alloc_free(lmap);
    cl_alloc_free(rowcnt);
    cl_alloc_free(levcnt);
    cl_alloc_free(keeprows);
    cl_alloc_free(dup);
    cl_alloc_free(keys);
    cl_frame_free(fk);
    cl_frame_free(cells);
    cl_frame_free(rows);
    cl_frame_free(levels);
    return rc;
}

int cl_frame_reshape_melt(cl_frame **out, const cl_frame *f, const char *const *id, int nid,
                  const char *const *vals, int nval, const char *var_name, const char *value_name)
{
    *out = NULL;
    if (!var_name)
        var_name = "variable";
    if (!value_name)
        value_name = "value";
    int rc, j;
    int *ij = cl_alloc(sizeof *ij * (size_t)(nid ? nid : 1));
    int *vj = cl_alloc(sizeof *vj * (size_t)(f->ncol ? f->ncol : 1));
    int nv = 0;
    rc = ij && vj ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < nid; k++)
        if ((rc = cl_frame_col(f, id[k], &ij[k])))
            rc = cl_error_wrap(rc, "melt: id");
    if (rc == CL_OK && nval > 0) {
        for (int k = 0; rc == CL_OK && k < nval; k++)
            if ((rc = cl_frame_col(f, vals[k], &j)) == CL_OK)
                vj[nv++] = j;
            else
                rc = cl_error_wrap(rc, "melt: value");
    } else if (rc == CL_OK) {
        for (j = 0; j < f->ncol; j++) {
            int is_id = 0;
            for (int k = 0; k < nid && !is_id; k++)
                is_id = ij[k] == j;
            if (!is_id)
                vj[nv++] = j;
        }
    }
    for (int k = 0; rc == CL_OK && k < nid; k++)
        if (!strcmp(f->names[ij[k]], var_name) || !strcmp(f->names[ij[k]], value_name))
            rc = cl_error(CL_EINVAL, "melt: the id column '%s' clashes with var_name or "
                          "value_name", f->names[ij[k]]);
    if (rc == CL_OK && !strcmp(var_name, value_name))
        rc = cl_error(CL_EINVAL, "melt: var_name and value_name are both '%s'", var_name);
    cl_coltype t = CL_NUM;
    for (int k = 0; rc == CL_OK && k < nv; k++) {
        cl_coltype u = f->cols[vj[k]]->type;
        if (k == 0)
            t = u;
        else if (u != t)
            rc = cl_error(CL_EINVAL, "melt: value columns must share one type: '%s' is %s, "
                          "'%s' is %s", f->names[vj[0]], cl_frame_coltype_name(t), f->names[vj[k]],
                          cl_frame_coltype_name(u));
    }
    int64_t n = f->nrow, m = n * nv;
    int64_t *idx = rc == CL_OK ? cl_alloc(sizeof *idx * (size_t)(m ? m : 1)) : NULL;
    cl_frame *r = NULL, *ids = NULL;
    cl_column *var = NULL, *val = NULL;
    if (rc == CL_OK && !idx)
        rc = CL_ENOMEM;
    if (rc == CL_OK) {
        for (int k = 0; k < nv; k++)
            for (int64_t i = 0; i < n; i++)
                idx[k * n + i] = i;
        rc = cl_frame_column_new_cat(&var, m, NULL);
    }
    for (int k = 0; rc == CL_OK && k < nv; k++) {
        int32_t code;
        const char *nm = f->names[vj[k]];
        if ((rc = cl_frame_dict_intern(var->dict, nm, strlen(nm), &code)))
            break;
        for (int64_t i = 0; i < n; i++)
            var->codes[k * n + i] = code;
    }
    if (rc == CL_OK)
        rc = t == CL_CAT ? cl_frame_column_new_cat(&val, m, NULL) : cl_frame_column_new_num(&val, t, m);
    for (int k = 0; rc == CL_OK && k < nv; k++) {
        const cl_column *c = f->cols[vj[k]];
        for (int64_t i = 0; rc == CL_OK && i < n; i++) {
            if (t != CL_CAT) {
                val->num[k * n + i] = c->num[i];
            } else if (c->codes[i] < 0) {
                val->codes[k * n + i] = -1;
            } else {
                int32_t code = c->codes[i];
                rc = cl_frame_dict_intern(val->dict, c->dict->labels[code], c->dict->lens[code],
                                    &val->codes[k * n + i]);
            }
        }
    }
    if (rc == CL_OK) {
        const char **idn = cl_alloc(sizeof *idn * (size_t)(nid ? nid : 1));
        rc = idn ? CL_OK : CL_ENOMEM;
        for (int k = 0; rc == CL_OK && k < nid; k++)
            idn[k] = f->names[ij[k]];
        if (rc == CL_OK)
            rc = cl_frame_select(&ids, f, idn, nid);
        cl_alloc_free(idn);
    }
    if (rc == CL_OK)
        rc = nid ? cl_frame_take(&r, ids, idx, m) : cl_frame_new(&r);
    if (rc == CL_OK)
        rc = cl_frame_set(r, var_name, var);
    if (rc == CL_OK)
        rc = cl_frame_set(r, value_name, val);
    if (rc == CL_OK)
        *out = r;
    else
        cl_frame_free(r);
    cl_frame_free(ids);
    cl_frame_column_free(var);
    cl_frame_column_free(val);
    cl_alloc_free(idx);
    cl_alloc_free(ij);
    cl_alloc_free(vj);
    return rc;
}

int cl_frame_reshape_to_tensor(cl_tensor **out, const cl_frame *f, const char *const *names, int k)
{
    *out = NULL;
    if (k < 1)
        return cl_error(CL_EINVAL, "to_tensor: no columns given");
    int *cj = cl_alloc(sizeof *cj * (size_t)k);
    if (!cj)
        return CL_ENOMEM;
    int rc = CL_OK;
    for (int j = 0; rc == CL_OK && j < k; j++) {
        if ((rc = cl_frame_col(f, names[j], &cj[j])))
            rc = cl_error_wrap(rc, "to_tensor");
        else if (f->cols[cj[j]]->type == CL_CAT)
            rc = cl_error(CL_EINVAL, "to_tensor: column '%s' is cat: encode it first (a "
                          "pipeline's one-hot, or :map / :astype(\"num\"))", names[j]);
    }
    cl_tensor *t = NULL;
    if (rc == CL_OK)
        rc = cl_tensor_new(&t, 2, f->nrow, k);
    if (rc == CL_OK) {
        for (int64_t i = 0; i < f->nrow; i++)
            for (int j = 0; j < k; j++)
                *cl_tensor_ptr(t, i, j) = (float)f->cols[cj[j]]->num[i];
        *out = t;
    }
    cl_alloc_free(cj);
    return rc;
}

int cl_frame_reshape_from_tensor(cl_frame **out, const cl_tensor *t, const char *const *names, int k)
{
    *out = NULL;
    int64_t n = t->shape[0], m = t->ndim == 1 ? 1 : t->shape[1];
    if (names && k != m)
        return cl_error(CL_EINVAL, "from_tensor: %d names for %lld columns", k, (long long)m);
    if (m > 1000000)
        return cl_error(CL_EINVAL, "from_tensor: too many columns (%lld)", (long long)m);
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int64_t j = 0; rc == CL_OK && j < m; j++) {
        cl_column *c;
        if ((rc = cl_frame_column_new_num(&c, CL_NUM, n)))
            break;
        for (int64_t i = 0; i < n; i++)
            c->num[i] = *cl_tensor_ptr(t, i, t->ndim == 1 ? 0 : j);
        char name[32];
        if (!names)
            snprintf(name, sizeof name, "x%lld", (long long)j + 1);
        if (cl_frame_find(r, names ? names[j] : name) >= 0)
            rc = cl_error(CL_EINVAL, "from_tensor: column name '%s' given twice", names[j]);
        else
            rc = cl_frame_set(r, names ? names[j] : name, c);
        cl_frame_column_free(c);
    }
    if (rc == CL_OK && m > 0)
        r->nrow = n;
    if (rc)
        cl_frame_free(r);
    else
        *out = r;
    return rc;
}
