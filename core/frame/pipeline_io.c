/* pipeline_io.c - a pipeline in a model file (see pipeline.h): its chunks under a prefix, in
 * format 1 or, when it uses a format-2 feature, format 2; the reader validates every field and
 * cross-field invariant before it builds anything; save/load wrap them in a file of their own. */
#include "frame/pipeline_impl.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "base/alloc.h"
#include "base/error.h"
#include "base/modelio.h"
#include "frame/textnum.h"

/* ---- save / load -------------------------------------------------------------------------- */

/* 1 when the pipeline uses a format-2 feature (see PREP_FORMAT). */
static int needs_v2(const cl_pipeline *p)
{
    return p->o.onehot_drop != CL_ONEHOT_DROP_NONE || p->o.add_indicator ||
           p->o.encode == CL_ENCODE_TARGET || p->o.scale == CL_SCALE_ROBUST;
}

/* Format 2's chunks: the new options, per column {dropcat, ind}, and the target encodings
 * (te_nslot values then the prior, per target-encoded column, in column order). */
static int write_v2(const cl_pipeline *p, cl_mw *w)
{
    int32_t o2[4] = {(int32_t)p->o.onehot_drop, (int32_t)p->o.add_indicator, (int32_t)p->o.cv,
                     (int32_t)p->o.shuffle};
    cl_modelio_w_i32(w, "opts2", o2, 4);
    cl_modelio_w_num(w, "smooth", p->o.smooth);
    cl_modelio_w_int(w, "seed", (int64_t)p->o.seed);
    size_t nte = 0;
    for (int j = 0; j < p->ncol; j++)
        if (is_te(p, &p->cols[j]))
            nte += (size_t)te_nslot(&p->cols[j]) + 1;
    int32_t *ext = cl_alloc_calloc((size_t)p->ncol * 2 + 1, sizeof *ext);
    double *te = cl_alloc_calloc(nte + 1, sizeof *te);
    if (!ext || !te) {
        cl_alloc_free(ext);
        cl_alloc_free(te);
        return CL_ENOMEM;
    }
    size_t m = 0;
    for (int j = 0; j < p->ncol; j++) {
        const pcol *pc = &p->cols[j];
        ext[2 * j] = pc->dropcat;
        ext[2 * j + 1] = pc->ind;
        if (is_te(p, pc)) {
            for (int k = 0; k < te_nslot(pc); k++)
                te[m++] = pc->te[k];
            te[m++] = pc->te_prior;
        }
    }
    cl_modelio_w_i32(w, "column_ext", ext, (size_t)p->ncol * 2);
    int rc = cl_modelio_w_f64(w, "target_encodings", te, nte);
    cl_alloc_free(ext);
    cl_alloc_free(te);
    return rc;
}

int cl_pipeline_io_write(const cl_pipeline *p, cl_mw *w, const char *prefix)
{
    cl_modelio_w_prefix(w, prefix);
    int v2 = needs_v2(p);
    cl_modelio_w_int(w, "format", v2 ? 2 : 1);
    if (v2 && write_v2(p, w) != CL_OK) {
        cl_modelio_w_prefix(w, NULL);
        return CL_ENOMEM;
    }
    cl_modelio_w_str(w, "target", p->target ? p->target : "");
    cl_modelio_w_int(w, "has_target", p->target != NULL);
    cl_modelio_w_str(w, "positive", p->positive ? p->positive : "");
    cl_modelio_w_int(w, "has_positive", p->positive != NULL);
    if (p->neg_known) /* absent in older files: every non-positive value means 0 */
        cl_modelio_w_strs(w, "negatives", (const char *const *)p->neg, (size_t)p->nneg);
    cl_modelio_w_int(w, "target_is_cat", p->target_is_cat);
    cl_modelio_w_strs(w, "drop", (const char *const *)p->drop, (size_t)p->o.ndrop);
    int32_t opts[6] = {(int32_t)p->o.impute, (int32_t)p->o.encode, (int32_t)p->o.unknown,
                       (int32_t)p->o.max_categories, (int32_t)p->o.scale, (int32_t)p->o.clip};
    cl_modelio_w_i32(w, "opts", opts, 6);
    cl_modelio_w_num(w, "fill_value", p->o.fill_value);
    cl_modelio_w_str(w, "fill_label", p->fill_label);
    int n = p->ncol;
    const char **names = cl_alloc_calloc((size_t)n + 1, sizeof *names);
    int32_t *ints = cl_alloc_calloc((size_t)n * 4 + 1, sizeof *ints);
    double *nums = cl_alloc_calloc((size_t)n * 3 + 1, sizeof *nums);
    int ncats = 0;
    for (int j = 0; j < n; j++)
        ncats += p->cols[j].ncat;
    const char **cats = cl_alloc_calloc((size_t)ncats + 1, sizeof *cats);
    if (!names || !ints || !nums || !cats) {
        cl_alloc_free(names);
        cl_alloc_free(ints);
        cl_alloc_free(nums);
        cl_alloc_free(cats);
        cl_modelio_w_prefix(w, NULL);
        return CL_ENOMEM;
    }
    int m = 0;
    for (int j = 0; j < n; j++) {
        const pcol *pc = &p->cols[j];
        names[j] = pc->name;
        ints[4 * j] = pc->is_cat;
        ints[4 * j + 1] = pc->ncat;
        ints[4 * j + 2] = pc->other;
        ints[4 * j + 3] = pc->fill_cat;
        nums[3 * j] = pc->fill;
        nums[3 * j + 1] = pc->shift;
        nums[3 * j + 2] = pc->mul;
        for (int k = 0; k < pc->ncat; k++)
            cats[m++] = pc->cats[k];
    }
    cl_modelio_w_strs(w, "columns", names, (size_t)n);
    cl_modelio_w_i32(w, "column_ints", ints, (size_t)n * 4);
    cl_modelio_w_f64(w, "column_nums", nums, (size_t)n * 3);
    cl_modelio_w_strs(w, "categories", cats, (size_t)ncats);
    int rc = cl_modelio_w_strs(w, "feature_names", (const char *const *)p->fnames, (size_t)p->nout);
    cl_alloc_free(names);
    cl_alloc_free(ints);
    cl_alloc_free(nums);
    cl_alloc_free(cats);
    cl_modelio_w_prefix(w, NULL);
    return rc;
}

static int read_strs(cl_mr *r, const char *name, char ***out, size_t *n)
{
    *out = NULL;
    int rc = cl_modelio_r_count(r, name, CL_CHUNK_STR, n);
    if (rc)
        return rc;
    *out = cl_alloc_calloc(*n + 1, sizeof **out);
    if (!*out)
        return CL_ENOMEM;
    rc = cl_modelio_r_strs(r, name, *out, *n);
    if (rc) {
        cl_alloc_free(*out);
        *out = NULL;
    }
    return rc;
}

static void free_strs(char **s, size_t n)
{
    if (!s)
        return;
    for (size_t i = 0; i < n; i++)
        cl_alloc_free(s[i]);
    cl_alloc_free(s);
}

/* Every field's meaning and the invariants cl_pipeline_fit establishes, checked after the
 * chunks are parsed: transform trusts them (a cat target without its positive label was a
 * NULL dereference; a fill or scale that is not finite gave inf features). */
static int validate(const cl_pipeline *p, int has_target, int has_positive, const char *target,
                    const char *positive)
{
    const cl_pipeline_opts *o = &p->o;
    if (has_target ? target[0] == '\0' : (target[0] != '\0' || p->target_is_cat))
        return cl_error(CL_EFORMAT, "pipeline: has_target = %d does not match target '%s' and "
                        "target_is_cat = %d", has_target, target, p->target_is_cat);
    if (p->target_is_cat && !has_positive)
        return cl_error(CL_EFORMAT, "pipeline: the target '%s' is categorical but the file has "
                        "no positive label (has_positive = 0)", target);
    if (!has_positive && positive[0] != '\0')
        return cl_error(CL_EFORMAT, "pipeline: has_positive = 0 but positive = '%s'", positive);
    double v;
    if (has_target && !p->target_is_cat && has_positive &&
        !cl_textnum_parse_num(positive, strlen(positive), &v))
        return cl_error(CL_EFORMAT, "pipeline: the target '%s' is numeric but its positive "
                        "value '%s' is not a number", target, positive);
    if (o->max_categories > 1000000)
        return cl_error(CL_EFORMAT, "pipeline: max_categories = %d, expected 0..1000000",
                        o->max_categories);
    if (!isfinite(o->fill_value))
        return cl_error(CL_EFORMAT, "pipeline: fill_value = %g is not finite", o->fill_value);
    const int scaled_kind = o->scale != CL_SCALE_NONE;
    if (o->encode == CL_ENCODE_TARGET && (o->cv < 2 || !(o->smooth < 0 || isfinite(o->smooth))))
        return cl_error(CL_EFORMAT, "pipeline: target encoding with cv = %d and smooth = %g",
                        o->cv, o->smooth);
    for (int j = 0; j < p->ncol; j++) {
        const pcol *pc = &p->cols[j];
        if (pc->dropcat != expected_drop(p, pc) || (pc->ind && !o->add_indicator))
            return cl_error(CL_EFORMAT, "pipeline: column '%s': dropped category %d and "
                            "indicator %d do not match onehot_drop = %d, add_indicator = %d",
                            pc->name, pc->dropcat, pc->ind, (int)o->onehot_drop, o->add_indicator);
        for (int k = 0; is_te(p, pc) && k <= te_nslot(pc); k++) {
            double e = k < te_nslot(pc) ? pc->te[k] : pc->te_prior;
            if (!(e >= 0 && e <= 1)) /* means of a 0/1 target and their mixtures */
                return cl_error(CL_EFORMAT, "pipeline: column '%s': target encoding %d is %g, "
                                "expected a number in [0, 1]", pc->name, k + 1, e);
        }
        if (has_target && strcmp(pc->name, target) == 0)
            return cl_error(CL_EFORMAT, "pipeline: the target '%s' is also input column %d",
                            target, j + 1);
        for (int k = 0; k < o->ndrop; k++)
            if (strcmp(pc->name, p->drop[k]) == 0)
                return cl_error(CL_EFORMAT, "pipeline: dropped column '%s' is also input "
                                "column %d", pc->name, j + 1);
        for (int k = 0; k < j; k++)
            if (strcmp(pc->name, p->cols[k].name) == 0)
                return cl_error(CL_EFORMAT, "pipeline: columns %d and %d are both named '%s'",
                                k + 1, j + 1, pc->name);
        int scaled = scaled_kind && (!pc->is_cat || o->encode == CL_ENCODE_ORDINAL);
        if (scaled ? !(isfinite(pc->shift) && isfinite(pc->mul) && pc->mul > 0)
                   : !(pc->shift == 0 && pc->mul == 1))
            return cl_error(CL_EFORMAT, "pipeline: column '%s': scaling shift %g and factor %g "
                            "(expected %s)", pc->name, pc->shift, pc->mul,
                            scaled ? "finite, factor > 0" : "0 and 1: the column is not scaled");
        if (!pc->is_cat) {
            int none = o->impute == CL_IMPUTE_NONE;
            if (none ? !isnan(pc->fill) : !isfinite(pc->fill) ||
                (o->impute == CL_IMPUTE_CONSTANT && pc->fill != o->fill_value))
                return cl_error(CL_EFORMAT, "pipeline: column '%s': fill value %g (expected %s)",
                                pc->name, pc->fill, none ? "NaN: impute = none"
                                : o->impute == CL_IMPUTE_CONSTANT ? "fill_value" : "a finite number");
            continue;
        }
        if (!isnan(pc->fill))
            return cl_error(CL_EFORMAT, "pipeline: categorical column '%s' has a numeric fill "
                            "value %g (expected NaN)", pc->name, pc->fill);
        if (pc->other != (o->unknown == CL_UNKNOWN_OTHER))
            return cl_error(CL_EFORMAT, "pipeline: column '%s': other slot %d with unknown = %s",
                            pc->name, pc->other, o->unknown == CL_UNKNOWN_OTHER ? "other" : "zero");
        int cap = o->max_categories + (o->impute == CL_IMPUTE_CONSTANT);
        if (o->max_categories > 0 && pc->ncat > cap)
            return cl_error(CL_EFORMAT, "pipeline: column '%s' keeps %d categories, beyond "
                            "max_categories = %d", pc->name, pc->ncat, o->max_categories);
        if (o->impute == CL_IMPUTE_NONE ? pc->fill_cat != -1
            : o->impute == CL_IMPUTE_CONSTANT
                ? pc->fill_cat < 0 || strcmp(pc->cats[pc->fill_cat], p->fill_label) != 0
                : 0)
            return cl_error(CL_EFORMAT, "pipeline: column '%s': fill category %d does not match "
                            "impute = %s", pc->name, pc->fill_cat,
                            o->impute == CL_IMPUTE_NONE ? "none" : "constant");
    }
    return CL_OK;
}

int cl_pipeline_io_read(cl_mr *r, const char *prefix, cl_pipeline **out)
{
    *out = NULL;
    cl_modelio_r_prefix(r, prefix);
    int64_t fmt, has_target, has_positive, tcat;
    char *target = NULL, *positive = NULL, *fill_label = NULL;
    char **drop = NULL, **names = NULL, **cats = NULL, **fnames = NULL, **neg = NULL;
    size_t ndrop = 0, n = 0, ncats = 0, nf = 0, nneg = 0;
    int32_t *ints = NULL;
    double *nums = NULL;
    cl_pipeline *p = NULL;
    int32_t opts[6], o2[4] = {0, 0, 5, 1};
    int32_t *ext = NULL;
    double *tev = NULL, smooth = -1;
    int64_t seed = 42;
    size_t ntev = 0;
    double fill_value;
    int rc = cl_modelio_r_int(r, "format", 1, PREP_FORMAT, &fmt);
    if (!rc) rc = cl_modelio_r_int(r, "has_target", 0, 1, &has_target);
    if (!rc) rc = cl_modelio_r_int(r, "has_positive", 0, 1, &has_positive);
    if (!rc) rc = cl_modelio_r_int(r, "target_is_cat", 0, 1, &tcat);
    if (!rc) rc = cl_modelio_r_str(r, "target", &target);
    if (!rc) rc = cl_modelio_r_str(r, "positive", &positive);
    if (!rc) rc = cl_modelio_r_str(r, "fill_label", &fill_label);
    if (!rc) rc = cl_modelio_r_num(r, "fill_value", &fill_value);
    if (!rc) rc = cl_modelio_r_i32(r, "opts", opts, 6);
    if (!rc) rc = read_strs(r, "drop", &drop, &ndrop);
    if (!rc) rc = read_strs(r, "columns", &names, &n);
    if (!rc) rc = read_strs(r, "categories", &cats, &ncats);
    if (!rc) rc = read_strs(r, "feature_names", &fnames, &nf);
    int has_neg = cl_modelio_r_has(r, "negatives"); /* older files: every non-positive means 0 */
    if (!rc && has_neg) rc = read_strs(r, "negatives", &neg, &nneg);
    if (!rc && nneg > 1000000)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu negative labels is implausible", nneg);
    if (!rc && n > 1000000)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu columns is implausible", n);
    if (!rc) {
        ints = cl_alloc_calloc(n * 4 + 1, sizeof *ints);
        nums = cl_alloc_calloc(n * 3 + 1, sizeof *nums);
        if (!ints || !nums)
            rc = CL_ENOMEM;
    }
    if (!rc) rc = cl_modelio_r_i32(r, "column_ints", ints, n * 4);
    if (!rc) rc = cl_modelio_r_f64(r, "column_nums", nums, n * 3);
    if (!rc) {
        ext = cl_alloc_calloc(n * 2 + 1, sizeof *ext);
        if (!ext)
            rc = CL_ENOMEM;
        for (size_t j = 0; !rc && j < n; j++)
            ext[2 * j] = -1; /* format 1: nothing dropped, no indicators */
    }
    if (!rc && fmt >= 2) {
        rc = cl_modelio_r_i32(r, "opts2", o2, 4);
        if (!rc) rc = cl_modelio_r_num(r, "smooth", &smooth);
        if (!rc) rc = cl_modelio_r_int(r, "seed", INT64_MIN, INT64_MAX, &seed);
        if (!rc) rc = cl_modelio_r_i32(r, "column_ext", ext, n * 2);
        if (!rc) rc = cl_modelio_r_count(r, "target_encodings", CL_CHUNK_F64, &ntev);
        if (!rc && ntev > 100000000)
            rc = cl_error(CL_EFORMAT, "pipeline: %zu target encodings is implausible", ntev);
        if (!rc && !(tev = cl_alloc_calloc(ntev + 1, sizeof *tev)))
            rc = CL_ENOMEM;
        if (!rc) rc = cl_modelio_r_f64(r, "target_encodings", tev, ntev);
    }
    /* format 1 files hold only format 1's values: a newer value there is corruption */
    int enc_max = fmt >= 2 ? CL_ENCODE_TARGET : CL_ENCODE_NONE;
    int scale_max = fmt >= 2 ? CL_SCALE_ROBUST : CL_SCALE_STANDARD;
    if (!rc && ((uint32_t)opts[0] > CL_IMPUTE_NONE || opts[1] < 0 || opts[1] > enc_max ||
                (uint32_t)opts[2] > CL_UNKNOWN_OTHER || opts[3] < 0 ||
                opts[4] < 0 || opts[4] > scale_max || (uint32_t)opts[5] > 1 ||
                (uint32_t)o2[0] > CL_ONEHOT_DROP_IF_BINARY || (uint32_t)o2[1] > 1 ||
                o2[2] < 2 || (uint32_t)o2[3] > 1))
        rc = cl_error(CL_EFORMAT, "pipeline: bad options in the file");
    if (!rc) {
        cl_pipeline_opts o;
        cl_pipeline_opts_default(&o);
        o.target = has_target ? target : NULL;
        o.positive = has_positive ? positive : NULL;
        if (has_neg) {
            o.negative = (const char *const *)neg; /* read_strs allocates even for none */
            o.nnegative = (int)nneg;
        }
        o.drop = (const char *const *)drop;
        o.ndrop = (int)ndrop;
        o.impute = (cl_impute)opts[0];
        o.encode = (cl_encode)opts[1];
        o.unknown = (cl_unknown)opts[2];
        o.max_categories = opts[3];
        o.scale = (cl_scale)opts[4];
        o.clip = opts[5];
        o.fill_value = fill_value;
        o.fill_label = fill_label;
        o.onehot_drop = (cl_onehot_drop)o2[0];
        o.add_indicator = o2[1];
        o.cv = o2[2];
        o.shuffle = o2[3];
        o.smooth = smooth;
        o.seed = (uint64_t)seed;
        rc = cl_pipeline_shell_new(&p, &o);
    }
    if (!rc) {
        p->target_is_cat = (int)tcat;
        p->cols = cl_alloc_calloc(n + 1, sizeof *p->cols);
        if (!p->cols)
            rc = CL_ENOMEM;
    }
    size_t m = 0, mte = 0;
    for (size_t j = 0; !rc && j < n; j++) {
        pcol *pc = &p->cols[j];
        p->ncol++;
        pc->dropcat = ext[2 * j];
        pc->ind = ext[2 * j + 1];
        if (pc->dropcat < -1 || (uint32_t)pc->ind > 1) {
            rc = cl_error(CL_EFORMAT, "pipeline: column '%s': dropped category %d, indicator %d",
                          names[j], pc->dropcat, pc->ind);
            break;
        }
        pc->name = names[j];
        names[j] = NULL;
        pc->is_cat = ints[4 * j] != 0;
        int ncat = ints[4 * j + 1];
        pc->other = ints[4 * j + 2] != 0;
        pc->fill_cat = ints[4 * j + 3];
        pc->fill = nums[3 * j];
        pc->shift = nums[3 * j + 1];
        pc->mul = nums[3 * j + 2];
        if ((uint32_t)ints[4 * j] > 1 || (uint32_t)ints[4 * j + 2] > 1) {
            rc = cl_error(CL_EFORMAT, "pipeline: column '%s': flags %d and %d, expected 0 or 1",
                          pc->name, (int)ints[4 * j], (int)ints[4 * j + 2]);
            break;
        }
        if (ncat < 0 || (size_t)ncat > ncats - m || pc->fill_cat < -1 || pc->fill_cat >= ncat ||
            (!pc->is_cat && (ncat != 0 || pc->other || pc->fill_cat != -1))) {
            rc = cl_error(CL_EFORMAT, "pipeline: bad categories for column '%s'", pc->name);
            break;
        }
        pc->cats = cl_alloc_calloc((size_t)ncat + 1, sizeof *pc->cats);
        if (!pc->cats) {
            rc = CL_ENOMEM;
            break;
        }
        for (int k = 0; k < ncat; k++, m++) {
            pc->cats[k] = cats[m];
            cats[m] = NULL;
            pc->ncat++;
            if (k > 0 && strcmp(pc->cats[k - 1], pc->cats[k]) >= 0)
                rc = cl_error(CL_EFORMAT, "pipeline: categories of '%s' are not sorted", pc->name);
        }
        if (!rc && is_te(p, pc)) {
            size_t need = (size_t)te_nslot(pc) + 1;
            if (need > ntev - mte) {
                rc = cl_error(CL_EFORMAT, "pipeline: column '%s': %zu target encodings left, %zu "
                              "needed", pc->name, ntev - mte, need);
                break;
            }
            if (!(pc->te = cl_alloc((need - 1) * sizeof *pc->te))) {
                rc = CL_ENOMEM;
                break;
            }
            memcpy(pc->te, tev + mte, (need - 1) * sizeof *pc->te);
            pc->te_prior = tev[mte + need - 1];
            mte += need;
        }
    }
    if (!rc && m != ncats)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu categories stored, %zu used", ncats, m);
    if (!rc && mte != ntev)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu target encodings stored, %zu used", ntev, mte);
    if (!rc)
        rc = validate(p, (int)has_target, (int)has_positive, target, positive);
    if (!rc)
        rc = cl_pipeline_layout(p);
    if (!rc && (size_t)p->nout != nf)
        rc = cl_error(CL_EFORMAT, "pipeline: %zu feature names stored, %d expected", nf, p->nout);
    for (size_t j = 0; !rc && j < nf; j++)
        if (strcmp(fnames[j], p->fnames[j]))
            rc = cl_error(CL_EFORMAT, "pipeline: feature %zu is '%s' in the file, '%s' rebuilt",
                          j + 1, fnames[j], p->fnames[j]);
    cl_alloc_free(target);
    cl_alloc_free(positive);
    cl_alloc_free(fill_label);
    free_strs(drop, ndrop);
    free_strs(names, n);
    free_strs(cats, ncats);
    free_strs(fnames, nf);
    free_strs(neg, nneg);
    cl_alloc_free(ints);
    cl_alloc_free(nums);
    cl_alloc_free(ext);
    cl_alloc_free(tev);
    cl_modelio_r_prefix(r, NULL);
    if (rc) {
        cl_pipeline_free(p);
        return rc;
    }
    *out = p;
    return CL_OK;
}

int cl_pipeline_io_save(const cl_pipeline *p, const char *path)
{
    cl_mw *w = cl_modelio_w_new("pipeline");
    if (!w)
        return CL_ENOMEM;
    int rc = cl_pipeline_io_write(p, w, "pipeline.");
    if (rc == CL_OK)
        rc = cl_modelio_w_save(w, path);
    cl_modelio_w_free(w);
    return rc;
}

int cl_pipeline_io_load(cl_pipeline **out, const char *path)
{
    *out = NULL;
    cl_mr *r;
    int rc = cl_modelio_r_open(&r, path);
    if (rc)
        return rc;
    rc = cl_modelio_r_expect_kind(r, "pipeline");
    if (rc == CL_OK)
        rc = cl_pipeline_io_read(r, "pipeline.", out);
    cl_modelio_r_free(r);
    return rc;
}
