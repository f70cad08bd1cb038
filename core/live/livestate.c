/* livestate.c - the live state (livestate.h): O(1) event updates into per-customer day rings,
 * feature reads relative to the clock, canonical snapshots. */
#include "live/livestate.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"
#include "frame/frame.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define RING CL_LIVE_RING
#define NONE CL_LIVE_NONE
#define DAY_LIMIT 10000000 /* |day| bound: keeps every day difference far from overflow */
#define SEEN_MIN 16
#define CHUNK 1024

typedef struct bucket {
    double minutes, comp;
    uint16_t watches, tickets, payfail, planch;
} bucket;

/* One customer. `head` is the latest day written into the ring: buckets of days
 * (head - RING, head] are valid, the others are stale and cleared when the ring reaches them. */
typedef struct cust {
    int32_t id, head, last_watch, signup, cancel, plan;
    double price, discount, rating_sum;
    uint32_t ratings_n, tickets_all, payfail_all, price_changes;
    uint64_t nev;                 /* events applied in this process (not in the image) */
    uint32_t seen_cap, seen_used; /* used counts dead entries until the next rebuild */
    int32_t *seen;                /* seen_cap pairs (key, last day); key 0 = empty. Titles are
                                   * keys > 0, main genre g is key -(g + 1) */
    bucket ring[RING];
} cust;

struct cl_livestate {
    int nplans;
    char *plans[CL_LIVE_MAX_PLANS];
    double prices[CL_LIVE_MAX_PLANS]; /* list prices: configured, else the first profile's */
    int32_t ntitles;
    int16_t *title_genre;
    int32_t max_user;
    int32_t now;
    int64_t nevents;
    int32_t *slot;     /* user id -> index into cust, -1; slot_cap entries */
    int32_t slot_cap;
    cust **chunk;      /* customers in chunks of CHUNK: they never move, and at most one
                        * partly used chunk is allocated beyond need */
    int32_t ncust, nchunk, chunk_cap;
    double gcomp[RING]; /* every customer's watches of days [now - RING, now): the fill value */
    int64_t gwatch[RING];
    double grating_sum;
    int64_t grating_n;
};

#define CUST(s, k) (&(s)->chunk[(k) / CHUNK][(k) % CHUNK])

static const char *const KIND_NAMES[CL_LIVE_NKINDS] = {
    NULL, "watch", "ticket", "payment_failed", "plan_change", "price_change", "cancel", "rating",
    "profile"};

const cl_live_feature cl_livestate_feature_defs[CL_LIVE_NFEATURES] = {
    {"tenure_days", "days since signup", 1},
    {"monthly_price", "list price of the current plan", 0},
    {"discount_pct", "discount running (from the profile)", 0},
    {"price_rise", "price-change notices received", 1},
    {"plan_changes_90", "plan changes in the last 90 days", 1},
    {"recency_days", "days since the last watch (now + 1 when none: as if on day -1)", 1},
    {"minutes_7", "minutes watched, last 7 days", 1},
    {"minutes_30", "minutes watched, last 30 days", 1},
    {"minutes_90", "minutes watched, last 90 days", 1},
    {"watches_7", "titles started, last 7 days", 1},
    {"watches_30", "titles started, last 30 days", 1},
    {"watches_90", "titles started, last 90 days", 1},
    {"active_days_7", "days with viewing, last 7", 1},
    {"active_days_30", "days with viewing, last 30", 1},
    {"active_days_90", "days with viewing, last 90", 1},
    {"active_share_30", "share of possible days with viewing, last 30", 0},
    {"active_share_90", "share of possible days with viewing, last 90", 0},
    {"minutes_trend", "slope of daily minutes per week over the last 12 weeks", 0},
    {"minutes_ratio_30_90",
     "minutes in the last 30 days relative to the monthly average of the last 90 days "
     "(minutes_30 / (minutes_90 / 3 + 1))",
     0},
    {"titles_90", "distinct titles, last 90 days", 1},
    {"genres_90", "distinct main genres, last 90 days", 1},
    {"completion_90", "mean completion, last 90 days (everyone's mean when none)", 0},
    {"rating_mean", "mean rating given (everyone's mean when none)", 0},
    {"ratings_n", "ratings given", 1},
    {"tickets_30", "support tickets, last 30 days", 1},
    {"tickets_180", "support tickets, all events in the state", 1},
    {"payment_failures_30", "payment failures, last 30 days", 1},
    {"payment_failures_90", "payment failures, last 90 days", 1},
    {"payment_failures_180", "payment failures, all events in the state", 1},
};

int cl_livestate_kind(const char *name)
{
    for (int k = 1; k < CL_LIVE_NKINDS; k++)
        if (name && strcmp(name, KIND_NAMES[k]) == 0)
            return k;
    return 0;
}

const char *cl_livestate_kind_name(int kind)
{
    return kind >= 1 && kind < CL_LIVE_NKINDS ? KIND_NAMES[kind] : NULL;
}

static int ring_index(int32_t day) { return (int)(((day % RING) + RING) % RING); }

/* ---- lifecycle ------------------------------------------------------------------------------ */

void cl_livestate_free(cl_livestate *s)
{
    if (!s)
        return;
    for (int i = 0; i < s->nplans; i++)
        cl_alloc_free(s->plans[i]);
    for (int32_t i = 0; i < s->ncust; i++)
        cl_alloc_free(CUST(s, i)->seen);
    for (int32_t i = 0; i < s->nchunk; i++)
        cl_alloc_free(s->chunk[i]);
    cl_alloc_free(s->chunk);
    cl_alloc_free(s->slot);
    cl_alloc_free(s->title_genre);
    cl_alloc_free(s);
}

int cl_livestate_new(cl_livestate **out, const cl_livestate_config *cfg)
{
    *out = NULL;
    if (!cfg || cfg->nplans < 1 || cfg->nplans > CL_LIVE_MAX_PLANS || !cfg->plans)
        return cl_error(CL_EINVAL, "live: plans: expected 1..%d plan names", CL_LIVE_MAX_PLANS);
    if (cfg->max_user < 1)
        return cl_error(CL_EINVAL, "live: max_user must be >= 1, got %d", (int)cfg->max_user);
    if (cfg->ntitles < 0 || (cfg->ntitles > 0 && !cfg->title_genre))
        return cl_error(CL_EINVAL, "live: titles: bad catalog");
    for (int i = 0; i < cfg->nplans; i++) {
        if (!cfg->plans[i] || !cfg->plans[i][0])
            return cl_error(CL_EINVAL, "live: plans[%d]: empty plan name", i + 1);
        for (int j = 0; j < i; j++)
            if (strcmp(cfg->plans[i], cfg->plans[j]) == 0)
                return cl_error(CL_EINVAL, "live: plans: '%s' given twice", cfg->plans[i]);
        if (cfg->prices && !(isnan(cfg->prices[i]) || (isfinite(cfg->prices[i]) && cfg->prices[i] >= 0)))
            return cl_error(CL_EINVAL, "live: prices[%d]: expected a number >= 0", i + 1);
    }
    for (int32_t t = 0; t < cfg->ntitles; t++)
        if (cfg->title_genre[t] < -1)
            return cl_error(CL_EINVAL, "live: titles: genre code of title %d is negative", t + 1);
    cl_livestate *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    s->now = NONE;
    s->max_user = cfg->max_user;
    s->nplans = cfg->nplans;
    for (int i = 0; i < cfg->nplans; i++) {
        s->prices[i] = cfg->prices ? cfg->prices[i] : NAN;
        if (!(s->plans[i] = cl_alloc_strdup(cfg->plans[i]))) {
            cl_livestate_free(s);
            return CL_ENOMEM;
        }
    }
    if (cfg->ntitles > 0) {
        s->title_genre = cl_alloc((size_t)cfg->ntitles * sizeof(int16_t));
        if (!s->title_genre) {
            cl_livestate_free(s);
            return CL_ENOMEM;
        }
        memcpy(s->title_genre, cfg->title_genre, (size_t)cfg->ntitles * sizeof(int16_t));
        s->ntitles = cfg->ntitles;
    }
    *out = s;
    return CL_OK;
}

int cl_livestate_plan(const cl_livestate *s, const char *name)
{
    for (int i = 0; i < s->nplans; i++)
        if (name && strcmp(name, s->plans[i]) == 0)
            return i;
    char known[CL_LIVE_MAX_PLANS * 24] = "";
    size_t n = 0;
    for (int i = 0; i < s->nplans && n + 24 < sizeof known; i++)
        n += (size_t)snprintf(known + n, sizeof known - n, "%s%.20s", i ? ", " : "", s->plans[i]);
    cl_error(CL_EINVAL, "unknown plan '%.40s' (plans: %s)", name ? name : "", known);
    return -1;
}

const char *cl_livestate_plan_name(const cl_livestate *s, int plan)
{
    return plan >= 0 && plan < s->nplans ? s->plans[plan] : NULL;
}

int32_t cl_livestate_now(const cl_livestate *s) { return s->now; }
int32_t cl_livestate_max_user(const cl_livestate *s) { return s->max_user; }
int64_t cl_livestate_events(const cl_livestate *s) { return s->nevents; }

static int32_t find(const cl_livestate *s, int32_t user)
{
    return user >= 0 && user < s->slot_cap ? s->slot[user] : -1;
}

int cl_livestate_known(const cl_livestate *s, int32_t user) { return find(s, user) >= 0; }

int cl_livestate_active(const cl_livestate *s, int32_t user)
{
    int32_t k = find(s, user);
    return k >= 0 && CUST(s, k)->signup != NONE && CUST(s, k)->cancel == NONE;
}

/* ---- the clock --------------------------------------------------------------------------- */

/* Moves the clock to `day` (> now): the global ring's days [old now, day) become fresh. */
static void clock_to(cl_livestate *s, int32_t day)
{
    if (s->now == NONE) {
        s->now = day;
        return;
    }
    int32_t from = s->now, to = day - from > RING ? from + RING : day;
    for (int32_t d = from; d < to; d++) {
        s->gcomp[ring_index(d)] = 0;
        s->gwatch[ring_index(d)] = 0;
    }
    s->now = day;
}

int cl_livestate_advance(cl_livestate *s, int32_t day)
{
    if (day < -DAY_LIMIT || day > DAY_LIMIT)
        return cl_error(CL_EINVAL, "live: advance: day %d out of range", (int)day);
    if (s->now == NONE || day > s->now)
        clock_to(s, day);
    return CL_OK;
}

/* ---- seen titles and genres -------------------------------------------------------------- */

static uint32_t hash_key(int32_t key) { return (uint32_t)key * 0x9E3779B1u; }

static int32_t *seen_find(int32_t *tab, uint32_t cap, int32_t key)
{
    uint32_t m = cap - 1, i = hash_key(key) & m;
    while (tab[2 * i] != 0 && tab[2 * i] != key)
        i = (i + 1) & m;
    return &tab[2 * i];
}

static int seen_has(const cust *c, int32_t key)
{
    return c->seen && seen_find(c->seen, c->seen_cap, key)[0] == key;
}

/* Makes room for `extra` new keys, dropping entries dead once the head is `head` (last day <=
 * head - RING). Allocates before touching c, so a failure leaves c as it was. */
static int seen_reserve(cust *c, uint32_t extra, int32_t head)
{
    if (c->seen && 4 * ((size_t)c->seen_used + extra) <= 3 * (size_t)c->seen_cap) /* load <= 3/4 */
        return CL_OK;
    uint32_t live = 0;
    for (uint32_t i = 0; c->seen && i < c->seen_cap; i++)
        live += c->seen[2 * i] != 0 && c->seen[2 * i + 1] > head - RING;
    uint32_t cap = SEEN_MIN;
    while (3 * (size_t)cap < 8 * ((size_t)live + extra)) /* load <= 3/8 after a rebuild */
        cap *= 2;
    int32_t *tab = cl_alloc_calloc((size_t)cap * 2, sizeof(int32_t));
    if (!tab)
        return CL_ENOMEM;
    for (uint32_t i = 0; c->seen && i < c->seen_cap; i++)
        if (c->seen[2 * i] != 0 && c->seen[2 * i + 1] > head - RING) {
            int32_t *e = seen_find(tab, cap, c->seen[2 * i]);
            e[0] = c->seen[2 * i];
            e[1] = c->seen[2 * i + 1];
        }
    cl_alloc_free(c->seen);
    c->seen = tab;
    c->seen_cap = cap;
    c->seen_used = live;
    return CL_OK;
}

static void seen_put(cust *c, int32_t key, int32_t day)
{
    int32_t *e = seen_find(c->seen, c->seen_cap, key);
    if (e[0] == 0) {
        e[0] = key;
        e[1] = day;
        c->seen_used++;
    } else if (day > e[1]) {
        e[1] = day;
    }
}

/* ---- events ------------------------------------------------------------------------------ */

static void cust_init(cust *c, int32_t id)
{
    memset(c, 0, sizeof *c);
    c->id = id;
    c->head = c->last_watch = c->signup = c->cancel = NONE;
    c->plan = -1;
    c->price = c->discount = NAN;
}

/* The bucket of `day` once the ring has moved to cover it (read-only: a day after the head
 * is an empty bucket). */
static const bucket *peek_bucket(const cust *c, int32_t day)
{
    static const bucket empty;
    if (c->head == NONE || day > c->head)
        return &empty;
    return &c->ring[ring_index(day)];
}

static bucket *touch_bucket(cust *c, int32_t day)
{
    if (c->head == NONE) {
        c->head = day;
    } else if (day > c->head) {
        int32_t to = day - c->head > RING ? c->head + RING : day;
        for (int32_t d = c->head + 1; d <= to; d++)
            memset(&c->ring[ring_index(d)], 0, sizeof(bucket));
        c->head = day;
    }
    return &c->ring[ring_index(day)];
}

static int windowed(int kind)
{
    return kind == CL_LIVE_WATCH || kind == CL_LIVE_TICKET || kind == CL_LIVE_PAYFAIL ||
           kind == CL_LIVE_PLAN;
}

/* Everything that can reject the event, against customer c (a blank one when new). */
static int validate(const cl_livestate *s, const cust *c, const cl_live_event *e)
{
    if (e->kind < 1 || e->kind >= CL_LIVE_NKINDS)
        return cl_error(CL_EINVAL, "field 'event': unknown event kind %d", (int)e->kind);
    if (e->day < -DAY_LIMIT || e->day > DAY_LIMIT)
        return cl_error(CL_EINVAL, "field 'day': %d is out of range (|day| <= %d)", (int)e->day,
                        DAY_LIMIT);
    if (windowed(e->kind) && c->head != NONE && e->day <= c->head - RING)
        return cl_error(CL_EINVAL,
                        "field 'day': day %d is %d or more days before this customer's latest "
                        "event (day %d): its window is gone",
                        (int)e->day, RING, (int)c->head);
    const bucket *b = peek_bucket(c, e->day);
    switch (e->kind) {
    case CL_LIVE_WATCH:
        if (e->title < 1 || (s->ntitles > 0 && e->title > s->ntitles))
            return s->ntitles > 0
                       ? cl_error(CL_EINVAL, "field 'title_id': %d is not in the catalog (1..%d)",
                                  (int)e->title, (int)s->ntitles)
                       : cl_error(CL_EINVAL, "field 'title_id': expected an id >= 1, got %d",
                                  (int)e->title);
        if (!isfinite(e->minutes) || e->minutes < 0)
            return cl_error(CL_EINVAL, "field 'minutes': expected a number >= 0, got %g",
                            e->minutes);
        if (!isfinite(e->completion) || e->completion < 0 || e->completion > 1)
            return cl_error(CL_EINVAL, "field 'completion': expected a number in [0, 1], got %g",
                            e->completion);
        if (b->watches == UINT16_MAX)
            return cl_error(CL_EINVAL, "field 'day': more than %d watches on day %d",
                            UINT16_MAX, (int)e->day);
        break;
    case CL_LIVE_TICKET:
        if (b->tickets == UINT16_MAX || c->tickets_all == UINT32_MAX)
            return cl_error(CL_EINVAL, "field 'day': too many tickets on day %d", (int)e->day);
        break;
    case CL_LIVE_PAYFAIL:
        if (b->payfail == UINT16_MAX || c->payfail_all == UINT32_MAX)
            return cl_error(CL_EINVAL, "field 'day': too many payment failures on day %d",
                            (int)e->day);
        break;
    case CL_LIVE_PLAN:
        if (e->plan < 0 || e->plan >= s->nplans)
            return cl_error(CL_EINVAL, "field 'detail': plan index %d out of range", (int)e->plan);
        if (b->planch == UINT16_MAX)
            return cl_error(CL_EINVAL, "field 'day': too many plan changes on day %d", (int)e->day);
        break;
    case CL_LIVE_PRICE:
        if (!isfinite(e->value) || e->value < 0)
            return cl_error(CL_EINVAL, "field 'detail': expected a price >= 0, got %g", e->value);
        if (c->price_changes == UINT32_MAX)
            return cl_error(CL_EINVAL, "field 'event': too many price changes");
        break;
    case CL_LIVE_RATING:
        if (!isfinite(e->value))
            return cl_error(CL_EINVAL, "field 'rating': expected a number, got %g", e->value);
        if (c->ratings_n == UINT32_MAX)
            return cl_error(CL_EINVAL, "field 'rating': too many ratings");
        break;
    case CL_LIVE_PROFILE:
        if (e->plan < 0 || e->plan >= s->nplans)
            return cl_error(CL_EINVAL, "field 'plan': plan index %d out of range", (int)e->plan);
        if (!isfinite(e->value) || e->value < 0)
            return cl_error(CL_EINVAL, "field 'monthly_price': expected a number >= 0, got %g",
                            e->value);
        if (!isfinite(e->value2) || e->value2 < 0 || e->value2 > 100)
            return cl_error(CL_EINVAL, "field 'discount_pct': expected a number in [0, 100], got %g",
                            e->value2);
        break;
    default:
        break;
    }
    return CL_OK;
}

/* Grows the id table and the customer array so `user` can be added (not observable). */
static int reserve_user(cl_livestate *s, int32_t user)
{
    if (user >= s->slot_cap) {
        int64_t cap = s->slot_cap ? s->slot_cap : 1024;
        while (cap <= user)
            cap *= 2;
        if (cap > (int64_t)s->max_user + 1)
            cap = (int64_t)s->max_user + 1;
        int32_t *t = cl_alloc_realloc(s->slot, (size_t)cap * sizeof(int32_t));
        if (!t)
            return CL_ENOMEM;
        for (int64_t i = s->slot_cap; i < cap; i++)
            t[i] = -1;
        s->slot = t;
        s->slot_cap = (int32_t)cap;
    }
    if (s->ncust == s->nchunk * CHUNK) {
        if (s->nchunk == s->chunk_cap) {
            int32_t cap = s->chunk_cap ? 2 * s->chunk_cap : 16;
            cust **t = cl_alloc_realloc(s->chunk, (size_t)cap * sizeof(cust *));
            if (!t)
                return CL_ENOMEM;
            s->chunk = t;
            s->chunk_cap = cap;
        }
        if (!(s->chunk[s->nchunk] = cl_alloc(CHUNK * sizeof(cust))))
            return CL_ENOMEM;
        s->nchunk++;
    }
    return CL_OK;
}

int cl_livestate_apply(cl_livestate *s, const cl_live_event *e)
{
    if (e->user < 1 || e->user > s->max_user)
        return cl_error(CL_EINVAL, "field 'user_id': expected an id in 1..%d, got %d",
                        (int)s->max_user, (int)e->user);
    int32_t k = find(s, e->user);
    cust blank_storage, *c;
    if (k >= 0) {
        c = CUST(s, k);
    } else {
        /* a blank customer to validate against; created only once nothing can fail */
        cust_init(&blank_storage, e->user);
        c = &blank_storage;
    }
    int rc = validate(s, c, e);
    if (rc)
        return rc;
    int16_t genre = -1;
    if (e->kind == CL_LIVE_WATCH) {
        if (s->ntitles > 0)
            genre = s->title_genre[e->title - 1];
        uint32_t extra = !seen_has(c, e->title) + (genre >= 0 && !seen_has(c, -(genre + 1)));
        int32_t head = c->head == NONE || e->day > c->head ? e->day : c->head;
        if ((rc = seen_reserve(c, extra, head)))
            return rc; /* c->seen is unchanged on failure; a blank customer owns nothing yet */
    }
    if (k < 0) {
        if ((rc = reserve_user(s, e->user))) {
            cl_alloc_free(blank_storage.seen);
            return rc;
        }
        k = s->ncust++;
        *CUST(s, k) = blank_storage;
        s->slot[e->user] = k;
        c = CUST(s, k);
    }

    /* nothing below can fail */
    if (s->now == NONE || e->day >= s->now)
        clock_to(s, e->day + 1);
    bucket *b = windowed(e->kind) ? touch_bucket(c, e->day) : NULL;
    switch (e->kind) {
    case CL_LIVE_WATCH:
        b->minutes += e->minutes;
        b->comp += e->completion;
        b->watches++;
        if (c->last_watch == NONE || e->day > c->last_watch)
            c->last_watch = e->day;
        seen_put(c, e->title, e->day);
        if (genre >= 0)
            seen_put(c, -(genre + 1), e->day);
        if (e->day >= s->now - RING) {
            s->gcomp[ring_index(e->day)] += e->completion;
            s->gwatch[ring_index(e->day)]++;
        }
        break;
    case CL_LIVE_TICKET:
        b->tickets++;
        c->tickets_all++;
        break;
    case CL_LIVE_PAYFAIL:
        b->payfail++;
        c->payfail_all++;
        break;
    case CL_LIVE_PLAN:
        b->planch++;
        c->plan = e->plan;
        c->price = s->prices[e->plan];
        break;
    case CL_LIVE_PRICE:
        /* the customer's price only: a notice does not say which plan it was for (a profile
         * taken later may show another plan), so the list prices are not inferred from it */
        c->price = e->value;
        c->price_changes++;
        break;
    case CL_LIVE_CANCEL:
        if (c->cancel == NONE)
            c->cancel = e->day;
        break;
    case CL_LIVE_RATING:
        c->rating_sum += e->value;
        c->ratings_n++;
        s->grating_sum += e->value;
        s->grating_n++;
        break;
    case CL_LIVE_PROFILE:
        c->signup = e->day;
        c->plan = e->plan;
        c->price = e->value;
        c->discount = e->value2;
        c->cancel = NONE; /* a new profile is a (re)subscription */
        if (isnan(s->prices[e->plan]))
            s->prices[e->plan] = e->value;
        break;
    default:
        break;
    }
    c->nev++;
    s->nevents++;
    return CL_OK;
}

int64_t cl_livestate_user_events(const cl_livestate *s, int32_t user)
{
    int32_t k = find(s, user);
    return k >= 0 ? (int64_t)CUST(s, k)->nev : 0;
}

int32_t cl_livestate_last_watch(const cl_livestate *s, int32_t user)
{
    int32_t k = find(s, user);
    return k >= 0 ? CUST(s, k)->last_watch : NONE;
}

int cl_livestate_titles(const cl_livestate *s, int32_t user, int32_t *titles, int32_t *days,
                        int cap, int *n)
{
    *n = 0;
    int32_t k = find(s, user);
    if (k < 0)
        return cl_error(CL_ERANGE, "live: customer %d was never seen", (int)user);
    const cust *c = CUST(s, k);
    int32_t from = s->now == NONE ? INT32_MIN : s->now - RING;
    int m = 0;
    for (uint32_t j = 0; j < c->seen_cap; j++) {
        int32_t key = c->seen[2 * j], day = c->seen[2 * j + 1];
        if (key <= 0 || day < from)
            continue; /* empty, a genre, or out of the window */
        /* insertion into the sorted prefix: latest day first, then the lower title id */
        int pos = m < cap ? m : cap;
        while (pos > 0 && (days[pos - 1] < day || (days[pos - 1] == day && titles[pos - 1] > key)))
            pos--;
        if (pos >= cap)
            continue;
        int last = m < cap ? m : cap - 1;
        for (int q = last; q > pos; q--) {
            titles[q] = titles[q - 1];
            days[q] = days[q - 1];
        }
        titles[pos] = key;
        days[pos] = day;
        if (m < cap)
            m++;
    }
    *n = m;
    return CL_OK;
}

/* ---- features ---------------------------------------------------------------------------- */

typedef struct wsum {
    double minutes, comp;
    int64_t watches, active, tickets, payfail, planch;
} wsum;

/* The sums of the 7-, 30- and 90-day windows (the buckets of days [now - w, now) that the
 * ring still holds) and the trend's (days [now - 84, now)), in one pass over the ring: each
 * sum adds the same days in the same increasing order as a pass of its own did, so the same
 * doubles (four passes were most of a feature read, which the monitor makes for every
 * customer and every answer once). */
typedef struct wsums {
    wsum w7, w30, w90;
    double sxy, sy;
} wsums;

static void windows(const cust *c, int32_t now, wsums *o)
{
    memset(o, 0, sizeof *o);
    if (c->head == NONE)
        return;
    int32_t lo = now - 90, hi = now - 1;
    if (lo < c->head - RING + 1)
        lo = c->head - RING + 1;
    if (hi > c->head)
        hi = c->head;
    const int32_t from30 = now - 30, from7 = now - 7, from84 = now - 84;
    for (int32_t d = lo; d <= hi; d++) {
        const bucket *b = &c->ring[ring_index(d)];
        wsum *w = &o->w90;
        for (int k = 0; k < 3; k++) {
            w->minutes += b->minutes;
            w->comp += b->comp;
            w->watches += b->watches;
            w->active += b->watches > 0;
            w->tickets += b->tickets;
            w->payfail += b->payfail;
            w->planch += b->planch;
            if (k == 0 && d >= from30)
                w = &o->w30;
            else if (k == 1 && d >= from7)
                w = &o->w7;
            else
                break;
        }
        if (d >= from84) {
            /* trend: least-squares slope of daily minutes against the week index x = 0..11
             * of the last 84 days, empty weeks as zero (below) */
            o->sxy += (double)((d - from84) / 7) * b->minutes;
            o->sy += b->minutes;
        }
    }
}

int cl_livestate_features(const cl_livestate *s, int32_t user, double *out, int *plan)
{
    int32_t k = find(s, user);
    if (k < 0)
        return cl_error(CL_ERANGE, "live: customer %d has no events", (int)user);
    const cust *c = CUST(s, k);
    const int32_t now = s->now;
    wsums ws;
    windows(c, now, &ws);
    const wsum w7 = ws.w7, w30 = ws.w30, w90 = ws.w90;
    double tenure = c->signup == NONE ? NAN : (double)now - (double)c->signup;
    /* the trend's slope: (sum x*y - mean(x) * sum y) / Sxx with Sxx = 143 * 7 */
    const double sxy = ws.sxy, sy = ws.sy;

    /* the completion of everybody's watches: read only for a customer without any */
    double gcomp = 0;
    int64_t gn = 0;
    if (w90.watches == 0)
        for (int i = 0; i < RING; i++) {
            gcomp += s->gcomp[i];
            gn += s->gwatch[i];
        }
    int64_t titles = 0, genres = 0;
    for (uint32_t i = 0; c->seen && i < c->seen_cap; i++) {
        int32_t key = c->seen[2 * i];
        if (key != 0 && c->seen[2 * i + 1] >= now - 90)
            key > 0 ? titles++ : genres++;
    }

    double *o = out;
    *o++ = tenure;
    *o++ = c->price;
    *o++ = c->discount;
    *o++ = (double)c->price_changes;
    *o++ = (double)w90.planch;
    *o++ = (double)now - (c->last_watch == NONE ? -1.0 : (double)c->last_watch);
    *o++ = w7.minutes;
    *o++ = w30.minutes;
    *o++ = w90.minutes;
    *o++ = (double)w7.watches;
    *o++ = (double)w30.watches;
    *o++ = (double)w90.watches;
    *o++ = (double)w7.active;
    *o++ = (double)w30.active;
    *o++ = (double)w90.active;
    *o++ = (double)w30.active / fmin(30.0, tenure);
    *o++ = (double)w90.active / fmin(90.0, tenure);
    *o++ = (sxy - sy * 5.5) / (143.0 * 7.0);
    *o++ = w30.minutes / (w90.minutes / 3.0 + 1.0);
    *o++ = (double)titles;
    *o++ = s->ntitles > 0 ? (double)genres : NAN;
    *o++ = w90.watches > 0 ? w90.comp / (double)w90.watches : gn > 0 ? gcomp / (double)gn : NAN;
    *o++ = c->ratings_n > 0 ? c->rating_sum / (double)c->ratings_n
           : s->grating_n > 0 ? s->grating_sum / (double)s->grating_n
                              : NAN;
    *o++ = (double)c->ratings_n;
    *o++ = (double)w30.tickets;
    *o++ = (double)c->tickets_all;
    *o++ = (double)w30.payfail;
    *o++ = (double)w90.payfail;
    *o++ = (double)c->payfail_all;
    CL_ASSERT(o - out == CL_LIVE_NFEATURES);
    if (plan)
        *plan = c->plan;
    return CL_OK;
}

int cl_livestate_active_ids(const cl_livestate *s, int32_t **out, int64_t *n)
{
    *out = NULL;
    *n = 0;
    int64_t m = 0;
    for (int32_t k = 0; k < s->ncust; k++)
        m += CUST(s, k)->signup != NONE && CUST(s, k)->cancel == NONE;
    int32_t *ids = cl_alloc((size_t)(m ? m : 1) * sizeof(int32_t));
    if (!ids)
        return CL_ENOMEM;
    int64_t j = 0;
    for (int32_t u = 0; u < s->slot_cap; u++)
        if (s->slot[u] >= 0 && cl_livestate_active(s, u))
            ids[j++] = u;
    *out = ids;
    *n = j;
    return CL_OK;
}

size_t cl_livestate_bytes(const cl_livestate *s)
{
    size_t b = sizeof *s + (size_t)s->slot_cap * sizeof(int32_t) +
               (size_t)s->nchunk * CHUNK * sizeof(cust) + (size_t)s->chunk_cap * sizeof(cust *) +
               (size_t)s->ntitles * sizeof(int16_t);
    for (int32_t k = 0; k < s->ncust; k++)
        b += (size_t)CUST(s, k)->seen_cap * 2 * sizeof(int32_t);
    return b;
}

/* ---- snapshots: explicit little-endian, canonical order, CRC-32 trailer -------------------- */

#define MAGIC "CLLIVE\0\1"
#define IMG_VERSION 1u

typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    int err;
} wbuf;

static void put(wbuf *b, const void *src, size_t len)
{
    if (b->err)
        return;
    if (b->n + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->n + len)
            cap *= 2;
        uint8_t *t = cl_alloc_realloc(b->p, cap);
        if (!t) {
            b->err = CL_ENOMEM;
            return;
        }
        b->p = t;
        b->cap = cap;
    }
    memcpy(b->p + b->n, src, len);
    b->n += len;
}

static void put_u64(wbuf *b, uint64_t v)
{
    uint8_t x[8];
    for (int i = 0; i < 8; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 8);
}
static void put_u32(wbuf *b, uint32_t v)
{
    uint8_t x[4];
    for (int i = 0; i < 4; i++)
        x[i] = (uint8_t)(v >> (8 * i));
    put(b, x, 4);
}
static void put_i32(wbuf *b, int32_t v) { put_u32(b, (uint32_t)v); }
static void put_f64(wbuf *b, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    put_u64(b, u);
}

static int cmp_pair(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int cl_livestate_serialize(const cl_livestate *s, int64_t tag, uint8_t **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    wbuf b = {NULL, 0, 0, 0};
    int32_t *pairs = NULL;
    put(&b, MAGIC, 8);
    put_u32(&b, IMG_VERSION);
    put_u64(&b, (uint64_t)tag);
    put_u32(&b, RING);
    put_u32(&b, (uint32_t)s->nplans);
    for (int i = 0; i < s->nplans; i++) {
        uint32_t n = (uint32_t)strlen(s->plans[i]);
        put_u32(&b, n);
        put(&b, s->plans[i], n);
        put_f64(&b, s->prices[i]);
    }
    put_i32(&b, s->ntitles);
    for (int32_t t = 0; t < s->ntitles; t++)
        put_i32(&b, s->title_genre[t]);
    put_i32(&b, s->max_user);
    put_i32(&b, s->now);
    put_u64(&b, (uint64_t)s->nevents);
    if (s->now != NONE)
        for (int32_t d = s->now - RING; d < s->now; d++) {
            put_f64(&b, s->gcomp[ring_index(d)]);
            put_u64(&b, (uint64_t)s->gwatch[ring_index(d)]);
        }
    put_f64(&b, s->grating_sum);
    put_u64(&b, (uint64_t)s->grating_n);
    put_u32(&b, (uint32_t)s->ncust);
    uint32_t pcap = 0;
    for (int32_t u = 0; u < s->slot_cap && !b.err; u++) {
        if (s->slot[u] < 0)
            continue;
        const cust *c = CUST(s, s->slot[u]);
        put_i32(&b, c->id);
        put_i32(&b, c->head);
        put_i32(&b, c->last_watch);
        put_i32(&b, c->signup);
        put_i32(&b, c->cancel);
        put_i32(&b, c->plan);
        put_f64(&b, c->price);
        put_f64(&b, c->discount);
        put_f64(&b, c->rating_sum);
        put_u32(&b, c->ratings_n);
        put_u32(&b, c->tickets_all);
        put_u32(&b, c->payfail_all);
        put_u32(&b, c->price_changes);
        if (c->head != NONE)
            for (int32_t d = c->head - RING + 1; d <= c->head; d++) {
                const bucket *k = &c->ring[ring_index(d)];
                put_f64(&b, k->minutes);
                put_f64(&b, k->comp);
                put_u32(&b, (uint32_t)k->watches | (uint32_t)k->tickets << 16);
                put_u32(&b, (uint32_t)k->payfail | (uint32_t)k->planch << 16);
            }
        /* live seen entries, sorted by key */
        uint32_t n = 0;
        if (c->seen_cap > pcap) {
            cl_alloc_free(pairs);
            pcap = c->seen_cap;
            if (!(pairs = cl_alloc((size_t)pcap * 2 * sizeof(int32_t)))) {
                b.err = CL_ENOMEM;
                break;
            }
        }
        for (uint32_t i = 0; i < c->seen_cap; i++)
            if (c->seen[2 * i] != 0 && c->seen[2 * i + 1] > c->head - RING) {
                pairs[2 * n] = c->seen[2 * i];
                pairs[2 * n + 1] = c->seen[2 * i + 1];
                n++;
            }
        if (n)
            qsort(pairs, n, 2 * sizeof(int32_t), cmp_pair);
        put_u32(&b, n);
        for (uint32_t i = 0; i < 2 * n; i++)
            put_i32(&b, pairs[i]);
    }
    cl_alloc_free(pairs);
    if (!b.err)
        put_u32(&b, cl_fileio_crc32(0, b.p, b.n));
    if (b.err) {
        cl_alloc_free(b.p);
        return cl_error(CL_ENOMEM, "live: out of memory writing a snapshot");
    }
    *out = b.p;
    *len = b.n;
    return CL_OK;
}

typedef struct rbuf {
    const uint8_t *p;
    size_t n, at;
    int bad;
} rbuf;

static const uint8_t *take(rbuf *r, size_t len)
{
    if (r->bad || r->n - r->at < len) {
        r->bad = 1;
        return NULL;
    }
    const uint8_t *q = r->p + r->at;
    r->at += len;
    return q;
}
static uint64_t get_u64(rbuf *r)
{
    const uint8_t *q = take(r, 8);
    uint64_t v = 0;
    for (int i = 0; q && i < 8; i++)
        v |= (uint64_t)q[i] << (8 * i);
    return v;
}
static uint32_t get_u32(rbuf *r)
{
    const uint8_t *q = take(r, 4);
    uint32_t v = 0;
    for (int i = 0; q && i < 4; i++)
        v |= (uint32_t)q[i] << (8 * i);
    return v;
}
static int32_t get_i32(rbuf *r) { return (int32_t)get_u32(r); }
static double get_f64(rbuf *r)
{
    uint64_t u = get_u64(r);
    double v;
    memcpy(&v, &u, 8);
    return v;
}

static int bad_image(cl_livestate *s, const char *what)
{
    cl_livestate_free(s);
    return cl_error(CL_EFORMAT, "live: corrupted snapshot: %s", what);
}

static int day_ok(int32_t d) { return d == NONE || (d >= -DAY_LIMIT && d <= DAY_LIMIT); }

int cl_livestate_restore(cl_livestate **out, const uint8_t *img, size_t len, int64_t *tag)
{
    *out = NULL;
    if (len < 16 || memcmp(img, MAGIC, 8) != 0)
        return cl_error(CL_EFORMAT, "live: not a live-state snapshot");
    const uint8_t *c4 = img + len - 4;
    uint32_t crc = (uint32_t)c4[0] | (uint32_t)c4[1] << 8 | (uint32_t)c4[2] << 16 |
                   (uint32_t)c4[3] << 24;
    if (crc != cl_fileio_crc32(0, img, len - 4))
        return cl_error(CL_EFORMAT, "live: corrupted snapshot: CRC mismatch");
    rbuf r = {img, len - 4, 8, 0};
    uint32_t ver = get_u32(&r);
    if (ver != IMG_VERSION)
        return cl_error(CL_ENOTSUP, "live: snapshot version %u is not supported (this build: %u)",
                        ver, IMG_VERSION);
    int64_t t = (int64_t)get_u64(&r);
    if (get_u32(&r) != RING)
        return cl_error(CL_EFORMAT, "live: snapshot made with another ring length");
    uint32_t np = get_u32(&r);
    if (r.bad || np < 1 || np > CL_LIVE_MAX_PLANS)
        return cl_error(CL_EFORMAT, "live: corrupted snapshot: plan count");
    char names[CL_LIVE_MAX_PLANS][64];
    const char *pn[CL_LIVE_MAX_PLANS];
    double prices[CL_LIVE_MAX_PLANS];
    for (uint32_t i = 0; i < np; i++) {
        uint32_t n = get_u32(&r);
        const uint8_t *q = n < 64 ? take(&r, n) : NULL;
        if (!q)
            return cl_error(CL_EFORMAT, "live: corrupted snapshot: plan name");
        memcpy(names[i], q, n);
        names[i][n] = 0;
        pn[i] = names[i];
        prices[i] = get_f64(&r);
    }
    int32_t nt = get_i32(&r);
    if (r.bad || nt < 0 || (size_t)nt > (r.n - r.at) / 4)
        return cl_error(CL_EFORMAT, "live: corrupted snapshot: catalog size");
    int16_t *tg = NULL;
    if (nt > 0) {
        if (!(tg = cl_alloc((size_t)nt * sizeof(int16_t))))
            return CL_ENOMEM;
        for (int32_t i = 0; i < nt; i++) {
            int32_t g = get_i32(&r);
            if (g < -1 || g > INT16_MAX) {
                cl_alloc_free(tg);
                return cl_error(CL_EFORMAT, "live: corrupted snapshot: genre code");
            }
            tg[i] = (int16_t)g;
        }
    }
    cl_livestate_config cfg = {(int)np, pn, prices, nt, tg, get_i32(&r)};
    cl_livestate *s = NULL;
    int rc = r.bad ? cl_error(CL_EFORMAT, "live: corrupted snapshot: header")
                   : cl_livestate_new(&s, &cfg);
    cl_alloc_free(tg);
    if (rc)
        return rc == CL_EINVAL ? cl_error_wrap(CL_EFORMAT, "live: corrupted snapshot") : rc;
    s->now = get_i32(&r);
    s->nevents = (int64_t)get_u64(&r);
    if (!day_ok(s->now) || s->nevents < 0)
        return bad_image(s, "clock");
    if (s->now != NONE)
        for (int32_t d = s->now - RING; d < s->now; d++) {
            s->gcomp[ring_index(d)] = get_f64(&r);
            s->gwatch[ring_index(d)] = (int64_t)get_u64(&r);
        }
    s->grating_sum = get_f64(&r);
    s->grating_n = (int64_t)get_u64(&r);
    uint32_t nc = get_u32(&r);
    if (r.bad || nc > (r.n - r.at) / 64)
        return bad_image(s, "customer count");
    int32_t prev = 0;
    for (uint32_t i = 0; i < nc; i++) {
        cust c;
        cust_init(&c, get_i32(&r));
        if (r.bad || c.id <= prev || c.id > s->max_user)
            return bad_image(s, "customer id");
        prev = c.id;
        c.head = get_i32(&r);
        c.last_watch = get_i32(&r);
        c.signup = get_i32(&r);
        c.cancel = get_i32(&r);
        c.plan = get_i32(&r);
        c.price = get_f64(&r);
        c.discount = get_f64(&r);
        c.rating_sum = get_f64(&r);
        c.ratings_n = get_u32(&r);
        c.tickets_all = get_u32(&r);
        c.payfail_all = get_u32(&r);
        c.price_changes = get_u32(&r);
        if (r.bad || !day_ok(c.head) || !day_ok(c.last_watch) || !day_ok(c.signup) ||
            !day_ok(c.cancel) || c.plan < -1 || c.plan >= s->nplans)
            return bad_image(s, "customer record");
        if (c.head != NONE)
            for (int32_t d = c.head - RING + 1; d <= c.head; d++) {
                bucket *k = &c.ring[ring_index(d)];
                k->minutes = get_f64(&r);
                k->comp = get_f64(&r);
                uint32_t a = get_u32(&r), b2 = get_u32(&r);
                k->watches = (uint16_t)a;
                k->tickets = (uint16_t)(a >> 16);
                k->payfail = (uint16_t)b2;
                k->planch = (uint16_t)(b2 >> 16);
            }
        uint32_t n = get_u32(&r);
        if (r.bad || n > (r.n - r.at) / 8 || (n > 0 && c.head == NONE))
            return bad_image(s, "seen titles");
        if ((rc = reserve_user(s, c.id))) {
            cl_livestate_free(s);
            return rc;
        }
        if (n > 0) {
            if (seen_reserve(&c, n, c.head)) {
                cl_livestate_free(s);
                return CL_ENOMEM;
            }
            for (uint32_t j = 0; j < n; j++) {
                int32_t key = get_i32(&r), last = get_i32(&r);
                if (key == 0 || last <= c.head - RING || last > c.head ||
                    (key > 0 && s->ntitles > 0 && key > s->ntitles) ||
                    (key < 0 && (s->ntitles == 0 || -(key + 1) > INT16_MAX)) || seen_has(&c, key)) {
                    cl_alloc_free(c.seen);
                    return bad_image(s, "seen entry");
                }
                seen_put(&c, key, last);
            }
        }
        int32_t k = s->ncust++;
        *CUST(s, k) = c;
        s->slot[c.id] = k;
    }
    if (r.bad || r.at != r.n)
        return bad_image(s, r.bad ? "truncated" : "trailing bytes");
    *out = s;
    if (tag)
        *tag = t;
    return CL_OK;
}

/* ---- the feature frame ---------------------------------------------------------------- */

int cl_livestate_frame(const cl_livestate *s, const int32_t *ids, int64_t n, cl_frame **out)
{
    *out = NULL;
    int32_t *own = NULL;
    int rc = CL_OK;
    if (!ids) {
        if ((rc = cl_livestate_active_ids(s, &own, &n)))
            return rc;
        ids = own;
    }
    enum { NC = CL_LIVE_NFEATURES + 2 };
    cl_frame *f = NULL;
    cl_column *cols[NC] = {NULL};
    rc = cl_frame_new(&f);
    for (int j = 0; rc == CL_OK && j < NC; j++)
        rc = j == 1 ? cl_frame_column_new_cat(&cols[j], n, NULL) : cl_frame_column_new_num(&cols[j], CL_NUM, n);
    int np = 0;
    int32_t code[CL_LIVE_MAX_PLANS];
    for (; rc == CL_OK && np < s->nplans; np++) {
        const char *pn = cl_livestate_plan_name(s, np);
        rc = cl_frame_dict_intern(cols[1]->dict, pn, strlen(pn), &code[np]);
    }
    double v[CL_LIVE_NFEATURES];
    for (int64_t i = 0; rc == CL_OK && i < n; i++) {
        int plan = -1;
        cols[0]->num[i] = ids[i];
        if (ids[i] >= 1 && cl_livestate_known(s, ids[i])) {
            rc = cl_livestate_features(s, ids[i], v, &plan);
        } else {
            for (int j = 0; j < CL_LIVE_NFEATURES; j++)
                v[j] = NAN;
        }
        cols[1]->codes[i] = plan >= 0 && plan < np ? code[plan] : -1;
        for (int j = 0; j < CL_LIVE_NFEATURES; j++)
            cols[j + 2]->num[i] = v[j];
    }
    for (int j = 0; rc == CL_OK && j < NC; j++)
        rc = cl_frame_set(f, j == 0 ? "user_id" : j == 1 ? "plan" : cl_livestate_feature_defs[j - 2].name,
                          cols[j]);
    for (int j = 0; j < NC; j++)
        cl_frame_column_free(cols[j]);
    cl_alloc_free(own);
    if (rc) {
        cl_frame_free(f);
        return rc;
    }
    *out = f;
    return CL_OK;
}
