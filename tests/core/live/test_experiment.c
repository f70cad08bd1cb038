/* test_experiment.c - the experiment's per-arm statistics, intervals and popularity list
 * against a brute-force oracle (tallies kept by the generator, two-pass variances, the normal
 * quantile from tables), window boundaries, and refusals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"
#include "live/experiment.h"

#define NU 300
#define NT 40
#define WIN 7
#define Z90 1.6448536269514722 /* Phi^-1(0.95), from tables */

typedef struct truth {
    int day; /* impression day, -1 none */
    double views, minutes, churn, et, ec;
} truth;

static char *text;
static size_t len, cap;

static void put(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char line[256];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (len + (size_t)n + 1 > cap) {
        cap = 2 * (len + (size_t)n + 1);
        text = realloc(text, cap);
    }
    memcpy(text + len, line, (size_t)n + 1);
    len += (size_t)n;
}

/* Two-pass mean and variance of v over the customers of arm a with complete windows. */
static void brute(const cl_experiment *x, const truth *t, int a, int now, int field, double *n,
                  double *mean, double *var)
{
    double s = 0, ss = 0;
    *n = 0;
    for (int i = 0; i < NU; i++)
        if (t[i].day >= 0 && t[i].day + WIN <= now && cl_experiment_arm(x, i + 1) == a) {
            double v = field == 0 ? t[i].views : field == 1 ? t[i].minutes : t[i].churn;
            s += v;
            (*n)++;
        }
    *mean = s / *n;
    for (int i = 0; i < NU; i++)
        if (t[i].day >= 0 && t[i].day + WIN <= now && cl_experiment_arm(x, i + 1) == a) {
            double v = field == 0 ? t[i].views : field == 1 ? t[i].minutes : t[i].churn;
            ss += (v - *mean) * (v - *mean);
        }
    *var = ss / (*n - 1);
}

static void test_oracle(void **unused)
{
    (void)unused;
    cl_experiment_params p;
    cl_experiment_params_default(&p);
    p.seed = 11;
    p.holdout = 0.3;
    cl_experiment *x;
    assert_int_equal(cl_experiment_new(&x, NU, NT, &p), CL_OK);
    truth t[NU];
    long watches[NT] = {0};
    cl_rng r;
    cl_rng_split(&r, 5, 0);
    for (int i = 0; i < NU; i++)
        t[i] = (truth){-1, 0, 0, 0, 0, 0};
    const int D0 = 100, D1 = 130;
    for (int d = D0; d <= D1; d++) {
        len = 0;
        put("user_id,day,event,title_id,minutes,completion,device,detail\n");
        for (int i = 0; i < NU; i++) {
            int id = i + 1;
            if (t[i].churn > 0 || cl_rng_uniform(&r) < 0.5)
                continue;
            int tid = 1 + (int)cl_rng_below(&r, NT), m = (int)cl_rng_below(&r, 120);
            int rec = cl_rng_uniform(&r) < 0.4, cancel = cl_rng_uniform(&r) < 0.01;
            int inwin = t[i].day >= 0 && d > t[i].day && d <= t[i].day + WIN;
            put("%d,%d,watch,%d,%d,0.5,tv,%s\n", id, d, tid, m, rec ? "rec" : "");
            if (!rec)
                watches[tid - 1]++;
            if (inwin) {
                t[i].minutes += m;
                t[i].views += rec;
            }
            if (cancel) {
                put("%d,%d,cancel,,,,,\n", id, d);
                if (inwin)
                    t[i].churn = 1;
                else
                    t[i].churn = 0.5; /* gone, but outside any window: counts as stayed */
            }
        }
        assert_int_equal(cl_experiment_observe_csv(x, d, text, len), CL_OK);
        for (int i = 0; i < NU; i++) {
            int visited = cl_experiment_visited(x, i + 1, d);
            if (visited && t[i].day < 0 && cl_rng_uniform(&r) < 0.3) {
                t[i].day = d;
                t[i].et = cl_rng_uniform(&r);
                t[i].ec = cl_rng_uniform(&r);
                assert_int_equal(cl_experiment_impress(x, i + 1, d, t[i].et, t[i].ec), 1);
                assert_int_equal(cl_experiment_impress(x, i + 1, d, 0, 0), 0); /* once */
            }
        }
    }
    for (int i = 0; i < NU; i++)
        if (t[i].churn == 0.5)
            t[i].churn = 0;
    cl_experiment_summary s;
    cl_experiment_summarize(x, &s);
    double n[2], mean[2][3], var[2][3];
    for (int a = 0; a < 2; a++)
        for (int f = 0; f < 3; f++)
            brute(x, t, a, D1, f, &n[a], &mean[a][f], &var[a][f]);
    assert_true(n[0] > 20 && n[1] > 50);
    for (int a = 0; a < 2; a++) {
        assert_int_equal(s.arm[a].n, (long long)n[a]);
        /* one-pass vs two-pass sums of small integers: rounding only, 1e-9 relative */
        assert_true(fabs(s.arm[a].views - mean[a][0]) <= 1e-9 * (1 + mean[a][0]));
        assert_true(fabs(s.arm[a].views_var - var[a][0]) <= 1e-9 * (1 + var[a][0]));
        assert_true(fabs(s.arm[a].minutes - mean[a][1]) <= 1e-9 * (1 + mean[a][1]));
        assert_true(fabs(s.arm[a].churn - mean[a][2]) <= 1e-12);
    }
    double lift = mean[1][0] - mean[0][0];
    double se = sqrt(var[1][0] / n[1] + var[0][0] / n[0]);
    assert_true(fabs(s.lift - lift) <= 1e-9);
    /* the quantile by bisection vs the tabled value: 1e-12 of the half width */
    assert_true(fabs(s.lo - (lift - Z90 * se)) <= 1e-9);
    assert_true(fabs(s.hi - (lift + Z90 * se)) <= 1e-9);
    assert_true(fabs(s.relative_lift - lift / mean[0][0]) <= 1e-9);
    double tl = 0, ntl = 0;
    for (int i = 0; i < NU; i++)
        if (t[i].day >= 0 && t[i].day + WIN <= D1) {
            tl += t[i].et - t[i].ec;
            ntl++;
        }
    assert_true(fabs(s.true_lift - tl / ntl) <= 1e-12);
    /* popularity: brute-force top 5 by organic watches, ties to the lower id */
    int32_t pop[5];
    assert_int_equal(cl_experiment_popular(x, 5, pop), 5);
    for (int k = 0; k < 5; k++) {
        int best = -1;
        for (int tt = 0; tt < NT; tt++) {
            int taken = 0;
            for (int j = 0; j < k; j++)
                taken |= pop[j] == tt + 1;
            if (!taken && (best < 0 || watches[tt] > watches[best]))
                best = tt;
        }
        assert_int_equal(pop[k], best + 1);
    }
    cl_experiment_publish(x);
    cl_experiment_summary s2;
    assert_int_equal(cl_experiment_published(x, &s2), 1);
    assert_true(s2.lift == s.lift && s2.arm[1].n == s.arm[1].n);
    cl_experiment_free(x);
}

static void test_window_and_errors(void **unused)
{
    (void)unused;
    cl_experiment_params p;
    cl_experiment_params_default(&p);
    cl_experiment *x;
    p.holdout = 2;
    assert_int_equal(cl_experiment_new(&x, 10, 10, &p), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "holdout"));
    p.holdout = 0.1;
    p.window = 0;
    assert_int_equal(cl_experiment_new(&x, 10, 10, &p), CL_EINVAL);
    p.window = 2;
    assert_int_equal(cl_experiment_new(&x, 10, 10, &p), CL_OK);
    cl_experiment_summary s;
    assert_int_equal(cl_experiment_published(x, &s), 0);
    assert_int_equal(cl_experiment_impress(x, 3, 10, 1, 0), 1);
    const char *h = "user_id,day,event,title_id,minutes,completion,device,detail\n";
    char buf[512];
    /* day 10 (the impression's own day) and day 13 (after the window) do not count */
    for (int d = 10; d <= 13; d++) {
        snprintf(buf, sizeof buf, "%s3,%d,watch,4,10,0.5,tv,rec\n", h, d);
        assert_int_equal(cl_experiment_observe_csv(x, d, buf, strlen(buf)), CL_OK);
        cl_experiment_summarize(x, &s);
        long long n = s.arm[0].n + s.arm[1].n;
        assert_int_equal(n, d >= 12 ? 1 : 0); /* in once its window (11, 12) is over */
    }
    int a = cl_experiment_arm(x, 3);
    assert_true(s.arm[a].views == 2 && s.arm[a].minutes == 20);
    snprintf(buf, sizeof buf, "%s3,14,watch,99,10,0.5,tv,\n", h);
    assert_int_equal(cl_experiment_observe_csv(x, 14, buf, strlen(buf)), CL_ERANGE);
    assert_non_null(strstr(cl_error_last(), "line 2"));
    snprintf(buf, sizeof buf, "%s3,14,watch\n", h);
    assert_int_equal(cl_experiment_observe_csv(x, 14, buf, strlen(buf)), CL_EINVAL);
    snprintf(buf, sizeof buf, "%s0,14,cancel,,,,,\n", h);
    assert_int_equal(cl_experiment_observe_csv(x, 14, buf, strlen(buf)), CL_ERANGE);
    assert_true(cl_experiment_arm(x, 11) < 0);
    assert_true(cl_experiment_impress(x, 0, 1, 0, 0) < 0);
    cl_experiment_free(x);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_oracle),
        cmocka_unit_test(test_window_and_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
