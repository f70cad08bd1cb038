/* frame_join.c - hash joins: inner, left, right and outer (pandas' merge on key columns). See
 * frame_ops.h.
 *
 * One side is hashed (the build side), the other probed in row order: left, inner and outer
 * joins probe with the left frame, right joins with the right one, so each keeps its probe
 * side's row order with the matches in the build side's order. Missing keys never match
 * (SQL semantics; pandas matches NaN with NaN, which silently pairs unrelated rows). */
#include "base/alloc.h"
#include "base/error.h"
#include "base/progress.h"
#include "frame/frame_impl.h"
#include "frame/frame_ops.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Rows idx (with -1 = missing row) of c. */
static int take_or_na(cl_column **out, const cl_column *c, const int64_t *idx, int64_t k)
{
    int rc = c->type == CL_CAT ? cl_frame_column_new_cat(out, k, c->dict) : cl_frame_column_new_num(out, c->type, k);
    if (rc)
        return rc;
    for (int64_t j = 0; j < k; j++) {
        if (c->type == CL_CAT)
            (*out)->codes[j] = idx[j] < 0 ? -1 : c->codes[idx[j]];
        else
            (*out)->num[j] = idx[j] < 0 ? NAN : c->num[idx[j]];
    }
    return CL_OK;
}

/* Key tuple of row i: keys[k] values; returns 0 when a key is missing (never matches). maps
 * (build side only) turn the build side's cat codes into the probe side's. */
static int key_tuple(const cl_column *const *cols, int32_t *const *maps, int nk, int64_t i,
                     uint64_t *t)
{
    for (int k = 0; k < nk; k++) {
        const cl_column *c = cols[k];
        if (c->type == CL_CAT) {
            int32_t code = c->codes[i];
            if (code < 0)
                return 0;
            if (maps && maps[k]) {
                code = maps[k][code];
                if (code < 0)
                    return 0; /* a label absent from the probe side */
            }
            t[k] = (uint64_t)(uint32_t)code;
        } else {
            if (isnan(c->num[i]))
                return 0;
            t[k] = cl_dbits(c->num[i]);
        }
    }
    return 1;
}

static uint64_t hash_tuple(const uint64_t *t, int nk)
{
    uint64_t h = 0x9e3779b97f4a7c15ULL;
    for (int k = 0; k < nk; k++)
        h = cl_mix64(h ^ t[k]);
    return h;
}

typedef struct pairs {
    int64_t *p, *b; /* probe row, build row (-1: none) */
    int64_t n, cap;
} pairs;

static int push_pair(pairs *q, int64_t p, int64_t b)
{
    if (q->n == q->cap) {
        int64_t nc = q->cap ? q->cap * 2 : 16;
        int64_t *a = cl_alloc_realloc(q->p, (size_t)nc * sizeof *a);
        if (!a)
            return CL_ENOMEM;
        q->p = a;
        a = cl_alloc_realloc(q->b, (size_t)nc * sizeof *a);
        if (!a)
            return CL_ENOMEM;
        q->b = a;
        q->cap = nc;
    }
    q->p[q->n] = p;
    q->b[q->n++] = b;
    return CL_OK;
}

/* Every (probe row, build row) with equal keys, probe rows in order, each with its matches
 * in build order; keep_probe adds an unmatched probe row once with build row -1; bmatched
 * (optional, nb entries) marks the build rows that matched. */
static int match(pairs *q, const cl_column *const *pk, int64_t np, const cl_column *const *bk,
                 int64_t nbr, int nk, int keep_probe, uint8_t *bmatched)
{
    int32_t **maps = cl_alloc_calloc((size_t)nk, sizeof *maps);
    uint64_t *t = cl_alloc(sizeof *t * (size_t)nk * 2);
    size_t nb = 16;
    while (nb < (size_t)nbr * 2)
        nb *= 2;
    int64_t *head = cl_alloc(nb * sizeof *head);
    int64_t *next = cl_alloc((size_t)(nbr ? nbr : 1) * sizeof *next);
    int rc = maps && t && head && next ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < nk; k++) {
        if (bk[k]->type != CL_CAT)
            continue;
        const cl_dict *d = bk[k]->dict; /* build codes -> probe codes */
        if (!(maps[k] = cl_alloc(((size_t)d->n + 1) * sizeof **maps)))
            rc = CL_ENOMEM;
        for (int32_t c = 0; rc == CL_OK && c < d->n; c++)
            maps[k][c] = cl_frame_dict_find(pk[k]->dict, d->labels[c], d->lens[c]);
    }
    if (rc == CL_OK) {
        memset(head, 0xff, nb * sizeof *head);
        for (int64_t i = nbr - 1; i >= 0; i--) { /* reversed: chains run in row order */
            next[i] = -1;
            if (!key_tuple(bk, maps, nk, i, t))
                continue;
            size_t h = (size_t)hash_tuple(t, nk) & (nb - 1);
            next[i] = head[h];
            head[h] = i;
        }
    }
    uint64_t *u = t ? t + nk : NULL;
    for (int64_t i = 0; rc == CL_OK && i < np; i++) {
        int matched = 0;
        /* Ctrl-C every 4096 probe rows and every 2^20 pairs: a many-to-many key can make
         * the output quadratic */
        if ((i & 4095) == 0 && (rc = cl_progress_step(NULL, "join", (double)i, (double)np, NULL)))
            break;
        if (key_tuple(pk, NULL, nk, i, t)) {
            for (int64_t j = head[(size_t)hash_tuple(t, nk) & (nb - 1)]; j >= 0; j = next[j]) {
                key_tuple(bk, maps, nk, j, u);
                if (memcmp(t, u, sizeof *t * (size_t)nk))
                    continue;
                if ((q->n & 0xfffff) == 0xfffff &&
                    (rc = cl_progress_step(NULL, "join", (double)i, (double)np, NULL)))
                    break;
                if ((rc = push_pair(q, i, j)))
                    break;
                if (bmatched)
                    bmatched[j] = 1;
                matched = 1;
            }
        }
        if (rc == CL_OK && !matched && keep_probe)
            rc = push_pair(q, i, -1);
    }
    for (int k = 0; maps && k < nk; k++)
        cl_alloc_free(maps[k]);
    cl_alloc_free(maps);
    cl_alloc_free(t);
    cl_alloc_free(head);
    cl_alloc_free(next);
    return rc;
}

/* Key column of the output: the left key where the row has a left side, else the right key
 * (pandas coalesces `on` keys); cat keys get a dictionary holding both sides' labels. */
static int coalesce(cl_column **out, const cl_column *a, const int64_t *li, const cl_column *b,
                    const int64_t *ri, int64_t n)
{
    int rc;
    *out = NULL;
    if (a->type != CL_CAT) {
        if ((rc = cl_frame_column_new_num(out, a->type, n)))
            return rc;
        for (int64_t k = 0; k < n; k++)
            (*out)->num[k] = li[k] >= 0 ? a->num[li[k]] : ri[k] >= 0 ? b->num[ri[k]] : NAN;
        return CL_OK;
    }
    /* both dictionaries' labels interned once into the new one, then a code lookup per row */
    int32_t *ma = cl_alloc(sizeof *ma * (size_t)(a->dict->n + 1));
    int32_t *mb = cl_alloc(sizeof *mb * (size_t)(b->dict->n + 1));
    rc = ma && mb ? cl_frame_column_new_cat(out, n, NULL) : CL_ENOMEM;
    for (int32_t c = 0; rc == CL_OK && c < a->dict->n; c++)
        rc = cl_frame_dict_intern((*out)->dict, a->dict->labels[c], a->dict->lens[c], &ma[c]);
    for (int32_t c = 0; rc == CL_OK && c < b->dict->n; c++)
        rc = cl_frame_dict_intern((*out)->dict, b->dict->labels[c], b->dict->lens[c], &mb[c]);
    for (int64_t k = 0; rc == CL_OK && k < n; k++) {
        int32_t code = li[k] >= 0 ? a->codes[li[k]] : ri[k] >= 0 ? b->codes[ri[k]] : -1;
        (*out)->codes[k] = code < 0 ? -1 : li[k] >= 0 ? ma[code] : mb[code];
    }
    cl_alloc_free(ma);
    cl_alloc_free(mb);
    if (rc) {
        cl_frame_column_free(*out);
        *out = NULL;
    }
    return rc;
}

static int is_key(const char *name, const char *const *on, int non)
{
    for (int k = 0; k < non; k++)
        if (!strcmp(name, on[k]))
            return 1;
    return 0;
}

int cl_frame_join(cl_frame **out, const cl_frame *left, const cl_frame *right,
                  const char *const *on, int non, cl_join_how how, const char *suffix)
{
    return cl_frame_join_ex(out, left, right, on, non, how, "", suffix ? suffix : "_right");
}

int cl_frame_join_ex(cl_frame **out, const cl_frame *left, const cl_frame *right,
                     const char *const *on, int non, cl_join_how how, const char *lsuffix,
                     const char *rsuffix)
{
    *out = NULL;
    if (non < 1)
        return cl_error(CL_EINVAL, "join: no key columns given");
    if ((unsigned)how > CL_JOIN_OUTER)
        return cl_error(CL_EINVAL, "join: unknown join kind %d", (int)how);
    if (!lsuffix)
        lsuffix = "";
    if (!rsuffix)
        rsuffix = "_right";
    for (int k = 0; k < non; k++)
        for (int m = 0; m < k; m++)
            if (!strcmp(on[k], on[m]))
                return cl_error(CL_EINVAL, "join: key '%s' given twice", on[k]);
    const cl_column **lk = cl_alloc_calloc((size_t)non, sizeof *lk);
    const cl_column **rk = cl_alloc_calloc((size_t)non, sizeof *rk);
    uint8_t *rmatched = how == CL_JOIN_OUTER ? cl_alloc_calloc((size_t)(right->nrow ? right->nrow : 1), 1) : NULL;
    pairs q = {0};
    cl_frame *r = NULL;
    int64_t *li = NULL, *ri = NULL;
    int rc = lk && rk && (how != CL_JOIN_OUTER || rmatched) ? CL_OK : CL_ENOMEM;
    for (int k = 0; rc == CL_OK && k < non; k++) {
        int a, b;
        if ((rc = cl_frame_col(left, on[k], &a)))
            rc = cl_error_wrap(rc, "join: left frame");
        else if ((rc = cl_frame_col(right, on[k], &b)))
            rc = cl_error_wrap(rc, "join: right frame");
        else if ((left->cols[a]->type == CL_CAT) != (right->cols[b]->type == CL_CAT))
            rc = cl_error(CL_EINVAL, "join: key '%s' is %s on the left and %s on the right", on[k],
                          cl_frame_coltype_name(left->cols[a]->type), cl_frame_coltype_name(right->cols[b]->type));
        if (rc)
            break;
        lk[k] = left->cols[a];
        rk[k] = right->cols[b];
    }
    if (rc == CL_OK) {
        if (how == CL_JOIN_RIGHT) {
            rc = match(&q, rk, right->nrow, lk, left->nrow, non, 1, NULL);
            ri = q.p;
            li = q.b;
        } else {
            rc = match(&q, lk, left->nrow, rk, right->nrow, non, how != CL_JOIN_INNER, rmatched);
            li = q.p;
            ri = q.b;
        }
    }
    if (rc == CL_OK && how == CL_JOIN_OUTER) /* then the right rows no left row matched */
        for (int64_t j = 0; rc == CL_OK && j < right->nrow; j++)
            if (!rmatched[j]) {
                rc = push_pair(&q, -1, j);
                li = q.p;
                ri = q.b;
            }
    int64_t np = q.n;
    if (rc == CL_OK && how == CL_JOIN_OUTER) {
        /* pandas sorts an outer join by the keys: sort the pairs by their coalesced keys
         * (stable, so equal keys keep left-major order; missing keys last: left rows, then
         * right rows), before any other column is built */
        cl_frame *kf = NULL;
        int64_t *order = NULL;
        rc = cl_frame_new(&kf);
        for (int k = 0; rc == CL_OK && k < non; k++) {
            cl_column *c;
            if ((rc = coalesce(&c, lk[k], li, rk[k], ri, np)) == CL_OK) {
                rc = cl_frame_set(kf, on[k], c);
                cl_frame_column_free(c);
            }
        }
        if (rc == CL_OK)
            rc = cl_frame_ops_sort_index(kf, on, NULL, non, &order);
        cl_frame_free(kf);
        int64_t *tmp = rc == CL_OK ? cl_alloc(sizeof *tmp * (size_t)(np ? np : 1)) : NULL;
        if (rc == CL_OK && !tmp)
            rc = CL_ENOMEM;
        if (rc == CL_OK) {
            for (int64_t i = 0; i < np; i++)
                tmp[i] = li[order[i]];
            memcpy(li, tmp, sizeof *tmp * (size_t)np);
            for (int64_t i = 0; i < np; i++)
                tmp[i] = ri[order[i]];
            memcpy(ri, tmp, sizeof *tmp * (size_t)np);
        }
        cl_alloc_free(tmp);
        cl_alloc_free(order);
    }
    if (rc == CL_OK) {
        /* a lookup join (every left row matched once, in order) shares the left columns */
        int identity = np == left->nrow;
        for (int64_t i = 0; identity && i < np; i++)
            identity = li[i] == i;
        if (identity) {
            rc = cl_frame_copy(&r, left);
        } else if ((rc = cl_frame_new(&r)) == CL_OK) {
            for (int j = 0; rc == CL_OK && j < left->ncol; j++) {
                cl_column *c;
                if ((rc = take_or_na(&c, left->cols[j], li, np)) == CL_OK) {
                    rc = cl_frame_set(r, left->names[j], c);
                    cl_frame_column_free(c);
                }
            }
            r->nrow = np;
        }
    }
    /* right and outer joins: the key columns hold either side's key */
    for (int k = 0; rc == CL_OK && (how == CL_JOIN_RIGHT || how == CL_JOIN_OUTER) && k < non; k++) {
        cl_column *c;
        if ((rc = coalesce(&c, lk[k], li, rk[k], ri, np)) == CL_OK) {
            rc = cl_frame_set(r, on[k], c);
            cl_frame_column_free(c);
        }
    }
    /* clashing non-key names get the suffixes, as pandas' suffixes=(lsuffix, rsuffix) */
    for (int j = 0; rc == CL_OK && j < left->ncol; j++) {
        if (is_key(left->names[j], on, non) || !*lsuffix || cl_frame_find(right, left->names[j]) < 0)
            continue;
        char name[512];
        snprintf(name, sizeof name, "%s%s", left->names[j], lsuffix);
        const char *from[] = {left->names[j]}, *to[] = {name};
        cl_frame *rn;
        if ((rc = cl_frame_rename(&rn, r, from, to, 1)))
            rc = cl_error_wrap(rc, "join: suffix '%s' on the left", lsuffix);
        else {
            cl_frame_free(r);
            r = rn;
        }
    }
    for (int j = 0; rc == CL_OK && j < right->ncol; j++) {
        if (is_key(right->names[j], on, non))
            continue;
        char name[512];
        if (cl_frame_find(left, right->names[j]) >= 0)
            snprintf(name, sizeof name, "%s%s", right->names[j], rsuffix);
        else
            snprintf(name, sizeof name, "%s", right->names[j]);
        if (cl_frame_find(r, name) >= 0) {
            rc = cl_error(CL_EINVAL, "join: column '%s' would appear twice (choose other "
                          "suffixes)", name);
            break;
        }
        cl_column *c;
        if ((rc = take_or_na(&c, right->cols[j], ri, np)) == CL_OK) {
            rc = cl_frame_set(r, name, c);
            cl_frame_column_free(c);
        }
    }
    if (rc == CL_OK)
        r->nrow = np;
    if (rc == CL_OK)
        *out = r;
    else
        cl_frame_free(r);
    cl_alloc_free(lk);
    cl_alloc_free(rk);
    cl_alloc_free(rmatched);
    cl_alloc_free(q.p);
    cl_alloc_free(q.b);
    return rc;
}
