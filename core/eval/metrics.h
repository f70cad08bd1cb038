/* metrics.h - evaluation metrics for binary classifiers.
 *
 * Inputs are plain arrays: labels y[i] in {0, 1} and scores p[i] (probabilities for the
 * probability metrics, any finite score for the ranking ones), n >= 1. Every function
 * validates its input first: a NaN score, a label other than 0/1 or a probability outside
 * [0, 1] is CL_EINVAL naming the row (1-based, as in Lua). Ranking metrics sort once
 * (O(n log n)); every sum accumulates in double. Definitions follow scikit-learn 1.2 and are
 * checked against it (scripts/ref/metrics_ref.py -> tests/data/metrics_ref.txt).
 *
 * Threshold metrics predict positive when p >= threshold.
 */
#ifndef CL_METRICS_H
#define CL_METRICS_H

#include <stdint.h>

typedef struct cl_confusion {
    int64_t tp, fp, tn, fn;
} cl_confusion;

typedef struct cl_threshold_metrics {
    double accuracy, precision, recall, specificity, f1, balanced_accuracy, mcc;
} cl_threshold_metrics;

/* Checks y in {0,1} and p not NaN (probs != 0: also 0 <= p <= 1). */
int cl_metrics_check(const float *y, const float *p, int64_t n, int probs);

int cl_metrics_confusion(cl_confusion *out, const float *y, const float *p, int64_t n,
                         double threshold);
/* Ratios with an empty denominator are 0 (scikit-learn's zero_division=0); MCC is 0 when any
 * margin is empty. */
void cl_metrics_from_confusion(cl_threshold_metrics *out, const cl_confusion *c);
double cl_metrics_fbeta(const cl_confusion *c, double beta);

/* ROC AUC (ties scored half, as scikit-learn's trapezoid over distinct thresholds) and
 * average precision (sum over distinct thresholds of (R_k - R_{k-1}) P_k). Both need both
 * classes: CL_EINVAL "ROC AUC is undefined when y has only one class" otherwise. */
int cl_metrics_roc_auc(double *out, const float *y, const float *p, int64_t n);
/* The one ROC AUC of the core: Mann-Whitney U over n scores (ties get average ranks), labels
 * y > 0.5 positive. Scores must not be NaN; when a class is absent *out is NaN and the status
 * is CL_OK (early stopping and out-of-bag scores meet such sets and must not fail on them).
 * CL_ENOMEM otherwise. cl_metrics_roc_auc (validated labels and scores, an error on one class),
 * the trees' early stopping and OOB AUC and the synthetic world's oracle AUC all use it. */
int cl_metrics_auc(double *out, const double *score, const float *y, int64_t n);
int cl_metrics_average_precision(double *out, const float *y, const float *p, int64_t n);
/* Mean binary cross-entropy with p clipped to [eps, 1 - eps] (scikit-learn: eps 1e-15). */
int cl_metrics_log_loss(double *out, const float *y, const float *p, int64_t n, double eps);
int cl_metrics_brier(double *out, const float *y, const float *p, int64_t n);

/* A curve: n points, arrays owned by the curve (cl_metrics_curve_free). */
typedef struct cl_curve {
    int64_t n;
    double *x, *y, *t; /* t: threshold of each point (ROC: t[0] = +inf) */
} cl_curve;
void cl_metrics_curve_free(cl_curve *c); /* frees the arrays, zeroes the struct */

/* ROC points (x = FPR, y = TPR) at every distinct score, from (0, 0) at t = +inf
 * (scikit-learn's roc_curve with drop_intermediate=False). */
int cl_metrics_roc_curve(cl_curve *out, const float *y, const float *p, int64_t n);
/* PR points (x = recall, y = precision) at every distinct score by increasing threshold,
 * ending with (0, 1) at t = +inf (scikit-learn 1.2's precision_recall_curve, plus the final
 * point's threshold). */
int cl_metrics_pr_curve(cl_curve *out, const float *y, const float *p, int64_t n);

/* Reliability diagram: `bins` equal-width bins on [0, 1] (edges k/bins, a value on an inner
 * edge falls in the lower bin); only non-empty bins are returned, in order:
 * x = mean predicted probability, y = fraction of positives, t = count. */
int cl_metrics_calibration(cl_curve *out, const float *y, const float *p, int64_t n, int bins);

/* Cumulative gains and lift by group (deciles for groups = 10): rows sorted by score
 * descending (ties by row order); group k (1-based) holds rows [floor((k-1)n/g), floor(kn/g)).
 * n >= groups. Point k: x = fraction of rows in groups 1..k, y = fraction of all positives
 * captured (cumulative gain), t = cumulative lift (gain / x). `rate` (may be NULL, g entries)
 * receives each group's own positive rate divided by the base rate (decile lift). */
int cl_metrics_gains(cl_curve *out, double *rate, const float *y, const float *p, int64_t n,
                     int groups);

typedef enum {
    CL_THRESH_F1 = 0,      /* maximise F1 */
    CL_THRESH_YOUDEN = 1,  /* maximise TPR - FPR */
    CL_THRESH_COST = 2     /* minimise cost_fp * FP + cost_fn * FN */
    /* values are only ever appended */
} cl_thresh_rule;

/* Best threshold among +inf and every distinct score (predict p >= t); ties go to the
 * highest threshold. *value receives the F1, J or total cost at that threshold. */
int cl_metrics_best_threshold(double *threshold, double *value, const float *y, const float *p,
                              int64_t n, cl_thresh_rule rule, double cost_fp, double cost_fn);

#endif
