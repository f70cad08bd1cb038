/* gbdt.h - gradient-boosted decision trees on histograms (binary logistic, squared error).
 *
 *   cl_gbdt_params p = cl_gbdt_params_default();  p.trees = 300;
 *   cl_gbdt *m;  cl_gbdt_new(&m, &p);
 *   cl_gbdt_fit(m, X, y, &opts, progress);        // X n x d float32 (NaN = missing), y 0/1
 *   cl_gbdt_predict(m, out, X, 0);                // P(y = 1); margin = 1 for the log-odds
 *
 * Second-order boosting as in XGBoost: features binned once (binning.h), per-node
 * gradient/hessian histograms (hist.h), best splits with lambda/alpha/gamma/min_child_weight
 * and a learned direction for missing values (split.h), depth-wise or leaf-wise growth
 * (tree_grow.h), trees stored as flat node arrays (tree.h).
 *
 * Prior correction: scale_pos_weight != 1 makes the trees fit a different churn rate than the
 * data has. The fit records both rates (models/prior.h: prior_trained, prior_true) and, while
 * parameter prior_correction is true (the default), probabilities from cl_gbdt_predict are
 * mapped back to the true rate: sigmoid(margin + logit(truth) - logit(trained)). Margins and
 * TreeSHAP values (which add up to the margin) are never changed; the correction is a
 * monotone map applied after them. Files written before the rates existed load with no
 * correction. The squared-error objective records no rates.
 *
 * Determinism: same data, params and seed give bit-identical models for any thread count.
 * Interruption: when the progress callback (or Ctrl-C) stops a fit, cl_gbdt_fit returns
 * CL_EINTR and the model is a valid fitted model holding the trees built so far (with early
 * stopping: truncated to the best iteration seen so far).
 */
#ifndef CL_GBDT_H
#define CL_GBDT_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "models/model.h"
#include "trees/binning.h"
#include "base/dist.h"
#include "base/param.h"
#include "base/progress.h"
#include "tensor/tensor.h"
#include "trees/tree.h"

struct cl_treeshap_plan;

enum { CL_GBDT_LOGISTIC = 0, CL_GBDT_SQUARED = 1 };
enum { CL_GBDT_METRIC_AUTO = 0, CL_GBDT_METRIC_LOGLOSS, CL_GBDT_METRIC_AUC, CL_GBDT_METRIC_RMSE };

typedef struct cl_gbdt_params {
    int objective;
    int trees;
    double lr;
    int depth;
    int leaves;
    double min_child_weight, lambda, alpha, gamma;
    double subsample, colsample;
    int max_bins;
    double scale_pos_weight;
    uint64_t seed;
    int prior_correction; /* map probabilities back to the true churn rate after reweighting */
    cl_param_ints monotone; /* per feature +1 / -1 / 0, or none (n = 0) */
    /* interaction constraints (XGBoost's interaction_constraints): per feature the bitmask of
     * the constraint sets holding it (bit s-1: set s; 0: in no set), or none (n = 0) */
    cl_param_ints interactions;
} cl_gbdt_params;

extern const cl_param_def cl_gbdt_param_defs[];
cl_gbdt_params cl_gbdt_params_default(void);

typedef struct cl_gbdt {
    cl_gbdt_params params;
    int d;          /* features (0 before fit) */
    int fitted;
    double base;    /* base margin */
    cl_tree **trees;
    int ntrees, cap;
    cl_binning *bins;   /* bin boundaries of the training data */
    int best_iter;      /* 0-based best iteration with early stopping, else -1 */
    double best_score;  /* validation metric at best_iter */
    int metric;         /* validation metric used */
    char **names;       /* d feature names or NULL */
    double prior_trained, prior_true; /* positive rates: weighted fit, labels (NaN: unknown) */
    struct cl_predict_pack *pack; /* the trees packed for scoring (predict.h), built when the
                                   * fit ends or the model is read; NULL while fitting (or out
                                   * of memory): predict then packs per call */
    /* the trees' fast TreeSHAP plan (treeshap.h), built by the first contributions call and
     * published with a compare-and-swap (concurrent callers may both build one: the loser
     * frees its own), freed whenever the trees change; NULL until then or out of memory */
    _Atomic(struct cl_treeshap_plan *) shap;
} cl_gbdt;

/* Fit options: Xv/yv (validation set, may be NULL), early_stop (rounds without improvement
 * before stopping; 0 = off; needs Xv), is_cat (d flags or NULL), metric (CL_GBDT_METRIC_*),
 * dist (NULL: one process).
 *
 * Distributed (dist with more than one rank; data parallel, as LightGBM's data-parallel
 * learner): every rank calls cl_gbdt_fit with the same parameters and options and its own
 * block of rows; the training data is the concatenation of the blocks in rank order, and so is
 * the validation set (each rank passes its block of it, or none on every rank). Bins come
 * from the global sample (cl_binning_fit_dist), histograms are summed over the ranks in fixed
 * point (tree_grow.h), the base score from exact global sums, row subsampling draws the same
 * random stream over the global row numbers, and validation metrics are computed on the
 * gathered margins. Every rank ends with the same model, bit for bit the model one process
 * fits on the concatenated data, for any number of ranks and threads. A failure on any rank
 * is returned on every rank (base/dist.h). */
typedef struct cl_gbdt_fit_opts {
    const cl_tensor *Xv, *yv;
    int early_stop;
    const uint8_t *is_cat;
    int metric;
    cl_dist *dist;
    /* n sample weights of this rank's rows (NULL: all 1; finite, >= 0), XGBoost's
     * sample_weight: gradient and hessian of row i times w[i], the base score the weighted
     * mean label */
    const float *w;
} cl_gbdt_fit_opts;

/* New unfitted model (params validated). Owned; cl_gbdt_free. */
int cl_gbdt_new(cl_gbdt **out, const cl_gbdt_params *p);
void cl_gbdt_free(cl_gbdt *m);

int cl_gbdt_fit(cl_gbdt *m, const cl_tensor *X, const cl_tensor *y, const cl_gbdt_fit_opts *o,
                const cl_progress *progress);

/* Warm start: `more` further boosting rounds on a fitted model (params.trees grows by more).
 * The trees so far and the base score stay; boosting continues from their margins on X, with
 * the round numbers (random streams of subsample/colsample) going on, so on the same X and y
 * fit(trees = a) then fit_more(b) gives bit for bit the model of fit(trees = a + b). Bins are
 * fitted anew on X with the model's categorical flags (o->is_cat is not used). No validation set / early stopping (CL_ENOTSUP).
 * On failure the model is left as it was; on interruption (CL_EINTR) it keeps the rounds
 * built so far. An imported XGBoost model can be continued the same way. */
int cl_gbdt_fit_more(cl_gbdt *m, const cl_tensor *X, const cl_tensor *y, int more,
                     const cl_gbdt_fit_opts *o, const cl_progress *progress);

/* out: n floats. mode is a cl_predict_mode (models/prior.h): 0 = P(y = 1) (prior-corrected when
 * the model says so), 1 = the raw score (log-odds for logistic), 2 = uncorrected P(y = 1),
 * 3 = corrected P(y = 1) even with parameter prior_correction off. */
int cl_gbdt_predict(const cl_gbdt *m, float *out, const cl_tensor *X, int mode);
/* The rates recorded at fit time (NaN when not recorded); returns 1 when cl_gbdt_predict
 * corrects the probabilities. */
int cl_gbdt_prior(const cl_gbdt *m, double *trained, double *truth);

/* Sets feature names (copies; d of them). */
int cl_gbdt_set_names(cl_gbdt *m, const char *const *names, int d);

/* Model file (kind "gbdt") through modelio: save writes atomically. write/read use an open
 * writer/reader so other objects (a pipeline) can share the file. */
int cl_gbdt_write(const cl_gbdt *m, cl_mw *w);
int cl_gbdt_read(cl_gbdt **out, const cl_mr *r);
int cl_gbdt_save(const cl_gbdt *m, const char *path);
int cl_gbdt_load(cl_gbdt **out, const char *path);

/* XGBoost JSON model (version 1.7 layout), written atomically. Numeric splits only:
 * a model with categorical splits is CL_ENOTSUP. */
int cl_xgb_export_gbdt(const cl_gbdt *m, const char *path);

/* Reads an XGBoost JSON model (Booster.save_model to a .json file; objective binary:logistic
 * or reg:squarederror, gbtree, numeric splits) as a fitted gbdt whose predictions and
 * TreeSHAP values are XGBoost's (xgb_import.c says what maps). The growth parameters are not
 * in such a file: params hold the defaults except objective, trees and depth (the deepest
 * tree). The bins are a placeholder (one per feature); cl_gbdt_fit_more fits real ones.
 * CL_EFORMAT / CL_ENOTSUP name what is wrong or unsupported. Owned; cl_gbdt_free. */
int cl_xgb_import_gbdt(cl_gbdt **out, const char *path);
/* The same from the JSON text in memory; origin names it in messages. */
int cl_xgb_import_gbdt_json(cl_gbdt **out, const char *text, size_t len, const char *origin);

extern const cl_model_ops cl_gbdt_model_ops; /* models/model.h */

#endif
