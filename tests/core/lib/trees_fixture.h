/* trees_fixture.h - set-up the tree tests (tests/core/trees/) share: labelled data with a
 * categorical and a partly missing column, random split nodes for hand-grown trees, and a
 * gbdt's model-file bytes. Header-only (static inline): a test includes it as
 * "core/lib/trees_fixture.h" after cmocka.h and churnlab.h. Each helper keeps the order of
 * the random draws the tests had when they carried their own copy, so their data and trees
 * are the same bits. */
#ifndef CL_TESTS_TREES_FIXTURE_H
#define CL_TESTS_TREES_FIXTURE_H

#include <math.h>
#include <string.h>

/* A row's label from its features (`missing`: the missing column was drawn missing); it may
 * draw noise from r. i and ctx let a test record more per row (sample weights). */
typedef float (*tree_label_fn)(const float *row, int missing, cl_rng *r, int64_t i, void *ctx);

typedef struct tree_data_spec {
    int cat_col, ncat;   /* column cat_col holds a category code 0..ncat-1 */
    int miss_col;        /* column miss_col is NaN with probability miss */
    double miss;
    tree_label_fn label;
    void *ctx;
} tree_data_spec;

/* X (n x d) and y (n) from seed: per row d standard normals, the category code, the missing
 * coin, then the label's own draws. */
static inline void tree_data(cl_tensor **X, cl_tensor **y, int64_t n, int d, uint64_t seed,
                             const tree_data_spec *s)
{
    assert_int_equal(cl_tensor_new(X, 2, n, d), CL_OK);
    assert_int_equal(cl_tensor_new(y, 1, n, 1), CL_OK);
    cl_rng r;
    cl_rng_seed(&r, seed);
    float *x = cl_tensor_data(*X), *yy = cl_tensor_data(*y);
    for (int64_t i = 0; i < n; i++) {
        float *row = x + i * d;
        for (int j = 0; j < d; j++)
            row[j] = (float)cl_rng_normal(&r);
        row[s->cat_col] = (float)cl_rng_below(&r, (uint64_t)s->ncat);
        int miss = cl_rng_uniform(&r) < s->miss;
        if (miss)
            row[s->miss_col] = NAN;
        yy[i] = s->label(row, miss, &r, i, s->ctx);
    }
}

/* Node i of t becomes a split on a random one of d features with two new children (leaves
 * until grown further); returns the left child's index. Features below ncat_features split
 * on a random subset of ncat categories, the others at thr(r). Draws: the feature, the
 * default side, then the category bits or the threshold. */
static inline int random_split(cl_tree *t, int i, int d, int ncat_features, int ncat,
                               float (*thr)(cl_rng *), cl_rng *r)
{
    int f = (int)cl_rng_below(r, (uint64_t)d);
    int left = cl_tree_add(t, 0, 1, 1);
    assert_true(left >= 0);
    assert_int_equal(cl_tree_add(t, 0, 1, 1), left + 1);
    cl_tnode *nd = t->nodes + i; /* after the adds: the array may have moved */
    nd->feature = f;
    nd->left = left;
    nd->default_left = (uint8_t)cl_rng_below(r, 2);
    if (f < ncat_features) {
        uint32_t bits[CL_SPLIT_CAT_WORDS] = {0};
        for (int c = 0; c < ncat; c++)
            if (cl_rng_below(r, 2))
                bits[c / 32] |= 1u << (c % 32);
        int set = cl_tree_add_cats(t, bits);
        assert_true(set >= 0);
        nd = t->nodes + i;
        nd->is_cat = 1;
        nd->ncat = (uint8_t)ncat;
        nd->cat = set;
    } else {
        nd->thr = thr(r);
    }
    return left;
}

/* The model file of m, in a buffer the caller frees with cl_alloc_free. */
static inline void gbdt_bytes(const cl_gbdt *m, void **buf, size_t *len)
{
    cl_mw *w = cl_modelio_w_new("gbdt");
    assert_int_equal(cl_gbdt_write(m, w), CL_OK);
    const void *b;
    assert_int_equal(cl_modelio_w_finish(w, &b, len), CL_OK);
    *buf = cl_alloc(*len);
    memcpy(*buf, b, *len);
    cl_modelio_w_free(w);
}

/* m's model file, read back, is refused as CL_EFORMAT with a message containing want. */
static inline void gbdt_refused(const cl_gbdt *m, const char *name, const char *want)
{
    cl_mw *w = cl_modelio_w_new("gbdt");
    assert_int_equal(cl_gbdt_write(m, w), CL_OK);
    const void *buf;
    size_t len;
    assert_int_equal(cl_modelio_w_finish(w, &buf, &len), CL_OK);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_from_buffer(&r, buf, len, name), CL_OK);
    cl_gbdt *m2 = NULL;
    assert_int_equal(cl_gbdt_read(&m2, r), CL_EFORMAT);
    assert_null(m2);
    assert_non_null(strstr(cl_error_last(), want));
    cl_modelio_r_free(r);
    cl_modelio_w_free(w);
}

#endif
