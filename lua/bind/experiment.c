/* experiment.c - module churnlab.experiment: the recommendation experiment run on the
 * synthetic world streamed live (core/live/experiment.h, core/synth/synth.h).
 *
 *   local x = require("churnlab.experiment").new{world = w, seed = 1, holdout = 0.1}
 *   for i = 1, 30 do
 *     local day, events, ratings = x:step(function(id, k) return {tid, ...} end)
 *     state:ingest(events)          -- the same CSV text feeds the live engine
 *   end
 *   x:summary()                     -- the monitor.experiment table of SERVE_API
 *
 * Each step streams one day of the world, reads its events, then shows a list to every
 * customer who visited that day (watched something) and has no impression yet: the model's
 * list (the recommend function) in the treatment arm, the popularity baseline (most watched
 * titles so far) in the control arm. The world's expected views under both lists give the
 * true lift. */
#include "support/lcl.h"
#include "support/lserve.h"

#include "live/experiment.h"
#include "serve/service_impl.h"
#include "synth/synth.h"
#include "base/alloc.h"

#include <lauxlib.h>
#include <lua.h>
#include <math.h>
#include <string.h>

#define EXPERIMENT "churnlab.Experiment"
#define WORLD "churnlab.SynthWorld"

typedef struct exp_obj {
    cl_experiment *x;
    cl_synth_stream *s;
    const cl_synth_world *w;
    int k, day;
} exp_obj;

static exp_obj *checkexp(lua_State *L, int idx)
{
    exp_obj *o = luaL_checkudata(L, idx, EXPERIMENT);
    if (!o->x)
        luaL_argerror(L, idx, "attempt to use a freed " EXPERIMENT);
    return o;
}

/* Detaches from the service it was attached to (uservalue 2), if that still runs. */
static void detach(lua_State *L, int idx)
{
    if (lua_getiuservalue(L, idx, 2) != LUA_TNIL) {
        cl_service *svc = lserve_service(L, -1);
        if (svc)
            cl_service_set_experiment(svc, NULL);
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    lua_setiuservalue(L, idx, 2);
}

static int l_gc(lua_State *L)
{
    exp_obj *o = luaL_checkudata(L, 1, EXPERIMENT);
    detach(L, 1);
    cl_experiment_free(o->x);
    cl_synth_stream_free(o->s);
    o->x = NULL;
    o->s = NULL;
    return 0;
}

static int l_tostring(lua_State *L)
{
    exp_obj *o = luaL_checkudata(L, 1, EXPERIMENT);
    if (!o->x)
        lua_pushliteral(L, EXPERIMENT " (freed)");
    else
        lua_pushfstring(L, EXPERIMENT " day %d, k %d", o->day, o->k);
    return 1;
}

/* new{world =, seed = 0, holdout = 0.1, window = 7, k = 10, react = true, ci_level = 0.9} */
static int l_new(lua_State *L)
{
    static const char *const known[] = {"world", "seed", "holdout", "window", "k", "react",
                                        "ci_level", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    lcl_check_options(L, 1, "experiment.new", known);
    if (lua_getfield(L, 1, "world") == LUA_TNIL)
        return luaL_error(L, "experiment.new: option 'world' (a churnlab.SynthWorld) is required");
    const cl_synth_world *w = lcl_checkobj(L, lua_absindex(L, -1), WORLD);
    cl_experiment_params p;
    cl_experiment_params_default(&p);
    double seed = lcl_optnum(L, 1, "seed", 0), win = lcl_optnum(L, 1, "window", p.window);
    double k = lcl_optnum(L, 1, "k", 10);
    if (!(seed >= 0 && seed == floor(seed) && seed < 9007199254740992.0))
        return luaL_error(L, "experiment.new: seed must be an integer >= 0, got %f", seed);
    if (!(win == floor(win) && win >= 1 && win <= 90))
        return luaL_error(L, "experiment.new: window must be an integer in 1..90, got %f", win);
    if (!(k == floor(k) && k >= 1 && k <= CL_SYNTH_REC_MAX))
        return luaL_error(L, "experiment.new: k must be an integer in 1..%d, got %f",
                          CL_SYNTH_REC_MAX, k);
    p.seed = (uint64_t)seed;
    p.window = (int)win;
    p.holdout = lcl_optnum(L, 1, "holdout", p.holdout);
    p.ci_level = lcl_optnum(L, 1, "ci_level", p.ci_level);
    int react = lcl_optbool(L, 1, "react", 1);
    exp_obj *o = lua_newuserdatauv(L, sizeof *o, 2);
    memset(o, 0, sizeof *o);
    luaL_setmetatable(L, EXPERIMENT);
    lua_pushvalue(L, -2); /* the stream borrows the world: keep it alive */
    lua_setiuservalue(L, -2, 1);
    o->w = w;
    o->k = (int)k;
    o->day = cl_synth_get_params(w)->days;
    LCL_CHECK(L, cl_experiment_new(&o->x, cl_synth_customers(w), cl_synth_titles(w), &p));
    LCL_CHECK(L, cl_synth_stream_new(&o->s, w));
    LCL_CHECK(L, cl_synth_stream_react(o->s, react, p.window));
    return 1;
}

/* Calls recommend(id, k) at stack index fn; fills t (ids validated), returns the count. */
static int model_list(lua_State *L, exp_obj *o, int fn, int id, int32_t *t)
{
    lua_pushvalue(L, fn);
    lua_pushinteger(L, id);
    lua_pushinteger(L, o->k);
    lua_call(L, 2, 1);
    if (!lua_istable(L, -1))
        return luaL_error(L, "step: recommend(%d) must return a list of title ids, got %s", id,
                          luaL_typename(L, -1));
    int n = (int)luaL_len(L, -1);
    if (n > o->k)
        n = o->k;
    int T = cl_synth_titles(o->w);
    for (int j = 0; j < n; j++) {
        lua_rawgeti(L, -1, j + 1);
        int isnum;
        lua_Integer v = lua_tointegerx(L, -1, &isnum);
        if (!isnum || v < 1 || v > T)
            return luaL_error(L, "step: recommend(%d)[%d]: expected a title id in 1..%d", id,
                              j + 1, T);
        t[j] = (int32_t)v;
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return n;
}

/* x:step(recommend) -> day, events CSV text, ratings CSV text, impressions made */
static int l_step(lua_State *L)
{
    exp_obj *o = checkexp(L, 1);
    luaL_checktype(L, 2, LUA_TFUNCTION);
    int day;
    char *ev, *rt;
    size_t nev, nrt;
    LCL_CHECK(L, cl_synth_stream_next(o->s, &day, &ev, &nev, &rt, &nrt));
    int rc = cl_experiment_observe_csv(o->x, day, ev, nev);
    lua_pushinteger(L, day);
    lua_pushlstring(L, ev, nev);
    lua_pushlstring(L, rt, nrt);
    cl_alloc_free(ev);
    cl_alloc_free(rt);
    if (rc)
        return lcl_raise(L, rc);
    o->day = day + 1;
    int32_t mt[CL_SYNTH_REC_MAX], pt[CL_SYNTH_REC_MAX];
    int np = cl_experiment_popular(o->x, o->k, pt), N = cl_synth_customers(o->w);
    lua_Integer shown = 0;
    for (int id = 1; id <= N; id++) {
        if (!cl_experiment_visited(o->x, id, day) || cl_experiment_impressed(o->x, id))
            continue;
        int nm = model_list(L, o, 2, id, mt), arm = cl_experiment_arm(o->x, id);
        double et = cl_synth_stream_expected_views(o->s, id, mt, nm);
        double ec = cl_synth_stream_expected_views(o->s, id, pt, np);
        int rc2 = cl_experiment_impress(o->x, id, day, et, ec);
        if (rc2 < 0)
            return lcl_raise(L, rc2);
        LCL_CHECK(L, cl_synth_stream_show(o->s, id, arm ? mt : pt, arm ? nm : np));
        shown++;
    }
    cl_experiment_publish(o->x);
    lua_pushinteger(L, shown);
    return 4;
}

static void setnum(lua_State *L, const char *k, double v)
{
    if (isfinite(v))
        lua_pushnumber(L, v);
    else
        lua_pushboolean(L, 0); /* false stands for JSON null (a nil would drop the key) */
    lua_setfield(L, -2, k);
}

static void push_pair(lua_State *L, const char *k, double lo, double hi)
{
    lua_createtable(L, 2, 0);
    lua_pushnumber(L, lo);
    lua_rawseti(L, -2, 1);
    lua_pushnumber(L, hi);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, k);
}

static void push_arm(lua_State *L, const char *name, const cl_experiment_arm_stats *a)
{
    lua_createtable(L, 0, 5);
    lua_pushstring(L, name);
    lua_setfield(L, -2, "name");
    lua_pushinteger(L, a->n);
    lua_setfield(L, -2, "n");
    setnum(L, "rate", a->views);
    setnum(L, "watch_minutes", a->minutes);
    setnum(L, "churn_rate", a->churn);
}

/* x:summary() -> the monitor.experiment table (SERVE_API.md) plus minutes and churn lifts */
static int l_summary(lua_State *L)
{
    exp_obj *o = checkexp(L, 1);
    cl_experiment_summary s;
    cl_experiment_summarize(o->x, &s);
    lua_createtable(L, 0, 16);
    lua_pushfstring(L, "views of recommended titles within %d days per customer", s.window);
    lua_setfield(L, -2, "metric");
    setnum(L, "lift", s.lift);
    setnum(L, "relative_lift", s.relative_lift);
    push_pair(L, "ci", s.lo, s.hi);
    lua_pushnumber(L, s.ci_level);
    lua_setfield(L, -2, "ci_level");
    setnum(L, "true_lift", s.true_lift);
    push_arm(L, "treatment", &s.arm[1]);
    lua_setfield(L, -2, "treatment");
    push_arm(L, "control", &s.arm[0]);
    lua_setfield(L, -2, "control");
    lua_createtable(L, 2, 0);
    push_arm(L, "treatment", &s.arm[1]);
    lua_rawseti(L, -2, 1);
    push_arm(L, "control", &s.arm[0]);
    lua_rawseti(L, -2, 2);
    lua_setfield(L, -2, "arms");
    setnum(L, "minutes_lift", s.minutes_lift);
    push_pair(L, "minutes_ci", s.minutes_lo, s.minutes_hi);
    setnum(L, "churn_lift", s.churn_lift);
    push_pair(L, "churn_ci", s.churn_lo, s.churn_hi);
    lua_pushinteger(L, s.impressed);
    lua_setfield(L, -2, "impressed");
    lua_pushinteger(L, s.window);
    lua_setfield(L, -2, "window");
    return 1;
}

/* x:arm(id) -> "treatment" | "control" */
static int l_arm(lua_State *L)
{
    exp_obj *o = checkexp(L, 1);
    int rc = cl_experiment_arm(o->x, (int)luaL_checkinteger(L, 2));
    if (rc < 0)
        return lcl_raise(L, rc);
    lua_pushstring(L, rc ? "treatment" : "control");
    return 1;
}

/* x:attach(service) -> x: the service's monitor.experiment shows this experiment (the last
 * published summary) until x is freed or attached elsewhere */
static int l_attach(lua_State *L)
{
    exp_obj *o = checkexp(L, 1);
    cl_service *svc = lserve_service(L, 2);
    if (!svc)
        return luaL_argerror(L, 2, "a running " SERVE_T " expected");
    detach(L, 1);
    cl_service_set_experiment(svc, o->x);
    lua_pushvalue(L, 2);
    lua_setiuservalue(L, 1, 2);
    lua_settop(L, 1);
    return 1;
}

/* view_prob(world, id, tid) -> the world's probability that id views tid from a list */
static int l_view_prob(lua_State *L)
{
    const cl_synth_world *w = lcl_checkobj(L, 1, WORLD);
    double p = cl_synth_stream_rec_view_prob(w, (int)luaL_checkinteger(L, 2), (int)luaL_checkinteger(L, 3));
    if (!isfinite(p))
        return luaL_error(L, "view_prob: customer or title id out of range");
    lua_pushnumber(L, p);
    return 1;
}

static const luaL_Reg funcs[] = {{"new", l_new}, {"view_prob", l_view_prob}, {NULL, NULL}};
static const luaL_Reg methods[] = {{"step", l_step}, {"summary", l_summary}, {"arm", l_arm},
                                   {"attach", l_attach}, {"free", l_gc},   {NULL, NULL}};
static const luaL_Reg meta[] = {
    {"__gc", l_gc}, {"__close", l_gc}, {"__tostring", l_tostring}, {NULL, NULL}};

static const lcl_doc docs[] = {
    {"new", "new{world =, seed = 0, holdout = 0.1, window = 7, k = 10, react = true, ci_level = "
            "0.9} -> experiment: streams the synthetic world from its snapshot (the random "
            "numbers of w:replay) with customers responding to the lists shown to them (react = "
            "false: they ignore them). A seeded holdout (a hash of seed and id) is the control "
            "arm and gets the popularity baseline; the rest get the model's list."},
    {"view_prob", "view_prob(world, id, tid) -> p: the world's probability that customer id "
                  "views title tid from a recommendation within the window (genre match and "
                  "quality)."},
    {NULL, NULL}};

static const lcl_doc mdocs[] = {
    {"step", "x:step(recommend) -> day, events, ratings, shown: simulates one day; events and "
             "ratings are its CSV text (feed them to a live state); then every customer who visited that day and has no "
             "impression yet is shown recommend(id, k) (treatment) or the most watched titles "
             "(control)."},
    {"summary", "x:summary() -> {metric, lift, relative_lift, ci, ci_level, true_lift, "
                "treatment, control, arms, minutes_lift, minutes_ci, churn_lift, churn_ci, "
                "impressed, window}: customers whose window is over; normal-approximation "
                "(Welch) intervals; true_lift from the world's view probabilities of both lists "
                "(false stands for null)."},
    {"arm", "x:arm(id) -> 'treatment' | 'control'."},
    {"attach", "x:attach(service) -> x: a running churnlab.Service (cl.serve.start) reports this "
               "experiment as monitor.experiment (its summary after the last step)."},
    {"free", "x:free(): releases the experiment now; using it afterwards is an error."},
    {NULL, NULL}};

int luaopen_churnlab_experiment(lua_State *L);
int luaopen_churnlab_experiment(lua_State *L)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "churnlab.synth"); /* worlds come in: their metatable must exist */
    lua_call(L, 1, 0);
    lcl_createmeta(L, EXPERIMENT, meta, methods);
    lcl_setdoc(L, -1, "churnlab.Experiment: the recommendation experiment on the streamed "
                      "world. Methods: step(recommend), summary(), arm(id).");
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, mdocs);
    lua_pop(L, 2);
    luaL_newlib(L, funcs);
    lcl_setdocs(L, -1, docs);
    return 1;
}
