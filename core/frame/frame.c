/* frame.c - columns, category dictionaries and frames: lifecycle and row/column selection.
 * Column arithmetic and reductions live in col.c; sort, group-by, join, splits in
 * frame_ops.c / frame_group.c. */
#include "frame/frame.h"
#include "base/alloc.h"
#include "base/error.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char *cl_frame_coltype_name(cl_coltype t)
{
    switch (t) {
    case CL_NUM: return "num";
    case CL_CAT: return "cat";
    case CL_DATE: return "date";
    }
    return "?";
}

int cl_frame_coltype_parse(const char *s, cl_coltype *t)
{
    if (!strcmp(s, "num"))
        *t = CL_NUM;
    else if (!strcmp(s, "cat"))
        *t = CL_CAT;
    else if (!strcmp(s, "date"))
        *t = CL_DATE;
    else
        return cl_error(CL_EINVAL, "unknown column type '%s' (expected num, cat or date)", s);
    return CL_OK;
}

/* ---- dictionaries ------------------------------------------------------------------------- */

static inline uint64_t load64(const char *s)
{
    uint64_t w;
    memcpy(&w, s, 8);
    return w;
}

static inline uint64_t load32(const char *s)
{
    uint32_t w;
    memcpy(&w, s, 4);
    return w;
}

static uint32_t hash_bytes(const char *s, size_t len)
{
    /* 8 bytes per step (labels are short, so this is a few multiplies), then a finaliser
     * so the low bits used by the power-of-two table mix well. The last 1..8 bytes are read
     * as one word that may overlap the ones before (or two overlapping 4-byte words when the
     * label is shorter than 8): a memcpy of a variable length was a call per label, and the
     * hash was 7% of a CSV read. The length is in the seed, so overlaps cannot collide
     * labels of different lengths more than any other bytes do. */
    uint64_t h = 0x9e3779b97f4a7c15ULL ^ (len * 0xff51afd7ed558ccdULL);
    if (len >= 8) {
        const char *last = s + len - 8;
        while (s < last) {
            h = (h ^ load64(s)) * 0xbf58476d1ce4e5b9ULL;
            h ^= h >> 29;
            s += 8;
        }
        h = (h ^ load64(last)) * 0x94d049bb133111ebULL;
    } else if (len >= 4) {
        h = (h ^ (load32(s) | load32(s + len - 4) << 32)) * 0x94d049bb133111ebULL;
    } else if (len) {
        uint64_t w = (uint64_t)(unsigned char)s[0] | (uint64_t)(unsigned char)s[len / 2] << 8 |
                     (uint64_t)(unsigned char)s[len - 1] << 16;
        h = (h ^ w) * 0x94d049bb133111ebULL;
    }
    h ^= h >> 32;
    h *= 0xd6e8feb86659fd93ULL;
    h ^= h >> 32;
    return (uint32_t)h;
}

/* The arena: a chain of blocks, each starting with a pointer to the previous block, so
 * labels keep their addresses while the dictionary grows and sit close together in memory
 * (lookups touch few cache lines). Blocks double from 256 bytes to 64 KiB: a frame of 100k
 * cat columns with a few labels each must not take 64 KiB per column (6 GB).
 * Each label is stored as its 4-byte length, then its bytes and a NUL: a lookup reads the
 * length and the bytes from one place (see dict_lookup). */
#define ARENA_BLOCK ((size_t)64 << 10)
#define ARENA_FIRST ((size_t)256)
#define LEN_PREFIX sizeof(uint32_t)

static char *arena_put(cl_dict *d, const char *s, size_t len)
{
    size_t need = LEN_PREFIX + len + 1;
    if (d->arena_used + need > d->arena_cap) {
        size_t cap = d->arena_cap ? d->arena_cap * 2 : ARENA_FIRST;
        if (cap > ARENA_BLOCK)
            cap = ARENA_BLOCK;
        if (cap < need + sizeof(char *))
            cap = need + sizeof(char *);
        char *blk = cl_alloc(cap);
        if (!blk)
            return NULL;
        memcpy(blk, &d->arena, sizeof(char *));
        d->arena = blk;
        d->arena_used = sizeof(char *);
        d->arena_cap = cap;
    }
    char *p = d->arena + d->arena_used;
    uint32_t n32 = (uint32_t)len;
    memcpy(p, &n32, LEN_PREFIX);
    p += LEN_PREFIX;
    memcpy(p, s, len);
    p[len] = '\0';
    d->arena_used += need;
    return p;
}

/* A table slot holds the label's hash, its code + 1 (0: empty) and where its text is, so a
 * lookup is one slot read and one read of the label (length prefix and bytes together): the
 * profile of read_csv on 20k-label columns had dict_lookup at 20%, stalled on the three
 * dependent reads (slot, lens[c], labels[c]) before the bytes. */
struct cl_dict_slot {
    uint32_t hash;
    uint32_t code1;
    const char *label;
};

int cl_frame_dict_new(cl_dict **out)
{
    *out = NULL;
    cl_dict *d = cl_alloc_calloc(1, sizeof *d);
    if (!d)
        return cl_error_wrap(CL_ENOMEM, "category labels");
    d->refcount = 1;
    d->nslots = 16;
    d->slots = cl_alloc_calloc(d->nslots, sizeof *d->slots);
    if (!d->slots) {
        cl_alloc_free(d);
        return cl_error_wrap(CL_ENOMEM, "category labels");
    }
    *out = d;
    return CL_OK;
}

cl_dict *cl_frame_dict_retain(cl_dict *d)
{
    if (d)
        __atomic_add_fetch(&d->refcount, 1, __ATOMIC_RELAXED);
    return d;
}

void cl_frame_dict_free(cl_dict *d)
{
    if (!d || __atomic_sub_fetch(&d->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    for (char *blk = d->arena; blk;) {
        char *prev;
        memcpy(&prev, blk, sizeof prev);
        cl_alloc_free(blk);
        blk = prev;
    }
    cl_alloc_free(d->labels);
    cl_alloc_free(d->lens);
    cl_alloc_free(d->hashes);
    cl_alloc_free(d->slots);
    cl_alloc_free(d);
}

static inline int same_bytes(const char *a, const char *b, size_t len)
{
    /* labels are short: words (the first and last 8 or 4 bytes, overlapping) beat a byte
     * loop and a call to memcmp */
    if (len >= 8) {
        for (size_t i = 0; i + 8 < len; i += 8)
            if (load64(a + i) != load64(b + i))
                return 0;
        return load64(a + len - 8) == load64(b + len - 8);
    }
    if (len >= 4)
        return load32(a) == load32(b) && load32(a + len - 4) == load32(b + len - 4);
    for (size_t i = 0; i < len; i++)
        if (a[i] != b[i])
            return 0;
    return 1;
}

static int32_t dict_lookup(const cl_dict *d, const char *s, size_t len, uint32_t h, uint32_t *slot)
{
    uint32_t mask = d->nslots - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        const struct cl_dict_slot *e = &d->slots[i];
        if (e->code1 == 0) {
            *slot = i;
            return -1;
        }
        if (e->hash != h)
            continue;
        uint32_t n;
        memcpy(&n, e->label - LEN_PREFIX, sizeof n);
        if (n == len && same_bytes(e->label, s, len))
            return (int32_t)(e->code1 - 1);
    }
}

static int dict_grow_table(cl_dict *d)
{
    uint32_t ns = d->nslots * 2;
    struct cl_dict_slot *slots = cl_alloc_calloc(ns, sizeof *slots);
    if (!slots)
        return cl_error_wrap(CL_ENOMEM, "category labels");
    for (int32_t c = 0; c < d->n; c++) {
        uint32_t i = d->hashes[c] & (ns - 1);
        while (slots[i].code1)
            i = (i + 1) & (ns - 1);
        slots[i] = (struct cl_dict_slot){d->hashes[c], (uint32_t)(c + 1), d->labels[c]};
    }
    cl_alloc_free(d->slots);
    d->slots = slots;
    d->nslots = ns;
    return CL_OK;
}

int32_t cl_frame_dict_find(const cl_dict *d, const char *s, size_t len)
{
    uint32_t slot;
    return dict_lookup(d, s, len, hash_bytes(s, len), &slot);
}

uint32_t cl_frame_dict_prefetch_slot(const cl_dict *d, const char *s, size_t len)
{
    uint32_t h = hash_bytes(s, len);
    __builtin_prefetch(&d->slots[h & (d->nslots - 1)]);
    return h;
}

void cl_frame_dict_prefetch_label(const cl_dict *d, uint32_t hash)
{
    const struct cl_dict_slot *e = &d->slots[hash & (d->nslots - 1)];
    if (e->code1)
        __builtin_prefetch(e->label - LEN_PREFIX);
}

int cl_frame_dict_intern(cl_dict *d, const char *s, size_t len, int32_t *code)
{
    return cl_frame_dict_intern_hashed(d, s, len, hash_bytes(s, len), code);
}

int cl_frame_dict_intern_hashed(cl_dict *d, const char *s, size_t len, uint32_t h, int32_t *code)
{
    uint32_t slot;
    int32_t c = dict_lookup(d, s, len, h, &slot);
    if (c >= 0) {
        *code = c;
        return CL_OK;
    }
    if (len > UINT32_MAX - 1 || d->n >= INT32_MAX - 1)
        return cl_error(CL_ERANGE, "category dictionary full");
    if (d->n == d->cap) {
        int32_t cap = d->cap ? (d->cap > INT32_MAX / 2 ? INT32_MAX - 1 : d->cap * 2) : 8;
        char **labels = cl_alloc_realloc(d->labels, (size_t)cap * sizeof *labels);
        if (!labels)
            return cl_error_wrap(CL_ENOMEM, "category labels");
        d->labels = labels;
        uint32_t *lens = cl_alloc_realloc(d->lens, (size_t)cap * sizeof *lens);
        if (!lens)
            return cl_error_wrap(CL_ENOMEM, "category labels");
        d->lens = lens;
        uint32_t *hashes = cl_alloc_realloc(d->hashes, (size_t)cap * sizeof *hashes);
        if (!hashes)
            return cl_error_wrap(CL_ENOMEM, "category labels");
        d->hashes = hashes;
        d->cap = cap;
    }
    if ((uint64_t)(d->n + 1) * 2 > (uint64_t)d->nslots) { /* keep the load at most 1/2 */
        int rc = dict_grow_table(d);
        if (rc)
            return rc;
        dict_lookup(d, s, len, h, &slot);
    }
    char *copy = arena_put(d, s, len);
    if (!copy)
        return cl_error_wrap(CL_ENOMEM, "category labels");
    c = d->n;
    d->labels[c] = copy;
    d->lens[c] = (uint32_t)len;
    d->hashes[c] = h;
    d->n++;
    d->slots[slot] = (struct cl_dict_slot){h, (uint32_t)(c + 1), copy};
    *code = c;
    return CL_OK;
}

/* ---- columns ------------------------------------------------------------------------------ */

int cl_frame_column_new_num(cl_column **out, cl_coltype type, int64_t n)
{
    *out = NULL;
    if (n < 0 || type == CL_CAT)
        return cl_error(CL_EINVAL, "column: bad size or type");
    size_t bytes;
    if (!cl_alloc_mul_size((size_t)(n ? n : 1), sizeof(double), &bytes))
        return CL_ERANGE;
    cl_column *c = cl_alloc_calloc(1, sizeof *c);
    if (!c)
        return CL_ENOMEM;
    c->num = cl_alloc(bytes);
    if (!c->num) {
        cl_alloc_free(c);
        return CL_ENOMEM;
    }
    c->refcount = 1;
    c->type = type;
    c->n = n;
    *out = c;
    return CL_OK;
}

int cl_frame_column_new_cat(cl_column **out, int64_t n, cl_dict *dict)
{
    *out = NULL;
    if (n < 0)
        return cl_error(CL_EINVAL, "column: negative size");
    size_t bytes;
    if (!cl_alloc_mul_size((size_t)(n ? n : 1), sizeof(int32_t), &bytes))
        return CL_ERANGE;
    cl_column *c = cl_alloc_calloc(1, sizeof *c);
    if (!c)
        return CL_ENOMEM;
    c->codes = cl_alloc(bytes);
    int rc = CL_OK;
    if (!c->codes)
        rc = CL_ENOMEM;
    else if (dict)
        c->dict = cl_frame_dict_retain(dict);
    else
        rc = cl_frame_dict_new(&c->dict);
    c->refcount = 1;
    c->type = CL_CAT;
    c->n = n;
    if (rc) {
        cl_frame_column_free(c);
        return rc;
    }
    *out = c;
    return CL_OK;
}

int cl_frame_column_from_doubles(cl_column **out, const double *v, int64_t n)
{
    int rc = cl_frame_column_new_num(out, CL_NUM, n);
    if (rc == CL_OK && n > 0)
        memcpy((*out)->num, v, (size_t)n * sizeof *v);
    return rc;
}

int cl_frame_column_from_strings(cl_column **out, const char *const *strs, int64_t n)
{
    cl_column *c;
    int rc = cl_frame_column_new_cat(&c, n, NULL);
    if (rc)
        return rc;
    for (int64_t i = 0; i < n; i++) {
        if (!strs[i]) {
            c->codes[i] = -1;
        } else if ((rc = cl_frame_dict_intern(c->dict, strs[i], strlen(strs[i]), &c->codes[i]))) {
            cl_frame_column_free(c);
            return rc;
        }
    }
    *out = c;
    return CL_OK;
}

cl_column *cl_frame_column_retain(cl_column *c)
{
    if (c)
        __atomic_add_fetch(&c->refcount, 1, __ATOMIC_RELAXED);
    return c;
}

void cl_frame_column_free(cl_column *c)
{
    if (!c || __atomic_sub_fetch(&c->refcount, 1, __ATOMIC_ACQ_REL) != 0)
        return;
    cl_alloc_free(c->num);
    cl_alloc_free(c->codes);
    cl_frame_dict_free(c->dict);
    cl_alloc_free(c);
}

int cl_frame_column_isna_at(const cl_column *c, int64_t i)
{
    return c->type == CL_CAT ? c->codes[i] < 0 : isnan(c->num[i]);
}

const char *cl_frame_column_label(const cl_column *c, int64_t i)
{
    if (c->type != CL_CAT || c->codes[i] < 0)
        return NULL;
    return c->dict->labels[c->codes[i]];
}

int cl_frame_column_take(cl_column **out, const cl_column *c, const int64_t *idx, int64_t k)
{
    *out = NULL;
    for (int64_t j = 0; j < k; j++)
        if (idx[j] < 0 || idx[j] >= c->n)
            return cl_error(CL_ERANGE, "row index %lld out of range (%lld rows)",
                            (long long)idx[j] + 1, (long long)c->n);
    cl_column *r;
    int rc = c->type == CL_CAT ? cl_frame_column_new_cat(&r, k, c->dict)
                               : cl_frame_column_new_num(&r, c->type, k);
    if (rc)
        return rc;
    if (c->type == CL_CAT)
        for (int64_t j = 0; j < k; j++)
            r->codes[j] = c->codes[idx[j]];
    else
        for (int64_t j = 0; j < k; j++)
            r->num[j] = c->num[idx[j]];
    *out = r;
    return CL_OK;
}

/* ---- frames ------------------------------------------------------------------------------- */

int cl_frame_new(cl_frame **out)
{
    *out = cl_alloc_calloc(1, sizeof **out);
    return *out ? CL_OK : CL_ENOMEM;
}

void cl_frame_free(cl_frame *f)
{
    if (!f)
        return;
    for (int j = 0; j < f->ncol; j++) {
        cl_alloc_free(f->names[j]);
        cl_frame_column_free(f->cols[j]);
    }
    cl_alloc_free(f->names);
    cl_alloc_free(f->cols);
    cl_alloc_free(f->index);
    cl_alloc_free(f);
}

/* Below this many columns cl_frame_find scans the names (no index is kept). */
#define INDEX_MIN 16

int cl_frame_find(const cl_frame *f, const char *name)
{
    if (!f->index) {
        for (int j = 0; j < f->ncol; j++)
            if (!strcmp(f->names[j], name))
                return j;
        return -1;
    }
    uint32_t mask = f->nslots - 1;
    for (uint32_t s = hash_bytes(name, strlen(name)) & mask;; s = (s + 1) & mask) {
        int32_t j = f->index[s] - 1;
        if (j < 0)
            return -1;
        if (!strcmp(f->names[j], name))
            return j;
    }
}

/* Rebuilds the index for at least `want` columns at a load factor <= 1/2. */
static int index_rebuild(cl_frame *f, int want)
{
    uint32_t n = 64;
    while (n < (uint32_t)want * 2u)
        n *= 2;
    int32_t *idx = cl_alloc_calloc(n, sizeof *idx);
    if (!idx)
        return CL_ENOMEM;
    for (int j = 0; j < f->ncol; j++) {
        uint32_t s = hash_bytes(f->names[j], strlen(f->names[j])) & (n - 1);
        while (idx[s])
            s = (s + 1) & (n - 1);
        idx[s] = j + 1;
    }
    cl_alloc_free(f->index);
    f->index = idx;
    f->nslots = n;
    return CL_OK;
}

int cl_frame_col(const cl_frame *f, const char *name, int *idx)
{
    *idx = cl_frame_find(f, name);
    if (*idx >= 0)
        return CL_OK;
    char list[256];
    size_t len = 0;
    list[0] = '\0';
    for (int j = 0; j < f->ncol && len < sizeof list - 8; j++) {
        int w = snprintf(list + len, sizeof list - len, "%s%s", j ? ", " : "", f->names[j]);
        if (w < 0 || (size_t)w >= sizeof list - len) {
            snprintf(list + (sizeof list - 5), 5, "...");
            len = sizeof list;
            break;
        }
        len += (size_t)w;
    }
    return cl_error(CL_EINVAL, "no column '%s' (columns: %s)", name, list);
}

int cl_frame_set(cl_frame *f, const char *name, cl_column *c)
{
    if (!name || !*name)
        return cl_error(CL_EINVAL, "column names must not be empty");
    if (f->ncol > 0 && c->n != f->nrow)
        return cl_error(CL_EINVAL, "column '%s' has %lld rows, the frame has %lld", name,
                        (long long)c->n, (long long)f->nrow);
    int j = cl_frame_find(f, name);
    if (j >= 0) {
        cl_frame_column_retain(c);
        cl_frame_column_free(f->cols[j]);
        f->cols[j] = c;
        return CL_OK;
    }
    if (f->ncol == f->cap) {
        int cap = f->cap ? f->cap * 2 : 8;
        char **names = cl_alloc_realloc(f->names, (size_t)cap * sizeof *names);
        if (!names)
            return CL_ENOMEM;
        f->names = names;
        cl_column **cols = cl_alloc_realloc(f->cols, (size_t)cap * sizeof *cols);
        if (!cols)
            return CL_ENOMEM;
        f->cols = cols;
        f->cap = cap;
    }
    /* room in the index first, so a failure leaves the frame as it was */
    if ((f->index || f->ncol + 1 >= INDEX_MIN) && (uint32_t)(f->ncol + 1) * 2u > f->nslots &&
        index_rebuild(f, f->ncol + 1) != CL_OK)
        return CL_ENOMEM;
    char *copy = cl_alloc_strdup(name);
    if (!copy)
        return CL_ENOMEM;
    f->names[f->ncol] = copy;
    f->cols[f->ncol] = cl_frame_column_retain(c);
    if (f->ncol == 0)
        f->nrow = c->n;
    f->ncol++;
    if (f->index) {
        uint32_t mask = f->nslots - 1, s = hash_bytes(copy, strlen(copy)) & mask;
        while (f->index[s])
            s = (s + 1) & mask;
        f->index[s] = f->ncol;
    }
    return CL_OK;
}

int cl_frame_copy(cl_frame **out, const cl_frame *f)
{
    int rc = cl_frame_new(out);
    for (int j = 0; rc == CL_OK && j < f->ncol; j++)
        rc = cl_frame_set(*out, f->names[j], f->cols[j]);
    if (rc) {
        cl_frame_free(*out);
        *out = NULL;
        return rc;
    }
    (*out)->nrow = f->nrow;
    return CL_OK;
}

int cl_frame_take(cl_frame **out, const cl_frame *f, const int64_t *idx, int64_t k)
{
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int j = 0; rc == CL_OK && j < f->ncol; j++) {
        cl_column *c;
        rc = cl_frame_column_take(&c, f->cols[j], idx, k);
        if (rc == CL_OK) {
            rc = cl_frame_set(r, f->names[j], c);
            cl_frame_column_free(c);
        }
    }
    if (rc) {
        cl_frame_free(r);
        *out = NULL;
        return rc;
    }
    r->nrow = k;
    *out = r;
    return CL_OK;
}

int cl_frame_mask_indices(const cl_column *mask, int64_t **out, int64_t *k)
{
    *out = NULL;
    *k = 0;
    if (mask->type != CL_NUM)
        return cl_error(CL_EINVAL, "a mask must be a num column of 0/1 (got a %s column)",
                        cl_frame_coltype_name(mask->type));
    int64_t cnt = 0;
    for (int64_t i = 0; i < mask->n; i++)
        cnt += mask->num[i] != 0 && !isnan(mask->num[i]);
    int64_t *idx = cl_alloc((size_t)(cnt ? cnt : 1) * sizeof *idx);
    if (!idx)
        return CL_ENOMEM;
    int64_t m = 0;
    for (int64_t i = 0; i < mask->n; i++)
        if (mask->num[i] != 0 && !isnan(mask->num[i]))
            idx[m++] = i;
    *out = idx;
    *k = cnt;
    return CL_OK;
}

int cl_frame_filter(cl_frame **out, const cl_frame *f, const cl_column *mask)
{
    *out = NULL;
    if (mask->n != f->nrow)
        return cl_error(CL_EINVAL, "filter: the mask has %lld rows, the frame has %lld",
                        (long long)mask->n, (long long)f->nrow);
    int64_t *idx, k;
    int rc = cl_frame_mask_indices(mask, &idx, &k);
    if (rc)
        return cl_error_wrap(rc, "filter");
    rc = cl_frame_take(out, f, idx, k);
    cl_alloc_free(idx);
    return rc;
}

int cl_frame_slice(cl_frame **out, const cl_frame *f, int64_t i0, int64_t i1)
{
    if (i0 < 0)
        i0 = 0;
    if (i1 > f->nrow)
        i1 = f->nrow;
    if (i1 < i0)
        i1 = i0;
    int64_t k = i1 - i0;
    int64_t *idx = cl_alloc((size_t)(k ? k : 1) * sizeof *idx);
    if (!idx)
        return CL_ENOMEM;
    for (int64_t i = 0; i < k; i++)
        idx[i] = i0 + i;
    int rc = cl_frame_take(out, f, idx, k);
    cl_alloc_free(idx);
    return rc;
}

int cl_frame_select(cl_frame **out, const cl_frame *f, const char *const *names, int k)
{
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int i = 0; rc == CL_OK && i < k; i++) {
        int j;
        rc = cl_frame_col(f, names[i], &j);
        if (rc == CL_OK && cl_frame_find(r, names[i]) >= 0)
            rc = cl_error(CL_EINVAL, "select: column '%s' named twice", names[i]);
        if (rc == CL_OK)
            rc = cl_frame_set(r, names[i], f->cols[j]);
    }
    if (rc) {
        cl_frame_free(r);
        *out = NULL;
        return rc;
    }
    r->nrow = f->nrow;
    *out = r;
    return CL_OK;
}

int cl_frame_drop(cl_frame **out, const cl_frame *f, const char *const *names, int k)
{
    *out = NULL;
    for (int i = 0; i < k; i++) {
        int j;
        int rc = cl_frame_col(f, names[i], &j);
        if (rc)
            return cl_error_wrap(rc, "drop");
    }
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int j = 0; rc == CL_OK && j < f->ncol; j++) {
        int dropped = 0;
        for (int i = 0; i < k && !dropped; i++)
            dropped = !strcmp(f->names[j], names[i]);
        if (!dropped)
            rc = cl_frame_set(r, f->names[j], f->cols[j]);
    }
    if (rc) {
        cl_frame_free(r);
        return rc;
    }
    r->nrow = f->nrow;
    *out = r;
    return CL_OK;
}

int cl_frame_rename(cl_frame **out, const cl_frame *f, const char *const *from,
                    const char *const *to, int k)
{
    *out = NULL;
    for (int i = 0; i < k; i++) {
        int j;
        int rc = cl_frame_col(f, from[i], &j);
        if (rc)
            return cl_error_wrap(rc, "rename");
        if (!to[i] || !*to[i])
            return cl_error(CL_EINVAL, "rename: new name for '%s' is empty", from[i]);
    }
    cl_frame *r;
    int rc = cl_frame_new(&r);
    for (int j = 0; rc == CL_OK && j < f->ncol; j++) {
        const char *name = f->names[j];
        for (int i = 0; i < k; i++)
            if (!strcmp(f->names[j], from[i]))
                name = to[i];
        if (cl_frame_find(r, name) >= 0)
            rc = cl_error(CL_EINVAL, "rename: two columns would be named '%s'", name);
        else
            rc = cl_frame_set(r, name, f->cols[j]);
    }
    if (rc) {
        cl_frame_free(r);
        return rc;
    }
    r->nrow = f->nrow;
    *out = r;
    return CL_OK;
}
