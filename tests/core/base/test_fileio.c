/* test_fileio.c - file-level hardening of the readers and the atomic writer (issue 22):
 * non-regular files are refused before anything is read, a model file whose lengths do not
 * add up is refused before it is read into memory, saves write through symlinks and keep the
 * replaced file's permissions, and temporaries left by killed saves are swept by the next save
 * of the same file. (A FIFO, which blocked the reader for ever, is tested with a timeout in
 * tests/e2e/files.sh.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "churnlab.h"

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/cl_test_fileio_XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void at(char *buf, size_t cap, const char *name) { snprintf(buf, cap, "%s/%s", dir, name); }

static void slurp_eq(const char *path, const char *want)
{
    char *buf;
    size_t len;
    assert_int_equal(cl_fileio_read(path, 1 << 20, &buf, &len), CL_OK);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(buf, want, len);
    cl_alloc_free(buf);
}

static void test_not_regular(void **state)
{
    (void)state;
    char *buf;
    size_t len;
    assert_int_equal(cl_fileio_read(dir, 100, &buf, &len), CL_EIO);
    assert_non_null(strstr(cl_error_last(), "a directory"));
    assert_non_null(strstr(cl_error_last(), dir));
    cl_mr *r;
    assert_int_equal(cl_modelio_r_open(&r, dir), CL_EIO);
    assert_non_null(strstr(cl_error_last(), "not a regular file"));
    char kind[80];
    assert_int_equal(cl_modelio_r_peek_kind("/dev/null", kind, sizeof kind), CL_EIO);
    assert_non_null(strstr(cl_error_last(), "a character device"));
}

/* A valid model followed by 3 GB (sparse) of anything: refused from its chunk table, without
 * a 3 GB allocation (the peak of cl_alloc stays where it was). */
static void test_huge_file_refused_unread(void **state)
{
    (void)state;
    char path[300];
    at(path, sizeof path, "huge.clm");
    cl_mw *w = cl_modelio_w_new("logreg");
    assert_non_null(w);
    float v[4] = {1, 2, 3, 4};
    cl_modelio_w_f32(w, "coef", v, 4);
    assert_int_equal(cl_modelio_w_save(w, path), CL_OK);
    cl_modelio_w_free(w);
    cl_mr *r;
    assert_int_equal(cl_modelio_r_open(&r, path), CL_OK); /* the small file loads */
    cl_modelio_r_free(r);
    assert_int_equal(truncate(path, (off_t)3 << 30), 0);
    size_t peak = cl_alloc_peak(), now = cl_alloc_bytes();
    assert_int_equal(cl_modelio_r_open(&r, path), CL_EFORMAT);
    assert_non_null(strstr(cl_error_last(), "trailing bytes after the last chunk"));
    assert_non_null(strstr(cl_error_last(), path));
    assert_true(cl_alloc_peak() <= (peak > now + (1u << 20) ? peak : now + (1u << 20)));
    assert_int_equal(cl_alloc_bytes(), now);
    unlink(path);
}

static void test_symlink_written_through(void **state)
{
    (void)state;
    char target[300], link[300], dangling[300], fresh[300];
    at(target, sizeof target, "real.bin");
    at(link, sizeof link, "link.bin");
    at(dangling, sizeof dangling, "dangling.bin");
    at(fresh, sizeof fresh, "fresh.bin");
    assert_int_equal(cl_fileio_write_atomic(target, "old", 3), CL_OK);
    assert_int_equal(chmod(target, 0600), 0);
    assert_int_equal(symlink("real.bin", link), 0); /* relative, as ln -s makes them */
    assert_int_equal(cl_fileio_write_atomic(link, "new!", 4), CL_OK);
    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode)); /* still a link */
    assert_int_equal(stat(target, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* still private */
    slurp_eq(target, "new!");
    /* a dangling link: its target is created, the link stays */
    assert_int_equal(symlink("fresh.bin", dangling), 0);
    assert_int_equal(cl_fileio_write_atomic(dangling, "x", 1), CL_OK);
    assert_int_equal(lstat(dangling, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    slurp_eq(fresh, "x");
    /* a loop is an error naming the file, not a hang */
    char loop[300];
    at(loop, sizeof loop, "loop.bin");
    assert_int_equal(symlink("loop.bin", loop), 0);
    assert_int_equal(cl_fileio_write_atomic(loop, "x", 1), CL_EIO);
    assert_non_null(strstr(cl_error_last(), loop));
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fclose(f);
}

static int exists(const char *path) { return access(path, F_OK) == 0; }

static void test_stale_temps_swept(void **state)
{
    (void)state;
    pid_t dead = fork(); /* a pid that surely names no process once reaped */
    if (dead == 0)
        _exit(0);
    assert_true(dead > 0);
    waitpid(dead, NULL, 0);
    char target[300], stale[400], mine[400], other[400], unrelated[400];
    at(target, sizeof target, "model.clm");
    snprintf(stale, sizeof stale, "%s.tmp.%ld.3", target, (long)dead);
    snprintf(mine, sizeof mine, "%s.tmp.%ld.99", target, (long)getpid()); /* in progress */
    snprintf(other, sizeof other, "%s/other.clm.tmp.%ld.0", dir, (long)dead);
    snprintf(unrelated, sizeof unrelated, "%s.tmp.notes", target);
    touch(stale);
    touch(mine);
    touch(other);
    touch(unrelated);
    assert_int_equal(cl_fileio_write_atomic(target, "m", 1), CL_OK);
    assert_false(exists(stale)); /* a dead save's temp: gone */
    assert_true(exists(mine));   /* ours, maybe another thread's save */
    assert_true(exists(other));  /* another file's: left to its own next save */
    assert_true(exists(unrelated));
    slurp_eq(target, "m");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_not_regular),
        cmocka_unit_test(test_huge_file_refused_unread),
        cmocka_unit_test(test_symlink_written_through),
        cmocka_unit_test(test_stale_temps_swept),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
