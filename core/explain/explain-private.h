/* pvx — explanation internals shared by core/explain (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx-private/explainer-handle.h"
#include "pvx-private/heatmap.h"
#include "pvx-private/ops.h"

/* matplotlib's viridis, 256 RGB entries in [0, 1]. */
extern const float pvx_viridis_table[256][3];
