/* frame_text.h - date parts and month arithmetic on date columns (pandas' .dt accessors and
 * DateOffset(months=k)), and string methods on cat columns (pandas' .str accessors).
 *
 * Owner: frame helper. Results are new owned columns (cl_frame_column_free); inputs are borrowed.
 * Missing values stay missing (masks: 0, as every churnlab comparison).
 */
#ifndef CL_FRAME_TEXT_H
#define CL_FRAME_TEXT_H

#include "frame/frame.h"

typedef enum { CL_DT_YEAR, CL_DT_MONTH, CL_DT_DAY, CL_DT_WEEKDAY, CL_DT_DAYOFYEAR,
               CL_DT_QUARTER, CL_DT_HOUR } cl_dt_part;
/* A num column of the part of each date: weekday 0 = Monday .. 6 = Sunday, as pandas. */
int cl_frame_text_col_dt_part(cl_column **out, const cl_column *c, cl_dt_part part);
/* Each date k calendar months later (earlier for k < 0), the day clamped to the end of the
 * target month (Jan 31 + 1 month = Feb 28/29), the time of day kept: pandas'
 * date + DateOffset(months=k). */
int cl_frame_text_col_add_months(cl_column **out, const cl_column *c, int k);

typedef enum { CL_STR_LOWER, CL_STR_UPPER, CL_STR_STRIP, CL_STR_REPLACE, CL_STR_SPLIT,
               CL_STR_LEN, CL_STR_CONTAINS, CL_STR_STARTSWITH, CL_STR_ENDSWITH } cl_str_op;
/* One operation on every label of a cat column (computed once per distinct label):
 *   lower, upper: ASCII letters only (other bytes kept)    -> cat
 *   strip: leading and trailing ASCII whitespace           -> cat
 *   replace: every occurrence of a by b (literal)          -> cat
 *   split: part k (1-based; negative counts from the end) of the label split on a (literal,
 *          non-empty); missing when there is no such part  -> cat
 *   len: characters (UTF-8 code points)                   -> num
 *   contains / startswith / endswith a (literal)          -> num mask
 */
int cl_frame_text_col_str(cl_column **out, const cl_column *c, cl_str_op op, const char *a, const char *b,
               int k);

#endif
