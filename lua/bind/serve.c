/* serve.c - module churnlab.serve: the live retention service from a script.
 *
 *   local srv = cl.serve.start{state = live, model = "models/best.clm", profiles = users,
 *                              rec = hybrid, titles = titles, port = 8080,
 *                              routes = {["/api/my-report"] = function(req) return {...} end}}
 *   srv:run{tick = function() ... end, tick_ms = 1000}   -- until SIGTERM / Ctrl-C
 *   srv:stop()
 *
 * The service (core/serve/service.h) answers its own routes in C on libmicrohttpd's threads:
 * they never wait for Lua. A script's routes are the exception by nature: a request for one
 * is queued for the Lua thread, which answers it inside srv:run (or srv:poll), so a script
 * route runs while nothing else in Lua does. Requests that wait longer than 10 s for the
 * Lua thread get 504.
 */
#include "support/lcl.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "base/progress.h"
#include "frame/frame.h"
#include "rec/rec.h"
#include "serve/httpd.h"
#include "serve/service.h"
#include "support/llive.h"
#include "support/lserve.h"

#define SERVE SERVE_T
#define FRAME "churnlab.Frame"
#define REC "churnlab.Recommender"

extern const cl_service_asset lcl_web_assets[];
extern const int lcl_web_nassets;

/* A request for a script route, waiting for the Lua thread. */
typedef struct lreq {
    const cl_service_request *q;
    cl_service_response *r;
    int taken, done;
    struct lreq *next;
} lreq;

typedef struct serve_obj {
    cl_service *svc;
    cl_httpd *h;
    live_obj *live;
    char *model_path, *token, *currency;
    char *history_path; /* risk histories file (option 'history') or NULL */
    char **title_names, **title_genres;
    int32_t ntitles;
    cl_service_action acts[8];
    char *act_strs[16];
    int nacts;
    char **route_paths;
    int nroutes;
    int routes_ref; /* registry ref of the routes table */
    pthread_mutex_t qmu;
    pthread_cond_t qcv, donecv;
    lreq *head, *tail;
    int stopped;
} serve_obj;

static serve_obj *checkserve(lua_State *L)
{
    serve_obj *o = lcl_checkobj(L, 1, SERVE);
    if (o->stopped)
        luaL_error(L, "the service was stopped");
    return o;
}

cl_service *lserve_service(lua_State *L, int idx)
{
    lcl_box *b = lcl_testbox(L, idx, SERVE);
    const serve_obj *o = b ? b->obj : NULL;
    return o && !o->stopped ? o->svc : NULL;
}

/* ---- script routes (called on libmicrohttpd's threads) -------------------------------------- */

static int route_matches(const serve_obj *o, const char *path)
{
    for (int i = 0; i < o->nroutes; i++)
        if (strcmp(o->route_paths[i], path) == 0)
            return 1;
    return 0;
}

static int custom_route(void *ctx, const cl_service_request *q, cl_service_response *r)
{
    serve_obj *o = ctx;
    if (!route_matches(o, q->path))
        return 0;
    lreq rq = {q, r, 0, 0, NULL};
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += 10;
    pthread_mutex_lock(&o->qmu);
    if (o->stopped) {
        pthread_mutex_unlock(&o->qmu);
        return 0;
    }
    if (o->tail)
        o->tail->next = &rq;
    else
        o->head = &rq;
    o->tail = &rq;
    pthread_cond_signal(&o->qcv);
    int timed_out = 0;
    while (!rq.done && !timed_out)
        if (pthread_cond_timedwait(&o->donecv, &o->qmu, &ts) && !rq.taken) {
            /* never picked up: take it back out of the queue */
            lreq **pp = &o->head, *prev = NULL;
            while (*pp && *pp != &rq) {
                prev = *pp;
                pp = &(*pp)->next;
            }
            if (*pp)
                *pp = rq.next;
            if (o->tail == &rq)
                o->tail = prev;
            timed_out = 1;
        }
    pthread_mutex_unlock(&o->qmu);
    if (timed_out) {
        static const char msg[] = "{\"error\":{\"status\":504,\"message\":\"the script did not "
                                  "answer within 10 s (is it busy outside srv:run?)\"}}";
        r->status = 504;
        r->content_type = "application/json";
        r->body = (char *)msg;
        r->len = sizeof msg - 1;
        r->body_static = 1;
    }
    return 1;
}

/* ---- Lua values <-> JSON --------------------------------------------------------------------- */

static json_t *to_json(lua_State *L, int idx, int depth, const char **err)
{
    if (depth > 32) {
        *err = "nested deeper than 32 levels";
        return NULL;
    }
    idx = lua_absindex(L, idx);
    switch (lua_type(L, idx)) {
    case LUA_TNIL:
        return json_null();
    case LUA_TBOOLEAN:
        return json_boolean(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (lua_isinteger(L, idx))
            return json_integer((json_int_t)lua_tointeger(L, idx));
        return isfinite(lua_tonumber(L, idx)) ? json_real(lua_tonumber(L, idx)) : json_null();
    case LUA_TSTRING: {
        size_t n;
        const char *s = lua_tolstring(L, idx, &n);
        json_t *j = json_stringn(s, n);
        if (!j)
            *err = "a string is not valid UTF-8";
        return j;
    }
    case LUA_TTABLE: {
        lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
        int is_array = n > 0 || lua_next(L, (lua_pushnil(L), idx)) == 0;
        if (n == 0 && !is_array)
            lua_pop(L, 2); /* the key and value lua_next left */
        if (is_array) {
            json_t *a = json_array();
            for (lua_Integer i = 1; i <= n; i++) {
                lua_rawgeti(L, idx, i);
                json_t *v = to_json(L, -1, depth + 1, err);
                lua_pop(L, 1);
                if (!v) {
                    json_decref(a);
                    return NULL;
                }
                json_array_append_new(a, v);
            }
            return a;
        }
        json_t *o = json_object();
        lua_pushnil(L);
        while (lua_next(L, idx)) {
            if (lua_type(L, -2) != LUA_TSTRING) {
                *err = "an object key is not a string";
                lua_pop(L, 2);
                json_decref(o);
                return NULL;
            }
            json_t *v = to_json(L, -1, depth + 1, err);
            if (!v) {
                lua_pop(L, 2);
                json_decref(o);
                return NULL;
            }
            json_object_set_new(o, lua_tostring(L, -2), v);
            lua_pop(L, 1);
        }
        return o;
    }
    default:
        *err = "a value cannot be written as JSON (function, userdata or thread)";
        return NULL;
    }
}

static void push_json(lua_State *L, json_t *j, int depth)
{
    if (depth > 64) {
        lua_pushnil(L);
        return;
    }
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        lua_createtable(L, 0, (int)json_object_size(j));
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v)
        {
            push_json(L, v, depth + 1);
            lua_setfield(L, -2, k);
        }
        break;
    }
    case JSON_ARRAY: {
        size_t n = json_array_size(j);
        lua_createtable(L, (int)n, 0);
        for (size_t i = 0; i < n; i++) {
            push_json(L, json_array_get(j, i), depth + 1);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        break;
    }
    case JSON_STRING:
        lua_pushlstring(L, json_string_value(j), json_string_length(j));
        break;
    case JSON_INTEGER:
        lua_pushinteger(L, (lua_Integer)json_integer_value(j));
        break;
    case JSON_REAL:
        lua_pushnumber(L, json_real_value(j));
        break;
    case JSON_TRUE:
    case JSON_FALSE:
        lua_pushboolean(L, json_is_true(j));
        break;
    default:
        lua_pushnil(L);
        break;
    }
}

static void set_body(cl_service_response *r, int status, const char *type, const char *s, size_t n)
{
    r->status = status;
    r->content_type = type;
    r->body = cl_alloc(n + 1);
    if (!r->body) {
        r->status = 500;
        r->body = (char *)"{\"error\":{\"status\":500,\"message\":\"out of memory\"}}";
        r->body_static = 1;
        r->len = strlen(r->body);
        return;
    }
    memcpy(r->body, s, n);
    r->body[n] = '\0';
    r->len = n;
}

static void set_error(cl_service_response *r, int status, const char *msg)
{
    json_t *o = json_pack("{s:{s:i, s:s%}}", "error", "status", status, "message", msg,
                          strlen(msg));
    char *t = o ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    if (t) {
        set_body(r, status, "application/json", t, strlen(t));
        free(t);
    } else {
        set_body(r, status, "application/json", "{\"error\":{\"status\":500}}", 24);
    }
}

/* Answers one queued request with the script's function: its result is a table {status =,
 * json = value | body = string, type =}, a plain table (JSON, 200) or a string (text, 200). */
static void answer_lua(lua_State *L, serve_obj *o, lreq *rq)
{
    const cl_service_request *q = rq->q;
    cl_service_response *r = rq->r;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, o->routes_ref);
    lua_getfield(L, -1, q->path);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, q->method);
    lua_setfield(L, -2, "method");
    lua_pushstring(L, q->path);
    lua_setfield(L, -2, "path");
    lua_createtable(L, 0, q->nquery);
    for (int i = 0; i < q->nquery; i++) {
        lua_pushstring(L, q->query[2 * i + 1] ? q->query[2 * i + 1] : "");
        lua_setfield(L, -2, q->query[2 * i]);
    }
    lua_setfield(L, -2, "query");
    lua_pushlstring(L, q->body ? q->body : "", q->body_len);
    lua_setfield(L, -2, "body");
    if (q->body_len > 0) {
        json_error_t je;
        json_t *j = json_loadb(q->body, q->body_len, JSON_DECODE_ANY, &je);
        if (j) {
            push_json(L, j, 0);
            lua_setfield(L, -2, "json");
            json_decref(j);
        }
    }
    if (lua_pcall(L, 1, 1, 0) != LUA_OK) {
        const char *m = lua_tostring(L, -1);
        fprintf(stderr, "serve: route %s: %s\n", q->path, m ? m : "(error object)");
        set_error(r, 500, m ? m : "the route raised an error");
        lua_settop(L, top);
        return;
    }
    int res = lua_gettop(L);
    if (lua_type(L, res) == LUA_TSTRING) {
        size_t n;
        const char *s = lua_tolstring(L, res, &n);
        set_body(r, 200, "text/plain; charset=utf-8", s, n);
    } else if (lua_istable(L, res)) {
        int status = 200;
        const char *type = NULL;
        lua_getfield(L, res, "status");
        int has_status = lua_isinteger(L, -1);
        if (has_status)
            status = (int)lua_tointeger(L, -1);
        lua_getfield(L, res, "type");
        static const char *const TYPES[][2] = {
            {"json", "application/json"}, {"text", "text/plain; charset=utf-8"},
            {"html", "text/html; charset=utf-8"}, {"csv", "text/csv; charset=utf-8"}};
        int bad_type = 0;
        if (lua_type(L, -1) == LUA_TSTRING) {
            bad_type = 1;
            for (int k = 0; k < 4; k++)
                if (strcmp(lua_tostring(L, -1), TYPES[k][0]) == 0) {
                    type = TYPES[k][1];
                    bad_type = 0;
                }
        }
        lua_getfield(L, res, "body");
        lua_getfield(L, res, "json");
        int has_body = lua_type(L, -2) == LUA_TSTRING, has_json = !lua_isnil(L, -1);
        if (status < 100 || status > 599) {
            set_error(r, 500, "the route returned a status outside 100..599");
        } else if (bad_type) {
            set_error(r, 500, "the route's type must be json, text, html or csv");
        } else if (has_body) {
            size_t n;
            const char *s = lua_tolstring(L, -2, &n);
            set_body(r, status, type ? type : "text/plain; charset=utf-8", s, n);
        } else {
            const char *err = NULL;
            json_t *j = to_json(L, has_json || has_status ? -1 : res, 0, &err);
            char *t = j ? json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
            json_decref(j);
            if (t) {
                set_body(r, status, "application/json", t, strlen(t));
                free(t);
            } else {
                char m[160];
                snprintf(m, sizeof m, "the route's answer is not JSON: %s",
                         err ? err : "out of memory");
                set_error(r, 500, m);
            }
        }
    } else {
        set_error(r, 500, "the route must return a table or a string");
    }
    lua_settop(L, top);
}

/* Answers queued script requests for up to ms milliseconds; returns the number answered. */
static int pump(lua_State *L, serve_obj *o, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_nsec += (long)ms * 1000000L;
    ts.tv_sec += ts.tv_nsec / 1000000000L;
    ts.tv_nsec %= 1000000000L;
    int n = 0;
    pthread_mutex_lock(&o->qmu);
    while (!o->head)
        if (pthread_cond_timedwait(&o->qcv, &o->qmu, &ts))
            break;
    while (o->head) {
        lreq *rq = o->head;
        o->head = rq->next;
        if (!o->head)
            o->tail = NULL;
        rq->taken = 1;
        pthread_mutex_unlock(&o->qmu);
        answer_lua(L, o, rq);
        n++;
        pthread_mutex_lock(&o->qmu);
        rq->done = 1;
        pthread_cond_broadcast(&o->donecv);
    }
    pthread_mutex_unlock(&o->qmu);
    return n;
}

/* ---- start ------------------------------------------------------------------------------------ */

static char *dupstr(lua_State *L, const char *s)
{
    char *d = s ? cl_alloc_strdup(s) : NULL;
    if (s && !d)
        lcl_raise(L, CL_ENOMEM);
    return d;
}

static void obj_free(serve_obj *o)
{
    if (!o)
        return;
    if (o->h)
        cl_httpd_stop(o->h);
    cl_service_free(o->svc);
    if (o->live)
        o->live->served--;
    cl_alloc_free(o->model_path);
    cl_alloc_free(o->token);
    cl_alloc_free(o->currency);
    cl_alloc_free(o->history_path);
    for (int32_t t = 0; o->title_names && t <= o->ntitles; t++)
        cl_alloc_free(o->title_names[t]);
    for (int32_t t = 0; o->title_genres && t <= o->ntitles; t++)
        cl_alloc_free(o->title_genres[t]);
    cl_alloc_free(o->title_names);
    cl_alloc_free(o->title_genres);
    for (int i = 0; i < 16; i++)
        cl_alloc_free(o->act_strs[i]);
    for (int i = 0; i < o->nroutes; i++)
        cl_alloc_free(o->route_paths[i]);
    cl_alloc_free(o->route_paths);
    pthread_mutex_destroy(&o->qmu);
    pthread_cond_destroy(&o->qcv);
    pthread_cond_destroy(&o->donecv);
    cl_alloc_free(o);
}

/* titles: a frame with title_id and, when present, name/title and genre (text columns). */
static void read_titles(lua_State *L, serve_obj *o, const cl_frame *f)
{
    int ci;
    if (cl_frame_col(f, "title_id", &ci))
        luaL_error(L, "start: option 'titles': %s", cl_error_last());
    const cl_column *id = f->cols[ci];
    if (id->type == CL_CAT)
        luaL_error(L, "start: option 'titles': column 'title_id' must be numeric");
    int32_t nt = 0;
    for (int64_t i = 0; i < f->nrow; i++) {
        double v = id->num[i];
        if (!(v >= 1 && v <= 100000000 && v == floor(v)))
            luaL_error(L, "start: option 'titles': row %I: title_id must be a whole number >= 1",
                       (lua_Integer)(i + 1));
        if (v > nt)
            nt = (int32_t)v;
    }
    o->ntitles = nt;
    o->title_names = cl_alloc_calloc((size_t)nt + 1, sizeof(char *));
    o->title_genres = cl_alloc_calloc((size_t)nt + 1, sizeof(char *));
    if (!o->title_names || !o->title_genres)
        lcl_raise(L, CL_ENOMEM);
    int cn = cl_frame_find(f, "name");
    if (cn < 0)
        cn = cl_frame_find(f, "title");
    int cg = cl_frame_find(f, "genre");
    if (cg < 0)
        cg = cl_frame_find(f, "main_genre");
    if (cg < 0)
        cg = cl_frame_find(f, "genres"); /* "drama|comedy": the first is the main genre */
    for (int64_t i = 0; i < f->nrow; i++) {
        int32_t t = (int32_t)id->num[i];
        if (cn >= 0 && f->cols[cn]->type == CL_CAT)
            o->title_names[t] = dupstr(L, cl_frame_column_label(f->cols[cn], i));
        if (cg >= 0 && f->cols[cg]->type == CL_CAT && cl_frame_column_label(f->cols[cg], i)) {
            const char *g = cl_frame_column_label(f->cols[cg], i);
            size_t n = strcspn(g, "|,;");
            o->title_genres[t] = cl_alloc(n + 1);
            if (!o->title_genres[t])
                lcl_raise(L, CL_ENOMEM);
            memcpy(o->title_genres[t], g, n);
            o->title_genres[t][n] = '\0';
        }
    }
}

static void read_actions(lua_State *L, serve_obj *o, int idx)
{
    static const char *const known[] = {"name",   "label",  "contact",       "accept_pct",
                                        "reach",  "log_hr", "log_hr_issues", NULL};
    lua_Integer n = luaL_len(L, idx);
    if (n < 1 || n > 8)
        luaL_error(L, "start: option 'actions' must list 1..8 actions, got %I", n);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, idx, i);
        int t = lua_gettop(L);
        if (!lua_istable(L, t))
            luaL_error(L, "start: actions[%I] must be a table", i);
        lcl_check_options(L, t, "start: actions", known);
        cl_service_action *a = &o->acts[i - 1];
        const char *name = lcl_optstr(L, t, "name", NULL);
        if (!name)
            luaL_error(L, "start: actions[%I] needs a name", i);
        o->act_strs[2 * (i - 1)] = dupstr(L, name);
        o->act_strs[2 * (i - 1) + 1] = dupstr(L, lcl_optstr(L, t, "label", name));
        a->name = o->act_strs[2 * (i - 1)];
        a->label = o->act_strs[2 * (i - 1) + 1];
        a->contact = lcl_optnum(L, t, "contact", 0);
        a->accept_pct = lcl_optnum(L, t, "accept_pct", 0);
        a->reach = lcl_optnum(L, t, "reach", 1);
        a->log_hr = lcl_optnum(L, t, "log_hr", 0);
        a->log_hr_issues = lcl_optnum(L, t, "log_hr_issues", 0);
        if (!(a->contact >= 0 && a->accept_pct >= 0 && a->accept_pct <= 100 && a->reach >= 0 &&
              a->reach <= 1 && isfinite(a->log_hr) && isfinite(a->log_hr_issues)))
            luaL_error(L, "start: actions[%I] ('%s'): contact >= 0, accept_pct in 0..100, reach "
                          "in 0..1 and finite log_hr are needed", i, name);
        lua_pop(L, 1);
    }
    o->nacts = (int)n;
}

static void read_routes(lua_State *L, serve_obj *o, int idx)
{
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        if (lua_type(L, -2) != LUA_TSTRING || lua_type(L, -1) != LUA_TFUNCTION)
            luaL_error(L, "start: option 'routes' maps paths (strings) to functions");
        const char *p = lua_tostring(L, -2);
        if (p[0] != '/' || cl_service_api_route(p) != 0)
            luaL_error(L, "start: route '%s' must start with / and not be one of the service's "
                          "own paths", p);
        n++;
        lua_pop(L, 1);
    }
    o->route_paths = cl_alloc_calloc((size_t)(n ? n : 1), sizeof(char *));
    if (!o->route_paths)
        lcl_raise(L, CL_ENOMEM);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        o->route_paths[o->nroutes++] = dupstr(L, lua_tostring(L, -2));
        lua_pop(L, 1);
    }
    lua_pushvalue(L, idx);
    o->routes_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* serve.start{...} -> churnlab.Service */
static int l_start(lua_State *L)
{
    static const char *const known[] = {
        "state",     "model",      "profiles", "reference", "rec",        "titles",
        "port",      "bind",       "token",    "threshold", "currency",   "actions",
        "routes",    "refresh_ms", "timeout_s", "horizon_months", "calibration_days",
        "max_connections", "history", "cache", "threads", NULL};
    luaL_checktype(L, 1, LUA_TTABLE);
    lcl_check_options(L, 1, "start", known);
    double cache = lcl_optnum(L, 1, "cache", CL_SERVICE_CACHE_DEFAULT);
    if (!(cache >= 1 && cache <= 16777216 && cache == floor(cache)))
        return luaL_error(L, "start: option 'cache' must be an integer in 1..16777216 (answers "
                             "kept), got %f", cache);
    lua_settop(L, 1);
    lua_getfield(L, 1, "state"); /* 2 */
    lcl_box *lb = lcl_testbox(L, 2, LIVE_T);
    if (!lb || !lb->obj)
        return luaL_error(L, "start: option 'state' must be a live state (churnlab.live.new)");
    live_obj *live = lb->obj;
    const char *model = lcl_optstr(L, 1, "model", NULL);
    if (!model)
        return luaL_error(L, "start: option 'model' (a model file saved with its pipeline) is "
                             "needed");
    lua_getfield(L, 1, "profiles"); /* 3 */
    const cl_frame *prof = lua_isnil(L, 3) ? NULL : lcl_checkobj(L, 3, FRAME);
    lua_getfield(L, 1, "reference"); /* 4 */
    const cl_frame *ref = lua_isnil(L, 4) ? NULL : lcl_checkobj(L, 4, FRAME);
    lua_getfield(L, 1, "rec"); /* 5 */
    const cl_rec *rec = lua_isnil(L, 5) ? NULL : lcl_checkobj(L, 5, REC);
    lua_getfield(L, 1, "titles"); /* 6 */
    const cl_frame *titles = lua_isnil(L, 6) ? NULL : lcl_checkobj(L, 6, FRAME);
    lua_getfield(L, 1, "actions"); /* 7 */
    lua_getfield(L, 1, "routes");  /* 8 */
    if (!lua_isnil(L, 7))
        luaL_checktype(L, 7, LUA_TTABLE);
    if (!lua_isnil(L, 8))
        luaL_checktype(L, 8, LUA_TTABLE);
    double port = lcl_optnum(L, 1, "port", 8080);
    if (!(port >= 0 && port <= 65535 && port == floor(port)))
        return luaL_error(L, "start: option 'port' must be a whole number in 0..65535");
    const char *bind = lcl_optstr(L, 1, "bind", "127.0.0.1");
    const char *token = lcl_optstr(L, 1, "token", NULL);
    int loopback = strncmp(bind, "127.", 4) == 0;
    if (!loopback && (!token || !*token))
        return luaL_error(L, "start: binding to %s makes the service reachable from other "
                             "machines: give a token for the write endpoints", bind);

    lcl_box *box = lcl_newbox(L, SERVE); /* 9 */
    serve_obj *o = cl_alloc_calloc(1, sizeof *o);
    if (!o)
        return lcl_raise(L, CL_ENOMEM);
    pthread_mutex_init(&o->qmu, NULL);
    pthread_cond_init(&o->qcv, NULL);
    pthread_cond_init(&o->donecv, NULL);
    o->routes_ref = LUA_NOREF;
    box->obj = o;
    o->model_path = dupstr(L, model);
    o->token = dupstr(L, token);
    o->currency = dupstr(L, lcl_optstr(L, 1, "currency", "USD"));
    o->history_path = dupstr(L, lcl_optstr(L, 1, "history", NULL));
    if (titles)
        read_titles(L, o, titles);
    if (!lua_isnil(L, 7))
        read_actions(L, o, 7);
    if (!lua_isnil(L, 8))
        read_routes(L, o, 8);
    cl_service_config cfg = {
        .state = live->s,
        .log = live->log,
        .lock = &live->lock,
        .state_version = &live->version,
        .model_path = o->model_path,
        .profiles = prof,
        .reference = ref,
        .rec = rec,
        .ntitles = o->ntitles,
        .title_names = (const char *const *)o->title_names,
        .title_genres = (const char *const *)o->title_genres,
        .actions = o->nacts ? o->acts : NULL,
        .nactions = o->nacts,
        .horizon_months = (int)lcl_optnum(L, 1, "horizon_months", 12),
        .threshold = lcl_optnum(L, 1, "threshold", 0.3),
        .currency = o->currency,
        .token = o->token,
        .calibration_days = (int)lcl_optnum(L, 1, "calibration_days", 30),
        .assets = lcl_web_assets,
        .nassets = lcl_web_nassets,
        .history_path = o->history_path,
        .cache_answers = (int32_t)cache,
    };
    double threads = lcl_optnum(L, 1, "threads", 0);
    if (!(threads >= 0 && threads <= 64 && threads == floor(threads)))
        return luaL_error(L, "start: option 'threads' must be an integer in 0..64 (0: one per core)");
    live->served++; /* from here the state's Lua methods take the lock */
    o->live = live;
    int rc = cl_service_new(&o->svc, &cfg);
    if (rc)
        return lcl_raise(L, rc);
    cl_httpd_config hc = {
        .bind = bind,
        .port = (int)port,
        .timeout_s = (int)lcl_optnum(L, 1, "timeout_s", 30),
        .max_connections = (int)lcl_optnum(L, 1, "max_connections", 512),
        .refresh_ms = (int)lcl_optnum(L, 1, "refresh_ms", 1000),
        .threads = threads,
        .custom = o->nroutes ? custom_route : NULL,
        .custom_ctx = o,
    };
    if ((rc = cl_httpd_start(&o->h, o->svc, &hc)))
        return lcl_raise(L, rc);
    /* keep what the service borrows alive as long as it: state, frames, recommender */
    lua_createtable(L, 5, 0);
    for (int i = 2; i <= 6; i++) {
        lua_pushvalue(L, i);
        lua_rawseti(L, -2, i - 1);
    }
    lua_setiuservalue(L, 9, 1);
    return 1;
}

/* ---- methods ---------------------------------------------------------------------------------- */

static int m_port(lua_State *L)
{
    lua_pushinteger(L, cl_httpd_port(checkserve(L)->h));
    return 1;
}

static int m_url(lua_State *L)
{
    lua_pushfstring(L, "http://127.0.0.1:%d/", cl_httpd_port(checkserve(L)->h));
    return 1;
}

static volatile sig_atomic_t term_seen;
static void on_term(int sig)
{
    (void)sig;
    term_seen = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* srv:run{seconds =, tick = function, tick_ms = 1000} -> reason ("signal" | "seconds" |
 * "tick"): answers script routes and calls tick every tick_ms until SIGTERM, Ctrl-C, the
 * time is up or tick returns false. */
static int m_run(lua_State *L)
{
    serve_obj *o = checkserve(L);
    static const char *const known[] = {"seconds", "tick", "tick_ms", NULL};
    int opts = lcl_check_options(L, 2, "run", known);
    double seconds = lcl_optnum(L, opts, "seconds", HUGE_VAL);
    double tick_ms = lcl_optnum(L, opts, "tick_ms", 1000);
    if (!(seconds > 0) || !(tick_ms >= 1))
        return luaL_error(L, "run: 'seconds' must be > 0 and 'tick_ms' >= 1");
    int tick = 0;
    if (opts && lua_getfield(L, opts, "tick") != LUA_TNIL) {
        luaL_checktype(L, -1, LUA_TFUNCTION);
        tick = lua_gettop(L);
    }
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_term;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, &old);
    term_seen = 0;
    double t0 = now_s(), next = t0;
    const char *why = "seconds";
    for (;;) {
        if (term_seen || cl_progress_interrupted()) {
            why = "signal";
            break;
        }
        double t = now_s();
        if (t - t0 >= seconds)
            break;
        if (tick && t >= next) {
            lua_pushvalue(L, tick);
            if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
                sigaction(SIGTERM, &old, NULL);
                return lua_error(L);
            }
            int stop = lua_isboolean(L, -1) && !lua_toboolean(L, -1);
            lua_pop(L, 1);
            if (stop) {
                why = "tick";
                break;
            }
            next += tick_ms / 1000.0;
            if (next < now_s())
                next = now_s(); /* a slow tick does not pile up */
        }
        double wait = tick ? (next - now_s()) * 1000 : 100;
        pump(L, o, wait < 1 ? 1 : wait > 100 ? 100 : (int)wait);
    }
    sigaction(SIGTERM, &old, NULL);
    if (cl_progress_interrupted())
        cl_progress_interrupt_clear();
    lua_pushstring(L, why);
    return 1;
}

/* srv:poll([ms]) -> n: answers the script requests waiting (or arriving within ms). */
static int m_poll(lua_State *L)
{
    serve_obj *o = checkserve(L);
    lua_Integer ms = luaL_optinteger(L, 2, 0);
    if (ms < 0 || ms > 60000)
        return luaL_argerror(L, 2, "ms must be in 0..60000");
    lua_pushinteger(L, pump(L, o, (int)ms));
    return 1;
}

/* srv:refresh() -> version: recomputes the aggregates now. */
static int m_refresh(lua_State *L)
{
    serve_obj *o = checkserve(L);
    LCL_CHECK(L, cl_service_refresh(o->svc, 1, NULL));
    lua_pushinteger(L, cl_service_monitor(o->svc, NULL, NULL));
    return 1;
}

/* srv:request(method, path [, {body =, query = {k = v}, token =}]) -> status, body, type:
 * one request answered in process, as over HTTP (tests, scripts). */
static int m_request(lua_State *L)
{
    serve_obj *o = checkserve(L);
    const char *method = luaL_checkstring(L, 2);
    const char *path = luaL_checkstring(L, 3);
    static const char *const known[] = {"body", "query", "token", NULL};
    int opts = lcl_check_options(L, 4, "request", known);
    size_t blen = 0;
    const char *body = NULL;
    if (opts && lua_getfield(L, opts, "body") != LUA_TNIL)
        body = luaL_checklstring(L, -1, &blen);
    const char *kv[64];
    int nq = 0;
    if (opts && lua_getfield(L, opts, "query") != LUA_TNIL) {
        int qt = lua_gettop(L);
        luaL_checktype(L, qt, LUA_TTABLE);
        lua_pushnil(L);
        while (lua_next(L, qt) && nq < 32) {
            lua_pushvalue(L, -2);
            kv[2 * nq] = lua_tostring(L, -1);
            kv[2 * nq + 1] = lua_tostring(L, -2);
            lua_insert(L, qt + 1); /* keep the strings alive below the iteration */
            lua_insert(L, qt + 1);
            nq++;
        }
    }
    const char *auth = NULL;
    if (opts && lua_getfield(L, opts, "token") != LUA_TNIL)
        auth = lua_pushfstring(L, "Bearer %s", luaL_checkstring(L, -1));
    cl_service_request q = {method, path, kv, nq, body, blen, auth};
    cl_service_response r;
    memset(&r, 0, sizeof r);
    if (cl_service_api_route(path) == 0 && o->nroutes && route_matches(o, path)) {
        lreq rq = {&q, &r, 1, 0, NULL};
        answer_lua(L, o, &rq);
    } else {
        cl_service_api_handle(o->svc, &q, &r);
    }
    lua_pushinteger(L, r.status);
    if (r.stream)
        lua_pushliteral(L, "");
    else
        lua_pushlstring(L, r.body ? r.body : "", r.len);
    lua_pushstring(L, r.content_type ? r.content_type : "");
    cl_service_api_response_free(&r);
    return 3;
}

static int m_stop(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, SERVE);
    if (b && b->obj) {
        serve_obj *o = b->obj;
        pthread_mutex_lock(&o->qmu);
        o->stopped = 1;
        pthread_mutex_unlock(&o->qmu);
        if (o->routes_ref != LUA_NOREF)
            luaL_unref(L, LUA_REGISTRYINDEX, o->routes_ref);
        obj_free(o);
        b->obj = NULL;
    }
    return 0;
}

static int m_tostring(lua_State *L)
{
    lcl_box *b = lcl_testbox(L, 1, SERVE);
    if (!b || !b->obj)
        lua_pushstring(L, SERVE " (stopped)");
    else
        lua_pushfstring(L, SERVE " on http://127.0.0.1:%d/ (%d script routes)",
                        cl_httpd_port(((serve_obj *)b->obj)->h), ((serve_obj *)b->obj)->nroutes);
    return 1;
}

static const luaL_Reg methods[] = {{"port", m_port},       {"url", m_url},
                                   {"run", m_run},         {"poll", m_poll},
                                   {"refresh", m_refresh}, {"request", m_request},
                                   {"stop", m_stop},       {NULL, NULL}};
static const luaL_Reg meta[] = {
    {"__gc", m_stop}, {"__close", m_stop}, {"__tostring", m_tostring}, {NULL, NULL}};
/* cl.serve{...}: start with the options, then run with seconds/tick/tick_ms, then stop. */
static int l_call(lua_State *L)
{
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_newtable(L); /* 3: start's options */
    lua_newtable(L); /* 4: run's */
    lua_pushnil(L);
    while (lua_next(L, 2)) {
        int run_key = lua_type(L, -2) == LUA_TSTRING &&
                      (strcmp(lua_tostring(L, -2), "seconds") == 0 ||
                       strcmp(lua_tostring(L, -2), "tick") == 0 ||
                       strcmp(lua_tostring(L, -2), "tick_ms") == 0);
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, run_key ? 4 : 3);
    }
    lua_pushcfunction(L, l_start);
    lua_pushvalue(L, 3);
    lua_call(L, 1, 1); /* 5: the service */
    lua_getfield(L, 5, "run");
    lua_pushvalue(L, 5);
    lua_pushvalue(L, 4);
    lua_call(L, 2, 1); /* 6: why */
    lua_getfield(L, 5, "stop");
    lua_pushvalue(L, 5);
    lua_call(L, 1, 0);
    return 1;
}

static const luaL_Reg funcs[] = {{"start", l_start}, {NULL, NULL}};

static const lcl_doc mdocs[] = {
    {"port", "srv:port() -> the TCP port the service listens on (useful with port = 0)."},
    {"url", "srv:url() -> \"http://127.0.0.1:PORT/\": the dashboard's address."},
    {"run", "srv:run{[seconds =], [tick = function], [tick_ms = 1000]} -> why: serves until "
            "SIGTERM or Ctrl-C (\"signal\"), the seconds are up (\"seconds\") or tick returns "
            "false (\"tick\"); calls tick every tick_ms (e.g. to stream the world a day "
            "forward) and answers the script's routes between ticks. The service's own "
            "routes are answered in C all the time, not only inside run."},
    {"poll", "srv:poll([ms = 0]) -> n: answers the script-route requests waiting, or arriving "
             "within ms; for scripts with their own loop."},
    {"refresh", "srv:refresh() -> version: recomputes the monitor's aggregates now (the "
                "service does it every refresh_ms by itself)."},
    {"request", "srv:request(method, path [, {body =, query = {k = v}, token =}]) -> status, "
                "body, content_type: one request answered in process exactly as over HTTP."},
    {"stop", "srv:stop(): stops accepting, ends the event streams, waits for the requests in "
             "flight and frees the service (also done by the garbage collector)."},
    {NULL, NULL}};

int luaopen_churnlab_serve(lua_State *L);
int luaopen_churnlab_serve(lua_State *L)
{
    lcl_createmeta(L, SERVE, meta, methods);
    lcl_setdoc(L, -1, "churnlab.Service: the live retention service (dashboard + JSON API) "
                      "over a live state: port, url, run, poll, refresh, request, stop.");
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, mdocs);
    lua_pop(L, 2);
    luaL_newlib(L, funcs);
    lua_getfield(L, -1, "start");
    lcl_setdoc(
        L, -1,
        "start{state = live, model = path, [profiles = frame], [reference = frame], [rec = "
        "recommender], [titles = frame], [port = 8080], [bind = \"127.0.0.1\"], [token], "
        "[threshold = 0.3], [currency = \"USD\"], [actions = {{name, label, contact, accept_pct, "
        "reach, log_hr, log_hr_issues}, ...}], [routes = {[\"/path\"] = function(req) ... end}], "
        "[refresh_ms = 1000], [timeout_s = 30], [horizon_months = 12], [calibration_days = 30], "
        "[max_connections = 512], [history = path], [cache = 32768], [threads = 0]} -> "
        "churnlab.Service: "
        "serves the live "
        "state on HTTP "
        "(loopback unless bind says otherwise; another address needs a token). GET / is the "
        "dashboard; the JSON API: /api/customers/:id, /api/customers, /api/recommend/:id?k=, "
        "POST /api/score, POST /api/events (JSON lines; needs the token when one is set, and "
        "the state's log: events are acknowledged once committed), /api/monitor, /api/stream "
        "(server-sent events), POST /api/reload, /healthz, /metrics. A script route gets req = "
        "{method, path, query, body, json} and returns {status =, json = value | body = text, "
        "type = \"json\"|\"text\"|\"html\"|\"csv\"}, a table (JSON) or a string. The model file "
        "is read again by /api/reload and when it changes on disk; history names an SQLite "
        "file that keeps every customer's risk history across restarts; cache bounds the "
        "answers kept (each ~2 KB plus its JSON text of at most 16 KB; clock eviction); threads "
        "sets libmicrohttpd's epoll worker threads (0: one per core). cl.serve{...} is start{...}, then run{seconds, tick, "
        "tick_ms} with those three options, then stop.");
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
