/* ratings.h - the ratings matrix the recommender tests (test_cf.c, test_grow.c) fit on.
 * Header-only (static inline): a test includes it as "core/lib/ratings.h" after cmocka.h and
 * churnlab.h. */
#ifndef CL_TESTS_RATINGS_H
#define CL_TESTS_RATINGS_H

#include <stdio.h>

/* nu x ni matrix, each user with ~density of the items, integer ratings 1..5; every user and
 * item has at least one entry. */
static inline cl_interactions *make_matrix(int nu, int ni, double density, uint64_t seed)
{
    cl_idmap *um, *im;
    assert_int_equal(cl_interactions_idmap_new(&um), CL_OK);
    assert_int_equal(cl_interactions_idmap_new(&im), CL_OK);
    for (int k = 0; k < (nu > ni ? nu : ni); k++) {
        char b[16];
        int64_t idx;
        snprintf(b, sizeof b, "%d", k + 1);
        if (k < nu)
            assert_int_equal(cl_interactions_idmap_add(um, b, &idx), CL_OK);
        if (k < ni)
            assert_int_equal(cl_interactions_idmap_add(im, b, &idx), CL_OK);
    }
    int64_t cap = (int64_t)nu * ni, n = 0;
    int64_t *u = cl_alloc((size_t)cap * sizeof *u), *it = cl_alloc((size_t)cap * sizeof *it);
    float *v = cl_alloc((size_t)cap * sizeof *v);
    cl_rng g;
    cl_rng_seed(&g, seed);
    for (int a = 0; a < nu; a++)
        for (int b = 0; b < ni; b++)
            if (cl_rng_uniform(&g) < density || b == a % ni || a == b % nu) {
                u[n] = a, it[n] = b, v[n] = (float)(1 + cl_rng_below(&g, 5));
                n++;
            }
    cl_interactions *m;
    assert_int_equal(cl_interactions_build(&m, um, im, n, u, it, v, NULL, CL_DUP_SUM), CL_OK);
    cl_alloc_free(u), cl_alloc_free(it), cl_alloc_free(v);
    cl_interactions_idmap_free(um), cl_interactions_idmap_free(im);
    return m;
}

#endif
