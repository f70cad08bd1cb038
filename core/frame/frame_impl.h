/* frame_impl.h - internals shared by frame*.c (not part of the public API). */
#ifndef CL_FRAME_IMPL_H
#define CL_FRAME_IMPL_H

#include <stdint.h>
#include <string.h>

#include "frame/frame.h"

/* Dense ids 0..*nids-1 per row of a column, in order of first appearance; missing values get
 * one id of their own (*na_id, or -1 when there are none). ids has c->n entries. */
int cl_frame_ops_dense_ids(const cl_column *c, int32_t *ids, int32_t *nids, int32_t *na_id);

/* Group id of every row over the key columns kj[0..nk) (missing values are one key value of
 * their own), ids in order of first appearance; gid has f->nrow entries. */
int cl_frame_group_ids(const cl_frame *f, const int *kj, int nk, int32_t *gid, int32_t *ng);

/* 64-bit mixer (splitmix64's finaliser) and the bits of a double with -0.0 folded into 0.0. */
static inline uint64_t cl_mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

static inline uint64_t cl_dbits(double x)
{
    if (x == 0)
        x = 0; /* -0.0 and 0.0 are one value for grouping, joining and distinct counts */
    uint64_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

/* Rank of every label of a dictionary in bytewise order: rank[code]. cl_alloc'ed. */
int cl_frame_ops_dict_ranks(const cl_dict *d, int32_t **rank);

#endif
