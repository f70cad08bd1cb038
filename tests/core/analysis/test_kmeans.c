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

#include "data/calib_ref.h"

#define NEAR(a, b, tol) assert_true(fabs((double)(a) - (double)(b)) <= (tol) * fmax(1.0, fabs((double)(b))))

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
    assert_int_equal(cl_kmeans_fit(&m, &p, X, KM_N, KM_D, lab, NULL), CL_OK);
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
    assert_int_equal(cl_kmeans_fit(&m1, &p, X, N, D, lab1, NULL), CL_OK);
    cl_threads_set(2);
    assert_int_equal(cl_kmeans_fit(&m2, &p, X, N, D, lab2, NULL), CL_OK);
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
    assert_int_equal(cl_kmeans_fit(&m, &p, X, 3, 2, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 3, column 1 is NaN"));
    p.k = 5;
    X[4] = 0;
    assert_int_equal(cl_kmeans_fit(&m, &p, X, 3, 2, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "3 rows cannot make 5 clusters"));
    p.k = 0;
    assert_int_equal(cl_kmeans_fit(&m, &p, X, 3, 2, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "'k'"));
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
        int rc = cl_kmeans_fit(&m, &p, X, KM_N, KM_D, NULL, NULL);
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
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
