/* alloc.h - every allocation of the core goes through here.
 *
 * Gives byte accounting (so a host can tell its garbage collector about C memory), 64-byte
 * alignment for kernels, size-overflow checks, and a test hook that fails the Nth allocation
 * (Lua's ltests.c) so error paths can be swept.
 *
 * cl_alloc/cl_alloc_calloc/cl_alloc_realloc return NULL and set CL_ENOMEM's message on failure.
 * Memory from them is freed with cl_alloc_free (never free()).
 */
#ifndef CL_ALLOC_H
#define CL_ALLOC_H

#include <stddef.h>
#include <stdint.h>

#define CL_ALIGN 64

void *cl_alloc(size_t bytes);                     /* 64-byte aligned, uninitialised */
void *cl_alloc_calloc(size_t n, size_t size);           /* zeroed; checks n*size overflow */
void *cl_alloc_realloc(void *p, size_t bytes);          /* like realloc; p may be NULL */
void cl_alloc_free(void *p);                            /* NULL is fine */
char *cl_alloc_strdup(const char *s);

/* Copies n strings (NULL entries become ""): *out is an owned array of owned strings, freed
 * with cl_alloc_strs_free. On failure nothing is left allocated. */
int cl_alloc_strs_dup(char ***out, const char *const *src, int64_t n);
void cl_alloc_strs_free(char **v, int64_t n); /* NULL is fine */

/* n * size without overflow; returns 0 and sets CL_ERANGE's message on overflow. */
int cl_alloc_mul_size(size_t n, size_t size, size_t *out);

/* Bytes currently allocated through cl_alloc, process-wide, and the peak. */
size_t cl_alloc_bytes(void);
size_t cl_alloc_peak(void);

/* Test hook: the n-th allocation from now (1-based) fails, then every later one succeeds.
 * 0 disables. Returns how many allocations have been made since the hook was armed. */
void cl_alloc_fail_at(long n);
long cl_alloc_count(void);

#endif
