/* pipeline_impl.h - the insides of a fitted pipeline (frame/pipeline.h), shared by the files
 * that hold its steps, and by no one else:
 *   pipeline.c         the pipeline's lifecycle, its output layout, the fit and transform
 *                      drivers (column by column, then the target), fit_transform's
 *                      out-of-fold target encodings and the getters;
 *   pipeline_encode.c  categories: which are kept, their codes, target encodings;
 *   pipeline_scale.c   imputation of numbers and the scalers (minmax, standard, robust);
 *   pipeline_io.c      the model-file chunks (formats 1 and 2), their validation, save/load.
 * Each file's exported internals carry its prefix (cl_pipeline_encode_*, cl_pipeline_scale_*);
 * the few one-line predicates every step asks are static inline here. */
#ifndef CL_PIPELINE_IMPL_H
#define CL_PIPELINE_IMPL_H

#include <stdint.h>

#include "frame/frame.h"
#include "frame/pipeline.h"

#define OTHER_LABEL "(other)"
#define MISSING_LABEL "(missing)"
#define IND_SLOT (-2)   /* srccat of a missing-indicator output */
/* 1: the first format; 2 adds onehot_drop, add_indicator, target encoding and robust
 * scaling, and is written only by pipelines that use one of them (the others are written in
 * format 1, byte for byte as before, so older binaries still read them). */
#define PREP_FORMAT 2

typedef struct pcol {
    char *name;
    int is_cat;
    double fill;        /* num: imputed value (NaN: none) */
    double shift, mul;  /* scaling: (x - shift) * mul */
    int ncat;           /* cat: kept categories, sorted by label */
    char **cats;
    int other;          /* cat: an "(other)" slot at index ncat */
    int fill_cat;       /* cat: category index for missing values, -1: none */
    int dropcat;        /* one-hot: the category without an output column, -1: none */
    int ind;            /* a missing indicator is the column's last output */
    double *te;         /* encode = target: ncat + other + 1 encodings (last: missing), */
    double te_prior;    /* and the fit frame's mean for unknown categories */
    int out0, nout;
} pcol;

struct cl_pipeline {
    cl_pipeline_opts o;     /* strings below are owned copies */
    char *target, *positive, *fill_label;
    char **drop;
    char **neg;             /* values meaning 0 (see prep.h); neg_known 0: any non-positive */
    int nneg, neg_known;
    int neg_given;          /* 1: neg came from the options (0: a fit found it), for a refit */
    char **columns;         /* owned copies of o.columns (NULL: every column not dropped) */
    int target_is_cat;
    int ncol;
    pcol *cols;
    int nout;
    char **fnames;
    int *src;               /* output column -> input column */
    int *srccat;            /* output column -> category index (one-hot), -1 otherwise */
};

static inline int is_onehot(const cl_pipeline *p, const pcol *pc)
{
    return pc->is_cat && p->o.encode == CL_ENCODE_ONEHOT;
}

static inline int is_te(const cl_pipeline *p, const pcol *pc)
{
    return pc->is_cat && p->o.encode == CL_ENCODE_TARGET;
}

/* The category onehot_drop leaves without a column (see prep.h), -1: none. */
static inline int expected_drop(const cl_pipeline *p, const pcol *pc)
{
    if (!is_onehot(p, pc))
        return -1;
    if (p->o.onehot_drop == CL_ONEHOT_DROP_FIRST)
        return pc->ncat >= 1 ? 0 : -1;
    if (p->o.onehot_drop == CL_ONEHOT_DROP_IF_BINARY)
        return pc->ncat == 2 ? 0 : -1;
    return -1;
}

/* One-hot: the output slot (within the column) of category c, -1 for the dropped one. */
static inline int onehot_slot(const pcol *pc, int c)
{
    if (pc->dropcat < 0 || c < pc->dropcat)
        return c;
    return c == pc->dropcat ? -1 : c - 1;
}

/* Number of encoding slots of a target-encoded column: categories, other, missing. */
static inline int te_nslot(const pcol *pc)
{
    return pc->ncat + pc->other + 1;
}

/* ---- pipeline.c ---- */
/* A pipeline shell holding copies of the options (owned; cl_pipeline_free). */
int cl_pipeline_shell_new(cl_pipeline **out, const cl_pipeline_opts *o);
/* The output columns of the fitted input columns: offsets, names, sources. */
int cl_pipeline_layout(cl_pipeline *p);

/* ---- pipeline_encode.c ---- */
/* Fits input column pc's kept categories, fill category and dropped one-hot category. */
int cl_pipeline_encode_fit_cat(cl_pipeline *p, pcol *pc, const cl_column *col);
/* Frame dictionary code -> kept category index (-1: unknown); *map owned (cl_alloc_free). */
int cl_pipeline_encode_cat_map(const pcol *pc, const cl_column *col, int32_t **map);
/* Value of input column pc on row i before scaling: the imputed number or the ordinal code. */
double cl_pipeline_encode_raw(const pcol *pc, const cl_column *col, const int32_t *map, int64_t i);
/* encode = target: the encoding slot of row i, -1: unknown. */
int cl_pipeline_encode_te_slot(const pcol *pc, const cl_column *col, const int32_t *map, int64_t i);
/* The target encodings fitted on the rows outside fold q (every row when fold is NULL). */
int cl_pipeline_encode_te_fit(const cl_pipeline *p, const pcol *pc, const cl_column *col,
                              const int32_t *map, const float *y, const int32_t *fold, int q,
                              double *enc, double *prior);

/* ---- pipeline_scale.c ---- */
/* The value imputed for missing numbers of column pc (NaN: impute = none). */
int cl_pipeline_scale_fit_fill(cl_pipeline *p, pcol *pc, const cl_column *col);
/* The scaler of column pc: (x - shift) * mul from the fit frame's statistics. */
int cl_pipeline_scale_fit(cl_pipeline *p, pcol *pc, const cl_column *col, const int32_t *map);

#endif
