/* frame_ops.h - whole-frame operations: sorting, concatenation, splits and folds
 * (frame_ops.c), group-by, describe and cross tables (frame_group.c), joins (frame_join.c).
 *
 * Owner: frame helper. Results are new owned frames (cl_frame_free) or cl_alloc'ed index
 * arrays (cl_alloc_free); inputs are borrowed. Random steps take a seed and give the same result
 * for the same seed on every machine and thread count.
 */
#ifndef CL_FRAME_OPS_H
#define CL_FRAME_OPS_H

#include <stdint.h>

#include "frame/frame.h"

/* ---- sorting and combining (frame_ops.c) ---------------------------------------------------- */

/* Stable sort by keys (first key first); desc[i] != 0 sorts key i descending (desc may be
 * NULL). Categories sort by label (bytewise), missing values last in either direction. */
int cl_frame_ops_sort_index(const cl_frame *f, const char *const *keys, const int *desc, int nkeys,
                        int64_t **order);
int cl_frame_ops_sort(cl_frame **out, const cl_frame *f, const char *const *keys, const int *desc,
                  int nkeys);
/* Rows of frames[0], then frames[1] ...: the same column names (any order; the first frame's
 * order is kept) and types (cat dictionaries are merged). */
int cl_frame_ops_concat(cl_frame **out, const cl_frame *const *frames, int n);

/* ---- splits and folds (frame_ops.c) --------------------------------------------------------- */

/* Train/test split: round(nrow * test) rows go to the test part (test in (0, 1)), or, with a
 * stratify column, the same share of every stratum (largest remainders make the total exact).
 * Both index lists are in increasing row order. */
int cl_frame_ops_split(const cl_frame *f, double test, const char *stratify, uint64_t seed,
                   int64_t **train, int64_t *ntrain, int64_t **test_idx, int64_t *ntest);
/* k-fold assignment: fold[i] in [0, k) for every row. With `stratify`, every fold gets the
 * same share of each stratum; with `group`, all rows of a group share a fold (stratified
 * group k-fold when both are given: groups, largest first, go to the fold whose per-stratum
 * shares stay most even). */
int cl_frame_ops_kfold(const cl_frame *f, int k, const char *stratify, const char *group,
                   uint64_t seed, int32_t **fold);

/* ---- group-by (frame_group.c) ------------------------------------------------------------ */

typedef enum { CL_AGG_COUNT, CL_AGG_SUM, CL_AGG_MEAN, CL_AGG_MIN, CL_AGG_MAX, CL_AGG_STD,
               CL_AGG_MEDIAN, CL_AGG_NUNIQUE, CL_AGG_FIRST, CL_AGG_LAST, CL_AGG_SIZE,
               CL_AGG_QUANTILE /* values are only ever appended */ } cl_agg_fn;
/* "count|sum|mean|min|max|std|median|nunique|first|last|size" */
extern const char *const CL_FRAME_GROUP_AGG_NAMES;
int cl_frame_group_agg_parse(const char *s, cl_agg_fn *fn);
/* The same, also accepting "q<percent>" ("q90", "q2.5"): CL_AGG_QUANTILE with *q = percent /
 * 100 in [0, 1] (pandas' quantile: linear interpolation). */
int cl_frame_group_agg_parse_q(const char *s, cl_agg_fn *fn, double *q);

typedef struct cl_agg {
    const char *column;  /* input column (ignored for size) */
    cl_agg_fn fn;
    const char *name;    /* output name; NULL: "<column>_<fn>" ("size" for size) */
} cl_agg;

/* One row per distinct key tuple, sorted by the keys (missing keys form their own group,
 * last); the key columns, then one column per aggregation. count counts non-missing values,
 * size counts rows; cat columns allow count, nunique, first, last, size. */
int cl_frame_group_by(cl_frame **out, const cl_frame *f, const char *const *keys, int nkeys,
                     const cl_agg *aggs, int naggs);
/* The same with q[a] the quantile in [0, 1] of each CL_AGG_QUANTILE aggregate (q may be NULL
 * when there is none; default name "<column>_quantile"). */
int cl_frame_group_by_q(cl_frame **out, const cl_frame *f, const char *const *keys, int nkeys,
                       const cl_agg *aggs, int naggs, const double *q);

/* ---- joins (frame_join.c) ------------------------------------------------------------------ */

typedef enum { CL_JOIN_INNER, CL_JOIN_LEFT, CL_JOIN_RIGHT, CL_JOIN_OUTER } cl_join_how;
/* Hash join on equal key values (cat keys match by label, num by value; missing keys never
 * match, unlike pandas, which pairs NaN with NaN). Rows: inner and left joins follow the left
 * rows in order, each with its matches in right order (left: an unmatched left row once,
 * right columns missing); right joins follow the right rows, each with its left matches in
 * left order; outer joins hold the left join's rows and then the unmatched right rows,
 * stably sorted by the keys (missing keys last), as pandas' merge(how="outer"). Right and
 * outer joins coalesce the key columns (the left key, else the right one). Columns: left's,
 * then right's non-key columns; a non-key name on both sides gets `lsuffix` on the left and
 * `rsuffix` on the right (pandas' suffixes; "" leaves that side's name as it is). */
int cl_frame_join_ex(cl_frame **out, const cl_frame *left, const cl_frame *right,
                     const char *const *on, int non, cl_join_how how, const char *lsuffix,
                     const char *rsuffix);
/* cl_frame_join_ex with suffixes ("", suffix), suffix NULL meaning "_right". */
int cl_frame_join(cl_frame **out, const cl_frame *left, const cl_frame *right,
                  const char *const *on, int non, cl_join_how how, const char *suffix);

/* One row per column: column, type, count, missing, mean, std, min, 25%, 50%, 75%, max (num
 * and date), unique, top, freq (cat). */
int cl_frame_group_describe(cl_frame **out, const cl_frame *f);
/* Counts of (a, b) pairs: a column named a holding a's levels (sorted), one count column per
 * level of b (sorted); normalize: 0 counts, 1 row shares, 2 column shares. Missing values are
 * left out. */
int cl_frame_group_crosstab(cl_frame **out, const cl_frame *f, const char *a, const char *b, int normalize);
/* The same with margins, as pandas' margins=True: a last row "All" (a's key column becomes
 * cat, numbers as %.15g text) holding b's totals, and a last column "All" holding a's totals
 * (the grand total in the corner). With normalize 1 the row holds b's overall shares and
 * the column is left out (it would be all ones); with 2 the column holds a's overall
 * shares and the row is left out. */
int cl_frame_group_crosstab_margins(cl_frame **out, const cl_frame *f, const char *a, const char *b,
                              int normalize);

#endif
