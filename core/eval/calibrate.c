/* calibrate.c - Platt scaling and isotonic regression (PAV). */
#include "eval/calibrate.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int check(const double *score, const double *y, int64_t n, const char *what, int unit)
{
    if (n < 2)
        return cl_error(CL_EINVAL, "%s: need at least 2 observations, got %lld", what, (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(score[i]))
            return cl_error(CL_EINVAL, "%s: row %lld: score is not a finite number", what,
                            (long long)i + 1);
        if (!isfinite(y[i]) || (unit && (y[i] < 0 || y[i] > 1)))
            return cl_error(CL_EINVAL, "%s: row %lld: label must be %s, got %g", what,
                            (long long)i + 1, unit ? "0 or 1" : "finite", y[i]);
    }
    return CL_OK;
}

int cl_calibrate_platt_fit(const double *score, const double *y, int64_t n, double *a, double *b)
{
    int rc = check(score, y, n, "platt", 1);
    if (rc)
        return rc;
    double prior1 = 0, prior0;
    for (int64_t i = 0; i < n; i++)
        prior1 += y[i];
    prior0 = (double)n - prior1;
    if (prior1 == 0 || prior0 == 0)
        return cl_error(CL_EINVAL, "platt: labels hold a single class");
    double hi = (prior1 + 1) / (prior1 + 2), lo = 1 / (prior0 + 2);
    double A = 0, B = log((prior0 + 1) / (prior1 + 1));
    double sigma = 1e-12, fval = 0;
    /* f(A, B) = sum t log(1 + e^-f) + (1 - t) log(1 + e^f), f = A s + B, evaluated stably */
#define OBJ(Av, Bv, out)                                                                     \
    do {                                                                                     \
        double acc_ = 0;                                                                     \
        for (int64_t i_ = 0; i_ < n; i_++) {                                                 \
            double t_ = y[i_] > 0.5 ? hi : lo, f_ = score[i_] * (Av) + (Bv);                 \
            acc_ += f_ >= 0 ? t_ * f_ + log1p(exp(-f_)) : (t_ - 1) * f_ + log1p(exp(f_));   \
        }                                                                                    \
        (out) = acc_;                                                                        \
    } while (0)
    OBJ(A, B, fval);
    for (int it = 0; it < 100; it++) {
        double h11 = sigma, h22 = sigma, h21 = 0, g1 = 0, g2 = 0;
        for (int64_t i = 0; i < n; i++) {
            double t = y[i] > 0.5 ? hi : lo, f = score[i] * A + B, p, q;
            if (f >= 0) {
                p = exp(-f) / (1 + exp(-f));
                q = 1 / (1 + exp(-f));
            } else {
                p = 1 / (1 + exp(f));
                q = exp(f) / (1 + exp(f));
            }
            double d2 = p * q;
            h11 += score[i] * score[i] * d2;
            h22 += d2;
            h21 += score[i] * d2;
            double d1 = t - p;
            g1 += score[i] * d1;
            g2 += d1;
        }
        if (fabs(g1) < 1e-5 && fabs(g2) < 1e-5)
            break;
        double det = h11 * h22 - h21 * h21;
        double dA = -(h22 * g1 - h21 * g2) / det, dB = -(-h21 * g1 + h11 * g2) / det;
        double gd = g1 * dA + g2 * dB, step = 1;
        while (step >= 1e-10) {
            double nA = A + step * dA, nB = B + step * dB, nf;
            OBJ(nA, nB, nf);
            if (nf < fval + 1e-4 * step * gd) {
                A = nA;
                B = nB;
                fval = nf;
                break;
            }
            step /= 2;
        }
        if (step < 1e-10)
            break; /* line search failed: keep the best so far */
    }
#undef OBJ
    *a = A;
    *b = B;
    return CL_OK;
}

double cl_calibrate_platt_apply(double a, double b, double score)
{
    double f = a * score + b;
    return f >= 0 ? exp(-f) / (1 + exp(-f)) : 1 / (1 + exp(f));
}

void cl_calibrate_isotonic_free(cl_isotonic *iso)
{
    if (!iso)
        return;
    cl_alloc_free(iso->x);
    cl_alloc_free(iso);
}

static const double *iso_key;

static int by_score(const void *p, const void *q)
{
    double a = iso_key[*(const int64_t *)p], b = iso_key[*(const int64_t *)q];
    if (a != b)
        return a < b ? -1 : 1;
    return *(const int64_t *)p < *(const int64_t *)q ? -1 : 1;
}

int cl_calibrate_isotonic_estimate(cl_isotonic **out, const double *score, const double *y,
                                   const double *w, int64_t n)
{
    *out = NULL;
    int rc = check(score, y, n, "isotonic", 0);
    if (rc)
        return rc;
    if (w)
        for (int64_t i = 0; i < n; i++)
            if (!(w[i] >= 0) || !isfinite(w[i]))
                return cl_error(CL_EINVAL, "isotonic: row %lld: weight must be >= 0", (long long)i + 1);
    int64_t *idx = cl_alloc((size_t)n * sizeof *idx);
    /* per distinct score: x, weighted mean y, weight; then PAV blocks in place */
    double *bx = cl_alloc((size_t)n * sizeof *bx), *by = cl_alloc((size_t)n * sizeof *by);
    double *bw = cl_alloc((size_t)n * sizeof *bw), *bxl = cl_alloc((size_t)n * sizeof *bxl);
    cl_isotonic *iso = cl_alloc_calloc(1, sizeof *iso);
    if (!idx || !bx || !by || !bw || !bxl || !iso) {
        rc = CL_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    iso_key = score;
    qsort(idx, (size_t)n, sizeof *idx, by_score);
    int64_t m = 0;
    for (int64_t k = 0; k < n; k++) {
        int64_t i = idx[k];
        double wi = w ? w[i] : 1;
        if (m > 0 && bx[m - 1] == score[i]) {
            by[m - 1] += wi * y[i];
            bw[m - 1] += wi;
        } else {
            bx[m] = bxl[m] = score[i];
            by[m] = wi * y[i];
            bw[m] = wi;
            m++;
        }
    }
    for (int64_t j = 0; j < m; j++)
        by[j] = bw[j] > 0 ? by[j] / bw[j] : 0;
    /* pool adjacent violators: blocks [bxl, bx] with mean by and weight bw */
    int64_t top = 0;
    for (int64_t j = 0; j < m; j++) {
        bxl[top] = bxl[j];
        bx[top] = bx[j];
        by[top] = by[j];
        bw[top] = bw[j];
        top++;
        while (top > 1 && by[top - 2] >= by[top - 1]) {
            double W = bw[top - 2] + bw[top - 1];
            by[top - 2] = W > 0 ? (by[top - 2] * bw[top - 2] + by[top - 1] * bw[top - 1]) / W
                                : by[top - 2];
            bw[top - 2] = W;
            bx[top - 2] = bx[top - 1];
            top--;
        }
    }
    /* breakpoints at both ends of each block so interpolation is flat within a block */
    iso->x = cl_alloc((size_t)top * 4 * sizeof(double));
    if (!iso->x) {
        rc = CL_ENOMEM;
        goto done;
    }
    iso->v = iso->x + 2 * top;
    int64_t k = 0;
    for (int64_t j = 0; j < top; j++) {
        iso->x[k] = bxl[j];
        iso->v[k++] = by[j];
        if (bx[j] != bxl[j]) {
            iso->x[k] = bx[j];
            iso->v[k++] = by[j];
        }
    }
    iso->m = k;
    *out = iso;
    iso = NULL;
done:
    cl_alloc_free(idx);
    cl_alloc_free(bx);
    cl_alloc_free(by);
    cl_alloc_free(bw);
    cl_alloc_free(bxl);
    cl_calibrate_isotonic_free(iso);
    return rc;
}

double cl_calibrate_isotonic_apply(const cl_isotonic *iso, double s)
{
    if (isnan(s))
        return NAN;
    if (s <= iso->x[0])
        return iso->v[0];
    if (s >= iso->x[iso->m - 1])
        return iso->v[iso->m - 1];
    int64_t lo = 0, hi = iso->m - 1; /* x[lo] <= s < x[hi] */
    while (hi - lo > 1) {
        int64_t mid = lo + (hi - lo) / 2;
        if (iso->x[mid] <= s)
            lo = mid;
        else
            hi = mid;
    }
    double t = (s - iso->x[lo]) / (iso->x[hi] - iso->x[lo]);
    return iso->v[lo] + t * (iso->v[hi] - iso->v[lo]);
}

/* ---- calibrator files ------------------------------------------------------------------ */

int cl_calibrate_write(const cl_calibrator *c, cl_mw *w)
{
    cl_modelio_w_str(w, "method", c->method == CL_CALIB_PLATT ? "platt" : "isotonic");
    cl_modelio_w_int(w, "n_fit", c->n_fit);
    if (c->method == CL_CALIB_PLATT) {
        cl_modelio_w_num(w, "a", c->a);
        return cl_modelio_w_num(w, "b", c->b);
    }
    cl_modelio_w_f64(w, "x", c->iso->x, (size_t)c->iso->m);
    return cl_modelio_w_f64(w, "v", c->iso->v, (size_t)c->iso->m);
}

static int read_iso(const cl_mr *r, int64_t n_fit, cl_isotonic **out)
{
    size_t m, mv;
    int rc;
    if ((rc = cl_modelio_r_count(r, "x", CL_CHUNK_F64, &m)) || (rc = cl_modelio_r_count(r, "v", CL_CHUNK_F64, &mv)))
        return rc;
    /* a fit keeps at most both ends of one block per distinct score */
    if (m == 0 || m != mv || m > 2 * (uint64_t)n_fit)
        return cl_error(CL_EFORMAT, "calibrator file: %zu isotonic breakpoints and %zu values "
                        "for %lld fitted rows (expected the same count, 1..%lld)", m, mv,
                        (long long)n_fit, 2 * (long long)n_fit);
    cl_isotonic *iso = cl_alloc_calloc(1, sizeof *iso);
    double *buf = cl_alloc(2 * m * sizeof *buf);
    if (!iso || !buf) {
        cl_alloc_free(iso);
        cl_alloc_free(buf);
        return CL_ENOMEM;
    }
    iso->x = buf;
    iso->v = buf + m;
    iso->m = (int64_t)m;
    if ((rc = cl_modelio_r_f64(r, "x", iso->x, m)) || (rc = cl_modelio_r_f64(r, "v", iso->v, m))) {
        cl_calibrate_isotonic_free(iso);
        return rc;
    }
    for (size_t i = 0; i < m; i++) /* the map must be a monotone step function into [0, 1] */
        if (!isfinite(iso->x[i]) || !(iso->v[i] >= 0 && iso->v[i] <= 1) ||
            (i && (iso->x[i] < iso->x[i - 1] || iso->v[i] < iso->v[i - 1]))) {
            rc = cl_error(CL_EFORMAT, "calibrator file: isotonic breakpoint %zu (%g -> %g) "
                          "is not finite, not in [0, 1] or not monotone", i + 1, iso->x[i],
                          iso->v[i]);
            cl_calibrate_isotonic_free(iso);
            return rc;
        }
    *out = iso;
    return CL_OK;
}

int cl_calibrate_read(cl_calibrator *c, const cl_mr *r)
{
    memset(c, 0, sizeof *c);
    char *method = NULL;
    int rc = cl_modelio_r_expect_kind(r, "calibrator");
    if (!rc)
        rc = cl_modelio_r_str(r, "method", &method);
    if (!rc)
        rc = cl_modelio_r_int(r, "n_fit", 2, INT64_MAX / 4, &c->n_fit);
    if (!rc) {
        if (strcmp(method, "platt") == 0) {
            c->method = CL_CALIB_PLATT;
            if (!(rc = cl_modelio_r_num(r, "a", &c->a)) && !(rc = cl_modelio_r_num(r, "b", &c->b)) &&
                !(isfinite(c->a) && isfinite(c->b)))
                rc = cl_error(CL_EFORMAT, "calibrator file: Platt coefficients a = %g, b = %g "
                              "must be finite", c->a, c->b);
        } else if (strcmp(method, "isotonic") == 0) {
            c->method = CL_CALIB_ISOTONIC;
            rc = read_iso(r, c->n_fit, &c->iso);
        } else {
            rc = cl_error(CL_EFORMAT, "calibrator file: unknown calibration method '%s' "
                          "(expected platt or isotonic)", method);
        }
    }
    cl_alloc_free(method);
    if (rc) {
        cl_calibrate_isotonic_free(c->iso);
        memset(c, 0, sizeof *c);
    }
    return rc;
}
