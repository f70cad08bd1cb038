/* content.c - content-based filtering from item features (TF-IDF multi-hot + numeric). */
#include "rec/content.h"

#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

static const cl_param_def content_defs[] = {
    {"idf", CL_PARAM_BOOL, offsetof(cl_content_params, idf), 1, 0, 1, NULL,
     "weight 0/1 feature columns (genres) by inverse document frequency"},
    {"numeric_weight", CL_PARAM_NUM, offsetof(cl_content_params, numeric_weight), 1, 0, 1e6,
     NULL, "scale of standardised non-binary columns (year ...)"},
    {"center", CL_PARAM_BOOL, offsetof(cl_content_params, center), 0, 0, 1, NULL,
     "profile weights are values minus the user's mean (disliked items push away)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

typedef struct features {
    int64_t rows;
    int cols;
    float *X;
    cl_idmap *labels;
} features;

typedef struct content_state {
    int d;
    float *F;          /* n_items x d, unit rows (or zero) */
    int64_t missing;
    double *shift, *scale; /* d: the column transforms of fit (NULL from files before them) */
} content_state;

static void free_features(void *p)
{
    features *ft = p;
    cl_alloc_free(ft->X);
    cl_interactions_idmap_free(ft->labels);
    cl_alloc_free(ft);
}

int cl_content_set_features(cl_rec *r, const float *X, int64_t rows, int cols,
                            const char *const *labels)
{
    if (r->kind != CL_REC_CONTENT)
        return cl_error(CL_EINVAL, "%s: features are for content models", r->ops->name);
    if (rows < 1 || cols < 1)
        return cl_error(CL_EINVAL, "content: features must have at least one row and column");
    for (int64_t k = 0; k < rows * cols; k++)
        if (!isfinite(X[k]))
            return cl_error(CL_EINVAL, "content: feature row %lld, column %d is not finite",
                            (long long)(k / cols) + 1, (int)(k % cols) + 1);
    features *ft = cl_alloc_calloc(1, sizeof *ft);
    if (!ft)
        return CL_ENOMEM;
    ft->rows = rows;
    ft->cols = cols;
    ft->X = cl_alloc((size_t)rows * (size_t)cols * sizeof *ft->X);
    int rc = ft->X ? cl_interactions_idmap_new(&ft->labels) : CL_ENOMEM;
    for (int64_t k = 0; rc == CL_OK && k < rows; k++) {
        int64_t idx;
        rc = cl_interactions_idmap_add(ft->labels, labels[k], &idx);
        if (rc == CL_OK && idx != k)
            rc = cl_error(CL_EINVAL, "content: item '%s' has two feature rows (%lld and %lld)",
                          labels[k], (long long)idx + 1, (long long)k + 1);
    }
    if (rc) {
        free_features(ft);
        return rc;
    }
    memcpy(ft->X, X, (size_t)rows * (size_t)cols * sizeof *ft->X);
    if (r->inputs && r->free_inputs)
        r->free_inputs(r->inputs);
    r->inputs = ft;
    r->free_inputs = free_features;
    return CL_OK;
}

static void content_defaults(void *p) { cl_param_defaults(content_defs, p); }

static void content_free(cl_rec *r)
{
    content_state *s = r->state;
    cl_alloc_free(s->F);
    cl_alloc_free(s->shift);
    cl_alloc_free(s->scale);
    cl_alloc_free(s);
}

int cl_content_extend(const cl_rec *r, cl_interactions **m)
{
    const features *ft = r->kind == CL_REC_CONTENT ? r->inputs : NULL;
    if (!ft)
        return CL_OK;
    const char **lab = cl_alloc((size_t)ft->rows * sizeof *lab);
    if (!lab)
        return CL_ENOMEM;
    int64_t nl = 0;
    for (int64_t k = 0; k < ft->rows; k++)
        if (cl_interactions_idmap_find((*m)->items, ft->labels->labels[k]) < 0)
            lab[nl++] = ft->labels->labels[k];
    int rc = CL_OK;
    if (nl > 0) {
        cl_interactions *g;
        rc = cl_interactions_add_items(&g, *m, nl, lab, 0, NULL, NULL);
        if (rc == CL_OK) {
            cl_interactions_free(*m);
            *m = g;
        }
    }
    cl_alloc_free(lab);
    return rc;
}

/* One feature row through the fit's column transforms into row[d], unit length (or zero). */
static void transform_row(const content_state *s, const float *x, float *row)
{
    double nrm = 0;
    for (int j = 0; j < s->d; j++) {
        double v = (x[j] - s->shift[j]) * s->scale[j];
        row[j] = (float)v;
        nrm += v * v;
    }
    nrm = sqrt(nrm);
    for (int j = 0; j < s->d && nrm > 0; j++)
        row[j] = (float)(row[j] / nrm);
}

int64_t cl_content_missing(const cl_rec *r)
{
    return r->kind == CL_REC_CONTENT && r->state ? ((const content_state *)r->state)->missing : 0;
}

static int content_fit(cl_rec *r, const cl_progress *p)
{
    (void)p;
    const cl_content_params *pp = r->params;
    const features *ft = r->inputs;
    if (!ft)
        return cl_error(CL_ESTATE, "content: no item features (give features = ... first)");
    const cl_interactions *m = r->train;
    int d = ft->cols;
    content_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->d = d;
    s->F = cl_alloc_calloc((size_t)m->n_items * (size_t)d, sizeof *s->F);
    double *scale = s->scale = cl_alloc((size_t)d * sizeof *scale);
    double *shift = s->shift = cl_alloc((size_t)d * sizeof *shift);
    if (!s->F || !scale || !shift)
        return CL_ENOMEM;
    /* Column transforms from every feature row (not only the trained items). */
    for (int j = 0; j < d; j++) {
        int binary = 1;
        double sum = 0, sq = 0;
        for (int64_t k = 0; k < ft->rows; k++) {
            double x = ft->X[k * d + j];
            binary &= x == 0 || x == 1;
            sum += x;
        }
        double mean = sum / (double)ft->rows;
        for (int64_t k = 0; k < ft->rows; k++) {
            double e = ft->X[k * d + j] - mean;
            sq += e * e;
        }
        if (binary) {
            shift[j] = 0;
            scale[j] = pp->idf ? log((1.0 + (double)ft->rows) / (1.0 + sum)) + 1.0 : 1.0;
        } else {
            double sd = sqrt(sq / (double)ft->rows);
            shift[j] = mean;
            scale[j] = sd > 0 ? pp->numeric_weight / sd : 0;
        }
    }
    for (int64_t i = 0; i < m->n_items; i++) {
        int64_t k = cl_interactions_idmap_find(ft->labels, m->items->labels[i]);
        if (k < 0) {
            s->missing++;
            continue;
        }
        transform_row(s, ft->X + k * d, s->F + i * d);
    }
    return CL_OK;
}

static int content_grow(cl_rec *r, cl_interactions *grown, int what, int valued,
                        const float *x, int nf)
{
    (void)grown, (void)valued;
    if (what == CL_REC_GROW_USER)
        return CL_OK; /* users are scored from their history */
    content_state *s = r->state;
    if (x && !s->shift)
        return cl_error(CL_ENOTSUP, "content: add_item: this model was saved without its "
                        "feature transforms (an older file); fit it again");
    if (x && nf != s->d)
        return cl_error(CL_EINVAL, "content: add_item: %d features given, the model was fitted "
                        "on %d columns", nf, s->d);
    int64_t ni = r->train->n_items;
    float *F = cl_alloc_realloc(s->F, (size_t)(ni + 1) * (size_t)s->d * sizeof *F);
    if (!F)
        return CL_ENOMEM;
    s->F = F;
    if (x) {
        transform_row(s, x, F + ni * s->d);
    } else {
        memset(F + ni * s->d, 0, (size_t)s->d * sizeof *F);
        s->missing++;
    }
    return CL_OK;
}

static int content_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                           float *scores)
{
    const content_state *s = r->state;
    const cl_content_params *pp = r->params;
    int d = s->d;
    double *prof = cl_alloc_calloc((size_t)d, sizeof *prof);
    if (!prof)
        return CL_ENOMEM;
    double mean = 0;
    if (pp->center && n > 0 && v) {
        for (int64_t h = 0; h < n; h++)
            mean += v[h];
        mean /= (double)n;
    }
    for (int64_t h = 0; h < n; h++) {
        double w = (v ? v[h] : 1.0) - mean;
        const float *row = s->F + (int64_t)items[h] * d;
        for (int j = 0; j < d; j++)
            prof[j] += w * row[j];
    }
    double nrm = 0;
    for (int j = 0; j < d; j++)
        nrm += prof[j] * prof[j];
    nrm = nrm > 0 ? 1 / sqrt(nrm) : 0;
    for (int64_t i = 0; i < r->train->n_items; i++) {
        const float *row = s->F + i * d;
        double dot = 0;
        for (int j = 0; j < d; j++)
            dot += prof[j] * row[j];
        scores[i] = (float)(dot * nrm);
    }
    cl_alloc_free(prof);
    return CL_OK;
}

static int content_similar(const cl_rec *r, int32_t i, float *scores)
{
    const content_state *s = r->state;
    int d = s->d;
    const float *a = s->F + (int64_t)i * d;
    for (int64_t j = 0; j < r->train->n_items; j++) {
        const float *b = s->F + j * d;
        double dot = 0;
        for (int k = 0; k < d; k++)
            dot += (double)a[k] * b[k];
        scores[j] = (float)dot;
    }
    return CL_OK;
}

static int content_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    (void)prefix;
    const content_state *s = r->state;
    cl_modelio_w_int(w, "content.d", s->d);
    cl_modelio_w_int(w, "content.missing", s->missing);
    if (s->shift) {
        cl_modelio_w_f64(w, "content.shift", s->shift, (size_t)s->d);
        cl_modelio_w_f64(w, "content.scale", s->scale, (size_t)s->d);
    }
    return cl_modelio_w_f32(w, "content.F", s->F, (size_t)r->train->n_items * (size_t)s->d);
}

static int content_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    int64_t d, miss;
    int rc = cl_modelio_r_int(mr, "content.d", 1, 1 << 20, &d);
    if (rc || (rc = cl_modelio_r_int(mr, "content.missing", 0, r->train->n_items, &miss)))
        return rc;
    content_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->d = (int)d;
    s->missing = miss;
    size_t n = (size_t)r->train->n_items * (size_t)d, cnt;
    /* d comes from one integer: the chunk's own count is checked before it sizes anything */
    if ((rc = cl_modelio_r_count(mr, "content.F", CL_CHUNK_F32, &cnt)))
        return rc;
    if (cnt != n)
        return cl_error(CL_EFORMAT, "content: %zu stored features, %lld items x %d columns need "
                        "%zu", cnt, (long long)r->train->n_items, (int)d, n);
    s->F = cl_alloc((n ? n : 1) * sizeof *s->F);
    if (!s->F)
        return CL_ENOMEM;
    if ((rc = cl_modelio_r_f32(mr, "content.F", s->F, n)))
        return rc;
    if (cl_modelio_r_has(mr, "content.shift")) { /* absent from files written before add_item */
        s->shift = cl_alloc((size_t)d * sizeof *s->shift);
        s->scale = cl_alloc((size_t)d * sizeof *s->scale);
        if (!s->shift || !s->scale)
            return CL_ENOMEM;
        if ((rc = cl_modelio_r_f64(mr, "content.shift", s->shift, (size_t)d)) ||
            (rc = cl_modelio_r_f64(mr, "content.scale", s->scale, (size_t)d)))
            return rc;
        for (int64_t j = 0; j < d; j++)
            if (!isfinite(s->shift[j]) || !isfinite(s->scale[j]))
                return cl_error(CL_EFORMAT, "content: column %lld transform is not finite",
                                (long long)j + 1);
    }
    /* fit leaves every row of unit length, or zero (an item without features): scores are
     * cosines, so any other norm is damage (and a huge one overflows the dot products) */
    int64_t zero = 0;
    for (int64_t i = 0; i < r->train->n_items; i++) {
        const float *row = s->F + i * (int64_t)d;
        double nrm = 0;
        for (int64_t j = 0; j < d; j++) {
            if (!isfinite(row[j]))
                return cl_error(CL_EFORMAT, "content: item %lld, feature %lld is not finite",
                                (long long)i + 1, (long long)j + 1);
            nrm += (double)row[j] * row[j];
        }
        if (nrm == 0)
            zero++;
        else if (!(fabs(sqrt(nrm) - 1) <= 1e-3))
            return cl_error(CL_EFORMAT, "content: item %lld has a feature row of length %g, "
                            "expected 1 (or 0)", (long long)i + 1, sqrt(nrm));
    }
    if (miss > zero)
        return cl_error(CL_EFORMAT, "content: %lld items without features, but only %lld zero "
                        "rows", (long long)miss, (long long)zero);
    return CL_OK;
}

const cl_rec_ops cl_content_rec_ops = {
    "content",       content_defs,    sizeof(cl_content_params), content_defaults,
    content_fit,     NULL,            content_history,           content_similar,
    content_save,    content_load,    content_free,              content_grow,
    cl_content_extend, 0};
