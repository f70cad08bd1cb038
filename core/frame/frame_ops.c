/* frame_ops.c - sorting, concatenation, train/test splits and k folds. See frame_ops.h. */
#include "frame/frame_ops.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"
#include "frame/frame_impl.h"
#include "base/rng.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- shared helpers ----------------------------------------------------------------------- */

/* Codes ordered by label: a bottom-up merge sort with the labels as context (qsort has no
 * context argument in C11, and a static one would not be thread-safe). */
static void sort_codes_by_label(int32_t *a, int32_t *tmp, int32_t n, char *const *labels)
{
    for (int32_t w = 1; w < n; w *= 2) {
        for (int32_t lo = 0; lo < n; lo += 2 * w) {
            int32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int32_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = strcmp(labels[a[j]], labels[a[i]]) < 0 ? a[j++] : a[i++];
            while (i < mid)
                tmp[o++] = a[i++];
            while (j < hi)
                tmp[o++] = a[j++];
        }
        memcpy(a, tmp, (size_t)n * sizeof *a);
    }
}

int cl_frame_ops_dict_ranks(const cl_dict *d, int32_t **rank)
{
    int32_t *order = cl_alloc(((size_t)d->n + 1) * sizeof *order);
    int32_t *tmp = cl_alloc(((size_t)d->n + 1) * sizeof *tmp);
    *rank = cl_alloc(((size_t)d->n + 1) * sizeof **rank);
    if (!order || !tmp || !*rank) {
        cl_alloc_free(order);
        cl_alloc_free(tmp);
        cl_alloc_free(*rank);
        *rank = NULL;
        return CL_ENOMEM;
    }
    for (int32_t k = 0; k < d->n; k++)
        order[k] = k;
    sort_codes_by_label(order, tmp, d->n, d->labels);
    for (int32_t k = 0; k < d->n; k++)
        (*rank)[order[k]] = k;
    cl_alloc_free(order);
    cl_alloc_free(tmp);
    return CL_OK;
}

int cl_frame_ops_dense_ids(const cl_column *c, int32_t *ids, int32_t *nids, int32_t *na_id)
{
    *nids = 0;
    *na_id = -1;
    if (c->type == CL_CAT) {
        int32_t *map = cl_alloc(((size_t)c->dict->n + 1) * sizeof *map);
        if (!map)
            return CL_ENOMEM;
        memset(map, 0xff, ((size_t)c->dict->n + 1) * sizeof *map);
        int32_t next = 0;
        for (int64_t i = 0; i < c->n; i++) {
            int32_t code = c->codes[i];
            int32_t *slot = code < 0 ? na_id : &map[code];
            if (*slot < 0)
                *slot = next++;
            ids[i] = *slot;
        }
        cl_alloc_free(map);
        *nids = next;
        return CL_OK;
    }
    size_t ns = 16;
    while (ns < (size_t)c->n * 2)
        ns *= 2;
    int64_t *slots = cl_alloc(ns * sizeof *slots);
    if (!slots)
        return CL_ENOMEM;
    memset(slots, 0xff, ns * sizeof *slots);
    int32_t next = 0;
    for (int64_t i = 0; i < c->n; i++) {
        double x = c->num[i];
        if (isnan(x)) {
            if (*na_id < 0)
                *na_id = next++;
            ids[i] = *na_id;
            continue;
        }
        uint64_t b = cl_dbits(x);
        size_t s = (size_t)cl_mix64(b) & (ns - 1);
        while (slots[s] >= 0 && cl_dbits(c->num[slots[s]]) != b)
            s = (s + 1) & (ns - 1);
        if (slots[s] < 0) {
            slots[s] = i;
            ids[i] = next++;
        } else {
            ids[i] = ids[slots[s]];
        }
    }
    cl_alloc_free(slots);
    *nids = next;
    return CL_OK;
}

/* ---- sort --------------------------------------------------------------------------------- */

typedef struct sortkey {
    const cl_column *c;
    int32_t *rank; /* cat: label rank per code */
    int desc;
} sortkey;

static int cmp_rows(const sortkey *k, int nk, int64_t a, int64_t b)
{
    for (int i = 0; i < nk; i++) {
        const cl_column *c = k[i].c;
        int r;
        if (c->type == CL_CAT) {
            int32_t x = c->codes[a], y = c->codes[b];
            if (x < 0 || y < 0) {
                if ((x < 0) != (y < 0))
                    return x < 0 ? 1 : -1; /* missing last */
                continue;
            }
            x = k[i].rank[x];
            y = k[i].rank[y];
            r = (x > y) - (x < y);
        } else {
            double x = c->num[a], y = c->num[b];
            if (isnan(x) || isnan(y)) {
                if (isnan(x) != isnan(y))
                    return isnan(x) ? 1 : -1;
                continue;
            }
            r = (x > y) - (x < y);
        }
        if (r)
            return k[i].desc ? -r : r;
    }
    return 0;
}

/* Bottom-up merge sort of idx (stable). CL_EINTR on Ctrl-C, polled once per pass (log2 n
 * passes of n steps: seconds for tens of millions of rows). */
static int merge_sort(int64_t *idx, int64_t *tmp, int64_t n, const sortkey *k, int nk)
{
    for (int64_t w = 1; w < n; w *= 2) {
        int rc = cl_progress_step(NULL, "sort", 0, 0, NULL);
        if (rc)
            return rc;
        for (int64_t lo = 0; lo < n; lo += 2 * w) {
            int64_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            int64_t i = lo, j = mid, o = lo;
            while (i < mid && j < hi)
                tmp[o++] = cmp_rows(k, nk, idx[j], idx[i]) < 0 ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[o++] = idx[i++];
            while (j < hi)
                tmp[o++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * sizeof *idx);
    }
    return CL_OK;
}

int cl_frame_ops_sort_index(const cl_frame *f, const char *const *keys, const int *desc, int nkeys,
                        int64_t **order)
{
    *order = NULL;
    if (nkeys < 1)
        return cl_error(CL_EINVAL, "sort: no key columns given");
    sortkey *k = cl_alloc_calloc((size_t)nkeys, sizeof *k);
    if (!k)
        return CL_ENOMEM;
    int rc = CL_OK;
    for (int i = 0; rc == CL_OK && i < nkeys; i++) {
        int j;
        if ((rc = cl_frame_col(f, keys[i], &j)))
            rc = cl_error_wrap(rc, "sort");
        else {
            k[i].c = f->cols[j];
            k[i].desc = desc ? desc[i] : 0;
            if (k[i].c->type == CL_CAT)
                rc = cl_frame_ops_dict_ranks(k[i].c->dict, &k[i].rank);
        }
    }
    int64_t n = f->nrow;
    int64_t *idx = NULL, *tmp = NULL;
    if (rc == CL_OK) {
        idx = cl_alloc((size_t)(n ? n : 1) * sizeof *idx);
        tmp = cl_alloc((size_t)(n ? n : 1) * sizeof *tmp);
        if (!idx || !tmp)
            rc = CL_ENOMEM;
    }
    if (rc == CL_OK) {
        for (int64_t i = 0; i < n; i++)
            idx[i] = i;
        rc = merge_sort(idx, tmp, n, k, nkeys);
    }
    if (rc == CL_OK) {
        *order = idx;
        idx = NULL;
    }
    for (int i = 0; i < nkeys; i++)
        cl_alloc_free(k[i].rank);
    cl_alloc_free(k);
    cl_alloc_free(idx);
    cl_alloc_free(tmp);
    return rc;
}

int cl_frame_ops_sort(cl_frame **out, const cl_frame *f, const char *const *keys, const int *desc,
                  int nkeys)
{
    *out = NULL;
    int64_t *order;
    int rc = cl_frame_ops_sort_index(f, keys, desc, nkeys, &order);
    if (rc)
        return rc;
    rc = cl_frame_take(out, f, order, f->nrow);
    cl_alloc_free(order);
    return rc;
}

/* ---- concat ------------------------------------------------------------------------------- */

static int concat_column(cl_column **out, const cl_frame *const *frames, int n, const int *pos)
{
    const cl_column *c0 = frames[0]->cols[pos[0]];
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += frames[i]->nrow;
    int rc = c0->type == CL_CAT ? cl_frame_column_new_cat(out, total, NULL)
                                : cl_frame_column_new_num(out, c0->type, total);
    if (rc)
        return rc;
    cl_column *r = *out;
    int64_t o = 0;
    for (int i = 0; i < n && rc == CL_OK; i++) {
        const cl_column *c = frames[i]->cols[pos[i]];
        if (c->type != CL_CAT) {
            memcpy(r->num + o, c->num, (size_t)c->n * sizeof(double));
            o += c->n;
            continue;
        }
        int32_t *map = cl_alloc(((size_t)c->dict->n + 1) * sizeof *map);
        if (!map) {
            rc = CL_ENOMEM;
            break;
        }
        for (int32_t k = 0; k < c->dict->n && rc == CL_OK; k++)
            rc = cl_frame_dict_intern(r->dict, c->dict->labels[k], c->dict->lens[k], &map[k]);
        for (int64_t j = 0; j < c->n && rc == CL_OK; j++)
            r->codes[o + j] = c->codes[j] < 0 ? -1 : map[c->codes[j]];
        o += c->n;
        cl_alloc_free(map);
    }
    if (rc) {
        cl_frame_column_free(r);
        *out = NULL;
    }
    return rc;
}

int cl_frame_ops_concat(cl_frame **out, const cl_frame *const *frames, int n)
{
    *out = NULL;
    if (n < 1)
        return cl_error(CL_EINVAL, "concat: no frames given");
    const cl_frame *f0 = frames[0];
    int *pos = cl_alloc(sizeof *pos * (size_t)n);
    if (!pos)
        return CL_ENOMEM;
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int i = 1; rc == CL_OK && i < n; i++)
        if (frames[i]->ncol != f0->ncol)
            rc = cl_error(CL_EINVAL, "concat: frame %d has %d columns, frame 1 has %d", i + 1,
                          frames[i]->ncol, f0->ncol);
    for (int j = 0; rc == CL_OK && j < f0->ncol; j++) {
        for (int i = 0; rc == CL_OK && i < n; i++) {
            pos[i] = cl_frame_find(frames[i], f0->names[j]);
            if (pos[i] < 0)
                rc = cl_error(CL_EINVAL, "concat: frame %d has no column '%s'", i + 1, f0->names[j]);
            else if (frames[i]->cols[pos[i]]->type != f0->cols[j]->type)
                rc = cl_error(CL_EINVAL, "concat: column '%s' is %s in frame 1 and %s in frame %d",
                              f0->names[j], cl_frame_coltype_name(f0->cols[j]->type),
                              cl_frame_coltype_name(frames[i]->cols[pos[i]]->type), i + 1);
        }
        cl_column *c;
        if (rc == CL_OK && (rc = concat_column(&c, frames, n, pos)) == CL_OK) {
            rc = cl_frame_set(r, f0->names[j], c);
            cl_frame_column_free(c);
        }
    }
    cl_alloc_free(pos);
    if (rc) {
        cl_frame_free(r);
        return rc;
    }
    int64_t total = 0;
    for (int i = 0; i < n; i++)
        total += frames[i]->nrow;
    r->nrow = total;
    *out = r;
    return CL_OK;
}

/* ---- split and folds ---------------------------------------------------------------------- */

static int strata_of(const cl_frame *f, const char *name, const char *what, int32_t **ids,
                     int32_t *nids)
{
    *ids = NULL;
    *nids = 1;
    int64_t n = f->nrow;
    *ids = cl_alloc_calloc((size_t)(n ? n : 1), sizeof **ids);
    if (!*ids)
        return CL_ENOMEM;
    if (!name)
        return CL_OK;
    int j, na;
    int rc = cl_frame_col(f, name, &j);
    if (rc == CL_OK)
        rc = cl_frame_ops_dense_ids(f->cols[j], *ids, nids, &na);
    if (rc) {
        cl_alloc_free(*ids);
        *ids = NULL;
        return cl_error_wrap(rc, "%s", what);
    }
    return CL_OK;
}

typedef struct share {
    double frac;
    int32_t s;
} share;

static int cmp_share(const void *a, const void *b)
{
    const share *x = a, *y = b;
    if (x->frac != y->frac)
        return x->frac > y->frac ? -1 : 1;
    return (x->s > y->s) - (x->s < y->s);
}

int cl_frame_ops_split(const cl_frame *f, double test, const char *stratify, uint64_t seed,
                   int64_t **train, int64_t *ntrain, int64_t **test_idx, int64_t *ntest)
{
    *train = *test_idx = NULL;
    *ntrain = *ntest = 0;
    if (!(test > 0 && test < 1))
        return cl_error(CL_EINVAL, "split: test must be a share in (0, 1), got %g", test);
    int64_t n = f->nrow;
    int32_t *ids, ns;
    int rc = strata_of(f, stratify, "split: stratify", &ids, &ns);
    if (rc)
        return rc;
    /* rows of each stratum (CSR) */
    int64_t *start = cl_alloc_calloc((size_t)ns + 1, sizeof *start);
    int64_t *rows = cl_alloc((size_t)(n ? n : 1) * sizeof *rows);
    int64_t *want = cl_alloc_calloc((size_t)ns + 1, sizeof *want);
    share *sh = cl_alloc_calloc((size_t)ns + 1, sizeof *sh);
    uint8_t *is_test = cl_alloc_calloc((size_t)(n ? n : 1), 1);
    if (!start || !rows || !want || !sh || !is_test) {
        rc = CL_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n; i++)
        start[ids[i] + 1]++;
    for (int32_t s = 0; s < ns; s++)
        start[s + 1] += start[s];
    {
        int64_t *fill = want; /* reuse as cursor, reset below */
        for (int64_t i = 0; i < n; i++)
            rows[start[ids[i]] + fill[ids[i]]++] = i;
        memset(want, 0, ((size_t)ns + 1) * sizeof *want);
    }
    /* test rows per stratum: floors, then the largest remainders up to round(n * test) */
    int64_t total = (int64_t)llround((double)n * test), got = 0;
    for (int32_t s = 0; s < ns; s++) {
        double exact = (double)(start[s + 1] - start[s]) * test;
        want[s] = (int64_t)floor(exact);
        got += want[s];
        sh[s].frac = exact - floor(exact);
        sh[s].s = s;
    }
    qsort(sh, (size_t)ns, sizeof *sh, cmp_share);
    for (int32_t t = 0; got < total && t < ns; t++, got++)
        want[sh[t].s]++;
    cl_rng rng;
    cl_rng_seed(&rng, seed);
    for (int32_t s = 0; s < ns; s++) {
        int64_t m = start[s + 1] - start[s];
        int64_t *r = rows + start[s];
        /* partial Fisher-Yates: the first want[s] rows become a uniform sample */
        for (int64_t i = 0; i < want[s] && i < m; i++) {
            int64_t j = i + (int64_t)cl_rng_below(&rng, (uint64_t)(m - i));
            int64_t t = r[i];
            r[i] = r[j];
            r[j] = t;
            is_test[r[i]] = 1;
        }
    }
    int64_t nt = 0;
    for (int64_t i = 0; i < n; i++)
        nt += is_test[i];
    *test_idx = cl_alloc((size_t)(nt ? nt : 1) * sizeof **test_idx);
    *train = cl_alloc((size_t)(n - nt ? n - nt : 1) * sizeof **train);
    if (!*test_idx || !*train) {
        cl_alloc_free(*test_idx);
        cl_alloc_free(*train);
        *test_idx = *train = NULL;
        rc = CL_ENOMEM;
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        if (is_test[i])
            (*test_idx)[(*ntest)++] = i;
        else
            (*train)[(*ntrain)++] = i;
    }
done:
    cl_alloc_free(ids);
    cl_alloc_free(start);
    cl_alloc_free(rows);
    cl_alloc_free(want);
    cl_alloc_free(sh);
    cl_alloc_free(is_test);
    return rc;
}

typedef struct grp {
    int64_t size;
    int64_t first; /* shuffled position, for deterministic ties */
    int32_t id;
} grp;

static int cmp_grp(const void *a, const void *b)
{
    const grp *x = a, *y = b;
    if (x->size != y->size)
        return x->size > y->size ? -1 : 1;
    return (x->first > y->first) - (x->first < y->first);
}

int cl_frame_ops_kfold(const cl_frame *f, int k, const char *stratify, const char *group,
                   uint64_t seed, int32_t **fold)
{
    *fold = NULL;
    int64_t n = f->nrow;
    if (k < 2)
        return cl_error(CL_EINVAL, "kfold: k must be at least 2, got %d", k);
    if (n < k)
        return cl_error(CL_EINVAL, "kfold: %lld rows cannot make %d folds", (long long)n, k);
    int32_t *sid = NULL, *gid = NULL, ns = 1, ng = 0;
    int rc = strata_of(f, stratify, "kfold: stratify", &sid, &ns);
    if (rc == CL_OK && group)
        rc = strata_of(f, group, "kfold: group", &gid, &ng);
    int32_t *out = rc == CL_OK ? cl_alloc((size_t)n * sizeof *out) : NULL;
    if (rc == CL_OK && !out)
        rc = CL_ENOMEM;
    cl_rng rng;
    cl_rng_seed(&rng, seed);
    if (rc == CL_OK && !group) {
        /* per stratum: shuffle its rows, deal them round-robin, continuing the dealer's
         * position across strata so fold sizes differ by at most one */
        int64_t *perm = cl_alloc((size_t)n * sizeof *perm);
        int64_t *st = cl_alloc_calloc((size_t)ns + 2, sizeof *st);
        if (!perm || !st) {
            rc = CL_ENOMEM;
        } else {
            for (int64_t i = 0; i < n; i++) /* rows grouped by stratum, in row order */
                st[sid[i] + 2]++;
            for (int32_t s = 0; s < ns; s++)
                st[s + 2] += st[s + 1];
            for (int64_t i = 0; i < n; i++)
                perm[st[sid[i] + 1]++] = i;
            for (int32_t s = 0; s < ns; s++) {
                int64_t lo = st[s], m = st[s + 1];
                for (int64_t i = m - 1; i > lo; i--) {
                    int64_t j = lo + (int64_t)cl_rng_below(&rng, (uint64_t)(i - lo + 1));
                    int64_t t = perm[i];
                    perm[i] = perm[j];
                    perm[j] = t;
                }
            }
            for (int64_t i = 0; i < n; i++)
                out[perm[i]] = (int32_t)(i % k);
        }
        cl_alloc_free(perm);
        cl_alloc_free(st);
    } else if (rc == CL_OK) {
        if (ng < k) {
            rc = cl_error(CL_EINVAL, "kfold: %d groups cannot make %d folds", ng, k);
        } else {
            /* stratified group k-fold: groups in shuffled order, largest first, each to the
             * fold where the per-stratum shares stay most even (fewest rows on ties) */
            int64_t *cnt = cl_alloc_calloc((size_t)ng * (size_t)ns, sizeof *cnt); /* group x stratum */
            int64_t *fcnt = cl_alloc_calloc((size_t)k * (size_t)ns, sizeof *fcnt);
            int64_t *tot = cl_alloc_calloc((size_t)ns, sizeof *tot);
            int64_t *fsize = cl_alloc_calloc((size_t)k, sizeof *fsize);
            grp *g = cl_alloc_calloc((size_t)ng, sizeof *g);
            uint32_t *shuf = cl_alloc((size_t)ng * sizeof *shuf);
            int32_t *gfold = cl_alloc((size_t)ng * sizeof *gfold);
            if (!cnt || !fcnt || !tot || !fsize || !g || !shuf || !gfold) {
                rc = CL_ENOMEM;
            } else {
                for (int64_t i = 0; i < n; i++) {
                    cnt[(size_t)gid[i] * (size_t)ns + (size_t)sid[i]]++;
                    tot[sid[i]]++;
                    g[gid[i]].size++;
                }
                for (int32_t i = 0; i < ng; i++)
                    shuf[i] = (uint32_t)i;
                cl_rng_shuffle(&rng, shuf, (uint64_t)ng);
                for (int32_t i = 0; i < ng; i++) {
                    g[shuf[i]].first = i;
                    g[shuf[i]].id = (int32_t)shuf[i];
                }
                qsort(g, (size_t)ng, sizeof *g, cmp_grp);
                for (int32_t t = 0; t < ng; t++) {
                    const int64_t *c = cnt + (size_t)g[t].id * (size_t)ns;
                    int best = 0;
                    double best_cost = INFINITY;
                    for (int q = 0; q < k; q++) {
                        double cost = 0;
                        for (int32_t s = 0; s < ns; s++) {
                            double share_s = (double)(fcnt[(size_t)q * (size_t)ns + (size_t)s] + c[s]) /
                                             (double)tot[s];
                            cost += share_s * share_s;
                        }
                        if (cost < best_cost || (cost == best_cost && fsize[q] < fsize[best])) {
                            best = q;
                            best_cost = cost;
                        }
                    }
                    gfold[g[t].id] = best;
                    fsize[best] += g[t].size;
                    for (int32_t s = 0; s < ns; s++)
                        fcnt[(size_t)best * (size_t)ns + (size_t)s] += c[s];
                }
                for (int64_t i = 0; i < n; i++)
                    out[i] = gfold[gid[i]];
            }
            cl_alloc_free(cnt);
            cl_alloc_free(fcnt);
            cl_alloc_free(tot);
            cl_alloc_free(fsize);
            cl_alloc_free(g);
            cl_alloc_free(shuf);
            cl_alloc_free(gfold);
        }
    }
    cl_alloc_free(sid);
    cl_alloc_free(gid);
    if (rc) {
        cl_alloc_free(out);
        return rc;
    }
    *fold = out;
    return CL_OK;
}
