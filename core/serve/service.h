/* service.h - the live retention service: one request handler over the live engine, the
 * aggregates a monitor recomputes in the background, and the events that change them.
 *
 *   cl_service *svc;
 *   cl_service_new(&svc, &cfg);             // state, log, model path, profiles, recommender ...
 *   cl_service_refresh(svc);                // the monitor's aggregates (httpd.c: every second)
 *   cl_service_api_handle(svc, &req, &resp);    // GET /api/customers/42 -> 200 {"id": 42, ...}
 *   cl_service_free(svc);
 *
 * HTTP is not here (core/serve/httpd.c puts libmicrohttpd in front of cl_service_api_handle), so
 * the whole API is a function of (service, request) that tests and the fuzzer drive directly.
 * The JSON contract is documented in README.md ("The live service") and checked by
 * tests/e2e/serve.sh; JSON is read and written with jansson only.
 *
 * Concurrency. The live state belongs to its owner (the Lua Live box); every reader and writer
 * takes cfg.lock (a pthread rwlock the owner also takes when it ingests). Requests run on many
 * threads at once: reads share the lock, POST /api/events takes it exclusively for the apply
 * and the log commit. The model and its scorer are swapped atomically by POST /api/reload
 * (readers hold a reference while they use them). The aggregates are built by
 * cl_service_refresh into one JSON text that readers copy under a mutex, so /api/monitor and
 * the event stream never score anybody.
 *
 * Per-customer answers (risk, reasons, recommendations, action) are cached, keyed on the
 * customer's own event count, the state's clock and the model version: a customer is scored
 * again only when something that changes the answer happened; its recommendations are folded
 * in again only when its history changed (a hash of it). The cache is a bounded pool (below).
 * GET /api/customers lists the ranking published with the monitor (no scoring per request).
 *
 * Durability: an event is acknowledged (counted as accepted in the response) only once the
 * batch holding it is committed to cfg.log (livelog.h: SQLite, synchronous = FULL). Without a
 * log the service refuses POST /api/events with 503 rather than acknowledge what a restart
 * would lose.
 *
 * Ownership: cl_service_new borrows everything in cfg (it must outlive the service) except the
 * model, which the service loads from cfg.model_path itself and owns (so a reload can swap it).
 */
#ifndef CL_SERVICE_H
#define CL_SERVICE_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>

#include "live/livelog.h"
#include "live/livestate.h"
#include "rec/rec.h"

struct cl_frame;

/* A retention action the service weighs for each customer (strategy.h's cost model):
 * expected net value = reach * (p * effect * value - accept_pct / 100 * price) - contact, with
 * effect = 1 - (1 - (1 - p)^hr) / p for the hazard ratio hr = exp(log_hr + log_hr_issues *
 * issues), issues = min(1, support tickets + payment failures of the last 30 days), and value =
 * price * (0.5 + sum over months 2..horizon of (1 - p)^(m - 1)) (notebooks/06_strategy.lua). */
typedef struct cl_service_action {
    const char *name, *label;
    double contact, accept_pct, reach, log_hr, log_hr_issues;
} cl_service_action;

/* A built-in file served at /assets/<name> ("index.html" also at /). */
typedef struct cl_service_asset {
    const char *name, *type;
    const unsigned char *data;
    size_t len;
} cl_service_asset;

typedef struct cl_service_config {
    cl_livestate *state;          /* borrowed; guarded by lock */
    cl_livelog *log;              /* NULL: POST /api/events answers 503 */
    pthread_rwlock_t *lock;       /* the state's lock (owner's) */
    int64_t *state_version;       /* bumped on every accepted batch (the owner's counter) or NULL */
    const char *model_path;       /* loaded now and by POST /api/reload */
    const struct cl_frame *profiles; /* user_id + the columns no event changes (cl_livescore_new) */
    const struct cl_frame *reference; /* training features (drift reference) or NULL */
    const cl_rec *rec;            /* fitted recommender over title ids (item labels) or NULL */
    int32_t ntitles;              /* catalogue: names and genres of title ids 1..ntitles */
    const char *const *title_names;  /* [ntitles + 1] or NULL */
    const char *const *title_genres; /* [ntitles + 1] or NULL */
    const cl_service_action *actions; /* the first is "do nothing"; NULL: the built-in three */
    int nactions;
    int horizon_months;           /* value horizon of an action (default 12) */
    double threshold;             /* "high risk" from here (default 0.3) */
    const char *currency;         /* default "USD" */
    const char *token;            /* required by POST /api/events and /api/reload; NULL: none */
    int calibration_days;         /* predictions settle after this many days (default 30) */
    const cl_service_asset *assets;
    int nassets;
    const char *history_path;     /* SQLite file keeping the risk histories, or NULL (memory) */
    int32_t cache_answers;        /* answers cached at most (0: CL_SERVICE_CACHE_DEFAULT); see
                                   * cl_service_cache_stats for what that bounds */
} cl_service_config;

/* Cached answers (GET /api/customers/:id and the monitor's rows) are kept in a fixed pool of
 * slots reused in clock (second-chance) order, so the memory they take is bounded whatever
 * the number of customers: slots x (a slot, 2024 bytes on x86-64, + one serialised answer
 * of at most CL_SERVICE_CACHE_TEXT_MAX bytes; longer texts are not kept): ~600 MB at most
 * for the default, what /metrics shows as churnlab_answer_cache_bound_bytes. */
#define CL_SERVICE_CACHE_DEFAULT 32768
#define CL_SERVICE_CACHE_TEXT_MAX 16384

typedef struct cl_service cl_service;

int cl_service_new(cl_service **out, const cl_service_config *cfg);
void cl_service_free(cl_service *svc);

/* Recomputes the aggregates when the state or the model changed since the last call (or
 * force); *changed (may be NULL) says whether a new version was published. */
int cl_service_refresh(cl_service *svc, int force, int *changed);
/* Version of the published aggregates (0 before the first refresh), and a copy of their JSON
 * text (cl_alloc'ed, NUL-terminated) when out is not NULL. */
int64_t cl_service_monitor(cl_service *svc, char **out, size_t *len);
/* Blocks until the published version differs from `seen` or timeout_ms passes; returns the
 * current version. */
int64_t cl_service_wait(cl_service *svc, int64_t seen, int timeout_ms);
/* Wakes every waiter (shutdown). */
void cl_service_wake(cl_service *svc);
/* Swaps in the model file again when it changed on disk since it was last looked at (another
 * inode, size or modification time: a model saved anew, which churnlab writes by rename),
 * exactly like POST /api/reload. *swapped (may be NULL) says whether it did. A file that does
 * not load is an error once per change; the old model keeps answering. The monitor thread
 * calls it after each refresh. */
int cl_service_watch_model(cl_service *svc, int *swapped);
/* The answer cache: slots in use, slots in all, bytes held now (slots and texts) and the
 * bound on those bytes (slots x (slot size + CL_SERVICE_CACHE_TEXT_MAX)). */
void cl_service_cache_stats(cl_service *svc, int64_t *used, int64_t *slots, int64_t *bytes,
                            int64_t *bound);

/* ---- requests ------------------------------------------------------------------------------ */

typedef struct cl_service_request {
    const char *method;           /* "GET", "POST", ... */
    const char *path;             /* without the query */
    const char *const *query;     /* nquery (name, value) pairs, values may be NULL */
    int nquery;
    const char *body;             /* may hold NULs; NULL when empty */
    size_t body_len;
    const char *authorization;    /* the Authorization header or NULL */
} cl_service_request;

typedef struct cl_service_response {
    int status;
    const char *content_type;     /* static */
    char *body;                   /* cl_alloc'ed, or static when body_static */
    size_t len;
    int body_static;
    int stream;                   /* 1: the caller streams cl_service_wait/_monitor as SSE */
} cl_service_response;

/* Answers one request. Never fails: errors are JSON responses with a status (400, 401, 404,
 * 405, 413, 500, 503). The caller frees resp->body with cl_service_api_response_free. */
void cl_service_api_handle(cl_service *svc, const cl_service_request *req, cl_service_response *resp);
void cl_service_api_response_free(cl_service_response *resp);

/* Largest request body accepted (bytes); larger ones get 413 before they are read. */
#define CL_SERVICE_MAX_BODY (4u << 20)
/* At most this many events per POST and rows per /api/score. */
#define CL_SERVICE_MAX_EVENTS 100000
#define CL_SERVICE_MAX_ROWS 10000

/* Request accounting for /metrics (the HTTP layer calls it once per finished request). */
void cl_service_api_count(cl_service *svc, int route, int status, double seconds);
/* Route index of a path for cl_service_api_count (0 = other). */
int cl_service_api_route(const char *path);

#endif
