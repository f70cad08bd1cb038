/* fuzz_loaders.c - libFuzzer target for every model-kind loader in core.
 *
 * The input is a model file. It is dispatched on the kind in its header (logreg, mlp, gbdt,
 * forest, tree, pipeline, rec.*); a header that names no known kind is handed to the loader
 * picked by its first byte, so the kind checks are exercised too. Whatever loads is then used
 * as a session would: predictions on a few rows of the width the model claims (NaN, extremes
 * and ordinary values), top-k and similar items for a recommender. A loader that accepts an
 * inconsistent file (a child index out of range, a layer of the wrong size) shows up here as
 * an out-of-bounds read under ASan. Seeds: tests/data/fuzz-loaders/ (scripts/make_fuzz_seeds.lua). */
#include "churnlab.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROWS = 3, MAXD = 4096 };

/* ROWS x d rows mixing ordinary values, NaN (missing), huge and denormal numbers. */
static float *rows(int64_t d)
{
    if (d <= 0 || d > MAXD)
        return NULL;
    float *X = cl_alloc_calloc((size_t)(ROWS * d), sizeof *X);
    if (!X)
        return NULL;
    for (int64_t j = 0; j < d; j++) {
        X[j] = (float)j * 0.5f - 1.0f;
        X[d + j] = NAN;
        X[2 * d + j] = (j & 1) ? 3e38f : 1e-42f;
    }
    return X;
}

static cl_tensor *rows_tensor(int64_t d)
{
    float *X = rows(d);
    if (!X)
        return NULL;
    cl_tensor *t = NULL;
    if (cl_tensor_from_data(&t, 2, ROWS, d, X) != CL_OK)
        t = NULL;
    cl_alloc_free(X);
    return t;
}

static void use_logreg(cl_mr *r)
{
    cl_logreg *m;
    if (cl_logreg_read(&m, r) != CL_OK)
        return;
    int64_t d = cl_logreg_inputs(m);
    float *X = rows(d), out[ROWS];
    if (X)
        cl_logreg_predict(m, X, ROWS, d, out);
    cl_alloc_free(X);
    cl_logreg_free(m);
}

static void use_mlp(cl_mr *r)
{
    cl_mlp *m;
    if (cl_mlp_read(&m, r) != CL_OK)
        return;
    int64_t d = cl_mlp_inputs(m);
    float *X = rows(d), out[ROWS];
    if (X)
        cl_mlp_predict(m, X, ROWS, d, out);
    cl_alloc_free(X);
    cl_mlp_free(m);
}

static void use_gbdt(cl_mr *r)
{
    cl_gbdt *m;
    if (cl_gbdt_read(&m, r) != CL_OK)
        return;
    cl_tensor *X = rows_tensor(m->d);
    float out[ROWS];
    if (X) {
        cl_gbdt_predict(m, out, X, 0);
        cl_gbdt_predict(m, out, X, 1);
        cl_tensor_free(X);
    }
    cl_gbdt_free(m);
}

static void use_forest(cl_mr *r)
{
    cl_forest *m;
    if (cl_forest_read(&m, r) != CL_OK)
        return;
    cl_tensor *X = rows_tensor(m->d);
    float out[ROWS];
    if (X) {
        cl_forest_predict(m, out, X);
        cl_tensor_free(X);
    }
    cl_forest_free(m);
}

static void use_pipeline(cl_mr *r)
{
    cl_pipeline *p;
    if (cl_pipeline_io_read(r, "", &p) != CL_OK)
        return;
    cl_pipeline_n_features(p);
    cl_pipeline_free(p);
}

static void use_rec(cl_mr *r, const char *kind)
{
    cl_rec *m;
    if (cl_rec_read(&m, r, kind, "", NULL) != CL_OK)
        return;
    if (cl_rec_is_fitted(m) && m->train) {
        int64_t ni = m->train->n_items, nu = m->train->n_users;
        int32_t items[5];
        float sc[5];
        int n;
        if (nu > 0)
            cl_rec_recommend(m, 0, 5, 1, items, sc, &n);
        if (ni > 0) {
            cl_rec_similar(m, 0, 5, items, sc, &n);
            int32_t hist[2] = {0, (int32_t)(ni - 1)};
            cl_rec_recommend_history(m, 2, hist, NULL, 5, 1, items, sc, &n);
        }
    }
    cl_rec_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_mr *r;
    if (cl_modelio_r_from_buffer(&r, data, size, "fuzz") != CL_OK) {
        cl_error_clear();
        return 0;
    }
    const char *kind = cl_modelio_r_kind(r);
    static const char *const recs[] = {"popular", "itemknn", "mf", "als", "content", "hybrid"};
    int pick = -1;
    static const char *const kinds[] = {"logreg", "mlp", "gbdt", "forest", "tree", "pipeline"};
    for (int i = 0; i < 6; i++)
        if (strcmp(kind, kinds[i]) == 0)
            pick = i;
    if (strncmp(kind, "rec.", 4) == 0)
        pick = 6;
    if (pick < 0)
        pick = size ? data[size - 1] % 7 : 0;
    switch (pick) {
    case 0: use_logreg(r); break;
    case 1: use_mlp(r); break;
    case 2: use_gbdt(r); break;
    case 3: case 4: use_forest(r); break;
    case 5: use_pipeline(r); break;
    default:
        use_rec(r, strncmp(kind, "rec.", 4) == 0 ? kind + 4 : recs[size % 6]);
        break;
    }
    cl_modelio_r_free(r);
    cl_error_clear();
    return 0;
}
