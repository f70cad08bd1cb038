/* test_calibrate.c - Platt scaling and isotonic regression against scikit-learn
 * (tests/data/calib_ref.h from scripts/ref/calib_ref.py), plus properties: isotonic output is
 * monotone and lowers the Brier score on held-out data; prior correction inverts reweighting.
 * Tolerances: Platt's (a, b) come from two iterative solvers (scikit-learn's
 * _sigmoid_calibration and ours) each stopped at its own tolerance, so they agree to the
 * solvers' stopping point, not to rounding: 1e-5. Isotonic regression is pool-adjacent-
 * violators, means of the same doubles over blocks fixed by the data, equal up to summation
 * order: 1e-12. No BLAS; libm's last-bit differences between CPUs (1e-16) are far inside. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "eval/calibrate.h"
#include "churnlab.h"

#include "data/calib_ref.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

static void platt_vs_sklearn(void **state)
{
    (void)state;
    double a, b;
    assert_int_equal(cl_calibrate_platt_fit(CAL_SCORE, CAL_Y, CAL_N, &a, &b), CL_OK);
    NEAR(a, PLATT_A, 1e-5);
    NEAR(b, PLATT_B, 1e-5);
    assert_true(cl_calibrate_platt_apply(a, b, 3) > cl_calibrate_platt_apply(a, b, -3));
}

static void isotonic_vs_sklearn(void **state)
{
    (void)state;
    cl_isotonic *iso;
    assert_int_equal(cl_calibrate_isotonic_estimate(&iso, CAL_SCORE, CAL_Y, NULL, CAL_N), CL_OK);
    for (int i = 0; i < CAL_GRID; i++)
        NEAR(cl_calibrate_isotonic_apply(iso, ISO_GRID[i]), ISO_PRED[i], 1e-12);
    cl_calibrate_isotonic_free(iso);
    assert_int_equal(cl_calibrate_isotonic_estimate(&iso, CAL_SCORE, CAL_Y, CAL_W, CAL_N), CL_OK);
    for (int i = 0; i < CAL_GRID; i++)
        NEAR(cl_calibrate_isotonic_apply(iso, ISO_GRID[i]), ISOW_PRED[i], 1e-12);
    cl_calibrate_isotonic_free(iso);
}

/* Fit on the first half, score the second: monotone map, lower Brier than raw sigmoid of a
 * deliberately miscalibrated score. */
static void isotonic_holdout(void **state)
{
    (void)state;
    int h = CAL_N / 2;
    double raw[CAL_N];
    for (int i = 0; i < CAL_N; i++)
        raw[i] = 1 / (1 + exp(-0.4 * CAL_SCORE[i])); /* too flat: miscalibrated */
    cl_isotonic *iso;
    assert_int_equal(cl_calibrate_isotonic_estimate(&iso, raw, CAL_Y, NULL, h), CL_OK);
    double before = 0, after = 0, prev = -1;
    for (int i = h; i < CAL_N; i++) {
        double q = cl_calibrate_isotonic_apply(iso, raw[i]);
        before += (raw[i] - CAL_Y[i]) * (raw[i] - CAL_Y[i]);
        after += (q - CAL_Y[i]) * (q - CAL_Y[i]);
    }
    for (double s = 0; s <= 1; s += 0.001) {
        double q = cl_calibrate_isotonic_apply(iso, s);
        assert_true(q >= prev - 1e-15);
        prev = q;
    }
    assert_true(after < before);
    cl_calibrate_isotonic_free(iso);
}

static void prior_correction(void **state)
{
    (void)state;
    /* A model trained with positives up-weighted to a 50% effective rate, data rate 20%:
     * p = 0.5 maps to the base rate, and correction is monotone and invertible. */
    NEAR(cl_prior_correct(0.5, 0.5, 0.2), 0.2, 1e-15);
    double p = cl_prior_correct(0.9, 0.5, 0.2);
    NEAR(cl_prior_correct(p, 0.2, 0.5), 0.9, 1e-14);
    assert_true(cl_prior_correct(0.3, 0.5, 0.2) < cl_prior_correct(0.31, 0.5, 0.2));
}

static void bad_input(void **state)
{
    (void)state;
    double s[3] = {0.1, 0.2, 0.3}, y[3] = {1, 1, 1}, a, b;
    assert_int_equal(cl_calibrate_platt_fit(s, y, 3, &a, &b), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "single class"));
    y[1] = 2;
    assert_int_equal(cl_calibrate_platt_fit(s, y, 3, &a, &b), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2"));
    s[0] = NAN;
    cl_isotonic *iso;
    assert_int_equal(cl_calibrate_isotonic_estimate(&iso, s, y, NULL, 3), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 1"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(platt_vs_sklearn), cmocka_unit_test(isotonic_vs_sklearn),
        cmocka_unit_test(isotonic_holdout), cmocka_unit_test(prior_correction),
        cmocka_unit_test(bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
