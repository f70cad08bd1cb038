/* bench/treeshap.c - per-row exact TreeSHAP of a 300-tree depth-6 gbdt (30 features, 10%
 * missing values): Algorithm 2 (cl_treeshap_reference, the code before the plan) against the
 * plan (cl_treeshap_plan_run on 1000 rows, and on one row per call as a server would; its
 * one-off build time separately), at 1 thread, beside
 * XGBoost's pred_contribs on the same trees (the model exported to XGBoost JSON, anchor
 * scripts/bench/treeshap_xgb.py with /usr/bin/python3) in the same run.
 *
 * Output: a bench-env line (CPU model, nproc, OPENBLAS_CORETYPE, load average), then
 *   bench suite=treeshap case=gbdt300d6 impl=<algorithm2|plan|plan_build|xgboost-V> threads=1
 *         metric=<us_per_row|ms> value=<v> unit=<us|ms> [...]
 * Each figure is the best of 3 runs (the machine may be shared). The plan's output is checked
 * against Algorithm 2's (max_abs_diff) so a wrong fast path cannot report a figure silently. */
#include "churnlab.h"
#include "trees/treeshap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { NTRAIN = 4000, NROWS = 1000, D = 30, TREES = 300, DEPTH = 6, RUNS = 3 };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
    fprintf(stderr, "treeshap bench: %s: %s\n", what, cl_error_last());
    exit(1);
}

static void print_env(void)
{
    char cpu[512] = "unknown", line[512];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            const char *c = strchr(line, ':');
            snprintf(cpu, sizeof cpu, "%s", c ? c + 2 : line);
            cpu[strcspn(cpu, "\n")] = 0;
            for (char *p = cpu; *p; p++)
                *p = *p == ' ' ? '_' : *p;
            break;
        }
    if (f)
        fclose(f);
    double load[3] = {0};
    FILE *la = fopen("/proc/loadavg", "r");
    if (la && fscanf(la, "%lf %lf %lf", load, load + 1, load + 2) != 3)
        load[0] = -1;
    if (la)
        fclose(la);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("bench-env suite=treeshap cpu=%s nproc=%ld openblas_coretype=%s loadavg=%.2f,%.2f,%.2f\n",
           cpu, sysconf(_SC_NPROCESSORS_ONLN), ct ? ct : "unset", load[0], load[1], load[2]);
}

static void make_data(cl_tensor **X, cl_tensor **y, int64_t n, uint64_t seed)
{
    if (cl_tensor_new(X, 2, n, D) || cl_tensor_new(y, 1, n, 1))
        die("data");
    cl_rng r;
    cl_rng_seed(&r, seed);
    float *x = cl_tensor_data(*X), *yy = cl_tensor_data(*y);
    for (int64_t i = 0; i < n; i++) {
        float *row = x + i * D;
        double z = 0;
        for (int j = 0; j < D; j++) {
            row[j] = (float)cl_rng_normal(&r);
            z += (j % 3 ? 0.2 : -0.3) * row[j] + (j < 5 ? 0.4 * row[j] * row[j + 1] : 0);
            if (cl_rng_uniform(&r) < 0.1)
                row[j] = NAN;
        }
        yy[i] = z + cl_rng_normal(&r) > 0 ? 1.0f : 0.0f;
    }
}

typedef int (*shap_fn)(const void *ctx, const float *X, float *out);

static int run_ref(const void *ctx, const float *X, float *out)
{
    const cl_gbdt *m = ctx;
    return cl_treeshap_reference((const cl_tree *const *)m->trees, m->ntrees, X, NROWS, D,
                                 m->base, 1.0, out);
}

static int run_plan(const void *ctx, const float *X, float *out)
{
    return cl_treeshap_plan_run(ctx, X, NROWS, D, out);
}

static double best_of(shap_fn f, const void *ctx, const float *X, float *out)
{
    double best = INFINITY;
    for (int k = 0; k < RUNS; k++) {
        double t0 = now();
        if (f(ctx, X, out))
            die("treeshap");
        best = fmin(best, now() - t0);
    }
    return best;
}

static void write_file(const char *path, const void *p, size_t bytes)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(p, 1, bytes, f) != bytes || fclose(f))
        die(path);
}

int main(void)
{
    print_env();
    cl_threads_set(1);
    cl_tensor *X, *y, *Xe, *ye;
    make_data(&X, &y, NTRAIN, 1);
    make_data(&Xe, &ye, NROWS, 2);
    cl_gbdt_params p = cl_gbdt_params_default();
    p.trees = TREES, p.depth = DEPTH, p.lr = 0.1;
    cl_gbdt *m;
    cl_gbdt_fit_opts o = {0};
    if (cl_gbdt_new(&m, &p) || cl_gbdt_fit(m, X, y, &o, NULL))
        die("fit");
    const float *x = cl_tensor_data(Xe);
    const size_t w = D + 1;
    float *a = malloc(NROWS * w * sizeof *a), *b = malloc(NROWS * w * sizeof *b);
    double tref = best_of(run_ref, m, x, a);
    cl_treeshap_plan *pl = NULL;
    double tb = INFINITY;
    for (int k = 0; k < RUNS; k++) {
        cl_treeshap_plan_free(pl);
        double t0 = now();
        if (cl_treeshap_plan_new(&pl, (const cl_tree *const *)m->trees, m->ntrees, m->base, 1.0))
            die("plan");
        tb = fmin(tb, now() - t0);
    }
    double tplan = best_of(run_plan, pl, x, b);
    /* one row per call, as a server explains a customer (plan kept, as a model would own it) */
    double t1 = INFINITY;
    for (int k = 0; k < RUNS; k++) {
        double t0 = now();
        for (size_t i = 0; i < NROWS; i++)
            if (cl_treeshap_plan_run(pl, x + i * D, 1, D, b + i * w))
                die("plan 1 row");
        t1 = fmin(t1, now() - t0);
    }
    double diff = 0;
    for (size_t i = 0; i < NROWS * w; i++)
        diff = fmax(diff, fabs((double)a[i] - b[i]));
    printf("bench suite=treeshap case=gbdt300d6 impl=algorithm2 threads=1 metric=us_per_row "
           "value=%.2f unit=us\n", tref / NROWS * 1e6);
    printf("bench suite=treeshap case=gbdt300d6 impl=plan threads=1 metric=us_per_row value=%.2f "
           "unit=us speedup=%.2f max_abs_diff_vs_algorithm2=%.3g\n", tplan / NROWS * 1e6,
           tref / tplan, diff);
    printf("bench suite=treeshap case=gbdt300d6 impl=plan_one_row_per_call threads=1 "
           "metric=us_per_row value=%.2f unit=us\n", t1 / NROWS * 1e6);
    printf("bench suite=treeshap case=gbdt300d6 impl=plan_build threads=1 metric=ms value=%.2f "
           "unit=ms plan_bytes=%zu fallback_trees=%d\n", tb * 1e3, cl_treeshap_plan_bytes(pl),
           cl_treeshap_plan_fallbacks(pl));
    fflush(stdout);
    char dir[] = "/tmp/churnlab-treeshap-XXXXXX", cmd[1024], mp[256], xp[256], pp[256];
    if (!mkdtemp(dir))
        die("mkdtemp");
    snprintf(mp, sizeof mp, "%s/model.json", dir);
    snprintf(xp, sizeof xp, "%s/X.f32", dir);
    snprintf(pp, sizeof pp, "%s/phi.f32", dir);
    if (cl_xgb_export_gbdt(m, mp))
        die("export");
    write_file(xp, x, NROWS * D * sizeof *x);
    write_file(pp, b, NROWS * w * sizeof *b);
    snprintf(cmd, sizeof cmd, "/usr/bin/python3 scripts/bench/treeshap_xgb.py %s %s %d %d %s", mp,
             xp, NROWS, D, pp);
    int rc = system(cmd);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd))
        fprintf(stderr, "treeshap bench: could not remove %s\n", dir);
    cl_treeshap_plan_free(pl);
    free(a);
    free(b);
    cl_gbdt_free(m);
    cl_tensor_free(X);
    cl_tensor_free(y);
    cl_tensor_free(Xe);
    cl_tensor_free(ye);
    return rc ? 1 : 0;
}
