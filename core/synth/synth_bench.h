/* synth_bench.h - the synthetic tables of the model benchmarks (scripts/bench/trees.lua).
 *
 * Every value is a function of (seed, column, row) through cl_rng_hash, so
 * scripts/bench/trees_anchor.py rebuilds the same data bit for bit with numpy and the anchors
 * train on exactly what churnlab trains on, with no file in between.
 */
#ifndef CL_SYNTH_BENCH_H
#define CL_SYNTH_BENCH_H

#include <stdint.h>

/* Fills x (n x d, row-major) and y (n labels 0/1). categorical = 0: d uniform features in
 * [-2, 2); categorical = 1: columns 0..7 hold categorical codes with 6, 12, ..., 48 levels and
 * every 5th numeric column is 10% missing (NaN). Needs d >= 15 when categorical (the label
 * reads columns 0..14), d >= 9 otherwise: CL_EINVAL. Threads: nthreads, with the same output
 * for any number. */
int cl_synth_bench_data(float *x, float *y, int64_t n, int64_t d, int categorical, uint64_t seed,
                        int nthreads);

#endif
