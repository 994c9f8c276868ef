/* pvx — the explain stage of an experiment (core/experiment/explain_stage.c).
 *
 * For every CR model of the run (weights /models/cr<k>/weights, masks /models/cr<k>/masks when
 * present), every method of the config's `explain.methods` and the images the `explain` section
 * selects, writes
 *   /maps/<method>/cr<k>/raw      float32 [N, h, w], raw maps (attributes: layer, target mode)
 *   /maps/<method>/cr<k>/target   int64 [N], the class explained
 *   /maps/<method>/cr<k>/ids      strings [N], the item ids
 *   /dataset/explain/ids, /dataset/explain/index   the selected items (split index)
 * and, with `pngs`, into <run dir>/maps/<method>/:
 *   <id>_<method>_cr<k>_heat.png, <id>_<method>_cr<k>_occl.png, and
 *   <id>_<method>_sheet.png — one page per image: the image and every CR side by side, heat
 *   maps in the first row, occlusion maps in the second.
 * Selection (`selection`): per_class (the first per_class items of each class in split order),
 * ids (split indices), correct (the first per_class items of each class that every listed CR
 * model classifies correctly — the paper's rule; costs one inference pass over the split per CR).
 */
#pragma once

#include <glib.h>

#include "dataset_handle.h"
#include "experiment.h"
#include "pvx/model.h"
#include "registry.h"

G_BEGIN_DECLS

/* Runs the explain stage for compression rates @crs (@n_crs entries, e.g. {1, 2, 4, 8}) with
 * @model providing the architecture (its weights are replaced by each CR's in turn; on return it
 * holds the last CR's). Skips itself when the run already finished it; commits its writes
 * together with the stage record (pvx_run_stage_begin/end). FALSE + error: no `explain`
 * section or no method, a CR without weights, an unknown layer or class (pvx_explain's errors),
 * an id outside the split, I/O. */
gboolean pvx_stage_explain(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                           PvxModel *model, const int *crs, int n_crs, GError **error);

/* The selection alone: split indices of the `explain` section's images for @crs (loads each
 * CR's weights into @model for selection "correct"). Returns: (transfer full) GArray of int64. */
GArray *pvx_explain_select_items(PvxRun *run, const PvxDataset *ds, PvxModel *model, const int *crs,
                                 int n_crs, GError **error);

G_END_DECLS
