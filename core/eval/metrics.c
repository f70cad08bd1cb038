/* metrics.c - binary classification metrics (definitions as scikit-learn 1.2). */
#include "eval/metrics.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int cl_metrics_check(const float *y, const float *p, int64_t n, int probs)
{
    if (n < 1)
        return cl_error(CL_EINVAL, "metrics: need at least one row, got %lld", (long long)n);
    for (int64_t i = 0; i < n; i++) {
        if (y[i] != 0.0f && y[i] != 1.0f)
            return cl_error(CL_EINVAL, "metrics: y at row %lld is %g: labels must be 0 or 1",
                            (long long)(i + 1), (double)y[i]);
        if (isnan(p[i]))
            return cl_error(CL_EINVAL, "metrics: score at row %lld is NaN", (long long)(i + 1));
        if (probs && !(p[i] >= 0.0f && p[i] <= 1.0f))
            return cl_error(CL_EINVAL,
                            "metrics: probability at row %lld is %g: expected 0 <= p <= 1",
                            (long long)(i + 1), (double)p[i]);
    }
    return CL_OK;
}

int cl_metrics_confusion(cl_confusion *out, const float *y, const float *p, int64_t n,
                         double threshold)
{
    int rc = cl_metrics_check(y, p, n, 0);
    if (rc)
        return rc;
    if (isnan(threshold))
        return cl_error(CL_EINVAL, "metrics: threshold is NaN");
    cl_confusion c = {0, 0, 0, 0};
    for (int64_t i = 0; i < n; i++) {
        int pred = (double)p[i] >= threshold;
        if (y[i] == 1.0f)
            pred ? c.tp++ : c.fn++;
        else
            pred ? c.fp++ : c.tn++;
    }
    *out = c;
    return CL_OK;
}

static double ratio(double a, double b) { return b > 0 ? a / b : 0.0; }

void cl_metrics_from_confusion(cl_threshold_metrics *out, const cl_confusion *c)
{
    double tp = (double)c->tp, fp = (double)c->fp, tn = (double)c->tn, fn = (double)c->fn;
    double n = tp + fp + tn + fn;
    out->accuracy = ratio(tp + tn, n);
    out->precision = ratio(tp, tp + fp);
    out->recall = ratio(tp, tp + fn);
    out->specificity = ratio(tn, tn + fp);
    out->f1 = ratio(2 * tp, 2 * tp + fp + fn);
    out->balanced_accuracy = 0.5 * (out->recall + out->specificity);
    /* sklearn's balanced accuracy averages the recall of the classes present only */
    if (tp + fn == 0)
        out->balanced_accuracy = out->specificity;
    else if (tn + fp == 0)
        out->balanced_accuracy = out->recall;
    double den = (tp + fp) * (tp + fn) * (tn + fp) * (tn + fn);
    out->mcc = den > 0 ? (tp * tn - fp * fn) / sqrt(den) : 0.0;
}

double cl_metrics_fbeta(const cl_confusion *c, double beta)
{
    double b2 = beta * beta, tp = (double)c->tp;
    return ratio((1 + b2) * tp, (1 + b2) * tp + b2 * (double)c->fn + (double)c->fp);
}

/* ---- the sorted pass shared by every ranking metric ------------------------------------ */

typedef struct scored {
    float s;
    float y;
    int64_t i;
} scored;

static int by_score_desc(const void *a, const void *b)
{
    const scored *x = a, *z = b;
    if (x->s != z->s)
        return x->s > z->s ? -1 : 1;
    return (x->i > z->i) - (x->i < z->i); /* ties by row order: a total order, deterministic */
}

static scored *sort_desc(const float *y, const float *p, int64_t n)
{
    scored *v = cl_alloc_calloc((size_t)n, sizeof *v);
    if (!v)
        return NULL;
    for (int64_t i = 0; i < n; i++)
        v[i] = (scored){p[i], y[i], i};
    qsort(v, (size_t)n, sizeof *v, by_score_desc);
    return v;
}

/* Distinct thresholds in decreasing order with cumulative true/false positives at each
 * (predict score >= thr[k]). */
typedef struct clf_curve {
    int64_t k;
    double *thr, *tps, *fps;
} clf_curve;

static void clf_free(clf_curve *c)
{
    cl_alloc_free(c->thr);
    cl_alloc_free(c->tps);
    cl_alloc_free(c->fps);
    memset(c, 0, sizeof *c);
}

static int clf_build(clf_curve *c, const float *y, const float *p, int64_t n, int need_both,
                     const char *what)
{
    memset(c, 0, sizeof *c);
    int rc = cl_metrics_check(y, p, n, 0);
    if (rc)
        return rc;
    double npos = 0;
    for (int64_t i = 0; i < n; i++)
        npos += y[i];
    if (need_both && (npos == 0 || npos == (double)n))
        return cl_error(CL_EINVAL, "%s is undefined when y has only one class (all %d)", what,
                        npos == 0 ? 0 : 1);
    scored *v = sort_desc(y, p, n);
    c->thr = cl_alloc_calloc((size_t)n, sizeof(double));
    c->tps = cl_alloc_calloc((size_t)n, sizeof(double));
    c->fps = cl_alloc_calloc((size_t)n, sizeof(double));
    if (!v || !c->thr || !c->tps || !c->fps) {
        cl_alloc_free(v);
        clf_free(c);
        return CL_ENOMEM;
    }
    double tp = 0, fp = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (v[i].y == 1.0f)
            tp += 1;
        else
            fp += 1;
        if (i == n - 1 || v[i + 1].s != v[i].s) {
            c->thr[k] = v[i].s;
            c->tps[k] = tp;
            c->fps[k] = fp;
            k++;
        }
    }
    c->k = k;
    cl_alloc_free(v);
    return CL_OK;
}

typedef struct ranked {
    double s;
    float y;
} ranked;

static int by_score_asc(const void *a, const void *b)
{
    double x = ((const ranked *)a)->s, z = ((const ranked *)b)->s;
    return (x > z) - (x < z);
}

/* Rank sum of the positives: ties share their average rank, so the order qsort leaves equal
 * scores in cannot change the result (the sums add the same value per tie group). */
int cl_metrics_auc(double *out, const double *score, const float *y, int64_t n)
{
    *out = NAN;
    if (n <= 0)
        return CL_OK;
    ranked *v = cl_alloc((size_t)n * sizeof *v);
    if (!v)
        return CL_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        v[i] = (ranked){score[i], y[i]};
    qsort(v, (size_t)n, sizeof *v, by_score_asc);
    double npos = 0, nneg = 0, rank_sum = 0;
    for (int64_t i = 0; i < n;) {
        int64_t j = i;
        while (j < n && v[j].s == v[i].s)
            j++;
        double avg_rank = 0.5 * ((double)i + 1 + (double)j); /* ranks i+1 .. j */
        for (int64_t k = i; k < j; k++)
            if (v[k].y > 0.5f) {
                rank_sum += avg_rank;
                npos++;
            } else {
                nneg++;
            }
        i = j;
    }
    cl_alloc_free(v);
    if (npos > 0 && nneg > 0)
        *out = (rank_sum - npos * (npos + 1) / 2) / (npos * nneg);
    return CL_OK;
}

int cl_metrics_roc_auc(double *out, const float *y, const float *p, int64_t n)
{
    int rc = cl_metrics_check(y, p, n, 0);
    if (rc)
        return rc;
    double npos = 0;
    for (int64_t i = 0; i < n; i++)
        npos += y[i];
    if (npos == 0 || npos == (double)n)
        return cl_error(CL_EINVAL, "ROC AUC is undefined when y has only one class (all %d)",
                        npos == 0 ? 0 : 1);
    double *s = cl_alloc((size_t)n * sizeof *s);
    if (!s)
        return CL_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        s[i] = p[i];
    rc = cl_metrics_auc(out, s, y, n);
    cl_alloc_free(s);
    return rc;
}

int cl_metrics_average_precision(double *out, const float *y, const float *p, int64_t n)
{
    clf_curve c;
    int rc = clf_build(&c, y, p, n, 1, "average precision");
    if (rc)
        return rc;
    double P = c.tps[c.k - 1], ap = 0, prev_r = 0;
    for (int64_t k = 0; k < c.k; k++) {
        double r = c.tps[k] / P, prec = c.tps[k] / (c.tps[k] + c.fps[k]);
        ap += (r - prev_r) * prec;
        prev_r = r;
    }
    *out = ap;
    clf_free(&c);
    return CL_OK;
}

int cl_metrics_log_loss(double *out, const float *y, const float *p, int64_t n, double eps)
{
    int rc = cl_metrics_check(y, p, n, 1);
    if (rc)
        return rc;
    if (!(eps > 0 && eps < 0.5))
        return cl_error(CL_EINVAL, "log_loss: eps must be in (0, 0.5), got %g", eps);
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double q = fmin(fmax((double)p[i], eps), 1 - eps);
        s -= y[i] == 1.0f ? log(q) : log1p(-q);
    }
    *out = s / (double)n;
    return CL_OK;
}

int cl_metrics_brier(double *out, const float *y, const float *p, int64_t n)
{
    int rc = cl_metrics_check(y, p, n, 1);
    if (rc)
        return rc;
    double s = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)p[i] - (double)y[i];
        s += d * d;
    }
    *out = s / (double)n;
    return CL_OK;
}

/* ---- curves ------------------------------------------------------------------------- */

void cl_metrics_curve_free(cl_curve *c)
{
    if (!c)
        return;
    cl_alloc_free(c->x);
    cl_alloc_free(c->y);
    cl_alloc_free(c->t);
    memset(c, 0, sizeof *c);
}

static int curve_alloc(cl_curve *c, int64_t n)
{
    memset(c, 0, sizeof *c);
    c->x = cl_alloc_calloc((size_t)n, sizeof(double));
    c->y = cl_alloc_calloc((size_t)n, sizeof(double));
    c->t = cl_alloc_calloc((size_t)n, sizeof(double));
    if (!c->x || !c->y || !c->t) {
        cl_metrics_curve_free(c);
        return CL_ENOMEM;
    }
    c->n = n;
    return CL_OK;
}

int cl_metrics_roc_curve(cl_curve *out, const float *y, const float *p, int64_t n)
{
    clf_curve c;
    int rc = clf_build(&c, y, p, n, 1, "ROC curve");
    if (rc)
        return rc;
    if ((rc = curve_alloc(out, c.k + 1))) {
        clf_free(&c);
        return rc;
    }
    double P = c.tps[c.k - 1], N = c.fps[c.k - 1];
    out->x[0] = 0;
    out->y[0] = 0;
    out->t[0] = INFINITY;
    for (int64_t k = 0; k < c.k; k++) {
        out->x[k + 1] = c.fps[k] / N;
        out->y[k + 1] = c.tps[k] / P;
        out->t[k + 1] = c.thr[k];
    }
    clf_free(&c);
    return CL_OK;
}

int cl_metrics_pr_curve(cl_curve *out, const float *y, const float *p, int64_t n)
{
    clf_curve c;
    int rc = clf_build(&c, y, p, n, 1, "precision-recall curve");
    if (rc)
        return rc;
    double P = c.tps[c.k - 1];
    int64_t last = c.k - 1;
    if ((rc = curve_alloc(out, last + 2))) {
        clf_free(&c);
        return rc;
    }
    for (int64_t j = 0; j <= last; j++) {
        int64_t k = last - j;
        out->x[j] = c.tps[k] / P;
        out->y[j] = c.tps[k] / (c.tps[k] + c.fps[k]);
        out->t[j] = c.thr[k];
    }
    out->x[last + 1] = 0;
    out->y[last + 1] = 1;
    out->t[last + 1] = INFINITY;
    clf_free(&c);
    return CL_OK;
}

int cl_metrics_calibration(cl_curve *out, const float *y, const float *p, int64_t n, int bins)
{
    if (bins < 1 || bins > 100000)
        return cl_error(CL_EINVAL, "calibration: bins must be in [1, 100000], got %d", bins);
    int rc = cl_metrics_check(y, p, n, 1);
    if (rc)
        return rc;
    double *sp = cl_alloc_calloc((size_t)bins * 3, sizeof(double));
    if (!sp)
        return CL_ENOMEM;
    double *sy = sp + bins, *cnt = sy + bins;
    double step = 1.0 / bins; /* edges k * step, as numpy.linspace(0, 1, bins + 1) */
    for (int64_t i = 0; i < n; i++) {
        double v = p[i];
        /* number of inner edges strictly below v (numpy.searchsorted(edges, v, 'left')) */
        int b = (int)(v * bins);
        if (b > bins - 1)
            b = bins - 1;
        while (b > 0 && (double)b * step >= v)
            b--;
        while (b < bins - 1 && (double)(b + 1) * step < v)
            b++;
        sp[b] += v;
        sy[b] += y[i];
        cnt[b] += 1;
    }
    int64_t used = 0;
    for (int b = 0; b < bins; b++)
        used += cnt[b] > 0;
    if ((rc = curve_alloc(out, used))) {
        cl_alloc_free(sp);
        return rc;
    }
    int64_t j = 0;
    for (int b = 0; b < bins; b++) {
        if (cnt[b] == 0)
            continue;
        out->x[j] = sp[b] / cnt[b];
        out->y[j] = sy[b] / cnt[b];
        out->t[j] = cnt[b];
        j++;
    }
    cl_alloc_free(sp);
    return CL_OK;
}

int cl_metrics_gains(cl_curve *out, double *rate, const float *y, const float *p, int64_t n,
                     int groups)
{
    if (groups < 1 || groups > 1000)
        return cl_error(CL_EINVAL, "gains: groups must be in [1, 1000], got %d", groups);
    int rc = cl_metrics_check(y, p, n, 0);
    if (rc)
        return rc;
    if (n < groups)
        return cl_error(CL_EINVAL, "gains: need at least %d rows for %d groups, got %lld",
                        groups, groups, (long long)n);
    double npos = 0;
    for (int64_t i = 0; i < n; i++)
        npos += y[i];
    if (npos == 0)
        return cl_error(CL_EINVAL, "gains: y has no positives, so gains and lift are undefined");
    scored *v = sort_desc(y, p, n);
    if (!v)
        return CL_ENOMEM;
    if ((rc = curve_alloc(out, groups))) {
        cl_alloc_free(v);
        return rc;
    }
    double base = npos / (double)n, cum = 0;
    int64_t i = 0;
    for (int g = 1; g <= groups; g++) {
        int64_t end = (int64_t)g * n / groups; /* n < 2^40, groups <= 1000: no overflow */
        double in = 0;
        int64_t start = i;
        for (; i < end; i++)
            in += v[i].y;
        cum += in;
        out->x[g - 1] = (double)end / (double)n;
        out->y[g - 1] = cum / npos;
        out->t[g - 1] = out->y[g - 1] / out->x[g - 1];
        if (rate)
            rate[g - 1] = (in / (double)(end - start)) / base;
    }
    cl_alloc_free(v);
    return CL_OK;
}

int cl_metrics_best_threshold(double *threshold, double *value, const float *y, const float *p,
                              int64_t n, cl_thresh_rule rule, double cost_fp, double cost_fn)
{
    if (rule == CL_THRESH_COST && !(cost_fp >= 0 && cost_fn >= 0 && isfinite(cost_fp) &&
                                    isfinite(cost_fn)))
        return cl_error(CL_EINVAL, "best_threshold: costs must be finite and >= 0, got fp %g, "
                                   "fn %g", cost_fp, cost_fn);
    if (rule != CL_THRESH_F1 && rule != CL_THRESH_YOUDEN && rule != CL_THRESH_COST)
        return cl_error(CL_EINVAL, "best_threshold: unknown rule %d", (int)rule);
    clf_curve c;
    int rc = clf_build(&c, y, p, n, rule != CL_THRESH_COST, "best threshold");
    if (rc)
        return rc;
    double P = c.tps[c.k - 1], N = c.fps[c.k - 1];
    /* candidate -1 is t = +inf: nothing predicted positive */
    double best_t = INFINITY, best = 0;
    for (int64_t k = -1; k < c.k; k++) {
        double tp = k < 0 ? 0 : c.tps[k], fp = k < 0 ? 0 : c.fps[k];
        double v;
        if (rule == CL_THRESH_F1)
            v = ratio(2 * tp, tp + P + fp);
        else if (rule == CL_THRESH_YOUDEN)
            v = tp / P - fp / N;
        else
            v = -(cost_fp * fp + cost_fn * (P - tp));
        if (k < 0 || v > best) {
            best = v;
            best_t = k < 0 ? INFINITY : c.thr[k];
        }
    }
    clf_free(&c);
    *threshold = best_t;
    *value = rule == CL_THRESH_COST ? -best : best;
    return CL_OK;
}
