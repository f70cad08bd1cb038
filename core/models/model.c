/* model.c - the generic classifier handle over a kind's cl_model_ops (see model.h).
 *
 * It knows no kind: the registry that cl_model_kinds_load dispatches on (the built-in table and
 * cl_model_kinds_register) lives in core/model_kinds.c, above models/ and trees/, because the kinds
 * call this file (history, weights) and a table of them here would be a circle
 * model.c -> model_kinds.c -> gbdt.c -> model.c (tools/include_graph.py --objects checks). */
#include "models/model.h"

#include <math.h>
#include <string.h>

#include "base/dist.h"
#include "base/alloc.h"
#include "base/error.h"
#include "frame/pipeline.h"
#include "tensor/tensor.h"

struct cl_model {
    const cl_model_ops *ops;
    void *impl;
    cl_pipeline *pipe;      /* NULL when none */
    cl_model_history hist;  /* of the last fit */
};

void cl_model_history_scalar(cl_model_history *h, const char *name, double v, int is_bool)
{
    if (h->nscalars >= CL_HISTORY_MAX)
        return;
    h->scalar_name[h->nscalars] = name;
    h->scalar[h->nscalars] = v;
    h->scalar_is_bool[h->nscalars] = (uint8_t)(is_bool != 0);
    h->nscalars++;
}

int cl_model_history_series(cl_model_history *h, const char *name, const double *v, int64_t n)
{
    if (h->nseries >= CL_HISTORY_MAX)
        return CL_OK;
    double *copy = NULL;
    if (n > 0) {
        if (!(copy = cl_alloc(sizeof *copy * (size_t)n)))
            return CL_ENOMEM;
        memcpy(copy, v, sizeof *copy * (size_t)n);
    }
    h->series_name[h->nseries] = name;
    h->series[h->nseries] = copy;
    h->series_len[h->nseries] = n;
    h->nseries++;
    return CL_OK;
}

void cl_model_history_free(cl_model_history *h)
{
    for (int i = 0; i < h->nseries; i++)
        cl_alloc_free(h->series[i]);
    memset(h, 0, sizeof *h);
}

int cl_model_wrap(cl_model **out, const cl_model_ops *ops, void *impl, cl_pipeline *pipe)
{
    *out = NULL;
    cl_model *m = cl_alloc_calloc(1, sizeof *m);
    if (!m) {
        if (impl)
            ops->free(impl);
        cl_pipeline_free(pipe);
        return CL_ENOMEM;
    }
    m->ops = ops;
    m->impl = impl;
    m->pipe = pipe;
    *out = m;
    return CL_OK;
}

void cl_model_free(cl_model *m)
{
    if (!m)
        return;
    if (m->impl)
        m->ops->free(m->impl);
    cl_pipeline_free(m->pipe);
    cl_model_history_free(&m->hist);
    cl_alloc_free(m);
}

int cl_model_new(cl_model **out, const cl_model_ops *ops, const void *params)
{
    *out = NULL;
    void *def = NULL;
    if (!params) {
        if (!(def = cl_alloc_calloc(1, ops->params_size)))
            return CL_ENOMEM;
        ops->defaults(def);
        params = def;
    }
    void *impl = NULL;
    int rc = ops->create(&impl, params);
    cl_alloc_free(def);
    if (rc)
        return rc;
    return cl_model_wrap(out, ops, impl, NULL);
}

/* Every weight finite and >= 0; *positive counts the rows whose weight is > 0. */
static int check_weight_values(const float *w, int64_t n, const char *who, int64_t *positive)
{
    *positive = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(w[i]) || w[i] < 0)
            return cl_error(CL_EINVAL, "%s fit: weight of row %lld is %g: sample weights must be "
                                       "finite and >= 0", who, (long long)(i + 1), (double)w[i]);
        *positive += w[i] > 0;
    }
    return CL_OK;
}

int cl_model_check_weights(const float *w, int64_t n, const char *who)
{
    int64_t positive;
    int rc = check_weight_values(w, n, who, &positive);
    if (rc)
        return rc;
    if (positive == 0)
        return cl_error(CL_EINVAL, "%s fit: every sample weight is 0", who);
    return CL_OK;
}

/* The weight check of a distributed fit. Every rank takes part, with or without weights (the
 * kinds refuse weights on only some ranks themselves): a bad value on one rank stops them all
 * with its message, and "every weight is 0" is a property of the whole data, since a shard
 * whose rows all weigh 0 is legitimate when another shard's do not. */
static int check_weights_dist(const cl_fit_opts *o, int64_t n, const char *who)
{
    int64_t v[2] = {0, o->w != NULL}; /* rows with a positive weight, ranks with weights */
    int rc = o->w ? check_weight_values(o->w, n, who, &v[0]) : CL_OK;
    cl_dist_begin(o->dist);
    if ((rc = cl_dist_sum_small_agree(o->dist, rc, v, 2)))
        return rc;
    if (v[1] == cl_dist_size(o->dist) && v[0] == 0)
        return cl_error(CL_EINVAL, "%s fit: every sample weight is 0 (on all %d ranks)", who,
                        cl_dist_size(o->dist));
    return CL_OK;
}

int cl_model_fit(cl_model *m, const float *X, const float *y, int64_t n, int64_t d,
                 const cl_fit_opts *o, const cl_progress *p)
{
    static const cl_fit_opts none = {0};
    o = o ? o : &none;
    if (((o->Xv || o->early_stop) && !(m->ops->fit_flags & CL_FIT_VALID)) ||
        (o->metric && !(m->ops->fit_flags & CL_FIT_METRIC)) ||
        (o->is_cat && !(m->ops->fit_flags & CL_FIT_CATEGORICAL)) ||
        (o->dist && !(m->ops->fit_flags & CL_FIT_DIST)) ||
        (o->w && !(m->ops->fit_flags & CL_FIT_WEIGHTS)))
        return cl_error(CL_EINVAL, "%s fit: option not supported by this kind", m->ops->kind);
    int rc = o->dist ? check_weights_dist(o, n, m->ops->kind)
             : o->w  ? cl_model_check_weights(o->w, n, m->ops->kind)
                     : CL_OK;
    if (rc)
        return rc;
    cl_model_history_free(&m->hist);
    return m->ops->fit(m->impl, X, y, n, d, o, &m->hist, p);
}

const cl_model_history *cl_model_history_of(const cl_model *m) { return &m->hist; }
int cl_model_fitted(const cl_model *m) { return m->ops->fitted(m->impl); }

int cl_model_save(const cl_model *m, const char *path)
{
    cl_mw *w = cl_modelio_w_new(m->ops->kind);
    if (!w)
        return CL_ENOMEM;
    int rc = m->ops->write(m->impl, w);
    if (!rc && m->pipe)
        rc = cl_pipeline_io_write(m->pipe, w, "pipeline.");
    if (!rc)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    return rc;
}

const char *cl_model_kind(const cl_model *m) { return m->ops->kind; }
const cl_model_ops *cl_model_ops_of(const cl_model *m) { return m->ops; }
const void *cl_model_impl(const cl_model *m) { return m->impl; }
void *cl_model_impl_mut(cl_model *m) { return m->impl; }
int64_t cl_model_n_features(const cl_model *m) { return m->ops->n_features(m->impl); }
const cl_pipeline *cl_model_pipeline(const cl_model *m) { return m->pipe; }

static int check_rows(const cl_model *m, const float *X, int64_t n, int64_t d, const char *what)
{
    int64_t want = m->ops->n_features(m->impl);
    if (d != want)
        return cl_error(CL_EINVAL, "%s %s: X has %lld features, the model takes %lld",
                        m->ops->kind, what, (long long)d, (long long)want);
    if (n < 0 || (n > 0 && !X))
        return cl_error(CL_EINVAL, "%s %s: no rows", m->ops->kind, what);
    return CL_OK;
}

int cl_model_predict(const cl_model *m, const float *X, int64_t n, int64_t d, float *out,
                     int mode)
{
    int rc = check_rows(m, X, n, d, "predict");
    if (rc || n == 0)
        return rc;
    return m->ops->predict(m->impl, X, n, d, out, mode);
}

int cl_model_contrib(const cl_model *m, const float *X, int64_t n, int64_t d, const float *ref,
                     float *phi)
{
    if (!m->ops->contrib)
        return cl_error(CL_ENOTSUP, "%s: no exact contributions (use kernel SHAP: "
                                    "churnlab.explain.shap)", m->ops->kind);
    int rc = check_rows(m, X, n, d, "contributions");
    if (rc || n == 0)
        return rc;
    return m->ops->contrib(m->impl, X, n, d, ref, phi);
}

int cl_model_score_frame(const cl_model *m, const cl_frame *raw, float *out)
{
    if (!m->pipe)
        return cl_error(CL_EINVAL, "%s: the model has no pipeline to score raw rows with "
                                   "(save it with its pipeline)", m->ops->kind);
    cl_tensor *X = NULL;
    int rc = cl_pipeline_transform(m->pipe, raw, &X, NULL);
    if (rc)
        return rc;
    rc = cl_model_predict(m, cl_tensor_data(X), cl_tensor_rows(X), cl_tensor_cols(X), out,
                          CL_PREDICT_PROB);
    cl_tensor_free(X);
    return rc;
}
