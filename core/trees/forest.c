/* forest.c - random forest and CART (see forest.h). */
#include "trees/forest.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "base/alloc.h"
#include "models/prior.h"
#include "eval/metrics.h"
#include "trees/treeshap.h"
#include "base/error.h"
#include "base/modelio.h"
#include "base/threads.h"
#include "trees/ensemble.h"
#include "trees/predict.h"
#include "trees/tree_grow.h"

const cl_param_def cl_forest_param_defs[] = {
    {"trees", CL_PARAM_INT, offsetof(cl_forest_params, trees), 300, 1, 100000, NULL,
     "number of trees"},
    {"mtry", CL_PARAM_INT, offsetof(cl_forest_params, mtry), 0, 0, 1000000, NULL,
     "features tried at each split (0 = sqrt of the feature count)"},
    {"depth", CL_PARAM_INT, offsetof(cl_forest_params, depth), 0, 0, 64, NULL,
     "maximum depth (0 = unlimited)"},
    {"min_leaf", CL_PARAM_NUM, offsetof(cl_forest_params, min_leaf), 3, 0, 1e12, NULL,
     "minimum (weighted) rows in a leaf"},
    {"class_weight", CL_PARAM_ENUM, offsetof(cl_forest_params, class_weight), 0, 0, 0,
     "none|balanced", "class weights: none, or balanced (n / (2 n_class))"},
    {"bootstrap", CL_PARAM_BOOL, offsetof(cl_forest_params, bootstrap), 1, 0, 1, NULL,
     "draw a bootstrap sample for each tree (off: every tree sees all rows)"},
    {"max_bins", CL_PARAM_INT, offsetof(cl_forest_params, max_bins), 255, 2, 255, NULL,
     "histogram bins per feature (plus one for missing values)"},
    {"seed", CL_PARAM_SEED, offsetof(cl_forest_params, seed), 42, 0, 0, NULL,
     "random seed (bootstrap, feature sampling)"},
    {"prior_correction", CL_PARAM_BOOL, offsetof(cl_forest_params, prior_correction), 1, 0, 1,
     NULL, "after class weights: map probabilities back to the true churn rate (predict)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL},
};

const cl_param_def cl_forest_cart_param_defs[] = {
    {"depth", CL_PARAM_INT, offsetof(cl_forest_params, depth), 4, 0, 64, NULL,
     "maximum depth (0 = unlimited)"},
    {"min_leaf", CL_PARAM_NUM, offsetof(cl_forest_params, min_leaf), 20, 0, 1e12, NULL,
     "minimum (weighted) rows in a leaf"},
    {"class_weight", CL_PARAM_ENUM, offsetof(cl_forest_params, class_weight), 0, 0, 0,
     "none|balanced", "class weights: none, or balanced (n / (2 n_class))"},
    {"max_bins", CL_PARAM_INT, offsetof(cl_forest_params, max_bins), 255, 2, 255, NULL,
     "histogram bins per feature (plus one for missing values)"},
    {"seed", CL_PARAM_SEED, offsetof(cl_forest_params, seed), 42, 0, 0, NULL,
     "random seed (binning sample of large data)"},
    {"prior_correction", CL_PARAM_BOOL, offsetof(cl_forest_params, prior_correction), 1, 0, 1,
     NULL, "after class weights: map probabilities back to the true churn rate (predict)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL},
};

cl_forest_params cl_forest_params_default(void)
{
    cl_forest_params p;
    memset(&p, 0, sizeof p);
    cl_param_defaults(cl_forest_param_defs, &p);
    return p;
}

cl_forest_params cl_forest_cart_params_default(void)
{
    cl_forest_params p = cl_forest_params_default();
    cl_param_defaults(cl_forest_cart_param_defs, &p);
    p.trees = 1;
    p.mtry = 0;
    p.bootstrap = 0;
    return p;
}

static const char *kind_name(int kind)
{
    return kind == CL_FOREST_KIND_TREE ? "tree" : "forest";
}

static const cl_param_def *defs_of(int kind)
{
    return kind == CL_FOREST_KIND_TREE ? cl_forest_cart_param_defs : cl_forest_param_defs;
}

int cl_forest_new(cl_forest **out, int kind, const cl_forest_params *p)
{
    *out = NULL;
    if (kind != CL_FOREST_KIND_FOREST && kind != CL_FOREST_KIND_TREE)
        return cl_error(CL_EINVAL, "forest: unknown kind %d", kind);
    int rc = cl_param_validate(defs_of(kind), p, kind_name(kind));
    if (rc)
        return rc;
    cl_forest *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->kind = kind;
    m->params = *p;
    if (kind == CL_FOREST_KIND_TREE) {
        m->params.trees = 1;
        m->params.mtry = 0;
        m->params.bootstrap = 0;
    }
    m->oob_auc = NAN;
    m->prior_trained = m->prior_true = NAN;
    *out = m;
    return CL_OK;
}

/* The scoring pack of the current trees, or none (before a fit, while fitting): built once
 * here, never inside predict, so concurrent predicts only read it. Out of memory leaves no
 * pack (predict packs per call: the same outputs). */
static void repack(cl_forest *m)
{
    cl_predict_pack_free(m->pack);
    m->pack = NULL;
    if (m->fitted && m->ntrees > 0 &&
        cl_predict_pack_new(&m->pack, (const cl_tree *const *)m->trees, m->ntrees))
        m->pack = NULL;
}

static void reset(cl_forest *m)
{
    m->fitted = 0;
    repack(m);
    cl_tree_ens_free(m->trees, m->ntrees);
    m->trees = NULL;
    m->ntrees = 0;
    cl_binning_free(m->bins);
    m->bins = NULL;
    m->fitted = 0;
    m->oob_auc = NAN;
    m->prior_trained = m->prior_true = NAN;
}

void cl_forest_free(cl_forest *m)
{
    if (!m)
        return;
    reset(m);
    cl_alloc_strs_free(m->names, m->d);
    cl_alloc_free(m);
}

int cl_forest_set_names(cl_forest *m, const char *const *names, int d)
{
    return cl_ensemble_set_names(&m->names, &m->d, names, d);
}

typedef struct tree_scratch {
    float *grad, *hess;
    uint32_t *rows, *cnt;
    cl_tree_grow_ws *ws;
} tree_scratch;

static void scratch_free(tree_scratch *s)
{
    cl_alloc_free(s->grad);
    cl_alloc_free(s->hess);
    cl_alloc_free(s->rows);
    cl_alloc_free(s->cnt);
    cl_tree_grow_ws_free(s->ws);
    memset(s, 0, sizeof *s);
}

static int scratch_new(tree_scratch *s, size_t n, int total_bins, int d)
{
    memset(s, 0, sizeof *s);
    s->grad = cl_alloc(n * sizeof *s->grad);
    s->hess = cl_alloc(n * sizeof *s->hess);
    s->rows = cl_alloc(n * sizeof *s->rows);
    s->cnt = cl_alloc(n * sizeof *s->cnt);
    if (!s->grad || !s->hess || !s->rows || !s->cnt ||
        cl_tree_grow_ws_new(&s->ws, n, total_bins, d) != CL_OK) {
        scratch_free(s);
        return CL_ENOMEM;
    }
    return CL_OK;
}

/* What a fit holds besides the model: the binned rows, labels and class weights, the growth
 * parameters, per-thread scratch and (bootstrap) each tree's in-bag bitset of n bits.
 * Distributed (dist, more than one rank): this rank holds rows [first, first + n) of the ng
 * rows of every rank (counts[r] rows on rank r), npos of which are positive. */
typedef struct fit_state {
    size_t n, words;
    int d, nth, nscr;
    uint8_t *bins;
    float *yl;
    int *feats;
    uint64_t *inbag;
    tree_scratch *scr;
    double cw[2];
    cl_tree_grow_params gp;
    cl_dist *dist;
    size_t ng, first;
    int64_t npos;
    int64_t *counts;
} fit_state;

/* Grows tree t; sets the in-bag bitset (n bits) when bootstrapping. */
static int grow_one(const cl_forest *m, int t, const fit_state *fs, const float *sw,
                    tree_scratch *s, uint64_t *inbag, cl_tree **out)
{
    const cl_forest_params *p = &m->params;
    const uint8_t *bins = fs->bins;
    const float *y = fs->yl;
    const double *cw = fs->cw;
    const size_t n = fs->n, ng = fs->ng, first = fs->first;
    cl_rng rng;
    cl_rng_seed(&rng, p->seed + 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1));
    size_t m_rows = 0;
    if (p->bootstrap) {
        /* ng draws over the global row numbers: every rank walks the one-process stream and
         * counts the draws that land on its rows, so the sample (and the rng state the grower
         * goes on with) does not depend on how the rows are cut into shards; O(ng) per tree */
        memset(s->cnt, 0, n * sizeof *s->cnt);
        for (size_t k = 0; k < ng; k++) {
            size_t i = (size_t)cl_rng_below(&rng, ng) - first; /* unsigned: < n when ours */
            if (i < n)
                s->cnt[i]++;
        }
        for (size_t i = 0; i < n; i++)
            if (s->cnt[i]) {
                s->rows[m_rows++] = (uint32_t)i;
                if (inbag)
                    inbag[i >> 6] |= 1ull << (i & 63);
            }
    } else {
        for (size_t i = 0; i < n; i++) {
            s->cnt[i] = 1;
            s->rows[m_rows++] = (uint32_t)i;
        }
    }
    for (size_t i = 0; i < n; i++) {
        double w = s->cnt[i] * cw[y[i] > 0.5f];
        if (sw) /* a sample weight multiplies the bootstrap count, as in scikit-learn */
            w *= sw[i];
        s->grad[i] = (float)(-y[i] * w);
        s->hess[i] = (float)w;
    }
    cl_tree *tree;
    int rc = cl_tree_new(&tree);
    if (rc)
        return rc;
    const cl_tree_grow_leaf *leaves;
    int nleaves;
    rc = cl_tree_grow(tree, m->bins, bins, n, s->grad, s->hess, s->rows, m_rows, fs->feats, m->d,
                      &fs->gp, &rng, s->ws, &leaves, &nleaves);
    if (rc) {
        cl_tree_free(tree);
        return rc;
    }
    *out = tree;
    return CL_OK;
}

int cl_forest_fit(cl_forest *m, const cl_tensor *X, const cl_tensor *y, const uint8_t *is_cat,
                  const cl_progress *progress)
{
    return cl_forest_fit_weighted(m, X, y, is_cat, NULL, progress);
}


static void fit_state_free(fit_state *fs)
{
    cl_alloc_free(fs->bins);
    cl_alloc_free(fs->yl);
    cl_alloc_free(fs->feats);
    cl_alloc_free(fs->inbag);
    cl_alloc_free(fs->counts);
    if (fs->scr)
        for (int k = 0; k < fs->nscr; k++)
            scratch_free(fs->scr + k);
    cl_alloc_free(fs->scr);
}

/* Fits the bins on X and bins it (X's float copy is freed before any tree grows); allocates
 * the tree slots and the scratch: one per thread for a forest, whose trees grow in parallel,
 * one for a tree, which parallelises inside its single growth. */
static int fit_alloc(cl_forest *m, const cl_tensor *X, const uint8_t *is_cat, fit_state *fs)
{
    const cl_forest_params *p = &m->params;
    size_t n = fs->n;
    int d = fs->d, T = p->trees;
    cl_tensor *Xc = NULL;
    int rc;
    if ((rc = cl_tensor_contiguous(&Xc, X)))
        goto done;
    if ((rc = cl_binning_new(&m->bins, p->max_bins, p->seed)) ||
        (rc = cl_binning_fit_dist(m->bins, cl_tensor_data(Xc), n, d, is_cat, fs->dist)))
        goto done;
    size_t nb;
    if (!cl_alloc_mul_size(n, (size_t)d, &nb)) {
        rc = CL_ERANGE;
        goto done;
    }
    fs->bins = cl_alloc(nb);
    fs->yl = cl_alloc(n * sizeof *fs->yl);
    fs->feats = cl_alloc((size_t)d * sizeof *fs->feats);
    m->trees = cl_alloc_calloc((size_t)T, sizeof *m->trees);
    fs->scr = cl_alloc_calloc((size_t)fs->nscr, sizeof *fs->scr);
    if (p->bootstrap)
        fs->inbag = cl_alloc_calloc(fs->words * (size_t)T, sizeof *fs->inbag);
    if (!fs->bins || !fs->yl || !fs->feats || !m->trees || !fs->scr ||
        (p->bootstrap && !fs->inbag)) {
        rc = CL_ENOMEM;
        goto done;
    }
    for (int k = 0; k < fs->nscr; k++)
        if ((rc = scratch_new(fs->scr + k, n, cl_binning_total(m->bins), d)))
            goto done;
    cl_binning_apply(m->bins, cl_tensor_data(Xc), n, fs->bins);
done:
    cl_tensor_free(Xc);
    return rc;
}

/* The labels, and class_weight = "balanced" as scikit-learn's n / (2 n_c); the prior rates
 * record the weighting so predictions can be corrected back to the data's base rate. */
static void class_weights(cl_forest *m, const cl_tensor *y, fit_state *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        fs->yl[i] = *cl_tensor_ptr(y, (int64_t)i, 0);
    double npos = (double)fs->npos, n = (double)fs->ng; /* every rank's rows */
    fs->cw[0] = fs->cw[1] = 1;
    if (m->params.class_weight == 1 && npos > 0 && npos < n) {
        fs->cw[0] = n / (2 * (n - npos));
        fs->cw[1] = n / (2 * npos);
    }
    cl_prior_rates(npos, n, fs->cw[1], fs->cw[0], &m->prior_trained, &m->prior_true);
}

/* A tree considers every feature at a split and threads its own growth; a forest draws mtry
 * features per split (default floor(sqrt(d))) and grows one tree per thread, except over
 * several ranks: the grower's collectives run on the main thread only (base/dist.h), so the
 * trees grow one after the other, each threaded inside (the same tree at any thread count). */
static void grow_params(const cl_forest *m, fit_state *fs)
{
    const cl_forest_params *p = &m->params;
    int d = fs->d;
    for (int j = 0; j < d; j++)
        fs->feats[j] = j;
    cl_tree_grow_params *gp = &fs->gp;
    memset(gp, 0, sizeof *gp);
    gp->sp.min_child_weight = p->min_leaf;
    gp->max_depth = p->depth;
    gp->lr = 1;
    if (m->kind == CL_FOREST_KIND_TREE) {
        gp->mtry = 0;
        gp->subtract = 1;
        gp->nthreads = fs->nth;
    } else {
        gp->mtry = p->mtry > 0 ? (p->mtry < d ? p->mtry : d) : (int)floor(sqrt((double)d));
        gp->mtry = gp->mtry < 1 ? 1 : gp->mtry;
        gp->subtract = gp->mtry >= d;
        gp->nthreads = fs->dist ? fs->nth : 1;
    }
    gp->dist = fs->dist;
}

/* Grows trees [t0, t1) (in parallel for a forest: each tree's rng is seeded from its index,
 * so the result does not depend on the thread count) and keeps the prefix that finished; a
 * tree grown after a failed one is dropped, so the model is always trees 0..ntrees-1. */
static int grow_batch(cl_forest *m, fit_state *fs, const float *w, int t0, int t1)
{
    int err = CL_OK;
    if (m->kind == CL_FOREST_KIND_TREE) {
        err = grow_one(m, t0, fs, w, fs->scr, NULL, &m->trees[t0]);
    } else if (fs->dist) {
        for (int t = t0; t < t1 && !err; t++)
            err = grow_one(m, t, fs, w, fs->scr, fs->inbag ? fs->inbag + (size_t)t * fs->words
                                                           : NULL, &m->trees[t]);
    } else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(fs->nth)
        for (int t = t0; t < t1; t++) {
            int k = 0;
#ifdef _OPENMP
            k = omp_get_thread_num();
#endif
            int e = grow_one(m, t, fs, w, fs->scr + k,
                             fs->inbag ? fs->inbag + (size_t)t * fs->words : NULL, &m->trees[t]);
            if (e) {
#pragma omp critical(cl_forest_err)
                err = err ? err : e;
            }
        }
    }
    int done_t = t0;
    while (done_t < t1 && m->trees[done_t])
        done_t++;
    m->ntrees = done_t;
    for (int t = done_t; t < t1; t++) {
        cl_tree_free(m->trees[t]);
        m->trees[t] = NULL;
    }
    return err;
}

/* All trees in batches of 2 per thread, reporting progress after each batch (where a
 * progress callback may interrupt: CL_EINTR keeps the trees grown so far). */
static int grow_all(cl_forest *m, fit_state *fs, const float *w, const cl_progress *progress)
{
    int T = m->params.trees, rc = CL_OK;
    int batch = m->kind == CL_FOREST_KIND_TREE ? 1 : 2 * fs->nth;
    for (int t0 = 0; t0 < T && !rc; t0 += batch) {
        int t1 = t0 + batch < T ? t0 + batch : T;
        if ((rc = grow_batch(m, fs, w, t0, t1)))
            break;
        char detail[32];
        snprintf(detail, sizeof detail, "%d trees", t1);
        rc = cl_progress_step(progress, kind_name(m->kind), t1, T, detail);
        rc = cl_dist_agree(fs->dist, rc); /* an interrupted rank stops every rank */
    }
    return rc;
}

/* Each row's mean leaf value over the trees whose bootstrap left it out, in fixed blocks of
 * rows (deterministic); NaN for a row every tree drew. */
static void oob_scores(const cl_forest *m, const fit_state *fs, const int *missing, float *oob)
{
    size_t n = fs->n, words = fs->words;
    const uint64_t *inbag = fs->inbag;
    const size_t blk = 4096, nblk = (n + blk - 1) / blk;
#pragma omp parallel for schedule(static) num_threads(fs->nth) if (nblk > 4)
    for (size_t q = 0; q < nblk; q++) {
        size_t i1 = (q + 1) * blk < n ? (q + 1) * blk : n;
        for (size_t i = q * blk; i < i1; i++) {
            double s = 0;
            int c = 0;
            for (int t = 0; t < m->ntrees; t++) {
                if (inbag[(size_t)t * words + (i >> 6)] >> (i & 63) & 1)
                    continue;
                s += m->trees[t]->nodes[cl_tree_leaf_binned(m->trees[t], fs->bins, n, i,
                                                            missing)].value;
                c++;
            }
            oob[i] = c ? (float)(s / c) : NAN;
        }
    }
}

/* The out-of-bag AUC over the rows some tree left out (NaN when none was, or when the
 * scores' buffer cannot be had). Over several ranks every rank gathers the scores and labels
 * of all rows in rank order (the rows' global order), so each computes the one-process AUC. */
static int oob_auc(cl_forest *m, const fit_state *fs)
{
    size_t n = fs->n, ng = fs->ng;
    int d = fs->d, nr = cl_dist_size(fs->dist);
    float *loc = cl_alloc(n * sizeof *loc);
    float *oob = nr > 1 ? cl_alloc(ng * sizeof *oob) : loc;
    float *oy = cl_alloc(ng * sizeof *oy);
    int64_t *bytes = cl_alloc((size_t)nr * sizeof *bytes);
    int *missing = cl_alloc((size_t)d * sizeof *missing);
    int rc = !loc || !oob || !oy || !bytes || !missing ? CL_ENOMEM : CL_OK;
    if (!rc) {
        for (int j = 0; j < d; j++)
            missing[j] = m->bins->nbins[j];
        oob_scores(m, fs, missing, loc);
    }
    if (nr > 1 && (rc = cl_dist_agree(fs->dist, rc)) == CL_OK) {
        for (int r = 0; r < nr; r++)
            bytes[r] = fs->counts[r] * (int64_t)sizeof *oob;
        if (!(rc = cl_dist_allgatherv(fs->dist, loc, oob, bytes)))
            rc = cl_dist_allgatherv(fs->dist, fs->yl, oy, bytes);
    } else if (!rc) {
        memcpy(oy, fs->yl, n * sizeof *oy);
    }
    if (rc)
        goto done;
    size_t k = 0;
    for (size_t i = 0; i < ng; i++)
        if (!isnan(oob[i])) {
            oob[k] = oob[i];
            oy[k] = oy[i];
            k++;
        }
    m->oob_auc = NAN;
    double *s = k ? cl_alloc(k * sizeof *s) : NULL;
    if (s) { /* an allocation failure leaves the OOB AUC unknown, as before */
        for (size_t i = 0; i < k; i++)
            s[i] = oob[i];
        cl_metrics_auc(&m->oob_auc, s, oy, (int64_t)k);
        cl_alloc_free(s);
    }
done:
    if (oob != loc)
        cl_alloc_free(oob);
    cl_alloc_free(loc);
    cl_alloc_free(oy);
    cl_alloc_free(bytes);
    cl_alloc_free(missing);
    return rc;
}

/* The rows of every rank: their number, this rank's first row and the positive labels
 * (exact integer sums, so the class weights are the one-process ones). One process: its own. */
static int shard_rows(fit_state *fs, const cl_tensor *y, const char *what)
{
    int64_t v[3] = {fs->d, 0, (int64_t)fs->n};
    for (size_t i = 0; i < fs->n; i++)
        v[1] += *cl_tensor_ptr(y, (int64_t)i, 0) > 0.5f;
    fs->npos = v[1];
    fs->ng = fs->n;
    if (!fs->dist)
        return CL_OK;
    int nr = cl_dist_size(fs->dist), rc;
    if ((rc = cl_dist_sum_small(fs->dist, v, 3)))
        return rc;
    if (v[0] != (int64_t)fs->d * nr)
        return cl_error(CL_EINVAL, "%s: X has %d features on rank %d, not on every rank", what,
                        fs->d, cl_dist_rank(fs->dist));
    fs->npos = v[1];
    fs->ng = (size_t)v[2];
    if (!(fs->counts = cl_alloc((size_t)nr * sizeof *fs->counts)))
        return CL_ENOMEM;
    if ((rc = cl_dist_gather_i64(fs->dist, (int64_t)fs->n, fs->counts)))
        return rc;
    for (int r = 0; r < cl_dist_rank(fs->dist); r++)
        fs->first += (size_t)fs->counts[r];
    return CL_OK;
}

static int fit(cl_forest *m, const cl_tensor *X, const cl_tensor *y, const uint8_t *is_cat,
               const float *w, cl_dist *dist, const cl_progress *progress)
{
    const char *what = m->kind == CL_FOREST_KIND_TREE ? "tree fit" : "forest fit";
    int rc = cl_tree_ens_check_xy(X, y, 1, what);
    if (rc)
        return rc;
    fit_state fs;
    memset(&fs, 0, sizeof fs);
    fs.n = (size_t)cl_tensor_rows(X);
    fs.d = (int)cl_tensor_cols(X);
    fs.words = (fs.n + 63) / 64;
    fs.nth = cl_threads_get();
    fs.nscr = m->kind == CL_FOREST_KIND_TREE || dist ? 1 : fs.nth;
    fs.dist = dist;
    if (m->names && m->d != fs.d) {
        cl_alloc_strs_free(m->names, m->d);
        m->names = NULL;
    }
    reset(m);
    m->d = fs.d;
    if (!(rc = shard_rows(&fs, y, what)) && !(rc = fit_alloc(m, X, is_cat, &fs))) {
        class_weights(m, y, &fs);
        grow_params(m, &fs);
        m->fitted = 1;
        rc = grow_all(m, &fs, w, progress);
    }
    if (!rc && fs.inbag)
        rc = oob_auc(m, &fs);
    /* an interrupted fit keeps the trees it grew; any other failure leaves no model */
    if ((rc && rc != CL_EINTR) || (rc == CL_EINTR && m->ntrees == 0))
        reset(m);
    fit_state_free(&fs);
    repack(m);
    return rc;
}

int cl_forest_fit_weighted(cl_forest *m, const cl_tensor *X, const cl_tensor *y,
                           const uint8_t *is_cat, const float *w, const cl_progress *progress)
{
    return fit(m, X, y, is_cat, w, NULL, progress);
}

int cl_forest_fit_dist(cl_forest *m, const cl_tensor *X, const cl_tensor *y,
                       const uint8_t *is_cat, const float *w, cl_dist *dist,
                       const cl_progress *progress)
{
    if (cl_dist_size(dist) == 1) /* one rank: the one-process fit (trees in parallel) */
        return fit(m, X, y, is_cat, w, NULL, progress);
    cl_dist_begin(dist);
    int rc = fit(m, X, y, is_cat, w, dist, progress);
    /* every rank ends with the same status; a rank whose fit passed drops its model when
     * another's failed (after an interruption every rank keeps the same trees) */
    rc = cl_dist_agree(dist, rc);
    if (rc && rc != CL_EINTR)
        reset(m);
    return rc;
}

int cl_forest_prior(const cl_forest *m, double *trained, double *truth)
{
    *trained = m->prior_trained;
    *truth = m->prior_true;
    return m->fitted && m->params.prior_correction && cl_prior_needed(*trained, *truth);
}

int cl_forest_predict(const cl_forest *m, float *out, const cl_tensor *X)
{
    return cl_forest_predict_mode(m, out, X, CL_PREDICT_PROB);
}

int cl_forest_predict_mode(const cl_forest *m, float *out, const cl_tensor *X, int mode)
{
    const char *what = m->kind == CL_FOREST_KIND_TREE ? "tree predict" : "forest predict";
    if (!m->fitted)
        return cl_error(CL_ESTATE, "%s before fit", what);
    if (mode < CL_PREDICT_PROB || mode > CL_PREDICT_CORRECTED)
        return cl_error(CL_EINVAL, "%s: unknown prediction mode %d", what, mode);
    int rc = cl_tree_ens_check_xy(X, NULL, 0, what);
    if (rc)
        return rc;
    if (cl_tensor_cols(X) != m->d)
        return cl_error(CL_EINVAL, "%s: X has %lld features, the model was fitted on %d", what,
                        (long long)cl_tensor_cols(X), m->d);
    cl_tensor *Xc = NULL; /* a copy only when X is not contiguous (one row never is copied) */
    if (!cl_tensor_is_contiguous(X) && (rc = cl_tensor_contiguous(&Xc, X)))
        return rc;
    const float *x = cl_tensor_data(Xc ? Xc : X);
    const size_t n = (size_t)cl_tensor_rows(X);
    if (m->pack)
        cl_predict_pack_run(m->pack, x, n, m->d, 0.0, 1.0 / m->ntrees, out);
    else
        cl_predict_ensemble((const cl_tree *const *)m->trees, m->ntrees, x, n, m->d, 0.0,
                            1.0 / m->ntrees, out);
    cl_tensor_free(Xc);
    double tr, tt;
    cl_forest_prior(m, &tr, &tt);
    if (cl_prior_wanted(mode, m->params.prior_correction, tr, tt)) {
        for (size_t i = 0; i < n; i++)
            out[i] = (float)cl_prior_correct(out[i], tr, tt);
    }
    return CL_OK;
}

/* ---- model files ---------------------------------------------------------------------- */

int cl_forest_write(const cl_forest *m, cl_mw *w)
{
    if (!m->fitted)
        return cl_error(CL_ESTATE, "%s: save before fit", kind_name(m->kind));
    int rc = cl_ensemble_write_params(w, defs_of(m->kind), &m->params);
    if (rc)
        return rc;
    cl_modelio_w_num(w, "oob_auc", m->oob_auc);
    cl_prior_write(w, "prior_rates", m->prior_trained, m->prior_true);
    return cl_ensemble_write_body(w, m->d, m->names, m->bins, (const cl_tree *const *)m->trees,
                                  m->ntrees);
}

int cl_forest_read(cl_forest **out, const cl_mr *r)
{
    *out = NULL;
    const char *k = cl_modelio_r_kind(r);
    int kind = strcmp(k, "tree") == 0 ? CL_FOREST_KIND_TREE : CL_FOREST_KIND_FOREST;
    int rc = cl_modelio_r_expect_kind(r, kind_name(kind));
    if (rc)
        return rc;
    cl_forest_params p = kind == CL_FOREST_KIND_TREE ? cl_forest_cart_params_default()
                                                     : cl_forest_params_default();
    if ((rc = cl_ensemble_read_params(r, defs_of(kind), &p, kind_name(kind))))
        return rc;
    cl_forest *m;
    if ((rc = cl_forest_new(&m, kind, &p)))
        return cl_error_wrap(rc == CL_ENOMEM ? rc : CL_EFORMAT, "model file");
    if ((rc = cl_modelio_r_num(r, "oob_auc", &m->oob_auc)) ||
        (rc = cl_prior_read(r, "prior_rates", &m->prior_trained, &m->prior_true,
                            kind == CL_FOREST_KIND_TREE ? "tree file" : "forest file")) ||
        (rc = cl_ensemble_read_body(r, &m->d, &m->names, &m->bins, &m->trees, &m->ntrees)))
        goto fail;
    if (m->ntrees < 1 || m->ntrees > m->params.trees ||
        (kind == CL_FOREST_KIND_TREE && m->ntrees != 1)) {
        rc = cl_error(CL_EFORMAT, "model file: a %s with param.trees = %d holds %d trees "
                      "(expected 1..param.trees; a tree exactly 1)", kind_name(kind),
                      m->params.trees, m->ntrees);
        goto fail;
    }
    if (!isnan(m->oob_auc) && !(m->oob_auc >= 0 && m->oob_auc <= 1)) {
        rc = cl_error(CL_EFORMAT, "model file: oob_auc = %g, expected NaN (not computed) or a "
                      "number in [0, 1]", m->oob_auc);
        goto fail;
    }
    /* leaves hold class-1 shares: a value outside [0, 1] would be a probability outside it */
    for (int t = 0; t < m->ntrees; t++)
        for (int i = 0; i < m->trees[t]->n; i++) {
            const cl_tnode *nd = m->trees[t]->nodes + i;
            if (nd->feature < 0 && !(nd->value >= 0 && nd->value <= 1)) {
                rc = cl_error(CL_EFORMAT, "model file: tree %d, leaf node %d: value %g is not a "
                              "probability in [0, 1]", t + 1, i + 1, (double)nd->value);
                goto fail;
            }
        }
    m->fitted = 1;
    repack(m);
    *out = m;
    return CL_OK;
fail:
    cl_forest_free(m);
    return rc;
}

int cl_forest_save(const cl_forest *m, const char *path)
{
    cl_mw *w = cl_modelio_w_new(kind_name(m->kind));
    if (!w)
        return CL_ENOMEM;
    int rc = cl_forest_write(m, w);
    if (!rc)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    return rc;
}

int cl_forest_load(cl_forest **out, const char *path)
{
    *out = NULL;
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return rc;
    rc = cl_forest_read(out, r);
    cl_modelio_r_free(r);
    return rc;
}

/* ---- the classifier interface (models/model.h) ----------------------------------------- */

static void forest_defaults(void *p) { *(cl_forest_params *)p = cl_forest_params_default(); }
static void tree_defaults(void *p) { *(cl_forest_params *)p = cl_forest_cart_params_default(); }
static int new_kind(void **impl, int kind, const void *p)
{
    return cl_forest_new((cl_forest **)impl, kind, p);
}
static int forest_create(void **impl, const void *p)
{
    return new_kind(impl, CL_FOREST_KIND_FOREST, p);
}
static int tree_create(void **impl, const void *p)
{
    return new_kind(impl, CL_FOREST_KIND_TREE, p);
}
static void ops_free(void *impl) { cl_forest_free(impl); }
static const void *ops_params_of(const void *impl) { return &((const cl_forest *)impl)->params; }
static int ops_fitted(const void *impl) { return ((const cl_forest *)impl)->fitted; }
static int64_t ops_n_features(const void *impl) { return ((const cl_forest *)impl)->d; }
static int ops_read(void **impl, const cl_mr *r) { return cl_forest_read((cl_forest **)impl, r); }
static int ops_write(const void *impl, cl_mw *w) { return cl_forest_write(impl, w); }

static const char *ops_name(const void *impl, int64_t j)
{
    const cl_forest *m = impl;
    return cl_ensemble_name(m->names, m->d, j);
}

static int ops_set_names(void *impl, const char *const *names, int64_t d)
{
    if (d > INT32_MAX)
        return cl_error(CL_ERANGE, "forest: %lld feature names", (long long)d);
    return cl_forest_set_names(impl, names, (int)d);
}

static int ops_prior(const void *impl, double *trained, double *truth)
{
    return cl_forest_prior(impl, trained, truth);
}

static const char *ops_describe(const void *impl, char *buf, size_t cap)
{
    const cl_forest *m = impl;
    if (!m->fitted)
        snprintf(buf, cap, "(not fitted)");
    else if (m->kind == CL_FOREST_KIND_TREE)
        snprintf(buf, cap, "%d nodes, %d features", m->trees[0]->n, m->d);
    else if (!isnan(m->oob_auc))
        snprintf(buf, cap, "%d trees, %d features, OOB AUC %.4f", m->ntrees, m->d, m->oob_auc);
    else
        snprintf(buf, cap, "%d trees, %d features", m->ntrees, m->d);
    return buf;
}

static int ops_fit(void *impl, const float *X, const float *y, int64_t n, int64_t d,
                   const cl_fit_opts *o, cl_model_history *h, const cl_progress *p)
{
    cl_forest *m = impl;
    cl_tensor tx, ty;
    cl_storage sx, sy;
    int rc = cl_forest_fit_dist(m, cl_tensor_borrow(&tx, &sx, X, n, d),
                                cl_tensor_borrow(&ty, &sy, y, n, 1), o->is_cat, o->w, o->dist, p);
    if (rc)
        return rc;
    if (m->kind == CL_FOREST_KIND_TREE)
        cl_model_history_scalar(h, "nodes", m->trees[0]->n, 0);
    else
        cl_model_history_scalar(h, "trees", m->ntrees, 0);
    if (!isnan(m->oob_auc))
        cl_model_history_scalar(h, "oob_auc", m->oob_auc, 0);
    return CL_OK;
}

static int ops_predict(const void *impl, const float *X, int64_t n, int64_t d, float *out,
                       int mode)
{
    cl_tensor t;
    cl_storage s;
    return cl_forest_predict_mode(impl, out, cl_tensor_borrow(&t, &s, X, n, d), mode);
}

/* On the margin scale of a forest: the mean leaf probability, before prior correction. */
static int ops_contrib(const void *impl, const float *X, int64_t n, int64_t d, const float *ref,
                       float *phi)
{
    (void)ref;
    const cl_forest *m = impl;
    if (!m->fitted)
        return cl_error(CL_ESTATE, "%s: contributions before fit", kind_name(m->kind));
    return cl_treeshap((const cl_tree *const *)m->trees, m->ntrees, X, (size_t)n, (int)d, 0.0,
                       1.0 / m->ntrees, phi);
}

#define FOREST_OPS(KIND, TITLE, DEFS, DEFAULTS, CREATE)                                         \
    {.kind = KIND, .title = TITLE, .defs = DEFS, .params_size = sizeof(cl_forest_params),        \
     .defaults = DEFAULTS, .create = CREATE, .free = ops_free, .params_of = ops_params_of,       \
     .fit_flags = CL_FIT_CATEGORICAL | CL_FIT_WEIGHTS | CL_FIT_DIST, .fit = ops_fit,            \
     .fitted = ops_fitted,                                                                       \
     .set_names = ops_set_names, .name = ops_name, .prior = ops_prior,                           \
     .describe = ops_describe, .read = ops_read, .write = ops_write,                             \
     .n_features = ops_n_features, .predict = ops_predict, .contrib = ops_contrib}
const cl_model_ops cl_forest_model_ops =
    FOREST_OPS("forest", "Forest", cl_forest_param_defs, forest_defaults, forest_create);
const cl_model_ops cl_forest_tree_model_ops =
    FOREST_OPS("tree", "Tree", cl_forest_cart_param_defs, tree_defaults, tree_create);
