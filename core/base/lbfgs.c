/* lbfgs.c - L-BFGS with OWL-QN for an L1 term; backtracking (Armijo) line search. */
#include "base/lbfgs.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int covered(const cl_lbfgs_opts *o, int64_t i) { return o->l1 > 0 && (!o->mask || o->mask[i]); }

/* Pseudo-gradient of f + l1 |x| (the steepest-descent direction's negative). */
static void pseudo_grad(double *pg, const double *x, const double *g, int64_t n,
                        const cl_lbfgs_opts *o)
{
    for (int64_t i = 0; i < n; i++) {
        if (!covered(o, i)) {
            pg[i] = g[i];
        } else if (x[i] > 0) {
            pg[i] = g[i] + o->l1;
        } else if (x[i] < 0) {
            pg[i] = g[i] - o->l1;
        } else if (g[i] + o->l1 < 0) {
            pg[i] = g[i] + o->l1;
        } else if (g[i] - o->l1 > 0) {
            pg[i] = g[i] - o->l1;
        } else {
            pg[i] = 0;
        }
    }
}

static double l1_term(const double *x, int64_t n, const cl_lbfgs_opts *o)
{
    double s = 0;
    if (o->l1 > 0)
        for (int64_t i = 0; i < n; i++)
            if (covered(o, i))
                s += fabs(x[i]);
    return o->l1 * s;
}

static double dot(const double *a, const double *b, int64_t n)
{
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += a[i] * b[i];
    return s;
}

static double amax(const double *a, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++)
        m = fabs(a[i]) > m ? fabs(a[i]) : m;
    return m;
}

int cl_lbfgs_minimize(double *x, int64_t n, cl_lbfgs_fn fn, void *ud, const cl_lbfgs_opts *o,
                      cl_lbfgs_result *res, const cl_progress *prog, const char *task)
{
    const int M = o->memory > 0 ? o->memory : 10;
    memset(res, 0, sizeof *res);
    size_t nd = (size_t)n;
    /* g, pg, d, xn, gn, alpha, then s[M], y[M], rho[M] */
    double *buf = cl_alloc_calloc(nd * (6 + 2 * (size_t)M) + 2 * (size_t)M, sizeof(double));
    if (!buf)
        return CL_ENOMEM;
    double *g = buf, *pg = g + nd, *d = pg + nd, *xn = d + nd, *gn = xn + nd;
    double *pgn = gn + nd, *S = pgn + nd, *Y = S + nd * (size_t)M, *rho = Y + nd * (size_t)M, *al = rho + M;
    int k = 0, head = 0; /* stored pairs, next slot */
    double f = fn(ud, x, g) + l1_term(x, n, o);
    int rc = CL_OK;
    for (res->iters = 0; res->iters < o->max_iter; res->iters++) {
        pseudo_grad(pg, x, g, n, o);
        res->gmax = amax(pg, n);
        if (res->gmax <= o->tol) {
            res->converged = 1;
            break;
        }
        /* two-loop recursion: d = -H pg */
        for (int64_t i = 0; i < n; i++)
            d[i] = -pg[i];
        for (int j = 0; j < k; j++) {
            int s = (head - 1 - j + M) % M;
            al[s] = rho[s] * dot(S + (size_t)s * nd, d, n);
            for (int64_t i = 0; i < n; i++)
                d[i] -= al[s] * Y[(size_t)s * nd + i];
        }
        if (k > 0) {
            int s = (head - 1 + M) % M;
            double yy = dot(Y + (size_t)s * nd, Y + (size_t)s * nd, n);
            double gamma = yy > 0 ? 1.0 / (rho[s] * yy) : 1.0;
            for (int64_t i = 0; i < n; i++)
                d[i] *= gamma;
        } else {
            double gm = sqrt(dot(pg, pg, n));
            for (int64_t i = 0; i < n; i++)
                d[i] /= gm > 1 ? gm : 1.0; /* first step: at most unit length */
        }
        for (int j = k - 1; j >= 0; j--) {
            int s = (head - 1 - j + M) % M;
            double b = rho[s] * dot(Y + (size_t)s * nd, d, n);
            for (int64_t i = 0; i < n; i++)
                d[i] += (al[s] - b) * S[(size_t)s * nd + i];
        }
        if (o->l1 > 0) /* OWL-QN: keep the direction in the orthant of descent */
            for (int64_t i = 0; i < n; i++)
                if (covered(o, i) && d[i] * pg[i] >= 0)
                    d[i] = 0;
        double slope = dot(pg, d, n);
        if (!(slope < 0)) { /* not a descent direction: restart from steepest descent */
            for (int64_t i = 0; i < n; i++)
                d[i] = -pg[i];
            slope = -dot(pg, pg, n);
            k = 0;
        }
        double step = 1.0, fn_val = f;
        int ok = 0;
        for (int ls = 0; ls < 60; ls++) {
            for (int64_t i = 0; i < n; i++) {
                xn[i] = x[i] + step * d[i];
                if (o->l1 > 0 && covered(o, i)) { /* project onto the orthant of x (or -pg) */
                    double orth = x[i] != 0 ? x[i] : -pg[i];
                    if (xn[i] * orth <= 0)
                        xn[i] = 0;
                }
            }
            fn_val = fn(ud, xn, gn) + l1_term(xn, n, o);
            double decrease = 0;
            for (int64_t i = 0; i < n; i++)
                decrease += pg[i] * (xn[i] - x[i]);
            if (isfinite(fn_val) && fn_val <= f + 1e-4 * decrease) {
                ok = 1;
                break;
            }
            /* Near the optimum f changes by less than its rounding error, so Armijo cannot
             * see progress; accept a step that leaves f equal to rounding and shrinks the
             * (pseudo-)gradient, which is still computed accurately. */
            if (isfinite(fn_val) && fabs(fn_val - f) <= 1e-13 * fmax(1.0, fabs(f))) {
                pseudo_grad(pgn, xn, gn, n, o);
                if (amax(pgn, n) < res->gmax) {
                    ok = 1;
                    break;
                }
            }
            step *= 0.5;
        }
        if (!ok) { /* no progress possible at double precision: as converged as it gets */
            res->converged = res->gmax <= o->tol;
            break;
        }
        /* curvature pair from the smooth part */
        double *s = S + (size_t)head * nd, *yv = Y + (size_t)head * nd;
        for (int64_t i = 0; i < n; i++) {
            s[i] = xn[i] - x[i];
            yv[i] = gn[i] - g[i];
        }
        double sy = dot(s, yv, n);
        if (sy > 1e-12 * sqrt(dot(s, s, n) * dot(yv, yv, n))) {
            rho[head] = 1.0 / sy;
            head = (head + 1) % M;
            k = k < M ? k + 1 : M;
        }
        memcpy(x, xn, nd * sizeof(double));
        memcpy(g, gn, nd * sizeof(double));
        double fprev = f;
        f = fn_val;
        (void)fprev;
        if (prog && (res->iters & 7) == 7) {
            char detail[64];
            snprintf(detail, sizeof detail, "objective %.6g", f);
            if ((rc = cl_progress_step(prog, task, res->iters + 1, o->max_iter, detail)))
                break;
        }
    }
    if (rc == CL_OK && !res->converged) {
        pseudo_grad(pg, x, g, n, o);
        res->gmax = amax(pg, n);
        res->converged = res->gmax <= o->tol;
    }
    res->f = f;
    cl_alloc_free(buf);
    return rc;
}
