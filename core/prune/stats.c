/* pvx — compression bookkeeping: CR over the selected layers, whole-model ratio, per-layer
 * density, theoretical FLOP reduction (definitions in pvx-private/prune.h). */
#include <math.h>
#include <string.h>

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/prune.h"
#include "pvx-private/run_layout.h"

static int64_t kept_of(const PvxLayer *l)
{
    int64_t n = pvx_tensor_numel(l->weight);
    if (!l->mask)
        return n;
    const float *m = l->mask->data;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        k += m[i] != 0.0f;
    return k;
}

gboolean pvx_prune_stats(const PvxModel *model, const char *const *layers, const int64_t chw[3],
                         PvxPruneStats *st, GError **error)
{
    g_return_val_if_fail(model != NULL && layers != NULL && st != NULL, FALSE);
    memset(st, 0, sizeof *st);
    int64_t shape[3];
    pvx_model_input_shape(model, shape);
    if (shape[0] == 0 && chw)
        memcpy(shape, chw, sizeof shape);
    int nl = pvx_model_n_layers(model);
    g_autofree double *flops = g_new0(double, nl);
    if (!pvx_model_layer_flops(model, shape, flops)) {
        g_set_error(error, PVX_ERROR, PVX_ERROR_SHAPE,
                    "pruning statistics: model %s does not take %" G_GINT64_FORMAT
                    "x%" G_GINT64_FORMAT "x%" G_GINT64_FORMAT " inputs",
                    pvx_model_arch(model), shape[0], shape[1], shape[2]);
        return FALSE;
    }
    st->n_layers = (int)g_strv_length((char **)layers);
    st->layers = g_strdupv((char **)layers);
    st->size = g_new0(int64_t, st->n_layers);
    st->kept = g_new0(int64_t, st->n_layers);
    for (int i = 0; i < st->n_layers; i++) {
        const PvxLayer *l = pvx_model_find_layer(model, layers[i], error);
        if (!l) {
            pvx_prune_stats_clear(st);
            return FALSE;
        }
        st->size[i] = pvx_tensor_numel(l->weight);
        st->kept[i] = kept_of(l);
        st->total += st->size[i];
        st->total_kept += st->kept[i];
    }
    st->cr = st->total_kept > 0 ? (double)st->total / (double)st->total_kept : INFINITY;
    st->model_params = pvx_model_num_params(model);
    for (int i = 0; i < nl; i++) {
        const PvxLayer *l = pvx_model_layer(model, i);
        st->flops += flops[i];
        if (l->type != PVX_LAYER_CONV2D && l->type != PVX_LAYER_LINEAR) {
            continue;
        }
        int64_t n = pvx_tensor_numel(l->weight), k = kept_of(l);
        st->model_pruned += n - k;
        st->flops_kept += flops[i] * (double)k / (double)n;
    }
    st->model_ratio = (double)st->model_params / (double)(st->model_params - st->model_pruned);
    st->flop_reduction = st->flops_kept > 0 ? st->flops / st->flops_kept : INFINITY;
    return TRUE;
}

void pvx_prune_stats_clear(PvxPruneStats *st)
{
    if (!st)
        return;
    g_strfreev(st->layers);
    g_free(st->size);
    g_free(st->kept);
    memset(st, 0, sizeof *st);
}

gboolean pvx_prune_stats_write(const PvxPruneStats *st, PvxStore *store, const char *group,
                               GError **error)
{
    int64_t n = st->n_layers;
    g_autofree double *density = g_new0(double, MAX(n, 1));
    for (int64_t i = 0; i < n; i++)
        density[i] = st->size[i] > 0 ? (double)st->kept[i] / (double)st->size[i] : 1.0;
    g_autofree char *lp = pvx_layout_layers(group);
    g_autofree char *sp = pvx_layout_layer_size(group);
    g_autofree char *kp = pvx_layout_layer_kept(group);
    g_autofree char *dp = pvx_layout_layer_density(group);
    return pvx_store_write_strings(store, lp, (const char *const *)st->layers, error) &&
           pvx_store_write_i64(store, sp, 1, &n, st->size, error) &&
           pvx_store_write_i64(store, kp, 1, &n, st->kept, error) &&
           pvx_store_write_f64(store, dp, 1, &n, density, error) &&
           pvx_store_set_attr_double(store, group, "compression_rate_achieved", st->cr, error) &&
           pvx_store_set_attr_int(store, group, "weights_total", st->total, error) &&
           pvx_store_set_attr_int(store, group, "weights_kept", st->total_kept, error) &&
           pvx_store_set_attr_int(store, group, "model_params", st->model_params, error) &&
           pvx_store_set_attr_int(store, group, "model_params_kept",
                                  st->model_params - st->model_pruned, error) &&
           pvx_store_set_attr_double(store, group, "model_ratio", st->model_ratio, error) &&
           pvx_store_set_attr_double(store, group, "flops", st->flops, error) &&
           pvx_store_set_attr_double(store, group, "flops_kept", st->flops_kept, error) &&
           pvx_store_set_attr_double(store, group, "flop_reduction", st->flop_reduction, error);
}
