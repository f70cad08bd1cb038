/* json.c - JSON reader (see json.h): recursive descent, depth-limited. */
#include "base/json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"

/* The document: the root value, then the pool that holds every string and number text.
 * Tokens are disjoint pieces of the input and each one's content plus its NUL fits in the
 * piece (quotes, a delimiter, or the end), so len + 1 bytes always suffice. */
typedef struct doc {
    cl_json root;
    char *pool;
} doc;

typedef struct parser {
    const char *t, *end, *start;
    char *pool;
    const char *origin;
} parser;

static int fail(const parser *p, const char *what)
{
    int line = 1, col = 1;
    for (const char *c = p->start; c < p->t && c < p->end; c++) {
        if (*c == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    return cl_error(CL_EFORMAT, "'%s': not valid JSON at line %d, column %d: %s", p->origin, line,
                    col, what);
}

static void skip_ws(parser *p)
{
    while (p->t < p->end && (*p->t == ' ' || *p->t == '\t' || *p->t == '\n' || *p->t == '\r'))
        p->t++;
}

static void free_value(cl_json *v)
{
    if (v->type != CL_JSON_ARRAY && v->type != CL_JSON_OBJECT)
        return;
    for (uint32_t i = 0; i < v->n; i++)
        free_value(v->kids + i);
    cl_free(v->kids);
    v->kids = NULL;
    v->n = 0;
}

static int hex4(const char *s, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = s[i];
        v <<= 4;
        if (c >= '0' && c <= '9')
            v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f')
            v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F')
            v |= (unsigned)(c - 'A' + 10);
        else
            return 0;
    }
    *out = v;
    return 1;
}

static char *put_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xC0 | (cp >> 6));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xE0 | (cp >> 12));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    } else {
        *o++ = (char)(0xF0 | (cp >> 18));
        *o++ = (char)(0x80 | ((cp >> 12) & 0x3F));
        *o++ = (char)(0x80 | ((cp >> 6) & 0x3F));
        *o++ = (char)(0x80 | (cp & 0x3F));
    }
    return o;
}

/* At the opening quote. A \uXXXX escape (6 input bytes) yields at most 3 bytes, a surrogate
 * pair (12) 4: the output never outgrows the input. */
static int parse_string(parser *p, const char **out, uint32_t *n)
{
    p->t++;
    char *o = p->pool, *first = o;
    for (;;) {
        if (p->t >= p->end)
            return fail(p, "unterminated string");
        unsigned char c = (unsigned char)*p->t;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, "control character in a string");
        if (c != '\\') {
            *o++ = (char)c;
            p->t++;
            continue;
        }
        if (p->end - p->t < 2)
            return fail(p, "unterminated escape");
        char e = p->t[1];
        p->t += 2;
        switch (e) {
        case '"': *o++ = '"'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case 'u': {
            unsigned cp, lo;
            if (p->end - p->t < 4 || !hex4(p->t, &cp))
                return fail(p, "\\u must be followed by 4 hex digits");
            p->t += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF) {
                if (p->end - p->t < 6 || p->t[0] != '\\' || p->t[1] != 'u' ||
                    !hex4(p->t + 2, &lo) || lo < 0xDC00 || lo > 0xDFFF)
                    return fail(p, "unpaired UTF-16 surrogate");
                p->t += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                return fail(p, "unpaired UTF-16 surrogate");
            }
            o = put_utf8(o, cp);
            break;
        }
        default: return fail(p, "invalid escape");
        }
    }
    p->t++; /* the closing quote */
    *o++ = '\0';
    *out = first;
    *n = (uint32_t)(o - first - 1);
    p->pool = o;
    return CL_OK;
}

static int parse_number(parser *p, cl_json *v)
{
    const char *s = p->t;
    if (p->t < p->end && *p->t == '-')
        p->t++;
    if (p->t >= p->end || !(*p->t >= '0' && *p->t <= '9'))
        return fail(p, "expected a value");
    if (*p->t == '0')
        p->t++;
    else
        while (p->t < p->end && *p->t >= '0' && *p->t <= '9')
            p->t++;
    if (p->t < p->end && *p->t == '.') {
        p->t++;
        if (p->t >= p->end || !(*p->t >= '0' && *p->t <= '9'))
            return fail(p, "digits expected after '.'");
        while (p->t < p->end && *p->t >= '0' && *p->t <= '9')
            p->t++;
    }
    if (p->t < p->end && (*p->t == 'e' || *p->t == 'E')) {
        p->t++;
        if (p->t < p->end && (*p->t == '+' || *p->t == '-'))
            p->t++;
        if (p->t >= p->end || !(*p->t >= '0' && *p->t <= '9'))
            return fail(p, "digits expected in the exponent");
        while (p->t < p->end && *p->t >= '0' && *p->t <= '9')
            p->t++;
    }
    size_t l = (size_t)(p->t - s);
    memcpy(p->pool, s, l);
    p->pool[l] = '\0';
    v->type = CL_JSON_NUMBER;
    v->s = p->pool;
    p->pool += l + 1;
    return CL_OK;
}

static int literal(parser *p, const char *word, cl_json_type type, cl_json *v)
{
    size_t l = strlen(word);
    if ((size_t)(p->end - p->t) < l || memcmp(p->t, word, l) != 0)
        return fail(p, "expected a value");
    p->t += l;
    v->type = type;
    return CL_OK;
}

static int parse_value(parser *p, cl_json *v, int depth);

/* Arrays and objects: entries gathered in a growing buffer, then kept at their exact size. */
static int parse_container(parser *p, cl_json *v, int depth, int is_obj)
{
    if (depth >= CL_JSON_MAX_DEPTH)
        return fail(p, "nested deeper than the reader allows");
    const char close = is_obj ? '}' : ']';
    v->type = is_obj ? CL_JSON_OBJECT : CL_JSON_ARRAY;
    p->t++;
    cl_json *kids = NULL;
    size_t n = 0, cap = 0;
    int rc = CL_OK;
    skip_ws(p);
    if (p->t < p->end && *p->t == close) {
        p->t++;
        return CL_OK;
    }
    for (;;) {
        if (n == UINT32_MAX) {
            rc = fail(p, "too many entries");
            break;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 8;
            cl_json *k2 = cl_realloc(kids, nc * sizeof *k2);
            if (!k2) {
                rc = CL_ENOMEM;
                break;
            }
            kids = k2;
            cap = nc;
        }
        cl_json *e = kids + n;
        memset(e, 0, sizeof *e);
        skip_ws(p);
        if (is_obj) {
            uint32_t kl;
            if (p->t >= p->end || *p->t != '"') {
                rc = fail(p, "expected a member name in quotes");
                break;
            }
            if ((rc = parse_string(p, &e->key, &kl)))
                break;
            skip_ws(p);
            if (p->t >= p->end || *p->t != ':') {
                rc = fail(p, "expected ':' after a member name");
                break;
            }
            p->t++;
        }
        if ((rc = parse_value(p, e, depth + 1)))
            break;
        n++;
        skip_ws(p);
        if (p->t < p->end && *p->t == ',') {
            p->t++;
            continue;
        }
        if (p->t < p->end && *p->t == close) {
            p->t++;
            break;
        }
        rc = fail(p, is_obj ? "expected ',' or '}'" : "expected ',' or ']'");
        break;
    }
    v->kids = kids;
    v->n = (uint32_t)n;
    if (rc) {
        free_value(v);
        return rc;
    }
    if (n < cap) { /* give back the slack: a model holds millions of numbers */
        cl_json *k2 = cl_realloc(kids, n * sizeof *k2);
        if (k2)
            v->kids = k2;
    }
    return CL_OK;
}

static int parse_value(parser *p, cl_json *v, int depth)
{
    skip_ws(p);
    if (p->t >= p->end)
        return fail(p, "unexpected end of the text");
    switch (*p->t) {
    case '{': return parse_container(p, v, depth, 1);
    case '[': return parse_container(p, v, depth, 0);
    case '"': v->type = CL_JSON_STRING; return parse_string(p, &v->s, &v->n);
    case 't': return literal(p, "true", CL_JSON_TRUE, v);
    case 'f': return literal(p, "false", CL_JSON_FALSE, v);
    case 'n': return literal(p, "null", CL_JSON_NULL, v);
    default: return parse_number(p, v);
    }
}

int cl_json_parse(cl_json **out, const char *text, size_t len, const char *origin)
{
    *out = NULL;
    doc *d = cl_calloc(1, sizeof *d);
    if (!d)
        return CL_ENOMEM;
    if (!(d->pool = cl_alloc(len + 2))) {
        cl_free(d);
        return CL_ENOMEM;
    }
    parser p = {text, text + len, text, d->pool, origin ? origin : "json"};
    int rc = parse_value(&p, &d->root, 0);
    if (!rc) {
        skip_ws(&p);
        if (p.t != p.end) {
            rc = fail(&p, "text after the value");
            free_value(&d->root);
        }
    }
    if (rc) {
        cl_free(d->pool);
        cl_free(d);
        return rc;
    }
    *out = &d->root; /* the first member: the doc is freed through it */
    return CL_OK;
}

void cl_json_free(cl_json *v)
{
    if (!v)
        return;
    doc *d = (doc *)v;
    free_value(&d->root);
    cl_free(d->pool);
    cl_free(d);
}

const cl_json *cl_json_get(const cl_json *obj, const char *key)
{
    if (!obj || obj->type != CL_JSON_OBJECT)
        return NULL;
    for (uint32_t i = 0; i < obj->n; i++)
        if (strcmp(obj->kids[i].key, key) == 0)
            return obj->kids + i;
    return NULL;
}

const cl_json *cl_json_path(const cl_json *v, ...)
{
    va_list ap;
    va_start(ap, v);
    const char *k;
    while (v && (k = va_arg(ap, const char *)) != NULL)
        v = cl_json_get(v, k);
    va_end(ap);
    return v;
}

/* The number text of v: a NUMBER, or a STRING holding one (optionally as "[x]"). buf holds
 * the unbracketed copy. */
static const char *num_text(const cl_json *v, char *buf, size_t cap)
{
    if (!v)
        return NULL;
    if (v->type == CL_JSON_NUMBER)
        return v->s;
    if (v->type != CL_JSON_STRING || v->n == 0 || v->n >= cap)
        return NULL;
    const char *s = v->s;
    size_t l = v->n;
    if (s[0] == '[' && s[l - 1] == ']') {
        s++;
        l -= 2;
    }
    memcpy(buf, s, l);
    buf[l] = '\0';
    return l ? buf : NULL;
}

int cl_json_num(const cl_json *v, double *out)
{
    char buf[64], *e;
    const char *s = num_text(v, buf, sizeof buf);
    if (!s)
        return 0;
    double x = strtod(s, &e);
    if (e == s || *e != '\0' || isinf(x))
        return 0;
    *out = x;
    return 1;
}

int cl_json_float(const cl_json *v, float *out)
{
    char buf[64], *e;
    const char *s = num_text(v, buf, sizeof buf);
    if (!s)
        return 0;
    float x = strtof(s, &e);
    if (e == s || *e != '\0' || isinf(x))
        return 0;
    *out = x;
    return 1;
}
