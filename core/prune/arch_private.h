/* pvx — adding a layer from a description (core/prune/ only: the architecture reader and the
 * compact export build models the same way). */
#pragma once

#include <glib.h>

#include "pvx/nn.h"

/* Adds to @m a layer like @desc: its name, type and hyper-parameters (in/out features, kernel,
 * conv params, groups, pool params, output size, p, eps, momentum), with a bias when @bias
 * (conv2d, linear). Inputs are the default (the layer added before), except for add, concat and
 * mul, which take @desc->inputs. Returns: (transfer none) the new layer. */
PvxLayer *pvx_arch_add_layer(PvxModel *m, const PvxLayer *desc, gboolean bias);
