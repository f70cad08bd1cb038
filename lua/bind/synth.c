/* synth.c - module churnlab.synth: the simulated streaming service (core/synth.h).
 *
 *   local synth = require "churnlab.synth"
 *   local w = synth.generate("data/synth", {customers = 50000, seed = 42})
 *   local w2 = synth.world{customers = 2000}          -- in memory, no files
 *   local risk = w:true_risk()                          -- oracle P(churn), NaN if inactive
 *   local r = w:replay{policy = function(id) return {discount = 20, months = 2} end}
 */
#include "support/lcl.h"
#include "support/lframe.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "base/progress.h"

#define WORLD "churnlab.SynthWorld"
#define STREAM "churnlab.SynthStream"

static cl_synth_world *checkworld(lua_State *L, int idx)
{
    return lcl_checkobj(L, idx, WORLD);
}

/* Builds a world from a parameter table at pidx, options at oidx, writing to dir (or NULL). */
static int make_world(lua_State *L, const char *dir, int pidx, int oidx)
{
    cl_synth_params prm;
    cl_synth_world_params_default(&prm);
    lcl_params(L, pidx, cl_synth_world_param_defs, &prm, "synth");
    lcl_box *box = lcl_newbox(L, WORLD);
    cl_progress *p = lcl_progress_new(L, oidx);
    cl_synth_world *w = NULL;
    int rc = cl_synth_new(&w, &prm, dir, p);
    lcl_progress_end(p); /* close the bar now: after an early stop, an error or Ctrl-C too */
    lua_pop(L, 1); /* the progress state */
    if (rc)
        return lcl_raise(L, rc); /* file errors name the file written (synth_write.c) */
    box->obj = w;
    lcl_gc_check(L);
    return 1;
}

/* generate(dir [, params [, opts]]) */
static int l_generate(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    static const char *const known[] = {"verbose", NULL};
    return make_world(L, dir, 2, lcl_check_options(L, 3, "generate", known));
}

/* world([params [, opts]]) */
static int l_world(lua_State *L)
{
    static const char *const known[] = {"verbose", NULL};
    return make_world(L, NULL, 1, lcl_check_options(L, 2, "world", known));
}

static int l_coefs(lua_State *L)
{
    lua_newtable(L);
    int i = 1;
    for (const cl_synth_coef *k = cl_synth_world_coefs(); k->name; k++, i++) {
        lua_createtable(L, 0, 3);
        lua_pushstring(L, k->name);
        lua_setfield(L, -2, "name");
        lua_pushnumber(L, k->value);
        lua_setfield(L, -2, "value");
        lua_pushstring(L, k->term);
        lua_setfield(L, -2, "term");
        lua_rawseti(L, -2, i);
    }
    return 1;
}

static int l_gc(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, WORLD);
    if (b && b->obj) {
        cl_synth_free(b->obj);
        b->obj = NULL;
    }
    return 0;
}

static int l_tostring(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, WORLD);
    if (!b || !b->obj) {
        lua_pushstring(L, WORLD " (freed)");
        return 1;
    }
    const cl_synth_params *p = cl_synth_get_params(b->obj);
    lua_pushfstring(L, WORLD " %d customers, %d titles, %d genres, %d+%d days, seed %I",
                    p->customers, p->titles, p->genres, p->days, p->label_days,
                    (lua_Integer)p->seed);
    return 1;
}

static void setint(lua_State *L, const char *k, long long v)
{
    lua_pushinteger(L, (lua_Integer)v);
    lua_setfield(L, -2, k);
}

static void setnum(lua_State *L, const char *k, double v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, k);
}

static int l_info(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    const cl_synth_params *p = cl_synth_get_params(w);
    const cl_synth_stats *s = cl_synth_get_stats(w);
    lua_newtable(L);
    setint(L, "customers", p->customers);
    setint(L, "titles", p->titles);
    setint(L, "genres", p->genres);
    setint(L, "days", p->days);
    setint(L, "label_days", p->label_days);
    setint(L, "active", s->active_at_snapshot);
    setint(L, "churned_in_window", s->churned_in_window);
    setint(L, "label_churners", s->label_churners);
    setnum(L, "churn_rate", s->active_at_snapshot
                                ? (double)s->label_churners / (double)s->active_at_snapshot
                                : 0.0);
    setint(L, "events", s->events);
    setint(L, "watches", s->watches);
    setint(L, "sessions", s->sessions);
    setnum(L, "expected_sessions", s->expected_sessions);
    setint(L, "alive_days", s->alive_days);
    setint(L, "ratings", s->ratings);
    setint(L, "tickets", s->tickets);
    setint(L, "bills", s->bills);
    setint(L, "payment_failures", s->payment_failures);
    setint(L, "plan_changes", s->plan_changes);
    setint(L, "price_changes", s->price_changes);
    setint(L, "plan_basic", s->plan_count[0]);
    setint(L, "plan_standard", s->plan_count[1]);
    setint(L, "plan_premium", s->plan_count[2]);
    setint(L, "campaign_treated", s->campaign_treated);
    setint(L, "campaign_control", s->campaign_control);
    setint(L, "campaign_treated_churn", s->campaign_treated_churn);
    setint(L, "campaign_control_churn", s->campaign_control_churn);
    setnum(L, "oracle_auc", s->oracle_auc);
    return 1;
}

static int l_params(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    lcl_push_params(L, cl_synth_world_param_defs, cl_synth_get_params(w));
    return 1;
}

static int checkid(lua_State *L, cl_synth_world *w, int idx)
{
    lua_Integer id = luaL_checkinteger(L, idx);
    if (id < 1 || id > cl_synth_customers(w))
        return luaL_argerror(L, idx, lua_pushfstring(L, "customer id %I out of range 1..%d", id,
                                                     cl_synth_customers(w)));
    return (int)id;
}

/* labels() -> {1 | 0 | -1 (not active at the snapshot)} indexed by customer id */
static int l_labels(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    int n = cl_synth_customers(w);
    lua_createtable(L, n, 0);
    for (int id = 1; id <= n; id++) {
        lua_pushinteger(L, cl_synth_label(w, id));
        lua_rawseti(L, -2, id);
    }
    return 1;
}

static int l_churn_day(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    int d = cl_synth_churn_day(w, checkid(L, w, 2));
    if (d < 0)
        lua_pushnil(L);
    else
        lua_pushinteger(L, d);
    return 1;
}

static void push_tastes(lua_State *L, cl_synth_world *w, int id)
{
    int G = cl_synth_get_params(w)->genres;
    const float *t = cl_synth_tastes(w, id);
    lua_createtable(L, G, 0);
    for (int g = 0; g < G; g++) {
        lua_pushnumber(L, t[g]);
        lua_rawseti(L, -2, g + 1);
    }
}

/* tastes([id]) -> {taste per genre} for one customer, or a list of them for all */
static int l_tastes(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    if (!lua_isnoneornil(L, 2)) {
        push_tastes(L, w, checkid(L, w, 2));
        return 1;
    }
    int n = cl_synth_customers(w);
    lua_createtable(L, n, 0);
    for (int id = 1; id <= n; id++) {
        push_tastes(L, w, id);
        lua_rawseti(L, -2, id);
    }
    return 1;
}

static int l_genres(lua_State *L)
{
    int G = CL_SYNTH_MAX_GENRES;
    if (lcl_testbox(L, 1, WORLD))
        G = cl_synth_get_params(checkworld(L, 1))->genres;
    lua_createtable(L, G, 0);
    for (int g = 0; g < G; g++) {
        lua_pushstring(L, cl_synth_world_genre_name(g));
        lua_rawseti(L, -2, g + 1);
    }
    return 1;
}

/* title_genres(tid) -> {"drama", ...} */
static int l_title_genres(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    lua_Integer tid = luaL_checkinteger(L, 2);
    if (tid < 1 || tid > cl_synth_titles(w))
        return luaL_argerror(L, 2, lua_pushfstring(L, "title id %I out of range 1..%d", tid,
                                                   cl_synth_titles(w)));
    uint32_t m = cl_synth_title_genres(w, (int)tid);
    lua_newtable(L);
    for (int g = 0, k = 1; g < CL_SYNTH_MAX_GENRES; g++)
        if (m >> g & 1u) {
            lua_pushstring(L, cl_synth_world_genre_name(g));
            lua_rawseti(L, -2, k++);
        }
    return 1;
}

static int l_appeal(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    int id = checkid(L, w, 2);
    lua_Integer tid = luaL_checkinteger(L, 3);
    if (tid < 1 || tid > cl_synth_titles(w))
        return luaL_argerror(L, 3, lua_pushfstring(L, "title id %I out of range 1..%d", tid,
                                                   cl_synth_titles(w)));
    lua_pushnumber(L, cl_synth_world_appeal(w, id, (int)tid));
    return 1;
}

/* ---- actions from Lua ------------------------------------------------------------------- */

/* The actions of a replay, with content title ids in one pool (offsets until finished). */
typedef struct actions_ud {
    cl_synth_action *a;
    int32_t *pool;
    size_t npool, cap;
} actions_ud;

static int actions_gc(lua_State *L)
{
    actions_ud *u = lua_touserdata(L, 1);
    cl_alloc_free(u->a);
    cl_alloc_free(u->pool);
    u->a = NULL;
    u->pool = NULL;
    return 0;
}

static actions_ud *actions_new(lua_State *L, int n)
{
    actions_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    if (luaL_newmetatable(L, "churnlab.SynthActions")) {
        lua_pushcfunction(L, actions_gc);
        lua_setfield(L, -2, "__gc");
    }
    lua_setmetatable(L, -2);
    u->a = cl_alloc_calloc((size_t)n, sizeof *u->a);
    if (!u->a)
        lcl_raise(L, CL_ENOMEM);
    return u;
}

/* Reads the action at the top of the stack for customer id into *a (content offsets in the
 * pool are stored in a->titles as an integer until actions_finish). */
static void read_action(lua_State *L, actions_ud *u, cl_synth_action *a, int id, int T)
{
    int t = lua_type(L, -1);
    memset(a, 0, sizeof *a);
    if (t == LUA_TNIL || t == LUA_TNONE || (t == LUA_TBOOLEAN && !lua_toboolean(L, -1)))
        return;
    if (t == LUA_TSTRING) {
        const char *s = lua_tostring(L, -1);
        if (strcmp(s, "none") == 0)
            return;
        if (strcmp(s, "outreach") == 0) {
            a->kind = CL_SYNTH_OUTREACH;
            return;
        }
        luaL_error(L, "replay: action for customer %d: unknown action '%s' (expected 'none', "
                      "'outreach', {discount = pct, months = n} or {content = {title ids}})",
                   id, s);
    }
    if (t != LUA_TTABLE)
        luaL_error(L, "replay: action for customer %d: expected a string or table, got %s", id,
                   luaL_typename(L, -1));
    static const char *const keys[] = {"discount", "months", "content", "outreach", NULL};
    char what[48];
    snprintf(what, sizeof what, "action for customer %d", id);
    lcl_check_fields(L, -1, 2, "replay", what, keys); /* {discount = 10, monts = 3} */
    int n = 0;
    if (lua_getfield(L, -1, "discount") != LUA_TNIL) {
        if (!lua_isnumber(L, -1))
            luaL_error(L, "replay: action for customer %d: discount must be a number (percent)",
                       id);
        a->kind = CL_SYNTH_DISCOUNT;
        a->discount = lua_tonumber(L, -1);
        a->months = 1;
        lua_getfield(L, -2, "months");
        if (!lua_isnil(L, -1)) {
            int isint;
            lua_Integer m = lua_tointegerx(L, -1, &isint);
            if (!isint || m < 1 || m > 24)
                luaL_error(L, "replay: action for customer %d: months must be an integer in "
                              "1..24", id);
            a->months = (int)m;
        }
        lua_pop(L, 1);
        n++;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "content") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            luaL_error(L, "replay: action for customer %d: content must be a list of title ids",
                       id);
        lua_Integer k = luaL_len(L, -1);
        if (k < 1 || k > 1000)
            luaL_error(L, "replay: action for customer %d: content needs 1..1000 title ids, got "
                          "%I", id, k);
        if (u->npool + (size_t)k > u->cap) {
            size_t cap = u->cap ? u->cap : 1024;
            while (cap < u->npool + (size_t)k)
                cap *= 2;
            int32_t *p = cl_alloc_realloc(u->pool, cap * sizeof *p);
            if (!p)
                lcl_raise(L, CL_ENOMEM);
            u->pool = p;
            u->cap = cap;
        }
        a->kind = CL_SYNTH_CONTENT;
        a->ntitles = (int)k;
        a->titles = (const int32_t *)(uintptr_t)u->npool; /* offset, fixed up later */
        for (lua_Integer i = 1; i <= k; i++) {
            lua_geti(L, -1, i);
            int isint;
            lua_Integer tid = lua_tointegerx(L, -1, &isint);
            if (!isint || tid < 1 || tid > T)
                luaL_error(L, "replay: action for customer %d: content[%I] must be a title id in "
                              "1..%d", id, i, T);
            u->pool[u->npool++] = (int32_t)tid;
            lua_pop(L, 1);
        }
        n++;
    }
    lua_pop(L, 1);
    if (lua_getfield(L, -1, "outreach") != LUA_TNIL) {
        if (lua_toboolean(L, -1)) {
            a->kind = CL_SYNTH_OUTREACH;
            n++;
        }
    }
    lua_pop(L, 1);
    if (n > 1)
        luaL_error(L, "replay: action for customer %d: give one of discount, content, outreach",
                   id);
    if (n == 0) {
        lua_pushnil(L);
        if (lua_next(L, -2)) /* a table with some other key */
            luaL_error(L, "replay: action for customer %d: unknown action key '%s'", id,
                       lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?");
    }
}

static void actions_finish(actions_ud *u, int n)
{
    for (int i = 0; i < n; i++)
        if (u->a[i].kind == CL_SYNTH_CONTENT)
            u->a[i].titles = u->pool + (uintptr_t)u->a[i].titles;
}

/* Reads opts.policy (at oidx) into an actions array; returns NULL when there is no policy
 * (none for everyone). Leaves one userdata on the stack either way. */
static cl_synth_action *read_policy(lua_State *L, cl_synth_world *w, int oidx)
{
    int n = cl_synth_customers(w), T = cl_synth_titles(w);
    actions_ud *u = actions_new(L, n);
    int ud = lua_gettop(L);
    if (!oidx || lua_getfield(L, oidx, "policy") == LUA_TNIL) {
        if (oidx)
            lua_pop(L, 1);
        return NULL;
    }
    int pol = lua_gettop(L);
    int isfn = lua_isfunction(L, pol);
    /* The policy is Lua code and may free the world (w:free()): who gets asked is read
     * before the first call, and the world is not touched again until l_replay checks that
     * its box still holds it. */
    uint8_t *ask = lua_newuserdatauv(L, (size_t)n + 1, 0);
    for (int id = 1; id <= n; id++)
        ask[id] = cl_synth_label(w, id) >= 0; /* not a customer at the snapshot: not asked */
    for (int id = 1; id <= n; id++) {
        if (!ask[id])
            continue;
        if (isfn) {
            lua_pushvalue(L, pol);
            lua_pushinteger(L, id);
            lua_call(L, 1, 1);
        } else {
            lua_pushvalue(L, pol); /* one action for everyone */
        }
        read_action(L, u, &u->a[id - 1], id, T);
        lua_pop(L, 1);
    }
    lua_settop(L, ud);
    actions_finish(u, n);
    return u->a;
}

static int horizon_opt(lua_State *L, cl_synth_world *w, int oidx)
{
    double d = lcl_optnum(L, oidx, "days", cl_synth_get_params(w)->label_days);
    int maxh = CL_SYNTH_MAX_DAYS - cl_synth_get_params(w)->days;
    if (d != floor(d) || d < 1 || d > maxh)
        luaL_error(L, "replay: days must be an integer in 1..%d, got %f", maxh, d);
    return (int)d;
}

/* replay{policy = fn(id) -> action | action, days = label_days, luck = 0, verbose = bool} */
static int l_replay(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    static const char *const known[] = {"policy", "days", "verbose", "luck", NULL};
    int oidx = lcl_check_options(L, 2, "replay", known);
    int horizon = horizon_opt(L, w, oidx);
    double luck = lcl_optnum(L, oidx, "luck", 0);
    if (!(luck >= 0 && luck <= 9007199254740992.0 && luck == floor(luck)))
        return luaL_error(L, "replay: luck must be a whole number >= 0, got %f", luck);
    cl_synth_action *acts = read_policy(L, w, oidx);
    if (lcl_testbox(L, 1, WORLD)->obj != w)
        return luaL_error(L, "replay: the policy freed the world it was deciding for");
    int n = cl_synth_customers(w);
    cl_synth_outcome *out = lua_newuserdatauv(L, (size_t)n * sizeof *out, 0);
    cl_progress *p = lcl_progress_new(L, oidx);
    int rc = cl_synth_replay_luck(w, acts, horizon, (uint64_t)luck, out, p);
    lcl_progress_end(p); /* close the bar now: after an early stop, an error or Ctrl-C too */
    LCL_CHECK(L, rc);
    lua_pop(L, 1);
    lua_createtable(L, 0, 8);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, out[i].retained);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "retained");
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, out[i].revenue);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "revenue");
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushinteger(L, out[i].churn_day);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "churn_day");
    long long active = 0, churned = 0;
    double rev = 0;
    for (int i = 0; i < n; i++) {
        if (cl_synth_label(w, i + 1) < 0)
            continue;
        active++;
        churned += !out[i].retained;
        rev += out[i].revenue;
    }
    setint(L, "active", active);
    setint(L, "churned", churned);
    setnum(L, "churn_rate", active ? (double)churned / (double)active : 0.0);
    setnum(L, "revenue_total", rev);
    setint(L, "days", horizon);
    return 1;
}

/* true_risk([{policy = ..., days = label_days}]) -> {P(churn)} by id, NaN if not active */
static int l_true_risk(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    static const char *const known[] = {"policy", "days", NULL};
    int oidx = lcl_check_options(L, 2, "true_risk", known);
    int horizon = horizon_opt(L, w, oidx);
    cl_synth_action *acts = read_policy(L, w, oidx);
    if (lcl_testbox(L, 1, WORLD)->obj != w)
        return luaL_error(L, "replay: the policy freed the world it was deciding for");
    int n = cl_synth_customers(w);
    double *r = lua_newuserdatauv(L, (size_t)n * sizeof *r, 0);
    LCL_CHECK(L, cl_synth_replay_true_risk(w, acts, horizon, r));
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_pushnumber(L, cl_synth_label(w, i + 1) >= 0 ? r[i] : (lua_Number)NAN);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* campaign_truth() -> {control = {P by id}, treated = {P by id}}: NaN if not enrolled */
static int l_campaign_truth(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    int n = cl_synth_customers(w);
    double *r = lua_newuserdatauv(L, (size_t)(n > 0 ? 2 * n : 1) * sizeof *r, 0);
    LCL_CHECK(L, cl_synth_replay_campaign_truth(w, r, r + n));
    lua_createtable(L, 0, 2);
    const char *const names[2] = {"control", "treated"};
    for (int k = 0; k < 2; k++) {
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            lua_pushnumber(L, r[(size_t)k * (size_t)n + (size_t)i]);
            lua_rawseti(L, -2, i + 1);
        }
        lua_setfield(L, -2, names[k]);
    }
    return 1;
}

/* ---- streams: w:stream{days} -> iterator of (day, events, ratings) ----------------------- */

typedef struct stream_box {
    cl_synth_stream *s;
    int left;
    double speed;  /* simulated days per wall second; 0 = as fast as they are computed */
    double t0;     /* monotonic seconds when the first day was handed out */
    int served;    /* days handed out so far */
} stream_box;

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Paces the stream: day n (0 = the first) is handed out no earlier than t0 + n / speed, so a
 * run of d days takes (d - 1) / speed seconds at least, whatever the days cost to compute (a
 * slow day is not made up by hurrying the next ones past their time). Sleeps in slices so
 * Ctrl-C (cl_progress_interrupted) ends the wait; CL_EINTR then. */
static int pace(stream_box *b)
{
    if (b->speed <= 0)
        return CL_OK;
    if (b->served == 0) {
        b->t0 = mono_now();
        return CL_OK;
    }
    double due = b->t0 + b->served / b->speed;
    for (double left; (left = due - mono_now()) > 0;) {
        if (cl_progress_interrupted())
            return cl_error(CL_EINTR, "stream: interrupted");
        double sl = left < 0.05 ? left : 0.05;
        struct timespec ts = {(time_t)sl, (long)((sl - floor(sl)) * 1e9)};
        nanosleep(&ts, NULL);
    }
    return CL_OK;
}

static int stream_gc(lua_State *L)
{
    stream_box *b = luaL_checkudata(L, 1, STREAM);
    cl_synth_stream_free(b->s);
    b->s = NULL;
    return 0;
}

/* CSV text of one day -> frame, with the column kinds fixed (a quiet day must not turn the
 * text columns into numbers). */
static int day_frame(lua_State *L, const char *text, size_t len, const char *origin, int events)
{
    static const char *const ev_names[] = {"event", "device", "detail"};
    static const cl_coltype ev_types[] = {CL_CAT, CL_CAT, CL_CAT};
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    if (events) {
        o.type_names = ev_names;
        o.types = ev_types;
        o.ntypes = 3;
    }
    cl_frame *f = NULL;
    int rc = cl_csvio_read_buffer(&f, text, len, origin, &o, NULL);
    if (rc)
        return rc;
    push_frame(L, f);
    return CL_OK;
}

static int stream_next(lua_State *L)
{
    stream_box *b = luaL_checkudata(L, lua_upvalueindex(1), STREAM);
    if (!b->s || b->left <= 0)
        return 0;
    int day = 0;
    char *ev = NULL, *rt = NULL;
    size_t nev = 0, nrt = 0;
    int rc = cl_synth_stream_next(b->s, &day, &ev, &nev, &rt, &nrt);
    if (!rc)
        rc = pace(b);
    if (!rc)
        rc = day_frame(L, ev, nev, "stream events", 1);
    if (!rc)
        rc = day_frame(L, rt, nrt, "stream ratings", 0);
    cl_alloc_free(ev);
    cl_alloc_free(rt);
    if (rc)
        return lcl_raise(L, rc);
    b->left--;
    b->served++;
    lua_pushinteger(L, day);
    lua_insert(L, -3);
    return 3;
}

/* w:stream([{days = n}]) -> iterator: for day, events, ratings in w:stream{days = 30} do ... */
static int l_stream(lua_State *L)
{
    cl_synth_world *w = checkworld(L, 1);
    int oidx = lua_isnoneornil(L, 2) ? 0 : 2;
    if (oidx) {
        luaL_checktype(L, 2, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, 2)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) != LUA_TSTRING || (strcmp(lua_tostring(L, -1), "days") != 0 &&
                                                   strcmp(lua_tostring(L, -1), "speed") != 0))
                return luaL_error(L, "stream: unknown option '%s' (options: days, speed)",
                                  luaL_tolstring(L, -1, NULL));
        }
    }
    const cl_synth_params *p = cl_synth_get_params(w);
    int maxd = CL_SYNTH_MAX_DAYS - p->days;
    double d = lcl_optnum(L, oidx, "days", p->label_days);
    if (!(d >= 1 && d <= maxd && d == floor(d)))
        return luaL_error(L, "stream: days must be an integer in 1..%d, got %f", maxd, d);
    double speed = lcl_optnum(L, oidx, "speed", 0);
    if (!(speed >= 0 && speed <= 1e6))
        return luaL_error(L, "stream: speed must be a number of simulated days per second in "
                             "[0, 1e6] (0 = unpaced), got %f", speed);
    stream_box *b = lua_newuserdatauv(L, sizeof *b, 1);
    b->s = NULL;
    b->left = (int)d;
    b->speed = speed;
    b->t0 = 0;
    b->served = 0;
    if (luaL_newmetatable(L, STREAM)) {
        lua_pushcfunction(L, stream_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, stream_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    lua_pushvalue(L, 1); /* the stream borrows the world: keep it alive */
    lua_setiuservalue(L, -2, 1);
    LCL_CHECK(L, cl_synth_stream_new(&b->s, w));
    lua_pushcclosure(L, stream_next, 1);
    return 1;
}

/* bench_data(n, d, kind, seed) -> X, y (see core/synth/synth_bench.h). */
static int l_bench_data(lua_State *L)
{
    lua_Integer n = luaL_checkinteger(L, 1), d = luaL_checkinteger(L, 2);
    static const char *const kinds[] = {"numeric", "cat", NULL};
    int cat = luaL_checkoption(L, 3, NULL, kinds);
    uint64_t seed = (uint64_t)luaL_checkinteger(L, 4);
    luaL_argcheck(L, n >= 1, 1, "need n >= 1");
    luaL_argcheck(L, d >= (cat ? 15 : 9), 2, cat ? "need d >= 15" : "need d >= 9");
    cl_tensor *X, *y = NULL;
    LCL_CHECK(L, cl_tensor_new(&X, 2, n, d));
    int rc = cl_tensor_new(&y, 1, n, 1);
    if (rc == CL_OK)
        rc = cl_synth_bench_data(cl_tensor_data(X), cl_tensor_data(y), n, d, cat, seed,
                                 cl_threads_get());
    if (rc) {
        cl_tensor_free(X);
        if (y)
            cl_tensor_free(y);
        return lcl_raise(L, rc);
    }
    lcl_pushtensor(L, X);
    lcl_pushtensor(L, y);
    return 2;
}

static const luaL_Reg funcs[] = {{"generate", l_generate}, {"world", l_world},
                                 {"coefs", l_coefs},       {"genres", l_genres},
                                 {"bench_data", l_bench_data}, {NULL, NULL}};

static const luaL_Reg methods[] = {
    {"info", l_info},         {"params", l_params},       {"labels", l_labels},
    {"churn_day", l_churn_day}, {"tastes", l_tastes},     {"genres", l_genres},
    {"title_genres", l_title_genres}, {"appeal", l_appeal}, {"replay", l_replay},
    {"true_risk", l_true_risk}, {"campaign_truth", l_campaign_truth}, {"stream", l_stream},     {"free", l_gc},           {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", l_gc}, {"__close", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const lcl_doc docs[] = {
    {"generate", "generate(dir [, params [, opts]]) -> world: simulates the streaming service "
                 "and writes titles, users, events, ratings, campaign and truth CSVs plus the "
                 "README.md data dictionary into dir (atomically; events streamed). opts.verbose "
                 "shows progress."},
    {"world", "world([params [, opts]]) -> world: the same simulation, in memory only."},
    {"coefs", "coefs() -> {{name, value, term}}: the documented causes of churn (log-hazard "
              "coefficients)."},
    {"genres", "genres() -> {names}: the genre vocabulary."},
    {"bench_data", "bench_data(n, d, kind, seed) -> X, y: the counter-hashed tables of "
                   "scripts/bench/trees.lua (kind 'numeric': d uniform features, d >= 9; "
                   "'cat': columns 1..8 categorical codes, every 5th numeric column 10% missing, "
                   "d >= 15), rebuilt bit for bit in numpy by scripts/bench/trees_anchor.py."},
    {NULL, NULL}};

static const lcl_doc method_docs[] = {
    {"info", "w:info() -> {customers, titles, genres, days, label_days, active, label_churners, "
             "churn_rate, churned_in_window, events, watches, sessions, ratings, tickets, bills, "
             "payment_failures, plan_*, campaign_*, oracle_auc, ...}: the world's size and what "
             "happened in it; churn_rate = label_churners / active (customers active at the "
             "snapshot), oracle_auc = ROC AUC of the true risk against the labels (the ceiling "
             "for any model)."},
    {"params", "w:params() -> {name = value}: the parameters the world was built with "
               "(help('synth') lists them)."},
    {"labels", "w:labels() -> {label by customer id}: 1 churned within label_days of the "
               "snapshot, 0 stayed, -1 not active at the snapshot (not a customer to score)."},
    {"churn_day", "w:churn_day(id) -> day | nil: the day customer id cancelled (counted from "
                  "the start of the simulation, so >= days means in the label window), nil "
                  "when still active at the end of the label window."},
    {"tastes", "w:tastes([id]) -> {weight per genre} (summing to 1) for customer id, or the "
               "list of every customer's: the hidden tastes recommenders try to recover."},
    {"title_genres", "w:title_genres(tid) -> {genre names} of title tid (1..titles)."},
    {"appeal", "w:appeal(id, tid) -> number: how well title tid matches customer id's hidden "
               "taste (1 = indifferent, > 1 liked): the oracle for ranking metrics."},
    {"replay", "w:replay{policy = fn(id) -> action | action, days = label_days, verbose} -> "
               "{retained, revenue, churn_day (lists by id; churn_day -1 = none), active, "
               "churned, churn_rate, revenue_total, days}: re-runs `days` days from the snapshot "
               "with each active customer's action ('none', 'outreach', {discount = pct, months "
               "= 1..24}, {content = {title ids}}) on the world's own random numbers, so policy "
               "'none' reproduces the labels exactly and two policies differ only by their "
               "effect. luck = k > 0 replays the same customers from the same snapshot with "
               "the k-th other set of random numbers (the same set for every policy): the "
               "mean gain over many lucks is a plan's expected value, one replay one draw."},
    {"stream", "w:stream{days = n, speed = x} -> iterator of day, events, ratings: the world run forward "
               "from its snapshot one simulated day at a time, with the same random numbers as "
               "w:replay (so every streamed cancel falls on the replay's churn day); events and "
               "ratings are frames in events.csv's and ratings.csv's columns, for s:ingest. "
               "speed = simulated days per wall second (day n comes no earlier than n / speed "
               "seconds after the first; default 0: as fast as they are computed)."},
    {"true_risk", "w:true_risk([{policy =, days = label_days}]) -> {P(churn) by id}: the "
                  "oracle probability of churning within `days` of the snapshot under the "
                  "policy (default: no action), from the hidden hazard; NaN for customers not "
                  "active at the snapshot."},
    {"campaign_truth", "w:campaign_truth() -> {control = {P by id}, treated = {P by id}}: for "
                       "the customers of the past campaign, the oracle probability of churning "
                       "within the campaign's outcome days without and with its discount, from "
                       "the hidden hazard along each one's expected path from the campaign day "
                       "(their true effect is the difference); NaN for customers not enrolled."},
    {"free", "w:free(): releases the world's memory now (the collector would later); any "
             "further use is an error."},
    {NULL, NULL}};

int luaopen_churnlab_synth(lua_State *L);
int luaopen_churnlab_synth(lua_State *L)
{
    lcl_createmeta(L, WORLD, meta, methods);
    lcl_setdoc(L, -1,
               "churnlab.SynthWorld: a simulated streaming service. Methods: info(), params(), "
               "labels(), churn_day(id), tastes([id]), genres(), title_genres(tid), appeal(id, "
               "tid), true_risk([{policy, days}]) (NaN for customers not active at the snapshot), "
               "replay{policy = fn(id) -> action, days}, stream{days} (an iterator of day, events frame, ratings frame: the world running on from its snapshot with replay's random numbers, so its cancels are replay's churn) (fn is called for customers active at "
               "the snapshot; others are reported as not retained with no revenue): "
               "actions are 'none', 'outreach', {discount = pct, months = n}, "
               "{content = {title ids}}. Replays reuse the world's random numbers, so policy "
               "'none' reproduces the observed labels exactly.");
    lua_pop(L, 1);
    luaL_getmetatable(L, WORLD);
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, method_docs);
    lua_pop(L, 2);
    luaL_newlib(L, funcs);
    lcl_setdocs(L, -1, docs);
    lcl_register_params(L, "synth", cl_synth_world_param_defs);
    return 1;
}
