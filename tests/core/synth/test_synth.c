/* test_synth.c - the simulated streaming service: determinism (seeds, threads, files), rates
 * against the documented parameters, exact replays, effects of actions, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"
#include "synth/synth.h"
#include "synth/synth_impl.h" /* hidden traits and snapshot state, for the heterogeneity tests */
#include "base/threads.h"

static const char *const FILES[] = {"titles.csv", "users.csv",   "events.csv", "ratings.csv",
                                    "campaign.csv", "emails.csv", "truth.csv", "README.md",
                                    NULL};

static cl_synth_params small(int customers, uint64_t seed)
{
    cl_synth_params p;
    cl_synth_world_params_default(&p);
    p.customers = customers;
    p.titles = 400;
    p.seed = seed;
    return p;
}

static void tmpdir(char *buf, size_t cap, const char *tag)
{
    snprintf(buf, cap, "/tmp/churnlab_test_synth_%ld_%s", (long)getpid(), tag);
}

static void rmdir_files(const char *dir)
{
    char path[512];
    for (int i = 0; FILES[i]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, FILES[i]);
        remove(path);
    }
    rmdir(dir);
}

static char *slurp(const char *dir, const char *name, size_t *len)
{
    char path[512], *buf = NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    int rc = cl_fileio_read(path, (size_t)1 << 31, &buf, len);
    assert_int_equal(rc, CL_OK);
    return buf;
}

/* ---- determinism ---------------------------------------------------------------------- */

static void test_files_identical_across_runs_and_threads(void **state)
{
    (void)state;
    char d1[256], d2[256], d3[256];
    tmpdir(d1, sizeof d1, "a");
    tmpdir(d2, sizeof d2, "b");
    tmpdir(d3, sizeof d3, "c");
    cl_synth_params p = small(3000, 7);
    cl_synth_world *w1, *w2, *w3;
    cl_threads_set(1);
    assert_int_equal(cl_synth_new(&w1, &p, d1, NULL), CL_OK);
    cl_threads_set(2);
    assert_int_equal(cl_synth_new(&w2, &p, d2, NULL), CL_OK);
    p.seed = 8;
    assert_int_equal(cl_synth_new(&w3, &p, d3, NULL), CL_OK);
    cl_threads_set(0);
    for (int i = 0; FILES[i]; i++) {
        size_t n1, n2, n3;
        char *a = slurp(d1, FILES[i], &n1), *b = slurp(d2, FILES[i], &n2);
        char *c = slurp(d3, FILES[i], &n3);
        assert_true(n1 > 0);
        assert_int_equal(n1, n2);
        assert_memory_equal(a, b, n1);
        if (strcmp(FILES[i], "README.md") != 0 && strcmp(FILES[i], "titles.csv") != 0)
            assert_true(n1 != n3 || memcmp(a, c, n1) != 0); /* another seed, another world */
        cl_alloc_free(a);
        cl_alloc_free(b);
        cl_alloc_free(c);
    }
    /* the world in memory equals the one written */
    for (int id = 1; id <= 3000; id++)
        assert_int_equal(cl_synth_label(w1, id), cl_synth_label(w2, id));
    cl_synth_free(w1);
    cl_synth_free(w2);
    cl_synth_free(w3);
    rmdir_files(d1);
    rmdir_files(d2);
    rmdir_files(d3);
}

/* ---- rates match the documented parameters ---------------------------------------------- */

static cl_synth_world *big_world;

static int setup_big(void **state)
{
    (void)state;
    cl_synth_params p = small(20000, 42);
    p.titles = 2000;
    return cl_synth_new(&big_world, &p, NULL, NULL);
}

static int teardown_big(void **state)
{
    (void)state;
    cl_synth_free(big_world);
    big_world = NULL;
    return 0;
}

static void test_plan_mix(void **state)
{
    (void)state;
    const cl_synth_stats *s = cl_synth_get_stats(big_world);
    const cl_synth_params *p = cl_synth_get_params(big_world);
    double n = p->customers;
    /* binomial sd at n = 20000 is <= 0.0036: 4 sd */
    assert_true(fabs(s->plan_count[0] / n - p->basic_share) < 0.015);
    assert_true(fabs(s->plan_count[2] / n - p->premium_share) < 0.015);
    assert_int_equal(s->plan_count[0] + s->plan_count[1] + s->plan_count[2], p->customers);
}

static void test_sessions_follow_latent_rates(void **state)
{
    (void)state;
    const cl_synth_stats *s = cl_synth_get_stats(big_world);
    /* Poisson(lambda) sessions: the total is within a few sd of the summed rates */
    double e = s->expected_sessions;
    assert_true(e > 1e5);
    assert_true(fabs((double)s->sessions - e) < 4.0 * sqrt(e));
    /* mean sessions per active day near the median engagement 0.45 x lognormal mean */
    double per_day = (double)s->sessions / (double)s->alive_days;
    assert_true(per_day > 0.35 && per_day < 0.75);
    /* titles per session 1 + Poisson(0.35) */
    double tps = (double)s->watches / (double)s->sessions;
    assert_true(fabs(tps - 1.35) < 0.02);
    /* 7% of watches rated */
    assert_true(fabs((double)s->ratings / (double)s->watches - 0.07) < 0.003);
}

static void test_payment_failures_in_documented_band(void **state)
{
    (void)state;
    const cl_synth_stats *s = cl_synth_get_stats(big_world);
    double r = (double)s->payment_failures / (double)s->bills;
    /* a mix of card 2.0%, debit 3.5%, paypal 1.2%, gift card 6.0% */
    assert_true(r > 0.012 && r < 0.06);
}

static void test_churn_rate_matches_true_risk(void **state)
{
    (void)state;
    const cl_synth_params *p = cl_synth_get_params(big_world);
    double *risk = malloc(sizeof(double) * (size_t)p->customers);
    assert_non_null(risk);
    assert_int_equal(cl_synth_replay_true_risk(big_world, NULL, p->label_days, risk), CL_OK);
    double sr = 0;
    long act = 0, churn = 0;
    for (int id = 1; id <= p->customers; id++) {
        int l = cl_synth_label(big_world, id);
        if (l < 0) {
            assert_true(risk[id - 1] == 0);
            continue;
        }
        assert_true(risk[id - 1] > 0 && risk[id - 1] <= 1); /* 1.0 when the hazard is huge */
        act++;
        churn += l;
        sr += risk[id - 1];
    }
    double rate = (double)churn / act, mean = sr / act;
    /* the label rate sits in the documented band, and the oracle is calibrated: mean true
     * risk within 4 binomial sd of the observed rate */
    assert_true(rate > 0.04 && rate < 0.16);
    assert_true(fabs(rate - mean) < 4.0 * sqrt(mean * (1 - mean) / act) + 0.003);
    /* the oracle ranks: churners have a higher mean risk than stayers */
    double rc = 0, rs = 0;
    for (int id = 1; id <= p->customers; id++) {
        int l = cl_synth_label(big_world, id);
        if (l == 1)
            rc += risk[id - 1];
        else if (l == 0)
            rs += risk[id - 1];
    }
    assert_true(rc / churn > 1.5 * rs / (act - churn));
    free(risk);
}

static void test_campaign_randomised(void **state)
{
    (void)state;
    const cl_synth_stats *s = cl_synth_get_stats(big_world);
    long long n = s->campaign_treated + s->campaign_control;
    assert_true(n > 1000);
    assert_true(fabs((double)s->campaign_treated / n - 0.5) < 0.05);
    /* the discount works on average */
    assert_true((double)s->campaign_treated_churn / s->campaign_treated <
                (double)s->campaign_control_churn / s->campaign_control);
}

static void test_tastes_are_distributions(void **state)
{
    (void)state;
    int G = cl_synth_get_params(big_world)->genres;
    for (int id = 1; id <= 100; id++) {
        const float *t = cl_synth_tastes(big_world, id);
        assert_non_null(t);
        double s = 0;
        for (int g = 0; g < G; g++) {
            assert_true(t[g] > 0);
            s += t[g];
        }
        assert_true(fabs(s - 1) < 1e-5);
    }
    assert_null(cl_synth_tastes(big_world, 0));
    assert_null(cl_synth_tastes(big_world, 20001));
    assert_true(isnan(cl_synth_world_appeal(big_world, 1, 0)));
}

/* ---- replays ------------------------------------------------------------------------------ */

static void test_replay_none_reproduces_labels(void **state)
{
    (void)state;
    const cl_synth_params *p = cl_synth_get_params(big_world);
    int N = p->customers;
    cl_synth_outcome *o = malloc(sizeof *o * (size_t)N);
    cl_synth_action *none = calloc((size_t)N, sizeof *none);
    for (int pass = 0; pass < 2; pass++) {
        cl_threads_set(pass + 1);
        assert_int_equal(cl_synth_replay(big_world, pass ? none : NULL, p->label_days, o, NULL),
                         CL_OK);
        for (int id = 1; id <= N; id++) {
            int l = cl_synth_label(big_world, id);
            if (l < 0) {
                assert_int_equal(o[id - 1].retained, 0);
                assert_true(o[id - 1].revenue == 0);
                continue;
            }
            assert_int_equal(o[id - 1].retained, 1 - l);
            assert_int_equal(o[id - 1].churn_day, l ? cl_synth_churn_day(big_world, id) : -1);
            assert_true(o[id - 1].revenue > 0 || o[id - 1].churn_day == p->days);
        }
    }
    cl_threads_set(0);
    free(o);
    free(none);
}

static void test_discount_for_everyone_lowers_churn(void **state)
{
    (void)state;
    const cl_synth_params *p = cl_synth_get_params(big_world);
    int N = p->customers;
    cl_synth_outcome *a = malloc(sizeof *a * (size_t)N), *b = malloc(sizeof *b * (size_t)N);
    cl_synth_action *acts = calloc((size_t)N, sizeof *acts);
    for (int i = 0; i < N; i++) {
        acts[i].kind = CL_SYNTH_DISCOUNT;
        acts[i].discount = 30;
        acts[i].months = 2;
    }
    assert_int_equal(cl_synth_replay(big_world, NULL, p->label_days, a, NULL), CL_OK);
    assert_int_equal(cl_synth_replay(big_world, acts, p->label_days, b, NULL), CL_OK);
    long ca = 0, cb = 0;
    for (int i = 0; i < N; i++) {
        if (cl_synth_label(big_world, i + 1) < 0)
            continue;
        ca += !a[i].retained;
        cb += !b[i].retained;
        /* same random numbers, a lower hazard every day: nobody retained without the
         * discount churns with it */
        if (a[i].retained)
            assert_int_equal(b[i].retained, 1);
    }
    assert_true(cb < ca);
    assert_true(cb < 0.9 * ca);
    free(a);
    free(b);
    free(acts);
}

static void test_content_matching_taste_beats_mismatch(void **state)
{
    (void)state;
    const cl_synth_params *p = cl_synth_get_params(big_world);
    int N = p->customers, T = p->titles;
    cl_synth_action *good = calloc((size_t)N, sizeof *good), *bad = calloc((size_t)N, sizeof *bad);
    int32_t *gt = calloc((size_t)N, sizeof *gt), *bt = calloc((size_t)N, sizeof *bt);
    for (int i = 0; i < N; i++) {
        double hi = -1, lo = 1e9;
        for (int t = 1; t <= T; t++) {
            double a = cl_synth_world_appeal(big_world, i + 1, t);
            if (a > hi) {
                hi = a;
                gt[i] = t;
            }
            if (a < lo) {
                lo = a;
                bt[i] = t;
            }
        }
        good[i] = (cl_synth_action){CL_SYNTH_CONTENT, 0, 0, &gt[i], 1};
        bad[i] = (cl_synth_action){CL_SYNTH_CONTENT, 0, 0, &bt[i], 1};
    }
    double *r0 = malloc(sizeof(double) * (size_t)N), *rg = malloc(sizeof(double) * (size_t)N),
           *rb = malloc(sizeof(double) * (size_t)N);
    assert_int_equal(cl_synth_replay_true_risk(big_world, NULL, p->label_days, r0), CL_OK);
    assert_int_equal(cl_synth_replay_true_risk(big_world, good, p->label_days, rg), CL_OK);
    assert_int_equal(cl_synth_replay_true_risk(big_world, bad, p->label_days, rb), CL_OK);
    int n = 0, hurt = 0;
    for (int i = 0; i < N; i++) {
        if (cl_synth_label(big_world, i + 1) < 0)
            continue;
        n++;
        assert_true(rg[i] < r0[i]); /* the customer's favourite genres lower the hazard */
        hurt += rb[i] > r0[i];      /* a title they would abandon disappoints (synth README) */
    }
    assert_true(hurt > 0.9 * n);
    cl_synth_outcome *og = malloc(sizeof *og * (size_t)N), *ob = malloc(sizeof *ob * (size_t)N);
    assert_int_equal(cl_synth_replay(big_world, good, p->label_days, og, NULL), CL_OK);
    assert_int_equal(cl_synth_replay(big_world, bad, p->label_days, ob, NULL), CL_OK);
    long cg = 0, cbad = 0;
    for (int i = 0; i < N; i++) {
        if (cl_synth_label(big_world, i + 1) < 0)
            continue;
        cg += !og[i].retained;
        cbad += !ob[i].retained;
    }
    assert_true(cg < cbad);
    free(good);
    free(bad);
    free(gt);
    free(bt);
    free(r0);
    free(rg);
    free(rb);
    free(og);
    free(ob);
}

/* Who responds: a discount helps price-sensitive customers more; outreach helps customers with
 * open issues (recent tickets or payment failures) more. */
static void test_action_effects_are_heterogeneous(void **state)
{
    (void)state;
    const cl_synth_params *p = cl_synth_get_params(big_world);
    int N = p->customers;
    cl_synth_action *disc = calloc((size_t)N, sizeof *disc), *out = calloc((size_t)N, sizeof *out);
    for (int i = 0; i < N; i++) {
        disc[i] = (cl_synth_action){CL_SYNTH_DISCOUNT, 20, 1, NULL, 0};
        out[i] = (cl_synth_action){CL_SYNTH_OUTREACH, 0, 0, NULL, 0};
    }
    double *r0 = malloc(sizeof(double) * (size_t)N), *rd = malloc(sizeof(double) * (size_t)N),
           *ro = malloc(sizeof(double) * (size_t)N);
    assert_int_equal(cl_synth_replay_true_risk(big_world, NULL, p->label_days, r0), CL_OK);
    assert_int_equal(cl_synth_replay_true_risk(big_world, disc, p->label_days, rd), CL_OK);
    assert_int_equal(cl_synth_replay_true_risk(big_world, out, p->label_days, ro), CL_OK);
    double d_hi = 0, d_lo = 0, o_iss = 0, o_none = 0;
    long n_hi = 0, n_lo = 0, n_iss = 0, n_none = 0;
    for (int i = 0; i < N; i++) {
        const synth_cust *c = &big_world->cust[i];
        if (c->label < 0)
            continue;
        /* relative reduction of the risk */
        double ed = 1 - rd[i] / r0[i], eo = 1 - ro[i] / r0[i];
        assert_true(ed > 0 && eo > 0);
        if (c->sens > 0.5) { d_hi += ed; n_hi++; } else { d_lo += ed; n_lo++; }
        if (c->snap.tk + c->snap.pf > 0.3) { o_iss += eo; n_iss++; } else { o_none += eo; n_none++; }
    }
    assert_true(n_hi > 100 && n_lo > 100 && n_iss > 100 && n_none > 100);
    assert_true(d_hi / n_hi > 1.2 * (d_lo / n_lo));
    assert_true(o_iss / n_iss > 1.2 * (o_none / n_none));
    free(disc);
    free(out);
    free(r0);
    free(rd);
    free(ro);
}

static void test_longer_horizon_extends_label_window(void **state)
{
    (void)state;
    const cl_synth_params *p = cl_synth_get_params(big_world);
    int N = p->customers;
    cl_synth_outcome *o = malloc(sizeof *o * (size_t)N);
    assert_int_equal(cl_synth_replay(big_world, NULL, 90, o, NULL), CL_OK);
    long more = 0;
    for (int i = 0; i < N; i++) {
        int l = cl_synth_label(big_world, i + 1);
        if (l == 1)
            assert_int_equal(o[i].churn_day, cl_synth_churn_day(big_world, i + 1));
        else if (l == 0 && !o[i].retained) {
            assert_true(o[i].churn_day >= p->days + p->label_days);
            more++;
        }
    }
    assert_true(more > 0);
    free(o);
}

/* ---- errors ------------------------------------------------------------------------------- */

static void test_bad_params_and_actions(void **state)
{
    (void)state;
    cl_synth_world *w = NULL;
    cl_synth_params p = small(100, 1);
    p.basic_share = 0.7;
    p.premium_share = 0.5;
    assert_int_equal(cl_synth_new(&w, &p, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "basic_share + premium_share"));
    assert_null(w);
    p = small(100, 1);
    p.price_rise_day = 200;
    assert_int_equal(cl_synth_new(&w, &p, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "price_rise_day"));
    p = small(0, 1);
    assert_int_equal(cl_synth_new(&w, &p, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "customers"));

    p = small(50, 1);
    assert_int_equal(cl_synth_new(&w, &p, NULL, NULL), CL_OK);
    cl_synth_outcome o[50];
    cl_synth_action a[50];
    memset(a, 0, sizeof a);
    a[4] = (cl_synth_action){CL_SYNTH_DISCOUNT, 0, 1, NULL, 0};
    assert_int_equal(cl_synth_replay(w, a, 30, o, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "customer 5: discount"));
    a[4] = (cl_synth_action){CL_SYNTH_DISCOUNT, 10, 0, NULL, 0};
    assert_int_equal(cl_synth_replay(w, a, 30, o, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "months"));
    int32_t t[1] = {401};
    a[4] = (cl_synth_action){CL_SYNTH_CONTENT, 0, 0, t, 1};
    assert_int_equal(cl_synth_replay(w, a, 30, o, NULL), CL_ERANGE);
    assert_non_null(strstr(cl_error_last(), "title id 401 out of range 1..400"));
    a[4] = (cl_synth_action){CL_SYNTH_CONTENT, 0, 0, t, 0};
    assert_int_equal(cl_synth_replay(w, a, 30, o, NULL), CL_EINVAL);
    a[4] = (cl_synth_action){9, 0, 0, NULL, 0};
    assert_int_equal(cl_synth_replay(w, a, 30, o, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "unknown action"));
    assert_int_equal(cl_synth_replay(w, NULL, 0, o, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "horizon"));
    assert_int_equal(cl_synth_replay(w, NULL, CL_SYNTH_MAX_DAYS, o, NULL), CL_EINVAL);
    assert_int_equal(cl_synth_label(w, 51), CL_ERANGE);
    assert_non_null(strstr(cl_error_last(), "customer id 51"));
    cl_synth_free(w);
}

static void test_oracle_auc_matches_brute_force(void **state)
{
    (void)state;
    cl_synth_world *w = NULL;
    cl_synth_params p = small(3000, 5);
    assert_int_equal(cl_synth_new(&w, &p, NULL, NULL), CL_OK);
    double *risk = malloc(sizeof(double) * 3000);
    assert_int_equal(cl_synth_replay_true_risk(w, NULL, p.label_days, risk), CL_OK);
    /* every (churner, stayer) pair: 1 if ranked right, 1/2 on a tie */
    double good = 0, pairs = 0;
    for (int i = 1; i <= 3000; i++) {
        if (cl_synth_label(w, i) != 1)
            continue;
        for (int j = 1; j <= 3000; j++) {
            if (cl_synth_label(w, j) != 0)
                continue;
            pairs++;
            good += risk[i - 1] > risk[j - 1] ? 1.0 : risk[i - 1] == risk[j - 1] ? 0.5 : 0.0;
        }
    }
    double auc = cl_synth_get_stats(w)->oracle_auc;
    assert_true(pairs > 1000);
    assert_true(fabs(auc - good / pairs) < 1e-12);
    assert_true(auc > 0.6);
    free(risk);
    cl_synth_free(w);
}

static void test_unwritable_dir_leaves_nothing(void **state)
{
    (void)state;
    cl_synth_world *w = NULL;
    cl_synth_params p = small(100, 1);
    assert_int_equal(cl_synth_new(&w, &p, "/proc/churnlab_no/such", NULL), CL_EIO);
    assert_null(w);
    assert_non_null(strstr(cl_error_last(), "/proc/churnlab_no"));
}

static int stop_at_half(void *ud, const char *task, double done, double total, const char *d)
{
    (void)ud;
    (void)task;
    (void)d;
    return done >= total / 2;
}

static void test_interrupt_aborts_files(void **state)
{
    (void)state;
    char d[256];
    tmpdir(d, sizeof d, "intr");
    cl_synth_world *w = NULL;
    cl_synth_params p = small(20000, 1);
    cl_progress pr = {stop_at_half, NULL};
    assert_int_equal(cl_synth_new(&w, &p, d, &pr), CL_EINTR);
    assert_null(w);
    char path[512];
    snprintf(path, sizeof path, "%s/events.csv", d);
    assert_int_equal(access(path, F_OK), -1); /* aborted: no half file */
    rmdir_files(d);
}

static void test_allocation_failures(void **state)
{
    (void)state;
    char d[256];
    tmpdir(d, sizeof d, "alloc");
    cl_synth_params p = small(600, 3);
    size_t before = cl_alloc_bytes();
    int ok = 0;
    for (long n = 1; n < 400 && !ok; n++) {
        cl_synth_world *w = NULL;
        cl_alloc_fail_at(n);
        int rc = cl_synth_new(&w, &p, d, NULL);
        long used = cl_alloc_count();
        cl_alloc_fail_at(0);
        if (rc == CL_OK) {
            assert_true(used < n); /* succeeded because the failure point was never reached */
            ok = 1;
            cl_synth_free(w);
        } else {
            assert_int_equal(rc, CL_ENOMEM);
            assert_null(w);
        }
        assert_int_equal(cl_alloc_bytes(), before);
    }
    assert_true(ok);
    rmdir_files(d);
}

int main(void)
{
    const struct CMUnitTest big[] = {
        cmocka_unit_test(test_plan_mix),
        cmocka_unit_test(test_sessions_follow_latent_rates),
        cmocka_unit_test(test_payment_failures_in_documented_band),
        cmocka_unit_test(test_churn_rate_matches_true_risk),
        cmocka_unit_test(test_campaign_randomised),
        cmocka_unit_test(test_tastes_are_distributions),
        cmocka_unit_test(test_replay_none_reproduces_labels),
        cmocka_unit_test(test_discount_for_everyone_lowers_churn),
        cmocka_unit_test(test_content_matching_taste_beats_mismatch),
        cmocka_unit_test(test_action_effects_are_heterogeneous),
        cmocka_unit_test(test_longer_horizon_extends_label_window),
    };
    const struct CMUnitTest other[] = {
        cmocka_unit_test(test_files_identical_across_runs_and_threads),
        cmocka_unit_test(test_bad_params_and_actions),
        cmocka_unit_test(test_oracle_auc_matches_brute_force),
        cmocka_unit_test(test_unwritable_dir_leaves_nothing),
        cmocka_unit_test(test_interrupt_aborts_files),
        cmocka_unit_test(test_allocation_failures),
    };
    int f = cmocka_run_group_tests_name("synth world", big, setup_big, teardown_big);
    f += cmocka_run_group_tests_name("synth files and errors", other, NULL, NULL);
    return f ? 1 : 0;
}
