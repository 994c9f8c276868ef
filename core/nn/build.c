/* pvx — building models through model plugins; target and prunable layers. */
#include <string.h>

#include "nn_private.h"
#include "pvx-private/model_build.h"

static char *default_target(const PvxModel *m)
{
    int last_conv = -1;
    for (int i = 0; i < (int)m->layers->len; i++)
        if (pvx_model_layer(m, i)->type == PVX_LAYER_CONV2D)
            last_conv = i;
    if (last_conv < 0)
        return NULL;
    for (int i = last_conv + 1; i < (int)m->layers->len; i++) {
        const PvxLayer *l = pvx_model_layer(m, i);
        if (l->type == PVX_LAYER_RELU)
            return g_strdup(l->name);
        if (l->type != PVX_LAYER_BATCHNORM2D)
            break;
    }
    return g_strdup(pvx_model_layer(m, last_conv)->name);
}

static char **default_prunable(const PvxModel *m)
{
    GPtrArray *names = g_ptr_array_new();
    for (int i = 0; i < (int)m->layers->len; i++) {
        const PvxLayer *l = pvx_model_layer(m, i);
        if (l->type == PVX_LAYER_CONV2D || l->type == PVX_LAYER_LINEAR)
            g_ptr_array_add(names, g_strdup(l->name));
    }
    g_ptr_array_add(names, NULL);
    return (char **)g_ptr_array_free(names, FALSE);
}

const char *pvx_model_target_layer(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, NULL);
    if (!m->target_layer)
        ((PvxModel *)m)->target_layer = default_target(m);
    return m->target_layer;
}

gboolean pvx_model_set_target_layer(PvxModel *m, const char *name, GError **error)
{
    if (!pvx_model_find_layer(m, name, error))
        return FALSE;
    g_free(m->target_layer);
    m->target_layer = g_strdup(name);
    return TRUE;
}

const char *const *pvx_model_prunable_layers(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, NULL);
    if (!m->prunable)
        ((PvxModel *)m)->prunable = default_prunable(m);
    return (const char *const *)m->prunable;
}

gboolean pvx_model_set_prunable_layers(PvxModel *m, const char *const *names, GError **error)
{
    for (const char *const *n = names; n && *n; n++) {
        const PvxLayer *l = pvx_model_find_layer(m, *n, error);
        if (!l)
            return FALSE;
        if (l->type != PVX_LAYER_CONV2D && l->type != PVX_LAYER_LINEAR) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "layer %s is a %s layer; only conv2d and linear layers can be pruned", *n,
                        pvx_layer_type_name(l->type));
            return FALSE;
        }
    }
    g_strfreev(m->prunable);
    m->prunable = g_strdupv((char **)names);
    return TRUE;
}

char **pvx_model_aliases(const PvxModel *m)
{
    g_return_val_if_fail(m != NULL, NULL);
    GList *keys =
        m->aliases ? g_list_sort(g_hash_table_get_keys(m->aliases), (GCompareFunc)strcmp) : NULL;
    GPtrArray *out = g_ptr_array_new();
    for (GList *k = keys; k; k = k->next) {
        g_ptr_array_add(out, g_strdup(k->data));
        g_ptr_array_add(out, g_strdup(g_hash_table_lookup(m->aliases, k->data)));
    }
    g_list_free(keys);
    g_ptr_array_add(out, NULL);
    return (char **)g_ptr_array_free(out, FALSE);
}

void pvx_model_input_shape(const PvxModel *m, int64_t chw[3])
{
    memcpy(chw, m->input_chw, sizeof m->input_chw);
}

int pvx_model_num_classes(const PvxModel *m)
{
    return m->num_classes;
}

PvxModel *pvx_model_build(const PvxPlugin *plugin, const PvxParams *params, const int64_t chw[3],
                          int num_classes, GError **error)
{
    g_return_val_if_fail(plugin != NULL && params != NULL && chw != NULL, NULL);
    g_return_val_if_fail(error == NULL || *error == NULL, NULL);
    const PvxModelClass *k = pvx_plugin_klass(plugin, PVX_KIND_MODEL);
    if (!k) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s: %s is not a model plugin",
                    plugin->path, plugin->desc->name);
        return NULL;
    }
    if (chw[0] < 1 || chw[1] < 1 || chw[2] < 1 || num_classes < 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "model %s: cannot build for %" G_GINT64_FORMAT "x%" G_GINT64_FORMAT
                    "x%" G_GINT64_FORMAT " images and %d classes",
                    plugin->desc->name, chw[0], chw[1], chw[2], num_classes);
        return NULL;
    }
    /* The open wrapper's guarantee (pvx_plugin_open_instance), for build: an error if and only if
     * there is no model. A model that comes with an error is discarded, the error kept. */
    GError *local = NULL;
    g_autoptr(PvxModel) m = k->build(params, chw, num_classes, &local);
    if (!m || local) {
        if (!local)
            g_set_error(&local, PVX_ERROR, PVX_ERROR_FAILED,
                        "%s: model %s failed to build without saying why", plugin->path,
                        plugin->desc->name);
        else
            g_prefix_error(&local, "model %s: ", plugin->desc->name);
        g_propagate_error(error, local);
        return NULL;
    }
    int nd = 0;
    int64_t out[PVX_TENSOR_MAX_DIMS];
    if (!pvx_model_check_input(m, chw, &nd, out, error)) {
        g_prefix_error(error, "model %s: ", plugin->desc->name);
        return NULL;
    }
    if (nd != 2 || out[1] != num_classes) {
        g_autofree char *s = pvx_shape_string(nd, out);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "model %s: produces %s for one image, expected [1, %d]", plugin->desc->name, s,
                    num_classes);
        return NULL;
    }
    memcpy(m->input_chw, chw, sizeof m->input_chw);
    m->num_classes = num_classes;
    if (k->size >= offsetof(PvxModelClass, target_layer) + sizeof(void *) && k->target_layer) {
        const char *t = k->target_layer(m);
        if (t && !pvx_model_set_target_layer(m, t, error))
            return NULL;
    }
    if (k->size >= offsetof(PvxModelClass, prunable_layers) + sizeof(void *) &&
        k->prunable_layers) {
        g_auto(GStrv) names = k->prunable_layers(m);
        if (names && !pvx_model_set_prunable_layers(m, (const char *const *)names, error))
            return NULL;
    }
    return g_steal_pointer(&m);
}
