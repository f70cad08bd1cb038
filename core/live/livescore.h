/* livescore.h - churn risk and its reasons for live customers, in C (no Lua on the path).
 *
 *   cl_livescore *sc;
 *   cl_livescore_new(&sc, state, model, profiles);   // model: a cl_model with its pipeline
 *   cl_livescore_risk(sc, 42, &p);                   // P(churn) of customer 42 now
 *   cl_livescore_reasons(sc, 42, 3, r, &nr);         // its top drivers (SHAP, margin scale)
 *
 * The model's input row is built exactly as notebooks/02_features.lua builds features.csv:
 * the live state's features (cl_livestate_feature_defs) and plan, and the columns no event changes
 * (age band, region, payment method ...) from `profiles`, a frame with user_id (copied at
 * _new), then the model's pipeline. So a customer scored here gets the number the batch
 * scoring of the same events gives (tests/core/live/test_livescore.c, tests/lua/live.lua).
 *
 * Scoring is on read (no cache): a risk costs one feature read, one pipeline row and one
 * model row. Linear models explain against the mean input row of the customers active at
 * _new (their interventional SHAP needs a reference); trees against their own covers. Thread safety: every const function may run concurrently as long as nobody
 * applies events to the state at the same time (the service holds a read/write lock).
 * Ownership: _new returns an owned scorer (the state and the model are borrowed and must
 * outlive it), freed by cl_livescore_free.
 */
#ifndef CL_LIVESCORE_H
#define CL_LIVESCORE_H

#include <stdint.h>

#include "live/livestate.h"
#include "models/model.h"

typedef struct cl_livescore cl_livescore;

typedef struct cl_live_reason {
    const char *feature; /* the model feature (borrowed from the pipeline) */
    const char *column;  /* the raw column it comes from */
    const char *label;   /* the category for one-hot features, NULL otherwise */
    double value;        /* the raw value in original units (NaN when missing / categorical) */
    double contrib;      /* SHAP value on the margin scale: > 0 raises the risk */
} cl_live_reason;

int cl_livescore_new(cl_livescore **out, const cl_livestate *s, const cl_model *m,
                     const struct cl_frame *profiles);
void cl_livescore_free(cl_livescore *sc);

/* P(churn) of `user` now. CL_ERANGE when the state never saw the user. A customer without a
 * profile row is scored with the profile columns missing (the pipeline imputes them). */
int cl_livescore_risk(const cl_livescore *sc, int32_t user, double *risk);
/* The same for users[0..n) in one pass (one input frame, one pipeline call, one predict). */
int cl_livescore_risks(const cl_livescore *sc, const int32_t *users, int64_t n, double *risk);
/* The model's input row of `user` (cl_model_n_features floats), built for that one customer
 * straight from the state (what a rescore after a change costs). */
int cl_livescore_row(const cl_livescore *sc, int32_t user, float *x);
/* The rows of users[0..n) into x[n * cl_model_n_features], through one frame when n > 1 (the
 * path cl_livescore_risks takes); the same floats as cl_livescore_row of each. */
int cl_livescore_rows(const cl_livescore *sc, const int32_t *users, int64_t n, float *x);
/* The k largest |contrib| of `user`'s risk, strongest first, into out[k]; *n of them. The base
 * value (bias) in *base when not NULL. CL_EINVAL when the model has no contributions. */
int cl_livescore_reasons(const cl_livescore *sc, int32_t user, int k, cl_live_reason *out,
                         int *n, double *base);

#endif
