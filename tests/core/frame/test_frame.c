/* test_frame.c - frames and columns against naive references written here: column
 * arithmetic, comparisons, masks, reductions and quantiles, distinct values, conversions;
 * stable multi-key sort vs insertion sort; group-by vs a linear-search grouping; hash join vs
 * nested loops; concat; split and k-fold properties (sizes, strata, groups, determinism);
 * crosstab and describe; allocation-failure sweeps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnlab.h"

/* ---- fixtures ----------------------------------------------------------------------------- */

static const char *const LABELS[] = {"delta", "alpha", "charlie", "bravo", "echo"};

/* n rows: x num (some NaN, repeated values), g cat (5 labels, some missing), h cat (3
 * labels), d date. */
static cl_frame *make_frame(int64_t n, uint64_t seed)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    cl_column *x, *g, *h, *d;
    assert_int_equal(cl_frame_column_new_num(&x, CL_NUM, n), CL_OK);
    assert_int_equal(cl_frame_column_new_cat(&g, n, NULL), CL_OK);
    assert_int_equal(cl_frame_column_new_cat(&h, n, NULL), CL_OK);
    assert_int_equal(cl_frame_column_new_num(&d, CL_DATE, n), CL_OK);
    for (int64_t i = 0; i < n; i++) {
        x->num[i] = cl_rng_below(&r, 10) == 0 ? NAN : (double)((int64_t)cl_rng_below(&r, 50) - 20) / 4;
        if (cl_rng_below(&r, 12) == 0)
            g->codes[i] = -1;
        else {
            const char *s = LABELS[cl_rng_below(&r, 5)];
            assert_int_equal(cl_frame_dict_intern(g->dict, s, strlen(s), &g->codes[i]), CL_OK);
        }
        const char *s = LABELS[cl_rng_below(&r, 3)];
        assert_int_equal(cl_frame_dict_intern(h->dict, s, strlen(s), &h->codes[i]), CL_OK);
        d->num[i] = 18000 + (double)cl_rng_below(&r, 30);
    }
    cl_frame *f;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    assert_int_equal(cl_frame_set(f, "x", x), CL_OK);
    assert_int_equal(cl_frame_set(f, "g", g), CL_OK);
    assert_int_equal(cl_frame_set(f, "h", h), CL_OK);
    assert_int_equal(cl_frame_set(f, "d", d), CL_OK);
    cl_frame_column_free(x);
    cl_frame_column_free(g);
    cl_frame_column_free(h);
    cl_frame_column_free(d);
    return f;
}

static const cl_column *col(const cl_frame *f, const char *name)
{
    int j = cl_frame_find(f, name);
    if (j < 0)
        fail_msg("no column %s", name);
    return f->cols[j];
}

static int same_num(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b || fabs(a - b) <= 1e-12 * fmax(1, fabs(b));
}

/* Cell equality across frames (labels for cat). */
static int same_cell(const cl_column *a, int64_t i, const cl_column *b, int64_t j)
{
    if (a->type == CL_CAT) {
        const char *x = cl_frame_column_label(a, i), *y = cl_frame_column_label(b, j);
        return (!x && !y) || (x && y && !strcmp(x, y));
    }
    return same_num(a->num[i], b->num[j]);
}

/* ---- columns ------------------------------------------------------------------------------ */

static void test_arith_cmp_masks(void **state)
{
    (void)state;
    cl_frame *f = make_frame(500, 1);
    const cl_column *x = col(f, "x"), *g = col(f, "g"), *h = col(f, "h");
    cl_column *r, *m, *m2, *m3;
    assert_int_equal(cl_col_arith(&r, CL_ARITH_MUL, x, x), CL_OK);
    for (int64_t i = 0; i < x->n; i++)
        assert_true(same_num(r->num[i], x->num[i] * x->num[i]));
    cl_frame_column_free(r);
    assert_int_equal(cl_col_arith_scalar(&r, CL_ARITH_SUB, x, 3, 1), CL_OK);
    for (int64_t i = 0; i < x->n; i++)
        assert_true(same_num(r->num[i], 3 - x->num[i]));
    cl_frame_column_free(r);
    assert_int_equal(cl_col_arith_scalar(&r, CL_ARITH_MOD, x, 2, 0), CL_OK);
    for (int64_t i = 0; i < x->n; i++)
        if (!isnan(x->num[i]))
            assert_true(same_num(r->num[i], x->num[i] - floor(x->num[i] / 2) * 2));
    cl_frame_column_free(r);
    /* comparisons: missing compares false */
    assert_int_equal(cl_col_cmp_scalar(&m, CL_CMP_GE, x, 1.5), CL_OK);
    for (int64_t i = 0; i < x->n; i++)
        assert_true(m->num[i] == (!isnan(x->num[i]) && x->num[i] >= 1.5));
    assert_int_equal(cl_col_cmp_str(&m2, CL_CMP_EQ, g, "alpha"), CL_OK);
    assert_int_equal(cl_col_cmp_str(&m3, CL_CMP_LT, g, "charlie"), CL_OK);
    for (int64_t i = 0; i < x->n; i++) {
        const char *s = cl_frame_column_label(g, i);
        assert_true(m2->num[i] == (s && !strcmp(s, "alpha")));
        assert_true(m3->num[i] == (s && strcmp(s, "charlie") < 0));
    }
    cl_column *a, *o, *n;
    assert_int_equal(cl_col_mask_and(&a, m, m2), CL_OK);
    assert_int_equal(cl_col_mask_or(&o, m, m2), CL_OK);
    assert_int_equal(cl_col_mask_not(&n, m), CL_OK);
    for (int64_t i = 0; i < x->n; i++) {
        assert_true(a->num[i] == (m->num[i] && m2->num[i]));
        assert_true(o->num[i] == (m->num[i] || m2->num[i]));
        assert_true(n->num[i] == !m->num[i]);
    }
    /* cat vs cat across dictionaries compares labels */
    cl_column *gh;
    assert_int_equal(cl_col_cmp(&gh, CL_CMP_EQ, g, h), CL_OK);
    for (int64_t i = 0; i < x->n; i++) {
        const char *s = cl_frame_column_label(g, i), *t = cl_frame_column_label(h, i);
        assert_true(gh->num[i] == (s && t && !strcmp(s, t)));
    }
    /* isin */
    const char *set[] = {"bravo", "echo", "zulu"};
    cl_column *in;
    assert_int_equal(cl_col_isin_str(&in, g, set, 3), CL_OK);
    for (int64_t i = 0; i < x->n; i++) {
        const char *s = cl_frame_column_label(g, i);
        assert_true(in->num[i] == (s && (!strcmp(s, "bravo") || !strcmp(s, "echo"))));
    }
    /* filter keeps exactly the masked rows, in order */
    cl_frame *ff;
    assert_int_equal(cl_frame_filter(&ff, f, m), CL_OK);
    int64_t k = 0;
    for (int64_t i = 0; i < x->n; i++)
        if (m->num[i])
            assert_true(same_cell(x, i, col(ff, "x"), k++));
    assert_int_equal(ff->nrow, k);
    /* errors */
    assert_int_equal(cl_col_arith(&r, CL_ARITH_ADD, x, g), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "cat column"));
    assert_int_equal(cl_col_cmp_scalar(&r, CL_CMP_EQ, g, 1), CL_EINVAL);
    assert_int_equal(cl_col_mask_and(&r, g, m), CL_EINVAL);
    cl_frame_free(ff);
    cl_frame_column_free(m);
    cl_frame_column_free(m2);
    cl_frame_column_free(m3);
    cl_frame_column_free(a);
    cl_frame_column_free(o);
    cl_frame_column_free(n);
    cl_frame_column_free(gh);
    cl_frame_column_free(in);
    cl_frame_free(f);
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_reductions(void **state)
{
    (void)state;
    cl_frame *f = make_frame(777, 2);
    const cl_column *x = col(f, "x");
    double s = 0, mn = INFINITY, mx = -INFINITY, v[777];
    int k = 0;
    for (int64_t i = 0; i < x->n; i++)
        if (!isnan(x->num[i])) {
            s += x->num[i];
            mn = fmin(mn, x->num[i]);
            mx = fmax(mx, x->num[i]);
            v[k++] = x->num[i];
        }
    double mean = s / k, ss = 0;
    for (int i = 0; i < k; i++)
        ss += (v[i] - mean) * (v[i] - mean);
    double got;
    assert_int_equal(cl_col_sum(x, &got), CL_OK);
    assert_true(same_num(got, s));
    assert_int_equal(cl_col_mean(x, &got), CL_OK);
    assert_true(same_num(got, mean));
    assert_int_equal(cl_col_std(x, &got), CL_OK);
    assert_true(same_num(got, sqrt(ss / (k - 1))));
    assert_int_equal(cl_col_min(x, &got), CL_OK);
    assert_true(got == mn);
    assert_int_equal(cl_col_max(x, &got), CL_OK);
    assert_true(got == mx);
    assert_int_equal(cl_col_count(x), k);
    qsort(v, (size_t)k, sizeof *v, cmp_d);
    for (double q = 0; q <= 1.0001; q += 0.05) {
        double qq = fmin(q, 1), pos = qq * (k - 1), want;
        int lo = (int)floor(pos);
        want = lo + 1 < k ? v[lo] + (v[lo + 1] - v[lo]) * (pos - lo) : v[lo];
        assert_int_equal(cl_col_quantile(x, qq, &got), CL_OK);
        assert_true(same_num(got, want));
    }
    assert_int_equal(cl_col_quantile(x, 1.5, &got), CL_EINVAL);
    /* distinct values: naive */
    int64_t nu;
    assert_int_equal(cl_col_nunique(x, &nu), CL_OK);
    int64_t want_nu = 0;
    for (int i = 0; i < k; i++)
        want_nu += i == 0 || v[i] != v[i - 1];
    assert_int_equal(nu, want_nu);
    /* value counts: counts match a naive count, sorted descending */
    cl_frame *vc;
    assert_int_equal(cl_col_value_counts(&vc, col(f, "g"), "g"), CL_OK);
    int64_t total = 0;
    for (int64_t r = 0; r < vc->nrow; r++) {
        const char *lab = cl_frame_column_label(vc->cols[0], r);
        int64_t c = 0;
        for (int64_t i = 0; i < f->nrow; i++) {
            const char *s2 = cl_frame_column_label(col(f, "g"), i);
            c += s2 && !strcmp(s2, lab);
        }
        assert_true(vc->cols[1]->num[r] == (double)c);
        if (r)
            assert_true(vc->cols[1]->num[r] <= vc->cols[1]->num[r - 1]);
        total += c;
    }
    assert_int_equal(total, cl_col_count(col(f, "g")));
    cl_frame_free(vc);
    /* empty / all-missing */
    double nanv = NAN;
    cl_column *e;
    assert_int_equal(cl_frame_column_from_doubles(&e, &nanv, 1), CL_OK);
    assert_int_equal(cl_col_sum(e, &got), CL_OK);
    assert_true(got == 0);
    assert_int_equal(cl_col_mean(e, &got), CL_OK);
    assert_true(isnan(got));
    assert_int_equal(cl_col_median(e, &got), CL_OK);
    assert_true(isnan(got));
    cl_frame_column_free(e);
    cl_frame_free(f);
}

static void test_conversions(void **state)
{
    (void)state;
    const char *s[] = {"1.5", "x", NULL, "x", "007"};
    cl_column *c, *r;
    assert_int_equal(cl_frame_column_from_strings(&c, s, 5), CL_OK);
    assert_int_equal(cl_col_astype(&r, c, CL_NUM), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "label 'x' is not a number"));
    const char *from[] = {"x", "1.5"};
    const double to[] = {1, 2};
    assert_int_equal(cl_col_map(&r, c, from, NULL, to, 2), CL_OK);
    assert_true(r->num[0] == 2 && r->num[1] == 1 && isnan(r->num[2]) && isnan(r->num[4]));
    cl_frame_column_free(r);
    const char *tos[] = {"X", "X"};
    assert_int_equal(cl_col_map(&r, c, from, tos, NULL, 2), CL_OK);
    assert_int_equal(r->dict->n, 1);
    assert_string_equal(cl_frame_column_label(r, 0), "X");
    assert_null(cl_frame_column_label(r, 4));
    cl_frame_column_free(r);
    assert_int_equal(cl_col_fillna_str(&r, c, "none"), CL_OK);
    assert_string_equal(cl_frame_column_label(r, 2), "none");
    assert_string_equal(cl_frame_column_label(r, 1), "x");
    cl_frame_column_free(r);
    cl_frame_column_free(c);
    double v[] = {0.1, NAN, 3, 1e21};
    assert_int_equal(cl_frame_column_from_doubles(&c, v, 4), CL_OK);
    cl_column *back;
    assert_int_equal(cl_col_astype(&r, c, CL_CAT), CL_OK);
    assert_string_equal(cl_frame_column_label(r, 0), "0.1");
    assert_string_equal(cl_frame_column_label(r, 2), "3");
    assert_null(cl_frame_column_label(r, 1));
    assert_int_equal(cl_col_astype(&back, r, CL_NUM), CL_OK);
    for (int i = 0; i < 4; i++)
        assert_true(same_num(back->num[i], v[i]));
    cl_frame_column_free(back);
    cl_frame_column_free(r);
    assert_int_equal(cl_col_fillna_num(&r, c, -1), CL_OK);
    assert_true(r->num[1] == -1);
    cl_frame_column_free(r);
    cl_frame_column_free(c);
}

/* ---- sort --------------------------------------------------------------------------------- */

/* Reference comparator: x ascending then g descending by label, missing last. */
static int ref_cmp(const cl_frame *f, int64_t a, int64_t b)
{
    double x = col(f, "x")->num[a], y = col(f, "x")->num[b];
    if (isnan(x) != isnan(y))
        return isnan(x) ? 1 : -1;
    if (!isnan(x) && x != y)
        return x < y ? -1 : 1;
    const char *s = cl_frame_column_label(col(f, "g"), a), *t = cl_frame_column_label(col(f, "g"), b);
    if (!s || !t)
        return (!s) - (!t);
    return -strcmp(s, t);
}

static void test_sort_vs_insertion(void **state)
{
    (void)state;
    cl_frame *f = make_frame(600, 3);
    int64_t n = f->nrow, *ref = malloc((size_t)n * sizeof *ref);
    for (int64_t i = 0; i < n; i++) {
        int64_t j = i;
        while (j > 0 && ref_cmp(f, ref[j - 1], i) > 0) { /* stable insertion */
            ref[j] = ref[j - 1];
            j--;
        }
        ref[j] = i;
    }
    const char *keys[] = {"x", "g"};
    int desc[] = {0, 1};
    int64_t *order;
    assert_int_equal(cl_frame_ops_sort_index(f, keys, desc, 2, &order), CL_OK);
    for (int64_t i = 0; i < n; i++)
        assert_int_equal(order[i], ref[i]);
    cl_alloc_free(order);
    cl_frame *s;
    assert_int_equal(cl_frame_ops_sort(&s, f, keys, desc, 2), CL_OK);
    for (int64_t i = 0; i < n; i++)
        assert_true(same_cell(col(s, "h"), i, col(f, "h"), ref[i]));
    cl_frame_free(s);
    free(ref);
    const char *bad[] = {"nope"};
    assert_int_equal(cl_frame_ops_sort(&s, f, bad, NULL, 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "no column 'nope'"));
    cl_frame_free(f);
}

/* ---- group-by ------------------------------------------------------------------------------ */

static void test_groupby_vs_naive(void **state)
{
    (void)state;
    cl_frame *f = make_frame(900, 4);
    const char *keys[] = {"g", "h"};
    cl_agg aggs[] = {{"x", CL_AGG_SUM, NULL},    {"x", CL_AGG_MEAN, NULL}, {"x", CL_AGG_MIN, NULL},
                     {"x", CL_AGG_MAX, NULL},    {"x", CL_AGG_STD, NULL},  {"x", CL_AGG_MEDIAN, NULL},
                     {"x", CL_AGG_COUNT, NULL},  {"x", CL_AGG_NUNIQUE, NULL},
                     {"x", CL_AGG_FIRST, NULL},  {"x", CL_AGG_LAST, NULL}, {"g", CL_AGG_SIZE, "n"},
                     {"d", CL_AGG_MAX, "dmax"}};
    int na = (int)(sizeof aggs / sizeof *aggs);
    cl_frame *g;
    assert_int_equal(cl_frame_group_by(&g, f, keys, 2, aggs, na), CL_OK);
    assert_int_equal(g->ncol, 2 + na);
    int64_t total = 0;
    for (int64_t r = 0; r < g->nrow; r++) {
        /* the rows of this group, found by scanning */
        double v[900], s = 0, mn = INFINITY, mx = -INFINITY, dmax = -INFINITY, first = NAN, last = NAN;
        int64_t k = 0, size = 0;
        for (int64_t i = 0; i < f->nrow; i++) {
            if (!same_cell(col(f, "g"), i, col(g, "g"), r) || !same_cell(col(f, "h"), i, col(g, "h"), r))
                continue;
            size++;
            dmax = fmax(dmax, col(f, "d")->num[i]);
            double x = col(f, "x")->num[i];
            if (isnan(x))
                continue;
            if (isnan(first))
                first = x;
            last = x;
            v[k++] = x;
            s += x;
            mn = fmin(mn, x);
            mx = fmax(mx, x);
        }
        assert_true(size > 0);
        total += size;
        double mean = k ? s / k : NAN, ss = 0;
        for (int64_t i = 0; i < k; i++)
            ss += (v[i] - mean) * (v[i] - mean);
        qsort(v, (size_t)k, sizeof *v, cmp_d);
        double med = k ? (k % 2 ? v[k / 2] : (v[k / 2 - 1] + v[k / 2]) / 2) : NAN;
        int64_t nu = 0;
        for (int64_t i = 0; i < k; i++)
            nu += i == 0 || v[i] != v[i - 1];
        assert_true(same_num(col(g, "x_sum")->num[r], s));
        assert_true(same_num(col(g, "x_mean")->num[r], mean));
        assert_true(same_num(col(g, "x_min")->num[r], k ? mn : NAN));
        assert_true(same_num(col(g, "x_max")->num[r], k ? mx : NAN));
        assert_true(same_num(col(g, "x_std")->num[r], k > 1 ? sqrt(ss / (k - 1)) : NAN));
        assert_true(same_num(col(g, "x_median")->num[r], med));
        assert_true(col(g, "x_count")->num[r] == (double)k);
        assert_true(col(g, "x_nunique")->num[r] == (double)nu);
        assert_true(same_num(col(g, "x_first")->num[r], first));
        assert_true(same_num(col(g, "x_last")->num[r], last));
        assert_true(col(g, "n")->num[r] == (double)size);
        assert_true(col(g, "dmax")->num[r] == dmax);
        assert_int_equal(col(g, "dmax")->type, CL_DATE);
        /* groups come sorted by (g, h), missing g last */
        if (r > 0) {
            const char *p = cl_frame_column_label(col(g, "g"), r - 1), *c = cl_frame_column_label(col(g, "g"), r);
            assert_true(c == NULL || (p && strcmp(p, c) <= 0));
        }
    }
    assert_int_equal(total, f->nrow);
    cl_frame_free(g);
    cl_agg bad[] = {{"g", CL_AGG_MEAN, NULL}};
    assert_int_equal(cl_frame_group_by(&g, f, keys, 2, bad, 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "cat column 'g'"));
    cl_agg_fn fn;
    assert_int_equal(cl_frame_group_agg_parse("avg", &fn), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "unknown aggregation 'avg'"));
    cl_frame_free(f);
}

/* ---- join --------------------------------------------------------------------------------- */

static void test_join_vs_nested_loops(void **state)
{
    (void)state;
    cl_frame *l = make_frame(300, 5), *r = make_frame(40, 6);
    const char *on[] = {"g", "h"};
    for (int how = 0; how < 2; how++) {
        cl_frame *j;
        assert_int_equal(cl_frame_join(&j, l, r, on, 2, (cl_join_how)how, NULL), CL_OK);
        assert_int_equal(j->ncol, 4 + 2);
        assert_non_null(col(j, "x_right"));
        int64_t o = 0;
        for (int64_t a = 0; a < l->nrow; a++) {
            int matched = 0;
            for (int64_t b = 0; b < r->nrow; b++) {
                const char *lg = cl_frame_column_label(col(l, "g"), a), *rg = cl_frame_column_label(col(r, "g"), b);
                if (!lg || !rg || strcmp(lg, rg) || !same_cell(col(l, "h"), a, col(r, "h"), b))
                    continue;
                assert_true(o < j->nrow);
                assert_true(same_cell(col(j, "x"), o, col(l, "x"), a));
                assert_true(same_cell(col(j, "x_right"), o, col(r, "x"), b));
                assert_true(same_cell(col(j, "d_right"), o, col(r, "d"), b));
                o++;
                matched = 1;
            }
            if (!matched && how == CL_JOIN_LEFT) {
                assert_true(same_cell(col(j, "x"), o, col(l, "x"), a));
                assert_true(isnan(col(j, "x_right")->num[o]));
                o++;
            }
        }
        assert_int_equal(j->nrow, o);
        cl_frame_free(j);
    }
    {
        /* a lookup join (each left row matches once) shares the left columns */
        const char *hk[] = {"h"};
        cl_agg size[] = {{"h", CL_AGG_SIZE, "n"}};
        cl_frame *dim, *lj;
        assert_int_equal(cl_frame_group_by(&dim, l, hk, 1, size, 1), CL_OK);
        assert_int_equal(cl_frame_join(&lj, l, dim, hk, 1, CL_JOIN_INNER, NULL), CL_OK);
        assert_int_equal(lj->nrow, l->nrow);
        assert_ptr_equal(col(lj, "x"), col(l, "x"));
        for (int64_t i = 0; i < l->nrow; i++) {
            double cnt = 0;
            for (int64_t k = 0; k < l->nrow; k++)
                cnt += same_cell(col(l, "h"), k, col(l, "h"), i);
            assert_true(col(lj, "n")->num[i] == cnt);
        }
        cl_frame_free(lj);
        cl_frame_free(dim);
    }
    const char *bad[] = {"x"};
    cl_frame *j;
    const char *onx[] = {"g"};
    cl_frame *r2;
    const char *from[] = {"g"}, *to[] = {"x"};
    assert_int_equal(cl_frame_rename(&r2, r, from, to, 1), CL_EINVAL); /* x exists */
    assert_int_equal(cl_frame_join(&j, l, r, bad, 1, CL_JOIN_INNER, NULL), CL_OK); /* num keys */
    cl_frame_free(j);
    cl_frame *rx;
    const char *keep[] = {"g", "d"};
    assert_int_equal(cl_frame_select(&rx, r, keep, 2), CL_OK);
    const char *from2[] = {"d"}, *to2[] = {"h"};
    assert_int_equal(cl_frame_rename(&r2, rx, from2, to2, 1), CL_OK);
    const char *onh[] = {"h"};
    assert_int_equal(cl_frame_join(&j, l, r2, onh, 1, CL_JOIN_INNER, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "key 'h' is cat on the left and date on the right"));
    (void)onx;
    cl_frame_free(rx);
    cl_frame_free(r2);
    cl_frame_free(l);
    cl_frame_free(r);
}

/* Right joins against nested loops over the right rows; outer joins hold every inner pair,
 * every unmatched row of either side once, sorted by the keys (missing last). */
static void test_join_right_outer(void **state)
{
    (void)state;
    cl_frame *l = make_frame(200, 15), *r = make_frame(50, 16);
    const char *on[] = {"g", "h"};
    cl_frame *j;
    assert_int_equal(cl_frame_join_ex(&j, l, r, on, 2, CL_JOIN_RIGHT, "_l", "_r"), CL_OK);
    assert_non_null(col(j, "x_l"));
    assert_non_null(col(j, "d_r"));
    int64_t o = 0, inner = 0;
    for (int64_t b = 0; b < r->nrow; b++) {
        int matched = 0;
        for (int64_t a = 0; a < l->nrow; a++) {
            const char *lg = cl_frame_column_label(col(l, "g"), a), *rg = cl_frame_column_label(col(r, "g"), b);
            if (!lg || !rg || strcmp(lg, rg) || !same_cell(col(l, "h"), a, col(r, "h"), b))
                continue;
            assert_true(o < j->nrow);
            assert_true(same_cell(col(j, "x_l"), o, col(l, "x"), a));
            assert_true(same_cell(col(j, "x_r"), o, col(r, "x"), b));
            o++;
            inner++;
            matched = 1;
        }
        if (!matched) {
            assert_true(isnan(col(j, "x_l")->num[o]));
            assert_true(same_cell(col(j, "g"), o, col(r, "g"), b)); /* the key comes from the right */
            assert_true(same_cell(col(j, "x_r"), o, col(r, "x"), b));
            o++;
        }
    }
    assert_int_equal(j->nrow, o);
    cl_frame_free(j);
    assert_int_equal(cl_frame_join(&j, l, r, on, 2, CL_JOIN_OUTER, NULL), CL_OK);
    int64_t lonly = 0, ronly = 0;
    for (int side = 0; side < 2; side++) {
        const cl_frame *p = side ? r : l, *q = side ? l : r;
        for (int64_t a = 0; a < p->nrow; a++) {
            int m = 0;
            for (int64_t b = 0; b < q->nrow && !m; b++) {
                const char *x = cl_frame_column_label(col(p, "g"), a), *y = cl_frame_column_label(col(q, "g"), b);
                m = x && y && !strcmp(x, y) && same_cell(col(p, "h"), a, col(q, "h"), b);
            }
            *(side ? &ronly : &lonly) += !m;
        }
    }
    assert_int_equal(j->nrow, inner + lonly + ronly);
    int64_t nl = 0, nr = 0;
    for (int64_t i = 0; i < j->nrow; i++) {
        nl += isnan(col(j, "x_right")->num[i]) && isnan(col(j, "d_right")->num[i]);
        nr += isnan(col(j, "d")->num[i]); /* d is never missing in make_frame */
        if (i == 0)
            continue;
        const char *a = cl_frame_column_label(col(j, "g"), i - 1), *b = cl_frame_column_label(col(j, "g"), i);
        assert_true(b ? a && strcmp(a, b) <= 0 : 1); /* sorted, missing last */
        if (a && b && !strcmp(a, b)) {
            const char *ha = cl_frame_column_label(col(j, "h"), i - 1), *hb = cl_frame_column_label(col(j, "h"), i);
            assert_true(strcmp(ha, hb) <= 0);
        }
    }
    assert_int_equal(nl, lonly);
    assert_int_equal(nr, ronly);
    cl_frame_free(j);
    cl_frame_free(l);
    cl_frame_free(r);
}

/* ---- concat, split, kfold ----------------------------------------------------------------- */

static void test_concat(void **state)
{
    (void)state;
    cl_frame *a = make_frame(50, 7), *b = make_frame(30, 8), *c;
    const cl_frame *fs[] = {a, b};
    assert_int_equal(cl_frame_ops_concat(&c, fs, 2), CL_OK);
    assert_int_equal(c->nrow, 80);
    for (int64_t i = 0; i < 80; i++)
        for (int j = 0; j < 4; j++)
            assert_true(same_cell(c->cols[j], i, (i < 50 ? a : b)->cols[j], i < 50 ? i : i - 50));
    cl_frame_free(c);
    cl_frame *d;
    const char *drop[] = {"h"};
    assert_int_equal(cl_frame_drop(&d, b, drop, 1), CL_OK);
    const cl_frame *fs2[] = {a, d};
    assert_int_equal(cl_frame_ops_concat(&c, fs2, 2), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "frame 2 has 3 columns"));
    cl_frame_free(d);
    cl_frame_free(a);
    cl_frame_free(b);
}

static void test_split(void **state)
{
    (void)state;
    cl_frame *f = make_frame(1003, 9);
    int64_t *tr, *te, ntr, nte;
    assert_int_equal(cl_frame_ops_split(f, 0.25, "h", 42, &tr, &ntr, &te, &nte), CL_OK);
    assert_int_equal(nte, 251); /* round(1003 * 0.25) */
    assert_int_equal(ntr + nte, 1003);
    char *seen = calloc(1003, 1);
    for (int64_t i = 0; i < nte; i++) {
        assert_true(i == 0 || te[i] > te[i - 1]);
        seen[te[i]]++;
    }
    for (int64_t i = 0; i < ntr; i++) {
        assert_true(i == 0 || tr[i] > tr[i - 1]);
        seen[tr[i]]++;
    }
    for (int i = 0; i < 1003; i++)
        assert_int_equal(seen[i], 1);
    /* every stratum's share within one row of exact */
    const cl_column *h = col(f, "h");
    for (int32_t c = 0; c < h->dict->n; c++) {
        int64_t all = 0, in = 0;
        for (int64_t i = 0; i < f->nrow; i++)
            all += h->codes[i] == c;
        for (int64_t i = 0; i < nte; i++)
            in += h->codes[te[i]] == c;
        assert_true(fabs((double)in - 0.25 * (double)all) <= 1.0);
    }
    /* determinism */
    int64_t *tr2, *te2, ntr2, nte2;
    assert_int_equal(cl_frame_ops_split(f, 0.25, "h", 42, &tr2, &ntr2, &te2, &nte2), CL_OK);
    assert_int_equal(nte2, nte);
    assert_memory_equal(te, te2, (size_t)nte * sizeof *te);
    cl_alloc_free(tr2);
    cl_alloc_free(te2);
    assert_int_equal(cl_frame_ops_split(f, 1.0, NULL, 1, &tr2, &ntr2, &te2, &nte2), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "test must be a share in (0, 1)"));
    cl_alloc_free(tr);
    cl_alloc_free(te);
    free(seen);
    cl_frame_free(f);
}

static void test_kfold(void **state)
{
    (void)state;
    cl_frame *f = make_frame(1000, 10);
    int32_t *fold;
    /* stratified: per fold and stratum within one row of the even share */
    assert_int_equal(cl_frame_ops_kfold(f, 5, "h", NULL, 3, &fold), CL_OK);
    const cl_column *h = col(f, "h");
    for (int q = 0; q < 5; q++) {
        int64_t size = 0;
        for (int64_t i = 0; i < f->nrow; i++)
            size += fold[i] == q;
        assert_true(size == 200);
        for (int32_t c = 0; c < h->dict->n; c++) {
            int64_t all = 0, in = 0;
            for (int64_t i = 0; i < f->nrow; i++) {
                all += h->codes[i] == c;
                in += h->codes[i] == c && fold[i] == q;
            }
            assert_true(fabs((double)in - (double)all / 5) <= 1.0);
        }
    }
    cl_alloc_free(fold);
    /* grouped: groups never straddle folds (groups = x values) */
    assert_int_equal(cl_frame_ops_kfold(f, 4, "h", "x", 3, &fold), CL_OK);
    const cl_column *x = col(f, "x");
    for (int64_t i = 0; i < f->nrow; i++)
        for (int64_t j = i + 1; j < f->nrow; j++)
            if (same_num(x->num[i], x->num[j]))
                assert_int_equal(fold[i], fold[j]);
    int64_t sizes[4] = {0};
    for (int64_t i = 0; i < f->nrow; i++)
        sizes[fold[i]]++;
    for (int q = 0; q < 4; q++)
        assert_true(sizes[q] > 100); /* every fold used, roughly balanced */
    int32_t *fold2;
    assert_int_equal(cl_frame_ops_kfold(f, 4, "h", "x", 3, &fold2), CL_OK);
    assert_memory_equal(fold, fold2, (size_t)f->nrow * sizeof *fold);
    cl_alloc_free(fold);
    cl_alloc_free(fold2);
    assert_int_equal(cl_frame_ops_kfold(f, 1, NULL, NULL, 3, &fold), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "k must be at least 2"));
    cl_frame_free(f);
}

/* ---- crosstab, describe ------------------------------------------------------------------- */

static void test_crosstab_describe(void **state)
{
    (void)state;
    cl_frame *f = make_frame(400, 11), *ct, *ds;
    assert_int_equal(cl_frame_group_crosstab(&ct, f, "g", "h", 0), CL_OK);
    assert_int_equal(ct->nrow, 5);
    assert_int_equal(ct->ncol, 1 + 3);
    for (int64_t r = 0; r < ct->nrow; r++) {
        const char *gl = cl_frame_column_label(ct->cols[0], r);
        if (r)
            assert_true(strcmp(cl_frame_column_label(ct->cols[0], r - 1), gl) < 0);
        for (int j = 1; j < ct->ncol; j++) {
            double c = 0;
            for (int64_t i = 0; i < f->nrow; i++) {
                const char *a = cl_frame_column_label(col(f, "g"), i), *b = cl_frame_column_label(col(f, "h"), i);
                c += a && !strcmp(a, gl) && !strcmp(b, ct->names[j]);
            }
            assert_true(ct->cols[j]->num[r] == c);
        }
    }
    cl_frame_free(ct);
    assert_int_equal(cl_frame_group_crosstab(&ct, f, "g", "h", 1), CL_OK);
    for (int64_t r = 0; r < ct->nrow; r++) {
        double s = 0;
        for (int j = 1; j < ct->ncol; j++)
            s += ct->cols[j]->num[r];
        assert_true(fabs(s - 1) < 1e-12);
    }
    cl_frame_free(ct);
    assert_int_equal(cl_frame_group_describe(&ds, f), CL_OK);
    assert_int_equal(ds->nrow, 4);
    double mean, q1;
    cl_col_mean(col(f, "x"), &mean);
    cl_col_quantile(col(f, "x"), 0.25, &q1);
    assert_true(same_num(col(ds, "mean")->num[0], mean));
    assert_true(same_num(col(ds, "25%")->num[0], q1));
    assert_true(col(ds, "missing")->num[0] == (double)(f->nrow - cl_col_count(col(f, "x"))));
    assert_true(col(ds, "unique")->num[1] == 5);
    assert_non_null(cl_frame_column_label(col(ds, "top"), 1));
    cl_frame_free(ds);
    cl_frame_free(f);
}

/* ---- allocation failures ------------------------------------------------------------------ */

static void test_alloc_failures(void **state)
{
    (void)state;
    cl_frame *f = make_frame(60, 12), *r2 = make_frame(20, 13);
    size_t base = cl_alloc_bytes();
    const char *keys[] = {"g", "h"};
    cl_agg aggs[] = {{"x", CL_AGG_MEDIAN, NULL}, {"g", CL_AGG_FIRST, NULL}};
    for (int op = 0; op < 13; op++) {
        int ok = 0;
        for (long n = 1; n < 2000 && !ok; n++) {
            cl_frame *out = NULL;
            int32_t *fold = NULL;
            cl_alloc_fail_at(n);
            int rc;
            switch (op) {
            case 0: rc = cl_frame_group_by(&out, f, keys, 2, aggs, 2); break;
            case 1: rc = cl_frame_join(&out, f, r2, keys, 2, CL_JOIN_LEFT, NULL); break;
            case 2: rc = cl_frame_ops_sort(&out, f, keys, NULL, 2); break;
            case 3: rc = cl_frame_group_crosstab(&out, f, "g", "h", 1); break;
            case 5: rc = cl_frame_join(&out, f, r2, keys, 2, CL_JOIN_OUTER, NULL); break;
            case 6: rc = cl_frame_join_ex(&out, f, r2, keys, 2, CL_JOIN_RIGHT, "_l", "_r"); break;
            case 7: rc = cl_frame_clean_drop_duplicates(&out, f, keys, 2, CL_KEEP_NONE); break;
            case 8: rc = cl_frame_stats_corr(&out, f, 1); break;
            case 9: rc = cl_frame_clean_fillna(&out, f, NULL, 0, 0, "z"); break;
            case 10: rc = cl_frame_clean_dropna(&out, f, NULL, 0, 0); break;
            case 11: rc = cl_frame_reshape_pivot_table(&out, f, keys, 1, "h", "x", CL_AGG_QUANTILE, 0.9, 0, 0); break;
            case 12: rc = cl_frame_reshape_melt(&out, f, keys, 2, (const char *[]){"x"}, 1, NULL, NULL); break;
            default: rc = cl_frame_ops_kfold(f, 3, "h", "g", 1, &fold); break;
            }
            cl_alloc_fail_at(0);
            if (rc == CL_OK) {
                ok = 1;
                cl_frame_free(out);
                cl_alloc_free(fold);
            } else {
                assert_int_equal(rc, CL_ENOMEM);
            }
            assert_int_equal(cl_alloc_bytes(), base);
        }
        assert_true(ok);
    }
    cl_frame_free(f);
    cl_frame_free(r2);
}

/* The name index (frames of many columns): every name found, replacement in place, the
 * scan/index switch at 16 columns, copies and selections, and an allocation failure while
 * the index grows leaves the frame as it was. */
static void test_name_index(void **state)
{
    (void)state;
    enum { N = 3000 };
    cl_frame *f;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    double v = 1;
    char name[32];
    for (int j = 0; j < N; j++) {
        cl_column *c;
        v = j;
        assert_int_equal(cl_frame_column_from_doubles(&c, &v, 1), CL_OK);
        snprintf(name, sizeof name, "col_%d", j);
        assert_int_equal(cl_frame_set(f, name, c), CL_OK);
        cl_frame_column_free(c);
        if (j == 14 || j == 15 || j == 16 || j == 1000) /* around the switch, and later */
            for (int k = 0; k <= j; k++) {
                snprintf(name, sizeof name, "col_%d", k);
                assert_int_equal(cl_frame_find(f, name), k);
            }
    }
    assert_int_equal(f->ncol, N);
    assert_int_equal(cl_frame_find(f, "col_3000"), -1);
    assert_int_equal(cl_frame_find(f, ""), -1);
    /* replacing keeps the position and the count */
    cl_column *c;
    v = -1;
    assert_int_equal(cl_frame_column_from_doubles(&c, &v, 1), CL_OK);
    assert_int_equal(cl_frame_set(f, "col_1234", c), CL_OK);
    cl_frame_column_free(c);
    assert_int_equal(f->ncol, N);
    assert_true(f->cols[1234]->num[0] == -1);
    /* derived frames have working indexes too */
    cl_frame *g;
    assert_int_equal(cl_frame_copy(&g, f), CL_OK);
    assert_int_equal(cl_frame_find(g, "col_2999"), 2999);
    cl_frame_free(g);
    const char *from[] = {"col_7"}, *to[] = {"seven"};
    assert_int_equal(cl_frame_rename(&g, f, from, to, 1), CL_OK);
    assert_int_equal(cl_frame_find(g, "seven"), 7);
    assert_int_equal(cl_frame_find(g, "col_7"), -1);
    cl_frame_free(g);
    /* a failed index growth: no column added, the frame still consistent */
    int grew = 0;
    for (int j = N; j < 5000 && !grew; j++) {
        v = j;
        assert_int_equal(cl_frame_column_from_doubles(&c, &v, 1), CL_OK);
        snprintf(name, sizeof name, "col_%d", j);
        cl_alloc_fail_at(1);
        int rc = cl_frame_set(f, name, c);
        cl_alloc_fail_at(0);
        if (rc != CL_OK) {
            assert_int_equal(f->ncol, j);
            assert_int_equal(cl_frame_find(f, name), -1);
            grew = 1;
            rc = cl_frame_set(f, name, c);
        }
        assert_int_equal(rc, CL_OK);
        cl_frame_column_free(c);
        assert_int_equal(cl_frame_find(f, name), j);
    }
    assert_true(grew);
    cl_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_name_index),
        cmocka_unit_test(test_arith_cmp_masks),   cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_conversions),       cmocka_unit_test(test_sort_vs_insertion),
        cmocka_unit_test(test_groupby_vs_naive),  cmocka_unit_test(test_join_vs_nested_loops),
        cmocka_unit_test(test_concat),            cmocka_unit_test(test_split),
        cmocka_unit_test(test_kfold),             cmocka_unit_test(test_crosstab_describe),
        cmocka_unit_test(test_alloc_failures),    cmocka_unit_test(test_join_right_outer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
