/* mlp.h - a dense feed-forward network for binary classification (Keras-style
 * Dense 64 ReLU, Dense 64 ReLU, Dense 1 sigmoid by default), trained with mini-batch
 * Adam/AdamW/SGD on the binary cross-entropy of the logits.
 *
 * Inputs are row-major float32 arrays: X (n x d), y (n, 0/1). Forward and backward passes are
 * cblas_sgemm calls on contiguous buffers allocated once per fit; the bias, batch norm,
 * activation and dropout are fused in one pass over each layer's output.
 *
 * Determinism: the seed fixes the initial weights, the batch order and the dropout masks; a
 * fit is bit-identical whatever the thread count (gemms split over rows and columns, never
 * over the reduction; every other loop is sequential or elementwise).
 *
 * Prior correction: with class weights (balanced, a table, pos_weight/neg_weight) the loss sees
 * a different churn rate than the data has. The fit records both rates (models/prior.h) and,
 * while parameter prior_correction is true (the default), cl_mlp_predict maps probabilities
 * back to the true rate (a shift of the logit by logit(truth) - logit(trained)); logits from
 * cl_mlp_decision are never changed. Files written before the rates existed load with no
 * correction.
 *
 * Ownership: cl_mlp_new/cl_mlp_read return an owned model freed by cl_mlp_free.
 */
#ifndef CL_MLP_H
#define CL_MLP_H

#include <stdint.h>

#include "models/model.h"
#include "base/modelio.h"
#include "base/param.h"
#include "base/progress.h"

enum { CL_ACT_RELU = 0, CL_ACT_TANH = 1, CL_ACT_GELU = 2 };
enum { CL_INIT_AUTO = 0, CL_INIT_HE = 1, CL_INIT_GLOROT = 2 };
enum { CL_OPT_ADAM = 0, CL_OPT_ADAMW = 1, CL_OPT_SGD = 2 };
enum { CL_CW_NONE = 0, CL_CW_BALANCED = 1 };

typedef struct cl_mlp_params {
    cl_param_ints hidden; /* hidden layer widths, default {64, 64} */
    int activation;       /* CL_ACT_* */
    double dropout;       /* after each hidden activation */
    int batch_norm;       /* Dense -> BatchNorm -> activation */
    int init;             /* CL_INIT_* (auto: Glorot uniform, as Keras; he: He normal) */
    int optimizer;        /* CL_OPT_* */
    double lr;
    double beta1, beta2, eps; /* Adam (eps 1e-7 as Keras) */
    double momentum;      /* SGD */
    int nesterov;
    double weight_decay;  /* on weight matrices only: L2 (adam, sgd) or decoupled (adamw) */
    int batch;
    int epochs;
    int schedule;         /* cl_sched */
    int step_size;        /* step schedule: epochs per decay */
    double gamma;         /* step schedule: factor */
    int class_weight;     /* CL_CW_*; balanced: w_c = n / (2 n_c) */
    double pos_weight, neg_weight; /* multiply the class weights */
    uint64_t seed;
    int prior_correction; /* map probabilities back to the true churn rate after reweighting */
} cl_mlp_params;

void cl_mlp_params_default(cl_mlp_params *p);
/* The one parameter table (names, ranges, docs) for validation, Lua and help(). */
extern const cl_param_def cl_mlp_param_defs[];

/* Largest |weight| a model file may hold (see cl_mlp_read). */
#define CL_MLP_MAX_WEIGHT 1e6

typedef struct cl_mlp cl_mlp;

typedef struct cl_mlp_history {
    int epochs;        /* epochs run */
    double *loss;      /* mean training loss per epoch */
    double *val_loss;  /* NaN when no validation set */
    double *val_auc;   /* NaN when no validation set */
    double *lr;        /* learning rate used per epoch */
    int best_epoch;    /* 1-based epoch whose weights the model holds */
    int stopped_early; /* 1 when early stopping ended the fit */
    int interrupted;   /* 1 when the progress callback or Ctrl-C stopped it */
} cl_mlp_history;
void cl_mlp_history_free(cl_mlp_history *h); /* frees the arrays; NULL is fine */

/* Validates the params (copied into the model). */
int cl_mlp_new(cl_mlp **out, const cl_mlp_params *p);
void cl_mlp_free(cl_mlp *m);

/* Feature names (d of them, copied); optional. fit checks d against them. */
int cl_mlp_set_names(cl_mlp *m, const char *const *names, int64_t d);

typedef struct cl_mlp_fit_opts {
    const float *Xv, *yv; /* validation set (NULL: none), nv rows */
    int64_t nv;
    int early_stop;       /* patience in epochs on validation loss; 0 = off */
    /* n sample weights (NULL: all 1; checked by the caller, see cl_model_check_weights), as
     * Keras' sample_weight: a batch's loss is sum(w_i l_i) / B (its class weight times w_i) */
    const float *w;
} cl_mlp_fit_opts;

/* Trains from fresh weights (a refit restarts from the seed). `hist` (may be NULL) receives
 * the per-epoch history (caller frees with cl_mlp_history_free). With a validation set the
 * model ends with the weights of the epoch of lowest validation loss.
 * Interrupted (CL_EINTR from the progress callback or Ctrl-C, polled every 64 batches): the
 * model keeps the weights of the last completed epoch (or the best so far with validation),
 * and counts as fitted when at least one epoch completed; hist holds the completed epochs
 * with interrupted = 1. */
int cl_mlp_fit(cl_mlp *m, const float *X, const float *y, int64_t n, int64_t d,
               const cl_mlp_fit_opts *opts, cl_mlp_history *hist, const cl_progress *prog);

/* P(y = 1) for each row into out (n floats). Rows are scored independently in fixed
 * 256-row chunks, so the result never depends on the thread count. */
int cl_mlp_predict(const cl_mlp *m, const float *X, int64_t n, int64_t d, float *out);
/* Logits instead of probabilities. */
int cl_mlp_decision(const cl_mlp *m, const float *X, int64_t n, int64_t d, float *out);
/* mode: cl_predict_mode (models/prior.h): probabilities, logits or uncorrected probabilities. */
int cl_mlp_predict_mode(const cl_mlp *m, const float *X, int64_t n, int64_t d, float *out,
                        int mode);
/* The rates recorded at fit time (NaN when not recorded); returns 1 when cl_mlp_predict
 * corrects the probabilities. */
int cl_mlp_prior(const cl_mlp *m, double *trained, double *truth);

/* Inspection. */
int cl_mlp_fitted(const cl_mlp *m);
int64_t cl_mlp_inputs(const cl_mlp *m);         /* d (0 before fit) */
int cl_mlp_epochs_run(const cl_mlp *m);
const cl_mlp_params *cl_mlp_params_of(const cl_mlp *m);
const char *cl_mlp_name(const cl_mlp *m, int64_t j); /* feature name or NULL */
int64_t cl_mlp_nparams(const cl_mlp *m);           /* trainable parameters */
/* Summary line: "45-64-64-1 relu adam, fitted 20 epochs" into buf. */
const char *cl_mlp_describe(const cl_mlp *m, char *buf, size_t cap);

/* Model files (kind "mlp"): writes/reads the model's chunks through the container, so a
 * caller can add other chunks (a pipeline under a prefix) to the same file. */
int cl_mlp_write(const cl_mlp *m, cl_mw *w);
int cl_mlp_read(cl_mlp **out, const cl_mr *r);

/* ---- for tests: the loss and gradient of the whole network on (X, y) with the current
 * weights (training mode without dropout, batch statistics for batch norm), in double.
 * grad holds nparams values in the flat parameter layout. Weights are set by
 * cl_mlp_init_weights (from the seed) or cl_mlp_params_vector (direct access). */
int cl_mlp_init_weights(cl_mlp *m, int64_t d);
float *cl_mlp_params_vector(cl_mlp *m);
int cl_mlp_loss_grad(cl_mlp *m, const float *X, const float *y, int64_t n, double *loss,
                     float *grad);
/* ---- for tests: `steps` optimizer steps of the fit's own batch step (forward in training
 * mode, backward, weight decay, the optimizer at the constant rate p.lr; class weights as in
 * a fit) from the current weights, step s on rows s*B .. s*B + B - 1 of X (steps*B x d), in
 * order, with GIVEN dropout masks instead of the seed's: keep holds, step after step and in
 * each step hidden layer after hidden layer, B x width values, nonzero to keep a unit; a kept
 * unit is scaled by 1 / (1 - dropout) as in a fit. keep may be NULL when dropout is 0.
 * loss[s] (loss may be NULL) receives step s's mean batch loss before its update. Batch-norm
 * running statistics are updated as in a fit; afterwards the model counts as fitted (it
 * predicts with those weights), with its prior rates from these rows. */
int cl_mlp_train_steps(cl_mlp *m, const float *X, const float *y, int64_t B, int steps,
                       const float *keep, double *loss);

extern const cl_model_ops cl_mlp_model_ops; /* models/model.h */

#endif
