/* param.h - one table per model describes every parameter.
 *
 * A model's options are a plain struct (cl_<model>_params) with a _default() constructor; a
 * static array of cl_param_def describes each field: name, type, offset in the struct,
 * default, range, allowed choices and a one-line doc. That one table drives the C validator,
 * the Lua table parser (lcl_params_from_table) and help() (LightGBM's config.h idea).
 *
 *   static const cl_param_def defs[] = {
 *       {"trees", CL_PARAM_INT, offsetof(cl_gbdt_params, trees), 100, 1, 100000, NULL,
 *        "number of boosting rounds"},
 *       {"objective", CL_PARAM_ENUM, offsetof(cl_gbdt_params, objective), 0, 0, 0,
 *        "logistic|squared", "loss to minimise"},
 *       {NULL}
 *   };
 *
 * Field types: INT -> int, NUM -> double, BOOL -> int (0/1), ENUM -> int (index into the
 * '|'-separated choices), INTS -> cl_param_ints, SEED -> uint64_t.
 */
#ifndef CL_PARAM_H
#define CL_PARAM_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    CL_PARAM_INT,
    CL_PARAM_NUM,
    CL_PARAM_BOOL,
    CL_PARAM_ENUM,
    CL_PARAM_INTS,
    CL_PARAM_SEED
    /* values are only ever appended */
} cl_param_type;

#define CL_PARAM_MAXINTS 16

typedef struct cl_param_ints {
    int n;
    int v[CL_PARAM_MAXINTS];
} cl_param_ints;

typedef struct cl_param_def {
    const char *name;
    cl_param_type type;
    size_t offset;
    double def;          /* default (INT, NUM, BOOL, ENUM index, SEED); INTS: default element */
    double lo, hi;       /* inclusive range (INT, NUM, INTS elements; INTS count is 0..16) */
    const char *choices; /* ENUM: "relu|tanh|gelu"; otherwise NULL */
    const char *doc;
} cl_param_def;

/* Finds a definition by name; NULL if unknown. */
const cl_param_def *cl_param_find(const cl_param_def *defs, const char *name);

/* Writes every field's default into `params`. INTS defaults are set by the model's own
 * _default() (a table has no room for a list); this leaves them untouched. */
void cl_param_defaults(const cl_param_def *defs, void *params);

/* Setters check type and range; errors name the parameter and its allowed range, and
 * unknown names list the known ones (with the closest first when one is a typo away, see
 * base/suggest.h). `what` is the model name used in messages ("gbdt"). */
int cl_param_set_num(const cl_param_def *defs, void *params, const char *what, const char *name,
                     double v);
int cl_param_set_str(const cl_param_def *defs, void *params, const char *what, const char *name,
                     const char *v);
int cl_param_set_ints(const cl_param_def *defs, void *params, const char *what, const char *name,
                      const int *v, int n);

/* Re-checks every field of a filled struct (for params built in C). */
int cl_param_validate(const cl_param_def *defs, const void *params, const char *what);

/* Name of the ENUM choice `idx` written into buf (cap bytes); "" when out of range. */
const char *cl_param_choice(const cl_param_def *d, int idx, char *buf, size_t cap);

/* Formats one parameter's current value ("0.1", "relu", "{64, 64}") into buf. */
void cl_param_format(const cl_param_def *d, const void *params, char *buf, size_t cap);

#endif
