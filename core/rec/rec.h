/* rec.h - the common interface of every recommender (popular, itemknn, mf, als, content,
 * hybrid): construction with a parameter table, fit on an interaction matrix, scores for a
 * known user or for a fresh history (fold-in, no retraining), top-k with seen items excluded,
 * recommendations for every user in parallel, similar items, and model files.
 *
 * The kinds live in cf.c (popular, itemknn, mf, als), content.c, hybrid.c, ease.c and bpr.c,
 * each declaring its cl_rec_ops in its own header; rec_kinds.c, above them, lists them in
 * cl_rec_kinds. rec.c holds the dispatch, the top-k selection and the model file framing and
 * names no kind: what differs between kinds is in their ops. Scores are float32 over all
 * n_items of the training matrix; higher is better.
 *
 * Ownership: cl_rec_new/cl_rec_load return owned recommenders (refcounted: cl_rec_retain,
 * cl_rec_free). A fitted recommender retains its training matrix (needed to exclude seen
 * items and to score known users by their history); it is saved with the model.
 * Thread safety: after fit, every scoring function may run concurrently.
 * Determinism: fits and rankings are bit-identical for a seed whatever the thread count
 * (rows are solved independently; reductions run in fixed blocks in a fixed order; ties in
 * rankings go to the lower item index).
 */
#ifndef CL_REC_H
#define CL_REC_H

#include <stddef.h>
#include <stdint.h>

#include "base/modelio.h"
#include "base/param.h"
#include "base/progress.h"
#include "rec/interactions.h"

typedef enum {
    CL_REC_POPULAR = 0,
    CL_REC_ITEMKNN = 1,
    CL_REC_MF = 2,
    CL_REC_ALS = 3,
    CL_REC_CONTENT = 4,
    CL_REC_HYBRID = 5,
    CL_REC_EASE = 6,
    CL_REC_BPR = 7
    /* values are only ever appended */
} cl_rec_kind;

#define CL_REC_NKINDS 8

typedef struct cl_rec cl_rec;

/* Per-kind operations (implemented in cf.c, content.c, hybrid.c, ease.c, bpr.c). */
typedef struct cl_rec_ops {
    const char *name;           /* "als"; the model file kind is "rec.<name>" */
    const cl_param_def *defs;   /* the one parameter table */
    size_t params_size;
    void (*defaults)(void *params);
    int (*fit)(cl_rec *r, const cl_progress *p);            /* r->train is set */
    /* Scores of every item for known user u; NULL: scored from the user's history. */
    int (*score_user)(const cl_rec *r, int64_t u, float *scores);
    /* Scores of every item for a history of n (item, value) pairs; items are indices in
     * range; values may be NULL (implicit kinds: 1 each; mf: an error, ratings are not
     * guessed). als refuses negative values, as its fit does. */
    int (*score_history)(const cl_rec *r, int64_t n, const int32_t *items, const float *values,
                         float *scores);
    /* Similarity of every item to item i; NULL when the kind has no notion of it. */
    int (*similar)(const cl_rec *r, int32_t i, float *scores);
    int (*save)(const cl_rec *r, cl_mw *w, const char *prefix); /* state chunks */
    int (*load)(cl_rec *r, cl_mr *mr, const char *prefix); /* params, train loaded */
    void (*free_state)(cl_rec *r);
    /* Growing a fitted model (cl_rec_add_user / cl_rec_add_item): r->train is still the old
     * matrix, `grown` is it plus one user (its last row, what = CL_REC_GROW_USER) or one item
     * (its last column, CL_REC_GROW_ITEM). The kind extends its state to the grown sizes
     * (fold-in of the new row; `valued`: values were given, not all 1 by default; features[nf]
 * for content items, may be NULL) without changing
     * what it holds for anyone else. On failure the state stays usable for the old matrix
     * (arrays may have grown). NULL: the state does not depend on the sizes for users, and
     * items cannot be added (CL_ENOTSUP). */
    int (*grow)(cl_rec *r, cl_interactions *grown, int what, int valued,
                const float *features, int nf);
    /* Before fit: *m (retained) may be replaced by a wider matrix the kind fits on instead
     * (content: items with features and no interactions become extra columns, so a new title
     * can be recommended). NULL: the kind fits on the matrix as given. */
    int (*extend)(const cl_rec *r, cl_interactions **m);
    /* 1: the kind answers an empty history itself (popular is popularity already; mf gives
     * its bias baseline mu + b_i); 0: popularity answers it (cold start, see below). */
    int answers_empty;
} cl_rec_ops;

enum { CL_REC_GROW_USER = 0, CL_REC_GROW_ITEM = 1 };

struct cl_rec {
    int refcount;
    cl_rec_kind kind;
    const cl_rec_ops *ops;
    void *params;              /* the kind's params struct (filled by ops->defaults) */
    void *state;               /* fitted state, NULL before fit */
    cl_interactions *train;    /* retained at fit */
    void *inputs;              /* kind-specific inputs given before fit (content features,
                                * hybrid components); freed by free_inputs */
    void (*free_inputs)(void *inputs);
    double fit_seconds;        /* wall time of the last fit */
};

/* The kinds by cl_rec_kind value (rec_kinds.c). */
extern const cl_rec_ops *const cl_rec_kinds[CL_REC_NKINDS];
/* The ops of kind k (0 <= k < CL_REC_NKINDS), NULL out of range. */
const cl_rec_ops *cl_rec_kind_ops(int k);

/* New unfitted recommender of a kind with default parameters. */
int cl_rec_new(cl_rec **out, cl_rec_kind kind);
/* Kind from its name ("als"); -1 when unknown. */
int cl_rec_kind_from_name(const char *name);
cl_rec *cl_rec_retain(cl_rec *r);
void cl_rec_free(cl_rec *r);

/* Fits on train (retained); replaces an earlier fit. Parameters are validated first. */
int cl_rec_fit(cl_rec *r, cl_interactions *train, const cl_progress *p);
int cl_rec_is_fitted(const cl_rec *r);

/* scores[n_items] for known user u (0 <= u < n_users of the training matrix). */
int cl_rec_scores(const cl_rec *r, int64_t u, float *scores);
/* scores[n_items] for a fresh history; values may be NULL (all 1; mf refuses NULL: explicit
 * ratings are needed). */
int cl_rec_scores_history(const cl_rec *r, int64_t n, const int32_t *items, const float *values,
                          float *scores);

/* What answered a request (the *_ex functions): the model itself, or popularity (the number
 * of training users of each item) because the user's history is empty (an unknown user, a
 * known user without interactions, a fresh history of no known items). Cold start applies to
 * the kinds whose ops->answers_empty is 0 (itemknn, als, content, hybrid, ease, bpr); mf
 * answers an empty history with its bias baseline mu + b_i (CL_REC_ANSWER_MODEL) and popular
 * is popularity anyway. */
enum { CL_REC_ANSWER_MODEL = 0, CL_REC_ANSWER_POPULAR = 1 };

/* As cl_rec_scores / cl_rec_scores_history (which answer the same way), also saying which
 * answer was given in *answer (may be NULL). */
int cl_rec_scores_ex(const cl_rec *r, int64_t u, float *scores, int *answer);
int cl_rec_scores_history_ex(const cl_rec *r, int64_t n, const int32_t *items,
                             const float *values, float *scores, int *answer);

/* Top k of scores[0..n_items) skipping the sorted item list exclude[0..n_ex) (may be NULL).
 * Writes up to k indices and scores (best first; ties: lower index first) and *n_out. */
void cl_rec_topk(const float *scores, int64_t n_items, int k, const int32_t *exclude,
                 int64_t n_ex, int32_t *items, float *out_scores, int *n_out);

/* Top k for known user u, excluding the user's training items when exclude_seen. */
int cl_rec_recommend(const cl_rec *r, int64_t u, int k, int exclude_seen, int32_t *items,
                     float *scores, int *n_out);
/* Top k for every user: items[u*k + j] (-1 past a user's list), scores likewise (scores may
 * be NULL). OpenMP over users. */
int cl_rec_recommend_all(const cl_rec *r, int k, int exclude_seen, int32_t *items,
                         float *scores, const cl_progress *p);
/* Top k from a fresh history (fold-in), excluding the history's items when exclude_seen. */
int cl_rec_recommend_history(const cl_rec *r, int64_t n, const int32_t *hist_items,
                             const float *values, int k, int exclude_seen, int32_t *items,
                             float *scores, int *n_out);
/* As cl_rec_recommend_history, also saying which answer was given (*answer may be NULL). */
int cl_rec_recommend_history_ex(const cl_rec *r, int64_t n, const int32_t *hist_items,
                                const float *values, int k, int exclude_seen, int32_t *items,
                                float *scores, int *n_out, int *answer);
/* Adds a user to a fitted model without refitting: `label` (new) with the history of n
 * (item index, value) pairs (values NULL: all 1; mf needs them). mf and als fold the user in
 * (the same solve as cl_rec_scores_history) and keep the factors; the other kinds score the
 * user from their history. Every earlier user's scores stay the same bit for bit (the cold
 * start answer, popularity, counts the new user's items). The user's index is
 * n_users - 1 of the grown training matrix (cl_rec's train is replaced; a hybrid's
 * components grow with it). *index may be NULL. Not safe concurrently with scoring. */
int cl_rec_add_user(cl_rec *r, const char *label, int64_t n, const int32_t *items,
                    const float *values, int64_t *index);
/* Adds an item: `label` (new) held by the n users users[k] with values[k] (NULL: all 1).
 * mf and als fold the item's factors in from those ratings against the fixed user factors
 * (mf: also its bias); popular counts them; content needs its features (features[nf], nf =
 * the columns given at fit, transformed as at fit; NULL: a zero row, never recommended by
 * content); a hybrid grows every component (features go to the content ones). itemknn
 * refuses (CL_ENOTSUP: its neighbour lists would need a refit). Earlier items' scores for
 * earlier users are unchanged (als: fold-in of fresh histories sees the new item). */
int cl_rec_add_item(cl_rec *r, const char *label, int64_t n, const int32_t *users,
                    const float *values, const float *features, int nf, int64_t *index);

/* The k items most similar to item i (i itself excluded). */
int cl_rec_similar(const cl_rec *r, int32_t i, int k, int32_t *items, float *scores, int *n_out);

/* "Because you watched ...": of the n history items hist (indices, any order, duplicates and
 * i itself ignored), the k most similar to item i by the model's own item similarity (as
 * similar_items), best first. Items with a NaN similarity are left out. */
int cl_rec_explain(const cl_rec *r, int32_t i, int64_t n, const int32_t *hist, int k,
                   int32_t *items, float *scores, int *n_out);

/* Model files: kind "rec.<name>". */
int cl_rec_save(const cl_rec *r, const char *path);
int cl_rec_load(cl_rec **out, const char *path);
/* Chunk-level framing, used by hybrid for its components: params under "<prefix>param.",
 * training data under "<prefix>data." (skipped when `with_data` is 0; the reader is then given
 * train), state under "<prefix>". Both leave the writer's/reader's prefix at `prefix`. */
int cl_rec_write(const cl_rec *r, cl_mw *w, const char *prefix, int with_data);
int cl_rec_read(cl_rec **out, cl_mr *mr, const char *kind_name, const char *prefix,
                cl_interactions *train);

/* Shared helpers for the kinds. */
/* The kind's grow op (or its NULL meaning) on r; and the swap of r's training matrix to
 * grown (retained), used by add_user/add_item and by hybrid for its components. */
int cl_rec_grow_state(cl_rec *r, cl_interactions *grown, int what, int valued,
                      const float *features, int nf);
void cl_rec_set_train(cl_rec *r, cl_interactions *grown);
int cl_rec_write_data(const cl_interactions *m, cl_mw *w); /* at the current prefix */
int cl_rec_read_data(cl_interactions **out, cl_mr *mr);
/* Solves the symmetric positive definite system a x = b (n x n, a overwritten by its
 * Cholesky factor) in double; CL_EINVAL when a is not positive definite. */
int cl_rec_cholesky_solve(double *a, double *b, int n);

#endif
