/* linear_data.h - the labelled rows the model tests fit on: x_ij ~ N(0, 1) and
 * y_i = 1 when sum_j (j + 1) x_ij + noise N(0, 1) > 0, from a seed (per row: d normals, then
 * the noise). Header-only (static inline): a test includes it as "core/lib/linear_data.h"
 * after churnlab.h. */
#ifndef CL_TESTS_LINEAR_DATA_H
#define CL_TESTS_LINEAR_DATA_H

static inline void linear_data(float *X, float *Y, int n, int d, uint64_t seed, double noise)
{
    cl_rng r;
    cl_rng_seed(&r, seed);
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) {
            X[i * d + j] = (float)cl_rng_normal(&r);
            s += (j + 1) * X[i * d + j];
        }
        Y[i] = s + noise * cl_rng_normal(&r) > 0 ? 1.0f : 0.0f;
    }
}

#endif
