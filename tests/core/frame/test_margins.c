/* test_margins.c - crosstab margins and value shares (issue 13) against the plain crosstab
 * and value counts they extend: the All row and column are the sums of the counts, shares
 * are counts over the non-missing total; every allocation failure is clean. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "churnlab.h"

static const char *const G[] = {"b", "a", "c"};

/* n rows: g cat (3 labels, every 7th missing), h num (4 levels) */
static cl_frame *make(int64_t n)
{
    cl_column *g, *h;
    assert_int_equal(cl_frame_column_new_cat(&g, n, NULL), CL_OK);
    assert_int_equal(cl_frame_column_new_num(&h, CL_NUM, n), CL_OK);
    for (int64_t i = 0; i < n; i++) {
        if (i % 7 == 3) {
            g->codes[i] = -1;
        } else {
            const char *s = G[(i * 5 + i / 3) % 3];
            assert_int_equal(cl_frame_dict_intern(g->dict, s, strlen(s), &g->codes[i]), CL_OK);
        }
        h->num[i] = (double)((i * 3) % 4);
    }
    cl_frame *f;
    assert_int_equal(cl_frame_new(&f), CL_OK);
    assert_int_equal(cl_frame_set(f, "g", g), CL_OK);
    assert_int_equal(cl_frame_set(f, "h", h), CL_OK);
    cl_frame_column_free(g);
    cl_frame_column_free(h);
    return f;
}

static void test_margins_are_sums(void **state)
{
    (void)state;
    cl_frame *f = make(200), *ct, *m;
    assert_int_equal(cl_frame_group_crosstab(&ct, f, "g", "h", 0), CL_OK);
    assert_int_equal(cl_frame_group_crosstab_margins(&m, f, "g", "h", 0), CL_OK);
    assert_int_equal(m->nrow, ct->nrow + 1);
    assert_int_equal(m->ncol, ct->ncol + 1);
    assert_string_equal(m->names[m->ncol - 1], "All");
    assert_string_equal(cl_frame_column_label(m->cols[0], m->nrow - 1), "All");
    double total = 0;
    for (int64_t r = 0; r < ct->nrow; r++) {
        assert_string_equal(cl_frame_column_label(m->cols[0], r), cl_frame_column_label(ct->cols[0], r));
        double s = 0;
        for (int j = 1; j < ct->ncol; j++) {
            assert_true(m->cols[j]->num[r] == ct->cols[j]->num[r]);
            s += ct->cols[j]->num[r];
        }
        assert_true(m->cols[m->ncol - 1]->num[r] == s);
        total += s;
    }
    for (int j = 1; j < ct->ncol; j++) {
        double s = 0;
        for (int64_t r = 0; r < ct->nrow; r++)
            s += ct->cols[j]->num[r];
        assert_true(m->cols[j]->num[m->nrow - 1] == s);
    }
    assert_true(m->cols[m->ncol - 1]->num[m->nrow - 1] == total);
    int64_t present = 0;
    for (int64_t i = 0; i < f->nrow; i++)
        present += f->cols[0]->codes[i] >= 0;
    assert_true(total == (double)present);
    cl_frame_free(m);
    /* row shares: the All row is b's overall share and there is no All column */
    assert_int_equal(cl_frame_group_crosstab_margins(&m, f, "g", "h", 1), CL_OK);
    assert_int_equal(m->ncol, ct->ncol);
    for (int j = 1; j < ct->ncol; j++) {
        double s = 0;
        for (int64_t r = 0; r < ct->nrow; r++)
            s += ct->cols[j]->num[r];
        assert_true(fabs(m->cols[j]->num[m->nrow - 1] - s / total) < 1e-15);
    }
    cl_frame_free(m);
    /* column shares: the All column is a's overall share and there is no All row */
    assert_int_equal(cl_frame_group_crosstab_margins(&m, f, "g", "h", 2), CL_OK);
    assert_int_equal(m->nrow, ct->nrow);
    for (int64_t r = 0; r < ct->nrow; r++) {
        double s = 0;
        for (int j = 1; j < ct->ncol; j++)
            s += ct->cols[j]->num[r];
        assert_true(fabs(m->cols[m->ncol - 1]->num[r] - s / total) < 1e-15);
    }
    cl_frame_free(m);
    /* a num key column becomes labels */
    assert_int_equal(cl_frame_group_crosstab_margins(&m, f, "h", "g", 0), CL_OK);
    assert_int_equal(m->cols[0]->type, CL_CAT);
    assert_string_equal(cl_frame_column_label(m->cols[0], 0), "0");
    assert_string_equal(cl_frame_column_label(m->cols[0], m->nrow - 1), "All");
    cl_frame_free(m);
    cl_frame_free(ct);
    cl_frame_free(f);
}

static void test_value_shares(void **state)
{
    (void)state;
    cl_frame *f = make(200), *vc, *vs;
    assert_int_equal(cl_col_value_counts(&vc, f->cols[0], "g"), CL_OK);
    assert_int_equal(cl_col_value_shares(&vs, f->cols[0], "g"), CL_OK);
    assert_int_equal(vs->nrow, vc->nrow);
    assert_string_equal(vs->names[1], "share");
    double total = 0, sum = 0;
    for (int64_t r = 0; r < vc->nrow; r++)
        total += vc->cols[1]->num[r];
    for (int64_t r = 0; r < vs->nrow; r++) {
        assert_string_equal(cl_frame_column_label(vs->cols[0], r), cl_frame_column_label(vc->cols[0], r));
        assert_true(vs->cols[1]->num[r] == vc->cols[1]->num[r] / total);
        sum += vs->cols[1]->num[r];
    }
    assert_true(fabs(sum - 1) < 1e-12);
    cl_frame_free(vc);
    cl_frame_free(vs);
    cl_frame_free(f);
}

static void test_alloc_failures(void **state)
{
    (void)state;
    cl_frame *f = make(60);
    size_t base = cl_alloc_bytes();
    for (int which = 0; which < 2; which++) {
        int ok = 0;
        for (int k = 1; k < 400 && !ok; k++) {
            cl_frame *out = NULL;
            cl_alloc_fail_at(k);
            int rc = which ? cl_col_value_shares(&out, f->cols[0], "g")
                           : cl_frame_group_crosstab_margins(&out, f, "g", "h", 0);
            cl_alloc_fail_at(0);
            if (rc == CL_OK) {
                ok = 1;
                cl_frame_free(out);
            } else {
                assert_int_equal(rc, CL_ENOMEM);
                assert_null(out);
            }
            assert_int_equal(cl_alloc_bytes(), base);
        }
        assert_true(ok);
    }
    cl_frame_free(f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_margins_are_sums),
        cmocka_unit_test(test_value_shares),
        cmocka_unit_test(test_alloc_failures),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
