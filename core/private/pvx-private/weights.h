/* pvx — a model's weights and masks in the run's HDF5 store (core side; plugins load weights
 * from a file with pvx_model_load_weights_file, pvx/nn.h).
 */
#pragma once

#include <glib.h>

#include "pvx/nn.h"
#include "store.h"

G_BEGIN_DECLS

/* Writes every state tensor under @group ("/weights", "/models/cr0/weights"). The caller manages
 * the transaction (pvx_store_begin / commit) when it wants one. */
gboolean pvx_model_save_weights(const PvxModel *model, PvxStore *store, const char *group,
                                GError **error);
/* Reads every state tensor from @group. First the names: missing tensors and extra datasets are
 * listed, all of them, in one PVX_ERROR_NOT_FOUND error, and nothing is read. Then each tensor is
 * read straight into the model (no second copy of the weights in memory): a wrong shape is
 * PVX_ERROR_SHAPE naming the tensor and both shapes, and leaves the tensors before it loaded —
 * after a failure, load again or discard the model. Datasets named "*.num_batches_tracked" of
 * BN layers (torchvision BN checkpoints) are accepted and ignored. Masks are re-applied. */
gboolean pvx_model_load_weights(PvxModel *model, PvxStore *store, const char *group,
                                GError **error);
/* pvx_model_load_weights, leaving out the state tensors whose names match a glob of @exclude
 * (see pvx_model_load_weights_file_except). */
gboolean pvx_model_load_weights_except(PvxModel *model, PvxStore *store, const char *group,
                                       const char *const *exclude, GError **error);
/* Masks as uint8 datasets <group>/<layer>.weight for every masked layer. */
gboolean pvx_model_save_masks(const PvxModel *model, PvxStore *store, const char *group,
                              GError **error);
/* Reads every <group>/<layer>.weight mask present (an absent group means dense). */
gboolean pvx_model_load_masks(PvxModel *model, PvxStore *store, const char *group, GError **error);

G_END_DECLS
