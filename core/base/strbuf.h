/* strbuf.h - a growable text buffer for reports and exports written with printf formats
 * (decision-tree rules, XGBoost JSON). Errors are sticky: after a failed append the buffer
 * ignores further appends and err holds CL_ENOMEM or CL_EINVAL, so a writer checks once. */
#ifndef CL_STRBUF_H
#define CL_STRBUF_H

#include <stddef.h>

typedef struct cl_strbuf {
    char *s;     /* NUL-terminated once anything was appended; NULL before */
    size_t len;  /* bytes used, without the NUL */
    size_t cap;  /* bytes allocated */
    int err;     /* first error (CL_OK while none) */
} cl_strbuf;

#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
void cl_strbuf_printf(cl_strbuf *b, const char *fmt, ...);

/* Hands over the text (the caller cl_alloc_free()s it; "" when nothing was appended) or NULL with
 * b->err set; the buffer is empty afterwards either way. */
char *cl_strbuf_take(cl_strbuf *b);

void cl_strbuf_free(cl_strbuf *b);

#endif
