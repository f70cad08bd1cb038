/* test_hist.c - fixed-point histograms against a direct per-row sum (equal exactly: integer
 * sums), subtraction (exact), and bit-identity for any thread count. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "trees/isa.h"

static void test_build_matches_direct_sum_and_threads(void **state)
{
    (void)state;
    const size_t n = 300000;
    const int d = 4;
    int off[5] = {0, 17, 17 + 256, 17 + 256 + 3, 17 + 256 + 3 + 100};
    int nb[4] = {17, 256, 3, 100};
    uint8_t *bins = cl_alloc(n * d);
    int64_t *gh = cl_alloc(2 * n * sizeof *gh);
    uint32_t *rows = cl_alloc(n * sizeof *rows);
    cl_rng r;
    cl_rng_seed(&r, 9);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            bins[(size_t)j * n + i] = (uint8_t)cl_rng_below(&r, (uint64_t)nb[j]);
        if (cl_rng_uniform(&r) < 0.7)
            rows[m++] = (uint32_t)i;
    }
    for (size_t k = 0; k < m; k++) {
        /* values as the grower makes them: up to 2^40 units, signed gradients */
        gh[2 * k] = (int64_t)(cl_rng_normal(&r) * 1099511627776.0);
        gh[2 * k + 1] = (int64_t)cl_rng_below(&r, (uint64_t)1 << 40);
    }
    int feats[4] = {0, 1, 2, 3};
    cl_hbin *h1 = cl_alloc_calloc((size_t)off[4], sizeof *h1), *h2 = cl_alloc_calloc((size_t)off[4], sizeof *h2);
    cl_hbin *ref = cl_alloc_calloc((size_t)off[4], sizeof *ref);
    cl_hist_build(h1, off, bins, n, rows, m, gh, feats, d, 1);
    cl_hist_build(h2, off, bins, n, rows, m, gh, feats, d, 2);
    assert_memory_equal(h1, h2, (size_t)off[4] * sizeof *h1);
    for (size_t k = 0; k < m; k++)
        for (int j = 0; j < d; j++) {
            cl_hbin *e = ref + off[j] + bins[(size_t)j * n + rows[k]];
            e->g += gh[2 * k];
            e->h += gh[2 * k + 1];
        }
    /* two accumulation chains and any thread split: integer sums, equal exactly */
    assert_memory_equal(h1, ref, (size_t)off[4] * sizeof *h1);
    /* subtraction: parent (all listed rows) - first half = second half */
    size_t half = m / 2;
    cl_hbin *a = cl_alloc_calloc((size_t)off[4], sizeof *a), *b = cl_alloc_calloc((size_t)off[4], sizeof *b);
    cl_hist_build(a, off, bins, n, rows, half, gh, feats, d, 2);
    cl_hist_build(b, off, bins, n, rows + half, m - half, gh + 2 * half, feats, d, 2);
    cl_hist_subtract(h1, h1, a, off, feats, d);
    assert_memory_equal(h1, b, (size_t)off[4] * sizeof *h1); /* exact */
    /* a feature subset leaves the other ranges alone */
    memset(h2, 0x7f, (size_t)off[4] * sizeof *h2);
    int sub[1] = {2};
    cl_hist_build(h2, off, bins, n, NULL, 1000, gh, sub, 1, 2);
    assert_true(h2[0].g != 0 && h2[off[2]].h >= 0);
    cl_alloc_free(a);
    cl_alloc_free(b);
    cl_alloc_free(h1);
    cl_alloc_free(h2);
    cl_alloc_free(ref);
    cl_alloc_free(bins);
    cl_alloc_free(gh);
    cl_alloc_free(rows);
}

/* Every grouping of the kernel (features in fours, a pair, one alone with or without the
 * second chain: hist.c) on subsets of 1 to 7 features, listed rows and all rows, small and
 * large nodes, 1 to 3 threads, against the direct per-row sum. */
static void test_feature_groups_match_direct_sum(void **state)
{
    (void)state;
    const size_t n = 20000;
    const int d = 7;
    int nb[7] = {2, 256, 5, 100, 31, 256, 1};
    int off[8] = {0};
    for (int j = 0; j < d; j++)
        off[j + 1] = off[j] + nb[j] + 1; /* + the missing bin */
    uint8_t *bins = cl_alloc(n * (size_t)d);
    int64_t *gh = cl_alloc(2 * n * sizeof *gh);
    uint32_t *rows = cl_alloc(n * sizeof *rows);
    cl_rng r;
    cl_rng_seed(&r, 21);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            bins[(size_t)j * n + i] = (uint8_t)cl_rng_below(&r, (uint64_t)nb[j] + 1);
        if (cl_rng_uniform(&r) < 0.6)
            rows[m++] = (uint32_t)i;
    }
    for (size_t k = 0; k < n; k++) {
        gh[2 * k] = (int64_t)(cl_rng_normal(&r) * 1099511627776.0);
        gh[2 * k + 1] = (int64_t)cl_rng_below(&r, (uint64_t)1 << 40);
    }
    size_t tb = (size_t)off[d];
    cl_hbin *got = cl_alloc(tb * sizeof *got), *ref = cl_alloc(tb * sizeof *ref);
    int checked = 0;
    for (unsigned mask = 1; mask < (1u << d); mask += 5) {
        int feats[7], nf = 0;
        for (int j = 0; j < d; j++)
            if (mask & (1u << j))
                feats[nf++] = j;
        for (int all = 0; all < 2; all++)
            for (size_t mm = 100; mm <= (all ? n : m); mm *= 11) {
                const uint32_t *rl = all ? NULL : rows;
                memset(ref, 0, tb * sizeof *ref);
                for (size_t k = 0; k < mm; k++)
                    for (int f = 0; f < nf; f++) {
                        size_t i = rl ? rl[k] : k;
                        cl_hbin *e = ref + off[feats[f]] + bins[(size_t)feats[f] * n + i];
                        e->g += gh[2 * k];
                        e->h += gh[2 * k + 1];
                    }
                for (int t = 1; t <= 3; t++) {
                    memset(got, 0, tb * sizeof *got);
                    cl_hist_build(got, off, bins, n, rl, mm, gh, feats, nf, t);
                    assert_memory_equal(got, ref, tb * sizeof *got);
                    checked++;
                }
            }
    }
    assert_true(checked > 100);
    cl_alloc_free(got);
    cl_alloc_free(ref);
    cl_alloc_free(bins);
    cl_alloc_free(gh);
    cl_alloc_free(rows);
}

/* cl_hist_add_float (the root's build: gradients rounded a block at a time) against the
 * direct sum of the rounded values, over parts of the positions added in any order, on every
 * instruction-set path the CPU runs. */
static void test_add_float_matches_rounded_sum(void **state)
{
    (void)state;
    const size_t n = 30000; /* several blocks of CL_HIST_BLOCK */
    const int d = 5;
    int nb[5] = {256, 2, 17, 99, 256};
    int off[6] = {0};
    for (int j = 0; j < d; j++)
        off[j + 1] = off[j] + nb[j] + 1;
    uint8_t *bins = cl_alloc(n * (size_t)d);
    float *g = cl_alloc(n * sizeof *g), *h = cl_alloc(n * sizeof *h);
    uint32_t *rows = cl_alloc(n * sizeof *rows);
    int64_t *blk = cl_alloc(2 * CL_HIST_BLOCK * sizeof *blk);
    cl_rng r;
    cl_rng_seed(&r, 5);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        for (int j = 0; j < d; j++)
            bins[(size_t)j * n + i] = (uint8_t)cl_rng_below(&r, (uint64_t)nb[j] + 1);
        g[i] = (float)cl_rng_normal(&r);
        h[i] = (float)cl_rng_uniform(&r);
        if (cl_rng_uniform(&r) < 0.5)
            rows[m++] = (uint32_t)i;
    }
    const double sg = 1099511627776.0 * 3, sh = 1099511627776.0 / 7; /* 3 * 2^40, 2^40 / 7 */
    size_t tb = (size_t)off[d];
    cl_hbin *got = cl_alloc(tb * sizeof *got), *ref = cl_alloc(tb * sizeof *ref);
    int feats[4] = {0, 2, 3, 4}, paths = 0;
    for (int all = 0; all < 2; all++) {
        const uint32_t *rl = all ? NULL : rows;
        size_t mm = all ? n : m;
        memset(ref, 0, tb * sizeof *ref);
        for (size_t k = 0; k < mm; k++) {
            size_t i = rl ? rl[k] : k;
            for (int f = 0; f < 4; f++) {
                cl_hbin *e = ref + off[feats[f]] + bins[(size_t)feats[f] * n + i];
                e->g += llrint((double)g[i] * sg);
                e->h += llrint((double)h[i] * sh);
            }
        }
        for (int isa = CL_ISA_DEFAULT; isa <= CL_ISA_AVX512; isa++) {
            if (cl_isa_force(isa) != CL_OK)
                continue;
            memset(got, 0, tb * sizeof *got);
            size_t cut = mm / 3 + 77; /* the later part first */
            cl_hist_add_float(got, off, bins, n, rl, cut, mm, g, h, sg, sh, feats, 4, blk);
            cl_hist_add_float(got, off, bins, n, rl, 0, cut, g, h, sg, sh, feats, 4, blk);
            assert_memory_equal(got, ref, tb * sizeof *got);
            paths++;
        }
        cl_isa_force(CL_ISA_AUTO);
    }
    assert_true(paths >= 2);
    cl_alloc_free(got);
    cl_alloc_free(ref);
    cl_alloc_free(bins);
    cl_alloc_free(g);
    cl_alloc_free(h);
    cl_alloc_free(rows);
    cl_alloc_free(blk);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_add_float_matches_rounded_sum),
        cmocka_unit_test(test_build_matches_direct_sum_and_threads),
        cmocka_unit_test(test_feature_groups_match_direct_sum),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
