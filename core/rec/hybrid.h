/* hybrid.h - weighted blend of recommenders (kind "hybrid" of cl_rec, see rec.h).
 *
 * score(u, j) = sum_c w_c * normalise(score_c(u, .))_j, where each component's scores for the
 * user are first brought to a common scale over all items (min-max to [0, 1], or z-scores).
 * Users (or fresh histories) with fewer than `min_interactions` interactions are switched to
 * the fallback recommender (content or popularity: cold start) when one is given.
 * fit() fits every component and the fallback on the same interactions (with fit_components,
 * the default) or checks that they were fitted on exactly that matrix.
 */
#ifndef CL_HYBRID_H
#define CL_HYBRID_H

#include "rec/rec.h"

typedef struct cl_hybrid_params {
    int min_interactions; /* below this, the fallback answers */
    int normalize;        /* 0 minmax, 1 zscore */
    int fit_components;   /* fit() refits the components */
} cl_hybrid_params;

#define CL_HYBRID_MAX 16

/* With fit_components: cl_content_extend for every content component and the fallback in
 * turn (so all are fitted on one matrix that holds every featured item); else a no-op. */
int cl_hybrid_extend(const cl_rec *r, cl_interactions **m);

/* Sets the components (retained) and their weights (finite, not all zero), and an optional
 * fallback (NULL for none). Takes effect at the next fit. */
int cl_hybrid_set(cl_rec *r, int n, cl_rec *const *components, const double *weights,
                  cl_rec *fallback);

/* The kind's operations (listed in cl_rec_kinds by rec_kinds.c). */
extern const cl_rec_ops cl_hybrid_rec_ops;

#endif
