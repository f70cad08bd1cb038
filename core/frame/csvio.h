/* csvio.h - reading CSV files into frames (on libcsv) and writing frames as CSV.
 *
 * Owner: frame helper.
 *
 * Reading: one streaming pass. A record that is one LF-ended line with plain or simply
 * quoted fields is tokenized by the fast path (csv_fast.h); every other record (CR, embedded line
 * ends, stray quotes, NUL, the record crossing a 1 MiB block) goes through libcsv, the
 * reference for quoting rules (libcsv_only reads everything through it; test_csv_fast and
 * fuzz_csv check both give identical frames). In pass 1 the fast path's records are batched
 * (8192 fields, 32768 with threads, and at most one 1 MiB read block) and committed column by
 * column on `threads` threads (a column's rows in order on one thread), so the frame, the
 * notes and every message are the same at any thread count. With threads, a block is also
 * tokenized in parallel: it is cut after a LF into one part per thread, each part is scanned
 * by its own tokenizer, and the parts are taken in file order, a part only where the one
 * before it ended exactly at its start (a fast-path record holds no line end but its last,
 * so that start is a record start even when a cut fell inside a quoted multi-line field);
 * where a part stops, the sequential loop (fast path, then libcsv) goes on. The threads are
 * started once per read and wait between blocks and batches. Field ends are found by SIMD
 * byte compares where the CPU has them (csv_fast.h), with the same result as the byte loop.
 * Column pages are faulted in ahead of the commit in large steps (MADV_POPULATE_WRITE).
 * Fields are staged per record and committed to
 * per-column growable buffers only when the record is complete (so a skipped bad line leaves
 * no trace). Types are inferred in the same pass: a column starts unknown (all missing so
 * far), becomes num on its first number, date on its first ISO date (YYYY-MM-DD or
 * YYYY-MM-DD[T ]HH:MM:SS), cat on anything else; a num or date column that later meets text
 * falls back to cat, and the rows it had already seen are re-read in a short second pass so
 * categories keep their exact spelling ("007" stays "007"). All-missing columns are num.
 * Numbers and dates are recognised by textnum.h (plain decimal syntax and inf/infinity, no hex,
 * no "nan": NaN is a missing marker). Empty and whitespace-only unquoted
 * fields are always missing; `na` lists the other missing markers (default NA, N/A, null,
 * NaN), checked before numbers (na = {"-999"} makes every -999 missing). Unquoted fields are
 * not trimmed (numbers are parsed after trimming).
 *
 * Quoting: a quoted field is a string, never a missing marker: "" and "NA" in quotes are the
 * labels "" and "NA" of a cat column (so write_csv's output reads back exactly). In a column
 * read as num or date they cannot be values and count as missing (writers that quote every
 * field, such as pandas' QUOTE_NONNUMERIC, quote their empty missing values).
 *
 * Type inference reports what it did (info->notes, each with a ready message): a column that
 * became cat although at least 95% of its non-missing values are numbers (or dates) is noted
 * with the count and the first offending value and line, so one stray token cannot silently
 * turn a measure into thousands of categories. A type forced with `types` turns values that
 * do not parse into missing values, counted and noted the same way.
 *
 * Refused input: a NUL byte (a binary or UTF-16 file; labels are C strings), and a record
 * longer than max_record bytes (default 64 MiB: an unclosed quote or a file that is not CSV,
 * such as /dev/zero), each naming the line (and column). A file that changes between the two
 * passes (truncated, rewritten) is an error, not a frame with holes. Line numbers count LF,
 * CRLF and lone CR line ends.
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
    int64_t max_record;         /* bytes per record at most; <= 0 = 64 MiB */
    const cl_progress *progress; /* NULL or a progress/abort callback (bytes read) */
    int threads;                /* threads committing columns (<= 1: one); the frame is the
                                 * same for any count */
    int libcsv_only;            /* 1: every record through libcsv, none through the fast
                                 * tokenizer (tests compare the two; see csvio.c) */
} cl_csv_opts;

/* What type inference or a forced type did to one column (see "Type inference" above). */
typedef enum {
    CL_CSV_MOSTLY_NUM = 0, /* read as cat although >= 95% of its values are numbers */
    CL_CSV_MOSTLY_DATE = 1, /* read as cat although >= 95% of its values are dates */
    CL_CSV_COERCED = 2     /* forced num/date: `count` values that did not parse are missing */
} cl_csv_note_kind;

typedef struct cl_csv_note {
    cl_csv_note_kind kind;
    int column;                 /* column index in the frame */
    int64_t count;              /* offending values */
    int64_t total;              /* non-missing values of the column */
    int64_t line;               /* line of the first offending value */
    char first[64];             /* the first offending value (truncated) */
    char message[320];          /* "t.csv: column 'x': ..." ready to show */
} cl_csv_note;

#define CL_CSV_MAX_NOTES 8

typedef struct cl_csv_info {
    int64_t bad_lines;          /* records skipped (skip_bad) */
    int64_t first_bad_line;     /* line of the first one, 0 if none */
    int64_t lines;              /* physical lines read */
    int nnotes;                 /* notes[0..nnotes), in column order */
    int64_t more_notes;         /* notes that did not fit */
    cl_csv_note notes[CL_CSV_MAX_NOTES];
} cl_csv_info;

void cl_csvio_opts_default(cl_csv_opts *o);

/* Reads a file (o may be NULL for defaults; info may be NULL). *out is owned. */
int cl_csvio_read(cl_frame **out, const char *path, const cl_csv_opts *o, cl_csv_info *info);
/* The same from memory; `origin` names the data in messages. */
int cl_csvio_read_buffer(cl_frame **out, const char *buf, size_t len, const char *origin,
                       const cl_csv_opts *o, cl_csv_info *info);

/* Writes the frame atomically (temp file + rename). Numbers use the shortest of %.15g,
 * %.16g, %.17g that reads back to the same double (locale-independent), +-inf as inf/-inf,
 * missing values are empty and unquoted (NA in a one-column frame, where an empty line would
 * be skipped as blank), dates are YYYY-MM-DD (with " HH:MM:SS" when they
 * hold a time); labels holding the separator, a quote, a line end or outer spaces, and
 * labels that would read back as missing ("", "NA", "N/A", "null", "NaN"), are quoted, so
 * cl_csvio_read gives the same frame back. sep 0 means ','. */
int cl_csvio_write(const cl_frame *f, const char *path, char sep);

#endif
