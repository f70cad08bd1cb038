/* mlp.c - dense network for binary classification: layout, fused layer passes on top of
 * cblas_sgemm, the training loop, prediction and model files.
 *
 * Flat parameter layout (the gradient uses the same): for each dense layer l = 0..L-1 with
 * fan-in `in` and width `out`: W (in x out, row-major), b (out), then for hidden layers with
 * batch norm: gamma (out), beta (out). Running batch-norm statistics (mean, var per hidden
 * unit) live in a second vector that is not trained.
 */
#include "models/mlp.h"
#include "base/alloc.h"
#include "models/prior.h"
#include "base/error.h"
#include "eval/metrics.h"
#include "base/optim.h"
#include "base/param_io.h"
#include "base/rng.h"
#include "base/threads.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define MAXL (CL_PARAM_MAXINTS + 1)
#define BN_EPS 1e-5f
#define BN_MOMENTUM 0.1f
#define EVAL_CHUNK 256
#define GEMM_ROWS 64               /* fixed row blocks: results never depend on threads */
#define PAR_MIN_FLOPS (1 << 22) /* M*N*K below this stays on one thread: OpenMP sync
                                 * costs more than it saves for batch <= 256 */

#ifdef _OPENMP
#include <omp.h>
#endif

const cl_param_def cl_mlp_param_defs[] = {
    {"hidden", CL_PARAM_INTS, offsetof(cl_mlp_params, hidden), 64, 1, 65536, NULL,
     "hidden layer widths, input to output (default {64, 64}; {} is logistic regression)"},
    {"activation", CL_PARAM_ENUM, offsetof(cl_mlp_params, activation), 0, 0, 0,
     "relu|tanh|gelu", "hidden activation"},
    {"dropout", CL_PARAM_NUM, offsetof(cl_mlp_params, dropout), 0, 0, 0.95, NULL,
     "dropout rate after each hidden activation, in training only: inverted dropout as "
     "PyTorch's nn.Dropout and Keras' Dropout (kept units scaled by 1 / (1 - p)); steps "
     "equal PyTorch's given the same masks (test_mlp_dropout)"},
    {"batch_norm", CL_PARAM_BOOL, offsetof(cl_mlp_params, batch_norm), 0, 0, 1, NULL,
     "batch normalisation between each hidden dense layer and its activation"},
    {"init", CL_PARAM_ENUM, offsetof(cl_mlp_params, init), 0, 0, 0, "auto|he|glorot",
     "weight init from the seed (auto: Glorot uniform, as Keras' Dense; he: He normal)"},
    {"optimizer", CL_PARAM_ENUM, offsetof(cl_mlp_params, optimizer), 0, 0, 0, "adam|adamw|sgd",
     "optimiser"},
    {"lr", CL_PARAM_NUM, offsetof(cl_mlp_params, lr), 1e-3, 1e-12, 10, NULL, "learning rate"},
    {"beta1", CL_PARAM_NUM, offsetof(cl_mlp_params, beta1), 0.9, 0, 0.999999, NULL,
     "Adam first-moment decay"},
    {"beta2", CL_PARAM_NUM, offsetof(cl_mlp_params, beta2), 0.999, 0, 0.99999999, NULL,
     "Adam second-moment decay"},
    {"eps", CL_PARAM_NUM, offsetof(cl_mlp_params, eps), 1e-7, 1e-12, 1, NULL,
     "Adam denominator epsilon (1e-7 as Keras; PyTorch uses 1e-8)"},
    {"momentum", CL_PARAM_NUM, offsetof(cl_mlp_params, momentum), 0.9, 0, 0.9999, NULL,
     "SGD momentum (0: plain SGD)"},
    {"nesterov", CL_PARAM_BOOL, offsetof(cl_mlp_params, nesterov), 0, 0, 1, NULL,
     "SGD: Nesterov momentum"},
    {"weight_decay", CL_PARAM_NUM, offsetof(cl_mlp_params, weight_decay), 0, 0, 10, NULL,
     "weight decay on weight matrices (L2 for adam/sgd, decoupled for adamw)"},
    {"batch", CL_PARAM_INT, offsetof(cl_mlp_params, batch), 32, 1, 65536, NULL,
     "mini-batch size"},
    {"epochs", CL_PARAM_INT, offsetof(cl_mlp_params, epochs), 20, 1, 100000, NULL,
     "passes over the training set"},
    {"schedule", CL_PARAM_ENUM, offsetof(cl_mlp_params, schedule), 0, 0, 0,
     "constant|step|cosine", "learning-rate schedule (per epoch)"},
    {"step_size", CL_PARAM_INT, offsetof(cl_mlp_params, step_size), 10, 1, 100000, NULL,
     "step schedule: epochs between decays"},
    {"gamma", CL_PARAM_NUM, offsetof(cl_mlp_params, gamma), 0.1, 0, 1, NULL,
     "step schedule: decay factor"},
    {"class_weight", CL_PARAM_ENUM, offsetof(cl_mlp_params, class_weight), 0, 0, 0,
     "none|balanced", "balanced: each class weighs n / (2 n_class)"},
    {"pos_weight", CL_PARAM_NUM, offsetof(cl_mlp_params, pos_weight), 1, 0, 1e6, NULL,
     "extra weight of positive rows in the loss"},
    {"neg_weight", CL_PARAM_NUM, offsetof(cl_mlp_params, neg_weight), 1, 0, 1e6, NULL,
     "extra weight of negative rows in the loss"},
    {"seed", CL_PARAM_SEED, offsetof(cl_mlp_params, seed), 42, 0, 0, NULL,
     "seed of the initial weights, batch order and dropout"},
    {"prior_correction", CL_PARAM_BOOL, offsetof(cl_mlp_params, prior_correction), 1, 0, 1,
     NULL, "after class weights: map probabilities back to the true churn rate (predict)"},
    {NULL, 0, 0, 0, 0, 0, NULL, NULL}};

void cl_mlp_params_default(cl_mlp_params *p)
{
    memset(p, 0, sizeof *p);
    cl_param_defaults(cl_mlp_param_defs, p);
    p->hidden.n = 2;
    p->hidden.v[0] = 64;
    p->hidden.v[1] = 64;
}

struct cl_mlp {
    cl_mlp_params p;
    int nl;                /* dense layers */
    int64_t dims[MAXL + 1];
    int64_t woff[MAXL], boff[MAXL], goff[MAXL], beoff[MAXL], soff[MAXL];
    int64_t np, ns;        /* trainable parameters, running statistics */
    float *theta, *stats;
    int64_t d;
    char **names;
    int64_t nnames;
    int fitted, epochs_run;
    double prior_trained, prior_true; /* positive rates: reweighted fit, labels (NaN: unknown) */
};

/* ---- layout ------------------------------------------------------------------------- */

static int bn_layer(const cl_mlp *m, int l) { return m->p.batch_norm && l < m->nl - 1; }

static int layout(cl_mlp *m, int64_t d)
{
    m->nl = m->p.hidden.n + 1;
    m->dims[0] = d;
    for (int i = 0; i < m->p.hidden.n; i++)
        m->dims[i + 1] = m->p.hidden.v[i];
    m->dims[m->nl] = 1;
    int64_t off = 0, soff = 0;
    for (int l = 0; l < m->nl; l++) {
        int64_t in = m->dims[l], out = m->dims[l + 1];
        if (in > ((int64_t)1 << 31) / out)
            return cl_error(CL_ERANGE, "mlp: layer %d would have %lld x %lld weights", l + 1,
                            (long long)in, (long long)out);
        m->woff[l] = off;
        off += in * out;
        m->boff[l] = off;
        off += out;
        m->goff[l] = m->beoff[l] = m->soff[l] = -1;
        if (bn_layer(m, l)) {
            m->goff[l] = off;
            off += out;
            m->beoff[l] = off;
            off += out;
            m->soff[l] = soff;
            soff += 2 * out;
        }
    }
    m->np = off;
    m->ns = soff;
    return CL_OK;
}

static int alloc_weights(cl_mlp *m, int64_t d)
{
    int rc = layout(m, d);
    if (rc)
        return rc;
    cl_alloc_free(m->theta);
    cl_alloc_free(m->stats);
    m->stats = NULL;
    m->theta = cl_alloc_calloc((size_t)m->np, sizeof(float));
    if (m->ns)
        m->stats = cl_alloc_calloc((size_t)m->ns, sizeof(float));
    if (!m->theta || (m->ns && !m->stats))
        return CL_ENOMEM;
    m->d = d;
    return CL_OK;
}

/* Weights from stream 2 of the seed: Glorot uniform U(-a, a), a = sqrt(6 / (in + out))
 * (auto, as Keras' Dense kernel_initializer) or He normal N(0, 2/in) for the hidden layers;
 * biases and betas 0, gammas 1, running var 1. Auto was He for relu/gelu until issue 20
 * measured Glorot better on Telco (AUC 0.8473 vs 0.8452 over 20 seeds); only fits change,
 * model files hold the weights. */
static void init_weights(cl_mlp *m)
{
    cl_rng r;
    cl_rng_split(&r, m->p.seed, 2);
    int he = m->p.init == CL_INIT_HE;
    memset(m->theta, 0, (size_t)m->np * sizeof(float));
    for (int l = 0; l < m->nl; l++) {
        int64_t in = m->dims[l], out = m->dims[l + 1];
        float *W = m->theta + m->woff[l];
        int layer_he = he && l < m->nl - 1; /* the output layer feeds a sigmoid: Glorot */
        double sd = sqrt(2.0 / (double)in), a = sqrt(6.0 / (double)(in + out));
        for (int64_t i = 0; i < in * out; i++)
            W[i] = (float)(layer_he ? sd * cl_rng_normal(&r) : a * (2 * cl_rng_uniform(&r) - 1));
        if (bn_layer(m, l)) {
            for (int64_t j = 0; j < out; j++) {
                m->theta[m->goff[l] + j] = 1.0f;
                m->stats[m->soff[l] + j] = 0.0f;
                m->stats[m->soff[l] + out + j] = 1.0f;
            }
        }
    }
}

/* ---- lifecycle ---------------------------------------------------------------------- */

int cl_mlp_new(cl_mlp **out, const cl_mlp_params *p)
{
    *out = NULL;
    int rc = cl_param_validate(cl_mlp_param_defs, p, "mlp");
    if (rc)
        return rc;
    cl_mlp *m = cl_alloc_calloc(1, sizeof *m);
    if (!m)
        return CL_ENOMEM;
    m->p = *p;
    m->nl = p->hidden.n + 1;
    m->prior_trained = m->prior_true = NAN;
    *out = m;
    return CL_OK;
}

static void free_names(cl_mlp *m)
{
    cl_alloc_strs_free(m->names, m->nnames);
    m->names = NULL;
    m->nnames = 0;
}

void cl_mlp_free(cl_mlp *m)
{
    if (!m)
        return;
    free_names(m);
    cl_alloc_free(m->theta);
    cl_alloc_free(m->stats);
    cl_alloc_free(m);
}

int cl_mlp_set_names(cl_mlp *m, const char *const *names, int64_t d)
{
    if (d < 1)
        return cl_error(CL_EINVAL, "mlp: need at least one feature name");
    char **v;
    int rc = cl_alloc_strs_dup(&v, names, d);
    if (rc)
        return rc;
    free_names(m);
    m->names = v;
    m->nnames = d;
    return CL_OK;
}

void cl_mlp_history_free(cl_mlp_history *h)
{
    if (!h)
        return;
    cl_alloc_free(h->loss);
    cl_alloc_free(h->val_loss);
    cl_alloc_free(h->val_auc);
    cl_alloc_free(h->lr);
    memset(h, 0, sizeof *h);
}

int cl_mlp_fitted(const cl_mlp *m) { return m->fitted; }
int64_t cl_mlp_inputs(const cl_mlp *m) { return m->theta ? m->d : 0; }
int cl_mlp_epochs_run(const cl_mlp *m) { return m->epochs_run; }
const cl_mlp_params *cl_mlp_params_of(const cl_mlp *m) { return &m->p; }
const char *cl_mlp_name(const cl_mlp *m, int64_t j)
{
    return j >= 0 && j < m->nnames ? m->names[j] : NULL;
}
int64_t cl_mlp_nparams(const cl_mlp *m) { return m->theta ? m->np : 0; }
float *cl_mlp_params_vector(cl_mlp *m) { return m->theta; }

const char *cl_mlp_describe(const cl_mlp *m, char *buf, size_t cap)
{
    static const char *acts[] = {"relu", "tanh", "gelu"}, *opts[] = {"adam", "adamw", "sgd"};
    size_t used = 0;
    int k = snprintf(buf, cap, "%lld", (long long)(m->theta ? m->d : 0));
    if (m->theta == NULL)
        k = snprintf(buf, cap, "?");
    used = k > 0 ? (size_t)k : 0;
    for (int i = 0; i < m->p.hidden.n && used < cap; i++) {
        k = snprintf(buf + used, cap - used, "-%d", m->p.hidden.v[i]);
        used += k > 0 ? (size_t)k : 0;
    }
    if (used < cap)
        snprintf(buf + used, cap - used, "-1 %s%s%s %s, %s", acts[m->p.activation],
                 m->p.batch_norm ? " batchnorm" : "", m->p.dropout > 0 ? " dropout" : "",
                 opts[m->p.optimizer], m->fitted ? "" : "not fitted");
    if (m->fitted) {
        size_t len = strlen(buf);
        if (len < cap)
            snprintf(buf + len, cap - len, "fitted %d epoch%s", m->epochs_run,
                     m->epochs_run == 1 ? "" : "s");
    }
    return buf;
}

/* ---- workspace: every buffer a fit or a prediction needs, in one allocation ----------- */

typedef struct ws {
    int64_t rows;
    int nt; /* threads for the blocked gemms (1 inside a parallel region) */
    float *xb, *yb, *wb;
    float *z[MAXL], *a[MAXL], *mask[MAXL];
    const float *keep_in[MAXL]; /* given keep decisions per hidden layer (NULL: drawn) */
    float *mu[MAXL], *istd[MAXL];
    float *da, *dz, *grad;
    double *colsum, *colsum2;
    float *block;
} ws;

static float *carve(float **at, int64_t n)
{
    float *p = *at;
    *at += (n + 15) / 16 * 16; /* keep 64-byte alignment */
    return p;
}

static int ws_new(ws *w, const cl_mlp *m, int64_t rows, int train)
{
    memset(w, 0, sizeof *w);
    int64_t maxw = 1, total = 0;
    for (int l = 0; l <= m->nl; l++)
        maxw = m->dims[l] > maxw ? m->dims[l] : maxw;
#define ADD(n) (total += ((n) + 15) / 16 * 16)
    ADD(rows * m->d);
    ADD(rows);
    ADD(rows);
    for (int l = 0; l < m->nl; l++) {
        int64_t out = m->dims[l + 1];
        ADD(rows * out); /* z */
        ADD(rows * out); /* a */
        if (train && m->p.dropout > 0)
            ADD(rows * out);
        ADD(out);
        ADD(out);
    }
    ADD(rows * maxw);
    ADD(rows * maxw);
    ADD(m->np);
    ADD(4 * maxw); /* two double arrays */
#undef ADD
    size_t bytes;
    if (!cl_alloc_mul_size((size_t)total, sizeof(float), &bytes))
        return CL_ERANGE;
    w->block = cl_alloc(bytes);
    if (!w->block)
        return CL_ENOMEM;
    float *at = w->block;
    w->rows = rows;
    w->xb = carve(&at, rows * m->d);
    w->yb = carve(&at, rows);
    w->wb = carve(&at, rows);
    for (int l = 0; l < m->nl; l++) {
        int64_t out = m->dims[l + 1];
        w->z[l] = carve(&at, rows * out);
        w->a[l] = carve(&at, rows * out);
        w->mask[l] = train && m->p.dropout > 0 ? carve(&at, rows * out) : NULL;
        w->mu[l] = carve(&at, out);
        w->istd[l] = carve(&at, out);
    }
    w->da = carve(&at, rows * maxw);
    w->dz = carve(&at, rows * maxw);
    w->grad = carve(&at, m->np);
    w->colsum = (double *)carve(&at, 4 * maxw);
    w->colsum2 = w->colsum + maxw;
    w->nt = cl_threads_get();
    return CL_OK;
}

static void ws_free(ws *w) { cl_alloc_free(w->block); }

/* ---- gemm with a thread-count-independent result ------------------------------------ */

/* OpenBLAS's own threading changes the floating-point result with the thread count (seen
 * here: a 2-thread fit differed from a 1-thread fit in the last bits), so fits and
 * predictions run OpenBLAS on one thread and split C = op(A) op(B) themselves into fixed
 * GEMM_ROWS-row blocks, one single-threaded sgemm per block, blocks spread over threads. */
static void gemm_block(int ta, int tb, int64_t b, int64_t M, int64_t N, int64_t K,
                       const float *A, int64_t lda, const float *B, int64_t ldb, float *C)
{
    int64_t i0 = b * GEMM_ROWS, m = M - i0 < GEMM_ROWS ? M - i0 : GEMM_ROWS;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
                (int)m, (int)N, (int)K, 1.0f, ta ? A + i0 : A + i0 * lda, (int)lda, B, (int)ldb,
                0.0f, C + i0 * N, (int)N);
}

static void gemm(int ta, int tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                 const float *B, int64_t ldb, float *C, int nt)
{
    int64_t nb = (M + GEMM_ROWS - 1) / GEMM_ROWS;
    if (nt > 1 && nb > 1 && (double)M * (double)N * (double)K >= PAR_MIN_FLOPS) {
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t b = 0; b < nb; b++)
            gemm_block(ta, tb, b, M, N, K, A, lda, B, ldb, C);
    } else { /* same blocks, no OpenMP entry cost (it showed at batch 32) */
        for (int64_t b = 0; b < nb; b++)
            gemm_block(ta, tb, b, M, N, K, A, lda, B, ldb, C);
    }
}

/* OpenBLAS on one thread while a fit or prediction runs; returns the previous count. */
static int blas_single(void)
{
    int prev = openblas_get_num_threads();
    openblas_set_num_threads(1);
    return prev;
}

/* ---- the fused layer passes ------------------------------------------------------------ */

static inline float act(int kind, float z)
{
    switch (kind) {
    case CL_ACT_TANH: return tanhf(z);
    case CL_ACT_GELU: return 0.5f * z * (1.0f + erff(z * (float)M_SQRT1_2));
    default: return z > 0 ? z : 0;
    }
}

static inline float act_grad(int kind, float z, float a)
{
    switch (kind) {
    case CL_ACT_TANH: return 1.0f - a * a;
    case CL_ACT_GELU: {
        float cdf = 0.5f * (1.0f + erff(z * (float)M_SQRT1_2));
        return cdf + z * 0.3989422804014327f * expf(-0.5f * z * z);
    }
    default: return z > 0 ? 1.0f : 0.0f;
    }
}

static inline float sigmoidf(float z)
{
    if (z >= 0)
        return 1.0f / (1.0f + expf(-z));
    float e = expf(z);
    return e / (1.0f + e);
}

/* BCE on the logit z: max(z, 0) - z y + log1p(exp(-|z|)), exact for any z. */
static inline double bce_logit(float z, float y)
{
    double zd = z;
    return fmax(zd, 0.0) - zd * y + log1p(exp(-fabs(zd)));
}

/* s[j] = sum_i x[i][j] (rows x cols), in double, vectorised. */
static void colsum(double *restrict s, const float *restrict x, int64_t rows, int64_t cols)
{
    for (int64_t j = 0; j < cols; j++)
        s[j] = 0;
    for (int64_t i = 0; i < rows; i++) {
        const float *restrict xi = x + i * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++)
            s[j] += (double)xi[j];
    }
}

static void relu_mask(float *restrict g, const float *restrict z, int64_t n)
{
#pragma omp simd
    for (int64_t i = 0; i < n; i++)
        g[i] = z[i] > 0 ? g[i] : 0.0f;
}

/* z += b; a = relu(z), row by row. */
static void bias_relu(float *restrict z, float *restrict a, const float *restrict b, int64_t rows,
                      int64_t cols)
{
    for (int64_t i = 0; i < rows; i++) {
        float *restrict zi = z + i * cols, *restrict ai = a + i * cols;
#pragma omp simd
        for (int64_t j = 0; j < cols; j++) {
            float v = zi[j] + b[j];
            zi[j] = v;
            ai[j] = v > 0 ? v : 0;
        }
    }
}

enum { MODE_EVAL = 0, MODE_TRAIN = 1, MODE_TRAIN_NO_DROPOUT = 2 };

/* Inverted dropout on hidden layer l's output (n values), as Keras' Dropout and PyTorch's
 * nn.Dropout in training: a unit is kept with probability 1 - p and then scaled by
 * 1 / (1 - p), so prediction (MODE_EVAL) uses the weights as they are. The mask (0 or the
 * scale) stays for backward. The keep decisions come from the fit's dropout stream, or from
 * the caller of cl_mlp_train_steps (w->keep_in), so a reference can be given the same mask. */
static void apply_dropout(const cl_mlp *m, ws *w, int l, int64_t n, cl_rng *rng)
{
    const float keep = (float)(1.0 - m->p.dropout), scale = 1.0f / keep;
    float *restrict mask = w->mask[l], *restrict a = w->a[l];
    const float *given = w->keep_in[l];
    if (given) {
        for (int64_t i = 0; i < n; i++) {
            mask[i] = given[i] != 0 ? scale : 0.0f;
            a[i] *= mask[i];
        }
        return;
    }
    for (int64_t i = 0; i < n; i++) { /* the fit's loop as it was: one pass, draw and apply */
        mask[i] = cl_rng_uniform(rng) < keep ? scale : 0.0f;
        a[i] *= mask[i];
    }
}

/* Forward pass over B rows of x (B x d). Training mode uses batch statistics (and updates
 * the running ones when update_stats) and dropout from rng. Logits end in z[nl-1]. */
static void forward(cl_mlp *m, ws *w, const float *x, int64_t B, int mode, int update_stats,
                    cl_rng *rng)
{
    const float *in = x;
    int64_t din = m->d;
    const int kind = m->p.activation;
    for (int l = 0; l < m->nl; l++) {
        int64_t out = m->dims[l + 1];
        const float *W = m->theta + m->woff[l], *b = m->theta + m->boff[l];
        float *z = w->z[l], *a = w->a[l];
        gemm(0, 0, B, out, din, in, din, W, out, z, w->nt);
        if (l == m->nl - 1) {
            for (int64_t i = 0; i < B; i++)
                for (int64_t j = 0; j < out; j++)
                    z[i * out + j] += b[j];
            break;
        }
        if (bn_layer(m, l)) {
            const float *g = m->theta + m->goff[l], *be = m->theta + m->beoff[l];
            float *rmean = m->stats + m->soff[l], *rvar = rmean + out;
            float *mu = w->mu[l], *istd = w->istd[l];
            if (mode != MODE_EVAL) {
                double *s = w->colsum, *s2 = w->colsum2;
                for (int64_t j = 0; j < out; j++)
                    s[j] = s2[j] = 0;
                for (int64_t i = 0; i < B; i++)
                    for (int64_t j = 0; j < out; j++)
                        s[j] += (double)z[i * out + j] + b[j];
                for (int64_t j = 0; j < out; j++)
                    s[j] /= (double)B;
                for (int64_t i = 0; i < B; i++)
                    for (int64_t j = 0; j < out; j++) {
                        double c = (double)z[i * out + j] + b[j] - s[j];
                        s2[j] += c * c;
                    }
                for (int64_t j = 0; j < out; j++) {
                    double var = s2[j] / (double)B;
                    mu[j] = (float)(s[j] - b[j]); /* applied to z without the bias */
                    istd[j] = (float)(1.0 / sqrt(var + BN_EPS));
                    if (update_stats) {
                        double unbiased = B > 1 ? s2[j] / (double)(B - 1) : var;
                        rmean[j] = (1 - BN_MOMENTUM) * rmean[j] + BN_MOMENTUM * (float)s[j];
                        rvar[j] = (1 - BN_MOMENTUM) * rvar[j] + BN_MOMENTUM * (float)unbiased;
                    }
                }
            } else {
                for (int64_t j = 0; j < out; j++) {
                    mu[j] = rmean[j] - b[j];
                    istd[j] = 1.0f / sqrtf(rvar[j] + BN_EPS);
                }
            }
            /* z <- xhat (kept for backward); a <- act(gamma xhat + beta); the affine
             * output is recomputed in backward. */
            for (int64_t i = 0; i < B; i++)
                for (int64_t j = 0; j < out; j++) {
                    float xh = (z[i * out + j] - mu[j]) * istd[j];
                    z[i * out + j] = xh;
                    a[i * out + j] = act(kind, g[j] * xh + be[j]);
                }
        } else {
            if (kind == CL_ACT_RELU) {
                bias_relu(z, a, b, B, out);
            } else {
                for (int64_t i = 0; i < B; i++) {
                    float *zi = z + i * out, *ai = a + i * out;
                    for (int64_t j = 0; j < out; j++) {
                        zi[j] += b[j];
                        ai[j] = act(kind, zi[j]);
                    }
                }
            }
        }
        if (mode == MODE_TRAIN && m->p.dropout > 0)
            apply_dropout(m, w, l, B * out, rng);
        in = a;
        din = out;
    }
}

/* Backward pass after forward(): fills w->grad with the gradient of
 * sum_i wb_i bce(z_i, yb_i) / B; returns that loss. */
static double backward(cl_mlp *m, ws *w, const float *x, int64_t B, int dropout)
{
    const int L = m->nl, kind = m->p.activation;
    float *dz = w->dz, *da = w->da;
    const float *zl = w->z[L - 1];
    double loss = 0;
    const float invB = 1.0f / (float)B;
    for (int64_t i = 0; i < B; i++) {
        loss += w->wb[i] * bce_logit(zl[i], w->yb[i]);
        dz[i] = w->wb[i] * (sigmoidf(zl[i]) - w->yb[i]) * invB;
    }
    for (int l = L - 1; l >= 0; l--) {
        int64_t in = m->dims[l], out = m->dims[l + 1];
        const float *A = l == 0 ? x : w->a[l - 1];
        gemm(1, 0, in, out, B, A, in, dz, out, w->grad + m->woff[l], w->nt);
        colsum(w->colsum, dz, B, out);
        for (int64_t j = 0; j < out; j++)
            w->grad[m->boff[l] + j] = (float)w->colsum[j];
        if (l == 0)
            break;
        /* da = dz W^T: gradient of the previous layer's output (B x in) */
        gemm(0, 1, B, in, out, dz, out, m->theta + m->woff[l], out, da, w->nt);
        int p = l - 1; /* the hidden layer whose output is A */
        const float *z = w->z[p], *a = w->a[p];
        if (dropout && w->mask[p])
            for (int64_t i = 0; i < B * in; i++)
                da[i] *= w->mask[p][i];
        if (bn_layer(m, p)) {
            const float *g = m->theta + m->goff[p], *be = m->theta + m->beoff[p];
            const float *istd = w->istd[p];
            double *sdy = w->colsum, *sdyx = w->colsum2;
            for (int64_t j = 0; j < in; j++)
                sdy[j] = sdyx[j] = 0;
            /* dy = da * act'(gamma xhat + beta), into da; z holds xhat */
            for (int64_t i = 0; i < B; i++)
                for (int64_t j = 0; j < in; j++) {
                    float xh = z[i * in + j];
                    float pre = g[j] * xh + be[j];
                    float av = dropout && w->mask[p] ? (w->mask[p][i * in + j] != 0
                                                            ? a[i * in + j] / w->mask[p][i * in + j]
                                                            : act(kind, pre))
                                                      : a[i * in + j];
                    float dy = da[i * in + j] * act_grad(kind, pre, av);
                    da[i * in + j] = dy;
                    sdy[j] += dy;
                    sdyx[j] += (double)dy * xh;
                }
            for (int64_t j = 0; j < in; j++) {
                w->grad[m->goff[p] + j] = (float)sdyx[j];
                w->grad[m->beoff[p] + j] = (float)sdy[j];
            }
            /* dz = gamma istd / B (B dy - sum dy - xhat sum(dy xhat)) */
            for (int64_t i = 0; i < B; i++)
                for (int64_t j = 0; j < in; j++) {
                    double v = (double)B * da[i * in + j] - sdy[j] - z[i * in + j] * sdyx[j];
                    da[i * in + j] = (float)(g[j] * istd[j] * v / (double)B);
                }
        } else if (kind == CL_ACT_RELU) {
            relu_mask(da, z, B * in);
        } else {
            for (int64_t i = 0; i < B * in; i++) {
                float av = dropout && w->mask[p] ? (w->mask[p][i] != 0 ? a[i] / w->mask[p][i]
                                                                       : act(kind, z[i]))
                                                 : a[i];
                da[i] *= act_grad(kind, z[i], av);
            }
        }
        float *t = dz;
        dz = da;
        da = t;
    }
    return loss / (double)B;
}

/* ---- input checks ------------------------------------------------------------------- */

static int check_xy(const cl_mlp *m, const char *what, const float *X, const float *y,
                    int64_t n, int64_t d)
{
    if (n < 1)
        return cl_error(CL_EINVAL, "mlp: %s has no rows", what);
    if (d < 1)
        return cl_error(CL_EINVAL, "mlp: %s has no columns", what);
    for (int64_t i = 0; i < n; i++) {
        const float *r = X + i * d;
        for (int64_t j = 0; j < d; j++)
            if (!isfinite(r[j])) {
                const char *nm = cl_mlp_name(m, j);
                return cl_error(CL_EINVAL, "mlp: %s row %lld, column %lld%s%s%s is %s", what,
                                (long long)(i + 1), (long long)(j + 1), nm ? " ('" : "",
                                nm ? nm : "", nm ? "')" : "", isnan(r[j]) ? "NaN" : "infinite");
            }
        if (y && y[i] != 0.0f && y[i] != 1.0f)
            return cl_error(CL_EINVAL, "mlp: %s label at row %lld is %g: labels must be 0 or 1",
                            what, (long long)(i + 1), (double)y[i]);
    }
    return CL_OK;
}

/* ---- fit ---------------------------------------------------------------------------- */

int cl_mlp_init_weights(cl_mlp *m, int64_t d)
{
    int rc = alloc_weights(m, d);
    if (rc)
        return rc;
    init_weights(m);
    return CL_OK;
}

static double class_weights(const cl_mlp *m, const float *y, int64_t n, float *wpos, float *wneg)
{
    double P = 0;
    for (int64_t i = 0; i < n; i++)
        P += y[i];
    double wp = 1, wn = 1;
    if (m->p.class_weight == CL_CW_BALANCED && P > 0 && P < (double)n) {
        wp = (double)n / (2 * P);
        wn = (double)n / (2 * ((double)n - P));
    }
    *wpos = (float)(wp * m->p.pos_weight);
    *wneg = (float)(wn * m->p.neg_weight);
    return P;
}

/* Mean BCE (unweighted) and AUC of the current weights on a data set. */
static int evaluate(cl_mlp *m, ws *w, const float *X, const float *y, int64_t n, float *pbuf,
                    double *loss, double *auc)
{
    double s = 0;
    for (int64_t i0 = 0; i0 < n; i0 += w->rows) {
        int64_t B = n - i0 < w->rows ? n - i0 : w->rows;
        forward(m, w, X + i0 * m->d, B, MODE_EVAL, 0, NULL);
        for (int64_t i = 0; i < B; i++) {
            float z = w->z[m->nl - 1][i];
            s += bce_logit(z, y[i0 + i]);
            pbuf[i0 + i] = sigmoidf(z);
        }
    }
    *loss = s / (double)n;
    *auc = NAN;
    if (cl_metrics_roc_auc(auc, y, pbuf, n) != CL_OK) {
        *auc = NAN; /* one class only in the validation set: AUC undefined */
        cl_error_clear();
    }
    return CL_OK;
}

/* ---- fitting, in named steps: run_epoch (a shuffled pass, batch by batch), batch_step
 * (gather, forward, backward, weight decay, optimizer), end_epoch (validation, best weights,
 * early stopping, progress); Keras' fit loop and PyTorch's train/validate epoch are the
 * model ---- */

/* One fit's state: the data, the loop's workspace, the optimizer's moments, the best epoch's
 * weights and where the loop stands. */
typedef struct trainer {
    cl_mlp *m;
    const float *X, *y;
    int64_t n, d;
    int64_t batch, nb; /* rows per batch (at most n), batches per epoch */
    const cl_mlp_fit_opts *o;
    cl_mlp_history *hist; /* NULL: not recorded */
    const cl_progress *prog;
    ws w;
    float *st1, *st2; /* the optimizer's state: Adam's moments, SGD's velocity in st1 */
    float *keep;      /* the best epoch's weights, then its batch-norm statistics */
    float *pv;        /* validation probabilities (evaluate's buffer) */
    uint32_t *idx;    /* the epoch's row order */
    float wpos, wneg; /* class weights of the positive and the negative rows */
    double npos;      /* positive labels (for the prior correction) */
    cl_rng shuf, drop;
    int64_t step;     /* optimizer steps so far: Adam's bias correction */
    double best;      /* the best validation loss so far */
    int best_epoch;   /* 1-based; 0: no epoch kept yet */
    int bad;          /* epochs since the best one */
    int done_epochs, stopped, interrupted;
} trainer;

/* What a fit refuses before it changes the model. */
static int check_fit(const cl_mlp *m, const float *X, const float *y, int64_t n, int64_t d,
                     const cl_mlp_fit_opts *opts)
{
    if (m->nnames && m->nnames != d)
        return cl_error(CL_EINVAL, "mlp: X has %lld columns but the model has %lld feature "
                                   "names", (long long)d, (long long)m->nnames);
    if (n > (int64_t)UINT32_MAX)
        return cl_error(CL_ERANGE, "mlp: at most 2^32 - 1 training rows");
    int rc = check_xy(m, "X", X, y, n, d);
    if (rc)
        return rc;
    if (opts->Xv) {
        if (!opts->yv)
            return cl_error(CL_EINVAL, "mlp: validation X given without y");
        if ((rc = check_xy(m, "validation X", opts->Xv, opts->yv, opts->nv, d)))
            return rc;
    }
    if (opts->early_stop < 0)
        return cl_error(CL_EINVAL, "mlp: early_stop must be >= 0, got %d", opts->early_stop);
    return cl_threads_blas("mlp: fit");
}

static void trainer_free(trainer *tr)
{
    ws_free(&tr->w);
    cl_alloc_free(tr->st1);
    cl_alloc_free(tr->st2);
    cl_alloc_free(tr->keep);
    cl_alloc_free(tr->idx);
    cl_alloc_free(tr->pv);
}

/* Everything the loop needs around the model's current weights, allocated once (tr zeroed by
 * the caller), `batch` rows a step at most; the class weights and the two random streams
 * (row order, dropout) from the seed. */
static int trainer_alloc(trainer *tr, cl_mlp *m, const float *X, const float *y, int64_t n,
                         int64_t d, int64_t batch, const cl_mlp_fit_opts *opts,
                         cl_mlp_history *hist, const cl_progress *prog)
{
    tr->m = m;
    tr->X = X;
    tr->y = y;
    tr->n = n;
    tr->d = d;
    tr->o = opts;
    tr->hist = hist;
    tr->prog = prog;
    tr->batch = batch < n ? batch : n;
    tr->nb = (n + tr->batch - 1) / tr->batch;
    tr->best = INFINITY;
    int rc;
    if ((rc = ws_new(&tr->w, m, tr->batch > EVAL_CHUNK ? tr->batch : EVAL_CHUNK, 1)))
        return rc;
    const int epochs = m->p.epochs;
    int64_t np = m->np, ns = m->ns;
    tr->st1 = cl_alloc_calloc((size_t)np, sizeof(float));
    tr->st2 = cl_alloc_calloc((size_t)np, sizeof(float));
    tr->keep = cl_alloc((size_t)(np + ns + 1) * sizeof(float));
    tr->idx = cl_alloc((size_t)n * sizeof(uint32_t));
    tr->pv = opts->Xv ? cl_alloc((size_t)opts->nv * sizeof(float)) : NULL;
    if (hist) {
        hist->loss = cl_alloc_calloc((size_t)epochs, sizeof(double));
        hist->val_loss = cl_alloc_calloc((size_t)epochs, sizeof(double));
        hist->val_auc = cl_alloc_calloc((size_t)epochs, sizeof(double));
        hist->lr = cl_alloc_calloc((size_t)epochs, sizeof(double));
    }
    if (!tr->st1 || !tr->st2 || !tr->keep || !tr->idx || (opts->Xv && !tr->pv) ||
        (hist && (!hist->loss || !hist->val_loss || !hist->val_auc || !hist->lr)))
        return CL_ENOMEM;
    for (int64_t i = 0; i < n; i++)
        tr->idx[i] = (uint32_t)i;
    tr->npos = class_weights(m, y, n, &tr->wpos, &tr->wneg);
    cl_rng_split(&tr->shuf, m->p.seed, 0);
    cl_rng_split(&tr->drop, m->p.seed, 1);
    return CL_OK;
}

/* A fit's state: fresh weights from the seed, then trainer_alloc. */
static int trainer_new(trainer *tr, cl_mlp *m, const float *X, const float *y, int64_t n,
                       int64_t d, const cl_mlp_fit_opts *opts, cl_mlp_history *hist,
                       const cl_progress *prog)
{
    memset(tr, 0, sizeof *tr);
    m->fitted = 0;
    m->epochs_run = 0;
    int rc = cl_mlp_init_weights(m, d);
    if (rc)
        return rc;
    return trainer_alloc(tr, m, X, y, n, d, m->p.batch, opts, hist, prog);
}

/* Rows i0 .. i0 + B - 1 of the epoch's order into the batch buffers, each with its class
 * weight times its sample weight. */
static void gather_batch(trainer *tr, int64_t i0, int64_t B)
{
    ws *w = &tr->w;
    const int64_t d = tr->d;
    for (int64_t i = 0; i < B; i++) {
        uint32_t r = tr->idx[i0 + i];
        memcpy(w->xb + i * d, tr->X + (int64_t)r * d, (size_t)d * sizeof(float));
        w->yb[i] = tr->y[r];
        w->wb[i] = tr->y[r] == 1.0f ? tr->wpos : tr->wneg;
        if (tr->o->w)
            w->wb[i] *= tr->o->w[r];
    }
}

/* Weight decay on the weight matrices (not the biases): AdamW shrinks the weights directly
 * (decoupled, Loshchilov & Hutter), the others add the L2 gradient wd W. */
static void weight_decay(cl_mlp *m, ws *w, double lr)
{
    float wd = (float)m->p.weight_decay;
    for (int l = 0; l < m->nl; l++) {
        float *W = m->theta + m->woff[l], *G = w->grad + m->woff[l];
        int64_t k = m->dims[l] * m->dims[l + 1];
        if (m->p.optimizer == CL_OPT_ADAMW) {
            float f = 1.0f - (float)lr * wd;
            for (int64_t i = 0; i < k; i++)
                W[i] *= f;
        } else {
            for (int64_t i = 0; i < k; i++)
                G[i] += wd * W[i];
        }
    }
}

/* One optimizer step on one batch; returns the batch's summed (weighted) loss. */
static double batch_step(trainer *tr, int64_t i0, int64_t B, double lr)
{
    cl_mlp *m = tr->m;
    ws *w = &tr->w;
    gather_batch(tr, i0, B);
    forward(m, w, w->xb, B, MODE_TRAIN, 1, &tr->drop);
    double loss = backward(m, w, w->xb, B, 1) * (double)B;
    if (m->p.weight_decay > 0)
        weight_decay(m, w, lr);
    tr->step++;
    if (m->p.optimizer == CL_OPT_SGD)
        cl_optim_sgd(m->theta, w->grad, tr->st1, m->np, lr, m->p.momentum, m->p.nesterov);
    else
        cl_optim_adam(m->theta, w->grad, tr->st1, tr->st2, m->np, lr, m->p.beta1, m->p.beta2,
                      m->p.eps, tr->step);
    return loss;
}

/* Epoch e: a pass over the rows in a new shuffled order at learning rate lr; returns the mean
 * training loss. Progress every 64 batches; a stop request there sets interrupted and
 * abandons the epoch (the last complete epoch's weights stand). */
static double run_epoch(trainer *tr, int e, double lr)
{
    const int64_t n = tr->n, batch = tr->batch;
    cl_rng_shuffle(&tr->shuf, tr->idx, (uint64_t)n);
    double loss_sum = 0;
    for (int64_t bi = 0; bi < tr->nb; bi++) {
        int64_t i0 = bi * batch, B = n - i0 < batch ? n - i0 : batch;
        loss_sum += batch_step(tr, i0, B, lr);
        if ((bi & 63) == 63) {
            char detail[64];
            snprintf(detail, sizeof detail, "loss %.4f", loss_sum / (double)(i0 + B));
            if (cl_progress_step(tr->prog, "mlp epoch", e + (double)(bi + 1) / (double)tr->nb,
                                 tr->m->p.epochs, detail) != CL_OK) {
                tr->interrupted = 1;
                break;
            }
        }
    }
    return loss_sum / (double)n;
}

/* Keeps the weights of an epoch that improved the validation loss (every epoch without a
 * validation set); counts the others and sets stopped after early_stop of them in a row. */
static void keep_or_stop(trainer *tr, int e, double vl)
{
    const cl_mlp *m = tr->m;
    if (!tr->o->Xv || vl < tr->best) {
        tr->best = tr->o->Xv ? vl : tr->best;
        tr->best_epoch = e + 1;
        tr->bad = 0;
        memcpy(tr->keep, m->theta, (size_t)m->np * sizeof(float));
        if (m->ns)
            memcpy(tr->keep + m->np, m->stats, (size_t)m->ns * sizeof(float));
    } else if (tr->o->early_stop > 0 && ++tr->bad >= tr->o->early_stop) {
        tr->stopped = 1;
    }
}

/* After epoch e (training loss tl at rate lr): the validation loss and AUC, the history row,
 * the best weights or the early stop, and the progress line. */
static void end_epoch(trainer *tr, int e, double tl, double lr)
{
    const cl_mlp_fit_opts *o = tr->o;
    double vl = NAN, va = NAN;
    if (o->Xv)
        evaluate(tr->m, &tr->w, o->Xv, o->yv, o->nv, tr->pv, &vl, &va);
    tr->done_epochs = e + 1;
    if (tr->hist) {
        tr->hist->loss[e] = tl;
        tr->hist->val_loss[e] = vl;
        tr->hist->val_auc[e] = va;
        tr->hist->lr[e] = lr;
    }
    keep_or_stop(tr, e, vl);
    char detail[96];
    if (o->Xv)
        snprintf(detail, sizeof detail, "loss %.4f val %.4f auc %.4f", tl, vl, va);
    else
        snprintf(detail, sizeof detail, "loss %.4f", tl);
    const int epochs = tr->m->p.epochs;
    if (cl_progress_step(tr->prog, "mlp epoch", e + 1, tr->stopped ? e + 1 : epochs, detail) !=
        CL_OK)
        tr->interrupted = 1;
}

/* The best epoch's weights back into the model, which is then fitted (unless no epoch was
 * complete), and the history's summary. */
static void restore_best(trainer *tr)
{
    cl_mlp *m = tr->m;
    if (tr->best_epoch > 0) {
        memcpy(m->theta, tr->keep, (size_t)m->np * sizeof(float));
        if (m->ns)
            memcpy(m->stats, tr->keep + m->np, (size_t)m->ns * sizeof(float));
        m->fitted = 1;
        m->epochs_run = tr->done_epochs;
        cl_prior_rates(tr->npos, (double)tr->n, tr->wpos, tr->wneg, &m->prior_trained,
                       &m->prior_true);
    }
    if (tr->hist) {
        tr->hist->epochs = tr->done_epochs;
        tr->hist->best_epoch = tr->best_epoch;
        tr->hist->stopped_early = tr->stopped;
        tr->hist->interrupted = tr->interrupted;
    }
}

/* The epochs, until the last one, an early stop or an interruption (CL_EINTR, the model
 * keeping the best complete epoch); a diverged loss is an error. */
static int train(trainer *tr)
{
    const cl_mlp *m = tr->m;
    const int epochs = m->p.epochs;
    for (int e = 0; e < epochs && !tr->stopped && !tr->interrupted; e++) {
        double lr = cl_optim_lr((cl_sched)m->p.schedule, m->p.lr, e, epochs, m->p.step_size,
                                m->p.gamma);
        double tl = run_epoch(tr, e, lr);
        if (tr->interrupted)
            break;
        if (!isfinite(tl))
            return cl_error(CL_EINVAL, "mlp: training loss diverged to %g at epoch %d (lower "
                                       "lr?)", tl, e + 1);
        end_epoch(tr, e, tl, lr);
    }
    restore_best(tr);
    if (!tr->interrupted)
        return CL_OK;
    return cl_error(CL_EINTR, "mlp: fit interrupted after %d complete epoch%s%s",
                    tr->done_epochs, tr->done_epochs == 1 ? "" : "s",
                    tr->best_epoch ? "" : " (model left unfitted)");
}

int cl_mlp_fit(cl_mlp *m, const float *X, const float *y, int64_t n, int64_t d,
               const cl_mlp_fit_opts *opts, cl_mlp_history *hist, const cl_progress *prog)
{
    static const cl_mlp_fit_opts none = {NULL, NULL, 0, 0, NULL};
    if (!opts)
        opts = &none;
    if (hist)
        memset(hist, 0, sizeof *hist);
    int rc = check_fit(m, X, y, n, d, opts);
    if (rc)
        return rc;
    trainer tr;
    if (!(rc = trainer_new(&tr, m, X, y, n, d, opts, hist, prog))) {
        int blas_prev = blas_single();
        rc = train(&tr);
        openblas_set_num_threads(blas_prev);
    }
    if (rc && rc != CL_EINTR && hist)
        cl_mlp_history_free(hist);
    trainer_free(&tr);
    return rc;
}

/* Step s's keep decisions for each hidden layer, in keep (B x width per layer, layer after
 * layer, step after step). */
static void point_masks(trainer *tr, const float *keep, int64_t B, int s)
{
    const cl_mlp *m = tr->m;
    int64_t per = 0;
    for (int l = 0; l < m->nl - 1; l++)
        per += B * m->dims[l + 1];
    const float *at = keep + (int64_t)s * per;
    for (int l = 0; l < m->nl - 1; l++) {
        tr->w.keep_in[l] = at;
        at += B * m->dims[l + 1];
    }
}

int cl_mlp_train_steps(cl_mlp *m, const float *X, const float *y, int64_t B, int steps,
                       const float *keep, double *loss)
{
    static const cl_mlp_fit_opts none = {NULL, NULL, 0, 0, NULL};
    if (!m->theta)
        return cl_error(CL_ESTATE, "mlp: weights not initialised");
    if (B < 1 || steps < 1)
        return cl_error(CL_EINVAL, "mlp: train_steps needs B >= 1 and steps >= 1, got %lld "
                                   "and %d", (long long)B, steps);
    if (m->p.dropout > 0 && !keep)
        return cl_error(CL_EINVAL, "mlp: train_steps with dropout %g needs the keep masks",
                        m->p.dropout);
    if (B > (int64_t)UINT32_MAX / steps)
        return cl_error(CL_ERANGE, "mlp: train_steps: at most 2^32 - 1 rows in all");
    const int64_t n = B * steps;
    int rc = check_xy(m, "X", X, y, n, m->d);
    if (rc || (rc = cl_threads_blas("mlp: train_steps")))
        return rc;
    trainer tr;
    memset(&tr, 0, sizeof tr);
    if (!(rc = trainer_alloc(&tr, m, X, y, n, m->d, B, &none, NULL, NULL))) {
        int prev = blas_single();
        for (int s = 0; s < steps; s++) {
            if (m->p.dropout > 0)
                point_masks(&tr, keep, B, s);
            double l = batch_step(&tr, (int64_t)s * B, B, m->p.lr) / (double)B;
            if (loss)
                loss[s] = l;
        }
        openblas_set_num_threads(prev);
        m->fitted = 1;
        cl_prior_rates(tr.npos, (double)n, tr.wpos, tr.wneg, &m->prior_trained,
                       &m->prior_true);
    }
    trainer_free(&tr);
    return rc;
}

int cl_mlp_loss_grad(cl_mlp *m, const float *X, const float *y, int64_t n, double *loss,
                     float *grad)
{
    if (!m->theta)
        return cl_error(CL_ESTATE, "mlp: weights not initialised");
    int rc = cl_threads_blas("mlp: loss_grad");
    if (rc)
        return rc;
    ws w;
    if ((rc = ws_new(&w, m, n, 1)))
        return rc;
    float wpos, wneg;
    class_weights(m, y, n, &wpos, &wneg);
    for (int64_t i = 0; i < n; i++) {
        w.yb[i] = y[i];
        w.wb[i] = y[i] == 1.0f ? wpos : wneg;
    }
    int prev = blas_single();
    forward(m, &w, X, n, MODE_TRAIN_NO_DROPOUT, 0, NULL);
    *loss = backward(m, &w, X, n, 0);
    openblas_set_num_threads(prev);
    memcpy(grad, w.grad, (size_t)m->np * sizeof(float));
    ws_free(&w);
    return CL_OK;
}

/* ---- predict ------------------------------------------------------------------------ */

int cl_mlp_prior(const cl_mlp *m, double *trained, double *truth)
{
    *trained = m->prior_trained;
    *truth = m->prior_true;
    return m->fitted && m->p.prior_correction && cl_prior_needed(*trained, *truth);
}

int cl_mlp_predict_mode(const cl_mlp *m, const float *X, int64_t n, int64_t d, float *out,
                        int mode)
{
    if (mode < CL_PREDICT_PROB || mode > CL_PREDICT_CORRECTED)
        return cl_error(CL_EINVAL, "mlp: unknown prediction mode %d", mode);
    const int prob = mode != CL_PREDICT_MARGIN;
    double tr, tt;
    cl_mlp_prior(m, &tr, &tt);
    const int fix = cl_prior_wanted(mode, m->p.prior_correction, tr, tt);
    if (!m->fitted)
        return cl_error(CL_ESTATE, "mlp: predict before fit");
    if (d != m->d)
        return cl_error(CL_EINVAL, "mlp: X has %lld columns, the model was fitted on %lld",
                        (long long)d, (long long)m->d);
    int rc = check_xy(m, "X", X, NULL, n, d);
    if (rc)
        return rc;
    if ((rc = cl_threads_blas("mlp: predict")))
        return rc;
    int64_t nchunks = (n + EVAL_CHUNK - 1) / EVAL_CHUNK;
    int nt = cl_threads_get();
    if (nt > nchunks)
        nt = (int)nchunks;
    ws *wss = cl_alloc_calloc((size_t)nt, sizeof *wss);
    if (!wss)
        return CL_ENOMEM;
    for (int t = 0; t < nt && rc == CL_OK; t++)
        if ((rc = ws_new(&wss[t], m, EVAL_CHUNK, 0)) == CL_OK)
            wss[t].nt = 1;
    if (rc == CL_OK) {
        int prev = blas_single();
        /* fixed chunks, one per task: a row's score never depends on the thread count */
#pragma omp parallel for num_threads(nt) schedule(static)
        for (int64_t c = 0; c < nchunks; c++) {
#ifdef _OPENMP
            ws *w = &wss[omp_get_thread_num()];
#else
            ws *w = &wss[0];
#endif
            int64_t i0 = c * EVAL_CHUNK, B = n - i0 < EVAL_CHUNK ? n - i0 : EVAL_CHUNK;
            forward((cl_mlp *)m, w, X + i0 * d, B, MODE_EVAL, 0, NULL);
            for (int64_t i = 0; i < B; i++) {
                float z = w->z[m->nl - 1][i];
                out[i0 + i] = prob ? sigmoidf(z) : z;
                if (fix)
                    out[i0 + i] = (float)cl_prior_correct(out[i0 + i], tr, tt);
            }
        }
        openblas_set_num_threads(prev);
    }
    for (int t = 0; t < nt; t++)
        ws_free(&wss[t]);
    cl_alloc_free(wss);
    return rc;
}

int cl_mlp_predict(const cl_mlp *m, const float *X, int64_t n, int64_t d, float *out)
{
    return cl_mlp_predict_mode(m, X, n, d, out, CL_PREDICT_PROB);
}

int cl_mlp_decision(const cl_mlp *m, const float *X, int64_t n, int64_t d, float *out)
{
    return cl_mlp_predict_mode(m, X, n, d, out, CL_PREDICT_MARGIN);
}

/* ---- model files -------------------------------------------------------------------- */

int cl_mlp_write(const cl_mlp *m, cl_mw *w)
{
    if (!m->fitted)
        return cl_error(CL_ESTATE, "mlp: save before fit");
    cl_param_io_write(w, cl_mlp_param_defs, &m->p);
    cl_modelio_w_int(w, "mlp.inputs", m->d);
    cl_modelio_w_int(w, "mlp.epochs_run", m->epochs_run);
    cl_prior_write(w, "mlp.prior_rates", m->prior_trained, m->prior_true);
    cl_modelio_w_f32(w, "mlp.theta", m->theta, (size_t)m->np);
    if (m->ns)
        cl_modelio_w_f32(w, "mlp.stats", m->stats, (size_t)m->ns);
    if (m->nnames)
        cl_modelio_w_strs(w, "mlp.names", (const char *const *)m->names, (size_t)m->nnames);
    const void *buf;
    size_t len;
    return cl_modelio_w_finish(w, &buf, &len); /* reports a sticky error from any call above */
}

int cl_mlp_read(cl_mlp **out, const cl_mr *r)
{
    *out = NULL;
    int rc = cl_modelio_r_expect_kind(r, "mlp");
    if (rc)
        return rc;
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    if ((rc = cl_param_io_read(r, cl_mlp_param_defs, &p, "mlp")))
        return rc;
    cl_mlp *m;
    if ((rc = cl_mlp_new(&m, &p)))
        return cl_error_wrap(rc == CL_ENOMEM ? rc : CL_EFORMAT, "mlp file");
    int64_t d, ep;
    size_t cnt;
    if ((rc = cl_modelio_r_int(r, "mlp.inputs", 1, (int64_t)1 << 31, &d)) ||
        (rc = cl_modelio_r_int(r, "mlp.epochs_run", 1, 100000, &ep)) || (rc = layout(m, d)) ||
        (rc = cl_prior_read(r, "mlp.prior_rates", &m->prior_trained, &m->prior_true,
                            "mlp file")))
        goto fail;
    /* sizes implied by the parameters must match the file before anything is allocated */
    if ((rc = cl_modelio_r_count(r, "mlp.theta", CL_CHUNK_F32, &cnt)))
        goto fail;
    if ((int64_t)cnt != m->np) {
        rc = cl_error(CL_EFORMAT, "mlp file: %zu weights where the layer sizes need %lld", cnt,
                      (long long)m->np);
        goto fail;
    }
    if ((rc = alloc_weights(m, d)) || (rc = cl_modelio_r_f32(r, "mlp.theta", m->theta, (size_t)m->np)) ||
        (m->ns && (rc = cl_modelio_r_f32(r, "mlp.stats", m->stats, (size_t)m->ns))))
        goto fail;
    /* Trained weights are O(1); one beyond CL_MLP_MAX_WEIGHT is a damaged exponent, and
     * with it ordinary inputs overflow float32 activations within a layer or two. */
    for (int64_t i = 0; i < m->np; i++)
        if (!(fabsf(m->theta[i]) <= CL_MLP_MAX_WEIGHT)) {
            rc = cl_error(CL_EFORMAT, "mlp file: weight %lld is %g, expected a finite number "
                          "within +-%g", (long long)i + 1, (double)m->theta[i],
                          CL_MLP_MAX_WEIGHT);
            goto fail;
        }
    /* batch-norm running statistics: per layer, means then variances (>= 0: 1/sqrt). Finite
     * is not enough: x - mean is scaled by up to 1/sqrt(BN_EPS) ~ 316, so a mean of 3e38
     * overflowed to -inf and GELU gave inf * 0 = NaN (found by fuzz_modelsem); 1e30 keeps
     * every normalised value finite. */
    for (int l = 0; l < m->nl; l++) {
        if (m->soff[l] < 0)
            continue;
        int64_t w = m->dims[l + 1];
        for (int64_t j = 0; j < 2 * w; j++) {
            float v = m->stats[m->soff[l] + j];
            if (!(fabsf(v) <= 1e30f) || (j >= w && v < 0)) {
                rc = cl_error(CL_EFORMAT, "mlp file: layer %d, batch-norm running %s %lld is "
                              "%g, expected a number within +-1e30%s", l + 1,
                              j < w ? "mean" : "variance", (long long)(j % w) + 1, (double)v,
                              j < w ? "" : " and >= 0");
                goto fail;
            }
        }
    }
    if (cl_modelio_r_has(r, "mlp.names")) {
        if ((rc = cl_modelio_r_count(r, "mlp.names", CL_CHUNK_STR, &cnt)))
            goto fail;
        if ((int64_t)cnt != d) {
            rc = cl_error(CL_EFORMAT, "mlp file: %zu feature names for %lld inputs", cnt,
                          (long long)d);
            goto fail;
        }
        m->names = cl_alloc_calloc(cnt, sizeof(char *));
        if (!m->names) {
            rc = CL_ENOMEM;
            goto fail;
        }
        if ((rc = cl_modelio_r_strs(r, "mlp.names", m->names, cnt)))
            goto fail;
        m->nnames = (int64_t)cnt;
    }
    m->epochs_run = (int)ep;
    m->fitted = 1;
    *out = m;
    return CL_OK;
fail:
    cl_mlp_free(m);
    return rc;
}

/* ---- the classifier interface (models/model.h) ----------------------------------------- */

static void ops_defaults(void *p) { cl_mlp_params_default(p); }
static int ops_create(void **impl, const void *p) { return cl_mlp_new((cl_mlp **)impl, p); }
static void ops_free(void *impl) { cl_mlp_free(impl); }
static const void *ops_params_of(const void *impl) { return cl_mlp_params_of(impl); }
static int ops_fitted(const void *impl) { return cl_mlp_fitted(impl); }
static const char *ops_name(const void *impl, int64_t j) { return cl_mlp_name(impl, j); }
static int64_t ops_n_features(const void *impl) { return cl_mlp_inputs(impl); }
static int ops_read(void **impl, const cl_mr *r) { return cl_mlp_read((cl_mlp **)impl, r); }
static int ops_write(const void *impl, cl_mw *w) { return cl_mlp_write(impl, w); }

static int ops_set_names(void *impl, const char *const *names, int64_t d)
{
    return cl_mlp_set_names(impl, names, d);
}

static int ops_prior(const void *impl, double *trained, double *truth)
{
    return cl_mlp_prior(impl, trained, truth);
}

static const char *ops_describe(const void *impl, char *buf, size_t cap)
{
    return cl_mlp_describe(impl, buf, cap);
}

/* The epoch series (val_* NaN without a validation set); on Ctrl-C the model keeps its last
 * complete epoch and the report is dropped. */
static int ops_fit(void *impl, const float *X, const float *y, int64_t n, int64_t d,
                   const cl_fit_opts *o, cl_model_history *h, const cl_progress *p)
{
    cl_mlp_fit_opts fo = {o->Xv, o->yv, o->nv, o->early_stop, o->w};
    cl_mlp_history mh;
    int rc = cl_mlp_fit(impl, X, y, n, d, &fo, &mh, p);
    if (rc == CL_OK) {
        int e = mh.epochs;
        if ((rc = cl_model_history_series(h, "loss", mh.loss, e)) ||
            (rc = cl_model_history_series(h, "val_loss", mh.val_loss, e)) ||
            (rc = cl_model_history_series(h, "val_auc", mh.val_auc, e)) ||
            (rc = cl_model_history_series(h, "lr", mh.lr, e)))
            cl_model_history_free(h);
        else {
            cl_model_history_scalar(h, "epochs", e, 0);
            cl_model_history_scalar(h, "best_epoch", mh.best_epoch, 0);
            cl_model_history_scalar(h, "stopped_early", mh.stopped_early, 1);
        }
    }
    cl_mlp_history_free(&mh);
    return rc;
}

static int ops_predict(const void *impl, const float *X, int64_t n, int64_t d, float *out,
                       int mode)
{
    return cl_mlp_predict_mode(impl, X, n, d, out, mode);
}

/* No exact attribution for a network: contrib is NULL (callers use kernel SHAP). */
const cl_model_ops cl_mlp_model_ops = {
    .kind = "mlp", .title = "MLP", .defs = cl_mlp_param_defs,
    .params_size = sizeof(cl_mlp_params), .defaults = ops_defaults, .create = ops_create,
    .free = ops_free, .params_of = ops_params_of, .fit = ops_fit,
    .fit_flags = CL_FIT_VALID | CL_FIT_WEIGHTS,
    .fitted = ops_fitted, .set_names = ops_set_names, .name = ops_name, .prior = ops_prior,
    .describe = ops_describe, .read = ops_read, .write = ops_write,
    .n_features = ops_n_features, .predict = ops_predict};
