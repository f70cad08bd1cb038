/* csv_fast.c - the fast CSV tokenizer (see csv_fast.h). */
#include "frame/csv_fast.h"
#include "base/alloc.h"

#include <pthread.h>
#include <string.h>

enum { K_PLAIN, K_SEP, K_LF, K_ODD }; /* K_ODD: quote, CR, NUL */

void cl_csv_fast_init(cl_csv_fast *t, char sep, char quote, int64_t max_record)
{
    memset(t, 0, sizeof *t);
    t->sep = sep;
    t->quote = quote;
    t->max_record = max_record;
    memset(t->cls, K_PLAIN, sizeof t->cls);
    t->cls[(unsigned char)sep] = K_SEP;
    t->cls['\n'] = K_LF;
    t->cls['\r'] = K_ODD;
    t->cls['\0'] = K_ODD;
    t->cls[(unsigned char)quote] = K_ODD;
}

void cl_csv_fast_free(cl_csv_fast *t)
{
    cl_alloc_free(t->spans);
    cl_alloc_free(t->unq);
    t->spans = NULL;
    t->unq = NULL;
    t->nspan_cap = t->unq_len = t->unq_cap = 0;
}

void cl_csv_fast_reset(cl_csv_fast *t)
{
    t->unq_len = 0;
}

/* A quoted field with "" escapes, as its text, into t->unq. */
static int unescape(cl_csv_fast *t, cl_csv_fast_span *f, const char *b, const char *z)
{
    const char q = t->quote;
    size_t need = t->unq_len + (size_t)(z - b);
    if (need > t->unq_cap) {
        size_t cap = need * 2 + 256;
        char *u = cl_alloc_realloc(t->unq, cap);
        if (!u)
            return 0;
        t->unq = u;
        t->unq_cap = cap;
    }
    char *o = t->unq + t->unq_len;
    f->off = (uint32_t)t->unq_len;
    for (const char *c = b; c < z; c++) {
        *o++ = *c;
        if (*c == q)
            c++; /* the second quote of "" */
    }
    f->len = (uint32_t)(o - (t->unq + t->unq_len));
    f->unq = 1;
    t->unq_len += f->len;
    return 1;
}

/* A quoted field opening at s (on its quote); returns the byte after the closing quote, or
 * NULL when the field is not a fast-path one. */
static const char *quoted_field(cl_csv_fast *t, cl_csv_fast_span *f, const char *p,
                                const char *s, const char *end)
{
    const char q = t->quote;
    const char *b = ++s;
    int esc = 0;
    for (;;) {
        const char *z = memchr(s, q, (size_t)(end - s));
        if (!z || z + 1 >= end)
            return NULL;
        if (memchr(s, '\n', (size_t)(z - s)) || memchr(s, '\r', (size_t)(z - s)) ||
            memchr(s, '\0', (size_t)(z - s)))
            return NULL;
        if (z[1] == q) {
            esc = 1;
            s = z + 2;
            continue;
        }
        if (z[1] != t->sep && z[1] != '\n')
            return NULL;
        f->quoted = 1;
        if (!esc) {
            f->unq = 0;
            f->off = (uint32_t)(b - p);
            f->len = (uint32_t)(z - b);
        } else if (!unescape(t, f, b, z)) {
            return NULL;
        }
        return z + 1;
    }
}

static size_t fields(cl_csv_fast *t, const char *p, const char *end, size_t base, size_t *nfp)
{
    const unsigned char *cls = t->cls;
    const char *s = p;
    size_t nf = 0;
    for (;;) {
        if (base + nf == t->nspan_cap) {
            size_t cap = t->nspan_cap ? t->nspan_cap * 2 : 64;
            cl_csv_fast_span *sp = cl_alloc_realloc(t->spans, cap * sizeof *sp);
            if (!sp)
                return 0; /* libcsv's path reports the allocation failure */
            t->spans = sp;
            t->nspan_cap = cap;
        }
        cl_csv_fast_span *f = &t->spans[base + nf++];
        if (s < end && *s == t->quote) {
            if (!(s = quoted_field(t, f, p, s, end)))
                return 0;
        } else {
            const char *b = s;
            while (s < end && cls[(unsigned char)*s] == K_PLAIN)
                s++;
            if (s >= end || cls[(unsigned char)*s] == K_ODD)
                return 0;
            f->quoted = 0;
            f->unq = 0;
            f->off = (uint32_t)(b - p);
            f->len = (uint32_t)(s - b);
        }
        if (*s == '\n') {
            size_t n = (size_t)(s + 1 - p);
            if ((int64_t)n > t->max_record)
                return 0;
            *nfp = nf;
            return n;
        }
        s++; /* the separator */
    }
}

size_t cl_csv_fast_scan(cl_csv_fast *t, const char *p, const char *end, size_t base)
{
    size_t nf = 0, unq0 = t->unq_len;
    if (p >= end || *p == '\n' || (end - p) > (ptrdiff_t)UINT32_MAX)
        return 0;
    size_t n = fields(t, p, end, base, &nf);
    if (!n)
        t->unq_len = unq0; /* what a failed scan unescaped is dropped */
    else
        t->nspan = (int)nf;
    return n;
}

/* ---- parallel scan of a block ---------------------------------------------------------- */

static void *scan_part(void *arg)
{
    cl_csv_fast_part *s = arg;
    cl_csv_fast_reset(&s->tok);
    s->nrec = 0;
    const char *p = s->from;
    while (p < s->to) {
        if (s->nrec == s->cap) {
            int cap = s->cap ? s->cap * 2 : 1024;
            const char **rec = cl_alloc_realloc(s->rec, (size_t)cap * sizeof *rec);
            if (!rec)
                break; /* the caller's sequential path takes over (and reports a failure) */
            s->rec = rec;
            s->cap = cap;
        }
        size_t n = cl_csv_fast_scan(&s->tok, p, s->end, (size_t)s->nrec * (size_t)s->ncol);
        if (!n || s->tok.nspan != s->ncol)
            break;
        s->rec[s->nrec++] = p;
        p += n;
    }
    s->stop = p;
    return NULL;
}

void cl_csv_fast_part_free(cl_csv_fast_part *s)
{
    cl_csv_fast_free(&s->tok);
    cl_alloc_free(s->rec);
    s->rec = NULL;
    s->cap = s->nrec = 0;
}

static void cut(cl_csv_fast_part *parts, int np, const char *p, const char *end, int ncol)
{
    ptrdiff_t len = end - p;
    for (int k = 0; k < np; k++) {
        cl_csv_fast_part *s = &parts[k];
        const char *at = p + len / np * k;
        if (k > 0) {
            const char *nl = memchr(at, '\n', (size_t)(end - at));
            at = nl ? nl + 1 : end;
            parts[k - 1].to = at;
        }
        s->from = at;
        s->end = end;
        s->ncol = ncol;
    }
    parts[np - 1].to = end;
}

/* Plain threads per block, not an OpenMP team, as for csvio.c's column commit: on a shared
 * machine OpenMP's spinning made two threads slower than one. */
void cl_csv_fast_scan_parts(cl_csv_fast_part *parts, int np, const char *p, const char *end,
                            int ncol)
{
    pthread_t id[64];
    int started[64] = {0};
    if (np > 64)
        np = 64;
    cut(parts, np, p, end, ncol);
    for (int k = 1; k < np; k++)
        started[k] = pthread_create(&id[k], NULL, scan_part, &parts[k]) == 0;
    scan_part(&parts[0]);
    for (int k = 1; k < np; k++) {
        if (started[k])
            pthread_join(id[k], NULL);
        else
            scan_part(&parts[k]);
    }
}
