/* threads.h - the thread count used by OpenMP kernels and OpenBLAS.
 *
 * Results never depend on it: kernels cut work into blocks whose boundaries do not depend on
 * the thread count and reduce partial results in block order.
 */
#ifndef CL_THREADS_H
#define CL_THREADS_H

/* Sets the thread count (n >= 1), or the default when n == 0: $CHURNLAB_THREADS if set,
 * else every core. Also sets OpenBLAS's thread count. */
int cl_threads_set(int n);
int cl_threads_get(void);

#endif
