/* content.h - content-based recommender (kind "content" of cl_rec, see rec.h).
 *
 * Items are described by a dense feature matrix (one row per item label). Columns holding
 * only 0/1 (multi-hot genres, type) are weighted by smoothed inverse document frequency,
 * log((1 + N) / (1 + df)) + 1, so rare genres say more than common ones; other columns (year,
 * runtime) are standardised and scaled by `numeric_weight`. Rows are then L2-normalised. A
 * user's profile is the value-weighted mean of the rows of what they interacted with (with
 * `center`, values minus the user's mean, so disliked items push away); an item's score is
 * the cosine between profile and item. Items of the training matrix without a feature row
 * get a zero row (never recommended by content alone). Feature rows of items that have no
 * interactions are appended to the model's items at fit (cl_content_extend), so a new title
 * is recommendable; cl_rec_add_item adds one later from its features.
 */
#ifndef CL_CONTENT_H
#define CL_CONTENT_H

#include <stdint.h>

#include "rec/rec.h"

typedef struct cl_content_params {
    int idf;               /* weight 0/1 columns by inverse document frequency */
    double numeric_weight; /* scale of standardised non-binary columns */
    int center;            /* profile weights = value - user's mean value */
} cl_content_params;

/* Gives the item features: rows x cols row-major, labels[rows] (copied). Replaces earlier
 * features; takes effect at the next fit. Labels must be distinct. */
int cl_content_set_features(cl_rec *r, const float *X, int64_t rows, int cols,
                            const char *const *labels);

/* *m (owned reference, replaced) plus one empty item column for every feature row of r whose
 * label is not among (*m)'s items, in feature row order; *m is kept as it is when there is
 * none or r has no features. Called by cl_rec_fit; a no-op for other kinds. */
int cl_content_extend(const cl_rec *r, cl_interactions **m);

/* After fit: how many training items had no feature row. */
int64_t cl_content_missing(const cl_rec *r);

/* The kind's operations (listed in cl_rec_kinds by rec_kinds.c). */
extern const cl_rec_ops cl_content_rec_ops;

#endif
