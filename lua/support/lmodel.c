/* lmodel.c - helpers shared by the model bindings. */
#include "support/lmodel.h"

#include <math.h>
#include <string.h>

#include "models/prior.h"
#include "frame/prep.h"

const float *lm_matrix(lua_State *L, int idx, const char *what, int64_t *n, int64_t *d)
{
    idx = lua_absindex(L, idx);
    cl_tensor *t = lcl_testtensor(L, idx);
    if (!t) {
        const char *got = luaL_typename(L, idx);
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
            got = lua_tostring(L, -1);
        luaL_argerror(L, idx, lua_pushfstring(L, "%s must be a churnlab.Tensor, got %s", what, got));
    }
    if (!t)
        return NULL;
    *n = cl_tensor_rows(t);
    *d = cl_tensor_cols(t);
    if (*n < 1 || *d < 1) {
        char buf[48];
        luaL_argerror(L, idx, lua_pushfstring(L, "%s is empty (%s)", what,
                                              cl_tensor_shape_str(t, buf, sizeof buf)));
    }
    if (cl_tensor_is_contiguous(t))
        return cl_tensor_data(t);
    cl_tensor *c;
    int rc = cl_tensor_contiguous(&c, t);
    if (rc)
        lcl_raise(L, rc);
    lcl_pushtensor(L, c);
    return cl_tensor_data(c);
}

const float *lm_vector(lua_State *L, int idx, const char *what, int64_t n)
{
    idx = lua_absindex(L, idx);
    int64_t r, c;
    cl_tensor *t = lcl_testtensor(L, idx);
    const float *v = lm_matrix(L, idx, what, &r, &c);
    if (!(t->ndim == 1 || r == 1 || c == 1) || r * c != n) {
        char buf[48];
        luaL_argerror(L, idx, lua_pushfstring(L, "%s has shape %s, expected %I values to match X",
                                              what, cl_tensor_shape_str(t, buf, sizeof buf),
                                              (lua_Integer)n));
    }
    return v;
}

const char **lm_names(lua_State *L, int opts, int64_t d)
{
    if (!opts || lua_isnoneornil(L, opts))
        return NULL;
    if (lua_getfield(L, opts, "names") == LUA_TNIL) {
        lua_pop(L, 1);
        return NULL;
    }
    if (!lua_istable(L, -1))
        luaL_error(L, "option 'names' must be a list of %I strings, got %s", (lua_Integer)d,
                   luaL_typename(L, -1));
    if (luaL_len(L, -1) != d)
        luaL_error(L, "option 'names' has %I names but X has %I columns", luaL_len(L, -1),
                   (lua_Integer)d);
    const char **v = lua_newuserdatauv(L, sizeof(char *) * (size_t)d, 0);
    for (int64_t j = 0; j < d; j++) {
        lua_geti(L, -2, j + 1);
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "option 'names': entry %I is a %s, expected a string", (lua_Integer)j + 1,
                       luaL_typename(L, -1));
        v[j] = lua_tostring(L, -1); /* kept alive by the names table */
        lua_pop(L, 1);
    }
    lua_remove(L, -2); /* the names table stays referenced by opts */
    return v;
}

void lm_push_numbers(lua_State *L, const double *v, int64_t n)
{
    lua_createtable(L, (int)n, 0);
    for (int64_t i = 0; i < n; i++) {
        if (isnan(v[i]))
            continue;
        lua_pushnumber(L, v[i]);
        lua_rawseti(L, -2, i + 1);
    }
}

void lm_push_vector(lua_State *L, const float *v, int64_t n)
{
    cl_tensor *t;
    int rc = cl_tensor_from_data(&t, 1, n, 1, v);
    if (rc)
        lcl_raise(L, rc);
    lcl_pushtensor(L, t);
}

void lm_push_dvector(lua_State *L, const double *v, int64_t n)
{
    cl_tensor *t;
    int rc = cl_tensor_new(&t, 1, n, 1);
    if (rc)
        lcl_raise(L, rc);
    float *p = cl_tensor_data(t);
    for (int64_t i = 0; i < n; i++)
        p[i] = (float)v[i];
    lcl_pushtensor(L, t);
}

int lm_params_without(lua_State *L, int idx, const char *const *skip)
{
    idx = lua_absindex(L, idx);
    lua_newtable(L);
    if (lua_isnoneornil(L, idx))
        return lua_gettop(L);
    luaL_checktype(L, idx, LUA_TTABLE);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        int drop = 0;
        if (lua_type(L, -2) == LUA_TSTRING)
            for (int i = 0; skip[i]; i++)
                drop |= strcmp(lua_tostring(L, -2), skip[i]) == 0;
        if (drop) {
            lua_pop(L, 1);
            continue;
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_settable(L, -4);
    }
    return lua_gettop(L);
}

int lm_class_weight_table(lua_State *L, int idx, double *w0, double *w1)
{
    if (lua_isnoneornil(L, idx) || !lua_istable(L, idx))
        return 0;
    if (lua_getfield(L, idx, "class_weight") != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    double w[2];
    for (int k = 0; k < 2; k++) {
        lua_geti(L, -1, k);
        int isnum;
        w[k] = lua_tonumberx(L, -1, &isnum);
        if (!isnum || !(w[k] >= 0) || !isfinite(w[k]))
            luaL_error(L, "parameter 'class_weight' must be \"balanced\", \"none\" or a table "
                          "{[0] = w0, [1] = w1} of weights >= 0 (entry [%d] is %s)", k,
                       isnum ? lua_tostring(L, -1) : luaL_typename(L, -1));
        lua_pop(L, 1);
    }
    lua_pop(L, 1);
    *w0 = w[0];
    *w1 = w[1];
    return 1;
}

#define PIPELINE_T "churnlab.Pipeline"
#define FRAME_T "churnlab.Frame"

void lm_save(lua_State *L, cl_mw *w, const char *path, int opts, int model)
{
    model = lua_absindex(L, model);
    int have = 0;
    if (opts && !lua_isnoneornil(L, opts)) {
        if (!lua_istable(L, opts)) { /* free the writer before raising */
            cl_mw_free(w);
            luaL_typeerror(L, opts, "table");
        }
        lua_getfield(L, opts, "pipeline");
        if (!lua_isnil(L, -1)) {
            lcl_box *pb = lcl_testbox(L, -1, PIPELINE_T);
            if (!pb || !pb->obj) {
                cl_mw_free(w);
                luaL_error(L, "save: option 'pipeline' must be a fitted churnlab.Pipeline");
            }
            lua_pushvalue(L, -1);
            lua_setiuservalue(L, model, 1); /* attach: later saves and predict(frame) use it */
            have = 1;
        } else {
            lua_pop(L, 1);
        }
    }
    if (!have) {
        lua_getiuservalue(L, model, 1);
        lcl_box *pb = lcl_testbox(L, -1, PIPELINE_T);
        have = pb && pb->obj;
        if (!have)
            lua_pop(L, 1);
    }
    int rc = CL_OK;
    if (have) {
        lcl_box *pb = lua_touserdata(L, -1);
        rc = cl_pipeline_write(pb->obj, w, "pipeline.");
        lua_pop(L, 1);
    }
    if (rc == CL_OK)
        rc = cl_mw_save(w, path);
    cl_mw_free(w);
    if (rc)
        lcl_raise_file(L, rc, path);
}

int lm_load_pipeline(lua_State *L, const cl_mr *r, int model)
{
    model = lua_absindex(L, model);
    if (!cl_mr_has(r, "pipeline.format"))
        return CL_OK;
    lcl_box *pb = lcl_newbox(L, PIPELINE_T);
    /* the reader's prefix is restored by cl_pipeline_read; it takes a non-const reader */
    int rc = cl_pipeline_read((cl_mr *)r, "pipeline.", (cl_pipeline **)&pb->obj);
    if (rc) {
        lua_pop(L, 1);
        return rc;
    }
    lua_setiuservalue(L, model, 1);
    return CL_OK;
}

void lm_frame_input(lua_State *L, int model, int idx)
{
    model = lua_absindex(L, model);
    idx = lua_absindex(L, idx);
    if (!lcl_testbox(L, idx, FRAME_T))
        return;
    lua_getiuservalue(L, model, 1);
    if (!lcl_testbox(L, -1, PIPELINE_T))
        luaL_argerror(L, idx, "a churnlab.Frame needs a pipeline stored with the model "
                              "(m:save(path, {pipeline = p})); pass the X tensor instead");
    lua_getfield(L, -1, "transform");
    lua_insert(L, -2);
    lua_pushvalue(L, idx);
    lua_call(L, 2, 1);
    lua_replace(L, idx);
}

void lm_fit_options(lua_State *L, int opts, int model, const char *const *known)
{
    if (!opts || lua_isnoneornil(L, opts))
        return;
    model = lua_absindex(L, model);
    lcl_check_options(L, opts, "fit", known);
    if (lua_getfield(L, opts, "pipeline") != LUA_TNIL) {
        lcl_box *pb = lcl_testbox(L, -1, PIPELINE_T);
        if (!pb || !pb->obj)
            luaL_error(L, "fit: option 'pipeline' must be a fitted churnlab.Pipeline");
        lua_setiuservalue(L, model, 1);
    } else {
        lua_pop(L, 1);
    }
}

int lm_pipeline_method(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TUSERDATA);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

int lm_predict_mode(lua_State *L, int idx)
{
    if (!idx || lua_isnoneornil(L, idx))
        return CL_PREDICT_PROB;
    static const char *const known[] = {"margin", "prior_correction", NULL};
    idx = lcl_check_options(L, idx, "predict", known);
    int mode = CL_PREDICT_PROB;
    int tm = lua_getfield(L, idx, "margin"), tp = lua_getfield(L, idx, "prior_correction");
    if (tm != LUA_TNIL && tm != LUA_TBOOLEAN)
        luaL_error(L, "predict: option 'margin' must be a boolean, got %s", lua_typename(L, tm));
    if (tp != LUA_TNIL && tp != LUA_TBOOLEAN)
        luaL_error(L, "predict: option 'prior_correction' must be a boolean, got %s",
                   lua_typename(L, tp));
    int margin = lua_toboolean(L, -2);
    if (margin && tp != LUA_TNIL)
        luaL_error(L, "predict: options 'margin' and 'prior_correction' exclude each other "
                      "(margins are never corrected)");
    if (margin)
        mode = CL_PREDICT_MARGIN;
    else if (tp != LUA_TNIL)
        mode = lua_toboolean(L, -1) ? CL_PREDICT_CORRECTED : CL_PREDICT_UNCORRECTED;
    lua_pop(L, 2);
    return mode;
}

void lm_push_prior(lua_State *L, double trained, double truth, int corrected)
{
    if (isnan(trained) || isnan(truth)) {
        lua_pushnil(L);
        return;
    }
    lua_createtable(L, 0, 4);
    lua_pushnumber(L, trained);
    lua_setfield(L, -2, "trained_rate");
    lua_pushnumber(L, truth);
    lua_setfield(L, -2, "true_rate");
    lua_pushboolean(L, corrected);
    lua_setfield(L, -2, "corrected");
    double shift = 0;
    if (cl_prior_needed(trained, truth))
        shift = log(truth / (1 - truth)) - log(trained / (1 - trained));
    lua_pushnumber(L, corrected ? shift : 0.0);
    lua_setfield(L, -2, "shift");
}
