/* threads.c - one thread-count setting for OpenMP and OpenBLAS, sized to the address space.
 *
 * OpenBLAS (0.3.21, memory.c) maps one buffer of CL_THREADS_BLAS_BUFFER bytes per thread at
 * start-up and whenever its thread count grows, one more for every BLAS call in flight, never
 * unmaps one (it reuses them), and retries a failed mmap for ever. Under an address-space
 * limit (`ulimit -v`) that is a hang, so this file keeps a model of what OpenBLAS has mapped:
 * the thread count is capped at what fits, and BLAS entry points check first
 * (cl_threads_blas) and fail with a message instead of spinning. Without a limit none of this
 * costs anything: getrlimit says RLIM_INFINITY and every check returns at once.
 */
#include "base/threads.h"
#include "base/error.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Provided by OpenBLAS. */
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

static int nthreads; /* 0 = not yet set */
static int blas_threads; /* high-water mark of OpenBLAS's thread count (its thread buffers) */
static int blas_buffers; /* buffers OpenBLAS has mapped, as far as we know (it never unmaps) */

static int default_threads(void)
{
    const char *env = getenv("CHURNLAB_THREADS");
    if (env && *env) {
        char *end;
        long v = strtol(env, &end, 10);
        if (*end == '\0' && v >= 1 && v <= 1024)
            return (int)v;
    }
#ifdef _OPENMP
    return omp_get_num_procs();
#else
    return 1;
#endif
}

size_t cl_threads_mapped(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    unsigned long pages = 0;
    if (!f)
        return 0;
    if (fscanf(f, "%lu", &pages) != 1)
        pages = 0;
    fclose(f);
    long page = sysconf(_SC_PAGESIZE);
    return (size_t)pages * (size_t)(page > 0 ? page : 4096);
}

/* The stack a new thread maps: glibc (and so libgomp without OMP_STACKSIZE) sizes it from the
 * soft RLIMIT_STACK, or 2 MB when that is unlimited. */
static size_t thread_stack_bytes(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur > 0)
        return (size_t)rl.rlim_cur;
    return (size_t)2 << 20;
}

/* Address space left under the soft RLIMIT_AS; SIZE_MAX without a limit. */
static size_t as_free(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY)
        return SIZE_MAX;
    size_t used = cl_threads_mapped();
    if (used == 0)
        used = CL_THREADS_BASE_GUESS; /* no /proc: assume what churnlab maps at start-up */
    return (size_t)rl.rlim_cur > used ? (size_t)rl.rlim_cur - used : 0;
}

int cl_threads_room(int threads, int buffers)
{
    size_t avail = as_free();
    if (avail == SIZE_MAX)
        return INT_MAX;
    if (threads < 0)
        threads = 0;
    if (buffers < 0)
        buffers = 0;
    /* t threads want t thread buffers plus one for the BLAS call itself. The first thread is
     * the main one: its stack exists and it needs no working reserve (a start-up that fits at
     * all should run); each further thread maps a stack and must leave CL_THREADS_RESERVE for
     * the data it will work on. When not even one thread plus a call buffer fits, one thread
     * (its start-up buffer alone) is still a working process: BLAS calls then fail cleanly. */
    int t = threads;
    for (int next = t + 1; next < 1024; next++) {
        size_t need = next + 1 > buffers ? (size_t)(next + 1 - buffers) : 0;
        size_t cost = need * CL_THREADS_BLAS_BUFFER;
        int base = threads > 1 ? threads : 1;
        if (next > base)
            cost += (size_t)(next - base) * thread_stack_bytes() + CL_THREADS_RESERVE;
        if (cost > avail)
            break;
        t = next;
    }
    if (t == 0 && buffers == 0 && CL_THREADS_BLAS_BUFFER <= avail)
        t = 1;
    return t;
}

int cl_threads_set(int n)
{
    if (n < 0 || n > 1024)
        return cl_error(CL_EINVAL, "threads: expected 0 (default) or 1..1024, got %d", n);
    int want = n == 0 ? default_threads() : n;
    if (blas_threads == 0) /* first call: what OpenBLAS's constructor mapped */
        blas_buffers = blas_threads = openblas_get_num_threads();
    /* More OpenBLAS threads than fit would spin for ever in OpenBLAS's buffer allocation, so
     * the count is capped under an address-space limit; results never depend on it. */
    if (want > blas_threads) {
        int room = cl_threads_room(blas_threads, blas_buffers);
        if (want > room)
            want = room > blas_threads ? room : blas_threads;
        if (want > blas_threads)
            blas_threads = want;
        if (blas_threads > blas_buffers)
            blas_buffers = blas_threads;
    }
    nthreads = want;
#ifdef _OPENMP
    omp_set_num_threads(nthreads);
#endif
    openblas_set_num_threads(nthreads);
    return CL_OK;
}

int cl_threads_get(void)
{
    if (nthreads == 0)
        cl_threads_set(0);
    return nthreads;
}

int cl_threads_blas(const char *what)
{
    int nt = cl_threads_get();
    /* Either nt OpenBLAS threads under one call, or nt concurrent calls of OpenBLAS on one
     * thread (the MLP's blocks): nt + 1 buffers cover both. */
    int need = nt + 1;
    if (blas_buffers >= need)
        return CL_OK;
    size_t avail = as_free();
    size_t more = (size_t)(need - blas_buffers) * CL_THREADS_BLAS_BUFFER;
    if (more > avail)
        return cl_error(CL_ENOMEM,
                        "%s: OpenBLAS needs %zu MB more address space for its work buffers "
                        "than the limit (ulimit -v) leaves (%zu MB); raise the limit%s",
                        what, more >> 20, avail >> 20,
                        nt > 1 ? " or use fewer threads (cl.threads)" : "");
    blas_buffers = need;
    return CL_OK;
}
