/* majority.c - a toy churn classifier added from outside the library, as a plugin.
 *
 * It predicts the training churn rate for every customer (scikit-learn's DummyClassifier
 * with strategy "prior"), shrunk towards 1/2 by a pseudo-count. Nothing in churnlab knows
 * it: the test (tests/lua/model_generic.lua) loads this shared object with package.loadlib,
 * luaopen_majority registers the kind with cl_model_kinds_register (models/model.h), and from then
 * on the generic classifier class serves it (construction from its parameter table, fit,
 * history, predict, save, load, print, help) with no other file edited: what issue 14 asks of
 * a new kind. The churnlab executable exports its symbols (-rdynamic) for such plugins.
 *
 * The fit history has two numbers (rate, rows), one series (the running rate after each
 * tenth of the rows, for the printing of series) and a warning when y holds one class only.
 */
#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "churnlab.h"

typedef struct majority_params {
    double shrink; /* rate = (positives + shrink / 2) / (n + shrink) */
} majority_params;

static const cl_param_def defs[] = {
    {"shrink", CL_PARAM_NUM, offsetof(majority_params, shrink), 1, 0, 1e6, NULL,
     "pseudo-count pulling the predicted rate towards 1/2"},
    {NULL}};

typedef struct majority {
    majority_params p;
    int fitted;
    int64_t d;
    double rate;
    char **names; /* d names or NULL */
} majority;

static void free_names(majority *m)
{
    for (int64_t j = 0; m->names && j < m->d; j++)
        cl_alloc_free(m->names[j]);
    cl_alloc_free(m->names);
    m->names = NULL;
}

static void defaults(void *p) { cl_param_defaults(defs, p); }

static int create(void **impl, const void *p)
{
    int rc = cl_param_validate(defs, p, "majority");
    if (rc)
        return rc;
    majority *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->p = *(const majority_params *)p;
    *impl = m;
    return CL_OK;
}

static void destroy(void *impl)
{
    free_names(impl);
    cl_alloc_free(impl);
}

static const void *params_of(const void *impl) { return &((const majority *)impl)->p; }
static int fitted(const void *impl) { return ((const majority *)impl)->fitted; }
static int64_t n_features(const void *impl) { return ((const majority *)impl)->d; }

static int set_names(void *impl, const char *const *names, int64_t d)
{
    majority *m = impl;
    free_names(m);
    if (!(m->names = cl_alloc_calloc((size_t)d, sizeof *m->names)))
        return CL_ENOMEM;
    m->d = d;
    for (int64_t j = 0; j < d; j++) {
        size_t len = strlen(names[j]) + 1;
        if (!(m->names[j] = cl_alloc(len)))
            return CL_ENOMEM;
        memcpy(m->names[j], names[j], len);
    }
    return CL_OK;
}

static const char *name(const void *impl, int64_t j)
{
    const majority *m = impl;
    return m->names && j >= 0 && j < m->d ? m->names[j] : NULL;
}

static int fit(void *impl, const float *X, const float *y, int64_t n, int64_t d,
               const cl_fit_opts *o, cl_model_history *h, const cl_progress *p)
{
    (void)X, (void)o, (void)p;
    majority *m = impl;
    if (m->names && m->d != d)
        free_names(m);
    double pos = 0, running[10];
    int k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(y[i] == 0 || y[i] == 1))
            return cl_error(CL_EINVAL, "majority: label %lld is %g, expected 0 or 1",
                            (long long)i + 1, (double)y[i]);
        pos += y[i];
        if (k < 10 && (i + 1) * 10 >= (k + 1) * n) /* after each tenth of the rows */
            running[k++] = pos / (double)(i + 1);
    }
    m->rate = (pos + m->p.shrink / 2) / ((double)n + m->p.shrink);
    m->d = d;
    m->fitted = 1;
    cl_model_history_scalar(h, "rate", m->rate, 0);
    cl_model_history_scalar(h, "rows", (double)n, 0);
    if (pos == 0 || pos == (double)n)
        snprintf(h->warning, sizeof h->warning, "majority: y holds one class only (%g)",
                 (double)y[0]);
    return cl_model_history_series(h, "running_rate", running, k);
}

static int predict(const void *impl, const float *X, int64_t n, int64_t d, float *out, int mode)
{
    (void)X, (void)d;
    const majority *m = impl;
    double v = mode == CL_PREDICT_MARGIN ? log(m->rate / (1 - m->rate)) : m->rate;
    for (int64_t i = 0; i < n; i++)
        out[i] = (float)v;
    return CL_OK;
}

/* Every feature contributes nothing; the base is the margin. */
static int contrib(const void *impl, const float *X, int64_t n, int64_t d, const float *ref,
                   float *phi)
{
    (void)X, (void)ref;
    const majority *m = impl;
    for (int64_t i = 0; i < n; i++) {
        for (int64_t j = 0; j < d; j++)
            phi[i * (d + 1) + j] = 0.0f;
        phi[i * (d + 1) + d] = (float)log(m->rate / (1 - m->rate));
    }
    return CL_OK;
}

static const char *describe(const void *impl, char *buf, size_t cap)
{
    const majority *m = impl;
    if (m->fitted)
        snprintf(buf, cap, "rate %.4g, %lld features", m->rate, (long long)m->d);
    else
        snprintf(buf, cap, "(not fitted)");
    return buf;
}

static int write_model(const void *impl, cl_mw *w)
{
    const majority *m = impl;
    int rc = cl_param_io_write(w, defs, &m->p);
    if (!rc)
        rc = cl_modelio_w_int(w, "majority.d", m->d);
    if (!rc)
        rc = cl_modelio_w_num(w, "majority.rate", m->rate);
    return rc;
}

static int read_model(void **impl, const cl_mr *r)
{
    majority *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    defaults(&m->p);
    int rc = cl_param_io_read(r, defs, &m->p, "majority");
    if (!rc)
        rc = cl_modelio_r_int(r, "majority.d", 1, (int64_t)1 << 20, &m->d);
    if (!rc)
        rc = cl_modelio_r_num(r, "majority.rate", &m->rate);
    if (!rc && !(m->rate > 0 && m->rate < 1))
        rc = cl_error(CL_EFORMAT, "majority.rate %g is not in (0, 1)", m->rate);
    if (rc) {
        cl_alloc_free(m);
        return rc;
    }
    m->fitted = 1;
    *impl = m;
    return CL_OK;
}

static const cl_model_ops majority_ops = {
    .kind = "majority", .title = "Majority", .defs = defs,
    .params_size = sizeof(majority_params), .defaults = defaults, .create = create,
    .free = destroy, .params_of = params_of, .fit = fit, .fitted = fitted,
    .set_names = set_names, .name = name, .describe = describe, .read = read_model,
    .write = write_model, .n_features = n_features, .predict = predict, .contrib = contrib};

/* package.loadlib(path, "luaopen_majority")() -> "majority": registers the kind. */
int luaopen_majority(lua_State *L);
int luaopen_majority(lua_State *L)
{
    if (cl_model_kinds_register(&majority_ops))
        return luaL_error(L, "%s", cl_error_last());
    lua_pushstring(L, majority_ops.kind);
    return 1;
}
