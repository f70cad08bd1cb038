/* refdata.h - reads the reference files the scripts under scripts/ref write for the cmocka
 * tests: lines `<key> <count> <values...>` (%.17g; strtod also reads inf and nan), lines
 * starting with '#' are comments. Header-only (static inline), so a test includes it as
 * "core/lib/refdata.h" and needs no Makefile rule. */
#ifndef CL_TESTS_REFDATA_H
#define CL_TESTS_REFDATA_H

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct ref {
    char key[64];
    int n;
    double *v;
} ref;

typedef struct ref_set {
    ref *r;
    int n, cap;
} ref_set;

static inline void ref_free(ref_set *s)
{
    for (int i = 0; i < s->n; i++)
        free(s->r[i].v);
    free(s->r);
    memset(s, 0, sizeof *s);
}

/* One `<key> <count> <values...>` record into s; 0 at the end of the file, -1 on a bad one. */
static inline int ref_read_one(ref_set *s, FILE *f)
{
    char key[64];
    int n, c;
    while ((c = fgetc(f)) == '#' || (c != EOF && isspace(c)))
        if (c == '#')
            while ((c = fgetc(f)) != EOF && c != '\n') {
            }
    if (c == EOF)
        return 0;
    ungetc(c, f);
    if (fscanf(f, "%63s %d", key, &n) != 2 || n < 0)
        return -1;
    if (s->n == s->cap) {
        int cap = s->cap ? 2 * s->cap : 64;
        ref *r = realloc(s->r, sizeof *r * (size_t)cap);
        if (!r)
            return -1;
        s->r = r;
        s->cap = cap;
    }
    ref *r = &s->r[s->n++];
    snprintf(r->key, sizeof r->key, "%s", key);
    r->n = n;
    r->v = malloc(sizeof(double) * (size_t)(n ? n : 1));
    if (!r->v)
        return -1;
    for (int i = 0; i < n; i++) {
        char tok[64];
        if (fscanf(f, "%63s", tok) != 1)
            return -1;
        r->v[i] = strtod(tok, NULL);
    }
    return 1;
}

/* Every record of the file at path; -1 (s freed) when it cannot be read or is empty. */
static inline int ref_load(ref_set *s, const char *path)
{
    memset(s, 0, sizeof *s);
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "%s: cannot open\n", path);
        return -1;
    }
    int rc;
    while ((rc = ref_read_one(s, f)) == 1) {
    }
    fclose(f);
    if (rc < 0 || s->n == 0) {
        fprintf(stderr, "%s: bad record after %d\n", path, s->n);
        ref_free(s);
        return -1;
    }
    return 0;
}

/* The record named key, or NULL. */
static inline const ref *ref_find(const ref_set *s, const char *key)
{
    for (int i = 0; i < s->n; i++)
        if (strcmp(s->r[i].key, key) == 0)
            return &s->r[i];
    return NULL;
}

#endif
