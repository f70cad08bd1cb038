/* threads.h - the thread count used by OpenMP kernels and OpenBLAS.
 *
 * Results never depend on it: kernels cut work into blocks whose boundaries do not depend on
 * the thread count and reduce partial results in block order.
 */
#ifndef CL_THREADS_H
#define CL_THREADS_H

#include <stddef.h>

/* What one OpenBLAS thread maps: OpenBLAS reserves a buffer of its compile-time BUFFER_SIZE
 * per thread (32 << 22 bytes in the x86-64 DYNAMIC_ARCH builds distributions ship, smaller
 * elsewhere, so this over-estimates there) plus a page, at start-up and whenever its thread
 * count grows, and loops for ever when that mmap fails (OpenBLAS 0.3.21 memory.c). */
#define CL_THREADS_BLAS_BUFFER (((size_t)128 << 20) + 4096)
/* Address space left free for data when a limit makes threads compete with it. */
#define CL_THREADS_RESERVE ((size_t)64 << 20)
/* What the executable maps before OpenBLAS's buffers, when /proc cannot tell. */
#define CL_THREADS_BASE_GUESS ((size_t)64 << 20)

/* Sets the thread count (n >= 1), or the default when n == 0: $CHURNLAB_THREADS if set,
 * else every core. Also sets OpenBLAS's thread count. Under an address-space limit
 * (`ulimit -v`) the count is capped at what cl_threads_room allows (at least 1). */
int cl_threads_set(int n);
int cl_threads_get(void);

/* Call before any OpenBLAS routine: CL_OK when the buffers OpenBLAS will map for it fit under
 * the address-space limit, else CL_ENOMEM with a message naming `what` (OpenBLAS itself would
 * spin for ever on the failed mmap). Free without a limit. */
int cl_threads_blas(const char *what);

/* The largest thread count whose OpenBLAS buffers (one per thread plus one per call), stacks
 * and a working reserve fit under the soft RLIMIT_AS beside what the process maps now, given
 * `threads` threads and `buffers` buffers already provisioned; never less than `threads`, and
 * 1 (from 0, 0) when only OpenBLAS's start-up buffer fits. INT_MAX when there is no limit;
 * from (0, 0), 0 means OpenBLAS cannot even start (its constructor would spin). */
int cl_threads_room(int threads, int buffers);

/* Bytes the process maps now (VmSize, what RLIMIT_AS counts), or 0 when unknown. */
size_t cl_threads_mapped(void);

#endif
