/* calibrate.h - probability calibration fitted on held-out data, and prior correction.
 *
 * Platt scaling: p = 1 / (1 + exp(a * s + b)) fitted by Newton's method on the log loss with
 * Platt's smoothed targets (Platt 1999; Lin, Lin and Weng 2007), as scikit-learn's
 * CalibratedClassifierCV(method="sigmoid") does. Scores s are the model's margins or
 * probabilities, whichever the caller passes consistently.
 * Isotonic regression: weighted pool-adjacent-violators; prediction interpolates linearly
 * between the fitted steps and clips outside the training range (scikit-learn's default).
 */
#ifndef CL_CALIBRATE_H
#define CL_CALIBRATE_H

#include <stdint.h>

#include "base/modelio.h"

int cl_platt_fit(const double *score, const double *y, int64_t n, double *a, double *b);
double cl_platt_apply(double a, double b, double score);

/* Fitted isotonic map: m breakpoints x[0..m) ascending with values v[0..m) non-decreasing.
 * Owned; cl_isotonic_free. */
typedef struct cl_isotonic {
    int64_t m;
    double *x, *v;
} cl_isotonic;

/* w may be NULL (unit weights). y in [0, 1] for calibration, any real for regression. */
int cl_isotonic_fit(cl_isotonic **out, const double *score, const double *y, const double *w,
                    int64_t n);
double cl_isotonic_apply(const cl_isotonic *iso, double score);
void cl_isotonic_free(cl_isotonic *iso);

/* A fitted calibrator as stored in model files of kind "calibrator". iso is owned (free it
 * with cl_isotonic_free) when method is CL_CALIB_ISOTONIC, NULL otherwise. */
enum { CL_CALIB_PLATT = 0, CL_CALIB_ISOTONIC = 1 };
typedef struct cl_calibrator {
    int method;
    double a, b;      /* Platt */
    cl_isotonic *iso; /* isotonic */
    int64_t n_fit;    /* rows it was fitted on */
} cl_calibrator;

int cl_calibrator_write(const cl_calibrator *c, cl_mw *w);
/* Checks every value's meaning: the method, n_fit (>= 2, as a fit needs), Platt's a and b
 * finite, isotonic breakpoints finite and ascending with values non-decreasing in [0, 1]
 * (calibrated probabilities) and at most 2 per fitted row. Sizes are checked against the
 * stored chunks before anything is allocated. On failure *c holds nothing. */
int cl_calibrator_read(cl_calibrator *c, const cl_mr *r);

/* Prior correction: a model trained on data whose positive rate was effectively `trained`
 * (class weights or scale_pos_weight reweight the classes) reports odds inflated by
 * trained/(1-trained) : true/(1-true). Maps p back to the population rate `truth`
 * (Saerens et al. 2002; King and Zeng 2001). */
double cl_prior_correct(double p, double trained, double truth);

/* ---- prior correction inside the models ------------------------------------------------
 *
 * logreg, mlp, gbdt, forest and tree record two rates when they are fitted: the true positive
 * rate of the training labels (npos / n) and the effective rate of the reweighted data the
 * loss saw, wpos npos / (wpos npos + wneg (n - npos)) (class weights, pos_weight/neg_weight,
 * scale_pos_weight). With parameter prior_correction = true (the default) their predicted
 * probabilities go through cl_prior_correct(p, trained, truth) whenever the two rates differ,
 * so a balanced-weighted model's probabilities average to the real churn rate again. For
 * logistic outputs this is exactly a shift of the margin by logit(truth) - logit(trained):
 * a monotone map applied after the model, so rankings, AUC and margins (decision(), SHAP in
 * margin space) are unchanged. Models fitted without reweighting have trained == truth
 * bit for bit and are never touched. */

/* What a model's predict returns. Values are only ever appended. */
typedef enum {
    CL_PREDICT_PROB = 0,        /* P(y = 1), prior-corrected when the model says so */
    CL_PREDICT_MARGIN = 1,      /* raw score: log-odds (logreg, mlp, gbdt); forests: the
                                 * uncorrected mean leaf probability */
    CL_PREDICT_UNCORRECTED = 2, /* P(y = 1) as fitted on the reweighted data */
    CL_PREDICT_CORRECTED = 3    /* P(y = 1) prior-corrected even when the parameter is off */
} cl_predict_mode;

/* The two rates of a fit with npos positives among n rows and class weights wpos, wneg.
 * wpos == wneg gives trained == truth exactly; no weight mass at all gives both = truth. */
void cl_prior_rates(double npos, double n, double wpos, double wneg, double *trained,
                    double *truth);
/* 1 when probabilities are to be corrected: both rates in (0, 1) and different. Rates not
 * recorded (NaN: a model file written before this existed) never need correction. */
int cl_prior_needed(double trained, double truth);
/* 1 when a prediction in `mode` by a model whose prior_correction parameter is `param` is to
 * be corrected: the rates need it and mode is CORRECTED, or PROB with param on. */
int cl_prior_wanted(int mode, int param, double trained, double truth);
/* Model files: one f64 chunk `name` holding {trained, truth} (not written when the rates are
 * NaN, i.e. were never recorded). Reading a file without it
 * gives NaN rates (no correction); values that are not finite or outside [0, 1] are
 * CL_EFORMAT naming `what` and the chunk. */
int cl_prior_write(cl_mw *w, const char *name, double trained, double truth);
int cl_prior_read(const cl_mr *r, const char *name, double *trained, double *truth,
                  const char *what);

#endif
