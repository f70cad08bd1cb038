/* pipeline.c - the preprocessing pipeline (see pipeline.h): its lifecycle, the layout of
 * its output columns, the fit and transform drivers and the getters. The steps live beside
 * it: categories and target encodings in pipeline_encode.c, imputation and scaling in
 * pipeline_scale.c, model-file chunks in pipeline_io.c; their shared insides in
 * pipeline_impl.h. */
#include "frame/pipeline_impl.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"
#include "base/rng.h"
#include "frame/col.h"
#include "frame/textnum.h"

const char *const CL_PIPELINE_IMPUTE_NAMES = "mean|median|most_frequent|constant|none";
const char *const CL_PIPELINE_ENCODE_NAMES = "onehot|ordinal|native|none|target";
const char *const CL_PIPELINE_SCALE_NAMES = "none|minmax|standard|robust";
const char *const CL_PIPELINE_UNKNOWN_NAMES = "zero|other";
const char *const CL_PIPELINE_ONEHOT_DROP_NAMES = "none|first|if_binary";

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
    for (int k = 0; p->columns && k < p->o.ncolumns; k++)
        cl_alloc_free(p->columns[k]);
    cl_alloc_free(p->columns);
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
int cl_pipeline_shell_new(cl_pipeline **out, const cl_pipeline_opts *o)
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
    p->neg_given = p->neg_known;
    p->o.ncolumns = 0;
    if (rc == CL_OK && o->columns) { /* kept for a refit (a NULL list and an empty one differ) */
        p->columns = cl_alloc_calloc((size_t)o->ncolumns + 1, sizeof *p->columns);
        if (!p->columns)
            rc = CL_ENOMEM;
        for (int k = 0; rc == CL_OK && k < o->ncolumns; k++, p->o.ncolumns++)
            p->columns[k] = dup_or_null(o->columns[k], &rc);
    }
    p->o.columns = (const char *const *)p->columns;
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

/* Row i of a (converted) column is missing, before imputation. */
static int is_missing(const pcol *pc, const cl_column *col, int64_t i)
{
    return pc->is_cat ? col->codes[i] < 0 : isnan(col->num[i]);
}

/* The column as the pipeline expects it (cat or num), converted by its text if needed. */
static int as_kind(const pcol *pc, const cl_column *col, cl_column **out)
{
    int rc = cl_col_astype(out, col, pc->is_cat ? CL_CAT : (col->type == CL_DATE ? CL_DATE : CL_NUM));
    if (rc)
        return cl_error_wrap(rc, "column '%s'", pc->name);
    return CL_OK;
}

int cl_pipeline_layout(cl_pipeline *p)
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

/* The checks of the options alone (the frame's are the fit's). */
static int check_opts(const cl_pipeline_opts *o)
{
    if (!isfinite(o->fill_value)) /* it would become the feature value of missing rows */
        return cl_error(CL_EINVAL, "pipeline: fill_value must be a finite number, got %g",
                        o->fill_value);
    if ((unsigned)o->onehot_drop > CL_ONEHOT_DROP_IF_BINARY)
        return cl_error(CL_EINVAL, "pipeline: onehot_drop must be one of %s, got %d",
                        CL_PIPELINE_ONEHOT_DROP_NAMES, (int)o->onehot_drop);
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
    return CL_OK;
}

int cl_pipeline_new(cl_pipeline **out, const cl_pipeline_opts *o)
{
    *out = NULL;
    cl_pipeline_opts def;
    if (!o) {
        cl_pipeline_opts_default(&def);
        o = &def;
    }
    int rc = check_opts(o);
    return rc ? rc : cl_pipeline_shell_new(out, o);
}

/* The options p was made with, as cl_pipeline_new received them; the strings are p's. */
static cl_pipeline_opts made_with(const cl_pipeline *p)
{
    cl_pipeline_opts o = p->o;
    o.negative = p->neg_given ? (const char *const *)p->neg : NULL;
    o.nnegative = p->neg_given ? p->nneg : 0;
    return o;
}

/* p takes q's fit and q leaves with p's old one. A fit is built in a new pipeline and adopted
 * only when it succeeded, so a failed fit leaves p as it was and a refit owes nothing to the
 * fit before. */
static void adopt(cl_pipeline *p, cl_pipeline *q)
{
    cl_pipeline t = *p;
    *p = *q;
    *q = t;
    cl_pipeline_free(q);
}

/* A new pipeline with options o fitted on f. */
static int fit_new(cl_pipeline **out, const cl_frame *f, const cl_pipeline_opts *o)
{
    *out = NULL;
    cl_pipeline *p;
    int rc = check_opts(o);
    if (!rc)
        rc = cl_pipeline_shell_new(&p, o);
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
            rc = cl_pipeline_encode_fit_cat(p, pc, col);
            if (rc == CL_OK)
                rc = cl_pipeline_encode_cat_map(pc, col, &map);
        } else {
            rc = cl_pipeline_scale_fit_fill(p, pc, col);
        }
        if (rc == CL_OK)
            rc = cl_pipeline_scale_fit(p, pc, col, map);
        if (rc == CL_OK && is_te(p, pc)) {
            pc->te = cl_alloc((size_t)te_nslot(pc) * sizeof *pc->te);
            rc = pc->te ? cl_pipeline_encode_te_fit(p, pc, col, map, cl_tensor_data(ty), NULL, 0, pc->te,
                                 &pc->te_prior)
                        : CL_ENOMEM;
        }
        cl_alloc_free(map);
        if (rc)
            rc = cl_error_wrap(rc, "pipeline: column '%s'", f->names[j]);
    }
    if (rc == CL_OK)
        rc = cl_pipeline_layout(p);
    cl_tensor_free(ty);
    if (rc) {
        cl_pipeline_free(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

int cl_pipeline_fit(cl_pipeline *p, const cl_frame *f)
{
    cl_pipeline_opts o = made_with(p);
    cl_pipeline *q;
    int rc = fit_new(&q, f, &o);
    if (!rc)
        adopt(p, q);
    return rc;
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
            rc = cl_pipeline_encode_cat_map(pc, col, &map);
        if (rc == CL_OK) {
            int onehot = is_onehot(p, pc), te = is_te(p, pc);
            int clip = p->o.clip && p->o.scale == CL_SCALE_MINMAX;
            int nval = pc->nout - pc->ind; /* the indicator comes last */
            for (int64_t i = 0; i < n; i++) {
                float *row = x + i * w + pc->out0;
                if (pc->ind)
                    row[nval] = (float)is_missing(pc, col, i);
                if (te) {
                    int s = cl_pipeline_encode_te_slot(pc, col, map, i);
                    row[0] = (float)(s >= 0 ? pc->te[s] : pc->te_prior);
                    continue;
                }
                double v = cl_pipeline_encode_raw(pc, col, map, i);
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
            rc = cl_pipeline_encode_cat_map(pc, col, &map);
        for (int q = 0; rc == CL_OK && q < p->o.cv; q++) {
            double prior;
            rc = cl_pipeline_encode_te_fit(p, pc, col, map, y, fold, q, enc, &prior);
            for (int64_t i = 0; rc == CL_OK && i < n; i++)
                if (fold[i] == q) {
                    int s = cl_pipeline_encode_te_slot(pc, col, map, i);
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

int cl_pipeline_fit_transform(cl_pipeline *po, const cl_frame *f, cl_tensor **X, cl_tensor **y)
{
    *X = NULL;
    if (y)
        *y = NULL;
    cl_pipeline_opts o = made_with(po);
    cl_pipeline *p;
    int rc = fit_new(&p, f, &o);
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
    adopt(po, p);
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
            rc = cl_pipeline_encode_cat_map(pc, col, &map);
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
                    int s = cl_pipeline_encode_te_slot(pc, col, map, i);
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
                    double v = cl_pipeline_encode_raw(pc, col, map, i);
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
                    double v = cl_pipeline_encode_raw(pc, col, map, i);
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
