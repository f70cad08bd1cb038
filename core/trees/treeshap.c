/* treeshap.c - path-dependent TreeSHAP (see treeshap.h), written from the paper's Algorithm 2. */
#include "trees/treeshap.h"

#include <math.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"
#include "base/threads.h"

typedef struct pelem {
    int feature;
    double zero, one, w; /* fraction of zero paths (cover), of one paths (x), path weight */
} pelem;

static void extend(pelem *path, int ud, double zero, double one, int feature)
{
    path[ud].feature = feature;
    path[ud].zero = zero;
    path[ud].one = one;
    path[ud].w = ud == 0 ? 1.0 : 0.0;
    for (int i = ud - 1; i >= 0; i--) {
        path[i + 1].w += one * path[i].w * (i + 1) / (double)(ud + 1);
        path[i].w = zero * path[i].w * (ud - i) / (double)(ud + 1);
    }
}

static void unwind(pelem *path, int ud, int idx)
{
    double one = path[idx].one, zero = path[idx].zero, nw = path[ud].w;
    for (int i = ud - 1; i >= 0; i--) {
        if (one != 0) {
            double tmp = path[i].w;
            path[i].w = nw * (ud + 1) / ((i + 1) * one);
            nw = tmp - path[i].w * zero * (ud - i) / (double)(ud + 1);
        } else {
            path[i].w = path[i].w * (ud + 1) / (zero * (ud - i));
        }
    }
    for (int i = idx; i < ud; i++) {
        path[i].feature = path[i + 1].feature;
        path[i].zero = path[i + 1].zero;
        path[i].one = path[i + 1].one;
    }
}

static double unwound_sum(const pelem *path, int ud, int idx)
{
    double one = path[idx].one, zero = path[idx].zero, nw = path[ud].w, total = 0;
    for (int i = ud - 1; i >= 0; i--) {
        if (one != 0) {
            double tmp = nw * (ud + 1) / ((i + 1) * one);
            total += tmp;
            nw = path[i].w - tmp * zero * (ud - i) / (double)(ud + 1);
        } else {
            total += path[i].w * (ud + 1) / (zero * (ud - i));
        }
    }
    return total;
}

/* One conditioning of the interaction values (XGBoost's pred_interactions, Lundberg et al.
 * 2018 section 4.2): cond = 0 plain TreeSHAP; cond = +1 feature cf always follows x, cond = -1
 * it never does (both children by cover). cf leaves the path (it is no player), and cfrac
 * carries the share of the coalitions the conditioning lets through. */
typedef struct condition {
    int cond, feature;
} condition;

static void recurse(const cl_tree *t, int node, const float *x, double *phi, pelem *parent,
                    int ud, double zero, double one, int feature, double scale,
                    const condition *c, double cfrac)
{
    if (cfrac == 0)
        return;
    pelem *path = parent + ud + 1;
    memcpy(path, parent, (size_t)(ud + 1) * sizeof *path);
    if (c->cond == 0 || feature != c->feature)
        extend(path, ud, zero, one, feature);
    const cl_tnode *nd = t->nodes + node;
    if (nd->feature < 0) {
        for (int i = 1; i <= ud; i++) {
            double w = unwound_sum(path, ud, i);
            phi[path[i].feature] += w * (path[i].one - path[i].zero) * nd->value * scale * cfrac;
        }
        return;
    }
    int left = cl_tree_go_left(t, nd, x[nd->feature]);
    int hot = nd->left + !left, cold = nd->left + left;
    double cov = nd->cover;
    double hz = cov > 0 ? t->nodes[hot].cover / cov : 0;
    double cz = cov > 0 ? t->nodes[cold].cover / cov : 0;
    double iz = 1, io = 1;
    int k;
    for (k = 1; k <= ud; k++)
        if (path[k].feature == nd->feature)
            break;
    if (k <= ud) {
        iz = path[k].zero;
        io = path[k].one;
        unwind(path, ud, k);
        ud--;
    }
    double hf = cfrac, cfr = cfrac;
    if (c->cond != 0 && nd->feature == c->feature) {
        if (c->cond > 0) { /* present: only x's branch */
            cfr = 0;
        } else { /* absent: both branches by cover */
            hf *= hz;
            cfr *= cz;
        }
        ud--; /* the children do not extend the path by the conditioned feature */
    }
    /* A branch whose zero and one fractions are both 0 (a child with no cover, on a feature
     * not followed) has weight 0 in every coalition: skipping it is exact, and following it
     * would divide 0 by 0 in unwound_sum. */
    if (hz * iz != 0 || io != 0)
        recurse(t, hot, x, phi, path, ud + 1, hz * iz, io, nd->feature, scale, c, hf);
    if (cz * iz != 0)
        recurse(t, cold, x, phi, path, ud + 1, cz * iz, 0, nd->feature, scale, c, cfr);
}

/* Children come after their parent, so one backward pass computes every subtree's expected
 * value before its parent needs it: linear time and no recursion on the tree's depth. */
static int expected(const cl_tree *t, double *out)
{
    double *e = cl_alloc(((size_t)t->n + 1) * sizeof *e);
    if (!e)
        return cl_error(CL_ENOMEM, "treeshap: out of memory (%d nodes)", t->n);
    for (int i = t->n - 1; i >= 0; i--) {
        const cl_tnode *nd = t->nodes + i;
        if (nd->feature < 0) {
            e[i] = nd->value;
            continue;
        }
        const cl_tnode *l = t->nodes + nd->left, *r = l + 1;
        double c = l->cover + r->cover;
        e[i] = c > 0 ? (l->cover * e[nd->left] + r->cover * e[nd->left + 1]) / c
                     : 0.5 * (e[nd->left] + e[nd->left + 1]);
    }
    *out = e[0];
    cl_alloc_free(e);
    return CL_OK;
}

double cl_treeshap_expected(const cl_tree *t)
{
    double v;
    return expected(t, &v) == CL_OK ? v : NAN;
}

static const condition plain = {0, -1};

int cl_treeshap_ensemble_ev(const cl_tree *const *trees, int ntrees, double base, double scale,
                             int *md_out, double *ev_out)
{
    int md = 0;
    double ev = base;
    for (int t = 0; t < ntrees; t++) {
        int k, rc = cl_tree_depth(trees[t], &k);
        double e;
        if (rc == CL_OK)
            rc = expected(trees[t], &e);
        if (rc)
            return cl_error_wrap(rc, "treeshap: tree %d", t + 1);
        md = k > md ? k : md;
        ev += scale * e;
    }
    *md_out = md;
    *ev_out = ev;
    return CL_OK;
}

size_t cl_treeshap_path_bytes(int depth)
{
    return (size_t)(depth + 2) * (size_t)(depth + 3) / 2 * sizeof(pelem);
}

void cl_treeshap_tree_row(const cl_tree *t, const float *x, double scale, void *path,
                          double *phi)
{
    recurse(t, 0, x, phi, path, 0, 1, 1, -1, scale, &plain, 1.0);
}

/* Rows at or above this count amortise building a cl_treeshap_plan: bench/treeshap.c
 * measures the build at about 3 rows of Algorithm 2 for 300 depth-6 trees (4.4 ms against
 * 1.6 ms per row, the plan then 0.3 ms per row); smaller calls run Algorithm 2 directly.
 * Both are exact; their float outputs can differ in the last bit (other summation order). */
#define FAST_MIN_ROWS 8

static int treeshap_recursive(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                              int d, double base, double scale, float *out);

int cl_treeshap(const cl_tree *const *trees, int ntrees, const float *X, size_t n, int d,
                double base, double scale, float *out)
{
    if (n < FAST_MIN_ROWS)
        return treeshap_recursive(trees, ntrees, X, n, d, base, scale, out);
    cl_treeshap_plan *p;
    int rc = cl_treeshap_plan_new(&p, trees, ntrees, base, scale);
    if (rc)
        return rc;
    rc = cl_treeshap_plan_run(p, X, n, d, out);
    cl_treeshap_plan_free(p);
    return rc;
}

int cl_treeshap_reference(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                          int d, double base, double scale, float *out)
{
    return treeshap_recursive(trees, ntrees, X, n, d, base, scale, out);
}

int cl_treeshap_run_blocks(size_t n, size_t block, size_t par_min, size_t work_bytes,
                           size_t buf_doubles, cl_treeshap_block_fn fn, const void *ctx)
{
    const size_t nblk = (n + block - 1) / block;
    int failed = 0, stop = 0;
#pragma omp parallel num_threads(cl_threads_get()) if (n > par_min)
    {
        void *work = cl_alloc(work_bytes);
        double *buf = cl_alloc(buf_doubles * sizeof *buf);
        if (!work || !buf) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (size_t q = 0; q < nblk; q++) {
            int skip;
#pragma omp atomic read
            skip = stop;
            if (!work || !buf || skip)
                continue;
            size_t i1 = (q + 1) * block < n ? (q + 1) * block : n;
            if (cl_progress_interrupted() || fn(ctx, q * block, i1, work, buf)) {
#pragma omp atomic write
                stop = 1;
            }
        }
        cl_alloc_free(work);
        cl_alloc_free(buf);
    }
    if (failed)
        return cl_error(CL_ENOMEM, "treeshap: out of memory");
    if (stop)
        return cl_error(CL_EINTR, "treeshap: interrupted");
    return CL_OK;
}

/* What a block of rows needs: the ensemble, X, the scale, the expected value, the output. */
typedef struct shap_rows {
    const cl_tree *const *trees;
    int ntrees, d;
    const float *X;
    double scale, ev;
    float *out;
} shap_rows;

/* Algorithm 2 over rows i0..i1 of the ensemble, a row's trees in order. */
static int alg2_block(const void *ctx, size_t i0, size_t i1, void *path, double *phi)
{
    const shap_rows *a = ctx;
    const int d = a->d;
    for (size_t i = i0; i < i1; i++) {
        const float *x = a->X + i * (size_t)d;
        int stop = 0;
        memset(phi, 0, ((size_t)d + 1) * sizeof *phi);
        /* Ctrl-C is polled per tree: one row of a large ensemble can take long */
        for (int t = 0; t < a->ntrees; t++) {
            if ((stop = cl_progress_interrupted()))
                break;
            recurse(a->trees[t], 0, x, phi, path, 0, 1, 1, -1, a->scale, &plain, 1.0);
        }
        float *o = a->out + i * ((size_t)d + 1);
        for (int j = 0; j < d; j++)
            o[j] = (float)phi[j];
        o[d] = (float)a->ev;
        if (stop)
            return 1;
    }
    return 0;
}

/* fn over every row of X in blocks of `block` (parallel above par_min rows), with a path
 * buffer for the deepest tree and buf_doubles doubles per thread. */
static int run_rows(const cl_tree *const *trees, int ntrees, const float *X, size_t n, int d,
                    double base, double scale, float *out, size_t block, size_t par_min,
                    size_t buf_doubles, cl_treeshap_block_fn fn)
{
    int md, rc;
    double ev;
    if ((rc = cl_treeshap_ensemble_ev(trees, ntrees, base, scale, &md, &ev)))
        return rc;
    const shap_rows a = {trees, ntrees, d, X, scale, ev, out};
    return cl_treeshap_run_blocks(n, block, par_min, cl_treeshap_path_bytes(md), buf_doubles,
                                  fn, &a);
}

static int treeshap_recursive(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                              int d, double base, double scale, float *out)
{
    return run_rows(trees, ntrees, X, n, d, base, scale, out, 64, 256, (size_t)d + 1,
                    alg2_block);
}

void cl_treeshap_to_probability(float *phi, size_t n, int d)
{
    for (size_t i = 0; i < n; i++) {
        float *o = phi + i * ((size_t)d + 1);
        double e = o[d], margin = e;
        for (int j = 0; j < d; j++)
            margin += o[j];
        double pe = 1 / (1 + exp(-e)), pm = 1 / (1 + exp(-margin));
        double f = margin != e ? (pm - pe) / (margin - e) : 0.0;
        for (int j = 0; j < d; j++)
            o[j] = (float)(o[j] * f);
        o[d] = (float)pe;
    }
}

/* phi (d + 1 values) of one row under a conditioning, summed over the trees. */
static void row_shap(const cl_tree *const *trees, int ntrees, const float *x, int d,
                     double scale, const condition *c, pelem *path, double *phi)
{
    memset(phi, 0, ((size_t)d + 1) * sizeof *phi);
    for (int t = 0; t < ntrees; t++)
        recurse(trees[t], 0, x, phi, path, 0, 1, 1, -1, scale, c, 1.0);
}

/* The interaction matrix of one row into o ((d + 1) x (d + 1)). */
static void row_interactions(const cl_tree *const *trees, int ntrees, const float *x, int d,
                             double scale, double ev, pelem *path, double *on, double *off,
                             double *diag, float *o)
{
    const size_t w = (size_t)d + 1;
    row_shap(trees, ntrees, x, d, scale, &plain, path, diag);
    memset(o, 0, w * w * sizeof *o);
    for (int i = 0; i < d; i++) {
        condition con = {1, i}, coff = {-1, i};
        row_shap(trees, ntrees, x, d, scale, &con, path, on);
        row_shap(trees, ntrees, x, d, scale, &coff, path, off);
        double rest = diag[i];
        for (int j = 0; j < d; j++) {
            if (j == i)
                continue;
            double v = (on[j] - off[j]) / 2;
            o[(size_t)i * w + (size_t)j] = (float)v;
            rest -= v;
        }
        o[(size_t)i * w + (size_t)i] = (float)rest; /* the row adds up to phi_i */
    }
    o[(size_t)d * w + (size_t)d] = (float)ev;
}

/* The interaction matrices of rows i0..i1 (one row per block). */
static int inter_block(const void *ctx, size_t i0, size_t i1, void *path, double *buf)
{
    const shap_rows *a = ctx;
    const size_t w = (size_t)a->d + 1;
    for (size_t i = i0; i < i1; i++)
        row_interactions(a->trees, a->ntrees, a->X + i * (size_t)a->d, a->d, a->scale, a->ev,
                         path, buf, buf + w, buf + 2 * w, a->out + i * w * w);
    return 0;
}

int cl_treeshap_interactions(const cl_tree *const *trees, int ntrees, const float *X, size_t n,
                             int d, double base, double scale, float *out)
{
    /* a row is 2d + 1 TreeSHAP passes: blocks of one row, polled for Ctrl-C each */
    return run_rows(trees, ntrees, X, n, d, base, scale, out, 1, 16, 3 * ((size_t)d + 1),
                    inter_block);
}
