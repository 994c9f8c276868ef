/* pvx — the explainer handle and pvx_explain: target layer and class resolution, checks. */
#include <math.h>
#include <string.h>

#include "explain_private.h"

struct _PvxExplainer {
    const PvxPlugin *plugin;
    const PvxExplainerClass *klass;
    gpointer self;
    PvxParams *owned_params;
};

PvxExplainer *pvx_explainer_open(const PvxPlugin *plugin, const PvxParams *params, GError **error)
{
    g_return_val_if_fail(plugin != NULL && params != NULL, NULL);
    const PvxExplainerClass *k = pvx_plugin_klass(plugin, PVX_KIND_EXPLAINER);
    if (!k) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT, "%s is not an explainer plugin",
                    plugin->desc->name);
        return NULL;
    }
    gpointer self = NULL;
    if (!pvx_plugin_open_instance(plugin, params, &self, error))
        return NULL;
    PvxExplainer *ex = g_new0(PvxExplainer, 1);
    ex->plugin = plugin;
    ex->klass = k;
    ex->self = self;
    return ex;
}

PvxExplainer *pvx_explainer_open_by_name(const PvxRegistry *reg, const char *name,
                                         const char *const *pairs, GError **error)
{
    const PvxPlugin *p = pvx_registry_lookup(reg, PVX_KIND_EXPLAINER, name, error);
    if (!p)
        return NULL;
    g_autofree char *owner = g_strdup_printf("explainer %s", name);
    PvxParams *params = pvx_params_new_from_pairs(p->params, owner, pairs, error);
    if (!params)
        return NULL;
    PvxExplainer *ex = pvx_explainer_open(p, params, error);
    if (!ex) {
        pvx_params_free(params);
        return NULL;
    }
    ex->owned_params = params;
    return ex;
}

void pvx_explainer_close(PvxExplainer *ex)
{
    if (!ex)
        return;
    pvx_plugin_close_instance(ex->plugin, ex->self);
    if (ex->owned_params)
        pvx_params_free(ex->owned_params);
    g_free(ex);
}

const char *pvx_explainer_name(const PvxExplainer *ex)
{
    return ex->plugin->desc->name;
}

guint32 pvx_explainer_flags(const PvxExplainer *ex)
{
    return ex->klass->flags;
}

gboolean pvx_target_mode_from_name(const char *name, PvxTargetMode *out)
{
    if (g_strcmp0(name, "predicted") == 0)
        *out = PVX_TARGET_PREDICTED;
    else if (g_strcmp0(name, "label") == 0)
        *out = PVX_TARGET_LABEL;
    else if (g_strcmp0(name, "fixed") == 0)
        *out = PVX_TARGET_FIXED;
    else
        return FALSE;
    return TRUE;
}

/* The target layer, checked: exists, spatial, and (gradient methods) below the output. */
static gboolean resolve_layer(PvxExplainer *ex, PvxModel *model, const char *name, const char **out,
                              GError **error)
{
    const char *me = pvx_explainer_name(ex);
    if (!name)
        name = pvx_model_target_layer(model);
    if (!name) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "explainer %s: model %s has no default target layer (no conv layer); give "
                    "one",
                    me, pvx_model_arch(model));
        return FALSE;
    }
    g_autoptr(GError) e = NULL;
    PvxLayer *l = pvx_model_find_layer(model, name, &e);
    if (!l) {
        g_autofree char *names = pvx_model_layer_names_string(model);
        g_set_error(error, PVX_ERROR, PVX_ERROR_NOT_FOUND,
                    "explainer %s: model %s has no layer '%s'; its layers are: %s", me,
                    pvx_model_arch(model), name, names);
        return FALSE;
    }
    int idx = pvx_model_layer_index(model, name);
    if ((ex->klass->flags & PVX_EXPLAINER_GRADIENTS) && idx == pvx_model_n_layers(model) - 1) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                    "explainer %s needs the gradient of the class score at its target layer, "
                    "but layer %s is the model's output: there is no layer above it to "
                    "backpropagate through; pick a convolutional layer (default %s)",
                    me, name,
                    pvx_model_target_layer(model) ? pvx_model_target_layer(model) : "none");
        return FALSE;
    }
    *out = l->name;
    return TRUE;
}

PvxTensor *pvx_explain(PvxExplainer *ex, PvxModel *model, PvxTensor *batch,
                       const PvxExplainOptions *opts, PvxTensor **logits_out, int64_t **targets_out,
                       GError **error)
{
    g_return_val_if_fail(ex && model && batch && opts, NULL);
    const char *me = pvx_explainer_name(ex);
    if (batch->ndim != 4 || !pvx_tensor_is_contiguous(batch) || batch->shape[0] < 1) {
        g_autofree char *s = pvx_tensor_shape_string(batch);
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "explainer %s: the batch must be a contiguous [N, C, H, W] with N >= 1, got "
                    "%s",
                    me, s);
        return NULL;
    }
    int64_t n = batch->shape[0];
    if (!pvx_model_check_input(model, batch->shape + 1, NULL, NULL, error)) {
        g_prefix_error(error, "explainer %s: ", me);
        return NULL;
    }
    gboolean layer_method = (ex->klass->flags & PVX_EXPLAINER_LAYER) != 0;
    const char *layer = NULL;
    if (layer_method && !resolve_layer(ex, model, opts->layer, &layer, error))
        return NULL;

    /* The layer's shape from the hyper-parameters; one inference forward only when the targets
     * (predicted) or the caller need the logits. */
    int64_t map_h = batch->shape[2], map_w = batch->shape[3];
    if (layer_method) {
        int nd;
        int64_t ls[PVX_TENSOR_MAX_DIMS];
        if (!pvx_model_layer_shape(model, batch->shape, layer, &nd, ls, error))
            return NULL;
        if (nd != 4) {
            PvxLayer *l = pvx_model_find_layer(model, layer, NULL);
            g_autofree char *shape = pvx_shape_string(nd, ls);
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "explainer %s needs a spatial activation [N, K, h, w] at its target "
                        "layer; layer %s (%s) gives %s",
                        me, layer, pvx_layer_type_name(l->type), shape);
            return NULL;
        }
        map_h = ls[2];
        map_w = ls[3];
    }
    g_autoptr(PvxTensor) logits = NULL;
    int64_t classes = pvx_model_num_classes(model);
    if (opts->mode == PVX_TARGET_PREDICTED || logits_out || classes <= 0) {
        logits = pvx_model_forward(model, batch, PVX_FORWARD_INFERENCE, error);
        if (!logits) {
            g_prefix_error(error, "explainer %s: ", me);
            return NULL;
        }
        classes = logits->shape[1];
    }
    g_autofree int64_t *targets = g_new(int64_t, n);
    for (int64_t i = 0; i < n; i++) {
        int64_t t;
        if (opts->mode == PVX_TARGET_LABEL) {
            g_return_val_if_fail(opts->labels != NULL, NULL);
            t = opts->labels[i];
        } else if (opts->mode == PVX_TARGET_FIXED) {
            t = opts->fixed;
        } else {
            const float *y = logits->data + i * classes;
            t = 0;
            for (int64_t c = 1; c < classes; c++)
                if (y[c] > y[t])
                    t = c;
        }
        if (t < 0 || t >= classes) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_INVALID_ARGUMENT,
                        "explainer %s: target class %" G_GINT64_FORMAT " of image %" G_GINT64_FORMAT
                        " is out of range: the model has %" G_GINT64_FORMAT
                        " classes (0..%" G_GINT64_FORMAT ")",
                        me, t, i, classes, classes - 1);
            return NULL;
        }
        targets[i] = t;
    }

    PvxExplainRequest req = {
        .size = sizeof(PvxExplainRequest),
        .model = model,
        .input = batch,
        .targets = targets,
        .target_layer = layer,
        .num_classes = (int)classes,
        .batch_size = opts->batch_size > 0 ? opts->batch_size : 16,
    };
    PvxTensor *maps = NULL;
    gint64 t0 = g_get_monotonic_time();
    if (!ex->klass->explain(ex->self, &req, &maps, error)) {
        g_clear_pointer(&maps, pvx_tensor_unref);
        if (error && !*error)
            g_set_error(error, PVX_ERROR, PVX_ERROR_FAILED,
                        "explainer %s failed without saying "
                        "why",
                        me);
        g_prefix_error(error, "explainer %s: ", me);
        return NULL;
    }
    g_debug("explainer %s: %" G_GINT64_FORMAT " images in %.3f s", me, n,
            (g_get_monotonic_time() - t0) / 1e6);
    g_autoptr(PvxTensor) m = maps;
    if (!m || m->ndim != 3 || m->shape[0] != n || m->shape[1] != map_h || m->shape[2] != map_w ||
        !pvx_tensor_is_contiguous(m)) {
        g_autofree char *got = m ? pvx_tensor_shape_string(m) : g_strdup("nothing");
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "explainer %s returned maps of shape %s, expected [%" G_GINT64_FORMAT
                    ", %" G_GINT64_FORMAT ", %" G_GINT64_FORMAT "]",
                    me, got, n, map_h, map_w);
        return NULL;
    }
    for (int64_t i = 0; i < pvx_tensor_numel(m); i++)
        if (!isfinite(m->data[i])) {
            g_set_error(error, PVX_ERROR, PVX_ERROR_NUMERIC,
                        "explainer %s: map of image %" G_GINT64_FORMAT " has a non-finite value",
                        me, i / (map_h * map_w));
            return NULL;
        }
    if (logits_out)
        *logits_out = g_steal_pointer(&logits);
    if (targets_out)
        *targets_out = g_steal_pointer(&targets);
    return g_steal_pointer(&m);
}
