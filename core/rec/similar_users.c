/* similar_users.c - users like a given user (see similar_users.h). */
#include "rec/similar_users.h"

#include "base/alloc.h"
#include "base/error.h"
#include "rec/rec.h"

#include <math.h>
#include <string.h>

static double row_norm(const cl_interactions *m, int64_t u)
{
    double q = 0;
    for (int64_t k = m->indptr[u]; k < m->indptr[u + 1]; k++)
        q += (double)m->values[k] * m->values[k];
    return sqrt(q);
}

static int check(const cl_interactions *m, int64_t u, int k, const char *what)
{
    if (u < 0 || u >= m->n_users)
        return cl_error(CL_ERANGE, "%s: user index %lld out of range [0, %lld)", what,
                        (long long)u, (long long)m->n_users);
    if (k < 1)
        return cl_error(CL_EINVAL, "%s: k must be >= 1, got %d", what, k);
    return CL_OK;
}

int cl_similar_users_topk(const cl_interactions *m, int64_t u, int k, int32_t *users,
                          float *scores, int *n_out)
{
    *n_out = 0;
    int rc = check(m, u, k, "similar_users");
    if (rc)
        return rc;
    int64_t nu = m->n_users;
    double *acc = cl_alloc_calloc((size_t)nu, sizeof *acc);
    unsigned char *shared = cl_alloc_calloc((size_t)nu, 1);
    float *s = cl_alloc((size_t)nu * sizeof *s);
    if (!acc || !shared || !s) {
        cl_alloc_free(acc), cl_alloc_free(shared), cl_alloc_free(s);
        return CL_ENOMEM;
    }
    /* dot products with every user through the columns of u's items, in item order */
    for (int64_t a = m->indptr[u]; a < m->indptr[u + 1]; a++) {
        int32_t i = m->indices[a];
        for (int64_t c = m->cindptr[i]; c < m->cindptr[i + 1]; c++) {
            acc[m->cindices[c]] += (double)m->values[a] * m->cvalues[c];
            shared[m->cindices[c]] = 1;
        }
    }
    double un = row_norm(m, u);
    for (int64_t v = 0; v < nu; v++) {
        double d = un * row_norm(m, v);
        s[v] = shared[v] && v != u && d > 0 ? (float)(acc[v] / d) : NAN; /* NaN: never ranked */
    }
    cl_rec_topk(s, nu, k, NULL, 0, users, scores, n_out);
    cl_alloc_free(acc), cl_alloc_free(shared), cl_alloc_free(s);
    return CL_OK;
}

int cl_similar_users_explain(const cl_interactions *m, int64_t u, int64_t v, int k,
                             int32_t *items, float *contrib, int *n_out)
{
    *n_out = 0;
    int rc = check(m, u, k, "explain_similar");
    if (rc || (rc = check(m, v, k, "explain_similar")))
        return rc;
    int64_t ni = m->n_items;
    float *s = cl_alloc((size_t)(ni ? ni : 1) * sizeof *s);
    if (!s)
        return CL_ENOMEM;
    for (int64_t j = 0; j < ni; j++)
        s[j] = NAN;
    double d = row_norm(m, u) * row_norm(m, v);
    /* both rows are sorted by item: walk them together */
    int64_t a = m->indptr[u], b = m->indptr[v];
    while (d > 0 && a < m->indptr[u + 1] && b < m->indptr[v + 1]) {
        if (m->indices[a] < m->indices[b]) {
            a++;
        } else if (m->indices[a] > m->indices[b]) {
            b++;
        } else {
            s[m->indices[a]] = (float)((double)m->values[a] * m->values[b] / d);
            a++, b++;
        }
    }
    cl_rec_topk(s, ni, k, NULL, 0, items, contrib, n_out);
    cl_alloc_free(s);
    return CL_OK;
}
