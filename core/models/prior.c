/* prior.c - prior correction after reweighted training (see prior.h). */
#include "models/prior.h"

#include "base/alloc.h"
#include "base/error.h"

#include <math.h>

double cl_prior_correct(double p, double trained, double truth)
{
    if (!(p > 0 && p < 1))
        return p;
    double odds = p / (1 - p);
    double ratio = (truth / (1 - truth)) / (trained / (1 - trained));
    double o = odds * ratio;
    /* a rate near 0 or 1 (a tiny trained rate from a model file) makes the odds overflow:
     * inf / inf would be NaN where the limit is 1 */
    return isinf(o) ? 1.0 : o / (1 + o);
}

void cl_prior_rates(double npos, double n, double wpos, double wneg, double *trained,
                    double *truth)
{
    *truth = n > 0 ? npos / n : NAN;
    double a = wpos * npos, b = wneg * (n - npos);
    if (wpos == wneg || !(a + b > 0) || !isfinite(a + b))
        *trained = *truth;
    else
        *trained = a / (a + b);
}

int cl_prior_needed(double trained, double truth)
{
    return trained > 0 && trained < 1 && truth > 0 && truth < 1 && trained != truth;
}

int cl_prior_wanted(int mode, int param, double trained, double truth)
{
    return cl_prior_needed(trained, truth) &&
           (mode == CL_PREDICT_CORRECTED || (mode == CL_PREDICT_PROB && param));
}

int cl_prior_write(cl_mw *w, const char *name, double trained, double truth)
{
    if (isnan(trained) || isnan(truth))
        return CL_OK; /* not recorded (a model loaded from an older file): stays unrecorded */
    const double v[2] = {trained, truth};
    return cl_modelio_w_f64(w, name, v, 2);
}

int cl_prior_read(const cl_mr *r, const char *name, double *trained, double *truth,
                  const char *what)
{
    *trained = *truth = NAN;
    if (!cl_modelio_r_has(r, name))
        return CL_OK; /* written before the rates were recorded: no correction */
    double v[2];
    int rc = cl_modelio_r_f64(r, name, v, 2);
    if (rc)
        return rc;
    for (int k = 0; k < 2; k++)
        if (!(v[k] >= 0 && v[k] <= 1))
            return cl_error(CL_EFORMAT, "%s: chunk '%s': the %s positive rate is %g, expected "
                                        "a number in [0, 1]",
                            what, name, k ? "true" : "training", v[k]);
    *trained = v[0];
    *truth = v[1];
    return CL_OK;
}
