/* test_csv.c - the CSV reader and writer: every malformed-input case with its message, type
 * inference and its fallbacks, options, number parsing against strtod on random and edge
 * cases, dates against a day-by-day walk, writer round trips, and an allocation-failure
 * sweep (no crash, no leak, a clean status). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "churnlab.h"

/* ---- helpers ------------------------------------------------------------------------------ */

static cl_frame *read_ok(const char *text, const cl_csv_opts *o)
{
    cl_frame *f = NULL;
    int rc = cl_csvio_read_buffer(&f, text, strlen(text), "t.csv", o, NULL);
    if (rc)
        fail_msg("read failed: %s", cl_error_last());
    return f;
}

/* The read of text[0..len) fails with `code` and a message holding every fragment. */
static void read_fails_n(const char *text, size_t len, const cl_csv_opts *o, int code,
                         const char *frag1, const char *frag2)
{
    cl_frame *f = (cl_frame *)1;
    int rc = cl_csvio_read_buffer(&f, text, len, "t.csv", o, NULL);
    if (rc != code)
        fail_msg("rc %d (wanted %d): %s", rc, code, rc ? cl_error_last() : "");
    assert_null(f);
    const char *msg = cl_error_last();
    if (frag1 && !strstr(msg, frag1))
        fail_msg("message '%s' lacks '%s'", msg, frag1);
    if (frag2 && !strstr(msg, frag2))
        fail_msg("message '%s' lacks '%s'", msg, frag2);
}

/* The read fails with `code` and a message holding every fragment. */
static void read_fails(const char *text, const cl_csv_opts *o, int code, const char *frag1,
                       const char *frag2)
{
    cl_frame *f = (cl_frame *)1;
    int rc = cl_csvio_read_buffer(&f, text, strlen(text), "t.csv", o, NULL);
    assert_int_equal(rc, code);
    assert_null(f);
    const char *msg = cl_error_last();
    if (frag1 && !strstr(msg, frag1))
        fail_msg("message '%s' lacks '%s'", msg, frag1);
    if (frag2 && !strstr(msg, frag2))
        fail_msg("message '%s' lacks '%s'", msg, frag2);
}

static const cl_column *col(const cl_frame *f, const char *name)
{
    int j = cl_frame_find(f, name);
    assert_true(j >= 0);
    return f->cols[j];
}

/* ---- malformed input: every case with its message ----------------------------------------- */

static void test_ragged_rows(void **state)
{
    (void)state;
    read_fails("a,b\n1,2\n3\n", NULL, CL_EFORMAT, "t.csv: line 3", "expected 2 fields, got 1");
    read_fails("a,b\n1,2,3\n", NULL, CL_EFORMAT, "line 2", "expected 2 fields, got 3");
    /* skip mode: skipped and counted, no trace in types or dictionaries */
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.skip_bad = 1;
    cl_frame *f;
    cl_csv_info info;
    const char *t = "a,b\n1,2\nbad\n3,4,5\n5,6\n";
    assert_int_equal(cl_csvio_read_buffer(&f, t, strlen(t), "t.csv", &o, &info), CL_OK);
    assert_int_equal(f->nrow, 2);
    assert_int_equal(info.bad_lines, 2);
    assert_int_equal(info.first_bad_line, 3);
    assert_int_equal(col(f, "a")->type, CL_NUM); /* "bad" did not turn a into cat */
    assert_true(col(f, "a")->num[1] == 5);
    cl_frame_free(f);
}

static void test_unterminated_quote(void **state)
{
    (void)state;
    read_fails("a,b\n1,\"open\n2,3\n", NULL, CL_EFORMAT, "line 2", "unterminated quoted field");
    read_fails("\"a,b\n", NULL, CL_EFORMAT, "line 1", "unterminated");
}

static void test_forced_num_text(void **state)
{
    (void)state;
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    const char *names[] = {"x"};
    cl_coltype types[] = {CL_NUM};
    o.type_names = names;
    o.types = types;
    o.ntypes = 1;
    /* a forced type turns what does not parse into missing values, counted and noted */
    cl_frame *f;
    cl_csv_info info;
    const char *t = "x,y\n1,a\n2,b\nabc,c\nNA,d\ndef,e\n";
    assert_int_equal(cl_csvio_read_buffer(&f, t, strlen(t), "t.csv", &o, &info), CL_OK);
    assert_int_equal(col(f, "x")->type, CL_NUM);
    assert_true(col(f, "x")->num[1] == 2 && isnan(col(f, "x")->num[2]));
    assert_true(isnan(col(f, "x")->num[3]) && isnan(col(f, "x")->num[4]));
    assert_int_equal(info.nnotes, 1);
    assert_int_equal(info.notes[0].kind, CL_CSV_COERCED);
    assert_int_equal(info.notes[0].column, 0);
    assert_int_equal(info.notes[0].count, 2); /* NA is missing, not a coerced value */
    assert_int_equal(info.notes[0].total, 4);
    assert_int_equal(info.notes[0].line, 4);
    assert_string_equal(info.notes[0].first, "abc");
    assert_non_null(strstr(info.notes[0].message, "t.csv: column 'x': 2 of 4 values are not "
                                                  "numbers and were read as missing (first: "
                                                  "'abc' on line 4)"));
    cl_frame_free(f);
    types[0] = CL_DATE;
    t = "x\n2024-01-01\n2024-02-30\n";
    assert_int_equal(cl_csvio_read_buffer(&f, t, strlen(t), "t.csv", &o, &info), CL_OK);
    assert_int_equal(col(f, "x")->type, CL_DATE);
    assert_true(isnan(col(f, "x")->num[1]));
    assert_int_equal(info.nnotes, 1);
    assert_non_null(strstr(info.notes[0].message, "1 of 2 values are not dates"));
    assert_string_equal(info.notes[0].first, "2024-02-30");
    cl_frame_free(f);
    names[0] = "nope";
    read_fails("x\n1\n", &o, CL_EINVAL, "types: no column 'nope'", NULL);
}

static void test_bad_header(void **state)
{
    (void)state;
    read_fails("a,b,a\n1,2,3\n", NULL, CL_EFORMAT, "duplicate column name 'a'", "columns 1 and 3");
    read_fails("a,,c\n1,2,3\n", NULL, CL_EFORMAT, "line 1", "column 2 has an empty name");
    read_fails("", NULL, CL_EFORMAT, "t.csv: empty file", NULL);
    read_fails("\n\n", NULL, CL_EFORMAT, "empty file", NULL);
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    const char *names[] = {"p", "q", "r"};
    o.names = names;
    o.nnames = 3;
    read_fails("a,b\n1,2\n", &o, CL_EINVAL, "3 names given, the file has 2 columns", NULL);
    o.sep = '"';
    read_fails("a\n", &o, CL_EINVAL, "bad separator", NULL);
}

static void test_missing_file(void **state)
{
    (void)state;
    cl_frame *f;
    assert_int_equal(cl_csvio_read(&f, "/nonexistent/x.csv", NULL, NULL), CL_EIO);
    assert_non_null(strstr(cl_error_last(), "cannot open '/nonexistent/x.csv'"));
}

/* ---- valid input -------------------------------------------------------------------------- */

static void test_quotes_crlf_bom(void **state)
{
    (void)state;
    cl_frame *f = read_ok("\xEF\xBB\xBFid,s\r\n1,\"a,b\"\r\n2,\"x \"\"y\"\"\"\r\n3,\"l1\nl2\"\r\n"
                          "\r\n4,plain\r\n",
                          NULL);
    assert_string_equal(f->names[0], "id");
    assert_int_equal(f->nrow, 4);
    const cl_column *s = col(f, "s");
    assert_string_equal(cl_frame_column_label(s, 0), "a,b");
    assert_string_equal(cl_frame_column_label(s, 1), "x \"y\"");
    assert_string_equal(cl_frame_column_label(s, 2), "l1\nl2");
    assert_string_equal(cl_frame_column_label(s, 3), "plain");
    cl_frame_free(f);
}

static void test_inference(void **state)
{
    (void)state;
    cl_frame *f = read_ok("n,c,d,e,m,z\n"
                          "1,x,2024-03-01,,1.5,007\n"
                          " 2 ,y,2024-03-02 10:30:00,NA,NaN,08\n"
                          "-3e2,x,,null,  ,hello\n",
                          NULL);
    assert_int_equal(col(f, "n")->type, CL_NUM);
    assert_true(col(f, "n")->num[1] == 2 && col(f, "n")->num[2] == -300);
    assert_int_equal(col(f, "c")->type, CL_CAT);
    assert_int_equal(col(f, "c")->dict->n, 2);
    assert_int_equal(col(f, "d")->type, CL_DATE);
    assert_true(col(f, "d")->num[0] == 19783);
    assert_true(fabs(col(f, "d")->num[1] - (19784 + 10.5 / 24)) < 1e-12);
    assert_true(isnan(col(f, "d")->num[2]));
    assert_int_equal(col(f, "e")->type, CL_NUM); /* all missing */
    assert_true(isnan(col(f, "e")->num[0]) && isnan(col(f, "e")->num[2]));
    assert_int_equal(col(f, "m")->type, CL_NUM);
    assert_true(isnan(col(f, "m")->num[1]) && isnan(col(f, "m")->num[2]));
    /* num then text: cat, earlier rows keep their exact spelling (second pass) */
    const cl_column *z = col(f, "z");
    assert_int_equal(z->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(z, 0), "007");
    assert_string_equal(cl_frame_column_label(z, 1), "08");
    assert_string_equal(cl_frame_column_label(z, 2), "hello");
    cl_frame_free(f);
    /* a date column meeting text falls back too */
    f = read_ok("d\n2024-01-01\nsoon\n", NULL);
    assert_int_equal(col(f, "d")->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(col(f, "d"), 0), "2024-01-01");
    cl_frame_free(f);
    /* header only: zero rows */
    f = read_ok("a,b\n", NULL);
    assert_int_equal(f->nrow, 0);
    assert_int_equal(f->ncol, 2);
    cl_frame_free(f);
}

static void test_options(void **state)
{
    (void)state;
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.sep = ';';
    o.header = 0;
    o.skip = 2;
    o.nrows = 2;
    const char *na[] = {"?"};
    o.na = na;
    o.nna = 1;
    const char *tn[] = {"V2"};
    cl_coltype tt[] = {CL_CAT};
    o.type_names = tn;
    o.types = tt;
    o.ntypes = 1;
    cl_frame *f = read_ok("junk line\nmore, junk\n1;10\n?;20\n3;30\n", &o);
    assert_int_equal(f->nrow, 2);
    assert_string_equal(f->names[0], "V1");
    assert_true(isnan(col(f, "V1")->num[1]));
    assert_int_equal(col(f, "V2")->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(col(f, "V2"), 1), "20");
    cl_frame_free(f);
    /* NA (a default marker) is an ordinary label once na is replaced */
    o.ntypes = 0;
    o.skip = 0;
    o.nrows = -1;
    f = read_ok("x\nNA\n", &o);
    assert_int_equal(col(f, "V1")->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(col(f, "V1"), 1), "NA");
    cl_frame_free(f);
    cl_csvio_opts_default(&o);
    const char *names[] = {"u", "v"};
    o.names = names;
    o.nnames = 2;
    f = read_ok("a,b\n1,2\n", &o);
    assert_string_equal(f->names[1], "v");
    cl_frame_free(f);
}

/* ---- numbers and dates against oracles ---------------------------------------------------- */

/* ---- hostile input (issue 22) ------------------------------------------------------------- */

/* A NUL byte would cut labels short (they are C strings): refused, naming line and column. */
static void test_nul_bytes(void **state)
{
    (void)state;
    static const char body[] = "a,b\nx,y\n1,ab\0cd\n";
    read_fails_n(body, sizeof body - 1, NULL, CL_EFORMAT, "t.csv: line 3, column 'b'",
                 "a NUL byte");
    static const char head[] = "a\0b,c\n1,2\n";
    read_fails_n(head, sizeof head - 1, NULL, CL_EFORMAT, "line 1, field 1", "NUL byte");
    static const char quoted[] = "a,b\n\"x\0\",2\n";
    read_fails_n(quoted, sizeof quoted - 1, NULL, CL_EFORMAT, "line 2, column 'a'", "NUL");
    /* /dev/zero is all NUL bytes and has no line end: it ends at once, with that message */
    cl_frame *f;
    assert_int_equal(cl_csvio_read(&f, "/dev/zero", NULL, NULL), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "/dev/zero: line 1, field 1: a NUL byte"));
}

/* A record may not grow without bound (an unclosed quote, a file that is not CSV). */
static void test_max_record(void **state)
{
    (void)state;
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.max_record = 1000;
    size_t n = 5000;
    char *t = malloc(n + 64);
    int k = snprintf(t, 64, "a,b\n1,2\n3,");
    memset(t + k, 'x', n);
    strcpy(t + k + n, "\n");
    read_fails(t, &o, CL_EFORMAT, "t.csv: line 3: a record longer than 1000 bytes", "max_record");
    /* below the limit, fine */
    o.max_record = 100000;
    cl_frame *f = read_ok(t, &o);
    assert_int_equal(strlen(cl_frame_column_label(col(f, "b"), 1)), n);
    cl_frame_free(f);
    /* an unclosed quote spanning many lines */
    o.max_record = 1000;
    k = snprintf(t, 64, "a,b\n1,2\n3,\"");
    for (size_t i = 0; i < n; i++)
        t[k + i] = i % 10 == 9 ? '\n' : 'x';
    t[k + n] = '\0';
    read_fails(t, &o, CL_EFORMAT, "line 3: a record longer than 1000 bytes", NULL);
    free(t);
}

/* A 4 MB field: read whole, with a few dozen allocations. libcsv grew its buffer by 128 bytes
 * at a time, each growth a copy (cl_alloc_realloc moves): 32768 copies averaging 2 MB, a minute.
 * Counting allocations shows the growth is geometric without timing anything. */
static void test_long_field(void **state)
{
    (void)state;
    size_t n = (size_t)4 << 20;
    char *t = malloc(n + 64);
    int k = snprintf(t, 64, "a,b\n\"");
    memset(t + k, 'y', n);
    strcpy(t + k + n, "\",1\n");
    cl_alloc_fail_at(LONG_MAX); /* never fails; counts */
    cl_frame *f = read_ok(t, NULL);
    long allocs = cl_alloc_count();
    cl_alloc_fail_at(0);
    if (allocs > 200)
        fail_msg("reading one 4 MB field took %ld allocations", allocs);
    const char *lab = cl_frame_column_label(col(f, "a"), 0);
    assert_int_equal(strlen(lab), n);
    assert_true(lab[0] == 'y' && lab[n - 1] == 'y');
    assert_true(col(f, "b")->num[0] == 1);
    cl_frame_free(f);
    free(t);
}

/* 100k columns: names are checked for duplicates and found through an index (this took 40 s
 * and 478 MB); the frame is right and duplicates are still caught at the far end. */
static void test_many_columns(void **state)
{
    (void)state;
    enum { N = 100000 };
    char *t = malloc((size_t)N * 16 + 64), *p = t;
    for (int j = 0; j < N; j++)
        p += sprintf(p, "%sc%d", j ? "," : "", j);
    *p++ = '\n';
    for (int j = 0; j < N; j++)
        p += sprintf(p, "%s%d", j ? "," : "", j);
    strcpy(p, "\n");
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    const char *tn[] = {"c99999"};
    cl_coltype tt[] = {CL_CAT};
    o.type_names = tn;
    o.types = tt;
    o.ntypes = 1;
    size_t before = cl_alloc_peak();
    cl_frame *f = read_ok(t, &o);
    assert_int_equal(f->ncol, N);
    assert_int_equal(f->nrow, 1);
    assert_int_equal(cl_frame_find(f, "c77777"), 77777);
    assert_true(col(f, "c12345")->num[0] == 12345);
    assert_int_equal(col(f, "c99999")->type, CL_CAT);
    assert_int_equal(cl_frame_find(f, "c100000"), -1);
    /* memory in proportion to the data: not 1024 reserved rows per column (800 MB) */
    assert_true(cl_alloc_peak() - before < (size_t)256 << 20);
    cl_frame_free(f);
    /* a duplicate name at the end */
    p = t + strlen("c0");
    memcpy(t, "c9", 2); /* "c9,c1,..." and c9 again later */
    (void)p;
    read_fails(t, NULL, CL_EFORMAT, "duplicate column name 'c9'", "columns 1 and 10");
    free(t);
}

/* One stray token in a numeric column: cat (as before) but noted with the count and the first
 * offending value; 90% numbers is not "mostly", so no note; dates the same way. */
static void test_inference_notes(void **state)
{
    (void)state;
    enum { N = 5000 };
    char *t = malloc((size_t)N * 32), *p = t;
    p += sprintf(p, "x,d,half,id\n");
    for (int i = 0; i < N; i++)
        p += sprintf(p, "%s,%s,%s,c%d\n", i == 1234 ? "abc" : i == 3000 ? "n/a" : "1.5",
                     i == 10 ? "soon" : "2024-01-02", i % 10 ? "7" : "q", i);
    cl_frame *f;
    cl_csv_info info;
    assert_int_equal(cl_csvio_read_buffer(&f, t, strlen(t), "t.csv", NULL, &info), CL_OK);
    assert_int_equal(col(f, "x")->type, CL_CAT);
    assert_int_equal(col(f, "d")->type, CL_CAT);
    assert_int_equal(col(f, "half")->type, CL_CAT);
    assert_int_equal(info.nnotes, 2);
    assert_int_equal(info.notes[0].kind, CL_CSV_MOSTLY_NUM);
    assert_int_equal(info.notes[0].column, 0);
    assert_int_equal(info.notes[0].count, 2);
    assert_int_equal(info.notes[0].total, N);
    assert_int_equal(info.notes[0].line, 1236);
    assert_string_equal(info.notes[0].first, "abc");
    assert_non_null(strstr(info.notes[0].message,
                           "t.csv: column 'x' read as cat: 2 of 5000 values are not numbers "
                           "(first: 'abc' on line 1236); types = {x = \"num\"}"));
    assert_int_equal(info.notes[1].kind, CL_CSV_MOSTLY_DATE);
    assert_int_equal(info.notes[1].column, 1);
    assert_string_equal(info.notes[1].first, "soon");
    assert_int_equal(info.notes[1].line, 12);
    cl_frame_free(f);
    /* forcing num: the two tokens are missing, counted; everything else unchanged */
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    const char *tn[] = {"x"};
    cl_coltype tt[] = {CL_NUM};
    o.type_names = tn;
    o.types = tt;
    o.ntypes = 1;
    assert_int_equal(cl_csvio_read_buffer(&f, t, strlen(t), "t.csv", &o, &info), CL_OK);
    const cl_column *x = col(f, "x");
    assert_int_equal(x->type, CL_NUM);
    assert_true(isnan(x->num[1234]) && isnan(x->num[3000]) && x->num[1233] == 1.5);
    assert_int_equal(info.nnotes, 2);
    assert_int_equal(info.notes[0].kind, CL_CSV_COERCED);
    assert_int_equal(info.notes[0].count, 2);
    assert_int_equal(info.notes[1].kind, CL_CSV_MOSTLY_DATE);
    cl_frame_free(f);
    free(t);
}

/* na markers apply in every state (they were ignored after a column's first number and when
 * types forced num); nrows = 0 gives no rows. */
static void test_na_and_nrows(void **state)
{
    (void)state;
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    const char *na[] = {"-999"};
    o.na = na;
    o.nna = 1;
    cl_frame *f = read_ok("x,y\n1,-999\n-999,2\n3,-999\n", &o);
    assert_true(col(f, "x")->num[0] == 1 && isnan(col(f, "x")->num[1]));
    assert_true(isnan(col(f, "y")->num[0]) && isnan(col(f, "y")->num[2]));
    cl_frame_free(f);
    const char *tn[] = {"x"};
    cl_coltype tt[] = {CL_NUM};
    o.type_names = tn;
    o.types = tt;
    o.ntypes = 1;
    f = read_ok("x\n-999\n5\n-999\n", &o);
    assert_true(isnan(col(f, "x")->num[0]) && col(f, "x")->num[1] == 5);
    assert_true(isnan(col(f, "x")->num[2]));
    cl_frame_free(f);
    cl_csvio_opts_default(&o);
    o.nrows = 0;
    f = read_ok("a,b\n1,x\n2,y\n", &o);
    assert_int_equal(f->nrow, 0);
    assert_int_equal(f->ncol, 2);
    cl_frame_free(f);
    o.nrows = 1;
    f = read_ok("a,b\n1,x\n2,y\n", &o);
    assert_int_equal(f->nrow, 1);
    cl_frame_free(f);
}

/* Line numbers with lone CR line ends (old Mac files), CRLF, and a CRLF split between two
 * 1 MiB input blocks. */
static void test_cr_line_numbers(void **state)
{
    (void)state;
    read_fails("a,b\r1,2\r3\r", NULL, CL_EFORMAT, "t.csv: line 3", "expected 2 fields, got 1");
    read_fails("a,b\r\n1,2\r\n\r\n3\r\n", NULL, CL_EFORMAT, "t.csv: line 4", "got 1");
    read_fails("a,b\r1,\"x\ry\"\r3\r", NULL, CL_EFORMAT, "t.csv: line 4", "got 1");
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.skip = 2;
    read_fails("junk\rjunk\ra,b\r1,2\r3\r", &o, CL_EFORMAT, "t.csv: line 5", "got 1");
    size_t block = (size_t)1 << 20;
    char *t = malloc(block + 64);
    memcpy(t, "a,b\n", 4);
    size_t i = 4;
    while (i < block - 1 - 4) /* lines "1,2\r\n" up to just before the boundary */
        memcpy(t + i, "1,2\n", 4), i += 4;
    int64_t lines = 1 + (int64_t)(i - 4) / 4;
    while (i < block - 4)
        t[i++] = ' ';  /* pad: the last line before the boundary is "  ...1,2\r" */
    memcpy(t + i, "1,2\r", 4), i += 4; /* \r is the last byte of block 1 */
    t[i++] = '\n';                      /* \n the first of block 2 */
    lines++;
    strcpy(t + i, "3\n");
    char want[64];
    snprintf(want, sizeof want, "t.csv: line %lld:", (long long)lines + 1);
    /* padding makes a field "   1" (a number still), so the error is the short line */
    read_fails(t, NULL, CL_EFORMAT, want, "got 1");
    free(t);
}

/* Quoting decides: a quoted "" or "NA" is a label, an unquoted one is missing. Checks every
 * quoting case of libcsv, since the reader infers quoting from libcsv's buffer. */
static void test_quoted_markers(void **state)
{
    (void)state;
    cl_frame *f = read_ok("s,n\n"
                          "\"NA\",1\n"
                          "NA,2\n"
                          "\"\",3\n"
                          ",4\n"
                          "\" \",5\n"
                          "null,\"\"\n"
                          "\"a\"\"b\",\"NA\"\n"
                          "\"\"\"\",8\n"
                          "x\",9\n"
                          "\"N/A\",\"10\"",
                          NULL);
    const cl_column *s = col(f, "s"), *n = col(f, "n");
    assert_int_equal(f->nrow, 10);
    assert_string_equal(cl_frame_column_label(s, 0), "NA");
    assert_null(cl_frame_column_label(s, 1));
    assert_string_equal(cl_frame_column_label(s, 2), "");
    assert_null(cl_frame_column_label(s, 3));
    assert_string_equal(cl_frame_column_label(s, 4), " ");
    assert_null(cl_frame_column_label(s, 5));
    assert_string_equal(cl_frame_column_label(s, 6), "a\"b");
    assert_string_equal(cl_frame_column_label(s, 7), "\"");
    assert_string_equal(cl_frame_column_label(s, 8), "x\"");
    assert_string_equal(cl_frame_column_label(s, 9), "N/A"); /* quoted, at the end, no line end */
    assert_true(n->num[9] == 10);                    /* quoted numbers are numbers */
    /* in a num column quoted markers are missing (they cannot be numbers): */
    assert_int_equal(n->type, CL_NUM);
    assert_true(n->num[0] == 1 && isnan(n->num[5]) && isnan(n->num[6]) && n->num[8] == 9);
    uint64_t bits, want;
    double canon = NAN;
    memcpy(&bits, &n->num[5], 8);
    memcpy(&want, &canon, 8);
    assert_true(bits == want); /* plain NaN in the frame */
    cl_frame_free(f);
    /* ... until the column falls back to cat: then they are the labels they were */
    f = read_ok("v\n1\n\"NA\"\nNA\n\"\"\nx\n", NULL);
    const cl_column *v = col(f, "v");
    assert_int_equal(v->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(v, 0), "1");
    assert_string_equal(cl_frame_column_label(v, 1), "NA");
    assert_null(cl_frame_column_label(v, 2));
    assert_string_equal(cl_frame_column_label(v, 3), "");
    assert_string_equal(cl_frame_column_label(v, 4), "x");
    cl_frame_free(f);
    /* staged records (skip_bad) see quoting the same way */
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.skip_bad = 1;
    f = read_ok("s\n\"NA\"\nNA\n\"\"\n", &o);
    assert_string_equal(cl_frame_column_label(col(f, "s"), 0), "NA");
    assert_null(cl_frame_column_label(col(f, "s"), 1));
    assert_string_equal(cl_frame_column_label(col(f, "s"), 2), "");
    cl_frame_free(f);
}

static int truncate_at_end(void *ud, const char *task, double done, double total,
                           const char *detail)
{
    (void)task;
    (void)detail;
    if (done >= total && truncate((const char *)ud, 100) != 0)
        return 1;
    return 0;
}

/* A file truncated between the two passes: an error, not a frame with holes. */
static void test_changed_between_passes(void **state)
{
    (void)state;
    char path[] = "/tmp/cl_test_csv_trunc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fputs("a,b\n", fp);
    for (int i = 0; i < 1000000; i++) /* > 8 MiB, so progress is reported */
        fprintf(fp, "%d,1\n", i);
    fputs("text,1\n", fp); /* a falls back to cat: pass 2 re-reads every row */
    fclose(fp);
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    cl_progress prog = {truncate_at_end, path};
    o.progress = &prog;
    cl_frame *f = (cl_frame *)1;
    int rc = cl_csvio_read(&f, path, &o, NULL);
    unlink(path);
    if (rc == CL_OK)
        fail_msg("a truncated file loaded (%lld rows)", (long long)f->nrow);
    assert_int_equal(rc, CL_EIO);
    assert_null(f);
    assert_non_null(strstr(cl_error_last(), "the file changed while being read"));
}

/* ---- writer ------------------------------------------------------------------------------- */

static void test_write_round_trip(void **state)
{
    (void)state;
    enum { N = 2000 };
    cl_rng r;
    cl_rng_seed(&r, 11);
    double *v = malloc(N * sizeof *v);
    const char **s = malloc(N * sizeof *s);
    static const char *const labels[] = {"plain", "with,comma", "quote\"d", "line\nbreak", " lead",
                                         "trail ", "", "caf\xc3\xa9"};
    for (int i = 0; i < N; i++) {
        uint64_t bits = cl_rng_next(&r);
        memcpy(&v[i], &bits, sizeof bits);
        if (isinf(v[i]))
            v[i] = 1.5;
        if (i % 97 == 0)
            v[i] = NAN;
        if (i % 5 == 0)
            v[i] = (double)(int64_t)(cl_rng_next(&r) >> 20) / 1000.0;
        s[i] = i % 53 == 0 ? NULL : labels[i % 8];
    }
    cl_frame *f;
    cl_column *a, *b, *d;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    assert_int_equal(cl_frame_column_from_doubles(&a, v, N), CL_OK);
    assert_int_equal(cl_frame_column_from_strings(&b, s, N), CL_OK);
    assert_int_equal(cl_frame_column_new_num(&d, CL_DATE, N), CL_OK);
    for (int i = 0; i < N; i++)
        d->num[i] = i % 7 == 0 ? NAN : (double)(i * 13 - 9000) + (i % 3 == 0 ? 0.25 : 0);
    assert_int_equal(cl_frame_set(f, "x", a), CL_OK);
    assert_int_equal(cl_frame_set(f, "s", b), CL_OK);
    assert_int_equal(cl_frame_set(f, "when", d), CL_OK);
    char path[] = "/tmp/cl_test_csv_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cl_csvio_write(f, path, 0), CL_OK);
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    const char *tn[] = {"s"};
    cl_coltype tt[] = {CL_CAT};
    o.type_names = tn;
    o.types = tt;
    o.ntypes = 1;
    cl_frame *g;
    if (cl_csvio_read(&g, path, &o, NULL) != CL_OK)
        fail_msg("%s", cl_error_last());
    unlink(path);
    assert_int_equal(g->nrow, N);
    const cl_column *x = col(g, "x"), *sl = col(g, "s"), *w = col(g, "when");
    assert_int_equal(w->type, CL_DATE);
    for (int i = 0; i < N; i++) {
        if (isnan(v[i]))
            assert_true(isnan(x->num[i]));
        else if (memcmp(&x->num[i], &v[i], sizeof v[i]) && !(v[i] == 0 && x->num[i] == 0))
            fail_msg("row %d: wrote %.17g, read %.17g", i, v[i], x->num[i]);
        const char *got = cl_frame_column_label(sl, i);
        if (!s[i]) /* missing reads back as missing, the empty label as the empty label */
            assert_null(got);
        else
            assert_string_equal(got, s[i]);
        assert_true(isnan(d->num[i]) ? isnan(w->num[i]) : w->num[i] == d->num[i]);
    }
    cl_frame_free(g);
    cl_frame_free(f);
    cl_frame_column_free(a);
    cl_frame_column_free(b);
    cl_frame_column_free(d);
    free(v);
    free(s);
}

/* Property: random frames -> cl_csvio_write -> cl_csvio_read give the same frame back: numbers
 * bit for bit (inf, -inf, -0, subnormals; NaN as missing), labels byte for byte (the empty
 * label, "NA", "null", "N/A", "NaN", " ", quotes, separators, CR/LF, numbers and dates as
 * labels), dates to the second. Inferred types when each column shows its type (a cat column
 * has a plain label, a date column a date), types passed in otherwise. */
static const char *const TRICKY[] = {"", "NA", "null", "N/A", "NaN", " ", "  x ", "a,b", "\"",
                                     "q\"\"q", "l1\nl2", "cr\rcr", "crlf\r\n", "inf", "-inf",
                                     "1.5", "007", "2024-02-29", "nan", "Infinity", "x",
                                     "caf\xc3\xa9", ";", "\t", "'", "-"};

static void random_label(cl_rng *r, char *buf, size_t cap)
{
    if (cl_rng_below(r, 3)) {
        snprintf(buf, cap, "%s", TRICKY[cl_rng_below(r, sizeof TRICKY / sizeof *TRICKY)]);
        return;
    }
    static const char alphabet[] = "ab,\"\n\r 1.-e;";
    size_t n = cl_rng_below(r, 8);
    for (size_t i = 0; i < n && i + 1 < cap; i++)
        buf[i] = alphabet[cl_rng_below(r, sizeof alphabet - 1)];
    buf[n < cap ? n : cap - 1] = '\0';
}

static double random_num(cl_rng *r)
{
    static const double special[] = {0.0, -0.0, 1.0, -1.5, 1e308, 4.9e-324, 2.5e-310, 0.1};
    switch (cl_rng_below(r, 6)) {
    case 0:
        return cl_rng_below(r, 2) ? INFINITY : -INFINITY;
    case 1:
        return NAN;
    case 2:
        return special[cl_rng_below(r, sizeof special / sizeof *special)];
    case 3:
        return (double)(int64_t)(cl_rng_next(r) >> 24) / 1000.0;
    default: {
        uint64_t bits = cl_rng_next(r);
        double d;
        memcpy(&d, &bits, sizeof d);
        return isnan(d) ? 3.25 : d;
    }
    }
}

static void test_round_trip_property(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 2022);
    char path[] = "/tmp/cl_test_csv_prop_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    for (int round = 0; round < 200; round++) {
        int pinned = round % 4 == 3;
        int64_t nrow = pinned ? (int64_t)cl_rng_below(&r, 40) : 1 + (int64_t)cl_rng_below(&r, 60);
        int ncol = 1 + (int)cl_rng_below(&r, 5);
        cl_frame *f;
        assert_int_equal(cl_frame_new(&f), CL_OK);
        const char *tn[8];
        cl_coltype tt[8];
        char names[8][16]; /* room for any int: -O1 cannot see j < 5 */
        for (int j = 0; j < ncol; j++) {
            snprintf(names[j], sizeof names[j], "c%d", j);
            cl_coltype type = (cl_coltype)cl_rng_below(&r, 3);
            cl_column *c;
            if (type == CL_CAT) {
                const char **strs = malloc((size_t)(nrow ? nrow : 1) * sizeof *strs);
                char (*lab)[16] = malloc((size_t)(nrow ? nrow : 1) * sizeof *lab);
                for (int64_t i = 0; i < nrow; i++) {
                    random_label(&r, lab[i], sizeof lab[i]);
                    strs[i] = cl_rng_below(&r, 6) == 0 ? NULL : lab[i];
                }
                if (nrow && !pinned)
                    strs[cl_rng_below(&r, (uint64_t)nrow)] = "plain text";
                assert_int_equal(cl_frame_column_from_strings(&c, strs, nrow), CL_OK);
                free(strs);
                free(lab);
            } else {
                assert_int_equal(cl_frame_column_new_num(&c, type, nrow), CL_OK);
                for (int64_t i = 0; i < nrow; i++) {
                    if (type == CL_NUM) {
                        c->num[i] = random_num(&r);
                    } else if (cl_rng_below(&r, 5) == 0) {
                        c->num[i] = NAN;
                    } else {
                        double day = (double)((int64_t)cl_rng_below(&r, 73000) - 25567);
                        int secs = cl_rng_below(&r, 2) ? 0 : (int)cl_rng_below(&r, 86400);
                        c->num[i] = day + secs / 86400.0; /* as the parser computes it */
                    }
                }
                if (type == CL_DATE && nrow && !pinned)
                    c->num[cl_rng_below(&r, (uint64_t)nrow)] = 19000;
            }
            assert_int_equal(cl_frame_set(f, names[j], c), CL_OK);
            cl_frame_column_free(c);
            tn[j] = names[j];
            tt[j] = type;
        }
        f->nrow = nrow;
        assert_int_equal(cl_csvio_write(f, path, cl_rng_below(&r, 2) ? ',' : ';'), CL_OK);
        /* the writer's separator is unknown to the reader: try both */
        cl_csv_opts o;
        cl_csvio_opts_default(&o);
        if (pinned) {
            o.type_names = tn;
            o.types = tt;
            o.ntypes = ncol;
        }
        cl_frame *g = NULL;
        cl_csv_info info;
        int rc = cl_csvio_read(&g, path, &o, &info);
        if (rc == CL_OK && g->ncol != ncol) {
            cl_frame_free(g);
            g = NULL;
            rc = -1;
        }
        if (rc != CL_OK) {
            o.sep = ';';
            rc = cl_csvio_read(&g, path, &o, &info);
        }
        if (rc != CL_OK)
            fail_msg("round %d: %s", round, cl_error_last());
        assert_int_equal(g->nrow, nrow);
        assert_int_equal(g->ncol, ncol);
        if (!pinned && info.nnotes != 0)
            fail_msg("round %d: %s", round, info.notes[0].message);
        for (int j = 0; j < ncol; j++) {
            const cl_column *a = f->cols[j], *b = g->cols[j];
            if (a->type != b->type)
                fail_msg("round %d, column %d: wrote %s, read %s", round, j,
                         cl_frame_coltype_name(a->type), cl_frame_coltype_name(b->type));
            for (int64_t i = 0; i < nrow; i++) {
                if (a->type == CL_CAT) {
                    const char *x = cl_frame_column_label(a, i), *y = cl_frame_column_label(b, i);
                    if ((x == NULL) != (y == NULL) || (x && strcmp(x, y)))
                        fail_msg("round %d, row %lld, column %d: wrote '%s', read '%s'", round,
                                 (long long)i, j, x ? x : "(missing)", y ? y : "(missing)");
                } else if (isnan(a->num[i]) || isnan(b->num[i])) {
                    if (!isnan(a->num[i]) || !isnan(b->num[i]))
                        fail_msg("round %d, row %lld, column %d: wrote %.17g, read %.17g", round,
                                 (long long)i, j, a->num[i], b->num[i]);
                } else if (memcmp(&a->num[i], &b->num[i], sizeof(double))) {
                    fail_msg("round %d, row %lld, column %d: wrote %.17g, read %.17g", round,
                             (long long)i, j, a->num[i], b->num[i]);
                }
            }
        }
        cl_frame_free(g);
        cl_frame_free(f);
    }
    unlink(path);
}

/* ---- allocation failures ------------------------------------------------------------------ */

static void test_alloc_failures(void **state)
{
    (void)state;
    const char *t = "a,b,c\n1,x,2024-01-01\n2,y,\n3,\"q,\",2024-01-03\nfoo,z,2024-01-04\n";
    size_t base = cl_alloc_bytes();
    int ok = 0;
    for (long n = 1; n < 500 && !ok; n++) {
        cl_frame *f = NULL;
        cl_alloc_fail_at(n);
        int rc = cl_csvio_read_buffer(&f, t, strlen(t), "t.csv", NULL, NULL);
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            ok = 1;
            assert_int_equal(f->nrow, 4);
            assert_int_equal(f->cols[0]->type, CL_CAT);
            cl_frame_free(f);
        } else {
            assert_int_equal(rc, CL_ENOMEM);
            assert_null(f);
        }
        assert_int_equal(cl_alloc_bytes(), base);
    }
    assert_true(ok);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ragged_rows),        cmocka_unit_test(test_unterminated_quote),
        cmocka_unit_test(test_forced_num_text),    cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_missing_file),       cmocka_unit_test(test_quotes_crlf_bom),
        cmocka_unit_test(test_inference),          cmocka_unit_test(test_options),
        cmocka_unit_test(test_write_round_trip),   cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_nul_bytes),          cmocka_unit_test(test_max_record),
        cmocka_unit_test(test_long_field),         cmocka_unit_test(test_many_columns),
        cmocka_unit_test(test_inference_notes),    cmocka_unit_test(test_na_and_nrows),
        cmocka_unit_test(test_cr_line_numbers),    cmocka_unit_test(test_quoted_markers),
        cmocka_unit_test(test_changed_between_passes), cmocka_unit_test(test_round_trip_property),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
