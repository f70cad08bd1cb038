/* interactions.h - user x item interaction matrices for recommendation.
 *
 * An id map turns the labels analysts use (user ids, title ids: strings, or integers written
 * in decimal) into dense indices 0..n-1 and back. An interaction matrix holds, for n_users x
 * n_items, the observed (user, item, value[, time]) triples in CSR (rows = users, items
 * sorted ascending within a row) and CSC (columns = items, users ascending) form; values are
 * float32 (1 for implicit feedback), times float64 (any unit, NULL when absent).
 *
 * Ownership: id maps and interaction matrices are refcounted. _new/_build/_split return owned
 * objects released with _free (which drops one reference); _retain adds one. Matrices made
 * by a split share (retain) the id maps of their source, so indices mean the same thing in
 * the train and test parts. Matrices are immutable after construction.
 */
#ifndef CL_SPARSE_H
#define CL_SPARSE_H

#include <stddef.h>
#include <stdint.h>

#define CL_SPARSE_MAX_IDS ((int64_t)INT32_MAX - 1) /* indices are stored as int32 */

/* ---- id maps ------------------------------------------------------------------------- */

typedef struct cl_idmap {
    int refcount;
    int64_t n;        /* labels held */
    char **labels;    /* labels[i]: the label of index i (owned copies) */
    int numeric;      /* 1 while every label is a canonical decimal integer ("42", "-7") */
    int64_t cap;      /* hash slots (power of two) */
    int64_t *slots;   /* index + 1, 0 = empty */
    int64_t lab_cap;
} cl_idmap;

int cl_interactions_idmap_new(cl_idmap **out);
cl_idmap *cl_interactions_idmap_retain(cl_idmap *m);
void cl_interactions_idmap_free(cl_idmap *m); /* drops one reference; NULL is fine */
/* Index of label, adding it when new. */
int cl_interactions_idmap_add(cl_idmap *m, const char *label, int64_t *idx);
/* Index of label, or -1 when unknown. */
int64_t cl_interactions_idmap_find(const cl_idmap *m, const char *label);
/* A new map (refcount 1) holding m's labels at the same indices. */
int cl_interactions_idmap_copy(cl_idmap **out, const cl_idmap *m);

/* ---- interaction matrices --------------------------------------------------------------- */

typedef enum {
    CL_DUP_SUM = 0,  /* repeated (user, item) pairs: values summed, latest time kept */
    CL_DUP_LAST = 1  /* the latest (by time, then by input order) wins */
    /* values are only ever appended */
} cl_dup_mode;

typedef struct cl_interactions {
    int refcount;
    int64_t n_users, n_items, nnz;
    cl_idmap *users, *items; /* labels of rows and columns (retained) */
    int64_t *indptr;         /* CSR: n_users + 1 row starts */
    int32_t *indices;        /* CSR: item of each entry */
    float *values;           /* CSR: value of each entry */
    double *times;           /* CSR: time of each entry, NULL when no times were given */
    int64_t *cindptr;        /* CSC: n_items + 1 column starts */
    int32_t *cindices;       /* CSC: user of each entry */
    float *cvalues;          /* CSC: value of each entry */
    int64_t duplicates;      /* repeated pairs merged while building */
} cl_interactions;

/* Builds a matrix from n triples of indices into `users` and `items` (retained; the matrix
 * is users->n x items->n). values may be NULL (all 1), times may be NULL. Values must be
 * finite; indices in range (errors name the offending position). */
int cl_interactions_build(cl_interactions **out, cl_idmap *users, cl_idmap *items, int64_t n,
                          const int64_t *u, const int64_t *i, const float *values,
                          const double *times, cl_dup_mode dup);

/* Takes ownership of CSR arrays (cl_alloc'ed; times may be NULL) that are already sorted and
 * free of duplicates, validates them and adds the CSC form. On failure the arrays are freed. */
int cl_interactions_from_csr(cl_interactions **out, cl_idmap *users, cl_idmap *items,
                             int64_t *indptr, int32_t *indices, float *values, double *times);

cl_interactions *cl_interactions_retain(cl_interactions *m);
void cl_interactions_free(cl_interactions *m);

/* Number of interactions of user u and item i. */
static inline int64_t cl_interactions_user_nnz(const cl_interactions *m, int64_t u)
{
    return m->indptr[u + 1] - m->indptr[u];
}
static inline int64_t cl_interactions_item_nnz(const cl_interactions *m, int64_t i)
{
    return m->cindptr[i + 1] - m->cindptr[i];
}
/* Growing a matrix (matrices are immutable, so these return a new one; the id map that gains
 * a label is copied, never changed in place: splits and other matrices share it).
 *
 * add_user: m plus one user `label` (row m->n_users) with n entries items[k] (distinct
 *   indices into m's items) and values[k] (NULL: all 1).
 * add_items: m plus nl items labels[0..nl) (columns m->n_items..); the first new item is
 *   held by the n users users[k] (distinct) with values[k] (NULL: all 1); the others by none.
 * Labels already in the map are errors (they would name two rows). Values must be finite.
 * When m has times, the new entries get m's latest time. The other map is retained. */
int cl_interactions_add_user(cl_interactions **out, const cl_interactions *m, const char *label,
                             int64_t n, const int32_t *items, const float *values);
int cl_interactions_add_items(cl_interactions **out, const cl_interactions *m, int64_t nl,
                              const char *const *labels, int64_t n, const int32_t *users,
                              const float *values);

/* 1 when user u has interacted with item i (binary search in the row). */
int cl_interactions_has(const cl_interactions *m, int64_t u, int32_t i);

/* A random matrix for benchmarks and tests: nnz draws of (user uniform in n_users, item =
 * floor(n_items * U^skew), a long tail for skew > 1), duplicates merged (so nnz is an upper
 * bound); value = 1 + (7 u + 13 i) mod 5 (ratings 1..5); labels "1".."n". Deterministic. */
int cl_interactions_random(cl_interactions **out, int64_t n_users, int64_t n_items, int64_t nnz,
                           double skew, uint64_t seed);

/* ---- evaluation splits ----------------------------------------------------------------- */

/* Random per-user holdout: for every user, round(test_frac * n_u) of their interactions go to
 * the test part (never all of them: a user keeps at least one training interaction; users
 * with one interaction stay in training). One random stream per user (seeded by seed and the
 * user index), so the split does not depend on the thread count. */
int cl_interactions_split_holdout(cl_interactions **train, cl_interactions **test,
                                  const cl_interactions *src, double test_frac, uint64_t seed);

/* Leave-last-out by time: each user's n_last latest interactions (ties: later column first)
 * go to the test part, keeping at least one in training. Needs times. */
int cl_interactions_split_last(cl_interactions **train, cl_interactions **test,
                               const cl_interactions *src, int n_last);

#endif
