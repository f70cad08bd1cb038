/* test_forest_pack.c - the scoring pack a forest (or a single tree) owns (predict.h): built
 * when the fit ends or the model is read, rebuilt by a refit, absent while fitting. Its
 * probabilities, all rows in one call and every row alone, equal the reference scorer
 * (cl_tree_ens_predict, tree.c) on the model's current trees bit for bit: same binary, same
 * per-row tree order in double on both sides, so equality is exact by construction. The
 * fixtures have NaN, a categorical feature, and (forest depth unlimited) trees deeper than
 * CL_PREDICT_DENSE_DEPTH beside shallow ones. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"
#include "trees/predict.h"

/* Noisy labels from x0, x1, a category x2 in 0..4 and a 20%-missing x3. */
static float label(const float *row, int miss, cl_rng *r, int64_t i, void *ctx)
{
    (void)i, (void)ctx;
    double z = row[0] - row[1] + ((int)row[2] == 2 ? 1.0 : -0.3) + (miss ? 0.8 : 0) +
               cl_rng_normal(r);
    return z > 0 ? 1.0f : 0.0f;
}

static void make_data(cl_tensor **X, cl_tensor **y, int64_t n, int d, uint64_t seed)
{
    tree_data(X, y, n, d, seed, &(tree_data_spec){2, 5, 3, 0.2, label, NULL});
}

static void check_pack_probs(const cl_forest *m, const cl_tensor *X)
{
    assert_non_null(m->pack);
    const int64_t n = cl_tensor_rows(X);
    const int d = (int)cl_tensor_cols(X);
    float *want = cl_alloc((size_t)n * sizeof *want), *got = cl_alloc((size_t)n * sizeof *got);
    assert_true(want && got);
    cl_tree_ens_predict((const cl_tree *const *)m->trees, m->ntrees, cl_tensor_data(X),
                        (size_t)n, d, 0.0, 1.0 / m->ntrees, want);
    assert_int_equal(cl_forest_predict(m, got, X), CL_OK);
    assert_memory_equal(want, got, (size_t)n * sizeof *got);
    for (int64_t i = 0; i < n; i++) {
        cl_tensor *row;
        assert_int_equal(cl_tensor_rows_range(&row, X, i, i + 1), CL_OK);
        assert_int_equal(cl_forest_predict(m, got + i, row), CL_OK);
        cl_tensor_free(row);
    }
    assert_memory_equal(want, got, (size_t)n * sizeof *got);
    cl_alloc_free(want);
    cl_alloc_free(got);
}

static int stop_after(void *ud, const char *task, double done, double total, const char *detail)
{
    (void)task;
    (void)total;
    (void)detail;
    return done >= *(double *)ud;
}

/* The deepest tree of m, to show the fixture reaches past the dense layout. */
static int max_depth(const cl_forest *m)
{
    int deepest = 0;
    for (int t = 0; t < m->ntrees; t++) {
        int dt;
        assert_int_equal(cl_tree_depth(m->trees[t], &dt), CL_OK);
        deepest = dt > deepest ? dt : deepest;
    }
    return deepest;
}

static void check_kind(int kind, int trees, int depth)
{
    cl_tensor *X, *y, *X2, *y2;
    make_data(&X, &y, 700, 5, 21);
    make_data(&X2, &y2, 500, 5, 22);
    cl_forest_params p = cl_forest_params_default();
    p.trees = trees;
    p.depth = depth;
    p.prior_correction = 0; /* probabilities straight from the trees */
    cl_forest *m, *m2;
    assert_int_equal(cl_forest_new(&m, kind, &p), CL_OK);
    assert_null(m->pack);
    const uint8_t is_cat[5] = {0, 0, 1, 0, 0};
    assert_int_equal(cl_forest_fit(m, X, y, is_cat, NULL), CL_OK);
    check_pack_probs(m, X);
    if (depth == 0)
        assert_true(max_depth(m) > CL_PREDICT_DENSE_DEPTH);
    assert_int_equal(cl_forest_fit(m, X2, y2, is_cat, NULL), CL_OK); /* a refit: new trees */
    check_pack_probs(m, X);
    char path[] = "/tmp/cl_test_forest_pack_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cl_forest_save(m, path), CL_OK);
    assert_int_equal(cl_forest_load(&m2, path), CL_OK);
    unlink(path);
    check_pack_probs(m2, X2);
    cl_forest_free(m2);
    if (kind == CL_FOREST_KIND_FOREST) { /* an interrupted refit keeps its trees so far */
        double when = 1;
        cl_progress pr = {stop_after, &when};
        assert_int_equal(cl_forest_fit(m, X, y, is_cat, &pr), CL_EINTR);
        assert_true(m->ntrees > 0 && m->ntrees < trees);
        check_pack_probs(m, X2);
    }
    cl_forest_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_tensor_free(X2);
    cl_tensor_free(y2);
}

static void test_forest_deep(void **state)
{
    (void)state;
    check_kind(CL_FOREST_KIND_FOREST, 24, 0);
}

static void test_forest_shallow(void **state)
{
    (void)state;
    check_kind(CL_FOREST_KIND_FOREST, 24, 6);
}

static void test_single_tree(void **state)
{
    (void)state;
    check_kind(CL_FOREST_KIND_TREE, 1, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_forest_deep),
        cmocka_unit_test(test_forest_shallow),
        cmocka_unit_test(test_single_tree),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
