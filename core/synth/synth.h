/* synth.h - a simulated streaming service whose churn has known causes.
 *
 * The world: a catalog of titles (film/series, multi-label genres, year, popularity, quality),
 * customers with visible attributes (signup day, age band, region, plan and price, payment
 * method, devices, acquisition channel) and hidden traits (genre tastes, engagement level and
 * its fading, price sensitivity, exploration, frailty), and their daily life over an
 * observation window of `days` days (day 0 .. days-1): sessions, titles watched (chosen by
 * taste and popularity), minutes, ratings, support tickets, payment failures, plan changes and
 * a price rise. Churn is a daily complementary-log-log hazard whose causes and coefficients are
 * the table returned by cl_synth_world_coefs() (also written to the data dictionary). The snapshot is
 * the start of day `days`; the label is churn within the `label_days` days after it.
 *
 * Randomness: every customer-day draws from its own stream cl_rng_split(seed, id * 1024 + day),
 * its first draw deciding churn. A counterfactual replay from the snapshot therefore uses the
 * same random numbers as the observed run; an action changes the hazard, never the draws, and
 * replaying with no action reproduces the observed labels exactly. Results do not depend on the
 * thread count: customers are simulated in fixed blocks and output is written in block order.
 *
 * Ownership: cl_synth_new returns an owned world freed by cl_synth_free. Accessors return
 * values or pointers borrowed from the world, valid until cl_synth_free. The world is
 * read-only after creation, so replays and accessors may run concurrently on one world.
 * Customer ids are 1..customers (as in users.csv); title ids 1..titles; days are integers with
 * day 0 the first day of the observation window (a customer's signup day may be negative).
 */
#ifndef CL_SYNTH_H
#define CL_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "base/param.h"
#include "base/progress.h"

#define CL_SYNTH_MAX_GENRES 20
#define CL_SYNTH_MAX_DAYS 1024 /* observation + any replay horizon, days per customer stream */

typedef struct cl_synth_params {
    int customers;           /* number of customers simulated (ids 1..customers) */
    int titles;              /* catalog size */
    int genres;              /* number of genres (names fixed, first `genres` of the list) */
    int days;                /* observation window; the snapshot is the start of day `days` */
    int label_days;          /* label window after the snapshot */
    uint64_t seed;
    double basic_share;      /* plan mix at signup: basic, premium; standard = the rest */
    double premium_share;
    int price_rise_day;      /* day standard and premium prices rise (-1: never) */
    double price_rise;       /* amount added to the standard and premium monthly prices */
    int campaign_day;        /* day of the past randomised retention campaign (-1: none) */
    double campaign_share;   /* share of active customers enrolled (half treated at random) */
    double campaign_discount;/* percent off for treated customers */
    int campaign_months;     /* months the campaign discount lasts */
    int campaign_outcome_days; /* outcome: churn within this many days of the campaign */
    double churn_scale;      /* multiplies the baseline hazard */
    double frailty_sd;       /* sd of the hidden per-customer frailty (the noise) */
} cl_synth_params;

extern const cl_param_def cl_synth_world_param_defs[];
void cl_synth_world_params_default(cl_synth_params *p);

/* One documented cause of churn: eta += coef * term (see cl_synth_world_coefs). */
typedef struct cl_synth_coef {
    const char *name;
    double value;
    const char *term; /* what it multiplies, in words */
} cl_synth_coef;
/* The hazard's coefficient table, NULL-name terminated (static storage). */
const cl_synth_coef *cl_synth_world_coefs(void);

/* Counts gathered while generating (observation window only unless said). */
typedef struct cl_synth_stats {
    long long alive_days;       /* customer-days simulated in the observation window */
    long long sessions;
    double expected_sessions;   /* sum of the latent Poisson rates over those days */
    long long watches, ratings, tickets;
    long long bills, payment_failures, plan_changes, price_changes;
    long long events;           /* rows of events.csv */
    long long churned_in_window;/* cancels during the observation window */
    long long active_at_snapshot, label_churners;
    long long plan_count[3];    /* plan at signup */
    long long campaign_treated, campaign_control, campaign_treated_churn,
        campaign_control_churn;
    double oracle_auc;          /* ROC AUC of the true risk against the label (NaN if one class) */
} cl_synth_stats;

typedef struct cl_synth_world cl_synth_world;

/* Builds and simulates a world. When out_dir is not NULL, also writes titles.csv, users.csv,
 * events.csv, ratings.csv, campaign.csv, emails.csv, truth.csv and README.md into it (created if missing),
 * each atomically; events and ratings are streamed as generated, so memory is O(customers),
 * not O(events). p may be NULL (silent). On failure returns a status, writes nothing durable
 * and leaves *out NULL. */
int cl_synth_new(cl_synth_world **out, const cl_synth_params *params, const char *out_dir,
                 const cl_progress *p);
void cl_synth_free(cl_synth_world *w);

const cl_synth_params *cl_synth_get_params(const cl_synth_world *w);
const cl_synth_stats *cl_synth_get_stats(const cl_synth_world *w);
const char *cl_synth_world_genre_name(int g); /* NULL when out of range */

/* Per-customer observations; id in 1..customers, else they return CL_ERANGE (< -1) and set
 * the error message. */
int cl_synth_customers(const cl_synth_world *w);
int cl_synth_titles(const cl_synth_world *w);
/* 1 when active at the snapshot, 0 if churned before it. */
int cl_synth_active(const cl_synth_world *w, int id);
/* Observed label: 1 churned within label_days of the snapshot, 0 stayed, -1 not active. */
int cl_synth_label(const cl_synth_world *w, int id);
/* Day of churn (observation or label window), or -1 if none by the end of the label window. */
int cl_synth_churn_day(const cl_synth_world *w, int id);

/* Hidden tastes of customer id: `genres` floats summing to 1 (borrowed). NULL when id is out
 * of range. */
const float *cl_synth_tastes(const cl_synth_world *w, int id);
/* Genre bit mask of title tid (bit g = genre g); 0 when out of range. */
uint32_t cl_synth_title_genres(const cl_synth_world *w, int tid);
/* How well title tid matches customer id's hidden taste: genres * mean taste over the title's
 * genres (1 = indifferent, >1 liked). NaN when out of range. */
double cl_synth_world_appeal(const cl_synth_world *w, int id, int tid);

/* Actions for a replay (one per customer). */
enum { CL_SYNTH_NONE = 0, CL_SYNTH_DISCOUNT = 1, CL_SYNTH_CONTENT = 2, CL_SYNTH_OUTREACH = 3 };
typedef struct cl_synth_action {
    int kind;
    double discount;        /* DISCOUNT: percent off, (0, 100] */
    int months;             /* DISCOUNT: months it lasts, >= 1 */
    const int32_t *titles;  /* CONTENT: recommended title ids, borrowed for the call */
    int ntitles;            /* CONTENT: >= 1 */
} cl_synth_action;

typedef struct cl_synth_outcome {
    int retained;   /* 1 when active at the end of the horizon; 0 if churned or not active */
    int churn_day;  /* day of churn within the horizon, -1 if none */
    double revenue; /* money collected over the horizon (daily accrual of the monthly price) */
} cl_synth_outcome;

/* Re-runs `horizon` days from the snapshot (horizon in 1..CL_SYNTH_MAX_DAYS - days) for every
 * customer with actions[id-1] (actions NULL = none for all), writing out[id-1] for id
 * 1..customers. Customers not active at the snapshot get {0, -1, 0}. With no actions and
 * horizon == label_days, the retained flags are exactly 1 - label. An action starts on the
 * snapshot day and replaces any action still running then (a campaign discount); discounts last
 * 30 days per month, content and outreach 30 days. Validates every action (errors name the
 * customer). Deterministic whatever the thread count. */
int cl_synth_replay(const cl_synth_world *w, const cl_synth_action *actions, int horizon,
                    cl_synth_outcome *out, const cl_progress *p);
/* The same with another luck: luck 0 is cl_synth_replay (the world's own random numbers);
 * luck k > 0 replays the same customers from the same snapshot states with an independent set
 * of random numbers for the days after the snapshot (every policy under luck k sees the same
 * set, so policies still differ only by their effect). Averaging a plan's gain over many lucks
 * estimates its expected value under the true model; one replay is one draw of it. */
int cl_synth_replay_luck(const cl_synth_world *w, const cl_synth_action *actions, int horizon,
                         uint64_t luck, cl_synth_outcome *out, const cl_progress *p);

/* The true probability of churn within `horizon` days of the snapshot under actions (NULL =
 * none), integrating the hazard along the customer's expected path (latent engagement,
 * decaying tickets and payment failures, current plan and content match; no new random
 * events). out[id-1]; 0 for customers not active at the snapshot. */
int cl_synth_replay_true_risk(const cl_synth_world *w, const cl_synth_action *actions, int horizon,
                       double *out);

/* The past campaign's truth (for checking uplift models): for every customer enrolled in it,
 * the probability of churning within campaign_outcome_days of campaign_day without the
 * discount (p_control) and with it (p_treated), from the hidden hazard along the customer's
 * expected path from the campaign day (as cl_synth_replay_true_risk); NaN for customers not
 * enrolled. The customer's true effect is p_control - p_treated. out arrays [customers]. */
int cl_synth_replay_campaign_truth(const cl_synth_world *w, double *p_control, double *p_treated);

/* Live streams: the world running forward from its snapshot, one simulated day per call, as
 * the events.csv and ratings.csv lines that day would have (with their headers). The customers
 * active at the snapshot live on with the same random numbers as cl_synth_replay with no
 * action, so a streamed cancel falls on the day cl_synth_replay (and, within the label window,
 * cl_synth_churn_day) says. Days run from `days` up to CL_SYNTH_MAX_DAYS - 1.
 * Ownership: _new returns an owned stream (it borrows w, which must outlive it); the text
 * returned by _next is owned by the caller (cl_alloc_free). */
typedef struct cl_synth_stream cl_synth_stream;
int cl_synth_stream_new(cl_synth_stream **out, const cl_synth_world *w);
void cl_synth_stream_free(cl_synth_stream *s);
/* Simulates the next day: *day gets it, *events and *ratings its CSV text (NUL-terminated,
 * lengths in *nev, *nrt). CL_ERANGE once CL_SYNTH_MAX_DAYS is reached. */
int cl_synth_stream_next(cl_synth_stream *s, int *day, char **events, size_t *nev, char **ratings,
                         size_t *nrt);

/* The recommendation reaction (off by default). With it on, customers respond to the lists
 * shown to them: cl_synth_stream_show(s, id, titles, n) records an impression after the day
 * last returned by _next; each shown title is then viewed from the recommendation row (a
 * watch event with detail "rec") on one of the next `window` days with probability
 * cl_synth_stream_rec_view_prob(w, id, tid), and the view moves the customer's content match (so
 * the churn hazard) like any watch. Every shown title of negative log appeal lowers the match
 * by 0.02 (irrelevant recommendations tire). A new impression replaces pending views. The
 * reaction draws from its own random stream per customer and impression day, so it is
 * reproducible and leaves the daily life draws untouched; with it off, show() does nothing. */
#define CL_SYNTH_REC_MAX 32
int cl_synth_stream_react(cl_synth_stream *s, int on, int window);
int cl_synth_stream_show(cl_synth_stream *s, int id, const int32_t *titles, int n);
/* The probability that customer id views title tid from a recommendation within the window:
 * 0.35 sigmoid(-2 + 2.5 log appeal + 4 (quality - 0.6)). NaN when out of range. */
double cl_synth_stream_rec_view_prob(const cl_synth_world *w, int id, int tid);
/* The world's expected number of views of `titles` (valid ids) shown to id now: the sum of
 * their view probabilities times the chance of being alive on the view day (the window's days
 * averaged, at the hazard of the next day: views move the hazard only to second order). 0 for
 * a customer no longer active; NaN for an id out of range. */
double cl_synth_stream_expected_views(const cl_synth_stream *s, int id, const int32_t *titles,
                                      int n);

#endif
