/* lcl.h - helpers shared by every binding (lua/bind/<module>.c).
 *
 * Pattern (liolib.c): each binding has luaL_Reg tables for functions, methods and
 * metamethods, and a createmeta helper. Objects are boxes (a userdata holding one pointer to
 * the C object) created empty first, then filled, so an allocation failure never leaves a
 * half-made userdata; __gc and __close are the same idempotent function; using a freed object
 * is a clear Lua error.
 *
 * Errors: bindings free their C temporaries, then call lcl_raise(L, rc) once; it raises
 * cl_error_last() as a Lua error.
 */
#ifndef LCL_H
#define LCL_H

#include <lauxlib.h>
#include <lua.h>

#include "churnlab.h"

typedef struct lcl_box {
    void *obj; /* NULL once freed (or before being filled) */
} lcl_box;

/* Pushes a new empty box with metatable tname (which must be registered). */
lcl_box *lcl_newbox(lua_State *L, const char *tname);
/* The C object at idx: raises "bad argument #idx (tname expected, got X)" or "attempt to
 * use a freed tname". */
void *lcl_checkobj(lua_State *L, int idx, const char *tname);
/* The box at idx, or NULL if idx is not a tname (no error). */
lcl_box *lcl_testbox(lua_State *L, int idx, const char *tname);

/* Creates metatable tname with metamethods `meta` and, as __index, a table of `methods`.
 * Leaves the metatable on the stack. */
void lcl_createmeta(lua_State *L, const char *tname, const luaL_Reg *meta, const luaL_Reg *methods);

/* Errors carry the position of the user's line: the innermost Lua frame that is not one of
 * churnlab's own Lua modules (the files under lua/churnlab/, marked by the module loader),
 * so a helper such as fig:save, or a C call made by one, reports "analysis.lua:12:", not a
 * line of plot.lua. lcl_where pushes that "chunk:line: " prefix (or "" when there is none). */
void lcl_where(lua_State *L);
/* Marks a chunk source ("@/path/lua/churnlab/plot.lua") as library code for lcl_where. */
void lcl_mark_library(lua_State *L, const char *source);
/* 1 when a chunk source was so marked (the host drops those frames from tracebacks). */
int lcl_is_library(lua_State *L, const char *source);
/* luaL_error with lcl_where's position. Never returns. */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
int lcl_error(lua_State *L, const char *fmt, ...);

/* luaL_argerror, positioned like lcl_error when a churnlab Lua module made the call (a C
 * function the user called directly gets luaL_argerror itself, message for message). */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
int lcl_argerror(lua_State *L, int arg, const char *extramsg);
/* Every binding includes this header: its luaL_error and luaL_argerror calls get the user's
 * line too, without touching each of them. (lauxlib's own luaL_check* still use the plain
 * ones: they point at the immediate caller, which is the user unless a module helper made a
 * bad call.) */
#ifndef LCL_NO_REDIRECT
#define luaL_error lcl_error
#define luaL_argerror lcl_argerror
#endif

/* Raises cl_error_last() (or cl_error_strstatus(rc) when the message is empty), at the user's
 * line. Never returns (it is declared int so bindings can write `return lcl_raise(L, rc)`). */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
int lcl_raise(lua_State *L, int rc);
/* lcl_raise for a file that cannot be read or written: the message names `path` (put in
 * front when the core's message does not already). Every loader and saver fails this way,
 * like io.lines and dofile; there is no nil, msg form. */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
int lcl_raise_file(lua_State *L, int rc, const char *path);
/* Raises if expr is not CL_OK; usable in a function of any return type. */
#define LCL_CHECK(L, expr)                                                                   \
    do {                                                                                     \
        int lcl_rc_ = (expr);                                                                \
        if (lcl_rc_ != CL_OK)                                                                \
            lcl_raise(L, lcl_rc_);                                                           \
    } while (0)
/* Lua callbacks under C loops (a model's predict called by the core while it holds C
 * buffers): a Lua error, or the REPL's Ctrl-C hook ("interrupted!"), must not longjmp through
 * the core. Pattern:
 *     int slot = lcl_errslot(L);           -- pushes nil: where the callback's error goes
 *     ... the core calls back; the callback pushes the function and arguments, then
 *     rc = lcl_pcall(L, nargs, nresults, slot) and returns rc to the core on failure ...
 *     free C temporaries; if (rc) lcl_raise_slot(L, slot, rc);
 * so the core frees its memory and returns, and the user sees the callback's own error. */
int lcl_errslot(lua_State *L);
/* lua_pcall(L, nargs, nresults, 0): on an error, pops the error object into `slot` (the
 * first error is kept) and returns CL_EINTR after Ctrl-C, else CL_EINVAL, with the message
 * set; returns CL_OK otherwise. Needs no stack space beyond the call's. */
int lcl_pcall(lua_State *L, int nargs, int nresults, int slot);
/* Raises the error object stored in `slot` if there is one, else lcl_raise(L, rc). */
#if defined(__GNUC__)
__attribute__((noreturn))
#endif
int lcl_raise_slot(lua_State *L, int slot, int rc);

/* Fills `params` from the Lua table at idx (nil/none = all defaults) using the definition
 * table; unknown keys and bad values raise errors naming the parameter. `what` names the
 * model in messages ("gbdt"). Also records the definitions for help(). */
void lcl_params(lua_State *L, int idx, const cl_param_def *defs, void *params, const char *what);
/* Pushes a table {name = value} of the current parameter values. */
void lcl_push_params(lua_State *L, const cl_param_def *defs, const void *params);
/* Records docs for help(): a parameter table for a model kind. */
void lcl_register_params(lua_State *L, const char *what, const cl_param_def *defs);
/* Records a one-paragraph doc for the value at idx (a function or a metatable name). */
void lcl_setdoc(lua_State *L, int idx, const char *doc);
/* One help() text per field of the table at idx (a module or a metatable's __index): the
 * list ends with {NULL, NULL}; a name the table lacks is an error (a binding's bug). */
typedef struct lcl_doc {
    const char *name, *doc;
} lcl_doc;
void lcl_setdocs(lua_State *L, int idx, const lcl_doc *docs);

/* Tensors (boxes of LCL_TENSOR, whose metatable bind/tensor.c makes): check/test borrow; push takes ownership of t (frees
 * it if the box cannot be made) and returns 1. */
#define LCL_TENSOR "churnlab.Tensor"
cl_tensor *lcl_checktensor(lua_State *L, int idx);
cl_tensor *lcl_testtensor(lua_State *L, int idx);
int lcl_pushtensor(lua_State *L, cl_tensor *t);

/* Model files: register a loader for a kind ("gbdt"); cl.load(path) peeks the kind and calls
 * loader(path), which returns the object. */
void lcl_register_loader(lua_State *L, const char *kind, lua_CFunction loader);

/* Tells Lua's collector about C memory: call after creating an object that owns big C
 * buffers. Runs a full collection when C memory has doubled since the last one, so loops
 * making big tensors do not exhaust RAM while Lua sees tiny userdata. */
void lcl_gc_check(lua_State *L);

/* Progress reporters: support/progress.h (included here, as every fitting binding uses them). */

/* Options tables, the one checker for C bindings and (through churnlab.options.check) the
 * Lua modules. `known` is a NULL-terminated list of the keys `fname` accepts. Raises
 *     bad argument #2 to 'split' (unknown option 'tset'; known: test, stratify, seed)
 * for any other key (a non-string key too), or "(table expected, got T)" when the value at
 * idx is neither nil/none nor a table. The argument number is idx, one less when the
 * function was called as a method, as luaL_argerror counts; fname NULL takes the name the
 * function was called by (for one function under two names). Returns the absolute index of
 * the table, or 0 for nil/none, ready for lcl_optnum & co. */
int lcl_check_options(lua_State *L, int idx, const char *fname, const char *const known[]);

/* The same for a table inside argument `arg` (an action in a list, a nested spec): the
 * message reads "bad argument #2 to 'simulate' (action 1: unknown key 'cost'; known: ...)",
 * `what` naming the table ("action 1"). Returns the absolute index or 0 for nil. */
int lcl_check_fields(lua_State *L, int idx, int arg, const char *fname, const char *what,
                     const char *const known[]);
/* Pushes the churnlab.options module table (check) for luaopen_churnlab_options. */
int lcl_push_options_lib(lua_State *L);

/* Small option readers for tables of options (idx may be 0 or nil: defaults). */
double lcl_optnum(lua_State *L, int idx, const char *key, double def);
int lcl_optbool(lua_State *L, int idx, const char *key, int def);
const char *lcl_optstr(lua_State *L, int idx, const char *key, const char *def);

/* Numeric vectors from Lua: a 1-D or n x 1 tensor, a Lua sequence of numbers, or any object
 * with a :totable() method (frame columns). The doubles live in a userdata pushed on the
 * stack (so a later error cannot leak them; the GC frees them): keep it there while the
 * pointer is used. Raises a Lua error naming the argument on bad input. Missing values (NaN,
 * nil holes) are kept as NaN for the callee to judge. */
double *lcl_checkvec(lua_State *L, int idx, int64_t *n);
/* Rows x cols matrix as doubles, row-major (2-D tensor or a table of row tables); pushed
 * like lcl_checkvec. */
double *lcl_checkmat(lua_State *L, int idx, int64_t *rows, int *cols);
/* Pushes a 1-D float32 tensor holding v[0..n). */
int lcl_pushvec(lua_State *L, const double *v, int64_t n);

/* Opens every churnlab C module into package.preload and the embedded Lua modules. */
void lcl_openlibs(lua_State *L);

#include "support/progress.h"

#endif
