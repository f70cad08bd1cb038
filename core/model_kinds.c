/* model_kinds.c - the registry of churn classifier kinds (declared in models/model.h): the
 * built-in table, the kinds added at run time (cl_model_kinds_register), and the loader that
 * dispatches a model file on its kind.
 *
 * It sits above every model folder (models/, trees/) and nothing in them calls it: the kinds
 * call models/model.c (the generic handle), so the registry cannot live there without the
 * circle model.c -> model_kinds.c -> gbdt.c -> model.c. Callers keep one header, model.h;
 * tools/include_graph.py --objects checks from the compiled objects that the folders stay a
 * DAG. A new built-in kind adds its ops table to cl_model_kinds. */
#include "models/model.h"

#include <string.h>

#include "base/error.h"
#include "frame/pipeline.h"
#include "models/logreg.h"
#include "models/mlp.h"
#include "trees/forest.h"
#include "trees/gbdt.h"

const cl_model_ops *const cl_model_kinds[] = {&cl_logreg_model_ops, &cl_mlp_model_ops,
                                              &cl_gbdt_model_ops,   &cl_forest_model_ops,
                                              &cl_forest_tree_model_ops,   NULL};

static const cl_model_ops *extra_kinds[CL_MODEL_MAX_EXTRA];
static int n_extra;

const cl_model_ops *cl_model_kinds_ops(const char *kind)
{
    for (int i = 0; kind && cl_model_kinds[i]; i++)
        if (!strcmp(cl_model_kinds[i]->kind, kind))
            return cl_model_kinds[i];
    for (int i = 0; kind && i < n_extra; i++)
        if (!strcmp(extra_kinds[i]->kind, kind))
            return extra_kinds[i];
    return NULL;
}

const cl_model_ops *cl_model_kinds_at(int i)
{
    int nbuilt = 0;
    while (cl_model_kinds[nbuilt])
        nbuilt++;
    if (i < 0)
        return NULL;
    if (i < nbuilt)
        return cl_model_kinds[i];
    return i - nbuilt < n_extra ? extra_kinds[i - nbuilt] : NULL;
}

int cl_model_kinds_register(const cl_model_ops *ops)
{
    if (!ops || !ops->kind || cl_model_kinds_ops(ops->kind))
        return cl_error(CL_EINVAL, "model kind '%s' is already registered",
                        ops && ops->kind ? ops->kind : "(null)");
    if (n_extra >= CL_MODEL_MAX_EXTRA)
        return cl_error(CL_ERANGE, "more than %d added model kinds", CL_MODEL_MAX_EXTRA);
    extra_kinds[n_extra++] = ops;
    return CL_OK;
}

/* "logreg, mlp, gbdt, forest, tree" into buf: the kinds a classifier file may hold. */
static const char *kind_list(char *buf, size_t cap)
{
    size_t at = 0;
    buf[0] = '\0';
    for (int i = 0; cl_model_kinds[i] && at + 1 < cap; i++) {
        size_t len = strlen(cl_model_kinds[i]->kind);
        if (at + len + 3 >= cap)
            break;
        if (i) {
            memcpy(buf + at, ", ", 2);
            at += 2;
        }
        memcpy(buf + at, cl_model_kinds[i]->kind, len + 1);
        at += len;
    }
    return buf;
}

int cl_model_kinds_read(cl_model **out, const cl_mr *r)
{
    *out = NULL;
    const cl_model_ops *ops = cl_model_kinds_ops(cl_modelio_r_kind(r));
    if (!ops) {
        char kinds[128];
        return cl_error(CL_EFORMAT, "the file holds a %s, not a churn classifier (%s)",
                        cl_modelio_r_kind(r), kind_list(kinds, sizeof kinds));
    }
    void *impl = NULL;
    int rc = ops->read(&impl, r);
    if (rc)
        return rc;
    cl_pipeline *pipe = NULL;
    if (cl_modelio_r_has(r, "pipeline.format")) {
        /* cl_pipeline_io_read restores the reader's prefix; it takes a non-const reader */
        if ((rc = cl_pipeline_io_read((cl_mr *)r, "pipeline.", &pipe))) {
            ops->free(impl);
            return rc;
        }
        if (cl_pipeline_n_features(pipe) != ops->n_features(impl)) {
            int64_t want = ops->n_features(impl);
            int have = cl_pipeline_n_features(pipe);
            ops->free(impl);
            cl_pipeline_free(pipe);
            return cl_error(CL_EFORMAT, "its pipeline makes %d features, the %s model takes %lld",
                            have, ops->kind, (long long)want);
        }
    }
    return cl_model_wrap(out, ops, impl, pipe);
}

int cl_model_kinds_load(cl_model **out, const char *path)
{
    *out = NULL;
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return rc;
    rc = cl_model_kinds_read(out, r);
    cl_modelio_r_free(r);
    if (rc)
        return cl_error_wrap(rc, "'%s'", path);
    return CL_OK;
}

