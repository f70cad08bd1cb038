/* logreg.c - logistic regression: the objective over fixed row blocks, L-BFGS / OWL-QN
 * fits (core/lbfgs.c), prediction and model files. */
#include "models/logreg.h"
#include "base/alloc.h"
#include "models/prior.h"
#include "base/error.h"
#include "base/lbfgs.h"
#include "base/dist_logit.h"
#include "base/param_io.h"
#include "base/threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#define ROW_BLOCK 4096

const cl_param_def cl_logreg_param_defs[] = {
    {"penalty", CL_PARAM_ENUM, offsetof(cl_logreg_params, penalty), 0, 0, 0,
     "l2|l1|elasticnet|none", "regularisation (l2: L-BFGS; l1, elasticnet: OWL-QN)"},
    {"C", CL_PARAM_NUM, offsetof(cl_logreg_params, C), 1.0, 1e-12, 1e12, NULL,
     "inverse regularisation strength, as scikit-learn's C"},
    {"lambda", CL_PARAM_NUM, offsetof(cl_logreg_params, lambda), 0, 0, 1e6, NULL,
     "penalty weight per row (overrides C when > 0: C = 1 / (lambda n))"},
    {"l1_ratio", CL_PARAM_NUM, offsetof(cl_logreg_params, l1_ratio), 0.5, 0, 1, NULL,
     "elasticnet: share of the L1 term"},
    {"intercept", CL_PARAM_BOOL, offsetof(cl_logreg_params, intercept), 1, 0, 1, NULL,
     "fit an (unpenalised) intercept"},
    {"class_weight", CL_PARAM_ENUM, offsetof(cl_logreg_params, class_weight), 0, 0, 0,
     "none|balanced", "balanced: each class weighs n / (2 n_class)"},
    {"pos_weight", CL_PARAM_NUM, offsetof(cl_logreg_params, pos_weight), 1, 0, 1e6, NULL,
     "extra weight of positive rows"},
    {"neg_weight", CL_PARAM_NUM, offsetof(cl_logreg_params, neg_weight), 1, 0, 1e6, NULL,
     "extra weight of negative rows"},
    {"tol", CL_PARAM_NUM, offsetof(cl_logreg_params, tol), 1e-6, 1e-15, 1, NULL,
     "convergence: largest |gradient| component of the mean objective"},
    {"max_iter", CL_PARAM_INT, offsetof(cl_logreg_params, max_iter), 1000, 1, 1000000, NULL,
     "iteration limit (a warning when reached)"},
    {"prior_correction", CL_PARAM_BOOL, offsetof(cl_logreg_params, prior_correction), 1, 0, 1,
     NULL, "after class weights: map probabilities back to the true churn rate (predict)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

void cl_logreg_params_default(cl_logreg_params *p)
{
    memset(p, 0, sizeof *p);
    cl_param_defaults(cl_logreg_param_defs, p);
}

struct cl_logreg {
    cl_logreg_params p;
    int64_t d;
    double *coef;
    double b;
    char **names;
    int64_t nnames;
    int fitted;
    cl_logreg_result res;
    double prior_trained, prior_true; /* positive rates: reweighted fit, labels (NaN: unknown) */
};

int cl_logreg_new(cl_logreg **out, const cl_logreg_params *p)
{
    *out = NULL;
    int rc = cl_param_validate(cl_logreg_param_defs, p, "logreg");
    if (rc)
        return rc;
    if (p->lambda > 0 && p->C != 1.0)
        return cl_error(CL_EINVAL, "logreg: give C or lambda, not both (C = %g, lambda = %g)",
                        p->C, p->lambda);
    cl_logreg *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->p = *p;
    m->prior_trained = m->prior_true = NAN;
    *out = m;
    return CL_OK;
}

static void free_names(cl_logreg *m)
{
    cl_alloc_strs_free(m->names, m->nnames);
    m->names = NULL;
    m->nnames = 0;
}

void cl_logreg_free(cl_logreg *m)
{
    if (!m)
        return;
    free_names(m);
    cl_alloc_free(m->coef);
    cl_alloc_free(m);
}

int cl_logreg_set_names(cl_logreg *m, const char *const *names, int64_t d)
{
    if (d < 1)
        return cl_error(CL_EINVAL, "logreg: need at least one feature name");
    char **v;
    int rc = cl_alloc_strs_dup(&v, names, d);
    if (rc)
        return rc;
    free_names(m);
    m->names = v;
    m->nnames = d;
    return CL_OK;
}

int cl_logreg_fitted(const cl_logreg *m) { return m->fitted; }
int64_t cl_logreg_inputs(const cl_logreg *m) { return m->fitted ? m->d : 0; }
const double *cl_logreg_coef(const cl_logreg *m) { return m->fitted ? m->coef : NULL; }
double cl_logreg_intercept(const cl_logreg *m) { return m->b; }
const char *cl_logreg_name(const cl_logreg *m, int64_t j)
{
    return j >= 0 && j < m->nnames ? m->names[j] : NULL;
}
const cl_logreg_params *cl_logreg_params_of(const cl_logreg *m) { return &m->p; }
const cl_logreg_result *cl_logreg_result_of(const cl_logreg *m) { return &m->res; }

int cl_logreg_prior(const cl_logreg *m, double *trained, double *truth)
{
    *trained = m->prior_trained;
    *truth = m->prior_true;
    return m->fitted && m->p.prior_correction && cl_prior_needed(*trained, *truth);
}

/* ---- the objective -------------------------------------------------------------------- */

typedef struct ctx {
    const float *X, *y;
    const float *sw; /* sample weights or NULL (all 1) */
    int64_t n, d;
    double npos, wpos, wneg;
    double l2;       /* coefficient of |beta|^2 / 2 */
    int intercept;
    double *part;    /* per block: d gradient sums, intercept sum, loss */
    int64_t nblocks;
    int nt;
    cl_dist_logit *dl; /* under mpirun: exact sums over the ranks (base/dist_logit.h) */
} ctx;

/* x . th in double with four running sums (a fixed order, so deterministic), which lets the
 * compiler keep two SSE lanes busy instead of one serial chain. */
static double dot_row(const float *restrict x, const double *restrict th, int64_t d)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int64_t j = 0;
    for (; j + 4 <= d; j += 4) {
        s0 += (double)x[j] * th[j];
        s1 += (double)x[j + 1] * th[j + 1];
        s2 += (double)x[j + 2] * th[j + 2];
        s3 += (double)x[j + 3] * th[j + 3];
    }
    for (; j < d; j++)
        s0 += (double)x[j] * th[j];
    return (s0 + s1) + (s2 + s3);
}

static double block_sums(ctx *c, const double *th, double *g);

static double objective(void *ud, const double *th, double *g)
{
    ctx *c = ud;
    const int64_t d = c->d;
    double f = c->dl ? cl_dist_logit_sums(c->dl, th, g) : block_sums(c, th, g);
    double inv = 1.0 / (double)c->n, sq = 0;
    for (int64_t j = 0; j <= d; j++)
        g[j] *= inv;
    f *= inv;
    for (int64_t j = 0; j < d; j++) {
        sq += th[j] * th[j];
        g[j] += c->l2 * th[j];
    }
    if (!c->intercept)
        g[d] = 0;
    return f + 0.5 * c->l2 * sq;
}

/* g[0..d] = the gradient sums, returns the loss sum: per block of rows, in block order */
static double block_sums(ctx *c, const double *th, double *g)
{
    const int64_t d = c->d, stride = d + 2;
    const double b = th[d];
#pragma omp parallel for num_threads(c->nt) schedule(static) if (c->nblocks > 3)
    for (int64_t k = 0; k < c->nblocks; k++) {
        double *pp = c->part + k * stride;
        memset(pp, 0, (size_t)stride * sizeof(double));
        int64_t i1 = (k + 1) * ROW_BLOCK < c->n ? (k + 1) * ROW_BLOCK : c->n;
        for (int64_t i = k * ROW_BLOCK; i < i1; i++) {
            const float *x = c->X + i * d;
            double z = b + dot_row(x, th, d);
            double yi = c->y[i], w = yi == 1.0 ? c->wpos : c->wneg;
            if (c->sw) /* times 1 would be exact too; this keeps the unweighted loop lean */
                w *= c->sw[i];
            double e = exp(-fabs(z));
            double p = z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
            pp[d + 1] += w * (fmax(z, 0.0) - z * yi + log1p(e));
            double r = w * (p - yi);
            double *restrict gp = pp;
            for (int64_t j = 0; j < d; j++)
                gp[j] += r * (double)x[j];
            pp[d] += r;
        }
    }
    double f = 0;
    memset(g, 0, (size_t)(d + 1) * sizeof(double));
    for (int64_t k = 0; k < c->nblocks; k++) { /* block order: thread-count independent */
        const double *pp = c->part + k * stride;
        for (int64_t j = 0; j <= d; j++)
            g[j] += pp[j];
        f += pp[d + 1];
    }
    return f;
}

static int check_xy(const cl_logreg *m, const float *X, const float *y, int64_t n, int64_t d)
{
    if (n < 1 || d < 1)
        return cl_error(CL_EINVAL, "logreg: X is empty (%lld x %lld)", (long long)n,
                        (long long)d);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < d; j++)
            if (!isfinite(X[i * d + j])) {
                const char *nm = cl_logreg_name(m, j);
                return cl_error(CL_EINVAL, "logreg: X row %lld, column %lld%s%s%s is %s",
                                (long long)(i + 1), (long long)(j + 1), nm ? " ('" : "",
                                nm ? nm : "", nm ? "')" : "",
                                isnan(X[i * d + j]) ? "NaN" : "infinite");
            }
        if (y && y[i] != 0.0f && y[i] != 1.0f)
            return cl_error(CL_EINVAL, "logreg: label at row %lld is %g: labels must be 0 or 1",
                            (long long)(i + 1), (double)y[i]);
    }
    return CL_OK;
}

static int setup(ctx *c, const cl_logreg *m, const float *X, const float *y, int64_t n, int64_t d,
                 double *l1, cl_dist *dist)
{
    memset(c, 0, sizeof *c);
    c->X = X;
    c->y = y;
    c->n = n;
    c->d = d;
    c->intercept = m->p.intercept;
    double P = 0;
    for (int64_t i = 0; i < n; i++)
        P += y[i];
    const int64_t nloc = n;
    int rc = dist ? cl_dist_logit_counts(dist, y, nloc, &n, &P) : CL_OK; /* every rank's rows */
    if (rc)
        return rc;
    c->n = n;
    c->wpos = c->wneg = 1;
    if (m->p.class_weight == 1 && P > 0 && P < (double)n) {
        c->wpos = (double)n / (2 * P);
        c->wneg = (double)n / (2 * ((double)n - P));
    }
    c->wpos *= m->p.pos_weight;
    c->wneg *= m->p.neg_weight;
    c->npos = P;
    double strength = m->p.lambda > 0 ? m->p.lambda : 1.0 / (m->p.C * (double)n);
    double r = m->p.penalty == CL_PEN_L1 ? 1.0 : m->p.penalty == CL_PEN_ELASTICNET ? m->p.l1_ratio : 0.0;
    if (m->p.penalty == CL_PEN_NONE)
        strength = 0;
    c->l2 = strength * (1 - r);
    *l1 = strength * r;
    c->nblocks = (nloc + ROW_BLOCK - 1) / ROW_BLOCK;
    c->nt = cl_threads_get();
    c->part = cl_alloc((size_t)c->nblocks * (size_t)(d + 2) * sizeof(double));
    if (dist && c->part && (c->dl = cl_alloc(sizeof *c->dl)) != NULL)
        return cl_dist_logit_init(c->dl, dist, X, y, nloc, d, n, c->wpos, c->wneg, c->nt);
    return c->part && (!dist || c->dl) ? CL_OK : CL_ENOMEM;
}

int cl_logreg_objective(const cl_logreg *m, const float *X, const float *y, int64_t n,
                        int64_t d, const double *theta, double *f, double *grad)
{
    int rc = check_xy(m, X, y, n, d);
    if (rc)
        return rc;
    ctx c;
    double l1;
    if ((rc = setup(&c, m, X, y, n, d, &l1, NULL)))
        return rc;
    *f = objective(&c, theta, grad);
    cl_alloc_free(c.part);
    return CL_OK;
}

static int fit(cl_logreg *m, const float *X, const float *y, const float *w, int64_t n, int64_t d,
               cl_logreg_result *res, const cl_progress *prog, cl_dist *dist);

int cl_logreg_fit(cl_logreg *m, const float *X, const float *y, int64_t n, int64_t d,
                  cl_logreg_result *res, const cl_progress *prog)
{
    return fit(m, X, y, NULL, n, d, res, prog, NULL);
}

int cl_logreg_fit_weighted(cl_logreg *m, const float *X, const float *y, const float *w,
                           int64_t n, int64_t d, cl_logreg_result *res, const cl_progress *prog)
{
    return fit(m, X, y, w, n, d, res, prog, NULL);
}

int cl_logreg_fit_dist(cl_logreg *m, const float *X, const float *y, const float *w, int64_t n,
                       int64_t d, cl_logreg_result *res, const cl_progress *prog, cl_dist *dist)
{
    cl_dist_begin(dist); /* a bad shard on one rank stops every rank (base/dist.h) */
    return cl_dist_agree(dist, fit(m, X, y, w, n, d, res, prog, dist));
}

static int fit(cl_logreg *m, const float *X, const float *y, const float *w, int64_t n, int64_t d,
               cl_logreg_result *res, const cl_progress *prog, cl_dist *dist)
{
    if (m->nnames && m->nnames != d)
        return cl_error(CL_EINVAL, "logreg: X has %lld columns but the model has %lld feature "
                                   "names", (long long)d, (long long)m->nnames);
    int rc = check_xy(m, X, y, n, d);
    if (dist && (rc = cl_dist_agree(dist, rc)) != CL_OK)
        return rc;
    if (rc)
        return rc;
    ctx c;
    double l1;
    unsigned char *mask = NULL;
    double *th = cl_alloc_calloc((size_t)d + 1, sizeof(double));
    if (!th)
        return CL_ENOMEM;
    if ((rc = setup(&c, m, X, y, n, d, &l1, dist)))
        goto done;
    if (c.dl && (rc = cl_dist_logit_weights(c.dl, w))) /* base/dist_logit.h */
        goto done;
    c.sw = w;
    if (l1 > 0) {
        if (!(mask = cl_alloc_calloc((size_t)d + 1, 1))) {
            rc = CL_ENOMEM;
            goto done;
        }
        memset(mask, 1, (size_t)d); /* the intercept is not penalised */
    }
    cl_lbfgs_opts o = {10, m->p.max_iter, m->p.tol, l1, mask};
    cl_lbfgs_result r;
    m->fitted = 0;
    rc = cl_lbfgs_minimize(th, d + 1, objective, &c, &o, &r, prog, "logreg");
    if (c.dl && c.dl->rc)
        rc = c.dl->rc; /* a collective failed: the objective was NaN */
    if (rc)
        goto done;
    double *coef = cl_alloc_realloc(m->coef, (size_t)d * sizeof(double));
    if (!coef) {
        rc = CL_ENOMEM;
        goto done;
    }
    m->coef = coef;
    memcpy(m->coef, th, (size_t)d * sizeof(double));
    m->b = m->p.intercept ? th[d] : 0.0;
    m->d = d;
    m->fitted = 1;
    cl_prior_rates(c.npos, (double)c.n, c.wpos, c.wneg, &m->prior_trained, &m->prior_true);
    m->res.iters = r.iters;
    m->res.converged = r.converged;
    m->res.objective = r.f;
    m->res.gmax = r.gmax;
    if (res)
        *res = m->res;
done:
    if (c.dl)
        cl_dist_logit_free(c.dl);
    cl_alloc_free(c.dl);
    cl_alloc_free(c.part);
    cl_alloc_free(mask);
    cl_alloc_free(th);
    return rc;
}

int cl_logreg_predict_mode(const cl_logreg *m, const float *X, int64_t n, int64_t d, float *out,
                           int mode)
{
    if (mode < CL_PREDICT_PROB || mode > CL_PREDICT_CORRECTED)
        return cl_error(CL_EINVAL, "logreg: unknown prediction mode %d", mode);
    if (!m->fitted)
        return cl_error(CL_ESTATE, "logreg: predict before fit");
    if (d != m->d)
        return cl_error(CL_EINVAL, "logreg: X has %lld columns, the model was fitted on %lld",
                        (long long)d, (long long)m->d);
    int rc = check_xy(m, X, NULL, n, d);
    if (rc)
        return rc;
    const int prob = mode != CL_PREDICT_MARGIN;
    double tr, tt;
    /* corrected from the float probability, so the result equals cl_prior_correct applied to
     * the uncorrected output (the Lua oracle test relies on it) */
    cl_logreg_prior(m, &tr, &tt);
    const int fix = cl_prior_wanted(mode, m->p.prior_correction, tr, tt);
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (n > 4 * ROW_BLOCK)
    for (int64_t i = 0; i < n; i++) {
        double z = m->b + dot_row(X + i * d, m->coef, d);
        double e = exp(-fabs(z));
        out[i] = prob ? (float)(z >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e)) : (float)z;
        if (fix)
            out[i] = (float)cl_prior_correct(out[i], tr, tt);
    }
    return CL_OK;
}

int cl_logreg_predict(const cl_logreg *m, const float *X, int64_t n, int64_t d, float *out)
{
    return cl_logreg_predict_mode(m, X, n, d, out, CL_PREDICT_PROB);
}

int cl_logreg_decision(const cl_logreg *m, const float *X, int64_t n, int64_t d, float *out)
{
    return cl_logreg_predict_mode(m, X, n, d, out, CL_PREDICT_MARGIN);
}

/* ---- model files ---------------------------------------------------------------------- */

int cl_logreg_write(const cl_logreg *m, cl_mw *w)
{
    if (!m->fitted)
        return cl_error(CL_ESTATE, "logreg: save before fit");
    cl_param_io_write(w, cl_logreg_param_defs, &m->p);
    cl_modelio_w_f64(w, "logreg.coef", m->coef, (size_t)m->d);
    cl_modelio_w_num(w, "logreg.intercept", m->b);
    cl_modelio_w_int(w, "logreg.iters", m->res.iters);
    cl_modelio_w_int(w, "logreg.converged", m->res.converged);
    cl_prior_write(w, "logreg.prior_rates", m->prior_trained, m->prior_true);
    if (m->nnames)
        cl_modelio_w_strs(w, "logreg.names", (const char *const *)m->names, (size_t)m->nnames);
    const void *buf;
    size_t len;
    return cl_modelio_w_finish(w, &buf, &len);
}

int cl_logreg_read(cl_logreg **out, const cl_mr *r)
{
    *out = NULL;
    int rc = cl_modelio_r_expect_kind(r, "logreg");
    if (rc)
        return rc;
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    if ((rc = cl_param_io_read(r, cl_logreg_param_defs, &p, "logreg")))
        return rc;
    cl_logreg *m;
    if ((rc = cl_logreg_new(&m, &p)))
        return cl_error_wrap(rc == CL_ENOMEM ? rc : CL_EFORMAT, "logreg file");
    size_t d;
    int64_t it, conv;
    if ((rc = cl_modelio_r_count(r, "logreg.coef", CL_CHUNK_F64, &d)))
        goto fail;
    if (d < 1 || d > ((size_t)1 << 31)) {
        rc = cl_error(CL_EFORMAT, "logreg file: %zu coefficients", d);
        goto fail;
    }
    if (!(m->coef = cl_alloc(d * sizeof(double)))) {
        rc = CL_ENOMEM;
        goto fail;
    }
    if ((rc = cl_modelio_r_f64(r, "logreg.coef", m->coef, d)) ||
        (rc = cl_modelio_r_num(r, "logreg.intercept", &m->b)) ||
        (rc = cl_modelio_r_int(r, "logreg.iters", 0, 100000000, &it)) ||
        (rc = cl_modelio_r_int(r, "logreg.converged", 0, 1, &conv)) ||
        (rc = cl_prior_read(r, "logreg.prior_rates", &m->prior_trained, &m->prior_true,
                            "logreg file")))
        goto fail;
    double total = fabs(m->b);
    for (size_t j = 0; j < d; j++) {
        if (!isfinite(m->coef[j])) {
            rc = cl_error(CL_EFORMAT, "logreg file: coefficient %zu is not finite", j + 1);
            goto fail;
        }
        total += fabs(m->coef[j]);
    }
    if (!isfinite(m->b)) {
        rc = cl_error(CL_EFORMAT, "logreg file: the intercept is not finite");
        goto fail;
    }
    /* Finite is not enough: coefficients of 1e300 give inf margins (and inf - inf in
     * explanations) on ordinary rows. Bounding the sum keeps every margin of rows with
     * |x| <= 1e8 within float32. */
    if (!(total <= CL_LOGREG_MAX_WEIGHT)) {
        rc = cl_error(CL_EFORMAT, "logreg file: |intercept| + sum |coefficients| = %g exceeds "
                      "%g (a corrupted exponent, not a fitted model)", total,
                      CL_LOGREG_MAX_WEIGHT);
        goto fail;
    }
    if (cl_modelio_r_has(r, "logreg.names")) {
        size_t cnt;
        if ((rc = cl_modelio_r_count(r, "logreg.names", CL_CHUNK_STR, &cnt)))
            goto fail;
        if (cnt != d) {
            rc = cl_error(CL_EFORMAT, "logreg file: %zu feature names for %zu coefficients", cnt,
                          d);
            goto fail;
        }
        if (!(m->names = cl_alloc_calloc(cnt, sizeof(char *)))) {
            rc = CL_ENOMEM;
            goto fail;
        }
        if ((rc = cl_modelio_r_strs(r, "logreg.names", m->names, cnt)))
            goto fail;
        m->nnames = (int64_t)cnt;
    }
    m->d = (int64_t)d;
    m->res.iters = (int)it;
    m->res.converged = (int)conv;
    m->fitted = 1;
    *out = m;
    return CL_OK;
fail:
    cl_logreg_free(m);
    return rc;
}

/* ---- the classifier interface (models/model.h) ----------------------------------------- */

static void ops_defaults(void *p) { cl_logreg_params_default(p); }
static int ops_create(void **impl, const void *p) { return cl_logreg_new((cl_logreg **)impl, p); }
static void ops_free(void *impl) { cl_logreg_free(impl); }
static const void *ops_params_of(const void *impl) { return cl_logreg_params_of(impl); }
static int ops_fitted(const void *impl) { return cl_logreg_fitted(impl); }
static const char *ops_name(const void *impl, int64_t j) { return cl_logreg_name(impl, j); }
static int64_t ops_n_features(const void *impl) { return cl_logreg_inputs(impl); }
static int ops_read(void **impl, const cl_mr *r) { return cl_logreg_read((cl_logreg **)impl, r); }
static int ops_write(const void *impl, cl_mw *w) { return cl_logreg_write(impl, w); }

static int ops_set_names(void *impl, const char *const *names, int64_t d)
{
    return cl_logreg_set_names(impl, names, d);
}

static int ops_prior(const void *impl, double *trained, double *truth)
{
    return cl_logreg_prior(impl, trained, truth);
}

/* Not converging within max_iter is a warning for the user, not an error. */
static int ops_fit(void *impl, const float *X, const float *y, int64_t n, int64_t d,
                   const cl_fit_opts *o, cl_model_history *h, const cl_progress *p)
{
    cl_logreg *m = impl; /* logreg takes no validation set: only the weights of o */
    cl_logreg_result r;
    int rc = cl_logreg_fit_dist(m, X, y, o ? o->w : NULL, n, d, &r, p, o ? o->dist : NULL);
    if (rc)
        return rc;
    cl_model_history_scalar(h, "converged", r.converged, 1);
    cl_model_history_scalar(h, "iters", r.iters, 0);
    cl_model_history_scalar(h, "objective", r.objective, 0);
    cl_model_history_scalar(h, "gradient", r.gmax, 0);
    if (!r.converged)
        snprintf(h->warning, sizeof h->warning,
                 "logreg did not converge in %d iterations (max |gradient| %.3g > tol %.3g); "
                 "raise max_iter, loosen tol or scale the features",
                 r.iters, r.gmax, m->p.tol);
    return CL_OK;
}

static const char *ops_describe(const void *impl, char *buf, size_t cap)
{
    const cl_logreg *m = impl;
    static const char *const pens[] = {"l2", "l1", "elasticnet", "none"};
    char reg[64];
    if (m->p.penalty == CL_PEN_NONE)
        snprintf(reg, sizeof reg, "no penalty");
    else if (m->p.lambda > 0)
        snprintf(reg, sizeof reg, "%s lambda=%g", pens[m->p.penalty], m->p.lambda);
    else
        snprintf(reg, sizeof reg, "%s C=%g", pens[m->p.penalty], m->p.C);
    if (!m->fitted)
        snprintf(buf, cap, "%s, not fitted", reg);
    else
        snprintf(buf, cap, "%lld features %s, fitted in %d iterations%s", (long long)m->d, reg,
                 m->res.iters, m->res.converged ? "" : " (not converged)");
    return buf;
}

static int ops_predict(const void *impl, const float *X, int64_t n, int64_t d, float *out,
                       int mode)
{
    return cl_logreg_predict_mode(impl, X, n, d, out, mode);
}

/* Interventional SHAP of the log-odds: phi_j = w_j (x_j - ref_j), base = b + w . ref (exact:
 * the margin is linear). Accumulated in double as the decision function is. */
static int ops_contrib(const void *impl, const float *X, int64_t n, int64_t d, const float *ref,
                       float *phi)
{
    const cl_logreg *m = impl;
    if (!m->fitted)
        return cl_error(CL_ESTATE, "logreg: contributions before fit");
    double base = m->b;
    for (int64_t j = 0; j < d; j++)
        base += m->coef[j] * (ref ? ref[j] : 0.0);
    for (int64_t i = 0; i < n; i++) {
        float *row = phi + i * (d + 1);
        for (int64_t j = 0; j < d; j++)
            row[j] = (float)(m->coef[j] * ((double)X[i * d + j] - (ref ? ref[j] : 0.0)));
        row[d] = (float)base;
    }
    return CL_OK;
}

const cl_model_ops cl_logreg_model_ops = {
    .kind = "logreg", .title = "LogReg", .defs = cl_logreg_param_defs,
    .params_size = sizeof(cl_logreg_params), .defaults = ops_defaults, .create = ops_create,
    .free = ops_free, .params_of = ops_params_of, .fit = ops_fit, .fitted = ops_fitted,
    .fit_flags = CL_FIT_WEIGHTS | CL_FIT_DIST,
    .set_names = ops_set_names, .name = ops_name, .prior = ops_prior,
    .describe = ops_describe, .read = ops_read, .write = ops_write,
    .n_features = ops_n_features, .predict = ops_predict, .contrib = ops_contrib,
    .needs_ref = 1};
