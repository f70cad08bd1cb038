/* uplift.h - evaluating uplift models on randomised campaigns: Qini and uplift curves.
 *
 * y[i] = 1 when the customer stayed (the outcome the campaign wants), t[i] = 1 when treated
 * (contacted), score[i] = predicted uplift (higher = treat first). Customers are ranked by
 * score (ties kept together: a curve has a point only after a whole group of equal scores, as
 * in scikit-uplift); after the top k customers:
 *   qini(k)   = Y_T(k) - Y_C(k) * N_T(k) / N_C(k)        (Radcliffe 2007; Y_C term 0 if N_C = 0)
 *   uplift(k) = (Y_T(k)/N_T(k) - Y_C(k)/N_C(k)) * k     (a rate is 0 while its group is empty)
 * coefficient: the area between the Qini curve and the straight line from (0, 0) to
 * (n, qini(n)), both over the fraction of customers targeted, per customer (unnormalised).
 * qini_auc and uplift_auc are the normalised areas of scikit-uplift's qini_auc_score
 * (negative_effect = True) and uplift_auc_score: (A_model - A_random) / (A_perfect -
 * A_random), areas by trapezoids over the number targeted, the random line from (0, 0) to the
 * perfect curve's end, and the perfect curves those of the scores
 *   Qini:   y*t - y*(1-t)  (treated stayers first, control stayers last);
 *   uplift: 2*[y == t] + (y if control stayers outnumber treated leavers, else t).
 * 1 = the perfect ranking, 0 = random; NaN when the perfect curve is no better than random.
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
    double qini_auc;    /* normalised Qini area (scikit-uplift qini_auc_score) */
    double uplift_auc;  /* normalised uplift-curve area (scikit-uplift uplift_auc_score) */
} cl_qini;

/* Owned result in *out, freed by cl_uplift_qini_free. */
int cl_uplift_qini_curve(cl_qini **out, const float *y, const float *t, const float *score, int64_t n);
void cl_uplift_qini_free(cl_qini *q);

#endif
