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
#include "dataset_handle.h"
#include "registry.h"
#include "store.h"
#include "train.h"

G_BEGIN_DECLS

typedef struct _PvxRun PvxRun;

/* Creates the run folder and results.h5. @run_id NULL picks "YYYYmmdd-HHMMSS" (UTC), with a
 * "-2", "-3"... suffix if that folder exists. Returns: (transfer full). */
PvxRun *pvx_run_create(const PvxConfig *cfg, const PvxRegistry *reg, const char *run_id,
                       GError **error);
/* Reopens the run in @dir (for --resume) with @cfg, the config read back from its /config
 * "resolved" attribute (pvx_run_read_config). The run is marked "running" again.
 * Returns: (transfer full). */
PvxRun *pvx_run_open(const char *dir, const PvxConfig *cfg, GError **error);
/* The resolved config text stored in @dir/results.h5. Returns: (transfer full). */
char *pvx_run_read_config(const char *dir, GError **error);
void pvx_run_free(PvxRun *run);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(PvxRun, pvx_run_free)

const char *pvx_run_dir(const PvxRun *run); /* (transfer none) */
PvxStore *pvx_run_store(const PvxRun *run); /* (transfer none) */
const PvxConfig *pvx_run_config(const PvxRun *run);

/* Starts a stage: opens a store transaction and logs the stage's name. */
gboolean pvx_run_stage_begin(PvxRun *run, const char *stage, GError **error);
/* For a stage that computes before it opens its transaction (explain, metrics): logs its name
 * now and makes the next pvx_run_stage_begin of @stage count its time (and start time) from
 * here, so the stage record covers the work and not only the writing. */
void pvx_run_stage_work_begins(PvxRun *run, const char *stage);
/* Records the stage as finished and commits everything written since stage_begin. */
gboolean pvx_run_stage_end(PvxRun *run, GError **error);
/* TRUE when /stages/@stage records a finished stage (a resumed run skips it). */
gboolean pvx_run_stage_finished(PvxRun *run, const char *stage);
/* Records /dataset: plugin, class names, split sizes, item shape, whether it has masks. */
gboolean pvx_run_record_dataset(PvxRun *run, const PvxDataset *ds, GError **error);
/* Marks the run finished (state, end time) and commits. */
gboolean pvx_run_finish(PvxRun *run, GError **error);
/* Marks the run failed with @reason, dropping the open stage's uncommitted writes. */
void pvx_run_fail(PvxRun *run, const GError *reason);

/* ---------------------------------------------------------------------------------------------
 * Stages of `pvx run` beyond dataset and preview (core/experiment/train.c). Each one skips
 * itself when the run already finished it (a resumed run).
 */
/* Builds the model of the config's `model` section for @ds. Returns: (transfer full). */
/* The model of the config's `model` section for @ds's item shape and classes (seeded
 * initialisation). Returns: (transfer full). */
PvxModel *pvx_build_model_from_config(const PvxConfig *cfg, const PvxDataset *ds, GError **error);
PvxModel *pvx_stage_build_model(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                                GError **error);
/* The train stage: trains @model (CR 1) with the `train` section, checkpointing after every
 * epoch under /models/cr1/train and resuming from a checkpoint there; final weights under
 * /models/cr1/weights. When the stage already finished, loads those weights instead. */
gboolean pvx_stage_train(PvxRun *run, const PvxDataset *ds, PvxModel *model, GError **error);
/* The evaluate stage: the `accuracy` metric on the test split → /models/cr1/eval/test, and a
 * short table on stdout. */
gboolean pvx_stage_evaluate(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                            PvxModel *model, GError **error);
/* Evaluates @model on the `evaluate` section's split with the accuracy metric and writes the
 * result under <@group>/eval/<split> (e.g. "/models/cr4"); the caller holds the transaction.
 * @top1_out/@top5_out may be NULL; @print: the table on stdout. */
gboolean pvx_run_evaluate_model(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                                PvxModel *model, const char *group, gboolean print,
                                double *top1_out, double *top5_out, GError **error);
/* Loads the model of compression rate @cr from a run's store into @model: its masks come off
 * first (loading weights re-applies the masks a model holds, which would zero weights a denser
 * CR keeps), then /models/cr<cr>/weights, then /models/cr<cr>/masks when present (absent: dense).
 * PVX_ERROR_NOT_FOUND naming the store when the run has no weights for @cr. */
gboolean pvx_load_cr_model(PvxModel *model, PvxStore *store, int cr, GError **error);
/* Trainer parameters from the config: the `train` section's keys, each overridden by the
 * section at @path (e.g. "prune.finetune") where that section sets it; @path NULL: train alone.
 * The seed is the root seed. */
void pvx_train_params_from_config(const PvxConfig *cfg, const char *path, PvxTrainParams *tp);

G_END_DECLS

G_BEGIN_DECLS

/* Writes a PNG grid of @per_class items per class from @split of @ds: one row per class with its
 * name, tiles enlarged to at least 64 px, the ground-truth mask outlined where the dataset has
 * one. Items are the first of each class in split order (deterministic). */
gboolean pvx_preview_write(const PvxDataset *ds, PvxSplit split, int per_class, const char *path,
                           GError **error);

G_END_DECLS
