/* tree_grow.c - depth-wise and leaf-wise tree growth on histograms (see tree_grow.h). */
#include "trees/tree_grow.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/round.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define PART_BLOCK 65536

static int force_node_wise; /* testing hook: cl_tree_grow_force_node_wise */

void cl_tree_grow_force_node_wise(int on)
{
    force_node_wise = on;
}

typedef struct cand {
    int node, depth;
    size_t start, end; /* this rank's rows */
    int64_t cnt;       /* rows over every rank */
    int64_t G, H;      /* fixed-point sums over every rank */
    double lo, hi;     /* monotone constraints: bounds of the node's weight */
    uint32_t ic_open;  /* interaction constraints: the sets holding every path feature */
    cl_hbin *hist; /* NULL when not kept */
    cl_split split;
} cand;

struct cl_tree_grow_ws {
    size_t n;
    int total_bins, d;
    int64_t *gh;   /* 2n ordered fixed-point gradients; also the room of tmp */
    cl_hbin *pack; /* total_bins: a feature subset packed for a reduction */
    uint32_t *tmp; /* n + 1, inside gh (below) */
    cl_hbin **pool;
    int npool, poolcap;
    cand *cands;
    int ncand, candcap;
    cl_tree_grow_leaf *leaves;
    int nleaves, leafcap;
    int *feats; /* d: node feature sample */
    /* level-wise growth (grow_levels) */
    cl_hbin **h2;    /* per thread: second accumulation chain, or the root's partial sums */
    int64_t **blk;   /* per thread: 2 CL_HIST_BLOCK converted gradients (the root's build) */
    int nh2;
    struct lvl_item *items; /* partition and gather work */
    size_t itemcap;
    struct lvl_build *blds; /* histograms to build, and feature chunks of them */
    size_t bldcap;
    struct lvl_chunk *chunks;
    size_t chunkcap;
    int *lvl; /* cand indices: the level's parents, then the children to split */
    size_t lvlcap;
    size_t *nl; /* per parent: rows going left */
    size_t nlcap;
};

int cl_tree_grow_ws_new(cl_tree_grow_ws **out, size_t n, int total_bins, int d)
{
    cl_tree_grow_ws *ws = cl_alloc_calloc(1, sizeof *ws);
    if (!ws)
        return CL_ENOMEM;
    ws->n = n;
    ws->total_bins = total_bins;
    ws->d = d;
    ws->gh = cl_alloc((2 * n + 2) * sizeof *ws->gh);
    /* A partition (tmp) and the ordered gradients (gh) are never in use at once: every
     * partition comes before the gather of the gradients it lists, and the gradients of the
     * histograms built before it are spent. So the partition's scratch (4 bytes a row) lives
     * in gh's 16 bytes a row instead of beside them. */
    ws->tmp = ws->gh ? (uint32_t *)ws->gh : NULL;
    ws->feats = cl_alloc(((size_t)d + 1) * sizeof *ws->feats);
    ws->pack = cl_alloc(((size_t)total_bins + 1) * sizeof *ws->pack);
    if (!ws->gh || !ws->tmp || !ws->feats || !ws->pack) {
        cl_tree_grow_ws_free(ws);
        return CL_ENOMEM;
    }
    *out = ws;
    return CL_OK;
}

void cl_tree_grow_ws_free(cl_tree_grow_ws *ws)
{
    if (!ws)
        return;
    for (int i = 0; i < ws->npool; i++)
        cl_alloc_free(ws->pool[i]);
    for (int i = 0; i < ws->ncand; i++)
        cl_alloc_free(ws->cands[i].hist);
    cl_alloc_free(ws->pool);
    cl_alloc_free(ws->cands);
    cl_alloc_free(ws->leaves);
    cl_alloc_free(ws->gh);
    cl_alloc_free(ws->feats);
    cl_alloc_free(ws->pack);
    for (int i = 0; i < ws->nh2; i++) {
        cl_alloc_free(ws->h2[i]);
        cl_alloc_free(ws->blk[i]);
    }
    cl_alloc_free(ws->h2);
    cl_alloc_free(ws->blk);
    cl_alloc_free(ws->items);
    cl_alloc_free(ws->blds);
    cl_alloc_free(ws->chunks);
    cl_alloc_free(ws->lvl);
    cl_alloc_free(ws->nl);
    cl_alloc_free(ws);
}

static cl_hbin *hist_get(cl_tree_grow_ws *ws)
{
    if (ws->npool > 0)
        return ws->pool[--ws->npool];
    return cl_alloc((size_t)ws->total_bins * sizeof(cl_hbin));
}

static void hist_put(cl_tree_grow_ws *ws, cl_hbin *h)
{
    if (!h)
        return;
    if (ws->npool == ws->poolcap) {
        int cap = ws->poolcap ? 2 * ws->poolcap : 16;
        cl_hbin **np = cl_alloc_realloc(ws->pool, (size_t)cap * sizeof *np);
        if (!np) {
            cl_alloc_free(h);
            return;
        }
        ws->pool = np;
        ws->poolcap = cap;
    }
    ws->pool[ws->npool++] = h;
}

static int add_leaf(cl_tree_grow_ws *ws, int node, size_t start, size_t end)
{
    if (ws->nleaves == ws->leafcap) {
        int cap = ws->leafcap ? 2 * ws->leafcap : 64;
        cl_tree_grow_leaf *nl = cl_alloc_realloc(ws->leaves, (size_t)cap * sizeof *nl);
        if (!nl)
            return CL_ENOMEM;
        ws->leaves = nl;
        ws->leafcap = cap;
    }
    ws->leaves[ws->nleaves].node = node;
    ws->leaves[ws->nleaves].start = start;
    ws->leaves[ws->nleaves].end = end;
    ws->nleaves++;
    return CL_OK;
}

static int add_cand(cl_tree_grow_ws *ws, const cand *c)
{
    if (ws->ncand == ws->candcap) {
        int cap = ws->candcap ? 2 * ws->candcap : 64;
        cand *nc = cl_alloc_realloc(ws->cands, (size_t)cap * sizeof *nc);
        if (!nc)
            return CL_ENOMEM;
        ws->cands = nc;
        ws->candcap = cap;
    }
    ws->cands[ws->ncand++] = *c;
    return CL_OK;
}

/* The tree's fixed-point scales (powers of two, so scaling a float is exact): sg = 2^s with
 * max|grad| * sg * rows < 2^62, likewise for the hessians. */
typedef struct fixed {
    double sg, sh; /* float -> units */
} fixed;

static double scale_for(double mx, int64_t rows)
{
    if (!(mx > 0))
        return 1.0;
    int e, l = 0;
    frexp(mx, &e); /* mx < 2^e */
    while (l < 63 && ((int64_t)1 << l) <= rows)
        l++; /* rows < 2^l */
    int s = 62 - e - l;
    s = s > 1000 ? 1000 : s < -1000 ? -1000 : s;
    return ldexp(1.0, s);
}

static void gather(int64_t *gh, const uint32_t *rows, size_t m, const float *grad,
                   const float *hess, const fixed *fx, int nthreads)
{
    const double sg = fx->sg, sh = fx->sh;
#pragma omp parallel for schedule(static) num_threads(nthreads) if (m > 4 * PART_BLOCK)
    for (size_t k = 0; k < m; k++) {
        uint32_t r = rows[k];
        gh[2 * k] = cl_round_i64((double)grad[r] * sg);
        gh[2 * k + 1] = cl_round_i64((double)hess[r] * sh);
    }
}

/* Sums a histogram over the ranks: the ranges of feats (packed when they are not one run). */
static int reduce_hist(cl_tree_grow_ws *ws, cl_hbin *hist, const cl_binning *b, const int *feats,
                       int nf, cl_dist *dist)
{
    if (cl_dist_size(dist) == 1)
        return CL_OK;
    const int *off = b->hist_off;
    if (feats[nf - 1] - feats[0] == nf - 1) {
        int lo = off[feats[0]], hi = off[feats[nf - 1] + 1];
        return cl_dist_sum_i64(dist, &hist[lo].g, 2 * (size_t)(hi - lo));
    }
    size_t k = 0;
    for (int f = 0; f < nf; f++)
        for (int q = off[feats[f]]; q < off[feats[f] + 1]; q++)
            ws->pack[k++] = hist[q];
    int rc = cl_dist_sum_i64(dist, &ws->pack[0].g, 2 * k);
    if (rc)
        return rc;
    k = 0;
    for (int f = 0; f < nf; f++)
        for (int q = off[feats[f]]; q < off[feats[f] + 1]; q++)
            hist[q] = ws->pack[k++];
    return CL_OK;
}

static int splittable(const cand *c, const cl_tree_grow_params *p)
{
    /* "unlimited" still stops at CL_TREE_MAX_DEPTH, the deepest tree a file may hold and
     * TreeSHAP may walk */
    if (c->depth >= (p->max_depth > 0 ? p->max_depth : CL_TREE_MAX_DEPTH))
        return 0;
    if (c->cnt < 2)
        return 0;
    if ((double)c->H * p->sp.uh < 2 * p->sp.min_child_weight)
        return 0;
    return 1;
}

/* Features of a node: all tree features, or an mtry sample of them (sorted). */
static int node_feats(cl_tree_grow_ws *ws, const int *feats, int nf, const cl_tree_grow_params *p,
                      cl_rng *rng, const int **out)
{
    if (p->mtry <= 0 || p->mtry >= nf) {
        *out = feats;
        return nf;
    }
    /* Selection sampling (Knuth's algorithm S): a sorted sample without sorting. */
    int k = 0;
    for (int i = 0; i < nf && k < p->mtry; i++)
        if (cl_rng_below(rng, (uint64_t)(nf - i)) < (uint64_t)(p->mtry - k))
            ws->feats[k++] = feats[i];
    *out = ws->feats;
    return k;
}

static void find_split(cand *c, const cl_binning *b, const int *fs, int nf,
                       const cl_tree_grow_params *p)
{
    cl_split_none(&c->split);
    cl_split_params sp = p->sp;
    if (p->mono) {
        sp.constrained = 1;
        sp.lo = c->lo;
        sp.hi = c->hi;
    }
    sp.count = (double)c->cnt; /* split.c: categorical row rules */
    for (int f = 0; f < nf; f++) {
        int j = fs[f];
        if (p->ic && c->depth > 0 && !(p->ic[j] & c->ic_open))
            continue; /* no open interaction set holds j */
        sp.mono = p->mono ? p->mono[j] : 0;
        cl_split_feature(&c->split, c->hist + b->hist_off[j], b->nbins[j], b->is_cat[j], j, c->G,
                         c->H, &sp);
    }
}

/* Builds c's histogram over fs (into a pooled buffer) and finds its split. keep: leave the
 * histogram attached for subtraction; otherwise return it to the pool. */
static int eval_node(cl_tree_grow_ws *ws, cand *c, const cl_binning *b, const uint8_t *bins,
                     size_t n, const float *grad, const float *hess, const uint32_t *rows,
                     const int *fs, int nf, const cl_tree_grow_params *p, const fixed *fx, int keep)
{
    if (!c->hist) {
        c->hist = hist_get(ws);
        if (!c->hist)
            return CL_ENOMEM;
        size_t m = c->end - c->start;
        gather(ws->gh, rows + c->start, m, grad, hess, fx, p->nthreads);
        /* a node holding every row (the root without sampling) lists rows 0..n-1 in order */
        cl_hist_build(c->hist, b->hist_off, bins, n, m == n ? NULL : rows + c->start, m, ws->gh,
                      fs, nf, p->nthreads);
        int rc = reduce_hist(ws, c->hist, b, fs, nf, p->dist);
        if (rc)
            return rc;
    }
    find_split(c, b, fs, nf, p);
    if (!keep) {
        hist_put(ws, c->hist);
        c->hist = NULL;
    }
    return CL_OK;
}

static int goes_left(const cl_split *s, const cl_binning *b, int bin)
{
    int j = s->feature;
    if (bin == b->nbins[j])
        return s->default_left;
    if (s->is_cat)
        return cl_split_cat_has(s->cats, bin);
    return bin <= s->bin;
}

/* The one-thread partition: lefts stay in rows in order, rights go through tmp. */
static size_t partition_serial(uint32_t *rows, size_t m, const uint8_t *col, const cl_split *s,
                               const cl_binning *b, uint32_t *tmp)
{
    size_t nl = 0, nr = 0;
    for (size_t k = 0; k < m; k++) {
        uint32_t r = rows[k];
        if (goes_left(s, b, col[r]))
            rows[nl++] = r;
        else
            tmp[nr++] = r;
    }
    memcpy(rows + nl, tmp, nr * sizeof *rows);
    return nl;
}

/* Stable partition of rows[0..m) by the split; returns the number going left. The parallel
 * path counts lefts per fixed block, then scatters each block to offsets from those counts,
 * so the order of rows (and the model) does not depend on the thread count. */
static size_t partition(uint32_t *rows, size_t m, const uint8_t *col, const cl_split *s,
                        const cl_binning *b, uint32_t *tmp, int nthreads)
{
    size_t nblk = (m + PART_BLOCK - 1) / PART_BLOCK;
    if (nblk <= 1 || nthreads <= 1)
        return partition_serial(rows, m, col, s, b, tmp);
    size_t lcount[1024];
    size_t *cnt = nblk <= 1024 ? lcount : cl_alloc(nblk * sizeof *cnt);
    if (!cnt) /* the serial path needs no memory: same rows, same order */
        return partition_serial(rows, m, col, s, b, tmp);
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (size_t q = 0; q < nblk; q++) {
        size_t k0 = q * PART_BLOCK, k1 = k0 + PART_BLOCK < m ? k0 + PART_BLOCK : m, c = 0;
        for (size_t k = k0; k < k1; k++)
            c += (size_t)goes_left(s, b, col[rows[k]]);
        cnt[q] = c;
    }
    size_t nl = 0;
    for (size_t q = 0; q < nblk; q++)
        nl += cnt[q];
#pragma omp parallel for schedule(static) num_threads(nthreads)
    for (size_t q = 0; q < nblk; q++) {
        size_t k0 = q * PART_BLOCK, k1 = k0 + PART_BLOCK < m ? k0 + PART_BLOCK : m;
        size_t lo = 0;
        for (size_t z = 0; z < q; z++)
            lo += cnt[z];
        size_t ro = nl + k0 - lo;
        for (size_t k = k0; k < k1; k++) {
            uint32_t r = rows[k];
            if (goes_left(s, b, col[r]))
                tmp[lo++] = r;
            else
                tmp[ro++] = r;
        }
    }
    memcpy(rows, tmp, m * sizeof *rows);
    if (cnt != lcount)
        cl_alloc_free(cnt);
    return nl;
}

/* Room for k more candidates (so adding them after a split's collective cannot fail). */
static int reserve_cands(cl_tree_grow_ws *ws, int k)
{
    if (ws->ncand + k <= ws->candcap)
        return CL_OK;
    int cap = ws->candcap ? 2 * ws->candcap : 64;
    while (cap < ws->ncand + k)
        cap *= 2;
    cand *nc = cl_alloc_realloc(ws->cands, (size_t)cap * sizeof *nc);
    if (!nc)
        return CL_ENOMEM;
    ws->cands = nc;
    ws->candcap = cap;
    return CL_OK;
}

/* splittable() before the child's row count is known (depth and hessian only): a child this
 * rejects is not split whatever its count. */
static int may_split(const cand *c, const cl_tree_grow_params *p)
{
    cand k = *c;
    k.cnt = 2;
    return splittable(&k, p);
}

/* The children's weights of split s of par, and under monotone constraints their bounds. */
static void child_weights(const cl_split *s, const cl_tree_grow_params *p, const cand *par,
                          double *wl, double *wr, double *llo, double *lhi, double *rlo,
                          double *rhi)
{
    if (!p->mono) {
        *wl = cl_split_weight(s->gl, s->hl, &p->sp);
        *wr = cl_split_weight(s->gr, s->hr, &p->sp);
        return;
    }
    cl_split_params sp = p->sp;
    sp.constrained = 1;
    sp.lo = par->lo;
    sp.hi = par->hi;
    *wl = cl_split_weight_bounded(s->gl, s->hl, &sp);
    *wr = cl_split_weight_bounded(s->gr, s->hr, &sp);
    int c = s->is_cat ? 0 : p->mono[s->feature];
    double mid = (*wl + *wr) / 2;
    if (c > 0) {
        *lhi = mid;
        *rlo = mid;
    } else if (c < 0) {
        *llo = mid;
        *rhi = mid;
    }
}

static void set_split_node(cl_tnode *nd, const cl_split *s, const cl_binning *b, int li,
                           int catset)
{
    int j = s->feature;
    nd->feature = j;
    nd->left = li;
    nd->default_left = (uint8_t)s->default_left;
    nd->is_cat = (uint8_t)s->is_cat;
    nd->gain = s->gain;
    if (s->is_cat) {
        nd->cat = catset;
        nd->ncat = (uint8_t)b->nbins[j];
        nd->thr = 0;
    } else {
        nd->bin = (uint8_t)s->bin;
        nd->thr = cl_binning_threshold(b, j, s->bin);
    }
}

/* The split's one collective with subtraction: builds small's histogram over feats and sums
 * it over the ranks together with the left child's row count *nlg and the status rc, in one
 * message ([status, count, bins of feats] in ws->pack, which holds 2 total_bins + 2 int64). A
 * rank that failed before (rc) still takes part, so no rank waits. One process: the build. */
static int sync_small(cl_tree_grow_ws *ws, int rc, cand *small, const cl_binning *b,
                      const uint8_t *bins, size_t n, const float *grad, const float *hess,
                      const uint32_t *rows, const int *feats, int nf, const cl_tree_grow_params *p,
                      const fixed *fx, int64_t *nlg)
{
    if (!rc && !(small->hist = hist_get(ws)))
        rc = CL_ENOMEM;
    if (!rc) {
        size_t sm = small->end - small->start;
        gather(ws->gh, rows + small->start, sm, grad, hess, fx, p->nthreads);
        cl_hist_build(small->hist, b->hist_off, bins, n, rows + small->start, sm, ws->gh,
                      feats, nf, p->nthreads);
    }
    if (cl_dist_size(p->dist) == 1)
        return rc;
    const int *off = b->hist_off;
    int64_t *v = &ws->pack[0].g;
    size_t k = 2;
    for (int f = 0; f < nf; f++)
        for (int q = off[feats[f]]; q < off[feats[f] + 1]; q++, k += 2)
            if (!rc) {
                v[k] = small->hist[q].g;
                v[k + 1] = small->hist[q].h;
            }
    v[1] = *nlg;
    if ((rc = cl_dist_sum_i64_agree(p->dist, rc, v, k)))
        return rc;
    k = 2;
    for (int f = 0; f < nf; f++)
        for (int q = off[feats[f]]; q < off[feats[f] + 1]; q++, k += 2) {
            small->hist[q].g = v[k];
            small->hist[q].h = v[k + 1];
        }
    *nlg = v[1];
    return CL_OK;
}

static int grow(cl_tree *t, const cl_binning *b, const uint8_t *bins, size_t n,
                const float *grad, const float *hess, uint32_t *rows, size_t m, const int *feats,
                int nf, const cl_tree_grow_params *p0, cl_rng *rng, cl_tree_grow_ws *ws,
                const cl_tree_grow_leaf **leaves, int *nleaves)
{
    int rc = CL_OK;
    int subtract = p0->subtract && p0->mtry <= 0;
    ws->ncand = 0;
    ws->nleaves = 0;
    /* the tree's fixed point: global row count and maxima first */
    double mx[2] = {0, 0};
    for (size_t k = 0; k < m; k++) {
        double g = fabs((double)grad[rows[k]]), h = fabs((double)hess[rows[k]]);
        mx[0] = g > mx[0] ? g : mx[0];
        mx[1] = h > mx[1] ? h : mx[1];
    }
    int64_t mg = (int64_t)m;
    if ((rc = cl_dist_sum_small(p0->dist, &mg, 1)) || (rc = cl_dist_max_f64(p0->dist, mx, 2)))
        return rc;
    fixed fx = {scale_for(mx[0], mg), scale_for(mx[1], mg)};
    cl_tree_grow_params pp = *p0;
    pp.sp.ug = 1 / fx.sg;
    pp.sp.uh = 1 / fx.sh;
    const cl_tree_grow_params *p = &pp;
    int64_t GH[2] = {0, 0};
    for (size_t k = 0; k < m; k++) {
        GH[0] += cl_round_i64((double)grad[rows[k]] * fx.sg);
        GH[1] += cl_round_i64((double)hess[rows[k]] * fx.sh);
    }
    if ((rc = cl_dist_sum_small(p->dist, GH, 2)))
        return rc;
    double Gd = (double)GH[0] * p->sp.ug, Hd = (double)GH[1] * p->sp.uh;
    int root = cl_tree_add(t, (float)(p->lr * cl_split_weight(Gd, Hd, &p->sp)), Hd, (double)mg);
    if (root < 0)
        return root;
    cand c0 = {.node = root, .depth = 0, .start = 0, .end = m, .cnt = mg, .G = GH[0],
               .H = GH[1], .lo = -HUGE_VAL, .hi = HUGE_VAL, .ic_open = UINT32_MAX, .hist = NULL};
    cl_split_none(&c0.split);
    if (splittable(&c0, p)) {
        const int *fs;
        int k = node_feats(ws, feats, nf, p, rng, &fs);
        if ((rc = eval_node(ws, &c0, b, bins, n, grad, hess, rows, fs, k, p, &fx, subtract)))
            return rc;
    }
    if ((rc = add_cand(ws, &c0))) {
        hist_put(ws, c0.hist);
        return rc;
    }
    int open_leaves = 1, head = 0;
    for (;;) {
        if (p->max_leaves > 0 && open_leaves >= p->max_leaves)
            break;
        /* pick the next candidate */
        int pick = -1;
        if (p->max_leaves > 0) {
            double best = 0;
            for (int i = 0; i < ws->ncand; i++)
                if (ws->cands[i].split.gain > best) {
                    best = ws->cands[i].split.gain;
                    pick = i;
                }
        } else {
            while (head < ws->ncand && !(ws->cands[head].split.gain > 0))
                head++;
            pick = head < ws->ncand ? head++ : -1;
        }
        if (pick < 0)
            break;
        cand par = ws->cands[pick];
        ws->cands[pick].split.gain = 0; /* consumed */
        ws->cands[pick].hist = NULL;
        ws->cands[pick].node = -1; /* no longer a leaf */
        const cl_split *s = &par.split;
        int j = s->feature;
        size_t pm = par.end - par.start;
        size_t nl = partition(rows + par.start, pm, bins + (size_t)j * n, s, b, ws->tmp,
                              p->nthreads);
        /* Everything that can fail comes before this split's one collective (below), so a
         * rank that fails reports it there instead of leaving the others waiting. */
        int catset = -1;
        if (s->is_cat && (catset = cl_tree_add_cats(t, s->cats)) < 0)
            rc = catset;
        /* children's weights, and under monotone constraints their bounds */
        double wl, wr, llo = par.lo, lhi = par.hi, rlo = par.lo, rhi = par.hi;
        child_weights(s, p, &par, &wl, &wr, &llo, &lhi, &rlo, &rhi);
        /* row counts are set once they are known over every rank */
        int li = rc ? -1 : cl_tree_add(t, (float)(p->lr * wl), s->hl, 0);
        int ri = li < 0 ? li : cl_tree_add(t, (float)(p->lr * wr), s->hr, 0);
        if (!rc && (li < 0 || ri < 0))
            rc = CL_ENOMEM;
        if (!rc)
            rc = reserve_cands(ws, 2);
        cand cl = {.node = li, .depth = par.depth + 1, .start = par.start,
                   .end = par.start + nl, .cnt = 0, .G = s->qgl, .H = s->qhl, .lo = llo,
                   .hi = lhi, .ic_open = par.ic_open & (p->ic ? p->ic[j] : UINT32_MAX),
                   .hist = NULL};
        cand cr = {.node = ri, .depth = par.depth + 1, .start = par.start + nl,
                   .end = par.end, .cnt = 0, .G = s->qgr, .H = s->qhr, .lo = rlo, .hi = rhi,
                   .ic_open = cl.ic_open, .hist = NULL};
        cl_split_none(&cl.split);
        cl_split_none(&cr.split);
        /* with subtraction, the smaller child's histogram (by global count on one process; over
         * ranks, before the counts are summed, by the children's global hessian sums) is built
         * and summed with the left count in one message; parent - smaller is exact either way */
        int build = subtract && par.hist && (may_split(&cl, p) || may_split(&cr, p));
        int64_t nlg = (int64_t)nl;
        cand *small = NULL;
        if (build) {
            small = cl_dist_size(p->dist) > 1 ? (s->qhl <= s->qhr ? &cl : &cr)
                                              : (nl <= pm - nl ? &cl : &cr);
            rc = sync_small(ws, rc, small, b, bins, n, grad, hess, rows, feats, nf, p, &fx, &nlg);
        } else {
            rc = cl_dist_sum_small_agree(p->dist, rc, &nlg, 1);
        }
        if (rc) {
            hist_put(ws, par.hist);
            if (small)
                hist_put(ws, small->hist);
            goto fail;
        }
        int64_t nrg = par.cnt - nlg;
        cl.cnt = nlg;
        cr.cnt = nrg;
        t->nodes[li].count = (double)nlg;
        t->nodes[ri].count = (double)nrg;
        set_split_node(t->nodes + par.node, s, b, li, catset);
        int sl = splittable(&cl, p), sr = splittable(&cr, p);
        if (build) {
            cand *large = small == &cl ? &cr : &cl;
            int ssplit = small == &cl ? sl : sr, lsplit = small == &cl ? sr : sl;
            cl_hist_subtract(par.hist, par.hist, small->hist, b->hist_off, feats, nf);
            large->hist = par.hist;
            if (ssplit)
                find_split(small, b, feats, nf, p);
            else {
                hist_put(ws, small->hist);
                small->hist = NULL;
            }
            if (lsplit)
                find_split(large, b, feats, nf, p);
            else {
                hist_put(ws, large->hist);
                large->hist = NULL;
            }
        } else {
            hist_put(ws, par.hist);
            cand *ch[2] = {&cl, &cr};
            int ok[2] = {sl, sr};
            for (int q = 0; q < 2; q++) {
                if (!ok[q])
                    continue;
                const int *fs;
                int k = node_feats(ws, feats, nf, p, rng, &fs);
                if ((rc = eval_node(ws, ch[q], b, bins, n, grad, hess, rows, fs, k, p, &fx,
                                    subtract))) {
                    hist_put(ws, cl.hist);
                    hist_put(ws, cr.hist);
                    goto fail;
                }
            }
        }
        ws->cands[ws->ncand++] = cl; /* reserved above */
        ws->cands[ws->ncand++] = cr;
        open_leaves++;
    }
    /* every remaining candidate is a leaf */
    for (int i = 0; i < ws->ncand; i++) {
        cand *c = ws->cands + i;
        hist_put(ws, c->hist);
        c->hist = NULL;
        if (c->node >= 0 && (rc = add_leaf(ws, c->node, c->start, c->end)))
            goto fail;
    }
    *leaves = ws->leaves;
    *nleaves = ws->nleaves;
    return CL_OK;
fail:
    for (int i = 0; i < ws->ncand; i++) {
        hist_put(ws, ws->cands[i].hist);
        ws->cands[i].hist = NULL;
    }
    return rc;
}

/* ---- depth-wise growth level by level ---------------------------------------------------
 * The common gbdt case (one process, histogram subtraction, every feature at every node,
 * depth-wise) splits the nodes of one depth together, so each phase is one parallel loop over
 * the work of all of them: the partition of every parent's rows in blocks, the gather of the
 * smaller children's gradients, their histograms in feature chunks with the larger child's by
 * subtraction, and the split search of every child (XGBoost's hist builds a batch of nodes at
 * a time). grow() runs a few parallel regions per node instead, and ran its small nodes on
 * one thread while the other waited at the next barrier. The arithmetic is grow()'s (integer
 * histograms, the same stable partition, nodes and category sets created in the same order),
 * so the tree is the same bit for bit: test_gbdt compares the two paths, and the MPI tests
 * compare a plain fit (this path) with a distributed one (grow()). */

#define LVL_BLOCK 16384            /* rows per partition and gather work item */
#define LVL_PAR ((size_t)1 << 15)  /* fewer rows to partition: one thread */
#define LVL_PAR_HIST ((size_t)1 << 18) /* fewer row-features to accumulate: one thread */

/* a thread's block buffer (2 CL_HIST_BLOCK int64) holds one partition block's rows */
_Static_assert(2 * CL_HIST_BLOCK * sizeof(int64_t) >= LVL_BLOCK * sizeof(uint32_t),
               "ws->blk must hold LVL_BLOCK rows");

struct lvl_item {
    int q;         /* the parent (partition) or build (gather) it belongs to */
    size_t k0, k1; /* positions in rows */
    size_t nl;     /* partition: rows of [k0, k1) going left */
    size_t lo, ro; /* partition: where its lefts and rights go */
};

struct lvl_build {
    cl_hbin *hist;        /* the histogram built */
    cl_hbin *from;        /* NULL, or the parent's histogram, made the sibling's (parent - hist) */
    const uint32_t *rows; /* NULL: positions are row numbers */
    size_t start, m;      /* positions [start, start + m) of rows */
    size_t goff;          /* their ordered gradients: pairs [goff, goff + m) of ws->gh */
};

struct lvl_chunk {
    int bi, f0, f1; /* build, features feats[f0..f1) */
    size_t work;
};

/* buf with room for `need` elements of `elem` bytes (need >= 1), or NULL (buf unchanged). */
static void *lvl_room(void *buf, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return buf;
    size_t c = *cap ? *cap : 16;
    while (c < need)
        c *= 2;
    void *nb = cl_alloc_realloc(buf, c * elem);
    if (nb)
        *cap = c;
    return nb;
}

#define LVL_ROOM(ws, field, capf, need)                                                       \
    ((tmp_room = lvl_room((ws)->field, &(ws)->capf, (need), sizeof *(ws)->field)) != NULL    \
         ? ((ws)->field = tmp_room, CL_OK)                                                   \
         : CL_ENOMEM)

/* One second accumulation chain per thread (hist.c's two chains). */
static int lvl_scratch(cl_tree_grow_ws *ws, int nth)
{
    if (ws->nh2 >= nth)
        return CL_OK;
    cl_hbin **a = cl_alloc_realloc(ws->h2, (size_t)nth * sizeof *a);
    if (!a)
        return CL_ENOMEM;
    ws->h2 = a;
    int64_t **g = cl_alloc_realloc(ws->blk, (size_t)nth * sizeof *g);
    if (!g)
        return CL_ENOMEM;
    ws->blk = g;
    while (ws->nh2 < nth) {
        cl_hbin *h = cl_alloc(((size_t)ws->total_bins + 1) * sizeof *h);
        int64_t *k = cl_alloc(2 * CL_HIST_BLOCK * sizeof *k);
        if (!h || !k) {
            cl_alloc_free(h);
            cl_alloc_free(k);
            return CL_ENOMEM;
        }
        ws->h2[ws->nh2] = h;
        ws->blk[ws->nh2++] = k;
    }
    return CL_OK;
}

static int thread_id(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* The tree's scales from the largest gradient and hessian magnitudes of rows[0..m) (grow()'s
 * loop in blocks: a maximum does not depend on the order; NaN never wins, as there). */
static fixed lvl_scales(const float *grad, const float *hess, const uint32_t *rows, size_t m,
                        int nth)
{
    double mg = 0, mh = 0;
#pragma omp parallel num_threads(nth) if (m > LVL_PAR)
    {
        double g = 0, h = 0;
#pragma omp for schedule(static) nowait
        for (size_t k = 0; k < m; k++) {
            double a = fabs((double)grad[rows[k]]), c = fabs((double)hess[rows[k]]);
            g = a > g ? a : g;
            h = c > h ? c : h;
        }
#pragma omp critical(cl_tree_grow_scales)
        {
            mg = g > mg ? g : mg;
            mh = h > mh ? h : mh;
        }
    }
    fixed fx = {scale_for(mg, (int64_t)m), scale_for(mh, (int64_t)m)};
    return fx;
}

/* The root's histogram over feats into rh, without an ordered-gradient buffer of every row:
 * each thread takes a share of the positions, rounds their gradients a block at a time
 * (cl_hist_add_float) and sums them into its own histogram (thread 0 into rh), and the
 * shares are then added into rh feature by feature. Integer sums: the same histogram for any
 * number of threads and any cut of the positions. Its sums G, H (the rows' fixed-point sums,
 * exact) come from the bins of feats[0], which hold every row once. */
static void lvl_root(cl_tree_grow_ws *ws, cl_hbin *rh, const cl_binning *b, const uint8_t *bins,
                     size_t n, const uint32_t *rows, size_t m, const float *grad,
                     const float *hess, const fixed *fx, const int *feats, int nf, int nth,
                     int64_t GH[2])
{
    const int *off = b->hist_off;
#pragma omp parallel num_threads(nth) if (m * (size_t)nf >= LVL_PAR_HIST)
    {
        int t = thread_id(), nt = 1;
#ifdef _OPENMP
        nt = omp_get_num_threads();
#endif
        cl_hbin *h = t == 0 ? rh : ws->h2[t];
        for (int f = 0; f < nf; f++)
            memset(h + off[feats[f]], 0, (size_t)(off[feats[f] + 1] - off[feats[f]]) * sizeof *h);
        size_t k0 = m * (size_t)t / (size_t)nt, k1 = m * (size_t)(t + 1) / (size_t)nt;
        cl_hist_add_float(h, off, bins, n, rows, k0, k1, grad, hess, fx->sg, fx->sh, feats, nf,
                          ws->blk[t]);
#pragma omp barrier
        if (nt > 1) {
#pragma omp for schedule(static)
            for (int f = 0; f < nf; f++)
                for (int q = off[feats[f]]; q < off[feats[f] + 1]; q++)
                    for (int u = 1; u < nt; u++) {
                        rh[q].g += ws->h2[u][q].g;
                        rh[q].h += ws->h2[u][q].h;
                    }
        }
    }
    int64_t G = 0, H = 0;
    for (int q = off[feats[0]]; q < off[feats[0] + 1]; q++) {
        G += rh[q].g;
        H += rh[q].h;
    }
    GH[0] = G;
    GH[1] = H;
}

static int chunk_cmp(const void *a, const void *b)
{
    const struct lvl_chunk *x = a, *y = b;
    if (x->work != y->work)
        return x->work > y->work ? -1 : 1;
    return x->bi != y->bi ? (x->bi < y->bi ? -1 : 1) : (x->f0 < y->f0 ? -1 : x->f0 > y->f0);
}

/* Feature chunks of the builds, so that the threads get even shares (largest first); returns
 * their number. ws->chunks holds room for nb * nf. */
static size_t lvl_chunks(cl_tree_grow_ws *ws, int nb, int nf, int nth, size_t *total)
{
    size_t w = 0, nc = 0;
    for (int i = 0; i < nb; i++)
        w += ws->blds[i].m * (size_t)nf;
    size_t target = w / (4 * (size_t)nth) + 1;
    for (int i = 0; i < nb; i++) {
        size_t wi = ws->blds[i].m * (size_t)nf;
        size_t k = (wi + target - 1) / target;
        k = k < 1 ? 1 : k > (size_t)nf ? (size_t)nf : k;
        for (size_t c = 0; c < k; c++) {
            struct lvl_chunk *ch = &ws->chunks[nc++];
            ch->bi = i;
            ch->f0 = (int)((size_t)nf * c / k);
            ch->f1 = (int)((size_t)nf * (c + 1) / k);
            ch->work = ws->blds[i].m * (size_t)(ch->f1 - ch->f0);
        }
    }
    qsort(ws->chunks, nc, sizeof *ws->chunks, chunk_cmp);
    *total = w;
    return nc;
}

/* Gather items: blocks of the builds' positions (ws->items, room for them reserved). */
static size_t lvl_gather_items(cl_tree_grow_ws *ws, int nb)
{
    size_t ni = 0;
    for (int i = 0; i < nb; i++) {
        const struct lvl_build *bd = &ws->blds[i];
        for (size_t k0 = bd->start; k0 < bd->start + bd->m; k0 += LVL_BLOCK) {
            struct lvl_item *it = &ws->items[ni++];
            it->q = i;
            it->k0 = k0;
            it->k1 = k0 + LVL_BLOCK < bd->start + bd->m ? k0 + LVL_BLOCK : bd->start + bd->m;
        }
    }
    return ni;
}

static void chunk_hist(cl_tree_grow_ws *ws, const struct lvl_chunk *ch, const cl_binning *b,
                       const uint8_t *bins, size_t n, const int *feats)
{
    const struct lvl_build *bd = &ws->blds[ch->bi];
    cl_hist_build_range(bd->hist, bd->m >= 8192 ? ws->h2[thread_id()] : NULL, b->hist_off,
                        bins, n, bd->rows ? bd->rows + bd->start : NULL, bd->m,
                        ws->gh + 2 * bd->goff, feats, ch->f0, ch->f1);
    if (!bd->from)
        return;
    cl_hbin *par = bd->from;
    const cl_hbin *h = bd->hist;
    for (int f = ch->f0; f < ch->f1; f++)
        for (int q = b->hist_off[feats[f]]; q < b->hist_off[feats[f] + 1]; q++) {
            par[q].g -= h[q].g;
            par[q].h -= h[q].h;
        }
}

/* The builds' histograms (after gathering their gradients), the siblings' by subtraction,
 * then the split search of cands spl[0..ns), in one parallel region. The builds' ordered
 * gradients are packed one after the other in ws->gh: each is its parent's smaller child, so
 * they fill at most half of it (8 of its 16 bytes a row are ever touched). */
static int lvl_run(cl_tree_grow_ws *ws, int nb, const int *spl, int ns,
                   const cl_binning *b, const uint8_t *bins, size_t n, const float *grad,
                   const float *hess, const int *feats, int nf, const cl_tree_grow_params *p,
                   const fixed *fx)
{
    const int nth = p->nthreads;
    size_t total, nc = lvl_chunks(ws, nb, nf, nth, &total);
    size_t ni = lvl_gather_items(ws, nb);
    const double sg = fx->sg, sh = fx->sh;
    int64_t *gh = ws->gh;
#pragma omp parallel num_threads(nth) if (total >= LVL_PAR_HIST || ns >= 4)
    {
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < ni; i++) {
            const struct lvl_item *it = &ws->items[i];
            const struct lvl_build *bd = &ws->blds[it->q];
            const uint32_t *rows = bd->rows;
            int64_t *g = gh + 2 * (bd->goff - bd->start);
            for (size_t k = it->k0; k < it->k1; k++) {
                uint32_t r = rows[k];
                g[2 * k] = cl_round_i64((double)grad[r] * sg);
                g[2 * k + 1] = cl_round_i64((double)hess[r] * sh);
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t c = 0; c < nc; c++)
            chunk_hist(ws, &ws->chunks[c], b, bins, n, feats);
#pragma omp for schedule(dynamic, 1)
        for (int i = 0; i < ns; i++)
            find_split(&ws->cands[spl[i]], b, feats, nf, p);
    }
    return CL_OK;
}

/* Stable partition of every parent's rows by its split, as partition(): each block of
 * LVL_BLOCK positions partitions itself stably into the same positions of tmp (its lefts in
 * order, then its rights, which wait in the thread's block buffer meanwhile) and counts its
 * lefts; then each block copies its two runs to offsets from those counts. Two passes over
 * the rows (one random read of the split column) and one barrier between them besides the
 * offsets'. The parents' left counts go to ws->nl. */
static void lvl_partition(cl_tree_grow_ws *ws, uint32_t *rows, const uint8_t *bins, size_t n,
                          const cl_binning *b, const int *par, int np, int nth)
{
    size_t ni = 0, total = 0;
    for (int q = 0; q < np; q++) {
        const cand *c = &ws->cands[par[q]];
        total += c->end - c->start;
        for (size_t k0 = c->start; k0 < c->end; k0 += LVL_BLOCK) {
            struct lvl_item *it = &ws->items[ni++];
            it->q = q;
            it->k0 = k0;
            it->k1 = k0 + LVL_BLOCK < c->end ? k0 + LVL_BLOCK : c->end;
        }
    }
    uint32_t *tmp = ws->tmp;
#pragma omp parallel num_threads(nth) if (total > LVL_PAR)
    {
        uint32_t *right = (uint32_t *)ws->blk[thread_id()]; /* LVL_BLOCK entries */
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < ni; i++) {
            struct lvl_item *it = &ws->items[i];
            const cl_split *s = &ws->cands[par[it->q]].split;
            const uint8_t *col = bins + (size_t)s->feature * n;
            size_t nl = it->k0, nr = 0;
            for (size_t k = it->k0; k < it->k1; k++) {
                uint32_t r = rows[k];
                if (goes_left(s, b, col[r]))
                    tmp[nl++] = r;
                else
                    right[nr++] = r;
            }
            memcpy(tmp + nl, right, nr * sizeof *tmp);
            it->nl = nl - it->k0;
        }
#pragma omp single
        {
            for (int q = 0; q < np; q++)
                ws->nl[q] = 0;
            for (size_t i = 0; i < ni; i++)
                ws->nl[ws->items[i].q] += ws->items[i].nl;
            size_t run = 0;
            for (size_t i = 0; i < ni; i++) {
                struct lvl_item *it = &ws->items[i];
                size_t start = ws->cands[par[it->q]].start;
                if (it->k0 == start)
                    run = 0;
                it->lo = start + run;
                it->ro = start + ws->nl[it->q] + (it->k0 - start - run);
                run += it->nl;
            }
        }
#pragma omp for schedule(dynamic, 1)
        for (size_t i = 0; i < ni; i++) {
            const struct lvl_item *it = &ws->items[i];
            memcpy(rows + it->lo, tmp + it->k0, it->nl * sizeof *rows);
            memcpy(rows + it->ro, tmp + it->k0 + it->nl,
                   (it->k1 - it->k0 - it->nl) * sizeof *rows);
        }
    }
}

/* Splits parent ws->cands[pi] (its rows partitioned, nl of them left) as grow()'s loop does:
 * its category set and children in the tree, the children as candidates (room reserved), and,
 * when either may split, a build of the smaller child's histogram (the larger takes the
 * parent's, made parent - smaller by the build). Children to split go to spl[*ns]. */
static int lvl_split_parent(cl_tree *t, const cl_binning *b, uint32_t *rows, int pi, size_t nl,
                            const cl_tree_grow_params *p, cl_tree_grow_ws *ws, int *nb, int *spl, int *ns)
{
    cand *pc = &ws->cands[pi];
    cand pa = *pc;
    pc->split.gain = 0; /* consumed */
    pc->hist = NULL;
    pc->node = -1; /* no longer a leaf */
    const cl_split *s = &pa.split;
    int j = s->feature, catset = -1;
    if (s->is_cat && (catset = cl_tree_add_cats(t, s->cats)) < 0) {
        hist_put(ws, pa.hist);
        return catset;
    }
    double wl, wr, llo = pa.lo, lhi = pa.hi, rlo = pa.lo, rhi = pa.hi;
    child_weights(s, p, &pa, &wl, &wr, &llo, &lhi, &rlo, &rhi);
    int li = cl_tree_add(t, (float)(p->lr * wl), s->hl, 0);
    int ri = li < 0 ? li : cl_tree_add(t, (float)(p->lr * wr), s->hr, 0);
    if (li < 0 || ri < 0) {
        hist_put(ws, pa.hist);
        return CL_ENOMEM;
    }
    cand cl = {.node = li, .depth = pa.depth + 1, .start = pa.start, .end = pa.start + nl,
               .cnt = (int64_t)nl, .G = s->qgl, .H = s->qhl, .lo = llo, .hi = lhi,
               .ic_open = pa.ic_open & (p->ic ? p->ic[j] : UINT32_MAX), .hist = NULL};
    cand cr = {.node = ri, .depth = pa.depth + 1, .start = pa.start + nl, .end = pa.end,
               .cnt = pa.cnt - (int64_t)nl, .G = s->qgr, .H = s->qhr, .lo = rlo, .hi = rhi,
               .ic_open = cl.ic_open, .hist = NULL};
    cl_split_none(&cl.split);
    cl_split_none(&cr.split);
    t->nodes[li].count = (double)cl.cnt;
    t->nodes[ri].count = (double)cr.cnt;
    set_split_node(t->nodes + pa.node, s, b, li, catset);
    int build = pa.hist && (may_split(&cl, p) || may_split(&cr, p));
    int sl = splittable(&cl, p), sr = splittable(&cr, p);
    int ci = ws->ncand;
    ws->cands[ws->ncand++] = cl; /* reserved */
    ws->cands[ws->ncand++] = cr;
    if (!build) {
        hist_put(ws, pa.hist);
        return CL_OK;
    }
    size_t pm = pa.end - pa.start;
    int small = nl <= pm - nl ? ci : ci + 1, large = small == ci ? ci + 1 : ci;
    cl_hbin *h = hist_get(ws);
    if (!h) {
        hist_put(ws, pa.hist);
        return CL_ENOMEM;
    }
    ws->cands[small].hist = h;
    ws->cands[large].hist = pa.hist;
    struct lvl_build *bd = &ws->blds[(*nb)++];
    bd->hist = h;
    bd->from = pa.hist;
    bd->rows = rows;
    bd->start = ws->cands[small].start;
    bd->m = ws->cands[small].end - ws->cands[small].start;
    bd->goff = *nb > 1 ? ws->blds[*nb - 2].goff + ws->blds[*nb - 2].m : 0;
    if (sl)
        spl[(*ns)++] = ci;
    if (sr)
        spl[(*ns)++] = ci + 1;
    return CL_OK;
}

/* Splits every candidate of [lb, le) with a gain (one depth), appending their children. */
static int lvl_step(cl_tree *t, const cl_binning *b, const uint8_t *bins, size_t n,
                    const float *grad, const float *hess, uint32_t *rows, size_t m,
                    const int *feats, int nf, const cl_tree_grow_params *p, const fixed *fx,
                    cl_tree_grow_ws *ws, int lb, int le)
{
    void *tmp_room;
    size_t nlev = (size_t)(le - lb);
    if (LVL_ROOM(ws, lvl, lvlcap, 3 * nlev + 1))
        return CL_ENOMEM;
    int *par = ws->lvl, *spl = ws->lvl + nlev, np = 0, nb = 0, ns = 0;
    for (int i = lb; i < le; i++)
        if (ws->cands[i].split.gain > 0)
            par[np++] = i;
    if (!np)
        return CL_OK;
    size_t items = m / LVL_BLOCK + (size_t)np + 1;
    int rc;
    if ((rc = reserve_cands(ws, 2 * np)) || LVL_ROOM(ws, items, itemcap, items) ||
        LVL_ROOM(ws, nl, nlcap, (size_t)np) || LVL_ROOM(ws, blds, bldcap, (size_t)np) ||
        LVL_ROOM(ws, chunks, chunkcap, (size_t)np * (size_t)nf))
        return rc ? rc : CL_ENOMEM;
    lvl_partition(ws, rows, bins, n, b, par, np, p->nthreads);
    int first = ws->ncand;
    for (int q = 0; q < np; q++)
        if ((rc = lvl_split_parent(t, b, rows, par[q], ws->nl[q], p, ws, &nb, spl, &ns)))
            return rc;
    if (nb && (rc = lvl_run(ws, nb, spl, ns, b, bins, n, grad, hess, feats, nf, p, fx)))
        return rc;
    for (int i = first; i < ws->ncand; i++) /* children that cannot split keep no histogram */
        if (ws->cands[i].hist && !splittable(&ws->cands[i], p)) {
            hist_put(ws, ws->cands[i].hist);
            ws->cands[i].hist = NULL;
        }
    return CL_OK;
}

static int grow_levels(cl_tree *t, const cl_binning *b, const uint8_t *bins, size_t n,
                       const float *grad, const float *hess, uint32_t *rows, size_t m,
                       const int *feats, int nf, const cl_tree_grow_params *p0, cl_tree_grow_ws *ws,
                       const cl_tree_grow_leaf **leaves, int *nleaves)
{
    void *tmp_room;
    ws->ncand = 0;
    ws->nleaves = 0;
    int rc = lvl_scratch(ws, p0->nthreads);
    if (rc || LVL_ROOM(ws, blds, bldcap, 1) || LVL_ROOM(ws, chunks, chunkcap, (size_t)nf) ||
        LVL_ROOM(ws, lvl, lvlcap, 1))
        return rc ? rc : CL_ENOMEM;
    fixed fx = lvl_scales(grad, hess, rows, m, p0->nthreads);
    cl_tree_grow_params pp = *p0;
    pp.sp.ug = 1 / fx.sg;
    pp.sp.uh = 1 / fx.sh;
    const cl_tree_grow_params *p = &pp;
    int64_t GH[2];
    cl_hbin *rh = hist_get(ws);
    if (!rh)
        return CL_ENOMEM;
    /* a node holding every row (the root without sampling) lists rows 0..n-1 in order */
    lvl_root(ws, rh, b, bins, n, m == n ? NULL : rows, m, grad, hess, &fx, feats, nf,
             p->nthreads, GH);
    double Gd = (double)GH[0] * p->sp.ug, Hd = (double)GH[1] * p->sp.uh;
    int root = cl_tree_add(t, (float)(p->lr * cl_split_weight(Gd, Hd, &p->sp)), Hd, (double)m);
    if (root < 0) {
        hist_put(ws, rh);
        return root;
    }
    cand c0 = {.node = root, .depth = 0, .start = 0, .end = m, .cnt = (int64_t)m, .G = GH[0],
               .H = GH[1], .lo = -HUGE_VAL, .hi = HUGE_VAL, .ic_open = UINT32_MAX, .hist = rh};
    cl_split_none(&c0.split);
    if ((rc = add_cand(ws, &c0))) {
        hist_put(ws, rh);
        return rc;
    }
    if (splittable(&c0, p)) {
        find_split(&ws->cands[0], b, feats, nf, p);
    } else {
        hist_put(ws, rh);
        ws->cands[0].hist = NULL;
    }
    for (int lb = 0, le = ws->ncand; !rc && lb < le; lb = le, le = ws->ncand)
        rc = lvl_step(t, b, bins, n, grad, hess, rows, m, feats, nf, p, &fx, ws, lb, le);
    for (int i = 0; i < ws->ncand; i++) { /* every remaining candidate is a leaf */
        cand *c = ws->cands + i;
        hist_put(ws, c->hist);
        c->hist = NULL;
        if (!rc && c->node >= 0)
            rc = add_leaf(ws, c->node, c->start, c->end);
    }
    if (rc)
        return rc;
    *leaves = ws->leaves;
    *nleaves = ws->nleaves;
    return CL_OK;
}

int cl_tree_grow(cl_tree *t, const cl_binning *b, const uint8_t *bins, size_t n,
                 const float *grad, const float *hess, uint32_t *rows, size_t m,
                 const int *feats, int nf, const cl_tree_grow_params *p, cl_rng *rng, cl_tree_grow_ws *ws,
                 const cl_tree_grow_leaf **leaves, int *nleaves)
{
    int levels = p->max_leaves <= 0 && p->subtract && p->mtry <= 0 && nf > 0 &&
                 cl_dist_size(p->dist) == 1 && !force_node_wise;
    int rc = levels ? grow_levels(t, b, bins, n, grad, hess, rows, m, feats, nf, p, ws, leaves,
                                  nleaves)
                    : grow(t, b, bins, n, grad, hess, rows, m, feats, nf, p, rng, ws, leaves,
                           nleaves);
    /* a failure of this rank alone must reach the others, which wait in a collective (a no-op
     * when the failure was already agreed there) */
    return rc ? cl_dist_agree(p->dist, rc) : CL_OK;
}
