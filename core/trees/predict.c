/* predict.c - batch scoring of tree ensembles on perfect-tree layouts (see predict.h). */
#include "trees/predict.h"

#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/threads.h"
#include "trees/isa.h"

#if CL_ISA_HAVE_PATHS
#include <immintrin.h>
#endif

#define BLOCK_MAX 4096

/* One tree ready for scoring. dense: code/thr hold the 2^D - 1 internal slots and leaf the
 * 2^D leaves; catw[i] >= 0 marks a categorical slot (its set at cats + catw[i], ncat[i]
 * categories at training), NULL when the tree has none. Not dense (deeper than
 * CL_PREDICT_DENSE_DEPTH): src is walked as tree.h does. */
typedef struct dtree {
    int depth, dense;
    int32_t *code;
    float *thr, *leaf;
    int32_t *catw, *ncat;
    const cl_tree *src;
} dtree;

/* ---- packing ------------------------------------------------------------------------------ */

/* Copies the subtree of t's node i into dense slot p at level l of a depth-D tree. */
static void pack_node(dtree *o, const cl_tree *t, int i, int p, int l)
{
    const cl_tnode *nd = t->nodes + i;
    const int nint = (1 << o->depth) - 1;
    if (l == o->depth) {
        o->leaf[p - nint] = nd->value;
        return;
    }
    if (nd->feature < 0) { /* a leaf above the last level: same value in every slot below */
        o->code[p] = 0;
        o->thr[p] = 0;
        if (o->catw)
            o->catw[p] = -1;
        pack_node(o, t, i, 2 * p + 1, l + 1);
        pack_node(o, t, i, 2 * p + 2, l + 1);
        return;
    }
    o->code[p] = nd->feature * 2 + (nd->default_left ? 1 : 0);
    o->thr[p] = nd->thr;
    if (o->catw) {
        o->catw[p] = nd->is_cat ? nd->cat * CL_SPLIT_CAT_WORDS : -1;
        o->ncat[p] = nd->ncat;
    }
    pack_node(o, t, nd->left, 2 * p + 1, l + 1);
    pack_node(o, t, nd->left + 1, 2 * p + 2, l + 1);
}

static int has_cats(const cl_tree *t)
{
    for (int i = 0; i < t->n; i++)
        if (t->nodes[i].feature >= 0 && t->nodes[i].is_cat)
            return 1;
    return 0;
}

static void dtree_free(dtree *o)
{
    cl_alloc_free(o->code);
    cl_alloc_free(o->thr);
    cl_alloc_free(o->leaf);
    cl_alloc_free(o->catw);
    cl_alloc_free(o->ncat);
}

/* CL_OK, or CL_ENOMEM (o then holds what the caller frees). */
static int dtree_pack(dtree *o, const cl_tree *t)
{
    memset(o, 0, sizeof *o);
    o->src = t;
    int rc = cl_tree_depth(t, &o->depth);
    if (rc || o->depth > CL_PREDICT_DENSE_DEPTH)
        return rc == CL_EINVAL ? CL_OK : rc; /* deeper than the library grows: walk it */
    o->dense = 1;
    size_t nint = ((size_t)1 << o->depth) - 1;
    size_t nslot = nint + 1 < 32 ? 32 : nint + 1; /* walk_acc_avx512 loads 32 */
    o->code = cl_alloc_calloc(nslot, sizeof *o->code);
    o->thr = cl_alloc_calloc(nslot, sizeof *o->thr);
    o->leaf = cl_alloc((nint + 1) * sizeof *o->leaf);
    if (has_cats(t)) {
        o->catw = cl_alloc((nint + 1) * sizeof *o->catw);
        o->ncat = cl_alloc((nint + 1) * sizeof *o->ncat);
        if (!o->catw || !o->ncat)
            return CL_ENOMEM;
    }
    if (!o->code || !o->thr || !o->leaf)
        return CL_ENOMEM;
    pack_node(o, t, 0, 0, 0);
    return CL_OK;
}

/* ---- one block of rows -------------------------------------------------------------------- */

/* Numeric trees: every slot is a compare, so the level loop has no branch and vectorises
 * (gathers of code, thr and x). x < thr is false for NaN, which then goes left iff its
 * default does. X rows are d apart; nb * d < 2^31 (block sizes below). */
CL_ISA_BODY void walk_numeric(const dtree *o, const float *X, int d, int nb, int32_t *idx)
{
    for (int l = 0; l < o->depth; l++) {
        const int32_t *code = o->code;
        const float *thr = o->thr;
#pragma omp simd
        for (int r = 0; r < nb; r++) {
            int i = idx[r];
            int c = code[i];
            float x = X[r * d + (c >> 1)];
            int left = (x < thr[i]) | ((x != x) & c);
            idx[r] = 2 * i + 2 - left;
        }
    }
}

#if CL_ISA_HAVE_PATHS
/* walk_numeric and the leaf sums of block_body on AVX-512, 16 rows a vector: GCC 12
 * vectorises walk_numeric's loop with gathers emulated by scalar loads and lane inserts, which
 * made a 200-tree depth-6 ensemble cost about 1.5 ns per row and level. The slots of the first
 * five levels (at most 31) are picked from registers (code and thr hold >= 32 entries:
 * dtree_pack), deeper ones and x are gathered. The same compare (ordered x < thr: false for
 * NaN, which then goes left iff the default bit is set), the same index update and the same
 * double sum per row and tree, so the same leaves and bits; the rows after the last full
 * vector take the scalar code. */
CL_ISA_AVX512_FN static void walk_acc_avx512(const dtree *o, const float *X, int d, int nb,
                                             int32_t *idx, double *acc)
{
    const __m512i one = _mm512_set1_epi32(1), two = _mm512_set1_epi32(2);
    const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i dv = _mm512_set1_epi32(d);
    const int32_t *code = o->code;
    const float *thr = o->thr;
    const __m512i clo = _mm512_loadu_si512(code), chi = _mm512_loadu_si512(code + 16);
    const __m512 tlo = _mm512_loadu_ps(thr), thi = _mm512_loadu_ps(thr + 16);
    const int nv = nb / 16 * 16, nint = (1 << o->depth) - 1;
    if (o->depth == 0) { /* one leaf */
        for (int r = 0; r < nb; r++)
            acc[r] += (double)o->leaf[0];
        return;
    }
    for (int l = 0; l < o->depth; l++) {
        const int small = l < 5;
        for (int r = 0; r < nv; r += 16) {
            __m512i i = l ? _mm512_loadu_si512(idx + r) : _mm512_setzero_si512();
            __m512i c = small ? _mm512_permutex2var_epi32(clo, i, chi)
                              : _mm512_i32gather_epi32(i, code, 4);
            __m512 t = small ? _mm512_permutex2var_ps(tlo, i, thi) : _mm512_i32gather_ps(i, thr, 4);
            __m512i row = _mm512_mullo_epi32(_mm512_add_epi32(_mm512_set1_epi32(r), lane), dv);
            __m512 x = _mm512_i32gather_ps(_mm512_add_epi32(row, _mm512_srai_epi32(c, 1)), X, 4);
            __mmask16 left = _mm512_cmp_ps_mask(x, t, _CMP_LT_OQ) |
                             (_mm512_cmp_ps_mask(x, x, _CMP_UNORD_Q) &
                              _mm512_test_epi32_mask(c, one));
            __m512i ni = _mm512_add_epi32(_mm512_add_epi32(i, i), two);
            _mm512_storeu_si512(idx + r, _mm512_mask_sub_epi32(ni, left, ni, one));
        }
    }
    const __m512i base = _mm512_set1_epi32(nint);
    for (int r = 0; r < nv; r += 16) {
        __m512i li = _mm512_sub_epi32(_mm512_loadu_si512(idx + r), base);
        __m512 v = _mm512_i32gather_ps(li, o->leaf, 4);
        __m512d a0 = _mm512_add_pd(_mm512_loadu_pd(acc + r), _mm512_cvtps_pd(_mm512_castps512_ps256(v)));
        __m512d a1 = _mm512_add_pd(_mm512_loadu_pd(acc + r + 8),
                                   _mm512_cvtps_pd(_mm512_extractf32x8_ps(v, 1)));
        _mm512_storeu_pd(acc + r, a0);
        _mm512_storeu_pd(acc + r + 8, a1);
    }
    if (nv == nb)
        return;
    memset(idx + nv, 0, (size_t)(nb - nv) * sizeof *idx);
    walk_numeric(o, X + (size_t)nv * (size_t)d, d, nb - nv, idx + nv);
    for (int r = nv; r < nb; r++)
        acc[r] += (double)o->leaf[idx[r] - nint];
}
#endif

/* Category c goes left when it is in the set; missing (NaN), negative and unseen codes
 * follow the default, as cl_tree_go_left. */
static inline int cat_left(const uint32_t *cats, int32_t w, int32_t ncat, int code, float x)
{
    if (!(x >= 0) || x >= (float)ncat)
        return code & 1;
    return cl_split_cat_has(cats + w, (int)x);
}

CL_ISA_BODY void walk_mixed(const dtree *o, const float *X, int d, int nb, int32_t *idx)
{
    const uint32_t *cats = o->src->cats;
    for (int l = 0; l < o->depth; l++)
        for (int r = 0; r < nb; r++) {
            int i = idx[r];
            int c = o->code[i];
            float x = X[r * d + (c >> 1)];
            int left = o->catw[i] >= 0 ? cat_left(cats, o->catw[i], o->ncat[i], c, x)
                                       : (x < o->thr[i]) | ((x != x) & c);
            idx[r] = 2 * i + 2 - left;
        }
}

/* acc[r] += tree(row r) for the block's nb rows, trees in order (the sum order of tree.c). */
CL_ISA_BODY void block_body(const dtree *ts, int ntrees, const float *X, int d, int nb,
                            int32_t *idx, double *acc, int avx512)
{
    for (int t = 0; t < ntrees; t++) {
        const dtree *o = ts + t;
        if (!o->dense) {
            for (int r = 0; r < nb; r++)
                acc[r] += o->src->nodes[cl_tree_leaf(o->src, X + (size_t)r * (size_t)d)].value;
            continue;
        }
#if CL_ISA_HAVE_PATHS
        if (avx512 && !o->catw) {
            walk_acc_avx512(o, X, d, nb, idx, acc);
            continue;
        }
#else
        (void)avx512;
#endif
        memset(idx, 0, (size_t)nb * sizeof *idx);
        if (o->catw)
            walk_mixed(o, X, d, nb, idx);
        else
            walk_numeric(o, X, d, nb, idx);
        const int nint = (1 << o->depth) - 1;
        for (int r = 0; r < nb; r++)
            acc[r] += (double)o->leaf[idx[r] - nint];
    }
}

typedef void (*block_fn)(const dtree *, int, const float *, int, int, int32_t *, double *);

static void block_default(const dtree *ts, int ntrees, const float *X, int d, int nb,
                          int32_t *idx, double *acc)
{
    block_body(ts, ntrees, X, d, nb, idx, acc, 0);
}

#if CL_ISA_HAVE_PATHS
CL_ISA_AVX2_FN static void block_avx2(const dtree *ts, int ntrees, const float *X, int d, int nb,
                                      int32_t *idx, double *acc)
{
    block_body(ts, ntrees, X, d, nb, idx, acc, 0);
}

CL_ISA_AVX512_FN static void block_avx512(const dtree *ts, int ntrees, const float *X, int d,
                                          int nb, int32_t *idx, double *acc)
{
    block_body(ts, ntrees, X, d, nb, idx, acc, 1);
}
#endif

static block_fn pick_block(void)
{
#if CL_ISA_HAVE_PATHS
    switch (cl_isa_get()) {
    case CL_ISA_AVX512: return block_avx512;
    case CL_ISA_AVX2: return block_avx2;
    default: break;
    }
#endif
    return block_default;
}

/* ---- the ensemble ------------------------------------------------------------------------- */

static void dtrees_free(dtree *ts, int ntrees)
{
    if (!ts)
        return;
    for (int t = 0; t < ntrees; t++)
        dtree_free(ts + t);
    cl_alloc_free(ts);
}

static dtree *dtrees_pack(const cl_tree *const *trees, int ntrees)
{
    dtree *ts = cl_alloc_calloc((size_t)ntrees + 1, sizeof *ts);
    if (!ts)
        return NULL;
    for (int t = 0; t < ntrees; t++)
        if (dtree_pack(ts + t, trees[t])) {
            dtrees_free(ts, t + 1);
            return NULL;
        }
    return ts;
}

/* Scores rows [0, n) of X in blocks on packed trees ts (the kernel of both entry points). */
static void run_blocks(const dtree *ts, int ntrees, const float *X, size_t n, int d, double base,
                       double scale, float *out)
{
    /* a block of X about L2-sized (256 KB); >= 256 rows, so block * d < 2^31 for d <= 10^6 */
    size_t block = (size_t)(256 * 1024) / ((size_t)d * sizeof(float) + 1);
    block = block < 256 ? 256 : block > BLOCK_MAX ? BLOCK_MAX : block;
    const size_t nblk = (n + block - 1) / block;
    const block_fn fn = pick_block();
    const int par = nblk > 1 && n * (size_t)ntrees >= ((size_t)1 << 16);
#pragma omp parallel for schedule(dynamic, 1) num_threads(cl_threads_get()) if (par)
    for (size_t q = 0; q < nblk; q++) {
        size_t i0 = q * block, i1 = i0 + block < n ? i0 + block : n;
        int nb = (int)(i1 - i0);
        double acc[BLOCK_MAX];
        int32_t idx[BLOCK_MAX];
        memset(acc, 0, (size_t)nb * sizeof *acc);
        fn(ts, ntrees, X + i0 * (size_t)d, d, nb, idx, acc);
        for (int r = 0; r < nb; r++)
            out[i0 + (size_t)r] = (float)(base + scale * acc[r]);
    }
}

void cl_predict_ensemble(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                         int d, double base, double scale, float *out)
{
    dtree *ts = n >= 64 ? dtrees_pack(trees, ntrees) : NULL;
    if (!ts) { /* one row or a few: packing costs more than it saves */
        cl_tree_ens_predict(trees, ntrees, X, n, d, base, scale, out);
        return;
    }
    run_blocks(ts, ntrees, X, n, d, base, scale, out);
    dtrees_free(ts, ntrees);
}

/* ---- a pack owned by a model -------------------------------------------------------------- */

struct cl_predict_pack {
    int ntrees;
    dtree *ts;
};

int cl_predict_pack_new(cl_predict_pack **out, const cl_tree *const *trees, int ntrees)
{
    *out = NULL;
    cl_predict_pack *p = cl_alloc_calloc(1, sizeof *p);
    if (!p || !(p->ts = dtrees_pack(trees, ntrees))) {
        cl_alloc_free(p);
        return cl_error(CL_ENOMEM, "tree scoring: out of memory packing %d trees", ntrees);
    }
    p->ntrees = ntrees;
    *out = p;
    return CL_OK;
}

void cl_predict_pack_free(cl_predict_pack *p)
{
    if (!p)
        return;
    dtrees_free(p->ts, p->ntrees);
    cl_alloc_free(p);
}

/* The leaf value row x reaches in o: the D steps of walk_numeric / walk_mixed for one row
 * (the same compares), or the cl_tnode walk of a deep tree. */
static inline float row_leaf(const dtree *o, const float *x)
{
    if (!o->dense)
        return o->src->nodes[cl_tree_leaf(o->src, x)].value;
    int i = 0;
    if (o->catw) {
        const uint32_t *cats = o->src->cats;
        for (int l = 0; l < o->depth; l++) {
            int c = o->code[i];
            float v = x[c >> 1];
            int left = o->catw[i] >= 0 ? cat_left(cats, o->catw[i], o->ncat[i], c, v)
                                       : (v < o->thr[i]) | ((v != v) & c);
            i = 2 * i + 2 - left;
        }
    } else {
        for (int l = 0; l < o->depth; l++) {
            int c = o->code[i];
            float v = x[c >> 1];
            i = 2 * i + 2 - ((v < o->thr[i]) | ((v != v) & c));
        }
    }
    return o->leaf[i - ((1 << o->depth) - 1)];
}

/* Runs of LANES consecutive trees that are all numeric and dense of one depth are walked
 * together for one row: LANES independent chains of D steps, interleaved so their loads
 * overlap (one tree's walk is a chain of dependent loads). */
#define LANES 8

static int lanes_ok(const dtree *o)
{
    for (int k = 0; k < LANES; k++)
        if (!o[k].dense || o[k].catw || o[k].depth != o[0].depth)
            return 0;
    return 1;
}

static void lanes_leaves(const dtree *o, const float *x, float *leaf)
{
    int idx[LANES] = {0};
    for (int l = 0; l < o->depth; l++)
        for (int k = 0; k < LANES; k++) {
            int i = idx[k], c = o[k].code[i];
            float v = x[c >> 1];
            idx[k] = 2 * i + 2 - ((v < o[k].thr[i]) | ((v != v) & c));
        }
    const int nint = (1 << o->depth) - 1;
    for (int k = 0; k < LANES; k++)
        leaf[k] = o[k].leaf[idx[k] - nint];
}

/* Sum over the trees in order, in double, of the leaf values row x reaches. */
static double row_sum(const dtree *ts, int ntrees, const float *x)
{
    double acc = 0;
    int t = 0;
    while (t + LANES <= ntrees) {
        if (!lanes_ok(ts + t)) {
            acc += (double)row_leaf(ts + t, x);
            t++;
            continue;
        }
        float leaf[LANES];
        lanes_leaves(ts + t, x, leaf);
        for (int k = 0; k < LANES; k++) /* still in tree order */
            acc += (double)leaf[k];
        t += LANES;
    }
    for (; t < ntrees; t++)
        acc += (double)row_leaf(ts + t, x);
    return acc;
}

void cl_predict_pack_run(const cl_predict_pack *p, const float *X, size_t n, int d, double base,
                         double scale, float *out)
{
    if (n >= 64) {
        run_blocks(p->ts, p->ntrees, X, n, d, base, scale, out);
        return;
    }
    for (size_t r = 0; r < n; r++) /* a few rows: one at a time */
        out[r] = (float)(base + scale * row_sum(p->ts, p->ntrees, X + r * (size_t)d));
}
