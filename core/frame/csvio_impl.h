/* csvio_impl.h - what the CSV reader (csvio.c) and writer (csvio_write.c) share: the default
 * missing markers (a label spelled like one is written quoted, so it reads back as the label)
 * and a scope in the C locale (numbers are read and written with '.' whatever the user's). */
#ifndef CL_CSVIO_IMPL_H
#define CL_CSVIO_IMPL_H

#include <locale.h>

#define CL_CSVIO_NDEFAULT_NA 4
extern const char *const cl_csvio_default_na[CL_CSVIO_NDEFAULT_NA];

/* ---- C-locale scope ----------------------------------------------------------------------- */

typedef struct cloc {
    locale_t c, old;
} cloc;

static inline void cloc_enter(cloc *l)
{
    l->c = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    l->old = l->c ? uselocale(l->c) : (locale_t)0;
}

static inline void cloc_leave(cloc *l)
{
    if (l->c) {
        uselocale(l->old);
        freelocale(l->c);
    }
}

#endif
