/* pvx — everything inside libpvx and the pvx program: the plugin surface (pvx/pvx.h) and the
 * core's private modules. Never installed; plugins include <pvx/pvx.h> only.
 */
#pragma once

#include <pvx/pvx.h>

#include "registry.h"
#include "dataset-handle.h"
#include "model-build.h"
#include "explainer-handle.h"
#include "weights.h"
#include "ops.h"
#include "render.h"
#include "heatmap.h"
#include "config.h"
#include "store.h"
#include "explain-stage.h"
#include "experiment.h"
#include "progress.h"
#include "metric-run.h"
#include "metrics-stage.h"
#include "optim.h"
#include "train.h"
#include "plot.h"
#include "prune.h"
#include "prune-stage.h"
#include "report.h"
#include "study.h"
#include "run-layout.h"
#include "escape.h"
#include "viridis.h"
