/* strategy.c - plan optimisation (multiple-choice knapsack) and Monte Carlo simulation. */
#include "analysis/strategy.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threads.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Replicated effects need the effects they stand beside and replicates to go with. */
static int check_effect_rep(const cl_strategy_input *in)
{
    if (!in->effect_rep)
        return CL_OK;
    if (!in->effect || in->nrep < 1)
        return cl_error(CL_EINVAL, "strategy: replicated effects need per-customer effects and "
                                   "replicates of the churn probabilities");
    for (int r = 0; r < in->nrep; r++)
        for (int64_t i = 0; i < in->n; i++)
            for (int k = 0; k < in->na; k++) {
                double e = in->effect_rep[((int64_t)r * in->n + i) * in->na + k];
                if (!(e >= -1 && e <= 1))
                    return cl_error(CL_EINVAL, "strategy: replicate %d, customer %lld, action "
                                               "%d: effect %g is not in [-1, 1]", r + 1,
                                    (long long)i + 1, k + 1, e);
            }
    return CL_OK;
}

static int check_input(const cl_strategy_input *in)
{
    if (in->n < 0 || in->na < 1 || in->na > 254)
        return cl_error(CL_EINVAL, "strategy: need 1..254 actions and n >= 0");
    for (int k = 0; k < in->na; k++) {
        const cl_action *a = &in->act[k];
        if (!(a->contact >= 0) || !(a->accept >= 0) || !(a->fixed >= 0) || !isfinite(a->contact) ||
            !isfinite(a->accept) || !isfinite(a->fixed))
            return cl_error(CL_EINVAL, "strategy: action %d: costs must be finite and >= 0", k + 1);
        if (!(a->reach >= 0 && a->reach <= 1) || !(a->effect >= 0 && a->effect <= 1) ||
            !(a->effect_sd >= 0) || !isfinite(a->effect_sd))
            return cl_error(CL_EINVAL, "strategy: action %d: reach and effect must be in [0, 1] "
                                       "and effect_sd >= 0", k + 1);
    }
    for (int64_t i = 0; i < in->n; i++) {
        if (!(in->p[i] >= 0 && in->p[i] <= 1))
            return cl_error(CL_EINVAL, "strategy: customer %lld: churn probability %g is not in "
                                       "[0, 1]", (long long)i + 1, in->p[i]);
        if (!isfinite(in->value[i]) || in->value[i] < 0)
            return cl_error(CL_EINVAL, "strategy: customer %lld: value must be finite and >= 0",
                            (long long)i + 1);
        if (in->scale && (!isfinite(in->scale[i]) || in->scale[i] < 0))
            return cl_error(CL_EINVAL, "strategy: customer %lld: cost scale must be finite and "
                                       ">= 0", (long long)i + 1);
        if (in->effect)
            for (int k = 0; k < in->na; k++) {
                double e = in->effect[i * in->na + k];
                if (!(e >= -1 && e <= 1))
                    return cl_error(CL_EINVAL, "strategy: customer %lld, action %d: effect %g "
                                               "is not in [-1, 1]", (long long)i + 1, k + 1, e);
            }
    }
    if (in->nrep < 0 || (in->nrep > 0 && !in->p_rep))
        return cl_error(CL_EINVAL, "strategy: %d replicates of the churn probabilities but no "
                                   "values", in->nrep);
    for (int r = 0; r < in->nrep; r++)
        for (int64_t i = 0; i < in->n; i++) {
            double q = in->p_rep[(int64_t)r * in->n + i];
            if (!(q >= 0 && q <= 1))
                return cl_error(CL_EINVAL, "strategy: replicate %d, customer %lld: churn "
                                           "probability %g is not in [0, 1]", r + 1,
                                (long long)i + 1, q);
            if (in->value_rep && !(isfinite(in->value_rep[(int64_t)r * in->n + i]) &&
                                   in->value_rep[(int64_t)r * in->n + i] >= 0))
                return cl_error(CL_EINVAL, "strategy: replicate %d, customer %lld: value must "
                                           "be finite and >= 0", r + 1, (long long)i + 1);
        }
    return check_effect_rep(in);
}

static double effect_of(const cl_strategy_input *in, int64_t i, int k)
{
    return in->effect ? in->effect[i * in->na + k] : in->act[k].effect;
}

double cl_strategy_expected(const cl_strategy_input *in, int64_t i, int k, double *worst_cost)
{
    const cl_action *a = &in->act[k];
    double accept = a->accept * (in->scale ? in->scale[i] : 1);
    if (worst_cost)
        *worst_cost = a->contact + accept;
    return a->reach * (in->p[i] * effect_of(in, i, k) * in->value[i] - accept) - a->contact;
}

/* ---- optimiser ---------------------------------------------------------------------- */

typedef struct opt { double c, v; int k; } opt; /* cost, value, action (-1 = none) */

typedef struct step {
    double dc, dv, eff;
    int64_t i;
    int from, to; /* hull positions */
} step;

/* Upper convex hull of a customer's options (none included), sorted by cost; returns its
 * size. Options with value <= 0 never help and are dropped. */
static int hull(opt *o, int m)
{
    /* insertion sort by cost, then value descending (m is tiny) */
    for (int a = 1; a < m; a++)
        for (int b = a; b > 0 && (o[b].c < o[b - 1].c || (o[b].c == o[b - 1].c && o[b].v > o[b - 1].v)); b--) {
            opt t = o[b];
            o[b] = o[b - 1];
            o[b - 1] = t;
        }
    int h = 0;
    for (int a = 0; a < m; a++) {
        if (h > 0 && o[a].v <= o[h - 1].v)
            continue; /* dominated: costs at least as much for no more value */
        while (h >= 2) { /* drop the middle point if it lies below the chord */
            double s1 = (o[h - 1].v - o[h - 2].v) / (o[h - 1].c - o[h - 2].c);
            double s2 = (o[a].v - o[h - 1].v) / (o[a].c - o[h - 1].c);
            if (s1 <= s2)
                h--;
            else
                break;
        }
        o[h++] = o[a];
    }
    return h;
}

static int by_eff(const void *x, const void *y)
{
    const step *a = x, *b = y;
    if (a->eff != b->eff)
        return a->eff > b->eff ? -1 : 1;
    if (a->i != b->i)
        return a->i < b->i ? -1 : 1;
    return a->from - b->from;
}

/* Fills o[0..na] with customer i's options; returns the count (none first). */
static int options(const cl_strategy_input *in, int64_t i, opt *o)
{
    o[0] = (opt){0, 0, -1};
    int m = 1;
    for (int k = 0; k < in->na; k++) {
        double c, v = cl_strategy_expected(in, i, k, &c);
        if (v > 0)
            o[m++] = (opt){c, v, k};
    }
    return m;
}

typedef struct bb {
    const cl_strategy_input *in;
    opt *opts;        /* n * (na + 1) hulls */
    int *nopt;
    int64_t n;
    int *cur, *best;
    double best_v;
    step *scratch; /* room for every hull increment */
} bb;

/* LP bound of customers [from, n) with budget b: fractional greedy over hull increments. */
static double lp_bound(const bb *s, int64_t from, double b)
{
    step *st = s->scratch;
    int64_t ns = 0;
    for (int64_t i = from; i < s->n; i++) {
        const opt *o = s->opts + i * (s->in->na + 1);
        for (int a = 1; a < s->nopt[i]; a++) {
            double dc = o[a].c - o[a - 1].c, dv = o[a].v - o[a - 1].v;
            st[ns++] = (step){dc, dv, dc > 0 ? dv / dc : INFINITY, i, a - 1, a};
        }
    }
    qsort(st, (size_t)ns, sizeof *st, by_eff);
    double v = 0;
    for (int64_t a = 0; a < ns; a++) {
        if (st[a].dc <= b) {
            b -= st[a].dc;
            v += st[a].dv;
        } else {
            v += st[a].dv * (b / st[a].dc);
            break;
        }
    }
    return v;
}

static void branch(bb *s, int64_t i, double b, double v)
{
    if (i == s->n) {
        if (v > s->best_v) {
            s->best_v = v;
            memcpy(s->best, s->cur, (size_t)s->n * sizeof *s->cur);
        }
        return;
    }
    if (v + lp_bound(s, i, b) <= s->best_v + 1e-12)
        return;
    const opt *o = s->opts + i * (s->in->na + 1);
    for (int a = s->nopt[i] - 1; a >= 0; a--) { /* richest option first */
        if (o[a].c > b + 1e-12)
            continue;
        s->cur[i] = o[a].k;
        branch(s, i + 1, b - o[a].c, v + o[a].v);
    }
    s->cur[i] = -1;
}

int cl_strategy_optimize(const cl_strategy_input *in, double budget, int exact, uint8_t *assign,
                         double *exp_net, double *cost)
{
    int rc = check_input(in);
    if (rc)
        return rc;
    if (!(budget >= 0) || isnan(budget))
        return cl_error(CL_EINVAL, "strategy: budget must be >= 0, got %g", budget);
    for (int k = 0; k < in->na; k++)
        if (in->act[k].fixed > 0)
            return cl_error(CL_ENOTSUP, "strategy: the optimiser plans per-customer costs; "
                                        "compare fixed-cost actions by simulating them");
    int64_t n = in->n;
    int na = in->na;
    if (exact && n > 40)
        return cl_error(CL_EINVAL, "strategy: exact optimisation is for up to 40 customers, "
                                   "got %lld (use the greedy)", (long long)n);
    opt *opts = cl_alloc((size_t)(n ? n : 1) * (na + 1) * sizeof *opts);
    int *nopt = cl_alloc((size_t)(n ? n : 1) * sizeof *nopt);
    if (!opts || !nopt) {
        cl_alloc_free(opts);
        cl_alloc_free(nopt);
        return CL_ENOMEM;
    }
    int64_t nsteps = 0;
    for (int64_t i = 0; i < n; i++) {
        opt *o = opts + i * (na + 1);
        nopt[i] = hull(o, options(in, i, o));
        nsteps += nopt[i] - 1;
    }
    int *chosen = cl_alloc((size_t)(n ? n : 1) * sizeof *chosen); /* hull position or action */
    if (!chosen) {
        cl_alloc_free(opts);
        cl_alloc_free(nopt);
        return CL_ENOMEM;
    }
    if (exact) {
        int *cur = cl_alloc((size_t)(n ? n : 1) * sizeof *cur);
        step *scratch = cl_alloc((size_t)(nsteps ? nsteps : 1) * sizeof *scratch);
        if (!cur || !scratch) {
            rc = CL_ENOMEM;
        } else {
            bb s = {in, opts, nopt, n, cur, chosen, 0 /* doing nothing is feasible */, scratch};
            for (int64_t i = 0; i < n; i++)
                cur[i] = chosen[i] = -1;
            branch(&s, 0, budget, 0);
        }
        cl_alloc_free(cur);
        cl_alloc_free(scratch);
    } else {
        step *st = cl_alloc((size_t)(nsteps ? nsteps : 1) * sizeof *st);
        if (!st) {
            rc = CL_ENOMEM;
        } else {
            int64_t ns = 0;
            for (int64_t i = 0; i < n; i++) {
                const opt *o = opts + i * (na + 1);
                for (int a = 1; a < nopt[i]; a++) {
                    double dc = o[a].c - o[a - 1].c, dv = o[a].v - o[a - 1].v;
                    st[ns++] = (step){dc, dv, dc > 0 ? dv / dc : INFINITY, i, a - 1, a};
                }
            }
            qsort(st, (size_t)ns, sizeof *st, by_eff);
            int *pos = chosen; /* hull position per customer during the pass */
            for (int64_t i = 0; i < n; i++)
                pos[i] = 0;
            double b = budget;
            for (int64_t a = 0; a < ns; a++)
                if (pos[st[a].i] == st[a].from && st[a].dc <= b) {
                    b -= st[a].dc;
                    pos[st[a].i] = st[a].to;
                }
            /* use what is left: for each customer (by index), the best affordable upgrade */
            for (int64_t i = 0; i < n; i++) {
                const opt *o = opts + i * (na + 1);
                int best = pos[i];
                for (int a = pos[i] + 1; a < nopt[i]; a++)
                    if (o[a].c - o[pos[i]].c <= b && o[a].v > o[best].v)
                        best = a;
                b -= o[best].c - o[pos[i]].c;
                pos[i] = best;
            }
            for (int64_t i = 0; i < n; i++)
                chosen[i] = opts[i * (na + 1) + pos[i]].k;
            cl_alloc_free(st);
        }
    }
    if (rc == CL_OK) {
        double v = 0, c = 0;
        for (int64_t i = 0; i < n; i++) {
            assign[i] = (uint8_t)(chosen[i] + 1);
            if (chosen[i] >= 0) {
                double wc;
                v += cl_strategy_expected(in, i, chosen[i], &wc);
                c += wc;
            }
        }
        *exp_net = v;
        *cost = c;
    }
    cl_alloc_free(opts);
    cl_alloc_free(nopt);
    cl_alloc_free(chosen);
    return rc;
}

/* ---- simulation --------------------------------------------------------------------- */

static int cmp_double(const void *x, const void *y)
{
    double a = *(const double *)x, b = *(const double *)y;
    return a < b ? -1 : a > b;
}

static cl_interval summarise(double *v, int draws)
{
    cl_interval r;
    double s = 0;
    for (int d = 0; d < draws; d++)
        s += v[d];
    r.mean = s / draws;
    qsort(v, (size_t)draws, sizeof *v, cmp_double);
    /* linear interpolation between order statistics (numpy's default) */
    double q[2] = {0.05, 0.95}, out[2];
    for (int j = 0; j < 2; j++) {
        double h = (draws - 1) * q[j];
        int lo = (int)floor(h);
        int hi = lo + 1 < draws ? lo + 1 : lo;
        out[j] = v[lo] + (h - lo) * (v[hi] - v[lo]);
    }
    r.lo = out[0];
    r.hi = out[1];
    return r;
}

int cl_strategy_simulate(const cl_strategy_input *in, const uint8_t *assign, int draws,
                         uint64_t seed, cl_sim_result *out, const cl_progress *prog)
{
    int rc = check_input(in);
    if (rc)
        return rc;
    if (draws < 1 || draws > 1000000)
        return cl_error(CL_EINVAL, "strategy: draws must be in 1..1000000, got %d", draws);
    int64_t n = in->n;
    int na = in->na;
    int used[256] = {0};
    memset(out, 0, sizeof *out);
    for (int64_t i = 0; i < n; i++) {
        if (assign[i] > na)
            return cl_error(CL_EINVAL, "strategy: customer %lld is assigned action %d of %d",
                            (long long)i + 1, assign[i], na);
        if (assign[i]) {
            used[assign[i] - 1] = 1;
            out->contacted++;
        }
    }
    double fixed = 0;
    for (int k = 0; k < na; k++)
        if (used[k])
            fixed += in->act[k].fixed;
    double *res = cl_alloc((size_t)draws * 5 * sizeof *res);
    if (!res)
        return CL_ENOMEM;
    double *acc = res, *sav = res + draws, *ret = res + 2 * draws, *cst = res + 3 * draws,
           *net = res + 4 * draws;
    int nth = cl_threads_get();
    const int chunk = 64; /* draws between progress reports */
    for (int d0 = 0; d0 < draws && rc == CL_OK; d0 += chunk) {
        int d1 = d0 + chunk < draws ? d0 + chunk : draws;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth)
        for (int d = d0; d < d1; d++) {
            cl_rng r;
            cl_rng_split(&r, seed, (uint64_t)d);
            double eff[256], shift[256];
            for (int k = 0; k < na; k++) { /* campaign-level uncertainty of the effect */
                shift[k] = in->act[k].effect_sd * cl_rng_normal(&r);
                double e = in->act[k].effect + shift[k];
                eff[k] = e < 0 ? 0 : e > 1 ? 1 : e;
            }
            const double *pd = in->nrep > 0 ? in->p_rep + (int64_t)(d % in->nrep) * n : in->p;
            const double *vd = in->nrep > 0 && in->value_rep
                                   ? in->value_rep + (int64_t)(d % in->nrep) * n
                                   : in->value;
            const double *ed = in->nrep > 0 && in->effect_rep
                                   ? in->effect_rep + (int64_t)(d % in->nrep) * n * na
                                   : in->effect;
            double a = 0, s = 0, rv = 0, c = fixed;
            for (int64_t i = 0; i < n; i++) {
                /* two uniforms per customer whatever the plan: common random numbers */
                double u_churn = cl_rng_uniform(&r), u_take = cl_rng_uniform(&r);
                int k = assign[i] - 1;
                if (k < 0)
                    continue;
                const cl_action *ac = &in->act[k];
                c += ac->contact;
                if (u_take >= ac->reach)
                    continue;
                a += 1;
                c += ac->accept * (in->scale ? in->scale[i] : 1);
                double e = in->effect ? ed[i * na + k] : eff[k];
                if (in->effect && ac->effect > 0) { /* scale per-customer effects by the draw */
                    e *= eff[k] / ac->effect;
                } else if (in->effect && ac->effect_sd > 0) {
                    /* a zero mean effect cannot be scaled: shift every customer's instead */
                    e += shift[k];
                    e = e < -1 ? -1 : e > 1 ? 1 : e;
                }
                double p = pd[i], p_after = p * (1 - e);
                if (u_churn < p && u_churn >= p_after) {
                    s += 1;
                    rv += vd[i];
                } else if (u_churn >= p && u_churn < p_after) { /* negative effect: lost */
                    s -= 1;
                    rv -= vd[i];
                }
            }
            acc[d] = a;
            sav[d] = s;
            ret[d] = rv;
            cst[d] = c;
            net[d] = rv - c;
        }
        rc = cl_progress_step(prog, "simulate", d1, draws, NULL);
    }
    if (rc == CL_OK) {
        out->accepted = summarise(acc, draws);
        out->saved = summarise(sav, draws);
        out->retained = summarise(ret, draws);
        out->cost = summarise(cst, draws);
        out->net = summarise(net, draws);
        out->roi = out->cost.mean > 0 ? out->net.mean / out->cost.mean : NAN;
    }
    cl_alloc_free(res);
    return rc;
}
