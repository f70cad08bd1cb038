/* col.c - vectorised column operations. See col.h. */
#include "frame/col.h"
#include "base/alloc.h"
#include "frame/textnum.h"
#include "base/error.h"
#include "frame/frame_impl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const ARITH_NAMES[] = {"+", "-", "*", "/", "^", "%"};

static int need_numeric(const cl_column *a, const char *what)
{
    if (a->type == CL_CAT)
        return cl_error(CL_EINVAL, "%s: expected a num or date column, got a cat column", what);
    return CL_OK;
}

static double arith(cl_arith op, double x, double y)
{
    switch (op) {
    case CL_ARITH_ADD: return x + y;
    case CL_ARITH_SUB: return x - y;
    case CL_ARITH_MUL: return x * y;
    case CL_ARITH_DIV: return x / y;
    case CL_ARITH_POW: return pow(x, y);
    case CL_ARITH_MOD: return y == 0 ? NAN : x - floor(x / y) * y; /* Lua's float modulo */
    }
    return NAN;
}

static cl_coltype arith_type(cl_arith op, cl_coltype a, cl_coltype b)
{
    if (op == CL_ARITH_SUB && a == CL_DATE && b == CL_DATE)
        return CL_NUM;
    if ((op == CL_ARITH_ADD || op == CL_ARITH_SUB) && (a == CL_DATE) != (b == CL_DATE))
        return CL_DATE;
    return CL_NUM;
}

int cl_col_arith(cl_column **out, cl_arith op, const cl_column *a, const cl_column *b)
{
    *out = NULL;
    int rc;
    if ((rc = need_numeric(a, ARITH_NAMES[op])) || (rc = need_numeric(b, ARITH_NAMES[op])))
        return rc;
    if (a->n != b->n)
        return cl_error(CL_EINVAL, "%s: columns of %lld and %lld rows", ARITH_NAMES[op],
                        (long long)a->n, (long long)b->n);
    if ((rc = cl_frame_column_new_num(out, arith_type(op, a->type, b->type), a->n)))
        return rc;
    double *r = (*out)->num;
    for (int64_t i = 0; i < a->n; i++)
        r[i] = arith(op, a->num[i], b->num[i]);
    return CL_OK;
}

int cl_col_arith_scalar(cl_column **out, cl_arith op, const cl_column *a, double s, int scalar_left)
{
    *out = NULL;
    int rc = need_numeric(a, ARITH_NAMES[op]);
    if (rc)
        return rc;
    cl_coltype t = a->type == CL_DATE && (op == CL_ARITH_ADD || (op == CL_ARITH_SUB && !scalar_left))
                       ? CL_DATE
                       : CL_NUM;
    if ((rc = cl_frame_column_new_num(out, t, a->n)))
        return rc;
    double *r = (*out)->num;
    if (scalar_left)
        for (int64_t i = 0; i < a->n; i++)
            r[i] = arith(op, s, a->num[i]);
    else if (op == CL_ARITH_MUL)
        for (int64_t i = 0; i < a->n; i++)
            r[i] = a->num[i] * s;
    else if (op == CL_ARITH_ADD)
        for (int64_t i = 0; i < a->n; i++)
            r[i] = a->num[i] + s;
    else
        for (int64_t i = 0; i < a->n; i++)
            r[i] = arith(op, a->num[i], s);
    return CL_OK;
}

static double cmp(cl_cmp op, double x, double y)
{
    switch (op) {
    case CL_CMP_LT: return x < y;
    case CL_CMP_LE: return x <= y;
    case CL_CMP_GT: return x > y;
    case CL_CMP_GE: return x >= y;
    case CL_CMP_EQ: return x == y;
    case CL_CMP_NE: return !isnan(x) && !isnan(y) && x != y;
    }
    return 0;
}

static double cmp_int(cl_cmp op, int c)
{
    switch (op) {
    case CL_CMP_LT: return c < 0;
    case CL_CMP_LE: return c <= 0;
    case CL_CMP_GT: return c > 0;
    case CL_CMP_GE: return c >= 0;
    case CL_CMP_EQ: return c == 0;
    case CL_CMP_NE: return c != 0;
    }
    return 0;
}

int cl_col_cmp(cl_column **out, cl_cmp op, const cl_column *a, const cl_column *b)
{
    *out = NULL;
    if (a->n != b->n)
        return cl_error(CL_EINVAL, "compare: columns of %lld and %lld rows", (long long)a->n,
                        (long long)b->n);
    if ((a->type == CL_CAT) != (b->type == CL_CAT))
        return cl_error(CL_EINVAL, "compare: cannot compare a %s column with a %s column",
                        cl_frame_coltype_name(a->type), cl_frame_coltype_name(b->type));
    int rc = cl_frame_column_new_num(out, CL_NUM, a->n);
    if (rc)
        return rc;
    double *r = (*out)->num;
    if (a->type != CL_CAT) {
        for (int64_t i = 0; i < a->n; i++)
            r[i] = cmp(op, a->num[i], b->num[i]);
        return CL_OK;
    }
    for (int64_t i = 0; i < a->n; i++) {
        int32_t x = a->codes[i], y = b->codes[i];
        if (x < 0 || y < 0)
            r[i] = 0;
        else if (a->dict == b->dict && (op == CL_CMP_EQ || op == CL_CMP_NE))
            r[i] = cmp_int(op, x == y ? 0 : 1);
        else
            r[i] = cmp_int(op, strcmp(a->dict->labels[x], b->dict->labels[y]));
    }
    return CL_OK;
}

int cl_col_cmp_scalar(cl_column **out, cl_cmp op, const cl_column *a, double s)
{
    *out = NULL;
    if (a->type == CL_CAT)
        return cl_error(CL_EINVAL, "compare: a cat column compares with strings, not numbers");
    int rc = cl_frame_column_new_num(out, CL_NUM, a->n);
    if (rc)
        return rc;
    double *r = (*out)->num;
    for (int64_t i = 0; i < a->n; i++)
        r[i] = cmp(op, a->num[i], s);
    return CL_OK;
}

int cl_col_cmp_str(cl_column **out, cl_cmp op, const cl_column *a, const char *s)
{
    *out = NULL;
    if (a->type != CL_CAT) {
        double v;
        if (a->type == CL_DATE && cl_textnum_parse_date(s, strlen(s), &v))
            return cl_col_cmp_scalar(out, op, a, v);
        return cl_error(CL_EINVAL, "compare: a %s column compares with %s, not strings",
                        cl_frame_coltype_name(a->type), a->type == CL_DATE ? "dates" : "numbers");
    }
    int rc = cl_frame_column_new_num(out, CL_NUM, a->n);
    if (rc)
        return rc;
    double *r = (*out)->num;
    /* one comparison per label, then a lookup per row */
    double *per = cl_alloc((size_t)(a->dict->n + 1) * sizeof *per);
    if (!per) {
        cl_frame_column_free(*out);
        *out = NULL;
        return CL_ENOMEM;
    }
    for (int32_t k = 0; k < a->dict->n; k++)
        per[k] = cmp_int(op, strcmp(a->dict->labels[k], s));
    for (int64_t i = 0; i < a->n; i++)
        r[i] = a->codes[i] < 0 ? 0 : per[a->codes[i]];
    cl_alloc_free(per);
    return CL_OK;
}

int cl_col_isin_str(cl_column **out, const cl_column *a, const char *const *set, int n)
{
    *out = NULL;
    if (a->type != CL_CAT)
        return cl_error(CL_EINVAL, "isin: strings given for a %s column", cl_frame_coltype_name(a->type));
    int rc = cl_frame_column_new_num(out, CL_NUM, a->n);
    if (rc)
        return rc;
    double *per = cl_alloc_calloc((size_t)a->dict->n + 1, sizeof *per);
    if (!per) {
        cl_frame_column_free(*out);
        *out = NULL;
        return CL_ENOMEM;
    }
    for (int k = 0; k < n; k++) {
        int32_t c = cl_frame_dict_find(a->dict, set[k], strlen(set[k]));
        if (c >= 0)
            per[c] = 1;
    }
    double *r = (*out)->num;
    for (int64_t i = 0; i < a->n; i++)
        r[i] = a->codes[i] < 0 ? 0 : per[a->codes[i]];
    cl_alloc_free(per);
    return CL_OK;
}

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return (a > b) - (a < b);
}

int cl_col_isin_num(cl_column **out, const cl_column *a, const double *set, int n)
{
    *out = NULL;
    if (a->type == CL_CAT)
        return cl_error(CL_EINVAL, "isin: numbers given for a cat column");
    double *s = cl_alloc((size_t)(n ? n : 1) * sizeof *s);
    if (!s)
        return CL_ENOMEM;
    memcpy(s, set, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    int rc = cl_frame_column_new_num(out, CL_NUM, a->n);
    if (rc == CL_OK) {
        double *r = (*out)->num;
        for (int64_t i = 0; i < a->n; i++)
            r[i] = !isnan(a->num[i]) &&
                   bsearch(&a->num[i], s, (size_t)n, sizeof *s, cmp_double) != NULL;
    }
    cl_alloc_free(s);
    return rc;
}

static int need_mask(const cl_column *a, const char *what)
{
    if (a->type != CL_NUM)
        return cl_error(CL_EINVAL, "%s: expected a mask (num column of 0/1), got a %s column",
                        what, cl_frame_coltype_name(a->type));
    return CL_OK;
}

static inline int truthy(double x)
{
    return x != 0 && !isnan(x);
}

static int mask2(cl_column **out, const cl_column *a, const cl_column *b, int is_and)
{
    *out = NULL;
    const char *what = is_and ? "and" : "or";
    int rc;
    if ((rc = need_mask(a, what)) || (rc = need_mask(b, what)))
        return rc;
    if (a->n != b->n)
        return cl_error(CL_EINVAL, "%s: masks of %lld and %lld rows", what, (long long)a->n,
                        (long long)b->n);
    if ((rc = cl_frame_column_new_num(out, CL_NUM, a->n)))
        return rc;
    double *r = (*out)->num;
    for (int64_t i = 0; i < a->n; i++)
        r[i] = is_and ? truthy(a->num[i]) && truthy(b->num[i])
                      : truthy(a->num[i]) || truthy(b->num[i]);
    return CL_OK;
}

int cl_col_mask_and(cl_column **out, const cl_column *a, const cl_column *b)
{
    return mask2(out, a, b, 1);
}

int cl_col_mask_or(cl_column **out, const cl_column *a, const cl_column *b)
{
    return mask2(out, a, b, 0);
}

int cl_col_mask_not(cl_column **out, const cl_column *a)
{
    *out = NULL;
    int rc = need_mask(a, "not");
    if (rc || (rc = cl_frame_column_new_num(out, CL_NUM, a->n)))
        return rc;
    for (int64_t i = 0; i < a->n; i++)
        (*out)->num[i] = !truthy(a->num[i]);
    return CL_OK;
}

int cl_col_isna(cl_column **out, const cl_column *a)
{
    int rc = cl_frame_column_new_num(out, CL_NUM, a->n);
    if (rc)
        return rc;
    for (int64_t i = 0; i < a->n; i++)
        (*out)->num[i] = cl_frame_column_isna_at(a, i);
    return CL_OK;
}

int cl_col_fillna_num(cl_column **out, const cl_column *a, double v)
{
    *out = NULL;
    if (a->type == CL_CAT)
        return cl_error(CL_EINVAL, "fillna: a cat column needs a string");
    int rc = cl_frame_column_new_num(out, a->type, a->n);
    if (rc)
        return rc;
    for (int64_t i = 0; i < a->n; i++)
        (*out)->num[i] = isnan(a->num[i]) ? v : a->num[i];
    return CL_OK;
}

int cl_col_fillna_str(cl_column **out, const cl_column *a, const char *v)
{
    *out = NULL;
    if (a->type != CL_CAT)
        return cl_error(CL_EINVAL, "fillna: a %s column needs a number", cl_frame_coltype_name(a->type));
    /* a new dictionary (the input's is shared and immutable) */
    cl_dict *d;
    int rc = cl_frame_dict_new(&d);
    for (int32_t k = 0; rc == CL_OK && k < a->dict->n; k++) {
        int32_t c;
        rc = cl_frame_dict_intern(d, a->dict->labels[k], a->dict->lens[k], &c);
    }
    int32_t fill = 0;
    if (rc == CL_OK)
        rc = cl_frame_dict_intern(d, v, strlen(v), &fill);
    if (rc == CL_OK)
        rc = cl_frame_column_new_cat(out, a->n, d);
    cl_frame_dict_free(d);
    if (rc)
        return rc;
    for (int64_t i = 0; i < a->n; i++)
        (*out)->codes[i] = a->codes[i] < 0 ? fill : a->codes[i];
    return CL_OK;
}

int64_t cl_col_count(const cl_column *a)
{
    int64_t k = 0;
    for (int64_t i = 0; i < a->n; i++)
        k += !cl_frame_column_isna_at(a, i);
    return k;
}

/* ---- reductions --------------------------------------------------------------------------- */

int cl_col_sum(const cl_column *a, double *v)
{
    int rc = need_numeric(a, "sum");
    if (rc)
        return rc;
    double s = 0;
    for (int64_t i = 0; i < a->n; i++)
        if (!isnan(a->num[i]))
            s += a->num[i];
    *v = s;
    return CL_OK;
}

int cl_col_mean(const cl_column *a, double *v)
{
    int rc = need_numeric(a, "mean");
    if (rc)
        return rc;
    double s = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < a->n; i++)
        if (!isnan(a->num[i]))
            s += a->num[i], k++;
    *v = k ? s / (double)k : NAN;
    return CL_OK;
}

int cl_col_std(const cl_column *a, double *v)
{
    double m;
    int rc = cl_col_mean(a, &m);
    if (rc)
        return rc;
    double s = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < a->n; i++)
        if (!isnan(a->num[i])) {
            double d = a->num[i] - m;
            s += d * d;
            k++;
        }
    *v = k > 1 ? sqrt(s / (double)(k - 1)) : NAN;
    return CL_OK;
}

static int minmax(const cl_column *a, double *v, int want_max)
{
    int rc = need_numeric(a, want_max ? "max" : "min");
    if (rc)
        return rc;
    double m = NAN;
    for (int64_t i = 0; i < a->n; i++) {
        double x = a->num[i];
        if (!isnan(x) && (isnan(m) || (want_max ? x > m : x < m)))
            m = x;
    }
    *v = m;
    return CL_OK;
}

int cl_col_min(const cl_column *a, double *v)
{
    return minmax(a, v, 0);
}

int cl_col_max(const cl_column *a, double *v)
{
    return minmax(a, v, 1);
}

int cl_col_quantile(const cl_column *a, double q, double *v)
{
    int rc = need_numeric(a, "quantile");
    if (rc)
        return rc;
    if (!(q >= 0 && q <= 1))
        return cl_error(CL_EINVAL, "quantile: q must be in [0, 1], got %g", q);
    double *s = cl_alloc((size_t)(a->n ? a->n : 1) * sizeof *s);
    if (!s)
        return CL_ENOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < a->n; i++)
        if (!isnan(a->num[i]))
            s[k++] = a->num[i];
    if (k == 0) {
        *v = NAN;
    } else {
        qsort(s, (size_t)k, sizeof *s, cmp_double);
        double pos = q * (double)(k - 1);
        int64_t lo = (int64_t)floor(pos);
        int64_t hi = lo + 1 < k ? lo + 1 : lo;
        double frac = pos - (double)lo;
        *v = frac == 0 ? s[lo] : s[lo] + (s[hi] - s[lo]) * frac;
    }
    cl_alloc_free(s);
    return CL_OK;
}

int cl_col_median(const cl_column *a, double *v)
{
    return cl_col_quantile(a, 0.5, v);
}

/* ---- distinct values ---------------------------------------------------------------------- */

/* Distinct values of a num column via a hash set of bit patterns (cl_dbits: -0.0 folded into
 * 0.0). */

int cl_col_unique(const cl_column *a, int32_t **codes, double **vals, int64_t *n)
{
    *codes = NULL;
    *vals = NULL;
    *n = 0;
    if (a->type == CL_CAT) {
        uint8_t *seen = cl_alloc_calloc((size_t)a->dict->n + 1, 1);
        int32_t *out = cl_alloc((size_t)a->dict->n * sizeof *out + sizeof *out);
        if (!seen || !out) {
            cl_alloc_free(seen);
            cl_alloc_free(out);
            return CL_ENOMEM;
        }
        int64_t k = 0;
        for (int64_t i = 0; i < a->n; i++) {
            int32_t c = a->codes[i];
            if (c >= 0 && !seen[c]) {
                seen[c] = 1;
                out[k++] = c;
            }
        }
        cl_alloc_free(seen);
        *codes = out;
        *n = k;
        return CL_OK;
    }
    size_t ns = 16;
    while (ns < (size_t)a->n * 2)
        ns *= 2;
    int64_t *slots = cl_alloc(ns * sizeof *slots);
    double *out = cl_alloc((size_t)(a->n ? a->n : 1) * sizeof *out);
    if (!slots || !out) {
        cl_alloc_free(slots);
        cl_alloc_free(out);
        return CL_ENOMEM;
    }
    memset(slots, 0xff, ns * sizeof *slots);
    int64_t k = 0;
    for (int64_t i = 0; i < a->n; i++) {
        double x = a->num[i];
        if (isnan(x))
            continue;
        uint64_t b = cl_dbits(x);
        size_t s = (size_t)cl_mix64(b) & (ns - 1);
        while (slots[s] >= 0 && cl_dbits(out[slots[s]]) != b)
            s = (s + 1) & (ns - 1);
        if (slots[s] < 0) {
            slots[s] = k;
            out[k++] = x == 0 ? 0 : x;
        }
    }
    cl_alloc_free(slots);
    *vals = out;
    *n = k;
    return CL_OK;
}

int cl_col_nunique(const cl_column *a, int64_t *n)
{
    int32_t *codes;
    double *vals;
    int rc = cl_col_unique(a, &codes, &vals, n);
    cl_alloc_free(codes);
    cl_alloc_free(vals);
    return rc;
}

typedef struct vc_item {
    int64_t count, first;
} vc_item;

static int cmp_vc(const void *x, const void *y)
{
    const vc_item *a = x, *b = y;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    return (a->first > b->first) - (a->first < b->first);
}

int cl_col_value_counts(cl_frame **out, const cl_column *a, const char *name)
{
    *out = NULL;
    int32_t *codes;
    double *vals;
    int64_t k;
    int rc = cl_col_unique(a, &codes, &vals, &k);
    if (rc)
        return rc;
    /* position of each distinct value in first-appearance order, then counts */
    vc_item *it = cl_alloc_calloc((size_t)(k ? k : 1), sizeof *it);
    int64_t *pos = NULL;
    if (!it) {
        rc = CL_ENOMEM;
        goto done;
    }
    if (a->type == CL_CAT) {
        pos = cl_alloc(((size_t)a->dict->n + 1) * sizeof *pos);
        if (!pos) {
            rc = CL_ENOMEM;
            goto done;
        }
        for (int64_t j = 0; j < k; j++)
            pos[codes[j]] = j;
        for (int64_t i = 0; i < a->n; i++)
            if (a->codes[i] >= 0)
                it[pos[a->codes[i]]].count++;
    } else {
        /* sort the distinct values with their positions, then binary search */
        size_t ns = 16;
        while (ns < (size_t)k * 2)
            ns *= 2;
        pos = cl_alloc(ns * sizeof *pos);
        if (!pos) {
            rc = CL_ENOMEM;
            goto done;
        }
        memset(pos, 0xff, ns * sizeof *pos);
        for (int64_t j = 0; j < k; j++) {
            size_t s = (size_t)cl_mix64(cl_dbits(vals[j])) & (ns - 1);
            while (pos[s] >= 0)
                s = (s + 1) & (ns - 1);
            pos[s] = j;
        }
        for (int64_t i = 0; i < a->n; i++) {
            double x = a->num[i];
            if (isnan(x))
                continue;
            uint64_t b = cl_dbits(x);
            size_t s = (size_t)cl_mix64(b) & (ns - 1);
            while (cl_dbits(vals[pos[s]]) != b)
                s = (s + 1) & (ns - 1);
            it[pos[s]].count++;
        }
    }
    for (int64_t j = 0; j < k; j++)
        it[j].first = j;
    qsort(it, (size_t)k, sizeof *it, cmp_vc);
    cl_column *vcol = NULL, *ccol = NULL;
    rc = a->type == CL_CAT ? cl_frame_column_new_cat(&vcol, k, a->dict)
                           : cl_frame_column_new_num(&vcol, a->type, k);
    if (rc == CL_OK)
        rc = cl_frame_column_new_num(&ccol, CL_NUM, k);
    if (rc == CL_OK) {
        for (int64_t j = 0; j < k; j++) {
            if (a->type == CL_CAT)
                vcol->codes[j] = codes[it[j].first];
            else
                vcol->num[j] = vals[it[j].first];
            ccol->num[j] = (double)it[j].count;
        }
        rc = cl_frame_new(out);
        if (rc == CL_OK)
            rc = cl_frame_set(*out, name && *name ? name : "value", vcol);
        if (rc == CL_OK)
            rc = cl_frame_set(*out, cl_frame_find(*out, "count") >= 0 ? "n" : "count", ccol);
        if (rc) {
            cl_frame_free(*out);
            *out = NULL;
        }
    }
    cl_frame_column_free(vcol);
    cl_frame_column_free(ccol);
done:
    cl_alloc_free(it);
    cl_alloc_free(pos);
    cl_alloc_free(codes);
    cl_alloc_free(vals);
    return rc;
}

int cl_col_value_shares(cl_frame **out, const cl_column *a, const char *name)
{
    *out = NULL;
    cl_frame *vc;
    int rc = cl_col_value_counts(&vc, a, name);
    if (rc)
        return rc;
    const cl_column *cnt = vc->cols[1];
    double total = 0;
    for (int64_t i = 0; i < cnt->n; i++)
        total += cnt->num[i];
    cl_column *share = NULL;
    rc = cl_frame_column_new_num(&share, CL_NUM, cnt->n);
    if (rc == CL_OK) {
        for (int64_t i = 0; i < cnt->n; i++)
            share->num[i] = cnt->num[i] / total; /* total > 0 whenever there is a row */
        rc = cl_frame_new(out);
    }
    if (rc == CL_OK)
        rc = cl_frame_set(*out, vc->names[0], vc->cols[0]);
    if (rc == CL_OK)
        rc = cl_frame_set(*out, strcmp(vc->names[0], "share") ? "share" : "p", share);
    if (rc && *out) {
        cl_frame_free(*out);
        *out = NULL;
    }
    cl_frame_column_free(share);
    cl_frame_free(vc);
    return rc;
}

/* ---- conversions -------------------------------------------------------------------------- */

int cl_col_astype(cl_column **out, const cl_column *a, cl_coltype to)
{
    *out = NULL;
    if (a->type == to) {
        *out = cl_frame_column_retain((cl_column *)a);
        return CL_OK;
    }
    int rc;
    if (to == CL_CAT) {
        if ((rc = cl_frame_column_new_cat(out, a->n, NULL)))
            return rc;
        char buf[64];
        for (int64_t i = 0; i < a->n; i++) {
            if (isnan(a->num[i])) {
                (*out)->codes[i] = -1;
                continue;
            }
            int len = a->type == CL_DATE ? cl_textnum_format_date(a->num[i], buf, sizeof buf)
                                         : cl_textnum_format_num(a->num[i], buf, sizeof buf);
            if ((rc = cl_frame_dict_intern((*out)->dict, buf, (size_t)len, &(*out)->codes[i]))) {
                cl_frame_column_free(*out);
                *out = NULL;
                return rc;
            }
        }
        return CL_OK;
    }
    if (a->type != CL_CAT) { /* num <-> date: same numbers, new tag */
        if ((rc = cl_frame_column_new_num(out, to, a->n)))
            return rc;
        memcpy((*out)->num, a->num, (size_t)a->n * sizeof(double));
        return CL_OK;
    }
    double *per = cl_alloc(((size_t)a->dict->n + 1) * sizeof *per);
    if (!per)
        return CL_ENOMEM;
    for (int32_t k = 0; k < a->dict->n; k++) {
        const char *s = a->dict->labels[k];
        int ok = to == CL_NUM ? cl_textnum_parse_num(s, a->dict->lens[k], &per[k])
                              : cl_textnum_parse_date(s, a->dict->lens[k], &per[k]);
        if (!ok) {
            cl_alloc_free(per);
            return cl_error(CL_EINVAL, "astype: label '%.60s' is not a %s", s,
                            to == CL_NUM ? "number" : "date (YYYY-MM-DD)");
        }
    }
    if ((rc = cl_frame_column_new_num(out, to, a->n)) == CL_OK)
        for (int64_t i = 0; i < a->n; i++)
            (*out)->num[i] = a->codes[i] < 0 ? NAN : per[a->codes[i]];
    cl_alloc_free(per);
    return rc;
}

int cl_col_map(cl_column **out, const cl_column *a, const char *const *from,
               const char *const *to_str, const double *to_num, int n)
{
    *out = NULL;
    if (a->type != CL_CAT)
        return cl_error(CL_EINVAL, "map: expected a cat column, got a %s column",
                        cl_frame_coltype_name(a->type));
    if ((to_str == NULL) == (to_num == NULL))
        return cl_error(CL_EINVAL, "map: the targets must be all strings or all numbers");
    int32_t *per = cl_alloc(((size_t)a->dict->n + 1) * sizeof *per);
    if (!per)
        return CL_ENOMEM;
    for (int32_t k = 0; k < a->dict->n; k++)
        per[k] = -1;
    for (int k = 0; k < n; k++) {
        int32_t c = cl_frame_dict_find(a->dict, from[k], strlen(from[k]));
        if (c >= 0)
            per[c] = k;
    }
    int rc;
    if (to_num) {
        if ((rc = cl_frame_column_new_num(out, CL_NUM, a->n)) == CL_OK)
            for (int64_t i = 0; i < a->n; i++) {
                int32_t c = a->codes[i];
                (*out)->num[i] = c < 0 || per[c] < 0 ? NAN : to_num[per[c]];
            }
    } else if ((rc = cl_frame_column_new_cat(out, a->n, NULL)) == CL_OK) {
        /* target codes per mapping entry, interned in mapping order */
        int32_t *tc = cl_alloc(((size_t)n + 1) * sizeof *tc);
        if (!tc)
            rc = CL_ENOMEM;
        for (int k = 0; rc == CL_OK && k < n; k++)
            rc = cl_frame_dict_intern((*out)->dict, to_str[k], strlen(to_str[k]), &tc[k]);
        if (rc == CL_OK)
            for (int64_t i = 0; i < a->n; i++) {
                int32_t c = a->codes[i];
                (*out)->codes[i] = c < 0 || per[c] < 0 ? -1 : tc[per[c]];
            }
        cl_alloc_free(tc);
        if (rc) {
            cl_frame_column_free(*out);
            *out = NULL;
        }
    }
    cl_alloc_free(per);
    return rc;
}
