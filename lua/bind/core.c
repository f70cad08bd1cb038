/* core.c - module churnlab.core: version, threads, memory, model loading, docs. */
#include "support/lcl.h"

#include <string.h>
#include <time.h>

static int l_threads(lua_State *L)
{
    if (!lua_isnoneornil(L, 1))
        LCL_CHECK(L, cl_threads_set((int)luaL_checkinteger(L, 1)));
    lua_pushinteger(L, cl_threads_get());
    return 1;
}

static int l_memory(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)cl_alloc_bytes());
    lua_pushinteger(L, (lua_Integer)cl_alloc_peak());
    return 2;
}

/* load(path): dispatches on the kind stored in the file to the registered loader. A file
 * that cannot be read (missing, corrupt, of an unknown kind) raises an error naming it. */
static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char kind[80];
    int rc = cl_modelio_r_peek_kind(path, kind, sizeof kind);
    if (rc)
        return lcl_raise_file(L, rc, path);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "churnlab.loaders");
    if (lua_getfield(L, -1, kind) != LUA_TFUNCTION)
        return lcl_error(L, "'%s' holds a '%s' model, which this build of churnlab cannot load",
                         path, kind);
    lua_pushvalue(L, 1);
    lua_call(L, 1, LUA_MULTRET);
    return lua_gettop(L) - 2;
}

static int l_kind(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    char kind[80];
    int rc = cl_modelio_r_peek_kind(path, kind, sizeof kind);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_pushstring(L, kind);
    return 1;
}

/* raise(msg [, level]): for churnlab's Lua modules, error(msg) at the user's line (see
 * lcl_where), so a helper needs no hand-counted error level; any level but 0 means that.
 * Level 0 (a message that already has its position) raises msg unchanged. */
static int l_raise(lua_State *L)
{
    luaL_checkstring(L, 1);
    if (lua_isinteger(L, 2) && lua_tointeger(L, 2) == 0) {
        lua_settop(L, 1);
        return lua_error(L);
    }
    lcl_where(L);
    lua_pushvalue(L, 1);
    lua_concat(L, 2);
    return lua_error(L);
}

/* mkdirs(dir): dir and its parents, like mkdir -p; raises naming the folder. */
static int l_mkdirs(lua_State *L)
{
    const char *dir = luaL_checkstring(L, 1);
    int rc = cl_fileio_mkdirs(dir);
    if (rc)
        return lcl_raise_file(L, rc, dir);
    lua_pushstring(L, dir);
    return 1;
}

static int l_docs(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "churnlab.docs");
    luaL_getsubtable(L, LUA_REGISTRYINDEX, "churnlab.params");
    return 2;
}

static int l_interrupted(lua_State *L)
{
    lua_pushboolean(L, cl_progress_interrupted());
    if (lua_toboolean(L, 1))
        cl_progress_interrupt_clear();
    return 1;
}

/* now(): monotonic wall-clock seconds (arbitrary origin) as a float, for timing. */
static int l_now(lua_State *L)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    lua_pushnumber(L, (lua_Number)ts.tv_sec + (lua_Number)ts.tv_nsec * 1e-9);
    return 1;
}

static const luaL_Reg funcs[] = {
    {"threads", l_threads}, {"memory", l_memory}, {"load", l_load}, {"model_kind", l_kind},
    {"docs", l_docs},       {"interrupted", l_interrupted}, {"now", l_now}, {"raise", l_raise},
    {"mkdirs", l_mkdirs},   {NULL, NULL}};

static const lcl_doc docs[] = {
    {"threads", "threads([n]) -> n: sets (n >= 1, or 0 for the default: $CHURNLAB_THREADS or "
                "every core) and returns the thread count, capped at what an address-space limit "
                "(ulimit -v) leaves room for. Results never depend on it."},
    {"memory", "memory() -> bytes, peak: C memory held by churnlab objects now and at peak."},
    {"load", "load(path) -> model: loads any churnlab model file (.clm), whatever its kind. "
             "A missing or corrupt file raises an error naming it; to branch on failure: "
             "local ok, m = pcall(cl.load, path)."},
    {"model_kind", "model_kind(path) -> kind: the kind of model a file holds (raises like "
                   "load)."},
    {"raise", "raise(msg [, level]): error(msg) at the caller's line outside churnlab's Lua "
              "modules (for those modules' own checks); level 0 raises msg as it is."},
    {"mkdirs", "mkdirs(dir) -> dir: creates the folder and its parents (mkdir -p); raises "
               "naming it when it cannot."},
    {"docs", "docs() -> docs, params: the registry help() reads (docs keyed by function, "
             "module table or metatable name; params: each model kind's parameter table). "
             "Internal: for help(), the REPL's completion and tests."},
    {"interrupted", "interrupted([clear]) -> boolean: whether the process-wide Ctrl-C flag is "
                    "set (C loops poll it and stop with an 'interrupted' error); "
                    "interrupted(true) clears it after reading. Internal: for the host and tests."},
    {"now", "now() -> seconds: monotonic wall-clock time as a float (arbitrary origin; "
            "subtract two readings to time code)."},
    {NULL, NULL}};

int luaopen_churnlab_core(lua_State *L);
int luaopen_churnlab_core(lua_State *L)
{
    luaL_newlib(L, funcs);
    lua_pushstring(L, CL_VERSION_STRING);
    lua_setfield(L, -2, "version");
    lcl_setdocs(L, -1, docs);
    return 1;
}
