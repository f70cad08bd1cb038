/* isa.c - run-time instruction-set path of the tree kernels (see isa.h). */
#include "trees/isa.h"

#include "base/error.h"

static int forced = CL_ISA_AUTO;

int cl_isa_best(void)
{
#if CL_ISA_HAVE_PATHS
    /* Asked every time, not cached: kernels call this from inside parallel regions, and a
     * lazily set static would be a data race. __builtin_cpu_supports only reads what
     * libgcc's start-up constructor found (cpuid, and whether the OS saves the wide
     * registers); nothing here runs before constructors, so no __builtin_cpu_init. */
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
        __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
        return CL_ISA_AVX512;
    if (__builtin_cpu_supports("avx2"))
        return CL_ISA_AVX2;
    return CL_ISA_DEFAULT;
#else
    return CL_ISA_DEFAULT;
#endif
}

int cl_isa_get(void)
{
    return forced != CL_ISA_AUTO ? forced : cl_isa_best();
}

int cl_isa_force(int isa)
{
    if (!cl_isa_name(isa))
        return cl_error(CL_EINVAL, "isa: unknown path %d", isa);
    if (isa > cl_isa_best())
        return cl_error(CL_EINVAL, "isa: this CPU cannot run the %s path (best: %s)",
                        cl_isa_name(isa), cl_isa_name(cl_isa_best()));
    forced = isa;
    return CL_OK;
}

const char *cl_isa_name(int isa)
{
    static const char *const names[] = {"auto", "default", "avx2", "avx512"};
    return isa >= CL_ISA_AUTO && isa <= CL_ISA_AVX512 ? names[isa] : NULL;
}
