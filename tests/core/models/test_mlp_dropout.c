/* test_mlp_dropout.c - dropout in the MLP (issue 20) against PyTorch, and where its mask is
 * used.
 *
 * The mask of a fit comes from churnlab's random stream, which no library has, so the
 * reference takes the mask as an input: scripts/ref/mlp_dropout_ref.py trains small nets for
 * 3 steps in torch (float64) from given initial weights with given keep masks (inverted
 * dropout, kept units scaled by 1 / (1 - p) as torch.nn.Dropout and Keras' Dropout) and writes
 * tests/data/mlp_dropout_ref.txt; cl_mlp_train_steps runs the fit's own batch step on the same
 * rows with the same masks. Then:
 * - the fit's masks: a fit of 3 batches equals cl_mlp_train_steps given the keep decisions
 *   drawn from the seed's dropout stream, bit for bit (same binary, same data), so the torch
 *   comparison covers what a fit does;
 * - prediction uses no mask: a dropout model predicts the very bits of a dropout-free model
 *   holding the same weights (and torch's evaluation-mode probabilities, in the reference),
 *   and the validation loss of a fit is the evaluation-mode loss;
 * - p = 0 is the no-dropout path: a fit with p = 2^-30 (kept with probability 1 - 2^-30,
 *   which rounds to 1.0f, so every unit is kept with the scale 1.0f) is bit for bit the fit
 *   with p = 0, and p = 0 needs no mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "churnlab.h"
#include "core/lib/refdata.h"

static ref_set R;

static int load(void **state)
{
    (void)state;
    return ref_load(&R, "tests/data/mlp_dropout_ref.txt");
}

static int unload(void **state)
{
    (void)state;
    ref_free(&R);
    return 0;
}

static const ref *get(const char *cas, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "%s.%s", cas, key);
    const ref *r = ref_find(&R, k);
    if (!r)
        fail_msg("no reference '%s'", k);
    return r;
}

static float *floats(const ref *r)
{
    float *v = malloc(sizeof(float) * (size_t)(r->n ? r->n : 1));
    for (int i = 0; i < r->n; i++)
        v[i] = (float)r->v[i];
    return v;
}

enum { CFG_ACT, CFG_BN, CFG_OPT, CFG_LR, CFG_P, CFG_MOM, CFG_WD, CFG_B, CFG_STEPS, CFG_D,
       CFG_BETA1, CFG_BETA2, CFG_EPS };

/* The case's network with the reference's initial weights. */
static cl_mlp *case_model(const char *cas)
{
    const double *c = get(cas, "cfg")->v;
    const ref *hid = get(cas, "hidden"), *w0 = get(cas, "w0");
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    p.hidden.n = hid->n;
    for (int i = 0; i < hid->n; i++)
        p.hidden.v[i] = (int)hid->v[i];
    p.activation = (int)c[CFG_ACT];
    p.batch_norm = (int)c[CFG_BN];
    p.optimizer = (int)c[CFG_OPT];
    p.lr = c[CFG_LR];
    p.dropout = c[CFG_P];
    p.momentum = c[CFG_MOM];
    p.weight_decay = c[CFG_WD];
    p.beta1 = c[CFG_BETA1];
    p.beta2 = c[CFG_BETA2];
    p.eps = c[CFG_EPS];
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &p), CL_OK);
    assert_int_equal(cl_mlp_init_weights(m, (int64_t)c[CFG_D]), CL_OK);
    assert_int_equal(cl_mlp_nparams(m), w0->n);
    float *th = cl_mlp_params_vector(m);
    for (int i = 0; i < w0->n; i++)
        th[i] = (float)w0->v[i];
    return m;
}

static double max_abs(const double *v, int n)
{
    double s = 0;
    for (int i = 0; i < n; i++)
        s = fmax(s, fabs(v[i]));
    return s;
}

/* Tolerances, from the arithmetic. churnlab runs every product and activation in float32
 * (unit roundoff u = 2^-24 = 6.0e-8; losses and batch-norm statistics are summed in double);
 * torch runs in float64, exact by comparison. A gradient entry is a sum over B = 8 rows of
 * products that went through at most 3 layers forward and 3 back, each a dot product of at
 * most 8 terms (float32 error <= 8u of the sum of |terms|, Higham's gamma_n), so its absolute
 * error is below 6 x 8 x 2 u x gmax ~ 100 u gmax (gmax: the largest |gradient| of the steps,
 * at most 0.39 here).
 * - SGD moves a weight by lr x (gradient + momentum history): over 3 steps with momentum 0.9
 *   the gradients count 1 + 1.9 + 2.71 = 5.6 times, so the weight's error is below
 *   5.6 lr x 100 u gmax, plus 3 roundings of the weight itself (3 u |w|).
 * - Adam moves weight i by lr m/sqrt(v), whose error is lr x the relative error of its
 *   gradients, 100 u gmax / gscale_i (gscale_i: the largest |gradient| of weight i over the
 *   steps, from the reference; a weight whose gradient is always exactly 0, a dropped or dead
 *   unit, is 0 on both sides and keeps only its rounding): 3 lr 100 u gmax / gscale_i + 3 u |w|.
 * - A probability moves with the weights: sum_i |d prob / d w_i| x tol_i (the reference
 *   writes the largest |d prob / d w_i| over the rows) plus a forward pass's own 100 u; a
 *   step's loss likewise by gmax x sum_i tol_i + 100 u (its gradient is at most gmax).
 * What the test must catch is much bigger: another scale than 1 / (1 - p), or a mask missing
 * in backward, changes every step by 25-100% of its size (weights move by 0.03-0.09 here). */
#define U 5.9604644775390625e-8
static double weight_tol(const char *cas, int i, double w)
{
    const double *c = get(cas, "cfg")->v;
    const ref *gm = get(cas, "gmax");
    double gmax = max_abs(gm->v, gm->n), lr = c[CFG_LR], steps = c[CFG_STEPS];
    double gerr = 100 * U * gmax, round = steps * U * fabs(w);
    if ((int)c[CFG_OPT] == CL_OPT_SGD)
        return 5.6 * lr * gerr + round;
    double gs = get(cas, "gscale")->v[i];
    return gs > 0 ? steps * lr * gerr / gs + round : round;
}

static const char *const CASES[] = {"relu_sgd", "tanh_adam", "gelu_adamw", "bn_relu_sgd",
                                    "relu_p0_adam"};

/* One case: cl_mlp_train_steps with the reference's masks against torch's losses, weights
 * and evaluation-mode probabilities. */
static void check_case(const char *cas)
{
    const double *c = get(cas, "cfg")->v;
    const int64_t B = (int64_t)c[CFG_B], d = (int64_t)c[CFG_D];
    const int steps = (int)c[CFG_STEPS];
    cl_mlp *m = case_model(cas);
    float *X = floats(get(cas, "X")), *y = floats(get(cas, "y"));
    const ref *keep = get(cas, "keep");
    float *k = floats(keep);
    double loss[8];
    assert_int_equal(cl_mlp_train_steps(m, X, y, B, steps, keep->n ? k : NULL, loss), CL_OK);
    const ref *wr = get(cas, "w"), *lr = get(cas, "loss"), *pr = get(cas, "prob");
    const float *th = cl_mlp_params_vector(m);
    const ref *dp = get(cas, "dprob"), *gm = get(cas, "gmax");
    double worst = 0, wtol_sum = 0, ptol = 100 * U, wtol_max = 0;
    for (int i = 0; i < wr->n; i++) {
        double e = fabs(th[i] - wr->v[i]), tol = weight_tol(cas, i, wr->v[i]);
        if (e > tol)
            fail_msg("%s: weight %d is %.9g, torch %.9g (tolerance %.3g)", cas, i, th[i],
                     wr->v[i], tol);
        worst = fmax(worst, e);
        wtol_max = fmax(wtol_max, tol);
        wtol_sum += tol;
        ptol += dp->v[i] * tol;
    }
    double ltol = max_abs(gm->v, gm->n) * wtol_sum + 100 * U, lworst = 0, pworst = 0;
    for (int s = 0; s < steps; s++) {
        if (fabs(loss[s] - lr->v[s]) > ltol)
            fail_msg("%s: step %d loss %.12g, torch %.12g (tolerance %.3g)", cas, s + 1,
                     loss[s], lr->v[s], ltol);
        lworst = fmax(lworst, fabs(loss[s] - lr->v[s]));
    }
    float *prob = malloc(sizeof(float) * (size_t)pr->n);
    assert_int_equal(cl_mlp_predict(m, X, pr->n, d, prob), CL_OK);
    for (int i = 0; i < pr->n; i++) {
        if (fabs(prob[i] - pr->v[i]) > ptol)
            fail_msg("%s: row %d probability %.9g, torch %.9g (tolerance %.3g)", cas, i + 1,
                     prob[i], pr->v[i], ptol);
        pworst = fmax(pworst, fabs(prob[i] - pr->v[i]));
    }
    print_message("%-13s |w - torch| %.1e (tol <= %.1e), loss %.1e (tol %.1e), prob %.1e "
                  "(tol %.1e)\n", cas, worst, wtol_max, lworst, ltol, pworst, ptol);
    free(prob);
    free(X);
    free(y);
    free(k);
    cl_mlp_free(m);
}

static void test_torch_reference(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof CASES / sizeof *CASES; i++)
        check_case(CASES[i]);
}

/* The comparison can fail: the reference's masks with the scale of another p (4/3 instead of
 * 2, as a dropout that forgot to rescale or rescaled by p would be off) land far outside the
 * tolerance. */
static void test_reference_detects_wrong_scale(void **state)
{
    (void)state;
    const char *cas = "relu_sgd";
    const double *c = get(cas, "cfg")->v;
    cl_mlp *m = case_model(cas);
    cl_mlp_params p = *cl_mlp_params_of(m);
    p.dropout = 0.25; /* scale 4/3 instead of 2 */
    cl_mlp *m2;
    assert_int_equal(cl_mlp_new(&m2, &p), CL_OK);
    assert_int_equal(cl_mlp_init_weights(m2, (int64_t)c[CFG_D]), CL_OK);
    memcpy(cl_mlp_params_vector(m2), cl_mlp_params_vector(m),
           sizeof(float) * (size_t)cl_mlp_nparams(m));
    float *X = floats(get(cas, "X")), *y = floats(get(cas, "y")), *k = floats(get(cas, "keep"));
    assert_int_equal(cl_mlp_train_steps(m2, X, y, (int64_t)c[CFG_B], (int)c[CFG_STEPS], k, NULL),
                     CL_OK);
    const ref *wr = get(cas, "w");
    double worst = 0, tol = 0;
    for (int i = 0; i < wr->n; i++) {
        worst = fmax(worst, fabs(cl_mlp_params_vector(m2)[i] - wr->v[i]));
        tol = fmax(tol, weight_tol(cas, i, wr->v[i]));
    }
    print_message("wrong scale: max |w - torch| %.3g, tolerance %.3g\n", worst, tol);
    assert_true(worst > 100 * tol);
    free(X);
    free(y);
    free(k);
    cl_mlp_free(m);
    cl_mlp_free(m2);
}

/* ---- the fit's own masks ----------------------------------------------------------------- */

enum { N = 24, D = 4, BATCH = 8 };

static void fill(float *X, float *y)
{
    cl_rng r;
    cl_rng_seed(&r, 5);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int j = 0; j < D; j++) {
            X[i * D + j] = (float)(2 * cl_rng_uniform(&r) - 1);
            s += (j % 2 ? 1.5 : -1) * X[i * D + j];
        }
        y[i] = (float)(s + 0.3 * cl_rng_normal(&r) > 0);
    }
}

static cl_mlp_params small_params(int act, int bn, int opt, double p)
{
    cl_mlp_params q;
    cl_mlp_params_default(&q);
    q.hidden.n = 2;
    q.hidden.v[0] = 6;
    q.hidden.v[1] = 5;
    q.activation = act;
    q.batch_norm = bn;
    q.optimizer = opt;
    q.lr = 0.05;
    q.dropout = p;
    q.batch = BATCH;
    q.epochs = 1;
    q.seed = 11;
    return q;
}

/* The fit of one epoch over N rows in batches of BATCH, and cl_mlp_train_steps from the same
 * initial weights on the rows in the fit's shuffled order with the keep decisions drawn from
 * the seed's dropout stream (stream 1; 0 shuffles: mlp.c's trainer) in the fit's order (step,
 * hidden layer, row, unit): the same weights and predictions, bit for bit. */
static void check_fit_masks(int act, int bn, int opt, double p)
{
    float X[N * D], y[N], Xs[N * D], ys[N];
    fill(X, y);
    cl_mlp_params q = small_params(act, bn, opt, p);
    cl_mlp *fit, *steps;
    assert_int_equal(cl_mlp_new(&fit, &q), CL_OK);
    assert_int_equal(cl_mlp_fit(fit, X, y, N, D, NULL, NULL, NULL), CL_OK);
    assert_int_equal(cl_mlp_new(&steps, &q), CL_OK);
    assert_int_equal(cl_mlp_init_weights(steps, D), CL_OK);
    uint32_t idx[N];
    for (uint32_t i = 0; i < N; i++)
        idx[i] = i;
    cl_rng r;
    cl_rng_split(&r, q.seed, 0);
    cl_rng_shuffle(&r, idx, N);
    for (int i = 0; i < N; i++) {
        memcpy(Xs + i * D, X + idx[i] * D, sizeof(float) * D);
        ys[i] = y[idx[i]];
    }
    enum { PER_STEP = BATCH * (6 + 5) };
    float keep[N / BATCH * PER_STEP];
    int kept = 0;
    cl_rng_split(&r, q.seed, 1);
    for (int i = 0; i < N / BATCH * PER_STEP; i++) {
        keep[i] = cl_rng_uniform(&r) < (float)(1.0 - p);
        kept += keep[i] != 0;
    }
    assert_int_equal(cl_mlp_train_steps(steps, Xs, ys, BATCH, N / BATCH, p > 0 ? keep : NULL,
                                        NULL),
                     CL_OK);
    assert_memory_equal(cl_mlp_params_vector(fit), cl_mlp_params_vector(steps),
                        sizeof(float) * (size_t)cl_mlp_nparams(fit));
    float pf[N], ps[N];
    assert_int_equal(cl_mlp_predict(fit, X, N, D, pf), CL_OK);
    assert_int_equal(cl_mlp_predict(steps, X, N, D, ps), CL_OK);
    assert_memory_equal(pf, ps, sizeof pf);
    if (p >= 0.1) /* the stream keeps about 1 - p of 264 units (4 sd: 0.12 at p = 0.5) */
        assert_true(fabs((double)kept / (N / BATCH * PER_STEP) - (1 - p)) < 0.13);
    cl_mlp_free(fit);
    cl_mlp_free(steps);
}

static void test_fit_masks_are_the_stream(void **state)
{
    (void)state;
    check_fit_masks(CL_ACT_RELU, 0, CL_OPT_ADAM, 0.5);
    check_fit_masks(CL_ACT_TANH, 1, CL_OPT_SGD, 0.3);
    check_fit_masks(CL_ACT_GELU, 0, CL_OPT_ADAMW, 0.2);
    check_fit_masks(CL_ACT_RELU, 0, CL_OPT_ADAM, 0.0);
}

/* ---- prediction uses no mask ------------------------------------------------------------- */

static void test_predict_has_no_dropout(void **state)
{
    (void)state;
    float X[N * D], y[N];
    fill(X, y);
    for (int act = CL_ACT_RELU; act <= CL_ACT_GELU; act++) {
        cl_mlp_params q = small_params(act, 0, CL_OPT_ADAM, 0.5);
        q.epochs = 3;
        cl_mlp *a, *b;
        assert_int_equal(cl_mlp_new(&a, &q), CL_OK);
        assert_int_equal(cl_mlp_fit(a, X, y, N, D, NULL, NULL, NULL), CL_OK);
        q.dropout = 0; /* the same net without dropout, fitted, then given a's weights */
        assert_int_equal(cl_mlp_new(&b, &q), CL_OK);
        assert_int_equal(cl_mlp_fit(b, X, y, N, D, NULL, NULL, NULL), CL_OK);
        memcpy(cl_mlp_params_vector(b), cl_mlp_params_vector(a),
               sizeof(float) * (size_t)cl_mlp_nparams(a));
        float pa[N], pa2[N], pb[N], za[N], zb[N];
        assert_int_equal(cl_mlp_predict(a, X, N, D, pa), CL_OK);
        assert_int_equal(cl_mlp_predict(a, X, N, D, pa2), CL_OK);
        assert_int_equal(cl_mlp_predict(b, X, N, D, pb), CL_OK);
        assert_int_equal(cl_mlp_decision(a, X, N, D, za), CL_OK);
        assert_int_equal(cl_mlp_decision(b, X, N, D, zb), CL_OK);
        assert_memory_equal(pa, pb, sizeof pa);
        assert_memory_equal(pa, pa2, sizeof pa);
        assert_memory_equal(za, zb, sizeof za);
        cl_mlp_free(a);
        cl_mlp_free(b);
    }
}

/* The validation loss a fit reports (what early stopping watches) is the evaluation-mode
 * loss: after one epoch it equals the mean cross-entropy of the model's own logits on the
 * validation rows (the same weights, the same float32 logits, summed in double in the same
 * order; 1e-12 allows for nothing but the last bit), where a masked pass would be off by
 * ~0.1 at p = 0.5. */
static void test_validation_loss_has_no_dropout(void **state)
{
    (void)state;
    float X[N * D], y[N];
    fill(X, y);
    cl_mlp_params q = small_params(CL_ACT_TANH, 0, CL_OPT_ADAM, 0.5);
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &q), CL_OK);
    cl_mlp_fit_opts o = {X, y, N, 0, NULL};
    cl_mlp_history h;
    assert_int_equal(cl_mlp_fit(m, X, y, N, D, &o, &h, NULL), CL_OK);
    assert_int_equal(h.best_epoch, 1);
    float z[N];
    assert_int_equal(cl_mlp_decision(m, X, N, D, z), CL_OK);
    double loss = 0;
    for (int i = 0; i < N; i++)
        loss += fmax(z[i], 0.0) - (double)z[i] * y[i] + log1p(exp(-fabs((double)z[i])));
    loss /= N;
    print_message("validation loss %.17g, from the logits %.17g\n", h.val_loss[0], loss);
    assert_true(fabs(loss - h.val_loss[0]) <= 1e-12);
    cl_mlp_history_free(&h);
    cl_mlp_free(m);
}

/* ---- p = 0 ---------------------------------------------------------------------------- */

/* With p = 2^-30 the dropout code runs (masks drawn, forward multiplied, backward through the
 * mask, the activation recovered as a / mask for tanh) but every factor is exactly 1.0f, so it
 * must give the bits of p = 0, where no mask exists. */
static void test_p0_is_the_plain_path(void **state)
{
    (void)state;
    float X[N * D], y[N];
    fill(X, y);
    assert_true((float)(1.0 - ldexp(1.0, -30)) == 1.0f);
    for (int act = CL_ACT_RELU; act <= CL_ACT_GELU; act++)
        for (int bn = 0; bn <= 1; bn++) {
            float w[2][128];
            int64_t np = 0;
            for (int k = 0; k < 2; k++) {
                cl_mlp_params q = small_params(act, bn, CL_OPT_ADAM, k ? ldexp(1.0, -30) : 0);
                q.epochs = 3;
                cl_mlp *m;
                assert_int_equal(cl_mlp_new(&m, &q), CL_OK);
                assert_int_equal(cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL), CL_OK);
                np = cl_mlp_nparams(m);
                assert_true(np <= 128);
                memcpy(w[k], cl_mlp_params_vector(m), sizeof(float) * (size_t)np);
                cl_mlp_free(m);
            }
            assert_memory_equal(w[0], w[1], sizeof(float) * (size_t)np);
        }
}

/* ---- the hook's own errors -------------------------------------------------------------- */

static void test_train_steps_errors(void **state)
{
    (void)state;
    float X[N * D], y[N];
    fill(X, y);
    cl_mlp_params q = small_params(CL_ACT_RELU, 0, CL_OPT_ADAM, 0.5);
    cl_mlp *m;
    assert_int_equal(cl_mlp_new(&m, &q), CL_OK);
    assert_int_equal(cl_mlp_train_steps(m, X, y, BATCH, 1, NULL, NULL), CL_ESTATE);
    assert_int_equal(cl_mlp_init_weights(m, D), CL_OK);
    assert_int_equal(cl_mlp_train_steps(m, X, y, BATCH, 1, NULL, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "keep masks"));
    assert_int_equal(cl_mlp_train_steps(m, X, y, 0, 1, NULL, NULL), CL_EINVAL);
    y[3] = 0.5f;
    float keep[BATCH * 11] = {0};
    assert_int_equal(cl_mlp_train_steps(m, X, y, BATCH, 1, keep, NULL), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "row 4"));
    assert_int_equal(cl_mlp_fitted(m), 0);
    y[3] = 1;
    size_t before = cl_alloc_bytes();
    for (long k = 1; k < 12; k++) { /* every allocation failing in turn: no leak, no crash */
        cl_alloc_fail_at(k);
        int rc = cl_mlp_train_steps(m, X, y, BATCH, 1, keep, NULL);
        cl_alloc_fail_at(0);
        assert_true(rc == CL_OK || rc == CL_ENOMEM);
    }
    assert_int_equal(cl_alloc_bytes(), before);
    cl_mlp_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_torch_reference),
        cmocka_unit_test(test_reference_detects_wrong_scale),
        cmocka_unit_test(test_fit_masks_are_the_stream),
        cmocka_unit_test(test_predict_has_no_dropout),
        cmocka_unit_test(test_validation_loss_has_no_dropout),
        cmocka_unit_test(test_p0_is_the_plain_path),
        cmocka_unit_test(test_train_steps_errors),
    };
    return cmocka_run_group_tests(tests, load, unload);
}
