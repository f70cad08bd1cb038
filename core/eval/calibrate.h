/* calibrate.h - probability calibration fitted on held-out data (prior correction inside the
 * models is models/prior.h).
 *
 * Platt scaling: p = 1 / (1 + exp(a * s + b)) fitted by Newton's method on the log loss with
 * Platt's smoothed targets (Platt 1999; Lin, Lin and Weng 2007), as scikit-learn's
 * CalibratedClassifierCV(method="sigmoid") does. Scores s are the model's margins or
 * probabilities, whichever the caller passes consistently.
 * Isotonic regression: weighted pool-adjacent-violators; prediction interpolates linearly
 * between the fitted steps and clips outside the training range (scikit-learn's default).
 */
#ifndef CL_CALIBRATE_H
#define CL_CALIBRATE_H

#include <stdint.h>

#include "base/modelio.h"

int cl_calibrate_platt_fit(const double *score, const double *y, int64_t n, double *a, double *b);
double cl_calibrate_platt_apply(double a, double b, double score);

/* Fitted isotonic map: m breakpoints x[0..m) ascending with values v[0..m) non-decreasing.
 * Owned; cl_calibrate_isotonic_free. */
typedef struct cl_isotonic {
    int64_t m;
    double *x, *v;
} cl_isotonic;

/* The isotonic map of y on score. w may be NULL (unit weights). y in [0, 1] for calibration,
 * any real for regression. A new map each call, not a fit: PAV has no parameters to hold
 * before it sees data, so there is no object to fit in place (issue 14: "_fit" fits an
 * existing object, "_new" constructs); *out is owned. */
int cl_calibrate_isotonic_estimate(cl_isotonic **out, const double *score, const double *y,
                                   const double *w, int64_t n);
double cl_calibrate_isotonic_apply(const cl_isotonic *iso, double score);
void cl_calibrate_isotonic_free(cl_isotonic *iso);

/* A fitted calibrator as stored in model files of kind "calibrator". iso is owned (free it
 * with cl_calibrate_isotonic_free) when method is CL_CALIB_ISOTONIC, NULL otherwise. */
enum { CL_CALIB_PLATT = 0, CL_CALIB_ISOTONIC = 1 };
typedef struct cl_calibrator {
    int method;
    double a, b;      /* Platt */
    cl_isotonic *iso; /* isotonic */
    int64_t n_fit;    /* rows it was fitted on */
} cl_calibrator;

int cl_calibrate_write(const cl_calibrator *c, cl_mw *w);
/* Checks every value's meaning: the method, n_fit (>= 2, as a fit needs), Platt's a and b
 * finite, isotonic breakpoints finite and ascending with values non-decreasing in [0, 1]
 * (calibrated probabilities) and at most 2 per fitted row. Sizes are checked against the
 * stored chunks before anything is allocated. On failure *c holds nothing. */
int cl_calibrate_read(cl_calibrator *c, const cl_mr *r);

#endif
