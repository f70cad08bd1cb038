/* tensor_ops.c - element-wise math with broadcasting, matmul (cblas_sgemm) and reductions.
 *
 * Every kernel walks views through their strides, so transposed and sliced tensors need no
 * copy; outputs are always new contiguous tensors. Reductions accumulate in double over
 * fixed-size blocks of the logical (row-major) element order and combine the block results in
 * block order, so a result is bit-identical whatever the thread count.
 */
#include "tensor/tensor.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/threads.h"

#include <cblas.h>
#include <limits.h>
#include <math.h>
#include <string.h>

/* Work below this many elements runs on one thread (a parallel region costs microseconds). */
#define PAR_MIN 32768
/* Elements per reduction block; block boundaries never depend on the thread count. */
#define RED_BLOCK 4096
/* Columns reduced together by the column-wise (dim 0) reductions. */
#define COL_CHUNK 256

static const char *binop_name(cl_binop op)
{
    static const char *names[] = {"add", "sub", "mul", "div", "pow", "lt", "le",
                                  "gt",  "ge",  "eq",  "ne",  "minimum", "maximum"};
    return (unsigned)op < sizeof names / sizeof names[0] ? names[op] : "binop";
}

static const char *reduce_name(cl_reduce r)
{
    static const char *names[] = {"sum", "mean", "std", "min", "max", "argmax", "argmin"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "reduce";
}

/* ---- element-wise kernels ----------------------------------------------------------- */

/* NaN-propagating min and max (fminf/fmaxf would hide missing values). */
static inline float min_nan(float x, float y) { return x != x ? x : y != y ? y : x < y ? x : y; }
static inline float max_nan(float x, float y) { return x != x ? x : y != y ? y : x > y ? x : y; }

/* Vectorised loops: `omp simd` asks for vectors even at -O2 (whose cost model skips loops of
 * unknown length), and the kernels are cloned for AVX2 with a run-time dispatch, so the
 * default build stays portable x86-64. Element-wise results are the same either way. */
#define SIMD _Pragma("omp simd")
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define KERNEL __attribute__((target_clones("avx2", "default")))
#endif
#endif
#ifndef KERNEL
#define KERNEL
#endif

/* One output row of n elements: o[j] = x op y with x = a[j * sa], y = b[j * sb]. Unit and
 * zero strides get their own loops so the compiler can vectorise them. */
#define BIN_LOOP(EXPR)                                                                       \
    do {                                                                                     \
        if (sa == 1 && sb == 1) {                                                            \
            SIMD for (int64_t j = 0; j < n; j++) {                                           \
                float x = a[j], y = b[j];                                                    \
                o[j] = (EXPR);                                                               \
            }                                                                                \
        } else if (sa == 1 && sb == 0) {                                                     \
            float y = b[0];                                                                  \
            SIMD for (int64_t j = 0; j < n; j++) {                                                \
                float x = a[j];                                                              \
                o[j] = (EXPR);                                                               \
            }                                                                                \
        } else if (sa == 0 && sb == 1) {                                                     \
            float x = a[0];                                                                  \
            SIMD for (int64_t j = 0; j < n; j++) {                                                \
                float y = b[j];                                                              \
                o[j] = (EXPR);                                                               \
            }                                                                                \
        } else {                                                                             \
            for (int64_t j = 0; j < n; j++) {                                                \
                float x = a[j * sa], y = b[j * sb];                                          \
                o[j] = (EXPR);                                                               \
            }                                                                                \
        }                                                                                    \
    } while (0)

KERNEL static void bin_row(cl_binop op, float *restrict o, const float *a, int64_t sa, const float *b,
                    int64_t sb, int64_t n)
{
    switch (op) {
    case CL_OP_ADD: BIN_LOOP(x + y); break;
    case CL_OP_SUB: BIN_LOOP(x - y); break;
    case CL_OP_MUL: BIN_LOOP(x * y); break;
    case CL_OP_DIV: BIN_LOOP(x / y); break;
    case CL_OP_POW: BIN_LOOP(powf(x, y)); break;
    case CL_OP_LT: BIN_LOOP(x < y ? 1.0f : 0.0f); break;
    case CL_OP_LE: BIN_LOOP(x <= y ? 1.0f : 0.0f); break;
    case CL_OP_GT: BIN_LOOP(x > y ? 1.0f : 0.0f); break;
    case CL_OP_GE: BIN_LOOP(x >= y ? 1.0f : 0.0f); break;
    case CL_OP_EQ: BIN_LOOP(x == y ? 1.0f : 0.0f); break;
    case CL_OP_NE: BIN_LOOP(x != y ? 1.0f : 0.0f); break;
    case CL_OP_MIN: BIN_LOOP(min_nan(x, y)); break;
    case CL_OP_MAX: BIN_LOOP(max_nan(x, y)); break;
    }
}

/* Shape of an operand as seen by broadcasting: a 1-D tensor of n against a 2-D tensor is a
 * 1 x n row. Strides of size-1 dimensions become 0 so they repeat. */
typedef struct bview {
    const float *p;
    int64_t r, c, s0, s1;
} bview;

static bview bview_of(const cl_tensor *t, int as_row)
{
    bview v = {cl_tensor_ptr(t, 0, 0), t->shape[0], t->shape[1], t->stride[0], t->stride[1]};
    if (as_row) {
        v.r = 1;
        v.c = t->shape[0];
        v.s0 = 0;
        v.s1 = t->stride[0];
    }
    if (v.r == 1)
        v.s0 = 0;
    if (v.c == 1)
        v.s1 = 0;
    return v;
}

static int valid_binop(cl_binop op) { return (unsigned)op <= (unsigned)CL_OP_MAX; }

int cl_tensor_ops_binop(cl_tensor **out, cl_binop op, const cl_tensor *a, const cl_tensor *b)
{
    *out = NULL;
    if (!valid_binop(op))
        return cl_error(CL_EINVAL, "binop: unknown operation %d", (int)op);
    int mixed = a->ndim != b->ndim;
    bview va = bview_of(a, mixed && a->ndim == 1);
    bview vb = bview_of(b, mixed && b->ndim == 1);
    int64_t r, c;
    if ((va.r != vb.r && va.r != 1 && vb.r != 1) || (va.c != vb.c && va.c != 1 && vb.c != 1)) {
        char sa[64], sb[64];
        return cl_error(CL_EINVAL, "%s: shapes %s and %s do not broadcast", binop_name(op),
                        cl_tensor_shape_str(a, sa, sizeof sa),
                        cl_tensor_shape_str(b, sb, sizeof sb));
    }
    r = va.r == 1 ? vb.r : va.r;
    c = va.c == 1 ? vb.c : va.c;
    int ndim = a->ndim > b->ndim ? a->ndim : b->ndim;
    if (ndim == 1 && c != 1) /* cannot happen: both 1-D have c == 1 */
        return cl_error(CL_EINVAL, "%s: internal shape error", binop_name(op));
    int rc = cl_tensor_new(out, ndim, r, c);
    if (rc)
        return rc;
    float *o = (*out)->storage->data;
    if (ndim == 1) { /* one long row in blocks, walked with the dimension's strides */
        int64_t nb = (r + RED_BLOCK - 1) / RED_BLOCK;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (r >= PAR_MIN)
        for (int64_t k = 0; k < nb; k++) {
            int64_t s = k * RED_BLOCK, e = s + RED_BLOCK < r ? s + RED_BLOCK : r;
            bin_row(op, o + s, va.p + s * va.s0, va.s0, vb.p + s * vb.s0, vb.s0, e - s);
        }
        return CL_OK;
    }
    if (va.s0 == va.c * va.s1 && va.s1 == 1 && vb.s0 == vb.c * vb.s1 && vb.s1 == 1 && va.r == r &&
        vb.r == r && va.c == c && vb.c == c) { /* both packed, same shape: one flat row */
        int64_t n = r * c;
        int64_t nb = (n + RED_BLOCK - 1) / RED_BLOCK;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (n >= PAR_MIN)
        for (int64_t k = 0; k < nb; k++) {
            int64_t s = k * RED_BLOCK, e = s + RED_BLOCK < n ? s + RED_BLOCK : n;
            bin_row(op, o + s, va.p + s, 1, vb.p + s, 1, e - s);
        }
        return CL_OK;
    }
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (r * c >= PAR_MIN)
    for (int64_t i = 0; i < r; i++)
        bin_row(op, o + i * c, va.p + i * va.s0, va.s1, vb.p + i * vb.s0, vb.s1, c);
    return CL_OK;
}

int cl_tensor_ops_binop_scalar(cl_tensor **out, cl_binop op, const cl_tensor *a, float s,
                           int scalar_left)
{
    *out = NULL;
    if (!valid_binop(op))
        return cl_error(CL_EINVAL, "binop: unknown operation %d", (int)op);
    int rc = cl_tensor_new(out, a->ndim, a->shape[0], a->shape[1]);
    if (rc)
        return rc;
    float *o = (*out)->storage->data;
    int64_t r = a->shape[0], c = a->shape[1];
    const float *sp = &s;
    if (cl_tensor_is_contiguous(a)) {
        const float *p = cl_tensor_ptr(a, 0, 0);
        int64_t n = r * c, nb = (n + RED_BLOCK - 1) / RED_BLOCK;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (n >= PAR_MIN)
        for (int64_t k = 0; k < nb; k++) {
            int64_t st = k * RED_BLOCK, e = st + RED_BLOCK < n ? st + RED_BLOCK : n;
            if (scalar_left)
                bin_row(op, o + st, sp, 0, p + st, 1, e - st);
            else
                bin_row(op, o + st, p + st, 1, sp, 0, e - st);
        }
        return CL_OK;
    }
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (r * c >= PAR_MIN)
    for (int64_t i = 0; i < r; i++) {
        const float *p = cl_tensor_ptr(a, i, 0);
        if (scalar_left)
            bin_row(op, o + i * c, sp, 0, p, a->stride[1], c);
        else
            bin_row(op, o + i * c, p, a->stride[1], sp, 0, c);
    }
    return CL_OK;
}

static inline float sigmoidf(float x)
{
    if (x >= 0)
        return 1.0f / (1.0f + expf(-x));
    float e = expf(x); /* no overflow for very negative x */
    return e / (1.0f + e);
}

#define UN_LOOP(EXPR)                                                                        \
    do {                                                                                     \
        if (sa == 1)                                                                         \
            SIMD for (int64_t j = 0; j < n; j++) {                                                \
                float x = a[j];                                                              \
                o[j] = (EXPR);                                                               \
            }                                                                                \
        else                                                                                 \
            for (int64_t j = 0; j < n; j++) {                                                \
                float x = a[j * sa];                                                         \
                o[j] = (EXPR);                                                               \
            }                                                                                \
    } while (0)

KERNEL static void un_row(cl_unop fn, float *restrict o, const float *a, int64_t sa, int64_t n, float lo,
                   float hi)
{
    switch (fn) {
    case CL_FN_EXP: UN_LOOP(expf(x)); break;
    case CL_FN_LOG: UN_LOOP(logf(x)); break;
    case CL_FN_SQRT: UN_LOOP(sqrtf(x)); break;
    case CL_FN_ABS: UN_LOOP(fabsf(x)); break;
    case CL_FN_SIGMOID: UN_LOOP(sigmoidf(x)); break;
    case CL_FN_TANH: UN_LOOP(tanhf(x)); break;
    case CL_FN_RELU: UN_LOOP(x < 0.0f ? 0.0f : x); break; /* NaN stays NaN */
    case CL_FN_NEG: UN_LOOP(-x); break;
    default: UN_LOOP(x < lo ? lo : x > hi ? hi : x); break; /* clamp; NaN stays NaN */
    }
}

#define FN_CLAMP ((cl_unop)-1)

static int unary(cl_tensor **out, cl_unop fn, const cl_tensor *a, float lo, float hi)
{
    int rc = cl_tensor_new(out, a->ndim, a->shape[0], a->shape[1]);
    if (rc)
        return rc;
    float *o = (*out)->storage->data;
    int64_t r = a->shape[0], c = a->shape[1];
    if (cl_tensor_is_contiguous(a)) {
        const float *p = cl_tensor_ptr(a, 0, 0);
        int64_t n = r * c, nb = (n + RED_BLOCK - 1) / RED_BLOCK;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (n >= PAR_MIN)
        for (int64_t k = 0; k < nb; k++) {
            int64_t st = k * RED_BLOCK, e = st + RED_BLOCK < n ? st + RED_BLOCK : n;
            un_row(fn, o + st, p + st, 1, e - st, lo, hi);
        }
        return CL_OK;
    }
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (r * c >= PAR_MIN)
    for (int64_t i = 0; i < r; i++)
        un_row(fn, o + i * c, cl_tensor_ptr(a, i, 0), a->stride[1], c, lo, hi);
    return CL_OK;
}

int cl_tensor_ops_unop(cl_tensor **out, cl_unop fn, const cl_tensor *a)
{
    *out = NULL;
    if ((unsigned)fn > (unsigned)CL_FN_NEG)
        return cl_error(CL_EINVAL, "unop: unknown function %d", (int)fn);
    return unary(out, fn, a, 0, 0);
}

int cl_tensor_ops_clamp(cl_tensor **out, const cl_tensor *a, float lo, float hi)
{
    *out = NULL;
    if (lo != lo || hi != hi)
        return cl_error(CL_EINVAL, "clamp: bounds must not be NaN");
    if (lo > hi)
        return cl_error(CL_EINVAL, "clamp: lower bound %g is above upper bound %g", (double)lo,
                        (double)hi);
    return unary(out, FN_CLAMP, a, lo, hi);
}

/* ---- matmul -------------------------------------------------------------------------- */

/* How BLAS should read a 2-D view (rows x cols): row-major directly (NoTrans, ld = stride[0]),
 * as the transpose of a row-major matrix (Trans, ld = stride[1]), or not at all (copy). */
typedef struct blas_view {
    const float *p;
    CBLAS_TRANSPOSE trans;
    int64_t ld;
} blas_view;

static int blas_readable(const cl_tensor *t, int64_t rows, int64_t cols, int64_t s0, int64_t s1,
                         blas_view *v)
{
    v->p = cl_tensor_ptr(t, 0, 0);
    if ((cols <= 1 || s1 == 1) && s0 >= (cols > 1 ? cols : 1) && s0 <= INT_MAX) {
        v->trans = CblasNoTrans;
        v->ld = s0;
        return 1;
    }
    if ((rows <= 1 || s0 == 1) && s1 >= (rows > 1 ? rows : 1) && s1 <= INT_MAX) {
        v->trans = CblasTrans;
        v->ld = s1;
        return 1;
    }
    return 0;
}

int cl_tensor_ops_matmul(cl_tensor **out, const cl_tensor *a, const cl_tensor *b)
{
    *out = NULL;
    char sa[64], sb[64];
    if (a->ndim == 1 && b->ndim == 1)
        return cl_error(CL_EINVAL, "mm: both operands are 1-D (%s @ %s); use (a * b):sum() for a "
                                   "dot product",
                        cl_tensor_shape_str(a, sa, sizeof sa),
                        cl_tensor_shape_str(b, sb, sizeof sb));
    /* A 1-D left operand is a 1 x k row, a 1-D right operand a k x 1 column; the result is
     * then 1-D. */
    int64_t m, k, n, ka, as0, as1, bs0, bs1;
    if (a->ndim == 1) {
        m = 1, ka = a->shape[0], as0 = a->shape[0] * a->stride[0], as1 = a->stride[0];
    } else {
        m = a->shape[0], ka = a->shape[1], as0 = a->stride[0], as1 = a->stride[1];
    }
    k = b->shape[0];
    n = b->ndim == 1 ? 1 : b->shape[1];
    bs0 = b->stride[0];
    bs1 = b->ndim == 1 ? 1 : b->stride[1];
    if (ka != k)
        return cl_error(CL_EINVAL, "mm: inner dimensions differ (%s @ %s)",
                        cl_tensor_shape_str(a, sa, sizeof sa),
                        cl_tensor_shape_str(b, sb, sizeof sb));
    if (m > INT_MAX || n > INT_MAX || k > INT_MAX)
        return cl_error(CL_ERANGE, "mm: dimensions of %s @ %s exceed the BLAS limit of %d",
                        cl_tensor_shape_str(a, sa, sizeof sa),
                        cl_tensor_shape_str(b, sb, sizeof sb),
                        INT_MAX);
    /* sets OpenBLAS's thread count and makes sure its buffers fit the address space */
    int rc = cl_threads_blas("mm");
    if (rc)
        return rc;
    int ndim = (a->ndim == 1 || b->ndim == 1) ? 1 : 2;
    rc = ndim == 1 ? cl_tensor_new(out, 1, a->ndim == 1 ? n : m, 1)
                       : cl_tensor_new(out, 2, m, n);
    if (rc)
        return rc;
    float *c = (*out)->storage->data;
    if (m == 0 || n == 0)
        return CL_OK;
    if (k == 0) {
        memset(c, 0, (size_t)(m * n) * sizeof(float));
        return CL_OK;
    }
    blas_view va, vb;
    /* A vector operand goes to sgemv with its stride as the increment (OpenBLAS 0.3.21's
     * sgemm does not forward n = 1 to gemv itself, and gemv never needs a copy). */
    if (n == 1 && bs0 >= 1 && bs0 <= INT_MAX && blas_readable(a, m, k, as0, as1, &va)) {
        const float *x = cl_tensor_ptr(b, 0, 0);
        if (va.trans == CblasNoTrans) /* y = A x, A m x k row-major */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m, (int)k, 1.0f, va.p, (int)va.ld, x,
                        (int)bs0, 0.0f, c, 1);
        else /* A is the transpose of a row-major k x m matrix */
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)k, (int)m, 1.0f, va.p, (int)va.ld, x,
                        (int)bs0, 0.0f, c, 1);
        return CL_OK;
    }
    if (m == 1 && as1 >= 1 && as1 <= INT_MAX && blas_readable(b, k, n, bs0, bs1, &vb)) {
        const float *x = cl_tensor_ptr(a, 0, 0);
        if (vb.trans == CblasNoTrans) /* y = B^T x, B k x n row-major */
            cblas_sgemv(CblasRowMajor, CblasTrans, (int)k, (int)n, 1.0f, vb.p, (int)vb.ld, x,
                        (int)as1, 0.0f, c, 1);
        else /* B is the transpose of a row-major n x k matrix */
            cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, (int)k, 1.0f, vb.p, (int)vb.ld, x,
                        (int)as1, 0.0f, c, 1);
        return CL_OK;
    }
    cl_tensor *ta = NULL, *tb = NULL;
    if (!blas_readable(a, m, k, as0, as1, &va)) {
        rc = cl_tensor_clone(&ta, a);
        if (rc)
            goto done;
        va.p = cl_tensor_data(ta), va.trans = CblasNoTrans, va.ld = k;
    }
    if (!blas_readable(b, k, n, bs0, bs1, &vb)) {
        rc = cl_tensor_clone(&tb, b);
        if (rc)
            goto done;
        vb.p = cl_tensor_data(tb), vb.trans = CblasNoTrans, vb.ld = n;
    }
    cblas_sgemm(CblasRowMajor, va.trans, vb.trans, (int)m, (int)n, (int)k, 1.0f, va.p, (int)va.ld,
                vb.p, (int)vb.ld, 0.0f, c, (int)n);
done:
    cl_tensor_free(ta);
    cl_tensor_free(tb);
    if (rc) {
        cl_tensor_free(*out);
        *out = NULL;
    }
    return rc;
}

/* ---- reductions ---------------------------------------------------------------------- */

/* Element f (0-based, logical row-major order) of t. */
static inline float at_flat(const cl_tensor *t, int64_t f)
{
    int64_t c = t->shape[1];
    return *cl_tensor_ptr(t, f / c, f % c);
}

/* Double sums over 8 lanes: element k of a reduction (in logical row-major order) is added
 * to lane k % 8 and the lanes are combined in a fixed order at the end. That breaks the
 * add-latency chain and vectorises, while every lane still sees its values in a fixed order:
 * the result depends only on the values and the shape - not on strides (a view and its
 * contiguous copy agree), the thread count, or the ISA clone (no FMA contraction under
 * -std=c11). */
typedef struct lanes {
    double acc[8];
    int lane; /* lane of the next element */
} lanes;

static double lanes_total(const lanes *l)
{
    const double *a = l->acc;
    return ((a[0] + a[4]) + (a[1] + a[5])) + ((a[2] + a[6]) + (a[3] + a[7]));
}

/* Adds p[q * st] (or (p[q * st] - shift)^2 when sq) for q < n. */
KERNEL static void lanes_add(lanes *l, const float *p, int64_t st, int64_t n, double shift,
                             int sq)
{
    double *acc = l->acc;
    int64_t q = 0;
    for (; q < n && l->lane != 0; q++, l->lane = (l->lane + 1) & 7) {
        double d = (double)p[q * st] - shift;
        acc[l->lane] += sq ? d * d : (double)p[q * st];
    }
    int64_t n8 = q + (n - q) / 8 * 8;
    if (st == 1 && !sq) {
        for (; q < n8; q += 8)
            for (int k = 0; k < 8; k++)
                acc[k] += (double)p[q + k];
    } else if (st == 1) {
        for (; q < n8; q += 8)
            for (int k = 0; k < 8; k++) {
                double d = (double)p[q + k] - shift;
                acc[k] += d * d;
            }
    } else {
        for (; q < n8; q += 8)
            for (int k = 0; k < 8; k++) {
                double d = (double)p[(q + k) * st] - shift;
                acc[k] += sq ? d * d : (double)p[(q + k) * st];
            }
    }
    for (; q < n; q++, l->lane = (l->lane + 1) & 7) {
        double d = (double)p[q * st] - shift;
        acc[l->lane] += sq ? d * d : (double)p[q * st];
    }
}

static double line_sum(const float *p, int64_t st, int64_t n, double shift, int sq)
{
    lanes l = {{0, 0, 0, 0, 0, 0, 0, 0}, 0};
    lanes_add(&l, p, st, n, shift, sq);
    return lanes_total(&l);
}

/* A tensor walked in logical order as one strided line, when it can be (packed, or a single
 * column as 1-D tensors are): sets *p and *st and returns 1. */
static int as_line(const cl_tensor *t, const float **p, int64_t *st)
{
    *p = cl_tensor_ptr(t, 0, 0);
    if (cl_tensor_is_contiguous(t))
        return *st = 1, 1;
    if (t->shape[1] == 1)
        return *st = t->stride[0], 1;
    return 0;
}

/* Sum of x (or of (x - shift)^2 when sq) over the flat range [f0, f1), in double. */
static double block_sum(const cl_tensor *t, int64_t f0, int64_t f1, double shift, int sq)
{
    const float *p;
    int64_t st;
    if (as_line(t, &p, &st))
        return line_sum(p + f0 * st, st, f1 - f0, shift, sq);
    lanes l = {{0, 0, 0, 0, 0, 0, 0, 0}, 0};
    int64_t c = t->shape[1];
    int64_t i = f0 / c, j = f0 % c;
    for (int64_t f = f0; f < f1;) {
        int64_t len = c - j < f1 - f ? c - j : f1 - f;
        lanes_add(&l, cl_tensor_ptr(t, i, j), t->stride[1], len, shift, sq);
        f += len;
        i++, j = 0;
    }
    return lanes_total(&l);
}

/* Index (flat) of the min (want_max = 0) or max over [f0, f1): first NaN wins, then the first
 * occurrence of the extreme. Walks whole row pieces like block_sum. */
static int64_t block_arg(const cl_tensor *t, int64_t f0, int64_t f1, int want_max)
{
    int64_t c = t->shape[1], s1 = t->stride[1];
    int64_t best = f0;
    float bv = at_flat(t, f0);
    if (bv != bv)
        return best;
    const float *lp;
    int64_t lst;
    int line = as_line(t, &lp, &lst);
    int64_t i = f0 / c, j = f0 % c;
    for (int64_t f = f0; f < f1;) {
        const float *p = line ? lp + f0 * lst : cl_tensor_ptr(t, i, j);
        int64_t len = line ? f1 - f0 : c - j < f1 - f ? c - j : f1 - f;
        if (line)
            s1 = lst;
        for (int64_t q = 0; q < len; q++) {
            float v = p[q * s1];
            if (v != v)
                return f + q;
            if (want_max ? v > bv : v < bv)
                bv = v, best = f + q;
        }
        f += len;
        i++, j = 0;
    }
    return best;
}

/* Sum (or squared deviations) over all elements: per-block partials reduced in block order. */
static int sum_all(const cl_tensor *t, double shift, int sq, double *out)
{
    int64_t n = cl_tensor_numel(t);
    int64_t nb = (n + RED_BLOCK - 1) / RED_BLOCK;
    if (nb <= 1) {
        *out = n ? block_sum(t, 0, n, shift, sq) : 0.0;
        return CL_OK;
    }
    double *part = cl_alloc((size_t)nb * sizeof(double));
    if (!part)
        return CL_ENOMEM;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (n >= PAR_MIN)
    for (int64_t k = 0; k < nb; k++) {
        int64_t e = (k + 1) * RED_BLOCK < n ? (k + 1) * RED_BLOCK : n;
        part[k] = block_sum(t, k * RED_BLOCK, e, shift, sq);
    }
    double s = 0;
    for (int64_t k = 0; k < nb; k++)
        s += part[k];
    cl_alloc_free(part);
    *out = s;
    return CL_OK;
}

static int arg_all(const cl_tensor *t, int want_max, int64_t *out)
{
    int64_t n = cl_tensor_numel(t);
    int64_t nb = (n + RED_BLOCK - 1) / RED_BLOCK;
    if (nb <= 1) {
        *out = block_arg(t, 0, n, want_max);
        return CL_OK;
    }
    int64_t *part = cl_alloc((size_t)nb * sizeof(int64_t));
    if (!part)
        return CL_ENOMEM;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (n >= PAR_MIN)
    for (int64_t k = 0; k < nb; k++) {
        int64_t e = (k + 1) * RED_BLOCK < n ? (k + 1) * RED_BLOCK : n;
        part[k] = block_arg(t, k * RED_BLOCK, e, want_max);
    }
    int64_t best = part[0];
    float bv = at_flat(t, best);
    for (int64_t k = 1; k < nb && bv == bv; k++) {
        float v = at_flat(t, part[k]);
        if (v != v || (want_max ? v > bv : v < bv))
            bv = v, best = part[k];
    }
    cl_alloc_free(part);
    *out = best;
    return CL_OK;
}

int cl_tensor_ops_reduce_all(const cl_tensor *t, cl_reduce r, double *out)
{
    int64_t n = cl_tensor_numel(t);
    if ((unsigned)r > (unsigned)CL_RED_ARGMIN)
        return cl_error(CL_EINVAL, "reduce: unknown reduction %d", (int)r);
    if (n == 0 && r != CL_RED_SUM) {
        char s[64];
        return cl_error(CL_EINVAL, "%s: empty tensor (%s)", reduce_name(r),
                        cl_tensor_shape_str(t, s, sizeof s));
    }
    int rc;
    double s;
    int64_t idx;
    switch (r) {
    case CL_RED_SUM: return sum_all(t, 0, 0, out);
    case CL_RED_MEAN:
        if ((rc = sum_all(t, 0, 0, &s)))
            return rc;
        *out = s / (double)n;
        return CL_OK;
    case CL_RED_STD: /* two passes: the mean, then squared deviations from it */
        if ((rc = sum_all(t, 0, 0, &s)))
            return rc;
        if ((rc = sum_all(t, s / (double)n, 1, &s)))
            return rc;
        *out = n > 1 ? sqrt(s / (double)(n - 1)) : NAN;
        return CL_OK;
    case CL_RED_MIN:
    case CL_RED_MAX:
        if ((rc = arg_all(t, r == CL_RED_MAX, &idx)))
            return rc;
        *out = at_flat(t, idx);
        return CL_OK;
    case CL_RED_ARGMIN:
    case CL_RED_ARGMAX:
        if ((rc = arg_all(t, r == CL_RED_ARGMAX, &idx)))
            return rc;
        *out = (double)idx;
        return CL_OK;
    }
    return CL_EINVAL;
}

/* Plain sequential double sum, the order reduce_cols_chunk uses for each column. */
static double seq_sum(const float *p, int64_t s, int64_t n, double shift, int sq)
{
    double acc = 0;
    for (int64_t q = 0; q < n; q++) {
        double d = (double)p[q * s] - shift;
        acc += sq ? d * d : (double)p[q * s];
    }
    return acc;
}

/* Reduces one strided line of n floats (p[q * s], q < n): rows (dim 2) sum over lanes like
 * the whole-tensor sums; columns (dim 1, `column`) sum sequentially like reduce_cols_chunk,
 * so each dimension gives the same bits whatever the layout. */
static float reduce_line(const float *p, int64_t s, int64_t n, cl_reduce r, int column)
{
    if (r == CL_RED_SUM || r == CL_RED_MEAN || r == CL_RED_STD) {
        double sum = column ? seq_sum(p, s, n, 0, 0) : line_sum(p, s, n, 0, 0);
        if (r == CL_RED_SUM)
            return (float)sum;
        double mean = sum / (double)n;
        if (r == CL_RED_MEAN)
            return (float)mean;
        double ss = column ? seq_sum(p, s, n, mean, 1) : line_sum(p, s, n, mean, 1);
        return n > 1 ? (float)sqrt(ss / (double)(n - 1)) : NAN;
    }
    int want_max = r == CL_RED_MAX || r == CL_RED_ARGMAX;
    int64_t best = 0;
    float bv = p[0];
    for (int64_t q = 1; q < n && bv == bv; q++) {
        float v = p[q * s];
        if (v != v || (want_max ? v > bv : v < bv))
            bv = v, best = q;
    }
    return (r == CL_RED_MIN || r == CL_RED_MAX) ? bv : (float)best;
}

/* Column-wise reduction (over rows) of the columns [j0, j0 + w), w <= COL_CHUNK: rows are
 * walked in order so each column sees its values in row order, cache-friendly for row-major
 * data. */
KERNEL static void reduce_cols_chunk(const cl_tensor *t, int64_t j0, int64_t w, cl_reduce r, float *o)
{
    int64_t m = t->shape[0], s1 = t->stride[1];
    double acc[COL_CHUNK], acc2[COL_CHUNK];
    int64_t arg[COL_CHUNK];
    float best[COL_CHUNK];
    if (r == CL_RED_SUM || r == CL_RED_MEAN || r == CL_RED_STD) {
        for (int64_t q = 0; q < w; q++)
            acc[q] = 0;
        for (int64_t i = 0; i < m; i++) {
            const float *p = cl_tensor_ptr(t, i, j0);
            if (s1 == 1) {
                SIMD for (int64_t q = 0; q < w; q++)
                    acc[q] += (double)p[q];
            } else {
                for (int64_t q = 0; q < w; q++)
                    acc[q] += (double)p[q * s1];
            }
        }
        if (r == CL_RED_SUM) {
            for (int64_t q = 0; q < w; q++)
                o[q] = (float)acc[q];
            return;
        }
        for (int64_t q = 0; q < w; q++)
            acc[q] /= (double)m;
        if (r == CL_RED_MEAN) {
            for (int64_t q = 0; q < w; q++)
                o[q] = (float)acc[q];
            return;
        }
        for (int64_t q = 0; q < w; q++)
            acc2[q] = 0;
        for (int64_t i = 0; i < m; i++) {
            const float *p = cl_tensor_ptr(t, i, j0);
            for (int64_t q = 0; q < w; q++) {
                double d = (double)p[q * s1] - acc[q];
                acc2[q] += d * d;
            }
        }
        for (int64_t q = 0; q < w; q++)
            o[q] = m > 1 ? (float)sqrt(acc2[q] / (double)(m - 1)) : NAN;
        return;
    }
    int want_max = r == CL_RED_MAX || r == CL_RED_ARGMAX;
    for (int64_t q = 0; q < w; q++) {
        best[q] = *cl_tensor_ptr(t, 0, j0 + q);
        arg[q] = 0;
    }
    for (int64_t i = 1; i < m; i++) {
        const float *p = cl_tensor_ptr(t, i, j0);
        for (int64_t q = 0; q < w; q++) {
            float v = p[q * s1], bv = best[q];
            if (bv == bv && (v != v || (want_max ? v > bv : v < bv)))
                best[q] = v, arg[q] = i;
        }
    }
    for (int64_t q = 0; q < w; q++)
        o[q] = (r == CL_RED_MIN || r == CL_RED_MAX) ? best[q] : (float)arg[q];
}

int cl_tensor_ops_reduce_dim(cl_tensor **out, const cl_tensor *t, cl_reduce r, int dim)
{
    *out = NULL;
    char s[64];
    if ((unsigned)r > (unsigned)CL_RED_ARGMIN)
        return cl_error(CL_EINVAL, "reduce: unknown reduction %d", (int)r);
    if (dim != 0 && dim != 1)
        return cl_error(CL_EINVAL, "%s: dimension %d is not 1 or 2 (tensor %s)", reduce_name(r),
                        dim + 1, cl_tensor_shape_str(t, s, sizeof s));
    if (t->ndim == 1 && dim == 1)
        return cl_error(CL_EINVAL, "%s: dimension 2 of a 1-D tensor (%s)", reduce_name(r),
                        cl_tensor_shape_str(t, s, sizeof s));
    int64_t m = t->shape[0], n = t->shape[1];
    int64_t len = dim == 0 ? m : n;   /* values per reduced line */
    int64_t lines = dim == 0 ? n : m; /* output length */
    if (len == 0 && r != CL_RED_SUM && lines > 0)
        return cl_error(CL_EINVAL, "%s: empty dimension %d (tensor %s)", reduce_name(r), dim + 1,
                        cl_tensor_shape_str(t, s, sizeof s));
    int rc = cl_tensor_new(out, 1, lines, 1);
    if (rc)
        return rc;
    float *o = (*out)->storage->data;
    if (len == 0) {
        for (int64_t q = 0; q < lines; q++)
            o[q] = 0.0f;
        return CL_OK;
    }
    if (dim == 1) {
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (m * n >= PAR_MIN)
        for (int64_t i = 0; i < m; i++)
            o[i] = reduce_line(cl_tensor_ptr(t, i, 0), t->stride[1], n, r, 0);
        return CL_OK;
    }
    int64_t chunks = (n + COL_CHUNK - 1) / COL_CHUNK;
    if (t->stride[0] == 1 && t->stride[1] != 1) { /* transposed view: columns are packed */
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (m * n >= PAR_MIN)
        for (int64_t j = 0; j < n; j++)
            o[j] = reduce_line(cl_tensor_ptr(t, 0, j), t->stride[0], m, r, 1);
        return CL_OK;
    }
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (m * n >= PAR_MIN)
    for (int64_t k = 0; k < chunks; k++) {
        int64_t j0 = k * COL_CHUNK, w = n - j0 < COL_CHUNK ? n - j0 : COL_CHUNK;
        reduce_cols_chunk(t, j0, w, r, o + j0);
    }
    return CL_OK;
}
