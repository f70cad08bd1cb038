/* live.c - module churnlab.live: the live state (core/live/livestate.h) and its durable log
 * (core/live/livelog.h).
 *
 *   local live = require "churnlab.live"
 *   local s = live.new{titles = titles, log = "live.db", snapshot = "live.snap"}
 *   s:ingest(users, {event = "profile"})      -- signup_day, plan, monthly_price, discount_pct
 *   local r = s:ingest(events)                -- frame or list of event tables
 *   print(r.accepted, r.rejected, r.reasons[1])
 *   s:advance(180); local F = s:frame()       -- one row per active customer
 */
#include "support/lcl.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/fileio.h"
#include "frame/csvio.h"
#include "frame/frame.h"
#include "live/livelog.h"
#include "live/livestate.h"
#include "serve/event_json.h"
#include "support/llive.h"

#define LIVE LIVE_T
#define FRAME "churnlab.Frame"
#define MAX_REASONS 20


static void obj_free(live_obj *o)
{
    if (!o)
        return;
    cl_livestate_free(o->s);
    cl_livelog_close(o->log);
    cl_alloc_free(o->snap);
    cl_alloc_free(o->buf);
    pthread_rwlock_destroy(&o->lock);
    cl_alloc_free(o);
}

static live_obj *checklive(lua_State *L, int idx) { return lcl_checkobj(L, idx, LIVE); }

/* ---- configuration --------------------------------------------------------------------- */

typedef struct cfg_buf {
    const char *plans[CL_LIVE_MAX_PLANS];
    double prices[CL_LIVE_MAX_PLANS];
    int16_t *genre; /* in a userdata on the stack */
    cl_livestate_config cfg;
} cfg_buf;

static const char *const DEFAULT_PLANS[] = {"basic", "standard", "premium"};

/* Reads plans, prices, titles and max_user from the options at idx. Pushes one userdata
 * (the catalog) that must stay on the stack while cb->cfg is used. */
static void read_config(lua_State *L, int idx, cfg_buf *cb)
{
    memset(cb, 0, sizeof *cb);
    int np = 0, have_prices = 0;
    if (lua_getfield(L, idx, "plans") != LUA_TNIL) {
        luaL_argexpected(L, lua_istable(L, -1), idx, "plans as a list of names");
        np = (int)luaL_len(L, -1);
        if (np < 1 || np > CL_LIVE_MAX_PLANS)
            luaL_error(L, "live.new: plans: expected 1..%d names, got %d", CL_LIVE_MAX_PLANS, np);
        for (int i = 0; i < np; i++) {
            lua_rawgeti(L, -1, i + 1);
            if (lua_type(L, -1) != LUA_TSTRING)
                luaL_error(L, "live.new: plans[%d]: expected a string", i + 1);
            cb->plans[i] = lua_tostring(L, -1); /* kept alive by the options table */
            lua_pop(L, 1);
        }
    } else {
        np = 3;
        for (int i = 0; i < 3; i++)
            cb->plans[i] = DEFAULT_PLANS[i];
    }
    lua_pop(L, 1);
    for (int i = 0; i < np; i++)
        cb->prices[i] = NAN;
    if (lua_getfield(L, idx, "prices") != LUA_TNIL) {
        luaL_argexpected(L, lua_istable(L, -1), idx, "prices as {plan = price}");
        have_prices = 1;
        for (int i = 0; i < np; i++) {
            lua_getfield(L, -1, cb->plans[i]);
            if (!lua_isnil(L, -1)) {
                if (!lua_isnumber(L, -1))
                    luaL_error(L, "live.new: prices.%s: expected a number", cb->plans[i]);
                cb->prices[i] = lua_tonumber(L, -1);
            }
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    double mu = lcl_optnum(L, idx, "max_user", 16777216);
    if (!(mu >= 1 && mu <= INT32_MAX - 1 && mu == floor(mu)))
        luaL_error(L, "live.new: max_user: expected an integer in 1..%d", INT32_MAX - 1);
    int32_t ntitles = 0;
    int16_t *genre = NULL;
    if (lua_getfield(L, idx, "titles") != LUA_TNIL) {
        cl_frame *t = lcl_checkobj(L, lua_gettop(L), FRAME);
        int it = cl_frame_find(t, "title_id"), ig = cl_frame_find(t, "genres");
        if (it < 0 || ig < 0 || t->cols[it]->type == CL_CAT || t->cols[ig]->type != CL_CAT)
            luaL_error(L, "live.new: titles: expected a frame with a numeric 'title_id' and a "
                          "text 'genres' column (main genre first, '|'-separated)");
        const cl_column *ct = t->cols[it], *cg = t->cols[ig];
        for (int64_t r = 0; r < t->nrow; r++) {
            double v = ct->num[r];
            if (!(v >= 1 && v <= 10000000 && v == floor(v)))
                luaL_error(L, "live.new: titles: row %lld, field 'title_id': expected an id in "
                              "1..10000000", (long long)r + 1);
            if (v > ntitles)
                ntitles = (int32_t)v;
        }
        lua_pop(L, 1);
        genre = lua_newuserdatauv(L, (size_t)(ntitles ? ntitles : 1) * sizeof(int16_t), 0);
        for (int32_t i = 0; i < ntitles; i++)
            genre[i] = -1;
        /* main genre codes in order of first appearance over the catalog's rows */
        lua_newtable(L);
        int map = lua_gettop(L), next = 0;
        lua_getfield(L, idx, "titles");
        t = lcl_checkobj(L, -1, FRAME);
        ct = t->cols[it];
        cg = t->cols[ig];
        for (int64_t r = 0; r < t->nrow; r++) {
            const char *g = cl_frame_column_label(cg, r);
            if (!g)
                continue;
            size_t n = strcspn(g, "|");
            lua_pushlstring(L, g, n);
            if (lua_rawget(L, map) == LUA_TNIL) {
                if (next > INT16_MAX)
                    luaL_error(L, "live.new: titles: more than %d genres", INT16_MAX);
                lua_pushlstring(L, g, n);
                lua_pushinteger(L, next++);
                lua_rawset(L, map);
                lua_pushinteger(L, next - 1);
                lua_replace(L, -2);
            }
            genre[(int32_t)ct->num[r] - 1] = (int16_t)lua_tointeger(L, -1);
            lua_pop(L, 1);
        }
        lua_pop(L, 2); /* frame, map */
    } else {
        lua_pop(L, 1);
        lua_newuserdatauv(L, 1, 0);
    }
    (void)have_prices;
    cb->genre = genre;
    cb->cfg.nplans = np;
    cb->cfg.plans = cb->plans;
    cb->cfg.prices = cb->prices;
    cb->cfg.ntitles = ntitles;
    cb->cfg.title_genre = genre;
    cb->cfg.max_user = (int32_t)mu;
}

/* live.new([opts]) */
static int l_new(lua_State *L)
{
    static const char *const known[] = {"plans", "prices", "titles", "max_user", "log",
                                        "snapshot", NULL};
    if (lua_isnoneornil(L, 1)) {
        lua_settop(L, 0);
        lua_newtable(L);
    }
    const int idx = 1;
    lcl_check_options(L, idx, "new", known);
    const char *logp = lcl_optstr(L, idx, "log", NULL);
    const char *snap = lcl_optstr(L, idx, "snapshot", NULL);
    cfg_buf cb;
    read_config(L, idx, &cb);
    lcl_box *box = lcl_newbox(L, LIVE);
    live_obj *o = cl_alloc_calloc(1, sizeof *o);
    if (!o)
        return lcl_raise(L, CL_ENOMEM);
    /* glibc's default (readers first): a day's ingest holds the write lock for its whole
     * batch, so writer preference turned every ingest into request latency (p99 1.9 s at load
     * 24 vs 0.6 s); the ingest can wait behind readers instead, and it lets them in between
     * slices of LIVE_CHUNK events (let_readers_in). Writers first with those slices, tried in
     * one loaded run: days went in faster (786 vs 1455-1821 ms) but p99 went 339-463 ms ->
     * 1240 ms, since each slice's log commit (fsync) is made under the lock. */
    pthread_rwlock_init(&o->lock, NULL);
    int rc = CL_OK;
    if (snap && !(o->snap = cl_alloc_strdup(snap)))
        rc = CL_ENOMEM;
    if (!rc && logp) {
        if (!(rc = cl_livelog_open(&o->log, logp, &cb.cfg)))
            rc = cl_livelog_rebuild(o->log, snap, &cb.cfg, &o->s);
    } else if (!rc && snap && access(snap, F_OK) == 0) {
        /* no log: the snapshot alone, if there is one */
        char *img = NULL;
        size_t len = 0;
        if (!(rc = cl_fileio_read(snap, (size_t)1 << 36, &img, &len)))
            rc = cl_livestate_restore(&o->s, (const uint8_t *)img, len, NULL);
        cl_alloc_free(img);
    } else if (!rc) {
        rc = cl_livestate_new(&o->s, &cb.cfg);
    }
    if (rc) {
        obj_free(o);
        return lcl_raise(L, rc);
    }
    box->obj = o;
    lcl_gc_check(L);
    return 1;
}

/* ---- events from a frame or a list ----------------------------------------------------- */

typedef struct ingest_ctx {
    live_obj *o;
    int64_t accepted, rejected;
    int nreasons;
    int reasons;   /* stack index of the reasons table */
    int64_t since; /* events offered since the write lock was last let go */
    int64_t seq;   /* the log's sequence number of the last slice committed (-1: none) */
    /* what a served ingest does to the service's readers (seconds): the longest time the
     * write lock was held at a stretch, the longest wait to get it back after letting them
     * in, the final commit (with its fsync) and the slices */
    double t_held, hold_max, wait_max, commit;
    int64_t slices;
} ingest_ctx;

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* While the state is served, an ingest lets readers in every LIVE_CHUNK events: what was
 * applied so far is committed to the log (so readers only see events that survive kill -9;
 * the fsync that also covers a power cut comes with the ingest's last commit, before it
 * returns), then the write lock is released and taken again. A day of the default world
 * (~25k events) then holds the lock for ~1k-event slices (a few ms each) instead of ~50 ms,
 * which set the service's p99. An ingest's events stay in order in the log; a POST
 * /api/events may land between two slices. */
#define LIVE_CHUNK 1024

static int let_readers_in(ingest_ctx *c)
{
    live_obj *o = c->o;
    c->since = 0;
    if (o->log && o->nbuf > 0) {
        /* no fsync under the lock: a slice survives kill -9 once committed, and the ingest's
         * last commit (finish_ingest) fsyncs the WAL with every slice before it returns */
        int rc = cl_livelog_append_unsynced(o->log, o->buf, o->nbuf, &c->seq);
        o->nbuf = 0;
        if (rc)
            return rc;
    }
    o->version++;
    double t = mono_s();
    if (t - c->t_held > c->hold_max)
        c->hold_max = t - c->t_held;
    pthread_rwlock_unlock(&o->lock);
    pthread_rwlock_wrlock(&o->lock);
    c->t_held = mono_s();
    if (c->t_held - t > c->wait_max)
        c->wait_max = c->t_held - t;
    c->slices++;
    return CL_OK;
}

static void reject(lua_State *L, ingest_ctx *c, const char *where, int64_t row, const char *msg)
{
    c->rejected++;
    if (c->nreasons < MAX_REASONS) {
        lua_pushfstring(L, "%s %I: %s", where, (lua_Integer)row, msg);
        lua_rawseti(L, c->reasons, ++c->nreasons);
    }
}

static int keep(live_obj *o, const cl_live_event *e)
{
    if (!o->log)
        return CL_OK;
    if (o->nbuf == o->capbuf) {
        int64_t cap = o->capbuf ? 2 * o->capbuf : 1024;
        cl_live_event *t = cl_alloc_realloc(o->buf, (size_t)cap * sizeof *t);
        if (!t)
            return CL_ENOMEM;
        o->buf = t;
        o->capbuf = cap;
    }
    o->buf[o->nbuf++] = *e;
    return CL_OK;
}

/* Applies e (already converted); records the outcome. Returns non-zero only when the event
 * was applied but could not be kept for the log, or a slice could not be committed to it
 * (the state is then ahead of the log). */
static int offer(lua_State *L, ingest_ctx *c, const char *where, int64_t row, cl_live_event *e)
{
    int rc = cl_livestate_apply(c->o->s, e);
    if (rc) {
        reject(L, c, where, row, cl_error_last());
        return CL_OK;
    }
    c->accepted++;
    rc = keep(c->o, e);
    if (rc == CL_OK && c->o->served && ++c->since >= LIVE_CHUNK)
        rc = let_readers_in(c);
    return rc;
}

static int int_of(double v, int32_t *out)
{
    if (!(v == floor(v) && v >= -2147483647.0 && v <= 2147483647.0))
        return 0;
    *out = (int32_t)v;
    return 1;
}

/* Fills the fields of kind k that come from a text `detail` (plan_change, price_change). */
static const char *from_detail(live_obj *o, cl_live_event *e, const char *detail, double num)
{
    static char msg[160];
    if (e->kind == CL_LIVE_PLAN || e->kind == CL_LIVE_PROFILE) {
        if (!detail)
            return e->kind == CL_LIVE_PLAN ? "field 'detail': missing (the new plan)"
                                           : "field 'plan': missing";
        e->plan = cl_livestate_plan(o->s, detail);
        if (e->plan < 0) {
            snprintf(msg, sizeof msg, "field '%s': %s", e->kind == CL_LIVE_PLAN ? "detail" : "plan",
                     cl_error_last());
            return msg;
        }
    } else if (e->kind == CL_LIVE_PRICE) {
        if (detail) {
            char *end;
            num = strtod(detail, &end);
            if (end == detail || *end) {
                snprintf(msg, sizeof msg, "field 'detail': expected the new price, got '%.40s'",
                         detail);
                return msg;
            }
        }
        if (isnan(num))
            return "field 'detail': missing (the new price)";
        e->value = num;
    }
    return NULL;
}

static const cl_column *optcol(const cl_frame *f, const char *name)
{
    int i = cl_frame_find(f, name);
    return i >= 0 ? f->cols[i] : NULL;
}

static double numat(const cl_column *c, int64_t r) { return c && c->type != CL_CAT ? c->num[r] : NAN; }
static const char *labelat(const cl_column *c, int64_t r)
{
    return c && c->type == CL_CAT ? cl_frame_column_label(c, r) : NULL;
}

/* Rows are named `where` base + r in refusal reasons ("row 1" for frames, the file's line
 * for CSV text). */
static int ingest_frame(lua_State *L, ingest_ctx *c, const cl_frame *f, int forced,
                        const char *where, int64_t base)
{
    const cl_column *cu = optcol(f, "user_id"), *cd = optcol(f, "day"), *ce = optcol(f, "event");
    if (forced == CL_LIVE_PROFILE)
        cd = optcol(f, "signup_day");
    if (!cu || cu->type == CL_CAT)
        return luaL_error(L, "ingest: the frame needs a numeric 'user_id' column");
    if (!cd || cd->type == CL_CAT)
        return luaL_error(L, "ingest: the frame needs a numeric '%s' column",
                          forced == CL_LIVE_PROFILE ? "signup_day" : "day");
    if (!forced && (!ce || ce->type != CL_CAT))
        return luaL_error(L, "ingest: the frame needs a text 'event' column (or opts.event)");
    const cl_column *ct = optcol(f, "title_id"), *cm = optcol(f, "minutes"),
                    *cc = optcol(f, "completion"), *cx = optcol(f, "detail"),
                    *cr = optcol(f, "rating"), *cp = optcol(f, "plan"),
                    *cprice = optcol(f, "monthly_price"), *cdisc = optcol(f, "discount_pct");
    /* event kinds by dictionary code, computed once */
    int32_t nk = !forced ? ce->dict->n : 0;
    int *kinds = lua_newuserdatauv(L, (size_t)(nk ? nk : 1) * sizeof(int), 0);
    for (int32_t i = 0; i < nk; i++)
        kinds[i] = cl_livestate_kind(ce->dict->labels[i]);
    char msg[200];
    for (int64_t r = 0; r < f->nrow; r++) {
        cl_live_event e;
        memset(&e, 0, sizeof e);
        e.kind = forced;
        if (!forced) {
            int32_t code = ce->codes[r];
            e.kind = code >= 0 ? kinds[code] : 0;
            if (!e.kind) {
                snprintf(msg, sizeof msg, "field 'event': unknown event '%.40s'",
                         code >= 0 ? ce->dict->labels[code] : "");
                reject(L, c, where, base + r, msg);
                continue;
            }
        }
        if (!int_of(cu->num[r], &e.user)) {
            reject(L, c, where, base + r, "field 'user_id': expected an integer id");
            continue;
        }
        if (!int_of(cd->num[r], &e.day)) {
            reject(L, c, where, base + r,
                   forced == CL_LIVE_PROFILE ? "field 'signup_day': expected an integer day"
                                             : "field 'day': expected an integer day");
            continue;
        }
        double t = numat(ct, r);
        if (e.kind == CL_LIVE_WATCH && !int_of(t, &e.title)) {
            reject(L, c, where, base + r, "field 'title_id': expected an integer id");
            continue;
        }
        e.minutes = numat(cm, r);
        e.completion = numat(cc, r);
        const char *err = NULL;
        if (e.kind == CL_LIVE_RATING) {
            e.value = numat(cr, r);
        } else if (e.kind == CL_LIVE_PROFILE) {
            err = from_detail(c->o, &e, labelat(cp, r), NAN);
            e.value = numat(cprice, r);
            e.value2 = cdisc ? numat(cdisc, r) : 0;
        } else if (e.kind == CL_LIVE_PLAN || e.kind == CL_LIVE_PRICE) {
            err = from_detail(c->o, &e, labelat(cx, r), numat(cx, r));
        }
        if (err) {
            reject(L, c, where, base + r, err);
            continue;
        }
        int rc = offer(L, c, where, base + r, &e);
        if (rc)
            return rc;
    }
    lua_pop(L, 1); /* kinds */
    return CL_OK;
}

static double fieldnum(lua_State *L, int t, const char *k)
{
    lua_getfield(L, t, k);
    double v = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : NAN;
    lua_pop(L, 1);
    return v;
}

static int ingest_list(lua_State *L, ingest_ctx *c, int list, int forced)
{
    lua_Integer n = luaL_len(L, list);
    char msg[200];
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, list, i);
        int t = lua_gettop(L);
        cl_live_event e;
        memset(&e, 0, sizeof e);
        if (!lua_istable(L, t)) {
            snprintf(msg, sizeof msg, "expected a table, got %s", luaL_typename(L, t));
            reject(L, c, "event", i, msg);
            lua_pop(L, 1);
            continue;
        }
        e.kind = forced;
        if (!forced) {
            lua_getfield(L, t, "event");
            e.kind = lua_type(L, -1) == LUA_TSTRING ? cl_livestate_kind(lua_tostring(L, -1)) : 0;
            if (!e.kind)
                snprintf(msg, sizeof msg, "field 'event': unknown event '%.40s'",
                         lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : luaL_typename(L, -1));
            lua_pop(L, 1);
            if (!e.kind) {
                reject(L, c, "event", i, msg);
                lua_pop(L, 1);
                continue;
            }
        }
        const char *err = NULL;
        if (!int_of(fieldnum(L, t, "user_id"), &e.user))
            err = "field 'user_id': expected an integer id";
        else if (!int_of(fieldnum(L, t, e.kind == CL_LIVE_PROFILE ? "signup_day" : "day"), &e.day))
            err = e.kind == CL_LIVE_PROFILE ? "field 'signup_day': expected an integer day"
                                            : "field 'day': expected an integer day";
        else if (e.kind == CL_LIVE_WATCH && !int_of(fieldnum(L, t, "title_id"), &e.title))
            err = "field 'title_id': expected an integer id";
        if (!err) {
            e.minutes = fieldnum(L, t, "minutes");
            e.completion = fieldnum(L, t, "completion");
            if (e.kind == CL_LIVE_RATING) {
                e.value = fieldnum(L, t, "rating");
            } else if (e.kind == CL_LIVE_PROFILE) {
                lua_getfield(L, t, "plan");
                err = from_detail(c->o, &e, lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL, NAN);
                lua_pop(L, 1);
                e.value = fieldnum(L, t, "monthly_price");
                lua_getfield(L, t, "discount_pct");
                e.value2 = lua_isnil(L, -1) ? 0 : fieldnum(L, t, "discount_pct");
                lua_pop(L, 1);
            } else if (e.kind == CL_LIVE_PLAN || e.kind == CL_LIVE_PRICE) {
                lua_getfield(L, t, "detail");
                const char *d = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
                double dn = lua_type(L, -1) == LUA_TNUMBER ? lua_tonumber(L, -1) : NAN;
                err = from_detail(c->o, &e, d, dn);
                lua_pop(L, 1);
            }
        }
        int rc = err ? CL_OK : offer(L, c, "event", i, &e);
        if (err)
            reject(L, c, "event", i, err);
        if (rc) {
            lua_pop(L, 1);
            return rc;
        }
        lua_pop(L, 1);
    }
    return CL_OK;
}


/* CSV text: a header line, then rows. The row after the header is line `first` of its file.
 * Parsed in one piece; when that fails (a malformed line), line by line, so one bad line is
 * refused with the reader's reason and the others still go in. Column kinds are fixed by
 * name (a chunk must not turn text columns into numbers or the reverse). */
static const char *const CSV_CAT[] = {"event", "device", "detail", "plan"};
static const char *const CSV_NUM[] = {"user_id", "day", "title_id", "minutes", "completion",
                                      "rating", "signup_day", "monthly_price", "discount_pct"};

static int parse_csv(cl_frame **f, const char *text, size_t len, const char *const *names,
                     const cl_coltype *types, int nt)
{
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.type_names = names;
    o.types = types;
    o.ntypes = nt;
    return cl_csvio_read_buffer(f, text, len, "ingest", &o, NULL);
}

/* Ingests frame f (owned: boxed first, so an error raised inside cannot leak it). */
static int ingest_owned(lua_State *L, ingest_ctx *c, cl_frame *f, int forced, int64_t base)
{
    lcl_box *b = lcl_newbox(L, FRAME);
    b->obj = f;
    int rc = ingest_frame(L, c, f, forced, "line", base);
    lua_pop(L, 1); /* the GC frees the frame */
    return rc;
}

static int ingest_csv(lua_State *L, ingest_ctx *c, const char *text, size_t len, int forced,
                      int64_t first)
{
    const char *nl = memchr(text, '\n', len);
    size_t hlen = nl ? (size_t)(nl - text) : len;
    /* the header's names decide which columns get a fixed kind */
    const char *names[16];
    cl_coltype types[16];
    int nt = 0;
    for (int k = 0; k < 2; k++) {
        const char *const *list = k ? CSV_NUM : CSV_CAT;
        int n = k ? (int)(sizeof CSV_NUM / sizeof *CSV_NUM) : (int)(sizeof CSV_CAT / sizeof *CSV_CAT);
        for (int i = 0; i < n; i++) {
            size_t m = strlen(list[i]);
            for (const char *p = text; p + m <= text + hlen; p++)
                if (memcmp(p, list[i], m) == 0 && (p == text || p[-1] == ',') &&
                    (p + m == text + hlen || p[m] == ',' || p[m] == '\r')) {
                    names[nt] = list[i];
                    types[nt++] = k ? CL_NUM : CL_CAT;
                    break;
                }
        }
    }
    cl_frame *f = NULL;
    if (parse_csv(&f, text, len, names, types, nt) == CL_OK)
        return ingest_owned(L, c, f, forced, first);
    if (!nl)
        return luaL_error(L, "ingest: CSV text: %s", cl_error_last());
    luaL_Buffer one;
    const char *p = nl + 1, *end = text + len;
    for (int64_t line = first; p < end; line++) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        size_t n = q ? (size_t)(q - p) : (size_t)(end - p);
        if (n > 0 && !(n == 1 && p[0] == '\r')) {
            luaL_buffinit(L, &one);
            luaL_addlstring(&one, text, hlen + 1);
            luaL_addlstring(&one, p, n);
            luaL_pushresult(&one);
            size_t bl;
            const char *buf = lua_tolstring(L, -1, &bl);
            f = NULL;
            int rc = parse_csv(&f, buf, bl, names, types, nt);
            if (rc) {
                /* the reader names "line 2" of the one-line text: keep what follows it, without
                 * the reader's hint about skipping bad lines (refusing is what happens here) */
                char msg[200];
                const char *m = cl_error_last(), *at = strstr(m, "line 2");
                if (at) {
                    m = at + 6;
                    if ((m[0] == ':' || m[0] == ',') && m[1] == ' ')
                        m += 2;
                }
                snprintf(msg, sizeof msg, "%s", m);
                char *hint = strstr(msg, " (use on_bad_line");
                if (hint)
                    *hint = 0;
                reject(L, c, "line", line, msg);
            } else if ((rc = ingest_owned(L, c, f, forced, line))) {
                lua_pop(L, 1);
                return rc;
            }
            lua_pop(L, 1);
        }
        p += n + 1;
    }
    return CL_OK;
}

static int finish_ingest(lua_State *L, ingest_ctx *c, int rc);

/* s:ingest(events [, opts]) -> {accepted, rejected, reasons, seq} */
static int l_ingest_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    static const char *const known[] = {"event", "line", NULL};
    int oidx = lua_istable(L, 3) ? 3 : 0;
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    lcl_check_options(L, 3, "ingest", known);
    int forced = 0;
    const char *ev = lcl_optstr(L, oidx, "event", NULL);
    if (ev && !(forced = cl_livestate_kind(ev)))
        return luaL_error(L, "ingest: option 'event': unknown event '%s' (events: watch, ticket, "
                             "payment_failed, plan_change, price_change, cancel, rating, profile)",
                          ev);
    if (o->broken)
        return luaL_error(L, "ingest: the log failed earlier and the state is ahead of it; "
                             "make a new live state from the log");
    lua_settop(L, 3);
    lua_newtable(L);
    ingest_ctx c = {o, 0, 0, 0, lua_gettop(L), 0, -1, mono_s(), 0, 0, 0, 1};
    o->nbuf = 0;
    int rc;
    lcl_box *fb = lcl_testbox(L, 2, FRAME);
    if (fb) {
        if (!fb->obj)
            return luaL_argerror(L, 2, "attempt to use a freed " FRAME);
        rc = ingest_frame(L, &c, fb->obj, forced, "row", 1);
    } else if (lua_type(L, 2) == LUA_TSTRING) {
        size_t len;
        const char *text = lua_tolstring(L, 2, &len);
        double line = lcl_optnum(L, oidx, "line", 2);
        if (!(line >= 1 && line == floor(line)))
            return luaL_error(L, "ingest: option 'line' must be an integer >= 1");
        rc = ingest_csv(L, &c, text, len, forced, (int64_t)line);
    } else {
        luaL_argexpected(L, lua_istable(L, 2), 2, "churnlab.Frame, CSV text or list of event tables");
        rc = ingest_list(L, &c, 2, forced);
    }
    return finish_ingest(L, &c, rc);
}

/* Commits the accepted events of an ingest to the log (one batch) and pushes its result. */
static int finish_ingest(lua_State *L, ingest_ctx *c, int rc)
{
    live_obj *o = c->o;
    int64_t seq = c->seq >= 0 ? c->seq : o->log ? cl_livelog_last(o->log) : 0;
    double t0 = mono_s();
    int outside = o->served && o->log && rc == CL_OK; /* the fsync without the state's lock */
    if (rc == CL_OK && o->log && o->nbuf > 0)
        rc = outside ? cl_livelog_append_unsynced(o->log, o->buf, o->nbuf, &seq)
                     : cl_livelog_append(o->log, o->buf, o->nbuf, &seq);
    else if (rc == CL_OK && o->log && !outside)
        rc = cl_livelog_sync(o->log); /* the slices' fsync, when the last slice was full */
    o->nbuf = 0;
    o->rejected += c->rejected;
    if (c->accepted > 0)
        o->version++;
    if (rc == CL_OK && outside) {
        /* what readers may see is committed (it survives kill -9) but the fsync that makes
         * it survive a power cut too was ~35-55 ms under the write lock at load 20 (every
         * reader waited for it). The log serialises its own calls, so POST /api/events may
         * append meanwhile; the state is not touched until the lock is back. */
        double t1 = mono_s();
        if (t1 - c->t_held > c->hold_max)
            c->hold_max = t1 - c->t_held;
        pthread_rwlock_unlock(&o->lock);
        rc = cl_livelog_sync(o->log);
        c->commit = mono_s() - t0;
        pthread_rwlock_wrlock(&o->lock);
    } else {
        double t1 = mono_s();
        c->commit = t1 - t0;
        if (t1 - c->t_held > c->hold_max)
            c->hold_max = t1 - c->t_held;
    }
    if (rc) {
        o->broken = 1; /* these events are in the state but not durable */
        return lcl_raise(L, rc);
    }
    lua_createtable(L, 0, 4);
    lua_pushinteger(L, c->accepted);
    lua_setfield(L, -2, "accepted");
    lua_pushinteger(L, c->rejected);
    lua_setfield(L, -2, "rejected");
    lua_pushvalue(L, c->reasons);
    lua_setfield(L, -2, "reasons");
    lua_pushinteger(L, seq);
    lua_setfield(L, -2, "seq");
    lua_createtable(L, 0, 4); /* lock: what the service's readers waited through */
    lua_pushinteger(L, c->slices);
    lua_setfield(L, -2, "slices");
    lua_pushnumber(L, c->hold_max * 1000);
    lua_setfield(L, -2, "hold_max_ms");
    lua_pushnumber(L, c->wait_max * 1000);
    lua_setfield(L, -2, "wait_max_ms");
    lua_pushnumber(L, c->commit * 1000);
    lua_setfield(L, -2, "commit_ms");
    lua_setfield(L, -2, "lock");
    return 1;
}

/* s:ingest_jsonl(text [, {line = n}]) -> {accepted, rejected, reasons, seq}: JSON lines, one
 * event a line, parsed by the service's parser (serve/event_json.h); line n of text is named
 * "line <first + n - 1>" in refusals. Blank lines are skipped. */
static int l_ingest_jsonl_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    static const char *const known[] = {"line", NULL};
    size_t len;
    const char *text = luaL_checklstring(L, 2, &len);
    int oidx = lua_istable(L, 3) ? 3 : 0;
    if (!lua_isnoneornil(L, 3))
        luaL_checktype(L, 3, LUA_TTABLE);
    lcl_check_options(L, 3, "ingest_jsonl", known);
    double first = lcl_optnum(L, oidx, "line", 1);
    if (!(first >= 1 && first == floor(first) && first < 9e15))
        return luaL_error(L, "ingest_jsonl: option 'line' must be an integer >= 1");
    if (o->broken)
        return luaL_error(L, "ingest_jsonl: the log failed earlier and the state is ahead of it; "
                             "make a new live state from the log");
    lua_settop(L, 3);
    lua_newtable(L);
    ingest_ctx c = {o, 0, 0, 0, lua_gettop(L), 0, -1, mono_s(), 0, 0, 0, 1};
    o->nbuf = 0;
    int rc = CL_OK;
    char msg[200];
    const char *p = text, *end = text + len;
    for (int64_t line = (int64_t)first; rc == CL_OK && p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!cl_event_json_blank(p, n)) {
            cl_live_event e;
            const char *why = cl_event_json_parse(o->s, p, n, &e, msg, sizeof msg);
            if (why)
                reject(L, &c, "line", line, why);
            else
                rc = offer(L, &c, "line", line, &e);
        }
        p += n + 1;
    }
    return finish_ingest(L, &c, rc);
}

/* ---- reading ----------------------------------------------------------------------------- */

static int l_advance_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    lua_Integer d = luaL_checkinteger(L, 2);
    if (d < INT32_MIN + 1 || d > INT32_MAX)
        return luaL_argerror(L, 2, "day out of range");
    int32_t before = cl_livestate_now(o->s);
    LCL_CHECK(L, cl_livestate_advance(o->s, (int32_t)d));
    if (cl_livestate_now(o->s) != before)
        o->version++;
    lua_settop(L, 1);
    return 1;
}

static int l_now_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    int32_t now = cl_livestate_now(o->s);
    if (now == CL_LIVE_NONE)
        lua_pushnil(L);
    else
        lua_pushinteger(L, now);
    return 1;
}

static int l_version_(lua_State *L)
{
    lua_pushinteger(L, checklive(L, 1)->version);
    return 1;
}

static void push_num(lua_State *L, double v, int is_count)
{
    if (is_count && isfinite(v))
        lua_pushinteger(L, (lua_Integer)v);
    else
        lua_pushnumber(L, v);
}

/* s:features(id) -> {name = value, plan = name, active = bool} or nil when never seen */
static int l_features_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    lua_Integer id = luaL_checkinteger(L, 2);
    if (id < 1 || id > INT32_MAX || !cl_livestate_known(o->s, (int32_t)id)) {
        lua_pushnil(L);
        return 1;
    }
    double v[CL_LIVE_NFEATURES];
    int plan = -1;
    LCL_CHECK(L, cl_livestate_features(o->s, (int32_t)id, v, &plan));
    lua_createtable(L, 0, CL_LIVE_NFEATURES + 3);
    lua_pushinteger(L, id);
    lua_setfield(L, -2, "user_id");
    const char *pn = cl_livestate_plan_name(o->s, plan);
    if (pn) {
        lua_pushstring(L, pn);
        lua_setfield(L, -2, "plan");
    }
    lua_pushboolean(L, cl_livestate_active(o->s, (int32_t)id));
    lua_setfield(L, -2, "active");
    for (int j = 0; j < CL_LIVE_NFEATURES; j++) {
        push_num(L, v[j], cl_livestate_feature_defs[j].is_count);
        lua_setfield(L, -2, cl_livestate_feature_defs[j].name);
    }
    return 1;
}

/* s:frame() -> frame: user_id, plan, then every feature; one row per active customer */
static int l_frame_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    lcl_box *b = lcl_newbox(L, FRAME);
    LCL_CHECK(L, cl_livestate_frame(o->s, NULL, 0, (cl_frame **)&b->obj));
    lcl_gc_check(L);
    return 1;
}

/* s:image() -> string: the canonical state bytes */
static int l_image_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    uint8_t *img = NULL;
    size_t len = 0;
    LCL_CHECK(L, cl_livestate_serialize(o->s, 0, &img, &len)); /* untagged: bytes = state */
    lua_pushlstring(L, (const char *)img, len);
    cl_alloc_free(img);
    return 1;
}

/* s:snapshot([path]) -> path */
static int l_snapshot_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    const char *path = luaL_optstring(L, 2, o->snap);
    if (!path)
        return luaL_error(L, "snapshot: no path (give one, or live.new{snapshot = path})");
    LCL_CHECK(L, cl_livelog_snapshot(o->s, o->log ? cl_livelog_last(o->log) : 0, path));
    lua_pushstring(L, path);
    return 1;
}

static void setint(lua_State *L, const char *k, lua_Integer v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static int l_stats_(lua_State *L)
{
    live_obj *o = checklive(L, 1);
    int32_t *ids = NULL;
    int64_t nact = 0;
    LCL_CHECK(L, cl_livestate_active_ids(o->s, &ids, &nact));
    cl_alloc_free(ids);
    lua_createtable(L, 0, 6);
    setint(L, "events", cl_livestate_events(o->s));
    setint(L, "rejected", o->rejected);
    setint(L, "active", nact);
    setint(L, "bytes", (lua_Integer)cl_livestate_bytes(o->s));
    if (cl_livestate_now(o->s) != CL_LIVE_NONE)
        setint(L, "now", cl_livestate_now(o->s));
    if (o->log) {
        setint(L, "batches", cl_livelog_last(o->log));
        setint(L, "logged", cl_livelog_count(o->log));
    }
    return 1;
}

static int l_feature_table(lua_State *L)
{
    lua_createtable(L, CL_LIVE_NFEATURES, 0);
    for (int j = 0; j < CL_LIVE_NFEATURES; j++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, cl_livestate_feature_defs[j].name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, cl_livestate_feature_defs[j].doc);
        lua_setfield(L, -2, "doc");
        lua_pushboolean(L, cl_livestate_feature_defs[j].is_count);
        lua_setfield(L, -2, "count");
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

/* The methods, under the service's lock while the state is served (support/llive.h). */
#define LOCKED(name, write) \
    static int name(lua_State *L) { return llive_locked(L, checklive(L, 1), name##_, write); }
LOCKED(l_ingest, 1)
LOCKED(l_ingest_jsonl, 1)
LOCKED(l_advance, 1)
LOCKED(l_now, 0)
LOCKED(l_version, 0)
LOCKED(l_features, 0)
LOCKED(l_frame, 0)
LOCKED(l_image, 0)
LOCKED(l_snapshot, 0)
LOCKED(l_stats, 0)
#undef LOCKED

static int l_gc(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, LIVE);
    if (b && b->obj && ((live_obj *)b->obj)->served)
        return luaL_error(L, "free: the live state is being served (stop the service first)");
    if (b && b->obj) {
        obj_free(b->obj);
        b->obj = NULL;
    }
    return 0;
}

static int l_tostring(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, LIVE);
    if (!b || !b->obj) {
        lua_pushstring(L, LIVE " (freed)");
        return 1;
    }
    live_obj *o = b->obj;
    int32_t now = cl_livestate_now(o->s);
    lua_pushfstring(L, LIVE " %I events, day %s%s", (lua_Integer)cl_livestate_events(o->s),
                    now == CL_LIVE_NONE ? "-" : lua_pushfstring(L, "%d", (int)now),
                    o->log ? ", logged" : "");
    return 1;
}

static const luaL_Reg funcs[] = {{"new", l_new}, {"features", l_feature_table}, {NULL, NULL}};

static const luaL_Reg methods[] = {
    {"ingest", l_ingest}, {"advance", l_advance},   {"now", l_now},     {"features", l_features},
    {"frame", l_frame},   {"snapshot", l_snapshot}, {"image", l_image}, {"stats", l_stats},
    {"version", l_version}, {"free", l_gc},       {"ingest_jsonl", l_ingest_jsonl},
    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", l_gc}, {"__close", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const lcl_doc docs[] = {
    {"new", "new([opts]) -> live state. opts: plans = {names} (default basic, standard, "
            "premium), prices = {plan = list price} (else learnt from profiles and price "
            "changes), titles = frame with title_id and genres (main genre first; enables "
            "genres_90 and refuses unknown titles), max_user (largest id, default 16777216), "
            "log = path of the durable SQLite event log (the state is rebuilt from snapshot + "
            "log when it exists), snapshot = path of the snapshot file."},
    {"features", "features() -> {{name, doc, count}}: the feature table (the one definition "
                 "shared by live and batch; count = exact integer)."},
    {NULL, NULL}};

static const lcl_doc mdocs[] = {
    {"ingest", "s:ingest(events [, opts]) -> {accepted, rejected, reasons, seq}: applies a frame "
               "(columns user_id, day, event, title_id, minutes, completion, detail, rating) or a "
               "list of event tables, or CSV text with a header (opts.line: the file line of its first "
               "row, for reasons). opts.event sets the kind of every row ('rating' for "
               "ratings.csv; 'profile' for users.csv: signup_day, plan, monthly_price, "
               "discount_pct). Malformed events are refused with a reason ('row 7: field "
               "'minutes': ...', first 20 kept) and never change the state. With a log, the "
               "accepted events are committed before ingest returns (seq): as one batch, or, "
               "while a service serves the state, in slices of 1024 events between which "
               "the service's readers get the state's lock. The result's lock = {slices, hold_max_ms, "
               "wait_max_ms, commit_ms}: the longest stretch the state's lock was held, the "
               "longest wait to take it back between slices, and the final commit with its fsync "
               "(made outside the lock while served: readers see only committed events, "
               "which survive kill -9; ingest returns once they survive a power cut too)."},
    {"ingest_jsonl", "s:ingest_jsonl(text [, opts]) -> {accepted, rejected, reasons, seq}: "
                     "applies JSON lines, one event object a line, in the format of the "
                     "service's POST /api/events (the same parser: fields user_id, day, event, "
                     "title_id, minutes, completion, detail, device; rating: rating; profile: "
                     "signup_day, plan, monthly_price, discount_pct; plan_change's detail is the "
                     "plan's name, price_change's the new price as a number). opts.line: the "
                     "file line of text's first line, for reasons ('line 7: field 'day': ...'). "
                     "Blank lines are skipped; malformed ones are refused and counted, never "
                     "applied. With a log, the accepted events are one committed batch."},
    {"advance", "s:advance(day) -> s: moves the clock to the start of `day` (never back)."},
    {"now", "s:now() -> day the clock is at (the start of it), nil before any event."},
    {"features", "s:features(id) -> {feature = value, plan, active} as of the clock, or nil "
                 "for a customer never seen."},
    {"frame", "s:frame() -> frame: user_id, plan and every feature, one row per active "
              "customer (profiled, not cancelled), by user_id."},
    {"snapshot", "s:snapshot([path]) -> path: writes the state image atomically, tagged with "
                 "the last logged batch (restart = snapshot + later batches)."},
    {"image", "s:image() -> string: the canonical state bytes (same events = same bytes)."},
    {"free", "s:free(): releases the state's memory now (also done by the garbage collector "
             "and at the end of a `local s <close>` block); using it afterwards is an error."},
    {"stats", "s:stats() -> {events, rejected, active, bytes, now, batches, logged}."},
    {"version", "s:version() -> n: changes whenever the state does (accepted events, clock "
                "moves), for caches of derived values (churnlab.livescore)."},
    {NULL, NULL}};

int luaopen_churnlab_live(lua_State *L);
int luaopen_churnlab_live(lua_State *L)
{
    /* frames come in and go out: make sure their metatable exists */
    lua_getglobal(L, "require");
    lua_pushliteral(L, "churnlab.frame");
    lua_call(L, 1, 0);
    lcl_createmeta(L, LIVE, meta, methods);
    lcl_setdoc(L, -1,
               "churnlab.Live: the live state. Methods: ingest(events [, opts]), ingest_jsonl(text [, "
               "opts]), advance(day), "
               "now(), features(id), frame(), snapshot([path]), image(), stats(). Features are "
               "read as of the clock: windows cover days [now - w, now).");
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, mdocs);
    lua_pop(L, 2);
    luaL_newlib(L, funcs);
    lcl_setdocs(L, -1, docs);
    return 1;
}
