/* prior.h - prior correction: what every classifier's predict does after reweighted training,
 * and the predict modes every classifier shares. */
#ifndef CL_PRIOR_H
#define CL_PRIOR_H

#include "base/modelio.h"

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
