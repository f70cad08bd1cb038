/* ease.h - EASE, the closed-form item-item model of Steck (2019), "Embarrassingly Shallow
 * Autoencoders for Sparse Data" (kind "ease" of cl_rec, see rec.h).
 *
 * With X the user x item matrix (values, or 1 each with `binary`), G = X^T X + reg I and
 * P = G^-1, the item-item weights are B_ij = -P_ij / P_jj for i != j and B_jj = 0: the
 * least-squares fit of X by X B under the constraint diag(B) = 0. A user's score for j is
 * sum over their items i of x_ui B_ij, so any history is scored without a solve (fold-in is
 * exact). B is dense n_items x n_items (float32): the model is for catalogues of up to
 * CL_EASE_MAX_ITEMS items. The inverse comes from LAPACK (dpotrf/dpotri, OpenBLAS) on one
 * thread, so the weights are the same whatever the thread count.
 */
#ifndef CL_EASE_H
#define CL_EASE_H

#include "rec/rec.h"

typedef struct cl_ease_params {
    double reg;  /* L2 penalty lambda added to the Gram matrix's diagonal */
    int binary;  /* values count as 1 (implicit feedback), else as given */
    int diagonal; /* 0 zero: B_ii = 0 (EASE); 1 free: B = I - P Lambda (DLAE, Steck 2020) */
    double dropout; /* p: Lambda_i = reg + p / (1 - p) G_ii (0: EASE's plain penalty) */
} cl_ease_params;

#define CL_EASE_MAX_ITEMS 30000

/* The kind's operations (listed in cl_rec_kinds by rec_kinds.c). */
extern const cl_rec_ops cl_ease_rec_ops;

#endif
