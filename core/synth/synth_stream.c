/* synth_stream.c - the world running forward from its snapshot, day by day (synth.h). */
#include "synth/synth.h"
#include "synth/synth_impl.h"

#include "base/alloc.h"
#include "base/error.h"

#include <string.h>

struct cl_synth_stream {
    const cl_synth_world *w;
    synth_state *st; /* per customer; alive = 0 for customers not active at the snapshot */
    int day;
};

int cl_synth_stream_new(cl_synth_stream **out, const cl_synth_world *w)
{
    *out = NULL;
    cl_synth_stream *s = cl_calloc(1, sizeof *s);
    if (!s || !(s->st = cl_calloc((size_t)w->N, sizeof(synth_state)))) {
        cl_free(s);
        return CL_ENOMEM;
    }
    s->w = w;
    s->day = w->p.days;
    for (int ci = 0; ci < w->N; ci++) {
        s->st[ci] = w->cust[ci].snap;
        /* as cl_synth_replay with no action (synth_apply_action(NULL) changes nothing) */
        s->st[ci].alive = w->cust[ci].label >= 0;
    }
    *out = s;
    return CL_OK;
}

void cl_synth_stream_free(cl_synth_stream *s)
{
    if (!s)
        return;
    cl_free(s->st);
    cl_free(s);
}

int cl_synth_stream_next(cl_synth_stream *s, int *day, char **events, size_t *nev, char **ratings,
                         size_t *nrt)
{
    *events = *ratings = NULL;
    *nev = *nrt = 0;
    if (s->day >= CL_SYNTH_MAX_DAYS)
        return cl_error(CL_ERANGE, "synth: stream: the world ends at day %d", CL_SYNTH_MAX_DAYS - 1);
    synth_emit em;
    memset(&em, 0, sizeof em);
    synth_buf_str(&em.events, "user_id,day,event,title_id,minutes,completion,device,detail\n");
    synth_buf_str(&em.ratings, "user_id,title_id,day,rating\n");
    const int d = s->day;
    for (int ci = 0; ci < s->w->N; ci++)
        if (s->st[ci].alive && synth_sim_day(s->w, ci, &s->st[ci], d, &em, NULL))
            s->st[ci].alive = 0;
    synth_buf_ch(&em.events, '\0');
    synth_buf_ch(&em.ratings, '\0');
    if (em.events.err || em.ratings.err) {
        synth_buf_free(&em.events);
        synth_buf_free(&em.ratings);
        return cl_error(CL_ENOMEM, "synth: stream: out of memory for day %d", d);
    }
    *day = d;
    *events = em.events.p;
    *nev = em.events.n - 1;
    *ratings = em.ratings.p;
    *nrt = em.ratings.n - 1;
    s->day++;
    return CL_OK;
}
