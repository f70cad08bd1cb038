/* strbuf.c - growable printf text buffer (see strbuf.h). */
#include "base/strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

void cl_strbuf_printf(cl_strbuf *b, const char *fmt, ...)
{
    if (b->err)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
        va_end(ap);
        if (k < 0) {
            b->err = CL_EINVAL;
            return;
        }
        if (b->s && b->len + (size_t)k < b->cap) {
            b->len += (size_t)k;
            return;
        }
        /* doubling keeps appends amortised O(1); + k fits this piece in one step */
        size_t cap = (b->cap ? b->cap * 2 : 256) + (size_t)k;
        char *ns = cl_alloc_realloc(b->s, cap);
        if (!ns) {
            b->err = CL_ENOMEM;
            return;
        }
        b->s = ns;
        b->cap = cap;
    }
}

char *cl_strbuf_take(cl_strbuf *b)
{
    if (!b->err && !b->s)
        cl_strbuf_printf(b, "%s", "");
    char *s = b->err ? NULL : b->s;
    if (!s)
        cl_alloc_free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    return s;
}

void cl_strbuf_free(cl_strbuf *b)
{
    cl_alloc_free(b->s);
    b->s = NULL;
    b->len = b->cap = 0;
    b->err = 0;
}
