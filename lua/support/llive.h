/* llive.h - the Live box's object (bind/live.c), shared with bind/scorer.c, which scores the
 * state a Live box holds. */
#ifndef LLIVE_H
#define LLIVE_H

#include <stdint.h>

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
} live_obj;

#endif
