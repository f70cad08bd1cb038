/* col.h - vectorised column operations: arithmetic, comparisons, masks, missing
 * values, reductions, recoding.
 *
 * Owner: frame helper. Masks are num columns of 0/1 (comparisons with a missing value give
 * 0, as in pandas). Reductions skip missing values. Results are new owned columns (free with
 * cl_frame_column_free); inputs are borrowed. Column kinds: see frame.h.
 */
#ifndef CL_FRAME_COL_H
#define CL_FRAME_COL_H

#include "frame/frame.h"

typedef enum { CL_ARITH_ADD, CL_ARITH_SUB, CL_ARITH_MUL, CL_ARITH_DIV, CL_ARITH_POW,
               CL_ARITH_MOD } cl_arith;
typedef enum { CL_CMP_LT, CL_CMP_LE, CL_CMP_GT, CL_CMP_GE, CL_CMP_EQ, CL_CMP_NE } cl_cmp;

/* a <op> b element-wise on num (or date) columns of equal length; date - date gives num days,
 * date +/- num stays a date. */
int cl_col_arith(cl_column **out, cl_arith op, const cl_column *a, const cl_column *b);
/* a <op> s, or s <op> a when scalar_left. */
int cl_col_arith_scalar(cl_column **out, cl_arith op, const cl_column *a, double s, int scalar_left);
/* Comparisons give masks. num/date vs num/date; cat vs cat compares labels (lexically for
 * ordering). */
int cl_col_cmp(cl_column **out, cl_cmp op, const cl_column *a, const cl_column *b);
int cl_col_cmp_scalar(cl_column **out, cl_cmp op, const cl_column *a, double s);
/* cat column against a label (ordering is lexical, by bytes). */
int cl_col_cmp_str(cl_column **out, cl_cmp op, const cl_column *a, const char *s);
/* Membership: labels (cat) or numbers (num/date). */
int cl_col_isin_str(cl_column **out, const cl_column *a, const char *const *set, int n);
int cl_col_isin_num(cl_column **out, const cl_column *a, const double *set, int n);

/* Mask logic: and/or of two masks, not of one (missing counts as false). */
int cl_col_mask_and(cl_column **out, const cl_column *a, const cl_column *b);
int cl_col_mask_or(cl_column **out, const cl_column *a, const cl_column *b);
int cl_col_mask_not(cl_column **out, const cl_column *a);

/* Missing values. */
int cl_col_isna(cl_column **out, const cl_column *a);
int cl_col_fillna_num(cl_column **out, const cl_column *a, double v);   /* num/date */
int cl_col_fillna_str(cl_column **out, const cl_column *a, const char *v); /* cat */
int64_t cl_col_count(const cl_column *a);   /* non-missing values */

/* Reductions over non-missing values (num/date columns). Empty (all missing): sum 0, the
 * others NaN. std is the sample standard deviation (n - 1), as pandas. Sums are Kahan-free
 * but ordered (left to right in double), so results are deterministic. */
int cl_col_sum(const cl_column *a, double *v);
int cl_col_mean(const cl_column *a, double *v);
int cl_col_std(const cl_column *a, double *v);
int cl_col_min(const cl_column *a, double *v);
int cl_col_max(const cl_column *a, double *v);
/* Quantile q in [0, 1] with linear interpolation (numpy's default, pandas' quantile). */
int cl_col_quantile(const cl_column *a, double q, double *v);
int cl_col_median(const cl_column *a, double *v);
/* Distinct non-missing values. */
int cl_col_nunique(const cl_column *a, int64_t *n);
/* Distinct non-missing values in order of first appearance: for cat, codes (int32) into the
 * column's dictionary; for num/date, values. One of *codes / *vals is set (cl_alloc_free it). */
int cl_col_unique(const cl_column *a, int32_t **codes, double **vals, int64_t *n);
/* Counts of each distinct value: a frame {value, count} sorted by count descending, ties in
 * order of first appearance. Missing values are not counted. */
int cl_col_value_counts(cl_frame **out, const cl_column *a, const char *name);
/* The same rows with shares instead of counts: a frame {value, share} whose shares are the
 * counts divided by the number of non-missing values (they sum to 1; "p" when the value
 * column is itself named "share"). */
int cl_col_value_shares(cl_frame **out, const cl_column *a, const char *name);

/* Conversions: num -> cat (labels are the shortest round-trip text), cat -> num (every
 * label must be a number: CL_EINVAL naming the first that is not), date -> num, num -> date,
 * x -> same type (a retained reference). */
int cl_col_astype(cl_column **out, const cl_column *a, cl_coltype to);
/* Recoding of a cat column: labels from[i] become to_str[i] (cat result) or to_num[i] (num
 * result; exactly one of to_str/to_num is non-NULL). Unmapped labels become missing. */
int cl_col_map(cl_column **out, const cl_column *a, const char *const *from,
               const char *const *to_str, const double *to_num, int n);

#endif
