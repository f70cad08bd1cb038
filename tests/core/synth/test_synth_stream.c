/* test_synth_stream.c - the world streamed day by day from its snapshot: the same random
 * numbers as cl_synth_replay (cancel days equal the replay's churn days over the whole
 * horizon), identical text from two streams, the end of the world's days. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "synth/synth.h"

static void test_stream_is_replay(void **state)
{
    (void)state;
    cl_synth_params p;
    cl_synth_world_params_default(&p);
    p.customers = 300;
    p.titles = 200;
    p.seed = 3;
    cl_synth_world *w = NULL;
    assert_int_equal(cl_synth_new(&w, &p, NULL, NULL), CL_OK);
    const int H = CL_SYNTH_MAX_DAYS - p.days;
    cl_synth_outcome *out = calloc((size_t)p.customers, sizeof *out);
    assert_int_equal(cl_synth_replay(w, NULL, H, out, NULL), CL_OK);
    int *cancel = calloc((size_t)p.customers + 1, sizeof(int));
    for (int i = 0; i <= p.customers; i++)
        cancel[i] = -1;
    cl_synth_stream *a = NULL, *b = NULL;
    assert_int_equal(cl_synth_stream_new(&a, w), CL_OK);
    assert_int_equal(cl_synth_stream_new(&b, w), CL_OK);
    long lines = 0;
    for (int k = 0; k < H; k++) {
        int da, db;
        char *ea, *ra, *eb, *rb;
        size_t nea, nra, neb, nrb;
        assert_int_equal(cl_synth_stream_next(a, &da, &ea, &nea, &ra, &nra), CL_OK);
        assert_int_equal(cl_synth_stream_next(b, &db, &eb, &neb, &rb, &nrb), CL_OK);
        assert_int_equal(da, p.days + k);
        assert_int_equal(da, db);
        assert_int_equal(nea, neb);
        assert_memory_equal(ea, eb, nea);
        assert_int_equal(nra, nrb);
        assert_memory_equal(ra, rb, nra);
        assert_int_equal(strlen(ea), nea);
        for (char *l = strchr(ea, '\n') + 1; *l; l = strchr(l, '\n') + 1) {
            int id, day;
            char ev[32];
            assert_int_equal(sscanf(l, "%d,%d,%31[a-z_]", &id, &day, ev), 3);
            assert_int_equal(day, da);
            if (strcmp(ev, "cancel") == 0) {
                assert_int_equal(cancel[id], -1);
                cancel[id] = day;
            }
            lines++;
        }
        cl_alloc_free(ea);
        cl_alloc_free(ra);
        cl_alloc_free(eb);
        cl_alloc_free(rb);
    }
    assert_true(lines > 1000);
    for (int id = 1; id <= p.customers; id++) {
        assert_int_equal(cancel[id], out[id - 1].churn_day);
        if (cl_synth_label(w, id) == 1)
            assert_int_equal(cancel[id], cl_synth_churn_day(w, id));
    }
    int d;
    char *e, *r;
    size_t ne, nr;
    assert_int_equal(cl_synth_stream_next(a, &d, &e, &ne, &r, &nr), CL_ERANGE);
    assert_non_null(strstr(cl_error_last(), "the world ends at day"));
    assert_null(e);
    cl_synth_stream_free(a);
    cl_synth_stream_free(b);
    free(out);
    free(cancel);
    cl_synth_free(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_stream_is_replay)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
