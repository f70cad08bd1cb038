/* model.c - module churnlab.model: every churn classifier kind by name.
 *
 *   local M = require "churnlab.model"
 *   M.kinds()                          -- {"logreg", "mlp", "gbdt", "forest", "tree", ...}
 *   local m = M.new("gbdt", {trees = 50})   -- the same as cl.gbdt{trees = 50}
 *   local ctor = M.kind("majority")    -- a kind registered from C (cl_model_kinds_register)
 *   local m2 = M.load("model.clm")     -- any classifier file
 *
 * The classes themselves are support/lmodel.c's, made from each kind's cl_model_ops. A kind
 * added at run time (a plugin, a test's toy classifier) needs no binding of its own: its
 * constructor appears here as cl.model.<kind> and cl.load reads its files.
 */
#include "support/lmodel.h"

#include <string.h>

/* The kind named at idx, or an argument error listing the known ones. */
static const cl_model_ops *check_kind(lua_State *L, int idx)
{
    const char *name = luaL_checkstring(L, idx);
    const cl_model_ops *ops = cl_model_kinds_ops(name);
    if (!ops) {
        luaL_Buffer b;
        luaL_buffinit(L, &b);
        for (int i = 0; cl_model_kinds_at(i); i++) {
            if (i)
                luaL_addstring(&b, ", ");
            luaL_addstring(&b, cl_model_kinds_at(i)->kind);
        }
        luaL_pushresult(&b);
        return (const cl_model_ops *)(uintptr_t)luaL_argerror(
            L, idx, lua_pushfstring(L, "unknown model kind '%s' (known: %s)", name,
                                    lua_tostring(L, -1)));
    }
    return ops;
}

static int l_kind(lua_State *L)
{
    lm_kind_push(L, check_kind(L, 1), NULL);
    return 1;
}

static int l_new(lua_State *L)
{
    const cl_model_ops *ops = check_kind(L, 1);
    lua_settop(L, 2);
    lm_kind_push(L, ops, NULL);
    lua_insert(L, 2);
    lua_call(L, 1, 1);
    return 1;
}

static int l_kinds(lua_State *L)
{
    lua_newtable(L);
    for (int i = 0; cl_model_kinds_at(i); i++) {
        lua_pushstring(L, cl_model_kinds_at(i)->kind);
        lua_rawseti(L, -2, i + 1);
    }
    return 1;
}

static const luaL_Reg funcs[] = {
    {"new", l_new}, {"kind", l_kind}, {"kinds", l_kinds}, {"load", lm_load_any}, {NULL, NULL}};

static const lm_doc docs[] = {
    {"new", "new(kind, {params}) -> model: a new unfitted classifier of the kind named (the same "
            "as cl.gbdt{...} for 'gbdt'); an unknown kind is an error listing the known ones."},
    {"kind", "kind(name) -> constructor: the constructor of a classifier kind (a kind registered "
             "from C with cl_model_kinds_register is then also cl.model.<name>)."},
    {"kinds", "kinds() -> {name, ...}: every classifier kind this build knows, the built-in ones "
              "first, then those registered at run time."},
    {"load", "load(path) -> model: reads a classifier model file of any kind (and the pipeline "
             "saved with it); raises naming the file when it cannot. cl.load(path) reads every "
             "kind of churnlab file."},
    {NULL, NULL}};

int luaopen_churnlab_model(lua_State *L);
int luaopen_churnlab_model(lua_State *L)
{
    luaL_newlib(L, funcs);
    lcl_setdocs(L, -1, docs);
    lcl_setdoc(L, -1, "churnlab.model: every churn classifier kind by name (new, kind, kinds, "
                      "load), the registered ones included.");
    lm_kinds_init(L, -1);
    return 1;
}
