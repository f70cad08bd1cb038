/* rankmetrics.h - ranking and rating metrics for recommenders.
 *
 * Per list: `rec` holds k recommended item indices best first (-1 pads a short list),
 * `rel` the user's relevant items (sorted ascending, distinct). Definitions (binary relevance):
 *   precision@k = hits / k                recall@k = hits / |rel|
 *   AP@k        = sum over hit ranks i of (hits in the first i) / i, divided by min(k, |rel|)
 *   NDCG@k      = sum_hits 1/log2(rank + 1) / sum_{r=1..min(k,|rel|)} 1/log2(r + 1)
 *   hit@k       = 1 if any hit             RR@k = 1 / rank of the first hit (0 if none)
 * Aggregates over users with at least one relevant item (means), plus catalogue coverage
 * (distinct recommended items / n_items) and novelty (mean over recommended items of
 * -log2(p_i), p_i = share of training users who interacted with i, at least 1/n_users).
 */
#ifndef CL_RANKMETRICS_H
#define CL_RANKMETRICS_H

#include <stdint.h>

#include "rec/interactions.h"

typedef struct cl_rankmetrics_list {
    double precision, recall, ap, ndcg, hit, rr;
} cl_rankmetrics_list;

void cl_rankmetrics_list_eval(const int32_t *rec, int k, const int32_t *rel, int64_t n_rel,
                              cl_rankmetrics_list *out);

typedef struct cl_rankmetrics_report {
    int k;
    int64_t users;          /* users evaluated (with at least one relevant item) */
    double precision, recall, map, ndcg, hit_rate, mrr;
    double coverage, novelty;
} cl_rankmetrics_report;

/* recs: n_users x k (rows of `test`'s users); relevant items from `test`; `train` (same id
 * maps, may be NULL) gives the popularity used by novelty (NaN without it). train may have
 * more items than test (appended after test's: a content model's featured items); they are
 * never relevant, and coverage is over train's items. */
int cl_rankmetrics_evaluate(const int32_t *recs, int k, const cl_interactions *test,
                            const cl_interactions *train, cl_rankmetrics_report *out);

/* Rating errors over n pairs; n > 0 and every value finite. */
int cl_rankmetrics_rmse(const double *pred, const double *truth, int64_t n, double *out);
int cl_rankmetrics_mae(const double *pred, const double *truth, int64_t n, double *out);

#endif
