/* param.c - table-driven parameter validation. */
#include "base/param.h"
#include "base/error.h"
#include "base/suggest.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const cl_param_def *cl_param_find(const cl_param_def *defs, const char *name)
{
    for (const cl_param_def *d = defs; d->name; d++)
        if (strcmp(d->name, name) == 0)
            return d;
    return NULL;
}

static void *field(void *params, const cl_param_def *d) { return (char *)params + d->offset; }

static const void *cfield(const void *params, const cl_param_def *d)
{
    return (const char *)params + d->offset;
}

void cl_param_defaults(const cl_param_def *defs, void *params)
{
    for (const cl_param_def *d = defs; d->name; d++) {
        void *f = field(params, d);
        switch (d->type) {
        case CL_PARAM_INT:
        case CL_PARAM_BOOL:
        case CL_PARAM_ENUM: *(int *)f = (int)d->def; break;
        case CL_PARAM_NUM: *(double *)f = d->def; break;
        case CL_PARAM_SEED: *(uint64_t *)f = (uint64_t)d->def; break;
        case CL_PARAM_INTS: break;
        }
    }
}

static int unknown(const cl_param_def *defs, const char *what, const char *name)
{
    char list[512];
    size_t used = 0;
    list[0] = '\0';
    for (const cl_param_def *d = defs; d->name && used + 1 < sizeof list; d++) {
        int n = snprintf(list + used, sizeof list - used, "%s%s", used ? ", " : "", d->name);
        if (n < 0)
            break;
        used += (size_t)n;
    }
    const char *best = NULL, *alias = cl_suggest_alias(name);
    int bestd = CL_SUGGEST_NONE;
    for (const cl_param_def *d = defs; d->name; d++) {
        if (alias && !strcmp(alias, d->name))
            return cl_error(CL_EINVAL, "%s: unknown parameter '%s' (churnlab calls it '%s'; "
                            "known: %s)", what, name, alias, list);
        cl_suggest_consider(name, d->name, &best, &bestd);
    }
    if (best)
        return cl_error(CL_EINVAL, "%s: unknown parameter '%s' (did you mean '%s'? known: %s)",
                        what, name, best, list);
    return cl_error(CL_EINVAL, "%s: unknown parameter '%s' (known: %s)", what, name, list);
}

static int choice_index(const char *choices, const char *v)
{
    size_t len = strlen(v);
    int idx = 0;
    for (const char *p = choices; *p; idx++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (n == len && strncmp(p, v, n) == 0)
            return idx;
        if (!bar)
            break;
        p = bar + 1;
    }
    return -1;
}

const char *cl_param_choice(const cl_param_def *d, int idx, char *buf, size_t cap)
{
    const char *p = d->choices ? d->choices : "";
    buf[0] = '\0';
    for (int i = 0; *p; i++) {
        const char *bar = strchr(p, '|');
        size_t n = bar ? (size_t)(bar - p) : strlen(p);
        if (i == idx) {
            snprintf(buf, cap, "%.*s", (int)n, p);
            break;
        }
        if (!bar)
            break;
        p = bar + 1;
    }
    return buf;
}

static int check_num(const cl_param_def *d, const char *what, double v)
{
    if (isnan(v) || v < d->lo || v > d->hi)
        return cl_error(CL_EINVAL, "%s: parameter '%s' must be in [%g, %g], got %g", what,
                        d->name, d->lo, d->hi, v);
    if ((d->type == CL_PARAM_INT || d->type == CL_PARAM_INTS) && v != floor(v))
        return cl_error(CL_EINVAL, "%s: parameter '%s' must be an integer, got %g", what,
                        d->name, v);
    return CL_OK;
}

int cl_param_set_num(const cl_param_def *defs, void *params, const char *what, const char *name,
                     double v)
{
    const cl_param_def *d = cl_param_find(defs, name);
    if (!d)
        return unknown(defs, what, name);
    void *f = field(params, d);
    switch (d->type) {
    case CL_PARAM_INT: {
        int rc = check_num(d, what, v);
        if (rc)
            return rc;
        *(int *)f = (int)v;
        return CL_OK;
    }
    case CL_PARAM_NUM: {
        int rc = check_num(d, what, v);
        if (rc)
            return rc;
        *(double *)f = v;
        return CL_OK;
    }
    case CL_PARAM_BOOL:
        if (v != 0 && v != 1)
            return cl_error(CL_EINVAL, "%s: parameter '%s' must be a boolean, got %g", what,
                            name, v);
        *(int *)f = (int)v;
        return CL_OK;
    case CL_PARAM_SEED:
        if (isnan(v) || v < 0 || v > 9007199254740992.0 || v != floor(v))
            return cl_error(CL_EINVAL,
                            "%s: parameter '%s' must be an integer in [0, 2^53], got %g", what,
                            name, v);
        *(uint64_t *)f = (uint64_t)v;
        return CL_OK;
    case CL_PARAM_ENUM:
        return cl_error(CL_EINVAL, "%s: parameter '%s' must be one of %s, got a number", what,
                        name, d->choices);
    case CL_PARAM_INTS:
        return cl_error(CL_EINVAL, "%s: parameter '%s' must be a list of integers", what, name);
    }
    return CL_OK;
}

int cl_param_set_str(const cl_param_def *defs, void *params, const char *what, const char *name,
                     const char *v)
{
    const cl_param_def *d = cl_param_find(defs, name);
    if (!d)
        return unknown(defs, what, name);
    if (d->type != CL_PARAM_ENUM)
        return cl_error(CL_EINVAL, "%s: parameter '%s' expects a %s, got string '%s'", what,
                        name, d->type == CL_PARAM_INTS ? "list of integers" : "number", v);
    int idx = choice_index(d->choices, v);
    if (idx < 0)
        return cl_error(CL_EINVAL, "%s: parameter '%s' must be one of %s, got '%s'", what, name,
                        d->choices, v);
    *(int *)field(params, d) = idx;
    return CL_OK;
}

int cl_param_set_ints(const cl_param_def *defs, void *params, const char *what, const char *name,
                      const int *v, int n)
{
    const cl_param_def *d = cl_param_find(defs, name);
    if (!d)
        return unknown(defs, what, name);
    if (d->type != CL_PARAM_INTS)
        return cl_error(CL_EINVAL, "%s: parameter '%s' is not a list", what, name);
    if (n < 0 || n > CL_PARAM_MAXINTS)
        return cl_error(CL_EINVAL, "%s: parameter '%s' takes at most %d values, got %d", what,
                        name, CL_PARAM_MAXINTS, n);
    for (int i = 0; i < n; i++) {
        int rc = check_num(d, what, v[i]);
        if (rc)
            return rc;
    }
    cl_param_ints *f = field(params, d);
    f->n = n;
    memcpy(f->v, v, (size_t)n * sizeof *v);
    return CL_OK;
}

int cl_param_validate(const cl_param_def *defs, const void *params, const char *what)
{
    for (const cl_param_def *d = defs; d->name; d++) {
        const void *f = cfield(params, d);
        int rc = CL_OK;
        switch (d->type) {
        case CL_PARAM_INT: rc = check_num(d, what, *(const int *)f); break;
        case CL_PARAM_NUM: rc = check_num(d, what, *(const double *)f); break;
        case CL_PARAM_BOOL:
            if (*(const int *)f != 0 && *(const int *)f != 1)
                rc = cl_error(CL_EINVAL, "%s: parameter '%s' must be a boolean", what, d->name);
            break;
        case CL_PARAM_ENUM: {
            char buf[64];
            if (!*cl_param_choice(d, *(const int *)f, buf, sizeof buf))
                rc = cl_error(CL_EINVAL, "%s: parameter '%s' has an invalid choice %d", what,
                              d->name, *(const int *)f);
            break;
        }
        case CL_PARAM_INTS: {
            const cl_param_ints *li = f;
            if (li->n < 0 || li->n > CL_PARAM_MAXINTS)
                rc = cl_error(CL_EINVAL, "%s: parameter '%s' has %d values", what, d->name,
                              li->n);
            for (int i = 0; rc == CL_OK && i < li->n; i++)
                rc = check_num(d, what, li->v[i]);
            break;
        }
        case CL_PARAM_SEED: break;
        }
        if (rc)
            return rc;
    }
    return CL_OK;
}

void cl_param_format(const cl_param_def *d, const void *params, char *buf, size_t cap)
{
    const void *f = cfield(params, d);
    switch (d->type) {
    case CL_PARAM_INT: snprintf(buf, cap, "%d", *(const int *)f); break;
    case CL_PARAM_NUM: snprintf(buf, cap, "%g", *(const double *)f); break;
    case CL_PARAM_BOOL: snprintf(buf, cap, "%s", *(const int *)f ? "true" : "false"); break;
    case CL_PARAM_ENUM: cl_param_choice(d, *(const int *)f, buf, cap); break;
    case CL_PARAM_SEED: snprintf(buf, cap, "%llu", (unsigned long long)*(const uint64_t *)f); break;
    case CL_PARAM_INTS: {
        const cl_param_ints *li = f;
        size_t used = 0;
        int n = snprintf(buf, cap, "{");
        used = n > 0 ? (size_t)n : 0;
        for (int i = 0; i < li->n && used < cap; i++) {
            n = snprintf(buf + used, cap - used, "%s%d", i ? ", " : "", li->v[i]);
            used += n > 0 ? (size_t)n : 0;
        }
        if (used < cap)
            snprintf(buf + used, cap - used, "}");
        break;
    }
    }
}
