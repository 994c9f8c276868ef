/* pvx — running metric plugins and storing their results (core side). */
#pragma once

#include <glib.h>
#include "pvx/metric.h"
#include "registry.h"
#include "store.h"

G_BEGIN_DECLS

/* Checks before any work that @plugin's needs are among @available (PVX_METRIC_NEEDS_* flags);
 * the error names the metric, the missing input and @context (e.g. "dataset idx"). */
gboolean pvx_metric_check_inputs(const PvxPlugin *plugin, guint32 available, const char *context,
                                 GError **error);
/* Opens the metric with @params, checks @in against its needs and shapes, computes, closes.
 * Returns: (transfer full). */
PvxMetricResult *pvx_metric_run(const PvxPlugin *plugin, const PvxParams *params,
                                const PvxMetricInput *in, GError **error);
/* Writes a result under @group: scalars as attributes of the group, matrices as float64
 * datasets, per-item values as 1-D float64 datasets with attribute kind = "per-item". */
gboolean pvx_metric_result_write(const PvxMetricResult *r, PvxStore *store, const char *group,
                                 GError **error);

G_END_DECLS
