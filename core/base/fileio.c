/* fileio.c - atomic writes, whole-file reads, CRC32. */
#include "base/fileio.h"
#include "base/alloc.h"
#include "base/error.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *file_kind(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device"
         : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a regular file";
}

int cl_fileio_open_read(const char *path, FILE **fp, uint64_t *size)
{
    *fp = NULL;
    if (size)
        *size = 0;
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer for ever; it
     * is dropped again once fstat has shown a regular file */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return cl_error(CL_EIO, "cannot open '%s': %s", path, strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int e = errno;
        close(fd);
        return cl_error(CL_EIO, "cannot open '%s': %s", path, strerror(e));
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return cl_error(CL_EIO, "cannot read '%s': it is %s, not a regular file", path,
                        file_kind(st.st_mode));
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl == -1 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == -1 || !(*fp = fdopen(fd, "rb"))) {
        int e = errno;
        close(fd);
        return cl_error(CL_EIO, "cannot open '%s': %s", path, strerror(e));
    }
    if (size)
        *size = (uint64_t)st.st_size;
    return CL_OK;
}

int cl_fileio_read(const char *path, size_t max_bytes, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    FILE *fp;
    uint64_t size;
    int rc = cl_fileio_open_read(path, &fp, &size);
    if (rc)
        return rc;
    if (size > max_bytes) {
        fclose(fp);
        return cl_error(CL_ERANGE, "'%s' is %llu bytes, more than the limit of %zu", path,
                        (unsigned long long)size, max_bytes);
    }
    size_t n = (size_t)size;
    char *buf = cl_alloc(n + 1);
    if (!buf) {
        fclose(fp);
        return CL_ENOMEM;
    }
    size_t got = fread(buf, 1, n, fp);
    int err = ferror(fp);
    fclose(fp);
    if (got != n || err) {
        cl_alloc_free(buf);
        return cl_error(CL_EIO, "cannot read '%s'", path);
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return CL_OK;
}

int cl_fileio_mkdirs(const char *dir)
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
    cl_alloc_free(p);
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
    int rc = cl_fileio_mkdirs(dir);
    cl_alloc_free(dir);
    return rc;
}

static atomic_uint tmp_counter;

/* The file a save to path replaces. Symlinks are followed, dangling ones too, so a save writes
 * through a link to its target (as editors and cp do) instead of replacing the link with a
 * regular file. *out is owned by the caller. */
static int save_target(const char *path, char **out)
{
    char *p = cl_alloc_strdup(path);
    *out = NULL;
    for (int hops = 0; p; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
            break; /* the target, or a file still to be created */
        if (hops == 40) {
            cl_alloc_free(p);
            return cl_error(CL_EIO, "cannot write '%s': %s", path, strerror(ELOOP));
        }
        char link[4096];
        ssize_t k = readlink(p, link, sizeof link - 1);
        if (k < 0)
            break;
        link[k] = '\0';
        const char *slash = strrchr(p, '/');
        size_t dl = link[0] == '/' || !slash ? 0 : (size_t)(slash - p) + 1;
        char *next = cl_alloc(dl + (size_t)k + 1);
        if (next) {
            memcpy(next, p, dl);
            memcpy(next + dl, link, (size_t)k + 1);
        }
        cl_alloc_free(p);
        p = next;
    }
    if (!p)
        return CL_ENOMEM;
    *out = p;
    return CL_OK;
}

/* Removes temporaries "<target>.tmp.<pid>.<n>" left beside target by saves whose process
 * died between creating and renaming them (SIGKILL, power loss): nothing else ever would.
 * Only names of exactly that shape, and only when kill(pid, 0) says no such process; our own
 * pid's are saves in progress in other threads. Best effort: failures are ignored. (A live
 * writer in another PID namespace sharing the folder would lose its temp and report that its
 * rename failed; it never loses data.) */
static void sweep_stale(const char *target)
{
    const char *slash = strrchr(target, '/');
    const char *base = slash ? slash + 1 : target;
    size_t dl = slash ? (size_t)(slash - target) : 0, bl = strlen(base);
    char dir[4096];
    if (dl >= sizeof dir)
        return;
    if (slash) {
        memcpy(dir, target, dl);
        dir[dl] = '\0';
        if (dl == 0)
            strcpy(dir, "/");
    } else {
        strcpy(dir, ".");
    }
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        const char *n = e->d_name;
        if (strncmp(n, base, bl) != 0 || strncmp(n + bl, ".tmp.", 5) != 0)
            continue;
        const char *q = n + bl + 5;
        char *end;
        errno = 0;
        long pid = strtol(q, &end, 10);
        if (errno || end == q || *end != '.' || pid <= 0 || pid == (long)getpid())
            continue;
        const char *r = end + 1;
        strtoul(r, &end, 10);
        if (end == r || *end != '\0' || r[0] == '-' || r[0] == '+' || q[0] == '-' || q[0] == '+')
            continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH)
            continue; /* alive, or not ours to judge (EPERM: another user's live process) */
        unlinkat(dirfd(d), n, 0);
    }
    closedir(d);
}

int cl_fileio_atomic_open(cl_atomic_file *a, const char *path)
{
    memset(a, 0, sizeof *a);
    int rc = mkdirs_for(path);
    if (rc)
        return rc;
    if ((rc = save_target(path, &a->path)))
        return rc;
    size_t n = strlen(a->path) + 64;
    a->tmp = cl_alloc(n);
    if (!a->tmp) {
        cl_alloc_free(a->path);
        a->path = NULL;
        return CL_ENOMEM;
    }
    sweep_stale(a->path);
    snprintf(a->tmp, n, "%s.tmp.%ld.%u", a->path, (long)getpid(),
             atomic_fetch_add(&tmp_counter, 1));
    int fd = open(a->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
    /* the replaced file keeps its permissions (a 0600 model stays private) */
    struct stat st;
    if (fd >= 0 && stat(a->path, &st) == 0 && S_ISREG(st.st_mode))
        (void)fchmod(fd, st.st_mode & 07777);
    if (fd < 0 || !(a->fp = fdopen(fd, "wb"))) {
        int e = errno;
        if (fd >= 0) {
            close(fd);
            unlink(a->tmp);
        }
        rc = cl_error(CL_EIO, "cannot write '%s': %s", path, strerror(e));
        cl_alloc_free(a->path);
        cl_alloc_free(a->tmp);
        a->path = a->tmp = NULL;
        return rc;
    }
    return CL_OK;
}

static void release(cl_atomic_file *a)
{
    cl_alloc_free(a->path);
    cl_alloc_free(a->tmp);
    a->path = a->tmp = NULL;
    a->fp = NULL;
}

void cl_fileio_atomic_abort(cl_atomic_file *a)
{
    if (a->fp)
        fclose(a->fp);
    if (a->tmp)
        unlink(a->tmp);
    release(a);
}

int cl_fileio_atomic_commit(cl_atomic_file *a)
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

int cl_fileio_write_atomic(const char *path, const void *data, size_t len)
{
    cl_atomic_file a;
    int rc = cl_fileio_atomic_open(&a, path);
    if (rc)
        return rc;
    if (len && fwrite(data, 1, len, a.fp) != len) {
        rc = cl_error(CL_EIO, "cannot write '%s': %s", path, strerror(errno));
        cl_fileio_atomic_abort(&a);
        return rc;
    }
    return cl_fileio_atomic_commit(&a);
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

uint32_t cl_fileio_crc32(uint32_t crc, const void *data, size_t len)
{
    pthread_once(&crc_once, crc_init);
    const unsigned char *p = data;
    crc = ~crc;
    while (len--)
        crc = crc_table[(crc ^ *p++) & 0xff] ^ (crc >> 8);
    return ~crc;
}
