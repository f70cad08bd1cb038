/* hist.c - histogram building and subtraction (see hist.h). */
#include "hist.h"

#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static void build_range(cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n,
                        const uint32_t *rows, size_t m, const float *gh, const int *feats,
                        int f0, int f1)
{
    for (int f = f0; f < f1; f++) {
        int j = feats[f];
        memset(hist + hist_off[j], 0, (size_t)(hist_off[j + 1] - hist_off[j]) * sizeof *hist);
    }
    for (size_t k0 = 0; k0 < m; k0 += CL_HIST_BLOCK) {
        size_t k1 = k0 + CL_HIST_BLOCK < m ? k0 + CL_HIST_BLOCK : m;
        for (int f = f0; f < f1; f++) {
            int j = feats[f];
            cl_hbin *h = hist + hist_off[j];
            const uint8_t *col = bins + (size_t)j * n;
            if (rows) {
                for (size_t k = k0; k < k1; k++) {
                    cl_hbin *e = h + col[rows[k]];
                    e->g += gh[2 * k];
                    e->h += gh[2 * k + 1];
                }
            } else {
                for (size_t k = k0; k < k1; k++) {
                    cl_hbin *e = h + col[k];
                    e->g += gh[2 * k];
                    e->h += gh[2 * k + 1];
                }
            }
        }
    }
}

void cl_hist_build(cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n,
                   const uint32_t *rows, size_t m, const float *gh, const int *feats, int nf,
                   int nthreads)
{
    if (nthreads > nf)
        nthreads = nf;
    if (nthreads <= 1 || m * (size_t)nf < ((size_t)1 << 18)) {
        build_range(hist, hist_off, bins, n, rows, m, gh, feats, 0, nf);
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
        build_range(hist, hist_off, bins, n, rows, m, gh, feats, f0, f1);
    }
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
