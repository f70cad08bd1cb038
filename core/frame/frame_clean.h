/* frame_clean.h - whole-frame cleaning and sampling: dropna, fillna, forward/backward fill,
 * drop_duplicates, sample (pandas' DataFrame methods of those names).
 *
 * Owner: frame helper. Results are new owned frames or columns (cl_frame_free /
 * cl_frame_column_free); inputs are borrowed. Column lists (subset) name columns of f; NULL with
 * n = 0 means every column. Missing values: see frame.h.
 */
#ifndef CL_FRAME_CLEAN_H
#define CL_FRAME_CLEAN_H

#include <stdint.h>

#include "frame/frame.h"

/* Rows kept in order; a row goes when any (how_all = 0) or all (how_all = 1) of the subset's
 * values are missing. */
int cl_frame_clean_dropna(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                    int how_all);
/* Missing values of the subset's columns filled with num (num and date columns; skipped when
 * num is NaN) or str (cat columns; skipped when NULL); other columns are shared. */
int cl_frame_clean_fillna(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                    double num, const char *str);
/* Each missing value takes the last non-missing value before it (backward = 0, pandas'
 * ffill) or the next one after it (backward = 1, bfill); leading (trailing) missing values
 * stay missing. Any column type. */
int cl_frame_clean_col_fill_forward(cl_column **out, const cl_column *c, int backward);
int cl_frame_clean_fill_forward(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                          int backward);

typedef enum { CL_KEEP_FIRST, CL_KEEP_LAST, CL_KEEP_NONE } cl_keep;
/* dup[i] = 1 when row i repeats the subset's values of another row that is kept: with
 * CL_KEEP_FIRST every occurrence but the first, CL_KEEP_LAST every one but the last,
 * CL_KEEP_NONE every occurrence of a repeated tuple. Missing values equal each other (as
 * pandas' duplicated). *dup is cl_alloc'ed, f->nrow entries. */
int cl_frame_clean_duplicated(const cl_frame *f, const char *const *subset, int n, cl_keep keep,
                        uint8_t **dup);
/* The rows that cl_frame_clean_duplicated does not mark, in order. */
int cl_frame_clean_drop_duplicates(cl_frame **out, const cl_frame *f, const char *const *subset, int n,
                             cl_keep keep);

/* k row indices of a frame of nrow rows drawn with the seeded generator: without
 * replacement (k <= nrow; a partial Fisher-Yates shuffle, rows in draw order) or with it.
 * Same seed, same rows on every machine. *idx is cl_alloc'ed. */
int cl_frame_clean_sample_index(int64_t nrow, int64_t k, int replace, uint64_t seed, int64_t **idx);

#endif
