/* suggest.c - the closest known name to a mistyped one (see suggest.h). */
#include "base/suggest.h"

#include <string.h>

#define MAXLEN 63

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c; }
static int min2(int a, int b) { return a < b ? a : b; }

int cl_suggest_distance(const char *a, const char *b, int cap)
{
    int n = (int)strlen(a), m = (int)strlen(b);
    if (n > MAXLEN || m > MAXLEN || n - m > cap || m - n > cap)
        return CL_SUGGEST_NONE;
    /* three rows of the dynamic programme: i - 2, i - 1 and i */
    int rows[3][MAXLEN + 1];
    for (int j = 0; j <= m; j++)
        rows[0][j] = j;
    int *prev2 = rows[2], *prev = rows[0], *cur = rows[1];
    for (int i = 1; i <= n; i++) {
        cur[0] = i;
        int rowmin = i;
        for (int j = 1; j <= m; j++) {
            int same = lower((unsigned char)a[i - 1]) == lower((unsigned char)b[j - 1]);
            int d = min2(min2(prev[j] + 1, cur[j - 1] + 1), prev[j - 1] + !same);
            if (i > 1 && j > 1 && lower((unsigned char)a[i - 1]) == lower((unsigned char)b[j - 2]) &&
                lower((unsigned char)a[i - 2]) == lower((unsigned char)b[j - 1]))
                d = min2(d, prev2[j - 2] + 1);
            cur[j] = d;
            rowmin = min2(rowmin, d);
        }
        if (rowmin > cap)
            return CL_SUGGEST_NONE;
        int *t = prev2;
        prev2 = prev;
        prev = cur;
        cur = t;
    }
    return prev[m] <= cap ? prev[m] : CL_SUGGEST_NONE;
}

void cl_suggest_consider(const char *typed, const char *cand, const char **best, int *bestd)
{
    size_t len = strlen(typed);
    int cap = len <= 2 ? 0 : len <= 4 ? 1 : len <= 8 ? 2 : 3;
    int d = cl_suggest_distance(typed, cand, cap);
    if (d == 0 && strcmp(typed, cand)) /* only the case differs: the closest miss of all */
        d = 1;
    if (d > 0 && d < *bestd) {
        *best = cand;
        *bestd = d;
    }
}

/* Names other libraries use for churnlab's parameters (one churnlab name may have several). */
static const char *const aliases[][2] = {
    {"n_estimators", "trees"},       {"num_boost_round", "trees"}, {"num_trees", "trees"},
    {"num_iterations", "trees"},     {"learning_rate", "lr"},      {"eta", "lr"},
    {"max_depth", "depth"},          {"num_leaves", "leaves"},     {"max_leaf_nodes", "leaves"},
    {"reg_lambda", "lambda"},        {"reg_alpha", "alpha"},       {"min_split_loss", "gamma"},
    {"colsample_bytree", "colsample"}, {"max_features", "mtry"},   {"max_bin", "max_bins"},
    {"min_samples_leaf", "min_leaf"}, {"min_child_samples", "min_leaf"},
    {"random_state", "seed"},        {"random_seed", "seed"},      {"batch_size", "batch"},
    {"hidden_layer_sizes", "hidden"}, {"units", "hidden"},         {"epsilon", "eps"},
    {"n_factors", "factors"},     {"n_epochs", "epochs"},
    {"iterations", "iters"},         {"regularization", "reg"},    {"n_neighbors", "k"},
    {"n_clusters", "k"},             {"bagging_fraction", "subsample"},
    {"feature_fraction", "colsample"}, {"lambda_l2", "lambda"},    {"lambda_l1", "alpha"},
    {"max_iterations", "max_iter"},
};

const char *cl_suggest_alias(const char *typed)
{
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (!strcmp(typed, aliases[i][0]))
            return aliases[i][1];
    return NULL;
}
