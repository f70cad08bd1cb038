/* fileio.c - atomic writes, whole-file reads, CRC32. */
#include "base/fileio.h"
#include "base/alloc.h"
#include "base/error.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cl_file_read(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return cl_error(CL_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(fp), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(fp);
        return cl_error(CL_EIO, "'%s' is not a regular file", path);
    }
    if ((uint64_t)st.st_size > max_bytes) {
        fclose(fp);
        return cl_error(CL_ERANGE, "'%s' is %lld bytes, more than the limit of %zu", path,
                        (long long)st.st_size, max_bytes);
    }
    size_t n = (size_t)st.st_size;
    char *buf = cl_alloc(n + 1);
    if (!buf) {
        fclose(fp);
        return CL_ENOMEM;
    }
    size_t got = fread(buf, 1, n, fp);
    int err = ferror(fp);
    fclose(fp);
    if (got != n || err) {
        cl_free(buf);
        return cl_error(CL_EIO, "cannot read '%s'", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CL_OK;
}

int cl_file_mkdirs(const char *dir)
{
    size_t n = strlen(dir);
    char *p = cl_alloc(n + 1);
    if (!p)
        return CL_ENOMEM;
    memcpy(p, dir, n + 1);
    int rc = CL_OK;
    /* every prefix ending before a '/', then the whole path; an existing folder is fine */
    for (size_t i = 1; i <= n && rc == CL_OK; i++) {
        if (i < n && p[i] != '/')
            continue;
        if (i < n && p[i - 1] == '/')
            continue; /* "a//b" */
        char c = p[i];
        p[i] = '\0';
        struct stat st;
        if (mkdir(p, 0777) != 0 && errno != EEXIST)
            rc = cl_error(CL_EIO, "cannot create folder '%s': %s", p, strerror(errno));
        else if (stat(p, &st) != 0 || !S_ISDIR(st.st_mode))
            rc = cl_error(CL_EIO, "cannot create folder '%s': a file of that name exists", p);
        p[i] = c;
    }
    cl_free(p);
    return rc;
}

/* The folder part of path ("a/b" for "a/b/c.clm"), made if missing; nothing for "c.clm". */
static int mkdirs_for(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash || slash == path)
        return CL_OK;
    size_t n = (size_t)(slash - path);
    char *dir = cl_alloc(n + 1);
    if (!dir)
        return CL_ENOMEM;
    memcpy(dir, path, n);
    dir[n] = '\0';
    int rc = cl_file_mkdirs(dir);
    cl_free(dir);
    return rc;
}

static atomic_uint tmp_counter;

int cl_atomic_open(cl_atomic_file *a, const char *path)
{
    memset(a, 0, sizeof *a);
    int mrc = mkdirs_for(path);
    if (mrc)
        return mrc;
    size_t n = strlen(path) + 64;
    a->path = cl_strdup(path);
    a->tmp = cl_alloc(n);
    if (!a->path || !a->tmp) {
        cl_free(a->path);
        cl_free(a->tmp);
        a->path = a->tmp = NULL;
        return CL_ENOMEM;
    }
    snprintf(a->tmp, n, "%s.tmp.%ld.%u", path, (long)getpid(), atomic_fetch_add(&tmp_counter, 1));
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    if (fd < 0 || !(a->fp = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0)
            close(fd);
        int rc = cl_error(CL_EIO, "cannot write '%s': %s", path, strerror(e));
        cl_free(a->path);
        cl_free(a->tmp);
        a->path = a->tmp = NULL;
        return rc;
    }
    return CL_OK;
}

static void release(cl_atomic_file *a)
{
    cl_free(a->path);
    cl_free(a->tmp);
    a->path = a->tmp = NULL;
    a->fp = NULL;
}

void cl_atomic_abort(cl_atomic_file *a)
{
    if (a->fp)
        fclose(a->fp);
    if (a->tmp)
        unlink(a->tmp);
    release(a);
}

int cl_atomic_commit(cl_atomic_file *a)
{
    int bad = ferror(a->fp) || fflush(a->fp) != 0 || fsync(fileno(a->fp)) != 0;
    int e = errno;
    bad |= fclose(a->fp) != 0;
    a->fp = NULL;
    if (bad) {
        int rc = cl_error(CL_EIO, "cannot write '%s': %s", a->path, strerror(e ? e : EIO));
        unlink(a->tmp);
        release(a);
        return rc;
    }
    if (rename(a->tmp, a->path) != 0) {
        int rc = cl_error(CL_EIO, "cannot rename into '%s': %s", a->path, strerror(errno));
        unlink(a->tmp);
        release(a);
        return rc;
    }
    release(a);
    return CL_OK;
}

int cl_file_write_atomic(const char *path, const void *data, size_t len)
{
    cl_atomic_file a;
    int rc = cl_atomic_open(&a, path);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, a.fp) != len) {
        rc = cl_error(CL_EIO, "cannot write '%s': %s", path, strerror(errno));
        cl_atomic_abort(&a);
        return rc;
    }
    return cl_atomic_commit(&a);
}

static uint32_t crc_table[256];
static pthread_once_t crc_once = PTHREAD_ONCE_INIT;

static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
        crc_table[i] = c;
    }
}

uint32_t cl_crc32(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
