/* optim.h - first-order optimiser kernels and learning-rate schedules.
 *
 * Kernels update a flat float32 parameter vector in place from its gradient; state vectors
 * (moments, momentum) are owned by the caller and start zeroed. They never allocate and know
 * nothing of models (kernels apart from models, STYLE.md). Loops are written so the compiler
 * vectorises them; results depend only on the inputs (no threads inside).
 */
#ifndef CL_OPTIM_H
#define CL_OPTIM_H

#include <stdint.h>

/* Adam (Kingma & Ba), PyTorch's form: m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2;
 * p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps). t >= 1 is the step count. */
void cl_optim_adam(float *p, const float *g, float *m, float *v, int64_t n, double lr, double b1,
                   double b2, double eps, int64_t t);

/* SGD with momentum (PyTorch's form): buf = mu buf + g; d = nesterov ? g + mu buf : buf;
 * p -= lr d. mu = 0 is plain SGD (buf may then be NULL). */
void cl_optim_sgd(float *p, const float *g, float *buf, int64_t n, double lr, double mu,
                  int nesterov);

typedef enum {
    CL_SCHED_CONSTANT = 0,
    CL_SCHED_STEP = 1,   /* lr * gamma^floor(epoch / step) */
    CL_SCHED_COSINE = 2  /* lr * (1 + cos(pi * epoch / epochs)) / 2 */
    /* values are only ever appended */
} cl_sched;

/* Learning rate for 0-based `epoch` of `epochs`. */
double cl_optim_lr(cl_sched s, double lr, int epoch, int epochs, int step, double gamma);

#endif
