/* error.c - thread-local error message. */
#include "base/error.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MSG_CAP 1024

static _Thread_local char msg[MSG_CAP];

const char *cl_error_last(void) { return msg; }

void cl_error_clear(void) { msg[0] = '\0'; }

int cl_error(int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return code;
}

int cl_error_wrap(int code, const char *fmt, ...)
{
    char old[MSG_CAP];
    memcpy(old, msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    size_t used = n < 0 ? 0 : (size_t)n < sizeof msg ? (size_t)n : sizeof msg - 1;
    size_t room = sizeof msg - used;
    if (room > 2) {
        msg[used] = ':';
        msg[used + 1] = ' ';
        size_t len = strlen(old);
        if (len > room - 3)
            len = room - 3;
        memcpy(msg + used + 2, old, len);
        msg[used + 2 + len] = '\0';
    }
    return code;
}

const char *cl_error_strstatus(int code)
{
    switch (code) {
    case CL_OK: return "ok";
    case CL_ENOMEM: return "out of memory";
    case CL_EINVAL: return "invalid argument";
    case CL_EIO: return "input/output error";
    case CL_EFORMAT: return "malformed input";
    case CL_ERANGE: return "out of range";
    case CL_EINTR: return "interrupted";
    case CL_ESTATE: return "invalid state";
    case CL_ENOTSUP: return "not supported";
    default: return "unknown error";
    }
}

void cl_error_assert_fail(const char *expr, const char *file, int line)
{
    /* A broken invariant is a bug in churnlab, not bad input: stop loudly. */
    fprintf(stderr, "churnlab: internal error: assertion '%s' failed at %s:%d\n", expr, file, line);
    abort();
}
