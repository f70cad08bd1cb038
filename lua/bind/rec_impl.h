/* rec_impl.h - what the files of the module churnlab.rec share (lua/bind/rec.c registers
 * them; rec_inter.c: interaction matrices, rec_model.c: recommender objects, rec_rank.c:
 * queries, rec_eval.c: evaluate). Not a public header: nothing outside lua/bind/rec*.c
 * includes it. */
#ifndef LREC_IMPL_H
#define LREC_IMPL_H

#include "support/lcl.h"
#include "support/lrec_metrics.h"

#include "rec/similar_users.h"

#define INTER "churnlab.Interactions"
#define REC "churnlab.Recommender"
#define FRAME "churnlab.Frame"

/* ---- labels (rec_inter.c) ---- */
/* Label of the value at idx (integer, integral float or string) into buf; NULL if neither. */
const char *lrec_tolabel(lua_State *L, int idx, char *buf, size_t cap);
/* As lrec_tolabel, raising an argument error naming `what` ("user") when it is neither. */
const char *lrec_checklabel(lua_State *L, int idx, char *buf, size_t cap, const char *what);
/* Pushes label i of m as it was given (an integer for numeric labels, else a string). */
void lrec_pushlabel(lua_State *L, const cl_idmap *m, int64_t i);

/* ---- columns: a Lua sequence, a 1-D tensor or a frame column (rec_inter.c) ---- */
typedef struct lrec_column {
    int idx;             /* stack index, 0 = absent */
    cl_tensor *t;        /* when a tensor */
    const cl_column *fc; /* when a frame column (borrowed from the frame at idx) */
    int64_t n;
    const char *name;
} lrec_column;
/* Pushes element k (0-based) of the column. */
void lrec_colpush(lua_State *L, const lrec_column *c, int64_t k);
/* The user, item, value and time columns from a table of lists/tensors at src or from a
 * frame at src (opts names its columns: user=, item=, value=, time=). */
void lrec_getcolumns(lua_State *L, int src, int opts, lrec_column *cu, lrec_column *ci,
                     lrec_column *cv, lrec_column *ct);

/* ---- boxes ---- */
cl_interactions *lrec_checkinter(lua_State *L, int idx);
/* Pushes a box owning m (one reference); returns 1. */
int lrec_pushinter(lua_State *L, cl_interactions *m);
cl_rec *lrec_checkrec(lua_State *L, int idx);
/* The recommender at idx, raising "<kind>: <what> before fit" when it is not fitted. */
cl_rec *lrec_checkfitted(lua_State *L, int idx, const char *what);

/* Reads a history at idx: a list of item labels, or {items = {...}, values = {...}}. Unknown
 * items are skipped (counted in *unknown); *values is NULL without values. The buffers live
 * in two values pushed on the stack. Returns the number of known items (rec_model.c). */
int64_t lrec_read_history(lua_State *L, const cl_rec *r, int idx, int32_t **items,
                          float **values, int64_t *unknown, const char *what);
/* cl.rec.load(path) and cl.load's loader for every "rec.<kind>" file (rec_model.c). */
int lrec_load(lua_State *L);

/* ---- the functions and methods each file adds (registered by rec.c) ---- */
extern const luaL_Reg lrec_inter_funcs[], lrec_inter_meta[], lrec_inter_methods[];
extern const luaL_Reg lrec_model_funcs[], lrec_model_meta[], lrec_model_methods[];
extern const luaL_Reg lrec_rank_methods[];

#endif
