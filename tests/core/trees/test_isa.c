/* test_isa.c - the tree kernels give the same results on every instruction-set path this CPU
 * runs (isa.h), forced in turn: histograms (cl_hist_build: integer sums, equal exactly),
 * split search (the all-candidates vectorised scan of split.c against the one-candidate
 * reference scan, on histograms with ties, empty bins, missing bins, L1/L2/gamma and
 * min_child_weight: the same cl_split bit for bit), and whole gbdt fits (model file bytes
 * equal on every path and with the reference split scan). Prediction paths are checked in
 * test_predict.c. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"
#include "trees/isa.h"

static void test_hist_paths(void **state)
{
    (void)state;
    const size_t n = 70000;
    const int d = 5;
    int nb[5] = {256, 17, 2, 100, 256}, off[6] = {0};
    for (int j = 0; j < d; j++)
        off[j + 1] = off[j] + nb[j];
    uint8_t *bins = cl_alloc(n * d);
    int64_t *gh = cl_alloc(2 * n * sizeof *gh);
    uint32_t *rows = cl_alloc(n * sizeof *rows);
    cl_rng r;
    cl_rng_seed(&r, 11);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            bins[(size_t)j * n + i] = (uint8_t)cl_rng_below(&r, (uint64_t)nb[j]);
        if (cl_rng_uniform(&r) < 0.6)
            rows[m++] = (uint32_t)i;
    }
    for (size_t k = 0; k < n; k++) {
        gh[2 * k] = (int64_t)(cl_rng_normal(&r) * 1099511627776.0);
        gh[2 * k + 1] = (int64_t)cl_rng_below(&r, (uint64_t)1 << 40);
    }
    int feats[5] = {0, 1, 2, 3, 4};
    size_t bytes = (size_t)off[d] * sizeof(cl_hbin);
    cl_hbin *ref = cl_alloc(bytes), *got = cl_alloc(bytes);
    for (int small = 0; small < 2; small++) { /* two chains (>= 8192 rows) and one */
        size_t mm = small ? 3000 : m;
        assert_int_equal(cl_isa_force(CL_ISA_DEFAULT), CL_OK);
        cl_hist_build(ref, off, bins, n, rows, mm, gh, feats, d, 1);
        for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++)
            for (int t = 1; t <= 2; t++) {
                assert_int_equal(cl_isa_force(isa), CL_OK);
                memset(got, 0x5a, bytes);
                cl_hist_build(got, off, bins, n, rows, mm, gh, feats, d, t);
                assert_memory_equal(got, ref, bytes);
            }
    }
    cl_isa_force(CL_ISA_AUTO);
    cl_alloc_free(ref);
    cl_alloc_free(got);
    cl_alloc_free(bins);
    cl_alloc_free(gh);
    cl_alloc_free(rows);
}

/* A random histogram of nbins + 1 bins (the last is missing): values drawn from few levels
 * so that equal gains (ties) occur, some bins empty. */
static void random_hist(cl_hbin *h, int nbins, int64_t *G, int64_t *H, cl_rng *r)
{
    *G = *H = 0;
    int with_missing = cl_rng_below(r, 2);
    for (int b = 0; b <= nbins; b++) {
        int empty = cl_rng_uniform(r) < 0.2 || (b == nbins && !with_missing);
        /* multiplied, not shifted: a left shift of a negative value is undefined */
        h[b].g = empty ? 0 : ((int64_t)cl_rng_below(r, 7) - 3) * ((int64_t)1 << 20);
        h[b].h = empty ? 0 : ((int64_t)cl_rng_below(r, 3) + 1) * ((int64_t)1 << 22);
        *G += h[b].g;
        *H += h[b].h;
    }
}

static void test_split_paths(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 12);
    cl_hbin h[257];
    const double lambdas[] = {0, 1}, alphas[] = {0, 0.5}, gammas[] = {0, 0.3},
                 mcws[] = {0, 1.5};
    int differ = 0, found = 0;
    for (int it = 0; it < 4000; it++) {
        int nbins = it % 5 == 0 ? 256 : 1 + (int)cl_rng_below(&r, 40);
        int64_t G, H;
        random_hist(h, nbins, &G, &H, &r);
        cl_split_params p = {.lambda = lambdas[it & 1], .alpha = alphas[(it >> 1) & 1],
                             .gamma = gammas[(it >> 2) & 1], .min_child_weight = mcws[(it >> 3) & 1],
                             .ug = 1.0 / (1 << 20), .uh = 1.0 / (1 << 22)};
        cl_split prior; /* sometimes a better split of an earlier feature is already known */
        cl_split_none(&prior);
        if (it % 3 == 0)
            prior.gain = cl_rng_uniform(&r) * 2;
        cl_split want = prior, got;
        cl_split_force_scalar(1);
        cl_split_feature(&want, h, nbins, 0, 7, G, H, &p);
        cl_split_force_scalar(0);
        found += want.feature == 7;
        for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++) {
            assert_int_equal(cl_isa_force(isa), CL_OK);
            got = prior;
            cl_split_feature(&got, h, nbins, 0, 7, G, H, &p);
            if (memcmp(&got, &want, sizeof got) != 0 && differ++ < 5)
                print_error("case %d on %s: feature %d bin %d dl %d gain %.17g, reference "
                            "feature %d bin %d dl %d gain %.17g\n",
                            it, cl_isa_name(isa), got.feature, got.bin, got.default_left,
                            got.gain, want.feature, want.bin, want.default_left, want.gain);
        }
    }
    cl_isa_force(CL_ISA_AUTO);
    assert_int_equal(differ, 0);
    assert_true(found > 1000); /* the cases do split (the comparison is not of empty results) */
}

/* y from numeric features only, 15% missing in x1, so model bytes cover the numeric path. */
static float fit_label(const float *row, int miss, cl_rng *r, int64_t i, void *ctx)
{
    (void)miss, (void)i, (void)ctx;
    double z = row[0] - (row[1] != row[1] ? 0.7 : row[1]) + ((int)row[2] % 3 == 1) +
               0.8 * cl_rng_normal(r);
    return z > 0 ? 1.0f : 0.0f;
}

static void fit_bytes(int isa, int scalar, const uint8_t *is_cat, void **buf, size_t *len)
{
    const int64_t n = 20000;
    const int d = 6;
    cl_tensor *X, *y;
    tree_data(&X, &y, n, d, 5, &(tree_data_spec){2, 9, 1, 0.15, fit_label, NULL});
    assert_int_equal(cl_isa_force(isa), CL_OK);
    cl_split_force_scalar(scalar);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 12;
    p.subsample = 0.8;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    cl_gbdt_fit_opts o = {.is_cat = is_cat};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    gbdt_bytes(m, buf, len);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_split_force_scalar(0);
    cl_isa_force(CL_ISA_AUTO);
}

static void test_fit_paths(void **state)
{
    (void)state;
    const uint8_t cat[6] = {0, 0, 1, 0, 0, 0};
    for (int c = 0; c < 2; c++) {
        void *ref, *got;
        size_t lref, lgot;
        fit_bytes(CL_ISA_DEFAULT, 1, c ? cat : NULL, &ref, &lref);
        for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++) {
            fit_bytes(isa, 0, c ? cat : NULL, &got, &lgot);
            assert_int_equal(lgot, lref);
            assert_memory_equal(got, ref, lref);
            cl_alloc_free(got);
        }
        cl_alloc_free(ref);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hist_paths),
        cmocka_unit_test(test_split_paths),
        cmocka_unit_test(test_fit_paths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
