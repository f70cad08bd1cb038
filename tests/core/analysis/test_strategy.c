/* test_strategy.c - the plan optimiser against brute-force enumeration on small cases, its
 * budget guarantee and near-optimality at scale, and the simulator against the analytic
 * expectation, across thread counts, with common random numbers. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"
#include "analysis/strategy.h"

#define NEAR_D(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

static const cl_action ACT[3] = {
    {1.0, 0.0, 0.35, 0.15, 0.0, 0}, /* outreach call: cheap, small effect */
    {0.5, 6.0, 0.60, 0.40, 0.0, 0}, /* discount: paid only when taken */
    {0.2, 0.0, 0.50, 0.10, 0.0, 0}, /* content push */
};

static void random_customers(cl_rng *r, int64_t n, double *p, double *v)
{
    for (int64_t i = 0; i < n; i++) {
        p[i] = cl_rng_uniform(r) * 0.8;
        v[i] = 20 + 200 * cl_rng_uniform(r);
    }
}

/* every assignment in (na + 1)^n, the best expected net value within the budget */
static double brute(const cl_strategy_input *in, double budget)
{
    int n = (int)in->n, na = in->na;
    long total = 1;
    for (int i = 0; i < n; i++)
        total *= na + 1;
    double best = 0;
    for (long code = 0; code < total; code++) {
        long c = code;
        double v = 0, cost = 0;
        for (int i = 0; i < n; i++, c /= na + 1) {
            int k = (int)(c % (na + 1)) - 1;
            if (k >= 0) {
                double wc;
                v += cl_strategy_expected(in, i, k, &wc);
                cost += wc;
            }
        }
        if (cost <= budget + 1e-9 && v > best)
            best = v;
    }
    return best;
}

static void exact_equals_brute_force(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 99);
    for (int trial = 0; trial < 300; trial++) {
        int n = 1 + (int)cl_rng_below(&r, 7);
        double p[8], v[8];
        random_customers(&r, n, p, v);
        cl_strategy_input in = {n, p, v, 3, ACT, NULL, NULL, 0, NULL, NULL, NULL};
        double budget = cl_rng_uniform(&r) * 7.0 * n;
        uint8_t assign[8];
        double net, cost;
        assert_int_equal(cl_strategy_optimize(&in, budget, 1, assign, &net, &cost), CL_OK);
        assert_true(cost <= budget + 1e-9);
        assert_true(fabs(net - brute(&in, budget)) < 1e-9);
        /* the greedy is feasible and within one customer's best option of the optimum */
        double gnet, gcost, maxopt = 0;
        assert_int_equal(cl_strategy_optimize(&in, budget, 0, assign, &gnet, &gcost), CL_OK);
        assert_true(gcost <= budget + 1e-9);
        for (int i = 0; i < n; i++)
            for (int k = 0; k < 3; k++)
                maxopt = fmax(maxopt, cl_strategy_expected(&in, i, k, NULL));
        assert_true(gnet <= net + 1e-9 && gnet >= net - maxopt - 1e-9);
    }
}

static void greedy_at_scale(void **state)
{
    (void)state;
    enum { N = 20000 };
    static double p[N], v[N];
    static uint8_t assign[N];
    cl_rng r;
    cl_rng_seed(&r, 5);
    random_customers(&r, N, p, v);
    cl_strategy_input in = {N, p, v, 3, ACT, NULL, NULL, 0, NULL, NULL, NULL};
    double net, cost;
    assert_int_equal(cl_strategy_optimize(&in, 15000, 0, assign, &net, &cost), CL_OK);
    assert_true(cost <= 15000 + 1e-6);
    /* at most one action per customer, and only profitable ones */
    double check = 0;
    for (int i = 0; i < N; i++)
        if (assign[i]) {
            double e = cl_strategy_expected(&in, i, assign[i] - 1, NULL);
            assert_true(e > 0);
            check += e;
        }
    assert_true(fabs(check - net) < 1e-6 * fabs(net));
    /* unlimited budget: every customer gets their best profitable option */
    assert_int_equal(cl_strategy_optimize(&in, 1e12, 0, assign, &net, &cost), CL_OK);
    for (int i = 0; i < N; i++) {
        double best = 0;
        for (int k = 0; k < 3; k++)
            best = fmax(best, cl_strategy_expected(&in, i, k, NULL));
        double got = assign[i] ? cl_strategy_expected(&in, i, assign[i] - 1, NULL) : 0;
        assert_true(fabs(got - best) < 1e-12);
    }
}

static void simulation_matches_expectation(void **state)
{
    (void)state;
    enum { N = 3000 };
    static double p[N], v[N];
    static uint8_t assign[N];
    cl_rng r;
    cl_rng_seed(&r, 17);
    random_customers(&r, N, p, v);
    double exp_saved = 0, exp_net = 0;
    for (int i = 0; i < N; i++) {
        assign[i] = (uint8_t)(1 + i % 3);
        const cl_action *a = &ACT[i % 3];
        exp_saved += a->reach * p[i] * a->effect;
        exp_net += a->reach * (p[i] * a->effect * v[i] - a->accept) - a->contact;
    }
    cl_strategy_input in = {N, p, v, 3, ACT, NULL, NULL, 0, NULL, NULL, NULL};
    cl_sim_result s1, s2;
    cl_threads_set(1);
    assert_int_equal(cl_strategy_simulate(&in, assign, 400, 3, &s1, NULL), CL_OK);
    cl_threads_set(2);
    assert_int_equal(cl_strategy_simulate(&in, assign, 400, 3, &s2, NULL), CL_OK);
    cl_threads_set(0);
    assert_memory_equal(&s1, &s2, sizeof s1); /* bit-identical whatever the thread count */
    assert_int_equal(s1.contacted, N);
    /* the mean of 400 draws is within 4 standard errors of the expectation: the spread of
     * one draw is about (hi - lo) / 3.3 for a normal-ish total */
    double se = (s1.saved.hi - s1.saved.lo) / 3.29 / sqrt(400.0);
    assert_true(fabs(s1.saved.mean - exp_saved) < 4 * se + 1e-9);
    double se_net = (s1.net.hi - s1.net.lo) / 3.29 / sqrt(400.0);
    assert_true(fabs(s1.net.mean - exp_net) < 4 * se_net);
    assert_true(s1.saved.lo <= s1.saved.mean && s1.saved.mean <= s1.saved.hi);
}

static void common_random_numbers(void **state)
{
    (void)state;
    enum { N = 500 };
    double p[N], v[N];
    uint8_t none[N], some[N];
    cl_rng r;
    cl_rng_seed(&r, 23);
    random_customers(&r, N, p, v);
    memset(none, 0, sizeof none);
    for (int i = 0; i < N; i++)
        some[i] = i < 250 ? 2 : 0;
    cl_strategy_input in = {N, p, v, 3, ACT, NULL, NULL, 0, NULL, NULL, NULL};
    cl_sim_result a, b;
    assert_int_equal(cl_strategy_simulate(&in, none, 200, 8, &a, NULL), CL_OK);
    assert_int_equal(cl_strategy_simulate(&in, some, 200, 8, &b, NULL), CL_OK);
    assert_true(a.net.mean == 0 && a.cost.hi == 0 && a.saved.hi == 0);
    assert_true(b.saved.lo >= 0); /* a non-negative effect never loses a customer */
    /* uncertain effect widens the interval */
    cl_action wide[3];
    memcpy(wide, ACT, sizeof wide);
    wide[1].effect_sd = 0.2;
    cl_strategy_input in2 = {N, p, v, 3, wide, NULL, NULL, 0, NULL, NULL, NULL};
    cl_sim_result c;
    assert_int_equal(cl_strategy_simulate(&in2, some, 200, 8, &c, NULL), CL_OK);
    assert_true(c.net.hi - c.net.lo > b.net.hi - b.net.lo);
    /* per-customer effects averaging zero (a campaign that found nothing): with effect 0 the
     * draw shifts them, so an uncertain zero still widens the interval; without the sd the
     * interval is the customers' luck alone */
    double eff[N * 3];
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++)
            eff[i * 3 + k] = k == 1 ? (i % 2 ? 0.05 : -0.05) : ACT[k].effect;
    cl_action zero[3];
    memcpy(zero, ACT, sizeof zero);
    zero[1].effect = 0;
    cl_strategy_input in3 = {N, p, v, 3, zero, eff, NULL, 0, NULL, NULL, NULL};
    cl_sim_result d0, d1;
    assert_int_equal(cl_strategy_simulate(&in3, some, 400, 8, &d0, NULL), CL_OK);
    zero[1].effect_sd = 0.1;
    assert_int_equal(cl_strategy_simulate(&in3, some, 400, 8, &d1, NULL), CL_OK);
    assert_true(d1.saved.hi - d1.saved.lo > 2 * (d0.saved.hi - d0.saved.lo));
    /* the shift is symmetric: the mean saved stays near zero (4 standard errors of 400 draws
     * of a spread of at most 0.1 * sum of p over 250 customers * reach) */
    double sp = 0;
    for (int i = 0; i < 250; i++)
        sp += p[i];
    assert_true(fabs(d1.saved.mean) < 4 * (0.1 * sp * ACT[1].reach + sqrt(sp)) / sqrt(400.0));
}

static void per_customer_cost_scale(void **state)
{
    (void)state;
    double p[2] = {0.5, 0.5}, v[2] = {100, 100}, sc[2] = {1, 3};
    cl_strategy_input in = {2, p, v, 3, ACT, NULL, sc, 0, NULL, NULL, NULL};
    double w1, w2;
    double e1 = cl_strategy_expected(&in, 0, 1, &w1), e2 = cl_strategy_expected(&in, 1, 1, &w2);
    NEAR_D(w2 - w1, 2 * ACT[1].accept);
    NEAR_D(e1 - e2, ACT[1].reach * 2 * ACT[1].accept);
    uint8_t assign[2] = {2, 2};
    cl_sim_result s;
    assert_int_equal(cl_strategy_simulate(&in, assign, 2000, 1, &s, NULL), CL_OK);
    /* mean accept cost: reach * accept * (1 + 3), plus contacts */
    assert_true(fabs(s.cost.mean - (2 * ACT[1].contact + ACT[1].reach * ACT[1].accept * 4)) < 1.5);
    sc[1] = -1;
    double net, cost;
    assert_int_equal(cl_strategy_optimize(&in, 10, 0, assign, &net, &cost), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "customer 2: cost scale"));
}

/* Replicates of the churn probabilities: draw d uses replicate d % R. Two replicates equal
 * to p give exactly the plain simulation (same binary, same draws); replicates at 0.5 p and
 * 1.5 p keep the mean (the average of the replicates is p) within its standard error and
 * widen the interval beyond the customers' luck alone. */
static void probability_replicates(void **state)
{
    (void)state;
    enum { N = 400, D = 600 };
    double p[N], v[N], rep[2 * N];
    uint8_t assign[N];
    cl_rng r;
    cl_rng_seed(&r, 31);
    random_customers(&r, N, p, v);
    double exp_saved = 0, exp_lo = 0, exp_hi = 0;
    for (int i = 0; i < N; i++) {
        assign[i] = 2; /* the discount, effect 0.4, reach 0.6 */
        rep[i] = p[i];
        rep[N + i] = p[i];
        exp_saved += ACT[1].reach * ACT[1].effect * p[i];
    }
    exp_lo = 0.5 * exp_saved;
    exp_hi = 1.5 * exp_saved;
    cl_strategy_input plain = {N, p, v, 3, ACT, NULL, NULL, 0, NULL, NULL, NULL};
    cl_strategy_input same = {N, p, v, 3, ACT, NULL, NULL, 2, rep, NULL, NULL};
    cl_sim_result a, b, c;
    assert_int_equal(cl_strategy_simulate(&plain, assign, D, 5, &a, NULL), CL_OK);
    assert_int_equal(cl_strategy_simulate(&same, assign, D, 5, &b, NULL), CL_OK);
    assert_memory_equal(&a, &b, sizeof a);
    for (int i = 0; i < N; i++) {
        rep[i] = 0.5 * p[i];
        rep[N + i] = 1.5 * p[i] > 1 ? 1 : 1.5 * p[i];
    }
    double exp_mix = 0;
    for (int i = 0; i < N; i++)
        exp_mix += ACT[1].reach * ACT[1].effect * 0.5 * (rep[i] + rep[N + i]);
    cl_threads_set(1);
    assert_int_equal(cl_strategy_simulate(&same, assign, D, 5, &c, NULL), CL_OK);
    cl_sim_result c2;
    cl_threads_set(2);
    assert_int_equal(cl_strategy_simulate(&same, assign, D, 5, &c2, NULL), CL_OK);
    cl_threads_set(0);
    assert_memory_equal(&c, &c2, sizeof c);
    /* the saved count of one draw has sd <= sqrt(expected); the mean of D draws, half from
     * each replicate, within 4 of those standard errors of the mixture's expectation */
    double se = sqrt(exp_hi) / sqrt((double)D);
    assert_true(fabs(c.saved.mean - exp_mix) < 4 * se);
    /* the 5% and 95% quantiles sit near the two replicates' expectations (the bimodal
     * mixture), far beyond the plain interval */
    assert_true(c.saved.lo < exp_lo + 3 * sqrt(exp_lo) && c.saved.hi > exp_hi - 3 * sqrt(exp_hi));
    assert_true(c.saved.hi - c.saved.lo > 2 * (a.saved.hi - a.saved.lo));
    /* values with the replicates: doubling every value in both doubles the revenue kept in
     * every draw (same fates), exactly up to rounding of the sums */
    double vrep[2 * N];
    for (int i = 0; i < N; i++)
        vrep[i] = vrep[N + i] = 2 * v[i];
    cl_strategy_input valued = {N, p, v, 3, ACT, NULL, NULL, 2, rep, vrep, NULL};
    cl_sim_result e;
    assert_int_equal(cl_strategy_simulate(&valued, assign, D, 5, &e, NULL), CL_OK);
    assert_true(fabs(e.retained.mean - 2 * c.retained.mean) < 1e-9 * fabs(c.retained.mean) + 1e-9);
    assert_true(e.saved.mean == c.saved.mean);
    vrep[7] = -1;
    assert_int_equal(cl_strategy_simulate(&valued, assign, D, 5, &e, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "replicate 1, customer 8: value"));
    rep[N + 3] = 1.2;
    assert_int_equal(cl_strategy_simulate(&same, assign, D, 5, &c, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "replicate 2, customer 4"));
}

/* Replicates of the per-customer effects go with the replicates of the probabilities: effect
 * replicates equal to the effects give exactly the simulation without them (same binary,
 * same draws); replicates at 0.5 and 1.5 times the effects keep the mean saved within 4
 * standard errors of the mixture's expectation (the draw's sd is at most sqrt of its mean)
 * and widen the interval; an out-of-range replicate or replicates without effects fail. */
static void effect_replicates(void **state)
{
    (void)state;
    enum { N = 400, D = 600 };
    double p[N], v[N], rep[2 * N], eff[N * 3], erep[2 * N * 3];
    uint8_t assign[N];
    cl_rng r;
    cl_rng_seed(&r, 37);
    random_customers(&r, N, p, v);
    double exp_saved = 0;
    for (int i = 0; i < N; i++) {
        assign[i] = 2;
        rep[i] = rep[N + i] = p[i];
        for (int k = 0; k < 3; k++) {
            eff[i * 3 + k] = 0.2 + 0.4 * cl_rng_uniform(&r);
            erep[i * 3 + k] = erep[(N + i) * 3 + k] = eff[i * 3 + k];
        }
        exp_saved += ACT[1].reach * eff[i * 3 + 1] * p[i];
    }
    cl_strategy_input plain = {N, p, v, 3, ACT, eff, NULL, 2, rep, NULL, NULL};
    cl_strategy_input reps = {N, p, v, 3, ACT, eff, NULL, 2, rep, NULL, erep};
    cl_sim_result a, b;
    assert_int_equal(cl_strategy_simulate(&plain, assign, D, 5, &a, NULL), CL_OK);
    assert_int_equal(cl_strategy_simulate(&reps, assign, D, 5, &b, NULL), CL_OK);
    assert_memory_equal(&a, &b, sizeof a);
    for (int i = 0; i < N; i++)
        for (int k = 0; k < 3; k++) {
            erep[i * 3 + k] = 0.5 * eff[i * 3 + k];
            erep[(N + i) * 3 + k] = 1.5 * eff[i * 3 + k];
        }
    assert_int_equal(cl_strategy_simulate(&reps, assign, D, 5, &b, NULL), CL_OK);
    double se = sqrt(1.5 * exp_saved) / sqrt((double)D);
    assert_true(fabs(b.saved.mean - exp_saved) < 4 * se);
    assert_true(b.saved.hi - b.saved.lo > 2 * (a.saved.hi - a.saved.lo));
    erep[(N + 5) * 3 + 2] = 1.5;
    assert_int_equal(cl_strategy_simulate(&reps, assign, D, 5, &b, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "replicate 2, customer 6, action 3"));
    cl_strategy_input noeff = {N, p, v, 3, ACT, NULL, NULL, 2, rep, NULL, erep};
    assert_int_equal(cl_strategy_simulate(&noeff, assign, D, 5, &b, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "replicated effects need"));
}

static void errors(void **state)
{
    (void)state;
    double p[2] = {0.5, 1.5}, v[2] = {10, 10};
    uint8_t assign[2] = {1, 0};
    double net, cost;
    cl_strategy_input in = {2, p, v, 3, ACT, NULL, NULL, 0, NULL, NULL, NULL};
    assert_int_equal(cl_strategy_optimize(&in, 10, 0, assign, &net, &cost), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "customer 2: churn probability 1.5"));
    p[1] = 0.2;
    assert_int_equal(cl_strategy_optimize(&in, -1, 0, assign, &net, &cost), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "budget"));
    assign[0] = 7;
    cl_sim_result s;
    assert_int_equal(cl_strategy_simulate(&in, assign, 10, 1, &s, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "assigned action 7 of 3"));
    cl_action bad = ACT[0];
    bad.reach = 2;
    cl_strategy_input in3 = {2, p, v, 1, &bad, NULL, NULL, 0, NULL, NULL, NULL};
    assert_int_equal(cl_strategy_optimize(&in3, 10, 0, assign, &net, &cost), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "action 1: reach and effect"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(exact_equals_brute_force), cmocka_unit_test(greedy_at_scale),
        cmocka_unit_test(simulation_matches_expectation), cmocka_unit_test(common_random_numbers),
        cmocka_unit_test(per_customer_cost_scale), cmocka_unit_test(probability_replicates),
        cmocka_unit_test(effect_replicates),
        cmocka_unit_test(errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
