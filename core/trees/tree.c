/* tree.c - flat decision trees: building blocks, prediction, storage, rules, importance. */
#include "trees/tree.h"

#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/strbuf.h"
#include "base/threads.h"

int cl_tree_new(cl_tree **out)
{
    *out = cl_alloc_calloc(1, sizeof **out);
    return *out ? CL_OK : CL_ENOMEM;
}

void cl_tree_free(cl_tree *t)
{
    if (!t)
        return;
    cl_alloc_free(t->nodes);
    cl_alloc_free(t->cats);
    cl_alloc_free(t);
}

int cl_tree_add(cl_tree *t, float v, double cover, double count)
{
    if (t->n == t->cap) {
        int cap = t->cap ? 2 * t->cap : 16;
        cl_tnode *nn = cl_alloc_realloc(t->nodes, (size_t)cap * sizeof *nn);
        if (!nn)
            return CL_ENOMEM;
        t->nodes = nn;
        t->cap = cap;
    }
    cl_tnode *nd = t->nodes + t->n;
    memset(nd, 0, sizeof *nd);
    nd->feature = CL_TREE_LEAF;
    nd->left = -1;
    nd->value = v;
    nd->cover = cover;
    nd->count = count;
    nd->cat = -1;
    return t->n++;
}

int cl_tree_add_cats(cl_tree *t, const uint32_t *bits)
{
    if (t->ncatsets == t->catcap) {
        int cap = t->catcap ? 2 * t->catcap : 4;
        uint32_t *nc = cl_alloc_realloc(t->cats, (size_t)cap * CL_SPLIT_CAT_WORDS * sizeof *nc);
        if (!nc)
            return CL_ENOMEM;
        t->cats = nc;
        t->catcap = cap;
    }
    memcpy(t->cats + (size_t)t->ncatsets * CL_SPLIT_CAT_WORDS, bits,
           CL_SPLIT_CAT_WORDS * sizeof *bits);
    return t->ncatsets++;
}

int cl_tree_leaf_binned(const cl_tree *t, const uint8_t *bins, size_t n, size_t row,
                        const int *missing)
{
    const cl_tnode *nodes = t->nodes;
    int i = 0;
    while (nodes[i].feature >= 0) {
        const cl_tnode *nd = nodes + i;
        int b = bins[(size_t)nd->feature * n + row];
        int left;
        if (b == missing[nd->feature])
            left = nd->default_left;
        else if (nd->is_cat)
            left = b < nd->ncat
                       ? cl_split_cat_has(t->cats + (size_t)nd->cat * CL_SPLIT_CAT_WORDS, b)
                       : nd->default_left;
        else
            left = b <= nd->bin;
        i = nd->left + !left;
    }
    return i;
}

/* Compact node for batch prediction: 16 bytes, so a walk touches a quarter of the cache
 * lines a cl_tnode (with its training statistics) would. Leaves: feature -1, v = value. */
typedef struct pnode {
    int32_t feature;
    float v;        /* threshold, or the leaf value */
    int32_t left;
    uint8_t default_left, is_cat, ncat, pad;
} pnode;

/* The child of internal node nd that row x goes to. */
static inline int pnode_next(const pnode *nd, const uint32_t *cats, int32_t catidx,
                             const float *x)
{
    float xv = x[nd->feature];
    int left;
    if (nd->is_cat) {
        if (!(xv >= 0) || xv >= (float)nd->ncat)
            left = nd->default_left;
        else
            left = cl_split_cat_has(cats + (size_t)catidx * CL_SPLIT_CAT_WORDS, (int)xv);
    } else {
        left = xv != xv ? nd->default_left : xv < nd->v;
    }
    return nd->left + !left;
}

/* Adds one tree's leaf values for rows X[0..n) to acc. LANES rows walk the tree together:
 * their node loads are independent, so the cache misses of a deep tree overlap instead of
 * forming one chain per row. */
#define LANES 8
static void pnode_tree_add(const pnode *nodes, const uint32_t *cats, const int32_t *catidx,
                           const float *X, size_t d, size_t n, double *acc)
{
    size_t r = 0;
    for (; r + LANES <= n; r += LANES) {
        int idx[LANES] = {0};
        const float *x = X + r * d;
        for (int live = 1; live;) {
            live = 0;
            for (int k = 0; k < LANES; k++) {
                const pnode *nd = nodes + idx[k];
                if (nd->feature >= 0) {
                    idx[k] = pnode_next(nd, cats, catidx[idx[k]], x + (size_t)k * d);
                    live = 1;
                }
            }
        }
        for (int k = 0; k < LANES; k++)
            acc[r + (size_t)k] += nodes[idx[k]].v;
    }
    for (; r < n; r++) {
        int i = 0;
        while (nodes[i].feature >= 0)
            i = pnode_next(nodes + i, cats, catidx[i], X + r * d);
        acc[r] += nodes[i].v;
    }
}

#define PRED_BLOCK_MAX 4096

void cl_tree_ens_predict(const cl_tree *const *trees, int ntrees, const float *X, size_t n, int d,
                      double base, double scale, float *out)
{
    /* Rows are scored in blocks, every tree per block: a block of X about L2-sized (256 KB)
     * stays cached while the trees stream past it, so a large forest is read once per block,
     * not once per row. */
    size_t block = (size_t)(256 * 1024) / ((size_t)d * sizeof(float) + 1);
    block = block < 256 ? 256 : block > PRED_BLOCK_MAX ? PRED_BLOCK_MAX : block;
    const size_t nblk = (n + block - 1) / block;
    size_t total = 0;
    for (int t = 0; t < ntrees; t++)
        total += (size_t)trees[t]->n;
    pnode *packed = n >= 64 ? cl_alloc((total + 1) * sizeof *packed) : NULL;
    int32_t *catidx = packed ? cl_alloc((total + 1) * sizeof *catidx) : NULL;
    size_t *start = packed ? cl_alloc(((size_t)ntrees + 1) * sizeof *start) : NULL;
    if (!packed || !catidx || !start) { /* small batches (or no memory): walk cl_tnode */
        cl_alloc_free(packed);
        cl_alloc_free(catidx);
        cl_alloc_free(start);
        for (size_t i = 0; i < n; i++) {
            double s = 0;
            for (int t = 0; t < ntrees; t++)
                s += trees[t]->nodes[cl_tree_leaf(trees[t], X + i * (size_t)d)].value;
            out[i] = (float)(base + scale * s);
        }
        return;
    }
    size_t k = 0;
    for (int t = 0; t < ntrees; t++) {
        start[t] = k;
        for (int i = 0; i < trees[t]->n; i++, k++) {
            const cl_tnode *nd = trees[t]->nodes + i;
            pnode *p = packed + k;
            p->feature = nd->feature;
            p->v = nd->feature >= 0 ? nd->thr : nd->value;
            p->left = nd->left;
            p->default_left = nd->default_left;
            p->is_cat = nd->is_cat;
            p->ncat = nd->ncat;
            p->pad = 0;
            catidx[k] = nd->cat;
        }
    }
#pragma omp parallel for schedule(static) num_threads(cl_threads_get()) if (n > 16 * block)
    for (size_t q = 0; q < nblk; q++) {
        size_t i0 = q * block, i1 = i0 + block < n ? i0 + block : n;
        double acc[PRED_BLOCK_MAX];
        for (size_t i = i0; i < i1; i++)
            acc[i - i0] = 0;
        for (int t = 0; t < ntrees; t++)
            pnode_tree_add(packed + start[t], trees[t]->cats, catidx + start[t],
                           X + i0 * (size_t)d, (size_t)d, i1 - i0, acc);
        for (size_t i = i0; i < i1; i++)
            out[i] = (float)(base + scale * acc[i - i0]);
    }
    cl_alloc_free(packed);
    cl_alloc_free(catidx);
    cl_alloc_free(start);
}

void cl_tree_ens_free(cl_tree **trees, int ntrees)
{
    if (!trees)
        return;
    for (int t = 0; t < ntrees; t++)
        cl_tree_free(trees[t]);
    cl_alloc_free(trees);
}

/* ---- storage ------------------------------------------------------------------------ */

static const char *cname(char *buf, size_t cap, const char *prefix, const char *name)
{
    snprintf(buf, cap, "%s%s", prefix ? prefix : "", name);
    return buf;
}

int cl_tree_ens_write(cl_mw *w, const char *prefix, const cl_tree *const *trees, int ntrees)
{
    size_t nn = 0, nc = 0;
    for (int t = 0; t < ntrees; t++) {
        nn += (size_t)trees[t]->n;
        nc += (size_t)trees[t]->ncatsets;
    }
    int32_t *off = cl_alloc(((size_t)ntrees * 2 + 2) * sizeof *off);
    int32_t *feat = cl_alloc((nn + 1) * sizeof *feat);
    int32_t *left = cl_alloc((nn + 1) * sizeof *left);
    int32_t *cat = cl_alloc((nn + 1) * sizeof *cat);
    float *thr = cl_alloc((nn + 1) * sizeof *thr);
    float *val = cl_alloc((nn + 1) * sizeof *val);
    uint8_t *flags = cl_alloc((nn + 1) * 3);
    double *dd = cl_alloc((nn + 1) * 3 * sizeof *dd);
    int32_t *bits = cl_alloc((nc * CL_SPLIT_CAT_WORDS + 1) * sizeof *bits);
    int rc = CL_OK;
    if (!off || !feat || !left || !cat || !thr || !val || !flags || !dd || !bits) {
        rc = CL_ENOMEM;
        goto done;
    }
    size_t k = 0, kc = 0;
    for (int t = 0; t < ntrees; t++) {
        const cl_tree *tr = trees[t];
        off[2 * t] = tr->n;
        off[2 * t + 1] = tr->ncatsets;
        for (int i = 0; i < tr->n; i++, k++) {
            const cl_tnode *nd = tr->nodes + i;
            feat[k] = nd->feature;
            left[k] = nd->left;
            cat[k] = nd->cat;
            thr[k] = nd->thr;
            val[k] = nd->value;
            flags[3 * k] = nd->default_left;
            flags[3 * k + 1] = nd->is_cat;
            flags[3 * k + 2] = nd->ncat;
            dd[3 * k] = nd->cover;
            dd[3 * k + 1] = nd->count;
            dd[3 * k + 2] = nd->gain;
        }
        for (size_t q = 0; q < (size_t)tr->ncatsets * CL_SPLIT_CAT_WORDS; q++)
            bits[kc++] = (int32_t)tr->cats[q];
    }
    char b[128];
    cl_modelio_w_int(w, cname(b, sizeof b, prefix, "ntrees"), ntrees);
    cl_modelio_w_i32(w, cname(b, sizeof b, prefix, "sizes"), off, (size_t)ntrees * 2);
    cl_modelio_w_i32(w, cname(b, sizeof b, prefix, "feature"), feat, nn);
    cl_modelio_w_i32(w, cname(b, sizeof b, prefix, "left"), left, nn);
    cl_modelio_w_i32(w, cname(b, sizeof b, prefix, "catset"), cat, nn);
    cl_modelio_w_f32(w, cname(b, sizeof b, prefix, "threshold"), thr, nn);
    cl_modelio_w_f32(w, cname(b, sizeof b, prefix, "value"), val, nn);
    cl_modelio_w_u8(w, cname(b, sizeof b, prefix, "flags"), flags, nn * 3);
    cl_modelio_w_f64(w, cname(b, sizeof b, prefix, "stats"), dd, nn * 3);
    rc = cl_modelio_w_i32(w, cname(b, sizeof b, prefix, "cats"), bits, kc);
done:
    cl_alloc_free(off);
    cl_alloc_free(feat);
    cl_alloc_free(left);
    cl_alloc_free(cat);
    cl_alloc_free(thr);
    cl_alloc_free(val);
    cl_alloc_free(flags);
    cl_alloc_free(dd);
    cl_alloc_free(bits);
    return rc;
}

/* Semantic checks of one loaded tree (indices of each node were range-checked by the
 * caller's arrays only): see cl_tree_ens_read in tree.h. depth: scratch of tr->n ints.
 * Iterative on purpose: a file decides the depth, so nothing here may recurse on it. */
static int validate_tree(const cl_tree *tr, int t, int d, int *depth)
{
    const int n = tr->n;
    for (int i = 0; i < n; i++)
        depth[i] = -1;
    depth[0] = 0;
    for (int i = 0; i < n; i++) {
        const cl_tnode *nd = tr->nodes + i;
        /* children come after their parent, so a node's parent has been visited by now */
        if (depth[i] < 0)
            return cl_error(CL_EFORMAT, "model file: tree %d, node %d is not reachable from the "
                            "root (no node has it as a child)", t + 1, i + 1);
        if (!isfinite(nd->cover) || nd->cover < 0 || !isfinite(nd->count) || nd->count < 0)
            return cl_error(CL_EFORMAT, "model file: tree %d, node %d: cover %g and count %g "
                            "must be finite and >= 0", t + 1, i + 1, nd->cover, nd->count);
        if (!isfinite(nd->gain) || !isfinite(nd->value))
            return cl_error(CL_EFORMAT, "model file: tree %d, node %d: %s is not finite", t + 1,
                            i + 1, isfinite(nd->value) ? "the split gain" : "the value");
        if (nd->feature == CL_TREE_LEAF)
            continue;
        if (nd->feature < 0 || nd->feature >= d)
            return cl_error(CL_EFORMAT, "model file: tree %d, node %d: feature %d outside "
                            "[0, %d) (or -1 for a leaf)", t + 1, i + 1, (int)nd->feature, d);
        /* checked as left >= n - 1, not left + 1 >= n: left may be INT_MAX */
        if (nd->left <= i || nd->left >= n - 1)
            return cl_error(CL_EFORMAT, "model file: tree %d, node %d: children %lld and %lld "
                            "must lie in (%d, %d]", t + 1, i + 1, (long long)nd->left + 1,
                            (long long)nd->left + 2, i + 1, n);
        if (nd->is_cat ? (nd->cat < 0 || nd->cat >= tr->ncatsets || nd->ncat < 1)
                       : isnan(nd->thr))
            return cl_error(CL_EFORMAT, nd->is_cat
                                ? "model file: tree %d, node %d: category set %d outside "
                                  "[0, %d) or no categories"
                                : "model file: tree %d, node %d: threshold is NaN",
                            t + 1, i + 1, (int)nd->cat, tr->ncatsets);
        for (int c = nd->left; c <= nd->left + 1; c++) {
            if (depth[c] >= 0) /* shared children make a DAG: exponential walks */
                return cl_error(CL_EFORMAT, "model file: tree %d, node %d has two parents (the "
                                "nodes must form a tree)", t + 1, c + 1);
            depth[c] = depth[i] + 1;
            if (depth[c] > CL_TREE_MAX_DEPTH)
                return cl_error(CL_EFORMAT, "model file: tree %d is deeper than %d levels "
                                "(node %d)", t + 1, CL_TREE_MAX_DEPTH, c + 1);
        }
        /* Children split their parent's rows: covers (hessian or weight sums) and counts add
         * up, to the rounding of a double sum. TreeSHAP divides by them. */
        const cl_tnode *l = tr->nodes + nd->left, *rr = l + 1;
        double tol_c = 1e-6 * (nd->cover + l->cover + rr->cover) + 1e-300;
        double tol_n = 1e-6 * (nd->count + l->count + rr->count) + 1e-9;
        if (fabs(l->cover + rr->cover - nd->cover) > tol_c ||
            fabs(l->count + rr->count - nd->count) > tol_n)
            return cl_error(CL_EFORMAT, "model file: tree %d, node %d: children's covers %g + %g "
                            "and counts %g + %g do not add up to the node's %g and %g", t + 1,
                            i + 1, l->cover, rr->cover, l->count, rr->count, nd->cover,
                            nd->count);
    }
    return CL_OK;
}

int cl_tree_depth(const cl_tree *t, int *out)
{
    *out = 0;
    int *depth = cl_alloc(((size_t)t->n + 1) * sizeof *depth);
    if (!depth)
        return cl_error(CL_ENOMEM, "tree depth: out of memory (%d nodes)", t->n);
    int md = 0;
    depth[0] = 0;
    /* children always come after their parent: one pass in index order sets every depth */
    for (int i = 0; i < t->n; i++) {
        const cl_tnode *nd = t->nodes + i;
        if (nd->feature < 0)
            continue;
        depth[nd->left] = depth[nd->left + 1] = depth[i] + 1;
        md = depth[i] + 1 > md ? depth[i] + 1 : md;
    }
    cl_alloc_free(depth);
    *out = md;
    if (md > CL_TREE_MAX_DEPTH)
        return cl_error(CL_EINVAL, "tree depth %d exceeds %d levels", md, CL_TREE_MAX_DEPTH);
    return CL_OK;
}

int cl_tree_ens_check_margin(const cl_tree *const *trees, int ntrees, double base, double scale,
                          const char *what)
{
    double tot = fabs(base);
    for (int t = 0; t < ntrees; t++) {
        double mx = 0;
        for (int i = 0; i < trees[t]->n; i++)
            if (trees[t]->nodes[i].feature < 0 && fabs(trees[t]->nodes[i].value) > mx)
                mx = fabs(trees[t]->nodes[i].value);
        tot += fabs(scale) * mx;
    }
    if (!(tot <= CL_TREES_MAX_MARGIN))
        return cl_error(CL_EFORMAT, "%s: base %g plus the largest leaf values reach %g, beyond "
                        "%g (margins would overflow)", what, base, tot, CL_TREES_MAX_MARGIN);
    return CL_OK;
}

int cl_tree_ens_read(const cl_mr *r, const char *prefix, int d, cl_tree ***out, int *out_n)
{
    *out = NULL;
    *out_n = 0;
    char b[128];
    int64_t nt64;
    int rc = cl_modelio_r_int(r, cname(b, sizeof b, prefix, "ntrees"), 0, 10000000, &nt64);
    if (rc)
        return rc;
    int ntrees = (int)nt64;
    size_t nn = 0, nc = 0, cnt;
    /* the tree count is checked against the stored chunk before it sizes an allocation */
    rc = cl_modelio_r_count(r, cname(b, sizeof b, prefix, "sizes"), CL_CHUNK_I32, &cnt);
    if (!rc && cnt != (size_t)ntrees * 2)
        rc = cl_error(CL_EFORMAT, "model file: chunk '%ssizes' holds %zu values for %d trees "
                      "(expected %d)", prefix ? prefix : "", cnt, ntrees, 2 * ntrees);
    if (rc)
        return rc;
    int32_t *sizes = cl_alloc(((size_t)ntrees * 2 + 1) * sizeof *sizes);
    if (!sizes)
        return CL_ENOMEM;
    rc = cl_modelio_r_i32(r, cname(b, sizeof b, prefix, "sizes"), sizes, (size_t)ntrees * 2);
    if (rc) {
        cl_alloc_free(sizes);
        return rc;
    }
    for (int t = 0; t < ntrees; t++) {
        if (sizes[2 * t] < 1 || sizes[2 * t + 1] < 0 || sizes[2 * t + 1] > sizes[2 * t]) {
            cl_alloc_free(sizes);
            return cl_error(CL_EFORMAT, "model file: tree %d has a bad size", t + 1);
        }
        nn += (size_t)sizes[2 * t];
        nc += (size_t)sizes[2 * t + 1];
    }
    rc = cl_modelio_r_count(r, cname(b, sizeof b, prefix, "feature"), CL_CHUNK_I32, &cnt);
    if (!rc && cnt != nn)
        rc = cl_error(CL_EFORMAT, "model file: %zu tree nodes stored, %zu expected", cnt, nn);
    if (rc) {
        cl_alloc_free(sizes);
        return rc;
    }
    int32_t *feat = cl_alloc((nn + 1) * sizeof *feat);
    int32_t *left = cl_alloc((nn + 1) * sizeof *left);
    int32_t *cat = cl_alloc((nn + 1) * sizeof *cat);
    float *thr = cl_alloc((nn + 1) * sizeof *thr);
    float *val = cl_alloc((nn + 1) * sizeof *val);
    uint8_t *flags = cl_alloc((nn + 1) * 3);
    double *dd = cl_alloc((nn + 1) * 3 * sizeof *dd);
    int32_t *bits = cl_alloc((nc * CL_SPLIT_CAT_WORDS + 1) * sizeof *bits);
    cl_tree **trees = cl_alloc_calloc((size_t)ntrees + 1, sizeof *trees);
    int *depth = cl_alloc((nn + 1) * sizeof *depth);
    if (!feat || !left || !cat || !thr || !val || !flags || !dd || !bits || !trees || !depth) {
        rc = CL_ENOMEM;
        goto done;
    }
    if ((rc = cl_modelio_r_i32(r, cname(b, sizeof b, prefix, "feature"), feat, nn)) ||
        (rc = cl_modelio_r_i32(r, cname(b, sizeof b, prefix, "left"), left, nn)) ||
        (rc = cl_modelio_r_i32(r, cname(b, sizeof b, prefix, "catset"), cat, nn)) ||
        (rc = cl_modelio_r_f32(r, cname(b, sizeof b, prefix, "threshold"), thr, nn)) ||
        (rc = cl_modelio_r_f32(r, cname(b, sizeof b, prefix, "value"), val, nn)) ||
        (rc = cl_modelio_r_u8(r, cname(b, sizeof b, prefix, "flags"), flags, nn * 3)) ||
        (rc = cl_modelio_r_f64(r, cname(b, sizeof b, prefix, "stats"), dd, nn * 3)) ||
        (rc = cl_modelio_r_i32(r, cname(b, sizeof b, prefix, "cats"), bits, nc * CL_SPLIT_CAT_WORDS)))
        goto done;
    size_t k = 0, kc = 0;
    for (int t = 0; t < ntrees; t++) {
        cl_tree *tr;
        if ((rc = cl_tree_new(&tr)))
            goto done;
        trees[t] = tr;
        int n = sizes[2 * t], ncs = sizes[2 * t + 1];
        tr->nodes = cl_alloc((size_t)n * sizeof *tr->nodes);
        tr->cats = cl_alloc(((size_t)ncs * CL_SPLIT_CAT_WORDS + 1) * sizeof *tr->cats);
        if (!tr->nodes || !tr->cats) {
            rc = CL_ENOMEM;
            goto done;
        }
        tr->n = tr->cap = n;
        tr->ncatsets = tr->catcap = ncs;
        for (int i = 0; i < n; i++, k++) {
            cl_tnode *nd = tr->nodes + i;
            memset(nd, 0, sizeof *nd);
            nd->feature = feat[k];
            nd->left = left[k];
            nd->cat = cat[k];
            nd->thr = thr[k];
            nd->value = val[k];
            nd->default_left = flags[3 * k] != 0;
            nd->is_cat = flags[3 * k + 1] != 0;
            nd->ncat = flags[3 * k + 2];
            nd->cover = dd[3 * k];
            nd->count = dd[3 * k + 1];
            nd->gain = dd[3 * k + 2];
            /* flags are written as 0/1: anything else is damage, not a truth value */
            if (flags[3 * k] > 1 || flags[3 * k + 1] > 1) {
                rc = cl_error(CL_EFORMAT, "model file: tree %d, node %d: flag bytes are %u and "
                              "%u, expected 0 or 1", t + 1, i + 1, flags[3 * k],
                              flags[3 * k + 1]);
                goto done;
            }
        }
        for (size_t q = 0; q < (size_t)ncs * CL_SPLIT_CAT_WORDS; q++)
            tr->cats[q] = (uint32_t)bits[kc++];
        if ((rc = validate_tree(tr, t, d, depth)))
            goto done;
    }
    *out = trees;
    *out_n = ntrees;
    trees = NULL;
done:
    if (trees)
        cl_tree_ens_free(trees, ntrees);
    cl_alloc_free(sizes);
    cl_alloc_free(feat);
    cl_alloc_free(left);
    cl_alloc_free(cat);
    cl_alloc_free(thr);
    cl_alloc_free(val);
    cl_alloc_free(flags);
    cl_alloc_free(dd);
    cl_alloc_free(bits);
    cl_alloc_free(depth);
    return rc;
}

void cl_tree_ens_importance(const cl_tree *const *trees, int ntrees, double *gain, double *splits,
                         double *cover)
{
    for (int t = 0; t < ntrees; t++)
        for (int i = 0; i < trees[t]->n; i++) {
            const cl_tnode *nd = trees[t]->nodes + i;
            if (nd->feature < 0)
                continue;
            gain[nd->feature] += nd->gain;
            splits[nd->feature] += 1;
            cover[nd->feature] += nd->cover;
        }
}

/* ---- rules ---------------------------------------------------------------------------- */

typedef struct rules_ctx {
    const cl_tree *t;
    int d;
    cl_rules_names nm;
    const char *what;
    double *lo, *hi;
    uint32_t *allow; /* d * CL_SPLIT_CAT_WORDS */
    int *used;       /* features in first-use order */
    int nused;
    cl_strbuf sb;
} rules_ctx;

static void put_name(rules_ctx *c, int j)
{
    if (c->nm.names && c->nm.names[j])
        cl_strbuf_printf(&c->sb, "%s", c->nm.names[j]);
    else
        cl_strbuf_printf(&c->sb, "x%d", j + 1);
}

static void put_cat(rules_ctx *c, int j, int code)
{
    if (c->nm.labels && c->nm.labels[j] && c->nm.nlabels && code < c->nm.nlabels[j] &&
        c->nm.labels[j][code])
        cl_strbuf_printf(&c->sb, "%s", c->nm.labels[j][code]);
    else
        cl_strbuf_printf(&c->sb, "%d", code);
}

/* A threshold in the units the reader knows (the pipeline's input), when given. */
static double orig_units(const rules_ctx *c, int j, double t)
{
    if (c->nm.unscale_mul && c->nm.unscale_add)
        return t * c->nm.unscale_mul[j] + c->nm.unscale_add[j];
    return t;
}

static void emit_leaf(rules_ctx *c, const cl_tnode *leaf)
{
    if (c->nused == 0)
        cl_strbuf_printf(&c->sb, "(all rows)");
    for (int u = 0; u < c->nused; u++) {
        int j = c->used[u];
        if (u)
            cl_strbuf_printf(&c->sb, " and ");
        uint32_t *al = c->allow + (size_t)j * CL_SPLIT_CAT_WORDS;
        int iscat = c->lo[j] != c->lo[j]; /* NaN marks categorical use */
        if (iscat) {
            put_name(c, j);
            cl_strbuf_printf(&c->sb, " in {");
            int first = 1;
            for (int code = 0; code < 256; code++)
                if (cl_split_cat_has(al, code)) {
                    if (!first)
                        cl_strbuf_printf(&c->sb, ", ");
                    put_cat(c, j, code);
                    first = 0;
                }
            cl_strbuf_printf(&c->sb, "}");
        } else if (c->nm.src_label && c->nm.src_label[j] && c->nm.src_col &&
                   c->nm.src_col[j] && ((!isfinite(c->lo[j]) && c->hi[j] > 0 && c->hi[j] <= 1) ||
                                        (!isfinite(c->hi[j]) && c->lo[j] > 0 && c->lo[j] <= 1))) {
            cl_strbuf_printf(&c->sb, "%s %s %s", c->nm.src_col[j], isfinite(c->lo[j]) ? "=" : "!=",
                      c->nm.src_label[j]);
        } else if (isfinite(c->lo[j]) && isfinite(c->hi[j])) {
            cl_strbuf_printf(&c->sb, "%.6g <= ", orig_units(c, j, c->lo[j]));
            put_name(c, j);
            cl_strbuf_printf(&c->sb, " < %.6g", orig_units(c, j, c->hi[j]));
        } else if (isfinite(c->lo[j])) {
            put_name(c, j);
            cl_strbuf_printf(&c->sb, " >= %.6g", orig_units(c, j, c->lo[j]));
        } else {
            put_name(c, j);
            cl_strbuf_printf(&c->sb, " < %.6g", orig_units(c, j, c->hi[j]));
        }
    }
    cl_strbuf_printf(&c->sb, " -> %s %.4g (n = %.0f)\n", c->what ? c->what : "value",
              (double)leaf->value + 0.0, leaf->count); /* + 0.0: "churn 0", never "-0" */
}

static void rules_walk(rules_ctx *c, int i)
{
    const cl_tnode *nd = c->t->nodes + i;
    if (nd->feature < 0) {
        emit_leaf(c, nd);
        return;
    }
    int j = nd->feature;
    int first_use = 1;
    for (int u = 0; u < c->nused; u++)
        first_use &= c->used[u] != j;
    if (first_use)
        c->used[c->nused++] = j;
    double lo = c->lo[j], hi = c->hi[j];
    uint32_t saved[CL_SPLIT_CAT_WORDS];
    uint32_t *al = c->allow + (size_t)j * CL_SPLIT_CAT_WORDS;
    memcpy(saved, al, sizeof saved);
    for (int side = 0; side < 2; side++) {
        if (nd->is_cat) {
            const uint32_t *set = c->t->cats + (size_t)nd->cat * CL_SPLIT_CAT_WORDS;
            c->lo[j] = NAN;
            for (int w = 0; w < CL_SPLIT_CAT_WORDS; w++) {
                uint32_t inrange = 0;
                for (int bit = 0; bit < 32; bit++)
                    if (w * 32 + bit < nd->ncat)
                        inrange |= 1u << bit;
                al[w] = saved[w] & inrange & (side == 0 ? set[w] : ~set[w]);
            }
        } else if (side == 0) {
            c->hi[j] = nd->thr < hi ? nd->thr : hi;
        } else {
            c->hi[j] = hi;
            c->lo[j] = nd->thr > lo ? nd->thr : lo;
        }
        rules_walk(c, nd->left + side);
        c->lo[j] = lo;
        c->hi[j] = hi;
        memcpy(al, saved, sizeof saved);
    }
    if (first_use)
        c->nused--;
}

int cl_tree_rules(const cl_tree *t, int d, const cl_rules_names *nm, const char *what,
                  char **out)
{
    *out = NULL;
    rules_ctx c;
    memset(&c, 0, sizeof c);
    c.t = t;
    c.d = d;
    if (nm)
        c.nm = *nm;
    c.what = what;
    int depth;
    int rc = cl_tree_depth(t, &depth); /* rules_walk recurses once per level */
    if (rc)
        return cl_error_wrap(rc, "tree rules");
    c.lo = cl_alloc((size_t)d * sizeof *c.lo);
    c.hi = cl_alloc((size_t)d * sizeof *c.hi);
    c.allow = cl_alloc((size_t)d * CL_SPLIT_CAT_WORDS * sizeof *c.allow);
    c.used = cl_alloc((size_t)d * sizeof *c.used);
    if (!c.lo || !c.hi || !c.allow || !c.used) {
        rc = cl_error(CL_ENOMEM, "tree rules: out of memory (%d features)", d);
        goto done;
    }
    for (int j = 0; j < d; j++) {
        c.lo[j] = -INFINITY;
        c.hi[j] = INFINITY;
    }
    memset(c.allow, 0xff, (size_t)d * CL_SPLIT_CAT_WORDS * sizeof *c.allow);
    rules_walk(&c, 0);
    *out = cl_strbuf_take(&c.sb);
    if (!*out)
        rc = cl_error(c.sb.err, c.sb.err == CL_ENOMEM ? "tree rules: out of memory"
                                                      : "tree rules: cannot format a rule");
done:
    cl_strbuf_free(&c.sb);
    cl_alloc_free(c.lo);
    cl_alloc_free(c.hi);
    cl_alloc_free(c.allow);
    cl_alloc_free(c.used);
    return rc;
}

/* ---- shared input checks and AUC -------------------------------------------------------- */

int cl_tree_ens_check_xy(const cl_tensor *X, const cl_tensor *y, int binary, const char *what)
{
    char b1[32], b2[32];
    if (!X || X->ndim != 2 || cl_tensor_rows(X) < 1 || cl_tensor_cols(X) < 1)
        return cl_error(CL_EINVAL, "%s: X must be a non-empty 2-D tensor (rows x features)%s%s",
                        what, X ? ", got " : "", X ? cl_tensor_shape_str(X, b1, sizeof b1) : "");
    if (cl_tensor_cols(X) > 1000000)
        return cl_error(CL_EINVAL, "%s: at most 1000000 features are supported", what);
    if (cl_tensor_rows(X) > (int64_t)UINT32_MAX - 1)
        return cl_error(CL_EINVAL, "%s: at most 4294967294 rows are supported", what);
    if (!y)
        return CL_OK;
    int64_t n = cl_tensor_rows(X);
    if (cl_tensor_numel(y) != n || (y->ndim == 2 && cl_tensor_cols(y) != 1))
        return cl_error(CL_EINVAL, "%s: y must hold one label per row of X (X is %s, y is %s)",
                        what, cl_tensor_shape_str(X, b1, sizeof b1),
                        cl_tensor_shape_str(y, b2, sizeof b2));
    for (int64_t i = 0; i < n; i++) {
        float v = *cl_tensor_ptr(y, i, 0);
        if (binary && v != 0.0f && v != 1.0f)
            return cl_error(CL_EINVAL, "%s: label %lld is %g; binary labels must be 0 or 1",
                            what, (long long)i + 1, (double)v);
        if (!isfinite(v))
            return cl_error(CL_EINVAL, "%s: label %lld is %g; labels must be finite", what,
                            (long long)i + 1, (double)v);
    }
    return CL_OK;
}
