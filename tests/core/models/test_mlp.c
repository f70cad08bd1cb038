/* test_mlp.c - the MLP: backprop against central finite differences of an independent
 * double-precision forward pass (every activation, batch norm, class weights), learning,
 * early stopping, interruption, thread-count determinism, model files (round trip
 * bit-identical, every single-byte corruption rejected) and input errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnlab.h"
#include "core/lib/model_flips.h"

/* ---- an independent double-precision reference of the documented network ----------- */

typedef struct refnet {
    int nl;
    int64_t dims[8];
    int act, bn;
    double wpos, wneg;
} refnet;

static double ref_act(int kind, double z)
{
    if (kind == CL_ACT_TANH)
        return tanh(z);
    if (kind == CL_ACT_GELU)
        return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    return z > 0 ? z : 0;
}

/* Loss of the network on (X, y) with flat parameters th (layout from mlp.c's header). */
static double ref_loss(const refnet *r, const double *th, const float *X, const float *y,
                       int64_t n)
{
    double *a = calloc((size_t)(n * 64), sizeof(double));
    double *z = calloc((size_t)(n * 64), sizeof(double));
    int64_t din = r->dims[0];
    for (int64_t i = 0; i < n * din; i++)
        a[i] = X[i];
    int64_t off = 0;
    for (int l = 0; l < r->nl; l++) {
        int64_t out = r->dims[l + 1];
        const double *W = th + off, *b = th + off + din * out;
        off += din * out + out;
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out; j++) {
                double s = b[j];
                for (int64_t k = 0; k < din; k++)
                    s += a[i * din + k] * W[k * out + j];
                z[i * out + j] = s;
            }
        if (l < r->nl - 1) {
            if (r->bn) {
                const double *g = th + off, *be = th + off + out;
                off += 2 * out;
                for (int64_t j = 0; j < out; j++) {
                    double mu = 0, var = 0;
                    for (int64_t i = 0; i < n; i++)
                        mu += z[i * out + j];
                    mu /= (double)n;
                    for (int64_t i = 0; i < n; i++)
                        var += (z[i * out + j] - mu) * (z[i * out + j] - mu);
                    var /= (double)n;
                    for (int64_t i = 0; i < n; i++)
                        z[i * out + j] = g[j] * (z[i * out + j] - mu) / sqrt(var + 1e-5) + be[j];
                }
            }
            for (int64_t i = 0; i < n * out; i++)
                a[i] = ref_act(r->act, z[i]);
            din = out;
        }
    }
    double loss = 0;
    for (int64_t i = 0; i < n; i++) {
        double p = 1 / (1 + exp(-z[i]));
        double w = y[i] == 1 ? r->wpos : r->wneg;
        loss -= w * (y[i] == 1 ? log(p) : log(1 - p));
    }
    free(a);
    free(z);
    return loss / (double)n;
}

static void fill_data(float *X, float *y, int64_t n, int64_t d, uint64_t seed)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        double s = 0;
        for (int64_t j = 0; j < d; j++) {
            X[i * d + j] = (float)cl_rng_normal(&r);
            s += (j % 2 ? 1 : -1) * X[i * d + j];
        }
        y[i] = (float)(s + 0.5 * cl_rng_normal(&r) > 0);
    }
}

static void gradcheck(int act, int bn, int class_weight, double pos_weight)
{
    enum { N = 9, D = 5 };
    float X[N * D], y[N];
    fill_data(X, y, N, D, 7);
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.hidden.n = 2;
    p.hidden.v[0] = 6;
    p.hidden.v[1] = 4;
    p.activation = act;
    p.batch_norm = bn;
    p.class_weight = class_weight;
    p.pos_weight = pos_weight;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    assert_int_equal(cl_mlp_init_weights(m, D), CL_OK);
    int64_t np = cl_mlp_nparams(m);
    float *th = cl_mlp_params_vector(m);
    cl_rng r;
    cl_rng_seed(&r, 99);
    for (int64_t k = 0; k < np; k++) /* random weights, gammas and betas: not the init */
        th[k] = (float)(0.7 * cl_rng_normal(&r));
    float *g = malloc(sizeof(float) * (size_t)np);
    double loss;
    assert_int_equal(cl_mlp_loss_grad(m, X, y, N, &loss, g), CL_OK);

    refnet rn = {3, {D, 6, 4, 1}, act, bn, 1, 1};
    double P = 0;
    for (int i = 0; i < N; i++)
        P += y[i];
    if (class_weight == CL_CW_BALANCED) {
        rn.wpos = N / (2 * P);
        rn.wneg = N / (2 * (N - P));
    }
    rn.wpos *= pos_weight;
    double *dth = calloc((size_t)np + 1, sizeof(double));
    for (int64_t k = 0; k < np; k++)
        dth[k] = th[k];
    double l0 = ref_loss(&rn, dth, X, y, N);
    if (fabs(loss - l0) > 1e-5 * fmax(1, fabs(l0)))
        fail_msg("act %d bn %d: loss %.9g, reference %.9g", act, bn, loss, l0);
    const double h = 1e-5;
    for (int64_t k = 0; k < np; k++) {
        double keep = dth[k];
        dth[k] = keep + h;
        double lp = ref_loss(&rn, dth, X, y, N);
        dth[k] = keep - h;
        double lm = ref_loss(&rn, dth, X, y, N);
        dth[k] = keep;
        double fd = (lp - lm) / (2 * h);
        if (fabs(g[k] - fd) > 1e-4 + 1e-3 * fabs(fd))
            fail_msg("act %d bn %d cw %d: d loss / d theta[%lld] = %.8g, finite difference %.8g",
                     act, bn, class_weight, (long long)k, (double)g[k], fd);
    }
    free(g);
    free(dth);
    cl_mlp_free(m);
}

static void test_gradients(void **state)
{
    (void)state;
    for (int act = 0; act < 3; act++)
        for (int bn = 0; bn < 2; bn++)
            gradcheck(act, bn, CL_CW_NONE, 1.0);
    gradcheck(CL_ACT_TANH, 0, CL_CW_BALANCED, 1.0);
    gradcheck(CL_ACT_GELU, 1, CL_CW_NONE, 3.5);
}

/* A problem a linear model cannot solve: y = xor(x0 > 0, x1 > 0) plus noise columns. */
static void xor_data(float *X, float *y, int64_t n, int64_t d, uint64_t seed)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < d; j++)
            X[i * d + j] = (float)(2 * cl_rng_uniform(&r) - 1);
        y[i] = (float)((X[i * d] > 0) != (X[i * d + 1] > 0));
    }
}

static cl_mlp *small_fit(int64_t n, int64_t d, const float *X, const float *y, int epochs,
                         int batch_norm, double dropout, int optimizer)
{
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.hidden.v[0] = p.hidden.v[1] = 16;
    p.epochs = epochs;
    p.lr = optimizer == CL_OPT_SGD ? 0.05 : 0.01;
    p.batch_norm = batch_norm;
    p.dropout = dropout;
    p.optimizer = optimizer;
    p.weight_decay = optimizer == CL_OPT_ADAMW ? 0.01 : 0;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    assert_int_equal(cl_mlp_fit(m, X, y, n, d, NULL, NULL, NULL), CL_OK);
    return m;
}

static void test_learns_xor(void **state)
{
    (void)state;
    enum { N = 2000, D = 4 };
    float *X = malloc(sizeof(float) * N * D), *y = malloc(sizeof(float) * N);
    float *p = malloc(sizeof(float) * N);
    xor_data(X, y, N, D, 1);
    float *Xt = malloc(sizeof(float) * N * D), *yt = malloc(sizeof(float) * N);
    xor_data(Xt, yt, N, D, 2);
    struct {
        int bn;
        double drop;
        int opt;
    } cfg[] = {{0, 0, CL_OPT_ADAM}, {1, 0, CL_OPT_ADAM}, {0, 0.1, CL_OPT_ADAMW},
               {0, 0, CL_OPT_SGD}};
    for (size_t c = 0; c < sizeof cfg / sizeof cfg[0]; c++) {
        cl_mlp *m = small_fit(N, D, X, y, 30, cfg[c].bn, cfg[c].drop, cfg[c].opt);
        assert_int_equal(cl_mlp_predict(m, Xt, N, D, p), CL_OK);
        double auc;
        assert_int_equal(cl_metrics_roc_auc(&auc, yt, p, N), CL_OK);
        if (auc < 0.95)
            fail_msg("config %zu: test AUC %.4f on xor (want >= 0.95)", c, auc);
        cl_mlp_free(m);
    }
    free(X);
    free(y);
    free(p);
    free(Xt);
    free(yt);
}

static void test_early_stop_restores_best(void **state)
{
    (void)state;
    enum { N = 400, D = 10 };
    float X[N * D], y[N], Xv[N * D], yv[N], pv[N];
    fill_data(X, y, N, D, 3);
    fill_data(Xv, yv, N, D, 4);
    for (int i = 0; i < N; i += 3) /* label noise so it overfits */
        y[i] = 1 - y[i];
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.epochs = 200;
    p.lr = 0.01;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    cl_mlp_history h;
    cl_mlp_fit_opts o = {Xv, yv, N, 5, NULL};
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, &o, &h, NULL), CL_OK);
    assert_true(h.stopped_early);
    assert_true(h.epochs < 200);
    assert_int_equal(h.epochs, h.best_epoch + 5);
    for (int e = 0; e < h.epochs; e++)
        assert_true(h.val_loss[h.best_epoch - 1] <= h.val_loss[e]);
    assert_int_equal(cl_mlp_predict(m, Xv, N, D, pv), CL_OK);
    double ll, auc;
    assert_int_equal(cl_metrics_log_loss(&ll, yv, pv, N, 1e-15), CL_OK);
    assert_true(fabs(ll - h.val_loss[h.best_epoch - 1]) < 1e-5);
    assert_int_equal(cl_metrics_roc_auc(&auc, yv, pv, N), CL_OK);
    assert_true(fabs(auc - h.val_auc[h.best_epoch - 1]) < 1e-12);
    cl_mlp_history_free(&h);
    cl_mlp_free(m);
}

static int stop_at_2(void *ud, const char *task, double done, double total, const char *detail)
{
    (void)ud;
    (void)task;
    (void)total;
    (void)detail;
    return done >= 2.0;
}

static void test_interrupt(void **state)
{
    (void)state;
    enum { N = 300, D = 6 };
    float X[N * D], y[N];
    fill_data(X, y, N, D, 5);
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.epochs = 10;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    cl_progress prog = {stop_at_2, NULL};
    cl_mlp_history h;
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, &h, &prog), CL_EINTR);
    assert_non_null(strstr(cl_error_last(), "interrupted after 2 complete epochs"));
    assert_int_equal(h.epochs, 2);
    assert_true(h.interrupted);
    assert_true(cl_mlp_fitted(m));
    /* the weights are exactly those of a 2-epoch fit */
    cl_mlp_params p2 = p;
    p2.epochs = 2;
    cl_mlp *m2;
    assert_int_equal(cl_mlp_new(&m2, &p2), CL_OK);
    assert_int_equal(cl_mlp_fit(m2, X, y, N, D, NULL, NULL, NULL), CL_OK);
    assert_memory_equal(cl_mlp_params_vector(m), cl_mlp_params_vector(m2),
                        sizeof(float) * (size_t)cl_mlp_nparams(m));
    cl_mlp_history_free(&h);
    cl_mlp_free(m);
    cl_mlp_free(m2);
}

static void test_threads_bit_identical(void **state)
{
    (void)state;
    /* batch 2048 x 40 inputs x 64 units is above the size where the blocked gemms go
     * parallel, so two threads really split the work */
    enum { N = 6000, D = 40 };
    float *X = malloc(sizeof(float) * N * D), *y = malloc(sizeof(float) * N);
    fill_data(X, y, N, D, 6);
    float *w[2];
    int64_t np = 0;
    for (int t = 0; t < 2; t++) {
        cl_threads_set(t + 1);
        cl_mlp_params p;
        cl_mlp_params_default(&p);
        p.batch = 2048;
        p.epochs = 2;
        p.batch_norm = 1;
        p.dropout = 0.2;
        cl_mlp *m;
        assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
        assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL), CL_OK);
        np = cl_mlp_nparams(m);
        w[t] = malloc(sizeof(float) * (size_t)np);
        memcpy(w[t], cl_mlp_params_vector(m), sizeof(float) * (size_t)np);
        /* predictions too, whatever the thread count */
        float *p1 = malloc(sizeof(float) * N), *p2 = malloc(sizeof(float) * N);
        cl_threads_set(1);
        assert_int_equal(cl_mlp_predict(m, X, N, D, p1), CL_OK);
        cl_threads_set(2);
        assert_int_equal(cl_mlp_predict(m, X, N, D, p2), CL_OK);
        assert_memory_equal(p1, p2, sizeof(float) * N);
        free(p1);
        free(p2);
        cl_mlp_free(m);
    }
    cl_threads_set(0);
    assert_memory_equal(w[0], w[1], sizeof(float) * (size_t)np);
    free(w[0]);
    free(w[1]);
    free(X);
    free(y);
}

static int read_mlp(const cl_mr *r)
{
    cl_mlp *m = NULL;
    int rc = cl_mlp_read(&m, r);
    cl_mlp_free(m);
    return rc;
}

static void test_model_file(void **state)
{
    (void)state;
    enum { N = 200, D = 3 };
    float X[N * D], y[N], p1[N], p2[N];
    fill_data(X, y, N, D, 8);
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.hidden.n = 1;
    p.hidden.v[0] = 3;
    p.batch_norm = 1;
    p.epochs = 3;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    const char *names[D] = {"tenure", "charges", "senior"};
    assert_int_equal(cl_mlp_set_names(m, names, D), CL_OK);
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL), CL_OK);
    assert_int_equal(cl_mlp_predict(m, X, N, D, p1), CL_OK);
    cl_mw *w = cl_modelio_w_new("mlp");
    assert_int_equal(cl_mlp_write(m, w), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "test.clm"), CL_OK);
    cl_mlp *m2;
    assert_int_equal(cl_mlp_read(&m2, r), CL_OK);
    cl_modelio_r_free(r);
    assert_int_equal(cl_mlp_predict(m2, X, N, D, p2), CL_OK);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_string_equal(cl_mlp_name(m2, 1), "charges");
    assert_int_equal(cl_mlp_params_of(m2)->batch_norm, 1);
    assert_int_equal(cl_mlp_epochs_run(m2), 3);
    /* every single-byte corruption is rejected with a message, never a crash */
    static const unsigned char flips[] = {0x01, 0x80, 0xff};
    flips_refused(buf, len, flips, sizeof flips, read_mlp);
    /* truncations too */
    for (size_t cut = 0; cut < len; cut += 7) {
        cl_mr *rc_r = NULL;
        assert_int_not_equal(cl_modelio_r_from_buffer(&rc_r, buf, cut, "short.clm"), CL_OK);
    }
    /* a file of another kind */
    cl_mw *w2 = cl_modelio_w_new("gbdt");
    cl_modelio_w_int(w2, "x", 1);
    assert_int_equal(cl_modelio_w_finish(w2, &buf, &len), CL_OK);
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "other.clm"), CL_OK);
    cl_mlp *m4 = NULL;
    assert_int_equal(cl_mlp_read(&m4, r), CL_EFORMAT);
    assert_null(m4);
    assert_non_null(strstr(cl_error_last(), "gbdt"));
    cl_modelio_r_free(r);
    cl_modelio_w_free(w2);
    cl_modelio_w_free(w);
    cl_mlp_free(m);
    cl_mlp_free(m2);
}

static void test_bad_input(void **state)
{
    (void)state;
    enum { N = 20, D = 3 };
    float X[N * D], y[N], p[N];
    fill_data(X, y, N, D, 9);
    cl_mlp_params pr;
    cl_mlp_params_default(&pr);
    pr.epochs = 1;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &pr), CL_OK);
    assert_int_equal(cl_mlp_predict(m, X, N, D, p), CL_ESTATE);
    const char *names[D] = {"a", "b", "c"};
    assert_int_equal(cl_mlp_set_names(m, names, D), CL_OK);
    X[4 * D + 2] = NAN;
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 5, column 3 ('c') is NaN"));
    X[4 * D + 2] = 0;
    y[7] = 0.5f;
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 8"));
    y[7] = 1;
    assert_int_equal(cl_mlp_fit(m, X, y, N, D - 1, NULL, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "feature names"));
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL), CL_OK);
    assert_int_equal(cl_mlp_predict(m, X, N, D - 1, p), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "fitted on 3"));
    cl_mlp_free(m);
    pr.lr = -1;
    assert_int_equal(cl_mlp_new(&m, &pr), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "lr"));
}

static void test_alloc_failures(void **state)
{
    (void)state;
    enum { N = 50, D = 4 };
    float X[N * D], y[N];
    fill_data(X, y, N, D, 10);
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.epochs = 1;
    size_t before = cl_alloc_bytes();
    for (long k = 1; k < 20; k++) {
        cl_mlp *m = NULL;
        cl_mlp_history h;
        cl_mlp_fit_opts o = {X, y, N, 0, NULL};
        cl_alloc_fail_at(k);
        int rc = cl_mlp_new(&m, &p);
        if (rc == CL_OK)
            rc = cl_mlp_fit(m, X, y, N, D, &o, &h, NULL);
        cl_alloc_fail_at(0);
        assert_true(rc == CL_OK || rc == CL_ENOMEM);
        if (rc == CL_OK)
            cl_mlp_history_free(&h);
        cl_mlp_free(m);
    }
    assert_int_equal(cl_alloc_bytes(), before);
}

/* Adam and SGD kernels against a double-precision transcription of PyTorch's update rules;
 * identical lanes must give identical bits whether they fall in the vector body or the tail. */
static void test_optim_kernels(void **state)
{
    (void)state;
    enum { K = 11 };
    float p[K], g[K], m[K] = {0}, v[K] = {0};
    double pd = 0.5, md = 0, vd = 0;
    for (int i = 0; i < K; i++)
        p[i] = 0.5f;
    for (int t = 1; t <= 5; t++) {
        float gt = (float)(0.3 * t - 0.7);
        for (int i = 0; i < K; i++)
            g[i] = gt;
        cl_optim_adam(p, g, m, v, K, 0.01, 0.9, 0.999, 1e-8, t);
        md = 0.9 * md + 0.1 * gt;
        vd = 0.999 * vd + 0.001 * (double)gt * gt;
        pd -= 0.01 / (1 - pow(0.9, t)) * md / (sqrt(vd) / sqrt(1 - pow(0.999, t)) + 1e-8);
        for (int i = 1; i < K; i++)
            assert_memory_equal(&p[i], &p[0], sizeof(float));
        assert_true(fabs(p[0] - pd) < 1e-6);
    }
    float buf[K] = {0};
    double bd = 0, qd = 0.5;
    for (int i = 0; i < K; i++)
        p[i] = 0.5f;
    for (int t = 1; t <= 4; t++) {
        for (int i = 0; i < K; i++)
            g[i] = (float)(0.2 * t);
        cl_optim_sgd(p, g, buf, K, 0.1, 0.9, 1);
        bd = 0.9 * bd + 0.2 * t;
        qd -= 0.1 * (0.2 * t + 0.9 * bd);
        assert_true(fabs(p[0] - qd) < 1e-6);
    }
    assert_true(fabs(cl_optim_lr(CL_SCHED_STEP, 1.0, 25, 100, 10, 0.5) - 0.25) < 1e-15);
    assert_true(fabs(cl_optim_lr(CL_SCHED_COSINE, 1.0, 50, 100, 0, 0) - 0.5) < 1e-15);
}

/* Keras' Dense defaults (issue 20): init auto is Glorot uniform U(-a, a), a = sqrt(6 / (in +
 * out)) on every layer, and Adam's eps is 1e-7. Checked on the weights themselves: every one
 * inside the bound, and the sample variance of the 200 x 64 first-layer weights within 5% of
 * a^2 / 3 (the sd of a sample variance of n uniforms is a^2/3 * sqrt(0.8 / n) = 0.8% here; He
 * normal's 2 / in = 0.01 would be 10 sigma off a^2 / 3 = 0.00758). */
static void test_keras_defaults(void **state)
{
    (void)state;
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    assert_int_equal(p.init, CL_INIT_AUTO);
    assert_true(p.eps == 1e-7);
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    enum { D = 200 };
    assert_int_equal(cl_mlp_init_weights(m, D), CL_OK);
    const float *th = cl_mlp_params_vector(m);
    const int64_t dims[4] = {D, 64, 64, 1};
    int64_t off = 0;
    for (int l = 0; l < 3; l++) {
        int64_t in = dims[l], out = dims[l + 1];
        double a = sqrt(6.0 / (double)(in + out)), s = 0, ss = 0;
        for (int64_t i = 0; i < in * out; i++) {
            assert_true(fabs(th[off + i]) <= a);
            s += th[off + i];
            ss += (double)th[off + i] * th[off + i];
        }
        double nw = (double)(in * out), var = ss / nw - (s / nw) * (s / nw);
        if (l == 0)
            assert_true(fabs(var / (a * a / 3) - 1) < 0.05);
        for (int64_t j = 0; j < out; j++)
            assert_true(th[off + in * out + j] == 0.0f); /* zero biases */
        off += in * out + out;
    }
    cl_mlp_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gradients),       cmocka_unit_test(test_learns_xor),
        cmocka_unit_test(test_keras_defaults),
        cmocka_unit_test(test_early_stop_restores_best),
        cmocka_unit_test(test_interrupt),       cmocka_unit_test(test_threads_bit_identical),
        cmocka_unit_test(test_model_file),      cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_alloc_failures),  cmocka_unit_test(test_optim_kernels),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
