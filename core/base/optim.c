/* optim.c - optimiser kernels (Adam, SGD with momentum) and learning-rate schedules. */
#include "base/optim.h"

#include <math.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/* The loop is written with SSE intrinsics where available: with C's errno semantics the
 * compiler keeps sqrtf scalar (a libm call guard per element), which made Adam cost as much
 * as the gemms at batch 32. The SSE path performs the same IEEE operations in the same
 * order, so it gives the same bits as the scalar tail. */
void cl_optim_adam(float *restrict p, const float *restrict g, float *restrict m,
                   float *restrict v, int64_t n, double lr, double b1, double b2, double eps,
                   int64_t t)
{
    const float step = (float)(lr / (1.0 - pow(b1, (double)t)));
    const float inv_bc2 = (float)(1.0 / sqrt(1.0 - pow(b2, (double)t)));
    const float fb1 = (float)b1, fb2 = (float)b2, c1 = (float)(1 - b1), c2 = (float)(1 - b2);
    const float feps = (float)eps;
    int64_t i = 0;
#if defined(__SSE2__)
    const __m128 vb1 = _mm_set1_ps(fb1), vb2 = _mm_set1_ps(fb2), vc1 = _mm_set1_ps(c1),
                 vc2 = _mm_set1_ps(c2), vstep = _mm_set1_ps(step), vbc = _mm_set1_ps(inv_bc2),
                 veps = _mm_set1_ps(feps);
    for (; i + 4 <= n; i += 4) {
        __m128 gi = _mm_loadu_ps(g + i);
        __m128 mi = _mm_add_ps(_mm_mul_ps(vb1, _mm_loadu_ps(m + i)), _mm_mul_ps(vc1, gi));
        __m128 vi = _mm_add_ps(_mm_mul_ps(vb2, _mm_loadu_ps(v + i)),
                               _mm_mul_ps(_mm_mul_ps(vc2, gi), gi));
        _mm_storeu_ps(m + i, mi);
        _mm_storeu_ps(v + i, vi);
        __m128 den = _mm_add_ps(_mm_mul_ps(_mm_sqrt_ps(vi), vbc), veps);
        __m128 upd = _mm_div_ps(_mm_mul_ps(vstep, mi), den);
        _mm_storeu_ps(p + i, _mm_sub_ps(_mm_loadu_ps(p + i), upd));
    }
#endif
    for (; i < n; i++) {
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
