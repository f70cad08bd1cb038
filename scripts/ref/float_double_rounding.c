/* float_double_rounding.c - for every float halfway point m (a 25-bit odd significand) with
 * binary exponent in [lo, hi): takes the nearest decimal of 9 significant digits d (which is also
 * the nearest of 8 or fewer, when one is that close) and reports d != m whose double is m, where
 * (float)strtod(d) can differ from strtof(d): the double rounding that xgb_import.c argues away
 * for XGBoost's shortest decimals. Run 2026-12-03, x86-64 glibc: exponents [-40, 40), 671088640
 * halfway points, one decimal differs: 9.67498269e-11, which has 9 digits (so it is never the
 * shortest decimal of a float; see xgb_import.c); none of 8 or fewer digits.
 *   cc -O2 -o /tmp/fdr scripts/ref/float_double_rounding.c -lm && /tmp/fdr -40 40   (~4 min) */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s LO HI   (binary exponents, e.g. -40 40)\n", argv[0]);
        return 2;
    }
    int lo = atoi(argv[1]), hi = atoi(argv[2]);
    long bad = 0, n = 0, diff = 0;
    char buf[64];
    for (int e = lo; e < hi; e++) {
        for (long M = 0; M < (1L << 23); M++) {
            double m = ldexp((double)((1L << 24) + 2 * M + 1), e - 24); /* 25-bit odd: a midpoint */
            snprintf(buf, sizeof buf, "%.8e", m);
            double x = strtod(buf, NULL);
            n++;
            if (x == m) { /* d is m itself (harmless: both round the same tie) or double-rounds */
                if (strtof(buf, NULL) != (float)x) {
                    bad++;
                    if (bad < 10)
                        printf("double-rounding: %s (m = %.60e)\n", buf, m);
                }
                diff++;
            }
        }
    }
    printf("exponents [%d,%d): %ld midpoints, %ld 9-digit decimals have a midpoint as their double (most are the midpoint), %ld differ\n", lo, hi, n, diff, bad);
    return 0;
}
