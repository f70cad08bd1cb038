/* service.c - the live service's state: the model it scores with, per-customer answers, the
 * risk history, and the aggregates the monitor publishes (service.h). Requests: service_api.c. */
#include "serve/service_impl.h"

#include "base/alloc.h"
#include "base/error.h"
#include "eval/drift.h"
#include "frame/frame.h"
#include "frame/pipeline.h"
#include "rec/interactions.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

double cl_service_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const cl_service_action BUILTIN[] = {
    {"none", "Do nothing", 0, 0, 1, 0, 0},
    /* the world's coefficients (cl.synth.coefs): a month at 25% off, an e-mail at 0.50 */
    {"discount", "25% off next month (e-mail)", 0.5, 25, 1, -0.15, 0},
    {"call", "Outreach call (more for open issues)", 3.0, 0, 1, -0.2, -0.6},
};

/* Feature indices the answers read. */
static int feat_index(const char *name)
{
    for (int j = 0; j < CL_LIVE_NFEATURES; j++)
        if (strcmp(cl_livestate_feature_defs[j].name, name) == 0)
            return j;
    return -1;
}

/* ---- models -------------------------------------------------------------------------------- */

svc_model *cl_service_model_get(cl_service *svc)
{
    pthread_mutex_lock(&svc->model_mu);
    svc_model *m = svc->model;
    if (m)
        atomic_fetch_add(&m->refs, 1);
    pthread_mutex_unlock(&svc->model_mu);
    return m;
}

void cl_service_model_put(svc_model *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1) {
        cl_livescore_free(m->sc);
        cl_model_free(m->m);
        cl_alloc_free(m);
    }
}

/* Loads the model at path and its scorer, then swaps it in (the old one goes when its last
 * reader lets go). The scorer reads the state at _new (the linear reference row), so this
 * runs under the state's read lock. */
int cl_service_model_load(cl_service *svc, const char *path)
{
    svc_model *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    int rc = cl_model_kinds_load(&m->m, path);
    if (rc == CL_OK && !cl_model_pipeline(m->m))
        rc = cl_error(CL_EINVAL, "serve: %s has no pipeline (save the model with the pipeline "
                                 "it was trained with)", path);
    if (rc == CL_OK) {
        pthread_rwlock_rdlock(svc->cfg.lock);
        rc = cl_livescore_new(&m->sc, svc->cfg.state, m->m, svc->cfg.profiles);
        pthread_rwlock_unlock(svc->cfg.lock);
    }
    if (rc) {
        cl_model_free(m->m);
        cl_alloc_free(m);
        return rc;
    }
    atomic_init(&m->refs, 1);
    m->loaded_at = cl_service_now();
    pthread_mutex_lock(&svc->model_mu);
    m->version = ++svc->model_versions;
    svc_model *old = svc->model;
    svc->model = m;
    pthread_mutex_unlock(&svc->model_mu);
    cl_service_model_put(old);
    return CL_OK;
}

svc_user *cl_service_user_of(cl_service *svc, int32_t u, int create)
{
    if (u < 1 || u > svc->max_user)
        return NULL;
    int32_t c = u / SVC_CHUNK;
    svc_user *chunk = atomic_load(&svc->chunks[c]);
    if (!chunk && create) {
        pthread_mutex_lock(&svc->chunk_mu);
        chunk = atomic_load(&svc->chunks[c]);
        if (!chunk && (chunk = cl_alloc_calloc(SVC_CHUNK, sizeof *chunk))) {
            for (int k = 0; k < SVC_CHUNK; k++)
                chunk[k].calib_p = NAN;
            atomic_store(&svc->chunks[c], chunk);
        }
        pthread_mutex_unlock(&svc->chunk_mu);
    }
    return chunk ? &chunk[u % SVC_CHUNK] : NULL;
}

/* ---- lifecycle ----------------------------------------------------------------------------- */

static int map_items(cl_service *svc)
{
    const cl_rec *r = svc->cfg.rec;
    if (!r)
        return CL_OK;
    const cl_interactions *tr = r->train;
    if (!tr)
        return cl_error(CL_ESTATE, "serve: the recommender is not fitted");
    svc->n_items = tr->n_items;
    int32_t nt = svc->cfg.ntitles;
    svc->item_title = cl_alloc(sizeof(int32_t) * (size_t)(tr->n_items ? tr->n_items : 1));
    svc->title_item = cl_alloc(sizeof(int32_t) * (size_t)(nt + 1));
    if (!svc->item_title || !svc->title_item)
        return CL_ENOMEM;
    for (int32_t t = 0; t <= nt; t++)
        svc->title_item[t] = -1;
    for (int64_t j = 0; j < tr->n_items; j++) {
        const char *lab = j < tr->items->n ? tr->items->labels[j] : NULL;
        char *end;
        long t = lab ? strtol(lab, &end, 10) : 0;
        if (!lab || end == lab || *end || t < 1 || t > nt)
            return cl_error(CL_EINVAL, "serve: the recommender's item '%s' is not a title id of "
                                       "the catalogue (1..%d)", lab ? lab : "?", (int)nt);
        svc->item_title[j] = (int32_t)t;
        svc->title_item[t] = (int32_t)j;
    }
    return CL_OK;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int load_reference(cl_service *svc)
{
    const cl_frame *f = svc->cfg.reference;
    if (!f)
        return CL_OK;
    for (int j = 0; j < CL_LIVE_NFEATURES; j++) {
        int c = cl_frame_find(f, cl_livestate_feature_defs[j].name);
        if (c < 0 || f->cols[c]->type == CL_CAT)
            continue;
        double *v = cl_alloc(sizeof(double) * (size_t)(f->nrow ? f->nrow : 1));
        if (!v)
            return CL_ENOMEM;
        int64_t k = 0;
        for (int64_t i = 0; i < f->nrow; i++)
            if (!isnan(f->cols[c]->num[i]))
                v[k++] = f->cols[c]->num[i];
        qsort(v, (size_t)k, sizeof *v, cmp_dbl);
        svc->ref_vals[j] = v;
        svc->ref_n[j] = k;
    }
    return CL_OK;
}

int cl_service_new(cl_service **out, const cl_service_config *cfg)
{
    *out = NULL;
    if (!cfg->state || !cfg->lock || !cfg->model_path)
        return cl_error(CL_EINVAL, "serve: a live state, its lock and a model path are needed");
    if (cfg->nactions > SVC_MAX_ACTIONS)
        return cl_error(CL_EINVAL, "serve: at most %d actions, got %d", SVC_MAX_ACTIONS,
                        cfg->nactions);
    cl_service *svc = cl_alloc_calloc(1, sizeof *svc);
    if (!svc)
        return CL_ENOMEM;
    svc->cfg = *cfg;
    if (!svc->cfg.currency)
        svc->cfg.currency = "USD";
    if (!(svc->cfg.threshold > 0 && svc->cfg.threshold < 1))
        svc->cfg.threshold = 0.3;
    if (svc->cfg.horizon_months < 1)
        svc->cfg.horizon_months = 12;
    if (svc->cfg.calibration_days < 1)
        svc->cfg.calibration_days = 30;
    const cl_service_action *acts = cfg->actions ? cfg->actions : BUILTIN;
    svc->nacts = cfg->actions ? cfg->nactions : (int)(sizeof BUILTIN / sizeof BUILTIN[0]);
    memcpy(svc->acts, acts, sizeof *acts * (size_t)svc->nacts);
    pthread_mutex_init(&svc->model_mu, NULL);
    pthread_mutex_init(&svc->mon_mu, NULL);
    pthread_cond_init(&svc->mon_cv, NULL);
    pthread_mutex_init(&svc->refresh_mu, NULL);
    pthread_mutex_init(&svc->hist_mu, NULL);
    pthread_mutex_init(&svc->watch_mu, NULL);
    pthread_mutex_init(&svc->chunk_mu, NULL);
    for (int i = 0; i < SVC_STRIPES; i++)
        pthread_mutex_init(&svc->stripe[i], NULL);
    svc->started = cl_service_now();
    svc->seen_events = -1;
    svc->calib_day = CL_LIVE_NONE;
    svc->max_user = cl_livestate_max_user(cfg->state);
    svc->i_price = feat_index("monthly_price");
    svc->i_tenure = feat_index("tenure_days");
    svc->i_tick = feat_index("tickets_30");
    svc->i_pay = feat_index("payment_failures_30");
    svc->nchunks = svc->max_user / SVC_CHUNK + 1;
    svc->chunks = cl_alloc_calloc((size_t)svc->nchunks, sizeof *svc->chunks);
    pthread_mutex_init(&svc->slot_mu, NULL);
    svc->nslots = cfg->cache_answers > 0 ? cfg->cache_answers : CL_SERVICE_CACHE_DEFAULT;
    svc->slots = cl_alloc_calloc((size_t)svc->nslots, sizeof *svc->slots);
    int rc = svc->chunks && svc->slots ? map_items(svc) : CL_ENOMEM;
    if (rc == CL_OK)
        rc = load_reference(svc);
    if (rc == CL_OK)
        rc = cl_service_model_load(svc, cfg->model_path);
    if (rc == CL_OK && stat(cfg->model_path, &svc->watch_st) == 0)
        svc->watch_known = 1;
    if (rc == CL_OK && cfg->history_path)
        rc = cl_history_open(svc);
    if (rc) {
        cl_service_free(svc);
        return rc;
    }
    *out = svc;
    return CL_OK;
}

void cl_service_free(cl_service *svc)
{
    if (!svc)
        return;
    cl_service_model_put(svc->model);
    cl_history_close(svc);
    for (int32_t c = 0; svc->chunks && c < svc->nchunks; c++) {
        cl_alloc_free(atomic_load(&svc->chunks[c]));
    }
    for (int32_t k = 0; svc->slots && k < svc->nslots; k++)
        cl_alloc_free(svc->slots[k].json);
    cl_alloc_free(svc->slots);
    pthread_mutex_destroy(&svc->slot_mu);
    cl_alloc_free((void *)svc->chunks);
    cl_alloc_free(svc->item_title);
    cl_alloc_free(svc->title_item);
    for (int j = 0; j < CL_LIVE_NFEATURES; j++)
        cl_alloc_free(svc->ref_vals[j]);
    cl_alloc_free(svc->mon_json);
    cl_alloc_free(svc->rank);
    pthread_mutex_destroy(&svc->model_mu);
    pthread_mutex_destroy(&svc->mon_mu);
    pthread_cond_destroy(&svc->mon_cv);
    pthread_mutex_destroy(&svc->refresh_mu);
    pthread_mutex_destroy(&svc->hist_mu);
    pthread_mutex_destroy(&svc->watch_mu);
    pthread_mutex_destroy(&svc->chunk_mu);
    for (int i = 0; i < SVC_STRIPES; i++)
        pthread_mutex_destroy(&svc->stripe[i]);
    cl_alloc_free(svc);
}

/* ---- per-customer answers ------------------------------------------------------------------ */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* The net value and worst cost of each action for a customer of risk p (service.h). */
static void weigh_actions(const cl_service *svc, svc_answer *a)
{
    double p = a->risk, price = isnan(a->price) ? 0 : a->price;
    double value = 0.5, s = 1;
    for (int m = 2; m <= svc->cfg.horizon_months; m++) {
        s *= 1 - p;
        value += s;
    }
    value *= price;
    a->best = 0;
    for (int k = 0; k < svc->nacts; k++) {
        const cl_service_action *ac = &svc->acts[k];
        double hr = exp(ac->log_hr + ac->log_hr_issues * a->issues);
        double effect = p > 0 ? 1 - (1 - pow(1 - p, hr)) / p : 1 - hr;
        double accept = ac->accept_pct / 100 * price;
        a->net[k] = ac->reach * (p * effect * value - accept) - ac->contact;
        a->cost[k] = ac->contact + ac->reach * accept;
        if (a->net[k] > a->net[a->best])
            a->best = k;
    }
}

/* FNV-1a over the history's item indices: the key of the recommendations folded in from it. */
static uint64_t history_key(const int32_t *items, int n)
{
    uint64_t h = 1469598103934665603ULL ^ (uint64_t)n;
    for (int k = 0; k < n; k++) {
        h ^= (uint32_t)items[k];
        h *= 1099511628211ULL;
    }
    return h;
}

static void set_reason(svc_reason *o, const cl_live_reason *r)
{
    copy_str(o->feature, sizeof o->feature, r->feature);
    copy_str(o->column, sizeof o->column, r->column);
    copy_str(o->label, sizeof o->label, r->label);
    o->value = r->value;
    o->contrib = r->contrib;
    o->index = r->index;
}

/* The risk and reasons of `user` into a: taken from prev when its model input row had the
 * same key under the same model (the same prediction and contributions, livescore.h), the
 * reasons' values read anew; else scored and explained. */
static int score_answer(cl_service *svc, svc_model *m, int32_t user, const double *f, int plan,
                        const svc_answer *prev, svc_answer *a)
{
    int64_t d = cl_model_n_features(m->m);
    float x[SVC_KEY_MAX], *xp = d <= SVC_KEY_MAX ? x : cl_alloc(sizeof *xp * (size_t)d);
    if (!xp)
        return CL_ENOMEM;
    int rc = cl_livescore_row_from(m->sc, user, f, plan, xp);
    if (rc == CL_OK && d <= SVC_KEY_MAX && cl_livescore_key_len(m->sc) == d) {
        a->nkey = (int)d;
        cl_livescore_key(m->sc, xp, a->key);
    }
    cl_live_reason r[SVC_REASONS];
    int nr = 0;
    if (rc == CL_OK && a->nkey > 0 && prev && prev->model == m->version &&
        prev->nkey == a->nkey && !memcmp(prev->key, a->key, sizeof a->key[0] * (size_t)a->nkey)) {
        int j[SVC_REASONS];
        double c[SVC_REASONS];
        nr = prev->nreasons;
        for (int k = 0; k < nr; k++) {
            j[k] = prev->reasons[k].index;
            c[k] = prev->reasons[k].contrib;
        }
        a->risk = prev->risk;
        cl_livescore_reasons_at(m->sc, user, f, plan, j, c, nr, r);
        atomic_fetch_add(&svc->ans_reused, 1);
    } else if (rc == CL_OK && (rc = cl_livescore_risk_row(m->sc, xp, &a->risk)) == CL_OK) {
        if (cl_livescore_reasons_row(m->sc, user, f, plan, xp, SVC_REASONS, r, &nr, NULL) != CL_OK)
            nr = 0; /* a kind without contributions: no reasons, not an error */
        atomic_fetch_add(&svc->ans_scored, 1);
    }
    a->nreasons = nr;
    for (int k = 0; k < nr; k++)
        set_reason(&a->reasons[k], &r[k]);
    if (xp != x)
        cl_alloc_free(xp);
    return rc;
}

/* The answer of `user` now. prev (may be NULL): the user's last answer, whose
 * recommendations are reused when they came from the same history (the clock moved, the
 * history did not): fold-in depends on the history alone. */
static int compute_answer(cl_service *svc, svc_model *m, int32_t user, const svc_answer *prev,
                          svc_answer *a)
{
    const cl_livestate *s = svc->cfg.state;
    memset(a, 0, sizeof *a);
    if (!cl_livestate_known(s, user))
        return cl_error(CL_ERANGE, "no customer %d", (int)user);
    a->nev = cl_livestate_user_events(s, user);
    a->now = cl_livestate_now(s);
    a->model = m->version;
    a->active = cl_livestate_active(s, user);
    double f[CL_LIVE_NFEATURES];
    int rc = cl_livestate_features(s, user, f, &a->plan);
    if (rc == CL_OK)
        rc = score_answer(svc, m, user, f, a->plan, prev, a);
    if (rc)
        return rc;
    if (cl_livestate_last_watch(s, user) == CL_LIVE_NONE)
        for (int k = 0; k < a->nreasons; k++)
            a->reasons[k].no_watch = !strcmp(a->reasons[k].column, "recency_days");
    const int i_price = svc->i_price, i_tenure = svc->i_tenure, i_tick = svc->i_tick,
              i_pay = svc->i_pay;
    a->price = i_price >= 0 ? f[i_price] : NAN;
    a->tenure = i_tenure >= 0 ? f[i_tenure] : NAN;
    double iss = (i_tick >= 0 && !isnan(f[i_tick]) ? f[i_tick] : 0) +
                 (i_pay >= 0 && !isnan(f[i_pay]) ? f[i_pay] : 0);
    a->issues = iss < 1 ? iss : 1;
    if (svc->cfg.rec) {
        enum { MAXH = 256 };
        int32_t items[MAXH];
        int nh = 0, n = 0;
        cl_service_history_items(svc, user, items, MAXH, &nh);
        a->rec_key = history_key(items, nh);
        if (prev && prev->rec_key == a->rec_key) {
            a->nrecs = prev->nrecs;
            a->fallback = prev->fallback;
            memcpy(a->rec_title, prev->rec_title, sizeof a->rec_title);
            memcpy(a->rec_score, prev->rec_score, sizeof a->rec_score);
        } else {
            int32_t out[SVC_RECS];
            int answer = 0;
            rc = cl_rec_recommend_history_ex(svc->cfg.rec, nh, items, NULL, SVC_RECS, 1, out,
                                             a->rec_score, &n, &answer);
            if (rc)
                return rc;
            a->nrecs = n;
            a->fallback = answer == CL_REC_ANSWER_POPULAR;
            for (int k = 0; k < n; k++)
                a->rec_title[k] = svc->item_title[out[k]];
        }
    }
    weigh_actions(svc, a);
    memcpy(a->feat, f, sizeof f);
    a->valid = 1;
    return CL_OK;
}

static int cmp_item(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

void cl_service_history_items(cl_service *svc, int32_t user, int32_t *items, int cap, int *n)
{
    int32_t titles[256], days[256];
    int nt = 0, nh = 0;
    if (cap > 256)
        cap = 256;
    if (cl_livestate_titles(svc->cfg.state, user, titles, days, cap, &nt) != CL_OK)
        nt = 0;
    for (int k = 0; k < nt; k++)
        if (titles[k] <= svc->cfg.ntitles && svc->title_item[titles[k]] >= 0)
            items[nh++] = svc->title_item[titles[k]];
    /* cl_rec wants the history sorted by item (exclusion is a merge); an insertion sort
     * of up to 256 items was 2% of a served answer's CPU */
    qsort(items, (size_t)nh, sizeof *items, cmp_item);
    *n = nh;
}

/* ---- the answer cache ------------------------------------------------------------------- */

/* The slot of `user` (caller holds its stripe), NULL when it has none. */
static svc_slot *slot_of(cl_service *svc, const svc_user *us, int32_t user)
{
    svc_slot *sl = us && us->slot1 ? &svc->slots[us->slot1 - 1] : NULL;
    return sl && sl->owner == user ? sl : NULL;
}

static void slot_clear_text(cl_service *svc, svc_slot *sl)
{
    if (sl->json)
        atomic_fetch_sub(&svc->slot_text_bytes, (long long)sl->json_len + 1);
    cl_alloc_free(sl->json);
    sl->json = NULL;
    sl->json_len = 0;
}

/* A slot for `user`, returned with the user's stripe held (the caller unlocks it): its own,
 * or the next one in clock order whose bit is clear (bits are cleared on the way, so at
 * most two turns), taken from its owner under the owner's stripe. Lock order: slot_mu, then
 * a stripe, one at a time. */
static svc_slot *slot_take(cl_service *svc, svc_user *us, int32_t user)
{
    pthread_mutex_t *mu = &svc->stripe[user % SVC_STRIPES];
    pthread_mutex_lock(&svc->slot_mu);
    pthread_mutex_lock(mu);
    svc_slot *sl = slot_of(svc, us, user);
    if (sl) {
        pthread_mutex_unlock(&svc->slot_mu);
        return sl;
    }
    pthread_mutex_unlock(mu);
    for (int64_t turn = 0; turn < 2 * (int64_t)svc->nslots; turn++) {
        svc_slot *c = &svc->slots[svc->hand];
        svc->hand = svc->hand + 1 == svc->nslots ? 0 : svc->hand + 1;
        if (c->owner == 0 || atomic_exchange(&c->ref, 0) == 0) {
            sl = c;
            break;
        }
    }
    int32_t old = sl->owner;
    if (old) { /* the owner loses its slot: it recomputes on its next request */
        pthread_mutex_t *omu = &svc->stripe[old % SVC_STRIPES];
        pthread_mutex_lock(omu);
        svc_user *ou = cl_service_user_of(svc, old, 0);
        if (ou)
            ou->slot1 = 0;
        slot_clear_text(svc, sl);
        sl->owner = 0;
        pthread_mutex_unlock(omu);
    }
    pthread_mutex_lock(mu);
    sl->owner = user;
    sl->a.valid = 0;
    atomic_store(&sl->ref, 1);
    us->slot1 = (int32_t)(sl - svc->slots) + 1;
    pthread_mutex_unlock(&svc->slot_mu);
    return sl;
}

void cl_service_cache_stats(cl_service *svc, int64_t *used, int64_t *slots, int64_t *bytes,
                            int64_t *bound)
{
    int64_t n = 0;
    pthread_mutex_lock(&svc->slot_mu); /* owners change only under it */
    for (int32_t k = 0; k < svc->nslots; k++)
        n += svc->slots[k].owner != 0;
    pthread_mutex_unlock(&svc->slot_mu);
    *used = n;
    *slots = svc->nslots;
    *bytes = (int64_t)sizeof(svc_slot) * svc->nslots + atomic_load(&svc->slot_text_bytes);
    *bound = ((int64_t)sizeof(svc_slot) + CL_SERVICE_CACHE_TEXT_MAX + 1) * svc->nslots;
}

int cl_service_answer_of(cl_service *svc, svc_model *m, int32_t user, svc_answer *out)
{
    if (user < 1 || user > svc->max_user || !cl_livestate_known(svc->cfg.state, user))
        return cl_error(CL_ERANGE, "no customer %d", (int)user);
    pthread_mutex_t *mu = &svc->stripe[user % SVC_STRIPES];
    int64_t nev = cl_livestate_user_events(svc->cfg.state, user);
    int32_t now = cl_livestate_now(svc->cfg.state);
    svc_user *us = cl_service_user_of(svc, user, 1);
    svc_answer prev; /* a stale answer still gives its recommendations when the history held */
    prev.valid = 0;
    pthread_mutex_lock(mu);
    svc_slot *sl = slot_of(svc, us, user);
    if (sl && sl->a.valid) {
        atomic_store(&sl->ref, 1);
        if (sl->a.nev == nev && sl->a.now == now && sl->a.model == m->version) {
            *out = sl->a;
            pthread_mutex_unlock(mu);
            return CL_OK;
        }
        prev = sl->a;
    }
    pthread_mutex_unlock(mu);
    int rc = compute_answer(svc, m, user, prev.valid ? &prev : NULL, out); /* scoring takes time */
    if (rc || !us)
        return rc;
    sl = slot_take(svc, us, user);
    sl->a = *out;
    pthread_mutex_unlock(mu);
    return CL_OK;
}

/* ---- words --------------------------------------------------------------------------------- */

void cl_service_column_label(const char *column, char *out, size_t cap)
{
    const char *doc = NULL;
    for (int j = 0; j < CL_LIVE_NFEATURES; j++)
        if (strcmp(cl_livestate_feature_defs[j].name, column) == 0)
            doc = cl_livestate_feature_defs[j].doc;
    size_t n = 0;
    if (doc) {
        /* the feature table's one-liner, without its parenthesised fine print */
        for (; doc[n] && doc[n] != '(' && n + 1 < cap; n++)
            out[n] = doc[n];
        while (n > 0 && out[n - 1] == ' ')
            n--;
    } else {
        for (; column[n] && n + 1 < cap; n++)
            out[n] = column[n] == '_' ? ' ' : column[n];
    }
    out[n] = '\0';
    if (out[0] >= 'a' && out[0] <= 'z')
        out[0] = (char)(out[0] - 'a' + 'A');
}

void cl_service_reason_text(const svc_reason *r, char *out, size_t cap)
{
    char lab[96];
    cl_service_column_label(r->column[0] ? r->column : r->feature, lab, sizeof lab);
    const char *dir = r->contrib > 0 ? "raises risk" : "lowers risk";
    if (r->label[0])
        snprintf(out, cap, "%s: %s (%s)", lab, r->label, dir);
    else if (r->no_watch)
        snprintf(out, cap, "%s: no watch since joining (%s)", lab, dir);
    else if (isnan(r->value))
        snprintf(out, cap, "%s: missing (%s)", lab, dir);
    else if (r->value == floor(r->value) && fabs(r->value) < 1e9)
        snprintf(out, cap, "%s: %.0f (%s)", lab, r->value, dir);
    else
        snprintf(out, cap, "%s: %.2f (%s)", lab, r->value, dir);
}

/* ---- JSON pieces --------------------------------------------------------------------------- */

json_t *cl_service_jnum(double v) { return isfinite(v) ? json_real(v) : json_null(); }

static json_t *jround(double v, double unit)
{
    return isfinite(v) ? json_real(round(v / unit) * unit) : json_null();
}

json_t *cl_service_model_json(cl_service *svc, const svc_model *m)
{
    return json_pack("{s:s, s:s, s:I, s:f}", "path", svc->cfg.model_path, "kind",
                     cl_model_kind(m->m), "version", (json_int_t)m->version, "loaded_at",
                     m->loaded_at);
}

void cl_service_recs_json(cl_service *svc, json_t *arr, const int32_t *titles, const float *scores, int n)
{
    for (int k = 0; k < n; k++) {
        int32_t t = titles[k];
        json_t *o = json_object();
        json_object_set_new(o, "title", json_integer(t));
        const char *name = svc->cfg.title_names && t <= svc->cfg.ntitles ? svc->cfg.title_names[t] : NULL;
        char buf[32];
        if (!name) {
            snprintf(buf, sizeof buf, "Title %d", (int)t);
            name = buf;
        }
        json_object_set_new(o, "name", json_string(name));
        const char *g = svc->cfg.title_genres && t <= svc->cfg.ntitles ? svc->cfg.title_genres[t] : NULL;
        json_object_set_new(o, "genre", g ? json_string(g) : json_null());
        json_object_set_new(o, "score", jround(scores[k], 1e-4));
        json_array_append_new(arr, o);
    }
}

static const char *plan_name(cl_service *svc, int plan)
{
    const char *p = cl_livestate_plan_name(svc->cfg.state, plan);
    return p ? p : "unknown";
}

static json_t *row_json(cl_service *svc, int32_t user, const svc_answer *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "id", json_integer(user));
    json_object_set_new(o, "risk", jround(a->risk, 1e-5));
    json_object_set_new(o, "plan", json_string(plan_name(svc, a->plan)));
    json_object_set_new(o, "price", jround(a->price, 0.01));
    json_object_set_new(o, "tenure_days", cl_service_jnum(a->tenure));
    json_object_set_new(o, "revenue_at_risk", jround(a->risk * a->price, 0.01));
    char text[192] = "";
    if (a->nreasons > 0)
        cl_service_reason_text(&a->reasons[0], text, sizeof text);
    json_object_set_new(o, "reason", a->nreasons > 0 ? json_string(text) : json_null());
    return o;
}

static json_t *action_json(cl_service *svc, const svc_answer *a, int k)
{
    return json_pack("{s:s, s:s, s:o, s:o}", "name", svc->acts[k].name, "label",
                     svc->acts[k].label, "cost", jround(a->cost[k], 0.01), "expected_net_value",
                     jround(a->net[k], 0.01));
}

json_t *cl_service_answer_json(cl_service *svc, int32_t user, const svc_answer *a, int full)
{
    json_t *o = row_json(svc, user, a);
    if (!full)
        return o;
    json_object_del(o, "reason");
    json_object_set_new(o, "active", json_boolean(a->active));
    json_t *h = json_array();
    svc_user *us = cl_service_user_of(svc, user, 0);
    pthread_mutex_lock(&svc->hist_mu);
    int nh = us ? us->hist_n : 0;
    for (int k = 0; k < nh; k++)
        json_array_append_new(h, json_pack("{s:i, s:o}", "day", us->hist_day[k], "risk",
                                           jround(us->hist_risk[k], 1e-5)));
    pthread_mutex_unlock(&svc->hist_mu);
    json_object_set_new(o, "history", h);
    json_t *rs = json_array();
    for (int k = 0; k < a->nreasons; k++) {
        const svc_reason *r = &a->reasons[k];
        char lab[96], text[192];
        cl_service_column_label(r->column[0] ? r->column : r->feature, lab, sizeof lab);
        cl_service_reason_text(r, text, sizeof text);
        json_t *ro = json_object();
        json_object_set_new(ro, "feature", json_string(r->feature));
        json_object_set_new(ro, "label", json_string(lab));
        json_object_set_new(ro, "value", r->label[0] ? json_string(r->label) : cl_service_jnum(r->value));
        json_object_set_new(ro, "text", json_string(text));
        json_object_set_new(ro, "contrib", jround(r->contrib, 1e-5));
        json_object_set_new(ro, "direction", json_string(r->contrib > 0 ? "raises" : "lowers"));
        json_array_append_new(rs, ro);
    }
    json_object_set_new(o, "reasons", rs);
    json_t *recs = json_array();
    cl_service_recs_json(svc, recs, a->rec_title, a->rec_score, a->nrecs);
    json_object_set_new(o, "recommendations", recs);
    json_object_set_new(o, "rec_fallback", a->fallback ? json_string("popular") : json_null());
    json_t *act = action_json(svc, a, a->best);
    json_t *alt = json_array();
    for (int k = 0; k < svc->nacts; k++)
        if (k != a->best)
            json_array_append_new(alt, action_json(svc, a, k));
    json_object_set_new(act, "alternatives", alt);
    json_object_set_new(o, "action", act);
    json_t *fs = json_object();
    for (int j = 0; j < CL_LIVE_NFEATURES; j++)
        json_object_set_new(fs, cl_livestate_feature_defs[j].name, cl_service_jnum(a->feat[j]));
    json_object_set_new(o, "features", fs);
    return o;
}

static char *dup_text(const char *t, size_t n)
{
    char *d = cl_alloc(n + 1);
    if (d)
        memcpy(d, t, n + 1);
    return d;
}

/* The serialised answer when its keys still hold; NULL otherwise (or out of memory). */
static char *cached_text(cl_service *svc, svc_user *us, int32_t user, int64_t nev, int32_t now,
                         int64_t model, uint32_t gen, size_t *len)
{
    char *t = NULL;
    pthread_mutex_t *mu = &svc->stripe[user % SVC_STRIPES];
    pthread_mutex_lock(mu);
    svc_slot *sl = slot_of(svc, us, user);
    if (sl && sl->json && sl->json_nev == nev && sl->json_now == now && sl->json_model == model &&
        sl->json_hist == gen && (t = dup_text(sl->json, sl->json_len))) {
        *len = sl->json_len;
        atomic_store(&sl->ref, 1);
    }
    pthread_mutex_unlock(mu);
    return t;
}

int cl_service_customer_text(cl_service *svc, svc_model *m, int32_t user, char **out, size_t *len)
{
    *out = NULL;
    pthread_rwlock_rdlock(svc->cfg.lock);
    int known = user >= 1 && user <= svc->max_user && cl_livestate_known(svc->cfg.state, user);
    int64_t nev = known ? cl_livestate_user_events(svc->cfg.state, user) : 0;
    int32_t now = cl_livestate_now(svc->cfg.state);
    pthread_rwlock_unlock(svc->cfg.lock);
    if (!known)
        return cl_error(CL_ERANGE, "no customer %d", (int)user);
    svc_user *us = cl_service_user_of(svc, user, 1);
    if (!us)
        return CL_ENOMEM;
    /* the generation is read before the history is serialised: a change in between makes the
     * stored text look stale (recomputed next time), never a stale text look fresh */
    pthread_mutex_lock(&svc->hist_mu);
    uint32_t gen = us->hist_gen;
    pthread_mutex_unlock(&svc->hist_mu);
    if ((*out = cached_text(svc, us, user, nev, now, m->version, gen, len))) {
        atomic_fetch_add(&svc->text_hits, 1);
        return CL_OK;
    }
    atomic_fetch_add(&svc->text_built, 1);
    svc_answer a;
    pthread_rwlock_rdlock(svc->cfg.lock);
    int rc = cl_service_answer_of(svc, m, user, &a);
    pthread_rwlock_unlock(svc->cfg.lock);
    if (rc)
        return rc;
    char *t = NULL;
    rc = cl_answer_text(svc, user, &a, &t, len);
    if (rc == CL_EINVAL) { /* a string that is not UTF-8: the tree decides what is shown */
        json_t *o = cl_service_answer_json(svc, user, &a, 1);
        char *jt = o ? json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        json_decref(o);
        *len = jt ? strlen(jt) : 0;
        t = jt ? dup_text(jt, *len) : NULL;
        free(jt);
        rc = t ? CL_OK : CL_ENOMEM;
    }
    if (rc)
        return rc == CL_ENOMEM ? cl_error(CL_ENOMEM, "customer %d: out of memory", (int)user) : rc;
    *out = t; /* the caller's; the cache keeps a copy */
    char *keep = *len <= CL_SERVICE_CACHE_TEXT_MAX ? dup_text(t, *len) : NULL;
    if (keep) {
        svc_slot *sl = slot_take(svc, us, user); /* returns with the stripe held */
        slot_clear_text(svc, sl);
        sl->json = keep;
        sl->json_len = *len;
        sl->json_nev = a.nev;
        sl->json_now = a.now;
        sl->json_model = a.model;
        sl->json_hist = gen;
        atomic_fetch_add(&svc->slot_text_bytes, (long long)*len + 1);
        pthread_mutex_unlock(&svc->stripe[user % SVC_STRIPES]);
    }
    return *out ? CL_OK : CL_ENOMEM;
}

/* ---- the monitor --------------------------------------------------------------------------- */

typedef struct ranked {
    int32_t user;
    double key;
} ranked;

static int cmp_ranked_desc(const void *a, const void *b)
{
    const ranked *x = a, *y = b;
    if (x->key != y->key)
        return x->key < y->key ? 1 : -1;
    return (x->user > y->user) - (x->user < y->user);
}

/* The customer's latest history point from a day before `now` (yesterday's risk), or NaN. */
static double risk_before(cl_service *svc, int32_t user, int32_t now)
{
    const svc_user *us = cl_service_user_of(svc, user, 0);
    for (int k = us ? us->hist_n - 1 : -1; k >= 0; k--)
        if (us->hist_day[k] < now)
            return us->hist_risk[k];
    return NAN;
}

/* 1 when cl_service_hist_record(user, day, risk) would change the history. Caller holds hist_mu. */
static int hist_differs(cl_service *svc, int32_t user, int32_t day, double risk)
{
    const svc_user *us = cl_service_user_of(svc, user, 0);
    int n = us ? us->hist_n : 0;
    if (n > 0 && us->hist_day[n - 1] == day)
        return us->hist_risk[n - 1] != (float)risk;
    return !(n > 0 && us->hist_day[n - 1] > day);
}

int cl_service_hist_record(cl_service *svc, int32_t user, int32_t day, double risk)
{
    svc_user *us = cl_service_user_of(svc, user, 1);
    if (!us)
        return 0; /* out of memory: the history misses a point, nothing else */
    int n = us->hist_n;
    if (n > 0 && us->hist_day[n - 1] == day) {
        int changed = us->hist_risk[n - 1] != (float)risk;
        us->hist_gen += (uint32_t)changed;
        us->hist_risk[n - 1] = (float)risk;
        return changed;
    }
    if (n > 0 && us->hist_day[n - 1] > day)
        return 0; /* the clock only moves forward: an older day is not appended after a newer */
    us->hist_gen++;
    if (n == SVC_HIST) {
        memmove(us->hist_day, us->hist_day + 1, sizeof(int32_t) * (SVC_HIST - 1));
        memmove(us->hist_risk, us->hist_risk + 1, sizeof(float) * (SVC_HIST - 1));
        n--;
    }
    us->hist_day[n] = day;
    us->hist_risk[n] = (float)risk;
    us->hist_n = (uint8_t)(n + 1);
    return 1;
}

static double quantile_sorted(const double *v, int64_t n, double q)
{
    if (n == 0)
        return NAN;
    double pos = q * (double)(n - 1);
    int64_t i = (int64_t)pos;
    double f = pos - (double)i;
    return i + 1 < n ? v[i] + f * (v[i + 1] - v[i]) : v[n - 1];
}

typedef struct refresh_buf {
    int32_t *ids;
    cl_frame *live; /* the state's feature frame of ids[] (cl_livestate_frame): the snapshot */
    double *risk, *sorted, *feat;
    ranked *rk;
    svc_answer *ans;
    int32_t *top, *plan;
    uint8_t *hchg; /* the history point of ids[i] changed (what the history file gets) */
    svc_rank *rank; /* what publish() takes over */
} refresh_buf;

static void refresh_buf_free(refresh_buf *b)
{
    cl_alloc_free(b->ids);
    cl_frame_free(b->live);
    cl_alloc_free(b->risk);
    cl_alloc_free(b->sorted);
    cl_alloc_free(b->feat);
    cl_alloc_free(b->rk);
    cl_alloc_free(b->ans);
    cl_alloc_free(b->top);
    cl_alloc_free(b->plan);
    cl_alloc_free(b->hchg);
    cl_alloc_free(b->rank);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* b->rank from b->rk (sorted, riskiest first) with each customer's plan. ids[] is sorted by
 * id (cl_livestate_active_ids), so a plan is a binary search away. */
static void rank_rows(refresh_buf *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        const int32_t *at = bsearch(&b->rk[i].user, b->ids, (size_t)n, sizeof *b->ids, cmp_i32);
        b->rank[i] = (svc_rank){b->rk[i].user, at ? b->plan[at - b->ids] : -1, b->rk[i].key};
    }
}

int cl_service_ranking(cl_service *svc, double min_risk, int plan, int32_t id, svc_rank *out, int64_t cap,
                int64_t *n, int64_t *total, int64_t *version, int32_t *day)
{
    *n = *total = 0;
    pthread_mutex_lock(&svc->mon_mu);
    int none = !svc->mon_json;
    pthread_mutex_unlock(&svc->mon_mu);
    if (none) {
        int rc = cl_service_refresh(svc, 1, NULL);
        if (rc)
            return rc;
    }
    pthread_mutex_lock(&svc->mon_mu);
    for (int64_t i = 0; i < svc->nrank; i++) {
        const svc_rank *r = &svc->rank[i];
        if (r->risk < min_risk)
            break; /* riskiest first: the rest are lower */
        if ((plan >= 0 && r->plan != plan) || (id > 0 && r->user != id))
            continue;
        if (*n < cap)
            out[(*n)++] = *r;
        (*total)++;
    }
    *version = svc->mon_version;
    *day = svc->rank_day;
    pthread_mutex_unlock(&svc->mon_mu);
    return CL_OK;
}

static json_t *drift_json(cl_service *svc, const double *feat, int64_t n)
{
    json_t *arr = json_array();
    double *col = n > 0 ? cl_alloc(sizeof(double) * (size_t)n) : NULL;
    for (int j = 0; j < CL_LIVE_NFEATURES && col; j++) {
        if (!svc->ref_vals[j] || svc->ref_n[j] < 1)
            continue;
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++)
            if (!isnan(feat[i * CL_LIVE_NFEATURES + j]))
                col[k++] = feat[i * CL_LIVE_NFEATURES + j];
        double psi;
        if (k < 1 || cl_drift_psi(svc->ref_vals[j], svc->ref_n[j], col, k, 10, &psi) != CL_OK)
            continue;
        char lab[96];
        cl_service_column_label(cl_livestate_feature_defs[j].name, lab, sizeof lab);
        json_array_append_new(arr, json_pack("{s:s, s:s, s:o, s:s}", "feature",
                                             cl_livestate_feature_defs[j].name, "label", lab, "psi",
                                             jround(psi, 1e-4), "status",
                                             psi < 0.1 ? "ok" : psi < 0.25 ? "watch" : "alert"));
    }
    cl_alloc_free(col);
    return arr;
}

/* Calibration of the predictions taken at calib_day, once calibration_days have passed:
 * ten equal-width bins of predicted risk against the share that cancelled since. A customer
 * is active when in ids[0..n) (the refresh's snapshot, ascending: cl_livestate_active_ids). */
static json_t *calibration_json(cl_service *svc, int32_t now, const int32_t *ids, int64_t n)
{
    if (svc->calib_day == CL_LIVE_NONE || now < svc->calib_day + svc->cfg.calibration_days)
        return json_null();
    double sp[10] = {0}, so[10] = {0}, brier = 0;
    int64_t cnt[10] = {0}, settled = 0;
    for (int32_t u = 1; u <= svc->max_user; u++) {
        if (u % SVC_CHUNK == 0 && !atomic_load(&svc->chunks[u / SVC_CHUNK])) {
            u += SVC_CHUNK - 1; /* nobody of this chunk was ever scored */
            continue;
        }
        const svc_user *us = cl_service_user_of(svc, u, 0);
        float p = us ? us->calib_p : NAN;
        if (isnan(p))
            continue;
        int y = !bsearch(&u, ids, (size_t)n, sizeof *ids, cmp_i32);
        int b = (int)(p * 10);
        b = b < 0 ? 0 : b > 9 ? 9 : b;
        sp[b] += p;
        so[b] += y;
        cnt[b]++;
        settled++;
        brier += (p - y) * (p - y);
    }
    json_t *bins = json_array();
    for (int b = 0; b < 10; b++)
        if (cnt[b] > 0)
            json_array_append_new(bins, json_pack("{s:o, s:o, s:I}", "predicted",
                                                  jround(sp[b] / (double)cnt[b], 1e-4), "observed",
                                                  jround(so[b] / (double)cnt[b], 1e-4), "n",
                                                  (json_int_t)cnt[b]));
    return json_pack("{s:o, s:I, s:i, s:i, s:o}", "bins", bins, "settled", (json_int_t)settled,
                     "horizon_days", svc->cfg.calibration_days, "from_day", (int)svc->calib_day,
                     "brier", settled ? jround(brier / (double)settled, 1e-5) : json_null());
}

/* Publishes the monitor's text and its ranking together (both owned by svc from here). */
static void publish(cl_service *svc, char *text, svc_rank *rank, int64_t nrank, int32_t day)
{
    pthread_mutex_lock(&svc->mon_mu);
    cl_alloc_free(svc->mon_json);
    svc->mon_json = text;
    svc->mon_len = strlen(text);
    cl_alloc_free(svc->rank);
    svc->rank = rank;
    svc->nrank = nrank;
    svc->rank_day = day;
    svc->mon_version++;
    pthread_cond_broadcast(&svc->mon_cv);
    pthread_mutex_unlock(&svc->mon_mu);
}

/* The answer of `user` for the monitor's rows, under the state's read lock taken for it
 * alone (a miss scores, explains and folds in: ~0.1-0.3 ms); *held grows to the longest
 * time a refresh held the lock at a stretch. */
static int row_answer(cl_service *svc, svc_model *m, int32_t user, svc_answer *a, double *held)
{
    pthread_rwlock_rdlock(svc->cfg.lock);
    double t0 = cl_service_now();
    int rc = cl_service_answer_of(svc, m, user, a);
    double t = cl_service_now() - t0;
    pthread_rwlock_unlock(svc->cfg.lock);
    if (t > *held)
        *held = t;
    return rc;
}

int cl_service_refresh(cl_service *svc, int force, int *changed)
{
    if (changed)
        *changed = 0;
    pthread_mutex_lock(&svc->refresh_mu);
    svc_model *m = cl_service_model_get(svc);
    refresh_buf b = {0};
    int64_t n = 0, ntop = 0, nmov = 0;
    int rc = CL_OK;
    /* Under the state's read lock only the snapshot: the active ids and their feature frame
     * (what scoring reads), the clock and the event count. Scoring every customer, the
     * answers of the rows and the aggregates come after letting it go, so an ingest waits
     * for the snapshot (~10-40 ms for 30k customers) or one row's answer at most, not for the
     * whole refresh (0.3-1.5 s when it was all done under the lock). */
    pthread_rwlock_rdlock(svc->cfg.lock);
    const cl_livestate *s = svc->cfg.state;
    int64_t events = cl_livestate_events(s);
    int32_t now = cl_livestate_now(s);
    if (!force && events == svc->seen_events && now == svc->seen_now && m->version == svc->seen_model) {
        pthread_rwlock_unlock(svc->cfg.lock);
        cl_service_model_put(m);
        pthread_mutex_unlock(&svc->refresh_mu);
        return CL_OK;
    }
    double t_locked = cl_service_now();
    rc = cl_livestate_active_ids(s, &b.ids, &n);
    if (rc == CL_OK)
        rc = cl_livestate_frame(s, b.ids, n, &b.live);
    pthread_rwlock_unlock(svc->cfg.lock);
    t_locked = cl_service_now() - t_locked;
    if (rc == CL_OK) {
        size_t nn = (size_t)(n ? n : 1);
        b.risk = cl_alloc(sizeof(double) * nn);
        b.sorted = cl_alloc(sizeof(double) * nn);
        b.feat = cl_alloc(sizeof(double) * nn * CL_LIVE_NFEATURES);
        b.hchg = svc->hdb ? cl_alloc_calloc(nn, 1) : NULL;
        b.rk = cl_alloc(sizeof(ranked) * nn);
        b.ans = cl_alloc(sizeof(svc_answer) * (SVC_TOP + SVC_MOVERS));
        b.top = cl_alloc(sizeof(int32_t) * SVC_TOP);
        b.plan = cl_alloc(sizeof(int32_t) * nn);
        b.rank = cl_alloc(sizeof(svc_rank) * nn);
        if (!b.risk || !b.sorted || !b.feat || !b.rk || !b.ans || !b.top || !b.plan || !b.rank)
            rc = CL_ENOMEM;
    }
    if (rc == CL_OK)
        rc = cl_livescore_risks_frame(m->sc, b.live, b.ids, n, b.risk);
    if (rc == CL_OK) {
        /* the snapshot's columns: user_id, plan (codes = plan indices: its dictionary is the
         * state's plan names in plan order), then the features in table order */
        const cl_column *pc = b.live->cols[1];
        for (int64_t i = 0; i < n; i++) {
            b.plan[i] = pc->codes[i];
            for (int j = 0; j < CL_LIVE_NFEATURES; j++)
                b.feat[i * CL_LIVE_NFEATURES + j] = b.live->cols[2 + j]->num[i];
        }
    }
    if (rc == CL_OK && svc->calib_day == CL_LIVE_NONE) {
        svc->calib_day = now;
        for (int64_t i = 0; i < n; i++) {
            svc_user *us = cl_service_user_of(svc, b.ids[i], 1);
            if (us)
                us->calib_p = (float)b.risk[i];
        }
    }
    if (rc == CL_OK) {
        /* the riskiest, then the movers since yesterday (history is only written below) */
        for (int64_t i = 0; i < n; i++)
            b.rk[i] = (ranked){b.ids[i], b.risk[i]};
        qsort(b.rk, (size_t)n, sizeof *b.rk, cmp_ranked_desc);
        rank_rows(&b, n);
        ntop = n < SVC_TOP ? n : SVC_TOP;
        /* a row's reason comes from the customer's answer now (a slice of an ingest may have
         * landed since the snapshot: then it is that newer answer's); its risk is shown as
         * ranked, as /api/customers shows it */
        for (int64_t i = 0; rc == CL_OK && i < ntop; i++) {
            b.top[i] = b.rk[i].user;
            rc = row_answer(svc, m, b.top[i], &b.ans[i], &t_locked);
            b.ans[i].risk = b.rk[i].key;
        }
    }
    int32_t mover[SVC_MOVERS];
    double mover_prev[SVC_MOVERS];
    if (rc == CL_OK) {
        pthread_mutex_lock(&svc->hist_mu);
        int64_t k = 0;
        for (int64_t i = 0; i < n; i++) {
            double prev = risk_before(svc, b.ids[i], now);
            if (!isnan(prev))
                b.rk[k++] = (ranked){b.ids[i], fabs(b.risk[i] - prev)};
        }
        qsort(b.rk, (size_t)k, sizeof *b.rk, cmp_ranked_desc);
        for (int64_t i = 0; i < k && nmov < SVC_MOVERS && b.rk[i].key > 0; i++) {
            mover[nmov] = b.rk[i].user;
            mover_prev[nmov++] = risk_before(svc, b.rk[i].user, now);
        }
        /* with a history file, the points are shown only once committed (below): a point
         * a client saw survives kill -9 */
        for (int64_t i = 0; i < n; i++) {
            if (b.hchg)
                b.hchg[i] = (uint8_t)hist_differs(svc, b.ids[i], now, b.risk[i]);
            else
                cl_service_hist_record(svc, b.ids[i], now, b.risk[i]);
        }
        pthread_mutex_unlock(&svc->hist_mu);
        for (int64_t i = 0; rc == CL_OK && i < nmov; i++)
            rc = row_answer(svc, m, mover[i], &b.ans[SVC_TOP + i], &t_locked);
    }
    json_t *calib = rc == CL_OK ? calibration_json(svc, now, b.ids, n) : NULL;
    atomic_fetch_add(&svc->refreshes, 1);
    atomic_store(&svc->refresh_locked_sum, atomic_load(&svc->refresh_locked_sum) + t_locked);
    if (t_locked > atomic_load(&svc->refresh_locked_max)) /* one refreshing thread: no race */
        atomic_store(&svc->refresh_locked_max, t_locked);
    if (rc) {
        json_decref(calib);
        refresh_buf_free(&b);
        cl_service_model_put(m);
        pthread_mutex_unlock(&svc->refresh_mu);
        return rc;
    }
    /* the history file is written outside the state's lock (a day's first refresh writes a
     * row per customer); a failure is reported and the in-memory history goes on */
    if (b.hchg && now != CL_LIVE_NONE && cl_history_commit(svc, b.ids, b.risk, b.hchg, n, now))
        fprintf(stderr, "%s\n", cl_error_last());
    if (b.hchg) { /* committed (or reported): now the histories show them */
        pthread_mutex_lock(&svc->hist_mu);
        for (int64_t i = 0; i < n; i++)
            if (b.hchg[i])
                cl_service_hist_record(svc, b.ids[i], now, b.risk[i]);
        pthread_mutex_unlock(&svc->hist_mu);
    }

    /* aggregates */
    double t = cl_service_now(), sum = 0, revenue = 0;
    int64_t high = 0, counts[SVC_BINS] = {0};
    const int ip = svc->i_price;
    for (int64_t i = 0; i < n; i++) {
        double p = b.risk[i], price = b.feat[i * CL_LIVE_NFEATURES + ip];
        sum += p;
        if (!isnan(price))
            revenue += p * price;
        high += p >= svc->cfg.threshold;
        int bin = (int)(p * SVC_BINS);
        counts[bin < 0 ? 0 : bin >= SVC_BINS ? SVC_BINS - 1 : bin]++;
        b.sorted[i] = p;
    }
    qsort(b.sorted, (size_t)n, sizeof *b.sorted, cmp_dbl);
    svc_trend tp = {now, (int32_t)n, t, n ? sum / (double)n : NAN, sum, revenue,
                    quantile_sorted(b.sorted, n, 0.5), quantile_sorted(b.sorted, n, 0.9)};
    if (svc->ntrend == SVC_TREND) {
        memmove(svc->trend, svc->trend + 1, sizeof svc->trend[0] * (SVC_TREND - 1));
        svc->ntrend--;
    }
    svc->trend[svc->ntrend++] = tp;
    if (svc->rate_t > 0 && t > svc->rate_t) {
        double r = (double)(events - svc->rate_events) / (t - svc->rate_t);
        svc->events_per_s = svc->events_per_s > 0 ? 0.5 * svc->events_per_s + 0.5 * r : r;
    }
    svc->rate_t = t;
    svc->rate_events = (double)events;

    json_t *o = json_object();
    json_object_set_new(o, "version", json_integer(svc->mon_version + 1));
    json_object_set_new(o, "generated_at", json_real(t));
    json_object_set_new(o, "day", now == CL_LIVE_NONE ? json_null() : json_integer(now));
    json_object_set_new(o, "events", json_integer(events));
    json_object_set_new(o, "events_per_s", jround(svc->events_per_s, 0.1));
    json_object_set_new(o, "currency", json_string(svc->cfg.currency));
    json_object_set_new(o, "model", cl_service_model_json(svc, m));
    json_object_set_new(o, "kpi", json_pack("{s:I, s:o, s:o, s:o, s:I, s:f}", "active",
                                            (json_int_t)n, "expected_churners", jround(sum, 0.1),
                                            "revenue_at_risk", jround(revenue, 0.01), "mean_risk",
                                            jround(tp.mean, 1e-5), "high_risk", (json_int_t)high,
                                            "threshold", svc->cfg.threshold));
    json_t *edges = json_array(), *cnt = json_array();
    for (int k = 0; k <= SVC_BINS; k++)
        json_array_append_new(edges, json_real((double)k / SVC_BINS));
    for (int k = 0; k < SVC_BINS; k++)
        json_array_append_new(cnt, json_integer(counts[k]));
    json_object_set_new(o, "risk_hist", json_pack("{s:o, s:o}", "edges", edges, "counts", cnt));
    json_t *tr = json_array();
    for (int k = 0; k < svc->ntrend; k++) {
        const svc_trend *q = &svc->trend[k];
        json_array_append_new(
            tr, json_pack("{s:i, s:f, s:o, s:o, s:o, s:o, s:o, s:i}", "day", (int)q->day, "t",
                          q->t, "mean_risk", jround(q->mean, 1e-5), "expected_churners",
                          jround(q->churners, 0.1), "revenue_at_risk", jround(q->revenue, 0.01),
                          "p50", jround(q->p50, 1e-5), "p90", jround(q->p90, 1e-5), "active",
                          (int)q->active));
    }
    json_object_set_new(o, "trend", tr);
    json_t *mv = json_array();
    for (int64_t i = 0; i < nmov; i++) {
        const svc_answer *a = &b.ans[SVC_TOP + i];
        json_t *r = row_json(svc, mover[i], a);
        json_object_set_new(r, "prev", jround(mover_prev[i], 1e-5));
        json_object_set_new(r, "delta", jround(a->risk - mover_prev[i], 1e-5));
        json_array_append_new(mv, r);
    }
    json_object_set_new(o, "movers", mv);
    json_t *top = json_array();
    for (int64_t i = 0; i < ntop; i++)
        json_array_append_new(top, row_json(svc, b.top[i], &b.ans[i]));
    json_object_set_new(o, "top", top);
    json_object_set_new(o, "drift", drift_json(svc, b.feat, n));
    json_object_set_new(o, "calibration", calib);
    json_object_set_new(o, "calibration_settles_day",
                        svc->calib_day == CL_LIVE_NONE
                            ? json_null()
                            : json_integer(svc->calib_day + svc->cfg.calibration_days));
    json_object_set_new(o, "experiment", cl_service_experiment_json(svc));
    char *text = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(15));
    json_decref(o);
    svc->seen_events = events;
    svc->seen_now = now;
    svc->seen_model = m->version;
    svc_rank *rank = b.rank; /* published below */
    b.rank = NULL;
    refresh_buf_free(&b);
    cl_service_model_put(m);
    if (!text) {
        cl_alloc_free(rank);
        pthread_mutex_unlock(&svc->refresh_mu);
        return cl_error(CL_ENOMEM, "serve: out of memory for the monitor");
    }
    char *copy = cl_alloc_strdup(text);
    free(text);
    if (!copy) {
        cl_alloc_free(rank);
        pthread_mutex_unlock(&svc->refresh_mu);
        return CL_ENOMEM;
    }
    publish(svc, copy, rank, n, now);
    pthread_mutex_unlock(&svc->refresh_mu);
    if (changed)
        *changed = 1;
    return CL_OK;
}

int64_t cl_service_monitor(cl_service *svc, char **out, size_t *len)
{
    pthread_mutex_lock(&svc->mon_mu);
    int64_t v = svc->mon_version;
    if (out) {
        *out = svc->mon_json ? cl_alloc(svc->mon_len + 1) : NULL;
        if (*out)
            memcpy(*out, svc->mon_json, svc->mon_len + 1);
        if (len)
            *len = *out ? svc->mon_len : 0;
    }
    pthread_mutex_unlock(&svc->mon_mu);
    return v;
}

int64_t cl_service_wait(cl_service *svc, int64_t seen, int timeout_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += timeout_ms / 1000;
    ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&svc->mon_mu);
    while (svc->mon_version == seen && !svc->waking)
        if (pthread_cond_timedwait(&svc->mon_cv, &svc->mon_mu, &ts))
            break;
    int64_t v = svc->mon_version;
    pthread_mutex_unlock(&svc->mon_mu);
    return v;
}

void cl_service_wake(cl_service *svc)
{
    pthread_mutex_lock(&svc->mon_mu);
    svc->waking = 1;
    pthread_cond_broadcast(&svc->mon_cv);
    pthread_mutex_unlock(&svc->mon_mu);
}

/* ---- monitor.experiment (owned by the experiment work: core/live/experiment.h) ------------- */

void cl_service_set_experiment(cl_service *svc, struct cl_experiment *x)
{
    atomic_store(&svc->experiment, x);
}

static json_t *arm_json(const char *name, const cl_experiment_arm_stats *a)
{
    json_t *o = json_object();
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "n", json_integer(a->n));
    json_object_set_new(o, "rate", cl_service_jnum(a->views));
    json_object_set_new(o, "watch_minutes", cl_service_jnum(a->minutes));
    json_object_set_new(o, "churn_rate", cl_service_jnum(a->churn));
    return o;
}

json_t *cl_service_experiment_json(cl_service *svc)
{
    cl_experiment *x = atomic_load(&svc->experiment);
    cl_experiment_summary s;
    if (!x || !cl_experiment_published(x, &s))
        return json_null();
    char metric[96];
    snprintf(metric, sizeof metric, "views of recommended titles within %d days per customer",
             s.window);
    json_t *o = json_object(), *ci = json_array(), *arms = json_array();
    json_object_set_new(o, "metric", json_string(metric));
    json_object_set_new(o, "lift", cl_service_jnum(s.lift));
    json_object_set_new(o, "relative_lift", cl_service_jnum(s.relative_lift));
    json_array_append_new(ci, cl_service_jnum(s.lo));
    json_array_append_new(ci, cl_service_jnum(s.hi));
    json_object_set_new(o, "ci", ci);
    json_object_set_new(o, "ci_level", json_real(s.ci_level));
    json_object_set_new(o, "treatment", arm_json("treatment", &s.arm[1]));
    json_object_set_new(o, "control", arm_json("control", &s.arm[0]));
    json_object_set_new(o, "true_lift", cl_service_jnum(s.true_lift));
    json_array_append_new(arms, arm_json("treatment", &s.arm[1]));
    json_array_append_new(arms, arm_json("control", &s.arm[0]));
    json_object_set_new(o, "arms", arms);
    return o;
}

/* ---- the model file on disk ---------------------------------------------------------------- */

static int same_file(const struct stat *a, const struct stat *b)
{
    return a->st_dev == b->st_dev && a->st_ino == b->st_ino && a->st_size == b->st_size &&
           a->st_mtim.tv_sec == b->st_mtim.tv_sec && a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

int cl_service_watch_model(cl_service *svc, int *swapped)
{
    if (swapped)
        *swapped = 0;
    struct stat st;
    if (stat(svc->cfg.model_path, &st) != 0)
        return CL_OK; /* gone for a moment (being replaced): the loaded model stays */
    pthread_mutex_lock(&svc->watch_mu);
    int changed = !svc->watch_known || !same_file(&st, &svc->watch_st);
    svc->watch_st = st; /* looked at: a file that fails to load is reported once */
    svc->watch_known = 1;
    pthread_mutex_unlock(&svc->watch_mu);
    if (!changed)
        return CL_OK;
    int rc = cl_service_model_load(svc, svc->cfg.model_path);
    if (rc)
        return cl_error_wrap(rc, "serve: %s changed but does not load (the old model stays)",
                             svc->cfg.model_path);
    atomic_fetch_add(&svc->reloads, 1);
    if (swapped)
        *swapped = 1;
    return CL_OK;
}
