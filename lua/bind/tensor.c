/* tensor.c - module churnlab.tensor: float32 1-D/2-D tensors for Lua.
 *
 *   local T = require "churnlab.tensor"
 *   local a = T{{1, 2}, {3, 4}}          -- the module table is callable (T.new)
 *   local b = T.randn(256, 128, {seed = 1})
 *   print(a:mm(a:t()):sum(), b:rows(1, 10):mean(2))
 *
 * Indices are 1-based like Lua's; ranges (rows, cols) are inclusive and accept negative
 * indices counted from the end, like string.sub. Every tensor is a box (lcl_box) holding a
 * cl_tensor view; __gc and __close free it and are idempotent.
 */
#include "support/lcl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* ---- boxes ---------------------------------------------------------------------------- */

/* Pushes the result of a core call: the tensor, or raises the error (nothing to free). */
static int push_result(lua_State *L, int rc, cl_tensor *t)
{
    if (rc != CL_OK)
        return lcl_raise(L, rc);
    return lcl_pushtensor(L, t);
}

static int t_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, LCL_TENSOR);
    if (b->obj) {
        cl_tensor_free(b->obj);
        b->obj = NULL;
    }
    return 0;
}

/* "2x3" or "7" for messages. */
static const char *shape_str(const cl_tensor *t, char *buf, size_t cap)
{
    return cl_tensor_shape_str(t, buf, cap);
}

/* ---- argument helpers ----------------------------------------------------------------- */

/* A size argument: a non-negative integer. */
static int64_t check_size(lua_State *L, int idx, const char *fname)
{
    lua_Integer v = luaL_checkinteger(L, idx);
    if (v < 0)
        luaL_error(L, "%s: negative size %I", fname, v);
    if (v > CL_TENSOR_MAX_ELEMS)
        luaL_error(L, "%s: size %I is too large (at most %I elements)", fname, v,
                   (lua_Integer)CL_TENSOR_MAX_ELEMS);
    return (int64_t)v;
}

/* Shape given as (n) or (rows, cols) starting at idx; returns the number of arguments used. */
static int shape_args(lua_State *L, int idx, const char *fname, int *ndim, int64_t *r, int64_t *c)
{
    *r = check_size(L, idx, fname);
    if (lua_type(L, idx + 1) == LUA_TNUMBER) {
        *c = check_size(L, idx + 1, fname);
        *ndim = 2;
        return 2;
    }
    *c = 1;
    *ndim = 1;
    return 1;
}

static float checkfloat(lua_State *L, int idx) { return (float)luaL_checknumber(L, idx); }

/* Seed from {seed = n}; without one, a per-state counter seeded at load, so successive calls
 * differ but a whole script run is reproducible. */
static uint64_t opt_seed(lua_State *L, int idx, const char *fname)
{
    static const char *const known[] = {"seed", NULL};
    if (lcl_check_options(L, idx, fname, known)) {
        if (lua_getfield(L, idx, "seed") != LUA_TNIL) {
            int isint;
            lua_Integer s = lua_tointegerx(L, -1, &isint);
            if (!isint)
                luaL_error(L, "option 'seed' must be an integer, got %s",
                           lua_type(L, -1) == LUA_TNUMBER ? "a fraction" : luaL_typename(L, -1));
            lua_pop(L, 1);
            return (uint64_t)s;
        }
        lua_pop(L, 1);
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "churnlab.tensor.seed");
    uint64_t s = (uint64_t)lua_tointeger(L, -1);
    lua_pop(L, 1);
    lua_pushinteger(L, (lua_Integer)(s + 1));
    lua_setfield(L, LUA_REGISTRYINDEX, "churnlab.tensor.seed");
    return s * 0x9e3779b97f4a7c15ULL + 0x5851f42d4c957f2dULL;
}

/* ---- creation ------------------------------------------------------------------------- */

/* Reads number t[i] (table at idx) as a float, with a message naming the position. */
static float table_number(lua_State *L, lua_Integer i, lua_Integer j)
{
    int isnum;
    lua_Number v = lua_tonumberx(L, -1, &isnum);
    if (!isnum) {
        if (j > 0)
            luaL_error(L, "tensor: element [%I][%I] is a %s, expected a number", i, j,
                       luaL_typename(L, -1));
        luaL_error(L, "tensor: element [%I] is a %s, expected a number", i, luaL_typename(L, -1));
    }
    return (float)v;
}

/* new(table): {1, 2, 3} gives a 1-D tensor, {{1, 2}, {3, 4}} a 2 x 2 tensor. */
static int l_new(lua_State *L)
{
    if (lcl_testtensor(L, 1)) { /* tensor(t) copies, like clone */
        cl_tensor *out;
        int rc = cl_tensor_clone(&out, lcl_checktensor(L, 1));
        return push_result(L, rc, out);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_Integer rows = luaL_len(L, 1), cols = 1;
    int ndim = 1;
    if (rows > 0 && lua_geti(L, 1, 1) == LUA_TTABLE) {
        ndim = 2;
        cols = luaL_len(L, -1);
    }
    lua_pop(L, rows > 0 ? 1 : 0);
    if (rows > CL_TENSOR_MAX_ELEMS || (cols > 0 && rows > CL_TENSOR_MAX_ELEMS / cols))
        return luaL_error(L, "tensor: table is too large");
    lcl_box *b = lcl_newbox(L, LCL_TENSOR); /* safe empty box first: no leak on errors */
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, ndim, rows, cols));
    b->obj = t;
    float *d = cl_tensor_data(t);
    for (lua_Integer i = 1; i <= rows; i++) {
        int ty = lua_geti(L, 1, i);
        if (ndim == 1) {
            d[i - 1] = table_number(L, i, 0);
        } else {
            if (ty != LUA_TTABLE)
                return luaL_error(L, "tensor: row %I is a %s, expected a table of %I numbers", i,
                                  luaL_typename(L, -1), cols);
            lua_Integer len = luaL_len(L, -1);
            if (len != cols)
                return luaL_error(L, "tensor: row %I has %I values, row 1 has %I", i, len, cols);
            for (lua_Integer j = 1; j <= cols; j++) {
                lua_geti(L, -1, j);
                d[(i - 1) * cols + (j - 1)] = table_number(L, i, j);
                lua_pop(L, 1);
            }
        }
        lua_pop(L, 1);
    }
    lcl_gc_check(L);
    return 1;
}

static int l_call(lua_State *L)
{
    lua_remove(L, 1); /* the module table */
    return l_new(L);
}

static int l_zeros(lua_State *L)
{
    int ndim;
    int64_t r, c;
    shape_args(L, 1, "zeros", &ndim, &r, &c);
    cl_tensor *t;
    int rc = cl_tensor_zeros(&t, ndim, r, c);
    return push_result(L, rc, t);
}

static int l_ones(lua_State *L)
{
    int ndim;
    int64_t r, c;
    shape_args(L, 1, "ones", &ndim, &r, &c);
    cl_tensor *t;
    int rc = cl_tensor_full(&t, ndim, r, c, 1.0f);
    return push_result(L, rc, t);
}

/* full(n, v) or full(rows, cols, v). */
static int l_full(lua_State *L)
{
    int ndim = lua_gettop(L) >= 3 ? 2 : 1;
    int64_t r = check_size(L, 1, "full"), c = ndim == 2 ? check_size(L, 2, "full") : 1;
    float v = checkfloat(L, ndim + 1);
    cl_tensor *t;
    int rc = cl_tensor_full(&t, ndim, r, c, v);
    return push_result(L, rc, t);
}

static int l_eye(lua_State *L)
{
    cl_tensor *t;
    int rc = cl_tensor_eye(&t, check_size(L, 1, "eye"));
    return push_result(L, rc, t);
}

/* arange(stop) or arange(start, stop [, step]): numpy's half-open [start, stop). */
static int l_arange(lua_State *L)
{
    double start = 0, stop, step = 1;
    if (lua_isnoneornil(L, 2)) {
        stop = luaL_checknumber(L, 1);
    } else {
        start = luaL_checknumber(L, 1);
        stop = luaL_checknumber(L, 2);
        step = luaL_optnumber(L, 3, 1);
    }
    cl_tensor *t;
    int rc = cl_tensor_arange(&t, start, stop, step);
    return push_result(L, rc, t);
}

static int l_linspace(lua_State *L)
{
    double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
    int64_t n = check_size(L, 3, "linspace");
    cl_tensor *t;
    int rc = cl_tensor_linspace(&t, a, b, n);
    return push_result(L, rc, t);
}

static int rand_common(lua_State *L, int normal)
{
    int ndim;
    int64_t r, c;
    int used = shape_args(L, 1, normal ? "randn" : "rand", &ndim, &r, &c);
    uint64_t seed = opt_seed(L, 1 + used, normal ? "randn" : "rand");
    cl_tensor *t;
    int rc = normal ? cl_tensor_randn(&t, ndim, r, c, seed) : cl_tensor_rand(&t, ndim, r, c, seed);
    return push_result(L, rc, t);
}

static int l_rand(lua_State *L) { return rand_common(L, 0); }
static int l_randn(lua_State *L) { return rand_common(L, 1); }

static int l_is_tensor(lua_State *L)
{
    lua_pushboolean(L, lcl_testbox(L, 1, LCL_TENSOR) != NULL);
    return 1;
}

/* ---- shape and access ----------------------------------------------------------------- */

static int m_clone(lua_State *L)
{
    cl_tensor *t;
    int rc = cl_tensor_clone(&t, lcl_checktensor(L, 1));
    return push_result(L, rc, t);
}

static int m_contiguous(lua_State *L)
{
    cl_tensor *t;
    int rc = cl_tensor_contiguous(&t, lcl_checktensor(L, 1));
    return push_result(L, rc, t);
}

static int m_is_contiguous(lua_State *L)
{
    lua_pushboolean(L, cl_tensor_is_contiguous(lcl_checktensor(L, 1)));
    return 1;
}

static int m_totable(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int64_t r = t->shape[0], c = t->shape[1];
    if (r > INT32_MAX || c > INT32_MAX)
        return luaL_error(L, "totable: tensor is too large for a Lua table");
    lua_createtable(L, (int)r, 0);
    for (int64_t i = 0; i < r; i++) {
        if (t->ndim == 1) {
            lua_pushnumber(L, *cl_tensor_ptr(t, i, 0));
        } else {
            lua_createtable(L, (int)c, 0);
            for (int64_t j = 0; j < c; j++) {
                lua_pushnumber(L, *cl_tensor_ptr(t, i, j));
                lua_rawseti(L, -2, (lua_Integer)j + 1);
            }
        }
        lua_rawseti(L, -2, (lua_Integer)i + 1);
    }
    return 1;
}

static int m_shape(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    lua_pushinteger(L, (lua_Integer)t->shape[0]);
    if (t->ndim == 1)
        return 1;
    lua_pushinteger(L, (lua_Integer)t->shape[1]);
    return 2;
}

static int m_len(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)lcl_checktensor(L, 1)->shape[0]);
    return 1;
}

static int m_numel(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)cl_tensor_numel(lcl_checktensor(L, 1)));
    return 1;
}

static int m_ndim(lua_State *L)
{
    lua_pushinteger(L, lcl_checktensor(L, 1)->ndim);
    return 1;
}

/* Reads 1-based (i [, j]) at idx for get/set; raises with the index and the shape when out of
 * range. Returns 0-based indices. */
static int index_args(lua_State *L, const cl_tensor *t, int idx, const char *fname, int64_t *i,
                      int64_t *j)
{
    char s[64];
    lua_Integer li = luaL_checkinteger(L, idx), lj = 1;
    int used = 1;
    if (t->ndim == 2) {
        lj = luaL_checkinteger(L, idx + 1);
        used = 2;
    }
    if (li < 1 || li > t->shape[0] || lj < 1 || lj > t->shape[1]) {
        if (t->ndim == 1)
            return luaL_error(L, "%s: index %I out of range for %s", fname, li,
                              shape_str(t, s, sizeof s));
        return luaL_error(L, "%s: index (%I, %I) out of range for %s", fname, li, lj,
                          shape_str(t, s, sizeof s));
    }
    *i = (int64_t)li - 1;
    *j = (int64_t)lj - 1;
    return used;
}

static int m_get(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int64_t i, j;
    int used = index_args(L, t, 2, "get", &i, &j);
    if (!lua_isnoneornil(L, 2 + used)) {
        char s[64];
        return luaL_error(L, "get: a %d-D tensor (%s) takes %s, got %d indices", t->ndim,
                          shape_str(t, s, sizeof s), t->ndim == 1 ? "one index" : "two indices",
                          lua_gettop(L) - 1);
    }
    lua_pushnumber(L, *cl_tensor_ptr(t, i, j));
    return 1;
}

/* set(i, [j,] v): writes through views (shared storage); returns the tensor. */
static int m_set(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int64_t i, j;
    int used = index_args(L, t, 2, "set", &i, &j);
    if (!lua_isnone(L, 3 + used)) { /* set(i, j, v) on a 1-D tensor would store j */
        char s[64];
        return luaL_error(L, "set: a %d-D tensor (%s) takes set(%s, v), got %d arguments",
                          t->ndim, shape_str(t, s, sizeof s), t->ndim == 1 ? "i" : "i, j",
                          lua_gettop(L) - 1);
    }
    *cl_tensor_ptr(t, i, j) = checkfloat(L, 2 + used);
    lua_settop(L, 1);
    return 1;
}

/* reshape(n) or reshape(rows, cols); one of rows/cols may be -1 (inferred). */
static int m_reshape(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int64_t numel = cl_tensor_numel(t);
    lua_Integer r = luaL_checkinteger(L, 2);
    int ndim = lua_isnoneornil(L, 3) ? 1 : 2;
    lua_Integer c = ndim == 2 ? luaL_checkinteger(L, 3) : 1;
    char s[64];
    if (r == -1 && c == -1)
        return luaL_error(L, "reshape: only one size may be -1");
    if (r == -1 || c == -1) {
        lua_Integer known = r == -1 ? c : r;
        if (known <= 0 || numel % known != 0)
            return luaL_error(L, "reshape: cannot view %s (%I elements) with a size of %I",
                              shape_str(t, s, sizeof s), (lua_Integer)numel, known);
        if (r == -1)
            r = numel / known;
        else
            c = numel / known;
    }
    if (r < 0 || c < 0)
        return luaL_error(L, "reshape: negative size (%I, %I)", r, c);
    if (r > CL_TENSOR_MAX_ELEMS || c > CL_TENSOR_MAX_ELEMS)
        return luaL_error(L, "reshape: size too large");
    cl_tensor *out;
    int rc = cl_tensor_reshape(&out, t, ndim, r, c);
    return push_result(L, rc, out);
}

static int m_t(lua_State *L)
{
    cl_tensor *out;
    int rc = cl_tensor_transpose(&out, lcl_checktensor(L, 1));
    return push_result(L, rc, out);
}

/* Resolves a 1-based inclusive range (i, j) over n items: negative values count from the end
 * (-1 is the last), j defaults to i. Gives the 0-based half-open [lo, hi). */
static void range_args(lua_State *L, const cl_tensor *t, int idx, int64_t n, const char *fname,
                       const char *what, int64_t *lo, int64_t *hi)
{
    lua_Integer i = luaL_checkinteger(L, idx);
    lua_Integer j = luaL_optinteger(L, idx + 1, i);
    lua_Integer ri = i < 0 ? (lua_Integer)n + i + 1 : i;
    lua_Integer rj = j < 0 ? (lua_Integer)n + j + 1 : j;
    if (i < -(lua_Integer)n - 1 || j < -(lua_Integer)n - 1 || ri < 1 || rj > (lua_Integer)n ||
        rj < ri - 1) {
        char s[64];
        luaL_error(L, "%s: %s %I..%I out of range for %s (valid 1..%I)", fname, what, i, j,
                   shape_str(t, s, sizeof s), (lua_Integer)n);
    }
    *lo = (int64_t)ri - 1;
    *hi = (int64_t)rj;
}

static int m_rows(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int64_t lo, hi;
    range_args(L, t, 2, t->shape[0], "rows", "rows", &lo, &hi);
    cl_tensor *out;
    int rc = cl_tensor_rows_range(&out, t, lo, hi);
    return push_result(L, rc, out);
}

static int m_cols(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    char s[64];
    if (t->ndim != 2)
        return luaL_error(L, "cols: tensor is 1-D (%s); use rows(i, j) to slice it",
                          shape_str(t, s, sizeof s));
    int64_t lo, hi;
    range_args(L, t, 2, t->shape[1], "cols", "columns", &lo, &hi);
    cl_tensor *out;
    int rc = cl_tensor_cols_range(&out, t, lo, hi);
    return push_result(L, rc, out);
}

/* index_rows(idx): copy of the rows listed (1-based) in a Lua table or a 1-D tensor. */
static int m_index_rows(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    cl_tensor *it = lcl_testtensor(L, 2);
    lua_Integer n;
    if (it)
        n = (lua_Integer)cl_tensor_numel(it);
    else {
        luaL_checktype(L, 2, LUA_TTABLE);
        n = luaL_len(L, 2);
    }
    if (n < 0 || (size_t)n > ((size_t)-1) / 2 / sizeof(int64_t))
        return luaL_error(L, "index_rows: too many indices");
    /* Scratch memory owned by Lua: freed by the GC whatever error is raised below. */
    int64_t *idx = lua_newuserdatauv(L, (size_t)n * sizeof(int64_t) + 1, 0);
    char s[64];
    for (lua_Integer k = 0; k < n; k++) {
        double v;
        if (it) {
            v = *cl_tensor_ptr(it, k / it->shape[1], k % it->shape[1]);
        } else {
            lua_geti(L, 2, k + 1);
            int isnum;
            v = lua_tonumberx(L, -1, &isnum);
            if (!isnum)
                return luaL_error(L, "index_rows: index [%I] is a %s, expected a row number",
                                  k + 1, luaL_typename(L, -1));
            lua_pop(L, 1);
        }
        if (!(v >= 1 && v <= (double)t->shape[0]) || v != floor(v)) {
            char vs[32];
            snprintf(vs, sizeof vs, "%.17g", v);
            return luaL_error(L, "index_rows: index [%I] = %s out of range for %s (rows 1..%I)",
                              k + 1, vs, shape_str(t, s, sizeof s), (lua_Integer)t->shape[0]);
        }
        idx[k] = (int64_t)v - 1;
    }
    cl_tensor *out;
    int rc = cl_tensor_index_rows(&out, t, idx, n);
    return push_result(L, rc, out);
}

/* ---- math ----------------------------------------------------------------------------- */

/* a <op> b where either side is a tensor or a number (Lua operators and methods). */
static int binop(lua_State *L, cl_binop op)
{
    cl_tensor *a = lcl_testtensor(L, 1), *b = lcl_testtensor(L, 2), *out;
    int rc;
    if (a && b)
        rc = cl_tensor_ops_binop(&out, op, a, b);
    else if (a && lua_type(L, 2) == LUA_TNUMBER)
        rc = cl_tensor_ops_binop_scalar(&out, op, a, (float)lua_tonumber(L, 2), 0);
    else if (b && lua_type(L, 1) == LUA_TNUMBER)
        rc = cl_tensor_ops_binop_scalar(&out, op, b, (float)lua_tonumber(L, 1), 1);
    else {
        for (int k = 1; k <= 2; k++) /* a freed tensor gets its own message */
            if (lcl_testbox(L, k, LCL_TENSOR))
                lcl_checktensor(L, k);
        int bad = (a || lua_type(L, 1) == LUA_TNUMBER) ? 2 : 1;
        const char *name = lua_tostring(L, lua_upvalueindex(1));
        if (name[0] == '_' && name[1] == '_')
            name += 2;
        return luaL_error(L, "bad operand #%d to '%s' (churnlab.Tensor or number expected, got %s)",
                          bad, name, luaL_typename(L, bad));
    }
    return push_result(L, rc, out);
}

#define BINOP_FN(name, op)                                                                   \
    static int m_##name(lua_State *L) { return binop(L, op); }
BINOP_FN(add, CL_OP_ADD)
BINOP_FN(sub, CL_OP_SUB)
BINOP_FN(mul, CL_OP_MUL)
BINOP_FN(div, CL_OP_DIV)
BINOP_FN(pow, CL_OP_POW)
BINOP_FN(lt, CL_OP_LT)
BINOP_FN(le, CL_OP_LE)
BINOP_FN(gt, CL_OP_GT)
BINOP_FN(ge, CL_OP_GE)
BINOP_FN(eq, CL_OP_EQ)
BINOP_FN(ne, CL_OP_NE)
BINOP_FN(minimum, CL_OP_MIN)
BINOP_FN(maximum, CL_OP_MAX)

static int unop(lua_State *L, cl_unop fn)
{
    cl_tensor *out;
    int rc = cl_tensor_ops_unop(&out, fn, lcl_checktensor(L, 1));
    return push_result(L, rc, out);
}

#define UNOP_FN(name, fn)                                                                    \
    static int m_##name(lua_State *L) { return unop(L, fn); }
UNOP_FN(exp, CL_FN_EXP)
UNOP_FN(log, CL_FN_LOG)
UNOP_FN(sqrt, CL_FN_SQRT)
UNOP_FN(abs, CL_FN_ABS)
UNOP_FN(sigmoid, CL_FN_SIGMOID)
UNOP_FN(tanh, CL_FN_TANH)
UNOP_FN(relu, CL_FN_RELU)
UNOP_FN(neg, CL_FN_NEG)

static int m_clamp(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1), *out;
    float lo = lua_isnoneornil(L, 2) ? -INFINITY : checkfloat(L, 2);
    float hi = lua_isnoneornil(L, 3) ? INFINITY : checkfloat(L, 3);
    int rc = cl_tensor_ops_clamp(&out, t, lo, hi);
    return push_result(L, rc, out);
}

static int m_mm(lua_State *L)
{
    cl_tensor *a = lcl_checktensor(L, 1), *b = lcl_checktensor(L, 2), *out;
    int rc = cl_tensor_ops_matmul(&out, a, b);
    return push_result(L, rc, out);
}

/* ---- reductions ----------------------------------------------------------------------- */

/* r() over all elements -> number; r(dim) along dim 1 (over rows: one value per column) or
 * dim 2 (over columns: one value per row) -> 1-D tensor. arg* are 1-based. */
static int reduce(lua_State *L, cl_reduce r)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    int arg = r == CL_RED_ARGMAX || r == CL_RED_ARGMIN;
    if (lua_isnoneornil(L, 2)) {
        double v;
        LCL_CHECK(L, cl_tensor_ops_reduce_all(t, r, &v));
        if (!arg) {
            lua_pushnumber(L, v);
            return 1;
        }
        int64_t f = (int64_t)v;
        if (t->ndim == 1) {
            lua_pushinteger(L, (lua_Integer)f + 1);
            return 1;
        }
        lua_pushinteger(L, (lua_Integer)(f / t->shape[1]) + 1);
        lua_pushinteger(L, (lua_Integer)(f % t->shape[1]) + 1);
        return 2;
    }
    lua_Integer dim = luaL_checkinteger(L, 2);
    if (dim != 1 && dim != 2) {
        char s[64];
        return luaL_error(L,
                          "bad argument #1 to '%s' (dimension must be 1 or 2, got %I; tensor %s)",
                          lua_tostring(L, lua_upvalueindex(1)), dim, shape_str(t, s, sizeof s));
    }
    cl_tensor *out;
    LCL_CHECK(L, cl_tensor_ops_reduce_dim(&out, t, r, (int)dim - 1));
    if (arg) {
        float *d = cl_tensor_data(out);
        for (int64_t k = 0; k < out->shape[0]; k++)
            d[k] += 1.0f;
    }
    return lcl_pushtensor(L, out);
}

#define RED_FN(name, r)                                                                      \
    static int m_##name(lua_State *L) { return reduce(L, r); }
RED_FN(sum, CL_RED_SUM)
RED_FN(mean, CL_RED_MEAN)
RED_FN(std, CL_RED_STD)
RED_FN(min, CL_RED_MIN)
RED_FN(max, CL_RED_MAX)
RED_FN(argmax, CL_RED_ARGMAX)
RED_FN(argmin, CL_RED_ARGMIN)

/* ---- printing ------------------------------------------------------------------------- */

static int m_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, LCL_TENSOR);
    if (!b->obj) {
        lua_pushstring(L, LCL_TENSOR " (freed)");
        return 1;
    }
    char s[64];
    lua_pushfstring(L, LCL_TENSOR " %s f32", shape_str(b->obj, s, sizeof s));
    return 1;
}

#define PREVIEW_ROWS 6 /* head and tail rows shown of a tall tensor */
#define SHOW_ALL_ROWS 20

/* One number format for every value shown, so decimal points line up (numpy's rule of
 * thumb): integers as integers, moderate magnitudes with 4 decimals, the rest in %e. */
typedef enum { FMT_INT, FMT_FIXED, FMT_EXP } val_fmt;

static void fmt_val(char *buf, size_t cap, float v, val_fmt f)
{
    if (v != v)
        snprintf(buf, cap, "nan");
    else if (isinf(v))
        snprintf(buf, cap, v > 0 ? "inf" : "-inf");
    else if (f == FMT_INT)
        snprintf(buf, cap, "%.0f", (double)v);
    else if (f == FMT_FIXED)
        snprintf(buf, cap, "%.4f", (double)v);
    else
        snprintf(buf, cap, "%.4e", (double)v);
}

/* __repl(t, width): the summary line, then the values of a small tensor or a head/tail preview
 * of a large one, right-aligned in columns that fit `width` characters. */
static int m_repl(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, LCL_TENSOR);
    lua_Integer width = luaL_optinteger(L, 2, 80);
    if (width < 20)
        width = 20;
    if (!b->obj) {
        lua_pushstring(L, LCL_TENSOR " (freed)");
        return 1;
    }
    cl_tensor *t = b->obj;
    int64_t r = t->shape[0], c = t->ndim == 1 ? 1 : t->shape[1];
    /* A 1-D tensor prints as one row of values. */
    int64_t nr = t->ndim == 1 ? 1 : r, nc = t->ndim == 1 ? r : c;
    int64_t rows_show[2 * PREVIEW_ROWS + 1], nrs = 0;
    int row_gap = -1;
    if (nr <= SHOW_ALL_ROWS) {
        for (int64_t i = 0; i < nr; i++)
            rows_show[nrs++] = i;
    } else {
        for (int64_t i = 0; i < PREVIEW_ROWS; i++)
            rows_show[nrs++] = i;
        row_gap = (int)nrs;
        for (int64_t i = nr - PREVIEW_ROWS; i < nr; i++)
            rows_show[nrs++] = i;
    }
    /* Format and column width from the values that can be shown (at most 64 columns: the
     * first and last 32). */
    int cw = 1;
    char buf[64];
#define VAL(i, j) (t->ndim == 1 ? *cl_tensor_ptr(t, (j), 0) : *cl_tensor_ptr(t, (i), (j)))
    int64_t maxc = nc < 64 ? nc : 64;
    int all_int = 1;
    double amax = 0, amin = INFINITY;
    for (int64_t q = 0; q < nrs; q++)
        for (int64_t j = 0; j < maxc; j++) {
            double v = VAL(rows_show[q], nc <= 64 ? j : (j < 32 ? j : nc - 64 + j));
            if (!isfinite(v))
                continue;
            all_int &= v == floor(v) && fabs(v) < 1e9;
            if (fabs(v) > amax)
                amax = fabs(v);
            if (v != 0 && fabs(v) < amin)
                amin = fabs(v);
        }
    val_fmt f = all_int ? FMT_INT : (amax < 1e5 && amin >= 1e-4) ? FMT_FIXED : FMT_EXP;
    for (int64_t q = 0; q < nrs; q++)
        for (int64_t j = 0; j < maxc; j++) {
            int64_t jj = nc <= 64 ? j : (j < 32 ? j : nc - 64 + j);
            fmt_val(buf, sizeof buf, VAL(rows_show[q], jj), f);
            int len = (int)strlen(buf);
            if (len > cw)
                cw = len;
        }
    /* How many columns fit: all, or a head and a tail around " ...". */
    int64_t fit = width / (cw + 2);
    if (nc > fit)
        fit = (width - 5) / (cw + 2); /* room for the "  ..." marker */
    if (fit < 2)
        fit = 2;
    int64_t head = nc, tail = 0;
    if (nc > fit) {
        head = fit - fit / 2;
        tail = fit / 2;
        if (head < 1)
            head = 1;
    }
    luaL_Buffer B;
    luaL_buffinit(L, &B);
    char s[64];
    lua_pushfstring(L, LCL_TENSOR " %s f32", shape_str(t, s, sizeof s));
    luaL_addvalue(&B);
    for (int64_t q = 0; q < nrs; q++) {
        if (q == row_gap) {
            snprintf(buf, sizeof buf, "\n  ... (%lld more rows)",
                     (long long)(nr - 2 * PREVIEW_ROWS));
            luaL_addstring(&B, buf);
        }
        luaL_addstring(&B, "\n");
        for (int64_t j = 0; j < head; j++) {
            fmt_val(buf, sizeof buf, VAL(rows_show[q], j), f);
            char cell[96];
            snprintf(cell, sizeof cell, "  %*s", cw, buf);
            luaL_addstring(&B, cell);
        }
        if (tail > 0 || head < nc) {
            luaL_addstring(&B, "  ...");
            for (int64_t j = nc - tail; j < nc; j++) {
                fmt_val(buf, sizeof buf, VAL(rows_show[q], j), f);
                char cell[96];
                snprintf(cell, sizeof cell, "  %*s", cw, buf);
                luaL_addstring(&B, cell);
            }
        }
    }
#undef VAL
    if (r == 0 || (t->ndim == 2 && c == 0))
        luaL_addstring(&B, "\n  (empty)");
    luaL_pushresult(&B);
    return 1;
}

/* t[i]: for a 1-D tensor the value at row i, for a 2-D one a view of row i (so t[i][j] reads
 * and t[i][j] = v writes element (i, j)); negative i counts from the end. Other keys are
 * methods (upvalue 1). A number outside 1..#t raises, naming the index and the shape, rather
 * than giving nil: a typo in a loop bound must not read as missing data. */
static int t_index(lua_State *L)
{
    if (lua_type(L, 2) == LUA_TNUMBER) {
        cl_tensor *t = lcl_checktensor(L, 1); /* methods of a freed tensor say so themselves */
        char s[64];
        int isint;
        lua_Integer i = lua_tointegerx(L, 2, &isint);
        if (!isint)
            return luaL_error(L, "tensor index %s is not an integer", lua_tostring(L, 2));
        if (i < 0)
            i += t->shape[0] + 1;
        if (i < 1 || i > t->shape[0])
            return luaL_error(L, "tensor index %I out of range for a %s tensor (1..%I)",
                              lua_tointeger(L, 2), shape_str(t, s, sizeof s),
                              (lua_Integer)t->shape[0]);
        if (t->ndim == 1) {
            lua_pushnumber(L, *cl_tensor_ptr(t, i - 1, 0));
            return 1;
        }
        cl_tensor *row, *flat;
        int rc = cl_tensor_rows_range(&row, t, i - 1, i);
        if (rc)
            return lcl_raise(L, rc);
        rc = cl_tensor_reshape(&flat, row, 1, t->shape[1], 1);
        cl_tensor_free(row);
        return push_result(L, rc, flat);
    }
    lua_pushvalue(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
}

/* t[i] = v on a 1-D tensor (t[i][j] = v on a 2-D one goes through the row view). */
static int t_newindex(lua_State *L)
{
    cl_tensor *t = lcl_checktensor(L, 1);
    char s[64];
    if (lua_type(L, 2) != LUA_TNUMBER)
        return luaL_error(L, "a tensor takes numeric indices, got %s", luaL_typename(L, 2));
    if (t->ndim != 1)
        return luaL_error(L, "t[i] = v needs a 1-D tensor, this one is %s (write t[i][j] = v)",
                          shape_str(t, s, sizeof s));
    int isint;
    lua_Integer i = lua_tointegerx(L, 2, &isint);
    if (!isint)
        return luaL_error(L, "tensor index %s is not an integer", lua_tostring(L, 2));
    if (i < 0)
        i += t->shape[0] + 1;
    if (i < 1 || i > t->shape[0])
        return luaL_error(L, "tensor index %I out of range for a %s tensor (1..%I)",
                          lua_tointeger(L, 2), shape_str(t, s, sizeof s),
                          (lua_Integer)t->shape[0]);
    *cl_tensor_ptr(t, i - 1, 0) = checkfloat(L, 3);
    return 0;
}

/* ---- registration --------------------------------------------------------------------- */

static const luaL_Reg funcs[] = {
    {"new", l_new},     {"zeros", l_zeros},         {"ones", l_ones},   {"full", l_full},
    {"eye", l_eye},     {"arange", l_arange},       {"linspace", l_linspace},
    {"rand", l_rand},   {"randn", l_randn},         {"is_tensor", l_is_tensor},
    {NULL, NULL}};

static const luaL_Reg methods[] = {
    {"clone", m_clone},       {"contiguous", m_contiguous}, {"is_contiguous", m_is_contiguous},
    {"totable", m_totable},   {"shape", m_shape},           {"numel", m_numel},
    {"ndim", m_ndim},         {"get", m_get},               {"set", m_set},
    {"reshape", m_reshape},   {"t", m_t},                   {"rows", m_rows},
    {"cols", m_cols},         {"index_rows", m_index_rows}, {"add", m_add},
    {"sub", m_sub},           {"mul", m_mul},               {"div", m_div},
    {"pow", m_pow},           {"lt", m_lt},                 {"le", m_le},
    {"gt", m_gt},             {"ge", m_ge},                 {"eq", m_eq},
    {"ne", m_ne},             {"minimum", m_minimum},       {"maximum", m_maximum},
    {"exp", m_exp},           {"log", m_log},               {"sqrt", m_sqrt},
    {"abs", m_abs},           {"sigmoid", m_sigmoid},       {"tanh", m_tanh},
    {"relu", m_relu},         {"neg", m_neg},               {"clamp", m_clamp},
    {"mm", m_mm},             {"sum", m_sum},               {"mean", m_mean},
    {"std", m_std},           {"min", m_min},               {"max", m_max},
    {"argmax", m_argmax},     {"argmin", m_argmin},         {"free", t_gc},
    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", t_gc},     {"__close", t_gc},      {"__tostring", m_tostring}, {"__len", m_len},
    {"__add", m_add},   {"__sub", m_sub},       {"__mul", m_mul},           {"__div", m_div},
    {"__pow", m_pow},   {"__unm", m_neg},       {"__repl", m_repl},         {NULL, NULL}};

static const lcl_doc func_docs[] = {
    {"new", "tensor(table) -> Tensor: also tensor.new(table). {1, 2, 3} gives a 1-D tensor, "
            "{{1, 2}, {3, 4}} a 2x2 one (rows must have equal lengths); tensor(t) copies t."},
    {"zeros", "zeros(n | rows, cols) -> Tensor: zeros, 1-D of n or 2-D rows x cols."},
    {"ones", "ones(n | rows, cols) -> Tensor: ones, 1-D of n or 2-D rows x cols."},
    {"full", "full(n | rows, cols, v) -> Tensor: every element v."},
    {"eye", "eye(n) -> Tensor: the n x n identity matrix."},
    {"arange", "arange([start=0,] stop [, step=1]) -> Tensor: 1-D start, start+step, ... up to "
               "but excluding stop (numpy's half-open range, not Lua's inclusive for)."},
    {"linspace", "linspace(a, b, n) -> Tensor: 1-D, n evenly spaced values from a to b "
                 "inclusive."},
    {"rand", "rand(n | rows, cols [, opts]) -> Tensor: uniform [0, 1) values. opts.seed: "
             "integer; the same seed gives the same values whatever the thread count. Without a "
             "seed successive calls differ but a script run is reproducible."},
    {"randn", "randn(n | rows, cols [, opts]) -> Tensor: standard normal values; opts.seed as "
              "for rand."},
    {"is_tensor", "is_tensor(x) -> boolean: true when x is a churnlab.Tensor."},
    {NULL, NULL}};

static const lcl_doc method_docs[] = {
    {"clone", "t:clone() -> Tensor: a contiguous deep copy."},
    {"contiguous", "t:contiguous() -> Tensor: t's values packed row-major (shares storage when "
                   "already packed)."},
    {"is_contiguous", "t:is_contiguous() -> boolean: true when t is packed row-major."},
    {"totable", "t:totable() -> table: {v, ...} for 1-D, {{row}, ...} for 2-D."},
    {"shape", "t:shape() -> rows, cols: for 1-D just n. #t is the number of rows."},
    {"numel", "t:numel() -> n: the number of elements."},
    {"ndim", "t:ndim() -> 1 | 2: the number of dimensions."},
    {"get", "t:get(i [, j]) -> number: the value at 1-based row i (and column j for 2-D)."},
    {"set", "t:set(i, [j,] v) -> t: writes v at 1-based (i, j); views share storage, so writing "
            "through a view changes the original."},
    {"reshape", "t:reshape(n | rows, cols) -> Tensor: the same values in a new shape; one size "
                "may be -1 (inferred). A view when t is contiguous, else a copy."},
    {"t", "t:t() -> Tensor: transpose view (no copy); a 1-D tensor becomes a 1 x n row."},
    {"rows", "t:rows(i [, j=i]) -> Tensor: view of rows i..j (1-based, inclusive; negative "
             "counts from the end, -1 is the last row)."},
    {"cols", "t:cols(i [, j=i]) -> Tensor: view of columns i..j of a 2-D tensor (1-based, "
             "inclusive; negative counts from the end)."},
    {"index_rows", "t:index_rows(idx) -> Tensor: copy of the rows listed (1-based) in a table "
                   "or a 1-D tensor, in that order, repeats allowed."},
    {"add", "t:add(x) -> Tensor: t + x; x a tensor (same shape, a row vector 1 x n or 1-D n, or "
            "a column vector m x 1) or a number. Also the + operator."},
    {"sub", "t:sub(x) -> Tensor: t - x (broadcasting as add). Also the - operator."},
    {"mul", "t:mul(x) -> Tensor: element-wise t * x (broadcasting as add); t:mm(u) is the "
            "matrix product. Also the * operator."},
    {"div", "t:div(x) -> Tensor: element-wise t / x (IEEE: x = 0 gives inf or nan). Also /."},
    {"pow", "t:pow(x) -> Tensor: element-wise t ^ x. Also the ^ operator."},
    {"lt", "t:lt(x) -> Tensor: mask, 1 where t < x else 0 (x a tensor or number)."},
    {"le", "t:le(x) -> Tensor: mask, 1 where t <= x else 0."},
    {"gt", "t:gt(x) -> Tensor: mask, 1 where t > x else 0."},
    {"ge", "t:ge(x) -> Tensor: mask, 1 where t >= x else 0."},
    {"eq", "t:eq(x) -> Tensor: mask, 1 where t == x else 0 (nan never equals)."},
    {"ne", "t:ne(x) -> Tensor: mask, 1 where t ~= x else 0."},
    {"minimum", "t:minimum(x) -> Tensor: element-wise minimum with x (nan propagates)."},
    {"maximum", "t:maximum(x) -> Tensor: element-wise maximum with x (nan propagates)."},
    {"exp", "t:exp() -> Tensor: element-wise e^x."},
    {"log", "t:log() -> Tensor: element-wise natural log (log 0 = -inf, negative -> nan)."},
    {"sqrt", "t:sqrt() -> Tensor: element-wise square root."},
    {"abs", "t:abs() -> Tensor: element-wise absolute value."},
    {"sigmoid", "t:sigmoid() -> Tensor: element-wise 1 / (1 + e^-x), computed without overflow."},
    {"tanh", "t:tanh() -> Tensor: element-wise hyperbolic tangent."},
    {"relu", "t:relu() -> Tensor: element-wise max(x, 0) (nan stays nan)."},
    {"neg", "t:neg() -> Tensor: -t. Also unary minus."},
    {"clamp", "t:clamp(lo [, hi]) -> Tensor: values limited to [lo, hi]; nil means unbounded."},
    {"mm", "t:mm(u) -> Tensor: matrix product (cblas_sgemm, sgemv when one side is a "
           "vector); transposed and sliced views are passed without copying. A 1-D u is a "
           "column (result 1-D), a 1-D t a row."},
    {"sum", "t:sum([dim]) -> number | Tensor: the sum of all elements, or along dim: 1 sums "
            "over rows (one value per column), 2 over columns (one per row), as a 1-D tensor. "
            "Accumulated in double; the same whatever the thread count."},
    {"mean", "t:mean([dim]) -> number | Tensor: the mean of all elements or along dim (see "
             "sum)."},
    {"std", "t:std([dim]) -> number | Tensor: the sample standard deviation (n - 1) of all "
            "elements or along dim."},
    {"min", "t:min([dim]) -> number | Tensor: the smallest value (nan if any), or along dim."},
    {"max", "t:max([dim]) -> number | Tensor: the largest value (nan if any), or along dim."},
    {"argmax", "t:argmax([dim]) -> i [, j] | Tensor: the 1-based position of the largest value: "
               "i for 1-D, i, j for 2-D; along dim, a 1-D tensor of 1-based indices. First "
               "occurrence wins."},
    {"argmin", "t:argmin([dim]) -> i [, j] | Tensor: the 1-based position of the smallest value "
               "(see argmax)."},
    {"free", "t:free() -> nothing: releases the storage now (also done by the GC and by "
             "<close>); using t afterwards is an error."},
    {NULL, NULL}};

/* Method and reduction functions read their own name from upvalue 1 for messages. */
static void set_named_funcs(lua_State *L, const luaL_Reg *l)
{
    for (; l->name; l++) {
        lua_pushstring(L, l->name);
        lua_pushcclosure(L, l->func, 1);
        lua_setfield(L, -2, l->name);
    }
}

static void doc_fields(lua_State *L, int tidx, const char *name, const char *doc)
{
    lua_getfield(L, tidx, name);
    lcl_setdoc(L, -1, doc);
    lua_pop(L, 1);
}

int luaopen_churnlab_tensor(lua_State *L);
int luaopen_churnlab_tensor(lua_State *L)
{
    /* Metatable: metamethods, the methods (closures carrying their names) in __methods, and
     * an __index function that reads t[i] and falls back on them. */
    luaL_newmetatable(L, LCL_TENSOR);
    set_named_funcs(L, meta);
    lua_newtable(L);
    set_named_funcs(L, methods);
    for (int i = 0; method_docs[i].name; i++)
        doc_fields(L, lua_gettop(L), method_docs[i].name, method_docs[i].doc);
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "__methods");
    lua_pushcclosure(L, t_index, 1);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, t_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushstring(L, LCL_TENSOR);
    lcl_setdoc(L, -1, "churnlab.Tensor: dense float32 1-D or 2-D row-major tensor with views. "
                      "Operators + - * / ^ and unary minus work element-wise with tensors "
                      "(row/column-vector broadcasting) and numbers; t:mm(u) is the matrix "
                      "product; indices are 1-based. t[i] is element i of a 1-D tensor and a view of row i of a "
                      "2-D one, so t[i][j] reads and t[i][j] = v writes (i < 0 counts from the "
                      "end; out of range raises).");
    lua_pop(L, 2);

    luaL_newlib(L, funcs);
    int mod = lua_gettop(L);
    for (int i = 0; func_docs[i].name; i++)
        doc_fields(L, mod, func_docs[i].name, func_docs[i].doc);
    lcl_setdoc(L, mod, "churnlab.tensor: float32 tensors. tensor{...} makes one from a table; "
                       "zeros, ones, full, eye, arange, linspace, rand, randn create them. "
                       "Indexing is 1-based as numpy's is 0-based: t[i] is element i of a 1-D "
                       "tensor (numpy t[i-1]) and a view of row i of a 2-D one, so t[i][j] "
                       "reads element (i, j) and t[i][j] = v writes it; t[-1] is the last; an "
                       "index out of range raises.");
    lua_newtable(L);
    lua_pushcfunction(L, l_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, mod);
    lua_pushinteger(L, 0);
    lua_setfield(L, LUA_REGISTRYINDEX, "churnlab.tensor.seed");
    return 1;
}
