/* test_service.c - the live service's request handler (serve/service.h) on a small fixture
 * (serve_fixture.h): every route, good and bad input, against independent computations:
 * risks from a separately loaded model scoring the batch feature frame, action values from
 * the documented formula, aggregates from the risks, events counted in the state and the log. */
#include <jansson.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>

#include <cmocka.h>

#include "serve_fixture.h"
#include "serve/service_impl.h"

static svc_fixture F;

static json_t *call(const char *method, const char *path, const char *body, const char *auth,
                    int *status)
{
    cl_service_request q = {method, path, NULL, 0, body, body ? strlen(body) : 0, auth};
    cl_service_response r;
    cl_service_api_handle(F.svc, &q, &r);
    *status = r.status;
    json_error_t e;
    json_t *j = r.body && strncmp(r.content_type, "application/json", 16) == 0
                    ? json_loadb(r.body, r.len, 0, &e)
                    : NULL;
    cl_service_api_response_free(&r);
    return j;
}

static json_t *call_q(const char *path, const char *const *kv, int nkv, int *status)
{
    cl_service_request q = {"GET", path, kv, nkv, NULL, 0, NULL};
    cl_service_response r;
    cl_service_api_handle(F.svc, &q, &r);
    *status = r.status;
    json_error_t e;
    json_t *j = json_loadb(r.body, r.len, 0, &e);
    cl_service_api_response_free(&r);
    return j;
}

/* P(churn) of user u from an independent path: the batch feature frame of the state plus the
 * profile column, through a separately loaded model file. */
static double oracle_risk(int32_t u)
{
    cl_model *m = NULL;
    assert_int_equal(cl_model_kinds_load(&m, F.model_path), CL_OK);
    cl_frame *fr = NULL;
    assert_int_equal(cl_livestate_frame(F.s, &u, 1, &fr), CL_OK);
    static const char *const R[] = {"north", "south", "east"};
    const char *region = R[u % 3];
    cl_column *c = NULL;
    assert_int_equal(cl_frame_column_from_strings(&c, &region, 1), CL_OK);
    assert_int_equal(cl_frame_set(fr, "region", c), CL_OK);
    cl_frame_column_free(c);
    float p;
    assert_int_equal(cl_model_score_frame(m, fr, &p), CL_OK);
    cl_frame_free(fr);
    cl_model_free(m);
    return p;
}

static int setup(void **st)
{
    (void)st;
    int rc = fx_setup(&F, "t", 1, "s3cret");
    if (rc)
        fprintf(stderr, "fixture: %s\n", cl_error_last());
    return rc;
}

static int teardown(void **st)
{
    (void)st;
    fx_teardown(&F);
    return 0;
}

static void customer_risk_equals_batch_scoring(void **st)
{
    (void)st;
    int checked = 0;
    for (int32_t u = 1; u <= FX_USERS; u++) {
        char path[64];
        snprintf(path, sizeof path, "/api/customers/%d", (int)u);
        int status;
        json_t *j = call("GET", path, NULL, NULL, &status);
        assert_int_equal(status, 200);
        double risk = json_real_value(json_object_get(j, "risk"));
        /* the service rounds risks to 1e-5; the model scores float32 rows on both paths
         * (same binary, same rows): the difference is the rounding */
        assert_true(fabs(risk - oracle_risk(u)) <= 5.1e-6);
        assert_int_equal(json_is_true(json_object_get(j, "active")), cl_livestate_active(F.s, u));
        json_t *rs = json_object_get(j, "reasons");
        assert_true(json_array_size(rs) > 0 && json_array_size(rs) <= 5);
        double prev = HUGE_VAL;
        for (size_t k = 0; k < json_array_size(rs); k++) {
            double c = fabs(json_real_value(json_object_get(json_array_get(rs, k), "contrib")));
            assert_true(c <= prev + 1e-5); /* strongest first */
            prev = c;
            assert_non_null(json_string_value(json_object_get(json_array_get(rs, k), "text")));
        }
        json_decref(j);
        checked++;
    }
    assert_int_equal(checked, FX_USERS);
}

static void action_values_follow_the_formula(void **st)
{
    (void)st;
    int status;
    json_t *j = call("GET", "/api/customers/7", NULL, NULL, &status);
    assert_int_equal(status, 200);
    double p = json_real_value(json_object_get(j, "risk"));
    double price = json_real_value(json_object_get(j, "price"));
    assert_true(price == FX_PRICES[7 % 3]);
    json_t *feats = json_object_get(j, "features");
    double issues = json_number_value(json_object_get(feats, "tickets_30")) +
                    json_number_value(json_object_get(feats, "payment_failures_30"));
    issues = issues < 1 ? issues : 1;
    double value = 0.5, s = 1;
    for (int m = 2; m <= 12; m++) {
        s *= 1 - p;
        value += s;
    }
    value *= price;
    /* the built-in actions: discount (contact 0.5, 25% of the price, log HR -0.15), call
     * (contact 3, log HR -0.2 - 0.6 issues) */
    double hr_d = exp(-0.15), hr_c = exp(-0.2 - 0.6 * issues);
    double net_d = p * (1 - (1 - pow(1 - p, hr_d)) / p) * value - 0.25 * price - 0.5;
    double net_c = p * (1 - (1 - pow(1 - p, hr_c)) / p) * value - 3.0;
    json_t *act = json_object_get(j, "action");
    double got_d = NAN, got_c = NAN, got_none = NAN;
    json_t *all = json_array();
    json_array_append(all, act);
    json_array_extend(all, json_object_get(act, "alternatives"));
    for (size_t k = 0; k < json_array_size(all); k++) {
        json_t *a = json_array_get(all, k);
        const char *name = json_string_value(json_object_get(a, "name"));
        double v = json_real_value(json_object_get(a, "expected_net_value"));
        if (!strcmp(name, "discount"))
            got_d = v;
        else if (!strcmp(name, "call"))
            got_c = v;
        else if (!strcmp(name, "none"))
            got_none = v;
    }
    json_decref(all);
    /* rounding to cents, and the risk itself rounded to 1e-5 in the answer */
    assert_true(fabs(got_d - net_d) < 0.006 + 1e-4 * price);
    assert_true(fabs(got_c - net_c) < 0.006 + 1e-4 * price);
    assert_true(got_none == 0);
    double best = json_real_value(json_object_get(act, "expected_net_value"));
    assert_true(best >= got_d - 1e-9 && best >= got_c - 1e-9 && best >= 0);
    json_decref(j);
}

static void monitor_aggregates_are_the_risks(void **st)
{
    (void)st;
    assert_int_equal(cl_service_refresh(F.svc, 1, NULL), CL_OK);
    int status;
    json_t *j = call("GET", "/api/monitor", NULL, NULL, &status);
    assert_int_equal(status, 200);
    json_t *kpi = json_object_get(j, "kpi");
    int32_t *ids = NULL;
    int64_t n = 0;
    assert_int_equal(cl_livestate_active_ids(F.s, &ids, &n), CL_OK);
    int64_t active = 0;
    double sum = 0;
    for (int32_t u = 1; u <= FX_USERS; u++)
        if (cl_livestate_active(F.s, u)) {
            active++;
            sum += oracle_risk(u);
        }
    assert_int_equal(n, active);
    assert_int_equal(json_integer_value(json_object_get(kpi, "active")), active);
    assert_true(fabs(json_real_value(json_object_get(kpi, "expected_churners")) - sum) < 0.051);
    json_t *counts = json_object_get(json_object_get(j, "risk_hist"), "counts");
    int64_t hsum = 0;
    for (size_t k = 0; k < json_array_size(counts); k++)
        hsum += json_integer_value(json_array_get(counts, k));
    assert_int_equal(hsum, active);
    json_t *top = json_object_get(j, "top");
    assert_int_equal((int64_t)json_array_size(top), active < 200 ? active : 200);
    for (size_t k = 1; k < json_array_size(top); k++)
        assert_true(json_real_value(json_object_get(json_array_get(top, k - 1), "risk")) >=
                    json_real_value(json_object_get(json_array_get(top, k), "risk")));
    cl_alloc_free(ids);
    json_decref(j);
}

static void events_need_the_token_and_are_counted(void **st)
{
    (void)st;
    const char *body = "{\"user_id\": 5, \"day\": 100, \"event\": \"ticket\"}\n"
                       "not json\n"
                       "{\"user_id\": 5, \"day\": 100, \"event\": \"tickett\"}\n"
                       "\n"
                       "{\"user_id\": 5, \"day\": 100, \"event\": \"watch\", \"title_id\": 3, "
                       "\"minutes\": 12, \"completion\": 1}\n"
                       "{\"user_id\": 5, \"day\": 100, \"event\": \"watch\", \"title_id\": 99}\n"
                       "{\"user_id\": 5, \"day\": 100, \"event\": \"ticket\", \"colour\": 1}\n";
    int status;
    json_t *j = call("POST", "/api/events", body, NULL, &status);
    assert_int_equal(status, 401);
    json_decref(j);
    j = call("POST", "/api/events", body, "Bearer wrong", &status);
    assert_int_equal(status, 401);
    json_decref(j);
    json_t *before = call("GET", "/api/customers/5", NULL, NULL, &status);
    int64_t ev0 = cl_livestate_events(F.s), log0 = cl_livelog_count(F.log);
    j = call("POST", "/api/events", body, "Bearer s3cret", &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_integer_value(json_object_get(j, "accepted")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "rejected")), 4);
    json_t *errs = json_object_get(j, "errors");
    assert_int_equal(json_array_size(errs), 4);
    /* the lines are named: 2 (not JSON), 3 (unknown event), 7 (unknown field) when parsed,
     * 6 (unknown title) when applied */
    int lines[4];
    for (int k = 0; k < 4; k++)
        lines[k] = (int)json_integer_value(json_object_get(json_array_get(errs, k), "line"));
    assert_int_equal(lines[0], 2);
    assert_int_equal(lines[1], 3);
    assert_int_equal(lines[2], 7);
    assert_int_equal(lines[3], 6);
    assert_int_equal(cl_livestate_events(F.s), ev0 + 2);
    assert_int_equal(cl_livelog_count(F.log), log0 + 2);
    assert_int_equal(F.version, 1);
    json_decref(j);
    /* the customer's answer follows at once: one more ticket in the last 30 days */
    json_t *after = call("GET", "/api/customers/5", NULL, NULL, &status);
    double t0 = json_number_value(json_object_get(json_object_get(before, "features"), "tickets_30"));
    double t1 = json_number_value(json_object_get(json_object_get(after, "features"), "tickets_30"));
    assert_true(t1 == t0 + 1);
    assert_true(fabs(json_real_value(json_object_get(after, "risk")) - oracle_risk(5)) <= 5.1e-6);
    json_decref(before);
    json_decref(after);
    /* nothing acceptable: 400, nothing logged */
    j = call("POST", "/api/events", "{\"user_id\": -1, \"day\": 1, \"event\": \"ticket\"}",
             "Bearer s3cret", &status);
    assert_int_equal(status, 400);
    assert_int_equal(cl_livelog_count(F.log), log0 + 2);
    json_decref(j);
    j = call("POST", "/api/events", NULL, "Bearer s3cret", &status);
    assert_int_equal(status, 400);
    json_decref(j);
}

static void score_rows_equal_the_customer_risk(void **st)
{
    (void)st;
    double f[CL_LIVE_NFEATURES];
    int plan;
    assert_int_equal(cl_livestate_features(F.s, 11, f, &plan), CL_OK);
    json_t *row = json_object();
    for (int k = 0; k < CL_LIVE_NFEATURES; k++)
        json_object_set_new(row, cl_livestate_feature_defs[k].name,
                            isnan(f[k]) ? json_null() : json_real(f[k]));
    json_object_set_new(row, "plan", json_string(FX_PLANS[plan]));
    json_object_set_new(row, "region", json_string("east")); /* the profile: 11 % 3 = 2 */
    json_t *req = json_pack("{s:[O]}", "rows", row);
    char *body = json_dumps(req, 0);
    int status;
    json_t *j = call("POST", "/api/score", body, NULL, &status);
    if (status != 200)
        fprintf(stderr, "%s\n", json_dumps(j, 0));
    assert_int_equal(status, 200);
    double p = json_real_value(json_array_get(json_object_get(j, "probabilities"), 0));
    assert_true(fabs(p - oracle_risk(11)) < 1e-6);
    json_decref(j);
    free(body);
    /* one row object alone works too */
    body = json_dumps(row, 0);
    j = call("POST", "/api/score", body, NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    free(body);
    /* unknown column, wrong type, empty, malformed, too many fields */
    json_object_set_new(row, "colour", json_integer(1));
    body = json_dumps(row, 0);
    j = call("POST", "/api/score", body, NULL, &status);
    assert_int_equal(status, 400);
    assert_non_null(strstr(json_string_value(json_object_get(json_object_get(j, "error"), "message")), "colour"));
    json_decref(j);
    free(body);
    json_object_del(row, "colour");
    json_object_set_new(row, "plan", json_pack("[i]", 1));
    body = json_dumps(row, 0);
    j = call("POST", "/api/score", body, NULL, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    free(body);
    j = call("POST", "/api/score", "{\"rows\": [", NULL, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    j = call("POST", "/api/score", "{\"rows\": []}", NULL, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    j = call("POST", "/api/score", "[1, 2]", NULL, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    json_decref(row);
    json_decref(req);
}

static void routes_methods_and_options(void **st)
{
    (void)st;
    int status;
    json_t *j;
    static const struct {
        const char *method, *path;
        int status;
    } cases[] = {
        {"GET", "/api/nothing", 404},       {"GET", "/etc/passwd", 404},
        {"GET", "/assets/../../etc/passwd", 404}, {"POST", "/api/monitor", 405},
        {"GET", "/api/events", 405},        {"DELETE", "/api/customers/1", 405},
        {"GET", "/api/customers/abc", 400}, {"GET", "/api/customers/0", 400},
        {"GET", "/api/customers/-3", 400},  {"GET", "/api/customers/99999999999", 400},
        {"GET", "/api/customers/9999", 404}, {"GET", "/api/customers/", 400},
        {"GET", "/", 404}, /* no assets in the fixture */
        {"GET", "/healthz", 200},           {"GET", "/api/recommend/3", 200},
        {"GET", "/api/customers", 200},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        j = call(cases[k].method, cases[k].path, NULL, NULL, &status);
        if (status != cases[k].status)
            fprintf(stderr, "%s %s: %d\n", cases[k].method, cases[k].path, status);
        assert_int_equal(status, cases[k].status);
        if (status >= 400)
            assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "error"), "status")), status);
        json_decref(j);
    }
    const char *bad[] = {"colour", "red"};
    j = call_q("/api/monitor", bad, 1, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    const char *k0[] = {"k", "0"}, *k5[] = {"k", "5"}, *kx[] = {"k", "5x"};
    j = call_q("/api/recommend/3", k0, 1, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    j = call_q("/api/recommend/3", kx, 1, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    j = call_q("/api/recommend/3", k5, 1, &status);
    assert_int_equal(status, 200);
    json_t *items = json_object_get(j, "items");
    assert_int_equal(json_array_size(items), 5);
    /* titles the customer watched are not recommended again */
    int32_t titles[FX_TITLES], days[FX_TITLES];
    int nt;
    assert_int_equal(cl_livestate_titles(F.s, 3, titles, days, FX_TITLES, &nt), CL_OK);
    for (size_t i = 0; i < json_array_size(items); i++) {
        int t = (int)json_integer_value(json_object_get(json_array_get(items, i), "title"));
        for (int h = 0; h < nt; h++)
            assert_int_not_equal(t, titles[h]);
        assert_non_null(json_string_value(json_object_get(json_array_get(items, i), "name")));
    }
    json_decref(j);
    const char *q[] = {"min_risk", "0.5", "limit", "3"};
    j = call_q("/api/customers", q, 2, &status);
    assert_int_equal(status, 200);
    json_t *cs = json_object_get(j, "customers");
    assert_true(json_array_size(cs) <= 3);
    for (size_t i = 0; i < json_array_size(cs); i++)
        assert_true(json_real_value(json_object_get(json_array_get(cs, i), "risk")) >= 0.5 - 1e-5);
    json_decref(j);
    const char *qb[] = {"min_risk", "2"};
    j = call_q("/api/customers", qb, 1, &status);
    assert_int_equal(status, 400);
    json_decref(j);
    /* a body over the limit is refused before anything reads it */
    cl_service_request big = {"POST", "/api/score", NULL, 0, "", (size_t)CL_SERVICE_MAX_BODY + 1, NULL};
    cl_service_response r;
    cl_service_api_handle(F.svc, &big, &r);
    assert_int_equal(r.status, 413);
    cl_service_api_response_free(&r);
}

static void reload_swaps_or_keeps_the_model(void **st)
{
    (void)st;
    int status;
    json_t *j = call("POST", "/api/reload", NULL, NULL, &status);
    assert_int_equal(status, 401);
    json_decref(j);
    j = call("POST", "/api/reload", NULL, "Bearer s3cret", &status);
    assert_int_equal(status, 200);
    assert_int_equal(json_integer_value(json_object_get(json_object_get(j, "model"), "version")), 2);
    json_decref(j);
    /* a broken model file: 422, the old model keeps answering */
    char tmp[160];
    snprintf(tmp, sizeof tmp, "%s.keep", F.model_path);
    assert_int_equal(rename(F.model_path, tmp), 0);
    FILE *fp = fopen(F.model_path, "w");
    fputs("not a model", fp);
    fclose(fp);
    j = call("POST", "/api/reload", NULL, "Bearer s3cret", &status);
    assert_int_equal(status, 422);
    json_decref(j);
    assert_int_equal(rename(tmp, F.model_path), 0);
    j = call("GET", "/api/customers/2", NULL, NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    cl_service_response r;
    cl_service_request q = {"GET", "/metrics", NULL, 0, NULL, 0, NULL};
    cl_service_api_count(F.svc, cl_service_api_route("/healthz"), 200, 0.001);
    cl_service_api_handle(F.svc, &q, &r);
    assert_int_equal(r.status, 200);
    assert_non_null(strstr(r.body, "churnlab_requests_total{route=\"/healthz\",code=\"2xx\"} 1"));
    assert_non_null(strstr(r.body, "churnlab_model_version{kind=\"logreg\"} 2"));
    cl_service_api_response_free(&r);
}

static void events_without_a_log_are_refused(void **st)
{
    (void)st;
    svc_fixture g;
    assert_int_equal(fx_setup(&g, "nolog", 0, NULL), CL_OK);
    cl_service_request q = {"POST", "/api/events", NULL, 0,
                            "{\"user_id\": 5, \"day\": 100, \"event\": \"ticket\"}", 45, NULL};
    cl_service_response r;
    int64_t ev0 = cl_livestate_events(g.s);
    cl_service_api_handle(g.svc, &q, &r);
    assert_int_equal(r.status, 503);
    assert_int_equal(cl_livestate_events(g.s), ev0);
    cl_service_api_response_free(&r);
    fx_teardown(&g);
}

static char *raw_get(const char *path)
{
    cl_service_request q = {"GET", path, NULL, 0, NULL, 0, NULL};
    cl_service_response r;
    cl_service_api_handle(F.svc, &q, &r);
    assert_int_equal(r.status, 200);
    char *t = strndup(r.body, r.len);
    cl_service_api_response_free(&r);
    return t;
}

/* The serialised answer is kept between requests: the same text while nothing changed, a new
 * one when the clock moves (features age: the risk follows the independent oracle) and when
 * the monitor adds a point to the customer's history. */
static void customer_text_cache_follows_clock_and_history(void **st)
{
    (void)st;
    int32_t u = 0;
    for (int32_t k = 1; k <= FX_USERS && !u; k++)
        if (cl_livestate_active(F.s, k))
            u = k;
    assert_true(u > 0);
    char path[64];
    snprintf(path, sizeof path, "/api/customers/%d", (int)u);
    assert_int_equal(cl_service_refresh(F.svc, 1, NULL), CL_OK);
    char *a = raw_get(path), *b = raw_get(path);
    assert_string_equal(a, b);
    int32_t now = cl_livestate_now(F.s);
    assert_int_equal(cl_livestate_advance(F.s, now + 20), CL_OK);
    char *c = raw_get(path);
    json_error_t e;
    json_t *jc = json_loads(c, 0, &e);
    assert_true(fabs(json_real_value(json_object_get(jc, "risk")) - oracle_risk(u)) <= 5.1e-6);
    json_t *h = json_object_get(jc, "history");
    assert_true(json_array_size(h) == 0 ||
                json_integer_value(json_object_get(json_array_get(h, json_array_size(h) - 1),
                                                   "day")) < now + 20);
    /* the monitor records today's risk: the next answer has that point */
    assert_int_equal(cl_service_refresh(F.svc, 1, NULL), CL_OK);
    char *d = raw_get(path);
    json_t *jd = json_loads(d, 0, &e);
    h = json_object_get(jd, "history");
    assert_true(json_array_size(h) > 0);
    json_t *last = json_array_get(h, json_array_size(h) - 1);
    assert_int_equal(json_integer_value(json_object_get(last, "day")), now + 20);
    assert_true(fabs(json_real_value(json_object_get(last, "risk")) - oracle_risk(u)) <= 1e-5);
    json_decref(jc);
    json_decref(jd);
    free(a);
    free(b);
    free(c);
    free(d);
}

static int64_t model_version(void)
{
    cl_service_request q = {"GET", "/metrics", NULL, 0, NULL, 0, NULL};
    cl_service_response r;
    cl_service_api_handle(F.svc, &q, &r);
    assert_int_equal(r.status, 200);
    const char *p = strstr(r.body, "churnlab_model_version{kind=\"logreg\"} ");
    assert_non_null(p);
    int64_t v = strtoll(p + strlen("churnlab_model_version{kind=\"logreg\"} "), NULL, 10);
    cl_service_api_response_free(&r);
    return v;
}

static void copy_file(const char *from, const char *to)
{
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    assert_non_null(a);
    assert_non_null(b);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, a)) > 0)
        assert_int_equal(fwrite(buf, 1, n, b), n);
    fclose(a);
    fclose(b);
}

/* A model file saved anew (written aside and renamed, as cl_model_save does) is swapped in by
 * the watcher; an unchanged file is not; a broken one is an error once and the old model
 * keeps answering. */
static void a_changed_model_file_is_swapped_in(void **st)
{
    (void)st;
    int swapped = -1;
    assert_int_equal(cl_service_watch_model(F.svc, &swapped), CL_OK);
    int64_t v0 = model_version();
    assert_int_equal(cl_service_watch_model(F.svc, &swapped), CL_OK);
    assert_int_equal(swapped, 0);
    assert_int_equal(model_version(), v0);
    char tmp[160], keep[160];
    snprintf(tmp, sizeof tmp, "%s.new", F.model_path);
    snprintf(keep, sizeof keep, "%s.keep", F.model_path);
    copy_file(F.model_path, keep);
    copy_file(F.model_path, tmp);
    assert_int_equal(rename(tmp, F.model_path), 0); /* a new inode */
    assert_int_equal(cl_service_watch_model(F.svc, &swapped), CL_OK);
    assert_int_equal(swapped, 1);
    assert_int_equal(model_version(), v0 + 1);
    assert_int_equal(cl_service_watch_model(F.svc, &swapped), CL_OK);
    assert_int_equal(swapped, 0);
    FILE *fp = fopen(tmp, "w");
    fputs("not a model", fp);
    fclose(fp);
    assert_int_equal(rename(tmp, F.model_path), 0);
    assert_int_not_equal(cl_service_watch_model(F.svc, &swapped), CL_OK);
    assert_non_null(strstr(cl_error_last(), "does not load"));
    assert_int_equal(swapped, 0);
    assert_int_equal(cl_service_watch_model(F.svc, &swapped), CL_OK); /* reported once */
    assert_int_equal(model_version(), v0 + 1);
    int status;
    json_t *j = call("GET", "/api/customers/2", NULL, NULL, &status);
    assert_int_equal(status, 200);
    json_decref(j);
    assert_int_equal(rename(keep, F.model_path), 0);
    assert_int_equal(cl_service_watch_model(F.svc, &swapped), CL_OK);
    assert_int_equal(swapped, 1);
    assert_int_equal(model_version(), v0 + 2);
}

static json_t *history_of(cl_service *svc, int32_t u)
{
    char path[64];
    snprintf(path, sizeof path, "/api/customers/%d", (int)u);
    cl_service_request q = {"GET", path, NULL, 0, NULL, 0, NULL};
    cl_service_response r;
    cl_service_api_handle(svc, &q, &r);
    assert_int_equal(r.status, 200);
    json_error_t e;
    json_t *j = json_loadb(r.body, r.len, 0, &e);
    cl_service_api_response_free(&r);
    json_t *h = json_incref(json_object_get(j, "history"));
    json_decref(j);
    return h;
}

/* With a history file, a new service on the same file shows every customer's risk history as
 * the old one had it (the monitor's points of two days), not an empty one. */
static void risk_history_survives_a_new_service(void **st)
{
    (void)st;
    char hp[160];
    snprintf(hp, sizeof hp, "%s.history.db", F.model_path);
    remove(hp);
    cl_service_config sc = {.state = F.s, .lock = &F.lock, .model_path = F.model_path,
                            .profiles = F.profiles, .history_path = hp};
    cl_service *a = NULL, *b = NULL;
    assert_int_equal(cl_service_new(&a, &sc), CL_OK);
    assert_int_equal(cl_service_refresh(a, 1, NULL), CL_OK);
    int32_t now = cl_livestate_now(F.s);
    assert_int_equal(cl_livestate_advance(F.s, now + 1), CL_OK);
    assert_int_equal(cl_service_refresh(a, 1, NULL), CL_OK);
    int checked = 0;
    json_t *ha[FX_USERS + 1] = {0};
    for (int32_t u = 1; u <= FX_USERS; u++)
        if (cl_livestate_active(F.s, u)) {
            ha[u] = history_of(a, u);
            assert_int_equal(json_array_size(ha[u]), 2);
        }
    cl_service_free(a);
    assert_int_equal(cl_service_new(&b, &sc), CL_OK); /* no refresh: only the file speaks */
    for (int32_t u = 1; u <= FX_USERS; u++)
        if (ha[u]) {
            json_t *hb = history_of(b, u);
            assert_true(json_equal(ha[u], hb));
            json_decref(hb);
            json_decref(ha[u]);
            checked++;
        }
    assert_true(checked > 0);
    cl_service_free(b);
    /* a file that is not a database: an error naming it */
    FILE *fp = fopen(hp, "w");
    fputs("this is not SQLite, just some text long enough to be looked at as a header......"
          "..............................................................................", fp);
    fclose(fp);
    remove(strcat(strcpy((char[200]){0}, hp), "-wal"));
    remove(strcat(strcpy((char[200]){0}, hp), "-shm"));
    assert_int_not_equal(cl_service_new(&b, &sc), CL_OK);
    assert_non_null(strstr(cl_error_last(), hp));
    remove(hp);
}

/* /api/customers lists the monitor's ranking: after a refresh, its rows, order and risks are
 * the monitor's top of the same version, filters select from it (risk computed independently
 * for min_risk), and events that move a risk change neither until the next refresh. */
static void customers_list_is_the_monitor_ranking(void **st)
{
    (void)st;
    assert_int_equal(cl_service_refresh(F.svc, 1, NULL), CL_OK);
    int status;
    json_t *mon = call("GET", "/api/monitor", NULL, NULL, &status);
    assert_int_equal(status, 200);
    json_t *top = json_object_get(mon, "top");
    int64_t active = json_integer_value(json_object_get(json_object_get(mon, "kpi"), "active"));
    const char *all[] = {"limit", "1000"};
    json_t *j = call_q("/api/customers", all, 1, &status);
    assert_int_equal(status, 200);
    json_t *cs = json_object_get(j, "customers");
    assert_int_equal(json_integer_value(json_object_get(j, "total")), active);
    assert_int_equal((int64_t)json_array_size(cs), active);
    assert_int_equal(json_integer_value(json_object_get(j, "monitor_version")),
                     json_integer_value(json_object_get(mon, "version")));
    assert_int_equal(json_array_size(top), json_array_size(cs));
    for (size_t k = 0; k < json_array_size(cs); k++) {
        json_t *a = json_array_get(cs, k), *b = json_array_get(top, k);
        assert_int_equal(json_integer_value(json_object_get(a, "id")),
                         json_integer_value(json_object_get(b, "id")));
        assert_true(json_real_value(json_object_get(a, "risk")) ==
                    json_real_value(json_object_get(b, "risk"))); /* same doubles, same rounding */
    }
    /* min_risk and plan select from the ranking: check against the oracle's risks */
    double cut = json_real_value(json_object_get(json_array_get(cs, json_array_size(cs) / 2), "risk"));
    char cuts[32];
    snprintf(cuts, sizeof cuts, "%.6f", cut);
    const char *qm[] = {"min_risk", cuts, "plan", "premium"};
    json_t *jm = call_q("/api/customers", qm, 2, &status);
    assert_int_equal(status, 200);
    int64_t want = 0;
    for (int32_t u = 1; u <= FX_USERS; u++) {
        int pl = -1;
        double f[CL_LIVE_NFEATURES];
        assert_int_equal(cl_livestate_features(F.s, u, f, &pl), CL_OK);
        double rk = oracle_risk(u);
        /* risks within 1e-6 of the cut are left out of the count: the rounding of the cut */
        if (cl_livestate_active(F.s, u) && pl == 2 && fabs(rk - atof(cuts)) > 1e-6)
            want += rk >= atof(cuts);
        else if (cl_livestate_active(F.s, u) && pl == 2)
            want = -1000000; /* a tie with the cut: the count below is not checked */
    }
    if (want >= 0)
        assert_int_equal(json_integer_value(json_object_get(jm, "total")), want);
    for (size_t k = 0; k < json_array_size(json_object_get(jm, "customers")); k++)
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(json_object_get(jm, "customers"), k), "plan")),
                            "premium");
    json_decref(jm);
    /* q: that customer's ranked row, or nothing */
    char idtext[16];
    int64_t first = json_integer_value(json_object_get(json_array_get(cs, 0), "id"));
    snprintf(idtext, sizeof idtext, "%lld", (long long)first);
    const char *qq[] = {"q", idtext};
    json_t *jq = call_q("/api/customers", qq, 1, &status);
    assert_int_equal(json_integer_value(json_object_get(jq, "total")), 1);
    json_decref(jq);
    /* an event moves customer `first`'s risk: the list stays the ranked one until a refresh */
    char body[160];
    snprintf(body, sizeof body, "{\"user_id\": %lld, \"day\": 100, \"event\": \"ticket\"}\n"
             "{\"user_id\": %lld, \"day\": 100, \"event\": \"payment_failed\"}\n",
             (long long)first, (long long)first);
    json_decref(call("POST", "/api/events", body, "Bearer s3cret", &status));
    assert_int_equal(status, 200);
    jq = call_q("/api/customers", qq, 1, &status);
    assert_true(json_real_value(json_object_get(json_array_get(json_object_get(jq, "customers"), 0), "risk")) ==
                json_real_value(json_object_get(json_array_get(cs, 0), "risk")));
    json_decref(jq);
    assert_int_equal(cl_service_refresh(F.svc, 0, NULL), CL_OK);
    jq = call_q("/api/customers", qq, 1, &status);
    json_t *row = json_array_get(json_object_get(jq, "customers"), 0);
    if (cl_livestate_active(F.s, (int32_t)first)) /* still ranked: with its new risk */
        assert_true(fabs(json_real_value(json_object_get(row, "risk")) - oracle_risk((int32_t)first)) <= 5.1e-6);
    json_decref(jq);
    json_decref(j);
    json_decref(mon);
}

static json_t *call_on(cl_service *svc, const char *path, int *status)
{
    cl_service_request q = {"GET", path, NULL, 0, NULL, 0, NULL};
    cl_service_response r;
    cl_service_api_handle(svc, &q, &r);
    *status = r.status;
    json_error_t e;
    json_t *j = json_loadb(r.body, r.len, 0, &e);
    cl_service_api_response_free(&r);
    return j;
}

/* The titles of a customer answer's recommendations, or of /api/recommend's items. */
static void titles_of(json_t *arr, int *t, int *n)
{
    *n = (int)json_array_size(arr);
    for (int k = 0; k < *n; k++)
        t[k] = (int)json_integer_value(json_object_get(json_array_get(arr, k), "title"));
}

/* The answer cache is a fixed pool (cache_answers slots, reused in clock order): with 8 slots
 * for 60 customers every answer is still the one an uncapped service gives, at most 8 are
 * held, and the bytes stay under the stated bound. */
static void answer_cache_is_bounded(void **st)
{
    (void)st;
    cl_service_config sc = {.state = F.s, .log = F.log, .lock = &F.lock,
                            .model_path = F.model_path, .profiles = F.profiles, .rec = F.rec,
                            .ntitles = FX_TITLES, .cache_answers = 8};
    cl_service *small = NULL, *big = NULL;
    assert_int_equal(cl_service_new(&small, &sc), CL_OK);
    sc.cache_answers = 0; /* the default: room for all */
    assert_int_equal(cl_service_new(&big, &sc), CL_OK); /* same state: same linear reference */
    for (int pass = 0; pass < 3; pass++)
        for (int32_t u = 1; u <= FX_USERS; u++) {
            int u2 = pass == 1 ? FX_USERS + 1 - u : u; /* another order: other evictions */
            char path[64];
            snprintf(path, sizeof path, "/api/customers/%d", u2);
            int s1, s2;
            json_t *a = call_on(small, path, &s1), *b = call_on(big, path, &s2);
            assert_int_equal(s1, 200);
            assert_int_equal(s2, 200);
            const char *key;
            json_t *v;
            json_object_foreach(a, key, v)
            {
                char *x = json_dumps(v, JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY),
                     *y = json_dumps(json_object_get(b, key), JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY);
                if (!y || strcmp(x, y) != 0) {
                    fprintf(stderr, "customer %d, '%s': %s != %s\n", u2, key, x, y ? y : "none");
                    fail();
                }
                free(x);
                free(y);
            }
            assert_int_equal(json_object_size(a), json_object_size(b));
            json_decref(a);
            json_decref(b);
            int64_t used, slots, bytes, bound;
            cl_service_cache_stats(small, &used, &slots, &bytes, &bound);
            assert_int_equal(slots, 8);
            assert_true(used >= 1 && used <= 8);
            assert_true(bytes <= bound);
        }
    int64_t used, slots, bytes, bound;
    cl_service_cache_stats(big, &used, &slots, &bytes, &bound);
    assert_int_equal(used, FX_USERS); /* the uncapped one keeps them all */
    cl_service_free(small);
    cl_service_free(big);
}

/* Recommendations are kept while the customer's history holds (a ticket: same history, the
 * answer recomputed with the old list) and folded in again when it changes (a watch): both
 * equal /api/recommend, which folds in afresh on every call. */
static void recommendations_follow_the_history(void **st)
{
    (void)st;
    const char *bodies[] = {"{\"user_id\": 9, \"day\": 100, \"event\": \"ticket\"}\n", NULL};
    int status;
    json_t *j0 = call("GET", "/api/customers/9", NULL, NULL, &status);
    json_decref(j0);
    for (int k = 0; k < 2; k++) {
        char body[200];
        snprintf(body, sizeof body, "%s", bodies[k] ? bodies[k] : "");
        if (k == 1) { /* a title the customer has not watched, whatever the fixture made */
            cl_service_request q = {"GET", "/api/recommend/9", (const char *const[]){"k", "10"}, 1, NULL, 0, NULL};
            cl_service_response r;
            cl_service_api_handle(F.svc, &q, &r);
            json_error_t e;
            json_t *rj = json_loadb(r.body, r.len, 0, &e);
            cl_service_api_response_free(&r);
            int t = (int)json_integer_value(json_object_get(json_array_get(json_object_get(rj, "items"), 0), "title"));
            json_decref(rj);
            snprintf(body, sizeof body, "{\"user_id\": 9, \"day\": 100, \"event\": \"watch\", "
                     "\"title_id\": %d, \"minutes\": 30, \"completion\": 1}\n", t);
        }
        json_t *pj = call("POST", "/api/events", body, "Bearer s3cret", &status);
        assert_int_equal(status, 200);
        assert_int_equal(json_integer_value(json_object_get(pj, "accepted")), 1);
        json_decref(pj);
        json_t *c = call("GET", "/api/customers/9", NULL, NULL, &status);
        assert_int_equal(status, 200);
        cl_service_request q = {"GET", "/api/recommend/9", (const char *const[]){"k", "10"}, 1, NULL, 0, NULL};
        cl_service_response r;
        cl_service_api_handle(F.svc, &q, &r);
        assert_int_equal(r.status, 200);
        json_error_t e;
        json_t *rj = json_loadb(r.body, r.len, 0, &e);
        cl_service_api_response_free(&r);
        int ta[16], tb[128], na, nb;
        titles_of(json_object_get(c, "recommendations"), ta, &na);
        titles_of(json_object_get(rj, "items"), tb, &nb);
        assert_int_equal(na, nb);
        for (int i = 0; i < na; i++)
            assert_int_equal(ta[i], tb[i]);
        json_decref(c);
        json_decref(rj);
    }
}

/* A customer rescored alone (the one-row path of core/live/livescore.c, built straight from
 * the state) gets exactly the input row, and so the risk, of the batch path that scores
 * everyone through one frame: same binary, same values, bit for bit. */
static void one_row_rescoring_equals_the_batch_path(void **st)
{
    (void)st;
    svc_model *m = cl_service_model_get(F.svc);
    int64_t d = cl_model_n_features(m->m);
    int32_t ids[FX_USERS];
    for (int u = 1; u <= FX_USERS; u++)
        ids[u - 1] = u;
    float *all = malloc(sizeof(float) * (size_t)(d * FX_USERS)), *one = malloc(sizeof(float) * (size_t)d);
    double risks[FX_USERS];
    assert_int_equal(cl_livescore_rows(m->sc, ids, FX_USERS, all), CL_OK);
    assert_int_equal(cl_livescore_risks(m->sc, ids, FX_USERS, risks), CL_OK);
    for (int u = 1; u <= FX_USERS; u++) {
        assert_int_equal(cl_livescore_row(m->sc, u, one), CL_OK);
        assert_memory_equal(one, all + (u - 1) * d, sizeof(float) * (size_t)d);
        double r;
        assert_int_equal(cl_livescore_risk(m->sc, u, &r), CL_OK);
        assert_true(r == risks[u - 1]);
    }
    /* an unknown customer is still refused on the one-row path */
    assert_int_equal(cl_livescore_row(m->sc, FX_USERS + 500, one), CL_ERANGE);
    free(all);
    free(one);
    cl_service_model_put(m);
}

/* Every live feature reads in words: the label (the feature table's one-liner without its
 * parenthesised fine print) must not end in an operator or a comma (a ratio's formula once
 * left "Minutes in the last 30 days /"), and must not keep raw names. */
static void feature_labels_read_in_words(void **st)
{
    (void)st;
    for (int j = 0; j < CL_LIVE_NFEATURES; j++) {
        char lab[96];
        const char *name = cl_livestate_feature_defs[j].name;
        cl_service_column_label(name, lab, sizeof lab);
        size_t n = strlen(lab);
        assert_true(n >= 5);
        assert_true(lab[0] >= 'A' && lab[0] <= 'Z');
        char last = lab[n - 1];
        if (!((last >= 'a' && last <= 'z') || (last >= '0' && last <= '9'))) {
            fprintf(stderr, "%s: label '%s'\n", name, lab);
            fail();
        }
        assert_null(strchr(lab, '_'));
        assert_null(strchr(lab, '/'));
    }
    char lab[96];
    cl_service_column_label("minutes_ratio_30_90", lab, sizeof lab);
    assert_string_equal(lab, "Minutes in the last 30 days relative to the monthly average of the "
                             "last 90 days");
}


static void assert_text_is_the_tree(int32_t u, const svc_answer *a)
{
    json_t *o = cl_service_answer_json(F.svc, u, a, 1);
    char *want = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    char *got = NULL;
    size_t len = 0;
    assert_int_equal(cl_answer_text(F.svc, u, a, &got, &len), CL_OK);
    assert_int_equal(len, strlen(got));
    if (strcmp(got, want))
        fprintf(stderr, "customer %d:\n got  %s\n want %s\n", (int)u, got, want);
    assert_string_equal(got, want);
    free(want);
    cl_alloc_free(got);
}

/* The customer text written directly (answer_text.c) is, byte for byte, jansson's dump of the
 * answer's tree: every customer (with risk histories), then an answer holding what jansson
 * escapes or formats specially (quotes, backslashes, control characters, UTF-8, exponents,
 * -0, NaN, a fallback); a string that is not UTF-8 (json_string refuses it) is CL_EINVAL. */
static void answer_text_equals_the_tree(void **st)
{
    (void)st;
    assert_int_equal(cl_service_refresh(F.svc, 1, NULL), CL_OK);
    svc_model *m = cl_service_model_get(F.svc);
    svc_answer a;
    int with_history = 0;
    for (int32_t u = 1; u <= FX_USERS; u++) {
        pthread_rwlock_rdlock(&F.lock);
        int rc = cl_service_answer_of(F.svc, m, u, &a);
        pthread_rwlock_unlock(&F.lock);
        assert_int_equal(rc, CL_OK);
        svc_user *us = cl_service_user_of(F.svc, u, 0);
        with_history += us && us->hist_n > 0;
        assert_text_is_the_tree(u, &a);
    }
    assert_true(with_history > 0);
    assert_true(a.nreasons >= 2);
    snprintf(a.reasons[0].label, sizeof a.reasons[0].label, "a\"b\\c\n\t\x01\x1f/\xc3\xa9\xe2\x82\xac");
    a.reasons[1].label[0] = '\0';
    a.reasons[1].value = 1e-5;
    a.reasons[1].contrib = -2.5e-5;
    a.risk = 1e-7;
    a.price = 1e20;
    a.tenure = -0.0;
    a.feat[3] = NAN;
    a.feat[4] = 1e-5;
    a.feat[5] = 123456789012345678.0;
    a.feat[6] = 1e300 * 1e300;
    a.feat[7] = -3.0;
    a.fallback = 1;
    assert_text_is_the_tree(7, &a);
    a.nrecs = 0;
    a.nreasons = 0;
    assert_text_is_the_tree(7, &a);
    static const char *const bad[] = {"\xff", "\xc0\x80", "x\xed\xa0\x80", "\xf4\x90\x80\x80",
                                      "\xe2\x82"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        a.nreasons = 1;
        snprintf(a.reasons[0].label, sizeof a.reasons[0].label, "%s", bad[k]);
        json_t *js = json_string(bad[k]);
        assert_null(js); /* jansson refuses it too */
        char *t = NULL;
        size_t len;
        assert_int_equal(cl_answer_text(F.svc, 7, &a, &t, &len), CL_EINVAL);
        assert_null(t);
    }
    cl_service_model_put(m);
}

static void assert_same_answer(int32_t u, const svc_answer *a, const svc_answer *b)
{
    if (a->risk != b->risk)
        fprintf(stderr, "customer %d: risk %.17g (reused) != %.17g (fresh)\n", (int)u, a->risk,
                b->risk);
    assert_true(a->risk == b->risk);
    assert_int_equal(a->nreasons, b->nreasons);
    for (int k = 0; k < a->nreasons; k++) {
        const svc_reason *x = &a->reasons[k], *y = &b->reasons[k];
        assert_string_equal(x->feature, y->feature);
        assert_string_equal(x->column, y->column);
        assert_string_equal(x->label, y->label);
        assert_int_equal(x->index, y->index);
        assert_true(x->contrib == y->contrib);
        assert_true(x->value == y->value || (isnan(x->value) && isnan(y->value)));
    }
    assert_int_equal(a->best, b->best);
    for (int k = 0; k < SVC_MAX_ACTIONS; k++)
        assert_true(a->net[k] == b->net[k]);
    assert_int_equal(a->nrecs, b->nrecs);
    assert_memory_equal(a->rec_title, b->rec_title, sizeof a->rec_title);
    assert_int_equal(a->nkey, b->nkey);
    assert_memory_equal(a->key, b->key, sizeof a->key[0] * (size_t)a->nkey);
}

/* A gbdt's risk and reasons are reused while a customer's model input row keeps its split key
 * (livescore.h): over 40 days of a moving clock, with events on some days, every answer of
 * the long-lived service (reusing) equals, bit for bit, the answer of a service started that
 * day (which scores and explains everything afresh), and its text equals the fresh text.
 * Both kinds of answers must occur, or the test proves nothing. */
static void reused_answers_equal_fresh_ones(void **st)
{
    (void)st;
    svc_fixture G;
    int rc = fx_setup_kind(&G, "gbdt", 0, NULL, "gbdt");
    if (rc)
        fprintf(stderr, "fixture: %s\n", cl_error_last());
    assert_int_equal(rc, CL_OK);
    for (int day = 0; day < 40; day++) {
        if (day > 0) {
            pthread_rwlock_wrlock(&G.lock);
            int32_t now = cl_livestate_now(G.s);
            int32_t u = 1 + (day * 7) % FX_USERS;
            cl_live_event w = {.user = u, .day = now, .kind = CL_LIVE_WATCH, .title = 1 + day % FX_TITLES,
                               .minutes = 30, .completion = 0.7};
            if (day % 3 == 0)
                assert_int_equal(cl_livestate_apply(G.s, &w), CL_OK);
            assert_int_equal(cl_livestate_advance(G.s, now + 1), CL_OK);
            pthread_rwlock_unlock(&G.lock);
        }
        cl_service_config sc = fx_service_config(&G, NULL);
        cl_service *fresh = NULL;
        assert_int_equal(cl_service_new(&fresh, &sc), CL_OK);
        svc_model *ma = cl_service_model_get(G.svc), *mb = cl_service_model_get(fresh);
        for (int32_t u = 1; u <= FX_USERS; u++) {
            svc_answer a, b;
            pthread_rwlock_rdlock(&G.lock);
            assert_int_equal(cl_service_answer_of(G.svc, ma, u, &a), CL_OK);
            assert_int_equal(cl_service_answer_of(fresh, mb, u, &b), CL_OK);
            pthread_rwlock_unlock(&G.lock);
            assert_same_answer(u, &a, &b);
            if (day % 10 == 9) { /* and the texts (the history is empty in both) */
                char *ta = NULL, *tb = NULL;
                size_t la, lb;
                assert_int_equal(cl_service_customer_text(G.svc, ma, u, &ta, &la), CL_OK);
                assert_int_equal(cl_service_customer_text(fresh, mb, u, &tb, &lb), CL_OK);
                assert_string_equal(ta, tb);
                cl_alloc_free(ta);
                cl_alloc_free(tb);
            }
        }
        cl_service_model_put(ma);
        cl_service_model_put(mb);
        cl_service_free(fresh);
    }
    long long reused = atomic_load(&G.svc->ans_reused), scored = atomic_load(&G.svc->ans_scored);
    fprintf(stderr, "reused %lld, scored %lld answers over 40 days of 60 customers\n", reused,
            scored);
    assert_true(reused > 0);
    assert_true(scored > FX_USERS); /* some keys changed after the first day */
    /* the counters are in /metrics */
    cl_service_request q = {"GET", "/metrics", NULL, 0, NULL, 0, NULL};
    cl_service_response r;
    cl_service_api_handle(G.svc, &q, &r);
    char want[96];
    snprintf(want, sizeof want, "churnlab_answers_total{how=\"reused\"} %lld\n", reused);
    assert_non_null(strstr(r.body, want));
    cl_service_api_response_free(&r);
    fx_teardown(&G);
}

/* The monitor scores outside the state's lock, from a snapshot: the feature frame taken
 * under it. Scoring that frame gives cl_livescore_risks' doubles bit for bit, keeps giving
 * them after the state moved on (it reads the frame, not the state), and the published
 * ranking holds exactly the risks of the state it was taken from. */
static void refresh_scores_a_snapshot(void **st)
{
    (void)st;
    svc_model *m = cl_service_model_get(F.svc);
    int32_t *ids = NULL;
    int64_t n = 0;
    assert_int_equal(cl_livestate_active_ids(F.s, &ids, &n), CL_OK);
    assert_true(n > 10);
    cl_frame *live = NULL;
    assert_int_equal(cl_livestate_frame(F.s, ids, n, &live), CL_OK);
    double *r0 = malloc(sizeof(double) * (size_t)n), *r1 = malloc(sizeof(double) * (size_t)n);
    assert_int_equal(cl_livescore_risks(m->sc, ids, n, r0), CL_OK);
    assert_int_equal(cl_livescore_risks_frame(m->sc, live, ids, n, r1), CL_OK);
    assert_memory_equal(r0, r1, sizeof(double) * (size_t)n);

    /* the refresh publishes those risks: the ranking is every active customer, riskiest first */
    assert_int_equal(cl_service_refresh(F.svc, 1, NULL), CL_OK);
    svc_rank *rk = malloc(sizeof *rk * (size_t)n);
    int64_t got = 0, total = 0, version = 0;
    int32_t day = 0;
    assert_int_equal(cl_service_ranking(F.svc, -1, -1, 0, rk, n, &got, &total, &version, &day), CL_OK);
    assert_int_equal(got, n);
    assert_int_equal(day, cl_livestate_now(F.s));
    for (int64_t k = 0; k < got; k++) {
        int64_t i = 0;
        while (i < n && ids[i] != rk[k].user)
            i++;
        assert_true(i < n);
        assert_true(rk[k].risk == r0[i]);
        if (k > 0)
            assert_true(rk[k - 1].risk >= rk[k].risk);
    }

    /* the state moves on (tickets and payment failures for the first customer, today): a
     * fresh score sees it, the snapshot does not */
    int32_t u = ids[0], today = cl_livestate_now(F.s);
    for (int k = 0; k < 3; k++) {
        cl_live_event e = {.user = u, .day = today, .kind = k == 1 ? CL_LIVE_PAYFAIL : CL_LIVE_TICKET};
        assert_int_equal(cl_livestate_apply(F.s, &e), CL_OK);
    }
    double now_risk;
    assert_int_equal(cl_livescore_risk(m->sc, u, &now_risk), CL_OK);
    assert_true(now_risk != r0[0]);
    assert_int_equal(cl_livescore_risks_frame(m->sc, live, ids, n, r1), CL_OK);
    assert_memory_equal(r0, r1, sizeof(double) * (size_t)n);
    /* a frame that is not cl_livestate_frame's of those ids is refused, naming the shape */
    assert_int_equal(cl_livescore_risks_frame(m->sc, live, ids, n - 1, r1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "cl_livestate_frame"));
    cl_frame_free(live);
    free(r0);
    free(r1);
    free(rk);
    cl_alloc_free(ids);
    cl_service_model_put(m);
}

/* recency_days of a customer who never watched is a stand-in (now + 1: "as if on day -1"),
 * not a number of days to show: the words say so ("Days since the last watch: 101" read as
 * if the customer had watched 101 days ago). A customer with watches keeps the number. */
static void a_customer_who_never_watched_reads_in_words(void **st)
{
    (void)st;
    svc_reason r;
    memset(&r, 0, sizeof r);
    snprintf(r.column, sizeof r.column, "recency_days");
    r.value = 101;
    r.contrib = 0.7;
    char text[192];
    cl_service_reason_text(&r, text, sizeof text);
    assert_string_equal(text, "Days since the last watch: 101 (raises risk)");
    r.no_watch = 1;
    cl_service_reason_text(&r, text, sizeof text);
    assert_string_equal(text, "Days since the last watch: no watch since joining (raises risk)");

    /* a new customer with a profile and no watch: recency is among its reasons, in words */
    int32_t u = 5000, now = cl_livestate_now(F.s);
    cl_live_event e = {.user = u, .day = now - 40, .kind = CL_LIVE_PROFILE, .plan = 1,
                       .value = 12.99};
    assert_int_equal(cl_livestate_apply(F.s, &e), CL_OK);
    assert_int_equal(cl_livestate_last_watch(F.s, u), CL_LIVE_NONE);
    svc_model *m = cl_service_model_get(F.svc);
    svc_answer a;
    assert_int_equal(cl_service_answer_of(F.svc, m, u, &a), CL_OK);
    int seen = 0;
    for (int k = 0; k < a.nreasons; k++) {
        assert_int_equal(a.reasons[k].no_watch, !strcmp(a.reasons[k].column, "recency_days"));
        if (a.reasons[k].no_watch) {
            seen = 1;
            assert_true(a.reasons[k].value == (double)now + 1); /* the model's input, kept */
        }
    }
    assert_true(seen);
    char path[32];
    snprintf(path, sizeof path, "/api/customers/%d", (int)u);
    int status;
    json_t *j = call("GET", path, NULL, NULL, &status);
    assert_int_equal(status, 200);
    int said = 0;
    json_t *rs = json_object_get(j, "reasons");
    for (size_t k = 0; k < json_array_size(rs); k++)
        said += strstr(json_string_value(json_object_get(json_array_get(rs, k), "text")),
                       "no watch since joining") != NULL;
    assert_int_equal(said, 1);
    json_decref(j);
    /* one watch later the number is days again */
    cl_live_event w = {.user = u, .day = now, .kind = CL_LIVE_WATCH, .title = 3, .minutes = 20,
                       .completion = 0.5};
    assert_int_equal(cl_livestate_apply(F.s, &w), CL_OK);
    assert_int_equal(cl_service_answer_of(F.svc, m, u, &a), CL_OK);
    for (int k = 0; k < a.nreasons; k++)
        assert_int_equal(a.reasons[k].no_watch, 0);
    cl_service_model_put(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(customer_risk_equals_batch_scoring),
        cmocka_unit_test(action_values_follow_the_formula),
        cmocka_unit_test(monitor_aggregates_are_the_risks),
        cmocka_unit_test(events_need_the_token_and_are_counted),
        cmocka_unit_test(score_rows_equal_the_customer_risk),
        cmocka_unit_test(routes_methods_and_options),
        cmocka_unit_test(reload_swaps_or_keeps_the_model),
        cmocka_unit_test(events_without_a_log_are_refused),
        cmocka_unit_test(customer_text_cache_follows_clock_and_history),
        cmocka_unit_test(a_changed_model_file_is_swapped_in),
        cmocka_unit_test(risk_history_survives_a_new_service),
        cmocka_unit_test(feature_labels_read_in_words),
        cmocka_unit_test(one_row_rescoring_equals_the_batch_path),
        cmocka_unit_test(customers_list_is_the_monitor_ranking),
        cmocka_unit_test(answer_cache_is_bounded),
        cmocka_unit_test(reused_answers_equal_fresh_ones),
        cmocka_unit_test(answer_text_equals_the_tree),
        cmocka_unit_test(recommendations_follow_the_history),
        cmocka_unit_test(refresh_scores_a_snapshot),
        cmocka_unit_test(a_customer_who_never_watched_reads_in_words),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
