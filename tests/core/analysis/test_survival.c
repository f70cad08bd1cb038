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
#include "core/lib/refit.h"

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
    assert_int_equal(cl_survival_km_estimate(&km, t, e, n, 0.95), CL_OK);
    /* Hand-computed product-limit values for the 6-MP arm (Kleinbaum & Klein, table 2.1). */
    static const double at[] = {6, 7, 10, 13, 16, 22, 23};
    static const double s[] = {18.0 / 21, 18.0 / 21 * 16 / 17, 18.0 / 21 * 16 / 17 * 14 / 15,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7,
                               18.0 / 21 * 16 / 17 * 14 / 15 * 11 / 12 * 10 / 11 * 6 / 7 * 5 / 6};
    for (int i = 0; i < 7; i++)
        NEAR(cl_survival_km_at(km, at[i]), s[i], 1e-12);
    NEAR(cl_survival_km_at(km, 0.5), 1.0, 0);
    NEAR(cl_survival_km_at(km, 6.5), s[0], 1e-12);
    NEAR(km->median, 23, 0); /* first time S <= 0.5: S(22) = 0.538, S(23) = 0.448 */
    cl_survival_km_free(km);
}

static void km_vs_statsmodels(void **state)
{
    (void)state;
    double t[LEUK_N], e[LEUK_N];
    int64_t n;
    split_mp(t, e, &n);
    cl_km *km;
    assert_int_equal(cl_survival_km_estimate(&km, t, e, n, 0.95), CL_OK);
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
    cl_survival_km_free(km);
    /* placebo median */
    double tp[LEUK_N], ep[LEUK_N];
    int64_t np = 0;
    for (int i = 0; i < LEUK_N; i++)
        if (LEUK_GROUP[i] == 1) {
            tp[np] = LEUK_TIME[i];
            ep[np++] = LEUK_EVENT[i];
        }
    assert_int_equal(cl_survival_km_estimate(&km, tp, ep, np, 0.9), CL_OK);
    NEAR(km->median, KM_PLACEBO_MEDIAN, 0);
    cl_survival_km_free(km);
}

static void logrank_textbook(void **state)
{
    (void)state;
    double chi2, p;
    int32_t g[LEUK_N];
    for (int i = 0; i < LEUK_N; i++)
        g[i] = LEUK_GROUP[i];
    assert_int_equal(cl_survival_logrank(LEUK_TIME, LEUK_EVENT, g, LEUK_N, 2, &chi2, &p), CL_OK);
    NEAR(chi2, 16.79, 1e-3); /* the textbook's rounded figure */
    NEAR(chi2, LOGRANK_CHI2, 1e-10);
    NEAR(p, LOGRANK_P, 1e-8);
}

/* A Cox model with these parameters fitted on the data, or NULL with the status (new + fit). */
static int cox_fit_new_w(cl_cox **out, const double *X, const double *t, const double *e,
                         const double *w, int64_t n, int d, int ties, int max_iter, double tol,
                         double conf)
{
    cl_cox_params p = {.ties = ties, .max_iter = max_iter, .tol = tol, .conf = conf};
    int rc = cl_cox_new(out, &p);
    if (!rc && (rc = cl_cox_fit_w(*out, X, t, e, w, n, d))) {
        cl_cox_free(*out);
        *out = NULL;
    }
    return rc;
}

static int cox_fit_new(cl_cox **out, const double *X, const double *t, const double *e, int64_t n,
                       int d, int ties, int max_iter, double tol, double conf)
{
    return cox_fit_new_w(out, X, t, e, NULL, n, d, ties, max_iter, tol, conf);
}

static void same_cox(const cl_cox *a, const cl_cox *b)
{
    assert_int_equal(a->d, b->d);
    size_t d = (size_t)a->d;
    assert_memory_equal(a->beta, b->beta, d * sizeof(double));
    assert_memory_equal(a->se, b->se, d * sizeof(double));
    assert_memory_equal(a->var, b->var, d * d * sizeof(double));
    assert_memory_equal(a->mean, b->mean, d * sizeof(double));
    assert_memory_equal(a->aliased, b->aliased, d);
    assert_true(a->loglik == b->loglik && a->loglik0 == b->loglik0);
    assert_int_equal(a->iters, b->iters);
    assert_int_equal(a->n, b->n);
    assert_int_equal(a->events, b->events);
    assert_int_equal(a->weighted, b->weighted);
    assert_int_equal(a->m, b->m);
    assert_memory_equal(a->bh_time, b->bh_time, (size_t)a->m * sizeof(double));
    assert_memory_equal(a->bh_cumhaz, b->bh_cumhaz, (size_t)a->m * sizeof(double));
}

/* _fit fits the model it is given (issue 14): a refit on other data (here another width and
 * weights) is bit for bit the fit of a new model; a failed refit (bad data, an allocation
 * failing anywhere) leaves the fitted model as it was; an unfitted model refuses to predict. */
static void cox_refit_and_failed_fit(void **state)
{
    (void)state;
    double X[LEUK_N], w[SYN_N], lp[LEUK_N];
    for (int i = 0; i < LEUK_N; i++)
        X[i] = LEUK_GROUP[i];
    for (int i = 0; i < SYN_N; i++)
        w[i] = 1 + i % 3;
    cl_cox_params p = cl_cox_params_default();
    p.ties = CL_COX_BRESLOW;
    cl_cox *m, *fresh, *leuk;
    assert_int_equal(cl_cox_new(&m, &p), CL_OK);
    assert_int_equal(cl_cox_predict(m, X, LEUK_N, lp), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "not fitted"));
    assert_int_equal(cl_cox_survival(m, X, LEUK_N, X, 1, lp), CL_EINVAL);
    assert_int_equal(cl_cox_fit(m, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1), CL_OK);
    assert_int_equal(cl_cox_fit_w(m, SYN_X, SYN_TIME, SYN_EVENT, w, SYN_N, SYN_D), CL_OK);
    assert_int_equal(cox_fit_new_w(&fresh, SYN_X, SYN_TIME, SYN_EVENT, w, SYN_N, SYN_D,
                                   CL_COX_BRESLOW, p.max_iter, p.tol, p.conf), CL_OK);
    same_cox(m, fresh);
    double Xbad[SYN_N * SYN_D];
    memcpy(Xbad, SYN_X, sizeof Xbad);
    Xbad[7] = NAN;
    assert_int_equal(cl_cox_fit(m, Xbad, SYN_TIME, SYN_EVENT, SYN_N, SYN_D), CL_EINVAL);
    same_cox(m, fresh);
    REFIT_SWEEP(cl_cox_fit(m, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1), same_cox(m, fresh));
    assert_int_equal(cox_fit_new(&leuk, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1, CL_COX_BRESLOW,
                                 p.max_iter, p.tol, p.conf), CL_OK);
    same_cox(m, leuk); /* the last, successful refit */
    NEAR(m->beta[0], COX_LEUK_BRESLOW_BETA, 1e-6);
    assert_int_equal(cl_cox_predict(m, X, LEUK_N, lp), CL_OK);
    /* parameters are checked when the model is made */
    cl_cox *bad;
    p.conf = 1;
    assert_int_equal(cl_cox_new(&bad, &p), CL_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(cl_error_last(), "conf must be in (0, 1)"));
    cl_cox_free(m);
    cl_cox_free(fresh);
    cl_cox_free(leuk);
}

static void cox_leukaemia(void **state)
{
    (void)state;
    double X[LEUK_N];
    for (int i = 0; i < LEUK_N; i++)
        X[i] = LEUK_GROUP[i];
    cl_cox *m;
    assert_int_equal(cox_fit_new(&m, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1, CL_COX_EFRON, 50, 1e-12, 0.95), CL_OK);
    NEAR(m->beta[0], COX_LEUK_EFRON_BETA, 1e-7);
    NEAR(m->se[0], COX_LEUK_EFRON_SE, 1e-6);
    assert_true(m->converged);
    assert_true(m->lo[0] < exp(m->beta[0]) && exp(m->beta[0]) < m->hi[0]);
    cl_cox_free(m);
    assert_int_equal(cox_fit_new(&m, X, LEUK_TIME, LEUK_EVENT, LEUK_N, 1, CL_COX_BRESLOW, 50, 1e-12, 0.95), CL_OK);
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
        assert_int_equal(cox_fit_new(&m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, SYN_D, ties, 50, 1e-12, 0.95), CL_OK);
        for (int k = 0; k < SYN_D; k++) {
            NEAR(m->beta[k], beta[ties][k], 1e-6);
            NEAR(m->se[k], se[ties][k], 1e-6);
        }
        NEAR(m->loglik, ll[ties], 1e-9);
        assert_true(m->loglik > m->loglik0);
        cl_cox_free(m);
    }
}


/* Predictions against direct numpy computations from statsmodels' coefficients
 * (scripts/ref/survival_ref.py). Both sides use the fitted beta, which agree to the solvers'
 * stopping point (1e-6 relative, see cox_synthetic); the baseline, S(t|x), restricted means and
 * residuals are smooth in beta with derivatives O(1) on these data, so 1e-5 covers it. */
static void cox_predictions(void **state)
{
    (void)state;
    static const double *bt[] = {BH_EFRON_TIME, BH_BRESLOW_TIME}, *bh[] = {BH_EFRON_CUMHAZ0, BH_BRESLOW_CUMHAZ0};
    static const int bm[] = {BH_EFRON_M, BH_BRESLOW_M};
    static const double *sv[] = {SURV_EFRON, SURV_BRESLOW}, *md[] = {MEDIAN_EFRON, MEDIAN_BRESLOW};
    static const double *rm[] = {RMST_EFRON, RMST_BRESLOW}, *rf[] = {RMST_FROM_EFRON, RMST_FROM_BRESLOW};
    static const double *cv[] = {CLV_EFRON, CLV_BRESLOW}, *sc[] = {SCHOENFELD_EFRON, SCHOENFELD_BRESLOW};
    static const double *zr[] = {ZPH_EFRON_RANK_CHI2, ZPH_BRESLOW_RANK_CHI2}, *zk[] = {ZPH_EFRON_KM_CHI2, ZPH_BRESLOW_KM_CHI2};
    static const double zg[] = {ZPH_EFRON_RANK_GLOBAL, ZPH_BRESLOW_RANK_GLOBAL}, zrho[] = {ZPH_EFRON_RANK_RHO[0], ZPH_BRESLOW_RANK_RHO[0]};
    static const double ci[] = {CINDEX_EFRON, CINDEX_BRESLOW}, cp[] = {CINDEX_EFRON_PAIRS, CINDEX_BRESLOW_PAIRS};
    static const double un[] = {UNO_EFRON_TAU2, UNO_BRESLOW_TAU2};
    double zero[SYN_D] = {0};
    for (int ties = 0; ties < 2; ties++) {
        cl_cox *m;
        assert_int_equal(cox_fit_new(&m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, SYN_D, ties, 50, 1e-12, 0.95), CL_OK);
        assert_int_equal(m->m, bm[ties]);
        for (int j = 0; j < bm[ties]; j++) {
            assert_true(m->bh_time[j] == bt[ties][j]);
            NEAR(cl_cox_cumhaz0(m, zero, bt[ties][j]), bh[ties][j], 1e-5);
        }
        if (ties == CL_COX_BRESLOW) /* statsmodels' own, lagged by one event time */
            for (int j = 1; j < SM_BH_M; j++)
                NEAR(cl_cox_cumhaz0(m, zero, SM_BH_TIME[j - 1]), SM_BH_LAGGED[j], 1e-5);
        double X[PRED_NR * SYN_D], S[PRED_NR * PRED_NT], med[PRED_NR], rmst[PRED_NR], from[PRED_NR], clv[PRED_NR];
        for (int r = 0; r < PRED_NR; r++) {
            memcpy(X + r * SYN_D, SYN_X + PRED_ROWS[r] * SYN_D, sizeof(double) * SYN_D);
            from[r] = 0.4;
        }
        assert_int_equal(cl_cox_survival(m, X, PRED_NR, PRED_T, PRED_NT, S), CL_OK);
        for (int i = 0; i < PRED_NR * PRED_NT; i++)
            NEAR(S[i], sv[ties][i], 1e-5);
        assert_int_equal(cl_cox_lifetime(m, X, PRED_NR, NULL, 1.5, med, rmst), CL_OK);
        for (int r = 0; r < PRED_NR; r++) {
            if (md[ties][r] < 0)
                assert_true(isnan(med[r]));
            else
                NEAR(med[r], md[ties][r], 0);
            NEAR(rmst[r], rm[ties][r], 1e-5);
        }
        assert_int_equal(cl_cox_lifetime(m, X, PRED_NR, from, 1.5, NULL, rmst), CL_OK);
        for (int r = 0; r < PRED_NR; r++)
            NEAR(rmst[r], rf[ties][r], 1e-5);
        double margin[PRED_NR] = {9.5, 9.5, 9.5, 9.5, 9.5, 9.5};
        assert_int_equal(cl_cox_clv(m, X, PRED_NR, from, margin, 3, 0.01, clv), CL_OK);
        for (int r = 0; r < PRED_NR; r++)
            NEAR(clv[r], cv[ties][r], 1e-5);
        static double R[SYN_N * SYN_D];
        assert_int_equal(cl_cox_schoenfeld(m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, R), CL_OK);
        double sum[SYN_D] = {0};
        for (int i = 0; i < SYN_N * SYN_D; i++) {
            if (sc[ties][i] == 1e300) {
                assert_true(isnan(R[i]));
                continue;
            }
            NEAR(R[i], sc[ties][i], 1e-5);
            sum[i % SYN_D] += R[i];
            if (ties == CL_COX_BRESLOW)
                NEAR(R[i], SM_SCHOENFELD[i], 1e-5);
        }
        for (int k = 0; k < SYN_D; k++) /* the score at the MLE */
            NEAR(sum[k], 0, 1e-6);
        double rho[SYN_D], chi2[SYN_D], p[SYN_D], gc, gp;
        int df;
        assert_int_equal(cl_cox_zph_test(m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, CL_ZPH_RANK, rho, chi2, p, &gc, &gp, &df), CL_OK);
        for (int k = 0; k < SYN_D; k++)
            NEAR(chi2[k], zr[ties][k], 1e-5);
        NEAR(gc, zg[ties], 1e-5);
        NEAR(rho[0], zrho[ties], 1e-5);
        assert_int_equal(df, SYN_D);
        assert_int_equal(cl_cox_zph_test(m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, CL_ZPH_KM, rho, chi2, p, &gc, &gp, &df), CL_OK);
        for (int k = 0; k < SYN_D; k++)
            NEAR(chi2[k], zk[ties][k], 1e-5);
        static double lp[SYN_N];
        cl_cox_predict(m, SYN_X, SYN_N, lp);
        double h, u, P;
        assert_int_equal(cl_survival_concordance(SYN_TIME, SYN_EVENT, lp, SYN_N, 2.0, &h, &u, &P, NULL, NULL), CL_OK);
        NEAR(h, ci[ties], 1e-6); /* a rank statistic: only a pair whose lp differ by 1e-6 could flip */
        NEAR(P, cp[ties], 0);
        NEAR(u, un[ties], 1e-6);
        cl_cox_free(m);
    }
}

/* Harrell's C by the O(n log n) tree against the O(n^2) definition on small data with tied
 * times, tied risks and censoring at event times; exact (counts of pairs, halves). */
static void concordance_brute(void **state)
{
    (void)state;
    uint64_t s = 12345;
    for (int rep = 0; rep < 200; rep++) {
        int n = 2 + rep % 19;
        double t[21], e[21], r[21];
        for (int i = 0; i < n; i++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            t[i] = (double)((s >> 33) % 6);
            e[i] = (double)((s >> 20) % 3 != 0);
            r[i] = (double)((s >> 40) % 4);
        }
        double P = 0, C = 0, T = 0;
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (e[i] == 1 && (t[i] < t[j] || (t[i] == t[j] && e[j] == 0))) {
                    P++;
                    C += r[i] > r[j];
                    T += r[i] == r[j];
                }
        double h, p2, c2, t2;
        int rc = cl_survival_concordance(t, e, r, n, 0, &h, NULL, &p2, &c2, &t2);
        if (P == 0) {
            assert_int_equal(rc, CL_EINVAL);
            continue;
        }
        assert_int_equal(rc, CL_OK);
        assert_true(p2 == P && c2 == C && t2 == T);
        assert_true(h == (C + 0.5 * T) / P);
    }
}

/* A full one-hot set (all levels) plus an intercept-like constant: the last level and the
 * constant are aliased and dropped; the others equal the fit without them. */
static void cox_aliased(void **state)
{
    (void)state;
    enum { D = 5 };
    static double X[SYN_N * D], Xr[SYN_N * 3];
    for (int i = 0; i < SYN_N; i++) {
        int lvl = i % 3;
        double x0 = SYN_X[i * SYN_D];
        double row[D] = {x0, lvl == 0, lvl == 1, lvl == 2, 7};
        memcpy(X + i * D, row, sizeof row);
        Xr[i * 3] = x0, Xr[i * 3 + 1] = lvl == 0, Xr[i * 3 + 2] = lvl == 1;
    }
    cl_cox *m, *r;
    assert_int_equal(cox_fit_new(&m, X, SYN_TIME, SYN_EVENT, SYN_N, D, CL_COX_EFRON, 50, 1e-12, 0.95), CL_OK);
    assert_int_equal(cox_fit_new(&r, Xr, SYN_TIME, SYN_EVENT, SYN_N, 3, CL_COX_EFRON, 50, 1e-12, 0.95), CL_OK);
    assert_int_equal(m->naliased, 2);
    assert_true(m->aliased[3] == 1 && m->aliased[4] == 2 && !m->aliased[0]); /* collinear, constant */
    assert_true(isnan(m->se[3]) && m->beta[3] == 0);
    for (int k = 0; k < 3; k++) /* same arithmetic on the same reduced columns */
        NEAR(m->beta[k], r->beta[k], 1e-12);
    cl_cox_free(m);
    cl_cox_free(r);
}

static void bad_input(void **state)
{
    (void)state;
    double t[3] = {1, NAN, 2}, e[3] = {1, 0, 1}, x[3] = {0, 1, 0};
    cl_km *km;
    assert_int_equal(cl_survival_km_estimate(&km, t, e, 3, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2"));
    t[1] = 3;
    e[2] = 2;
    assert_int_equal(cl_survival_km_estimate(&km, t, e, 3, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "event must be 0 or 1"));
    e[2] = 0;
    cl_cox *m;
    double z[3] = {0, 0, 0};
    assert_int_equal(cox_fit_new(&m, x, t, z, 3, 1, CL_COX_EFRON, 20, 1e-9, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "no events"));
    double c[3] = {5, 5, 5};
    assert_int_equal(cox_fit_new(&m, c, t, e, 3, 1, CL_COX_EFRON, 20, 1e-9, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "singular"));
    int32_t g[3] = {0, 0, 0};
    double chi2, p;
    assert_int_equal(cl_survival_logrank(t, e, g, 3, 2, &chi2, &p), CL_EINVAL);
    g[1] = 5;
    assert_int_equal(cl_survival_logrank(t, e, g, 3, 2, &chi2, &p), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "group 5"));
    assert_int_equal(cl_survival_km_estimate(&km, t, e, 0, 0.95), CL_EINVAL);
}

static void alloc_failures(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    for (long k = 1;; k++) {
        cl_alloc_fail_at(k);
        cl_cox *m = NULL;
        int rc = cox_fit_new(&m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, SYN_D, CL_COX_EFRON, 50, 1e-9, 0.95);
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
        int rc = cl_survival_km_estimate(&km, SYN_TIME, SYN_EVENT, SYN_N, 0.95);
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            cl_survival_km_free(km);
            break;
        }
        assert_int_equal(rc, CL_ENOMEM);
        assert_int_equal(cl_alloc_bytes(), base);
    }
}

static void distributions(void **state)
{
    (void)state;
    NEAR(cl_stats_norm_ppf(0.975), NORM_PPF_0975, 1e-13);
    NEAR(cl_stats_norm_ppf(1e-10), NORM_PPF_1EM10, 1e-11);
    NEAR(cl_stats_chi2_sf(3.841458820694124, 1), CHI2_SF_3841_1, 1e-12);
    NEAR(cl_stats_chi2_sf(30, 10), CHI2_SF_30_10, 1e-12);
    NEAR(cl_stats_chi2_sf(0.5, 7), CHI2_SF_05_7, 1e-12);
    NEAR(cl_stats_gamma_p(2.5, 1.5) + cl_stats_gamma_q(2.5, 1.5), 1, 1e-14);
}

/* Case weights (issue 20). Exact by construction: all-one weights are the unweighted fit bit
 * for bit (the weighted code multiplies by 1.0 and divides nd by nd). Integer weights: Kaplan-
 * Meier and a Breslow Cox equal the fit of the rows repeated, up to the order of the same
 * sums (1e-12; Cox: Newton to 1e-12 on both, 1e-9). The references against statsmodels are
 * in tests/lua/survival_weights.lua. */
static int rep_rows(const double *w, double *X, double *t, double *e)
{
    int k = 0;
    for (int i = 0; i < SYN_N; i++)
        for (int r = 0; r < (int)w[i]; r++, k++) {
            memcpy(X + (size_t)k * SYN_D, SYN_X + (size_t)i * SYN_D, SYN_D * sizeof *X);
            t[k] = SYN_TIME[i];
            e[k] = SYN_EVENT[i];
        }
    return k;
}

static void weights_repeat(void **state)
{
    (void)state;
    static double w[SYN_N], ones[SYN_N], X[3 * SYN_N * SYN_D], t[3 * SYN_N], e[3 * SYN_N];
    for (int i = 0; i < SYN_N; i++) {
        w[i] = 1 + i % 3;
        ones[i] = 1;
    }
    int nr = rep_rows(w, X, t, e);
    cl_km *a, *b, *c;
    assert_int_equal(cl_survival_km_estimate_w(&a, SYN_TIME, SYN_EVENT, w, SYN_N, 0.95), CL_OK);
    assert_int_equal(cl_survival_km_estimate(&b, t, e, nr, 0.95), CL_OK);
    assert_int_equal(cl_survival_km_estimate_w(&c, SYN_TIME, SYN_EVENT, ones, SYN_N, 0.95), CL_OK);
    cl_km *u;
    assert_int_equal(cl_survival_km_estimate(&u, SYN_TIME, SYN_EVENT, SYN_N, 0.95), CL_OK);
    assert_int_equal(a->m, b->m);
    for (int64_t j = 0; j < a->m; j++) {
        NEAR(a->surv[j], b->surv[j], 1e-12);
        if (!(isnan(a->se[j]) && isnan(b->se[j])))
            NEAR(a->se[j], b->se[j], 1e-12);
        NEAR(a->n_risk[j], b->n_risk[j], 0);
        assert_memory_equal(&c->surv[j], &u->surv[j], sizeof(double));
        assert_memory_equal(&c->se[j], &u->se[j], sizeof(double));
    }
    cl_survival_km_free(a);
    cl_survival_km_free(b);
    cl_survival_km_free(c);
    cl_survival_km_free(u);
    cl_cox *m, *r, *o, *uo;
    assert_int_equal(cox_fit_new_w(&m, SYN_X, SYN_TIME, SYN_EVENT, w, SYN_N, SYN_D, CL_COX_BRESLOW,
                                  50, 1e-12, 0.95), CL_OK);
    assert_int_equal(cox_fit_new(&r, X, t, e, nr, SYN_D, CL_COX_BRESLOW, 50, 1e-12, 0.95), CL_OK);
    for (int k = 0; k < SYN_D; k++) {
        NEAR(m->beta[k], r->beta[k], 1e-9);
        NEAR(m->se[k], r->se[k], 1e-9);
    }
    assert_int_equal(m->weighted, 1);
    for (int ties = CL_COX_EFRON; ties <= CL_COX_BRESLOW; ties++) {
        assert_int_equal(cox_fit_new_w(&o, SYN_X, SYN_TIME, SYN_EVENT, ones, SYN_N, SYN_D, ties,
                                      50, 1e-9, 0.95), CL_OK);
        assert_int_equal(cox_fit_new(&uo, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, SYN_D, ties, 50, 1e-9,
                                    0.95), CL_OK);
        assert_memory_equal(o->beta, uo->beta, SYN_D * sizeof(double));
        assert_memory_equal(o->var, uo->var, SYN_D * SYN_D * sizeof(double));
        assert_memory_equal(o->bh_cumhaz, uo->bh_cumhaz, (size_t)o->m * sizeof(double));
        cl_cox_free(o);
        cl_cox_free(uo);
    }
    double resid[SYN_N * SYN_D];
    assert_int_equal(cl_cox_schoenfeld(m, SYN_X, SYN_TIME, SYN_EVENT, SYN_N, resid), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "fitted with weights"));
    cl_cox_free(m);
    cl_cox_free(r);
    w[4] = -2;
    assert_int_equal(cl_survival_km_estimate_w(&a, SYN_TIME, SYN_EVENT, w, SYN_N, 0.95), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 5: weight must be"));
    assert_null(a);
    w[4] = NAN;
    assert_int_equal(cox_fit_new_w(&m, SYN_X, SYN_TIME, SYN_EVENT, w, SYN_N, SYN_D, CL_COX_EFRON,
                                  50, 1e-9, 0.95), CL_EINVAL);
    assert_null(m);
    size_t base = cl_alloc_bytes();
    for (long k = 1;; k++) { /* every allocation of the weighted fit can fail cleanly */
        cl_alloc_fail_at(k);
        int rc = cox_fit_new_w(&m, SYN_X, SYN_TIME, SYN_EVENT, ones, SYN_N, SYN_D, CL_COX_EFRON, 50,
                              1e-9, 0.95);
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            cl_cox_free(m);
            break;
        }
        assert_int_equal(rc, CL_ENOMEM);
        assert_int_equal(cl_alloc_bytes(), base);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(km_textbook),  cmocka_unit_test(km_vs_statsmodels),
        cmocka_unit_test(logrank_textbook), cmocka_unit_test(cox_leukaemia),
        cmocka_unit_test(cox_refit_and_failed_fit),
        cmocka_unit_test(cox_synthetic), cmocka_unit_test(bad_input),
        cmocka_unit_test(alloc_failures), cmocka_unit_test(distributions),
        cmocka_unit_test(cox_predictions), cmocka_unit_test(concordance_brute), cmocka_unit_test(cox_aliased),
        cmocka_unit_test(weights_repeat),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
