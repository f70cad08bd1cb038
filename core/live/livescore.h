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
    int index;           /* the model feature's index (cl_livescore_reason_at takes it) */
} cl_live_reason;

int cl_livescore_new(cl_livescore **out, const cl_livestate *s, const cl_model *m,
                     const struct cl_frame *profiles);
void cl_livescore_free(cl_livescore *sc);

/* P(churn) of `user` now. CL_ERANGE when the state never saw the user. A customer without a
 * profile row is scored with the profile columns missing (the pipeline imputes them). */
int cl_livescore_risk(const cl_livescore *sc, int32_t user, double *risk);
/* The same for users[0..n) in one pass (one input frame, one pipeline call, one predict). */
int cl_livescore_risks(const cl_livescore *sc, const int32_t *users, int64_t n, double *risk);
/* The same from `live`, the frame cl_livestate_frame gave for users[0..n) (borrowed), without
 * reading the state: so a caller can take that frame under the state's lock and score after
 * letting it go (the monitor's refresh). The same numbers cl_livescore_risks gives for the
 * state the frame was taken from (test_service refresh_scores_a_snapshot). */
int cl_livescore_risks_frame(const cl_livescore *sc, const struct cl_frame *live,
                             const int32_t *users, int64_t n, double *risk);
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

/* ---- answers reused across days -------------------------------------------------------------
 * A customer's features move every day (tenure, recency, sliding windows), but a tree
 * ensemble sees a row only through its split decisions: two rows that fall on the same side
 * of every split of every tree reach the same leaves and get the same prediction and the same
 * TreeSHAP values, bit for bit (both read x only through cl_tree_go_left's comparisons). The
 * key of a row says exactly that: per model feature, how many of the ensemble's distinct
 * thresholds on it are <= x (NaN: UINT32_MAX; a feature no tree splits on: 0; a feature with
 * a categorical split, and every feature of a kind that is not a tree ensemble: the float's
 * bits, so equal keys there mean equal values). Equal keys (same model) => equal risk and
 * contributions, so a cache keyed on it is exact. */

/* Length of the key: cl_model_n_features of the model. */
int64_t cl_livescore_key_len(const cl_livescore *sc);
/* The key of model input row x (cl_livescore_row) into key[cl_livescore_key_len]. */
void cl_livescore_key(const cl_livescore *sc, const float *x, uint32_t *key);
/* P(churn) of model input row x: what cl_livescore_risk gives for the user whose row it is. */
int cl_livescore_risk_row(const cl_livescore *sc, const float *x, double *risk);
/* feat, plan below: the customer's live features and plan as cl_livestate_features gives
 * them now (what the caller read already; feat NULL: read here). */
/* The model input row of `user` (cl_livescore_row) built from feat and plan. */
int cl_livescore_row_from(const cl_livescore *sc, int32_t user, const double *feat, int plan,
                          float *x);
/* cl_livescore_reasons of `user` from its model input row x (cl_livescore_row). */
int cl_livescore_reasons_row(const cl_livescore *sc, int32_t user, const double *feat, int plan,
                             const float *x, int k, cl_live_reason *out, int *n, double *base);
/* The reasons of model features j[0..n) with contributions contrib[] for `user`, as the
 * reasons functions fill them (names, raw values in original units now, labels): how a
 * reused answer shows today's values beside contributions that did not change. */
void cl_livescore_reasons_at(const cl_livescore *sc, int32_t user, const double *feat, int plan,
                             const int *j, const double *contrib, int n, cl_live_reason *out);

#endif
