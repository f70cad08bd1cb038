/* cf.c - collaborative filtering: popularity, biased MF (SGD / ALS, SVD++, time-aware
 * biases), implicit ALS; item-kNN is in cf_itemknn.c. */
#include "rec/cf.h"
#include "rec/als_dist.h"
#include "rec/mftime.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threads.h"

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VAL(v, k) ((v) ? (v)[k] : 1.0f)

/* ====================================================================================== */
/* popularity                                                                             */
/* ====================================================================================== */

static const cl_param_def popular_defs[] = {
    {"half_life", CL_PARAM_NUM, offsetof(cl_cf_popular_params, half_life), 0, 0, 1e300, NULL,
     "time decay: an interaction half_life time units older than the latest counts half "
     "(0 = plain counts; needs times)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

typedef struct popular_state {
    float *score;
} popular_state;

static void popular_defaults(void *p) { cl_param_defaults(popular_defs, p); }

static void popular_free(cl_rec *r)
{
    popular_state *s = r->state;
    cl_alloc_free(s->score);
    cl_alloc_free(s);
}

static int popular_alloc(cl_rec *r)
{
    popular_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->score = cl_alloc_calloc((size_t)r->train->n_items, sizeof *s->score);
    return s->score ? CL_OK : CL_ENOMEM;
}

static int popular_fit(cl_rec *r, const cl_progress *p)
{
    (void)p;
    const cl_cf_popular_params *pp = r->params;
    const cl_interactions *m = r->train;
    if (pp->half_life > 0 && !m->times)
        return cl_error(CL_EINVAL, "popular: half_life needs interaction times (option 'time')");
    int rc = popular_alloc(r);
    if (rc)
        return rc;
    popular_state *s = r->state;
    double tmax = -INFINITY;
    if (pp->half_life > 0)
        for (int64_t k = 0; k < m->nnz; k++)
            tmax = m->times[k] > tmax ? m->times[k] : tmax;
    double *acc = cl_alloc_calloc((size_t)m->n_items, sizeof *acc);
    if (!acc)
        return CL_ENOMEM;
    for (int64_t u = 0; u < m->n_users; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
            acc[m->indices[k]] +=
                pp->half_life > 0 ? exp2(-(tmax - m->times[k]) / pp->half_life) : 1.0;
    for (int64_t j = 0; j < m->n_items; j++)
        s->score[j] = (float)acc[j];
    cl_alloc_free(acc);
    return CL_OK;
}

static int popular_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                           float *scores)
{
    (void)n, (void)items, (void)v;
    const popular_state *s = r->state;
    memcpy(scores, s->score, (size_t)r->train->n_items * sizeof *scores);
    return CL_OK;
}

static int popular_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    (void)prefix;
    const popular_state *s = r->state;
    return cl_modelio_w_f32(w, "pop.score", s->score, (size_t)r->train->n_items);
}

static int popular_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    int rc = popular_alloc(r);
    if (rc)
        return rc;
    popular_state *s = r->state;
    if ((rc = cl_modelio_r_f32(mr, "pop.score", s->score, (size_t)r->train->n_items)))
        return rc;
    for (int64_t j = 0; j < r->train->n_items; j++) /* counts or decayed counts */
        if (!(s->score[j] >= 0 && s->score[j] <= FLT_MAX))
            return cl_error(CL_EFORMAT, "popular: item %lld has popularity %g, expected a "
                            "finite number >= 0", (long long)j + 1, (double)s->score[j]);
    return CL_OK;
}

/* A new user leaves the fitted popularity as it is; a new item counts its users (added at the
 * matrix's latest time: weight 1 under time decay). */
static int popular_grow(cl_rec *r, cl_interactions *grown, int what, int valued, const float *x,
                        int nf)
{
    (void)valued, (void)x, (void)nf;
    if (what == CL_REC_GROW_USER)
        return CL_OK;
    popular_state *s = r->state;
    int64_t ni = r->train->n_items;
    float *sc = cl_alloc_realloc(s->score, (size_t)(ni + 1) * sizeof *sc);
    if (!sc)
        return CL_ENOMEM;
    s->score = sc;
    sc[ni] = (float)cl_interactions_item_nnz(grown, ni);
    return CL_OK;
}

const cl_rec_ops cl_cf_popular_ops = {
    "popular", popular_defs, sizeof(cl_cf_popular_params), popular_defaults, popular_fit, NULL,
    popular_history, NULL, popular_save, popular_load, popular_free, popular_grow, NULL, 1};

/* ====================================================================================== */
/* shared by mf and als: factor matrices                                                  */
/* ====================================================================================== */

typedef struct fac_state {
    int f;
    float *X, *Y;     /* n_users x f, n_items x f */
    float *bu, *bi;   /* mf biases (NULL for als) */
    double mu, rmin, rmax;
    double *gram;     /* als: Y^T Y (f x f), for fold-in */
    float *Z;         /* mf svd++: implicit item factors y_j (n_items x f); X then holds
                       * p_u + sum_{j in N(u)} y_j / sqrt|N(u)|, so scoring is unchanged */
    cl_mftime *T;     /* mf time = true: the time-aware biases, else NULL */
} fac_state;

int cl_cf_alloc_factors(const cl_interactions *m, int f, float **X, float **Y)
{
    size_t nx, ny;
    *X = *Y = NULL;
    if (!cl_alloc_mul_size((size_t)m->n_users, (size_t)f * sizeof(float), &nx) ||
        !cl_alloc_mul_size((size_t)m->n_items, (size_t)f * sizeof(float), &ny))
        return CL_ERANGE;
    *X = cl_alloc_calloc(1, nx ? nx : 1);
    *Y = cl_alloc_calloc(1, ny ? ny : 1);
    return *X && *Y ? CL_OK : CL_ENOMEM;
}

static void fac_free(cl_rec *r)
{
    fac_state *s = r->state;
    cl_alloc_free(s->X), cl_alloc_free(s->Y), cl_alloc_free(s->bu), cl_alloc_free(s->bi), cl_alloc_free(s->gram);
    cl_alloc_free(s->Z);
    cl_mftime_free(s->T);
    cl_alloc_free(s);
}

static int fac_alloc(cl_rec *r, int f, int biases)
{
    const cl_interactions *m = r->train;
    fac_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->f = f;
    int rc = cl_cf_alloc_factors(m, f, &s->X, &s->Y);
    if (rc)
        return rc;
    if (biases) {
        s->bu = cl_alloc_calloc((size_t)m->n_users, sizeof *s->bu);
        s->bi = cl_alloc_calloc((size_t)m->n_items, sizeof *s->bi);
    } else {
        s->gram = cl_alloc_calloc((size_t)f * (size_t)f, sizeof *s->gram);
    }
    if (!s->X || !s->Y || (biases && (!s->bu || !s->bi)) || (!biases && !s->gram))
        return CL_ENOMEM;
    return CL_OK;
}

static void fac_init(float *a, int64_t n, double std, cl_rng *g)
{
    for (int64_t k = 0; k < n; k++)
        a[k] = (float)(std * cl_rng_normal(g));
}

static inline double dotf(const float *a, const float *b, int f)
{
    float s = 0;
#pragma omp simd reduction(+ : s)
    for (int k = 0; k < f; k++)
        s += a[k] * b[k];
    return s;
}

/* G = A^T A (f x f, double) over n rows of A, in fixed blocks of rows reduced in order. */
static int gram(double *G, const float *A, int64_t n, int f)
{
    const int64_t block = 2048;
    int64_t nb = (n + block - 1) / block;
    size_t ff = (size_t)f * (size_t)f;
    double *part = cl_alloc_calloc((size_t)(nb ? nb : 1) * ff, sizeof *part);
    if (!part)
        return CL_ENOMEM;
#pragma omp parallel for schedule(dynamic, 1) num_threads(cl_threads_get())
    for (int64_t b = 0; b < nb; b++) {
        double *P = part + (size_t)b * ff;
        int64_t r1 = (b + 1) * block < n ? (b + 1) * block : n;
        for (int64_t r = b * block; r < r1; r++) {
            const float *x = A + r * f;
            for (int i = 0; i < f; i++) {
                double xi = x[i];
                double *Pi = P + (size_t)i * f;
#pragma omp simd
                for (int j = i; j < f; j++)
                    Pi[j] += xi * x[j];
            }
        }
    }
    memset(G, 0, ff * sizeof *G);
    for (int64_t b = 0; b < nb; b++)
        for (size_t k = 0; k < ff; k++)
            G[k] += part[(size_t)b * ff + k];
    for (int i = 0; i < f; i++)
        for (int j = 0; j < i; j++)
            G[i * f + j] = G[j * f + i];
    cl_alloc_free(part);
    return CL_OK;
}

static int fac_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    (void)prefix;
    const fac_state *s = r->state;
    const cl_interactions *m = r->train;
    cl_modelio_w_int(w, "fac.f", s->f);
    cl_modelio_w_f32(w, "fac.X", s->X, (size_t)m->n_users * (size_t)s->f);
    cl_modelio_w_f32(w, "fac.Y", s->Y, (size_t)m->n_items * (size_t)s->f);
    if (s->bu) {
        cl_modelio_w_f32(w, "fac.bu", s->bu, (size_t)m->n_users);
        cl_modelio_w_f32(w, "fac.bi", s->bi, (size_t)m->n_items);
        cl_modelio_w_num(w, "fac.rmin", s->rmin);
        cl_modelio_w_num(w, "fac.rmax", s->rmax);
    }
    if (s->Z)
        cl_modelio_w_f32(w, "fac.Z", s->Z, (size_t)m->n_items * (size_t)s->f);
    return cl_modelio_w_num(w, "fac.mu", s->mu);
}

static int fac_load(cl_rec *r, cl_mr *mr, int biases, int want_f)
{
    const cl_interactions *m = r->train;
    int64_t f;
    int rc = cl_modelio_r_int(mr, "fac.f", 1, 100000, &f);
    if (rc)
        return rc;
    if (f != want_f)
        return cl_error(CL_EFORMAT, "model file: %lld factors stored, parameters say %d",
                        (long long)f, want_f);
    size_t cx, cy; /* users x f and items x f are checked against the file before allocating */
    if ((rc = cl_modelio_r_count(mr, "fac.X", CL_CHUNK_F32, &cx)) ||
        (rc = cl_modelio_r_count(mr, "fac.Y", CL_CHUNK_F32, &cy)))
        return rc;
    if (cx != (size_t)m->n_users * (size_t)f || cy != (size_t)m->n_items * (size_t)f)
        return cl_error(CL_EFORMAT, "model file: %zu user and %zu item factor values stored, "
                        "%lld users, %lld items and %lld factors need %zu and %zu", cx, cy,
                        (long long)m->n_users, (long long)m->n_items, (long long)f,
                        (size_t)m->n_users * (size_t)f, (size_t)m->n_items * (size_t)f);
    if ((rc = fac_alloc(r, (int)f, biases)))
        return rc;
    fac_state *s = r->state;
    if ((rc = cl_modelio_r_f32(mr, "fac.X", s->X, (size_t)m->n_users * (size_t)f)) ||
        (rc = cl_modelio_r_f32(mr, "fac.Y", s->Y, (size_t)m->n_items * (size_t)f)) ||
        (rc = cl_modelio_r_num(mr, "fac.mu", &s->mu)))
        return rc;
    if (biases &&
        ((rc = cl_modelio_r_f32(mr, "fac.bu", s->bu, (size_t)m->n_users)) ||
         (rc = cl_modelio_r_f32(mr, "fac.bi", s->bi, (size_t)m->n_items)) ||
         (rc = cl_modelio_r_num(mr, "fac.rmin", &s->rmin)) || (rc = cl_modelio_r_num(mr, "fac.rmax", &s->rmax))))
        return rc;
    /* Scores are dot products of f factors plus biases: factors within +-CL_CF_MAX_FACTOR
     * keep every score finite (f <= 100000), where finite alone would not. */
    const struct {
        const char *name;
        const float *v;
        size_t n;
    } arr[] = {{"fac.X", s->X, (size_t)m->n_users * (size_t)f},
               {"fac.Y", s->Y, (size_t)m->n_items * (size_t)f},
               {"fac.bu", s->bu, s->bu ? (size_t)m->n_users : 0},
               {"fac.bi", s->bi, s->bi ? (size_t)m->n_items : 0}};
    for (size_t a = 0; a < sizeof arr / sizeof *arr; a++)
        for (size_t k = 0; k < arr[a].n; k++)
            if (!(fabsf(arr[a].v[k]) <= CL_CF_MAX_FACTOR))
                return cl_error(CL_EFORMAT, "model file: '%s' value %zu is %g, expected a finite "
                                "number within +-%g", arr[a].name, k + 1, (double)arr[a].v[k],
                                CL_CF_MAX_FACTOR);
    if (!(fabs(s->mu) <= CL_CF_MAX_FACTOR) ||
        (biases && !(isfinite(s->rmin) && isfinite(s->rmax) && s->rmin <= s->rmax)))
        return cl_error(CL_EFORMAT, "model file: mean %g, rating range [%g, %g] (expected finite, "
                        "min <= max)", s->mu, s->rmin, s->rmax);
    return CL_OK;
}

int cl_cf_sgd_order(const cl_interactions *m, uint32_t **order, int32_t **uof)
{
    *order = cl_alloc((size_t)m->nnz * sizeof **order);
    *uof = cl_alloc((size_t)m->nnz * sizeof **uof);
    if (!*order || !*uof) {
        cl_alloc_free(*order), cl_alloc_free(*uof);
        *order = NULL, *uof = NULL;
        return CL_ENOMEM;
    }
    for (int64_t u = 0; u < m->n_users; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
            (*uof)[k] = (int32_t)u;
    for (int64_t k = 0; k < m->nnz; k++)
        (*order)[k] = (uint32_t)k;
    return CL_OK;
}

void cl_cf_cosine_rows(const float *Y, int64_t n, int f, int32_t i, float *scores)
{
    const float *yi = Y + (int64_t)i * f;
    double ni = sqrt(dotf(yi, yi, f));
    for (int64_t j = 0; j < n; j++) {
        const float *yj = Y + j * f;
        double d = ni * sqrt(dotf(yj, yj, f));
        scores[j] = d > 0 ? (float)(dotf(yi, yj, f) / d) : 0.0f;
    }
}

static int fac_similar(const cl_rec *r, int32_t i, float *scores)
{
    const fac_state *s = r->state;
    cl_cf_cosine_rows(s->Y, r->train->n_items, s->f, i, scores);
    return CL_OK;
}

int cl_cf_factors(const cl_rec *r, const float **user_f, const float **item_f, int *f,
                  const float **user_b, const float **item_b, double *mu)
{
    if (r->kind != CL_REC_MF && r->kind != CL_REC_ALS)
        return cl_error(CL_EINVAL, "%s: no latent factors (mf and als have them)", r->ops->name);
    if (!r->state)
        return cl_error(CL_ESTATE, "%s: factors before fit", r->ops->name);
    const fac_state *s = r->state;
    *user_f = s->X, *item_f = s->Y, *f = s->f;
    if (user_b)
        *user_b = s->bu;
    if (item_b)
        *item_b = s->bi;
    if (mu)
        *mu = s->mu;
    return CL_OK;
}

/* ====================================================================================== */
/* mf: explicit ratings with biases                                                       */
/* ====================================================================================== */

static const cl_param_def mf_defs[] = {
    {"factors", CL_PARAM_INT, offsetof(cl_cf_mf_params, factors), 64, 1, 4096, NULL,
     "latent factors per user and item"},
    {"epochs", CL_PARAM_INT, offsetof(cl_cf_mf_params, epochs), 40, 0, 100000, NULL,
     "passes over the ratings (sgd) or alternations (als); 0 = initialise only"},
    {"lr", CL_PARAM_NUM, offsetof(cl_cf_mf_params, lr), 0.007, 1e-9, 10, NULL,
     "sgd learning rate"},
    {"reg", CL_PARAM_NUM, offsetof(cl_cf_mf_params, reg), 0.08, 0, 1e6, NULL,
     "L2 penalty on factors (als: times the row's rating count, weighted-lambda)"},
    {"reg_bias", CL_PARAM_NUM, offsetof(cl_cf_mf_params, reg_bias), 0.02, 0, 1e6, NULL,
     "L2 penalty on biases (als: times the row's rating count)"},
    {"init_std", CL_PARAM_NUM, offsetof(cl_cf_mf_params, init_std), 0.1, 0, 10, NULL,
     "standard deviation of the random initial factors"},
    {"biased", CL_PARAM_BOOL, offsetof(cl_cf_mf_params, biased), 1, 0, 1, NULL,
     "learn user and item biases (the global mean is always used)"},
    {"solver", CL_PARAM_ENUM, offsetof(cl_cf_mf_params, solver), 0, 0, 0, "sgd|als",
     "stochastic gradient descent (one thread, deterministic) or alternating ridge solves "
     "(parallel)"},
    {"shuffle", CL_PARAM_BOOL, offsetof(cl_cf_mf_params, shuffle), 1, 0, 1, NULL,
     "sgd: visit ratings in a new random order each epoch (else in user, item order)"},
    {"clip", CL_PARAM_BOOL, offsetof(cl_cf_mf_params, clip), 1, 0, 1, NULL,
     "clip predicted ratings to the range seen in training"},
    {"seed", CL_PARAM_SEED, offsetof(cl_cf_mf_params, seed), 42, 0, 0, NULL,
     "random seed (initial factors, visiting order)"},
    {"implicit", CL_PARAM_BOOL, offsetof(cl_cf_mf_params, implicit), 0, 0, 1, NULL,
     "SVD++ (Koren 2008): each user's factors gain sum_j y_j / sqrt(n) over the n items they "
     "rated (sgd only; users visited in random order, y_j updated once per user)"},
    {"time", CL_PARAM_BOOL, offsetof(cl_cf_mf_params, time), 0, 0, 1, NULL,
     "time-aware biases (timeSVD++, Koren 2009): an item bias per time bin, a drift of the "
     "user bias alpha_u dev_u(t) and a bias per user and day; needs interaction times (sgd)"},
    {"time_bins", CL_PARAM_INT, offsetof(cl_cf_mf_params, time_bins), 30, 1, 100000, NULL,
     "time: equal-width bins of the training times for the item biases"},
    {"time_unit", CL_PARAM_NUM, offsetof(cl_cf_mf_params, time_unit), 86400, 1e-12, 1e300,
     NULL, "time: one day in the unit of the times (86400: seconds, as MovieLens)"},
    {"reg_time", CL_PARAM_NUM, offsetof(cl_cf_mf_params, reg_time), 0.3, 0, 1e6, NULL,
     "time: L2 penalty on the per-day user biases (their learning rate and the bins': lr; "
     "0.3 and reg_bin 50 were best of 0.1-5 and 1-150 on MovieLens u1 with svd++)"},
    {"lr_drift", CL_PARAM_NUM, offsetof(cl_cf_mf_params, lr_drift), 1e-5, 0, 10, NULL,
     "time: sgd learning rate of the drifts alpha_u"},
    {"reg_drift", CL_PARAM_NUM, offsetof(cl_cf_mf_params, reg_drift), 50, 0, 1e9, NULL,
     "time: L2 penalty on the drifts alpha_u"},
    {"reg_bin", CL_PARAM_NUM, offsetof(cl_cf_mf_params, reg_bin), 50, 0, 1e6, NULL,
     "time: L2 penalty on the item bin biases"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

static void mf_defaults(void *p) { cl_param_defaults(mf_defs, p); }

static double mf_raw(const fac_state *s, int64_t u, int64_t i)
{
    double v = s->mu;
    if (u >= 0)
        v += s->bu[u];
    if (i >= 0)
        v += s->bi[i];
    if (u >= 0 && i >= 0)
        v += dotf(s->X + u * s->f, s->Y + i * s->f, s->f);
    return v;
}

int cl_cf_mf_predict_at(const cl_rec *r, int64_t u, int64_t i, double t, double *out)
{
    if (r->kind != CL_REC_MF)
        return cl_error(CL_EINVAL, "%s: predict_rating is for mf models", r->ops->name);
    if (!r->state)
        return cl_error(CL_ESTATE, "mf: predict_rating before fit");
    if (u >= r->train->n_users || i >= r->train->n_items)
        return cl_error(CL_ERANGE, "mf: user or item index out of range");
    const fac_state *s = r->state;
    const cl_cf_mf_params *pp = r->params;
    double v = mf_raw(s, u, i);
    if (s->T)
        v += cl_mftime_bias_at(s->T, u, i, t);
    if (pp->clip)
        v = v < s->rmin ? s->rmin : v > s->rmax ? s->rmax : v;
    *out = v;
    return CL_OK;
}

int cl_cf_mf_predict(const cl_rec *r, int64_t u, int64_t i, double *out)
{
    return cl_cf_mf_predict_at(r, u, i, NAN, out);
}

/* Ridge solve for one row of mf-als or a fold-in: z = [b, p] (bias first when biased) from
 * n (other-side index, rating) pairs. */
static int mf_solve_row(const fac_state *s, const cl_cf_mf_params *pp, int64_t n,
                        const int32_t *idx, const float *val, const float *other_f,
                        const float *other_b, double rmax, double scale, float *out_f,
                        float *out_b, double *A, double *z)
{
    int f = s->f, d = pp->biased ? f + 1 : f, o = pp->biased ? 1 : 0;
    memset(A, 0, (size_t)d * (size_t)d * sizeof *A);
    memset(z, 0, (size_t)d * sizeof *z);
    for (int64_t k = 0; k < n; k++) {
        const float *q = other_f + (int64_t)idx[k] * f;
        double t = (val ? val[k] : rmax) - s->mu - (pp->biased ? other_b[idx[k]] : 0);
        if (pp->biased) {
            A[0] += 1;
            for (int j = 0; j < f; j++)
                A[j + 1] += q[j];
            z[0] += t;
        }
        for (int i = 0; i < f; i++) {
            double qi = q[i];
            double *Ai = A + (size_t)(i + o) * d + o;
            for (int j = i; j < f; j++)
                Ai[j] += qi * q[j];
            z[i + o] += qi * t;
        }
    }
    for (int i = 0; i < d; i++)
        for (int j = 0; j < i; j++)
            A[i * d + j] = A[j * d + i];
    double sc = scale > 0 ? scale : 1;
    if (pp->biased)
        A[0] += pp->reg_bias * sc + 1e-12;
    for (int i = o; i < d; i++)
        A[i * d + i] += pp->reg * sc + 1e-12;
    int rc = cl_rec_cholesky_solve(A, z, d);
    if (rc)
        return rc;
    if (pp->biased && out_b)
        *out_b = (float)z[0];
    for (int i = 0; i < f; i++)
        out_f[i] = (float)z[i + o];
    return CL_OK;
}

static int mf_als_side(fac_state *s, const cl_cf_mf_params *pp, int64_t n_rows,
                       const int64_t *ptr, const int32_t *idx, const float *val, float *F,
                       float *B, const float *OF, const float *OB)
{
    int d = pp->biased ? s->f + 1 : s->f;
    int fail = CL_OK;
#pragma omp parallel num_threads(cl_threads_get())
    {
        double *A = cl_alloc((size_t)d * (size_t)d * sizeof *A);
        double *z = cl_alloc((size_t)d * sizeof *z);
#pragma omp for schedule(dynamic, 64)
        for (int64_t r = 0; r < n_rows; r++) {
            int64_t a = ptr[r], n = ptr[r + 1] - a;
            if (!A || !z) {
#pragma omp atomic write
                fail = CL_ENOMEM;
                continue;
            }
            if (n == 0) {
                memset(F + r * s->f, 0, (size_t)s->f * sizeof *F);
                if (B)
                    B[r] = 0;
                continue;
            }
            int rc = mf_solve_row(s, pp, n, idx + a, val + a, OF, OB, 0, (double)n,
                                  F + r * s->f, B ? B + r : NULL, A, z);
            if (rc) {
#pragma omp atomic write
                fail = rc;
            }
        }
        cl_alloc_free(A);
        cl_alloc_free(z);
    }
    return fail;
}

static double mf_train_rmse(const fac_state *s, const cl_interactions *m)
{
    double se = 0;
    for (int64_t u = 0; u < m->n_users; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            double e = m->values[k] - mf_raw(s, u, m->indices[k]);
            se += e * e;
        }
    return sqrt(se / (double)m->nnz);
}

/* The sgd rates of the time-aware biases. */
static cl_mftime_rates time_rates(const cl_cf_mf_params *pp)
{
    cl_mftime_rates q = {(float)pp->lr, (float)pp->reg_bin, (float)pp->reg_time,
                         (float)pp->lr_drift, (float)pp->reg_drift};
    return q;
}

/* One SGD step of biased mf on rating k (value v) of user u for item i, returns the error.
 * svd++ passes its user's implicit part z (the prediction uses p_u + z, and q_i moves along
 * it) and acc, which sums err * q_i for the y_j update; plain mf passes NULL for both. With
 * time-aware biases (s->T) the rating's time part joins the prediction and takes its step. */
static inline float mf_sgd_step(fac_state *s, const cl_cf_mf_params *pp, int64_t u, int32_t i,
                                int64_t k, float v, const float *z, float *acc,
                                const cl_mftime_rates *tq)
{
    int f = s->f;
    const float lr = (float)pp->lr, reg = (float)pp->reg, regb = (float)pp->reg_bias;
    float *pu = s->X + u * f, *qi = s->Y + (int64_t)i * f;
    float pred = (float)s->mu + s->bu[u] + s->bi[i];
    if (s->T)
        pred += (float)cl_mftime_bias_k(s->T, u, i, k);
    for (int j = 0; j < f; j++)
        pred += (z ? pu[j] + z[j] : pu[j]) * qi[j];
    float err = v - pred;
    if (s->T)
        cl_mftime_step(s->T, u, i, k, err, tq);
    if (pp->biased) {
        s->bu[u] += lr * (err - regb * s->bu[u]);
        s->bi[i] += lr * (err - regb * s->bi[i]);
    }
    for (int j = 0; j < f; j++) {
        float pj = pu[j], qj = qi[j];
        if (acc)
            acc[j] += err * qj;
        pu[j] += lr * (err * qj - reg * pj);
        qi[j] += lr * (err * (z ? pj + z[j] : pj) - reg * qj);
    }
    return err;
}

/* z[f] = sum_{j in items} Z_j / sqrt(n): the implicit part of a user's factors (svd++). */
static void svdpp_z(const float *Z, int f, int64_t n, const int32_t *items, float *z)
{
    memset(z, 0, (size_t)f * sizeof *z);
    for (int64_t k = 0; k < n; k++)
        for (int j = 0; j < f; j++)
            z[j] += Z[(int64_t)items[k] * f + j];
    float sc = n > 0 ? (float)(1 / sqrt((double)n)) : 0;
    for (int j = 0; j < f; j++)
        z[j] *= sc;
}

/* One user's SGD pass of SVD++: every rating updates the biases, p_u and q_i against
 * p_u + z (z fixed during the pass), and the implicit factors y_j of the user's items take
 * the pass's summed gradient once at the end, with the penalty reg once per rating as
 * per-rating updates would give. Returns the squared error of the pass. */
static double svdpp_user(fac_state *s, const cl_cf_mf_params *pp, const cl_interactions *m,
                         int64_t u, float *z, float *acc)
{
    int f = s->f;
    int64_t a = m->indptr[u], n = m->indptr[u + 1] - a;
    const int32_t *items = m->indices + a;
    const float lr = (float)pp->lr, reg = (float)pp->reg;
    const cl_mftime_rates tq = time_rates(pp);
    svdpp_z(s->Z, f, n, items, z);
    memset(acc, 0, (size_t)f * sizeof *acc);
    double se = 0;
    for (int64_t k = 0; k < n; k++) {
        float err = mf_sgd_step(s, pp, u, items[k], a + k, m->values[a + k], z, acc, &tq);
        se += (double)err * err;
    }
    float sc = (float)(1 / sqrt((double)n)), shrink = 1 - lr * reg * (float)n;
    shrink = shrink > 0 ? shrink : 0; /* reg * n * lr >= 1 would flip the sign */
    for (int64_t k = 0; k < n; k++) {
        float *yj = s->Z + (int64_t)items[k] * f;
        for (int j = 0; j < f; j++)
            yj[j] = shrink * yj[j] + lr * sc * acc[j];
    }
    return se;
}

/* SVD++ by SGD, users in a new random order each epoch (in index order without shuffle).
 * On return X holds p_u + z_u, so scoring, similar items and item growth read X as for
 * plain mf; Z is kept for fold-in. */
static int svdpp_fit(fac_state *s, const cl_cf_mf_params *pp, const cl_interactions *m,
                     cl_rng *g, const cl_progress *p)
{
    int f = s->f;
    size_t nz = (size_t)m->n_items * (size_t)f;
    s->Z = cl_alloc(nz ? nz * sizeof *s->Z : 1);
    uint32_t *order = cl_alloc((size_t)(m->n_users ? m->n_users : 1) * sizeof *order);
    float *z = cl_alloc(2 * (size_t)f * sizeof *z);
    int rc = s->Z && order && z ? CL_OK : CL_ENOMEM;
    if (rc == CL_OK) {
        fac_init(s->Z, (int64_t)nz, pp->init_std, g);
        for (int64_t u = 0; u < m->n_users; u++)
            order[u] = (uint32_t)u;
    }
    char detail[64];
    for (int e = 0; e < pp->epochs && rc == CL_OK; e++) {
        if (pp->shuffle)
            cl_rng_shuffle(g, order, (uint64_t)m->n_users);
        double se = 0;
        for (int64_t t = 0; t < m->n_users; t++)
            if (m->indptr[order[t] + 1] > m->indptr[order[t]])
                se += svdpp_user(s, pp, m, order[t], z, z + f);
        snprintf(detail, sizeof detail, "train rmse %.4f", sqrt(se / (double)m->nnz));
        rc = cl_progress_step(p, "mf", e + 1, pp->epochs, detail);
    }
    for (int64_t u = 0; u < m->n_users && rc == CL_OK; u++) {
        svdpp_z(s->Z, f, m->indptr[u + 1] - m->indptr[u], m->indices + m->indptr[u], z);
        for (int j = 0; j < f; j++)
            s->X[u * f + j] += z[j];
    }
    cl_alloc_free(order), cl_alloc_free(z);
    return rc;
}

static int mf_fit(cl_rec *r, const cl_progress *p)
{
    const cl_cf_mf_params *pp = r->params;
    const cl_interactions *m = r->train;
    int f = pp->factors;
    if (pp->implicit && pp->solver == 1)
        return cl_error(CL_EINVAL, "mf: implicit = true (SVD++) needs solver = \"sgd\"");
    if (pp->time && pp->solver == 1)
        return cl_error(CL_EINVAL, "mf: time = true needs solver = \"sgd\"");
    int rc = fac_alloc(r, f, 1);
    if (rc)
        return rc;
    fac_state *s = r->state;
    if (m->nnz > (int64_t)UINT32_MAX)
        return cl_error(CL_ERANGE, "mf: more than 2^32 ratings");
    double sum = 0;
    s->rmin = INFINITY, s->rmax = -INFINITY;
    for (int64_t k = 0; k < m->nnz; k++) {
        sum += m->values[k];
        s->rmin = m->values[k] < s->rmin ? m->values[k] : s->rmin;
        s->rmax = m->values[k] > s->rmax ? m->values[k] : s->rmax;
    }
    s->mu = sum / (double)m->nnz;
    cl_rng g;
    cl_rng_seed(&g, pp->seed);
    fac_init(s->X, m->n_users * f, pp->init_std, &g);
    fac_init(s->Y, m->n_items * f, pp->init_std, &g);
    if (!pp->biased) {
        memset(s->bu, 0, (size_t)m->n_users * sizeof *s->bu);
        memset(s->bi, 0, (size_t)m->n_items * sizeof *s->bi);
    }
    char detail[64];
    if (pp->solver == 1) { /* weighted-lambda ALS */
        for (int e = 0; e < pp->epochs; e++) {
            rc = mf_als_side(s, pp, m->n_users, m->indptr, m->indices, m->values, s->X, s->bu,
                             s->Y, s->bi);
            if (rc == CL_OK)
                rc = mf_als_side(s, pp, m->n_items, m->cindptr, m->cindices, m->cvalues, s->Y,
                                 s->bi, s->X, s->bu);
            if (rc == CL_OK) {
                snprintf(detail, sizeof detail, "train rmse %.4f", mf_train_rmse(s, m));
                rc = cl_progress_step(p, "mf", e + 1, pp->epochs, detail);
            }
            if (rc)
                return rc;
        }
        return CL_OK;
    }
    if (pp->time && (rc = cl_mftime_new(&s->T, m, pp->time_bins, pp->time_unit, "mf")))
        return rc;
    const cl_mftime_rates tq = time_rates(pp);
    if (pp->implicit)
        return svdpp_fit(s, pp, m, &g, p);
    /* SGD. user of each CSR entry, and the visiting order. */
    uint32_t *order;
    int32_t *uof;
    if (cl_cf_sgd_order(m, &order, &uof))
        return CL_ENOMEM;
    for (int e = 0; e < pp->epochs && rc == CL_OK; e++) {
        if (pp->shuffle)
            cl_rng_shuffle(&g, order, (uint64_t)m->nnz);
        double se = 0;
        for (int64_t t = 0; t < m->nnz; t++) {
            uint32_t k = order[t];
            float err = mf_sgd_step(s, pp, uof[k], m->indices[k], k, m->values[k], NULL, NULL,
                                    &tq);
            se += (double)err * err;
        }
        snprintf(detail, sizeof detail, "train rmse %.4f", sqrt(se / (double)m->nnz));
        rc = cl_progress_step(p, "mf", e + 1, pp->epochs, detail);
    }
    cl_alloc_free(order), cl_alloc_free(uof);
    return rc;
}

/* Ranking scores: with time-aware biases, each item's bias of the last bin (now); the user's
 * own time terms shift every item alike and are left out. */
static int mf_score_user(const cl_rec *r, int64_t u, float *scores)
{
    const fac_state *s = r->state;
    for (int64_t i = 0; i < r->train->n_items; i++)
        scores[i] = (float)(mf_raw(s, u, i) + (s->T ? cl_mftime_bias_at(s->T, -1, i, NAN) : 0));
    return CL_OK;
}

/* Fold-in of a history: the user's factors pu[f] and bias *bu (0/zeros for no history). */
static int mf_foldin(const cl_rec *r, int64_t n, const int32_t *items, const float *v, float *pu,
                     float *bu)
{
    const fac_state *s = r->state;
    const cl_cf_mf_params *pp = r->params;
    int f = s->f, d = f + 1;
    *bu = 0;
    if (n > 0 && !v)
        return cl_error(CL_EINVAL, "mf: a history for fold-in needs its ratings (values); "
                                   "explicit ratings are not guessed");
    if (n == 0) {
        memset(pu, 0, (size_t)f * sizeof *pu);
        return CL_OK;
    }
    double *A = cl_alloc((size_t)d * (size_t)d * sizeof *A);
    double *z = cl_alloc((size_t)d * sizeof *z);
    /* svd++: the history's implicit part zi is fixed by its items; the ridge then fits p_u
     * to the ratings less q_i . zi, and the user's factors are p_u + zi as after fit */
    /* time-aware biases: a fresh history has no times, so its ratings count as made now,
     * less each item's bias of the last bin (what scoring adds back) */
    float *zi = s->Z ? cl_alloc((size_t)f * sizeof *zi) : NULL;
    float *vz = s->Z || s->T ? cl_alloc((size_t)n * sizeof *vz) : NULL;
    int rc = A && z && (!s->Z || zi) && (!(s->Z || s->T) || vz) ? CL_OK : CL_ENOMEM;
    if (rc == CL_OK && s->Z)
        svdpp_z(s->Z, f, n, items, zi);
    for (int64_t k = 0; rc == CL_OK && vz && k < n; k++)
        vz[k] = (float)(v[k] - (s->Z ? dotf(s->Y + (int64_t)items[k] * f, zi, f) : 0) -
                        (s->T ? cl_mftime_bias_at(s->T, -1, items[k], NAN) : 0));
    /* Both solvers penalise a user's row by reg once per rating: sgd applies reg * p_u at
     * each of the n updates (objective sum_k err_k^2 + n reg |p_u|^2), weighted-lambda ALS
     * scales by n explicitly. The ridge is therefore reg * n for either. */
    if (rc == CL_OK)
        rc = mf_solve_row(s, pp, n, items, vz ? vz : v, s->Y, s->bi, s->rmax, (double)n, pu,
                          bu, A, z);
    for (int j = 0; rc == CL_OK && s->Z && j < f; j++)
        pu[j] += zi[j];
    cl_alloc_free(A), cl_alloc_free(z), cl_alloc_free(zi), cl_alloc_free(vz);
    return rc;
}

static int mf_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                      float *scores)
{
    const fac_state *s = r->state;
    int f = s->f;
    float *pu = cl_alloc((size_t)f * sizeof *pu);
    float bu = 0;
    int rc = pu ? mf_foldin(r, n, items, v, pu, &bu) : CL_ENOMEM;
    if (rc == CL_OK)
        for (int64_t i = 0; i < r->train->n_items; i++)
            scores[i] = (float)(s->mu + bu + s->bi[i] + dotf(pu, s->Y + i * f, f) +
                                (s->T ? cl_mftime_bias_at(s->T, -1, i, NAN) : 0));
    cl_alloc_free(pu);
    return rc;
}

/* Grows rows x f factors (and a bias column when b) by one row; *F and *B are replaced. */
static int grow_rows(float **F, float **B, int64_t rows, int f)
{
    float *nf = cl_alloc_realloc(*F, (size_t)(rows + 1) * (size_t)f * sizeof *nf);
    if (!nf)
        return CL_ENOMEM;
    *F = nf;
    if (B) {
        float *nb = cl_alloc_realloc(*B, (size_t)(rows + 1) * sizeof *nb);
        if (!nb)
            return CL_ENOMEM;
        *B = nb;
    }
    return CL_OK;
}

/* A new user: the fold-in of their history, kept. A new item: the mirror image, the ridge
 * solve of its bias and factors from its ratings against the fixed user side (the penalty
 * reg * n once per rating, as for users). No ratings: zero factors and bias. */
static int mf_grow_factors(cl_rec *r, cl_interactions *grown, int what, int valued,
                           const float *x, int nf)
{
    (void)x, (void)nf;
    fac_state *s = r->state;
    const cl_cf_mf_params *pp = r->params;
    const cl_interactions *m = r->train;
    int f = s->f;
    int64_t a, n;
    if (what == CL_REC_GROW_USER)
        a = grown->indptr[m->n_users], n = grown->indptr[m->n_users + 1] - a;
    else
        a = grown->cindptr[m->n_items], n = grown->cindptr[m->n_items + 1] - a;
    if (n > 0 && !valued)
        return cl_error(CL_EINVAL, "mf: add_%s needs the ratings (values); explicit ratings "
                        "are not guessed", what == CL_REC_GROW_USER ? "user" : "item");
    float *out, b = 0;
    if (what == CL_REC_GROW_USER) {
        int rc = grow_rows(&s->X, &s->bu, m->n_users, f);
        if (rc)
            return rc;
        out = s->X + m->n_users * f;
        rc = mf_foldin(r, n, grown->indices + a, grown->values + a, out, &b);
        if (rc)
            return rc;
        s->bu[m->n_users] = pp->biased ? b : 0;
        return CL_OK;
    }
    int rc = grow_rows(&s->Y, &s->bi, m->n_items, f);
    if (rc == CL_OK && s->Z) /* svd++: the new item's implicit factors start at zero */
        rc = grow_rows(&s->Z, NULL, m->n_items, f);
    if (rc)
        return rc;
    if (s->Z)
        memset(s->Z + m->n_items * f, 0, (size_t)f * sizeof *s->Z);
    out = s->Y + m->n_items * f;
    memset(out, 0, (size_t)f * sizeof *out);
    if (n > 0) {
        int d = f + 1;
        double *A = cl_alloc((size_t)d * (size_t)d * sizeof *A);
        double *z = cl_alloc((size_t)d * sizeof *z);
        rc = A && z ? mf_solve_row(s, pp, n, grown->cindices + a, grown->cvalues + a, s->X,
                                   s->bu, s->rmax, (double)n, out, &b, A, z)
                    : CL_ENOMEM;
        cl_alloc_free(A), cl_alloc_free(z);
        if (rc)
            return rc;
    }
    s->bi[m->n_items] = pp->biased ? b : 0;
    return CL_OK;
}

/* The factors, then the time-aware biases (their structure follows the grown matrix). */
static int mf_grow(cl_rec *r, cl_interactions *grown, int what, int valued, const float *x,
                   int nf)
{
    int rc = mf_grow_factors(r, grown, what, valued, x, nf);
    fac_state *s = r->state;
    if (rc == CL_OK && s->T)
        rc = cl_mftime_grow(&s->T, grown);
    return rc;
}

static int mf_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    const fac_state *s = r->state;
    int rc = fac_save(r, w, prefix);
    if (rc == CL_OK && s->T)
        rc = cl_mftime_write(s->T, w);
    return rc;
}

/* time = true: the structure from the saved training times, the values from the file. */
static int mf_load_time(cl_rec *r)
{
    const cl_cf_mf_params *pp = r->params;
    fac_state *s = r->state;
    return cl_mftime_new(&s->T, r->train, pp->time_bins, pp->time_unit, "mf");
}

static int mf_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    const cl_cf_mf_params *pp = r->params;
    int rc = fac_load(r, mr, 1, pp->factors);
    if (rc == CL_OK && pp->time && (rc = mf_load_time(r)) == CL_OK)
        rc = cl_mftime_read(((fac_state *)r->state)->T, mr);
    if (rc || !pp->implicit)
        return rc;
    fac_state *s = r->state;
    size_t n = (size_t)r->train->n_items * (size_t)s->f;
    s->Z = cl_alloc(n ? n * sizeof *s->Z : 1);
    if (!s->Z)
        return CL_ENOMEM;
    if ((rc = cl_modelio_r_f32(mr, "fac.Z", s->Z, n)))
        return rc;
    for (size_t k = 0; k < n; k++)
        if (!(fabsf(s->Z[k]) <= CL_CF_MAX_FACTOR))
            return cl_error(CL_EFORMAT, "model file: 'fac.Z' value %zu is %g, expected a finite "
                            "number within +-%g", k + 1, (double)s->Z[k], CL_CF_MAX_FACTOR);
    return CL_OK;
}

const cl_rec_ops cl_cf_mf_ops = {"mf",          mf_defs,     sizeof(cl_cf_mf_params),
                                  mf_defaults,   mf_fit,      mf_score_user,
                                  mf_history,    fac_similar, mf_save,
                                  mf_load,       fac_free,    mf_grow,
                                  NULL,          1};

/* ====================================================================================== */
/* als: implicit feedback                                                                 */
/* ====================================================================================== */

static const cl_param_def als_defs[] = {
    {"factors", CL_PARAM_INT, offsetof(cl_cf_als_params, factors), 64, 1, 4096, NULL,
     "latent factors per user and item"},
    {"iters", CL_PARAM_INT, offsetof(cl_cf_als_params, iters), 15, 0, 100000, NULL,
     "alternations (users then items); 0 = initialise only"},
    {"cg_steps", CL_PARAM_INT, offsetof(cl_cf_als_params, cg_steps), 3, 0, 4096, NULL,
     "conjugate-gradient steps per row (warm-started); 0 = exact Cholesky solve"},
    {"reg", CL_PARAM_NUM, offsetof(cl_cf_als_params, reg), 30, 0, 1e9, NULL,
     "L2 penalty on factors (30 with alpha 3: best of reg 10..30, alpha 2..3 on a validation "
     "split of the MovieLens 100k training part; reg 0.01, alpha 40 reached p@10 0.22, "
     "these 0.37)"},
    {"alpha", CL_PARAM_NUM, offsetof(cl_cf_als_params, alpha), 3, 0, 1e9, NULL,
     "confidence of an observed pair = 1 + alpha * value"},
    {"init_std", CL_PARAM_NUM, offsetof(cl_cf_als_params, init_std), 0.01, 0, 10, NULL,
     "standard deviation of the random initial factors"},
    {"seed", CL_PARAM_SEED, offsetof(cl_cf_als_params, seed), 42, 0, 0, NULL,
     "random seed (initial factors)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

static void als_defaults(void *p) { cl_param_defaults(als_defs, p); }

/* One row: x minimises sum_i c_i (1 - x.y_i)^2 + sum_{others} (x.y_j)^2 + reg |x|^2, i.e.
 * (G + sum (c_i - 1) y_i y_i^T) x = sum c_i y_i with G = Y^T Y + reg I. */
static void als_row_cg(const double *G, int f, int64_t n, const int32_t *idx, const float *val,
                       const float *Y, double alpha, int steps, float *xout, double *w)
{
    double *x = w, *r = w + f, *pv = w + 2 * f, *Ap = w + 3 * f;
    for (int k = 0; k < f; k++)
        x[k] = xout[k];
    for (int i = 0; i < f; i++) { /* r = b - A x */
        double s = 0;
#pragma omp simd reduction(- : s)
        for (int j = 0; j < f; j++)
            s -= G[i * f + j] * x[j];
        r[i] = s;
    }
    for (int64_t k = 0; k < n; k++) {
        const float *y = Y + (int64_t)idx[k] * f;
        double c = 1 + alpha * val[k], yx = 0;
#pragma omp simd reduction(+ : yx)
        for (int j = 0; j < f; j++)
            yx += y[j] * x[j];
        double a = c - (c - 1) * yx;
#pragma omp simd
        for (int j = 0; j < f; j++)
            r[j] += a * y[j];
    }
    double rs = 0;
    for (int j = 0; j < f; j++) {
        pv[j] = r[j];
        rs += r[j] * r[j];
    }
    for (int it = 0; it < steps && rs > 1e-20; it++) {
        for (int i = 0; i < f; i++) {
            double s = 0;
#pragma omp simd reduction(+ : s)
            for (int j = 0; j < f; j++)
                s += G[i * f + j] * pv[j];
            Ap[i] = s;
        }
        for (int64_t k = 0; k < n; k++) {
            const float *y = Y + (int64_t)idx[k] * f;
            double c1 = alpha * val[k], yp = 0;
#pragma omp simd reduction(+ : yp)
            for (int j = 0; j < f; j++)
                yp += y[j] * pv[j];
            yp *= c1;
#pragma omp simd
            for (int j = 0; j < f; j++)
                Ap[j] += yp * y[j];
        }
        double pAp = 0;
        for (int j = 0; j < f; j++)
            pAp += pv[j] * Ap[j];
        if (!(pAp > 0))
            break;
        double a = rs / pAp, rsn = 0;
        for (int j = 0; j < f; j++) {
            x[j] += a * pv[j];
            r[j] -= a * Ap[j];
            rsn += r[j] * r[j];
        }
        for (int j = 0; j < f; j++)
            pv[j] = r[j] + (rsn / rs) * pv[j];
        rs = rsn;
    }
    for (int k = 0; k < f; k++)
        xout[k] = (float)x[k];
}

/* The system of one row (A: f*f, b: f) from G and the row's pairs. */
static void als_row_system(const double *G, int f, int64_t n, const int32_t *idx,
                           const float *val, const float *Y, double alpha, double *A, double *b)
{
    memcpy(A, G, (size_t)f * (size_t)f * sizeof *A);
    memset(b, 0, (size_t)f * sizeof *b);
    for (int64_t k = 0; k < n; k++) {
        const float *y = Y + (int64_t)idx[k] * f;
        double c1 = alpha * (val ? val[k] : 1.0f);
        for (int i = 0; i < f; i++) {
            double yi = y[i];
            for (int j = i; j < f; j++)
                A[i * f + j] += c1 * yi * y[j];
            b[i] += (1 + c1) * yi;
        }
    }
    for (int i = 0; i < f; i++)
        for (int j = 0; j < i; j++)
            A[i * f + j] = A[j * f + i];
}

/* Exact solve of the same system by Cholesky (A: f*f scratch, b: f). */
static int als_row_exact(const double *G, int f, int64_t n, const int32_t *idx, const float *val,
                         const float *Y, double alpha, float *xout, double *A, double *b)
{
    als_row_system(G, f, n, idx, val, Y, alpha, A, b);
    double maxd = 0;
    for (int i = 0; i < f; i++)
        maxd = A[i * f + i] > maxd ? A[i * f + i] : maxd;
    int rc = cl_rec_cholesky_solve(A, b, f);
    if (rc == CL_EINVAL) {
        /* Confidences of ~1e12 next to reg = 0.01 make A too ill-conditioned for Cholesky in
         * double (pivots cancel to <= 0). Only then: the same system with its diagonal raised
         * by 1e-12 of its largest entry, a ridge at the rounding level of those entries. */
        als_row_system(G, f, n, idx, val, Y, alpha, A, b);
        for (int i = 0; i < f; i++)
            A[i * f + i] += 1e-12 * maxd;
        rc = cl_rec_cholesky_solve(A, b, f);
    }
    if (rc == CL_OK)
        for (int i = 0; i < f; i++)
            xout[i] = (float)b[i];
    return rc;
}

static int als_side(const cl_cf_als_params *pp, int f, int64_t n_rows, const int64_t *ptr,
                    const int32_t *idx, const float *val, float *F, const float *OF,
                    int64_t n_other, double *G)
{
    int rc = gram(G, OF, n_other, f);
    if (rc)
        return rc;
    for (int i = 0; i < f; i++)
        G[i * f + i] += pp->reg;
    int fail = CL_OK;
#pragma omp parallel num_threads(cl_threads_get())
    {
        size_t need = pp->cg_steps > 0 ? 4 * (size_t)f : (size_t)f * (size_t)f + (size_t)f;
        double *w = cl_alloc(need * sizeof *w);
#pragma omp for schedule(dynamic, 64)
        for (int64_t r = 0; r < n_rows; r++) {
            if (!w) {
#pragma omp atomic write
                fail = CL_ENOMEM;
                continue;
            }
            int64_t a = ptr[r], n = ptr[r + 1] - a;
            if (pp->cg_steps > 0) {
                als_row_cg(G, f, n, idx + a, val + a, OF, pp->alpha, pp->cg_steps, F + r * f, w);
            } else {
                int lrc = als_row_exact(G, f, n, idx + a, val + a, OF, pp->alpha, F + r * f, w,
                                        w + (size_t)f * f);
                if (lrc) {
#pragma omp atomic write
                    fail = lrc;
                }
            }
        }
        cl_alloc_free(w);
    }
    return fail;
}

/* Under mpirun (base/dist.h) every rank holds its users' rows and the item side comes from
 * normal equations summed exactly over the ranks (rec/als_dist.h); otherwise ad is NULL. */
static int als_fit_ranks(cl_rec *r, const cl_progress *p, cl_dist *dist);
static int als_fit(cl_rec *r, const cl_progress *p)
{
    cl_dist *dist = cl_dist_world();
    cl_dist_begin(dist);
    return cl_dist_agree(dist, als_fit_ranks(r, p, dist));
}

static int als_fit_ranks(cl_rec *r, const cl_progress *p, cl_dist *dist)
{
    const cl_cf_als_params *pp = r->params;
    const cl_interactions *m = r->train;
    int f = pp->factors;
    int rc = fac_alloc(r, f, 0);
    if (rc)
        return rc;
    fac_state *s = r->state;
    for (int64_t k = 0; k < m->nnz; k++)
        if (m->values[k] < 0)
            return cl_error(CL_EINVAL, "als: interaction values must be >= 0 (confidence "
                                       "weights), found %g",
                            (double)m->values[k]);
    cl_rng g;
    cl_rng_seed(&g, pp->seed);
    fac_init(s->X, m->n_users * f, pp->init_std, &g);
    fac_init(s->Y, m->n_items * f, pp->init_std, &g);
    double *G = s->gram;
    cl_als_dist *ad = NULL;
    if (dist && (rc = cl_als_dist_new(&ad, dist, m, f)))
        return rc;
    for (int it = 0; it < pp->iters && rc == CL_OK; it++) {
        rc = als_side(pp, f, m->n_users, m->indptr, m->indices, m->values, s->X, s->Y,
                      m->n_items, G);
        if (rc == CL_OK && ad)
            rc = cl_als_dist_items(ad, m, pp->reg, pp->alpha, pp->cg_steps, s->X, s->Y);
        else if (rc == CL_OK)
            rc = als_side(pp, f, m->n_items, m->cindptr, m->cindices, m->cvalues, s->Y, s->X,
                          m->n_users, G);
        if (rc == CL_OK)
            rc = cl_progress_step(p, "als", it + 1, pp->iters, NULL);
        rc = cl_dist_agree(dist, rc); /* a rank that failed or was interrupted stops all */
    }
    if (rc == CL_OK && ad)
        rc = cl_als_dist_users(ad, s->X);
    cl_als_dist_free(ad);
    if (rc == CL_OK)
        rc = gram(s->gram, s->Y, m->n_items, f); /* Y^T Y for fold-in */
    return rc;
}

static int als_score_user(const cl_rec *r, int64_t u, float *scores)
{
    const fac_state *s = r->state;
    const float *x = s->X + u * s->f;
    for (int64_t i = 0; i < r->train->n_items; i++)
        scores[i] = (float)dotf(x, s->Y + i * s->f, s->f);
    return CL_OK;
}

/* The exact ridge solve of one row against the fixed other side OF (n_other rows), whose
 * Gram matrix OG = OF^T OF is given: x[f]. Values are confidence weights (>= 0). */
static int als_foldin(const cl_cf_als_params *pp, int f, const double *OG, int64_t n,
                      const int32_t *idx, const float *v, const float *OF, float *x)
{
    for (int64_t k = 0; v && k < n; k++)
        if (v[k] < 0) /* as fit: values are confidence weights */
            return cl_error(CL_EINVAL, "als: history entry %lld: value %g, expected >= 0 "
                            "(a confidence weight, as in fit)", (long long)k + 1, (double)v[k]);
    double *G = cl_alloc((size_t)f * (size_t)f * sizeof *G);
    double *A = cl_alloc(((size_t)f * (size_t)f + (size_t)f) * sizeof *A);
    int rc = G && A ? CL_OK : CL_ENOMEM;
    if (rc == CL_OK) {
        memcpy(G, OG, (size_t)f * (size_t)f * sizeof *G);
        for (int i = 0; i < f; i++)
            G[i * f + i] += pp->reg + 1e-12;
        rc = als_row_exact(G, f, n, idx, v, OF, pp->alpha, x, A, A + (size_t)f * f);
    }
    cl_alloc_free(G), cl_alloc_free(A);
    return rc;
}

static int als_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                       float *scores)
{
    const fac_state *s = r->state;
    int f = s->f;
    float *x = cl_alloc((size_t)f * sizeof *x);
    int rc = x ? als_foldin(r->params, f, s->gram, n, items, v, s->Y, x) : CL_ENOMEM;
    if (rc == CL_OK)
        for (int64_t i = 0; i < r->train->n_items; i++)
            scores[i] = (float)dotf(x, s->Y + i * f, f);
    cl_alloc_free(x);
    return rc;
}

/* A new user: the fold-in of their history, kept (Y and Y^T Y unchanged, so everyone else's
 * scores are too). A new item: the same exact solve on the item side against the user
 * factors; Y^T Y is then recomputed over the grown item set, as a load would. */
static int als_grow(cl_rec *r, cl_interactions *grown, int what, int valued, const float *x,
                    int nf)
{
    (void)valued, (void)x, (void)nf;
    fac_state *s = r->state;
    const cl_interactions *m = r->train;
    int f = s->f;
    if (what == CL_REC_GROW_USER) {
        int64_t a = grown->indptr[m->n_users], n = grown->indptr[m->n_users + 1] - a;
        int rc = grow_rows(&s->X, NULL, m->n_users, f);
        return rc ? rc
                  : als_foldin(r->params, f, s->gram, n, grown->indices + a, grown->values + a,
                               s->Y, s->X + m->n_users * f);
    }
    int64_t a = grown->cindptr[m->n_items], n = grown->cindptr[m->n_items + 1] - a;
    double *XG = cl_alloc((size_t)f * (size_t)f * sizeof *XG);
    int rc = XG ? gram(XG, s->X, m->n_users, f) : CL_ENOMEM;
    if (rc == CL_OK)
        rc = grow_rows(&s->Y, NULL, m->n_items, f);
    if (rc == CL_OK)
        rc = als_foldin(r->params, f, XG, n, grown->cindices + a, grown->cvalues + a, s->X,
                        s->Y + m->n_items * f);
    cl_alloc_free(XG);
    if (rc == CL_OK)
        rc = gram(s->gram, s->Y, m->n_items + 1, f);
    return rc;
}

static int als_save(const cl_rec *r, cl_mw *w, const char *prefix) { return fac_save(r, w, prefix); }

static int als_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    int rc = fac_load(r, mr, 0, ((const cl_cf_als_params *)r->params)->factors);
    if (rc)
        return rc;
    fac_state *s = r->state;
    return gram(s->gram, s->Y, r->train->n_items, s->f);
}

const cl_rec_ops cl_cf_als_ops = {"als",          als_defs,       sizeof(cl_cf_als_params),
                                   als_defaults,   als_fit,        als_score_user,
                                   als_history,    fac_similar,    als_save,
                                   als_load,       fac_free,       als_grow,
                                   NULL,           0};
