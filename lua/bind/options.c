/* options.c - module churnlab.options: the options-table checker of lua/support/lcl.c for
 * the Lua modules, so C bindings and the lua/churnlab modules reject unknown keys with the same
 * message (DESIGN: "one shared helper"). */
#include "support/lcl.h"

int luaopen_churnlab_options(lua_State *L);
int luaopen_churnlab_options(lua_State *L)
{
    lcl_push_options_lib(L);
    lua_getfield(L, -1, "check");
    lcl_setdoc(L, -1, "check(opts, arg, fname, known [, level]) -> opts (or {} for nil): raises "
                      "\"bad argument #arg to 'fname' (unknown option 'x'; known: a, b)\" when "
                      "opts has a key not in the list known (with \"did you mean 'y'?\" "
                      "before the list when a known key is a typo away); level 1 (default) "
                      "blames the "
                      "caller of the function that calls check.");
    lua_pop(L, 1);
    return 1;
}
