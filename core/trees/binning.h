/* binning.h - per-feature quantile binning of float features into uint8 bins.
 *
 * Training data is binned once: numeric features get at most max_bins bins whose boundaries
 * (cuts) are quantiles of the training values (exact on a deterministic sample of at most
 * CL_BIN_SAMPLE rows, ties kept together), categorical features get one bin per category
 * code (0, 1, 2 ...). Every feature also has a dedicated missing bin (NaN, and for
 * categorical features negative or too large codes) numbered nbins[j], so a feature uses
 * nbins[j] + 1 <= 256 bin values.
 *
 * Numeric bin of x: the number of cuts c with c <= x, so "bin <= b" is exactly "x < cut[b]".
 * That is how tree splits found on bins become float thresholds, reused at prediction time.
 *
 * The binned matrix is column-major (feature j's n bins are contiguous), the layout the
 * histogram kernel reads.
 */
#ifndef CL_BINNING_H
#define CL_BINNING_H

#include <stddef.h>
#include <stdint.h>

#include "base/dist.h"

#define CL_BIN_SAMPLE 200000
#define CL_BIN_MAXCAT 255 /* categorical codes 0..254; larger codes are treated as missing */

typedef struct cl_binning {
    int d;
    int *nbins;      /* non-missing bins per feature (>= 1); missing bin = nbins[j] */
    uint8_t *is_cat; /* 1 for categorical features */
    int *cut_off;    /* d + 1 offsets into cuts (numeric features only; categorical: none) */
    float *cuts;     /* numeric cuts, ascending per feature; nbins[j] - 1 of them */
    int *hist_off;   /* d + 1 offsets of each feature's bins in a histogram (nbins + 1 each) */
    int max_bins;    /* parameters of the fit (cl_binning_new); 0 in a binning built from */
    uint64_t seed;   /* arrays, which must be given them before a refit */
} cl_binning;

/* An unfitted binning (d = 0, no arrays) with at most max_bins bins per numeric feature
 * (in [2, 255]) and the seed of its row sample. Owned; cl_binning_free. */
int cl_binning_new(cl_binning **out, int max_bins, uint64_t seed);
/* Fits b's bin boundaries on X (n x d row-major float32, NaN = missing), replacing those of
 * an earlier fit (a refit equals a fit of a new binning on the same data); on failure b is
 * left as it was. is_cat may be NULL (all numeric). Categorical values must be NaN or
 * integral codes: a non-integral value is CL_EINVAL naming the row and column. */
int cl_binning_fit(cl_binning *b, const float *X, size_t n, int d, const uint8_t *is_cat);
void cl_binning_free(cl_binning *b);

/* The same fit over the rows of every rank of `dist` (each passes its own n x d rows; the
 * data is their concatenation in rank order). The deterministic sample is drawn over the
 * global row numbers exactly as cl_binning_fit draws it, its rows are gathered in global
 * order, and categorical bin counts come from the global maxima, so the binning equals
 * cl_binning_fit on the concatenated data, on every rank. Collective; NULL or one rank is
 * cl_binning_fit. */
int cl_binning_fit_dist(cl_binning *b, const float *X, size_t n, int d, const uint8_t *is_cat,
                        cl_dist *dist);

/* Bin of one value of feature j. */
uint8_t cl_binning_bin(const cl_binning *b, int j, float x);

/* Bins X (n x d row-major) into out (column-major, n * d bytes, caller-allocated). Parallel
 * over fixed row blocks; results do not depend on the thread count. */
void cl_binning_apply(const cl_binning *b, const float *X, size_t n, uint8_t *out);

/* Float threshold equivalent to "bin <= bin_b" for numeric feature j ("x < threshold"). */
float cl_binning_threshold(const cl_binning *b, int j, int bin_b);

/* Total histogram bins (sum of nbins + 1). */
int cl_binning_total(const cl_binning *b);

/* Builds a binning from stored arrays (model loading); validates them. Owned. */
int cl_binning_from_arrays(cl_binning **out, int d, const int32_t *nbins, const uint8_t *is_cat,
                           const float *cuts, size_t ncuts);

#endif
