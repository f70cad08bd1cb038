/* cf_itemknn.c - item-kNN, the neighbourhood kind of the collaborative filters (rec/cf.h):
 * similarities of item pairs (cosine, adjusted cosine, Jaccard or dot product of the
 * optionally TF-IDF/BM25-weighted value columns), cut to neighbourhoods of k items either per
 * history item (source: each item votes for its k most similar items) or per candidate item
 * (target: a candidate takes votes only from its own k most similar items, Sarwar et al.
 * 2001). Either way the model is stored as one vote list per source item, so a user's scores
 * sum the lists of the history's items. Split from cf.c to keep that file under ~1500 lines. */
#include "rec/cf.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/threads.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define VAL(v, k) ((v) ? (v)[k] : 1.0f)

static const cl_param_def itemknn_defs[] = {
    {"k", CL_PARAM_INT, offsetof(cl_cf_itemknn_params, k), 300, 1, 100000, NULL,
     "neighbourhood size: items kept per item (300 with neighbours = \"target\", tfidf and "
     "normalize: best of 20..800 on a validation split of the MovieLens 100k training part; "
     "with neighbours = \"source\" 20 was best)"},
    {"shrink", CL_PARAM_NUM, offsetof(cl_cf_itemknn_params, shrink), 0, 0, 1e9, NULL,
     "added to the similarity's denominator (damps pairs seen together by few users)"},
    {"similarity", CL_PARAM_ENUM, offsetof(cl_cf_itemknn_params, similarity), 0, 0, 0,
     "cosine|adjusted_cosine|jaccard|dot",
     "cosine of value columns, cosine after removing each user's mean value, Jaccard of "
     "the sets of users, or the plain dot product of (weighted) value columns"},
    {"normalize", CL_PARAM_BOOL, offsetof(cl_cf_itemknn_params, normalize), 1, 0, 1, NULL,
     "scale each item's kept similarities to sum to 1 (Deshpande and Karypis)"},
    {"alpha", CL_PARAM_NUM, offsetof(cl_cf_itemknn_params, alpha), 0.5, 0, 1, NULL,
     "asymmetry of (adjusted) cosine: dot / (|i|^(2 alpha) |j|^(2 (1 - alpha))); 0.5 = cosine"},
    {"weighting", CL_PARAM_ENUM, offsetof(cl_cf_itemknn_params, weighting), 1, 0, 0,
     "none|tfidf|bm25",
     "cosine and dot: weight the values first, items as documents and users as terms (idf_u = "
     "ln n_items - ln(1 + items of u)): tfidf sqrt(v) idf_u; bm25 v (k1 + 1) / (k1 (1 - b + b "
     "len_i / mean len) + v) idf_u, len_i = the item's value sum (tfidf: p@10 0.323 vs "
     "0.310 unweighted on the MovieLens 100k 20% holdout; bm25 equals tfidf under cosine on "
     "0/1 data)"},
    {"bm25_k1", CL_PARAM_NUM, offsetof(cl_cf_itemknn_params, bm25_k1), 100, 0, 1e9, NULL,
     "bm25: saturation of a value"},
    {"bm25_b", CL_PARAM_NUM, offsetof(cl_cf_itemknn_params, bm25_b), 0.8, 0, 1, NULL,
     "bm25: how much an item's length normalises its values (0 none, 1 full)"},
    {"neighbours", CL_PARAM_ENUM, offsetof(cl_cf_itemknn_params, neighbours), 1, 0, 0,
     "source|target",
     "whose k nearest items form the neighbourhoods: source, each history item votes for its "
     "k most similar items; target, each candidate item takes votes only from its own k most "
     "similar items (Sarwar et al. 2001), so a rarely similar item cannot reach a candidate "
     "through a long list (p@10 0.348 vs 0.323 on the MovieLens 100k 20% holdout, with tfidf, "
     "normalize and the best k of each on a validation split; similar_items(i) lists the "
     "candidates whose neighbourhood holds i). normalize divides each source's votes by the "
     "sum of its similarities to all items it co-occurs with"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

typedef struct knn_state {
    int64_t *ptr;  /* n_items + 1 */
    int32_t *nbr;  /* neighbour item */
    float *sim;    /* its similarity */
} knn_state;

static void itemknn_defaults(void *p) { cl_param_defaults(itemknn_defs, p); }

static void itemknn_free(cl_rec *r)
{
    knn_state *s = r->state;
    cl_alloc_free(s->ptr);
    cl_alloc_free(s->nbr);
    cl_alloc_free(s->sim);
    cl_alloc_free(s);
}

static int cmp_i32(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The weighting option on the similarity's values w (CSR order): items are documents,
 * users terms, as in the BM25/TF-IDF item-item recommenders of the `implicit` library
 * (scripts/ref/rec_itemknn_ref.py computes the same in numpy). */
static int itemknn_weight(const cl_cf_itemknn_params *pp, const cl_interactions *m, float *w)
{
    int64_t ni = m->n_items;
    double *len = cl_alloc_calloc((size_t)(ni ? ni : 1), sizeof *len), mean = 0;
    if (!len)
        return CL_ENOMEM;
    for (int64_t j = 0; j < ni; j++) {
        for (int64_t k = m->cindptr[j]; k < m->cindptr[j + 1]; k++)
            len[j] += m->cvalues[k];
        mean += len[j] / (double)ni;
    }
    for (int64_t u = 0; u < m->n_users; u++) {
        int64_t a = m->indptr[u], b = m->indptr[u + 1];
        double idf = log((double)ni) - log1p((double)(b - a));
        for (int64_t k = a; k < b; k++) {
            double v = m->values[k];
            if (pp->weighting == 1) {
                w[k] = (float)(sqrt(v) * idf);
            } else {
                double norm = 1 - pp->bm25_b + pp->bm25_b * len[m->indices[k]] / mean;
                w[k] = (float)(v * (pp->bm25_k1 + 1) / (pp->bm25_k1 * norm + v) * idf);
            }
        }
    }
    cl_alloc_free(len);
    return CL_OK;
}

/* neighbours = "source": item i's kept list (row i * K of tn/ts, cnt[i] long) is its votes. */
static int store_lists(knn_state *s, int64_t ni, int K, const int *cnt, const int32_t *tn,
                       const float *ts)
{
    for (int64_t i = 0; i < ni; i++)
        s->ptr[i + 1] = s->ptr[i] + cnt[i];
    int64_t tot = s->ptr[ni];
    s->nbr = cl_alloc((size_t)(tot ? tot : 1) * sizeof *s->nbr);
    s->sim = cl_alloc((size_t)(tot ? tot : 1) * sizeof *s->sim);
    if (!s->nbr || !s->sim)
        return CL_ENOMEM;
    for (int64_t i = 0; i < ni; i++) {
        memcpy(s->nbr + s->ptr[i], tn + i * K, (size_t)cnt[i] * sizeof *s->nbr);
        memcpy(s->sim + s->ptr[i], ts + i * K, (size_t)cnt[i] * sizeof *s->sim);
    }
    return CL_OK;
}

/* neighbours = "target": row t of tn/ts holds the sources kept for candidate t; scoring walks
 * a history item's votes, so the lists are turned around: source i gets (t, similarity) for
 * every t whose neighbourhood holds i, in ascending t (one sequential pass: the same at any
 * thread count). With normalize each source's votes are divided by mass[i], the sum of its
 * absolute similarities to every item it co-occurs with, before the cut: scaling by the kept
 * votes only would give an item kept by one candidate a vote of 1 for it (at k = 20 that
 * halves p@10 on MovieLens), while the whole row is the Deshpande-Karypis scale of the item. */
static int store_by_source(knn_state *s, int64_t ni, int K, const int *cnt, const int32_t *tn,
                           const float *ts, const double *mass)
{
    int64_t *fill = cl_alloc_calloc((size_t)ni + 1, sizeof *fill);
    if (!fill)
        return CL_ENOMEM;
    for (int64_t t = 0; t < ni; t++)
        for (int g = 0; g < cnt[t]; g++)
            s->ptr[tn[t * K + g] + 1]++;
    for (int64_t i = 0; i < ni; i++)
        s->ptr[i + 1] += s->ptr[i];
    int64_t tot = s->ptr[ni];
    s->nbr = cl_alloc((size_t)(tot ? tot : 1) * sizeof *s->nbr);
    s->sim = cl_alloc((size_t)(tot ? tot : 1) * sizeof *s->sim);
    if (!s->nbr || !s->sim) {
        cl_alloc_free(fill);
        return CL_ENOMEM;
    }
    memcpy(fill, s->ptr, ((size_t)ni + 1) * sizeof *fill);
    for (int64_t t = 0; t < ni; t++)
        for (int g = 0; g < cnt[t]; g++) {
            int64_t at = fill[tn[t * K + g]]++;
            s->nbr[at] = (int32_t)t;
            s->sim[at] = ts[t * K + g];
        }
    cl_alloc_free(fill);
    for (int64_t i = 0; i < ni && mass; i++)
        for (int64_t k = s->ptr[i]; k < s->ptr[i + 1] && mass[i] > 0; k++)
            s->sim[k] = (float)(s->sim[k] / mass[i]);
    return CL_OK;
}

static int itemknn_fit(cl_rec *r, const cl_progress *p)
{
    const cl_cf_itemknn_params *pp = r->params;
    const cl_interactions *m = r->train;
    int64_t ni = m->n_items, nu = m->n_users;
    int K = pp->k < ni ? pp->k : (int)(ni > 1 ? ni - 1 : 1);
    if (pp->weighting && pp->similarity != 0 && pp->similarity != 3)
        return cl_error(CL_EINVAL, "itemknn: weighting = \"%s\" needs similarity = \"cosine\" "
                        "or \"dot\"", pp->weighting == 1 ? "tfidf" : "bm25");
    if (pp->weighting == 1)
        for (int64_t k = 0; k < m->nnz; k++)
            if (m->values[k] < 0)
                return cl_error(CL_EINVAL, "itemknn: weighting = \"tfidf\" needs values >= 0 "
                                "(interaction %lld is %g)", (long long)k + 1,
                                (double)m->values[k]);
    knn_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    /* Column values as used by the similarity, in CSR (w) and CSC (cw) order. */
    float *w = cl_alloc((size_t)m->nnz * sizeof *w);
    float *cw = cl_alloc((size_t)m->nnz * sizeof *cw);
    double *norm = cl_alloc_calloc((size_t)ni, sizeof *norm);
    double *mass = cl_alloc_calloc((size_t)ni, sizeof *mass); /* target: |row| of each source */
    int *cnt = cl_alloc_calloc((size_t)ni, sizeof *cnt);
    int32_t *tmp_nbr = cl_alloc((size_t)ni * (size_t)K * sizeof *tmp_nbr);
    float *tmp_sim = cl_alloc((size_t)ni * (size_t)K * sizeof *tmp_sim);
    s->ptr = cl_alloc_calloc((size_t)ni + 1, sizeof *s->ptr);
    if (!w || !cw || !norm || !mass || !cnt || !tmp_nbr || !tmp_sim || !s->ptr) {
        cl_alloc_free(mass);
        cl_alloc_free(w), cl_alloc_free(cw), cl_alloc_free(norm), cl_alloc_free(cnt), cl_alloc_free(tmp_nbr), cl_alloc_free(tmp_sim);
        return CL_ENOMEM;
    }
    for (int64_t u = 0; u < nu; u++) {
        int64_t a = m->indptr[u], b = m->indptr[u + 1];
        double mean = 0;
        if (pp->similarity == 1 && b > a) {
            for (int64_t k = a; k < b; k++)
                mean += m->values[k];
            mean /= (double)(b - a);
        }
        for (int64_t k = a; k < b; k++)
            w[k] = pp->similarity == 2 ? 1.0f
                   : pp->similarity == 1 ? (float)(m->values[k] - mean)
                                         : m->values[k];
    }
    if (pp->weighting && itemknn_weight(pp, m, w)) {
        cl_alloc_free(w), cl_alloc_free(cw), cl_alloc_free(norm), cl_alloc_free(cnt), cl_alloc_free(mass);
        cl_alloc_free(tmp_nbr), cl_alloc_free(tmp_sim);
        return CL_ENOMEM;
    }
    { /* CSC copy of w: walk rows in order, as add_csc does */
        int64_t *fill = cl_alloc(((size_t)ni + 1) * sizeof *fill);
        if (!fill) {
            cl_alloc_free(w), cl_alloc_free(cw), cl_alloc_free(norm), cl_alloc_free(cnt), cl_alloc_free(tmp_nbr), cl_alloc_free(mass);
            cl_alloc_free(tmp_sim);
            return CL_ENOMEM;
        }
        memcpy(fill, m->cindptr, ((size_t)ni + 1) * sizeof *fill);
        for (int64_t u = 0; u < nu; u++)
            for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
                cw[fill[m->indices[k]]++] = w[k];
        cl_alloc_free(fill);
    }
    for (int64_t j = 0; j < ni; j++) {
        double q = 0;
        for (int64_t k = m->cindptr[j]; k < m->cindptr[j + 1]; k++)
            q += (double)cw[k] * cw[k];
        norm[j] = q; /* squared norm; jaccard: |users of j| */
    }
    int fail = CL_OK;
    const int64_t block = 64;
    int64_t nblocks = (ni + block - 1) / block;
    for (int64_t b0 = 0; b0 < nblocks && fail == CL_OK; b0 += 16) {
        int64_t b1 = b0 + 16 < nblocks ? b0 + 16 : nblocks;
#pragma omp parallel num_threads(cl_threads_get())
        {
            double *acc = cl_alloc_calloc((size_t)ni, sizeof *acc);
            int32_t *touched = cl_alloc((size_t)ni * sizeof *touched);
            int64_t *stamp = cl_alloc((size_t)ni * sizeof *stamp);
            float *ts = cl_alloc((size_t)ni * sizeof *ts);
            int ok = acc && touched && stamp && ts;
            if (!ok) {
#pragma omp atomic write
                fail = CL_ENOMEM;
            } else {
                for (int64_t j = 0; j < ni; j++)
                    stamp[j] = -1;
            }
#pragma omp for schedule(dynamic, 1)
            for (int64_t bb = b0; bb < b1; bb++) {
                if (!ok)
                    continue;
                int64_t i1 = (bb + 1) * block < ni ? (bb + 1) * block : ni;
                for (int64_t i = bb * block; i < i1; i++) {
                    int64_t nd = 0;
                    for (int64_t c = m->cindptr[i]; c < m->cindptr[i + 1]; c++) {
                        int64_t u = m->cindices[c];
                        double a = cw[c];
                        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
                            int32_t j = m->indices[k];
                            if (j == i)
                                continue;
                            if (stamp[j] != i) {
                                stamp[j] = i;
                                acc[j] = 0;
                                touched[nd++] = j;
                            }
                            acc[j] += a * w[k];
                        }
                    }
                    /* ascending item order, so ties in similarity go to the lower index */
                    qsort(touched, (size_t)nd, sizeof *touched, cmp_i32);
                    for (int64_t t = 0; t < nd; t++) {
                        int32_t j = touched[t];
                        double dot = acc[j];
                        /* the similarity of source to target: (i, j) or, per target, (j, i) */
                        double ns = pp->neighbours ? norm[j] : norm[i];
                        double nt = pp->neighbours ? norm[i] : norm[j];
                        double den = pp->similarity == 3 ? 1 + pp->shrink
                                     : pp->similarity == 2
                                         ? norm[i] + norm[j] - dot + pp->shrink
                                         : pow(ns, pp->alpha) * pow(nt, 1 - pp->alpha) +
                                               pp->shrink;
                        ts[t] = den > 0 ? (float)(dot / den) : 0.0f;
                        if (pp->neighbours) { /* i as a source: (i, j), summed in j order */
                            double dr = pp->similarity >= 2 ? den
                                        : pow(norm[i], pp->alpha) * pow(norm[j], 1 - pp->alpha) +
                                              pp->shrink;
                            mass[i] += dr > 0 ? fabs(dot / dr) : 0;
                        }
                    }
                    int got = 0;
                    int32_t *dst = tmp_nbr + i * K;
                    cl_rec_topk(ts, nd, K, NULL, 0, dst, tmp_sim + i * K, &got);
                    double tot = 0;
                    for (int g = 0; g < got; g++) {
                        dst[g] = touched[dst[g]];
                        tot += fabs(tmp_sim[i * K + g]);
                    }
                    if (pp->normalize && !pp->neighbours && tot > 0)
                        for (int g = 0; g < got; g++)
                            tmp_sim[i * K + g] = (float)(tmp_sim[i * K + g] / tot);
                    cnt[i] = got;
                }
            }
            cl_alloc_free(acc);
            cl_alloc_free(touched);
            cl_alloc_free(stamp);
            cl_alloc_free(ts);
        }
        if (fail == CL_OK)
            fail = cl_progress_step(p, "itemknn", (double)b1, (double)nblocks, NULL);
    }
    cl_alloc_free(w), cl_alloc_free(cw), cl_alloc_free(norm);
    if (fail) {
        cl_alloc_free(mass), cl_alloc_free(cnt), cl_alloc_free(tmp_nbr), cl_alloc_free(tmp_sim);
        return fail;
    }
    fail = pp->neighbours
               ? store_by_source(s, ni, K, cnt, tmp_nbr, tmp_sim, pp->normalize ? mass : NULL)
               : store_lists(s, ni, K, cnt, tmp_nbr, tmp_sim);
    cl_alloc_free(mass), cl_alloc_free(cnt), cl_alloc_free(tmp_nbr), cl_alloc_free(tmp_sim);
    return fail;
}

static int itemknn_history(const cl_rec *r, int64_t n, const int32_t *items, const float *v,
                           float *scores)
{
    const knn_state *s = r->state;
    memset(scores, 0, (size_t)r->train->n_items * sizeof *scores);
    for (int64_t h = 0; h < n; h++) {
        int32_t i = items[h];
        float a = VAL(v, h);
        for (int64_t k = s->ptr[i]; k < s->ptr[i + 1]; k++)
            scores[s->nbr[k]] += a * s->sim[k];
    }
    return CL_OK;
}

static int itemknn_similar(const cl_rec *r, int32_t i, float *scores)
{
    const knn_state *s = r->state;
    for (int64_t j = 0; j < r->train->n_items; j++)
        scores[j] = NAN; /* not a neighbour: never ranked */
    for (int64_t k = s->ptr[i]; k < s->ptr[i + 1]; k++)
        scores[s->nbr[k]] = s->sim[k];
    return CL_OK;
}

static int itemknn_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    (void)prefix;
    const knn_state *s = r->state;
    int64_t ni = r->train->n_items;
    cl_modelio_w_i64(w, "knn.ptr", s->ptr, (size_t)ni + 1);
    cl_modelio_w_i32(w, "knn.nbr", s->nbr, (size_t)s->ptr[ni]);
    return cl_modelio_w_f32(w, "knn.sim", s->sim, (size_t)s->ptr[ni]);
}

static int itemknn_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    int64_t ni = r->train->n_items;
    knn_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->ptr = cl_alloc(((size_t)ni + 1) * sizeof *s->ptr);
    if (!s->ptr)
        return CL_ENOMEM;
    int rc = cl_modelio_r_i64(mr, "knn.ptr", s->ptr, (size_t)ni + 1);
    if (rc)
        return rc;
    if (s->ptr[0] != 0)
        return cl_error(CL_EFORMAT, "itemknn: neighbour pointers must start at 0");
    /* a fit keeps at most k neighbours per item (source) or per candidate (target: a source
     * may then vote for up to every other item), never the item itself */
    const cl_cf_itemknn_params *pp = r->params;
    const int64_t K = pp->neighbours ? ni : pp->k;
    for (int64_t i = 0; i < ni; i++) {
        if (s->ptr[i + 1] < s->ptr[i]) /* ptr[0] = 0: non-decreasing keeps every difference exact */
            return cl_error(CL_EFORMAT, "itemknn: neighbour pointers decrease at item %lld",
                            (long long)i + 1);
        if (s->ptr[i + 1] - s->ptr[i] > (K < ni ? K : ni))
            return cl_error(CL_EFORMAT, "itemknn: item %lld has %lld neighbours (expected 0..%lld"
                            ", the parameter k)", (long long)i + 1,
                            (long long)(s->ptr[i + 1] - s->ptr[i]), (long long)K);
    }
    size_t tot = (size_t)s->ptr[ni], cnt;
    if ((rc = cl_modelio_r_count(mr, "knn.nbr", CL_CHUNK_I32, &cnt)))
        return rc;
    if (cnt != tot)
        return cl_error(CL_EFORMAT, "itemknn: %zu neighbours stored, the pointers say %zu", cnt,
                        tot);
    s->nbr = cl_alloc((tot ? tot : 1) * sizeof *s->nbr);
    s->sim = cl_alloc((tot ? tot : 1) * sizeof *s->sim);
    if (!s->nbr || !s->sim)
        return CL_ENOMEM;
    if ((rc = cl_modelio_r_i32(mr, "knn.nbr", s->nbr, tot)) || (rc = cl_modelio_r_f32(mr, "knn.sim", s->sim, tot)))
        return rc;
    for (int64_t i = 0; i < ni; i++)
        for (int64_t k = s->ptr[i]; k < s->ptr[i + 1]; k++)
            if (s->nbr[k] < 0 || s->nbr[k] >= ni || s->nbr[k] == i || !isfinite(s->sim[k]))
                return cl_error(CL_EFORMAT, "itemknn: item %lld, neighbour %lld: index %d "
                                "(expected 0..%lld, not the item itself), similarity %g",
                                (long long)i + 1, (long long)(k - s->ptr[i]) + 1,
                                (int)s->nbr[k], (long long)ni - 1, (double)s->sim[k]);
    return CL_OK;
}

const cl_rec_ops cl_cf_itemknn_ops = {
    "itemknn", itemknn_defs, sizeof(cl_cf_itemknn_params), itemknn_defaults, itemknn_fit, NULL,
    itemknn_history, itemknn_similar, itemknn_save, itemknn_load, itemknn_free, NULL, NULL, 0};
