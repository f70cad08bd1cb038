/* churnlab.h - the umbrella header of the churnlab core library (libchurnlab.a).
 *
 * The core is plain C11 with no Lua in it. Conventions: public names cl_<module>_<verb>,
 * int status (CL_OK / CL_E*) plus cl_last_error(), allocation through cl_alloc, ownership
 * written in each header. See DESIGN.md.
 */
#ifndef CHURNLAB_H
#define CHURNLAB_H

#define CL_VERSION_STRING "0.1.0"

#include "base/alloc.h"
#include "trees/binning.h"
#include "eval/calibrate.h"
#include "models/prior.h"
#include "rec/cf.h"
#include "analysis/cluster.h"
#include "rec/content.h"
#include "csv.h"
#include "frame/csvio.h"
#include "base/dist.h"
#include "eval/drift.h"
#include "base/error.h"
#include "eval/explain.h"
#include "base/fileio.h"
#include "trees/forest.h"
#include "frame/frame.h"
#include "frame/frame_col.h"
#include "frame/frame_ops.h"
#include "trees/gbdt.h"
#include "trees/hist.h"
#include "rec/hybrid.h"
#include "eval/metrics.h"
#include "base/lbfgs.h"
#include "models/linear.h"
#include "live/livelog.h"
#include "live/livestate.h"
#include "models/mlp.h"
#include "base/modelio.h"
#include "base/optim.h"
#include "base/param.h"
#include "base/param_io.h"
#include "frame/prep.h"
#include "base/progress.h"
#include "rec/rankmetrics.h"
#include "rec/rec.h"
#include "base/rng.h"
#include "rec/sparse.h"
#include "trees/split.h"
#include "base/stats.h"
#include "analysis/strategy.h"
#include "base/strbuf.h"
#include "analysis/survival.h"
#include "synth/synth.h"
#include "synth/synth_bench.h"
#include "tensor/tensor.h"
#include "base/threads.h"
#include "trees/tree.h"
#include "trees/tree_grow.h"
#include "trees/treeshap.h"
#include "eval/uplift.h"

#endif
