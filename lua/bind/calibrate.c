/* calibrate.c - module churnlab.calibrate: Platt scaling and isotonic calibration of
 * churn probabilities on held-out data, and prior correction for reweighted training. */
#include "support/lcl.h"

#include "eval/calibrate.h"
#include "models/prior.h"

#include <math.h>
#include <string.h>

#define CAL_T "churnlab.Calibrator"

enum { PLATT = CL_CALIB_PLATT, ISOTONIC = CL_CALIB_ISOTONIC };

typedef struct cal_ud {
    int fitted, freed;
    cl_calibrator c; /* method, Platt's a and b, the isotonic map, n_fit */
} cal_ud;

static cal_ud *checkcal(lua_State *L, int i)
{
    cal_ud *u = luaL_checkudata(L, i, CAL_T);
    if (u->freed)
        luaL_argerror(L, i, "attempt to use a freed " CAL_T);
    return u;
}

static cal_ud *new_cal(lua_State *L, int method)
{
    cal_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    memset(u, 0, sizeof *u);
    u->c.method = method;
    luaL_setmetatable(L, CAL_T);
    return u;
}

static int l_platt(lua_State *L) { return new_cal(L, PLATT), 1; }
static int l_isotonic(lua_State *L) { return new_cal(L, ISOTONIC), 1; }

/* c:fit(scores, y) -> c */
static int cal_fit(lua_State *L)
{
    cal_ud *u = checkcal(L, 1);
    int64_t n, ny;
    double *s = lcl_checkvec(L, 2, &n);
    double *y = lcl_checkvec(L, 3, &ny);
    if (ny != n)
        return luaL_error(L, "fit: %d scores but %d labels", (int)n, (int)ny);
    if (u->c.method == PLATT) {
        LCL_CHECK(L, cl_calibrate_platt_fit(s, y, n, &u->c.a, &u->c.b));
    } else {
        for (int64_t i = 0; i < n; i++)
            if (y[i] != 0 && y[i] != 1)
                return luaL_error(L, "fit: label %d must be 0 or 1, got %f", (int)i + 1, y[i]);
        cl_isotonic *iso;
        LCL_CHECK(L, cl_calibrate_isotonic_estimate(&iso, s, y, NULL, n));
        cl_calibrate_isotonic_free(u->c.iso);
        u->c.iso = iso;
    }
    u->fitted = 1;
    u->c.n_fit = n;
    lua_settop(L, 1);
    return 1;
}

/* c:predict(scores) -> tensor of calibrated probabilities (or a number for a number) */
static int cal_predict(lua_State *L)
{
    cal_ud *u = checkcal(L, 1);
    if (!u->fitted)
        return luaL_error(L, "predict: the calibrator is not fitted (call fit first)");
    if (lua_type(L, 2) == LUA_TNUMBER) {
        double s = lua_tonumber(L, 2);
        lua_pushnumber(L, u->c.method == PLATT ? cl_calibrate_platt_apply(u->c.a, u->c.b, s)
                                             : cl_calibrate_isotonic_apply(u->c.iso, s));
        return 1;
    }
    int64_t n;
    double *s = lcl_checkvec(L, 2, &n);
    for (int64_t i = 0; i < n; i++)
        s[i] = u->c.method == PLATT ? cl_calibrate_platt_apply(u->c.a, u->c.b, s[i]) : cl_calibrate_isotonic_apply(u->c.iso, s[i]);
    return lcl_pushvec(L, s, n);
}

static int cal_save(lua_State *L)
{
    cal_ud *u = checkcal(L, 1);
    const char *path = luaL_checkstring(L, 2);
    if (!u->fitted)
        return luaL_error(L, "save: the calibrator is not fitted");
    cl_mw *w = cl_modelio_w_new("calibrator");
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    cl_calibrate_write(&u->c, w);
    int rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1); /* save returns the object, as every model's does */
    return 1;
}

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    cl_calibrator c;
    rc = cl_calibrate_read(&c, r);
    cl_modelio_r_free(r);
    if (rc)
        return lcl_raise_file(L, rc, path);
    cal_ud *u = new_cal(L, c.method);
    u->c = c;
    u->fitted = 1;
    return 1;
}

/* prior_correct(p, trained_rate, true_rate): number or vector */
static int l_prior_correct(lua_State *L)
{
    double tr = luaL_checknumber(L, 2), truth = luaL_checknumber(L, 3);
    if (!(tr > 0 && tr < 1) || !(truth > 0 && truth < 1))
        return luaL_error(L, "prior_correct: rates must be in (0, 1), got %f and %f", tr, truth);
    if (lua_type(L, 1) == LUA_TNUMBER) {
        lua_pushnumber(L, cl_prior_correct(lua_tonumber(L, 1), tr, truth));
        return 1;
    }
    int64_t n;
    double *p = lcl_checkvec(L, 1, &n);
    for (int64_t i = 0; i < n; i++)
        p[i] = cl_prior_correct(p[i], tr, truth);
    return lcl_pushvec(L, p, n);
}

static int cal_gc(lua_State *L)
{
    cal_ud *u = luaL_checkudata(L, 1, CAL_T);
    cl_calibrate_isotonic_free(u->c.iso);
    u->c.iso = NULL;
    u->freed = 1;
    return 0;
}

static int cal_tostring(lua_State *L)
{
    cal_ud *u = luaL_checkudata(L, 1, CAL_T);
    const char *m = u->c.method == PLATT ? "platt" : "isotonic";
    if (u->freed)
        lua_pushstring(L, CAL_T " (freed)");
    else if (!u->fitted)
        lua_pushfstring(L, CAL_T " %s (not fitted)", m);
    else if (u->c.method == PLATT)
        lua_pushfstring(L, CAL_T " platt a=%f b=%f (fitted on %d rows)", u->c.a, u->c.b, (int)u->c.n_fit);
    else
        lua_pushfstring(L, CAL_T " isotonic %d steps (fitted on %d rows)", (int)u->c.iso->m,
                        (int)u->c.n_fit);
    return 1;
}

static const luaL_Reg funcs[] = {{"platt", l_platt},
                                 {"isotonic", l_isotonic},
                                 {"prior_correct", l_prior_correct},
                                 {"load", l_load},
                                 {NULL, NULL}};
static const luaL_Reg methods[] = {{"fit", cal_fit}, {"predict", cal_predict}, {"save", cal_save},
                                   {NULL, NULL}};
static const luaL_Reg meta[] = {{"__gc", cal_gc}, {"__close", cal_gc}, {"__tostring", cal_tostring},
                                {NULL, NULL}};

static const lcl_doc docs[] = {
    {"platt", "platt() -> calibrator: c:fit(scores, y) on held-out data fits p = 1/(1 + "
              "exp(a s + b)) (Platt's smoothed targets, as scikit-learn); c:predict(scores)."},
    {"isotonic", "isotonic() -> calibrator: monotone step map by pool-adjacent-violators; "
                 "predictions interpolate between steps and clip outside the fitted range."},
    {"prior_correct", "prior_correct(p, trained_rate, true_rate) -> p': maps probabilities of "
                      "a model trained on reweighted classes (class weights, scale_pos_weight) "
                      "back to the real churn rate by odds scaling: odds(p') = odds(p) * "
                      "odds(true_rate) / odds(trained_rate). churnlab's own models already do "
                      "this in predict by default (see m:prior(); opt out with parameter "
                      "prior_correction = false or predict(X, {prior_correction = false})); use "
                      "this for scores from elsewhere."},
    {"load", "load(path) -> calibrator | nil, msg: reads a file written by c:save(path) (cl.load "
             "reads it too)."},
    {NULL, NULL}};

static const lcl_doc method_docs[] = {
    {"fit", "c:fit(scores, y) -> c: fits the map on held-out scores and 0/1 labels (tensors, "
            "lists or columns of the same length; never the training rows). A refit replaces "
            "the previous map."},
    {"predict", "c:predict(scores) -> calibrated probabilities: a number for a number, else a "
                "1-D tensor. An error before fit."},
    {"save", "c:save(path): writes the fitted calibrator to a model file (kind 'calibrator'); "
             "cl.load(path) or calibrate.load(path) reads it back. An error before fit."},
    {NULL, NULL}};

int luaopen_churnlab_calibrate(lua_State *L);
int luaopen_churnlab_calibrate(lua_State *L)
{
    lcl_createmeta(L, CAL_T, meta, methods);
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, method_docs);
    lua_pop(L, 1); /* __index */
    lcl_setdoc(L, -1, "churnlab.Calibrator: a probability calibration map from "
                      "cl.calibrate.platt() or isotonic(): c:fit(scores, y) on held-out data, "
                      "c:predict(scores), c:save(path).");
    lua_pop(L, 1);
    lcl_register_loader(L, "calibrator", l_load);
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.calibrate: Platt and isotonic calibration, prior correction.");
    lcl_setdocs(L, -1, docs);
    return 1;
}
