/* lrec_metrics.h - the list-based ranking metrics table of churnlab.rec (lrec_metrics.c). */
#ifndef LREC_METRICS_H
#define LREC_METRICS_H

#include "support/lcl.h"

/* Pushes a new table of metric functions (precision_at_k ... rmse, mae) with their docs. */
void lrec_push_metrics(lua_State *L);

/* cl.rec.evaluate(model, test[, opts]) (lua/bind/rec_eval.c). */
int lrec_evaluate(lua_State *L);

#endif
