/* fuzz_models.c - libFuzzer target for the logreg and mlp loaders.
 *
 * Fuzz builds skip the container's CRC, so mutated bytes reach the model loaders: every
 * length, count and parameter they read must be validated before use. Whatever loads is then
 * used to score a few rows, as cl.load followed by predict would. */
#include "churnlab.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static float X[3 * 4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_mr *r;
    if (cl_modelio_r_from_buffer(&r, data, size, "fuzz") != CL_OK)
        return 0;
    float out[3];
    cl_mlp *m = NULL;
    if (cl_mlp_read(&m, r) == CL_OK && cl_mlp_inputs(m) <= 4096)
        cl_mlp_predict(m, X, 3, cl_mlp_inputs(m), out);
    cl_mlp_free(m);
    cl_logreg *lr = NULL;
    if (cl_logreg_read(&lr, r) == CL_OK && cl_logreg_inputs(lr) <= 4096)
        cl_logreg_predict(lr, X, 3, cl_logreg_inputs(lr), out);
    cl_logreg_free(lr);
    cl_modelio_r_free(r);
    return 0;
}
