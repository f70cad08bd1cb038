/* similar_users.h - users like a given user, by the cosine of their rows of an interaction
 * matrix, with the shared items that make them alike ("you both watched ...").
 *
 * The similarity of users u and v is sum_i x_ui x_vi / (|x_u| |x_v|) over the items both
 * have; each shared item's term x_ui x_vi / (|x_u| |x_v|) is its share of it, so the
 * explanation's contributions add up to the similarity. Model-independent: it answers for
 * every recommender kind from its training matrix. Users without a shared item are never
 * listed; ties go to the lower index.
 */
#ifndef CL_SIMILAR_USERS_H
#define CL_SIMILAR_USERS_H

#include <stdint.h>

#include "rec/interactions.h"

/* The k users most similar to user u (u itself excluded): users[], scores[] (best first),
 * *n_out <= k. CL_ERANGE for u out of range, CL_EINVAL for k < 1. */
int cl_similar_users_topk(const cl_interactions *m, int64_t u, int k, int32_t *users,
                          float *scores, int *n_out);
/* The k items shared by users u and v with the largest contributions to their similarity:
 * items[], contrib[] (largest first), *n_out <= k. */
int cl_similar_users_explain(const cl_interactions *m, int64_t u, int64_t v, int k,
                             int32_t *items, float *contrib, int *n_out);

#endif
