/* strategy.h - retention strategies: expected value, a budget-constrained plan, and Monte
 * Carlo simulation of outcomes with intervals.
 *
 * An action (a discount, a content push, an outreach call) costs `contact` per customer it
 * is offered to and `accept` per customer who takes it (the discount actually paid), is
 * taken with probability `reach`, and lowers a taker's churn probability by the relative
 * amount `effect` (uncertain: `effect_sd`, drawn once per simulation draw, since the
 * uncertainty is about the campaign, not about each customer). Per-customer effects (from
 * an uplift model) may replace `effect`; each draw then scales them by its draw of the effect
 * over `effect` or, when `effect` is 0 (a mean effect at or below zero), shifts each by the
 * draw's deviation, so an uncertain effect estimated at nothing still widens the interval.
 *
 * The money of a retained customer is `value` (margin over the horizon, or CLV). The
 * expected net value of offering action k to customer i is
 *     reach_k * (p_i * effect_ik * value_i - accept_k * scale_i) - contact_k
 * and the worst-case cost is contact_k + accept_k * scale_i: plans keep the worst case within the
 * budget, so no outcome of the campaign can overspend.
 */
#ifndef CL_STRATEGY_H
#define CL_STRATEGY_H

#include <stdint.h>

#include "base/progress.h"

typedef struct cl_action {
    double contact;    /* cost per customer offered the action */
    double accept;     /* cost per customer who takes it */
    double reach;      /* probability of taking it, 0..1 */
    double effect;     /* relative reduction of churn probability for takers, 0..1 */
    double effect_sd;  /* uncertainty of effect (normal, clipped to 0..1), >= 0 */
    double fixed;      /* fixed cost when the action is used at all */
} cl_action;

typedef struct cl_strategy_input {
    int64_t n;              /* customers */
    const double *p;        /* [n] churn probability (calibrated) */
    const double *value;    /* [n] money retained if the customer stays */
    int na;                 /* actions */
    const cl_action *act;   /* [na] */
    const double *effect;   /* [n * na] per-customer relative effects, or NULL */
    const double *scale;    /* [n] multiplier of every action's accept cost (a discount of x%
                               of the customer's own price: accept = x / 100, scale = price),
                               or NULL for 1 */
    int nrep;               /* replicates of the churn probabilities in p_rep (0: none) */
    const double *p_rep;    /* [nrep * n] replicate r of customer i at r * n + i: other
                               equally likely churn probabilities (bootstrap or refit
                               replicates of the risk model and its calibration), or NULL.
                               The simulation draws its fates from replicate d % nrep in draw
                               d, so the interval includes the error of the probabilities;
                               the optimiser and cl_strategy_expected use p. */
    const double *value_rep; /* [nrep * n] the values that go with each replicate (a value
                               computed from the replicate's probabilities), or NULL: value */
    const double *effect_rep; /* [nrep * n * na] the per-customer effects that go with each
                               replicate (refits of the uplift or effect model), replicate r
                               of customer i and action k at (r * n + i) * na + k, or NULL:
                               effect. Needs effect; each draw still applies effect_sd to
                               them (a campaign-level error on top, e.g. transport). */
} cl_strategy_input;

/* Expected net value and worst-case cost of customer i taking action k. */
double cl_strategy_expected(const cl_strategy_input *in, int64_t i, int k, double *worst_cost);

/* Best plan under a budget: assign[i] = 0 (no action) or k + 1 (action k), at most one per
 * customer, maximising the expected net value with the summed worst-case cost <= budget
 * (fixed costs included when an action is used). exact = 1 solves the multiple-choice
 * knapsack exactly by branch and bound (for up to ~40 customers); exact = 0 uses the greedy
 * on the LP relaxation (convex hulls of each customer's options, best increments first),
 * whose value is within one customer's best option of the optimum. */
int cl_strategy_optimize(const cl_strategy_input *in, double budget, int exact, uint8_t *assign,
                         double *exp_net, double *cost);

typedef struct cl_interval {
    double mean, lo, hi; /* lo/hi: 5% and 95% quantiles over draws */
} cl_interval;

typedef struct cl_sim_result {
    int64_t contacted;
    cl_interval accepted, saved, retained, cost, net;
    double roi;          /* mean net / mean cost (NaN when nothing is spent) */
} cl_sim_result;

/* Simulates `draws` outcomes of a plan with common random numbers (draw d uses stream
 * cl_rng_split(seed, d)), so two plans simulated with the same seed are compared on the same
 * customers' fates. Each draw takes the actions' effects from effect +- effect_sd and, with
 * replicates, the churn probabilities from replicate d % nrep: the interval then holds the
 * customers' luck, the effects' uncertainty and the probabilities' error. Deterministic
 * whatever the thread count. */
int cl_strategy_simulate(const cl_strategy_input *in, const uint8_t *assign, int draws,
                         uint64_t seed, cl_sim_result *out, const cl_progress *prog);

#endif
