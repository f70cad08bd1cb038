/* test_binning.c - quantile binning: exact bins for few distinct values, equal-count bins for
 * many, ties never split, missing bin, categorical codes, thresholds equal bins, errors. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "trees/isa.h"
#include "core/lib/refit.h"

/* A binning with these parameters fitted on X, or NULL with the status (new + fit). */
static int bin_fit_new(cl_binning **out, const float *X, size_t n, int d, const uint8_t *is_cat,
                       int max_bins, uint64_t seed)
{
    int rc = cl_binning_new(out, max_bins, seed);
    if (!rc && (rc = cl_binning_fit(*out, X, n, d, is_cat))) {
        cl_binning_free(*out);
        *out = NULL;
    }
    return rc;
}

static void same_binning(const cl_binning *a, const cl_binning *b)
{
    assert_int_equal(a->d, b->d);
    size_t d1 = (size_t)a->d + 1;
    assert_memory_equal(a->nbins, b->nbins, d1 * sizeof *a->nbins);
    assert_memory_equal(a->is_cat, b->is_cat, (size_t)a->d);
    assert_memory_equal(a->cut_off, b->cut_off, d1 * sizeof *a->cut_off);
    assert_memory_equal(a->hist_off, b->hist_off, d1 * sizeof *a->hist_off);
    assert_memory_equal(a->cuts, b->cuts, (size_t)a->cut_off[a->d] * sizeof *a->cuts);
    assert_int_equal(a->max_bins, b->max_bins);
    assert_true(a->seed == b->seed);
}

/* _fit fits the binning it is given (issue 14): a refit on other data (another width, a
 * categorical column) equals a new binning's fit bit for bit; a failed refit (a non-integral
 * category, an allocation failing anywhere) leaves the fitted binning as it was. */
static void test_refit_and_failed_fit(void **state)
{
    (void)state;
    enum { N = 500 };
    static float X[N * 2], Y[N * 3];
    for (int i = 0; i < N; i++) {
        X[2 * i] = (float)((i * 37) % 101);
        X[2 * i + 1] = i % 7 == 0 ? NAN : (float)i / 3;
        Y[3 * i] = (float)(i % 5);
        Y[3 * i + 1] = (float)((i * 13) % 47) - 20;
        Y[3 * i + 2] = (float)sin(i);
    }
    uint8_t is_cat[3] = {1, 0, 0};
    cl_binning *b, *fresh, *ref;
    assert_int_equal(cl_binning_new(&b, 16, 7), CL_OK);
    assert_int_equal(b->d, 0);
    assert_int_equal(cl_binning_fit(b, X, N, 2, NULL), CL_OK);
    assert_int_equal(cl_binning_fit(b, Y, N, 3, is_cat), CL_OK);
    assert_int_equal(bin_fit_new(&fresh, Y, N, 3, is_cat, 16, 7), CL_OK);
    same_binning(b, fresh);
    assert_int_equal(bin_fit_new(&ref, X, N, 2, NULL, 16, 7), CL_OK);
    assert_int_not_equal(ref->d, fresh->d);
    Y[3] = 1.5f; /* row 2's category is not a whole number */
    assert_int_equal(cl_binning_fit(b, Y, N, 3, is_cat), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2, column 1"));
    same_binning(b, fresh);
    REFIT_SWEEP(cl_binning_fit(b, X, N, 2, NULL), same_binning(b, fresh));
    same_binning(b, ref); /* the last, successful refit */
    cl_binning *bad;
    assert_int_equal(cl_binning_new(&bad, 1, 7), CL_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(cl_error_last(), "max_bins"));
    cl_binning_free(b);
    cl_binning_free(fresh);
    cl_binning_free(ref);
}

static void test_few_distinct_values(void **state)
{
    (void)state;
    float X[] = {3, 1, 2, 2, NAN, 1, 3, 3};
    cl_binning *b;
    assert_int_equal(bin_fit_new(&b, X, 8, 1, NULL, 255, 1), CL_OK);
    assert_int_equal(b->nbins[0], 3);
    assert_int_equal(cl_binning_bin(b, 0, 1), 0);
    assert_int_equal(cl_binning_bin(b, 0, 2), 1);
    assert_int_equal(cl_binning_bin(b, 0, 3), 2);
    assert_int_equal(cl_binning_bin(b, 0, NAN), 3); /* missing bin */
    assert_int_equal(cl_binning_bin(b, 0, -100), 0);
    assert_int_equal(cl_binning_bin(b, 0, 100), 2);
    /* "bin <= k" is "x < threshold(k)" */
    for (int k = 0; k < 2; k++) {
        float t = cl_binning_threshold(b, 0, k);
        for (float x = 0.5f; x < 4; x += 0.25f)
            assert_int_equal(cl_binning_bin(b, 0, x) <= k, x < t);
    }
    assert_int_equal(cl_binning_total(b), 4);
    cl_binning_free(b);
}

static void test_many_values_equal_counts(void **state)
{
    (void)state;
    const size_t n = 100000;
    float *X = cl_alloc(n * sizeof *X);
    cl_rng r;
    cl_rng_seed(&r, 3);
    for (size_t i = 0; i < n; i++)
        X[i] = (float)cl_rng_normal(&r);
    for (size_t i = 0; i < 20000; i++) /* a heavy tie */
        X[i] = 0.25f;
    cl_binning *b;
    assert_int_equal(bin_fit_new(&b, X, n, 1, NULL, 64, 1), CL_OK);
    assert_true(b->nbins[0] <= 64 && b->nbins[0] >= 40);
    size_t cnt[256] = {0};
    for (size_t i = 0; i < n; i++)
        cnt[cl_binning_bin(b, 0, X[i])]++;
    int tie_bin = cl_binning_bin(b, 0, 0.25f);
    assert_true(cnt[tie_bin] >= 20000); /* the tie sits in one bin */
    for (int k = 0; k < b->nbins[0]; k++)
        if (k != tie_bin)
            assert_true(cnt[k] < 2 * n / 64 + 10); /* roughly equal counts elsewhere */
    /* cuts strictly increase */
    for (int k = 1; k < b->nbins[0] - 1; k++)
        assert_true(b->cuts[k] > b->cuts[k - 1]);
    cl_binning_free(b);
    cl_alloc_free(X);
}

static void test_categorical_and_apply(void **state)
{
    (void)state;
    float X[] = {0, 1.5f, 2, NAN, 1, 0.5f, NAN, 7, 4, -1, 2, 3};
    uint8_t is_cat[2] = {1, 0};
    cl_binning *b;
    assert_int_equal(bin_fit_new(&b, X, 6, 2, is_cat, 255, 1), CL_OK);
    assert_int_equal(b->nbins[0], 5); /* codes 0..4 */
    assert_int_equal(cl_binning_bin(b, 0, 2), 2);
    assert_int_equal(cl_binning_bin(b, 0, 9), 5);  /* unseen code -> missing bin */
    assert_int_equal(cl_binning_bin(b, 0, -1), 5); /* negative -> missing bin */
    uint8_t out[12];
    cl_binning_apply(b, X, 6, out);
    for (int i = 0; i < 6; i++) /* column-major */
        for (int j = 0; j < 2; j++)
            assert_int_equal(out[j * 6 + i], cl_binning_bin(b, j, X[i * 2 + j]));
    cl_binning_free(b);
}

/* cl_binning_apply on every instruction-set path against a linear count of the cuts <= x
 * (NaN: the missing bin), for every
 * number of cuts from 0 to 254 around each power of two (the search's window halving), on
 * values at, just below and just above every cut, +-inf, +-0 and random ones. Integer
 * results of exact float comparisons: compared exactly. */
static void test_apply_matches_linear_count(void **state)
{
    (void)state;
    enum { D = 20, N = 3000 };
    const int32_t nb[D] = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 33, 64, 65, 127, 128, 129, 254, 255};
    uint8_t ic[D] = {0};
    cl_rng r;
    cl_rng_seed(&r, 99);
    float *cuts = cl_alloc(D * 255 * sizeof *cuts);
    size_t nc = 0;
    for (int j = 0; j < D; j++) {
        int h = (nb[j] - 1) / 2; /* cut h is 0, for the signed zeros */
        for (int k = 0; k < nb[j] - 1; k++)
            cuts[nc++] = (float)((k - h) * 0.05 + (k != h ? 0.01 * cl_rng_uniform(&r) : 0));
    }
    cl_binning *b;
    assert_int_equal(cl_binning_from_arrays(&b, D, nb, ic, cuts, nc), CL_OK);
    float *X = cl_alloc((size_t)N * D * sizeof *X);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            const float *c = b->cuts + b->cut_off[j];
            int ncj = b->cut_off[j + 1] - b->cut_off[j];
            float x;
            int kind = (int)cl_rng_below(&r, 8), k = ncj ? (int)cl_rng_below(&r, ncj) : 0;
            if (kind <= 2 && ncj)
                x = kind == 0 ? c[k] : nextafterf(c[k], kind == 1 ? -INFINITY : INFINITY);
            else if (kind == 3)
                x = cl_rng_below(&r, 2) ? INFINITY : -INFINITY;
            else if (kind == 4)
                x = cl_rng_below(&r, 2) ? 0.0f : -0.0f;
            else if (kind == 5)
                x = NAN;
            else
                x = (float)(-4 + 20 * cl_rng_uniform(&r));
            X[(size_t)i * D + j] = x;
        }
    uint8_t *out = cl_alloc((size_t)N * D);
    for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++) { /* every path this CPU runs */
        assert_int_equal(cl_isa_force(isa), CL_OK);
        memset(out, 0xee, (size_t)N * D);
        cl_binning_apply(b, X, N, out);
        for (int j = 0; j < D; j++) {
            const float *c = b->cuts + b->cut_off[j];
            int ncj = b->cut_off[j + 1] - b->cut_off[j];
            for (int i = 0; i < N; i++) {
                float x = X[(size_t)i * D + j];
                int want = 0;
                if (x != x)
                    want = nb[j];
                else
                    for (int k = 0; k < ncj; k++)
                        want += c[k] <= x;
                assert_int_equal(out[(size_t)j * N + i], want);
            }
        }
    }
    cl_isa_force(CL_ISA_AUTO);
    cl_alloc_free(out);
    cl_alloc_free(X);
    cl_alloc_free(cuts);
    cl_binning_free(b);
}

static void test_errors(void **state)
{
    (void)state;
    float X[] = {0, 1.5f, 2, 3};
    uint8_t is_cat[1] = {1};
    cl_binning *b;
    assert_int_equal(bin_fit_new(&b, X, 4, 1, is_cat, 255, 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2, column 1"));
    float Y[] = {0, 300};
    assert_int_equal(bin_fit_new(&b, Y, 2, 1, is_cat, 255, 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "category code 300"));
    assert_int_equal(bin_fit_new(&b, X, 4, 1, NULL, 256, 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "max_bins"));
    int32_t nb[1] = {3};
    uint8_t ic[1] = {0};
    float cuts[2] = {2, 1};
    assert_int_equal(cl_binning_from_arrays(&b, 1, nb, ic, cuts, 2), CL_EFORMAT);
    assert_int_equal(cl_binning_from_arrays(&b, 1, nb, ic, cuts, 1), CL_EFORMAT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_few_distinct_values),
        cmocka_unit_test(test_many_values_equal_counts),
        cmocka_unit_test(test_categorical_and_apply),
        cmocka_unit_test(test_apply_matches_linear_count),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_refit_and_failed_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
