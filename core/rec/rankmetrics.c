/* rankmetrics.c - precision/recall/MAP/NDCG/hit rate/MRR@k, coverage, novelty, RMSE, MAE. */
#include "rec/rankmetrics.h"

#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <string.h>

static int contains(const int32_t *rel, int64_t n, int32_t x)
{
    int64_t lo = 0, hi = n;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (rel[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && rel[lo] == x;
}

void cl_rankmetrics_list_eval(const int32_t *rec, int k, const int32_t *rel, int64_t n_rel,
                              cl_rankmetrics_list *out)
{
    memset(out, 0, sizeof *out);
    if (n_rel <= 0 || k <= 0)
        return;
    int hits = 0;
    double dcg = 0, idcg = 0, ap = 0;
    for (int i = 0; i < k; i++) {
        if (rec[i] < 0 || !contains(rel, n_rel, rec[i]))
            continue;
        /* a repeated item counts once */
        int dup = 0;
        for (int j = 0; j < i; j++)
            dup |= rec[j] == rec[i];
        if (dup)
            continue;
        hits++;
        dcg += 1.0 / log2((double)i + 2.0);
        ap += (double)hits / (double)(i + 1);
        if (hits == 1)
            out->rr = 1.0 / (double)(i + 1);
    }
    int64_t m = n_rel < k ? n_rel : k;
    for (int64_t i = 0; i < m; i++)
        idcg += 1.0 / log2((double)i + 2.0);
    out->precision = (double)hits / (double)k;
    out->recall = (double)hits / (double)n_rel;
    out->ap = ap / (double)m;
    out->ndcg = dcg / idcg;
    out->hit = hits > 0;
}

int cl_rankmetrics_evaluate(const int32_t *recs, int k, const cl_interactions *test,
                            const cl_interactions *train, cl_rankmetrics_report *out)
{
    memset(out, 0, sizeof *out);
    out->k = k;
    if (k < 1)
        return cl_error(CL_EINVAL, "evaluate: k must be >= 1, got %d", k);
    /* a content model's training matrix may hold more items than the test (feature rows
     * without interactions are appended at fit): those are never relevant, and coverage is
     * over the model's catalogue */
    if (train && (train->n_items < test->n_items || train->n_users != test->n_users))
        return cl_error(CL_EINVAL, "evaluate: train (%lldx%lld) and test (%lldx%lld) differ in "
                                   "shape; split them from one matrix",
                        (long long)train->n_users, (long long)train->n_items,
                        (long long)test->n_users, (long long)test->n_items);
    int64_t ni = train ? train->n_items : test->n_items;
    uint8_t *seen = cl_alloc_calloc((size_t)(ni ? ni : 1), 1);
    if (!seen)
        return CL_ENOMEM;
    double sp = 0, sr = 0, sap = 0, sn = 0, sh = 0, srr = 0, nov = 0;
    int64_t nrec = 0, users = 0;
    for (int64_t u = 0; u < test->n_users; u++) {
        const int32_t *row = recs + u * k;
        for (int j = 0; j < k; j++) {
            if (row[j] < 0)
                continue;
            if (row[j] >= ni) {
                cl_alloc_free(seen);
                return cl_error(CL_ERANGE, "evaluate: user %lld: item index %d out of range",
                                (long long)u, (int)row[j]);
            }
        }
        int64_t a = test->indptr[u], n = test->indptr[u + 1] - a;
        if (n == 0)
            continue;
        cl_rankmetrics_list l;
        cl_rankmetrics_list_eval(row, k, test->indices + a, n, &l);
        users++;
        sp += l.precision, sr += l.recall, sap += l.ap, sn += l.ndcg, sh += l.hit, srr += l.rr;
        for (int j = 0; j < k; j++) {
            if (row[j] < 0)
                continue;
            seen[row[j]] = 1;
            if (train) {
                double c = (double)cl_interactions_item_nnz(train, row[j]);
                double pu = (c > 1 ? c : 1) / (double)(train->n_users ? train->n_users : 1);
                nov += -log2(pu);
            }
            nrec++;
        }
    }
    int64_t covered = 0;
    for (int64_t j = 0; j < ni; j++)
        covered += seen[j];
    cl_alloc_free(seen);
    out->users = users;
    double d = users ? (double)users : 1;
    out->precision = sp / d, out->recall = sr / d, out->map = sap / d, out->ndcg = sn / d;
    out->hit_rate = sh / d, out->mrr = srr / d;
    out->coverage = ni ? (double)covered / (double)ni : 0;
    out->novelty = train ? (nrec ? nov / (double)nrec : 0) : NAN;
    return CL_OK;
}

static int check_pairs(const double *pred, const double *truth, int64_t n, const char *what)
{
    if (n <= 0)
        return cl_error(CL_EINVAL, "%s: no pairs", what);
    for (int64_t i = 0; i < n; i++)
        if (!isfinite(pred[i]) || !isfinite(truth[i]))
            return cl_error(CL_EINVAL, "%s: pair %lld is not finite", what, (long long)i + 1);
    return CL_OK;
}

int cl_rankmetrics_rmse(const double *pred, const double *truth, int64_t n, double *out)
{
    int rc = check_pairs(pred, truth, n, "rmse");
    if (rc)
        return rc;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += (pred[i] - truth[i]) * (pred[i] - truth[i]);
    *out = sqrt(s / (double)n);
    return CL_OK;
}

int cl_rankmetrics_mae(const double *pred, const double *truth, int64_t n, double *out)
{
    int rc = check_pairs(pred, truth, n, "mae");
    if (rc)
        return rc;
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += fabs(pred[i] - truth[i]);
    *out = s / (double)n;
    return CL_OK;
}
