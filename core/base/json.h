/* json.h - a small JSON reader (RFC 8259) into a read-only tree, for model files written by
 * other tools (XGBoost's JSON models).
 *
 *   cl_json *doc;
 *   if (cl_json_parse(&doc, text, len, "model.json") == CL_OK) {
 *       const cl_json *v = cl_json_path(doc, "learner", "learner_model_param", NULL);
 *       ...
 *       cl_json_free(doc);
 *   }
 *
 * The whole document is one allocation of values plus one copy of the text; strings are
 * unescaped in place (\uXXXX to UTF-8, surrogate pairs joined). Numbers keep their text, so
 * a float32 field is read with strtof (correctly rounded) and not through a double.
 * Nesting deeper than CL_JSON_MAX_DEPTH, trailing garbage, control characters in strings
 * and invalid escapes are CL_EFORMAT naming the line and column.
 */
#ifndef CL_JSON_H
#define CL_JSON_H

#include <stddef.h>
#include <stdint.h>

#define CL_JSON_MAX_DEPTH 128

typedef enum {
    CL_JSON_NULL,
    CL_JSON_FALSE,
    CL_JSON_TRUE,
    CL_JSON_NUMBER,
    CL_JSON_STRING,
    CL_JSON_ARRAY,
    CL_JSON_OBJECT
} cl_json_type;

typedef struct cl_json cl_json;
struct cl_json {
    cl_json_type type;
    uint32_t n;        /* array / object: entries; string: bytes */
    const char *key;   /* inside an object: the member's name; else NULL */
    const char *s;     /* string: its bytes (NUL-terminated); number: its text (NUL-terminated) */
    cl_json *kids;     /* array / object: n entries */
};

/* Parses text[0..len). `origin` names the source in messages. Owned: cl_json_free. */
int cl_json_parse(cl_json **out, const char *text, size_t len, const char *origin);
void cl_json_free(cl_json *doc);

/* Member `key` of an object (the first one), or NULL (not an object, or absent). */
const cl_json *cl_json_get(const cl_json *obj, const char *key);
/* Follows object members: cl_json_path(v, "a", "b", NULL) is v.a.b, or NULL. */
const cl_json *cl_json_path(const cl_json *v, ...);

/* A number as double / float (correctly rounded from its text). Strings holding a number
 * ("0.5", or "[5E-1]" as XGBoost 2 writes a one-element vector) are accepted too, since
 * XGBoost writes many numeric parameters as strings. Return 0 when v is not such a value. */
int cl_json_num(const cl_json *v, double *out);
int cl_json_float(const cl_json *v, float *out);

#endif
