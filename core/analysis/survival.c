/* survival.c - Kaplan-Meier, log-rank, Cox proportional hazards (Breslow and Efron ties). */
#include "analysis/survival.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared input checks and ordering ----------------------------------------------- */

static int check_input(const double *time, const double *event, int64_t n, const char *what)
{
    if (n <= 0)
        return cl_error(CL_EINVAL, "%s: no observations", what);
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(time[i]) || time[i] < 0)
            return cl_error(CL_EINVAL, "%s: row %lld: time must be a finite number >= 0, got %g",
                            what, (long long)i + 1, time[i]);
        if (event[i] != 0 && event[i] != 1)
            return cl_error(CL_EINVAL, "%s: row %lld: event must be 0 or 1, got %g", what,
                            (long long)i + 1, event[i]);
    }
    return CL_OK;
}

static const double *sort_key;

static int by_time(const void *a, const void *b)
{
    double x = sort_key[*(const int64_t *)a], y = sort_key[*(const int64_t *)b];
    if (x != y)
        return x < y ? -1 : 1;
    /* ties broken by row so the order is total and runs are reproducible */
    return *(const int64_t *)a < *(const int64_t *)b ? -1 : 1;
}

/* Row indices ordered by ascending time. qsort with a file-static key is not reentrant, so
 * the key is set and used under the caller's single thread; the core has no other user. */
static int64_t *order_by_time(const double *time, int64_t n)
{
    int64_t *idx = cl_alloc((size_t)n * sizeof *idx);
    if (!idx)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    sort_key = time;
    qsort(idx, (size_t)n, sizeof *idx, by_time);
    return idx;
}

/* ---- Kaplan-Meier ------------------------------------------------------------------- */

void cl_km_free(cl_km *km)
{
    if (!km)
        return;
    cl_free(km->time);
    cl_free(km);
}

int cl_km_fit(cl_km **out, const double *time, const double *event, int64_t n, double conf)
{
    *out = NULL;
    int rc = check_input(time, event, n, "kaplan_meier");
    if (rc)
        return rc;
    if (!(conf > 0 && conf < 1))
        return cl_error(CL_EINVAL, "kaplan_meier: conf must be in (0, 1), got %g", conf);
    int64_t *idx = order_by_time(time, n);
    if (!idx)
        return CL_ENOMEM;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || time[idx[i]] != time[idx[i - 1]])
            m++;
    cl_km *km = cl_calloc(1, sizeof *km);
    /* one block for the seven arrays, so one free releases them */
    double *blk = cl_alloc((size_t)m * 7 * sizeof(double));
    if (!km || !blk) {
        cl_free(km);
        cl_free(blk);
        cl_free(idx);
        return CL_ENOMEM;
    }
    km->time = blk;
    km->n_risk = blk + m;
    km->n_event = blk + 2 * m;
    km->surv = blk + 3 * m;
    km->se = blk + 4 * m;
    km->lo = blk + 5 * m;
    km->hi = blk + 6 * m;
    km->m = m;
    km->n = n;
    km->conf = conf;
    km->median = NAN;
    double z = cl_norm_ppf(0.5 + conf / 2);
    double s = 1, green = 0, at_risk = (double)n;
    int64_t k = 0;
    for (int64_t i = 0; i < n;) {
        double t = time[idx[i]], d = 0, c = 0;
        int64_t j = i;
        for (; j < n && time[idx[j]] == t; j++)
            d += event[idx[j]];
        c = (double)(j - i);
        if (d > 0) {
            s *= 1 - d / at_risk;
            green += at_risk > d ? d / (at_risk * (at_risk - d)) : INFINITY;
        }
        km->time[k] = t;
        km->n_risk[k] = at_risk;
        km->n_event[k] = d;
        km->surv[k] = s;
        km->se[k] = s * sqrt(green);
        if (s > 0 && s < 1 && isfinite(green)) {
            double sell = sqrt(green) / fabs(log(s)); /* se of log(-log S) */
            km->lo[k] = pow(s, exp(z * sell));
            km->hi[k] = pow(s, exp(-z * sell));
        } else {
            km->lo[k] = km->hi[k] = s;
        }
        if (isnan(km->median) && s <= 0.5)
            km->median = t;
        km->events += (int64_t)d;
        at_risk -= c;
        k++;
        i = j;
    }
    cl_free(idx);
    *out = km;
    return CL_OK;
}

double cl_km_at(const cl_km *km, double t)
{
    /* binary search for the last time <= t */
    int64_t lo = 0, hi = km->m;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (km->time[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo == 0 ? 1.0 : km->surv[lo - 1];
}

/* ---- small dense linear algebra (d is small: covariates, groups) --------------------- */

/* Cholesky solve of the symmetric positive definite A (d x d, overwritten) for each of the
 * nrhs columns of B (d x nrhs, row-major, overwritten with the solution). */
static int chol_solve(double *A, int d, double *B, int nrhs)
{
    for (int j = 0; j < d; j++) {
        double s = A[j * d + j];
        for (int k = 0; k < j; k++)
            s -= A[j * d + k] * A[j * d + k];
        if (!(s > 1e-300))
            return CL_EINVAL;
        A[j * d + j] = sqrt(s);
        for (int i = j + 1; i < d; i++) {
            double t = A[i * d + j];
            for (int k = 0; k < j; k++)
                t -= A[i * d + k] * A[j * d + k];
            A[i * d + j] = t / A[j * d + j];
        }
    }
    for (int c = 0; c < nrhs; c++) {
        for (int i = 0; i < d; i++) { /* L y = b */
            double t = B[i * nrhs + c];
            for (int k = 0; k < i; k++)
                t -= A[i * d + k] * B[k * nrhs + c];
            B[i * nrhs + c] = t / A[i * d + i];
        }
        for (int i = d - 1; i >= 0; i--) { /* L^T x = y */
            double t = B[i * nrhs + c];
            for (int k = i + 1; k < d; k++)
                t -= A[k * d + i] * B[k * nrhs + c];
            B[i * nrhs + c] = t / A[i * d + i];
        }
    }
    return CL_OK;
}

/* ---- log-rank ----------------------------------------------------------------------- */

int cl_logrank(const double *time, const double *event, const int32_t *group, int64_t n,
               int ngroups, double *chi2, double *p)
{
    int rc = check_input(time, event, n, "logrank");
    if (rc)
        return rc;
    if (ngroups < 2 || ngroups > 1000)
        return cl_error(CL_EINVAL, "logrank: need 2..1000 groups, got %d", ngroups);
    for (int64_t i = 0; i < n; i++)
        if (group[i] < 0 || group[i] >= ngroups)
            return cl_error(CL_EINVAL, "logrank: row %lld: group %d outside 0..%d",
                            (long long)i + 1, group[i], ngroups - 1);
    int g = ngroups, q = g - 1;
    int64_t *idx = order_by_time(time, n);
    double *risk = cl_calloc((size_t)g * 3, sizeof(double));
    double *V = cl_calloc((size_t)g * g, sizeof(double));
    if (!idx || !risk || !V) {
        cl_free(idx);
        cl_free(risk);
        cl_free(V);
        return CL_ENOMEM;
    }
    double *dg = risk + g, *OE = risk + 2 * g;
    for (int64_t i = 0; i < n; i++)
        risk[group[i]] += 1;
    double total = (double)n;
    for (int64_t i = 0; i < n;) {
        double t = time[idx[i]], d = 0;
        int64_t j = i;
        memset(dg, 0, (size_t)g * sizeof *dg);
        for (; j < n && time[idx[j]] == t; j++) {
            dg[group[idx[j]]] += event[idx[j]];
            d += event[idx[j]];
        }
        if (d > 0) {
            double f = total > 1 ? d * (total - d) / (total - 1) : 0;
            for (int a = 0; a < g; a++) {
                OE[a] += dg[a] - d * risk[a] / total;
                for (int b = 0; b < g; b++)
                    V[a * g + b] += f * (risk[a] / total) * ((a == b) - risk[b] / total);
            }
        }
        for (int64_t k = i; k < j; k++)
            risk[group[idx[k]]] -= 1;
        total -= (double)(j - i);
        i = j;
    }
    /* chi2 = OE[0..q)^T V[0..q, 0..q)^-1 OE[0..q) */
    double *A = cl_alloc((size_t)q * q * sizeof(double)), *b = cl_alloc((size_t)q * sizeof(double));
    if (!A || !b) {
        rc = CL_ENOMEM;
    } else {
        for (int a = 0; a < q; a++) {
            b[a] = OE[a];
            for (int c = 0; c < q; c++)
                A[a * q + c] = V[a * g + c];
        }
        if (chol_solve(A, q, b, 1) != CL_OK) {
            rc = cl_error(CL_EINVAL, "logrank: no events to compare (a group is empty or the "
                                     "variance is zero)");
        } else {
            double s = 0;
            for (int a = 0; a < q; a++)
                s += OE[a] * b[a];
            *chi2 = s;
            *p = cl_chi2_sf(s, q);
        }
    }
    cl_free(A);
    cl_free(b);
    cl_free(idx);
    cl_free(risk);
    cl_free(V);
    return rc;
}

/* ---- Cox proportional hazards ------------------------------------------------------- */

void cl_cox_free(cl_cox *m)
{
    if (!m)
        return;
    cl_free(m->beta);
    cl_free(m);
}

typedef struct cox_work {
    const double *X;      /* centred copy, n x d */
    const double *time, *event;
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
        for (; b < n && cw->time[cw->idx[b]] == t; b++) {
            int64_t i = cw->idx[b];
            const double *x = cw->X + i * d;
            double wi = cw->w[i];
            S0 += wi;
            for (int k = 0; k < d; k++) {
                cw->S1[k] += wi * x[k];
                for (int l = 0; l <= k; l++)
                    cw->S2[k * d + l] += wi * x[k] * x[l];
            }
            if (cw->event[i] == 1) {
                nd += 1;
                D0 += wi;
                ll += cw->eta[i] - emax;
                for (int k = 0; k < d; k++) {
                    g[k] += x[k];
                    cw->D1[k] += wi * x[k];
                    for (int l = 0; l <= k; l++)
                        cw->D2[k * d + l] += wi * x[k] * x[l];
                }
            }
        }
        int efron = cw->ties == CL_COX_EFRON && nd > 1;
        for (int r = 0; r < (int)nd; r++) {
            double f = efron ? r / nd : 0;
            double phi = S0 - f * D0;
            ll -= log(phi);
            for (int k = 0; k < d; k++) {
                cw->a1[k] = (cw->S1[k] - f * cw->D1[k]) / phi;
                g[k] -= cw->a1[k];
            }
            for (int k = 0; k < d; k++)
                for (int l = 0; l <= k; l++)
                    I[k * d + l] += (cw->S2[k * d + l] - f * cw->D2[k * d + l]) / phi -
                                    cw->a1[k] * cw->a1[l];
        }
        a = b;
    }
    for (int k = 0; k < d; k++) /* mirror the lower triangle */
        for (int l = k + 1; l < d; l++)
            I[k * d + l] = I[l * d + k];
    return ll;
}

static const double *desc_key;

static int by_time_desc(const void *a, const void *b)
{
    double x = desc_key[*(const int64_t *)a], y = desc_key[*(const int64_t *)b];
    if (x != y)
        return x > y ? -1 : 1;
    return *(const int64_t *)a < *(const int64_t *)b ? -1 : 1;
}

int cl_cox_fit(cl_cox **out, const double *X, const double *time, const double *event, int64_t n,
               int d, int ties, int max_iter, double tol, double conf)
{
    *out = NULL;
    int rc = check_input(time, event, n, "cox");
    if (rc)
        return rc;
    if (d < 1 || d > 1000)
        return cl_error(CL_EINVAL, "cox: need 1..1000 covariates, got %d", d);
    if (ties != CL_COX_EFRON && ties != CL_COX_BRESLOW)
        return cl_error(CL_EINVAL, "cox: ties must be efron or breslow");
    if (!(conf > 0 && conf < 1) || max_iter < 1 || !(tol > 0))
        return cl_error(CL_EINVAL, "cox: conf must be in (0, 1), max_iter >= 1 and tol > 0");
    for (int64_t i = 0; i < n * d; i++)
        if (!isfinite(X[i]))
            return cl_error(CL_EINVAL, "cox: row %lld, covariate %d is not a finite number",
                            (long long)(i / d) + 1, (int)(i % d) + 1);
    double events = 0;
    for (int64_t i = 0; i < n; i++)
        events += event[i];
    if (events == 0)
        return cl_error(CL_EINVAL, "cox: no events (every observation is censored)");

    size_t dd = (size_t)d * d;
    size_t nwork = (size_t)n * d + 2 * (size_t)n + 3 * (size_t)d + 2 * dd /* X eta w S1 D1 a1 S2 D2 */
                   + 4 * (size_t)d + 3 * dd;                        /* beta g step mean | I A Ivar */
    double *W = cl_alloc(nwork * sizeof(double));
    int64_t *idx = cl_alloc((size_t)n * sizeof *idx);
    cl_cox *m = cl_calloc(1, sizeof *m);
    double *res = cl_alloc((size_t)d * 6 * sizeof(double));
    if (!W || !idx || !m || !res) {
        cl_free(W);
        cl_free(idx);
        cl_free(m);
        cl_free(res);
        return CL_ENOMEM;
    }
    double *Xc = W, *p = W + (size_t)n * d;
    cox_work cw = {Xc, time, event, idx, n, d, ties, p, p + n, NULL, NULL, NULL, NULL, NULL};
    p += 2 * (size_t)n;
    cw.S1 = p, p += d;
    cw.D1 = p, p += d;
    cw.a1 = p, p += d;
    cw.S2 = p, p += dd;
    cw.D2 = p, p += dd;
    double *beta = p, *g = p + d, *step = p + 2 * d, *mean = p + 3 * d;
    p += 4 * (size_t)d;
    double *I = p, *A = p + dd, *Ivar = p + 2 * dd;

    /* Centre the covariates: beta is unchanged, exp() stays in range. */
    for (int k = 0; k < d; k++) {
        double s = 0;
        for (int64_t i = 0; i < n; i++)
            s += X[i * d + k];
        mean[k] = s / (double)n;
    }
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < d; k++)
            Xc[i * d + k] = X[i * d + k] - mean[k];
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    desc_key = time;
    qsort(idx, (size_t)n, sizeof *idx, by_time_desc);

    memset(beta, 0, (size_t)d * sizeof *beta);
    double ll = cox_eval(&cw, beta, g, I);
    m->loglik0 = ll;
    int it = 0, converged = 0;
    while (it < max_iter) {
        it++;
        memcpy(A, I, dd * sizeof *A);
        memcpy(step, g, (size_t)d * sizeof *step);
        if (chol_solve(A, d, step, 1) != CL_OK) {
            rc = cl_error(CL_EINVAL, "cox: the information matrix is singular (a covariate is "
                                     "constant, collinear, or perfectly separates events)");
            break;
        }
        double ll_new = 0, half = 1;
        for (int h = 0; h < 30; h++, half /= 2) {
            double trial[1000];
            for (int k = 0; k < d; k++)
                trial[k] = beta[k] + half * step[k];
            ll_new = cox_eval(&cw, trial, g, I);
            if (ll_new >= ll - 1e-12 * fabs(ll)) {
                memcpy(beta, trial, (size_t)d * sizeof *beta);
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
    if (rc == CL_OK) {
        cox_eval(&cw, beta, g, I); /* information at the final beta */
        memcpy(A, I, dd * sizeof *A);
        memset(Ivar, 0, dd * sizeof *Ivar);
        for (int k = 0; k < d; k++)
            Ivar[k * d + k] = 1;
        if (chol_solve(A, d, Ivar, d) != CL_OK)
            rc = cl_error(CL_EINVAL, "cox: the information matrix is singular at the solution");
    }
    if (rc) {
        cl_free(W);
        cl_free(idx);
        cl_free(m);
        cl_free(res);
        return rc;
    }
    double z = cl_norm_ppf(0.5 + conf / 2);
    m->d = d;
    m->beta = res;
    m->se = res + d;
    m->z = res + 2 * d;
    m->p = res + 3 * d;
    m->lo = res + 4 * d;
    m->hi = res + 5 * d;
    for (int k = 0; k < d; k++) {
        m->beta[k] = beta[k];
        m->se[k] = sqrt(Ivar[k * d + k]);
        m->z[k] = beta[k] / m->se[k];
        m->p[k] = 2 * cl_norm_sf(fabs(m->z[k]));
        m->lo[k] = exp(beta[k] - z * m->se[k]);
        m->hi[k] = exp(beta[k] + z * m->se[k]);
    }
    m->loglik = ll;
    m->iters = it;
    m->converged = converged;
    m->ties = ties;
    cl_free(W);
    cl_free(idx);
    *out = m;
    return CL_OK;
}

int cl_cox_predict(const cl_cox *m, const double *X, int64_t n, double *lp)
{
    for (int64_t i = 0; i < n; i++) {
        double e = 0;
        for (int k = 0; k < m->d; k++)
            e += X[i * m->d + k] * m->beta[k];
        lp[i] = e;
    }
    return CL_OK;
}
