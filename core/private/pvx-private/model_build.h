/* pvx — building a model through a model plugin (core side). */
#pragma once

#include <glib.h>
#include <stdint.h>

#include "pvx/model.h"
#include "pvx/params.h"
#include "registry.h"

G_BEGIN_DECLS

/* Builds a model with @plugin (a model plugin) and validated @params, then checks it: the plugin
 * must return a model or an error, the model must accept [1, C, H, W] inputs and produce
 * [1, num_classes]. Records the target and prunable layers (from the plugin's slots or pvx's
 * defaults). Returns: (transfer full). */
PvxModel *pvx_model_build(const PvxPlugin *plugin, const PvxParams *params,
                          const int64_t input_chw[3], int num_classes, GError **error);

G_END_DECLS
