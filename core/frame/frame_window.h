/* frame_window.h - row-order column transforms, optionally within groups: cumulative sums,
 * shifts, differences, ranks and rolling windows (pandas' cumsum, shift, diff, rank,
 * rolling, and the same through groupby).
 *
 * Owner: frame helper. Every result has one value per input row, aligned with it (like
 * pandas' groupby(...).transform): gid[i] in [0, ng) names the group of row i (NULL: the
 * whole column is one group) and a group's rows are taken in row order, so sort by time
 * first. Missing values follow pandas: they stay missing and are skipped by cumulative sums
 * and windows. Results are new owned columns (cl_frame_column_free); inputs are borrowed.
 */
#ifndef CL_FRAME_WINDOW_H
#define CL_FRAME_WINDOW_H

#include <stdint.h>

#include "frame/frame.h"

/* Group ids of f's rows over the named key columns (missing values form a group of their
 * own, as in cl_frame_group_by): *gid is cl_alloc'ed (cl_alloc_free), ids in order of first
 * appearance. */
int cl_frame_window_groups(const cl_frame *f, const char *const *keys, int nkeys, int32_t **gid,
                    int32_t *ng);

/* Running sum of a num column, missing values skipped (they stay missing in the output). */
int cl_frame_window_col_cumsum(cl_column **out, const cl_column *c, const int32_t *gid, int32_t ng);
/* Value k rows earlier in the group (k < 0: later); missing where there is none. Any type. */
int cl_frame_window_col_shift(cl_column **out, const cl_column *c, int64_t k, const int32_t *gid, int32_t ng);
/* x[i] - x[i - k] within the group (num; date gives num days). */
int cl_frame_window_col_diff(cl_column **out, const cl_column *c, int64_t k, const int32_t *gid, int32_t ng);

typedef enum { CL_RANK_AVERAGE, CL_RANK_MIN, CL_RANK_MAX, CL_RANK_FIRST, CL_RANK_DENSE } cl_rank_method;
/* "average|min|max|first|dense" */
int cl_frame_window_rank_parse(const char *s, cl_rank_method *m);
/* 1-based ranks within the group (num/date by value, cat by label bytewise); ties by method
 * (first: in row order, also when desc); missing values stay missing (pandas na_option
 * "keep"). */
int cl_frame_window_col_rank(cl_column **out, const cl_column *c, cl_rank_method m, int desc,
                const int32_t *gid, int32_t ng);

typedef enum { CL_WIN_SUM, CL_WIN_MEAN, CL_WIN_MIN, CL_WIN_MAX, CL_WIN_STD, CL_WIN_COUNT,
               CL_WIN_MEDIAN } cl_win_fn;
/* "sum|mean|min|max|std|count|median" */
int cl_frame_window_win_parse(const char *s, cl_win_fn *fn);
/* fn over the last `window` rows of the group up to and including each row (a trailing
 * window, pandas' rolling(window)); missing unless it holds at least min_periods
 * non-missing values (pandas' default min_periods is window). std is the sample one (n - 1); count needs min_periods rows, missing or not, as pandas 1.5.
 * Each window is summed afresh in row order: O(rows x window), deterministic. */
int cl_frame_window_col_rolling(cl_column **out, const cl_column *c, int64_t window, int64_t min_periods,
                   cl_win_fn fn, const int32_t *gid, int32_t ng);

#endif
