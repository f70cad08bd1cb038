/* test_bpr.c - one BPR step against the gradient of its objective by finite differences. */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"

#define F 2
/* theta = p[F], qx[F], qy[F], bx, by: the objective of the triple (user, x positive, y
 * negative): ln sigmoid(p.(qx - qy) + bx - by) - reg/2 |theta|^2 */
static double objective(const double *t, double reg)
{
    const double *p = t, *qx = t + F, *qy = t + 2 * F;
    double x = t[3 * F] - t[3 * F + 1], sq = 0;
    for (int k = 0; k < F; k++)
        x += p[k] * (qx[k] - qy[k]);
    for (int k = 0; k < 3 * F + 2; k++)
        sq += t[k] * t[k];
    return -log1p(exp(-x)) - reg / 2 * sq;
}

/* One user with item x, item y unseen: one epoch = one step on (user, x, y). The initial
 * factors are drawn here from the same seeded stream (users first, then items, as bpr_fit
 * documents by its order); the step must be theta + lr * gradient (every part from the old
 * values), the gradient taken by central differences (error ~1e-10, far below float32's
 * 1e-7 of the C step; tolerance 1e-5). A sign error in any part moves a score by ~0.1. */
static void one_step_is_gradient_ascent(void **state)
{
    (void)state;
    cl_idmap *um, *im;
    int64_t idx;
    assert_int_equal(cl_interactions_idmap_new(&um), CL_OK);
    assert_int_equal(cl_interactions_idmap_new(&im), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(um, "a", &idx), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(im, "x", &idx), CL_OK);
    assert_int_equal(cl_interactions_idmap_add(im, "y", &idx), CL_OK);
    int64_t u[1] = {0}, i[1] = {0};
    cl_interactions *m;
    assert_int_equal(cl_interactions_build(&m, um, im, 1, u, i, NULL, NULL, CL_DUP_SUM), CL_OK);
    const double lr = 0.3, reg = 0.05, init = 0.5;
    for (int bias = 0; bias <= 1; bias++) {
        cl_rec *r;
        assert_int_equal(cl_rec_new(&r, CL_REC_BPR), CL_OK);
        const char *names[] = {"factors", "epochs", "lr", "reg", "init_std", "seed", "item_bias"};
        double vals[] = {F, 1, lr, reg, init, 9, bias};
        for (int k = 0; k < 7; k++)
            assert_int_equal(cl_param_set_num(r->ops->defs, r->params, "bpr", names[k], vals[k]),
                             CL_OK);
        assert_int_equal(cl_rec_fit(r, m, NULL), CL_OK);
        double t[3 * F + 2] = {0};
        cl_rng g;
        cl_rng_seed(&g, 9);
        for (int k = 0; k < 3 * F; k++) /* X (1 x F), then Y (2 x F) */
            t[k] = (double)(float)(init * cl_rng_normal(&g));
        double grad[3 * F + 2];
        for (int k = 0; k < 3 * F + 2; k++) {
            double a[3 * F + 2], b[3 * F + 2], h = 1e-6;
            memcpy(a, t, sizeof a), memcpy(b, t, sizeof b);
            a[k] += h, b[k] -= h;
            grad[k] = (objective(a, reg) - objective(b, reg)) / (2 * h);
        }
        for (int k = 0; k < 3 * F + 2; k++)
            if (bias || k < 3 * F) /* without item_bias the biases stay 0 */
                t[k] += lr * grad[k];
        double sx = t[3 * F], sy = t[3 * F + 1];
        for (int k = 0; k < F; k++)
            sx += t[k] * t[F + k], sy += t[k] * t[2 * F + k];
        float s[2];
        assert_int_equal(cl_rec_scores(r, 0, s), CL_OK);
        if (!(fabs(s[0] - sx) <= 1e-5 && fabs(s[1] - sy) <= 1e-5))
            fail_msg("item_bias %d: scores %g %g, gradient step gives %g %g", bias, s[0], s[1],
                     sx, sy);
        cl_rec_free(r);
    }
    cl_interactions_free(m);
    cl_interactions_idmap_free(um), cl_interactions_idmap_free(im);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(one_step_is_gradient_ascent)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
