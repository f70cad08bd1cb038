/* frame_text.c - date parts, month arithmetic, string methods. See frame_text.h. */
#include "frame/frame_text.h"

#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

/* Proleptic Gregorian calendar <-> days since 1970-01-01 (the era-based conversion of
 * Howard Hinnant's "chrono-compatible low-level date algorithms"). */
static int64_t days_from_ymd(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static void ymd_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int len[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

static int check_date(const cl_column *c, const char *what)
{
    if (c->type != CL_DATE)
        return cl_error(CL_EINVAL, "%s: needs a date column, got %s (read it with types = "
                        "{col = \"date\"} or :astype(\"date\"))", what, cl_frame_coltype_name(c->type));
    return CL_OK;
}

int cl_frame_text_col_dt_part(cl_column **out, const cl_column *c, cl_dt_part part)
{
    *out = NULL;
    int rc = check_date(c, "date part");
    if (rc)
        return rc;
    if ((unsigned)part > CL_DT_HOUR)
        return cl_error(CL_EINVAL, "date part: unknown part %d", (int)part);
    if ((rc = cl_frame_column_new_num(out, CL_NUM, c->n)))
        return rc;
    for (int64_t i = 0; i < c->n; i++) {
        double v = c->num[i];
        if (isnan(v) || fabs(v) > 1e8) {
            (*out)->num[i] = NAN;
            continue;
        }
        int64_t z = (int64_t)floor(v), y;
        int m, d;
        ymd_from_days(z, &y, &m, &d);
        double r = 0;
        switch (part) {
        case CL_DT_YEAR: r = (double)y; break;
        case CL_DT_MONTH: r = m; break;
        case CL_DT_DAY: r = d; break;
        case CL_DT_WEEKDAY: r = (double)(((z + 3) % 7 + 7) % 7); break; /* 1970-01-01: Thursday */
        case CL_DT_DAYOFYEAR: r = (double)(z - days_from_ymd(y, 1, 1) + 1); break;
        case CL_DT_QUARTER: r = (m - 1) / 3 + 1; break;
        case CL_DT_HOUR: r = floor((v - (double)z) * 24 + 1e-9); break;
        }
        (*out)->num[i] = r;
    }
    return CL_OK;
}

int cl_frame_text_col_add_months(cl_column **out, const cl_column *c, int k)
{
    *out = NULL;
    int rc = check_date(c, "add_months");
    if (rc)
        return rc;
    if ((rc = cl_frame_column_new_num(out, CL_DATE, c->n)))
        return rc;
    for (int64_t i = 0; i < c->n; i++) {
        double v = c->num[i];
        if (isnan(v) || fabs(v) > 1e8) {
            (*out)->num[i] = NAN;
            continue;
        }
        int64_t z = (int64_t)floor(v), y;
        int m, d;
        ymd_from_days(z, &y, &m, &d);
        int64_t mi = y * 12 + (m - 1) + k; /* months since year 0 */
        int64_t ny = mi >= 0 ? mi / 12 : -((-mi + 11) / 12);
        int nm = (int)(mi - ny * 12) + 1;
        int nd = d > month_days(ny, nm) ? month_days(ny, nm) : d;
        (*out)->num[i] = (double)days_from_ymd(ny, nm, nd) + (v - (double)z);
    }
    return CL_OK;
}

/* ---- strings ------------------------------------------------------------------------------ */

/* A growable byte buffer for one transformed label. */
typedef struct sbuf {
    char *p;
    size_t n, cap;
} sbuf;

static int sb_put(sbuf *b, const char *s, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap : 64;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *q = cl_alloc_realloc(b->p, nc);
        if (!q)
            return CL_ENOMEM;
        b->p = q;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return CL_OK;
}

static int is_ws(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

/* The label's transform into b; *na = 1 when the result is missing. */
static int transform(sbuf *b, const char *s, size_t n, cl_str_op op, const char *a, const char *rep,
                     int k, int *na)
{
    b->n = 0;
    *na = 0;
    int rc = sb_put(b, "", 0);
    size_t la = a ? strlen(a) : 0;
    switch (op) {
    case CL_STR_LOWER:
    case CL_STR_UPPER:
        rc = sb_put(b, s, n);
        for (size_t i = 0; rc == CL_OK && i < n; i++) {
            char ch = b->p[i];
            if (op == CL_STR_LOWER && ch >= 'A' && ch <= 'Z')
                b->p[i] = (char)(ch - 'A' + 'a');
            if (op == CL_STR_UPPER && ch >= 'a' && ch <= 'z')
                b->p[i] = (char)(ch - 'a' + 'A');
        }
        break;
    case CL_STR_STRIP: {
        size_t i = 0, j = n;
        while (i < j && is_ws(s[i]))
            i++;
        while (j > i && is_ws(s[j - 1]))
            j--;
        rc = sb_put(b, s + i, j - i);
        break;
    }
    case CL_STR_REPLACE: {
        size_t i = 0, lr = strlen(rep);
        while (rc == CL_OK && i < n) {
            if (la && i + la <= n && !memcmp(s + i, a, la)) {
                rc = sb_put(b, rep, lr);
                i += la;
            } else {
                rc = sb_put(b, s + i, 1);
                i++;
            }
        }
        break;
    }
    case CL_STR_SPLIT: {
        /* count the parts, then take part k */
        int64_t parts = 1;
        for (size_t i = 0; i + la <= n;)
            if (!memcmp(s + i, a, la)) {
                parts++;
                i += la;
            } else {
                i++;
            }
        int64_t want = k > 0 ? k - 1 : parts + k;
        if (want < 0 || want >= parts) {
            *na = 1;
            break;
        }
        size_t start = 0, i = 0;
        int64_t p = 0;
        while (i + la <= n && p < want) {
            if (!memcmp(s + i, a, la)) {
                p++;
                i += la;
                start = i;
            } else {
                i++;
            }
        }
        size_t end = start;
        while (end < n && !(end + la <= n && !memcmp(s + end, a, la)))
            end++;
        rc = sb_put(b, s + start, end - start);
        break;
    }
    default:
        break;
    }
    return rc;
}

static double measure(const char *s, size_t n, cl_str_op op, const char *a)
{
    size_t la = a ? strlen(a) : 0;
    switch (op) {
    case CL_STR_LEN: {
        double cnt = 0;
        for (size_t i = 0; i < n; i++)
            cnt += ((unsigned char)s[i] & 0xC0) != 0x80;
        return cnt;
    }
    case CL_STR_CONTAINS:
        if (!la)
            return 1;
        for (size_t i = 0; i + la <= n; i++)
            if (!memcmp(s + i, a, la))
                return 1;
        return 0;
    case CL_STR_STARTSWITH:
        return la <= n && !memcmp(s, a, la);
    case CL_STR_ENDSWITH:
        return la <= n && !memcmp(s + n - la, a, la);
    default:
        return NAN;
    }
}

int cl_frame_text_col_str(cl_column **out, const cl_column *c, cl_str_op op, const char *a, const char *b,
               int k)
{
    *out = NULL;
    static const char *const names[] = {"lower", "upper", "strip", "replace", "split",
                                        "str_len", "contains", "startswith", "endswith"};
    if ((unsigned)op > CL_STR_ENDSWITH)
        return cl_error(CL_EINVAL, "string method: unknown operation %d", (int)op);
    if (c->type != CL_CAT)
        return cl_error(CL_EINVAL, "%s: needs a cat (string) column, got %s", names[op],
                        cl_frame_coltype_name(c->type));
    int needs_a = op == CL_STR_REPLACE || op == CL_STR_SPLIT || op >= CL_STR_CONTAINS;
    if (needs_a && !a)
        return cl_error(CL_EINVAL, "%s: needs a string argument", names[op]);
    if (op == CL_STR_REPLACE && (!b || !*a))
        return cl_error(CL_EINVAL, "replace: needs a non-empty pattern and a replacement");
    if (op == CL_STR_SPLIT && (!*a || k == 0))
        return cl_error(CL_EINVAL, "split: needs a non-empty separator and a part number "
                        "(1 = first, -1 = last), got %d", k);
    const cl_dict *d = c->dict;
    int32_t *map = cl_alloc(sizeof *map * (size_t)(d->n + 1));
    double *val = cl_alloc(sizeof *val * (size_t)(d->n + 1));
    int rc = map && val ? CL_OK : CL_ENOMEM;
    int to_num = op >= CL_STR_LEN;
    cl_dict *nd = NULL;
    sbuf sb = {0};
    if (rc == CL_OK && !to_num)
        rc = cl_frame_dict_new(&nd);
    for (int32_t code = 0; rc == CL_OK && code < d->n; code++) {
        if (to_num) {
            val[code] = measure(d->labels[code], d->lens[code], op, a);
            continue;
        }
        int na;
        if ((rc = transform(&sb, d->labels[code], d->lens[code], op, a, b, k, &na)))
            break;
        map[code] = -1;
        if (!na)
            rc = cl_frame_dict_intern(nd, sb.p, sb.n, &map[code]);
    }
    if (rc == CL_OK)
        rc = to_num ? cl_frame_column_new_num(out, CL_NUM, c->n) : cl_frame_column_new_cat(out, c->n, nd);
    for (int64_t i = 0; rc == CL_OK && i < c->n; i++) {
        int32_t code = c->codes[i];
        if (to_num)
            (*out)->num[i] = code < 0 ? (op == CL_STR_LEN ? NAN : 0) : val[code];
        else
            (*out)->codes[i] = code < 0 ? -1 : map[code];
    }
    cl_frame_dict_free(nd);
    cl_alloc_free(sb.p);
    cl_alloc_free(map);
    cl_alloc_free(val);
    return rc;
}
