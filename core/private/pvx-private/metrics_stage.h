/* pvx — the metrics stage of an experiment (core/experiment/metrics_stage.c): objective scores of
 * the explanation maps of every CR model, with summaries and paired tests (docs/metrics.md).
 *
 * For every method with maps under /maps/<method>/cr<k>/raw (the explain stage's, for the images
 * of /dataset/explain/index), every CR of @crs and every metric of the config's
 * `metrics.compute`, runs the metric with everything it may need — the maps, their targets, the
 * images, labels and ground-truth masks of those items, the CR model itself, the CR 1 maps of
 * the method, a callback that re-runs the method on another model — and writes
 *   /metrics/<metric>/<method>/cr<k>            group; the metric's scalars as attributes
 *   /metrics/<metric>/<method>/cr<k>/<result>   float64 [N] per item (NaN: undefined for the
 *        item), attributes kind = "per-item", n (finite values), mean, std, ci_low, ci_high
 *        (bootstrap CI of the mean at metrics.confidence), and for k ≠ 1 wilcoxon_p,
 *        wilcoxon_stat, wilcoxon_n (signed-rank test of the paired values against CR 1)
 *   /metrics/<metric>/<method>/cr<k>/<matrix>   float64 [N, m] (e.g. deletion curves)
 * commits them with the stage record, and prints a table (metric × method × CR: mean [CI]) that
 * it also writes to <run dir>/metrics.txt.
 */
#pragma once

#include <glib.h>

#include "config.h"
#include "dataset_handle.h"
#include "experiment.h"
#include "pvx/nn.h"
#include "registry.h"

G_BEGIN_DECLS

/* Checks, before any work, that every metric of `metrics.compute` gets its inputs from @ds:
 * a metric that needs ground-truth masks on a dataset without them is
 * PVX_ERROR_INVALID_ARGUMENT naming the metric and the dataset; metrics without any
 * `explain.methods` are PVX_ERROR_CONFIG_MISSING; a `metrics.methods` entry that explain does not
 * list is PVX_ERROR_CONFIG_RANGE. TRUE when `metrics.compute` is empty or absent. */
gboolean pvx_metrics_check(const PvxConfig *cfg, const PvxRegistry *reg, const PvxDataset *ds,
                           GError **error);

/* Runs the metrics stage for compression rates @crs (@n_crs entries; CR 1 must be among them
 * when a metric needs reference maps or a paired test is wanted). @model provides the
 * architecture; each CR's weights and masks are loaded into it in turn (on return it holds the
 * last CR's). Skips itself when the run already finished it. FALSE + error: no metric listed,
 * pvx_metrics_check's refusals, no maps (the explain stage has not run), a CR without maps or
 * weights, a metric's failure, I/O. */
gboolean pvx_stage_metrics(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                           PvxModel *model, const int *crs, int n_crs, GError **error);

G_END_DECLS
