/* mlp_gemm.c - how far a 105-64-64-1 MLP fit is from its sgemm-bound limit.
 *
 * Times one epoch of cl_mlp_fit (200,000 one-hot rows, Adam) at batch 32 and 256 on one
 * thread, then the same epoch's five sgemm calls per step alone (forward x3, weight
 * gradients x3 and input gradients x2 of the hidden layers = the gemm work of a step) on
 * the same shapes. The ratio says how much of a step is gemm; the rest is the fused
 * elementwise passes, the batch gather and Adam.
 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "churnlab.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void gemm(int ta, int tb, int M, int N, int K, const float *A, const float *B, float *C)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                N, K, 1.0f, A, ta ? M : K, B, tb ? K : N, 0.0f, C, N);
}

int main(void)
{
    enum { N = 200000, D = 105, H = 64 };
    cl_threads_set(1);
    float *X = calloc((size_t)N * D, sizeof(float)), *y = malloc(sizeof(float) * N);
    cl_rng r;
    cl_rng_seed(&r, 1);
    for (int i = 0; i < N; i++) {
        double s = 0;
        for (int g = 0; g < 15; g++) {
            int k = g * 7 + (int)cl_rng_below(&r, 7);
            X[(size_t)i * D + k] = 1;
            s += (k % 3) - 1;
        }
        y[i] = (float)(s + cl_rng_normal(&r) > 0);
    }
    float *buf = calloc(8 * 256 * 128 + 3 * D * H, sizeof(float));
    float *a1 = buf, *a2 = a1 + 256 * H, *z3 = a2 + 256 * H, *d1 = z3 + 256, *d2 = d1 + 256 * H;
    float *W1 = d2 + 256 * H, *W2 = W1 + D * H, *W3 = W2 + H * H, *G = W3 + H;
    int batches[2] = {32, 256};
    for (int c = 0; c < 2; c++) {
        int B = batches[c];
        cl_mlp_params p;
        cl_mlp_params_default(&p);
        p.batch = B;
        p.epochs = 1;
        cl_mlp *m;
        cl_mlp_new(&m, &p);
        double t0 = now();
        if (cl_mlp_fit(m, X, y, N, D, NULL, NULL, NULL) != CL_OK)
            return 1;
        double fit = now() - t0;
        cl_mlp_free(m);
        t0 = now();
        for (int i0 = 0; i0 < N; i0 += B) {
            int b = N - i0 < B ? N - i0 : B;
            const float *xb = X + (size_t)i0 * D;
            gemm(0, 0, b, H, D, xb, W1, a1);  /* forward */
            gemm(0, 0, b, H, H, a1, W2, a2);
            gemm(0, 0, b, 1, H, a2, W3, z3);
            gemm(1, 0, H, 1, b, a2, z3, G);   /* backward: dW3, dA2, dW2, dA1, dW1 */
            gemm(0, 1, b, H, 1, z3, W3, d2);
            gemm(1, 0, H, H, b, a1, d2, G);
            gemm(0, 1, b, H, H, d2, W2, d1);
            gemm(1, 0, D, H, b, xb, d1, G);
        }
        double gm = now() - t0;
        printf("bench suite=mlp_gemm case=batch%d impl=churnlab metric=fit_samples_per_s value=%.0f "
               "unit=samples/s threads=1\n", B, N / fit);
        printf("bench suite=mlp_gemm case=batch%d impl=churnlab metric=gemm_only_samples_per_s "
               "value=%.0f unit=samples/s threads=1\n", B, N / gm);
        printf("bench suite=mlp_gemm case=batch%d impl=churnlab metric=gemm_share value=%.2f "
               "unit=fraction\n", B, gm / fit);
    }
    free(buf);
    free(X);
    free(y);
    return 0;
}
