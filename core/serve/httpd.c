/* httpd.c - libmicrohttpd in front of the live service (httpd.h). */
#include "serve/httpd.h"

#include "base/alloc.h"
#include "base/error.h"
#include "serve/service_impl.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_QUERY 32

struct cl_httpd {
    struct MHD_Daemon *d;
    cl_service *svc;
    cl_httpd_config cfg;
    pthread_t monitor;
    int monitor_started;
    atomic_int stopping;
    int port;
    /* suspended work: streams waiting for new aggregates, script routes waiting for Lua */
    pthread_mutex_t mu;
    pthread_cond_t idle;
    struct sse_ctx *streams; /* every open stream (a list through ->next) */
    int scripts_inflight;
};

/* One request: its body as it arrives, and when it started. */
typedef struct req_ctx {
    char *body;
    size_t len, cap;
    int too_big;
    double t0;
    int route, status;
    /* a script route answered on its own thread while the connection is suspended */
    cl_httpd *h;
    struct MHD_Connection *c;
    cl_service_request q;
    const char *kv[2 * MAX_QUERY];
    cl_service_response r;
    int pending, ready;
} req_ctx;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void resume_streams(cl_httpd *h);

static void *monitor_main(void *arg)
{
    cl_httpd *h = arg;
    while (!atomic_load(&h->stopping)) {
        int swapped = 0;
        if (cl_service_watch_model(h->svc, &swapped) != CL_OK)
            fprintf(stderr, "serve: %s\n", cl_error_last());
        else if (swapped)
            fprintf(stderr, "serve: the model file changed: swapped in\n");
        if (cl_service_refresh(h->svc, 0, NULL) != CL_OK)
            fprintf(stderr, "serve: monitor: %s\n", cl_error_last());
        /* each stream looks whether there is something new (or a ping is due) and suspends
         * itself again when not: once a refresh, a handful of cheap calls */
        resume_streams(h);
        int ms = h->cfg.refresh_ms;
        for (int slept = 0; slept < ms && !atomic_load(&h->stopping); slept += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ---- server-sent events --------------------------------------------------------------------
 * A stream never holds a thread: when it has nothing to send, its reader suspends the
 * connection (libmicrohttpd allows that from a content reader) and the monitor thread resumes
 * every suspended stream after each refresh. The version check and the suspension happen under
 * h->mu, as does the resumption, so an update published in between is never missed. */

#define SSE_PING_S 15.0

typedef struct sse_ctx {
    cl_httpd *h;
    struct MHD_Connection *c;
    struct sse_ctx *next;
    int64_t seen;
    char *pending;
    size_t len, off;
    int first, suspended;
    double last_sent;
} sse_ctx;

static void resume_streams(cl_httpd *h)
{
    pthread_mutex_lock(&h->mu);
    for (sse_ctx *s = h->streams; s; s = s->next)
        if (s->suspended) {
            s->suspended = 0;
            MHD_resume_connection(s->c);
        }
    pthread_mutex_unlock(&h->mu);
}

/* 1: s->pending holds the next message; 0: nothing to send now (the connection was suspended);
 * -1: end the stream. */
static int sse_fill(sse_ctx *s)
{
    cl_alloc_free(s->pending);
    s->pending = NULL;
    s->len = s->off = 0;
    cl_httpd *h = s->h;
    if (atomic_load(&h->stopping))
        return -1;
    char *json = NULL;
    size_t n = 0;
    pthread_mutex_lock(&h->mu);
    int64_t v = cl_service_monitor(h->svc, NULL, NULL);
    int ping = mono() - s->last_sent >= SSE_PING_S;
    if (v == s->seen && !s->first && !ping) {
        s->suspended = 1;
        MHD_suspend_connection(s->c);
        pthread_mutex_unlock(&h->mu);
        return 0;
    }
    pthread_mutex_unlock(&h->mu);
    if (v != s->seen || s->first)
        v = cl_service_monitor(h->svc, &json, &n);
    s->first = 0;
    s->last_sent = mono();
    if (json) {
        s->pending = cl_alloc(n + 32);
        if (!s->pending) {
            cl_alloc_free(json);
            return -1;
        }
        s->len = (size_t)snprintf(s->pending, n + 32, "event: monitor\ndata: %s\n\n", json);
        cl_alloc_free(json);
        s->seen = v;
    } else {
        s->pending = cl_alloc_strdup(": ping\n\n");
        if (!s->pending)
            return -1;
        s->len = strlen(s->pending);
    }
    return 1;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_ctx *s = cls;
    if (s->off == s->len) {
        int k = sse_fill(s);
        if (k < 0)
            return MHD_CONTENT_READER_END_OF_STREAM;
        if (k == 0)
            return 0;
    }
    size_t k = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

static void sse_free(void *cls)
{
    sse_ctx *s = cls;
    cl_httpd *h = s->h;
    pthread_mutex_lock(&h->mu);
    for (sse_ctx **pp = &h->streams; *pp; pp = &(*pp)->next)
        if (*pp == s) {
            *pp = s->next;
            break;
        }
    pthread_mutex_unlock(&h->mu);
    cl_alloc_free(s->pending);
    cl_alloc_free(s);
}

/* ---- requests ------------------------------------------------------------------------------ */

typedef struct query_buf {
    const char *kv[2 * MAX_QUERY];
    int n, overflow;
} query_buf;

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    (void)kind;
    query_buf *q = cls;
    if (q->n == MAX_QUERY) {
        q->overflow = 1;
        return MHD_NO;
    }
    q->kv[2 * q->n] = key;
    q->kv[2 * q->n + 1] = value;
    q->n++;
    return MHD_YES;
}

static void add_headers(struct MHD_Response *resp, const char *type)
{
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, "Cache-Control", "no-store");
    MHD_add_response_header(resp, "Content-Security-Policy",
                            "default-src 'self'; img-src 'self' data:; "
                            "style-src 'self' 'unsafe-inline'; frame-ancestors 'none'");
}

static enum MHD_Result send_plain(struct MHD_Connection *c, int status, const char *json)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(json), (void *)json, MHD_RESPMEM_PERSISTENT);
    if (!resp)
        return MHD_NO;
    add_headers(resp, "application/json");
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The response for r (a stream or a body) queued on c. */
static enum MHD_Result queue_answer(cl_httpd *h, struct MHD_Connection *c, cl_service_response *r)
{
    struct MHD_Response *resp;
    if (r->stream) {
        sse_ctx *s = cl_alloc_calloc(1, sizeof *s);
        if (!s)
            return MHD_NO;
        s->h = h;
        s->c = c;
        s->seen = -1;
        s->first = 1;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
        if (!resp) {
            cl_alloc_free(s);
            return MHD_NO;
        }
        pthread_mutex_lock(&h->mu);
        s->next = h->streams;
        h->streams = s;
        pthread_mutex_unlock(&h->mu);
        add_headers(resp, "text/event-stream");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    } else {
        resp = MHD_create_response_from_buffer(r->len, r->body,
                                               r->body_static ? MHD_RESPMEM_PERSISTENT
                                                              : MHD_RESPMEM_MUST_COPY);
        if (!resp) {
            cl_service_api_response_free(r);
            return MHD_NO;
        }
        add_headers(resp, r->content_type ? r->content_type : "application/json");
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r->status, resp);
    MHD_destroy_response(resp);
    cl_service_api_response_free(r);
    return ok;
}

/* A script route (Lua's routes) waits for the Lua thread, up to 10 s: it runs on a thread of
 * its own while its connection is suspended, so the pool's threads keep serving the hot paths. */
static void *script_main(void *arg)
{
    req_ctx *rc = arg;
    cl_httpd *h = rc->h;
    if (!h->cfg.custom(h->cfg.custom_ctx, &rc->q, &rc->r))
        cl_service_api_handle(h->svc, &rc->q, &rc->r);
    pthread_mutex_lock(&h->mu);
    rc->ready = 1;
    MHD_resume_connection(rc->c);
    if (--h->scripts_inflight == 0)
        pthread_cond_broadcast(&h->idle);
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

static enum MHD_Result start_script(cl_httpd *h, struct MHD_Connection *c, req_ctx *rc)
{
    rc->h = h;
    rc->c = c;
    rc->pending = 1;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    pthread_t t;
    pthread_mutex_lock(&h->mu);
    h->scripts_inflight++;
    MHD_suspend_connection(c);
    int e = pthread_create(&t, &at, script_main, rc);
    if (e) {
        h->scripts_inflight--;
        MHD_resume_connection(c);
    }
    pthread_mutex_unlock(&h->mu);
    pthread_attr_destroy(&at);
    if (e) {
        rc->pending = 0;
        rc->status = 503;
        return send_plain(c, 503, "{\"error\":{\"status\":503,\"message\":\"no thread for the "
                                  "script route\"}}");
    }
    return MHD_YES;
}

/* Copies the body as it arrives; 0 = out of memory. */
static int take_upload(req_ctx *rc, const char *upload, size_t n)
{
    if (!rc->too_big && rc->len + n > CL_SERVICE_MAX_BODY)
        rc->too_big = 1;
    if (rc->too_big)
        return 1;
    if (rc->len + n + 1 > rc->cap) {
        size_t cap = rc->cap ? rc->cap : 4096;
        while (cap < rc->len + n + 1)
            cap *= 2;
        char *t = cl_alloc_realloc(rc->body, cap);
        if (!t)
            return 0;
        rc->body = t;
        rc->cap = cap;
    }
    memcpy(rc->body + rc->len, upload, n);
    rc->len += n;
    rc->body[rc->len] = '\0';
    return 1;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    cl_httpd *h = cls;
    req_ctx *rc = *con_cls;
    if (!rc) {
        rc = cl_alloc_calloc(1, sizeof *rc);
        if (!rc)
            return MHD_NO;
        rc->t0 = mono();
        rc->route = cl_service_api_route(url);
        *con_cls = rc;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > CL_SERVICE_MAX_BODY)
            rc->too_big = 1;
        return MHD_YES;
    }
    if (rc->pending) {
        /* resumed: the script thread has answered (or, spuriously, not yet) */
        pthread_mutex_lock(&h->mu);
        int ready = rc->ready;
        pthread_mutex_unlock(&h->mu);
        if (!ready)
            return MHD_YES;
        rc->pending = 0;
        rc->status = rc->r.status;
        return queue_answer(h, c, &rc->r);
    }
    if (*upload_size) {
        if (!take_upload(rc, upload, *upload_size))
            return MHD_NO;
        *upload_size = 0;
        return MHD_YES;
    }
    if (rc->too_big) {
        rc->status = 413;
        return send_plain(c, 413, "{\"error\":{\"status\":413,\"message\":\"request body over "
                                  "the limit of 4194304 bytes\"}}");
    }
    query_buf qb = {.n = 0};
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, collect_query, &qb);
    if (qb.overflow) {
        rc->status = 400;
        return send_plain(c, 400, "{\"error\":{\"status\":400,\"message\":\"more than 32 query "
                                  "options\"}}");
    }
    cl_service_request q = {method, url, qb.kv, qb.n, rc->body, rc->len,
                            MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                        MHD_HTTP_HEADER_AUTHORIZATION)};
    if (rc->route == 0 && h->cfg.custom) {
        /* the strings live in the connection's memory, valid while it is suspended */
        memcpy(rc->kv, qb.kv, sizeof rc->kv);
        rc->q = q;
        rc->q.query = rc->kv;
        return start_script(h, c, rc);
    }
    cl_service_response r;
    memset(&r, 0, sizeof r);
    cl_service_api_handle(h->svc, &q, &r);
    rc->status = r.status;
    return queue_answer(h, c, &r);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)c;
    (void)toe;
    cl_httpd *h = cls;
    req_ctx *rc = *con_cls;
    if (!rc)
        return;
    if (rc->status)
        cl_service_api_count(h->svc, rc->route, rc->status, mono() - rc->t0);
    if (rc->pending)  /* answered by a script, never sent (the client went away) */
        cl_service_api_response_free(&rc->r);
    cl_alloc_free(rc->body);
    cl_alloc_free(rc);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("serve: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

/* One epoll thread per core: every answer but the script routes is computed without waiting,
 * so more threads than cores only add switches (the tail latency of thread-per-connection). */
static unsigned pool_size(int threads)
{
    long n = threads > 0 ? threads : sysconf(_SC_NPROCESSORS_ONLN);
    return n < 1 ? 1u : n > 64 ? 64u : (unsigned)n;
}

int cl_httpd_start(cl_httpd **out, cl_service *svc, const cl_httpd_config *cfg)
{
    *out = NULL;
    cl_httpd *h = cl_alloc_calloc(1, sizeof *h);
    if (!h)
        return CL_ENOMEM;
    h->svc = svc;
    h->cfg = *cfg;
    if (h->cfg.timeout_s <= 0)
        h->cfg.timeout_s = 30;
    if (h->cfg.max_connections <= 0)
        h->cfg.max_connections = 512;
    if (h->cfg.refresh_ms <= 0)
        h->cfg.refresh_ms = 1000;
    const char *bind = cfg->bind ? cfg->bind : "127.0.0.1";
    if (cfg->port < 0 || cfg->port > 65535) {
        cl_alloc_free(h);
        return cl_error(CL_EINVAL, "serve: port must be in 0..65535, got %d", cfg->port);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, bind, &sa.sin_addr) != 1) {
        cl_alloc_free(h);
        return cl_error(CL_EINVAL, "serve: bind address must be a numeric IPv4 address such as "
                                   "127.0.0.1, got '%.60s'", bind);
    }
    /* the first aggregates before the first request */
    int rc = cl_service_refresh(svc, 1, NULL);
    if (rc) {
        cl_alloc_free(h);
        return rc;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->idle, NULL);
    h->d = MHD_start_daemon(
        MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_TURBO |
            MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, handler, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_THREAD_POOL_SIZE, pool_size(h->cfg.threads),
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)h->cfg.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CL_HTTPD_MAX_HEADERS, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (!h->d) {
        pthread_mutex_destroy(&h->mu);
        pthread_cond_destroy(&h->idle);
        cl_alloc_free(h);
        return cl_error(CL_EIO, "serve: cannot listen on %s:%d (in use, or not allowed)", bind,
                        cfg->port);
    }
    const union MHD_DaemonInfo *di = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = di ? di->port : cfg->port;
    if (pthread_create(&h->monitor, NULL, monitor_main, h) == 0)
        h->monitor_started = 1;
    *out = h;
    return CL_OK;
}

int cl_httpd_port(const cl_httpd *h) { return h->port; }

void cl_httpd_stop(cl_httpd *h)
{
    if (!h)
        return;
    atomic_store(&h->stopping, 1);
    cl_service_wake(h->svc);
    if (h->monitor_started)
        pthread_join(h->monitor, NULL);
    MHD_quiesce_daemon(h->d);
    /* libmicrohttpd must not be stopped with suspended connections: wait for the script
     * routes (they give up within 10 s), then let every stream see `stopping` and end */
    pthread_mutex_lock(&h->mu);
    while (h->scripts_inflight)
        pthread_cond_wait(&h->idle, &h->mu);
    pthread_mutex_unlock(&h->mu);
    resume_streams(h);
    MHD_stop_daemon(h->d);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->idle);
    cl_alloc_free(h);
}
