/* experiment.c - the online recommendation experiment (experiment.h). */
#include "live/experiment.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define POP_MAX 32

typedef struct exp_cust {
    int16_t day;     /* impression day, -1 none */
    int16_t views;   /* views from the recommendation row in the window */
    int8_t churned;  /* cancelled in the window */
    int16_t seen;    /* last day with an organic watch (a visit), -1 none */
    float minutes;   /* minutes watched in the window */
    double et, ec;   /* expected views under the model's / the popularity list */
} exp_cust;

struct cl_experiment {
    cl_experiment_params p;
    int max_user, max_title, now; /* now: last day observed */
    long long impressed;
    exp_cust *c;                  /* index id - 1 */
    int64_t *watches;             /* per title, index tid - 1 */
    int32_t pop[POP_MAX];
    int npop;
    pthread_mutex_t pub_mu;       /* guards pub and published */
    cl_experiment_summary pub;
    int published;
};

void cl_experiment_params_default(cl_experiment_params *p)
{
    p->seed = 0;
    p->holdout = 0.1;
    p->window = 7;
    p->ci_level = 0.9;
}

static int check_params(const cl_experiment_params *p)
{
    if (!(p->holdout >= 0 && p->holdout <= 1))
        return cl_error(CL_EINVAL, "experiment: holdout must be in [0, 1], got %g", p->holdout);
    if (p->window < 1 || p->window > 90)
        return cl_error(CL_EINVAL, "experiment: window must be in 1..90 days, got %d", p->window);
    if (!(p->ci_level > 0 && p->ci_level < 1))
        return cl_error(CL_EINVAL, "experiment: ci_level must be in (0, 1), got %g", p->ci_level);
    return CL_OK;
}

int cl_experiment_new(cl_experiment **out, int max_user, int max_title,
                      const cl_experiment_params *p)
{
    *out = NULL;
    int rc = check_params(p);
    if (rc)
        return rc;
    if (max_user < 1 || max_title < 1)
        return cl_error(CL_EINVAL, "experiment: max_user and max_title must be >= 1, got %d, %d",
                        max_user, max_title);
    cl_experiment *x = cl_alloc_calloc(1, sizeof *x);
    if (!x || !(x->c = cl_alloc_calloc((size_t)max_user, sizeof *x->c)) ||
        !(x->watches = cl_alloc_calloc((size_t)max_title, sizeof *x->watches))) {
        cl_experiment_free(x);
        return CL_ENOMEM;
    }
    pthread_mutex_init(&x->pub_mu, NULL);
    x->p = *p;
    x->max_user = max_user;
    x->max_title = max_title;
    x->now = -1000000;
    for (int i = 0; i < max_user; i++)
        x->c[i].day = x->c[i].seen = -1;
    *out = x;
    return CL_OK;
}

void cl_experiment_free(cl_experiment *x)
{
    if (!x)
        return;
    if (x->c && x->watches)
        pthread_mutex_destroy(&x->pub_mu);
    cl_alloc_free(x->c);
    cl_alloc_free(x->watches);
    cl_alloc_free(x);
}

int cl_experiment_arm(const cl_experiment *x, int id)
{
    if (id < 1 || id > x->max_user)
        return cl_error(CL_ERANGE, "experiment: customer id %d out of range 1..%d", id,
                        x->max_user);
    /* a bijective hash of (seed, id): a customer's arm does not depend on arrival order */
    double u = (double)(cl_rng_hash(cl_rng_hash(x->p.seed) ^ (uint64_t)id) >> 11) * 0x1.0p-53;
    return u < x->p.holdout ? 0 : 1;
}

int cl_experiment_impress(cl_experiment *x, int id, int day, double et, double ec)
{
    if (id < 1 || id > x->max_user)
        return cl_error(CL_ERANGE, "experiment: impression: customer id %d out of range 1..%d",
                        id, x->max_user);
    if (day < -1 || day > 30000)
        return cl_error(CL_ERANGE, "experiment: impression: day %d out of range", day);
    exp_cust *c = &x->c[id - 1];
    if (c->day >= 0)
        return 0;
    c->day = (int16_t)day;
    c->et = et;
    c->ec = ec;
    x->impressed++;
    return 1;
}

int cl_experiment_impressed(const cl_experiment *x, int id)
{
    return id >= 1 && id <= x->max_user && x->c[id - 1].day >= 0;
}

int cl_experiment_visited(const cl_experiment *x, int id, int day)
{
    return id >= 1 && id <= x->max_user && x->c[id - 1].seen == day;
}

/* ---- events ------------------------------------------------------------------------------ */

/* Splits one CSV line into at most nf fields (pointers into the line, not terminated). */
static int split(const char *p, const char *end, const char **f, size_t *len, int nf)
{
    int k = 0;
    while (k < nf) {
        const char *q = memchr(p, ',', (size_t)(end - p));
        f[k] = p;
        len[k] = (size_t)((q ? q : end) - p);
        k++;
        if (!q)
            break;
        p = q + 1;
    }
    return k;
}

static int field_num(const char *f, size_t n, double *v)
{
    char buf[32];
    if (n == 0) {
        *v = NAN;
        return 1;
    }
    if (n >= sizeof buf)
        return 0;
    memcpy(buf, f, n);
    buf[n] = '\0';
    char *e;
    *v = strtod(buf, &e);
    return *e == '\0' && isfinite(*v);
}

static int is(const char *f, size_t n, const char *s)
{
    return n == strlen(s) && memcmp(f, s, n) == 0;
}

static void in_window(cl_experiment *x, int id, int day, int view, int cancel, double minutes)
{
    exp_cust *c = &x->c[id - 1];
    if (c->day < 0 || day <= c->day || day > c->day + x->p.window)
        return;
    if (cancel)
        c->churned = 1;
    if (view)
        c->views++;
    if (minutes > 0)
        c->minutes += (float)minutes;
}

static int observe_line(cl_experiment *x, const char *p, const char *end, long line)
{
    const char *f[8];
    size_t n[8];
    double id, day, tid, minutes;
    if (split(p, end, f, n, 8) < 8 || !field_num(f[0], n[0], &id) ||
        !field_num(f[1], n[1], &day) || !field_num(f[3], n[3], &tid) ||
        !field_num(f[4], n[4], &minutes))
        return cl_error(CL_EINVAL, "experiment: events line %ld: expected user_id,day,event,"
                        "title_id,minutes,completion,device,detail", line);
    if (!(id >= 1 && id <= x->max_user && id == floor(id)))
        return cl_error(CL_ERANGE, "experiment: events line %ld: user_id %g out of range 1..%d",
                        line, id, x->max_user);
    int watch = is(f[2], n[2], "watch"), cancel = is(f[2], n[2], "cancel");
    int rec = watch && is(f[7], n[7], "rec");
    if (watch) {
        if (!(tid >= 1 && tid <= x->max_title && tid == floor(tid)))
            return cl_error(CL_ERANGE, "experiment: events line %ld: title_id %g out of range "
                            "1..%d", line, tid, x->max_title);
        if (!rec) { /* the baseline ranks organic watches (not its own echo) */
            x->watches[(int)tid - 1]++;
            if (day >= 0 && day < 30000)
                x->c[(int)id - 1].seen = (int16_t)day;
        }
    }
    in_window(x, (int)id, (int)day, rec, cancel, watch && minutes > 0 ? minutes : 0);
    return CL_OK;
}

static void rank_popular(cl_experiment *x)
{
    x->npop = 0;
    for (int t = 0; t < x->max_title; t++) {
        if (x->watches[t] == 0)
            continue;
        int k = x->npop < POP_MAX ? x->npop++ : POP_MAX;
        if (k == POP_MAX && x->watches[t] <= x->watches[x->pop[POP_MAX - 1] - 1])
            continue;
        if (k == POP_MAX)
            k = POP_MAX - 1;
        while (k > 0 && x->watches[x->pop[k - 1] - 1] < x->watches[t]) {
            x->pop[k] = x->pop[k - 1];
            k--;
        }
        x->pop[k] = t + 1;
    }
}

int cl_experiment_observe_csv(cl_experiment *x, int day, const char *csv, size_t len)
{
    const char *p = csv, *end = csv + len;
    long line = 0;
    while (p < end) {
        const char *q = memchr(p, '\n', (size_t)(end - p));
        const char *e = q ? q : end;
        if (++line > 1 && e > p) { /* line 1 is the header */
            int rc = observe_line(x, p, e, line);
            if (rc)
                return rc;
        }
        p = q ? q + 1 : end;
    }
    if (day > x->now)
        x->now = day;
    rank_popular(x);
    return CL_OK;
}

int cl_experiment_popular(const cl_experiment *x, int k, int32_t *out)
{
    int n = k < x->npop ? k : x->npop;
    memcpy(out, x->pop, (size_t)(n > 0 ? n : 0) * sizeof *out);
    return n > 0 ? n : 0;
}

/* ---- the summary ---------------------------------------------------------------------------- */

/* The standard normal quantile by bisection on erfc (no table to get wrong; 60 halvings). */
static double norm_quantile(double p)
{
    double lo = -10, hi = 10;
    for (int i = 0; i < 60; i++) {
        double mid = 0.5 * (lo + hi);
        if (0.5 * erfc(-mid / sqrt(2.0)) < p)
            lo = mid;
        else
            hi = mid;
    }
    return 0.5 * (lo + hi);
}

typedef struct moments {
    double n, s[3], ss[3]; /* views, minutes, churn */
} moments;

static void arm_stats(const moments *m, cl_experiment_arm_stats *a)
{
    double mean[3], var[3];
    for (int j = 0; j < 3; j++) {
        mean[j] = m->n > 0 ? m->s[j] / m->n : NAN;
        var[j] = m->n > 1 ? (m->ss[j] - m->n * mean[j] * mean[j]) / (m->n - 1) : NAN;
        if (var[j] < 0)
            var[j] = 0;
    }
    a->n = (long long)m->n;
    a->views = mean[0];
    a->views_var = var[0];
    a->minutes = mean[1];
    a->minutes_var = var[1];
    a->churn = mean[2];
}

static void diff_ci(double m1, double v1, double n1, double m0, double v0, double n0, double z,
                    double *d, double *lo, double *hi)
{
    *d = m1 - m0;
    double se = sqrt(v1 / n1 + v0 / n0);
    *lo = *d - z * se;
    *hi = *d + z * se;
}

void cl_experiment_summarize(const cl_experiment *x, cl_experiment_summary *s)
{
    memset(s, 0, sizeof *s);
    moments m[2];
    memset(m, 0, sizeof m);
    double tl = 0;
    long long ntl = 0;
    int truth = 1;
    for (int i = 0; i < x->max_user; i++) {
        const exp_cust *c = &x->c[i];
        if (c->day < 0 || c->day + x->p.window > x->now)
            continue; /* no impression, or its window is not over */
        moments *a = &m[cl_experiment_arm(x, i + 1)];
        double v[3] = {c->views, c->minutes, c->churned};
        a->n++;
        for (int j = 0; j < 3; j++) {
            a->s[j] += v[j];
            a->ss[j] += v[j] * v[j];
        }
        if (isfinite(c->et) && isfinite(c->ec)) {
            tl += c->et - c->ec;
            ntl++;
        } else {
            truth = 0;
        }
    }
    arm_stats(&m[0], &s->arm[0]);
    arm_stats(&m[1], &s->arm[1]);
    const cl_experiment_arm_stats *t = &s->arm[1], *c = &s->arm[0];
    double z = norm_quantile(0.5 + 0.5 * x->p.ci_level), n1 = (double)t->n, n0 = (double)c->n;
    diff_ci(t->views, t->views_var, n1, c->views, c->views_var, n0, z, &s->lift, &s->lo, &s->hi);
    diff_ci(t->minutes, t->minutes_var, n1, c->minutes, c->minutes_var, n0, z, &s->minutes_lift,
            &s->minutes_lo, &s->minutes_hi);
    diff_ci(t->churn, t->churn * (1 - t->churn) * n1 / (n1 - 1), n1, c->churn,
            c->churn * (1 - c->churn) * n0 / (n0 - 1), n0, z, &s->churn_lift, &s->churn_lo,
            &s->churn_hi);
    s->relative_lift = c->views > 0 ? s->lift / c->views : NAN;
    s->true_lift = truth && ntl > 0 ? tl / (double)ntl : NAN;
    s->impressed = x->impressed;
    s->ci_level = x->p.ci_level;
    s->window = x->p.window;
}

void cl_experiment_publish(cl_experiment *x)
{
    cl_experiment_summary s;
    cl_experiment_summarize(x, &s);
    pthread_mutex_lock(&x->pub_mu);
    x->pub = s;
    x->published = 1;
    pthread_mutex_unlock(&x->pub_mu);
}

int cl_experiment_published(cl_experiment *x, cl_experiment_summary *s)
{
    pthread_mutex_lock(&x->pub_mu);
    int ok = x->published;
    if (ok)
        *s = x->pub;
    pthread_mutex_unlock(&x->pub_mu);
    return ok;
}
