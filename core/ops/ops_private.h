/* pvx — helpers shared by the op kernels in core/ops (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx-private/ops.h"
#include "pvx/tensor.h"

/* Starts the pool on first use; a malformed PVX_NUM_THREADS falls back to the default with a
 * warning (pvx_threads_init reports it as an error instead). */
void pvx_ops_threads_ensure(void);

/* Holds OpenBLAS to one thread between begin and end, so that pool tasks may call it — each task
 * then runs its own single-threaded GEMMs and the machine still has one busy thread per core.
 * Nests; another thread's concurrent BLAS call meanwhile runs single-threaded too (correct, only
 * slower). */
void pvx_ops_blas_serial_begin(void);
void pvx_ops_blas_serial_end(void);

/* A per-thread scratch buffer of at least @numel floats, 64-byte aligned, reused between calls
 * so that big im2col matrices are not faulted in again on every image. Slots are independent
 * (0 .. PVX_OPS_SCRATCH_SLOTS-1); contents are undefined on return. (transfer none) */
#define PVX_OPS_SCRATCH_SLOTS 8
float *pvx_ops_scratch(int slot, size_t numel);

/* The geometry of a (grouped) conv2d: x [N, Cin, H, W], w [Cout, Cin/groups, KH, KW]. */
typedef struct {
    int64_t n, cin, h, w; /* input */
    int64_t cout, kh, kw; /* weight */
    int64_t oh, ow;       /* output */
    int64_t sh, sw, ph, pw, dh, dw;
    int64_t groups, cin_g, cout_g; /* groups and the channels of one group */
    int64_t k;                     /* cin_g * kh * kw: one output's multiply-adds */
    gboolean pointwise;            /* 1×1, stride 1, no padding: im2col's column is x itself */
} PvxConvGeom;

/* Checks x, w (and b) against each other, @p (NULL = defaults) and @groups, and fills @g:
 * PVX_ERROR_INVALID_ARGUMENT for groups < 1 or negative parameters, PVX_ERROR_SHAPE naming the
 * shapes that do not fit (conv.c, shared with conv_grouped.c). */
gboolean pvx_conv_geometry(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                           const PvxConv2dParams *p, int groups, PvxConvGeom *g, GError **error);

/* FALSE + PVX_ERROR_SHAPE unless @t is a contiguous tensor with @ndim dimensions. @what names
 * the argument in the message ("conv2d input"). */
gboolean pvx_ops_check_tensor(const PvxTensor *t, int ndim, const char *what, GError **error);
/* FALSE + PVX_ERROR_SHAPE naming both shapes unless @t has exactly @shape. */
gboolean pvx_ops_check_shape(const PvxTensor *t, int ndim, const int64_t *shape, const char *what,
                             GError **error);
/* The output of a forward op: a new reference to @out after checking its shape, or a new
 * tensor. (transfer full), NULL + error. */
PvxTensor *pvx_ops_prepare_out(PvxTensor *out, int ndim, const int64_t *shape, const char *what,
                               GError **error);
/* Checks or allocates *dx for an input gradient of shape @shape (see ops.h). dx != NULL. */
gboolean pvx_ops_prepare_grad(PvxTensor **dx, int ndim, const int64_t *shape, const char *what,
                              GError **error);

/* Which algorithm conv2d uses, from PVX_CONV_ALGO (see ops.h); read on every call so that a
 * test can switch paths. An unknown value warns once and means auto. */
typedef enum {
    PVX_CONV_ALGO_AUTO,
    PVX_CONV_ALGO_IM2COL,
    PVX_CONV_ALGO_WINOGRAD,
} PvxConvAlgo;
PvxConvAlgo pvx_ops_conv_algo(void);

/* y[i] = 0 where gate[i] ≤ 0 (or NaN), over @n elements, on the pool: a ReLU's backward applied
 * to a gradient that an op has just written, in place. */
void pvx_ops_relu_gate(float *y, const float *gate, int64_t n);

/* Kernels that are long unit-stride loops (the Winograd transforms, the direct convolution) are
 * built once per vector width (AVX-512, AVX2, the SSE2 baseline) and picked at load time by the
 * CPU (GCC's function multi-versioning). No FMA contraction is enabled, so every version gives
 * the same bits. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && defined(__ELF__)
#define PVX_KERNEL_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define PVX_KERNEL_CLONES
#endif

/* Whether to run the hand-written AVX-512 kernels (the Winograd tile transforms and layout
 * copies, the 2×2 max-pool's backward): the CPU has AVX-512F and PVX_KERNEL_ISA is not
 * "generic" (read on every call, for tests and measurements; the generic kernels give the same
 * bits). */
gboolean pvx_ops_use_avx512(void);

/* Σ of a plane of @n floats in float, in 8 interleaved partial sums: independent chains that
 * vectorise (a single running sum waits on every add). Planes are at most a few thousand values;
 * the callers (batch norm's statistics, the bias gradients) sum planes in double. */
static inline float pvx_ops_plane_sum(const float *restrict x, int64_t n)
{
    float acc[8] = {0};
    int64_t k = 0;
    for (; k + 8 <= n; k += 8)
        for (int l = 0; l < 8; l++)
            acc[l] += x[k + l];
    float s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (; k < n; k++)
        s += x[k];
    return s;
}

/* A 3×3, stride-1, dilation-1 convolution for the Winograd kernels (winograd.c): input
 * [n, cin, h, w], output [n, cout, oh, ow], zero padding ph, pw (any value, negative crops). */
typedef struct {
    int64_t n, cin, h, w;
    int64_t cout, oh, ow;
    int64_t ph, pw;
} PvxWinograd;

/* The input gradient's convolution of @c: over dy [n, cout, oh, ow] into dx [n, cin, h, w], with
 * the weights applied transposed and rotated (flip, below) and padding 2 - pad. */
static inline PvxWinograd pvx_winograd_input_grad(const PvxWinograd *c)
{
    return (PvxWinograd){.n = c->n,
                         .cin = c->cout,
                         .h = c->oh,
                         .w = c->ow,
                         .cout = c->cin,
                         .oh = c->h,
                         .ow = c->w,
                         .ph = 2 - c->ph,
                         .pw = 2 - c->pw};
}
/* y (overwritten) = conv(x, w) + bias. w is [cout, cin, 3, 3], or with @flip [cin, cout, 3, 3]
 * applied rotated by 180° (the input gradient's convolution). @bias nullable. @gate nullable,
 * y's shape: y is zero wherever gate ≤ 0 (a ReLU's backward folded in). With @relu, y is zero
 * wherever it is not > 0 (a ReLU's forward folded in). */
void pvx_winograd_forward(const PvxWinograd *c, const float *x, const float *w, gboolean flip,
                          const float *bias, const float *gate, gboolean relu, float *y);
/* Whether pvx_winograd_forward (without @flip) runs @c by blocks of output channels, the
 * threads sharing out those instead of blocks of tiles: few tiles (a small image at batch 1) and
 * many output channels (winograd.c, SPLIT_MAX_TILES). */
gboolean pvx_winograd_forward_splits(const PvxWinograd *c);
/* dw [cout, cin, 3, 3] += dL/dw from x and dy [n, cout, oh, ow]. */
void pvx_winograd_weight_grad(const PvxWinograd *c, const float *x, const float *dy, float *dw);
/* Both at once, for padding 1 (output size = input size): dx (overwritten; zero where @gate,
 * nullable, is ≤ 0) as pvx_winograd_forward(flip) would give it within rounding, dw += dL/dw and,
 * with @db (nullable), db += dL/db. Each block's rows of dy are copied and read once for all. */
void pvx_winograd_backward(const PvxWinograd *c, const float *x, const float *w, const float *dy,
                           const float *gate, float *dx, float *dw, float *db);
