/* param_io.c - parameter structs in model files. */
#include "base/param_io.h"
#include "base/error.h"

#include <stdio.h>

static void *field(void *params, const cl_param_def *d) { return (char *)params + d->offset; }

int cl_param_io_write(cl_mw *w, const cl_param_def *defs, const void *params)
{
    char name[96];
    int rc = CL_OK;
    for (const cl_param_def *d = defs; d->name && rc == CL_OK; d++) {
        const void *f = (const char *)params + d->offset;
        snprintf(name, sizeof name, "param.%s", d->name);
        switch (d->type) {
        case CL_PARAM_INT:
        case CL_PARAM_BOOL:
        case CL_PARAM_ENUM: rc = cl_modelio_w_num(w, name, *(const int *)f); break;
        case CL_PARAM_NUM: rc = cl_modelio_w_num(w, name, *(const double *)f); break;
        case CL_PARAM_SEED: rc = cl_modelio_w_int(w, name, (int64_t) * (const uint64_t *)f); break;
        case CL_PARAM_INTS: {
            const cl_param_ints *li = f;
            int64_t v[CL_PARAM_MAXINTS];
            for (int i = 0; i < li->n; i++)
                v[i] = li->v[i];
            rc = cl_modelio_w_i64(w, name, v, (size_t)li->n);
            break;
        }
        }
    }
    return rc;
}

int cl_param_io_read(const cl_mr *r, const cl_param_def *defs, void *params, const char *what)
{
    char name[96];
    for (const cl_param_def *d = defs; d->name; d++) {
        snprintf(name, sizeof name, "param.%s", d->name);
        if (!cl_modelio_r_has(r, name))
            continue; /* written before this parameter existed: keep the default */
        void *f = field(params, d);
        int rc = CL_OK;
        double x;
        switch (d->type) {
        case CL_PARAM_INT:
        case CL_PARAM_BOOL:
        case CL_PARAM_ENUM:
            if ((rc = cl_modelio_r_num(r, name, &x)) == CL_OK) {
                if (!(x >= -2147483648.0 && x <= 2147483647.0) || x != (double)(int)x)
                    return cl_error(CL_EFORMAT, "%s: parameter '%s' in the file is not an "
                                                "integer", what, d->name);
                *(int *)f = (int)x;
            }
            break;
        case CL_PARAM_NUM: rc = cl_modelio_r_num(r, name, (double *)f); break;
        case CL_PARAM_SEED: {
            int64_t s;
            if ((rc = cl_modelio_r_int(r, name, INT64_MIN, INT64_MAX, &s)) == CL_OK)
                *(uint64_t *)f = (uint64_t)s;
            break;
        }
        case CL_PARAM_INTS: {
            size_t n;
            int64_t v[CL_PARAM_MAXINTS];
            if ((rc = cl_modelio_r_count(r, name, CL_CHUNK_I64, &n)) != CL_OK)
                break;
            if (n > CL_PARAM_MAXINTS)
                return cl_error(CL_EFORMAT, "%s: parameter '%s' in the file has %zu values "
                                            "(at most %d)", what, d->name, n, CL_PARAM_MAXINTS);
            if ((rc = cl_modelio_r_i64(r, name, v, n)) != CL_OK)
                break;
            cl_param_ints *li = f;
            li->n = (int)n;
            for (size_t i = 0; i < n; i++) {
                if (v[i] < -1000000000 || v[i] > 1000000000)
                    return cl_error(CL_EFORMAT, "%s: parameter '%s' in the file is out of "
                                                "range", what, d->name);
                li->v[i] = (int)v[i];
            }
            break;
        }
        }
        if (rc)
            return rc;
    }
    int rc = cl_param_validate(defs, params, what);
    return rc ? cl_error_wrap(CL_EFORMAT, "model file") : CL_OK;
}
