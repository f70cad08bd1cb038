/* error.h - status codes and the thread-local error message.
 *
 * Every core function that can fail returns an int status: CL_OK (0) or a negative CL_E*
 * code, and sets a message read by cl_error_last(). The core never exits, never longjmps and
 * never prints; hosts decide what to do with a failure (XGBGetLastError, LGBM_GetLastError).
 */
#ifndef CL_ERROR_H
#define CL_ERROR_H

#include <stddef.h>

enum {
    CL_OK = 0,
    CL_ENOMEM = -1,   /* allocation failed (or the test hook failed it) */
    CL_EINVAL = -2,   /* bad argument: wrong shape, out-of-range parameter, NaN label ... */
    CL_EIO = -3,      /* file could not be opened, read or written */
    CL_EFORMAT = -4,  /* malformed input file: CSV syntax, corrupted model file ... */
    CL_ERANGE = -5,   /* index or size out of range, arithmetic overflow of a size */
    CL_EINTR = -6,    /* interrupted by the abort callback or Ctrl-C */
    CL_ESTATE = -7,   /* object in the wrong state: predict before fit, freed object ... */
    CL_ENOTSUP = -8   /* valid request the code does not support (newer file version ...) */
    /* values are only ever appended */
};

/* The message of the last failure on this thread; "" when none. Valid until the next call
 * that sets an error on this thread. */
const char *cl_error_last(void);

/* Sets the message (printf-style) and returns `code`, so failures read `return cl_error(...)`. */
int cl_error(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* Prefixes the current message with "<prefix>: " (adds context while unwinding) and returns
 * `code`. */
int cl_error_wrap(int code, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

void cl_error_clear(void);

/* Short name of a status code ("out of memory", "invalid argument" ...). */
const char *cl_error_strstatus(int code);

/* Programmer bugs only; bad user input is a status plus a message. */
#define CL_ASSERT(c) ((c) ? (void)0 : cl_error_assert_fail(#c, __FILE__, __LINE__))
void cl_error_assert_fail(const char *expr, const char *file, int line);

#endif
