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

#define MAX_QUERY 32

struct cl_httpd {
    struct MHD_Daemon *d;
    cl_service *svc;
    cl_httpd_config cfg;
    pthread_t monitor;
    int monitor_started;
    atomic_int stopping;
    int port;
};

/* One request: its body as it arrives, and when it started. */
typedef struct req_ctx {
    char *body;
    size_t len, cap;
    int too_big;
    double t0;
    int route, status;
} req_ctx;

static double mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void *monitor_main(void *arg)
{
    cl_httpd *h = arg;
    while (!atomic_load(&h->stopping)) {
        if (cl_service_refresh(h->svc, 0, NULL) != CL_OK)
            fprintf(stderr, "serve: monitor: %s\n", cl_last_error());
        int ms = h->cfg.refresh_ms;
        for (int slept = 0; slept < ms && !atomic_load(&h->stopping); slept += 50) {
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
    }
    return NULL;
}

/* ---- server-sent events -------------------------------------------------------------------- */

typedef struct sse_ctx {
    cl_httpd *h;
    int64_t seen;
    char *pending;
    size_t len, off;
    int first;
} sse_ctx;

static int sse_fill(sse_ctx *s)
{
    cl_free(s->pending);
    s->pending = NULL;
    s->len = s->off = 0;
    int64_t v = s->first ? cl_service_monitor(s->h->svc, NULL, NULL)
                         : cl_service_wait(s->h->svc, s->seen, 15000);
    s->first = 0;
    if (atomic_load(&s->h->stopping))
        return 0;
    char *json = NULL;
    size_t n = 0;
    if (v != s->seen)
        v = cl_service_monitor(s->h->svc, &json, &n);
    if (json) {
        s->pending = cl_alloc(n + 32);
        if (!s->pending) {
            cl_free(json);
            return 0;
        }
        s->len = (size_t)snprintf(s->pending, n + 32, "event: monitor\ndata: %s\n\n", json);
        cl_free(json);
        s->seen = v;
    } else {
        s->pending = cl_strdup(": ping\n\n");
        if (!s->pending)
            return 0;
        s->len = strlen(s->pending);
    }
    return 1;
}

static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    (void)pos;
    sse_ctx *s = cls;
    if (s->off == s->len && !sse_fill(s))
        return MHD_CONTENT_READER_END_OF_STREAM;
    size_t k = s->len - s->off < max ? s->len - s->off : max;
    memcpy(buf, s->pending + s->off, k);
    s->off += k;
    return (ssize_t)k;
}

static void sse_free(void *cls)
{
    sse_ctx *s = cls;
    cl_free(s->pending);
    cl_free(s);
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

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    cl_httpd *h = cls;
    req_ctx *rc = *con_cls;
    if (!rc) {
        rc = cl_calloc(1, sizeof *rc);
        if (!rc)
            return MHD_NO;
        rc->t0 = mono();
        rc->route = cl_service_route(url);
        *con_cls = rc;
        const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl && strtoull(cl, NULL, 10) > CL_SERVICE_MAX_BODY)
            rc->too_big = 1;
        return MHD_YES;
    }
    if (*upload_size) {
        if (!rc->too_big && rc->len + *upload_size > CL_SERVICE_MAX_BODY)
            rc->too_big = 1;
        if (!rc->too_big) {
            if (rc->len + *upload_size + 1 > rc->cap) {
                size_t cap = rc->cap ? rc->cap : 4096;
                while (cap < rc->len + *upload_size + 1)
                    cap *= 2;
                char *t = cl_realloc(rc->body, cap);
                if (!t)
                    return MHD_NO;
                rc->body = t;
                rc->cap = cap;
            }
            memcpy(rc->body + rc->len, upload, *upload_size);
            rc->len += *upload_size;
            rc->body[rc->len] = '\0';
        }
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
    cl_service_response r;
    memset(&r, 0, sizeof r);
    int answered = 0;
    if (rc->route == 0 && h->cfg.custom)
        answered = h->cfg.custom(h->cfg.custom_ctx, &q, &r);
    if (!answered)
        cl_service_handle(h->svc, &q, &r);
    rc->status = r.status;
    struct MHD_Response *resp;
    if (r.stream) {
        sse_ctx *s = cl_calloc(1, sizeof *s);
        if (!s)
            return MHD_NO;
        s->h = h;
        s->seen = -1;
        s->first = 1;
        resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16384, sse_read, s, sse_free);
        if (!resp) {
            sse_free(s);
            return MHD_NO;
        }
        add_headers(resp, "text/event-stream");
        MHD_add_response_header(resp, "X-Accel-Buffering", "no");
    } else {
        resp = MHD_create_response_from_buffer(r.len, r.body,
                                               r.body_static ? MHD_RESPMEM_PERSISTENT
                                                             : MHD_RESPMEM_MUST_COPY);
        if (!resp) {
            cl_service_response_free(&r);
            return MHD_NO;
        }
        add_headers(resp, r.content_type ? r.content_type : "application/json");
    }
    enum MHD_Result ok = MHD_queue_response(c, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    cl_service_response_free(&r);
    return ok;
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
        cl_service_count(h->svc, rc->route, rc->status, mono() - rc->t0);
    cl_free(rc->body);
    cl_free(rc);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    fputs("serve: http: ", stderr);
    vfprintf(stderr, fmt, ap);
}

int cl_httpd_start(cl_httpd **out, cl_service *svc, const cl_httpd_config *cfg)
{
    *out = NULL;
    cl_httpd *h = cl_calloc(1, sizeof *h);
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
        cl_free(h);
        return cl_error(CL_EINVAL, "serve: port must be in 0..65535, got %d", cfg->port);
    }
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)cfg->port);
    if (inet_pton(AF_INET, bind, &sa.sin_addr) != 1) {
        cl_free(h);
        return cl_error(CL_EINVAL, "serve: bind address must be a numeric IPv4 address such as "
                                   "127.0.0.1, got '%.60s'", bind);
    }
    /* the first aggregates before the first request */
    int rc = cl_service_refresh(svc, 1, NULL);
    if (rc) {
        cl_free(h);
        return rc;
    }
    h->d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG,
        (uint16_t)cfg->port, NULL, NULL, handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)h->cfg.timeout_s, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)h->cfg.max_connections, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
        (size_t)CL_HTTPD_MAX_HEADERS, MHD_OPTION_NOTIFY_COMPLETED, completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL, MHD_OPTION_LISTENING_ADDRESS_REUSE, 1u,
        MHD_OPTION_END);
    if (!h->d) {
        cl_free(h);
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
    MHD_stop_daemon(h->d);
    cl_free(h);
}
