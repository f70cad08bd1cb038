/* synth_world.c - the rules of the simulated streaming service: parameters, hazard
 * coefficients, catalog and customer draws, daily life and retention actions. The generator
 * (synth.c), replays (synth_replay.c) and files (synth_write.c) all build on it and it calls
 * none of them, so the synth files depend on one another without a circle. */
#include "synth/synth.h"
#include "synth/synth_impl.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- parameters --------------------------------------------------------------------- */

const cl_param_def cl_synth_world_param_defs[] = {
    {"customers", CL_PARAM_INT, offsetof(cl_synth_params, customers), 50000, 1, 10000000, NULL,
     "number of customers simulated (ids 1..customers)"},
    {"titles", CL_PARAM_INT, offsetof(cl_synth_params, titles), 2000, 50, 200000, NULL,
     "catalog size (films and series)"},
    {"genres", CL_PARAM_INT, offsetof(cl_synth_params, genres), 18, 4, CL_SYNTH_MAX_GENRES, NULL,
     "number of genres (multi-label; names are fixed)"},
    {"days", CL_PARAM_INT, offsetof(cl_synth_params, days), 180, 30, 720, NULL,
     "observation window in days; the snapshot is the start of day `days`"},
    {"label_days", CL_PARAM_INT, offsetof(cl_synth_params, label_days), 30, 7, 120, NULL,
     "label: churn within this many days after the snapshot"},
    {"seed", CL_PARAM_SEED, offsetof(cl_synth_params, seed), 42, 0, 0, NULL,
     "random seed: same seed, same world, byte-identical files"},
    {"basic_share", CL_PARAM_NUM, offsetof(cl_synth_params, basic_share), 0.45, 0, 1, NULL,
     "share of customers on the basic plan at signup"},
    {"premium_share", CL_PARAM_NUM, offsetof(cl_synth_params, premium_share), 0.20, 0, 1, NULL,
     "share on the premium plan at signup (standard gets the rest)"},
    {"price_rise_day", CL_PARAM_INT, offsetof(cl_synth_params, price_rise_day), 120, -1, 719,
     NULL, "day the standard and premium prices rise (-1: no rise)"},
    {"price_rise", CL_PARAM_NUM, offsetof(cl_synth_params, price_rise), 2.0, 0, 50, NULL,
     "amount added to the standard and premium monthly prices"},
    {"campaign_day", CL_PARAM_INT, offsetof(cl_synth_params, campaign_day), 90, -1, 719, NULL,
     "day of the past randomised retention campaign (-1: none)"},
    {"campaign_share", CL_PARAM_NUM, offsetof(cl_synth_params, campaign_share), 0.2, 0, 1, NULL,
     "share of active customers enrolled in the campaign (half treated at random)"},
    {"campaign_discount", CL_PARAM_NUM, offsetof(cl_synth_params, campaign_discount), 25, 1, 100,
     NULL, "percent off the monthly price for treated customers"},
    {"campaign_months", CL_PARAM_INT, offsetof(cl_synth_params, campaign_months), 3, 1, 24, NULL,
     "months the campaign discount lasts"},
    {"campaign_outcome_days", CL_PARAM_INT, offsetof(cl_synth_params, campaign_outcome_days), 60,
     7, 365, NULL, "campaign outcome: churn within this many days of the campaign"},
    {"churn_scale", CL_PARAM_NUM, offsetof(cl_synth_params, churn_scale), 1.0, 0.01, 100, NULL,
     "multiplies the baseline daily hazard"},
    {"frailty_sd", CL_PARAM_NUM, offsetof(cl_synth_params, frailty_sd), 0.35, 0, 3, NULL,
     "sd of the hidden per-customer frailty on the log hazard (the noise)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

void cl_synth_world_params_default(cl_synth_params *p)
{
    memset(p, 0, sizeof *p);
    cl_param_defaults(cl_synth_world_param_defs, p);
}

/* ---- the documented causes of churn --------------------------------------------------- */

/* eta = sum of coef * term; daily hazard h = 1 - exp(-exp(eta)) (complementary log-log, so
 * exp(coef) is a hazard ratio). Order matches the K_* enum. */
static const cl_synth_coef coefs[NCOEF + 1] = {
    {"baseline", -7.05, "1 (log of the baseline daily hazard; plus log(churn_scale))"},
    {"engagement_decline", 1.60,
     "log(e0 / e_t): how far the latent sessions-per-day rate has fallen from the baseline"},
    {"engagement_level", -0.60, "log(e0 / 0.45): baseline engagement against the median"},
    {"content_match", -0.90,
     "m - 0.5, m = running mean (weight 0.1 per title) of log appeal of the titles watched"},
    {"price", 1.60, "s * log(price / 7.99): price sensitivity s times log effective price"},
    {"price_rise_shock", 1.50, "s * exp(-(day - rise day) / 45) after the customer's price rose"},
    {"payment_failures", 1.20, "payment failures, decayed with a 30-day half-life"},
    {"tickets", 0.50, "support tickets, decayed with a 30-day half-life"},
    {"short_tenure", 1.00, "exp(-tenure / 60): new customers churn more"},
    {"plan_basic", 0.15, "1 on the basic plan (standard is the reference)"},
    {"plan_premium", -0.20, "1 on the premium plan"},
    {"pay_debit", 0.10, "1 paying by debit card (card is the reference)"},
    {"pay_paypal", -0.05, "1 paying by PayPal"},
    {"pay_gift_card", 0.40, "1 paying by gift card"},
    {"channel_search", 0.05, "1 acquired through search (organic is the reference)"},
    {"channel_social", 0.25, "1 acquired through social media"},
    {"channel_referral", -0.15, "1 acquired through a referral"},
    {"channel_partner", -0.10, "1 acquired through a TV/telco partner bundle"},
    {"devices", -0.08, "number of devices - 1"},
    {"frailty", 1.00, "hidden per-customer noise z ~ N(0, frailty_sd)"},
    {"action_discount", -0.15,
     "g(d) while a discount of fraction d runs, g(d) = (1 - exp(-d/0.3)) / (1 - exp(-0.25/0.3)) "
     "(1 at 25%, diminishing returns); the price term then sees list * (1 - 0.25 g(d))"},
    {"action_content", -0.60,
     "for 30 days: mean over the recommended titles of 3 (w - w0), w = sigmoid(0.6 + 1.2 log "
     "appeal + 3 (quality - 0.6)) the title's expected watch-through, w0 that of a neutral "
     "title; minus 0.04 per title beyond 5 (negative: the push disappoints)"},
    {"action_outreach", -0.20, "1 for 30 days after a personal outreach"},
    {"action_outreach_issues", -0.60,
     "min(1, payment failures + tickets) during outreach: it helps most with open issues"},
    {NULL, 0, NULL}};

const cl_synth_coef *cl_synth_world_coefs(void) { return coefs; }

/* ---- fixed vocabularies ---------------------------------------------------------------- */

static const char *const genre_names[CL_SYNTH_MAX_GENRES] = {
    "drama", "comedy", "action", "thriller", "crime", "romance", "documentary",
    "scifi", "animation", "family", "horror", "fantasy", "adventure", "mystery",
    "kids", "reality", "sports", "music", "war", "western"};
/* How often each genre is attached to a title (relative). */
static const double genre_weight[CL_SYNTH_MAX_GENRES] = {
    3.0, 2.8, 2.0, 1.8, 1.5, 1.4, 1.2, 1.0, 1.0, 0.9, 0.9, 0.8, 0.8, 0.7,
    0.6, 0.5, 0.4, 0.35, 0.3, 0.2};

const char *const cl_synth_world_plan_names[NPLANS] = {"basic", "standard", "premium"};
const double cl_synth_world_plan_price[NPLANS] = {7.99, 12.99, 17.99};
const char *const cl_synth_world_pay_names[NPAY] = {"card", "debit", "paypal", "gift_card"};
const double cl_synth_world_pay_fail[NPAY] = {0.020, 0.035, 0.012, 0.060};
static const double pay_weight[NPAY] = {0.50, 0.22, 0.20, 0.08};
const char *const cl_synth_world_age_names[NAGE] = {"18-24", "25-34", "35-44", "45-54", "55+"};
static const double age_weight[NAGE] = {0.15, 0.25, 0.22, 0.18, 0.20};
static const double age_engage[NAGE] = {1.20, 1.10, 1.00, 0.90, 0.80};
const char *const cl_synth_world_region_names[NREGION] = {"north", "south", "east", "west", "metro"};
static const double region_weight[NREGION] = {0.18, 0.20, 0.19, 0.18, 0.25};
const char *const cl_synth_world_channel_names[NCHANNEL] = {"organic", "search", "social", "referral",
                                                   "partner"};
static const double channel_weight[NCHANNEL] = {0.40, 0.20, 0.18, 0.12, 0.10};
const char *const cl_synth_world_device_names[NDEVICE] = {"tv", "mobile", "web", "tablet", "console"};
static const double device_weight[NDEVICE] = {0.35, 0.30, 0.15, 0.12, 0.08};
const char *const cl_synth_world_ticket_topics[4] = {"playback", "account", "content", "billing"};
/* by day % 7; day 0 (2025-01-01) is a Wednesday: Wed Thu Fri Sat Sun Mon Tue, mean 1 */
static const double weekday_factor[7] = {0.90, 0.95, 1.10, 1.20, 1.15, 0.85, 0.85};

#define MEDIAN_ENGAGEMENT 0.45
#define DECAY_30 0.97715996843424655 /* 2^(-1/30): 30-day half-life per day */
#define MATCH_W 0.1
#define ACTION_DAYS 30
#define SEED_CATALOG 0x43415441ULL
#define SEED_CUSTOMER 0x43555354ULL
#define SEED_EMAIL 0x454d4149ULL

const char *cl_synth_world_genre_name(int g)
{
    return g >= 0 && g < CL_SYNTH_MAX_GENRES ? genre_names[g] : NULL;
}

/* ---- small samplers -------------------------------------------------------------------- */

static int pick(cl_rng *r, const double *w, int n)
{
    double tot = 0;
    for (int i = 0; i < n; i++)
        tot += w[i];
    double u = cl_rng_uniform(r) * tot;
    for (int i = 0; i < n - 1; i++) {
        if (u < w[i])
            return i;
        u -= w[i];
    }
    return n - 1;
}

static int poisson(cl_rng *r, double lam)
{
    if (lam <= 0)
        return 0;
    if (lam > 30) { /* never reached with the world's rates; keeps the loop bounded anyway */
        double x = lam + sqrt(lam) * cl_rng_normal(r);
        return x < 0 ? 0 : (int)(x + 0.5);
    }
    double L = exp(-lam), p = 1.0;
    int k = 0;
    do {
        k++;
        p *= cl_rng_uniform(r);
    } while (p > L);
    return k - 1;
}

/* Index of the first cum[i] > u in cum[0..n) (cumulative weights, cum[n-1] the total). */
static int search_cum(const double *cum, int n, double u)
{
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        if (cum[mid] > u)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static double sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

/* ---- prices, engagement, hazard --------------------------------------------------------- */

double cl_synth_world_price(const cl_synth_world *w, int plan, int day)
{
    double p = cl_synth_world_plan_price[plan];
    if (plan != PLAN_BASIC && w->p.price_rise_day >= 0 && day >= w->p.price_rise_day)
        p += w->p.price_rise;
    return p;
}

double cl_synth_world_log_engagement(const synth_cust *c, int day)
{
    double le = log(c->e0);
    double t = day - c->fade_start;
    if (t > 0) {
        double drop = c->fade_rate * t;
        le -= drop < 3.0 ? drop : 3.0;
    }
    return le;
}

static double effective_price(const cl_synth_world *w, const synth_state *st, int day)
{
    double p = cl_synth_world_price(w, st->plan, day);
    if (st->act == CL_SYNTH_DISCOUNT)
        p *= 1.0 - st->act_disc;
    return p;
}

/* How strongly a discount of fraction d in (0, 1] is felt, relative to the 25% of the default
 * campaign: g(d) = (1 - exp(-d / 0.3)) / (1 - exp(-0.25 / 0.3)), concave (diminishing
 * returns), g(0) = 0, g(0.25) = 1 exactly (the same expression divided by itself), g(1) = 1.71.
 * The hazard sees the perceived price list * (1 - 0.25 g(d)) - 0.75 of list at 25%, as
 * before, and never below 0.57 of list even at 100% off, so the price term stays finite - and
 * the discount's own bonus action_discount * g(d), which a 1% discount earns only 3% of. */
double cl_synth_world_discount_feel(double d)
{
    return -expm1(-d / 0.3) / -expm1(-0.25 / 0.3);
}

static double perceived_price(const cl_synth_world *w, const synth_state *st, int day)
{
    double p = cl_synth_world_price(w, st->plan, day);
    if (st->act == CL_SYNTH_DISCOUNT)
        p *= 1.0 - 0.25 * cl_synth_world_discount_feel(st->act_disc);
    return p;
}

/* Expected watch-through of a title of log appeal la and quality q (the completion model of
 * the daily life without its noise). */
static double watch_through(double la, double q)
{
    return 1.0 / (1.0 + exp(-(0.6 + 1.2 * la + 3.0 * (q - 0.6))));
}

double cl_synth_world_eta(const cl_synth_world *w, int ci, const synth_state *st, int day)
{
    const synth_cust *c = &w->cust[ci];
    const double *k = w->coef;
    double le0 = log(c->e0);
    double eta = k[K_BASE] + log(w->p.churn_scale);
    eta += k[K_DECLINE] * (le0 - cl_synth_world_log_engagement(c, day));
    eta += k[K_ENGAGE] * (le0 - log(MEDIAN_ENGAGEMENT));
    eta += k[K_MATCH] * (st->match - 0.5);
    eta += k[K_PRICE] * c->sens * log(perceived_price(w, st, day) / cl_synth_world_plan_price[PLAN_BASIC]);
    if (st->rise_day >= 0)
        eta += k[K_RISE] * c->sens * exp(-(day - st->rise_day) / 45.0);
    eta += k[K_PAYFAIL] * st->pf + k[K_TICKET] * st->tk;
    eta += k[K_NEW] * exp(-(day - c->signup_day) / 60.0);
    if (st->plan == PLAN_BASIC)
        eta += k[K_PLAN_BASIC];
    else if (st->plan == PLAN_PREMIUM)
        eta += k[K_PLAN_PREMIUM];
    static const int pay_k[NPAY] = {-1, K_PAY_DEBIT, K_PAY_PAYPAL, K_PAY_GIFT};
    if (pay_k[c->pay] >= 0)
        eta += k[pay_k[c->pay]];
    static const int ch_k[NCHANNEL] = {-1, K_CH_SEARCH, K_CH_SOCIAL, K_CH_REFERRAL, K_CH_PARTNER};
    if (ch_k[c->channel] >= 0)
        eta += k[ch_k[c->channel]];
    eta += k[K_DEVICES] * (c->ndev - 1);
    eta += k[K_FRAILTY] * c->frailty;
    switch (st->act) {
    case CL_SYNTH_DISCOUNT:
        eta += k[K_DISCOUNT] * cl_synth_world_discount_feel(st->act_disc);
        break;
    case CL_SYNTH_CONTENT:
        eta += k[K_CONTENT] * st->act_boost;
        break;
    case CL_SYNTH_OUTREACH: {
        double issues = st->pf + st->tk;
        eta += k[K_OUTREACH] + k[K_OUTREACH_ISSUES] * (issues < 1 ? issues : 1);
        break;
    }
    default:
        break;
    }
    return eta;
}

/* ---- catalog ---------------------------------------------------------------------------- */

static double appeal_of(const cl_synth_world *w, const float *taste, uint32_t mask)
{
    double s = 0;
    int n = 0;
    for (int g = 0; g < w->G; g++)
        if (mask >> g & 1u) {
            s += taste[g];
            n++;
        }
    return n ? w->G * s / n : 1.0;
}

int cl_synth_world_make_catalog(cl_synth_world *w)
{
    int T = w->T, G = w->G;
    w->t_series = cl_alloc_calloc((size_t)T, 1);
    w->t_genres = cl_alloc_calloc((size_t)T, sizeof *w->t_genres);
    w->t_year = cl_alloc_calloc((size_t)T, sizeof *w->t_year);
    w->t_runtime = cl_alloc_calloc((size_t)T, sizeof *w->t_runtime);
    w->t_episodes = cl_alloc_calloc((size_t)T, sizeof *w->t_episodes);
    w->t_pop = cl_alloc_calloc((size_t)T, sizeof *w->t_pop);
    w->t_quality = cl_alloc_calloc((size_t)T, sizeof *w->t_quality);
    w->all_cum = cl_alloc_calloc((size_t)T, sizeof *w->all_cum);
    w->g_off = cl_alloc_calloc((size_t)G + 1, sizeof *w->g_off);
    if (!w->t_series || !w->t_genres || !w->t_year || !w->t_runtime || !w->t_episodes ||
        !w->t_pop || !w->t_quality || !w->all_cum || !w->g_off)
        return CL_ENOMEM;
    long long links = 0;
    for (int i = 0; i < T; i++) {
        cl_rng r;
        cl_rng_split(&r, w->p.seed ^ SEED_CATALOG, (uint64_t)i + 1);
        int series = cl_rng_uniform(&r) < 0.35;
        double u = cl_rng_uniform(&r);
        int ng = 1 + (u < 0.55) + (u < 0.15);
        uint32_t mask = 0;
        for (int k = 0; k < ng; k++) {
            int g;
            do
                g = pick(&r, genre_weight, G);
            while (mask >> g & 1u);
            mask |= 1u << g;
        }
        double age = -8.0 * log(1.0 - cl_rng_uniform(&r));
        int year = 2025 - (int)age;
        double pop = exp(1.1 * cl_rng_normal(&r));
        double q = 0.6 + 0.15 * cl_rng_normal(&r) + 0.04 * log(pop);
        q = q < 0.05 ? 0.05 : q > 0.98 ? 0.98 : q;
        int runtime, episodes;
        if (series) {
            runtime = 22 + (int)cl_rng_below(&r, 39);
            episodes = 6 + (int)cl_rng_below(&r, 55);
        } else {
            double rt = 102 + 18 * cl_rng_normal(&r);
            runtime = rt < 70 ? 70 : rt > 200 ? 200 : (int)rt;
            episodes = 1;
        }
        w->t_series[i] = (uint8_t)series;
        w->t_genres[i] = mask;
        w->t_year[i] = (int16_t)(year < 1950 ? 1950 : year);
        w->t_runtime[i] = (int16_t)runtime;
        w->t_episodes[i] = (int16_t)episodes;
        w->t_pop[i] = (float)pop;
        w->t_quality[i] = (float)q;
        links += ng;
    }
    w->g_tid = cl_alloc_calloc((size_t)links, sizeof *w->g_tid);
    w->g_cum = cl_alloc_calloc((size_t)links, sizeof *w->g_cum);
    if (!w->g_tid || !w->g_cum)
        return CL_ENOMEM;
    double tot = 0;
    for (int i = 0; i < T; i++) {
        tot += w->t_pop[i] * (0.5 + w->t_quality[i]);
        w->all_cum[i] = tot;
    }
    int at = 0;
    for (int g = 0; g < G; g++) {
        w->g_off[g] = at;
        double cum = 0;
        for (int i = 0; i < T; i++)
            if (w->t_genres[i] >> g & 1u) {
                cum += w->t_pop[i] * (0.5 + w->t_quality[i]);
                w->g_tid[at] = i;
                w->g_cum[at] = cum;
                at++;
            }
        w->gsupply[g] = (double)(at - w->g_off[g]) / T;
    }
    w->g_off[G] = at;
    for (int g = 0; g < G; g++)
        if (w->g_off[g + 1] == w->g_off[g])
            return cl_error(CL_EINVAL, "synth: genre '%s' has no titles; use more titles (%d)",
                            genre_names[g], T);
    return CL_OK;
}

/* ---- customers -------------------------------------------------------------------------- */

/* Draws customer ci's attributes and hidden traits from its own stream, and its state at the
 * start of the observation window (or at signup). */
void cl_synth_world_make_customer(cl_synth_world *w, int ci, synth_state *st)
{
    const cl_synth_params *P = &w->p;
    synth_cust *c = &w->cust[ci];
    float *taste = w->taste + (size_t)ci * w->G;
    cl_rng r;
    cl_rng_split(&r, P->seed ^ SEED_CUSTOMER, (uint64_t)ci + 1);
    memset(c, 0, sizeof *c);
    if (cl_rng_uniform(&r) < 0.25) {
        c->signup_day = (int32_t)cl_rng_below(&r, (uint64_t)P->days);
    } else {
        double back = 420.0 * -log(1.0 - cl_rng_uniform(&r));
        c->signup_day = -1 - (int32_t)(back < 3000 ? back : 3000);
    }
    double u = cl_rng_uniform(&r);
    c->plan0 = u < P->basic_share                       ? PLAN_BASIC
               : u < P->basic_share + P->premium_share ? PLAN_PREMIUM
                                                         : PLAN_STANDARD;
    static const double plan_sens[NPLANS] = {0.6, 0.0, -0.7};
    c->sens = (float)sigmoid(cl_rng_normal(&r) + plan_sens[(int)c->plan0]);
    c->age = (int8_t)pick(&r, age_weight, NAGE);
    c->region = (int8_t)pick(&r, region_weight, NREGION);
    c->pay = (int8_t)pick(&r, pay_weight, NPAY);
    c->channel = (int8_t)pick(&r, channel_weight, NCHANNEL);
    u = cl_rng_uniform(&r);
    int nd = 1 + (u < 0.6) + (u < 0.3) + (u < 0.1) + (c->plan0 == PLAN_PREMIUM);
    c->ndev = (int8_t)(nd > NDEVICE ? NDEVICE : nd);
    c->devices = 0;
    for (int k = 0; k < c->ndev; k++) {
        int d;
        do
            d = pick(&r, device_weight, NDEVICE);
        while (c->devices >> d & 1u);
        c->devices |= (uint8_t)(1u << d);
    }
    c->e0 = (float)(MEDIAN_ENGAGEMENT * age_engage[(int)c->age] * exp(0.6 * cl_rng_normal(&r)));
    if (cl_rng_uniform(&r) < 0.35) {
        c->fade_start = (float)(-60.0 + cl_rng_uniform(&r) * (P->days + P->label_days + 60));
        c->fade_rate = (float)(0.006 + 0.019 * cl_rng_uniform(&r));
    } else {
        c->fade_start = 1e9f;
        c->fade_rate = 0;
    }
    double tsum = 0, tz[CL_SYNTH_MAX_GENRES];
    for (int g = 0; g < w->G; g++) {
        tz[g] = exp(1.4 * cl_rng_normal(&r));
        tsum += tz[g];
    }
    for (int g = 0; g < w->G; g++)
        taste[g] = (float)(tz[g] / tsum);
    double e = cl_rng_uniform(&r);
    c->explore = (float)(0.05 + 0.35 * e * e);
    c->frailty = (float)(P->frailty_sd * cl_rng_normal(&r));
    double enrol = cl_rng_uniform(&r), treat = cl_rng_uniform(&r);
    c->campaign = enrol < P->campaign_share ? (int8_t)(treat < 0.5) : -1;
    c->campaign_churn = -1;
    c->label = -1;
    c->churn_day = -1;
    cl_synth_world_initial_state(w, ci, st);
}

void cl_synth_world_initial_state(const cl_synth_world *w, int ci, synth_state *st)
{
    const synth_cust *c = &w->cust[ci];
    const float *taste = w->taste + (size_t)ci * w->G;
    /* Starting content match: the expected log appeal of a pick from the customer's mix of
     * taste-led and popularity-led choices (genre-level approximation). */
    double wsum = 0, m_taste = 0, m_pop = 0, ssum = 0;
    for (int g = 0; g < w->G; g++) {
        double wg = taste[g] * sqrt(w->gsupply[g]);
        double la = log(w->G * (double)taste[g]);
        wsum += wg;
        m_taste += wg * la;
        ssum += w->gsupply[g];
        m_pop += w->gsupply[g] * la;
    }
    memset(st, 0, sizeof *st);
    st->match = (float)(0.6 * ((1 - c->explore) * m_taste / wsum + c->explore * m_pop / ssum));
    st->rise_day = -1;
    st->plan = c->plan0;
    st->alive = 1;
    st->act = CL_SYNTH_NONE;
}

/* ---- daily life ------------------------------------------------------------------------- */

static void emit_head(synth_buf *b, int id, int day, const char *event)
{
    cl_synth_buf_reserve(b, 96);
    cl_synth_buf_int(b, id);
    cl_synth_buf_ch(b, ',');
    cl_synth_buf_int(b, day);
    cl_synth_buf_ch(b, ',');
    cl_synth_buf_str(b, event);
    cl_synth_buf_ch(b, ',');
}

/* Deterministic start-of-day updates: an action running out, the price rise. */
static void day_start(const cl_synth_world *w, int ci, synth_state *st, int day, synth_emit *em)
{
    if (st->act != CL_SYNTH_NONE && day >= st->act_until)
        st->act = CL_SYNTH_NONE;
    if (day == w->p.price_rise_day && st->plan != PLAN_BASIC && w->p.price_rise > 0) {
        st->rise_day = (int16_t)day;
        if (em) {
            emit_head(&em->events, ci + 1, day, "price_change");
            cl_synth_buf_str(&em->events, ",,,,");
            cl_synth_buf_fixed(&em->events, cl_synth_world_price(w, st->plan, day), 2);
            cl_synth_buf_ch(&em->events, '\n');
            em->st.price_changes++;
            em->st.events++;
        }
    }
}

void cl_synth_world_true_day_start(const cl_synth_world *w, int ci, synth_state *st, int day)
{
    day_start(w, ci, st, day, NULL);
}

int cl_synth_world_sim_day(const cl_synth_world *w, int ci, synth_state *st, int day, synth_emit *em,
                  double *revenue)
{
    const synth_cust *c = &w->cust[ci];
    const float *taste = w->taste + (size_t)ci * w->G;
    int id = ci + 1;
    day_start(w, ci, st, day, em);

    cl_rng r;
    cl_rng_split(&r, w->p.seed, (uint64_t)id * CL_SYNTH_MAX_DAYS + (uint64_t)day);
    double u = cl_rng_uniform(&r); /* the first draw of the day decides churn */
    double h = -expm1(-exp(cl_synth_world_eta(w, ci, st, day)));
    if (u < h) {
        st->alive = 0;
        if (em) {
            emit_head(&em->events, id, day, "cancel");
            cl_synth_buf_str(&em->events, ",,,,\n");
            em->st.events++;
        }
        return 1;
    }
    if (revenue)
        *revenue += effective_price(w, st, day) / 30.0;
    if (em)
        em->st.alive_days++;

    /* billing every 30 days after signup */
    int tenure = day - c->signup_day, pf_today = 0;
    if (tenure > 0 && tenure % 30 == 0) {
        if (em)
            em->st.bills++;
        if (cl_rng_uniform(&r) < cl_synth_world_pay_fail[(int)c->pay]) {
            pf_today = 1;
            st->pf += 1;
            if (em) {
                emit_head(&em->events, id, day, "payment_failed");
                cl_synth_buf_str(&em->events, ",,,,");
                cl_synth_buf_str(&em->events, cl_synth_world_pay_names[(int)c->pay]);
                cl_synth_buf_ch(&em->events, '\n');
                em->st.payment_failures++;
                em->st.events++;
            }
        }
    }

    /* sessions and the titles watched */
    double le = cl_synth_world_log_engagement(c, day);
    double lam = exp(le) * weekday_factor[day % 7];
    int ns = poisson(&r, lam);
    if (em) {
        em->st.sessions += ns;
        em->st.expected_sessions += lam;
    }
    double gw[CL_SYNTH_MAX_GENRES], gtot = 0;
    if (ns > 0)
        for (int g = 0; g < w->G; g++) {
            gw[g] = taste[g] * sqrt(w->gsupply[g]);
            gtot += gw[g];
        }
    double match = st->match;
    for (int s = 0; s < ns; s++) {
        int dev = 0;
        int kdev = (int)cl_rng_below(&r, (uint64_t)c->ndev);
        for (int d = 0, seen = 0; d < NDEVICE; d++)
            if (c->devices >> d & 1u) {
                if (seen++ == kdev) {
                    dev = d;
                    break;
                }
            }
        int nt = 1 + poisson(&r, 0.35);
        for (int k = 0; k < nt; k++) {
            int ti;
            if (cl_rng_uniform(&r) < c->explore) {
                ti = search_cum(w->all_cum, w->T, cl_rng_uniform(&r) * w->all_cum[w->T - 1]);
            } else {
                double ug = cl_rng_uniform(&r) * gtot;
                int g = 0;
                while (g < w->G - 1 && ug >= gw[g]) {
                    ug -= gw[g];
                    g++;
                }
                int o = w->g_off[g], n = w->g_off[g + 1] - o;
                int j = search_cum(w->g_cum + o, n, cl_rng_uniform(&r) * w->g_cum[o + n - 1]);
                ti = w->g_tid[o + j];
            }
            double a = appeal_of(w, taste, w->t_genres[ti]);
            double la = log(a), q = w->t_quality[ti];
            double comp = 0.05 + 0.95 * sigmoid(0.6 + 1.2 * la + 3.0 * (q - 0.6) +
                                                 0.8 * cl_rng_normal(&r));
            double minutes;
            if (w->t_series[ti]) {
                int eps = 1 + poisson(&r, 0.8);
                minutes = w->t_runtime[ti] * (eps - 1 + comp);
            } else {
                minutes = w->t_runtime[ti] * comp;
            }
            match = (1 - MATCH_W) * match + MATCH_W * la;
            int rated = cl_rng_uniform(&r) < 0.07;
            int stars = 0;
            if (rated) {
                double z = 3.0 + 1.1 * la + 3.0 * (q - 0.6) + 0.7 * cl_rng_normal(&r);
                stars = z < 1.5 ? 1 : z >= 4.5 ? 5 : (int)(z + 0.5);
            }
            if (em) {
                synth_buf *b = &em->events;
                emit_head(b, id, day, "watch");
                cl_synth_buf_int(b, ti + 1);
                cl_synth_buf_ch(b, ',');
                cl_synth_buf_int(b, (long long)(minutes + 0.5));
                cl_synth_buf_ch(b, ',');
                cl_synth_buf_fixed(b, comp, 3);
                cl_synth_buf_ch(b, ',');
                cl_synth_buf_str(b, cl_synth_world_device_names[dev]);
                cl_synth_buf_str(b, ",\n");
                em->st.watches++;
                em->st.events++;
                if (rated) {
                    synth_buf *rb = &em->ratings;
                    cl_synth_buf_reserve(rb, 48);
                    cl_synth_buf_int(rb, id);
                    cl_synth_buf_ch(rb, ',');
                    cl_synth_buf_int(rb, ti + 1);
                    cl_synth_buf_ch(rb, ',');
                    cl_synth_buf_int(rb, day);
                    cl_synth_buf_ch(rb, ',');
                    cl_synth_buf_int(rb, stars);
                    cl_synth_buf_ch(rb, '\n');
                    em->st.ratings++;
                }
            }
        }
    }
    st->match = (float)match;

    /* support tickets */
    if (cl_rng_uniform(&r) < 0.0012 + 0.0006 * ns + 0.08 * pf_today) {
        st->tk += 1;
        static const double topic_w[4] = {0.45, 0.20, 0.20, 0.15};
        int topic = pf_today ? 3 : pick(&r, topic_w, 4);
        if (em) {
            emit_head(&em->events, id, day, "ticket");
            cl_synth_buf_str(&em->events, ",,,,");
            cl_synth_buf_str(&em->events, cl_synth_world_ticket_topics[topic]);
            cl_synth_buf_ch(&em->events, '\n');
            em->st.tickets++;
            em->st.events++;
        }
    }

    /* plan changes: downgrades after a price rise (price-sensitive customers), upgrades with
     * engagement */
    double rise = st->rise_day >= 0 ? exp(-(day - st->rise_day) / 45.0) : 0;
    double p_down = st->plan > PLAN_BASIC ? 0.0002 + 0.006 * c->sens * rise : 0;
    double p_up = st->plan < PLAN_PREMIUM ? 0.0003 * exp(le - log(MEDIAN_ENGAGEMENT)) : 0;
    double up = cl_rng_uniform(&r);
    if (up < p_down + p_up) {
        int from = st->plan;
        st->plan = (int8_t)(up < p_down ? from - 1 : from + 1);
        if (em) {
            emit_head(&em->events, id, day, "plan_change");
            cl_synth_buf_str(&em->events, ",,,,");
            cl_synth_buf_str(&em->events, cl_synth_world_plan_names[(int)st->plan]);
            cl_synth_buf_ch(&em->events, '\n');
            em->st.plan_changes++;
            em->st.events++;
        }
    }
    st->pf *= (float)DECAY_30;
    st->tk *= (float)DECAY_30;
    return 0;
}

/* Runs days [day0, day0 + n) from *st without events; returns the churn day or -1. */
int cl_synth_world_run_window(const cl_synth_world *w, int ci, synth_state *st, int day0, int n,
                     double *revenue)
{
    for (int d = day0; d < day0 + n; d++)
        if (cl_synth_world_sim_day(w, ci, st, d, NULL, revenue))
            return d;
    return -1;
}

/* ---- the e-mail log: what a real service sees of price sensitivity ------------------------- */

/* Every SYNTH_EMAIL_EVERY days from day SYNTH_EMAIL_FIRST the service e-mails every active
 * customer its newsletter, which links to the plans-and-prices page. Opening it does not
 * depend on the customer; following the price link does, on price sensitivity s:
 * P(click | opened) = sigmoid(-3 + 5 s) (0.12 at s = 0.2, 0.73 at s = 0.8). So the share of
 * opened e-mails a customer clicked through is an honest, noisy proxy of s for every plan
 * (binomial noise over a handful of opens; it never reveals s), and nothing in the hazard
 * depends on it: the e-mails change no one's churn. Drawn from the customer-day's own stream
 * under another seed, so the rest of the world (and every replay) is the same with or
 * without the log. Returns 0 unopened, 1 opened, 2 opened and the price link followed. */
int cl_synth_world_email_reaction(const cl_synth_world *w, int ci, int day)
{
    cl_rng r;
    cl_rng_split(&r, w->p.seed ^ SEED_EMAIL, (uint64_t)(ci + 1) * CL_SYNTH_MAX_DAYS + (uint64_t)day);
    double uo = cl_rng_uniform(&r), uc = cl_rng_uniform(&r);
    if (uo >= SYNTH_EMAIL_OPEN)
        return 0;
    return uc < sigmoid(SYNTH_EMAIL_CLICK_A + SYNTH_EMAIL_CLICK_B * w->cust[ci].sens) ? 2 : 1;
}

/* Whether customer ci is a customer on `day` of the observation window: signed up by then
 * and not yet cancelled (a customer who cancels on day d is gone on day d). */
int cl_synth_world_customer_on(const cl_synth_world *w, int ci, int day)
{
    const synth_cust *c = &w->cust[ci];
    if (c->signup_day > day)
        return 0;
    return c->label >= 0 || c->churn_day > day;
}

/* ---- actions ------------------------------------------------------------------------------ */

int cl_synth_world_check_action(const cl_synth_world *w, int ci, const cl_synth_action *a)
{
    switch (a->kind) {
    case CL_SYNTH_NONE:
    case CL_SYNTH_OUTREACH:
        return CL_OK;
    case CL_SYNTH_DISCOUNT:
        if (!(a->discount > 0 && a->discount <= 100))
            return cl_error(CL_EINVAL,
                            "customer %d: discount must be a percent in (0, 100], got %g", ci + 1,
                            a->discount);
        if (a->months < 1 || a->months > 24)
            return cl_error(CL_EINVAL, "customer %d: discount months must be in 1..24, got %d",
                            ci + 1, a->months);
        return CL_OK;
    case CL_SYNTH_CONTENT:
        if (a->ntitles < 1 || !a->titles)
            return cl_error(CL_EINVAL, "customer %d: content needs at least one title id",
                            ci + 1);
        for (int k = 0; k < a->ntitles; k++)
            if (a->titles[k] < 1 || a->titles[k] > w->T)
                return cl_error(CL_ERANGE,
                                "customer %d: content title id %d out of range 1..%d", ci + 1,
                                (int)a->titles[k], w->T);
        return CL_OK;
    default:
        return cl_error(CL_EINVAL, "customer %d: unknown action kind %d", ci + 1, a->kind);
    }
}

void cl_synth_world_apply_action(const cl_synth_world *w, int ci, synth_state *st,
                        const cl_synth_action *a, int day)
{
    if (!a || a->kind == CL_SYNTH_NONE)
        return;
    st->act = (int8_t)a->kind;
    st->act_until = (int16_t)(day + ACTION_DAYS);
    st->act_disc = 0;
    st->act_boost = 0;
    if (a->kind == CL_SYNTH_DISCOUNT) {
        st->act_disc = (float)(a->discount / 100.0);
        st->act_until = (int16_t)(day + 30 * a->months);
    } else if (a->kind == CL_SYNTH_CONTENT) {
        /* a title helps by how much more of it the customer would watch than of a neutral
         * title (log appeal 0, quality 0.6), and disappoints when less: 3 (wt - wt0); a push
         * of more than 5 titles tires (0.04 per extra title) */
        const float *taste = w->taste + (size_t)ci * w->G;
        double b = 0, wt0 = watch_through(0, 0.6);
        for (int k = 0; k < a->ntitles; k++) {
            int ti = a->titles[k] - 1;
            double la = log(appeal_of(w, taste, w->t_genres[ti]));
            b += 3.0 * (watch_through(la, w->t_quality[ti]) - wt0);
        }
        b /= a->ntitles;
        if (a->ntitles > 5)
            b -= 0.04 * (a->ntitles - 5);
        st->act_boost = (float)b;
    }
}

double cl_synth_world_appeal(const cl_synth_world *w, int id, int tid)
{
    if (id < 1 || id > w->N || tid < 1 || tid > w->T)
        return NAN;
    return appeal_of(w, w->taste + (size_t)(id - 1) * w->G, w->t_genres[tid - 1]);
}
