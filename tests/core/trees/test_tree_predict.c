/* test_tree_predict.c - the blocked, lane-interleaved batch scorer (cl_tree_ens_predict) against
 * the plain one-row walk of tree.h (cl_tree_leaf), on random trees with numeric and
 * categorical splits, missing values, unseen and negative category codes, row counts that are
 * not multiples of the lane width and span several row blocks, and 1 or 2 threads. The batch
 * scorer adds the trees in the same order per row, so the outputs must be bit-identical. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"

enum { NCAT_FEATURES = 2, NCAT = 6 };

/* Grows node i into a random subtree of at most `depth` more levels. */
static float split_thr(cl_rng *r)
{
    return (float)cl_rng_normal(r);
}

static void grow(cl_tree *t, int i, int depth, int d, cl_rng *r)
{
    if (depth == 0 || cl_rng_uniform(r) < 0.15) {
        t->nodes[i].value = (float)cl_rng_normal(r);
        return;
    }
    int left = random_split(t, i, d, NCAT_FEATURES, NCAT, split_thr, r);
    grow(t, left, depth - 1, d, r);
    grow(t, left + 1, depth - 1, d, r);
}

static void fill_row(float *x, int d, cl_rng *r)
{
    for (int j = 0; j < d; j++) {
        double u = cl_rng_uniform(r);
        if (u < 0.08)
            x[j] = NAN;
        else if (j < NCAT_FEATURES) /* codes -1 .. NCAT: negative and unseen ones included */
            x[j] = (float)((int)cl_rng_below(r, NCAT + 2) - 1);
        else
            x[j] = (float)cl_rng_normal(r);
    }
}

static void check_case(int ntrees, int depth, int d, size_t n, int threads, uint64_t seed)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    cl_tree **trees = cl_alloc_calloc((size_t)ntrees, sizeof *trees);
    assert_non_null(trees);
    for (int k = 0; k < ntrees; k++) {
        assert_int_equal(cl_tree_new(&trees[k]), CL_OK);
        assert_int_equal(cl_tree_add(trees[k], 0, 1, 1), 0);
        grow(trees[k], 0, depth, d, &r);
    }
    float *X = cl_alloc(n * (size_t)d * sizeof *X);
    float *got = cl_alloc(n * sizeof *got);
    assert_non_null(X);
    assert_non_null(got);
    for (size_t i = 0; i < n; i++)
        fill_row(X + i * (size_t)d, d, &r);
    const double base = 0.25, scale = 1.0 / ntrees;
    int saved = cl_threads_get();
    cl_threads_set(threads);
    cl_tree_ens_predict((const cl_tree *const *)trees, ntrees, X, n, d, base, scale, got);
    cl_threads_set(saved);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (int k = 0; k < ntrees; k++)
            s += trees[k]->nodes[cl_tree_leaf(trees[k], X + i * (size_t)d)].value;
        float want = (float)(base + scale * s);
        if (memcmp(&want, &got[i], sizeof want) != 0 && bad++ < 5)
            print_error("row %zu: batch %.9g, one-row walk %.9g\n", i, got[i], want);
    }
    assert_int_equal(bad, 0);
    cl_alloc_free(X);
    cl_alloc_free(got);
    cl_tree_ens_free(trees, ntrees);
}

static void test_shallow_ensemble(void **state)
{
    (void)state;
    check_case(60, 6, 8, 10003, 1, 1); /* several blocks of 4096 rows, a ragged tail */
    check_case(60, 6, 8, 10003, 2, 1);
}

static void test_deep_forest(void **state)
{
    (void)state;
    check_case(12, 14, 50, 3001, 2, 2); /* wide rows: blocks of ~1300 rows */
}

static void test_small_batches(void **state)
{
    (void)state;
    for (size_t n = 0; n < 80; n += 7) /* below 64 rows: the unpacked walk */
        check_case(5, 5, 4, n, 1, 3 + n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shallow_ensemble),
        cmocka_unit_test(test_deep_forest),
        cmocka_unit_test(test_small_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
