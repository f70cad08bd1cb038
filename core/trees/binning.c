/* binning.c - quantile binning of float features (see binning.h). */
#include "trees/binning.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/rng.h"
#include "base/threads.h"
#include "trees/isa.h"

#if CL_ISA_HAVE_PATHS
#include <immintrin.h>
#endif

void cl_binning_free(cl_binning *b)
{
    if (!b)
        return;
    cl_alloc_free(b->nbins);
    cl_alloc_free(b->is_cat);
    cl_alloc_free(b->cut_off);
    cl_alloc_free(b->cuts);
    cl_alloc_free(b->hist_off);
    cl_alloc_free(b);
}

static cl_binning *binning_alloc(int d)
{
    cl_binning *b = cl_alloc_calloc(1, sizeof *b);
    if (!b)
        return NULL;
    b->d = d;
    b->nbins = cl_alloc_calloc((size_t)d + 1, sizeof *b->nbins);
    b->is_cat = cl_alloc_calloc((size_t)d + 1, 1);
    b->cut_off = cl_alloc_calloc((size_t)d + 1, sizeof *b->cut_off);
    b->hist_off = cl_alloc_calloc((size_t)d + 1, sizeof *b->hist_off);
    if (!b->nbins || !b->is_cat || !b->cut_off || !b->hist_off) {
        cl_binning_free(b);
        return NULL;
    }
    return b;
}

/* Sorts m non-NaN floats ascending: LSD radix sort (4 passes of 8 bits) on order-preserving
 * unsigned keys; tmp holds m floats. */
static void sort_floats(float *v, float *tmp, size_t m)
{
    uint32_t *a = (uint32_t *)v, *b = (uint32_t *)tmp;
    for (size_t i = 0; i < m; i++) {
        uint32_t u;
        memcpy(&u, v + i, 4);
        a[i] = u & 0x80000000u ? ~u : u | 0x80000000u;
    }
    for (int shift = 0; shift < 32; shift += 8) {
        size_t cnt[257] = {0};
        for (size_t i = 0; i < m; i++)
            cnt[((a[i] >> shift) & 255u) + 1]++;
        for (int k = 0; k < 256; k++)
            cnt[k + 1] += cnt[k];
        for (size_t i = 0; i < m; i++)
            b[cnt[(a[i] >> shift) & 255u]++] = a[i];
        uint32_t *t = a;
        a = b;
        b = t;
    }
    /* four passes: the data is back in v */
    for (size_t i = 0; i < m; i++) {
        uint32_t u = a[i];
        u = u & 0x80000000u ? u & 0x7fffffffu : ~u;
        memcpy(v + i, &u, 4);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Cuts for one numeric feature from sorted non-missing values v[0..m); writes at most
 * max_bins - 1 cuts into out and returns their count. */
static int numeric_cuts(const float *v, size_t m, int max_bins, float *out)
{
    if (m == 0)
        return 0;
    size_t nd = 1;
    for (size_t i = 1; i < m; i++)
        nd += v[i] != v[i - 1];
    int nc = 0;
    if (nd <= (size_t)max_bins) {
        for (size_t i = 1; i < m; i++) {
            if (v[i] == v[i - 1])
                continue;
            float mid = (float)(((double)v[i - 1] + (double)v[i]) * 0.5);
            out[nc++] = mid > v[i - 1] ? mid : v[i];
        }
        return nc;
    }
    /* Greedy equal-count bins over distinct values: ties never straddle a cut. */
    double per = (double)m / max_bins;
    size_t i = 0;
    while (i < m && nc < max_bins - 1) {
        size_t j = i;
        while (j < m && v[j] == v[i])
            j++;
        /* j is the start of the next distinct value; cut after it when the bin is full */
        if (j < m && (double)j >= per * (nc + 1)) {
            float mid = (float)(((double)v[j - 1] + (double)v[j]) * 0.5);
            out[nc++] = mid > v[j - 1] ? mid : v[j];
        }
        i = j;
    }
    return nc;
}

/* Categorical codes must be integral and < CL_BIN_MAXCAT; rows are numbered from first + 1. */
static int check_cats(const float *X, size_t n, int d, const uint8_t *is_cat, size_t first)
{
    if (is_cat) {
        for (int j = 0; j < d; j++) {
            if (!is_cat[j])
                continue;
            for (size_t i = 0; i < n; i++) {
                float x = X[i * (size_t)d + (size_t)j];
                if (isnan(x) || x < 0)
                    continue;
                if (x != floorf(x))
                    return cl_error(CL_EINVAL,
                                    "binning: row %zu, column %d is categorical but holds %g "
                                    "(expected a category code 0, 1, 2 ...)",
                                    first + i + 1, j + 1, (double)x);
                if (x >= CL_BIN_MAXCAT)
                    return cl_error(CL_EINVAL,
                                    "binning: row %zu, column %d holds category code %g; at most "
                                    "%d categories are supported",
                                    first + i + 1, j + 1, (double)x, CL_BIN_MAXCAT);
            }
        }
    }
    return CL_OK;
}

/* The deterministic sample of S of n rows: the first S of a seeded partial Fisher-Yates
 * shuffle, sorted (for cache-friendly reads). Owned (S values), NULL when out of memory. */
static uint32_t *sample_rows(size_t n, size_t S, uint64_t seed)
{
    uint32_t *perm = cl_alloc(n * sizeof *perm);
    if (!perm)
        return NULL;
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    cl_rng r;
    cl_rng_seed(&r, seed ^ 0x9e3779b97f4a7c15ull);
    for (size_t i = 0; i < S; i++) { /* partial Fisher-Yates */
        size_t k = i + (size_t)cl_rng_below(&r, n - i);
        uint32_t t = perm[i];
        perm[i] = perm[k];
        perm[k] = t;
    }
    qsort(perm, S, sizeof *perm, cmp_u32);
    return perm;
}

int cl_binning_new(cl_binning **out, int max_bins, uint64_t seed)
{
    *out = NULL;
    if (max_bins < 2 || max_bins > 255)
        return cl_error(CL_EINVAL, "binning: max_bins must be in [2, 255], got %d", max_bins);
    cl_binning *b = cl_alloc_calloc(1, sizeof *b);
    if (!b)
        return CL_ENOMEM;
    b->max_bins = max_bins;
    b->seed = seed;
    *out = b;
    return CL_OK;
}

/* b takes q's fitted arrays and keeps its own parameters; q leaves with b's old arrays. A fit
 * is built aside and adopted only when it succeeded, so a failed fit leaves b as it was. */
static void adopt(cl_binning *b, cl_binning *q)
{
    cl_binning t = *b;
    *b = *q;
    b->max_bins = t.max_bins;
    b->seed = t.seed;
    *q = t;
    cl_binning_free(q);
}

static int fit_new(cl_binning **out, const float *X, size_t n, int d, const uint8_t *is_cat,
                   int max_bins, uint64_t seed)
{
    *out = NULL;
    if (d < 1 || n < 1)
        return cl_error(CL_EINVAL, "binning: need at least one row and one column (got %zu x %d)",
                        n, d);
    if (max_bins < 2 || max_bins > 255)
        return cl_error(CL_EINVAL, "binning: max_bins must be in [2, 255], got %d", max_bins);
    int rc0 = check_cats(X, n, d, is_cat, 0);
    if (rc0)
        return rc0;
    cl_binning *b = binning_alloc(d);
    if (!b)
        return CL_ENOMEM;
    size_t S = n < CL_BIN_SAMPLE ? n : CL_BIN_SAMPLE;
    uint32_t *rows = NULL;
    if (S < n && !(rows = sample_rows(n, S, seed))) {
        cl_binning_free(b);
        return CL_ENOMEM;
    }
    float *cuts = cl_alloc((size_t)d * (size_t)max_bins * sizeof *cuts);
    int *ncut = cl_alloc_calloc((size_t)d, sizeof *ncut);
    int rc = CL_OK;
    if (!cuts || !ncut) {
        rc = CL_ENOMEM;
        goto done;
    }
    int nth = cl_threads_get();
    int failed = 0;
#pragma omp parallel num_threads(nth) if (S * (size_t)d > ((size_t)1 << 18))
    {
        float *buf = cl_alloc(2 * S * sizeof *buf);
        if (!buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(dynamic, 1)
        for (int j = 0; j < d; j++) {
            if (!buf)
                continue;
            if (is_cat && is_cat[j]) {
                int mx = -1;
                for (size_t i = 0; i < n; i++) {
                    float x = X[i * (size_t)d + (size_t)j];
                    if (x >= 0 && (int)x > mx)
                        mx = (int)x;
                }
                b->is_cat[j] = 1;
                b->nbins[j] = mx < 0 ? 1 : mx + 1;
                ncut[j] = 0;
                continue;
            }
            size_t m = 0;
            for (size_t s = 0; s < S; s++) {
                size_t i = rows ? rows[s] : s;
                float x = X[i * (size_t)d + (size_t)j];
                if (!isnan(x))
                    buf[m++] = x;
            }
            sort_floats(buf, buf + S, m); /* -0.0 sorts before 0.0; they compare equal */
            ncut[j] = numeric_cuts(buf, m, max_bins, cuts + (size_t)j * (size_t)max_bins);
            b->nbins[j] = ncut[j] + 1;
        }
        cl_alloc_free(buf);
    }
    if (failed) {
        rc = cl_error(CL_ENOMEM, "binning: out of memory");
        goto done;
    }
    size_t total = 0;
    for (int j = 0; j < d; j++)
        total += (size_t)ncut[j];
    b->cuts = cl_alloc((total ? total : 1) * sizeof *b->cuts);
    if (!b->cuts) {
        rc = CL_ENOMEM;
        goto done;
    }
    b->cut_off[0] = 0;
    b->hist_off[0] = 0;
    for (int j = 0; j < d; j++) {
        memcpy(b->cuts + b->cut_off[j], cuts + (size_t)j * (size_t)max_bins,
               (size_t)ncut[j] * sizeof *cuts);
        b->cut_off[j + 1] = b->cut_off[j] + ncut[j];
        b->hist_off[j + 1] = b->hist_off[j] + b->nbins[j] + 1;
    }
done:
    cl_alloc_free(rows);
    cl_alloc_free(cuts);
    cl_alloc_free(ncut);
    if (rc != CL_OK) {
        cl_binning_free(b);
        return rc;
    }
    *out = b;
    return CL_OK;
}

uint8_t cl_binning_bin(const cl_binning *b, int j, float x)
{
    if (isnan(x))
        return (uint8_t)b->nbins[j];
    if (b->is_cat[j]) {
        if (x < 0 || x >= (float)b->nbins[j])
            return (uint8_t)b->nbins[j];
        return (uint8_t)(int)x;
    }
    const float *c = b->cuts + b->cut_off[j];
    int lo = 0, hi = b->cut_off[j + 1] - b->cut_off[j]; /* count of cuts <= x */
    while (lo < hi) {
        int mid = (lo + hi) >> 1;
        if (c[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return (uint8_t)lo;
}

/* Count of cuts <= x among c[0..nc) (x not NaN; c ascending): branch-free binary search with
 * a trip count fixed by nc alone. The window [lo, lo + len] always holds the answer; each
 * step keeps one half without a branch. (The search it replaces shrank len to half or
 * len - half - 1 by the comparison, so its trip count, 7 or 8 for 254 cuts, depended on the
 * data: one mispredicted loop exit per value, and binning 10^7 values took about 0.5 s.) */
static inline int upper_count(const float *c, int nc, float x)
{
    if (nc <= 0)
        return 0;
    int lo = 0, len = nc;
    while (len > 1) {
        int half = len >> 1;
        /* a mask, not a ternary: GCC 12 turns the ternary into a branch */
        lo += half & -(int)(c[lo + half - 1] <= x);
        len -= half;
    }
    return lo + (c[lo] <= x);
}

/* Numeric feature rows [i0, i1): x[i d] (x points at the feature's first value). */
static void apply_numeric(const float *c, int nc, const float *x, size_t d, size_t i0, size_t i1,
                          uint8_t miss, uint8_t *o)
{
    for (size_t i = i0; i < i1; i++) {
        float v = x[i * d];
        o[i] = v != v ? miss : (uint8_t)upper_count(c, nc, v);
    }
}

#if CL_ISA_HAVE_PATHS
/* apply_numeric for 16 rows a vector: upper_count's steps with the cuts gathered (the same
 * ordered c <= x compares, so the same bins; NaN lanes take the missing bin), the rest of the
 * rows by apply_numeric. The scalar search is a chain of dependent loads per value. */
CL_ISA_AVX512_FN static void apply_numeric_avx512(const float *c, int nc, const float *x,
                                                  size_t d, size_t i0, size_t i1, uint8_t miss,
                                                  uint8_t *o)
{
    const __m512i stride = _mm512_mullo_epi32(
        _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15),
        _mm512_set1_epi32((int)d));
    const __m512i one = _mm512_set1_epi32(1), missv = _mm512_set1_epi32(miss);
    size_t i = i0;
    for (; nc > 0 && d < ((size_t)1 << 26) && i + 16 <= i1; i += 16) {
        __m512 v = _mm512_i32gather_ps(stride, x + i * d, 4);
        __m512i lo = _mm512_setzero_si512();
        for (int len = nc; len > 1;) {
            int half = len >> 1;
            __m512i at = _mm512_add_epi32(lo, _mm512_set1_epi32(half - 1));
            __mmask16 take = _mm512_cmp_ps_mask(_mm512_i32gather_ps(at, c, 4), v, _CMP_LE_OQ);
            lo = _mm512_mask_add_epi32(lo, take, lo, _mm512_set1_epi32(half));
            len -= half;
        }
        __mmask16 last = _mm512_cmp_ps_mask(_mm512_i32gather_ps(lo, c, 4), v, _CMP_LE_OQ);
        lo = _mm512_mask_add_epi32(lo, last, lo, one);
        lo = _mm512_mask_mov_epi32(lo, _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q), missv);
        _mm_storeu_si128((__m128i *)(void *)(o + i), _mm512_cvtepi32_epi8(lo));
    }
    apply_numeric(c, nc, x, d, i, i1, miss, o);
}
#endif

void cl_binning_apply(const cl_binning *b, const float *X, size_t n, uint8_t *out)
{
    const int d = b->d;
    const size_t block = 2048;
    const size_t nblk = (n + block - 1) / block;
    const int avx512 = cl_isa_get() == CL_ISA_AVX512;
#pragma omp parallel for schedule(static) num_threads(cl_threads_get()) if (nblk > 8)
    for (size_t k = 0; k < nblk; k++) {
        size_t i0 = k * block, i1 = i0 + block < n ? i0 + block : n;
        for (int j = 0; j < d; j++) {
            uint8_t *o = out + (size_t)j * n;
            const float *x = X + (size_t)j;
            if (b->is_cat[j]) {
                for (size_t i = i0; i < i1; i++)
                    o[i] = cl_binning_bin(b, j, x[i * (size_t)d]);
                continue;
            }
            const float *c = b->cuts + b->cut_off[j];
            int nc = b->cut_off[j + 1] - b->cut_off[j];
            uint8_t miss = (uint8_t)b->nbins[j];
#if CL_ISA_HAVE_PATHS
            if (avx512) {
                apply_numeric_avx512(c, nc, x, (size_t)d, i0, i1, miss, o);
                continue;
            }
#endif
            apply_numeric(c, nc, x, (size_t)d, i0, i1, miss, o);
        }
    }
    (void)avx512;
}

float cl_binning_threshold(const cl_binning *b, int j, int bin_b)
{
    int nc = b->cut_off[j + 1] - b->cut_off[j];
    if (bin_b < nc)
        return b->cuts[b->cut_off[j] + bin_b];
    return INFINITY;
}

int cl_binning_total(const cl_binning *b)
{
    return b->hist_off[b->d];
}

int cl_binning_from_arrays(cl_binning **out, int d, const int32_t *nbins, const uint8_t *is_cat,
                           const float *cuts, size_t ncuts)
{
    *out = NULL;
    if (d < 1)
        return cl_error(CL_EFORMAT, "binning: bad feature count %d", d);
    cl_binning *b = binning_alloc(d);
    if (!b)
        return CL_ENOMEM;
    size_t tot = 0;
    for (int j = 0; j < d; j++) {
        if (nbins[j] < 1 || nbins[j] > 255 || is_cat[j] > 1) {
            cl_binning_free(b);
            return cl_error(CL_EFORMAT, "binning: feature %d has %d bins (expected 1..255)",
                            j + 1, (int)nbins[j]);
        }
        b->nbins[j] = nbins[j];
        b->is_cat[j] = is_cat[j];
        b->cut_off[j] = (int)tot;
        b->hist_off[j + 1] = b->hist_off[j] + nbins[j] + 1;
        if (!is_cat[j])
            tot += (size_t)nbins[j] - 1;
    }
    b->cut_off[d] = (int)tot;
    if (tot != ncuts) {
        cl_binning_free(b);
        return cl_error(CL_EFORMAT, "binning: %zu cuts stored, %zu expected", ncuts, tot);
    }
    b->cuts = cl_alloc((tot ? tot : 1) * sizeof *b->cuts);
    if (!b->cuts) {
        cl_binning_free(b);
        return CL_ENOMEM;
    }
    if (tot)
        memcpy(b->cuts, cuts, tot * sizeof *cuts);
    for (int j = 0; j < d; j++) {
        const float *c = b->cuts + b->cut_off[j];
        for (int k = 0; k < b->cut_off[j + 1] - b->cut_off[j]; k++)
            if (isnan(c[k]) || (k > 0 && !(c[k] > c[k - 1]))) {
                cl_binning_free(b);
                return cl_error(CL_EFORMAT, "binning: cuts of feature %d are not increasing",
                                j + 1);
            }
    }
    *out = b;
    return CL_OK;
}

int cl_binning_fit(cl_binning *b, const float *X, size_t n, int d, const uint8_t *is_cat)
{
    cl_binning *q;
    int rc = fit_new(&q, X, n, d, is_cat, b->max_bins, b->seed);
    if (!rc)
        adopt(b, q);
    return rc;
}

static int fit_dist_new(cl_binning **out, const float *X, size_t n, int d, const uint8_t *is_cat,
                        int max_bins, uint64_t seed, cl_dist *dist);

int cl_binning_fit_dist(cl_binning *b, const float *X, size_t n, int d, const uint8_t *is_cat,
                        cl_dist *dist)
{
    cl_binning *q;
    int rc = fit_dist_new(&q, X, n, d, is_cat, b->max_bins, b->seed, dist);
    if (!rc)
        adopt(b, q);
    else
        cl_binning_free(q); /* this rank's fit, when only another rank's failed */
    return rc;
}

static int fit_dist_new(cl_binning **out, const float *X, size_t n, int d, const uint8_t *is_cat,
                        int max_bins, uint64_t seed, cl_dist *dist)
{
    *out = NULL;
    int size = cl_dist_size(dist), me = cl_dist_rank(dist);
    if (size == 1)
        return fit_new(out, X, n, d, is_cat, max_bins, seed);
    int64_t *cnt = cl_alloc((size_t)size * sizeof *cnt);
    double *mx = cl_alloc(((size_t)d + 1) * sizeof *mx);
    uint32_t *mine = NULL, *perm = NULL;
    float *loc = NULL, *Xs = NULL;
    int rc = !cnt || !mx ? CL_ENOMEM : CL_OK;
    if (!rc && (rc = cl_dist_gather_i64(dist, (int64_t)n, cnt)) == CL_OK) {
        size_t ng = 0, first = 0;
        for (int r = 0; r < size; r++) {
            ng += (size_t)cnt[r];
            if (r < me)
                first += (size_t)cnt[r];
        }
        if (ng >= UINT32_MAX)
            rc = cl_error(CL_ERANGE, "binning: %zu rows over the ranks (at most %u)", ng,
                          UINT32_MAX - 1);
        if (!rc)
            rc = check_cats(X, n, d, is_cat, first);
        size_t S = ng < CL_BIN_SAMPLE ? ng : CL_BIN_SAMPLE, k = 0;
        if (!rc && S < ng && !(perm = sample_rows(ng, S, seed)))
            rc = CL_ENOMEM;
        /* this rank's rows of the sample, in global order */
        if (!rc && !(mine = cl_alloc((n + 1) * sizeof *mine)))
            rc = CL_ENOMEM;
        if (!rc) {
            for (size_t s = 0; s < S; s++) {
                size_t g = perm ? perm[s] : s;
                if (g >= first && g < first + n)
                    mine[k++] = (uint32_t)(g - first);
            }
            loc = cl_alloc((k * (size_t)d + 1) * sizeof *loc);
            Xs = cl_alloc((S * (size_t)d + 1) * sizeof *Xs);
            if (!loc || !Xs)
                rc = CL_ENOMEM;
        }
        if (!rc) {
            for (size_t q = 0; q < k; q++)
                memcpy(loc + q * (size_t)d, X + (size_t)mine[q] * (size_t)d,
                       (size_t)d * sizeof *loc);
            for (int j = 0; j < d; j++) { /* categorical bin counts from every row */
                mx[j] = -1;
                if (is_cat && is_cat[j])
                    for (size_t i = 0; i < n; i++) {
                        float x = X[i * (size_t)d + (size_t)j];
                        if (x >= 0 && x > mx[j])
                            mx[j] = x;
                    }
            }
        }
        /* every rank learns the others' sample sizes, then the rows themselves */
        if ((rc = cl_dist_agree(dist, rc)) == CL_OK &&
            (rc = cl_dist_gather_i64(dist, (int64_t)(k * (size_t)d * sizeof *loc), cnt)) ==
                CL_OK &&
            (rc = cl_dist_allgatherv(dist, loc, Xs, cnt)) == CL_OK &&
            (rc = cl_dist_max_f64(dist, mx, (size_t)d)) == CL_OK)
            rc = fit_new(out, Xs, S, d, is_cat, max_bins, seed);
        if (!rc) {
            cl_binning *b = *out;
            for (int j = 0; j < d; j++)
                if (b->is_cat[j]) {
                    b->nbins[j] = mx[j] < 0 ? 1 : (int)mx[j] + 1;
                    b->hist_off[j + 1] = b->hist_off[j] + b->nbins[j] + 1;
                } else {
                    b->hist_off[j + 1] = b->hist_off[j] + b->nbins[j] + 1;
                }
        }
    }
    cl_alloc_free(cnt);
    cl_alloc_free(mx);
    cl_alloc_free(mine);
    cl_alloc_free(perm);
    cl_alloc_free(loc);
    cl_alloc_free(Xs);
    if (rc) {
        cl_binning_free(*out);
        *out = NULL;
    }
    return cl_dist_agree(dist, rc);
}
