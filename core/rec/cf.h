/* cf.h - collaborative filtering recommenders (kinds of cl_rec, see rec.h).
 *
 *   popular  items ranked by how many users interacted with them (optionally time-decayed)
 *   itemknn  item-item neighbourhood (cosine, adjusted cosine or Jaccard, shrunk, top-k kept);
 *            a user's score for j = sum over their items i of value_ui * sim(i, j)
 *   mf       explicit-rating matrix factorisation with biases (Funk/Koren "SVD"):
 *            r_ui ~ mu + b_u + b_i + p_u . q_i, fitted by SGD (shuffled, one thread, so it is
 *            deterministic) or by alternating ridge solves (weighted-lambda ALS, parallel)
 *   als      implicit feedback (Hu, Koren, Volinsky 2008): preference 1 with confidence
 *            1 + alpha * value on observed pairs, 0 with confidence 1 elsewhere; each row is
 *            solved by a few conjugate-gradient steps warm-started from the last iterate
 *            (as the `implicit` library does) or exactly by Cholesky (cg_steps = 0)
 *
 * Fold-in (recommend_for): mf and als solve one small ridge system for the fresh history
 * against the fixed item factors; itemknn and popular need no solve.
 */
#ifndef CL_CF_H
#define CL_CF_H

#include <stdint.h>

#include "rec/rec.h"

typedef struct cl_cf_popular_params {
    double half_life; /* 0: plain counts; > 0: weight 0.5^((t_max - t) / half_life) */
} cl_cf_popular_params;

/* Largest |factor| (and bias, mean) an mf or als file may hold: f <= 100000 factors of this
 * size give finite float32 dot products. */
#define CL_CF_MAX_FACTOR 1e15

typedef struct cl_cf_itemknn_params {
    int k;           /* neighbours kept per item */
    double shrink;   /* added to the similarity's denominator */
    int similarity;  /* 0 cosine, 1 adjusted_cosine, 2 jaccard, 3 dot */
    int normalize;   /* scale each item's kept similarities to sum 1 (Deshpande-Karypis) */
    double alpha;    /* cosine only: asymmetric cosine dot / (|i|^2alpha |j|^2(1-alpha)) */
    int weighting;   /* cosine and dot: 0 none, 1 tfidf, 2 bm25 of the values first */
    double bm25_k1, bm25_b;
    int neighbours;  /* 0 source: each item's k most similar; 1 target: k per candidate item */
} cl_cf_itemknn_params;

typedef struct cl_cf_mf_params {
    int factors, epochs;
    double lr, reg, reg_bias, init_std;
    int biased, solver, shuffle, clip; /* solver: 0 sgd, 1 als */
    uint64_t seed;
    int implicit; /* SVD++: the items a user rated add sum_j y_j / sqrt(n) to p_u (sgd) */
    int time, time_bins; /* time-aware biases (rec/mftime.h, sgd) and their item bins */
    double time_unit, reg_time, lr_drift, reg_drift, reg_bin;
} cl_cf_mf_params;

typedef struct cl_cf_als_params {
    int factors, iters, cg_steps;
    double reg, alpha, init_std;
    uint64_t seed;
} cl_cf_als_params;

/* Predicted rating of user u for item i (mf only). u or i may be -1 (unknown): the
 * prediction falls back to the global mean plus the known bias. Clipped to the training
 * range when the `clip` parameter is set. */
int cl_cf_mf_predict(const cl_rec *r, int64_t u, int64_t i, double *out);
/* As cl_cf_mf_predict, for a rating made at time t (NaN: unknown): a model fitted with time =
 * true adds its time-aware biases (rec/mftime.h); the others ignore t. */
int cl_cf_mf_predict_at(const cl_rec *r, int64_t u, int64_t i, double t, double *out);

/* Borrowed views of fitted factors (mf and als): user factors n_users x f, item factors
 * n_items x f (row-major), and for mf the biases and global mean (NULL/0 for als). Valid
 * while r is fitted. */
int cl_cf_factors(const cl_rec *r, const float **user_f, const float **item_f, int *f,
                  const float **user_b, const float **item_b, double *mu);

/* Zeroed user (n_users x f) and item (n_items x f) factor arrays of m; on an error the
 * caller frees whichever is not NULL. */
int cl_cf_alloc_factors(const cl_interactions *m, int f, float **X, float **Y);

/* The SGD visiting state of the training ratings m (nnz < 2^32): *order = 0..nnz-1 (to be
 * shuffled) and *uof[k] = the user of CSR entry k; both cl_alloc_free'd by the caller. */
int cl_cf_sgd_order(const cl_interactions *m, uint32_t **order, int32_t **uof);

/* Cosine of row i of Y (n x f, row-major) with every row: scores[n], 0 against a zero row.
 * The similar-items answer of every factor model (mf, als, bpr). */
void cl_cf_cosine_rows(const float *Y, int64_t n, int f, int32_t i, float *scores);

/* The kind's operations (listed in cl_rec_kinds by rec_kinds.c). */
extern const cl_rec_ops cl_cf_popular_ops, cl_cf_itemknn_ops, cl_cf_mf_ops, cl_cf_als_ops;

#endif
