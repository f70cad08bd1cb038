/* pipeline.h - preprocessing: a fitted pipeline turns a frame into the float32 tensor (and 0/1
 * label tensor) a model eats, with the same columns for every frame it transforms.
 *
 * Owner: frame helper. Used by every model binding (through Lua) and by the tree models for
 * readable rules and per-column SHAP sums (cl_pipeline_source / cl_pipeline_out_categorical).
 *
 * Steps, per feature column (every column but the target and the dropped ones, frame order):
 *   num/date: impute (mean | median | most_frequent | constant | none), then scale (none |
 *             minmax | standard | robust) with the statistics of the fit frame; `clip` clamps minmax
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
 *               target  one column: the category's smoothed mean of the 0/1 target (sklearn's
 *                       TargetEncoder, binary target): smooth m >= 0 gives
 *                       (sum_c + m * mean) / (n_c + m); smooth "auto" the empirical-Bayes
 *                       lambda * mean_c + (1 - lambda) * mean, lambda = n_c var(y) /
 *                       (n_c var(y) + ss_c / n_c), ss_c the sum of squared deviations of y
 *                       from mean_c in category c (lambda NaN, i.e. no rows or var 0:
 *                       mean). Missing values (impute = none) are a category of their own;
 *                       unknown categories get the fit frame's mean. transform uses the
 *                       encodings of the whole fit frame; cl_pipeline_fit_transform gives
 *                       the fit frame out-of-fold encodings (no row sees its own target).
 *                       Never scaled. Needs a target.
 *   onehot_drop (one-hot only, sklearn's OneHotEncoder drop): first drops the column of the
 *             first category (sorted labels) of every cat column, if_binary only of those
 *             with exactly two kept categories (the "(other)" column is never dropped). A
 *             dropped category, a missing value (impute = none) and an unknown category
 *             (unknown = zero) then all give all zeros, as sklearn's drop with
 *             handle_unknown = "ignore".
 *   add_indicator: every input column with a missing value in the fit frame gets one more
 *             output, "name=(missing)", 1 where the value was missing before imputation
 *             (sklearn's SimpleImputer(add_indicator = True), features = "missing-only");
 *             it is the column's last output, never scaled.
 *   robust scaling: (x - median) / (q75 - q25) (numpy's linear quantiles over the imputed
 *             fit values; an IQR of 0 divides by 1), sklearn's RobustScaler.
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
 * Ownership: cl_pipeline_new / cl_pipeline_io_read return owned pipelines (cl_pipeline_free);
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
typedef enum { CL_ENCODE_ONEHOT, CL_ENCODE_ORDINAL, CL_ENCODE_NATIVE, CL_ENCODE_NONE,
               CL_ENCODE_TARGET } cl_encode;
typedef enum { CL_SCALE_NONE, CL_SCALE_MINMAX, CL_SCALE_STANDARD, CL_SCALE_ROBUST } cl_scale;
typedef enum { CL_UNKNOWN_ZERO, CL_UNKNOWN_OTHER } cl_unknown;
typedef enum { CL_ONEHOT_DROP_NONE, CL_ONEHOT_DROP_FIRST, CL_ONEHOT_DROP_IF_BINARY } cl_onehot_drop;

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
    cl_onehot_drop onehot_drop;   /* default none */
    int add_indicator;            /* a 0/1 "name=(missing)" output per column missing at fit */
    double smooth;                /* encode = target: m >= 0, or < 0 for "auto" (default) */
    int cv;                       /* encode = target: folds of fit_transform (default 5) */
    int shuffle;                  /* encode = target: shuffle the folds (default 1) */
    uint64_t seed;                /* encode = target: seed of the shuffle (default 42) */
} cl_pipeline_opts;

void cl_pipeline_opts_default(cl_pipeline_opts *o);
/* Name lists for parsers and help: "mean|median|most_frequent|constant|none" etc. */
extern const char *const CL_PIPELINE_IMPUTE_NAMES;
extern const char *const CL_PIPELINE_ENCODE_NAMES;
extern const char *const CL_PIPELINE_SCALE_NAMES;
extern const char *const CL_PIPELINE_UNKNOWN_NAMES;
extern const char *const CL_PIPELINE_ONEHOT_DROP_NAMES;

typedef struct cl_pipeline cl_pipeline;

/* An unfitted pipeline with options o (NULL: the defaults), checked (CL_EINVAL naming the bad
 * one) and copied, strings and lists included. */
int cl_pipeline_new(cl_pipeline **out, const cl_pipeline_opts *o);
/* Fits every step on frame f, replacing what an earlier fit learnt: a refit equals the fit of
 * a new pipeline with the same options (negatives a fit found are found again; those given in
 * the options, or read from a file, are kept). On failure p is left as it was. */
int cl_pipeline_fit(cl_pipeline *p, const cl_frame *f);
void cl_pipeline_free(cl_pipeline *p);

/* X: rows x n_features float32 (owned); y: rows float32 0/1 (owned), or NULL when y is NULL
 * or the frame has no target column. */
int cl_pipeline_transform(const cl_pipeline *p, const cl_frame *f, cl_tensor **X, cl_tensor **y);

/* Fits p on f and transforms f, as fit then transform, except that target-encoded columns
 * get out-of-fold encodings: row i's value is the encoding fitted on the rows of the other
 * cv - 1 folds (cl_pipeline_cv_folds on the 0/1 target), as sklearn's
 * TargetEncoder.fit_transform. *X and *y (y may be NULL) are owned. On failure p is left as
 * it was. */
int cl_pipeline_fit_transform(cl_pipeline *p, const cl_frame *f, cl_tensor **X, cl_tensor **y);

/* Stratified fold ids 0..k-1 of n rows with 0/1 labels y: sklearn's StratifiedKFold
 * assignment (classes in order of first appearance, sorted labels dealt round-robin into
 * the k folds, each class's fold ids given to its rows in row order); shuffle permutes each
 * class's fold ids with a splitmix64 stream from seed (not numpy's: other folds than
 * sklearn's shuffled ones, the same sizes). Fails when k < 2 or k > n. */
int cl_pipeline_cv_folds(int32_t *fold, const float *y, int64_t n, int k, int shuffle,
                         uint64_t seed);

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
 * reader's own prefixes are restored afterwards ("" then). Format 1 is written, chunk for
 * chunk as before format 2 existed, unless the pipeline uses onehot_drop, add_indicator,
 * encode = target or scale = robust (format 2 adds the chunks opts2, smooth, seed,
 * column_ext and target_encodings); the reader takes both (tests/data/prep_v1_*.clm). */
int cl_pipeline_io_write(const cl_pipeline *p, cl_mw *w, const char *prefix);
int cl_pipeline_io_read(cl_mr *r, const char *prefix, cl_pipeline **out);
/* Standalone files of kind "pipeline". */
int cl_pipeline_io_save(const cl_pipeline *p, const char *path);
int cl_pipeline_io_load(cl_pipeline **out, const char *path);

#endif
