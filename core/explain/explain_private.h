/* pvx — explanation internals shared by core/explain (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx-private/explainer_handle.h"
#include "pvx-private/heatmap.h"
#include "pvx-private/model_core.h"
#include "pvx-private/ops.h"
#include "pvx-private/viridis.h"
