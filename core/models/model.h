/* model.h - the one interface of every churn classifier (logreg, mlp, gbdt, forest, tree).
 *
 *   cl_model *m;
 *   cl_model_kinds_load(&m, "models/best.clm");      // any kind; its pipeline when the file has one
 *   cl_model_predict(m, X, n, d, out, CL_PREDICT_PROB);   // P(churn) per row
 *   cl_model_score_frame(m, raw, out);          // raw customer rows through the pipeline
 *   cl_model_contrib(m, X, n, d, NULL, phi);    // SHAP values, n x (d + 1), last = base value
 *   cl_model_free(m);
 *
 * Each kind provides one cl_model_ops table next to its code (cl_logreg_model_ops in
 * linear.c, cl_mlp_model_ops in mlp.c, cl_gbdt_model_ops in gbdt.c ...); the table of kinds
 * that cl_model_kinds_load dispatches on lives in core/model_kinds.c, above every model folder, so
 * the folder graph stays a DAG (trees -> models, never back).
 *
 * A new kind is one ops table and one line in core/model_kinds.c: the Lua binding, model files,
 * help() and the generic tests (tests/core/models/test_model.c runs every registered kind,
 * a toy classifier included) come from this interface.
 *
 * Predict modes are cl_predict_mode (models/prior.h): PROB applies the model's
 * prior_correction parameter, MARGIN gives the raw score, the others force the probabilities
 * without / with the prior correction.
 *
 * Ownership: cl_model_kinds_load / cl_model_wrap return an owned handle freed by cl_model_free
 * (which frees the kind's model and the pipeline). Thread safety: after load every const
 * function may run concurrently on one handle (the service scores from its thread pool).
 */
#ifndef CL_MODEL_H
#define CL_MODEL_H

#include <stdint.h>

#include "base/modelio.h"
#include "base/param.h"
#include "base/progress.h"
#include "models/prior.h"

typedef struct cl_frame cl_frame;
typedef struct cl_pipeline cl_pipeline;
typedef struct cl_dist cl_dist;

/* Validation set and the other per-fit inputs a kind may take (fit_flags says which). */
enum {
    CL_FIT_VALID = 1 << 0,       /* Xv, yv, nv and early_stop */
    CL_FIT_METRIC = 1 << 1,      /* metric (the validation metric) */
    CL_FIT_CATEGORICAL = 1 << 2, /* is_cat: native categorical columns */
    CL_FIT_DIST = 1 << 3,        /* dist: data-parallel over MPI ranks (base/dist.h) */
    CL_FIT_WEIGHTS = 1 << 4      /* w: per-row sample weights */
};
/* Validation metrics; values are only ever appended. */
enum { CL_METRIC_AUTO = 0, CL_METRIC_LOGLOSS, CL_METRIC_AUC, CL_METRIC_RMSE };

typedef struct cl_fit_opts {
    const float *Xv, *yv; /* nv x d validation rows and labels, or NULL */
    int64_t nv;
    int early_stop;        /* rounds (epochs) without improvement before stopping; 0 = off */
    int metric;            /* CL_METRIC_* */
    const uint8_t *is_cat; /* d flags or NULL */
    cl_dist *dist;         /* the ranks to fit over, NULL: this process alone */
    /* n sample weights (finite, >= 0, not all 0; NULL: all 1), as scikit-learn's and XGBoost's
     * sample_weight: each row's loss (gradient, hessian) is multiplied by its weight */
    const float *w;
} cl_fit_opts;

/* What a fit reports (m:history() in Lua): named numbers and named series, in the order a
 * person reads them. Names are static strings; the series are owned (cl_model_history_free). */
#define CL_HISTORY_MAX 8
typedef struct cl_model_history {
    int nscalars, nseries;
    const char *scalar_name[CL_HISTORY_MAX];
    double scalar[CL_HISTORY_MAX];
    uint8_t scalar_is_bool[CL_HISTORY_MAX];
    const char *series_name[CL_HISTORY_MAX];
    double *series[CL_HISTORY_MAX]; /* NaN entries: not measured that round */
    int64_t series_len[CL_HISTORY_MAX];
    char warning[256]; /* "" or one line for the user (logreg: did not converge ...) */
} cl_model_history;
/* Appends (silently ignored past CL_HISTORY_MAX, which the kinds never reach). */
void cl_model_history_scalar(cl_model_history *h, const char *name, double v, int is_bool);
/* Copies n values; CL_ENOMEM. */
int cl_model_history_series(cl_model_history *h, const char *name, const double *v, int64_t n);
void cl_model_history_free(cl_model_history *h); /* frees the series and zeroes h */

typedef struct cl_model_ops {
    const char *kind;  /* the model-file kind: "logreg", "mlp", "gbdt", "forest", "tree" */
    const char *title; /* the display name ("GBDT"): the Lua type is churnlab.<title> */
    /* ---- lifecycle ---- */
    const cl_param_def *defs; /* the one parameter table (validation, files, help) */
    size_t params_size;
    void (*defaults)(void *params);
    int (*create)(void **impl, const void *params); /* validates the params (copied) */
    void (*free)(void *impl);
    const void *(*params_of)(const void *impl);
    /* ---- training ---- */
    unsigned fit_flags; /* CL_FIT_*: the fit options the kind takes */
    /* Fits on n x d row-major X and 0/1 labels y; h (zeroed by the caller) gets the report.
     * A refit starts from scratch. Ctrl-C / the progress callback give CL_EINTR. */
    int (*fit)(void *impl, const float *X, const float *y, int64_t n, int64_t d,
               const cl_fit_opts *o, cl_model_history *h, const cl_progress *p);
    int (*fitted)(const void *impl);
    int (*set_names)(void *impl, const char *const *names, int64_t d); /* copies */
    const char *(*name)(const void *impl, int64_t j); /* feature name or NULL */
    /* The rates behind the prior correction (NaN: not recorded); returns 1 when predict in
     * CL_PREDICT_PROB mode corrects. */
    int (*prior)(const void *impl, double *trained, double *truth);
    /* One line for print(m): "12 features, l2 C=1, fitted in 37 iterations". */
    const char *(*describe)(const void *impl, char *buf, size_t cap);
    /* ---- model files ---- */
    /* Reads the kind's model from an open, validated file (the pipeline is read by the caller). */
    int (*read)(void **impl, const cl_mr *r);
    /* Writes the kind's chunks (the caller adds the pipeline and saves). */
    int (*write)(const void *impl, cl_mw *w);
    /* ---- scoring ---- */
    int64_t (*n_features)(const void *impl); /* 0 before fit */
    /* out[i] for the n x d row-major rows of X (d == n_features), in mode. */
    int (*predict)(const void *impl, const float *X, int64_t n, int64_t d, float *out, int mode);
    /* Exact SHAP values on the margin scale (what predict gives in CL_PREDICT_MARGIN mode,
     * before any prior correction): phi is n x (d + 1) row-major, the last column the base
     * value; each row adds up to the margin. Trees use their cover-weighted expectations
     * (TreeSHAP); linear kinds the interventional values w_j (x_j - ref_j) against the
     * reference row ref (d values, NULL: zeros). NULL when the kind has no exact attribution. */
    int (*contrib)(const void *impl, const float *X, int64_t n, int64_t d, const float *ref,
                   float *phi);
    int needs_ref; /* 1 when contrib depends on ref (callers then pass a background mean) */
} cl_model_ops;

typedef struct cl_model cl_model;

/* ---- the registry: defined in core/model_kinds.c (above models/ and trees/), declared here
 * so that callers need one header ---- */
/* The registered kinds, NULL-terminated; and one by its file kind. */
extern const cl_model_ops *const cl_model_kinds[];
const cl_model_ops *cl_model_kinds_ops(const char *kind);
/* The i-th kind (0-based: the built-in ones, then those added by cl_model_kinds_register), NULL past
 * the last: for listing every kind (the Lua binding makes a class for each). */
const cl_model_ops *cl_model_kinds_at(int i);
/* Adds a kind at run time (a plugin, a test's toy classifier): cl_model_kinds_load then reads its
 * files and the Lua binding serves it (lm_kind_register). Call before any thread uses the
 * registry. CL_EINVAL when the kind is taken, CL_ERANGE past CL_MODEL_MAX_EXTRA kinds. */
#define CL_MODEL_MAX_EXTRA 16
int cl_model_kinds_register(const cl_model_ops *ops);

/* Loads a model file of any registered kind, with its pipeline when the file holds one.
 * CL_EFORMAT names the file and the kind when it is not a churn classifier. */
int cl_model_kinds_load(cl_model **out, const char *path);
int cl_model_kinds_read(cl_model **out, const cl_mr *r);
/* ---- the generic handle (models/model.c) ---- */
/* A new unfitted model of a kind from its params struct (NULL: the defaults). */
int cl_model_new(cl_model **out, const cl_model_ops *ops, const void *params);
/* CL_EINVAL naming the first row whose weight is negative or not finite, or when all are 0. */
int cl_model_check_weights(const float *w, int64_t n, const char *who);
/* Fits (see cl_model_ops.fit); the report is kept for cl_model_history. */
int cl_model_fit(cl_model *m, const float *X, const float *y, int64_t n, int64_t d,
                 const cl_fit_opts *o, const cl_progress *p);
/* The report of the last fit (empty for a loaded model); borrowed. */
const cl_model_history *cl_model_history_of(const cl_model *m);
int cl_model_fitted(const cl_model *m);
/* Wraps an owned impl of `ops` (and an owned pipeline, may be NULL); on failure both are freed. */
int cl_model_wrap(cl_model **out, const cl_model_ops *ops, void *impl, cl_pipeline *pipe);
void cl_model_free(cl_model *m);
/* Saves the model (and its pipeline under "pipeline.") atomically. */
int cl_model_save(const cl_model *m, const char *path);

const char *cl_model_kind(const cl_model *m);
const cl_model_ops *cl_model_ops_of(const cl_model *m);
const void *cl_model_impl(const cl_model *m);
void *cl_model_impl_mut(cl_model *m);
int64_t cl_model_n_features(const cl_model *m);
/* The attached pipeline (borrowed), NULL when none. */
const cl_pipeline *cl_model_pipeline(const cl_model *m);

int cl_model_predict(const cl_model *m, const float *X, int64_t n, int64_t d, float *out,
                     int mode);
/* See cl_model_ops.contrib; CL_ENOTSUP naming the kind when it has no exact contributions. */
int cl_model_contrib(const cl_model *m, const float *X, int64_t n, int64_t d, const float *ref,
                     float *phi);
/* Raw rows (the pipeline's input columns) -> probabilities in out[nrows]; CL_EINVAL when the
 * model has no pipeline or a column is missing (named). */
int cl_model_score_frame(const cl_model *m, const cl_frame *raw, float *out);

#endif
