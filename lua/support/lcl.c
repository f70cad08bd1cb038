/* lcl.c - shared binding helpers and the module registry. */
#define LCL_NO_REDIRECT /* this file defines lcl_error and lcl_argerror on top of lauxlib's */
#include "support/lcl.h"

#include "base/suggest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

/* ---- tensor boxes ---------------------------------------------------------------------- */
/* Here rather than in bind/tensor.c: every binding passes tensors, and support code must not
 * lean on a module's file (the tensor metatable itself is made by bind/tensor.c). */

cl_tensor *lcl_checktensor(lua_State *L, int idx) { return lcl_checkobj(L, idx, LCL_TENSOR); }

cl_tensor *lcl_testtensor(lua_State *L, int idx)
{
    lcl_box *b = lcl_testbox(L, idx, LCL_TENSOR);
    return b ? b->obj : NULL;
}

static int newbox(lua_State *L)
{
    lcl_newbox(L, LCL_TENSOR);
    return 1;
}

int lcl_pushtensor(lua_State *L, cl_tensor *t)
{
    /* The box is made under pcall so a Lua memory error cannot leak t. */
    lua_pushcfunction(L, newbox);
    if (lua_pcall(L, 0, 1, 0) != LUA_OK) {
        cl_tensor_free(t);
        return lua_error(L);
    }
    lcl_box *b = lua_touserdata(L, -1);
    b->obj = t;
    lcl_gc_check(L);
    return 1;
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

int lcl_is_library(lua_State *L, const char *source) { return is_library(L, source); }

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
    const char *msg = cl_error_last();
    if (!msg || !*msg)
        msg = cl_error_strstatus(rc);
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
    const char *msg = cl_error_last();
    if (!msg || !*msg)
        msg = cl_error_strstatus(rc);
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
    int rc = cl_error(cl_progress_interrupted() ? CL_EINTR : CL_EINVAL, "callback failed: %s",
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

void lcl_setdocs(lua_State *L, int idx, const lcl_doc *docs)
{
    idx = lua_absindex(L, idx);
    for (const lcl_doc *d = docs; d->name; d++) {
        lua_getfield(L, idx, d->name);
        if (lua_isnil(L, -1)) /* a text for a name that is gone: a binding's bug, said at once */
            luaL_error(L, "help text for '%s', which this table lacks", d->name);
        lcl_setdoc(L, -1, d->doc);
        lua_pop(L, 1);
    }
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

/* ---- option tables ------------------------------------------------------------------ */

/* The checker behind lcl_check_options and churnlab.options.check. `level` is the call
 * level of the function whose argument this is (0: the running C function; 1: the Lua
 * function that called options.check), so the argument number, the method adjustment and
 * the error position all refer to the function the user called. */
static int check_options_at(lua_State *L, int idx, int arg, int level, const char *fname,
                            const char *what, const char *const known[])
{
    if (lua_isnoneornil(L, idx))
        return 0;
    idx = lua_absindex(L, idx);
    const char *bad = NULL;
    if (!lua_istable(L, idx)) {
        const char *got = luaL_typename(L, idx);
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
            got = lua_tostring(L, -1);
        bad = what ? lua_pushfstring(L, "%s must be a table, got %s", what, got)
                   : lua_pushfstring(L, "table expected, got %s", got);
    } else {
        lua_pushnil(L);
        while (!bad && lua_next(L, idx)) {
            lua_pop(L, 1);
            int ok = 0;
            if (lua_type(L, -1) == LUA_TSTRING)
                for (int k = 0; known[k] && !ok; k++)
                    ok = !strcmp(known[k], lua_tostring(L, -1));
            if (ok)
                continue;
            /* a string key close to a known one gets a "did you mean" */
            const char *best = NULL;
            int bestd = CL_SUGGEST_NONE;
            for (int k = 0; known[k] && lua_type(L, -1) == LUA_TSTRING; k++)
                cl_suggest_consider(lua_tostring(L, -1), known[k], &best, &bestd);
            /* a key that is no string is shown as Lua would print it */
            const char *key = luaL_tolstring(L, -1, NULL);
            luaL_Buffer b;
            luaL_buffinit(L, &b);
            if (what) {
                luaL_addstring(&b, what);
                luaL_addstring(&b, ": unknown key '");
            } else {
                luaL_addstring(&b, "unknown option '");
            }
            luaL_addstring(&b, key);
            luaL_addstring(&b, "'; ");
            if (best) {
                luaL_addstring(&b, "did you mean '");
                luaL_addstring(&b, best);
                luaL_addstring(&b, "'? ");
            }
            if (!known[0])
                luaL_addstring(&b, "it takes none");
            else
                luaL_addstring(&b, "known: ");
            for (int k = 0; known[k]; k++) {
                if (k)
                    luaL_addstring(&b, ", ");
                luaL_addstring(&b, known[k]);
            }
            luaL_pushresult(&b);
            bad = lua_tostring(L, -1);
        }
    }
    if (!bad)
        return idx;
    lua_Debug ar;
    if (lua_getstack(L, level, &ar)) {
        lua_getinfo(L, "n", &ar);
        if (ar.namewhat && !strcmp(ar.namewhat, "method"))
            arg--;
        if (!fname) /* one C function under two names (df:print and df:show): the called one */
            fname = ar.name;
    }
    if (!fname)
        fname = "?";
    luaL_where(L, level + 1);
    if (arg > 0)
        lua_pushfstring(L, "bad argument #%d to '%s' (%s)", arg, fname, bad);
    else
        lua_pushfstring(L, "calling '%s' on bad self (%s)", fname, bad);
    lua_concat(L, 2);
    lua_error(L);
    return 0;
}

int lcl_check_options(lua_State *L, int idx, const char *fname, const char *const known[])
{
    return check_options_at(L, idx, lua_absindex(L, idx), 0, fname, NULL, known);
}

int lcl_check_fields(lua_State *L, int idx, int arg, const char *fname, const char *what,
                     const char *const known[])
{
    return check_options_at(L, idx, arg, 0, fname, what, known);
}

/* options.check(opts, arg, fname, known [, level [, what]]) for the Lua modules: known is a
 * list of strings; level 1 (the default) means the function calling check is the one the
 * user called, 2 its caller, and so on; what names a table inside argument arg (as in
 * lcl_check_fields). Returns opts (or an empty table for nil) so callers can
 * write `opts = check(opts, 2, "simulate", KNOWN)`. */
static int l_options_check(lua_State *L)
{
    int arg = (int)luaL_checkinteger(L, 2);
    const char *fname = luaL_checkstring(L, 3);
    luaL_checktype(L, 4, LUA_TTABLE);
    int level = (int)luaL_optinteger(L, 5, 1);
    const char *what = luaL_optstring(L, 6, NULL);
    luaL_argcheck(L, level >= 1, 5, "level must be at least 1");
    lua_Integer n = luaL_len(L, 4);
    luaL_argcheck(L, n >= 0 && n < 10000, 4, "too many option names");
    const char **known = lua_newuserdatauv(L, sizeof *known * (size_t)(n + 1), 0);
    for (lua_Integer i = 1; i <= n; i++) {
        if (lua_geti(L, 4, i) != LUA_TSTRING)
            return luaL_argerror(L, 4, "option names must be strings");
        known[i - 1] = lua_tostring(L, -1); /* alive: referenced by the list */
        lua_pop(L, 1);
    }
    known[n] = NULL;
    check_options_at(L, 1, arg, level, fname, what, known);
    if (lua_isnoneornil(L, 1))
        lua_newtable(L);
    else
        lua_pushvalue(L, 1);
    return 1;
}

int lcl_push_options_lib(lua_State *L)
{
    static const luaL_Reg f[] = {{"check", l_options_check}, {NULL, NULL}};
    luaL_newlib(L, f);
    return 1;
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
