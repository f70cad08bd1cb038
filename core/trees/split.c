/* split.c - split finding from histograms (see split.h). */
#include "trees/split.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "trees/isa.h"

static int split_scalar; /* cl_split_force_scalar: the reference scan for every feature */

void cl_split_force_scalar(int on)
{
    split_scalar = on != 0;
}

static double thresh_l1(double G, double alpha)
{
    if (G > alpha)
        return G - alpha;
    if (G < -alpha)
        return G + alpha;
    return 0.0;
}

double cl_split_score(double G, double H, const cl_split_params *p)
{
    double t = thresh_l1(G, p->alpha);
    double den = H + p->lambda;
    return den > 0 ? t * t / den : 0.0;
}

double cl_split_weight(double G, double H, const cl_split_params *p)
{
    double den = H + p->lambda;
    return den > 0 ? -thresh_l1(G, p->alpha) / den : 0.0;
}

double cl_split_weight_bounded(double G, double H, const cl_split_params *p)
{
    double w = cl_split_weight(G, H, p);
    if (p->constrained)
        w = w < p->lo ? p->lo : w > p->hi ? p->hi : w;
    return w;
}

/* The objective's gain at weight w (the score is its maximum over w, at the unclamped w). */
static double score_at(double G, double H, double w, const cl_split_params *p)
{
    return -(2 * thresh_l1(G, p->alpha) * w + (H + p->lambda) * w * w);
}

/* A node's score: the closed form, or under constraints the gain at its clamped weight. */
static double node_score(double G, double H, const cl_split_params *p)
{
    if (!p->constrained)
        return cl_split_score(G, H, p);
    return score_at(G, H, cl_split_weight_bounded(G, H, p), p);
}

void cl_split_none(cl_split *s)
{
    memset(s, 0, sizeof *s);
    s->gain = 0.0;
    s->feature = -1;
}

/* Tries left sums (gl, hl) in fixed point; the rest of the node goes right. Returns 1 if it
 * improved. */
static int try_split(cl_split *best, int64_t qgl, int64_t qhl, int64_t qG, int64_t qH,
                     double parent, const cl_split_params *p)
{
    int64_t qgr = qG - qgl, qhr = qH - qhl;
    if (qhl <= 0 || qhr <= 0)
        return 0;
    double gl = (double)qgl * p->ug, hl = (double)qhl * p->uh;
    double gr = (double)qgr * p->ug, hr = (double)qhr * p->uh;
    if (hl < p->min_child_weight || hr < p->min_child_weight)
        return 0;
    double gain, wl = 0, wr = 0;
    if (!p->constrained) {
        gain = cl_split_score(gl, hl, p) + cl_split_score(gr, hr, p) - parent;
    } else {
        wl = cl_split_weight_bounded(gl, hl, p);
        wr = cl_split_weight_bounded(gr, hr, p);
        if ((p->mono > 0 && wl > wr) || (p->mono < 0 && wl < wr))
            return 0;
        gain = score_at(gl, hl, wl, p) + score_at(gr, hr, wr, p) - parent;
    }
    if (!(gain > p->gamma) || !(gain > 1e-10) || !(gain > best->gain))
        return 0;
    best->gain = gain;
    best->wl = wl;
    best->wr = wr;
    best->gl = gl;
    best->hl = hl;
    best->gr = gr;
    best->hr = hr;
    best->qgl = qgl;
    best->qhl = qhl;
    best->qgr = qgr;
    best->qhr = qhr;
    return 1;
}

typedef struct cat_key {
    double key;
    int cat;
    double cnt; /* estimated rows (LightGBM's hessian * rows / node hessian) */
} cat_key;

static int cmp_cat(const void *a, const void *b)
{
    const cat_key *x = a, *y = b;
    if (x->key < y->key)
        return -1;
    if (x->key > y->key)
        return 1;
    return (x->cat > y->cat) - (x->cat < y->cat);
}

/* ---- unconstrained numeric features: every candidate's gain at once -------------------- */

/* Only the AVX-512 path takes this scan: GCC 12 vectorises gains_body there (8 doubles per
 * division) but not for AVX2 or generic x86-64, where filling the candidate arrays first made
 * it ~2.5x slower than the scalar scan (scripts/bench/trees_kernels.c). */
#if CL_ISA_HAVE_PATHS

/* A numeric feature's candidates: cut after bin b with missing values right (k = 2b) or left
 * (k = 2b + 1). The exact integer child sums are converted to double here, once, exactly as
 * try_split converts them, so the gains below are try_split's bit for bit. */
typedef struct cands {
    int n;
    double gl[2 * 256], hl[2 * 256], gr[2 * 256], hr[2 * 256];
    int64_t ql[2 * 256][2];
} cands;

static void cands_fill(cands *c, const cl_hbin *h, int nbins, int64_t G, int64_t H,
                       const cl_split_params *p)
{
    int64_t gm = h[nbins].g, hm = h[nbins].h, gl = 0, hl = 0;
    c->n = 2 * (nbins - 1);
    for (int b = 0; b < nbins - 1; b++) {
        gl += h[b].g;
        hl += h[b].h;
        for (int side = 0; side < 2; side++) {
            int k = 2 * b + side;
            int64_t qgl = gl + (side ? gm : 0), qhl = hl + (side ? hm : 0);
            c->ql[k][0] = qgl;
            c->ql[k][1] = qhl;
            c->gl[k] = (double)qgl * p->ug;
            c->hl[k] = (double)qhl * p->uh;
            c->gr[k] = (double)(G - qgl) * p->ug;
            c->hr[k] = (double)(H - qhl) * p->uh;
        }
    }
}

/* cl_split_score without branches (selects), so the loop below vectorises. */
CL_ISA_BODY double score_sel(double G, double H, double alpha, double lambda)
{
    double t = G > alpha ? G - alpha : G < -alpha ? G + alpha : 0.0;
    double den = H + lambda;
    double q = t * t / (den > 0 ? den : 1.0);
    return den > 0 ? q : 0.0;
}

/* gain[k] of every candidate, NaN where try_split would refuse it (child hessian count <= 0
 * or below min_child_weight, gain not above gamma or 1e-10). Same operations in the same
 * order as try_split, so equal bit for bit on every path. */
CL_ISA_BODY void gains_body(double *restrict gain, const cands *restrict c, double parent,
                            const cl_split_params *p)
{
    const double alpha = p->alpha, lambda = p->lambda, mcw = p->min_child_weight,
                 gamma = p->gamma;
#pragma omp simd
    for (int k = 0; k < c->n; k++) {
        double hl = c->hl[k], hr = c->hr[k];
        double g = score_sel(c->gl[k], hl, alpha, lambda) + score_sel(c->gr[k], hr, alpha, lambda) -
                   parent;
        int ok = (hl > 0) & (hr > 0) & !(hl < mcw) & !(hr < mcw) & (g > gamma) & (g > 1e-10);
        gain[k] = ok ? g : NAN;
    }
}

CL_ISA_AVX512_FN static void gains_avx512(double *gain, const cands *c, double parent,
                                          const cl_split_params *p)
{
    gains_body(gain, c, parent, p);
}

/* The numeric scan of cl_split_feature for unconstrained splits: the first candidate (in
 * the scalar scan's order: b rising, missing right before missing left) whose gain beats
 * best->gain strictly, ties to the lowest, exactly as try_split's updates pick it. Without
 * missing values only the missing-right candidates are tried, as there. */
static void numeric_all(cl_split *best, const cl_hbin *h, int nbins, int j, int64_t G,
                        int64_t H, double parent, const cl_split_params *p)
{
    cands c;
    double gain[2 * 256];
    cands_fill(&c, h, nbins, G, H, p);
    gains_avx512(gain, &c, parent, p);
    const int step = h[nbins].h > 0 ? 1 : 2;
    int kbest = -1;
    double g = best->gain;
    for (int k = 0; k < c.n; k += step)
        if (gain[k] > g) {
            g = gain[k];
            kbest = k;
        }
    if (kbest < 0)
        return;
    best->gain = g;
    best->wl = best->wr = 0;
    best->gl = c.gl[kbest];
    best->hl = c.hl[kbest];
    best->gr = c.gr[kbest];
    best->hr = c.hr[kbest];
    best->qgl = c.ql[kbest][0];
    best->qhl = c.ql[kbest][1];
    best->qgr = G - best->qgl;
    best->qhr = H - best->qhl;
    best->feature = j;
    best->bin = kbest / 2;
    best->default_left = kbest & 1;
    best->is_cat = 0;
}
#endif

/* Records the categorical split whose left set is keys[k0..k1] (inclusive). */
static void cat_record(cl_split *best, const cat_key *keys, int k0, int k1, int j, int dl)
{
    best->feature = j;
    best->bin = -1;
    best->default_left = dl;
    best->is_cat = 1;
    memset(best->cats, 0, sizeof best->cats);
    for (int q = k0; q <= k1; q++)
        best->cats[keys[q].cat >> 5] |= 1u << (keys[q].cat & 31);
}

/* LightGBM's categorical split (FindBestThresholdCategoricalInner): categories with at least
 * CL_SPLIT_CAT_SMOOTH rows are sorted by G / (H + CL_SPLIT_CAT_SMOOTH), then left sets of up
 * to min(CL_SPLIT_CAT_MAX_THRESHOLD, (k + 1) / 2) of them are grown from either end of the
 * order; a cut is only tried once CL_SPLIT_CAT_MIN_DATA_PER_GROUP rows have joined since the
 * last one, and the scan stops when fewer than that remain on the right. Gains carry an
 * extra L2 of CL_SPLIT_CAT_L2. Rows are estimated from hessians as LightGBM does (count =
 * h * node rows / node hessian; exact when every hessian is equal), from p->count; with
 * count 0 the row rules are off. Categories left out (too few rows, absent) go right;
 * missing values take the better side. The gain is the children's scores at the extra L2
 * minus the parent's at the model's L2. */
static void cat_split(cl_split *best, const cl_hbin *h, int nbins, int j, int64_t G, int64_t H,
                      int has_missing, const cl_split_params *p0)
{
    cl_split_params pc = *p0; /* extra L2; no order, so no monotone constraint */
    pc.lambda += CL_SPLIT_CAT_L2;
    pc.mono = 0;
    const cl_split_params *p = &pc;
    /* The parent is scored with the model's own L2, the children with the extra one, as
     * LightGBM's gain_shift does: a partition then has to pay for its children's extra
     * shrinkage, so partitions that barely beat the node are refused. Scoring the parent with
     * the extra L2 too (as before) let them through. On validation splits of the bench's cat
     * case (scripts/bench/trees_cat_seeds.sh val, 5 draws each) AUC +0.0018 at 20k rows and
     * -0.0006 at 50k: a small gain where nodes are small, none to speak of where they are not. */
    const double parent = node_score((double)G * p0->ug, (double)H * p0->uh, p0);
    const int rules = p->count > 0 && H > 0;
    const double per_h = rules ? p->count / (double)H : 0; /* rows per fixed-point hessian unit */
    const int64_t gm = h[nbins].g, hm = h[nbins].h;
    cat_key keys[256];
    int nk = 0;
    for (int c = 0; c < nbins; c++) {
        double cnt = (double)h[c].h * per_h;
        if (h[c].h > 0 && (!rules || cnt >= CL_SPLIT_CAT_SMOOTH)) {
            keys[nk].key = (double)h[c].g * p->ug / ((double)h[c].h * p->uh + CL_SPLIT_CAT_SMOOTH);
            keys[nk].cat = c;
            keys[nk].cnt = cnt;
            nk++;
        }
    }
    if (nk < 1 || (nk < 2 && !has_missing))
        return;
    qsort(keys, (size_t)nk, sizeof *keys, cmp_cat);
    int max_cat = (nk + 1) / 2 < CL_SPLIT_CAT_MAX_THRESHOLD ? (nk + 1) / 2
                                                             : CL_SPLIT_CAT_MAX_THRESHOLD;
    if (nk == 1)
        max_cat = 1; /* one category: it against the missing values */
    for (int dir = 0; dir < 2; dir++) {
        int64_t gl = 0, hl = 0;
        double left_cnt = 0, group = 0;
        for (int i = 0; i < max_cat; i++) {
            int k = dir ? nk - 1 - i : i;
            gl += h[keys[k].cat].g;
            hl += h[keys[k].cat].h;
            left_cnt += keys[k].cnt;
            group += keys[k].cnt;
            if (rules && p->count - left_cnt < CL_SPLIT_CAT_MIN_DATA_PER_GROUP)
                break;
            if (rules && group < CL_SPLIT_CAT_MIN_DATA_PER_GROUP)
                continue;
            group = 0;
            int improved = 0, dl = 0;
            if (i < nk - 1 && try_split(best, gl, hl, G, H, parent, p))
                improved = 1;
            if (has_missing && try_split(best, gl + gm, hl + hm, G, H, parent, p)) {
                improved = 1;
                dl = 1;
            }
            if (improved)
                cat_record(best, keys, dir ? k : 0, dir ? nk - 1 : k, j, dl);
        }
    }
}

void cl_split_feature(cl_split *best, const cl_hbin *h, int nbins, int is_cat, int j, int64_t G,
                      int64_t H, const cl_split_params *p)
{
    double parent = node_score((double)G * p->ug, (double)H * p->uh, p);
    int64_t gm = h[nbins].g, hm = h[nbins].h; /* missing bin */
    int has_missing = hm > 0;
#if CL_ISA_HAVE_PATHS
    if (!is_cat && !p->constrained && nbins <= 256 && !split_scalar &&
        cl_isa_get() == CL_ISA_AVX512) {
        numeric_all(best, h, nbins, j, G, H, parent, p);
        return;
    }
#endif
    if (!is_cat) {
        int64_t gl = 0, hl = 0;
        for (int b = 0; b < nbins - 1; b++) {
            gl += h[b].g;
            hl += h[b].h;
            /* missing right */
            if (try_split(best, gl, hl, G, H, parent, p)) {
                best->feature = j;
                best->bin = b;
                best->default_left = 0;
                best->is_cat = 0;
            }
            /* missing left */
            if (has_missing && try_split(best, gl + gm, hl + hm, G, H, parent, p)) {
                best->feature = j;
                best->bin = b;
                best->default_left = 1;
                best->is_cat = 0;
            }
        }
        return;
    }
    cat_split(best, h, nbins, j, G, H, has_missing, p);
}
