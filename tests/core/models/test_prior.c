/* test_prior.c - prior correction inside the models (models/prior.h): the recorded rates, the
 * prediction modes, and model files whose rates chunk is corrupted (re-signed with a valid
 * CRC, so the model loader itself must refuse the values, naming the chunk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "churnlab.h"

#define N 2000
#define D 3

static float X[N * D], Y[N];

static int setup(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 9);
    for (int i = 0; i < N; i++) {
        double z = -2.0;
        for (int j = 0; j < D; j++) {
            X[i * D + j] = (float)cl_rng_normal(&r);
            z += (j == 0 ? 1.5 : 0.5) * X[i * D + j];
        }
        Y[i] = cl_rng_uniform(&r) < 1 / (1 + exp(-z)) ? 1.0f : 0.0f;
    }
    return 0;
}

static void rates(void **state)
{
    (void)state;
    double tr, tt;
    cl_prior_rates(30, 200, 1, 1, &tr, &tt);
    assert_true(tr == tt && tt == 0.15); /* equal weights: bit for bit the same rate */
    cl_prior_rates(30, 200, 2.5, 2.5, &tr, &tt);
    assert_true(tr == tt);
    cl_prior_rates(30, 200, 200.0 / 60, 200.0 / 340, &tr, &tt); /* balanced */
    assert_true(fabs(tr - 0.5) < 1e-15);
    cl_prior_rates(30, 200, 4, 1, &tr, &tt);
    assert_true(fabs(tr - 120.0 / 290) < 1e-15);
    cl_prior_rates(0, 200, 4, 1, &tr, &tt); /* one class: nothing to correct */
    assert_false(cl_prior_needed(tr, tt));
    assert_false(cl_prior_needed(NAN, 0.2));
    assert_false(cl_prior_needed(0.3, 0.3));
    assert_true(cl_prior_needed(0.5, 0.2));
    assert_true(cl_prior_wanted(CL_PREDICT_PROB, 1, 0.5, 0.2));
    assert_false(cl_prior_wanted(CL_PREDICT_PROB, 0, 0.5, 0.2));
    assert_true(cl_prior_wanted(CL_PREDICT_CORRECTED, 0, 0.5, 0.2));
    assert_false(cl_prior_wanted(CL_PREDICT_UNCORRECTED, 1, 0.5, 0.2));
    assert_false(cl_prior_wanted(CL_PREDICT_MARGIN, 1, 0.5, 0.2));
}

static cl_logreg *fit_logreg(int correction)
{
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    p.class_weight = 1;
    p.prior_correction = correction;
    cl_logreg *m;
    assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, NULL, NULL), CL_OK);
    return m;
}

static void logreg_modes(void **state)
{
    (void)state;
    cl_logreg *m = fit_logreg(1), *off = fit_logreg(0);
    double tr, tt;
    assert_int_equal(cl_logreg_prior(m, &tr, &tt), 1);
    assert_int_equal(cl_logreg_prior(off, &tr, &tt), 0);
    double pos = 0;
    for (int i = 0; i < N; i++)
        pos += Y[i];
    assert_true(tt == pos / N);
    assert_true(fabs(tr - 0.5) < 1e-12);
    static float p[N], u[N], z[N], c[N], q[N];
    assert_int_equal(cl_logreg_predict(m, X, N, D, p), CL_OK);
    assert_int_equal(cl_logreg_predict_mode(m, X, N, D, u, CL_PREDICT_UNCORRECTED), CL_OK);
    assert_int_equal(cl_logreg_decision(m, X, N, D, z), CL_OK);
    assert_int_equal(cl_logreg_predict_mode(off, X, N, D, c, CL_PREDICT_CORRECTED), CL_OK);
    assert_int_equal(cl_logreg_predict(off, X, N, D, q), CL_OK);
    double mp = 0, mu = 0, shift = log(tt / (1 - tt)) - log(tr / (1 - tr));
    for (int i = 0; i < N; i++) {
        assert_true(p[i] == (float)cl_prior_correct(u[i], tr, tt));
        assert_true(p[i] == c[i] && u[i] == q[i]); /* the parameter and the mode agree */
        assert_true(fabs(p[i] - 1 / (1 + exp(-(z[i] + shift)))) < 1e-6);
        mp += p[i];
        mu += u[i];
    }
    mp /= N;
    mu /= N;
    assert_true(fabs(mp - tt) < 0.01); /* in sample, the corrected mean is the churn rate */
    assert_true(mu > tt + 0.15);
    assert_int_equal(cl_logreg_predict_mode(m, X, N, D, p, 7), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "prediction mode 7"));
    cl_logreg_free(m);
    cl_logreg_free(off);
}

/* Finds the f64 payload of chunk `name` in a finished model buffer. */
static size_t payload_of(const unsigned char *b, size_t len, const char *name)
{
    size_t nl = strlen(name);
    for (size_t at = 0; at + nl + 2 + 1 + 8 <= len; at++) {
        if (b[at] == (nl & 0xff) && b[at + 1] == (nl >> 8) && memcmp(b + at + 2, name, nl) == 0 &&
            b[at + 2 + nl] == CL_CHUNK_F64)
            return at + 2 + nl + 1 + 8;
    }
    fail_msg("chunk %s not found", name);
    return 0;
}

static void put_f64(unsigned char *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    for (int k = 0; k < 8; k++)
        b[k] = (unsigned char)(u >> (8 * k));
}

static void resign(unsigned char *b, size_t len)
{
    uint32_t crc = cl_fileio_crc32(0, b, len - 4);
    for (int k = 0; k < 4; k++)
        b[len - 4 + (size_t)k] = (unsigned char)(crc >> (8 * k));
}

typedef int (*loader)(const cl_mr *r);

static int load_logreg(const cl_mr *r)
{
    cl_logreg *m;
    int rc = cl_logreg_read(&m, r);
    cl_logreg_free(m);
    return rc;
}

static int load_gbdt(const cl_mr *r)
{
    cl_gbdt *m;
    int rc = cl_gbdt_read(&m, r);
    cl_gbdt_free(m);
    return rc;
}

/* Patches {trained, truth} of chunk `name` and loads: returns the status; the message must
 * name the chunk and the offending rate. */
static int load_patched(const void *buf, size_t len, const char *name, double tr, double tt,
                        loader ld)
{
    unsigned char *b = malloc(len);
    assert_non_null(b);
    memcpy(b, buf, len);
    size_t at = payload_of(b, len, name);
    put_f64(b + at, tr);
    put_f64(b + at + 8, tt);
    resign(b, len);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, b, len, "patched.clm"), CL_OK);
    int rc = ld(r);
    cl_modelio_r_free(r);
    free(b);
    return rc;
}

static void corrupted_rates(void **state)
{
    (void)state;
    cl_logreg *m = fit_logreg(1);
    cl_mw *w = cl_modelio_w_new("logreg");
    assert_non_null(w);
    assert_int_equal(cl_logreg_write(m, w), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    /* unpatched values load */
    assert_int_equal(load_patched(buf, len, "logreg.prior_rates", 0.5, 0.2, load_logreg), CL_OK);
    assert_int_equal(load_patched(buf, len, "logreg.prior_rates", 1.5, 0.2, load_logreg),
                     CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "logreg.prior_rates"));
    assert_non_null(strstr(cl_error_last(), "training positive rate is 1.5"));
    assert_int_equal(load_patched(buf, len, "logreg.prior_rates", 0.5, NAN, load_logreg),
                     CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "true positive rate is nan"));
    assert_int_equal(load_patched(buf, len, "logreg.prior_rates", -0.1, 0.2, load_logreg),
                     CL_EFORMAT);
    assert_int_equal(load_patched(buf, len, "logreg.prior_rates", INFINITY, 0.2, load_logreg),
                     CL_EFORMAT);
    cl_modelio_w_free(w);
    cl_logreg_free(m);

    cl_gbdt_params gp = cl_gbdt_params_default();
    gp.trees = 5;
    gp.scale_pos_weight = 4;
    cl_gbdt *g;
    cl_tensor *tx, *ty;
    assert_int_equal(cl_tensor_from_data(&tx, 2, N, D, X), CL_OK);
    assert_int_equal(cl_tensor_from_data(&ty, 1, N, 1, Y), CL_OK);
    assert_int_equal(cl_gbdt_new(&g, &gp), CL_OK);
    assert_int_equal(cl_gbdt_fit(g, tx, ty, NULL, NULL), CL_OK);
    double tr, tt;
    assert_int_equal(cl_gbdt_prior(g, &tr, &tt), 1);
    w = cl_modelio_w_new("gbdt");
    assert_int_equal(cl_gbdt_write(g, w), CL_OK);
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    assert_int_equal(load_patched(buf, len, "prior_rates", tr, tt, load_gbdt), CL_OK);
    assert_int_equal(load_patched(buf, len, "prior_rates", tr, 2.0, load_gbdt), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "gbdt file: chunk 'prior_rates'"));
    cl_modelio_w_free(w);
    cl_gbdt_free(g);
    cl_tensor_free(tx);
    cl_tensor_free(ty);
}

/* Rates at the edge of (0, 1) (a denormal trained rate from a model file, found by
 * fuzz_modelsem) overflowed the odds: inf / inf gave NaN probabilities. */
static void extreme_rates(void **state)
{
    (void)state;
    const double rates[][2] = {{2.1219957909653e-314, 0.5}, {0.5, 1 - 1e-17}, {1e-300, 1 - 1e-16},
                               {0.5, 4.9e-324}};
    const double ps[] = {1e-300, 0.2, 0.7, 1 - 1e-16};
    for (size_t r = 0; r < sizeof rates / sizeof *rates; r++)
        for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
            double q = cl_prior_correct(ps[i], rates[r][0], rates[r][1]);
            if (!(q >= 0 && q <= 1))
                fail_msg("cl_prior_correct(%g, %g, %g) = %g", ps[i], rates[r][0], rates[r][1], q);
        }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(rates),
        cmocka_unit_test(logreg_modes),
        cmocka_unit_test(corrupted_rates),
        cmocka_unit_test(extreme_rates),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
