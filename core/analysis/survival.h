/* survival.h - Kaplan-Meier retention curves, the log-rank test and concordance; the Cox
 * model is in cox.h (not included here: cox.c uses the Kaplan-Meier fit, so this header
 * including cox.h made the pair a circle; churnlab.h gives the whole toolbox).
 *
 * Inputs are durations (time >= 0, e.g. tenure in months) and event indicators (1 = churned,
 * 0 = still active / censored). NaN times or events other than 0/1 are errors naming the row.
 */
#ifndef CL_SURVIVAL_H
#define CL_SURVIVAL_H

#include <stdint.h>

/* Kaplan-Meier estimate at each distinct event time. Owned; cl_survival_km_free. */
typedef struct cl_km {
    int64_t m;        /* number of distinct event times */
    double *time;     /* [m] */
    double *n_risk;   /* [m] at risk just before time[i] */
    double *n_event;  /* [m] events at time[i] */
    double *surv;     /* [m] S(time[i]) */
    double *se;       /* [m] Greenwood standard error of S */
    double *lo, *hi;  /* [m] pointwise confidence band (log(-log) transform, as R's default
                         conf.type = "log-log") */
    double median;    /* smallest time with S <= 0.5; NaN if the curve never reaches 0.5 */
    double conf;      /* confidence level of the band */
    int64_t n, events;
} cl_km;

/* The estimate from durations and events (conf: the band's level, e.g. 0.95). A new estimate
 * each call, not a fit: Kaplan-Meier has no parameters to hold before it sees data, nothing to
 * refit in place (a changed sample is a new estimate), and a half-built cl_km would be one more
 * state for every reader to check (issue 14: "_fit" fits an existing object, "_new" constructs). */
int cl_survival_km_estimate(cl_km **out, const double *time, const double *event, int64_t n,
                            double conf);
/* The same with case (frequency) weights, weight[n] >= 0 finite, not all 0; NULL = all 1, bit
 * for bit the unweighted fit. n_risk and n_event are sums of weights; the survival estimate is
 * statsmodels' SurvfuncRight(freq_weights); se is Greenwood's formula on the weighted counts
 * (R's survfit with weights; integer weights give the fit of the rows repeated), where
 * statsmodels' weighted se uses Tsiatis' formula instead. n and events stay row counts. */
int cl_survival_km_estimate_w(cl_km **out, const double *time, const double *event,
                              const double *weight, int64_t n, double conf);
/* CL_OK for weight NULL or n finite weights >= 0 with a positive sum; else CL_EINVAL naming
 * `what` and the row. */
int cl_survival_check_weights(const double *weight, int64_t n, const char *what);
/* S(t) read off the step function (1 before the first event time). */
double cl_survival_km_at(const cl_km *km, double t);
void cl_survival_km_free(cl_km *km);

/* Log-rank test of equal survival across groups 0..ngroups-1 (chi-square, ngroups-1 df). */
int cl_survival_logrank(const double *time, const double *event, const int32_t *group, int64_t n,
               int ngroups, double *chi2, double *p);

/* Concordance of a risk score with survival (higher risk = earlier event). Harrell's C: among
 * pairs where the shorter time is an event (a censored time equal to an event time counts as
 * longer), the share where the shorter time has the higher risk, risk ties counting 1/2.
 * Uno's C: the same with pairs weighted by 1 / G(t_i-)^2 (G: Kaplan-Meier of the censoring)
 * and restricted to t_i < tau (tau <= 0 or infinite: no restriction; Uno's C needs G > 0 up to
 * tau). O(n log n). uno may be NULL; pairs/concordant/tied (NULL to skip) count Harrell's
 * comparable, concordant and risk-tied pairs. */
int cl_survival_concordance(const double *time, const double *event, const double *risk, int64_t n,
                   double tau, double *harrell, double *uno, double *pairs, double *concordant,
                   double *tied);

#endif
