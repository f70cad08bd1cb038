/* rng.h - seeded, splittable random numbers (xoshiro256** by Blackman and Vigna).
 *
 * Every stochastic routine takes a seed. Parallel work takes one stream per block of work,
 * made with cl_rng_split (a jump of 2^128 steps per stream), so results do not depend on the
 * number of threads. The state is a plain value: copy it to fork a stream.
 */
#ifndef CL_RNG_H
#define CL_RNG_H

#include <stdint.h>

typedef struct cl_rng {
    uint64_t s[4];
} cl_rng;

void cl_rng_seed(cl_rng *r, uint64_t seed);          /* splitmix64 expansion of the seed */
uint64_t cl_rng_next(cl_rng *r);                      /* 64 random bits */
double cl_rng_uniform(cl_rng *r);                     /* [0, 1), 53 bits */
double cl_rng_normal(cl_rng *r);                      /* standard normal (polar method) */
uint64_t cl_rng_below(cl_rng *r, uint64_t n);        /* uniform in [0, n), unbiased; n > 0 */
void cl_rng_jump(cl_rng *r);                          /* advance 2^128 steps */
/* Stream k of the generator seeded with `seed`: independent of how many streams are used. */
void cl_rng_split(cl_rng *out, uint64_t seed, uint64_t k);
/* splitmix64's step as a stateless hash: output k of splitmix64 seeded with x is
 * cl_rng_hash(x + (k - 1) * 0x9e3779b97f4a7c15). Counter-based data (cl_synth_bench_data) uses
 * it so another language can rebuild the same values. */
uint64_t cl_rng_hash(uint64_t x);
/* Fisher-Yates shuffle of idx[0..n). */
void cl_rng_shuffle(cl_rng *r, uint32_t *idx, uint64_t n);

#endif
