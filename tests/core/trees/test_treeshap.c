/* test_treeshap.c - TreeSHAP against brute-force Shapley values: every feature subset is
 * enumerated and the path-dependent conditional expectation (follow x on features in S,
 * cover-weighted average elsewhere) is evaluated directly; to 1e-6. Also additivity. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"

static double cond_exp(const cl_tree *t, int node, const float *x, unsigned S)
{
    const cl_tnode *nd = t->nodes + node;
    if (nd->feature < 0)
        return nd->value;
    if (S & (1u << nd->feature))
        return cond_exp(t, nd->left + !cl_tree_go_left(t, nd, x[nd->feature]), x, S);
    const cl_tnode *l = t->nodes + nd->left, *r = l + 1;
    return (l->cover * cond_exp(t, nd->left, x, S) + r->cover * cond_exp(t, nd->left + 1, x, S)) /
           (l->cover + r->cover);
}

static double value_of(cl_tree *const *trees, int nt, const float *x, unsigned S, double base,
                       double scale)
{
    double v = base;
    for (int t = 0; t < nt; t++)
        v += scale * cond_exp(trees[t], 0, x, S);
    return v;
}

static void brute_shap(cl_tree *const *trees, int nt, const float *x, int d, double base,
                       double scale, double *phi)
{
    double fact[16];
    fact[0] = 1;
    for (int k = 1; k < 16; k++)
        fact[k] = fact[k - 1] * k;
    for (int j = 0; j < d; j++) {
        phi[j] = 0;
        for (unsigned S = 0; S < (1u << d); S++) {
            if (S & (1u << j))
                continue;
            int s = __builtin_popcount(S);
            double w = fact[s] * fact[d - s - 1] / fact[d];
            phi[j] += w * (value_of(trees, nt, x, S | (1u << j), base, scale) -
                           value_of(trees, nt, x, S, base, scale));
        }
    }
    phi[d] = value_of(trees, nt, x, 0, base, scale);
}

static float label(const float *row, int miss, cl_rng *r, int64_t i, void *ctx)
{
    (void)miss, (void)i, (void)ctx;
    double z = row[0] * row[3] + (row[1] == 2 ? 1 : 0) + (isnan(row[2]) ? 1 : row[2]) -
               0.5 * row[4] + 0.3 * cl_rng_normal(r);
    return z > 0.3f ? 1.0f : 0.0f;
}

static void make_data(cl_tensor **X, cl_tensor **y, int64_t n, int d, uint64_t seed)
{
    tree_data(X, y, n, d, seed, &(tree_data_spec){1, 4, 2, 0.15, label, NULL});
}

static void check_model(cl_tree *const *trees, int nt, const cl_tensor *X, int d, double base,
                        double scale)
{
    int64_t n = 40;
    float *out = cl_alloc((size_t)n * (size_t)(d + 1) * sizeof *out);
    assert_int_equal(cl_treeshap((const cl_tree *const *)trees, nt, cl_tensor_data(X),
                                 (size_t)n, d, base, scale, out),
                     CL_OK);
    float margin[40];
    cl_tree_ens_predict((const cl_tree *const *)trees, nt, cl_tensor_data(X), (size_t)n, d, base,
                     scale, margin);
    double phi[16];
    for (int64_t i = 0; i < n; i++) {
        const float *x = cl_tensor_data(X) + i * d;
        brute_shap(trees, nt, x, d, base, scale, phi);
        double sum = 0;
        for (int j = 0; j <= d; j++) {
            assert_true(fabs(out[i * (d + 1) + j] - phi[j]) < 1e-6 * fmax(1, fabs(phi[j])));
            sum += out[i * (d + 1) + j];
        }
        assert_true(fabs(sum - margin[i]) < 1e-5);
    }
    cl_alloc_free(out);
}

static void test_gbdt_brute_force(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    const int d = 6;
    make_data(&X, &y, 600, d, 11);
    uint8_t is_cat[6] = {0, 1, 0, 0, 0, 0};
    for (int leafwise = 0; leafwise < 2; leafwise++) {
        cl_gbdt_params p = cl_gbdt_params_default();
        p.trees = 6;
        p.depth = leafwise ? 0 : 5; /* deep enough that features repeat on paths */
        p.leaves = leafwise ? 12 : 0;
        p.lr = 0.5;
        cl_gbdt *m;
        assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
        cl_gbdt_fit_opts o = {.is_cat = is_cat};
        assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
        check_model(m->trees, m->ntrees, X, d, m->base, 1.0);
        /* one tree alone */
        check_model(m->trees, 1, X, d, 0.0, 1.0);
        cl_gbdt_free(m);
    }
    cl_tensor_free(X);
    cl_tensor_free(y);
}

/* A hand-built tree where one feature appears twice on a path (unwind) and leaves have
 * uneven covers. */
static void test_hand_tree(void **state)
{
    (void)state;
    cl_tree *t;
    assert_int_equal(cl_tree_new(&t), CL_OK);
    /* 0: x0 < 0 ; 1,2 ; 1: x1 < 1 -> 3,4 ; 2: x0 < 2 -> 5,6 ; 4: x2 < 0 -> 7,8 */
    int covers[] = {100, 60, 40, 25, 35, 10, 30, 5, 30};
    float vals[] = {0, 0, 0, 1.5f, 0, -2, 3, 0.25f, -1};
    for (int i = 0; i < 9; i++)
        assert_int_equal(cl_tree_add(t, vals[i], covers[i], covers[i]), i);
    int feat[] = {0, 1, 0, -1, 2, -1, -1, -1, -1};
    int left[] = {1, 3, 5, -1, 7, -1, -1, -1, -1};
    float thr[] = {0, 1, 2, 0, 0, 0, 0, 0, 0};
    for (int i = 0; i < 9; i++) {
        t->nodes[i].feature = feat[i];
        t->nodes[i].left = left[i];
        t->nodes[i].thr = thr[i];
        t->nodes[i].default_left = (uint8_t)(i & 1);
    }
    float X[5 * 3] = {-1, 0, 1, -1, 2, -1, 1, 0, 0, 3, 5, 5, NAN, NAN, NAN};
    float out[5 * 4];
    assert_int_equal(cl_treeshap((const cl_tree *const *)&t, 1, X, 5, 3, 0.0, 1.0, out), CL_OK);
    for (int i = 0; i < 5; i++) {
        double phi[4];
        brute_shap(&t, 1, X + i * 3, 3, 0.0, 1.0, phi);
        for (int j = 0; j < 4; j++)
            assert_true(fabs(out[i * 4 + j] - phi[j]) < 1e-6);
    }
    assert_true(fabs(cl_treeshap_expected(t) -
                     (25 * 1.5 + 5 * 0.25 + 30 * -1.0 + 10 * -2.0 + 30 * 3.0) / 100) < 1e-12);
    cl_tree_free(t);
}

static void test_probability_scale(void **state)
{
    (void)state;
    float phi[2 * 3] = {0.5f, 1.0f, -1.0f, 0.0f, 0.0f, 0.2f};
    cl_treeshap_to_probability(phi, 2, 2);
    double pe = 1 / (1 + exp(1.0)), pm = 1 / (1 + exp(-0.5));
    assert_true(fabs(phi[0] + phi[1] + phi[2] - pm) < 1e-6);
    assert_true(fabs(phi[2] - pe) < 1e-6);
    assert_true(phi[3] == 0 && phi[4] == 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbdt_brute_force),
        cmocka_unit_test(test_hand_tree),
        cmocka_unit_test(test_probability_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
