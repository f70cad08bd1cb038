/* prep.c - module churnlab.prep: preprocessing pipelines (churnlab.Pipeline).
 *
 *   local p = cl.prep.pipeline{target = "Churn", positive = "Yes", drop = {"customerID"},
 *                              impute = "median", encode = "onehot", scale = "minmax"}
 *   p:fit(train);  local X, y = p:transform(test)
 *   p:feature_names();  p:sources();  p:save("pipe.clm");  cl.load("pipe.clm")
 */
#include "support/lcl.h"

#include <math.h>
#include <string.h>

#include "frame/frame.h"
#include "frame/pipeline.h"

#define PIPELINE "churnlab.Pipeline"
#define FRAME "churnlab.Frame"

/* The box holds the fitted cl_pipeline (NULL before fit); the options table is uservalue 1. */

static int choice(lua_State *L, int o, const char *key, const char *names, int def)
{
    const char *s = lcl_optstr(L, o, key, NULL);
    if (!s)
        return def;
    int k = 0;
    for (const char *p = names; *p; k++) {
        const char *e = strchr(p, '|');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (strlen(s) == n && !strncmp(s, p, n))
            return k;
        if (!e)
            break;
        p = e + 1;
    }
    return luaL_error(L, "pipeline: %s must be one of %s, got '%s'", key, names, s);
}

static void read_opts(lua_State *L, int o, cl_pipeline_opts *opts_out);

static int l_pipeline(lua_State *L)
{
    lua_settop(L, 1);
    if (lua_isnil(L, 1)) {
        lua_newtable(L);
        lua_replace(L, 1);
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const known[] = {"target", "positive", "negative", "drop", "columns",
                                        "impute", "fill_value", "fill_label", "encode",
                                        "unknown", "max_categories", "scale", "clip",
                                        "onehot_drop", "add_indicator", "smooth", "cv",
                                        "shuffle", "seed", NULL};
    lcl_check_options(L, 1, "pipeline", known);
    /* validate now so mistakes show at construction */
    cl_pipeline_opts opts;
    read_opts(L, 1, &opts);
    lua_settop(L, 1);
    lcl_box *b = lcl_newbox(L, PIPELINE);
    b->obj = NULL;
    lua_pushvalue(L, 1);
    lua_setiuservalue(L, -2, 1);
    return 1;
}

static lcl_box *checkbox(lua_State *L, int idx)
{
    return luaL_checkudata(L, idx, PIPELINE);
}

static cl_pipeline *checkfitted(lua_State *L, int idx)
{
    lcl_box *b = checkbox(L, idx);
    if (!b->obj)
        luaL_error(L, "pipeline: not fitted yet (call p:fit(frame) first)");
    return b->obj;
}

/* A string or a list of strings at option `key` (NULL when absent); the array lives in a
 * userdata left on the stack. */
static const char *const *namelist(lua_State *L, int o, const char *key, int *n)
{
    *n = 0;
    if (lua_getfield(L, o, key) == LUA_TNIL)
        return NULL;
    int d = lua_gettop(L);
    if (lua_type(L, d) == LUA_TSTRING) {
        const char **v = lua_newuserdatauv(L, sizeof *v, 0);
        v[0] = lua_tostring(L, d);
        *n = 1;
        return v;
    }
    if (!lua_istable(L, d))
        luaL_error(L, "pipeline: %s must be a column name or a list of them", key);
    int len = (int)luaL_len(L, d);
    const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(len ? len : 1), 0);
    for (int i = 0; i < len; i++) {
        if (lua_geti(L, d, i + 1) != LUA_TSTRING)
            luaL_error(L, "pipeline: %s entry %d must be a column name", key, i + 1);
        v[i] = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    *n = len;
    return v;
}

/* A target value as text: strings as they are, numbers as Lua prints them, booleans "1"/"0"
 * (as positive is read). NULL for anything else. Pushes the text. */
static const char *labeltext(lua_State *L, int idx)
{
    int t = lua_type(L, idx);
    if (t == LUA_TBOOLEAN)
        lua_pushstring(L, lua_toboolean(L, idx) ? "1" : "0");
    else if (t == LUA_TNUMBER || t == LUA_TSTRING)
        lua_pushstring(L, lua_tostring(L, idx));
    else
        return NULL;
    return lua_tostring(L, -1);
}

/* negative = value or {values}: the target values meaning 0. The texts are anchored in a
 * table left on the stack with the array. */
static const char *const *labellist(lua_State *L, int o, const char *key, int *n)
{
    *n = 0;
    if (lua_getfield(L, o, key) == LUA_TNIL)
        return NULL;
    int d = lua_gettop(L);
    int len = lua_istable(L, d) ? (int)luaL_len(L, d) : 1;
    if (len < 0 || len > 100000)
        luaL_error(L, "pipeline: %s has a bad length", key);
    lua_createtable(L, len, 0);
    int anchor = lua_gettop(L);
    const char **v = lua_newuserdatauv(L, sizeof *v * (size_t)(len ? len : 1), 0);
    for (int i = 0; i < len; i++) {
        if (lua_istable(L, d))
            lua_geti(L, d, i + 1);
        else
            lua_pushvalue(L, d);
        const char *s = labeltext(L, -1);
        if (!s)
            luaL_error(L, "pipeline: %s must be a target value or a list of them (entry %d is %s)",
                       key, i + 1, luaL_typename(L, -1));
        v[i] = s;
        lua_rawseti(L, anchor, i + 1); /* keeps the text alive */
        lua_pop(L, 1);
    }
    *n = len;
    return v;
}

/* smooth = "auto" | number >= 0 -> the C value (< 0: auto) */
static double smooth_opt(lua_State *L, int o)
{
    int t = lua_getfield(L, o, "smooth");
    double v = -1;
    if (t == LUA_TSTRING && !strcmp(lua_tostring(L, -1), "auto"))
        v = -1;
    else if (t == LUA_TNUMBER && lua_tonumber(L, -1) >= 0 && lua_tonumber(L, -1) < HUGE_VAL)
        v = lua_tonumber(L, -1);
    else if (t != LUA_TNIL)
        luaL_error(L, "pipeline: smooth must be \"auto\" or a number >= 0, got %s",
                   luaL_tolstring(L, -1, NULL));
    lua_pop(L, 1);
    return v;
}

/* A whole number option in [lo, hi] (def when absent). */
static lua_Integer int_opt(lua_State *L, int o, const char *key, lua_Integer lo, lua_Integer hi,
                           lua_Integer def)
{
    int t = lua_getfield(L, o, key);
    lua_Integer v = def;
    if (t != LUA_TNIL) {
        int isint;
        v = lua_tointegerx(L, -1, &isint);
        if (!isint || v < lo || v > hi)
            luaL_error(L, "pipeline: %s must be a whole number in [%I, %I], got %s", key,
                       (LUAI_UACINT)lo, (LUAI_UACINT)hi, luaL_tolstring(L, -1, NULL));
    }
    lua_pop(L, 1);
    return v;
}

/* The options table at o into opts; the strings stay anchored on the stack above o. */
static void read_opts(lua_State *L, int o, cl_pipeline_opts *opts_out)
{
    cl_pipeline_opts opts;
    cl_pipeline_opts_default(&opts);
    if (lua_istable(L, o)) {
        opts.target = lcl_optstr(L, o, "target", NULL);
        if (lua_getfield(L, o, "positive") == LUA_TNUMBER || lua_isboolean(L, -1)) {
            if (lua_isboolean(L, -1))
                lua_pushstring(L, lua_toboolean(L, -1) ? "1" : "0");
            else
                lua_pushstring(L, lua_tostring(L, -1));
            opts.positive = lua_tostring(L, -1); /* kept on the stack */
        } else {
            lua_pop(L, 1);
            opts.positive = lcl_optstr(L, o, "positive", NULL);
        }
        opts.negative = labellist(L, o, "negative", &opts.nnegative);
        opts.drop = namelist(L, o, "drop", &opts.ndrop);
        opts.columns = namelist(L, o, "columns", &opts.ncolumns);
        opts.impute = (cl_impute)choice(L, o, "impute", CL_PIPELINE_IMPUTE_NAMES, CL_IMPUTE_MEDIAN);
        opts.encode = (cl_encode)choice(L, o, "encode", CL_PIPELINE_ENCODE_NAMES, CL_ENCODE_ONEHOT);
        opts.scale = (cl_scale)choice(L, o, "scale", CL_PIPELINE_SCALE_NAMES, CL_SCALE_NONE);
        opts.unknown = (cl_unknown)choice(L, o, "unknown", CL_PIPELINE_UNKNOWN_NAMES, CL_UNKNOWN_ZERO);
        opts.fill_value = lcl_optnum(L, o, "fill_value", 0);
        opts.fill_label = lcl_optstr(L, o, "fill_label", "missing");
        double mc = lcl_optnum(L, o, "max_categories", 0);
        if (mc < 0 || mc > 1e6)
            luaL_error(L, "pipeline: max_categories must be in [0, 1000000], got %f", mc);
        opts.max_categories = (int)mc;
        opts.clip = lcl_optbool(L, o, "clip", 0);
        opts.onehot_drop = (cl_onehot_drop)choice(L, o, "onehot_drop", CL_PIPELINE_ONEHOT_DROP_NAMES,
                                                  CL_ONEHOT_DROP_NONE);
        opts.add_indicator = lcl_optbool(L, o, "add_indicator", 0);
        opts.smooth = smooth_opt(L, o);
        opts.cv = (int)int_opt(L, o, "cv", 2, 1000000, 5);
        opts.shuffle = lcl_optbool(L, o, "shuffle", 1);
        opts.seed = (uint64_t)int_opt(L, o, "seed", LUA_MININTEGER, LUA_MAXINTEGER, 42);
    }
    *opts_out = opts;
}

static int p_fit(lua_State *L)
{
    lcl_box *b = checkbox(L, 1);
    cl_frame *f = lcl_checkobj(L, 2, FRAME);
    lua_getiuservalue(L, 1, 1);
    cl_pipeline_opts opts;
    read_opts(L, lua_gettop(L), &opts);
    /* a new pipeline each fit, from the step's options as they are now; the box keeps the
     * one before when this fit fails */
    cl_pipeline *p;
    int rc = cl_pipeline_new(&p, &opts);
    if (!rc && (rc = cl_pipeline_fit(p, f)))
        cl_pipeline_free(p);
    LCL_CHECK(L, rc);
    cl_pipeline_free(b->obj);
    b->obj = p;
    lua_settop(L, 1);
    return 1;
}

static int p_transform(lua_State *L)
{
    cl_pipeline *p = checkfitted(L, 1);
    cl_frame *f = lcl_checkobj(L, 2, FRAME);
    cl_tensor *X, *y;
    LCL_CHECK(L, cl_pipeline_transform(p, f, &X, &y));
    lcl_pushtensor(L, X);
    if (y)
        lcl_pushtensor(L, y);
    else
        lua_pushnil(L);
    return 2;
}

static int p_transform_frame(lua_State *L)
{
    cl_pipeline *p = checkfitted(L, 1);
    cl_frame *f = lcl_checkobj(L, 2, FRAME);
    cl_frame *r;
    LCL_CHECK(L, cl_pipeline_transform_frame(p, f, &r));
    lcl_box *b = lcl_newbox(L, FRAME);
    b->obj = r;
    lcl_gc_check(L);
    return 1;
}

/* Single steps: a pipeline restricted to `columns` doing one thing; transform_frame gives
 * the frame with those columns transformed. step(opts, preset...) copies opts (columns,
 * and the step's own keys) over the preset. */
static int make_step(lua_State *L, const char *const *preset, const char *const *allowed,
                     const char *what)
{
    lua_settop(L, 1);
    const char *known[16];
    int nk = 0;
    for (int i = 0; allowed[i] && nk < 15; i += 2)
        known[nk++] = allowed[i];
    known[nk] = NULL;
    lcl_check_options(L, 1, what, known);
    lua_newtable(L);
    for (int i = 0; preset[i]; i += 2) {
        lua_pushstring(L, preset[i + 1]);
        lua_setfield(L, 2, preset[i]);
    }
    if (lua_istable(L, 1)) {
        lua_pushnil(L);
        while (lua_next(L, 1)) {
            const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
            const char *as = NULL;
            for (int i = 0; allowed[i]; i += 2)
                if (!strcmp(allowed[i], k))
                    as = allowed[i + 1];
            if (!as)
                return luaL_error(L, "%s: unknown option '%s'", what, k);
            lua_pushvalue(L, -1);
            lua_setfield(L, 2, as);
            lua_pop(L, 1);
        }
    }
    lua_replace(L, 1);
    return l_pipeline(L);
}

static int l_imputer(lua_State *L)
{
    static const char *const preset[] = {"impute", "median", "encode", "none", NULL};
    static const char *const allowed[] = {"columns", "columns", "strategy", "impute",
                                          "fill_value", "fill_value", "fill_label", "fill_label",
                                          "add_indicator", "add_indicator", NULL};
    return make_step(L, preset, allowed, "imputer");
}

static int l_scaler(lua_State *L)
{
    static const char *const preset[] = {"impute", "none", "encode", "none", "scale", "standard",
                                         NULL};
    static const char *const allowed[] = {"columns", "columns", "kind", "scale", "clip", "clip",
                                          NULL};
    return make_step(L, preset, allowed, "scaler");
}

static int l_onehot(lua_State *L)
{
    static const char *const preset[] = {"impute", "none", "encode", "onehot", NULL};
    static const char *const allowed[] = {"columns", "columns", "unknown", "unknown",
                                          "max_categories", "max_categories",
                                          "drop", "onehot_drop", NULL};
    return make_step(L, preset, allowed, "onehot");
}

static int l_ordinal(lua_State *L)
{
    static const char *const preset[] = {"impute", "none", "encode", "ordinal", NULL};
    static const char *const allowed[] = {"columns", "columns", "unknown", "unknown", NULL};
    return make_step(L, preset, allowed, "ordinal");
}

/* fit then transform, with out-of-fold target encodings (cl_pipeline_fit_transform) */
static int p_fit_transform(lua_State *L)
{
    lcl_box *b = checkbox(L, 1);
    cl_frame *f = lcl_checkobj(L, 2, FRAME);
    lua_settop(L, 2);
    lua_getiuservalue(L, 1, 1);
    cl_pipeline_opts opts;
    read_opts(L, 3, &opts);
    cl_pipeline *p;
    cl_tensor *X, *y;
    int rc = cl_pipeline_new(&p, &opts);
    if (!rc && (rc = cl_pipeline_fit_transform(p, f, &X, &y)))
        cl_pipeline_free(p);
    LCL_CHECK(L, rc);
    cl_pipeline_free(b->obj);
    b->obj = p;
    lcl_pushtensor(L, X);
    if (y)
        lcl_pushtensor(L, y);
    else
        lua_pushnil(L);
    return 2;
}

static int p_feature_names(lua_State *L)
{
    cl_pipeline *p = checkfitted(L, 1);
    int n = cl_pipeline_n_features(p);
    lua_createtable(L, n, 0);
    for (int j = 0; j < n; j++) {
        lua_pushstring(L, cl_pipeline_feature_name(p, j));
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

/* unscale(j, z) -> x: feature j's value z in the units of its input column. */
static int p_unscale(lua_State *L)
{
    cl_pipeline *p = checkfitted(L, 1);
    lua_Integer j = luaL_checkinteger(L, 2);
    double z = luaL_checknumber(L, 3);
    int n = cl_pipeline_n_features(p);
    luaL_argcheck(L, j >= 1 && j <= n, 2, lua_pushfstring(L, "feature index out of range 1..%d", n));
    double scale, shift;
    cl_pipeline_unscale(p, (int)j - 1, &scale, &shift);
    lua_pushnumber(L, z * scale + shift);
    return 1;
}

/* sources() -> list of {feature, column, label?, categorical, categories?} per output column */
static int p_sources(lua_State *L)
{
    cl_pipeline *p = checkfitted(L, 1);
    int n = cl_pipeline_n_features(p);
    lua_createtable(L, n, 0);
    for (int j = 0; j < n; j++) {
        const char *col, *lab;
        cl_pipeline_source(p, j, &col, &lab);
        lua_createtable(L, 0, 5);
        lua_pushstring(L, cl_pipeline_feature_name(p, j));
        lua_setfield(L, -2, "feature");
        lua_pushstring(L, col);
        lua_setfield(L, -2, "column");
        if (lab) {
            lua_pushstring(L, lab);
            lua_setfield(L, -2, "label");
        }
        int ncat;
        int iscat = cl_pipeline_out_categorical(p, j, &ncat);
        lua_pushboolean(L, iscat);
        lua_setfield(L, -2, "categorical");
        if (iscat) {
            lua_createtable(L, ncat, 0);
            for (int k = 0; k < ncat; k++) {
                lua_pushstring(L, cl_pipeline_category(p, j, k));
                lua_rawseti(L, -2, k + 1);
            }
            lua_setfield(L, -2, "categories");
        }
        lua_rawseti(L, -2, j + 1);
    }
    return 1;
}

static int p_save(lua_State *L)
{
    cl_pipeline *p = checkfitted(L, 1);
    const char *path = luaL_checkstring(L, 2);
    int rc = cl_pipeline_io_save(p, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    lua_settop(L, 1);
    return 1;
}

static void push_pipeline(lua_State *L, cl_pipeline *p)
{
    lcl_box *b = lcl_newbox(L, PIPELINE);
    b->obj = p;
    /* options table rebuilt from the fitted pipeline, for printing and refits */
    const cl_pipeline_opts *o = cl_pipeline_options(p);
    lua_newtable(L);
    if (o->target) {
        lua_pushstring(L, o->target);
        lua_setfield(L, -2, "target");
    }
    if (o->positive) {
        lua_pushstring(L, o->positive);
        lua_setfield(L, -2, "positive");
    }
    lua_createtable(L, o->ndrop, 0);
    for (int k = 0; k < o->ndrop; k++) {
        lua_pushstring(L, o->drop[k]);
        lua_rawseti(L, -2, k + 1);
    }
    lua_setfield(L, -2, "drop");
    static const char *const imp[] = {"mean", "median", "most_frequent", "constant", "none"};
    static const char *const enc[] = {"onehot", "ordinal", "native", "none", "target"};
    static const char *const sc[] = {"none", "minmax", "standard", "robust"};
    static const char *const unk[] = {"zero", "other"};
    lua_pushstring(L, imp[o->impute]);
    lua_setfield(L, -2, "impute");
    lua_pushstring(L, enc[o->encode]);
    lua_setfield(L, -2, "encode");
    lua_pushstring(L, sc[o->scale]);
    lua_setfield(L, -2, "scale");
    lua_pushstring(L, unk[o->unknown]);
    lua_setfield(L, -2, "unknown");
    lua_pushinteger(L, o->max_categories);
    lua_setfield(L, -2, "max_categories");
    lua_pushboolean(L, o->clip);
    lua_setfield(L, -2, "clip");
    lua_pushnumber(L, o->fill_value);
    lua_setfield(L, -2, "fill_value");
    lua_pushstring(L, o->fill_label);
    lua_setfield(L, -2, "fill_label");
    static const char *const drp[] = {"none", "first", "if_binary"};
    lua_pushstring(L, drp[o->onehot_drop]);
    lua_setfield(L, -2, "onehot_drop");
    lua_pushboolean(L, o->add_indicator);
    lua_setfield(L, -2, "add_indicator");
    if (o->smooth < 0)
        lua_pushstring(L, "auto");
    else
        lua_pushnumber(L, o->smooth);
    lua_setfield(L, -2, "smooth");
    lua_pushinteger(L, o->cv);
    lua_setfield(L, -2, "cv");
    lua_pushboolean(L, o->shuffle);
    lua_setfield(L, -2, "shuffle");
    lua_pushinteger(L, (lua_Integer)o->seed);
    lua_setfield(L, -2, "seed");
    lua_setiuservalue(L, -2, 1);
}

static int l_load(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    cl_pipeline *p;
    int rc = cl_pipeline_io_load(&p, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    push_pipeline(L, p);
    return 1;
}

static int p_gc(lua_State *L)
{
    lcl_box *b = luaL_checkudata(L, 1, PIPELINE);
    cl_pipeline_free(b->obj);
    b->obj = NULL;
    return 0;
}

static int p_tostring(lua_State *L)
{
    lcl_box *b = checkbox(L, 1);
    if (!b->obj)
        lua_pushstring(L, PIPELINE " (not fitted)");
    else
        lua_pushfstring(L, PIPELINE " %d inputs -> %d features", cl_pipeline_n_inputs(b->obj),
                        cl_pipeline_n_features(b->obj));
    return 1;
}

static int p_options(lua_State *L)
{
    checkbox(L, 1);
    lua_getiuservalue(L, 1, 1);
    return 1;
}

static int p_fitted(lua_State *L)
{
    lua_pushboolean(L, checkbox(L, 1)->obj != NULL);
    return 1;
}

static const luaL_Reg methods[] = {
    {"fit", p_fit},         {"transform", p_transform}, {"fit_transform", p_fit_transform},
    {"transform_frame", p_transform_frame},
    {"feature_names", p_feature_names}, {"sources", p_sources}, {"save", p_save},
    {"options", p_options}, {"fitted", p_fitted},       {"unscale", p_unscale},
    {NULL, NULL}};

static const luaL_Reg meta[] = {
    {"__gc", p_gc}, {"__close", p_gc}, {"__tostring", p_tostring}, {NULL, NULL}};

static const luaL_Reg funcs[] = {{"pipeline", l_pipeline}, {"load", l_load},
                                 {"imputer", l_imputer},   {"scaler", l_scaler},
                                 {"onehot", l_onehot},     {"ordinal", l_ordinal},
                                 {NULL, NULL}};

static const struct {
    const char *name, *text;
} method_docs[] = {
    {"fit", "p:fit(frame) -> p: learns imputation values, categories and scaling from the frame"},
    {"transform", "p:transform(frame) -> X, y: float32 features (rows x p:feature_names()) and "
                  "0/1 labels (nil when the frame has no target column)"},
    {"fit_transform", "p:fit_transform(frame) -> X, y: fit then transform, except that with "
                      "encode = target the rows of X get out-of-fold encodings (cv folds "
                      "stratified on the target: no row sees its own label), as sklearn's "
                      "TargetEncoder.fit_transform; transform later uses the full-frame "
                      "encodings"},
    {"transform_frame", "p:transform_frame(frame) -> frame: the input columns replaced by their "
                        "outputs (imputed, scaled, encoded), other columns unchanged"},
    {"feature_names", "p:feature_names() -> {name, ...}: one per column of X (\"col=label\" for "
                      "one-hot columns)"},
    {"unscale", "p:unscale(j, z) -> x: the value z of feature j (a column of X) in the units of "
                "its input column, undoing the scaling (one-hot and native categorical features "
                "come back unchanged)"},
    {"sources", "p:sources() -> {{feature, column, label, categorical, categories}, ...}: where "
                "each column of X comes from"},
    {"save", "p:save(path) -> p: writes a pipeline file; cl.load(path) reads it back"},
    {"options", "p:options() -> the options table"},
    {"fitted", "p:fitted() -> true after fit"},
    {NULL, NULL}};

int luaopen_churnlab_prep(lua_State *L);
int luaopen_churnlab_prep(lua_State *L)
{
    lcl_createmeta(L, PIPELINE, meta, methods);
    lcl_setdoc(L, -1, "A preprocessing pipeline: impute, encode and scale the columns of a frame "
                      "into the float32 tensor a model eats, identically for every frame.");
    lua_getfield(L, -1, "__index");
    for (int i = 0; method_docs[i].name; i++) {
        lua_getfield(L, -1, method_docs[i].name);
        lcl_setdoc(L, -1, method_docs[i].text);
        lua_pop(L, 1);
    }
    lua_pop(L, 2);
    lcl_register_loader(L, "pipeline", l_load);
    luaL_newlib(L, funcs);
    static const struct {
        const char *name, *text;
    } step_docs[] = {
        {"imputer", "imputer{strategy = median|mean|most_frequent|constant, fill_value, "
                    "fill_label, add_indicator, columns} -> step: :fit(df), :transform_frame(df) "
                    "fills missing values (cat columns stay labels); add_indicator = true adds "
                    "a 0/1 \"col=(missing)\" column for each column missing somewhere in the "
                    "fit frame (sklearn's add_indicator)"},
        {"scaler", "scaler{kind = standard|minmax|robust, clip, columns} -> step: :fit(df), "
                   ":transform_frame(df) scales num columns (robust: (x - median) / IQR, "
                   "sklearn's RobustScaler)"},
        {"onehot", "onehot{columns, max_categories, unknown = zero|other, drop = none|first|"
                   "if_binary} -> step: one 0/1 column per category (\"col=label\"); drop = "
                   "first leaves out each column's first category (sorted labels), if_binary "
                   "only for two-category columns (sklearn's drop; a dropped, missing or "
                   "unknown category then gives all zeros)"},
        {"ordinal", "ordinal{columns, unknown} -> step: categories as codes 0..k-1 (sorted labels)"},
        {"load", "load(path) -> pipeline | nil, msg: reads a pipeline file written by "
                 "p:save(path) (cl.load reads it too)."},
        {NULL, NULL}};
    for (int i = 0; step_docs[i].name; i++) {
        lua_getfield(L, -1, step_docs[i].name);
        lcl_setdoc(L, -1, step_docs[i].text);
        lua_pop(L, 1);
    }
    lua_getfield(L, -1, "pipeline");
    lcl_setdoc(L, -1,
               "pipeline{target, positive, negative, drop = {columns}, columns, impute = median|"
               "mean|most_frequent|constant|none, fill_value, fill_label, add_indicator, encode "
               "= onehot|ordinal|native|target, onehot_drop = none|first|if_binary, unknown = "
               "zero|other, max_categories, scale = none|minmax|standard|robust, clip, smooth = "
               "auto|m, cv = 5, shuffle = true, seed = 42} -> pipeline: p:fit(frame), X, y = "
               "p:transform(frame), p:feature_names(), p:sources(), p:save(path). "
               "add_indicator: a 0/1 \"col=(missing)\" output per column missing in the fit "
               "frame. onehot_drop = first: no column for each cat column's first category "
               "(if_binary: only two-category columns), so the design has no redundant column "
               "(each cat column's full one-hot sums to 1: Cox aliases one of them, an "
               "unpenalised fit is not identified); a dropped, missing or unknown category "
               "gives all zeros. scale = robust: (x - median) / IQR. encode = target: one column, the "
               "category's smoothed churn rate (sklearn's TargetEncoder: smooth = \"auto\" "
               "empirical Bayes, or m: (sum + m * mean) / (n + m)); unknown categories get the "
               "mean; p:fit_transform(train) gives out-of-fold encodings over cv folds "
               "(stratified, shuffled with seed unless shuffle = false).");
    lua_pop(L, 1);
    return 1;
}
