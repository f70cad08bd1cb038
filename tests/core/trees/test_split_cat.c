/* test_split_cat.c - the categorical split's LightGBM regularisation (split.c cat_split):
 * with the node's row count given, categories with fewer than CL_SPLIT_CAT_SMOOTH rows never
 * join the left set, the left set holds at most CL_SPLIT_CAT_MAX_THRESHOLD categories, both
 * sides hold at least CL_SPLIT_CAT_MIN_DATA_PER_GROUP rows, the reported gain is the gain of
 * the reported partition (recomputed from the histogram), and never above the best over all
 * subsets (brute force, few categories). The gain is the children's scores at the extra L2
 * minus the parent's at the model's L2 (LightGBM's gain_shift), so a partition that only beats
 * the node under the extra L2 is refused. Every row has hessian 1/4, so the hessian-based row
 * estimate is exact and the rules can be checked on true counts. Fixed point: units of 2^-30,
 * values below 2^20, so the oracle's double sums are exact; gains compared to 1e-12 relative
 * (the same formula on the same doubles, summed in another order). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"

#define UNIT 30

typedef struct node {
    int nc;
    int64_t rows[257];
    double g[257], h[257]; /* per category; [nc] = missing */
    cl_hbin hist[257];
    double G, H, count;
} node;

static void node_fix(node *nd)
{
    nd->G = nd->H = nd->count = 0;
    for (int c = 0; c <= nd->nc; c++) {
        nd->h[c] = 0.25 * (double)nd->rows[c];
        nd->g[c] = ldexp((double)llrint(ldexp(nd->g[c], UNIT)), -UNIT);
        nd->hist[c].g = llrint(ldexp(nd->g[c], UNIT));
        nd->hist[c].h = llrint(ldexp(nd->h[c], UNIT));
        nd->G += nd->g[c];
        nd->H += nd->h[c];
        nd->count += (double)nd->rows[c];
    }
}

static double score(double G, double H, double lambda)
{
    return G * G / (H + lambda);
}

static cl_split split_of(const node *nd, int with_count)
{
    cl_split_params p = {.lambda = 1, .ug = ldexp(1, -UNIT), .uh = ldexp(1, -UNIT)};
    p.count = with_count ? nd->count : 0;
    cl_split s;
    cl_split_none(&s);
    cl_split_feature(&s, nd->hist, nd->nc, 1, 0, llrint(ldexp(nd->G, UNIT)),
                     llrint(ldexp(nd->H, UNIT)), &p);
    return s;
}

/* The rules and the gain of a reported partition, from the node's own numbers. */
static void check_split(const node *nd, const cl_split *s)
{
    if (s->gain <= 0)
        return;
    assert_true(s->is_cat);
    double gl = 0, hl = 0, rows = 0;
    int size = 0;
    for (int c = 0; c < nd->nc; c++)
        if (cl_split_cat_has(s->cats, c)) {
            assert_true(nd->rows[c] >= CL_SPLIT_CAT_SMOOTH);
            gl += nd->g[c];
            hl += nd->h[c];
            rows += (double)nd->rows[c];
            size++;
        }
    assert_true(size <= CL_SPLIT_CAT_MAX_THRESHOLD);
    assert_true(rows >= CL_SPLIT_CAT_MIN_DATA_PER_GROUP);
    assert_true(nd->count - rows >= CL_SPLIT_CAT_MIN_DATA_PER_GROUP);
    if (s->default_left) {
        gl += nd->g[nd->nc];
        hl += nd->h[nd->nc];
    }
    const double l2 = 1 + CL_SPLIT_CAT_L2;
    double want = score(gl, hl, l2) + score(nd->G - gl, nd->H - hl, l2) - score(nd->G, nd->H, 1);
    assert_true(fabs(s->gain - want) <= 1e-12 * fabs(want));
}

static double best_subset(const node *nd)
{
    const double l2 = 1 + CL_SPLIT_CAT_L2;
    double best = 0, parent = score(nd->G, nd->H, 1);
    for (unsigned mask = 1; mask + 1 < (1u << nd->nc); mask++)
        for (int dl = 0; dl < 2; dl++) {
            double gl = dl ? nd->g[nd->nc] : 0, hl = dl ? nd->h[nd->nc] : 0;
            for (int c = 0; c < nd->nc; c++)
                if (mask >> c & 1) {
                    gl += nd->g[c];
                    hl += nd->h[c];
                }
            double gain = score(gl, hl, l2) + score(nd->G - gl, nd->H - hl, l2) - parent;
            best = gain > best ? gain : best;
        }
    return best;
}

static void test_rules_hold(void **state)
{
    (void)state;
    cl_rng r;
    cl_rng_seed(&r, 21);
    int split = 0;
    for (int trial = 0; trial < 600; trial++) {
        node nd;
        nd.nc = trial % 3 == 0 ? 2 + (int)cl_rng_below(&r, 9) : 2 + (int)cl_rng_below(&r, 200);
        for (int c = 0; c <= nd.nc; c++) {
            /* a few tiny categories with strong signal: the rules must keep them out */
            int tiny = cl_rng_uniform(&r) < 0.15;
            nd.rows[c] = tiny ? 1 + (int64_t)cl_rng_below(&r, 9)
                              : 5 + (int64_t)cl_rng_below(&r, 400);
            if (c == nd.nc && cl_rng_below(&r, 2))
                nd.rows[c] = 0; /* no missing values */
            double mean = tiny ? (cl_rng_below(&r, 2) ? 0.45 : -0.45) : (cl_rng_uniform(&r) - 0.5) * 0.3;
            nd.g[c] = (double)nd.rows[c] * mean;
        }
        node_fix(&nd);
        cl_split s = split_of(&nd, 1);
        check_split(&nd, &s);
        split += s.gain > 0;
        if (nd.nc <= 10)
            assert_true(s.gain <= best_subset(&nd) * (1 + 1e-12));
    }
    assert_true(split > 300); /* the checks ran on real splits */
}

static void test_tiny_category_kept_out(void **state)
{
    (void)state;
    node nd = {.nc = 8};
    for (int c = 0; c < 8; c++) {
        nd.rows[c] = 300;
        nd.g[c] = 300 * (c % 2 ? 0.02 : -0.02);
    }
    nd.rows[3] = 4; /* 4 rows, all of the same, extreme gradient */
    nd.g[3] = 4 * 0.5;
    nd.rows[8] = 0;
    nd.g[8] = 0;
    node_fix(&nd);
    cl_split off = split_of(&nd, 0), on = split_of(&nd, 1);
    assert_true(off.gain > 0 && on.gain > 0);
    assert_true(cl_split_cat_has(off.cats, 3) || !cl_split_cat_has(off.cats, 1));
    assert_false(cl_split_cat_has(on.cats, 3)); /* too few rows to order: stays right */
    check_split(&nd, &on);
}

static void test_many_levels_capped(void **state)
{
    (void)state;
    node nd = {.nc = 120};
    for (int c = 0; c < 120; c++) { /* a smooth trend: unrestricted, the best cut is mid-way */
        nd.rows[c] = 200;
        nd.g[c] = 200 * (c - 59.5) / 400.0;
    }
    nd.rows[120] = 0;
    nd.g[120] = 0;
    node_fix(&nd);
    cl_split off = split_of(&nd, 0), on = split_of(&nd, 1);
    int noff = 0, non = 0;
    for (int c = 0; c < 120; c++) {
        noff += cl_split_cat_has(off.cats, c);
        non += cl_split_cat_has(on.cats, c);
    }
    assert_int_equal(non, CL_SPLIT_CAT_MAX_THRESHOLD);
    assert_int_equal(noff, CL_SPLIT_CAT_MAX_THRESHOLD); /* the cap needs no row count */
    /* the uncapped best, categories 0..59 left, scores higher: the cap did bite */
    double gl = 0, hl = 0, l2 = 1 + CL_SPLIT_CAT_L2;
    for (int c = 0; c < 60; c++) {
        gl += nd.g[c];
        hl += nd.h[c];
    }
    double mid = score(gl, hl, l2) + score(nd.G - gl, nd.H - hl, l2) - score(nd.G, nd.H, 1);
    assert_true(on.gain > 0 && on.gain < mid);
    check_split(&nd, &on);
}

/* Two categories of 300 rows whose mean gradients differ a little: the partition beats the
 * node when both are scored with the extra L2, not when the node keeps the model's L2. */
static void test_parent_at_model_l2(void **state)
{
    (void)state;
    node nd = {.nc = 2};
    nd.rows[0] = nd.rows[1] = 300;
    nd.g[0] = 300 * 0.1;
    nd.g[1] = 300 * 0.05;
    nd.rows[2] = 0;
    nd.g[2] = 0;
    node_fix(&nd);
    const double l2 = 1 + CL_SPLIT_CAT_L2;
    double children = score(nd.g[0], nd.h[0], l2) + score(nd.g[1], nd.h[1], l2);
    assert_true(children - score(nd.G, nd.H, l2) > 0); /* the case tells the two apart */
    assert_true(children - score(nd.G, nd.H, 1) < 0);
    for (int with_count = 0; with_count < 2; with_count++) {
        cl_split s = split_of(&nd, with_count);
        assert_true(s.gain <= 0);
    }
    /* twice the difference: now the partition pays for its shrinkage, and is taken */
    nd.g[1] = 300 * 0.0;
    node_fix(&nd);
    children = score(nd.g[0], nd.h[0], l2) + score(nd.g[1], nd.h[1], l2);
    assert_true(children - score(nd.G, nd.H, 1) > 0);
    cl_split s = split_of(&nd, 1);
    assert_true(s.gain > 0);
    check_split(&nd, &s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rules_hold),
        cmocka_unit_test(test_tiny_category_kept_out),
        cmocka_unit_test(test_many_levels_capped),
        cmocka_unit_test(test_parent_at_model_l2),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
