/* threads.c - one thread-count setting for OpenMP and OpenBLAS. */
#include "base/threads.h"
#include "base/error.h"

#include <stdlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Provided by OpenBLAS. */
void openblas_set_num_threads(int num_threads);

static int nthreads; /* 0 = not yet set */

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

int cl_threads_set(int n)
{
    if (n < 0 || n > 1024)
        return cl_error(CL_EINVAL, "threads: expected 0 (default) or 1..1024, got %d", n);
    nthreads = n == 0 ? default_threads() : n;
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
