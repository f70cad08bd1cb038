/* tensor.c - storage, views and shape functions. Element-wise math, matmul and reductions
 * live in tensor_ops.c. */
#include "tensor/tensor.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/threads.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_shape(int ndim, int64_t rows, int64_t cols)
{
    if (ndim != 1 && ndim != 2)
        return cl_error(CL_EINVAL, "tensor: ndim must be 1 or 2, got %d", ndim);
    if (ndim == 1)
        cols = 1;
    if (rows < 0 || cols < 0)
        return cl_error(CL_EINVAL, "tensor: negative size (%lldx%lld)", (long long)rows,
                        (long long)cols);
    if (cols != 0 && rows > CL_TENSOR_MAX_ELEMS / cols)
        return cl_error(CL_ERANGE, "tensor: %lldx%lld is more than %lld elements",
                        (long long)rows, (long long)cols, (long long)CL_TENSOR_MAX_ELEMS);
    return CL_OK;
}

static cl_storage *storage_new(int64_t n)
{
    cl_storage *s = cl_alloc(sizeof *s);
    if (!s)
        return NULL;
    s->data = cl_alloc((size_t)(n ? n : 1) * sizeof(float));
    if (!s->data) {
        cl_alloc_free(s);
        return NULL;
    }
    s->n = n;
    s->refcount = 1;
    return s;
}

static void storage_release(cl_storage *s)
{
    if (s && __atomic_sub_fetch(&s->refcount, 1, __ATOMIC_ACQ_REL) == 0) {
        cl_alloc_free(s->data);
        cl_alloc_free(s);
    }
}

int cl_tensor_new(cl_tensor **out, int ndim, int64_t rows, int64_t cols)
{
    *out = NULL;
    int rc = check_shape(ndim, rows, cols);
    if (rc)
        return rc;
    if (ndim == 1)
        cols = 1;
    cl_tensor *t = cl_alloc(sizeof *t);
    if (!t)
        return CL_ENOMEM;
    t->storage = storage_new(rows * cols);
    if (!t->storage) {
        cl_alloc_free(t);
        return CL_ENOMEM;
    }
    t->offset = 0;
    t->ndim = ndim;
    t->shape[0] = rows;
    t->shape[1] = cols;
    t->stride[0] = cols;
    t->stride[1] = 1;
    *out = t;
    return CL_OK;
}

int cl_tensor_full(cl_tensor **out, int ndim, int64_t rows, int64_t cols, float v)
{
    int rc = cl_tensor_new(out, ndim, rows, cols);
    if (rc)
        return rc;
    float *d = (*out)->storage->data;
    int64_t n = (*out)->storage->n;
    for (int64_t i = 0; i < n; i++)
        d[i] = v;
    return CL_OK;
}

int cl_tensor_zeros(cl_tensor **out, int ndim, int64_t rows, int64_t cols)
{
    return cl_tensor_full(out, ndim, rows, cols, 0.0f);
}

int cl_tensor_from_data(cl_tensor **out, int ndim, int64_t rows, int64_t cols, const float *src)
{
    int rc = cl_tensor_new(out, ndim, rows, cols);
    if (rc)
        return rc;
    if ((*out)->storage->n)
        memcpy((*out)->storage->data, src, (size_t)(*out)->storage->n * sizeof(float));
    return CL_OK;
}

void cl_tensor_free(cl_tensor *t)
{
    if (!t)
        return;
    storage_release(t->storage);
    cl_alloc_free(t);
}

int cl_tensor_view(cl_tensor **out, const cl_tensor *t)
{
    cl_tensor *v = cl_alloc(sizeof *v);
    *out = NULL;
    if (!v)
        return CL_ENOMEM;
    *v = *t;
    __atomic_add_fetch(&t->storage->refcount, 1, __ATOMIC_RELAXED);
    *out = v;
    return CL_OK;
}

int64_t cl_tensor_numel(const cl_tensor *t) { return t->shape[0] * t->shape[1]; }
int64_t cl_tensor_rows(const cl_tensor *t) { return t->shape[0]; }
int64_t cl_tensor_cols(const cl_tensor *t) { return t->shape[1]; }

int cl_tensor_is_contiguous(const cl_tensor *t)
{
    return (t->shape[1] <= 1 || t->stride[1] == 1) &&
           (t->shape[0] <= 1 || t->stride[0] == t->shape[1]);
}

float *cl_tensor_data(const cl_tensor *t)
{
    CL_ASSERT(cl_tensor_is_contiguous(t));
    return t->storage->data + t->offset;
}

const char *cl_tensor_shape_str(const cl_tensor *t, char *buf, size_t cap)
{
    if (t->ndim == 1)
        snprintf(buf, cap, "%lld", (long long)t->shape[0]);
    else
        snprintf(buf, cap, "%lldx%lld", (long long)t->shape[0], (long long)t->shape[1]);
    return buf;
}

int cl_tensor_clone(cl_tensor **out, const cl_tensor *t)
{
    int rc = cl_tensor_new(out, t->ndim, t->shape[0], t->shape[1]);
    if (rc)
        return rc;
    float *d = (*out)->storage->data;
    if (cl_tensor_is_contiguous(t)) {
        if (cl_tensor_numel(t))
            memcpy(d, t->storage->data + t->offset, (size_t)cl_tensor_numel(t) * sizeof(float));
        return CL_OK;
    }
    for (int64_t i = 0; i < t->shape[0]; i++)
        for (int64_t j = 0; j < t->shape[1]; j++)
            *d++ = *cl_tensor_ptr(t, i, j);
    return CL_OK;
}

int cl_tensor_contiguous(cl_tensor **out, const cl_tensor *t)
{
    return cl_tensor_is_contiguous(t) ? cl_tensor_view(out, t) : cl_tensor_clone(out, t);
}

int cl_tensor_reshape(cl_tensor **out, const cl_tensor *t, int ndim, int64_t rows, int64_t cols)
{
    *out = NULL;
    int rc = check_shape(ndim, rows, cols);
    if (rc)
        return rc;
    if (ndim == 1)
        cols = 1;
    if (rows * cols != cl_tensor_numel(t)) {
        char a[64];
        return cl_error(CL_EINVAL, "reshape: cannot view %s (%lld elements) as %lldx%lld",
                        cl_tensor_shape_str(t, a, sizeof a), (long long)cl_tensor_numel(t),
                        (long long)rows, (long long)cols);
    }
    cl_tensor *c;
    rc = cl_tensor_contiguous(&c, t);
    if (rc)
        return rc;
    c->ndim = ndim;
    c->shape[0] = rows;
    c->shape[1] = cols;
    c->stride[0] = cols;
    c->stride[1] = 1;
    *out = c;
    return CL_OK;
}

int cl_tensor_transpose(cl_tensor **out, const cl_tensor *t)
{
    int rc = cl_tensor_view(out, t);
    if (rc)
        return rc;
    cl_tensor *v = *out;
    if (t->ndim == 1) { /* a 1-D vector transposes to a 1 x n row */
        v->ndim = 2;
        v->shape[0] = 1;
        v->shape[1] = t->shape[0];
        v->stride[0] = t->shape[0] * t->stride[0];
        v->stride[1] = t->stride[0];
        return CL_OK;
    }
    v->shape[0] = t->shape[1];
    v->shape[1] = t->shape[0];
    v->stride[0] = t->stride[1];
    v->stride[1] = t->stride[0];
    return CL_OK;
}

int cl_tensor_rows_range(cl_tensor **out, const cl_tensor *t, int64_t i0, int64_t i1)
{
    *out = NULL;
    if (i0 < 0 || i1 < i0 || i1 > t->shape[0])
        return cl_error(CL_ERANGE, "rows: range [%lld, %lld) outside 0..%lld", (long long)i0,
                        (long long)i1, (long long)t->shape[0]);
    int rc = cl_tensor_view(out, t);
    if (rc)
        return rc;
    (*out)->offset += i0 * t->stride[0];
    (*out)->shape[0] = i1 - i0;
    return CL_OK;
}

int cl_tensor_cols_range(cl_tensor **out, const cl_tensor *t, int64_t j0, int64_t j1)
{
    *out = NULL;
    if (t->ndim != 2)
        return cl_error(CL_EINVAL, "cols: tensor is 1-D");
    if (j0 < 0 || j1 < j0 || j1 > t->shape[1])
        return cl_error(CL_ERANGE, "cols: range [%lld, %lld) outside 0..%lld", (long long)j0,
                        (long long)j1, (long long)t->shape[1]);
    int rc = cl_tensor_view(out, t);
    if (rc)
        return rc;
    (*out)->offset += j0 * t->stride[1];
    (*out)->shape[1] = j1 - j0;
    return CL_OK;
}

int cl_tensor_index_rows(cl_tensor **out, const cl_tensor *t, const int64_t *idx, int64_t n)
{
    *out = NULL;
    for (int64_t k = 0; k < n; k++)
        if (idx[k] < 0 || idx[k] >= t->shape[0])
            return cl_error(CL_ERANGE, "index_rows: row %lld outside 0..%lld",
                            (long long)idx[k], (long long)t->shape[0] - 1);
    int rc = cl_tensor_new(out, t->ndim, n, t->shape[1]);
    if (rc)
        return rc;
    float *d = (*out)->storage->data;
    int64_t c = t->shape[1];
    for (int64_t k = 0; k < n; k++)
        for (int64_t j = 0; j < c; j++)
            d[k * c + j] = *cl_tensor_ptr(t, idx[k], j);
    return CL_OK;
}

static int check_index(const cl_tensor *t, int64_t i, int64_t j, const char *what)
{
    if (i < 0 || i >= t->shape[0] || j < 0 || j >= t->shape[1]) {
        char s[64];
        return cl_error(CL_ERANGE, "%s: index (%lld, %lld) out of range for %s", what,
                        (long long)i + 1, (long long)j + 1, cl_tensor_shape_str(t, s, sizeof s));
    }
    return CL_OK;
}

int cl_tensor_get(const cl_tensor *t, int64_t i, int64_t j, float *v)
{
    int rc = check_index(t, i, j, "get");
    if (rc == CL_OK)
        *v = *cl_tensor_ptr(t, i, j);
    return rc;
}

int cl_tensor_set(cl_tensor *t, int64_t i, int64_t j, float v)
{
    int rc = check_index(t, i, j, "set");
    if (rc == CL_OK)
        *cl_tensor_ptr(t, i, j) = v;
    return rc;
}

/* ---- creation helpers ----------------------------------------------------------------- */

int cl_tensor_eye(cl_tensor **out, int64_t n)
{
    int rc = cl_tensor_zeros(out, 2, n, n);
    if (rc)
        return rc;
    for (int64_t i = 0; i < n; i++)
        (*out)->storage->data[i * n + i] = 1.0f;
    return CL_OK;
}

int cl_tensor_arange(cl_tensor **out, double start, double stop, double step)
{
    *out = NULL;
    if (!isfinite(start) || !isfinite(stop) || !isfinite(step))
        return cl_error(CL_EINVAL, "arange: start, stop and step must be finite (got %g, %g, %g)",
                        start, stop, step);
    if (step == 0)
        return cl_error(CL_EINVAL, "arange: step must not be 0");
    double count = ceil((stop - start) / step);
    if (!(count > 0))
        count = 0;
    if (count > (double)CL_TENSOR_MAX_ELEMS)
        return cl_error(CL_ERANGE, "arange: %g elements is too many (at most %lld)", count,
                        (long long)CL_TENSOR_MAX_ELEMS);
    int64_t n = (int64_t)count;
    int rc = cl_tensor_new(out, 1, n, 1);
    if (rc)
        return rc;
    float *d = (*out)->storage->data;
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)(start + (double)i * step);
    return CL_OK;
}

int cl_tensor_linspace(cl_tensor **out, double a, double b, int64_t n)
{
    *out = NULL;
    if (!isfinite(a) || !isfinite(b))
        return cl_error(CL_EINVAL, "linspace: end points must be finite (got %g, %g)", a, b);
    if (n < 0)
        return cl_error(CL_EINVAL, "linspace: negative count %lld", (long long)n);
    int rc = cl_tensor_new(out, 1, n, 1);
    if (rc)
        return rc;
    float *d = (*out)->storage->data;
    for (int64_t i = 0; i < n; i++)
        d[i] = n == 1 ? (float)a : (float)(a + (b - a) * ((double)i / (double)(n - 1)));
    if (n > 1)
        d[n - 1] = (float)b; /* exact end point whatever the rounding */
    return CL_OK;
}

/* Random fills draw block k (RAND_BLOCK consecutive elements) from stream k of the seed, so
 * the values do not depend on the thread count. */
#define RAND_BLOCK 4096

static int rand_fill(cl_tensor **out, int ndim, int64_t rows, int64_t cols, uint64_t seed,
                     int normal)
{
    int rc = cl_tensor_new(out, ndim, rows, cols);
    if (rc)
        return rc;
    float *d = (*out)->storage->data;
    int64_t n = (*out)->storage->n;
    int64_t nblocks = (n + RAND_BLOCK - 1) / RAND_BLOCK;
#pragma omp parallel for num_threads(cl_threads_get()) schedule(static) if (nblocks > 4)
    for (int64_t k = 0; k < nblocks; k++) {
        cl_rng r;
        cl_rng_split(&r, seed, (uint64_t)k);
        int64_t end = (k + 1) * RAND_BLOCK < n ? (k + 1) * RAND_BLOCK : n;
        for (int64_t i = k * RAND_BLOCK; i < end; i++)
            d[i] = (float)(normal ? cl_rng_normal(&r) : cl_rng_uniform(&r));
        if (!normal) /* (float) of a double just below 1 can round up to 1: keep [0, 1) */
            for (int64_t i = k * RAND_BLOCK; i < end; i++)
                if (d[i] >= 1.0f)
                    d[i] = 0x1.fffffep-1f;
    }
    return CL_OK;
}

int cl_tensor_rand(cl_tensor **out, int ndim, int64_t rows, int64_t cols, uint64_t seed)
{
    return rand_fill(out, ndim, rows, cols, seed, 0);
}

int cl_tensor_randn(cl_tensor **out, int ndim, int64_t rows, int64_t cols, uint64_t seed)
{
    return rand_fill(out, ndim, rows, cols, seed, 1);
}
