/* synth.c - the generator driver of the simulated streaming service: validates parameters,
 * simulates customers in blocks and writes the files. The world's rules (parameters, hazard,
 * catalog, customers, daily life) live in synth_world.c, replays in synth_replay.c, files in
 * synth_write.c. */
#include "synth/synth.h"
#include "synth/synth_impl.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"
#include "base/rng.h"
#include "base/threads.h"
#include "eval/metrics.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define BLOCK 256    /* customers per block of work (fixed: output never depends on threads) */
#define CHUNK 32     /* blocks simulated between two writes */

/* ---- the generator ------------------------------------------------------------------------ */

static void stats_add(cl_synth_stats *a, const cl_synth_stats *b)
{
    a->alive_days += b->alive_days;
    a->sessions += b->sessions;
    a->expected_sessions += b->expected_sessions;
    a->watches += b->watches;
    a->ratings += b->ratings;
    a->tickets += b->tickets;
    a->bills += b->bills;
    a->payment_failures += b->payment_failures;
    a->plan_changes += b->plan_changes;
    a->price_changes += b->price_changes;
    a->events += b->events;
}

/* Simulates customers of block b: traits, observation window (events into em), the past
 * campaign, the snapshot and the label window. */
static void sim_block(cl_synth_world *w, int b, synth_emit *em)
{
    const cl_synth_params *P = &w->p;
    int lo = b * BLOCK, hi = lo + BLOCK < w->N ? lo + BLOCK : w->N;
    for (int ci = lo; ci < hi; ci++) {
        synth_cust *c = &w->cust[ci];
        synth_state st;
        cl_synth_world_make_customer(w, ci, &st);
        int start = c->signup_day > 0 ? c->signup_day : 0;
        int churn = -1;
        for (int d = start; d < P->days; d++) {
            if (d == P->campaign_day && c->campaign >= 0) {
                if (c->campaign == 1) {
                    cl_synth_action a = {CL_SYNTH_DISCOUNT, P->campaign_discount,
                                         P->campaign_months, NULL, 0};
                    cl_synth_world_apply_action(w, ci, &st, &a, d);
                }
            }
            if (cl_synth_world_sim_day(w, ci, &st, d, em, NULL)) {
                churn = d;
                break;
            }
        }
        /* enrolment needs the customer active on the campaign day */
        if (c->campaign >= 0 && (P->campaign_day < start || (churn >= 0 && churn < P->campaign_day)))
            c->campaign = -1;
        c->snap = st;
        if (churn < 0) {
            double rev = 0;
            churn = cl_synth_world_run_window(w, ci, &st, P->days, P->label_days, &rev);
            c->label = (int8_t)(churn >= 0);
            c->revenue_obs = (float)rev;
            em->st.active_at_snapshot++;
            em->st.label_churners += churn >= 0;
        } else {
            em->st.churned_in_window++;
        }
        c->churn_day = (int16_t)churn;
        em->st.plan_count[(int)c->plan0]++;
        if (c->campaign >= 0) {
            int end = P->campaign_day + P->campaign_outcome_days;
            c->campaign_churn = (int8_t)(churn >= 0 && churn < end);
            if (c->campaign == 1) {
                em->st.campaign_treated++;
                em->st.campaign_treated_churn += c->campaign_churn;
            } else {
                em->st.campaign_control++;
                em->st.campaign_control_churn += c->campaign_churn;
            }
        }
    }
}

static int check_params(const cl_synth_params *P)
{
    int rc = cl_param_validate(cl_synth_world_param_defs, P, "synth");
    if (rc)
        return rc;
    if (P->basic_share + P->premium_share > 1.0)
        return cl_error(CL_EINVAL, "synth: basic_share + premium_share must be <= 1, got %g",
                        P->basic_share + P->premium_share);
    if (P->price_rise_day >= P->days)
        return cl_error(CL_EINVAL, "synth: price_rise_day (%d) must be before days (%d)",
                        P->price_rise_day, P->days);
    if (P->campaign_day >= P->days)
        return cl_error(CL_EINVAL, "synth: campaign_day (%d) must be before days (%d)",
                        P->campaign_day, P->days);
    if (P->campaign_day >= 0 && P->campaign_day + P->campaign_outcome_days > P->days + P->label_days)
        return cl_error(CL_EINVAL,
                        "synth: campaign_day + campaign_outcome_days (%d) must not pass the end "
                        "of the label window (day %d)",
                        P->campaign_day + P->campaign_outcome_days, P->days + P->label_days);
    if (P->days + P->label_days > CL_SYNTH_MAX_DAYS)
        return cl_error(CL_EINVAL, "synth: days + label_days must be <= %d", CL_SYNTH_MAX_DAYS);
    return CL_OK;
}

static int open_stream(cl_atomic_file *f, const char *dir, const char *name, const char *header)
{
    char path[4096];
    int rc = cl_synth_write_path(path, sizeof path, dir, name);
    if (rc)
        return rc;
    rc = cl_fileio_atomic_open(f, path);
    if (rc)
        return rc;
    if (fputs(header, f->fp) == EOF) {
        cl_fileio_atomic_abort(f);
        return cl_error(CL_EIO, "synth: cannot write '%s'", path);
    }
    return CL_OK;
}

static int write_buf(cl_atomic_file *f, synth_buf *b)
{
    if (b->n && fwrite(b->p, 1, b->n, f->fp) != b->n)
        return cl_error(CL_EIO, "synth: write failed for '%s'", f->path);
    b->n = 0;
    return CL_OK;
}

/* ROC AUC of the true risk for the observed labels (Mann-Whitney, ties get average ranks). */
static int oracle_auc(const cl_synth_world *w, double *auc)
{
    *auc = NAN;
    double *risk = cl_alloc_calloc((size_t)w->N, sizeof *risk);
    float *label = cl_alloc_calloc((size_t)w->N, sizeof *label);
    int rc = !risk || !label ? CL_ENOMEM : cl_synth_replay_true_risk(w, NULL, w->p.label_days, risk);
    if (rc == CL_OK) {
        int64_t n = 0;
        for (int i = 0; i < w->N; i++)
            if (w->cust[i].label >= 0) { /* customers without a label are left out */
                risk[n] = risk[i];
                label[n] = (float)w->cust[i].label;
                n++;
            }
        rc = cl_metrics_auc(auc, risk, label, n);
    }
    cl_alloc_free(risk);
    cl_alloc_free(label);
    return rc;
}

int cl_synth_new(cl_synth_world **out, const cl_synth_params *params, const char *out_dir,
                 const cl_progress *prog)
{
    *out = NULL;
    int rc = check_params(params);
    if (rc)
        return rc;
    cl_synth_world *w = cl_alloc_calloc(1, sizeof *w);
    if (!w)
        return CL_ENOMEM;
    w->p = *params;
    w->G = params->genres;
    w->T = params->titles;
    w->N = params->customers;
    for (int k = 0; k < NCOEF; k++)
        w->coef[k] = cl_synth_world_coefs()[k].value;
    synth_emit *em = NULL;
    int nem = 0;
    cl_atomic_file fev = {0}, frt = {0};
    int open_ev = 0, open_rt = 0;

    rc = cl_synth_world_make_catalog(w);
    if (rc)
        goto fail;
    w->cust = cl_alloc_calloc((size_t)w->N, sizeof *w->cust);
    w->taste = cl_alloc_calloc((size_t)w->N * (size_t)w->G, sizeof *w->taste);
    if (!w->cust || !w->taste) {
        rc = CL_ENOMEM;
        goto fail;
    }
    if (out_dir) {
        if ((rc = cl_synth_write_mkdir_p(out_dir)))
            goto fail;
        if ((rc = open_stream(&fev, out_dir, "events.csv",
                              "user_id,day,event,title_id,minutes,completion,device,detail\n")))
            goto fail;
        open_ev = 1;
        if ((rc = open_stream(&frt, out_dir, "ratings.csv", "user_id,title_id,day,rating\n")))
            goto fail;
        open_rt = 1;
    }
    int nblocks = (w->N + BLOCK - 1) / BLOCK;
    nem = nblocks < CHUNK ? nblocks : CHUNK;
    em = cl_alloc_calloc((size_t)nem, sizeof *em);
    if (!em) {
        rc = CL_ENOMEM;
        goto fail;
    }
    int nt = cl_threads_get();
    for (int b0 = 0; b0 < nblocks; b0 += CHUNK) {
        int nb = nblocks - b0 < CHUNK ? nblocks - b0 : CHUNK;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nt)
        for (int k = 0; k < nb; k++) {
            memset(&em[k].st, 0, sizeof em[k].st);
            sim_block(w, b0 + k, &em[k]);
        }
        for (int k = 0; k < nb; k++) { /* in block order: output never depends on threads */
            if (em[k].events.err || em[k].ratings.err) {
                rc = cl_error(CL_ENOMEM, "synth: out of memory buffering events");
                goto fail;
            }
            if (out_dir) {
                if ((rc = write_buf(&fev, &em[k].events)) || (rc = write_buf(&frt, &em[k].ratings)))
                    goto fail;
            }
            em[k].events.n = em[k].ratings.n = 0;
            cl_synth_stats *S = &w->stats;
            stats_add(S, &em[k].st);
            S->churned_in_window += em[k].st.churned_in_window;
            S->active_at_snapshot += em[k].st.active_at_snapshot;
            S->label_churners += em[k].st.label_churners;
            for (int pl = 0; pl < NPLANS; pl++)
                S->plan_count[pl] += em[k].st.plan_count[pl];
            S->campaign_treated += em[k].st.campaign_treated;
            S->campaign_control += em[k].st.campaign_control;
            S->campaign_treated_churn += em[k].st.campaign_treated_churn;
            S->campaign_control_churn += em[k].st.campaign_control_churn;
        }
        int done = (b0 + nb) * BLOCK < w->N ? (b0 + nb) * BLOCK : w->N;
        if ((rc = cl_progress_step(prog, "synth", done, w->N, NULL)))
            goto fail;
    }
    for (int k = 0; k < nem; k++) {
        cl_synth_buf_free(&em[k].events);
        cl_synth_buf_free(&em[k].ratings);
    }
    cl_alloc_free(em);
    em = NULL;
    if ((rc = oracle_auc(w, &w->stats.oracle_auc)))
        goto fail;
    if (out_dir) {
        open_ev = 0;
        if ((rc = cl_fileio_atomic_commit(&fev)))
            goto fail;
        open_rt = 0;
        if ((rc = cl_fileio_atomic_commit(&frt)))
            goto fail;
        if ((rc = cl_synth_write_titles(w, out_dir)) || (rc = cl_synth_write_users(w, out_dir)) ||
            (rc = cl_synth_write_campaign(w, out_dir)) || (rc = cl_synth_write_emails(w, out_dir)) ||
            (rc = cl_synth_write_truth(w, out_dir)) ||
            (rc = cl_synth_write_readme(w, out_dir)))
            goto fail;
    }
    *out = w;
    return CL_OK;

fail:
    if (open_ev)
        cl_fileio_atomic_abort(&fev);
    if (open_rt)
        cl_fileio_atomic_abort(&frt);
    if (em) {
        for (int k = 0; k < nem; k++) {
            cl_synth_buf_free(&em[k].events);
            cl_synth_buf_free(&em[k].ratings);
        }
        cl_alloc_free(em);
    }
    cl_synth_free(w);
    return rc;
}

void cl_synth_free(cl_synth_world *w)
{
    if (!w)
        return;
    cl_alloc_free(w->t_series);
    cl_alloc_free(w->t_genres);
    cl_alloc_free(w->t_year);
    cl_alloc_free(w->t_runtime);
    cl_alloc_free(w->t_episodes);
    cl_alloc_free(w->t_pop);
    cl_alloc_free(w->t_quality);
    cl_alloc_free(w->g_off);
    cl_alloc_free(w->g_tid);
    cl_alloc_free(w->g_cum);
    cl_alloc_free(w->all_cum);
    cl_alloc_free(w->cust);
    cl_alloc_free(w->taste);
    cl_alloc_free(w);
}

/* ---- accessors ---------------------------------------------------------------------------- */

const cl_synth_params *cl_synth_get_params(const cl_synth_world *w) { return &w->p; }
const cl_synth_stats *cl_synth_get_stats(const cl_synth_world *w) { return &w->stats; }
int cl_synth_customers(const cl_synth_world *w) { return w->N; }
int cl_synth_titles(const cl_synth_world *w) { return w->T; }

int cl_synth_active(const cl_synth_world *w, int id)
{
    if (id < 1 || id > w->N)
        return cl_error(CL_ERANGE, "synth: customer id %d out of range 1..%d", id, w->N);
    return w->cust[id - 1].label >= 0;
}

int cl_synth_label(const cl_synth_world *w, int id)
{
    if (id < 1 || id > w->N)
        return cl_error(CL_ERANGE, "synth: customer id %d out of range 1..%d", id, w->N);
    return w->cust[id - 1].label;
}

int cl_synth_churn_day(const cl_synth_world *w, int id)
{
    if (id < 1 || id > w->N)
        return cl_error(CL_ERANGE, "synth: customer id %d out of range 1..%d", id, w->N);
    return w->cust[id - 1].churn_day;
}

const float *cl_synth_tastes(const cl_synth_world *w, int id)
{
    if (id < 1 || id > w->N) {
        cl_error(CL_ERANGE, "synth: customer id %d out of range 1..%d", id, w->N);
        return NULL;
    }
    return w->taste + (size_t)(id - 1) * w->G;
}

uint32_t cl_synth_title_genres(const cl_synth_world *w, int tid)
{
    return tid >= 1 && tid <= w->T ? w->t_genres[tid - 1] : 0;
}
