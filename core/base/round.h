/* round.h - rounding a double to the nearest int64, inline, for the fixed-point sums.
 *
 * The exact sums that make distributed fits independent of the number of ranks (dist.h) turn
 * every term into an integer count of units. llrint() does that, but it may set errno, so
 * without -fno-math-errno GCC keeps it an out-of-line libm call: in the inner loop of the ALS
 * item systems (f(f+1)/2 terms per interaction) that call was most of the time.
 *
 * cl_round_i64(x) is llrint(x) for |x| < 2^63 under the default rounding mode (to nearest,
 * ties to even): on x86-64 it is the one instruction llrint uses (cvtsd2si); elsewhere it is
 * llrint itself. Same result bit for bit, so model bytes do not change. Callers keep |x| well
 * inside the range (the unit scales leave it below 2^62).
 */
#ifndef CL_ROUND_H
#define CL_ROUND_H

#include <stdint.h>

#if defined(__x86_64__) && defined(__SSE2__)
#include <emmintrin.h>
static inline int64_t cl_round_i64(double x) { return _mm_cvtsd_si64(_mm_set_sd(x)); }
#else
#include <math.h>
static inline int64_t cl_round_i64(double x) { return llrint(x); }
#endif

#endif
