/* pvx — the run report (core/report/): one self-contained HTML page per run, with figures as
 * PNG (shown) and PDF and SVG (for papers), made from what the run stored.
 *
 * pvx_report_write(RUN_DIR) reads RUN_DIR/results.h5 and the pictures the stages wrote and
 * writes
 *   RUN_DIR/report.html                the page: open it from disk, it loads nothing from the
 *                                      network (no scripts, fonts or styles from elsewhere)
 *   RUN_DIR/report/<figure>.png|pdf|svg
 *       accuracy      top-1 and top-5 per CR (the analogue of the paper's Figure 2)
 *       metric-<m>    top-1 (left axis) with metric <m> per explanation method (right axis,
 *                     mean and 95 % confidence interval) per CR
 *       density       per-layer density of the pruned models (one bar series per CR)
 *       training      loss and accuracy per epoch of the unpruned model's training
 * Sections appear when the run has their data: config and provenance; the dataset and its
 * preview; training; accuracy and pruning per CR; explanation metrics (a table per metric:
 * method × CR, mean [CI], Wilcoxon p against CR 1); the map gallery (each image across all CRs,
 * heat maps and occlusion maps, one sheet per image and method); human-study analyses found
 * under RUN_DIR/study/.
 * Nothing in the run is changed except report.html and report/.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Writes the report of the run in @run_dir. On success @html_out (may be NULL) receives the
 * page's path (transfer full). PVX_ERROR_* from the store (no results.h5: PVX_ERROR_NOT_FOUND),
 * the figures or the file system. */
gboolean pvx_report_write(const char *run_dir, char **html_out, GError **error);

G_END_DECLS
