/* pvx — the experiment schema the core knows.
 *
 * Top-level keys are the specs of the root section; each entry of `sections` is a top-level
 * section. New stages add their section to `sections` (before the terminator) and, for core
 * keys, a PvxParamSpec table next to it. docs/config.md describes every key listed here.
 */
#include "config-private.h"

static const char *const preview_splits[] = { "train", "val", "test", NULL };

static const PvxParamSpec root_params[] = {
    { "name", PVX_PARAM_STRING, NULL, PVX_PARAM_REQUIRED, 0, 0, NULL,
      "experiment name: letters, digits, '_', '.' and '-'" },
    { "description", PVX_PARAM_STRING, "\"\"", 0, 0, 0, NULL, "free text" },
    { "seed", PVX_PARAM_INT, "0", PVX_PARAM_HAS_MIN, 0, 0, NULL, "seed of every random stream" },
    { "output", PVX_PARAM_STRING, "results", 0, 0, 0, NULL,
      "folder the run folders go into; relative to the folder pvx runs in" },
    { "plugin_path", PVX_PARAM_STRING_LIST, "[]", 0, 0, 0, NULL,
      "extra plugin folders, relative to the config file's folder" },
    PVX_PARAM_SPEC_END,
};

static const PvxParamSpec preview_params[] = {
    { "split", PVX_PARAM_CHOICE, "test", 0, 0, 0, preview_splits, "split the preview shows" },
    { "per_class", PVX_PARAM_INT, "8", PVX_PARAM_HAS_MIN | PVX_PARAM_HAS_MAX, 1, 64, NULL,
      "images per class" },
    { "out", PVX_PARAM_PATH, NULL, PVX_PARAM_NULLABLE, 0, 0, NULL,
      "PNG to write; null means <run dir>/preview.png" },
    PVX_PARAM_SPEC_END,
};

static const PvxConfigSectionSpec sections[] = {
    { "dataset", PVX_SECTION_REQUIRED, PVX_KIND_DATASET, NULL, NULL,
      "the dataset plugin and its params" },
    { "preview", 0, 0, preview_params, NULL, "a grid of dataset images (pvx data preview)" },
    { NULL, 0, 0, NULL, NULL, NULL },
};

static const PvxConfigSectionSpec root = {
    "", 0, 0, root_params, sections, "an experiment",
};

const PvxConfigSectionSpec *pvx_config_schema(void)
{
    return &root;
}
