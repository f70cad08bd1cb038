/* test_tensor.c - tensors: every operation against a naive reference loop written here
 * (reading elements through raw storage + offset + strides), on packed, transposed, sliced
 * and arbitrarily strided views; broadcasting; error statuses and messages; determinism
 * across thread counts; an allocation-failure sweep over creation and every op. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "churnlab.h"

/* Huge-size tests ask the allocator for terabytes; under ASan that must fail, not abort. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "allocator_may_return_null=1"; }

/* ---- helpers ------------------------------------------------------------------------ */

/* Element (i, j) read independently of cl_tensor_ptr. */
static float at(const cl_tensor *t, int64_t i, int64_t j)
{
    return t->storage->data[t->offset + i * t->stride[0] + j * t->stride[1]];
}

static cl_tensor *filled(int ndim, int64_t r, int64_t c, uint64_t seed)
{
    cl_tensor *t;
    assert_int_equal(cl_tensor_randn(&t, ndim, r, c, seed), CL_OK);
    return t;
}

/* Same bits, or both NaN. */
static int same(float a, float b) { return (a != a && b != b) || memcmp(&a, &b, sizeof a) == 0; }

static void assert_close(double got, double want, double rtol, const char *what)
{
    if (isnan(want) && isnan(got))
        return;
    double tol = rtol * (fabs(want) > 1 ? fabs(want) : 1);
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.9g, want %.9g (tol %.3g)", what, got, want, tol);
}

static void assert_msg(const char *needle)
{
    if (!strstr(cl_error_last(), needle))
        fail_msg("message '%s' lacks '%s'", cl_error_last(), needle);
}

/* Views of the same m x n logical shape, built four ways from fresh storage:
 * 0 packed, 1 transpose of an n x m tensor, 2 a column slice of a wider tensor (row stride
 * > cols), 3 every other element of a 2m x 2n tensor (no unit stride at all). */
static cl_tensor *view_kind(int kind, int64_t m, int64_t n, uint64_t seed)
{
    cl_tensor *base, *v;
    switch (kind) {
    case 0: return filled(2, m, n, seed);
    case 1:
        base = filled(2, n, m, seed);
        assert_int_equal(cl_tensor_transpose(&v, base), CL_OK);
        break;
    case 2:
        base = filled(2, m + 1, n + 3, seed);
        assert_int_equal(cl_tensor_cols_range(&v, base, 2, 2 + n), CL_OK);
        {
            cl_tensor *w;
            assert_int_equal(cl_tensor_rows_range(&w, v, 1, 1 + m), CL_OK);
            cl_tensor_free(v);
            v = w;
        }
        break;
    default:
        base = filled(2, 2 * m, 2 * n, seed);
        assert_int_equal(cl_tensor_view(&v, base), CL_OK);
        v->shape[0] = m;
        v->shape[1] = n;
        v->stride[0] = 4 * n;
        v->stride[1] = 2;
        break;
    }
    cl_tensor_free(base);
    assert_int_equal((int)cl_tensor_rows(v), (int)m);
    assert_int_equal((int)cl_tensor_cols(v), (int)n);
    return v;
}

static float ref_bin(cl_binop op, float x, float y)
{
    switch (op) {
    case CL_OP_ADD: return x + y;
    case CL_OP_SUB: return x - y;
    case CL_OP_MUL: return x * y;
    case CL_OP_DIV: return x / y;
    case CL_OP_POW: return powf(x, y);
    case CL_OP_LT: return x < y;
    case CL_OP_LE: return x <= y;
    case CL_OP_GT: return x > y;
    case CL_OP_GE: return x >= y;
    case CL_OP_EQ: return x == y;
    case CL_OP_NE: return x != y;
    case CL_OP_MIN: return isnan(x) || isnan(y) ? NAN : (x < y ? x : y);
    case CL_OP_MAX: return isnan(x) || isnan(y) ? NAN : (x > y ? x : y);
    }
    return 0;
}

/* Broadcast read: operand element for output (i, j); a 1-D operand against 2-D is a row. */
static float bread(const cl_tensor *t, int out_ndim, int64_t i, int64_t j)
{
    if (t->ndim == 1 && out_ndim == 2)
        return at(t, t->shape[0] == 1 ? 0 : j, 0);
    return at(t, t->shape[0] == 1 ? 0 : i, t->shape[1] == 1 ? 0 : j);
}

static void check_binop(cl_binop op, const cl_tensor *a, const cl_tensor *b)
{
    cl_tensor *o;
    assert_int_equal(cl_tensor_ops_binop(&o, op, a, b), CL_OK);
    assert_true(cl_tensor_is_contiguous(o));
    for (int64_t i = 0; i < o->shape[0]; i++)
        for (int64_t j = 0; j < o->shape[1]; j++) {
            float want = ref_bin(op, bread(a, o->ndim, i, j), bread(b, o->ndim, i, j));
            if (!same(at(o, i, j), want))
                fail_msg("op %d at (%lld, %lld): got %g want %g", (int)op, (long long)i,
                         (long long)j, (double)at(o, i, j), (double)want);
        }
    cl_tensor_free(o);
}

/* ---- creation ----------------------------------------------------------------------- */

static void test_creation(void **state)
{
    (void)state;
    cl_tensor *t;
    assert_int_equal(cl_tensor_full(&t, 2, 3, 4, 2.5f), CL_OK);
    assert_int_equal(t->ndim, 2);
    for (int i = 0; i < 12; i++)
        assert_true(t->storage->data[i] == 2.5f);
    cl_tensor_free(t);

    assert_int_equal(cl_tensor_zeros(&t, 1, 5, 99), CL_OK); /* cols ignored for 1-D */
    assert_int_equal((int)cl_tensor_cols(t), 1);
    assert_int_equal((int)cl_tensor_numel(t), 5);
    cl_tensor_free(t);

    assert_int_equal(cl_tensor_eye(&t, 4), CL_OK);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++)
            assert_true(at(t, i, j) == (i == j ? 1.0f : 0.0f));
    cl_tensor_free(t);

    float src[6] = {1, 2, 3, 4, 5, 6};
    assert_int_equal(cl_tensor_from_data(&t, 2, 2, 3, src), CL_OK);
    assert_true(at(t, 1, 0) == 4.0f);
    char buf[64];
    assert_string_equal(cl_tensor_shape_str(t, buf, sizeof buf), "2x3");
    cl_tensor_free(t);

    /* empty tensors are fine */
    assert_int_equal(cl_tensor_zeros(&t, 2, 0, 5), CL_OK);
    assert_int_equal((int)cl_tensor_numel(t), 0);
    cl_tensor_free(t);
}

static void test_creation_errors(void **state)
{
    (void)state;
    cl_tensor *t = (cl_tensor *)1;
    assert_int_equal(cl_tensor_zeros(&t, 3, 2, 2), CL_EINVAL);
    assert_null(t);
    assert_msg("ndim must be 1 or 2, got 3");
    assert_int_equal(cl_tensor_zeros(&t, 2, -1, 2), CL_EINVAL);
    assert_msg("negative size (-1x2)");
    assert_int_equal(cl_tensor_zeros(&t, 2, (int64_t)1 << 30, (int64_t)1 << 30), CL_ERANGE);
    assert_msg("1073741824x1073741824 is more than");
    assert_int_equal(cl_tensor_new(&t, 2, INT64_MAX, 2), CL_ERANGE);
    /* allowed by the element cap, but far beyond memory: a clean ENOMEM */
    assert_int_equal(cl_tensor_new(&t, 1, (int64_t)1 << 39, 1), CL_ENOMEM);
    assert_null(t);
    assert_msg("out of memory");
}

static void test_arange_linspace(void **state)
{
    (void)state;
    cl_tensor *t;
    assert_int_equal(cl_tensor_arange(&t, 0, 5, 1), CL_OK);
    assert_int_equal((int)cl_tensor_numel(t), 5);
    for (int i = 0; i < 5; i++)
        assert_true(at(t, i, 0) == (float)i);
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_arange(&t, 1, 2, 0.25), CL_OK);
    assert_int_equal((int)cl_tensor_numel(t), 4);
    assert_true(at(t, 3, 0) == 1.75f);
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_arange(&t, 5, 0, -2), CL_OK); /* 5 3 1 */
    assert_int_equal((int)cl_tensor_numel(t), 3);
    assert_true(at(t, 2, 0) == 1.0f);
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_arange(&t, 5, 0, 1), CL_OK); /* empty, not an error */
    assert_int_equal((int)cl_tensor_numel(t), 0);
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_arange(&t, 0, 1, 0), CL_EINVAL);
    assert_msg("step must not be 0");
    assert_int_equal(cl_tensor_arange(&t, 0, NAN, 1), CL_EINVAL);
    assert_msg("finite");
    assert_int_equal(cl_tensor_arange(&t, 0, 1e300, 1e-300), CL_ERANGE);

    assert_int_equal(cl_tensor_linspace(&t, -1, 1, 5), CL_OK);
    assert_true(at(t, 0, 0) == -1.0f && at(t, 2, 0) == 0.0f && at(t, 4, 0) == 1.0f);
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_linspace(&t, 0.1, 0.7, 7), CL_OK);
    assert_true(at(t, 6, 0) == 0.7f); /* exact end point */
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_linspace(&t, 3, 9, 1), CL_OK);
    assert_true(at(t, 0, 0) == 3.0f);
    cl_tensor_free(t);
    assert_int_equal(cl_tensor_linspace(&t, 0, 1, -2), CL_EINVAL);
    assert_msg("negative count");
    assert_int_equal(cl_tensor_linspace(&t, INFINITY, 1, 2), CL_EINVAL);
}

static void test_rand(void **state)
{
    (void)state;
    int64_t n = 200000; /* many blocks: the parallel path */
    cl_tensor *u1, *u2, *u3, *g;
    cl_threads_set(1);
    assert_int_equal(cl_tensor_rand(&u1, 1, n, 1, 7), CL_OK);
    cl_threads_set(3);
    assert_int_equal(cl_tensor_rand(&u2, 1, n, 1, 7), CL_OK);
    cl_threads_set(0);
    assert_memory_equal(u1->storage->data, u2->storage->data, (size_t)n * sizeof(float));
    assert_int_equal(cl_tensor_rand(&u3, 1, n, 1, 8), CL_OK);
    assert_true(memcmp(u1->storage->data, u3->storage->data, 64) != 0);
    double s = 0, s2 = 0;
    for (int64_t i = 0; i < n; i++) {
        float v = u1->storage->data[i];
        assert_true(v >= 0.0f && v < 1.0f);
        s += v, s2 += (double)v * v;
    }
    /* U[0,1): mean 1/2, variance 1/12; 5 standard errors */
    assert_close(s / n, 0.5, 5 * sqrt(1.0 / 12 / n), "uniform mean");
    assert_close(s2 / n - (s / n) * (s / n), 1.0 / 12, 0.002, "uniform variance");
    assert_int_equal(cl_tensor_randn(&g, 2, 400, 500, 3), CL_OK);
    double m, sd;
    assert_int_equal(cl_tensor_ops_reduce_all(g, CL_RED_MEAN, &m), CL_OK);
    assert_int_equal(cl_tensor_ops_reduce_all(g, CL_RED_STD, &sd), CL_OK);
    assert_close(m, 0, 5 / sqrt(200000.0), "normal mean");
    assert_close(sd, 1, 0.01, "normal sd");
    cl_tensor_free(u1), cl_tensor_free(u2), cl_tensor_free(u3), cl_tensor_free(g);
}

/* ---- views, shape and access -------------------------------------------------------- */

static void test_views(void **state)
{
    (void)state;
    cl_tensor *a = filled(2, 4, 6, 1), *t, *r, *c, *v;
    assert_int_equal(cl_tensor_transpose(&t, a), CL_OK);
    assert_int_equal((int)cl_tensor_rows(t), 6);
    assert_true(t->storage == a->storage); /* a view: no copy */
    assert_false(cl_tensor_is_contiguous(t));
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 6; j++)
            assert_true(at(t, j, i) == at(a, i, j));

    assert_int_equal(cl_tensor_rows_range(&r, a, 1, 3), CL_OK);
    assert_int_equal((int)cl_tensor_rows(r), 2);
    assert_true(at(r, 0, 5) == at(a, 1, 5));
    assert_true(cl_tensor_is_contiguous(r));
    assert_int_equal(cl_tensor_cols_range(&c, a, 2, 5), CL_OK);
    assert_true(at(c, 3, 0) == at(a, 3, 2));
    assert_false(cl_tensor_is_contiguous(c));
    /* writes through a view reach the base */
    assert_int_equal(cl_tensor_set(c, 0, 0, 42.0f), CL_OK);
    assert_true(at(a, 0, 2) == 42.0f);

    assert_int_equal(cl_tensor_contiguous(&v, c), CL_OK);
    assert_true(cl_tensor_is_contiguous(v));
    assert_true(v->storage != a->storage);
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 3; j++)
            assert_true(at(v, i, j) == at(c, i, j));
    cl_tensor_free(v);
    assert_int_equal(cl_tensor_contiguous(&v, r), CL_OK);
    assert_true(v->storage == a->storage); /* already packed: a retained view */
    cl_tensor_free(v);

    /* reshape of a non-contiguous view copies in logical order */
    assert_int_equal(cl_tensor_reshape(&v, t, 1, 24, 1), CL_OK);
    for (int k = 0; k < 24; k++)
        assert_true(at(v, k, 0) == at(t, k / 4, k % 4));
    cl_tensor_free(v);
    assert_int_equal(cl_tensor_reshape(&v, a, 2, 5, 5), CL_EINVAL);
    assert_msg("cannot view 4x6 (24 elements) as 5x5");

    assert_int_equal(cl_tensor_rows_range(&v, a, 2, 5), CL_ERANGE);
    assert_int_equal(cl_tensor_cols_range(&v, a, 3, 2), CL_ERANGE);
    cl_tensor *one = filled(1, 5, 1, 2);
    assert_int_equal(cl_tensor_cols_range(&v, one, 0, 1), CL_EINVAL);
    assert_msg("1-D");
    /* 1-D transposes to a 1 x n row */
    assert_int_equal(cl_tensor_transpose(&v, one), CL_OK);
    assert_int_equal(v->ndim, 2);
    assert_int_equal((int)cl_tensor_rows(v), 1);
    assert_int_equal((int)cl_tensor_cols(v), 5);
    assert_true(at(v, 0, 3) == at(one, 3, 0));
    cl_tensor_free(v);

    float x;
    assert_int_equal(cl_tensor_get(a, 4, 0, &x), CL_ERANGE);
    assert_msg("get: index (5, 1) out of range for 4x6");
    assert_int_equal(cl_tensor_set(a, 0, -1, 1), CL_ERANGE);
    assert_msg("set: index (1, 0) out of range for 4x6");
    assert_int_equal(cl_tensor_get(a, 3, 5, &x), CL_OK);
    assert_true(x == at(a, 3, 5));

    int64_t idx[] = {3, 0, 3};
    assert_int_equal(cl_tensor_index_rows(&v, t, idx, 3), CL_OK); /* from a transposed view */
    for (int k = 0; k < 3; k++)
        for (int j = 0; j < 4; j++)
            assert_true(at(v, k, j) == at(t, idx[k], j));
    cl_tensor_free(v);
    int64_t bad[] = {0, 6};
    assert_int_equal(cl_tensor_index_rows(&v, t, bad, 2), CL_ERANGE);
    assert_msg("row 6 outside 0..5");

    cl_tensor_free(one), cl_tensor_free(a), cl_tensor_free(t), cl_tensor_free(r);
    cl_tensor_free(c);
}

/* ---- element-wise ------------------------------------------------------------------- */

static void test_binop_views(void **state)
{
    (void)state;
    /* sizes on both sides of the parallel threshold */
    int64_t sizes[][2] = {{3, 5}, {1, 7}, {210, 170}};
    for (int s = 0; s < 3; s++) {
        int64_t m = sizes[s][0], n = sizes[s][1];
        for (int ka = 0; ka < 4; ka++)
            for (int kb = 0; kb < 4; kb++) {
                cl_tensor *a = view_kind(ka, m, n, 10 + (uint64_t)ka);
                cl_tensor *b = view_kind(kb, m, n, 20 + (uint64_t)kb);
                for (int op = CL_OP_ADD; op <= CL_OP_MAX; op++)
                    if (kb == ka || op <= CL_OP_DIV)
                        check_binop((cl_binop)op, a, b);
                cl_tensor_free(a), cl_tensor_free(b);
            }
    }
}

static void test_broadcast(void **state)
{
    (void)state;
    int64_t m = 130, n = 300; /* > PAR_MIN elements */
    for (int ka = 0; ka < 4; ka++) {
        cl_tensor *a = view_kind(ka, m, n, 5);
        cl_tensor *row = view_kind(ka, 1, n, 6), *col = view_kind(ka, m, 1, 7);
        cl_tensor *vec = filled(1, n, 1, 8), *one = filled(2, 1, 1, 9);
        for (int op = CL_OP_ADD; op <= CL_OP_MAX; op++) {
            check_binop((cl_binop)op, a, row);
            check_binop((cl_binop)op, row, a);
            check_binop((cl_binop)op, a, col);
            check_binop((cl_binop)op, col, a);
            check_binop((cl_binop)op, a, vec);
            check_binop((cl_binop)op, vec, a);
            check_binop((cl_binop)op, a, one);
            check_binop((cl_binop)op, col, row); /* outer: m x 1 with 1 x n */
        }
        cl_tensor_free(a), cl_tensor_free(row), cl_tensor_free(col), cl_tensor_free(vec);
        cl_tensor_free(one);
    }
    /* 1-D with 1-D, including a single element */
    cl_tensor *x = filled(1, 9, 1, 1), *y = filled(1, 9, 1, 2), *z = filled(1, 1, 1, 3), *o;
    check_binop(CL_OP_SUB, x, y);
    check_binop(CL_OP_DIV, z, x);
    cl_tensor *lx = filled(1, 100003, 1, 4), *ly = filled(1, 100003, 1, 5); /* parallel 1-D */
    check_binop(CL_OP_MUL, lx, ly);
    check_binop(CL_OP_SUB, lx, z);
    check_binop(CL_OP_MAX, z, ly);
    cl_tensor_free(lx), cl_tensor_free(ly);
    assert_int_equal(cl_tensor_ops_binop(&o, CL_OP_ADD, x, y), CL_OK);
    assert_int_equal(o->ndim, 1);
    cl_tensor_free(o);

    /* shapes that do not broadcast name both */
    cl_tensor *a = filled(2, 2, 3, 1), *b = filled(2, 4, 3, 2), *w = filled(1, 4, 1, 3);
    assert_int_equal(cl_tensor_ops_binop(&o, CL_OP_ADD, a, b), CL_EINVAL);
    assert_null(o);
    assert_msg("add: shapes 2x3 and 4x3 do not broadcast");
    assert_int_equal(cl_tensor_ops_binop(&o, CL_OP_MUL, a, w), CL_EINVAL);
    assert_msg("mul: shapes 2x3 and 4 do not broadcast");
    assert_int_equal(cl_tensor_ops_binop(&o, CL_OP_SUB, x, w), CL_EINVAL);
    assert_msg("sub: shapes 9 and 4 do not broadcast");
    assert_int_equal(cl_tensor_ops_binop(&o, (cl_binop)99, a, a), CL_EINVAL);
    cl_tensor_free(a), cl_tensor_free(b), cl_tensor_free(w), cl_tensor_free(x);
    cl_tensor_free(y), cl_tensor_free(z);
}

static void test_binop_scalar(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        cl_tensor *a = view_kind(k, 190, 200, 4), *o;
        for (int op = CL_OP_ADD; op <= CL_OP_MAX; op++)
            for (int left = 0; left <= 1; left++) {
                float s = op == CL_OP_POW ? 2.0f : 0.5f;
                assert_int_equal(cl_tensor_ops_binop_scalar(&o, (cl_binop)op, a, s, left), CL_OK);
                for (int64_t i = 0; i < 190; i += 7)
                    for (int64_t j = 0; j < 200; j++) {
                        float x = at(a, i, j);
                        float want = left ? ref_bin((cl_binop)op, s, x)
                                          : ref_bin((cl_binop)op, x, s);
                        assert_true(same(at(o, i, j), want));
                    }
                cl_tensor_free(o);
            }
        cl_tensor_free(a);
    }
}

static void test_special_values(void **state)
{
    (void)state;
    float v[] = {NAN, INFINITY, -INFINITY, 0.0f, -0.0f, 1e-38f, -3.0f, 88.0f, -104.0f};
    cl_tensor *a, *o;
    assert_int_equal(cl_tensor_from_data(&a, 1, 9, 1, v), CL_OK);
    for (int op = CL_OP_ADD; op <= CL_OP_MAX; op++)
        check_binop((cl_binop)op, a, a);
    assert_int_equal(cl_tensor_ops_unop(&o, CL_FN_SIGMOID, a), CL_OK);
    assert_true(isnan(at(o, 0, 0)));
    assert_true(at(o, 1, 0) == 1.0f && at(o, 2, 0) == 0.0f);
    assert_true(at(o, 8, 0) >= 0.0f && at(o, 8, 0) < 1e-30f); /* no overflow to nan */
    cl_tensor_free(o);
    assert_int_equal(cl_tensor_ops_unop(&o, CL_FN_RELU, a), CL_OK);
    assert_true(isnan(at(o, 0, 0)));
    assert_true(at(o, 6, 0) == 0.0f && at(o, 7, 0) == 88.0f);
    cl_tensor_free(o);
    assert_int_equal(cl_tensor_ops_clamp(&o, a, -1, 1), CL_OK);
    assert_true(isnan(at(o, 0, 0)) && at(o, 1, 0) == 1.0f && at(o, 2, 0) == -1.0f);
    cl_tensor_free(o);
    double d;
    assert_int_equal(cl_tensor_ops_reduce_all(a, CL_RED_MAX, &d), CL_OK);
    assert_true(isnan(d)); /* nan propagates */
    assert_int_equal(cl_tensor_ops_reduce_all(a, CL_RED_ARGMIN, &d), CL_OK);
    assert_true(d == 0.0);
    assert_int_equal(cl_tensor_ops_reduce_all(a, CL_RED_SUM, &d), CL_OK);
    assert_true(isnan(d));
    cl_tensor_free(a);
}

static double ref_un(cl_unop fn, double x)
{
    switch (fn) {
    case CL_FN_EXP: return exp(x);
    case CL_FN_LOG: return log(x);
    case CL_FN_SQRT: return sqrt(x);
    case CL_FN_ABS: return fabs(x);
    case CL_FN_SIGMOID: return 1.0 / (1.0 + exp(-x));
    case CL_FN_TANH: return tanh(x);
    case CL_FN_RELU: return x > 0 ? x : 0;
    case CL_FN_NEG: return -x;
    }
    return 0;
}

static void test_unop(void **state)
{
    (void)state;
    for (int k = 0; k < 4; k++) {
        int64_t m = k == 0 ? 300 : 17, n = k == 0 ? 200 : 13;
        cl_tensor *a = view_kind(k, m, n, 30), *o;
        for (int fn = CL_FN_EXP; fn <= CL_FN_NEG; fn++) {
            assert_int_equal(cl_tensor_ops_unop(&o, (cl_unop)fn, a), CL_OK);
            for (int64_t i = 0; i < m; i++)
                for (int64_t j = 0; j < n; j++) {
                    double x = at(a, i, j), want = ref_un((cl_unop)fn, x);
                    if (isnan(want)) /* log/sqrt of negatives */
                        assert_true(isnan(at(o, i, j)));
                    else
                        assert_close(at(o, i, j), want, 2e-6, "unop");
                }
            cl_tensor_free(o);
        }
        assert_int_equal(cl_tensor_ops_clamp(&o, a, -0.5f, 0.25f), CL_OK);
        for (int64_t i = 0; i < m; i++)
            for (int64_t j = 0; j < n; j++) {
                float x = at(a, i, j);
                assert_true(at(o, i, j) == (x < -0.5f ? -0.5f : x > 0.25f ? 0.25f : x));
            }
        cl_tensor_free(o);
        assert_int_equal(cl_tensor_ops_clamp(&o, a, 1, -1), CL_EINVAL);
        assert_msg("lower bound 1 is above upper bound -1");
        assert_int_equal(cl_tensor_ops_clamp(&o, a, NAN, 1), CL_EINVAL);
        assert_int_equal(cl_tensor_ops_unop(&o, (cl_unop)42, a), CL_EINVAL);
        cl_tensor_free(a);
    }
}

/* ---- matmul ------------------------------------------------------------------------- */

static void check_mm(const cl_tensor *a, const cl_tensor *b)
{
    cl_tensor *c;
    int64_t m = a->ndim == 1 ? 1 : a->shape[0];
    int64_t k = a->ndim == 1 ? a->shape[0] : a->shape[1];
    int64_t n = b->ndim == 1 ? 1 : b->shape[1];
    assert_int_equal(cl_tensor_ops_matmul(&c, a, b), CL_OK);
    for (int64_t i = 0; i < m; i++)
        for (int64_t j = 0; j < n; j++) {
            double s = 0, sa = 0;
            for (int64_t q = 0; q < k; q++) {
                double x = a->ndim == 1 ? at(a, q, 0) : at(a, i, q);
                double y = b->ndim == 1 ? at(b, q, 0) : at(b, q, j);
                s += x * y, sa += fabs(x * y);
            }
            float got = c->ndim == 1 ? at(c, a->ndim == 1 ? j : i, 0) : at(c, i, j);
            /* A float32 dot product of length k, in any order and with or without FMA (every
             * OpenBLAS kernel), is within gamma_k sum|x y| of the exact value, gamma_k =
             * k u / (1 - k u), u = 2^-24 (Higham, Accuracy and Stability, 3.1); s is exact to
             * double rounding. FLT_MIN covers results that underflow. */
            double ku = (double)k * 0x1p-24, tol = ku / (1 - ku) * sa + FLT_MIN;
            if (!(fabs(got - s) <= tol))
                fail_msg("mm (%lld, %lld), depth %lld: got %.8g want %.8g (tolerance %.3g)",
                         (long long)i, (long long)j, (long long)k, (double)got, s, tol);
        }
    cl_tensor_free(c);
}

static void test_matmul(void **state)
{
    (void)state;
    /* general, 1 x 1 result, larger, k = 1, and the sgemv paths (n = 1, m = 1) */
    int64_t dims[][3] = {{3, 4, 5}, {1, 7, 1}, {64, 33, 70}, {5, 1, 6}, {6, 9, 1}, {1, 9, 5},
                         {300, 200, 1}, {1, 200, 300}};
    for (int d = 0; d < 8; d++)
        for (int ka = 0; ka < 4; ka++)
            for (int kb = 0; kb < 4; kb++) {
                cl_tensor *a = view_kind(ka, dims[d][0], dims[d][1], 40);
                cl_tensor *b = view_kind(kb, dims[d][1], dims[d][2], 41);
                check_mm(a, b);
                cl_tensor_free(a), cl_tensor_free(b);
            }
    /* matrix-vector and vector-matrix */
    cl_tensor *a = filled(2, 6, 4, 1), *v = filled(1, 4, 1, 2), *w = filled(1, 6, 1, 3), *c;
    check_mm(a, v);
    check_mm(w, a);
    /* strided 1-D operands (every other element) and transposed matrices */
    cl_tensor *v8 = filled(1, 8, 1, 4), *w12 = filled(1, 12, 1, 5), *vs, *ws, *at;
    assert_int_equal(cl_tensor_view(&vs, v8), CL_OK);
    vs->shape[0] = 4, vs->stride[0] = 2;
    assert_int_equal(cl_tensor_view(&ws, w12), CL_OK);
    ws->shape[0] = 6, ws->stride[0] = 2;
    assert_int_equal(cl_tensor_transpose(&at, a), CL_OK); /* 4 x 6 */
    check_mm(a, vs);
    check_mm(ws, a);
    check_mm(at, ws);
    check_mm(vs, at);
    cl_tensor_free(v8), cl_tensor_free(w12), cl_tensor_free(vs), cl_tensor_free(ws);
    cl_tensor_free(at);
    assert_int_equal(cl_tensor_ops_matmul(&c, a, v), CL_OK);
    assert_int_equal(c->ndim, 1);
    assert_int_equal((int)cl_tensor_numel(c), 6);
    cl_tensor_free(c);
    cl_tensor_free(a), cl_tensor_free(v), cl_tensor_free(w);
}

static void test_matmul_no_copy(void **state)
{
    (void)state;
    /* transposed and sliced operands go to sgemm as they are: the only allocations are the
     * result's, as many as one cl_tensor_new makes */
    cl_tensor *probe;
    long before = cl_alloc_count();
    assert_int_equal(cl_tensor_new(&probe, 2, 20, 10), CL_OK);
    long per_tensor = cl_alloc_count() - before;
    cl_tensor_free(probe);
    for (int ka = 0; ka < 4; ka++)
        for (int kb = 0; kb < 4; kb++) {
            cl_tensor *a = view_kind(ka, 20, 30, 1), *b = view_kind(kb, 30, 10, 2), *c;
            before = cl_alloc_count();
            assert_int_equal(cl_tensor_ops_matmul(&c, a, b), CL_OK);
            long extra = cl_alloc_count() - before - per_tensor;
            /* kind 3 has no unit stride: that operand alone is copied (one more tensor) */
            if (extra != per_tensor * ((ka == 3) + (kb == 3)))
                fail_msg("mm of view kinds %d @ %d copied (%ld allocations)", ka, kb,
                         cl_alloc_count() - before);
            cl_tensor_free(c), cl_tensor_free(a), cl_tensor_free(b);
        }
}

static void test_matmul_errors(void **state)
{
    (void)state;
    cl_tensor *a = filled(2, 2, 3, 1), *b = filled(2, 2, 3, 2), *c = (cl_tensor *)1;
    assert_int_equal(cl_tensor_ops_matmul(&c, a, b), CL_EINVAL);
    assert_null(c);
    assert_string_equal(cl_error_last(), "mm: inner dimensions differ (2x3 @ 2x3)");
    cl_tensor *x = filled(1, 3, 1, 1), *y = filled(1, 3, 1, 2);
    assert_int_equal(cl_tensor_ops_matmul(&c, x, y), CL_EINVAL);
    assert_msg("both operands are 1-D (3 @ 3)");
    assert_int_equal(cl_tensor_ops_matmul(&c, b, y), CL_OK); /* 2x3 @ 3 */
    cl_tensor_free(c);
    /* empty dimensions give zeros, never touch BLAS with bad leading dimensions */
    cl_tensor *e0 = filled(2, 0, 3, 1), *e1 = filled(2, 3, 0, 1), *e2 = filled(2, 0, 4, 1);
    cl_tensor *f34 = filled(2, 3, 4, 1);
    assert_int_equal(cl_tensor_ops_matmul(&c, e0, f34), CL_OK); /* 0x3 @ 3x4 = 0x4 */
    assert_int_equal((int)cl_tensor_rows(c), 0);
    assert_int_equal((int)cl_tensor_cols(c), 4);
    cl_tensor_free(c), cl_tensor_free(f34);
    assert_int_equal(cl_tensor_ops_matmul(&c, e1, e2), CL_OK); /* 3x0 @ 0x4 = zeros 3x4 */
    assert_int_equal((int)cl_tensor_rows(c), 3);
    for (int i = 0; i < 12; i++)
        assert_true(c->storage->data[i] == 0.0f);
    cl_tensor_free(c);
    cl_tensor_free(a), cl_tensor_free(b), cl_tensor_free(x), cl_tensor_free(y);
    cl_tensor_free(e0), cl_tensor_free(e1), cl_tensor_free(e2);
}

/* ---- reductions --------------------------------------------------------------------- */

/* Reference over the values of t (any view) in logical order. */
static double ref_reduce(const cl_tensor *t, cl_reduce r, int dim, int64_t line)
{
    int64_t m = t->shape[0], n = t->shape[1];
    int64_t len = dim < 0 ? m * n : dim == 0 ? m : n;
    double s = 0, best = 0;
    int64_t arg = -1;
    for (int pass = 0; pass < 2; pass++) {
        double mean = s / (double)len, ss = 0;
        for (int64_t q = 0; q < len; q++) {
            double x = dim < 0 ? at(t, q / n, q % n) : dim == 0 ? at(t, q, line) : at(t, line, q);
            if (pass == 0) {
                s += x;
                int better = r == CL_RED_MAX || r == CL_RED_ARGMAX ? x > best : x < best;
                if (arg < 0 || better)
                    best = x, arg = q;
            } else {
                ss += (x - mean) * (x - mean);
            }
        }
        if (pass == 1 && r == CL_RED_STD)
            return sqrt(ss / (double)(len - 1));
    }
    switch (r) {
    case CL_RED_SUM: return s;
    case CL_RED_MEAN: return s / (double)len;
    case CL_RED_MIN:
    case CL_RED_MAX: return best;
    case CL_RED_ARGMAX:
    case CL_RED_ARGMIN: return (double)arg;
    default: return NAN;
    }
}

static void test_reductions(void **state)
{
    (void)state;
    int64_t sizes[][2] = {{1, 1}, {3, 5}, {300, 301}, {7, 700}};
    for (int s = 0; s < 4; s++)
        for (int k = 0; k < 4; k++) {
            int64_t m = sizes[s][0], n = sizes[s][1];
            cl_tensor *t = view_kind(k, m, n, 50 + (uint64_t)k), *o;
            for (int r = CL_RED_SUM; r <= CL_RED_ARGMIN; r++) {
                double got;
                if (r == CL_RED_STD && m * n == 1)
                    continue;
                assert_int_equal(cl_tensor_ops_reduce_all(t, (cl_reduce)r, &got), CL_OK);
                assert_close(got, ref_reduce(t, (cl_reduce)r, -1, 0), 1e-9, "reduce_all");
                for (int dim = 0; dim <= 1; dim++) {
                    int64_t lines = dim == 0 ? n : m, len = dim == 0 ? m : n;
                    assert_int_equal(cl_tensor_ops_reduce_dim(&o, t, (cl_reduce)r, dim), CL_OK);
                    assert_int_equal(o->ndim, 1);
                    assert_int_equal((int)cl_tensor_numel(o), (int)lines);
                    for (int64_t l = 0; l < lines; l++) {
                        if (r == CL_RED_STD && len == 1)
                            assert_true(isnan(at(o, l, 0)));
                        else
                            assert_close(at(o, l, 0), ref_reduce(t, (cl_reduce)r, dim, l), 1e-6,
                                         "reduce_dim");
                    }
                    cl_tensor_free(o);
                }
            }
            cl_tensor_free(t);
        }
    /* a 1-D tensor reduces along dim 0 to one value */
    cl_tensor *v = filled(1, 10, 1, 3), *o;
    assert_int_equal(cl_tensor_ops_reduce_dim(&o, v, CL_RED_SUM, 0), CL_OK);
    assert_int_equal((int)cl_tensor_numel(o), 1);
    assert_close(at(o, 0, 0), ref_reduce(v, CL_RED_SUM, -1, 0), 1e-6, "1-D sum");
    cl_tensor_free(o);
    assert_int_equal(cl_tensor_ops_reduce_dim(&o, v, CL_RED_SUM, 1), CL_EINVAL);
    assert_msg("dimension 2 of a 1-D tensor (10)");
    assert_int_equal(cl_tensor_ops_reduce_dim(&o, v, CL_RED_SUM, 2), CL_EINVAL);
    assert_msg("dimension 3 is not 1 or 2");
    cl_tensor_free(v);
}

static void test_reduction_ties_and_empty(void **state)
{
    (void)state;
    float v[] = {1, 5, 5, -2, -2, 0};
    cl_tensor *t, *o;
    double d;
    assert_int_equal(cl_tensor_from_data(&t, 2, 2, 3, v), CL_OK);
    assert_int_equal(cl_tensor_ops_reduce_all(t, CL_RED_ARGMAX, &d), CL_OK);
    assert_true(d == 1.0); /* first occurrence */
    assert_int_equal(cl_tensor_ops_reduce_all(t, CL_RED_ARGMIN, &d), CL_OK);
    assert_true(d == 3.0);
    cl_tensor_free(t);

    assert_int_equal(cl_tensor_zeros(&t, 2, 0, 3), CL_OK);
    assert_int_equal(cl_tensor_ops_reduce_all(t, CL_RED_SUM, &d), CL_OK);
    assert_true(d == 0.0);
    assert_int_equal(cl_tensor_ops_reduce_all(t, CL_RED_MEAN, &d), CL_EINVAL);
    assert_msg("mean: empty tensor (0x3)");
    assert_int_equal(cl_tensor_ops_reduce_dim(&o, t, CL_RED_SUM, 0), CL_OK); /* 3 zeros */
    assert_int_equal((int)cl_tensor_numel(o), 3);
    assert_true(at(o, 2, 0) == 0.0f);
    cl_tensor_free(o);
    assert_int_equal(cl_tensor_ops_reduce_dim(&o, t, CL_RED_MAX, 0), CL_EINVAL);
    assert_msg("max: empty dimension 1 (tensor 0x3)");
    assert_int_equal(cl_tensor_ops_reduce_dim(&o, t, CL_RED_MAX, 1), CL_OK); /* 0 lines */
    assert_int_equal((int)cl_tensor_numel(o), 0);
    cl_tensor_free(o);
    cl_tensor_free(t);
}

/* Same bits whatever the thread count. */
static void test_thread_independence(void **state)
{
    (void)state;
    cl_tensor *t = view_kind(1, 513, 1031, 77);
    double ref[CL_RED_ARGMIN + 1];
    cl_tensor *refdim[CL_RED_ARGMIN + 1][2];
    for (int threads = 1; threads <= 4; threads++) {
        cl_threads_set(threads);
        for (int r = CL_RED_SUM; r <= CL_RED_ARGMIN; r++) {
            double got;
            assert_int_equal(cl_tensor_ops_reduce_all(t, (cl_reduce)r, &got), CL_OK);
            if (threads == 1)
                ref[r] = got;
            else
                assert_memory_equal(&got, &ref[r], sizeof got);
            for (int dim = 0; dim <= 1; dim++) {
                cl_tensor *o;
                assert_int_equal(cl_tensor_ops_reduce_dim(&o, t, (cl_reduce)r, dim), CL_OK);
                if (threads == 1) {
                    refdim[r][dim] = o;
                } else {
                    assert_memory_equal(o->storage->data, refdim[r][dim]->storage->data,
                                        (size_t)cl_tensor_numel(o) * sizeof(float));
                    cl_tensor_free(o);
                }
            }
        }
    }
    cl_threads_set(0);
    for (int r = CL_RED_SUM; r <= CL_RED_ARGMIN; r++)
        cl_tensor_free(refdim[r][0]), cl_tensor_free(refdim[r][1]);
    cl_tensor_free(t);
}

/* A view and its contiguous copy reduce to the same bits: the summation order depends on the
 * logical shape only. */
static void test_layout_independence(void **state)
{
    (void)state;
    for (int k = 1; k < 4; k++) {
        cl_tensor *v = view_kind(k, 301, 517, 91), *c;
        assert_int_equal(cl_tensor_clone(&c, v), CL_OK);
        for (int r = CL_RED_SUM; r <= CL_RED_ARGMIN; r++) {
            double x, y;
            assert_int_equal(cl_tensor_ops_reduce_all(v, (cl_reduce)r, &x), CL_OK);
            assert_int_equal(cl_tensor_ops_reduce_all(c, (cl_reduce)r, &y), CL_OK);
            assert_memory_equal(&x, &y, sizeof x);
            for (int dim = 0; dim <= 1; dim++) {
                cl_tensor *ov, *oc;
                assert_int_equal(cl_tensor_ops_reduce_dim(&ov, v, (cl_reduce)r, dim), CL_OK);
                assert_int_equal(cl_tensor_ops_reduce_dim(&oc, c, (cl_reduce)r, dim), CL_OK);
                assert_memory_equal(ov->storage->data, oc->storage->data,
                                    (size_t)cl_tensor_numel(oc) * sizeof(float));
                cl_tensor_free(ov), cl_tensor_free(oc);
            }
        }
        cl_tensor_free(v), cl_tensor_free(c);
    }
}

/* Sums accumulate in double: a float accumulator would lose the small terms entirely. */
static void test_double_accumulation(void **state)
{
    (void)state;
    int64_t n = 1 << 20;
    cl_tensor *t;
    assert_int_equal(cl_tensor_full(&t, 1, n, 1, 1.0f), CL_OK);
    t->storage->data[0] = 1e8f;
    double s;
    assert_int_equal(cl_tensor_ops_reduce_all(t, CL_RED_SUM, &s), CL_OK);
    assert_true(s == 1e8 + (double)(n - 1));
    cl_tensor_free(t);
}

/* ---- allocation failures ------------------------------------------------------------ */

typedef int (*op_fn)(cl_tensor **out, const cl_tensor *a, const cl_tensor *b);

static int op_zeros(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)a, (void)b;
    return cl_tensor_zeros(o, 2, 50, 50);
}
static int op_randn(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)a, (void)b;
    return cl_tensor_randn(o, 2, 300, 300, 1);
}
static int op_eye(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)a, (void)b;
    return cl_tensor_eye(o, 10);
}
static int op_arange(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)a, (void)b;
    return cl_tensor_arange(o, 0, 100, 1);
}
static int op_linspace(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)a, (void)b;
    return cl_tensor_linspace(o, 0, 1, 100);
}
static int op_clone(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_clone(o, a);
}
static int op_contig(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_contiguous(o, a);
}
static int op_reshape(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_reshape(o, a, 1, cl_tensor_numel(a), 1);
}
static int op_transpose(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_transpose(o, a);
}
static int op_rows(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_rows_range(o, a, 1, 3);
}
static int op_index(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    int64_t idx[] = {2, 0};
    return cl_tensor_index_rows(o, a, idx, 2);
}
static int op_add(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    return cl_tensor_ops_binop(o, CL_OP_ADD, a, b);
}
static int op_scalar(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_ops_binop_scalar(o, CL_OP_MUL, a, 3, 1);
}
static int op_exp(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_ops_unop(o, CL_FN_EXP, a);
}
static int op_clamp(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_ops_clamp(o, a, 0, 1);
}
static int op_mm(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    return cl_tensor_ops_matmul(o, a, b);
}
static int op_sumdim(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    return cl_tensor_ops_reduce_dim(o, a, CL_RED_STD, 0);
}
static int op_sumall(cl_tensor **o, const cl_tensor *a, const cl_tensor *b)
{
    (void)b;
    double d;
    *o = NULL;
    int rc = cl_tensor_ops_reduce_all(a, CL_RED_STD, &d);
    if (rc == CL_OK)
        rc = cl_tensor_zeros(o, 1, 1, 1);
    return rc;
}

static void test_alloc_failure_sweep(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        op_fn fn;
    } ops[] = {{"zeros", op_zeros},     {"randn", op_randn},         {"eye", op_eye},
               {"arange", op_arange},   {"linspace", op_linspace},   {"clone", op_clone},
               {"contiguous", op_contig}, {"reshape", op_reshape},   {"transpose", op_transpose},
               {"rows", op_rows},       {"index_rows", op_index},    {"add", op_add},
               {"scalar", op_scalar},   {"exp", op_exp},             {"clamp", op_clamp},
               {"mm", op_mm},           {"reduce_dim", op_sumdim},   {"reduce_all", op_sumall}};
    /* a strided (non-contiguous) big operand so copies, blocks and partials are exercised;
     * mm's right operand has no unit stride, forcing the copy path */
    cl_tensor *a = view_kind(3, 130, 260, 1), *b = view_kind(3, 260, 130, 2);
    size_t base = cl_alloc_bytes();
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
        const cl_tensor *rhs = ops[k].fn == op_mm ? b : a;
        int done = 0;
        for (long n = 1; n < 100 && !done; n++) {
            cl_tensor *o = (cl_tensor *)1;
            cl_alloc_fail_at(n);
            int rc = ops[k].fn(&o, a, rhs);
            long made = cl_alloc_count();
            cl_alloc_fail_at(0);
            if (rc == CL_OK) {
                assert_non_null(o);
                cl_tensor_free(o);
                done = made < n; /* ran to completion without reaching the failure */
                if (!done)
                    fail_msg("%s succeeded although allocation %ld failed", ops[k].name, n);
            } else {
                if (rc != CL_ENOMEM)
                    fail_msg("%s with allocation %ld failing: status %d (%s)", ops[k].name, n,
                             rc, cl_error_last());
                assert_null(o);
            }
            if (cl_alloc_bytes() != base)
                fail_msg("%s leaks %zd bytes when allocation %ld fails", ops[k].name,
                         (ssize_t)(cl_alloc_bytes() - base), n);
        }
        if (!done)
            fail_msg("%s never succeeded", ops[k].name);
    }
    cl_tensor_free(a), cl_tensor_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_creation),
        cmocka_unit_test(test_creation_errors),
        cmocka_unit_test(test_arange_linspace),
        cmocka_unit_test(test_rand),
        cmocka_unit_test(test_views),
        cmocka_unit_test(test_binop_views),
        cmocka_unit_test(test_broadcast),
        cmocka_unit_test(test_binop_scalar),
        cmocka_unit_test(test_special_values),
        cmocka_unit_test(test_unop),
        cmocka_unit_test(test_matmul),
        cmocka_unit_test(test_matmul_no_copy),
        cmocka_unit_test(test_matmul_errors),
        cmocka_unit_test(test_reductions),
        cmocka_unit_test(test_reduction_ties_and_empty),
        cmocka_unit_test(test_thread_independence),
        cmocka_unit_test(test_layout_independence),
        cmocka_unit_test(test_double_accumulation),
        cmocka_unit_test(test_alloc_failure_sweep),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
