/* llive.h - the Live box's object (bind/live.c), shared with bind/scorer.c, which scores the
 * state a Live box holds. */
#ifndef LLIVE_H
#define LLIVE_H

#include <pthread.h>
#include <stdint.h>

#include <lua.h>

#include "live/livelog.h"
#include "live/livestate.h"

#define LIVE_T "churnlab.Live"

typedef struct live_obj {
    cl_livestate *s;
    cl_livelog *log;       /* NULL: in memory only */
    char *snap;            /* snapshot path or NULL */
    int64_t rejected;      /* over the object's life */
    int broken;            /* the log failed after the state moved on: refuse more events */
    int64_t version;       /* bumped by every change (events, clock): caches key on it */
    cl_live_event *buf;    /* accepted events of the current call, for the log */
    int64_t nbuf, capbuf;
    /* While a service (bind/serve.c) serves the state, its threads read it concurrently and
     * POST /api/events writes it: every Lua method then runs under this lock (exclusive for
     * ingest and advance), and free is refused. */
    pthread_rwlock_t lock;
    int served;
} live_obj;

/* Runs f (a lua_CFunction taking the stack as it is) under o's lock when o is served; a Lua
 * error raised inside is re-raised after the lock is released. Unserved: just f(L), so
 * errors keep their position. */
static inline int llive_locked(lua_State *L, live_obj *o, lua_CFunction f, int write)
{
    if (!o->served)
        return f(L);
    int n = lua_gettop(L);
    lua_pushcfunction(L, f);
    lua_insert(L, 1);
    if (write)
        pthread_rwlock_wrlock(&o->lock);
    else
        pthread_rwlock_rdlock(&o->lock);
    int st = lua_pcall(L, n, LUA_MULTRET, 0);
    pthread_rwlock_unlock(&o->lock);
    if (st != LUA_OK)
        return lua_error(L);
    return lua_gettop(L);
}

#endif
