/* test_predict.c - the perfect-tree batch scorer (cl_predict_ensemble, predict.c) and its
 * model-owned pack (cl_predict_pack_run: all rows, one row, a few rows) against
 * today's scorer (cl_tree_ens_predict, tree.c) in the same binary: outputs bit for bit equal
 * on random ensembles (numeric only, with categorical splits, shallow enough to be repacked
 * and deeper than CL_PREDICT_DENSE_DEPTH), rows with NaN, +-inf, values equal to thresholds,
 * negative and unseen category codes, row counts spanning several blocks with a ragged tail,
 * 1 and 2 threads, and every instruction-set path this CPU runs (isa.h). Both add the trees
 * per row in the same order in double, so equality is exact by construction. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"
#include "trees/isa.h"
#include "trees/predict.h"

enum { NCAT = 6, NGRID = 9 };

typedef struct fixture {
    int ncat_features; /* features 0..ncat_features-1 are categorical */
    double stop;       /* chance a node becomes a leaf early (unbalanced trees) */
} fixture;

/* thresholds and many x values come from one grid, so x == thr happens often */
static float grid(cl_rng *r)
{
    return (float)((int)cl_rng_below(r, NGRID) - NGRID / 2) * 0.5f;
}

/* a threshold: +inf now and then (everything goes left), else on the grid */
static float split_thr(cl_rng *r)
{
    return cl_rng_uniform(r) < 0.03 ? INFINITY : grid(r);
}

static void grow(cl_tree *t, int i, int depth, int d, const fixture *fx, cl_rng *r)
{
    if (depth == 0 || cl_rng_uniform(r) < fx->stop) {
        t->nodes[i].value = (float)cl_rng_normal(r);
        return;
    }
    int left = random_split(t, i, d, fx->ncat_features, NCAT, split_thr, r);
    grow(t, left, depth - 1, d, fx, r);
    grow(t, left + 1, depth - 1, d, fx, r);
}

static void fill_row(float *x, int d, const fixture *fx, cl_rng *r)
{
    for (int j = 0; j < d; j++) {
        double u = cl_rng_uniform(r);
        if (u < 0.08)
            x[j] = NAN;
        else if (j < fx->ncat_features) /* codes -1 .. NCAT, and a fraction */
            x[j] = u < 0.1 ? 2.5f : (float)((int)cl_rng_below(r, NCAT + 2) - 1);
        else if (u < 0.1)
            x[j] = u < 0.09 ? INFINITY : -INFINITY;
        else if (u < 0.4)
            x[j] = grid(r);
        else
            x[j] = (float)(cl_rng_normal(r) * 2);
    }
}

/* Rows of got that differ in any bit from want; prints the first few. */
static size_t count_bad(const float *want, const float *got, size_t n, const char *what, int isa,
                        int threads)
{
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (memcmp(&want[i], &got[i], sizeof *got) != 0 && bad++ < 5)
            print_error("%s, %s, %d threads, row %zu: new %.9g, old %.9g\n", what,
                        cl_isa_name(isa), threads, i, got[i], want[i]);
    return bad;
}

/* The model-owned pack (cl_predict_pack_run): all n rows in one call (the block kernel from
 * 64 rows on), every row alone (the one-row walk a rescored customer takes), and runs of 5
 * rows (the few-row walk), each bit for bit equal to want. */
static void check_pack(const cl_tree *const *ct, int ntrees, const float *X, size_t n, int d,
                       double base, double scale, const float *want, float *got, int isa,
                       int threads)
{
    cl_predict_pack *pk;
    assert_int_equal(cl_predict_pack_new(&pk, ct, ntrees), CL_OK);
    memset(got, 0xff, (n + 1) * sizeof *got);
    cl_predict_pack_run(pk, X, n, d, base, scale, got);
    assert_int_equal(count_bad(want, got, n, "pack, all rows", isa, threads), 0);
    memset(got, 0xff, (n + 1) * sizeof *got);
    for (size_t i = 0; i < n; i++)
        cl_predict_pack_run(pk, X + i * (size_t)d, 1, d, base, scale, got + i);
    assert_int_equal(count_bad(want, got, n, "pack, one row", isa, threads), 0);
    memset(got, 0xff, (n + 1) * sizeof *got);
    for (size_t i = 0; i < n; i += 5)
        cl_predict_pack_run(pk, X + i * (size_t)d, n - i < 5 ? n - i : 5, d, base, scale,
                            got + i);
    assert_int_equal(count_bad(want, got, n, "pack, 5 rows", isa, threads), 0);
    cl_predict_pack_free(pk);
}

/* Scores with both scorers, the new one on every path and at 1 and 2 threads. */
static void check_case(const fixture *fx, int ntrees, int depth, int d, size_t n, uint64_t seed)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    cl_tree **trees = cl_alloc_calloc((size_t)ntrees, sizeof *trees);
    assert_non_null(trees);
    for (int k = 0; k < ntrees; k++) {
        assert_int_equal(cl_tree_new(&trees[k]), CL_OK);
        assert_int_equal(cl_tree_add(trees[k], 0, 1, 1), 0);
        grow(trees[k], 0, depth, d, fx, &r);
    }
    float *X = cl_alloc((n + 1) * (size_t)d * sizeof *X);
    float *want = cl_alloc((n + 1) * sizeof *want), *got = cl_alloc((n + 1) * sizeof *got);
    assert_true(X && want && got);
    for (size_t i = 0; i < n; i++)
        fill_row(X + i * (size_t)d, d, fx, &r);
    const double base = 0.25, scale = 1.0 / ntrees;
    const cl_tree *const *ct = (const cl_tree *const *)trees;
    int saved = cl_threads_get();
    cl_threads_set(1);
    cl_tree_ens_predict(ct, ntrees, X, n, d, base, scale, want);
    for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++)
        for (int threads = 1; threads <= 2; threads++) {
            assert_int_equal(cl_isa_force(isa), CL_OK);
            cl_threads_set(threads);
            memset(got, 0xff, (n + 1) * sizeof *got);
            cl_predict_ensemble(ct, ntrees, X, n, d, base, scale, got);
            assert_int_equal(count_bad(want, got, n, "per call", isa, threads), 0);
            check_pack(ct, ntrees, X, n, d, base, scale, want, got, isa, threads);
        }
    cl_isa_force(CL_ISA_AUTO);
    cl_threads_set(saved);
    cl_alloc_free(X);
    cl_alloc_free(want);
    cl_alloc_free(got);
    cl_tree_ens_free(trees, ntrees);
}

static void test_numeric_gbdt_shape(void **state)
{
    (void)state;
    const fixture fx = {0, 0.1};
    check_case(&fx, 200, 6, 50, 20011, 1); /* the bench's shape: 200 trees, depth 6, 50 cols */
    check_case(&fx, 40, 6, 8, 10003, 2);   /* narrow rows: blocks of 4096, a ragged tail */
}

static void test_categorical(void **state)
{
    (void)state;
    const fixture fx = {3, 0.15};
    check_case(&fx, 60, 6, 10, 9001, 3);
    check_case(&fx, 30, 10, 12, 3001, 4); /* the deepest repacked trees */
}

static void test_deep_trees_walk(void **state)
{
    (void)state;
    const fixture fx = {2, 0.05};
    check_case(&fx, 12, 14, 50, 3001, 5); /* deeper than CL_PREDICT_DENSE_DEPTH: mixed */
}

static void test_stumps_and_small_batches(void **state)
{
    (void)state;
    const fixture fx = {1, 0.3};
    check_case(&fx, 20, 1, 3, 500, 6);
    check_case(&fx, 20, 0, 3, 500, 7); /* single leaves: depth 0 */
    for (size_t n = 0; n < 140; n += 13) /* around the 64-row cut to the plain walk */
        check_case(&fx, 5, 5, 4, n, 8 + n);
}

static void test_isa_force(void **state)
{
    (void)state;
    assert_int_equal(cl_isa_force(CL_ISA_AVX512 + 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "unknown path"));
    if (cl_isa_best() < CL_ISA_AVX512) {
        assert_int_equal(cl_isa_force(CL_ISA_AVX512), CL_EINVAL);
        assert_non_null(strstr(cl_error_last(), "cannot run"));
    }
    assert_int_equal(cl_isa_force(CL_ISA_DEFAULT), CL_OK);
    assert_int_equal(cl_isa_get(), CL_ISA_DEFAULT);
    assert_int_equal(cl_isa_force(CL_ISA_AUTO), CL_OK);
    assert_int_equal(cl_isa_get(), cl_isa_best());
    print_message("best path on this CPU: %s\n", cl_isa_name(cl_isa_best()));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_isa_force),
        cmocka_unit_test(test_numeric_gbdt_shape),
        cmocka_unit_test(test_categorical),
        cmocka_unit_test(test_deep_trees_walk),
        cmocka_unit_test(test_stumps_and_small_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
