/* bench/trees_kernels.c - the tree kernels on each instruction-set path (isa.h) next to the
 * scorer they replace: batch prediction (cl_predict_ensemble vs tree.c's
 * cl_tree_ens_predict), histogram building (cl_hist_build) and split search
 * (cl_split_feature), on random data of the bench's shape (200 trees of depth 6, 50 features,
 * 255 bins). scripts/bench/trees.lua has the end-to-end figures next to XGBoost.
 *
 * Output: a bench-env line (CPU model, nproc, OPENBLAS_CORETYPE), then one line per figure:
 *   bench suite=trees_kernels case=<kernel> impl=<old|default|avx2|avx512> threads=<t>
 *         metric=<rows_per_s|ns_per_row_feature|ns_per_feature> value=<v>
 * Each figure is the best of BATCHES timed runs (the machine may be shared: best-of is the
 * least noisy estimate of what the code can do); every path's output is checked equal to the
 * default path's, so a fast wrong path cannot report a figure. An argument (split, hist,
 * predict) runs one kernel only. */
#include "churnlab.h"
#include "trees/isa.h"
#include "trees/predict.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define BATCHES 5

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void *xalloc(size_t bytes)
{
    void *p = cl_alloc(bytes ? bytes : 1);
    if (!p) {
        fprintf(stderr, "trees_kernels: out of memory\n");
        exit(1);
    }
    return p;
}

static void print_env(void)
{
    char cpu[512] = "unknown", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            const char *c = strchr(line, ':');
            memcpy(cpu, c ? c + 2 : line, strlen(c ? c + 2 : line) + 1);
            cpu[strcspn(cpu, "\n")] = 0;
            for (char *p = cpu; *p; p++)
                *p = *p == ' ' ? '_' : *p;
            break;
        }
    if (f)
        fclose(f);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("bench-env suite=trees_kernels cpu=%s nproc=%ld openblas_coretype=%s best_isa=%s\n",
           cpu, sysconf(_SC_NPROCESSORS_ONLN), ct ? ct : "unset", cl_isa_name(cl_isa_best()));
}

static void grow(cl_tree *t, int i, int depth, int d, cl_rng *r)
{
    if (depth == 0) {
        t->nodes[i].value = (float)cl_rng_normal(r) * 0.1f;
        return;
    }
    int left = cl_tree_add(t, 0, 1, 1);
    if (left < 0 || cl_tree_add(t, 0, 1, 1) != left + 1)
        exit(1);
    cl_tnode *nd = t->nodes + i;
    nd->feature = (int)cl_rng_below(r, (uint64_t)d);
    nd->left = left;
    nd->default_left = (uint8_t)cl_rng_below(r, 2);
    nd->thr = (float)cl_rng_normal(r);
    grow(t, left, depth - 1, d, r);
    grow(t, left + 1, depth - 1, d, r);
}

static void line(const char *kernel, const char *impl, int threads, const char *metric, double v)
{
    printf("bench suite=trees_kernels case=%s impl=%s threads=%d metric=%s value=%.4g\n", kernel,
           impl, threads, metric, v);
    fflush(stdout);
}

/* ---- prediction: 200 trees of depth 6 over 200k rows of 50 features --------------------- */
static void bench_predict(void)
{
    const int ntrees = 200, d = 50;
    const size_t n = 200000;
    cl_rng r;
    cl_rng_seed(&r, 1);
    cl_tree **trees = xalloc((size_t)ntrees * sizeof *trees);
    for (int k = 0; k < ntrees; k++) {
        if (cl_tree_new(&trees[k]) || cl_tree_add(trees[k], 0, 1, 1) != 0)
            exit(1);
        grow(trees[k], 0, 6, d, &r);
    }
    float *X = xalloc(n * (size_t)d * sizeof *X);
    for (size_t i = 0; i < n * (size_t)d; i++)
        X[i] = cl_rng_uniform(&r) < 0.02 ? NAN : (float)cl_rng_normal(&r);
    float *ref = xalloc(n * sizeof *ref), *out = xalloc(n * sizeof *out);
    const cl_tree *const *ct = (const cl_tree *const *)trees;
    for (int threads = 1; threads <= 2; threads++) {
        cl_threads_set(threads);
        double best = 1e30;
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now();
            cl_tree_ens_predict(ct, ntrees, X, n, d, 0.0, 1.0, ref);
            double dt = now() - t0;
            best = dt < best ? dt : best;
        }
        line("predict", "old", threads, "rows_per_s", (double)n / best);
        for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++) {
            cl_isa_force(isa);
            best = 1e30;
            for (int b = 0; b < BATCHES; b++) {
                double t0 = now();
                cl_predict_ensemble(ct, ntrees, X, n, d, 0.0, 1.0, out);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            if (memcmp(out, ref, n * sizeof *out)) {
                fprintf(stderr, "trees_kernels: predict on %s differs\n", cl_isa_name(isa));
                exit(1);
            }
            line("predict", cl_isa_name(isa), threads, "rows_per_s", (double)n / best);
        }
        cl_isa_force(CL_ISA_AUTO);
    }
    cl_alloc_free(X);
    cl_alloc_free(ref);
    cl_alloc_free(out);
    cl_tree_ens_free(trees, ntrees);
}

/* ---- histograms: 200k rows x 50 features x 255 bins, 70% of rows listed ------------------ */
static void bench_hist(void)
{
    const size_t n = 200000;
    const int d = 50;
    int off[51];
    for (int j = 0; j <= d; j++)
        off[j] = 256 * j;
    cl_rng r;
    cl_rng_seed(&r, 2);
    uint8_t *bins = xalloc(n * (size_t)d);
    uint32_t *rows = xalloc(n * sizeof *rows);
    int64_t *gh = xalloc(2 * n * sizeof *gh);
    size_t m = 0;
    for (size_t i = 0; i < n * (size_t)d; i++)
        bins[i] = (uint8_t)cl_rng_below(&r, 256);
    for (size_t i = 0; i < n; i++)
        if (cl_rng_uniform(&r) < 0.7)
            rows[m++] = (uint32_t)i;
    for (size_t k = 0; k < 2 * n; k++)
        gh[k] = (int64_t)cl_rng_below(&r, (uint64_t)1 << 40);
    int feats[50];
    for (int j = 0; j < d; j++)
        feats[j] = j;
    size_t bytes = (size_t)off[d] * sizeof(cl_hbin);
    cl_hbin *ref = xalloc(bytes), *h = xalloc(bytes);
    cl_isa_force(CL_ISA_DEFAULT);
    cl_hist_build(ref, off, bins, n, rows, m, gh, feats, d, 1);
    for (int threads = 1; threads <= 2; threads++)
        for (int isa = CL_ISA_DEFAULT; isa <= cl_isa_best(); isa++) {
            cl_isa_force(isa);
            double best = 1e30;
            for (int b = 0; b < BATCHES; b++) {
                double t0 = now();
                cl_hist_build(h, off, bins, n, rows, m, gh, feats, d, threads);
                double dt = now() - t0;
                best = dt < best ? dt : best;
            }
            if (memcmp(h, ref, bytes)) {
                fprintf(stderr, "trees_kernels: histogram on %s differs\n", cl_isa_name(isa));
                exit(1);
            }
            line("hist", cl_isa_name(isa), threads, "ns_per_row_feature",
                 best * 1e9 / ((double)m * d));
        }
    cl_isa_force(CL_ISA_AUTO);
    cl_alloc_free(ref);
    cl_alloc_free(h);
    cl_alloc_free(bins);
    cl_alloc_free(rows);
    cl_alloc_free(gh);
}

/* ---- split search: 255-bin numeric features with a missing bin -------------------------- */
static void bench_split(void)
{
    enum { NF = 2000, NB = 255 };
    cl_rng r;
    cl_rng_seed(&r, 3);
    cl_hbin *h = xalloc((size_t)NF * (NB + 1) * sizeof *h);
    int64_t *G = xalloc(NF * sizeof *G), *H = xalloc(NF * sizeof *H);
    for (int f = 0; f < NF; f++) {
        G[f] = H[f] = 0;
        for (int b = 0; b <= NB; b++) {
            cl_hbin *e = h + (size_t)f * (NB + 1) + b;
            e->g = (int64_t)(cl_rng_normal(&r) * 1e9);
            e->h = (int64_t)cl_rng_below(&r, 1000000000) + 1;
            G[f] += e->g;
            H[f] += e->h;
        }
    }
    cl_split_params p = {.lambda = 1, .min_child_weight = 1, .ug = 1e-9, .uh = 1e-9};
    cl_split want;
    for (int impl = -1; impl <= cl_isa_best(); impl++) { /* -1: the scalar reference scan */
        if (impl == 0)
            continue;
        cl_split_force_scalar(impl < 0);
        cl_isa_force(impl < 0 ? CL_ISA_AUTO : impl);
        double best = 1e30;
        cl_split s;
        for (int b = 0; b < BATCHES; b++) {
            double t0 = now();
            cl_split_none(&s);
            for (int f = 0; f < NF; f++)
                cl_split_feature(&s, h + (size_t)f * (NB + 1), NB, 0, f, G[f], H[f], &p);
            double dt = now() - t0;
            best = dt < best ? dt : best;
        }
        if (impl < 0)
            want = s;
        else if (memcmp(&s, &want, sizeof s)) {
            fprintf(stderr, "trees_kernels: split on %s differs\n", cl_isa_name(impl));
            exit(1);
        }
        line("split", impl < 0 ? "scalar" : cl_isa_name(impl), 1, "ns_per_feature",
             best * 1e9 / NF);
    }
    cl_split_force_scalar(0);
    cl_isa_force(CL_ISA_AUTO);
    cl_alloc_free(h);
    cl_alloc_free(G);
    cl_alloc_free(H);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : "";
    print_env();
    if (!*only || strstr(only, "split"))
        bench_split();
    if (!*only || strstr(only, "hist"))
        bench_hist();
    if (!*only || strstr(only, "predict"))
        bench_predict();
    return 0;
}
