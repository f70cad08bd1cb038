/* mlp.c - module churnlab.mlp: the dense network.
 *
 *   local m = cl.mlp{hidden = {64, 64}, epochs = 20, lr = 1e-3, seed = 1}
 *   m:fit(X, y, {valid = {Xv, yv}, early_stop = 10, names = names})   -- -> m
 *   local h = m:history()            -- loss, val_loss, val_auc, lr per epoch ...
 *   local p = m:predict(Xt)          -- P(y = 1), float32 tensor (prior-corrected after
 *                                    -- class weights; {prior_correction = false} opts out)
 *   m:save("churn.clm");  local m2 = cl.load("churn.clm")
 *
 * The lifecycle is the generic classifier class of support/lmodel.c over cl_mlp_model_ops;
 * this file adds the network's own accessors and makes the module callable (cl.mlp{...}).
 */
#include "support/lmodel.h"

#define MLP_T "churnlab.MLP"

static cl_mlp *check(lua_State *L) { return lm_checkimpl(L, 1, MLP_T); }

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

static const luaL_Reg methods[] = {{"names", m_names}, {"nparams", m_nparams}, {NULL, NULL}};

static const lm_doc docs[] = {
    {"fit", "The mlp trains from fresh weights (a refit restarts from the seed). With a "
            "validation set the model ends with the weights of the epoch of lowest validation "
            "loss; history() has loss, val_loss, val_auc and lr per epoch (val_* empty without "
            "validation), epochs, best_epoch and stopped_early. Ctrl-C raises an error and "
            "leaves the weights of the last complete epoch (the best one with a validation "
            "set)."},
    {"decision", "For the mlp: the logits."},
    {"names", "m:names() -> {name, ...}: the feature names given to fit (empty without them)."},
    {"nparams", "m:nparams() -> count: trainable weights and biases of the network."},
    {NULL, NULL}};

static const lm_kind_spec spec = {
    methods, docs,
    "churnlab.MLP: dense network for binary targets. m:fit(X, y [, {valid = {Xv, yv}, "
    "early_stop = k, names = {...}, verbose = true}]) -> m; m:history() -> loss per epoch ...; "
    "m:predict(X) -> P(y = 1); m:decision(X) -> logits; m:save(path [, {pipeline = p}]) -> m; "
    "m:params(); m:names().",
    "mlp{hidden = {64, 64}, activation = 'relu', epochs = 20, lr = 1e-3, batch = 32, ...} -> "
    "churnlab.MLP (see help('mlp') for every parameter)"};

/* The module table is callable, so cl.mlp{...} works (cl.mlp is the module). */
static int l_call(lua_State *L)
{
    lua_remove(L, 1);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, lua_gettop(L) - 1, 1);
    return 1;
}

int luaopen_churnlab_mlp(lua_State *L);
int luaopen_churnlab_mlp(lua_State *L)
{
    lm_kind_module(L, &cl_mlp_model_ops, &spec);
    lua_createtable(L, 0, 1);
    lua_getfield(L, -2, "mlp");
    lua_pushcclosure(L, l_call, 1);
    lua_setfield(L, -2, "__call");
    lua_setmetatable(L, -2);
    return 1;
}
