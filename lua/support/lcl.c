/* lcl.c - shared binding helpers and the module registry. */
#define LCL_NO_REDIRECT /* this file defines lcl_error and lcl_argerror on top of lauxlib's */
#include "support/lcl.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

lcl_box *lcl_newbox(lua_State *L, const char *tname)
{
    lcl_box *b = lua_newuserdatauv(L, sizeof *b, 1);
    b->obj = NULL;
    luaL_setmetatable(L, tname);
    return b;
}

lcl_box *lcl_testbox(lua_State *L, int idx, const char *tname)
{
    return luaL_testudata(L, idx, tname);
}

void *lcl_checkobj(lua_State *L, int idx, const char *tname)
{
    lcl_box *b = luaL_testudata(L, idx, tname);
    if (!b) {
        const char *got = luaL_typename(L, idx);
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
            got = lua_tostring(L, -1);
        lcl_argerror(L, idx, lua_pushfstring(L, "%s expected, got %s", tname, got));
    }
    if (!b->obj)
        lcl_argerror(L, idx, lua_pushfstring(L, "attempt to use a freed %s", tname));
    return b->obj;
}

void lcl_createmeta(lua_State *L, const char *tname, const luaL_Reg *meta, const luaL_Reg *methods)
{
    luaL_newmetatable(L, tname);
    if (meta)
        luaL_setfuncs(L, meta, 0);
    lua_getfield(L, -1, "__index");
    int has_index = !lua_isnil(L, -1);
    lua_pop(L, 1);
    if (methods && !has_index) {
        lua_newtable(L);
        luaL_setfuncs(L, methods, 0);
        lua_setfield(L, -2, "__index");
    }
}

/* ---- errors ------------------------------------------------------------------------ */

static const char *LIBSRC_KEY = "churnlab.libsources";

void lcl_mark_library(lua_State *L, const char *source)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LIBSRC_KEY);
    lua_pushboolean(L, 1);
    lua_setfield(L, -2, source);
    lua_pop(L, 1);
}

static int is_library(lua_State *L, const char *source)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LIBSRC_KEY);
    int lib = lua_getfield(L, -1, source) != LUA_TNIL;
    lua_pop(L, 2);
    return lib;
}

void lcl_where(lua_State *L)
{
    lua_Debug ar;
    /* Level 0 is the running C function; C frames (pcall, sort) have no line to show, and
     * frames of churnlab's own Lua modules are helpers acting for the caller. */
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        if (!lua_getinfo(L, "Sl", &ar) || ar.currentline <= 0 || is_library(L, ar.source))
            continue;
        lua_pushfstring(L, "%s:%d: ", ar.short_src, ar.currentline);
        return;
    }
    lua_pushliteral(L, "");
}

int lcl_error(lua_State *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    lcl_where(L);
    lua_pushvfstring(L, fmt, ap);
    va_end(ap);
    lua_concat(L, 2);
    lua_error(L);
#if defined(__GNUC__)
    __builtin_unreachable();
#else
    return 0;
#endif
}

int lcl_argerror(lua_State *L, int arg, const char *extramsg)
{
    lua_Debug ar;
    if (!lua_getstack(L, 1, &ar) || !lua_getinfo(L, "S", &ar) || !is_library(L, ar.source)) {
        luaL_argerror(L, arg, extramsg); /* the user's own call: Lua's message as is */
    } else if (!lua_getstack(L, 0, &ar)) {
        lcl_error(L, "bad argument #%d (%s)", arg, extramsg);
    } else { /* lauxlib's wording, at the user's line */
        lua_getinfo(L, "n", &ar);
        const char *name = ar.name ? ar.name : "?";
        if (ar.namewhat && strcmp(ar.namewhat, "method") == 0 && --arg == 0)
            lcl_error(L, "calling '%s' on bad self (%s)", name, extramsg);
        lcl_error(L, "bad argument #%d to '%s' (%s)", arg, name, extramsg);
    }
#if defined(__GNUC__)
    __builtin_unreachable();
#else
    return 0;
#endif
}

int lcl_raise(lua_State *L, int rc)
{
    const char *msg = cl_last_error();
    if (!msg || !*msg)
        msg = cl_strstatus(rc);
    lcl_where(L);
    lua_pushstring(L, msg);
    cl_error_clear();
    lua_concat(L, 2);
    lua_error(L);
#if defined(__GNUC__)
    __builtin_unreachable();
#else
    return 0;
#endif
}

int lcl_raise_file(lua_State *L, int rc, const char *path)
{
    const char *msg = cl_last_error();
    if (!msg || !*msg)
        msg = cl_strstatus(rc);
    lcl_where(L);
    /* the core names the file in most messages ("cannot open 'x.clm': ..."); where a
     * model-specific check does not, the file is put in front, like io.lines does */
    if (strstr(msg, path))
        lua_pushstring(L, msg);
    else
        lua_pushfstring(L, "'%s': %s", path, msg);
    cl_error_clear();
    lua_concat(L, 2);
    lua_error(L);
#if defined(__GNUC__)
    __builtin_unreachable();
#else
    return 0;
#endif
}

int lcl_errslot(lua_State *L)
{
    lua_pushnil(L);
    return lua_gettop(L);
}

int lcl_pcall(lua_State *L, int nargs, int nresults, int slot)
{
    if (lua_pcall(L, nargs, nresults, 0) == LUA_OK)
        return CL_OK;
    const char *msg = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
    int rc = cl_error(cl_interrupted() ? CL_EINTR : CL_EINVAL, "callback failed: %s",
                      msg ? msg : luaL_typename(L, -1));
    if (lua_isnil(L, slot))
        lua_replace(L, slot);
    else
        lua_pop(L, 1); /* a later error: the first one is the cause */
    return rc;
}

int lcl_raise_slot(lua_State *L, int slot, int rc)
{
    if (!lua_isnil(L, slot)) {
        cl_error_clear();
        lua_pushvalue(L, slot);
        lua_error(L);
    }
    lcl_raise(L, rc);
#if !defined(__GNUC__)
    return 0;
#endif
}


/* ---- parameters --------------------------------------------------------------------- */

static const char *PARAMS_KEY = "churnlab.params";

void lcl_register_params(lua_State *L, const char *what, const cl_param_def *defs)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, PARAMS_KEY);
    lua_getfield(L, -1, what);
    if (!lua_isnil(L, -1)) {
        lua_pop(L, 2);
        return;
    }
    lua_pop(L, 1);
    static const char *tnames[] = {"int", "number", "boolean", "choice", "list", "seed"};
    lua_newtable(L);
    int i = 1;
    for (const cl_param_def *d = defs; d->name; d++, i++) {
        lua_createtable(L, 0, 7);
        lua_pushstring(L, d->name);
        lua_setfield(L, -2, "name");
        lua_pushstring(L, tnames[d->type]);
        lua_setfield(L, -2, "type");
        if (d->type == CL_PARAM_ENUM) {
            char buf[64];
            lua_pushstring(L, cl_param_choice(d, (int)d->def, buf, sizeof buf));
        } else if (d->type == CL_PARAM_BOOL) {
            lua_pushboolean(L, d->def != 0);
        } else {
            lua_pushnumber(L, d->def);
        }
        lua_setfield(L, -2, "default");
        if (d->type == CL_PARAM_INT || d->type == CL_PARAM_NUM || d->type == CL_PARAM_INTS) {
            lua_pushnumber(L, d->lo);
            lua_setfield(L, -2, "min");
            lua_pushnumber(L, d->hi);
            lua_setfield(L, -2, "max");
        }
        if (d->choices) {
            lua_pushstring(L, d->choices);
            lua_setfield(L, -2, "choices");
        }
        lua_pushstring(L, d->doc ? d->doc : "");
        lua_setfield(L, -2, "doc");
        lua_rawseti(L, -2, i);
    }
    lua_setfield(L, -2, what);
    lua_pop(L, 1);
}

void lcl_params(lua_State *L, int idx, const cl_param_def *defs, void *params, const char *what)
{
    lcl_register_params(L, what, defs);
    if (lua_isnoneornil(L, idx))
        return;
    idx = lua_absindex(L, idx);
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int rc = CL_OK;
        if (lua_type(L, -2) != LUA_TSTRING) {
            return (void)lcl_error(L, "%s: parameter names must be strings, got %s", what,
                                    luaL_typename(L, -2));
        }
        const char *name = lua_tostring(L, -2);
        const cl_param_def *d = cl_param_find(defs, name);
        int t = lua_type(L, -1);
        if (d && d->type == CL_PARAM_BOOL && t == LUA_TBOOLEAN) {
            rc = cl_param_set_num(defs, params, what, name, lua_toboolean(L, -1));
        } else if (d && d->type == CL_PARAM_INTS && t == LUA_TTABLE) {
            int v[CL_PARAM_MAXINTS + 1];
            lua_Integer n = luaL_len(L, -1);
            if (n > CL_PARAM_MAXINTS)
                n = CL_PARAM_MAXINTS + 1; /* let the setter report it */
            for (lua_Integer k = 1; k <= n && k <= CL_PARAM_MAXINTS; k++) {
                lua_geti(L, -1, k);
                int isnum;
                lua_Number x = lua_tonumberx(L, -1, &isnum);
                lua_pop(L, 1);
                if (!isnum || x != floor(x) || fabs(x) > 1e9)
                    return (void)lcl_error(L, "%s: parameter '%s' must be a list of integers",
                                            what, name);
                v[k - 1] = (int)x;
            }
            rc = cl_param_set_ints(defs, params, what, name, v, (int)n);
        } else if (t == LUA_TNUMBER) {
            rc = cl_param_set_num(defs, params, what, name, lua_tonumber(L, -1));
        } else if (t == LUA_TSTRING) {
            rc = cl_param_set_str(defs, params, what, name, lua_tostring(L, -1));
        } else if (!d) {
            rc = cl_param_set_num(defs, params, what, name, 0); /* reports the unknown name */
        } else {
            return (void)lcl_error(L, "%s: parameter '%s' has the wrong type (%s)", what, name,
                                    luaL_typename(L, -1));
        }
        if (rc)
            lcl_raise(L, rc);
        lua_pop(L, 1);
    }
}

void lcl_push_params(lua_State *L, const cl_param_def *defs, const void *params)
{
    lua_newtable(L);
    for (const cl_param_def *d = defs; d->name; d++) {
        const char *f = (const char *)params + d->offset;
        switch (d->type) {
        case CL_PARAM_INT: lua_pushinteger(L, *(const int *)f); break;
        case CL_PARAM_NUM: lua_pushnumber(L, *(const double *)f); break;
        case CL_PARAM_BOOL: lua_pushboolean(L, *(const int *)f); break;
        case CL_PARAM_SEED: lua_pushinteger(L, (lua_Integer) * (const uint64_t *)f); break;
        case CL_PARAM_ENUM: {
            char buf[64];
            lua_pushstring(L, cl_param_choice(d, *(const int *)f, buf, sizeof buf));
            break;
        }
        case CL_PARAM_INTS: {
            const cl_param_ints *li = (const cl_param_ints *)f;
            lua_createtable(L, li->n, 0);
            for (int i = 0; i < li->n; i++) {
                lua_pushinteger(L, li->v[i]);
                lua_rawseti(L, -2, i + 1);
            }
            break;
        }
        }
        lua_setfield(L, -2, d->name);
    }
}

static const char *DOCS_KEY = "churnlab.docs";

void lcl_setdoc(lua_State *L, int idx, const char *doc)
{
    idx = lua_absindex(L, idx);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, DOCS_KEY);
    lua_pushvalue(L, idx);
    lua_pushstring(L, doc);
    lua_rawset(L, -3);
    lua_pop(L, 1);
}

/* ---- model loaders ------------------------------------------------------------------ */

static const char *LOADERS_KEY = "churnlab.loaders";

void lcl_register_loader(lua_State *L, const char *kind, lua_CFunction loader)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LOADERS_KEY);
    lua_pushcfunction(L, loader);
    lua_setfield(L, -2, kind);
    lua_pop(L, 1);
}

/* ---- GC accounting ------------------------------------------------------------------ */

static size_t gc_threshold = (size_t)64 << 20;

void lcl_gc_check(lua_State *L)
{
    if (cl_alloc_bytes() <= gc_threshold)
        return;
    lua_gc(L, LUA_GCCOLLECT);
    size_t now = cl_alloc_bytes();
    gc_threshold = now * 2 > ((size_t)64 << 20) ? now * 2 : (size_t)64 << 20;
}

/* ---- option readers ----------------------------------------------------------------- */

static int optfield(lua_State *L, int idx, const char *key)
{
    if (idx == 0 || lua_isnoneornil(L, idx))
        return 0;
    luaL_checktype(L, idx, LUA_TTABLE);
    return lua_getfield(L, idx, key) != LUA_TNIL ? 1 : (lua_pop(L, 1), 0);
}

double lcl_optnum(lua_State *L, int idx, const char *key, double def)
{
    if (!optfield(L, idx, key))
        return def;
    int isnum;
    double v = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
        lcl_error(L, "option '%s' must be a number, got %s", key, luaL_typename(L, -1));
    lua_pop(L, 1);
    return v;
}

int lcl_optbool(lua_State *L, int idx, const char *key, int def)
{
    if (!optfield(L, idx, key))
        return def;
    if (!lua_isboolean(L, -1))
        lcl_error(L, "option '%s' must be a boolean, got %s", key, luaL_typename(L, -1));
    int v = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return v;
}

const char *lcl_optstr(lua_State *L, int idx, const char *key, const char *def)
{
    if (!optfield(L, idx, key))
        return def;
    if (lua_type(L, -1) != LUA_TSTRING)
        lcl_error(L, "option '%s' must be a string, got %s", key, luaL_typename(L, -1));
    const char *s = lua_tostring(L, -1);
    lua_pop(L, 1); /* the string stays alive: it is referenced by the options table */
    return s;
}

/* ---- progress bars ------------------------------------------------------------------ */
/*
 * Modes: 0 silent; 1 one summary line when the task finishes; 2 that plus a plain line every
 * 10% (for logs); 3 a live bar redrawn in place. A terminal on stderr gets the bar unless
 * verbose is false/0; otherwise nothing, or the summary line with verbose = true/1 (2: the
 * 10% lines too). The bar:
 *     fit [##########..........]  50%  500/1000  812/s  00:00<00:00  loss 0.4123
 * fitted to the terminal width; redrawn at most 10 times a second, and always at the end.
 */

enum { PROG_SILENT, PROG_SUMMARY, PROG_LINES, PROG_BAR };

typedef struct progress_state {
    cl_progress p;
    int mode;
    int active;        /* a task has reported and not finished */
    int runs;          /* times the task restarted from a lower count (restarts, folds) */
    int drawn;         /* a bar line is on screen without its newline */
    int last_decile;   /* PROG_LINES: last 10% step printed */
    double start, last_draw, last_done, last_total, last_t;
    char task[48];     /* the task being timed; a new task restarts the clock */
    char detail[96];   /* the last detail, for the closing line */
} progress_state;

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void fmt_secs(char *buf, size_t cap, double s)
{
    if (!(s >= 0) || s > 359999)
        snprintf(buf, cap, "--:--");
    else if (s >= 3600)
        snprintf(buf, cap, "%d:%02d:%02d", (int)s / 3600, (int)s / 60 % 60, (int)s % 60);
    else
        snprintf(buf, cap, "%02d:%02d", (int)s / 60, (int)s % 60);
}

/* 1234567 -> "1.23M"; small integers stay exact. */
static void fmt_count(char *buf, size_t cap, double v)
{
    static const char suffix[] = " kMGTP";
    if (!(v == v)) {
        snprintf(buf, cap, "?");
        return;
    }
    if (fabs(v) < 1e4 && v == floor(v)) {
        snprintf(buf, cap, "%.0f", v);
        return;
    }
    int k = 0;
    while (fabs(v) >= 1000 && k < 5) {
        v /= 1000;
        k++;
    }
    if (k == 0)
        snprintf(buf, cap, fabs(v) >= 100 ? "%.0f" : fabs(v) >= 10 ? "%.1f" : "%.2f", v);
    else
        snprintf(buf, cap, fabs(v) >= 100 ? "%.0f%c" : fabs(v) >= 10 ? "%.1f%c" : "%.2f%c", v,
                 suffix[k]);
}

static int term_width(void)
{
    struct winsize ws;
    if (ioctl(2, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 20)
        return ws.ws_col;
    const char *c = getenv("COLUMNS");
    int n = c ? atoi(c) : 0;
    return n >= 20 && n <= 1000 ? n : 80;
}

/* The bar line (without \r or newline) for a terminal `width` columns wide. */
static void progress_line(char *out, size_t cap, int width, const char *task, double done,
                          double total, double elapsed, const char *detail)
{
    char rate[24], cnt[24], tot[24], el[16], eta[16], tail[160];
    double r = elapsed > 0 ? done / elapsed : 0;
    fmt_count(rate, sizeof rate, r);
    fmt_count(cnt, sizeof cnt, done);
    fmt_secs(el, sizeof el, elapsed);
    if (total > 0) {
        double frac = done / total;
        if (frac < 0)
            frac = 0;
        if (frac > 1)
            frac = 1;
        fmt_count(tot, sizeof tot, total);
        fmt_secs(eta, sizeof eta, done > 0 && done < total ? elapsed * (total - done) / done
                                  : done >= total ? 0 : -1);
        snprintf(tail, sizeof tail, " %3.0f%%  %s/%s  %s/s  %s<%s", 100 * frac, cnt, tot, rate,
                 el, eta);
        /* the bar takes what is left of the line, between 10 and 30 cells */
        int room = width - 1 - (int)strlen(task) - 3 - (int)strlen(tail) -
                   (detail && *detail ? 2 + (int)strlen(detail) : 0);
        if (room < 10) /* a long detail: keep a short bar, the detail is cut instead */
            room = width - 1 - (int)strlen(task) - 3 - (int)strlen(tail) >= 20 ? 10 : room;
        int w = room > 30 ? 30 : room;
        if (w >= 10) {
            char bar[32];
            int fill = (int)(w * frac);
            for (int i = 0; i < w; i++)
                bar[i] = i < fill ? '#' : '.';
            bar[w] = '\0';
            snprintf(out, cap, "%s [%s]%s", task, bar, tail);
        } else {
            snprintf(out, cap, "%s%s", task, tail);
        }
    } else {
        snprintf(out, cap, "%s %s  %s/s  %s", task, cnt, rate, el);
    }
    size_t len = strlen(out);
    if (detail && *detail && len + 3 < cap)
        snprintf(out + len, cap - len, "  %s", detail);
    if (width > 1 && strlen(out) > (size_t)(width - 1) && (size_t)(width - 1) < cap)
        out[width - 1] = '\0'; /* never wrap: the \r redraw would leave stale lines */
}

static void summary_line(const progress_state *st)
{
    char cnt[24], tot[24], rate[24];
    double elapsed = st->last_t - st->start;
    fmt_count(cnt, sizeof cnt, st->last_done);
    fmt_count(tot, sizeof tot, st->last_total);
    fmt_count(rate, sizeof rate, elapsed > 0 ? st->last_done / elapsed : 0);
    char runs[32] = "";
    if (st->runs > 1)
        snprintf(runs, sizeof runs, ", %d runs", st->runs);
    fprintf(stderr, "%s: %s%s%s in %.2fs (%s/s%s)%s%s\n", st->task, cnt,
            st->last_total > 0 ? "/" : "", st->last_total > 0 ? tot : "", elapsed, rate, runs,
            st->detail[0] ? "  " : "", st->detail);
}

/* Closes the current task: the bar gets its final state and a newline; the summary modes
 * print their one line. Idempotent. */
static void progress_finish(progress_state *st)
{
    if (!st->active)
        return;
    if (st->mode == PROG_BAR) {
        char line[512];
        progress_line(line, sizeof line, term_width(), st->task, st->last_done, st->last_total,
                      st->last_t - st->start, st->detail);
        fprintf(stderr, "\r%s\033[K\n", line);
    } else if (st->mode == PROG_SUMMARY || st->mode == PROG_LINES) {
        summary_line(st);
    }
    fflush(stderr);
    st->active = 0;
    st->drawn = 0;
    st->task[0] = '\0'; /* the same task name again starts afresh */
}

static int progress_cb(void *ud, const char *task, double done, double total, const char *detail)
{
    progress_state *st = ud;
    double t = now_s();
    if (!task)
        task = "working";
    if (st->active) {
        if (strncmp(st->task, task, sizeof st->task - 1) != 0)
            progress_finish(st); /* a new task: close the previous one first */
        else if (done < st->last_done)
            st->runs++; /* the same task again (a restart, a fold): same line, same clock */
    }
    if (!st->active) {
        snprintf(st->task, sizeof st->task, "%s", task);
        st->start = st->last_t; /* since the previous report (or creation): a fair rate */
        st->last_draw = 0;
        st->last_decile = -1;
        st->active = 1;
        st->runs = 1;
    }
    st->last_done = done;
    st->last_total = total;
    st->last_t = t;
    snprintf(st->detail, sizeof st->detail, "%s", detail ? detail : "");
    if (total > 0 && done >= total) {
        progress_finish(st);
    } else if (st->mode == PROG_BAR && t - st->last_draw >= 0.1) {
        char line[512];
        progress_line(line, sizeof line, term_width(), st->task, done, total, t - st->start,
                      st->detail);
        fprintf(stderr, "\r%s\033[K", line);
        fflush(stderr);
        st->last_draw = t;
        st->drawn = 1;
    } else if (st->mode == PROG_LINES && total > 0) {
        int decile = (int)(10 * done / total);
        if (decile > st->last_decile && decile > 0) {
            char line[512];
            progress_line(line, sizeof line, 0, st->task, done, total, t - st->start, st->detail);
            fprintf(stderr, "%s\n", line);
            st->last_decile = decile;
        }
    }
    return 0; /* Ctrl-C is seen through cl_interrupted() by cl_progress_step */
}

void lcl_progress_end(cl_progress *p)
{
    if (p && p->fn == progress_cb)
        progress_finish(p->ud);
}

static int progress_gc(lua_State *L)
{
    progress_finish(lua_touserdata(L, 1));
    return 0;
}

cl_progress *lcl_progress_new(lua_State *L, int opts)
{
    int verbose = -1; /* not given */
    if (opts && !lua_isnoneornil(L, opts)) {
        if (lua_getfield(L, opts, "verbose") != LUA_TNIL) {
            if (lua_isboolean(L, -1))
                verbose = lua_toboolean(L, -1);
            else if (lua_isinteger(L, -1) && lua_tointeger(L, -1) >= 0 && lua_tointeger(L, -1) <= 2)
                verbose = (int)lua_tointeger(L, -1);
            else
                lcl_error(L, "option 'verbose' must be a boolean or 0, 1 or 2, got %s",
                           luaL_tolstring(L, -1, NULL));
        }
        lua_pop(L, 1);
    }
    progress_state *st = lua_newuserdatauv(L, sizeof *st, 0);
    memset(st, 0, sizeof *st);
    if (luaL_newmetatable(L, "churnlab.Progress")) {
        lua_pushcfunction(L, progress_gc);
        lua_setfield(L, -2, "__gc");
        lua_pushcfunction(L, progress_gc);
        lua_setfield(L, -2, "__close");
    }
    lua_setmetatable(L, -2);
    if (verbose == 0)
        st->mode = PROG_SILENT;
    else if (isatty(2))
        st->mode = PROG_BAR;
    else
        st->mode = verbose < 0 ? PROG_SILENT : verbose == 2 ? PROG_LINES : PROG_SUMMARY;
    st->start = st->last_t = now_s();
    st->last_decile = -1;
    st->p.fn = progress_cb;
    st->p.ud = st;
    return &st->p;
}

/* ---- numeric vectors and matrices from Lua values ----------------------------------- */

/* Raises (before anything is allocated) unless every element is a number or nil. */
static lua_Integer check_numbers(lua_State *L, int idx, int argn, lua_Integer row)
{
    lua_Integer len = luaL_len(L, idx);
    for (lua_Integer i = 1; i <= len; i++) {
        int t = lua_geti(L, idx, i);
        int ok = t == LUA_TNIL || lua_isnumber(L, -1);
        lua_pop(L, 1);
        if (!ok) {
            if (row)
                lcl_error(L, "bad argument #%d (row %d, element %d is a %s, expected a number)",
                           argn, (int)row, (int)i, lua_typename(L, t));
            lcl_error(L, "bad argument #%d (element %d is a %s, expected a number)", argn,
                       (int)i, lua_typename(L, t));
        }
    }
    return len;
}

static void fill_numbers(lua_State *L, int idx, double *v, lua_Integer len)
{
    for (lua_Integer i = 1; i <= len; i++) {
        int isnum;
        lua_geti(L, idx, i);
        double x = lua_tonumberx(L, -1, &isnum);
        lua_pop(L, 1);
        v[i - 1] = isnum ? x : NAN;
    }
}

static double *vec_from_table(lua_State *L, int idx, int argn, int64_t *n)
{
    lua_Integer len = check_numbers(L, idx, argn, 0);
    double *v = lua_newuserdatauv(L, (size_t)(len > 0 ? len : 1) * sizeof *v, 0);
    fill_numbers(L, idx, v, len);
    *n = (int64_t)len;
    return v;
}

double *lcl_checkvec(lua_State *L, int idx, int64_t *n)
{
    idx = lua_absindex(L, idx);
    cl_tensor *t = lcl_testtensor(L, idx);
    if (t) {
        if (t->ndim == 2 && t->shape[1] != 1 && t->shape[0] != 1) {
            char s[64];
            lcl_argerror(L, idx, lua_pushfstring(L, "expected a vector, got a %s tensor",
                                                  cl_tensor_shape_str(t, s, sizeof s)));
        }
        int64_t m = cl_tensor_numel(t);
        double *v = lua_newuserdatauv(L, (size_t)(m ? m : 1) * sizeof *v, 0);
        int64_t k = 0;
        for (int64_t i = 0; i < t->shape[0]; i++)
            for (int64_t j = 0; j < t->shape[1]; j++)
                v[k++] = *cl_tensor_ptr(t, i, j);
        *n = m;
        return v;
    }
    if (lua_type(L, idx) == LUA_TTABLE)
        return vec_from_table(L, idx, idx, n);
    if (luaL_getmetafield(L, idx, "__index") != LUA_TNIL) {
        lua_pop(L, 1);
        lua_getfield(L, idx, "totable");
        if (lua_isfunction(L, -1)) {
            lua_pushvalue(L, idx);
            lua_call(L, 1, 1);
            if (lua_type(L, -1) == LUA_TTABLE) {
                double *v = vec_from_table(L, lua_gettop(L), idx, n);
                lua_remove(L, -2); /* the table; the userdata stays */
                return v;
            }
        }
        lua_pop(L, 1);
    }
    lcl_argerror(L, idx, lua_pushfstring(L, "numeric vector (tensor, table or column) expected, got %s",
                                          luaL_typename(L, idx)));
    return NULL;
}

double *lcl_checkmat(lua_State *L, int idx, int64_t *rows, int *cols)
{
    idx = lua_absindex(L, idx);
    cl_tensor *t = lcl_testtensor(L, idx);
    if (t) {
        int64_t r = t->shape[0], c = t->shape[1];
        if (c > 100000)
            lcl_argerror(L, idx, "too many columns");
        double *v = lua_newuserdatauv(L, (size_t)(r * c > 0 ? r * c : 1) * sizeof *v, 0);
        for (int64_t i = 0; i < r; i++)
            for (int64_t j = 0; j < c; j++)
                v[i * c + j] = *cl_tensor_ptr(t, i, j);
        *rows = r;
        *cols = (int)c;
        return v;
    }
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_Integer r = luaL_len(L, idx), c = -1;
    for (lua_Integer i = 1; i <= r; i++) { /* validate everything first: no leak on error */
        if (lua_geti(L, idx, i) != LUA_TTABLE)
            lcl_error(L, "bad argument #%d (row %d is not a table)", idx, (int)i);
        lua_Integer len = check_numbers(L, lua_gettop(L), idx, i);
        lua_pop(L, 1);
        if (c >= 0 && len != c)
            lcl_error(L, "bad argument #%d (row %d has %d values, row 1 has %d)", idx, (int)i,
                       (int)len, (int)c);
        c = len;
    }
    if (c > 100000)
        lcl_argerror(L, idx, "too many columns");
    if (c < 0)
        c = 0;
    double *v = lua_newuserdatauv(L, (size_t)(r * c > 0 ? r * c : 1) * sizeof *v, 0);
    int buf = lua_gettop(L);
    for (lua_Integer i = 1; i <= r; i++) {
        lua_geti(L, idx, i);
        fill_numbers(L, lua_gettop(L), v + (i - 1) * c, c);
        lua_pop(L, 1);
    }
    lua_settop(L, buf);
    *rows = r;
    *cols = (int)c;
    return v;
}

int lcl_pushvec(lua_State *L, const double *v, int64_t n)
{
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 1, n, 1));
    float *d = cl_tensor_data(t);
    for (int64_t i = 0; i < n; i++)
        d[i] = (float)v[i];
    return lcl_pushtensor(L, t);
}
