/* isa.h - run-time choice of the instruction-set path of the tree kernels (histograms in
 * hist.c, split search in split.c, batch traversal in predict.c, binning in binning.c).
 *
 * The core is compiled for generic x86-64; each hot kernel is also compiled for AVX2 and for
 * AVX-512 (function attributes, one source body) and picks the best path the CPU and OS
 * support, once. Every path does the same integer or order-fixed float arithmetic (the core
 * is built -std=c11, so no FMA contraction), so results are bit-identical across paths;
 * tests/core/trees/test_isa.c forces each path in turn and compares.
 *
 * What the paths buy (scripts/bench/trees_kernels.c; GCC 12): the split scan's gains
 * vectorise on AVX-512 only (split.c takes its all-candidates scan there alone); the
 * traversal's level loop and the binning search have hand-written AVX-512 bodies with real
 * gathers (predict.c, binning.c: GCC 12 emulated the gathers with scalar loads); the
 * histogram's int64 scatter-add is one 16-byte vector add per bin on every path (hist.c).
 */
#ifndef CL_ISA_H
#define CL_ISA_H

enum { CL_ISA_AUTO = 0, CL_ISA_DEFAULT = 1, CL_ISA_AVX2 = 2, CL_ISA_AVX512 = 3 };

/* The best path this CPU runs (CL_ISA_DEFAULT when not x86-64 or not GCC-compatible). */
int cl_isa_best(void);
/* The path the kernels take now: the forced one, else cl_isa_best(). */
int cl_isa_get(void);
/* Testing hook: forces a path (CL_ISA_AUTO goes back to the best one). CL_EINVAL with a
 * message when the CPU cannot run it. Not thread-safe: call it between kernel runs. */
int cl_isa_force(int isa);
/* "auto", "default", "avx2", "avx512" (NULL for anything else). */
const char *cl_isa_name(int isa);

/* Attributes for the per-path copies of a kernel body (an always-inline static function). */
#if defined(__GNUC__) && defined(__x86_64__)
#define CL_ISA_HAVE_PATHS 1
#define CL_ISA_AVX2_FN __attribute__((target("avx2"), noinline))
#define CL_ISA_AVX512_FN __attribute__((target("avx512f,avx512vl,avx512bw,avx512dq"), noinline))
#define CL_ISA_BODY static inline __attribute__((always_inline))
#else
#define CL_ISA_HAVE_PATHS 0
#define CL_ISA_BODY static inline
#endif

#endif
