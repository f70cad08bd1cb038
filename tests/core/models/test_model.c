/* test_model.c - the classifier interface (models/model.h), run over every registered kind
 * and over a toy majority-class kind added through the interface alone.
 *
 * Per kind: new with defaults, fit on a separable problem, predict (probabilities in [0, 1],
 * AUC well above chance), model file round trip (the same predictions bit for bit: same
 * binary, same data), contributions that add up to the margin, a pipeline stored beside the
 * model and scoring raw frames, and the errors (wrong width, no pipeline, not a classifier). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/linear_data.h"

enum { N = 400, D = 4 };
static float X[N * D], Y[N];

static void make_xy(void)
{
    linear_data(X, Y, N, D, 11, 0.5);
}

static char *tmp_path(const char *tag)
{
    static char buf[4][128];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 128, "/tmp/test_model_%d_%s.clm", (int)getpid(), tag);
    return p;
}

/* ---- a toy kind: predicts the training positive rate for every row ------------------- */

typedef struct toy_params {
    double shrink; /* rate = (pos + shrink / 2) / (n + shrink) */
} toy_params;

static const cl_param_def toy_defs[] = {
    {"shrink", CL_PARAM_NUM, offsetof(toy_params, shrink), 0, 0, 1e6, NULL,
     "pseudo-count pulling the rate towards 1/2"},
    {NULL}};

typedef struct toy {
    toy_params p;
    int fitted;
    int64_t d;
    double rate;
} toy;

static void toy_defaults(void *p) { cl_param_defaults(toy_defs, p); }
static int toy_create(void **impl, const void *p)
{
    toy *t = cl_alloc_calloc(1, sizeof *t);
    if (!t)
        return CL_ENOMEM;
    t->p = *(const toy_params *)p;
    *impl = t;
    return CL_OK;
}
static void toy_free(void *impl) { cl_alloc_free(impl); }
static const void *toy_params_of(const void *impl) { return &((const toy *)impl)->p; }
static int toy_fitted(const void *impl) { return ((const toy *)impl)->fitted; }
static int64_t toy_n_features(const void *impl) { return ((const toy *)impl)->d; }
static int toy_fit(void *impl, const float *Xf, const float *y, int64_t n, int64_t d,
                   const cl_fit_opts *o, cl_model_history *h, const cl_progress *p)
{
    (void)Xf, (void)o, (void)p;
    toy *t = impl;
    double pos = 0;
    for (int64_t i = 0; i < n; i++)
        pos += y[i];
    t->rate = (pos + t->p.shrink / 2) / ((double)n + t->p.shrink);
    t->d = d;
    t->fitted = 1;
    cl_model_history_scalar(h, "rate", t->rate, 0);
    return CL_OK;
}
static int toy_predict(const void *impl, const float *Xf, int64_t n, int64_t d, float *out,
                       int mode)
{
    (void)Xf, (void)d;
    const toy *t = impl;
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)(mode == CL_PREDICT_MARGIN ? log(t->rate / (1 - t->rate)) : t->rate);
    return CL_OK;
}
static int toy_write(const void *impl, cl_mw *w)
{
    const toy *t = impl;
    cl_param_io_write(w, toy_defs, &t->p);
    cl_modelio_w_int(w, "toy.d", t->d);
    return cl_modelio_w_num(w, "toy.rate", t->rate);
}
static int toy_read(void **impl, const cl_mr *r)
{
    toy *t = cl_alloc_calloc(1, sizeof *t);
    if (!t)
        return CL_ENOMEM;
    toy_defaults(&t->p);
    int rc = cl_param_io_read(r, toy_defs, &t->p, "toy");
    if (!rc)
        rc = cl_modelio_r_int(r, "toy.d", 1, 1 << 20, &t->d);
    if (!rc)
        rc = cl_modelio_r_num(r, "toy.rate", &t->rate);
    if (!rc && !(t->rate > 0 && t->rate < 1))
        rc = cl_error(CL_EFORMAT, "toy.rate %g is not in (0, 1)", t->rate);
    if (rc) {
        cl_alloc_free(t);
        return rc;
    }
    t->fitted = 1;
    *impl = t;
    return CL_OK;
}

static const cl_model_ops toy_ops = {
    .kind = "toy", .title = "Toy", .defs = toy_defs, .params_size = sizeof(toy_params),
    .defaults = toy_defaults, .create = toy_create, .free = toy_free,
    .params_of = toy_params_of, .fit = toy_fit, .fitted = toy_fitted, .read = toy_read,
    .write = toy_write, .n_features = toy_n_features, .predict = toy_predict};

/* ---- helpers ------------------------------------------------------------------------- */

/* AUC by counting pairs (the brute-force definition, ties count 1/2). */
static double pair_auc(const float *p, const float *y, int n)
{
    double good = 0, pairs = 0;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            if (y[i] == 1 && y[j] == 0) {
                pairs++;
                good += p[i] > p[j] ? 1 : p[i] == p[j] ? 0.5 : 0;
            }
    return good / pairs;
}

static cl_model *fit_kind(const cl_model_ops *ops)
{
    cl_model *m;
    assert_int_equal(cl_model_new(&m, ops, NULL), CL_OK);
    assert_false(cl_model_fitted(m));
    assert_int_equal(cl_model_fit(m, X, Y, N, D, NULL, NULL), CL_OK);
    assert_true(cl_model_fitted(m));
    assert_int_equal(cl_model_n_features(m), D);
    return m;
}

/* ---- every registered kind ----------------------------------------------------------- */

static void test_every_kind_fits_predicts_and_round_trips(void **state)
{
    (void)state;
    static float p[N], q[N], mg[N];
    for (int k = 0; cl_model_kinds[k]; k++) {
        const cl_model_ops *ops = cl_model_kinds[k];
        assert_ptr_equal(cl_model_kinds_ops(ops->kind), ops);
        cl_model *m = fit_kind(ops);
        assert_int_equal(cl_model_predict(m, X, N, D, p, CL_PREDICT_PROB), CL_OK);
        for (int i = 0; i < N; i++)
            assert_true(p[i] >= 0 && p[i] <= 1);
        double auc = pair_auc(p, Y, N);
        if (auc < 0.8)
            fail_msg("%s: training AUC %.3f", ops->kind, auc);
        /* the report of the fit has at least one entry for every kind */
        assert_true(cl_model_history_of(m)->nscalars > 0);
        char buf[160];
        assert_non_null(ops->describe(cl_model_impl(m), buf, sizeof buf));
        assert_true(strlen(buf) > 0);

        const char *path = tmp_path(ops->kind);
        assert_int_equal(cl_model_save(m, path), CL_OK);
        cl_model *back;
        assert_int_equal(cl_model_kinds_load(&back, path), CL_OK);
        assert_string_equal(cl_model_kind(back), ops->kind);
        assert_null(cl_model_pipeline(back));
        assert_int_equal(cl_model_predict(back, X, N, D, q, CL_PREDICT_PROB), CL_OK);
        assert_memory_equal(p, q, sizeof p); /* same binary, same data: exact */

        /* contributions add up to the margin */
        if (ops->contrib) {
            static float phi[N * (D + 1)];
            assert_int_equal(cl_model_predict(m, X, N, D, mg, CL_PREDICT_MARGIN), CL_OK);
            assert_int_equal(cl_model_contrib(m, X, N, D, NULL, phi), CL_OK);
            for (int i = 0; i < N; i++) {
                double s = 0, a = 0;
                for (int j = 0; j <= D; j++) {
                    s += phi[i * (D + 1) + j];
                    a += fabs(phi[i * (D + 1) + j]);
                }
                /* D + 1 float terms, each rounded once: a few ulps of their magnitude */
                if (fabs(s - mg[i]) > 1e-5 * (a + fabs(mg[i]) + 1e-3))
                    fail_msg("%s row %d: contributions sum %.9g, margin %.9g", ops->kind, i, s,
                             (double)mg[i]);
            }
        } else {
            float phi[D + 1];
            assert_int_equal(cl_model_contrib(m, X, 1, D, NULL, phi), CL_ENOTSUP);
            assert_non_null(strstr(cl_error_last(), ops->kind));
        }
        /* wrong width */
        assert_int_equal(cl_model_predict(m, X, N / 2, D + 1, p, CL_PREDICT_PROB), CL_EINVAL);
        assert_non_null(strstr(cl_error_last(), "features"));
        cl_model_free(back);
        cl_model_free(m);
        unlink(path);
    }
}

/* Linear contributions against a reference row: phi_j = w_j (x_j - ref_j) exactly, so the
 * base moves by w . ref and the sum still equals the margin. */
static void test_linear_contrib_against_reference(void **state)
{
    (void)state;
    cl_model *m = fit_kind(&cl_logreg_model_ops);
    float ref[D], phi0[D + 1], phi1[D + 1], mg;
    for (int j = 0; j < D; j++)
        ref[j] = 0.25f * (float)(j + 1);
    assert_int_equal(cl_model_contrib(m, X, 1, D, NULL, phi0), CL_OK);
    assert_int_equal(cl_model_contrib(m, X, 1, D, ref, phi1), CL_OK);
    assert_int_equal(cl_model_predict(m, X, 1, D, &mg, CL_PREDICT_MARGIN), CL_OK);
    const double *w = cl_logreg_coef(cl_model_impl(m));
    for (int j = 0; j < D; j++) {
        assert_float_equal(phi0[j], (float)(w[j] * X[j]), 1e-6 * (1 + fabs(w[j] * X[j])));
        assert_float_equal(phi1[j], (float)(w[j] * ((double)X[j] - ref[j])),
                           1e-6 * (1 + fabs(w[j] * X[j])));
    }
    double s = phi1[D];
    for (int j = 0; j < D; j++)
        s += phi1[j];
    assert_float_equal(s, mg, 1e-5 * (1 + fabs(mg)));
    cl_model_free(m);
}

/* A pipeline saved beside the model: cl_model_kinds_load attaches it and score_frame takes raw
 * rows; the same numbers as transform + predict by hand. */
static void test_pipeline_beside_the_model(void **state)
{
    (void)state;
    const char *csv = "/tmp/test_model_frame.csv";
    FILE *f = fopen(csv, "w");
    assert_non_null(f);
    fprintf(f, "tenure,plan,churn\n");
    cl_rng r;
    cl_rng_seed(&r, 5);
    for (int i = 0; i < 300; i++) {
        double t = 60 * cl_rng_uniform(&r);
        int plan = (int)(3 * cl_rng_uniform(&r));
        int y = cl_rng_uniform(&r) < 1 / (1 + exp(0.08 * t - 2 + plan));
        fprintf(f, "%.2f,%s,%d\n", t, plan == 0 ? "basic" : plan == 1 ? "standard" : "premium", y);
    }
    fclose(f);
    cl_frame *fr;
    assert_int_equal(cl_csvio_read(&fr, csv, NULL, NULL), CL_OK);
    cl_pipeline_opts po;
    cl_pipeline_opts_default(&po);
    po.target = "churn";
    cl_pipeline *pipe;
    assert_int_equal(cl_pipeline_new(&pipe, &po), CL_OK);
    assert_int_equal(cl_pipeline_fit(pipe, fr), CL_OK);
    cl_tensor *Xt, *yt;
    assert_int_equal(cl_pipeline_transform(pipe, fr, &Xt, &yt), CL_OK);
    int64_t n = cl_tensor_rows(Xt), d = cl_tensor_cols(Xt);

    cl_model *m;
    assert_int_equal(cl_model_new(&m, &cl_gbdt_model_ops, NULL), CL_OK);
    assert_int_equal(cl_model_fit(m, cl_tensor_data(Xt), cl_tensor_data(yt), n, d, NULL, NULL),
                     CL_OK);
    float *direct = cl_alloc(sizeof(float) * (size_t)n), *raw = cl_alloc(sizeof(float) * (size_t)n);
    assert_int_equal(cl_model_predict(m, cl_tensor_data(Xt), n, d, direct, CL_PREDICT_PROB), CL_OK);
    /* without a pipeline, raw rows are refused with the reason */
    assert_int_equal(cl_model_score_frame(m, fr, raw), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "pipeline"));

    /* attach by wrapping a fresh handle around the fitted impl, through a file */
    cl_mw *w = cl_modelio_w_new("gbdt");
    assert_int_equal(cl_model_ops_of(m)->write(cl_model_impl(m), w), CL_OK);
    assert_int_equal(cl_pipeline_io_write(pipe, w, "pipeline."), CL_OK);
    const char *path = tmp_path("pipe");
    assert_int_equal(cl_modelio_w_save(w, path), CL_OK);
    cl_modelio_w_free(w);
    cl_model *back;
    assert_int_equal(cl_model_kinds_load(&back, path), CL_OK);
    assert_non_null(cl_model_pipeline(back));
    assert_int_equal(cl_model_score_frame(back, fr, raw), CL_OK);
    assert_memory_equal(direct, raw, sizeof(float) * (size_t)n);

    /* a pipeline whose width differs from the model's is a corrupted file, named */
    cl_model *small;
    assert_int_equal(cl_model_new(&small, &cl_logreg_model_ops, NULL), CL_OK);
    assert_int_equal(cl_model_fit(small, X, Y, N, D, NULL, NULL), CL_OK);
    w = cl_modelio_w_new("logreg");
    assert_int_equal(cl_model_ops_of(small)->write(cl_model_impl(small), w), CL_OK);
    assert_int_equal(cl_pipeline_io_write(pipe, w, "pipeline."), CL_OK);
    assert_int_equal(cl_modelio_w_save(w, path), CL_OK);
    cl_modelio_w_free(w);
    cl_model *bad = NULL;
    if (d != D) {
        assert_int_equal(cl_model_kinds_load(&bad, path), CL_EFORMAT);
        assert_non_null(strstr(cl_error_last(), path));
        assert_non_null(strstr(cl_error_last(), "pipeline makes"));
        assert_null(bad);
    }
    cl_model_free(small);
    cl_model_free(back);
    cl_model_free(m);
    cl_alloc_free(direct);
    cl_alloc_free(raw);
    cl_tensor_free(Xt);
    cl_tensor_free(yt);
    cl_pipeline_free(pipe);
    cl_frame_free(fr);
    unlink(path);
    unlink(csv);
}

/* A file of another kind is refused naming what it holds. */
static void test_not_a_classifier(void **state)
{
    (void)state;
    const char *path = tmp_path("kmeans");
    cl_mw *w = cl_modelio_w_new("calibrator");
    cl_modelio_w_int(w, "x", 1);
    assert_int_equal(cl_modelio_w_save(w, path), CL_OK);
    cl_modelio_w_free(w);
    cl_model *m = NULL;
    assert_int_equal(cl_model_kinds_load(&m, path), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "calibrator"));
    assert_non_null(strstr(cl_error_last(), "logreg, mlp, gbdt"));
    assert_null(m);
    unlink(path);
}

/* The toy kind, added at run time: the generic calls serve it with nothing else edited. */
static void test_toy_kind_through_the_interface(void **state)
{
    (void)state;
    assert_int_equal(cl_model_kinds_register(&toy_ops), CL_OK);
    assert_int_equal(cl_model_kinds_register(&toy_ops), CL_EINVAL); /* taken */
    cl_model *m = fit_kind(&toy_ops);
    float p[N], q[N];
    assert_int_equal(cl_model_predict(m, X, N, D, p, CL_PREDICT_PROB), CL_OK);
    double pos = 0;
    for (int i = 0; i < N; i++)
        pos += Y[i];
    assert_float_equal(p[7], (float)(pos / N), 0); /* shrink 0: the rate as a float */
    assert_string_equal(cl_model_history_of(m)->scalar_name[0], "rate");
    const char *path = tmp_path("toy");
    assert_int_equal(cl_model_save(m, path), CL_OK);
    cl_model *back;
    assert_int_equal(cl_model_kinds_load(&back, path), CL_OK);
    assert_string_equal(cl_model_kind(back), "toy");
    assert_int_equal(cl_model_predict(back, X, N, D, q, CL_PREDICT_PROB), CL_OK);
    assert_memory_equal(p, q, sizeof p);
    float phi[D + 1];
    assert_int_equal(cl_model_contrib(back, X, 1, D, NULL, phi), CL_ENOTSUP);
    /* params through the one table: a shrunk rate is pulled towards 1/2 */
    toy_params tp = {400};
    cl_model *s;
    assert_int_equal(cl_model_new(&s, &toy_ops, &tp), CL_OK);
    assert_int_equal(cl_model_fit(s, X, Y, N, D, NULL, NULL), CL_OK);
    assert_int_equal(cl_model_predict(s, X, 1, D, q, CL_PREDICT_PROB), CL_OK);
    assert_float_equal(q[0], (float)((pos + 200) / (N + 400)), 0);
    /* options the kind does not take are refused, naming the kind */
    cl_fit_opts o = {.Xv = X, .yv = Y, .nv = 10};
    assert_int_equal(cl_model_fit(s, X, Y, N, D, &o, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "toy"));
    cl_model_free(s);
    cl_model_free(back);
    cl_model_free(m);
    unlink(path);
}

int main(void)
{
    make_xy();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_kind_fits_predicts_and_round_trips),
        cmocka_unit_test(test_linear_contrib_against_reference),
        cmocka_unit_test(test_pipeline_beside_the_model),
        cmocka_unit_test(test_not_a_classifier),
        cmocka_unit_test(test_toy_kind_through_the_interface),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
