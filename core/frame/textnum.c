/* textnum.c - number and date text: parsing and shortest round-trip formatting. See textnum.h. */
#include "frame/textnum.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* 2^e as a double, for e in the normal range (-1022 .. 1023): its bits, not a call to ldexp
 * (scalbn was 1.6% of a CSV read, one call per 17-digit field). */
static inline double pow2(int e)
{
    uint64_t b = (uint64_t)(e + 1023) << 52;
    double d;
    memcpy(&d, &b, sizeof d);
    return d;
}

/* Rounds q * 2^e2 to the nearest double, ties to even; `sticky`: the true value is a little
 * more than q (non-zero bits below q's last one). Results stay in the normal range here
 * (|value| within 10^-46 .. 10^47), so scaling by a power of two is exact: the integer
 * (<= 2^53, exact as a double) times 2^e, with e and the result normal. */
static double round_u128(unsigned __int128 q, int sticky, int e2)
{
    uint64_t hi = (uint64_t)(q >> 64), lo = (uint64_t)q;
    int n = hi ? 128 - __builtin_clzll(hi) : lo ? 64 - __builtin_clzll(lo) : 0;
    if (n <= 53)
        return (double)(uint64_t)q * pow2(e2); /* sticky is never set with so few bits */
    int shift = n - 53;
    uint64_t m = (uint64_t)(q >> shift);
    unsigned __int128 rest = q & ((((unsigned __int128)1) << shift) - 1);
    unsigned __int128 half = ((unsigned __int128)1) << (shift - 1);
    if (rest > half || (rest == half && (sticky || (m & 1))))
        m++;
    if (m == (uint64_t)1 << 53) {
        m >>= 1;
        shift++;
    }
    return (double)m * pow2(e2 + shift);
}

/* q = (hi * 2^64) / d exactly; returns whether the remainder is non-zero. Long division in
 * two 128-by-64-bit steps, each one x86-64 divq (the first one's remainder is below d, so the
 * second quotient fits 64 bits): the same quotient and remainder as the __int128 division,
 * which the compiler turns into a call to the general __udivmodti4 (2% of a CSV read). */
static int div_shifted(uint64_t hi, uint64_t d, unsigned __int128 *q)
{
#if defined(__x86_64__) && defined(__GNUC__)
    uint64_t qh = hi / d, r = hi % d, ql, rem;
    __asm__("divq %4" : "=a"(ql), "=d"(rem) : "a"((uint64_t)0), "d"(r), "rm"(d) : "cc");
    *q = (unsigned __int128)qh << 64 | ql;
    return rem != 0;
#else
    unsigned __int128 num = (unsigned __int128)hi << 64;
    *q = num / d;
    return num % d != 0;
#endif
}

/* w * 10^e10 correctly rounded, for w < 2^64 and |e10| <= 27 (5^27 < 2^63): beyond
 * Clinger's path, this covers the 17-to-19-digit decimals that printing doubles with %.17g
 * gives, which otherwise all went to strtod. e10 >= 0: w * 5^e10 is an exact 128-bit product.
 * e10 < 0: w, normalised to its top bit, times 2^64, divided by 5^-e10 gives a quotient of
 * >= 65 bits and a remainder (the sticky bit): enough to round once, correctly. */
static double exact_scaled(uint64_t w, int e10)
{
    static const uint64_t POW5[28] = {
        1ULL, 5ULL, 25ULL, 125ULL, 625ULL, 3125ULL, 15625ULL, 78125ULL, 390625ULL,
        1953125ULL, 9765625ULL, 48828125ULL, 244140625ULL, 1220703125ULL, 6103515625ULL,
        30517578125ULL, 152587890625ULL, 762939453125ULL, 3814697265625ULL,
        19073486328125ULL, 95367431640625ULL, 476837158203125ULL, 2384185791015625ULL,
        11920928955078125ULL, 59604644775390625ULL, 298023223876953125ULL,
        1490116119384765625ULL, 7450580596923828125ULL};
    if (e10 >= 0)
        return round_u128((unsigned __int128)w * POW5[e10], 0, e10);
    int lz = __builtin_clzll(w);
    uint64_t d = POW5[-e10];
    unsigned __int128 q;
    int sticky = div_shifted(w << lz, d, &q);
    return round_u128(q, sticky, e10 - 64 - lz);
}

/* 1 if p[0..8) are eight ASCII digits; *x gets their value. Three multiplies instead of
 * eight dependent multiply-adds (the 17-digit %.17g fields of a CSV spend most of their parse
 * time in the digit loop): pairs of digits, then quads, then the eight. */
static int eight_digits(const char *p, uint64_t *x)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
    (void)p;
    (void)x;
    return 0; /* the arithmetic below wants the first digit in the low byte */
#endif
    uint64_t v;
    memcpy(&v, p, sizeof v);
    /* every byte 0x30..0x39: its high nibble is 3, and adding 6 leaves it at 3 */
    if (((v & 0xF0F0F0F0F0F0F0F0ULL) | (((v + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL) >> 4)) !=
        0x3333333333333333ULL)
        return 0;
    v = (v & 0x0F0F0F0F0F0F0F0FULL) * 2561 >> 8;             /* byte pairs: 10 * a + b */
    v = (v & 0x00FF00FF00FF00FFULL) * 6553601 >> 16;         /* quads: 100 * ab + cd */
    *x = (v & 0x0000FFFF0000FFFFULL) * 42949672960001ULL >> 32; /* 10^4 * abcd + efgh */
    return 1;
}

/* Takes digits at *pp into w (at most 19 significant ones, as the byte loop below does):
 * eight at a time while all eight are significant and fit, so the result is the byte loop's.
 * Returns how many digits were taken. */
static int digit_run(const char **pp, const char *end, uint64_t *w, int *sig)
{
    const char *p = *pp;
    uint64_t x;
    while (*sig + 8 <= 19 && end - p >= 8 && (*w != 0 || (*p >= '1' && *p <= '9')) &&
           eight_digits(p, &x)) {
        *w = *w * 100000000u + x;
        *sig += 8;
        p += 8;
    }
    int n = (int)(p - *pp);
    *pp = p;
    return n;
}

/* 1 if [p, end) is `word` (lower case) in any case; no locale involved. */
static int word_is(const char *p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - p) != n)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (c != word[i])
            return 0;
    }
    return 1;
}

/* Digits at *pp into *w (wrapping past 19 digits: the caller then refuses); returns how
 * many. Eight at a time, then one by one. */
static inline int plain_digits(const char **pp, const char *end, uint64_t *w)
{
    const char *p = *pp, *p0 = p;
    uint64_t x, acc = *w;
    while (end - p >= 8 && eight_digits(p, &x)) {
        acc = acc * 100000000u + x;
        p += 8;
    }
    while (p < end && (unsigned char)(*p - '0') <= 9)
        acc = acc * 10 + (uint64_t)(*p++ - '0');
    *w = acc;
    *pp = p;
    return (int)(p - p0);
}

/* The common shape, [-]digits[.digits][e[+-]digits] with at most 19 digits in all and no
 * spaces, without the general parser's bookkeeping (it was a fifth of a CSV read). Then no
 * digit is dropped, so w, the fraction length and the exponent are the general parser's and
 * so is the value: the same Clinger or exact 128-bit step on the same operands. 1: *v is
 * the value; 0: not this shape or not those steps (the general parser decides). */
static inline int parse_plain(const char *s, size_t len, double *v)
{
    const char *p = s, *end = s + len;
    int neg = p < end && *p == '-';
    p += neg;
    uint64_t w = 0;
    int nd = plain_digits(&p, end, &w), frac = 0;
    if (p < end && *p == '.') {
        p++;
        frac = plain_digits(&p, end, &w);
        nd += frac;
    }
    if (nd == 0 || nd > 19)
        return 0;
    int e10 = -frac;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, e = 0;
        if (p < end && (*p == '-' || *p == '+'))
            eneg = *p++ == '-';
        const char *e0 = p;
        while (p < end && p - e0 < 4 && (unsigned char)(*p - '0') <= 9)
            e = e * 10 + (*p++ - '0');
        if (p == e0 || p - e0 > 3)
            return 0;
        e10 += eneg ? -e : e;
    }
    if (p != end)
        return 0;
    double d;
    if (w <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22)
        d = e10 >= 0 ? (double)w * POW10[e10] : (double)w / POW10[-e10];
    else if (w != 0 && e10 >= -27 && e10 <= 27)
        d = exact_scaled(w, e10);
    else
        return 0;
    *v = neg ? -d : d;
    return 1;
}

int cl_textnum_parse_num(const char *s, size_t len, double *v)
{
    if (parse_plain(s, len, v))
        return 1;
    const char *p = s, *end = s + len;
    while (p < end && cl_textnum_is_space(*p))
        p++;
    while (end > p && cl_textnum_is_space(end[-1]))
        end--;
    const char *start = p;
    int neg = 0;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    if (p < end && (*p == 'i' || *p == 'I')) {
        /* inf / infinity in any case: what write_csv, C, Python and R print for infinities */
        if (!word_is(p, end, "inf") && !word_is(p, end, "infinity"))
            return 0;
        *v = neg ? -INFINITY : INFINITY;
        return 1;
    }
    uint64_t w = 0;
    int digits = 0, sig = 0, dropped = 0, frac = 0, lost = 0;
    digits += digit_run(&p, end, &w, &sig);
    for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
        if (sig < 19) {
            w = w * 10 + (uint64_t)(*p - '0');
            sig += w != 0;
        } else {
            dropped++;
            lost |= *p != '0';
        }
    }
    if (p < end && *p == '.') {
        p++;
        int run = digit_run(&p, end, &w, &sig);
        digits += run;
        frac += run;
        for (; p < end && *p >= '0' && *p <= '9'; p++, digits++) {
            if (sig < 19) {
                w = w * 10 + (uint64_t)(*p - '0');
                sig += w != 0;
                frac++;
            } else {
                lost |= *p != '0';
            }
        }
    }
    if (digits == 0)
        return 0;
    long e = 0;
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        int eneg = 0, ed = 0;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        for (; p < end && *p >= '0' && *p <= '9'; p++, ed++)
            if (e < 100000)
                e = e * 10 + (*p - '0');
        if (ed == 0)
            return 0;
        if (eneg)
            e = -e;
    }
    if (p != end)
        return 0;
    long e10 = e + dropped - frac;
    if (w <= ((uint64_t)1 << 53) && e10 >= -22 && e10 <= 22) {
        /* Clinger's fast path: both operands exact, one rounding. */
        double d = (double)w;
        d = e10 >= 0 ? d * POW10[e10] : d / POW10[-e10];
        *v = neg ? -d : d;
        return 1;
    }
    if (!lost && w != 0 && e10 >= -27 && e10 <= 27) {
        /* every digit is in w (< 10^19 < 2^64) and 5^|e10| < 2^63: exact integer work */
        double d = exact_scaled(w, (int)e10);
        *v = neg ? -d : d;
        return 1;
    }
    /* Exact but rare: strtod on a NUL-terminated copy (the caller holds the C locale). */
    char tmp[128];
    size_t n = (size_t)(end - start);
    char *buf = n < sizeof tmp ? tmp : malloc(n + 1);
    if (!buf)
        return 0;
    memcpy(buf, start, n);
    buf[n] = '\0';
    *v = strtod(buf, NULL);
    if (buf != tmp)
        free(buf);
    return 1;
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; Howard Hinnant's days_from_civil). */
static long days_from_civil(long y, int m, int d)
{
    y -= m <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void civil_from_days(long z, long *y, int *m, int *d)
{
    z += 719468;
    long era = (z >= 0 ? z : z - 146096) / 146097;
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* Byte i of x (the i-th byte of the text a word was loaded from). */
#define BYTE_AT(x, i) ((int)((x) >> (8 * (i)) & 0xFF))

/* The 8 bytes at p against a pattern of digits and fixed separators: x = the bytes XOR the
 * pattern (the digits' places hold '0', the separators themselves), so a digit becomes its
 * value 0..9 and a matching separator 0. 1 when every digit place holds 0..9 (a zero high
 * nibble, and a low nibble that does not pass 9 when 6 is added) and every separator place
 * (sep_mask) holds 0. One test per date part instead of a call and a loop per number: the
 * date columns' parse was a tenth of a CSV read's instructions. */
static inline int pattern8(const char *p, uint64_t pattern, uint64_t sep_mask, uint64_t *x)
{
    uint64_t v;
    memcpy(&v, p, sizeof v);
    v ^= pattern;
    uint64_t bad = (v & 0xF0F0F0F0F0F0F0F0ULL) |
                   (((v & 0x0F0F0F0F0F0F0F0FULL) + 0x0606060606060606ULL) & 0xF0F0F0F0F0F0F0F0ULL);
    *x = v;
    return !bad && !(v & sep_mask);
}

static inline int digit2(const char *p, int *v)
{
    unsigned a = (unsigned char)p[0] - '0', b = (unsigned char)p[1] - '0';
    *v = (int)(a * 10 + b);
    return a <= 9 && b <= 9;
}

int cl_textnum_parse_date(const char *s, size_t len, double *days)
{
    while (len > 0 && cl_textnum_is_space(*s))
        s++, len--;
    while (len > 0 && cl_textnum_is_space(s[len - 1]))
        len--;
    int y, m, d, hh = 0, mm = 0, ss = 0;
    if (len != 10 && len != 19)
        return 0;
    uint64_t x;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    /* "dddd-dd-": bytes 4 and 7 are the '-' */
    if (!pattern8(s, 0x2D30302D30303030ULL, 0xFF0000FF00000000ULL, &x) || !digit2(s + 8, &d))
        return 0;
    y = BYTE_AT(x, 0) * 1000 + BYTE_AT(x, 1) * 100 + BYTE_AT(x, 2) * 10 + BYTE_AT(x, 3);
    m = BYTE_AT(x, 5) * 10 + BYTE_AT(x, 6);
#else
    int y2;
    if (!digit2(s, &y) || !digit2(s + 2, &y2) || s[4] != '-' || !digit2(s + 5, &m) ||
        s[7] != '-' || !digit2(s + 8, &d))
        return 0;
    y = y * 100 + y2;
    (void)x;
#endif
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
        return 0;
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (m == 2 && d == 29 && !leap)
        return 0;
    if (len == 19) {
        if (s[10] != ' ' && s[10] != 'T')
            return 0;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
        /* "dd:dd:dd": bytes 2 and 5 are the ':' */
        if (!pattern8(s + 11, 0x30303A30303A3030ULL, 0x0000FF0000FF0000ULL, &x))
            return 0;
        hh = BYTE_AT(x, 0) * 10 + BYTE_AT(x, 1);
        mm = BYTE_AT(x, 3) * 10 + BYTE_AT(x, 4);
        ss = BYTE_AT(x, 6) * 10 + BYTE_AT(x, 7);
#else
        if (!digit2(s + 11, &hh) || s[13] != ':' || !digit2(s + 14, &mm) || s[16] != ':' ||
            !digit2(s + 17, &ss))
            return 0;
#endif
        if (hh > 23 || mm > 59 || ss > 60)
            return 0;
    }
    /* a date alone skips the division (+ 0 / 86400.0 is + 0.0, which changes no integer) */
    *days = (double)days_from_civil(y, m, d);
    if (len == 19)
        *days += (hh * 3600 + mm * 60 + ss) / 86400.0;
    return 1;
}

int cl_textnum_format_date(double days, char *buf, size_t cap)
{
    if (isnan(days) || fabs(days) > 1e8)
        return snprintf(buf, cap, "%s", isnan(days) ? "" : "?");
    double fl = floor(days);
    long secs = lround((days - fl) * 86400.0);
    long z = (long)fl;
    if (secs >= 86400) {
        z++;
        secs -= 86400;
    }
    long y;
    int m, d;
    civil_from_days(z, &y, &m, &d);
    if (secs == 0)
        return snprintf(buf, cap, "%04ld-%02d-%02d", y, m, d);
    return snprintf(buf, cap, "%04ld-%02d-%02d %02ld:%02ld:%02ld", y, m, d, secs / 3600,
                    secs / 60 % 60, secs % 60);
}

int cl_textnum_format_num(double v, char *buf, size_t cap)
{
    if (isnan(v))
        return snprintf(buf, cap, "%s", "");
    if (isinf(v))
        return snprintf(buf, cap, "%s", v > 0 ? "inf" : "-inf");
    int n = 0;
    for (int prec = 15; prec <= 17; prec++) {
        n = snprintf(buf, cap, "%.*g", prec, v);
        if (prec == 17 || strtod(buf, NULL) == v)
            break;
    }
    return n;
}
