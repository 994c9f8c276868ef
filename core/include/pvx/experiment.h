/* pvx — an experiment run: its folder, its results file, its stages.
 *
 * A run lives in <output>/<experiment name>/<run id>/ and holds results.h5 plus the pictures.
 * Creating a run stores the config (as given, the overrides and the resolved text), provenance
 * (pvx version and ABI, every loaded plugin's version and file, seed, host, start time) and
 * marks the run "running". Each stage is recorded in /stages/<name> (state, start, end, seconds)
 * when it finishes, in the same commit as its results, so a stopped run knows its last finished
 * stage. Finishing records the end time and state "finished"; a failure records "failed" and the
 * message.
 */
#pragma once

#include <glib.h>
#include "config.h"
#include "dataset.h"
#include "registry.h"
#include "store.h"

G_BEGIN_DECLS

typedef struct _PvxRun PvxRun;

/* Creates the run folder and results.h5. @run_id NULL picks "YYYYmmdd-HHMMSS" (UTC), with a
 * "-2", "-3"... suffix if that folder exists. Returns: (transfer full). */
PvxRun *pvx_run_create(const PvxConfig *cfg, const PvxRegistry *reg, const char *run_id,
                       GError **error);
void pvx_run_free(PvxRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxRun, pvx_run_free)

const char *pvx_run_dir(const PvxRun *run);    /* (transfer none) */
PvxStore *pvx_run_store(const PvxRun *run);    /* (transfer none) */
const PvxConfig *pvx_run_config(const PvxRun *run);

/* Starts a stage: opens a store transaction and logs the stage's name. */
gboolean pvx_run_stage_begin(PvxRun *run, const char *stage, GError **error);
/* Records the stage as finished and commits everything written since stage_begin. */
gboolean pvx_run_stage_end(PvxRun *run, GError **error);
/* Records /dataset: plugin, class names, split sizes, item shape, whether it has masks. */
gboolean pvx_run_record_dataset(PvxRun *run, const PvxDataset *ds, GError **error);
/* Marks the run finished (state, end time) and commits. */
gboolean pvx_run_finish(PvxRun *run, GError **error);
/* Marks the run failed with @reason, dropping the open stage's uncommitted writes. */
void pvx_run_fail(PvxRun *run, const GError *reason);

G_END_DECLS

G_BEGIN_DECLS

/* Writes a PNG grid of @per_class items per class from @split of @ds: one row per class with its
 * name, tiles enlarged to at least 64 px, the ground-truth mask outlined where the dataset has
 * one. Items are the first of each class in split order (deterministic). */
gboolean pvx_preview_write(const PvxDataset *ds, PvxSplit split, int per_class, const char *path,
                           GError **error);

G_END_DECLS
