/* livescore.c - churn risk and reasons of live customers in C (see livescore.h).
 *
 * At _new every input column of the model's pipeline is bound to its source: a live feature,
 * the plan, the user id, or a column of the profiles frame (retained, with a user -> row map).
 * A score builds the pipeline's input frame for the asked customers from those sources (the
 * columns notebook 02 writes, profile columns keeping their types and dictionaries), then
 * runs the model's pipeline and the model: the batch path on a frame of n rows. */
#include "live/livescore.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "frame/frame.h"
#include "frame/pipeline.h"
#include "tensor/tensor.h"
#include "trees/forest.h"
#include "trees/gbdt.h"

enum { SRC_LIVE, SRC_PLAN, SRC_USER, SRC_PROFILE };

typedef struct src {
    int kind;
    int feature;     /* SRC_LIVE: index into cl_livestate_feature_defs */
    cl_column *col;  /* SRC_PROFILE: the profiles' column (retained) */
} src;

struct cl_livescore {
    const cl_livestate *s;
    const cl_model *m;
    const cl_pipeline *pipe;
    int nin;
    src *src;
    int64_t *prow;     /* user id -> profile row, -1 none; maxid + 1 entries */
    int32_t maxid;
    cl_dict *plans;    /* plan names in plan order: code = plan index */
    float *ref;        /* the mean input row, for kinds whose contributions need one */
    /* the row key (livescore.h): per model feature its sorted distinct thresholds
     * cuts[off[j] .. off[j + 1]), or raw[j] = 1 to key on the value's bits */
    int64_t nkey;
    int64_t *off;
    float *cuts;
    uint8_t *raw;
};

void cl_livescore_free(cl_livescore *sc)
{
    if (!sc)
        return;
    for (int i = 0; sc->src && i < sc->nin; i++)
        cl_frame_column_free(sc->src[i].col);
    cl_alloc_free(sc->src);
    cl_alloc_free(sc->prow);
    cl_frame_dict_free(sc->plans);
    cl_alloc_free(sc->ref);
    cl_alloc_free(sc->off);
    cl_alloc_free(sc->cuts);
    cl_alloc_free(sc->raw);
    cl_alloc_free(sc);
}

static int live_feature(const char *name)
{
    for (int j = 0; j < CL_LIVE_NFEATURES; j++)
        if (!strcmp(cl_livestate_feature_defs[j].name, name))
            return j;
    return -1;
}

/* The user -> profile row map from the profiles' numeric user_id column. */
static int map_profiles(cl_livescore *sc, const cl_frame *profiles)
{
    int iu = cl_frame_find(profiles, "user_id");
    if (iu < 0 || profiles->cols[iu]->type != CL_NUM)
        return cl_error(CL_EINVAL, "livescore: profiles need a numeric 'user_id' column");
    const cl_column *u = profiles->cols[iu];
    double mx = 0;
    for (int64_t i = 0; i < u->n; i++) {
        double v = u->num[i];
        if (!(v >= 1 && v <= INT32_MAX) || v != floor(v))
            return cl_error(CL_EINVAL, "livescore: profiles row %lld: user_id %g is not a whole "
                                       "number >= 1", (long long)i + 1, v);
        if (v > mx)
            mx = v;
    }
    sc->maxid = (int32_t)mx;
    if (!(sc->prow = cl_alloc(sizeof *sc->prow * ((size_t)sc->maxid + 1))))
        return CL_ENOMEM;
    for (int32_t k = 0; k <= sc->maxid; k++)
        sc->prow[k] = -1;
    for (int64_t i = 0; i < u->n; i++) {
        int32_t id = (int32_t)u->num[i];
        if (sc->prow[id] >= 0)
            return cl_error(CL_EINVAL, "livescore: profiles rows %lld and %lld: user_id %d twice",
                            (long long)sc->prow[id] + 1, (long long)i + 1, (int)id);
        sc->prow[id] = i;
    }
    return CL_OK;
}

static int bind_inputs(cl_livescore *sc, const cl_frame *profiles)
{
    int nin = cl_pipeline_n_inputs(sc->pipe);
    if (!(sc->src = cl_alloc_calloc((size_t)(nin > 0 ? nin : 1), sizeof *sc->src)))
        return CL_ENOMEM;
    sc->nin = nin;
    for (int i = 0; i < nin; i++) {
        const char *name = cl_pipeline_input_name(sc->pipe, i);
        src *x = &sc->src[i];
        int k;
        if ((x->feature = live_feature(name)) >= 0) {
            x->kind = SRC_LIVE;
        } else if (!strcmp(name, "plan")) {
            x->kind = SRC_PLAN;
        } else if (!strcmp(name, "user_id")) {
            x->kind = SRC_USER;
        } else if (profiles && (k = cl_frame_find(profiles, name)) >= 0) {
            x->kind = SRC_PROFILE;
            x->col = cl_frame_column_retain(profiles->cols[k]);
        } else {
            return cl_error(CL_EINVAL, "livescore: the model's pipeline reads column '%s', which "
                                       "is neither a live feature, plan, user_id nor a column of "
                                       "the profiles", name);
        }
    }
    return CL_OK;
}

static int mean_row(cl_livescore *sc);
static int key_tables(cl_livescore *sc);

int cl_livescore_new(cl_livescore **out, const cl_livestate *s, const cl_model *m,
                     const cl_frame *profiles)
{
    *out = NULL;
    if (!cl_model_pipeline(m))
        return cl_error(CL_EINVAL, "livescore: the %s model has no pipeline (save it with its "
                                   "pipeline, as notebook 03 does)", cl_model_kind(m));
    cl_livescore *sc = cl_alloc_calloc(1, sizeof *sc);
    if (!sc)
        return CL_ENOMEM;
    sc->s = s;
    sc->m = m;
    sc->pipe = cl_model_pipeline(m);
    int rc = profiles ? map_profiles(sc, profiles) : CL_OK;
    if (!rc)
        rc = bind_inputs(sc, profiles);
    if (!rc)
        rc = cl_frame_dict_new(&sc->plans);
    for (int p = 0; !rc && cl_livestate_plan_name(s, p); p++) {
        const char *pn = cl_livestate_plan_name(s, p);
        int32_t code;
        rc = cl_frame_dict_intern(sc->plans, pn, strlen(pn), &code);
        if (!rc && code != p)
            rc = cl_error(CL_EINVAL, "livescore: plan '%s' is named twice", pn);
    }
    if (!rc && cl_model_ops_of(m)->needs_ref)
        rc = mean_row(sc);
    if (!rc)
        rc = key_tables(sc);
    if (rc) {
        cl_livescore_free(sc);
        return rc;
    }
    *out = sc;
    return CL_OK;
}

/* ---- the input frame ------------------------------------------------------------------ */

static int64_t profile_row(const cl_livescore *sc, int32_t user)
{
    return sc->prow && user >= 1 && user <= sc->maxid ? sc->prow[user] : -1;
}

/* One input column for the n users (`live` is their live feature frame). */
static int input_column(const cl_livescore *sc, const src *x, const cl_frame *live,
                        const int32_t *users, int64_t n, cl_column **out)
{
    if (x->kind == SRC_LIVE)
        *out = cl_frame_column_retain(live->cols[2 + x->feature]);
    else if (x->kind == SRC_PLAN)
        *out = cl_frame_column_retain(live->cols[1]);
    else if (x->kind == SRC_USER)
        *out = cl_frame_column_retain(live->cols[0]);
    else {
        const cl_column *c = x->col;
        int rc = c->type == CL_CAT ? cl_frame_column_new_cat(out, n, c->dict)
                                   : cl_frame_column_new_num(out, c->type, n);
        if (rc)
            return rc;
        for (int64_t i = 0; i < n; i++) {
            int64_t r = profile_row(sc, users[i]);
            if (c->type == CL_CAT)
                (*out)->codes[i] = r >= 0 ? c->codes[r] : -1;
            else
                (*out)->num[i] = r >= 0 ? c->num[r] : NAN;
        }
    }
    return CL_OK;
}

/* The pipeline's input frame for users[0..n) from their live feature frame (borrowed). */
static int input_frame_of(const cl_livescore *sc, const cl_frame *live, const int32_t *users,
                          int64_t n, cl_frame **out)
{
    *out = NULL;
    cl_frame *f = NULL;
    int rc = cl_frame_new(&f);
    for (int i = 0; !rc && i < sc->nin; i++) {
        cl_column *c = NULL;
        rc = input_column(sc, &sc->src[i], live, users, n, &c);
        if (!rc)
            rc = cl_frame_set(f, cl_pipeline_input_name(sc->pipe, i), c);
        cl_frame_column_free(c);
    }
    if (rc) {
        cl_frame_free(f);
        return rc;
    }
    *out = f;
    return CL_OK;
}

/* The pipeline's input frame for users[0..n). */
static int input_frame(const cl_livescore *sc, const int32_t *users, int64_t n, cl_frame **out)
{
    *out = NULL;
    cl_frame *live = NULL, *f = NULL;
    int rc = cl_livestate_frame(sc->s, users, n, &live);
    if (!rc)
        rc = input_frame_of(sc, live, users, n, &f);
    cl_frame_free(live);
    if (rc) {
        cl_frame_free(f);
        return rc;
    }
    *out = f;
    return CL_OK;
}

/* The pipeline's input frame of one (known) user, straight from the state: the values
 * cl_livestate_frame would give (its features, its plan coded by plan index over the same
 * names, its id), without building that frame's 31 columns and plan dictionary first. The
 * pipeline reads the same numbers and labels, so the row is the same floats (a customer
 * rescored alone was ~30 us of frame building around a 9 us predict). */
static int input_frame1(const cl_livescore *sc, int32_t user, const double *feat, int fplan,
                        cl_frame **out)
{
    *out = NULL;
    double own[CL_LIVE_NFEATURES];
    const double *v = feat ? feat : own;
    int plan = fplan;
    cl_frame *f = NULL;
    int rc = feat ? CL_OK : cl_livestate_features(sc->s, user, own, &plan);
    if (!rc)
        rc = cl_frame_new(&f);
    for (int i = 0; !rc && i < sc->nin; i++) {
        const src *x = &sc->src[i];
        cl_column *c = NULL;
        if (x->kind == SRC_PLAN) {
            if (!(rc = cl_frame_column_new_cat(&c, 1, sc->plans)))
                c->codes[0] = plan >= 0 && plan < sc->plans->n ? plan : -1;
        } else if (x->kind == SRC_LIVE || x->kind == SRC_USER) {
            if (!(rc = cl_frame_column_new_num(&c, CL_NUM, 1)))
                c->num[0] = x->kind == SRC_USER ? (double)user : v[x->feature];
        } else {
            rc = input_column(sc, x, NULL, &user, 1, &c);
        }
        if (!rc)
            rc = cl_frame_set(f, cl_pipeline_input_name(sc->pipe, i), c);
        cl_frame_column_free(c);
    }
    if (rc) {
        cl_frame_free(f);
        return rc;
    }
    *out = f;
    return CL_OK;
}

static int check_users(const cl_livescore *sc, const int32_t *users, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (users[i] < 1 || !cl_livestate_known(sc->s, users[i]))
            return cl_error(CL_ERANGE, "livescore: customer %ld is unknown to the live state",
                            (long)users[i]);
    return CL_OK;
}

/* The model's input rows (n x d floats) of users[0..n). */
static int input_rows(const cl_livescore *sc, const int32_t *users, int64_t n, cl_tensor **X)
{
    *X = NULL;
    cl_frame *f;
    int rc = n == 1 ? input_frame1(sc, users[0], NULL, -1, &f) : input_frame(sc, users, n, &f);
    if (rc)
        return rc;
    rc = cl_pipeline_transform(sc->pipe, f, X, NULL);
    cl_frame_free(f);
    return rc;
}

static int mean_row(cl_livescore *sc)
{
    int64_t d = cl_model_n_features(sc->m), n = 0;
    if (!(sc->ref = cl_alloc_calloc((size_t)d, sizeof *sc->ref)))
        return CL_ENOMEM;
    int32_t *ids = NULL;
    int rc = cl_livestate_active_ids(sc->s, &ids, &n);
    if (rc || n == 0) {
        cl_alloc_free(ids);
        return rc;
    }
    cl_tensor *X;
    if (!(rc = input_rows(sc, ids, n, &X))) {
        const float *x = cl_tensor_data(X);
        for (int64_t j = 0; j < d; j++) {
            double s = 0;
            for (int64_t i = 0; i < n; i++)
                s += x[i * d + j];
            sc->ref[j] = (float)(s / (double)n);
        }
        cl_tensor_free(X);
    }
    cl_alloc_free(ids);
    return rc;
}

/* ---- scores --------------------------------------------------------------------------- */

int cl_livescore_risks(const cl_livescore *sc, const int32_t *users, int64_t n, double *risk)
{
    if (n <= 0)
        return CL_OK;
    int rc = check_users(sc, users, n);
    if (rc)
        return rc;
    cl_tensor *X;
    if ((rc = input_rows(sc, users, n, &X)))
        return rc;
    float one, *p = n == 1 ? &one : cl_alloc(sizeof *p * (size_t)n); /* a rescore: no alloc */
    if (!p)
        rc = CL_ENOMEM;
    else
        rc = cl_model_predict(sc->m, cl_tensor_data(X), n, cl_tensor_cols(X), p, CL_PREDICT_PROB);
    for (int64_t i = 0; !rc && i < n; i++)
        risk[i] = p[i];
    if (p != &one)
        cl_alloc_free(p);
    cl_tensor_free(X);
    return rc;
}

int cl_livescore_risks_frame(const cl_livescore *sc, const cl_frame *live, const int32_t *users,
                             int64_t n, double *risk)
{
    if (n <= 0)
        return CL_OK;
    if (live->nrow != n || live->ncol != CL_LIVE_NFEATURES + 2)
        return cl_error(CL_EINVAL, "livescore: the live frame has %lld rows and %d columns, "
                                   "expected %lld rows of cl_livestate_frame",
                        (long long)live->nrow, (int)live->ncol, (long long)n);
    cl_frame *f = NULL;
    cl_tensor *X = NULL;
    int rc = input_frame_of(sc, live, users, n, &f);
    if (!rc)
        rc = cl_pipeline_transform(sc->pipe, f, &X, NULL);
    cl_frame_free(f);
    float *p = rc ? NULL : cl_alloc(sizeof *p * (size_t)n);
    if (!rc && !p)
        rc = CL_ENOMEM;
    if (!rc)
        rc = cl_model_predict(sc->m, cl_tensor_data(X), n, cl_tensor_cols(X), p, CL_PREDICT_PROB);
    for (int64_t i = 0; !rc && i < n; i++)
        risk[i] = p[i];
    cl_alloc_free(p);
    cl_tensor_free(X);
    return rc;
}

int cl_livescore_risk(const cl_livescore *sc, int32_t user, double *risk)
{
    return cl_livescore_risks(sc, &user, 1, risk);
}

int cl_livescore_rows(const cl_livescore *sc, const int32_t *users, int64_t n, float *x)
{
    int rc = n > 0 ? check_users(sc, users, n) : CL_OK;
    cl_tensor *X;
    if (rc || n <= 0 || (rc = input_rows(sc, users, n, &X)))
        return rc;
    memcpy(x, cl_tensor_data(X), sizeof *x * (size_t)(n * cl_tensor_cols(X)));
    cl_tensor_free(X);
    return CL_OK;
}

int cl_livescore_row_from(const cl_livescore *sc, int32_t user, const double *feat, int plan,
                          float *x)
{
    int rc = check_users(sc, &user, 1);
    cl_frame *f = NULL;
    cl_tensor *X = NULL;
    if (!rc)
        rc = input_frame1(sc, user, feat, plan, &f);
    if (!rc)
        rc = cl_pipeline_transform(sc->pipe, f, &X, NULL);
    cl_frame_free(f);
    if (!rc)
        memcpy(x, cl_tensor_data(X), sizeof *x * (size_t)cl_tensor_cols(X));
    cl_tensor_free(X);
    return rc;
}

int cl_livescore_row(const cl_livescore *sc, int32_t user, float *x)
{
    int rc = check_users(sc, &user, 1);
    cl_tensor *X;
    if (rc || (rc = input_rows(sc, &user, 1, &X)))
        return rc;
    memcpy(x, cl_tensor_data(X), sizeof *x * (size_t)cl_tensor_cols(X));
    cl_tensor_free(X);
    return CL_OK;
}

/* ---- the row key ------------------------------------------------------------------------ */

/* The trees of a tree-ensemble model (gbdt, forest, tree), or 0 for any other kind. */
static int model_trees(const cl_model *m, cl_tree *const **trees)
{
    const char *kind = cl_model_kind(m);
    if (!strcmp(kind, "gbdt")) {
        const cl_gbdt *g = cl_model_impl(m);
        *trees = g->trees;
        return g->ntrees;
    }
    if (!strcmp(kind, "forest") || !strcmp(kind, "tree")) {
        const cl_forest *f = cl_model_impl(m);
        *trees = f->trees;
        return f->ntrees;
    }
    return 0;
}

static int cmp_float(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* Per feature, the distinct thresholds of its numeric splits (sorted), and raw[j] for a
 * feature with a categorical split or a model that is not a tree ensemble. */
static int key_tables(cl_livescore *sc)
{
    int64_t d = cl_model_n_features(sc->m), total = 0;
    cl_tree *const *trees = NULL;
    int nt = model_trees(sc->m, &trees);
    sc->nkey = d;
    sc->off = cl_alloc_calloc((size_t)d + 1, sizeof *sc->off);
    sc->raw = cl_alloc_calloc((size_t)(d > 0 ? d : 1), 1);
    if (!sc->off || !sc->raw)
        return CL_ENOMEM;
    if (nt == 0) {
        memset(sc->raw, 1, (size_t)d);
        return CL_OK;
    }
    for (int t = 0; t < nt; t++)
        for (int i = 0; i < trees[t]->n; i++) {
            const cl_tnode *nd = &trees[t]->nodes[i];
            if (nd->feature >= 0 && nd->feature < d && !nd->is_cat)
                sc->off[nd->feature + 1]++;
            else if (nd->feature >= 0 && nd->feature < d)
                sc->raw[nd->feature] = 1;
        }
    for (int64_t j = 0; j < d; j++)
        sc->off[j + 1] += sc->off[j];
    total = sc->off[d];
    int64_t *fill = cl_alloc_calloc((size_t)d + 1, sizeof *fill);
    sc->cuts = cl_alloc(sizeof *sc->cuts * (size_t)(total > 0 ? total : 1));
    if (!fill || !sc->cuts) {
        cl_alloc_free(fill);
        return CL_ENOMEM;
    }
    for (int t = 0; t < nt; t++)
        for (int i = 0; i < trees[t]->n; i++) {
            const cl_tnode *nd = &trees[t]->nodes[i];
            if (nd->feature >= 0 && nd->feature < d && !nd->is_cat)
                sc->cuts[sc->off[nd->feature] + fill[nd->feature]++] = nd->thr;
        }
    /* sorted and made distinct in place: the offsets then count distinct thresholds */
    int64_t w = 0;
    for (int64_t j = 0; j < d; j++) {
        float *c = sc->cuts + sc->off[j];
        int64_t n = sc->off[j + 1] - sc->off[j], start = w;
        qsort(c, (size_t)n, sizeof *c, cmp_float);
        for (int64_t k = 0; k < n; k++)
            if (w == start || sc->cuts[w - 1] != c[k])
                sc->cuts[w++] = c[k];
        sc->off[j] = start;
        fill[j] = w;
    }
    for (int64_t j = d; j > 0; j--)
        sc->off[j] = fill[j - 1];
    sc->off[0] = 0;
    cl_alloc_free(fill);
    return CL_OK;
}

int64_t cl_livescore_key_len(const cl_livescore *sc) { return sc->nkey; }

void cl_livescore_key(const cl_livescore *sc, const float *x, uint32_t *key)
{
    for (int64_t j = 0; j < sc->nkey; j++) {
        float v = x[j];
        if (sc->raw[j]) {
            memcpy(&key[j], &v, sizeof v);
            continue;
        }
        const float *c = sc->cuts + sc->off[j];
        int64_t lo = 0, hi = sc->off[j + 1] - sc->off[j];
        if (hi == 0) { /* no tree splits on it: it changes nothing */
            key[j] = 0;
            continue;
        }
        if (isnan(v)) {
            key[j] = UINT32_MAX;
            continue;
        }
        while (lo < hi) { /* the number of thresholds t <= v: x < t for exactly the others */
            int64_t mid = (lo + hi) / 2;
            if (c[mid] <= v)
                lo = mid + 1;
            else
                hi = mid;
        }
        key[j] = (uint32_t)lo;
    }
}

/* The raw value of `column` for the user in original units (NaN for categories), and the
 * customer's category label for cat columns (borrowed from a retained dictionary). */
/* The customer's live features, read once for all of an answer's reasons. */
typedef struct feats {
    const double *v; /* NULL until read */
    int plan, ok;
    double own[CL_LIVE_NFEATURES];
} feats;

static int feats_get(const cl_livescore *sc, int32_t user, feats *fs)
{
    if (!fs->v) {
        fs->ok = cl_livestate_features(sc->s, user, fs->own, &fs->plan) == CL_OK;
        fs->v = fs->own;
    }
    return fs->ok;
}

static void raw_value(const cl_livescore *sc, int32_t user, feats *fs, const char *column,
                      double *value, const char **label)
{
    *value = NAN;
    *label = NULL;
    for (int i = 0; i < sc->nin; i++) {
        if (strcmp(cl_pipeline_input_name(sc->pipe, i), column))
            continue;
        const src *x = &sc->src[i];
        if (x->kind == SRC_USER) {
            *value = user;
        } else if (x->kind == SRC_LIVE || x->kind == SRC_PLAN) {
            if (feats_get(sc, user, fs)) {
                if (x->kind == SRC_LIVE)
                    *value = fs->v[x->feature];
                else if (fs->plan >= 0 && fs->plan < sc->plans->n)
                    *label = sc->plans->labels[fs->plan];
            }
        } else {
            int64_t r = profile_row(sc, user);
            if (r >= 0 && x->col->type == CL_CAT)
                *label = x->col->codes[r] >= 0 ? x->col->dict->labels[x->col->codes[r]] : NULL;
            else if (r >= 0)
                *value = x->col->num[r];
        }
        return;
    }
}

typedef struct ranked {
    int j;
    double a;
} ranked;

static int by_size(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    if (a->a != b->a)
        return a->a < b->a ? 1 : -1;
    return (a->j > b->j) - (a->j < b->j); /* ties: feature order, so the result is stable */
}

static void reason_at(const cl_livescore *sc, int32_t user, feats *fs, int j, double contrib,
                      cl_live_reason *out)
{
    const char *label = NULL;
    out->feature = cl_pipeline_feature_name(sc->pipe, j);
    cl_pipeline_source(sc->pipe, j, &out->column, &label);
    raw_value(sc, user, fs, out->column, &out->value, &out->label);
    out->contrib = contrib;
    out->index = j;
}

static feats feats_of(const double *feat, int plan)
{
    feats fs;
    fs.v = feat;
    fs.plan = plan;
    fs.ok = 1;
    return fs;
}

void cl_livescore_reasons_at(const cl_livescore *sc, int32_t user, const double *feat, int plan,
                             const int *j, const double *contrib, int n, cl_live_reason *out)
{
    feats fs = feats_of(feat, plan);
    for (int i = 0; i < n; i++)
        reason_at(sc, user, &fs, j[i], contrib[i], &out[i]);
}

int cl_livescore_risk_row(const cl_livescore *sc, const float *x, double *risk)
{
    float p;
    int rc = cl_model_predict(sc->m, x, 1, cl_model_n_features(sc->m), &p, CL_PREDICT_PROB);
    if (!rc)
        *risk = p;
    return rc;
}

int cl_livescore_reasons_row(const cl_livescore *sc, int32_t user, const double *feat, int plan,
                             const float *x, int k, cl_live_reason *out, int *n, double *base)
{
    feats fs = feats_of(feat, plan);
    *n = 0;
    int64_t d = cl_model_n_features(sc->m);
    enum { STACK = 128 }; /* a served answer's model: no allocation */
    float phi_s[STACK + 1];
    ranked r_s[STACK];
    float *phi = d <= STACK ? phi_s : cl_alloc(sizeof *phi * (size_t)(d + 1));
    ranked *r = d <= STACK ? r_s : cl_alloc(sizeof *r * (size_t)(d > 0 ? d : 1));
    int rc = phi && r ? CL_OK : CL_ENOMEM;
    if (!rc)
        rc = cl_model_contrib(sc->m, x, 1, d, sc->ref, phi);
    if (!rc) {
        for (int64_t j = 0; j < d; j++)
            r[j] = (ranked){(int)j, fabs(phi[j])};
        qsort(r, (size_t)d, sizeof *r, by_size);
        int m = k < d ? k : (int)d;
        for (int i = 0; i < m; i++)
            reason_at(sc, user, &fs, r[i].j, phi[r[i].j], &out[i]);
        *n = m;
        if (base)
            *base = phi[d];
    }
    if (phi != phi_s)
        cl_alloc_free(phi);
    if (r != r_s)
        cl_alloc_free(r);
    return rc;
}

int cl_livescore_reasons(const cl_livescore *sc, int32_t user, int k, cl_live_reason *out,
                         int *n, double *base)
{
    *n = 0;
    int64_t d = cl_model_n_features(sc->m);
    float *x = cl_alloc(sizeof *x * (size_t)(d > 0 ? d : 1));
    int rc = x ? cl_livescore_row(sc, user, x) : CL_ENOMEM;
    if (!rc)
        rc = cl_livescore_reasons_row(sc, user, NULL, -1, x, k, out, n, base);
    cl_alloc_free(x);
    return rc;
}
