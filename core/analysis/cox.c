/* cox.c - Cox proportional hazards: Newton-Raphson on the partial likelihood (Breslow and
 * Efron ties), the baseline hazard, S(t|x), lifetimes, CLV, Schoenfeld residuals and the
 * Grambsch-Therneau test. */
#include "analysis/cox.h"
#include "analysis/survival.h" /* cl_survival_km_estimate for the test's km transform */
#include "analysis/survival_impl.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void cl_cox_free(cl_cox *m)
{
    if (!m)
        return;
    cl_alloc_free(m->beta);
    cl_alloc_free(m->bh_time);
    cl_alloc_free(m);
}

typedef struct cox_work {
    const double *X;      /* centred copy, n x d */
    const double *time, *event;
    const double *cw;     /* case weights [n], NULL = 1 */
    const int64_t *idx;   /* descending time order */
    int64_t n;
    int d, ties;
    double *eta, *w, *S1, *S2, *D1, *D2, *a1;
} cox_work;

/* Partial log-likelihood, gradient g[d] and information I[d*d] at beta. */
static double cox_eval(cox_work *cw, const double *beta, double *g, double *I)
{
    int d = cw->d;
    int64_t n = cw->n;
    double emax = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double e = 0;
        for (int k = 0; k < d; k++)
            e += cw->X[i * d + k] * beta[k];
        cw->eta[i] = e;
        if (e > emax)
            emax = e;
    }
    for (int64_t i = 0; i < n; i++)
        cw->w[i] = exp(cw->eta[i] - emax);
    double ll = 0, S0 = 0;
    memset(g, 0, (size_t)d * sizeof *g);
    memset(I, 0, (size_t)d * d * sizeof *I);
    memset(cw->S1, 0, (size_t)d * sizeof *cw->S1);
    memset(cw->S2, 0, (size_t)d * d * sizeof *cw->S2);
    for (int64_t a = 0; a < n;) { /* idx is in descending time: risk sets grow */
        double t = cw->time[cw->idx[a]];
        int64_t b = a;
        double D0 = 0, nd = 0;
        memset(cw->D1, 0, (size_t)d * sizeof *cw->D1);
        memset(cw->D2, 0, (size_t)d * d * sizeof *cw->D2);
        double Dw = 0; /* weight of the deaths */
        for (; b < n && cw->time[cw->idx[b]] == t; b++) {
            int64_t i = cw->idx[b];
            const double *x = cw->X + i * d;
            double c = cw->cw ? cw->cw[i] : 1.0;
            double wi = c * cw->w[i];
            S0 += wi;
            for (int k = 0; k < d; k++) {
                cw->S1[k] += wi * x[k];
                for (int l = 0; l <= k; l++)
                    cw->S2[k * d + l] += wi * x[k] * x[l];
            }
            if (cw->event[i] == 1) {
                nd += 1;
                Dw += c;
                D0 += wi;
                ll += c * (cw->eta[i] - emax);
                for (int k = 0; k < d; k++) {
                    g[k] += c * x[k];
                    cw->D1[k] += wi * x[k];
                    for (int l = 0; l <= k; l++)
                        cw->D2[k * d + l] += wi * x[k] * x[l];
                }
            }
        }
        int efron = cw->ties == CL_COX_EFRON && nd > 1;
        /* Each of the nd tied deaths removes the mean death weight (R's coxph convention for
         * weighted Efron ties; for Breslow it sums to Dw log S0). Without weights mw is
         * nd / nd = 1 exactly, so the products below change nothing. */
        double mw = nd > 0 ? Dw / nd : 0;
        for (int r = 0; r < (int)nd; r++) {
            double f = efron ? r / nd : 0;
            double phi = S0 - f * D0;
            ll -= mw * log(phi);
            for (int k = 0; k < d; k++) {
                cw->a1[k] = (cw->S1[k] - f * cw->D1[k]) / phi;
                g[k] -= mw * cw->a1[k];
            }
            for (int k = 0; k < d; k++)
                for (int l = 0; l <= k; l++)
                    I[k * d + l] += mw * ((cw->S2[k * d + l] - f * cw->D2[k * d + l]) / phi -
                                          cw->a1[k] * cw->a1[l]);
        }
        a = b;
    }
    for (int k = 0; k < d; k++) /* mirror the lower triangle */
        for (int l = k + 1; l < d; l++)
            I[k * d + l] = I[l * d + k];
    return ll;
}

/* Columns exactly collinear with the ones before them (aliased 1) or constant (2): a Cholesky factorisation
 * of the centred cross-product Xc'Xc that skips a column whose residual sum of squares, after
 * the kept columns before it, is below 1e-10 of its own (rounding leaves ~1e-16 for an exact
 * combination such as the last level of a full one-hot set; a real covariate with R^2 of
 * 1 - 1e-10 on the others carries no usable information either). C (d x d) is scratch. */
static int find_aliased(const double *Xc, int64_t n, int d, double *C, unsigned char *aliased)
{
    memset(C, 0, (size_t)d * d * sizeof *C);
    for (int64_t i = 0; i < n; i++) {
        const double *x = Xc + i * d;
        for (int k = 0; k < d; k++)
            for (int l = 0; l <= k; l++)
                C[k * d + l] += x[k] * x[l];
    }
    int na = 0;
    for (int j = 0; j < d; j++) {
        double cjj = C[j * d + j], s = cjj;
        for (int k = 0; k < j; k++)
            if (!aliased[k])
                s -= C[j * d + k] * C[j * d + k];
        aliased[j] = !(cjj > 0) ? 2 : !(s > 1e-10 * cjj) ? 1 : 0;
        if (aliased[j]) {
            na++;
            continue;
        }
        double ljj = sqrt(s);
        C[j * d + j] = ljj;
        for (int i = j + 1; i < d; i++) {
            double t = C[i * d + j];
            for (int k = 0; k < j; k++)
                if (!aliased[k])
                    t -= C[i * d + k] * C[j * d + k];
            C[i * d + j] = t / ljj;
        }
    }
    return na;
}

/* Baseline cumulative hazard at the training mean: eta = centred linear predictor of every
 * row; fills m->bh_time/bh_cumhaz. idx: descending time order. */
static int cox_baseline(cl_cox *m, const double *eta, const double *time, const double *event,
                        const double *cwt, const int64_t *idx, int64_t n)
{
    int64_t nt = 0;
    for (int64_t a = 0; a < n;) {
        double t = time[idx[a]];
        int has = 0;
        for (; a < n && time[idx[a]] == t; a++)
            has |= event[idx[a]] == 1;
        nt += has;
    }
    double emax = -INFINITY;
    for (int64_t i = 0; i < n; i++)
        if (eta[i] > emax)
            emax = eta[i];
    double *blk = cl_alloc((size_t)(nt ? nt : 1) * 2 * sizeof(double));
    if (!blk)
        return CL_ENOMEM;
    m->m = nt;
    m->bh_time = blk;
    m->bh_cumhaz = blk + nt;
    /* descending pass: risk sets grow; increments stored in place, then summed ascending */
    double S0 = 0, scale = exp(-emax);
    int64_t k = nt;
    for (int64_t a = 0; a < n;) {
        double t = time[idx[a]], D0 = 0, nd = 0, Dw = 0;
        for (; a < n && time[idx[a]] == t; a++) {
            int64_t i = idx[a];
            double c = cwt ? cwt[i] : 1.0;
            double w = c * exp(eta[i] - emax);
            S0 += w;
            if (event[i] == 1) {
                D0 += w;
                nd += 1;
                Dw += c;
            }
        }
        if (nd == 0)
            continue;
        /* weighted: each tied death adds its mean weight (as in cox_eval); 1 unweighted */
        double dh = 0, mw = Dw / nd;
        if (m->ties == CL_COX_EFRON && nd > 1)
            for (int r = 0; r < (int)nd; r++)
                dh += mw / (S0 - r / nd * D0);
        else
            dh = Dw / S0;
        k--;
        m->bh_time[k] = t;
        m->bh_cumhaz[k] = dh * scale;
    }
    for (int64_t j = 1; j < nt; j++)
        m->bh_cumhaz[j] += m->bh_cumhaz[j - 1];
    return CL_OK;
}

cl_cox_params cl_cox_params_default(void)
{
    cl_cox_params p = {CL_COX_EFRON, 50, 1e-9, 0.95};
    return p;
}

static int check_params(const cl_cox_params *p)
{
    if (p->ties != CL_COX_EFRON && p->ties != CL_COX_BRESLOW)
        return cl_error(CL_EINVAL, "cox: ties must be efron or breslow");
    if (!(p->conf > 0 && p->conf < 1) || p->max_iter < 1 || !(p->tol > 0))
        return cl_error(CL_EINVAL, "cox: conf must be in (0, 1), max_iter >= 1 and tol > 0");
    return CL_OK;
}

int cl_cox_new(cl_cox **out, const cl_cox_params *p)
{
    *out = NULL;
    int rc = check_params(p);
    if (rc)
        return rc;
    cl_cox *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->params = *p;
    m->ties = p->ties;
    *out = m;
    return CL_OK;
}

static int fit_new(cl_cox **out, const cl_cox_params *pp, const double *X, const double *time,
                   const double *event, const double *weight, int64_t n, int d);

int cl_cox_fit(cl_cox *m, const double *X, const double *time, const double *event, int64_t n,
               int d)
{
    return cl_cox_fit_w(m, X, time, event, NULL, n, d);
}

/* The fit builds a new model and trades places with m only when it succeeds, so a failed fit
 * leaves m as it was and a refit owes nothing to the fit before. */
int cl_cox_fit_w(cl_cox *m, const double *X, const double *time, const double *event,
                 const double *weight, int64_t n, int d)
{
    cl_cox *q;
    int rc = fit_new(&q, &m->params, X, time, event, weight, n, d);
    if (rc)
        return rc;
    cl_cox t = *m;
    *m = *q;
    *q = t;
    cl_cox_free(q);
    return CL_OK;
}

static int fit_new(cl_cox **out, const cl_cox_params *pp, const double *X, const double *time,
                   const double *event, const double *weight, int64_t n, int d)
{
    *out = NULL;
    int ties = pp->ties, max_iter = pp->max_iter;
    double tol = pp->tol, conf = pp->conf;
    int rc = check_params(pp);
    if (!rc)
        rc = cl_survival_check(time, event, n, "cox");
    if (!rc)
        rc = cl_survival_check_weights(weight, n, "cox");
    if (rc)
        return rc;
    if (d < 1 || d > 1000)
        return cl_error(CL_EINVAL, "cox: need 1..1000 covariates, got %d", d);
    for (int64_t i = 0; i < n * d; i++)
        if (!isfinite(X[i]))
            return cl_error(CL_EINVAL, "cox: row %lld, covariate %d is not a finite number",
                            (long long)(i / d) + 1, (int)(i % d) + 1);
    double events = 0, wevents = 0;
    for (int64_t i = 0; i < n; i++) {
        events += event[i];
        wevents += event[i] * (weight ? weight[i] : 1.0);
    }
    if (events == 0)
        return cl_error(CL_EINVAL, "cox: no events (every observation is censored)");
    if (wevents == 0)
        return cl_error(CL_EINVAL, "cox: every event has weight 0");

    size_t dd = (size_t)d * d;
    size_t nwork = 2 * (size_t)n * d + 2 * (size_t)n + 3 * (size_t)d + 2 * dd /* Xc Xr eta w S1 D1 a1 S2 D2 */
                   + 5 * (size_t)d + 3 * dd;                        /* beta g step trial mean | I A Ivar */
    double *W = cl_alloc(nwork * sizeof(double));
    int64_t *idx = cl_alloc((size_t)n * sizeof *idx);
    cl_cox *m = cl_alloc_calloc(1, sizeof *m);
    /* beta se z p lo hi mean | var | aliased */
    double *res = cl_alloc((size_t)d * 7 * sizeof(double) + dd * sizeof(double) + (size_t)d);
    if (!W || !idx || !m || !res) {
        cl_alloc_free(W);
        cl_alloc_free(idx);
        cl_alloc_free(m);
        cl_alloc_free(res);
        return CL_ENOMEM;
    }
    m->beta = res;
    m->se = res + d;
    m->z = res + 2 * d;
    m->p = res + 3 * d;
    m->lo = res + 4 * d;
    m->hi = res + 5 * d;
    m->mean = res + 6 * d;
    m->var = res + 7 * d;
    m->aliased = (unsigned char *)(m->var + dd);
    m->params = *pp;
    m->d = d;
    m->ties = ties;
    m->n = n;
    m->events = (int64_t)events;
    m->weighted = weight != NULL;

    double *Xc = W, *Xr = W + (size_t)n * d, *p = W + 2 * (size_t)n * d;
    double *eta = p, *wt = p + n;
    p += 2 * (size_t)n;
    double *S1 = p, *D1 = p + d, *a1 = p + 2 * d;
    p += 3 * (size_t)d;
    double *S2 = p, *D2 = p + dd;
    p += 2 * dd;
    double *beta = p, *g = p + d, *step = p + 2 * d, *trial = p + 3 * d, *mean = p + 4 * d;
    p += 5 * (size_t)d;
    double *I = p, *A = p + dd, *Ivar = p + 2 * dd;

    /* Centre the covariates: beta is unchanged, exp() stays in range. With weights the mean
     * is weighted (the baseline is at the weighted training mean, as R's coxph). */
    double wsum = 0;
    for (int64_t i = 0; i < n; i++)
        wsum += weight ? weight[i] : 1.0;
    for (int k = 0; k < d; k++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            s += weight ? weight[i] * X[i * d + k] : X[i * d + k];
        mean[k] = weight ? s / wsum : s / (double)n;
    }
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            Xc[i * d + k] = X[i * d + k] - mean[k];
    m->naliased = find_aliased(Xc, n, d, A, m->aliased);
    int dr = d - m->naliased;
    if (dr == 0) {
        rc = cl_error(CL_EINVAL, "cox: the information matrix is singular (every covariate is "
                                 "constant or collinear with the others)");
        goto fail;
    }
    size_t ddr = (size_t)dr * dr;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0, c = 0; k < d; k++)
            if (!m->aliased[k])
                Xr[i * dr + c++] = Xc[i * d + k];
    {
        int64_t *o = cl_survival_order(time, n, 1); /* descending time */
        if (!o) {
            rc = CL_ENOMEM;
            goto fail;
        }
        memcpy(idx, o, (size_t)n * sizeof *idx);
        cl_alloc_free(o);
    }
    cox_work cw = {Xr, time, event, weight, idx, n, dr, ties, eta, wt, S1, S2, D1, D2, a1};

    memset(beta, 0, (size_t)dr * sizeof *beta);
    double ll = cox_eval(&cw, beta, g, I);
    m->loglik0 = ll;
    int it = 0, converged = 0;
    while (it < max_iter) {
        it++;
        memcpy(A, I, ddr * sizeof *A);
        memcpy(step, g, (size_t)dr * sizeof *step);
        if (cl_survival_chol(A, dr, step, 1) != CL_OK) {
            rc = cl_error(CL_EINVAL, "cox: the information matrix is singular (a covariate is "
                                     "constant, collinear, or perfectly separates events)");
            goto fail;
        }
        double ll_new = 0, half = 1;
        for (int h = 0; h < 30; h++, half /= 2) {
            for (int k = 0; k < dr; k++)
                trial[k] = beta[k] + half * step[k];
            ll_new = cox_eval(&cw, trial, g, I);
            if (ll_new >= ll - 1e-12 * fabs(ll)) {
                memcpy(beta, trial, (size_t)dr * sizeof *beta);
                break;
            }
        }
        double change = fabs(ll_new - ll);
        ll = ll_new;
        if (change <= tol * (fabs(ll) + tol)) {
            converged = 1;
            break;
        }
    }
    cox_eval(&cw, beta, g, I); /* information (and eta) at the final beta */
    memcpy(A, I, ddr * sizeof *A);
    memset(Ivar, 0, ddr * sizeof *Ivar);
    for (int k = 0; k < dr; k++)
        Ivar[k * dr + k] = 1;
    if (cl_survival_chol(A, dr, Ivar, dr) != CL_OK) {
        rc = cl_error(CL_EINVAL, "cox: the information matrix is singular at the solution");
        goto fail;
    }
    rc = cox_baseline(m, eta, time, event, weight, idx, n);
    if (rc)
        goto fail;
    double z = cl_stats_norm_ppf(0.5 + conf / 2);
    memset(m->var, 0, dd * sizeof *m->var);
    for (int k = 0, c = 0; k < d; k++) {
        m->mean[k] = mean[k];
        if (m->aliased[k]) {
            m->beta[k] = 0;
            m->se[k] = m->z[k] = m->p[k] = m->lo[k] = m->hi[k] = NAN;
            continue;
        }
        for (int l = 0, c2 = 0; l < d; l++)
            if (!m->aliased[l])
                m->var[k * d + l] = Ivar[c * dr + c2++];
        m->beta[k] = beta[c];
        m->se[k] = sqrt(Ivar[c * dr + c]);
        m->z[k] = beta[c] / m->se[k];
        m->p[k] = 2 * cl_stats_norm_sf(fabs(m->z[k]));
        m->lo[k] = exp(beta[c] - z * m->se[k]);
        m->hi[k] = exp(beta[c] + z * m->se[k]);
        c++;
    }
    m->loglik = ll;
    m->iters = it;
    m->converged = converged;
    cl_alloc_free(W);
    cl_alloc_free(idx);
    *out = m;
    return CL_OK;
fail:
    cl_alloc_free(W);
    cl_alloc_free(idx);
    cl_cox_free(m);
    return rc;
}

/* x'beta - mean'beta (aliased betas are 0) */
static double lp_centred(const cl_cox *m, const double *x)
{
    double e = 0;
    for (int k = 0; k < m->d; k++)
        e += (x[k] - m->mean[k]) * m->beta[k];
    return e;
}

static int not_fitted(const cl_cox *m, const char *what)
{
    return m->d ? CL_OK : cl_error(CL_EINVAL, "%s: the cox model is not fitted (fit it first)", what);
}

int cl_cox_predict(const cl_cox *m, const double *X, int64_t n, double *lp)
{
    if (!m->d)
        return not_fitted(m, "predict");
    for (int64_t i = 0; i < n; i++) {
        double e = 0;
        for (int k = 0; k < m->d; k++)
            e += X[i * m->d + k] * m->beta[k];
        lp[i] = e;
    }
    return CL_OK;
}

/* Baseline cumulative hazard at the mean, right-continuous step: H(t) of the last event time
 * <= t, 0 before the first. */
static double cumhaz_c(const cl_cox *m, double t)
{
    int64_t lo = 0, hi = m->m;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m->bh_time[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 0.0 : m->bh_cumhaz[lo - 1];
}

double cl_cox_cumhaz0(const cl_cox *m, const double *x0, double t)
{
    return cumhaz_c(m, t) * (x0 ? exp(lp_centred(m, x0)) : 1.0);
}

static int check_rows(const cl_cox *m, const double *X, int64_t n, const char *what)
{
    if (!m->d)
        return not_fitted(m, what);
    for (int64_t i = 0; i < n * m->d; i++)
        if (!isfinite(X[i]))
            return cl_error(CL_EINVAL, "%s: row %lld, covariate %d is not a finite number", what,
                            (long long)(i / m->d) + 1, (int)(i % m->d) + 1);
    return CL_OK;
}

int cl_cox_survival(const cl_cox *m, const double *X, int64_t n, const double *times, int nt,
                    double *out)
{
    int rc = check_rows(m, X, n, "survival");
    if (rc)
        return rc;
    for (int j = 0; j < nt; j++)
        if (isnan(times[j]))
            return cl_error(CL_EINVAL, "survival: time %d is NaN", j + 1);
    /* H0 at each time once (a binary search each), then one exp per cell */
    double *H = cl_alloc((size_t)(nt > 0 ? nt : 1) * sizeof *H);
    if (!H)
        return CL_ENOMEM;
    for (int j = 0; j < nt; j++)
        H[j] = cumhaz_c(m, times[j]);
    for (int64_t i = 0; i < n; i++) {
        double r = exp(lp_centred(m, X + i * m->d));
        for (int j = 0; j < nt; j++)
            out[i * nt + j] = exp(-H[j] * r);
    }
    cl_alloc_free(H);
    return CL_OK;
}

int cl_cox_lifetime(const cl_cox *m, const double *X, int64_t n, const double *from,
                    double horizon, double *med, double *rmst)
{
    int rc = check_rows(m, X, n, "expected_lifetime");
    if (rc)
        return rc;
    if (rmst && !(horizon > 0 && isfinite(horizon)))
        return cl_error(CL_EINVAL, "expected_lifetime: horizon must be a finite number > 0, got %g",
                        horizon);
    if (from)
        for (int64_t i = 0; i < n; i++)
            if (!(from[i] >= 0 && isfinite(from[i])))
                return cl_error(CL_EINVAL, "expected_lifetime: row %lld: from must be a finite "
                                           "number >= 0, got %g", (long long)i + 1, from[i]);
    const double ln2 = log(2.0);
    for (int64_t i = 0; i < n; i++) {
        double r = exp(lp_centred(m, X + i * m->d));
        if (med) {
            /* first event time with S <= 0.5, i.e. H r >= log 2 (H nondecreasing) */
            int64_t lo = 0, hi = m->m;
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (m->bh_cumhaz[mid] * r >= ln2)
                    hi = mid;
                else
                    lo = mid + 1;
            }
            med[i] = lo < m->m ? m->bh_time[lo] : NAN;
        }
        if (rmst) {
            /* int_a^{a+h} S(u)/S(a) du over the step function, as exp(-(H(u) - H(a)) r) so a
             * customer far down the curve does not underflow */
            double a = from ? from[i] : 0, end = a + horizon, ha = cumhaz_c(m, a);
            int64_t lo = 0, hi = m->m; /* first event time > a */
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (m->bh_time[mid] <= a)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            double u = a, s = 1, area = 0;
            for (int64_t j = lo; j < m->m && m->bh_time[j] <= end; j++) {
                area += s * (m->bh_time[j] - u);
                u = m->bh_time[j];
                s = exp(-(m->bh_cumhaz[j] - ha) * r);
            }
            rmst[i] = area + s * (end - u);
        }
    }
    return CL_OK;
}

int cl_cox_clv(const cl_cox *m, const double *X, int64_t n, const double *from,
               const double *margin, int horizon, double discount, double *out)
{
    int rc = check_rows(m, X, n, "clv");
    if (rc)
        return rc;
    if (horizon < 1)
        return cl_error(CL_EINVAL, "clv: horizon must be a whole number of periods >= 1, got %d",
                        horizon);
    if (!(discount > -1 && isfinite(discount)))
        return cl_error(CL_EINVAL, "clv: discount must be a finite rate > -1, got %g", discount);
    for (int64_t i = 0; i < n; i++) {
        if (from && !(from[i] >= 0 && isfinite(from[i])))
            return cl_error(CL_EINVAL, "clv: row %lld: from must be a finite number >= 0, got %g",
                            (long long)i + 1, from[i]);
        if (margin && !isfinite(margin[i]))
            return cl_error(CL_EINVAL, "clv: row %lld: margin is not a finite number",
                            (long long)i + 1);
    }
    for (int64_t i = 0; i < n; i++) {
        double r = exp(lp_centred(m, X + i * m->d)), a = from ? from[i] : 0;
        double ha = cumhaz_c(m, a), v = 0, df = 1;
        for (int k = 1; k <= horizon; k++) {
            df /= 1 + discount;
            v += exp(-(cumhaz_c(m, a + k) - ha) * r) * df;
        }
        out[i] = v * (margin ? margin[i] : 1.0);
    }
    return CL_OK;
}

/* Schoenfeld residuals of the non-aliased columns (dr of them) for event rows into R[n x dr]
 * (other rows untouched). Xc: centred reduced design, n x dr. */
static int schoenfeld_reduced(const cl_cox *m, const double *Xc, int dr, const double *time,
                              const double *event, int64_t n, double *R)
{
    int64_t *idx = cl_survival_order(time, n, 1);
    double *w = cl_alloc(((size_t)n + 3 * (size_t)dr) * sizeof(double));
    if (!idx || !w) {
        cl_alloc_free(idx);
        cl_alloc_free(w);
        return CL_ENOMEM;
    }
    double *S1 = w + n, *D1 = S1 + dr, *avg = D1 + dr;
    double br[1000];
    for (int k = 0, c = 0; k < m->d; k++)
        if (!m->aliased[k])
            br[c++] = m->beta[k];
    double emax = -INFINITY;
    for (int64_t i = 0; i < n; i++) {
        double e = 0;
        for (int k = 0; k < dr; k++)
            e += Xc[i * dr + k] * br[k];
        w[i] = e;
        if (e > emax)
            emax = e;
    }
    for (int64_t i = 0; i < n; i++)
        w[i] = exp(w[i] - emax);
    double S0 = 0;
    memset(S1, 0, (size_t)dr * sizeof *S1);
    for (int64_t a = 0; a < n;) {
        double t = time[idx[a]], D0 = 0, nd = 0;
        int64_t b = a;
        memset(D1, 0, (size_t)dr * sizeof *D1);
        for (; b < n && time[idx[b]] == t; b++) {
            int64_t i = idx[b];
            S0 += w[i];
            for (int k = 0; k < dr; k++)
                S1[k] += w[i] * Xc[i * dr + k];
            if (event[i] == 1) {
                nd += 1;
                D0 += w[i];
                for (int k = 0; k < dr; k++)
                    D1[k] += w[i] * Xc[i * dr + k];
            }
        }
        if (nd > 0) {
            if (m->ties == CL_COX_EFRON && nd > 1) {
                memset(avg, 0, (size_t)dr * sizeof *avg);
                for (int r = 0; r < (int)nd; r++) {
                    double f = r / nd, phi = S0 - f * D0;
                    for (int k = 0; k < dr; k++)
                        avg[k] += (S1[k] - f * D1[k]) / phi / nd;
                }
            } else {
                for (int k = 0; k < dr; k++)
                    avg[k] = S1[k] / S0;
            }
            for (int64_t c = a; c < b; c++) {
                int64_t i = idx[c];
                if (event[i] == 1)
                    for (int k = 0; k < dr; k++)
                        R[i * dr + k] = Xc[i * dr + k] - avg[k];
            }
        }
        a = b;
    }
    cl_alloc_free(idx);
    cl_alloc_free(w);
    return CL_OK;
}

/* Checks training-style input and builds the centred reduced design (owned, n x dr). */
static int reduced_design(const cl_cox *m, const double *X, const double *time,
                          const double *event, int64_t n, const char *what, double **Xc)
{
    *Xc = NULL;
    /* The residuals and the PH test would need the fit's weights in every risk-set mean and
     * in the variance scaling; refused rather than computed as if unweighted. */
    if (m->weighted)
        return cl_error(CL_EINVAL, "%s: not available for a Cox model fitted with weights", what);
    int rc = cl_survival_check(time, event, n, what);
    if (!rc)
        rc = check_rows(m, X, n, what);
    if (rc)
        return rc;
    int dr = m->d - m->naliased;
    double *x = cl_alloc((size_t)n * (size_t)(dr ? dr : 1) * sizeof *x);
    if (!x)
        return CL_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        for (int k = 0, c = 0; k < m->d; k++)
            if (!m->aliased[k])
                x[i * dr + c++] = X[i * m->d + k] - m->mean[k];
    *Xc = x;
    return CL_OK;
}

int cl_cox_schoenfeld(const cl_cox *m, const double *X, const double *time, const double *event,
                      int64_t n, double *resid)
{
    double *Xc;
    int rc = reduced_design(m, X, time, event, n, "schoenfeld", &Xc);
    if (rc)
        return rc;
    int d = m->d, dr = d - m->naliased;
    double *R = cl_alloc((size_t)n * (size_t)dr * sizeof *R);
    if (!R) {
        cl_alloc_free(Xc);
        return CL_ENOMEM;
    }
    rc = schoenfeld_reduced(m, Xc, dr, time, event, n, R);
    if (!rc)
        for (int64_t i = 0; i < n; i++)
            for (int k = 0, c = 0; k < d; k++)
                resid[i * d + k] = event[i] == 1 && !m->aliased[k] ? R[i * dr + c++] : NAN;
    cl_alloc_free(R);
    cl_alloc_free(Xc);
    return rc;
}

int cl_cox_zph_test(const cl_cox *m, const double *X, const double *time, const double *event,
                    int64_t n, int transform, double *rho, double *chi2, double *p,
                    double *global_chi2, double *global_p, int *global_df)
{
    if (transform < CL_ZPH_RANK || transform > CL_ZPH_LOG)
        return cl_error(CL_EINVAL, "ph_test: transform must be rank, km, identity or log");
    double *Xc;
    int rc = reduced_design(m, X, time, event, n, "ph_test", &Xc);
    if (rc)
        return rc;
    int d = m->d, dr = d - m->naliased;
    int64_t ne = 0;
    for (int64_t i = 0; i < n; i++)
        ne += event[i] == 1;
    double *R = cl_alloc((size_t)n * (size_t)dr * sizeof *R);
    double *gv = cl_alloc((size_t)(ne ? ne : 1) * 2 * sizeof *gv + 3 * (size_t)dr * sizeof *gv);
    int64_t *ev = cl_alloc((size_t)(ne ? ne : 1) * sizeof *ev);
    double *V = cl_alloc((size_t)dr * dr * sizeof *V);
    if (!R || !gv || !ev || !V) {
        rc = CL_ENOMEM;
        goto done;
    }
    if (ne < 2) {
        rc = cl_error(CL_EINVAL, "ph_test: needs at least 2 events, the data have %lld",
                      (long long)ne);
        goto done;
    }
    rc = schoenfeld_reduced(m, Xc, dr, time, event, n, R);
    if (rc)
        goto done;
    for (int k = 0, c = 0; k < d; k++) {
        if (m->aliased[k])
            continue;
        for (int l = 0, c2 = 0; l < d; l++)
            if (!m->aliased[l])
                V[c * dr + c2++] = m->var[k * d + l];
        c++;
    }
    double *g = gv, *tmp = gv + ne, *u = gv + 2 * ne, *uv = u + dr, *sr = uv + dr;
    for (int64_t i = 0, j = 0; i < n; i++)
        if (event[i] == 1)
            ev[j++] = i;
    /* g(t) at each event row */
    if (transform == CL_ZPH_RANK) {
        /* rank among the event times, ties averaged (R's rank, pandas' rank) */
        for (int64_t j = 0; j < ne; j++)
            tmp[j] = time[ev[j]];
        int64_t *o = cl_survival_order(tmp, ne, 0);
        if (!o) {
            rc = CL_ENOMEM;
            goto done;
        }
        for (int64_t a = 0; a < ne;) {
            int64_t b = a;
            while (b < ne && tmp[o[b]] == tmp[o[a]])
                b++;
            double r = (double)(a + 1 + b) / 2; /* mean of ranks a+1..b */
            for (int64_t c = a; c < b; c++)
                g[o[c]] = r;
            a = b;
        }
        cl_alloc_free(o);
    } else if (transform == CL_ZPH_KM) {
        cl_km *km;
        rc = cl_survival_km_estimate(&km, time, event, n, 0.95);
        if (rc)
            goto done;
        /* 1 - KM(t-): the curve just before the event (R's cox.zph "km") */
        for (int64_t j = 0; j < ne; j++) {
            double t = time[ev[j]];
            int64_t lo = 0, hi = km->m; /* last time < t */
            while (lo < hi) {
                int64_t mid = lo + (hi - lo) / 2;
                if (km->time[mid] < t)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            g[j] = 1 - (lo == 0 ? 1.0 : km->surv[lo - 1]);
        }
        cl_survival_km_free(km);
    } else {
        for (int64_t j = 0; j < ne; j++) {
            double t = time[ev[j]];
            if (transform == CL_ZPH_LOG && !(t > 0)) {
                rc = cl_error(CL_EINVAL, "ph_test: row %lld: transform 'log' needs event times "
                                         "> 0, got %g", (long long)ev[j] + 1, t);
                goto done;
            }
            g[j] = transform == CL_ZPH_LOG ? log(t) : t;
        }
    }
    double gm = 0, sg = 0;
    for (int64_t j = 0; j < ne; j++)
        gm += g[j];
    gm /= (double)ne;
    for (int64_t j = 0; j < ne; j++) {
        g[j] -= gm;
        sg += g[j] * g[j];
    }
    if (!(sg > 0)) {
        rc = cl_error(CL_EINVAL, "ph_test: every event happens at the same time; nothing to "
                                 "test against");
        goto done;
    }
    /* u = g'R (1 x dr); uv = u V; scaled residuals r* = D R V, so sum g' r*_k = D uv_k */
    double D = (double)ne;
    memset(u, 0, (size_t)dr * sizeof *u);
    for (int64_t j = 0; j < ne; j++)
        for (int k = 0; k < dr; k++)
            u[k] += g[j] * R[ev[j] * dr + k];
    double glob = 0;
    for (int k = 0; k < dr; k++) {
        uv[k] = 0;
        for (int l = 0; l < dr; l++)
            uv[k] += u[l] * V[l * dr + k];
        glob += uv[k] * u[k];
    }
    /* correlation of g with each scaled residual column */
    for (int k = 0; k < dr; k++) {
        double s = 0, ss = 0;
        for (int64_t j = 0; j < ne; j++) {
            double rs = 0;
            for (int l = 0; l < dr; l++)
                rs += R[ev[j] * dr + l] * V[l * dr + k];
            s += rs;
            ss += rs * rs;
        }
        sr[k] = ss - s * s / D; /* centred sum of squares of r* / D */
    }
    for (int k = 0, c = 0; k < d; k++) {
        if (m->aliased[k]) {
            rho[k] = chi2[k] = p[k] = NAN;
            continue;
        }
        chi2[k] = D * uv[c] * uv[c] / (V[c * dr + c] * sg);
        p[k] = cl_stats_chi2_sf(chi2[k], 1);
        rho[k] = sr[c] > 0 ? uv[c] / sqrt(sr[c] * sg) : NAN;
        c++;
    }
    *global_chi2 = glob * D / sg;
    *global_df = dr;
    *global_p = cl_stats_chi2_sf(*global_chi2, dr);
done:
    cl_alloc_free(Xc);
    cl_alloc_free(R);
    cl_alloc_free(gv);
    cl_alloc_free(ev);
    cl_alloc_free(V);
    return rc;
}
