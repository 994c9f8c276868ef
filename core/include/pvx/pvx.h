/* pvx — the plugin surface: everything a plugin may call, and nothing else.
 *
 * These are the installed headers. libpvx exports exactly what they declare (pvx/api.h); the
 * core's own modules — stages, studies, report, plots, the run store, the kernels — are private
 * to libpvx and the pvx program (docs/writing-a-plugin.md, "What a plugin may call").
 */
#pragma once

#include <gmodule.h>

#include "api.h"
#include "error.h"
#include "tensor.h"
#include "random.h"
#include "params.h"
#include "plugin.h"
#include "image.h"
#include "dataset.h"
#include "layer_params.h"
#include "nn.h"
#include "model.h"
#include "pruner.h"
#include "explainer.h"
#include "metric.h"

PVX_BEGIN_DECLS
/* "0.1.0" (transfer none). */
const char *pvx_version(void);
PVX_END_DECLS
