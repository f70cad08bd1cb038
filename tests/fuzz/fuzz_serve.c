/* fuzz_serve.c - libFuzzer target: arbitrary requests through the live service's one request
 * handler (core/serve/service_api.c) over the small fixture of tests/core/serve (60 customers,
 * a logistic regression with its pipeline, an event log, a popularity recommender).
 *
 * Input: line 1 the method, line 2 the path, line 3 the query (k=v&k=v, '=' optional), line 4
 * the Authorization header (empty: none), the rest the body. Every answer must be a status in
 * 200..599 with a body that is valid JSON whenever the type says JSON; accepted events really
 * change the state (its event count moves by exactly the number the answer acknowledges). */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "../core/serve/serve_fixture.h" /* tests/core/serve/ */

static svc_fixture F;
static int ready;

static const char *line(const uint8_t **p, const uint8_t *end, char *buf, size_t cap)
{
    size_t n = 0;
    while (*p < end && **p != '\n') {
        if (n + 1 < cap)
            buf[n++] = (char)**p;
        (*p)++;
    }
    if (*p < end)
        (*p)++;
    buf[n] = '\0';
    return buf;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ready) {
        if (fx_setup(&F, "fuzz", 1, "s3cret")) {
            fprintf(stderr, "fuzz_serve: fixture: %s\n", cl_error_last());
            abort();
        }
        ready = 1;
    }
    const uint8_t *p = data, *end = data + size;
    char method[16], path[512], query[512], auth[256];
    line(&p, end, method, sizeof method);
    line(&p, end, path, sizeof path);
    line(&p, end, query, sizeof query);
    line(&p, end, auth, sizeof auth);
    const char *kv[64];
    int nq = 0;
    for (char *s = query; *s && nq < 32;) {
        char *amp = strchr(s, '&');
        if (amp)
            *amp = '\0';
        char *eq = strchr(s, '=');
        if (eq)
            *eq = '\0';
        kv[2 * nq] = s;
        kv[2 * nq + 1] = eq ? eq + 1 : NULL;
        nq++;
        if (!amp)
            break;
        s = amp + 1;
    }
    int64_t before = cl_livestate_events(F.s);
    cl_service_request q = {method, path, kv, nq, (const char *)p, (size_t)(end - p),
                            auth[0] ? auth : NULL};
    cl_service_response r;
    cl_service_api_handle(F.svc, &q, &r);
    if (r.status < 200 || r.status > 599)
        abort();
    json_t *j = NULL;
    if (!r.stream && r.content_type && strncmp(r.content_type, "application/json", 16) == 0) {
        json_error_t e;
        j = json_loadb(r.body, r.len, 0, &e);
        if (!j)
            abort(); /* the service wrote something that is not JSON */
    }
    int64_t acc = 0;
    if (j && strcmp(path, "/api/events") == 0 && r.status == 200)
        acc = json_integer_value(json_object_get(j, "accepted"));
    if (cl_livestate_events(F.s) != before + acc)
        abort(); /* the state moved by other than what was acknowledged */
    json_decref(j);
    cl_service_api_response_free(&r);
    /* now and then the monitor too (it reads everything the events changed) */
    if (size % 16 == 0 && cl_service_refresh(F.svc, 1, NULL) != CL_OK)
        abort();
    return 0;
}
