/* lmodel.h - the one Lua class of every churn classifier, and helpers shared by the model
 * bindings (bind/linear.c, bind/mlp.c, bind/trees.c, bind/model.c, bind/metrics.c).
 *
 * The class (lm_kind_push) is made from a kind's cl_model_ops (models/model.h) alone: the
 * constructor validates its table against the kind's cl_param_def table (help() shows it),
 * and every object has fit (-> m), history, predict, predict_proba, decision, contrib (when
 * the kind has exact contributions), save (-> m), params, prior, features, fitted, pipeline,
 * free, __tostring; cl.load reads its files. A binding adds only what its kind has beyond
 * that (m:coef() of logreg, m:shap() of the trees) as an lm_kind_spec.
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

/* ---- the classifier class ----------------------------------------------------------- */

/* A help text: {name, doc}, NULL-terminated lists (support/lcl.h's, for lcl_setdocs). */
typedef lcl_doc lm_doc;

/* What a kind's binding adds to the generic class (every field may be NULL). */
typedef struct lm_kind_spec {
    const luaL_Reg *methods; /* the kind's own methods (m:coef(), m:shap() ...) */
    /* Their help texts. An entry naming a generic method (fit, predict ...) is a note added
     * to the generic text of that method for this kind ("L-BFGS; not converging is ..."). */
    const lm_doc *docs;
    const char *class_doc; /* help(m)'s paragraph; NULL: one made from the kind's names */
    const char *new_doc;   /* the constructor's text; NULL: likewise */
} lm_kind_spec;

/* Makes the class of kind `ops` when it does not exist yet (metatable churnlab.<title>, its
 * parameter table for help(), its loader for cl.load), adds spec's methods and texts (spec may
 * be NULL; a later call with a spec adds to a class made without one), and pushes the
 * kind's constructor: ctor{params} -> an unfitted model. */
void lm_kind_push(lua_State *L, const cl_model_ops *ops, const lm_kind_spec *spec);
/* Pushes a module table {<kind> = constructor, load = the kind's loader} (churnlab.linear). */
void lm_kind_module(lua_State *L, const cl_model_ops *ops, const lm_kind_spec *spec);
/* Pushes the kind's loader: load(path) -> model, an error naming the file when it holds
 * another kind. */
void lm_kind_push_loader(lua_State *L, const cl_model_ops *ops);
/* The model object at idx of class tname ("churnlab.GBDT"): raises like lcl_checkobj. */
cl_model *lm_checkmodel(lua_State *L, int idx, const char *tname);
/* The kind's own C object behind it (a cl_gbdt *, a cl_logreg * ...). */
void *lm_checkimpl(lua_State *L, int idx, const char *tname);
/* Raises "<what>: the <kind> model is not fitted (call m:fit(X, y) first)" before fit. */
void lm_need_fitted(lua_State *L, const cl_model *m, const char *what);
/* Pushes the name of feature j (0-based): the one given to fit, else "x<j+1>". */
void lm_push_feature(lua_State *L, const cl_model *m, int64_t j);
/* Pushes {name of feature 1, ..., of feature d[, last]} (last NULL: none). */
void lm_push_features(lua_State *L, const cl_model *m, const char *last);
/* For churnlab.model: remembers its module table (at idx), where the constructor of a kind
 * that has no binding of its own is put (cl.model.<kind>), and makes cl.load read files of
 * kinds registered after the modules were opened. */
void lm_kinds_init(lua_State *L, int module);
/* load(path) -> a model of whatever classifier kind the file holds. */
int lm_load_any(lua_State *L);

#endif
