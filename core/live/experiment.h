/* experiment.h - the online recommendation experiment: a seeded holdout, impressions, and
 * the effect of what was shown, per arm, with intervals.
 *
 *   cl_experiment *x;
 *   cl_experiment_new(&x, max_user, max_title, &params);
 *   arm = cl_experiment_arm(x, id);                 // 1 treatment (model), 0 control
 *   cl_experiment_impress(x, id, day, et, ec);      // a list was shown to id after `day`
 *   cl_experiment_observe_csv(x, day, csv, len);    // that day's events (events.csv lines)
 *   cl_experiment_summarize(x, &s);                 // per arm, lift, interval, true lift
 *
 * Arms: a customer is in the control arm when u(seed, id) < holdout, u a splitmix64 hash of
 * the seed and the id mapped to [0, 1): deterministic by id and seed, independent of the
 * order customers arrive in. The control arm is shown the popularity baseline (the titles
 * most watched so far, cl_experiment_popular), the treatment arm the model's list.
 *
 * A customer gets one impression (the first); its outcome is read over the `window` days
 * after it: views from the recommendation row (watch events with detail "rec"), minutes
 * watched (every watch), and churn (a cancel in the window). A customer enters the summary
 * once its window has been observed entirely, so both arms are measured over equal spans.
 * Intervals are normal approximations (Welch: difference of means with each arm's sample
 * variance), level `ci_level` (0.9 by default). When the source knows each customer's
 * expected views under both lists (the synthetic world: et under the model's list, ec under
 * the popularity one), the true lift is the mean of et - ec over the customers summarised
 * (the sample average treatment effect, which the interval covers at least at its level).
 *
 * Ownership: _new returns an owned experiment freed by _free. One writer thread; other
 * threads only call cl_experiment_published.
 */
#ifndef CL_EXPERIMENT_H
#define CL_EXPERIMENT_H

#include <stddef.h>
#include <stdint.h>

typedef struct cl_experiment_params {
    uint64_t seed;
    double holdout;  /* share of customers in the control arm, [0, 1] */
    int window;      /* days after the impression the outcome is read over, 1..90 */
    double ci_level; /* in (0, 1) */
} cl_experiment_params;
void cl_experiment_params_default(cl_experiment_params *p); /* 0, 0.1, 7, 0.9 */

typedef struct cl_experiment cl_experiment;

typedef struct cl_experiment_arm_stats {
    long long n;
    double views, views_var;     /* mean and sample variance of views per customer */
    double minutes, minutes_var; /* minutes watched in the window per customer */
    double churn;                /* share churned in the window */
} cl_experiment_arm_stats;

typedef struct cl_experiment_summary {
    cl_experiment_arm_stats arm[2]; /* [0] control, [1] treatment */
    long long impressed;            /* all impressions, windows complete or not */
    double lift, lo, hi;            /* views: treatment - control and its interval */
    double relative_lift;           /* lift / control views, NaN when control views are 0 */
    double true_lift;               /* NaN when a source gave no truth */
    double minutes_lift, minutes_lo, minutes_hi;
    double churn_lift, churn_lo, churn_hi;
    double ci_level;
    int window;
} cl_experiment_summary;

int cl_experiment_new(cl_experiment **out, int max_user, int max_title,
                      const cl_experiment_params *p);
void cl_experiment_free(cl_experiment *x);
/* 1 treatment, 0 control, CL_ERANGE for an id outside 1..max_user. */
int cl_experiment_arm(const cl_experiment *x, int id);
/* Records the impression shown to id after the events of `day` (its window is days
 * day+1 .. day+window). Returns 1 when recorded, 0 when id already had one, < 0 on error.
 * et / ec: the expected views under the model's list and the popularity list (NaN unknown). */
int cl_experiment_impress(cl_experiment *x, int id, int day, double et, double ec);
/* 1 when id has an impression. */
int cl_experiment_impressed(const cl_experiment *x, int id);
/* 1 when id watched something (not from the recommendation row) on `day`: a visit. */
int cl_experiment_visited(const cl_experiment *x, int id, int day);
/* Reads one day's events (events.csv text with its header): rec views, minutes, cancels,
 * and watch counts for the popularity list. Lines naming unknown users/titles are errors
 * naming the line. After it, every window ending on or before `day` is complete. */
int cl_experiment_observe_csv(cl_experiment *x, int day, const char *csv, size_t len);
/* The k most watched titles so far (ties: lower id first) into out; returns how many. */
int cl_experiment_popular(const cl_experiment *x, int k, int32_t *out);
void cl_experiment_summarize(const cl_experiment *x, cl_experiment_summary *s);
/* The writer publishes its summary (after each day); readers on other threads (the service's
 * monitor) copy the last one. _published returns 0 (and leaves *s) before the first publish. */
void cl_experiment_publish(cl_experiment *x);
int cl_experiment_published(cl_experiment *x, cl_experiment_summary *s);

#endif
