/* modelfile_edit.h - walks the chunks of a model file in a byte buffer and recomputes its
 * CRC, so tests and the structure-aware fuzzer (tests/fuzz/fuzz_modelsem.c) can change one
 * field inside a chunk and still hand the loader a file that passes every container check:
 * what is then refused is refused for its meaning. Layout: core/base/modelio.h. Header-only
 * (static functions), for test programs only. */
#ifndef CL_TESTS_MODELFILE_EDIT_H
#define CL_TESTS_MODELFILE_EDIT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "base/fileio.h"

typedef struct mfe_chunk {
    const char *name; /* into the buffer, not NUL terminated */
    size_t name_len;
    int type;         /* cl_chunk_type */
    uint64_t n;       /* element count */
    size_t count_at;  /* offset of the u64 count */
    size_t off;       /* payload offset */
    size_t bytes;     /* payload length */
} mfe_chunk;

static uint64_t mfe_get(const uint8_t *p, int bytes)
{
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint64_t)p[i] << (8 * i);
    return v;
}

static void mfe_put(uint8_t *p, uint64_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static size_t mfe_elem(int type)
{
    return type == 1 ? 1 : type == 2 || type == 4 ? 4 : type == 3 || type == 5 ? 8 : 0;
}

/* Parses the chunk table of a well-formed file: up to cap chunks into c; the count, or -1
 * when the buffer is not a well-formed container. */
static int mfe_parse(const uint8_t *b, size_t len, mfe_chunk *c, int cap)
{
    if (len < 24)
        return -1;
    size_t end = len - 4, at = 12;
    uint64_t klen = mfe_get(b + at, 4);
    at += 4;
    if (klen > end - at || end - at - klen < 4)
        return -1;
    at += (size_t)klen;
    uint64_t count = mfe_get(b + at, 4);
    at += 4;
    int n = 0;
    for (uint64_t i = 0; i < count; i++) {
        if (end - at < 11)
            return -1;
        mfe_chunk k;
        k.name_len = (size_t)mfe_get(b + at, 2);
        at += 2;
        if (k.name_len > end - at || end - at - k.name_len < 9)
            return -1;
        k.name = (const char *)b + at;
        at += k.name_len;
        k.type = b[at++];
        k.count_at = at;
        k.n = mfe_get(b + at, 8);
        at += 8;
        k.off = at;
        if (k.type == 6) {
            for (uint64_t s = 0; s < k.n; s++) {
                if (end - at < 4)
                    return -1;
                uint64_t sl = mfe_get(b + at, 4);
                at += 4;
                if (sl > end - at)
                    return -1;
                at += (size_t)sl;
            }
        } else {
            size_t es = mfe_elem(k.type);
            if (!es || k.n > (end - at) / es)
                return -1;
            at += (size_t)k.n * es;
        }
        k.bytes = at - k.off;
        if (n < cap)
            c[n] = k;
        n++;
    }
    return at == end && n <= cap ? n : -1;
}

/* The chunk called `name`, or NULL. */
static const mfe_chunk *mfe_find(const mfe_chunk *c, int n, const char *name)
{
    size_t l = strlen(name);
    for (int i = 0; i < n; i++)
        if (c[i].name_len == l && memcmp(c[i].name, name, l) == 0)
            return &c[i];
    return NULL;
}

/* Rewrites the CRC-32 trailer after an edit. */
static void mfe_fix_crc(uint8_t *b, size_t len)
{
    mfe_put(b + len - 4, cl_fileio_crc32(0, b, len - 4), 4);
}

#endif
