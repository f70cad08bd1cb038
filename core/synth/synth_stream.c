/* synth_stream.c - the world running forward from its snapshot, day by day (synth.h). */
#include "synth/synth.h"
#include "synth/synth_impl.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"

#include <math.h>
#include <string.h>

/* ---- the recommendation reaction ---------------------------------------------------------
 * A shown list is one impression: each title is viewed from the recommendation row within
 * the window with probability cl_synth_stream_rec_view_prob, on a day drawn uniformly among the
 * window's days. The draws come from their own stream, cl_rng_split(seed ^ REACT_SALT,
 * id * CL_SYNTH_MAX_DAYS + impression day), so the daily life draws are untouched: with the
 * reaction off (or nothing shown) the stream equals w:replay exactly. */
#define REACT_SALT 0x5245434fULL /* "RECO" */
#define REACT_VIEW_MAX 0.35      /* the view probability of a perfect title */
#define REACT_IRRELEVANT 0.02    /* match lost per shown title of negative log appeal */
#define REACT_MATCH_W 0.1        /* as MATCH_W of the daily life: a view is a watch */

typedef struct react_slot {
    int16_t day[CL_SYNTH_REC_MAX]; /* view day of each shown title, -1 never */
    int32_t tid[CL_SYNTH_REC_MAX];
    int8_t n;
} react_slot;

struct cl_synth_stream {
    const cl_synth_world *w;
    synth_state *st; /* per customer; alive = 0 for customers not active at the snapshot */
    int day;
    int react, window;
    react_slot *rs;  /* per customer, the pending views of its last impression */
};

static double rs_sigmoid(double x) { return 1.0 / (1.0 + exp(-x)); }

double cl_synth_stream_rec_view_prob(const cl_synth_world *w, int id, int tid)
{
    double a = cl_synth_world_appeal(w, id, tid);
    if (!(a > 0))
        return NAN;
    double la = log(a), q = w->t_quality[tid - 1];
    /* relevance is genre match (log appeal, from the hidden tastes) and quality together */
    return REACT_VIEW_MAX * rs_sigmoid(-2.0 + 2.5 * la + 4.0 * (q - 0.6));
}

int cl_synth_stream_react(cl_synth_stream *s, int on, int window)
{
    if (window < 1 || window > 90)
        return cl_error(CL_EINVAL, "synth: stream: reaction window must be in 1..90 days, got %d",
                        window);
    if (on && !s->rs && !(s->rs = cl_alloc_calloc((size_t)s->w->N, sizeof(react_slot))))
        return CL_ENOMEM;
    s->react = on != 0;
    s->window = window;
    return CL_OK;
}

int cl_synth_stream_show(cl_synth_stream *s, int id, const int32_t *titles, int n)
{
    const cl_synth_world *w = s->w;
    if (id < 1 || id > w->N)
        return cl_error(CL_ERANGE, "synth: stream: show: customer id %d out of range 1..%d", id,
                        w->N);
    if (n < 0 || n > CL_SYNTH_REC_MAX)
        return cl_error(CL_EINVAL, "synth: stream: show: %d titles, expected 0..%d", n,
                        CL_SYNTH_REC_MAX);
    for (int k = 0; k < n; k++)
        if (titles[k] < 1 || titles[k] > w->T)
            return cl_error(CL_ERANGE, "synth: stream: show: title id %d out of range 1..%d",
                            (int)titles[k], w->T);
    synth_state *st = &s->st[id - 1];
    if (!s->react || !st->alive)
        return CL_OK;
    /* shown after the events of day s->day - 1: views fall on the next `window` days */
    int d0 = s->day - 1;
    cl_rng r;
    cl_rng_split(&r, w->p.seed ^ REACT_SALT, (uint64_t)id * CL_SYNTH_MAX_DAYS + (uint64_t)d0);
    react_slot *rs = &s->rs[id - 1];
    rs->n = (int8_t)n;
    double match = st->match;
    for (int k = 0; k < n; k++) {
        double u = cl_rng_uniform(&r);
        int dv = d0 + 1 + (int)cl_rng_below(&r, (uint64_t)s->window);
        rs->tid[k] = titles[k];
        rs->day[k] = (int16_t)(u < cl_synth_stream_rec_view_prob(w, id, titles[k]) ? dv : -1);
        double la = log(cl_synth_world_appeal(w, id, titles[k]));
        if (la < 0) /* an irrelevant recommendation slightly tires */
            match -= REACT_IRRELEVANT;
    }
    st->match = (float)match;
    return CL_OK;
}

double cl_synth_stream_expected_views(const cl_synth_stream *s, int id, const int32_t *titles,
                                      int n)
{
    const cl_synth_world *w = s->w;
    if (id < 1 || id > w->N || !s->st[id - 1].alive)
        return id >= 1 && id <= w->N ? 0 : NAN;
    double e = 0;
    for (int k = 0; k < n; k++)
        e += cl_synth_stream_rec_view_prob(w, id, titles[k]);
    /* a view on the j-th day after the impression needs the customer alive through day j:
     * average the survival (1 - h)^j over the window's days, h the hazard of the next day */
    synth_state st = s->st[id - 1];
    cl_synth_world_true_day_start(w, id - 1, &st, s->day);
    double q = exp(-exp(cl_synth_world_eta(w, id - 1, &st, s->day))), surv = 0, qj = 1;
    int win = s->window > 0 ? s->window : 7;
    for (int j = 1; j <= win; j++) {
        qj *= q;
        surv += qj;
    }
    return e * surv / win;
}

/* Emits customer ci's views from the recommendation row due on day d (after its day). */
static void react_day(cl_synth_stream *s, int ci, int d, synth_emit *em)
{
    react_slot *rs = &s->rs[ci];
    synth_state *st = &s->st[ci];
    const cl_synth_world *w = s->w;
    for (int k = 0; k < rs->n; k++) {
        if (rs->day[k] != d)
            continue;
        int tid = rs->tid[k];
        double la = log(cl_synth_world_appeal(w, ci + 1, tid));
        double comp = 0.05 + 0.95 * rs_sigmoid(0.6 + 1.2 * la + 3.0 * (w->t_quality[tid - 1] - 0.6));
        st->match = (float)((1 - REACT_MATCH_W) * st->match + REACT_MATCH_W * la);
        synth_buf *b = &em->events;
        cl_synth_buf_reserve(b, 96);
        cl_synth_buf_int(b, ci + 1);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, d);
        cl_synth_buf_str(b, ",watch,");
        cl_synth_buf_int(b, tid);
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_int(b, (long long)(w->t_runtime[tid - 1] * comp + 0.5));
        cl_synth_buf_ch(b, ',');
        cl_synth_buf_fixed(b, comp, 3);
        cl_synth_buf_str(b, ",tv,rec\n");
        em->st.watches++;
        em->st.events++;
        rs->day[k] = -1;
    }
}

int cl_synth_stream_new(cl_synth_stream **out, const cl_synth_world *w)
{
    *out = NULL;
    cl_synth_stream *s = cl_alloc_calloc(1, sizeof *s);
    if (!s || !(s->st = cl_alloc_calloc((size_t)w->N, sizeof(synth_state)))) {
        cl_alloc_free(s);
        return CL_ENOMEM;
    }
    s->w = w;
    s->day = w->p.days;
    for (int ci = 0; ci < w->N; ci++) {
        s->st[ci] = w->cust[ci].snap;
        /* as cl_synth_replay with no action (cl_synth_world_apply_action(NULL) changes nothing) */
        s->st[ci].alive = w->cust[ci].label >= 0;
    }
    *out = s;
    return CL_OK;
}

void cl_synth_stream_free(cl_synth_stream *s)
{
    if (!s)
        return;
    cl_alloc_free(s->st);
    cl_alloc_free(s->rs);
    cl_alloc_free(s);
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
    cl_synth_buf_str(&em.events, "user_id,day,event,title_id,minutes,completion,device,detail\n");
    cl_synth_buf_str(&em.ratings, "user_id,title_id,day,rating\n");
    const int d = s->day;
    for (int ci = 0; ci < s->w->N; ci++)
        if (s->st[ci].alive) {
            if (cl_synth_world_sim_day(s->w, ci, &s->st[ci], d, &em, NULL))
                s->st[ci].alive = 0;
            else if (s->react)
                react_day(s, ci, d, &em);
        }
    cl_synth_buf_ch(&em.events, '\0');
    cl_synth_buf_ch(&em.ratings, '\0');
    if (em.events.err || em.ratings.err) {
        cl_synth_buf_free(&em.events);
        cl_synth_buf_free(&em.ratings);
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
