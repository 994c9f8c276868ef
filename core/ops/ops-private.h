/* pvx — helpers shared by the op kernels in core/ops (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx/ops.h"
#include "pvx/tensor.h"

/* Starts the pool on first use; a malformed PVX_NUM_THREADS falls back to the default with a
 * warning (pvx_threads_init reports it as an error instead). */
void pvx_ops_threads_ensure(void);

/* A per-thread scratch buffer of at least @numel floats, 64-byte aligned, reused between calls
 * so that big im2col matrices are not faulted in again on every image. Slots are independent
 * (0 .. PVX_OPS_SCRATCH_SLOTS-1); contents are undefined on return. (transfer none) */
#define PVX_OPS_SCRATCH_SLOTS 2
float *pvx_ops_scratch(int slot, size_t numel);

/* FALSE + PVX_ERROR_SHAPE unless @t is a contiguous tensor with @ndim dimensions. @what names
 * the argument in the message ("conv2d input"). */
gboolean pvx_ops_check_tensor(const PvxTensor *t, int ndim, const char *what, GError **error);
/* FALSE + PVX_ERROR_SHAPE naming both shapes unless @t has exactly @shape. */
gboolean pvx_ops_check_shape(const PvxTensor *t, int ndim, const int64_t *shape,
                             const char *what, GError **error);
/* The output of a forward op: a new reference to @out after checking its shape, or a new
 * tensor. (transfer full), NULL + error. */
PvxTensor *pvx_ops_prepare_out(PvxTensor *out, int ndim, const int64_t *shape, const char *what,
                               GError **error);
/* Checks or allocates *dx for an input gradient of shape @shape (see ops.h). dx != NULL. */
gboolean pvx_ops_prepare_grad(PvxTensor **dx, int ndim, const int64_t *shape, const char *what,
                              GError **error);
