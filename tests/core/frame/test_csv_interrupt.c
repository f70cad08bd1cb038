/* test_csv_interrupt.c - Ctrl-C during CSV loading: the reader polls the interrupt flag after
 * every block of input, in both passes, and stops with CL_EINTR, no frame and nothing leaked;
 * progress is reported for big inputs only. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "churnlab.h"

/* rows lines "i,plan_k,i/4\n"; with `text_last` the first column's last value is text, so
 * the reader needs a second pass for that column's labels. */
static char *make_csv(long rows, int text_last, size_t *len)
{
    size_t cap = (size_t)rows * 40 + 64, n = 0;
    char *s = malloc(cap);
    assert_non_null(s);
    n += (size_t)snprintf(s + n, cap - n, "id,plan,x\n");
    for (long i = 0; i < rows; i++) {
        if (text_last && i == rows - 1)
            n += (size_t)snprintf(s + n, cap - n, "last,plan_%ld,%g\n", i % 5, i / 4.0);
        else
            n += (size_t)snprintf(s + n, cap - n, "%ld,plan_%ld,%g\n", i, i % 5, i / 4.0);
    }
    *len = n;
    return s;
}

typedef struct {
    int calls;
    int interrupt_at_end; /* 0: interrupt at the first report; 1: at the last one of pass 1 */
    double last_done, total;
} probe;

static int on_progress(void *ud, const char *task, double done, double total, const char *detail)
{
    (void)detail;
    probe *p = ud;
    assert_string_equal(task, "read_csv");
    p->calls++;
    p->last_done = done;
    p->total = total;
    if (!p->interrupt_at_end || done >= total)
        cl_progress_interrupt(); /* what the SIGINT handler does */
    return 0;
}

static int read_with(const char *buf, size_t len, probe *p, cl_frame **f)
{
    cl_progress prog = {on_progress, p};
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    o.progress = &prog;
    return cl_csvio_read_buffer(f, buf, len, "big.csv", &o, NULL);
}

static void test_interrupt_pass1(void **state)
{
    (void)state;
    size_t len;
    char *buf = make_csv(600000, 0, &len); /* ~14 MB: several 1 MiB blocks, with a bar */
    assert_true(len > ((size_t)8 << 20));
    size_t base = cl_alloc_bytes();
    probe p = {0, 0, 0, 0};
    cl_frame *f = (cl_frame *)1;
    int rc = read_with(buf, len, &p, &f);
    assert_int_equal(rc, CL_EINTR);
    assert_string_equal(cl_error_last(), "read_csv: interrupted");
    assert_null(f);
    assert_int_equal(p.calls, 1); /* stopped at the first block, not at the end */
    assert_true(p.last_done < p.total);
    assert_int_equal(cl_alloc_bytes(), base);
    cl_progress_interrupt_clear();
    /* the flag cleared, the same read runs to the end */
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    assert_int_equal(cl_csvio_read_buffer(&f, buf, len, "big.csv", &o, NULL), CL_OK);
    assert_int_equal(f->nrow, 600000);
    cl_frame_free(f);
    free(buf);
}

static void test_interrupt_pass2(void **state)
{
    (void)state;
    size_t len;
    char *buf = make_csv(600000, 1, &len);
    size_t base = cl_alloc_bytes();
    probe p = {0, 1, 0, 0};
    cl_frame *f;
    /* the flag is set during the last report of pass 1: pass 2 (the labels of 'id') sees it */
    assert_int_equal(read_with(buf, len, &p, &f), CL_EINTR);
    assert_true(p.calls > 1);
    assert_true(p.last_done >= p.total);
    assert_null(f);
    assert_int_equal(cl_alloc_bytes(), base);
    cl_progress_interrupt_clear();
    free(buf);
}

static void test_small_input(void **state)
{
    (void)state;
    size_t len;
    char *buf = make_csv(1000, 0, &len);
    probe p = {0, 0, 0, 0};
    cl_frame *f;
    /* no progress reports below 8 MiB (no bar flashing up for a small file) ... */
    assert_int_equal(read_with(buf, len, &p, &f), CL_OK);
    assert_int_equal(p.calls, 0);
    assert_int_equal(f->nrow, 1000);
    cl_frame_free(f);
    /* ... but the interrupt flag is still polled */
    cl_progress_interrupt();
    assert_int_equal(read_with(buf, len, &p, &f), CL_EINTR);
    assert_null(f);
    cl_progress_interrupt_clear();
    free(buf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_interrupt_pass1),
        cmocka_unit_test(test_interrupt_pass2),
        cmocka_unit_test(test_small_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
