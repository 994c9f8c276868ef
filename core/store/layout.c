/* pvx — the HDF5 layout of a run's results.h5, spelled once (pvx-private/run_layout.h). */
#include <errno.h>
#include <stdlib.h>

#include "pvx-private/run_layout.h"

#define MODELS "/models"
#define MAPS "/maps"
#define METRICS "/metrics"
#define STUDY "/study"
#define STAGES "/stages"
#define DATASET "/dataset"
#define PRUNE "/prune"
#define MODEL_NAME "cr%d"

/* ---- the run ---- */

const char *pvx_layout_config(void)
{
    return "/config";
}

const char *pvx_layout_provenance(void)
{
    return "/provenance";
}

const char *pvx_layout_provenance_plugins(void)
{
    return "/provenance/plugins";
}

const char *pvx_layout_stages(void)
{
    return STAGES;
}

char *pvx_layout_stage(const char *stage)
{
    g_return_val_if_fail(stage != NULL, NULL);
    return g_strconcat(STAGES "/", stage, NULL);
}

char *pvx_layout_prune_stage_name(int cr)
{
    return g_strdup_printf("prune-" MODEL_NAME, cr);
}

/* ---- the dataset ---- */

const char *pvx_layout_dataset(void)
{
    return DATASET;
}

const char *pvx_layout_dataset_class_names(void)
{
    return DATASET "/class_names";
}

const char *pvx_layout_dataset_split_sizes(void)
{
    return DATASET "/split_sizes";
}

const char *pvx_layout_dataset_item_shape(void)
{
    return DATASET "/item_shape";
}

const char *pvx_layout_explain_ids(void)
{
    return DATASET "/explain/ids";
}

const char *pvx_layout_explain_index(void)
{
    return DATASET "/explain/index";
}

/* ---- the models ---- */

const char *pvx_layout_models(void)
{
    return MODELS;
}

char *pvx_layout_model_name(int cr)
{
    return g_strdup_printf(MODEL_NAME, cr);
}

gboolean pvx_layout_parse_model_name(const char *name, int *cr)
{
    if (!name || !g_str_has_prefix(name, "cr") || !g_ascii_isdigit(name[2]))
        return FALSE;
    char *end = NULL;
    errno = 0;
    long k = strtol(name + 2, &end, 10);
    /* canonical names only, as pvx_layout_model_name() writes them: no sign, no leading 0 */
    if (errno != 0 || *end != '\0' || k < 1 || k > G_MAXINT || name[2] == '0')
        return FALSE;
    if (cr)
        *cr = (int)k;
    return TRUE;
}

char *pvx_layout_model(int cr)
{
    return g_strdup_printf(MODELS "/" MODEL_NAME, cr);
}

char *pvx_layout_model_weights(int cr)
{
    return g_strdup_printf(MODELS "/" MODEL_NAME "/weights", cr);
}

char *pvx_layout_model_masks(int cr)
{
    return g_strdup_printf(MODELS "/" MODEL_NAME "/masks", cr);
}

char *pvx_layout_model_pruned(int cr)
{
    return g_strdup_printf(MODELS "/" MODEL_NAME "/pruned", cr);
}

char *pvx_layout_model_train(int cr)
{
    return g_strdup_printf(MODELS "/" MODEL_NAME "/train", cr);
}

char *pvx_layout_train_history(const char *train)
{
    g_return_val_if_fail(train != NULL, NULL);
    return g_strconcat(train, "/history", NULL);
}

char *pvx_layout_train_checkpoint(const char *train)
{
    g_return_val_if_fail(train != NULL, NULL);
    return g_strconcat(train, "/checkpoint", NULL);
}

char *pvx_layout_train_val_indices(const char *train)
{
    g_return_val_if_fail(train != NULL, NULL);
    return g_strconcat(train, "/val_indices", NULL);
}

char *pvx_layout_model_train_history(int cr)
{
    g_autofree char *train = pvx_layout_model_train(cr);
    return pvx_layout_train_history(train);
}

char *pvx_layout_model_train_checkpoint(int cr)
{
    g_autofree char *train = pvx_layout_model_train(cr);
    return pvx_layout_train_checkpoint(train);
}

char *pvx_layout_eval_splits(const char *group)
{
    g_return_val_if_fail(group != NULL, NULL);
    return g_strconcat(group, "/eval", NULL);
}

char *pvx_layout_eval(const char *group, const char *split)
{
    g_return_val_if_fail(group != NULL && split != NULL, NULL);
    return g_strconcat(group, "/eval/", split, NULL);
}

char *pvx_layout_layers(const char *group)
{
    g_return_val_if_fail(group != NULL, NULL);
    return g_strconcat(group, "/layers", NULL);
}

char *pvx_layout_layer_size(const char *group)
{
    g_return_val_if_fail(group != NULL, NULL);
    return g_strconcat(group, "/layer_size", NULL);
}

char *pvx_layout_layer_kept(const char *group)
{
    g_return_val_if_fail(group != NULL, NULL);
    return g_strconcat(group, "/layer_kept", NULL);
}

char *pvx_layout_layer_density(const char *group)
{
    g_return_val_if_fail(group != NULL, NULL);
    return g_strconcat(group, "/layer_density", NULL);
}

/* ---- pruning ---- */

const char *pvx_layout_prune(void)
{
    return PRUNE;
}

const char *pvx_layout_prune_layers(void)
{
    return PRUNE "/layers";
}

/* ---- maps ---- */

const char *pvx_layout_maps(void)
{
    return MAPS;
}

char *pvx_layout_maps_method(const char *method)
{
    g_return_val_if_fail(method != NULL, NULL);
    return g_strconcat(MAPS "/", method, NULL);
}

char *pvx_layout_maps_group(const char *method, int cr)
{
    g_return_val_if_fail(method != NULL, NULL);
    return g_strdup_printf(MAPS "/%s/" MODEL_NAME, method, cr);
}

char *pvx_layout_maps_raw(const char *method, int cr)
{
    g_return_val_if_fail(method != NULL, NULL);
    return g_strdup_printf(MAPS "/%s/" MODEL_NAME "/raw", method, cr);
}

char *pvx_layout_maps_target(const char *method, int cr)
{
    g_return_val_if_fail(method != NULL, NULL);
    return g_strdup_printf(MAPS "/%s/" MODEL_NAME "/target", method, cr);
}

char *pvx_layout_maps_ids(const char *method, int cr)
{
    g_return_val_if_fail(method != NULL, NULL);
    return g_strdup_printf(MAPS "/%s/" MODEL_NAME "/ids", method, cr);
}

/* ---- metrics ---- */

const char *pvx_layout_metrics(void)
{
    return METRICS;
}

char *pvx_layout_metric(const char *metric)
{
    g_return_val_if_fail(metric != NULL, NULL);
    return g_strconcat(METRICS "/", metric, NULL);
}

char *pvx_layout_metric_method(const char *metric, const char *method)
{
    g_return_val_if_fail(metric != NULL && method != NULL, NULL);
    return g_strdup_printf(METRICS "/%s/%s", metric, method);
}

char *pvx_layout_metric_group(const char *metric, const char *method, int cr)
{
    g_return_val_if_fail(metric != NULL && method != NULL, NULL);
    return g_strdup_printf(METRICS "/%s/%s/" MODEL_NAME, metric, method, cr);
}

char *pvx_layout_metric_result(const char *metric, const char *method, int cr, const char *result)
{
    g_return_val_if_fail(metric != NULL && method != NULL && result != NULL, NULL);
    return g_strdup_printf(METRICS "/%s/%s/" MODEL_NAME "/%s", metric, method, cr, result);
}

/* ---- studies ---- */

const char *pvx_layout_study(void)
{
    return STUDY;
}

char *pvx_layout_study_design(const char *design)
{
    g_return_val_if_fail(design != NULL, NULL);
    return g_strconcat(STUDY "/", design, NULL);
}

char *pvx_layout_study_task_column(const char *design, const char *column)
{
    g_return_val_if_fail(design != NULL && column != NULL, NULL);
    return g_strdup_printf(STUDY "/%s/tasks/%s", design, column);
}

char *pvx_layout_study_key_column(const char *design, const char *column)
{
    g_return_val_if_fail(design != NULL && column != NULL, NULL);
    return g_strdup_printf(STUDY "/%s/key/%s", design, column);
}

char *pvx_layout_study_answers(const char *design)
{
    g_return_val_if_fail(design != NULL, NULL);
    return g_strdup_printf(STUDY "/%s/answers", design);
}

char *pvx_layout_study_analysis(const char *design)
{
    g_return_val_if_fail(design != NULL, NULL);
    return g_strdup_printf(STUDY "/%s/analysis", design);
}

char *pvx_layout_study_analysis_models(const char *design)
{
    g_return_val_if_fail(design != NULL, NULL);
    return g_strdup_printf(STUDY "/%s/analysis/models", design);
}

char *pvx_layout_study_analysis_pairs(const char *design)
{
    g_return_val_if_fail(design != NULL, NULL);
    return g_strdup_printf(STUDY "/%s/analysis/pairs", design);
}

/* ---- below the layout ---- */

char *pvx_layout_join(const char *group, const char *name)
{
    g_return_val_if_fail(group != NULL && name != NULL, NULL);
    return g_strconcat(group, "/", name, NULL);
}
