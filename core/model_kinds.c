/* kinds.c - the registered churn classifier kinds (models/model.h).
 *
 * It sits above every model folder (models/, trees/), so that the generic loader can list
 * them without a folder depending on one above it. A new kind adds its ops table here. */
#include "models/logreg.h"
#include "models/mlp.h"
#include "models/model.h"
#include "trees/forest.h"
#include "trees/gbdt.h"

const cl_model_ops *const cl_model_kinds[] = {&cl_logreg_model_ops, &cl_mlp_model_ops,
                                              &cl_gbdt_model_ops,   &cl_forest_model_ops,
                                              &cl_forest_tree_model_ops,   NULL};
