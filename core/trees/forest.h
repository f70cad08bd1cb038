/* forest.h - random forests and single CART trees for binary classification.
 *
 * Both grow trees with the histogram machinery of gbdt (tree_grow.h) on squared error of the
 * 0/1 label, which for binary labels is exactly the Gini impurity decrease; a leaf holds the
 * (class-weighted) share of positives, so predictions are probabilities.
 *
 *   forest: each tree sees a bootstrap sample (multiplicities become row weights), tries
 *           `mtry` random features per node (default sqrt(d)); prediction is the mean over
 *           trees; the out-of-bag rows of each tree give the OOB AUC.
 *   tree:   one CART tree on all rows and all features, meant to be read (cl_tree_rules).
 *
 * Prior correction: class_weight = balanced makes every leaf hold the weighted share of
 * positives, whose odds are the true odds times wpos/wneg. The fit records both rates
 * (models/prior.h) and, while parameter prior_correction is true (the default),
 * cl_forest_predict maps the averaged probability back to the true rate with
 * cl_prior_correct (exact for one tree; for a forest it is applied to the mean over trees).
 * TreeSHAP values add up to the uncorrected mean (cl_forest_predict_mode with
 * CL_PREDICT_MARGIN or CL_PREDICT_UNCORRECTED); the correction is a monotone map applied after.
 *
 * min_leaf counts (bootstrap- and class-weighted) rows. Trees are grown in parallel, one tree
 * per thread with its own random stream (seed, tree index), so models are bit-identical
 * whatever the thread count. Interruption (progress callback / Ctrl-C) is checked between
 * batches of trees: cl_forest_fit returns CL_EINTR and the model holds the trees finished so
 * far (a valid, smaller forest; no OOB AUC).
 */
#ifndef CL_FOREST_H
#define CL_FOREST_H

#include <stdint.h>

#include "models/model.h"
#include "trees/binning.h"
#include "base/dist.h"
#include "base/param.h"
#include "base/progress.h"
#include "tensor/tensor.h"
#include "trees/tree.h"

enum { CL_FOREST_KIND_FOREST = 0, CL_FOREST_KIND_TREE = 1 };

typedef struct cl_forest_params {
    int trees;
    int mtry;     /* 0 = floor(sqrt(d)) (forest); tree: all features */
    int depth;    /* 0 = unlimited */
    double min_leaf;
    int class_weight; /* 0 none, 1 balanced */
    int bootstrap;
    int max_bins;
    uint64_t seed;
    int prior_correction; /* map probabilities back to the true churn rate after reweighting */
} cl_forest_params;

extern const cl_param_def cl_forest_param_defs[];
extern const cl_param_def cl_forest_cart_param_defs[];
cl_forest_params cl_forest_params_default(void);
cl_forest_params cl_forest_cart_params_default(void);

typedef struct cl_forest {
    int kind; /* CL_FOREST_KIND_* */
    cl_forest_params params;
    int d, fitted;
    cl_tree **trees;
    int ntrees;
    cl_binning *bins;
    double oob_auc; /* NaN when not computed */
    char **names;
    double prior_trained, prior_true; /* positive rates: weighted fit, labels (NaN: unknown) */
    struct cl_predict_pack *pack; /* the trees packed for scoring (predict.h), built when the
                                   * fit ends or the model is read; NULL before (or out of
                                   * memory): predict then packs per call */
} cl_forest;

int cl_forest_new(cl_forest **out, int kind, const cl_forest_params *p);
void cl_forest_free(cl_forest *m);
/* is_cat: d flags or NULL. */
int cl_forest_fit(cl_forest *m, const cl_tensor *X, const cl_tensor *y, const uint8_t *is_cat,
                  const cl_progress *progress);
/* The same with sample weights w (n values, NULL: all 1; checked by the caller, see
 * cl_model_check_weights), scikit-learn's sample_weight: row i counts w[i] times (times its
 * bootstrap count) in the leaf proportions, the split gains and min_leaf. The bin edges come from
 * the unweighted rows. */
int cl_forest_fit_weighted(cl_forest *m, const cl_tensor *X, const cl_tensor *y,
                           const uint8_t *is_cat, const float *w, const cl_progress *progress);
/* The same fit data parallel over the ranks of dist (base/dist.h; NULL or one rank: the fit
 * above): each rank passes its own rows (the data is their concatenation in rank order) and
 * every rank gets the model one process fits on all the rows, bit for bit, at any number of
 * ranks and threads: the bins come from cl_binning_fit_dist, the class weights from exact
 * counts, each tree's bootstrap from the one-process stream over the global row numbers, the
 * histograms from exact fixed-point sums (tree_grow.h), the OOB AUC from the gathered
 * out-of-bag scores. Collective; a failure on one rank is every rank's. */
int cl_forest_fit_dist(cl_forest *m, const cl_tensor *X, const cl_tensor *y,
                       const uint8_t *is_cat, const float *w, cl_dist *dist,
                       const cl_progress *progress);
/* P(y = 1) for each row (n floats), prior-corrected when the model says so. */
int cl_forest_predict(const cl_forest *m, float *out, const cl_tensor *X);
/* mode: cl_predict_mode (models/prior.h); MARGIN and UNCORRECTED both give the mean of the
 * trees' leaf values (what TreeSHAP adds up to). */
int cl_forest_predict_mode(const cl_forest *m, float *out, const cl_tensor *X, int mode);
/* The rates recorded at fit time (NaN when not recorded); returns 1 when cl_forest_predict
 * corrects the probabilities. */
int cl_forest_prior(const cl_forest *m, double *trained, double *truth);
/* Writes the forest or tree as an XGBoost JSON model (the 1.7 layout, atomically): one round
 * of ntrees parallel trees with leaves scaled by 1 / ntrees under reg:squarederror from a base
 * score of 0, so XGBoost's predict() is the mean leaf proportion, predict(X, {prior_correction
 * = false}) here (a prior correction is not a margin shift and is not exported). Numeric
 * splits only (CL_ENOTSUP names the tree otherwise). */
int cl_xgb_export_forest(const cl_forest *m, const char *path);
int cl_forest_set_names(cl_forest *m, const char *const *names, int d);
/* Model files: kind "forest" or "tree". */
int cl_forest_write(const cl_forest *m, cl_mw *w);
int cl_forest_read(cl_forest **out, const cl_mr *r);
int cl_forest_save(const cl_forest *m, const char *path);
int cl_forest_load(cl_forest **out, const char *path);

/* models/model.h: kinds "forest" and "tree" (one CART). */
extern const cl_model_ops cl_forest_model_ops, cl_forest_tree_model_ops;

#endif
