/* hist.c - histogram building and subtraction (see hist.h). */
#include "trees/hist.h"

#include "base/alloc.h"
#include "base/round.h"
#include "trees/isa.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* One histogram bin's (g, h) pair as one 16-byte vector: a row's pair is added to a bin with
 * one load, one add and one store (paddq on x86-64; GCC's generic vectors elsewhere). Bins
 * and ordered gradients are 16-byte aligned (cl_alloc aligns to 64; pairs at even indices). */
typedef int64_t v2i64 __attribute__((vector_size(16), may_alias));

/* The accumulators take one block: len list positions, their rows `rows` (NULL: the columns
 * are already offset to the block's first row number, and position i is row i) and their
 * pairs G[0..len). */

/* One feature (column col) into h, and when h2 is not NULL the odd positions into h2 (two
 * independent dependency chains for the read-modify-write of a bin; integer sums, so the
 * split changes nothing but speed). */
static inline void acc_one(cl_hbin *restrict h, cl_hbin *restrict h2, const uint8_t *col,
                           const uint32_t *rows, const v2i64 *G, size_t len)
{
    v2i64 *H = (v2i64 *)h, *H2 = (v2i64 *)h2;
    size_t k = 0;
    if (H2) {
        if (rows) {
            for (; k + 1 < len; k += 2) {
                if (k + 64 < len)
                    __builtin_prefetch(col + rows[k + 64]);
                H[col[rows[k]]] += G[k];
                H2[col[rows[k + 1]]] += G[k + 1];
            }
        } else {
            for (; k + 1 < len; k += 2) {
                H[col[k]] += G[k];
                H2[col[k + 1]] += G[k + 1];
            }
        }
    }
    for (; k < len; k++) {
        if (rows && k + 32 < len)
            __builtin_prefetch(col + rows[k + 32]);
        H[col[rows ? rows[k] : k]] += G[k];
    }
}

/* Two and four features at once (columns c[], histograms h[]): a row's index and gradient
 * pair are loaded once for all of them, and the updates of one feature's histogram are two
 * or four updates apart, which hides most of the store-to-load latency the two chains of
 * acc_one are for. Integer sums: the same histograms as acc_one. */
static inline void acc_two(cl_hbin *const *h, const uint8_t *const *c, const uint32_t *rows,
                           const v2i64 *G, size_t len)
{
    v2i64 *restrict H0 = (v2i64 *)h[0], *restrict H1 = (v2i64 *)h[1];
    const uint8_t *c0 = c[0], *c1 = c[1];
    if (rows) {
        for (size_t k = 0; k < len; k++) {
            if (k + 48 < len) {
                __builtin_prefetch(c0 + rows[k + 48]);
                __builtin_prefetch(c1 + rows[k + 48]);
            }
            uint32_t r = rows[k];
            v2i64 g = G[k];
            H0[c0[r]] += g;
            H1[c1[r]] += g;
        }
    } else {
        for (size_t k = 0; k < len; k++) {
            v2i64 g = G[k];
            H0[c0[k]] += g;
            H1[c1[k]] += g;
        }
    }
}

static inline void acc_four(cl_hbin *const *h, const uint8_t *const *c, const uint32_t *rows,
                            const v2i64 *G, size_t len)
{
    v2i64 *restrict H0 = (v2i64 *)h[0], *restrict H1 = (v2i64 *)h[1];
    v2i64 *restrict H2 = (v2i64 *)h[2], *restrict H3 = (v2i64 *)h[3];
    const uint8_t *c0 = c[0], *c1 = c[1], *c2 = c[2], *c3 = c[3];
    if (rows) {
        for (size_t k = 0; k < len; k++) {
            if (k + 48 < len) {
                uint32_t q = rows[k + 48];
                __builtin_prefetch(c0 + q);
                __builtin_prefetch(c1 + q);
                __builtin_prefetch(c2 + q);
                __builtin_prefetch(c3 + q);
            }
            uint32_t r = rows[k];
            v2i64 g = G[k];
            H0[c0[r]] += g;
            H1[c1[r]] += g;
            H2[c2[r]] += g;
            H3[c3[r]] += g;
        }
    } else {
        for (size_t k = 0; k < len; k++) {
            v2i64 g = G[k];
            H0[c0[k]] += g;
            H1[c1[k]] += g;
            H2[c2[k]] += g;
            H3[c3[k]] += g;
        }
    }
}

/* Adds positions [k0, k1) (their pairs at ghb[0..2(k1 - k0))) of features feats[f0..f1) to
 * hist: features in fours, then a pair, then one alone (into lone2 too, the second chain,
 * when not NULL). */
static inline void acc_block(cl_hbin *hist, cl_hbin *lone2, const int *hist_off,
                             const uint8_t *bins, size_t n, const uint32_t *rows, size_t k0,
                             size_t k1, const int64_t *ghb, const int *feats, int f0, int f1)
{
    const uint32_t *rb = rows ? rows + k0 : NULL;
    const size_t cof = rows ? 0 : k0, len = k1 - k0;
    const v2i64 *G = (const v2i64 *)ghb;
    int nf = f1 - f0, f4 = f0 + nf / 4 * 4, f2 = f4 + (f1 - f4) / 2 * 2;
    for (int f = f0; f < f2; f += (f < f4 ? 4 : 2)) {
        int g = f < f4 ? 4 : 2;
        cl_hbin *h[4];
        const uint8_t *c[4];
        for (int q = 0; q < g; q++) {
            h[q] = hist + hist_off[feats[f + q]];
            c[q] = bins + (size_t)feats[f + q] * n + cof;
        }
        if (g == 4)
            acc_four(h, c, rb, G, len);
        else
            acc_two(h, c, rb, G, len);
    }
    if (f2 < f1)
        acc_one(hist + hist_off[feats[f2]], lone2, bins + (size_t)feats[f2] * n + cof, rb, G,
                len);
}

CL_ISA_BODY void range_body(cl_hbin *hist, cl_hbin *hist2, const int *hist_off,
                            const uint8_t *bins, size_t n, const uint32_t *rows, size_t m,
                            const int64_t *gh, const int *feats, int f0, int f1)
{
    for (int f = f0; f < f1; f++) {
        int j = feats[f];
        size_t nb = (size_t)(hist_off[j + 1] - hist_off[j]);
        memset(hist + hist_off[j], 0, nb * sizeof *hist);
    }
    /* the feature left alone after the fours and the pair takes the second chain */
    int nf = f1 - f0, lone = (nf % 2) ? feats[f1 - 1] : -1;
    cl_hbin *lone2 = lone >= 0 && hist2 ? hist2 + hist_off[lone] : NULL;
    if (lone2)
        memset(lone2, 0, (size_t)(hist_off[lone + 1] - hist_off[lone]) * sizeof *hist2);
    for (size_t k0 = 0; k0 < m; k0 += CL_HIST_BLOCK) {
        size_t k1 = k0 + CL_HIST_BLOCK < m ? k0 + CL_HIST_BLOCK : m;
        acc_block(hist, lone2, hist_off, bins, n, rows, k0, k1, gh + 2 * k0, feats, f0, f1);
    }
    if (lone2)
        for (int b = hist_off[lone]; b < hist_off[lone + 1]; b++) {
            hist[b].g += hist2[b].g;
            hist[b].h += hist2[b].h;
        }
}

CL_ISA_BODY void float_body(cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n,
                            const uint32_t *rows, size_t k0, size_t k1, const float *grad,
                            const float *hess, double sg, double sh, const int *feats, int nf,
                            int64_t *blk)
{
    for (size_t b0 = k0; b0 < k1; b0 += CL_HIST_BLOCK) {
        size_t b1 = b0 + CL_HIST_BLOCK < k1 ? b0 + CL_HIST_BLOCK : k1;
        if (rows)
            for (size_t k = b0; k < b1; k++) {
                uint32_t r = rows[k];
                blk[2 * (k - b0)] = cl_round_i64((double)grad[r] * sg);
                blk[2 * (k - b0) + 1] = cl_round_i64((double)hess[r] * sh);
            }
        else
            for (size_t k = b0; k < b1; k++) {
                blk[2 * (k - b0)] = cl_round_i64((double)grad[k] * sg);
                blk[2 * (k - b0) + 1] = cl_round_i64((double)hess[k] * sh);
            }
        acc_block(hist, NULL, hist_off, bins, n, rows, b0, b1, blk, feats, 0, nf);
    }
}

/* The same bodies compiled per instruction-set path (isa.h): integer sums, so every path
 * gives the same histogram. */
#define RANGE_ARGS                                                                           \
    cl_hbin *hist, cl_hbin *hist2, const int *hist_off, const uint8_t *bins, size_t n,       \
        const uint32_t *rows, size_t m, const int64_t *gh, const int *feats, int f0, int f1
#define RANGE_CALL hist, hist2, hist_off, bins, n, rows, m, gh, feats, f0, f1
#define FLOAT_ARGS                                                                           \
    cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n, const uint32_t *rows, \
        size_t k0, size_t k1, const float *grad, const float *hess, double sg, double sh,    \
        const int *feats, int nf, int64_t *blk
#define FLOAT_CALL hist, hist_off, bins, n, rows, k0, k1, grad, hess, sg, sh, feats, nf, blk

static void range_default(RANGE_ARGS)
{
    range_body(RANGE_CALL);
}

static void float_default(FLOAT_ARGS)
{
    float_body(FLOAT_CALL);
}

#if CL_ISA_HAVE_PATHS
CL_ISA_AVX2_FN static void range_avx2(RANGE_ARGS)
{
    range_body(RANGE_CALL);
}

CL_ISA_AVX512_FN static void range_avx512(RANGE_ARGS)
{
    range_body(RANGE_CALL);
}

CL_ISA_AVX2_FN static void float_avx2(FLOAT_ARGS)
{
    float_body(FLOAT_CALL);
}

CL_ISA_AVX512_FN static void float_avx512(FLOAT_ARGS)
{
    float_body(FLOAT_CALL);
}
#endif

void cl_hist_build_range(RANGE_ARGS)
{
#if CL_ISA_HAVE_PATHS
    switch (cl_isa_get()) {
    case CL_ISA_AVX512: range_avx512(RANGE_CALL); return;
    case CL_ISA_AVX2: range_avx2(RANGE_CALL); return;
    default: break;
    }
#endif
    range_default(RANGE_CALL);
}

void cl_hist_add_float(FLOAT_ARGS)
{
#if CL_ISA_HAVE_PATHS
    switch (cl_isa_get()) {
    case CL_ISA_AVX512: float_avx512(FLOAT_CALL); return;
    case CL_ISA_AVX2: float_avx2(FLOAT_CALL); return;
    default: break;
    }
#endif
    float_default(FLOAT_CALL);
}

void cl_hist_build(cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n,
                   const uint32_t *rows, size_t m, const int64_t *gh, const int *feats, int nf,
                   int nthreads)
{
    if (nthreads > nf)
        nthreads = nf;
    /* two chains only for large nodes (integer sums: any order gives the same histogram) */
    cl_hbin *hist2 = NULL;
    if (m >= 8192) /* feats are increasing: the last one ends the used range */
        hist2 = cl_alloc((size_t)hist_off[feats[nf - 1] + 1] * sizeof *hist2);
    if (nthreads <= 1 || m * (size_t)nf < ((size_t)1 << 18)) {
        cl_hist_build_range(hist, hist2, hist_off, bins, n, rows, m, gh, feats, 0, nf);
        cl_alloc_free(hist2);
        return;
    }
#pragma omp parallel num_threads(nthreads)
    {
        int t = 0, nt = 1;
#ifdef _OPENMP
        t = omp_get_thread_num();
        nt = omp_get_num_threads();
#endif
        int f0 = (int)((long)nf * t / nt), f1 = (int)((long)nf * (t + 1) / nt);
        cl_hist_build_range(hist, hist2, hist_off, bins, n, rows, m, gh, feats, f0, f1);
    }
    cl_alloc_free(hist2);
}

void cl_hist_subtract(cl_hbin *out, const cl_hbin *parent, const cl_hbin *child,
                      const int *hist_off, const int *feats, int nf)
{
    for (int f = 0; f < nf; f++) {
        int j = feats[f];
        for (int b = hist_off[j]; b < hist_off[j + 1]; b++) {
            out[b].g = parent[b].g - child[b].g;
            out[b].h = parent[b].h - child[b].h;
        }
    }
}
