/* test_metrics.c - core/metrics.c against scikit-learn references (tests/data/metrics_ref.txt,
 * written by scripts/ref/metrics_ref.py) plus error cases.
 * Tolerances: metrics are double sums and ratios of counts over the same float32 scores that
 * scikit-learn saw (no BLAS); the two differ only in summation order (n eps64 relative, n <= a
 * few hundred: 1e-13) and in libm's last bit (log loss), so 1e-9 relative is a wide margin,
 * while a wrong tie or threshold moves a metric by at least 1/n. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnlab.h"
#include "core/lib/refdata.h"

/* ---- reference file ------------------------------------------------------------------ */

static ref_set refs;

static int load_refs(void **state)
{
    (void)state;
    return ref_load(&refs, "tests/data/metrics_ref.txt");
}

static int free_refs(void **state)
{
    (void)state;
    ref_free(&refs);
    return 0;
}

static const ref *get(const char *cas, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s.%s", cas, key);
    return ref_find(&refs, k);
}

static void near(double got, double want, double tol, const char *what)
{
    if (isinf(want) && got == want)
        return;
    if (!(fabs(got - want) <= tol * fmax(1.0, fabs(want))))
        fail_msg("%s: got %.17g, want %.17g", what, got, want);
}

static void arrays(const double *got, int64_t n, const ref *want, double tol, const char *what)
{
    assert_non_null(want);
    if (n != want->n)
        fail_msg("%s: %lld points, want %d", what, (long long)n, want->n);
    for (int i = 0; i < want->n; i++) {
        char w[96];
        snprintf(w, sizeof w, "%s[%d]", what, i);
        near(got[i], want->v[i], tol, w);
    }
}

static const char *cases[] = {"random", "ties", "alltied", "perfect", "extremes", "imbalanced",
                              "oneclass", NULL};

static void case_data(const char *cas, float **y, float **p, int64_t *n)
{
    const ref *ry = get(cas, "y"), *rp = get(cas, "p");
    assert_non_null(ry);
    assert_non_null(rp);
    *n = ry->n;
    *y = malloc(sizeof(float) * (size_t)ry->n);
    *p = malloc(sizeof(float) * (size_t)ry->n);
    for (int i = 0; i < ry->n; i++) {
        (*y)[i] = (float)ry->v[i];
        (*p)[i] = (float)rp->v[i];
        assert_true((double)(*p)[i] == rp->v[i]); /* fixtures are exact float32 values */
    }
}

static void scalar(const char *cas, const char *key, double got, double tol)
{
    const ref *r = get(cas, key);
    assert_non_null(r);
    char w[96];
    snprintf(w, sizeof w, "%s.%s", cas, key);
    near(got, r->v[0], tol, w);
}

static void test_threshold_metrics(void **state)
{
    (void)state;
    for (int c = 0; cases[c]; c++) {
        float *y, *p;
        int64_t n;
        case_data(cases[c], &y, &p, &n);
        cl_confusion cm;
        assert_int_equal(cl_metrics_confusion(&cm, y, p, n, 0.5), CL_OK);
        const ref *rc = get(cases[c], "confusion");
        assert_int_equal(cm.tp, (int64_t)rc->v[0]);
        assert_int_equal(cm.fp, (int64_t)rc->v[1]);
        assert_int_equal(cm.tn, (int64_t)rc->v[2]);
        assert_int_equal(cm.fn, (int64_t)rc->v[3]);
        cl_threshold_metrics m;
        cl_metrics_from_confusion(&m, &cm);
        scalar(cases[c], "accuracy", m.accuracy, 1e-9);
        scalar(cases[c], "precision", m.precision, 1e-9);
        scalar(cases[c], "recall", m.recall, 1e-9);
        scalar(cases[c], "specificity", m.specificity, 1e-9);
        scalar(cases[c], "f1", m.f1, 1e-9);
        scalar(cases[c], "f2", cl_metrics_fbeta(&cm, 2.0), 1e-9);
        scalar(cases[c], "balanced_accuracy", m.balanced_accuracy, 1e-9);
        scalar(cases[c], "mcc", m.mcc, 1e-9);
        double v;
        assert_int_equal(cl_metrics_log_loss(&v, y, p, n, 1e-15), CL_OK);
        scalar(cases[c], "log_loss", v, 1e-9);
        assert_int_equal(cl_metrics_brier(&v, y, p, n), CL_OK);
        scalar(cases[c], "brier", v, 1e-9);
        free(y);
        free(p);
    }
}

static void test_ranking_metrics(void **state)
{
    (void)state;
    for (int c = 0; cases[c]; c++) {
        float *y, *p;
        int64_t n;
        case_data(cases[c], &y, &p, &n);
        double v, t;
        if (get(cases[c], "roc_auc")) {
            assert_int_equal(cl_metrics_roc_auc(&v, y, p, n), CL_OK);
            scalar(cases[c], "roc_auc", v, 1e-9);
            assert_int_equal(cl_metrics_average_precision(&v, y, p, n), CL_OK);
            scalar(cases[c], "ap", v, 1e-9);
            const ref *r = get(cases[c], "best_f1");
            assert_int_equal(cl_metrics_best_threshold(&t, &v, y, p, n, CL_THRESH_F1, 0, 0), 0);
            near(t, r->v[0], 0, "best_f1 threshold");
            near(v, r->v[1], 1e-9, "best_f1 value");
            r = get(cases[c], "best_youden");
            assert_int_equal(cl_metrics_best_threshold(&t, &v, y, p, n, CL_THRESH_YOUDEN, 0, 0),
                             0);
            near(t, r->v[0], 0, "best_youden threshold");
            near(v, r->v[1], 1e-9, "best_youden value");
        } else {
            assert_int_equal(cl_metrics_roc_auc(&v, y, p, n), CL_EINVAL);
            assert_non_null(strstr(cl_error_last(), "only one class"));
            assert_int_equal(cl_metrics_average_precision(&v, y, p, n), CL_EINVAL);
        }
        const ref *r = get(cases[c], "best_cost");
        assert_int_equal(cl_metrics_best_threshold(&t, &v, y, p, n, CL_THRESH_COST, 1, 5), 0);
        near(t, r->v[0], 0, "best_cost threshold");
        near(v, r->v[1], 1e-9, "best_cost value");
        free(y);
        free(p);
    }
}

static void test_curves(void **state)
{
    (void)state;
    for (int c = 0; cases[c]; c++) {
        float *y, *p;
        int64_t n;
        case_data(cases[c], &y, &p, &n);
        cl_curve cv;
        if (get(cases[c], "roc_fpr")) {
            assert_int_equal(cl_metrics_roc_curve(&cv, y, p, n), CL_OK);
            arrays(cv.x, cv.n, get(cases[c], "roc_fpr"), 1e-6, "roc fpr");
            arrays(cv.y, cv.n, get(cases[c], "roc_tpr"), 1e-6, "roc tpr");
            assert_true(isinf(cv.t[0]));
            arrays(cv.t + 1, cv.n - 1, get(cases[c], "roc_thr"), 1e-6, "roc thr");
            cl_metrics_curve_free(&cv);
            assert_int_equal(cl_metrics_pr_curve(&cv, y, p, n), CL_OK);
            arrays(cv.x, cv.n, get(cases[c], "pr_recall"), 1e-6, "pr recall");
            arrays(cv.y, cv.n, get(cases[c], "pr_precision"), 1e-6, "pr precision");
            arrays(cv.t, cv.n - 1, get(cases[c], "pr_thr"), 1e-6, "pr thr");
            cl_metrics_curve_free(&cv);
        }
        assert_int_equal(cl_metrics_calibration(&cv, y, p, n, 10), CL_OK);
        arrays(cv.x, cv.n, get(cases[c], "calib_pred"), 1e-6, "calibration mean predicted");
        arrays(cv.y, cv.n, get(cases[c], "calib_true"), 1e-6, "calibration positive fraction");
        cl_metrics_curve_free(&cv);
        if (get(cases[c], "gains")) {
            double rate[10];
            assert_int_equal(cl_metrics_gains(&cv, rate, y, p, n, 10), CL_OK);
            arrays(cv.x, cv.n, get(cases[c], "gains_x"), 1e-12, "gains x");
            arrays(cv.y, cv.n, get(cases[c], "gains"), 1e-12, "gains");
            arrays(cv.t, cv.n, get(cases[c], "lift"), 1e-12, "lift");
            arrays(rate, 10, get(cases[c], "decile_lift"), 1e-12, "decile lift");
            cl_metrics_curve_free(&cv);
        }
        free(y);
        free(p);
    }
}

static void test_bad_input(void **state)
{
    (void)state;
    float y[3] = {0, 1, 2}, p[3] = {0.1f, 0.2f, 0.3f};
    double v;
    assert_int_equal(cl_metrics_roc_auc(&v, y, p, 3), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 3"));
    y[2] = 1;
    p[1] = NAN;
    assert_int_equal(cl_metrics_brier(&v, y, p, 3), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2 is NaN"));
    p[1] = 1.5f;
    assert_int_equal(cl_metrics_log_loss(&v, y, p, 3, 1e-15), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "0 <= p <= 1"));
    /* scores outside [0, 1] are fine for ranking metrics */
    assert_int_equal(cl_metrics_roc_auc(&v, y, p, 3), CL_OK);
    assert_int_equal(cl_metrics_roc_auc(&v, y, p, 0), CL_EINVAL);
    assert_int_equal(cl_metrics_log_loss(&v, y, p, 3, 0), CL_EINVAL);
    cl_curve cv;
    assert_int_equal(cl_metrics_gains(&cv, NULL, y, p, 3, 10), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "at least 10 rows"));
    assert_int_equal(cl_metrics_calibration(&cv, y, p, 3, 0), CL_EINVAL);
    assert_int_equal(cl_metrics_best_threshold(&v, &v, y, p, 3, CL_THRESH_COST, -1, 1),
                     CL_EINVAL);
}

/* The one rank AUC against brute force over every (positive, negative) pair, ties counting
 * half, on scores with many ties; a single class gives NaN, not an error. */
static void test_rank_auc_brute_force(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 7);
    for (int rep = 0; rep < 20; rep++) {
        int64_t n = 1 + (int64_t)(cl_rng_uniform(&r) * 60);
        double s[64];
        float y[64];
        for (int64_t i = 0; i < n; i++) {
            s[i] = floor(cl_rng_uniform(&r) * 8) - 3; /* 8 distinct values: ties everywhere */
            y[i] = cl_rng_uniform(&r) < 0.4 ? 1.0f : 0.0f;
        }
        double wins = 0, pairs = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < n; j++)
                if (y[i] == 1.0f && y[j] == 0.0f) {
                    pairs++;
                    wins += s[i] > s[j] ? 1 : s[i] == s[j] ? 0.5 : 0;
                }
        double got;
        assert_int_equal(cl_metrics_auc(&got, s, y, n), CL_OK);
        if (pairs == 0)
            assert_true(isnan(got));
        else
            near(got, wins / pairs, 1e-12, "rank AUC vs pairs"); /* sums of halves: exact */
    }
}

static void test_alloc_failures(void **state)
{
    (void)state;
    float y[12], p[12];
    size_t before = cl_alloc_bytes();
    for (int i = 0; i < 12; i++) {
        y[i] = (float)(i % 3 == 0);
        p[i] = (float)i / 12.0f;
    }
    for (long k = 1; k < 8; k++) {
        cl_curve cv;
        double v;
        cl_alloc_fail_at(k);
        int rc = cl_metrics_roc_curve(&cv, y, p, 12);
        if (rc == CL_OK)
            cl_metrics_curve_free(&cv);
        else
            assert_int_equal(rc, CL_ENOMEM);
        cl_alloc_fail_at(k);
        rc = cl_metrics_gains(&cv, NULL, y, p, 12, 10);
        if (rc == CL_OK)
            cl_metrics_curve_free(&cv);
        else
            assert_int_equal(rc, CL_ENOMEM);
        cl_alloc_fail_at(k);
        rc = cl_metrics_roc_auc(&v, y, p, 12);
        assert_true(rc == CL_OK || rc == CL_ENOMEM);
    }
    cl_alloc_fail_at(0);
    assert_int_equal(cl_alloc_bytes(), before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_threshold_metrics), cmocka_unit_test(test_ranking_metrics),
        cmocka_unit_test(test_curves),            cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_alloc_failures),    cmocka_unit_test(test_rank_auc_brute_force),
    };
    return cmocka_run_group_tests(tests, load_refs, free_refs);
}
