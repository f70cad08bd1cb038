/* lserve.h - what other bindings may ask of a churnlab.Service box (bind/serve.c): its
 * running cl_service, so they need not know the box's layout. */
#ifndef LSERVE_H
#define LSERVE_H

#include <lua.h>

#include "serve/service.h"

#define SERVE_T "churnlab.Service"

/* The cl_service of the churnlab.Service box at idx, borrowed until the service stops; NULL
 * when idx holds no Service box or the service is stopped (its box emptied). */
cl_service *lserve_service(lua_State *L, int idx);

#endif
