/* synth_impl.h - internals shared by synth_world.c (world and daily life), synth.c (driver),
 * synth_replay.c
 * (counterfactual replay, true risk) and synth_write.c (CSV files and data dictionary).
 * Not part of the public API. */
#ifndef CL_SYNTH_IMPL_H
#define CL_SYNTH_IMPL_H

#include "synth/synth.h"
#include "synth/synth_buf.h"

#include <stdio.h>

enum { PLAN_BASIC, PLAN_STANDARD, PLAN_PREMIUM, NPLANS };
enum { PAY_CARD, PAY_DEBIT, PAY_PAYPAL, PAY_GIFT, NPAY };
enum { NAGE = 5, NREGION = 5, NCHANNEL = 5, NDEVICE = 5 };

extern const char *const cl_synth_world_plan_names[NPLANS];
extern const double cl_synth_world_plan_price[NPLANS];
extern const char *const cl_synth_world_pay_names[NPAY];
extern const double cl_synth_world_pay_fail[NPAY];
extern const char *const cl_synth_world_age_names[NAGE];
extern const char *const cl_synth_world_region_names[NREGION];
extern const char *const cl_synth_world_channel_names[NCHANNEL];
extern const char *const cl_synth_world_device_names[NDEVICE];
extern const char *const cl_synth_world_ticket_topics[4];

/* The hazard coefficients by name (indices into cl_synth_world_coefs()). */
enum {
    K_BASE, K_DECLINE, K_ENGAGE, K_MATCH, K_PRICE, K_RISE, K_PAYFAIL, K_TICKET, K_NEW,
    K_PLAN_BASIC, K_PLAN_PREMIUM, K_PAY_DEBIT, K_PAY_PAYPAL, K_PAY_GIFT, K_CH_SEARCH,
    K_CH_SOCIAL, K_CH_REFERRAL, K_CH_PARTNER, K_DEVICES, K_FRAILTY, K_DISCOUNT, K_CONTENT,
    K_OUTREACH, K_OUTREACH_ISSUES, NCOEF
};

/* State a customer carries from day to day (what a replay restarts from). */
typedef struct synth_state {
    float match;       /* EWMA of log appeal of watched titles */
    float pf, tk;      /* payment failures and tickets, decayed (half-life 30 days) */
    int16_t rise_day;  /* day this customer's price rose, -1 if never */
    int8_t plan;
    int8_t alive;
    int8_t act;        /* active action kind (CL_SYNTH_*) */
    int16_t act_until; /* action active on days < act_until */
    float act_disc;    /* discount fraction while active */
    float act_boost;   /* content boost (mean positive log appeal) */
} synth_state;

/* One customer: visible attributes, hidden traits, snapshot state and observed outcome. */
typedef struct synth_cust {
    int32_t signup_day;
    int8_t age, region, pay, channel, plan0, ndev;
    uint8_t devices;       /* bit mask over cl_synth_world_device_names */
    int8_t campaign;       /* -1 not enrolled, 0 control, 1 treated */
    int8_t campaign_churn; /* outcome for enrolled customers */
    int8_t label;          /* 1/0, -1 not active at the snapshot */
    int16_t churn_day;     /* -1 none by the end of the label window */
    float e0;              /* baseline sessions per day */
    float fade_start, fade_rate; /* log-engagement falls by fade_rate per day after fade_start */
    float sens;            /* price sensitivity in (0, 1) */
    float explore;         /* share of picks from global popularity instead of taste */
    float frailty;         /* hidden noise on the log hazard */
    float revenue_obs;     /* revenue over the label window as observed */
    synth_state snap;      /* state at the start of day `days` */
} synth_cust;

struct cl_synth_world {
    cl_synth_params p;
    int G, T, N;
    double coef[NCOEF];
    double gsupply[CL_SYNTH_MAX_GENRES]; /* share of titles carrying each genre */
    /* catalog, index tid-1 */
    uint8_t *t_series;
    uint32_t *t_genres;
    int16_t *t_year, *t_runtime, *t_episodes;
    float *t_pop, *t_quality;
    /* sampling: per genre, the titles carrying it with cumulative popularity weights */
    int32_t *g_off;    /* G+1 offsets into g_tid / g_cum */
    int32_t *g_tid;
    double *g_cum;
    double *all_cum;   /* T cumulative popularity weights over all titles */
    /* customers, index id-1 */
    synth_cust *cust;
    float *taste;      /* N x G */
    cl_synth_stats stats;
};


/* Where a simulated day sends its events (NULL: nowhere, as in replays). */
typedef struct synth_emit {
    synth_buf events, ratings;
    cl_synth_stats st;
} synth_emit;

/* Monthly list price of `plan` on `day`. */
double cl_synth_world_price(const cl_synth_world *w, int plan, int day);
/* Log of the latent sessions-per-day rate of customer c (0-based) on `day`. */
double cl_synth_world_log_engagement(const synth_cust *c, int day);
/* How strongly a discount of fraction d is felt, 1 at 25% (see synth.c). */
double cl_synth_world_discount_feel(double d);
/* The linear predictor of the daily hazard, h = 1 - exp(-exp(eta)). */
double cl_synth_world_eta(const cl_synth_world *w, int ci, const synth_state *st, int day);
/* Applies a (validated) action to a state starting on `day`. */
void cl_synth_world_apply_action(const cl_synth_world *w, int ci, synth_state *st,
                        const cl_synth_action *a, int day);
int cl_synth_world_check_action(const cl_synth_world *w, int ci, const cl_synth_action *a);
/* Simulates day `day` for customer ci (0-based) from *st: returns 1 if the customer churned
 * that day. Adds the day's revenue to *revenue when not NULL; emits events when em != NULL. */
int cl_synth_world_sim_day(const cl_synth_world *w, int ci, synth_state *st, int day, synth_emit *em,
                  double *revenue);
/* The deterministic start-of-day updates of cl_synth_world_sim_day (action expiry, price rise). */
void cl_synth_world_true_day_start(const cl_synth_world *w, int ci, synth_state *st, int day);
/* Runs days [day0, day0 + n) from *st without events; returns the churn day or -1. */
int cl_synth_world_run_window(const cl_synth_world *w, int ci, synth_state *st, int day0, int n,
                     double *revenue);

/* The e-mail log (emails.csv): a newsletter every SYNTH_EMAIL_EVERY days from day
 * SYNTH_EMAIL_FIRST, opened with probability SYNTH_EMAIL_OPEN, its price link followed with
 * probability sigmoid(SYNTH_EMAIL_CLICK_A + SYNTH_EMAIL_CLICK_B s) when opened. */
#define SYNTH_EMAIL_FIRST 7
#define SYNTH_EMAIL_EVERY 14
#define SYNTH_EMAIL_OPEN 0.45
#define SYNTH_EMAIL_CLICK_A (-3.0)
#define SYNTH_EMAIL_CLICK_B 5.0
/* Customer ci's reaction to the e-mail of `day`: 0 unopened, 1 opened, 2 price link followed. */
int cl_synth_world_email_reaction(const cl_synth_world *w, int ci, int day);
/* 1 if customer ci is a customer on `day` (signed up, not yet cancelled). */
int cl_synth_world_customer_on(const cl_synth_world *w, int ci, int day);

/* Draws the catalog of titles and the genre samplers into w (synth_world.c). */
int cl_synth_world_make_catalog(cl_synth_world *w);
/* Draws customer ci (0-based): attributes, hidden traits and the state at signup. */
void cl_synth_world_make_customer(cl_synth_world *w, int ci, synth_state *st);
/* The state at signup of customer ci from its drawn traits (the end of cl_synth_world_make_customer;
 * the oracle of the past campaign re-runs a customer from it). */
void cl_synth_world_initial_state(const cl_synth_world *w, int ci, synth_state *st);

/* Files (synth_write.c). */
int cl_synth_write_titles(const cl_synth_world *w, const char *dir);
int cl_synth_write_users(const cl_synth_world *w, const char *dir);
int cl_synth_write_campaign(const cl_synth_world *w, const char *dir);
int cl_synth_write_emails(const cl_synth_world *w, const char *dir);
int cl_synth_write_truth(const cl_synth_world *w, const char *dir);
int cl_synth_write_readme(const cl_synth_world *w, const char *dir);
int cl_synth_write_path(char *buf, size_t cap, const char *dir, const char *name);
int cl_synth_write_mkdir_p(const char *dir);

#endif
