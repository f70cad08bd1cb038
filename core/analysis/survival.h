/* survival.h - Kaplan-Meier retention curves, the log-rank test, Cox proportional hazards.
 *
 * Inputs are durations (time >= 0, e.g. tenure in months) and event indicators (1 = churned,
 * 0 = still active / censored). NaN times or events other than 0/1 are errors naming the row.
 */
#ifndef CL_SURVIVAL_H
#define CL_SURVIVAL_H

#include <stdint.h>

#include "base/progress.h"

/* Kaplan-Meier estimate at each distinct event time. Owned; cl_km_free. */
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

int cl_km_fit(cl_km **out, const double *time, const double *event, int64_t n, double conf);
/* S(t) read off the step function (1 before the first event time). */
double cl_km_at(const cl_km *km, double t);
void cl_km_free(cl_km *km);

/* Log-rank test of equal survival across groups 0..ngroups-1 (chi-square, ngroups-1 df). */
int cl_logrank(const double *time, const double *event, const int32_t *group, int64_t n,
               int ngroups, double *chi2, double *p);

/* Cox proportional hazards by Newton-Raphson on the partial likelihood. */
enum { CL_COX_EFRON = 0, CL_COX_BRESLOW = 1 };

typedef struct cl_cox {
    int d;
    double *beta, *se, *z, *p;  /* [d] coefficients, standard errors, Wald z, two-sided p */
    double *lo, *hi;            /* [d] confidence interval of the hazard ratio exp(beta) */
    double loglik, loglik0;     /* partial log-likelihood at beta and at 0 */
    int iters, converged, ties;
} cl_cox;

/* X: n x d row-major doubles. conf: level of the hazard-ratio intervals (0.95). */
int cl_cox_fit(cl_cox **out, const double *X, const double *time, const double *event, int64_t n,
               int d, int ties, int max_iter, double tol, double conf);
/* Linear predictor X beta for new rows (n x d) into lp[n]. */
int cl_cox_predict(const cl_cox *m, const double *X, int64_t n, double *lp);
void cl_cox_free(cl_cox *m);

#endif
