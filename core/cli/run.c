/* pvx run CONFIG — run an experiment's stages and keep everything in the run folder. */
#include <stdio.h>

#include "cli.h"
#include "pvx-private/explain_stage.h"
#include "pvx-private/metrics_stage.h"
#include "pvx-private/report.h"
#include "pvx-private/study.h"
#include "pvx-private/run_layout.h"

/* The preview stage: a picture of the data, so the run shows what it worked on. */
static gboolean stage_preview(PvxRun *run, const PvxDataset *ds, GError **error)
{
    const PvxConfig *cfg = pvx_run_config(run);
    const PvxParams *p = pvx_config_section(cfg, "preview");
    const char *split_name = p ? pvx_params_get_string(p, "split") : "test";
    int per_class = p ? (int)pvx_params_get_int(p, "per_class") : 8;
    const char *out = p ? pvx_params_get_string(p, "out") : NULL;
    PvxSplit split;
    if (!pvx_split_from_name(split_name, &split) || pvx_dataset_split_size(ds, split) <= 0) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "%s: dataset %s has no '%s' split",
                    p ? pvx_params_where(p, "split") : "preview", pvx_dataset_name(ds), split_name);
        return FALSE;
    }
    g_autofree char *path =
        out ? g_strdup(out) : g_build_filename(pvx_run_dir(run), "preview.png", NULL);
    g_autofree char *stage = pvx_layout_stage("preview");
    if (!pvx_run_stage_begin(run, "preview", error))
        return FALSE;
    if (!pvx_preview_write(ds, split, per_class, path, error) ||
        !pvx_store_set_attr_string(pvx_run_store(run), stage, "png", path, error))
        return FALSE;
    if (!pvx_run_stage_end(run, error))
        return FALSE;
    printf("preview: %s\n", path);
    return TRUE;
}

/* Builds the model (when the config has one) and checks everything that needs it — the prune
 * section's rates and layer selection, the metrics' inputs (masks of the dataset) — before a run
 * folder exists: bad input costs nothing. */
static gboolean prepare_model(const PvxConfig *cfg, const PvxRegistry *reg, const PvxDataset *ds,
                              PvxModel **model_out, GError **error)
{
    *model_out = NULL;
    if (!pvx_metrics_check(cfg, reg, ds, error))
        return FALSE;
    gboolean has_model = pvx_config_has_section(cfg, "model");
    if (!has_model && pvx_config_has_section(cfg, "train")) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: the train section needs a `model` section too", pvx_config_path(cfg));
        return FALSE;
    }
    if (!has_model && pvx_config_has_section(cfg, "prune")) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_CONFIG_MISSING,
                    "%s: the prune section needs a `model` section too", pvx_config_path(cfg));
        return FALSE;
    }
    if (!has_model)
        return TRUE;
    g_autoptr(PvxModel) model = pvx_build_model_from_config(cfg, ds, error);
    if (!model || !pvx_prune_check_config(cfg, model, error))
        return FALSE;
    *model_out = g_steal_pointer(&model);
    return TRUE;
}

/* The stages after the dataset is open. Each skips itself when a resumed run finished it. */
static gboolean run_stages(PvxRun *run, const PvxRegistry *reg, const PvxDataset *ds,
                           PvxModel *model, GError **error)
{
    const PvxConfig *cfg = pvx_run_config(run);
    if (!pvx_run_stage_finished(run, "dataset") &&
        !(pvx_run_stage_begin(run, "dataset", error) && pvx_run_record_dataset(run, ds, error) &&
          pvx_run_stage_end(run, error)))
        return FALSE;
    if (!pvx_run_stage_finished(run, "preview") && !stage_preview(run, ds, error))
        return FALSE;
    if (model) {
        if (!pvx_stage_train(run, ds, model, error) ||
            !pvx_stage_evaluate(run, reg, ds, model, error) ||
            !pvx_stage_prune(run, reg, ds, model, error))
            return FALSE;
        /* The unpruned model and every rate of the prune section. */
        g_autoptr(GArray) crs = pvx_prune_run_crs(cfg);
        /* A resolved config (as --resume reloads it) holds every section with its defaults: an
         * explain section without methods means no explain stage. */
        if (pvx_config_list_length(cfg, "explain.methods") > 0 &&
            !pvx_stage_explain(run, reg, ds, model, (const int *)crs->data, (int)crs->len, error))
            return FALSE;
        if (pvx_config_list_length(cfg, "metrics.compute") > 0 &&
            !pvx_stage_metrics(run, reg, ds, model, (const int *)crs->data, (int)crs->len, error))
            return FALSE;
        if (!pvx_stage_study(run, reg, ds, error))
            return FALSE;
    }
    return pvx_run_finish(run, error);
}

int pvx_cli_run(int argc, char **argv)
{
    PvxCliCommon common = {0};
    char *run_id = NULL, *resume = NULL;
    g_autofree GOptionEntry *entries = pvx_cli_common_entries(&common);
    GOptionEntry run_entries[] = {
        {"run-id", 0, 0, G_OPTION_ARG_STRING, &run_id,
         "Name the run folder ID instead of a UTC time stamp", "ID"},
        {"resume", 0, 0, G_OPTION_ARG_FILENAME, &resume,
         "Continue the stopped run in RUN_DIR with the config stored in it (no CONFIG)", "RUN_DIR"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("CONFIG | --resume RUN_DIR — run an experiment");
    g_option_context_set_summary(
        ctx,
        "Validates CONFIG (a YAML experiment file) against the core's schema and the plugins' "
        "parameter schemas,\nbuilds the model and checks the prune and metrics sections, "
        "creates <output>/<name>/<run-id>/\nwith results.h5, and runs the configured stages:\n"
        "  dataset    open the dataset and record its classes and splits\n"
        "  preview    a PNG grid of samples per class (preview.png)\n"
        "  train      train the model (CR 1), a checkpoint after every epoch\n"
        "  evaluate   accuracy of the trained model on the evaluate split\n"
        "  prune-crK  prune to each rate of `prune`, fine-tune, evaluate, store (docs/pruning.md)\n"
        "  explain    maps of every CR model (heat, occlusion, sheets)\n"
        "  metrics    explanation metrics per method and CR (docs/metrics.md)\n"
        "  study      human-study tasks for Mechanical Turk (docs/study.md)\n"
        "and finally writes report.html (pvx report).\n"
        "--resume RUN_DIR continues a stopped run from its last finished stage and, inside "
        "training and\nfine-tuning, from its last finished epoch, reaching the same weights "
        "as an uninterrupted run.\nExit codes: 0 success, 1 the run failed, 2 bad input "
        "(nothing was run).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, run_entries, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxRegistry) reg = NULL;
    g_autoptr(PvxConfig) cfg = NULL;
    g_autoptr(PvxDataset) ds = NULL;
    g_autoptr(PvxRun) run = NULL;
    g_autoptr(PvxModel) model = NULL;
    g_autofree char *html = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != (resume ? 1 : 2)) {
        fprintf(stderr, "pvx run: %s\n",
                error    ? error->message
                : resume ? "--resume RUN_DIR takes no CONFIG (the run's own is used)"
                         : "expected one CONFIG file");
        goto out;
    }
    if (resume && (run_id || (common.overrides && common.overrides[0]))) {
        fprintf(stderr, "pvx run: --resume continues a run as it was configured; --run-id and "
                        "--set cannot be combined with it\n");
        goto out;
    }
    pvx_cli_apply_verbosity(&common);
    /* before any work: a run id is one folder under <output>/<name>/, never a way out of it */
    if (run_id && !pvx_folder_name_check("pvx run: --run-id", run_id, &error)) {
        fprintf(stderr, "%s\n", error->message);
        goto out;
    }

    cfg = resume ? pvx_cli_load_run_config(resume, &common, &reg)
                 : pvx_cli_load_config(argv[1], &common, &reg);
    if (!cfg)
        goto out;
    const PvxParams *ds_params = NULL;
    const PvxPlugin *ds_plugin = pvx_config_plugin(cfg, "dataset", 0, &ds_params);
    /* Opening the dataset checks its files before a run folder is made. */
    ds = pvx_dataset_open(ds_plugin, ds_params, &error);
    if (!ds) {
        pvx_cli_error(error);
        goto out;
    }
    if (!prepare_model(cfg, reg, ds, &model, &error)) {
        pvx_cli_error(error);
        goto out;
    }
    run = resume ? pvx_run_open(resume, cfg, &error) : pvx_run_create(cfg, reg, run_id, &error);
    if (!run) {
        pvx_cli_error(error);
        rc = PVX_EXIT_FAILED;
        goto out;
    }
    if (!run_stages(run, reg, ds, model, &error)) {
        pvx_cli_error(error);
        pvx_run_fail(run, error);
        rc = PVX_EXIT_FAILED;
        goto out;
    }
    printf("run finished: %s\n", pvx_run_dir(run));
    /* The report comes last, so it shows the finished run; a run without a report is still a
     * finished run (pvx report RUN_DIR writes it again). */
    if (!pvx_report_write(pvx_run_dir(run), &html, &error)) {
        g_prefix_error(&error, "the run finished, but its report could not be written: ");
        pvx_cli_error(error);
        rc = PVX_EXIT_FAILED;
        goto out;
    }
    printf("report: %s\n", html);
    rc = PVX_EXIT_OK;
out:
    g_free(run_id);
    g_free(resume);
    pvx_cli_common_clear(&common);
    return rc;
}
