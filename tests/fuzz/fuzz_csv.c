/* fuzz_csv.c - libFuzzer target for the CSV reader and what a session does next.
 *
 * The first input byte picks reader options (separator, header, skipping bad lines, a row
 * limit, a forced type, custom NA markers); the rest is the file. Whatever parses is then
 * described, sorted, grouped, value-counted and pushed through a prep pipeline, so malformed
 * input that slips through the reader cannot crash the frame code either.
 *
 * Inputs go up to 1 MB with a per-input time budget (tests/fuzz/run.sh: -max_len, -timeout),
 * so a reader that is quadratic in field length or column count fails here; the seeds
 * include a long field and a wide file (tests/data/fuzz-csv). */
#include "churnlab.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Features a one-hot pipeline would build: num columns 1, cat columns their levels. */
static int64_t width(const cl_frame *f)
{
    int64_t w = 0;
    for (int j = 0; j < f->ncol; j++)
        w += f->cols[j]->type == CL_CAT ? f->cols[j]->dict->n + 1 : 1;
    return w;
}

static void exercise(const cl_frame *f)
{
    cl_frame *r = NULL;
    /* The steps below are fast on the frames of inputs up to 4 KB (the old limit), but under
     * ASan a 1 MB input makes them take seconds (20k columns: 4 s, 260k rows: 6 s, linear,
     * mostly per-column allocation and sorting): big frames exercise the reader only, whose
     * own cost (the quadratic paths of issue 22) is what the 1 MB inputs are for. */
    if (f->ncol > 1024 || (double)f->nrow * f->ncol > 65536.0)
        return;
    if (cl_frame_group_describe(&r, f) == CL_OK)
        cl_frame_free(r);
    if (f->ncol == 0)
        return;
    const char *key = f->names[0];
    if (cl_frame_ops_sort(&r, f, &key, NULL, 1) == CL_OK)
        cl_frame_free(r);
    cl_agg aggs[3] = {{key, CL_AGG_SIZE, NULL}, {f->names[f->ncol - 1], CL_AGG_COUNT, NULL},
                      {f->names[f->ncol - 1], CL_AGG_NUNIQUE, "nu"}};
    if (cl_frame_group_by(&r, f, &key, 1, aggs, 3) == CL_OK)
        cl_frame_free(r);
    if (cl_col_value_counts(&r, f->cols[0], "v") == CL_OK)
        cl_frame_free(r);
    /* Inputs reach 1 MB, so a frame of 1000 rows x 1000 distinct labels is possible, whose
     * one-hot tensor (4 GB) is legitimately large: pipelines only on tensors up to 64 MB. */
    if ((double)f->nrow * (double)width(f) > (double)(16 << 20))
        return;
    cl_pipeline *p;
    cl_pipeline_opts o;
    cl_pipeline_opts_default(&o);
    o.scale = CL_SCALE_MINMAX;
    o.unknown = CL_UNKNOWN_OTHER;
    if (cl_pipeline_new(&p, &o) == CL_OK) {
        cl_tensor *X, *y;
        if (cl_pipeline_fit(p, f) == CL_OK && cl_pipeline_transform(p, f, &X, &y) == CL_OK) {
            cl_tensor_free(X);
            cl_tensor_free(y);
        }
        cl_pipeline_free(p);
    }
    o.encode = CL_ENCODE_NONE; /* the imputer step, frame out */
    o.impute = CL_IMPUTE_MOST_FREQUENT;
    if (cl_pipeline_new(&p, &o) == CL_OK) {
        if (cl_pipeline_fit(p, f) == CL_OK && cl_pipeline_transform_frame(p, f, &r) == CL_OK)
            cl_frame_free(r);
        cl_pipeline_free(p);
    }
    /* A self-join on a column with few distinct values has up to nrow^2 rows: bounded here
     * so the fuzzer spends its time on parsing, not on legitimately large joins. */
    if (f->ncol >= 2 && f->nrow <= 256) {
        const char *on = f->names[1];
        if (cl_frame_join(&r, f, f, &on, 1, CL_JOIN_LEFT, NULL) == CL_OK)
            cl_frame_free(r);
        if (cl_frame_group_crosstab(&r, f, f->names[0], f->names[1], 1) == CL_OK)
            cl_frame_free(r);
    }
}

/* The fast tokenizer of csvio.c must give what libcsv gives (csvio.h): the same status and
 * message, the same frame cell for cell; any difference aborts (a finding). Threads: the
 * first read commits on 2 threads when flag bit 64 is clear (csvio's batches). */
static void same_as_libcsv(int rc, const cl_frame *f, const uint8_t *data, size_t size,
                           const cl_csv_opts *o)
{
    char msg[4096]; /* room for any message: error.c's buffer is 1024 (a cut copy of a long
                     * message once compared unequal with the whole and aborted: CI9) */
    snprintf(msg, sizeof msg, "%s", rc ? cl_error_last() : "");
    if (size > ((size_t)64 << 10))
        return; /* a second read of a 1 MB input would double the worst per-input time under
                 * ASan (the 20 s budget of run.sh); the tricky shapes are small anyway */
    cl_csv_opts slow = *o;
    slow.libcsv_only = 1;
    cl_frame *g;
    cl_csv_info info;
    int rg = cl_csvio_read_buffer(&g, (const char *)data, size, "fuzz", &slow, &info);
    if (rg != rc || (rc && strcmp(msg, cl_error_last())))
        abort();
    if (rc)
        return;
    if (g->nrow != f->nrow || g->ncol != f->ncol)
        abort();
    for (int j = 0; j < f->ncol; j++) {
        const cl_column *x = f->cols[j], *y = g->cols[j];
        if (strcmp(f->names[j], g->names[j]) || x->type != y->type)
            abort();
        for (int64_t i = 0; i < f->nrow; i++) {
            if (x->type != CL_CAT ? memcmp(&x->num[i], &y->num[i], sizeof(double)) != 0
                                  : x->codes[i] != y->codes[i] ||
                                        (x->codes[i] >= 0 &&
                                         strcmp(x->dict->labels[x->codes[i]],
                                                y->dict->labels[y->codes[i]])))
                abort();
        }
    }
    cl_frame_free(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t flags = data[0];
    cl_csv_opts o;
    cl_csvio_opts_default(&o);
    static const char seps[4] = {',', ';', '\t', '|'};
    o.sep = seps[flags & 3];
    o.header = !(flags & 4);
    o.skip_bad = (flags & 8) != 0;
    if (flags & 16)
        o.nrows = 3;
    if (flags & 32)
        o.skip = 1;
    static const char *const tnames[] = {"a", "V1"};
    static const cl_coltype types[] = {CL_NUM, CL_DATE};
    if (flags & 64) {
        o.type_names = o.header ? tnames : tnames + 1;
        o.types = (flags & 128) ? types + 1 : types;
        o.ntypes = 1;
    }
    static const char *const na[] = {"-", "?"};
    if ((flags & 192) == 128) {
        o.na = na;
        o.nna = 2;
    }
    o.threads = (flags & 64) ? 1 : 2;
    cl_frame *f;
    cl_csv_info info;
    int rc = cl_csvio_read_buffer(&f, (const char *)data + 1, size - 1, "fuzz", &o, &info);
    same_as_libcsv(rc, f, data + 1, size - 1, &o);
    if (rc == CL_OK) {
        exercise(f);
        cl_frame_free(f);
    }
    cl_error_clear();
    return 0;
}
