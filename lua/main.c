/* main.c - the churnlab executable (minimal host: scripts and -e; the REPL comes next). */
#include "lcl.h"

#include <lualib.h>
#include <stdio.h>
#include <string.h>

static int traceback(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (!msg)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    luaL_traceback(L, L, msg, 1);
    return 1;
}

static int report(lua_State *L, int status)
{
    if (status != LUA_OK) {
        fprintf(stderr, "churnlab: %s\n", lua_tostring(L, -1));
        lua_pop(L, 1);
    }
    return status;
}

static int docall(lua_State *L, int narg)
{
    int base = lua_gettop(L) - narg;
    lua_pushcfunction(L, traceback);
    lua_insert(L, base);
    int status = lua_pcall(L, narg, 0, base);
    lua_remove(L, base);
    return status;
}

int main(int argc, char **argv)
{
    lua_State *L = luaL_newstate();
    if (!L) {
        fprintf(stderr, "churnlab: cannot create Lua state\n");
        return 1;
    }
    luaL_openlibs(L);
    lcl_openlibs(L);
    int status = LUA_OK;
    if (argc >= 3 && strcmp(argv[1], "-e") == 0) {
        status = luaL_loadbuffer(L, argv[2], strlen(argv[2]), "=(command line)");
        if (status == LUA_OK)
            status = docall(L, 0);
    } else if (argc >= 2) {
        lua_createtable(L, argc, 1);
        for (int i = 0; i < argc; i++) {
            lua_pushstring(L, argv[i]);
            lua_rawseti(L, -2, i - 1);
        }
        lua_setglobal(L, "arg");
        status = luaL_loadfile(L, strcmp(argv[1], "-") == 0 ? NULL : argv[1]);
        if (status == LUA_OK) {
            for (int i = 2; i < argc; i++)
                lua_pushstring(L, argv[i]);
            status = docall(L, argc - 2);
        }
    }
    report(L, status);
    lua_close(L);
    return status == LUA_OK ? 0 : 1;
}
