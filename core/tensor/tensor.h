/* tensor.h - dense float32 tensors, 1-D or 2-D, row-major, refcounted storage with views.
 *
 * A cl_tensor is a view: shape, strides (in elements) and an offset into a refcounted
 * cl_storage. Views (transpose, row/column ranges) share storage; cl_tensor_contiguous gives
 * a row-major packed tensor (a retained view when already contiguous). Model code asks for
 * contiguous inputs. Sums and means accumulate in double.
 *
 * Ownership: every function returning a cl_tensor * (through an out-parameter) gives an owned
 * tensor, released with cl_tensor_free. Inputs are borrowed for the duration of the call.
 * Shapes: a 1-D tensor of n elements has ndim 1, rows = n, cols = 1 in the helpers below.
 */
#ifndef CL_TENSOR_H
#define CL_TENSOR_H

#include <stddef.h>
#include <stdint.h>

#include "base/rng.h"

#define CL_TENSOR_MAX_ELEMS ((int64_t)1 << 40)

typedef struct cl_storage {
    float *data;
    int64_t n;       /* elements */
    int refcount;    /* atomic */
} cl_storage;

typedef struct cl_tensor {
    cl_storage *storage;
    int64_t offset;      /* elements */
    int ndim;            /* 1 or 2 */
    int64_t shape[2];    /* shape[1] == 1 for 1-D */
    int64_t stride[2];   /* elements */
} cl_tensor;

/* ---- lifecycle ---- */
int cl_tensor_new(cl_tensor **out, int ndim, int64_t rows, int64_t cols); /* uninitialised */
int cl_tensor_zeros(cl_tensor **out, int ndim, int64_t rows, int64_t cols);
int cl_tensor_full(cl_tensor **out, int ndim, int64_t rows, int64_t cols, float v);
int cl_tensor_from_data(cl_tensor **out, int ndim, int64_t rows, int64_t cols, const float *src);
void cl_tensor_free(cl_tensor *t);                       /* NULL is fine */
int cl_tensor_view(cl_tensor **out, const cl_tensor *t); /* new view sharing storage */
int cl_tensor_clone(cl_tensor **out, const cl_tensor *t); /* contiguous deep copy */
int cl_tensor_contiguous(cl_tensor **out, const cl_tensor *t);

/* ---- shape ---- */
int64_t cl_tensor_numel(const cl_tensor *t);
int64_t cl_tensor_rows(const cl_tensor *t);
int64_t cl_tensor_cols(const cl_tensor *t);
int cl_tensor_is_contiguous(const cl_tensor *t);
/* Pointer to element (i, j) (0-based); no bounds check: callers check. */
static inline float *cl_tensor_ptr(const cl_tensor *t, int64_t i, int64_t j)
{
    return t->storage->data + t->offset + i * t->stride[0] + j * t->stride[1];
}
/* Packed data pointer; the tensor must be contiguous (CL_ASSERT). */
float *cl_tensor_data(const cl_tensor *t);
/* "256x128" or "7" into buf. */
const char *cl_tensor_shape_str(const cl_tensor *t, char *buf, size_t cap);
/* A tensor over caller memory (rows x cols, row-major), for passing a plain array to a
 * tensor API without copying: t and s live on the caller's stack, the caller keeps the data
 * alive, and any view taken from t (cl_tensor_contiguous ...) is freed before they go out of
 * scope. The storage's reference is never released, so the data is never freed through it. */
static inline cl_tensor *cl_tensor_borrow(cl_tensor *t, cl_storage *s, const float *data,
                                          int64_t rows, int64_t cols)
{
    s->data = (float *)data;
    s->n = rows * cols;
    s->refcount = 1;
    t->storage = s;
    t->offset = 0;
    t->ndim = 2;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->stride[0] = cols;
    t->stride[1] = 1;
    return t;
}

int cl_tensor_reshape(cl_tensor **out, const cl_tensor *t, int ndim, int64_t rows, int64_t cols);
int cl_tensor_transpose(cl_tensor **out, const cl_tensor *t);             /* view */
int cl_tensor_rows_range(cl_tensor **out, const cl_tensor *t, int64_t i0, int64_t i1); /* view [i0,i1) */
int cl_tensor_cols_range(cl_tensor **out, const cl_tensor *t, int64_t j0, int64_t j1); /* view [j0,j1) */
int cl_tensor_index_rows(cl_tensor **out, const cl_tensor *t, const int64_t *idx, int64_t n); /* copy */

/* ---- element access (0-based, bounds-checked) ---- */
int cl_tensor_get(const cl_tensor *t, int64_t i, int64_t j, float *v);
int cl_tensor_set(cl_tensor *t, int64_t i, int64_t j, float v);

/* ---- creation helpers ---- */
int cl_tensor_eye(cl_tensor **out, int64_t n);
int cl_tensor_arange(cl_tensor **out, double start, double stop, double step);
int cl_tensor_linspace(cl_tensor **out, double a, double b, int64_t n);
int cl_tensor_rand(cl_tensor **out, int ndim, int64_t rows, int64_t cols, uint64_t seed);  /* U[0,1) */
int cl_tensor_randn(cl_tensor **out, int ndim, int64_t rows, int64_t cols, uint64_t seed); /* N(0,1) */

/* ---- math ---- */
typedef enum { CL_OP_ADD, CL_OP_SUB, CL_OP_MUL, CL_OP_DIV, CL_OP_POW,
               CL_OP_LT, CL_OP_LE, CL_OP_GT, CL_OP_GE, CL_OP_EQ, CL_OP_NE,
               CL_OP_MIN, CL_OP_MAX } cl_binop;
typedef enum { CL_FN_EXP, CL_FN_LOG, CL_FN_SQRT, CL_FN_ABS, CL_FN_SIGMOID, CL_FN_TANH,
               CL_FN_RELU, CL_FN_NEG } cl_unop;

/* out = a <op> b with broadcasting: equal shapes, a row vector (1 x n or 1-D of n against
 * m x n) or a column vector (m x 1 against m x n); comparisons give 0/1. Errors quote both
 * shapes ("add: shapes 2x3 and 4x3 do not broadcast"). */
int cl_tensor_ops_binop(cl_tensor **out, cl_binop op, const cl_tensor *a, const cl_tensor *b);
int cl_tensor_ops_binop_scalar(cl_tensor **out, cl_binop op, const cl_tensor *a, float s,
                           int scalar_left);
int cl_tensor_ops_unop(cl_tensor **out, cl_unop fn, const cl_tensor *a);
int cl_tensor_ops_clamp(cl_tensor **out, const cl_tensor *a, float lo, float hi);
/* out = a @ b via cblas_sgemm (cblas_sgemv when one side is a vector). Transposed and sliced
 * views with a unit stride in either dimension are passed as they are (CblasTrans / lda);
 * only views with no unit stride are copied. A 1-D left operand is a 1 x k row, a 1-D right
 * operand a k x 1 column, and the result is then 1-D; two 1-D operands are an error. Errors
 * quote both shapes ("mm: inner dimensions differ (2x3 @ 2x3)"). */
int cl_tensor_ops_matmul(cl_tensor **out, const cl_tensor *a, const cl_tensor *b);

/* ---- reductions (double accumulation) ---- */
typedef enum { CL_RED_SUM, CL_RED_MEAN, CL_RED_STD, CL_RED_MIN, CL_RED_MAX,
               CL_RED_ARGMAX, CL_RED_ARGMIN } cl_reduce;
/* Over all elements. std is the sample standard deviation (n - 1; NaN for one element);
 * arg* give 0-based flat indices (first occurrence; a NaN wins, and min/max are then NaN).
 * Sums are exact-order double sums over fixed blocks and lanes: the bits depend only on the
 * values and the shape, never on the thread count or the view's strides. Empty tensors:
 * sum 0, others CL_EINVAL. */
int cl_tensor_ops_reduce_all(const cl_tensor *t, cl_reduce r, double *out);
/* Along dim (0: over rows -> one value per column; 1: over cols -> one value per row), as a
 * 1-D tensor; arg* store 0-based indices as floats (exact below 2^24). */
int cl_tensor_ops_reduce_dim(cl_tensor **out, const cl_tensor *t, cl_reduce r, int dim);

#endif
