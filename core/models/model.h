/* model.h - the one interface of every churn classifier (logreg, mlp, gbdt, forest, tree).
 *
 *   cl_model *m;
 *   cl_model_load(&m, "models/best.clm");      // any kind; its pipeline when the file has one
 *   cl_model_predict(m, X, n, d, out, CL_PREDICT_PROB);   // P(churn) per row
 *   cl_model_score_frame(m, raw, out);          // raw customer rows through the pipeline
 *   cl_model_contrib(m, X, n, d, phi);          // SHAP values, n x (d + 1), last = base value
 *   cl_model_free(m);
 *
 * Each kind provides one cl_model_ops table next to its code (cl_logreg_model_ops in
 * linear.c, cl_mlp_model_ops in mlp.c, cl_gbdt_model_ops in gbdt.c ...); the table of kinds
 * that cl_model_load dispatches on lives in core/model_kinds.c, above every model folder, so
 * the folder graph stays a DAG (trees -> models, never back).
 *
 * A new kind is one ops table and one line in model_kinds.c: the Lua binding, model files,
 * help() and the generic tests (tests/core/models/test_model.c runs every registered kind,
 * a toy classifier included) come from this interface.
 *
 * Predict modes are cl_predict_mode (models/prior.h): PROB applies the model's
 * prior_correction parameter, MARGIN gives the raw score, the others force the probabilities
 * without / with the prior correction.
 *
 * Ownership: cl_model_load / cl_model_wrap return an owned handle freed by cl_model_free
 * (which frees the kind's model and the pipeline). Thread safety: after load every const
 * function may run concurrently on one handle (the service scores from its thread pool).
 */
#ifndef CL_MODEL_H
#define CL_MODEL_H

#include <stdint.h>

#include "base/modelio.h"
#include "models/prior.h"

typedef struct cl_frame cl_frame;
typedef struct cl_pipeline cl_pipeline;

typedef struct cl_model_ops {
    const char *kind; /* the model-file kind: "logreg", "mlp", "gbdt", "forest", "tree" */
    /* Reads the kind's model from an open, validated file (the pipeline is read by the caller). */
    int (*read)(void **impl, const cl_mr *r);
    /* Writes the kind's chunks (the caller adds the pipeline and saves). */
    int (*write)(const void *impl, cl_mw *w);
    void (*free)(void *impl);
    int64_t (*n_features)(const void *impl);
    /* out[i] for the n x d row-major rows of X (d == n_features), in mode. */
    int (*predict)(const void *impl, const float *X, int64_t n, int64_t d, float *out, int mode);
    /* SHAP values on the margin scale: phi is n x (d + 1), the last column the base value;
     * rows add up to the margin. NULL when the kind has no exact attribution. */
    int (*contrib)(const void *impl, const float *X, int64_t n, int64_t d, double *phi);
} cl_model_ops;

typedef struct cl_model cl_model;

/* The registered kinds (core/model_kinds.c), NULL-terminated; and one by its file kind. */
extern const cl_model_ops *const cl_model_kinds[];
const cl_model_ops *cl_model_kind_ops(const char *kind);

/* Loads a model file of any registered kind, with its pipeline when the file holds one.
 * CL_EFORMAT names the file and the kind when it is not a churn classifier. */
int cl_model_load(cl_model **out, const char *path);
int cl_model_read(cl_model **out, const cl_mr *r);
/* Wraps an owned impl of `ops` (and an owned pipeline, may be NULL); on failure both are freed. */
int cl_model_wrap(cl_model **out, const cl_model_ops *ops, void *impl, cl_pipeline *pipe);
void cl_model_free(cl_model *m);
/* Saves the model (and its pipeline under "pipeline.") atomically. */
int cl_model_save(const cl_model *m, const char *path);

const char *cl_model_kind(const cl_model *m);
const cl_model_ops *cl_model_ops_of(const cl_model *m);
const void *cl_model_impl(const cl_model *m);
int64_t cl_model_n_features(const cl_model *m);
/* The attached pipeline (borrowed), NULL when none. */
const cl_pipeline *cl_model_pipeline(const cl_model *m);

int cl_model_predict(const cl_model *m, const float *X, int64_t n, int64_t d, float *out,
                     int mode);
/* CL_EINVAL naming the kind when it has no contributions. */
int cl_model_contrib(const cl_model *m, const float *X, int64_t n, int64_t d, double *phi);
/* Raw rows (the pipeline's input columns) -> probabilities in out[nrows]; CL_EINVAL when the
 * model has no pipeline or a column is missing (named). */
int cl_model_score_frame(const cl_model *m, const cl_frame *raw, float *out);

#endif
