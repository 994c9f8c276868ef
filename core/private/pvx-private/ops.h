/* pvx — neural-network ops on float32 NCHW tensors, forward and backward.
 *
 * Conventions shared by every op in this header:
 * - Tensors are float32, contiguous, PyTorch's layouts: activations [N, C, H, W], conv weights
 *   [Cout, Cin, KH, KW], linear weights [out, in], per-channel vectors [C].
 * - Forward ops take an optional preallocated @out. When @out is NULL a new tensor is allocated;
 *   when given it must have exactly the output shape (else PVX_ERROR_SHAPE), it is overwritten,
 *   and the return value is a new reference to it. Either way the return is (transfer full):
 *   g_autoptr(PvxTensor) y = pvx_relu_forward(x, NULL, &error);
 * - Backward ops compute only what they are asked for:
 *     `PvxTensor **dx` (input gradient): NULL = do not compute it; *dx == NULL = allocate a new
 *       tensor of the input's shape and store it there (transfer full); *dx != NULL = overwrite
 *       that tensor (shape must match). The input gradient is always OVERWRITTEN, never summed.
 *     `PvxTensor *dw, *db` (parameter gradients): NULL = do not compute; otherwise the gradient
 *       is ACCUMULATED into the given tensor (+=), like PyTorch's .grad — zero them once per
 *       optimizer step. This lets a layer system sum gradients over micro-batches for free.
 * - A shape that does not fit gives PVX_ERROR_SHAPE with both shapes in the message; a bad
 *   hyper-parameter (zero stride, p outside [0,1), a target out of range) gives
 *   PVX_ERROR_INVALID_ARGUMENT. On failure nothing the caller owns has been modified, except
 *   where noted (a failed shape check happens before any writes).
 * - Ops are safe to call from several threads at once on different tensors; each op uses the
 *   pvx thread pool and OpenBLAS internally, one after the other, never both at once.
 *
 * Threads: one knob, the environment variable PVX_NUM_THREADS (default: the number of online
 * CPUs), sets both OpenBLAS's thread count and the size of pvx's own pool. pvx never runs its
 * pool while a multi-threaded OpenBLAS call is in flight, so the machine is never
 * oversubscribed. (The Winograd convolution holds OpenBLAS to one thread while each pool thread
 * runs its own GEMMs; a BLAS call from another thread meanwhile also runs on one thread.)
 * OpenBLAS's idle threads busy-wait for a while after each call; OPENBLAS_THREAD_TIMEOUT=4 in
 * the environment (read when the library loads) makes them sleep at once.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/layer_params.h"
#include "pvx/tensor.h"

G_BEGIN_DECLS

/* ---------------------------------------------------------------------------------------------
 * Threads
 */

/* Reads PVX_NUM_THREADS (default: number of online CPUs), sets OpenBLAS's thread count to it and
 * starts pvx's pool with that many threads (the caller counts as one). Idempotent: only the first
 * successful call acts. Ops call it implicitly (falling back to the default with a warning when
 * the variable is malformed); call it explicitly first to turn a malformed value into an error
 * (PVX_ERROR_INVALID_ARGUMENT). */
gboolean pvx_threads_init(GError **error);
/* The thread count in use (initialises on first use). */
int pvx_num_threads(void);

/* Runs fn(begin, end, data) over [0, n) split into at most pvx_num_threads() contiguous ranges,
 * one per thread, and returns when all are done. Ranges shorter than @grain items are not worth a
 * thread: with n < 2 * grain everything runs on the calling thread. Also runs serially when
 * called from inside a pool task or while another thread holds the pool (no nesting, no
 * oversubscription). @fn must not call OpenBLAS. */
typedef void (*PvxRangeFunc)(int64_t begin, int64_t end, void *data);
void pvx_parallel_for(int64_t n, int64_t grain, PvxRangeFunc fn, void *data);

/* ---------------------------------------------------------------------------------------------
 * Convolution 2d: y = conv(x, w) + b, PyTorch's Conv2d with groups = 1.
 *   x [N, Cin, H, W], w [Cout, Cin, KH, KW], b [Cout] or NULL, y [N, Cout, OH, OW] with
 *   OH = (H + 2*pad_h - dilation_h*(KH-1) - 1) / stride_h + 1 (floor), OW likewise.
 * Three algorithms, same results within float32 rounding (all tested against PyTorch):
 * - Winograd F(2×2, 3×3) for 3×3 kernels with stride 1 and dilation 1 (any padding): 2.25× fewer
 *   multiplications; the input gradient and the weight gradient run on the same transforms.
 *   Its rounding error is about twice im2col's, still ~10× inside the reference tests' 1e-4.
 * - im2col + cblas_sgemm per image (1×1 / stride 1 / no padding needs no im2col), with the
 *   im2col matrix built in chunks of output rows in a reused per-thread scratch buffer.
 * - direct, for thin first layers (Cin·KH·KW ≤ 32, stride 1, dilation 1, an output plane
 *   padded to W + 2·pad_w wide within 8192 floats — Fashion-MNIST's 1-channel 3×3 layer): the
 *   forward and the weight and bias gradients as long loops over zero-padded planes; the input
 *   gradient stays on im2col.
 * The environment variable PVX_CONV_ALGO, read on every call, chooses:
 *   auto (default)  Winograd where it applies, both channel counts are at least 16 and the
 *                   batch has at least 96 output tiles of 2×2 (below either its GEMMs are too
 *                   thin: VGG's first layer, Cin = 3) — or, in the forward, 16 to 128 tiles
 *                   and at least 128 output channels, which the Winograd forward shares out
 *                   between the threads by blocks of output channels (VGG's 14×14 layers at
 *                   batch 1), direct
 *                   where it applies, else im2col;
 *   winograd        Winograd wherever it applies (3×3, stride 1, dilation 1), else im2col;
 *   im2col          always im2col.
 * An unknown value warns once and means auto. PVX_KERNEL_ISA=generic (read on every call)
 * turns off the hand-written AVX-512 kernels (Winograd's input rows, the 2×2 max-pool's
 * backward) for tests and measurements; both give the same bits. best (the default) uses them
 * where the CPU has AVX-512F; another value warns once and means best. Weights are transformed on
 * every call (never cached: they change every training step); at batch 8 that is a few percent of
 * the convolution for VGG's 512-channel layers, less elsewhere.
 */
/* PvxConv2dParams: pvx/layer_params.h */

/* Fills out_shape[4] with y's shape. FALSE + PVX_ERROR_SHAPE if x, w (and b) do not fit or the
 * output would be empty; PVX_ERROR_INVALID_ARGUMENT for negative parameters. */
gboolean pvx_conv2d_output_shape(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                 const PvxConv2dParams *p, int64_t out_shape[4], GError **error);
/* Returns: (transfer full) y, or NULL + error. @b, @out nullable; @p NULL = stride 1, no pad. */
PvxTensor *pvx_conv2d_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                              const PvxConv2dParams *p, PvxTensor *out, GError **error);
/* y = max(conv(x, w) + b, 0): pvx_conv2d_forward followed by pvx_relu_forward in place, bit for
 * bit, without the second pass over y where the kernel can apply the ReLU as it writes y
 * (Winograd, direct). */
PvxTensor *pvx_conv2d_relu_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                   const PvxConv2dParams *p, PvxTensor *out, GError **error);
/* From dy [N, Cout, OH, OW]: dx (overwritten; see conventions), dw += dL/dw, db += dL/db.
 * @x is only read when dw is requested and @w only when dx is requested, but both must be given
 * for the shape check. */
gboolean pvx_conv2d_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                             const PvxConv2dParams *p, PvxTensor **dx, PvxTensor *dw, PvxTensor *db,
                             GError **error);
/* The same, with dx passed back through the ReLU whose output is @x as well: dx is zero where
 * x ≤ 0. Bit for bit pvx_conv2d_backward followed by pvx_relu_backward(x, dx, &dx), without the
 * second pass over dx (the Winograd kernels zero it as they write it). */
gboolean pvx_conv2d_relu_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                                  const PvxConv2dParams *p, PvxTensor **dx, PvxTensor *dw,
                                  PvxTensor *db, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Grouped convolution 2d, PyTorch's Conv2d with groups = g ≥ 1: input channels and output
 * channels are split into g groups, and output group k sees only input group k.
 *   x [N, Cin, H, W], w [Cout, Cin/g, KH, KW], b [Cout] or NULL, y [N, Cout, OH, OW] (OH, OW as
 *   pvx_conv2d_forward); Cin and Cout multiples of g. Stride, padding and dilation from @p (NULL
 *   = stride 1, no padding).
 * - g = 1 is pvx_conv2d_forward / pvx_conv2d_backward themselves (all their algorithms).
 * - Depthwise (g = Cin, Cout = k·Cin, KH, KW ≤ 16): direct kernels on pvx's pool over the N·Cin
 *   input planes (the weight gradient over the Cout channels), any stride and dilation; each
 *   plane is padded once and split into stride phases so that every tap is one unit-stride run;
 *   3×3 and 5×5 have unrolled taps (core/ops/conv_grouped.c).
 * - Any other g: each group's channels are copied out, run through pvx_conv2d_forward /
 *   _backward (im2col + sgemm, or Winograd) and copied back.
 * PVX_ERROR_SHAPE names x's and w's shapes when they do not fit @groups;
 * PVX_ERROR_INVALID_ARGUMENT for groups < 1 or negative parameters.
 */
/* Returns: (transfer full) y, or NULL + error. @b, @out nullable (see conventions). */
PvxTensor *pvx_conv2d_grouped_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                                      const PvxConv2dParams *p, int groups, PvxTensor *out,
                                      GError **error);
/* From dy [N, Cout, OH, OW]: dx (overwritten, as pvx_conv2d_backward), dw += dL/dw, db += dL/db;
 * each NULL when not wanted. */
gboolean pvx_conv2d_grouped_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                                     const PvxConv2dParams *p, int groups, PvxTensor **dx,
                                     PvxTensor *dw, PvxTensor *db, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Linear: y = x wᵀ + b. x [N, in], w [out, in] (PyTorch's layout), b [out] or NULL, y [N, out].
 */
PvxTensor *pvx_linear_forward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *b,
                              PvxTensor *out, GError **error);
/* dx = dy w (overwritten), dw += dyᵀ x, db += Σ_n dy. */
gboolean pvx_linear_backward(const PvxTensor *x, const PvxTensor *w, const PvxTensor *dy,
                             PvxTensor **dx, PvxTensor *dw, PvxTensor *db, GError **error);

/* ---------------------------------------------------------------------------------------------
 * ReLU, any shape. @out may be @x itself (in place, as torchvision's VGG does).
 */
PvxTensor *pvx_relu_forward(const PvxTensor *x, PvxTensor *out, GError **error);
/* dx = dy where y > 0, else 0. @y is the forward's output (or its input: same sign test), so an
 * in-place forward loses nothing backward needs. @dx may point at @dy (in place). */
gboolean pvx_relu_backward(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx, GError **error);

/* ---------------------------------------------------------------------------------------------
 * The activations of the mobile networks, element-wise, any shape (contiguous), PyTorch 1.13's
 * formulas and its gradients at the kinks (core/ops/activation_kinds.c):
 *   relu6        min(max(x, 0), 6)          grad dy on 0 < x < 6, else 0
 *   sigmoid      1 / (1 + e^-x)             grad dy · s (1 - s)
 *   silu         x · sigmoid(x)             grad dy · s (1 + x (1 - s))
 *   hardsigmoid  relu6(x + 3) / 6           grad dy / 6 on -3 < x < 3, else 0
 *   hardswish    x · relu6(x + 3) / 6       grad 0 for x < -3, dy (x / 3 + 1/2) for -3 ≤ x < 3,
 *                                           dy for x ≥ 3 (PyTorch's vectorised loop; its scalar
 *                                           tail loop gives 1.5 dy at x = 3)
 * e^x is computed by a polynomial within 2 ulp (vectorised), not libm's expf.
 */
typedef enum {
    PVX_ACT_RELU6 = 1,
    PVX_ACT_SIGMOID,
    PVX_ACT_SILU,
    PVX_ACT_HARDSIGMOID,
    PVX_ACT_HARDSWISH
} PvxActivation;
/* y = act(x). @out NULL = allocate; may be @x itself (in place). An unknown @act gives
 * PVX_ERROR_INVALID_ARGUMENT. Returns: (transfer full). */
PvxTensor *pvx_activation_forward(PvxActivation act, const PvxTensor *x, PvxTensor *out,
                                  GError **error);
/* dx = dy · act'(x), from the forward's INPUT @x (so an in-place forward must keep its input
 * elsewhere). *dx may be @dy's tensor (in place: pass a pointer to a variable holding dy). */
gboolean pvx_activation_backward(PvxActivation act, const PvxTensor *x, const PvxTensor *dy,
                                 PvxTensor **dx, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Squeeze-and-excitation's scale: y[n, c, h, w] = x[n, c, h, w] · s[n, c, 0, 0], x [N, C, H, W],
 * s [N, C, 1, 1] (PVX_ERROR_SHAPE naming both otherwise). @out may be @x (in place).
 */
PvxTensor *pvx_channel_mul_forward(const PvxTensor *x, const PvxTensor *s, PvxTensor *out,
                                   GError **error);
/* dx = dy ⊙ s (when @dx is non-NULL; overwritten, may be @dy's tensor); ds[n, c] = Σ_hw dy · x
 * (when @ds is non-NULL: *ds NULL = allocate [N, C, 1, 1], transfer full; else overwritten).
 * The factor gradient is taken before dx is written, so dx in place of dy is safe. */
gboolean pvx_channel_mul_backward(const PvxTensor *x, const PvxTensor *s, const PvxTensor *dy,
                                  PvxTensor **dx, PvxTensor **ds, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Max-pool 2d, PyTorch's MaxPool2d with ceil_mode = False, dilation 1.
 *   OH = (H + 2*pad_h - kernel_h) / stride_h + 1. Padding is -inf (never selected). Ties: the
 *   first maximum in scan order (kh, then kw) wins; a NaN wins over numbers, as in PyTorch.
 */
/* PvxMaxPool2dParams: pvx/layer_params.h */

/* Positions of the maxima: one int32 per output element, the index ih * W + iw inside its input
 * plane (the same numbers as PyTorch's return_indices). */
typedef struct {
    int64_t numel;
    int32_t *data;
} PvxIndices;
/* Returns: (transfer full) a zeroed index buffer. */
PvxIndices *pvx_indices_new(int64_t numel);
void pvx_indices_free(PvxIndices *indices);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxIndices, pvx_indices_free)

gboolean pvx_maxpool2d_output_shape(const PvxTensor *x, const PvxMaxPool2dParams *p,
                                    int64_t out_shape[4], GError **error);
/* @indices: NULL = inference, keep nothing; *indices == NULL = allocate (transfer full);
 * *indices != NULL = reuse (reallocated in place if its numel differs). */
PvxTensor *pvx_maxpool2d_forward(const PvxTensor *x, const PvxMaxPool2dParams *p, PvxTensor *out,
                                 PvxIndices **indices, GError **error);
/* dx (shape of @x, overwritten): zero except dy routed to the recorded maxima. */
gboolean pvx_maxpool2d_backward(const PvxTensor *x, const PvxIndices *indices, const PvxTensor *dy,
                                PvxTensor **dx, GError **error);
/* The same, passed back through the ReLU whose output is @x as well: a maximum receives its
 * gradient only where x > 0. Bit for bit pvx_maxpool2d_backward followed by
 * pvx_relu_backward(x, dx, &dx), in one pass. */
gboolean pvx_maxpool2d_relu_backward(const PvxTensor *x, const PvxIndices *indices,
                                     const PvxTensor *dy, PvxTensor **dx, GError **error);
/* The same, with the pool's output @y (from the forward that gave @indices) read for the gate
 * instead of x: y holds x at each window's maximum, so the result is bit for bit that of
 * pvx_maxpool2d_relu_backward, reading a quarter of the memory for a 2×2 pool. */
gboolean pvx_maxpool2d_relu_backward_out(const PvxTensor *x, const PvxTensor *y,
                                         const PvxIndices *indices, const PvxTensor *dy,
                                         PvxTensor **dx, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Adaptive average pool 2d to [N, C, out_h, out_w]: output cell i averages input rows
 * [floor(i*H/out_h), ceil((i+1)*H/out_h)), columns likewise (PyTorch's bins).
 */
PvxTensor *pvx_adaptive_avgpool2d_forward(const PvxTensor *x, int out_h, int out_w, PvxTensor *out,
                                          GError **error);
/* dx (shape of @x, overwritten). Only x's shape is read. */
gboolean pvx_adaptive_avgpool2d_backward(const PvxTensor *x, const PvxTensor *dy, PvxTensor **dx,
                                         GError **error);

/* ---------------------------------------------------------------------------------------------
 * Dropout, any shape. In training each element is kept with probability 1-p and scaled by
 * 1/(1-p); the keep decision for element i is a hash of (seed, i), so a seed reproduces the same
 * mask on any thread count. In evaluation (training = FALSE) y is a copy of x.
 */
/* @mask: NULL = do not keep it; else (*mask NULL = allocate, transfer full; else reuse, same
 * shape as x) receives 0 or 1/(1-p) per element — exactly the factor backward multiplies by.
 * In evaluation *mask is filled with 1. p in [0, 1). */
PvxTensor *pvx_dropout_forward(const PvxTensor *x, double p, gboolean training, guint64 seed,
                               PvxTensor *out, PvxTensor **mask, GError **error);
/* dx = dy ⊙ mask (overwritten; @dx may point at @dy). */
gboolean pvx_dropout_backward(const PvxTensor *mask, const PvxTensor *dy, PvxTensor **dx,
                              GError **error);

/* ---------------------------------------------------------------------------------------------
 * Batch-norm 2d, PyTorch's BatchNorm2d(affine, track_running_stats).
 *   training: normalise with the batch mean and biased variance over (N, H, W); update
 *     running_mean = (1-m) running_mean + m mean, running_var = (1-m) running_var + m var_unbiased.
 *   evaluation: normalise with running_mean / running_var.
 *   y = (x - mean) / sqrt(var + eps) * weight + bias.
 */
typedef struct {
    double eps;      /* PyTorch: 1e-5 */
    double momentum; /* PyTorch: 0.1 */
    gboolean training;
} PvxBatchNorm2dParams;

/* x [N, C, H, W]; weight, bias [C] nullable (NULL = 1 and 0); running_mean, running_var [C]
 * (updated in place in training; nullable in training, then no running statistics are kept;
 * required in evaluation). save_mean, save_invstd [C] nullable: in training they receive
 * the batch mean and 1/sqrt(var + eps) that backward needs. */
PvxTensor *pvx_batchnorm2d_forward(const PvxTensor *x, const PvxTensor *weight,
                                   const PvxTensor *bias, PvxTensor *running_mean,
                                   PvxTensor *running_var, const PvxBatchNorm2dParams *p,
                                   PvxTensor *save_mean, PvxTensor *save_invstd, PvxTensor *out,
                                   GError **error);
/* In training mode uses save_mean/save_invstd (required) and gives the gradient through the batch
 * statistics; in evaluation uses running_mean/running_var (required; the statistics are
 * constants). dx overwritten; dweight += Σ dy x̂, dbias += Σ dy. */
gboolean pvx_batchnorm2d_backward(const PvxTensor *x, const PvxTensor *weight,
                                  const PvxTensor *running_mean, const PvxTensor *running_var,
                                  const PvxTensor *save_mean, const PvxTensor *save_invstd,
                                  const PvxBatchNorm2dParams *p, const PvxTensor *dy,
                                  PvxTensor **dx, PvxTensor *dweight, PvxTensor *dbias,
                                  GError **error);

/* ---------------------------------------------------------------------------------------------
 * Flatten [N, ...] → [N, prod(...)]: a view sharing x's storage (transfer full).
 */
PvxTensor *pvx_flatten(PvxTensor *x, GError **error);
/* dy [N, K] → a view with x's shape (transfer full). */
PvxTensor *pvx_flatten_backward(const PvxTensor *x, PvxTensor *dy, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Softmax and log-softmax over dimension 1 of x [N, C].
 */
PvxTensor *pvx_softmax_forward(const PvxTensor *x, PvxTensor *out, GError **error);
/* From the forward output y: dx = y ⊙ (dy - Σ_c dy y). */
gboolean pvx_softmax_backward(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx,
                              GError **error);
PvxTensor *pvx_log_softmax_forward(const PvxTensor *x, PvxTensor *out, GError **error);
/* From the forward output y: dx = dy - exp(y) Σ_c dy. */
gboolean pvx_log_softmax_backward(const PvxTensor *y, const PvxTensor *dy, PvxTensor **dx,
                                  GError **error);

/* ---------------------------------------------------------------------------------------------
 * Cross-entropy loss, mean over the batch: L = -1/N Σ_n log softmax(logits_n)[target_n].
 * logits [N, C]; targets: N class indices in [0, C).
 */
gboolean pvx_cross_entropy_forward(const PvxTensor *logits, const int64_t *targets, double *loss,
                                   GError **error);
/* dlogits = dloss * (softmax(logits) - onehot(target)) / N (overwritten). */
gboolean pvx_cross_entropy_backward(const PvxTensor *logits, const int64_t *targets, double dloss,
                                    PvxTensor **dlogits, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Sparse conv2d and linear forward (inference): the same ops as pvx_conv2d_forward and
 * pvx_linear_forward, on weights compressed to their non-zeros, for pruned layers. Every weight
 * that is exactly 0 is skipped, so the work is proportional to the non-zeros; whole pruned
 * filters (output channels) cost a bias fill, whole unused input channels are never read.
 * Results equal the dense ops' within float32 rounding (the sums run in another order). There
 * is no sparse backward: backward uses the dense weight. See docs/sparse.md.
 *
 * Convolution: direct sparse convolution (each non-zero weight is one FMA over a run of shifted
 * input positions; no im2col), any stride, padding and dilation. Linear: CSR × x transposed.
 * Both use pvx's pool and the widest vectors the CPU has (AVX-512, AVX2+FMA or SSE2).
 */
typedef struct _PvxSparseWeights PvxSparseWeights;

/* Compresses a conv weight [Cout, Cin, KH, KW] or a linear weight [out, in] (contiguous) to its
 * non-zeros, rows = output channels. A snapshot: later changes to @w are not seen.
 * Returns: (transfer full). */
PvxSparseWeights *pvx_sparse_weights_new(const PvxTensor *w);
void pvx_sparse_weights_free(PvxSparseWeights *s);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxSparseWeights, pvx_sparse_weights_free)
/* Number of non-zero weights, and that over the weight's numel. */
int64_t pvx_sparse_weights_nnz(const PvxSparseWeights *s);
double pvx_sparse_weights_density(const PvxSparseWeights *s);
/* The dense weight's shape, as a tensor without data (transfer none; only ndim and shape are
 * meaningful). */
const PvxTensor *pvx_sparse_weights_shape(const PvxSparseWeights *s);

/* y = conv(x, w) + b as pvx_conv2d_forward, with @w from a conv weight. Same shape rules and
 * errors (PVX_ERROR_SHAPE also when @w is a linear weight). Returns: (transfer full). */
PvxTensor *pvx_conv2d_forward_sparse(const PvxTensor *x, const PvxSparseWeights *w,
                                     const PvxTensor *b, const PvxConv2dParams *p, PvxTensor *out,
                                     GError **error);
/* y = x wᵀ + b as pvx_linear_forward, with @w from a linear weight. Returns: (transfer full). */
PvxTensor *pvx_linear_forward_sparse(const PvxTensor *x, const PvxSparseWeights *w,
                                     const PvxTensor *b, PvxTensor *out, GError **error);

/* The automatic choice: TRUE when the sparse forward is expected to be faster than the dense
 * one on this machine for an input of shape @x_shape ([N, Cin, H, W]; [N, in] for linear), a
 * weight of shape @w_shape and @nnz non-zero weights. A cost model with constants measured on
 * VGG-16's layers (docs/sparse.md): sparse time ∝ nnz × N × the extended output positions,
 * dense time ∝ the dense multiply-adds, divided by 2.25 where the dense path is Winograd. It
 * keeps a margin so that a layer near the break-even point stays dense. */
gboolean pvx_conv2d_sparse_pays(const int64_t x_shape[4], const int64_t w_shape[4],
                                const PvxConv2dParams *p, int64_t nnz);
gboolean pvx_linear_sparse_pays(const int64_t x_shape[2], const int64_t w_shape[2], int64_t nnz);

/* Grouped conv2d (see pvx_conv2d_grouped_forward) on weights [Cout, Cin/g, KH, KW] compressed by
 * pvx_sparse_weights_new. groups = 1 is pvx_conv2d_forward_sparse. Otherwise the non-zeros are
 * moved to the columns of their group's input channels (a block-diagonal [Cout, Cin, KH, KW]
 * weight, built on each call at O(nnz) cost) and run by the same direct sparse convolution, so
 * every grouped conv, 1×1 included, costs its non-zeros. Same shape rules and errors as the
 * dense op. Returns: (transfer full). */
PvxTensor *pvx_conv2d_grouped_forward_sparse(const PvxTensor *x, const PvxSparseWeights *w,
                                             const PvxTensor *b, const PvxConv2dParams *p,
                                             int groups, PvxTensor *out, GError **error);
/* pvx_conv2d_sparse_pays for a grouped conv (@w_shape [Cout, Cin/g, KH, KW]); for groups = 1 it
 * is that function. The dense side is costed as g convolutions of one group each. Depthwise
 * (Cin/g = 1) never pays: the sparse kernel's fixed cost per output position (bias fill,
 * partial sums, the copy into y: SPARSE_S_PER_OUT_LANE, 10 multiply-adds' worth) already
 * exceeds the depthwise direct kernel's 9 or 25 multiply-adds per output, so this returns
 * FALSE there (and for shapes that do not fit). */
gboolean pvx_conv2d_grouped_sparse_pays(const int64_t x_shape[4], const int64_t w_shape[4],
                                        const PvxConv2dParams *p, int groups, int64_t nnz);

G_END_DECLS
