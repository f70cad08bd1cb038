/* split.h - best split of a node from its histogram (kernel; knows no model).
 *
 * Objective (XGBoost's second-order form): a set of rows with gradient sum G and hessian sum
 * H scores T(G)^2 / (H + lambda) with T the soft threshold by alpha (L1); the best leaf
 * weight is -T(G) / (H + lambda). A split's gain is score(left) + score(right) -
 * score(parent); it is accepted when gain > gamma and both children have hessian sums >=
 * min_child_weight.
 *
 * Numeric features: left = bins 0..b ("x < cut[b]"); rows with missing values go to the side
 * (learned default direction) that gives the larger gain. Categorical features: categories
 * present in the node are ordered by G / (H + CL_SPLIT_CAT_SMOOTH) and prefixes or suffixes
 * of that order are tried as the left set (LightGBM's many-vs-many partition, which is exact
 * for convex losses); missing values and categories absent from the node follow the default
 * direction / go right. Partitions over many levels overfit easily, so, as LightGBM does,
 * the ordering is smoothed (CL_SPLIT_CAT_SMOOTH), categories with fewer rows than that are
 * left out (they go right), a cut is tried only every CL_SPLIT_CAT_MIN_DATA_PER_GROUP rows,
 * the left set holds at most CL_SPLIT_CAT_MAX_THRESHOLD categories, and categorical gains
 * score the children with an extra L2 penalty (CL_SPLIT_CAT_L2) against the parent's score at
 * the model's own L2 (LightGBM's gain_shift), so a partition pays for the extra shrinkage.
 * See cat_split in split.c.
 */
#ifndef CL_SPLIT_H
#define CL_SPLIT_H

#include <stdint.h>

#include "trees/hist.h"

#define CL_SPLIT_CAT_WORDS 8 /* 256 bits of category set */
#define CL_SPLIT_CAT_SMOOTH 10.0 /* added to H when ordering categories */
#define CL_SPLIT_CAT_L2 10.0     /* extra L2 when scoring categorical splits */
/* LightGBM's defaults: at most this many categories on the left ... */
#define CL_SPLIT_CAT_MAX_THRESHOLD 32
/* ... and at least this many rows between two cuts tried, and on the right */
#define CL_SPLIT_CAT_MIN_DATA_PER_GROUP 100.0

typedef struct cl_split_params {
    double lambda, alpha, gamma, min_child_weight;
    /* value of one fixed-point unit of the histograms' gradient / hessian sums (hist.h); the
     * grower sets them per tree, a power of two each */
    double ug, uh;
    /* Monotone constraints (XGBoost's monotone_constraints), set per node and feature by the
     * grower; all zero = none, and then gains are the closed form above, bit for bit.
     * constrained: some feature of the model is constrained, so every weight is clamped to
     * the node's bounds [lo, hi] and a split's gain is computed from the clamped weights w as
     * -(2 T(G) w + (H + lambda) w^2) per side (equal to the closed form when nothing clamps);
     * mono: +1 / -1 for the feature being scanned: a split whose clamped left weight is
     * above (below) its right one is refused, so the output rises (falls) with the feature. */
    int constrained, mono;
    double lo, hi;
    /* rows in the node (over every rank), for the categorical split's row rules (LightGBM's
     * cat_smooth and min_data_per_group); 0 turns them off */
    double count;
} cl_split_params;

typedef struct cl_split {
    double gain; /* <= 0: no acceptable split */
    int feature;
    int bin;          /* numeric: left if bin <= this */
    int default_left; /* where missing values go */
    int is_cat;
    uint32_t cats[CL_SPLIT_CAT_WORDS]; /* categorical: categories going left */
    double gl, hl, gr, hr;             /* child sums with missing values placed */
    double wl, wr;                     /* constrained: the children's clamped weights */
    int64_t qgl, qhl, qgr, qhr;        /* the same in fixed point (exact) */
} cl_split;

double cl_split_score(double G, double H, const cl_split_params *p);
double cl_split_weight(double G, double H, const cl_split_params *p);
/* The weight clamped to [p->lo, p->hi] when p->constrained, else cl_split_weight. */
double cl_split_weight_bounded(double G, double H, const cl_split_params *p);

/* Resets s to "no split". */
void cl_split_none(cl_split *s);

/* Best split on feature j whose histogram is h[0..nbins] (h[nbins] = missing bin), for a
 * node with fixed-point sums G, H (units p->ug, p->uh). Prefix sums are integers, so every
 * candidate's child sums are exact. Updates *best only when the gain is strictly larger, so calling it
 * for features in increasing order breaks ties toward the lowest feature index. */
void cl_split_feature(cl_split *best, const cl_hbin *h, int nbins, int is_cat, int j, int64_t G,
                      int64_t H, const cl_split_params *p);

/* Testing hook: on != 0 makes cl_split_feature scan numeric features one candidate at a
 * time (try_split, the reference) instead of evaluating all their gains in one vectorised
 * pass; both pick the same split bit for bit (tests/core/trees/test_isa.c). */
void cl_split_force_scalar(int on);

static inline int cl_split_cat_has(const uint32_t *bits, int c)
{
    return (bits[c >> 5] >> (c & 31)) & 1u;
}

#endif
