/* frame_stats.h - binning and correlation: cut, qcut (pandas' cut and qcut, with their bin
 * edges and interval labels) and pairwise correlation matrices (DataFrame.corr).
 *
 * Owner: frame helper. Results are new owned columns/frames; inputs are borrowed.
 */
#ifndef CL_FRAME_STATS_H
#define CL_FRAME_STATS_H

#include <stdint.h>

#include "frame/frame.h"

typedef struct cl_cut_opts {
    int right;              /* intervals (a, b] (1, default) or [a, b) (0) */
    int include_lowest;     /* the first interval also holds its left edge */
    int int_edges;          /* edges are integers given as such: labels print them as integers */
    int precision;          /* digits of the labels (pandas' precision, default 3) */
    const char *const *labels; /* nbins labels, or NULL for interval labels */
    int codes;              /* 1: a num column of bin numbers 0..nbins-1 (pandas labels=False) */
} cl_cut_opts;

void cl_frame_stats_cut_opts_default(cl_cut_opts *o);

/* Edges of pandas' cut(x, bins=k): k + 1 equal-width edges over [min, max] of the
 * non-missing values, the outer edge widened by 0.1% of the range (a constant column: by
 * 0.1% of its value). *edges is cl_alloc'ed (k + 1 values). */
int cl_frame_stats_cut_edges(const cl_column *c, int k, int right, double **edges);
/* Edges of pandas' qcut(x, q): the quantiles 0, 1/q, ..., 1 (linear interpolation) of the
 * non-missing values; equal edges are an error, as pandas' duplicates="raise". */
int cl_frame_stats_qcut_edges(const cl_column *c, int q, double **edges);
/* Bins of a num column by ascending edges[0..nedges): a cat column whose dictionary holds the
 * bin labels in bin order ("(0.5, 1.0]" as pandas prints its intervals; values outside every
 * bin and missing values are missing). */
int cl_frame_stats_col_cut(cl_column **out, const cl_column *c, const double *edges, int nedges,
               const cl_cut_opts *o);

/* Correlation matrix of the num columns of f: a frame {column = names, <name> = ...}, with
 * each pair over the rows where both are present (pandas' pairwise-complete corr, min_periods
 * 1; fewer than 2 rows or a constant column give missing). spearman = 1 correlates average
 * ranks computed within each pair's rows. */
int cl_frame_stats_corr(cl_frame **out, const cl_frame *f, int spearman);

#endif
