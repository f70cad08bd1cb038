/* httpd.h - libmicrohttpd in front of cl_service_api_handle, plus the monitor thread.
 *
 *   cl_httpd *h;
 *   cl_httpd_config hc = {.bind = "127.0.0.1", .port = 8080};
 *   cl_httpd_start(&h, svc, &hc);   // serving from here on, on libmicrohttpd's threads
 *   ...
 *   cl_httpd_stop(h);               // drains: stops accepting, ends streams, joins threads
 *
 * A pool of epoll threads, one per core (libmicrohttpd's thread pool). Nothing on them waits:
 * a streaming client (/api/stream, server-sent events) with nothing new is suspended and
 * resumed by the monitor thread after each refresh, and a script route (which waits for the
 * Lua thread) runs on a thread of its own while its connection is suspended. Limits on every request: headers within
 * CL_HTTPD_MAX_HEADERS bytes (libmicrohttpd answers 431/413), bodies within
 * CL_SERVICE_MAX_BODY (413 before the body is read), idle connections closed after
 * timeout_s, at most max_connections at once. The listening address is loopback unless
 * `bind` says otherwise.
 *
 * Extra routes (Lua's `routes = {...}`): `custom` is asked first for every request; it
 * returns 1 when it answered (the service's own routes are never shadowed: it is only asked
 * for paths the service does not know).
 */
#ifndef CL_HTTPD_H
#define CL_HTTPD_H

#include "serve/service.h"

#define CL_HTTPD_MAX_HEADERS (32 * 1024)

typedef struct cl_httpd_config {
    const char *bind;      /* numeric IPv4 address; NULL = 127.0.0.1 */
    int port;              /* 0 = any free port (cl_httpd_port says which) */
    int timeout_s;         /* idle connection timeout (default 30) */
    int max_connections;   /* default 512 */
    int refresh_ms;        /* monitor period (default 1000) */
    int threads;           /* epoll worker threads (default: one per online core) */
    int (*custom)(void *ctx, const cl_service_request *q, cl_service_response *r);
    void *custom_ctx;
} cl_httpd_config;

typedef struct cl_httpd cl_httpd;

int cl_httpd_start(cl_httpd **out, cl_service *svc, const cl_httpd_config *cfg);
int cl_httpd_port(const cl_httpd *h);
/* Stops accepting, wakes and ends every stream, joins the threads, frees h. */
void cl_httpd_stop(cl_httpd *h);

#endif
