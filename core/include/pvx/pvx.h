/* pvx — everything a plugin or a program needs. */
#pragma once

#include <gmodule.h>
#include "error.h"
#include "tensor.h"
#include "ops.h"
#include "random.h"
#include "params.h"
#include "plugin.h"
#include "registry.h"
#include "image.h"
#include "render.h"
#include "dataset.h"
#include "config.h"
#include "store.h"
#include "nn.h"
#include "model.h"
#include "explainer.h"
#include "heatmap.h"
#include "explain-stage.h"
#include "experiment.h"
#include "progress.h"
#include "metric.h"
#include "metric-run.h"
#include "metrics-stage.h"
#include "optim.h"
#include "train.h"
#include "plot.h"
#include "pruner.h"
#include "prune.h"
#include "prune-stage.h"
#include "report.h"
#include "study.h"

G_BEGIN_DECLS
/* "0.1.0" (transfer none). */
const char *pvx_version(void);
G_END_DECLS
