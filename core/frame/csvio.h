/* csvio.h - reading CSV files into frames (on libcsv) and writing frames as CSV.
 *
 * Owner: frame helper.
 *
 * Reading: one streaming pass with libcsv. Fields are staged per record and committed to
 * per-column growable buffers only when the record is complete (so a skipped bad line leaves
 * no trace). Types are inferred in the same pass: a column starts unknown (all missing so
 * far), becomes num on its first number, date on its first ISO date (YYYY-MM-DD or
 * YYYY-MM-DD[T ]HH:MM:SS), cat on anything else; a num or date column that later meets text
 * falls back to cat, and the rows it had already seen are re-read in a short second pass so
 * categories keep their exact spelling ("007" stays "007"). All-missing columns are num.
 * Numbers parse with an exact fast path (Clinger: <= 19 digits, |exp10| <= 22) and strtod in
 * the C locale otherwise; only plain decimal syntax is a number (no hex, no "inf"). Empty and
 * whitespace-only fields are always missing; `na` lists the other missing markers (default
 * NA, N/A, null, NaN). Unquoted fields are not trimmed (numbers are parsed after trimming).
 *
 * Errors (CL_EFORMAT / CL_EINVAL) name the origin, the line and the column:
 *   "data.csv: line 7: expected 21 fields, got 20"
 *   "data.csv: line 3, column 'TotalCharges': expected a number, got 'abc'"
 */
#ifndef CL_CSVIO_H
#define CL_CSVIO_H

#include <stdint.h>

#include "frame/frame.h"
#include "base/progress.h"

typedef struct cl_csv_opts {
    char sep;                   /* field separator, default ',' */
    char quote;                 /* quote character, default '"' */
    int header;                 /* 1: first record names the columns (default) */
    const char *const *names;   /* column names (required count = fields) or NULL */
    int nnames;
    const char *const *na;      /* missing-value markers replacing the defaults, or NULL */
    int nna;
    const char *const *type_names; /* explicit types: type_names[i] is forced to types[i] */
    const cl_coltype *types;
    int ntypes;
    int64_t nrows;              /* at most this many data rows; < 0 = all */
    int64_t skip;               /* physical lines skipped before the header (or first row) */
    int skip_bad;               /* 1: records with the wrong field count are skipped */
    const cl_progress *progress; /* NULL or a progress/abort callback (bytes read) */
} cl_csv_opts;

typedef struct cl_csv_info {
    int64_t bad_lines;          /* records skipped (skip_bad) */
    int64_t first_bad_line;     /* line of the first one, 0 if none */
    int64_t lines;              /* physical lines read */
} cl_csv_info;

void cl_csv_opts_default(cl_csv_opts *o);

/* Reads a file (o may be NULL for defaults; info may be NULL). *out is owned. */
int cl_csv_read(cl_frame **out, const char *path, const cl_csv_opts *o, cl_csv_info *info);
/* The same from memory; `origin` names the data in messages. */
int cl_csv_read_buffer(cl_frame **out, const char *buf, size_t len, const char *origin,
                       const cl_csv_opts *o, cl_csv_info *info);

/* Writes the frame atomically (temp file + rename). Numbers use the shortest of %.15g,
 * %.16g, %.17g that reads back to the same double (locale-independent), missing values are
 * empty, dates are YYYY-MM-DD (with " HH:MM:SS" when they hold a time), fields holding the
 * separator, a quote, a line end or outer spaces are quoted. sep 0 means ','. */
int cl_csv_write(const cl_frame *f, const char *path, char sep);

/* Parsing helpers shared with the frame code (exposed for tests). */
/* 1 if s[0..len) (surrounding spaces allowed) is a decimal number; *v gets its value. */
int cl_csv_parse_num(const char *s, size_t len, double *v);
/* 1 if s[0..len) is an ISO date or date-time; *days = days since 1970-01-01. */
int cl_csv_parse_date(const char *s, size_t len, double *days);
/* Formats days since 1970-01-01 as YYYY-MM-DD[ HH:MM:SS]; returns the length. */
int cl_csv_format_date(double days, char *buf, size_t cap);
/* Shortest %.{15,16,17}g text that reads back to v, C locale; returns the length. */
int cl_csv_format_num(double v, char *buf, size_t cap);

#endif
