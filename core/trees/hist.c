/* hist.c - histogram building and subtraction (see hist.h). */
#include "trees/hist.h"

#include "base/alloc.h"
#include "trees/isa.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Accumulates rows [k0, k1) of feature j into h, and when h2 is not NULL the odd positions
 * into h2 (two independent dependency chains for the read-modify-write of a bin; integer
 * sums, so the split changes nothing but speed). */
static inline void acc_rows(cl_hbin *restrict h, cl_hbin *restrict h2, const uint8_t *col,
                            const uint32_t *rows, const int64_t *gh, size_t k0, size_t k1)
{
    size_t k = k0;
    if (h2) {
        if (rows) {
            for (; k + 1 < k1; k += 2) {
                if (k + 64 < k1)
                    __builtin_prefetch(col + rows[k + 64]);
                cl_hbin *e = h + col[rows[k]], *f = h2 + col[rows[k + 1]];
                e->g += gh[2 * k];
                e->h += gh[2 * k + 1];
                f->g += gh[2 * k + 2];
                f->h += gh[2 * k + 3];
            }
        } else {
            for (; k + 1 < k1; k += 2) {
                cl_hbin *e = h + col[k], *f = h2 + col[k + 1];
                e->g += gh[2 * k];
                e->h += gh[2 * k + 1];
                f->g += gh[2 * k + 2];
                f->h += gh[2 * k + 3];
            }
        }
    }
    for (; k < k1; k++) {
        if (rows && k + 32 < k1)
            __builtin_prefetch(col + rows[k + 32]);
        cl_hbin *e = h + col[rows ? rows[k] : k];
        e->g += gh[2 * k];
        e->h += gh[2 * k + 1];
    }
}

CL_ISA_BODY void range_body(cl_hbin *hist, cl_hbin *hist2, const int *hist_off,
                            const uint8_t *bins, size_t n, const uint32_t *rows, size_t m,
                            const int64_t *gh, const int *feats, int f0, int f1)
{
    for (int f = f0; f < f1; f++) {
        int j = feats[f];
        size_t nb = (size_t)(hist_off[j + 1] - hist_off[j]);
        memset(hist + hist_off[j], 0, nb * sizeof *hist);
        if (hist2)
            memset(hist2 + hist_off[j], 0, nb * sizeof *hist2);
    }
    for (size_t k0 = 0; k0 < m; k0 += CL_HIST_BLOCK) {
        size_t k1 = k0 + CL_HIST_BLOCK < m ? k0 + CL_HIST_BLOCK : m;
        for (int f = f0; f < f1; f++) {
            int j = feats[f];
            acc_rows(hist + hist_off[j], hist2 ? hist2 + hist_off[j] : NULL, bins + (size_t)j * n,
                     rows, gh, k0, k1);
        }
    }
    if (hist2)
        for (int f = f0; f < f1; f++) {
            int j = feats[f];
            for (int b = hist_off[j]; b < hist_off[j + 1]; b++) {
                hist[b].g += hist2[b].g;
                hist[b].h += hist2[b].h;
            }
        }
}

/* The same body compiled per instruction-set path (isa.h): integer sums, so every path
 * gives the same histogram. */
#define RANGE_ARGS                                                                           \
    cl_hbin *hist, cl_hbin *hist2, const int *hist_off, const uint8_t *bins, size_t n,       \
        const uint32_t *rows, size_t m, const int64_t *gh, const int *feats, int f0, int f1
#define RANGE_CALL hist, hist2, hist_off, bins, n, rows, m, gh, feats, f0, f1

static void range_default(RANGE_ARGS)
{
    range_body(RANGE_CALL);
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
