/* modelio.h - the one versioned container for every model kind (and fitted pipelines).
 *
 * Layout, all integers little-endian:
 *   magic    8 bytes  "\x89CLM\r\n\x1a\n"  (catches text-mode and truncation damage, as PNG)
 *   version  u32      CL_MODEL_VERSION; newer files are refused with a clear message
 *   kind     u32 length + bytes ("logreg", "mlp", "gbdt", "pipeline" ...)
 *   count    u32      number of chunks
 *   chunks   each: u16 name length, name, u8 type, u64 element count, payload
 *            (STR payload: per string a u32 length and the bytes)
 *   crc      u32      CRC-32 of every byte before it
 *
 * Chunks are named ("trees.feature", "pipeline.names"), so a model can grow fields without a
 * version bump and a pipeline can live beside a model in one file (name prefixes). The reader
 * checks magic, version, CRC and every chunk's bounds when the file is opened, before any
 * model code sees a byte; getters then check names, types and element counts.
 */
#ifndef CL_MODELIO_H
#define CL_MODELIO_H

#include <stddef.h>
#include <stdint.h>

#define CL_MODEL_VERSION 1u
#define CL_MODEL_MAX_BYTES ((size_t)1 << 34) /* 16 GiB: larger claims are corruption */

typedef enum {
    CL_CHUNK_U8 = 1,
    CL_CHUNK_I32 = 2,
    CL_CHUNK_I64 = 3,
    CL_CHUNK_F32 = 4,
    CL_CHUNK_F64 = 5,
    CL_CHUNK_STR = 6
    /* values are only ever appended */
} cl_chunk_type;

/* ---- writing ------------------------------------------------------------------------ */

typedef struct cl_mw cl_mw;

/* New writer for a model of `kind`; NULL on allocation failure. Owned; cl_modelio_w_free. */
cl_mw *cl_modelio_w_new(const char *kind);
void cl_modelio_w_free(cl_mw *w);

/* Appends a chunk. Errors are sticky: after the first failure every call is a no-op and
 * cl_modelio_w_save/cl_modelio_w_finish return that failure, so writers need not check each call. */
int cl_modelio_w_u8(cl_mw *w, const char *name, const uint8_t *v, size_t n);
int cl_modelio_w_i32(cl_mw *w, const char *name, const int32_t *v, size_t n);
int cl_modelio_w_i64(cl_mw *w, const char *name, const int64_t *v, size_t n);
int cl_modelio_w_f32(cl_mw *w, const char *name, const float *v, size_t n);
int cl_modelio_w_f64(cl_mw *w, const char *name, const double *v, size_t n);
int cl_modelio_w_strs(cl_mw *w, const char *name, const char *const *v, size_t n);
/* One-value conveniences. */
int cl_modelio_w_int(cl_mw *w, const char *name, int64_t v);
int cl_modelio_w_num(cl_mw *w, const char *name, double v);
int cl_modelio_w_str(cl_mw *w, const char *name, const char *v);

/* Prefix prepended to every later chunk name ("pipeline."); NULL or "" clears it. */
int cl_modelio_w_prefix(cl_mw *w, const char *prefix);

/* Finished bytes (header, chunks, CRC): *buf is borrowed, valid until the next call on w. */
int cl_modelio_w_finish(cl_mw *w, const void **buf, size_t *len);
/* Writes the finished file atomically. */
int cl_modelio_w_save(cl_mw *w, const char *path);

/* ---- reading ------------------------------------------------------------------------ */

typedef struct cl_mr cl_mr;

/* Opens and fully validates a model file (or buffer; `origin` names it in messages). */
int cl_modelio_r_open(cl_mr **out, const char *path);
int cl_modelio_r_from_buffer(cl_mr **out, const void *buf, size_t len, const char *origin);
void cl_modelio_r_free(cl_mr *r);

const char *cl_modelio_r_kind(const cl_mr *r);
uint32_t cl_modelio_r_version(const cl_mr *r);
/* CL_EFORMAT "'<origin>' holds a <kind> model, not a <want> model" when they differ. */
int cl_modelio_r_expect_kind(const cl_mr *r, const char *want);
/* Reads the kind of a model file without validating more than the header. */
int cl_modelio_r_peek_kind(const char *path, char *kind, size_t cap);

/* Prefix prepended to every later lookup name. */
int cl_modelio_r_prefix(cl_mr *r, const char *prefix);

/* 1 if the chunk exists (any type). */
int cl_modelio_r_has(const cl_mr *r, const char *name);
/* Element count of a chunk of the given type; CL_EFORMAT if missing or of another type. */
int cl_modelio_r_count(const cl_mr *r, const char *name, cl_chunk_type type, size_t *n);

/* Copy a chunk into dst, which holds exactly n elements: CL_EFORMAT if the chunk is missing,
 * of another type, or of another length (messages name the file and the chunk). */
int cl_modelio_r_u8(const cl_mr *r, const char *name, uint8_t *dst, size_t n);
int cl_modelio_r_i32(const cl_mr *r, const char *name, int32_t *dst, size_t n);
int cl_modelio_r_i64(const cl_mr *r, const char *name, int64_t *dst, size_t n);
int cl_modelio_r_f32(const cl_mr *r, const char *name, float *dst, size_t n);
int cl_modelio_r_f64(const cl_mr *r, const char *name, double *dst, size_t n);
/* Strings: dst[i] are cl_alloc'ed copies, owned by the caller (free each, then the array if
 * it was allocated). On failure nothing is left allocated. */
int cl_modelio_r_strs(const cl_mr *r, const char *name, char **dst, size_t n);
/* One-value conveniences; cl_modelio_r_int also checks lo <= v <= hi. */
int cl_modelio_r_int(const cl_mr *r, const char *name, int64_t lo, int64_t hi, int64_t *v);
int cl_modelio_r_num(const cl_mr *r, const char *name, double *v);
int cl_modelio_r_str(const cl_mr *r, const char *name, char **v);

#endif
