/* test_modelio.c - the model container: round trips of every chunk type, prefixes, getter
 * errors (missing, wrong type, wrong length, range), version and kind checks, and corruption:
 * every truncation and every single-byte flip of a small file is rejected without a crash or
 * a leak; a golden byte layout pins the format. */
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

static const uint8_t U8[] = {0, 1, 255};
static const int32_t I32[] = {INT32_MIN, -1, 0, INT32_MAX};
static const int64_t I64[] = {INT64_MIN, 42, INT64_MAX};
static const double F64[] = {-0.0, 1e-310, 3.141592653589793, 1e308};
static const char *const STRS[] = {"tenure", "", "monthly charges", "caf\xc3\xa9"};

/* A file with every chunk type, including NaN/inf floats and empty chunks. */
static cl_mw *full_writer(void)
{
    float f32[] = {1.5f, -2.0f, NAN, INFINITY, -INFINITY, 1e-45f};
    cl_mw *w = cl_modelio_w_new("gbdt");
    assert_non_null(w);
    cl_modelio_w_u8(w, "u8", U8, 3);
    cl_modelio_w_i32(w, "i32", I32, 4);
    cl_modelio_w_i64(w, "i64", I64, 3);
    cl_modelio_w_f32(w, "f32", f32, 6);
    cl_modelio_w_f64(w, "f64", F64, 4);
    cl_modelio_w_strs(w, "names", STRS, 4);
    cl_modelio_w_f32(w, "empty", NULL, 0);
    cl_modelio_w_int(w, "depth", 6);
    cl_modelio_w_num(w, "lr", 0.05);
    cl_modelio_w_str(w, "objective", "logistic");
    cl_modelio_w_prefix(w, "pipeline.");
    cl_modelio_w_int(w, "depth", 99);
    cl_modelio_w_strs(w, "cols", STRS, 2);
    assert_int_equal(cl_modelio_w_prefix(w, NULL), CL_OK);
    cl_modelio_w_int(w, "after", 1);
    return w;
}

static cl_mr *open_buf(const void *buf, size_t len)
{
    cl_mr *r;
    int rc = cl_modelio_r_from_buffer(&r, buf, len, "test.clm");
    if (rc)
        fail_msg("open: %s", cl_error_last());
    return r;
}

static void test_round_trip(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    cl_mw *w = full_writer();
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r = open_buf(buf, len);
    assert_string_equal(cl_modelio_r_kind(r), "gbdt");
    assert_int_equal(cl_modelio_r_version(r), CL_MODEL_VERSION);
    assert_int_equal(cl_modelio_r_expect_kind(r, "gbdt"), CL_OK);

    uint8_t u8[3];
    int32_t i32[4];
    int64_t i64[3], v;
    float f32[6];
    double f64[4], d;
    assert_int_equal(cl_modelio_r_u8(r, "u8", u8, 3), CL_OK);
    assert_memory_equal(u8, U8, sizeof U8);
    assert_int_equal(cl_modelio_r_i32(r, "i32", i32, 4), CL_OK);
    assert_memory_equal(i32, I32, sizeof I32);
    assert_int_equal(cl_modelio_r_i64(r, "i64", i64, 3), CL_OK);
    assert_memory_equal(i64, I64, sizeof I64);
    assert_int_equal(cl_modelio_r_f32(r, "f32", f32, 6), CL_OK);
    assert_true(f32[0] == 1.5f && f32[1] == -2.0f && isnan(f32[2]) && f32[3] == INFINITY &&
                f32[4] == -INFINITY && f32[5] == 1e-45f);
    assert_int_equal(cl_modelio_r_f64(r, "f64", f64, 4), CL_OK);
    assert_memory_equal(f64, F64, sizeof F64); /* bit exact, -0.0 and subnormals included */
    char *s[4];
    assert_int_equal(cl_modelio_r_strs(r, "names", s, 4), CL_OK);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(s[i], STRS[i]);
        cl_alloc_free(s[i]);
    }
    size_t n;
    assert_int_equal(cl_modelio_r_count(r, "empty", CL_CHUNK_F32, &n), CL_OK);
    assert_int_equal(n, 0);
    assert_int_equal(cl_modelio_r_f32(r, "empty", NULL, 0), CL_OK);
    assert_int_equal(cl_modelio_r_int(r, "depth", 1, 10, &v), CL_OK);
    assert_int_equal(v, 6);
    assert_int_equal(cl_modelio_r_num(r, "lr", &d), CL_OK);
    assert_true(d == 0.05);
    char *obj;
    assert_int_equal(cl_modelio_r_str(r, "objective", &obj), CL_OK);
    assert_string_equal(obj, "logistic");
    cl_alloc_free(obj);
    assert_true(cl_modelio_r_has(r, "after"));

    /* prefixes select a namespace on both sides */
    assert_int_equal(cl_modelio_r_prefix(r, "pipeline."), CL_OK);
    assert_int_equal(cl_modelio_r_int(r, "depth", 0, 100, &v), CL_OK);
    assert_int_equal(v, 99);
    assert_false(cl_modelio_r_has(r, "lr"));
    assert_int_equal(cl_modelio_r_count(r, "cols", CL_CHUNK_STR, &n), CL_OK);
    assert_int_equal(n, 2);
    assert_int_equal(cl_modelio_r_prefix(r, ""), CL_OK);
    assert_int_equal(cl_modelio_r_int(r, "depth", 0, 100, &v), CL_OK);
    assert_int_equal(v, 6);

    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
    assert_int_equal(cl_alloc_bytes(), base);
}

static void test_getter_errors(void **state)
{
    (void)state;
    cl_mw *w = full_writer();
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r = open_buf(buf, len);
    int32_t i32[5];
    int64_t v;
    char *s[5];
    assert_int_equal(cl_modelio_r_i32(r, "nope", i32, 4), CL_EFORMAT);
    assert_string_equal(cl_error_last(), "'test.clm': gbdt model is missing field 'nope'");
    assert_int_equal(cl_modelio_r_i32(r, "i64", i32, 3), CL_EFORMAT);
    assert_string_equal(cl_error_last(), "'test.clm': field 'i64' is i64, expected i32");
    assert_int_equal(cl_modelio_r_i32(r, "i32", i32, 5), CL_EFORMAT);
    assert_string_equal(cl_error_last(), "'test.clm': field 'i32' has 4 values, expected 5");
    assert_int_equal(cl_modelio_r_strs(r, "names", s, 5), CL_EFORMAT);
    assert_msg("field 'names' has 4 strings, expected 5");
    assert_int_equal(cl_modelio_r_int(r, "depth", 7, 10, &v), CL_EFORMAT);
    assert_msg("field 'depth' = 6 is outside [7, 10]");
    assert_int_equal(cl_modelio_r_expect_kind(r, "mlp"), CL_EFORMAT);
    assert_string_equal(cl_error_last(), "'test.clm' holds a gbdt model, not a mlp model");
    cl_modelio_r_prefix(r, "pipeline.");
    assert_int_equal(cl_modelio_r_num(r, "lr", NULL), CL_EFORMAT);
    assert_msg("missing field 'pipeline.lr'");
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
}

static void test_writer_errors(void **state)
{
    (void)state;
    assert_null(cl_modelio_w_new(""));
    assert_msg("model kind must be 1..64 bytes");
    char longname[300];
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    cl_mw *w = cl_modelio_w_new("logreg");
    assert_int_equal(cl_modelio_w_int(w, longname, 1), CL_EINVAL);
    assert_msg("must be 1..255 bytes");
    /* sticky: later calls are no-ops and finish reports the first failure */
    assert_int_equal(cl_modelio_w_int(w, "ok", 1), CL_EINVAL);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_EINVAL);
    cl_modelio_w_free(w);
    w = cl_modelio_w_new("logreg");
    assert_int_equal(cl_modelio_w_int(w, "", 1), CL_EINVAL);
    cl_modelio_w_free(w);
    cl_modelio_w_free(NULL);
    cl_modelio_r_free(NULL);
}

/* Recomputes the trailing CRC after a deliberate edit. */
static void fix_crc(unsigned char *b, size_t len)
{
    uint32_t c = cl_fileio_crc32(0, b, len - 4);
    for (int i = 0; i < 4; i++)
        b[len - 4 + (size_t)i] = (unsigned char)(c >> (8 * i));
}

static void test_versions(void **state)
{
    (void)state;
    cl_mw *w = cl_modelio_w_new("mlp");
    cl_modelio_w_int(w, "x", 1);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    unsigned char *b = malloc(len);
    memcpy(b, buf, len);
    cl_mr *r = (cl_mr *)1;
    b[8] = (unsigned char)(CL_MODEL_VERSION + 1);
    fix_crc(b, len);
    assert_int_equal(cl_modelio_r_from_buffer(&r, b, len, "new.clm"), CL_ENOTSUP);
    assert_null(r);
    assert_msg("'new.clm' was written by a newer churnlab (model format 2; this build reads up "
               "to 1): upgrade churnlab to load it");
    b[8] = 0;
    fix_crc(b, len);
    assert_int_equal(cl_modelio_r_from_buffer(&r, b, len, "zero.clm"), CL_EFORMAT);
    assert_msg("format version 0");
    free(b);
    cl_modelio_w_free(w);
}

/* The exact bytes of a tiny file: pins the documented layout (little-endian, CRC trailer). */
static void test_golden_layout(void **state)
{
    (void)state;
    cl_mw *w = cl_modelio_w_new("k");
    int32_t one = 1;
    cl_modelio_w_i32(w, "a", &one, 1);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    const unsigned char want[] = {
        0x89, 'C', 'L', 'M', '\r', '\n', 0x1a, '\n', /* magic */
        1, 0, 0, 0,                                  /* version */
        1, 0, 0, 0, 'k',                             /* kind */
        1, 0, 0, 0,                                  /* chunk count */
        1, 0, 'a', 2, 1, 0, 0, 0, 0, 0, 0, 0,        /* name, type i32, count 1 */
        1, 0, 0, 0};                                 /* payload */
    assert_int_equal(len, sizeof want + 4);
    assert_memory_equal(buf, want, sizeof want);
    uint32_t crc = cl_fileio_crc32(0, want, sizeof want);
    const unsigned char *b = buf;
    assert_true((uint32_t)(b[len - 4] | b[len - 3] << 8 | b[len - 2] << 16 |
                           (uint32_t)b[len - 1] << 24) == crc);
    cl_modelio_w_free(w);
}

/* Every prefix of the file and every single-byte change (three patterns per byte) is
 * rejected cleanly: a status, a message naming the origin, nothing leaked. */
static void test_corruption(void **state)
{
    (void)state;
    cl_mw *w = cl_modelio_w_new("tree");
    float f[] = {1, 2, 3};
    cl_modelio_w_f32(w, "w", f, 3);
    cl_modelio_w_str(w, "s", "ab");
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    size_t base = cl_alloc_bytes();
    unsigned char *b = malloc(len);
    cl_mr *r;
    for (size_t cut = 0; cut < len; cut++) {
        memcpy(b, buf, len);
        int rc = cl_modelio_r_from_buffer(&r, b, cut, "cut.clm");
        if (rc == CL_OK)
            fail_msg("a file truncated to %zu of %zu bytes was accepted", cut, len);
        assert_null(r);
        assert_msg("cut.clm");
        assert_int_equal(cl_alloc_bytes(), base);
    }
    const unsigned char xors[] = {0x01, 0x80, 0xff};
    for (size_t at = 0; at < len; at++)
        for (int k = 0; k < 3; k++) {
            memcpy(b, buf, len);
            b[at] ^= xors[k];
            int rc = cl_modelio_r_from_buffer(&r, b, len, "flip.clm");
            if (rc == CL_OK)
                fail_msg("flipping byte %zu with 0x%02x was accepted", at, xors[k]);
            assert_true(rc == CL_EFORMAT || rc == CL_ENOTSUP);
            assert_msg("flip.clm");
            assert_int_equal(cl_alloc_bytes(), base);
        }
    /* structural damage behind a valid CRC (what a buggy writer could produce): the parser
     * itself must reject it, flip by flip */
    for (size_t at = 8; at + 4 < len; at++)
        for (int k = 0; k < 3; k++) {
            memcpy(b, buf, len);
            b[at] ^= xors[k];
            fix_crc(b, len);
            if (cl_modelio_r_from_buffer(&r, b, len, "crc-ok.clm") == CL_OK) {
                /* some flips are legal (a payload value, a name letter): the reader must
                 * still be internally consistent */
                size_t n;
                char *s;
                if (cl_modelio_r_count(r, "s", CL_CHUNK_STR, &n) == CL_OK && n == 1 &&
                    cl_modelio_r_str(r, "s", &s) == CL_OK)
                    cl_alloc_free(s);
                cl_modelio_r_free(r);
            }
            assert_int_equal(cl_alloc_bytes(), base);
        }
    /* garbage and empty input */
    assert_int_equal(cl_modelio_r_from_buffer(&r, "hello world, not a model", 24, "g.clm"), CL_EFORMAT);
    assert_msg("wrong magic number");
    assert_int_equal(cl_modelio_r_from_buffer(&r, "", 0, "e.clm"), CL_EFORMAT);
    free(b);
    cl_modelio_w_free(w);
}

static void test_files(void **state)
{
    (void)state;
    char dir[] = "/tmp/churnlab-test-modelio-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128], kind[80];
    snprintf(path, sizeof path, "%s/m.clm", dir);
    cl_mw *w = full_writer();
    assert_int_equal(cl_modelio_w_save(w, path), CL_OK);
    cl_modelio_w_free(w);
    assert_int_equal(cl_modelio_r_peek_kind(path, kind, sizeof kind), CL_OK);
    assert_string_equal(kind, "gbdt");
    cl_mr *r;
    assert_int_equal(cl_modelio_r_open(&r, path), CL_OK);
    int64_t v;
    assert_int_equal(cl_modelio_r_int(r, "depth", 0, 10, &v), CL_OK);
    assert_int_equal(v, 6);
    cl_modelio_r_free(r);
    /* a truncated file on disk */
    FILE *fp = fopen(path, "r+b");
    assert_non_null(fp);
    assert_int_equal(ftruncate(fileno(fp), 20), 0);
    fclose(fp);
    assert_int_equal(cl_modelio_r_open(&r, path), CL_EFORMAT);
    assert_msg("m.clm");
    snprintf(path, sizeof path, "%s/missing.clm", dir);
    assert_int_equal(cl_modelio_r_open(&r, path), CL_EIO);
    assert_msg("missing.clm");
    assert_int_equal(cl_modelio_r_peek_kind(path, kind, sizeof kind), CL_EIO);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    cl_mw *w0 = full_writer();
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w0, &buf, &len), CL_OK);
    size_t base = cl_alloc_bytes();
    for (long n = 1;; n++) {
        cl_alloc_fail_at(n);
        cl_mr *r;
        int rc = cl_modelio_r_from_buffer(&r, buf, len, "a.clm");
        char *s[4] = {NULL};
        if (rc == CL_OK)
            rc = cl_modelio_r_strs(r, "names", s, 4);
        long made = cl_alloc_count();
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            for (int i = 0; i < 4; i++)
                cl_alloc_free(s[i]);
            cl_modelio_r_free(r);
        } else {
            assert_int_equal(rc, CL_ENOMEM);
            if (r)
                cl_modelio_r_free(r);
        }
        assert_int_equal(cl_alloc_bytes(), base);
        if (rc == CL_OK) {
            assert_true(made < n);
            break;
        }
    }
    cl_modelio_w_free(w0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),   cmocka_unit_test(test_getter_errors),
        cmocka_unit_test(test_writer_errors), cmocka_unit_test(test_versions),
        cmocka_unit_test(test_golden_layout), cmocka_unit_test(test_corruption),
        cmocka_unit_test(test_files),        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
