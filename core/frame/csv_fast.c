/* csv_fast.c - the fast CSV tokenizer (see csv_fast.h). */
#include "frame/csv_fast.h"
#include "base/alloc.h"

#include <pthread.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86_PATHS 1
#else
#define HAVE_X86_PATHS 0
#endif

enum { K_PLAIN, K_SEP, K_LF, K_ODD }; /* K_ODD: quote, CR, NUL */

/* ---- finding the bytes that end an unquoted field ---------------------------------------- */

/* The five special bytes of a fast-path record are the separator, LF, the quote, CR and NUL;
 * everything else is field text. Bit i of a 64-byte window's mask is set when byte i is one of
 * them. The SIMD paths compute exactly that mask (byte compares, no arithmetic), so every
 * path finds the same field ends; test_csv_fast forces each path the CPU has and compares
 * frames. The scalar path is the byte-class loop. */

#if HAVE_X86_PATHS
/* SSE2 is part of x86-64: no dispatch needed for this one. */
static uint64_t mask_sse2(const char *p, char sep, char quote)
{
    const __m128i vs = _mm_set1_epi8(sep), vq = _mm_set1_epi8(quote);
    const __m128i vn = _mm_set1_epi8('\n'), vr = _mm_set1_epi8('\r'), vz = _mm_setzero_si128();
    uint64_t m = 0;
    for (int k = 0; k < 4; k++) {
        __m128i x = _mm_loadu_si128((const __m128i *)(const void *)(p + 16 * k));
        __m128i e = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vs), _mm_cmpeq_epi8(x, vq)),
                                 _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, vn),
                                                           _mm_cmpeq_epi8(x, vr)),
                                              _mm_cmpeq_epi8(x, vz)));
        m |= (uint64_t)(uint32_t)_mm_movemask_epi8(e) << (16 * k);
    }
    return m;
}

__attribute__((target("avx2"))) static uint64_t mask_avx2(const char *p, char sep, char quote)
{
    const __m256i vs = _mm256_set1_epi8(sep), vq = _mm256_set1_epi8(quote);
    const __m256i vn = _mm256_set1_epi8('\n'), vr = _mm256_set1_epi8('\r');
    const __m256i vz = _mm256_setzero_si256();
    uint64_t m = 0;
    for (int k = 0; k < 2; k++) {
        __m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * k));
        __m256i e = _mm256_or_si256(
            _mm256_or_si256(_mm256_cmpeq_epi8(x, vs), _mm256_cmpeq_epi8(x, vq)),
            _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi8(x, vn), _mm256_cmpeq_epi8(x, vr)),
                            _mm256_cmpeq_epi8(x, vz)));
        m |= (uint64_t)(uint32_t)_mm256_movemask_epi8(e) << (32 * k);
    }
    return m;
}

__attribute__((target("avx512f,avx512bw"))) static uint64_t mask_avx512(const char *p, char sep,
                                                                        char quote)
{
    __m512i x = _mm512_loadu_si512((const void *)p);
    return _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(sep)) |
           _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8(quote)) |
           _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\n')) |
           _mm512_cmpeq_epi8_mask(x, _mm512_set1_epi8('\r')) |
           _mm512_testn_epi8_mask(x, x); /* NUL: no bit set */
}
#endif

static int isa_forced = -1; /* cl_csv_fast_force_isa; -1: the best the CPU has */

static int isa_best(void)
{
#if HAVE_X86_PATHS
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"))
        return CL_CSV_ISA_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return CL_CSV_ISA_AVX2;
    return CL_CSV_ISA_SSE2;
#else
    return CL_CSV_ISA_SCALAR;
#endif
}

int cl_csv_fast_force_isa(int isa)
{
    if (isa == -1 || (isa >= CL_CSV_ISA_SCALAR && isa <= isa_best())) {
        isa_forced = isa;
        return 1;
    }
    return 0;
}

int cl_csv_fast_isa(void)
{
    return isa_forced >= 0 ? isa_forced : isa_best();
}

static void pick_mask(cl_csv_fast *t)
{
    t->mask64 = NULL;
#if HAVE_X86_PATHS
    switch (cl_csv_fast_isa()) {
    case CL_CSV_ISA_AVX512: t->mask64 = mask_avx512; break;
    case CL_CSV_ISA_AVX2: t->mask64 = mask_avx2; break;
    case CL_CSV_ISA_SSE2: t->mask64 = mask_sse2; break;
    default: break;
    }
#endif
}

/* A window of 64 bytes and their special-byte mask, within one record's scan. */
typedef struct win {
    uintptr_t base;
    uint64_t mask;
} win;

/* The first byte at or after s (before end) that is not field text, or end. */
static inline const char *next_special(const cl_csv_fast *t, win *w, const char *s,
                                       const char *end)
{
    if (t->mask64) {
        for (;;) {
            uintptr_t off = (uintptr_t)s - w->base;
            if (off < 64) {
                uint64_t m = w->mask >> off;
                if (m)
                    return s + __builtin_ctzll(m);
                s += 64 - off;
            }
            if (end - s < 64)
                break; /* the tail: no 64-byte load past the buffer */
            w->base = (uintptr_t)s;
            w->mask = t->mask64(s, t->sep, t->quote);
        }
    }
    const unsigned char *cls = t->cls;
    while (s < end && cls[(unsigned char)*s] == K_PLAIN)
        s++;
    return s;
}

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
    pick_mask(t);
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
 * NULL when the field is not a fast-path one. Its special bytes come from the same scan as
 * the unquoted fields': a separator is text here, a LF, CR or NUL before the closing quote
 * refuses the field, a doubled quote is an escape. */
static const char *quoted_field(cl_csv_fast *t, win *w, cl_csv_fast_span *f, const char *p,
                                const char *s, const char *end)
{
    const char q = t->quote;
    const char *b = ++s;
    int esc = 0;
    for (;;) {
        const char *z = next_special(t, w, s, end);
        if (z + 1 >= end)
            return NULL; /* no closing quote, or nothing after it, in the buffer */
        if (*z == t->sep) {
            s = z + 1;
            continue;
        }
        if (*z != q)
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
    win w = {(uintptr_t)p - 64, 0}; /* empty: the first call loads */
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
            if (!(s = quoted_field(t, &w, f, p, s, end)))
                return 0;
        } else {
            const char *b = s;
            s = next_special(t, &w, s, end);
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

void cl_csv_fast_scan_part(cl_csv_fast_part *s)
{
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
}

static void *scan_part(void *arg)
{
    cl_csv_fast_scan_part(arg);
    return NULL;
}

void cl_csv_fast_part_free(cl_csv_fast_part *s)
{
    cl_csv_fast_free(&s->tok);
    cl_alloc_free(s->rec);
    s->rec = NULL;
    s->cap = s->nrec = 0;
}

void cl_csv_fast_cut(cl_csv_fast_part *parts, int np, const char *p, const char *end, int ncol)
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
    cl_csv_fast_cut(parts, np, p, end, ncol);
    for (int k = 1; k < np; k++)
        started[k] = pthread_create(&id[k], NULL, scan_part, &parts[k]) == 0;
    cl_csv_fast_scan_part(&parts[0]);
    for (int k = 1; k < np; k++) {
        if (started[k])
            pthread_join(id[k], NULL);
        else
            cl_csv_fast_scan_part(&parts[k]);
    }
}
