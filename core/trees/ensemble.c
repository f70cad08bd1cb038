/* ensemble.c - names, parameters and the shared body of tree-ensemble model files (see
 * ensemble.h). */
#include "trees/ensemble.h"

#include <stdio.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/param_io.h"

int cl_ensemble_set_names(char ***names, int *dp, const char *const *src, int d)
{
    char **nn;
    int rc = cl_alloc_strs_dup(&nn, src, d);
    if (rc)
        return rc;
    cl_alloc_strs_free(*names, *dp);
    *names = nn;
    *dp = d;
    return CL_OK;
}

const char *cl_ensemble_name(char *const *names, int d, int64_t j)
{
    return names && j >= 0 && j < d ? names[j] : NULL;
}

/* ---- parameters ------------------------------------------------------------------------- */

int cl_ensemble_write_params(cl_mw *w, const cl_param_def *defs, const void *params)
{
    return cl_param_io_write(w, defs, params);
}

#define OLD_PREFIX "params."

/* Whether the file has the layout before issue 14: any parameter of the table under the old
 * prefix (every such file holds them all). */
static int old_layout(const cl_mr *r, const cl_param_def *defs)
{
    char name[96];
    for (const cl_param_def *d = defs; d->name; d++) {
        snprintf(name, sizeof name, OLD_PREFIX "%s", d->name);
        if (cl_modelio_r_has(r, name))
            return 1;
    }
    return 0;
}

/* The old layout, driven by the same table: INT/BOOL/ENUM and SEED were i64 chunks, NUM f64;
 * the trees never had INTS parameters. Chunks of parameters a kind no longer keeps (a tree
 * file's params.trees, always 1) are ignored, as the kind fixes them. */
static int read_old(const cl_mr *r, const cl_param_def *defs, void *params, const char *what)
{
    char name[96];
    for (const cl_param_def *d = defs; d->name; d++) {
        snprintf(name, sizeof name, OLD_PREFIX "%s", d->name);
        if (!cl_modelio_r_has(r, name))
            continue; /* written before this parameter existed: keep the default */
        void *f = (char *)params + d->offset;
        int64_t v;
        int rc = CL_OK;
        switch (d->type) {
        case CL_PARAM_INT:
        case CL_PARAM_BOOL:
        case CL_PARAM_ENUM:
            if ((rc = cl_modelio_r_int(r, name, INT32_MIN, INT32_MAX, &v)) == CL_OK)
                *(int *)f = (int)v;
            break;
        case CL_PARAM_NUM: rc = cl_modelio_r_num(r, name, (double *)f); break;
        case CL_PARAM_SEED:
            if ((rc = cl_modelio_r_int(r, name, INT64_MIN, INT64_MAX, &v)) == CL_OK)
                *(uint64_t *)f = (uint64_t)v;
            break;
        case CL_PARAM_INTS:
            return cl_error(CL_EFORMAT, "%s: parameter '%s' cannot be in the old layout", what,
                            d->name);
        }
        if (rc)
            return rc;
    }
    int rc = cl_param_validate(defs, params, what);
    return rc ? cl_error_wrap(CL_EFORMAT, "model file") : CL_OK;
}

int cl_ensemble_read_params(const cl_mr *r, const cl_param_def *defs, void *params,
                            const char *what)
{
    return old_layout(r, defs) ? read_old(r, defs, params, what)
                               : cl_param_io_read(r, defs, params, what);
}

/* ---- names, bins and trees -------------------------------------------------------------- */

int cl_ensemble_write_body(cl_mw *w, int d, char *const *names, const cl_binning *bins,
                           const cl_tree *const *trees, int ntrees)
{
    cl_modelio_w_int(w, "d", d);
    if (names)
        cl_modelio_w_strs(w, "features", (const char *const *)names, (size_t)d);
    int32_t *nb = cl_alloc((size_t)d * sizeof *nb);
    if (!nb)
        return CL_ENOMEM;
    for (int j = 0; j < d; j++)
        nb[j] = bins->nbins[j];
    cl_modelio_w_i32(w, "bins.nbins", nb, (size_t)d);
    cl_alloc_free(nb);
    cl_modelio_w_u8(w, "bins.is_cat", bins->is_cat, (size_t)d);
    cl_modelio_w_f32(w, "bins.cuts", bins->cuts, (size_t)bins->cut_off[d]);
    return cl_tree_ens_write(w, "trees.", trees, ntrees);
}

static int read_names(const cl_mr *r, int d, char ***names)
{
    if (!cl_modelio_r_has(r, "features"))
        return CL_OK;
    char **nn = cl_alloc_calloc((size_t)d + 1, sizeof *nn);
    if (!nn)
        return CL_ENOMEM;
    int rc = cl_modelio_r_strs(r, "features", nn, (size_t)d);
    if (rc) {
        cl_alloc_free(nn); /* cl_modelio_r_strs leaves every entry NULL on failure */
        return rc;
    }
    *names = nn;
    return CL_OK;
}

static int read_bins(const cl_mr *r, int d, cl_binning **bins)
{
    int32_t *nb = cl_alloc((size_t)d * sizeof *nb);
    uint8_t *ic = cl_alloc((size_t)d);
    float *cuts = NULL;
    size_t ncuts;
    int rc = CL_ENOMEM;
    if (!nb || !ic)
        goto done;
    if ((rc = cl_modelio_r_i32(r, "bins.nbins", nb, (size_t)d)) ||
        (rc = cl_modelio_r_u8(r, "bins.is_cat", ic, (size_t)d)) ||
        (rc = cl_modelio_r_count(r, "bins.cuts", CL_CHUNK_F32, &ncuts)))
        goto done;
    if (!(cuts = cl_alloc((ncuts + 1) * sizeof *cuts))) {
        rc = CL_ENOMEM;
        goto done;
    }
    if (!(rc = cl_modelio_r_f32(r, "bins.cuts", cuts, ncuts)))
        rc = cl_binning_from_arrays(bins, d, nb, ic, cuts, ncuts);
done:
    cl_alloc_free(nb);
    cl_alloc_free(ic);
    cl_alloc_free(cuts);
    return rc;
}

int cl_ensemble_read_body(const cl_mr *r, int *d, char ***names, cl_binning **bins,
                          cl_tree ***trees, int *ntrees)
{
    int64_t v;
    int rc = cl_modelio_r_int(r, "d", 1, 1000000, &v);
    if (rc)
        return rc;
    *d = (int)v;
    /* d sizes the arrays below: the file must really hold d of each first */
    size_t nbins_n;
    if ((rc = cl_modelio_r_count(r, "bins.nbins", CL_CHUNK_I32, &nbins_n)))
        return rc;
    if (nbins_n != (size_t)*d)
        return cl_error(CL_EFORMAT, "model file: d = %d but 'bins.nbins' holds %zu values", *d,
                        nbins_n);
    if ((rc = read_names(r, *d, names)) || (rc = read_bins(r, *d, bins)))
        return rc;
    return cl_tree_ens_read(r, "trees.", *d, trees, ntrees);
}
