/* test_interactions.c - id maps, CSR/CSC construction, duplicates, splits. */
#include <setjmp.h>
#include <stdarg.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"

static cl_idmap *labels(int n, const char *prefix)
{
    cl_idmap *m;
    assert_int_equal(cl_interactions_idmap_new(&m), CL_OK);
    for (int k = 0; k < n; k++) {
        char buf[32];
        int64_t idx;
        snprintf(buf, sizeof buf, "%s%d", prefix, k);
        assert_int_equal(cl_interactions_idmap_add(m, buf, &idx), CL_OK);
        assert_int_equal(idx, k);
    }
    return m;
}

static void idmap_roundtrip(void **state)
{
    (void)state;
    cl_idmap *m;
    assert_int_equal(cl_interactions_idmap_new(&m), CL_OK);
    int64_t idx;
    /* many labels force several rehashes */
    for (int k = 0; k < 5000; k++) {
        char buf[32];
        snprintf(buf, sizeof buf, "%d", k * 7 - 300);
        assert_int_equal(cl_interactions_idmap_add(m, buf, &idx), CL_OK);
        assert_int_equal(idx, k);
    }
    assert_int_equal(m->numeric, 1);
    assert_int_equal(cl_interactions_idmap_find(m, "-300"), 0);
    assert_int_equal(cl_interactions_idmap_find(m, "1"), 43);
    assert_int_equal(cl_interactions_idmap_find(m, "5"), -1);
    assert_int_equal(cl_interactions_idmap_add(m, "1", &idx), CL_OK);
    assert_int_equal(idx, 43);
    assert_int_equal(m->n, 5000);
    assert_int_equal(cl_interactions_idmap_add(m, "007", &idx), CL_OK); /* not canonical */
    assert_int_equal(m->numeric, 0);
    cl_interactions_idmap_free(m);
}

/* Dense reference of a build: sum or last per cell. */
static void build_vs_dense(cl_dup_mode dup)
{
    enum { NU = 7, NI = 9, N = 60 };
    cl_rng g;
    cl_rng_seed(&g, 5);
    int64_t u[N], it[N];
    float v[N];
    double t[N];
    double dense[NU][NI] = {{0}}, tlast[NU][NI];
    int present[NU][NI] = {{0}};
    for (int k = 0; k < N; k++) {
        u[k] = (int64_t)cl_rng_below(&g, NU);
        it[k] = (int64_t)cl_rng_below(&g, NI);
        v[k] = (float)(1 + cl_rng_below(&g, 5));
        t[k] = (double)cl_rng_below(&g, 4); /* ties in time on purpose */
        int a = (int)u[k], b = (int)it[k];
        if (dup == CL_DUP_SUM) {
            dense[a][b] += v[k];
        } else if (!present[a][b] || t[k] >= tlast[a][b]) {
            dense[a][b] = v[k];
        }
        if (!present[a][b] || t[k] >= tlast[a][b])
            tlast[a][b] = t[k];
        present[a][b] = 1;
    }
    cl_idmap *um = labels(NU, "u"), *im = labels(NI, "i");
    cl_interactions *m;
    assert_int_equal(cl_interactions_build(&m, um, im, N, u, it, v, t, dup), CL_OK);
    int64_t nnz = 0;
    for (int a = 0; a < NU; a++)
        for (int b = 0; b < NI; b++)
            nnz += present[a][b];
    assert_int_equal(m->nnz, nnz);
    assert_int_equal(m->duplicates, N - nnz);
    for (int a = 0; a < NU; a++) {
        for (int64_t k = m->indptr[a]; k < m->indptr[a + 1]; k++) {
            int b = m->indices[k];
            assert_true(present[a][b]);
            assert_float_equal(m->values[k], dense[a][b], 1e-5);
            assert_float_equal(m->times[k], tlast[a][b], 0);
            if (k > m->indptr[a])
                assert_true(m->indices[k] > m->indices[k - 1]);
            assert_true(cl_interactions_has(m, a, b));
        }
    }
    /* CSC agrees with CSR */
    for (int b = 0; b < NI; b++)
        for (int64_t k = m->cindptr[b]; k < m->cindptr[b + 1]; k++) {
            int a = m->cindices[k];
            assert_true(present[a][b]);
            assert_float_equal(m->cvalues[k], dense[a][b], 1e-5);
        }
    cl_interactions_free(m);
    cl_interactions_idmap_free(um);
    cl_interactions_idmap_free(im);
}

static void build_sum(void **state)
{
    (void)state;
    build_vs_dense(CL_DUP_SUM);
}

static void build_last(void **state)
{
    (void)state;
    build_vs_dense(CL_DUP_LAST);
}

static void build_errors(void **state)
{
    (void)state;
    cl_idmap *um = labels(2, "u"), *im = labels(2, "i");
    cl_interactions *m;
    int64_t u[2] = {0, 1}, it[2] = {0, 5};
    float v[2] = {1, NAN};
    assert_int_equal(cl_interactions_build(&m, um, im, 2, u, it, NULL, NULL, CL_DUP_SUM),
                     CL_ERANGE);
    assert_non_null(strstr(cl_error_last(), "entry 2"));
    it[1] = 1;
    assert_int_equal(cl_interactions_build(&m, um, im, 2, u, it, v, NULL, CL_DUP_SUM), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "finite"));
    cl_interactions_idmap_free(um);
    cl_interactions_idmap_free(im);
}

static cl_interactions *random_matrix(int nu, int ni, int per_user, uint64_t seed, int timed)
{
    cl_idmap *um = labels(nu, "u"), *im = labels(ni, "i");
    int64_t n = (int64_t)nu * per_user;
    int64_t *u = cl_alloc((size_t)n * sizeof *u), *it = cl_alloc((size_t)n * sizeof *it);
    double *t = cl_alloc((size_t)n * sizeof *t);
    cl_rng g;
    cl_rng_seed(&g, seed);
    for (int64_t k = 0; k < n; k++) {
        u[k] = k / per_user;
        it[k] = (int64_t)cl_rng_below(&g, (uint64_t)ni);
        t[k] = (double)k;
    }
    cl_interactions *m;
    assert_int_equal(cl_interactions_build(&m, um, im, n, u, it, NULL, timed ? t : NULL,
                                           CL_DUP_LAST),
                     CL_OK);
    cl_alloc_free(u), cl_alloc_free(it), cl_alloc_free(t);
    cl_interactions_idmap_free(um);
    cl_interactions_idmap_free(im);
    return m;
}

static void split_holdout(void **state)
{
    (void)state;
    cl_interactions *m = random_matrix(50, 40, 12, 3, 0), *tr, *te, *tr2, *te2;
    assert_int_equal(cl_interactions_split_holdout(&tr, &te, m, 0.25, 9), CL_OK);
    assert_int_equal(tr->nnz + te->nnz, m->nnz);
    assert_ptr_equal(tr->users, m->users);
    assert_ptr_equal(te->items, m->items);
    for (int64_t u = 0; u < m->n_users; u++) {
        int64_t n = cl_interactions_user_nnz(m, u), nt = cl_interactions_user_nnz(te, u);
        int64_t want = (int64_t)(0.25 * (double)n + 0.5);
        if (want > n - 1)
            want = n - 1;
        assert_int_equal(nt, want);
        assert_true(cl_interactions_user_nnz(tr, u) >= 1);
        /* disjoint, and together the user's row */
        for (int64_t k = te->indptr[u]; k < te->indptr[u + 1]; k++) {
            assert_false(cl_interactions_has(tr, u, te->indices[k]));
            assert_true(cl_interactions_has(m, u, te->indices[k]));
        }
    }
    /* same seed, same split; another seed, another split */
    assert_int_equal(cl_interactions_split_holdout(&tr2, &te2, m, 0.25, 9), CL_OK);
    assert_memory_equal(te->indices, te2->indices, (size_t)te->nnz * sizeof *te->indices);
    cl_interactions_free(tr2), cl_interactions_free(te2);
    assert_int_equal(cl_interactions_split_holdout(&tr2, &te2, m, 0.25, 10), CL_OK);
    assert_true(memcmp(te->indices, te2->indices, (size_t)te->nnz * sizeof *te->indices) != 0);
    cl_interactions_free(tr2), cl_interactions_free(te2);
    assert_int_equal(cl_interactions_split_holdout(&tr2, &te2, m, 1.5, 9), CL_EINVAL);
    cl_interactions_free(tr), cl_interactions_free(te), cl_interactions_free(m);
}

static void split_last(void **state)
{
    (void)state;
    cl_interactions *m = random_matrix(20, 30, 6, 4, 1), *tr, *te;
    assert_int_equal(cl_interactions_split_last(&tr, &te, m, 2), CL_OK);
    for (int64_t u = 0; u < m->n_users; u++) {
        int64_t n = cl_interactions_user_nnz(m, u);
        assert_int_equal(cl_interactions_user_nnz(te, u), n >= 3 ? 2 : n - 1);
        double tmax_train = -1, tmin_test = 1e300;
        for (int64_t k = tr->indptr[u]; k < tr->indptr[u + 1]; k++)
            tmax_train = tr->times[k] > tmax_train ? tr->times[k] : tmax_train;
        for (int64_t k = te->indptr[u]; k < te->indptr[u + 1]; k++)
            tmin_test = te->times[k] < tmin_test ? te->times[k] : tmin_test;
        assert_true(tmax_train < tmin_test);
    }
    cl_interactions_free(tr), cl_interactions_free(te);
    cl_interactions *nt = random_matrix(5, 5, 2, 4, 0);
    assert_int_equal(cl_interactions_split_last(&tr, &te, nt, 1), CL_EINVAL);
    assert_non_null(strstr(cl_error_last(), "times"));
    cl_interactions_free(nt);
    cl_interactions_free(m);
}

static void alloc_failures(void **state)
{
    (void)state;
    /* every allocation of a build + split fails in turn without leaking or crashing */
    size_t before = cl_alloc_bytes();
    for (long n = 1; n < 200; n++) {
        cl_idmap *um = NULL, *im = NULL;
        cl_interactions *m = NULL, *tr = NULL, *te = NULL;
        int64_t u[6] = {0, 0, 1, 1, 2, 2}, it[6] = {0, 1, 1, 2, 0, 2};
        cl_alloc_fail_at(n);
        int rc = cl_interactions_idmap_new(&um);
        if (rc == CL_OK)
            rc = cl_interactions_idmap_new(&im);
        for (int k = 0; rc == CL_OK && k < 3; k++) {
            int64_t idx;
            char b[16];
            snprintf(b, sizeof b, "%d", k);
            rc = cl_interactions_idmap_add(um, b, &idx);
            if (rc == CL_OK)
                rc = cl_interactions_idmap_add(im, b, &idx);
        }
        if (rc == CL_OK)
            rc = cl_interactions_build(&m, um, im, 6, u, it, NULL, NULL, CL_DUP_SUM);
        if (rc == CL_OK)
            rc = cl_interactions_split_holdout(&tr, &te, m, 0.5, 1);
        cl_alloc_fail_at(0);
        cl_interactions_free(tr), cl_interactions_free(te), cl_interactions_free(m);
        cl_interactions_idmap_free(um), cl_interactions_idmap_free(im);
        assert_int_equal(cl_alloc_bytes(), before);
        if (rc == CL_OK)
            break;
        assert_int_equal(rc, CL_ENOMEM);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idmap_roundtrip), cmocka_unit_test(build_sum),
        cmocka_unit_test(build_last),      cmocka_unit_test(build_errors),
        cmocka_unit_test(split_holdout),   cmocka_unit_test(split_last),
        cmocka_unit_test(alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
