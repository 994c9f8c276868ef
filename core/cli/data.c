/* pvx data preview CONFIG — a PNG grid of samples per class, before any training. */
#include <stdio.h>
#include <string.h>

#include "cli.h"

static int data_preview(int argc, char **argv)
{
    PvxCliCommon common = {0};
    char *split_name = NULL, *out = NULL;
    int per_class = 8;
    g_autofree GOptionEntry *entries = pvx_cli_common_entries(&common);
    GOptionEntry preview_entries[] = {
        {"split", 0, 0, G_OPTION_ARG_STRING, &split_name,
         "Split to show: train, val or test (default test)", "SPLIT"},
        {"out", 'o', 0, G_OPTION_ARG_FILENAME, &out, "Where to write the PNG (default preview.png)",
         "FILE"},
        {"per-class", 'n', 0, G_OPTION_ARG_INT, &per_class, "Samples per class, 1..64 (default 8)",
         "N"},
        {NULL, 0, 0, 0, NULL, NULL, NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("CONFIG — preview a dataset");
    g_option_context_set_summary(ctx,
                                 "Opens the dataset of CONFIG and writes a PNG grid with N "
                                 "samples of every class, one row per class,\nthe ground-truth "
                                 "mask outlined (white and black) where the dataset has one.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, preview_entries, NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(PvxRegistry) reg = NULL;
    g_autoptr(PvxConfig) cfg = NULL;
    g_autoptr(PvxDataset) ds = NULL;
    int rc = PVX_EXIT_BAD_INPUT;
    PvxSplit split = PVX_SPLIT_TEST;
    if (!g_option_context_parse(ctx, &argc, &argv, &error) || argc != 2) {
        fprintf(stderr, "pvx data preview: %s\n",
                error ? error->message : "expected one CONFIG file");
        goto out;
    }
    if (split_name && !pvx_split_from_name(split_name, &split)) {
        fprintf(stderr, "pvx data preview: unknown split '%s'; valid: train, val, test\n",
                split_name);
        goto out;
    }
    if (per_class < 1 || per_class > 64) {
        fprintf(stderr, "pvx data preview: --per-class must be in 1..64, got %d\n", per_class);
        goto out;
    }
    pvx_cli_apply_verbosity(&common);
    cfg = pvx_cli_load_config(argv[1], &common, &reg);
    if (!cfg)
        goto out;
    const PvxParams *ds_params = NULL;
    const PvxPlugin *plugin = pvx_config_plugin(cfg, "dataset", 0, &ds_params);
    ds = pvx_dataset_open(plugin, ds_params, &error);
    if (!ds) {
        pvx_cli_error(error);
        goto out;
    }
    if (pvx_dataset_split_size(ds, split) <= 0) {
        fprintf(stderr, "pvx data preview: dataset %s has no '%s' split\n", pvx_dataset_name(ds),
                pvx_split_name(split));
        goto out;
    }
    const char *path = out ? out : "preview.png";
    if (!pvx_preview_write(ds, split, per_class, path, &error)) {
        pvx_cli_error(error);
        rc = PVX_EXIT_FAILED;
        goto out;
    }
    printf("%s: %d classes × %d %s samples\n", path, pvx_dataset_num_classes(ds), per_class,
           pvx_split_name(split));
    rc = PVX_EXIT_OK;
out:
    g_free(split_name);
    g_free(out);
    pvx_cli_common_clear(&common);
    return rc;
}

int pvx_cli_data(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "preview") == 0)
        return data_preview(argc - 1, argv + 1);
    fprintf(stderr,
            "Usage: pvx data preview CONFIG [--split SPLIT] [--out FILE] [--per-class N]\n");
    return (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0))
               ? PVX_EXIT_OK
               : PVX_EXIT_BAD_INPUT;
}
