/* test_textnum.c - number and date text (core/frame/textnum.c): parse_num against glibc's
 * strtod (the oracle: correctly rounded in the C locale), dates against a day-by-day walk of
 * the calendar, and format_num/format_date reading back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "churnlab.h"

static void test_parse_num_vs_strtod(void **state)
{
    (void)state;
    static const char *const ok[] = {"0", "-0", "+1", "1.", ".5", "1e5", "1E-5", "123456789012345678901234",
                                     "0.1", "3.141592653589793238", "1e308", "4.9e-324", "2.5e-310",
                                     "  7  ", "9007199254740993", "1e22", "1e23", "-1.7976931348623157e308",
                                     "inf", "-inf", "+inf", "INF", "-Infinity", "infinity", " inf "};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        double v;
        assert_true(cl_textnum_parse_num(ok[i], strlen(ok[i]), &v));
        double want = strtod(ok[i], NULL);
        if (memcmp(&v, &want, sizeof v))
            fail_msg("'%s': got %.17g, strtod %.17g", ok[i], v, want);
    }
    static const char *const bad[] = {"", " ", "-", ".", "e5", "1e", "1e+", "0x10", "nan", "NaN",
                                      "in", "infin", "infinityy", "-i", "--inf", "inf1",
                                      "1,5", "1.2.3", "--1", "12a", "1 2"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (cl_textnum_parse_num(bad[i], strlen(bad[i]), &v))
            fail_msg("'%s' parsed as a number", bad[i]);
    }
    /* random decimal strings: exactly strtod's value */
    cl_rng r;
    cl_rng_seed(&r, 7);
    char buf[64];
    for (int k = 0; k < 200000; k++) {
        int nd = 1 + (int)cl_rng_below(&r, 20), pos = 0;
        if (cl_rng_below(&r, 2))
            buf[pos++] = '-';
        int dot = (int)cl_rng_below(&r, (uint64_t)nd + 1);
        for (int d = 0; d < nd; d++) {
            if (d == dot && d > 0)
                buf[pos++] = '.';
            buf[pos++] = (char)('0' + cl_rng_below(&r, 10));
        }
        if (cl_rng_below(&r, 3) == 0)
            pos += snprintf(buf + pos, sizeof buf - (size_t)pos, "e%d", (int)cl_rng_below(&r, 80) - 40);
        buf[pos] = '\0';
        double v, want = strtod(buf, NULL);
        assert_true(cl_textnum_parse_num(buf, (size_t)pos, &v));
        if (memcmp(&v, &want, sizeof v))
            fail_msg("'%s': got %.17g, strtod %.17g", buf, v, want);
    }
}

/* Long digit runs (the parser takes eight digits at a time): up to 40 digits with runs of
 * zeros before and after the point, so every split between the 8-digit steps, the byte loop
 * and the 19-significant-digit limit is met; exactly strtod's value. */
static void test_parse_num_long_runs(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 21);
    char buf[96];
    for (int k = 0; k < 300000; k++) {
        int nd = 1 + (int)cl_rng_below(&r, 40), pos = 0;
        int dot = (int)cl_rng_below(&r, (uint64_t)nd + 1);
        int zeros = (int)cl_rng_below(&r, 12); /* leading zeros, then random digits */
        for (int d = 0; d < nd; d++) {
            if (d == dot && d > 0)
                buf[pos++] = '.';
            buf[pos++] = d < zeros ? '0' : (char)('0' + cl_rng_below(&r, 10));
        }
        buf[pos] = '\0';
        double v, want = strtod(buf, NULL);
        assert_true(cl_textnum_parse_num(buf, (size_t)pos, &v));
        if (memcmp(&v, &want, sizeof v))
            fail_msg("'%s': got %.17g, strtod %.17g", buf, v, want);
    }
}

static void test_dates_vs_walk(void **state)
{
    (void)state;
    /* walk day by day from 1900-01-01 to 2100-12-31 and compare with the parser */
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    double day = -25567; /* 1900-01-01 */
    char buf[32];
    for (int y = 1900; y <= 2100; y++)
        for (int m = 1; m <= 12; m++) {
            int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            int nd = mdays[m - 1] + (m == 2 && leap);
            for (int d = 1; d <= nd; d++, day++) {
                snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d);
                double v;
                assert_true(cl_textnum_parse_date(buf, strlen(buf), &v));
                assert_true(v == day);
                char back[32];
                cl_textnum_format_date(v, back, sizeof back);
                assert_string_equal(back, buf);
            }
        }
    static const char *const bad[] = {"2023-02-29", "2024-13-01", "2024-00-10", "2024-01-32",
                                      "2024-1-01", "2024/01/01", "2024-01-01 25:00:00",
                                      "2024-01-01X10:00:00", "20240101"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        double v;
        if (cl_textnum_parse_date(bad[i], strlen(bad[i]), &v))
            fail_msg("'%s' parsed as a date", bad[i]);
    }
}

/* The date parser's reference: each character checked on its own, the day from timegm
 * (glibc's proleptic Gregorian calendar), so no code is shared with textnum.c. */
static int ref_date(const char *s, size_t len, double *days)
{
    static const char shape[] = "dddd-dd-dd?dd:dd:dd";
    while (len > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n' || *s == '\v' || *s == '\f'))
        s++, len--;
    while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r' ||
                       s[len - 1] == '\n' || s[len - 1] == '\v' || s[len - 1] == '\f'))
        len--;
    if (len != 10 && len != 19)
        return 0;
    int v[19];
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (shape[i] == 'd') {
            if (c < '0' || c > '9')
                return 0;
            v[i] = c - '0';
        } else if (shape[i] == '?') {
            if (c != ' ' && c != 'T')
                return 0;
        } else if (c != shape[i]) {
            return 0;
        }
    }
    int y = v[0] * 1000 + v[1] * 100 + v[2] * 10 + v[3], m = v[5] * 10 + v[6], d = v[8] * 10 + v[9];
    int hh = 0, mm = 0, ss = 0;
    if (len == 19) {
        hh = v[11] * 10 + v[12];
        mm = v[14] * 10 + v[15];
        ss = v[17] * 10 + v[18];
        if (hh > 23 || mm > 59 || ss > 60)
            return 0;
    }
    struct tm tm = {0};
    tm.tm_year = y - 1900;
    tm.tm_mon = m - 1;
    tm.tm_mday = d;
    if (m < 1 || m > 12 || d < 1)
        return 0;
    time_t t = timegm(&tm);
    if (tm.tm_mday != d || tm.tm_mon != m - 1) /* normalised: the day does not exist */
        return 0;
    *days = (double)(t / 86400);
    if (len == 19)
        *days += (hh * 3600 + mm * 60 + ss) / 86400.0;
    return 1;
}

/* Random dates and date-times, most of them one character away from valid (a digit, a
 * separator, a space, an out-of-range field), against ref_date: the same accepted set and
 * the same days, bit for bit. */
static void test_dates_vs_reference(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 11);
    static const char alphabet[] = "0123456789-: T/x\t";
    char buf[40];
    long bad = 0, accepted = 0;
    for (int it = 0; it < 2000000; it++) {
        int y = (int)cl_rng_below(&r, 10000), m = (int)cl_rng_below(&r, 14),
            d = (int)cl_rng_below(&r, 33), hh = (int)cl_rng_below(&r, 26),
            mi = (int)cl_rng_below(&r, 62), ss = (int)cl_rng_below(&r, 62);
        int len = cl_rng_below(&r, 2)
                      ? snprintf(buf, sizeof buf, "%04d-%02d-%02d", y, m, d)
                      : snprintf(buf, sizeof buf, "%04d-%02d-%02d%c%02d:%02d:%02d", y, m, d,
                                 cl_rng_below(&r, 2) ? ' ' : 'T', hh, mi, ss);
        int change = (int)cl_rng_below(&r, 4);
        if (change == 1) /* one character replaced */
            buf[cl_rng_below(&r, (uint64_t)len)] = alphabet[cl_rng_below(&r, sizeof alphabet - 1)];
        else if (change == 2 && len < 30) /* a space around it, or a character too many */
            buf[len++] = cl_rng_below(&r, 2) ? ' ' : '0', buf[len] = '\0';
        else if (change == 3 && len > 1) /* one too few */
            buf[--len] = '\0';
        double a = -1, b = -1;
        int ka = cl_textnum_parse_date(buf, (size_t)len, &a), kb = ref_date(buf, (size_t)len, &b);
        accepted += kb;
        if (ka != kb || (ka && memcmp(&a, &b, sizeof a))) {
            if (bad++ < 5)
                print_message("'%s': parser %d %.17g, reference %d %.17g\n", buf, ka, a, kb, b);
        }
    }
    assert_int_equal(bad, 0);
    assert_true(accepted > 200000); /* both sides of the test are exercised */
}

/* Subnormals, the largest finite values, halfway cases at 17+ digits, long mantissas and
 * exponents far out of range: every one exactly strtod's double; format_num reads back. */
static void test_parse_num_edges(void **state)
{
    (void)state;
    static const char *const edge[] = {
        "4.9406564584124654e-324", "2.4703282292062327e-324", "2.4703282292062328e-324",
        "2.2250738585072011e-308", "2.2250738585072014e-308", "1.7976931348623157e308",
        "1.7976931348623158e308", "1.7976931348623159e308", "1e309", "-1e400", "1e-400",
        "9007199254740992", "9007199254740993", "9007199254740995", "18446744073709551615",
        "18446744073709551616", "0.30000000000000004", "123456789012345678901234567890e-30",
        "1.00000000000000011102230246251565404236316680908203125",
        "1.00000000000000011102230246251565404236316680908203124",
        "1.00000000000000011102230246251565404236316680908203126",
        "0.000000000000000000000000000000000000000000001", "7e-10", "8.5e22", "1e-22",
        "00000000000000000000000000000001.5", "1e00000000000000000000000005"};
    for (size_t i = 0; i < sizeof edge / sizeof *edge; i++) {
        double v;
        assert_true(cl_textnum_parse_num(edge[i], strlen(edge[i]), &v));
        double want = strtod(edge[i], NULL);
        if (memcmp(&v, &want, sizeof v))
            fail_msg("'%s': got %.17g, strtod %.17g", edge[i], v, want);
    }
    /* random doubles over the whole bit range, printed at 17 digits: back to the same bits */
    cl_rng r;
    cl_rng_seed(&r, 11);
    char buf[64];
    for (int k = 0; k < 200000; k++) {
        uint64_t bits = cl_rng_next(&r);
        double x;
        memcpy(&x, &bits, sizeof x);
        if (!isfinite(x))
            continue;
        int n = snprintf(buf, sizeof buf, "%.17g", x);
        double v;
        assert_true(cl_textnum_parse_num(buf, (size_t)n, &v));
        if (memcmp(&v, &x, sizeof v))
            fail_msg("'%s': got %.17g", buf, v);
        n = cl_textnum_format_num(x, buf, sizeof buf);
        assert_true(cl_textnum_parse_num(buf, (size_t)n, &v) && v == x);
    }
}

/* One input against strtod, bit for bit; returns 1 when it differs (message in buf). */
static int differs(const char *buf, size_t len)
{
    double v, want = strtod(buf, NULL);
    if (!cl_textnum_parse_num(buf, len, &v) || memcmp(&v, &want, sizeof v)) {
        fprintf(stderr, "'%s': got %.17g, strtod %.17g\n", buf, v, want);
        return 1;
    }
    return 0;
}

/* The exact 128-bit path of textnum.c (up to 19 digits, |exp10| <= 27, beyond Clinger's
 * range) against strtod on N inputs (TEXTNUM_STRTOD_N, default 10^6; scripts/bench/
 * csv_float_check.sh runs 10^8): random digit strings, %.15g..%.19g of random doubles
 * (random bit patterns and typical magnitudes), exact halfway points between two doubles
 * (H / 2^k written as H*5^k e-k, H an odd 54-bit integer, so the sticky and ties-to-even
 * branches run) and their neighbours one unit away, and integer halfway points above 2^53. */
static void test_exact_path_vs_strtod(void **state)
{
    (void)state;
    const char *env = getenv("TEXTNUM_STRTOD_N");
    long long n = env ? atoll(env) : 1000000;
    cl_rng r;
    cl_rng_seed(&r, env ? (uint64_t)n : 2121);
    char buf[96];
    long long bad = 0;
    for (long long k = 0; k < n && bad < 10; k++) {
        int pos = 0;
        uint64_t kind = cl_rng_below(&r, 5);
        if (kind == 0) {
            int nd = 1 + (int)cl_rng_below(&r, 19);
            int dot = (int)cl_rng_below(&r, (uint64_t)nd + 1);
            buf[pos++] = (char)('1' + cl_rng_below(&r, 9));
            for (int d = 1; d < nd; d++) {
                if (d == dot)
                    buf[pos++] = '.';
                buf[pos++] = (char)('0' + cl_rng_below(&r, 10));
            }
            pos += snprintf(buf + pos, sizeof buf - (size_t)pos, "e%d",
                            (int)cl_rng_below(&r, 71) - 35);
        } else if (kind == 1 || kind == 2) {
            double x;
            if (kind == 1) {
                uint64_t bits = cl_rng_next(&r) & ~(0x7ffULL << 52);
                bits |= (uint64_t)(1023 - 90 + cl_rng_below(&r, 180)) << 52; /* 1e-27..1e27 */
                memcpy(&x, &bits, sizeof x);
            } else {
                x = (double)(cl_rng_next(&r) >> 11) / 9007199254740992.0 *
                    pow(10.0, (double)cl_rng_below(&r, 12) - 4.0);
            }
            pos = snprintf(buf, sizeof buf, "%.*g", 15 + (int)cl_rng_below(&r, 5), x);
        } else if (kind == 3) {
            uint64_t h = (cl_rng_next(&r) >> 10) | (1ULL << 53) | 1; /* odd, 54 bits */
            int e = 1 + (int)cl_rng_below(&r, 3);
            uint64_t w = h;
            for (int i = 0; i < e; i++)
                w *= 5;
            w += (uint64_t)cl_rng_below(&r, 3) - 1; /* the halfway point or a unit off */
            pos = snprintf(buf, sizeof buf, "%llue-%d", (unsigned long long)w, e);
        } else {
            int j = (int)cl_rng_below(&r, 11); /* above 2^53 one ulp is 2^(j+1) */
            uint64_t h = ((cl_rng_next(&r) >> 11) | (1ULL << 52)) << 1 | 1;
            uint64_t w = (h << j) + (uint64_t)cl_rng_below(&r, 3) - 1;
            pos = snprintf(buf, sizeof buf, "%llu", (unsigned long long)w);
        }
        bad += differs(buf, (size_t)pos);
    }
    assert_int_equal(bad, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_num_vs_strtod),
        cmocka_unit_test(test_parse_num_long_runs),
        cmocka_unit_test(test_parse_num_edges),
        cmocka_unit_test(test_dates_vs_walk),
        cmocka_unit_test(test_dates_vs_reference),
        cmocka_unit_test(test_exact_path_vs_strtod),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
