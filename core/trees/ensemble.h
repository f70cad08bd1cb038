/* ensemble.h - what the tree-ensemble models (gbdt.h, forest.h) share: feature names, and the
 * model-file chunks of their parameters, training bins and trees.
 *
 * Parameters go through the model's cl_param_def table (base/param_io.h: "param.<name>"),
 * like every other kind. Files written before issue 14 held them as hand-written
 * "params.<name>" chunks (integers as i64); cl_ensemble_read_params still reads those, by the
 * same table, so an old file loads with exactly the parameters it was written with.
 *
 * The body is: "d", "features" (optional), "bins.nbins" / "bins.is_cat" / "bins.cuts" and
 * the trees under "trees." (tree.h); the kind's own chunks (base score, OOB AUC ...) sit
 * beside it.
 */
#ifndef CL_ENSEMBLE_H
#define CL_ENSEMBLE_H

#include <stdint.h>

#include "base/modelio.h"
#include "base/param.h"
#include "trees/binning.h"
#include "trees/tree.h"

/* Feature names: *names (freed with cl_alloc_strs_free) replaced by copies of src[0..d) (NULL
 * entries become ""); *dp set to d. CL_ENOMEM leaves both untouched. */
int cl_ensemble_set_names(char ***names, int *dp, const char *const *src, int d);
/* Name of feature j, or NULL (no names, or j out of range). */
const char *cl_ensemble_name(char *const *names, int d, int64_t j);

int cl_ensemble_write_params(cl_mw *w, const cl_param_def *defs, const void *params);
/* `params` must hold the kind's defaults; then every parameter in the file (either layout)
 * replaces its default and the result is validated. what: "gbdt file". */
int cl_ensemble_read_params(const cl_mr *r, const cl_param_def *defs, void *params,
                            const char *what);

/* The body of a fitted model (bins must cover d features). */
int cl_ensemble_write_body(cl_mw *w, int d, char *const *names, const cl_binning *bins,
                           const cl_tree *const *trees, int ntrees);
/* Reads the body into fields that must be empty (NULL / 0); on failure they may hold partial
 * results that the caller's free releases (names with d entries, bins, trees with ntrees). */
int cl_ensemble_read_body(const cl_mr *r, int *d, char ***names, cl_binning **bins,
                          cl_tree ***trees, int *ntrees);

#endif
