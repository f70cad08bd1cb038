/* test_interrupt_fit.c - what an interrupted fit leaves behind, per model kind, as each
 * header documents it. The progress callback asks to stop at its k-th call (what Ctrl-C does
 * through cl_progress_interrupted()); the fit must return CL_EINTR with a message, free its
 * temporaries, and leave the model either unchanged/unfitted (predict refuses with a
 * message) or a valid partial model (predict gives probabilities; gbdt: it saves and loads).
 *   gbdt    the trees built so far           (gbdt.h)
 *   forest  the trees finished so far        (forest.h)
 *   mlp     the last completed epoch, or unfitted when none completed   (mlp.h)
 *   logreg  unfitted                         (linear.h) */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/linear_data.h"

enum { N = 400, D = 4 };
static float X[N * D], Y[N];

static void make_xy(void)
{
    linear_data(X, Y, N, D, 7, 1);
}

typedef struct {
    int calls, stop_at;
} stopper;

static int stop_cb(void *ud, const char *task, double done, double total, const char *detail)
{
    (void)task, (void)done, (void)total, (void)detail;
    stopper *s = ud;
    return ++s->calls >= s->stop_at;
}

static void check_probs(const float *p)
{
    for (int i = 0; i < N; i++)
        assert_true(p[i] >= 0.0f && p[i] <= 1.0f); /* also false for NaN */
}

static void check_eintr(int rc)
{
    assert_int_equal(rc, CL_EINTR);
    assert_non_null(strstr(cl_error_last(), "interrupted"));
}

static void test_gbdt(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    cl_tensor *Xt, *yt;
    assert_int_equal(cl_tensor_from_data(&Xt, 2, N, D, X), CL_OK);
    assert_int_equal(cl_tensor_from_data(&yt, 1, N, 1, Y), CL_OK);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 1000;
    p.depth = 3;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    stopper s = {0, 4};
    cl_progress prog = {stop_cb, &s};
    check_eintr(cl_gbdt_fit(m, Xt, yt, NULL, &prog));
    assert_true(m->ntrees > 0 && m->ntrees < 1000);
    assert_true(m->fitted);
    float out[N], back[N];
    assert_int_equal(cl_gbdt_predict(m, out, Xt, 0), CL_OK);
    check_probs(out);
    /* a valid model: it round-trips through the model file */
    cl_mw *w = cl_modelio_w_new("gbdt");
    assert_non_null(w);
    assert_int_equal(cl_gbdt_write(m, w), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, "gbdt"), CL_OK);
    cl_gbdt *m2;
    assert_int_equal(cl_gbdt_read(&m2, r), CL_OK);
    assert_int_equal(m2->ntrees, m->ntrees);
    assert_int_equal(cl_gbdt_predict(m2, back, Xt, 0), CL_OK);
    assert_memory_equal(out, back, sizeof out);
    cl_gbdt_free(m2);
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
    cl_gbdt_free(m);
    cl_tensor_free(Xt);
    cl_tensor_free(yt);
    assert_int_equal(cl_alloc_bytes(), base);
}

static void test_forest(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    cl_tensor *Xt, *yt;
    assert_int_equal(cl_tensor_from_data(&Xt, 2, N, D, X), CL_OK);
    assert_int_equal(cl_tensor_from_data(&yt, 1, N, 1, Y), CL_OK);
    cl_forest_params p = cl_forest_params_default();
    p.trees = 5000;
    p.depth = 4;
    cl_forest *m;
    assert_int_equal(cl_forest_new(&m, CL_FOREST_KIND_FOREST, &p), CL_OK);
    stopper s = {0, 3};
    cl_progress prog = {stop_cb, &s};
    check_eintr(cl_forest_fit(m, Xt, yt, NULL, &prog));
    assert_true(m->ntrees < 5000);
    float out[N];
    int rc = cl_forest_predict(m, out, Xt);
    if (m->ntrees > 0) {
        assert_int_equal(rc, CL_OK);
        check_probs(out);
    } else {
        assert_int_not_equal(rc, CL_OK);
        assert_true(cl_error_last()[0] != '\0');
    }
    cl_forest_free(m);
    cl_tensor_free(Xt);
    cl_tensor_free(yt);
    assert_int_equal(cl_alloc_bytes(), base);
}

/* stop_at 1: the first report (no epoch may be complete yet); 3: later */
static void mlp_case(int stop_at)
{
    size_t base = cl_alloc_bytes();
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.hidden.n = 1;
    p.hidden.v[0] = 8;
    p.epochs = 100000;
    p.batch = 4;
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    stopper s = {0, stop_at};
    cl_progress prog = {stop_cb, &s};
    cl_mlp_history h;
    memset(&h, 0, sizeof h);
    check_eintr(cl_mlp_fit(m, X, Y, N, D, NULL, &h, &prog));
    assert_true(cl_mlp_epochs_run(m) < 100000);
    float out[N];
    int rc = cl_mlp_predict(m, X, N, D, out);
    if (cl_mlp_fitted(m)) {
        assert_true(cl_mlp_epochs_run(m) >= 1);
        assert_int_equal(rc, CL_OK);
        check_probs(out);
    } else {
        assert_int_equal(rc, CL_ESTATE);
        assert_true(cl_error_last()[0] != '\0');
    }
    if (stop_at >= 3)
        assert_true(cl_mlp_fitted(m));
    cl_mlp_history_free(&h);
    cl_mlp_free(m);
    assert_int_equal(cl_alloc_bytes(), base);
}

static void test_mlp(void **state)
{
    (void)state;
    mlp_case(1);
    mlp_case(3);
}

static void test_logreg(void **state)
{
    (void)state;
    size_t base = cl_alloc_bytes();
    cl_logreg_params p;
    cl_logreg_params_default(&p);
    p.C = 1e6; /* separable labels, hardly any penalty: many iterations (reports every 8) */
    static float ysep[N];
    for (int i = 0; i < N; i++)
        ysep[i] = X[i * D] + X[i * D + 1] > 0 ? 1.0f : 0.0f;
    cl_logreg *m;
    assert_int_equal(cl_logreg_new(&m, &p), CL_OK);
    stopper s = {0, 1};
    cl_progress prog = {stop_cb, &s};
    cl_logreg_result res;
    check_eintr(cl_logreg_fit(m, X, ysep, N, D, &res, &prog));
    float out[N];
    assert_int_equal(cl_logreg_predict(m, X, N, D, out), CL_ESTATE);
    assert_true(cl_error_last()[0] != '\0');
    /* and a later fit works */
    assert_int_equal(cl_logreg_fit(m, X, Y, N, D, &res, NULL), CL_OK);
    assert_int_equal(cl_logreg_predict(m, X, N, D, out), CL_OK);
    check_probs(out);
    cl_logreg_free(m);
    assert_int_equal(cl_alloc_bytes(), base);
}

int main(void)
{
    cl_threads_set(1);
    make_xy();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gbdt),
        cmocka_unit_test(test_forest),
        cmocka_unit_test(test_mlp),
        cmocka_unit_test(test_logreg),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
