/* fuzz_xgb.c - libFuzzer target for the XGBoost JSON import (trees/xgb_import.c).
 *
 * The input is the text of an XGBoost JSON model. Whatever imports is used as a session would:
 * probabilities, margins and TreeSHAP on a few rows of the width the model claims (NaN,
 * extremes and ordinary values). A reader that accepts an inconsistent tree (a child index
 * out of range, a cycle, a cover that does not add up) shows up here as an out-of-bounds read
 * or an endless walk under ASan; a leaked JSON document as a leak. Seeds: tests/data/fuzz-xgb/
 * (scripts/make_fuzz_xgb_seeds.lua: small models exported by churnlab in XGBoost's layout). */
#include "churnlab.h"

#include <math.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { ROWS = 3, MAXD = 4096 };

/* ROWS x d rows mixing ordinary values, NaN (missing), huge and denormal numbers. */
static float *rows(int d)
{
    if (d <= 0 || d > MAXD)
        return NULL;
    float *X = cl_alloc_calloc((size_t)(ROWS * d), sizeof *X);
    if (!X)
        return NULL;
    for (int j = 0; j < d; j++) {
        X[j] = (float)j * 0.5f - 1.0f;
        X[d + j] = NAN;
        X[2 * d + j] = (j & 1) ? 3e38f : 1e-42f;
    }
    return X;
}

static void use(const cl_gbdt *m)
{
    float *X = rows(m->d);
    if (!X)
        return;
    cl_tensor *t = NULL;
    float out[ROWS];
    if (cl_tensor_from_data(&t, 2, ROWS, (int64_t)m->d, X) == CL_OK) {
        cl_gbdt_predict(m, out, t, 0);
        cl_gbdt_predict(m, out, t, 1);
        cl_tensor_free(t);
    }
    float *phi = cl_alloc((size_t)ROWS * ((size_t)m->d + 1) * sizeof *phi);
    if (phi)
        cl_treeshap((const cl_tree *const *)m->trees, m->ntrees, X, ROWS, m->d, m->base, 1.0,
                    phi);
    cl_alloc_free(phi);
    cl_alloc_free(X);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_gbdt *m;
    if (cl_xgb_import_gbdt_json(&m, (const char *)data, size, "fuzz.json") == CL_OK) {
        use(m);
        cl_gbdt_free(m);
    }
    cl_error_clear();
    return 0;
}
