/* pvx — the sparse ops' vector kernels (sparse_kernel.inc), built for AVX-512, AVX2+FMA and
 * SSE2, and the choice among them by what the CPU has (once, at first use).
 *
 * pvx builds for the x86-64 baseline (SSE2); these kernels are where the wider vectors pay, so
 * they are compiled three times under GCC's target pragmas instead of raising the whole build's
 * -march. */
#include <string.h>

#include "sparse_private.h"

#define VW 4
#define SUFFIX sse2
#include "sparse_kernel.inc"
#undef VW
#undef SUFFIX

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PVX_SPARSE_X86 1
#pragma GCC push_options
#pragma GCC target("avx2,fma")
#define VW 8
#define SUFFIX avx2
#include "sparse_kernel.inc"
#undef VW
#undef SUFFIX
#pragma GCC pop_options

#pragma GCC push_options
#pragma GCC target("avx512f,fma")
#define VW 16
#define SUFFIX avx512
#include "sparse_kernel.inc"
#undef VW
#undef SUFFIX
#pragma GCC pop_options
#endif

static const PvxSparseKernels kernels_sse2 = {"sse2", 8 * 4, conv_tiles_sse2, linear_rows_sse2};
#ifdef PVX_SPARSE_X86
static const PvxSparseKernels kernels_avx2 = {"avx2", 8 * 8, conv_tiles_avx2, linear_rows_avx2};
static const PvxSparseKernels kernels_avx512 = {"avx512", 8 * 16, conv_tiles_avx512,
                                                linear_rows_avx512};
#endif

/* PVX_SPARSE_ISA=sse2|avx2|avx512 (read once) caps the choice, for tests and measurements. */
const PvxSparseKernels *pvx_sparse_kernels(void)
{
    static const PvxSparseKernels *chosen = NULL;
    if (g_once_init_enter(&chosen)) {
        const PvxSparseKernels *k = &kernels_sse2;
#ifdef PVX_SPARSE_X86
        const char *cap = g_getenv("PVX_SPARSE_ISA");
        __builtin_cpu_init();
        gboolean avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
        gboolean avx512 = avx2 && __builtin_cpu_supports("avx512f");
        if (cap != NULL && g_str_equal(cap, "sse2"))
            avx2 = avx512 = FALSE;
        else if (cap != NULL && g_str_equal(cap, "avx2"))
            avx512 = FALSE;
        k = avx512 ? &kernels_avx512 : avx2 ? &kernels_avx2 : &kernels_sse2;
#endif
        g_debug("pvx: sparse kernels for %s", k->isa);
        g_once_init_leave(&chosen, k);
    }
    return chosen;
}
