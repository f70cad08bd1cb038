/* hybrid.c - weighted blend of normalised recommender scores with cold-start switching. */
#include "rec/hybrid.h"

#include "rec/content.h"

#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

static const cl_param_def hybrid_defs[] = {
    {"min_interactions", CL_PARAM_INT, offsetof(cl_hybrid_params, min_interactions), 5, 0,
     1000000, NULL, "users with fewer interactions get the fallback's recommendations"},
    {"normalize", CL_PARAM_ENUM, offsetof(cl_hybrid_params, normalize), 0, 0, 0,
     "minmax|zscore", "how each component's scores are put on a common scale before blending"},
    {"fit_components", CL_PARAM_BOOL, offsetof(cl_hybrid_params, fit_components), 1, 0, 1,
     NULL, "fit() also fits the components and the fallback"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

typedef struct blend {
    int n;
    cl_rec *comp[CL_HYBRID_MAX];
    double w[CL_HYBRID_MAX];
    cl_rec *fallback;
} blend;

static void free_blend(void *p)
{
    blend *b = p;
    for (int k = 0; k < b->n; k++)
        cl_rec_free(b->comp[k]);
    cl_rec_free(b->fallback);
    cl_alloc_free(b);
}

static int new_blend(blend **out, int n, cl_rec *const *components, const double *weights,
                     cl_rec *fallback)
{
    *out = NULL;
    if (n < 1 || n > CL_HYBRID_MAX)
        return cl_error(CL_EINVAL, "hybrid: needs 1 to %d components, got %d", CL_HYBRID_MAX, n);
    double tot = 0;
    for (int k = 0; k < n; k++) {
        if (!isfinite(weights[k]))
            return cl_error(CL_EINVAL, "hybrid: component %d: weight is not finite", k + 1);
        if (components[k]->kind == CL_REC_HYBRID)
            return cl_error(CL_EINVAL, "hybrid: component %d is itself a hybrid", k + 1);
        tot += fabs(weights[k]);
    }
    if (tot == 0)
        return cl_error(CL_EINVAL, "hybrid: every weight is zero");
    if (fallback && fallback->kind == CL_REC_HYBRID)
        return cl_error(CL_EINVAL, "hybrid: the fallback is itself a hybrid");
    blend *b = cl_alloc_calloc(1, sizeof *b);
    if (!b)
        return CL_ENOMEM;
    b->n = n;
    for (int k = 0; k < n; k++) {
        b->comp[k] = cl_rec_retain(components[k]);
        b->w[k] = weights[k];
    }
    b->fallback = cl_rec_retain(fallback);
    *out = b;
    return CL_OK;
}

int cl_hybrid_set(cl_rec *r, int n, cl_rec *const *components, const double *weights,
                  cl_rec *fallback)
{
    if (r->kind != CL_REC_HYBRID)
        return cl_error(CL_EINVAL, "%s: components are for hybrid models", r->ops->name);
    blend *b;
    int rc = new_blend(&b, n, components, weights, fallback);
    if (rc)
        return rc;
    if (r->inputs && r->free_inputs)
        r->free_inputs(r->inputs);
    r->inputs = b;
    r->free_inputs = free_blend;
    return CL_OK;
}

static void hybrid_defaults(void *p) { cl_param_defaults(hybrid_defs, p); }

static void hybrid_free(cl_rec *r) { free_blend(r->state); }

static int fit_one(cl_rec *c, cl_interactions *train, int refit, const cl_progress *p, int k)
{
    if (refit)
        return cl_rec_fit(c, train, p);
    if (!c->state)
        return cl_error(CL_ESTATE, "hybrid: component %d (%s) is not fitted", k, c->ops->name);
    if (c->train != train)
        return cl_error(CL_EINVAL,
                        "hybrid: component %d (%s) was fitted on other interactions", k,
                        c->ops->name);
    return CL_OK;
}

static int hybrid_fit(cl_rec *r, const cl_progress *p)
{
    const cl_hybrid_params *pp = r->params;
    const blend *in = r->inputs;
    if (!in)
        return cl_error(CL_ESTATE, "hybrid: no components (cl.rec.hybrid{{model, weight}, ...})");
    int rc = CL_OK;
    for (int k = 0; rc == CL_OK && k < in->n; k++)
        rc = fit_one(in->comp[k], r->train, pp->fit_components, p, k + 1);
    if (rc == CL_OK && in->fallback)
        rc = fit_one(in->fallback, r->train, pp->fit_components, p, 0);
    if (rc)
        return rc;
    blend *b;
    rc = new_blend(&b, in->n, in->comp, in->w, in->fallback);
    if (rc == CL_OK)
        r->state = b;
    return rc;
}

int cl_hybrid_extend(const cl_rec *r, cl_interactions **m)
{
    const cl_hybrid_params *pp = r->params;
    const blend *b = r->inputs;
    if (r->kind != CL_REC_HYBRID || !b || !pp->fit_components)
        return CL_OK;
    int rc = CL_OK;
    for (int k = 0; rc == CL_OK && k <= b->n; k++) {
        const cl_rec *c = k < b->n ? b->comp[k] : b->fallback;
        if (c)
            rc = cl_content_extend(c, m);
    }
    return rc;
}

/* The distinct members of a blend (a model may be a component and the fallback). */
static int members(const blend *b, cl_rec **out)
{
    int n = 0;
    for (int k = 0; k <= b->n; k++) {
        cl_rec *c = k < b->n ? b->comp[k] : b->fallback;
        int dup = c == NULL;
        for (int j = 0; j < n && !dup; j++)
            dup = out[j] == c;
        if (!dup)
            out[n++] = c;
    }
    return n;
}

static int hybrid_grow(cl_rec *r, cl_interactions *grown, int what, int valued,
                       const float *x, int nf)
{
    const blend *b = r->state;
    cl_rec *mem[CL_HYBRID_MAX + 1];
    int n = members(b, mem);
    for (int k = 0; k < n; k++) { /* refuse before anything grows */
        if (!mem[k]->state || mem[k]->train != r->train)
            return cl_error(CL_ESTATE, "hybrid: component %s was refitted or reset after the "
                            "hybrid was fitted; fit the hybrid again", mem[k]->ops->name);
        if (what == CL_REC_GROW_ITEM && !mem[k]->ops->grow)
            return cl_error(CL_ENOTSUP, "hybrid: add_item: component %s cannot add items "
                            "(fit the hybrid again)", mem[k]->ops->name);
    }
    int rc = CL_OK;
    for (int k = 0; rc == CL_OK && k < n; k++) {
        int content = mem[k]->kind == CL_REC_CONTENT;
        rc = cl_rec_grow_state(mem[k], grown, what, valued, content ? x : NULL,
                               content ? nf : 0);
    }
    if (rc == CL_OK)
        for (int k = 0; k < n; k++)
            cl_rec_set_train(mem[k], grown);
    return rc;
}

static void normalise(float *s, int64_t n, int how)
{
    double lo = INFINITY, hi = -INFINITY, sum = 0, sq = 0;
    for (int64_t j = 0; j < n; j++) {
        lo = s[j] < lo ? s[j] : lo;
        hi = s[j] > hi ? s[j] : hi;
        sum += s[j];
    }
    if (how == 0) {
        double span = hi - lo;
        for (int64_t j = 0; j < n; j++)
            s[j] = span > 0 ? (float)((s[j] - lo) / span) : 0.0f;
        return;
    }
    double mean = sum / (double)n;
    for (int64_t j = 0; j < n; j++)
        sq += (s[j] - mean) * (s[j] - mean);
    double sd = sqrt(sq / (double)n);
    for (int64_t j = 0; j < n; j++)
        s[j] = sd > 0 ? (float)((s[j] - mean) / sd) : 0.0f;
}

/* Blends the components' scores for user u (u >= 0) or a history (u < 0). */
static int blend_scores(const cl_rec *r, int64_t u, int64_t n, const int32_t *items,
                        const float *v, float *scores)
{
    const cl_hybrid_params *pp = r->params;
    const blend *b = r->state;
    int64_t ni = r->train->n_items;
    /* a component refitted (or unfitted) since the hybrid was fitted would score another
     * matrix: refuse rather than mix index spaces */
    for (int k = 0; k <= b->n; k++) {
        const cl_rec *c = k < b->n ? b->comp[k] : b->fallback;
        if (c && (!c->state || c->train != r->train))
            return cl_error(CL_ESTATE, "hybrid: component %s was refitted or reset after the "
                                       "hybrid was fitted; fit the hybrid again",
                            c->ops->name);
    }
    int64_t count = u >= 0 ? cl_interactions_user_nnz(r->train, u) : n;
    if (b->fallback && count < pp->min_interactions)
        return u >= 0 ? cl_rec_scores(b->fallback, u, scores)
                      : cl_rec_scores_history(b->fallback, n, items, v, scores);
    float *tmp = cl_alloc((size_t)ni * sizeof *tmp);
    double *acc = cl_alloc_calloc((size_t)ni, sizeof *acc);
    int rc = tmp && acc ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < b->n; k++) {
        rc = u >= 0 ? cl_rec_scores(b->comp[k], u, tmp)
                    : cl_rec_scores_history(b->comp[k], n, items, v, tmp);
        if (rc)
            break;
        normalise(tmp, ni, pp->normalize);
        for (int64_t j = 0; j < ni; j++)
            acc[j] += b->w[k] * tmp[j];
    }
    if (rc == CL_OK)
        for (int64_t j = 0; j < ni; j++)
            scores[j] = (float)acc[j];
    cl_alloc_free(tmp), cl_alloc_free(acc);
    return rc;
}

static int hybrid_user(const cl_rec *r, int64_t u, float *scores)
{
    return blend_scores(r, u, 0, NULL, NULL, scores);
}

static int hybrid_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                          float *scores)
{
    return blend_scores(r, -1, n, items, v, scores);
}

static int hybrid_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    const blend *b = r->state;
    const char *kinds[CL_HYBRID_MAX + 1];
    int nk = b->n + (b->fallback != NULL);
    for (int k = 0; k < b->n; k++)
        kinds[k] = b->comp[k]->ops->name;
    if (b->fallback)
        kinds[b->n] = b->fallback->ops->name;
    cl_modelio_w_int(w, "hyb.n", b->n);
    cl_modelio_w_int(w, "hyb.fallback", b->fallback != NULL);
    cl_modelio_w_f64(w, "hyb.weights", b->w, (size_t)b->n);
    cl_modelio_w_strs(w, "hyb.kinds", kinds, (size_t)nk);
    int rc = CL_OK;
    for (int k = 0; rc == CL_OK && k < nk; k++) {
        char pre[256];
        snprintf(pre, sizeof pre, "%shyb.c%d.", prefix ? prefix : "", k);
        rc = cl_rec_write(k < b->n ? b->comp[k] : b->fallback, w, pre, 0);
    }
    return rc;
}

static int hybrid_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    int64_t n, fb;
    int rc = cl_modelio_r_int(mr, "hyb.n", 1, CL_HYBRID_MAX, &n);
    if (rc || (rc = cl_modelio_r_int(mr, "hyb.fallback", 0, 1, &fb)))
        return rc;
    int nk = (int)(n + fb);
    double wts[CL_HYBRID_MAX];
    char *kinds[CL_HYBRID_MAX + 1] = {NULL};
    cl_rec *comp[CL_HYBRID_MAX + 1] = {NULL};
    if ((rc = cl_modelio_r_f64(mr, "hyb.weights", wts, (size_t)n)) ||
        (rc = cl_modelio_r_strs(mr, "hyb.kinds", kinds, (size_t)nk)))
        return rc;
    /* normalised component scores are O(1) (z-scores at most sqrt(n_items)): bounded weights
     * keep the blend finite, where finite weights alone would not */
    for (int k = 0; rc == CL_OK && k < n; k++)
        if (!(fabs(wts[k]) <= 1e30))
            rc = cl_error(CL_EFORMAT, "hybrid: component %d has weight %g, expected a finite "
                          "number within +-1e30", k + 1, wts[k]);
    for (int k = 0; rc == CL_OK && k < nk; k++) {
        char pre[256];
        snprintf(pre, sizeof pre, "%shyb.c%d.", prefix ? prefix : "", k);
        if (strcmp(kinds[k], "hybrid") == 0)
            rc = cl_error(CL_EFORMAT, "hybrid: nested hybrid component in model file");
        else
            rc = cl_rec_read(&comp[k], mr, kinds[k], pre, r->train);
    }
    blend *b = NULL;
    if (rc == CL_OK && (rc = new_blend(&b, (int)n, comp, wts, fb ? comp[n] : NULL)) == CL_EINVAL)
        rc = cl_error_wrap(CL_EFORMAT, "model file"); /* e.g. every weight zero: the file's fault */
    if (rc == CL_OK)
        r->state = b;
    for (int k = 0; k < nk; k++) {
        cl_rec_free(comp[k]);
        cl_alloc_free(kinds[k]);
    }
    return rc;
}

const cl_rec_ops cl_hybrid_rec_ops = {
    "hybrid",    hybrid_defs,    sizeof(cl_hybrid_params), hybrid_defaults, hybrid_fit,
    hybrid_user, hybrid_history, NULL,                     hybrid_save,     hybrid_load,
    hybrid_free, hybrid_grow,    cl_hybrid_extend,         0};
