/* livestate.h - the live state: per-customer windows that every event updates in O(1), and
 * the churn features read from them.
 *
 * This is the ONE definition of the event features (notebooks/02_features.lua builds its
 * table by feeding the event log to a live state and reading it back), so live features and
 * batch features are the same numbers by construction. tests/lua/live.lua checks them against
 * an independent frame-operations oracle.
 *
 * Time is in whole days. The clock `now` is the start of a day: features describe days
 * [now - w, now) for a w-day window. An event of day d >= now moves the clock to d + 1 (the
 * event's day is then complete as far as the state knows); cl_livestate_advance moves it
 * forward explicitly (the notebook's snapshot: the start of day 180). The clock never goes
 * back.
 *
 * Per customer: a ring of CL_LIVE_RING day buckets ending at the customer's latest bucketed
 * day (minutes, watches, completion sum, tickets, payment failures, plan changes), a small
 * open-addressing table of the titles and main genres watched with the day last seen, all-time
 * counters (ratings, tickets, payment failures, price changes), the last watch day, and the
 * profile (signup day, plan, price, discount). Windows are read relative to `now`, so advancing
 * the clock expires buckets without touching them; a bucket is cleared when the ring wraps
 * over it. Events may arrive in any order across customers; per customer, a windowed event
 * (watch, ticket, payment_failed, plan_change) more than CL_LIVE_RING - 1 days before that
 * customer's latest windowed event is refused (its bucket is gone).
 *
 * Rejection never changes the state: cl_livestate_apply validates everything (including
 * counter overflow and the allocation a new title needs) before the first write.
 *
 * Determinism: cl_livestate_serialize writes a canonical byte image (customers by id, ring
 * days in order, seen titles sorted, expired entries dropped), so the same events give the
 * same bytes whatever the history of table growth, and a state restored from its image
 * serializes to the same bytes.
 *
 * Ownership: cl_livestate_new returns an owned state freed by cl_livestate_free.
 */
#ifndef CL_LIVESTATE_H
#define CL_LIVESTATE_H

#include <stddef.h>
#include <stdint.h>

#define CL_LIVE_RING 90     /* days held per customer: the longest window */
#define CL_LIVE_MAX_PLANS 16
#define CL_LIVE_NONE INT32_MIN /* "no day" */

/* Event kinds; values are only ever appended (they are stored in logs and snapshots). */
enum {
    CL_LIVE_WATCH = 1,    /* title, minutes >= 0, completion in [0, 1] */
    CL_LIVE_TICKET = 2,
    CL_LIVE_PAYFAIL = 3,  /* "payment_failed" */
    CL_LIVE_PLAN = 4,     /* plan_change: plan = the new plan */
    CL_LIVE_PRICE = 5,    /* price_change: value = the new monthly price */
    CL_LIVE_CANCEL = 6,
    CL_LIVE_RATING = 7,   /* value = the rating */
    CL_LIVE_PROFILE = 8,  /* day = signup day, plan, value = monthly price, value2 = discount % */
    CL_LIVE_NKINDS
};

typedef struct cl_live_event {
    int32_t user;      /* >= 1 */
    int32_t day;
    int32_t kind;      /* CL_LIVE_* */
    int32_t title;     /* WATCH (RATING: optional, 0) */
    int32_t plan;      /* PLAN, PROFILE: index into the state's plan names */
    int32_t pad_;      /* keeps the record free of implicit padding (hashing, logs) */
    double minutes;    /* WATCH */
    double completion; /* WATCH */
    double value;      /* PRICE, RATING, PROFILE */
    double value2;     /* PROFILE */
} cl_live_event;

/* Kind from its name ("watch", "ticket", "payment_failed", "plan_change", "price_change",
 * "cancel", "rating", "profile"), or 0 when unknown. */
int cl_livestate_kind(const char *name);
const char *cl_livestate_kind_name(int kind); /* NULL when out of range */

typedef struct cl_livestate_config {
    int nplans;                          /* 1..CL_LIVE_MAX_PLANS */
    const char *const *plans;            /* plan names (borrowed during _new) */
    const double *prices;                /* nplans list prices, NaN = unknown; NULL = all unknown */
    int ntitles;                         /* catalog: title ids 1..ntitles, 0 = no catalog */
    const int16_t *title_genre;          /* ntitles main-genre codes (>= 0, -1 = none) */
    int32_t max_user;                    /* largest accepted user id (memory is O(max_user)) */
} cl_livestate_config;

typedef struct cl_livestate cl_livestate;

int cl_livestate_new(cl_livestate **out, const cl_livestate_config *cfg);
void cl_livestate_free(cl_livestate *s);

/* Plan index of `name`, or -1 (with the message naming the known plans). */
int cl_livestate_plan(const cl_livestate *s, const char *name);
const char *cl_livestate_plan_name(const cl_livestate *s, int plan);

/* Validates and applies one event. On a bad event returns CL_EINVAL (CL_ENOMEM when a new
 * title cannot be stored) with a message naming the field, and the state is unchanged. */
int cl_livestate_apply(cl_livestate *s, const cl_live_event *e);
/* Moves the clock to `day` if that is later; expired windows follow. */
int cl_livestate_advance(cl_livestate *s, int32_t day);
int32_t cl_livestate_now(const cl_livestate *s);
int32_t cl_livestate_max_user(const cl_livestate *s); /* the configured largest user id */
/* Events applied since the state was created (restored states keep the count). */
int64_t cl_livestate_events(const cl_livestate *s);

/* ---- features ----------------------------------------------------------------------------- */

/* The feature table: name, one-line meaning, and whether the value is a count (exact) or a
 * ratio (rounding). Index order is the order of cl_livestate_features' output. */
typedef struct cl_live_feature {
    const char *name;
    const char *doc;
    int is_count;
} cl_live_feature;
enum { CL_LIVE_NFEATURES = 29 };
extern const cl_live_feature cl_livestate_feature_defs[CL_LIVE_NFEATURES];

/* Customers: 1 when `user` has a profile and no cancel event ("active"), 0 otherwise. */
int cl_livestate_active(const cl_livestate *s, int32_t user);
/* 1 when the state has seen any event of `user`. */
int cl_livestate_known(const cl_livestate *s, int32_t user);
/* Ids of active customers in ascending order: *out cl_alloc'ed (caller frees), *n of them. */
int cl_livestate_active_ids(const cl_livestate *s, int32_t **out, int64_t *n);
/* The features of `user` as of the clock into out[CL_LIVE_NFEATURES] (NaN when undefined:
 * tenure without a profile ...), and its plan index (-1 unknown) into *plan when not NULL.
 * CL_ERANGE when the user was never seen. */
int cl_livestate_features(const cl_livestate *s, int32_t user, double *out, int *plan);

/* The feature frame of customers ids[0..n) (NULL: every active customer, ascending): columns
 * user_id, plan (cat over the state's plan names, in plan order), then cl_livestate_feature_defs in
 * order; a customer the state never saw gets missing values. Owned (cl_frame_free). This is
 * the table notebooks/02_features.lua writes and every live scorer reads. */
struct cl_frame;
int cl_livestate_frame(const cl_livestate *s, const int32_t *ids, int64_t n,
                       struct cl_frame **out);

/* Events applied to `user` by this process (0 when never seen). Not part of the image: a
 * restored state starts at 0. Caches of per-customer answers key on it. */
int64_t cl_livestate_user_events(const cl_livestate *s, int32_t user);
/* The day of `user`'s latest watch; CL_LIVE_NONE when it never watched (or was never seen):
 * what tells recency_days' stand-in for "no watch yet" (now + 1) from a watch on day -1. */
int32_t cl_livestate_last_watch(const cl_livestate *s, int32_t user);
/* The titles `user` watched in the last CL_LIVE_RING days before the clock, latest first (ties:
 * lower title id first), at most cap of them, with the day each was last watched: the
 * history recommendations fold in. CL_ERANGE when the user was never seen. */
int cl_livestate_titles(const cl_livestate *s, int32_t user, int32_t *titles, int32_t *days,
                        int cap, int *n);

/* ---- snapshots ---------------------------------------------------------------------------- */

/* The canonical byte image of the state (see above), cl_alloc'ed into *out. `tag` is stored
 * in the image and returned by _restore (the log sequence the image covers). */
int cl_livestate_serialize(const cl_livestate *s, int64_t tag, uint8_t **out, size_t *len);
/* A state from an image; validates every length and index (a corrupted image is CL_EFORMAT,
 * never a crash). */
int cl_livestate_restore(cl_livestate **out, const uint8_t *img, size_t len, int64_t *tag);
/* Memory held by the state, bytes (the cl_alloc'ed blocks it owns). */
size_t cl_livestate_bytes(const cl_livestate *s);

#endif
