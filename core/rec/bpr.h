/* bpr.h - Bayesian personalised ranking (Rendle et al. 2009) with matrix factorisation
 * (kind "bpr" of cl_rec, see rec.h), for implicit feedback.
 *
 * score(u, j) = p_u . q_j + b_j. Each SGD step takes an observed pair (u, i) (every pair once
 * per epoch, in a shuffled order) and an item j the user has not interacted with (uniform,
 * by rejection), and ascends ln sigmoid(s_ui - s_uj) - reg/2 (|p_u|^2 + |q_i|^2 + |q_j|^2
 * + b_i^2 + b_j^2). One thread, one seeded stream: the fit is the same whatever the thread
 * count. Fold-in (a fresh history) runs `foldin_epochs` passes of the same steps on p_u alone
 * (item side fixed, from p_u = 0, a stream seeded by the seed and the history), so it is
 * deterministic too; add_user keeps that p_u.
 */
#ifndef CL_BPR_H
#define CL_BPR_H

#include <stdint.h>

#include "rec/rec.h"

typedef struct cl_bpr_params {
    int factors, epochs, foldin_epochs;
    double lr, reg, init_std;
    int item_bias;
    uint64_t seed;
} cl_bpr_params;

/* The kind's operations (listed in cl_rec_kinds by rec_kinds.c). */
extern const cl_rec_ops cl_bpr_rec_ops;

#endif
