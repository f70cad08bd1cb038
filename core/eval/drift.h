/* drift.h - model monitoring: population stability index between a reference sample (the
 * training snapshot) and a later one, for a feature or the score.
 *
 * Bins are the reference's quantiles (bins equal-frequency bins, ties merged); each bin's
 * share e (reference) and a (later) gets a floor of 1e-4 so empty bins stay finite:
 *   PSI = sum (a - e) ln(a / e).
 * Rules of thumb: < 0.1 stable, 0.1 - 0.25 moderate shift, > 0.25 major shift.
 * NaN values form their own bin. */
#ifndef CL_DRIFT_H
#define CL_DRIFT_H

#include <stdint.h>

int cl_drift_psi(const double *expected, int64_t ne, const double *actual, int64_t na, int bins,
           double *psi);

#endif
