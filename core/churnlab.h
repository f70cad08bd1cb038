/* churnlab.h - the umbrella header of the churnlab core library (libchurnlab.a).
 *
 * The core is plain C11 with no Lua in it. Conventions: public names cl_<module>_<verb>,
 * int status (CL_OK / CL_E*) plus cl_last_error(), allocation through cl_alloc, ownership
 * written in each header. See DESIGN.md.
 */
#ifndef CHURNLAB_H
#define CHURNLAB_H

#define CL_VERSION_STRING "0.1.0"

#include "alloc.h"
#include "binning.h"
#include "calibrate.h"
#include "cf.h"
#include "cluster.h"
#include "content.h"
#include "csv.h"
#include "csvio.h"
#include "drift.h"
#include "error.h"
#include "explain.h"
#include "fileio.h"
#include "forest.h"
#include "frame.h"
#include "frame_col.h"
#include "frame_ops.h"
#include "gbdt.h"
#include "hist.h"
#include "hybrid.h"
#include "metrics.h"
#include "lbfgs.h"
#include "linear.h"
#include "mlp.h"
#include "modelio.h"
#include "optim.h"
#include "param.h"
#include "param_io.h"
#include "prep.h"
#include "progress.h"
#include "rankmetrics.h"
#include "rec.h"
#include "rng.h"
#include "sparse.h"
#include "split.h"
#include "stats.h"
#include "strategy.h"
#include "strbuf.h"
#include "survival.h"
#include "synth.h"
#include "tensor.h"
#include "threads.h"
#include "tree.h"
#include "tree_grow.h"
#include "treeshap.h"
#include "uplift.h"

#endif
