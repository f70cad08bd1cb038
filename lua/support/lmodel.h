/* lmodel.h - helpers shared by the model bindings (l_linear.c, l_mlp.c, l_metrics.c).
 *
 * Argument readers raise Lua errors before any C allocation is made, so they never leak;
 * when a tensor is not contiguous the packed copy is pushed on the Lua stack (owned by the
 * collector) and the returned pointer stays valid while it is there.
 */
#ifndef LMODEL_H
#define LMODEL_H

#include "support/lcl.h"

/* X at idx: a 2-D tensor (n x d, n >= 1); a 1-D tensor counts as n x 1. Contiguous data. */
const float *lm_matrix(lua_State *L, int idx, const char *what, int64_t *n, int64_t *d);
/* A vector of n values at idx: 1-D of n, or 2-D n x 1 / 1 x n. */
const float *lm_vector(lua_State *L, int idx, const char *what, int64_t n);

/* Feature names from opts.names (a list of d strings) into a GC-owned array of borrowed
 * strings (valid while opts is alive); NULL when absent. */
const char **lm_names(lua_State *L, int opts, int64_t d);

/* Pushes {v[0], ..., v[n-1]} (NaN entries become nil, so plots skip them). */
void lm_push_numbers(lua_State *L, const double *v, int64_t n);
/* Pushes a new float32 1-D tensor of n values from v. */
void lm_push_vector(lua_State *L, const float *v, int64_t n);
void lm_push_dvector(lua_State *L, const double *v, int64_t n);

/* Copies the parameter table at idx without the keys in `skip` (NULL-terminated) and
 * pushes the copy; returns its index. Used to take out table-valued parameters
 * (class_weight = {[0] = 1, [1] = 3}) before lcl_params. */
int lm_params_without(lua_State *L, int idx, const char *const *skip);

/* class_weight as a table {[0] = w0, [1] = w1} at idx (a params table): returns 1 and sets
 * w0, w1 when present as a table, 0 otherwise. Raises on a malformed table. */
int lm_class_weight_table(lua_State *L, int idx, double *w0, double *w1);

/* Saves through the writer to path; frees w; raises on failure. With opts.pipeline (a fitted
 * churnlab.Pipeline) or a pipeline already attached to the model box at `model`, the
 * pipeline is stored in the same file under the chunk prefix "pipeline." and attached. */
void lm_save(lua_State *L, cl_mw *w, const char *path, int opts, int model);

/* After loading a model box at `model` from r: when the file holds a pipeline, reads it and
 * attaches it (uservalue 1), so m:predict(frame) scores raw frames. Returns a status. */
int lm_load_pipeline(lua_State *L, const cl_mr *r, int model);

/* When the argument at idx is a churnlab.Frame and the model at `model` carries a
 * pipeline, replaces it with the pipeline's X tensor for that frame. It calls into Lua (the
 * pipeline's transform), so it may raise, Ctrl-C's "interrupted!" included: call it before
 * the binding takes any C memory (every caller does, first thing). */
void lm_frame_input(lua_State *L, int model, int idx);

/* Fit options: raises on a key not in `known` (NULL-terminated), naming the known ones, and
 * attaches opts.pipeline (a fitted churnlab.Pipeline) to the model box at `model`. */
void lm_fit_options(lua_State *L, int opts, int model, const char *const *known);

/* predict options at idx (nil or a table) -> a cl_predict_mode: {margin = true} gives the raw
 * score; {prior_correction = false} the probabilities as fitted on reweighted data,
 * {prior_correction = true} corrected ones whatever the model's parameter says; neither: the
 * parameter decides. Raises on unknown keys, non-boolean values and both keys at once. */
int lm_predict_mode(lua_State *L, int idx);

/* Pushes m:prior() for rates (NaN: not recorded) and whether predict corrects: nil when not
 * recorded, else {trained_rate =, true_rate =, corrected =, shift =} (shift: the log-odds
 * added to the margin, 0 when no correction applies). */
void lm_push_prior(lua_State *L, double trained, double truth, int corrected);

/* m:pipeline() -> the attached churnlab.Pipeline or nil. */
int lm_pipeline_method(lua_State *L);

/* help() texts of methods every model class has the same way: lm_pipeline_method is one C
 * function for them all, so every binding records the same text for it. */
#define LM_DOC_PIPELINE                                                                        \
    "m:pipeline() -> pipeline | nil: the churnlab.Pipeline attached to the model (by fit's or "  \
    "save's pipeline option, or read back from its model file): m:predict(frame) transforms "  \
    "raw frames through it and m:save(path) stores it in the same file. nil when none."
#define LM_DOC_FREE                                                                            \
    "m:free(): releases the model's C memory now instead of at garbage collection; any later " \
    "use of m is an error ('attempt to use a freed ...'). Calling it twice is harmless."
#define LM_DOC_PARAMS                                                                          \
    "m:params() -> {name = value}: every parameter of the model, defaults filled in (help(m) "  \
    "lists their meaning and ranges)."

#endif
