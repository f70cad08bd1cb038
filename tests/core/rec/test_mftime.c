/* test_mftime.c - the time-aware biases of mf (rec/mftime.h): one sgd step against the
 * gradient of its per-rating objective by finite differences, the structure (bins, days,
 * drifts) against values worked out by hand, and the prediction path against the training
 * path. */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "rec/mftime.h"

#define DAY 86400.0

/* Two users, two items, five ratings over days 10..13 (times in seconds). */
static cl_interactions *world(void)
{
    cl_idmap *um, *im;
    int64_t idx;
    assert_int_equal(cl_interactions_idmap_new(&um), CL_OK);
    assert_int_equal(cl_interactions_idmap_new(&im), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(um, "a", &idx), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(um, "b", &idx), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(im, "x", &idx), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(im, "y", &idx), CL_OK);
    int64_t u[5] = {0, 0, 1, 1, 1}, i[5] = {0, 1, 0, 1, 0};
    float v[5] = {4, 2, 5, 3, 1};
    double t[5] = {10 * DAY + 5, 10 * DAY + 900, 11 * DAY, 13 * DAY + 60, 12 * DAY};
    cl_interactions *m;
    /* (b, x) twice: CL_DUP_LAST keeps the later one, day 12 -> 4 entries */
    assert_int_equal(cl_interactions_build(&m, um, im, 5, u, i, v, t, CL_DUP_LAST), CL_OK);
    cl_interactions_idmap_free(um);
    cl_interactions_idmap_free(im);
    return m;
}

/* Bins split [10 d + 5 s, 13 d + 60 s] in 2; user a rated on day 10 only (mean day 10.005),
 * user b on days 12 and 13 (mean (12 + 13.0007) / 2). */
static void structure_by_hand(void **state)
{
    (void)state;
    cl_interactions *m = world();
    assert_int_equal(m->nnz, 4);
    cl_mftime *T;
    assert_int_equal(cl_mftime_new(&T, m, 2, DAY, "mf"), CL_OK);
    assert_int_equal(T->n_days, 3);
    assert_int_equal(T->dptr[1] - T->dptr[0], 1);
    assert_int_equal(T->dptr[2] - T->dptr[1], 2);
    assert_int_equal(T->day[0], 10);
    assert_int_equal(T->day[1], 12);
    assert_int_equal(T->day[2], 13);
    for (int64_t u = 0; u < 2; u++) {
        double mean = 0;
        int64_t n = m->indptr[u + 1] - m->indptr[u];
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
            mean += m->times[k] / DAY / (double)n;
        /* float32 drift: relative error 6e-8 of |dev| <= 2 */
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            double d = m->times[k] / DAY - mean;
            double want = d < 0 ? -pow(-d, 0.4) : pow(d, 0.4);
            assert_true(fabs(T->r_dev[k] - want) < 1e-6);
            double mid = (m->times[0] + 13 * DAY + 60) / 2; /* a's first rating is the min */
            assert_int_equal(T->r_bin[k], m->times[k] < mid ? 0 : 1);
            assert_int_equal(T->day[T->r_slot[k]], (int64_t)floor(m->times[k] / DAY));
            assert_true(T->r_slot[k] >= T->dptr[u] && T->r_slot[k] < T->dptr[u + 1]);
        }
    }
    cl_mftime_free(T);
    cl_interactions_free(m);
}

/* Values exact in float32 (few mantissa bits), so theta +- h is exact for h = 2^-10 and the
 * central difference of a function quadratic in theta is exact up to double rounding
 * (~1e-13 / h); the step is computed in float32 (|theta|, |err| <= 4: rounding <= 5e-7 of
 * the change, divided by lr = 0.125): tolerance 1e-5. A wrong sign or a missing dev_u(t)
 * factor moves the result by > 0.1. */
static double objective(const cl_mftime *T, int64_t u, int32_t i, int64_t k, double rest,
                        double v, const float *theta, double reg)
{
    double e = v - rest - cl_mftime_bias_k(T, u, i, k);
    return 0.5 * e * e + 0.5 * reg * (double)*theta * (double)*theta;
}

static void step_is_gradient_descent(void **state)
{
    (void)state;
    cl_interactions *m = world();
    cl_mftime *T;
    assert_int_equal(cl_mftime_new(&T, m, 2, DAY, "mf"), CL_OK);
    const cl_mftime_rates q = {0.125f, 0.5f, 0.25f, 0.0625f, 2.0f};
    const double h = 1.0 / 1024, rest = 3.5; /* rest: mu + b_u + b_i + q_i . p_u */
    for (int64_t u = 0; u < 2; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            int32_t i = m->indices[k];
            for (int64_t j = 0; j < 2 * 2; j++)
                T->bin_bias[j] = (float)(0.25 * (double)(j + 1) - 0.5);
            for (int64_t j = 0; j < T->n_days; j++)
                T->day_bias[j] = (float)(0.375 - 0.25 * (double)j);
            T->alpha[0] = 0.75f, T->alpha[1] = -0.5f;
            float *th[3] = {T->bin_bias + (int64_t)i * 2 + T->r_bin[k], T->day_bias + T->r_slot[k],
                            T->alpha + u};
            double reg[3] = {q.reg_bin, q.reg, q.reg_drift}, lr[3] = {q.lr, q.lr, q.lr_drift};
            double grad[3], old[3];
            for (int p = 0; p < 3; p++) {
                old[p] = *th[p];
                *th[p] = (float)(old[p] + h);
                double up = objective(T, u, i, k, rest, m->values[k], th[p], reg[p]);
                *th[p] = (float)(old[p] - h);
                double dn = objective(T, u, i, k, rest, m->values[k], th[p], reg[p]);
                *th[p] = (float)old[p];
                grad[p] = (up - dn) / (2 * h);
            }
            float err = (float)(m->values[k] - rest - cl_mftime_bias_k(T, u, i, k));
            cl_mftime_step(T, u, i, k, err, &q);
            for (int p = 0; p < 3; p++) {
                double moved = ((double)*th[p] - old[p]) / lr[p];
                if (fabs(moved + grad[p]) > 1e-5)
                    fail_msg("rating %lld, parameter %d: step %g, -gradient %g", (long long)k, p,
                             moved, -grad[p]);
            }
        }
    cl_mftime_free(T);
    cl_interactions_free(m);
}

/* Prediction at a training rating's own time gives the term training used; an unknown
 * time gives the item's last bin alone; a day the user did not rate on has no day bias. */
static void prediction_matches_training(void **state)
{
    (void)state;
    cl_interactions *m = world();
    cl_mftime *T;
    assert_int_equal(cl_mftime_new(&T, m, 2, DAY, "mf"), CL_OK);
    for (int64_t j = 0; j < 4; j++)
        T->bin_bias[j] = (float)(0.1 * (double)(j + 1));
    for (int64_t j = 0; j < T->n_days; j++)
        T->day_bias[j] = (float)(0.01 * (double)(j + 1));
    T->alpha[0] = 0.2f, T->alpha[1] = -0.3f;
    for (int64_t u = 0; u < 2; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            double a = cl_mftime_bias_k(T, u, m->indices[k], k);
            double b = cl_mftime_bias_at(T, u, m->indices[k], m->times[k]);
            assert_true(fabs(a - b) < 1e-12); /* same float terms, same order */
        }
    assert_true(fabs(cl_mftime_bias_at(T, 0, 1, NAN) - T->bin_bias[1 * 2 + 1]) < 1e-12);
    assert_true(fabs(cl_mftime_bias_at(T, -1, 0, 12 * DAY) - T->bin_bias[0 * 2 + 1]) < 1e-12);
    /* user a on day 13: bin 1, drift, no day bias (a rated on day 10 only) */
    double d = 13.0 - T->mean_day[0];
    double want = T->bin_bias[1] + 0.2f * (float)pow(d, 0.4);
    assert_true(fabs(cl_mftime_bias_at(T, 0, 0, 13 * DAY) - want) < 1e-6);
    cl_mftime_free(T);
    cl_interactions_free(m);
}

static void needs_times(void **state)
{
    (void)state;
    cl_interactions *m = world();
    double *t = m->times;
    m->times = NULL;
    cl_mftime *T;
    assert_int_equal(cl_mftime_new(&T, m, 2, DAY, "mf"), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "needs interaction times"));
    m->times = t;
    cl_interactions_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(structure_by_hand),
        cmocka_unit_test(step_is_gradient_descent),
        cmocka_unit_test(prediction_matches_training),
        cmocka_unit_test(needs_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
