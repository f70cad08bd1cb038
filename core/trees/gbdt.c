/* gbdt.c - gradient boosting on histograms (see gbdt.h). */
#include "trees/gbdt.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "models/prior.h"
#include "eval/metrics.h"
#include "base/error.h"
#include "base/modelio.h"
#include "base/threads.h"
#include "trees/ensemble.h"
#include "trees/predict.h"
#include "trees/tree_grow.h"
#include "trees/treeshap.h"

const cl_param_def cl_gbdt_param_defs[] = {
    {"objective", CL_PARAM_ENUM, offsetof(cl_gbdt_params, objective), 0, 0, 0,
     "logistic|squared", "loss: binary log-loss on 0/1 labels, or squared error"},
    {"trees", CL_PARAM_INT, offsetof(cl_gbdt_params, trees), 100, 1, 100000, NULL,
     "boosting rounds (upper bound with early stopping)"},
    {"lr", CL_PARAM_NUM, offsetof(cl_gbdt_params, lr), 0.1, 1e-6, 1, NULL,
     "learning rate (shrinkage of each tree)"},
    {"depth", CL_PARAM_INT, offsetof(cl_gbdt_params, depth), 6, 0, 64, NULL,
     "maximum depth (0 = unlimited; then `leaves` must bound the tree)"},
    {"leaves", CL_PARAM_INT, offsetof(cl_gbdt_params, leaves), 0, 0, 65536, NULL,
     "0 = depth-wise growth; >= 2 = leaf-wise (best-first) growth with at most this many leaves"},
    {"min_child_weight", CL_PARAM_NUM, offsetof(cl_gbdt_params, min_child_weight), 1, 0, 1e12,
     NULL, "minimum hessian sum in a child"},
    {"lambda", CL_PARAM_NUM, offsetof(cl_gbdt_params, lambda), 1, 0, 1e12, NULL,
     "L2 penalty on leaf weights"},
    {"alpha", CL_PARAM_NUM, offsetof(cl_gbdt_params, alpha), 0, 0, 1e12, NULL,
     "L1 penalty on leaf weights"},
    {"gamma", CL_PARAM_NUM, offsetof(cl_gbdt_params, gamma), 0, 0, 1e12, NULL,
     "minimum loss reduction to make a split"},
    {"subsample", CL_PARAM_NUM, offsetof(cl_gbdt_params, subsample), 1, 1e-6, 1, NULL,
     "fraction of rows sampled for each tree"},
    {"colsample", CL_PARAM_NUM, offsetof(cl_gbdt_params, colsample), 1, 1e-6, 1, NULL,
     "fraction of features sampled for each tree"},
    {"max_bins", CL_PARAM_INT, offsetof(cl_gbdt_params, max_bins), 255, 2, 255, NULL,
     "histogram bins per feature (plus one for missing values)"},
    {"scale_pos_weight", CL_PARAM_NUM, offsetof(cl_gbdt_params, scale_pos_weight), 1, 1e-6,
     1e6, NULL, "weight of positive rows (logistic)"},
    {"seed", CL_PARAM_SEED, offsetof(cl_gbdt_params, seed), 42, 0, 0, NULL,
     "random seed (row and feature sampling, binning sample)"},
    {"prior_correction", CL_PARAM_BOOL, offsetof(cl_gbdt_params, prior_correction), 1, 0, 1,
     NULL, "after scale_pos_weight: map probabilities back to the true churn rate (predict)"},
    {"monotone", CL_PARAM_INTS, offsetof(cl_gbdt_params, monotone), 0, -1, 1, NULL,
     "monotone constraints, one per feature (XGBoost's monotone_constraints): 1 = the output "
     "never falls as the feature rises, -1 = never rises, 0 = free; {} = none (up to 16 "
     "features; numeric splits only)"},
    {"interactions", CL_PARAM_INTS, offsetof(cl_gbdt_params, interactions), 0, 0, 1073741823,
     NULL, "interaction constraints (XGBoost's interaction_constraints), one entry per feature: "
     "the bitmask of the constraint sets holding it (1 = set 1, 2 = set 2, 3 = both, 0 = none). "
     "A branch may only split on features of a set that holds every feature already on its "
     "path; the root may split on any. XGBoost's [[0, 1], [1, 2]] is {1, 3, 2}. {} = none (up "
     "to 16 features)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL},
};

cl_gbdt_params cl_gbdt_params_default(void)
{
    cl_gbdt_params p;
    memset(&p, 0, sizeof p);
    cl_param_defaults(cl_gbdt_param_defs, &p);
    return p;
}

static int check_params(const cl_gbdt_params *p)
{
    int rc = cl_param_validate(cl_gbdt_param_defs, p, "gbdt");
    if (rc)
        return rc;
    if (p->depth == 0 && p->leaves == 0)
        return cl_error(CL_EINVAL, "gbdt: depth = 0 (unlimited) needs leaves >= 2 to bound "
                                   "the trees");
    if (p->leaves == 1)
        return cl_error(CL_EINVAL, "gbdt: parameter 'leaves' must be 0 (depth-wise) or >= 2, "
                                   "got 1");
    return CL_OK;
}

int cl_gbdt_new(cl_gbdt **out, const cl_gbdt_params *p)
{
    *out = NULL;
    int rc = check_params(p);
    if (rc)
        return rc;
    cl_gbdt *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->params = *p;
    m->best_iter = -1;
    m->prior_trained = m->prior_true = NAN;
    *out = m;
    return CL_OK;
}

/* The scoring pack of the current trees, or none (before a fit, while fitting): built once
 * here, never inside predict, so concurrent predicts only read it. Out of memory leaves no
 * pack (predict packs per call: the same outputs). */
static void repack(cl_gbdt *m)
{
    cl_predict_pack_free(m->pack);
    m->pack = NULL;
    cl_treeshap_plan_free(atomic_exchange(&m->shap, NULL)); /* built again when asked */
    if (m->fitted && m->ntrees > 0 &&
        cl_predict_pack_new(&m->pack, (const cl_tree *const *)m->trees, m->ntrees))
        m->pack = NULL;
}

static void reset(cl_gbdt *m)
{
    m->fitted = 0;
    repack(m);
    for (int t = 0; t < m->ntrees; t++)
        cl_tree_free(m->trees[t]);
    cl_alloc_free(m->trees);
    m->trees = NULL;
    m->ntrees = m->cap = 0;
    cl_binning_free(m->bins);
    m->bins = NULL;
    m->fitted = 0;
    m->best_iter = -1;
    m->prior_trained = m->prior_true = NAN;
}

void cl_gbdt_free(cl_gbdt *m)
{
    if (!m)
        return;
    reset(m);
    cl_alloc_strs_free(m->names, m->d);
    cl_alloc_free(m);
}

int cl_gbdt_set_names(cl_gbdt *m, const char *const *names, int d)
{
    return cl_ensemble_set_names(&m->names, &m->d, names, d);
}

static int push_tree(cl_gbdt *m, cl_tree *t)
{
    if (m->ntrees == m->cap) {
        int cap = m->cap ? 2 * m->cap : 64;
        cl_tree **nt = cl_alloc_realloc(m->trees, (size_t)cap * sizeof *nt);
        if (!nt)
            return CL_ENOMEM;
        m->trees = nt;
        m->cap = cap;
    }
    m->trees[m->ntrees++] = t;
    return CL_OK;
}

/* Metric of margins against labels; smaller is better after `sign`. */
static double eval_metric(int metric, int objective, const double *margin, const float *y,
                          size_t n, double *scratch)
{
    if (metric == CL_GBDT_METRIC_AUC) {
        /* Scores rounded to float as they always were here, so early stopping sees the same
         * ties and stops at the same tree as in models trained before. */
        double auc;
        for (size_t i = 0; i < n; i++)
            scratch[i] = (float)margin[i];
        return cl_metrics_auc(&auc, scratch, y, (int64_t)n) ? NAN : auc;
    }
    double s = 0;
    if (metric == CL_GBDT_METRIC_RMSE) {
        for (size_t i = 0; i < n; i++) {
            double p = objective == CL_GBDT_LOGISTIC ? 1 / (1 + exp(-margin[i])) : margin[i];
            s += (p - y[i]) * (p - y[i]);
        }
        return sqrt(s / (double)n);
    }
    for (size_t i = 0; i < n; i++) { /* log-loss from margins, stable */
        double z = margin[i];
        double l = z > 0 ? z + log1p(exp(-z)) : log1p(exp(z));
        s += l - y[i] * z;
    }
    return s / (double)n;
}

static const char *metric_name(int metric)
{
    return metric == CL_GBDT_METRIC_AUC ? "auc" : metric == CL_GBDT_METRIC_RMSE ? "rmse"
                                                                                : "logloss";
}

/* Truncates the ensemble to its first k trees. */
static void truncate_trees(cl_gbdt *m, int k)
{
    for (int t = k; t < m->ntrees; t++)
        cl_tree_free(m->trees[t]);
    if (k < m->ntrees)
        m->ntrees = k;
}

/* Margins of the rows of X (n x d) under the first `ntrees` trees, accumulated in double in
 * tree order as the boosting loop does, so a continued fit starts from the very margins the
 * loop had (the float walk reaches the same leaf as the binned one: thresholds are the bin
 * boundaries). */
static void replay_margins(const cl_gbdt *m, int ntrees, const float *X, size_t n, int d,
                           double *margin, int nth)
{
#pragma omp parallel for schedule(static) num_threads(nth) if (n > 16384)
    for (size_t i = 0; i < n; i++) {
        double s = m->base;
        for (int t = 0; t < ntrees; t++)
            s += m->trees[t]->nodes[cl_tree_leaf(m->trees[t], X + i * (size_t)d)].value;
        margin[i] = s;
    }
}

/* One boosting round's gradient step: the log-loss (scale_pos_weight on the positives) or
 * squared-error gradient and hessian of every row at its current margin, times its sample
 * weight. Fixed row blocks: thread-count independent. A distributed fit calls this on each
 * rank's rows; the hessian floor keeps the leaf weights finite on saturated rows. */
static void gradients(const cl_gbdt_params *p, int logistic, const float *ylab, const float *sw,
                      const double *margin, size_t n, int nth, float *grad, float *hess)
{
    const size_t blk = 16384, nblk = (n + blk - 1) / blk;
#pragma omp parallel for schedule(static) num_threads(nth) if (nblk > 2)
    for (size_t q = 0; q < nblk; q++) {
        size_t i1 = (q + 1) * blk < n ? (q + 1) * blk : n;
        for (size_t i = q * blk; i < i1; i++) {
            double yy = ylab[i];
            if (logistic) {
                double pr = 1 / (1 + exp(-margin[i]));
                double w = yy > 0.5 ? p->scale_pos_weight : 1.0;
                double hh = pr * (1 - pr);
                if (sw)
                    w *= sw[i];
                grad[i] = (float)((pr - yy) * w);
                hess[i] = (float)((hh > 1e-16 ? hh : 1e-16) * w);
            } else if (sw) {
                grad[i] = (float)((margin[i] - yy) * sw[i]);
                hess[i] = sw[i];
            } else {
                grad[i] = (float)(margin[i] - yy);
                hess[i] = 1.0f;
            }
        }
    }
}

/* The tree grower's parameters for every round (depth- or leaf-wise, histogram subtraction,
 * the constraints; mono and ic NULL when there are none, so the unconstrained arithmetic
 * stays bit for bit). */
static cl_tree_grow_params grow_params(const cl_gbdt_params *p, int nth, cl_dist *dist,
                                  const int8_t *mono, const uint32_t *ic)
{
    cl_tree_grow_params gp;
    memset(&gp, 0, sizeof gp);
    gp.sp.lambda = p->lambda;
    gp.sp.alpha = p->alpha;
    gp.sp.gamma = p->gamma;
    gp.sp.min_child_weight = p->min_child_weight;
    gp.max_depth = p->depth;
    gp.max_leaves = p->leaves;
    gp.mtry = 0;
    gp.lr = p->lr;
    gp.subtract = 1;
    gp.nthreads = nth;
    gp.dist = dist;
    gp.mono = mono;
    gp.ic = ic;
    return gp;
}

/* ---- one fit, in the steps of LightGBM's GBDT::Train: set up the rows, boost from the
 * average, then per round TrainOneIter (train_one_iter), UpdateScore (update_score) and
 * EvalAndCheckEarlyStopping (eval_and_check_stop) ---- */

/* A fit's state: the checked options, the binned rows with their labels, gradients and
 * margins, the validation margins, and where this rank's rows sit among every rank's. */
typedef struct boost {
    cl_gbdt *m;
    const cl_gbdt_params *p;
    const cl_gbdt_fit_opts *o;
    const cl_progress *progress;
    int logistic, metric, d, nth, nranks;
    int t0; /* rounds kept from before (warm start) */
    cl_dist *dist;
    size_t n, nv;          /* this rank's training and validation rows */
    size_t ng, first, nvg; /* every rank's rows, this rank's first one, every rank's validation rows */
    cl_tensor *Xc, *Xvc, *yc;
    const float *Xd;
    uint8_t *bins;
    float *yv, *grad, *hess, *vtmp;
    const float *ylab; /* the labels: y's own data (a contiguous view of it in yc) */
    double *scratch, *margin, *vmargin;
    double *vall; /* distributed: the validation margins of every rank */
    float *yvall;
    int64_t *counts, *vbytes;
    uint32_t *rows;
    int *feats, *missing;
    cl_tree_grow_ws *ws;
    cl_tree_grow_params gp;
    int8_t mono[CL_PARAM_MAXINTS];
    uint32_t ic[CL_PARAM_MAXINTS];
    int mono_any;
    double best;   /* the validation score of best_iter */
    int best_iter; /* -1 before the first validated round */
} boost;

/* What a fit refuses before it changes anything: the rows and labels, the validation set, the
 * metric for the objective, one monotone sign and one interaction mask per feature. */
static int check_fit(const cl_gbdt *m, const cl_tensor *X, const cl_tensor *y,
                     const cl_gbdt_fit_opts *o, int *metric)
{
    const cl_gbdt_params *p = &m->params;
    int logistic = p->objective == CL_GBDT_LOGISTIC;
    int rc = cl_tree_ens_check_xy(X, y, logistic, "gbdt fit");
    if (rc)
        return rc;
    int d = (int)cl_tensor_cols(X);
    if (o->early_stop < 0)
        return cl_error(CL_EINVAL, "gbdt fit: early_stop must be >= 0, got %d", o->early_stop);
    if (o->early_stop > 0 && !o->Xv)
        return cl_error(CL_EINVAL, "gbdt fit: early_stop needs a validation set (valid = {Xv, yv})");
    if (o->Xv) {
        if ((rc = cl_tree_ens_check_xy(o->Xv, o->yv, logistic, "gbdt fit (validation set)")))
            return rc;
        if (!o->yv)
            return cl_error(CL_EINVAL, "gbdt fit: validation set needs labels");
        if (cl_tensor_cols(o->Xv) != d)
            return cl_error(CL_EINVAL, "gbdt fit: validation set has %lld features, X has %d",
                            (long long)cl_tensor_cols(o->Xv), d);
    }
    *metric = o->metric;
    if (*metric == CL_GBDT_METRIC_AUTO)
        *metric = logistic ? CL_GBDT_METRIC_LOGLOSS : CL_GBDT_METRIC_RMSE;
    if (*metric == CL_GBDT_METRIC_AUC && !logistic)
        return cl_error(CL_EINVAL, "gbdt fit: metric 'auc' needs the logistic objective");
    if (p->monotone.n != 0 && p->monotone.n != d)
        return cl_error(CL_EINVAL, "gbdt fit: parameter 'monotone' has %d entries, X has %d "
                        "features (give one per feature, 0 = free)", p->monotone.n, d);
    if (p->interactions.n != 0 && p->interactions.n != d)
        return cl_error(CL_EINVAL, "gbdt fit: parameter 'interactions' has %d entries, X has %d "
                        "features (give one set bitmask per feature, 0 = in no set)",
                        p->interactions.n, d);
    return CL_OK;
}

/* A fresh fit drops the old model (and names given for another width). A warm start keeps
 * the trees and the base, sets the new round count and parks the old bins in *old_bins, to
 * be restored if the continuation fails; it refuses before changing anything. */
static int begin_fit(cl_gbdt *m, int d, int more, const cl_gbdt_fit_opts *o,
                     cl_binning **old_bins)
{
    if (!more) {
        if (m->names && m->d != d) {
            cl_alloc_strs_free(m->names, m->d);
            m->names = NULL;
        }
        reset(m);
        return CL_OK;
    }
    if (!m->fitted)
        return cl_error(CL_ESTATE, "gbdt fit_more: the model is not fitted (call fit first)");
    if (d != m->d)
        return cl_error(CL_EINVAL, "gbdt fit_more: X has %d features, the model was fitted "
                        "on %d", d, m->d);
    if (o->Xv || o->early_stop)
        return cl_error(CL_ENOTSUP, "gbdt fit_more: a validation set and early stopping "
                        "are not supported when continuing a fit");
    if (more > 100000 - m->ntrees)
        return cl_error(CL_EINVAL, "gbdt fit_more: %d more trees on %d exceeds 100000",
                        more, m->ntrees);
    m->params.trees = m->ntrees + more;
    m->best_iter = -1;
    *old_bins = m->bins;
    m->bins = NULL;
    return CL_OK;
}

static void boost_init(boost *b, cl_gbdt *m, const cl_tensor *X, const cl_gbdt_fit_opts *o,
                       int t0, const cl_progress *progress)
{
    memset(b, 0, sizeof *b);
    b->m = m;
    b->p = &m->params;
    b->o = o;
    b->progress = progress;
    b->logistic = m->params.objective == CL_GBDT_LOGISTIC;
    b->metric = m->metric;
    b->d = m->d;
    b->nth = cl_threads_get();
    b->dist = o->dist;
    b->nranks = cl_dist_size(o->dist);
    b->t0 = t0;
    b->n = b->ng = (size_t)cl_tensor_rows(X);
    b->nv = b->nvg = o->Xv ? (size_t)cl_tensor_rows(o->Xv) : 0;
    for (int j = 0; j < b->p->interactions.n; j++)
        b->ic[j] = (uint32_t)b->p->interactions.v[j];
    for (int j = 0; j < b->p->monotone.n; j++) {
        b->mono[j] = (int8_t)b->p->monotone.v[j];
        b->mono_any |= b->mono[j] != 0;
    }
    b->best_iter = -1;
}

static void boost_free(boost *b)
{
    cl_tensor_free(b->Xc);
    cl_tensor_free(b->Xvc);
    cl_tensor_free(b->yc);
    cl_alloc_free(b->bins);
    cl_alloc_free(b->grad);
    cl_alloc_free(b->hess);
    cl_alloc_free(b->margin);
    cl_alloc_free(b->rows);
    cl_alloc_free(b->feats);
    cl_alloc_free(b->missing);
    cl_alloc_free(b->yv);
    cl_alloc_free(b->vmargin);
    cl_alloc_free(b->vtmp);
    cl_alloc_free(b->scratch);
    cl_alloc_free(b->vall);
    cl_alloc_free(b->yvall);
    cl_alloc_free(b->counts);
    cl_alloc_free(b->vbytes);
    cl_tree_grow_ws_free(b->ws);
}

/* Distributed: every rank's row count (this rank's first global row) and validation rows,
 * and the checks that the ranks agree on validating and on early stopping. */
static int share_rows(boost *b)
{
    if (b->nranks <= 1)
        return CL_OK;
    int64_t v[3] = {b->o->Xv != NULL, (int64_t)b->nv, b->o->early_stop};
    int rc = cl_dist_sum_small(b->dist, v, 3);
    if (rc)
        return rc;
    if (v[0] != 0 && v[0] != b->nranks)
        return cl_error(CL_EINVAL, "gbdt fit: a validation set on %d of %d ranks (give every "
                        "rank its block of it, or none)", (int)v[0], b->nranks);
    if (v[2] != (int64_t)b->o->early_stop * b->nranks)
        return cl_error(CL_EINVAL, "gbdt fit: early_stop differs between the ranks");
    b->nvg = (size_t)v[1];
    b->counts = cl_alloc((size_t)b->nranks * sizeof *b->counts);
    b->vbytes = cl_alloc((size_t)b->nranks * sizeof *b->vbytes);
    if (!b->counts || !b->vbytes)
        return CL_ENOMEM;
    if ((rc = cl_dist_gather_i64(b->dist, (int64_t)b->n, b->counts)))
        return rc;
    b->ng = 0;
    for (int r = 0; r < b->nranks; r++) {
        if (r == cl_dist_rank(b->dist))
            b->first = b->ng;
        b->ng += (size_t)b->counts[r];
    }
    if (b->nv)
        rc = cl_dist_gather_i64(b->dist, (int64_t)(b->nv * sizeof *b->vall), b->vbytes);
    return rc;
}

/* The bins (fitted on every rank's rows, with the kept trees' categorical flags on a warm
 * start), the binned rows, the labels and the buffers every round reuses. */
static int setup_rows(boost *b, const cl_tensor *X, const cl_tensor *y, const uint8_t *is_cat)
{
    cl_gbdt *m = b->m;
    size_t n = b->n, nv = b->nv, nvg = b->nvg;
    int d = b->d;
    /* views, not copies, of contiguous X and y (a copy of the labels was 4 bytes a row) */
    int rc = cl_tensor_contiguous(&b->Xc, X);
    if (rc || (rc = cl_tensor_contiguous(&b->yc, y)) ||
        (b->o->Xv && (rc = cl_tensor_contiguous(&b->Xvc, b->o->Xv))))
        return rc;
    b->Xd = cl_tensor_data(b->Xc);
    b->ylab = cl_tensor_data(b->yc);
    if ((rc = cl_binning_new(&m->bins, b->p->max_bins, b->p->seed)) ||
        (rc = cl_binning_fit_dist(m->bins, b->Xd, n, d, is_cat, b->dist)))
        return rc;
    size_t nb;
    if (!cl_alloc_mul_size(n, (size_t)d, &nb))
        return CL_ERANGE;
    b->bins = cl_alloc(nb);
    b->grad = cl_alloc(n * sizeof *b->grad);
    b->hess = cl_alloc(n * sizeof *b->hess);
    b->margin = cl_alloc(n * sizeof *b->margin);
    b->rows = cl_alloc(n * sizeof *b->rows);
    b->feats = cl_alloc((size_t)d * sizeof *b->feats);
    b->missing = cl_alloc((size_t)d * sizeof *b->missing);
    if (nv) {
        b->yv = cl_alloc(nv * sizeof *b->yv);
        b->vmargin = cl_alloc(nv * sizeof *b->vmargin);
        b->vtmp = cl_alloc(nv * sizeof *b->vtmp);
        b->scratch = cl_alloc(nvg * sizeof *b->scratch);
        if (b->nranks > 1) {
            b->vall = cl_alloc(nvg * sizeof *b->vall);
            b->yvall = cl_alloc(nvg * sizeof *b->yvall);
        }
    }
    if (!b->bins || !b->grad || !b->hess || !b->margin || !b->rows || !b->feats ||
        !b->missing || (nv && (!b->yv || !b->vmargin || !b->vtmp || !b->scratch ||
                               (b->nranks > 1 && (!b->vall || !b->yvall)))))
        return CL_ENOMEM;
    cl_binning_apply(m->bins, b->Xd, n, b->bins);
    for (int j = 0; j < d; j++)
        b->missing[j] = m->bins->nbins[j];
    for (size_t i = 0; i < nv; i++)
        b->yv[i] = *cl_tensor_ptr(b->o->yv, (int64_t)i, 0);
    if (nv && b->nranks > 1) { /* the validation labels of every rank, in rank order */
        for (int r = 0; r < b->nranks; r++)
            b->counts[r] = b->vbytes[r] / (int64_t)sizeof *b->vall * (int64_t)sizeof *b->yvall;
        rc = cl_dist_allgatherv(b->dist, b->yv, b->yvall, b->counts);
    }
    return rc;
}

/* The base margin (LightGBM's BoostFromAverage): the weighted mean label (log-odds for
 * logistic) from exact global sums, the count of positive labels (0/1 labels) or the exact
 * sum of the float labels; the prior rates behind the prior correction. A warm start keeps
 * the base the kept trees were grown from. */
static int boost_from_average(boost *b, int more)
{
    cl_gbdt *m = b->m;
    const cl_gbdt_params *p = b->p;
    const float *w = b->o->w;
    const size_t n = b->n;
    const double base_kept = m->base;
    int64_t cnt[2] = {0, (int64_t)n};
    for (size_t i = 0; i < n; i++)
        cnt[0] += b->ylab[i] > 0.5f;
    int rc = cl_dist_sum_small(b->dist, cnt, 2);
    if (rc)
        return rc;
    double npos = (double)cnt[0], nall = (double)cnt[1], sw, sy;
    if (w) { /* weighted: exact sums (cl_fsum) over every rank of the weights of the positive
              * rows and of the others (logistic), or of w and w y */
        cl_fsum fa, fb;
        cl_dist_fsum_init(&fa);
        cl_dist_fsum_init(&fb);
        for (size_t i = 0; i < n; i++) {
            if (b->logistic) {
                cl_dist_fsum_add(b->ylab[i] > 0.5f ? &fa : &fb, w[i]);
            } else {
                cl_dist_fsum_add(&fa, w[i] * b->ylab[i]);
                cl_dist_fsum_add(&fb, w[i]);
            }
        }
        if ((rc = cl_dist_fsum_reduce(b->dist, &fa)) || (rc = cl_dist_fsum_reduce(b->dist, &fb)))
            return rc;
        sy = cl_dist_fsum_value(&fa) * (b->logistic ? p->scale_pos_weight : 1.0);
        sw = b->logistic ? sy + cl_dist_fsum_value(&fb) : cl_dist_fsum_value(&fb);
        if (!(sw > 0))
            return cl_error(CL_EINVAL, "gbdt fit: the sample weights add up to 0");
        if (b->logistic)
            cl_prior_rates(npos, nall, p->scale_pos_weight, 1.0, &m->prior_trained,
                           &m->prior_true);
    } else if (b->logistic) {
        sy = npos * p->scale_pos_weight;
        sw = sy + (nall - npos);
        cl_prior_rates(npos, nall, p->scale_pos_weight, 1.0, &m->prior_trained, &m->prior_true);
    } else {
        cl_fsum fs;
        cl_dist_fsum_init(&fs);
        for (size_t i = 0; i < n; i++)
            cl_dist_fsum_add(&fs, b->ylab[i]);
        if ((rc = cl_dist_fsum_reduce(b->dist, &fs)))
            return rc;
        sy = cl_dist_fsum_value(&fs);
        sw = nall;
    }
    double mean = sy / sw;
    if (b->logistic) {
        mean = mean < 1e-6 ? 1e-6 : mean > 1 - 1e-6 ? 1 - 1e-6 : mean;
        m->base = log(mean / (1 - mean));
    } else {
        m->base = mean;
    }
    /* the base is stored as a float in exports; keep it exactly representable */
    m->base = (double)(float)m->base;
    if (more) /* the kept trees were grown from the kept base */
        m->base = base_kept;
    return CL_OK;
}

/* The margins boosting starts from: the base, or on a warm start the kept trees' margins. */
static void init_scores(boost *b, int more)
{
    if (more) {
        replay_margins(b->m, b->t0, b->Xd, b->n, b->d, b->margin, b->nth);
    } else {
        for (size_t i = 0; i < b->n; i++)
            b->margin[i] = b->m->base;
    }
    for (size_t i = 0; i < b->nv; i++)
        b->vmargin[i] = b->m->base;
}

/* This round's rows into b->rows (all of them, or a subsample): one draw per global row, so
 * every rank walks the whole stream and keeps its own rows (O(global rows) per tree; the
 * stream is the one-process stream). Returns their number. */
static size_t sample_rows(boost *b, cl_rng *rng)
{
    size_t m_rows = 0, n = b->n, first = b->first;
    if (b->p->subsample >= 1) {
        for (size_t i = 0; i < n; i++)
            b->rows[i] = (uint32_t)i;
        return n;
    }
    uint64_t cut = (uint64_t)(b->p->subsample * 18446744073709551616.0);
    size_t taken = 0;
    for (size_t i = 0; i < b->ng; i++)
        if (cl_rng_next(rng) < cut) {
            taken++;
            if (i - first < n) /* unsigned: i in [first, first + n) */
                b->rows[m_rows++] = (uint32_t)(i - first);
        }
    if (taken == 0) {
        size_t i = (size_t)cl_rng_below(rng, b->ng);
        if (i - first < n)
            b->rows[m_rows++] = (uint32_t)(i - first);
    }
    return m_rows;
}

/* This round's features into b->feats (all, or round(colsample d) of them by selection
 * sampling, in order). Returns their number. */
static int sample_features(boost *b, cl_rng *rng)
{
    int nf = 0, d = b->d;
    if (b->p->colsample >= 1) {
        for (int j = 0; j < d; j++)
            b->feats[j] = j;
        return d;
    }
    int k = (int)floor(b->p->colsample * d + 0.5);
    k = k < 1 ? 1 : k;
    for (int j = 0; j < d && nf < k; j++)
        if (cl_rng_below(rng, (uint64_t)(d - j)) < (uint64_t)(k - nf))
            b->feats[nf++] = j;
    return nf;
}

/* TrainOneIter: gradients at the current margins, round t's rows and features from its own
 * random stream (seeded by the round number, so a warm start continues the streams), and one
 * tree grown on them and kept in the model. The tree's leaves (their row ranges in b->rows)
 * and the number of sampled rows are for update_score. */
static int train_one_iter(boost *b, int t, cl_tree **out, const cl_tree_grow_leaf **leaves,
                          int *nleaves, size_t *m_rows)
{
    gradients(b->p, b->logistic, b->ylab, b->o->w, b->margin, b->n, b->nth, b->grad, b->hess);
    cl_rng rng;
    cl_rng_seed(&rng, b->p->seed + 0x9e3779b97f4a7c15ull * (uint64_t)(t + 1));
    *m_rows = sample_rows(b, &rng);
    int nf = sample_features(b, &rng);
    cl_tree *tree;
    int rc = cl_tree_new(&tree);
    if (rc)
        return rc;
    rc = cl_tree_grow(tree, b->m->bins, b->bins, b->n, b->grad, b->hess, b->rows, *m_rows,
                      b->feats, nf, &b->gp, &rng, b->ws, leaves, nleaves);
    if (rc || (rc = push_tree(b->m, tree))) {
        cl_tree_free(tree);
        return rc;
    }
    *out = tree;
    return CL_OK;
}

/* UpdateScore: adds the new tree to the training margins. With every row in the tree its
 * leaves hold the rows (no walk); after subsampling every row walks the tree, in fixed row
 * blocks. */
static void update_score(boost *b, const cl_tree *tree, const cl_tree_grow_leaf *leaves, int nleaves,
                         size_t m_rows)
{
    const size_t n = b->n;
    const int nth = b->nth;
    double *margin = b->margin;
    if (m_rows == n) {
        const uint32_t *rows = b->rows;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) if (n > 65536)
        for (int l = 0; l < nleaves; l++) {
            double v = tree->nodes[leaves[l].node].value;
            for (size_t k = leaves[l].start; k < leaves[l].end; k++)
                margin[rows[k]] += v;
        }
        return;
    }
    const uint8_t *bins = b->bins;
    const int *missing = b->missing;
    const size_t blk = 16384, nblk = (n + blk - 1) / blk;
#pragma omp parallel for schedule(static) num_threads(nth) if (nblk > 2)
    for (size_t q = 0; q < nblk; q++) {
        size_t i1 = (q + 1) * blk < n ? (q + 1) * blk : n;
        for (size_t i = q * blk; i < i1; i++)
            margin[i] += tree->nodes[cl_tree_leaf_binned(tree, bins, n, i, missing)].value;
    }
}

/* The validation metric after round t (on every rank's validation rows), kept as the best
 * when it improves; its text for the progress line goes to detail. */
static int validate(boost *b, const cl_tree *tree, int t, char *detail, size_t cap)
{
    const size_t nv = b->nv;
    const cl_tree *one[1] = {tree};
    cl_tree_ens_predict(one, 1, cl_tensor_data(b->Xvc), nv, b->d, 0.0, 1.0, b->vtmp);
    for (size_t i = 0; i < nv; i++)
        b->vmargin[i] += b->vtmp[i];
    const double *vm = b->vmargin;
    const float *vy = b->yv;
    if (b->nranks > 1) { /* the metric of the whole validation set, on every rank */
        int rc = cl_dist_allgatherv(b->dist, b->vmargin, b->vall, b->vbytes);
        if (rc)
            return rc;
        vm = b->vall;
        vy = b->yvall;
    }
    double sc = eval_metric(b->metric, b->p->objective, vm, vy, b->nvg, b->scratch);
    int higher_better = b->metric == CL_GBDT_METRIC_AUC;
    if (b->best_iter < 0 || (higher_better ? sc > b->best : sc < b->best)) {
        b->best = sc;
        b->best_iter = t;
    }
    snprintf(detail, cap, "valid %s %.5f", metric_name(b->metric), sc);
    b->m->best_iter = b->best_iter;
    b->m->best_score = b->best;
    return CL_OK;
}

/* EvalAndCheckEarlyStopping: validates round t, reports progress (an interrupted rank stops
 * every rank: CL_EINTR), and sets *stop after early_stop rounds without improvement. */
static int eval_and_check_stop(boost *b, const cl_tree *tree, int t, int *stop)
{
    char detail[64] = "";
    int rc = b->nv ? validate(b, tree, t, detail, sizeof detail) : CL_OK;
    if (rc)
        return rc;
    rc = cl_progress_step(b->progress, "gbdt", t + 1 - b->t0, b->p->trees - b->t0, detail);
    if ((rc = cl_dist_agree(b->dist, rc)))
        return rc;
    *stop = b->o->early_stop > 0 && t - b->best_iter >= b->o->early_stop;
    return CL_OK;
}

/* The rounds t0 .. trees - 1; with early stopping the trees after the best round go. */
static int boost_rounds(boost *b)
{
    int rc = cl_tree_grow_ws_new(&b->ws, b->n, cl_binning_total(b->m->bins), b->d);
    if (rc)
        return rc;
    b->gp = grow_params(b->p, b->nth, b->dist, b->mono_any ? b->mono : NULL,
                        b->p->interactions.n ? b->ic : NULL);
    b->m->fitted = 1; /* from here on the model is valid with the trees built so far */
    int stop = 0;
    for (int t = b->t0; t < b->p->trees && !rc && !stop; t++) {
        cl_tree *tree;
        const cl_tree_grow_leaf *leaves;
        int nleaves;
        size_t m_rows;
        if ((rc = train_one_iter(b, t, &tree, &leaves, &nleaves, &m_rows)))
            return rc; /* the caller drops the model: no truncation needed */
        update_score(b, tree, leaves, nleaves, m_rows);
        rc = eval_and_check_stop(b, tree, t, &stop);
    }
    if (b->o->early_stop > 0 && b->best_iter >= 0)
        truncate_trees(b->m, b->best_iter + 1);
    return rc;
}

/* A fit from scratch (more = 0), or `more` further rounds on a fitted model (warm start):
 * then the trees so far stay, the base score too, and boosting continues from their margins
 * with round numbers (and so random streams) going on from theirs, so on the same data
 * fit(trees = a) then fit_more(b) is bit for bit fit(trees = a + b). The bins are fitted
 * anew on X (on the same data the same bins). */
static int fit(cl_gbdt *m, const cl_tensor *X, const cl_tensor *y, const cl_gbdt_fit_opts *o,
               int more, const cl_progress *progress)
{
    cl_gbdt_fit_opts none = {0};
    if (!o)
        o = &none;
    int metric = CL_GBDT_METRIC_AUTO;
    int rc = check_fit(m, X, y, o, &metric);
    if (rc)
        return rc;
    const int d = (int)cl_tensor_cols(X);
    const int t0 = more ? m->ntrees : 0; /* rounds kept from before */
    cl_binning *old_bins = NULL;         /* warm start: restored when the fit fails */
    cl_predict_pack_free(m->pack);       /* the trees change: rebuilt when the fit ends */
    m->pack = NULL;
    cl_treeshap_plan_free(atomic_exchange(&m->shap, NULL));
    if ((rc = begin_fit(m, d, more, o, &old_bins)))
        return rc;
    m->d = d;
    m->metric = metric;
    boost b;
    boost_init(&b, m, X, o, t0, progress);
    if (!(rc = share_rows(&b)) &&
        !(rc = setup_rows(&b, X, y, more ? old_bins->is_cat : o->is_cat)) && /* as the kept trees */
        !(rc = boost_from_average(&b, more))) {
        init_scores(&b, more);
        rc = boost_rounds(&b);
    }
    boost_free(&b);
    if (rc && rc != CL_EINTR && more) { /* a failed continuation leaves the model as it was */
        truncate_trees(m, t0);
        m->params.trees = t0;
        cl_binning_free(m->bins);
        m->bins = old_bins;
        old_bins = NULL;
    } else if (rc && rc != CL_EINTR) {
        reset(m);
    }
    if (rc == CL_EINTR && more)
        m->params.trees = m->ntrees > t0 ? m->ntrees : t0;
    cl_binning_free(old_bins);
    repack(m);
    return rc;
}

int cl_gbdt_fit(cl_gbdt *m, const cl_tensor *X, const cl_tensor *y, const cl_gbdt_fit_opts *o,
                const cl_progress *progress)
{
    cl_dist *dist = o ? o->dist : NULL;
    cl_dist_begin(dist);
    int rc = fit(m, X, y, o, 0, progress);
    /* every rank ends the fit with the same status (a local failure after the last
     * collective reaches the others here); a rank whose fit succeeded drops its model when
     * another's failed, except after an interruption (the trees so far are kept everywhere) */
    rc = cl_dist_agree(dist, rc);
    if (rc && rc != CL_EINTR)
        reset(m);
    return rc;
}

int cl_gbdt_fit_more(cl_gbdt *m, const cl_tensor *X, const cl_tensor *y, int more,
                     const cl_gbdt_fit_opts *o, const cl_progress *progress)
{
    if (more < 1)
        return cl_error(CL_EINVAL, "gbdt fit_more: the number of more trees must be >= 1, got "
                        "%d", more);
    cl_dist *dist = o ? o->dist : NULL;
    cl_dist_begin(dist);
    return cl_dist_agree(dist, fit(m, X, y, o, more, progress));
}

int cl_gbdt_prior(const cl_gbdt *m, double *trained, double *truth)
{
    *trained = m->prior_trained;
    *truth = m->prior_true;
    return m->fitted && m->params.objective == CL_GBDT_LOGISTIC && m->params.prior_correction &&
           cl_prior_needed(*trained, *truth);
}

int cl_gbdt_predict(const cl_gbdt *m, float *out, const cl_tensor *X, int mode)
{
    if (mode < CL_PREDICT_PROB || mode > CL_PREDICT_CORRECTED)
        return cl_error(CL_EINVAL, "gbdt predict: unknown prediction mode %d", mode);
    if (!m->fitted)
        return cl_error(CL_ESTATE, "gbdt: predict before fit");
    int rc = cl_tree_ens_check_xy(X, NULL, 0, "gbdt predict");
    if (rc)
        return rc;
    if (cl_tensor_cols(X) != m->d)
        return cl_error(CL_EINVAL, "gbdt predict: X has %lld features, the model was fitted on %d",
                        (long long)cl_tensor_cols(X), m->d);
    cl_tensor *Xc = NULL; /* a copy only when X is not contiguous (one row never is copied) */
    if (!cl_tensor_is_contiguous(X) && (rc = cl_tensor_contiguous(&Xc, X)))
        return rc;
    const float *x = cl_tensor_data(Xc ? Xc : X);
    size_t n = (size_t)cl_tensor_rows(X);
    if (m->pack)
        cl_predict_pack_run(m->pack, x, n, m->d, m->base, 1.0, out);
    else
        cl_predict_ensemble((const cl_tree *const *)m->trees, m->ntrees, x, n, m->d, m->base,
                            1.0, out);
    cl_tensor_free(Xc);
    double tr, tt;
    cl_gbdt_prior(m, &tr, &tt);
    const int fix = m->params.objective == CL_GBDT_LOGISTIC &&
                    cl_prior_wanted(mode, m->params.prior_correction, tr, tt);
    if (mode != CL_PREDICT_MARGIN && m->params.objective == CL_GBDT_LOGISTIC)
        for (size_t i = 0; i < n; i++) {
            out[i] = (float)(1 / (1 + exp(-(double)out[i])));
            if (fix) /* from the float probability: equals cl_prior_correct of the raw output */
                out[i] = (float)cl_prior_correct(out[i], tr, tt);
        }
    return CL_OK;
}

/* ---- model files ---------------------------------------------------------------------- */

int cl_gbdt_write(const cl_gbdt *m, cl_mw *w)
{
    if (!m->fitted)
        return cl_error(CL_ESTATE, "gbdt: save before fit");
    int rc = cl_ensemble_write_params(w, cl_gbdt_param_defs, &m->params);
    if (rc)
        return rc;
    cl_modelio_w_num(w, "base", m->base);
    cl_modelio_w_int(w, "best_iter", m->best_iter);
    cl_modelio_w_num(w, "best_score", m->best_score);
    cl_modelio_w_int(w, "metric", m->metric);
    cl_prior_write(w, "prior_rates", m->prior_trained, m->prior_true);
    return cl_ensemble_write_body(w, m->d, m->names, m->bins, (const cl_tree *const *)m->trees,
                                  m->ntrees);
}

int cl_gbdt_read(cl_gbdt **out, const cl_mr *r)
{
    *out = NULL;
    int rc = cl_modelio_r_expect_kind(r, "gbdt");
    if (rc)
        return rc;
    cl_gbdt_params p = cl_gbdt_params_default();
    if ((rc = cl_ensemble_read_params(r, cl_gbdt_param_defs, &p, "gbdt")))
        return rc;
    cl_gbdt *m;
    if ((rc = cl_gbdt_new(&m, &p)))
        return cl_error_wrap(rc == CL_ENOMEM ? rc : CL_EFORMAT, "model file");
    int64_t v;
    if ((rc = cl_modelio_r_num(r, "base", &m->base)))
        goto fail;
    if ((rc = cl_modelio_r_int(r, "best_iter", -1, 100000, &v)))
        goto fail;
    m->best_iter = (int)v;
    if ((rc = cl_modelio_r_num(r, "best_score", &m->best_score)))
        goto fail;
    if ((rc = cl_modelio_r_int(r, "metric", 0, 3, &v)))
        goto fail;
    m->metric = (int)v;
    if ((rc = cl_prior_read(r, "prior_rates", &m->prior_trained, &m->prior_true, "gbdt file")))
        goto fail;
    if (!isfinite(m->base)) {
        rc = cl_error(CL_EFORMAT, "model file: base score is not finite");
        goto fail;
    }
    if ((rc = cl_ensemble_read_body(r, &m->d, &m->names, &m->bins, &m->trees, &m->ntrees)))
        goto fail;
    m->cap = m->ntrees;
    /* cross-field: a fit stops at params.trees and early stopping keeps best_iter + 1 trees */
    if (m->ntrees > p.trees || m->best_iter >= m->ntrees) {
        rc = cl_error(CL_EFORMAT, "model file: %d trees stored with param.trees = %d and "
                      "best_iter = %d (expected at most param.trees trees, best_iter below "
                      "their count)", m->ntrees, p.trees, m->best_iter);
        goto fail;
    }
    if ((rc = cl_tree_ens_check_margin((const cl_tree *const *)m->trees, m->ntrees, m->base, 1.0,
                                    "gbdt file")))
        goto fail;
    m->fitted = 1;
    repack(m);
    *out = m;
    return CL_OK;
fail:
    cl_gbdt_free(m);
    return rc;
}

int cl_gbdt_save(const cl_gbdt *m, const char *path)
{
    cl_mw *w = cl_modelio_w_new("gbdt");
    if (!w)
        return CL_ENOMEM;
    int rc = cl_gbdt_write(m, w);
    if (!rc)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    return rc;
}

int cl_gbdt_load(cl_gbdt **out, const char *path)
{
    *out = NULL;
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return rc;
    rc = cl_gbdt_read(out, r);
    cl_modelio_r_free(r);
    return rc;
}

/* ---- the classifier interface (models/model.h) ----------------------------------------- */

static void ops_defaults(void *p) { *(cl_gbdt_params *)p = cl_gbdt_params_default(); }
static int ops_create(void **impl, const void *p) { return cl_gbdt_new((cl_gbdt **)impl, p); }
static void ops_free(void *impl) { cl_gbdt_free(impl); }
static const void *ops_params_of(const void *impl) { return &((const cl_gbdt *)impl)->params; }
static int ops_fitted(const void *impl) { return ((const cl_gbdt *)impl)->fitted; }
static int64_t ops_n_features(const void *impl) { return ((const cl_gbdt *)impl)->d; }
static int ops_read(void **impl, const cl_mr *r) { return cl_gbdt_read((cl_gbdt **)impl, r); }
static int ops_write(const void *impl, cl_mw *w) { return cl_gbdt_write(impl, w); }

static const char *ops_name(const void *impl, int64_t j)
{
    const cl_gbdt *m = impl;
    return cl_ensemble_name(m->names, m->d, j);
}

static int ops_set_names(void *impl, const char *const *names, int64_t d)
{
    if (d > INT32_MAX)
        return cl_error(CL_ERANGE, "gbdt: %lld feature names", (long long)d);
    return cl_gbdt_set_names(impl, names, (int)d);
}

static int ops_prior(const void *impl, double *trained, double *truth)
{
    return cl_gbdt_prior(impl, trained, truth);
}

static const char *ops_describe(const void *impl, char *buf, size_t cap)
{
    const cl_gbdt *m = impl;
    const cl_gbdt_params *p = &m->params;
    const char *obj = p->objective ? "squared" : "logistic";
    if (m->fitted)
        snprintf(buf, cap, "%s %d trees %s %d, %d features", obj, m->ntrees,
                 p->leaves ? "leaves" : "depth", p->leaves ? p->leaves : p->depth, m->d);
    else
        snprintf(buf, cap, "%s (not fitted)", obj);
    return buf;
}

/* The model's rounds and, with a validation set, the best round (1-based) and its score. */
static int ops_fit(void *impl, const float *X, const float *y, int64_t n, int64_t d,
                   const cl_fit_opts *o, cl_model_history *h, const cl_progress *p)
{
    cl_gbdt *m = impl;
    cl_tensor tx, ty, tv, tyv;
    cl_storage sx, sy, sv, syv;
    cl_gbdt_fit_opts fo = {0};
    if (o->Xv) {
        fo.Xv = cl_tensor_borrow(&tv, &sv, o->Xv, o->nv, d);
        fo.yv = cl_tensor_borrow(&tyv, &syv, o->yv, o->nv, 1);
    }
    fo.early_stop = o->early_stop;
    fo.is_cat = o->is_cat;
    fo.metric = o->metric; /* CL_METRIC_* and CL_GBDT_METRIC_* share their values */
    fo.dist = o->dist;
    fo.w = o->w;
    int rc = cl_gbdt_fit(m, cl_tensor_borrow(&tx, &sx, X, n, d), cl_tensor_borrow(&ty, &sy, y, n, 1),
                         &fo, p);
    if (rc)
        return rc;
    cl_model_history_scalar(h, "trees", m->ntrees, 0);
    if (m->best_iter >= 0) {
        cl_model_history_scalar(h, "best_iteration", m->best_iter + 1, 0);
        cl_model_history_scalar(h, "best_score", m->best_score, 0);
    }
    return CL_OK;
}

static int ops_predict(const void *impl, const float *X, int64_t n, int64_t d, float *out,
                       int mode)
{
    cl_tensor t;
    cl_storage s;
    return cl_gbdt_predict(impl, out, cl_tensor_borrow(&t, &s, X, n, d), mode);
}

static int ops_contrib(const void *impl, const float *X, int64_t n, int64_t d, const float *ref,
                       float *phi)
{
    (void)ref; /* TreeSHAP's expectations come from the trees' covers */
    const cl_gbdt *m = impl;
    if (!m->fitted)
        return cl_error(CL_ESTATE, "gbdt: contributions before fit");
    /* One-row callers (serving a customer's reasons) would otherwise run Algorithm 2 every
     * time (cl_treeshap builds a plan only for >= 8 rows): the model keeps one plan. */
    cl_treeshap_plan *plan = atomic_load(&((cl_gbdt *)m)->shap);
    if (!plan && m->ntrees > 0 &&
        cl_treeshap_plan_new(&plan, (const cl_tree *const *)m->trees, m->ntrees, m->base, 1.0) ==
            CL_OK) {
        cl_treeshap_plan *none = NULL;
        if (!atomic_compare_exchange_strong(&((cl_gbdt *)m)->shap, &none, plan)) {
            cl_treeshap_plan_free(plan); /* another caller published one first */
            plan = none;
        }
    } else if (!plan) {
        cl_error_clear(); /* no plan (out of memory): Algorithm 2, the same values */
    }
    if (plan)
        return cl_treeshap_plan_run(plan, X, (size_t)n, (int)d, phi);
    return cl_treeshap((const cl_tree *const *)m->trees, m->ntrees, X, (size_t)n, (int)d,
                       m->base, 1.0, phi);
}

const cl_model_ops cl_gbdt_model_ops = {
    .kind = "gbdt", .title = "GBDT", .defs = cl_gbdt_param_defs,
    .params_size = sizeof(cl_gbdt_params), .defaults = ops_defaults, .create = ops_create,
    .free = ops_free, .params_of = ops_params_of,
    .fit_flags = CL_FIT_VALID | CL_FIT_METRIC | CL_FIT_CATEGORICAL | CL_FIT_DIST | CL_FIT_WEIGHTS,
    .fit = ops_fit,
    .fitted = ops_fitted, .set_names = ops_set_names, .name = ops_name, .prior = ops_prior,
    .describe = ops_describe, .read = ops_read, .write = ops_write,
    .n_features = ops_n_features, .predict = ops_predict, .contrib = ops_contrib};
