/* rec.c - module churnlab.rec: interaction matrices, recommenders, ranking metrics.
 *
 *   local inter = cl.rec.interactions{users = {...}, items = {...}, values = {...}}
 *   local train, test = inter:split{test = 0.2, seed = 1}
 *   local m = cl.rec.als{factors = 64}:fit(train)
 *   local items, scores = m:recommend(user, 10)
 *   print(cl.rec.evaluate(m, test, {k = 10}).ndcg)
 *
 * Labels: users and items keep the labels they were given (integers or strings); results
 * use the same labels. Two types: churnlab.Interactions and churnlab.Recommender (every
 * kind). The ranking metrics are also installed into churnlab.metrics when it exists.
 */
#include "bind/rec_impl.h"

#include <stdio.h>

/* ---- registration ---------------------------------------------------------------------- */

/* The module is cut by concern: rec_inter.c (churnlab.Interactions), rec_model.c
 * (constructors, fit, growth, files), rec_rank.c (recommend, score, similar, explain,
 * predict), rec_eval.c (evaluate); each exports its luaL_Reg tables, and this file puts them
 * together with their help() texts. */

/* cl.rec.search{...}: written in Lua (churnlab.rec_eval.search), loaded when first called so
 * that loading this module does not load that one. */
static int l_search(lua_State *L)
{
    lua_settop(L, 1);
    lua_getglobal(L, "require");
    lua_pushstring(L, "churnlab.rec_eval");
    lua_call(L, 1, 1);
    lua_getfield(L, -1, "search");
    lua_pushvalue(L, 1);
    lua_call(L, 1, 3);
    return 3;
}

static const luaL_Reg funcs[] = {{"evaluate", lrec_evaluate}, {"search", l_search}, {NULL, NULL}};

static const lcl_doc docs[] = {
    {"interactions", "interactions{users = ..., items = ..., values = ..., times = ...}[, {dup = "
                     "\"sum\"|\"last\", base = train}] -> interactions, dropped: a user x item "
                     "matrix from parallel lists or tensors of labels (integers or strings). "
                     "With base, ids are those of base and unknown ones are dropped (counted)."},
    {"random_interactions", "random_interactions{users =, items =, nnz =, skew = 2, seed = 42} "
                            "-> interactions: users uniform, items long-tailed (floor(items * "
                            "U^skew)), ratings 1..5; duplicates merged. For benchmarks."},
    {"popular", "popular{half_life = 0} -> recommender: most-interacted items (time-decayed "
                "with half_life)."},
    {"itemknn", "itemknn{k = 300, shrink = 0, similarity = \"cosine\", normalize = true, "
                "weighting = \"tfidf\", neighbours = \"target\"} -> recommender: item-item "
                "neighbourhood (weighting: none, tfidf or bm25 of the values before the "
                "similarity; neighbours: \"target\", a candidate takes votes only from its own "
                "k most similar items, or \"source\", each history item votes for its k most "
                "similar)."},
    {"mf", "mf{factors = 64, epochs = 40, lr = 0.007, reg = 0.08, biased = true, solver = "
           "\"sgd\", implicit = false, time = false} -> recommender: explicit-rating matrix "
           "factorisation with biases (implicit = true: SVD++; time = true: timeSVD++'s "
           "time-aware biases, from the interactions' times); predict_rating / "
           "predict_ratings."},
    {"als", "als{factors = 64, iters = 15, reg = 30, alpha = 3, cg_steps = 3} -> "
            "recommender: implicit-feedback ALS (Hu, Koren, Volinsky) with conjugate gradient."},
    {"content", "content{features = tensor, items = labels, idf = true} -> recommender: "
                "content-based (TF-IDF genres, standardised numbers), profile = weighted mean."},
    {"hybrid", "hybrid{{model, weight}, ..., fallback = model, min_interactions = 5} -> "
               "recommender: weighted blend of normalised scores, fallback for cold users."},
    {"evaluate", "evaluate(model, test, {k = 10, exclude_seen = true, print = false}) -> "
                 "{precision, recall, map, ndcg, hit_rate, mrr, coverage, novelty, users, "
                 "name[, rmse, mae]}; print = true also prints them as a table."},
    {"ease", "ease{reg = 800, binary = true, dropout = 0, diagonal = \"zero\"} -> "
             "recommender: EASE (Steck 2019), closed-form item-item weights B = -P/diag(P), "
             "P = (X^T X + Lambda)^-1, Lambda = reg I + dropout/(1 - dropout) diag(X^T X); "
             "diagonal = \"free\" drops B_ii = 0: B = I - P Lambda (DLAE, Steck 2020; with "
             "the zero diagonal and dropout > 0: EDLAE); dense items x items."},
    {"bpr", "bpr{factors = 64, epochs = 120, lr = 0.02, reg = 0.02} -> recommender: BPR-MF "
            "(Rendle 2009), pairwise ranking by SGD with sampled negatives (implicit)."},
    {"load", "load(path) -> recommender: raises naming the file when it is missing or corrupt"},
    {"search", "search{kind = \"als\", grid = {reg = {1, 10}, alpha = {2, 5}}, train =, test "
               "=[, fixed = {params}, k = 10, metric = \"ndcg\" (mf: \"rmse\"), random = n, "
               "seed = 1, print = false]} -> best params, best score, rows: fits kind on train "
               "at every grid point (or n points drawn by seed) and evaluates on test (an "
               "existing split: cut a validation part from the training data, not the final "
               "test); rows best first, each evaluate's result with params and score. "
               "make = function(params) -> recommender replaces kind (a hybrid whose weights "
               "are grid dimensions)."},
    {NULL, NULL}};

static const lcl_doc method_docs[] = {
    {"fit", "m:fit(interactions[, {verbose =, features =, items =}]) -> m: trains; content "
            "models take their item features here or at construction. Ctrl-C interrupts: the "
            "model is then unfitted (an earlier fit is dropped when a refit starts)."},
    {"recommend", "m:recommend(user, k[, {exclude_seen = true, filter = fn(item, score), "
                  "candidates = {items}}]) -> items, scores, fallback: best first (only the "
                  "candidates ranked when given; an unknown candidate is an error); fallback "
                  "is \"popular\" when popularity answered (an unknown user or one without "
                  "interactions: cold start), else nil (mf answers those with its bias "
                  "baseline)."},
    {"recommend_all", "m:recommend_all(k[, {exclude_seen = true}]) -> {user = {items}}, "
                      "{user = {scores}}: every user, in parallel."},
    {"recommend_for", "m:recommend_for(history, k[, opts]) -> items, scores, unknown, "
                      "fallback: from a fresh list of item labels (or {items =, values =}; mf "
                      "needs the values, als refuses negative ones) without retraining (ALS/MF: "
                      "one small solve); unknown counts labels the model does not know; "
                      "fallback is \"popular\" when no known item was left (cold start). "
                      "Options as recommend (exclude_seen, filter, candidates)."},
    {"score", "m:score(user, {items}) -> {scores} (nil for unknown items)."},
    {"add_user", "m:add_user(user, history) -> m, unknown: adds a new user to the fitted model "
                 "without refitting (history as for recommend_for: labels or {items =, values ="
                 "}; mf needs values). mf/als keep the fold-in factors; other users' results "
                 "are unchanged. unknown = history items not in the model (skipped)."},
    {"add_item", "m:add_item(item[, {users = {...}, values = {...}, features = {...}}]) -> m, "
                 "unknown: adds a new item: mf/als fold its factors in from the users' values "
                 "(mf needs values), popular counts them, content needs features (in the "
                 "fitted column order), hybrid grows every component; itemknn refuses (refit). "
                 "unknown = users not in the model (skipped)."},
    {"similar_items", "m:similar_items(item, k) -> items, similarities."},
    {"similar_users", "m:similar_users(user, k = 10) -> users, similarities, because: the k "
                      "users whose training interactions are most like the user's (cosine of "
                      "their value rows, the same for every kind), best first; because[j] "
                      "lists up to 3 items both have, those adding most to the similarity "
                      "(\"you both watched ...\"). An unknown user is an error."},
    {"explain", "m:explain(user or {items}, item[, k = 3]) -> items, similarities: \"because "
                "you watched ...\": the k items of the user's training history (or of the "
                "given items) most similar to item by the model's own item similarity (as "
                "similar_items); empty for an unknown user."},
    {"predict_rating", "m:predict_rating(user, item) -> rating (mf; unknown ids fall back to "
                       "the biases)."},
    {"predict_ratings", "m:predict_ratings({users =, items =[, times =]} | frame, {user =, "
                        "item =[, time =]}) -> tensor of ratings (mf; a model fitted with time "
                        "= true uses the times, else its latest time bin)."},
    {"save", "m:save(path) -> m: the model and its training interactions (cl.load reads it)."},
    {"params", "m:params() -> {name = value}"},
    {"kind", "m:kind() -> name: the recommender's kind ('popular', 'itemknn', 'mf', 'als', "
             "'content' or 'hybrid'; help(cl.rec.<kind>) lists its parameters)."},
    {"fit_time", "m:fit_time() -> seconds: wall time of the last fit (0 before fit)."},
    {"interactions", "m:interactions() -> interactions: the training matrix the model was "
                     "fitted on (shared, not copied; saved with the model). An error before "
                     "fit."},
    {NULL, NULL}};

static const lcl_doc inter_docs[] = {
    {"shape", "x:shape() -> users, items: the matrix's dimensions (distinct labels)."},
    {"nnz", "x:nnz() -> count: the stored (user, item) pairs, after merging duplicates."},
    {"duplicates", "x:duplicates() -> count: repeated (user, item) pairs merged while building "
                   "(by the dup rule: summed, or the last kept)."},
    {"users", "x:users() -> {labels}: user labels in index order (label i is row i of the "
              "matrix)."},
    {"items", "x:items() -> {labels}: item labels in index order."},
    {"user_items", "x:user_items(user) -> items, values [, times]: one user's item labels and "
                   "values in item index order, plus their times when the matrix has them; "
                   "empty lists for an unknown user."},
    {"split", "x:split{test = 0.2, seed = 42} or x:split{last = n} -> train, test: a per-user "
              "random holdout of round(test * n_u) of each user's interactions, or each user's "
              "n latest (needs times); every user keeps at least one training interaction and "
              "both parts keep the full user and item labels."},
    {"has", "x:has(user, item) -> boolean: whether the pair is stored (false for unknown "
            "labels)."},
    {NULL, NULL}};

int luaopen_churnlab_rec(lua_State *L);
int luaopen_churnlab_rec(lua_State *L)
{
    lcl_createmeta(L, INTER, lrec_inter_meta, lrec_inter_methods);
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, inter_docs);
    lua_pop(L, 1); /* __index */
    lcl_setdoc(L, -1, "churnlab.Interactions: a sparse user x item matrix from "
                      "cl.rec.interactions{...}, what recommenders fit on: x:shape(), x:nnz(), "
                      "x:users(), x:items(), x:user_items(user), x:has(user, item), "
                      "x:split{...}.");
    lua_pop(L, 1);
    lcl_createmeta(L, REC, lrec_model_meta, lrec_model_methods);
    lua_getfield(L, -1, "__index");
    luaL_setfuncs(L, lrec_rank_methods, 0);
    lcl_setdocs(L, -1, method_docs);
    lua_pop(L, 1);
    lcl_setdoc(L, -1, "churnlab.Recommender: fit(interactions), recommend(user, k, {exclude_seen, "
                      "filter}), recommend_all(k), recommend_for(history, k), score(user, items), "
                      "similar_items(item, k), similar_users(user, k), predict_rating(user, "
                      "item) (mf), save(path).");
    lua_pop(L, 1);
    for (int k = 0; k < CL_REC_NKINDS; k++) {
        const cl_rec_ops *ops = cl_rec_kind_ops(k);
        char kind[64];
        snprintf(kind, sizeof kind, "rec.%s", ops->name);
        lcl_register_loader(L, kind, lrec_load); /* cl.load reads every kind's files */
        lcl_register_params(L, ops->name, ops->defs); /* help(cl.rec.als) lists them */
    }
    luaL_newlib(L, funcs);
    luaL_setfuncs(L, lrec_inter_funcs, 0);
    luaL_setfuncs(L, lrec_model_funcs, 0);
    lcl_setdocs(L, -1, docs);
    /* metrics: always under rec.metrics; also into churnlab.metrics when that module exists */
    lrec_push_metrics(L);
    lua_setfield(L, -2, "metrics");
    lua_getglobal(L, "require");
    lua_pushstring(L, "churnlab.metrics");
    if (lua_pcall(L, 1, 1, 0) == LUA_OK && lua_istable(L, -1)) {
        lua_getfield(L, -2, "metrics");
        lua_pushnil(L);
        while (lua_next(L, -2)) { /* stack: rec, cl.metrics, rec.metrics, name, fn */
            lua_pushvalue(L, -2);
            if (lua_rawget(L, -5) == LUA_TNIL) { /* never replace the owner's own */
                lua_pop(L, 1);
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -5);
            } else {
                lua_pop(L, 2);
            }
        }
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    return 1;
}

