/* fuzz_modelsem.c - structure-aware libFuzzer target for the meaning of model files (issue 22).
 *
 * Byte mutations mostly break the container, so fuzz_loaders rarely gets past the chunk
 * table. Here a custom mutator parses the container (tests/modelfile_edit.h), picks a chunk
 * and an element inside it, and writes an extreme in its place: 0, -1, 1, INT_MAX, INT_MIN,
 * NaN, +-inf, 1e300, FLT_MAX, a huge size, the element's neighbour (swapped indices), a
 * flipped flag byte; then recomputes the CRC. Every file kind is a seed (scripts/
 * make_fuzz_seeds.lua -> tests/data/fuzz-modelsem/): logreg, mlp, gbdt, forest, tree, models
 * carrying a pipeline, pipelines, calibrators, k-means and every recommender.
 *
 * Whatever loads is used as a session would: predict (every mode), TreeSHAP and rules,
 * transform and transform_frame for pipelines (and predict(frame) for a model carrying one),
 * calibration, cluster assignment, recommend / similar / fold-in for recommenders. A loader
 * that accepts an inconsistent file shows up as an ASan/UBSan report, a timeout (a DAG of
 * nodes), or one of the checks below: on ordinary inputs a loaded model must give
 * probabilities in [0, 1] and finite SHAP values (a silent NaN is a finding too). */
#include "churnlab.h"
#include "../modelfile_edit.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max_size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed);

enum { ROWS = 3, MAXD = 4096, MAXCHUNKS = 512 };

/* A finding that is not a memory error: report what and abort, so libFuzzer keeps the input. */
static void finding(const char *what, double v)
{
    fprintf(stderr, "fuzz_modelsem: %s (%g)\n", what, v);
    abort();
}

/* ---- mutator ---------------------------------------------------------------------------- */

static uint32_t next(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void edit_value(uint8_t *p, int type, uint32_t *rng, uint8_t *neighbour)
{
    static const double reals[] = {0, -1, 1, NAN, INFINITY, -INFINITY, 1e300, -1e300, FLT_MAX,
                                   3e38, 1e-320, 0.5, 2, 1e30, -1e15};
    static const int64_t ints[] = {0, -1, 1, 2, INT_MAX, INT_MIN, (int64_t)1 << 40, 255, 256,
                                   65535, 10000, 1 << 24, INT64_MAX, INT64_MIN, 3};
    uint32_t pick = next(rng);
    if (neighbour && pick % 8 == 0) { /* swap with the next element: shuffled indices */
        uint8_t tmp[8];
        size_t es = mfe_elem(type);
        memcpy(tmp, p, es);
        memcpy(p, neighbour, es);
        memcpy(neighbour, tmp, es);
        return;
    }
    switch (type) {
    case CL_CHUNK_U8: p[0] = pick % 3 == 0 ? (uint8_t)(p[0] ^ 1) : (uint8_t)(next(rng) & 0xff); break;
    case CL_CHUNK_I32: {
        int64_t v = ints[pick % 15];
        if (pick % 16 == 15)
            v = (int32_t)(uint32_t)(mfe_get(p, 4) + next(rng) % 5 - 2); /* wraps: unsigned */
        mfe_put(p, (uint64_t)(uint32_t)(int32_t)v, 4);
        break;
    }
    case CL_CHUNK_I64: {
        int64_t v = ints[pick % 15];
        if (pick % 16 == 15)
            v = (int64_t)(mfe_get(p, 8) + next(rng) % 5 - 2);
        mfe_put(p, (uint64_t)v, 8);
        break;
    }
    case CL_CHUNK_F32: {
        float f = (float)reals[pick % 15];
        if (pick % 16 == 15) {
            memcpy(&f, p, 4);
            f = -f;
        }
        memcpy(p, &f, 4);
        break;
    }
    case CL_CHUNK_F64: {
        double d = reals[pick % 15];
        if (pick % 16 == 15) {
            memcpy(&d, p, 8);
            d *= 1e10;
        }
        memcpy(p, &d, 8);
        break;
    }
    default: break;
    }
}

/* Half the time: one to three structured edits of a parsed file (CRC recomputed); otherwise
 * (or when the input is not a well-formed container) libFuzzer's own byte mutations. */
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
    uint32_t rng = seed;
    static mfe_chunk ch[MAXCHUNKS];
    int nc = mfe_parse(data, size, ch, MAXCHUNKS);
    if (nc <= 0 || next(&rng) % 2 == 0)
        return LLVMFuzzerMutate(data, size, max_size);
    int edits = 1 + (int)(next(&rng) % 3);
    for (int e = 0; e < edits; e++) {
        const mfe_chunk *c = &ch[next(&rng) % (uint32_t)nc];
        if (c->type == CL_CHUNK_STR || next(&rng) % 10 == 0) {
            /* the element count itself: huge, zero or off by one (payload unchanged) */
            static const uint64_t counts[] = {0, 1, (uint64_t)1 << 40, UINT64_MAX};
            uint64_t v = next(&rng) % 2 ? counts[next(&rng) % 4] : c->n + 1;
            if (c->type != CL_CHUNK_STR || next(&rng) % 4 == 0)
                mfe_put(data + c->count_at, v, 8);
            continue;
        }
        if (c->n == 0)
            continue;
        size_t es = mfe_elem(c->type);
        uint64_t i = next(&rng) % c->n;
        uint8_t *p = data + c->off + i * es;
        edit_value(p, c->type, &rng, i + 1 < c->n ? p + es : NULL);
    }
    mfe_fix_crc(data, size);
    return size;
}

/* ---- use what loads ----------------------------------------------------------------------- */

/* ROWS x d: an ordinary row, a row of missing values, a row of extremes. Only row 0 is held
 * to finite answers: NaN and 3e38 inputs are the caller's own. */
static float *rows(int64_t d)
{
    if (d <= 0 || d > MAXD)
        return NULL;
    float *X = cl_alloc_calloc((size_t)(ROWS * d), sizeof *X);
    if (!X)
        return NULL;
    for (int64_t j = 0; j < d; j++) {
        X[j] = (float)(j % 5) * 0.5f - 1.0f;
        X[d + j] = NAN;
        X[2 * d + j] = (j & 1) ? 3e38f : -1e-42f;
    }
    return X;
}

static cl_tensor *rows_tensor(int64_t d)
{
    float *X = rows(d);
    cl_tensor *t = NULL;
    if (X && cl_tensor_from_data(&t, 2, ROWS, d, X) != CL_OK)
        t = NULL;
    cl_alloc_free(X);
    return t;
}

static void check_prob(float p, const char *who)
{
    if (!(p >= 0 && p <= 1))
        finding(who, p);
}

static void use_trees(cl_tree *const *trees, int ntrees, int d, double base, double scale,
                      int is_tree)
{
    float *X = rows(d);
    if (!X)
        return;
    float *phi = cl_alloc((size_t)ROWS * ((size_t)d + 1) * sizeof *phi);
    if (phi && cl_treeshap((const cl_tree *const *)trees, ntrees, X, ROWS, d, base, scale, phi) == CL_OK)
        for (int r = 0; r < 2; r++) /* ordinary and missing rows: trees route NaN */
            for (int j = 0; j <= d; j++)
                if (!isfinite(phi[(size_t)r * ((size_t)d + 1) + (size_t)j]))
                    finding("TreeSHAP value is not finite", phi[(size_t)r * ((size_t)d + 1) + (size_t)j]);
    cl_alloc_free(phi);
    cl_alloc_free(X);
    if (is_tree && ntrees > 0) {
        char *text = NULL;
        if (cl_tree_rules(trees[0], d, NULL, "churn", &text) == CL_OK)
            cl_alloc_free(text);
    }
}

/* A pipeline's input columns, every one numeric, or every one as text (converted by the
 * pipeline to what it expects), plus the target as text when it has one. */
static cl_frame *frame_for(const cl_pipeline *p, int as_text)
{
    cl_frame *f;
    if (cl_frame_new(&f) != CL_OK)
        return NULL;
    static const double nums[4] = {0.5, NAN, 1e300, -3};
    static const char *const strs[4] = {"a", "2.5", NULL, "-1e300"};
    int ok = 1;
    for (int i = 0; ok && i < cl_pipeline_n_inputs(p); i++) {
        cl_column *c = NULL;
        ok = (as_text ? cl_frame_column_from_strings(&c, strs, 4) : cl_frame_column_from_doubles(&c, nums, 4)) ==
                 CL_OK &&
             cl_frame_set(f, cl_pipeline_input_name(p, i), c) == CL_OK;
        cl_frame_column_free(c);
    }
    const cl_pipeline_opts *o = cl_pipeline_options(p);
    if (ok && o->target) {
        const char *pos = o->positive ? o->positive : "1";
        const char *t[4] = {pos, "0", pos, "1"};
        cl_column *c = NULL;
        ok = cl_frame_column_from_strings(&c, t, 4) == CL_OK && cl_frame_set(f, o->target, c) == CL_OK;
        cl_frame_column_free(c);
    }
    if (!ok) {
        cl_frame_free(f);
        return NULL;
    }
    return f;
}

/* transform (and transform_frame); *X_out gets the numeric frame's features when wanted. */
static void use_pipeline(const cl_pipeline *p, cl_tensor **X_out)
{
    if (X_out)
        *X_out = NULL;
    cl_pipeline_n_features(p);
    for (int as_text = 0; as_text < 2; as_text++) {
        cl_frame *f = frame_for(p, as_text);
        if (!f)
            continue;
        cl_tensor *X = NULL, *y = NULL;
        if (cl_pipeline_transform(p, f, &X, &y) == CL_OK) {
            if (X_out && !*X_out)
                *X_out = X;
            else
                cl_tensor_free(X);
            cl_tensor_free(y);
        }
        cl_frame *g = NULL;
        if (cl_pipeline_transform_frame(p, f, &g) == CL_OK)
            cl_frame_free(g);
        cl_frame_free(f);
    }
    for (int j = 0; j < cl_pipeline_n_features(p); j++) {
        const char *col, *lab;
        int ncat;
        cl_pipeline_source(p, j, &col, &lab);
        if (cl_pipeline_out_categorical(p, j, &ncat))
            for (int k = 0; k <= ncat; k++)
                cl_pipeline_category(p, j, k);
    }
}

/* A model file may carry a pipeline: its features of a frame are what predict(frame) scores. */
static cl_tensor *pipeline_features(cl_mr *r, int64_t d)
{
    if (!cl_modelio_r_has(r, "pipeline.format"))
        return NULL;
    cl_pipeline *p;
    if (cl_pipeline_io_read(r, "pipeline.", &p) != CL_OK)
        return NULL;
    cl_tensor *X = NULL;
    use_pipeline(p, &X);
    cl_pipeline_free(p);
    if (X && cl_tensor_cols(X) != d) {
        cl_tensor_free(X);
        X = NULL;
    }
    return X;
}

static void use_logreg(cl_mr *r)
{
    cl_logreg *m;
    if (cl_logreg_read(&m, r) != CL_OK)
        return;
    int64_t d = cl_logreg_inputs(m);
    float *X = rows(d), out[ROWS];
    for (int mode = 0; X && mode < 4; mode++)
        if (cl_logreg_predict_mode(m, X, 1, d, out, mode) == CL_OK) {
            if (mode != CL_PREDICT_MARGIN)
                check_prob(out[0], "logreg probability outside [0, 1]");
            else if (!isfinite(out[0]))
                finding("logreg margin is not finite", out[0]);
        }
    if (X)
        cl_logreg_predict(m, X, ROWS, d, out);
    cl_alloc_free(X);
    cl_tensor *Xp = pipeline_features(r, d);
    if (Xp) {
        float o2[4];
        if (cl_tensor_rows(Xp) <= 4)
            cl_logreg_predict(m, cl_tensor_data(Xp), cl_tensor_rows(Xp), d, o2);
        cl_tensor_free(Xp);
    }
    cl_logreg_free(m);
}

static void use_mlp(cl_mr *r)
{
    cl_mlp *m;
    if (cl_mlp_read(&m, r) != CL_OK)
        return;
    int64_t d = cl_mlp_inputs(m);
    float *X = rows(d), out[ROWS];
    if (X && cl_mlp_predict(m, X, 1, d, out) == CL_OK)
        check_prob(out[0], "mlp probability outside [0, 1]");
    if (X)
        cl_mlp_predict(m, X, ROWS, d, out);
    cl_alloc_free(X);
    cl_tensor *Xp = pipeline_features(r, d);
    if (Xp) {
        float o2[4];
        if (cl_tensor_rows(Xp) <= 4)
            cl_mlp_predict(m, cl_tensor_data(Xp), cl_tensor_rows(Xp), d, o2);
        cl_tensor_free(Xp);
    }
    cl_mlp_free(m);
}

static void use_gbdt(cl_mr *r)
{
    cl_gbdt *m;
    if (cl_gbdt_read(&m, r) != CL_OK)
        return;
    cl_tensor *X = rows_tensor(m->d);
    float out[ROWS];
    for (int mode = 0; X && mode < 4; mode++)
        if (cl_gbdt_predict(m, out, X, mode) == CL_OK && !isfinite(out[0]))
            finding("gbdt prediction is not finite", out[0]);
    cl_tensor_free(X);
    use_trees(m->trees, m->ntrees, m->d, m->base, 1.0, 0);
    cl_tensor *Xp = pipeline_features(r, m->d);
    if (Xp) {
        float o2[4];
        if (cl_tensor_rows(Xp) <= 4)
            cl_gbdt_predict(m, o2, Xp, 0);
        cl_tensor_free(Xp);
    }
    cl_gbdt_free(m);
}

static void use_forest(cl_mr *r)
{
    cl_forest *m;
    if (cl_forest_read(&m, r) != CL_OK)
        return;
    cl_tensor *X = rows_tensor(m->d);
    float out[ROWS];
    for (int mode = 0; X && mode < 4; mode++)
        if (cl_forest_predict_mode(m, out, X, mode) == CL_OK)
            for (int i = 0; i < ROWS; i++) /* leaves are probabilities, whatever the input */
                check_prob(out[i], "forest prediction outside [0, 1]");
    cl_tensor_free(X);
    use_trees(m->trees, m->ntrees, m->d, 0, 1.0 / m->ntrees, m->kind == CL_FOREST_KIND_TREE);
    cl_tensor *Xp = pipeline_features(r, m->d);
    if (Xp) {
        float o2[4];
        if (cl_tensor_rows(Xp) <= 4)
            cl_forest_predict(m, o2, Xp);
        cl_tensor_free(Xp);
    }
    cl_forest_free(m);
}

static void use_standalone_pipeline(cl_mr *r)
{
    cl_pipeline *p;
    if (cl_pipeline_io_read(r, "pipeline.", &p) != CL_OK)
        return;
    use_pipeline(p, NULL);
    cl_pipeline_free(p);
}

static void use_calibrator(cl_mr *r)
{
    cl_calibrator c;
    if (cl_calibrate_read(&c, r) != CL_OK)
        return;
    static const double s[] = {-1e300, -2, 0, 0.3, 0.7, 1, 5, 1e300};
    for (size_t i = 0; i < sizeof s / sizeof *s; i++)
        check_prob((float)(c.method == CL_CALIB_PLATT ? cl_calibrate_platt_apply(c.a, c.b, s[i])
                                                      : cl_calibrate_isotonic_apply(c.iso, s[i])),
                   "calibrated probability outside [0, 1]");
    cl_calibrate_isotonic_free(c.iso);
}

static void use_kmeans(cl_mr *r)
{
    cl_kmeans *m;
    if (cl_kmeans_read(&m, r) != CL_OK)
        return;
    float *X = rows(m->d);
    int32_t lab[ROWS];
    if (X) {
        for (int j = 0; j < m->d; j++) /* k-means refuses missing values: row 1 ordinary too */
            X[m->d + j] = 1;
        if (cl_kmeans_predict(m, X, ROWS, m->d, lab) == CL_OK)
            for (int i = 0; i < ROWS; i++)
                if (lab[i] < 0 || lab[i] >= m->k)
                    finding("k-means label out of range", lab[i]);
    }
    cl_alloc_free(X);
    cl_kmeans_free(m);
}

static void use_rec(cl_mr *r, const char *kind)
{
    cl_rec *m;
    if (cl_rec_read(&m, r, kind, "", NULL) != CL_OK)
        return;
    if (cl_rec_is_fitted(m) && m->train && m->train->n_items > 0) {
        int64_t ni = m->train->n_items, nu = m->train->n_users;
        int32_t items[5];
        float sc[5];
        int n;
        for (int64_t u = 0; u < nu && u < 4; u++)
            if (cl_rec_recommend(m, u, 5, u & 1, items, sc, &n) == CL_OK)
                for (int k = 0; k < n; k++) /* inf is allowed: interaction values may be any
                                             * finite float, as cl_interactions_build accepts */
                    if (items[k] < 0 || items[k] >= ni || isnan(sc[k]))
                        finding("recommended item out of range or scored NaN", sc[k]);
        cl_rec_similar(m, 0, 5, items, sc, &n);
        cl_rec_similar(m, (int32_t)(ni - 1), 5, items, sc, &n);
        int32_t hist[2] = {0, (int32_t)(ni - 1)};
        float vals[2] = {5, 1};
        cl_rec_recommend_history(m, 2, hist, NULL, 5, 1, items, sc, &n);
        cl_rec_recommend_history(m, 2, hist, vals, 5, 0, items, sc, &n);
        if (nu > 0 && nu <= 64) {
            int32_t *all = cl_alloc((size_t)nu * 3 * sizeof *all);
            if (all)
                cl_rec_recommend_all(m, 3, 1, all, NULL, NULL);
            cl_alloc_free(all);
        }
    }
    cl_rec_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cl_mr *r;
    if (cl_modelio_r_from_buffer(&r, data, size, "fuzz") != CL_OK) {
        cl_error_clear();
        return 0;
    }
    const char *kind = cl_modelio_r_kind(r);
    if (strcmp(kind, "logreg") == 0)
        use_logreg(r);
    else if (strcmp(kind, "mlp") == 0)
        use_mlp(r);
    else if (strcmp(kind, "gbdt") == 0)
        use_gbdt(r);
    else if (strcmp(kind, "forest") == 0 || strcmp(kind, "tree") == 0)
        use_forest(r);
    else if (strcmp(kind, "pipeline") == 0)
        use_standalone_pipeline(r);
    else if (strcmp(kind, "calibrator") == 0)
        use_calibrator(r);
    else if (strcmp(kind, "kmeans") == 0)
        use_kmeans(r);
    else if (strncmp(kind, "rec.", 4) == 0)
        use_rec(r, kind + 4);
    cl_modelio_r_free(r);
    cl_error_clear();
    return 0;
}
