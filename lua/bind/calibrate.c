/* calibrate.c - module churnlab.calibrate: Platt scaling and isotonic calibration of
 * churn probabilities on held-out data, and prior correction for reweighted training. */
#include "support/lcl.h"

#include "eval/calibrate.h"
#include "models/prior.h"

#include <math.h>
#include <string.h>

#define CAL_T "churnlab.Calibrator"

enum { PLATT = 0, ISOTONIC = 1 };

typedef struct cal_ud {
    int method, fitted, freed;
    double a, b;        /* Platt */
    cl_isotonic *iso;   /* isotonic */
    int64_t n_fit;
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
    u->method = method;
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
    if (u->method == PLATT) {
        LCL_CHECK(L, cl_platt_fit(s, y, n, &u->a, &u->b));
    } else {
        for (int64_t i = 0; i < n; i++)
            if (y[i] != 0 && y[i] != 1)
                return luaL_error(L, "fit: label %d must be 0 or 1, got %f", (int)i + 1, y[i]);
        cl_isotonic *iso;
        LCL_CHECK(L, cl_isotonic_fit(&iso, s, y, NULL, n));
        cl_isotonic_free(u->iso);
        u->iso = iso;
    }
    u->fitted = 1;
    u->n_fit = n;
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
        lua_pushnumber(L, u->method == PLATT ? cl_platt_apply(u->a, u->b, s)
                                             : cl_isotonic_apply(u->iso, s));
        return 1;
    }
    int64_t n;
    double *s = lcl_checkvec(L, 2, &n);
    for (int64_t i = 0; i < n; i++)
        s[i] = u->method == PLATT ? cl_platt_apply(u->a, u->b, s[i]) : cl_isotonic_apply(u->iso, s[i]);
    return lcl_pushvec(L, s, n);
}

static int cal_save(lua_State *L)
{
    cal_ud *u = checkcal(L, 1);
    const char *path = luaL_checkstring(L, 2);
    if (!u->fitted)
        return luaL_error(L, "save: the calibrator is not fitted");
    cl_mw *w = cl_mw_new("calibrator");
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    cl_mw_str(w, "method", u->method == PLATT ? "platt" : "isotonic");
    cl_mw_int(w, "n_fit", u->n_fit);
    if (u->method == PLATT) {
        cl_mw_num(w, "a", u->a);
        cl_mw_num(w, "b", u->b);
    } else {
        cl_mw_f64(w, "x", u->iso->x, (size_t)u->iso->m);
        cl_mw_f64(w, "v", u->iso->v, (size_t)u->iso->m);
    }
    int rc = cl_mw_save(w, path);
    cl_mw_free(w);
    LCL_CHECK(L, rc);
    return 0;
}

static int read_iso(cl_mr *r, cl_isotonic **out)
{
    size_t m, mv;
    int rc;
    if ((rc = cl_mr_count(r, "x", CL_CHUNK_F64, &m)) || (rc = cl_mr_count(r, "v", CL_CHUNK_F64, &mv)))
        return rc;
    if (m == 0 || m != mv)
        return cl_error(CL_EFORMAT, "calibrator: isotonic breakpoints are empty or mismatched");
    cl_isotonic *iso = cl_calloc(1, sizeof *iso);
    double *buf = cl_alloc(2 * m * sizeof *buf);
    if (!iso || !buf) {
        cl_free(iso);
        cl_free(buf);
        return CL_ENOMEM;
    }
    iso->x = buf;
    iso->v = buf + m;
    iso->m = (int64_t)m;
    if ((rc = cl_mr_f64(r, "x", iso->x, m)) || (rc = cl_mr_f64(r, "v", iso->v, m))) {
        cl_isotonic_free(iso);
        return rc;
    }
    for (size_t i = 0; i < m; i++) /* the map must be a valid monotone step function */
        if (!isfinite(iso->x[i]) || !isfinite(iso->v[i]) ||
            (i && (iso->x[i] < iso->x[i - 1] || iso->v[i] < iso->v[i - 1]))) {
            cl_isotonic_free(iso);
            return cl_error(CL_EFORMAT, "calibrator: isotonic map is not monotone");
        }
    *out = iso;
    return CL_OK;
}

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cl_mr *r;
    int rc = cl_mr_open(&r, path);
    if (rc)
        return lcl_fail(L, rc);
    char *method = NULL;
    int64_t n_fit = 0;
    if (!(rc = cl_mr_expect_kind(r, "calibrator")) && !(rc = cl_mr_str(r, "method", &method)))
        rc = cl_mr_int(r, "n_fit", 0, INT64_MAX, &n_fit);
    cal_ud *u = NULL;
    if (!rc) {
        if (strcmp(method, "platt") == 0) {
            u = new_cal(L, PLATT);
            if (!(rc = cl_mr_num(r, "a", &u->a)))
                rc = cl_mr_num(r, "b", &u->b);
        } else if (strcmp(method, "isotonic") == 0) {
            u = new_cal(L, ISOTONIC);
            rc = read_iso(r, &u->iso);
        } else {
            rc = cl_error(CL_EFORMAT, "'%s': unknown calibration method '%s'", path, method);
        }
    }
    cl_free(method);
    cl_mr_free(r);
    if (rc)
        return lcl_fail(L, rc);
    u->fitted = 1;
    u->n_fit = n_fit;
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
    cl_isotonic_free(u->iso);
    u->iso = NULL;
    u->freed = 1;
    return 0;
}

static int cal_tostring(lua_State *L)
{
    cal_ud *u = luaL_checkudata(L, 1, CAL_T);
    const char *m = u->method == PLATT ? "platt" : "isotonic";
    if (u->freed)
        lua_pushstring(L, CAL_T " (freed)");
    else if (!u->fitted)
        lua_pushfstring(L, CAL_T " %s (not fitted)", m);
    else if (u->method == PLATT)
        lua_pushfstring(L, CAL_T " platt a=%f b=%f (fitted on %d rows)", u->a, u->b, (int)u->n_fit);
    else
        lua_pushfstring(L, CAL_T " isotonic %d steps (fitted on %d rows)", (int)u->iso->m,
                        (int)u->n_fit);
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

static const struct {
    const char *name, *doc;
} docs[] = {
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
    {NULL, NULL}};

int luaopen_churnlab_calibrate(lua_State *L);
int luaopen_churnlab_calibrate(lua_State *L)
{
    lcl_createmeta(L, CAL_T, meta, methods);
    lua_pop(L, 1);
    lcl_register_loader(L, "calibrator", l_load);
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.calibrate: Platt and isotonic calibration, prior correction.");
    for (int i = 0; docs[i].name; i++) {
        lua_getfield(L, -1, docs[i].name);
        lcl_setdoc(L, -1, docs[i].doc);
        lua_pop(L, 1);
    }
    return 1;
}
