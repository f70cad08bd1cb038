/* lmodel.c - helpers shared by the model bindings. */
#include "support/lmodel.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/prior.h"
#include "frame/pipeline.h"

const float *lm_matrix(lua_State *L, int idx, const char *what, int64_t *n, int64_t *d)
{
    idx = lua_absindex(L, idx);
    cl_tensor *t = lcl_testtensor(L, idx);
    if (!t) {
        const char *got = luaL_typename(L, idx);
        if (luaL_getmetafield(L, idx, "__name") == LUA_TSTRING)
            got = lua_tostring(L, -1);
        /* the first thing a pandas + scikit-learn user tries is model:fit(frame, ...) */
        const char *hint = !strcmp(got, "churnlab.Frame")
            ? " (a frame becomes model input through a pipeline: local p = cl.prep.pipeline"
              "{target = \"churn\"}; local X, y = p:fit_transform(df); or df:to_tensor{cols})"
            : "";
        luaL_argerror(L, idx, lua_pushfstring(L, "%s must be a churnlab.Tensor, got %s%s", what,
                                              got, hint));
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
            cl_modelio_w_free(w);
            luaL_typeerror(L, opts, "table");
        }
        lua_getfield(L, opts, "pipeline");
        if (!lua_isnil(L, -1)) {
            lcl_box *pb = lcl_testbox(L, -1, PIPELINE_T);
            if (!pb || !pb->obj) {
                cl_modelio_w_free(w);
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
        rc = cl_pipeline_io_write(pb->obj, w, "pipeline.");
        lua_pop(L, 1);
    }
    if (rc == CL_OK)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    if (rc)
        lcl_raise_file(L, rc, path);
}

int lm_load_pipeline(lua_State *L, const cl_mr *r, int model)
{
    model = lua_absindex(L, model);
    if (!cl_modelio_r_has(r, "pipeline.format"))
        return CL_OK;
    lcl_box *pb = lcl_newbox(L, PIPELINE_T);
    /* the reader's prefix is restored by cl_pipeline_io_read; it takes a non-const reader */
    int rc = cl_pipeline_io_read((cl_mr *)r, "pipeline.", (cl_pipeline **)&pb->obj);
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

/* ==== the classifier class ============================================================== */
/* Every generic method is a closure over its kind: upvalue 1 the kind's cl_model_ops (a light
 * userdata), upvalue 2 its type name. One set of closures per kind, so each class's methods
 * carry their own help text (fit lists the options this kind takes) and the type check is
 * exact ("churnlab.GBDT expected, got churnlab.Forest"). The boxes hold a cl_model; the
 * uservalue 1 of a box is its attached churnlab.Pipeline (lm_save, lm_frame_input). */

#define KINDS_KEY "churnlab.model_kinds"   /* registry: kind -> constructor */
#define MODULE_KEY "churnlab.model_module" /* registry: churnlab.model's table */
#define LOADERS_KEY "churnlab.loaders"     /* lcl_register_loader's: kind -> loader */
#define HISTORY_T "churnlab.History"

static const cl_model_ops *up_ops(lua_State *L) { return lua_touserdata(L, lua_upvalueindex(1)); }
static const char *up_tname(lua_State *L) { return lua_tostring(L, lua_upvalueindex(2)); }
static cl_model *self(lua_State *L) { return lcl_checkobj(L, 1, up_tname(L)); }

cl_model *lm_checkmodel(lua_State *L, int idx, const char *tname)
{
    return lcl_checkobj(L, idx, tname);
}

void *lm_checkimpl(lua_State *L, int idx, const char *tname)
{
    return cl_model_impl_mut(lm_checkmodel(L, idx, tname));
}

void lm_need_fitted(lua_State *L, const cl_model *m, const char *what)
{
    if (!cl_model_fitted(m))
        luaL_error(L, "%s: the %s model is not fitted (call m:fit(X, y) first)", what,
                   cl_model_kind(m));
}

void lm_push_feature(lua_State *L, const cl_model *m, int64_t j)
{
    const cl_model_ops *ops = cl_model_ops_of(m);
    const char *s = ops->name ? ops->name(cl_model_impl(m), j) : NULL;
    if (s)
        lua_pushstring(L, s);
    else
        lua_pushfstring(L, "x%I", (lua_Integer)j + 1);
}

void lm_push_features(lua_State *L, const cl_model *m, const char *last)
{
    int64_t d = cl_model_n_features(m);
    lua_createtable(L, (int)d + (last != NULL), 0);
    for (int64_t j = 0; j < d; j++) {
        lm_push_feature(L, m, j);
        lua_rawseti(L, -2, j + 1);
    }
    if (last) {
        lua_pushstring(L, last);
        lua_rawseti(L, -2, d + 1);
    }
}

/* ---- construction ------------------------------------------------------------------------ */

static double *param_num(const cl_model_ops *ops, void *p, const char *name)
{
    const cl_param_def *d = cl_param_find(ops->defs, name);
    return d && d->type == CL_PARAM_NUM ? (double *)(void *)((char *)p + d->offset) : NULL;
}

/* ctor{params}: the kind's parameter table validated by lcl_params (unknown names and bad
 * values are errors naming them). Kinds with class_weight, pos_weight and neg_weight also
 * take class_weight = {[0] = w0, [1] = w1}, which multiplies neg_weight and pos_weight. */
static int k_new(lua_State *L)
{
    const cl_model_ops *ops = up_ops(L);
    lua_settop(L, 1);
    void *p = lua_newuserdatauv(L, ops->params_size, 0); /* collected: no leak on an error */
    memset(p, 0, ops->params_size);
    ops->defaults(p);
    double *wneg = param_num(ops, p, "neg_weight"), *wpos = param_num(ops, p, "pos_weight");
    double w0 = 1, w1 = 1;
    int t = 1, cw = 0;
    if (wneg && wpos && cl_param_find(ops->defs, "class_weight") &&
        (cw = lm_class_weight_table(L, 1, &w0, &w1))) {
        static const char *const skip[] = {"class_weight", NULL};
        t = lm_params_without(L, 1, skip);
    }
    lcl_params(L, t, ops->defs, p, ops->kind);
    if (cw) {
        *wneg *= w0;
        *wpos *= w1;
    }
    lcl_box *b = lcl_newbox(L, up_tname(L));
    LCL_CHECK(L, cl_model_new((cl_model **)&b->obj, ops, p));
    return 1;
}

static int k_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, up_tname(L));
    cl_model_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int k_tostring(lua_State *L)
{
    const char *tn = up_tname(L);
    lcl_box *b = luaL_checkudata(L, 1, tn);
    if (!b->obj) {
        lua_pushfstring(L, "%s (freed)", tn);
        return 1;
    }
    const cl_model_ops *ops = up_ops(L);
    char buf[256];
    if (ops->describe)
        ops->describe(cl_model_impl(b->obj), buf, sizeof buf);
    else if (cl_model_fitted(b->obj))
        snprintf(buf, sizeof buf, "%lld features", (long long)cl_model_n_features(b->obj));
    else
        snprintf(buf, sizeof buf, "(not fitted)");
    lua_pushfstring(L, "%s %s", tn, buf);
    return 1;
}

/* ---- fit ----------------------------------------------------------------------------------- */

/* The fit options of a kind, from its fit_flags, into known[16]. */
static void fit_known(unsigned flags, const char **known)
{
    int k = 0;
    known[k++] = "names";
    known[k++] = "pipeline";
    known[k++] = "verbose";
    if (flags & CL_FIT_VALID) {
        known[k++] = "valid";
        known[k++] = "valid_split";
        known[k++] = "early_stop";
    }
    if (flags & CL_FIT_METRIC)
        known[k++] = "metric";
    if (flags & CL_FIT_CATEGORICAL)
        known[k++] = "categorical";
    if (flags & CL_FIT_DIST)
        known[k++] = "mpi";
    if (flags & CL_FIT_WEIGHTS)
        known[k++] = "weights";
    known[k] = NULL;
}

/* valid = {Xv, yv} or valid_split = f (the last f of the rows validate, as Keras'
 * validation_split, taken before any shuffling so the same rows whatever the seed: *n shrinks),
 * and early_stop. The tensors stay referenced by opts or packed on the stack. */
static void fit_valid(lua_State *L, int opts, const float *X, const float *y, int64_t *n,
                      int64_t d, cl_fit_opts *fo)
{
    if (opts && lua_getfield(L, opts, "valid") != LUA_TNIL) {
        int vt = lua_gettop(L);
        int64_t nv, dv;
        if (!lua_istable(L, vt))
            luaL_error(L, "option 'valid' must be a table {Xv, yv}, got %s", luaL_typename(L, vt));
        lua_geti(L, vt, 1);
        fo->Xv = lm_matrix(L, -1, "valid[1] (Xv)", &nv, &dv);
        if (dv != d)
            luaL_error(L, "valid[1] (Xv) has %I columns, X has %I", (lua_Integer)dv, (lua_Integer)d);
        lua_geti(L, vt, 2);
        fo->yv = lm_vector(L, -1, "valid[2] (yv)", nv);
        fo->nv = nv;
    }
    double vs = lcl_optnum(L, opts, "valid_split", 0);
    if (!(vs >= 0 && vs < 1))
        luaL_error(L, "option 'valid_split' must be a fraction in [0, 1), got %f", vs);
    if (vs > 0) {
        if (fo->Xv)
            luaL_error(L, "give option 'valid' or 'valid_split', not both");
        int64_t nvs = (int64_t)floor(vs * (double)*n);
        if (nvs < 1 || nvs >= *n)
            luaL_error(L, "option 'valid_split' = %f leaves %I validation rows of %I (need at "
                          "least 1 on each side)", vs, (lua_Integer)nvs, (lua_Integer)*n);
        *n -= nvs;
        fo->Xv = X + *n * d;
        fo->yv = y + *n;
        fo->nv = nvs;
    }
    double es = lcl_optnum(L, opts, "early_stop", 0);
    if (!(es >= 0 && es <= 1e6) || es != floor(es))
        luaL_error(L, "option 'early_stop' must be a whole number >= 0, got %f", es);
    fo->early_stop = (int)es;
}

/* names, pipeline and categorical: sets the feature names on m (the pipeline's, then the
 * names option's), attaches the pipeline to the box at 1 and returns the categorical flags
 * (d bytes in a userdata left on the stack; NULL for kinds without native categoricals). */
static const uint8_t *fit_features(lua_State *L, cl_model *m, int opts, int64_t d)
{
    const cl_model_ops *ops = cl_model_ops_of(m);
    uint8_t *is_cat = NULL;
    if (ops->fit_flags & CL_FIT_CATEGORICAL) {
        is_cat = lua_newuserdatauv(L, (size_t)d, 0);
        memset(is_cat, 0, (size_t)d);
    }
    if (!opts)
        return is_cat;
    if (lua_getfield(L, opts, "pipeline") != LUA_TNIL) {
        lcl_box *pb = lcl_testbox(L, -1, PIPELINE_T);
        if (!pb || !pb->obj)
            luaL_error(L, "fit: option 'pipeline' must be a fitted churnlab.Pipeline (call "
                          "p:fit(frame) first), got %s", luaL_typename(L, -1));
        const cl_pipeline *pp = pb->obj;
        if (cl_pipeline_n_features(pp) != d)
            luaL_error(L, "option 'pipeline': it makes %d features, X has %I",
                       cl_pipeline_n_features(pp), (lua_Integer)d);
        const char **nm = lua_newuserdatauv(L, (size_t)d * sizeof *nm, 0);
        for (int j = 0; j < (int)d; j++) {
            int ncat;
            nm[j] = cl_pipeline_feature_name(pp, j);
            if (is_cat && cl_pipeline_out_categorical(pp, j, &ncat))
                is_cat[j] = 1;
        }
        if (ops->set_names) /* a kind may keep no names (then features() says x1, x2 ...) */
            LCL_CHECK(L, ops->set_names(cl_model_impl_mut(m), nm, d));
        lua_pop(L, 1);
        lua_setiuservalue(L, 1, 1); /* attached: save() stores it, predict(frame) uses it */
    } else {
        lua_pop(L, 1);
    }
    const char **names = lm_names(L, opts, d);
    if (names) {
        if (!ops->set_names)
            luaL_error(L, "fit: option 'names': the %s kind keeps no feature names", ops->kind);
        LCL_CHECK(L, ops->set_names(cl_model_impl_mut(m), names, d));
        lua_pop(L, 1);
    }
    if (is_cat && lua_getfield(L, opts, "categorical") != LUA_TNIL) {
        if (!lua_istable(L, -1))
            luaL_error(L, "option 'categorical' must be a list of column indices, got %s",
                       luaL_typename(L, -1));
        lua_Integer k = luaL_len(L, -1);
        for (lua_Integer i = 1; i <= k; i++) {
            lua_geti(L, -1, i);
            int isnum;
            lua_Integer c = lua_tointegerx(L, -1, &isnum);
            if (!isnum || c < 1 || c > d)
                luaL_error(L, "option 'categorical': entry %I must be a column index in 1..%I", i,
                           (lua_Integer)d);
            is_cat[c - 1] = 1;
            lua_pop(L, 1);
        }
    }
    if (is_cat)
        lua_pop(L, 1);
    return is_cat;
}

/* m:fit(X, y [, opts]) -> m. A warning of the fit (logreg not converging) goes to stderr and
 * stays in m:history().warning; it is not an error. */
static int k_fit(lua_State *L)
{
    cl_model *m = self(L);
    unsigned flags = cl_model_ops_of(m)->fit_flags;
    int64_t n, d;
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    const float *y = lm_vector(L, 3, "y", n);
    const char *known[16];
    fit_known(flags, known);
    int opts = lcl_check_options(L, 4, "fit", known);
    cl_fit_opts fo;
    memset(&fo, 0, sizeof fo);
    /* weights = n values, one per row of X (before valid_split takes the last rows off: the
     * weights of the training rows are the first ones) */
    if ((flags & CL_FIT_WEIGHTS) && opts && lua_getfield(L, opts, "weights") != LUA_TNIL)
        fo.w = lm_vector(L, lua_gettop(L), "weights", n); /* the tensor stays on the stack */
    if (flags & CL_FIT_VALID)
        fit_valid(L, opts, X, y, &n, d, &fo);
    if (flags & CL_FIT_METRIC) {
        static const char *const metrics[] = {"logloss", "auc", "rmse", NULL};
        static const int codes[] = {CL_METRIC_LOGLOSS, CL_METRIC_AUC, CL_METRIC_RMSE};
        const char *metric = lcl_optstr(L, opts, "metric", NULL);
        for (int i = 0; metric && metrics[i] && !fo.metric; i++)
            if (!strcmp(metric, metrics[i]))
                fo.metric = codes[i];
        if (metric && !fo.metric)
            luaL_error(L, "option 'metric' must be logloss, auc or rmse, got '%s'", metric);
    }
    /* under mpirun the fit is data parallel over the ranks' rows unless mpi = false */
    if ((flags & CL_FIT_DIST) && lcl_optbool(L, opts, "mpi", 1))
        fo.dist = cl_dist_world();
    fo.is_cat = fit_features(L, m, opts, d);
    cl_progress *prog = lcl_progress_new(L, opts);
    int rc = cl_model_fit(m, X, y, n, d, &fo, prog);
    lcl_progress_end(prog); /* close the bar now: after early stopping, an error or Ctrl-C too */
    if (rc)
        return lcl_raise(L, rc);
    const cl_model_history *h = cl_model_history_of(m);
    if (h->warning[0])
        fprintf(stderr, "churnlab: warning: %s\n", h->warning);
    lcl_gc_check(L);
    lua_settop(L, 1);
    return 1;
}

/* ---- history ------------------------------------------------------------------------------- */

/* Pieces of a text pushed one by one and joined now and then (no luaL_Buffer: the table
 * reads in between would disturb its stack box). */
typedef struct pieces {
    lua_State *L;
    int n;
} pieces;

static void piece(pieces *p, const char *s)
{
    lua_pushstring(p->L, s);
    if (++p->n >= 16) {
        lua_concat(p->L, p->n);
        p->n = 1;
    }
}

static void piece_num(pieces *p, double v)
{
    char buf[32];
    if (v == floor(v) && fabs(v) < 1e15)
        snprintf(buf, sizeof buf, "%.0f", v);
    else
        snprintf(buf, sizeof buf, "%.6g", v);
    piece(p, buf);
}

/* print(m:history()): "mlp fit: epochs 25, best_epoch 25, stopped_early false" then a line
 * per series ("  loss: 25 values, 0.6931 -> 0.4123, min 0.4123 at 25") and the warning. It
 * reads the table itself, in the order the fit reported (the metatable's __order). */
static int history_tostring(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    luaL_checkstack(L, 40, "history text");
    if (!lua_getmetatable(L, 1))
        return luaL_error(L, "not a model history");
    lua_getfield(L, 2, "__model");  /* 3 */
    lua_getfield(L, 2, "__order");  /* 4 */
    lua_getfield(L, 2, "__lengths"); /* 5 */
    if (!lua_istable(L, 4) || !lua_istable(L, 5))
        return luaL_error(L, "not a model history");
    lua_Integer k = luaL_len(L, 4);
    pieces p = {L, 0};
    piece(&p, lua_isstring(L, 3) ? lua_tostring(L, 3) : "model");
    piece(&p, k ? " fit:" : ": no fit in this session (a new or loaded model)");
    int first = 1;
    for (int pass = 0; pass < 2; pass++) {
        for (lua_Integer i = 1; i <= k; i++) {
            lua_geti(L, 4, i);
            int ord = lua_gettop(L);
            if (!lua_isstring(L, ord)) {
                lua_pop(L, 1);
                continue;
            }
            lua_pushvalue(L, ord);
            int is_series = lua_gettable(L, 5) != LUA_TNIL;
            lua_Integer len = lua_tointeger(L, -1);
            lua_pop(L, 1);
            if (is_series != pass) {
                lua_pop(L, 1);
                continue;
            }
            lua_pushvalue(L, ord);
            int t = lua_gettable(L, 1);
            if (!pass) {
                int bool_v = lua_toboolean(L, -1);
                double v = lua_tonumber(L, -1);
                lua_pop(L, 1);
                /* the name (on top) becomes a piece, after its separator */
                lua_pushstring(L, first ? " " : ", ");
                lua_insert(L, -2);
                p.n += 2;
                first = 0;
                piece(&p, " ");
                if (t == LUA_TBOOLEAN)
                    piece(&p, bool_v ? "true" : "false");
                else if (t == LUA_TNUMBER)
                    piece_num(&p, v);
                else
                    piece(&p, lua_typename(L, t));
                continue;
            }
            double lo = 0, v0 = 0, v1 = 0;
            lua_Integer at = 0, count = 0;
            for (lua_Integer e = 1; t == LUA_TTABLE && e <= len; e++) {
                if (lua_geti(L, -1, e) == LUA_TNUMBER) {
                    double v = lua_tonumber(L, -1);
                    if (!count++)
                        v0 = v;
                    v1 = v;
                    if (count == 1 || v < lo) {
                        lo = v;
                        at = e;
                    }
                }
                lua_pop(L, 1);
            }
            lua_pop(L, 1); /* the series; the name is on top */
            lua_pushliteral(L, "\n  ");
            lua_insert(L, -2);
            p.n += 2;
            if (!count) {
                piece(&p, ": not measured");
                continue;
            }
            char buf[128];
            snprintf(buf, sizeof buf, ": %lld values, %.6g -> %.6g, min %.6g at %lld",
                     (long long)count, v0, v1, lo, (long long)at);
            piece(&p, buf);
        }
    }
    if (lua_getfield(L, 1, "warning") == LUA_TSTRING) {
        lua_pushliteral(L, "\n  warning: ");
        lua_insert(L, -2);
        p.n += 2;
    } else {
        lua_pop(L, 1);
    }
    lua_concat(L, p.n);
    return 1;
}

/* m:history() -> {name = number | boolean, series = {...}, warning = "..."} with a metatable
 * that prints it (history_tostring). */
static int k_history(lua_State *L)
{
    const cl_model_history *h = cl_model_history_of(self(L));
    lua_createtable(L, 0, h->nscalars + h->nseries + 1);
    int t = lua_gettop(L);
    lua_createtable(L, h->nscalars + h->nseries, 0); /* __order */
    lua_createtable(L, 0, h->nseries);               /* __lengths */
    int k = 0;
    for (int i = 0; i < h->nscalars; i++) {
        double v = h->scalar[i];
        if (h->scalar_is_bool[i])
            lua_pushboolean(L, v != 0);
        else if (v == floor(v) && fabs(v) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)v);
        else
            lua_pushnumber(L, v);
        lua_setfield(L, t, h->scalar_name[i]);
        lua_pushstring(L, h->scalar_name[i]);
        lua_rawseti(L, t + 1, ++k);
    }
    for (int i = 0; i < h->nseries; i++) {
        lm_push_numbers(L, h->series[i], h->series_len[i]);
        lua_setfield(L, t, h->series_name[i]);
        lua_pushstring(L, h->series_name[i]);
        lua_rawseti(L, t + 1, ++k);
        lua_pushinteger(L, (lua_Integer)h->series_len[i]);
        lua_setfield(L, t + 2, h->series_name[i]);
    }
    if (h->warning[0]) {
        lua_pushstring(L, h->warning);
        lua_setfield(L, t, "warning");
    }
    lua_createtable(L, 0, 5);
    lua_insert(L, t + 1); /* t, mt, order, lengths */
    lua_setfield(L, t + 1, "__lengths");
    lua_setfield(L, t + 1, "__order");
    lua_pushstring(L, up_ops(L)->kind);
    lua_setfield(L, t + 1, "__model");
    lua_pushliteral(L, HISTORY_T);
    lua_setfield(L, t + 1, "__name");
    lua_pushcfunction(L, history_tostring);
    lua_setfield(L, t + 1, "__tostring");
    lua_setmetatable(L, t);
    return 1;
}

/* ---- scoring ------------------------------------------------------------------------------- */

/* predict, predict_proba (cols = 2: P(y = 0), P(y = 1)) and decision. */
static int predict_as(lua_State *L, int mode, int cols, const char *what)
{
    cl_model *m = self(L);
    lm_frame_input(L, 1, 2); /* a raw frame, when the model carries its pipeline */
    int64_t n, d;
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    lm_need_fitted(L, m, what);
    cl_tensor *out;
    LCL_CHECK(L, cols == 1 ? cl_tensor_new(&out, 1, n, 1) : cl_tensor_new(&out, 2, n, 2));
    float *o = cl_tensor_data(out);
    int rc = cl_model_predict(m, X, n, d, o, mode);
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    for (int64_t i = cols == 2 ? n - 1 : -1; i >= 0; i--) { /* spread in place, from the end */
        float p = o[i];
        o[2 * i] = 1.0f - p;
        o[2 * i + 1] = p;
    }
    return lcl_pushtensor(L, out);
}

static int k_predict(lua_State *L) { return predict_as(L, lm_predict_mode(L, 3), 1, "predict"); }
static int k_decision(lua_State *L)
{
    lua_settop(L, 2);
    return predict_as(L, CL_PREDICT_MARGIN, 1, "decision");
}

static int k_predict_proba(lua_State *L)
{
    int mode = lm_predict_mode(L, 3);
    if (mode == CL_PREDICT_MARGIN)
        return luaL_error(L, "predict_proba: option 'margin' gives no probabilities (m:decision(X) "
                             "gives the margins)");
    return predict_as(L, mode, 2, "predict_proba");
}

/* m:contrib(X [, {ref = r}]) -> phi (n x (d + 1), the base value last), names. */
static int k_contrib(lua_State *L)
{
    const cl_model_ops *ops = up_ops(L);
    cl_model *m = self(L);
    static const char *const with_ref[] = {"ref", NULL}, *const none[] = {NULL};
    int opts = lcl_check_options(L, 3, "contrib", ops->needs_ref ? with_ref : none);
    lm_frame_input(L, 1, 2);
    int64_t n, d;
    const float *X = lm_matrix(L, 2, "X", &n, &d);
    lm_need_fitted(L, m, "contrib");
    const float *ref = NULL;
    if (opts && lua_getfield(L, opts, "ref") != LUA_TNIL) {
        cl_tensor *r = lcl_testtensor(L, -1);
        if (!r || cl_tensor_numel(r) != d)
            return luaL_error(L, "contrib: option 'ref' must be a tensor of %I values (one per "
                                 "feature), got %s", (lua_Integer)d, luaL_typename(L, -1));
        int64_t rn, rd;
        ref = lm_matrix(L, -1, "ref", &rn, &rd);
    }
    cl_tensor *out;
    LCL_CHECK(L, cl_tensor_new(&out, 2, n, d + 1));
    int rc = cl_model_contrib(m, X, n, d, ref, cl_tensor_data(out));
    if (rc) {
        cl_tensor_free(out);
        return lcl_raise(L, rc);
    }
    lcl_pushtensor(L, out);
    lm_push_features(L, m, "(base)");
    return 2;
}

/* ---- files --------------------------------------------------------------------------------- */

static int k_save(lua_State *L)
{
    const cl_model_ops *ops = up_ops(L);
    cl_model *m = self(L);
    const char *path = luaL_checkstring(L, 2);
    static const char *const known[] = {"pipeline", NULL}; /* checked before the writer exists */
    int opts = lcl_check_options(L, 3, "save", known);
    lm_need_fitted(L, m, "save");
    cl_mw *w = cl_modelio_w_new(ops->kind);
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    int rc = ops->write(cl_model_impl(m), w);
    if (rc) {
        cl_modelio_w_free(w);
        return lcl_raise(L, rc);
    }
    lm_save(L, w, path, opts, 1); /* with its pipeline, if any; frees w */
    lua_settop(L, 1);
    return 1;
}

static int is_builtin(const cl_model_ops *ops)
{
    for (int i = 0; cl_model_kinds[i]; i++)
        if (cl_model_kinds[i] == ops)
            return 1;
    return 0;
}

/* Reads a model file of kind `want` (NULL: any classifier kind) into a new box. */
static int load_path(lua_State *L, const char *path, const cl_model_ops *want)
{
    char kind[80];
    int rc = cl_modelio_r_peek_kind(path, kind, sizeof kind);
    if (rc)
        return lcl_raise_file(L, rc, path);
    const cl_model_ops *ops = cl_model_kinds_ops(kind);
    if (!ops || (want && ops != want))
        return luaL_error(L, "'%s' holds a '%s' model, not %s", path, kind,
                          want ? want->kind : "a churn classifier");
    lm_kind_push(L, ops, NULL); /* the class exists (a kind registered after the modules opened) */
    lua_pop(L, 1);
    lua_pushfstring(L, "churnlab.%s", ops->title);
    lcl_box *b = lcl_newbox(L, lua_tostring(L, -1));
    cl_mr *r;
    if ((rc = cl_modelio_r_open(&r, path)))
        return lcl_raise_file(L, rc, path);
    void *impl = NULL;
    rc = ops->read(&impl, r);
    if (!rc)
        rc = cl_model_wrap((cl_model **)&b->obj, ops, impl, NULL);
    if (!rc)
        rc = lm_load_pipeline(L, r, -1);
    cl_modelio_r_free(r);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lcl_gc_check(L);
    return 1;
}

static int k_load(lua_State *L) { return load_path(L, luaL_checkstring(L, 1), up_ops(L)); }
int lm_load_any(lua_State *L) { return load_path(L, luaL_checkstring(L, 1), NULL); }

/* loaders.__index: cl.load of a file whose kind was registered (cl_model_kinds_register) after the
 * modules were opened. */
static int loaders_index(lua_State *L)
{
    const char *kind = lua_tostring(L, 2);
    if (!kind || !cl_model_kinds_ops(kind))
        return 0;
    lua_pushcfunction(L, lm_load_any);
    return 1;
}

static void loaders_fallback(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LOADERS_KEY);
    if (!lua_getmetatable(L, -1)) {
        lua_createtable(L, 0, 1);
        lua_pushcfunction(L, loaders_index);
        lua_setfield(L, -2, "__index");
        lua_setmetatable(L, -2);
        lua_pushnil(L);
    }
    lua_pop(L, 2);
}

/* ---- the rest of the lifecycle ----------------------------------------------------------- */

static int k_params(lua_State *L)
{
    const cl_model_ops *ops = up_ops(L);
    lcl_push_params(L, ops->defs, ops->params_of(cl_model_impl(self(L))));
    return 1;
}

static int k_fitted(lua_State *L)
{
    lua_pushboolean(L, cl_model_fitted(self(L)));
    return 1;
}

static int k_prior(lua_State *L)
{
    const cl_model_ops *ops = up_ops(L);
    cl_model *m = self(L);
    lm_need_fitted(L, m, "prior");
    double tr = NAN, tt = NAN;
    int on = ops->prior ? ops->prior(cl_model_impl(m), &tr, &tt) : 0;
    lm_push_prior(L, tr, tt, on);
    return 1;
}

static int k_features(lua_State *L)
{
    lm_push_features(L, self(L), NULL);
    return 1;
}

static int k_pipeline(lua_State *L)
{
    self(L);
    return lm_pipeline_method(L);
}

/* ---- help texts ---------------------------------------------------------------------------- */

static const lm_doc generic_docs[] = {
    {"predict", "m:predict(X [, {margin = true} | {prior_correction = false|true}]) -> 1-D tensor "
                "of P(y = 1), one per row of X (a raw churnlab.Frame when a pipeline is "
                "attached). After reweighted classes (class weights, scale_pos_weight) the "
                "probabilities are mapped back to the true churn rate of the training labels "
                "(prior correction: odds times (truth/(1-truth)) / (trained/(1-trained)), see "
                "m:prior()) unless the parameter prior_correction is false; the option overrides "
                "the parameter for one call. margin = true: the raw score, never corrected (what "
                "m:decision(X) gives)."},
    {"predict_proba", "m:predict_proba(X [, {prior_correction = false|true}]) -> n x 2 tensor: "
                      "P(y = 0) and P(y = 1) per row (scikit-learn's layout); the second column "
                      "is m:predict(X)."},
    {"decision", "m:decision(X) -> 1-D tensor of margins: the raw score, never prior-corrected "
                 "(m:predict(X, {margin = true}) is the same)."},
    {"history", "m:history() -> table: what the last fit measured: named numbers and flags "
                "(iterations, best round ...), lists per round or epoch (losses, validation "
                "metric; nil where not measured) and warning (a string) when the fit warned. "
                "print() shows it as text. Empty for a new or loaded model."},
    {"save", "m:save(path [, {pipeline = p}]) -> m: writes the fitted model file atomically "
             "(with the pipeline given or attached), creating folders as needed; cl.load(path) "
             "reads it back. Raises naming the file when it cannot be written."},
    {"params", "m:params() -> {name = value}: every parameter of the model, defaults filled in "
               "(help(m) lists their meaning and ranges)."},
    {"fitted", "m:fitted() -> boolean: true once fit has succeeded (or for a loaded model)."},
    {"prior", "m:prior() -> {trained_rate, true_rate, corrected, shift} or nil: the positive rate "
              "of the reweighted data the model was fitted to, the true rate of its training "
              "labels, whether predict corrects, and the log-odds shift it adds to the margin (0 "
              "when it does not). nil when the rates were not recorded (a model file written "
              "before they were, or a kind without reweighting): never corrected."},
    {"features", "m:features() -> {name, ...}: one per column of X: the names given to fit "
                 "(names, or the pipeline's feature names), else x1, x2, ..."},
    {"pipeline", "m:pipeline() -> pipeline | nil: the churnlab.Pipeline attached to the model (by "
                 "fit's or save's pipeline option, or read back from its model file): "
                 "m:predict(frame) transforms raw frames through it and m:save(path) stores it in "
                 "the same file. nil when none."},
    {"free", "m:free(): releases the model's C memory now instead of at garbage collection; any "
             "later use of m is an error ('attempt to use a freed ...'). Calling it twice is "
             "harmless."},
    {NULL, NULL}};

/* The fit text of a kind: the options its fit_flags allow. Pushed. */
static void push_fit_doc(lua_State *L, const cl_model_ops *ops)
{
    unsigned f = ops->fit_flags;
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    luaL_addstring(&b, "m:fit(X, y [, opts]) -> m: fits the model on X (n x d float32 tensor, one "
                       "row per customer) and y (n labels, 0/1); a refit starts from scratch. "
                       "opts: names = {...} (one per column of X), pipeline = p (the fitted "
                       "churnlab.Pipeline that made X: attached, so m:predict(frame) and "
                       "m:save(path) use it; its feature names are taken");
    if (f & CL_FIT_CATEGORICAL)
        luaL_addstring(&b, ", and its categorical columns");
    luaL_addstring(&b, "), verbose (progress: true, false, or 0/1/2)");
    if (f & CL_FIT_VALID)
        luaL_addstring(&b, ", valid = {Xv, yv} (a validation set) or valid_split = f (the last f "
                           "of the rows validate, the others train), early_stop = k (stop after "
                           "k rounds without improvement on the validation set)");
    if (f & CL_FIT_METRIC)
        luaL_addstring(&b, ", metric = 'logloss'|'auc'|'rmse' (the validation metric)");
    if (f & CL_FIT_CATEGORICAL)
        luaL_addstring(&b, ", categorical = {column indices} (native categorical columns: codes "
                           "0, 1, 2 ... as floats)");
    if (f & CL_FIT_DIST)
        luaL_addstring(&b, ", mpi (true, the default: under mpirun with several ranks a "
                           "data-parallel fit over every rank's rows, the same model on each; "
                           "false: this rank's rows alone)");
    if (f & CL_FIT_WEIGHTS)
        luaL_addstring(&b, ", weights = w (n sample weights >= 0, one per row of X: each row's "
                           "loss counts w times, as sklearn/XGBoost sample_weight)");
    luaL_addstring(&b, ". What the fit measured (iterations, losses per round, warnings): "
                       "m:history().");
    luaL_pushresult(&b);
}

static void push_contrib_doc(lua_State *L, const cl_model_ops *ops)
{
    if (ops->needs_ref)
        lua_pushstring(L, "m:contrib(X [, {ref = r}]) -> phi, names: exact contributions on the "
                          "margin scale, n x (d + 1) with the base value last (names ends with "
                          "'(base)'); each row adds up to m:decision(X). Measured against the "
                          "reference row r (d values, default zeros); the training means give "
                          "the interventional SHAP values.");
    else
        lua_pushstring(L, "m:contrib(X) -> phi, names: exact SHAP values on the margin scale, "
                          "n x (d + 1) with the expected value last (names ends with '(base)'); "
                          "each row adds up to m:decision(X).");
}

static const char *note_of(const lm_kind_spec *spec, const char *name)
{
    for (const lm_doc *d = spec && spec->docs ? spec->docs : NULL; d && d->name; d++)
        if (!strcmp(d->name, name))
            return d->doc;
    return NULL;
}

/* Documents the function at the top of the stack: the generic text at -1 plus the kind's note. */
static void doc_with_note(lua_State *L, int fn, const char *note)
{
    if (note) {
        lua_pushliteral(L, " ");
        lua_pushstring(L, note);
        lua_concat(L, 3);
    }
    lcl_setdoc(L, fn, lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* Documents the value at target with `given`, else with the text made for it (at -1, popped). */
static void set_text(lua_State *L, int target, const char *given)
{
    target = lua_absindex(L, target);
    if (given) {
        lua_pop(L, 1);
        lua_pushstring(L, given);
    }
    lcl_setdoc(L, target, lua_tostring(L, -1));
    lua_pop(L, 1);
}

/* Every text of the class at mt (generic methods with the kind's notes, the kind's own
 * methods, the class, the constructor at ctor). */
static void document(lua_State *L, const cl_model_ops *ops, const lm_kind_spec *spec, int mt,
                     int ctor)
{
    lua_getfield(L, mt, "__index");
    int idx = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        const char *name = lua_tostring(L, -2);
        int fn = lua_gettop(L);
        const char *generic = NULL;
        for (int i = 0; generic_docs[i].name; i++)
            if (!strcmp(generic_docs[i].name, name))
                generic = generic_docs[i].doc;
        const char *note = note_of(spec, name);
        if (!strcmp(name, "fit"))
            push_fit_doc(L, ops);
        else if (!strcmp(name, "contrib"))
            push_contrib_doc(L, ops);
        else if (generic)
            lua_pushstring(L, generic);
        else
            lua_pushnil(L);
        if (!lua_isnil(L, -1))
            doc_with_note(L, fn, note);
        else if (note) { /* one of the kind's own methods */
            lua_pop(L, 1);
            lcl_setdoc(L, fn, note);
        } else {
            lua_pop(L, 1);
        }
        lua_settop(L, fn - 1);
    }
    lua_pop(L, 1);
    lua_getfield(L, mt, "__name");
    lua_pushfstring(L, "%s: a churn classifier of kind '%s'. m:fit(X, y [, opts]) -> m; "
                       "m:history(); m:predict(X) -> P(y = 1); m:save(path) -> m (cl.load(path) "
                       "reads it back). help('%s') lists the parameters.",
                    lua_tostring(L, -1), ops->kind, ops->kind);
    set_text(L, -2, spec ? spec->class_doc : NULL);
    lua_pop(L, 1);
    lua_pushfstring(L, "%s{name = value, ...} -> churnlab.%s: a new, unfitted model of kind '%s'; "
                       "unknown parameter names and out-of-range values are errors (the "
                       "parameters are listed below and by help('%s')).",
                    ops->kind, ops->title, ops->kind, ops->kind);
    set_text(L, ctor, spec ? spec->new_doc : NULL);
}

static const luaL_Reg generic_methods[] = {
    {"fit", k_fit},           {"history", k_history},   {"predict", k_predict},
    {"predict_proba", k_predict_proba}, {"decision", k_decision}, {"contrib", k_contrib},
    {"save", k_save},         {"params", k_params},     {"fitted", k_fitted},
    {"prior", k_prior},       {"features", k_features}, {"pipeline", k_pipeline},
    {"free", k_gc},           {NULL, NULL}};

static void push_closure(lua_State *L, lua_CFunction f, const cl_model_ops *ops, int tname)
{
    lua_pushlightuserdata(L, (void *)(uintptr_t)ops);
    lua_pushvalue(L, tname);
    lua_pushcclosure(L, f, 2);
}

/* Makes the metatable, the constructor (into KINDS_KEY) and the loader of a new kind. */
static void make_class(lua_State *L, const cl_model_ops *ops, int tname, int kinds)
{
    if (!luaL_newmetatable(L, lua_tostring(L, tname)))
        luaL_error(L, "model kind '%s': the type name %s is taken", ops->kind,
                   lua_tostring(L, tname));
    int mt = lua_gettop(L);
    lua_pushstring(L, ops->kind);
    lua_setfield(L, mt, "__kind"); /* help(m) shows the kind's parameter table */
    static const char *const meta[] = {"__gc", "__close"};
    for (int i = 0; i < 2; i++) {
        push_closure(L, k_gc, ops, tname);
        lua_setfield(L, mt, meta[i]);
    }
    push_closure(L, k_tostring, ops, tname);
    lua_setfield(L, mt, "__tostring");
    lua_newtable(L);
    for (const luaL_Reg *r = generic_methods; r->name; r++) {
        if (r->func == k_contrib && !ops->contrib)
            continue; /* no exact attribution (mlp): kernel SHAP in churnlab.explain */
        push_closure(L, r->func, ops, tname);
        lua_setfield(L, -2, r->name);
    }
    lua_setfield(L, mt, "__index");
    lua_pop(L, 1);
    push_closure(L, k_new, ops, tname);
    lua_setfield(L, kinds, ops->kind);
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LOADERS_KEY);
    push_closure(L, k_load, ops, tname);
    lua_setfield(L, -2, ops->kind);
    lua_pop(L, 1);
    lcl_register_params(L, ops->kind, ops->defs);
    loaders_fallback(L);
}

void lm_kind_push(lua_State *L, const cl_model_ops *ops, const lm_kind_spec *spec)
{
    int top = lua_gettop(L);
    lua_pushfstring(L, "churnlab.%s", ops->title);
    int tname = top + 1;
    luaL_getsubtable(L, LUA_REGISTRYINDEX, KINDS_KEY);
    int kinds = top + 2;
    int fresh = lua_getfield(L, kinds, ops->kind) == LUA_TNIL;
    lua_pop(L, 1);
    if (fresh)
        make_class(L, ops, tname, kinds);
    lua_getfield(L, kinds, ops->kind); /* the constructor: top + 3 */
    luaL_getmetatable(L, lua_tostring(L, tname));
    int mt = top + 4;
    if (spec && spec->methods) {
        lua_getfield(L, mt, "__index");
        luaL_setfuncs(L, spec->methods, 0);
        lua_pop(L, 1);
    }
    if (fresh || spec)
        document(L, ops, spec, mt, top + 3);
    if (fresh) {
        lua_pushliteral(L, HISTORY_T);
        lcl_setdoc(L, -1, HISTORY_T ": what a model's fit measured (m:history()): a plain table "
                          "of numbers, flags, lists per round and warning; print() shows it.");
        lua_pop(L, 1);
    }
    /* a kind without a binding of its own is reached as cl.model.<kind> */
    if (!spec && !is_builtin(ops) && lua_getfield(L, LUA_REGISTRYINDEX, MODULE_KEY) == LUA_TTABLE) {
        lua_pushvalue(L, top + 3);
        lua_setfield(L, -2, ops->kind);
    }
    lua_settop(L, top + 3);
    lua_replace(L, tname);
    lua_settop(L, top + 1);
}

void lm_kind_push_loader(lua_State *L, const cl_model_ops *ops)
{
    lm_kind_push(L, ops, NULL);
    lua_pop(L, 1);
    lua_pushfstring(L, "churnlab.%s", ops->title);
    lua_pushlightuserdata(L, (void *)(uintptr_t)ops);
    lua_insert(L, -2);
    lua_pushcclosure(L, k_load, 2);
}

void lm_kind_module(lua_State *L, const cl_model_ops *ops, const lm_kind_spec *spec)
{
    lua_createtable(L, 0, 2);
    lm_kind_push(L, ops, spec);
    lua_setfield(L, -2, ops->kind);
    lm_kind_push_loader(L, ops);
    lua_pushfstring(L, "load(path) -> churnlab.%s: reads a %s model file (and the pipeline saved "
                       "with it), raising naming the file when it cannot (or when it holds "
                       "another kind); cl.load(path) reads any kind.", ops->title, ops->kind);
    lcl_setdoc(L, -2, lua_tostring(L, -1));
    lua_pop(L, 1);
    lua_setfield(L, -2, "load");
}

void lm_kinds_init(lua_State *L, int module)
{
    module = lua_absindex(L, module);
    lua_pushvalue(L, module);
    lua_setfield(L, LUA_REGISTRYINDEX, MODULE_KEY);
    loaders_fallback(L);
    for (int i = 0; cl_model_kinds_at(i); i++)
        if (!is_builtin(cl_model_kinds_at(i))) {
            lm_kind_push(L, cl_model_kinds_at(i), NULL);
            lua_pop(L, 1);
        }
}
