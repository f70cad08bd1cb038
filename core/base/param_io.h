/* param_io.h - a model's parameter struct in a model file, driven by its cl_param_def table.
 *
 * Each parameter becomes one chunk "param.<name>": f64 for INT/NUM/BOOL/ENUM, i64 for SEED,
 * an i64 list for INTS. Reading starts from the defaults, so a file written before a
 * parameter existed still loads; every value read is range-checked by the same table.
 * (Shared by every model kind; a candidate to move into param.c.)
 */
#ifndef CL_PARAM_IO_H
#define CL_PARAM_IO_H

#include "base/modelio.h"
#include "base/param.h"

int cl_param_io_write(cl_mw *w, const cl_param_def *defs, const void *params);
/* `params` must already hold the defaults (INTS defaults come from the model's _default). */
int cl_param_io_read(const cl_mr *r, const cl_param_def *defs, void *params, const char *what);

#endif
