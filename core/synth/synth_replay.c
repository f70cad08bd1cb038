/* synth_replay.c - counterfactual replays from the snapshot and the true risk (oracle). */
#include "synth/synth.h"
#include "synth/synth_impl.h"

#include "base/error.h"
#include "base/rng.h"
#include "base/threads.h"

#include <math.h>

#define REPLAY_BLOCK 1024

static int check_all(const cl_synth_world *w, const cl_synth_action *actions, int horizon)
{
    int maxh = CL_SYNTH_MAX_DAYS - w->p.days;
    if (horizon < 1 || horizon > maxh)
        return cl_error(CL_EINVAL, "synth: replay horizon must be in 1..%d days, got %d", maxh,
                        horizon);
    if (actions)
        for (int ci = 0; ci < w->N; ci++) {
            int rc = cl_synth_world_check_action(w, ci, &actions[ci]);
            if (rc)
                return rc;
        }
    return CL_OK;
}

int cl_synth_replay(const cl_synth_world *w, const cl_synth_action *actions, int horizon,
                    cl_synth_outcome *out, const cl_progress *p)
{
    return cl_synth_replay_luck(w, actions, horizon, 0, out, p);
}

int cl_synth_replay_luck(const cl_synth_world *w, const cl_synth_action *actions, int horizon,
                         uint64_t luck, cl_synth_outcome *out, const cl_progress *p)
{
    int rc = check_all(w, actions, horizon);
    if (rc)
        return rc;
    /* Another luck is the same world with another seed for the days after the snapshot: every
     * random draw of a replayed day comes from the customer-day's stream of w->p.seed, and the
     * snapshot states (and everything before them) are stored, not redrawn. A shallow copy
     * with the seed changed leaves the caller's world untouched (it is const and shared). */
    cl_synth_world lw = *w;
    if (luck)
        lw.p.seed = w->p.seed ^ cl_rng_hash(0x6c75636b00000000ull + luck); /* "luck" */
    w = &lw;
    int nt = cl_threads_get(), D = w->p.days;
    for (int lo = 0; lo < w->N; lo += 64 * REPLAY_BLOCK) {
        int hi = lo + 64 * REPLAY_BLOCK < w->N ? lo + 64 * REPLAY_BLOCK : w->N;
#pragma omp parallel for schedule(dynamic, REPLAY_BLOCK) num_threads(nt)
        for (int ci = lo; ci < hi; ci++) {
            const synth_cust *c = &w->cust[ci];
            cl_synth_outcome o = {0, -1, 0.0};
            if (c->label >= 0) {
                synth_state st = c->snap;
                cl_synth_world_apply_action(w, ci, &st, actions ? &actions[ci] : NULL, D);
                o.churn_day = cl_synth_world_run_window(w, ci, &st, D, horizon, &o.revenue);
                o.retained = o.churn_day < 0;
            }
            out[ci] = o;
        }
        if ((rc = cl_progress_step(p, "replay", hi, w->N, NULL)))
            return rc;
    }
    return CL_OK;
}

int cl_synth_replay_true_risk(const cl_synth_world *w, const cl_synth_action *actions, int horizon,
                       double *out)
{
    int rc = check_all(w, actions, horizon);
    if (rc)
        return rc;
    int nt = cl_threads_get(), D = w->p.days;
    const float decay = (float)0.97715996843424655; /* the 30-day half-life of cl_synth_world_sim_day */
#pragma omp parallel for schedule(static, REPLAY_BLOCK) num_threads(nt)
    for (int ci = 0; ci < w->N; ci++) {
        const synth_cust *c = &w->cust[ci];
        if (c->label < 0) {
            out[ci] = 0;
            continue;
        }
        synth_state st = c->snap;
        cl_synth_world_apply_action(w, ci, &st, actions ? &actions[ci] : NULL, D);
        double cumhaz = 0; /* -log P(survive) = sum of exp(eta) */
        for (int d = D; d < D + horizon; d++) {
            cl_synth_world_true_day_start(w, ci, &st, d);
            cumhaz += exp(cl_synth_world_eta(w, ci, &st, d));
            st.pf *= decay;
            st.tk *= decay;
        }
        out[ci] = -expm1(-cumhaz);
    }
    return CL_OK;
}

/* -log P(survive days [day0, day0 + n)) from st along the expected path (no new events). */
static double expected_cumhaz(const cl_synth_world *w, int ci, synth_state st, int day0, int n)
{
    const float decay = (float)0.97715996843424655; /* the 30-day half-life of cl_synth_world_sim_day */
    double cumhaz = 0;
    for (int d = day0; d < day0 + n; d++) {
        cl_synth_world_true_day_start(w, ci, &st, d);
        cumhaz += exp(cl_synth_world_eta(w, ci, &st, d));
        st.pf *= decay;
        st.tk *= decay;
    }
    return cumhaz;
}

int cl_synth_replay_campaign_truth(const cl_synth_world *w, double *p_control, double *p_treated)
{
    const cl_synth_params *P = &w->p;
    int nt = cl_threads_get(), D = P->campaign_day, H = P->campaign_outcome_days;
#pragma omp parallel for schedule(static, REPLAY_BLOCK) num_threads(nt)
    for (int ci = 0; ci < w->N; ci++) {
        const synth_cust *c = &w->cust[ci];
        p_control[ci] = p_treated[ci] = NAN;
        if (c->campaign < 0 || D < 0)
            continue;
        /* the customer's life up to the campaign day, with the same random numbers */
        synth_state st;
        cl_synth_world_initial_state(w, ci, &st);
        int alive = 1;
        for (int d = c->signup_day > 0 ? c->signup_day : 0; d < D && alive; d++)
            alive = !cl_synth_world_sim_day(w, ci, &st, d, NULL, NULL);
        if (!alive)
            continue; /* cannot happen: enrolment needs the customer active on the day */
        synth_state s1 = st;
        cl_synth_action a = {CL_SYNTH_DISCOUNT, P->campaign_discount, P->campaign_months, NULL, 0};
        cl_synth_world_apply_action(w, ci, &s1, &a, D);
        p_control[ci] = -expm1(-expected_cumhaz(w, ci, st, D, H));
        p_treated[ci] = -expm1(-expected_cumhaz(w, ci, s1, D, H));
    }
    return CL_OK;
}
