/* csvio.c - CSV reader (libcsv callbacks, one-pass type inference) and writer. See csvio.h. */
#include "frame/csvio.h"
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

#define BLOCK ((size_t)1 << 20)
/* Inputs smaller than this get no progress reports (no bar flashing up for a small file);
 * the interrupt flag is polled after every block whatever the size. */
#define PROGRESS_MIN ((int64_t)8 << 20)

void cl_csv_opts_default(cl_csv_opts *o)
{
    memset(o, 0, sizeof *o);
    o->sep = ',';
    o->quote = '"';
    o->header = 1;
    o->nrows = -1;
}

/* ---- C-locale scope ----------------------------------------------------------------------- */

typedef struct cloc {
    locale_t c, old;
} cloc;

static void cloc_enter(cloc *l)
{
    l->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

static void cloc_leave(cloc *l)
{
    if (l->c) {
        uselocale(l->old);
        freelocale(l->c);
    }
}

/* ---- numbers and dates -------------------------------------------------------------------- */

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int cl_csv_parse_num(const char *s, size_t len, double *v)
{
    const char *p = s, *end = s + len;
    while (p < end && is_space(*p))
        p++;
    while (end > p && is_space(end[-1]))
        end--;
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    uint64_t w = 0;
    int digits = 0, sig = 0, dropped = 0, frac = 0;
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (sig < 19) {
            w = w * 10 + (uint64_t)(*p - '0');
            sig += w != 0;
        } else {
            dropped++;
        }
    }
    if (p < end && *p == '.') {
        p++;
        for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
            if (sig < 19) {
                w = w * 10 + (uint64_t)(*p - '0');
                sig += w != 0;
                frac++;
            }
        }
    }
    if (digits == 0)
        return 0;
    long e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, ed = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        if (ed == 0)
            return 0;
        if (eneg)
            e = -e;
    }
    if (p != end)
        return 0;
    long e10 = e + dropped - frac;
    if (w <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        /* Clinger's fast path: both operands exact, one rounding. */
        double d = (double)w;
        d = e10 >= 0 ? d * POW10[e10] : d / POW10[-e10];
        *v = neg ? -d : d;
        return 1;
    }
    /* Exact but rare: strtod on a NUL-terminated copy (the caller holds the C locale). */
    char tmp[128];
    size_t n = (size_t)(end - start);
    char *buf = n < sizeof tmp ? tmp : malloc(n + 1);
    if (!buf)
        return 0;
    memcpy(buf, start, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    if (buf != tmp)
        free(buf);
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int digits_at(const char *p, int n, int *v)
{
    int x = 0;
    for (int i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return 0;
        x = x * 10 + (p[i] - '0');
    }
    *v = x;
    return 1;
}

int cl_csv_parse_date(const char *s, size_t len, double *days)
{
    while (len > 0 && is_space(*s))
        s++, len--;
    while (len > 0 && is_space(s[len - 1]))
        len--;
    int y, m, d, hh = 0, mm = 0, ss = 0;
    if (len != 10 && len != 19)
        return 0;
    if (!digits_at(s, 4, &y) || s[4] != '-' || !digits_at(s + 5, 2, &m) || s[7] != '-' ||
        !digits_at(s + 8, 2, &d))
        return 0;
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return 0;
    if (len == 19) {
        if ((s[10] != ' ' && s[10] != 'T') || !digits_at(s + 11, 2, &hh) || s[13] != ':' ||
            !digits_at(s + 14, 2, &mm) || s[16] != ':' || !digits_at(s + 17, 2, &ss) || hh > 23 ||
            mm > 59 || ss > 60)
            return 0;
    }
    *days = (double)days_from_civil(y, m, d) + (hh * 3600 + mm * 60 + ss) / 86400.0;
    return 1;
}

int cl_csv_format_date(double days, char *buf, size_t cap)
{
    if (isnan(days) || fabs(days) > 1e8)
        return snprintf(buf, cap, "%s", isnan(days) ? "" : "?");
    double fl = floor(days);
    long secs = lround((days - fl) * 86400.0);
    long z = (long)fl;
    if (secs >= 86400) {
        z++;
        secs -= 86400;
    }
    long y;
    int m, d;
    civil_from_days(z, &y, &m, &d);
    if (secs == 0)
        return snprintf(buf, cap, "%04ld-%02d-%02d", y, m, d);
    return snprintf(buf, cap, "%04ld-%02d-%02d %02ld:%02ld:%02ld", y, m, d, secs / 3600,
                    secs / 60 % 60, secs % 60);
}

int cl_csv_format_num(double v, char *buf, size_t cap)
{
    if (isnan(v))
        return snprintf(buf, cap, "%s", "");
    if (isinf(v))
        return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    return n;
}

/* ---- reader ------------------------------------------------------------------------------- */

enum { ST_UNKNOWN, ST_NUM, ST_DATE, ST_CAT };

typedef struct colbuf {
    int state;
    int forced;           /* -1 or a cl_coltype */
    double *num;          /* UNKNOWN, NUM, DATE */
    int32_t *codes;       /* CAT */
    cl_dict *dict;
    int64_t fallback;     /* rows [0, fallback) still need their text (pass 2); 0 = none */
} colbuf;

typedef struct reader {
    const char *origin;
    const cl_csv_opts *o;
    struct csv_parser p;
    /* staging of the current record */
    char *stage;
    size_t stage_len, stage_cap;
    size_t *off, *len;    /* field offsets/lengths into stage */
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
    /* progress */
    int64_t line;         /* physical lines fully fed so far */
    int64_t bad, first_bad;
    int pass;             /* 1 or 2 (text of fallback columns) */
    int64_t pass2_rows;
    int stop;             /* nrows reached or pass 2 done */
    int rc;               /* first error */
} reader;

static const char *const DEFAULT_NA[] = {"NA", "N/A", "null", "NaN"};

static int is_na(const reader *r, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && is_space(s[i]))
        i++;
    if (i == len)
        return 1;
    if (len > r->na_maxlen)
        return 0;
    for (int k = 0; k < r->nna; k++)
        if (strlen(r->na[k]) == len && memcmp(r->na[k], s, len) == 0)
            return 1;
    return 0;
}

static int grow_rows(reader *r);
static int commit_field(reader *r, int j, const char *s, size_t len);

/* An allocation failure gets the file and what was being built in front of the allocator's
 * "out of memory (allocating N bytes)"; other codes already carry their own message. */
static int at_record(reader *r, int rc, const char *what)
{
    if (rc != CL_ENOMEM)
        return rc;
    return cl_error_wrap(rc, "%s: line %lld: %s", r->origin, (long long)r->rec_line, what);
}

static int at_column(reader *r, int rc, int j)
{
    if (rc != CL_ENOMEM)
        return rc;
    return cl_error_wrap(rc, "%s: line %lld, column '%s'", r->origin, (long long)r->rec_line,
                         r->names[j]);
}

static void field_cb(void *s, size_t len, void *data)
{
    reader *r = data;
    if (r->rc || r->stop)
        return;
    if (!r->in_record) {
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
            if (r->nf == 0 && r->pass == 1 && r->nrow == r->cap && (r->rc = grow_rows(r)))
                return;
            int rc = commit_field(r, r->nf, s, len);
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
        size_t *off = cl_realloc(r->off, (size_t)cap * sizeof *off);
        size_t *ln = off ? cl_realloc(r->len, (size_t)cap * sizeof *ln) : NULL;
        if (off)
            r->off = off;
        if (!ln) {
            r->rc = at_record(r, CL_ENOMEM, "field table");
            return;
        }
        r->len = ln;
        r->fcap = cap;
    }
    if (r->stage_len + len + 1 > r->stage_cap) {
        size_t cap = (r->stage_len + len + 1) * 2;
        char *st = cl_realloc(r->stage, cap);
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
    r->stage_len += len + 1;
    r->nf++;
}

static int grow_rows(reader *r)
{
    int64_t cap = r->cap ? r->cap + r->cap / 2 : 1024;
    if (r->cap && !r->estimated && r->size > 0 && r->fed > 0) {
        /* after the first rows, size the buffers from the file size and the bytes per row
         * so far: usually no further growth (and no transient 2.5x copies) */
        double per_row = (double)r->fed / (double)r->nrow;
        double est = (double)r->size / per_row * 1.03 + 64;
        if (est > (double)cap && est < 4e12)
            cap = (int64_t)est;
        r->estimated = 1;
    }
    for (int j = 0; j < r->ncol; j++) {
        colbuf *c = &r->cols[j];
        if (c->state == ST_CAT) {
            int32_t *codes = cl_realloc(c->codes, (size_t)cap * sizeof *codes);
            if (!codes)
                return cl_error_wrap(CL_ENOMEM, "%s: column '%s' (room for %lld rows)",
                                     r->origin, r->names[j], (long long)cap);
            c->codes = codes;
        } else {
            double *num = cl_realloc(c->num, (size_t)cap * sizeof *num);
            if (!num)
                return cl_error_wrap(CL_ENOMEM, "%s: column '%s' (room for %lld rows)",
                                     r->origin, r->names[j], (long long)cap);
            c->num = num;
        }
    }
    r->cap = cap;
    return CL_OK;
}

static int field_error(reader *r, int j, const char *what, const char *s)
{
    return cl_error(CL_EFORMAT, "%s: line %lld, column '%s': expected %s, got '%.60s'",
                    r->origin, (long long)r->rec_line, r->names[j], what, s);
}

/* Switches a num/date column to cat at row r->nrow: missing rows become -1, the others wait
 * for pass 2 (-2). */
static int to_cat(reader *r, colbuf *c)
{
    int32_t *codes = cl_alloc((size_t)(r->cap ? r->cap : 1) * sizeof *codes);
    if (!codes)
        return CL_ENOMEM;
    int pending = 0;
    for (int64_t i = 0; i < r->nrow; i++) {
        int na = isnan(c->num[i]);
        codes[i] = na ? -1 : -2;
        pending |= !na;
    }
    if (pending)
        c->fallback = r->nrow;
    cl_free(c->num);
    c->num = NULL;
    c->codes = codes;
    c->state = ST_CAT;
    if (!c->dict)
        return cl_dict_new(&c->dict);
    return CL_OK;
}

static int commit_field(reader *r, int j, const char *s, size_t len)
{
    colbuf *c = &r->cols[j];
    int64_t i = r->nrow;
    if (r->pass == 2) {
        if (i < c->fallback && c->codes[i] == -2)
            return cl_dict_intern(c->dict, s, len, &c->codes[i]);
        return CL_OK;
    }
    double v;
    switch (c->state) {
    case ST_NUM:
        if (cl_csv_parse_num(s, len, &v)) {
            c->num[i] = v;
            return CL_OK;
        }
        if (is_na(r, s, len)) {
            c->num[i] = NAN;
            return CL_OK;
        }
        if (c->forced == CL_NUM)
            return field_error(r, j, "a number", s);
        break;
    case ST_DATE:
        if (cl_csv_parse_date(s, len, &v)) {
            c->num[i] = v;
            return CL_OK;
        }
        if (is_na(r, s, len)) {
            c->num[i] = NAN;
            return CL_OK;
        }
        if (c->forced == CL_DATE)
            return field_error(r, j, "a date (YYYY-MM-DD or YYYY-MM-DD HH:MM:SS)", s);
        break;
    case ST_CAT:
        if (is_na(r, s, len)) {
            c->codes[i] = -1;
            return CL_OK;
        }
        return cl_dict_intern(c->dict, s, len, &c->codes[i]);
    case ST_UNKNOWN:
        if (is_na(r, s, len)) {
            c->num[i] = NAN;
            return CL_OK;
        }
        if (cl_csv_parse_num(s, len, &v)) {
            c->state = ST_NUM;
            c->num[i] = v;
            return CL_OK;
        }
        if (cl_csv_parse_date(s, len, &v)) {
            c->state = ST_DATE;
            c->num[i] = v;
            return CL_OK;
        }
        break;
    }
    /* text in a num/date/unknown column: it becomes cat */
    int rc = to_cat(r, c);
    if (rc)
        return rc;
    return cl_dict_intern(c->dict, s, len, &c->codes[i]);
}

static int set_header(reader *r)
{
    const cl_csv_opts *o = r->o;
    int n = r->nf;
    if (o->names && (o->nnames != n))
        return cl_error(CL_EINVAL, "%s: %d names given, the file has %d columns", r->origin,
                        o->nnames, n);
    r->names = cl_calloc((size_t)n, sizeof *r->names);
    r->cols = r->names ? cl_calloc((size_t)n, sizeof *r->cols) : NULL;
    if (!r->names || !r->cols)
        return at_record(r, CL_ENOMEM, "header (column table)");
    r->ncol = n;
    for (int j = 0; j < n; j++) {
        char gen[32];
        const char *name;
        if (o->names)
            name = o->names[j];
        else if (o->header)
            name = r->stage + r->off[j];
        else
            snprintf(gen, sizeof gen, "V%d", j + 1), name = gen;
        if (!name || !*name)
            return cl_error(CL_EFORMAT, "%s: line %lld: column %d has an empty name", r->origin,
                            (long long)r->rec_line, j + 1);
        for (int k = 0; k < j; k++)
            if (!strcmp(r->names[k], name))
                return cl_error(CL_EFORMAT,
                                "%s: line %lld: duplicate column name '%s' (columns %d and %d)",
                                r->origin, (long long)r->rec_line, name, k + 1, j + 1);
        if (!(r->names[j] = cl_strdup(name)))
            return cl_error_wrap(CL_ENOMEM, "%s: line %lld: name of column %d", r->origin,
                                 (long long)r->rec_line, j + 1);
        r->cols[j].forced = -1;
    }
    for (int t = 0; t < o->ntypes; t++) {
        int j = -1;
        for (int k = 0; k < n && j < 0; k++)
            if (!strcmp(r->names[k], o->type_names[t]))
                j = k;
        if (j < 0)
            return cl_error(CL_EINVAL, "%s: types: no column '%s'", r->origin, o->type_names[t]);
        colbuf *c = &r->cols[j];
        c->forced = (int)o->types[t];
        c->state = o->types[t] == CL_NUM ? ST_NUM : o->types[t] == CL_DATE ? ST_DATE : ST_CAT;
        if (c->state == ST_CAT) {
            int rc = cl_dict_new(&c->dict);
            if (rc)
                return at_column(r, rc, j);
        }
    }
    r->have_header = 1;
    return CL_OK;
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
        if (r->pass == 1 && r->nrow == r->cap && (r->rc = grow_rows(r)))
            return;
        for (int j = 0; j < r->ncol; j++) {
            int rc = commit_field(r, j, r->stage + r->off[j], r->len[j]);
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
    if (fseek(s->fp, 0, SEEK_SET) != 0)
        return cl_error(CL_EIO, "%s: cannot re-read the file: %s", origin, strerror(errno));
    return CL_OK;
}

static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

static void *csv_realloc(void *p, size_t n)
{
    return cl_realloc(p, n);
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

/* One pass over the source. */
static int run_pass(reader *r, source *src)
{
    const cl_csv_opts *o = r->o;
    if (csv_init(&r->p, CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return cl_error(CL_ENOMEM, "%s: out of memory (libcsv parser)", r->origin);
    csv_set_delim(&r->p, (unsigned char)o->sep);
    csv_set_quote(&r->p, (unsigned char)o->quote);
    csv_set_space_func(&r->p, no_space);
    csv_set_realloc_func(&r->p, csv_realloc);
    csv_set_free_func(&r->p, cl_free);
    r->line = 0;
    r->in_record = 0;
    r->stop = 0;
    int64_t skip = o->skip;
    int64_t done_bytes = 0;
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
        const char *end = p + n;
        while (p < end && !r->rc && !r->stop) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t k = nl ? (size_t)(nl - p) + 1 : (size_t)(end - p);
            if (skip > 0) {
                if (nl) {
                    skip--;
                    r->line++;
                }
                p += k;
                continue;
            }
            r->fed += (int64_t)k;
            /* a record starts on this line when the parser is between records (libcsv's
             * ROW_NOT_BEGUN = 0) and the line is not blank (libcsv skips blank lines) */
            if (r->p.pstate == 0 && !(k == 1 || (k == 2 && p[0] == '\r')))
                r->start_line = r->line + 1;
            if (csv_parse(&r->p, p, k, field_cb, row_cb, r) != k && !r->rc)
                r->rc = parse_error(r);
            if (nl)
                r->line++;
            p += k;
        }
        if (r->rc || r->stop)
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
            cl_free(r->names[j]);
        if (r->cols) {
            cl_free(r->cols[j].num);
            cl_free(r->cols[j].codes);
            cl_dict_free(r->cols[j].dict);
        }
    }
    cl_free(r->names);
    cl_free(r->cols);
    cl_free(r->stage);
    cl_free(r->off);
    cl_free(r->len);
}

static int build_frame(reader *r, cl_frame **out)
{
    cl_frame *f = NULL;
    int rc = cl_frame_new(&f);
    for (int j = 0; rc == CL_OK && j < r->ncol; j++) {
        colbuf *b = &r->cols[j];
        cl_column *c = cl_calloc(1, sizeof *c);
        if (!c) {
            rc = CL_ENOMEM;
            break;
        }
        c->refcount = 1;
        c->n = r->nrow;
        if (r->cap > r->nrow + r->nrow / 16 + 16) { /* give back a generous estimate */
            if (b->state == ST_CAT && b->codes) {
                int32_t *p = cl_realloc(b->codes, (size_t)(r->nrow ? r->nrow : 1) * sizeof *p);
                if (p)
                    b->codes = p;
            } else if (b->state != ST_CAT && b->num) {
                double *p = cl_realloc(b->num, (size_t)(r->nrow ? r->nrow : 1) * sizeof *p);
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
                rc = cl_dict_new(&c->dict);
        } else {
            c->type = b->state == ST_DATE ? CL_DATE : CL_NUM;
            c->num = b->num ? b->num : cl_alloc(sizeof(double));
            b->num = NULL;
        }
        if (!c->num && !c->codes)
            rc = CL_ENOMEM;
        if (rc == CL_OK)
            rc = cl_frame_set(f, r->names[j], c);
        cl_column_free(c);
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
        cl_csv_opts_default(&defaults);
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
    r.na = o->na ? o->na : DEFAULT_NA;
    r.nna = o->na ? o->nna : (int)(sizeof DEFAULT_NA / sizeof *DEFAULT_NA);
    for (int k = 0; k < r.nna; k++)
        if (strlen(r.na[k]) > r.na_maxlen)
            r.na_maxlen = strlen(r.na[k]);
    r.pass = 1;
    r.size = src->size;
    cloc loc;
    cloc_enter(&loc);
    int rc = run_pass(&r, src);
    if (rc == CL_OK && !r.have_header)
        rc = o->names && !o->header ? cl_error(CL_EFORMAT, "%s: no data rows", origin)
                                    : cl_error(CL_EFORMAT, "%s: empty file (no header line)", origin);
    int64_t need = 0;
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
        r.nrow = nrow;
    }
    cloc_leave(&loc);
    if (info) {
        info->bad_lines = r.bad;
        info->first_bad_line = r.first_bad;
        info->lines = r.line;
    }
    if (rc == CL_OK)
        rc = build_frame(&r, out);
    reader_free(&r);
    return rc;
}

int cl_csv_read_buffer(cl_frame **out, const char *buf, size_t len, const char *origin,
                       const cl_csv_opts *o, cl_csv_info *info)
{
    source s = {NULL, buf, len, 0, NULL, (int64_t)len};
    return read_source(out, &s, origin ? origin : "<buffer>", o, info);
}

int cl_csv_read(cl_frame **out, const char *path, const cl_csv_opts *o, cl_csv_info *info)
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
    cl_free(s.block);
    fclose(fp);
    return rc;
}

/* ---- writer ------------------------------------------------------------------------------- */

static int needs_quotes(const char *s, char sep)
{
    size_t n = strlen(s);
    if (n == 0)
        return 1; /* an empty label is distinct from missing */
    if (is_space(s[0]) || is_space(s[n - 1]))
        return 1;
    for (; *s; s++)
        if (*s == sep || *s == '"' || *s == '\n' || *s == '\r')
            return 1;
    return 0;
}

static void put_str(FILE *fp, const char *s, char sep)
{
    if (!needs_quotes(s, sep)) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int cl_csv_write(const cl_frame *f, const char *path, char sep)
{
    if (!sep)
        sep = ',';
    cl_atomic_file a;
    int rc = cl_atomic_open(&a, path);
    if (rc)
        return rc;
    cloc loc;
    cloc_enter(&loc);
    for (int j = 0; j < f->ncol; j++) {
        if (j)
            fputc(sep, a.fp);
        put_str(a.fp, f->names[j], sep);
    }
    fputc('\n', a.fp);
    char buf[64];
    for (int64_t i = 0; i < f->nrow; i++) {
        for (int j = 0; j < f->ncol; j++) {
            const cl_column *c = f->cols[j];
            if (j)
                fputc(sep, a.fp);
            if (c->type == CL_CAT) {
                if (c->codes[i] >= 0)
                    put_str(a.fp, c->dict->labels[c->codes[i]], sep);
            } else if (c->type == CL_DATE) {
                cl_csv_format_date(c->num[i], buf, sizeof buf);
                fputs(buf, a.fp);
            } else {
                cl_csv_format_num(c->num[i], buf, sizeof buf);
                fputs(buf, a.fp);
            }
        }
        fputc('\n', a.fp);
    }
    cloc_leave(&loc);
    if (ferror(a.fp)) {
        cl_atomic_abort(&a);
        return cl_error(CL_EIO, "write_csv: cannot write '%s'", path);
    }
    return cl_atomic_commit(&a);
}
