/* hist.h - gradient/hessian histograms over row subsets (kernel; knows no model).
 *
 * A histogram holds, for every feature j and bin b (including the missing bin), the sums of
 * gradient and hessian of the rows whose binned value is b: hist[hist_off[j] + b].
 *
 * Fixed point. Gradients and hessians arrive as int64 multiples of a unit (the grower picks
 * a power of two per tree so no sum can overflow: tree_grow.c), and are added as integers.
 * Integer sums are exact, so a histogram is the same whatever the order of the rows, the
 * number of threads, the accumulation chains, or the number of MPI ranks whose partial
 * histograms are summed (XGBoost's GPU histograms are made deterministic the same way);
 * subtraction is exact too. Threads own contiguous feature ranges and walk the rows in blocks
 * of CL_HIST_BLOCK, so one block of ordered gradients stays in cache while the thread sweeps
 * its features (LightGBM's ordered gradients, column-wise), four features at a time: a row's
 * index and (g, h) pair are read once for the four, and each bin update is one 16-byte vector
 * add. A feature left alone in a node of >= 8192 rows accumulates even and odd list positions
 * in two histograms added at the end (two dependency chains).
 */
#ifndef CL_HIST_H
#define CL_HIST_H

#include <stddef.h>
#include <stdint.h>

#define CL_HIST_BLOCK 4096

typedef struct cl_hbin {
    int64_t g, h; /* in units of the tree's fixed-point scales */
} cl_hbin;

/* Builds the histogram of features feats[0..nf) (their ranges of `hist` are overwritten)
 * over rows[0..m) of the column-major bin matrix `bins` (n rows per column); rows == NULL
 * means rows 0..m-1. gh holds the fixed-point gradient and hessian of the k-th listed row at
 * gh[2k], gh[2k+1] (ordered gradients). feats must be increasing. nthreads >= 1; small work runs on
 * one thread. */
void cl_hist_build(cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n,
                   const uint32_t *rows, size_t m, const int64_t *gh, const int *feats, int nf,
                   int nthreads);

/* One thread's share of cl_hist_build: features feats[f0..f1) (their ranges of `hist`
 * overwritten) over rows[0..m) (NULL: rows 0..m-1) with gh as in cl_hist_build. hist2, when
 * not NULL, is scratch of the same layout for a second accumulation chain (worth it from
 * about 8192 rows); the result is the same either way. For callers that split the work of
 * several nodes among their own threads (tree_grow.c's level-wise growth). */
void cl_hist_build_range(cl_hbin *hist, cl_hbin *hist2, const int *hist_off, const uint8_t *bins,
                         size_t n, const uint32_t *rows, size_t m, const int64_t *gh,
                         const int *feats, int f0, int f1);

/* Adds to `hist` (not cleared) list positions [k0, k1) of rows (NULL: positions are row
 * numbers) for features feats[0..nf), from the rows' float gradients and hessians (indexed
 * by row number): each is rounded to grad * sg and hess * sh units (cl_round_i64, as the
 * grower's gather does) one block of CL_HIST_BLOCK positions at a time into blk (room for
 * 2 CL_HIST_BLOCK int64), so no ordered-gradient buffer of the whole node is needed. Integer
 * sums: several calls over parts of a node, added in any order, give cl_hist_build's
 * histogram of the whole. */
void cl_hist_add_float(cl_hbin *hist, const int *hist_off, const uint8_t *bins, size_t n,
                       const uint32_t *rows, size_t k0, size_t k1, const float *grad,
                       const float *hess, double sg, double sh, const int *feats, int nf,
                       int64_t *blk);

/* out = parent - child over the ranges of feats (the sibling's histogram); out may alias
 * parent. */
void cl_hist_subtract(cl_hbin *out, const cl_hbin *parent, const cl_hbin *child,
                      const int *hist_off, const int *feats, int nf);

#endif
