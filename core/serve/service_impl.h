/* service_impl.h - what service.c (lifecycle, monitor) and service_api.c (requests) share. */
#ifndef CL_SERVICE_IMPL_H
#define CL_SERVICE_IMPL_H

#include <jansson.h>
#include <stdatomic.h>
#include <sys/stat.h>

#include "live/livescore.h"
#include "models/model.h"
#include "serve/service.h"

#define SVC_REASONS 5    /* reasons kept per customer */
#define SVC_RECS 10      /* recommendations kept per customer (more: /api/recommend) */
#define SVC_MAX_ACTIONS 8
#define SVC_HIST 64      /* risk history points per customer (one per day) */
#define SVC_TREND 240    /* monitor trend points */
#define SVC_TOP 200      /* riskiest customers in the monitor */
#define SVC_MOVERS 10
#define SVC_BINS 20      /* risk histogram */
#define SVC_STRIPES 64   /* cache locks */
#define SVC_NROUTES 12
#define SVC_KEY_MAX 128  /* model features an answer's row key holds (more: never reused) */

/* A loaded model with its scorer; readers hold a reference while they use it. */
typedef struct svc_model {
    cl_model *m;
    cl_livescore *sc;
    int64_t version;
    double loaded_at;
    atomic_int refs;
} svc_model;

typedef struct svc_reason {
    char feature[64], column[48], label[48]; /* label: the category of a one-hot feature */
    double value, contrib;
    int index; /* the model feature */
    int no_watch; /* column is recency_days and the customer never watched: value is the
                   * feature's stand-in (now + 1), which the words do not show as days */
} svc_reason;

/* One customer's answer, valid while (nev, now, model) are unchanged. Its risk and reasons'
 * contributions stay valid while (model, key) are: key is the row key of the model input
 * row they came from (livescore.h; nkey 0: none), so a later answer of the same customer
 * whose row has the same key takes them instead of scoring and explaining again. */
typedef struct svc_answer {
    int64_t nev, model;
    int32_t now;
    int valid;
    double risk, price, tenure, issues;
    int plan;
    int active;
    int nreasons;
    svc_reason reasons[SVC_REASONS];
    int nrecs, fallback;
    int32_t rec_title[SVC_RECS];
    float rec_score[SVC_RECS];
    double net[SVC_MAX_ACTIONS], cost[SVC_MAX_ACTIONS];
    double feat[CL_LIVE_NFEATURES];
    int best;
    uint64_t rec_key; /* hash of the history the recommendations were folded in from */
    int nkey;
    uint32_t key[SVC_KEY_MAX];
} svc_answer;

/* One slot of the answer cache (service.c): the answer and its serialised text of `owner`
 * (0: free), read and written under the owner's stripe lock; `ref` is the clock's bit. */
typedef struct svc_slot {
    int32_t owner;
    atomic_uchar ref;
    svc_answer a;
    char *json; /* GET /api/customers/:id serialised, valid while its keys are */
    size_t json_len;
    int64_t json_nev, json_model;
    int32_t json_now;
    uint32_t json_hist;
} svc_slot;

/* One row of the monitor's ranking: every active customer at the last refresh, riskiest
 * first (ties by id), what /api/customers lists (consistent with /api/monitor's top). */
typedef struct svc_rank {
    int32_t user, plan;
    double risk;
} svc_rank;

typedef struct svc_trend {
    int32_t day, active;
    double t, mean, churners, revenue, p50, p90;
} svc_trend;

/* Per-customer service data, in chunks of SVC_CHUNK customers allocated when first touched
 * (live states take ids up to 16M by default; the service's memory follows the ids in use). */
#define SVC_CHUNK 1024
typedef struct svc_user {
    int32_t slot1;       /* 1 + its slot of the answer cache, 0: none (under its stripe) */
    float calib_p;       /* prediction at calib_day, NaN = not active then */
    uint8_t hist_n;
    int32_t hist_day[SVC_HIST];
    float hist_risk[SVC_HIST]; /* risk history: one point per day, oldest first */
    uint32_t hist_gen;   /* bumped by every change of the history (under hist_mu) */
} svc_user;

struct cl_service {
    cl_service_config cfg;
    cl_service_action acts[SVC_MAX_ACTIONS];
    int nacts;
    int32_t max_user;
    int i_price, i_tenure, i_tick, i_pay; /* feature indices the answers read (-1: absent) */

    pthread_mutex_t model_mu;
    svc_model *model;
    int64_t model_versions;

    /* the published aggregates */
    pthread_mutex_t mon_mu;
    pthread_cond_t mon_cv;
    char *mon_json;
    size_t mon_len;
    int64_t mon_version;
    int waking;
    svc_rank *rank;      /* the ranking published with mon_json (under mon_mu) */
    int64_t nrank;
    int32_t rank_day;

    /* what the last refresh saw (only the refreshing thread touches these) */
    pthread_mutex_t refresh_mu;
    int64_t seen_events, seen_model;
    int32_t seen_now;
    svc_trend trend[SVC_TREND];
    int ntrend;
    double rate_t, rate_events, events_per_s;
    int32_t calib_day;   /* day the calibration's predictions were taken (CL_LIVE_NONE: not yet) */

    /* per-customer data: hist_mu guards the histories, the stripes the cached answers */
    pthread_mutex_t hist_mu, chunk_mu;
    pthread_mutex_t stripe[SVC_STRIPES];
    svc_user *_Atomic *chunks; /* [max_user / SVC_CHUNK + 1] */
    int32_t nchunks;
    /* the answer cache: nslots slots, taken in clock order under slot_mu (before any stripe) */
    pthread_mutex_t slot_mu;
    svc_slot *slots;
    int32_t nslots, hand;
    atomic_llong slot_text_bytes;

    /* recommender: item index <-> title id */
    int32_t *item_title;  /* [n_items] */
    int32_t *title_item;  /* [ntitles + 1], -1 */
    int64_t n_items;

    /* drift reference: sorted values of each live feature found in cfg.reference */
    double *ref_vals[CL_LIVE_NFEATURES];
    int64_t ref_n[CL_LIVE_NFEATURES];

    /* the durable risk histories (history.c; NULL: memory only) */
    struct sqlite3 *hdb;
    int32_t hdb_pruned;

    /* the model file as last seen (cl_service_watch_model) */
    pthread_mutex_t watch_mu;
    int watch_known;
    struct stat watch_st;

    /* accounting */
    atomic_llong req_count[SVC_NROUTES][6]; /* by status class 1xx..5xx, [0] = all */
    atomic_llong lat_bucket[SVC_NROUTES][12];
    _Atomic double lat_sum[SVC_NROUTES];
    atomic_llong events_accepted, events_rejected, reloads;
    /* answers: scored and explained, risk and reasons reused by key, the customer's text
     * served from the cache, built */
    atomic_llong ans_scored, ans_reused, text_hits, text_built;
    /* monitor refreshes that computed (the refreshing thread writes, /metrics reads): count,
     * and each one's longest stretch under the state's read lock (the snapshot or one row's
     * answer: an ingest waits that long for its write lock at most) summed and the longest */
    atomic_llong refreshes;
    _Atomic double refresh_locked_sum, refresh_locked_max;
    double started;
    struct cl_experiment *_Atomic experiment; /* borrowed, NULL: none (exper, service.c end) */
};

double cl_service_now(void);
/* Adds (or updates today's) point of user's risk history; 1 when it changed. Caller holds
 * hist_mu. */
int cl_service_hist_record(cl_service *svc, int32_t user, int32_t day, double risk);
/* history.c: opens cfg.history_path (created when missing) and loads its points. */
int cl_history_open(cl_service *svc);
/* Writes day's risks of the users flagged in changed[] (one transaction) and drops points
 * older than any history keeps. */
int cl_history_commit(cl_service *svc, const int32_t *users, const double *risk, const uint8_t *changed,
                  int64_t n, int32_t day);
void cl_history_close(cl_service *svc);
/* The data of customer u (1 <= u <= max_user); NULL when not allocated yet and !create, or
 * out of memory. */
svc_user *cl_service_user_of(cl_service *svc, int32_t u, int create);
svc_model *cl_service_model_get(cl_service *svc);
void cl_service_model_put(svc_model *m);
int cl_service_model_load(cl_service *svc, const char *path);

/* The answer for `user` (cached), computed under the state's read lock held by the caller.
 * CL_ERANGE when the state never saw the user. */
int cl_service_answer_of(cl_service *svc, svc_model *m, int32_t user, svc_answer *out);
/* Words for a live or profile column ("Minutes watched, last 30 days"). */
/* The recommender's item indices of `user`'s recent titles, sorted (what fold-in takes);
 * *n of at most cap. Caller holds the state's read lock. */
void cl_service_history_items(cl_service *svc, int32_t user, int32_t *items, int cap, int *n);
void cl_service_column_label(const char *column, char *out, size_t cap);
void cl_service_reason_text(const svc_reason *r, char *out, size_t cap);

json_t *cl_service_jnum(double v);
json_t *cl_service_answer_json(cl_service *svc, int32_t user, const svc_answer *a, int full);
/* GET /api/customers/:id as JSON text in *out (cl_alloc'd, *len bytes), from the serialised
 * cache when the customer's events, the clock, the model and the history are unchanged.
 * Takes the state's read lock itself. CL_ERANGE for an unknown customer. */
int cl_service_customer_text(cl_service *svc, svc_model *m, int32_t user, char **out, size_t *len);
/* answer_text.c: the text of json_dumps(cl_service_answer_json(svc, user, a, 1), JSON_COMPACT |
 * JSON_REAL_PRECISION(15)), byte for byte, written directly (cl_alloc'd into *out, *len
 * bytes). CL_EINVAL when a string is not valid UTF-8 (the tree drops such a key: the caller
 * then dumps the tree), CL_ENOMEM. */
int cl_answer_text(cl_service *svc, int32_t user, const svc_answer *a, char **out, size_t *len);
json_t *cl_service_model_json(cl_service *svc, const svc_model *m);
void cl_service_recs_json(cl_service *svc, json_t *arr, const int32_t *titles, const float *scores, int n);

/* The rows of the published ranking (the last refresh; one runs first when none was
 * published) with risk >= min_risk, plan == plan (plan < 0: any) and user == id (id <= 0:
 * any): the first `cap` into out[], *total of them all, *version and *day of the monitor
 * they come from. */
int cl_service_ranking(cl_service *svc, double min_risk, int plan, int32_t id, svc_rank *out, int64_t cap,
                int64_t *n, int64_t *total, int64_t *version, int32_t *day);

/* monitor.experiment (the end of service.c): the attached experiment's published summary as
 * SERVE_API's JSON, or null. cl_service_set_experiment attaches one (NULL detaches); it must
 * outlive the service or be detached first. */
#include "live/experiment.h"
json_t *cl_service_experiment_json(cl_service *svc);
void cl_service_set_experiment(cl_service *svc, struct cl_experiment *x);

#endif
