/* csvio_write.c - the CSV writer (cl_csvio_write, csvio.h): written atomically, in the C
 * locale, with labels quoted when they would otherwise read back as something else. */
#include "frame/csvio.h"
#include "frame/csvio_impl.h"
#include "frame/textnum.h"
#include "base/error.h"
#include "base/fileio.h"

#include <stdio.h>
#include <string.h>

/* ---- writer ------------------------------------------------------------------------------- */

static int needs_quotes(const char *s, char sep)
{
    size_t n = strlen(s);
    if (n == 0)
        return 1; /* an empty label is distinct from missing */
    if (cl_textnum_is_space(s[0]) || cl_textnum_is_space(s[n - 1]))
        return 1;
    /* a label spelled like a default missing marker reads back as that label only quoted */
    for (int k = 0; k < CL_CSVIO_NDEFAULT_NA; k++)
        if (!strcmp(s, cl_csvio_default_na[k]))
            return 1;
    for (; *s; s++)
        if (*s == sep || *s == '"' || *s == '\n' || *s == '\r')
            return 1;
    return 0;
}

static void put_str(FILE *fp, const char *s, char sep)
{
    if (!needs_quotes(s, sep)) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int cl_csvio_write(const cl_frame *f, const char *path, char sep)
{
    if (!sep)
        sep = ',';
    cl_atomic_file a;
    int rc = cl_fileio_atomic_open(&a, path);
    if (rc)
        return rc;
    cloc loc;
    cloc_enter(&loc);
    for (int j = 0; j < f->ncol; j++) {
        if (j)
            fputc(sep, a.fp);
        put_str(a.fp, f->names[j], sep);
    }
    fputc('\n', a.fp);
    char buf[64];
    for (int64_t i = 0; i < f->nrow; i++) {
        for (int j = 0; j < f->ncol; j++) {
            const cl_column *c = f->cols[j];
            if (j)
                fputc(sep, a.fp);
            if (f->ncol == 1 && cl_frame_column_isna_at(c, i)) {
                /* an empty line would be skipped as blank on reading: write the marker */
                fputs("NA", a.fp);
            } else if (c->type == CL_CAT) {
                if (c->codes[i] >= 0)
                    put_str(a.fp, c->dict->labels[c->codes[i]], sep);
            } else if (c->type == CL_DATE) {
                cl_textnum_format_date(c->num[i], buf, sizeof buf);
                fputs(buf, a.fp);
            } else {
                cl_textnum_format_num(c->num[i], buf, sizeof buf);
                fputs(buf, a.fp);
            }
        }
        fputc('\n', a.fp);
    }
    cloc_leave(&loc);
    if (ferror(a.fp)) {
        cl_fileio_atomic_abort(&a);
        return cl_error(CL_EIO, "write_csv: cannot write '%s'", path);
    }
    return cl_fileio_atomic_commit(&a);
}
