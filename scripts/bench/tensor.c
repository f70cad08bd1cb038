/* bench/tensor.c - the C baselines for the tensor binding: cblas_sgemm called directly
 * (64, 256, 1024), memcpy bandwidth and a plain C element-wise add loop. scripts/bench/
 * tensor.lua runs this binary and prints the binding's figures next to these, with ratios.
 *
 * Output (one line per figure):
 *   bench suite=tensor case=mm_<n> impl=churnlab api=c metric=gflops value=<v> unit=GFLOP/s
 *   bench suite=tensor case=memcpy impl=churnlab api=c metric=bandwidth value=<v> unit=GB/s
 * Bandwidth counts bytes read plus bytes written (memcpy: 2 x size; add: 3 x size).
 * Each figure is the best of several timed batches of at least BATCH_S seconds (the machine
 * may be shared: best-of is the least noisy estimate of what the code can do). */
#include "churnlab.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_S 0.1
#define BATCHES 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static float *randbuf(size_t n, uint64_t seed)
{
    float *p = cl_alloc(n * sizeof(float));
    if (!p) {
        fprintf(stderr, "bench: out of memory\n");
        exit(1);
    }
    cl_rng r;
    cl_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++)
        p[i] = (float)cl_rng_uniform(&r);
    return p;
}

/* Best rate (work units per second) over BATCHES batches of `fn` repeated until BATCH_S. */
typedef void (*kernel)(void *ctx);
static double best_rate(kernel fn, void *ctx, double work)
{
    fn(ctx); /* warm-up: page faults, BLAS thread start */
    double best = 0;
    for (int b = 0; b < BATCHES; b++) {
        long reps = 0;
        double t0 = now(), t;
        do {
            fn(ctx);
            reps++;
            t = now();
        } while (t - t0 < BATCH_S);
        double rate = work * (double)reps / (t - t0);
        if (rate > best)
            best = rate;
    }
    return best;
}

typedef struct { int n; float *a, *b, *c; } mm_ctx;
static void do_mm(void *p)
{
    mm_ctx *m = p;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m->n, m->n, m->n, 1.0f, m->a, m->n,
                m->b, m->n, 0.0f, m->c, m->n);
}

typedef struct { size_t n; float *a, *b, *c; } vec_ctx;
static void do_memcpy(void *p)
{
    vec_ctx *v = p;
    memcpy(v->c, v->a, v->n * sizeof(float));
}
static void do_add(void *p)
{
    vec_ctx *v = p;
    float *restrict c = v->c;
    const float *restrict a = v->a, *restrict b = v->b;
    for (size_t i = 0; i < v->n; i++)
        c[i] = a[i] + b[i];
}

int main(void)
{
    cl_threads_get(); /* CHURNLAB_THREADS or every core, as the binding uses */
    static const int sizes[] = {64, 256, 1024};
    for (int s = 0; s < 3; s++) {
        int n = sizes[s];
        size_t nn = (size_t)n * (size_t)n;
        mm_ctx m = {n, randbuf(nn, 1), randbuf(nn, 2), randbuf(nn, 3)};
        double gf = best_rate(do_mm, &m, 2.0 * n * n * (double)n) * 1e-9;
        printf("bench suite=tensor case=mm_%d impl=churnlab api=c metric=gflops value=%.3f "
               "unit=GFLOP/s threads=%d\n", n, gf, cl_threads_get());
        cl_alloc_free(m.a), cl_alloc_free(m.b), cl_alloc_free(m.c);
    }
    size_t n = (size_t)4 << 20; /* 16 MB per array (48 MB touched by add): beyond the caches */
    vec_ctx v = {n, randbuf(n, 4), randbuf(n, 5), randbuf(n, 6)};
    double bytes = (double)n * sizeof(float);
    printf("bench suite=tensor case=memcpy impl=churnlab api=c metric=bandwidth value=%.3f "
           "unit=GB/s bytes=%zu\n", best_rate(do_memcpy, &v, 2 * bytes) * 1e-9, n * sizeof(float));
    printf("bench suite=tensor case=add_loop impl=churnlab api=c metric=bandwidth value=%.3f "
           "unit=GB/s bytes=%zu threads=1\n", best_rate(do_add, &v, 3 * bytes) * 1e-9,
           n * sizeof(float));
    cl_alloc_free(v.a), cl_alloc_free(v.b), cl_alloc_free(v.c);
    return 0;
}
