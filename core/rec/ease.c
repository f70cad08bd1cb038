/* ease.c - EASE (Steck 2019): closed-form item-item weights from the inverse Gram matrix, and
 * its denoising variants (Steck 2020, "Autoencoders that don't overfit towards the identity"):
 * dropout p turns the penalty into Lambda = reg I + p / (1 - p) diag(X^T X), with the zero
 * diagonal (EDLAE) or without it (DLAE: B = (G + Lambda)^-1 G = I - P Lambda). */
#include "rec/ease.h"

#include "base/alloc.h"
#include "base/error.h"
#include "base/threads.h"

#include <math.h>
#include <stddef.h>
#include <string.h>

/* LAPACK in OpenBLAS (Fortran interface; the trailing length is the hidden one of `uplo`). */
void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t len);
void dpotri_(const char *uplo, const int *n, double *a, const int *lda, int *info, size_t len);
void openblas_set_num_threads(int num_threads);
int openblas_get_num_threads(void);

static const cl_param_def ease_defs[] = {
    {"reg", CL_PARAM_NUM, offsetof(cl_ease_params, reg), 800, 1e-9, 1e12, NULL,
     "L2 penalty (lambda) on the item-item weights, added to the diagonal of X^T X (800: "
     "best of 50..1200 on a validation split of MovieLens 100k)"},
    {"binary", CL_PARAM_BOOL, offsetof(cl_ease_params, binary), 1, 0, 1, NULL,
     "every interaction counts 1 (implicit feedback); false: the values as given"},
    {"diagonal", CL_PARAM_ENUM, offsetof(cl_ease_params, diagonal), 0, 0, 0, "zero|free",
     "zero: an item never predicts itself (B_ii = 0, EASE; with dropout EDLAE); free: B = "
     "(G + Lambda)^-1 G without that constraint (DLAE; only the seen items' own scores and "
     "each column's scale differ)"},
    {"dropout", CL_PARAM_NUM, offsetof(cl_ease_params, dropout), 0, 0, 0.95, NULL,
     "denoising dropout rate p (Steck 2020): item i's penalty is reg + p / (1 - p) times its "
     "number of users, so popular items are shrunk more (0: EASE's reg alone)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

typedef struct ease_state {
    float *B; /* n_items x n_items, row i = weights from item i, zero diagonal */
} ease_state;

static void ease_defaults(void *p) { cl_param_defaults(ease_defs, p); }

static void ease_free(cl_rec *r)
{
    ease_state *s = r->state;
    cl_alloc_free(s->B);
    cl_alloc_free(s);
}

static int ease_alloc(cl_rec *r)
{
    int64_t ni = r->train->n_items;
    if (ni > CL_EASE_MAX_ITEMS)
        return cl_error(CL_EINVAL, "ease: %lld items: the dense item x item model is limited to "
                        "%d items", (long long)ni, CL_EASE_MAX_ITEMS);
    ease_state *s = cl_alloc_calloc(1, sizeof *s);
    if (!s)
        return CL_ENOMEM;
    r->state = s;
    s->B = cl_alloc((size_t)ni * (size_t)ni * sizeof *s->B);
    return s->B ? CL_OK : CL_ENOMEM;
}

static int ease_fit(cl_rec *r, const cl_progress *p)
{
    const cl_ease_params *pp = r->params;
    const cl_interactions *m = r->train;
    int rc = ease_alloc(r);
    if (rc)
        return rc;
    ease_state *s = r->state;
    int n = (int)m->n_items;
    double *G = cl_alloc_calloc((size_t)n * (size_t)n, sizeof *G);
    double *lambda = cl_alloc(((size_t)n + 1) * sizeof *lambda);
    if (!G || !lambda) {
        cl_alloc_free(G), cl_alloc_free(lambda);
        return CL_ENOMEM;
    }
    /* G = X^T X, row i from the users of i (CSC) times their rows (CSR): each row is summed
     * by one thread in user order, so G does not depend on the thread count */
#pragma omp parallel for schedule(dynamic, 16) num_threads(cl_threads_get())
    for (int i = 0; i < n; i++) {
        double *Gi = G + (size_t)i * n;
        for (int64_t c = m->cindptr[i]; c < m->cindptr[i + 1]; c++) {
            int64_t u = m->cindices[c];
            double a = pp->binary ? 1.0 : m->cvalues[c];
            for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
                Gi[m->indices[k]] += a * (pp->binary ? 1.0 : m->values[k]);
        }
        lambda[i] = pp->reg + pp->dropout / (1 - pp->dropout) * Gi[i];
        Gi[i] += lambda[i];
    }
    if ((rc = cl_progress_step(p, "ease", 1, 3, "gram")) != CL_OK) {
        cl_alloc_free(G), cl_alloc_free(lambda);
        return rc;
    }
    /* P = G^-1 (G is symmetric positive definite: X^T X + reg I, reg > 0). Column-major
     * "L" of LAPACK is the row-major upper triangle; dpotri leaves that triangle of P. */
    int info = 0, prev = openblas_get_num_threads();
    openblas_set_num_threads(1);
    dpotrf_("L", &n, G, &n, &info, 1);
    if (info == 0)
        dpotri_("L", &n, G, &n, &info, 1);
    openblas_set_num_threads(prev);
    if (info != 0) {
        cl_alloc_free(G), cl_alloc_free(lambda);
        return cl_error(CL_EINVAL, "ease: X^T X + reg I could not be inverted (LAPACK info %d);"
                        " raise reg", info);
    }
    for (int i = 0; i < n; i++) /* mirror the upper triangle (row-major) into the lower */
        for (int j = 0; j < i; j++)
            G[(size_t)i * n + j] = G[(size_t)j * n + i];
    if ((rc = cl_progress_step(p, "ease", 2, 3, "inverse")) != CL_OK) {
        cl_alloc_free(G), cl_alloc_free(lambda);
        return rc;
    }
    /* zero: B_ij = -P_ij / P_jj (the Lagrangian of B_jj = 0); free: B = I - P Lambda */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double pij = G[(size_t)i * n + j];
            s->B[(size_t)i * n + j] =
                pp->diagonal ? (float)((i == j) - pij * lambda[j])
                             : i == j ? 0.0f : (float)(-pij / G[(size_t)j * n + j]);
        }
    cl_alloc_free(G), cl_alloc_free(lambda);
    return cl_progress_step(p, "ease", 3, 3, NULL);
}

static int ease_history(const cl_rec *r, int64_t nh, const int32_t *items, const float *v,
                        float *scores)
{
    const cl_ease_params *pp = r->params;
    const ease_state *s = r->state;
    int64_t n = r->train->n_items;
    double *acc = cl_alloc_calloc((size_t)n, sizeof *acc);
    if (!acc)
        return CL_ENOMEM;
    for (int64_t h = 0; h < nh; h++) {
        double a = pp->binary || !v ? 1.0 : v[h];
        const float *row = s->B + (size_t)items[h] * (size_t)n;
        for (int64_t j = 0; j < n; j++)
            acc[j] += a * row[j];
    }
    for (int64_t j = 0; j < n; j++)
        scores[j] = (float)acc[j];
    cl_alloc_free(acc);
    return CL_OK;
}

static int ease_similar(const cl_rec *r, int32_t i, float *scores)
{
    const ease_state *s = r->state;
    int64_t n = r->train->n_items;
    memcpy(scores, s->B + (size_t)i * (size_t)n, (size_t)n * sizeof *scores);
    return CL_OK;
}

static int ease_save(const cl_rec *r, cl_mw *w, const char *prefix)
{
    (void)prefix;
    const ease_state *s = r->state;
    size_t n = (size_t)r->train->n_items;
    return cl_modelio_w_f32(w, "ease.B", s->B, n * n);
}

static int ease_load(cl_rec *r, cl_mr *mr, const char *prefix)
{
    (void)prefix;
    size_t n = (size_t)r->train->n_items, cnt;
    int rc = cl_modelio_r_count(mr, "ease.B", CL_CHUNK_F32, &cnt);
    if (rc)
        return rc;
    if (n > CL_EASE_MAX_ITEMS || cnt != n * n)
        return cl_error(CL_EFORMAT, "ease: %zu weights stored, %zu items need %zu", cnt, n,
                        n * n);
    if ((rc = ease_alloc(r)) || (rc = cl_modelio_r_f32(mr, "ease.B", ((ease_state *)r->state)->B, cnt)))
        return rc;
    /* weights -P_ij / P_jj of a positive definite P are at most sqrt(P_ii / P_jj) in size;
     * a bound keeps sums over any history finite, where finite alone would not */
    const float *B = ((const ease_state *)r->state)->B;
    const int zero = !((const cl_ease_params *)r->params)->diagonal;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < n; j++) {
            float b = B[i * n + j];
            if (i == j && zero ? b != 0 : !(fabsf(b) <= 1e15f))
                return cl_error(CL_EFORMAT, "ease: weight (%zu, %zu) is %g, expected %s", i + 1,
                                j + 1, (double)b, i == j && zero ? "0 (the diagonal)" : "finite");
        }
    return CL_OK;
}

const cl_rec_ops cl_ease_rec_ops = {"ease",       ease_defs,    sizeof(cl_ease_params),
                                    ease_defaults, ease_fit,    NULL,
                                    ease_history, ease_similar, ease_save,
                                    ease_load,    ease_free,    NULL,
                                    NULL,         0};
