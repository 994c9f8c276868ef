/* pvx — the model plugin kind.
 *
 * A model plugin builds a PvxModel (see nn.h) from validated params, the dataset's item shape and
 * its number of classes. Layer and state-tensor names follow torchvision where a torchvision
 * model exists, so weights convert both ways (tools/convert_torchvision.py). Weights are either
 * initialised by the plugin (seeded) or loaded afterwards (pvx_model_load_weights_file).
 *
 *     static const PvxModelClass klass = { .size = sizeof klass, .build = my_build };
 *     PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "vgg", "1.0.0", "VGG as torchvision", my_params, &klass)
 */
#pragma once

#include "api.h"

#include <glib.h>
#include <stddef.h>
#include <stdint.h>

#include "nn.h"
#include "params.h"

PVX_BEGIN_DECLS

typedef struct {
    uint32_t size; /* sizeof(PvxModelClass) as the plugin saw it */

    /* Builds and initialises a model for images of @input_chw (C, H, W) and @num_classes outputs.
     * Returns: (transfer full), NULL + error naming the param (pvx_params_where) that is wrong or
     * the input size that does not fit. */
    PvxModel *(*build)(const PvxParams *params, const int64_t input_chw[3], int num_classes,
                       GError **error);

    /* Optional. The layer CAM methods explain by default, e.g. "features.29" for VGG-16.
     * Returns: (transfer none) a string valid as long as the plugin is loaded or a layer name
     * of @model. NULL slot (or NULL return): pvx's default, the ReLU after the last conv2d. */
    const char *(*target_layer)(const PvxModel *model);

    /* Optional. Names of the layers whose weights a pruner may prune. Returns: (transfer full)
     * NULL-terminated. NULL slot: every conv2d and linear layer. */
    char **(*prunable_layers)(const PvxModel *model);
} PvxModelClass;

/* The minimum table size the core accepts for this kind (build present). */
#define PVX_MODEL_CLASS_MIN_SIZE (offsetof(PvxModelClass, build) + sizeof(void *))

/* The default CAM target layer (set at build, or pvx's default: the ReLU right after the last
 * conv2d, else the last conv2d). NULL for a model without conv layers. (transfer none) */
const char *pvx_model_target_layer(const PvxModel *model);
/* Names of prunable layers (set at build, default every conv2d and linear layer).
 * Returns: (transfer none) NULL-terminated. */
const char *const *pvx_model_prunable_layers(const PvxModel *model);

/* The input shape and class count the model was built for (zeros when built by hand). */
void pvx_model_input_shape(const PvxModel *model, int64_t input_chw[3]);
int pvx_model_num_classes(const PvxModel *model);

/* Since ABI 1.2: the model an HDF5 file describes — its /architecture (layer names, types,
 * hyper-parameters and inputs, as `pvx prune export` writes it; layout in docs/pruning.md) —
 * with the weights of its /weights loaded; its target and prunable layers and aliases as
 * recorded. Errors: the store's (not HDF5, missing), PVX_ERROR_NOT_FOUND (no /architecture, or
 * weights missing), PVX_ERROR_INVALID_ARGUMENT (a description pvx cannot build), PVX_ERROR_SHAPE.
 * Returns: (transfer full). */
PvxModel *pvx_model_new_from_file(const char *path, GError **error);

PVX_END_DECLS
