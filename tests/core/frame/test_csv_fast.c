/* test_csv_fast.c - the fast tokenizer of csvio.c against libcsv: every input is read twice,
 * once as usual and once with libcsv_only (every record through libcsv, the reference for
 * quoting rules), and the two results must be identical: the status and message, or the
 * frame (names, types, every cell bit for bit, every label) and the info (lines, bad lines,
 * notes). Inputs: hand-written tricky cases, the fuzz seed corpus, and random files drawn
 * from an alphabet of quotes, separators, CR, LF, markers, numbers and dates, under random
 * options, at 1, 2, 3 and 7 commit threads; and a multi-block file from disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "churnlab.h"
#include "frame/csv_fast.h"

static void same_info(const cl_csv_info *a, const cl_csv_info *b)
{
    assert_int_equal(a->bad_lines, b->bad_lines);
    assert_int_equal(a->first_bad_line, b->first_bad_line);
    assert_int_equal(a->lines, b->lines);
    assert_int_equal(a->nnotes, b->nnotes);
    assert_int_equal(a->more_notes, b->more_notes);
    for (int k = 0; k < a->nnotes; k++)
        assert_string_equal(a->notes[k].message, b->notes[k].message);
}

static void same_frame(const cl_frame *a, const cl_frame *b)
{
    assert_int_equal(a->nrow, b->nrow);
    assert_int_equal(a->ncol, b->ncol);
    for (int j = 0; j < a->ncol; j++) {
        const cl_column *x = a->cols[j], *y = b->cols[j];
        assert_string_equal(a->names[j], b->names[j]);
        assert_int_equal(x->type, y->type);
        for (int64_t i = 0; i < a->nrow; i++) {
            if (x->type == CL_CAT) {
                const char *lx = cl_frame_column_label(x, i), *ly = cl_frame_column_label(y, i);
                assert_int_equal(lx == NULL, ly == NULL);
                if (lx)
                    assert_string_equal(lx, ly);
                assert_int_equal(x->codes[i], y->codes[i]);
            } else {
                assert_memory_equal(&x->num[i], &y->num[i], sizeof(double));
            }
        }
    }
}

/* Reads text both ways and compares; returns 1 when it parsed. */
static int both_threads(const char *text, size_t len, const cl_csv_opts *o, int threads)
{
    cl_csv_opts fast = *o, slow = *o;
    fast.libcsv_only = 0;
    fast.threads = threads;
    slow.libcsv_only = 1;
    cl_frame *a = NULL, *b = NULL;
    cl_csv_info ia, ib;
    int ra = cl_csvio_read_buffer(&a, text, len, "t.csv", &fast, &ia);
    char msg[1024];
    snprintf(msg, sizeof msg, "%s", ra ? cl_error_last() : "");
    int rb = cl_csvio_read_buffer(&b, text, len, "t.csv", &slow, &ib);
    if (ra != rb)
        fail_msg("fast rc %d (%s), libcsv rc %d (%s) on [%.*s]", ra, msg, rb,
                 rb ? cl_error_last() : "", (int)(len < 200 ? len : 200), text);
    if (ra) {
        assert_string_equal(msg, cl_error_last());
        return 0;
    }
    same_frame(a, b);
    same_info(&ia, &ib);
    cl_frame_free(a);
    cl_frame_free(b);
    return 1;
}

/* The fast path at 1, 2, 3 and 7 commit threads, each against libcsv. */
static int both(const char *text, size_t len, const cl_csv_opts *o)
{
    static const int threads[] = {1, 2, 3, 7};
    int ok = 0;
    for (size_t t = 0; t < sizeof threads / sizeof *threads; t++)
        ok = both_threads(text, len, o, threads[t]);
    return ok;
}

static void test_tricky(void **state)
{
    (void)state;
    static const char *const cases[] = {
        "a,b\n1,2\n3,4\n",
        "a,b\n1,2\n3,4",
        "a,b\n\"x\",\"y\"\n\"\",\"NA\"\n",
        "a,b\n\"x\"\"y\",2\n\"say \"\"hi\"\"\",3\n",
        "a,b\n\"line\nbreak\",1\n2,3\n",
        "a,b\r\n1,2\r\n3,4\r\n",
        "a,b\r1,2\r3,4\r",
        "a,b\n1,2\r\n3,4\n5,6\r7,8\n",
        "\xEF\xBB\xBF" "a,b\n1,2\n",
        "a,b\n\n1,2\n\n\n3,4\n",
        "a,b\n1,\n,2\n,\n",
        "a,b\n NA ,1\nNA,2\n  ,3\n",
        "a,b\na\"b,1\n\"x\"y,2\n",
        "a,b\n\"x\" ,1\n",
        "a,b\n1,2,3\n4,5\n",
        "a,b\n1\n",
        "a,b\n\"unterminated,1\n",
        "a,b\n1,2\n\"open\n",
        "a,b\n007,x\n1.5,y\nabc,z\n",
        "a,b\n1,2024-01-01\n2,2024-01-02 10:11:12\n3,x\n",
        "a\n1\n2\nthree\n4\n5\n6\n7\n8\n9\n10\n11\n12\n13\n14\n15\n16\n17\n18\n19\n20\n21\n",
        "a,b\n1e5,inf\n-1.5e-3,-Infinity\n0x10,nan\n",
        "a,a\n1,2\n",
        ",b\n1,2\n",
        "a,b\n\"\",\"\"\n1,2\n",
        "\"a\",\"b\"\n\"1\",\"2\"\n",
        "a;b\n1;2\n",
    };
    cl_csv_opts o;
    for (size_t k = 0; k < sizeof cases / sizeof *cases; k++) {
        size_t len = strlen(cases[k]);
        cl_csvio_opts_default(&o);
        both(cases[k], len, &o);
        o.skip_bad = 1;
        both(cases[k], len, &o);
        o.nrows = 1;
        both(cases[k], len, &o);
        cl_csvio_opts_default(&o);
        o.header = 0;
        both(cases[k], len, &o);
        cl_csvio_opts_default(&o);
        o.skip = 1;
        both(cases[k], len, &o);
        cl_csvio_opts_default(&o);
        o.max_record = 6;
        both(cases[k], len, &o);
        cl_csvio_opts_default(&o);
        o.sep = ';';
        both(cases[k], len, &o);
    }
}

/* A NUL byte is refused on both paths with the same line and column. */
static void test_nul(void **state)
{
    (void)state;
    static const char t[] = "a,b\n1,2\n3,x\0y\n5,6\n";
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    assert_int_equal(both(t, sizeof t - 1, &o), 0);
    assert_non_null(strstr(cl_error_last(), "line 3, column 'b'"));
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    rewind(fp);
    char *b = malloc((size_t)n + 1);
    if (b && fread(b, 1, (size_t)n, fp) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(fp);
    *len = (size_t)n;
    return b;
}

static void test_fuzz_corpus(void **state)
{
    (void)state;
    DIR *d = opendir("tests/data/fuzz-csv");
    assert_non_null(d);
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char path[512];
        snprintf(path, sizeof path, "tests/data/fuzz-csv/%s", e->d_name);
        size_t len = 0;
        char *b = slurp(path, &len);
        assert_non_null(b);
        cl_csv_opts o;
        cl_csvio_opts_default(&o);
        both(b, len, &o);
        o.skip_bad = 1;
        both(b, len, &o);
        free(b);
        files++;
    }
    closedir(d);
    assert_true(files >= 5);
}

/* Random files over pieces that hit every branch of the fast tokenizer and its hand-offs. */
static void test_random_files(void **state)
{
    (void)state;
    static const char *const pieces[] = {
        ",", ",", ",", "\n", "\n", "\r\n", "\r", "\"", "\"\"", "\"a,b\"", "\"x\ny\"",
        "\"q\"\"q\"", "1", "2.5", "-3e2", "007", "NA", "null", " ", "abc", "2024-02-29",
        "2023-02-29", "2024-01-01 12:00:00", "inf", "x\"y", "\"\" ", "\xEF\xBB\xBF",
    };
    const int np = (int)(sizeof pieces / sizeof *pieces);
    cl_rng rng;
    cl_rng_seed(&rng, 21);
    char buf[4096];
    int parsed = 0;
    for (int it = 0; it < 20000; it++) {
        size_t len = (size_t)snprintf(buf, sizeof buf, "a,b,c\n");
        int n = 1 + (int)(cl_rng_next(&rng) % 60);
        for (int k = 0; k < n; k++) {
            const char *p = pieces[cl_rng_next(&rng) % (uint64_t)np];
            size_t m = strlen(p);
            memcpy(buf + len, p, m);
            len += m;
        }
        if (cl_rng_next(&rng) & 1)
            buf[len++] = '\n';
        buf[len] = '\0';
        cl_csv_opts o;
        cl_csvio_opts_default(&o);
        uint64_t pick = cl_rng_next(&rng);
        o.skip_bad = (int)(pick & 1);
        o.header = (pick >> 1) % 5 != 0;
        o.nrows = (pick >> 4) % 4 == 0 ? (int64_t)((pick >> 8) % 4) : -1;
        o.skip = (pick >> 12) % 6 == 0 ? 1 : 0;
        parsed += both_threads(buf, len, &o, 1 + it % 3); /* 1, 2, 3 threads in turn */
    }
    assert_true(parsed > 1000); /* the comparison was not only of error messages */
}

/* Missing markers, default and custom, some of which parse as numbers or dates (csvio.c
 * commits a num or date column's parsed values without its marker test unless a marker
 * parses): random columns of numbers, dates, markers and text against libcsv. */
static void test_markers(void **state)
{
    (void)state;
    static const char *const pieces[] = {"-999", "1", "2.5", " 5", "5", "2024-01-01",
                                         "2024-01-02", "NA", "x", "\"-999\"", "", " ",
                                         "\"\"", "1e3", "null"};
    static const char *const m1[] = {"-999"}, *const m2[] = {"2024-01-01", "NA"},
                             *const m3[] = {" 5", "x"}, *const m4[] = {"5"};
    static const char *const *const lists[] = {NULL, m1, m2, m3, m4};
    static const int nlist[] = {0, 1, 2, 2, 1};
    const int np = (int)(sizeof pieces / sizeof *pieces);
    cl_rng rng;
    cl_rng_seed(&rng, 33);
    char buf[8192];
    int parsed = 0;
    for (int it = 0; it < 3000; it++) {
        size_t len = (size_t)snprintf(buf, sizeof buf, "a,b,c\n");
        int rows = 1 + (int)(cl_rng_next(&rng) % 40);
        /* each column draws from 3 of the pieces, so many stay num or date to the end */
        int pick[3][3];
        for (int j = 0; j < 3; j++)
            for (int k = 0; k < 3; k++)
                pick[j][k] = (int)(cl_rng_next(&rng) % (uint64_t)np);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < 3; j++) {
                const char *p = pieces[pick[j][cl_rng_next(&rng) % 3]];
                len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%c", p, j < 2 ? ',' : '\n');
            }
        cl_csv_opts o;
        cl_csvio_opts_default(&o);
        int l = it % 5;
        if (lists[l]) {
            o.na = lists[l];
            o.nna = nlist[l];
        }
        parsed += both_threads(buf, len, &o, 1 + it % 2);
    }
    assert_true(parsed > 2000);
}

/* A file of several 1 MiB read blocks (batches end at each block; records cross the block
 * ends) with quoted line ends, CRLF lines, doubled quotes, a column that turns cat late and
 * bad lines: read from disk by the fast path at 1, 2, 3 and 7 threads and by libcsv. */
static void test_big_file_threads(void **state)
{
    (void)state;
    char path[] = "/tmp/test_csv_fast_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "wb");
    assert_non_null(fp);
    cl_rng rng;
    cl_rng_seed(&rng, 5);
    fputs("id,x,label,text,late,when\n", fp);
    for (int i = 0; i < 60000; i++) {
        uint64_t u = cl_rng_next(&rng);
        fprintf(fp, "%d,%.17g,lab%d,", i, (double)(u >> 11) * 0x1p-40, (int)(u % 50));
        switch ((u >> 8) % 7) {
        case 0: fputs("\"multi\nline, \"\"quoted\"\"\"", fp); break;
        case 1: fputs("\"\"", fp); break;
        case 2: fputs("NA", fp); break;
        case 3: fputs("\"a,b\"", fp); break;
        default: fputs("plain", fp); break;
        }
        fprintf(fp, ",%s,%s", i == 59000 ? "oops" : (u >> 20) % 9 ? "12" : "",
                (u >> 24) % 5 ? "2024-03-01" : "2024-03-01 10:00:00");
        if ((u >> 30) % 11 == 0)
            fputs(",extra", fp); /* a bad line */
        fputs((u >> 40) % 13 == 0 ? "\r\n" : "\n", fp);
    }
    fclose(fp);
    static const int threads[] = {1, 2, 3, 7};
    for (int skip_bad = 0; skip_bad < 2; skip_bad++) {
        cl_csv_opts o;
        cl_csvio_opts_default(&o);
        o.skip_bad = skip_bad;
        o.libcsv_only = 1;
        cl_frame *ref = NULL;
        cl_csv_info iref;
        int rref = cl_csvio_read(&ref, path, &o, &iref);
        char msg[1024];
        snprintf(msg, sizeof msg, "%s", rref ? cl_error_last() : "");
        if (skip_bad)
            assert_int_equal(rref, CL_OK);
        else
            assert_int_equal(rref, CL_EFORMAT); /* the first bad line, named */
        for (size_t t = 0; t < sizeof threads / sizeof *threads; t++) {
            o.libcsv_only = 0;
            o.threads = threads[t];
            cl_frame *f = NULL;
            cl_csv_info info;
            int rc = cl_csvio_read(&f, path, &o, &info);
            assert_int_equal(rc, rref);
            if (rc) {
                assert_string_equal(cl_error_last(), msg);
                continue;
            }
            assert_true(f->nrow > 50000);
            same_frame(f, ref);
            same_info(&info, &iref);
            cl_frame_free(f);
        }
        cl_frame_free(ref);
    }
    remove(path);
}

/* The parallel scan (csvio.c par_scan: a block cut into one part per thread at line ends,
 * each part tokenized on its own thread, parts trusted only where the one before ended
 * exactly at their start): files of mostly plain records with a few that the fast path does
 * not take (multi-line quoted fields, whose line ends are where cuts land, CR lines, bad
 * field counts, blank lines), at densities from none to one in 50, read at 2, 3 and 7
 * threads with and without skip_bad and nrows, each against libcsv. */
static void test_parallel_scan(void **state)
{
    (void)state;
    static const int every[] = {0, 20000, 3000, 400, 50};
    cl_rng rng;
    cl_rng_seed(&rng, 11);
    size_t cap = (size_t)8 << 20, len;
    char *text = malloc(cap);
    assert_non_null(text);
    for (size_t e = 0; e < sizeof every / sizeof *every; e++) {
        len = (size_t)snprintf(text, cap, "id,x,label,text\n");
        for (int i = 0; i < 40000 && len + 256 < cap; i++) {
            uint64_t u = cl_rng_next(&rng);
            int odd = every[e] && u % (uint64_t)every[e] == 0;
            const char *t = "plain";
            if (odd) {
                static const char *const tricky[] = {"\"multi\nline\nfield\"", "\"a\r\nb\"",
                                                     "x\r", "y,extra", "z\n"};
                t = tricky[(u >> 32) % 5];
            } else if ((u >> 16) % 4 == 0) {
                t = "\"q, \"\"uoted\"\"\"";
            }
            len += (size_t)snprintf(text + len, cap - len, "%d,%.17g,lab%d,%s\n", i,
                                    (double)(u >> 11) * 0x1p-30, (int)(u % 300), t);
        }
        for (int variant = 0; variant < 3; variant++) {
            cl_csv_opts o;
            cl_csvio_opts_default(&o);
            o.skip_bad = variant >= 1;
            if (variant == 2)
                o.nrows = 23456;
            for (int threads = 2; threads <= 7; threads += threads == 3 ? 4 : 1)
                both_threads(text, len, &o, threads);
        }
    }
    free(text);
}

/* CSV_SAME_FILE=path: that file (e.g. the benchmark's) read by libcsv and by the fast path
 * at 1 and 2 threads, compared cell by cell (not in the default run: the file is not in the
 * tree). */
static void test_same_file(void **state)
{
    (void)state;
    const char *path = getenv("CSV_SAME_FILE");
    if (!path)
        skip();
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.libcsv_only = 1;
    cl_frame *ref = NULL;
    cl_csv_info iref;
    assert_int_equal(cl_csvio_read(&ref, path, &o, &iref), CL_OK);
    for (int t = 1; t <= 2; t++) {
        o.libcsv_only = 0;
        o.threads = t;
        cl_frame *f = NULL;
        cl_csv_info info;
        assert_int_equal(cl_csvio_read(&f, path, &o, &info), CL_OK);
        same_frame(f, ref);
        same_info(&info, &iref);
        cl_frame_free(f);
    }
    fprintf(stderr, "same_file: %s: %lld rows x %d columns identical (libcsv, fast at 1 and 2 "
                    "threads)\n", path, (long long)ref->nrow, ref->ncol);
    cl_frame_free(ref);
}

/* The field scan's instruction-set paths (csv_fast.c: byte loop, SSE2, AVX2, AVX-512 masks of
 * 64-byte windows): each one this CPU runs, forced, must give libcsv's frames on the tricky
 * cases, the random files (fields across window edges, tails shorter than a window) and the
 * parallel scan's files; the default path is the one the other tests ran. */
static void test_isa_paths(void **state)
{
    int ran = 0;
    for (int isa = CL_CSV_ISA_SCALAR; isa <= CL_CSV_ISA_AVX512; isa++) {
        if (!cl_csv_fast_force_isa(isa))
            continue;
        assert_int_equal(cl_csv_fast_isa(), isa);
        test_tricky(state);
        test_random_files(state);
        test_markers(state);
        test_parallel_scan(state);
        ran++;
    }
    assert_true(cl_csv_fast_force_isa(-1));
#if defined(__x86_64__)
    assert_true(ran >= 2); /* the byte loop and SSE2 at least */
#else
    assert_true(ran >= 1);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tricky),
        cmocka_unit_test(test_nul),
        cmocka_unit_test(test_fuzz_corpus),
        cmocka_unit_test(test_random_files),
        cmocka_unit_test(test_markers),
        cmocka_unit_test(test_big_file_threads),
        cmocka_unit_test(test_parallel_scan),
        cmocka_unit_test(test_isa_paths),
        cmocka_unit_test(test_same_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
