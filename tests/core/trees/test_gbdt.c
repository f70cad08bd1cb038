/* test_gbdt.c - gradient boosting: accuracy on a known signal, determinism across thread
 * counts and runs, save/load bit-identity, early stopping, interruption, bad input. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "churnlab.h"
#include "core/lib/trees_fixture.h"

/* y = 1 when 2 x0 - x1 + (x2 category in {1,3}) + noise > 0; x3 has 20% missing values that
 * carry signal (missing -> more positives). */
static float label(const float *row, int miss, cl_rng *r, int64_t i, void *ctx)
{
    (void)i, (void)ctx;
    double z = 2 * row[0] - row[1] + ((int)row[2] == 1 || (int)row[2] == 3 ? 1.5 : -0.5) +
               (miss ? 1.0 : 0.3 * row[3]) + 0.5 * cl_rng_normal(r);
    return z > 0 ? 1.0f : 0.0f;
}

static void make_data(cl_tensor **X, cl_tensor **y, int64_t n, int d, uint64_t seed)
{
    tree_data(X, y, n, d, seed, &(tree_data_spec){2, 5, 3, 0.2, label, NULL});
}

static double auc_of(const cl_gbdt *m, const cl_tensor *X, const cl_tensor *y)
{
    int64_t n = cl_tensor_rows(X);
    float *p = cl_alloc((size_t)n * sizeof *p);
    assert_int_equal(cl_gbdt_predict(m, p, X, 0), CL_OK);
    double a;
    assert_int_equal(cl_metrics_roc_auc(&a, cl_tensor_data(y), p, n), CL_OK);
    cl_alloc_free(p);
    return a;
}

static void test_learns_signal(void **state)
{
    (void)state;
    cl_tensor *X, *y, *Xt, *yt;
    make_data(&X, &y, 4000, 6, 1);
    make_data(&Xt, &yt, 2000, 6, 2);
    uint8_t is_cat[6] = {0, 0, 1, 0, 0, 0};
    for (int leafwise = 0; leafwise < 2; leafwise++) {
        cl_gbdt_params p = cl_gbdt_params_default();
        p.trees = 80;
        if (leafwise) {
            p.leaves = 15;
            p.depth = 0;
        }
        cl_gbdt *m;
        assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
        cl_gbdt_fit_opts o = {.is_cat = is_cat};
        assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
        assert_int_equal(m->ntrees, 80);
        double a = auc_of(m, Xt, yt);
        assert_true(a > 0.93);
        /* categorical split used on feature 2 */
        int has_cat = 0;
        for (int t = 0; t < m->ntrees; t++)
            for (int i = 0; i < m->trees[t]->n; i++)
                has_cat |= m->trees[t]->nodes[i].is_cat;
        assert_true(has_cat);
        cl_gbdt_free(m);
    }
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_tensor_free(Xt);
    cl_tensor_free(yt);
}

static void fit_bytes(int threads, cl_gbdt_params *p, void **buf, size_t *len)
{
    cl_tensor *X, *y;
    make_data(&X, &y, 30000, 8, 7);
    assert_int_equal(cl_threads_set(threads), CL_OK);
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, p), CL_OK);
    uint8_t is_cat[8] = {0, 0, 1, 0, 0, 0, 0, 0};
    cl_gbdt_fit_opts o = {.is_cat = is_cat};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    gbdt_bytes(m, buf, len);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_threads_set(0);
}

static void test_deterministic_threads(void **state)
{
    (void)state;
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 15;
    p.subsample = 0.8;
    p.colsample = 0.7;
    void *b1, *b2, *b3;
    size_t l1, l2, l3;
    fit_bytes(1, &p, &b1, &l1);
    fit_bytes(2, &p, &b2, &l2);
    fit_bytes(2, &p, &b3, &l3);
    assert_int_equal(l1, l2);
    assert_memory_equal(b1, b2, l1);
    assert_int_equal(l2, l3);
    assert_memory_equal(b2, b3, l2);
    cl_alloc_free(b3);
    p.seed = 43; /* another seed gives another model */
    fit_bytes(2, &p, &b3, &l3);
    assert_true(l3 != l1 || memcmp(b1, b3, l1) != 0);
    cl_alloc_free(b1);
    cl_alloc_free(b2);
    cl_alloc_free(b3);
}

/* The model bytes of a fit on n rows of make_data at `threads`, grown level by level (the
 * default where it serves) or node by node (cl_tree_grow_force_node_wise). */
static void *fit_bytes_grow(int threads, int node_wise, const cl_gbdt_params *p, int64_t n,
                            const float *w, size_t *len)
{
    cl_tensor *X, *y;
    make_data(&X, &y, n, 8, 11);
    assert_int_equal(cl_threads_set(threads), CL_OK);
    cl_tree_grow_force_node_wise(node_wise);
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, p), CL_OK);
    uint8_t is_cat[8] = {0, 0, 1, 0, 0, 0, 0, 0};
    cl_gbdt_fit_opts o = {.is_cat = is_cat, .w = w};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    cl_tree_grow_force_node_wise(0);
    cl_mw *mw = cl_modelio_w_new("gbdt");
    assert_int_equal(cl_gbdt_write(m, mw), CL_OK);
    const void *b;
    assert_int_equal(cl_modelio_w_finish(mw, &b, len), CL_OK);
    void *buf = cl_alloc(*len);
    memcpy(buf, b, *len);
    cl_modelio_w_free(mw);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    return buf;
}

/* Level-wise growth (tree_grow.c: the nodes of a depth split together, parallel over all of
 * them) gives the node-by-node grower's model bit for bit (integer histograms, the same stable
 * partition and node order), at 1, 2 and 3 threads, with the settings that reach it: numeric
 * and categorical splits, missing values, sampling, monotone and interaction constraints,
 * regularisation, sample weights, the squared error, a deeper tree. 70,000 rows make the
 * root's partition and histogram parallel (tree_grow.c: LVL_PAR, LVL_PAR_HIST). Leaf-wise
 * growth (case 7) takes the node-wise path either way. */
static void test_level_wise_matches_node_wise(void **state)
{
    (void)state;
    const int64_t n = 70000;
    float *w = cl_alloc((size_t)n * sizeof *w);
    for (int64_t i = 0; i < n; i++)
        w[i] = (float)(0.5 + (double)(i % 7) / 4);
    for (int c = 0; c < 8; c++) {
        cl_gbdt_params p = cl_gbdt_params_default();
        p.trees = 6;
        const float *wc = NULL;
        switch (c) {
        case 1:
            p.subsample = 0.7;
            p.colsample = 0.6;
            break;
        case 2:
            p.monotone.n = 8;
            p.monotone.v[0] = 1;
            p.monotone.v[1] = -1;
            break;
        case 3: /* sets {x0, x1}, {x1, x2, x3}; the rest in none */
            p.interactions.n = 8;
            p.interactions.v[0] = 1;
            p.interactions.v[1] = 3;
            p.interactions.v[2] = 2;
            p.interactions.v[3] = 2;
            break;
        case 4:
            p.lambda = 5;
            p.alpha = 0.5;
            p.gamma = 0.2;
            p.min_child_weight = 30;
            break;
        case 5:
            wc = w;
            p.scale_pos_weight = 2;
            break;
        case 6:
            p.objective = CL_GBDT_SQUARED;
            p.depth = 9;
            break;
        case 7:
            p.leaves = 24;
            break;
        default:
            break;
        }
        size_t lref, l;
        void *ref = fit_bytes_grow(1, 1, &p, n, wc, &lref);
        for (int th = 1; th <= 3; th++) {
            void *got = fit_bytes_grow(th, 0, &p, n, wc, &l);
            assert_int_equal(l, lref);
            assert_memory_equal(got, ref, l);
            cl_alloc_free(got);
        }
        cl_alloc_free(ref);
    }
    cl_alloc_free(w);
    cl_threads_set(0);
}

static void test_save_load(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    make_data(&X, &y, 3000, 5, 3);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 20;
    cl_gbdt *m, *m2;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    assert_int_equal(cl_gbdt_fit(m, X, y, NULL, NULL), CL_OK);
    char path[] = "/tmp/cl_test_gbdt_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cl_gbdt_save(m, path), CL_OK);
    assert_int_equal(cl_gbdt_load(&m2, path), CL_OK);
    unlink(path);
    float *a = cl_alloc(3000 * sizeof *a), *b = cl_alloc(3000 * sizeof *b);
    assert_int_equal(cl_gbdt_predict(m, a, X, 1), CL_OK);
    assert_int_equal(cl_gbdt_predict(m2, b, X, 1), CL_OK);
    assert_memory_equal(a, b, 3000 * sizeof *a);
    /* single-row path equals the batched path */
    cl_tensor *row;
    assert_int_equal(cl_tensor_rows_range(&row, X, 17, 18), CL_OK);
    float one;
    assert_int_equal(cl_gbdt_predict(m2, &one, row, 1), CL_OK);
    assert_true(one == a[17]);
    cl_tensor_free(row);
    cl_alloc_free(a);
    cl_alloc_free(b);
    cl_gbdt_free(m);
    cl_gbdt_free(m2);
    cl_tensor_free(X);
    cl_tensor_free(y);
}

/* The model's margins, all rows in one call and every row alone, equal the reference scorer
 * (cl_tree_ens_predict, tree.c) on the model's current trees bit for bit: the scoring pack the
 * model owns holds exactly those trees (a pack left from before a refit, a warm start, a
 * truncation or an interruption would score other trees). Same binary, same per-row tree
 * order in double on both sides, so equality is exact by construction. */
static void check_pack_margins(const cl_gbdt *m, const cl_tensor *X)
{
    assert_non_null(m->pack);
    const int64_t n = cl_tensor_rows(X);
    const int d = (int)cl_tensor_cols(X);
    float *want = cl_alloc((size_t)n * sizeof *want), *got = cl_alloc((size_t)n * sizeof *got);
    assert_true(want && got);
    cl_tree_ens_predict((const cl_tree *const *)m->trees, m->ntrees, cl_tensor_data(X),
                        (size_t)n, d, m->base, 1.0, want);
    assert_int_equal(cl_gbdt_predict(m, got, X, CL_PREDICT_MARGIN), CL_OK);
    assert_memory_equal(want, got, (size_t)n * sizeof *got);
    for (int64_t i = 0; i < n; i++) {
        cl_tensor *row;
        assert_int_equal(cl_tensor_rows_range(&row, X, i, i + 1), CL_OK);
        assert_int_equal(cl_gbdt_predict(m, got + i, row, CL_PREDICT_MARGIN), CL_OK);
        cl_tensor_free(row);
    }
    assert_memory_equal(want, got, (size_t)n * sizeof *got);
    cl_alloc_free(want);
    cl_alloc_free(got);
}

static int stop_after(void *ud, const char *task, double done, double total, const char *detail);

static void test_pack_follows_trees(void **state)
{
    (void)state;
    cl_tensor *X, *y, *Xv, *yv;
    make_data(&X, &y, 600, 5, 11);
    make_data(&Xv, &yv, 300, 5, 12);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 20;
    p.depth = 12; /* deeper than CL_PREDICT_DENSE_DEPTH where the data allows: mixed walks */
    p.min_child_weight = 0;
    cl_gbdt *m, *m2;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    assert_null(m->pack);
    uint8_t is_cat[5] = {0, 0, 1, 0, 0}; /* categorical splits on x2 */
    cl_gbdt_fit_opts o = {.is_cat = is_cat};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    check_pack_margins(m, X);
    assert_int_equal(cl_gbdt_fit_more(m, X, y, 5, &o, NULL), CL_OK); /* warm start: 25 trees */
    assert_int_equal(m->ntrees, 25);
    check_pack_margins(m, X);
    char path[] = "/tmp/cl_test_gbdt_pack_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(cl_gbdt_save(m, path), CL_OK);
    assert_int_equal(cl_gbdt_load(&m2, path), CL_OK);
    unlink(path);
    check_pack_margins(m2, X);
    cl_gbdt_free(m2);
    double when = 7; /* an interrupted refit keeps (and packs) its first 7 trees */
    cl_progress pr = {stop_after, &when};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, &pr), CL_EINTR);
    assert_int_equal(m->ntrees, 7);
    check_pack_margins(m, X);
    p.trees = 300; /* early stopping truncates after the best round */
    p.lr = 0.5;
    cl_gbdt_free(m);
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    cl_gbdt_fit_opts oe = {.Xv = Xv, .yv = yv, .early_stop = 5, .is_cat = is_cat};
    assert_int_equal(cl_gbdt_fit(m, X, y, &oe, NULL), CL_OK);
    assert_true(m->ntrees < 300);
    check_pack_margins(m, X);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_tensor_free(Xv);
    cl_tensor_free(yv);
}

static void test_early_stopping(void **state)
{
    (void)state;
    cl_tensor *X, *y, *Xv, *yv;
    make_data(&X, &y, 2000, 5, 4);
    make_data(&Xv, &yv, 1000, 5, 5);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 2000;
    p.lr = 0.3;
    p.depth = 8;
    p.min_child_weight = 0;
    p.lambda = 0;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    cl_gbdt_fit_opts o = {.Xv = Xv, .yv = yv, .early_stop = 10};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_OK);
    assert_true(m->ntrees < 2000);
    assert_int_equal(m->ntrees, m->best_iter + 1);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_tensor_free(Xv);
    cl_tensor_free(yv);
}

static int stop_after(void *ud, const char *task, double done, double total, const char *detail)
{
    (void)task;
    (void)total;
    (void)detail;
    return done >= *(double *)ud;
}

static void test_interrupt_keeps_partial_model(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    make_data(&X, &y, 1000, 4, 6);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 50;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    double when = 7;
    cl_progress pr = {stop_after, &when};
    assert_int_equal(cl_gbdt_fit(m, X, y, NULL, &pr), CL_EINTR);
    assert_int_equal(m->ntrees, 7);
    float out[1000];
    assert_int_equal(cl_gbdt_predict(m, out, X, 0), CL_OK);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
}

static void test_bad_input(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    make_data(&X, &y, 100, 4, 8);
    cl_gbdt_params p = cl_gbdt_params_default();
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    float out[100];
    assert_int_equal(cl_gbdt_predict(m, out, X, 0), CL_ESTATE);
    cl_tensor_data(y)[5] = 2;
    assert_int_equal(cl_gbdt_fit(m, X, y, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "label 6"));
    cl_tensor_data(y)[5] = 1;
    uint8_t is_cat[4] = {1, 0, 0, 0};
    cl_gbdt_fit_opts o = {.is_cat = is_cat};
    assert_int_equal(cl_gbdt_fit(m, X, y, &o, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "categorical"));
    p.depth = 0;
    cl_gbdt *m2;
    assert_int_equal(cl_gbdt_new(&m2, &p), CL_EINVAL);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
}

/* A model file whose tree arrays are inconsistent is refused with a message, never used. */
static void test_corrupted_trees_refused(void **state)
{
    (void)state;
    cl_tensor *X, *y;
    make_data(&X, &y, 500, 4, 9);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = 3;
    cl_gbdt *m;
    assert_int_equal(cl_gbdt_new(&m, &p), CL_OK);
    assert_int_equal(cl_gbdt_fit(m, X, y, NULL, NULL), CL_OK);
    for (int bug = 0; bug < 4; bug++) {
        cl_tnode saved = m->trees[1]->nodes[0];
        if (bug == 0)
            m->trees[1]->nodes[0].left = 0; /* a cycle */
        else if (bug == 1)
            m->trees[1]->nodes[0].feature = 4; /* feature out of range */
        else if (bug == 2)
            m->trees[1]->nodes[0].left = m->trees[1]->n - 1; /* right child past the end */
        else
            m->trees[1]->nodes[0].left = INT32_MAX; /* left + 1 overflowed the old check */
        gbdt_refused(m, "bad.clm", "tree 2, node 1");
        m->trees[1]->nodes[0] = saved;
    }
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learns_signal),
        cmocka_unit_test(test_deterministic_threads),
        cmocka_unit_test(test_level_wise_matches_node_wise),
        cmocka_unit_test(test_save_load),
        cmocka_unit_test(test_early_stopping),
        cmocka_unit_test(test_interrupt_keeps_partial_model),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_corrupted_trees_refused),
        cmocka_unit_test(test_pack_follows_trees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
