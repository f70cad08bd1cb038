/* rec.c - dispatch of the common recommender interface, top-k selection, model files. */
#include "rec/rec.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/threads.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const cl_rec_ops *cl_rec_kind_ops(int k)
{
    return k >= 0 && k < CL_REC_NKINDS ? cl_rec_kinds[k] : NULL;
}

int cl_rec_kind_from_name(const char *name)
{
    for (int k = 0; k < CL_REC_NKINDS; k++)
        if (strcmp(cl_rec_kinds[k]->name, name) == 0)
            return k;
    return -1;
}

int cl_rec_new(cl_rec **out, cl_rec_kind kind)
{
    *out = NULL;
    if ((int)kind < 0 || kind >= CL_REC_NKINDS)
        return cl_error(CL_EINVAL, "rec: unknown recommender kind %d", (int)kind);
    cl_rec *r = cl_alloc_calloc(1, sizeof *r);
    if (!r)
        return CL_ENOMEM;
    r->refcount = 1;
    r->kind = kind;
    r->ops = cl_rec_kinds[kind];
    r->params = cl_alloc_calloc(1, r->ops->params_size);
    if (!r->params) {
        cl_alloc_free(r);
        return CL_ENOMEM;
    }
    r->ops->defaults(r->params);
    *out = r;
    return CL_OK;
}

cl_rec *cl_rec_retain(cl_rec *r)
{
    if (r)
        r->refcount++;
    return r;
}

static void drop_fit(cl_rec *r)
{
    if (r->state)
        r->ops->free_state(r);
    r->state = NULL;
    cl_interactions_free(r->train);
    r->train = NULL;
}

void cl_rec_free(cl_rec *r)
{
    if (!r || --r->refcount > 0)
        return;
    drop_fit(r);
    if (r->inputs && r->free_inputs)
        r->free_inputs(r->inputs);
    cl_alloc_free(r->params);
    cl_alloc_free(r);
}

int cl_rec_is_fitted(const cl_rec *r) { return r->state != NULL; }

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

int cl_rec_fit(cl_rec *r, cl_interactions *train, const cl_progress *p)
{
    int rc = cl_param_validate(r->ops->defs, r->params, r->ops->name);
    if (rc)
        return rc;
    if (train->n_users == 0 || train->n_items == 0 || train->nnz == 0)
        return cl_error(CL_EINVAL, "%s: fit: the interaction matrix is empty", r->ops->name);
    /* content (and a hybrid refitting content components): feature rows of items without
     * interactions become extra item columns, so a new title can be recommended */
    cl_interactions *use = cl_interactions_retain(train);
    rc = r->ops->extend ? r->ops->extend(r, &use) : CL_OK;
    if (rc) {
        cl_interactions_free(use);
        return rc;
    }
    drop_fit(r);
    r->train = use;
    double t0 = now_s();
    rc = r->ops->fit(r, p);
    r->fit_seconds = now_s() - t0;
    if (rc)
        drop_fit(r);
    return rc;
}

static int need_fit(const cl_rec *r, const char *what)
{
    if (!r->state)
        return cl_error(CL_ESTATE, "%s: %s before fit", r->ops->name, what);
    return CL_OK;
}

/* Cold start: an empty history tells item-kNN, ALS, content and hybrid nothing (their scores
 * would be all equal, so the "ranking" would be the first k items in input order). They
 * answer with popularity instead: the number of training users of each item. mf keeps its
 * own answer, mu + b_i (its bias baseline), and popular is popularity already: their ops say
 * so (answers_empty). */
static int cold(const cl_rec *r) { return !r->ops->answers_empty; }

static void popularity(const cl_rec *r, float *scores, int *answer)
{
    const cl_interactions *m = r->train;
    for (int64_t j = 0; j < m->n_items; j++)
        scores[j] = (float)(m->cindptr[j + 1] - m->cindptr[j]);
    if (answer)
        *answer = CL_REC_ANSWER_POPULAR;
}

int cl_rec_scores_ex(const cl_rec *r, int64_t u, float *scores, int *answer)
{
    if (answer)
        *answer = CL_REC_ANSWER_MODEL;
    int rc = need_fit(r, "scores");
    if (rc)
        return rc;
    const cl_interactions *m = r->train;
    if (u < 0 || u >= m->n_users)
        return cl_error(CL_ERANGE, "%s: user index %lld out of range [0, %lld)", r->ops->name,
                        (long long)u, (long long)m->n_users);
    int64_t a = m->indptr[u];
    if (m->indptr[u + 1] == a && cold(r)) {
        popularity(r, scores, answer);
        return CL_OK;
    }
    if (r->ops->score_user)
        return r->ops->score_user(r, u, scores);
    return r->ops->score_history(r, m->indptr[u + 1] - a, m->indices + a, m->values + a, scores);
}

int cl_rec_scores(const cl_rec *r, int64_t u, float *scores)
{
    return cl_rec_scores_ex(r, u, scores, NULL);
}

typedef struct {
    int32_t i;
    int64_t k;
} hist_ent;

static int cmp_hist(const void *a, const void *b)
{
    const hist_ent *x = a, *y = b;
    if (x->i != y->i)
        return (x->i > y->i) - (x->i < y->i);
    return (x->k > y->k) - (x->k < y->k);
}

int cl_rec_scores_history_ex(const cl_rec *r, int64_t n, const int32_t *items,
                             const float *values, float *scores, int *answer)
{
    if (answer)
        *answer = CL_REC_ANSWER_MODEL;
    int rc = need_fit(r, "scores");
    if (rc)
        return rc;
    for (int64_t k = 0; k < n; k++) {
        if (items[k] < 0 || items[k] >= r->train->n_items)
            return cl_error(CL_ERANGE, "%s: history entry %lld: item index %d out of range",
                            r->ops->name, (long long)k + 1, (int)items[k]);
        if (values && !isfinite(values[k]))
            return cl_error(CL_EINVAL, "%s: history entry %lld: value is not finite",
                            r->ops->name, (long long)k + 1);
    }
    if (n == 0 && cold(r)) {
        popularity(r, scores, answer);
        return CL_OK;
    }
    /* In item order: sums over the history then run in one order whatever order the caller
     * gave, so fold-in equals the scores of the same user added with cl_rec_add_user (whose
     * row is stored sorted), bit for bit. */
    int sorted = 1;
    for (int64_t k = 1; k < n && sorted; k++)
        sorted = items[k - 1] <= items[k];
    if (sorted)
        return r->ops->score_history(r, n, items, values, scores);
    hist_ent *e = cl_alloc((size_t)n * sizeof *e);
    int32_t *it = cl_alloc((size_t)n * sizeof *it);
    float *v = values ? cl_alloc((size_t)n * sizeof *v) : NULL;
    if (!e || !it || (values && !v)) {
        cl_alloc_free(e), cl_alloc_free(it), cl_alloc_free(v);
        return CL_ENOMEM;
    }
    for (int64_t k = 0; k < n; k++)
        e[k].i = items[k], e[k].k = k;
    qsort(e, (size_t)n, sizeof *e, cmp_hist); /* ties (a repeated item) keep input order */
    for (int64_t k = 0; k < n; k++) {
        it[k] = e[k].i;
        if (v)
            v[k] = values[e[k].k];
    }
    rc = r->ops->score_history(r, n, it, v, scores);
    cl_alloc_free(e), cl_alloc_free(it), cl_alloc_free(v);
    return rc;
}

int cl_rec_scores_history(const cl_rec *r, int64_t n, const int32_t *items, const float *values,
                          float *scores)
{
    return cl_rec_scores_history_ex(r, n, items, values, scores, NULL);
}

/* ---- top-k ----------------------------------------------------------------------------- */

/* a ranks below b: lower score, or equal score and higher index. */
static inline int worse(float sa, int32_t ia, float sb, int32_t ib)
{
    return sa < sb || (sa == sb && ia > ib);
}

static void sift_down(float *s, int32_t *ix, int n, int at)
{
    for (;;) {
        int l = 2 * at + 1, r = l + 1, m = at;
        if (l < n && worse(s[l], ix[l], s[m], ix[m]))
            m = l;
        if (r < n && worse(s[r], ix[r], s[m], ix[m]))
            m = r;
        if (m == at)
            return;
        float ts = s[at];
        s[at] = s[m];
        s[m] = ts;
        int32_t ti = ix[at];
        ix[at] = ix[m];
        ix[m] = ti;
        at = m;
    }
}

void cl_rec_topk(const float *scores, int64_t n_items, int k, const int32_t *exclude,
                 int64_t n_ex, int32_t *items, float *out_scores, int *n_out)
{
    /* Min-heap of the best k so far (root = worst kept), in items/out_scores. */
    float hs_local[64];
    float *hs = out_scores ? out_scores : (k <= 64 ? hs_local : NULL);
    int n = 0;
    int64_t e = 0;
    if (!hs) { /* no score output and k > 64: keep scores in the caller's index buffer's twin */
        hs = cl_alloc((size_t)k * sizeof *hs);
        if (!hs) {
            *n_out = 0;
            return;
        }
    }
    for (int64_t j = 0; j < n_items && k > 0; j++) {
        while (e < n_ex && exclude[e] < j)
            e++;
        if (e < n_ex && exclude[e] == j)
            continue;
        float s = scores[j];
        if (isnan(s))
            continue;
        if (n < k) {
            /* sift up */
            int at = n++;
            hs[at] = s;
            items[at] = (int32_t)j;
            while (at > 0) {
                int par = (at - 1) / 2;
                if (!worse(hs[at], items[at], hs[par], items[par]))
                    break;
                float ts = hs[at];
                hs[at] = hs[par];
                hs[par] = ts;
                int32_t ti = items[at];
                items[at] = items[par];
                items[par] = ti;
                at = par;
            }
        } else if (worse(hs[0], items[0], s, (int32_t)j)) {
            hs[0] = s;
            items[0] = (int32_t)j;
            sift_down(hs, items, n, 0);
        }
    }
    /* Heap sort: repeatedly move the worst to the end. */
    for (int m = n; m > 1; m--) {
        float ts = hs[0];
        hs[0] = hs[m - 1];
        hs[m - 1] = ts;
        int32_t ti = items[0];
        items[0] = items[m - 1];
        items[m - 1] = ti;
        sift_down(hs, items, m - 1, 0);
    }
    if (hs != out_scores && hs != hs_local)
        cl_alloc_free(hs);
    *n_out = n;
}

static int check_k(const cl_rec *r, int k)
{
    if (k < 1)
        return cl_error(CL_EINVAL, "%s: k must be >= 1, got %d", r->ops->name, k);
    return CL_OK;
}

int cl_rec_recommend(const cl_rec *r, int64_t u, int k, int exclude_seen, int32_t *items,
                     float *scores, int *n_out)
{
    *n_out = 0;
    int rc = need_fit(r, "recommend");
    if (rc || (rc = check_k(r, k)))
        return rc;
    const cl_interactions *m = r->train;
    float *s = cl_alloc((size_t)m->n_items * sizeof *s);
    if (!s)
        return CL_ENOMEM;
    rc = cl_rec_scores(r, u, s);
    if (rc == CL_OK) {
        int64_t a = m->indptr[u];
        cl_rec_topk(s, m->n_items, k, exclude_seen ? m->indices + a : NULL,
                    exclude_seen ? m->indptr[u + 1] - a : 0, items, scores, n_out);
    }
    cl_alloc_free(s);
    return rc;
}

int cl_rec_recommend_all(const cl_rec *r, int k, int exclude_seen, int32_t *items,
                         float *scores, const cl_progress *p)
{
    int rc = need_fit(r, "recommend_all");
    if (rc || (rc = check_k(r, k)))
        return rc;
    const cl_interactions *m = r->train;
    int64_t nu = m->n_users, ni = m->n_items;
    const int64_t block = 256;
    int64_t nblocks = (nu + block - 1) / block;
    int fail = CL_OK;
    char msg[256] = "";
    for (int64_t b0 = 0; b0 < nblocks && fail == CL_OK; b0 += 64) {
        int64_t b1 = b0 + 64 < nblocks ? b0 + 64 : nblocks;
#pragma omp parallel num_threads(cl_threads_get())
        {
            float *s = cl_alloc((size_t)ni * sizeof *s);
            float tmp[1];
            (void)tmp;
#pragma omp for schedule(dynamic, 1)
            for (int64_t b = b0; b < b1; b++) {
                int64_t u0 = b * block, u1 = u0 + block < nu ? u0 + block : nu;
                for (int64_t u = u0; u < u1; u++) {
                    int32_t *it = items + u * k;
                    float *sc = scores ? scores + u * k : NULL;
                    int n = 0, lrc = s ? cl_rec_scores(r, u, s) : CL_ENOMEM;
                    if (lrc == CL_OK) {
                        int64_t a = m->indptr[u];
                        cl_rec_topk(s, ni, k, exclude_seen ? m->indices + a : NULL,
                                    exclude_seen ? m->indptr[u + 1] - a : 0, it, sc, &n);
                    } else {
#pragma omp critical(cl_rec_all_err)
                        if (fail == CL_OK) {
                            fail = lrc;
                            snprintf(msg, sizeof msg, "%s", cl_error_last());
                        }
                    }
                    for (int j = n; j < k; j++) {
                        it[j] = -1;
                        if (sc)
                            sc[j] = NAN;
                    }
                }
            }
            cl_alloc_free(s);
        }
        if (fail == CL_OK)
            fail = cl_progress_step(p, "recommend_all", (double)b1, (double)nblocks, NULL);
        else
            cl_error(fail, "%s", msg[0] ? msg : cl_error_strstatus(fail));
    }
    return fail;
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

int cl_rec_recommend_history(const cl_rec *r, int64_t n, const int32_t *hist_items,
                             const float *values, int k, int exclude_seen, int32_t *items,
                             float *scores, int *n_out)
{
    return cl_rec_recommend_history_ex(r, n, hist_items, values, k, exclude_seen, items, scores,
                                       n_out, NULL);
}

int cl_rec_recommend_history_ex(const cl_rec *r, int64_t n, const int32_t *hist_items,
                                const float *values, int k, int exclude_seen, int32_t *items,
                                float *scores, int *n_out, int *answer)
{
    *n_out = 0;
    if (answer)
        *answer = CL_REC_ANSWER_MODEL;
    int rc = need_fit(r, "recommend_for");
    if (rc || (rc = check_k(r, k)))
        return rc;
    int64_t ni = r->train->n_items;
    float *s = cl_alloc((size_t)ni * sizeof *s);
    int32_t *ex = cl_alloc((size_t)(n ? n : 1) * sizeof *ex);
    if (!s || !ex) {
        cl_alloc_free(s), cl_alloc_free(ex);
        return CL_ENOMEM;
    }
    rc = cl_rec_scores_history_ex(r, n, hist_items, values, s, answer);
    if (rc == CL_OK) {
        if (n > 0) { /* an empty history may come as NULL (memcpy's source must not be) */
            memcpy(ex, hist_items, (size_t)n * sizeof *ex);
            qsort(ex, (size_t)n, sizeof *ex, cmp_i32);
        }
        cl_rec_topk(s, ni, k, exclude_seen ? ex : NULL, exclude_seen ? n : 0, items, scores,
                    n_out);
    }
    cl_alloc_free(s);
    cl_alloc_free(ex);
    return rc;
}

int cl_rec_similar(const cl_rec *r, int32_t i, int k, int32_t *items, float *scores, int *n_out)
{
    *n_out = 0;
    int rc = need_fit(r, "similar_items");
    if (rc || (rc = check_k(r, k)))
        return rc;
    if (!r->ops->similar)
        return cl_error(CL_ENOTSUP, "%s: similar_items is not defined for this recommender",
                        r->ops->name);
    int64_t ni = r->train->n_items;
    if (i < 0 || i >= ni)
        return cl_error(CL_ERANGE, "%s: item index %d out of range", r->ops->name, (int)i);
    float *s = cl_alloc((size_t)ni * sizeof *s);
    if (!s)
        return CL_ENOMEM;
    rc = r->ops->similar(r, i, s);
    if (rc == CL_OK)
        cl_rec_topk(s, ni, k, &i, 1, items, scores, n_out);
    cl_alloc_free(s);
    return rc;
}

int cl_rec_explain(const cl_rec *r, int32_t i, int64_t n, const int32_t *hist, int k,
                   int32_t *items, float *scores, int *n_out)
{
    *n_out = 0;
    int rc = need_fit(r, "explain");
    if (rc || (rc = check_k(r, k)))
        return rc;
    if (!r->ops->similar)
        return cl_error(CL_ENOTSUP, "%s: explain needs item similarities, which this "
                        "recommender does not define", r->ops->name);
    int64_t ni = r->train->n_items;
    if (i < 0 || i >= ni)
        return cl_error(CL_ERANGE, "%s: item index %d out of range", r->ops->name, (int)i);
    for (int64_t j = 0; j < n; j++)
        if (hist[j] < 0 || hist[j] >= ni)
            return cl_error(CL_ERANGE, "%s: explain: history entry %lld, item index %d out of "
                            "range", r->ops->name, (long long)j + 1, (int)hist[j]);
    float *s = cl_alloc((size_t)ni * sizeof *s);
    unsigned char *in = cl_alloc_calloc((size_t)ni, 1);
    rc = s && in ? r->ops->similar(r, i, s) : CL_ENOMEM;
    if (rc == CL_OK) {
        for (int64_t j = 0; j < n; j++)
            in[hist[j]] = 1;
        for (int64_t j = 0; j < ni; j++) /* only the history competes */
            if (!in[j])
                s[j] = NAN;
        cl_rec_topk(s, ni, k, &i, 1, items, scores, n_out);
    }
    cl_alloc_free(s), cl_alloc_free(in);
    return rc;
}

/* ---- growing a fitted model ------------------------------------------------------------ */

int cl_rec_grow_state(cl_rec *r, cl_interactions *grown, int what, int valued,
                      const float *features, int nf)
{
    if (r->ops->grow)
        return r->ops->grow(r, grown, what, valued, features, nf);
    if (what == CL_REC_GROW_USER)
        return CL_OK;
    return cl_error(CL_ENOTSUP, "%s: items cannot be added to a fitted model of this kind "
                    "(fit it again)", r->ops->name);
}

void cl_rec_set_train(cl_rec *r, cl_interactions *grown)
{
    cl_interactions *old = r->train;
    r->train = cl_interactions_retain(grown);
    cl_interactions_free(old);
}

int cl_rec_add_user(cl_rec *r, const char *label, int64_t n, const int32_t *items,
                    const float *values, int64_t *index)
{
    int rc = need_fit(r, "add_user");
    if (rc)
        return rc;
    cl_interactions *g;
    if ((rc = cl_interactions_add_user(&g, r->train, label, n, items, values)))
        return cl_error_wrap(rc, "%s: add_user", r->ops->name);
    rc = cl_rec_grow_state(r, g, CL_REC_GROW_USER, values != NULL, NULL, 0);
    if (rc == CL_OK) {
        cl_rec_set_train(r, g);
        if (index)
            *index = g->n_users - 1;
    }
    cl_interactions_free(g);
    return rc;
}

int cl_rec_add_item(cl_rec *r, const char *label, int64_t n, const int32_t *users,
                    const float *values, const float *features, int nf, int64_t *index)
{
    int rc = need_fit(r, "add_item");
    if (rc)
        return rc;
    for (int k = 0; features && k < nf; k++)
        if (!isfinite(features[k]))
            return cl_error(CL_EINVAL, "%s: add_item: feature %d is not finite", r->ops->name,
                            k + 1);
    cl_interactions *g;
    if ((rc = cl_interactions_add_items(&g, r->train, 1, &label, n, users, values)))
        return cl_error_wrap(rc, "%s: add_item", r->ops->name);
    rc = cl_rec_grow_state(r, g, CL_REC_GROW_ITEM, values != NULL, features, nf);
    if (rc == CL_OK) {
        cl_rec_set_train(r, g);
        if (index)
            *index = g->n_items - 1;
    }
    cl_interactions_free(g);
    return rc;
}

/* ---- linear algebra -------------------------------------------------------------------- */

int cl_rec_cholesky_solve(double *a, double *b, int n)
{
    for (int j = 0; j < n; j++) {
        double d = a[j * n + j];
        for (int k = 0; k < j; k++)
            d -= a[j * n + k] * a[j * n + k];
        if (!(d > 0))
            return cl_error(CL_EINVAL, "rec: system is not positive definite (pivot %d)", j);
        d = sqrt(d);
        a[j * n + j] = d;
        for (int i = j + 1; i < n; i++) {
            double s = a[i * n + j];
            for (int k = 0; k < j; k++)
                s -= a[i * n + k] * a[j * n + k];
            a[i * n + j] = s / d;
        }
    }
    for (int i = 0; i < n; i++) { /* L y = b */
        double s = b[i];
        for (int k = 0; k < i; k++)
            s -= a[i * n + k] * b[k];
        b[i] = s / a[i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L^T x = y */
        double s = b[i];
        for (int k = i + 1; k < n; k++)
            s -= a[k * n + i] * b[k];
        b[i] = s / a[i * n + i];
    }
    return CL_OK;
}

/* ---- model files ----------------------------------------------------------------------- */

static int set_prefix_w(cl_mw *w, const char *prefix, const char *sub)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", prefix ? prefix : "", sub);
    return cl_modelio_w_prefix(w, buf);
}

static int set_prefix_r(cl_mr *mr, const char *prefix, const char *sub)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s%s", prefix ? prefix : "", sub);
    return cl_modelio_r_prefix(mr, buf);
}

int cl_rec_write_data(const cl_interactions *m, cl_mw *w)
{
    cl_modelio_w_strs(w, "users", (const char *const *)m->users->labels, (size_t)m->n_users);
    cl_modelio_w_strs(w, "items", (const char *const *)m->items->labels, (size_t)m->n_items);
    cl_modelio_w_i64(w, "indptr", m->indptr, (size_t)m->n_users + 1);
    cl_modelio_w_i32(w, "indices", m->indices, (size_t)m->nnz);
    cl_modelio_w_f32(w, "values", m->values, (size_t)m->nnz);
    if (m->times)
        cl_modelio_w_f64(w, "times", m->times, (size_t)m->nnz);
    return cl_modelio_w_int(w, "duplicates", m->duplicates);
}

static int read_labels(cl_idmap **out, cl_mr *mr, const char *name)
{
    size_t n;
    *out = NULL;
    int rc = cl_modelio_r_count(mr, name, CL_CHUNK_STR, &n);
    if (rc)
        return rc;
    char **lab = cl_alloc_calloc(n ? n : 1, sizeof *lab);
    cl_idmap *m = NULL;
    if (!lab || cl_interactions_idmap_new(&m)) {
        cl_alloc_free(lab);
        return CL_ENOMEM;
    }
    rc = cl_modelio_r_strs(mr, name, lab, n);
    for (size_t k = 0; rc == CL_OK && k < n; k++) {
        int64_t idx;
        rc = cl_interactions_idmap_add(m, lab[k], &idx);
        if (rc == CL_OK && idx != (int64_t)k)
            rc = cl_error(CL_EFORMAT, "model file: duplicate label '%s' in '%s'", lab[k], name);
    }
    for (size_t k = 0; k < n; k++) /* NULL where cl_modelio_r_strs failed: nothing was left */
        cl_alloc_free(lab[k]);
    cl_alloc_free(lab);
    if (rc) {
        cl_interactions_idmap_free(m);
        return rc;
    }
    *out = m;
    return CL_OK;
}

int cl_rec_read_data(cl_interactions **out, cl_mr *mr)
{
    *out = NULL;
    cl_idmap *users = NULL, *items = NULL;
    int64_t *indptr = NULL;
    int32_t *indices = NULL;
    float *values = NULL;
    double *times = NULL;
    size_t nnz = 0;
    int rc = read_labels(&users, mr, "users");
    if (rc == CL_OK)
        rc = read_labels(&items, mr, "items");
    if (rc == CL_OK) {
        indptr = cl_alloc(((size_t)users->n + 1) * sizeof *indptr);
        rc = indptr ? cl_modelio_r_i64(mr, "indptr", indptr, (size_t)users->n + 1) : CL_ENOMEM;
    }
    if (rc == CL_OK)
        rc = cl_modelio_r_count(mr, "indices", CL_CHUNK_I32, &nnz);
    if (rc == CL_OK && (int64_t)nnz != indptr[users->n])
        rc = cl_error(CL_EFORMAT, "model file: %zu interactions but row pointers end at %lld",
                      nnz, (long long)indptr[users->n]);
    if (rc == CL_OK) {
        indices = cl_alloc((nnz ? nnz : 1) * sizeof *indices);
        values = cl_alloc((nnz ? nnz : 1) * sizeof *values);
        if (!indices || !values)
            rc = CL_ENOMEM;
    }
    if (rc == CL_OK)
        rc = cl_modelio_r_i32(mr, "indices", indices, nnz);
    if (rc == CL_OK)
        rc = cl_modelio_r_f32(mr, "values", values, nnz);
    if (rc == CL_OK && cl_modelio_r_has(mr, "times")) {
        times = cl_alloc((nnz ? nnz : 1) * sizeof *times);
        rc = times ? cl_modelio_r_f64(mr, "times", times, nnz) : CL_ENOMEM;
    }
    int64_t dups = 0;
    if (rc == CL_OK)
        rc = cl_modelio_r_int(mr, "duplicates", 0, INT64_MAX, &dups);
    if (rc == CL_OK) {
        rc = cl_interactions_from_csr(out, users, items, indptr, indices, values, times);
        indptr = NULL, indices = NULL, values = NULL, times = NULL; /* taken over */
        if (rc == CL_OK)
            (*out)->duplicates = dups;
    }
    cl_alloc_free(indptr), cl_alloc_free(indices), cl_alloc_free(values), cl_alloc_free(times);
    cl_interactions_idmap_free(users);
    cl_interactions_idmap_free(items);
    return rc;
}

int cl_rec_write(const cl_rec *r, cl_mw *w, const char *prefix, int with_data)
{
    int rc = need_fit(r, "save");
    if (rc)
        return rc;
    set_prefix_w(w, prefix, "param.");
    for (const cl_param_def *d = r->ops->defs; d->name; d++) {
        const char *f = (const char *)r->params + d->offset;
        switch (d->type) {
        case CL_PARAM_NUM: cl_modelio_w_num(w, d->name, *(const double *)f); break;
        case CL_PARAM_SEED: cl_modelio_w_int(w, d->name, (int64_t) * (const uint64_t *)f); break;
        default: cl_modelio_w_int(w, d->name, *(const int *)f); break; /* INT, BOOL, ENUM */
        }
    }
    if (with_data) {
        set_prefix_w(w, prefix, "data.");
        cl_rec_write_data(r->train, w);
    }
    set_prefix_w(w, prefix, "");
    rc = r->ops->save(r, w, prefix);
    set_prefix_w(w, prefix, "");
    return rc;
}

int cl_rec_save(const cl_rec *r, const char *path)
{
    char kind[64];
    snprintf(kind, sizeof kind, "rec.%s", r->ops->name);
    cl_mw *w = cl_modelio_w_new(kind);
    if (!w)
        return CL_ENOMEM;
    int rc = cl_rec_write(r, w, "", 1);
    if (rc == CL_OK)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    return rc;
}

int cl_rec_read(cl_rec **out, cl_mr *mr, const char *kind_name, const char *prefix,
                cl_interactions *train)
{
    *out = NULL;
    int kind = cl_rec_kind_from_name(kind_name);
    if (kind < 0)
        return cl_error(CL_EFORMAT, "model file: unknown recommender kind '%s'", kind_name);
    cl_rec *r;
    int rc = cl_rec_new(&r, (cl_rec_kind)kind);
    if (rc)
        return rc;
    set_prefix_r(mr, prefix, "param.");
    /* Parameters are only ever appended, and each addition starts with a switch, a boolean
     * or a choice whose first value (0) is the old behaviour (mf: time = false, then
     * time_bins, ...; itemknn: weighting = "none", then bm25_k1, ..., neighbours = "source").
     * A switch missing from the file was added after it was written: it is 0 (whatever
     * today's default; so is every later switch), and every other parameter after it takes
     * its default. */
    int older = 0;
    for (const cl_param_def *d = r->ops->defs; rc == CL_OK && d->name; d++) {
        char *f = (char *)r->params + d->offset;
        int sw = d->type == CL_PARAM_BOOL || d->type == CL_PARAM_ENUM;
        if ((sw || older) && !cl_modelio_r_has(mr, d->name)) {
            if (sw)
                *(int *)f = 0;
            older = 1;
            continue;
        }
        if (d->type == CL_PARAM_NUM) {
            rc = cl_modelio_r_num(mr, d->name, (double *)f);
        } else {
            int64_t v;
            rc = cl_modelio_r_int(mr, d->name, d->type == CL_PARAM_SEED ? 0 : -2147483647,
                           d->type == CL_PARAM_SEED ? INT64_MAX : 2147483647, &v);
            if (d->type == CL_PARAM_SEED)
                *(uint64_t *)f = (uint64_t)v;
            else
                *(int *)f = (int)v;
        }
    }
    if (rc == CL_OK)
        rc = cl_param_validate(r->ops->defs, r->params, r->ops->name);
    if (rc == CL_OK) {
        if (train) {
            r->train = cl_interactions_retain(train);
        } else {
            set_prefix_r(mr, prefix, "data.");
            rc = cl_rec_read_data(&r->train, mr);
        }
    }
    if (rc == CL_OK) {
        set_prefix_r(mr, prefix, "");
        rc = r->ops->load(r, mr, prefix);
    }
    set_prefix_r(mr, prefix, "");
    if (rc) {
        cl_rec_free(r);
        return rc;
    }
    *out = r;
    return CL_OK;
}

int cl_rec_load(cl_rec **out, const char *path)
{
    *out = NULL;
    cl_mr *mr;
    int rc = cl_modelio_r_open(&mr, path);
    if (rc)
        return rc;
    const char *kind = cl_modelio_r_kind(mr);
    if (strncmp(kind, "rec.", 4) != 0) {
        rc = cl_error(CL_EFORMAT, "'%s' holds a %s model, not a recommender", path, kind);
    } else {
        rc = cl_rec_read(out, mr, kind + 4, "", NULL);
        if (rc)
            cl_error_wrap(rc, "%s", path);
    }
    cl_modelio_r_free(mr);
    return rc;
}
