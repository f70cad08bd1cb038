/* serve_fixture.h - a small live service for tests/core/serve/test_service.c and the request
 * fuzzer (tests/fuzz/fuzz_serve.c): 60 customers with deterministic events, a logistic
 * regression with its pipeline trained on their live features, an event log, a popularity
 * recommender over the 20 titles. Everything under /tmp/clsvc_<pid>_<tag>.* fx_setup_kind
 * trains another kind instead (a gbdt: tests/core/serve/test_service.c's reused answers). */
#ifndef SERVE_FIXTURE_H
#define SERVE_FIXTURE_H

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "churnlab.h"
#include "serve/service.h"

enum { FX_USERS = 60, FX_TITLES = 20, FX_NOW = 100 };

typedef struct svc_fixture {
    cl_livestate *s;
    cl_livelog *log;
    pthread_rwlock_t lock;
    int64_t version;
    cl_frame *profiles;
    cl_rec *rec;
    cl_service *svc;
    char model_path[128], log_path[128];
    cl_livestate_config cfg;
    int16_t genre[FX_TITLES];
    const char *kind; /* the model's kind (fx_setup: logreg) */
} svc_fixture;

static const char *const FX_PLANS[] = {"basic", "standard", "premium"};
static const double FX_PRICES[] = {7.99, 12.99, 19.99};

static uint32_t fx_hash(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352dU;
    x ^= x >> 15;
    x *= 0x846ca68bU;
    x ^= x >> 16;
    return x;
}

static int fx_events(svc_fixture *f)
{
    for (int u = 1; u <= FX_USERS; u++) {
        cl_live_event e = {.user = u, .day = u % 30, .kind = CL_LIVE_PROFILE, .plan = u % 3,
                           .value = FX_PRICES[u % 3], .value2 = 0};
        int rc = cl_livestate_apply(f->s, &e);
        /* customers who watch less have more tickets: a signal the model can learn */
        int engaged = fx_hash((uint32_t)u) % 4 != 0;
        for (int d = 30; d < FX_NOW && rc == CL_OK; d++) {
            uint32_t h = fx_hash((uint32_t)(u * 1000 + d));
            if (h % 100 < (engaged ? 40u : 8u)) {
                cl_live_event w = {.user = u, .day = d, .kind = CL_LIVE_WATCH,
                                   .title = 1 + (int32_t)(h / 100 % FX_TITLES),
                                   .minutes = (double)(10 + h % 90), .completion = 0.5};
                rc = cl_livestate_apply(f->s, &w);
            }
            if (rc == CL_OK && h % 1000 < (engaged ? 5u : 30u)) {
                cl_live_event t = {.user = u, .day = d, .kind = CL_LIVE_TICKET};
                rc = cl_livestate_apply(f->s, &t);
            }
        }
        if (rc == CL_OK && u % 13 == 0) {
            cl_live_event c = {.user = u, .day = 95, .kind = CL_LIVE_CANCEL};
            rc = cl_livestate_apply(f->s, &c);
        }
        if (rc)
            return rc;
    }
    return cl_livestate_advance(f->s, FX_NOW);
}

/* The training frame: every customer's live features, churn = not engaged. */
static int fx_train(svc_fixture *f)
{
    cl_frame *fr = NULL;
    int32_t ids[FX_USERS];
    double y[FX_USERS];
    for (int u = 1; u <= FX_USERS; u++) {
        ids[u - 1] = u;
        y[u - 1] = fx_hash((uint32_t)u) % 4 == 0;
        if (strcmp(f->kind, "logreg")) /* noise, so trees split on many features */
            y[u - 1] = fx_hash((uint32_t)u * 7 + 1) % 3 == 0 ? 1 - y[u - 1] : y[u - 1];
    }
    int rc = cl_livestate_frame(f->s, ids, FX_USERS, &fr);
    /* a profile column too (the service joins it from `profiles` by user_id) */
    static const char *const R[] = {"north", "south", "east"};
    const char *region[FX_USERS];
    for (int u = 1; u <= FX_USERS; u++)
        region[u - 1] = R[u % 3];
    cl_column *rcol = NULL;
    if (rc == CL_OK && (rc = cl_frame_column_from_strings(&rcol, region, FX_USERS)) == CL_OK)
        rc = cl_frame_set(fr, "region", rcol);
    cl_frame_column_free(rcol);
    cl_column *yc = NULL;
    if (rc == CL_OK && (rc = cl_frame_column_from_doubles(&yc, y, FX_USERS)) == CL_OK)
        rc = cl_frame_set(fr, "churn", yc);
    cl_frame_column_free(yc);
    cl_pipeline_opts po;
    cl_pipeline_opts_default(&po);
    static const char *const drop[] = {"user_id"};
    po.target = "churn";
    po.drop = drop;
    po.ndrop = 1;
    po.scale = CL_SCALE_STANDARD;
    cl_pipeline *p = NULL;
    cl_tensor *X = NULL, *Y = NULL;
    if (rc == CL_OK && (rc = cl_pipeline_new(&p, &po)) == CL_OK)
        rc = cl_pipeline_fit(p, fr);
    if (rc == CL_OK)
        rc = cl_pipeline_transform(p, fr, &X, &Y);
    const cl_model_ops *ops = cl_model_kinds_ops(f->kind);
    void *impl = NULL;
    cl_model *m = NULL;
    if (rc == CL_OK) {
        _Alignas(64) char params[4096];
        if (!ops || ops->params_size > sizeof params)
            rc = cl_error(CL_EINVAL, "fixture: no kind %s (or its params are too large)", f->kind);
        if (rc == CL_OK) {
            ops->defaults(params);
            if (!strcmp(f->kind, "gbdt")) { /* 60 rows: small leaves, so the trees split */
                cl_gbdt_params *gp = (cl_gbdt_params *)(void *)params;
                gp->trees = 40;
                gp->depth = 4;
                gp->min_child_weight = 0.1;
            }
            rc = ops->create(&impl, params);
        }
    }
    if (rc == CL_OK) {
        cl_model_history h;
        memset(&h, 0, sizeof h);
        cl_fit_opts fo;
        memset(&fo, 0, sizeof fo);
        rc = ops->fit(impl, cl_tensor_data(X), cl_tensor_data(Y), cl_tensor_rows(X),
                      cl_tensor_cols(X), &fo, &h, NULL);
        cl_model_history_free(&h);
    }
    if (rc == CL_OK) {
        rc = cl_model_wrap(&m, ops, impl, p); /* owns both from here */
        impl = NULL;
        p = NULL;
    }
    if (rc == CL_OK)
        rc = cl_model_save(m, f->model_path);
    if (impl)
        ops->free(impl);
    cl_pipeline_free(p);
    cl_model_free(m);
    cl_tensor_free(X);
    cl_tensor_free(Y);
    cl_frame_free(fr);
    return rc;
}

/* profiles: user_id and one column no event changes (a region) */
static int fx_profiles(svc_fixture *f)
{
    double id[FX_USERS];
    const char *region[FX_USERS];
    static const char *const R[] = {"north", "south", "east"};
    for (int u = 1; u <= FX_USERS; u++) {
        id[u - 1] = u;
        region[u - 1] = R[u % 3];
    }
    cl_column *a = NULL, *b = NULL;
    int rc = cl_frame_new(&f->profiles);
    if (rc == CL_OK && (rc = cl_frame_column_from_doubles(&a, id, FX_USERS)) == CL_OK)
        rc = cl_frame_set(f->profiles, "user_id", a);
    if (rc == CL_OK && (rc = cl_frame_column_from_strings(&b, region, FX_USERS)) == CL_OK)
        rc = cl_frame_set(f->profiles, "region", b);
    cl_frame_column_free(a);
    cl_frame_column_free(b);
    return rc;
}

/* a popularity recommender over title ids "1".."20" fitted on the state's watch history */
static int fx_rec(svc_fixture *f)
{
    cl_idmap *users = NULL, *items = NULL;
    int rc = cl_interactions_idmap_new(&users);
    if (rc == CL_OK)
        rc = cl_interactions_idmap_new(&items);
    char lab[16];
    int64_t idx;
    for (int t = 1; rc == CL_OK && t <= FX_TITLES; t++) {
        snprintf(lab, sizeof lab, "%d", t);
        rc = cl_interactions_idmap_add(items, lab, &idx);
    }
    enum { MAXN = FX_USERS * FX_TITLES };
    static int64_t ui[MAXN], ii[MAXN];
    int64_t n = 0;
    for (int u = 1; rc == CL_OK && u <= FX_USERS; u++) {
        snprintf(lab, sizeof lab, "%d", u);
        int64_t uidx;
        rc = cl_interactions_idmap_add(users, lab, &uidx);
        int32_t titles[FX_TITLES], days[FX_TITLES];
        int nt = 0;
        if (rc == CL_OK)
            rc = cl_livestate_titles(f->s, u, titles, days, FX_TITLES, &nt);
        for (int k = 0; k < nt; k++) {
            ui[n] = uidx;
            ii[n++] = titles[k] - 1;
        }
    }
    cl_interactions *m = NULL;
    if (rc == CL_OK)
        rc = cl_interactions_build(&m, users, items, n, ui, ii, NULL, NULL, CL_DUP_SUM);
    cl_interactions_idmap_free(users);
    cl_interactions_idmap_free(items);
    if (rc == CL_OK)
        rc = cl_rec_new(&f->rec, CL_REC_POPULAR);
    if (rc == CL_OK)
        rc = cl_rec_fit(f->rec, m, NULL);
    cl_interactions_free(m);
    return rc;
}

static const char *const FX_TITLE_NAMES[FX_TITLES + 1] = {
    NULL,      "Alpha",   "Bravo",    "Charlie", "Delta",  "Echo",  "Foxtrot",
    "Golf",    "Hotel",   "India",    "Juliett", "Kilo",   "Lima",  "Mike",
    "November", "Oscar",  "Papa",     "Quebec",  "Romeo",  "Sierra", "Tango"};
static const char *const FX_GENRES[FX_TITLES + 1] = {
    NULL,    "drama", "comedy", "crime", "docu", "drama", "comedy", "crime",
    "docu",  "drama", "comedy", "crime", "docu", "drama", "comedy", "crime",
    "docu",  "drama", "comedy", "crime", "docu"};

/* The configuration of the fixture's service (another service on the same state takes it). */
static cl_service_config fx_service_config(svc_fixture *f, const char *token)
{
    return (cl_service_config){
        .state = f->s,
        .log = f->log,
        .lock = &f->lock,
        .state_version = &f->version,
        .model_path = f->model_path,
        .profiles = f->profiles,
        .rec = f->rec,
        .ntitles = FX_TITLES,
        .title_names = FX_TITLE_NAMES,
        .title_genres = FX_GENRES,
        .token = token,
    };
}

static int fx_setup_kind(svc_fixture *f, const char *tag, int with_log, const char *token,
                         const char *kind)
{
    memset(f, 0, sizeof *f);
    f->kind = kind;
    snprintf(f->model_path, sizeof f->model_path, "/tmp/clsvc_%d_%s.clm", (int)getpid(), tag);
    snprintf(f->log_path, sizeof f->log_path, "/tmp/clsvc_%d_%s.db", (int)getpid(), tag);
    unlink(f->log_path);
    for (int t = 0; t < FX_TITLES; t++)
        f->genre[t] = (int16_t)(t % 4);
    f->cfg = (cl_livestate_config){3, FX_PLANS, FX_PRICES, FX_TITLES, f->genre, 10000};
    int rc = cl_livestate_new(&f->s, &f->cfg);
    if (rc == CL_OK)
        rc = fx_events(f);
    if (rc == CL_OK)
        rc = fx_train(f);
    if (rc == CL_OK)
        rc = fx_profiles(f);
    if (rc == CL_OK)
        rc = fx_rec(f);
    if (rc == CL_OK && with_log)
        rc = cl_livelog_open(&f->log, f->log_path, &f->cfg);
    if (rc)
        return rc;
    pthread_rwlock_init(&f->lock, NULL);
    cl_service_config sc = fx_service_config(f, token);
    return cl_service_new(&f->svc, &sc);
}

static int fx_setup(svc_fixture *f, const char *tag, int with_log, const char *token)
{
    return fx_setup_kind(f, tag, with_log, token, "logreg");
}

static void fx_teardown(svc_fixture *f)
{
    cl_service_free(f->svc);
    cl_livelog_close(f->log);
    cl_rec_free(f->rec);
    cl_frame_free(f->profiles);
    cl_livestate_free(f->s);
    pthread_rwlock_destroy(&f->lock);
    unlink(f->model_path);
    unlink(f->log_path);
    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", f->log_path);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", f->log_path);
    unlink(wal);
}

#endif
