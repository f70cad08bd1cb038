/* xgboost.c - churnlab.xgboost: models trained by XGBoost, brought in.
 *
 *   local m = cl.xgboost.load("model.json")   -- Booster.save_model("model.json") in Python
 *   m:predict(X); m:shap(X)                    -- a churnlab.GBDT: XGBoost's predictions/SHAP
 *
 * The import itself is core (trees/gbdt.h: cl_xgb_import_gbdt); the result is an ordinary
 * churnlab.GBDT, so every method of a fitted gbdt works on it (save writes a .clm). Export is
 * m:export_xgboost(path) on any gbdt.
 */
#include "support/lcl.h"
#include "support/lmodel.h"

#define T_GBDT "churnlab.GBDT" /* the gbdt's Lua type, registered by churnlab.trees */

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    if (!lua_isnoneornil(L, 2))
        return luaL_argerror(L, 2, "xgboost.load takes one argument (the path of the .json)");
    lua_getglobal(L, "require"); /* the GBDT metatable comes from churnlab.trees */
    lua_pushstring(L, "churnlab.trees");
    lua_call(L, 1, 0);
    lcl_box *b = lcl_newbox(L, T_GBDT); /* the generic model class: a cl_model in the box */
    cl_gbdt *m;
    int rc = cl_xgb_import_gbdt(&m, path);
    if (rc)
        return lcl_raise(L, rc);
    LCL_CHECK(L, cl_model_wrap((cl_model **)&b->obj, cl_model_kinds_ops("gbdt"), m, NULL));
    return 1;
}

static const luaL_Reg funcs[] = {{"load", l_load}, {NULL, NULL}};

int luaopen_churnlab_xgboost(lua_State *L);
int luaopen_churnlab_xgboost(lua_State *L)
{
    luaL_newlib(L, funcs);
    lua_getfield(L, -1, "load");
    lcl_setdoc(L, -1,
               "xgboost.load(path) -> churnlab.GBDT: an XGBoost model saved as JSON "
               "(Booster.save_model('m.json'); objective binary:logistic or "
               "reg:squarederror; numeric splits, and categorical ones of enable_categorical "
               "models with codes 0..254) as a fitted gbdt: predict and shap give "
               "XGBoost's predictions and pred_contribs; save writes a churnlab model file. "
               "params() shows the objective, the tree count and the deepest tree (the JSON "
               "has no training parameters); m:fit_more(X, y, {trees = k}) boosts it further.");
    lua_pop(L, 1);
    lcl_setdoc(L, -1, "churnlab.xgboost: XGBoost JSON models loaded as churnlab gbdt models "
                      "(export: m:export_xgboost(path)).");
    return 1;
}
