/* mlp.c - module churnlab.mlp: the dense network as a Lua object.
 *
 *   local m = cl.mlp{hidden = {64, 64}, epochs = 20, lr = 1e-3, seed = 1}
 *   local h = m:fit(X, y, {valid = {Xv, yv}, early_stop = 10, names = names})
 *   local p = m:predict(Xt)          -- P(y = 1), float32 tensor (prior-corrected after
 *                                    -- class weights; {prior_correction = false} opts out)
 *   m:save("churn.clm");  local m2 = cl.load("churn.clm")
 */
#include "support/lmodel.h"

#include <math.h>
#include <string.h>

#define MLP_T "churnlab.MLP"

static cl_mlp *check(lua_State *L) { return lcl_checkobj(L, 1, MLP_T); }

static int l_new(lua_State *L)
{
    static const char *const skip[] = {"class_weight", NULL};
    static const char *const none[] = {NULL};
    cl_mlp_params p;
    cl_mlp_params_default(&p);
    double w0, w1;
    int cw = lm_class_weight_table(L, 1, &w0, &w1);
    int t = lm_params_without(L, 1, cw ? skip : none);
    lcl_params(L, t, cl_mlp_param_defs, &p, "mlp");
    if (cw) {
        p.neg_weight *= w0;
        p.pos_weight *= w1;
    }
    lcl_box *b = lcl_newbox(L, MLP_T);
    LCL_CHECK(L, cl_mlp_new((cl_mlp **)&b->obj, &p));
    return 1;
}

static int m_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, MLP_T);
    cl_mlp_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int m_tostring(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, MLP_T);
    if (!b->obj) {
        lua_pushstring(L, MLP_T " (freed)");
        return 1;
    }
    char buf[256];
    lua_pushfstring(L, MLP_T " %s", cl_mlp_describe(b->obj, buf, sizeof buf));
    return 1;
}

/* Runs under lua_pcall with the history as a light userdata: pushes it as a table. */
static int push_history(lua_State *L)
{
    const cl_mlp_history *h = lua_touserdata(L, 1);
    lua_createtable(L, 0, 8);
    lm_push_numbers(L, h->loss, h->epochs);
    lua_setfield(L, -2, "loss");
    lm_push_numbers(L, h->val_loss, h->epochs);
    lua_setfield(L, -2, "val_loss");
    lm_push_numbers(L, h->val_auc, h->epochs);
    lua_setfield(L, -2, "val_auc");
    lm_push_numbers(L, h->lr, h->epochs);
    lua_setfield(L, -2, "lr");
    lua_pushinteger(L, h->epochs);
    lua_setfield(L, -2, "epochs");
    lua_pushinteger(L, h->best_epoch);
    lua_setfield(L, -2, "best_epoch");
    lua_pushboolean(L, h->stopped_early);
    lua_setfield(L, -2, "stopped_early");
    return 1;
}

/* fit(X, y [, opts]) -> history {loss = {...}, val_loss = {...}, val_auc = {...}, lr = {...},
 * epochs = n, best_epoch = k, stopped_early = bool}. opts: valid = {Xv, yv} or
 * valid_split = f (the last f of the rows), early_stop, names, verbose. */
static int m_fit(lua_State *L)
{
    cl_mlp *m = check(L);
    int64_t n, d, nv = 0, dv;
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    const float *y = lm_vector(L, 3, "y", n);
    int opts = lua_isnoneornil(L, 4) ? 0 : 4;
    static const char *const known[] = {"valid", "valid_split", "early_stop", "names",
                                        "verbose", "pipeline", NULL};
    lm_fit_options(L, opts, 1, known);
    cl_mlp_fit_opts fo = {NULL, NULL, 0, 0};
    if (opts && lua_getfield(L, opts, "valid") != LUA_TNIL) {
        int vt = lua_gettop(L);
        if (!lua_istable(L, vt))
            return luaL_error(L, "option 'valid' must be a table {Xv, yv}, got %s",
                              luaL_typename(L, vt));
        lua_geti(L, vt, 1);
        fo.Xv = lm_matrix(L, -1, "valid[1] (Xv)", &nv, &dv);
        if (dv != d)
            return luaL_error(L, "valid[1] (Xv) has %I columns, X has %I", (lua_Integer)dv,
                              (lua_Integer)d);
        lua_geti(L, vt, 2);
        fo.yv = lm_vector(L, -1, "valid[2] (yv)", nv);
        fo.nv = nv;
    }
    /* valid_split = f: the last f of the rows validate, as Keras' validation_split (taken
     * before any shuffling, so the same rows whatever the seed) */
    double vs = lcl_optnum(L, opts, "valid_split", 0);
    if (!(vs >= 0 && vs < 1))
        return luaL_error(L, "option 'valid_split' must be a fraction in [0, 1), got %f", vs);
    if (vs > 0) {
        if (fo.Xv)
            return luaL_error(L, "give option 'valid' or 'valid_split', not both");
        int64_t nvs = (int64_t)floor(vs * (double)n);
        if (nvs < 1 || nvs >= n)
            return luaL_error(L, "option 'valid_split' = %f leaves %I validation rows of %I "
                              "(need at least 1 on each side)", vs, (lua_Integer)nvs,
                              (lua_Integer)n);
        n -= nvs;
        fo.Xv = X + n * d;
        fo.yv = y + n;
        fo.nv = nvs;
    }
    double es = lcl_optnum(L, opts, "early_stop", 0);
    if (!(es >= 0 && es <= 1e6) || es != floor(es))
        return luaL_error(L, "option 'early_stop' must be a whole number of epochs >= 0");
    fo.early_stop = (int)es;
    const char **names = lm_names(L, opts, d);
    if (names)
        LCL_CHECK(L, cl_mlp_set_names(m, names, d));
    cl_progress *prog = lcl_progress_new(L, opts);
    cl_mlp_history h;
    int rc = cl_mlp_fit(m, X, y, n, d, &fo, &h, prog);
    lcl_progress_end(prog); /* close the bar now: after early stopping, an error or Ctrl-C too */
    lua_pop(L, 1); /* progress */
    if (rc && rc != CL_EINTR)
        return lcl_raise(L, rc);
    if (rc == CL_EINTR) {
        cl_mlp_history_free(&h);
        return lcl_raise(L, rc); /* the model keeps its last complete epoch (see mlp.h) */
    }
    /* the history's arrays are C memory: build the table under pcall so a Lua memory error
     * cannot leak them, free them, then raise or return */
    lua_pushcfunction(L, push_history);
    lua_pushlightuserdata(L, &h);
    int st = lua_pcall(L, 1, 1, 0);
    cl_mlp_history_free(&h);
    if (st != LUA_OK)
        return lua_error(L);
    return 1;
}

static int predict_common(lua_State *L, int prob)
{
    cl_mlp *m = check(L);
    int64_t n, d;
    int mode = prob ? lm_predict_mode(L, 3) : CL_PREDICT_MARGIN;
    lm_frame_input(L, 1, 2);
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    cl_tensor *out;
    LCL_CHECK(L, cl_tensor_new(&out, 1, n, 1));
    int rc = cl_mlp_predict_mode(m, X, n, d, cl_tensor_data(out), mode);
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    return lcl_pushtensor(L, out);
}

static int m_predict(lua_State *L) { return predict_common(L, 1); }
static int m_decision(lua_State *L) { return predict_common(L, 0); }

/* prior() -> {trained_rate, true_rate, corrected, shift} or nil (see lmodel.h) */
static int m_prior(lua_State *L)
{
    cl_mlp *m = check(L);
    double tr, tt;
    int on = cl_mlp_prior(m, &tr, &tt);
    if (!cl_mlp_fitted(m))
        return luaL_error(L, "mlp: not fitted yet (call m:fit(X, y) first)");
    lm_push_prior(L, tr, tt, on);
    return 1;
}

static int m_params(lua_State *L)
{
    lcl_push_params(L, cl_mlp_param_defs, cl_mlp_params_of(check(L)));
    return 1;
}

static int m_names(lua_State *L)
{
    cl_mlp *m = check(L);
    int64_t d = cl_mlp_inputs(m);
    lua_createtable(L, (int)d, 0);
    for (int64_t j = 0; j < d; j++) {
        const char *s = cl_mlp_name(m, j);
        if (!s)
            break;
        lua_pushstring(L, s);
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

static int m_nparams(lua_State *L)
{
    lua_pushinteger(L, (lua_Integer)cl_mlp_nparams(check(L)));
    return 1;
}

static int m_fitted(lua_State *L)
{
    lua_pushboolean(L, cl_mlp_fitted(check(L)));
    return 1;
}

static int m_save(lua_State *L)
{
    cl_mlp *m = check(L);
    const char *path = luaL_checkstring(L, 2);
    static const char *const known[] = {"pipeline", NULL}; /* before the writer exists */
    lcl_check_options(L, 3, "save", known);
    cl_mw *w = cl_mw_new("mlp");
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    int rc = cl_mlp_save(m, w);
    if (rc) {
        cl_mw_free(w);
        return lcl_raise(L, rc);
    }
    lm_save(L, w, path, lua_isnoneornil(L, 3) ? 0 : 3, 1);
    lua_settop(L, 1); /* save returns the model (DESIGN: "Models share one shape") */
    return 1;
}

/* Loader for cl.load: kind "mlp". */
static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cl_mr *r;
    int rc = cl_mr_open(&r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lcl_box *b = lcl_newbox(L, MLP_T);
    rc = cl_mlp_load((cl_mlp **)&b->obj, r);
    if (rc == CL_OK)
        rc = lm_load_pipeline(L, r, -1);
    cl_mr_free(r);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lcl_gc_check(L);
    return 1;
}

static const luaL_Reg methods[] = {
    {"fit", m_fit},       {"predict", m_predict}, {"decision", m_decision},
    {"params", m_params}, {"prior", m_prior},   {"names", m_names},     {"nparams", m_nparams},
    {"fitted", m_fitted}, {"save", m_save},       {"free", m_gc},
    {"pipeline", lm_pipeline_method},
    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", m_gc}, {"__close", m_gc}, {"__tostring", m_tostring}, {NULL, NULL}};

/* The module table is callable, so cl.mlp{...} works (cl.mlp is the module). */
static int l_call(lua_State *L)
{
    lua_remove(L, 1);
    return l_new(L);
}

static const luaL_Reg funcs[] = {{"mlp", l_new}, {"load", l_load}, {NULL, NULL}};

static const struct {
    const char *name, *doc;
} method_docs[] = {
    {"fit", "m:fit(X, y [, {valid = {Xv, yv} | valid_split = f, early_stop = k, names = {...}, "
            "pipeline = p, verbose}]) -> history {loss, val_loss, val_auc, lr (lists per epoch), epochs, "
            "best_epoch, stopped_early}: trains from fresh weights (a refit restarts from the "
            "seed) on X (n x d float32) and y (0/1). With valid the model ends with the weights "
            "of the epoch of lowest validation loss, and early_stop = k stops after k epochs "
            "without improvement; valid_split = f validates on the last f of the rows instead (as "
            "Keras' validation_split) and trains on the others; val_loss and val_auc are empty "
            "lists without valid."},
    {"decision", "m:decision(X) -> 1-D tensor of logits (the margin, never prior-corrected; "
                 "m:predict(X, {margin = true}) is the same)."},
    {"params", LM_DOC_PARAMS},
    {"names", "m:names() -> {name, ...}: the feature names given to fit (empty without them)."},
    {"nparams", "m:nparams() -> count: trainable weights and biases of the network."},
    {"fitted", "m:fitted() -> boolean: true once an epoch has completed (or for a loaded "
               "model)."},
    {"save", "m:save(path [, {pipeline = p}]) -> true: writes the model file atomically (with "
             "the pipeline given or attached); cl.load(path) reads it back. Raises when it "
             "cannot be written."},
    {"pipeline", LM_DOC_PIPELINE},
    {"free", LM_DOC_FREE},
    {NULL, NULL}};

int luaopen_churnlab_mlp(lua_State *L);
int luaopen_churnlab_mlp(lua_State *L)
{
    lcl_createmeta(L, MLP_T, meta, methods);
    lua_getfield(L, -1, "__index");
    for (int i = 0; method_docs[i].name; i++) {
        lua_getfield(L, -1, method_docs[i].name);
        lcl_setdoc(L, -1, method_docs[i].doc);
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "predict");
    lcl_setdoc(L, -1, "m:predict(X [, {margin = true} | {prior_correction = false|true}]) -> P(y = 1). After class weights (balanced, a table, pos_weight/neg_weight) the probabilities are mapped back to the true churn rate of the training labels (prior correction: odds times (truth/(1-truth)) / (trained/(1-trained)), see m:prior()) unless parameter prior_correction = false; the option overrides the parameter for one call. margin = true: the raw log-odds, never corrected (what m:decision(X) gives and linear SHAP adds up to).");
    lua_getfield(L, -2, "prior");
    lcl_setdoc(L, -1, "m:prior() -> {trained_rate, true_rate, corrected, shift} or nil: the positive rate of the reweighted data the model was fitted to, the true rate of its training labels, whether predict corrects, and the log-odds shift it adds to the margin (0 when it does not). nil for a model file written before the rates were recorded (never corrected).");
    lua_pop(L, 3);
    lcl_setdoc(L, -1,
               "churnlab.MLP: dense network for binary targets. m:fit(X, y [, {valid = {Xv, "
               "yv}, early_stop = k, names = {...}, verbose = true}]) -> history; "
               "m:predict(X) -> P(y = 1); m:decision(X) -> logits; m:save(path [, {pipeline "
               "= p}]); m:params(); m:names(). Ctrl-C during fit raises an error and leaves "
               "the weights of the last complete epoch (the best one with a validation set).");
    lua_pop(L, 1);
    lcl_register_params(L, "mlp", cl_mlp_param_defs);
    lcl_register_loader(L, "mlp", l_load);
    luaL_newlib(L, funcs);
    lua_getfield(L, -1, "load");
    lcl_setdoc(L, -1, "load(path) -> churnlab.MLP | nil, msg: reads an mlp model file (and the "
                      "pipeline saved with it); cl.load(path) reads any kind.");
    lua_pop(L, 1);
    lua_getfield(L, -1, "mlp");
    lcl_setdoc(L, -1, "mlp{hidden = {64, 64}, activation = 'relu', epochs = 20, lr = 1e-3, "
                      "batch = 32, ...} -> churnlab.MLP (see help('mlp') for every parameter)");
    lua_pop(L, 1);
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, l_call);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
