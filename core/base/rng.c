/* rng.c - xoshiro256** 1.0, splitmix64 seeding, jump; algorithms public domain (Blackman and
 * Vigna, 2018), written here from the paper's description. */
#include "base/rng.h"

#include <math.h>

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t cl_rng_hash(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = cl_rng_hash(*x);
    *x += 0x9e3779b97f4a7c15ULL;
    return z;
}

void cl_rng_seed(cl_rng *r, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

uint64_t cl_rng_next(cl_rng *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double cl_rng_uniform(cl_rng *r) { return (double)(cl_rng_next(r) >> 11) * 0x1.0p-53; }

double cl_rng_normal(cl_rng *r)
{
    double u, v, s;
    do {
        u = 2.0 * cl_rng_uniform(r) - 1.0;
        v = 2.0 * cl_rng_uniform(r) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

uint64_t cl_rng_below(cl_rng *r, uint64_t n)
{
    /* Lemire's nearly-divisionless method needs 128-bit products; rejection on the top range
     * is simpler and just as unbiased. */
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do
        x = cl_rng_next(r);
    while (x >= limit);
    return x % n;
}

void cl_rng_jump(cl_rng *r)
{
    static const uint64_t J[] = {0x180ec6d33cfd0abaULL, 0xd5a61266f0c9392cULL,
                                 0xa9582618e03fc9aaULL, 0x39abdc4529b1661cULL};
    uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int i = 0; i < 4; i++)
        for (int b = 0; b < 64; b++) {
            if (J[i] & (UINT64_C(1) << b)) {
                s0 ^= r->s[0];
                s1 ^= r->s[1];
                s2 ^= r->s[2];
                s3 ^= r->s[3];
            }
            cl_rng_next(r);
        }
    r->s[0] = s0;
    r->s[1] = s1;
    r->s[2] = s2;
    r->s[3] = s3;
}

void cl_rng_split(cl_rng *out, uint64_t seed, uint64_t k)
{
    /* Seeding from a mix of (seed, k) is O(1) per stream, unlike k jumps; splitmix64's
     * output decorrelates neighbouring k. */
    uint64_t x = seed ^ 0x6a09e667f3bcc909ULL;
    uint64_t base = splitmix64(&x);
    cl_rng_seed(out, base ^ (k * 0x9e3779b97f4a7c15ULL + 0xd1b54a32d192ed03ULL));
}

void cl_rng_shuffle(cl_rng *r, uint32_t *idx, uint64_t n)
{
    for (uint64_t i = n; i > 1; i--) {
        uint64_t j = cl_rng_below(r, i);
        uint32_t t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}
