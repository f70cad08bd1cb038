/* test_treeshap_fast.c - the fast TreeSHAP plan against Algorithm 2 (cl_treeshap_tree_row,
 * itself checked against brute-force Shapley values in test_treeshap.c), both in double, on
 * gbdt fixtures with missing values, a categorical feature, repeated features on paths, deep
 * trees, sample weights (uneven covers), a hand-built tree with zero-cover children and a
 * tree past CL_TREESHAP_FAST_MAX_FEATURES (fallback). Both compute the same sums in another
 * order: each phi_j is a sum of O(leaves * depth) products of O(depth) factors of size at
 * most the row's |contributions|, so rounding is ~1e-16 * (terms) relative to the row's
 * scale; 1e-9 of the row's largest |phi| leaves six orders of margin and still catches any
 * wrong term (those are O(|leaf value| * cover fraction)). Additivity: float output plus the
 * expected value equals the float margin to 1e-5 (float rounding of d + 1 values). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"
#include "trees/treeshap.h"

static double max_rel_seen;

/* The weights the rows draw after their labels, and the width (the label reads the last
 * column). */
typedef struct weights {
    float *w;
    int d;
} weights;

static float label(const float *row, int miss, cl_rng *r, int64_t i, void *ctx)
{
    (void)miss;
    const weights *wt = ctx;
    double z = row[0] * row[3] + (row[1] == 2 ? 1 : 0) + (isnan(row[2]) ? 1 : row[2]) -
               0.5 * row[4] + 0.3 * row[wt->d - 1] * row[0] + 0.3 * cl_rng_normal(r);
    wt->w[i] = (float)(0.2 + 3 * cl_rng_uniform(r));
    return z > 0.3f ? 1.0f : 0.0f;
}

static void make_data(cl_tensor **X, cl_tensor **y, float **w, int64_t n, int d, uint64_t seed)
{
    *w = cl_alloc((size_t)n * sizeof **w);
    weights wt = {*w, d};
    tree_data(X, y, n, d, seed, &(tree_data_spec){1, 5, 2, 0.2, label, &wt});
}

/* Every row of X: plan vs Algorithm 2 in double; the float output's additivity. */
static int compare(const cl_tree *const *trees, int nt, const float *X, size_t n, int d,
                   double base, double scale, int want_fallbacks)
{
    cl_treeshap_plan *p;
    assert_int_equal(cl_treeshap_plan_new(&p, trees, nt, base, scale), CL_OK);
    if (want_fallbacks >= 0) /* -1: whatever the trees need */
        assert_int_equal(cl_treeshap_plan_fallbacks(p), want_fallbacks);
    int md;
    double ev;
    assert_int_equal(cl_treeshap_ensemble_ev(trees, nt, base, scale, &md, &ev), CL_OK);
    void *work = cl_alloc(cl_treeshap_plan_work_bytes(p));
    void *path = cl_alloc(cl_treeshap_path_bytes(md));
    double *a = cl_alloc((size_t)(d + 1) * sizeof *a), *b = cl_alloc((size_t)(d + 1) * sizeof *b);
    float *rows = cl_alloc(n * (size_t)(d + 1) * sizeof *rows); /* plan_row, as float */
    for (size_t i = 0; i < n; i++) {
        const float *x = X + i * (size_t)d;
        memset(a, 0, (size_t)(d + 1) * sizeof *a);
        memset(b, 0, (size_t)(d + 1) * sizeof *b);
        cl_treeshap_plan_row(p, x, work, a);
        for (int t = 0; t < nt; t++)
            cl_treeshap_tree_row(trees[t], x, scale, path, b);
        double top = 0;
        for (int j = 0; j < d; j++)
            top = fmax(top, fabs(b[j])), rows[i * (size_t)(d + 1) + j] = (float)a[j];
        for (int j = 0; j < d; j++) {
            double diff = fabs(a[j] - b[j]);
            assert_true(diff <= 1e-9 * top);
            if (fabs(b[j]) > 1e-6 * top)
                max_rel_seen = fmax(max_rel_seen, diff / fabs(b[j]));
        }
    }
    float *out = cl_alloc(n * (size_t)(d + 1) * sizeof *out), *margin = cl_alloc(n * sizeof *margin);
    assert_int_equal(cl_treeshap_plan_run(p, X, n, d, out), CL_OK);
    cl_tree_ens_predict(trees, nt, X, n, d, base, scale, margin);
    for (size_t i = 0; i < n; i++) {
        double s = 0, m = 0;
        for (int j = 0; j <= d; j++)
            s += out[i * (size_t)(d + 1) + j], m = fmax(m, fabs(out[i * (size_t)(d + 1) + j]));
        assert_true(fabs(s - margin[i]) < 1e-5 * fmax(1, m * (d + 1)));
        /* the blocked batch (tree by tree over 64 rows) adds in the same order: same bytes */
        assert_memory_equal(out + i * (size_t)(d + 1), rows + i * (size_t)(d + 1),
                            (size_t)d * sizeof *out);
    }
    cl_alloc_free(rows);
    /* a too narrow X is refused, not read out of bounds */
    assert_int_equal(cl_treeshap_plan_run(p, X, 1, 1, out) == CL_OK, d <= 1);
    cl_alloc_free(out);
    cl_alloc_free(margin);
    cl_alloc_free(a);
    cl_alloc_free(b);
    cl_alloc_free(work);
    cl_alloc_free(path);
    int fb = cl_treeshap_plan_fallbacks(p);
    cl_treeshap_plan_free(p);
    return fb;
}

static void fit_and_compare(int depth, int leaves, int weighted, int trees, int d)
{
    cl_tensor *X, *y;
    float *w;
    const int64_t n = 800;
    make_data(&X, &y, &w, n, d, 7 + (uint64_t)depth);
    uint8_t is_cat[16] = {0, 1};
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = trees;
    p.depth = depth;
    p.leaves = leaves;
    p.lr = 0.3;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    cl_gbdt_fit_opts o = {.is_cat = is_cat, .w = weighted ? w : NULL};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    compare((const cl_tree *const *)m->trees, m->ntrees, cl_tensor_data(X), 200, d, m->base, 1.0,
            0);
    /* cl_treeshap (plan for n >= 8) equals the reference to float rounding */
    float *o1 = cl_alloc(200 * (size_t)(d + 1) * sizeof *o1);
    float *o2 = cl_alloc(200 * (size_t)(d + 1) * sizeof *o2);
    const cl_tree *const *tr = (const cl_tree *const *)m->trees;
    assert_int_equal(cl_treeshap(tr, m->ntrees, cl_tensor_data(X), 200, d, m->base, 1.0, o1),
                     CL_OK);
    assert_int_equal(
        cl_treeshap_reference(tr, m->ntrees, cl_tensor_data(X), 200, d, m->base, 1.0, o2), CL_OK);
    for (size_t i = 0; i < 200 * (size_t)(d + 1); i++)
        assert_true(fabsf(o1[i] - o2[i]) <= 1e-6f * fmaxf(1, fabsf(o2[i])));
    cl_alloc_free(o1);
    cl_alloc_free(o2);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_alloc_free(w);
}

static void test_depthwise(void **state)
{
    (void)state;
    fit_and_compare(6, 0, 0, 40, 8);
}

static void test_leafwise_weighted(void **state)
{
    (void)state;
    fit_and_compare(0, 24, 1, 20, 8);
}

static void test_deep_weighted(void **state)
{
    (void)state;
    fit_and_compare(10, 0, 1, 8, 12); /* up to 10 distinct features on a path */
}

/* A weighted random forest of unlimited depth on 16 features (scale 1 / ntrees): deep,
 * unbalanced trees (deeper than CL_TREESHAP_FAST_MAX_FEATURES, features repeating on paths;
 * the fast path goes by distinct features, so they stay fast unless a path has more than
 * that many; the fallback itself is tested on the chain tree below). */
static void test_forest_deep(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    float *w;
    const int d = 16;
    make_data(&X, &y, &w, 1500, d, 9);
    cl_forest_params p = cl_forest_params_default();
    p.trees = 12;
    p.depth = 0;
    p.min_leaf = 1;
    cl_forest *m;
    assert_int_equal(cl_forest_new(&m, CL_FOREST_KIND_FOREST, &p), CL_OK);
    uint8_t is_cat[16] = {0, 1};
    assert_int_equal(cl_forest_fit_weighted(m, X, y, is_cat, w, NULL), CL_OK);
    int deepest = 0;
    for (int t = 0; t < m->ntrees; t++) {
        int k;
        assert_int_equal(cl_tree_depth(m->trees[t], &k), CL_OK);
        deepest = k > deepest ? k : deepest;
    }
    assert_true(deepest > CL_TREESHAP_FAST_MAX_FEATURES);
    int fb = compare((const cl_tree *const *)m->trees, m->ntrees, cl_tensor_data(X), 100, d, 0.0,
                     1.0 / m->ntrees, -1);
    printf("forest: %d of %d trees fall back (deepest %d)\n", fb, m->ntrees, deepest);
    assert_true(fb < m->ntrees); /* some trees take the fast path */
    cl_forest_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_alloc_free(w);
}

/* A chain tree splitting on features 0..13 in turn (14 > CL_TREESHAP_FAST_MAX_FEATURES
 * distinct features on its deepest path) beside a small tree: the chain falls back to
 * Algorithm 2 and the pair still matches; a zero-cover child is on a path of the small one. */
static void build_chain(cl_tree **out, int nf)
{
    cl_tree *t;
    assert_int_equal(cl_tree_new(&t), CL_OK);
    double cov = 1000;
    assert_int_equal(cl_tree_add(t, 0, cov, cov), 0);
    for (int k = 0; k < nf; k++) {
        int parent = t->n - 1; /* the right child of the previous split continues */
        double lc = cov * (0.2 + 0.05 * k), rc = cov - lc;
        int l = cl_tree_add(t, (float)(k % 3) - 1.0f, lc, lc);
        assert_int_equal(cl_tree_add(t, 0.5f * (float)k, rc, rc), l + 1);
        t->nodes[parent].feature = k;
        t->nodes[parent].left = l;
        t->nodes[parent].thr = 0.1f * (float)k - 0.5f;
        t->nodes[parent].default_left = (uint8_t)(k & 1);
        cov = rc;
    }
    *out = t;
}

static void test_fallback_and_zero_cover(void **state)
{
    (void)state;
    cl_tree *tr[2];
    build_chain(&tr[0], 14);
    build_chain(&tr[1], 3);
    tr[1]->nodes[tr[1]->nodes[0].left].cover = 0; /* left child of the root: no cover */
    tr[1]->nodes[0].cover = tr[1]->nodes[tr[1]->nodes[0].left + 1].cover;
    enum { d = 14, n = 60 };
    float X[n * d];
    cl_rng r;
    cl_rng_seed(&r, 3);
    for (int i = 0; i < n * d; i++)
        X[i] = cl_rng_uniform(&r) < 0.1 ? NAN : (float)cl_rng_normal(&r);
    compare((const cl_tree *const *)tr, 2, X, n, d, 0.25, 0.5, 1);
    compare((const cl_tree *const *)tr + 1, 1, X, n, d, 0.0, 1.0, 0);
    cl_tree_free(tr[0]);
    cl_tree_free(tr[1]);
}

/* Same rows at 1 and 2 threads, and one row per call from two threads sharing a plan:
 * identical bytes (each row's arithmetic is fixed). */
static void test_threads(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    float *w;
    make_data(&X, &y, &w, 600, 6, 5);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 10;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    cl_gbdt_fit_opts o = {0};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    float *a = cl_alloc(600 * 7 * sizeof *a), *b = cl_alloc(600 * 7 * sizeof *b);
    const cl_tree *const *tr = (const cl_tree *const *)m->trees;
    int keep = cl_threads_get();
    cl_threads_set(1);
    assert_int_equal(cl_treeshap(tr, m->ntrees, cl_tensor_data(X), 600, 6, m->base, 1, a), CL_OK);
    cl_threads_set(2);
    assert_int_equal(cl_treeshap(tr, m->ntrees, cl_tensor_data(X), 600, 6, m->base, 1, b), CL_OK);
    assert_memory_equal(a, b, 600 * 7 * sizeof *a);
    /* one plan shared by two threads, one row per call (how a server would use it) */
    cl_treeshap_plan *pl;
    assert_int_equal(cl_treeshap_plan_new(&pl, tr, m->ntrees, m->base, 1), CL_OK);
    memset(b, 0, 600 * 7 * sizeof *b);
    int bad = 0;
#pragma omp parallel for num_threads(2) schedule(dynamic, 1) reduction(+ : bad)
    for (int i = 0; i < 600; i++)
        bad += cl_treeshap_plan_run(pl, cl_tensor_data(X) + i * 6, 1, 6, b + i * 7) != CL_OK;
    assert_int_equal(bad, 0);
    assert_memory_equal(a, b, 600 * 7 * sizeof *a);
    cl_treeshap_plan_free(pl);
    cl_threads_set(keep);
    cl_alloc_free(a);
    cl_alloc_free(b);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_alloc_free(w);
}

static int report(void **state)
{
    (void)state;
    printf("treeshap_plan: max relative difference vs Algorithm 2 %.3g\n", max_rel_seen);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_depthwise),
        cmocka_unit_test(test_leafwise_weighted),
        cmocka_unit_test(test_deep_weighted),
        cmocka_unit_test(test_fallback_and_zero_cover),
        cmocka_unit_test(test_forest_deep),
        cmocka_unit_test(test_threads),
    };
    return cmocka_run_group_tests(tests, NULL, report);
}
