/* pvx — the train and evaluate stages of `pvx run`: CR 1, the unpruned model. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "pvx-private/core.h"
#include "pvx-private/run_layout.h"

PvxModel *pvx_build_model_from_config(const PvxConfig *cfg, const PvxDataset *ds, GError **error)
{
    const PvxParams *params = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "model", 0, &params);
    if (!plugin) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: the train stage needs a `model` section (e.g. plugin: vgg)",
                    pvx_config_path(cfg));
        return NULL;
    }
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    PvxModel *model = pvx_model_build(plugin, params, chw, pvx_dataset_num_classes(ds), error);
    const PvxParams *core = pvx_config_section(cfg, "model");
    if (model && pvx_params_is_set(core, "weights")) {
        gsize n = 0;
        const char *const *exclude = pvx_params_get_string_list(core, "weights_exclude", &n);
        if (!pvx_model_load_weights_file_except(model, pvx_params_get_string(core, "weights"), NULL,
                                                exclude, error)) {
            g_prefix_error(error, "%s: ", pvx_params_where(core, "weights"));
            pvx_model_free(model);
            return NULL;
        }
    }
    if (model)
        g_message("model %s (%s): %" G_GINT64_FORMAT " parameters, %.1f MFLOPs per image",
                  plugin->desc->name, pvx_model_arch(model), pvx_model_num_params(model),
                  pvx_model_flops(model, chw) / 1e6);
    return model;
}

PvxModel *pvx_stage_build_model(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                                GError **error)
{
    (void)reg;
    return pvx_build_model_from_config(pvx_run_config(run), ds, error);
}

/* What the report says of the architecture: the model plugin, its size, depth and cost, and the
 * layer CAM methods explain by default. */
static gboolean record_architecture(PvxRun *run, const PvxDataset *ds, const PvxModel *model,
                                    const char *group, GError **error)
{
    PvxStore *store = pvx_run_store(run);
    const PvxPlugin *plugin = pvx_config_plugin(pvx_run_config(run), "model", 0, NULL);
    int64_t chw[3];
    pvx_dataset_item_shape(ds, chw);
    const char *target = pvx_model_target_layer(model);
    return pvx_store_set_attr_string(store, group, "model_plugin", plugin ? plugin->desc->name : "",
                                     error) &&
           pvx_store_set_attr_int(store, group, "num_params", pvx_model_num_params(model), error) &&
           pvx_store_set_attr_int(store, group, "num_layers", pvx_model_n_layers(model), error) &&
           pvx_store_set_attr_double(store, group, "flops", pvx_model_flops(model, chw), error) &&
           pvx_store_set_attr_string(store, group, "target_layer", target ? target : "", error);
}

/* The section a key of @path comes from: @path when it sets the key, else `train`. */
static const PvxParams *pick(const PvxConfig *cfg, const char *path, const char *key)
{
    const PvxParams *p = path ? pvx_config_section(cfg, path) : NULL;
    if (p && pvx_params_is_set(p, key))
        return p;
    return pvx_config_section(cfg, "train");
}

void pvx_train_params_from_config(const PvxConfig *cfg, const char *path, PvxTrainParams *tp)
{
#define GET(kind, key) pvx_params_get_##kind(pick(cfg, path, key), key)
    const PvxParams *root = pvx_config_section(cfg, "");
    pvx_train_params_init(tp);
    tp->epochs = (int)GET(int, "epochs");
    tp->batch_size = (int)GET(int, "batch_size");
    tp->eval_batch_size = (int)GET(int, "eval_batch_size");
    tp->lr = GET(double, "lr");
    tp->sgd.momentum = GET(double, "momentum");
    tp->sgd.nesterov = GET(bool, "nesterov");
    tp->sgd.weight_decay = GET(double, "weight_decay");
    tp->sgd.clip_norm = GET(double, "clip_norm");
    pvx_lr_schedule_from_name(GET(string, "schedule"), &tp->schedule);
    tp->step_size = (int)GET(int, "step_size");
    tp->gamma = GET(double, "gamma");
    tp->warmup_epochs = (int)GET(int, "warmup_epochs");
    tp->early_stopping = GET(bool, "early_stopping");
    tp->patience = (int)GET(int, "patience");
    tp->min_delta = GET(double, "min_delta");
    tp->val_fraction = GET(double, "val_fraction");
    tp->augment.crop_padding = (int)GET(int, "augment_crop_padding");
    tp->augment.hflip = GET(bool, "augment_hflip");
    tp->prefetch = GET(bool, "prefetch");
    tp->epoch_fraction = GET(double, "epoch_fraction");
    tp->seed = (guint64)pvx_params_get_int(root, "seed");
#undef GET
}

gboolean pvx_stage_train(PvxRun *run, const PvxDataset *ds, PvxModel *model, GError **error)
{
    PvxStore *store = pvx_run_store(run);
    g_autofree char *group = pvx_layout_model(1);
    g_autofree char *weights = pvx_layout_model_weights(1);
    g_autofree char *masks = pvx_layout_model_masks(1);
    g_autofree char *train = pvx_layout_model_train(1);
    g_autofree char *history = pvx_layout_model_train_history(1);
    g_autofree char *checkpoint = pvx_layout_model_train_checkpoint(1);
    if (pvx_run_stage_finished(run, "train")) {
        g_message("stage train: finished before; loading %s", weights);
        return pvx_model_load_weights(model, store, weights, error);
    }
    PvxTrainParams tp;
    pvx_train_params_from_config(pvx_run_config(run), NULL, &tp);
    g_autoptr(PvxTrainer) trainer = pvx_trainer_new(model, ds, &tp, error);
    if (!trainer) {
        g_prefix_error(error, "%s: train: ", pvx_config_path(pvx_run_config(run)));
        return FALSE;
    }
    if (!pvx_run_stage_begin(run, "train", error))
        return FALSE;
    if (!pvx_trainer_run(trainer, store, train, error))
        return FALSE;
    int n = 0;
    const PvxEpochStats *h = pvx_trainer_history(trainer, &n);
    double seconds = 0;
    for (int i = 0; i < n; i++)
        seconds += h[i].seconds;
    int final = pvx_trainer_final_epoch(trainer);
    /* The checkpoint has served its purpose once the stage is recorded as finished. */
    if (!pvx_store_delete(store, weights, error) ||
        !pvx_model_save_weights(model, store, weights, error) ||
        !pvx_store_delete(store, masks, error) ||
        !pvx_model_save_masks(model, store, masks, error) ||
        !pvx_trainer_write_history(trainer, store, history, error) ||
        !pvx_store_delete(store, checkpoint, error) ||
        !pvx_store_set_attr_int(store, train, "epochs", n, error) ||
        !pvx_store_set_attr_int(store, train, "final_epoch", final, error) ||
        !pvx_store_set_attr_double(store, train, "train_seconds", seconds, error) ||
        !pvx_store_set_attr_string(store, group, "arch", pvx_model_arch(model), error) ||
        !pvx_store_set_attr_int(store, group, "compression_rate", 1, error) ||
        !record_architecture(run, ds, model, group, error))
        return FALSE;
    if (!pvx_run_stage_end(run, error))
        return FALSE;
    if (n > 0) {
        const PvxEpochStats *f = &h[MAX(final, 1) - 1];
        if (isnan(f->val_acc))
            printf("train: %d epochs in %.1f s, final loss %.4f, train accuracy %.4f\n", n, seconds,
                   f->loss, f->train_acc);
        else
            printf("train: %d epochs in %.1f s, kept epoch %d: loss %.4f, train accuracy %.4f, "
                   "val accuracy %.4f\n",
                   n, seconds, final, f->loss, f->train_acc, f->val_acc);
    }
    return TRUE;
}

static void print_eval_table(const PvxDataset *ds, const char *split, const PvxMetricResult *r,
                             int64_t n)
{
    double top1 = NAN, top5 = NAN;
    pvx_metric_result_get_scalar(r, "top1", &top1);
    pvx_metric_result_get_scalar(r, "top5", &top5);
    printf("evaluate (%s, %" G_GINT64_FORMAT " images): top-1 %.4f  top-5 %.4f\n", split, n, top1,
           top5);
    int64_t rows = 0, cols = 0;
    const double *pc = pvx_metric_result_get_matrix(r, "per_class", &rows, &cols);
    if (!pc)
        return;
    int64_t k = rows * cols;
    for (int64_t c = 0; c < k && c < pvx_dataset_num_classes(ds); c++)
        printf("  %-16s %.4f\n", pvx_dataset_class_name(ds, (int)c), pc[c]);
}

gboolean pvx_run_evaluate_model(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                                PvxModel *model, const char *group, gboolean print,
                                double *top1_out, double *top5_out, GError **error)
{
    const PvxConfig *cfg = pvx_run_config(run);
    const PvxParams *p = pvx_config_section(cfg, "evaluate");
    const char *split_name = pvx_params_get_string(p, "split");
    PvxSplit split;
    pvx_split_from_name(split_name, &split);
    if (pvx_dataset_split_size(ds, split) <= 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: dataset %s has no '%s' split to evaluate on", pvx_params_where(p, "split"),
                    pvx_dataset_name(ds), split_name);
        return FALSE;
    }
    const PvxPlugin *metric = pvx_registry_lookup(reg, PVX_KIND_METRIC, "accuracy", error);
    if (!metric)
        return FALSE;
    g_autoptr(PvxParams) mparams =
        pvx_params_new_defaults(metric->params, "metric accuracy", error);
    if (!mparams)
        return FALSE;
    const PvxParams *tp = pvx_config_section(cfg, "train");
    int eval_batch = tp ? (int)pvx_params_get_int(tp, "eval_batch_size") : 512;
    g_autoptr(PvxLoader) loader = pvx_loader_new(ds, split, NULL, 0, eval_batch, NULL, TRUE);
    g_autofree int64_t *labels = NULL;
    g_autoptr(PvxTensor) logits = pvx_evaluate_logits(model, loader, &labels, error);
    if (!logits)
        return FALSE;
    int nc = pvx_dataset_num_classes(ds);
    g_autoptr(GPtrArray) names = g_ptr_array_new();
    for (int c = 0; c < nc; c++)
        g_ptr_array_add(names, (gpointer)pvx_dataset_class_name(ds, c));
    g_ptr_array_add(names, NULL);
    PvxMetricInput in = {
        .size = sizeof in,
        .n = logits->shape[0],
        .num_classes = nc,
        .class_names = (const char *const *)names->pdata,
        .logits = logits,
        .labels = labels,
    };
    g_autoptr(PvxMetricResult) r = pvx_metric_run(metric, mparams, &in, error);
    if (!r)
        return FALSE;
    g_autofree char *path = pvx_layout_eval(group, split_name);
    if (!pvx_store_delete(pvx_run_store(run), path, error) ||
        !pvx_metric_result_write(r, pvx_run_store(run), path, error) ||
        !pvx_store_set_attr_int(pvx_run_store(run), path, "items", in.n, error))
        return FALSE;
    if (top1_out)
        pvx_metric_result_get_scalar(r, "top1", top1_out);
    if (top5_out)
        pvx_metric_result_get_scalar(r, "top5", top5_out);
    if (print)
        print_eval_table(ds, split_name, r, in.n);
    return TRUE;
}

gboolean pvx_stage_evaluate(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                            PvxModel *model, GError **error)
{
    if (pvx_run_stage_finished(run, "evaluate")) {
        g_message("stage evaluate: finished before");
        return TRUE;
    }
    g_autofree char *group = pvx_layout_model(1);
    return pvx_run_stage_begin(run, "evaluate", error) &&
           pvx_run_evaluate_model(run, reg, ds, model, group, TRUE, NULL, NULL, error) &&
           pvx_run_stage_end(run, error);
}
