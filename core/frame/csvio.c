/* csvio.c - CSV reader (libcsv callbacks, one-pass type inference): the record loop, the
 * libcsv path and the per-field commit; the batch commit of fast-path records is in
 * csvio_batch.c, the writer in csvio_write.c. See csvio.h. */
#include "frame/csvio.h"
#include "frame/csvio_impl.h"
#include "frame/csv_crew.h"
#include "frame/csv_fast.h"
#include "frame/textnum.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"

#include <csv.h>
#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>

#define BLOCK ((size_t)1 << 20)
/* Inputs smaller than this get no progress reports (no bar flashing up for a small file);
 * the interrupt flag is polled after every block whatever the size. */
#define PROGRESS_MIN ((int64_t)8 << 20)

void cl_csvio_opts_default(cl_csv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sep = ',';
    o->quote = '"';
    o->header = 1;
    o->nrows = -1;
}

/* ---- reader (its state: csvio_impl.h) ----------------------------------------------------- */

const char *const cl_csvio_default_na[CL_CSVIO_NDEFAULT_NA] = {"NA", "N/A", "null", "NaN"};

/* The missing value a quoted empty or marker field ("", "NA") gets in a num or date column:
 * a NaN with its own payload, so that if the column falls back to cat, those rows are re-read
 * as the labels they are (to_cat) instead of becoming missing. Canonical NaN in the frame. */
static const uint64_t QNA_BITS = 0x7ff800000000c5a1ULL;

static double qna(void)
{
    double d;
    memcpy(&d, &QNA_BITS, sizeof d);
    return d;
}

static int is_qna(double d)
{
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b == QNA_BITS;
}

static int commit_field(reader *r, int j, const char *s, size_t len, int quoted);

/* libcsv does not tell a callback whether the field was quoted. It keeps the closing quote
 * of a quoted field in its buffer, just past the field (it drops it by moving its end back),
 * so without CSV_APPEND_NULL `s[len]` is the quote character exactly when the field was
 * quoted, provided the byte there is never a leftover of an earlier field: field_cb clears
 * every field's bytes after use, and csv_realloc zeroes what it adds. test_csv checks this
 * against every quoting case, so a libcsv that works otherwise fails the tests, not users. */
static int was_quoted(reader *r, const unsigned char *s, size_t len)
{
    return s && len < csv_get_buffer_size(&r->p) && s[len] == (unsigned char)r->o->quote;
}

static void field_take(reader *r, const char *s, size_t len, int quoted)
{
    if (!r->in_record) {
        /* nrows reached: stop before the next record, so nrows = 0 gives no rows */
        if (r->have_header && r->pass == 1 && r->o->nrows >= 0 && r->nrow >= r->o->nrows) {
            r->stop = 1;
            return;
        }
        r->in_record = 1;
        r->rec_line = r->start_line;
        r->nf = 0;
        r->stage_len = 0;
        /* Once the columns are known, fields go straight to their columns unless bad lines
         * are to be skipped (a skipped line must leave no trace, so it is staged first). */
        r->rec_direct = r->have_header && !r->o->skip_bad && !r->header_pending;
    }
    if (r->rec_direct) {
        if (r->nf < r->ncol) {
            if (r->nf == 0 && r->pass == 1 && r->nrow == r->cap && (r->rc = cl_csvio_grow_rows(r)))
                return;
            int rc = commit_field(r, r->nf, s, len, quoted);
            if (rc) {
                r->rc = at_column(r, rc, r->nf);
                return;
            }
        }
        r->nf++;
        return;
    }
    if (r->nf == r->fcap) {
        int cap = r->fcap ? r->fcap * 2 : 32;
        size_t *off = cl_alloc_realloc(r->off, (size_t)cap * sizeof *off);
        if (off)
            r->off = off;
        size_t *ln = off ? cl_alloc_realloc(r->len, (size_t)cap * sizeof *ln) : NULL;
        if (ln)
            r->len = ln;
        unsigned char *q = ln ? cl_alloc_realloc(r->quoted, (size_t)cap) : NULL;
        if (!q) {
            r->rc = at_record(r, CL_ENOMEM, "field table");
            return;
        }
        r->quoted = q;
        r->fcap = cap;
    }
    if (r->stage_len + len + 1 > r->stage_cap) {
        size_t cap = (r->stage_len + len + 1) * 2;
        char *st = cl_alloc_realloc(r->stage, cap);
        if (!st) {
            r->rc = at_record(r, CL_ENOMEM, "record buffer");
            return;
        }
        r->stage = st;
        r->stage_cap = cap;
    }
    if (len)
        memcpy(r->stage + r->stage_len, s, len);
    r->stage[r->stage_len + len] = '\0';
    r->off[r->nf] = r->stage_len;
    r->len[r->nf] = len;
    r->quoted[r->nf] = (unsigned char)quoted;
    r->stage_len += len + 1;
    r->nf++;
}

static void field_cb(void *s, size_t len, void *data)
{
    reader *r = data;
    int quoted = was_quoted(r, s, len);
    if (!r->rc && !r->stop)
        field_take(r, s ? s : "", len, quoted); /* s is NULL only for an empty field */
    if (s && (len || quoted)) /* see was_quoted: no byte of it may look like a quote later */
        memset(s, 0, len + (size_t)quoted);
}

/* Column buffers are written once, front to back, and a 1M-row file has 10^2 MB of them:
 * first-touch page faults were a quarter of the read time, so big buffers ask for
 * transparent huge pages (a hint; it is ignored where THP is off). */
static void hint_huge(void *p, size_t n)
{
#ifdef MADV_HUGEPAGE
    const uintptr_t page = 4096;
    if (n < ((size_t)4 << 20))
        return;
    uintptr_t a = ((uintptr_t)p + page - 1) & ~(page - 1), b = ((uintptr_t)p + n) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_HUGEPAGE);
#else
    (void)p;
    (void)n;
#endif
}

int cl_csvio_grow_rows(reader *r)
{
    int64_t cap = r->cap ? r->cap + r->cap / 2 : 1024;
    if (!r->cap) {
        /* A row takes at least one byte per column, so a wide file has few rows: 1024 rows
         * x 100k columns would reserve 800 MB for a 1 MB file. */
        int64_t most = r->size > 0 ? r->size / (r->ncol ? r->ncol : 1) + 2
                                   : ((int64_t)4 << 20) / (r->ncol ? r->ncol : 1) + 16;
        if (most < cap)
            cap = most;
    }
    if (r->cap && !r->estimated && r->size > 0 && r->fed > 0) {
        /* after the first rows, size the buffers from the file size and the bytes per row
         * so far: usually no further growth (and no transient 2.5x copies) */
        double per_row = (double)r->fed / (double)(r->nrow + r->pending);
        double est = (double)r->size / per_row * 1.03 + 64;
        if (est > (double)cap && est < 4e12)
            cap = (int64_t)est;
        r->estimated = 1;
    }
    for (int j = 0; j < r->ncol; j++) {
        colbuf *c = &r->cols[j];
        if (c->state == ST_CAT) {
            int32_t *codes = cl_alloc_realloc(c->codes, (size_t)cap * sizeof *codes);
            if (!codes)
                return cl_error_wrap(CL_ENOMEM, "%s: column '%s' (room for %lld rows)",
                                     r->origin, r->names[j], (long long)cap);
            c->codes = codes;
            hint_huge(codes, (size_t)cap * sizeof *codes);
        } else {
            double *num = cl_alloc_realloc(c->num, (size_t)cap * sizeof *num);
            if (!num)
                return cl_error_wrap(CL_ENOMEM, "%s: column '%s' (room for %lld rows)",
                                     r->origin, r->names[j], (long long)cap);
            c->num = num;
            hint_huge(num, (size_t)cap * sizeof *num);
        }
    }
    r->cap = cap;
    for (int j = 0; j < r->ncol; j++)
        r->cols[j].pop = r->nrow; /* a moved buffer's rows past nrow are fresh pages */
    return CL_OK;
}

/* Rows faulted in per column at a time, ahead of the commit. */
#define POPULATE_ROWS ((int64_t)1 << 16)

/* Faults in the pages of column c that rows up to `upto` go to, one madvise per
 * POPULATE_ROWS rows, instead of a page fault per 4 KiB page as the commit first writes
 * them: in a VM each fault is a trap (the kernel's share of a 1M-row read was ~20%, most of
 * it faults). Only POPULATE_ROWS ahead, so a generous row estimate costs no memory; called
 * by whichever thread commits the column, so the kernel's zeroing of the pages is spread
 * over the threads as the faults were. A hint: on a kernel without MADV_POPULATE_WRITE
 * (5.14) it fails and the pages fault in as before. */
void cl_csvio_populate_ahead(const reader *r, colbuf *c, int64_t upto)
{
#ifdef MADV_POPULATE_WRITE
    if (upto <= c->pop)
        return;
    int64_t to = c->pop + POPULATE_ROWS;
    if (to < upto)
        to = upto;
    if (to > r->cap)
        to = r->cap;
    const uintptr_t page = 4096;
    char *base = c->state == ST_CAT ? (char *)c->codes : (char *)c->num;
    size_t elt = c->state == ST_CAT ? sizeof *c->codes : sizeof *c->num;
    if (!base)
        return;
    /* whole pages inside the buffer from the one holding row c->pop on (that page may start
     * before the buffer: populating writes no byte, it only maps) */
    uintptr_t a = (uintptr_t)(base + (size_t)c->pop * elt) & ~(page - 1);
    uintptr_t b = (uintptr_t)(base + (size_t)to * elt) & ~(page - 1);
    if (b > a)
        (void)madvise((void *)a, b - a, MADV_POPULATE_WRITE);
    c->pop = to;
#else
    (void)r;
    (void)c;
    (void)upto;
#endif
}

/* Switches a num/date column to cat at row r->nrow: missing rows become -1, the others wait
 * for pass 2 (-2), quoted empty/marker rows (QNA) too, as they are labels in a cat column. */
static int to_cat(reader *r, colbuf *c, int64_t rows)
{
    int32_t *codes = cl_alloc((size_t)(r->cap ? r->cap : 1) * sizeof *codes);
    if (!codes)
        return CL_ENOMEM;
    int pending = 0;
    for (int64_t i = 0; i < rows; i++) {
        int na = isnan(c->num[i]) && !is_qna(c->num[i]);
        codes[i] = na ? -1 : -2;
        pending |= !na;
    }
    if (pending)
        c->fallback = rows;
    cl_alloc_free(c->num);
    c->num = NULL;
    c->codes = codes;
    c->pop = rows;
    c->state = ST_CAT;
    if (!c->dict)
        return cl_frame_dict_new(&c->dict);
    return CL_OK;
}

/* Remembers the first value of a column that is not what it should be (for the notes). */
static void note_first(colbuf *c, int64_t line, const char *s, size_t len)
{
    if (c->first_line)
        return;
    c->first_line = line;
    size_t n = len < sizeof c->first - 1 ? len : sizeof c->first - 1;
    memcpy(c->first, s, n);
    c->first[n] = '\0';
}

/* A forced num/date column met a value that does not parse: missing, counted. */
static void coerce(colbuf *c, int64_t i, int64_t line, const char *s, size_t len)
{
    c->num[i] = NAN;
    if (c->coerced++ == 0)
        note_first(c, line, s, len);
}

enum { K_NUM = 1, K_DATE, K_TEXT }; /* what a label parses as; 0: not known yet */

/* Interns a label of an inferred cat column and counts it as a number, a date or text (for
 * the notes). A label always parses the same way, so its kind is worked out once per
 * dictionary code (parse_num and parse_date on every value were a fifth of the read). */
int cl_csvio_intern_counted(colbuf *c, int64_t line, const char *s, size_t len, uint32_t hash,
                          int32_t *code)
{
    int rc = cl_frame_dict_intern_hashed(c->dict, s, len, hash, code);
    if (rc)
        return rc;
    int32_t k = *code;
    if (k >= c->nkind) {
        int32_t cap = c->nkind ? c->nkind * 2 : 256;
        while (cap <= k)
            cap *= 2;
        unsigned char *kind = cl_alloc_realloc(c->kind, (size_t)cap);
        if (!kind)
            return CL_ENOMEM;
        memset(kind + c->nkind, 0, (size_t)(cap - c->nkind));
        c->kind = kind;
        c->nkind = cap;
    }
    if (!c->kind[k]) {
        double v;
        c->kind[k] = cl_textnum_parse_num(s, len, &v)    ? K_NUM
                     : cl_textnum_parse_date(s, len, &v) ? K_DATE
                                                         : K_TEXT;
    }
    if (c->kind[k] == K_NUM)
        c->n_num++;
    else if (c->kind[k] == K_DATE)
        c->n_date++;
    else if (c->n_text++ == 0)
        note_first(c, line, s, len);
    return CL_OK;
}

/* Row i of column j (from the record on `line`) gets the field s[0..len). Touches column j
 * and nothing else of the reader, so columns may be committed by different threads. */
int cl_csvio_commit_at(reader *r, int j, int64_t i, int64_t line, const char *s, size_t len,
                     int quoted)
{
    colbuf *c = &r->cols[j];
    if (r->pass == 2) {
        if (i < c->fallback && c->codes[i] == -2)
            return cl_frame_dict_intern(c->dict, s, len, &c->codes[i]);
        return CL_OK;
    }
    /* Missing markers come first, whatever the state, so na = {"-999"} also applies after a
     * column's first number; a quoted field is never a marker (it is a string). */
    int na = !quoted && is_na(r, s, len);
    int qmark = quoted && is_na(r, s, len); /* "" or "NA": a label, missing as a number */
    double v;
    switch (c->state) {
    case ST_NUM:
    case ST_DATE: {
        /* a number or date column: the same steps, with the parser of its type */
        int as_num = c->state == ST_NUM;
        if (na) {
            c->num[i] = NAN;
            return CL_OK;
        }
        if (as_num ? cl_textnum_parse_num(s, len, &v) : cl_textnum_parse_date(s, len, &v)) {
            c->num[i] = v;
            if (as_num)
                c->n_num++;
            else
                c->n_date++;
            return CL_OK;
        }
        if (qmark) {
            c->num[i] = qna();
            c->quoted_na = 1;
            return CL_OK;
        }
        if (c->forced == (as_num ? CL_NUM : CL_DATE)) {
            coerce(c, i, line, s, len);
            return CL_OK;
        }
        break;
    }
    case ST_CAT:
        if (na) {
            c->codes[i] = -1;
            return CL_OK;
        }
        if (c->forced < 0) /* what the values look like, for the notes */
            return cl_csvio_intern_counted(c, line, s, len, cl_frame_dict_prefetch_slot(c->dict, s, len),
                                  &c->codes[i]);
        return cl_frame_dict_intern(c->dict, s, len, &c->codes[i]);
    case ST_UNKNOWN:
        if (na) {
            c->num[i] = NAN;
            return CL_OK;
        }
        if (cl_textnum_parse_num(s, len, &v)) {
            c->state = ST_NUM;
            c->num[i] = v;
            c->n_num++;
            return CL_OK;
        }
        if (cl_textnum_parse_date(s, len, &v)) {
            c->state = ST_DATE;
            c->num[i] = v;
            c->n_date++;
            return CL_OK;
        }
        if (qmark) {
            c->num[i] = qna();
            c->quoted_na = 1;
            return CL_OK;
        }
        break;
    }
    /* text in a num/date/unknown column: it becomes cat */
    if (c->n_text++ == 0)
        note_first(c, line, s, len);
    int rc = to_cat(r, c, i);
    if (rc)
        return rc;
    return cl_frame_dict_intern(c->dict, s, len, &c->codes[i]);
}

static int commit_field(reader *r, int j, const char *s, size_t len, int quoted)
{
    return cl_csvio_commit_at(r, j, r->nrow, r->rec_line, s, len, quoted);
}

static int set_header(reader *r)
{
    const cl_csv_opts *o = r->o;
    int n = r->nf;
    if (o->names && (o->nnames != n))
        return cl_error(CL_EINVAL, "%s: %d names given, the file has %d columns", r->origin,
                        o->nnames, n);
    r->names = cl_alloc_calloc((size_t)n, sizeof *r->names);
    r->cols = r->names ? cl_alloc_calloc((size_t)n, sizeof *r->cols) : NULL;
    if (!r->names || !r->cols)
        return at_record(r, CL_ENOMEM, "header (column table)");
    r->ncol = n;
    /* names are interned in column order, so a name's code is its column: duplicates and
     * `types` are found in O(1) each (100k columns, not 100k^2 / 2 comparisons) */
    cl_dict *index = NULL;
    int rc = cl_frame_dict_new(&index);
    if (rc)
        return at_record(r, rc, "header (name index)");
    for (int j = 0; j < n && rc == CL_OK; j++) {
        char gen[32];
        const char *name;
        if (o->names)
            name = o->names[j];
        else if (o->header)
            name = r->stage + r->off[j];
        else
            snprintf(gen, sizeof gen, "V%d", j + 1), name = gen;
        r->cols[j].forced = -1;
        if (!name || !*name) {
            rc = cl_error(CL_EFORMAT, "%s: line %lld: column %d has an empty name", r->origin,
                          (long long)r->rec_line, j + 1);
            break;
        }
        int32_t k;
        if ((rc = cl_frame_dict_intern(index, name, strlen(name), &k))) {
            rc = at_record(r, rc, "header (name index)");
            break;
        }
        if (k != j) {
            rc = cl_error(CL_EFORMAT,
                          "%s: line %lld: duplicate column name '%s' (columns %d and %d)",
                          r->origin, (long long)r->rec_line, name, k + 1, j + 1);
            break;
        }
        if (!(r->names[j] = cl_alloc_strdup(name)))
            rc = cl_error_wrap(CL_ENOMEM, "%s: line %lld: name of column %d", r->origin,
                               (long long)r->rec_line, j + 1);
    }
    for (int t = 0; rc == CL_OK && t < o->ntypes; t++) {
        int j = cl_frame_dict_find(index, o->type_names[t], strlen(o->type_names[t]));
        if (j < 0) {
            rc = cl_error(CL_EINVAL, "%s: types: no column '%s'", r->origin, o->type_names[t]);
            break;
        }
        colbuf *c = &r->cols[j];
        c->forced = (int)o->types[t];
        c->state = o->types[t] == CL_NUM ? ST_NUM : o->types[t] == CL_DATE ? ST_DATE : ST_CAT;
        if (c->state == ST_CAT && !c->dict && (rc = cl_frame_dict_new(&c->dict)))
            rc = at_column(r, rc, j);
    }
    cl_frame_dict_free(index);
    if (rc == CL_OK)
        r->have_header = 1;
    return rc;
}

static void row_cb(int term, void *data)
{
    (void)term;
    reader *r = data;
    if (r->rc || r->stop)
        return;
    if (!r->in_record) { /* a record with no field callbacks cannot happen; be safe */
        return;
    }
    r->in_record = 0;
    if (!r->have_header) {
        r->rc = set_header(r);
        if (r->rc || r->o->header)
            return;
    }
    if (r->pass == 2 && r->header_pending) {
        r->header_pending = 0;
        return;
    }
    if (r->nf != r->ncol) {
        if (r->o->skip_bad) {
            if (r->pass == 1 && r->bad++ == 0)
                r->first_bad = r->rec_line;
            return;
        }
        r->rc = cl_error(CL_EFORMAT, "%s: line %lld: expected %d fields, got %d%s", r->origin,
                         (long long)r->rec_line, r->ncol, r->nf,
                         r->nf > r->ncol ? " (an unquoted separator in a field?)"
                                         : " (use on_bad_line = \"skip\" to skip such lines)");
        return;
    }
    if (!r->rec_direct) {
        if (r->pass == 1 && r->nrow == r->cap && (r->rc = cl_csvio_grow_rows(r)))
            return;
        for (int j = 0; j < r->ncol; j++) {
            int rc = commit_field(r, j, r->stage + r->off[j], r->len[j], r->quoted[j]);
            if (rc) {
                r->rc = at_column(r, rc, j);
                return;
            }
        }
    }
    r->nrow++;
    if ((r->pass == 1 && r->o->nrows >= 0 && r->nrow >= r->o->nrows) ||
        (r->pass == 2 && r->nrow >= r->pass2_rows))
        r->stop = 1;
}

/* Input: a FILE or a buffer, handed out in blocks. */
typedef struct source {
    FILE *fp;
    const char *buf;
    size_t len, pos;
    char *block;
    int64_t size; /* total bytes when known, else -1 */
} source;

static int next_block(source *s, const char **p, size_t *n, const char *origin)
{
    if (!s->fp) {
        size_t k = s->len - s->pos < BLOCK ? s->len - s->pos : BLOCK;
        *p = s->buf + s->pos;
        *n = k;
        s->pos += k;
        return CL_OK;
    }
    size_t k = fread(s->block, 1, BLOCK, s->fp);
    if (k < BLOCK && ferror(s->fp))
        return cl_error(CL_EIO, "%s: read error: %s", origin, strerror(errno));
    *p = s->block;
    *n = k;
    return CL_OK;
}

static int rewind_source(source *s, const char *origin)
{
    if (!s->fp) {
        s->pos = 0;
        return CL_OK;
    }
    /* The second pass trusts that it sees the bytes the first one saw: a file truncated or
     * rewritten in between would leave rows without their text, so a changed size is an
     * error (and run_pass checks that pass 2 finds every row it needs). */
    if (fseek(s->fp, 0, SEEK_END) == 0 && s->size >= 0 && ftell(s->fp) != s->size)
        return cl_error(CL_EIO, "%s: the file changed while being read (%lld bytes, now %lld)",
                        origin, (long long)s->size, (long long)ftell(s->fp));
    if (fseek(s->fp, 0, SEEK_SET) != 0)
        return cl_error(CL_EIO, "%s: cannot re-read the file: %s", origin, strerror(errno));
    return CL_OK;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

/* libcsv's field buffer, with its size in a header: the bytes it adds are zeroed, so no
 * stale byte can pass for a closing quote (was_quoted). */
#define CSVBUF_HEAD ((size_t)16)

static void *csv_realloc(void *p, size_t n)
{
    char *base = p ? (char *)p - CSVBUF_HEAD : NULL;
    size_t old = 0;
    if (base)
        memcpy(&old, base, sizeof old);
    if (n > SIZE_MAX - CSVBUF_HEAD)
        return NULL;
    char *nb = cl_alloc_realloc(base, n + CSVBUF_HEAD);
    if (!nb)
        return NULL;
    if (n > old)
        memset(nb + CSVBUF_HEAD + old, 0, n - old);
    memcpy(nb, &n, sizeof n);
    return nb + CSVBUF_HEAD;
}

static void csv_free_buf(void *p)
{
    if (p)
        cl_alloc_free((char *)p - CSVBUF_HEAD);
}

/* libcsv refused a chunk: its own allocation failed, or the input is malformed. */
static int parse_error(reader *r)
{
    int e = csv_error(&r->p);
    if (e == CSV_ENOMEM)
        return cl_error_wrap(CL_ENOMEM, "%s: line %lld: field buffer", r->origin,
                             (long long)r->line + 1);
    if (e == CSV_ETOOBIG)
        return cl_error(CL_ERANGE, "%s: line %lld: field too large", r->origin,
                        (long long)r->line + 1);
    return cl_error(CL_EFORMAT, "%s: line %lld: %s", r->origin, (long long)r->line + 1,
                    csv_strerror(e));
}

/* A NUL byte: labels are C strings, so it would cut them short; it is refused, naming the
 * line and the column it is in (the fields before it on the line have been fed). */
static int nul_error(reader *r)
{
    int field = r->in_record ? r->nf : 0;
    if (r->have_header && !r->header_pending && field < r->ncol)
        return cl_error(CL_EFORMAT,
                        "%s: line %lld, column '%s': a NUL byte (a binary or UTF-16 file? CSV "
                        "must be text, e.g. UTF-8)",
                        r->origin, (long long)r->line + 1, r->names[field]);
    return cl_error(CL_EFORMAT,
                    "%s: line %lld, field %d: a NUL byte (a binary or UTF-16 file? CSV must be "
                    "text, e.g. UTF-8)",
                    r->origin, (long long)r->line + 1, field + 1);
}

/* Feeds one piece (a line or part of one) to libcsv.
 * - libcsv grows its field buffer by a fixed block (128 bytes by default), which makes a long
 *   field quadratic (4 MB: ~1 min); the block is set to the buffer's size before each call
 *   and a call gets at most that many bytes, so the buffer at most doubles per call.
 * - A record may not grow past max_record bytes (/dev/zero-like input never ends a line).
 * - A NUL byte stops the piece with an error. */
static void feed(reader *r, const char *p, size_t k)
{
    const char *z = memchr(p, '\0', k);
    size_t upto = z ? (size_t)(z - p) : k, done = 0;
    while (done < upto && !r->rc && !r->stop) {
        if (r->p.pstate == 0) /* between records (libcsv's ROW_NOT_BEGUN) */
            r->rec_bytes = 0;
        size_t cap = csv_get_buffer_size(&r->p);
        size_t blk = cap < 4096 ? 4096 : cap;
        size_t m = upto - done < blk ? upto - done : blk;
        csv_set_blk_size(&r->p, blk);
        r->rec_bytes += (int64_t)m;
        if (csv_parse(&r->p, p + done, m, field_cb, row_cb, r) != m && !r->rc)
            r->rc = parse_error(r);
        done += m;
        if (!r->rc && !r->stop && r->rec_bytes > r->max_record) /* line end included */
            r->rc = cl_error(CL_EFORMAT,
                             "%s: line %lld: a record longer than %lld bytes (an unclosed quote, "
                             "or not a CSV file?); max_record raises the limit",
                             r->origin, (long long)(r->in_record ? r->rec_line : r->start_line),
                             (long long)r->max_record);
    }
    if (z && !r->rc && !r->stop)
        r->rc = nul_error(r);
}

/* Length of the line starting at p: through its LF, CRLF or lone CR (*eol = 1), or to `end`.
 * *cr_end: it ends in a CR at the end of the block (a LF may open the next one). */
static size_t line_len(const char *p, const char *end, int *eol, int *cr_end)
{
    size_t len = (size_t)(end - p);
    const char *nl = memchr(p, '\n', len);
    const char *cr = memchr(p, '\r', nl ? (size_t)(nl - p) : len);
    *eol = cr || nl;
    *cr_end = 0;
    if (cr) {
        if (cr + 1 < end && cr[1] == '\n')
            return (size_t)(cr - p) + 2;
        *cr_end = cr + 1 == end;
        return (size_t)(cr - p) + 1;
    }
    return nl ? (size_t)(nl - p) + 1 : len;
}

/* Hands a scanned record to the same field/record steps libcsv's callbacks take. */
static void fast_take(reader *r, const char *p, const cl_csv_fast_span *sp, int n)
{
    for (int k = 0; k < n && !r->rc && !r->stop; k++) {
        const cl_csv_fast_span *f = &sp[k];
        field_take(r, cl_csv_fast_text(&r->fast, p, f), f->len, f->quoted);
    }
    if (!r->rc && !r->stop)
        row_cb('\n', r);
}

static void fast_record(reader *r, const char *p, size_t base)
{
    if (r->have_header && !r->header_pending && r->pass == 1 && r->fast.nspan == r->ncol) {
        cl_csvio_batch_add(r, p, &r->fast, base);
        return;
    }
    if (cl_csvio_batch_flush(r))
        return;
    fast_take(r, p, r->fast.spans + base, r->fast.nspan);
}

/* One pass over the source. */
static int run_pass(reader *r, source *src)
{
    const cl_csv_opts *o = r->o;
    /* no CSV_APPEND_NULL: the byte after a field tells whether it was quoted (was_quoted) */
    if (csv_init(&r->p, CSV_STRICT_FINI) != 0)
        return cl_error(CL_ENOMEM, "%s: out of memory (libcsv parser)", r->origin);
    csv_set_delim(&r->p, (unsigned char)o->sep);
    csv_set_quote(&r->p, (unsigned char)o->quote);
    csv_set_space_func(&r->p, no_space);
    csv_set_realloc_func(&r->p, csv_realloc);
    csv_set_free_func(&r->p, csv_free_buf);
    r->line = 0;
    r->in_record = 0;
    r->stop = 0;
    r->prev_cr = 0;
    r->rec_bytes = 0;
    int64_t skip = o->skip;
    int64_t done_bytes = 0;
    int fast = !o->libcsv_only;
    int first = 1;
    int rc = CL_OK;
    for (;;) {
        const char *p = NULL;
        size_t n = 0;
        if ((rc = next_block(src, &p, &n, r->origin)))
            break;
        if (n == 0)
            break;
        if (first) {
            if (n >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
                (unsigned char)p[2] == 0xBF)
                p += 3, n -= 3;
            first = 0;
        }
        const char *end = p + n, *par_next = p;
        while (p < end && !r->rc && !r->stop) {
            if (r->threads > 1 && fast && r->pass == 1 && r->have_header && !r->header_pending &&
                skip == 0 && !r->prev_cr && r->p.pstate == 0 && p >= par_next &&
                end - p >= PAR_SCAN_MIN) {
                const char *q = cl_csvio_batch_par_scan(r, p, end);
                /* where a part stopped, the sequential loop takes at least PAR_SCAN_MIN bytes
                 * before the next try (a file of multi-line records starts no threads per
                 * record) */
                par_next = q + PAR_SCAN_MIN;
                if (q != p) {
                    p = q;
                    continue;
                }
            }
            /* the LF of a CRLF split between blocks: its line was counted at the CR */
            int lf_rest = r->prev_cr && *p == '\n', was = r->prev_cr, eol = 0, cr_end = 0;
            r->prev_cr = 0;
            if (lf_rest && was == 2) { /* ... of a skipped line */
                p += 1;
                continue;
            }
            size_t k;
            if (!lf_rest && skip > 0) {
                k = line_len(p, end, &eol, &cr_end);
                if (eol) {
                    skip--;
                    r->line++;
                    r->prev_cr = cr_end ? 2 : 0;
                }
                p += k;
                continue;
            }
            size_t base = (size_t)r->fast_nrec * (size_t)r->ncol;
            if (!r->fast_nrec)
                cl_csv_fast_reset(&r->fast);
            size_t fk = !lf_rest && fast && r->p.pstate == 0
                            ? cl_csv_fast_scan(&r->fast, p, end, base)
                            : 0;
            if (fk) { /* one whole line, one record: the accounting of the libcsv path below */
                r->fed += (int64_t)fk;
                r->start_line = r->line + 1;
                fast_record(r, p, base);
                r->line++;
                p += fk;
                continue;
            }
            /* the line's extent only now: a fast-path record does not need it (two memchr
             * over every line were 2% of a read) */
            k = lf_rest ? 1 : line_len(p, end, &eol, &cr_end);
            if (cl_csvio_batch_flush(r)) /* the records before this one are committed first */
                break;
            r->fed += (int64_t)k;
            /* a record starts on this line when the parser is between records (libcsv's
             * ROW_NOT_BEGUN = 0) and the line is not blank (libcsv skips blank lines) */
            int blank = (k == 1 && (p[0] == '\n' || p[0] == '\r')) ||
                        (k == 2 && p[0] == '\r' && p[1] == '\n');
            if (!lf_rest && r->p.pstate == 0 && !blank)
                r->start_line = r->line + 1;
            feed(r, p, k);
            if (eol) {
                r->line++;
                r->prev_cr = cr_end;
            }
            p += k;
        }
        if (cl_csvio_batch_flush(r) || r->stop) /* the block's bytes are reused by the next read */
            break;
        done_bytes += (int64_t)n;
        /* Ctrl-C is polled after every block (1 MiB: a few ms of parsing), in both passes;
         * the bar is only for pass 1 of a big file. */
        int report = r->pass == 1 && (src->size < 0 || src->size >= PROGRESS_MIN);
        if ((rc = cl_progress_step(report ? o->progress : NULL, "read_csv", (double)done_bytes,
                                   (double)src->size, NULL)))
            break; /* interrupted: CL_EINTR with its message; the caller frees everything */
        if (!src->fp && src->pos >= src->len)
            break;
        if (src->fp && n < BLOCK && feof(src->fp))
            break;
    }
    if (!rc && !r->rc && !r->stop) {
        int64_t open_line = r->in_record ? r->rec_line : r->start_line;
        /* libcsv reports an unterminated quote only in CSV_STRICT mode, which would also
         * refuse stray quotes inside unquoted fields (a"b), which we accept; so look at the
         * parser state: a quoted field still open (libcsv's FIELD_BEGUN = 2). */
        if (r->p.quoted && r->p.pstate == 2 && !r->rc)
            r->rc = cl_error(CL_EFORMAT,
                             "%s: line %lld: unterminated quoted field (a %c opened near here "
                             "is never closed)",
                             r->origin, (long long)open_line, o->quote);
        else if (csv_fini(&r->p, field_cb, row_cb, r) != 0 && !r->rc)
            r->rc = csv_error(&r->p) == CSV_ENOMEM
                        ? parse_error(r)
                        : cl_error(CL_EFORMAT,
                                   "%s: line %lld: unterminated quoted field (a %c opened near "
                                   "here is never closed)",
                                   r->origin, (long long)open_line, o->quote);
    }
    csv_free(&r->p);
    return rc ? rc : r->rc;
}

static void reader_free(reader *r)
{
    for (int j = 0; j < r->ncol; j++) {
        if (r->names)
            cl_alloc_free(r->names[j]);
        if (r->cols) {
            cl_alloc_free(r->cols[j].num);
            cl_alloc_free(r->cols[j].codes);
            cl_alloc_free(r->cols[j].kind);
            cl_frame_dict_free(r->cols[j].dict);
        }
    }
    cl_alloc_free(r->names);
    cl_alloc_free(r->cols);
    cl_alloc_free(r->stage);
    cl_alloc_free(r->off);
    cl_alloc_free(r->len);
    cl_alloc_free(r->quoted);
    cl_csv_fast_free(&r->fast);
    cl_csvio_batch_free(r);
}

/* The notes of csvio.h "Type inference": a cat column whose values are >= 95% numbers (or
 * dates), and forced columns that turned values into missing ones. */
static void make_notes(const reader *r, cl_csv_info *info)
{
    for (int j = 0; j < r->ncol; j++) {
        const colbuf *c = &r->cols[j];
        cl_csv_note_kind kind;
        int64_t count, total;
        const char *what;
        if (c->forced == CL_NUM || c->forced == CL_DATE) {
            if (!c->coerced)
                continue;
            kind = CL_CSV_COERCED;
            count = c->coerced;
            total = c->coerced + (c->forced == CL_NUM ? c->n_num : c->n_date);
            what = c->forced == CL_NUM ? "numbers" : "dates";
        } else if (c->state == ST_CAT && c->forced < 0 && c->n_text > 0) {
            total = c->n_num + c->n_date + c->n_text;
            count = c->n_text;
            /* >= 95% numbers (dates): integer arithmetic, no rounding at the edge */
            if (c->n_num * 20 >= total * 19)
                kind = CL_CSV_MOSTLY_NUM, what = "numbers";
            else if (c->n_date * 20 >= total * 19)
                kind = CL_CSV_MOSTLY_DATE, what = "dates";
            else
                continue;
        } else {
            continue;
        }
        if (info->nnotes == CL_CSV_MAX_NOTES) {
            info->more_notes++;
            continue;
        }
        cl_csv_note *n = &info->notes[info->nnotes++];
        n->kind = kind;
        n->column = j;
        n->count = count;
        n->total = total;
        n->line = c->first_line;
        memcpy(n->first, c->first, sizeof n->first);
        if (kind == CL_CSV_COERCED)
            snprintf(n->message, sizeof n->message,
                     "%s: column '%.60s': %lld of %lld values are not %s and were read as "
                     "missing (first: '%s' on line %lld)",
                     r->origin, r->names[j], (long long)count, (long long)total, what, c->first,
                     (long long)n->line);
        else
            snprintf(n->message, sizeof n->message,
                     "%s: column '%.60s' read as cat: %lld of %lld values are not %s (first: "
                     "'%s' on line %lld); types = {%.60s = \"%s\"} reads them as missing",
                     r->origin, r->names[j], (long long)count, (long long)total, what, c->first,
                     (long long)n->line, r->names[j], kind == CL_CSV_MOSTLY_NUM ? "num" : "date");
    }
}

static int build_frame(reader *r, cl_frame **out)
{
    cl_frame *f = NULL;
    int rc = cl_frame_new(&f);
    for (int j = 0; rc == CL_OK && j < r->ncol; j++) {
        colbuf *b = &r->cols[j];
        cl_column *c = cl_alloc_calloc(1, sizeof *c);
        if (!c) {
            rc = CL_ENOMEM;
            break;
        }
        c->refcount = 1;
        c->n = r->nrow;
        if (r->cap > r->nrow + r->nrow / 16 + 16) { /* give back a generous estimate */
            if (b->state == ST_CAT && b->codes) {
                int32_t *p = cl_alloc_realloc(b->codes, (size_t)(r->nrow ? r->nrow : 1) * sizeof *p);
                if (p)
                    b->codes = p;
            } else if (b->state != ST_CAT && b->num) {
                double *p = cl_alloc_realloc(b->num, (size_t)(r->nrow ? r->nrow : 1) * sizeof *p);
                if (p)
                    b->num = p;
            }
        }
        if (b->state == ST_CAT) {
            c->type = CL_CAT;
            c->codes = b->codes ? b->codes : cl_alloc(sizeof(int32_t));
            c->dict = b->dict;
            b->codes = NULL;
            b->dict = NULL;
            if (!c->dict)
                rc = cl_frame_dict_new(&c->dict);
        } else {
            c->type = b->state == ST_DATE ? CL_DATE : CL_NUM;
            c->num = b->num ? b->num : cl_alloc(sizeof(double));
            b->num = NULL;
            for (int64_t i = 0; b->quoted_na && c->num && i < r->nrow; i++)
                if (isnan(c->num[i])) /* QNA was only for to_cat: plain NaN in frames */
                    c->num[i] = NAN;
        }
        if (!c->num && !c->codes)
            rc = CL_ENOMEM;
        if (rc == CL_OK)
            rc = cl_frame_set(f, r->names[j], c);
        cl_frame_column_free(c);
    }
    if (rc) {
        cl_frame_free(f);
        if (rc == CL_ENOMEM)
            cl_error_wrap(rc, "%s: building the frame (%d columns, %lld rows)", r->origin,
                          r->ncol, (long long)r->nrow);
        return rc;
    }
    f->nrow = r->nrow;
    *out = f;
    return CL_OK;
}

static int read_source(cl_frame **out, source *src, const char *origin, const cl_csv_opts *o,
                       cl_csv_info *info)
{
    cl_csv_opts defaults;
    if (!o) {
        cl_csvio_opts_default(&defaults);
        o = &defaults;
    }
    *out = NULL;
    if (o->sep == '\0' || o->sep == '\n' || o->sep == '\r' || o->sep == o->quote)
        return cl_error(CL_EINVAL, "%s: bad separator or quote character", origin);
    if (!o->header && o->names == NULL && o->nnames != 0)
        return cl_error(CL_EINVAL, "%s: names count without names", origin);
    reader r;
    memset(&r, 0, sizeof r);
    r.origin = origin;
    r.o = o;
    r.na = o->na ? o->na : cl_csvio_default_na;
    r.nna = o->na ? o->nna : CL_CSVIO_NDEFAULT_NA;
    for (int k = 0; k < r.nna; k++) {
        size_t n = strlen(r.na[k]);
        if (n > r.na_maxlen)
            r.na_maxlen = n;
        r.na_lens |= n < 64 ? (uint64_t)1 << n : 0;
    }
    r.pass = 1;
    r.size = src->size;
    r.max_record = o->max_record > 0 ? o->max_record : (int64_t)64 << 20;
    cl_csv_fast_init(&r.fast, o->sep, o->quote, r.max_record);
    if (info)
        memset(info, 0, sizeof *info);
    cloc loc;
    cloc_enter(&loc);
    r.cloc = loc.c;
    for (int k = 0; k < r.nna; k++) {
        double v;
        size_t n = strlen(r.na[k]);
        r.na_parses |= cl_textnum_parse_num(r.na[k], n, &v) || cl_textnum_parse_date(r.na[k], n, &v);
    }
    r.threads = o->threads > 0 ? o->threads : 1;
    int rc = run_pass(&r, src);
    if (rc == CL_OK && !r.have_header)
        rc = o->names && !o->header ? cl_error(CL_EFORMAT, "%s: no data rows", origin)
                                    : cl_error(CL_EFORMAT, "%s: empty file (no header line)", origin);
    /* A column whose only values are quoted "" / "NA" is a cat column of those labels (as
     * write_csv writes such a column); once a number came, they were missing numbers. */
    for (int j = 0; rc == CL_OK && j < r.ncol; j++)
        if (r.cols[j].state == ST_UNKNOWN && r.cols[j].quoted_na && r.cols[j].forced < 0 &&
            (rc = to_cat(&r, &r.cols[j], r.nrow)))
            rc = at_column(&r, rc, j);
    int64_t lines = r.line, need = 0;
    for (int j = 0; rc == CL_OK && j < r.ncol; j++)
        if (r.cols[j].fallback > need)
            need = r.cols[j].fallback;
    if (rc == CL_OK && need > 0) {
        int64_t nrow = r.nrow;
        r.pass = 2;
        r.pass2_rows = need;
        r.nrow = 0;
        r.header_pending = o->header; /* pass 2 re-reads (and ignores) the header record */
        rc = rewind_source(src, origin);
        if (rc == CL_OK)
            rc = run_pass(&r, src);
        if (rc == CL_OK && r.nrow < need)
            rc = cl_error(CL_EIO,
                          "%s: the file changed while being read (%lld rows, then only %lld)",
                          origin, (long long)need, (long long)r.nrow);
        r.nrow = nrow;
    }
    cloc_leave(&loc);
    if (info) {
        info->bad_lines = r.bad;
        info->first_bad_line = r.first_bad;
        info->lines = lines;
        if (rc == CL_OK)
            make_notes(&r, info);
    }
    if (rc == CL_OK)
        rc = build_frame(&r, out);
    reader_free(&r);
    return rc;
}

int cl_csvio_read_buffer(cl_frame **out, const char *buf, size_t len, const char *origin,
                       const cl_csv_opts *o, cl_csv_info *info)
{
    source s = {NULL, buf, len, 0, NULL, (int64_t)len};
    return read_source(out, &s, origin ? origin : "<buffer>", o, info);
}

int cl_csvio_read(cl_frame **out, const char *path, const cl_csv_opts *o, cl_csv_info *info)
{
    *out = NULL;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return cl_error(CL_EIO, "cannot open '%s': %s", path, strerror(errno));
    source s = {fp, NULL, 0, 0, cl_alloc(BLOCK), -1};
    if (!s.block) {
        fclose(fp);
        return cl_error_wrap(CL_ENOMEM, "%s: read buffer", path);
    }
    if (fseek(fp, 0, SEEK_END) == 0) {
        long sz = ftell(fp);
        s.size = sz;
        rewind(fp);
    }
    int rc = read_source(out, &s, path, o, info);
    cl_alloc_free(s.block);
    fclose(fp);
    return rc;
}
