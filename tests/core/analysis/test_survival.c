/* test_survival.c - Kaplan-Meier, log-rank and Cox against hand-computed textbook values and
 * statsmodels references (tests/data/survival_ref.h from scripts/ref/survival_ref.py).
 * Tolerances: Kaplan-Meier is a product of count ratios (1e-12); its Greenwood standard error
 * and the log-rank statistic are short double sums (1e-9, 1e-10); Cox is Newton stopped at a
 * relative log-likelihood change of 1e-12 here and by statsmodels' own rule there, so the
 * coefficients agree to the solvers' stopping point (1e-7; 1e-6 for the standard errors from
 * the inverse Hessian), not to rounding. No BLAS; libm (exp, log) may differ in the last bit
 * between CPUs, 1e-16, far inside these. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "base/stats.h"
#include "analysis/survival.h"

#include "data/survival_ref.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

static void split_mp(double *t, double *e, int64_t *n)
{
    *n = 0;
    for (int i = 0; i < LEUK_N; i++)
        if (LEUK_GROUP[i] == 0) {
            t[*n] = LEUK_TIME[i];
            e[*n] = LEUK_EVENT[i];
            (*n)++;
        }
}

static void km_textbook(void **state)
{
    (void)state;
    double t[LEUK_N], e[LEUK_N];
    int64_t n;
    split_mp(t, e, &n);
    cl_km *km;
    assert_int_equal(cl_km_fit(&km, t, e, n, 0.95), CL_OK);
    /* Hand-computed product-limit values for the 6-MP arm (Kleinbaum & Klein, table 2.1). */
    static const double at[] = {6, 7, 10, 13, 16, 22, 23};
    static const double s[] = {18.0 / 21, 18.0 / 21 * 16 / 17, 18.0 / 21 * 16 / 17 * 14 / 15,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7 * 5 / 6};
    for (int i = 0; i < 7; i++)
        NEAR(cl_km_at(km, at[i]), s[i], 1e-12);
    NEAR(cl_km_at(km, 0.5), 1.0, 0);
    NEAR(cl_km_at(km, 6.5), s[0], 1e-12);
    NEAR(km->median, 23, 0); /* first time S <= 0.5: S(22) = 0.538, S(23) = 0.448 */
    cl_km_free(km);
}

static void km_vs_statsmodels(void **state)
{
    (void)state;
    double t[LEUK_N], e[LEUK_N];
    int64_t n;
    split_mp(t, e, &n);
    cl_km *km;
    assert_int_equal(cl_km_fit(&km, t, e, n, 0.95), CL_OK);
    /* statsmodels reports event times only; we report every distinct time. */
    for (int i = 0; i < KM_MP_M; i++) {
        int64_t k = 0;
        while (k < km->m && km->time[k] != KM_MP_TIME[i])
            k++;
        assert_true(k < km->m);
        NEAR(km->surv[k], KM_MP_SURV[i], 1e-12);
        NEAR(km->se[k], KM_MP_SE[i], 1e-9);
        assert_true(km->lo[k] <= km->surv[k] && km->surv[k] <= km->hi[k]);
    }
    cl_km_free(km);
    /* placebo median */
    double tp[LEUK_N], ep[LEUK_N];
    int64_t np = 0;
    for (int i = 0; i < LEUK_N; i++)
        if (LEUK_GROUP[i] == 1) {
            tp[np] = LEUK_TIME[i];
            ep[np++] = LEUK_EVENT[i];
        }
    assert_int_equal(cl_km_fit(&km, tp, ep, np, 0.9), CL_OK);
    NEAR(km->median, KM_PLACEBO_MEDIAN, 0);
    cl_km_free(km);
}

static void logrank_textbook(void **state)
{
    (void)state;
    double chi2, p;
    int32_t g[LEUK_N];
    for (int i = 0; i < LEUK_N; i++)
        g[i] = LEUK_GROUP[i];
    assert_int_equal(cl_logrank(LEUK_TIME, LEUK_EVENT, g, LEUK_N, 2, &chi2, &p), CL_OK);
    NEAR(chi2, 16.79, 1e-3); /* the textbook's rounded figure */
    NEAR(chi2, LOGRANK_CHI2, 1e-10);
    NEAR(p, LOGRANK_P, 1e-8);
}

static void cox_leukaemia(void **state)
{
    (void)state;
    double X[LEUK_N];
    for (int i = 0; i < LEUK_N; i++)
        X[i] = LEUK_GROUP[i];
    cl_cox *m;
    assert_int_equal(cl_cox_fit(&m, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1, CL_COX_EFRON, 50, 1e-12, 0.95), CL_OK);
    NEAR(m->beta[0], COX_LEUK_EFRON_BETA, 1e-7);
    NEAR(m->se[0], COX_LEUK_EFRON_SE, 1e-6);
    assert_true(m->converged);
    assert_true(m->lo[0] < exp(m->beta[0]) && exp(m->beta[0]) < m->hi[0]);
    cl_cox_free(m);
    assert_int_equal(cl_cox_fit(&m, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1, CL_COX_BRESLOW, 50, 1e-12, 0.95), CL_OK);
    NEAR(m->beta[0], COX_LEUK_BRESLOW_BETA, 1e-7);
    NEAR(m->se[0], COX_LEUK_BRESLOW_SE, 1e-6);
    cl_cox_free(m);
}

static void cox_synthetic(void **state)
{
    (void)state;
    static const double *beta[] = {COX_SYN_EFRON_BETA, COX_SYN_BRESLOW_BETA};
    static const double *se[] = {COX_SYN_EFRON_SE, COX_SYN_BRESLOW_SE};
    static const double ll[] = {COX_SYN_EFRON_LL, COX_SYN_BRESLOW_LL};
    for (int ties = 0; ties < 2; ties++) {
        cl_cox *m;
        assert_int_equal(cl_cox_fit(&m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, SYN_D, ties, 50, 1e-12, 0.95), CL_OK);
        for (int k = 0; k < SYN_D; k++) {
            NEAR(m->beta[k], beta[ties][k], 1e-6);
            NEAR(m->se[k], se[ties][k], 1e-6);
        }
        NEAR(m->loglik, ll[ties], 1e-9);
        assert_true(m->loglik > m->loglik0);
        cl_cox_free(m);
    }
}

static void bad_input(void **state)
{
    (void)state;
    double t[3] = {1, NAN, 2}, e[3] = {1, 0, 1}, x[3] = {0, 1, 0};
    cl_km *km;
    assert_int_equal(cl_km_fit(&km, t, e, 3, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_last_error(), "row 2"));
    t[1] = 3;
    e[2] = 2;
    assert_int_equal(cl_km_fit(&km, t, e, 3, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_last_error(), "event must be 0 or 1"));
    e[2] = 0;
    cl_cox *m;
    double z[3] = {0, 0, 0};
    assert_int_equal(cl_cox_fit(&m, x, t, z, 3, 1, CL_COX_EFRON, 20, 1e-9, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_last_error(), "no events"));
    double c[3] = {5, 5, 5};
    assert_int_equal(cl_cox_fit(&m, c, t, e, 3, 1, CL_COX_EFRON, 20, 1e-9, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_last_error(), "singular"));
    int32_t g[3] = {0, 0, 0};
    double chi2, p;
    assert_int_equal(cl_logrank(t, e, g, 3, 2, &chi2, &p), CL_EINVAL);
    g[1] = 5;
    assert_int_equal(cl_logrank(t, e, g, 3, 2, &chi2, &p), CL_EINVAL);
    assert_non_null(strstr(cl_last_error(), "group 5"));
    assert_int_equal(cl_km_fit(&km, t, e, 0, 0.95), CL_EINVAL);
}

static void alloc_failures(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    for (long k = 1;; k++) {
        cl_alloc_fail_at(k);
        cl_cox *m = NULL;
        int rc = cl_cox_fit(&m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, SYN_D, CL_COX_EFRON, 50, 1e-9, 0.95);
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            cl_cox_free(m);
            break;
        }
        assert_int_equal(rc, CL_ENOMEM);
        assert_int_equal(cl_alloc_bytes(), base);
    }
    for (long k = 1;; k++) {
        cl_alloc_fail_at(k);
        cl_km *km = NULL;
        int rc = cl_km_fit(&km, SYN_TIME, SYN_EVENT, SYN_N, 0.95);
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            cl_km_free(km);
            break;
        }
        assert_int_equal(rc, CL_ENOMEM);
        assert_int_equal(cl_alloc_bytes(), base);
    }
}

static void distributions(void **state)
{
    (void)state;
    NEAR(cl_norm_ppf(0.975), NORM_PPF_0975, 1e-13);
    NEAR(cl_norm_ppf(1e-10), NORM_PPF_1EM10, 1e-11);
    NEAR(cl_chi2_sf(3.841458820694124, 1), CHI2_SF_3841_1, 1e-12);
    NEAR(cl_chi2_sf(30, 10), CHI2_SF_30_10, 1e-12);
    NEAR(cl_chi2_sf(0.5, 7), CHI2_SF_05_7, 1e-12);
    NEAR(cl_gamma_p(2.5, 1.5) + cl_gamma_q(2.5, 1.5), 1, 1e-14);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(km_textbook),  cmocka_unit_test(km_vs_statsmodels),
        cmocka_unit_test(logrank_textbook), cmocka_unit_test(cox_leukaemia),
        cmocka_unit_test(cox_synthetic), cmocka_unit_test(bad_input),
        cmocka_unit_test(alloc_failures), cmocka_unit_test(distributions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
