/* csv_fast.h - the fast CSV tokenizer: the common record without libcsv (csvio.c uses it).
 *
 * Owner: frame helper.
 *
 * A record that is one line ending in LF inside the buffer, whose fields are unquoted without
 * a quote, CR or NUL, or quoted with "" escapes and followed directly by the separator or the
 * LF, is tokenized here (libcsv's per-byte state machine and per-field callbacks are most of
 * the read time). Anything else (CR anywhere, a quote inside an unquoted field, text after a
 * closing quote, a line end inside quotes, a NUL, a blank line, a record that crosses the
 * buffer end or is longer than max_record) is refused (0) before any field is kept, and the
 * caller gives the record to libcsv, which stays the reference for quoting rules (test_csv
 * compares both on every case, test_csv_fast on random files, fuzz_csv on every input).
 *
 * A tokenizer holds the spans of the records scanned since the last cl_csv_fast_reset (a
 * batch: record k's fields are spans[k * ncol ..]) and the unescaped text of quoted fields
 * with "" in them. It touches nothing else, so threads may each run their own.
 */
#ifndef CL_CSV_FAST_H
#define CL_CSV_FAST_H

#include <stddef.h>
#include <stdint.h>

/* One field: its bytes are at (unq ? t->unq : record start) + off, len bytes. */
typedef struct cl_csv_fast_span {
    uint32_t off, len;
    uint8_t quoted, unq;
} cl_csv_fast_span;

typedef struct cl_csv_fast {
    char sep, quote;
    /* the special-byte mask of 64 bytes (csv_fast.c), by instruction set; NULL: byte loop */
    uint64_t (*mask64)(const char *p, char sep, char quote);
    int64_t max_record;
    unsigned char cls[256];    /* byte classes (csv_fast.c) */
    cl_csv_fast_span *spans;   /* the batch's fields */
    size_t nspan_cap;
    int nspan;                 /* fields of the last record scanned */
    char *unq;                 /* unescaped text of quoted fields with "" escapes */
    size_t unq_len, unq_cap;
} cl_csv_fast;

/* Instruction-set paths of the field scan, chosen when a tokenizer is initialised. */
enum { CL_CSV_ISA_SCALAR, CL_CSV_ISA_SSE2, CL_CSV_ISA_AVX2, CL_CSV_ISA_AVX512 };
/* The path new tokenizers take: the best the CPU has, unless forced. */
int cl_csv_fast_isa(void);
/* For tests: forces a path (-1: back to the best); 0 if this CPU cannot run it. Not
 * thread-safe: call before reading. */
int cl_csv_fast_force_isa(int isa);

/* Sets up an empty tokenizer (owns nothing until the first scan). */
void cl_csv_fast_init(cl_csv_fast *t, char sep, char quote, int64_t max_record);
/* Frees what the tokenizer holds; it may be initialised again. */
void cl_csv_fast_free(cl_csv_fast *t);
/* Starts a new batch: the unescaped text of earlier records is dropped (spans are
 * overwritten from the `base` the caller passes). */
void cl_csv_fast_reset(cl_csv_fast *t);

/* Scans one record at p (before end); on success fills spans[base .. base + nspan) and
 * returns its length (LF included); 0: not a fast-path record (or out of memory), nothing
 * kept. */
size_t cl_csv_fast_scan(cl_csv_fast *t, const char *p, const char *end, size_t base);

/* The text of field f of the record that starts at rec (borrowed until the next reset). */
static inline const char *cl_csv_fast_text(const cl_csv_fast *t, const char *rec,
                                           const cl_csv_fast_span *f)
{
    return (f->unq ? t->unq : rec) + f->off;
}

/* ---- parallel scan of a block -------------------------------------------------------- */

/* One thread's part of a block: the records starting in [from, to), scanned by its own
 * tokenizer until the first one the fast path does not take or whose field count is not
 * ncol. rec[0..nrec): where each record starts (its spans at tok.spans + i * ncol); stop:
 * the end of the last record taken (== to when every record in the part was taken). */
typedef struct cl_csv_fast_part {
    cl_csv_fast tok;
    const char *from, *to, *end, *stop;
    const char **rec;
    int nrec, cap, ncol;
} cl_csv_fast_part;

/* Frees what a part holds (tok included). */
void cl_csv_fast_part_free(cl_csv_fast_part *s);

/* Cuts [p, end) into np (<= 64) parts, part 0 at p and each other one just after a LF (or
 * empty at end), and scans them on np threads (the caller's is one; a thread that cannot
 * start leaves its part to the caller). The parts' tokenizers must be initialised. Which
 * parts hold the file's records is the caller's to decide: a part is trustworthy only if the
 * one before it stopped exactly at its start (csvio.c parts_merge). */
void cl_csv_fast_scan_parts(cl_csv_fast_part *parts, int np, const char *p, const char *end,
                            int ncol);
/* The two steps of cl_csv_fast_scan_parts, for a caller with its own threads: the cut (np <=
 * 64), then each part's scan (any thread, each part once). */
void cl_csv_fast_cut(cl_csv_fast_part *parts, int np, const char *p, const char *end, int ncol);
void cl_csv_fast_scan_part(cl_csv_fast_part *s);

#endif
