/* prep.c - the preprocessing pipeline: fit, transform, save/load. See prep.h. */
#include "frame/pipeline.h"
#include "base/alloc.h"
#include "frame/textnum.h"
#include "base/error.h"
#include "base/progress.h"
#include "base/rng.h"
#include "frame/frame_col.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const CL_IMPUTE_NAMES = "mean|median|most_frequent|constant|none";
const char *const CL_ENCODE_NAMES = "onehot|ordinal|native|none|target";
const char *const CL_SCALE_NAMES = "none|minmax|standard|robust";
const char *const CL_UNKNOWN_NAMES = "zero|other";
const char *const CL_ONEHOT_DROP_NAMES = "none|first|if_binary";

#define OTHER_LABEL "(other)"
#define MISSING_LABEL "(missing)"
#define IND_SLOT (-2)   /* srccat of a missing-indicator output */
/* 1: the first format; 2 adds onehot_drop, add_indicator, target encoding and robust
 * scaling, and is written only by pipelines that use one of them (the others are written in
 * format 1, byte for byte as before, so older binaries still read them). */
#define PREP_FORMAT 2

typedef struct pcol {
    char *name;
    int is_cat;
    double fill;        /* num: imputed value (NaN: none) */
    double shift, mul;  /* scaling: (x - shift) * mul */
    int ncat;           /* cat: kept categories, sorted by label */
    char **cats;
    int other;          /* cat: an "(other)" slot at index ncat */
    int fill_cat;       /* cat: category index for missing values, -1: none */
    int dropcat;        /* one-hot: the category without an output column, -1: none */
    int ind;            /* a missing indicator is the column's last output */
    double *te;         /* encode = target: ncat + other + 1 encodings (last: missing), */
    double te_prior;    /* and the fit frame's mean for unknown categories */
    int out0, nout;
} pcol;

struct cl_pipeline {
    cl_pipeline_opts o;     /* strings below are owned copies */
    char *target, *positive, *fill_label;
    char **drop;
    char **neg;             /* values meaning 0 (see prep.h); neg_known 0: any non-positive */
    int nneg, neg_known;
    int target_is_cat;
    int ncol;
    pcol *cols;
    int nout;
    char **fnames;
    int *src;               /* output column -> input column */
    int *srccat;            /* output column -> category index (one-hot), -1 otherwise */
};

void cl_pipeline_opts_default(cl_pipeline_opts *o)
{
    memset(o, 0, sizeof *o);
    o->impute = CL_IMPUTE_MEDIAN;
    o->fill_label = "missing";
    o->encode = CL_ENCODE_ONEHOT;
    o->scale = CL_SCALE_NONE;
    o->unknown = CL_UNKNOWN_ZERO;
    o->onehot_drop = CL_ONEHOT_DROP_NONE;
    o->smooth = -1;
    o->cv = 5;
    o->shuffle = 1;
    o->seed = 42;
}

void cl_pipeline_free(cl_pipeline *p)
{
    if (!p)
        return;
    for (int j = 0; j < p->ncol; j++) {
        cl_alloc_free(p->cols[j].name);
        for (int k = 0; p->cols[j].cats && k < p->cols[j].ncat; k++)
            cl_alloc_free(p->cols[j].cats[k]);
        cl_alloc_free(p->cols[j].cats);
        cl_alloc_free(p->cols[j].te);
    }
    cl_alloc_free(p->cols);
    for (int j = 0; p->fnames && j < p->nout; j++)
        cl_alloc_free(p->fnames[j]);
    cl_alloc_free(p->fnames);
    cl_alloc_free(p->src);
    cl_alloc_free(p->srccat);
    for (int k = 0; k < p->o.ndrop; k++)
        cl_alloc_free(p->drop[k]);
    cl_alloc_free(p->drop);
    for (int k = 0; k < p->nneg; k++)
        cl_alloc_free(p->neg[k]);
    cl_alloc_free(p->neg);
    cl_alloc_free(p->target);
    cl_alloc_free(p->positive);
    cl_alloc_free(p->fill_label);
    cl_alloc_free(p);
}

static char *dup_or_null(const char *s, int *rc)
{
    if (!s)
        return NULL;
    char *d = cl_alloc_strdup(s);
    if (!d)
        *rc = CL_ENOMEM;
    return d;
}

/* A pipeline shell holding copies of the options. */
static int pipeline_new(cl_pipeline **out, const cl_pipeline_opts *o)
{
    cl_pipeline *p = cl_alloc_calloc(1, sizeof *p);
    if (!p)
        return CL_ENOMEM;
    p->o = *o;
    int rc = CL_OK;
    p->target = dup_or_null(o->target, &rc);
    p->positive = dup_or_null(o->positive, &rc);
    p->fill_label = dup_or_null(o->fill_label ? o->fill_label : "missing", &rc);
    p->o.ndrop = 0;
    if (rc == CL_OK && o->ndrop > 0) {
        p->drop = cl_alloc_calloc((size_t)o->ndrop, sizeof *p->drop);
        if (!p->drop)
            rc = CL_ENOMEM;
        for (int k = 0; rc == CL_OK && k < o->ndrop; k++, p->o.ndrop++)
            p->drop[k] = dup_or_null(o->drop[k], &rc);
    }
    p->nneg = 0;
    if (rc == CL_OK && o->negative) {
        p->neg = cl_alloc_calloc((size_t)o->nnegative + 1, sizeof *p->neg);
        if (!p->neg)
            rc = CL_ENOMEM;
        for (int k = 0; rc == CL_OK && k < o->nnegative; k++, p->nneg++)
            p->neg[k] = dup_or_null(o->negative[k], &rc);
        p->neg_known = 1;
    }
    p->o.negative = NULL; /* the copies live in p->neg */
    p->o.nnegative = 0;
    p->o.target = p->target;
    p->o.positive = p->positive;
    p->o.fill_label = p->fill_label;
    p->o.drop = (const char *const *)p->drop;
    if (rc) {
        cl_pipeline_free(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int find_cat(const pcol *c, const char *s)
{
    char *const *hit = bsearch(&s, c->cats, (size_t)c->ncat, sizeof *c->cats, cmp_str);
    return hit ? (int)(hit - c->cats) : -1;
}

typedef struct labcount {
    const char *label;
    int64_t count;
} labcount;

static int cmp_labcount(const void *a, const void *b)
{
    const labcount *x = a, *y = b;
    if (x->count != y->count)
        return x->count > y->count ? -1 : 1;
    return strcmp(x->label, y->label);
}

static int is_onehot(const cl_pipeline *p, const pcol *pc)
{
    return pc->is_cat && p->o.encode == CL_ENCODE_ONEHOT;
}

static int is_te(const cl_pipeline *p, const pcol *pc)
{
    return pc->is_cat && p->o.encode == CL_ENCODE_TARGET;
}

/* The category onehot_drop leaves without a column (see prep.h), -1: none. */
static int expected_drop(const cl_pipeline *p, const pcol *pc)
{
    if (!is_onehot(p, pc))
        return -1;
    if (p->o.onehot_drop == CL_ONEHOT_DROP_FIRST)
        return pc->ncat >= 1 ? 0 : -1;
    if (p->o.onehot_drop == CL_ONEHOT_DROP_IF_BINARY)
        return pc->ncat == 2 ? 0 : -1;
    return -1;
}

/* One-hot: the output slot (within the column) of category c, -1 for the dropped one. */
static int onehot_slot(const pcol *pc, int c)
{
    if (pc->dropcat < 0 || c < pc->dropcat)
        return c;
    return c == pc->dropcat ? -1 : c - 1;
}

/* Number of encoding slots of a target-encoded column: categories, other, missing. */
static int te_nslot(const pcol *pc)
{
    return pc->ncat + pc->other + 1;
}

static int fit_cat(cl_pipeline *p, pcol *pc, const cl_column *col)
{
    const cl_dict *d = col->dict;
    labcount *lc = cl_alloc_calloc((size_t)d->n + 1, sizeof *lc);
    if (!lc)
        return CL_ENOMEM;
    for (int32_t k = 0; k < d->n; k++)
        lc[k].label = d->labels[k];
    for (int64_t i = 0; i < col->n; i++)
        if (col->codes[i] >= 0)
            lc[col->codes[i]].count++;
    qsort(lc, (size_t)d->n, sizeof *lc, cmp_labcount); /* most frequent first, ties by label */
    int nseen = 0;
    while (nseen < d->n && lc[nseen].count > 0)
        nseen++;
    int keep = nseen;
    if (p->o.max_categories > 0 && keep > p->o.max_categories)
        keep = p->o.max_categories;
    int add_fill = p->o.impute == CL_IMPUTE_CONSTANT;
    pc->cats = cl_alloc_calloc((size_t)keep + 1, sizeof *pc->cats);
    int rc = pc->cats ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < keep; k++, pc->ncat++)
        if (!(pc->cats[k] = cl_alloc_strdup(lc[k].label)))
            rc = CL_ENOMEM;
    if (rc == CL_OK && add_fill) {
        int have = 0;
        for (int k = 0; k < keep; k++)
            have |= !strcmp(pc->cats[k], p->fill_label);
        if (!have) {
            if (!(pc->cats[pc->ncat] = cl_alloc_strdup(p->fill_label)))
                rc = CL_ENOMEM;
            else
                pc->ncat++;
        }
    }
    const char *mode = nseen > 0 ? lc[0].label : NULL;
    if (rc == CL_OK) {
        qsort(pc->cats, (size_t)pc->ncat, sizeof *pc->cats, cmp_str);
        pc->other = p->o.unknown == CL_UNKNOWN_OTHER;
        pc->fill_cat = -1;
        if (p->o.impute == CL_IMPUTE_CONSTANT)
            pc->fill_cat = find_cat(pc, p->fill_label);
        else if (p->o.impute != CL_IMPUTE_NONE && mode)
            pc->fill_cat = find_cat(pc, mode);
        pc->dropcat = expected_drop(p, pc);
    }
    cl_alloc_free(lc);
    return rc;
}

static int fit_num_fill(cl_pipeline *p, pcol *pc, const cl_column *col)
{
    double v = NAN;
    int rc = CL_OK;
    switch (p->o.impute) {
    case CL_IMPUTE_MEAN: rc = cl_col_mean(col, &v); break;
    case CL_IMPUTE_MEDIAN: rc = cl_col_median(col, &v); break;
    case CL_IMPUTE_CONSTANT: v = p->o.fill_value; break;
    case CL_IMPUTE_NONE: v = NAN; break;
    case CL_IMPUTE_MOST_FREQUENT: {
        cl_frame *vc;
        rc = cl_col_value_counts(&vc, col, "v");
        if (rc == CL_OK) {
            /* highest count; ties: the smallest value */
            for (int64_t i = 0; i < vc->nrow; i++)
                if (vc->cols[1]->num[i] == vc->cols[1]->num[0] &&
                    (isnan(v) || vc->cols[0]->num[i] < v))
                    v = vc->cols[0]->num[i];
            cl_frame_free(vc);
        }
        break;
    }
    }
    if (rc)
        return rc;
    if (isnan(v) && p->o.impute != CL_IMPUTE_NONE)
        v = 0; /* a column missing everywhere in the fit frame */
    pc->fill = v;
    return CL_OK;
}

/* Value of input column pc on row i of a (converted) column, before scaling. */
static double raw_value(const pcol *pc, const cl_column *col, const int32_t *map, int64_t i)
{
    if (!pc->is_cat) {
        double x = col->num[i];
        return isnan(x) ? pc->fill : x;
    }
    int32_t c = col->codes[i];
    int k = c < 0 ? pc->fill_cat : map[c] >= 0 ? map[c] : pc->other ? pc->ncat : -1;
    return k >= 0 ? (double)k : NAN;
}

/* encode = target: the encoding slot of row i (a kept category 0..ncat-1, ncat the other
 * slot when there is one, te_nslot - 1 a missing value left missing), -1: unknown. */
static int te_slot(const pcol *pc, const cl_column *col, const int32_t *map, int64_t i)
{
    int32_t c = col->codes[i];
    if (c < 0)
        return pc->fill_cat >= 0 ? pc->fill_cat : te_nslot(pc) - 1;
    return map[c] >= 0 ? map[c] : pc->other ? pc->ncat : -1;
}

/* The target encodings (prep.h) of column pc fitted on the rows i with fold[i] != q (every
 * row when fold is NULL): enc[te_nslot], *prior = the mean of y over those rows. */
static int te_fit(const cl_pipeline *p, const pcol *pc, const cl_column *col, const int32_t *map,
                  const float *y, const int32_t *fold, int q, double *enc, double *prior)
{
    int ns = te_nslot(pc);
    double *sum = cl_alloc_calloc((size_t)ns * 3, sizeof *sum);
    if (!sum)
        return CL_ENOMEM;
    double *cnt = sum + ns, *ss = cnt + ns;
    double ys = 0;
    int64_t n = 0;
    for (int64_t i = 0; i < col->n; i++) {
        if (fold && fold[i] == q)
            continue;
        ys += y[i];
        n++;
        int s = te_slot(pc, col, map, i);
        if (s >= 0) {
            sum[s] += y[i];
            cnt[s] += 1;
        }
    }
    double mean = n > 0 ? ys / (double)n : 0, var = 0;
    for (int64_t i = 0; i < col->n; i++)
        if (!fold || fold[i] != q)
            var += ((double)y[i] - mean) * ((double)y[i] - mean);
    var = n > 0 ? var / (double)n : 0; /* population variance, as numpy's var */
    int autos = p->o.smooth < 0;
    if (autos)
        for (int64_t i = 0; i < col->n; i++) {
            int s = (fold && fold[i] == q) ? -1 : te_slot(pc, col, map, i);
            if (s >= 0) {
                double d = (double)y[i] - sum[s] / cnt[s];
                ss[s] += d * d;
            }
        }
    for (int s = 0; s < ns; s++) {
        if (autos) {
            /* NaN when the category has no rows, or var(y) = 0 and its ss = 0 */
            double lam = var * cnt[s] / (var * cnt[s] + ss[s] / cnt[s]);
            enc[s] = isnan(lam) ? mean : lam * (sum[s] / cnt[s]) + (1 - lam) * mean;
        } else {
            double c = cnt[s] + p->o.smooth;
            enc[s] = c == 0 ? mean : (sum[s] + p->o.smooth * mean) / c;
        }
    }
    *prior = mean;
    cl_alloc_free(sum);
    return CL_OK;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* numpy's default (linear) quantile of sorted v[0..n-1], n > 0 */
static double quantile_sorted(const double *v, int64_t n, double q)
{
    double pos = q * (double)(n - 1);
    int64_t lo = (int64_t)floor(pos);
    if (lo >= n - 1)
        return v[n - 1];
    double t = pos - (double)lo;
    return v[lo] + t * (v[lo + 1] - v[lo]);
}

static int fit_robust(pcol *pc, const cl_column *col, const int32_t *map)
{
    double *v = cl_alloc(((size_t)col->n + 1) * sizeof *v);
    if (!v)
        return CL_ENOMEM;
    int64_t k = 0;
    for (int64_t i = 0; i < col->n; i++) {
        double x = raw_value(pc, col, map, i);
        if (!isnan(x))
            v[k++] = x;
    }
    if (k > 0) {
        qsort(v, (size_t)k, sizeof *v, cmp_double);
        double iqr = quantile_sorted(v, k, 0.75) - quantile_sorted(v, k, 0.25);
        pc->shift = quantile_sorted(v, k, 0.5);
        /* sklearn's _handle_zeros_in_scale: a scale below 10 eps counts as 0 -> 1 */
        pc->mul = iqr < 10 * 2.220446049250313e-16 ? 1.0 : 1.0 / iqr;
    }
    cl_alloc_free(v);
    return CL_OK;
}

/* Row i of a (converted) column is missing, before imputation. */
static int is_missing(const pcol *pc, const cl_column *col, int64_t i)
{
    return pc->is_cat ? col->codes[i] < 0 : isnan(col->num[i]);
}

static int fit_scale(cl_pipeline *p, pcol *pc, const cl_column *col, const int32_t *map)
{
    pc->shift = 0;
    pc->mul = 1;
    if (p->o.scale == CL_SCALE_NONE || (pc->is_cat && p->o.encode != CL_ENCODE_ORDINAL))
        return CL_OK;
    if (p->o.scale == CL_SCALE_ROBUST)
        return fit_robust(pc, col, map);
    double lo = INFINITY, hi = -INFINITY, s = 0, ss = 0;
    int64_t k = 0;
    for (int64_t i = 0; i < col->n; i++) {
        double x = raw_value(pc, col, map, i);
        if (isnan(x))
            continue;
        lo = x < lo ? x : lo;
        hi = x > hi ? x : hi;
        s += x;
        k++;
    }
    if (k == 0)
        return CL_OK;
    double mean = s / (double)k;
    for (int64_t i = 0; i < col->n; i++) {
        double x = raw_value(pc, col, map, i);
        if (!isnan(x))
            ss += (x - mean) * (x - mean);
    }
    if (p->o.scale == CL_SCALE_MINMAX) {
        pc->shift = lo;
        pc->mul = hi > lo ? 1.0 / (hi - lo) : 1.0;
    } else {
        double sd = sqrt(ss / (double)k); /* population sd, as sklearn's StandardScaler */
        pc->shift = mean;
        pc->mul = sd > 0 ? 1.0 / sd : 1.0;
    }
    return CL_OK;
}

/* The column as the pipeline expects it (cat or num), converted by its text if needed. */
static int as_kind(const pcol *pc, const cl_column *col, cl_column **out)
{
    int rc = cl_col_astype(out, col, pc->is_cat ? CL_CAT : (col->type == CL_DATE ? CL_DATE : CL_NUM));
    if (rc)
        return cl_error_wrap(rc, "column '%s'", pc->name);
    return CL_OK;
}

/* Frame dictionary code -> kept category index (-1: unknown). */
static int cat_map(const pcol *pc, const cl_column *col, int32_t **map)
{
    *map = cl_alloc(((size_t)col->dict->n + 1) * sizeof **map);
    if (!*map)
        return CL_ENOMEM;
    for (int32_t k = 0; k < col->dict->n; k++)
        (*map)[k] = find_cat(pc, col->dict->labels[k]);
    return CL_OK;
}

static int layout(cl_pipeline *p)
{
    int n = 0;
    for (int j = 0; j < p->ncol; j++) {
        pcol *pc = &p->cols[j];
        pc->out0 = n;
        pc->nout = (is_onehot(p, pc) ? pc->ncat + pc->other - (pc->dropcat >= 0) : 1) + pc->ind;
        n += pc->nout;
    }
    p->nout = n;
    p->fnames = cl_alloc_calloc((size_t)n + 1, sizeof *p->fnames);
    p->src = cl_alloc_calloc((size_t)n + 1, sizeof *p->src);
    p->srccat = cl_alloc_calloc((size_t)n + 1, sizeof *p->srccat);
    if (!p->fnames || !p->src || !p->srccat)
        return CL_ENOMEM;
    for (int j = 0; j < p->ncol; j++) {
        pcol *pc = &p->cols[j];
        for (int k = 0; k < pc->nout; k++) {
            int o = pc->out0 + k;
            p->src[o] = j;
            p->srccat[o] = -1;
            char *name;
            int ind = pc->ind && k == pc->nout - 1;
            if (!ind && !is_onehot(p, pc)) {
                name = cl_alloc_strdup(pc->name);
            } else {
                int c = k + (pc->dropcat >= 0 && k >= pc->dropcat); /* onehot_slot's inverse */
                const char *lab = ind ? MISSING_LABEL : c < pc->ncat ? pc->cats[c] : OTHER_LABEL;
                size_t len = strlen(pc->name) + strlen(lab) + 2;
                name = cl_alloc(len);
                if (name)
                    snprintf(name, len, "%s=%s", pc->name, lab);
                p->srccat[o] = ind ? IND_SLOT : c;
            }
            if (!name)
                return CL_ENOMEM;
            p->fnames[o] = name;
        }
    }
    return CL_OK;
}

static int is_dropped(const cl_pipeline *p, const char *name)
{
    if (p->o.columns) {
        int in = 0;
        for (int k = 0; k < p->o.ncolumns && !in; k++)
            in = !strcmp(p->o.columns[k], name);
        if (!in)
            return 1;
    }
    for (int k = 0; k < p->o.ndrop; k++)
        if (!strcmp(p->drop[k], name))
            return 1;
    return p->target && !strcmp(p->target, name);
}

static int transform_y(const cl_pipeline *p, const cl_column *t, cl_tensor **y, const char *what);

/* Text of the target value at row i of t (its label, or a number's shortest round-trip
 * text) in buf; NULL when missing. */
static const char *target_text(const cl_column *t, int64_t i, char *buf, size_t cap)
{
    if (t->type == CL_CAT)
        return t->codes[i] < 0 ? NULL : t->dict->labels[t->codes[i]];
    if (isnan(t->num[i]))
        return NULL;
    snprintf(buf, cap, "%.17g", t->num[i]);
    return buf;
}

/* Same value: labels by text, numbers by value (so "0" and "0.0" agree). */
static int same_value(const cl_pipeline *p, const char *a, const char *b)
{
    if (p->target_is_cat)
        return strcmp(a, b) == 0;
    double x, y;
    return cl_textnum_parse_num(a, strlen(a), &x) && cl_textnum_parse_num(b, strlen(b), &y) && x == y;
}

/* With a positive label, learns what means 0: the given negatives, or the one other value of
 * the fit frame. Then maps the fit frame's target once, so a value that is neither fails
 * here, naming its row. */
static int fit_negatives(cl_pipeline *p, const cl_column *t)
{
    for (int k = 0; k < p->nneg; k++)
        if (same_value(p, p->neg[k], p->positive))
            return cl_error(CL_EINVAL, "pipeline: '%s' is both the positive label and a "
                            "negative of target '%s'", p->positive, p->target);
    if (!p->neg_known) {
        char buf[40];
        for (int64_t i = 0; i < t->n; i++) {
            const char *v = target_text(t, i, buf, sizeof buf);
            if (!v || same_value(p, v, p->positive))
                continue;
            if (p->nneg == 0) {
                p->neg = cl_alloc_calloc(2, sizeof *p->neg);
                if (!p->neg || !(p->neg[0] = cl_alloc_strdup(v)))
                    return CL_ENOMEM;
                p->nneg = 1;
            } else if (!same_value(p, v, p->neg[0])) {
                return cl_error(CL_EINVAL, "pipeline: target '%s' holds '%s' and '%s' besides "
                                "the positive label '%s': give negative = <the value or list "
                                "of values meaning 0>", p->target, p->neg[0], v, p->positive);
            }
        }
        p->neg_known = 1;
    }
    cl_tensor *y = NULL;
    int rc = transform_y(p, t, &y, "pipeline");
    cl_tensor_free(y);
    return rc;
}

int cl_pipeline_fit(cl_pipeline **out, const cl_frame *f, const cl_pipeline_opts *o)
{
    *out = NULL;
    cl_pipeline_opts def;
    if (!o) {
        cl_pipeline_opts_default(&def);
        o = &def;
    }
    if (!isfinite(o->fill_value)) /* it would become the feature value of missing rows */
        return cl_error(CL_EINVAL, "pipeline: fill_value must be a finite number, got %g",
                        o->fill_value);
    if ((unsigned)o->onehot_drop > CL_ONEHOT_DROP_IF_BINARY)
        return cl_error(CL_EINVAL, "pipeline: onehot_drop must be one of %s, got %d",
                        CL_ONEHOT_DROP_NAMES, (int)o->onehot_drop);
    if ((unsigned)o->scale > CL_SCALE_ROBUST || (unsigned)o->encode > CL_ENCODE_TARGET)
        return cl_error(CL_EINVAL, "pipeline: scale %d or encode %d out of range", (int)o->scale,
                        (int)o->encode);
    if (o->encode == CL_ENCODE_TARGET) {
        if (!(o->smooth < 0 || isfinite(o->smooth)))
            return cl_error(CL_EINVAL, "pipeline: smooth must be \"auto\" or a finite number "
                            ">= 0, got %g", o->smooth);
        if (o->cv < 2)
            return cl_error(CL_EINVAL, "pipeline: cv must be a whole number >= 2 (the folds of "
                            "target encoding in fit_transform), got %d", o->cv);
        if (!o->target)
            return cl_error(CL_EINVAL, "pipeline: encode = target needs target = <the 0/1 label "
                            "column> (and positive = <its label meaning 1> for a cat target)");
    }
    cl_pipeline *p;
    int rc = pipeline_new(&p, o);
    if (rc)
        return rc;
    cl_tensor *ty = NULL; /* encode = target: the fit frame's 0/1 target */
    for (int k = 0; rc == CL_OK && k < p->o.ndrop; k++) {
        int j;
        if ((rc = cl_frame_col(f, p->drop[k], &j)))
            rc = (!strcmp(p->drop[k], "first") || !strcmp(p->drop[k], "if_binary"))
                ? cl_error_wrap(rc, "pipeline: drop lists columns left out; to drop a one-hot "
                                "category give onehot_drop = \"%s\"", p->drop[k])
                : cl_error_wrap(rc, "pipeline: drop");
    }
    for (int k = 0; rc == CL_OK && o->columns && k < o->ncolumns; k++) {
        int j;
        if ((rc = cl_frame_col(f, o->columns[k], &j)))
            rc = cl_error_wrap(rc, "pipeline: columns");
    }
    if (rc == CL_OK && p->target) {
        int j;
        if ((rc = cl_frame_col(f, p->target, &j))) {
            rc = cl_error_wrap(rc, "pipeline: target");
        } else {
            const cl_column *t = f->cols[j];
            p->target_is_cat = t->type == CL_CAT;
            if (p->target_is_cat && !p->positive)
                rc = cl_error(CL_EINVAL,
                              "pipeline: target '%s' is a cat column: give positive = <the "
                              "label meaning 1>%s%s%s",
                              p->target, t->dict->n > 0 ? " (labels: " : "",
                              t->dict->n > 0 ? t->dict->labels[0] : "",
                              t->dict->n > 1 ? ", ...)" : t->dict->n > 0 ? ")" : "");
            else if (p->target_is_cat && cl_frame_dict_find(t->dict, p->positive, strlen(p->positive)) < 0)
                rc = cl_error(CL_EINVAL, "pipeline: target '%s' has no label '%s'", p->target,
                              p->positive);
            double v;
            if (rc == CL_OK && !p->target_is_cat && p->positive &&
                !cl_textnum_parse_num(p->positive, strlen(p->positive), &v))
                rc = cl_error(CL_EINVAL, "pipeline: target '%s' is a num column: positive must "
                              "be a number, got '%s'", p->target, p->positive);
            if (rc == CL_OK && p->positive)
                rc = fit_negatives(p, t);
            if (rc == CL_OK && p->o.encode == CL_ENCODE_TARGET &&
                (rc = transform_y(p, t, &ty, "pipeline: encode = target needs a 0/1 target")))
                rc = cl_error_wrap(rc, "pipeline: target '%s'", p->target);
        }
    }
    if (rc == CL_OK) {
        p->cols = cl_alloc_calloc((size_t)f->ncol + 1, sizeof *p->cols);
        if (!p->cols)
            rc = CL_ENOMEM;
    }
    for (int j = 0; rc == CL_OK && j < f->ncol; j++) {
        if (is_dropped(p, f->names[j]))
            continue;
        pcol *pc = &p->cols[p->ncol++];
        const cl_column *col = f->cols[j];
        pc->is_cat = col->type == CL_CAT;
        pc->fill_cat = -1;
        pc->dropcat = -1;
        pc->fill = NAN;
        if (p->o.add_indicator)
            for (int64_t i = 0; i < col->n && !pc->ind; i++)
                pc->ind = pc->is_cat ? col->codes[i] < 0 : isnan(col->num[i]);
        if (!(pc->name = cl_alloc_strdup(f->names[j]))) {
            rc = CL_ENOMEM;
            break;
        }
        int32_t *map = NULL;
        if (pc->is_cat) {
            rc = fit_cat(p, pc, col);
            if (rc == CL_OK)
                rc = cat_map(pc, col, &map);
        } else {
            rc = fit_num_fill(p, pc, col);
        }
        if (rc == CL_OK)
            rc = fit_scale(p, pc, col, map);
        if (rc == CL_OK && is_te(p, pc)) {
            pc->te = cl_alloc((size_t)te_nslot(pc) * sizeof *pc->te);
            rc = pc->te ? te_fit(p, pc, col, map, cl_tensor_data(ty), NULL, 0, pc->te,
                                 &pc->te_prior)
                        : CL_ENOMEM;
        }
        cl_alloc_free(map);
        if (rc)
            rc = cl_error_wrap(rc, "pipeline: column '%s'", f->names[j]);
    }
    if (rc == CL_OK)
        rc = layout(p);
    cl_tensor_free(ty);
    p->o.columns = NULL; /* borrowed from the caller: used by fit only */
    p->o.ncolumns = 0;
    if (rc) {
        cl_pipeline_free(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

/* "transform: row 7: target 'Churn' is 'Maybe', neither the positive label 'Yes' nor a
 * negative ('No')" */
static int not_a_label(const cl_pipeline *p, int64_t i, const char *v, const char *what)
{
    char list[200] = "";
    for (int k = 0; k < p->nneg; k++) {
        size_t l = strlen(list);
        if (l > sizeof list - 40) {
            snprintf(list + l, sizeof list - l, ", ...");
            break;
        }
        snprintf(list + l, sizeof list - l, "%s'%s'", k ? ", " : "", p->neg[k]);
    }
    return cl_error(CL_EINVAL, "%s: row %lld: target '%s' is '%s', neither the positive "
                    "label '%s' nor a negative (%s)", what, (long long)i + 1, p->target, v,
                    p->positive, p->nneg ? list : "none seen when fitting; give negative =");
}

static int transform_y(const cl_pipeline *p, const cl_column *t, cl_tensor **y, const char *what)
{
    int rc = cl_tensor_new(y, 1, t->n, 1);
    if (rc)
        return rc;
    float *d = cl_tensor_data(*y);
    if (p->target_is_cat) {
        cl_column *tc = NULL;
        if ((rc = cl_col_astype(&tc, t, CL_CAT)))
            goto fail;
        int32_t pos = cl_frame_dict_find(tc->dict, p->positive, strlen(p->positive));
        /* per code: 1 positive, 0 a negative, -1 neither (an error when negatives are known) */
        int8_t *kind = cl_alloc((size_t)tc->dict->n + 1);
        if (!kind) {
            cl_frame_column_free(tc);
            rc = CL_ENOMEM;
            goto fail;
        }
        for (int32_t c = 0; c < tc->dict->n; c++) {
            kind[c] = c == pos ? 1 : p->neg_known ? -1 : 0;
            for (int k = 0; kind[c] < 0 && k < p->nneg; k++)
                if (!strcmp(tc->dict->labels[c], p->neg[k]))
                    kind[c] = 0;
        }
        for (int64_t i = 0; i < t->n && rc == CL_OK; i++) {
            if (tc->codes[i] < 0)
                rc = cl_error(CL_EINVAL, "%s: row %lld: target '%s' is missing", what,
                              (long long)i + 1, p->target);
            else if (kind[tc->codes[i]] < 0)
                rc = not_a_label(p, i, tc->dict->labels[tc->codes[i]], what);
            else
                d[i] = (float)kind[tc->codes[i]];
        }
        cl_alloc_free(kind);
        cl_frame_column_free(tc);
    } else {
        cl_column *tn = NULL;
        if ((rc = cl_col_astype(&tn, t, CL_NUM)))
            goto fail;
        double pos = NAN;
        if (p->positive)
            cl_textnum_parse_num(p->positive, strlen(p->positive), &pos);
        for (int64_t i = 0; i < t->n && rc == CL_OK; i++) {
            double v = tn->num[i];
            if (isnan(v))
                rc = cl_error(CL_EINVAL, "%s: row %lld: target '%s' is missing", what,
                              (long long)i + 1, p->target);
            else if (p->positive && v == pos)
                d[i] = 1.0f;
            else if (p->positive) {
                int neg = !p->neg_known;
                for (int k = 0; !neg && k < p->nneg; k++) {
                    double q;
                    neg = cl_textnum_parse_num(p->neg[k], strlen(p->neg[k]), &q) && q == v;
                }
                char buf[40];
                snprintf(buf, sizeof buf, "%.17g", v);
                if (!neg)
                    rc = not_a_label(p, i, buf, what);
                d[i] = 0.0f;
            }
            else if (v != 0 && v != 1)
                rc = cl_error(CL_EINVAL, "%s: row %lld: target '%s' is %g, expected 0 or 1 "
                              "(or give positive = <value meaning 1>)", what, (long long)i + 1,
                              p->target, v);
            else
                d[i] = (float)v;
        }
        cl_frame_column_free(tn);
    }
    if (rc == CL_OK)
        return CL_OK;
fail:
    cl_tensor_free(*y);
    *y = NULL;
    return rc;
}

int cl_pipeline_transform(const cl_pipeline *p, const cl_frame *f, cl_tensor **X, cl_tensor **y)
{
    *X = NULL;
    if (y)
        *y = NULL;
    int idx[1];
    (void)idx;
    for (int j = 0; j < p->ncol; j++) {
        int k;
        int rc = cl_frame_col(f, p->cols[j].name, &k);
        if (rc)
            return cl_error_wrap(rc, "transform: the pipeline was fit with column '%s'",
                                 p->cols[j].name);
    }
    for (int j = 0; j < p->ncol; j++)
        if (p->cols[j].is_cat && p->o.encode == CL_ENCODE_NONE)
            return cl_error(CL_EINVAL, "transform: column '%s' stays categorical (encode = none): "
                            "use transform_frame, or encode it", p->cols[j].name);
    int rc = cl_tensor_new(X, 2, f->nrow, p->nout);
    if (rc)
        return rc;
    float *x = cl_tensor_data(*X);
    int64_t n = f->nrow, w = p->nout;
    for (int j = 0; j < p->ncol && rc == CL_OK; j++) {
        const pcol *pc = &p->cols[j];
        cl_column *col = NULL;
        int32_t *map = NULL;
        /* Ctrl-C per input column: millions of rows times thousands of one-hot outputs */
        if ((rc = cl_progress_step(NULL, "transform", j, p->ncol, NULL)))
            break;
        rc = as_kind(pc, f->cols[cl_frame_find(f, pc->name)], &col);
        if (rc == CL_OK && pc->is_cat)
            rc = cat_map(pc, col, &map);
        if (rc == CL_OK) {
            int onehot = is_onehot(p, pc), te = is_te(p, pc);
            int clip = p->o.clip && p->o.scale == CL_SCALE_MINMAX;
            int nval = pc->nout - pc->ind; /* the indicator comes last */
            for (int64_t i = 0; i < n; i++) {
                float *row = x + i * w + pc->out0;
                if (pc->ind)
                    row[nval] = (float)is_missing(pc, col, i);
                if (te) {
                    int s = te_slot(pc, col, map, i);
                    row[0] = (float)(s >= 0 ? pc->te[s] : pc->te_prior);
                    continue;
                }
                double v = raw_value(pc, col, map, i);
                if (onehot) {
                    for (int k = 0; k < nval; k++)
                        row[k] = 0.0f;
                    int s = isnan(v) ? -1 : onehot_slot(pc, (int)v);
                    if (s >= 0)
                        row[s] = 1.0f;
                    continue;
                }
                v = (v - pc->shift) * pc->mul;
                if (clip && !isnan(v))
                    v = v < 0 ? 0 : v > 1 ? 1 : v;
                row[0] = (float)v;
            }
        }
        cl_alloc_free(map);
        cl_frame_column_free(col);
    }
    if (rc == CL_OK && y && p->target) {
        int t = cl_frame_find(f, p->target);
        if (t >= 0)
            rc = transform_y(p, f->cols[t], y, "transform");
    }
    if (rc) {
        cl_tensor_free(*X);
        *X = NULL;
    }
    return rc;
}

/* The next output of the splitmix64 stream in *s (the base RNG's stateless hash, stepped by the
 * golden-ratio increment), so a fold assignment is the same integers on every machine. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = cl_rng_hash(*s);
    *s += 0x9E3779B97F4A7C15ull;
    return z;
}

/* Positions p in [0, x) with p % k == q. */
static int64_t count_mod(int64_t x, int q, int k)
{
    return x > q ? (x - q - 1) / k + 1 : 0;
}

int cl_pipeline_cv_folds(int32_t *fold, const float *y, int64_t n, int k, int shuffle,
                         uint64_t seed)
{
    if (k < 2 || (int64_t)k > n)
        return cl_error(CL_EINVAL, "cv folds: %d folds of %lld rows (expected 2 <= cv <= rows)",
                        k, (long long)n);
    int cls_of[2] = {-1, -1}, ncls = 0; /* label -> class, in order of first appearance */
    int64_t cnt[2] = {0, 0};
    for (int64_t i = 0; i < n; i++) {
        int v = y[i] != 0;
        if (cls_of[v] < 0)
            cls_of[v] = ncls++;
        cnt[cls_of[v]]++;
    }
    int32_t *ids = cl_alloc((size_t)n * sizeof *ids);
    if (!ids)
        return CL_ENOMEM;
    uint64_t st = seed;
    int64_t start = 0; /* the class's first position among the labels sorted by class */
    for (int c = 0; c < ncls; c++) {
        /* fold q gets the sorted positions q, q + k, ... that fall in this class's range */
        int64_t m = 0;
        for (int q = 0; q < k; q++) {
            int64_t a = count_mod(start + cnt[c], q, k) - count_mod(start, q, k);
            for (int64_t t = 0; t < a; t++)
                ids[m++] = q;
        }
        if (shuffle)
            for (int64_t i = m - 1; i > 0; i--) {
                int64_t j = (int64_t)(splitmix64(&st) % (uint64_t)(i + 1));
                int32_t t = ids[i];
                ids[i] = ids[j];
                ids[j] = t;
            }
        int64_t r = 0;
        for (int64_t i = 0; i < n; i++)
            if (cls_of[y[i] != 0] == c)
                fold[i] = ids[r++];
        start += cnt[c];
    }
    cl_alloc_free(ids);
    return CL_OK;
}

/* Replaces the target-encoded columns of X (transformed from f) by out-of-fold encodings. */
static int out_of_fold(const cl_pipeline *p, const cl_frame *f, cl_tensor *X, const cl_tensor *yt)
{
    int64_t n = f->nrow, w = p->nout;
    const float *y = cl_tensor_data(yt);
    float *x = cl_tensor_data(X);
    int32_t *fold = cl_alloc(((size_t)n + 1) * sizeof *fold);
    if (!fold)
        return CL_ENOMEM;
    int rc = cl_pipeline_cv_folds(fold, y, n, p->o.cv, p->o.shuffle, p->o.seed);
    if (rc)
        rc = cl_error_wrap(rc, "fit_transform: target encoding");
    for (int j = 0; rc == CL_OK && j < p->ncol; j++) {
        const pcol *pc = &p->cols[j];
        if (!is_te(p, pc))
            continue;
        cl_column *col = NULL;
        int32_t *map = NULL;
        double *enc = cl_alloc((size_t)te_nslot(pc) * sizeof *enc);
        rc = enc ? as_kind(pc, f->cols[cl_frame_find(f, pc->name)], &col) : CL_ENOMEM;
        if (rc == CL_OK)
            rc = cat_map(pc, col, &map);
        for (int q = 0; rc == CL_OK && q < p->o.cv; q++) {
            double prior;
            rc = te_fit(p, pc, col, map, y, fold, q, enc, &prior);
            for (int64_t i = 0; rc == CL_OK && i < n; i++)
                if (fold[i] == q) {
                    int s = te_slot(pc, col, map, i);
                    x[i * w + pc->out0] = (float)(s >= 0 ? enc[s] : prior);
                }
        }
        cl_alloc_free(enc);
        cl_alloc_free(map);
        cl_frame_column_free(col);
    }
    cl_alloc_free(fold);
    return rc;
}

int cl_pipeline_fit_transform(cl_pipeline **out, const cl_frame *f, const cl_pipeline_opts *o,
                              cl_tensor **X, cl_tensor **y)
{
    *out = NULL;
    *X = NULL;
    if (y)
        *y = NULL;
    cl_pipeline *p;
    int rc = cl_pipeline_fit(&p, f, o);
    if (rc)
        return rc;
    cl_tensor *yt = NULL;
    rc = cl_pipeline_transform(p, f, X, &yt);
    int te = 0;
    for (int j = 0; j < p->ncol; j++)
        te |= is_te(p, &p->cols[j]);
    if (rc == CL_OK && te)
        rc = out_of_fold(p, f, *X, yt); /* fit made sure the target is there */
    if (rc) {
        cl_tensor_free(*X);
        *X = NULL;
        cl_tensor_free(yt);
        cl_pipeline_free(p);
        return rc;
    }
    if (y)
        *y = yt;
    else
        cl_tensor_free(yt);
    *out = p;
    return CL_OK;
}

int cl_pipeline_transform_frame(const cl_pipeline *p, const cl_frame *f, cl_frame **out)
{
    *out = NULL;
    /* input[j]: the pipeline column of frame column j, or -1 (found through the frame's name
     * index: comparing every pair of names was quadratic, minutes for 20k columns) */
    int *input = cl_alloc((size_t)(f->ncol ? f->ncol : 1) * sizeof *input);
    if (!input)
        return CL_ENOMEM;
    for (int j = 0; j < f->ncol; j++)
        input[j] = -1;
    for (int j = 0; j < p->ncol; j++) {
        int k;
        int rc = cl_frame_col(f, p->cols[j].name, &k);
        if (rc) {
            cl_alloc_free(input);
            return cl_error_wrap(rc, "transform: the pipeline was fit with column '%s'",
                                 p->cols[j].name);
        }
        input[k] = j;
    }
    int64_t n = f->nrow;
    int clip = p->o.clip && p->o.scale == CL_SCALE_MINMAX;
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int j = 0; rc == CL_OK && j < f->ncol; j++) {
        int in = input[j];
        if (in < 0) { /* not an input: passes through */
            rc = cl_frame_set(r, f->names[j], f->cols[j]);
            continue;
        }
        const pcol *pc = &p->cols[in];
        cl_column *col = NULL;
        int32_t *map = NULL;
        rc = as_kind(pc, f->cols[j], &col);
        if (rc == CL_OK && pc->is_cat)
            rc = cat_map(pc, col, &map);
        int onehot = is_onehot(p, pc), te = is_te(p, pc);
        int labels = pc->is_cat && p->o.encode == CL_ENCODE_NONE;
        for (int k = 0; rc == CL_OK && k < pc->nout; k++) {
            cl_column *c;
            if (pc->ind && k == pc->nout - 1) { /* the missing indicator */
                if ((rc = cl_frame_column_new_num(&c, CL_NUM, n)))
                    break;
                for (int64_t i = 0; i < n; i++)
                    c->num[i] = is_missing(pc, col, i);
            } else if (te) {
                if ((rc = cl_frame_column_new_num(&c, CL_NUM, n)))
                    break;
                for (int64_t i = 0; i < n; i++) {
                    int s = te_slot(pc, col, map, i);
                    c->num[i] = (float)(s >= 0 ? pc->te[s] : pc->te_prior); /* as transform */
                }
            } else if (labels) { /* imputed categories, as labels */
                if ((rc = cl_frame_column_new_cat(&c, n, NULL)))
                    break;
                int32_t *codes = cl_alloc(((size_t)pc->ncat + 2) * sizeof *codes);
                if (!codes)
                    rc = CL_ENOMEM;
                for (int q = 0; rc == CL_OK && q < pc->ncat + pc->other; q++) {
                    const char *lab = q < pc->ncat ? pc->cats[q] : OTHER_LABEL;
                    rc = cl_frame_dict_intern(c->dict, lab, strlen(lab), &codes[q]);
                }
                for (int64_t i = 0; rc == CL_OK && i < n; i++) {
                    double v = raw_value(pc, col, map, i);
                    if (!isnan(v))
                        c->codes[i] = codes[(int)v];
                    else if (col->codes[i] >= 0) /* an unknown label with no other slot */
                        rc = cl_frame_dict_intern(c->dict, col->dict->labels[col->codes[i]],
                                            col->dict->lens[col->codes[i]], &c->codes[i]);
                    else
                        c->codes[i] = -1;
                }
                cl_alloc_free(codes);
            } else {
                if ((rc = cl_frame_column_new_num(&c, onehot ? CL_NUM : col->type == CL_DATE && p->o.scale ==
                                                 CL_SCALE_NONE ? CL_DATE : CL_NUM, n)))
                    break;
                for (int64_t i = 0; i < n; i++) {
                    double v = raw_value(pc, col, map, i);
                    if (onehot) {
                        c->num[i] = !isnan(v) && onehot_slot(pc, (int)v) == k;
                        continue;
                    }
                    v = (v - pc->shift) * pc->mul;
                    if (clip && !isnan(v))
                        v = v < 0 ? 0 : v > 1 ? 1 : v;
                    c->num[i] = v;
                }
            }
            if (rc == CL_OK)
                rc = cl_frame_set(r, p->fnames[pc->out0 + k], c);
            cl_frame_column_free(c);
        }
        cl_alloc_free(map);
        cl_frame_column_free(col);
    }
    cl_alloc_free(input);
    if (rc) {
        cl_frame_free(r);
        return rc;
    }
    r->nrow = n;
    *out = r;
    return CL_OK;
}

/* ---- getters ------------------------------------------------------------------------------ */

int cl_pipeline_n_features(const cl_pipeline *p)
{
    return p->nout;
}

const char *cl_pipeline_feature_name(const cl_pipeline *p, int j)
{
    return j >= 0 && j < p->nout ? p->fnames[j] : NULL;
}

int cl_pipeline_unscale(const cl_pipeline *p, int j, double *scale, double *shift)
{
    *scale = 1;
    *shift = 0;
    if (j < 0 || j >= p->nout)
        return 0;
    const pcol *pc = &p->cols[p->src[j]];
    if ((pc->is_cat && p->o.encode != CL_ENCODE_ORDINAL) || p->srccat[j] == IND_SLOT)
        return 0; /* one-hot and missing indicators, native codes, target encodings */
    *scale = 1.0 / pc->mul; /* transform: (x - shift) * mul */
    *shift = pc->shift;
    return 1;
}

void cl_pipeline_source(const cl_pipeline *p, int j, const char **column, const char **label)
{
    *column = NULL;
    *label = NULL;
    if (j < 0 || j >= p->nout)
        return;
    const pcol *pc = &p->cols[p->src[j]];
    *column = pc->name;
    int k = p->srccat[j];
    if (k == IND_SLOT)
        *label = MISSING_LABEL;
    else if (k >= 0)
        *label = k < pc->ncat ? pc->cats[k] : OTHER_LABEL;
}

int cl_pipeline_out_categorical(const cl_pipeline *p, int j, int *ncat)
{
    if (ncat)
        *ncat = 0;
    if (j < 0 || j >= p->nout)
        return 0;
    const pcol *pc = &p->cols[p->src[j]];
    if (!pc->is_cat || p->o.encode != CL_ENCODE_NATIVE || p->srccat[j] == IND_SLOT)
        return 0;
    if (ncat)
        *ncat = pc->ncat + pc->other;
    return 1;
}

const char *cl_pipeline_category(const cl_pipeline *p, int j, int code)
{
    if (j < 0 || j >= p->nout)
        return NULL;
    const pcol *pc = &p->cols[p->src[j]];
    if (!pc->is_cat || code < 0 || p->srccat[j] == IND_SLOT)
        return NULL;
    if (code < pc->ncat)
        return pc->cats[code];
    return code == pc->ncat && pc->other ? OTHER_LABEL : NULL;
}

const cl_pipeline_opts *cl_pipeline_options(const cl_pipeline *p)
{
    return &p->o;
}

int cl_pipeline_n_inputs(const cl_pipeline *p)
{
    return p->ncol;
}

const char *cl_pipeline_input_name(const cl_pipeline *p, int i)
{
    return i >= 0 && i < p->ncol ? p->cols[i].name : NULL;
}

/* ---- save / load -------------------------------------------------------------------------- */

/* 1 when the pipeline uses a format-2 feature (see PREP_FORMAT). */
static int needs_v2(const cl_pipeline *p)
{
    return p->o.onehot_drop != CL_ONEHOT_DROP_NONE || p->o.add_indicator ||
           p->o.encode == CL_ENCODE_TARGET || p->o.scale == CL_SCALE_ROBUST;
}

/* Format 2's chunks: the new options, per column {dropcat, ind}, and the target encodings
 * (te_nslot values then the prior, per target-encoded column, in column order). */
static int write_v2(const cl_pipeline *p, cl_mw *w)
{
    int32_t o2[4] = {(int32_t)p->o.onehot_drop, (int32_t)p->o.add_indicator, (int32_t)p->o.cv,
                     (int32_t)p->o.shuffle};
    cl_modelio_w_i32(w, "opts2", o2, 4);
    cl_modelio_w_num(w, "smooth", p->o.smooth);
    cl_modelio_w_int(w, "seed", (int64_t)p->o.seed);
    size_t nte = 0;
    for (int j = 0; j < p->ncol; j++)
        if (is_te(p, &p->cols[j]))
            nte += (size_t)te_nslot(&p->cols[j]) + 1;
    int32_t *ext = cl_alloc_calloc((size_t)p->ncol * 2 + 1, sizeof *ext);
    double *te = cl_alloc_calloc(nte + 1, sizeof *te);
    if (!ext || !te) {
        cl_alloc_free(ext);
        cl_alloc_free(te);
        return CL_ENOMEM;
    }
    size_t m = 0;
    for (int j = 0; j < p->ncol; j++) {
        const pcol *pc = &p->cols[j];
        ext[2 * j] = pc->dropcat;
        ext[2 * j + 1] = pc->ind;
        if (is_te(p, pc)) {
            for (int k = 0; k < te_nslot(pc); k++)
                te[m++] = pc->te[k];
            te[m++] = pc->te_prior;
        }
    }
    cl_modelio_w_i32(w, "column_ext", ext, (size_t)p->ncol * 2);
    int rc = cl_modelio_w_f64(w, "target_encodings", te, nte);
    cl_alloc_free(ext);
    cl_alloc_free(te);
    return rc;
}

int cl_pipeline_write(const cl_pipeline *p, cl_mw *w, const char *prefix)
{
    cl_modelio_w_prefix(w, prefix);
    int v2 = needs_v2(p);
    cl_modelio_w_int(w, "format", v2 ? 2 : 1);
    if (v2 && write_v2(p, w) != CL_OK) {
        cl_modelio_w_prefix(w, NULL);
        return CL_ENOMEM;
    }
    cl_modelio_w_str(w, "target", p->target ? p->target : "");
    cl_modelio_w_int(w, "has_target", p->target != NULL);
    cl_modelio_w_str(w, "positive", p->positive ? p->positive : "");
    cl_modelio_w_int(w, "has_positive", p->positive != NULL);
    if (p->neg_known) /* absent in older files: every non-positive value means 0 */
        cl_modelio_w_strs(w, "negatives", (const char *const *)p->neg, (size_t)p->nneg);
    cl_modelio_w_int(w, "target_is_cat", p->target_is_cat);
    cl_modelio_w_strs(w, "drop", (const char *const *)p->drop, (size_t)p->o.ndrop);
    int32_t opts[6] = {(int32_t)p->o.impute, (int32_t)p->o.encode, (int32_t)p->o.unknown,
                       (int32_t)p->o.max_categories, (int32_t)p->o.scale, (int32_t)p->o.clip};
    cl_modelio_w_i32(w, "opts", opts, 6);
    cl_modelio_w_num(w, "fill_value", p->o.fill_value);
    cl_modelio_w_str(w, "fill_label", p->fill_label);
    int n = p->ncol;
    const char **names = cl_alloc_calloc((size_t)n + 1, sizeof *names);
    int32_t *ints = cl_alloc_calloc((size_t)n * 4 + 1, sizeof *ints);
    double *nums = cl_alloc_calloc((size_t)n * 3 + 1, sizeof *nums);
    int ncats = 0;
    for (int j = 0; j < n; j++)
        ncats += p->cols[j].ncat;
    const char **cats = cl_alloc_calloc((size_t)ncats + 1, sizeof *cats);
    if (!names || !ints || !nums || !cats) {
        cl_alloc_free(names);
        cl_alloc_free(ints);
        cl_alloc_free(nums);
        cl_alloc_free(cats);
        cl_modelio_w_prefix(w, NULL);
        return CL_ENOMEM;
    }
    int m = 0;
    for (int j = 0; j < n; j++) {
        const pcol *pc = &p->cols[j];
        names[j] = pc->name;
        ints[4 * j] = pc->is_cat;
        ints[4 * j + 1] = pc->ncat;
        ints[4 * j + 2] = pc->other;
        ints[4 * j + 3] = pc->fill_cat;
        nums[3 * j] = pc->fill;
        nums[3 * j + 1] = pc->shift;
        nums[3 * j + 2] = pc->mul;
        for (int k = 0; k < pc->ncat; k++)
            cats[m++] = pc->cats[k];
    }
    cl_modelio_w_strs(w, "columns", names, (size_t)n);
    cl_modelio_w_i32(w, "column_ints", ints, (size_t)n * 4);
    cl_modelio_w_f64(w, "column_nums", nums, (size_t)n * 3);
    cl_modelio_w_strs(w, "categories", cats, (size_t)ncats);
    int rc = cl_modelio_w_strs(w, "feature_names", (const char *const *)p->fnames, (size_t)p->nout);
    cl_alloc_free(names);
    cl_alloc_free(ints);
    cl_alloc_free(nums);
    cl_alloc_free(cats);
    cl_modelio_w_prefix(w, NULL);
    return rc;
}

static int read_strs(cl_mr *r, const char *name, char ***out, size_t *n)
{
    *out = NULL;
    int rc = cl_modelio_r_count(r, name, CL_CHUNK_STR, n);
    if (rc)
        return rc;
    *out = cl_alloc_calloc(*n + 1, sizeof **out);
    if (!*out)
        return CL_ENOMEM;
    rc = cl_modelio_r_strs(r, name, *out, *n);
    if (rc) {
        cl_alloc_free(*out);
        *out = NULL;
    }
    return rc;
}

static void free_strs(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        cl_alloc_free(s[i]);
    cl_alloc_free(s);
}

/* Every field's meaning and the invariants cl_pipeline_fit establishes, checked after the
 * chunks are parsed: transform trusts them (a cat target without its positive label was a
 * NULL dereference; a fill or scale that is not finite gave inf features). */
static int validate(const cl_pipeline *p, int has_target, int has_positive, const char *target,
                    const char *positive)
{
    const cl_pipeline_opts *o = &p->o;
    if (has_target ? target[0] == '\0' : (target[0] != '\0' || p->target_is_cat))
        return cl_error(CL_EFORMAT, "pipeline: has_target = %d does not match target '%s' and "
                        "target_is_cat = %d", has_target, target, p->target_is_cat);
    if (p->target_is_cat && !has_positive)
        return cl_error(CL_EFORMAT, "pipeline: the target '%s' is categorical but the file has "
                        "no positive label (has_positive = 0)", target);
    if (!has_positive && positive[0] != '\0')
        return cl_error(CL_EFORMAT, "pipeline: has_positive = 0 but positive = '%s'", positive);
    double v;
    if (has_target && !p->target_is_cat && has_positive &&
        !cl_textnum_parse_num(positive, strlen(positive), &v))
        return cl_error(CL_EFORMAT, "pipeline: the target '%s' is numeric but its positive "
                        "value '%s' is not a number", target, positive);
    if (o->max_categories > 1000000)
        return cl_error(CL_EFORMAT, "pipeline: max_categories = %d, expected 0..1000000",
                        o->max_categories);
    if (!isfinite(o->fill_value))
        return cl_error(CL_EFORMAT, "pipeline: fill_value = %g is not finite", o->fill_value);
    const int scaled_kind = o->scale != CL_SCALE_NONE;
    if (o->encode == CL_ENCODE_TARGET && (o->cv < 2 || !(o->smooth < 0 || isfinite(o->smooth))))
        return cl_error(CL_EFORMAT, "pipeline: target encoding with cv = %d and smooth = %g",
                        o->cv, o->smooth);
    for (int j = 0; j < p->ncol; j++) {
        const pcol *pc = &p->cols[j];
        if (pc->dropcat != expected_drop(p, pc) || (pc->ind && !o->add_indicator))
            return cl_error(CL_EFORMAT, "pipeline: column '%s': dropped category %d and "
                            "indicator %d do not match onehot_drop = %d, add_indicator = %d",
                            pc->name, pc->dropcat, pc->ind, (int)o->onehot_drop, o->add_indicator);
        for (int k = 0; is_te(p, pc) && k <= te_nslot(pc); k++) {
            double e = k < te_nslot(pc) ? pc->te[k] : pc->te_prior;
            if (!(e >= 0 && e <= 1)) /* means of a 0/1 target and their mixtures */
                return cl_error(CL_EFORMAT, "pipeline: column '%s': target encoding %d is %g, "
                                "expected a number in [0, 1]", pc->name, k + 1, e);
        }
        if (has_target && strcmp(pc->name, target) == 0)
            return cl_error(CL_EFORMAT, "pipeline: the target '%s' is also input column %d",
                            target, j + 1);
        for (int k = 0; k < o->ndrop; k++)
            if (strcmp(pc->name, p->drop[k]) == 0)
                return cl_error(CL_EFORMAT, "pipeline: dropped column '%s' is also input "
                                "column %d", pc->name, j + 1);
        for (int k = 0; k < j; k++)
            if (strcmp(pc->name, p->cols[k].name) == 0)
                return cl_error(CL_EFORMAT, "pipeline: columns %d and %d are both named '%s'",
                                k + 1, j + 1, pc->name);
        int scaled = scaled_kind && (!pc->is_cat || o->encode == CL_ENCODE_ORDINAL);
        if (scaled ? !(isfinite(pc->shift) && isfinite(pc->mul) && pc->mul > 0)
                   : !(pc->shift == 0 && pc->mul == 1))
            return cl_error(CL_EFORMAT, "pipeline: column '%s': scaling shift %g and factor %g "
                            "(expected %s)", pc->name, pc->shift, pc->mul,
                            scaled ? "finite, factor > 0" : "0 and 1: the column is not scaled");
        if (!pc->is_cat) {
            int none = o->impute == CL_IMPUTE_NONE;
            if (none ? !isnan(pc->fill) : !isfinite(pc->fill) ||
                (o->impute == CL_IMPUTE_CONSTANT && pc->fill != o->fill_value))
                return cl_error(CL_EFORMAT, "pipeline: column '%s': fill value %g (expected %s)",
                                pc->name, pc->fill, none ? "NaN: impute = none"
                                : o->impute == CL_IMPUTE_CONSTANT ? "fill_value" : "a finite number");
            continue;
        }
        if (!isnan(pc->fill))
            return cl_error(CL_EFORMAT, "pipeline: categorical column '%s' has a numeric fill "
                            "value %g (expected NaN)", pc->name, pc->fill);
        if (pc->other != (o->unknown == CL_UNKNOWN_OTHER))
            return cl_error(CL_EFORMAT, "pipeline: column '%s': other slot %d with unknown = %s",
                            pc->name, pc->other, o->unknown == CL_UNKNOWN_OTHER ? "other" : "zero");
        int cap = o->max_categories + (o->impute == CL_IMPUTE_CONSTANT);
        if (o->max_categories > 0 && pc->ncat > cap)
            return cl_error(CL_EFORMAT, "pipeline: column '%s' keeps %d categories, beyond "
                            "max_categories = %d", pc->name, pc->ncat, o->max_categories);
        if (o->impute == CL_IMPUTE_NONE ? pc->fill_cat != -1
            : o->impute == CL_IMPUTE_CONSTANT
                ? pc->fill_cat < 0 || strcmp(pc->cats[pc->fill_cat], p->fill_label) != 0
                : 0)
            return cl_error(CL_EFORMAT, "pipeline: column '%s': fill category %d does not match "
                            "impute = %s", pc->name, pc->fill_cat,
                            o->impute == CL_IMPUTE_NONE ? "none" : "constant");
    }
    return CL_OK;
}

int cl_pipeline_read(cl_mr *r, const char *prefix, cl_pipeline **out)
{
    *out = NULL;
    cl_modelio_r_prefix(r, prefix);
    int64_t fmt, has_target, has_positive, tcat;
    char *target = NULL, *positive = NULL, *fill_label = NULL;
    char **drop = NULL, **names = NULL, **cats = NULL, **fnames = NULL, **neg = NULL;
    size_t ndrop = 0, n = 0, ncats = 0, nf = 0, nneg = 0;
    int32_t *ints = NULL;
    double *nums = NULL;
    cl_pipeline *p = NULL;
    int32_t opts[6], o2[4] = {0, 0, 5, 1};
    int32_t *ext = NULL;
    double *tev = NULL, smooth = -1;
    int64_t seed = 42;
    size_t ntev = 0;
    double fill_value;
    int rc = cl_modelio_r_int(r, "format", 1, PREP_FORMAT, &fmt);
    if (!rc) rc = cl_modelio_r_int(r, "has_target", 0, 1, &has_target);
    if (!rc) rc = cl_modelio_r_int(r, "has_positive", 0, 1, &has_positive);
    if (!rc) rc = cl_modelio_r_int(r, "target_is_cat", 0, 1, &tcat);
    if (!rc) rc = cl_modelio_r_str(r, "target", &target);
    if (!rc) rc = cl_modelio_r_str(r, "positive", &positive);
    if (!rc) rc = cl_modelio_r_str(r, "fill_label", &fill_label);
    if (!rc) rc = cl_modelio_r_num(r, "fill_value", &fill_value);
    if (!rc) rc = cl_modelio_r_i32(r, "opts", opts, 6);
    if (!rc) rc = read_strs(r, "drop", &drop, &ndrop);
    if (!rc) rc = read_strs(r, "columns", &names, &n);
    if (!rc) rc = read_strs(r, "categories", &cats, &ncats);
    if (!rc) rc = read_strs(r, "feature_names", &fnames, &nf);
    int has_neg = cl_modelio_r_has(r, "negatives"); /* older files: every non-positive means 0 */
    if (!rc && has_neg) rc = read_strs(r, "negatives", &neg, &nneg);
    if (!rc && nneg > 1000000)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu negative labels is implausible", nneg);
    if (!rc && n > 1000000)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu columns is implausible", n);
    if (!rc) {
        ints = cl_alloc_calloc(n * 4 + 1, sizeof *ints);
        nums = cl_alloc_calloc(n * 3 + 1, sizeof *nums);
        if (!ints || !nums)
            rc = CL_ENOMEM;
    }
    if (!rc) rc = cl_modelio_r_i32(r, "column_ints", ints, n * 4);
    if (!rc) rc = cl_modelio_r_f64(r, "column_nums", nums, n * 3);
    if (!rc) {
        ext = cl_alloc_calloc(n * 2 + 1, sizeof *ext);
        if (!ext)
            rc = CL_ENOMEM;
        for (size_t j = 0; !rc && j < n; j++)
            ext[2 * j] = -1; /* format 1: nothing dropped, no indicators */
    }
    if (!rc && fmt >= 2) {
        rc = cl_modelio_r_i32(r, "opts2", o2, 4);
        if (!rc) rc = cl_modelio_r_num(r, "smooth", &smooth);
        if (!rc) rc = cl_modelio_r_int(r, "seed", INT64_MIN, INT64_MAX, &seed);
        if (!rc) rc = cl_modelio_r_i32(r, "column_ext", ext, n * 2);
        if (!rc) rc = cl_modelio_r_count(r, "target_encodings", CL_CHUNK_F64, &ntev);
        if (!rc && ntev > 100000000)
            rc = cl_error(CL_EFORMAT, "pipeline: %zu target encodings is implausible", ntev);
        if (!rc && !(tev = cl_alloc_calloc(ntev + 1, sizeof *tev)))
            rc = CL_ENOMEM;
        if (!rc) rc = cl_modelio_r_f64(r, "target_encodings", tev, ntev);
    }
    /* format 1 files hold only format 1's values: a newer value there is corruption */
    int enc_max = fmt >= 2 ? CL_ENCODE_TARGET : CL_ENCODE_NONE;
    int scale_max = fmt >= 2 ? CL_SCALE_ROBUST : CL_SCALE_STANDARD;
    if (!rc && ((uint32_t)opts[0] > CL_IMPUTE_NONE || opts[1] < 0 || opts[1] > enc_max ||
                (uint32_t)opts[2] > CL_UNKNOWN_OTHER || opts[3] < 0 ||
                opts[4] < 0 || opts[4] > scale_max || (uint32_t)opts[5] > 1 ||
                (uint32_t)o2[0] > CL_ONEHOT_DROP_IF_BINARY || (uint32_t)o2[1] > 1 ||
                o2[2] < 2 || (uint32_t)o2[3] > 1))
        rc = cl_error(CL_EFORMAT, "pipeline: bad options in the file");
    if (!rc) {
        cl_pipeline_opts o;
        cl_pipeline_opts_default(&o);
        o.target = has_target ? target : NULL;
        o.positive = has_positive ? positive : NULL;
        if (has_neg) {
            o.negative = (const char *const *)neg; /* read_strs allocates even for none */
            o.nnegative = (int)nneg;
        }
        o.drop = (const char *const *)drop;
        o.ndrop = (int)ndrop;
        o.impute = (cl_impute)opts[0];
        o.encode = (cl_encode)opts[1];
        o.unknown = (cl_unknown)opts[2];
        o.max_categories = opts[3];
        o.scale = (cl_scale)opts[4];
        o.clip = opts[5];
        o.fill_value = fill_value;
        o.fill_label = fill_label;
        o.onehot_drop = (cl_onehot_drop)o2[0];
        o.add_indicator = o2[1];
        o.cv = o2[2];
        o.shuffle = o2[3];
        o.smooth = smooth;
        o.seed = (uint64_t)seed;
        rc = pipeline_new(&p, &o);
    }
    if (!rc) {
        p->target_is_cat = (int)tcat;
        p->cols = cl_alloc_calloc(n + 1, sizeof *p->cols);
        if (!p->cols)
            rc = CL_ENOMEM;
    }
    size_t m = 0, mte = 0;
    for (size_t j = 0; !rc && j < n; j++) {
        pcol *pc = &p->cols[j];
        p->ncol++;
        pc->dropcat = ext[2 * j];
        pc->ind = ext[2 * j + 1];
        if (pc->dropcat < -1 || (uint32_t)pc->ind > 1) {
            rc = cl_error(CL_EFORMAT, "pipeline: column '%s': dropped category %d, indicator %d",
                          names[j], pc->dropcat, pc->ind);
            break;
        }
        pc->name = names[j];
        names[j] = NULL;
        pc->is_cat = ints[4 * j] != 0;
        int ncat = ints[4 * j + 1];
        pc->other = ints[4 * j + 2] != 0;
        pc->fill_cat = ints[4 * j + 3];
        pc->fill = nums[3 * j];
        pc->shift = nums[3 * j + 1];
        pc->mul = nums[3 * j + 2];
        if ((uint32_t)ints[4 * j] > 1 || (uint32_t)ints[4 * j + 2] > 1) {
            rc = cl_error(CL_EFORMAT, "pipeline: column '%s': flags %d and %d, expected 0 or 1",
                          pc->name, (int)ints[4 * j], (int)ints[4 * j + 2]);
            break;
        }
        if (ncat < 0 || (size_t)ncat > ncats - m || pc->fill_cat < -1 || pc->fill_cat >= ncat ||
            (!pc->is_cat && (ncat != 0 || pc->other || pc->fill_cat != -1))) {
            rc = cl_error(CL_EFORMAT, "pipeline: bad categories for column '%s'", pc->name);
            break;
        }
        pc->cats = cl_alloc_calloc((size_t)ncat + 1, sizeof *pc->cats);
        if (!pc->cats) {
            rc = CL_ENOMEM;
            break;
        }
        for (int k = 0; k < ncat; k++, m++) {
            pc->cats[k] = cats[m];
            cats[m] = NULL;
            pc->ncat++;
            if (k > 0 && strcmp(pc->cats[k - 1], pc->cats[k]) >= 0)
                rc = cl_error(CL_EFORMAT, "pipeline: categories of '%s' are not sorted", pc->name);
        }
        if (!rc && is_te(p, pc)) {
            size_t need = (size_t)te_nslot(pc) + 1;
            if (need > ntev - mte) {
                rc = cl_error(CL_EFORMAT, "pipeline: column '%s': %zu target encodings left, %zu "
                              "needed", pc->name, ntev - mte, need);
                break;
            }
            if (!(pc->te = cl_alloc((need - 1) * sizeof *pc->te))) {
                rc = CL_ENOMEM;
                break;
            }
            memcpy(pc->te, tev + mte, (need - 1) * sizeof *pc->te);
            pc->te_prior = tev[mte + need - 1];
            mte += need;
        }
    }
    if (!rc && m != ncats)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu categories stored, %zu used", ncats, m);
    if (!rc && mte != ntev)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu target encodings stored, %zu used", ntev, mte);
    if (!rc)
        rc = validate(p, (int)has_target, (int)has_positive, target, positive);
    if (!rc)
        rc = layout(p);
    if (!rc && (size_t)p->nout != nf)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu feature names stored, %d expected", nf, p->nout);
    for (size_t j = 0; !rc && j < nf; j++)
        if (strcmp(fnames[j], p->fnames[j]))
            rc = cl_error(CL_EFORMAT, "pipeline: feature %zu is '%s' in the file, '%s' rebuilt",
                          j + 1, fnames[j], p->fnames[j]);
    cl_alloc_free(target);
    cl_alloc_free(positive);
    cl_alloc_free(fill_label);
    free_strs(drop, ndrop);
    free_strs(names, n);
    free_strs(cats, ncats);
    free_strs(fnames, nf);
    free_strs(neg, nneg);
    cl_alloc_free(ints);
    cl_alloc_free(nums);
    cl_alloc_free(ext);
    cl_alloc_free(tev);
    cl_modelio_r_prefix(r, NULL);
    if (rc) {
        cl_pipeline_free(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

int cl_pipeline_save(const cl_pipeline *p, const char *path)
{
    cl_mw *w = cl_modelio_w_new("pipeline");
    if (!w)
        return CL_ENOMEM;
    int rc = cl_pipeline_write(p, w, "pipeline.");
    if (rc == CL_OK)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    return rc;
}

int cl_pipeline_load(cl_pipeline **out, const char *path)
{
    *out = NULL;
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return rc;
    rc = cl_modelio_r_expect_kind(r, "pipeline");
    if (rc == CL_OK)
        rc = cl_pipeline_read(r, "pipeline.", out);
    cl_modelio_r_free(r);
    return rc;
}
