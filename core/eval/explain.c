/* explain.c - permutation importance, ICE/PDP, KernelSHAP, LIME. */
#include "eval/explain.h"
#include "base/alloc.h"
#include "base/error.h"
#include "eval/metrics.h"
#include "base/rng.h"

#include <math.h>
#include <string.h>

#define BATCH_ROWS 65536 /* rows per predict call when building synthetic inputs */

static int check_groups(const int32_t *groups, int d, int ngroups, const char *what)
{
    if (ngroups < 1)
        return cl_error(CL_EINVAL, "%s: need at least one feature group", what);
    if (!groups)
        return ngroups == d ? CL_OK
                            : cl_error(CL_EINVAL, "%s: %d groups given for %d columns without "
                                                  "a group map", what, ngroups, d);
    for (int j = 0; j < d; j++)
        if (groups[j] < 0 || groups[j] >= ngroups)
            return cl_error(CL_EINVAL, "%s: column %d is in group %d, outside 0..%d", what, j + 1,
                            groups[j], ngroups - 1);
    return CL_OK;
}

static int gof(const int32_t *groups, int j) { return groups ? groups[j] : j; }

static int check_X(const cl_tensor *X, const char *what)
{
    if (X->ndim != 2 || !cl_tensor_is_contiguous(X))
        return cl_error(CL_EINVAL, "%s: X must be a contiguous 2-D tensor", what);
    return CL_OK;
}

static int score(cl_imp_metric m, const float *y, const float *p, int64_t n, double *out)
{
    switch (m) {
    case CL_IMP_AUC: return cl_metrics_roc_auc(out, y, p, n);
    case CL_IMP_LOGLOSS: return cl_metrics_log_loss(out, y, p, n, 1e-15);
    case CL_IMP_BRIER: return cl_metrics_brier(out, y, p, n);
    case CL_IMP_ACCURACY: {
        double ok = 0;
        for (int64_t i = 0; i < n; i++)
            ok += (p[i] >= 0.5f) == (y[i] >= 0.5f);
        *out = n ? ok / (double)n : NAN;
        return CL_OK;
    }
    }
    return cl_error(CL_EINVAL, "permutation importance: unknown metric %d", (int)m);
}

static int predict_checked(cl_predict_fn f, void *ud, const cl_tensor *X, float *out)
{
    int rc = f(ud, X, out);
    if (rc)
        return rc;
    int64_t n = X->shape[0];
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(out[i]))
            return cl_error(CL_EINVAL, "explain: the model predicted %g for row %lld", out[i],
                            (long long)i + 1);
    return CL_OK;
}

int cl_explain_permutation(cl_predict_fn f, void *ud, const cl_tensor *X, const float *y,
                           const int32_t *groups, int ngroups, cl_imp_metric metric, int repeats,
                           uint64_t seed, double *mean, double *sd, double *baseline,
                           const cl_progress *prog)
{
    int rc = check_X(X, "permutation importance");
    if (rc)
        return rc;
    int64_t n = X->shape[0];
    int d = (int)X->shape[1];
    if ((rc = check_groups(groups, d, ngroups, "permutation importance")))
        return rc;
    if (repeats < 1 || repeats > 1000)
        return cl_error(CL_EINVAL, "permutation importance: repeats must be in 1..1000");
    if (n < 2)
        return cl_error(CL_EINVAL, "permutation importance: need at least 2 rows");
    cl_tensor *Xp;
    if ((rc = cl_tensor_clone(&Xp, X)))
        return rc;
    float *p = cl_alloc((size_t)n * sizeof *p);
    uint32_t *perm = cl_alloc((size_t)n * sizeof *perm);
    double *s = cl_alloc((size_t)repeats * sizeof *s);
    if (!p || !perm || !s) {
        rc = CL_ENOMEM;
        goto done;
    }
    if ((rc = predict_checked(f, ud, X, p)) || (rc = score(metric, y, p, n, baseline)))
        goto done;
    int higher_better = metric == CL_IMP_AUC || metric == CL_IMP_ACCURACY;
    const float *src = cl_tensor_data(X);
    float *dst = cl_tensor_data(Xp);
    for (int g = 0; g < ngroups && rc == CL_OK; g++) {
        for (int r = 0; r < repeats && rc == CL_OK; r++) {
            cl_rng rng;
            cl_rng_split(&rng, seed, (uint64_t)g * 1000 + (uint64_t)r);
            for (int64_t i = 0; i < n; i++)
                perm[i] = (uint32_t)i;
            cl_rng_shuffle(&rng, perm, (uint64_t)n);
            for (int j = 0; j < d; j++)
                if (gof(groups, j) == g)
                    for (int64_t i = 0; i < n; i++)
                        dst[i * d + j] = src[(int64_t)perm[i] * d + j];
            double v;
            if ((rc = predict_checked(f, ud, Xp, p)) || (rc = score(metric, y, p, n, &v)))
                break;
            s[r] = higher_better ? *baseline - v : v - *baseline;
        }
        for (int j = 0; j < d; j++) /* restore the group's columns */
            if (gof(groups, j) == g)
                for (int64_t i = 0; i < n; i++)
                    dst[i * d + j] = src[i * d + j];
        if (rc)
            break;
        double m = 0, v = 0;
        for (int r = 0; r < repeats; r++)
            m += s[r];
        m /= repeats;
        for (int r = 0; r < repeats; r++)
            v += (s[r] - m) * (s[r] - m);
        mean[g] = m;
        sd[g] = repeats > 1 ? sqrt(v / (repeats - 1)) : 0;
        rc = cl_progress_step(prog, "permutation importance", g + 1, ngroups, NULL);
    }
done:
    cl_tensor_free(Xp);
    cl_alloc_free(p);
    cl_alloc_free(perm);
    cl_alloc_free(s);
    return rc;
}

int cl_explain_ice(cl_predict_fn f, void *ud, const cl_tensor *X, const int32_t *groups,
                   int group, const float *grid, int ngrid, double *ice, const cl_progress *prog)
{
    int rc = check_X(X, "partial dependence");
    if (rc)
        return rc;
    int64_t n = X->shape[0];
    int d = (int)X->shape[1];
    int width = 0, cols[4096];
    for (int j = 0; j < d; j++)
        if (gof(groups, j) == group) {
            if (width == 4096)
                return cl_error(CL_EINVAL, "partial dependence: group has too many columns");
            cols[width++] = j;
        }
    if (width == 0)
        return cl_error(CL_EINVAL, "partial dependence: group %d has no columns", group);
    if (ngrid < 1)
        return cl_error(CL_EINVAL, "partial dependence: empty grid");
    cl_tensor *Xg;
    if ((rc = cl_tensor_clone(&Xg, X)))
        return rc;
    float *p = cl_alloc((size_t)(n ? n : 1) * sizeof *p);
    if (!p) {
        cl_tensor_free(Xg);
        return CL_ENOMEM;
    }
    float *dst = cl_tensor_data(Xg);
    for (int k = 0; k < ngrid && rc == CL_OK; k++) {
        for (int64_t i = 0; i < n; i++)
            for (int c = 0; c < width; c++)
                dst[i * d + cols[c]] = grid[(int64_t)k * width + c];
        if ((rc = predict_checked(f, ud, Xg, p)))
            break;
        for (int64_t i = 0; i < n; i++)
            ice[i * ngrid + k] = p[i];
        rc = cl_progress_step(prog, "partial dependence", k + 1, ngrid, NULL);
    }
    cl_tensor_free(Xg);
    cl_alloc_free(p);
    return rc;
}

/* ---- coalition values: v(z) = mean over background rows of f(x on z, background off z) -- */

typedef struct coal {
    cl_predict_fn f;
    void *ud;
    const float *x, *bg;
    int64_t B;
    int d, ng;
    const int32_t *groups;
} coal;

/* Values of m coalitions (z: m x ng bytes), batched into predict calls. */
static int coalition_values(const coal *c, const uint8_t *z, int64_t m, double *v)
{
    int64_t per = BATCH_ROWS / c->B > 0 ? BATCH_ROWS / c->B : 1; /* coalitions per batch */
    cl_tensor *T = NULL;
    int rc = cl_tensor_new(&T, 2, (per < m ? per : m) * c->B, c->d);
    if (rc)
        return rc;
    float *out = cl_alloc((size_t)cl_tensor_rows(T) * sizeof *out);
    if (!out) {
        cl_tensor_free(T);
        return CL_ENOMEM;
    }
    for (int64_t s = 0; s < m && rc == CL_OK; s += per) {
        int64_t k = m - s < per ? m - s : per;
        cl_tensor *view;
        if ((rc = cl_tensor_rows_range(&view, T, 0, k * c->B)))
            break;
        float *dst = cl_tensor_data(view);
        for (int64_t q = 0; q < k; q++) {
            const uint8_t *zq = z + (s + q) * c->ng;
            for (int64_t b = 0; b < c->B; b++) {
                float *row = dst + (q * c->B + b) * c->d;
                const float *bgr = c->bg + b * c->d;
                for (int j = 0; j < c->d; j++)
                    row[j] = zq[gof(c->groups, j)] ? c->x[j] : bgr[j];
            }
        }
        /* a C model's predict never looks at Ctrl-C, and one row can take many batches */
        rc = cl_progress_step(NULL, "kernelshap", (double)s, (double)m, NULL);
        if (rc == CL_OK)
            rc = predict_checked(c->f, c->ud, view, out);
        cl_tensor_free(view);
        for (int64_t q = 0; rc == CL_OK && q < k; q++) {
            double acc = 0;
            for (int64_t b = 0; b < c->B; b++)
                acc += out[q * c->B + b];
            v[s + q] = acc / (double)c->B;
        }
    }
    cl_alloc_free(out);
    cl_tensor_free(T);
    return rc;
}

/* Solves the symmetric positive definite system A x = b (k x k) by Cholesky; A and b are
 * overwritten. A small ridge keeps rank-deficient designs solvable. */
static int spd_solve(double *A, double *b, int k, const char *what)
{
    for (int i = 0; i < k; i++)
        A[i * k + i] += 1e-10 * (1 + A[i * k + i]);
    for (int j = 0; j < k; j++) {
        /* k^3 / 3 steps for up to 4096 groups: seconds, so Ctrl-C is polled per column */
        if ((j & 63) == 0) {
            int rc = cl_progress_step(NULL, what, j, k, NULL);
            if (rc)
                return rc;
        }
        double s = A[j * k + j];
        for (int q = 0; q < j; q++)
            s -= A[j * k + q] * A[j * k + q];
        if (!(s > 0))
            return cl_error(CL_EINVAL, "explain: singular weighted least-squares system");
        A[j * k + j] = sqrt(s);
        for (int i = j + 1; i < k; i++) {
            double t = A[i * k + j];
            for (int q = 0; q < j; q++)
                t -= A[i * k + q] * A[j * k + q];
            A[i * k + j] = t / A[j * k + j];
        }
    }
    for (int i = 0; i < k; i++) {
        double t = b[i];
        for (int q = 0; q < i; q++)
            t -= A[i * k + q] * b[q];
        b[i] = t / A[i * k + i];
    }
    for (int i = k - 1; i >= 0; i--) {
        double t = b[i];
        for (int q = i + 1; q < k; q++)
            t -= A[q * k + i] * b[q];
        b[i] = t / A[i * k + i];
    }
    return CL_OK;
}

static double lchoose(int n, int k) { return lgamma(n + 1.0) - lgamma(k + 1.0) - lgamma(n - k + 1.0); }

static int check_point(const float *x, const cl_tensor *bg, const int32_t *groups, int ngroups,
                       const char *what)
{
    int rc = check_X(bg, what);
    if (rc)
        return rc;
    int d = (int)bg->shape[1];
    if (bg->shape[0] < 1)
        return cl_error(CL_EINVAL, "%s: the background sample is empty", what);
    for (int j = 0; j < d; j++)
        if (isnan(x[j]))
            return cl_error(CL_EINVAL, "%s: column %d of the row is NaN", what, j + 1);
    return check_groups(groups, d, ngroups, what);
}

int cl_explain_kernelshap(cl_predict_fn f, void *ud, const float *x, const cl_tensor *background,
                          const int32_t *groups, int ngroups, int samples, uint64_t seed,
                          double *phi)
{
    int rc = check_point(x, background, groups, ngroups, "kernelshap");
    if (rc)
        return rc;
    if (ngroups > 4096)
        return cl_error(CL_EINVAL, "kernelshap: at most 4096 groups");
    if (samples < 2)
        samples = 2;
    int g = ngroups;
    coal c = {f, ud, x, cl_tensor_data(background), background->shape[0],
              (int)background->shape[1], g, groups};
    int enumerate = g <= 20 && ((int64_t)1 << g) <= (samples > 4096 ? samples : 4096);
    int64_t m = enumerate ? ((int64_t)1 << g) : (int64_t)samples + 2;
    uint8_t *z = cl_alloc_calloc((size_t)m, (size_t)g);
    double *v = cl_alloc((size_t)m * sizeof *v), *w = cl_alloc((size_t)m * sizeof *w);
    double *A = cl_alloc_calloc((size_t)g * g, sizeof *A), *bvec = cl_alloc_calloc((size_t)g, sizeof *bvec);
    if (!z || !v || !w || !A || !bvec) {
        rc = CL_ENOMEM;
        goto done;
    }
    /* rows 0 and 1: the empty and the full coalition (constraints, not regression rows) */
    memset(z + g, 1, (size_t)g);
    if (enumerate) {
        int64_t row = 2;
        for (int64_t code = 1; code < ((int64_t)1 << g) - 1; code++, row++) {
            int size = 0;
            for (int j = 0; j < g; j++) {
                z[row * g + j] = (uint8_t)((code >> j) & 1);
                size += z[row * g + j];
            }
            w[row] = exp(log((double)(g - 1)) - lchoose(g, size) - log((double)size) -
                         log((double)(g - size)));
        }
        m = row;
    } else {
        /* kernel mass per coalition size s: (g - 1) / (s (g - s)); sample sizes by mass, then
         * uniform subsets of that size, each with its complement; equal weights */
        double mass[4097], total = 0;
        for (int s = 1; s < g; s++)
            total += mass[s] = (double)(g - 1) / ((double)s * (g - s));
        cl_rng r;
        cl_rng_seed(&r, seed);
        int32_t idx[4096];
        int64_t row = 2;
        while (row + 1 < m) {
            double u = cl_rng_uniform(&r) * total, acc = 0;
            int s = 1;
            for (; s < g - 1; s++) {
                acc += mass[s];
                if (acc > u)
                    break;
            }
            for (int j = 0; j < g; j++)
                idx[j] = j;
            for (int j = 0; j < s; j++) { /* partial Fisher-Yates: first s are the subset */
                int k = j + (int)cl_rng_below(&r, (uint64_t)(g - j));
                int t = idx[j];
                idx[j] = idx[k];
                idx[k] = t;
            }
            for (int j = 0; j < s; j++)
                z[row * g + idx[j]] = 1;
            for (int j = 0; j < g; j++)
                z[(row + 1) * g + j] = (uint8_t)!z[row * g + j];
            w[row] = w[row + 1] = 1;
            row += 2;
        }
        m = row;
    }
    if ((rc = coalition_values(&c, z, m, v)))
        goto done;
    double base = v[0], fx = v[1], delta = fx - base;
    if (g == 1) {
        phi[0] = delta;
        phi[1] = base;
        goto done;
    }
    /* eliminate phi[g-1] = delta - sum(others): regress y' = v - base - z_last * delta on
     * columns (z_j - z_last), j < g - 1, with weights w */
    int k = g - 1;
    for (int64_t row = 2; row < m; row++) {
        if ((row & 255) == 0 && (rc = cl_progress_step(NULL, "kernelshap", (double)row,
                                                       (double)m, NULL)))
            goto done;
        const uint8_t *zr = z + row * g;
        double yv = v[row] - base - zr[g - 1] * delta;
        double xr[4096];
        for (int j = 0; j < k; j++)
            xr[j] = (double)zr[j] - zr[g - 1];
        for (int i = 0; i < k; i++) {
            if (xr[i] == 0)
                continue;
            bvec[i] += w[row] * xr[i] * yv;
            for (int j = 0; j <= i; j++)
                A[i * k + j] += w[row] * xr[i] * xr[j];
        }
    }
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            A[i * k + j] = A[j * k + i];
    if ((rc = spd_solve(A, bvec, k, "kernelshap")))
        goto done;
    double sum = 0;
    for (int j = 0; j < k; j++)
        sum += phi[j] = bvec[j];
    phi[g - 1] = delta - sum;
    phi[g] = base;
done:
    cl_alloc_free(z);
    cl_alloc_free(v);
    cl_alloc_free(w);
    cl_alloc_free(A);
    cl_alloc_free(bvec);
    return rc;
}

int cl_explain_lime(cl_predict_fn f, void *ud, const float *x, const cl_tensor *background,
                    const int32_t *groups, int ngroups, int samples, double kernel_width,
                    uint64_t seed, double *coef, double *r2)
{
    int rc = check_point(x, background, groups, ngroups, "lime");
    if (rc)
        return rc;
    if (samples < 10 || samples > 1000000)
        return cl_error(CL_EINVAL, "lime: samples must be in 10..1000000, got %d", samples);
    if (ngroups > 4096)
        return cl_error(CL_EINVAL, "lime: at most 4096 groups");
    int g = ngroups, d = (int)background->shape[1];
    int64_t B = background->shape[0];
    double width = kernel_width > 0 ? kernel_width : 0.75;
    cl_tensor *T;
    if ((rc = cl_tensor_new(&T, 2, samples, d)))
        return rc;
    uint8_t *z = cl_alloc((size_t)samples * g);
    float *out = cl_alloc((size_t)samples * sizeof *out);
    double *w = cl_alloc((size_t)samples * sizeof *w);
    int k = g + 1;
    double *A = cl_alloc_calloc((size_t)k * k, sizeof *A), *bv = cl_alloc_calloc((size_t)k, sizeof *bv);
    if (!z || !out || !w || !A || !bv) {
        rc = CL_ENOMEM;
        goto done;
    }
    cl_rng r;
    cl_rng_seed(&r, seed);
    const float *bg = cl_tensor_data(background);
    float *dst = cl_tensor_data(T);
    for (int s = 0; s < samples; s++) {
        int off = 0;
        const float *bgr = bg + (int64_t)cl_rng_below(&r, (uint64_t)B) * d;
        for (int j = 0; j < g; j++) {
            z[(int64_t)s * g + j] = (uint8_t)(s == 0 || cl_rng_uniform(&r) < 0.5);
            off += !z[(int64_t)s * g + j];
        }
        for (int j = 0; j < d; j++)
            dst[(int64_t)s * d + j] = z[(int64_t)s * g + gof(groups, j)] ? x[j] : bgr[j];
        double dist = sqrt((double)off / g); /* cosine-free distance on the indicator space */
        w[s] = exp(-dist * dist / (width * width));
    }
    if ((rc = predict_checked(f, ud, T, out)))
        goto done;
    /* weighted ridge (lambda = 1e-3 * total weight) on [z, 1] */
    double wsum = 0, ymean = 0;
    for (int s = 0; s < samples; s++) {
        if ((s & 255) == 0 && (rc = cl_progress_step(NULL, "lime", s, samples, NULL)))
            goto done;
        double xr[4097];
        for (int j = 0; j < g; j++)
            xr[j] = z[(int64_t)s * g + j];
        xr[g] = 1;
        for (int i = 0; i < k; i++) {
            bv[i] += w[s] * xr[i] * out[s];
            for (int j = 0; j <= i; j++)
                A[i * k + j] += w[s] * xr[i] * xr[j];
        }
        wsum += w[s];
        ymean += w[s] * out[s];
    }
    ymean /= wsum;
    for (int i = 0; i < g; i++)
        A[i * k + i] += 1e-3 * wsum;
    for (int i = 0; i < k; i++)
        for (int j = i + 1; j < k; j++)
            A[i * k + j] = A[j * k + i];
    if ((rc = spd_solve(A, bv, k, "lime")))
        goto done;
    double ss_res = 0, ss_tot = 0;
    for (int s = 0; s < samples; s++) {
        double pred = bv[g];
        for (int j = 0; j < g; j++)
            pred += bv[j] * z[(int64_t)s * g + j];
        ss_res += w[s] * (out[s] - pred) * (out[s] - pred);
        ss_tot += w[s] * (out[s] - ymean) * (out[s] - ymean);
    }
    memcpy(coef, bv, (size_t)k * sizeof *coef);
    *r2 = ss_tot > 0 ? 1 - ss_res / ss_tot : 1;
done:
    cl_tensor_free(T);
    cl_alloc_free(z);
    cl_alloc_free(out);
    cl_alloc_free(w);
    cl_alloc_free(A);
    cl_alloc_free(bv);
    return rc;
}
