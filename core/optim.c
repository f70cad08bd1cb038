/* optim.c - optimiser kernels (Adam, SGD with momentum) and learning-rate schedules. */
#include "optim.h"

#include <math.h>

/* sqrtf must vectorise: without errno semantics it is one vsqrtps per 8 lanes. */
#if defined(__GNUC__) && !defined(__clang__)
#define NO_ERRNO __attribute__((optimize("no-math-errno")))
#else
#define NO_ERRNO
#endif

NO_ERRNO void cl_optim_adam(float *restrict p, const float *restrict g, float *restrict m,
                            float *restrict v, int64_t n, double lr, double b1, double b2,
                            double eps, int64_t t)
{
    const float step = (float)(lr / (1.0 - pow(b1, (double)t)));
    const float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(b2, (double)t)));
    const float fb1 = (float)b1, fb2 = (float)b2, c1 = (float)(1 - b1), c2 = (float)(1 - b2);
    const float feps = (float)eps;
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        float gi = g[i];
        float mi = fb1 * m[i] + c1 * gi;
        float vi = fb2 * v[i] + c2 * gi * gi;
        m[i] = mi;
        v[i] = vi;
        p[i] -= step * mi / (sqrtf(vi) * inv_bc2 + feps);
    }
}

void cl_optim_sgd(float *restrict p, const float *restrict g, float *restrict buf, int64_t n,
                  double lr, double mu, int nesterov)
{
    const float flr = (float)lr, fmu = (float)mu;
    if (mu == 0 || !buf) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++)
            p[i] -= flr * g[i];
        return;
    }
    if (nesterov) {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            float b = fmu * buf[i] + g[i];
            buf[i] = b;
            p[i] -= flr * (g[i] + fmu * b);
        }
    } else {
#pragma omp simd
        for (int64_t i = 0; i < n; i++) {
            float b = fmu * buf[i] + g[i];
            buf[i] = b;
            p[i] -= flr * b;
        }
    }
}

double cl_optim_lr(cl_sched s, double lr, int epoch, int epochs, int step, double gamma)
{
    switch (s) {
    case CL_SCHED_STEP: return lr * pow(gamma, (double)(epoch / (step > 0 ? step : 1)));
    case CL_SCHED_COSINE:
        return epochs > 0 ? lr * 0.5 * (1.0 + cos(M_PI * (double)epoch / (double)epochs)) : lr;
    default: return lr;
    }
}
