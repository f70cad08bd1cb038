/* fuzz_modelio.c - libFuzzer target for the model container reader.
 *
 * Every input is parsed as a model file; whatever parses is then read through every getter
 * with the counts the file itself claims, as a model loader would. The reader must never
 * crash, leak or read out of bounds, whatever the bytes (Redis' corrupt-dump fuzzer idea). */
#include "churnlab.h"

#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void read_all(cl_mr *r, const char *name)
{
    size_t n;
    if (cl_modelio_r_count(r, name, CL_CHUNK_F64, &n) == CL_OK && n < (1u << 20)) {
        double *v = cl_alloc_calloc(n ? n : 1, sizeof *v);
        if (v)
            cl_modelio_r_f64(r, name, v, n);
        cl_alloc_free(v);
    }
    if (cl_modelio_r_count(r, name, CL_CHUNK_STR, &n) == CL_OK && n < (1u << 16)) {
        char **s = cl_alloc_calloc(n ? n : 1, sizeof *s);
        if (s && cl_modelio_r_strs(r, name, s, n) == CL_OK)
            for (size_t i = 0; i < n; i++)
                cl_alloc_free(s[i]);
        cl_alloc_free(s);
    }
    int64_t iv;
    cl_modelio_r_int(r, name, 0, 100, &iv);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_mr *r;
    if (cl_modelio_r_from_buffer(&r, data, size, "fuzz") == CL_OK) {
        static const char *names[] = {"weights", "names", "n", "x", "pipeline.names"};
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            read_all(r, names[i]);
        cl_modelio_r_prefix(r, "pipeline.");
        read_all(r, "names");
        cl_modelio_r_free(r);
    }
    return 0;
}
