/* cluster.c - module churnlab.cluster: k-means segmentation and silhouette scores. */
#include "support/lcl.h"

#include "analysis/kmeans.h"

#include <string.h>

#define KM_T "churnlab.KMeans"

typedef struct km_ud {
    cl_kmeans_params p;
    cl_kmeans *m; /* NULL until fitted */
    int freed;
} km_ud;

static km_ud *checkkm(lua_State *L, int i)
{
    km_ud *u = luaL_checkudata(L, i, KM_T);
    if (u->freed)
        luaL_argerror(L, i, "attempt to use a freed " KM_T);
    return u;
}

static cl_kmeans *fitted(lua_State *L, int i, const char *what)
{
    km_ud *u = checkkm(L, i);
    if (!u->m)
        luaL_error(L, "%s: the k-means model is not fitted (call fit first)", what);
    return u->m;
}

static km_ud *new_ud(lua_State *L)
{
    km_ud *u = lua_newuserdatauv(L, sizeof *u, 0);
    u->p = cl_kmeans_params_default();
    u->m = NULL;
    u->freed = 0;
    luaL_setmetatable(L, KM_T);
    return u;
}

/* float32 row-major copy of a tensor or table-of-rows matrix, on the stack */
static float *checkX(lua_State *L, int idx, int64_t *n, int *d)
{
    double *X = lcl_checkmat(L, idx, n, d);
    float *f = lua_newuserdatauv(L, (size_t)(*n * *d > 0 ? *n * *d : 1) * sizeof *f, 0);
    for (int64_t i = 0; i < *n * *d; i++)
        f[i] = (float)X[i];
    return f;
}

static int push_labels(lua_State *L, const int32_t *lab, int64_t n)
{
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 1, n, 1));
    for (int64_t i = 0; i < n; i++)
        cl_tensor_data(t)[i] = (float)(lab[i] + 1); /* 1-based like Lua */
    return lcl_pushtensor(L, t);
}

static int l_kmeans(lua_State *L)
{
    km_ud *u = new_ud(L);
    lcl_params(L, 1, cl_kmeans_param_defs, &u->p, "kmeans");
    return 1;
}

/* m:fit(X) -> labels (1-based tensor) */
static int km_fit(lua_State *L)
{
    lua_settop(L, 3); /* the options slot must not be taken by the buffers pushed below */
    km_ud *u = checkkm(L, 1);
    static const char *const known[] = {"verbose", NULL};
    lcl_check_options(L, 3, "fit", known);
    int64_t n;
    int d;
    float *X = checkX(L, 2, &n, &d);
    int32_t *lab = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *lab, 0);
    cl_progress *prog = lcl_progress_new(L, 3);
    cl_kmeans *m; /* u->m stays NULL until a fit succeeds: fitted() reads that */
    int rc = cl_kmeans_new(&m, &u->p);
    if (!rc)
        rc = cl_kmeans_fit(m, X, n, d, lab, prog);
    lcl_progress_end(prog); /* close the bar now: after convergence, an error or Ctrl-C too */
    if (rc)
        cl_kmeans_free(m);
    LCL_CHECK(L, rc);
    cl_kmeans_free(u->m);
    u->m = m;
    lcl_gc_check(L);
    return push_labels(L, lab, n);
}

static int km_predict(lua_State *L)
{
    cl_kmeans *m = fitted(L, 1, "predict");
    int64_t n;
    int d;
    float *X = checkX(L, 2, &n, &d);
    int32_t *lab = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *lab, 0);
    LCL_CHECK(L, cl_kmeans_predict(m, X, n, d, lab));
    return push_labels(L, lab, n);
}

static int km_centers(lua_State *L)
{
    cl_kmeans *m = fitted(L, 1, "centers");
    cl_tensor *t;
    LCL_CHECK(L, cl_tensor_new(&t, 2, m->k, m->d));
    for (int64_t i = 0; i < (int64_t)m->k * m->d; i++)
        cl_tensor_data(t)[i] = (float)m->centers[i];
    return lcl_pushtensor(L, t);
}

static int km_info(lua_State *L)
{
    km_ud *u = checkkm(L, 1);
    lcl_push_params(L, cl_kmeans_param_defs, &u->p);
    if (u->m) {
        lua_pushnumber(L, u->m->inertia);
        lua_setfield(L, -2, "inertia");
        lua_pushinteger(L, u->m->iters);
        lua_setfield(L, -2, "iters");
        lua_createtable(L, u->m->k, 0);
        for (int c = 0; c < u->m->k; c++) {
            lua_pushinteger(L, u->m->sizes[c]);
            lua_rawseti(L, -2, c + 1);
        }
        lua_setfield(L, -2, "sizes");
    }
    return 1;
}

static int km_save(lua_State *L)
{
    cl_kmeans *m = fitted(L, 1, "save");
    const char *path = luaL_checkstring(L, 2);
    cl_mw *w = cl_modelio_w_new("kmeans");
    if (!w)
        return lcl_raise(L, CL_ENOMEM);
    cl_kmeans_write(m, w);
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
    km_ud *u = new_ud(L);
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return lcl_raise_file(L, rc, path);
    rc = cl_kmeans_read(&u->m, r);
    cl_modelio_r_free(r);
    if (rc)
        return lcl_raise_file(L, rc, path);
    u->p = u->m->params;
    return 1;
}

static int l_silhouette(lua_State *L)
{
    lua_settop(L, 3);
    int64_t n, nl;
    int d;
    float *X = checkX(L, 1, &n, &d);
    double *lv = lcl_checkvec(L, 2, &nl);
    if (nl != n)
        return luaL_error(L, "silhouette: X has %d rows but labels has %d", (int)n, (int)nl);
    int32_t *lab = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *lab, 0);
    int k = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!(lv[i] >= 1 && lv[i] <= 1e6) || lv[i] != (double)(int64_t)lv[i])
            return luaL_error(L, "silhouette: label %d must be an integer >= 1, got %f",
                              (int)i + 1, lv[i]);
        lab[i] = (int32_t)lv[i] - 1;
        if (lab[i] + 1 > k)
            k = lab[i] + 1;
    }
    static const char *const known[] = {"sample", "seed", NULL};
    lcl_check_options(L, 3, "silhouette", known);
    int64_t sample = (int64_t)lcl_optnum(L, 3, "sample", 0);
    uint64_t seed = (uint64_t)lcl_optnum(L, 3, "seed", 42);
    double s;
    LCL_CHECK(L, cl_kmeans_silhouette(X, n, d, lab, k, sample, seed, &s));
    lua_pushnumber(L, s);
    return 1;
}

static int km_gc(lua_State *L)
{
    km_ud *u = luaL_checkudata(L, 1, KM_T);
    cl_kmeans_free(u->m);
    u->m = NULL;
    u->freed = 1;
    return 0;
}

static int km_tostring(lua_State *L)
{
    km_ud *u = luaL_checkudata(L, 1, KM_T);
    if (u->freed)
        lua_pushstring(L, KM_T " (freed)");
    else if (!u->m)
        lua_pushfstring(L, KM_T " k=%d (not fitted)", u->p.k);
    else
        lua_pushfstring(L, KM_T " k=%d d=%d inertia=%f (%d iterations)", u->m->k, u->m->d,
                        u->m->inertia, u->m->iters);
    return 1;
}

static const luaL_Reg funcs[] = {{"kmeans", l_kmeans}, {"silhouette", l_silhouette},
                                 {"load", l_load},     {NULL, NULL}};
static const luaL_Reg methods[] = {{"fit", km_fit},         {"predict", km_predict},
                                   {"centers", km_centers}, {"info", km_info},
                                   {"save", km_save},       {NULL, NULL}};
static const luaL_Reg meta[] = {{"__gc", km_gc}, {"__close", km_gc}, {"__tostring", km_tostring},
                                {NULL, NULL}};

static const lcl_doc method_docs[] = {
    {"fit", "m:fit(X [, {verbose =}]) -> labels: clusters the rows of X (a 2-D tensor or a "
            "table of rows; scale the columns first) with k-means++ seeding, keeping the best "
            "of `restarts` runs; returns a 1-D tensor of 1-based cluster labels. A refit "
            "replaces the model only when it succeeds."},
    {"predict", "m:predict(X) -> labels: the 1-based label of the nearest center for each row "
                "(X with the fitted number of columns). An error before fit."},
    {"centers", "m:centers() -> k x d tensor: the cluster centers, row c for label c."},
    {"info", "m:info() -> {k, restarts, max_iter, tol, seed [, inertia, iters, sizes]}: the "
             "parameters and, once fitted, the within-cluster sum of squares, the iterations of "
             "the best run and the rows per cluster."},
    {"save", "m:save(path): writes the fitted model to a model file (kind 'kmeans'); cl.load(path) "
             "or cluster.load(path) reads it back. An error before fit."},
    {NULL, NULL}};

int luaopen_churnlab_cluster(lua_State *L);
int luaopen_churnlab_cluster(lua_State *L)
{
    lcl_createmeta(L, KM_T, meta, methods);
    lua_getfield(L, -1, "__index");
    lcl_setdocs(L, -1, method_docs);
    lua_pop(L, 1); /* __index */
    lcl_setdoc(L, -1, "churnlab.KMeans: k-means segments from cl.cluster.kmeans{...}: m:fit(X) "
                      "-> labels, m:predict(X), m:centers(), m:info(), m:save(path).");
    lua_pop(L, 1);
    lcl_register_params(L, "kmeans", cl_kmeans_param_defs);
    lcl_register_loader(L, "kmeans", l_load);
    luaL_newlib(L, funcs);
    lcl_setdoc(L, -1, "churnlab.cluster: k-means customer segments and silhouette scores.");
    lua_getfield(L, -1, "kmeans");
    lcl_setdoc(L, -1, "kmeans{k = 8, restarts = 4, max_iter = 300, tol = 1e-6, seed = 42} -> "
                      "model: m:fit(X) returns 1-based cluster labels; m:predict(X), "
                      "m:centers(), m:info() (inertia, sizes), m:save(path). Ctrl-C during "
                      "fit leaves the model as it was (unfitted, or its previous fit).");
    lua_pop(L, 1);
    lua_getfield(L, -1, "silhouette");
    lcl_setdoc(L, -1, "silhouette(X, labels, {sample = 0, seed = 42}) -> mean silhouette "
                      "coefficient (-1..1, higher = better separated); sample > 0 scores a "
                      "random subset of rows for speed.");
    lua_pop(L, 1);
    lua_getfield(L, -1, "load");
    lcl_setdoc(L, -1, "load(path) -> model | nil, msg: reads a k-means file written by "
                      "m:save(path) (cl.load reads it too).");
    lua_pop(L, 1);
    return 1;
}
