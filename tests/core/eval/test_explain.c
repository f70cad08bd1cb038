/* test_explain.c - KernelSHAP against brute-force interventional Shapley values (every
 * subset), exactness on linear models in sampled mode, permutation importance ranking a
 * pure-noise feature last, ICE on a known function, LIME on an additive function. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "eval/explain.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

typedef double (*rowfn)(const float *x, int d);

static int predict(void *ud, const cl_tensor *X, float *out)
{
    rowfn f = *(rowfn *)ud;
    int d = (int)X->shape[1];
    for (int64_t i = 0; i < X->shape[0]; i++)
        out[i] = (float)f(cl_tensor_ptr(X, i, 0), d);
    return CL_OK;
}

static double nonlinear(const float *x, int d)
{
    (void)d;
    double t = x[0] * x[1] + 2 * x[2] - x[3] * x[3] + 0.5 * x[4] + (d > 5 ? x[5] * x[0] : 0);
    return 1 / (1 + exp(-t));
}

static float W[16] = {0.5f, -1, 2, 0.25f, -0.75f, 1.5f, -2, 1, 0.1f, -0.3f, 0.7f, 1.1f, -0.9f, 0.4f, 0.6f, -1.2f};
static double linear(const float *x, int d)
{
    double s = 0.3;
    for (int j = 0; j < d; j++)
        s += W[j] * x[j];
    return s;
}

/* v(S) = mean over background rows of f(x on S, background elsewhere) */
static double value(rowfn f, const float *x, const float *bg, int B, int d, const int32_t *groups,
                    unsigned S)
{
    float row[16];
    double acc = 0;
    for (int b = 0; b < B; b++) {
        for (int j = 0; j < d; j++)
            row[j] = (S >> (groups ? groups[j] : j)) & 1 ? x[j] : bg[b * d + j];
        acc += (float)f(row, d); /* predictions are float32, as the callback returns */
    }
    return acc / B;
}

static void brute_shapley(rowfn f, const float *x, const float *bg, int B, int d,
                          const int32_t *groups, int g, double *phi)
{
    for (int j = 0; j < g; j++) {
        phi[j] = 0;
        for (unsigned S = 0; S < (1u << g); S++) {
            if (S >> j & 1)
                continue;
            int s = __builtin_popcount(S);
            double wgt = tgamma(s + 1) * tgamma(g - s) / tgamma(g + 1);
            phi[j] += wgt * (value(f, x, bg, B, d, groups, S | 1u << j) - value(f, x, bg, B, d, groups, S));
        }
    }
}

static void random_matrix(cl_tensor **t, int64_t n, int d, uint64_t seed)
{
    assert_int_equal(cl_tensor_randn(t, 2, n, d, seed), CL_OK);
}

static void kernelshap_equals_brute_force(void **state)
{
    (void)state;
    rowfn f = nonlinear;
    cl_tensor *bg, *xs;
    random_matrix(&bg, 20, 6, 1);
    random_matrix(&xs, 5, 6, 2);
    for (int r = 0; r < 5; r++) {
        const float *x = cl_tensor_ptr(xs, r, 0);
        double phi[7], ref[6];
        /* one group per column */
        assert_int_equal(cl_explain_kernelshap(predict, &f, x, bg, NULL, 6, 100, 3, phi), CL_OK);
        brute_shapley(f, x, cl_tensor_data(bg), 20, 6, NULL, 6, ref);
        for (int j = 0; j < 6; j++)
            NEAR(phi[j], ref[j], 1e-9); /* the solver's 1e-10 ridge */
        double sum = phi[6];
        for (int j = 0; j < 6; j++)
            sum += phi[j];
        NEAR(sum, (float)nonlinear(x, 6), 1e-12); /* additivity */
        /* grouped: {0, 5}, {1, 2}, {3}, {4} */
        int32_t groups[6] = {0, 1, 1, 2, 3, 0};
        double gphi[5], gref[4];
        assert_int_equal(cl_explain_kernelshap(predict, &f, x, bg, groups, 4, 100, 3, gphi), CL_OK);
        brute_shapley(f, x, cl_tensor_data(bg), 20, 6, groups, 4, gref);
        for (int j = 0; j < 4; j++)
            NEAR(gphi[j], gref[j], 1e-9);
    }
    cl_tensor_free(bg);
    cl_tensor_free(xs);
}

static void sampled_kernelshap_exact_on_linear(void **state)
{
    (void)state;
    rowfn f = linear;
    enum { D = 16 }; /* 2^16 coalitions: sampled mode */
    cl_tensor *bg, *xs;
    random_matrix(&bg, 30, D, 4);
    random_matrix(&xs, 1, D, 5);
    const float *x = cl_tensor_data(xs);
    double phi[D + 1];
    assert_int_equal(cl_explain_kernelshap(predict, &f, x, bg, NULL, D, 600, 9, phi), CL_OK);
    for (int j = 0; j < D; j++) {
        double mean = 0;
        for (int b = 0; b < 30; b++)
            mean += *cl_tensor_ptr(bg, b, j);
        mean /= 30;
        NEAR(phi[j], W[j] * (x[j] - mean), 1e-5); /* interventional SHAP of a linear model */
    }
    cl_tensor_free(bg);
    cl_tensor_free(xs);
}

static double truth(const float *x, int d)
{
    (void)d;
    return 1 / (1 + exp(-(1.5 * x[0] - 1.0 * x[1] + 0.5 * x[3])));
}

static void permutation_ranks_noise_last(void **state)
{
    (void)state;
    rowfn f = truth;
    enum { N = 4000 };
    cl_tensor *X;
    random_matrix(&X, N, 4, 7);
    static float y[N];
    cl_rng r;
    cl_rng_seed(&r, 8);
    for (int i = 0; i < N; i++)
        y[i] = cl_rng_uniform(&r) < truth(cl_tensor_ptr(X, i, 0), 4) ? 1.0f : 0.0f;
    double mean[4], sd[4], base;
    for (int metric = 0; metric < 4; metric++) {
        assert_int_equal(cl_explain_permutation(predict, &f, X, y, NULL, 4, metric, 5, 1, mean, sd, &base, NULL), CL_OK);
        NEAR(mean[2], 0, 1e-12); /* the model ignores column 3: permuting it changes nothing */
        assert_true(mean[0] > mean[1] && mean[1] > mean[3] && mean[3] > mean[2]);
    }
    cl_tensor_free(X);
}

static double additive(const float *x, int d)
{
    (void)d;
    return x[0] + 2 * x[1];
}

static void ice_of_known_function(void **state)
{
    (void)state;
    rowfn f = additive;
    cl_tensor *X;
    random_matrix(&X, 50, 2, 11);
    float grid[3] = {-1, 0, 2};
    double ice[50 * 3];
    assert_int_equal(cl_explain_ice(predict, &f, X, NULL, 0, grid, 3, ice, NULL), CL_OK);
    for (int i = 0; i < 50; i++)
        for (int k = 0; k < 3; k++)
            NEAR(ice[i * 3 + k], grid[k] + 2 * *cl_tensor_ptr(X, i, 1), 1e-6);
    assert_int_equal(cl_explain_ice(predict, &f, X, NULL, 5, grid, 3, ice, NULL), CL_EINVAL);
    cl_tensor_free(X);
}

static void lime_on_additive_function(void **state)
{
    (void)state;
    rowfn f = linear;
    cl_tensor *bg, *xs;
    random_matrix(&bg, 1, 5, 12); /* one background row: the surrogate is exactly linear */
    random_matrix(&xs, 1, 5, 13);
    const float *x = cl_tensor_data(xs);
    double coef[6], r2;
    assert_int_equal(cl_explain_lime(predict, &f, x, bg, NULL, 5, 2000, 0, 3, coef, &r2), CL_OK);
    for (int j = 0; j < 5; j++)
        NEAR(coef[j], W[j] * (x[j] - *cl_tensor_ptr(bg, 0, j)), 2e-2);
    assert_true(r2 > 0.999);
    cl_tensor_free(bg);
    cl_tensor_free(xs);
}

static void errors(void **state)
{
    (void)state;
    rowfn f = linear;
    cl_tensor *bg;
    random_matrix(&bg, 3, 4, 1);
    float x[4] = {0, NAN, 0, 0};
    double phi[5];
    assert_int_equal(cl_explain_kernelshap(predict, &f, x, bg, NULL, 4, 10, 1, phi), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "column 2 of the row is NaN"));
    x[1] = 0;
    int32_t groups[4] = {0, 1, 5, 1};
    assert_int_equal(cl_explain_kernelshap(predict, &f, x, bg, groups, 2, 10, 1, phi), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "column 3 is in group 5"));
    assert_int_equal(cl_explain_kernelshap(predict, &f, x, bg, NULL, 3, 10, 1, phi), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "3 groups given for 4 columns"));
    cl_tensor_free(bg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kernelshap_equals_brute_force),
        cmocka_unit_test(sampled_kernelshap_exact_on_linear),
        cmocka_unit_test(permutation_ranks_noise_last),
        cmocka_unit_test(ice_of_known_function),
        cmocka_unit_test(lime_on_additive_function),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
