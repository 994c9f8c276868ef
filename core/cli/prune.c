/* pvx prune export RUN_DIR --cr K --out FILE — the physically smaller model of a run whose
 * filters were pruned (pvx_prune_compact_model), with its architecture, so that the model plugin
 * "exported" rebuilds it whatever the original architecture. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "pvx-private/prune.h"
#include "pvx-private/run_layout.h"

static int prune_export(const char *dir, int cr, const char *out, const PvxCliCommon *common)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxRegistry) reg = NULL;
    g_autoptr(PvxConfig) cfg = pvx_cli_load_run_config(dir, common, &reg);
    if (!cfg)
        return PVX_EXIT_BAD_INPUT;
    g_autofree char *path = g_build_filename(dir, "results.h5", NULL);
    g_autoptr(PvxStore) store = pvx_store_open(path, FALSE, &error);
    if (!store) {
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    g_autofree char *weights = pvx_layout_model_weights(cr);
    g_autofree char *masks = pvx_layout_model_masks(cr);
    if (!pvx_store_exists(store, weights)) {
        g_auto(GStrv) have = pvx_store_exists(store, pvx_layout_models())
                                 ? pvx_store_list(store, pvx_layout_models(), NULL)
                                 : NULL;
        g_autofree char *list = have ? g_strjoinv(", ", have) : g_strdup("none");
        fprintf(stderr, "pvx prune export: %s has no model at CR %d (it has: %s)\n", dir, cr, list);
        return PVX_EXIT_BAD_INPUT;
    }
    const PvxParams *params = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "model", 0, &params);
    int nd = 0;
    int64_t shape[PVX_TENSOR_MAX_DIMS];
    g_autofree int64_t *chw =
        pvx_store_read_i64(store, pvx_layout_dataset_item_shape(), &nd, shape, &error);
    g_auto(GStrv) classes =
        chw ? pvx_store_read_strings(store, pvx_layout_dataset_class_names(), &error) : NULL;
    if (!plugin || !classes) {
        if (!error)
            g_set_error(&error, PVX_ERROR, PVX_ERROR_NOT_FOUND, "%s: the run has no model section",
                        dir);
        pvx_cli_error(error);
        return PVX_EXIT_BAD_INPUT;
    }
    g_autoptr(PvxModel) model =
        pvx_model_build(plugin, params, chw, (int)g_strv_length(classes), &error);
    if (!model || !pvx_model_load_weights(model, store, weights, &error) ||
        !pvx_model_load_masks(model, store, masks, &error)) {
        pvx_cli_error(error);
        return PVX_EXIT_FAILED;
    }
    g_autoptr(PvxModel) small = pvx_prune_compact_model(model, &error);
    g_autoptr(PvxStore) dst = small ? pvx_store_create(out, &error) : NULL;
    if (!dst || !pvx_store_begin(dst, &error) ||
        !pvx_model_save_architecture(small, chw, (int)g_strv_length(classes), dst, "/architecture",
                                     &error) ||
        !pvx_model_save_weights(small, dst, "/weights", &error) || !pvx_store_commit(dst, &error)) {
        pvx_cli_error(error);
        return PVX_EXIT_FAILED;
    }
    /* Conv output channels; for the vgg plugin as its channel list (-1: a max-pool). */
    g_autoptr(GString) list = g_string_new("[");
    g_autoptr(GString) vgg = g_string_new("[");
    for (int i = 0; i < pvx_model_n_layers(small); i++) {
        const PvxLayer *l = pvx_model_layer(small, i);
        if (l->type == PVX_LAYER_CONV2D) {
            g_string_append_printf(list, "%s%" G_GINT64_FORMAT, list->len > 1 ? ", " : "",
                                   l->out_features);
            g_string_append_printf(vgg, "%s%" G_GINT64_FORMAT, vgg->len > 1 ? ", " : "",
                                   l->out_features);
        } else if (l->type == PVX_LAYER_MAXPOOL2D && vgg->len > 1) {
            g_string_append(vgg, ", -1");
        }
    }
    g_string_append_c(list, ']');
    g_string_append_c(vgg, ']');
    int64_t before = pvx_model_num_params(model), after = pvx_model_num_params(small);
    printf("wrote %s: %" G_GINT64_FORMAT " parameters (%" G_GINT64_FORMAT " before, %.2fx fewer)\n"
           "conv output channels: %s\n"
           "model section for it (any architecture):\n  model:\n    plugin: exported\n"
           "    params: {path: %s}\n",
           out, after, before, (double)before / (double)MAX(after, 1), list->str, out);
    if (strcmp(plugin->desc->name, "vgg") == 0)
        printf("or, with the vgg plugin:\n  model:\n    plugin: vgg\n    params:\n"
               "      arch: vgg-mini\n      channels: %s\n%s    weights: %s\n",
               vgg->str,
               g_str_has_suffix(pvx_model_arch(model), "+bn") ? "      batch_norm: true\n" : "",
               out);
    return PVX_EXIT_OK;
}

int pvx_cli_prune(int argc, char **argv)
{
    PvxCliCommon common = {0};
    int cr = 0;
    char *out = NULL;
    g_autofree GOptionEntry *entries = pvx_cli_common_entries(&common);
    GOptionEntry prune_entries[] = {
        {"cr", 0, 0, G_OPTION_ARG_INT, &cr, "The compression rate of the model to export", "K"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "The HDF5 file to write (must not exist)",
         "FILE"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("export RUN_DIR --cr K --out FILE — a physically smaller model");
    g_option_context_set_summary(
        ctx, "After structured (filter-norm) pruning, writes the model of CR K of the run without "
             "its dead\nchannels (smaller conv weights and biases, batch-norm parameters, the "
             "next layers' input\nchannels) together with its architecture (/architecture: every "
             "layer's type,\nhyper-parameters and inputs). Prints the channel counts and a model "
             "section that builds it\n(plugin: exported); the smaller model computes the same "
             "logits as the masked one.\n"
             "Exit codes: 0 success, 1 failure, 2 bad input.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, prune_entries, NULL);
    g_autoptr(GError) error = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 3 ||
        g_strcmp0(argv[1], "export") != 0 || cr < 1 || !out) {
        fprintf(stderr, "pvx prune: %s\n",
                error ? error->message : "usage: pvx prune export RUN_DIR --cr K --out FILE");
        goto done;
    }
    pvx_cli_apply_verbosity(&common);
    rc = prune_export(argv[2], cr, out, &common);
done:
    g_free(out);
    pvx_cli_common_clear(&common);
    return rc;
}
