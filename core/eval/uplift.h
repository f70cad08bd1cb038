/* uplift.h - evaluating uplift models on randomised campaigns: Qini and uplift curves.
 *
 * y[i] = 1 when the customer stayed (the outcome the campaign wants), t[i] = 1 when treated
 * (contacted), score[i] = predicted uplift (higher = treat first). Customers are ranked by
 * score (ties kept together, as scikit-uplift does by grouping equal scores); after the top
 * k customers:
 *   qini(k)   = Y_T(k) - Y_C(k) * N_T(k) / N_C(k)        (Radcliffe 2007)
 *   uplift(k) = (Y_T(k)/N_T(k) - Y_C(k)/N_C(k)) * k     (0 where a group is empty)
 * The Qini coefficient is the area between the Qini curve and the straight line from (0, 0)
 * to (n, qini(n)), both over the fraction of customers targeted.
 */
#ifndef CL_UPLIFT_H
#define CL_UPLIFT_H

#include <stdint.h>

typedef struct cl_qini {
    int64_t m;        /* points: 0 and every distinct-score boundary */
    double *x;        /* [m] customers targeted */
    double *qini;     /* [m] */
    double *uplift;   /* [m] */
    double coefficient; /* area between the Qini curve and the random line, per customer */
} cl_qini;

int cl_qini_curve(cl_qini **out, const float *y, const float *t, const float *score, int64_t n);
void cl_qini_free(cl_qini *q);

#endif
