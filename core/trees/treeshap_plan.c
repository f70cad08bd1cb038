/* treeshap_plan.c - exact path-dependent TreeSHAP in O(nodes + leaves * depth) per tree and
 * row after a per-leaf precomputation (see treeshap.h; the idea of Fast TreeSHAP v2, Yang
 * 2021, arXiv 2109.09847; the derivation below is our own).
 *
 * A leaf with value v whose path carries the distinct features F (m of them) adds to the
 * path-dependent value function v(S) the term v * prod_{j in S} o_j * prod_{j in F \ S} z_j,
 * where z_j is the product of the cover fractions of the path's splits on j and o_j = 1 when
 * x follows every one of them (else 0). Features outside F are dummies of that term, so with
 * w(s) = s! (m - 1 - s)! / m! and A = {j : o_j = 1} (only S inside A survive):
 *   phi_k = v (o_k - z_k) sum_{S subset of A \ k} w(|S|) prod_{j in F \ k \ S} z_j.
 * Splitting F \ k \ S into (F \ A \ k) and (T \ S) with T = A \ k:
 *   k in A:     phi_k = v (1 - z_k) * P         * R(A \ k),
 *   k not in A: phi_k = -v z_k      * P_{-k}    * R(A),
 * with P = prod_{j in F \ A} z_j, P_{-k} the same product without z_k (no division: prefix
 * and suffix products, so zero covers stay exact) and
 *   R(T) = v sum_{S subset of T} w(|S|) prod_{j in T \ S} z_j = v sum_s w(s) e_{|T|-s}(z_T),
 * e the elementary symmetric polynomials of T's zero fractions. R depends on the leaf only,
 * so it is tabulated once for every T (2^m doubles per leaf, O(2^m m) to build); a row then
 * evaluates each split once, forms A per leaf from its path and reads m + 1 table entries.
 */
#include "trees/treeshap.h"

#include <stdint.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"
#include "base/threads.h"

typedef struct fstep {
    int32_t node;  /* a split on the leaf's path */
    uint8_t left;  /* the path goes to its left child */
    uint8_t u;     /* index of the split's feature among the leaf's distinct features */
} fstep;

typedef struct fleaf {
    int node, m, nsteps;
    size_t step0, feat0, r0; /* offsets into steps, feats / z, R */
} fleaf;

typedef struct ftree {
    int fast; /* 0: explained by Algorithm 2 */
    size_t leaf0, nleaves, node0; /* node0: offset of the tree's nodes in unode */
} ftree;

struct cl_treeshap_plan {
    const cl_tree *const *trees;
    int ntrees, maxdepth, maxnodes, maxfeat, fallbacks;
    double scale, ev;
    ftree *tr;
    fleaf *leaves;
    fstep *steps;
    int32_t *feats;
    double *z, *R;
    /* Per node of the fast trees: the index of its feature among the distinct features of
     * the paths through it. Features are numbered in order of first appearance from the
     * root, so every leaf below a node numbers it alike, and a row's A of every leaf comes
     * from one pass down the tree. */
    uint8_t *unode;
    size_t nleaves, nsteps, nfeat, nr, nnodes, bytes;
};

/* Parents of every node (children come after parents, so one forward pass). */
static void parents_of(const cl_tree *t, int32_t *par)
{
    par[0] = -1;
    for (int i = 0; i < t->n; i++)
        if (t->nodes[i].feature >= 0)
            par[t->nodes[i].left] = par[t->nodes[i].left + 1] = i;
}

/* The path from the root to leaf `leaf` as steps (root first) and its distinct features;
 * returns the step count, *m the distinct count. */
static int leaf_path(const cl_tree *t, const int32_t *par, int leaf, fstep *st, int32_t *fu,
                     int *m)
{
    int ns = 0;
    for (int c = leaf, p = par[leaf]; p >= 0; c = p, p = par[p])
        st[ns++] = (fstep){.node = p, .left = (uint8_t)(c == t->nodes[p].left)};
    for (int i = 0; i < ns / 2; i++) { /* root first */
        fstep s = st[i];
        st[i] = st[ns - 1 - i];
        st[ns - 1 - i] = s;
    }
    int k = 0;
    for (int i = 0; i < ns; i++) {
        int f = t->nodes[st[i].node].feature, u;
        for (u = 0; u < k && fu[u] != f; u++)
            ;
        if (u == k)
            fu[k++] = f;
        st[i].u = (uint8_t)u;
    }
    *m = k;
    return ns;
}

/* R(T) for every subset T of the leaf's m features (see the top of the file), times v. */
static void leaf_table(int m, const double *z, double v, double *e, double *R)
{
    double w[CL_TREESHAP_FAST_MAX_FEATURES + 1];
    if (m == 0) {
        R[0] = 0; /* a single-leaf tree: no player, never read */
        return;
    }
    w[0] = 1.0 / m;
    for (int s = 1; s < m; s++)
        w[s] = w[s - 1] * s / (double)(m - s);
    const int stride = m + 1;
    memset(e, 0, (size_t)stride * sizeof *e);
    e[0] = 1;
    R[0] = v * w[0];
    for (unsigned T = 1; T < (1u << m); T++) {
        unsigned Tp = T & (T - 1);
        int b = __builtin_ctz(T), nt = __builtin_popcount(T);
        const double *ep = e + (size_t)Tp * stride;
        double *et = e + (size_t)T * stride;
        et[0] = z[b] * ep[0];
        for (int s = 1; s <= nt; s++)
            et[s] = z[b] * (s < nt ? ep[s] : 0) + ep[s - 1];
        double r = 0;
        for (int s = 0; s <= nt && s < m; s++) /* e_T[s] sums prod_{T \ S} z over |S| = s */
            r += w[s] * et[s];
        R[T] = v * r;
    }
}

/* Pass 1: counts and, per tree, whether it is explained fast (distinct features per path
 * within the limit and the tables within the budget, in tree order: deterministic). */
static int plan_count(cl_treeshap_plan *p, int32_t *par, fstep *st, int32_t *fu)
{
    size_t rbytes = 0;
    for (int ti = 0; ti < p->ntrees; ti++) {
        const cl_tree *t = p->trees[ti];
        parents_of(t, par);
        size_t nl = 0, ns = 0, nf = 0, nr = 0;
        int ok = 1;
        for (int i = 0; i < t->n && ok; i++) {
            if (t->nodes[i].feature >= 0)
                continue;
            int m, k = leaf_path(t, par, i, st, fu, &m);
            ok = m <= CL_TREESHAP_FAST_MAX_FEATURES;
            nl++, ns += (size_t)k, nf += (size_t)m, nr += (size_t)1 << (ok ? m : 0);
        }
        for (int i = 0; i < t->n; i++) /* X must hold every split's feature */
            if (t->nodes[i].feature > p->maxfeat)
                p->maxfeat = t->nodes[i].feature;
        if (ok && rbytes + nr * sizeof(double) > CL_TREESHAP_FAST_MAX_BYTES)
            ok = 0;
        p->tr[ti].fast = ok;
        p->maxnodes = t->n > p->maxnodes ? t->n : p->maxnodes;
        if (!ok) {
            p->fallbacks++;
            continue;
        }
        rbytes += nr * sizeof(double);
        p->nnodes += (size_t)t->n;
        p->nleaves += nl, p->nsteps += ns, p->nfeat += nf, p->nr += nr;
    }
    return CL_OK;
}

/* Pass 2: paths, zero fractions and tables of the fast trees. */
static void plan_fill(cl_treeshap_plan *p, int32_t *par, double *e)
{
    size_t li = 0, si = 0, fi = 0, ri = 0, ni = 0;
    for (int ti = 0; ti < p->ntrees; ti++) {
        const cl_tree *t = p->trees[ti];
        p->tr[ti].leaf0 = li;
        p->tr[ti].nleaves = 0;
        p->tr[ti].node0 = ni;
        if (!p->tr[ti].fast)
            continue;
        ni += (size_t)t->n;
        parents_of(t, par);
        for (int i = 0; i < t->n; i++) {
            if (t->nodes[i].feature >= 0)
                continue;
            fleaf *lf = p->leaves + li++;
            fstep *st = p->steps + si;
            int m, k = leaf_path(t, par, i, st, p->feats + fi, &m);
            double *z = p->z + fi;
            for (int u = 0; u < m; u++)
                z[u] = 1;
            for (int s = 0; s < k; s++) { /* the cover fractions Algorithm 2 uses */
                const cl_tnode *nd = t->nodes + st[s].node;
                int child = st[s].left ? nd->left : nd->left + 1;
                z[st[s].u] *= nd->cover > 0 ? t->nodes[child].cover / nd->cover : 0;
            }
            for (int s = 0; s < k; s++)
                p->unode[p->tr[ti].node0 + (size_t)st[s].node] = st[s].u;
            *lf = (fleaf){.node = i, .m = m, .nsteps = k, .step0 = si, .feat0 = fi, .r0 = ri};
            leaf_table(m, z, t->nodes[i].value * p->scale, e, p->R + ri);
            si += (size_t)k, fi += (size_t)m, ri += (size_t)1 << m;
            p->tr[ti].nleaves++;
        }
    }
}

static int plan_alloc(cl_treeshap_plan *p)
{
    p->leaves = cl_alloc((p->nleaves + 1) * sizeof *p->leaves);
    p->steps = cl_alloc((p->nsteps + 1) * sizeof *p->steps);
    p->feats = cl_alloc((p->nfeat + 1) * sizeof *p->feats);
    p->z = cl_alloc((p->nfeat + 1) * sizeof *p->z);
    p->R = cl_alloc((p->nr + 1) * sizeof *p->R);
    p->unode = cl_alloc(p->nnodes + 1);
    p->bytes = sizeof *p + (size_t)p->ntrees * sizeof *p->tr +
               (p->nleaves + 1) * sizeof *p->leaves + (p->nsteps + 1) * sizeof *p->steps +
               (p->nfeat + 1) * (sizeof *p->feats + sizeof *p->z) + (p->nr + 1) * sizeof *p->R +
               p->nnodes + 1;
    if (!p->leaves || !p->steps || !p->feats || !p->z || !p->R || !p->unode)
        return cl_error(CL_ENOMEM, "treeshap: out of memory for a %zu-byte plan", p->bytes);
    return CL_OK;
}

int cl_treeshap_plan_new(cl_treeshap_plan **out, const cl_tree *const *trees, int ntrees,
                         double base, double scale)
{
    *out = NULL;
    cl_treeshap_plan *p = cl_alloc(sizeof *p);
    if (!p)
        return cl_error(CL_ENOMEM, "treeshap: out of memory");
    memset(p, 0, sizeof *p);
    p->trees = trees, p->ntrees = ntrees, p->scale = scale, p->maxfeat = -1;
    int rc = cl_treeshap_ensemble_ev(trees, ntrees, base, scale, &p->maxdepth, &p->ev);
    p->tr = cl_alloc(((size_t)ntrees + 1) * sizeof *p->tr);
    if (!rc && !p->tr)
        rc = cl_error(CL_ENOMEM, "treeshap: out of memory");
    int maxn = 1;
    for (int t = 0; t < ntrees && !rc; t++)
        maxn = trees[t]->n > maxn ? trees[t]->n : maxn;
    const size_t stride = CL_TREESHAP_FAST_MAX_FEATURES + 1;
    int32_t *par = rc ? NULL : cl_alloc((size_t)maxn * sizeof *par);
    fstep *st = rc ? NULL : cl_alloc(((size_t)p->maxdepth + 1) * sizeof *st);
    int32_t *fu = rc ? NULL : cl_alloc(((size_t)p->maxdepth + 1) * sizeof *fu);
    double *e = rc ? NULL : cl_alloc((stride << CL_TREESHAP_FAST_MAX_FEATURES) * sizeof *e);
    if (!rc && (!par || !st || !fu || !e))
        rc = cl_error(CL_ENOMEM, "treeshap: out of memory");
    if (!rc)
        rc = plan_count(p, par, st, fu);
    if (!rc)
        rc = plan_alloc(p);
    if (!rc)
        plan_fill(p, par, e);
    cl_alloc_free(par);
    cl_alloc_free(st);
    cl_alloc_free(fu);
    cl_alloc_free(e);
    if (rc) {
        cl_treeshap_plan_free(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

void cl_treeshap_plan_free(cl_treeshap_plan *p)
{
    if (!p)
        return;
    cl_alloc_free(p->tr);
    cl_alloc_free(p->leaves);
    cl_alloc_free(p->steps);
    cl_alloc_free(p->feats);
    cl_alloc_free(p->z);
    cl_alloc_free(p->R);
    cl_alloc_free(p->unode);
    cl_alloc_free(p);
}

size_t cl_treeshap_plan_bytes(const cl_treeshap_plan *p)
{
    return p->bytes;
}

int cl_treeshap_plan_fallbacks(const cl_treeshap_plan *p)
{
    return p->fallbacks;
}

/* Per-row scratch: each node's A mask (maxnodes words) then Algorithm 2's path buffer. */
#define MASKS_BYTES(p) (((size_t)(p)->maxnodes * sizeof(uint32_t) + 63) / 64 * 64)
size_t cl_treeshap_plan_work_bytes(const cl_treeshap_plan *p)
{
    size_t dir = MASKS_BYTES(p);
    return dir + cl_treeshap_path_bytes(p->maxdepth);
}

/* One leaf's contributions given each split's direction (see the top of the file). */
static void leaf_row(const cl_treeshap_plan *p, const fleaf *lf, uint32_t amask, double *phi)
{
    const int m = lf->m;
    if (m == 0)
        return;
    const unsigned A = amask & ((1u << m) - 1);
    const double *z = p->z + lf->feat0, *R = p->R + lf->r0;
    const int32_t *f = p->feats + lf->feat0;
    /* Whether x follows feature u is a coin flip per leaf, so both cases are computed and
     * one picked by index (no branch to mispredict); the sums are those of the branchy form. */
    double pre[CL_TREESHAP_FAST_MAX_FEATURES + 1], suf = 1;
    pre[0] = 1;
    for (int u = 0; u < m; u++) {
        const double fz[2] = {z[u], 1.0};
        pre[u + 1] = pre[u] * fz[(A >> u) & 1];
    }
    const double P = pre[m], RA = R[A];
    for (int u = m - 1; u >= 0; u--) {
        const unsigned in = (A >> u) & 1;
        const double term[2] = {-(z[u] * RA * pre[u] * suf), (1 - z[u]) * P * R[A ^ (1u << u)]};
        const double fz[2] = {z[u], 1.0};
        phi[f[u]] += term[in];
        suf *= fz[in];
    }
}

/* Tree ti's contributions to one row (fast or Algorithm 2). */
static void tree_row(const cl_treeshap_plan *p, int ti, const float *x, void *work, double *phi)
{
    uint32_t *am = work;
    const cl_tree *t = p->trees[ti];
    if (!p->tr[ti].fast) {
        cl_treeshap_tree_row(t, x, p->scale, (char *)work + MASKS_BYTES(p), phi);
        return;
    }
    /* A node's mask has bit u cleared when x leaves the path at a split on feature u above
     * it; children come after parents, so one forward pass sets every node's mask. */
    const uint8_t *un = p->unode + p->tr[ti].node0;
    am[0] = ~0u;
    for (int i = 0; i < t->n; i++) {
        const cl_tnode *nd = t->nodes + i;
        if (nd->feature < 0)
            continue;
        uint32_t a = am[i], off = a & ~(1u << un[i]);
        int go = cl_tree_go_left(t, nd, x[nd->feature]);
        am[nd->left] = go ? a : off;
        am[nd->left + 1] = go ? off : a;
    }
    const fleaf *lf = p->leaves + p->tr[ti].leaf0;
    for (size_t l = 0; l < p->tr[ti].nleaves; l++)
        leaf_row(p, lf + l, am[lf[l].node], phi);
}

void cl_treeshap_plan_row(const cl_treeshap_plan *p, const float *x, void *work, double *phi)
{
    for (int ti = 0; ti < p->ntrees; ti++)
        tree_row(p, ti, x, work, phi);
}

/* Rows i0..i1 tree by tree: one tree's tables (a few kB) stay in cache across the block,
 * where row by row the whole plan (MBs) streams through per row. Each row still adds its
 * trees in tree order, so the result is the bytes of cl_treeshap_plan_row. */
static void block_rows(const cl_treeshap_plan *p, const float *X, size_t i0, size_t i1, int d,
                       void *work, double *phi, float *out)
{
    const size_t w = (size_t)d + 1;
    memset(phi, 0, (i1 - i0) * w * sizeof *phi);
    for (int ti = 0; ti < p->ntrees; ti++)
        for (size_t i = i0; i < i1; i++)
            tree_row(p, ti, X + i * (size_t)d, work, phi + (i - i0) * w);
    for (size_t i = i0; i < i1; i++) {
        float *o = out + i * w;
        for (int j = 0; j < d; j++)
            o[j] = (float)phi[(i - i0) * w + (size_t)j];
        o[d] = (float)p->ev;
    }
}

/* The plan's rows for cl_treeshap_run_blocks. */
typedef struct plan_rows {
    const cl_treeshap_plan *p;
    const float *X;
    int d;
    float *out;
} plan_rows;

static int plan_block(const void *ctx, size_t i0, size_t i1, void *work, double *phi)
{
    const plan_rows *r = ctx;
    block_rows(r->p, r->X, i0, i1, r->d, work, phi, r->out);
    return 0;
}

int cl_treeshap_plan_run(const cl_treeshap_plan *p, const float *X, size_t n, int d, float *out)
{
    if (p->maxfeat >= d)
        return cl_error(CL_EINVAL, "treeshap: the trees split on feature %d but X has %d columns",
                        p->maxfeat + 1, d);
    const size_t block = 64; /* Ctrl-C is polled per block: ~0.1 s at worst here */
    const plan_rows r = {p, X, d, out};
    return cl_treeshap_run_blocks(n, block, 256, cl_treeshap_plan_work_bytes(p),
                                  block * ((size_t)d + 1), plan_block, &r);
}
