/* test_logreg.c - logistic regression: gradient vs central finite differences, coefficients
 * vs scikit-learn (tests/data/linear_ref.txt from scripts/ref/linear_ref.py) for every
 * penalty, convergence reporting, thread-count determinism, model files and input errors.
 * Tolerances against the reference: both sides minimise the same convex objective on the same
 * float32 data, ours to max|gradient| 1e-10; the remaining distance is |g| / (smallest Hessian
 * eigenvalue), not rounding (no BLAS here; libm's exp/log1p differ between CPUs by 1e-16).
 * 1e-6 for the strongly convex L2 fits, 1e-5 where the objective is flat (no penalty) or not
 * smooth (L1, elastic net), 1e-4 against scikit-learn's own lbfgs, which stops at |g| ~ 1e-6.
 * Threads: the same binary on the same data, so bit for bit. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnlab.h"
#include "models/logreg.h"
#include "core/lib/refdata.h"
#include "core/lib/model_flips.h"

static ref_set refs;

static int load_refs(void **state)
{
    (void)state;
    return ref_load(&refs, "tests/data/linear_ref.txt");
}

static int free_refs(void **state)
{
    (void)state;
    ref_free(&refs);
    return 0;
}

static const ref *get(const char *key)
{
    const ref *r = ref_find(&refs, key);
    if (r)
        return r;
    fail_msg("no reference '%s'", key);
    return NULL;
}

enum { N = 300, D = 6 };
static float X[N * D], Y[N];

static void fixture(void)
{
    const ref *x = get("X"), *y = get("y");
    assert_int_equal(x->n, N * D);
    for (int i = 0; i < N * D; i++)
        X[i] = (float)x->v[i];
    for (int i = 0; i < N; i++)
        Y[i] = (float)y->v[i];
}

static void test_gradient(void **state)
{
    (void)state;
    fixture();
    for (int cw = 0; cw < 2; cw++) {
        cl_logreg_params p;
        cl_logreg_params_default(&p);
        p.C = 0.3;
        p.class_weight = cw;
        p.pos_weight = 1.7;
        cl_logreg *m;
        assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
        double th[D + 1] = {0.3, -0.2, 0.5, 0.1, -0.7, 0.9, -0.4}, g[D + 1], g2[D + 1], f, fp, fm;
        assert_int_equal(cl_logreg_objective(m, X, Y, N, D, th, &f, g), CL_OK);
        for (int j = 0; j <= D; j++) {
            double keep = th[j], h = 1e-6;
            th[j] = keep + h;
            cl_logreg_objective(m, X, Y, N, D, th, &fp, g2);
            th[j] = keep - h;
            cl_logreg_objective(m, X, Y, N, D, th, &fm, g2);
            th[j] = keep;
            double fd = (fp - fm) / (2 * h);
            if (fabs(fd - g[j]) > 1e-7 * fmax(1, fabs(fd)))
                fail_msg("class_weight %d: gradient[%d] = %.12g, finite difference %.12g", cw, j,
                         g[j], fd);
        }
        cl_logreg_free(m);
    }
}

static void fit_and_compare(const char *name, cl_logreg_params p, double tol)
{
    cl_logreg *m;
    assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
    cl_logreg_result r;
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, &r, NULL), CL_OK);
    if (!r.converged)
        fail_msg("%s: not converged after %d iterations (max |g| %g)", name, r.iters, r.gmax);
    char key[64];
    snprintf(key, sizeof key, "%s.coef", name);
    const ref *c = get(key);
    snprintf(key, sizeof key, "%s.intercept", name);
    const ref *b = get(key);
    const double *coef = cl_logreg_coef(m);
    for (int j = 0; j < D; j++) {
        if (fabs(coef[j] - c->v[j]) > tol)
            fail_msg("%s: coef[%d] = %.10g, scikit-learn %.10g", name, j, coef[j], c->v[j]);
        if (c->v[j] == 0 && p.penalty == CL_PEN_L1 && coef[j] != 0)
            fail_msg("%s: coef[%d] = %g should be exactly 0 (L1)", name, j, coef[j]);
    }
    if (fabs(cl_logreg_intercept(m) - b->v[0]) > tol)
        fail_msg("%s: intercept %.10g, scikit-learn %.10g", name, cl_logreg_intercept(m),
                 b->v[0]);
    /* and scikit-learn's own (looser: its lbfgs stops at max |g| ~ 1e-6) answer */
    snprintf(key, sizeof key, "%s.sklearn_coef", name);
    c = get(key);
    for (int j = 0; j < D; j++)
        if (fabs(coef[j] - c->v[j]) > 1e-4)
            fail_msg("%s: coef[%d] = %.10g, raw scikit-learn %.10g", name, j, coef[j], c->v[j]);
    cl_logreg_free(m);
}

static void test_matches_sklearn(void **state)
{
    (void)state;
    fixture();
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    p.tol = 1e-10;
    p.C = 0.5;
    fit_and_compare("l2", p, 1e-6);
    p.C = 2.0;
    p.class_weight = 1;
    fit_and_compare("l2_balanced", p, 1e-6);
    p.class_weight = 0;
    p.C = 1.0;
    p.intercept = 0;
    fit_and_compare("l2_noint", p, 1e-6);
    p.intercept = 1;
    p.penalty = CL_PEN_NONE;
    fit_and_compare("none", p, 1e-5);
    p.penalty = CL_PEN_L1;
    p.C = 0.05;
    fit_and_compare("l1", p, 1e-5);
    p.penalty = CL_PEN_ELASTICNET;
    p.l1_ratio = 0.5;
    fit_and_compare("elasticnet", p, 1e-5);
    /* lambda is C = 1 / (lambda n) */
    cl_logreg_params_default(&p);
    p.tol = 1e-10;
    p.lambda = 1.0 / (0.5 * N);
    fit_and_compare("l2", p, 1e-6);
}

static void test_not_converged(void **state)
{
    (void)state;
    fixture();
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    p.max_iter = 2;
    cl_logreg *m;
    assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
    cl_logreg_result r;
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, &r, NULL), CL_OK);
    assert_false(r.converged);
    assert_int_equal(r.iters, 2);
    assert_true(r.gmax > p.tol);
    assert_true(cl_logreg_fitted(m));
    cl_logreg_free(m);
}

static void test_threads(void **state)
{
    (void)state;
    enum { BN = 20000, BD = 8 };
    float *bx = malloc(sizeof(float) * BN * BD), *by = malloc(sizeof(float) * BN);
    cl_rng r;
    cl_rng_seed(&r, 3);
    for (int i = 0; i < BN; i++) {
        double s = 0;
        for (int j = 0; j < BD; j++) {
            bx[i * BD + j] = (float)cl_rng_normal(&r);
            s += bx[i * BD + j] * (j - 3) * 0.3;
        }
        by[i] = (float)(cl_rng_uniform(&r) < 1 / (1 + exp(-s)));
    }
    double coef[2][BD];
    for (int t = 0; t < 2; t++) {
        cl_threads_set(t + 1);
        cl_logreg_params p;
        cl_logreg_params_default(&p);
        cl_logreg *m;
        assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
        assert_int_equal(cl_logreg_fit(m, bx, by, BN, BD, NULL, NULL), CL_OK);
        memcpy(coef[t], cl_logreg_coef(m), sizeof coef[t]);
        cl_logreg_free(m);
    }
    cl_threads_set(0);
    assert_memory_equal(coef[0], coef[1], sizeof coef[0]);
    free(bx);
    free(by);
}

static int read_logreg(const cl_mr *r)
{
    cl_logreg *m = NULL;
    int rc = cl_logreg_read(&m, r);
    cl_logreg_free(m);
    return rc;
}

static void test_model_file(void **state)
{
    (void)state;
    fixture();
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    cl_logreg *m;
    assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
    const char *names[D] = {"tenure", "charges", "age", "x4", "x5", "fiber"};
    assert_int_equal(cl_logreg_set_names(m, names, D), CL_OK);
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, NULL, NULL), CL_OK);
    float p1[N], p2[N];
    assert_int_equal(cl_logreg_predict(m, X, N, D, p1), CL_OK);
    cl_mw *w = cl_modelio_w_new("logreg");
    assert_int_equal(cl_logreg_write(m, w), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "lr.clm"), CL_OK);
    cl_logreg *m2;
    assert_int_equal(cl_logreg_read(&m2, r), CL_OK);
    cl_modelio_r_free(r);
    assert_int_equal(cl_logreg_predict(m2, X, N, D, p2), CL_OK);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_string_equal(cl_logreg_name(m2, 5), "fiber");
    static const unsigned char flip[] = {0x10};
    flips_refused(buf, len, flip, sizeof flip, read_logreg);
    cl_modelio_w_free(w);
    cl_logreg_free(m);
    cl_logreg_free(m2);
}

static void test_bad_input(void **state)
{
    (void)state;
    fixture();
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    cl_logreg *m;
    p.C = 2;
    p.lambda = 0.1;
    assert_int_equal(cl_logreg_new(&m, &p), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "not both"));
    cl_logreg_params_default(&p);
    assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
    float p1[N];
    assert_int_equal(cl_logreg_predict(m, X, N, D, p1), CL_ESTATE);
    float keep = X[10 * D + 4];
    X[10 * D + 4] = NAN;
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 11, column 5 is NaN"));
    X[10 * D + 4] = keep;
    Y[3] = 2;
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 4"));
    fixture();
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, NULL, NULL), CL_OK);
    assert_int_equal(cl_logreg_predict(m, X, N, D - 1, p1), CL_EINVAL);
    cl_logreg_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradient),      cmocka_unit_test(test_matches_sklearn),
        cmocka_unit_test(test_not_converged), cmocka_unit_test(test_threads),
        cmocka_unit_test(test_model_file),    cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, load_refs, free_refs);
}
