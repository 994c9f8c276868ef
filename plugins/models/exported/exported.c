/* pvx model plugin "exported": the model a file describes — what `pvx prune export` writes for a
 * structurally pruned model of any architecture (its /architecture: every layer's type,
 * hyper-parameters and inputs; its /weights). No plugin can rebuild arbitrary channel counts of
 * an arbitrary graph, so the file carries the architecture and this plugin only reads it:
 *
 *     model:
 *       plugin: exported
 *       params: {path: small.h5}
 *
 * The weights come with the file (a `weights:` key would load others over them). Target layer,
 * prunable layers and aliases are the ones recorded. The dataset must give the item shape and the
 * class count the model takes (the core checks the logits' shape). */
#include <pvx/pvx.h>

static const PvxParamSpec exported_params[] = {
    {"path", PVX_PARAM_PATH, NULL, PVX_PARAM_REQUIRED, 0, 0, NULL,
     "HDF5 file written by `pvx prune export` (/architecture and /weights)"},
    PVX_PARAM_SPEC_END,
};

static PvxModel *exported_build(const PvxParams *params, const int64_t input_chw[3],
                                int num_classes, GError **error)
{
    (void)num_classes;
    const char *path = pvx_params_get_string(params, "path");
    PvxModel *m = pvx_model_new_from_file(path, error);
    if (!m) {
        g_prefix_error(error, "%s: ", pvx_params_where(params, "path"));
        return NULL;
    }
    if (!pvx_model_check_input(m, input_chw, NULL, NULL, error)) {
        g_prefix_error(error, "%s: the model in %s does not take the dataset's images: ",
                       pvx_params_where(params, "path"), path);
        pvx_model_free(m);
        return NULL;
    }
    return m;
}

static const PvxModelClass exported_class = {
    .size = sizeof(PvxModelClass),
    .build = exported_build,
};

PVX_PLUGIN_DEFINE(PVX_KIND_MODEL, "exported", "1.0.0",
                  "a model rebuilt from the architecture file `pvx prune export` writes (any "
                  "graph, e.g. a structurally pruned ResNet or MobileNet)",
                  exported_params, &exported_class)
