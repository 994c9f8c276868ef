/* pvx — everything inside libpvx and the pvx program: the plugin surface (pvx/pvx.h) and the
 * core's private modules. Never installed; plugins include <pvx/pvx.h> only.
 */
#pragma once

#include <pvx/pvx.h>

#include "log.h"
#include "names.h"
#include "registry.h"
#include "dataset_handle.h"
#include "model_build.h"
#include "model_core.h"
#include "explainer_handle.h"
#include "weights.h"
#include "ops.h"
#include "render.h"
#include "heatmap.h"
#include "config.h"
#include "store.h"
#include "explain_stage.h"
#include "experiment.h"
#include "progress.h"
#include "metric_run.h"
#include "metrics_stage.h"
#include "optim.h"
#include "train.h"
#include "plot.h"
#include "prune.h"
#include "prune_stage.h"
#include "report.h"
#include "study.h"
#include "run_layout.h"
#include "escape.h"
#include "viridis.h"
