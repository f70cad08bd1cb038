/* test_uplift.c - Qini/uplift curves against a hand-computed case and an O(n^2) direct
 * recomputation; a model that knows the true uplift beats a random ranking; PSI against a
 * hand-computed case and its basic properties. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "eval/drift.h"
#include "eval/uplift.h"
#include "data/uplift_ref.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

static void qini_by_hand(void **state)
{
    (void)state;
    /* ranked by score: T1 stay, C stay, T stay, C leave, T leave, C stay */
    float score[6] = {0.9f, 0.8f, 0.7f, 0.6f, 0.5f, 0.4f};
    float t[6] = {1, 0, 1, 0, 1, 0}, y[6] = {1, 1, 1, 0, 0, 1};
    cl_qini *q;
    assert_int_equal(cl_uplift_qini_curve(&q, y, t, score, 6), CL_OK);
    assert_int_equal(q->m, 7);
    /* k=1: YT=1 NT=1 NC=0 -> 1; k=2: 1 - 1*1/1 = 0; k=3: 2 - 1*2/1 = 0; k=4: 2 - 1*2/2 = 1;
     * k=5: 2 - 1*3/2 = 0.5; k=6: 2 - 2*3/3 = 0 */
    double want[7] = {0, 1, 0, 0, 1, 0.5, 0};
    for (int k = 0; k < 7; k++)
        NEAR(q->qini[k], want[k], 1e-12);
    /* area by trapezoids over x/n: (0+1)/2 + (1+0)/2 + 0 + (0+1)/2 + (1+.5)/2 + (.5+0)/2 = 2.5,
     * times 1/6; the random line ends at 0; divided by n again */
    NEAR(q->coefficient, (2.5 / 6) / 6, 1e-12);
    cl_uplift_qini_free(q);
}

static void qini_vs_direct(void **state)
{
    (void)state;
    enum { N = 500 };
    static float y[N], t[N], s[N];
    cl_rng r;
    cl_rng_seed(&r, 2);
    for (int i = 0; i < N; i++) {
        t[i] = cl_rng_uniform(&r) < 0.5;
        y[i] = cl_rng_uniform(&r) < 0.6;
        s[i] = (float)(cl_rng_below(&r, 50)) / 50; /* many ties */
    }
    cl_qini *q;
    assert_int_equal(cl_uplift_qini_curve(&q, y, t, s, N), CL_OK);
    for (int64_t a = 1; a < q->m; a++) {
        /* direct: customers with score >= the a-th boundary's score */
        int64_t k = (int64_t)q->x[a];
        double YT = 0, YC = 0, NT = 0, NC = 0;
        /* the first k in descending score order are exactly those with score above the
         * (k+1)-th largest, since ties never straddle a boundary */
        float thr = 0;
        int64_t cnt = 0;
        for (float c = 1.0f; c >= 0; c -= 0.02f) {
            int64_t m = 0;
            for (int i = 0; i < N; i++)
                m += s[i] >= c - 1e-6f;
            if (m == k) {
                thr = c - 1e-6f;
                cnt = m;
                break;
            }
        }
        assert_int_equal(cnt, k);
        for (int i = 0; i < N; i++)
            if (s[i] >= thr) {
                if (t[i] == 1) NT++, YT += y[i];
                else NC++, YC += y[i];
            }
        NEAR(q->qini[a], NC > 0 ? YT - YC * NT / NC : YT, 1e-9);
        NEAR(q->uplift[a], ((NT > 0 ? YT / NT : 0) - (NC > 0 ? YC / NC : 0)) * k, 1e-9);
    }
    cl_uplift_qini_free(q);
}

static void knowing_the_uplift_helps(void **state)
{
    (void)state;
    enum { N = 20000 };
    static float y[N], t[N], good[N], noise[N];
    cl_rng r;
    cl_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        double uplift = cl_rng_uniform(&r) * 0.3; /* treatment raises staying by 0..30 points */
        t[i] = cl_rng_uniform(&r) < 0.5;
        y[i] = cl_rng_uniform(&r) < 0.5 + (t[i] ? uplift : 0);
        good[i] = (float)uplift;
        noise[i] = (float)cl_rng_uniform(&r);
    }
    cl_qini *a, *b;
    assert_int_equal(cl_uplift_qini_curve(&a, y, t, good, N), CL_OK);
    assert_int_equal(cl_uplift_qini_curve(&b, y, t, noise, N), CL_OK);
    assert_true(a->coefficient > 0.01);
    assert_true(fabs(b->coefficient) < a->coefficient / 3);
    cl_uplift_qini_free(a);
    cl_uplift_qini_free(b);
}

/* scikit-uplift's normalised areas, computed from its documented definitions with numpy by
 * scripts/ref/uplift_ref.py. Counts and sums of 0/1 values are exact in double on both sides;
 * the only rounding is in the ratios N_T/N_C and Y/N (a few ulps each, summed over <= 300
 * points of magnitude <= 300): 1e-9 relative is far above it and far below any real error. */
static void check_ref(const float *y, const float *t, const float *s, int n, int m,
                      const double *qini, const double *uplift, double qa, double ua)
{
    cl_qini *q;
    assert_int_equal(cl_uplift_qini_curve(&q, y, t, s, n), CL_OK);
    assert_int_equal(q->m, m);
    for (int k = 0; k < m; k++) {
        NEAR(q->qini[k], qini[k], 1e-9);
        NEAR(q->uplift[k], uplift[k], 1e-9);
    }
    NEAR(q->qini_auc, qa, 1e-9);
    NEAR(q->uplift_auc, ua, 1e-9);
    cl_uplift_qini_free(q);
}

static void normalised_vs_reference(void **state)
{
    (void)state;
    check_ref(UPA_Y, UPA_T, UPA_S, UPA_N, UPA_M, UPA_QINI, UPA_UPLIFT, UPA_QINI_AUC, UPA_UPLIFT_AUC);
    check_ref(UPB_Y, UPB_T, UPB_S, UPB_N, UPB_M, UPB_QINI, UPB_UPLIFT, UPB_QINI_AUC, UPB_UPLIFT_AUC);
    /* the perfect score itself scores 1 on its own normalisation */
    float ps[UPA_N];
    for (int i = 0; i < UPA_N; i++)
        ps[i] = UPA_Y[i] * UPA_T[i] - UPA_Y[i] * (1 - UPA_T[i]);
    cl_qini *q;
    assert_int_equal(cl_uplift_qini_curve(&q, UPA_Y, UPA_T, ps, UPA_N), CL_OK);
    NEAR(q->qini_auc, 1, 1e-12);
    cl_uplift_qini_free(q);
}

static void psi_cases(void **state)
{
    (void)state;
    enum { N = 10000 };
    static double e[N], same[N], shifted[N];
    cl_rng r;
    cl_rng_seed(&r, 4);
    for (int i = 0; i < N; i++) {
        e[i] = cl_rng_normal(&r);
        same[i] = cl_rng_normal(&r);
        shifted[i] = cl_rng_normal(&r) + 1;
    }
    double psi;
    assert_int_equal(cl_drift_psi(e, N, e, N, 10, &psi), CL_OK);
    NEAR(psi, 0, 1e-15);
    assert_int_equal(cl_drift_psi(e, N, same, N, 10, &psi), CL_OK);
    assert_true(psi < 0.01);
    assert_int_equal(cl_drift_psi(e, N, shifted, N, 10, &psi), CL_OK);
    assert_true(psi > 0.25);
    /* by hand: reference {1,2,3,4} in 2 bins (edge at 3): shares .5/.5; actual {3,3,3,1}:
     * .25/.75 -> (.25-.5)ln(.5) + (.75-.5)ln(1.5) */
    double a4[4] = {1, 2, 3, 4}, b4[4] = {3, 3, 3, 1};
    assert_int_equal(cl_drift_psi(a4, 4, b4, 4, 2, &psi), CL_OK);
    NEAR(psi, -0.25 * log(0.5) + 0.25 * log(1.5), 1e-12);
    assert_int_equal(cl_drift_psi(a4, 4, b4, 4, 1, &psi), CL_EINVAL);
    assert_int_equal(cl_drift_psi(a4, 0, b4, 4, 5, &psi), CL_EINVAL);
}

static void qini_errors(void **state)
{
    (void)state;
    float y[3] = {1, 0, 1}, t[3] = {1, 1, 1}, s[3] = {1, 2, 3};
    cl_qini *q;
    assert_int_equal(cl_uplift_qini_curve(&q, y, t, s, 3), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "both treated and control"));
    t[1] = 2;
    assert_int_equal(cl_uplift_qini_curve(&q, y, t, s, 3), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2: treatment"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(qini_by_hand), cmocka_unit_test(qini_vs_direct),
        cmocka_unit_test(normalised_vs_reference),
        cmocka_unit_test(knowing_the_uplift_helps), cmocka_unit_test(psi_cases),
        cmocka_unit_test(qini_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
