/* cox.h - Cox proportional hazards: fit (Breslow or Efron ties, aliased columns dropped), the
 * baseline hazard, S(t|x), per-customer lifetimes and CLV, Schoenfeld residuals and the
 * proportional-hazards test.
 *
 * Inputs are durations (time >= 0) and event indicators (1 = churned, 0 = censored), as in
 * survival.h; NaN times or events other than 0/1 are errors naming the row.
 */
#ifndef CL_COX_H
#define CL_COX_H

#include <stdint.h>

/* Cox proportional hazards by Newton-Raphson on the partial likelihood. */
enum { CL_COX_EFRON = 0, CL_COX_BRESLOW = 1 };

/* How a Cox model is fitted; cl_cox_params_default gives the values below (R's coxph's and
 * lifelines' defaults but for tol, which is tighter). */
typedef struct cl_cox_params {
    int ties;       /* CL_COX_EFRON (default) or CL_COX_BRESLOW */
    int max_iter;   /* Newton-Raphson iterations, >= 1 (50) */
    double tol;     /* stop when the log-likelihood changes by <= tol (|ll| + tol), > 0 (1e-9) */
    double conf;    /* level of the hazard-ratio intervals, in (0, 1) (0.95) */
} cl_cox_params;

cl_cox_params cl_cox_params_default(void);

/* A model: its parameters, and once fitted (d >= 1) everything below. Owned; cl_cox_free. */
typedef struct cl_cox {
    cl_cox_params params;
    int d;                      /* 0: not fitted yet (every array NULL) */
    double *beta, *se, *z, *p;  /* [d] coefficients, standard errors, Wald z, two-sided p */
    double *lo, *hi;            /* [d] confidence interval of the hazard ratio exp(beta) */
    double *mean;               /* [d] training means of the covariates */
    double *var;                /* [d*d] covariance of beta (inverse information); aliased
                                   rows and columns are 0 */
    unsigned char *aliased;     /* [d] 0 = fitted; 1 = exactly collinear with the columns
                                   before it; 2 = constant: both dropped from the fit, beta 0,
                                   se/z/p NaN (as R's coxph gives NA) */
    int naliased;
    double loglik, loglik0;     /* partial log-likelihood at beta and at 0 */
    int iters, converged, ties;
    int weighted;               /* fitted with case weights (cl_cox_fit_w) */
    int64_t n, events;
    /* Baseline cumulative hazard at the m distinct event times, for covariates at the
     * training mean (cumhaz of a customer x is bh_cumhaz * exp((x - mean)'beta)). Breslow's
     * estimator dH = d / sum_risk exp(lp) for a Breslow fit; for an Efron fit the tie-
     * corrected dH = sum_{r<d} 1 / (S0 - r/d D0), which is R's survfit.coxph default (ctype
     * follows ties); both equal Nelson-Aalen when beta = 0 and have no ties. */
    int64_t m;
    double *bh_time, *bh_cumhaz; /* [m] */
} cl_cox;

/* An unfitted model with parameters p (checked: CL_EINVAL naming the bad one; copied).
 * *out is owned (cl_cox_free). */
int cl_cox_new(cl_cox **out, const cl_cox_params *p);
/* Fits m on X: n x d row-major doubles, replacing what an earlier fit left (a refit equals the
 * fit of a new model on the same data); on failure m is left as it was. Exactly collinear or
 * constant columns are marked aliased and dropped (an error only when all are). */
int cl_cox_fit(cl_cox *m, const double *X, const double *time, const double *event, int64_t n,
               int d);
/* The same with case weights weight[n] (finite, >= 0, not all 0; NULL = all 1, bit for bit
 * cl_cox_fit): the weighted partial likelihood of R's coxph(weights =): each row's terms times
 * its weight and, for tied deaths under Efron, each of the d tie terms times the deaths' mean
 * weight (so Breslow with integer weights is the fit of the rows repeated; Efron is not, since
 * repeating a death adds ties). var is the inverse weighted information (model-based, not
 * robust); mean is the weighted mean. Schoenfeld residuals and the PH test refuse a weighted
 * model. */
int cl_cox_fit_w(cl_cox *m, const double *X, const double *time, const double *event,
                 const double *weight, int64_t n, int d);
/* Linear predictor X beta for new rows (n x d) into lp[n]. */
int cl_cox_predict(const cl_cox *m, const double *X, int64_t n, double *lp);
/* Baseline cumulative hazard H0(t) at covariates x0 (NULL = the training mean; a vector of
 * zeros gives statsmodels' baseline_cumulative_hazard convention), step function, 0 before
 * the first event time, constant after the last. */
double cl_cox_cumhaz0(const cl_cox *m, const double *x0, double t);
/* S(t|x) = exp(-H0(t) exp((x - mean)'beta)) for every row of X (n x d) and every time in
 * times[nt] into out[n x nt] (row-major). */
int cl_cox_survival(const cl_cox *m, const double *X, int64_t n, const double *times, int nt,
                    double *out);
/* Per row: median lifetime (smallest event time with S(t|x) <= 0.5, NaN when the curve stays
 * above 0.5 up to the last event time), into med[n] (NULL to skip), and the restricted mean
 * remaining lifetime int_from^{from+horizon} S(u|x) du / S(from|x) into rmst[n] (NULL to
 * skip); from[n] is each row's current age (NULL = 0). horizon > 0. */
int cl_cox_lifetime(const cl_cox *m, const double *X, int64_t n, const double *from,
                    double horizon, double *med, double *rmst);
/* Per row: sum_{k=1..horizon} margin[i] S(from+k|x) / S(from|x) / (1+discount)^k, the
 * expected discounted margin of a customer alive at age from[i] (NULL = 0), one period per
 * time unit; margin NULL = 1. horizon is a whole number of periods >= 1. */
int cl_cox_clv(const cl_cox *m, const double *X, int64_t n, const double *from,
               const double *margin, int horizon, double discount, double *out);
/* Schoenfeld residuals on the training data into resid[n x d]: x_i - a(t_i) for each event
 * row (a: the risk-set weighted mean, Efron-averaged over tied events for an Efron fit), NaN
 * for censored rows and aliased columns. */
int cl_cox_schoenfeld(const cl_cox *m, const double *X, const double *time, const double *event,
                      int64_t n, double *resid);

/* Proportional-hazards test (Grambsch & Therneau 1994, the approximation of R's cox.zph
 * before survival 3.0, lifelines' proportional_hazard_test and Stata's estat phtest): the
 * scaled Schoenfeld residuals r* = D r V (D events, V = cov(beta)) regressed on g(t).
 * chi2[k] = (sum g' r*_k)^2 / (D V_kk sum g'^2), 1 df; global = (g'R) V (g'R)' D / sum g'^2,
 * df = covariates not aliased. g' = g(t) - mean over events; g is the rank of the event time
 * (ties averaged), 1 - KM(t), t or log t. rho[k] = cor(g, r*_k). Arrays [d]; NaN where
 * aliased. Needs the training data (the model keeps no copy). */
enum { CL_ZPH_RANK = 0, CL_ZPH_KM = 1, CL_ZPH_IDENTITY = 2, CL_ZPH_LOG = 3 };
int cl_cox_zph_test(const cl_cox *m, const double *X, const double *time, const double *event,
                    int64_t n, int transform, double *rho, double *chi2, double *p,
                    double *global_chi2, double *global_p, int *global_df);
void cl_cox_free(cl_cox *m);

#endif
