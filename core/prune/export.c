/* pvx — a structurally pruned model without its dead channels (pvx_prune_compact_model and
 * pvx_prune_export_compact; rules in pvx-private/prune.h). */
#include <string.h>

#include "arch_private.h"
#include "depgraph_private.h"
#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/model_core.h"
#include "pvx-private/prune.h"
#include "pvx-private/weights.h"

/* Whether every weight consumer @p reads of its input channel is masked away. */
static gboolean slice_masked(const PvxModel *model, const PvxDepMember *p)
{
    const PvxLayer *l = pvx_model_layer(model, p->layer);
    if (!l->mask)
        return FALSE;
    int64_t rows = l->weight->shape[0], cols = l->weight->shape[1];
    int64_t kk = l->type == PVX_LAYER_CONV2D ? l->weight->shape[2] * l->weight->shape[3] : p->block;
    const float *m = l->mask->data;
    for (int64_t o = 0; o < rows; o++) {
        const float *at = l->type == PVX_LAYER_CONV2D ? m + (o * cols + p->channel) * kk
                                                      : m + o * cols + p->channel * p->block;
        for (int64_t k = 0; k < kk; k++)
            if (at[k] != 0.0f)
                return FALSE;
    }
    return TRUE;
}

/* Coupled channels nobody reads any more: not fixed, and every consumer's slice masked. */
static gboolean *dead_channels(const PvxModel *model, const PvxDepGraph *g)
{
    gboolean *dead = g_new0(gboolean, MAX(g->n_channels, 1));
    for (int c = 0; c < g->n_channels; c++) {
        const PvxDepChannel *ch = &g->channels[c];
        gboolean d = !ch->fixed && ch->consumers->len > 0;
        for (guint k = 0; k < ch->consumers->len && d; k++)
            d = slice_masked(model, &g_array_index(ch->consumers, PvxDepMember, k));
        dead[c] = d;
    }
    return dead;
}

typedef struct {
    int64_t n;      /* channels before */
    gboolean *keep; /* [n] */
    int64_t kept;
} Keep;

static Keep keep_of(const PvxDepGraph *g, const gboolean *dead, int v)
{
    Keep k = {g->n_value_channels[v], g_new(gboolean, MAX(g->n_value_channels[v], 1)), 0};
    for (int64_t c = 0; c < k.n; c++)
        k.kept += k.keep[c] = !dead[g->value_channel[v][c]];
    return k;
}

static int value_of(const PvxModel *model, const char *name)
{
    if (strcmp(name, PVX_MODEL_INPUT) == 0)
        return 0;
    return pvx_model_layer_index(model, pvx_model_find_layer(model, name, NULL)->name) + 1;
}

static void copy_1d(PvxTensor *dst, const PvxTensor *src, const Keep *k)
{
    if (!dst || !src)
        return;
    for (int64_t i = 0, j = 0; i < k->n; i++)
        if (k->keep[i])
            dst->data[j++] = src->data[i];
}

/* The smaller layer's weights from @l's: rows of kept outputs, columns of kept inputs. */
static void copy_weights(PvxLayer *dst, const PvxLayer *l, const Keep *in, const Keep *out)
{
    if (l->type == PVX_LAYER_CONV2D) {
        int64_t cpg = l->weight->shape[1], kk = l->weight->shape[2] * l->weight->shape[3];
        gboolean per_channel = l->groups <= 1; /* else depthwise or fixed grouped: all columns */
        float *d = dst->weight->data;
        for (int64_t o = 0; o < out->n; o++) {
            if (!out->keep[o])
                continue;
            const float *row = l->weight->data + o * cpg * kk;
            for (int64_t c = 0; c < cpg; c++)
                if (!per_channel || in->keep[c]) {
                    memcpy(d, row + c * kk, sizeof(float) * kk);
                    d += kk;
                }
        }
        copy_1d(dst->bias, l->bias, out);
    } else if (l->type == PVX_LAYER_LINEAR) {
        int64_t cols = l->in_features, block = cols / MAX(in->n, 1);
        float *d = dst->weight->data;
        for (int64_t o = 0; o < l->out_features; o++)
            for (int64_t f = 0; f < cols; f++)
                if (in->keep[f / block])
                    *d++ = l->weight->data[o * cols + f];
        if (l->bias)
            memcpy(dst->bias->data, l->bias->data, sizeof(float) * l->out_features);
    } else if (l->type == PVX_LAYER_BATCHNORM2D) {
        copy_1d(dst->weight, l->weight, out);
        copy_1d(dst->bias, l->bias, out);
        copy_1d(dst->running_mean, l->running_mean, out);
        copy_1d(dst->running_var, l->running_var, out);
        dst->num_batches_tracked = l->num_batches_tracked;
    }
}

PvxModel *pvx_prune_compact_model(const PvxModel *model, GError **error)
{
    g_return_val_if_fail(model != NULL, NULL);
    g_autoptr(PvxDepGraph) g = pvx_dep_graph_new(model, error);
    if (!g)
        return NULL;
    g_autofree gboolean *dead = dead_channels(model, g);
    g_autoptr(PvxModel) small = pvx_model_new(pvx_model_arch(model));
    int nl = pvx_model_n_layers(model);
    for (int i = 0; i < nl; i++) {
        const PvxLayer *l = pvx_model_layer(model, i);
        Keep in = keep_of(g, dead, value_of(model, l->inputs[0]));
        Keep out = keep_of(g, dead, i + 1);
        PvxLayer d = *l;
        if (l->type == PVX_LAYER_CONV2D) {
            d.in_features = in.kept;
            d.out_features = out.kept;
            if (l->groups > 1 && l->groups == l->in_features) /* depthwise: one per channel */
                d.groups = (int)out.kept;
        } else if (l->type == PVX_LAYER_LINEAR) {
            d.in_features = in.kept * (l->in_features / MAX(in.n, 1));
        } else if (l->type == PVX_LAYER_BATCHNORM2D) {
            d.in_features = d.out_features = out.kept;
        }
        PvxLayer *nw = pvx_arch_add_layer(small, &d, l->bias != NULL);
        copy_weights(nw, l, &in, &out);
        g_free(in.keep);
        g_free(out.keep);
        if (!pvx_model_set_inputs(small, l->name, (const char *const *)l->inputs, error))
            return NULL;
    }
    g_auto(GStrv) aliases = pvx_model_aliases(model);
    for (char **a = aliases; a[0] && a[1]; a += 2)
        if (!pvx_model_add_alias(small, a[0], a[1], error))
            return NULL;
    const char *target = pvx_model_target_layer(model);
    if (!pvx_model_check_graph(small, error) ||
        (target && !pvx_model_set_target_layer(small, target, error)) ||
        !pvx_model_set_prunable_layers(small, pvx_model_prunable_layers(model), error))
        return NULL;
    return g_steal_pointer(&small);
}

int64_t *pvx_prune_export_compact(const PvxModel *model, PvxStore *store, const char *group,
                                  int *n_out, GError **error)
{
    g_return_val_if_fail(model != NULL && store != NULL && group != NULL, NULL);
    g_autoptr(PvxModel) small = pvx_prune_compact_model(model, error);
    if (!small || !pvx_model_save_weights(small, store, group, error))
        return NULL;
    GArray *channels = g_array_new(FALSE, FALSE, sizeof(int64_t));
    for (int i = 0; i < pvx_model_n_layers(small); i++) {
        const PvxLayer *l = pvx_model_layer(small, i);
        if (l->type == PVX_LAYER_CONV2D)
            g_array_append_val(channels, l->out_features);
    }
    *n_out = (int)channels->len;
    return (int64_t *)g_array_free(channels, FALSE);
}
