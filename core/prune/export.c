/* pvx — a structurally pruned model without its dead channels (pvx_prune_export_compact). */
#include <string.h>

#include "pvx/error.h"
#include "pvx/model.h"
#include "pvx-private/prune.h"

/* The layer that consumes conv layer @idx's output channels: the next conv2d or linear. */
static const PvxLayer *consumer_of(const PvxModel *m, int idx)
{
    for (int j = idx + 1; j < pvx_model_n_layers(m); j++) {
        const PvxLayer *c = pvx_model_layer(m, j);
        if (c->type == PVX_LAYER_CONV2D || c->type == PVX_LAYER_LINEAR)
            return c;
    }
    return NULL;
}

/* Channel @ch of a layer with @cout outputs is used by @c unless @c's mask is 0 over its whole
 * input slice. */
static gboolean channel_used(const PvxLayer *c, int64_t cout, int64_t ch)
{
    if (!c || !c->mask)
        return TRUE;
    const float *m = c->mask->data;
    int64_t in = c->in_features;
    int64_t block =
        c->type == PVX_LAYER_CONV2D ? c->weight->shape[2] * c->weight->shape[3] : in / cout;
    for (int64_t o = 0; o < c->out_features; o++) {
        const float *row = m + o * (c->type == PVX_LAYER_CONV2D ? in * block : in) + ch * block;
        for (int64_t k = 0; k < block; k++)
            if (row[k] != 0.0f)
                return TRUE;
    }
    return FALSE;
}

static gboolean write_1d(PvxStore *store, const char *group, const char *name, const char *what,
                         const PvxTensor *t, const gboolean *keep, int64_t n, GError **error)
{
    if (!t)
        return TRUE;
    int64_t k = 0;
    for (int64_t i = 0; i < n; i++)
        k += keep[i];
    g_autoptr(PvxTensor) o = pvx_tensor_new(1, &k);
    const float *src = t->data;
    float *dst = o->data;
    for (int64_t i = 0, j = 0; i < n; i++)
        if (keep[i])
            dst[j++] = src[i];
    g_autofree char *path = g_strdup_printf("%s/%s.%s", group, name, what);
    return pvx_store_write_tensor(store, path, o, error);
}

int64_t *pvx_prune_export_compact(const PvxModel *model, PvxStore *store, const char *group,
                                  int *n_out, GError **error)
{
    g_return_val_if_fail(model != NULL && store != NULL && group != NULL, NULL);
    int nl = pvx_model_n_layers(model);
    GArray *channels = g_array_new(FALSE, FALSE, sizeof(int64_t));
    gboolean *in_keep = NULL; /* live channels of the current activation, NULL = all */
    int64_t in_n = 0;
    gboolean ok = TRUE;
    for (int i = 0; i < nl && ok; i++) {
        const PvxLayer *l = pvx_model_layer(model, i);
        if (l->type == PVX_LAYER_CONV2D) {
            int64_t cout = l->out_features, cin = l->in_features;
            int64_t kk = l->weight->shape[2] * l->weight->shape[3];
            gboolean *keep = g_new(gboolean, cout);
            int64_t kc = 0;
            const PvxLayer *c = consumer_of(model, i);
            for (int64_t o = 0; o < cout; o++)
                kc += keep[o] = channel_used(c, cout, o);
            int64_t ki = 0;
            for (int64_t ch = 0; ch < cin; ch++)
                ki += !in_keep || in_keep[ch];
            int64_t shape[4] = {kc, ki, l->weight->shape[2], l->weight->shape[3]};
            g_autoptr(PvxTensor) w = pvx_tensor_new(4, shape);
            const float *src = l->weight->data;
            float *dst = w->data;
            for (int64_t o = 0; o < cout; o++) {
                if (!keep[o])
                    continue;
                for (int64_t ch = 0; ch < cin; ch++)
                    if (!in_keep || in_keep[ch]) {
                        memcpy(dst, src + (o * cin + ch) * kk, sizeof(float) * kk);
                        dst += kk;
                    }
            }
            g_autofree char *wp = g_strdup_printf("%s/%s.weight", group, l->name);
            ok = pvx_store_write_tensor(store, wp, w, error) &&
                 write_1d(store, group, l->name, "bias", l->bias, keep, cout, error);
            g_array_append_val(channels, kc);
            g_free(in_keep);
            in_keep = keep;
            in_n = cout;
        } else if (l->type == PVX_LAYER_BATCHNORM2D) {
            gboolean *keep = in_keep;
            g_autofree gboolean *all = NULL;
            if (!keep) {
                all = g_new(gboolean, l->in_features);
                for (int64_t c = 0; c < l->in_features; c++)
                    all[c] = TRUE;
                keep = all;
            }
            ok =
                write_1d(store, group, l->name, "weight", l->weight, keep, l->in_features, error) &&
                write_1d(store, group, l->name, "bias", l->bias, keep, l->in_features, error) &&
                write_1d(store, group, l->name, "running_mean", l->running_mean, keep,
                         l->in_features, error) &&
                write_1d(store, group, l->name, "running_var", l->running_var, keep, l->in_features,
                         error);
        } else if (l->type == PVX_LAYER_LINEAR) {
            int64_t in = l->in_features, out = l->out_features;
            int64_t block = in_keep ? in / in_n : 1, ki = 0;
            for (int64_t f = 0; f < in; f++)
                ki += !in_keep || in_keep[f / block];
            int64_t shape[2] = {out, ki};
            g_autoptr(PvxTensor) w = pvx_tensor_new(2, shape);
            const float *src = l->weight->data;
            float *dst = w->data;
            for (int64_t o = 0; o < out; o++)
                for (int64_t f = 0; f < in; f++)
                    if (!in_keep || in_keep[f / block])
                        *dst++ = src[o * in + f];
            g_autofree char *wp = g_strdup_printf("%s/%s.weight", group, l->name);
            g_autofree char *bp = g_strdup_printf("%s/%s.bias", group, l->name);
            ok = pvx_store_write_tensor(store, wp, w, error) &&
                 (!l->bias || pvx_store_write_tensor(store, bp, l->bias, error));
            g_clear_pointer(&in_keep, g_free); /* linear outputs are never pruned here */
        }
    }
    g_free(in_keep);
    if (!ok) {
        g_array_free(channels, TRUE);
        return NULL;
    }
    *n_out = (int)channels->len;
    return (int64_t *)g_array_free(channels, FALSE);
}
