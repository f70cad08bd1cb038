/* synth_buf.c - the generator's text buffers (see synth_buf.h). Numbers are formatted by hand,
 * not with printf, so the files do not depend on the C locale and are byte-identical on every
 * machine. */
#include "synth/synth_buf.h"

#include "base/alloc.h"

#include <math.h>
#include <string.h>

void cl_synth_buf_reserve(synth_buf *b, size_t extra)
{
    if (b->err || b->n + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->n + extra + 1)
        cap *= 2;
    char *p = cl_alloc_realloc(b->p, cap);
    if (!p) {
        b->err = 1;
        return;
    }
    b->p = p;
    b->cap = cap;
}

void cl_synth_buf_str(synth_buf *b, const char *s)
{
    size_t n = strlen(s);
    cl_synth_buf_reserve(b, n);
    if (b->err)
        return;
    memcpy(b->p + b->n, s, n);
    b->n += n;
}

void cl_synth_buf_ch(synth_buf *b, char c)
{
    cl_synth_buf_reserve(b, 1);
    if (b->err)
        return;
    b->p[b->n++] = c;
}

void cl_synth_buf_int(synth_buf *b, long long v)
{
    char tmp[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    cl_synth_buf_reserve(b, (size_t)n + 1);
    if (b->err)
        return;
    if (v < 0)
        b->p[b->n++] = '-';
    while (n)
        b->p[b->n++] = tmp[--n];
}

void cl_synth_buf_fixed(synth_buf *b, double v, int decimals)
{
    static const double pow10[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    if (decimals < 0)
        decimals = 0;
    if (decimals > 8)
        decimals = 8;
    if (!isfinite(v)) {
        cl_synth_buf_str(b, isnan(v) ? "nan" : v > 0 ? "inf" : "-inf");
        return;
    }
    double scaled = round(fabs(v) * pow10[decimals]);
    long long s = (long long)scaled;
    long long ip = s / (long long)pow10[decimals], fp = s % (long long)pow10[decimals];
    if (v < 0 && s != 0)
        cl_synth_buf_ch(b, '-');
    cl_synth_buf_int(b, ip);
    if (decimals) {
        char tmp[12];
        for (int k = decimals - 1; k >= 0; k--) {
            tmp[k] = (char)('0' + fp % 10);
            fp /= 10;
        }
        cl_synth_buf_ch(b, '.');
        cl_synth_buf_reserve(b, (size_t)decimals);
        if (b->err)
            return;
        memcpy(b->p + b->n, tmp, (size_t)decimals);
        b->n += (size_t)decimals;
    }
}

void cl_synth_buf_free(synth_buf *b)
{
    cl_alloc_free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
    b->err = 0;
}
