/* pvx — the prune stage of `pvx run` (core/experiment/prune_stage.c).
 *
 * With a `prune` section, after the model is trained and evaluated (CR 1):
 *   iterative  for each rate k of `rates`: prune the weights still kept from the previous rate to
 *              k, fine-tune (`prune.finetune`, keys left out come from `train`), evaluate, store;
 *   one-shot   the same, but each rate starts again from the CR-1 model in a single step;
 *   gradual    AGP: one pruning step per epoch over `span_epochs` epochs of training towards the
 *              last rate (Zhu & Gupta's cubic), then the fine-tuning; stored as that rate.
 * Each rate is its own stage (`prune-cr<k>`, or `prune-gradual`), so --resume continues after the
 * last finished rate, and inside a rate from the last finished fine-tuning epoch.
 *
 * Per rate it writes
 *   /models/cr<k>/weights/<name>, /models/cr<k>/masks/<name>   (uint8, torchvision names)
 *   /models/cr<k>                attrs arch, compression_rate (requested),
 *                                compression_rate_achieved, model_ratio, flop_reduction, ...
 *                                (pvx_prune_stats_write), pruner, schedule, seconds,
 *                                top1_before_finetune
 *   /models/cr<k>/eval/<split>   the accuracy metric after fine-tuning
 *   /models/cr<k>/train/history  the fine-tuning epochs
 * and /prune attrs pruner, schedule, rates (the table), layers (the selection).
 */
#pragma once

#include <glib.h>

#include "config.h"
#include "dataset_handle.h"
#include "experiment.h"
#include "pvx/model.h"
#include "registry.h"

G_BEGIN_DECLS

/* Everything about the `prune` section that can be checked before any work: the rates (at
 * least one, each ≥ 1, increasing), the layer selection on @model (nothing matched, a pattern
 * that matches nothing, an unknown kind), structured pruning of non-conv layers. Errors name the
 * config file and key. TRUE without a prune section. */
gboolean pvx_prune_check_config(const PvxConfig *cfg, const PvxModel *model, GError **error);

/* The compression rates the run has models for, in order: 1, then the rates of the prune section
 * (gradual: only the last). Returns: (transfer full) GArray of int. */
GArray *pvx_prune_run_crs(const PvxConfig *cfg);

/* Runs the prune stage(s); on return @model holds the last rate's weights and masks. Prints one
 * table row per rate and the table at the end. */
gboolean pvx_stage_prune(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds, PvxModel *model,
                         GError **error);

G_END_DECLS
