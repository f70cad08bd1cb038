/* frame_stats.c - cut, qcut, corr. See frame_stats.h. Label and edge rules follow pandas 1.5
 * (pandas/core/reshape/tile.py: _round_frac, _infer_precision, _format_labels), reimplemented
 * from their documented behaviour. */
#include "frame/frame_stats.h"

#include "base/alloc.h"
#include "base/error.h"
#include "frame/col.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cl_frame_stats_cut_opts_default(cl_cut_opts *o)
{
    memset(o, 0, sizeof *o);
    o->right = 1;
    o->precision = 3;
}

static int check_num(const cl_column *c, const char *what)
{
    if (c->type != CL_NUM)
        return cl_error(CL_EINVAL, "%s: needs a num column, got %s", what, cl_frame_coltype_name(c->type));
    return CL_OK;
}

int cl_frame_stats_cut_edges(const cl_column *c, int k, int right, double **edges)
{
    *edges = NULL;
    int rc = check_num(c, "cut");
    if (rc)
        return rc;
    if (k < 1)
        return cl_error(CL_EINVAL, "cut: the number of bins must be >= 1, got %d", k);
    double mn = INFINITY, mx = -INFINITY;
    for (int64_t i = 0; i < c->n; i++)
        if (!isnan(c->num[i])) {
            mn = c->num[i] < mn ? c->num[i] : mn;
            mx = c->num[i] > mx ? c->num[i] : mx;
        }
    if (mn > mx)
        return cl_error(CL_EINVAL, "cut: no values to take the range of (every value is missing)");
    if (isinf(mn) || isinf(mx))
        return cl_error(CL_EINVAL, "cut: cannot make equal-width bins over an infinite range");
    double *e = cl_alloc(sizeof *e * (size_t)(k + 1));
    if (!e)
        return CL_ENOMEM;
    int constant = mn == mx;
    if (constant) {
        double d = mn != 0 ? 0.001 * fabs(mn) : 0.001;
        mn -= d;
        mx += d;
    }
    /* numpy's linspace: start + i * step, the last edge exactly stop */
    double step = (mx - mn) / k;
    for (int i = 0; i <= k; i++)
        e[i] = mn + i * step;
    e[k] = mx;
    if (!constant) { /* widen the outer edge so the extreme value falls inside */
        double adj = (mx - mn) * 0.001;
        if (right)
            e[0] -= adj;
        else
            e[k] += adj;
    }
    *edges = e;
    return CL_OK;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int cl_frame_stats_qcut_edges(const cl_column *c, int q, double **edges)
{
    *edges = NULL;
    int rc = check_num(c, "qcut");
    if (rc)
        return rc;
    if (q < 1)
        return cl_error(CL_EINVAL, "qcut: the number of quantiles must be >= 1, got %d", q);
    int64_t m = 0;
    double *v = cl_alloc(sizeof *v * (size_t)(c->n ? c->n : 1));
    double *e = cl_alloc(sizeof *e * (size_t)(q + 1));
    if (!v || !e) {
        cl_alloc_free(v);
        cl_alloc_free(e);
        return CL_ENOMEM;
    }
    for (int64_t i = 0; i < c->n; i++)
        if (!isnan(c->num[i]))
            v[m++] = c->num[i];
    if (m == 0) {
        cl_alloc_free(v);
        cl_alloc_free(e);
        return cl_error(CL_EINVAL, "qcut: no values to take quantiles of (every value is missing)");
    }
    qsort(v, (size_t)m, sizeof *v, cmp_dbl);
    for (int i = 0; i <= q; i++) {
        /* numpy's linear quantile: position (m - 1) * p between the sorted values */
        double p = (double)i / q, pos = (double)(m - 1) * p;
        int64_t lo = (int64_t)floor(pos);
        double fr = pos - (double)lo;
        e[i] = lo + 1 < m ? v[lo] + (v[lo + 1] - v[lo]) * fr : v[lo];
    }
    cl_alloc_free(v);
    for (int i = 1; i <= q; i++)
        if (!(e[i] > e[i - 1])) {
            double x = e[i];
            cl_alloc_free(e);
            return cl_error(CL_EINVAL, "qcut: bin edges must be unique: the quantiles %d/%d and "
                            "%d/%d are both %g (fewer quantiles, or cut)", i - 1, q, i, q, x);
        }
    *edges = e;
    return CL_OK;
}

/* numpy's around(x, d): round half to even at d decimals. */
static double np_around(double x, int d)
{
    if (d >= 0) {
        double p = pow(10.0, d);
        return rint(x * p) / p;
    }
    double p = pow(10.0, -d);
    return rint(x / p) * p;
}

/* pandas' _round_frac: round to `precision` digits after the point, or, below 1 in
 * magnitude, to `precision` significant digits. */
static double round_frac(double x, int precision)
{
    if (!isfinite(x) || x == 0)
        return x;
    double whole;
    double frac = modf(x, &whole);
    int digits = whole == 0 ? -(int)floor(log10(fabs(frac))) - 1 + precision : precision;
    return np_around(x, digits);
}

/* Python's repr of a float: the shortest text that reads back, "1.0" for integral values,
 * exponent form below 1e-4 or from 1e16 on ("1e-05", "1e+16"). */
static void pyrepr(double v, char *buf, size_t cap)
{
    if (isinf(v)) {
        snprintf(buf, cap, v > 0 ? "inf" : "-inf");
        return;
    }
    char e[40];
    int p;
    for (p = 1; p <= 17; p++) {
        snprintf(e, sizeof e, "%.*e", p - 1, v);
        if (strtod(e, NULL) == v)
            break;
    }
    /* e = [-]d[.ddd]e[+-]XX */
    const char *s = e;
    int neg = *s == '-';
    if (neg)
        s++;
    char dig[24];
    int nd = 0;
    for (; *s && *s != 'e'; s++)
        if (*s != '.')
            dig[nd++] = *s;
    int ex = atoi(s + 1);
    while (nd > 1 && dig[nd - 1] == '0')
        nd--;
    dig[nd] = 0;
    char out[64];
    int o = 0;
    if (neg)
        out[o++] = '-';
    if (ex < -4 || ex >= 16) {
        out[o++] = dig[0];
        if (nd > 1) {
            out[o++] = '.';
            for (int i = 1; i < nd; i++)
                out[o++] = dig[i];
        }
        o += snprintf(out + o, sizeof out - (size_t)o, "e%c%02d", ex < 0 ? '-' : '+', abs(ex));
    } else if (ex < 0) {
        out[o++] = '0';
        out[o++] = '.';
        for (int i = 0; i < -ex - 1; i++)
            out[o++] = '0';
        for (int i = 0; i < nd; i++)
            out[o++] = dig[i];
    } else {
        for (int i = 0; i <= ex; i++)
            out[o++] = i < nd ? dig[i] : '0';
        out[o++] = '.';
        if (nd > ex + 1)
            for (int i = ex + 1; i < nd; i++)
                out[o++] = dig[i];
        else
            out[o++] = '0';
    }
    out[o] = 0;
    snprintf(buf, cap, "%s", out);
}

/* Labels of the bins, as pandas' _format_labels: the smallest precision >= o->precision at
 * which the rounded edges stay distinct; with right and include_lowest the first edge is
 * lowered by 10^-precision. */
static int make_labels(cl_dict *d, const double *edges, int ne, const cl_cut_opts *o)
{
    int prec = o->precision;
    double *b = cl_alloc(sizeof *b * (size_t)ne);
    if (!b)
        return CL_ENOMEM;
    int found = 0;
    for (int p = o->precision; p < 20 && !found; p++) {
        found = 1;
        for (int i = 0; i < ne; i++)
            b[i] = o->int_edges ? edges[i] : round_frac(edges[i], p);
        for (int i = 0; i < ne && found; i++)
            for (int j = 0; j < i && found; j++)
                found = b[i] != b[j];
        if (found)
            prec = p;
    }
    for (int i = 0; i < ne; i++)
        b[i] = o->int_edges ? edges[i] : round_frac(edges[i], prec);
    int ints = o->int_edges;
    if (o->right && o->include_lowest) {
        b[0] -= pow(10.0, -prec);
        ints = 0; /* the lowered edge makes the breaks floats, as in pandas */
    }
    int rc = CL_OK;
    for (int i = 0; rc == CL_OK && i + 1 < ne; i++) {
        char l[64], r[64], lab[140];
        if (ints) {
            snprintf(l, sizeof l, "%.0f", b[i]);
            snprintf(r, sizeof r, "%.0f", b[i + 1]);
        } else {
            pyrepr(b[i], l, sizeof l);
            pyrepr(b[i + 1], r, sizeof r);
        }
        int n = snprintf(lab, sizeof lab, o->right ? "(%s, %s]" : "[%s, %s)", l, r);
        int32_t code;
        rc = cl_frame_dict_intern(d, lab, (size_t)n, &code);
    }
    cl_alloc_free(b);
    return rc;
}

int cl_frame_stats_col_cut(cl_column **out, const cl_column *c, const double *edges, int nedges,
               const cl_cut_opts *o)
{
    *out = NULL;
    int rc = check_num(c, "cut");
    if (rc)
        return rc;
    if (nedges < 2)
        return cl_error(CL_EINVAL, "cut: needs at least 2 bin edges, got %d", nedges);
    for (int i = 0; i < nedges; i++) {
        if (isnan(edges[i]))
            return cl_error(CL_EINVAL, "cut: bin edge %d is missing", i + 1);
        if (i && !(edges[i] > edges[i - 1]))
            return cl_error(CL_EINVAL, "cut: bin edges must increase, but edge %d (%g) follows "
                            "%g", i + 1, edges[i], edges[i - 1]);
    }
    int nb = nedges - 1;
    if (o->labels && o->codes)
        return cl_error(CL_EINVAL, "cut: give labels or codes, not both");
    if (o->codes) {
        rc = cl_frame_column_new_num(out, CL_NUM, c->n);
    } else {
        cl_dict *d;
        if ((rc = cl_frame_dict_new(&d)))
            return rc;
        if (o->labels) {
            for (int i = 0; rc == CL_OK && i < nb; i++) {
                int32_t code;
                rc = cl_frame_dict_intern(d, o->labels[i], strlen(o->labels[i]), &code);
                if (rc == CL_OK && code != i)
                    rc = cl_error(CL_EINVAL, "cut: label '%s' given twice", o->labels[i]);
            }
        } else {
            rc = make_labels(d, edges, nedges, o);
        }
        if (rc == CL_OK)
            rc = cl_frame_column_new_cat(out, c->n, d);
        cl_frame_dict_free(d);
    }
    if (rc)
        return rc;
    for (int64_t i = 0; i < c->n; i++) {
        double x = c->num[i];
        int bin = -1;
        if (!isnan(x)) {
            /* the first edge e with x <= e (right) or x < e (left): bin = that index - 1 */
            int lo = 0, hi = nedges;
            while (lo < hi) {
                int mid = (lo + hi) / 2;
                if (o->right ? edges[mid] < x : edges[mid] <= x)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            bin = lo - 1;
            if (o->include_lowest && x == edges[0])
                bin = 0;
            if (bin >= nb)
                bin = -1;
        }
        if (o->codes)
            (*out)->num[i] = bin < 0 ? NAN : bin;
        else
            (*out)->codes[i] = bin;
    }
    return CL_OK;
}

/* ---- corr ----------------------------------------------------------------------------------- */

typedef struct vi {
    double v;
    int64_t i;
} vi;

static int cmp_vi(const void *a, const void *b)
{
    const vi *x = a, *y = b;
    if (x->v != y->v)
        return (x->v > y->v) - (x->v < y->v);
    return (x->i > y->i) - (x->i < y->i);
}

/* Average ranks of v[0..m) into r (s is scratch of m entries). */
static void avg_ranks(const double *v, int64_t m, double *r, vi *s)
{
    for (int64_t i = 0; i < m; i++) {
        s[i].v = v[i];
        s[i].i = i;
    }
    qsort(s, (size_t)m, sizeof *s, cmp_vi);
    for (int64_t a = 0; a < m;) {
        int64_t b = a;
        while (b + 1 < m && s[b + 1].v == s[a].v)
            b++;
        double rank = (double)(a + b) / 2 + 1;
        for (int64_t k = a; k <= b; k++)
            r[s[k].i] = rank;
        a = b + 1;
    }
}

static double pearson(const double *x, const double *y, int64_t m)
{
    if (m < 2)
        return NAN;
    double mx = 0, my = 0;
    for (int64_t i = 0; i < m; i++) {
        mx += x[i];
        my += y[i];
    }
    mx /= (double)m;
    my /= (double)m;
    double sxx = 0, syy = 0, sxy = 0;
    for (int64_t i = 0; i < m; i++) {
        double dx = x[i] - mx, dy = y[i] - my;
        sxx += dx * dx;
        syy += dy * dy;
        sxy += dx * dy;
    }
    double d = sqrt(sxx * syy);
    if (!(d > 0))
        return NAN;
    double r = sxy / d;
    return r > 1 ? 1 : r < -1 ? -1 : r;
}

int cl_frame_stats_corr(cl_frame **out, const cl_frame *f, int spearman)
{
    *out = NULL;
    int k = 0;
    int *cj = cl_alloc(sizeof *cj * (size_t)(f->ncol ? f->ncol : 1));
    int64_t n = f->nrow;
    size_t nn = (size_t)(n ? n : 1);
    double *x = cl_alloc(sizeof *x * nn), *y = cl_alloc(sizeof *y * nn);
    double *rx = cl_alloc(sizeof *rx * nn), *ry = cl_alloc(sizeof *ry * nn);
    vi *s = cl_alloc(sizeof *s * nn);
    double *m = NULL;
    cl_frame *r = NULL;
    int rc = cj && x && y && rx && ry && s ? CL_OK : CL_ENOMEM;
    for (int j = 0; rc == CL_OK && j < f->ncol; j++)
        if (f->cols[j]->type == CL_NUM)
            cj[k++] = j;
    if (rc == CL_OK && !(m = cl_alloc(sizeof *m * (size_t)(k ? k * k : 1))))
        rc = CL_ENOMEM;
    for (int a = 0; rc == CL_OK && a < k; a++)
        for (int b = a; b < k; b++) {
            const double *va = f->cols[cj[a]]->num, *vb = f->cols[cj[b]]->num;
            int64_t q = 0;
            for (int64_t i = 0; i < n; i++)
                if (!isnan(va[i]) && !isnan(vb[i])) {
                    x[q] = va[i];
                    y[q++] = vb[i];
                }
            double v;
            if (spearman) {
                avg_ranks(x, q, rx, s);
                avg_ranks(y, q, ry, s);
                v = pearson(rx, ry, q);
            } else {
                v = pearson(x, y, q);
            }
            m[a * k + b] = m[b * k + a] = v;
        }
    if (rc == CL_OK)
        rc = cl_frame_new(&r);
    if (rc == CL_OK) {
        const char **names = cl_alloc(sizeof *names * (size_t)(k ? k : 1));
        cl_column *c = NULL;
        rc = names ? CL_OK : CL_ENOMEM;
        for (int a = 0; rc == CL_OK && a < k; a++)
            names[a] = f->names[cj[a]];
        if (rc == CL_OK && (rc = cl_frame_column_from_strings(&c, names, k)) == CL_OK) {
            rc = cl_frame_set(r, "column", c);
            cl_frame_column_free(c);
        }
        cl_alloc_free(names);
        for (int b = 0; rc == CL_OK && b < k; b++) {
            if (!strcmp(f->names[cj[b]], "column")) {
                rc = cl_error(CL_EINVAL, "corr: a column named 'column' clashes with the name "
                              "column of the result (rename it)");
                break;
            }
            if ((rc = cl_frame_column_new_num(&c, CL_NUM, k)))
                break;
            for (int a = 0; a < k; a++)
                c->num[a] = m[a * k + b];
            rc = cl_frame_set(r, f->names[cj[b]], c);
            cl_frame_column_free(c);
        }
    }
    if (rc) {
        cl_frame_free(r);
        r = NULL;
    }
    *out = r;
    cl_alloc_free(cj);
    cl_alloc_free(x);
    cl_alloc_free(y);
    cl_alloc_free(rx);
    cl_alloc_free(ry);
    cl_alloc_free(s);
    cl_alloc_free(m);
    return rc;
}
