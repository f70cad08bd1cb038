/* test_pipeline.c - the preprocessing pipeline: every imputer, encoder and scaler against values
 * computed by hand here; unknown categories, max_categories, one-row frames and type
 * drift; the output-column sources; targets; save/load round trips (through a buffer and a
 * file, with a model-style prefix) and corrupted files; an allocation-failure sweep. */
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
#include "modelfile_edit.h"
#include "core/lib/refit.h"

/* A frame of n rows: x (num), c (cat) and the target y (cat). */
static cl_frame *frame_of(const double *x, const char *const *c, const char *const *y, int64_t n)
{
    cl_frame *f;
    cl_column *a, *b, *t;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    assert_int_equal(cl_frame_column_from_doubles(&a, x, n), CL_OK);
    assert_int_equal(cl_frame_column_from_strings(&b, c, n), CL_OK);
    assert_int_equal(cl_frame_column_from_strings(&t, y, n), CL_OK);
    assert_int_equal(cl_frame_set(f, "x", a), CL_OK);
    assert_int_equal(cl_frame_set(f, "c", b), CL_OK);
    assert_int_equal(cl_frame_set(f, "y", t), CL_OK);
    cl_frame_column_free(a);
    cl_frame_column_free(b);
    cl_frame_column_free(t);
    return f;
}

/* x: 1, 2, NaN, 5, 2; c: b, a, NULL, b, c; y: No Yes No Yes No */
static cl_frame *small(void)
{
    const double x[] = {1, 2, NAN, 5, 2};
    const char *const c[] = {"b", "a", NULL, "b", "c"};
    const char *const y[] = {"No", "Yes", "No", "Yes", "No"};
    return frame_of(x, c, y, 5);
}

static cl_pipeline_opts opts(void)
{
    cl_pipeline_opts o;
    cl_pipeline_opts_default(&o);
    o.target = "y";
    o.positive = "Yes";
    return o;
}

/* A pipeline with options o fitted on f, or NULL with the status (new + fit). */
static int pipe_fit_new(cl_pipeline **out, const cl_frame *f, const cl_pipeline_opts *o)
{
    int rc = cl_pipeline_new(out, o);
    if (!rc && (rc = cl_pipeline_fit(*out, f))) {
        cl_pipeline_free(*out);
        *out = NULL;
    }
    return rc;
}

static int pipe_fit_transform_new(cl_pipeline **out, const cl_frame *f, const cl_pipeline_opts *o,
                                  cl_tensor **X, cl_tensor **y)
{
    *X = NULL;
    int rc = cl_pipeline_new(out, o);
    if (!rc && (rc = cl_pipeline_fit_transform(*out, f, X, y))) {
        cl_pipeline_free(*out);
        *out = NULL;
    }
    return rc;
}

static float X_at(const cl_tensor *X, int64_t i, int64_t j)
{
    float v;
    assert_int_equal(cl_tensor_get(X, i, j, &v), CL_OK);
    return v;
}

static void fit_transform(const cl_frame *f, const cl_pipeline_opts *o, cl_pipeline **p,
                          cl_tensor **X, cl_tensor **y)
{
    if (pipe_fit_new(p, f, o) != CL_OK)
        fail_msg("fit: %s", cl_error_last());
    if (cl_pipeline_transform(*p, f, X, y) != CL_OK)
        fail_msg("transform: %s", cl_error_last());
}

static void test_impute_scale(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    /* median of {1, 2, 5, 2} = 2; mean = 2.5; most frequent = 2; constant = 7 */
    const struct {
        cl_impute imp;
        double want;
    } cases[] = {{CL_IMPUTE_MEDIAN, 2}, {CL_IMPUTE_MEAN, 2.5}, {CL_IMPUTE_MOST_FREQUENT, 2},
                 {CL_IMPUTE_CONSTANT, 7}};
    for (size_t k = 0; k < 4; k++) {
        o.impute = cases[k].imp;
        o.fill_value = 7;
        cl_pipeline *p;
        cl_tensor *X, *y;
        fit_transform(f, &o, &p, &X, &y);
        assert_true(X_at(X, 2, 0) == (float)cases[k].want);
        assert_true(X_at(X, 0, 0) == 1);
        cl_pipeline_free(p);
        cl_tensor_free(X);
        cl_tensor_free(y);
    }
    /* minmax after median imputation: (x - 1) / 4 */
    o.impute = CL_IMPUTE_MEDIAN;
    o.scale = CL_SCALE_MINMAX;
    cl_pipeline *p;
    cl_tensor *X, *y;
    fit_transform(f, &o, &p, &X, &y);
    const double xs[] = {1, 2, 2, 5, 2};
    for (int i = 0; i < 5; i++)
        assert_true(fabsf(X_at(X, i, 0) - (float)((xs[i] - 1) / 4)) < 1e-7f);
    cl_pipeline_free(p);
    cl_tensor_free(X);
    cl_tensor_free(y);
    /* standard: population sd of the imputed values */
    o.scale = CL_SCALE_STANDARD;
    fit_transform(f, &o, &p, &X, &y);
    double m = 12.0 / 5, ss = 0;
    for (int i = 0; i < 5; i++)
        ss += (xs[i] - m) * (xs[i] - m);
    double sd = sqrt(ss / 5);
    for (int i = 0; i < 5; i++)
        assert_true(fabsf(X_at(X, i, 0) - (float)((xs[i] - m) / sd)) < 1e-6f);
    cl_pipeline_free(p);
    cl_tensor_free(X);
    cl_tensor_free(y);
    /* impute none keeps NaN */
    o.impute = CL_IMPUTE_NONE;
    o.scale = CL_SCALE_NONE;
    fit_transform(f, &o, &p, &X, &y);
    assert_true(isnan(X_at(X, 2, 0)));
    cl_pipeline_free(p);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_frame_free(f);
}

static void test_onehot_and_sources(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    cl_pipeline *p;
    cl_tensor *X, *y;
    fit_transform(f, &o, &p, &X, &y);
    /* x, c=a, c=b, c=c (sorted labels); missing c -> most frequent (b) */
    assert_int_equal(cl_pipeline_n_features(p), 4);
    assert_string_equal(cl_pipeline_feature_name(p, 1), "c=a");
    assert_string_equal(cl_pipeline_feature_name(p, 3), "c=c");
    const char *srccol, *lab;
    cl_pipeline_source(p, 2, &srccol, &lab);
    assert_string_equal(srccol, "c");
    assert_string_equal(lab, "b");
    cl_pipeline_source(p, 0, &srccol, &lab);
    assert_string_equal(srccol, "x");
    assert_null(lab);
    const char *c[] = {"b", "a", "b", "b", "c"};
    for (int i = 0; i < 5; i++)
        for (int k = 0; k < 3; k++)
            assert_true(X_at(X, i, 1 + k) == (c[i][0] - 'a' == k ? 1.0f : 0.0f));
    const float ys[] = {0, 1, 0, 1, 0};
    for (int i = 0; i < 5; i++)
        assert_true(X_at(y, i, 0) == ys[i]);
    assert_int_equal(cl_pipeline_out_categorical(p, 1, NULL), 0);
    cl_tensor_free(X);
    cl_tensor_free(y);
    /* unknown category and a one-row frame: same columns, all zeros for c */
    const char *nc[] = {"zzz"};
    double nx[] = {3};
    cl_frame *one;
    cl_column *a, *b;
    assert_int_equal(cl_frame_new(&one), CL_OK);
    assert_int_equal(cl_frame_column_from_doubles(&a, nx, 1), CL_OK);
    assert_int_equal(cl_frame_column_from_strings(&b, nc, 1), CL_OK);
    assert_int_equal(cl_frame_set(one, "c", b), CL_OK); /* other column order */
    assert_int_equal(cl_frame_set(one, "x", a), CL_OK);
    assert_int_equal(cl_pipeline_transform(p, one, &X, &y), CL_OK);
    assert_null(y); /* no target column: scoring */
    assert_int_equal(cl_tensor_cols(X), 4);
    assert_true(X_at(X, 0, 0) == 3);
    for (int k = 1; k < 4; k++)
        assert_true(X_at(X, 0, k) == 0);
    cl_tensor_free(X);
    /* a cat column met as num is converted by its text */
    cl_column *cnum;
    double cv[] = {1};
    assert_int_equal(cl_frame_column_from_doubles(&cnum, cv, 1), CL_OK);
    assert_int_equal(cl_frame_set(one, "c", cnum), CL_OK);
    assert_int_equal(cl_pipeline_transform(p, one, &X, NULL), CL_OK);
    cl_tensor_free(X);
    cl_frame_column_free(a);
    cl_frame_column_free(b);
    cl_frame_column_free(cnum);
    cl_frame_free(one);
    cl_pipeline_free(p);
    /* unknown = other, max_categories = 1: keeps b (most frequent), others -> (other) */
    o.unknown = CL_UNKNOWN_OTHER;
    o.max_categories = 1;
    o.impute = CL_IMPUTE_NONE;
    fit_transform(f, &o, &p, &X, &y);
    assert_int_equal(cl_pipeline_n_features(p), 3);
    assert_string_equal(cl_pipeline_feature_name(p, 2), "c=(other)");
    assert_true(X_at(X, 0, 1) == 1 && X_at(X, 1, 2) == 1 && X_at(X, 4, 2) == 1);
    assert_true(X_at(X, 2, 1) == 0 && X_at(X, 2, 2) == 0); /* missing, impute none */
    cl_pipeline_source(p, 2, &srccol, &lab);
    assert_string_equal(lab, "(other)");
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

static void test_native_ordinal(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    o.encode = CL_ENCODE_NATIVE;
    o.scale = CL_SCALE_MINMAX;
    cl_pipeline *p;
    cl_tensor *X, *y;
    fit_transform(f, &o, &p, &X, &y);
    assert_int_equal(cl_pipeline_n_features(p), 2);
    int ncat;
    assert_int_equal(cl_pipeline_out_categorical(p, 1, &ncat), 1);
    assert_int_equal(ncat, 3);
    assert_string_equal(cl_pipeline_category(p, 1, 2), "c");
    assert_null(cl_pipeline_category(p, 1, 3));
    const float codes[] = {1, 0, 1, 1, 2}; /* native codes are never scaled */
    for (int i = 0; i < 5; i++)
        assert_true(X_at(X, i, 1) == codes[i]);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_pipeline_free(p);
    o.encode = CL_ENCODE_ORDINAL; /* ordinal codes are scaled like numbers: code / 2 */
    fit_transform(f, &o, &p, &X, &y);
    for (int i = 0; i < 5; i++)
        assert_true(X_at(X, i, 1) == codes[i] / 2);
    assert_int_equal(cl_pipeline_out_categorical(p, 1, NULL), 0);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

static void test_errors(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    cl_pipeline *p;
    o.positive = NULL;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "target 'y' is a cat column: give positive"));
    o.positive = "Maybe";
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "no label 'Maybe'"));
    o = opts();
    o.target = "nope";
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "no column 'nope'"));
    o = opts();
    const char *drop[] = {"zz"};
    o.drop = drop;
    o.ndrop = 1;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "drop"));
    /* num target must be 0/1 */
    o = opts();
    o.target = "x";
    o.positive = NULL;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    cl_tensor *X, *y;
    assert_int_equal(cl_pipeline_transform(p, f, &X, &y), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 2: target 'x' is 2, expected 0 or 1"));
    cl_pipeline_free(p);
    /* missing input column at transform */
    o = opts();
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    cl_frame *g;
    const char *d2[] = {"x"};
    assert_int_equal(cl_frame_drop(&g, f, d2, 1), CL_OK);
    assert_int_equal(cl_pipeline_transform(p, g, &X, &y), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "was fit with column 'x'"));
    cl_frame_free(g);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

static void test_save_load(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    o.scale = CL_SCALE_STANDARD;
    o.unknown = CL_UNKNOWN_OTHER;
    cl_pipeline *p, *q;
    cl_tensor *X, *y, *X2, *y2;
    fit_transform(f, &o, &p, &X, &y);
    /* beside a "model" in one container, under the conventional prefix */
    cl_mw *w = cl_modelio_w_new("logreg");
    assert_non_null(w);
    cl_modelio_w_num(w, "model.bias", 0.5);
    assert_int_equal(cl_pipeline_io_write(p, w, "pipeline."), CL_OK);
    cl_modelio_w_num(w, "model.after", 1); /* the writer's prefix was reset */
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "mem"), CL_OK);
    assert_int_equal(cl_modelio_r_has(r, "model.after"), 1);
    assert_int_equal(cl_pipeline_io_read(r, "pipeline.", &q), CL_OK);
    assert_int_equal(cl_pipeline_transform(q, f, &X2, &y2), CL_OK);
    assert_memory_equal(cl_tensor_data(X), cl_tensor_data(X2), 5 * 5 * sizeof(float));
    assert_memory_equal(cl_tensor_data(y), cl_tensor_data(y2), 5 * sizeof(float));
    for (int j = 0; j < cl_pipeline_n_features(p); j++)
        assert_string_equal(cl_pipeline_feature_name(p, j), cl_pipeline_feature_name(q, j));
    cl_tensor_free(X2);
    cl_tensor_free(y2);
    cl_pipeline_free(q);
    cl_modelio_r_free(r);
    /* every truncation of the pipeline file is refused cleanly */
    cl_mw *w2 = cl_modelio_w_new("pipeline");
    assert_int_equal(cl_pipeline_io_write(p, w2, "pipeline."), CL_OK);
    assert_int_equal(cl_modelio_w_finish(w2, &buf, &len), CL_OK);
    for (size_t cut = 0; cut < len; cut += 7) {
        cl_mr *rr;
        if (cl_modelio_r_from_buffer(&rr, buf, cut, "cut") == CL_OK) {
            cl_pipeline *bad;
            assert_int_not_equal(cl_pipeline_io_read(rr, "pipeline.", &bad), CL_OK);
            cl_modelio_r_free(rr);
        }
    }
    /* standalone file */
    char path[] = "/tmp/cl_test_prep_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cl_pipeline_io_save(p, path), CL_OK);
    char kind[32];
    assert_int_equal(cl_modelio_r_peek_kind(path, kind, sizeof kind), CL_OK);
    assert_string_equal(kind, "pipeline");
    assert_int_equal(cl_pipeline_io_load(&q, path), CL_OK);
    assert_int_equal(cl_pipeline_transform(q, f, &X2, NULL), CL_OK);
    assert_memory_equal(cl_tensor_data(X), cl_tensor_data(X2), 5 * 5 * sizeof(float));
    cl_tensor_free(X2);
    cl_pipeline_free(q);
    unlink(path);
    cl_modelio_w_free(w);
    cl_modelio_w_free(w2);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

static void test_steps_transform_frame(void **state)
{
    (void)state;
    cl_frame *f = small(), *g;
    cl_pipeline_opts o;
    cl_pipeline_opts_default(&o);
    const char *cols[] = {"x", "c"};
    o.columns = cols;
    o.ncolumns = 2;
    o.encode = CL_ENCODE_NONE; /* the imputer step */
    o.impute = CL_IMPUTE_MEAN;
    cl_pipeline *p;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    assert_int_equal(cl_pipeline_n_inputs(p), 2);
    assert_int_equal(cl_pipeline_transform_frame(p, f, &g), CL_OK);
    assert_int_equal(g->ncol, 3);
    assert_true(g->cols[0]->num[2] == 2.5); /* double precision, not float */
    assert_int_equal(g->cols[1]->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(g->cols[1], 2), "b");
    assert_ptr_equal(g->cols[2], f->cols[2]); /* y passes through, shared */
    cl_frame_free(g);
    cl_tensor *X;
    assert_int_equal(cl_pipeline_transform(p, f, &X, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "stays categorical"));
    /* survives save/load */
    cl_mw *w = cl_modelio_w_new("pipeline");
    assert_int_equal(cl_pipeline_io_write(p, w, "pipeline."), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    cl_pipeline *q;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "mem"), CL_OK);
    assert_int_equal(cl_pipeline_io_read(r, "pipeline.", &q), CL_OK);
    assert_int_equal(cl_pipeline_transform_frame(q, f, &g), CL_OK);
    assert_string_equal(cl_frame_column_label(g->cols[1], 2), "b");
    cl_frame_free(g);
    cl_pipeline_free(q);
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
    cl_pipeline_free(p);
    /* one-hot step: 0/1 columns in place of c */
    o.encode = CL_ENCODE_ONEHOT;
    o.impute = CL_IMPUTE_NONE;
    const char *c1[] = {"c"};
    o.columns = c1;
    o.ncolumns = 1;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    assert_int_equal(cl_pipeline_transform_frame(p, f, &g), CL_OK);
    assert_int_equal(g->ncol, 5);
    assert_string_equal(g->names[1], "c=a");
    assert_true(g->cols[1]->num[1] == 1 && g->cols[2]->num[0] == 1 && g->cols[3]->num[4] == 1);
    assert_true(g->cols[1]->num[2] + g->cols[2]->num[2] + g->cols[3]->num[2] == 0);
    cl_frame_free(g);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    o.scale = CL_SCALE_MINMAX;
    size_t base = cl_alloc_bytes();
    int ok = 0;
    for (long n = 1; n < 400 && !ok; n++) {
        cl_pipeline *p = NULL;
        cl_tensor *X = NULL, *y = NULL;
        cl_alloc_fail_at(n);
        int rc = pipe_fit_new(&p, f, &o);
        if (rc == CL_OK)
            rc = cl_pipeline_transform(p, f, &X, &y);
        cl_alloc_fail_at(0);
        if (rc == CL_OK)
            ok = 1;
        else
            assert_int_equal(rc, CL_ENOMEM);
        cl_tensor_free(X);
        cl_tensor_free(y);
        cl_pipeline_free(p);
        assert_int_equal(cl_alloc_bytes(), base);
    }
    assert_true(ok);
    cl_frame_free(f);
}

/* Pipeline files that pass the CRC but not the semantics (issue 22): one field edited inside
 * its chunk, the CRC recomputed. The first is the reported crash: has_positive flipped to 0
 * for a cat target made transform dereference NULL. Each must be refused at load. */
static cl_frame *te_frame(void);

typedef struct pipe_edit {
    const char *chunk;
    int index;      /* element to change */
    double value;   /* new value (i64, i32 or f64 chunks) */
    const char *msg; /* in the error */
} pipe_edit;

/* Writes p, applies each edit to a fresh copy and expects cl_pipeline_io_read to refuse it. */
static void expect_refused(const cl_pipeline *p, const pipe_edit *edits, size_t nedit)
{
    cl_mw *w = cl_modelio_w_new("pipeline");
    assert_int_equal(cl_pipeline_io_write(p, w, "pipeline."), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    for (size_t e = 0; e < nedit; e++) {
        uint8_t *b = malloc(len);
        assert_non_null(b);
        memcpy(b, buf, len);
        mfe_chunk ch[64];
        int nc = mfe_parse(b, len, ch, 64);
        assert_true(nc > 0);
        const mfe_chunk *c = mfe_find(ch, nc, edits[e].chunk);
        assert_non_null(c);
        uint8_t *at = b + c->off + (size_t)edits[e].index * mfe_elem(c->type);
        if (c->type == CL_CHUNK_I64)
            mfe_put(at, (uint64_t)(int64_t)edits[e].value, 8);
        else if (c->type == CL_CHUNK_I32)
            mfe_put(at, (uint64_t)(uint32_t)(int32_t)edits[e].value, 4);
        else
            memcpy(at, &edits[e].value, 8);
        mfe_fix_crc(b, len);
        cl_mr *r;
        assert_int_equal(cl_modelio_r_from_buffer(&r, b, len, "p.clm"), CL_OK);
        cl_pipeline *q = NULL;
        int rc = cl_pipeline_io_read(r, "pipeline.", &q);
        if (rc != CL_EFORMAT || !strstr(cl_error_last(), edits[e].msg))
            fail_msg("edit %zu (%s[%d] = %g): status %d, '%s'", e, edits[e].chunk,
                     edits[e].index, edits[e].value, rc, rc ? cl_error_last() : "loaded");
        assert_null(q);
        cl_modelio_r_free(r);
        free(b);
    }
    cl_modelio_w_free(w);
}

static void test_semantic_corruption(void **state)
{
    (void)state;
    cl_frame *f = small();
    cl_pipeline_opts o = opts();
    o.scale = CL_SCALE_STANDARD;
    cl_pipeline *p;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    /* column_ints: per column is_cat, ncat, other, fill_cat; column_nums: fill, shift, mul.
     * Columns: x (num), c (cat). */
    const pipe_edit edits[] = {
        {"pipeline.has_positive", 0, 0, "no positive label"},
        {"pipeline.has_target", 0, 0, "has_target = 0 does not match"},
        {"pipeline.target_is_cat", 0, 0, "positive value 'Yes' is not a number"},
        {"pipeline.column_nums", 0, INFINITY, "fill value inf"},
        {"pipeline.column_nums", 0, NAN, "fill value nan"},
        {"pipeline.column_nums", 2, -1, "scaling shift"},
        {"pipeline.column_nums", 1, NAN, "scaling shift"},
        {"pipeline.column_nums", 5, 3, "not scaled"},
        {"pipeline.column_ints", 0, 2, "expected 0 or 1"},
        {"pipeline.column_ints", 6, 1, "other slot 1 with unknown = zero"},
        {"pipeline.opts", 3, 1, "beyond max_categories"},
        {"pipeline.opts", 0, CL_IMPUTE_NONE, "fill value"},
        {"pipeline.fill_value", 0, NAN, "fill_value = nan is not finite"},
        /* format 1 holds no format 2 value */
        {"pipeline.opts", 1, CL_ENCODE_TARGET, "bad options"},
        {"pipeline.opts", 4, CL_SCALE_ROBUST, "bad options"},
    };
    expect_refused(p, edits, sizeof edits / sizeof *edits);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

/* Format 2's chunks. Columns of te_frame: g (cat), x (num). */
static void test_v2_semantic_corruption(void **state)
{
    (void)state;
    cl_frame *f = te_frame();
    cl_pipeline_opts o = opts();
    o.encode = CL_ENCODE_TARGET;
    o.impute = CL_IMPUTE_NONE;
    o.add_indicator = 1;
    cl_pipeline *p;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    /* target_encodings: g's 4 categories, other (none), missing slot = 5 values, then prior */
    const pipe_edit te_edits[] = {
        {"pipeline.target_encodings", 2, 1.5, "target encoding 3 is 1.5"},
        {"pipeline.target_encodings", 5, NAN, "target encoding 6 is nan"},
        {"pipeline.column_ext", 0, 0, "dropped category 0"},
        {"pipeline.column_ext", 3, 7, "indicator 7"},
        {"pipeline.opts2", 2, 1, "bad options"},
        {"pipeline.opts2", 0, 3, "bad options"},
        {"pipeline.opts2", 1, 0, "do not match onehot_drop"},
    };
    expect_refused(p, te_edits, sizeof te_edits / sizeof *te_edits);
    cl_pipeline_free(p);
    o = opts();
    o.onehot_drop = CL_ONEHOT_DROP_FIRST;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    const pipe_edit oh_edits[] = {
        {"pipeline.column_ext", 0, -1, "do not match onehot_drop = 1"},
        {"pipeline.opts2", 0, CL_ONEHOT_DROP_NONE, "do not match onehot_drop = 0"},
    };
    expect_refused(p, oh_edits, sizeof oh_edits / sizeof *oh_edits);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

/* sklearn's StratifiedKFold(3) on y = 1 0 0 1 0 0 0 1 0 0 gives 0 0 0 1 0 1 1 2 2 2 (printed
 * by scikit-learn 1.2.1; worked by hand: the sorted classes dealt round-robin give fold 0
 * one row of the first class and three of the other, folds 1 and 2 one and two). */
static void test_cv_folds(void **state)
{
    (void)state;
    const float y[10] = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0};
    const int32_t want[10] = {0, 0, 0, 1, 0, 1, 1, 2, 2, 2};
    int32_t fold[10], f2[10];
    assert_int_equal(cl_pipeline_cv_folds(fold, y, 10, 3, 0, 0), CL_OK);
    assert_memory_equal(fold, want, sizeof want);
    /* shuffled: the same number of rows of each class in each fold, other rows, and the same
     * folds for the same seed */
    assert_int_equal(cl_pipeline_cv_folds(fold, y, 10, 3, 1, 7), CL_OK);
    assert_int_equal(cl_pipeline_cv_folds(f2, y, 10, 3, 1, 7), CL_OK);
    assert_memory_equal(fold, f2, sizeof fold);
    int cnt[3][2] = {{0}}, wcnt[3][2] = {{0}}, moved = 0;
    for (int i = 0; i < 10; i++) {
        cnt[fold[i]][y[i] != 0]++;
        wcnt[want[i]][y[i] != 0]++;
        moved += fold[i] != want[i];
    }
    assert_memory_equal(cnt, wcnt, sizeof cnt);
    assert_true(moved > 0);
    assert_int_equal(cl_pipeline_cv_folds(fold, y, 10, 11, 0, 0), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "11 folds of 10 rows"));
    assert_int_equal(cl_pipeline_cv_folds(fold, y, 10, 1, 0, 0), CL_EINVAL);
}

/* 40 rows: g in {a, b, c, d, missing}, y 0/1 */
static cl_frame *te_frame(void)
{
    const char *lab[] = {"a", "b", "c", "d", NULL};
    const char *g[40], *y[40];
    double x[40];
    for (int i = 0; i < 40; i++) {
        g[i] = lab[(i * 7 + i / 5) % 5];
        y[i] = ((i * 13) % 7 < 3 || (g[i] && g[i][0] == 'a' && i % 2)) ? "Yes" : "No";
        x[i] = i % 6 == 0 ? NAN : (double)((i * 17) % 23);
    }
    cl_frame *f;
    cl_column *a, *b, *c;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    assert_int_equal(cl_frame_column_from_strings(&a, g, 40), CL_OK);
    assert_int_equal(cl_frame_column_from_strings(&b, y, 40), CL_OK);
    assert_int_equal(cl_frame_column_from_doubles(&c, x, 40), CL_OK);
    assert_int_equal(cl_frame_set(f, "g", a), CL_OK);
    assert_int_equal(cl_frame_set(f, "x", c), CL_OK);
    assert_int_equal(cl_frame_set(f, "y", b), CL_OK);
    cl_frame_column_free(a);
    cl_frame_column_free(b);
    cl_frame_column_free(c);
    return f;
}

/* Out-of-fold target encoding, shuffled folds: row i of fit_transform equals the encoding a
 * pipeline fitted on the other folds' rows alone gives it (the same sums in the same row
 * order: equal to the bit), for both smoothings. */
static void test_target_oof(void **state)
{
    (void)state;
    cl_frame *f = te_frame();
    for (int sm = 0; sm < 2; sm++) {
        cl_pipeline_opts o = opts();
        o.encode = CL_ENCODE_TARGET;
        o.impute = CL_IMPUTE_NONE;
        o.add_indicator = 1;
        o.cv = 4;
        o.seed = 99;
        o.smooth = sm ? 3.5 : -1;
        cl_pipeline *p;
        cl_tensor *X, *y;
        if (pipe_fit_transform_new(&p, f, &o, &X, &y) != CL_OK)
            fail_msg("%s", cl_error_last());
        assert_int_equal(cl_pipeline_n_features(p), 4); /* g, g=(missing), x, x=(missing) */
        assert_string_equal(cl_pipeline_feature_name(p, 1), "g=(missing)");
        int32_t fold[40];
        assert_int_equal(cl_pipeline_cv_folds(fold, cl_tensor_data(y), 40, 4, 1, 99), CL_OK);
        int differs = 0;
        for (int q = 0; q < 4; q++) {
            int64_t tr[40], te[40], ntr = 0, nte = 0;
            for (int64_t i = 0; i < 40; i++) {
                if (fold[i] == q)
                    te[nte++] = i;
                else
                    tr[ntr++] = i;
            }
            cl_frame *ftr, *fte;
            assert_int_equal(cl_frame_take(&ftr, f, tr, ntr), CL_OK);
            assert_int_equal(cl_frame_take(&fte, f, te, nte), CL_OK);
            cl_pipeline *pq;
            cl_tensor *Xq, *yq;
            fit_transform(ftr, &o, &pq, &Xq, &yq);
            cl_tensor_free(Xq);
            cl_tensor_free(yq);
            assert_int_equal(cl_pipeline_transform(pq, fte, &Xq, NULL), CL_OK);
            for (int64_t k = 0; k < nte; k++)
                assert_true(X_at(X, te[k], 0) == X_at(Xq, k, 0));
            cl_tensor *Xfull;
            assert_int_equal(cl_pipeline_transform(p, fte, &Xfull, NULL), CL_OK);
            for (int64_t k = 0; k < nte; k++) {
                differs += X_at(Xfull, k, 0) != X_at(Xq, k, 0);
                for (int j = 1; j < 4; j++) { /* the other columns: the plain transform */
                    float a = X_at(Xfull, k, j), b = X_at(X, te[k], j);
                    assert_true(a == b || (isnan(a) && isnan(b)));
                }
            }
            cl_tensor_free(Xfull);
            cl_tensor_free(Xq);
            cl_pipeline_free(pq);
            cl_frame_free(ftr);
            cl_frame_free(fte);
        }
        assert_true(differs > 0); /* out of fold is not the full-frame encoding */
        cl_tensor_free(X);
        cl_tensor_free(y);
        cl_pipeline_free(p);
    }
    cl_frame_free(f);
}

/* Format 2 through a buffer: the same transform after reading; a pipeline without format 2
 * features is still written as format 1. */
static void test_v2_round_trip(void **state)
{
    (void)state;
    cl_frame *f = te_frame();
    for (int c = 0; c < 4; c++) {
        cl_pipeline_opts o = opts();
        o.impute = c == 3 ? CL_IMPUTE_NONE : CL_IMPUTE_MEDIAN;
        o.onehot_drop = c == 0 ? CL_ONEHOT_DROP_FIRST : CL_ONEHOT_DROP_IF_BINARY;
        o.add_indicator = c == 1;
        o.scale = c == 2 ? CL_SCALE_ROBUST : CL_SCALE_NONE;
        o.encode = c == 3 ? CL_ENCODE_TARGET : CL_ENCODE_ONEHOT;
        cl_pipeline *p, *q;
        cl_tensor *X, *y, *X2;
        fit_transform(f, &o, &p, &X, &y);
        cl_mw *w = cl_modelio_w_new("pipeline");
        assert_int_equal(cl_pipeline_io_write(p, w, "pipeline."), CL_OK);
        const void *buf;
        size_t len;
        assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
        cl_mr *r;
        assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "mem"), CL_OK);
        int64_t fmt;
        cl_modelio_r_prefix(r, "pipeline.");
        assert_int_equal(cl_modelio_r_int(r, "format", 1, 2, &fmt), CL_OK);
        assert_int_equal(fmt, 2); /* every case uses a format 2 feature */
        cl_modelio_r_prefix(r, NULL);
        if (cl_pipeline_io_read(r, "pipeline.", &q) != CL_OK)
            fail_msg("read %d: %s", c, cl_error_last());
        assert_int_equal(cl_pipeline_transform(q, f, &X2, NULL), CL_OK);
        assert_int_equal(cl_pipeline_n_features(q), cl_pipeline_n_features(p));
        assert_memory_equal(cl_tensor_data(X), cl_tensor_data(X2),
                            40 * (size_t)cl_pipeline_n_features(p) * sizeof(float));
        assert_int_equal(cl_pipeline_options(q)->onehot_drop, o.onehot_drop);
        cl_tensor_free(X);
        cl_tensor_free(X2);
        cl_tensor_free(y);
        cl_modelio_r_free(r);
        cl_modelio_w_free(w);
        cl_pipeline_free(p);
        cl_pipeline_free(q);
    }
    /* none of them: format 1 */
    cl_pipeline_opts o = opts();
    cl_pipeline *p;
    assert_int_equal(pipe_fit_new(&p, f, &o), CL_OK);
    cl_mw *w = cl_modelio_w_new("pipeline");
    assert_int_equal(cl_pipeline_io_write(p, w, "pipeline."), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "mem"), CL_OK);
    int64_t fmt;
    assert_int_equal(cl_modelio_r_int(r, "pipeline.format", 1, 2, &fmt), CL_OK);
    assert_int_equal(fmt, 1);
    assert_int_equal(cl_modelio_r_has(r, "pipeline.column_ext"), 0);
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

static void test_v2_alloc_failures(void **state)
{
    (void)state;
    cl_frame *f = te_frame();
    cl_pipeline_opts o = opts();
    o.encode = CL_ENCODE_TARGET;
    o.impute = CL_IMPUTE_NONE;
    o.add_indicator = 1;
    o.scale = CL_SCALE_ROBUST;
    size_t base = cl_alloc_bytes();
    int ok = 0;
    for (long n = 1; n < 600 && !ok; n++) {
        cl_pipeline *p = NULL, *q = NULL;
        cl_tensor *X = NULL, *y = NULL;
        cl_mw *w = NULL;
        cl_mr *r = NULL;
        cl_alloc_fail_at(n);
        int rc = pipe_fit_transform_new(&p, f, &o, &X, &y);
        if (rc == CL_OK)
            rc = (w = cl_modelio_w_new("pipeline")) ? cl_pipeline_io_write(p, w, "pipeline.") : CL_ENOMEM;
        const void *buf;
        size_t len;
        if (rc == CL_OK)
            rc = cl_modelio_w_finish(w, &buf, &len);
        if (rc == CL_OK)
            rc = cl_modelio_r_from_buffer(&r, buf, len, "mem");
        if (rc == CL_OK)
            rc = cl_pipeline_io_read(r, "pipeline.", &q);
        cl_alloc_fail_at(0);
        if (rc == CL_OK)
            ok = 1;
        else
            assert_int_equal(rc, CL_ENOMEM);
        cl_modelio_r_free(r);
        cl_modelio_w_free(w);
        cl_tensor_free(X);
        cl_tensor_free(y);
        cl_pipeline_free(p);
        cl_pipeline_free(q);
        assert_int_equal(cl_alloc_bytes(), base);
    }
    assert_true(ok);
    cl_frame_free(f);
}

/* The pipeline's model-file chunks: equal bytes are equal fits (every fitted value is there). */
static void same_pipeline(const cl_pipeline *a, const cl_pipeline *b)
{
    cl_mw *wa = cl_modelio_w_new("pipeline"), *wb = cl_modelio_w_new("pipeline");
    assert_non_null(wa);
    assert_non_null(wb);
    assert_int_equal(cl_pipeline_io_write(a, wa, "pipeline."), CL_OK);
    assert_int_equal(cl_pipeline_io_write(b, wb, "pipeline."), CL_OK);
    const void *ba, *bb;
    size_t la, lb;
    assert_int_equal(cl_modelio_w_finish(wa, &ba, &la), CL_OK);
    assert_int_equal(cl_modelio_w_finish(wb, &bb, &lb), CL_OK);
    assert_int_equal(la, lb);
    assert_memory_equal(ba, bb, la);
    cl_modelio_w_free(wa);
    cl_modelio_w_free(wb);
}

/* _fit fits the pipeline it is given (issue 14): a refit on another frame equals the fit of a
 * new pipeline with the same options, bit for bit in its file (the negative label a fit finds
 * is found again: "Nope", not the first frame's "No"; `columns`, here x alone, is the
 * pipeline's own copy and still holds at the refit);
 * a failed refit (a third target value, an allocation failing anywhere) leaves it as it was;
 * fit_transform refits the same way. */
static void test_refit_and_failed_fit(void **state)
{
    (void)state;
    const double x2[] = {10, -3, 4, NAN, 7, 7};
    const char *const c2[] = {"q", "b", "q", "r", NULL, "b"};
    const char *const y2[] = {"Nope", "Yes", "Yes", "Nope", "Nope", "Yes"};
    const char *const y3[] = {"Nope", "Yes", "Maybe", "Nope", "Nope", "Yes"};
    cl_frame *f = small(), *g = frame_of(x2, c2, y2, 6), *h = frame_of(x2, c2, y3, 6);
    char xname[] = "x";
    const char *cols[] = {xname}; /* c is left out: a refit that forgot the list would take it */
    cl_pipeline_opts o = opts();
    o.scale = CL_SCALE_STANDARD;
    o.columns = cols;
    o.ncolumns = 1;
    cl_pipeline *p, *fresh, *ref;
    assert_int_equal(cl_pipeline_new(&p, &o), CL_OK);
    xname[0] = '?'; /* the caller's list may change: p holds its own */
    assert_int_equal(cl_pipeline_fit(p, f), CL_OK);
    assert_int_equal(cl_pipeline_fit(p, g), CL_OK);
    xname[0] = 'x';
    assert_int_equal(pipe_fit_new(&fresh, g, &o), CL_OK);
    same_pipeline(p, fresh);
    assert_int_equal(pipe_fit_new(&ref, f, &o), CL_OK);
    cl_tensor *X, *y, *X2, *y2t;
    assert_int_equal(cl_pipeline_transform(p, g, &X, &y), CL_OK);
    assert_true(cl_tensor_data(y)[0] == 0 && cl_tensor_data(y)[1] == 1); /* "Nope" is 0 */
    cl_tensor_free(X);
    cl_tensor_free(y);
    assert_int_equal(cl_pipeline_fit(p, h), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "'Maybe'"));
    same_pipeline(p, fresh);
    REFIT_SWEEP(cl_pipeline_fit(p, f), same_pipeline(p, fresh));
    same_pipeline(p, ref); /* the last, successful refit */
    /* fit_transform refits in place too, and gives what a new pipeline's gives */
    assert_int_equal(cl_pipeline_fit_transform(p, g, &X, &y), CL_OK);
    same_pipeline(p, fresh);
    cl_pipeline *q;
    assert_int_equal(pipe_fit_transform_new(&q, g, &o, &X2, &y2t), CL_OK);
    assert_int_equal(cl_tensor_rows(X), cl_tensor_rows(X2));
    assert_int_equal(cl_tensor_cols(X), cl_tensor_cols(X2));
    assert_memory_equal(cl_tensor_data(X), cl_tensor_data(X2),
                        (size_t)(cl_tensor_rows(X) * cl_tensor_cols(X)) * sizeof(float));
    cl_tensor_free(X2);
    assert_int_equal(cl_pipeline_fit_transform(p, h, &X2, NULL), CL_EINVAL);
    assert_null(X2);
    same_pipeline(p, fresh);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_tensor_free(y2t);
    /* options are checked when the pipeline is made */
    cl_pipeline *bad;
    o.fill_value = NAN;
    assert_int_equal(cl_pipeline_new(&bad, &o), CL_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(cl_error_last(), "fill_value"));
    cl_pipeline_free(p);
    cl_pipeline_free(q);
    cl_pipeline_free(fresh);
    cl_pipeline_free(ref);
    cl_frame_free(f);
    cl_frame_free(g);
    cl_frame_free(h);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_refit_and_failed_fit),
        cmocka_unit_test(test_impute_scale),  cmocka_unit_test(test_onehot_and_sources),
        cmocka_unit_test(test_native_ordinal), cmocka_unit_test(test_errors),
        cmocka_unit_test(test_save_load),     cmocka_unit_test(test_steps_transform_frame),
        cmocka_unit_test(test_alloc_failures),
        cmocka_unit_test(test_semantic_corruption), cmocka_unit_test(test_cv_folds),
        cmocka_unit_test(test_target_oof),    cmocka_unit_test(test_v2_round_trip),
        cmocka_unit_test(test_v2_alloc_failures), cmocka_unit_test(test_v2_semantic_corruption),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
