/* synth_bench.c - counter-based benchmark tables (see synth_bench.h). */
#include "synth/synth_bench.h"

#include "base/error.h"
#include "base/rng.h"

#include <math.h>

/* The value of (seed, stream, i) in [0, 1) with 53 bits; the mixing constants are the ones
 * trees_anchor.py repeats. */
static double hash_u(uint64_t seed, uint64_t stream, uint64_t i)
{
    return (double)(cl_rng_hash(seed * 0x100000001b3ull + stream * 0x9e3779b97f4a7c15ull + i) >>
                    11) *
           (1.0 / 9007199254740992.0);
}

int cl_synth_bench_data(float *x, float *y, int64_t n, int64_t d, int categorical, uint64_t seed,
                        int nthreads)
{
    if (n < 1 || d < (categorical ? 15 : 9))
        return cl_error(CL_EINVAL, "bench_data: need n >= 1 and d >= %d, got n = %lld, d = %lld",
                        categorical ? 15 : 9, (long long)n, (long long)d);
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (int64_t i = 0; i < n; i++) {
        float *row = x + i * d;
        for (int64_t j = 0; j < d; j++) {
            double u = hash_u(seed, (uint64_t)j, (uint64_t)i);
            if (categorical && j < 8) {
                int levels = 6 * (int)(j + 1);
                row[j] = (float)floor(u * levels);
            } else {
                row[j] = (float)(4 * u - 2);
                if (categorical && j % 5 == 0 &&
                    hash_u(seed, 1000 + (uint64_t)j, (uint64_t)i) < 0.1)
                    row[j] = NAN;
            }
        }
        double z;
        if (categorical) {
            double a = isnan(row[10]) ? 1.0 : row[10];
            z = a + 0.5 * row[11] - 0.75 * row[12] + row[13] * row[14] +
                ((int)row[0] % 3 == 1 ? 1.0 : -0.5) + ((int)row[1] < 4 ? 0.8 : 0.0) +
                0.3 * row[2] / 18.0;
        } else {
            z = row[0] + 0.5 * row[1] - 0.75 * row[2] + row[3] * row[4] + 0.5 * row[5] * row[5] -
                0.4 * row[6] * row[7] + 0.2 * row[8];
        }
        double u = hash_u(seed, 999999, (uint64_t)i);
        u = u < 1e-12 ? 1e-12 : u;
        z += 0.8 * log(u / (1 - u)); /* logistic noise */
        y[i] = z > 0 ? 1.0f : 0.0f;
    }
    return CL_OK;
}
