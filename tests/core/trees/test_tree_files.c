/* test_tree_files.c - tree model files that pass the CRC but not the semantics (issue 22):
 * nodes sharing children (a DAG: exponential SHAP), a tree hundreds of thousands of levels
 * deep (stack overflow in TreeSHAP's depth computation), corrupt covers and counts, leaf
 * values that overflow margins or are not probabilities. Each is written through the real
 * writer (valid CRC) and must be refused at load with a message naming tree and node. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"

/* A fitted single tree (kind "tree") on 2 features, whose tree the tests replace. */
static cl_forest *fitted_tree(void)
{
    cl_tensor *X, *y;
    assert_int_equal(cl_tensor_new(&X, 2, 200, 2), CL_OK);
    assert_int_equal(cl_tensor_new(&y, 1, 200, 1), CL_OK);
    for (int i = 0; i < 200; i++) {
        cl_tensor_data(X)[2 * i] = (float)(i % 17);
        cl_tensor_data(X)[2 * i + 1] = (float)(i % 5);
        cl_tensor_data(y)[i] = (i % 17) > 8 ? 1.0f : 0.0f;
    }
    cl_forest_params p = cl_forest_cart_params_default();
    cl_forest *m;
    assert_int_equal(cl_forest_new(&m, CL_FOREST_KIND_TREE, &p), CL_OK);
    assert_int_equal(cl_forest_fit(m, X, y, NULL, NULL), CL_OK);
    cl_tensor_free(X);
    cl_tensor_free(y);
    return m;
}

/* Writes m (with its trees as they are now) and reads it back: the status, with the message
 * left in cl_error_last(). */
static int round_trip(const cl_forest *m)
{
    cl_mw *w = cl_modelio_w_new(m->kind == CL_FOREST_KIND_TREE ? "tree" : "forest");
    assert_non_null(w);
    assert_int_equal(cl_forest_write(m, w), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "t.clm"), CL_OK);
    cl_forest *m2 = NULL;
    int rc = cl_forest_read(&m2, r);
    if (rc)
        assert_null(m2);
    cl_forest_free(m2);
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
    return rc;
}

static void replace_tree(cl_forest *m, cl_tree *t)
{
    cl_tree_free(m->trees[0]);
    m->trees[0] = t;
}

static int add(cl_tree *t, int feature, int left, float v, double cover)
{
    int i = cl_tree_add(t, v, cover, cover);
    assert_true(i >= 0);
    t->nodes[i].feature = feature;
    t->nodes[i].left = left;
    t->nodes[i].thr = 0.5f;
    return i;
}

/* 39 nodes: the root, then 19 levels of two nodes that both point at the next level's pair.
 * Covers halve per level, so every parent's children add up: only the sharing is wrong. A
 * path-dependent walk visits 2^18 leaves per row; the old loader accepted it. */
static void test_dag_refused(void **state)
{
    (void)state;
    cl_forest *m = fitted_tree();
    cl_tree *t;
    assert_int_equal(cl_tree_new(&t), CL_OK);
    add(t, 0, 1, 0, 2.0);
    double c = 1.0;
    for (int k = 0; k < 19; k++, c /= 2) {
        int leaf = k == 18;
        add(t, leaf ? CL_TREE_LEAF : k % 2, leaf ? -1 : 2 * k + 3, 0.5f, c);
        add(t, leaf ? CL_TREE_LEAF : (k + 1) % 2, leaf ? -1 : 2 * k + 3, 0.5f, c);
    }
    assert_int_equal(t->n, 39);
    replace_tree(m, t);
    assert_int_equal(round_trip(m), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "tree 1, node 4 has two parents"));
    cl_forest_free(m);
}

/* A node nothing points at: reachable only by index, never from the root. */
static void test_unreachable_refused(void **state)
{
    (void)state;
    cl_forest *m = fitted_tree();
    cl_tree *t;
    assert_int_equal(cl_tree_new(&t), CL_OK);
    add(t, 0, 2, 0, 2.0); /* children 2 and 3: node 1 is orphaned */
    add(t, CL_TREE_LEAF, -1, 0.5f, 1.0);
    add(t, CL_TREE_LEAF, -1, 0.5f, 1.0);
    add(t, CL_TREE_LEAF, -1, 0.5f, 1.0);
    replace_tree(m, t);
    assert_int_equal(round_trip(m), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "tree 1, node 2 is not reachable"));
    cl_forest_free(m);
}

/* A chain: node 2k splits into leaf 2k+1 and node 2k+2. */
static cl_tree *chain(int levels)
{
    cl_tree *t;
    assert_int_equal(cl_tree_new(&t), CL_OK);
    double c = (double)levels + 1;
    for (int k = 0; k < levels; k++, c -= 1) {
        add(t, k % 2, 2 * k + 1, 0, c);
        add(t, CL_TREE_LEAF, -1, 0.25f, 1.0);
    }
    add(t, CL_TREE_LEAF, -1, 0.75f, c);
    return t;
}

/* 300,000 levels (a million-level tree needs a 100 MB file; this already overflowed an 8 MB
 * stack in the recursive depth computation): refused at load, and TreeSHAP and the rules on
 * such a tree built in memory return an error instead of recursing. */
static void test_deep_tree(void **state)
{
    (void)state;
    cl_forest *m = fitted_tree();
    replace_tree(m, chain(300000));
    assert_int_equal(round_trip(m), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "tree 1 is deeper than 1024 levels"));
    float x[2] = {0, 1}, phi[3];
    const cl_tree *const trees[1] = {m->trees[0]};
    assert_int_equal(cl_treeshap(trees, 1, x, 1, 2, 0, 1, phi), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "exceeds 1024 levels"));
    char *text = NULL;
    assert_int_equal(cl_tree_rules(m->trees[0], 2, NULL, "churn", &text), CL_EINVAL);
    assert_null(text);
    /* exactly the limit still loads and explains */
    replace_tree(m, chain(CL_TREE_MAX_DEPTH));
    assert_int_equal(round_trip(m), CL_OK);
    const cl_tree *const ok[1] = {m->trees[0]};
    assert_int_equal(cl_treeshap(ok, 1, x, 1, 2, 0, 1, phi), CL_OK);
    assert_true(isfinite(phi[0]) && isfinite(phi[1]) && isfinite(phi[2]));
    replace_tree(m, chain(CL_TREE_MAX_DEPTH + 1));
    assert_int_equal(round_trip(m), CL_EFORMAT);
    cl_forest_free(m);
}

/* Covers and counts that are negative, NaN, infinite or do not add up to the parent's. */
static void test_corrupt_covers(void **state)
{
    (void)state;
    cl_forest *m = fitted_tree();
    cl_tree *t = m->trees[0];
    assert_true(t->n >= 3 && t->nodes[0].feature >= 0);
    assert_int_equal(round_trip(m), CL_OK);
    const double bad[] = {-1.0, NAN, INFINITY, 1e9};
    for (int field = 0; field < 2; field++)
        for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
            int node = t->nodes[0].left; /* a child: the parent's sum no longer matches */
            double *f = field ? &t->nodes[node].count : &t->nodes[node].cover;
            double saved = *f;
            *f = bad[b];
            assert_int_equal(round_trip(m), CL_EFORMAT);
            assert_non_null(strstr(cl_error_last(), "tree 1, node"));
            *f = saved;
        }
    t->nodes[0].gain = NAN;
    assert_int_equal(round_trip(m), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "split gain is not finite"));
    t->nodes[0].gain = 0;
    t->nodes[0].default_left = 7; /* written as 0/1 */
    assert_int_equal(round_trip(m), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "expected 0 or 1"));
    t->nodes[0].default_left = 0;
    assert_int_equal(round_trip(m), CL_OK);
    cl_forest_free(m);
}

/* A tree's leaves are class-1 shares; a forest's mean of them is the probability. */
static void test_leaf_not_probability(void **state)
{
    (void)state;
    cl_forest *m = fitted_tree();
    cl_tree *t = m->trees[0];
    int leaf = 0;
    while (t->nodes[leaf].feature >= 0)
        leaf++;
    t->nodes[leaf].value = 5.0f;
    assert_int_equal(round_trip(m), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "is not a probability in [0, 1]"));
    cl_forest_free(m);
}

/* gbdt: leaf values and a base that are finite yet overflow float margins (inf predictions,
 * NaN SHAP), and a base that is not finite. */
static void test_gbdt_extreme_values(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    assert_int_equal(cl_tensor_new(&X, 2, 300, 3), CL_OK);
    assert_int_equal(cl_tensor_new(&y, 1, 300, 1), CL_OK);
    for (int i = 0; i < 300; i++) {
        for (int j = 0; j < 3; j++)
            cl_tensor_data(X)[3 * i + j] = (float)((i * (j + 3)) % 11);
        cl_tensor_data(y)[i] = (float)((i * 3) % 11 > 5);
    }
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 4;
    p.depth = 2;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    assert_int_equal(cl_gbdt_fit(m, X, y, NULL, NULL), CL_OK);
    for (int bug = 0; bug < 3; bug++) {
        double base = m->base;
        float saved[4];
        for (int t = 0; t < m->ntrees; t++) {
            saved[t] = m->trees[t]->nodes[m->trees[t]->n - 1].value;
            if (bug == 0) /* each finite, the sum of four beyond float range */
                m->trees[t]->nodes[m->trees[t]->n - 1].value = 3e38f;
        }
        if (bug == 1)
            m->base = 1e300;
        if (bug == 2)
            m->base = -INFINITY;
        gbdt_refused(m, "g.clm", bug == 2 ? "not finite" : "margins would overflow");
        m->base = base;
        for (int t = 0; t < m->ntrees; t++)
            m->trees[t]->nodes[m->trees[t]->n - 1].value = saved[t];
    }
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
}

/* A child without cover (class weights of 0 can make one) is legal and loads; TreeSHAP
 * followed it with zero and one fractions both 0 and divided 0 by 0 (NaN). */
static void test_zero_cover_child_shap(void **state)
{
    (void)state;
    cl_forest *m = fitted_tree();
    cl_tree *t;
    assert_int_equal(cl_tree_new(&t), CL_OK);
    add(t, 0, 1, 0, 1.0);
    add(t, CL_TREE_LEAF, -1, 0.2f, 1.0);
    add(t, CL_TREE_LEAF, -1, 0.9f, 0.0);
    replace_tree(m, t);
    assert_int_equal(round_trip(m), CL_OK);
    const cl_tree *const trees[1] = {t};
    float x[4] = {0, 0, 1, 0}, phi[6];
    assert_int_equal(cl_treeshap(trees, 1, x, 2, 2, 0, 1, phi), CL_OK);
    for (int k = 0; k < 6; k++)
        assert_true(isfinite(phi[k]));
    assert_float_equal(phi[0], 0.0, 1e-6);  /* row 1 goes left: f(x) = E[f] = 0.2 */
    assert_float_equal(phi[2], 0.2, 1e-6);
    assert_float_equal(phi[3], 0.7, 1e-6);  /* row 2 goes right: 0.9 - 0.2 */
    cl_forest_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dag_refused),
        cmocka_unit_test(test_unreachable_refused),
        cmocka_unit_test(test_deep_tree),
        cmocka_unit_test(test_corrupt_covers),
        cmocka_unit_test(test_leaf_not_probability),
        cmocka_unit_test(test_gbdt_extreme_values),
        cmocka_unit_test(test_zero_cover_child_shap),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
