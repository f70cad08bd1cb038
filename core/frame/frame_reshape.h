/* frame_reshape.h - long <-> wide: pivot, pivot_table and melt (pandas' functions of those
 * names).
 *
 * Owner: frame helper. Results are new owned frames (cl_frame_free); inputs are borrowed.
 */
#ifndef CL_FRAME_RESHAPE_H
#define CL_FRAME_RESHAPE_H

#include "frame/frame.h"
#include "frame/frame_ops.h"

/* One row per distinct tuple of the index columns, sorted (as group-by); one column per
 * distinct value of `columns` in sorted order, named by its label (numbers as the shortest
 * text that reads back, whole numbers without a point), holding fn of `values` (q: the
 * quantile of CL_AGG_QUANTILE) over the rows
 * of that cell; empty cells are missing (or fill, when fill is not NaN; num results only).
 * Rows with a missing index or columns value are left out, and so is a row or a column whose
 * every cell is missing (pandas' pivot_table, dropna=True). unique = 1 is pandas' pivot: no
 * aggregation, and two rows in one cell are an error naming them. */
int cl_frame_reshape_pivot_table(cl_frame **out, const cl_frame *f, const char *const *index, int nidx,
                         const char *columns, const char *values, cl_agg_fn fn, double q,
                         double fill, int unique);

/* Wide -> long: for each value column in order, every row: the id columns, a cat column
 * var_name holding the value column's name and value_name holding its value (pandas' melt;
 * nval = 0 melts every non-id column). The value columns must share one type. */
int cl_frame_reshape_melt(cl_frame **out, const cl_frame *f, const char *const *id, int nid,
                  const char *const *vals, int nval, const char *var_name, const char *value_name);

/* Frame <-> tensor without a pipeline: the named num or date columns (dates as days) as a
 * rows x k float32 tensor (missing values NaN; a cat column is an error naming it), and a
 * 1-D or 2-D tensor as a frame of num columns names[0..cols) (NULL: x1, x2, ...). */
struct cl_tensor;
int cl_frame_reshape_to_tensor(struct cl_tensor **out, const cl_frame *f, const char *const *names, int k);
int cl_frame_reshape_from_tensor(cl_frame **out, const struct cl_tensor *t, const char *const *names,
                         int k);

#endif
