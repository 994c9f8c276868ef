/* pvx — the HDF5 layout of a run's results.h5: every path the core reads or writes, spelled once.
 *
 * Core-private (not plugin surface). docs/hdf5-layout.md describes the layout and names the
 * function below that owns each path; tests/store/test_run_layout.c pins every string, and
 * tests/store/check_layout_literals.py fails when a path literal appears elsewhere in core/.
 *
 * Names below these paths that a writer chooses (a metric's result names, the history columns,
 * the trainer's checkpoint contents, the study analysis columns) are joined with
 * pvx_layout_join().
 *
 * Ownership: functions returning `const char *` return a static string (transfer none);
 * functions returning `char *` return a new string the caller frees with g_free (transfer full).
 * <k> is a compression rate >= 1 (1 = the unpruned model); method, metric, split, design and
 * stage names must not contain '/'. */
#ifndef PVX_RUN_LAYOUT_H
#define PVX_RUN_LAYOUT_H

#include <glib.h>

G_BEGIN_DECLS

/* ---- the run ---- */

/* "/config": attributes path, given, overrides, resolved (the YAML texts). */
const char *pvx_layout_config(void);
/* "/provenance": attributes pvx_version, abi, host, experiment, seed, start_time, end_time,
 * resumed_time, state, failure. */
const char *pvx_layout_provenance(void);
/* "/provenance/plugins": strings, one line per plugin loaded. */
const char *pvx_layout_provenance_plugins(void);
/* "/stages": one group per stage of the run. */
const char *pvx_layout_stages(void);
/* "/stages/<stage>": attributes state, start_time, end_time, seconds. (transfer full) */
char *pvx_layout_stage(const char *stage);
/* "prune-cr<k>": the name of the stage that prunes and fine-tunes rate @cr. (transfer full) */
char *pvx_layout_prune_stage_name(int cr);

/* ---- the dataset ---- */

/* "/dataset": attributes plugin, plugin_version, has_masks. */
const char *pvx_layout_dataset(void);
/* "/dataset/class_names": strings[C]. */
const char *pvx_layout_dataset_class_names(void);
/* "/dataset/split_sizes": int64[3] (train, val, test; -1 = no such split), attribute order. */
const char *pvx_layout_dataset_split_sizes(void);
/* "/dataset/item_shape": int64[3] (C, H, W). */
const char *pvx_layout_dataset_item_shape(void);
/* "/dataset/explain/ids": strings[N], the ids of the items the explain stage explained. */
const char *pvx_layout_explain_ids(void);
/* "/dataset/explain/index": int64[N], their indices in the explained split. */
const char *pvx_layout_explain_index(void);

/* ---- the models ---- */

/* "/models": one group per compression rate. */
const char *pvx_layout_models(void);
/* "cr<k>": the name of rate @cr's group under /models, /maps/<method> and
 * /metrics/<metric>/<method>. (transfer full) */
char *pvx_layout_model_name(int cr);
/* Parses a "cr<k>" group name (k >= 1, decimal, nothing after it). Returns TRUE and sets *@cr
 * (may be NULL) when @name is one, FALSE otherwise. */
gboolean pvx_layout_parse_model_name(const char *name, int *cr);
/* "/models/cr<k>": attributes arch, compression_rate, and for k > 1 the pruning's
 * (docs/hdf5-layout.md). (transfer full) */
char *pvx_layout_model(int cr);
/* "/models/cr<k>/weights": a state dict, one float32 dataset per tensor. (transfer full) */
char *pvx_layout_model_weights(int cr);
/* "/models/cr<k>/masks": one uint8 dataset per masked weight. (transfer full) */
char *pvx_layout_model_masks(int cr);
/* "/models/cr<k>/pruned": the evaluation right after pruning, before fine-tuning, is
 * pvx_layout_eval() of this group. (transfer full) */
char *pvx_layout_model_pruned(int cr);
/* "/models/cr<k>/train": attributes epochs, final_epoch (and train_seconds for k = 1).
 * (transfer full) */
char *pvx_layout_model_train(int cr);
/* "/models/cr<k>/train/history": pvx_layout_train_history() of rate @cr. (transfer full) */
char *pvx_layout_model_train_history(int cr);
/* "/models/cr<k>/train/checkpoint": pvx_layout_train_checkpoint() of rate @cr.
 * (transfer full) */
char *pvx_layout_model_train_checkpoint(int cr);
/* "<train>/history": one float64[epochs] dataset per column, of the train group @train
 * (pvx_layout_model_train()). (transfer full) */
char *pvx_layout_train_history(const char *train);
/* "<train>/checkpoint": the trainer's checkpoint while training runs (its contents are the
 * trainer's: pvx-private/train.h). (transfer full) */
char *pvx_layout_train_checkpoint(const char *train);
/* "<train>/val_indices": int64[n], the train items carved off as validation. (transfer full) */
char *pvx_layout_train_val_indices(const char *train);
/* "<group>/eval": the evaluations of the model whose group is @group (pvx_layout_model() or
 * pvx_layout_model_pruned()), one group per split. (transfer full) */
char *pvx_layout_eval_splits(const char *group);
/* "<group>/eval/<split>": the accuracy metric's result on @split. (transfer full) */
char *pvx_layout_eval(const char *group, const char *split);
/* "<group>/layers", "<group>/layer_size", "<group>/layer_kept", "<group>/layer_density": the
 * pruned layers of a pruned model's @group (pvx_layout_model()) and their weights, kept weights
 * and density. (transfer full) */
char *pvx_layout_layers(const char *group);
char *pvx_layout_layer_size(const char *group);
char *pvx_layout_layer_kept(const char *group);
char *pvx_layout_layer_density(const char *group);

/* ---- pruning ---- */

/* "/prune": attributes pruner, schedule. */
const char *pvx_layout_prune(void);
/* "/prune/layers": strings, the layers selected for pruning. */
const char *pvx_layout_prune_layers(void);

/* ---- maps ---- */

/* "/maps": one group per explanation method. */
const char *pvx_layout_maps(void);
/* "/maps/<method>": one group per rate, named pvx_layout_model_name(). (transfer full) */
char *pvx_layout_maps_method(const char *method);
/* "/maps/<method>/cr<k>". (transfer full) */
char *pvx_layout_maps_group(const char *method, int cr);
/* "/maps/<method>/cr<k>/raw": float32[N, h, w], attributes layer, target. (transfer full) */
char *pvx_layout_maps_raw(const char *method, int cr);
/* "/maps/<method>/cr<k>/target": int64[N], the class explained. (transfer full) */
char *pvx_layout_maps_target(const char *method, int cr);
/* "/maps/<method>/cr<k>/ids": strings[N], the item ids. (transfer full) */
char *pvx_layout_maps_ids(const char *method, int cr);

/* ---- metrics ---- */

/* "/metrics": attribute table; one group per metric. */
const char *pvx_layout_metrics(void);
/* "/metrics/<metric>": one group per method. (transfer full) */
char *pvx_layout_metric(const char *metric);
/* "/metrics/<metric>/<method>": one group per rate. (transfer full) */
char *pvx_layout_metric_method(const char *metric, const char *method);
/* "/metrics/<metric>/<method>/cr<k>": the metric's result, attribute compression_rate.
 * (transfer full) */
char *pvx_layout_metric_group(const char *metric, const char *method, int cr);
/* "/metrics/<metric>/<method>/cr<k>/<result>": one result, attributes n, mean, std, ci_low,
 * ci_high, confidence (and wilcoxon_p, wilcoxon_stat, wilcoxon_n for k > 1). (transfer full) */
char *pvx_layout_metric_result(const char *metric, const char *method, int cr, const char *result);

/* ---- studies ---- */

/* "/study": one group per study design. */
const char *pvx_layout_study(void);
/* "/study/<design>": attributes type, scale, rendering, models, images, tasks, dir.
 * (transfer full) */
char *pvx_layout_study_design(const char *design);
/* "/study/<design>/tasks/<column>": strings, one column of the exported tasks. (transfer full) */
char *pvx_layout_study_task_column(const char *design, const char *column);
/* "/study/<design>/key/<column>": strings, one column of the answer key. (transfer full) */
char *pvx_layout_study_key_column(const char *design, const char *column);
/* "/study/<design>/answers": the answers as read, attributes the issue counts. (transfer full) */
char *pvx_layout_study_answers(const char *design);
/* "/study/<design>/analysis": attributes summary, type, answers, tasks, raters, dir, alphas.
 * (transfer full) */
char *pvx_layout_study_analysis(const char *design);
/* "/study/<design>/analysis/models": one dataset per per-model column (model, accuracy, ...).
 * (transfer full) */
char *pvx_layout_study_analysis_models(const char *design);
/* "/study/<design>/analysis/pairs": one dataset per per-pair column (a, b, mean, p, ...).
 * (transfer full) */
char *pvx_layout_study_analysis_pairs(const char *design);

/* ---- below the layout ---- */

/* "<group>/<name>": a dataset or group a writer names under one of the paths above (a metric's
 * result, a history column, a study analysis column). @name must not contain '/'.
 * (transfer full) */
char *pvx_layout_join(const char *group, const char *name);

G_END_DECLS

#endif /* PVX_RUN_LAYOUT_H */
