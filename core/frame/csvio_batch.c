/* csvio_batch.c - the CSV reader's batch commit (carved out of csvio.c, which feeds it): the
 * records the fast tokenizer took are gathered in file order into a batch, which is then
 * committed column by column (each column's rows in order, so the frame is the same at any
 * thread count), the columns shared out over the read's threads (csv_crew.h); and the
 * parallel scan of a block, whose parts' records join the batch in file order. The reader's
 * state is in csvio_impl.h. */
#include "frame/csvio_impl.h"
#include "frame/textnum.h"
#include "base/alloc.h"
#include "base/error.h"

#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Fields in a batch below which it is committed on one thread. */
#define PARALLEL_MIN ((int64_t)4096)
/* Fields at which a batch is committed before the block ends: the commit walks the batch once
 * per column, so the batch's text and spans (12 bytes a field) should stay in the core's
 * cache (a whole 1 MiB block of short fields is ~2 MB with its spans). On the bench file
 * (1M x 20) one thread's CPU time was 1.15 s with whole blocks, 1.16 s at 32768 fields, 1.02 s
 * at 8192 (min of 4, shared machine). With threads, each batch starts them (tens of us), so
 * a batch is larger there. The frame does not depend on either. */
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define BATCH_FIELDS_1T ((int64_t)8192)
#define BATCH_FIELDS_MT ((int64_t)32768)
#else /* fuzz inputs are small: tiny batches, so flushes mid-block are fuzzed too */
#define BATCH_FIELDS_1T ((int64_t)64)
#define BATCH_FIELDS_MT ((int64_t)128)
#endif

/* ---- batches: records tokenized in order, columns committed in parallel ---------------- */

static int batch_grow(reader *r);

/* A record the fast path scanned (its spans at r->fast.spans + base). In pass 1, once the columns
 * are known, a record with the right field count joins the batch, which flush_batch commits
 * column by column (a column's rows in order, so the frame does not depend on the thread
 * count); anything else is taken at once, after the batch, as the libcsv path would. */
void cl_csvio_batch_add(reader *r, const char *p, const cl_csv_fast *tok, size_t base)
{
    const cl_csv_opts *o = r->o;
    if (o->nrows >= 0 && r->nrow + r->bn >= o->nrows) { /* field_take's nrows stop */
        r->stop = 1;
        return;
    }
    if (r->bn == r->bcap && batch_grow(r))
        return;
    r->brec[r->bn] = p;
    r->bline[r->bn] = r->start_line;
    r->btok[r->bn] = tok;
    r->bbase[r->bn] = base;
    r->bn++;
    r->fast_nrec += tok == &r->fast;
    if (o->nrows >= 0 && r->nrow + r->bn >= o->nrows) /* row_cb's nrows stop */
        r->stop = 1;
    else if ((int64_t)r->bn * r->ncol >= (r->threads > 1 ? BATCH_FIELDS_MT : BATCH_FIELDS_1T))
        cl_csvio_batch_flush(r);
}

static int batch_grow(reader *r)
{
    int cap = r->bcap ? r->bcap * 2 : 1024;
    const char **rec = cl_alloc_realloc(r->brec, (size_t)cap * sizeof *rec);
    if (rec)
        r->brec = rec;
    int64_t *line = rec ? cl_alloc_realloc(r->bline, (size_t)cap * sizeof *line) : NULL;
    if (line)
        r->bline = line;
    const cl_csv_fast **tok = line ? cl_alloc_realloc(r->btok, (size_t)cap * sizeof *tok) : NULL;
    if (tok)
        r->btok = tok;
    size_t *base = tok ? cl_alloc_realloc(r->bbase, (size_t)cap * sizeof *base) : NULL;
    if (!base)
        return r->rc = at_record(r, CL_ENOMEM, "record batch");
    r->bbase = base;
    r->bcap = cap;
    return CL_OK;
}

/* The first failure of a batch commit on one thread: the lowest (record, column). */
typedef struct batch_err {
    int64_t b;
    int j, rc;
    char msg[256];
} batch_err;

/* Lookahead of the label prefetch in a cat column: the slot of record b + 8, the label of
 * record b + 4 (its slot fetched four records ago). A column's labels are looked up in a
 * row, each a likely cache miss in a big dictionary (dict_lookup was a fifth of the read). */
#define PF_SLOT 8
#define PF_LABEL 4

static const char *batch_field(const reader *r, int64_t b, int j, size_t *len)
{
    const cl_csv_fast *tok = r->btok[b];
    const cl_csv_fast_span *f = &tok->spans[r->bbase[b] + (size_t)j];
    *len = f->len;
    return cl_csv_fast_text(tok, r->brec[b], f);
}

/* Keeps a commit failure at (record b, column j) in e if it comes first (record, then
 * column). */
static void batch_fail(int j, int64_t b, int rc, batch_err *e)
{
    if (b < e->b || (b == e->b && j < e->j)) {
        e->b = b;
        e->j = j;
        e->rc = rc;
        snprintf(e->msg, sizeof e->msg, "%s", cl_error_last());
    }
}

/* Commits record b's field of column j through commit_at; on a failure, keeps it in e if it
 * comes first (record, then column) and returns 1. */
static int commit_one(reader *r, int j, int64_t b, batch_err *e)
{
    const cl_csv_fast *tok = r->btok[b];
    const cl_csv_fast_span *f = &tok->spans[r->bbase[b] + (size_t)j];
    const char *s = cl_csv_fast_text(tok, r->brec[b], f);
    int rc = cl_csvio_commit_at(r, j, r->nrow + b, r->bline[b], s, f->len, f->quoted);
    if (!rc)
        return 0;
    batch_fail(j, b, rc, e);
    return 1;
}

/* Pass 1 of a num or date column: a value that parses is stored here without commit_at's
 * steps (its missing-marker test first, its switch), which were a fifth of the read; the
 * others go through commit_at. Equal to commit_at whenever no missing marker parses as a
 * number or date (r->na_parses: then commit_at is never skipped): a field that parses is
 * then never a marker nor blank, and commit_at would parse it the same way. From record b;
 * returns the first record left to the caller: the column became cat, or a commit failed
 * (e set). */
static int64_t commit_parsed(reader *r, int j, int64_t b, batch_err *e)
{
    colbuf *c = &r->cols[j];
    const int st = c->state, as_num = st == ST_NUM;
    int64_t ok = 0;
    double *num = c->num + r->nrow;
    for (; b < r->bn && b <= e->b; b++) {
        const cl_csv_fast *tok = r->btok[b];
        const cl_csv_fast_span *f = &tok->spans[r->bbase[b] + (size_t)j];
        const char *s = cl_csv_fast_text(tok, r->brec[b], f);
        double v;
        if (as_num ? cl_textnum_parse_num(s, f->len, &v) : cl_textnum_parse_date(s, f->len, &v)) {
            num[b] = v;
            ok++;
            continue;
        }
        if (commit_one(r, j, b, e)) {
            b = r->bn; /* nothing more of this column in this batch */
            break;
        }
        if (c->state != st) {
            b++;
            break;
        }
    }
    if (as_num)
        c->n_num += ok;
    else
        c->n_date += ok;
    return b;
}

/* Pass 1 of a cat column from record b to the batch end: commit_at's ST_CAT steps, with each
 * label hashed once, PF_SLOT records ahead, for its prefetch and its lookup. */
static void commit_labels(reader *r, int j, int64_t b, batch_err *e)
{
    colbuf *c = &r->cols[j];
    uint32_t ring[PF_SLOT]; /* ring[k % PF_SLOT]: the hash of record k's label */
    size_t len;
    for (int64_t k = b; k < b + PF_SLOT && k < r->bn; k++) {
        const char *s = batch_field(r, k, j, &len);
        ring[k % PF_SLOT] = cl_frame_dict_prefetch_slot(c->dict, s, len);
    }
    for (; b < r->bn && b <= e->b; b++) {
        uint32_t h = ring[b % PF_SLOT];
        if (b + PF_SLOT < r->bn) {
            const char *s = batch_field(r, b + PF_SLOT, j, &len);
            ring[b % PF_SLOT] = cl_frame_dict_prefetch_slot(c->dict, s, len);
        }
        if (b + PF_LABEL < r->bn)
            cl_frame_dict_prefetch_label(c->dict, ring[(b + PF_LABEL) % PF_SLOT]);
        const cl_csv_fast *tok = r->btok[b];
        const cl_csv_fast_span *f = &tok->spans[r->bbase[b] + (size_t)j];
        const char *s = cl_csv_fast_text(tok, r->brec[b], f);
        int32_t *code = &c->codes[r->nrow + b];
        int rc;
        if (!f->quoted && is_na(r, s, f->len)) {
            *code = -1;
            continue;
        }
        if (c->forced < 0) /* what the values look like, for the notes */
            rc = cl_csvio_intern_counted(c, r->bline[b], s, f->len, h, code);
        else
            rc = cl_frame_dict_intern_hashed(c->dict, s, f->len, h, code);
        if (rc) {
            batch_fail(j, b, rc, e);
            return;
        }
    }
}

static void commit_column(reader *r, int j, batch_err *e)
{
    colbuf *c = &r->cols[j];
    int parsed = r->pass == 1 && !r->na_parses;
    if (r->pass == 1)
        cl_csvio_populate_ahead(r, c, r->nrow + r->bn);
    for (int64_t b = 0; b < r->bn && b <= e->b;) {
        if (parsed && (c->state == ST_NUM || c->state == ST_DATE)) {
            b = commit_parsed(r, j, b, e); /* from the record that made the column num/date */
            continue;
        }
        if (c->state == ST_CAT && r->pass == 1) {
            commit_labels(r, j, b, e); /* from the record that made the column cat */
            return;
        }
        if (commit_one(r, j, b, e))
            return;
        b++;
    }
}

/* The read's crew, started at its first parallel step (a small file starts none). */
static cl_csv_crew *reader_crew(reader *r)
{
    if (!r->crew && !r->crew_failed) {
        r->crew = cl_csv_crew_start(r->threads);
        r->crew_failed = !r->crew;
    }
    return r->crew;
}

typedef struct commit_job {
    reader *r;
    int nt;               /* members that take columns (t < nt) */
    unsigned gen;         /* this batch's claim mark (colbuf.claim) */
    batch_err *errs;
} commit_job;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Column j, if no member has claimed it in this batch yet. */
static void commit_claimed(commit_job *job, int j, int t)
{
    colbuf *c = &job->r->cols[j];
    if (atomic_load_explicit(&c->claim, memory_order_relaxed) == job->gen ||
        atomic_exchange_explicit(&c->claim, job->gen, memory_order_relaxed) == job->gen)
        return;
    int64_t t0 = now_ns();
    commit_column(job->r, j, &job->errs[t]);
    c->ns += now_ns() - t0;
}

/* A member commits the columns it owns, in order, then takes what is left of the others',
 * from the last column back (so two members rarely reach for the same one). Owning a column
 * keeps its dictionary, its counters and the end of its buffer in that core's cache from one
 * batch to the next; with every column taken from a shared counter, a column's state moved
 * between the cores at almost every batch. */
static void commit_worker(void *p, int t)
{
    commit_job *job = p;
    reader *r = job->r;
    if (t >= job->nt)
        return;
    locale_t old = r->cloc ? uselocale(r->cloc) : (locale_t)0;
    for (int j = 0; j < r->ncol; j++)
        if (r->cols[j].owner == t)
            commit_claimed(job, j, t);
    for (int j = r->ncol - 1; j >= 0; j--)
        commit_claimed(job, j, t);
    if (r->cloc)
        uselocale(old);
}

typedef struct col_cost {
    int64_t ns;
    int j;
} col_cost;

static int by_cost_desc(const void *a, const void *b)
{
    const col_cost *x = a, *y = b;
    if (x->ns != y->ns)
        return x->ns > y->ns ? -1 : 1;
    return x->j - y->j;
}

/* Gives each column an owner among m members: round robin at first, then, once a few batches
 * have been timed, the longest-first greedy split of the measured times (once: owners that
 * keep changing would lose what owning is for). Which member commits a column changes
 * nothing in the frame. */
#define OWNERS_AFTER 4

static void choose_owners(reader *r, int m)
{
    if (r->owners_m == m && (r->owners_final || r->claim_gen < OWNERS_AFTER))
        return;
    col_cost *cc = r->owners_m == m ? cl_alloc((size_t)r->ncol * sizeof *cc) : NULL;
    if (!cc) { /* first time (or the member count changed, or no memory): round robin */
        for (int j = 0; j < r->ncol; j++)
            r->cols[j].owner = j % m;
        r->owners_m = m;
        return;
    }
    for (int j = 0; j < r->ncol; j++)
        cc[j] = (col_cost){r->cols[j].ns, j};
    qsort(cc, (size_t)r->ncol, sizeof *cc, by_cost_desc);
    int64_t load[64] = {0};
    for (int k = 0; k < r->ncol; k++) {
        int best = 0;
        for (int t = 1; t < m; t++)
            if (load[t] < load[best])
                best = t;
        r->cols[cc[k].j].owner = best;
        load[best] += cc[k].ns;
    }
    cl_alloc_free(cc);
    r->owners_final = 1;
}

/* Members commit their own columns first, then help with the others' (a member that is not
 * running leaves its columns to the others). */
static void commit_parallel(reader *r, int nt, batch_err *errs)
{
    cl_csv_crew *crew = reader_crew(r);
    int m = cl_csv_crew_members(crew);
    if (m > nt)
        m = nt;
    choose_owners(r, m);
    commit_job job = {r, nt, ++r->claim_gen, errs};
    if (job.gen == 0) { /* after 2^32 batches: 0 is the mark of a column never claimed */
        for (int j = 0; j < r->ncol; j++)
            atomic_store(&r->cols[j].claim, 0);
        job.gen = r->claim_gen = 1;
    }
    cl_csv_crew_run(crew, commit_worker, &job);
}

/* Commits the batch: columns split over r->threads threads (each with the C locale). */
int cl_csvio_batch_flush(reader *r)
{
    if (r->rc || !r->bn)
        return r->rc;
    r->pending = r->bn;
    while (r->nrow + r->bn > r->cap)
        if ((r->rc = cl_csvio_grow_rows(r)))
            return r->rc;
    int nt = r->threads < r->ncol ? r->threads : r->ncol;
    if ((int64_t)r->bn * r->ncol < PARALLEL_MIN)
        nt = 1; /* a few fields: starting threads would cost more than it saves */
    batch_err errs[64];
    if (nt > 64)
        nt = 64;
    for (int t = 0; t < nt; t++)
        errs[t].b = INT64_MAX, errs[t].j = INT_MAX, errs[t].rc = 0;
    if (nt <= 1) {
        for (int j = 0; j < r->ncol; j++)
            commit_column(r, j, &errs[0]);
    } else {
        commit_parallel(r, nt, errs);
    }
    batch_err *first = &errs[0];
    for (int t = 1; t < nt; t++)
        if (errs[t].b < first->b || (errs[t].b == first->b && errs[t].j < first->j))
            first = &errs[t];
    if (first->rc) {
        r->rec_line = r->bline[first->b];
        cl_error(first->rc, "%s", first->msg); /* raised on a worker: this thread's message */
        return r->rc = at_column(r, first->rc, first->j);
    }
    r->nrow += r->bn;
    r->bn = 0;
    r->pending = 0;
    r->fast_nrec = 0;
    cl_csv_fast_reset(&r->fast);
    return CL_OK;
}

/* ---- parallel scan: a block's records tokenized on several threads -------------------- */

static void parts_free(reader *r)
{
    for (int k = 0; k < r->nparts; k++)
        cl_csv_fast_part_free(&r->parts[k]);
    cl_alloc_free(r->parts);
    r->parts = NULL;
    r->nparts = 0;
}

static int parts_ready(reader *r, int np)
{
    if (r->nparts >= np)
        return 1;
    cl_csv_fast_part *parts = cl_alloc_calloc((size_t)np, sizeof *parts);
    if (!parts)
        return 0; /* no parallel scan: the sequential one does the same work */
    parts_free(r);
    for (int k = 0; k < np; k++)
        cl_csv_fast_init(&parts[k].tok, r->o->sep, r->o->quote, r->max_record);
    r->parts = parts;
    r->nparts = np;
    return 1;
}

/* Takes the parts' records in file order, each as the sequential loop would (same line
 * numbers, byte counts and batch). A part counts only if the one before it ended exactly
 * where it begins: then its first byte starts a record, because a fast-path record holds no
 * line end but its last (so a cut inside a quoted multi-line field is never trusted). Returns
 * where the sequential loop goes on. */
static const char *parts_merge(reader *r, int np, const char *p)
{
    for (int k = 0; k < np && !r->rc && !r->stop; k++) {
        const cl_csv_fast_part *s = &r->parts[k];
        if (s->from != p)
            break;
        for (int i = 0; i < s->nrec && !r->rc && !r->stop; i++) {
            const char *next = i + 1 < s->nrec ? s->rec[i + 1] : s->stop;
            r->fed += (int64_t)(next - s->rec[i]);
            r->start_line = r->line + 1;
            cl_csvio_batch_add(r, s->rec[i], &s->tok, (size_t)i * (size_t)r->ncol);
            r->line++;
            p = next;
        }
        if (s->stop != s->to)
            break;
    }
    return p;
}

typedef struct scan_job {
    cl_csv_fast_part *parts;
    int np;
    atomic_int next;      /* the next part to take */
} scan_job;

static void scan_worker(void *p, int t)
{
    (void)t;
    scan_job *job = p;
    for (int k; (k = atomic_fetch_add(&job->next, 1)) < job->np;)
        cl_csv_fast_scan_part(&job->parts[k]);
}

/* Scans the records of [p, end) on r->threads threads (tokenizing was the serial part of a
 * read once the columns were converted in parallel), then takes them in order. The
 * records and the frame are the sequential loop's: every record taken is one the sequential
 * loop would scan from the same byte, and where a part stops (a record for libcsv, a bad
 * field count, the block end), the sequential loop goes on from there. */
const char *cl_csvio_batch_par_scan(reader *r, const char *p, const char *end)
{
    int np = r->threads < 64 ? r->threads : 64;
    if (cl_csvio_batch_flush(r) || !parts_ready(r, np)) /* the parts' tokenizers are reused below */
        return p;
    cl_csv_fast_cut(r->parts, np, p, end, r->ncol);
    scan_job job = {r->parts, np, 0};
    cl_csv_crew_run(reader_crew(r), scan_worker, &job);
    return parts_merge(r, np, p);
}

void cl_csvio_batch_free(reader *r)
{
    cl_alloc_free(r->brec);
    cl_alloc_free(r->bline);
    cl_alloc_free(r->btok);
    cl_alloc_free(r->bbase);
    r->brec = NULL;
    r->bline = NULL;
    r->btok = NULL;
    r->bbase = NULL;
    r->bn = r->bcap = 0;
    cl_csv_crew_stop(r->crew);
    r->crew = NULL;
    parts_free(r);
}
