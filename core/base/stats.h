/* stats.h - distribution functions for tests and confidence intervals (kernels, no models).
 * Written from the textbook definitions (series and continued fraction of the regularised
 * incomplete gamma function; erfc from libm; Acklam's rational approximation refined by one
 * Halley step for the normal quantile). */
#ifndef CL_STATS_H
#define CL_STATS_H

double cl_stats_norm_cdf(double x);
double cl_stats_norm_sf(double x);          /* 1 - cdf, accurate in the upper tail */
double cl_stats_norm_ppf(double p);         /* quantile, 0 < p < 1; NaN outside */
double cl_stats_gamma_p(double a, double x); /* regularised lower incomplete gamma P(a, x) */
double cl_stats_gamma_q(double a, double x); /* upper Q(a, x) = 1 - P(a, x) */
double cl_stats_chi2_sf(double x, double df); /* P(X > x) for chi-square with df degrees of freedom */

#endif
