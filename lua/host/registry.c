/* registry.c - registers every churnlab module in package.preload.
 *
 * C modules: each lua/bind/<name>.c defines luaopen_churnlab_<name>; the build lists them in
 * modules.h (generated), so adding a binding needs no edit here. Lua modules are the
 * embedded lua/churnlab/NAME.lua files; when the executable runs from a source checkout (the file
 * exists next to it) the file on disk wins, so editing a .lua file needs no rebuild.
 */
#include "support/lcl.h"
#include "host/embed.h"

#include <limits.h>
#include <lualib.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CL_MODULE(name) int luaopen_churnlab_##name(lua_State *L);
#include "modules.h"
#undef CL_MODULE

static char exe_dir[4096];

static void find_exe_dir(void)
{
    ssize_t n = readlink("/proc/self/exe", exe_dir, sizeof exe_dir - 1);
    if (n <= 0) {
        exe_dir[0] = '\0';
        return;
    }
    exe_dir[n] = '\0';
    char *slash = strrchr(exe_dir, '/');
    if (slash)
        *slash = '\0';
}

/* Source tree of a build: ./churnlab sits at the top; build/<variant>/churnlab two below. */
static int disk_path(const char *rel, char *out, size_t cap)
{
    static const char *ups[] = {"", "/../..", NULL};
    const char *env = getenv("CHURNLAB_LUA_ROOT");
    if (env && *env) {
        snprintf(out, cap, "%s/%s", env, rel);
        return access(out, R_OK) == 0;
    }
    if (!exe_dir[0])
        return 0;
    for (int i = 0; ups[i]; i++) {
        snprintf(out, cap, "%s%s/%s", exe_dir, ups[i], rel);
        if (access(out, R_OK) == 0)
            return 1;
    }
    return 0;
}

static int embedded_loader(lua_State *L)
{
    const lcl_embedded *m = lua_touserdata(L, lua_upvalueindex(1));
    char path[4600], clean[PATH_MAX];
    int rc;
    if (disk_path(m->path, path, sizeof path)) {
        /* the chunk is named by its real path, so tracebacks show .../lua/churnlab/plot.lua
         * rather than .../build/release/../../lua/churnlab/plot.lua */
        const char *name = realpath(path, clean) ? clean : path;
        lua_pushfstring(L, "@%s", name);
        rc = luaL_loadfile(L, name);
    } else {
        lua_pushfstring(L, "@%s", m->path);
        rc = luaL_loadbuffer(L, m->src, m->len, lua_tostring(L, -1));
    }
    if (rc != LUA_OK)
        return lua_error(L);
    lcl_mark_library(L, lua_tostring(L, -2)); /* errors skip its frames (lcl_where) */
    lua_remove(L, -2);
    lua_pushstring(L, m->name);
    lua_call(L, 1, 1);
    return 1;
}

void lcl_openlibs(lua_State *L)
{
    find_exe_dir();
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
#define CL_MODULE(name)                                                                      \
    lua_pushcfunction(L, luaopen_churnlab_##name);                                           \
    lua_setfield(L, -2, "churnlab." #name);
#include "modules.h"
#undef CL_MODULE
    for (const lcl_embedded *m = lcl_embedded_modules; m->name; m++) {
        lua_pushlightuserdata(L, (void *)m);
        lua_pushcclosure(L, embedded_loader, 1);
        lua_setfield(L, -2, m->name);
    }
    lua_pop(L, 1);
}
