/* prep.h - preprocessing: a fitted pipeline turns a frame into the float32 tensor (and 0/1
 * label tensor) a model eats, with the same columns for every frame it transforms.
 *
 * Owner: frame helper. Used by every model binding (through Lua) and by the tree models for
 * readable rules and per-column SHAP sums (cl_pipeline_source / cl_pipeline_out_categorical).
 *
 * Steps, per feature column (every column but the target and the dropped ones, frame order):
 *   num/date: impute (mean | median | most_frequent | constant | none), then scale (none |
 *             minmax | standard) with the statistics of the fit frame; `clip` clamps minmax
 *             output to [0, 1] for values outside the fitted range.
 *   cat:      impute (most_frequent for mean/median/most_frequent, the label `fill_label` for
 *             constant, none: missing stays missing), then encode:
 *               onehot  one 0/1 column per category (sorted by label), "name=label";
 *                       missing / unknown categories give all zeros, or a 1 in a "name=(other)"
 *                       column when unknown = other (which also takes the categories beyond
 *                       max_categories, the most frequent being kept);
 *               ordinal one column of codes 0..k-1 (sorted labels), then scaled like numbers;
 *                       missing/unknown -> NaN (or k with unknown = other);
 *               native  like ordinal but never scaled: integer codes as float for trees, the
 *                       output column reported categorical (cl_pipeline_out_categorical);
 *               none    categories stay labels: only for cl_pipeline_transform_frame (the
 *                       imputer step); a tensor cannot hold them.
 * `columns` restricts the inputs, so one pipeline can be one step (cl.prep.scaler{...} etc.).
 * Unknown categories at transform time are never an error. A cat column met as num at
 * transform time (or the reverse) is converted by its text, so a one-row frame whose types
 * were inferred differently still gives the same columns.
 *
 * Target: a cat target needs `positive` (its label for 1); a num target must hold 0/1 (or
 * `positive` given as a number). transform gives y = NULL when the frame has no target column
 * (scoring new data); a missing target value is an error naming the row. With `positive`, the
 * values meaning 0 are `negative` when given, else the one other value in the fit frame (fit
 * fails when it holds more, asking for `negative`); any other value ("Maybe" when positive is
 * "Yes" and the negative "No") is an error naming the value and the row, at fit and at
 * transform, never a silent 0. Pipelines read from files written before negatives were
 * recorded map every value but the positive to 0, as they did.
 *
 * Ownership: cl_pipeline_fit / cl_pipeline_read return owned pipelines (cl_pipeline_free);
 * strings returned by the getters are borrowed until the pipeline is freed.
 */
#ifndef CL_PREP_H
#define CL_PREP_H

#include <stdint.h>

#include "frame/frame.h"
#include "base/modelio.h"
#include "tensor/tensor.h"

typedef enum { CL_IMPUTE_MEAN, CL_IMPUTE_MEDIAN, CL_IMPUTE_MOST_FREQUENT, CL_IMPUTE_CONSTANT,
               CL_IMPUTE_NONE } cl_impute;
typedef enum { CL_ENCODE_ONEHOT, CL_ENCODE_ORDINAL, CL_ENCODE_NATIVE, CL_ENCODE_NONE } cl_encode;
typedef enum { CL_SCALE_NONE, CL_SCALE_MINMAX, CL_SCALE_STANDARD } cl_scale;
typedef enum { CL_UNKNOWN_ZERO, CL_UNKNOWN_OTHER } cl_unknown;

typedef struct cl_pipeline_opts {
    const char *target;           /* label column or NULL */
    const char *positive;         /* label (cat target) or number text (num target), or NULL */
    const char *const *drop;      /* columns left out */
    int ndrop;
    const char *const *columns;   /* the only input columns (NULL: every column not dropped) */
    int ncolumns;
    cl_impute impute;             /* default median */
    double fill_value;            /* constant impute for numbers (default 0) */
    const char *fill_label;       /* constant impute for categories (default "missing") */
    cl_encode encode;             /* default onehot */
    cl_unknown unknown;           /* default zero */
    int max_categories;           /* per cat column, 0 = all */
    cl_scale scale;               /* default none */
    int clip;                     /* minmax: clamp to [0, 1] */
    const char *const *negative;  /* target values meaning 0 (labels, or number text for a num
                                   * target); NULL: the one other value the fit frame holds */
    int nnegative;
} cl_pipeline_opts;

void cl_pipeline_opts_default(cl_pipeline_opts *o);
/* Name lists for parsers and help: "mean|median|most_frequent|constant|none" etc. */
extern const char *const CL_IMPUTE_NAMES;
extern const char *const CL_ENCODE_NAMES;
extern const char *const CL_SCALE_NAMES;
extern const char *const CL_UNKNOWN_NAMES;

typedef struct cl_pipeline cl_pipeline;

/* Fits every step on frame f (opts is copied). */
int cl_pipeline_fit(cl_pipeline **out, const cl_frame *f, const cl_pipeline_opts *o);
void cl_pipeline_free(cl_pipeline *p);

/* X: rows x n_features float32 (owned); y: rows float32 0/1 (owned), or NULL when y is NULL
 * or the frame has no target column. */
int cl_pipeline_transform(const cl_pipeline *p, const cl_frame *f, cl_tensor **X, cl_tensor **y);

/* The frame with every input column replaced, in place, by its output columns (num columns
 * named like the features; with encode = none, cat inputs stay cat, imputed); other columns
 * (the target, dropped or unselected ones) pass through unchanged. *out is owned. */
int cl_pipeline_transform_frame(const cl_pipeline *p, const cl_frame *f, cl_frame **out);

/* Output columns. */
int cl_pipeline_n_features(const cl_pipeline *p);
const char *cl_pipeline_feature_name(const cl_pipeline *p, int j);
/* Source of output column j: the original column name and, for a one-hot column, the
 * category label ("(other)" for the other column); *label = NULL otherwise. */
void cl_pipeline_source(const cl_pipeline *p, int j, const char **column, const char **label);
/* Output column j back in the units of its input column: x = z * scale + shift (the inverse
 * of the fitted scaling; imputation is not undone). Returns 1 for a numeric (or ordinal)
 * output; 0, with scale 1 and shift 0, for one-hot indicators and native categorical codes. */
int cl_pipeline_unscale(const cl_pipeline *p, int j, double *scale, double *shift);
/* 1 when output column j holds native categorical codes (encode = native); its labels are
 * cl_pipeline_category(p, j, code) for code 0..ncat-1 (and ncat is "(other)" if present). */
int cl_pipeline_out_categorical(const cl_pipeline *p, int j, int *ncat);
const char *cl_pipeline_category(const cl_pipeline *p, int j, int code);
const cl_pipeline_opts *cl_pipeline_options(const cl_pipeline *p);
/* Input feature columns (before encoding). */
int cl_pipeline_n_inputs(const cl_pipeline *p);
const char *cl_pipeline_input_name(const cl_pipeline *p, int i);

/* Into / out of the shared model container: every chunk name is prefixed with `prefix`
 * ("pipeline." is the convention for a pipeline stored beside a model). The writer's and
 * reader's own prefixes are restored afterwards ("" then). */
int cl_pipeline_write(const cl_pipeline *p, cl_mw *w, const char *prefix);
int cl_pipeline_read(cl_mr *r, const char *prefix, cl_pipeline **out);
/* Standalone files of kind "pipeline". */
int cl_pipeline_save(const cl_pipeline *p, const char *path);
int cl_pipeline_load(cl_pipeline **out, const char *path);

#endif
