/* pvx — explanation internals shared by core/explain (not installed). */
#pragma once

#include "pvx/error.h"
#include "pvx/explainer.h"
#include "pvx/heatmap.h"
#include "pvx/viridis.h"
