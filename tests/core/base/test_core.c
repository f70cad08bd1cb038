/* test_core.c - the core conventions: errors, accounted allocation and its failure hook,
 * the RNG (published test vector, determinism, stream independence, moments), parameter
 * tables (defaults, validation messages), file I/O (atomic writes, CRC-32 check value). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "churnlab.h"

static void assert_msg(const char *needle)
{
    if (!strstr(cl_error_last(), needle))
        fail_msg("message '%s' lacks '%s'", cl_error_last(), needle);
}

/* ---- errors ------------------------------------------------------------------------- */

static void test_errors(void **state)
{
    (void)state;
    cl_error_clear();
    assert_string_equal(cl_error_last(), "");
    assert_int_equal(cl_error(CL_EINVAL, "bad %s at %d", "thing", 3), CL_EINVAL);
    assert_string_equal(cl_error_last(), "bad thing at 3");
    assert_int_equal(cl_error_wrap(CL_EIO, "reading '%s'", "f.csv"), CL_EIO);
    assert_string_equal(cl_error_last(), "reading 'f.csv': bad thing at 3");
    assert_string_equal(cl_error_strstatus(CL_ENOMEM), "out of memory");
    assert_string_equal(cl_error_strstatus(CL_ENOTSUP), "not supported");
    assert_string_equal(cl_error_strstatus(-1000), "unknown error");
    /* long messages are truncated, never overflow */
    char big[4000];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cl_error(CL_EINVAL, "%s", big);
    assert_true(strlen(cl_error_last()) < sizeof big - 1);
}

/* ---- allocation --------------------------------------------------------------------- */

static void test_alloc(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    char *p = cl_alloc(1000);
    assert_non_null(p);
    assert_true(((uintptr_t)p % CL_ALIGN) == 0);
    assert_int_equal(cl_alloc_bytes(), base + 1000);
    assert_true(cl_alloc_peak() >= base + 1000);
    memset(p, 7, 1000);
    p = cl_alloc_realloc(p, 5000);
    assert_non_null(p);
    assert_true(p[999] == 7);
    assert_int_equal(cl_alloc_bytes(), base + 5000);
    cl_alloc_free(p);
    assert_int_equal(cl_alloc_bytes(), base);
    cl_alloc_free(NULL);

    int *z = cl_alloc_calloc(100, sizeof(int));
    for (int i = 0; i < 100; i++)
        assert_int_equal(z[i], 0);
    cl_alloc_free(z);
    assert_null(cl_alloc_calloc(SIZE_MAX / 2, 4)); /* n * size overflows */
    assert_msg("size overflow");
    size_t out;
    assert_int_equal(cl_alloc_mul_size(SIZE_MAX / 2, 3, &out), 0);
    assert_int_equal(cl_alloc_mul_size(6, 7, &out), 1);
    assert_int_equal(out, 42);
    assert_null(cl_alloc(SIZE_MAX - 10));
    assert_msg("out of memory");

    char *s = cl_alloc_strdup("churn");
    assert_string_equal(s, "churn");
    cl_alloc_free(s);
    assert_int_equal(cl_alloc_bytes(), base);
}

static void test_alloc_fail_hook(void **state)
{
    (void)state;
    cl_alloc_fail_at(3);
    void *a = cl_alloc(8), *b = cl_alloc(8), *c = cl_alloc(8), *d = cl_alloc(8);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c); /* exactly the third */
    assert_non_null(d); /* and later ones succeed */
    assert_int_equal(cl_alloc_count(), 4);
    cl_alloc_free(a), cl_alloc_free(b), cl_alloc_free(d);
    cl_alloc_fail_at(1);
    assert_null(cl_alloc_strdup("x"));
    cl_alloc_fail_at(1);
    void *p = cl_alloc(16);
    cl_alloc_fail_at(1);
    assert_null(cl_alloc_realloc(p, 32)); /* the old block stays valid */
    cl_alloc_free(p);
    cl_alloc_fail_at(0);
}

/* ---- rng ---------------------------------------------------------------------------- */

static void test_rng_vector(void **state)
{
    (void)state;
    /* xoshiro256** from state {1, 2, 3, 4}: the first outputs listed with the reference
     * implementation's test vectors (also used by Rust's rand_xoshiro). */
    cl_rng r = {{1, 2, 3, 4}};
    const uint64_t want[] = {11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL};
    for (int i = 0; i < 4; i++)
        assert_true(cl_rng_next(&r) == want[i]);
}

static void test_rng_determinism(void **state)
{
    (void)state;
    cl_rng a, b, c;
    cl_rng_seed(&a, 42);
    cl_rng_seed(&b, 42);
    cl_rng_seed(&c, 43);
    int differ = 0;
    for (int i = 0; i < 1000; i++) {
        uint64_t x = cl_rng_next(&a);
        assert_true(x == cl_rng_next(&b));
        differ += x != cl_rng_next(&c);
    }
    assert_true(differ > 990);
    /* seed 0 is a valid seed (splitmix expansion never gives the all-zero state) */
    cl_rng_seed(&a, 0);
    assert_true(a.s[0] | a.s[1] | a.s[2] | a.s[3]);

    /* a jump moves far away: no overlap with the first outputs of the unjumped stream */
    cl_rng_seed(&a, 5);
    b = a;
    cl_rng_jump(&b);
    uint64_t first[64];
    for (int i = 0; i < 64; i++)
        first[i] = cl_rng_next(&a);
    for (int i = 0; i < 64; i++) {
        uint64_t x = cl_rng_next(&b);
        for (int k = 0; k < 64; k++)
            assert_true(x != first[k]);
    }
}

static double corr(const double *x, const double *y, int n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (int i = 0; i < n; i++)
        mx += x[i], my += y[i];
    mx /= n, my /= n;
    for (int i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

static void test_rng_split(void **state)
{
    (void)state;
    enum { N = 20000, S = 6 };
    static double v[S][N];
    /* a stream depends only on (seed, k), not on which streams were made before */
    cl_rng a, b;
    cl_rng_split(&a, 9, 3);
    cl_rng_split(&b, 9, 0);
    cl_rng_split(&b, 9, 3);
    assert_memory_equal(&a, &b, sizeof a);
    for (int k = 0; k < S; k++) {
        cl_rng r;
        cl_rng_split(&r, 9, (uint64_t)k);
        for (int i = 0; i < N; i++)
            v[k][i] = cl_rng_uniform(&r);
    }
    /* neighbouring streams and the same index of other seeds are uncorrelated, also at
     * small lags: |r| below 5 standard errors (1/sqrt(N)) */
    double lim = 5.0 / sqrt((double)N);
    for (int k = 0; k < S; k++)
        for (int q = k + 1; q < S; q++) {
            assert_true(fabs(corr(v[k], v[q], N)) < lim);
            assert_true(fabs(corr(v[k], v[q] + 1, N - 1)) < lim);
        }
    cl_rng_split(&a, 10, 0);
    double w[N];
    for (int i = 0; i < N; i++)
        w[i] = cl_rng_uniform(&a);
    assert_true(fabs(corr(v[0], w, N)) < lim);
}

static void test_rng_moments(void **state)
{
    (void)state;
    enum { N = 400000 };
    cl_rng r;
    cl_rng_seed(&r, 2024);
    double s1 = 0, s2 = 0, n1 = 0, n2 = 0, n3 = 0, n4 = 0;
    for (int i = 0; i < N; i++) {
        double u = cl_rng_uniform(&r);
        assert_true(u >= 0 && u < 1);
        s1 += u, s2 += u * u;
        double z = cl_rng_normal(&r);
        n1 += z, n2 += z * z, n3 += z * z * z, n4 += z * z * z * z;
    }
    double se = 1.0 / sqrt((double)N);
    assert_true(fabs(s1 / N - 0.5) < 5 * se * sqrt(1.0 / 12));
    assert_true(fabs(s2 / N - s1 / N * s1 / N - 1.0 / 12) < 0.001);
    assert_true(fabs(n1 / N) < 5 * se);
    assert_true(fabs(n2 / N - 1) < 5 * se * sqrt(2.0));
    assert_true(fabs(n3 / N) < 5 * se * sqrt(15.0));     /* skewness 0 */
    assert_true(fabs(n4 / N - 3) < 5 * se * sqrt(96.0)); /* kurtosis 3 */
}

static void test_rng_below_shuffle(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 1);
    assert_true(cl_rng_below(&r, 1) == 0);
    /* chi-square of 70000 draws over 7 bins; df 6, 0.999 quantile 22.46 */
    long bins[7] = {0};
    for (int i = 0; i < 70000; i++)
        bins[cl_rng_below(&r, 7)]++;
    double chi = 0;
    for (int k = 0; k < 7; k++)
        chi += (bins[k] - 10000.0) * (bins[k] - 10000.0) / 10000.0;
    assert_true(chi < 22.46);
    /* a huge n just below 2^64 stays in range */
    for (int i = 0; i < 100; i++)
        assert_true(cl_rng_below(&r, UINT64_MAX - 1) < UINT64_MAX - 1);
    /* shuffles are permutations, and all 6 orders of 3 items are equally likely */
    long perms[6] = {0};
    for (int t = 0; t < 60000; t++) {
        uint32_t idx[3] = {0, 1, 2};
        cl_rng_shuffle(&r, idx, 3);
        assert_true(idx[0] + idx[1] + idx[2] == 3 && idx[0] != idx[1] && idx[1] != idx[2] &&
                    idx[0] != idx[2]);
        perms[idx[0] * 2 + (idx[1] > idx[2])]++;
    }
    chi = 0;
    for (int k = 0; k < 6; k++)
        chi += (perms[k] - 10000.0) * (perms[k] - 10000.0) / 10000.0;
    assert_true(chi < 20.52); /* df 5, 0.999 */
    cl_rng_shuffle(&r, NULL, 0);
}

/* ---- params ------------------------------------------------------------------------- */

typedef struct demo_params {
    int trees;
    double lr;
    int verbose;
    int loss;
    cl_param_ints hidden;
    uint64_t seed;
} demo_params;

static const cl_param_def demo_defs[] = {
    {"trees", CL_PARAM_INT, offsetof(demo_params, trees), 100, 1, 10000, NULL, "rounds"},
    {"lr", CL_PARAM_NUM, offsetof(demo_params, lr), 0.1, 1e-6, 1, NULL, "learning rate"},
    {"verbose", CL_PARAM_BOOL, offsetof(demo_params, verbose), 0, 0, 1, NULL, "talk"},
    {"loss", CL_PARAM_ENUM, offsetof(demo_params, loss), 1, 0, 0, "squared|logistic|hinge",
     "loss"},
    {"hidden", CL_PARAM_INTS, offsetof(demo_params, hidden), 32, 1, 4096, NULL, "layers"},
    {"seed", CL_PARAM_SEED, offsetof(demo_params, seed), 42, 0, 0, NULL, "seed"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

static void test_params(void **state)
{
    (void)state;
    demo_params p;
    memset(&p, 0, sizeof p);
    cl_param_defaults(demo_defs, &p);
    assert_int_equal(p.trees, 100);
    assert_true(p.lr == 0.1);
    assert_int_equal(p.loss, 1);
    assert_true(p.seed == 42);
    assert_int_equal(cl_param_validate(demo_defs, &p, "demo"), CL_OK);

    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "trees", 300), CL_OK);
    assert_int_equal(p.trees, 300);
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "tres", 3), CL_EINVAL);
    assert_string_equal(cl_error_last(), "demo: unknown parameter 'tres' (did you mean "
                                         "'trees'? known: trees, lr, "
                                         "verbose, loss, hidden, seed)");
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "trees", 0), CL_EINVAL);
    assert_string_equal(cl_error_last(), "demo: parameter 'trees' must be in [1, 10000], got 0");
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "trees", 2.5), CL_EINVAL);
    assert_msg("'trees' must be an integer, got 2.5");
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "lr", NAN), CL_EINVAL);
    assert_msg("'lr' must be in [1e-06, 1], got nan");
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "verbose", 2), CL_EINVAL);
    assert_msg("'verbose' must be a boolean");
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "seed", -1), CL_EINVAL);
    assert_msg("'seed' must be an integer in [0, 2^53]");
    assert_int_equal(cl_param_set_num(demo_defs, &p, "demo", "loss", 1), CL_EINVAL);
    assert_msg("'loss' must be one of squared|logistic|hinge, got a number");
    assert_int_equal(p.trees, 300); /* failed sets leave the value alone */

    assert_int_equal(cl_param_set_str(demo_defs, &p, "demo", "loss", "hinge"), CL_OK);
    assert_int_equal(p.loss, 2);
    assert_int_equal(cl_param_set_str(demo_defs, &p, "demo", "loss", "hing"), CL_EINVAL);
    assert_string_equal(cl_error_last(),
                        "demo: parameter 'loss' must be one of squared|logistic|hinge, got 'hing'");
    assert_int_equal(cl_param_set_str(demo_defs, &p, "demo", "lr", "fast"), CL_EINVAL);
    assert_msg("'lr' expects a number, got string 'fast'");

    int h[] = {64, 32};
    assert_int_equal(cl_param_set_ints(demo_defs, &p, "demo", "hidden", h, 2), CL_OK);
    assert_int_equal(p.hidden.n, 2);
    assert_int_equal(p.hidden.v[1], 32);
    int bad[] = {64, 0};
    assert_int_equal(cl_param_set_ints(demo_defs, &p, "demo", "hidden", bad, 2), CL_EINVAL);
    assert_msg("'hidden' must be in [1, 4096], got 0");
    assert_int_equal(cl_param_set_ints(demo_defs, &p, "demo", "hidden", h, 17), CL_EINVAL);
    assert_msg("takes at most 16 values, got 17");
    assert_int_equal(cl_param_set_ints(demo_defs, &p, "demo", "trees", h, 1), CL_EINVAL);
    assert_msg("'trees' is not a list");

    char buf[64];
    cl_param_format(cl_param_find(demo_defs, "hidden"), &p, buf, sizeof buf);
    assert_string_equal(buf, "{64, 32}");
    cl_param_format(cl_param_find(demo_defs, "loss"), &p, buf, sizeof buf);
    assert_string_equal(buf, "hinge");
    cl_param_format(cl_param_find(demo_defs, "lr"), &p, buf, sizeof buf);
    assert_string_equal(buf, "0.1");
    char tiny[4];
    cl_param_format(cl_param_find(demo_defs, "hidden"), &p, tiny, sizeof tiny);
    assert_true(strlen(tiny) < sizeof tiny);

    /* validate catches structs filled in C */
    p.lr = 5;
    assert_int_equal(cl_param_validate(demo_defs, &p, "demo"), CL_EINVAL);
    assert_msg("'lr' must be in [1e-06, 1], got 5");
    p.lr = 0.5;
    p.loss = 7;
    assert_int_equal(cl_param_validate(demo_defs, &p, "demo"), CL_EINVAL);
    assert_msg("'loss' has an invalid choice 7");
    p.loss = 0;
    assert_int_equal(cl_param_validate(demo_defs, &p, "demo"), CL_OK);
}

/* ---- file I/O ----------------------------------------------------------------------- */

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/churnlab-test-core-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static int count_files(void)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", tmpdir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    if (p) {
        if (fscanf(p, "%d", &n) != 1)
            n = -1;
        pclose(p);
    }
    return n;
}

static void test_crc32(void **state)
{
    (void)state;
    /* the CRC-32/IEEE check value */
    assert_true(cl_fileio_crc32(0, "123456789", 9) == 0xCBF43926u);
    assert_true(cl_fileio_crc32(0, "", 0) == 0);
    /* incremental = one shot */
    uint32_t c = cl_fileio_crc32(0, "12345", 5);
    assert_true(cl_fileio_crc32(c, "6789", 4) == 0xCBF43926u);
}

static void test_atomic_write(void **state)
{
    (void)state;
    char path[320];
    snprintf(path, sizeof path, "%s/model.bin", tmpdir);
    assert_int_equal(cl_fileio_write_atomic(path, "old contents", 12), CL_OK);
    char *buf;
    size_t len;
    assert_int_equal(cl_fileio_read(path, 1000, &buf, &len), CL_OK);
    assert_int_equal(len, 12);
    assert_string_equal(buf, "old contents"); /* NUL terminated */
    cl_alloc_free(buf);

    /* an aborted streaming write leaves the old file and no temp file */
    cl_atomic_file a;
    assert_int_equal(cl_fileio_atomic_open(&a, path), CL_OK);
    fputs("half of a new fi", a.fp);
    cl_fileio_atomic_abort(&a);
    assert_int_equal(cl_fileio_read(path, 1000, &buf, &len), CL_OK);
    assert_string_equal(buf, "old contents");
    cl_alloc_free(buf);
    assert_int_equal(count_files(), 1);

    /* while a write is open the target still holds the old contents */
    assert_int_equal(cl_fileio_atomic_open(&a, path), CL_OK);
    fputs("new contents", a.fp);
    fflush(a.fp);
    assert_int_equal(cl_fileio_read(path, 1000, &buf, &len), CL_OK);
    assert_string_equal(buf, "old contents");
    cl_alloc_free(buf);
    assert_int_equal(cl_fileio_atomic_commit(&a), CL_OK);
    assert_int_equal(cl_fileio_read(path, 1000, &buf, &len), CL_OK);
    assert_string_equal(buf, "new contents");
    cl_alloc_free(buf);
    assert_int_equal(count_files(), 1);

    /* errors name the file */
    assert_int_equal(cl_fileio_read(path, 5, &buf, &len), CL_ERANGE);
    assert_msg("more than the limit of 5");
    char missing[340];
    snprintf(missing, sizeof missing, "%s/nope/x.bin", tmpdir);
    assert_int_equal(cl_fileio_read(missing, 10, &buf, &len), CL_EIO);
    assert_msg("cannot open");
    assert_null(buf);
    assert_int_equal(cl_fileio_read(tmpdir, 10, &buf, &len), CL_EIO);
    assert_msg("not a regular file");
    assert_int_equal(count_files(), 1);
    /* a folder under a regular file cannot be made: the message names it */
    char under[340];
    snprintf(under, sizeof under, "%s/model.bin/sub/y.bin", tmpdir);
    assert_int_equal(cl_fileio_write_atomic(under, "x", 1), CL_EIO);
    assert_msg("cannot create folder");
    assert_msg("model.bin");
    assert_int_equal(count_files(), 1);

    /* missing folders are created (mkdir -p), so "models/m.clm" saves in a fresh checkout */
    snprintf(missing, sizeof missing, "%s/nope//deeper/x.bin", tmpdir);
    assert_int_equal(cl_fileio_write_atomic(missing, "x", 1), CL_OK);
    assert_int_equal(cl_fileio_read(missing, 10, &buf, &len), CL_OK);
    assert_string_equal(buf, "x");
    cl_alloc_free(buf);
    assert_int_equal(cl_fileio_mkdirs(tmpdir), CL_OK); /* an existing folder is fine */
    assert_int_equal(cl_fileio_mkdirs(path), CL_EIO);  /* a file is not */
    assert_msg("a file of that name exists");
    assert_int_equal(count_files(), 2);

    /* an empty file round-trips */
    assert_int_equal(cl_fileio_write_atomic(path, "", 0), CL_OK);
    assert_int_equal(cl_fileio_read(path, 10, &buf, &len), CL_OK);
    assert_int_equal(len, 0);
    cl_alloc_free(buf);
}

static void test_threads(void **state)
{
    (void)state;
    int n = cl_threads_get();
    assert_true(n >= 1);
    assert_int_equal(cl_threads_set(2), CL_OK);
    assert_int_equal(cl_threads_get(), 2);
    assert_int_equal(cl_threads_set(-1), CL_EINVAL);
    assert_msg("expected 0 (default) or 1..1024, got -1");
    assert_int_equal(cl_threads_get(), 2);
    assert_int_equal(cl_threads_set(0), CL_OK);
    assert_int_equal(cl_threads_get(), n);
}

/* The text buffer: appends across many growth steps equal one snprintf of the whole; an
 * allocation failure is sticky (later appends are ignored) and take() then returns NULL. */
static void test_strbuf(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    cl_strbuf b = {0};
    char *empty = cl_strbuf_take(&b);
    assert_non_null(empty);
    assert_string_equal(empty, "");
    cl_alloc_free(empty);

    char want[8192];
    size_t wl = 0;
    for (int i = 0; i < 600; i++) {
        const char *piece = i % 7 ? "x" : "a-longer-piece";
        cl_strbuf_printf(&b, "%d:%s,", i, piece);
        wl += (size_t)snprintf(want + wl, sizeof want - wl, "%d:%s,", i, piece);
    }
    assert_int_equal(b.err, CL_OK);
    assert_int_equal(b.len, wl);
    char *got = cl_strbuf_take(&b);
    assert_string_equal(got, want);
    assert_null(b.s);
    cl_alloc_free(got);

    cl_strbuf c = {0};
    cl_strbuf_printf(&c, "first");
    cl_alloc_fail_at(1);
    char big[600];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    cl_strbuf_printf(&c, "%s", big); /* needs to grow: fails */
    cl_alloc_fail_at(0);
    assert_int_equal(c.err, CL_ENOMEM);
    cl_strbuf_printf(&c, "ignored");
    assert_int_equal(c.len, 5);
    assert_null(cl_strbuf_take(&c));
    cl_strbuf_free(&c);
    assert_int_equal(cl_alloc_bytes(), base);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_alloc),
        cmocka_unit_test(test_alloc_fail_hook),
        cmocka_unit_test(test_rng_vector),
        cmocka_unit_test(test_rng_determinism),
        cmocka_unit_test(test_rng_split),
        cmocka_unit_test(test_rng_moments),
        cmocka_unit_test(test_rng_below_shuffle),
        cmocka_unit_test(test_params),
        cmocka_unit_test(test_crc32),
        cmocka_unit_test_setup_teardown(test_atomic_write, setup_dir, teardown_dir),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_strbuf),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
