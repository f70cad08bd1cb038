/* csvio_impl.h - what the CSV reader (csvio.c, csvio_batch.c) and writer (csvio_write.c)
 * share: the default missing markers (a label spelled like one is written quoted, so it reads
 * back as the label), a scope in the C locale (numbers are read and written with '.' whatever
 * the user's), and the reader's state, which the record loop (csvio.c) and the batch commit
 * (csvio_batch.c) both work on. */
#ifndef CL_CSVIO_IMPL_H
#define CL_CSVIO_IMPL_H

#include "frame/csvio.h"
#include "frame/csv_crew.h"
#include "frame/csv_fast.h"
#include "frame/textnum.h"
#include "base/error.h"

#include <csv.h>
#include <locale.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define CL_CSVIO_NDEFAULT_NA 4
extern const char *const cl_csvio_default_na[CL_CSVIO_NDEFAULT_NA];

/* ---- C-locale scope ----------------------------------------------------------------------- */

typedef struct cloc {
    locale_t c, old;
} cloc;

static inline void cloc_enter(cloc *l)
{
    l->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

static inline void cloc_leave(cloc *l)
{
    if (l->c) {
        uselocale(l->old);
        freelocale(l->c);
    }
}

/* ---- the reader's state ------------------------------------------------------------------- */

enum { ST_UNKNOWN, ST_NUM, ST_DATE, ST_CAT };

/* One column being read. 64-byte aligned, so two threads committing neighbouring columns
 * never write to one cache line (the counters below change with every value). */
typedef struct colbuf {
    _Alignas(64) int state;
    int forced;           /* -1 or a cl_coltype */
    double *num;          /* UNKNOWN, NUM, DATE */
    int32_t *codes;       /* CAT */
    cl_dict *dict;
    int64_t fallback;     /* rows [0, fallback) still need their text (pass 2); 0 = none */
    int quoted_na;        /* some num rows hold QNA (see qna()) */
    /* pass 1, for the notes: non-missing values by what they parse as, the first one that
     * is neither number nor date (or, for a forced type, does not parse) and its line */
    int64_t n_num, n_date, n_text, coerced;
    int64_t first_line;
    char first[64];
    unsigned char *kind;  /* cat, inferred: K_NUM/K_DATE/K_TEXT of each code, 0 unknown */
    int32_t nkind;
    int64_t pop;          /* rows [0, pop) of num or codes are faulted in (populate_ahead) */
    /* the parallel commit (csvio_batch.c): the member that takes this column first, the
     * batch that claimed it last, and its commit time so far (to balance the members) */
    int owner;
    atomic_uint claim;
    int64_t ns;
} colbuf;

typedef struct reader {
    const char *origin;
    const cl_csv_opts *o;
    struct csv_parser p;
    /* staging of the current record */
    char *stage;
    size_t stage_len, stage_cap;
    size_t *off, *len;    /* field offsets/lengths into stage */
    unsigned char *quoted; /* whether each staged field was quoted */
    int nf, fcap;
    int64_t rec_line;     /* line where the current record starts */
    int64_t start_line;   /* line where the last record began to be fed */
    int in_record;
    int rec_direct;       /* the current record's fields are committed as they come */
    /* columns */
    int ncol;
    char **names;
    colbuf *cols;
    int have_header;
    int64_t nrow, cap;
    int64_t size, fed;    /* input bytes (when known) and bytes fed so far, to size buffers */
    int estimated;
    int header_pending;   /* pass 2: the header record is still to come */
    /* na markers */
    const char *const *na;
    int nna;
    size_t na_maxlen;
    uint64_t na_lens;     /* bit n set: some marker has n bytes (n < 64) */
    int na_parses;        /* some marker parses as a number or a date (commit_parsed) */
    /* progress */
    int64_t line;         /* physical lines fully fed so far */
    int64_t bad, first_bad;
    int pass;             /* 1 or 2 (text of fallback columns) */
    int64_t pass2_rows;
    int64_t rec_bytes;    /* bytes fed since the open record's first line began */
    int64_t max_record;
    int prev_cr;          /* the last block ended in CR: a LF opening the next one is CRLF */
    int stop;             /* nrows reached or pass 2 done */
    int rc;               /* first error */
    cl_csv_fast fast;     /* the fast tokenizer (csv_fast.h) and its batch's fields */
    /* the batch (fast_record): record starts and lines, records pending, threads */
    const char **brec;
    int64_t *bline;
    const cl_csv_fast **btok; /* the tokenizer holding each record's spans, from bbase on */
    size_t *bbase;
    int bn, bcap;
    int fast_nrec;        /* batch records whose spans are in r->fast */
    cl_csv_fast_part *parts; /* parallel scan (par_scan): one tokenizer per thread */
    int nparts;
    int64_t pending;      /* records in the batch, for grow_rows' bytes-per-row estimate */
    int threads;
    cl_csv_crew *crew;    /* the read's threads (reader_crew) */
    int crew_failed;
    unsigned claim_gen;   /* parallel batches committed (colbuf.claim) */
    int owners_m;         /* members the columns' owners were chosen for; 0: none yet */
    int owners_final;     /* owners chosen from measured commit times */
    locale_t cloc;        /* the C locale, for the commit threads */
} reader;

/* Bytes of a block below which it is scanned on one thread (a thread start costs tens of
 * microseconds; 64 KiB of records take a few hundred). */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define PAR_SCAN_MIN ((ptrdiff_t)64 << 10)
#else /* fuzz inputs are small: the parallel scan runs on them too */
#define PAR_SCAN_MIN ((ptrdiff_t)64)
#endif

static inline int is_na(const reader *r, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && cl_textnum_is_space(s[i]))
        i++;
    if (i == len)
        return 1;
    /* markers are checked before numbers on every field: most fields have a length no
     * marker has, and leave here without a string comparison */
    if (len > r->na_maxlen || (len < 64 && !(r->na_lens >> len & 1)))
        return 0;
    for (int k = 0; k < r->nna; k++)
        if (strlen(r->na[k]) == len && memcmp(r->na[k], s, len) == 0)
            return 1;
    return 0;
}

/* An allocation failure gets the file and what was being built in front of the allocator's
 * "out of memory (allocating N bytes)"; other codes already carry their own message. */
static inline int at_record(reader *r, int rc, const char *what)
{
    if (rc != CL_ENOMEM)
        return rc;
    return cl_error_wrap(rc, "%s: line %lld: %s", r->origin, (long long)r->rec_line, what);
}

static inline int at_column(reader *r, int rc, int j)
{
    if (rc != CL_ENOMEM)
        return rc;
    return cl_error_wrap(rc, "%s: line %lld, column '%s'", r->origin, (long long)r->rec_line,
                         r->names[j]);
}

/* ---- csvio.c: one field into its column, and the column buffers --------------------------- */

/* Row i of column j (from the record on `line`) gets the field s[0..len). Touches column j
 * and nothing else of the reader, so columns may be committed by different threads. */
int cl_csvio_commit_at(reader *r, int j, int64_t i, int64_t line, const char *s, size_t len,
                       int quoted);
/* Interns a label of an inferred cat column (hash: cl_frame_dict_prefetch_slot's for these
 * bytes) and counts it as a number, a date or text, for the notes. */
int cl_csvio_intern_counted(colbuf *c, int64_t line, const char *s, size_t len, uint32_t hash,
                            int32_t *code);
/* Grows every column's buffer (room for more rows than r->cap). */
int cl_csvio_grow_rows(reader *r);
/* Faults in column c's pages for rows up to `upto`, ahead of the commit. */
void cl_csvio_populate_ahead(const reader *r, colbuf *c, int64_t upto);

/* ---- csvio_batch.c: batches of fast-path records, committed column by column -------------- */

/* A fast-path record (its spans in tok from base on) joins the batch; the batch is committed
 * when it is full (errors in r->rc). */
void cl_csvio_batch_add(reader *r, const char *p, const cl_csv_fast *tok, size_t base);
/* Commits the batch (columns over r->threads threads); returns r->rc. */
int cl_csvio_batch_flush(reader *r);
/* Scans [p, end) on r->threads threads and adds its records to the batch in file order;
 * returns where the sequential loop goes on. */
const char *cl_csvio_batch_par_scan(reader *r, const char *p, const char *end);
/* Frees the batch's tables, the threads and the parallel scan's parts. */
void cl_csvio_batch_free(reader *r);

#endif
