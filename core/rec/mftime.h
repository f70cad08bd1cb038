/* mftime.h - the time-aware baseline of mf (timeSVD++'s biases, Koren 2009, "Collaborative
 * filtering with temporal dynamics", eq. 10): a rating of item i by user u at time t adds
 *
 *     b_i,Bin(t)  +  alpha_u dev_u(t)  +  b_u,day(t)
 *
 * to mu + b_u + b_i (+ q_i . p_u): an item bias per time bin (bins of equal width over the
 * training times), a linear drift of the user's bias away from the user's mean day,
 * dev_u(t) = sign(d - d_u) |d - d_u|^0.4 (d in days), and a bias per user and day (ratings
 * made in one session share a mood). cf.c's sgd fits them with the other biases.
 *
 * The structure (bin edges, users' mean days, each user's distinct days) is a function of
 * the training matrix (its times) and is rebuilt from it on load; only the learned values are
 * written to model files. A time before the first bin or after the last falls in the edge
 * bin; a day the user did not rate on (or an unknown user, or an unknown time, NaN) has no
 * day bias and no drift.
 *
 * Ownership: cl_mftime_new returns an owned state freed by cl_mftime_free.
 */
#ifndef CL_MFTIME_H
#define CL_MFTIME_H

#include <stdint.h>

#include "base/modelio.h"
#include "rec/interactions.h"

#define CL_MFTIME_BETA 0.4 /* the exponent of dev_u(t) (Koren's choice on Netflix) */

typedef struct cl_mftime {
    int nbins;
    double t0, t1, unit; /* bins split [t0, t1]; unit = one day in the times' unit */
    int64_t n_users, n_items, n_days;
    float *bin_bias;  /* n_items x nbins */
    float *alpha;     /* n_users: drift of the user's bias per dev_u(t) */
    double *mean_day; /* n_users: the user's mean day (0 for a user without ratings) */
    int64_t *dptr;    /* n_users + 1: user u's days are day[dptr[u] .. dptr[u + 1]) */
    int64_t *day;     /* distinct days, ascending per user */
    float *day_bias;  /* n_days: b_u,day */
    /* per training rating k (CSR order), for fit: */
    int32_t *r_bin, *r_slot; /* the rating's bin, its (user, day) slot */
    float *r_dev;            /* dev_u(t) */
} cl_mftime;

/* Learning rates and penalties of one sgd step. */
typedef struct cl_mftime_rates {
    float lr, reg_bin, reg;    /* bin and day biases: their rate, penalties */
    float lr_drift, reg_drift; /* alpha_u */
} cl_mftime_rates;

/* The structure from m's times (CL_EINVAL naming `who` when m has none), values all 0. */
int cl_mftime_new(cl_mftime **out, const cl_interactions *m, int nbins, double unit,
                  const char *who);
void cl_mftime_free(cl_mftime *T);

/* The time part of training rating k (user u, item i). */
static inline double cl_mftime_bias_k(const cl_mftime *T, int64_t u, int32_t i, int64_t k)
{
    return (double)T->bin_bias[(int64_t)i * T->nbins + T->r_bin[k]] +
           (double)T->alpha[u] * T->r_dev[k] + (double)T->day_bias[T->r_slot[k]];
}
/* One sgd step on training rating k with error err = rating - prediction. */
void cl_mftime_step(cl_mftime *T, int64_t u, int32_t i, int64_t k, float err,
                    const cl_mftime_rates *q);
/* The time part of a rating of i by u at time t (u, i may be -1: unknown; t NaN: unknown,
 * then the item's last bin). */
double cl_mftime_bias_at(const cl_mftime *T, int64_t u, int64_t i, double t);

/* The state for grown, m plus one user (its last row) or one item (last column): the new
 * user's days come from its row's times, the new one's values are 0, everyone else's stay
 * (an added item's raters may gain a day, with bias 0, and their mean day moves with the new
 * entry, as it would on reload). */
int cl_mftime_grow(cl_mftime **T, const cl_interactions *grown);

/* Model files: the learned values (chunks "time.bin_bias", "time.alpha", "time.day_bias");
 * read checks their counts against the structure rebuilt from the training matrix. */
int cl_mftime_write(const cl_mftime *T, cl_mw *w);
int cl_mftime_read(cl_mftime *T, cl_mr *mr);

#endif
