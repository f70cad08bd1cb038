/* model_flips.h - the corruption sweep of the model-file tests: every byte of a file flipped
 * by each of a few masks, one at a time, must be refused with a message (never accepted,
 * never a crash; ASan runs the same tests). Header-only (static inline): a test includes it
 * as "core/lib/model_flips.h" after cmocka.h and churnlab.h. */
#ifndef CL_TESTS_MODEL_FLIPS_H
#define CL_TESTS_MODEL_FLIPS_H

#include <stdlib.h>
#include <string.h>

/* Reads one model of the test's kind from r, frees it and returns the status. */
typedef int (*model_read_fn)(const cl_mr *r);

static inline void flips_refused(const void *buf, size_t len, const unsigned char *flips,
                                 size_t nflips, model_read_fn read)
{
    unsigned char *copy = malloc(len);
    assert_non_null(copy);
    for (size_t i = 0; i < len; i++)
        for (size_t f = 0; f < nflips; f++) {
            memcpy(copy, buf, len);
            copy[i] ^= flips[f];
            cl_mr *r = NULL;
            int rc = cl_modelio_r_from_buffer(&r, copy, len, "bad.clm");
            if (rc == CL_OK) {
                rc = read(r);
                cl_modelio_r_free(r);
            }
            if (rc == CL_OK)
                fail_msg("byte %zu ^ 0x%02x was accepted", i, flips[f]);
            assert_true(strlen(cl_error_last()) > 0);
        }
    free(copy);
}

#endif
