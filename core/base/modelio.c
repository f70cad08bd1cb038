/* modelio.c - the model container: a growable writer and a validating reader. */
#include "base/modelio.h"
#include "base/alloc.h"
#include "base/error.h"
#include "base/fileio.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const unsigned char MAGIC[8] = {0x89, 'C', 'L', 'M', '\r', '\n', 0x1a, '\n'};

#define NAME_MAX_LEN 255u
#define KIND_MAX_LEN 64u
#define HEADER_FIXED (8 + 4 + 4)

/* ---- little-endian byte helpers ----------------------------------------------------- */

static void put_le(unsigned char *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le(const unsigned char *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static size_t elem_size(int type)
{
    switch (type) {
    case CL_CHUNK_U8: return 1;
    case CL_CHUNK_I32:
    case CL_CHUNK_F32: return 4;
    case CL_CHUNK_I64:
    case CL_CHUNK_F64: return 8;
    default: return 0; /* STR is variable */
    }
}

static const char *type_name(int type)
{
    static const char *names[] = {"?", "u8", "i32", "i64", "f32", "f64", "str"};
    return type >= 1 && type <= 6 ? names[type] : "unknown";
}

/* ---- writer ------------------------------------------------------------------------- */

struct cl_mw {
    unsigned char *buf;
    size_t len, cap;
    uint32_t nchunks;
    size_t count_at; /* offset of the chunk count in buf */
    int err;         /* sticky status */
    char prefix[128];
};

static int reserve(cl_mw *w, size_t more)
{
    if (w->err)
        return w->err;
    if (more > SIZE_MAX - w->len)
        return w->err = cl_error(CL_ERANGE, "model file too large");
    if (w->len + more <= w->cap)
        return CL_OK;
    size_t cap = w->cap ? w->cap : 4096;
    while (cap < w->len + more)
        cap = cap > SIZE_MAX / 2 ? w->len + more : cap * 2;
    unsigned char *b = cl_alloc_realloc(w->buf, cap);
    if (!b)
        return w->err = CL_ENOMEM;
    w->buf = b;
    w->cap = cap;
    return CL_OK;
}

static void put(cl_mw *w, uint64_t v, int bytes)
{
    put_le(w->buf + w->len, v, bytes);
    w->len += (size_t)bytes;
}

cl_mw *cl_modelio_w_new(const char *kind)
{
    size_t klen = strlen(kind);
    if (klen == 0 || klen > KIND_MAX_LEN) {
        cl_error(CL_EINVAL, "model kind must be 1..%u bytes", KIND_MAX_LEN);
        return NULL;
    }
    cl_mw *w = cl_alloc_calloc(1, sizeof *w);
    if (!w)
        return NULL;
    if (reserve(w, HEADER_FIXED + klen + 4)) {
        cl_alloc_free(w);
        return NULL;
    }
    memcpy(w->buf, MAGIC, 8);
    w->len = 8;
    put(w, CL_MODEL_VERSION, 4);
    put(w, klen, 4);
    memcpy(w->buf + w->len, kind, klen);
    w->len += klen;
    w->count_at = w->len;
    put(w, 0, 4);
    return w;
}

void cl_modelio_w_free(cl_mw *w)
{
    if (!w)
        return;
    cl_alloc_free(w->buf);
    cl_alloc_free(w);
}

int cl_modelio_w_prefix(cl_mw *w, const char *prefix)
{
    if (!prefix)
        prefix = "";
    if (strlen(prefix) >= sizeof w->prefix)
        return w->err = cl_error(CL_EINVAL, "model chunk prefix too long");
    strcpy(w->prefix, prefix);
    return CL_OK;
}

static int chunk_head(cl_mw *w, const char *name, int type, uint64_t n, size_t payload)
{
    size_t plen = strlen(w->prefix), nlen = strlen(name);
    if (w->err)
        return w->err;
    if (plen + nlen == 0 || plen + nlen > NAME_MAX_LEN)
        return w->err = cl_error(CL_EINVAL, "model chunk name '%s%s' must be 1..%u bytes",
                                 w->prefix, name, NAME_MAX_LEN);
    if (payload > SIZE_MAX - 64 - plen - nlen)
        return w->err = cl_error(CL_ERANGE, "model chunk '%s' too large", name);
    int rc = reserve(w, 2 + plen + nlen + 1 + 8 + payload);
    if (rc)
        return rc;
    put(w, plen + nlen, 2);
    memcpy(w->buf + w->len, w->prefix, plen);
    memcpy(w->buf + w->len + plen, name, nlen);
    w->len += plen + nlen;
    put(w, (uint64_t)type, 1);
    put(w, n, 8);
    w->nchunks++;
    return CL_OK;
}

static int put_array(cl_mw *w, const char *name, int type, const void *v, size_t n)
{
    size_t es = elem_size(type), bytes;
    if (!cl_alloc_mul_size(n, es, &bytes))
        return w->err = CL_ERANGE;
    int rc = chunk_head(w, name, type, n, bytes);
    if (rc)
        return rc;
    const unsigned char *src = v;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (bytes)
        memcpy(w->buf + w->len, src, bytes);
    w->len += bytes;
#else
    for (size_t i = 0; i < n; i++) {
        uint64_t x = 0;
        memcpy(&x, src + i * es, es); /* host order; low bytes on a LE view */
        put(w, x, (int)es);
    }
#endif
    return CL_OK;
}

int cl_modelio_w_u8(cl_mw *w, const char *name, const uint8_t *v, size_t n)
{
    return put_array(w, name, CL_CHUNK_U8, v, n);
}
int cl_modelio_w_i32(cl_mw *w, const char *name, const int32_t *v, size_t n)
{
    return put_array(w, name, CL_CHUNK_I32, v, n);
}
int cl_modelio_w_i64(cl_mw *w, const char *name, const int64_t *v, size_t n)
{
    return put_array(w, name, CL_CHUNK_I64, v, n);
}
int cl_modelio_w_f32(cl_mw *w, const char *name, const float *v, size_t n)
{
    return put_array(w, name, CL_CHUNK_F32, v, n);
}
int cl_modelio_w_f64(cl_mw *w, const char *name, const double *v, size_t n)
{
    return put_array(w, name, CL_CHUNK_F64, v, n);
}

int cl_modelio_w_strs(cl_mw *w, const char *name, const char *const *v, size_t n)
{
    size_t payload = 0;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        if (l > UINT32_MAX || payload > SIZE_MAX - 4 - l)
            return w->err = cl_error(CL_ERANGE, "model chunk '%s': string too long", name);
        payload += 4 + l;
    }
    int rc = chunk_head(w, name, CL_CHUNK_STR, n, payload);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(v[i]);
        put(w, l, 4);
        memcpy(w->buf + w->len, v[i], l);
        w->len += l;
    }
    return CL_OK;
}

int cl_modelio_w_int(cl_mw *w, const char *name, int64_t v) { return cl_modelio_w_i64(w, name, &v, 1); }
int cl_modelio_w_num(cl_mw *w, const char *name, double v) { return cl_modelio_w_f64(w, name, &v, 1); }
int cl_modelio_w_str(cl_mw *w, const char *name, const char *v) { return cl_modelio_w_strs(w, name, &v, 1); }

int cl_modelio_w_finish(cl_mw *w, const void **buf, size_t *len)
{
    if (w->err)
        return w->err;
    put_le(w->buf + w->count_at, w->nchunks, 4);
    /* The CRC is appended on a copy of the length so finish can be called again. */
    int rc = reserve(w, 4);
    if (rc)
        return rc;
    uint32_t crc = cl_fileio_crc32(0, w->buf, w->len);
    put_le(w->buf + w->len, crc, 4);
    *buf = w->buf;
    *len = w->len + 4;
    return CL_OK;
}

int cl_modelio_w_save(cl_mw *w, const char *path)
{
    const void *buf;
    size_t len;
    int rc = cl_modelio_w_finish(w, &buf, &len);
    if (rc)
        return rc;
    return cl_fileio_write_atomic(path, buf, len);
}

/* ---- reader ------------------------------------------------------------------------- */

typedef struct chunk {
    const char *name; /* points into buf, not NUL terminated */
    size_t name_len;
    int type;
    uint64_t n;
    size_t off; /* payload offset in buf */
} chunk;

struct cl_mr {
    char *buf; /* owned copy */
    size_t len;
    uint32_t version;
    char kind[KIND_MAX_LEN + 1];
    char *origin;
    chunk *chunks;
    uint32_t nchunks;
    char prefix[128];
};

void cl_modelio_r_free(cl_mr *r)
{
    if (!r)
        return;
    cl_alloc_free(r->buf);
    cl_alloc_free(r->chunks);
    cl_alloc_free(r->origin);
    cl_alloc_free(r);
}

static int bad(const cl_mr *r, const char *what, size_t at)
{
    return cl_error(CL_EFORMAT, "'%s' is not a valid churnlab model file: %s (at byte %zu)",
                    r->origin, what, at);
}

/* Validates header, CRC and chunk table; buf is owned by r afterwards. */
static int parse(cl_mr *r)
{
    const unsigned char *b = (const unsigned char *)r->buf;
    size_t len = r->len, at = 0;
    if (len < HEADER_FIXED + 4 + 4 || memcmp(b, MAGIC, 8) != 0)
        return len >= 8 && memcmp(b, MAGIC, 8) == 0 ? bad(r, "file is truncated", len)
                                                       : bad(r, "wrong magic number", 0);
    r->version = (uint32_t)get_le(b + 8, 4);
    if (r->version > CL_MODEL_VERSION)
        return cl_error(CL_ENOTSUP,
                        "'%s' was written by a newer churnlab (model format %u; this build "
                        "reads up to %u): upgrade churnlab to load it",
                        r->origin, r->version, CL_MODEL_VERSION);
    if (r->version == 0)
        return bad(r, "format version 0", 8);
    uint32_t stored = (uint32_t)get_le(b + len - 4, 4);
#ifndef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION /* let the fuzzer reach the chunk parser */
    if (cl_fileio_crc32(0, b, len - 4) != stored)
        return bad(r, "checksum mismatch (the file is corrupted or truncated)", len - 4);
#else
    (void)stored;
#endif
    len -= 4; /* the chunks end before the CRC */
    at = 12;
    uint32_t klen = (uint32_t)get_le(b + at, 4);
    at += 4;
    if (klen == 0 || klen > KIND_MAX_LEN || klen > len - at)
        return bad(r, "bad model kind length", at - 4);
    memcpy(r->kind, b + at, klen);
    r->kind[klen] = '\0';
    if (memchr(r->kind, '\0', klen))
        return bad(r, "bad model kind", at);
    at += klen;
    if (len - at < 4)
        return bad(r, "file is truncated", at);
    uint32_t count = (uint32_t)get_le(b + at, 4);
    at += 4;
    /* Each chunk takes at least 11 bytes: no file can hold more chunks than that allows. */
    if (count > (len - at) / 11 + 1)
        return bad(r, "impossible chunk count", at - 4);
    r->chunks = cl_alloc_calloc(count ? count : 1, sizeof *r->chunks);
    if (!r->chunks)
        return CL_ENOMEM;
    for (uint32_t i = 0; i < count; i++) {
        chunk *c = &r->chunks[i];
        if (len - at < 2)
            return bad(r, "chunk header truncated", at);
        c->name_len = (size_t)get_le(b + at, 2);
        at += 2;
        if (c->name_len == 0 || c->name_len > NAME_MAX_LEN || len - at < c->name_len + 9)
            return bad(r, "bad chunk name", at - 2);
        c->name = r->buf + at;
        at += c->name_len;
        c->type = b[at++];
        c->n = get_le(b + at, 8);
        at += 8;
        c->off = at;
        if (c->type < CL_CHUNK_U8 || c->type > CL_CHUNK_STR)
            return bad(r, "unknown chunk type", at - 9);
        if (c->type == CL_CHUNK_STR) {
            if (c->n > (len - at) / 4)
                return bad(r, "string count exceeds the file", at - 8);
            for (uint64_t k = 0; k < c->n; k++) {
                if (len - at < 4)
                    return bad(r, "string truncated", at);
                uint64_t sl = get_le(b + at, 4);
                at += 4;
                if (sl > len - at)
                    return bad(r, "string length exceeds the file", at - 4);
                at += (size_t)sl;
            }
        } else {
            uint64_t es = elem_size(c->type);
            if (c->n > (len - at) / es)
                return bad(r, "array length exceeds the file", at - 8);
            at += (size_t)(c->n * es);
        }
        r->nchunks = i + 1;
    }
    if (at != len)
        return bad(r, "trailing bytes after the last chunk", at);
    return CL_OK;
}

int cl_modelio_r_from_buffer(cl_mr **out, const void *buf, size_t len, const char *origin)
{
    *out = NULL;
    cl_mr *r = cl_alloc_calloc(1, sizeof *r);
    if (!r)
        return CL_ENOMEM;
    r->origin = cl_alloc_strdup(origin ? origin : "<buffer>");
    r->buf = cl_alloc(len ? len : 1);
    if (!r->origin || !r->buf) {
        cl_modelio_r_free(r);
        return CL_ENOMEM;
    }
    if (len)
        memcpy(r->buf, buf, len);
    r->len = len;
    int rc = parse(r);
    if (rc) {
        cl_modelio_r_free(r);
        return rc;
    }
    *out = r;
    return CL_OK;
}

/* Reads exactly n bytes at the current position; 0 on a short read. */
static int read_exact(FILE *fp, void *dst, size_t n) { return fread(dst, 1, n, fp) == n; }

/* Walks the header and the chunk headers of an open model file of `size` bytes, seeking over
 * the payloads, with the checks parse() makes on them: a file whose lengths do not add up
 * (a valid header in front of gigabytes of anything else) is refused before it is read into
 * memory. parse() still checks everything, CRC included, on what is read afterwards. */
static int precheck(FILE *fp, uint64_t size, cl_mr *r)
{
    unsigned char h[HEADER_FIXED];
    if (size < HEADER_FIXED + 4 + 4 || !read_exact(fp, h, HEADER_FIXED) || memcmp(h, MAGIC, 8))
        return CL_OK; /* too short or not a model: parse() says which, cheaply */
    uint32_t version = (uint32_t)get_le(h + 8, 4);
    if (version > CL_MODEL_VERSION || version == 0)
        return CL_OK; /* parse() refuses it (newer format, version 0) */
    uint64_t len = size - 4, at = HEADER_FIXED; /* the chunks end before the CRC */
    uint32_t klen = (uint32_t)get_le(h + 12, 4);
    if (klen == 0 || klen > KIND_MAX_LEN || klen > len - at)
        return bad(r, "bad model kind length", at - 4);
    at += klen;
    unsigned char b[16];
    if (len - at < 4 || fseeko(fp, (off_t)at, SEEK_SET) || !read_exact(fp, b, 4))
        return bad(r, "file is truncated", at);
    uint32_t count = (uint32_t)get_le(b, 4);
    at += 4;
    if (count > (len - at) / 11 + 1)
        return bad(r, "impossible chunk count", at - 4);
    for (uint32_t i = 0; i < count; i++) {
        if (len - at < 2 || !read_exact(fp, b, 2))
            return bad(r, "chunk header truncated", at);
        uint64_t nl = get_le(b, 2);
        at += 2;
        if (nl == 0 || nl > NAME_MAX_LEN || len - at < nl + 9 ||
            fseeko(fp, (off_t)(at + nl), SEEK_SET) || !read_exact(fp, b, 9))
            return bad(r, "bad chunk name", at - 2);
        at += nl;
        int type = b[0];
        uint64_t n = get_le(b + 1, 8);
        at += 9;
        if (type < CL_CHUNK_U8 || type > CL_CHUNK_STR)
            return bad(r, "unknown chunk type", at - 9);
        if (type == CL_CHUNK_STR) {
            if (n > (len - at) / 4)
                return bad(r, "string count exceeds the file", at - 8);
            for (uint64_t k = 0; k < n; k++) {
                if (len - at < 4 || !read_exact(fp, b, 4))
                    return bad(r, "string truncated", at);
                uint64_t sl = get_le(b, 4);
                at += 4;
                if (sl > len - at)
                    return bad(r, "string length exceeds the file", at - 4);
                at += sl;
                if (sl && fseeko(fp, (off_t)at, SEEK_SET))
                    return bad(r, "string truncated", at);
            }
        } else {
            uint64_t es = elem_size(type);
            if (n > (len - at) / es)
                return bad(r, "array length exceeds the file", at - 8);
            at += n * es;
            if (fseeko(fp, (off_t)at, SEEK_SET))
                return bad(r, "file is truncated", at);
        }
    }
    if (at != len)
        return bad(r, "trailing bytes after the last chunk", at);
    return CL_OK;
}

int cl_modelio_r_open(cl_mr **out, const char *path)
{
    *out = NULL;
    cl_mr *r = cl_alloc_calloc(1, sizeof *r);
    if (!r || !(r->origin = cl_alloc_strdup(path))) {
        cl_alloc_free(r);
        return CL_ENOMEM;
    }
    FILE *fp;
    uint64_t size;
    int rc = cl_fileio_open_read(path, &fp, &size);
    if (rc == CL_OK && size > CL_MODEL_MAX_BYTES)
        rc = cl_error(CL_ERANGE, "'%s' is %llu bytes, more than the limit of %zu", path,
                      (unsigned long long)size, CL_MODEL_MAX_BYTES);
    if (rc == CL_OK)
        rc = precheck(fp, size, r);
    if (rc == CL_OK) {
        size_t n = (size_t)size;
        r->buf = cl_alloc(n ? n : 1);
        if (!r->buf)
            rc = CL_ENOMEM;
        else if (fseeko(fp, 0, SEEK_SET) || fread(r->buf, 1, n, fp) != n || ferror(fp))
            rc = cl_error(CL_EIO, "cannot read '%s'", path);
        r->len = n;
    }
    if (fp)
        fclose(fp);
    if (rc == CL_OK)
        rc = parse(r);
    if (rc) {
        cl_modelio_r_free(r);
        return rc;
    }
    *out = r;
    return CL_OK;
}

int cl_modelio_r_peek_kind(const char *path, char *kind, size_t cap)
{
    unsigned char head[HEADER_FIXED + KIND_MAX_LEN];
    FILE *fp;
    int rc = cl_fileio_open_read(path, &fp, NULL); /* no blocking on a FIFO */
    if (rc)
        return rc;
    size_t got = fread(head, 1, sizeof head, fp);
    fclose(fp);
    if (got < HEADER_FIXED || memcmp(head, MAGIC, 8) != 0)
        return cl_error(CL_EFORMAT, "'%s' is not a churnlab model file (wrong magic number)",
                        path);
    uint32_t klen = (uint32_t)get_le(head + 12, 4);
    if (klen == 0 || klen > KIND_MAX_LEN || HEADER_FIXED + klen > got || klen >= cap)
        return cl_error(CL_EFORMAT, "'%s' is not a valid churnlab model file: bad kind", path);
    memcpy(kind, head + HEADER_FIXED, klen);
    kind[klen] = '\0';
    return CL_OK;
}

const char *cl_modelio_r_kind(const cl_mr *r) { return r->kind; }
uint32_t cl_modelio_r_version(const cl_mr *r) { return r->version; }

int cl_modelio_r_expect_kind(const cl_mr *r, const char *want)
{
    if (strcmp(r->kind, want) != 0)
        return cl_error(CL_EFORMAT, "'%s' holds a %s model, not a %s model", r->origin, r->kind,
                        want);
    return CL_OK;
}

int cl_modelio_r_prefix(cl_mr *r, const char *prefix)
{
    if (!prefix)
        prefix = "";
    if (strlen(prefix) >= sizeof r->prefix)
        return cl_error(CL_EINVAL, "model chunk prefix too long");
    strcpy(r->prefix, prefix);
    return CL_OK;
}

static const chunk *find(const cl_mr *r, const char *name)
{
    size_t pl = strlen(r->prefix), nl = strlen(name);
    for (uint32_t i = 0; i < r->nchunks; i++) {
        const chunk *c = &r->chunks[i];
        if (c->name_len == pl + nl && memcmp(c->name, r->prefix, pl) == 0 &&
            memcmp(c->name + pl, name, nl) == 0)
            return c;
    }
    return NULL;
}

int cl_modelio_r_has(const cl_mr *r, const char *name) { return find(r, name) != NULL; }

static int lookup(const cl_mr *r, const char *name, int type, const chunk **out)
{
    const chunk *c = find(r, name);
    if (!c)
        return cl_error(CL_EFORMAT, "'%s': %s model is missing field '%s%s'", r->origin, r->kind,
                        r->prefix, name);
    if (c->type != type)
        return cl_error(CL_EFORMAT, "'%s': field '%s%s' is %s, expected %s", r->origin,
                        r->prefix, name, type_name(c->type), type_name(type));
    *out = c;
    return CL_OK;
}

int cl_modelio_r_count(const cl_mr *r, const char *name, cl_chunk_type type, size_t *n)
{
    const chunk *c = NULL;
    int rc = lookup(r, name, (int)type, &c);
    if (rc)
        return rc;
    *n = (size_t)c->n;
    return CL_OK;
}

static int get_array(const cl_mr *r, const char *name, int type, void *dst, size_t n)
{
    const chunk *c = NULL;
    int rc = lookup(r, name, type, &c);
    if (rc)
        return rc;
    if (c->n != n)
        return cl_error(CL_EFORMAT, "'%s': field '%s%s' has %llu values, expected %zu",
                        r->origin, r->prefix, name, (unsigned long long)c->n, n);
    size_t es = elem_size(type);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    if (n)
        memcpy(dst, r->buf + c->off, n * es);
#else
    const unsigned char *b = (const unsigned char *)r->buf + c->off;
    for (size_t i = 0; i < n; i++) {
        uint64_t x = get_le(b + i * es, (int)es);
        memcpy((char *)dst + i * es, &x, es);
    }
#endif
    return CL_OK;
}

int cl_modelio_r_u8(const cl_mr *r, const char *name, uint8_t *dst, size_t n)
{
    return get_array(r, name, CL_CHUNK_U8, dst, n);
}
int cl_modelio_r_i32(const cl_mr *r, const char *name, int32_t *dst, size_t n)
{
    return get_array(r, name, CL_CHUNK_I32, dst, n);
}
int cl_modelio_r_i64(const cl_mr *r, const char *name, int64_t *dst, size_t n)
{
    return get_array(r, name, CL_CHUNK_I64, dst, n);
}
int cl_modelio_r_f32(const cl_mr *r, const char *name, float *dst, size_t n)
{
    return get_array(r, name, CL_CHUNK_F32, dst, n);
}
int cl_modelio_r_f64(const cl_mr *r, const char *name, double *dst, size_t n)
{
    return get_array(r, name, CL_CHUNK_F64, dst, n);
}

int cl_modelio_r_strs(const cl_mr *r, const char *name, char **dst, size_t n)
{
    const chunk *c = NULL;
    int rc = lookup(r, name, CL_CHUNK_STR, &c);
    if (rc)
        return rc;
    if (c->n != n)
        return cl_error(CL_EFORMAT, "'%s': field '%s%s' has %llu strings, expected %zu",
                        r->origin, r->prefix, name, (unsigned long long)c->n, n);
    const unsigned char *b = (const unsigned char *)r->buf;
    size_t at = c->off;
    for (size_t i = 0; i < n; i++) {
        size_t l = (size_t)get_le(b + at, 4); /* bounds were checked by parse() */
        at += 4;
        dst[i] = cl_alloc(l + 1);
        if (!dst[i]) {
            /* Leaves every entry NULL: callers free dst[0..n) whatever the outcome. */
            while (i--) {
                cl_alloc_free(dst[i]);
                dst[i] = NULL;
            }
            return CL_ENOMEM;
        }
        memcpy(dst[i], b + at, l);
        dst[i][l] = '\0';
        at += l;
    }
    return CL_OK;
}

int cl_modelio_r_int(const cl_mr *r, const char *name, int64_t lo, int64_t hi, int64_t *v)
{
    int rc = cl_modelio_r_i64(r, name, v, 1);
    if (rc)
        return rc;
    if (*v < lo || *v > hi)
        return cl_error(CL_EFORMAT, "'%s': field '%s%s' = %lld is outside [%lld, %lld]",
                        r->origin, r->prefix, name, (long long)*v, (long long)lo, (long long)hi);
    return CL_OK;
}

int cl_modelio_r_num(const cl_mr *r, const char *name, double *v) { return cl_modelio_r_f64(r, name, v, 1); }

int cl_modelio_r_str(const cl_mr *r, const char *name, char **v) { return cl_modelio_r_strs(r, name, v, 1); }
