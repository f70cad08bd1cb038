/* test_kmeans.c - k-means against a naive Lloyd implementation from the same seeding,
 * against scikit-learn's inertia and labels on separated blobs, silhouette against brute
 * force and scikit-learn, determinism across thread counts, errors and allocation failure. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "analysis/kmeans.h"
#include "core/lib/refit.h"

#include "data/calib_ref.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

/* A model with parameters p fitted on X, or NULL with the fit's status (new + fit). */
static int fit_new(cl_kmeans **out, const cl_kmeans_params *p, const float *X, int64_t n, int d,
                   int32_t *labels)
{
    int rc = cl_kmeans_new(out, p);
    if (!rc && (rc = cl_kmeans_fit(*out, X, n, d, labels, NULL))) {
        cl_kmeans_free(*out);
        *out = NULL;
    }
    return rc;
}

static void blobs_match_sklearn(void **state)
{
    (void)state;
    cl_kmeans_params p = cl_kmeans_params_default();
    p.k = KM_K;
    p.restarts = 5;
    int32_t lab[KM_N];
    cl_kmeans *m;
    float X[KM_N * KM_D];
    for (int i = 0; i < KM_N * KM_D; i++)
        X[i] = (float)KM_X[i];
    assert_int_equal(fit_new(&m, &p, X, KM_N, KM_D, lab), CL_OK);
    NEAR(m->inertia, KM_INERTIA, 1e-4); /* same optimum on well-separated blobs */
    /* same partition up to a relabelling */
    int map[KM_K];
    for (int c = 0; c < KM_K; c++)
        map[c] = -1;
    for (int i = 0; i < KM_N; i++) {
        if (map[lab[i]] < 0)
            map[lab[i]] = KM_LABELS[i];
        assert_int_equal(map[lab[i]], KM_LABELS[i]);
    }
    double sil;
    assert_int_equal(cl_kmeans_silhouette(X, KM_N, KM_D, lab, KM_K, 0, 0, &sil), CL_OK);
    NEAR(sil, KM_SILHOUETTE, 1e-6); /* sklearn computes in float32 here */
    int32_t pred[KM_N];
    assert_int_equal(cl_kmeans_predict(m, X, KM_N, KM_D, pred), CL_OK);
    assert_memory_equal(pred, lab, sizeof pred);
    cl_kmeans_free(m);
}

/* Naive silhouette straight from the definition. */
static double naive_silhouette(const float *X, int n, int d, const int32_t *lab, int k)
{
    double total = 0;
    for (int i = 0; i < n; i++) {
        double sum[16] = {0};
        int cnt[16] = {0};
        for (int j = 0; j < n; j++) {
            double t = 0;
            for (int c = 0; c < d; c++)
                t += ((double)X[i * d + c] - X[j * d + c]) * ((double)X[i * d + c] - X[j * d + c]);
            sum[lab[j]] += sqrt(t);
            cnt[lab[j]]++;
        }
        if (cnt[lab[i]] == 1)
            continue;
        double a = sum[lab[i]] / (cnt[lab[i]] - 1), b = INFINITY;
        for (int c = 0; c < k; c++)
            if (c != lab[i] && cnt[c] && sum[c] / cnt[c] < b)
                b = sum[c] / cnt[c];
        total += (b - a) / fmax(a, b);
    }
    return total / n;
}

static void random_data_vs_naive(void **state)
{
    (void)state;
    enum { N = 9000, D = 5 }; /* more than one reduction block */
    static float X[N * D];
    cl_rng r;
    cl_rng_seed(&r, 3);
    for (int i = 0; i < N * D; i++)
        X[i] = (float)cl_rng_normal(&r);
    cl_kmeans_params p = cl_kmeans_params_default();
    p.k = 6;
    p.restarts = 2;
    p.tol = 0; /* run to the exact fixed point so it can be checked below */
    p.max_iter = 5000;
    static int32_t lab1[N], lab2[N];
    cl_kmeans *m1, *m2;
    cl_threads_set(1);
    assert_int_equal(fit_new(&m1, &p, X, N, D, lab1), CL_OK);
    cl_threads_set(2);
    assert_int_equal(fit_new(&m2, &p, X, N, D, lab2), CL_OK);
    cl_threads_set(0);
    /* bit-identical whatever the thread count */
    assert_memory_equal(m1->centers, m2->centers, sizeof(double) * 6 * D);
    assert_memory_equal(lab1, lab2, sizeof lab1);
    assert_true(m1->inertia == m2->inertia);
    /* Lloyd fixed point: every centre is the mean of its points, every point is nearest its
     * centre (checked naively) and the inertia is the sum of squared distances. */
    double sums[6][D] = {{0}}, cnt[6] = {0}, inertia = 0;
    for (int i = 0; i < N; i++) {
        int best = 0;
        double bd = INFINITY;
        for (int c = 0; c < 6; c++) {
            double t = 0;
            for (int j = 0; j < D; j++)
                t += (X[i * D + j] - m1->centers[c * D + j]) * (X[i * D + j] - m1->centers[c * D + j]);
            if (t < bd) {
                bd = t;
                best = c;
            }
        }
        assert_int_equal(best, lab1[i]);
        inertia += bd;
        cnt[best]++;
        for (int j = 0; j < D; j++)
            sums[best][j] += X[i * D + j];
    }
    NEAR(inertia, m1->inertia, 1e-9);
    assert_true(m1->iters < p.max_iter);
    for (int c = 0; c < 6; c++)
            for (int j = 0; j < D; j++)
                NEAR(sums[c][j] / cnt[c], m1->centers[c * D + j], 1e-9);
    double sil;
    assert_int_equal(cl_kmeans_silhouette(X, 600, D, lab1, 6, 0, 0, &sil), CL_OK);
    NEAR(sil, naive_silhouette(X, 600, D, lab1, 6), 1e-12);
    cl_kmeans_free(m1);
    cl_kmeans_free(m2);
}

static void errors(void **state)
{
    (void)state;
    float X[6] = {1, 2, 3, 4, NAN, 6};
    cl_kmeans_params p = cl_kmeans_params_default();
    p.k = 2;
    cl_kmeans *m;
    assert_int_equal(fit_new(&m, &p, X, 3, 2, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 3, column 1 is NaN"));
    p.k = 5;
    X[4] = 0;
    assert_int_equal(fit_new(&m, &p, X, 3, 2, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "3 rows cannot make 5 clusters"));
    p.k = 0;
    assert_int_equal(fit_new(&m, &p, X, 3, 2, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "'k'"));
}

static void same_model(const cl_kmeans *a, const cl_kmeans *b)
{
    assert_int_equal(a->k, b->k);
    assert_int_equal(a->d, b->d);
    assert_memory_equal(a->centers, b->centers, sizeof(double) * (size_t)a->k * (size_t)a->d);
    assert_memory_equal(a->sizes, b->sizes, sizeof(int64_t) * (size_t)a->k);
    assert_true(a->inertia == b->inertia);
    assert_int_equal(a->iters, b->iters);
}

/* _fit fits the object it is given (issue 14): a refit on new data is the fit of a new model
 * on that data, bit for bit; a failed fit (bad data, an allocation failing anywhere) leaves
 * the fitted model as it was; an unfitted model refuses to predict. */
static void refit_and_failed_fit(void **state)
{
    (void)state;
    float X[KM_N * KM_D], Y[KM_N * KM_D];
    for (int i = 0; i < KM_N * KM_D; i++) {
        X[i] = (float)KM_X[i];
        Y[i] = (float)(KM_X[i] * KM_X[i]) - (float)i * 0.01f; /* other data, other clusters */
    }
    cl_kmeans_params p = cl_kmeans_params_default();
    p.k = 3;
    cl_kmeans *m, *fresh, *ref;
    int32_t lab[KM_N], lab2[KM_N];
    assert_int_equal(cl_kmeans_new(&m, &p), CL_OK);
    assert_int_equal(cl_kmeans_predict(m, X, KM_N, KM_D, lab), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "fitted"));
    assert_int_equal(cl_kmeans_fit(m, X, KM_N, KM_D, NULL, NULL), CL_OK);
    assert_int_equal(cl_kmeans_fit(m, Y, KM_N, KM_D, lab, NULL), CL_OK);
    assert_int_equal(fit_new(&fresh, &p, Y, KM_N, KM_D, lab2), CL_OK);
    same_model(m, fresh);
    assert_memory_equal(lab, lab2, sizeof lab);
    assert_int_equal(fit_new(&ref, &p, X, KM_N, KM_D, NULL), CL_OK);
    assert_true(memcmp(ref->centers, fresh->centers, sizeof(double) * 3 * KM_D) != 0);
    /* a failed refit: NaN data, then every allocation of the fit failing in turn */
    Y[5] = NAN;
    assert_int_equal(cl_kmeans_fit(m, Y, KM_N, KM_D, NULL, NULL), CL_EINVAL);
    same_model(m, fresh);
    REFIT_SWEEP(cl_kmeans_fit(m, X, KM_N, KM_D, NULL, NULL), same_model(m, fresh));
    same_model(m, ref); /* the last, successful refit */
    assert_int_equal(cl_kmeans_predict(m, X, KM_N, KM_D, lab), CL_OK);
    cl_kmeans_free(m);
    cl_kmeans_free(fresh);
    cl_kmeans_free(ref);
}

static void alloc_failures(void **state)
{
    (void)state;
    float X[KM_N * KM_D];
    for (int i = 0; i < KM_N * KM_D; i++)
        X[i] = (float)KM_X[i];
    cl_kmeans_params p = cl_kmeans_params_default();
    p.k = 4;
    size_t base = cl_alloc_bytes();
    for (long k = 1;; k++) {
        cl_alloc_fail_at(k);
        cl_kmeans *m = NULL;
        int rc = fit_new(&m, &p, X, KM_N, KM_D, NULL);
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            cl_kmeans_free(m);
            break;
        }
        assert_int_equal(rc, CL_ENOMEM);
        assert_int_equal(cl_alloc_bytes(), base);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(blobs_match_sklearn), cmocka_unit_test(random_data_vs_naive),
        cmocka_unit_test(errors), cmocka_unit_test(alloc_failures),
        cmocka_unit_test(refit_and_failed_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
