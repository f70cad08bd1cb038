/* suggest.h - "did you mean ...?" for a mistyped name (unknown parameters and options).
 *
 *   const char *best = NULL;
 *   int bestd = CL_SUGGEST_NONE;
 *   for (each known name k) cl_suggest_consider(typed, k, &best, &bestd);
 *   if (best) ... "did you mean '%s'?" ...
 *
 * Names are compared by optimal-string-alignment distance (insertions, deletions,
 * substitutions and swaps of two neighbours each cost 1), ignoring ASCII case. A candidate is
 * close when the distance is at most 0 for names of 1 or 2 characters (only the case may
 * differ: "c" is no typo of "a"), 1 up to 4, 2 up to 8, and 3 beyond (the typed name's
 * length): "tres" -> "trees", "max_depht" -> "max_depth", "Header" -> "header". Ties keep the
 * first candidate, so the suggestion follows the known list's order.
 */
#ifndef CL_SUGGEST_H
#define CL_SUGGEST_H

#define CL_SUGGEST_NONE 1000

/* The distance between a and b, or CL_SUGGEST_NONE when it exceeds `cap` (or a name is longer
 * than 63 characters). */
int cl_suggest_distance(const char *a, const char *b, int cap);

/* Keeps in *best the closest candidate so far (and its distance in *bestd, which starts at
 * CL_SUGGEST_NONE) when `cand` is close to `typed` and closer than *best. An exact match is not
 * a suggestion; a name that differs only in case counts as distance 1. */
void cl_suggest_consider(const char *typed, const char *cand, const char **best, int *bestd);

/* The churnlab name of a parameter as scikit-learn, XGBoost, LightGBM or Keras spell it
 * ("n_estimators" -> "trees", "learning_rate" -> "lr", "max_depth" -> "depth", "batch_size" ->
 * "batch", "random_state" -> "seed"), or NULL. A caller offers it only when that name is one of
 * its own. */
const char *cl_suggest_alias(const char *typed);

#endif
