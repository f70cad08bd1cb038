/* service_api.c - cl_service_api_handle: the routes of the live service (service.h). Every input
 * is checked here (ids, query options, JSON bodies) and every error is a JSON answer naming
 * the problem; nothing a client sends can crash the service or reach the filesystem. */
#include "serve/service_impl.h"
#include "serve/event_json.h"

#include "base/alloc.h"
#include "base/error.h"
#include "frame/frame.h"
#include "frame/pipeline.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- responses ----------------------------------------------------------------------------- */

static void set_json(cl_service_response *r, int status, json_t *o)
{
    r->status = status;
    r->content_type = "application/json";
    char *t = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
    json_decref(o);
    r->body = t ? cl_alloc_strdup(t) : NULL;
    free(t);
    if (!r->body) {
        r->status = 500;
        r->body = (char *)"{\"error\":{\"status\":500,\"message\":\"out of memory\"}}";
        r->body_static = 1;
    }
    r->len = strlen(r->body);
}

static void fail(cl_service_response *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(cl_service_response *r, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* messages may quote client text: keep them valid UTF-8 for the JSON encoder */
    for (unsigned char *p = (unsigned char *)msg; *p; p++)
        if (*p >= 0x80 || *p < 0x20)
            *p = '?';
    set_json(r, status, json_pack("{s:{s:i, s:s}}", "error", "status", status, "message", msg));
}

void cl_service_api_response_free(cl_service_response *r)
{
    if (r->body && !r->body_static)
        cl_alloc_free(r->body);
    r->body = NULL;
}

/* ---- accounting ---------------------------------------------------------------------------- */

static const char *const ROUTES[SVC_NROUTES] = {
    "other", "/api/customers/:id", "/api/customers", "/api/recommend/:id", "/api/score",
    "/api/events", "/api/monitor", "/api/stream", "/api/reload", "/healthz", "/metrics", "/"};
static const double LAT_EDGES[11] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                     0.05,   0.1,   0.25,   0.5,   1.0};

int cl_service_api_route(const char *path)
{
    if (!path)
        return 0;
    if (strncmp(path, "/api/customers/", 15) == 0)
        return 1;
    if (strcmp(path, "/api/customers") == 0)
        return 2;
    if (strncmp(path, "/api/recommend/", 15) == 0)
        return 3;
    for (int k = 4; k < SVC_NROUTES - 1; k++)
        if (strcmp(path, ROUTES[k]) == 0)
            return k;
    if (strcmp(path, "/") == 0 || strncmp(path, "/assets/", 8) == 0)
        return SVC_NROUTES - 1;
    return 0;
}

void cl_service_api_count(cl_service *svc, int route, int status, double seconds)
{
    if (route < 0 || route >= SVC_NROUTES)
        route = 0;
    int cls = status / 100;
    atomic_fetch_add(&svc->req_count[route][0], 1);
    if (cls >= 1 && cls <= 5)
        atomic_fetch_add(&svc->req_count[route][cls], 1);
    int b = 0;
    while (b < 11 && seconds > LAT_EDGES[b])
        b++;
    atomic_fetch_add(&svc->lat_bucket[route][b], 1);
    double old = atomic_load(&svc->lat_sum[route]);
    while (!atomic_compare_exchange_weak(&svc->lat_sum[route], &old, old + seconds))
        ;
}

static void metrics(cl_service *svc, cl_service_response *r)
{
    size_t cap = 16384, n = 0;
    char *t = cl_alloc(cap);
    if (!t) {
        fail(r, 500, "out of memory");
        return;
    }
#define OUT(...) \
    do { \
        if (n < cap) \
            n += (size_t)snprintf(t + n, cap - n, __VA_ARGS__); \
    } while (0)
    OUT("# HELP churnlab_requests_total HTTP requests answered, by route and status class.\n"
        "# TYPE churnlab_requests_total counter\n");
    for (int k = 0; k < SVC_NROUTES; k++)
        for (int c = 1; c <= 5; c++) {
            long long v = atomic_load(&svc->req_count[k][c]);
            if (v)
                OUT("churnlab_requests_total{route=\"%s\",code=\"%dxx\"} %lld\n", ROUTES[k], c, v);
        }
    OUT("# HELP churnlab_request_seconds Time to answer a request.\n"
        "# TYPE churnlab_request_seconds histogram\n");
    for (int k = 0; k < SVC_NROUTES; k++) {
        long long all = atomic_load(&svc->req_count[k][0]), cum = 0;
        if (!all)
            continue;
        for (int b = 0; b < 11; b++) {
            cum += atomic_load(&svc->lat_bucket[k][b]);
            OUT("churnlab_request_seconds_bucket{route=\"%s\",le=\"%g\"} %lld\n", ROUTES[k],
                LAT_EDGES[b], cum);
        }
        OUT("churnlab_request_seconds_bucket{route=\"%s\",le=\"+Inf\"} %lld\n", ROUTES[k], all);
        OUT("churnlab_request_seconds_sum{route=\"%s\"} %.6f\n", ROUTES[k],
            atomic_load(&svc->lat_sum[k]));
        OUT("churnlab_request_seconds_count{route=\"%s\"} %lld\n", ROUTES[k], all);
    }
    svc_model *m = cl_service_model_get(svc);
    pthread_rwlock_rdlock(svc->cfg.lock);
    long long events = (long long)cl_livestate_events(svc->cfg.state);
    int now = cl_livestate_now(svc->cfg.state);
    pthread_rwlock_unlock(svc->cfg.lock);
    OUT("# TYPE churnlab_events_accepted_total counter\nchurnlab_events_accepted_total %lld\n",
        (long long)atomic_load(&svc->events_accepted));
    OUT("# TYPE churnlab_events_rejected_total counter\nchurnlab_events_rejected_total %lld\n",
        (long long)atomic_load(&svc->events_rejected));
    OUT("# TYPE churnlab_state_events gauge\nchurnlab_state_events %lld\n", events);
    OUT("# TYPE churnlab_state_day gauge\nchurnlab_state_day %d\n", now);
    OUT("# TYPE churnlab_model_version gauge\nchurnlab_model_version{kind=\"%s\"} %lld\n",
        cl_model_kind(m->m), (long long)m->version);
    OUT("# TYPE churnlab_model_reloads_total counter\nchurnlab_model_reloads_total %lld\n",
        (long long)atomic_load(&svc->reloads));
    OUT("# TYPE churnlab_monitor_version gauge\nchurnlab_monitor_version %lld\n",
        (long long)cl_service_monitor(svc, NULL, NULL));
    OUT("# TYPE churnlab_uptime_seconds gauge\nchurnlab_uptime_seconds %.3f\n",
        cl_service_now() - svc->started);
    int64_t used, slots, bytes, bound;
    cl_service_cache_stats(svc, &used, &slots, &bytes, &bound);
    OUT("# HELP churnlab_answer_cache_entries Customers whose answer is cached (of _slots).\n"
        "# TYPE churnlab_answer_cache_entries gauge\nchurnlab_answer_cache_entries %lld\n"
        "# TYPE churnlab_answer_cache_slots gauge\nchurnlab_answer_cache_slots %lld\n"
        "# HELP churnlab_answer_cache_bytes Bytes the cache holds (bounded by _bound_bytes).\n"
        "# TYPE churnlab_answer_cache_bytes gauge\nchurnlab_answer_cache_bytes %lld\n"
        "# TYPE churnlab_answer_cache_bound_bytes gauge\nchurnlab_answer_cache_bound_bytes %lld\n",
        (long long)used, (long long)slots, (long long)bytes, (long long)bound);
    OUT("# HELP churnlab_answers_total Customer answers computed: scored (prediction and "
        "reasons computed) or reused (the model input row kept its split key: risk and reasons "
        "taken from the last answer).\n"
        "# TYPE churnlab_answers_total counter\nchurnlab_answers_total{how=\"scored\"} %lld\n"
        "churnlab_answers_total{how=\"reused\"} %lld\n"
        "# HELP churnlab_customer_text_total GET /api/customers/:id texts served from the cache "
        "or built.\n"
        "# TYPE churnlab_customer_text_total counter\nchurnlab_customer_text_total{how=\"cached\"} "
        "%lld\nchurnlab_customer_text_total{how=\"built\"} %lld\n",
        (long long)atomic_load(&svc->ans_scored), (long long)atomic_load(&svc->ans_reused),
        (long long)atomic_load(&svc->text_hits), (long long)atomic_load(&svc->text_built));
    OUT("# HELP churnlab_monitor_refresh_locked_seconds Longest stretch a monitor refresh held "
        "the state's read lock (its snapshot, or one row's answer): what a writer waits for it.\n"
        "# TYPE churnlab_monitor_refresh_locked_seconds summary\n"
        "churnlab_monitor_refresh_locked_seconds_sum %.6f\n"
        "churnlab_monitor_refresh_locked_seconds_count %lld\n"
        "# TYPE churnlab_monitor_refresh_locked_seconds_max gauge\n"
        "churnlab_monitor_refresh_locked_seconds_max %.6f\n",
        atomic_load(&svc->refresh_locked_sum), (long long)atomic_load(&svc->refreshes),
        atomic_load(&svc->refresh_locked_max));
#undef OUT
    cl_service_model_put(m);
    r->status = 200;
    r->content_type = "text/plain; version=0.0.4";
    r->body = t;
    r->len = n < cap ? n : cap - 1;
}

/* ---- parsing helpers ----------------------------------------------------------------------- */

/* A customer id: decimal digits only, 1..max. */
static int parse_id(const char *s, int32_t max, int32_t *id)
{
    if (!s || !*s || strlen(s) > 10)
        return 0;
    long long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (*p - '0');
    }
    if (v < 1 || v > max)
        return v >= 1 && v <= 2147483647LL ? -1 : 0; /* -1: well-formed but unknown */
    *id = (int32_t)v;
    return 1;
}

/* Every query option must be one of `known`; returns the first unknown name or NULL. */
static const char *unknown_option(const cl_service_request *q, const char *const *known)
{
    for (int i = 0; i < q->nquery; i++) {
        int ok = 0;
        for (const char *const *k = known; *k; k++)
            ok |= strcmp(q->query[2 * i], *k) == 0;
        if (!ok)
            return q->query[2 * i];
    }
    return NULL;
}

static const char *query(const cl_service_request *q, const char *name)
{
    for (int i = 0; i < q->nquery; i++)
        if (strcmp(q->query[2 * i], name) == 0)
            return q->query[2 * i + 1] ? q->query[2 * i + 1] : "";
    return NULL;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    if (!s || !*s)
        return 0;
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end || v < lo || v > hi)
        return 0;
    *out = v;
    return 1;
}

static int authorized(const cl_service *svc, const cl_service_request *q)
{
    if (!svc->cfg.token || !*svc->cfg.token)
        return 1;
    const char *a = q->authorization;
    if (!a || strncmp(a, "Bearer ", 7) != 0)
        return 0;
    /* constant time in the token's length */
    const char *t = svc->cfg.token, *g = a + 7;
    size_t nt = strlen(t), ng = strlen(g);
    unsigned diff = (unsigned)(nt ^ ng);
    for (size_t i = 0; i < nt; i++)
        diff |= (unsigned char)t[i] ^ (unsigned char)(i < ng ? g[i] : 0);
    return diff == 0;
}

/* ---- GET routes ---------------------------------------------------------------------------- */

static void customer(cl_service *svc, const char *idtext, cl_service_response *r)
{
    int32_t id = 0;
    int ok = parse_id(idtext, svc->max_user, &id);
    if (ok == 0) {
        fail(r, 400, "customer id must be a positive integer, got '%.40s'", idtext);
        return;
    }
    if (ok < 0) {
        fail(r, 404, "no customer %.20s", idtext);
        return;
    }
    svc_model *m = cl_service_model_get(svc);
    char *text = NULL;
    size_t n = 0;
    int rc = cl_service_customer_text(svc, m, id, &text, &n);
    cl_service_model_put(m);
    if (rc == CL_ERANGE) {
        fail(r, 404, "no customer %d", (int)id);
    } else if (rc) {
        fail(r, 500, "customer %d: %s", (int)id, cl_error_last());
    } else {
        r->status = 200;
        r->content_type = "application/json";
        r->body = text;
        r->len = n;
    }
}

static void recommend(cl_service *svc, const cl_service_request *q, const char *idtext,
                      cl_service_response *r)
{
    static const char *const known[] = {"k", NULL};
    const char *bad = unknown_option(q, known);
    if (bad) {
        fail(r, 400, "unknown option '%.40s' (options: k)", bad);
        return;
    }
    long k = 10;
    const char *ks = query(q, "k");
    if (ks && !parse_int(ks, 1, 100, &k)) {
        fail(r, 400, "option 'k' must be an integer in 1..100, got '%.40s'", ks);
        return;
    }
    if (!svc->cfg.rec) {
        fail(r, 503, "no recommender is loaded");
        return;
    }
    int32_t id = 0;
    int ok = parse_id(idtext, svc->max_user, &id);
    if (ok <= 0) {
        fail(r, ok ? 404 : 400, ok ? "no customer %.20s" : "customer id must be a positive integer, got '%.40s'", idtext);
        return;
    }
    enum { MAXH = 256 };
    int32_t items[MAXH], out[100];
    float scores[100];
    int nh = 0, n = 0, answer = 0;
    pthread_rwlock_rdlock(svc->cfg.lock);
    int known_user = cl_livestate_known(svc->cfg.state, id);
    if (known_user)
        cl_service_history_items(svc, id, items, MAXH, &nh);
    pthread_rwlock_unlock(svc->cfg.lock);
    if (!known_user) {
        fail(r, 404, "no customer %d", (int)id);
        return;
    }
    int rc = cl_rec_recommend_history_ex(svc->cfg.rec, nh, items, NULL, (int)k, 1, out, scores,
                                         &n, &answer);
    if (rc) {
        fail(r, 500, "recommend %d: %s", (int)id, cl_error_last());
        return;
    }
    for (int j = 0; j < n; j++)
        out[j] = svc->item_title[out[j]];
    json_t *arr = json_array();
    cl_service_recs_json(svc, arr, out, scores, n);
    set_json(r, 200, json_pack("{s:i, s:i, s:o, s:o, s:i}", "id", (int)id, "k", (int)k, "items",
                               arr, "fallback",
                               answer == CL_REC_ANSWER_POPULAR ? json_string("popular") : json_null(),
                               "history", nh));
}

/* GET /api/customers?q=&plan=&min_risk=&limit= : the riskiest active customers that match,
 * read from the monitor's ranking (the last refresh), so the list, its order and its risks
 * are those of /api/monitor of the same version; each row's reason is the customer's answer
 * now (cached). */
static void customers(cl_service *svc, const cl_service_request *q, cl_service_response *r)
{
    static const char *const known[] = {"q", "plan", "min_risk", "limit", NULL};
    const char *bad = unknown_option(q, known);
    if (bad) {
        fail(r, 400, "unknown option '%.40s' (options: q, plan, min_risk, limit)", bad);
        return;
    }
    long limit = 50;
    const char *ls = query(q, "limit");
    if (ls && !parse_int(ls, 1, 1000, &limit)) {
        fail(r, 400, "option 'limit' must be an integer in 1..1000, got '%.40s'", ls);
        return;
    }
    double min_risk = 0;
    const char *ms = query(q, "min_risk");
    if (ms) {
        char *end;
        min_risk = strtod(ms, &end);
        if (!*ms || *end || !(min_risk >= 0 && min_risk <= 1)) {
            fail(r, 400, "option 'min_risk' must be a number in 0..1, got '%.40s'", ms);
            return;
        }
    }
    const char *qs = query(q, "q"), *ps = query(q, "plan");
    int plan = -2;
    if (ps && (plan = cl_livestate_plan(svc->cfg.state, ps)) < 0) {
        fail(r, 400, "option 'plan': %s", cl_error_last());
        return;
    }
    int32_t qid = 0;
    if (qs && *qs && parse_id(qs, 2147483647, &qid) != 1) {
        fail(r, 400, "option 'q' must be a customer id (digits), got '%.40s'", qs);
        return;
    }
    svc_rank rows[1000];
    int64_t n = 0, total = 0, version = 0;
    int32_t day = CL_LIVE_NONE;
    int rc = cl_service_ranking(svc, min_risk, plan, qid, rows, limit, &n, &total, &version, &day);
    if (rc) {
        fail(r, 500, "customers: %s", cl_error_last());
        return;
    }
    svc_model *m = cl_service_model_get(svc);
    json_t *arr = json_array();
    pthread_rwlock_rdlock(svc->cfg.lock);
    for (int64_t i = 0; rc == CL_OK && i < n; i++) {
        svc_answer a;
        if ((rc = cl_service_answer_of(svc, m, rows[i].user, &a)) == CL_ERANGE)
            rc = CL_OK; /* ranked, then gone: cannot happen (states only grow), skip it */
        else if (rc == CL_OK) {
            a.risk = rows[i].risk; /* the ranked risk: the list agrees with the monitor */
            json_array_append_new(arr, cl_service_answer_json(svc, rows[i].user, &a, 0));
        }
    }
    pthread_rwlock_unlock(svc->cfg.lock);
    cl_service_model_put(m);
    if (rc) {
        json_decref(arr);
        fail(r, 500, "customers: %s", cl_error_last());
        return;
    }
    set_json(r, 200, json_pack("{s:o, s:I, s:I, s:o}", "customers", arr, "total",
                               (json_int_t)total, "monitor_version", (json_int_t)version, "day",
                               day == CL_LIVE_NONE ? json_null() : json_integer(day)));
}

static void monitor(cl_service *svc, cl_service_response *r)
{
    char *t = NULL;
    size_t n = 0;
    cl_service_monitor(svc, &t, &n);
    if (!t) {
        int rc = cl_service_refresh(svc, 1, NULL);
        if (rc) {
            fail(r, 500, "monitor: %s", cl_error_last());
            return;
        }
        cl_service_monitor(svc, &t, &n);
    }
    if (!t) {
        fail(r, 503, "the monitor has no aggregates yet");
        return;
    }
    r->status = 200;
    r->content_type = "application/json";
    r->body = t;
    r->len = n;
}

static void health(cl_service *svc, cl_service_response *r)
{
    pthread_rwlock_rdlock(svc->cfg.lock);
    int now = cl_livestate_now(svc->cfg.state);
    long long events = (long long)cl_livestate_events(svc->cfg.state);
    pthread_rwlock_unlock(svc->cfg.lock);
    set_json(r, 200, json_pack("{s:s, s:o, s:I, s:f}", "status", "ok", "day",
                               now == CL_LIVE_NONE ? json_null() : json_integer(now), "events",
                               (json_int_t)events, "uptime_s", cl_service_now() - svc->started));
}

static void asset(cl_service *svc, const char *name, cl_service_response *r)
{
    for (int k = 0; k < svc->cfg.nassets; k++)
        if (strcmp(svc->cfg.assets[k].name, name) == 0) {
            r->status = 200;
            r->content_type = svc->cfg.assets[k].type;
            r->body = (char *)svc->cfg.assets[k].data;
            r->len = svc->cfg.assets[k].len;
            r->body_static = 1;
            return;
        }
    fail(r, 404, "no asset '%.60s'", name);
}

/* ---- POST routes --------------------------------------------------------------------------- */

static json_t *parse_body(const cl_service_request *q, cl_service_response *r, const char *what)
{
    if (!q->body || q->body_len == 0) {
        fail(r, 400, "%s: empty body (expected JSON)", what);
        return NULL;
    }
    json_error_t e;
    json_t *o = json_loadb(q->body, q->body_len, JSON_REJECT_DUPLICATES, &e);
    if (!o)
        fail(r, 400, "%s: malformed JSON at line %d, column %d: %s", what, e.line, e.column,
             e.text);
    return o;
}

/* POST /api/score {"rows": [{column: value}, ...]} or one row object -> probabilities. The
 * columns must be the model pipeline's inputs; unknown ones are refused. */
static void score(cl_service *svc, const cl_service_request *q, cl_service_response *r)
{
    json_t *o = parse_body(q, r, "score");
    if (!o)
        return;
    json_t *rows = json_is_object(o) ? json_object_get(o, "rows") : NULL;
    if (json_is_object(o) && rows && json_object_size(o) != 1) {
        const char *k;
        json_t *v;
        json_object_foreach(o, k, v) if (strcmp(k, "rows") != 0)
        {
            fail(r, 400, "score: unknown field '%.40s' (expected only \"rows\")", k);
            json_decref(o);
            return;
        }
    }
    if (!rows) {
        rows = json_is_object(o) ? o : NULL;
        if (!rows) {
            fail(r, 400, "score: expected {\"rows\": [...]} or one row object");
            json_decref(o);
            return;
        }
    }
    size_t n = json_is_array(rows) ? json_array_size(rows) : 1;
    if (json_is_array(rows) && (n == 0 || n > CL_SERVICE_MAX_ROWS)) {
        fail(r, 400, "score: 'rows' must hold 1..%d rows, got %zu", CL_SERVICE_MAX_ROWS, n);
        json_decref(o);
        return;
    }
    svc_model *m = cl_service_model_get(svc);
    const cl_pipeline *pl = cl_model_pipeline(m->m);
    int ni = cl_pipeline_n_inputs(pl);
    /* every field of every row must be an input; types: number, string, or null */
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_is_array(rows) ? json_array_get(rows, i) : rows;
        if (!json_is_object(row)) {
            fail(r, 400, "score: row %zu is not an object", i + 1);
            goto done;
        }
        const char *k;
        json_t *v;
        json_object_foreach(row, k, v)
        {
            int found = 0;
            for (int c = 0; c < ni && !found; c++)
                found = strcmp(cl_pipeline_input_name(pl, c), k) == 0;
            if (!found) {
                fail(r, 400, "score: row %zu: unknown column '%.40s' (the model reads %d columns, "
                             "e.g. '%s')", i + 1, k, ni, ni ? cl_pipeline_input_name(pl, 0) : "");
                goto done;
            }
            if (!json_is_number(v) && !json_is_string(v) && !json_is_null(v)) {
                fail(r, 400, "score: row %zu: column '%.40s' must be a number, a string or null",
                     i + 1, k);
                goto done;
            }
            if (json_is_real(v) && !isfinite(json_real_value(v))) {
                fail(r, 400, "score: row %zu: column '%.40s' is not finite", i + 1, k);
                goto done;
            }
        }
    }
    {
        cl_frame *f = NULL;
        int rc = cl_frame_new(&f);
        for (int c = 0; rc == CL_OK && c < ni; c++) {
            const char *name = cl_pipeline_input_name(pl, c);
            int any_str = 0;
            for (size_t i = 0; i < n; i++) {
                json_t *row = json_is_array(rows) ? json_array_get(rows, i) : rows;
                any_str |= json_is_string(json_object_get(row, name));
            }
            cl_column *col = NULL;
            if (any_str) {
                const char **s = cl_alloc_calloc(n, sizeof *s);
                char (*numtext)[32] = cl_alloc(n * 32);
                rc = s && numtext ? CL_OK : CL_ENOMEM;
                for (size_t i = 0; rc == CL_OK && i < n; i++) {
                    json_t *v = json_object_get(json_is_array(rows) ? json_array_get(rows, i) : rows, name);
                    if (json_is_string(v)) {
                        s[i] = json_string_value(v);
                    } else if (json_is_number(v)) {
                        snprintf(numtext[i], 32, "%.17g", json_number_value(v));
                        s[i] = numtext[i];
                    }
                }
                if (rc == CL_OK)
                    rc = cl_frame_column_from_strings(&col, s, (int64_t)n);
                cl_alloc_free(s);
                cl_alloc_free(numtext);
            } else {
                double *d = cl_alloc(n * sizeof *d);
                rc = d ? CL_OK : CL_ENOMEM;
                for (size_t i = 0; rc == CL_OK && i < n; i++) {
                    json_t *v = json_object_get(json_is_array(rows) ? json_array_get(rows, i) : rows, name);
                    d[i] = json_is_number(v) ? json_number_value(v) : NAN;
                }
                if (rc == CL_OK)
                    rc = cl_frame_column_from_doubles(&col, d, (int64_t)n);
                cl_alloc_free(d);
            }
            if (rc == CL_OK)
                rc = cl_frame_set(f, name, col);
            cl_frame_column_free(col);
        }
        float *p = rc == CL_OK ? cl_alloc(n * sizeof *p) : NULL;
        if (rc == CL_OK && !p)
            rc = CL_ENOMEM;
        if (rc == CL_OK)
            rc = cl_model_score_frame(m->m, f, p);
        if (rc) {
            fail(r, rc == CL_EINVAL ? 400 : 500, "score: %s", cl_error_last());
        } else {
            json_t *arr = json_array();
            for (size_t i = 0; i < n; i++)
                json_array_append_new(arr, cl_service_jnum(p[i]));
            set_json(r, 200, json_pack("{s:o, s:o}", "probabilities", arr, "model",
                                       cl_service_model_json(svc, m)));
        }
        cl_alloc_free(p);
        cl_frame_free(f);
    }
done:
    cl_service_model_put(m);
    json_decref(o);
}

typedef struct event_error {
    int line;
    char msg[200];
} event_error;

static void events(cl_service *svc, const cl_service_request *q, cl_service_response *r)
{
    if (!authorized(svc, q)) {
        fail(r, 401, "events: missing or wrong token (send 'Authorization: Bearer <token>')");
        return;
    }
    if (!svc->cfg.log) {
        fail(r, 503, "events: the service has no event log, so it cannot acknowledge events "
                     "durably (start it with a log)");
        return;
    }
    if (!q->body || q->body_len == 0) {
        fail(r, 400, "events: empty body (expected JSON lines, one event per line)");
        return;
    }
    /* parse every line first (no lock held), then apply the good ones in one batch */
    size_t cap = 64, n = 0;
    cl_live_event *ev = cl_alloc(cap * sizeof *ev);
    int *evline = cl_alloc(cap * sizeof *evline);
    enum { MAXERR = 20 };
    event_error errs[MAXERR];
    int nerr = 0;
    int64_t rejected = 0;
    int line = 0, oom = !ev || !evline;
    const char *p = q->body, *end = q->body + q->body_len;
    while (!oom && p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        line++;
        const char *a = p;
        while (a < le && (*a == ' ' || *a == '\t' || *a == '\r'))
            a++;
        if (a < le) {
            if (n + (size_t)rejected >= CL_SERVICE_MAX_EVENTS) {
                fail(r, 413, "events: more than %d events in one request", CL_SERVICE_MAX_EVENTS);
                cl_alloc_free(ev);
                cl_alloc_free(evline);
                return;
            }
            char msg[200];
            cl_live_event e;
            const char *why = cl_event_json_parse(svc->cfg.state, a, (size_t)(le - a), &e, msg,
                                                  sizeof msg);
            if (why) {
                rejected++;
                if (nerr < MAXERR) {
                    errs[nerr].line = line;
                    snprintf(errs[nerr++].msg, sizeof errs[0].msg, "%s", why);
                }
            } else {
                if (n == cap) {
                    cap *= 2;
                    cl_live_event *t = cl_alloc_realloc(ev, cap * sizeof *ev);
                    int *tl = t ? cl_alloc_realloc(evline, cap * sizeof *evline) : NULL;
                    if (t)
                        ev = t;
                    if (tl)
                        evline = tl;
                    if (!t || !tl) {
                        oom = 1;
                        break;
                    }
                }
                evline[n] = line;
                ev[n++] = e;
            }
        }
        p = le + 1;
    }
    if (oom) {
        cl_alloc_free(ev);
        cl_alloc_free(evline);
        fail(r, 500, "events: out of memory");
        return;
    }
    /* apply: each event is validated against the state and applied, or refused with its
     * reason; the accepted ones are committed to the log before anything is acknowledged */
    size_t acc = 0;
    int rc = CL_OK;
    int64_t seq = 0;
    pthread_rwlock_wrlock(svc->cfg.lock);
    for (size_t i = 0; i < n; i++) {
        if (cl_livestate_apply(svc->cfg.state, &ev[i]) == CL_OK) {
            ev[acc] = ev[i];
            evline[acc++] = evline[i];
        } else {
            rejected++;
            if (nerr < MAXERR) {
                errs[nerr].line = evline[i];
                snprintf(errs[nerr++].msg, sizeof errs[0].msg, "%s", cl_error_last());
            }
        }
    }
    if (acc > 0) {
        rc = cl_livelog_append(svc->cfg.log, ev, (int64_t)acc, &seq);
        if (svc->cfg.state_version)
            (*svc->cfg.state_version)++;
    }
    pthread_rwlock_unlock(svc->cfg.lock);
    atomic_fetch_add(&svc->events_rejected, rejected);
    if (rc) {
        cl_alloc_free(ev);
        cl_alloc_free(evline);
        fail(r, 500, "events: the log could not commit the batch (nothing acknowledged): %s",
             cl_error_last());
        return;
    }
    atomic_fetch_add(&svc->events_accepted, (long long)acc);
    /* the changed customers' risks, now */
    json_t *cs = json_array();
    svc_model *m = cl_service_model_get(svc);
    pthread_rwlock_rdlock(svc->cfg.lock);
    int32_t shown[50];
    int nshown = 0;
    for (size_t i = 0; i < acc && nshown < 50; i++) {
        int dup = 0;
        for (int j = 0; j < nshown; j++)
            dup |= shown[j] == ev[i].user;
        double risk;
        if (dup || cl_livescore_risk(m->sc, ev[i].user, &risk) != CL_OK)
            continue;
        shown[nshown++] = ev[i].user;
        json_array_append_new(cs, json_pack("{s:i, s:o}", "id", (int)ev[i].user, "risk",
                                            cl_service_jnum(risk)));
    }
    pthread_rwlock_unlock(svc->cfg.lock);
    cl_service_model_put(m);
    json_t *ea = json_array();
    for (int k = 0; k < nerr; k++)
        json_array_append_new(ea, json_pack("{s:i, s:s}", "line", errs[k].line, "message",
                                            errs[k].msg));
    cl_alloc_free(ev);
    cl_alloc_free(evline);
    json_t *out = json_pack("{s:I, s:I, s:o, s:o, s:I}", "accepted", (json_int_t)acc, "rejected",
                            (json_int_t)rejected, "errors", ea, "customers", cs, "seq",
                            (json_int_t)seq);
    if (rejected && !acc) { /* nothing went in: an error, with the per-line reasons beside it */
        char msg[300];
        snprintf(msg, sizeof msg, "events: none accepted (line %d: %s)", nerr ? errs[0].line : 0,
                 nerr ? errs[0].msg : "");
        for (unsigned char *c = (unsigned char *)msg; *c; c++)
            if (*c < 0x20 || *c >= 0x80)
                *c = '?';
        json_object_set_new(out, "error", json_pack("{s:i, s:s}", "status", 400, "message", msg));
    }
    set_json(r, rejected && !acc ? 400 : 200, out);
}

static void reload(cl_service *svc, const cl_service_request *q, cl_service_response *r)
{
    if (!authorized(svc, q)) {
        fail(r, 401, "reload: missing or wrong token (send 'Authorization: Bearer <token>')");
        return;
    }
    if (q->body_len > 0) {
        json_t *o = parse_body(q, r, "reload");
        if (!o)
            return;
        int empty = json_is_object(o) && json_object_size(o) == 0;
        json_decref(o);
        if (!empty) {
            fail(r, 400, "reload: the body must be empty or {} (the model path is the service's)");
            return;
        }
    }
    int rc = cl_service_model_load(svc, svc->cfg.model_path);
    if (rc) {
        fail(r, rc == CL_ENOMEM ? 500 : 422, "reload: %s (the old model stays)", cl_error_last());
        return;
    }
    atomic_fetch_add(&svc->reloads, 1);
    svc_model *m = cl_service_model_get(svc);
    set_json(r, 200, json_pack("{s:o}", "model", cl_service_model_json(svc, m)));
    cl_service_model_put(m);
}

/* ---- dispatch ------------------------------------------------------------------------------ */

void cl_service_api_handle(cl_service *svc, const cl_service_request *q, cl_service_response *r)
{
    memset(r, 0, sizeof *r);
    const char *path = q->path ? q->path : "";
    const char *method = q->method ? q->method : "";
    int get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
    int post = strcmp(method, "POST") == 0;
    if (q->body_len > CL_SERVICE_MAX_BODY) {
        fail(r, 413, "request body of %zu bytes is over the limit of %u", q->body_len,
             CL_SERVICE_MAX_BODY);
        return;
    }
    static const char *const none[] = {NULL};
    int route = cl_service_api_route(path);
    int wants_post = route == 4 || route == 5 || route == 8;
    if (route == 0) {
        fail(r, 404, "no route %.80s", path);
        return;
    }
    if (wants_post ? !post : !get) {
        fail(r, 405, "%.80s answers %s only", path, wants_post ? "POST" : "GET");
        return;
    }
    if (route != 2 && route != 3) {
        const char *bad = unknown_option(q, none);
        if (bad) {
            fail(r, 400, "%.80s takes no options, got '%.40s'", path, bad);
            return;
        }
    }
    switch (route) {
    case 1:
        customer(svc, path + 15, r);
        break;
    case 2:
        customers(svc, q, r);
        break;
    case 3:
        recommend(svc, q, path + 15, r);
        break;
    case 4:
        score(svc, q, r);
        break;
    case 5:
        events(svc, q, r);
        break;
    case 6:
        monitor(svc, r);
        break;
    case 7:
        r->status = 200;
        r->content_type = "text/event-stream";
        r->stream = 1;
        break;
    case 8:
        reload(svc, q, r);
        break;
    case 9:
        health(svc, r);
        break;
    case 10:
        metrics(svc, r);
        break;
    default:
        asset(svc, strcmp(path, "/") == 0 ? "index.html" : path + 8, r);
        break;
    }
}
