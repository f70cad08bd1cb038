/* survival.c - Kaplan-Meier, log-rank, concordance, and the input checks, orderings and
 * small solver the Cox model (cox.c) shares with them (survival_impl.h). */
#include "analysis/survival.h"
#include "analysis/survival_impl.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/stats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared input checks and ordering ----------------------------------------------- */

int cl_survival_check(const double *time, const double *event, int64_t n, const char *what)
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
static int sort_desc;

static int by_key(const void *a, const void *b)
{
    int64_t i = *(const int64_t *)a, j = *(const int64_t *)b;
    double x = sort_key[i], y = sort_key[j];
    if (x != y)
        return (x < y) != sort_desc ? -1 : 1;
    /* ties broken by row so the order is total and runs are reproducible */
    return i < j ? -1 : 1;
}

/* qsort with a file-static key is not reentrant: the key is set and used under the caller's
 * single thread; the survival code has no other user. */
int64_t *cl_survival_order(const double *key, int64_t n, int desc)
{
    int64_t *idx = cl_alloc((size_t)(n > 0 ? n : 1) * sizeof *idx);
    if (!idx)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    sort_key = key;
    sort_desc = desc != 0;
    qsort(idx, (size_t)n, sizeof *idx, by_key);
    return idx;
}

/* ---- Kaplan-Meier ------------------------------------------------------------------- */

void cl_survival_km_free(cl_km *km)
{
    if (!km)
        return;
    cl_alloc_free(km->time);
    cl_alloc_free(km);
}

int cl_survival_km_estimate(cl_km **out, const double *time, const double *event, int64_t n,
                            double conf)
{
    return cl_survival_km_estimate_w(out, time, event, NULL, n, conf);
}

int cl_survival_check_weights(const double *weight, int64_t n, const char *what)
{
    if (!weight)
        return CL_OK;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(weight[i]) || weight[i] < 0)
            return cl_error(CL_EINVAL, "%s: row %lld: weight must be a finite number >= 0, got %g",
                            what, (long long)i + 1, weight[i]);
        s += weight[i];
    }
    if (!(s > 0))
        return cl_error(CL_EINVAL, "%s: the weights sum to 0", what);
    return CL_OK;
}

/* Weight of row i: 1 without weights (so the unweighted sums are the same operations as
 * before weights existed: adding 1.0, bit for bit). */
static double wt(const double *weight, int64_t i) { return weight ? weight[i] : 1.0; }

int cl_survival_km_estimate_w(cl_km **out, const double *time, const double *event,
                              const double *weight, int64_t n, double conf)
{
    *out = NULL;
    int rc = cl_survival_check(time, event, n, "kaplan_meier");
    if (!rc)
        rc = cl_survival_check_weights(weight, n, "kaplan_meier");
    if (rc)
        return rc;
    if (!(conf > 0 && conf < 1))
        return cl_error(CL_EINVAL, "kaplan_meier: conf must be in (0, 1), got %g", conf);
    int64_t *idx = cl_survival_order(time, n, 0);
    if (!idx)
        return CL_ENOMEM;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        if (i == 0 || time[idx[i]] != time[idx[i - 1]])
            m++;
    cl_km *km = cl_alloc_calloc(1, sizeof *km);
    /* one block for the seven arrays, so one free releases them */
    double *blk = cl_alloc((size_t)m * 7 * sizeof(double));
    if (!km || !blk) {
        cl_alloc_free(km);
        cl_alloc_free(blk);
        cl_alloc_free(idx);
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
    double z = cl_stats_norm_ppf(0.5 + conf / 2);
    /* Pass 1: per distinct time, the (weighted) events and the weight leaving the risk set
     * (kept in n_risk for now); pass 2 turns the latter into risk sets summed from the last
     * time back, so a weighted risk set is a sum of its own rows' weights (no running
     * subtraction drifting below the weight of its events). Without weights the sums are
     * integers, exact either way. */
    int64_t k = 0;
    for (int64_t i = 0; i < n; k++) {
        double t = time[idx[i]], d = 0, c = 0;
        for (; i < n && time[idx[i]] == t; i++) {
            d += event[idx[i]] * wt(weight, idx[i]);
            c += wt(weight, idx[i]);
            km->events += (int64_t)event[idx[i]];
        }
        km->time[k] = t;
        km->n_event[k] = d;
        km->n_risk[k] = c;
    }
    for (k = m - 2; k >= 0; k--)
        km->n_risk[k] += km->n_risk[k + 1];
    double s = 1, green = 0;
    for (k = 0; k < m; k++) {
        double t = km->time[k], d = km->n_event[k], at_risk = km->n_risk[k];
        if (d > 0) {
            s *= 1 - d / at_risk;
            green += at_risk > d ? d / (at_risk * (at_risk - d)) : INFINITY;
        }
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
    }
    cl_alloc_free(idx);
    *out = km;
    return CL_OK;
}

double cl_survival_km_at(const cl_km *km, double t)
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
int cl_survival_chol(double *A, int d, double *B, int nrhs)
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

int cl_survival_logrank(const double *time, const double *event, const int32_t *group, int64_t n,
               int ngroups, double *chi2, double *p)
{
    int rc = cl_survival_check(time, event, n, "logrank");
    if (rc)
        return rc;
    if (ngroups < 2 || ngroups > 1000)
        return cl_error(CL_EINVAL, "logrank: need 2..1000 groups, got %d", ngroups);
    for (int64_t i = 0; i < n; i++)
        if (group[i] < 0 || group[i] >= ngroups)
            return cl_error(CL_EINVAL, "logrank: row %lld: group %d outside 0..%d",
                            (long long)i + 1, group[i], ngroups - 1);
    int g = ngroups, q = g - 1;
    int64_t *idx = cl_survival_order(time, n, 0);
    double *risk = cl_alloc_calloc((size_t)g * 3, sizeof(double));
    double *V = cl_alloc_calloc((size_t)g * g, sizeof(double));
    if (!idx || !risk || !V) {
        cl_alloc_free(idx);
        cl_alloc_free(risk);
        cl_alloc_free(V);
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
        if (cl_survival_chol(A, q, b, 1) != CL_OK) {
            rc = cl_error(CL_EINVAL, "logrank: no events to compare (a group is empty or the "
                                     "variance is zero)");
        } else {
            double s = 0;
            for (int a = 0; a < q; a++)
                s += OE[a] * b[a];
            *chi2 = s;
            *p = cl_stats_chi2_sf(s, q);
        }
    }
    cl_alloc_free(A);
    cl_alloc_free(b);
    cl_alloc_free(idx);
    cl_alloc_free(risk);
    cl_alloc_free(V);
    return rc;
}

/* ---- concordance -------------------------------------------------------------------- */

int cl_survival_concordance(const double *time, const double *event, const double *risk, int64_t n,
                   double tau, double *harrell, double *uno, double *pairs, double *concordant,
                   double *tied)
{
    int rc = cl_survival_check(time, event, n, "concordance");
    if (rc)
        return rc;
    for (int64_t i = 0; i < n; i++)
        if (isnan(risk[i]))
            return cl_error(CL_EINVAL, "concordance: row %lld: risk is NaN", (long long)i + 1);
    if (isnan(tau))
        return cl_error(CL_EINVAL, "concordance: tau is NaN");
    if (!(tau > 0))
        tau = INFINITY;
    int64_t *idx = cl_survival_order(time, n, 1), *ro = cl_survival_order(risk, n, 0);
    int64_t *rank = cl_alloc((size_t)n * sizeof *rank);
    double *fen = cl_alloc_calloc((size_t)n + 1, sizeof *fen), *cnt = cl_alloc_calloc((size_t)n + 1, sizeof *cnt);
    double *G = cl_alloc((size_t)n * sizeof *G);
    if (!idx || !ro || !rank || !fen || !cnt || !G) {
        rc = CL_ENOMEM;
        goto done;
    }
    /* dense ranks 1..K of the risk values (equal risks share a rank) */
    int64_t K = 0;
    for (int64_t a = 0; a < n; a++) {
        if (a == 0 || risk[ro[a]] != risk[ro[a - 1]])
            K++;
        rank[ro[a]] = K;
    }
    /* G(t_i-) for every row: Kaplan-Meier of the censoring just before t_i */
    {
        double s = 1;
        int64_t at = n;
        for (int64_t a = n; a > 0;) { /* idx is descending: walk it from the end (ascending) */
            int64_t b = a;
            double t = time[idx[a - 1]], c = 0;
            while (b > 0 && time[idx[b - 1]] == t) {
                b--;
                c += event[idx[b]] == 0;
            }
            for (int64_t j = b; j < a; j++)
                G[idx[j]] = s;
            s *= 1 - c / (double)at;
            at -= a - b;
            a = b;
        }
    }
    double P = 0, C = 0, T = 0, wP = 0, wC = 0, size = 0;
    for (int64_t a = 0; a < n;) {
        double t = time[idx[a]];
        int64_t b = a;
        while (b < n && time[idx[b]] == t)
            b++;
        for (int64_t c = a; c < b; c++) { /* censored at t count as longer than events at t */
            int64_t i = idx[c];
            if (event[i] == 0) {
                for (int64_t r = rank[i]; r <= K; r += r & -r)
                    fen[r] += 1;
                cnt[rank[i]] += 1;
                size += 1;
            }
        }
        for (int64_t c = a; c < b; c++) {
            int64_t i = idx[c];
            if (event[i] != 1)
                continue;
            double less = 0;
            for (int64_t r = rank[i] - 1; r > 0; r -= r & -r)
                less += fen[r];
            double eq = cnt[rank[i]];
            P += size;
            C += less;
            T += eq;
            if (t < tau && G[i] > 0) {
                double w = 1 / (G[i] * G[i]);
                wP += w * size;
                wC += w * (less + 0.5 * eq);
            }
        }
        for (int64_t c = a; c < b; c++) {
            int64_t i = idx[c];
            if (event[i] == 1) {
                for (int64_t r = rank[i]; r <= K; r += r & -r)
                    fen[r] += 1;
                cnt[rank[i]] += 1;
                size += 1;
            }
        }
        a = b;
    }
    if (P == 0) {
        rc = cl_error(CL_EINVAL, "concordance: no comparable pairs (no event is followed by a "
                                 "longer time)");
        goto done;
    }
    *harrell = (C + 0.5 * T) / P;
    if (uno)
        *uno = wP > 0 ? wC / wP : NAN;
    if (pairs)
        *pairs = P;
    if (concordant)
        *concordant = C;
    if (tied)
        *tied = T;
done:
    cl_alloc_free(idx);
    cl_alloc_free(ro);
    cl_alloc_free(rank);
    cl_alloc_free(fen);
    cl_alloc_free(cnt);
    cl_alloc_free(G);
    return rc;
}
