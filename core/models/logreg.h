/* logreg.h - logistic regression.
 *
 * Minimises (1/n) sum_i w_i logloss(y_i, sigmoid(x_i . beta + b)) + pen(beta) / (C n), with
 * pen = |beta|^2 / 2 (l2), |beta|_1 (l1), (1 - r) |beta|^2 / 2 + r |beta|_1 (elasticnet,
 * r = l1_ratio) or 0 (none) - scikit-learn's objective divided by C n, so the same C gives the
 * same coefficients. `lambda` > 0 states the penalty weight directly (C = 1 / (lambda n)).
 * The intercept is never penalised. L-BFGS for l2/none, OWL-QN for l1/elasticnet; sums over
 * rows run in fixed 4096-row blocks reduced in block order (thread-count independent).
 *
 * Prior correction: with class weights (balanced, a table, pos_weight/neg_weight) the fit sees
 * a different churn rate than the data has. The model records both rates (models/prior.h) and,
 * while parameter prior_correction is true (the default), cl_logreg_predict maps its
 * probabilities back to the true rate: p' = sigmoid(margin + logit(truth) - logit(trained)).
 * cl_logreg_decision (the margin) and the coefficients are never changed, so linear SHAP in
 * log-odds still adds up to the margin; the correction is a monotone map applied after it.
 * Files written before the rates existed load with no correction.
 *
 * Ownership: cl_logreg_new/cl_logreg_read return an owned model freed by cl_logreg_free.
 */
#ifndef CL_LINEAR_H
#define CL_LINEAR_H

#include <stdint.h>

#include "models/model.h"
#include "base/modelio.h"
#include "base/param.h"
#include "base/progress.h"

enum { CL_PEN_L2 = 0, CL_PEN_L1 = 1, CL_PEN_ELASTICNET = 2, CL_PEN_NONE = 3 };

typedef struct cl_logreg_params {
    int penalty;        /* CL_PEN_* */
    double C;           /* inverse regularisation strength (scikit-learn's C) */
    double lambda;      /* > 0: penalty weight per row instead of C */
    double l1_ratio;    /* elasticnet mix */
    int intercept;      /* fit an intercept */
    int class_weight;   /* none|balanced (w_c = n / (2 n_c)) */
    double pos_weight, neg_weight; /* multiply the class weights */
    double tol;         /* max |gradient| at convergence */
    int max_iter;
    int prior_correction; /* map probabilities back to the true churn rate after reweighting */
} cl_logreg_params;

void cl_logreg_params_default(cl_logreg_params *p);
extern const cl_param_def cl_logreg_param_defs[];

typedef struct cl_logreg cl_logreg;

/* Largest |intercept| + sum |coefficients| a model file may hold (see cl_logreg_read). */
#define CL_LOGREG_MAX_WEIGHT 1e30

typedef struct cl_logreg_result {
    int iters, converged;
    double objective, gmax;
} cl_logreg_result;

int cl_logreg_new(cl_logreg **out, const cl_logreg_params *p);
void cl_logreg_free(cl_logreg *m);
int cl_logreg_set_names(cl_logreg *m, const char *const *names, int64_t d);

/* Fits on X (n x d, row-major) and y (0/1). Not converging within max_iter is CL_OK with
 * res->converged = 0 (the model holds the last iterate). Interrupted (CL_EINTR): the model is
 * left unfitted. */
int cl_logreg_fit(cl_logreg *m, const float *X, const float *y, int64_t n, int64_t d,
                  cl_logreg_result *res, const cl_progress *prog);
/* The same with sample weights w (n values, NULL: all 1; checked by the caller, see
 * cl_model_check_weights): row i's loss is multiplied by w[i] besides its class weight, so the
 * optimum is scikit-learn's LogisticRegression(C).fit(X, y, sample_weight = w) (the penalty is
 * 1 / (C n) on the mean loss, which is C times the summed loss). */
int cl_logreg_fit_weighted(cl_logreg *m, const float *X, const float *y, const float *w,
                           int64_t n, int64_t d, cl_logreg_result *res, const cl_progress *prog);
/* The same, data parallel over the ranks of dist (each passes its rows; NULL: this process
 * alone): every rank gets the same coefficients, bit for bit, at any number of ranks and
 * threads (exact sums, base/dist_logit.h); these differ from cl_logreg_fit's in the last bits. */
int cl_logreg_fit_dist(cl_logreg *m, const float *X, const float *y, const float *w, int64_t n,
                       int64_t d, cl_logreg_result *res, const cl_progress *prog, cl_dist *dist);
int cl_logreg_predict(const cl_logreg *m, const float *X, int64_t n, int64_t d, float *out);
int cl_logreg_decision(const cl_logreg *m, const float *X, int64_t n, int64_t d, float *out);
/* mode: cl_predict_mode (models/prior.h): probabilities, margins or uncorrected probabilities. */
int cl_logreg_predict_mode(const cl_logreg *m, const float *X, int64_t n, int64_t d, float *out,
                           int mode);
/* The rates recorded at fit time (NaN when not recorded); returns 1 when cl_logreg_predict
 * corrects the probabilities. */
int cl_logreg_prior(const cl_logreg *m, double *trained, double *truth);

int cl_logreg_fitted(const cl_logreg *m);
int64_t cl_logreg_inputs(const cl_logreg *m);
const double *cl_logreg_coef(const cl_logreg *m); /* d values; NULL before fit */
double cl_logreg_intercept(const cl_logreg *m);
const char *cl_logreg_name(const cl_logreg *m, int64_t j);
const cl_logreg_params *cl_logreg_params_of(const cl_logreg *m);
const cl_logreg_result *cl_logreg_result_of(const cl_logreg *m);

/* For tests: objective and gradient (d coefficients then the intercept) at theta. */
int cl_logreg_objective(const cl_logreg *m, const float *X, const float *y, int64_t n,
                        int64_t d, const double *theta, double *f, double *grad);

int cl_logreg_write(const cl_logreg *m, cl_mw *w);
int cl_logreg_read(cl_logreg **out, const cl_mr *r);

extern const cl_model_ops cl_logreg_model_ops; /* models/model.h */

#endif
