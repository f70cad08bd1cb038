/* bpr.c - BPR-MF: pairwise ranking by SGD on (user, positive, sampled negative) triples. */
#include "rec/bpr.h"
#include "rec/cf.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const cl_param_def bpr_defs[] = {
    {"factors", CL_PARAM_INT, offsetof(cl_bpr_params, factors), 64, 1, 4096, NULL,
     "latent factors per user and item"},
    {"epochs", CL_PARAM_INT, offsetof(cl_bpr_params, epochs), 120, 0, 100000, NULL,
     "passes over the observed pairs (one sampled negative each; 120 with lr 0.02: best of "
     "30..120 x 0.02..0.1 on three validation splits of MovieLens 100k)"},
    {"foldin_epochs", CL_PARAM_INT, offsetof(cl_bpr_params, foldin_epochs), 50, 1, 100000, NULL,
     "passes over a fresh history when folding it in (user side only)"},
    {"lr", CL_PARAM_NUM, offsetof(cl_bpr_params, lr), 0.02, 1e-9, 10, NULL, "sgd learning rate"},
    {"reg", CL_PARAM_NUM, offsetof(cl_bpr_params, reg), 0.02, 0, 1e6, NULL,
     "L2 penalty on factors and biases (per step; 0.02: best of 0.002..0.04 on a validation "
     "split of MovieLens 100k)"},
    {"init_std", CL_PARAM_NUM, offsetof(cl_bpr_params, init_std), 0.1, 0, 10, NULL,
     "standard deviation of the random initial factors"},
    {"item_bias", CL_PARAM_BOOL, offsetof(cl_bpr_params, item_bias), 1, 0, 1, NULL,
     "learn an item bias b_j (popularity within the ranking)"},
    {"seed", CL_PARAM_SEED, offsetof(cl_bpr_params, seed), 42, 0, 0, NULL,
     "random seed (initial factors, visiting order, negatives)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

typedef struct bpr_state {
    int f;
    float *X, *Y, *b; /* n_users x f, n_items x f, n_items */
} bpr_state;

static void bpr_defaults(void *p) { cl_param_defaults(bpr_defs, p); }

static void bpr_free(cl_rec *r)
{
    bpr_state *s = r->state;
    cl_alloc_free(s->X), cl_alloc_free(s->Y), cl_alloc_free(s->b);
    cl_alloc_free(s);
}

static int bpr_alloc(cl_rec *r, int f)
{
    const cl_interactions *m = r->train;
    bpr_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->f = f;
    int rc = cl_cf_alloc_factors(m, f, &s->X, &s->Y);
    if (rc)
        return rc;
    s->b = cl_alloc_calloc((size_t)m->n_items, sizeof *s->b);
    return s->b ? CL_OK : CL_ENOMEM;
}

static inline float dot(const float *a, const float *b, int f)
{
    float t = 0;
    for (int k = 0; k < f; k++)
        t += a[k] * b[k];
    return t;
}

/* 1 when sorted row[0..n) holds j */
static int in_row(const int32_t *row, int64_t n, int32_t j)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (row[mid] < j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && row[lo] == j;
}

/* A negative for a user with sorted items row[0..n): uniform over the others (rejection;
 * -1 when the user has every item). */
static int32_t negative(cl_rng *g, const int32_t *row, int64_t n, int64_t ni)
{
    if (n >= ni)
        return -1;
    for (;;) {
        int32_t j = (int32_t)cl_rng_below(g, (uint64_t)ni);
        if (!in_row(row, n, j))
            return j;
    }
}

/* One step on (p, i, j); items updated unless fixed. */
static void step(const cl_bpr_params *pp, int f, float *p, float *qi, float *qj, float *bi,
                 float *bj, int fixed_items)
{
    float x = dot(p, qi, f) - dot(p, qj, f) + (pp->item_bias ? *bi - *bj : 0);
    /* d/dx ln sigmoid(x) = sigmoid(-x), computed without overflow */
    float g = x >= 0 ? expf(-x) / (1 + expf(-x)) : 1 / (1 + expf(x));
    const float lr = (float)pp->lr, reg = (float)pp->reg;
    for (int k = 0; k < f; k++) {
        float pk = p[k], ik = qi[k], jk = qj[k];
        p[k] += lr * (g * (ik - jk) - reg * pk);
        if (!fixed_items) {
            qi[k] += lr * (g * pk - reg * ik);
            qj[k] += lr * (-g * pk - reg * jk);
        }
    }
    if (pp->item_bias && !fixed_items) {
        *bi += lr * (g - reg * *bi);
        *bj += lr * (-g - reg * *bj);
    }
}

static int bpr_fit(cl_rec *r, const cl_progress *p)
{
    const cl_bpr_params *pp = r->params;
    const cl_interactions *m = r->train;
    int f = pp->factors;
    int rc = bpr_alloc(r, f);
    if (rc)
        return rc;
    bpr_state *s = r->state;
    if (m->nnz > (int64_t)UINT32_MAX)
        return cl_error(CL_ERANGE, "bpr: more than 2^32 interactions");
    cl_rng g;
    cl_rng_seed(&g, pp->seed);
    for (int64_t k = 0; k < m->n_users * f; k++)
        s->X[k] = (float)(pp->init_std * cl_rng_normal(&g));
    for (int64_t k = 0; k < m->n_items * f; k++)
        s->Y[k] = (float)(pp->init_std * cl_rng_normal(&g));
    uint32_t *order;
    int32_t *uof;
    if (cl_cf_sgd_order(m, &order, &uof))
        return CL_ENOMEM;
    for (int e = 0; e < pp->epochs && rc == CL_OK; e++) {
        cl_rng_shuffle(&g, order, (uint64_t)m->nnz);
        for (int64_t t = 0; t < m->nnz; t++) {
            uint32_t k = order[t];
            int32_t u = uof[k], i = m->indices[k];
            const int32_t *row = m->indices + m->indptr[u];
            int32_t j = negative(&g, row, m->indptr[u + 1] - m->indptr[u], m->n_items);
            if (j < 0)
                continue;
            step(pp, f, s->X + (int64_t)u * f, s->Y + (int64_t)i * f, s->Y + (int64_t)j * f,
                 s->b + i, s->b + j, 0);
        }
        rc = cl_progress_step(p, "bpr", e + 1, pp->epochs, NULL);
    }
    cl_alloc_free(order), cl_alloc_free(uof);
    return rc;
}

static int bpr_score_user(const cl_rec *r, int64_t u, float *scores)
{
    const bpr_state *s = r->state;
    for (int64_t j = 0; j < r->train->n_items; j++)
        scores[j] = dot(s->X + u * s->f, s->Y + j * s->f, s->f) + s->b[j];
    return CL_OK;
}

/* p[f] for a history of n (sorted, distinct) items: user-side steps only. */
static int bpr_foldin(const cl_rec *r, int64_t n, const int32_t *items, float *p)
{
    const cl_bpr_params *pp = r->params;
    const bpr_state *s = r->state;
    int f = s->f;
    int64_t ni = r->train->n_items;
    memset(p, 0, (size_t)f * sizeof *p);
    if (n == 0)
        return CL_OK;
    /* distinct sorted copy: negatives are drawn outside it */
    int32_t *row = cl_alloc((size_t)n * sizeof *row);
    if (!row)
        return CL_ENOMEM;
    int64_t w = 0;
    for (int64_t k = 0; k < n; k++) /* the history arrives sorted (rec.c sorts it) */
        if (w == 0 || items[k] != row[w - 1])
            row[w++] = items[k];
    uint64_t h = pp->seed;
    for (int64_t k = 0; k < w; k++)
        h = cl_rng_hash(h ^ (uint64_t)(uint32_t)row[k]);
    cl_rng g;
    cl_rng_seed(&g, h);
    float zero = 0;
    for (int e = 0; e < pp->foldin_epochs; e++)
        for (int64_t k = 0; k < w; k++) {
            int32_t i = row[(int64_t)cl_rng_below(&g, (uint64_t)w)];
            int32_t j = negative(&g, row, w, ni);
            if (j < 0)
                continue;
            float bi = s->b[i], bj = s->b[j];
            step(pp, f, p, s->Y + (int64_t)i * f, s->Y + (int64_t)j * f, pp->item_bias ? &bi : &zero,
                 pp->item_bias ? &bj : &zero, 1);
        }
    cl_alloc_free(row);
    return CL_OK;
}

static int bpr_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                       float *scores)
{
    (void)v; /* every interaction counts the same */
    const bpr_state *s = r->state;
    float *p = cl_alloc((size_t)s->f * sizeof *p);
    int rc = p ? bpr_foldin(r, n, items, p) : CL_ENOMEM;
    if (rc == CL_OK)
        for (int64_t j = 0; j < r->train->n_items; j++)
            scores[j] = dot(p, s->Y + j * s->f, s->f) + s->b[j];
    cl_alloc_free(p);
    return rc;
}

static int bpr_similar(const cl_rec *r, int32_t i, float *scores)
{
    const bpr_state *s = r->state;
    cl_cf_cosine_rows(s->Y, r->train->n_items, s->f, i, scores);
    return CL_OK;
}

static int bpr_grow(cl_rec *r, cl_interactions *grown, int what, int valued, const float *x,
                    int nf)
{
    (void)valued, (void)x, (void)nf;
    if (what != CL_REC_GROW_USER)
        return cl_error(CL_ENOTSUP, "bpr: items cannot be added to a fitted model (fit it "
                        "again)");
    bpr_state *s = r->state;
    int64_t nu = r->train->n_users;
    float *X = cl_alloc_realloc(s->X, (size_t)(nu + 1) * (size_t)s->f * sizeof *X);
    if (!X)
        return CL_ENOMEM;
    s->X = X;
    int64_t a = grown->indptr[nu];
    return bpr_foldin(r, grown->indptr[nu + 1] - a, grown->indices + a, X + nu * s->f);
}

static int bpr_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    (void)prefix;
    const bpr_state *s = r->state;
    const cl_interactions *m = r->train;
    cl_modelio_w_int(w, "bpr.f", s->f);
    cl_modelio_w_f32(w, "bpr.X", s->X, (size_t)m->n_users * (size_t)s->f);
    cl_modelio_w_f32(w, "bpr.Y", s->Y, (size_t)m->n_items * (size_t)s->f);
    return cl_modelio_w_f32(w, "bpr.b", s->b, (size_t)m->n_items);
}

static int bpr_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    const cl_interactions *m = r->train;
    int want = ((const cl_bpr_params *)r->params)->factors;
    int64_t f;
    int rc = cl_modelio_r_int(mr, "bpr.f", 1, 4096, &f);
    if (rc)
        return rc;
    if (f != want)
        return cl_error(CL_EFORMAT, "model file: %lld factors stored, parameters say %d",
                        (long long)f, want);
    size_t cx, cy, nx = (size_t)m->n_users * (size_t)f, ny = (size_t)m->n_items * (size_t)f;
    if ((rc = cl_modelio_r_count(mr, "bpr.X", CL_CHUNK_F32, &cx)) ||
        (rc = cl_modelio_r_count(mr, "bpr.Y", CL_CHUNK_F32, &cy)))
        return rc;
    if (cx != nx || cy != ny)
        return cl_error(CL_EFORMAT, "model file: %zu user and %zu item factor values stored, "
                        "%zu and %zu needed", cx, cy, nx, ny);
    if ((rc = bpr_alloc(r, (int)f)))
        return rc;
    bpr_state *s = r->state;
    if ((rc = cl_modelio_r_f32(mr, "bpr.X", s->X, nx)) || (rc = cl_modelio_r_f32(mr, "bpr.Y", s->Y, ny)) ||
        (rc = cl_modelio_r_f32(mr, "bpr.b", s->b, (size_t)m->n_items)))
        return rc;
    /* factors within +-1e15 keep every dot product of <= 4096 of them finite */
    const float *arr[3] = {s->X, s->Y, s->b};
    size_t cnt[3] = {nx, ny, (size_t)m->n_items};
    for (int a = 0; a < 3; a++)
        for (size_t k = 0; k < cnt[a]; k++)
            if (!(fabsf(arr[a][k]) <= 1e15f))
                return cl_error(CL_EFORMAT, "model file: bpr value %zu is %g, expected a finite "
                                "number within +-1e15", k + 1, (double)arr[a][k]);
    return CL_OK;
}

const cl_rec_ops cl_bpr_rec_ops = {"bpr",        bpr_defs,    sizeof(cl_bpr_params),
                                   bpr_defaults, bpr_fit,     bpr_score_user,
                                   bpr_history,  bpr_similar, bpr_save,
                                   bpr_load,     bpr_free,    bpr_grow,
                                   NULL,         0};
