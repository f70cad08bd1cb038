/* frame.h - columnar data frames: typed columns, category dictionaries, row selection.
 *
 * Owner: frame helper. Column kinds (DESIGN.md "Data model"):
 *   CL_NUM   float64, NaN = missing
 *   CL_CAT   int32 codes into a category dictionary (cl_dict), -1 = missing
 *   CL_DATE  float64 days since 1970-01-01 (fractional for times), NaN = missing
 *
 * Columns and dictionaries are immutable once built and refcounted, so frames share them:
 * select/with/rename/filter of unchanged columns never copy data. Every operation returns
 * a new object. A frame is an ordered list of (name, column) with equal lengths.
 *
 * Ownership: functions returning an object through `out` give an owned reference, released
 * with cl_frame_column_free / cl_frame_free / cl_frame_dict_free (which drop one reference). Inputs are
 * borrowed for the duration of the call. Row indices are 0-based int64.
 *
 * Operations on whole frames (sort, group-by, join, concat, split, describe) are declared in
 * frame_ops.h; CSV reading/writing in csv.h; preprocessing into tensors in prep.h.
 */
#ifndef CL_FRAME_H
#define CL_FRAME_H

#include <stddef.h>
#include <stdint.h>

typedef enum { CL_NUM = 0, CL_CAT = 1, CL_DATE = 2 /* values are only ever appended */ } cl_coltype;

/* "num", "cat", "date". */
const char *cl_frame_coltype_name(cl_coltype t);
/* Parses a type name; CL_EINVAL naming the accepted names otherwise. */
int cl_frame_coltype_parse(const char *s, cl_coltype *t);

/* ---- category dictionaries (string interning) -------------------------------------------- */

typedef struct cl_dict {
    int refcount;
    int32_t n;          /* labels */
    int32_t cap;
    char **labels;      /* n NUL-terminated strings, code i -> labels[i] (in the arena) */
    uint32_t *lens;     /* byte lengths of the labels */
    uint32_t *hashes;   /* hash of each label */
    struct cl_dict_slot *slots; /* open addressing (frame.c); code + 1 = 0: empty */
    uint32_t nslots;    /* power of two */
    char *arena;        /* label storage: a chain of blocks that never move */
    size_t arena_used, arena_cap;
} cl_dict;

int cl_frame_dict_new(cl_dict **out);
cl_dict *cl_frame_dict_retain(cl_dict *d);
void cl_frame_dict_free(cl_dict *d);              /* drops one reference; NULL is fine */
/* Code of label s[0..len) (need not be NUL-terminated), adding it if absent. */
int cl_frame_dict_intern(cl_dict *d, const char *s, size_t len, int32_t *code);
/* Code of the label, or -1 when absent. */
int32_t cl_frame_dict_find(const cl_dict *d, const char *s, size_t len);
/* Hints that s[0..len) is looked up soon (a batch of lookups hides its memory latency):
 * stage 0 fetches its table slot and returns its hash; stage 1 (with that hash, a few
 * lookups later) fetches the label the slot points to. Only hints: any hash is safe. */
uint32_t cl_frame_dict_prefetch_slot(const cl_dict *d, const char *s, size_t len);
void cl_frame_dict_prefetch_label(const cl_dict *d, uint32_t hash);
/* cl_frame_dict_intern given the hash cl_frame_dict_prefetch_slot returned for these same
 * bytes (the CSV reader hashes each label once, to prefetch it, then interns it). */
int cl_frame_dict_intern_hashed(cl_dict *d, const char *s, size_t len, uint32_t hash,
                                int32_t *code);

/* ---- columns ------------------------------------------------------------------------------ */

typedef struct cl_column {
    int refcount;
    cl_coltype type;
    int64_t n;
    double *num;      /* CL_NUM, CL_DATE: n values */
    int32_t *codes;   /* CL_CAT: n codes */
    cl_dict *dict;    /* CL_CAT: retained dictionary */
} cl_column;

/* A num or date column of n uninitialised values. */
int cl_frame_column_new_num(cl_column **out, cl_coltype type, int64_t n);
/* A cat column of n uninitialised codes over `dict` (retained; NULL makes a new empty one). */
int cl_frame_column_new_cat(cl_column **out, int64_t n, cl_dict *dict);
/* Copies of caller data; for cat, strs may hold NULL for missing. */
int cl_frame_column_from_doubles(cl_column **out, const double *v, int64_t n);
int cl_frame_column_from_strings(cl_column **out, const char *const *strs, int64_t n);
cl_column *cl_frame_column_retain(cl_column *c);
void cl_frame_column_free(cl_column *c);

int cl_frame_column_isna_at(const cl_column *c, int64_t i);
/* Label of row i of a cat column, or NULL when missing. */
const char *cl_frame_column_label(const cl_column *c, int64_t i);
/* Rows idx[0..k) (each checked against n). */
int cl_frame_column_take(cl_column **out, const cl_column *c, const int64_t *idx, int64_t k);

/* ---- frames ------------------------------------------------------------------------------- */

typedef struct cl_frame {
    int64_t nrow;
    int ncol, cap;
    char **names;
    cl_column **cols;
    /* Name index, so finding or adding a column costs O(1) and a frame of 100k columns
     * builds in linear time: open addressing, slot = column + 1 (0 = empty); NULL while
     * the frame has few columns (a scan is faster). Maintained by cl_frame_set only. */
    int32_t *index;
    uint32_t nslots;
} cl_frame;

int cl_frame_new(cl_frame **out);
void cl_frame_free(cl_frame *f);
/* Adds column `name` (retained) at the end, or replaces the column of that name in place.
 * The first column sets nrow; later ones must match it. */
int cl_frame_set(cl_frame *f, const char *name, cl_column *c);
/* Index of the named column, or -1. */
int cl_frame_find(const cl_frame *f, const char *name);
/* Index of the named column, or CL_EINVAL "no column 'x' (columns: a, b, ...)". */
int cl_frame_col(const cl_frame *f, const char *name, int *idx);
/* Shallow copy (columns shared). */
int cl_frame_copy(cl_frame **out, const cl_frame *f);
/* Rows idx[0..k) of every column. */
int cl_frame_take(cl_frame **out, const cl_frame *f, const int64_t *idx, int64_t k);
/* Rows where mask (a num column: non-zero and not NaN = keep) is true. */
int cl_frame_filter(cl_frame **out, const cl_frame *f, const cl_column *mask);
/* Rows [i0, i1), clamped to the frame. */
int cl_frame_slice(cl_frame **out, const cl_frame *f, int64_t i0, int64_t i1);
/* Columns by name, in the given order (duplicates refused). */
int cl_frame_select(cl_frame **out, const cl_frame *f, const char *const *names, int k);
/* Every column but the named ones (each must exist). */
int cl_frame_drop(cl_frame **out, const cl_frame *f, const char *const *names, int k);
/* Renames from[i] -> to[i]; the result must still have unique names. */
int cl_frame_rename(cl_frame **out, const cl_frame *f, const char *const *from,
                    const char *const *to, int k);
/* Indices (0-based) of rows whose mask value is true; *out is cl_alloc'ed (free with cl_alloc_free). */
int cl_frame_mask_indices(const cl_column *mask, int64_t **out, int64_t *k);

#endif
