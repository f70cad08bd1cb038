/* interactions.c - id maps and user x item interaction matrices (CSR + CSC), evaluation splits. */
#include "rec/interactions.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- id maps --------------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a */
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ULL;
    }
    return h ^ (h >> 29);
}

/* A canonical decimal integer: optional '-', no leading zeros, at most 18 digits. */
static int is_canonical_int(const char *s)
{
    const char *p = s;
    if (*p == '-')
        p++;
    size_t n = strlen(p);
    if (n == 0 || n > 18)
        return 0;
    if (p[0] == '0' && (n > 1 || p != s))
        return 0;
    for (size_t k = 0; k < n; k++)
        if (p[k] < '0' || p[k] > '9')
            return 0;
    return 1;
}

int cl_interactions_idmap_new(cl_idmap **out)
{
    *out = NULL;
    cl_idmap *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->refcount = 1;
    m->numeric = 1;
    m->cap = 64;
    m->slots = cl_alloc_calloc((size_t)m->cap, sizeof *m->slots);
    if (!m->slots) {
        cl_alloc_free(m);
        return CL_ENOMEM;
    }
    *out = m;
    return CL_OK;
}

cl_idmap *cl_interactions_idmap_retain(cl_idmap *m)
{
    if (m)
        m->refcount++;
    return m;
}

void cl_interactions_idmap_free(cl_idmap *m)
{
    if (!m || --m->refcount > 0)
        return;
    for (int64_t k = 0; k < m->n; k++)
        cl_alloc_free(m->labels[k]);
    cl_alloc_free(m->labels);
    cl_alloc_free(m->slots);
    cl_alloc_free(m);
}

int64_t cl_interactions_idmap_find(const cl_idmap *m, const char *label)
{
    uint64_t mask = (uint64_t)m->cap - 1;
    for (uint64_t h = hash_str(label) & mask;; h = (h + 1) & mask) {
        int64_t s = m->slots[h];
        if (s == 0)
            return -1;
        if (strcmp(m->labels[s - 1], label) == 0)
            return s - 1;
    }
}

static int grow_slots(cl_idmap *m)
{
    int64_t cap = m->cap * 2;
    int64_t *slots = cl_alloc_calloc((size_t)cap, sizeof *slots);
    if (!slots)
        return CL_ENOMEM;
    uint64_t mask = (uint64_t)cap - 1;
    for (int64_t k = 0; k < m->n; k++) {
        uint64_t h = hash_str(m->labels[k]) & mask;
        while (slots[h])
            h = (h + 1) & mask;
        slots[h] = k + 1;
    }
    cl_alloc_free(m->slots);
    m->slots = slots;
    m->cap = cap;
    return CL_OK;
}

int cl_interactions_idmap_add(cl_idmap *m, const char *label, int64_t *idx)
{
    int64_t k = cl_interactions_idmap_find(m, label);
    if (k >= 0) {
        *idx = k;
        return CL_OK;
    }
    if (m->n >= CL_SPARSE_MAX_IDS)
        return cl_error(CL_ERANGE, "interactions: more than %lld distinct ids",
                        (long long)CL_SPARSE_MAX_IDS);
    if ((m->n + 1) * 2 > m->cap && grow_slots(m))
        return CL_ENOMEM;
    if (m->n == m->lab_cap) {
        int64_t nc = m->lab_cap ? m->lab_cap * 2 : 64;
        char **l = cl_alloc_realloc(m->labels, (size_t)nc * sizeof *l);
        if (!l)
            return CL_ENOMEM;
        m->labels = l;
        m->lab_cap = nc;
    }
    char *copy = cl_alloc_strdup(label);
    if (!copy)
        return CL_ENOMEM;
    uint64_t mask = (uint64_t)m->cap - 1;
    uint64_t h = hash_str(label) & mask;
    while (m->slots[h])
        h = (h + 1) & mask;
    m->labels[m->n] = copy;
    m->slots[h] = m->n + 1;
    if (m->numeric && !is_canonical_int(label))
        m->numeric = 0;
    *idx = m->n++;
    return CL_OK;
}

/* ---- matrices -------------------------------------------------------------------------- */

cl_interactions *cl_interactions_retain(cl_interactions *m)
{
    if (m)
        m->refcount++;
    return m;
}

void cl_interactions_free(cl_interactions *m)
{
    if (!m || --m->refcount > 0)
        return;
    cl_interactions_idmap_free(m->users);
    cl_interactions_idmap_free(m->items);
    cl_alloc_free(m->indptr);
    cl_alloc_free(m->indices);
    cl_alloc_free(m->values);
    cl_alloc_free(m->times);
    cl_alloc_free(m->cindptr);
    cl_alloc_free(m->cindices);
    cl_alloc_free(m->cvalues);
    cl_alloc_free(m);
}

int cl_interactions_has(const cl_interactions *m, int64_t u, int32_t i)
{
    int64_t lo = m->indptr[u], hi = m->indptr[u + 1];
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (m->indices[mid] < i)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->indptr[u + 1] && m->indices[lo] == i;
}

/* CSC by a counting pass over the CSR rows (users come out ascending in each column). */
static int add_csc(cl_interactions *m)
{
    int64_t nnz = m->nnz;
    m->cindptr = cl_alloc_calloc((size_t)m->n_items + 1, sizeof *m->cindptr);
    m->cindices = cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *m->cindices);
    m->cvalues = cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *m->cvalues);
    int64_t *fill = cl_alloc(((size_t)m->n_items + 1) * sizeof *fill);
    if (!m->cindptr || !m->cindices || !m->cvalues || !fill) {
        cl_alloc_free(fill);
        return CL_ENOMEM;
    }
    for (int64_t k = 0; k < nnz; k++)
        m->cindptr[m->indices[k] + 1]++;
    for (int64_t j = 0; j < m->n_items; j++)
        m->cindptr[j + 1] += m->cindptr[j];
    memcpy(fill, m->cindptr, ((size_t)m->n_items + 1) * sizeof *fill);
    for (int64_t u = 0; u < m->n_users; u++)
        for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++) {
            int64_t d = fill[m->indices[k]]++;
            m->cindices[d] = (int32_t)u;
            m->cvalues[d] = m->values[k];
        }
    cl_alloc_free(fill);
    return CL_OK;
}

int cl_interactions_from_csr(cl_interactions **out, cl_idmap *users, cl_idmap *items,
                             int64_t *indptr, int32_t *indices, float *values, double *times)
{
    *out = NULL;
    int rc = CL_OK;
    cl_interactions *m = cl_alloc_calloc(1, sizeof *m);
    if (!m) {
        cl_alloc_free(indptr);
        cl_alloc_free(indices);
        cl_alloc_free(values);
        cl_alloc_free(times);
        return CL_ENOMEM;
    }
    m->refcount = 1;
    m->users = cl_interactions_idmap_retain(users);
    m->items = cl_interactions_idmap_retain(items);
    m->n_users = users->n;
    m->n_items = items->n;
    m->indptr = indptr;
    m->indices = indices;
    m->values = values;
    m->times = times;
    if (indptr[0] != 0)
        rc = cl_error(CL_EFORMAT, "interactions: row pointer must start at 0");
    for (int64_t u = 0; rc == CL_OK && u < m->n_users; u++) {
        if (indptr[u + 1] < indptr[u]) {
            rc = cl_error(CL_EFORMAT, "interactions: row pointers decrease at user %lld",
                          (long long)u);
            break;
        }
        for (int64_t k = indptr[u]; k < indptr[u + 1]; k++) {
            if (indices[k] < 0 || indices[k] >= m->n_items ||
                (k > indptr[u] && indices[k] <= indices[k - 1])) {
                rc = cl_error(CL_EFORMAT,
                              "interactions: user %lld, entry %lld: item index %d out of range "
                              "or not ascending",
                              (long long)u, (long long)(k - indptr[u]), (int)indices[k]);
                break;
            }
            if (!isfinite(values[k]) || (times && isnan(times[k]))) {
                rc = cl_error(CL_EFORMAT, "interactions: user %lld, entry %lld: %s", (long long)u,
                              (long long)(k - indptr[u]), isfinite(values[k])
                                  ? "time is missing (NaN)" : "value is not finite");
                break;
            }
        }
    }
    if (rc == CL_OK) {
        m->nnz = indptr[m->n_users];
        rc = add_csc(m);
    }
    if (rc) {
        cl_interactions_free(m);
        return rc;
    }
    *out = m;
    return CL_OK;
}

typedef struct entry {
    int32_t item;
    int64_t pos; /* input position: ties in time are broken by it */
} entry;

static int cmp_entry(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->item != y->item)
        return x->item < y->item ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

int cl_interactions_build(cl_interactions **out, cl_idmap *users, cl_idmap *items, int64_t n,
                          const int64_t *u, const int64_t *i, const float *values,
                          const double *times, cl_dup_mode dup)
{
    *out = NULL;
    if (n < 0)
        return cl_error(CL_EINVAL, "interactions: negative count");
    for (int64_t k = 0; k < n; k++) {
        if (u[k] < 0 || u[k] >= users->n)
            return cl_error(CL_ERANGE, "interactions: entry %lld: user index %lld out of range",
                            (long long)k + 1, (long long)u[k]);
        if (i[k] < 0 || i[k] >= items->n)
            return cl_error(CL_ERANGE, "interactions: entry %lld: item index %lld out of range",
                            (long long)k + 1, (long long)i[k]);
        if (values && !isfinite(values[k]))
            return cl_error(CL_EINVAL, "interactions: entry %lld: value is %g (must be finite)",
                            (long long)k + 1, (double)values[k]);
        if (times && isnan(times[k]))
            return cl_error(CL_EINVAL, "interactions: entry %lld: time is missing (NaN)",
                            (long long)k + 1);
    }
    int64_t nu = users->n;
    size_t cap = (size_t)(n ? n : 1);
    int64_t *indptr = cl_alloc_calloc((size_t)nu + 1, sizeof *indptr);
    entry *ent = cl_alloc(cap * sizeof *ent);
    int32_t *indices = cl_alloc(cap * sizeof *indices);
    float *vals = cl_alloc(cap * sizeof *vals);
    double *tms = times ? cl_alloc(cap * sizeof *tms) : NULL;
    int64_t *fill = cl_alloc(((size_t)nu + 1) * sizeof *fill);
    if (!indptr || !ent || !indices || !vals || (times && !tms) || !fill) {
        cl_alloc_free(indptr), cl_alloc_free(ent), cl_alloc_free(indices), cl_alloc_free(vals), cl_alloc_free(tms);
        cl_alloc_free(fill);
        return CL_ENOMEM;
    }
    /* Stable counting sort by user, then each row sorted by (item, input position). */
    for (int64_t k = 0; k < n; k++)
        indptr[u[k] + 1]++;
    for (int64_t r = 0; r < nu; r++)
        indptr[r + 1] += indptr[r];
    memcpy(fill, indptr, ((size_t)nu + 1) * sizeof *fill);
    for (int64_t k = 0; k < n; k++) {
        int64_t d = fill[u[k]]++;
        ent[d].item = (int32_t)i[k];
        ent[d].pos = k;
    }
    int64_t w = 0, dups = 0;
    for (int64_t r = 0; r < nu; r++) {
        int64_t a = indptr[r], b = indptr[r + 1];
        qsort(ent + a, (size_t)(b - a), sizeof *ent, cmp_entry);
        fill[r] = w;
        for (int64_t k = a; k < b;) {
            int64_t e = k + 1;
            while (e < b && ent[e].item == ent[k].item)
                e++;
            /* the group ent[k..e) is one (user, item) pair in input order */
            int64_t last = ent[k].pos;
            double tlast = times ? times[last] : 0;
            double sum = 0;
            for (int64_t g = k; g < e; g++) {
                int64_t p = ent[g].pos;
                sum += values ? values[p] : 1.0;
                if (times ? times[p] >= tlast : 1) {
                    last = p;
                    tlast = times ? times[p] : 0;
                }
            }
            dups += e - k - 1;
            indices[w] = ent[k].item;
            vals[w] = dup == CL_DUP_SUM ? (float)sum : (values ? values[last] : 1.0f);
            if (tms)
                tms[w] = tlast;
            w++;
            k = e;
        }
    }
    fill[nu] = w;
    memcpy(indptr, fill, ((size_t)nu + 1) * sizeof *indptr);
    cl_alloc_free(fill);
    cl_alloc_free(ent);
    int rc = cl_interactions_from_csr(out, users, items, indptr, indices, vals, tms);
    if (rc == CL_OK)
        (*out)->duplicates = dups;
    return rc;
}

static int numbered(cl_idmap **out, int64_t n)
{
    int rc = cl_interactions_idmap_new(out);
    for (int64_t k = 0; rc == CL_OK && k < n; k++) {
        char b[32];
        int64_t idx;
        snprintf(b, sizeof b, "%lld", (long long)k + 1);
        rc = cl_interactions_idmap_add(*out, b, &idx);
    }
    if (rc) {
        cl_interactions_idmap_free(*out);
        *out = NULL;
    }
    return rc;
}

int cl_interactions_random(cl_interactions **out, int64_t n_users, int64_t n_items, int64_t nnz,
                           double skew, uint64_t seed)
{
    *out = NULL;
    if (n_users < 1 || n_items < 1 || nnz < 1 || n_users > CL_SPARSE_MAX_IDS ||
        n_items > CL_SPARSE_MAX_IDS || !(skew > 0))
        return cl_error(CL_EINVAL, "random interactions: need users, items, nnz >= 1 and skew > 0");
    cl_idmap *um = NULL, *im = NULL;
    int64_t *u = cl_alloc((size_t)nnz * sizeof *u), *it = cl_alloc((size_t)nnz * sizeof *it);
    float *v = cl_alloc((size_t)nnz * sizeof *v);
    int rc = u && it && v ? CL_OK : CL_ENOMEM;
    if (rc == CL_OK)
        rc = numbered(&um, n_users);
    if (rc == CL_OK)
        rc = numbered(&im, n_items);
    if (rc == CL_OK) {
        cl_rng g;
        cl_rng_seed(&g, seed);
        for (int64_t k = 0; k < nnz; k++) {
            u[k] = (int64_t)cl_rng_below(&g, (uint64_t)n_users);
            int64_t i = (int64_t)((double)n_items * pow(cl_rng_uniform(&g), skew));
            it[k] = i < n_items ? i : n_items - 1;
            v[k] = (float)(1 + (u[k] * 7 + it[k] * 13) % 5);
        }
        rc = cl_interactions_build(out, um, im, nnz, u, it, v, NULL, CL_DUP_LAST);
    }
    cl_alloc_free(u), cl_alloc_free(it), cl_alloc_free(v);
    cl_interactions_idmap_free(um), cl_interactions_idmap_free(im);
    return rc;
}

/* ---- splits ---------------------------------------------------------------------------- */

/* Splits src by a per-entry flag (1 = test) into two matrices sharing src's id maps. */
static int split_by_flag(cl_interactions **train, cl_interactions **test,
                         const cl_interactions *src, const uint8_t *flag)
{
    int64_t nu = src->n_users, nnz = src->nnz, ntest = 0;
    for (int64_t k = 0; k < nnz; k++)
        ntest += flag[k];
    int64_t ntrain = nnz - ntest;
    int64_t *p[2];
    int32_t *ind[2];
    float *val[2];
    double *tm[2] = {NULL, NULL};
    int64_t cnt[2] = {ntrain, ntest};
    int fail = 0;
    for (int s = 0; s < 2; s++) {
        size_t c = (size_t)(cnt[s] ? cnt[s] : 1);
        p[s] = cl_alloc_calloc((size_t)nu + 1, sizeof *p[s]);
        ind[s] = cl_alloc(c * sizeof *ind[s]);
        val[s] = cl_alloc(c * sizeof *val[s]);
        if (src->times)
            tm[s] = cl_alloc(c * sizeof *tm[s]);
        fail |= !p[s] || !ind[s] || !val[s] || (src->times && !tm[s]);
    }
    if (fail) {
        for (int s = 0; s < 2; s++)
            cl_alloc_free(p[s]), cl_alloc_free(ind[s]), cl_alloc_free(val[s]), cl_alloc_free(tm[s]);
        return CL_ENOMEM;
    }
    int64_t w[2] = {0, 0};
    for (int64_t r = 0; r < nu; r++) {
        for (int64_t k = src->indptr[r]; k < src->indptr[r + 1]; k++) {
            int s = flag[k];
            ind[s][w[s]] = src->indices[k];
            val[s][w[s]] = src->values[k];
            if (tm[s])
                tm[s][w[s]] = src->times[k];
            w[s]++;
        }
        p[0][r + 1] = w[0];
        p[1][r + 1] = w[1];
    }
    *train = *test = NULL;
    int rc = cl_interactions_from_csr(train, src->users, src->items, p[0], ind[0], val[0], tm[0]);
    if (rc) {
        cl_alloc_free(p[1]), cl_alloc_free(ind[1]), cl_alloc_free(val[1]), cl_alloc_free(tm[1]);
        return rc;
    }
    rc = cl_interactions_from_csr(test, src->users, src->items, p[1], ind[1], val[1], tm[1]);
    if (rc) {
        cl_interactions_free(*train);
        *train = NULL;
    }
    return rc;
}

int cl_interactions_split_holdout(cl_interactions **train, cl_interactions **test,
                                  const cl_interactions *src, double test_frac, uint64_t seed)
{
    *train = *test = NULL;
    if (!(test_frac > 0 && test_frac < 1))
        return cl_error(CL_EINVAL, "split: test fraction must be in (0, 1), got %g", test_frac);
    uint8_t *flag = cl_alloc_calloc((size_t)(src->nnz ? src->nnz : 1), 1);
    int64_t maxrow = 0;
    for (int64_t r = 0; r < src->n_users; r++)
        if (cl_interactions_user_nnz(src, r) > maxrow)
            maxrow = cl_interactions_user_nnz(src, r);
    uint32_t *perm = cl_alloc((size_t)(maxrow ? maxrow : 1) * sizeof *perm);
    if (!flag || !perm) {
        cl_alloc_free(flag), cl_alloc_free(perm);
        return CL_ENOMEM;
    }
    for (int64_t r = 0; r < src->n_users; r++) {
        int64_t n = cl_interactions_user_nnz(src, r);
        int64_t nt = (int64_t)floor(test_frac * (double)n + 0.5);
        if (nt > n - 1)
            nt = n - 1;
        if (nt <= 0)
            continue;
        cl_rng g;
        cl_rng_split(&g, seed, (uint64_t)r);
        for (int64_t k = 0; k < n; k++)
            perm[k] = (uint32_t)k;
        cl_rng_shuffle(&g, perm, (uint64_t)n);
        for (int64_t k = 0; k < nt; k++)
            flag[src->indptr[r] + perm[k]] = 1;
    }
    cl_alloc_free(perm);
    int rc = split_by_flag(train, test, src, flag);
    cl_alloc_free(flag);
    return rc;
}

int cl_interactions_split_last(cl_interactions **train, cl_interactions **test,
                               const cl_interactions *src, int n_last)
{
    *train = *test = NULL;
    if (!src->times)
        return cl_error(CL_EINVAL, "split: leave-last-out needs interaction times (option 'time')");
    if (n_last < 1)
        return cl_error(CL_EINVAL, "split: 'last' must be >= 1, got %d", n_last);
    uint8_t *flag = cl_alloc_calloc((size_t)(src->nnz ? src->nnz : 1), 1);
    if (!flag)
        return CL_ENOMEM;
    for (int64_t r = 0; r < src->n_users; r++) {
        int64_t a = src->indptr[r], n = src->indptr[r + 1] - a;
        int64_t nt = n_last < n - 1 ? n_last : n - 1;
        for (int64_t t = 0; t < nt; t++) { /* pick the latest unflagged entry nt times */
            int64_t best = -1;
            for (int64_t k = a; k < a + n; k++)
                if (!flag[k] && (best < 0 || src->times[k] >= src->times[best]))
                    best = k;
            flag[best] = 1;
        }
    }
    int rc = split_by_flag(train, test, src, flag);
    cl_alloc_free(flag);
    return rc;
}

/* ---- growing --------------------------------------------------------------------------- */

int cl_interactions_idmap_copy(cl_idmap **out, const cl_idmap *m)
{
    int rc = cl_interactions_idmap_new(out);
    for (int64_t k = 0; rc == CL_OK && k < m->n; k++) {
        int64_t idx;
        rc = cl_interactions_idmap_add(*out, m->labels[k], &idx);
    }
    if (rc) {
        cl_interactions_idmap_free(*out);
        *out = NULL;
    }
    return rc;
}

/* A copy of map with the new labels appended; an error names a label already present. */
static int extended_map(cl_idmap **out, const cl_idmap *map, int64_t nl,
                        const char *const *labels, const char *what)
{
    *out = NULL;
    for (int64_t k = 0; k < nl; k++)
        if (cl_interactions_idmap_find(map, labels[k]) >= 0)
            return cl_error(CL_EINVAL, "interactions: %s '%s' is already known", what,
                            labels[k]);
    int rc = cl_interactions_idmap_copy(out, map);
    for (int64_t k = 0; rc == CL_OK && k < nl; k++) {
        int64_t idx;
        rc = cl_interactions_idmap_add(*out, labels[k], &idx);
        if (rc == CL_OK && idx != map->n + k)
            rc = cl_error(CL_EINVAL, "interactions: new %s '%s' is listed twice", what,
                          labels[k]);
    }
    if (rc) {
        cl_interactions_idmap_free(*out);
        *out = NULL;
    }
    return rc;
}

/* Checks n (index, value) entries: indices in [0, lim), distinct, values finite. */
static int check_entries(int64_t n, const int32_t *idx, const float *v, int64_t lim,
                         const char *what)
{
    uint8_t *seen = cl_alloc_calloc((size_t)(lim ? lim : 1), 1);
    if (!seen)
        return CL_ENOMEM;
    int rc = CL_OK;
    for (int64_t k = 0; rc == CL_OK && k < n; k++) {
        if (idx[k] < 0 || idx[k] >= lim)
            rc = cl_error(CL_ERANGE, "interactions: entry %lld: %s index %d out of range [0, "
                          "%lld)", (long long)k + 1, what, (int)idx[k], (long long)lim);
        else if (seen[idx[k]]++)
            rc = cl_error(CL_EINVAL, "interactions: entry %lld: %s index %d is listed twice",
                          (long long)k + 1, what, (int)idx[k]);
        else if (v && !isfinite(v[k]))
            rc = cl_error(CL_EINVAL, "interactions: entry %lld: value is not finite",
                          (long long)k + 1);
    }
    cl_alloc_free(seen);
    return rc;
}

static double latest_time(const cl_interactions *m)
{
    double t = -INFINITY;
    for (int64_t k = 0; k < m->nnz; k++)
        t = m->times[k] > t ? m->times[k] : t;
    return isfinite(t) ? t : 0;
}

typedef struct {
    int32_t i;
    float v;
} ent_iv;

static int cmp_ent(const void *a, const void *b)
{
    int32_t x = ((const ent_iv *)a)->i, y = ((const ent_iv *)b)->i;
    return (x > y) - (x < y);
}

int cl_interactions_add_user(cl_interactions **out, const cl_interactions *m, const char *label,
                             int64_t n, const int32_t *items, const float *values)
{
    *out = NULL;
    int rc = check_entries(n, items, values, m->n_items, "item");
    if (rc)
        return rc;
    cl_idmap *users;
    if ((rc = extended_map(&users, m->users, 1, &label, "user")))
        return rc;
    int64_t nu = m->n_users + 1, nnz = m->nnz + n;
    int64_t *indptr = cl_alloc((size_t)(nu + 1) * sizeof *indptr);
    int32_t *ind = cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *ind);
    float *val = cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *val);
    double *tm = m->times ? cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *tm) : NULL;
    ent_iv *e = cl_alloc((size_t)(n ? n : 1) * sizeof *e);
    if (!indptr || !ind || !val || (m->times && !tm) || !e) {
        cl_alloc_free(indptr), cl_alloc_free(ind), cl_alloc_free(val), cl_alloc_free(tm), cl_alloc_free(e);
        cl_interactions_idmap_free(users);
        return CL_ENOMEM;
    }
    memcpy(indptr, m->indptr, (size_t)(m->n_users + 1) * sizeof *indptr);
    indptr[nu] = nnz;
    memcpy(ind, m->indices, (size_t)m->nnz * sizeof *ind);
    memcpy(val, m->values, (size_t)m->nnz * sizeof *val);
    if (tm)
        memcpy(tm, m->times, (size_t)m->nnz * sizeof *tm);
    for (int64_t k = 0; k < n; k++)
        e[k].i = items[k], e[k].v = values ? values[k] : 1.0f;
    qsort(e, (size_t)n, sizeof *e, cmp_ent);
    double t = tm ? latest_time(m) : 0;
    for (int64_t k = 0; k < n; k++) {
        ind[m->nnz + k] = e[k].i;
        val[m->nnz + k] = e[k].v;
        if (tm)
            tm[m->nnz + k] = t;
    }
    cl_alloc_free(e);
    rc = cl_interactions_from_csr(out, users, m->items, indptr, ind, val, tm);
    cl_interactions_idmap_free(users);
    if (rc == CL_OK)
        (*out)->duplicates = m->duplicates;
    return rc;
}

int cl_interactions_add_items(cl_interactions **out, const cl_interactions *m, int64_t nl,
                              const char *const *labels, int64_t n, const int32_t *users,
                              const float *values)
{
    *out = NULL;
    if (nl < 1 && n > 0)
        return cl_error(CL_EINVAL, "interactions: entries for a new item, but no new item");
    int rc = check_entries(n, users, values, m->n_users, "user");
    if (rc)
        return rc;
    cl_idmap *items;
    if ((rc = extended_map(&items, m->items, nl, labels, "item")))
        return rc;
    int64_t nnz = m->nnz + n;
    int64_t *indptr = cl_alloc((size_t)(m->n_users + 1) * sizeof *indptr);
    int32_t *ind = cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *ind);
    float *val = cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *val);
    double *tm = m->times ? cl_alloc((size_t)(nnz ? nnz : 1) * sizeof *tm) : NULL;
    float *uval = cl_alloc((size_t)(m->n_users ? m->n_users : 1) * sizeof *uval);
    uint8_t *has = cl_alloc_calloc((size_t)(m->n_users ? m->n_users : 1), 1);
    if (!indptr || !ind || !val || (m->times && !tm) || !uval || !has) {
        cl_alloc_free(indptr), cl_alloc_free(ind), cl_alloc_free(val), cl_alloc_free(tm), cl_alloc_free(uval), cl_alloc_free(has);
        cl_interactions_idmap_free(items);
        return CL_ENOMEM;
    }
    for (int64_t k = 0; k < n; k++)
        has[users[k]] = 1, uval[users[k]] = values ? values[k] : 1.0f;
    double t = tm ? latest_time(m) : 0;
    /* the new item has the largest index: it goes last in each of its users' rows */
    int64_t w = 0;
    indptr[0] = 0;
    for (int64_t u = 0; u < m->n_users; u++) {
        int64_t a = m->indptr[u], len = m->indptr[u + 1] - a;
        memcpy(ind + w, m->indices + a, (size_t)len * sizeof *ind);
        memcpy(val + w, m->values + a, (size_t)len * sizeof *val);
        if (tm)
            memcpy(tm + w, m->times + a, (size_t)len * sizeof *tm);
        w += len;
        if (has[u]) {
            ind[w] = (int32_t)m->n_items;
            val[w] = uval[u];
            if (tm)
                tm[w] = t;
            w++;
        }
        indptr[u + 1] = w;
    }
    cl_alloc_free(uval), cl_alloc_free(has);
    rc = cl_interactions_from_csr(out, m->users, items, indptr, ind, val, tm);
    cl_interactions_idmap_free(items);
    if (rc == CL_OK)
        (*out)->duplicates = m->duplicates;
    return rc;
}
