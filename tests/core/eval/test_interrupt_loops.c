/* test_interrupt_loops.c - long C loops outside the fits stop on Ctrl-C (issue 22): with the
 * interrupt flag set (what the host's SIGINT handler does) each must return CL_EINTR with a
 * message saying "interrupted", produce no output, free what it allocated, and work again once
 * the flag is cleared. Before, TreeSHAP and crosstab never looked at the flag, so only the
 * third Ctrl-C stopped them, killing the process. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "eval/explain.h"

static void check_eintr(int rc, const char *what, size_t bytes_before)
{
    assert_int_equal(rc, CL_EINTR);
    assert_non_null(strstr(cl_error_last(), what));
    assert_non_null(strstr(cl_error_last(), "interrupted"));
    assert_int_equal(cl_alloc_bytes(), bytes_before); /* temporaries freed */
    cl_progress_interrupt_clear();
}

static cl_frame *make_frame(int64_t n)
{
    cl_column *a, *b, *x;
    assert_int_equal(cl_frame_column_new_cat(&a, n, NULL), CL_OK);
    assert_int_equal(cl_frame_column_new_cat(&b, n, NULL), CL_OK);
    assert_int_equal(cl_frame_column_new_num(&x, CL_NUM, n), CL_OK);
    for (int64_t i = 0; i < n; i++) {
        char s[32];
        snprintf(s, sizeof s, "a%d", (int)(i % 7));
        assert_int_equal(cl_frame_dict_intern(a->dict, s, strlen(s), &a->codes[i]), CL_OK);
        snprintf(s, sizeof s, "b%d", (int)(i % 5));
        assert_int_equal(cl_frame_dict_intern(b->dict, s, strlen(s), &b->codes[i]), CL_OK);
        x->num[i] = (double)(i % 11);
    }
    cl_frame *f;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    assert_int_equal(cl_frame_set(f, "a", a), CL_OK);
    assert_int_equal(cl_frame_set(f, "b", b), CL_OK);
    assert_int_equal(cl_frame_set(f, "x", x), CL_OK);
    cl_frame_column_free(a);
    cl_frame_column_free(b);
    cl_frame_column_free(x);
    return f;
}

static void test_treeshap(void **state)
{
    (void)state;
    enum { N = 300, D = 4 };
    cl_tensor *X, *y;
    assert_int_equal(cl_tensor_new(&X, 2, N, D), CL_OK);
    assert_int_equal(cl_tensor_new(&y, 1, N, 1), CL_OK);
    cl_rng r;
    cl_rng_seed(&r, 3);
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++)
            cl_tensor_data(X)[i * D + j] = (float)cl_rng_normal(&r);
        cl_tensor_data(y)[i] = cl_tensor_data(X)[i * D] > 0 ? 1.0f : 0.0f;
    }
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 5;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    assert_int_equal(cl_gbdt_fit(m, X, y, NULL, NULL), CL_OK);
    float *out = cl_alloc((size_t)N * (D + 1) * sizeof *out);
    size_t before = cl_alloc_bytes();
    cl_progress_interrupt();
    check_eintr(cl_treeshap((const cl_tree *const *)m->trees, m->ntrees, cl_tensor_data(X), N, D,
                            m->base, 1.0, out),
                "treeshap", before);
    assert_int_equal(cl_treeshap((const cl_tree *const *)m->trees, m->ntrees, cl_tensor_data(X),
                                 N, D, m->base, 1.0, out),
                     CL_OK);
    cl_alloc_free(out);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
}

static int predict(void *ud, const cl_tensor *X, float *out)
{
    (void)ud;
    for (int64_t i = 0; i < X->shape[0]; i++)
        out[i] = 1 / (1 + expf(-(cl_tensor_ptr(X, i, 0)[0] - cl_tensor_ptr(X, i, 0)[1])));
    return CL_OK;
}

static void test_kernelshap_lime(void **state)
{
    (void)state;
    enum { B = 20, D = 6 };
    cl_tensor *bg;
    assert_int_equal(cl_tensor_new(&bg, 2, B, D), CL_OK);
    for (int i = 0; i < B * D; i++)
        cl_tensor_data(bg)[i] = (float)(i % 13) / 13;
    float x[D] = {1, 0.5f, 0, 0.25f, 1, 0};
    double phi[D + 1], coef[D + 1], r2;
    size_t before = cl_alloc_bytes();
    cl_progress_interrupt();
    check_eintr(cl_explain_kernelshap(predict, NULL, x, bg, NULL, D, 100, 1, phi), "kernelshap",
                before);
    assert_int_equal(cl_explain_kernelshap(predict, NULL, x, bg, NULL, D, 100, 1, phi), CL_OK);
    cl_progress_interrupt();
    check_eintr(cl_explain_lime(predict, NULL, x, bg, NULL, D, 200, 0, 1, coef, &r2), "lime",
                before);
    assert_int_equal(cl_explain_lime(predict, NULL, x, bg, NULL, D, 200, 0, 1, coef, &r2), CL_OK);
    cl_tensor_free(bg);
}

static void test_frame_ops(void **state)
{
    (void)state;
    cl_frame *f = make_frame(5000), *out = (cl_frame *)&out;
    static const char *const ka[] = {"a"}, *const kx[] = {"x"};
    cl_agg agg = {"x", CL_AGG_MEAN, NULL};
    size_t before = cl_alloc_bytes();

    cl_progress_interrupt();
    check_eintr(cl_frame_group_crosstab(&out, f, "a", "b", 0), "crosstab", before);
    assert_null(out);
    cl_progress_interrupt();
    check_eintr(cl_frame_ops_sort(&out, f, kx, NULL, 1), "sort", before);
    assert_null(out);
    cl_progress_interrupt();
    check_eintr(cl_frame_group_by(&out, f, ka, 1, &agg, 1), "interrupted", before);
    assert_null(out);
    cl_progress_interrupt();
    check_eintr(cl_frame_join(&out, f, f, ka, 1, CL_JOIN_INNER, NULL), "join", before);
    assert_null(out);

    assert_int_equal(cl_frame_group_crosstab(&out, f, "a", "b", 0), CL_OK);
    assert_int_equal(out->nrow, 7);
    cl_frame_free(out);
    assert_int_equal(cl_frame_ops_sort(&out, f, kx, NULL, 1), CL_OK);
    cl_frame_free(out);
    assert_int_equal(cl_frame_group_by(&out, f, ka, 1, &agg, 1), CL_OK);
    cl_frame_free(out);
    cl_frame_free(f);
}

static void test_transform(void **state)
{
    (void)state;
    cl_frame *f = make_frame(100);
    cl_pipeline_opts o;
    cl_pipeline_opts_default(&o);
    cl_pipeline *p;
    assert_int_equal(cl_pipeline_new(&p, &o), CL_OK);
    assert_int_equal(cl_pipeline_fit(p, f), CL_OK);
    cl_tensor *X = (cl_tensor *)&X, *y = NULL;
    size_t before = cl_alloc_bytes();
    cl_progress_interrupt();
    check_eintr(cl_pipeline_transform(p, f, &X, &y), "transform", before);
    assert_null(X);
    assert_int_equal(cl_pipeline_transform(p, f, &X, &y), CL_OK);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_pipeline_free(p);
    cl_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_treeshap),
        cmocka_unit_test(test_kernelshap_lime),
        cmocka_unit_test(test_frame_ops),
        cmocka_unit_test(test_transform),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
