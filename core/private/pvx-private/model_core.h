/* pvx — what only the core does to a model (core side): masks from the run store, buffer
 * release, the layers a model plugin's slots name, and the sparse-kernel mode. Plugins see the
 * model through pvx/nn.h and pvx/model.h.
 */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/model.h"
#include "pvx/nn.h"

G_BEGIN_DECLS

/* pvx_model_set_mask from uint8 0/1 data of the weight's numel. */
gboolean pvx_model_set_mask_u8(PvxModel *model, const char *name, const uint8_t *mask,
                               GError **error);
/* Removes every layer's mask (pruned weights stay 0 until new weights are loaded). Before
 * loading a less pruned model's weights: loading re-applies the masks the model holds. */
void pvx_model_clear_masks(PvxModel *model);
/* Drops what the last forward kept (activations, pool indices, dropout masks) and the inference
 * buffers, to give the memory back. */
void pvx_model_release_buffers(PvxModel *model);

/* The output shape of layer @name (alias resolved) for an input of @input_shape [N, C, H, W],
 * from the layers' hyper-parameters (no forward). FALSE + the shape or graph error. */
gboolean pvx_model_layer_shape(const PvxModel *model, const int64_t input_shape[4],
                               const char *name, int *ndim, int64_t shape[PVX_TENSOR_MAX_DIMS],
                               GError **error);

/* Runs the layers after @layer on @act standing for @layer's output (evaluation behaviour, keeps
 * nothing): what pvx_explain_forward_from needs. @layer must cut the graph: every layer after it
 * in running order reads only it or layers after it (else PVX_ERROR_INVALID_ARGUMENT naming the
 * layer that reads past it). Returns: (transfer full) the contiguous output, NULL + error. */
PvxTensor *pvx_model_forward_from(PvxModel *model, const char *layer, const PvxTensor *act,
                                  GError **error);

/* The CAM target layer, overridden (the layer must exist: else PVX_ERROR_NOT_FOUND listing the
 * layers). pvx_model_build sets it from the plugin's target_layer slot. */
gboolean pvx_model_set_target_layer(PvxModel *model, const char *name, GError **error);
/* The prunable layers, replaced (each must exist and be conv2d or linear). pvx_model_build sets
 * them from the plugin's prunable_layers slot. */
gboolean pvx_model_set_prunable_layers(PvxModel *model, const char *const *names, GError **error);

/* ---------------------------------------------------------------------------------------------
 * Sparse inference. INFERENCE and EXPLAIN forwards can run a pruned conv2d or linear layer on
 * its non-zero weights only (pvx_conv2d_forward_sparse / pvx_linear_forward_sparse in
 * pvx-private/ops.h; docs/sparse.md): same results within float32 rounding, faster when the layer
 * is sparse enough. Backward always uses the dense weight; TRAIN forwards are always dense.
 *
 * Modes:
 *   AUTO  a layer WITH a mask runs sparse when pvx_conv2d_sparse_pays / pvx_linear_sparse_pays
 *         (its density against a cost model measured on this machine) says it is faster; a
 *         layer without a mask stays dense;
 *   ON    every conv2d and linear layer runs sparse, whatever its density;
 *   OFF   every layer runs dense.
 * A new model has PVX_SPARSE_DEFAULT: the environment variable PVX_SPARSE (auto, on or off,
 * read at every forward; unset means auto, another value warns once and means auto). An explicit
 * mode set with pvx_model_set_sparse_mode takes precedence over the environment.
 *
 * Cache and its invalidation. The compressed weight of a layer is built at the first forward
 * that uses it and kept until the weight or mask can have changed: pvx_model_set_mask,
 * pvx_model_set_mask_u8, pvx_model_clear_masks, pvx_model_apply_masks, pvx_model_init,
 * pvx_model_load_weights (which applies the masks), pvx_model_release_buffers and every TRAIN
 * forward (an optimizer step follows it) drop it. Rule for callers: after changing weight values in
 * place by any other means, call pvx_model_apply_masks() (the masks' rule already asks for that)
 * before the next forward — otherwise a sparse forward may run on the old weights.
 */
typedef enum {
    PVX_SPARSE_DEFAULT = 0, /* PVX_SPARSE from the environment, else AUTO */
    PVX_SPARSE_AUTO,
    PVX_SPARSE_ON,
    PVX_SPARSE_OFF,
} PvxSparseMode;

void pvx_model_set_sparse_mode(PvxModel *model, PvxSparseMode mode);
/* The mode the next forward uses (DEFAULT resolved through the environment: AUTO, ON or OFF). */
PvxSparseMode pvx_model_sparse_mode(const PvxModel *model);
/* Whether the last forward ran layer @name on the sparse kernel (FALSE for an unknown name). */
gboolean pvx_model_layer_ran_sparse(const PvxModel *model, const char *name);

G_END_DECLS
