/* textnum.h - number and date text: what the CSV reader, column conversion (col), the
 * pipeline's label matching (prep) and the Lua frame helpers all accept as a number or a date,
 * and how they print one. Carved out of csvio.c so a column conversion does not depend on the
 * CSV reader.
 *
 * Owner: frame helper.
 *
 * Numbers: plain decimal syntax ([+-]digits[.digits][e[+-]digits], surrounding spaces allowed)
 * and inf/infinity in any case, signed. No hex, no "nan" (NaN is a missing marker to the
 * reader). Correctly rounded: an exact fast path (Clinger: <= 19 significant digits, value
 * <= 2^53, |exp10| <= 22), then exact 128-bit integer work for any <= 19-digit decimal with
 * |exp10| <= 27 (the %.17g case; checked against strtod on 10^6 inputs in test_textnum and
 * 10^8 by scripts/bench/csv_float_check.sh), and strtod otherwise, which the caller must
 * run in the C locale.
 * Dates: YYYY-MM-DD or YYYY-MM-DD[T ]HH:MM:SS (proleptic Gregorian), as days since 1970-01-01
 * with the time of day as a fraction.
 */
#ifndef CL_TEXTNUM_H
#define CL_TEXTNUM_H

#include <stddef.h>

/* The bytes the parsers skip around a value (C isspace in the C locale). */
static inline int cl_textnum_is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/* 1 if s[0..len) (surrounding spaces allowed) is a decimal number; *v gets its value. */
int cl_textnum_parse_num(const char *s, size_t len, double *v);
/* 1 if s[0..len) is an ISO date or date-time; *days = days since 1970-01-01. */
int cl_textnum_parse_date(const char *s, size_t len, double *days);
/* Formats days since 1970-01-01 as YYYY-MM-DD[ HH:MM:SS]; returns the length. */
int cl_textnum_format_date(double days, char *buf, size_t cap);
/* Shortest %.{15,16,17}g text that reads back to v, C locale; returns the length. */
int cl_textnum_format_num(double v, char *buf, size_t cap);

#endif
