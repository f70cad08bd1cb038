/* scorer.c - module churnlab.scorer: live churn risk scored in C (core/live/livescore.h).
 *
 *   local scorer = require "churnlab.scorer"
 *   local sc = scorer.new(state, "models/best.clm", {profiles = users})
 *   sc:risk(42)               -- P(churn) of customer 42 now, nil when unknown
 *   sc:risks({1, 2, 3})       -- a list, one pass
 *   sc:reasons(42, {top = 3}) -- {base =, reasons = {{feature, column, label, value, contrib}}}
 *
 * The path the service scores on (no Lua on it); churnlab.livescore gives the same numbers
 * through Lua (tests/lua/live.lua checks they are equal). The scorer keeps its state and
 * model alive; the profiles frame's columns are retained by the core scorer.
 */
#include "support/lcl.h"

#include <math.h>
#include <string.h>

#include "frame/frame.h"
#include "live/livescore.h"
#include "support/llive.h"

#define SCORER "churnlab.Scorer"
#define LIVE LIVE_T
#define FRAME "churnlab.Frame"

typedef struct scorer_obj {
    cl_model *m;
    cl_livescore *sc;
    const cl_livestate *const *state; /* the Live box's state slot: NULL once freed */
} scorer_obj;


static void obj_free(scorer_obj *o)
{
    if (!o)
        return;
    cl_livescore_free(o->sc);
    cl_model_free(o->m);
    cl_alloc_free(o);
}

static scorer_obj *check(lua_State *L)
{
    scorer_obj *o = lcl_checkobj(L, 1, SCORER);
    lua_getiuservalue(L, 1, 1);
    lcl_box *b = lcl_testbox(L, -1, LIVE);
    lua_pop(L, 1);
    if (!b || !b->obj)
        luaL_error(L, "the scorer's live state was freed");
    return o;
}

/* scorer.new(state, path, {profiles = frame}) */
static int l_new(lua_State *L)
{
    lcl_box *lb = lcl_testbox(L, 1, LIVE);
    if (!lb || !lb->obj)
        return luaL_typeerror(L, 1, LIVE);
    const char *path = luaL_checkstring(L, 2);
    static const char *const known[] = {"profiles", NULL};
    int opts = lcl_check_options(L, 3, "new", known);
    const cl_frame *prof = NULL;
    if (opts && lua_getfield(L, opts, "profiles") != LUA_TNIL)
        prof = lcl_checkobj(L, -1, FRAME);
    lcl_box *b = lcl_newbox(L, SCORER);
    scorer_obj *o = cl_alloc_calloc(1, sizeof *o);
    if (!o)
        return lcl_raise(L, CL_ENOMEM);
    b->obj = o;
    int rc = cl_model_kinds_load(&o->m, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    LCL_CHECK(L, cl_livescore_new(&o->sc, ((live_obj *)lb->obj)->s, o->m, prof));
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static int32_t user_arg(lua_State *L, int idx)
{
    lua_Integer id = luaL_checkinteger(L, idx);
    return id >= 1 && id <= INT32_MAX ? (int32_t)id : 0;
}

static int known_user(lua_State *L, int32_t id)
{
    lua_getiuservalue(L, 1, 1);
    const live_obj *h = ((lcl_box *)lua_touserdata(L, -1))->obj;
    lua_pop(L, 1);
    return id >= 1 && cl_livestate_known(h->s, id);
}

static int m_risk_(lua_State *L)
{
    scorer_obj *o = check(L);
    int32_t id = user_arg(L, 2);
    if (!known_user(L, id)) {
        lua_pushnil(L);
        return 1;
    }
    double p;
    LCL_CHECK(L, cl_livescore_risk(o->sc, id, &p));
    lua_pushnumber(L, p);
    return 1;
}

/* sc:risks({id, ...}) -> {p, ...}: unknown ids are an error (naming the id). */
static int m_risks_(lua_State *L)
{
    scorer_obj *o = check(L);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = luaL_len(L, 2);
    int32_t *ids = lua_newuserdatauv(L, sizeof *ids * (size_t)(n > 0 ? n : 1), 0);
    double *p = lua_newuserdatauv(L, sizeof *p * (size_t)(n > 0 ? n : 1), 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_geti(L, 2, i + 1);
        if (!lua_isinteger(L, -1))
            return luaL_error(L, "bad argument #1 to 'risks' (entry %I is not a customer id)",
                              i + 1);
        lua_Integer v = lua_tointeger(L, -1);
        ids[i] = v >= 1 && v <= INT32_MAX ? (int32_t)v : 0;
        lua_pop(L, 1);
    }
    LCL_CHECK(L, cl_livescore_risks(o->sc, ids, n, p));
    lua_createtable(L, (int)n, 0);
    for (lua_Integer i = 0; i < n; i++) {
        lua_pushnumber(L, p[i]);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

/* sc:reasons(id [, {top = 3}]) -> {base, reasons = {{feature, column, label, value, contrib}}}
 * or nil when unknown; contributions on the model's margin scale, strongest first. */
static int m_reasons_(lua_State *L)
{
    scorer_obj *o = check(L);
    int32_t id = user_arg(L, 2);
    static const char *const known[] = {"top", NULL};
    int opts = lcl_check_options(L, 3, "reasons", known);
    double top = lcl_optnum(L, opts, "top", 3);
    if (!(top >= 1 && top <= 1e6) || top != floor(top))
        return luaL_error(L, "bad argument #2 to 'reasons' (option 'top' must be a whole number "
                             ">= 1)");
    if (!known_user(L, id)) {
        lua_pushnil(L);
        return 1;
    }
    int64_t d = cl_model_n_features(o->m);
    int k = top < (double)d ? (int)top : (int)d;
    cl_live_reason *r = lua_newuserdatauv(L, sizeof *r * (size_t)(k > 0 ? k : 1), 0);
    int nr = 0;
    double base = 0;
    LCL_CHECK(L, cl_livescore_reasons(o->sc, id, k, r, &nr, &base));
    lua_createtable(L, 0, 2);
    lua_pushnumber(L, base);
    lua_setfield(L, -2, "base");
    lua_createtable(L, nr, 0);
    for (int i = 0; i < nr; i++) {
        lua_createtable(L, 0, 5);
        lua_pushstring(L, r[i].feature);
        lua_setfield(L, -2, "feature");
        lua_pushstring(L, r[i].column);
        lua_setfield(L, -2, "column");
        if (r[i].label) {
            lua_pushstring(L, r[i].label);
            lua_setfield(L, -2, "label");
        }
        if (!isnan(r[i].value)) {
            lua_pushnumber(L, r[i].value);
            lua_setfield(L, -2, "value");
        }
        lua_pushnumber(L, r[i].contrib);
        lua_setfield(L, -2, "contrib");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "reasons");
    return 1;
}

/* The scorer reads its live state: under the service's lock while it is served. */
static live_obj *state_of(lua_State *L)
{
    check(L);
    lua_getiuservalue(L, 1, 1);
    live_obj *o = ((lcl_box *)lua_touserdata(L, -1))->obj;
    lua_pop(L, 1);
    return o;
}
#define LOCKED(name) \
    static int name(lua_State *L) { return llive_locked(L, state_of(L), name##_, 0); }
LOCKED(m_risk)
LOCKED(m_risks)
LOCKED(m_reasons)
#undef LOCKED

static int m_gc(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, SCORER);
    if (b && b->obj) {
        obj_free(b->obj);
        b->obj = NULL;
    }
    return 0;
}

static int m_tostring(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, SCORER);
    if (!b || !b->obj)
        lua_pushstring(L, SCORER " (freed)");
    else
        lua_pushfstring(L, SCORER " (%s model, %I features)",
                        cl_model_kind(((scorer_obj *)b->obj)->m),
                        (lua_Integer)cl_model_n_features(((scorer_obj *)b->obj)->m));
    return 1;
}

static const luaL_Reg methods[] = {{"risk", m_risk},
                                   {"risks", m_risks},
                                   {"reasons", m_reasons},
                                   {"free", m_gc},
                                   {NULL, NULL}};
static const luaL_Reg meta[] = {
    {"__gc", m_gc}, {"__close", m_gc}, {"__tostring", m_tostring}, {NULL, NULL}};
static const luaL_Reg funcs[] = {{"new", l_new}, {NULL, NULL}};

static const lcl_doc mdocs[] = {
    {"risk", "sc:risk(id) -> P(churn) of the customer now, scored in C on read; nil when the "
             "state never saw the id. A customer without a profile row is scored with the "
             "profile columns missing (the pipeline imputes them)."},
    {"risks", "sc:risks({id, ...}) -> {p, ...}: many customers in one pass (one input frame, "
              "one pipeline call, one predict); an unknown id is an error naming it."},
    {"reasons", "sc:reasons(id [, {top = 3}]) -> {base, reasons = {{feature, column, label, "
                "value, contrib}, ...}} | nil: the exact SHAP values (TreeSHAP; linear models "
                "against the mean input of the customers active when the scorer was made) on "
                "the model's margin scale, strongest first; value in original units, label for "
                "categories. An error for a model kind without exact contributions (mlp)."},
    {"free", "sc:free(): releases the scorer and its model now."},
    {NULL, NULL}};

int luaopen_churnlab_scorer(lua_State *L);
int luaopen_churnlab_scorer(lua_State *L)
{
    lcl_createmeta(L, SCORER, meta, methods);
    lcl_setdoc(L, -1, "churnlab.Scorer: live churn risk and reasons scored in C from a model "
                      "file and a live state (the service's path). risk(id), risks(ids), "
                      "reasons(id [, {top}]).");
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, mdocs);
    lua_pop(L, 2);
    luaL_newlib(L, funcs);
    lua_getfield(L, -1, "new");
    lcl_setdoc(L, -1, "new(state, path [, {profiles = frame}]) -> churnlab.Scorer: scores the live "
                      "state's customers with the model file at path (any classifier kind, "
                      "saved with its pipeline); profiles gives the columns no event changes, "
                      "by user_id.");
    lua_pop(L, 1);
    return 1;
}
